"""Multimodal RBM with a semantic-similarity regulariser (SSL; Hu, Li & Lu 2016)."""

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ..cross_decomposition._dcca import correlation_objective
from ._kernels_units import sigmoid
from ._minvi import _gradient_blocks, zero_gradients
from ._mrbm import MultimodalRBM

SIMILARITIES = ("cross_entropy_xy", "cross_entropy_yx", "cca")


def _modality_activations(model, v, m, L):
    """``(z, H)``: the hidden pre-activation and activation given modality ``m`` alone."""
    s = model.s
    z = v[:, s.columns[m]] @ model.W[m].T + model.bias[s.top]
    if s.uses_length[m]:
        z += L[:, m:m + 1] * model.a[m]
    H = np.empty_like(z)
    sigmoid(z, np.zeros((1, z.shape[1]), z.dtype), H)
    return z, H


def similarity_penalty(model, v, similarity, reg, grads=None):
    """The SSL penalty ``sim(H^x, H^y)`` of complete rows ``v`` (Eq. 2-3), and its gradient.

    ``H^x = sigmoid(W_x x + b)`` and ``H^y = sigmoid(W_y y + b)`` are the hidden activations
    given each modality alone (plus the length bias of a Replicated Softmax modality):

    - ``"cross_entropy_xy"``: ``H(H^x || H^y) = -sum_jk [H^x log H^y + (1 - H^x) log(1 -
      H^y)] / n`` (Eq. 2), per row on average. As in any cross-entropy loss the first
      argument is the target: the gradient flows through ``H^y`` only, pulling it towards
      ``H^x``. (Through its first argument a cross-entropy is linear, minimised by saturating
      ``H^x`` rather than by matching the two: a full gradient collapses the hidden units.)
    - ``"cross_entropy_yx"``: ``H(H^y || H^x)``, pulling ``H^x`` towards ``H^y``;
    - ``"cca"``: ``-||T||_tr``, ``T = S_xx^{-1/2} S_xy S_yy^{-1/2}`` over the rows, with
      ``reg`` added to the diagonals of ``S_xx`` and ``S_yy`` (Eq. 3).

    Lower is more similar. With ``grads`` (from ``_minvi.zero_gradients``: per edge, per
    layer, per modality), the gradient of the penalty is added to it. Returns the penalty.
    """
    n = v.shape[0]
    L = model.lengths(v)
    zx, Hx = _modality_activations(model, v, 0, L)
    zy, Hy = _modality_activations(model, v, 1, L)
    if similarity == "cca":
        corr, gx, gy = correlation_objective(Hx.astype(np.float64), Hy.astype(np.float64),
                                             reg, "trace")
        value = -corr
        grad_zx = (-gx * Hx * (1 - Hx)).astype(model.dtype)
        grad_zy = (-gy * Hy * (1 - Hy)).astype(model.dtype)
    else:
        if similarity == "cross_entropy_yx":
            zx, Hx, zy, Hy = zy, Hy, zx, Hx
        # -[h log s(z) + (1 - h) log(1 - s(z))] = softplus(z) - h z
        value = float(np.sum(np.logaddexp(0, zy.astype(np.float64)) - Hx * zy) / n)
        grad_zy = (Hy - Hx) / n
        grad_zx = np.zeros_like(grad_zy)
        if similarity == "cross_entropy_yx":
            grad_zx, grad_zy = grad_zy, grad_zx
    if grads is not None:
        s = model.s
        gW, gbias, ga = _gradient_blocks(model, grads)
        for m, grad_z in ((0, grad_zx), (1, grad_zy)):
            gW[m] += grad_z.T @ v[:, s.columns[m]]
            gbias[s.top] += grad_z.sum(axis=0)
            if s.uses_length[m]:
                ga[m] += L[:, m] @ grad_z
    return float(value)


class _SSLOptimizer:
    """Algorithm 1 per batch: the likelihood step of :class:`MultimodalRBM`'s trainer, then
    a plain gradient step of size ``learning_rate * alpha`` on the penalty of the batch's
    complete rows. Records the mean penalty of each epoch (``end_epoch``)."""

    def __init__(self, est, model, trainer):
        self.est, self.model, self.trainer = est, model, trainer
        self.penalties = []

    def epoch(self, X, missing, order, state, learning_rate):
        return 0 if self.est.alpha else self.trainer.epoch(X, missing, order, state,
                                                           learning_rate)

    def step(self, v, missing, state, learning_rate):
        est, model = self.est, self.model
        self.trainer.step(v, missing, state, learning_rate)
        if not est.alpha:
            return
        complete = ~missing.any(axis=1)
        if complete.sum() < (3 if est.similarity == "cca" else 1):
            return
        rows = v if complete.all() else v[complete]
        grads = zero_gradients(model)
        self.penalties.append(similarity_penalty(model, rows, est.similarity, est.cca_reg,
                                                 grads))
        rate = learning_rate * est.alpha
        for param, grad in zip(model.blocks(), grads):
            param -= rate * grad

    def end_epoch(self):
        value = float(np.mean(self.penalties)) if self.penalties else np.nan
        self.penalties = []
        return {"similarity_curve_": value}

    def persist(self):
        return self.trainer.persist()


class SSLRBM(MultimodalRBM):
    """Multimodal RBM with a semantic-similarity regulariser (SSL).

    Maximum likelihood training of the multimodal RBM (see :class:`MultimodalRBM`) with a
    penalty that makes the hidden representations of the two modalities alike (Hu, Li & Lu
    2016, Eq. 1)::

        minimise  - log p(x, y) + alpha * sim(H^x, H^y)

    ``H^x = sigmoid(W_x x + b)`` and ``H^y = sigmoid(W_y y + b)`` are the hidden activations
    given each modality alone; ``sim`` is the cross-entropy ``H(H^x || H^y)`` (Eq. 2,
    ``similarity="cross_entropy_xy"``) or the reverse ``H(H^y || H^x)``
    (``"cross_entropy_yx"``), each pulling the second argument's activations towards the
    first's (the target of the cross-entropy, see :func:`similarity_penalty`), or the
    negative total canonical correlation ``-||T||_tr``, ``T = S_xx^{-1/2} S_xy
    S_yy^{-1/2}`` of the batch's activations with ``cca_reg`` added to the auto-covariances
    (Eq. 3, ``"cca"``). Each mini-batch is Algorithm 1: a CD-k (or PCD)
    step on the likelihood, then a gradient step of size ``learning_rate * alpha`` (without
    momentum) on the penalty of the batch's complete rows. With ``alpha=0`` the model is
    exactly :class:`MultimodalRBM`.

    The penalty pairs two modalities: the model must have exactly two.

    Read more in the :ref:`User Guide <objectives>`.

    Parameters
    ----------
    n_components : int, default=256
        Number of hidden units (the width of the joint representation).
    modalities : None, list of int or list of (str, columns) tuples, default=None
        Which columns form the two modalities, as in :class:`MultimodalRBM`.
    visible_units : {"auto", "gaussian", "binary", "replicated_softmax"}, VisibleUnits \
            or list, default="auto"
        Unit type of every modality, or one per modality. ``"auto"`` takes binary units for
        a modality whose values all lie in [0, 1] (pixels, probabilities) and unit-variance
        Gaussian units otherwise (standardise such features: fit warns when they are far
        from it). Binary units read values in between as probabilities; Replicated Softmax
        units take non-negative word counts. A :class:`~skmultimodal.boltzmann.VisibleUnits`
        instance is a unit type of your own.
    alpha : float, default=0.1
        Weight of the similarity penalty (the lambda of Hu, Li & Lu 2016, who used 0.1).
    similarity : {"cross_entropy_xy", "cross_entropy_yx", "cca"}, default="cross_entropy_xy"
        The similarity measure of the penalty.
    cca_reg : float, default=1e-3
        Ridge added to the auto-covariances of ``similarity="cca"``.
    method : {"cd", "pcd"}, default="cd"
        Contrastive divergence or persistent contrastive divergence for the likelihood.
    k : int, default=1
        Number of Gibbs steps per update.
    n_chains : int, default=100
        Number of persistent chains (``method="pcd"`` only).
    learning_rate : float, default=0.01
        Step size of the updates.
    learning_rate_decay : float, default=0.0
        The step size of epoch ``t`` (from 0) is ``learning_rate / (1 + learning_rate_decay
        * t)``.
    batch_size : int, default=32
        Number of rows per mini-batch.
    n_iter : int or "auto", default="auto"
        Number of epochs of :meth:`fit`; rows are reshuffled every epoch. ``"auto"`` holds
        out ``validation_fraction`` of the rows (at most 2,000) and trains until their
        :meth:`score` (the cross-modal log-likelihood) has not improved by 0.1% for
        ``n_iter_no_change`` epochs and at least 1,000 updates, or for at most 20,000
        updates, keeping the parameters of the best held-out score.
    validation_fraction : float, default=0.1
        Fraction of the rows held out by ``n_iter="auto"``.
    n_iter_no_change : int, default=10
        Epochs without improvement that stop ``n_iter="auto"``.
    momentum : float, default=0.5
        Momentum of the likelihood updates, in [0, 1).
    weight_decay : float, default=1e-4
        L2 penalty on the weights.
    resample_binary : bool, default=False
        If True, the values of binary modalities (probabilities in [0, 1], e.g. grey
        levels) are redrawn as 0/1 samples in every mini-batch: stochastic binarisation,
        a regulariser Sohn, Shang & Lee (2014) used on MNIST.
    sparsity_target : float, default=0.1
        Target mean activation of each hidden unit, in (0, 1).
    sparsity_cost : float, default=0.0
        Weight of the sparsity penalty on the hidden biases; 0 switches it off.
    n_mean_field : int, default=20
        Maximum number of mean-field iterations when inferring missing modalities.
    mean_field_tol : float, default=1e-5
        Mean-field stops when no hidden probability moves by more than this.
    warm_start : bool, default=False
        If True, :meth:`fit` continues from the previous solution.
    verbose : int, default=0
        If positive, print the reconstruction error and time of every epoch.
    random_state : int, RandomState instance or None, default=None
        Seed of the initial weights, the shuffling and the Gibbs sampling.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        Weights between hidden units and all visible columns.
    intercept_hidden_ : ndarray of shape (n_components,)
        Hidden biases.
    intercept_visible_ : ndarray of shape (n_features,)
        Visible biases.
    hidden_length_bias_ : ndarray of shape (n_modalities, n_components)
        Length-scaled hidden biases of Replicated Softmax modalities.
    mean_length_ : ndarray of shape (n_modalities,)
        Mean document length of each Replicated Softmax modality (0 for the others).
    modalities_ : list of (str, slice or ndarray)
        The resolved modality specification.
    visible_units_ : list of str
        Unit type of each modality.
    modality_weights_ : dict of str to ndarray
        Each modality's block of ``components_``.
    modality_intercepts_ : dict of str to ndarray
        Each modality's block of ``intercept_visible_``.
    n_iter_ : int
        Number of epochs trained so far.
    reconstruction_error_curve_ : list of float
        Per epoch, the mean squared error of the mean-field reconstruction of up to 256
        training rows (a monitor).
    validation_scores_ : list of float or None
        With ``n_iter="auto"``, the held-out :meth:`score` of every epoch; None otherwise.
    best_validation_score_ : float or None
        The best of ``validation_scores_``, whose parameters the model keeps.
    similarity_curve_ : list of float
        Per epoch, the mean of the penalty ``sim(H^x, H^y)`` over the epoch's batches (NaN
        when ``alpha=0``, which skips the penalty).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    MultimodalRBM : The unregularised model.
    MinVIRBM : Training by minimum variation of information.

    Notes
    -----
    The ``"cca"`` penalty is computed on a mini-batch, as the paper does. With fewer rows than
    hidden units (``batch_size < n_components``, the usual case) the batch's canonical
    correlations are all close to 1 whatever the two representations are: ``m`` centred rows
    span only ``m - 1`` directions, and any two such sets can be paired perfectly. Only a
    ridge comparable to the activations' covariance eigenvalues makes the penalty tell
    paired activations from unrelated ones (for independent uniform activations in [0, 0.3]
    on 100 rows and 1000 units, ``||T||_tr`` is 97.6 of a maximum 99 with ``cca_reg=1e-3``,
    69 with 0.03 and 19 with 0.3). On MNIST halves (``benchmarks/mnist_halves.py``) the
    ``"cca"`` penalty left the one-half errors unchanged for ``cca_reg`` from 1e-3 to 3; the
    cross-entropies lowered them.

    References
    ----------
    Hu, D., Li, X. and Lu, X. Multimodal learning via exploring deep semantic similarity.
    ACM Multimedia 2016, 342-346.

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal import SSLRBM
    >>> from skmultimodal.datasets import load_digits_halves
    >>> X, y = load_digits_halves(return_X_y=True)
    >>> rbm = SSLRBM(n_components=64, visible_units="binary", similarity="cca",
    ...              learning_rate=0.05, n_iter=3, random_state=0).fit(X)
    >>> X_right_only = X.copy()
    >>> X_right_only[:, :32] = np.nan  # the left halves are missing
    >>> rbm.transform(X_right_only).shape
    (1797, 64)
    """

    _parameter_constraints = {
        **MultimodalRBM._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="left")],
        "similarity": [StrOptions(set(SIMILARITIES))],
        "cca_reg": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        n_components=256,
        *,
        modalities=None,
        visible_units="auto",
        alpha=0.1,
        similarity="cross_entropy_xy",
        cca_reg=1e-3,
        method="cd",
        k=1,
        n_chains=100,
        learning_rate=0.01,
        learning_rate_decay=0.0,
        batch_size=32,
        n_iter="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        momentum=0.5,
        weight_decay=1e-4,
        resample_binary=False,
        sparsity_target=0.1,
        sparsity_cost=0.0,
        n_mean_field=20,
        mean_field_tol=1e-5,
        warm_start=False,
        verbose=0,
        random_state=None,
    ):
        super().__init__(
            n_components, modalities=modalities, visible_units=visible_units, method=method,
            k=k, n_chains=n_chains, learning_rate=learning_rate,
            learning_rate_decay=learning_rate_decay, batch_size=batch_size, n_iter=n_iter,
            validation_fraction=validation_fraction, n_iter_no_change=n_iter_no_change,
            momentum=momentum, weight_decay=weight_decay, resample_binary=resample_binary,
            sparsity_target=sparsity_target, sparsity_cost=sparsity_cost,
            n_mean_field=n_mean_field, mean_field_tol=mean_field_tol, warm_start=warm_start,
            verbose=verbose, random_state=random_state,
        )
        self.alpha = alpha
        self.similarity = similarity
        self.cca_reg = cca_reg

    def _validate_input(self, X, *, reset, allow_all_missing=False):
        X, missing = super()._validate_input(X, reset=reset,
                                             allow_all_missing=allow_all_missing)
        if reset and len(self.modalities_) != 2:
            raise ValueError(
                "SSLRBM's similarity penalty pairs two modalities; got "
                f"{len(self.modalities_)}. Set modalities to two column blocks."
            )
        return X, missing

    _curves = ("similarity_curve_",)

    def _new_optimizer(self, model, X, missing, rng):
        return _SSLOptimizer(self, model, super()._new_optimizer(model, X, missing, rng))
