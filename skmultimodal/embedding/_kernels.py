"""numba kernels of the embedding family: the WARP sampler and the pairwise hinge.

Every hinge of the large-margin models compares, for one sample ``i`` with embedding
``z_i = W x_i``, a *positive* label embedding ``u_a`` with a *negative* one ``u_b``:

``h = margin - s(z_i, u_a) + s(z_i, u_b)``, loss ``w * max(0, h)``,

with the similarity ``s`` either ``-||z - u||^2`` (``cosine=False``, the squared euclidean
distance ``D`` of large-margin embeddings (Weinberger & Chapelle 2009), so that
``h = margin + D(z, u_a) - D(z, u_b)``) or the cosine ``z.u / (|z| |u|)``. The
classification loss L_C (positive: the true class, negative: a violating class) and the
ontology loss L_S (positive: an ancestor, negative: one of its siblings) are both lists of
such ``(row, positive, negative, weight)`` quadruples, so one kernel computes their value
and gradient.

Random numbers come from the xoroshiro128++ generator of :mod:`skmultimodal._random`
(state owned by the caller, seeded from the estimator's ``numpy.random.Generator``).
"""

import numpy as np
from numba import njit

from .._jit import kernel
from .._random import next_uniform

_TINY = 1e-12


@njit(inline="always")
def _similarity(Z, U, znorm, unorm, i, c, cosine):
    d = Z.shape[1]
    acc = 0.0
    if cosine:
        for k in range(d):
            acc += Z[i, k] * U[c, k]
        return acc / (znorm[i] * unorm[c])
    for k in range(d):
        diff = Z[i, k] - U[c, k]
        acc += diff * diff
    return -acc


def row_norms_safe(A):
    """Euclidean norm of each row, floored at 1e-12 (the cosine of a zero vector is 0).

    Rows whose squares would overflow are rescaled by their largest entry first.
    """
    squares = np.einsum("ij,ij->i", A, A)
    norms = np.sqrt(squares)
    big = ~np.isfinite(squares) & np.isfinite(A).all(axis=1)
    if big.any():
        scale = np.abs(A[big]).max(axis=1)
        norms[big] = scale * np.linalg.norm(A[big] / scale[:, None], axis=1)
    return np.maximum(norms, _TINY).astype(A.dtype, copy=False)


def harmonic_weights(n_classes, dtype=np.float64):
    """WARP's rank weights ``L(r) = sum_{j=1}^{r} 1/j`` for ``r = 0, ..., n_classes - 1``."""
    L = np.zeros(max(n_classes, 1), dtype=dtype)
    L[1:] = np.cumsum(1.0 / np.arange(1, n_classes))
    return L


@kernel
def warp_sample(S, Z, U, znorm, unorm, y, n_classes, margin, cosine, max_trials, rank_weight,
                state, negative, weight, trials):
    """The WSABIE/WARP sampler (Weston, Bengio & Usunier 2011), one violator per row.

    For row ``i`` with true class ``y[i]``, negative classes are drawn uniformly from the
    other ``n_classes - 1`` classes until one violates the margin,
    ``margin - s(z_i, u_y) + s(z_i, u_c) > 0``, or ``max_trials`` draws were made. If the
    violator came at draw ``N``, the number of violating classes is estimated by
    ``rank = floor((n_classes - 1) / N)`` and the row's weight is
    ``rank_weight[rank] = L(rank) = sum_{j <= rank} 1/j``. Rows without a violator get
    ``negative = -1`` and weight 0. ``trials[i]`` records ``N`` (``max_trials`` when none).

    The similarities are read from ``S`` (rows x classes, up to a per-row constant: one
    matrix product per batch) unless ``S`` has no rows; then each drawn class's similarity
    is computed from ``Z``, ``U`` and their norms (memory independent of the number of
    classes). The draws and decisions are the same either way.
    """
    n = Z.shape[0]
    dense = S.shape[0] > 0
    s0, s1 = state[0], state[1]
    others = n_classes - 1
    for i in range(n):
        yi = y[i]
        negative[i] = -1
        weight[i] = 0.0
        trials[i] = max_trials
        if others < 1:
            continue
        threshold, s_pos = margin - margin, 0.0
        if dense:
            threshold = S[i, yi] - margin
        else:
            s_pos = _similarity(Z, U, znorm, unorm, i, yi, cosine)
        for t in range(max_trials):
            u, s0, s1 = next_uniform(s0, s1)
            c = int(u * others)
            if c >= others:
                c = others - 1
            if c >= yi:
                c += 1
            if dense:
                violates = S[i, c] > threshold
            else:
                violates = margin - s_pos + _similarity(Z, U, znorm, unorm, i, c, cosine) > 0.0
            if violates:
                negative[i] = c
                weight[i] = rank_weight[others // (t + 1)]
                trials[i] = t + 1
                break
    state[0], state[1] = s0, s1


@kernel
def pair_hinge(Z, U, znorm, unorm, rows, positive, negative, weight, margin, cosine, grad_Z,
               grad_U):
    """Sum of ``weight * max(0, margin - s(z_row, u_pos) + s(z_row, u_neg))`` over pairs.

    Adds the gradient of that sum to ``grad_Z`` (per row of ``Z``) and ``grad_U`` (per label
    embedding) and returns the sum. Pairs with a negative index below 0 are skipped.

    Squared euclidean: ``d/dz = 2 (u_neg - u_pos)``, ``d/du_pos = -2 (z - u_pos)``,
    ``d/du_neg = 2 (z - u_neg)``. Cosine, with ``s_c = z.u_c / (|z| |u_c|)``:
    ``ds_c/dz = (u_c/|u_c| - s_c z/|z|) / |z|`` and ``ds_c/du_c = (z/|z| - s_c u_c/|u_c|) /
    |u_c|``.
    """
    d = Z.shape[1]
    total = 0.0
    for p in range(rows.shape[0]):
        i, a, b, w = rows[p], positive[p], negative[p], weight[p]
        if b < 0 or w == 0.0:
            continue
        s_a = _similarity(Z, U, znorm, unorm, i, a, cosine)
        s_b = _similarity(Z, U, znorm, unorm, i, b, cosine)
        h = margin - s_a + s_b
        if h <= 0.0:
            continue
        total += w * h
        if cosine:
            zn, an, bn = znorm[i], unorm[a], unorm[b]
            for k in range(d):
                zh, ah, bh = Z[i, k] / zn, U[a, k] / an, U[b, k] / bn
                grad_Z[i, k] += w * ((bh - s_b * zh) - (ah - s_a * zh)) / zn
                grad_U[a, k] -= w * (zh - s_a * ah) / an
                grad_U[b, k] += w * (zh - s_b * bh) / bn
        else:
            for k in range(d):
                grad_Z[i, k] += 2.0 * w * (U[b, k] - U[a, k])
                grad_U[a, k] -= 2.0 * w * (Z[i, k] - U[a, k])
                grad_U[b, k] += 2.0 * w * (Z[i, k] - U[b, k])
    return total


@kernel
def lasso_cd(gram, corr, support, gamma, beta, max_iter, tol):
    """Coordinate descent for ``min_b ||r - A b||^2 + gamma ||b||_1`` per row, in place.

    Row ``c`` of ``beta`` solves the problem with ``gram = A^T A`` (shared) and
    ``corr[c] = A^T r_c``; coordinates where ``support[c]`` is False stay at 0. The update
    of coordinate ``j`` is ``b_j = S(corr_j - sum_{k != j} G_jk b_k, gamma / 2) / G_jj``
    with the soft threshold ``S(x, t) = sign(x) max(|x| - t, 0)``; sweeps stop when no
    coordinate moved by more than ``tol`` (relative to the largest coefficient) or after
    ``max_iter`` sweeps. Returns the largest number of sweeps used.
    """
    n_rows, n_att = beta.shape
    half = 0.5 * gamma
    used = 0
    for c in range(n_rows):
        for it in range(max_iter):
            biggest_step = 0.0
            biggest = 0.0
            for j in range(n_att):
                if not support[c, j] or gram[j, j] <= 0.0:
                    beta[c, j] = 0.0
                    continue
                rho = corr[c, j]
                for k in range(n_att):
                    if k != j:
                        rho -= gram[j, k] * beta[c, k]
                if rho > half:
                    new = (rho - half) / gram[j, j]
                elif rho < -half:
                    new = (rho + half) / gram[j, j]
                else:
                    new = 0.0
                step = abs(new - beta[c, j])
                if step > biggest_step:
                    biggest_step = step
                if abs(new) > biggest:
                    biggest = abs(new)
                beta[c, j] = new
            if it + 1 > used:
                used = it + 1
            if biggest_step <= tol * max(biggest, 1e-300) or biggest == 0.0:
                break
    return used
