"""Annealed importance sampling (AIS) of the log partition function of Boltzmann machines.

AIS (Neal 2001; Salakhutdinov & Murray 2008) estimates ``Z_B`` of a target model from a
sequence of distributions ``p_k(x) = p*_k(x) / Z_k`` between a tractable base model ``A``
(``beta_0 = 0``) and the target ``B`` (``beta_K = 1``). A run draws ``x_0 ~ p_A`` exactly, then
for ``k = 1 .. K`` accumulates ``log w += log p*_k(x_{k-1}) - log p*_{k-1}(x_{k-1})`` and moves
``x_k ~ T_k(x_{k-1})`` with a Gibbs step that leaves ``p_k`` invariant. The mean importance
weight is an unbiased estimate of ``Z_B / Z_A``.

For an RBM with visible unit terms ``U(v; c)`` (``_units``) and binary hidden units, the base
model keeps only visible biases ``c_A`` (the *base-rate model*, fitted to the data's
marginals by each unit type's ``init_bias``) and the intermediate models sum the hidden units
out analytically (Salakhutdinov & Murray 2008, Eq. 13-15)::

    log p*_k(v) = -(1 - beta_k) U(v; c_A) - beta_k U(v; c_B)
                  + sum_j softplus(beta_k (W v + b + sum_m D_m a_m)_j)

so ``Z_0 = Z_A 2^n_hidden`` and the transition ``T_k`` is ``h ~ sigmoid(beta_k pre)``,
``v ~ p(v | h)`` under the model with weights ``beta_k W`` and visible bias
``(1 - beta_k) c_A + beta_k c_B`` (for unit-variance Gaussian units the mixed quadratic is
again a unit-variance Gaussian about that bias; for Replicated Softmax units the multinomial
keeps each chain's document length ``D``, and ``Z`` is the partition function at that length).

A deep Boltzmann machine is bipartite (even layers - visible layers, every second hidden layer
- against odd layers), so with the odd layers summed out it *is* such an RBM over the even
layers, the even hidden layers acting as binary visible units: the same code estimates its log
Z (Salakhutdinov & Hinton 2009, Section 4).

All runs advance together as one batch (two matrix products per step); log-weights are
accumulated in float64 whatever the model's dtype.
"""

import math
from dataclasses import dataclass
from numbers import Integral

import numpy as np
from scipy.special import logsumexp

from .._jit import kernel
from .._random import new_state
from .._utils import as_generator
from ._graph import Model
from ._kernels_units import sigmoid_sample

__all__ = ["AISResult", "annealing_schedule", "ais_log_partition", "base_rate_bias"]


def annealing_schedule(n_betas=14500):
    """Inverse temperatures from 0 to 1, spaced as in Salakhutdinov & Murray (2008).

    Their protocol uses steps of 1e-3 on [0, 0.5], 1e-4 on [0.5, 0.9] and 1e-5 on [0.9, 1]
    (14,500 intermediate distributions); ``n_betas`` distributes the same proportions of
    points over the three segments.

    Parameters
    ----------
    n_betas : int, default=14500
        Number of intermediate distributions (at least 3).

    Returns
    -------
    betas : ndarray of shape (n_betas + 1,)
        Increasing inverse temperatures, ``betas[0] = 0`` and ``betas[-1] = 1``.

    Examples
    --------
    >>> from skmultimodal.boltzmann._ais import annealing_schedule
    >>> betas = annealing_schedule(14500)
    >>> betas.size, float(betas[500]), float(betas[4500])
    (14501, 0.5, 0.9)
    """
    if not isinstance(n_betas, Integral) or n_betas < 3:
        raise ValueError(f"n_betas must be an integer of at least 3, got {n_betas!r}.")
    n1 = max(1, round(n_betas * 500 / 14500))
    n2 = max(1, round(n_betas * 4000 / 14500))
    n3 = max(1, n_betas - n1 - n2)
    return np.concatenate([
        np.linspace(0.0, 0.5, n1, endpoint=False),
        np.linspace(0.5, 0.9, n2, endpoint=False),
        np.linspace(0.9, 1.0, n3 + 1),
    ])


def _check_betas(betas):
    if isinstance(betas, Integral):
        return annealing_schedule(betas)
    betas = np.asarray(betas, dtype=np.float64)
    if betas.ndim != 1 or betas.size < 2 or betas[0] != 0 or betas[-1] != 1 or \
            np.any(np.diff(betas) <= 0):
        raise ValueError(
            "betas must be an integer (number of intermediate distributions) or an increasing "
            "1-D sequence from 0 to 1."
        )
    return betas


@dataclass(frozen=True)
class AISResult:
    """An AIS estimate of ``log Z`` and its spread.

    Attributes
    ----------
    log_z : float or ndarray
        ``log Z_A + log(mean importance weight)``; one value per length setting when the
        estimate was made for several document lengths.
    log_z_low, log_z_high : float or ndarray
        ``log(mean weight -/+ 3 standard errors of the mean) + log Z_A`` (``-inf`` when three
        standard errors exceed the mean); the true ``log Z`` lies in between unless the runs
        missed an important mode, which AIS cannot detect.
    log_weights : ndarray of shape (n_runs,) or (n_settings, n_runs)
        Final log importance weights of the runs, float64.
    log_z_base : float or ndarray
        Exact log partition function of the initial distribution (base-rate model times the
        ``2^n_hidden`` of the free hidden units).
    """

    log_z: object
    log_z_low: object
    log_z_high: object
    log_weights: np.ndarray
    log_z_base: object


def _spread(log_w, log_z_base):
    n = log_w.shape[-1]
    log_mean = logsumexp(log_w, axis=-1) - np.log(n)
    top = log_w.max(axis=-1, keepdims=True)
    with np.errstate(divide="ignore"):
        log_se = np.log(np.std(np.exp(log_w - top), axis=-1)) + top[..., 0] - 0.5 * np.log(n)
        ratio = 3 * np.exp(log_se - log_mean)
        low = log_mean + np.log1p(-np.minimum(ratio, 1.0))
    high = np.logaddexp(log_mean, np.log(3) + log_se)
    return log_mean + log_z_base, low + log_z_base, high + log_z_base


def base_rate_bias(model, X):
    """Visible biases of the base-rate model: independent units matching X's marginals.

    Each unit type's ``init_bias`` of the column means (logits for binary units, means for
    Gaussian ones, log word frequencies for Replicated Softmax).

    Parameters
    ----------
    model : _graph.Model
        The model whose visible layout (columns and unit types) the base rates follow.
    X : ndarray of shape (n_samples, n_visible)
        Data whose column means the base-rate model matches.

    Returns
    -------
    c : ndarray of shape (n_visible,)
        Visible biases of the base-rate model, float64.

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal import MultimodalRBM
    >>> from skmultimodal.boltzmann._ais import base_rate_bias
    >>> X = np.array([[0.0, 1.0], [1.0, 1.0], [0.0, 0.0], [0.0, 1.0]])
    >>> rbm = MultimodalRBM(n_components=2, modalities=[2], visible_units="binary",
    ...                     n_iter=1, random_state=0).fit(X)
    >>> np.round(base_rate_bias(rbm._model(), X), 3)  # logits of 0.25 and 0.75
    array([-1.099,  1.099])
    """
    s = model.s
    c = np.zeros(s.n_features, dtype=np.float64)
    for cols, units in zip(s.columns, s.units):
        block = np.asarray(X[:, cols], dtype=np.float64)
        c[cols] = units.init_bias(block.mean(axis=0))
    return c


@kernel
def _add_softplus_difference(pre, beta, beta_prev, log_w):
    """``log_w[i] += sum_j softplus(beta pre[i, j]) - softplus(beta_prev pre[i, j])``.

    The hidden units' share of a log-weight increment, in float64 whatever ``pre``'s dtype;
    one fused pass (about 1.5 times faster than two ``numpy.logaddexp`` passes and a sum).
    """
    n, k = pre.shape
    for i in range(n):
        acc = 0.0
        for j in range(k):
            x = np.float64(pre[i, j])
            a = beta * x
            b = beta_prev * x
            acc += (max(a, 0.0) + math.log1p(math.exp(-abs(a)))) - (
                max(b, 0.0) + math.log1p(math.exp(-abs(b)))
            )
        log_w[i] += acc


def ais_log_partition(model, base_bias, *, betas=14500, n_runs=100, lengths=None,
                      random_state=None):
    """AIS estimate of ``log Z`` of an RBM (a one-hidden-layer ``_graph.Model``), all runs
    in one batch.

    Parameters
    ----------
    model : _graph.Model
        The target model, with one hidden layer (the fitted ``MultimodalRBM._model()``, or a
        DBM's bipartite form ``Model.as_rbm()``).
    base_bias : ndarray of shape (n_visible,)
        Visible biases of the base-rate model (see :func:`base_rate_bias`).
    betas : int or array-like, default=14500
        Number of intermediate distributions (spaced by :func:`annealing_schedule`) or the
        inverse temperatures themselves, increasing from 0 to 1.
    n_runs : int, default=100
        Number of independent AIS runs (per length setting).
    lengths : array-like of shape (n_modalities,) or (n_settings, n_modalities), default=None
        Document length of each Replicated Softmax modality (entries of other modalities are
        ignored). ``Z`` depends on it; several settings are estimated in one batch. Required
        when the model has Replicated Softmax units.
    random_state : int, Generator or None, default=None
        Seed of the runs.

    Returns
    -------
    result : AISResult
        Scalars for a single setting, arrays of shape (n_settings,) otherwise.

    See Also
    --------
    skmultimodal.MultimodalDBM.log_partition : The same estimate for a deep Boltzmann
        machine (odd layers summed out).

    Examples
    --------
    A small RBM whose ``log Z`` can be enumerated (``2^6`` visible states):

    >>> import itertools
    >>> import numpy as np
    >>> from scipy.special import logsumexp
    >>> from skmultimodal import MultimodalRBM
    >>> from skmultimodal.boltzmann._ais import ais_log_partition, base_rate_bias
    >>> X = (np.random.default_rng(0).random((300, 6)) < 0.3).astype(float)
    >>> rbm = MultimodalRBM(n_components=4, modalities=[6], visible_units="binary",
    ...                     learning_rate=0.1, n_iter=5, random_state=0).fit(X)
    >>> model = rbm._model()
    >>> result = ais_log_partition(model, base_rate_bias(model, X), betas=1000, n_runs=50,
    ...                            random_state=0)
    >>> V = np.array(list(itertools.product([0.0, 1.0], repeat=6)))
    >>> exact = logsumexp(-model.free_energy(V))
    >>> bool(abs(result.log_z - exact) < 0.05)
    True
    >>> bool(result.log_z_low <= result.log_z <= result.log_z_high)
    True
    """
    betas = _check_betas(betas)
    if not isinstance(n_runs, Integral) or n_runs < 2:
        raise ValueError(f"n_runs must be an integer of at least 2, got {n_runs!r}.")
    s = model.s
    M = s.n_modalities
    has_length = np.array(s.uses_length)
    if lengths is None:
        if has_length.any():
            raise ValueError(
                "The model has Replicated Softmax units, whose partition function depends on "
                "the document length: pass lengths (one per modality)."
            )
        lengths = np.zeros(M)
    lengths = np.asarray(lengths, dtype=np.float64)
    single = lengths.ndim == 1
    lengths = np.atleast_2d(lengths)
    if lengths.shape[1] != M:
        raise ValueError(f"lengths needs one entry per modality ({M}), got {lengths.shape}.")
    lengths = np.where(has_length, np.round(lengths), 0.0)
    if np.any(lengths < 0):
        raise ValueError("Document lengths must be non-negative.")
    n_settings = lengths.shape[0]
    dtype = model.dtype
    K = s.widths[s.top]
    base_bias = np.asarray(base_bias, dtype=np.float64)
    c_A = [base_bias[cols] for cols in s.columns]
    c_B = [model.bias[m][0].astype(np.float64) for m in range(M)]

    log_z_base = np.array([
        sum(u.log_partition(base_bias[cols], L[m])
            for m, (cols, u) in enumerate(zip(s.columns, s.units)))
        + K * np.log(2.0)
        for L in lengths
    ])

    rng = as_generator(random_state)
    state = new_state(rng)
    n = n_settings * n_runs
    L = np.repeat(lengths, n_runs, axis=0).astype(dtype)
    hidden_bias = model.layer_bias(s.top, L)
    # the intermediate models: the target's weights times beta, mixed visible biases
    mixed = Model(s, model.W, [c.astype(dtype) for c in c_A] + [model.bias[s.top]], model.a,
                  model.mean_length, edge_scale=np.zeros((M, 2)))
    plan = mixed.plan((True,) * M, visible_only=True)
    scale = plan[-1]
    x = [np.empty((n, w), dtype=dtype) for w in s.widths[:-1]]
    x.append(np.zeros((n, K), dtype=dtype))
    work = {}
    mixed.gibbs(x, L, state, work=work, plan=plan)  # exact draws from the base-rate model
    log_w = np.zeros(n, dtype=np.float64)
    zero_bias = np.zeros((1, K), dtype=dtype)
    with np.errstate(over="ignore"):
        for k in range(1, betas.size):
            b_prev, b_k = betas[k - 1], betas[k]
            blocks = x[:-1]
            pre = model.layer_input(x, s.top) + hidden_bias
            dU = model.visible_energy(blocks, [c[None] for c in c_A]) - \
                model.visible_energy(blocks)
            log_w += (b_k - b_prev) * dU
            _add_softplus_difference(pre, b_k, b_prev, log_w)
            if k == betas.size - 1:
                break
            sigmoid_sample(pre, zero_bias, state, pre, x[-1], b_k)
            for m in range(M):
                mixed.bias[m][0] = (1 - b_k) * c_A[m] + b_k * c_B[m]
            scale[:] = b_k
            mixed.gibbs(x, L, state, work=work, plan=plan)
    log_w = log_w.reshape(n_settings, n_runs)
    log_z, low, high = _spread(log_w, log_z_base)
    if single:
        return AISResult(float(log_z[0]), float(low[0]), float(high[0]), log_w[0],
                         float(log_z_base[0]))
    return AISResult(log_z, low, high, log_w, log_z_base)
