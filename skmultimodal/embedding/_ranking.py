"""Visual-semantic ranking embedding (Kiros, Salakhutdinov & Zemel 2014): two or more
modalities, one cosine space, trained with the bidirectional hinge over every pair of
modalities or with CLIP's symmetric InfoNCE (Radford et al. 2021)."""

from itertools import combinations
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._modalities import modality_widths, reject_second_view, validate_modal_data
from .._nn import HIDDEN_ACTIVATIONS, MLP, layer_sizes
from .._training import TRAINING_CONSTRAINTS, Adam, EpochLoop, TrainingHistory
from .._training import minibatch_epoch, n_minibatches, resume_state, validation_split
from .._utils import as_generator, keep_state_on_error, unscaled_hint, warn_if_unscaled
from ..metrics import recall_at_k
from ..retrieval import nearest_neighbors
from ._kernels import row_norms_safe

_SCORE_KS = (1, 5, 10)


def ranking_loss(A, B, margin, max_violation):
    """Bidirectional hinge ranking loss of paired unit rows, and its gradient.

    With ``S = A B^T`` (cosines of unit rows) and the pairs on the diagonal,

    ``L = sum_i sum_{k != i} [margin - S_ii + S_ik]_+ + [margin - S_ii + S_ki]_+``

    (the pairwise ranking cost of Kiros, Salakhutdinov & Zemel 2014: the image ``a_i``
    against the contrastive captions ``b_k`` and the
    caption ``b_i`` against the contrastive images ``a_k``); with ``max_violation`` each sum
    over ``k`` is replaced by its largest term, the hardest negative of VSE++ (Faghri et al.
    2018).

    Returns
    -------
    loss : float
        ``L`` divided by the number of pairs.
    grad_A, grad_B : ndarray
        Gradients of that mean with respect to ``A`` and ``B``.
    """
    n = A.shape[0]
    S = A @ B.T
    diag = np.diag(S).copy()
    off = ~np.eye(n, dtype=bool)
    cost_b = np.where(off, margin - diag[:, None] + S, 0.0)  # image i vs captions k
    cost_a = np.where(off, margin - diag[None, :] + S, 0.0)  # caption k vs images i (col k)
    np.maximum(cost_b, 0.0, out=cost_b)
    np.maximum(cost_a, 0.0, out=cost_a)
    if max_violation:
        rows = np.arange(n)
        hard_b = cost_b.argmax(axis=1)
        hard_a = cost_a.argmax(axis=0)
        loss = cost_b[rows, hard_b].sum() + cost_a[hard_a, rows].sum()
        active_b = np.zeros_like(S)
        active_b[rows, hard_b] = cost_b[rows, hard_b] > 0
        active_a = np.zeros_like(S)
        active_a[hard_a, rows] = cost_a[hard_a, rows] > 0
    else:
        loss = cost_b.sum() + cost_a.sum()
        active_b = (cost_b > 0).astype(S.dtype)
        active_a = (cost_a > 0).astype(S.dtype)
    G = active_b + active_a
    G[np.diag_indices(n)] -= active_b.sum(axis=1) + active_a.sum(axis=0)
    G /= n
    return float(loss / n), G @ B, G.T @ A


INITIAL_LOGIT_SCALE = np.log(1 / 0.07)
"""CLIP's initial ``log(1 / temperature)``: temperature 0.07 (Radford et al. 2021, after Wu
et al. 2018)."""

LOGIT_SCALE_RANGE = (0.0, np.log(100.0))
"""The interval ``log(1 / temperature)`` is clipped to after every update: logits scaled by
at most 100 (Radford et al. 2021, Section 2.5) and a temperature of at most 1 (the lower
clip of CLIP's reference code and of OpenCLIP)."""


def infonce_loss(A, B, logit_scale):
    """Symmetric InfoNCE loss of paired unit rows (CLIP), and its gradient.

    With logits ``Y = exp(t) A B^T`` (``t = logit_scale = log(1 / temperature)``; cosines
    of unit rows) and the pairs on the diagonal, the loss is the mean of the softmax
    cross-entropies that pick the partner among the batch, in both directions (Radford et
    al. 2021, Fig. 3; the InfoNCE of van den Oord, Li & Vinyals 2018, Eq. 4, with the other
    pairs of the batch as the negatives)::

        L = -(1 / 2n) sum_i [log softmax_k(Y_ik)_i + log softmax_k(Y_ki)_i]

    Its gradient with respect to the logits is ``D = (P_r + P_c - 2 I) / (2n)``, with
    ``P_r`` the row-wise and ``P_c`` the column-wise softmax of ``Y``; hence ``dL/dA =
    exp(t) D B``, ``dL/dB = exp(t) D^T A`` and ``dL/dt = <D, Y>``.

    Returns
    -------
    loss : float
    grad_A, grad_B : ndarray
        Gradients with respect to ``A`` and ``B``.
    grad_logit_scale : float
        Gradient with respect to ``t``.
    """
    n = A.shape[0]
    scale = np.exp(A.dtype.type(logit_scale))
    Y = scale * (A @ B.T)
    log_rows = Y - Y.max(axis=1, keepdims=True)
    log_rows -= np.log(np.exp(log_rows).sum(axis=1, keepdims=True))
    log_cols = Y - Y.max(axis=0, keepdims=True)
    log_cols -= np.log(np.exp(log_cols).sum(axis=0, keepdims=True))
    loss = -(np.trace(log_rows) + np.trace(log_cols)) / (2 * n)
    D = np.exp(log_rows) + np.exp(log_cols)
    D[np.diag_indices(n)] -= 2
    D /= 2 * n
    G = scale * D
    return float(loss), G @ B, G.T @ A, float(np.sum(D * Y))


def _normalize_backward(Z, norms, grad_unit):
    """Gradient with respect to ``Z`` of a function of ``Z / |Z|`` (row-wise)."""
    unit = Z / norms[:, None]
    return (grad_unit - unit * np.einsum("ij,ij->i", grad_unit, unit)[:, None]) / norms[:, None]


class RankingEmbedding(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Joint embedding of two or more modalities trained with a bidirectional ranking loss.

    Each modality (say image features and sentence or tag features, column blocks of X;
    see ``modalities``) has its own map into a shared ``n_components``-dimensional space, a
    linear map or a small multi-layer perceptron (``hidden_layer_sizes``). Embeddings are
    compared by cosine similarity, and training pulls the modalities of a row together
    while pushing the other rows of the mini-batch away, with the bidirectional hinge of
    Kiros, Salakhutdinov & Zemel (2014; see :func:`ranking_loss`): summed over the
    contrastive rows, or, with ``max_violation=True``, only the hardest one of each
    direction (VSE++, Faghri et al. 2018). ``loss="infonce"`` replaces the hinge by the
    symmetric softmax cross-entropy over the batch's rows with a learned temperature, the
    loss of CLIP (Radford et al. 2021; InfoNCE, van den Oord, Li & Vinyals 2018; see
    :func:`infonce_loss`). With more than two modalities the loss is summed over every pair
    of modalities, each pair on the batch's rows that have both. Rows with at most one
    modality (the others' blocks all NaN) hold no pair and are left out of training.
    Training is mini-batch Adam with an L2 penalty ``alpha`` on the weights. The networks'
    initialisation and the learning rate assume standardised features: a new model warns
    when a feature's root mean square is above 10 or every feature's below 0.05 (put a
    StandardScaler in the Pipeline).

    :meth:`transform` embeds whichever modalities a row has, unit-normalised: the
    normalised mean of the unit embeddings of its modalities. So image-to-text retrieval
    is: transform the text queries (image block NaN), transform the images (text block
    NaN), and rank by cosine (:func:`skmultimodal.retrieval.nearest_neighbors`).

    Parameters
    ----------
    n_components : int, default=32
        Dimension of the shared space.
    modalities : None, list of int or list of (str, columns) tuples, default=None
        The modalities' columns (see :ref:`data_model`), two or more; by default the two
        halves.
    hidden_layer_sizes : tuple of int or list of tuples, default=()
        Hidden layer widths (positive ints) of each modality's network: ``()`` is a linear
        map; one tuple for every modality or a list with one tuple per modality.
    activation : {"relu", "tanh", "logistic"}, default="relu"
        Hidden-layer non-linearity.
    loss : {"hinge", "infonce"}, default="hinge"
        The bidirectional hinge ranking loss (Kiros, Salakhutdinov & Zemel 2014), or the
        symmetric InfoNCE of CLIP, whose temperature is learned: ``log(1 / temperature)``
        starts at ``log(1 / 0.07)`` and is clipped to ``[0, log 100]`` after every update
        (Radford et al. 2021).
    margin : float, default=0.2
        The hinge margin ``alpha`` on cosine similarities (hinge loss only).
    max_violation : bool, default=False
        Use only the hardest negative of each direction (VSE++) instead of the sum (hinge
        loss only).
    alpha : float, default=1e-4
        L2 penalty on the weights (``alpha / 2 * ||W||^2`` per weight matrix).
    learning_rate : float, default=0.01
        Adam step size. Training that diverges (the loss a hundredfold its first epoch's,
        the weights' root mean square a hundredfold its start, or NaN) raises
        FloatingPointError naming it and leaves the estimator as it was. InfoNCE is the
        more sensitive to a large rate: Adam's first steps move ``log(1 / temperature)`` by
        about the rate, so from about 2 (the hinge: 10; measured on synthetic pairs and
        triples) the softmax flattens and training can end near chance level before the
        weights run away far enough to be flagged.
    batch_size : int, default=128
        Number of rows per mini-batch; the other rows of the batch are the negatives.
    max_iter : int, default=100
        Maximum number of epochs of :meth:`fit`.
    tol : float, default=1e-4
        Improvement below which an epoch counts as no improvement.
    n_iter_no_change : int, default=5
        Stop after this many epochs without improvement of the training loss (or of the
        validation score with ``early_stopping``).
    early_stopping : bool, default=False
        In :meth:`fit`, hold out ``validation_fraction`` of the training rows, stop when
        their :meth:`score` stops improving and keep the best epoch's weights.
    validation_fraction : float, default=0.1
        Fraction of the training rows held out for early stopping.
    warm_start : bool, default=False
        Make :meth:`fit` continue from the current weights.
    random_state : int, RandomState instance or None, default=None
        Seed of the initialisation, the shuffling and the validation split.
    verbose : int, default=0
        Print one line per epoch.

    Attributes
    ----------
    networks_ : list of ndarray
        The flat parameter vector of each modality's network.
    logit_scale_ : float or None
        With ``loss="infonce"``, the learned ``log(1 / temperature)``; None with the hinge.
    loss_curve_ : list of float
        Mean training objective (loss plus penalty) per epoch.
    best_loss_ : float
        The lowest value of ``loss_curve_``.
    validation_scores_ : list of float or None
        Validation :meth:`score` per epoch with ``early_stopping``.
    best_validation_score_ : float or None
        Best validation score with ``early_stopping``.
    n_iter_ : int
        Number of epochs run.
    modalities_ : list of (str, slice or ndarray)
        The resolved modality specification.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    skmultimodal.CCA : The unsupervised linear coordinated representation.

    References
    ----------
    Kiros, R., Salakhutdinov, R. and Zemel, R. Unifying visual-semantic embeddings with
    multimodal neural language models. 2014.

    Faghri, F., Fleet, D., Kiros, J. and Fidler, S. VSE++: improving visual-semantic
    embeddings with hard negatives. BMVC 2018.

    van den Oord, A., Li, Y. and Vinyals, O. Representation learning with contrastive
    predictive coding. arXiv:1807.03748, 2018.

    Radford, A., Kim, J. W., Hallacy, C. et al. Learning transferable visual models from
    natural language supervision. ICML 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal.embedding import RankingEmbedding
    >>> rng = np.random.default_rng(0)
    >>> latent = rng.standard_normal((300, 4))
    >>> X = np.hstack([latent @ rng.standard_normal((4, 10)),
    ...                latent @ rng.standard_normal((4, 6))])
    >>> model = RankingEmbedding(n_components=4, modalities=[10, 6], random_state=0).fit(X)
    >>> bool(model.score(X) > 0.8)
    True

    Three modalities, with CLIP's loss:

    >>> X3 = np.hstack([X, latent @ rng.standard_normal((4, 5))])
    >>> clip = RankingEmbedding(n_components=4, modalities=[10, 6, 5], loss="infonce",
    ...                         max_iter=200, random_state=0).fit(X3)
    >>> bool(clip.score(X3) > 0.8)
    True
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "modalities": [None, list, tuple],
        "hidden_layer_sizes": [tuple, list],
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS))],
        "loss": [StrOptions({"hinge", "infonce"})],
        "margin": [Interval(Real, 0, None, closed="neither")],
        "max_violation": ["boolean"],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        **TRAINING_CONSTRAINTS,
    }

    def __init__(self, n_components=32, *, modalities=None, hidden_layer_sizes=(),
                 activation="relu", loss="hinge", margin=0.2, max_violation=False,
                 alpha=1e-4, learning_rate=0.01, batch_size=128, max_iter=100, tol=1e-4,
                 n_iter_no_change=5, early_stopping=False, validation_fraction=0.1,
                 warm_start=False, random_state=None, verbose=0):
        self.n_components = n_components
        self.modalities = modalities
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.loss = loss
        self.margin = margin
        self.max_violation = max_violation
        self.alpha = alpha
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    @property
    def _n_features_out(self):
        check_is_fitted(self)  # get_feature_names_out before fit: NotFittedError
        return self.n_components

    # -- data -------------------------------------------------------------------------------

    def _validate(self, X, reset):
        dtype = [np.float64, np.float32] if reset else self._dtype
        X, missing, _ = validate_modal_data(self, X, reset=reset, dtype=dtype)
        if reset and len(self.modalities_) < 2:
            raise ValueError(
                f"RankingEmbedding embeds two or more modalities; `modalities` gives "
                f"{len(self.modalities_)}: {[name for name, _ in self.modalities_]}."
            )
        return X, missing

    def _views(self, X, rows=None):
        """Dense blocks of the modalities for the given rows (NaN where one is missing)."""
        block = X if rows is None else X[rows]
        if sp.issparse(block):
            block = block.toarray()
        return [np.ascontiguousarray(block[:, cols], dtype=self._dtype)
                for _, cols in self.modalities_]

    def _pairs(self, missing, what):
        """The rows that hold pairs (two or more modalities present); every modality needs
        at least 2 of them."""
        present = ~missing
        rows = np.flatnonzero(present.sum(axis=1) >= 2)
        for m, (name, _) in enumerate(self.modalities_):
            count = int(present[rows, m].sum())
            if count < 2:
                which = ("both modalities" if len(self.modalities_) == 2 else
                         f"modality {name!r} and another one")
                raise ValueError(
                    f"{what} needs at least 2 rows with {which} present (pairs); got "
                    f"{count}. Rows with a single modality cannot be used as pairs."
                )
        return rows

    def _build(self):
        return [MLP([w, *h, self.n_components], self.activation) for w, h in
                zip(modality_widths(self.modalities_),
                    layer_sizes(self.hidden_layer_sizes, len(self.modalities_)))]

    # -- objective --------------------------------------------------------------------------

    def _embed(self, net, theta, V):
        outputs = net.forward(theta, V)
        Z = outputs[-1]
        norms = row_norms_safe(Z)
        return outputs, Z / norms[:, None], norms

    def _pair_loss(self, A, B, logit_scale):
        """The loss of one pair of modalities' unit embeddings, their gradients and that of
        the logit scale (0 for the hinge)."""
        if self.loss == "infonce":
            return infonce_loss(A, B, logit_scale)
        return *ranking_loss(A, B, self.margin, self.max_violation), 0.0

    def _chance_loss(self, batch):
        """The loss of a batch whose similarities are all equal (a model that learned
        nothing), summed over the pairs of modalities."""
        n_pairs = len(self._nets) * (len(self._nets) - 1) // 2
        if self.loss == "infonce":
            per_pair = np.log(batch)
        else:
            per_pair = 2 * self.margin * (1 if self.max_violation else batch - 1)
        return n_pairs * per_pair

    def _objective(self, params, views, present):
        """The loss summed over the pairs of modalities plus the L2 penalty, and gradients.

        ``params`` holds each modality's network under its index and, with the InfoNCE
        loss, ``"logit_scale"``; ``present`` is the batch's (rows x modalities) mask. Each
        network embeds the rows that have its modality; each pair of modalities is scored
        on the rows that have both (none with fewer than 2).
        """
        embedded, grad_units = [], []
        for m, (net, V) in enumerate(zip(self._nets, views)):
            rows = None if present[:, m].all() else present[:, m]
            embedded.append((rows, self._embed(net, params[m], V if rows is None
                                               else V[rows])))
            grad_units.append(None)
        logit_scale = params.get("logit_scale", np.zeros(1))[0]
        loss, grad_scale = 0.0, 0.0
        for m, o in combinations(range(len(views)), 2):
            both = present[:, m] & present[:, o]
            if both.sum() < 2:
                continue
            # positions of the pair's rows among each modality's embedded rows
            picks = [None if rows is None and both.all() else
                     np.flatnonzero(both if rows is None else both[rows])
                     for rows, _ in (embedded[m], embedded[o])]
            units = [unit if pick is None else unit[pick]
                     for (_, (_, unit, _)), pick in zip((embedded[m], embedded[o]), picks)]
            value, grad_a, grad_b, grad_t = self._pair_loss(*units, logit_scale)
            loss += value
            grad_scale += grad_t
            for k, pick, g in ((m, picks[0], grad_a), (o, picks[1], grad_b)):
                if pick is None and grad_units[k] is None:
                    grad_units[k] = g
                    continue
                if grad_units[k] is None:
                    grad_units[k] = np.zeros_like(embedded[k][1][1])
                if pick is None:
                    grad_units[k] += g
                else:
                    grad_units[k][pick] += g
        grads = {}
        for m, (net, (_, (outputs, _, norms)), g) in enumerate(zip(self._nets, embedded,
                                                                   grad_units)):
            grad = (np.zeros_like(params[m]) if g is None else
                    net.backward(params[m], outputs, _normalize_backward(outputs[-1], norms,
                                                                          g)))
            loss += net.l2_penalty(params[m], self.alpha, grad)
            grads[m] = grad
        if "logit_scale" in params:
            grads["logit_scale"] = np.array([grad_scale], dtype=params["logit_scale"].dtype)
        return loss, grads

    # -- fitting ----------------------------------------------------------------------------

    @keep_state_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the maps on the rows of X that have two or more modalities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The modalities' columns side by side; rows with at most one modality (the
            others' blocks NaN) are ignored for training.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        reject_second_view(y, X, self)
        self._check_loss_options()
        warm = self.warm_start and hasattr(self, "networks_")
        X, missing = self._validate(X, reset=not warm)
        pairs = self._pairs(missing, "fit")
        if not warm:
            self._start(X)
        self._train(X, missing, pairs, self.max_iter, check_convergence=True)
        return self

    @keep_state_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """One epoch over the pairs of X, continuing the current model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of data.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The updated estimator.
        """
        reject_second_view(y, X, self)
        self._check_loss_options()
        first = not hasattr(self, "networks_")
        X, missing = self._validate(X, reset=first)
        pairs = self._pairs(missing, "partial_fit")
        if first:
            self._start(X)
        self._train(X, missing, pairs, 1, check_convergence=False)
        return self

    def _check_loss_options(self):
        if self.loss == "infonce" and self.max_violation:
            raise ValueError(
                "max_violation=True keeps only the hardest negative of the hinge loss; "
                "loss='infonce' weighs every negative by its softmax probability. Set "
                "max_violation=False, or loss='hinge'."
            )

    def _start(self, X):
        warn_if_unscaled(self, X, "its learning_rate and the networks' initialisation")
        self._dtype = X.dtype
        self._rng = as_generator(self.random_state)
        self._nets = self._build()
        self.networks_ = [net.init(self._rng).astype(self._dtype) for net in self._nets]
        self.logit_scale_ = None
        self._optimizer_state = None
        self._history = TrainingHistory.start(self, validation=self.early_stopping)

    def _train(self, X, missing, pairs, n_epochs, check_convergence):
        rng = self._rng
        params = dict(enumerate(t.copy() for t in self.networks_))
        if self.loss == "infonce":
            start = INITIAL_LOGIT_SCALE if self.logit_scale_ is None else self.logit_scale_
            params["logit_scale"] = np.array([start], dtype=self._dtype)
        optimizer = Adam(self.learning_rate)
        opt_state = resume_state(optimizer, self._optimizer_state, params)
        validate = None
        if self.early_stopping and check_convergence:
            train, val = validation_split(pairs.size, self.validation_fraction, rng,
                                          what="pairs")
            val_rows = pairs[np.sort(val)]
            val_views, val_present = self._views(X, val_rows), ~missing[val_rows]
            pairs = pairs[np.sort(train)]

            def validation_score():
                return self._paired_score(params, val_views, val_present)

            validate = validation_score

        def objective(rows):
            rows = np.sort(rows)
            return self._objective(params, self._views(X, rows), ~missing[rows])

        def clip_logit_scale(rows):
            np.clip(params["logit_scale"], *LOGIT_SCALE_RANGE, out=params["logit_scale"])

        batch = min(self.batch_size, pairs.size)

        def epoch():
            return minibatch_epoch(rng.permutation(pairs), batch, objective, params, optimizer,
                                   opt_state, min_batch_size=2,
                                   after_update=clip_logit_scale if "logit_scale" in params
                                   else None)

        loop = EpochLoop(
            type(self).__name__, self._history, max_epochs=n_epochs,
            check_convergence=check_convergence, tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            rate=("learning_rate", self.learning_rate), scale_hint=lambda: unscaled_hint(X),
            verbose=self.verbose,
        ).run(epoch, validate=validate, params=lambda: params,
              updates_per_epoch=n_minibatches(pairs.size, batch, min_batch_size=2),
              chance_value=self._chance_loss(batch))
        best = loop.best_params or params
        self.networks_ = [best[m] for m in range(len(self._nets))]
        self.logit_scale_ = float(best["logit_scale"][0]) if "logit_scale" in best else None
        self._optimizer_state = opt_state
        self._history = loop.history
        loop.history.set_attributes(self, validation=validate is not None)

    # -- inference --------------------------------------------------------------------------

    def _paired_score(self, params, views, present):
        """Mean Recall@1, @5 and @10 over both directions of every pair of modalities, each
        on the rows that have both (pairs with fewer than 2 such rows are skipped)."""
        scores = []
        for m, o in combinations(range(len(views)), 2):
            both = present[:, m] & present[:, o]
            n = int(both.sum())
            if n < 2:
                continue
            A, B = [self._embed(self._nets[k], params[k],
                                views[k] if both.all() else views[k][both])[1] for k in (m, o)]
            for queries, database in ((A, B), (B, A)):
                ranking = nearest_neighbors(queries, database,
                                            n_neighbors=min(max(_SCORE_KS), n))[1]
                scores += [recall_at_k(ranking, k=min(k, n)) for k in _SCORE_KS]
        return float(np.mean(scores))

    def transform(self, X):
        """Embed each row from the modalities it has, in the shared unit-norm space.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data; a missing modality is its whole block set to NaN. Rows need at least one
            modality.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            Unit-norm embeddings: of the present modality, or the normalised mean of the
            present modalities' unit embeddings.
        """
        check_is_fitted(self)
        X, missing = self._validate(X, reset=False)
        Z = np.zeros((X.shape[0], self.n_components), dtype=self._dtype)
        for m, (net, theta) in enumerate(zip(self._nets, self.networks_)):
            rows = np.flatnonzero(~missing[:, m])
            if rows.size:
                view = self._views(X, rows)[m]
                Z[rows] += self._embed(net, theta, view)[1]
        return Z / row_norms_safe(Z)[:, None]

    def score(self, X, y=None):
        """Cross-modal retrieval quality of the rows of X that have two or more modalities.

        For each pair of modalities, each row's first modality is a query against the
        second modalities of all the rows that have both (and the reverse); the score is
        the mean over both directions and every pair of Recall@1, @5 and @10
        (:func:`skmultimodal.metrics.recall_at_k`, for two modalities the "R-sum" of the
        ranking literature divided by 600; K capped at the number of rows). Higher is
        better, in [0, 1], and needs no labels, so it serves model selection directly.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data with, for every modality, at least 2 rows that have it and another one.
        y : None
            Ignored.

        Returns
        -------
        score : float
            Mean recall of the true partner.
        """
        check_is_fitted(self)
        X, missing = self._validate(X, reset=False)
        pairs = self._pairs(missing, "score")
        return self._paired_score(dict(enumerate(self.networks_)), self._views(X, pairs),
                                  ~missing[pairs])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
