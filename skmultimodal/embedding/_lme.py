"""Large-margin label embedding (Weinberger & Chapelle 2009), trained with WARP (Weston,
Bengio & Usunier 2011)."""

from numbers import Integral, Real

import numpy as np
from scipy.special import log_softmax, softmax
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.multiclass import _check_partial_fit_first_call, check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._random import new_state
from .._training import TRAINING_CONSTRAINTS, EpochLoop, TrainingHistory, make_optimizer
from .._training import minibatch_epoch, n_minibatches, resume_state, validation_split
from .._utils import as_generator, keep_state_on_error, unscaled_hint, warn_if_unscaled
from . import _kernels

# While a batch's similarity matrix (rows x classes) has at most this many entries, the WARP
# sampler reads the similarities from one matrix product per batch: a row without violator
# costs n_classes - 1 similarities either way, and BLAS computes them far faster than
# per-draw dot products. Beyond, each drawn class's similarity is computed on demand
# (WSABIE's way), which bounds the memory.
_DENSE_WARP_ENTRIES = 2**22


class _BaseLargeMarginEmbedding(ClassNamePrefixFeaturesOutMixin, ClassifierMixin,
                                TransformerMixin, BaseEstimator):
    """Shared machinery of the label-embedding classifiers (LME and USE).

    The parameters are ``W`` (``coef_``, ``n_components x n_features``) and one embedding
    per label node ``U`` (the classes first, then any internal nodes of a hierarchy). The
    objective is a mean over samples of hinge terms (see :mod:`._kernels`) plus
    regularisers; subclasses add semantic pairs and regularisers through the hooks
    :meth:`_semantic_setup`, :meth:`_semantic_pairs`, :meth:`_semantic_penalty` and
    :meth:`_after_epoch`.
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "metric": [StrOptions({"euclidean", "cosine"})],
        "margin": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "alpha_W": [Interval(Real, 0, None, closed="left")],
        "alpha_U": [Interval(Real, 0, None, closed="left")],
        "sampling": [StrOptions({"warp", "all"})],
        "max_trials": [Interval(Integral, 1, None, closed="left"), None],
        "solver": [StrOptions({"sgd", "adam"})],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        **TRAINING_CONSTRAINTS,
    }

    # -- parameters and validation ----------------------------------------------------------

    @property
    def _n_features_out(self):
        check_is_fitted(self)  # get_feature_names_out before fit: NotFittedError
        return self.n_components

    @property
    def _margin(self):
        if self.margin == "auto":
            return 0.3 if self.metric == "cosine" else 1.0
        return float(self.margin)

    def _check_X(self, X, reset):
        dtype = [np.float64, np.float32] if reset else self.coef_.dtype
        return validate_data(self, X, reset=reset, accept_sparse="csr", dtype=dtype)

    def _check_X_y(self, X, y, reset):
        dtype = [np.float64, np.float32] if reset else self.coef_.dtype
        X, y = validate_data(self, X, y, reset=reset, accept_sparse="csr", dtype=dtype)
        check_classification_targets(y)
        return X, y

    def _encode(self, y):
        unknown = ~np.isin(y, self.classes_)
        if unknown.any():
            raise ValueError(
                f"y contains labels {np.unique(y[unknown])[:10].tolist()} that are not in "
                f"classes_ {self.classes_[:10].tolist()}; pass every label in the `classes` "
                "of the first partial_fit call, or refit."
            )
        return np.searchsorted(self.classes_, y).astype(np.intp)

    # -- hooks for semantic models (LME: none) ----------------------------------------------

    def _semantic_setup(self):
        """Number of label nodes (classes first); subclasses also build their structures."""
        return len(self.classes_)

    def _init_extra(self, params, rng):
        """Initialise parameters beyond W and U."""

    def _semantic_pairs(self, y_batch):
        """Extra ``(rows, positive, negative, weight)`` hinge pairs of a batch, or None."""

    def _semantic_penalty(self, params, grads):
        """Value of the extra regulariser; adds its gradient to ``grads``."""
        return 0.0

    def _after_epoch(self, params):
        """A step run after every epoch (USE: the sparse-coding step)."""

    def _project(self, params):
        """Project parameters onto their constraint sets after a step."""

    # -- the objective ----------------------------------------------------------------------

    def _warp_pairs(self, Z, U, znorm, unorm, y_idx, state):
        n = Z.shape[0]
        n_classes = len(self.classes_)
        negative = np.empty(n, dtype=np.intp)
        weight = np.empty(n, dtype=Z.dtype)
        trials = np.empty(n, dtype=np.intp)
        max_trials = n_classes - 1 if self.max_trials is None else self.max_trials
        margin = Z.dtype.type(self._margin)
        if n * n_classes <= _DENSE_WARP_ENTRIES:
            S = self._similarities(Z, U, znorm, unorm)
        else:
            S = np.empty((0, 0), dtype=Z.dtype)  # similarities computed per draw
        _kernels.warp_sample(S, Z, U, znorm, unorm, y_idx, n_classes, margin,
                             self.metric == "cosine", max_trials, self._rank_weight, state,
                             negative, weight, trials)
        return np.arange(n), y_idx, negative, weight

    def _similarities(self, Z, U, znorm, unorm):
        """Rows' similarities to the classes, up to a per-row constant (one matrix product)."""
        Uc = U[: len(self.classes_)]
        if self.metric == "cosine":
            return (Z / znorm[:, None]) @ (Uc / unorm[: Uc.shape[0], None]).T
        return 2 * Z @ Uc.T - np.einsum("ij,ij->i", Uc, Uc)

    def _all_pairs(self, y_idx, dtype):
        """Every (sample, true class, other class) pair with weight 1: the sum ``L_C``."""
        n, n_classes = y_idx.size, len(self.classes_)
        rows = np.repeat(np.arange(n), n_classes - 1)
        others = np.tile(np.arange(n_classes - 1), n)
        pos = y_idx[rows]
        neg = others + (others >= pos)
        return rows, pos, neg, np.ones(rows.size, dtype=dtype)

    def _pairs(self, Z, U, znorm, unorm, y_idx, state):
        if self.sampling == "warp":
            pairs = self._warp_pairs(Z, U, znorm, unorm, y_idx, state)
        else:
            pairs = self._all_pairs(y_idx, Z.dtype)
        extra = self._semantic_pairs(y_idx)
        if extra is not None:
            pairs = tuple(np.concatenate([a, b]) for a, b in zip(pairs, extra))
        return pairs

    def _all_classes_hinge(self, Z, U, znorm, unorm, y_idx, grad_Z, grad_U):
        """The hinge summed over every other class, with matrix products; adds gradients.

        With the similarities ``S`` of the rows to the classes and ``M = dL/dS`` (1 for each
        violating class, minus their number at the true class), the gradients are
        ``2 M U`` and ``2 (M^T Z - colsum(M) u)`` for the squared euclidean form (the rows
        of ``M`` sum to 0) and, for the cosine, ``M U_hat`` and ``M^T Z_hat`` taken back
        through the normalisations.
        """
        n, n_classes = Z.shape[0], len(self.classes_)
        Uc = U[:n_classes]
        rows = np.arange(n)
        S = self._similarities(Z, U, znorm, unorm)  # -D up to a per-row constant
        if self.metric == "cosine":
            Zh, Uh = Z / znorm[:, None], Uc / unorm[:n_classes, None]
        H = self._margin - S[rows, y_idx][:, None] + S
        H[rows, y_idx] = 0.0
        active = H > 0
        M = active.astype(Z.dtype)
        M[rows, y_idx] = -active.sum(axis=1)
        loss = float(H[active].sum())
        if self.metric == "cosine":
            g_zh, g_uh = M @ Uh, M.T @ Zh
            grad_Z += (g_zh - Zh * np.einsum("ij,ij->i", g_zh, Zh)[:, None]) / znorm[:, None]
            grad_U[:n_classes] += ((g_uh - Uh * np.einsum("ij,ij->i", g_uh, Uh)[:, None])
                                   / unorm[:n_classes, None])
        else:
            grad_Z += 2 * (M @ Uc)
            grad_U[:n_classes] += 2 * (M.T @ Z - M.sum(axis=0)[:, None] * Uc)
        return loss

    def _objective(self, params, X, y_idx, pairs=None, state=None):
        """Mean hinge loss over the rows of X plus the regularisers, and its gradient.

        ``pairs`` (``rows, positive, negative, weight``) fixes the hinge terms; by default
        they are drawn as in training (WARP needs ``state``) or enumerated
        (``sampling="all"``). Returns ``(value, grads)`` with ``grads`` a dict shaped like
        ``params``.
        """
        W, U = params["W"], params["U"]
        n = X.shape[0]
        Z = np.asarray(safe_sparse_dot(X, W.T, dense_output=True))
        cosine = self.metric == "cosine"
        znorm = _kernels.row_norms_safe(Z) if cosine else np.ones(n, Z.dtype)
        unorm = _kernels.row_norms_safe(U) if cosine else np.ones(U.shape[0], U.dtype)
        grad_Z, grad_U = np.zeros_like(Z), np.zeros_like(U)
        loss = 0.0
        if pairs is None and self.sampling == "all":
            loss = self._all_classes_hinge(Z, U, znorm, unorm, y_idx, grad_Z, grad_U)
            pairs = self._semantic_pairs(y_idx)
        elif pairs is None:
            pairs = self._pairs(Z, U, znorm, unorm, y_idx, state)
        if pairs is not None:
            rows, pos, neg, weight = pairs
            loss += _kernels.pair_hinge(Z, U, znorm, unorm, rows, pos, neg,
                                        weight.astype(Z.dtype), Z.dtype.type(self._margin),
                                        cosine, grad_Z, grad_U)
        grads = {
            "W": np.asarray(safe_sparse_dot(grad_Z.T, X, dense_output=True)) / n
            + 2 * self.alpha_W * W,
            "U": grad_U / n + 2 * self.alpha_U * U,
        }
        value = (loss / n + self.alpha_W * np.sum(W * W) + self.alpha_U * np.sum(U * U)
                 + self._semantic_penalty(params, grads))
        return float(value), grads

    # -- fitting ----------------------------------------------------------------------------

    @keep_state_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the embeddings by mini-batch SGD for up to ``max_iter`` epochs.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training features. Standardise them (a StandardScaler in a Pipeline): the
            defaults assume zero mean and unit variance, and a new model warns when a
            feature's root mean square is above 10 or every feature's below 0.05.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        FloatingPointError
            If training diverges: the loss grows a hundredfold over its first epoch's, the
            parameters' root mean square a hundredfold over its start (or 1), a stop comes
            with the loss ten times its best and above its first value, or values become
            NaN. The estimator is left as it was before the call.
        """
        warm = self.warm_start and hasattr(self, "coef_")
        X, y = self._check_X_y(X, y, reset=not warm)
        if warm:
            y_idx = self._encode(y)
        else:
            self.classes_ = np.unique(y)
            y_idx = self._encode(y)
            self._start(X, y_idx)
        self._train(X, y_idx, self.max_iter, check_convergence=True)
        return self

    @keep_state_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None):
        """One epoch of SGD over X, continuing the current model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,)
            Its class labels.
        classes : array-like of shape (n_classes,), default=None
            Every class label of the problem; required on the first call (as for
            :class:`~sklearn.linear_model.SGDClassifier`), ignored (if equal) after.

        Returns
        -------
        self : object
            The updated estimator.
        """
        first = not hasattr(self, "coef_")
        X, y = self._check_X_y(X, y, reset=first)
        _check_partial_fit_first_call(self, classes)
        y_idx = self._encode(y)
        if first:
            self._start(X, y_idx)
        self._train(X, y_idx, 1, check_convergence=False)
        return self

    def _start(self, X, y_idx):
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes to learn a ranking of labels; "
                f"got 1 class: {self.classes_[0]!r}."
            )
        warn_if_unscaled(self, X, "its defaults (learning_rate, margin, alpha_W)")
        n_nodes = self._semantic_setup()
        dtype = X.dtype
        self._rng = as_generator(self.random_state)
        rng = self._rng
        W = rng.standard_normal((self.n_components, X.shape[1])) / np.sqrt(X.shape[1])
        U = rng.standard_normal((n_nodes, self.n_components)) / np.sqrt(self.n_components)
        U = 0.1 * U + self._initial_node_embeddings(X, y_idx, W, n_nodes)
        params = {"W": W, "U": U}
        self._init_extra(params, rng)
        self._store({k: v.astype(dtype) for k, v in params.items()})
        self._optimizer_state = None
        self._state = new_state(rng)
        self._rank_weight = _kernels.harmonic_weights(len(self.classes_), dtype)
        self._history = TrainingHistory.start(self, validation=self.early_stopping)
        self.t_ = 0

    def _initial_node_embeddings(self, X, y_idx, W, n_nodes):
        """Each class's mean embedded sample ``W x`` (zero for a class absent from X).

        The ranking starts as a nearest-class-mean classifier in the random projection.
        Subclasses with internal nodes place them at the mean of their classes.
        """
        Z = np.asarray(safe_sparse_dot(X, W.T, dense_output=True))
        n_classes = len(self.classes_)
        counts = np.bincount(y_idx, minlength=n_classes)
        sums = np.zeros((n_classes, W.shape[0]))
        np.add.at(sums, y_idx, Z)
        means = sums / np.maximum(counts, 1)[:, None]
        return self._extend_to_nodes(means, n_nodes)

    def _extend_to_nodes(self, class_rows, n_nodes):
        return class_rows

    _trainable = ("W", "U")

    def _params(self):
        return {"W": self.coef_, "U": self.node_embeddings_}

    def _store(self, params):
        self.coef_ = params["W"]
        self.node_embeddings_ = params["U"]
        self.class_embeddings_ = params["U"][: len(self.classes_)]

    def _train(self, X, y_idx, n_epochs, check_convergence):
        """Run up to ``n_epochs`` epochs on copies of the parameters; store them at the end."""
        rng = self._rng
        params = {k: v.copy() for k, v in self._params().items()}
        optimizer = make_optimizer(self.solver, self.learning_rate, self.momentum)
        opt_state = resume_state(optimizer, self._optimizer_state,
                                 {k: params[k] for k in self._trainable})
        state = self._state.copy()
        validate = None
        if self.early_stopping and check_convergence:
            train, val = validation_split(X.shape[0], self.validation_fraction, rng,
                                          stratify=y_idx)
            X_val, y_val, X, y_idx = X[val], y_idx[val], X[train], y_idx[train]

            def validation_accuracy():
                return float(np.mean(self._predict_idx(params, X_val) == y_val))

            validate = validation_accuracy

        def objective(rows):
            return self._objective(params, X[rows], y_idx[rows], state=state)

        def after_update(rows):
            self._project(params)
            self.t_ += rows.size

        def epoch():
            return minibatch_epoch(rng.permutation(X.shape[0]), self.batch_size, objective,
                                   params, optimizer, opt_state, after_update=after_update)

        loop = EpochLoop(
            type(self).__name__, self._history, max_epochs=n_epochs,
            check_convergence=check_convergence, tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            rate=("learning_rate", self.learning_rate),
            advice=" (or the momentum)" if self.solver == "sgd" else "",
            scale_hint=lambda: unscaled_hint(X), validation="validation accuracy",
            verbose=self.verbose,
        ).run(epoch, validate=validate, params=lambda: params,
              hooks=[lambda epoch: self._after_epoch(params)],
              updates_per_epoch=n_minibatches(X.shape[0], self.batch_size))
        self._store(loop.best_params or params)
        self._optimizer_state = opt_state
        self._state = state
        self._history = loop.history
        loop.history.set_attributes(self, validation=validate is not None)

    # -- inference --------------------------------------------------------------------------

    def _scores(self, params, X):
        """Similarity of each row's embedding to each class: -D (euclidean) or the cosine."""
        Z = np.asarray(safe_sparse_dot(X, params["W"].T, dense_output=True))
        U = params["U"][: len(self.classes_)]
        if self.metric == "cosine":
            Zh = Z / _kernels.row_norms_safe(Z)[:, None]
            return Zh @ (U / _kernels.row_norms_safe(U)[:, None]).T
        sq = np.einsum("ij,ij->i", Z, Z)[:, None] - 2 * Z @ U.T + np.einsum("ij,ij->i", U, U)
        return -sq

    def _predict_idx(self, params, X):
        return np.argmax(self._scores(params, X), axis=1)

    def _fitted_scores(self, X):
        check_is_fitted(self)
        return self._scores(self._params(), self._check_X(X, reset=False))

    def decision_function(self, X):
        """Similarity of each sample to each class embedding.

        ``-||W x - u_c||^2`` for ``metric="euclidean"``, the cosine of ``W x`` and ``u_c``
        for ``metric="cosine"``. For two classes, the difference of the second class's score
        and the first's (sklearn's binary convention: positive means ``classes_[1]``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_classes) or (n_samples,)
            Higher means closer.
        """
        scores = self._fitted_scores(X)
        if scores.shape[1] == 2:
            return scores[:, 1] - scores[:, 0]
        return scores

    def predict(self, X):
        """The class whose embedding is nearest to ``W x``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted class labels.
        """
        scores = self._fitted_scores(X)
        return self.classes_[np.argmax(scores, axis=1)]

    def predict_proba(self, X):
        """Softmax of the class scores of :meth:`decision_function`.

        ``P(c | x) = exp(s_c) / sum_k exp(s_k)`` with ``s_c`` the negative squared distance
        (euclidean) or the cosine. The model is trained for ranking, not likelihood, so these
        are uncalibrated scores summing to 1 (their argmax is :meth:`predict`); wrap the
        estimator in :class:`~sklearn.calibration.CalibratedClassifierCV` for calibrated
        probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Class probabilities, columns in the order of ``classes_``.
        """
        return softmax(self._fitted_scores(X), axis=1)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log class probabilities.
        """
        return log_softmax(self._fitted_scores(X), axis=1)

    def transform(self, X):
        """Embed samples: ``W x``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            The samples in the label-embedding space.
        """
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        return np.asarray(safe_sparse_dot(X, self.coef_.T, dense_output=True))

    def fit_transform(self, X, y, **fit_params):
        """Fit to X, y and return ``W x`` (see :meth:`fit` and :meth:`transform`).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training features.
        y : array-like of shape (n_samples,)
            Class labels.
        **fit_params : dict
            Passed to :meth:`fit`.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            The training samples in the embedding space.
        """
        return self.fit(X, y, **fit_params).transform(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.target_tags.required = True
        tags.classifier_tags.multi_class = True
        return tags


class LargeMarginEmbedding(_BaseLargeMarginEmbedding):
    r"""Large-margin embedding of samples and class labels into one space (LME).

    Samples are mapped linearly, ``z = W x`` (``coef_``), and every class ``c`` gets an
    embedding ``u_c`` (``class_embeddings_``) in the same ``n_components``-dimensional
    space; a sample is classified by its nearest class embedding (Weinberger & Chapelle
    2009; Bengio, Weston & Grangier 2010), in the form of Hwang & Sigal (2014). The objective
    is

    .. math::

        \min_{W, U} \frac{1}{n} \sum_i L_C(W, U, x_i, y_i)
        + \lambda_1 \|W\|_F^2 + \lambda_2 \|U\|_F^2

    with the ranking hinge over the other classes ``c``, in one of two forms:

    - ``metric="euclidean"``: ``max(0, margin + D(W x_i, u_{y_i}) - D(W x_i, u_c))`` with
      ``D`` the squared euclidean distance;
    - ``metric="cosine"``: ``max(0, margin - s(W x_i, u_{y_i}) + s(W x_i, u_c))`` with ``s``
      the cosine similarity.

    A sample ranked correctly beyond the margin contributes neither loss nor gradient.

    ``sampling="all"`` sums the hinge over every other class (``L_C`` as written).
    ``sampling="warp"`` (default) trains with the WARP sampler of WSABIE (Weston, Bengio &
    Usunier 2011): for each sample, other classes are drawn uniformly until one violates the
    margin; if that took ``N`` draws, the number of violators is estimated as
    ``r = floor((C - 1) / N)`` and the hinge of the drawn class is weighted by
    ``L(r) = sum_{j <= r} 1/j``, which puts the weight on samples whose true class ranks
    low (precision at the top of the ranking) and costs few similarity evaluations once the
    model is good. Training is mini-batch SGD with momentum (or Adam); ``W x`` is one matrix
    product per batch and the sampler and hinge gradients are numba kernels. While a
    batch's similarities to all classes fit in 2**22 entries (``batch_size * n_classes``),
    the sampler reads them from one matrix product per batch; beyond, it computes each
    drawn class's similarity on demand. ``sampling="all"`` computes its gradient with
    matrix products. ``W`` starts as
    a random projection and each ``u_c`` at the mean projected sample of its class, so
    training starts from a nearest-class-mean classifier; with very few samples per class,
    ``max_iter`` (or ``early_stopping``) acts as a regulariser.

    Parameters
    ----------
    n_components : int, default=32
        Dimension ``d`` of the embedding space.
    metric : {"euclidean", "cosine"}, default="euclidean"
        Squared euclidean distance or cosine similarity (see above).
    margin : float or "auto", default="auto"
        The hinge margin; "auto" is 1 for the euclidean form (``1 + D - D``) and
        0.3 for the cosine, whose similarities lie in [-1, 1].
    alpha_W : float, default=0.01
        ``lambda_1``, the weight of ``||W||_F^2``.
    alpha_U : float, default=0.01
        ``lambda_2``, the weight of ``||U||_F^2``.
    sampling : {"warp", "all"}, default="warp"
        WARP-sampled violators, or the sum over all classes. The sum's gradient grows with
        the number of violating classes (WARP's weight only with its logarithm), so with
        many classes it needs a smaller ``learning_rate``.
    max_trials : int, default=None
        Cap on WARP draws per sample; ``n_classes - 1`` by default (WSABIE). A sample with
        no violator costs ``max_trials`` draws; a smaller cap (LightFM uses 10) makes epochs
        with many classes cheaper but skips samples whose violators are rare.
    learning_rate : float, default=0.01
        Step size.
    solver : {"sgd", "adam"}, default="sgd"
        Mini-batch SGD with momentum (the WSABIE training), or Adam.
    momentum : float, default=0.9
        SGD momentum (unused by Adam).
    batch_size : int, default=64
        Mini-batch size.
    max_iter : int, default=100
        Maximum number of epochs of :meth:`fit`.
    tol : float, default=1e-4
        Improvement below which an epoch counts as no improvement (of the training loss, or
        of the validation accuracy with ``early_stopping``).
    n_iter_no_change : int, default=5
        Stop after this many epochs without improvement.
    early_stopping : bool, default=False
        In :meth:`fit`, hold out ``validation_fraction`` of the training data (stratified),
        stop when its accuracy stops improving and keep the parameters of the best epoch.
        :meth:`partial_fit` always runs its one epoch.
    validation_fraction : float, default=0.1
        Fraction of the training data held out for early stopping.
    warm_start : bool, default=False
        Make :meth:`fit` continue from the current parameters (same classes).
    random_state : int, RandomState instance or None, default=None
        Seed of the initialisation, the shuffling, the validation split and the WARP draws.
    verbose : int, default=0
        Print one line per epoch.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coef_ : ndarray of shape (n_components, n_features)
        The sample embedding ``W``.
    class_embeddings_ : ndarray of shape (n_classes, n_components)
        The label embeddings ``u_c``, rows in the order of ``classes_``.
    node_embeddings_ : ndarray of shape (n_classes, n_components)
        The same array (models with a class hierarchy also embed internal nodes).
    loss_curve_ : list of float
        Mean training objective per epoch (the sampled WARP loss for ``sampling="warp"``).
    best_loss_ : float
        The lowest value of ``loss_curve_``.
    validation_scores_ : list of float or None
        Validation accuracy per epoch with ``early_stopping``, else None.
    best_validation_score_ : float or None
        Best validation accuracy with ``early_stopping``.
    n_iter_ : int
        Number of epochs run.
    t_ : int
        Number of training samples seen.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    UnifiedSemanticEmbedding : LME plus a class hierarchy and attributes.

    References
    ----------
    Weston, J., Bengio, S. and Usunier, N. WSABIE: Scaling up to large vocabulary image
    annotation. IJCAI 2011.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skmultimodal.embedding import LargeMarginEmbedding
    >>> X, y = load_iris(return_X_y=True)
    >>> lme = make_pipeline(StandardScaler(),
    ...                     LargeMarginEmbedding(n_components=2, random_state=0))
    >>> bool(lme.fit(X, y).score(X, y) > 0.9)
    True
    """

    _parameter_constraints = {**_BaseLargeMarginEmbedding._parameter_constraints}

    def __init__(self, n_components=32, *, metric="euclidean", margin="auto", alpha_W=0.01,
                 alpha_U=0.01, sampling="warp", max_trials=None, learning_rate=0.01,
                 solver="sgd", momentum=0.9, batch_size=64, max_iter=100, tol=1e-4,
                 n_iter_no_change=5,
                 early_stopping=False, validation_fraction=0.1, warm_start=False,
                 random_state=None, verbose=0):
        self.n_components = n_components
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
