"""Unified Semantic Embedding (Hwang & Sigal 2014)."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval

from .._hierarchy import hierarchy_nodes, sibling_pairs
from . import _kernels
from ._lme import _BaseLargeMarginEmbedding


class UnifiedSemanticEmbedding(_BaseLargeMarginEmbedding):
    r"""Large-margin label embedding regularised by a class ontology and attributes (USE).

    :class:`LargeMarginEmbedding` plus semantics (Hwang & Sigal 2014). Every node
    of the class hierarchy, internal ones included, has an embedding ``u``; the objective is

    .. math::

        \min_{W, U, U^A, B} \frac{1}{n} \sum_i \big[L_C(W, U, x_i, y_i)
        + \mu_1 L_S(W, U, x_i, y_i)\big] + \lambda_1 \|W\|_F^2 + \lambda_2 \|U\|_F^2
        + \mu_2 \sum_c \big(\|u_c - u_{p(c)} - U^{A\top} \beta_c\|_2^2
        + \gamma \|\beta_c\|_1\big)

    subject to ``||a_j|| <= 1`` for the attribute embeddings ``a_j`` (rows of ``U^A``):

    - ``L_C`` is the hinge of :class:`LargeMarginEmbedding` (WARP-sampled or summed);
    - ``L_S`` (``class_hierarchy``, weight ``hierarchy_weight``) makes each sample closer to
      each of its ancestors ``s`` than to the siblings ``o`` of ``s``:
      ``sum_s sum_o max(0, margin + D(W x_i, u_s) - D(W x_i, u_o))`` (the cosine form for
      ``metric="cosine"``);
    - the regulariser (weight ``semantic_reg``) writes each category as its parent plus a
      sparse combination of attribute embeddings, ``u_c ~ u_p + sum_j beta_cj a_j``. With
      ``class_attributes``, ``beta_c`` may use only the attributes class ``c`` has (its
      non-zero entries) and is initialised from them; without, the term pulls each node
      towards its parent. Nodes at the top of the hierarchy have the origin as parent, and
      internal nodes have no attributes.

    Training alternates, as in the paper: an epoch of mini-batch SGD on ``W``, ``U`` and
    ``U^A`` (with ``U^A``'s rows projected back onto the unit ball after every step) at fixed
    ``B``, then a sparse-coding step solving for every class the lasso
    ``min_b ||u_c - u_p - U^{A T} b||^2 + gamma ||b||_1`` exactly by coordinate descent. A
    separate attribute loss ``L_A`` is covered by this term: the attribute composition is
    tied to the class embedding that ``L_C`` ranks.

    Without ``class_hierarchy`` and ``class_attributes`` the model is exactly
    :class:`LargeMarginEmbedding` (same ``random_state``, same parameters).

    Parameters
    ----------
    n_components : int, default=32
        Dimension of the embedding space.
    class_hierarchy : dict or array-like of int, default=None
        ``{node: parent}`` for the classes and any internal nodes (which need not be labels
        of ``y``); ``None`` as parent, or a class left out, means a top-level node. Or, as
        for :func:`skmultimodal.metrics.hierarchical_precision_at_k`, an int array whose
        entry ``j`` is the index of node ``j``'s parent (-1 at the top), nodes
        ``0 .. n_classes - 1`` being the classes in the order of ``classes_`` and later
        nodes internal ones.
    class_attributes : array-like of shape (n_classes, n_attributes), default=None
        Attributes of each class, rows in the order of ``classes_`` (sorted labels); non-zero
        entries are the attributes a class may use.
    hierarchy_weight : float, default=0.1
        ``mu_1``, the weight of the ontology loss ``L_S``.
    semantic_reg : float, default=0.1
        ``mu_2``, the weight of the parent-plus-attributes regulariser (0 is the paper's
        "USE-No Reg." variant).
    attribute_sparsity : float, default=0.1
        ``gamma``, the l1 penalty on the attribute weights ``beta_c``.
    sparse_coding_iter : int, default=200
        Maximum coordinate-descent sweeps per sparse-coding step.
    metric, margin, alpha_W, alpha_U, sampling, max_trials
        As for :class:`LargeMarginEmbedding` (the hinge, its regularisers, WARP).
    learning_rate, solver, momentum, batch_size, max_iter, tol, n_iter_no_change
        As for :class:`LargeMarginEmbedding` (the optimiser and its stopping rule).
    early_stopping, validation_fraction, warm_start, random_state, verbose
        As for :class:`LargeMarginEmbedding`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    nodes_ : list
        Labels of every embedded node: the classes, then the internal nodes.
    node_parents_ : ndarray of shape (n_nodes,)
        Index into ``nodes_`` of each node's parent, -1 at the top.
    coef_ : ndarray of shape (n_components, n_features)
        The sample embedding ``W``.
    node_embeddings_ : ndarray of shape (n_nodes, n_components)
        Embeddings of all nodes, rows in the order of ``nodes_``.
    class_embeddings_ : ndarray of shape (n_classes, n_components)
        The first ``n_classes`` rows of ``node_embeddings_``.
    attribute_embeddings_ : ndarray of shape (n_attributes, n_components)
        The attribute embeddings ``a_j`` (norm at most 1); only with ``class_attributes``.
    attribute_weights_ : ndarray of shape (n_classes, n_attributes)
        The sparse attribute combination ``beta_c`` of each class: which attributes make a
        class different from its parent; only with ``class_attributes``.
    loss_curve_, validation_scores_, best_validation_score_, n_iter_, t_
        As for :class:`LargeMarginEmbedding`.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    LargeMarginEmbedding : The model without semantics.

    References
    ----------
    Hwang, S. J. and Sigal, L. A unified semantic embedding: relating taxonomies and
    attributes. NIPS 2014.

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal.datasets import make_hierarchical_classification
    >>> from skmultimodal.embedding import UnifiedSemanticEmbedding
    >>> X, y, hierarchy, attributes = make_hierarchical_classification(
    ...     n_samples=400, random_state=0)
    >>> use = UnifiedSemanticEmbedding(n_components=8, class_hierarchy=hierarchy,
    ...                                class_attributes=attributes, max_iter=300,
    ...                                random_state=0)
    >>> use = use.fit(X, y)
    >>> use.attribute_weights_.shape
    (12, 12)
    >>> bool(use.score(X, y) > 0.8)
    True
    """

    _parameter_constraints = {
        **_BaseLargeMarginEmbedding._parameter_constraints,
        "class_hierarchy": [dict, "array-like", None],
        "class_attributes": ["array-like", None],
        "hierarchy_weight": [Interval(Real, 0, None, closed="left")],
        "semantic_reg": [Interval(Real, 0, None, closed="left")],
        "attribute_sparsity": [Interval(Real, 0, None, closed="left")],
        "sparse_coding_iter": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, n_components=32, *, class_hierarchy=None, class_attributes=None,
                 hierarchy_weight=0.1, semantic_reg=0.1, attribute_sparsity=0.1,
                 sparse_coding_iter=200, metric="euclidean", margin="auto", alpha_W=0.01,
                 alpha_U=0.01, sampling="warp", max_trials=None, learning_rate=0.01,
                 solver="sgd", momentum=0.9, batch_size=64, max_iter=100, tol=1e-4,
                 n_iter_no_change=5, early_stopping=False, validation_fraction=0.1,
                 warm_start=False, random_state=None, verbose=0):
        self.n_components = n_components
        self.class_hierarchy = class_hierarchy
        self.class_attributes = class_attributes
        self.hierarchy_weight = hierarchy_weight
        self.semantic_reg = semantic_reg
        self.attribute_sparsity = attribute_sparsity
        self.sparse_coding_iter = sparse_coding_iter
        self.metric = metric
        self.margin = margin
        self.alpha_W = alpha_W
        self.alpha_U = alpha_U
        self.sampling = sampling
        self.max_trials = max_trials
        self.learning_rate = learning_rate
        self.solver = solver
        self.momentum = momentum
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    # -- semantics --------------------------------------------------------------------------

    @property
    def _has_attributes(self):
        return self.class_attributes is not None

    @property
    def _has_hierarchy(self):
        if self.class_hierarchy is None:
            return False
        if isinstance(self.class_hierarchy, dict):
            return bool(self.class_hierarchy)
        return True

    @property
    def _has_semantics(self):
        return self._has_hierarchy or self._has_attributes

    @property
    def _trainable(self):
        return ("W", "U", "UA") if self._has_attributes else ("W", "U")

    def _semantic_setup(self):
        n_classes = len(self.classes_)
        self.nodes_, self.node_parents_ = hierarchy_nodes(self.classes_, self.class_hierarchy)
        if (isinstance(self.class_hierarchy, dict) and self.class_hierarchy
                and not (self.node_parents_[:n_classes] >= 0).any()):
            warnings.warn(
                "No class of y has a parent in class_hierarchy: its keys "
                f"{list(self.class_hierarchy)[:5]} do not match the labels "
                f"{self.classes_[:5].tolist()} (check their types), so every class is at the "
                "top of the hierarchy.", UserWarning, stacklevel=3)
        self._pair_ptr, self._pair_pos, self._pair_neg = sibling_pairs(self.node_parents_,
                                                                        n_classes)
        if self._has_attributes:
            A = np.asarray(self.class_attributes, dtype=np.float64)
            if A.ndim != 2 or A.shape[0] != n_classes or A.shape[1] < 1:
                raise ValueError(
                    "class_attributes must have shape (n_classes, n_attributes) with one row "
                    f"per class of y in the order of classes_ ({n_classes} classes); got shape "
                    f"{A.shape}."
                )
            if not np.all(np.isfinite(A)):
                raise ValueError("class_attributes contains NaN or infinity.")
            self._support = A != 0
        return len(self.nodes_)

    def _extend_to_nodes(self, class_rows, n_nodes):
        """Internal nodes start at the mean of the classes below them."""
        n_classes = class_rows.shape[0]
        rows = np.zeros((n_nodes, class_rows.shape[1]))
        rows[:n_classes] = class_rows
        counts = np.zeros(n_nodes)
        for c in range(n_classes):
            s = self.node_parents_[c]
            while s >= 0:
                if s >= n_classes:
                    rows[s] += class_rows[c]
                    counts[s] += 1
                s = self.node_parents_[s]
        rows[n_classes:] /= np.maximum(counts[n_classes:], 1)[:, None]
        return rows

    def _init_extra(self, params, rng):
        if not self._has_attributes:
            return
        A = np.asarray(self.class_attributes, dtype=np.float64)
        norms = np.linalg.norm(A, axis=1, keepdims=True)
        beta = A / np.where(norms > 0, norms, 1.0)
        # Attribute embeddings that best explain the initial class offsets from their parents
        # (least squares, a little random jitter for attributes no class uses), rescaled into
        # the unit ball with beta scaled up to keep the composition unchanged.
        offsets = self._residual({"U": params["U"], "UA": None, "beta": None},
                                 attributes=False)[: len(self.classes_)]
        UA = np.linalg.lstsq(beta, offsets, rcond=None)[0]
        UA += 0.01 * rng.standard_normal(UA.shape)
        scale = np.maximum(np.linalg.norm(UA, axis=1), 1.0)
        params["UA"] = UA / scale[:, None]
        params["beta"] = beta * scale

    def _params(self):
        params = super()._params()
        if self._has_attributes:
            params["UA"] = self.attribute_embeddings_
            params["beta"] = self.attribute_weights_
        return params

    def _store(self, params):
        super()._store(params)
        if self._has_attributes:
            self.attribute_embeddings_ = params["UA"]
            self.attribute_weights_ = params["beta"]

    def _semantic_pairs(self, y_idx):
        if not self._has_hierarchy or self.hierarchy_weight == 0 or not self._pair_pos.size:
            return None
        ptr = self._pair_ptr
        counts = ptr[y_idx + 1] - ptr[y_idx]
        total = int(counts.sum())
        rows = np.repeat(np.arange(y_idx.size), counts)
        first = np.repeat(ptr[y_idx] - (np.cumsum(counts) - counts), counts)
        index = first + np.arange(total)
        weight = np.full(total, self.hierarchy_weight)
        return rows, self._pair_pos[index], self._pair_neg[index], weight

    def _residual(self, params, attributes=True):
        """``u_c - u_p(c) - U^{A T} beta_c`` per node; zero rows for unregularised nodes.

        A node is regularised when it has a parent or attributes; a top-level node with
        attributes is the origin plus its attributes, and a top-level node without is free
        (pulling it to the origin would only shrink the whole embedding).
        """
        U, parent = params["U"], self.node_parents_
        R = U.copy()
        has_parent = parent >= 0
        R[has_parent] -= U[parent[has_parent]]
        n_classes = len(self.classes_)
        active = has_parent.copy()
        if self._has_attributes:
            active[:n_classes] |= self._support.any(axis=1)
            if attributes:
                R[:n_classes] -= params["beta"] @ params["UA"]
        R[~active] = 0.0
        return R

    def _semantic_penalty(self, params, grads):
        if not self._has_semantics or self.semantic_reg == 0:
            return 0.0
        mu = self.semantic_reg
        R = self._residual(params)
        parent = self.node_parents_
        has_parent = parent >= 0
        grad_U = 2 * mu * R
        np.add.at(grad_U, parent[has_parent], -2 * mu * R[has_parent])
        grads["U"] = grads["U"] + grad_U
        value = mu * np.sum(R * R)
        if self._has_attributes:
            beta = params["beta"]
            grads["UA"] = -2 * mu * beta.T @ R[: len(self.classes_)]
            value += mu * self.attribute_sparsity * np.abs(beta).sum()
        return value

    def _project(self, params):
        if self._has_attributes:
            UA = params["UA"]
            norms = np.linalg.norm(UA, axis=1)
            big = norms > 1
            UA[big] /= norms[big, None]

    def _after_epoch(self, params):
        """The sparse-coding step: every class's ``beta_c`` by an exact lasso solve."""
        if not self._has_attributes:
            return
        U, UA, parent = params["U"], params["UA"], self.node_parents_
        n_classes = len(self.classes_)
        target = U[:n_classes].astype(np.float64)
        has_parent = parent[:n_classes] >= 0
        target[has_parent] -= U[parent[:n_classes][has_parent]]
        UA64 = UA.astype(np.float64)
        beta = params["beta"].astype(np.float64)
        _kernels.lasso_cd(UA64 @ UA64.T, target @ UA64.T, self._support,
                          float(self.attribute_sparsity), beta, self.sparse_coding_iter, 1e-6)
        params["beta"] = beta.astype(params["beta"].dtype)

