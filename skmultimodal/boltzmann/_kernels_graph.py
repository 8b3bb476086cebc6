"""Compiled loops over the layer graph of the Boltzmann machines, and their parameter steps.

A model's layers reach these loops as tuples of arrays (one per layer or edge) with the graph
as integer arrays, so one compiled loop serves every architecture: a multimodal RBM (one
hidden layer over the modalities' visible layers), the RBMs of a deep model's greedy
pretraining, and the multimodal deep Boltzmann machine. The matrix products run inside (BLAS
through numba's ``np.dot``, the same OpenBLAS calls numpy makes), so the Python calls per
batch are a handful:

- :func:`mean_field_layers`: the mean-field inference of every hidden layer and of the
  missing visible blocks, with per-row convergence;
- :func:`gibbs_sweep`: a sweep of block Gibbs sampling;
- :func:`rbm_pcd_step` and :func:`rbm_pcd_epoch`: a batch or an epoch of PCD for an RBM;
- :func:`dbm_update` and :func:`dbm_epoch`: the parameter step of joint training, and an
  epoch of it over complete dense rows.

Loops are written so that LLVM vectorises them: 2-D additions, copies and scalings as plain
loops (numba's ``a += b`` on 2-D arrays goes value by value), and data rows copied through two
1-D views (an index with an offset into 2-D data is gathered value by value).
"""

import numpy as np
from numba import njit

from .._jit import kernel
from ._kernels_units import (
    row_total,
    sigmoid,
    sigmoid_moved,
    sigmoid_sample,
    visible_mean,
    visible_sample,
)


@kernel
def length_bias(bias, L, a, out):
    """``out = bias + L @ a``: the hidden bias of each row, ``bias`` ``(1, k)`` plus the
    document lengths ``L`` ``(n, M)`` times their weights ``a`` ``(M, k)`` (Replicated
    Softmax modalities; zero lengths are skipped). One pass instead of a matrix product
    with an inner dimension of 1 or 2 and a broadcast sum."""
    n, k = out.shape
    for i in range(n):
        for j in range(k):
            out[i, j] = bias[0, j]
        for m in range(L.shape[1]):
            length = L[i, m]
            if length != 0:
                for j in range(k):
                    out[i, j] += length * a[m, j]


@kernel
def momentum_step(
    param, velocity, grad_pos, grad_neg, scale_pos, scale_neg, momentum, learning_rate,
    weight_decay,
):
    """One SGD step with momentum on a 2-D parameter block, in place.

    ``velocity = momentum * velocity + learning_rate * (scale_pos * grad_pos - scale_neg *
    grad_neg - weight_decay * param)``, then ``param += velocity``. The scales turn summed
    statistics into means over the positive batch and the negative particles. The scalars
    take the parameters' dtype (float32 arithmetic vectorises twice as wide).
    """
    n, k = param.shape
    t = param.dtype.type
    momentum, learning_rate, weight_decay = t(momentum), t(learning_rate), t(weight_decay)
    scale_pos, scale_neg = t(scale_pos), t(scale_neg)
    for i in range(n):
        for j in range(k):
            v = momentum * velocity[i, j] + learning_rate * (
                scale_pos * grad_pos[i, j] - scale_neg * grad_neg[i, j]
                - weight_decay * param[i, j]
            )
            velocity[i, j] = v
            param[i, j] += v


@kernel
def momentum_step_sums(param, velocity, x_pos, x_neg, scale_pos, scale_neg, momentum,
                       learning_rate):
    """:func:`momentum_step` of a bias row ``param`` (``(1, k)``, no weight decay) whose
    statistics are the column sums of ``x_pos`` and ``x_neg``, summed in ``param``'s dtype
    (as the weights' statistics are, by BLAS)."""
    k = param.shape[1]
    pos, neg = np.zeros(k, dtype=param.dtype), np.zeros(k, dtype=param.dtype)
    for i in range(x_pos.shape[0]):
        for j in range(k):
            pos[j] += x_pos[i, j]
    for i in range(x_neg.shape[0]):
        for j in range(k):
            neg[j] += x_neg[i, j]
    t = param.dtype.type
    momentum, learning_rate = t(momentum), t(learning_rate)
    scale_pos, scale_neg = t(scale_pos), t(scale_neg)
    for j in range(k):
        v = momentum * velocity[0, j] + learning_rate * (
            scale_pos * pos[j] - scale_neg * neg[j])
        velocity[0, j] = v
        param[0, j] += v


@njit(inline="always")
def scale_rows(x, scale):
    """``x *= scale`` in place, as a loop that vectorises (numba's 2-D ``*=`` does not)."""
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            x[i, j] *= scale


@njit(inline="always")
def add_rows(src, out, keep=1):
    """``out = keep * out + src`` (``keep`` 1 or 0) with ``src`` ``(n, k)`` or one row
    ``(1, k)`` for every row, as loops that vectorise: numba's ``out += src`` and
    ``out[:] = src`` on 2-D arrays go value by value."""
    n, k = out.shape
    per_row = src.shape[0] > 1
    for i in range(n):
        r = i if per_row else 0
        if keep:
            for j in range(k):
                out[i, j] += src[r, j]
        else:
            for j in range(k):
                out[i, j] = src[r, j]


@kernel
def fortran_copy_pays(n_rows, inner, n_cols):
    """Whether ``a @ w.T`` (``a`` ``(n_rows, inner)``, ``w`` ``(n_cols, inner)``) is faster
    with ``a`` copied to Fortran order first: for a few rows in a small product, which
    OpenBLAS then computes with its small-matrix kernels (float32, 32 rows, 128x128 weights:
    9 us instead of 14, copy included). Beyond about 10**6 multiply-adds, or from about 64
    rows, the copy costs more than it saves (float32, 32 rows, 128x256: 33 us against 27)."""
    return n_rows <= 48 and n_rows * inner * n_cols <= 1_000_000


@kernel
def layer_product(a, w, transposed, out):
    """``out = a @ w.T`` if ``transposed`` else ``a @ w`` (BLAS; ``a`` copied to Fortran
    order first where :func:`fortran_copy_pays`)."""
    if not transposed:
        np.dot(a, w, out)
    elif fortran_copy_pays(a.shape[0], a.shape[1], w.shape[0]):
        np.dot(np.asfortranarray(a), w.T, out)
    else:
        np.dot(a, w.T, out)


@kernel
def _layer_input(x, spare, current, weights, start, stop, source, edge, transposed, out):
    """``out`` = the sum over ``q`` in ``start:stop`` of the state of layer ``source[q]``
    (``x`` or ``spare`` by ``current``) times ``weights[edge[q]]`` (transposed if
    ``transposed[q]``); zeros if the range is empty."""
    if start == stop:
        out[:] = 0
    for q in range(start, stop):
        a = x[source[q]] if current[source[q]] == 0 else spare[source[q]]
        if q == start:
            layer_product(a, weights[edge[q]], transposed[q], out)
        else:
            term = np.empty_like(out)
            layer_product(a, weights[edge[q]], transposed[q], term)
            add_rows(term, out)


@kernel(error_model="numpy", fastmath={"contract"})
def gibbs_sweep(x, spare, current, bias, length_weights, length_updates, weights, order, ptr,
                source, edge, transposed, codes, lengths, state, clamp):
    """One sweep of block Gibbs sampling of a DBM (``_dbm._DBMModel.gibbs``), compiled.

    The layers, their neighbours and the double buffers as in :func:`mean_field_layers`
    (``order``: the odd hidden layers, then the even hidden layers and the visible layers,
    so each block is drawn given the other); the layers' biases are those of
    :func:`_layer_biases` (``length_updates``: its last two arguments). Hidden layers and binary visible units are drawn as
    :func:`sigmoid_sample`, Gaussian ones as :func:`gaussian_sample`, Replicated Softmax
    ones as :func:`multinomial_sample` with the document lengths ``lengths[:, m]``. If
    ``clamp`` has rows, visible layer ``m`` keeps its state in the rows where ``clamp[:,
    m]`` (and is not drawn at all if that is every row).
    """
    n = lengths.shape[0]
    clamped = clamp.shape[0] > 0
    biases = _layer_biases(bias, length_weights, lengths, *length_updates)
    for p in range(order.shape[0]):
        layer = order[p]
        code = codes[p]
        if code >= 0 and clamped and clamp[:, layer].all():
            continue
        old = x[layer] if current[layer] == 0 else spare[layer]
        out = spare[layer] if current[layer] == 0 else x[layer]
        pre = np.empty_like(out)
        _layer_input(x, spare, current, weights, ptr[p], ptr[p + 1], source, edge,
                     transposed, pre)
        if code < 0:
            sigmoid_sample(pre, biases[layer], state, pre, out)
        else:
            visible_sample(code, pre, biases[layer], lengths[:, layer], state, out[:0],
                            out)
        if code >= 0 and clamped:
            for i in range(n):
                if clamp[i, layer]:
                    out[i, :] = old[i, :]
        current[layer] ^= 1


@kernel
def _layer_biases(bias, length_weights, L, length_modality, length_layer):
    """Every layer's bias as a list: ``bias[l]`` (``(1, k)``), or per row with the document
    lengths ``L`` of the modalities whose length scales it (``+ L[:, m] length_weights[m]``
    for ``m`` in ``length_modality`` with ``length_layer`` the layer)."""
    n = L.shape[0]
    biases = [bias[layer] for layer in range(len(bias))]
    for k in range(length_modality.shape[0]):
        m, layer = length_modality[k], length_layer[k]
        if biases[layer].shape[0] == 1:
            biases[layer] = np.empty((n, bias[layer].shape[1]), dtype=L.dtype)
            add_rows(bias[layer], biases[layer], 0)
        out, weight = biases[layer], length_weights[m][0]  # not list items in the loop
        for i in range(n):
            length = L[i, m]
            for j in range(out.shape[1]):
                out[i, j] += length * weight[j]
    return biases


@kernel
def _mean_field_start(x, fixed, L, weights, bias, length_weights, units, mean_length, graph,
                      top, missing, absent):
    """The start of :func:`mean_field_layers`: document lengths, biases, the recognition
    pass and the constant part of each layer's input; returns the biases (a list)."""
    (up_order, down_ptr, down_edge, edge_lower, edge_upper, doubled, edge_modality,
     pathway_tops, below, above_edge, length_modality, length_layer) = graph
    n, M = L.shape
    dtype = L.dtype.type
    for m in range(M):
        for i in range(n):
            if missing[i, m]:
                x[m][i, :] = 0
                L[i, m] = mean_length[m] if units[m] == 2 else 0
            elif units[m] == 2:
                L[i, m] = row_total(x[m][i])
            else:
                L[i, m] = 0
    biases = _layer_biases(bias, length_weights, L, length_modality, length_layer)
    for m in range(M):
        if absent[m]:
            add_rows(bias[m], fixed[m], 0)
    # bottom-up through the present pathways, a layer with a layer above it taking its
    # input doubled; the top layer's input from the present pathways scaled by
    # n_modalities / n_present
    any_missing = absent.any()
    for p in range(up_order.shape[0]):
        layer = up_order[p]
        add_rows(biases[layer], fixed[layer], 0)
        pre = np.empty_like(x[layer])
        if down_ptr[p] == down_ptr[p + 1]:
            pre[:] = 0
        for q in range(down_ptr[p], down_ptr[p + 1]):
            e = down_edge[q]
            lower = edge_lower[e]
            term = pre if q == down_ptr[p] else np.empty_like(pre)
            layer_product(x[lower], weights[e], True, term)
            if layer == top and any_missing:
                for i in range(n):
                    if missing[i, edge_modality[e]]:
                        term[i, :] = 0
            if lower < M and not absent[lower]:
                add_rows(term, fixed[layer])
            if q > down_ptr[p]:
                add_rows(term, pre)
        scale = 2.0 if doubled[layer] else 1.0
        if layer == top and any_missing:
            for i in range(n):
                present = 0
                for m in range(M):
                    present += not missing[i, m]
                pre[i, :] *= dtype(M / max(present, 1))
        sigmoid(pre, biases[layer], x[layer], scale)
    # top-down through each missing pathway: a hidden layer's input from above doubled in
    # place of the missing input from below, down to the missing visible block's mean
    for m in range(M):
        if not absent[m]:
            continue
        rows = np.flatnonzero(missing[:, m])
        layer = pathway_tops[m]
        while True:
            e = above_edge[layer]
            above = x[edge_upper[e]]
            src = np.empty((rows.size, above.shape[1]), dtype=L.dtype)
            for r in range(rows.size):
                src[r, :] = above[rows[r], :]
            pre = np.empty((rows.size, x[layer].shape[1]), dtype=L.dtype)
            np.dot(src, weights[e], pre)
            if layer >= M:
                b = biases[layer]
                if b.shape[0] > 1:
                    b = np.empty_like(pre)
                    for r in range(rows.size):
                        b[r, :] = biases[layer][rows[r], :]
                sigmoid(pre, b, pre, 2.0)
            else:
                lengths = np.empty(rows.size, dtype=L.dtype)
                for r in range(rows.size):
                    lengths[r] = L[rows[r], m]
                visible_mean(units[m], pre, bias[m], lengths, pre)
            for r in range(rows.size):
                x[layer][rows[r], :] = pre[r, :]
            if layer < M:
                break
            layer = below[layer]
    return biases


@kernel(error_model="numpy", fastmath={"contract"})
def mean_field_layers(x, spare, current, fixed, L, weights, bias, length_weights, units,
                      mean_length, graph, top, plan, missing, n_iter, tol):
    """The mean-field posterior of a DBM (``_dbm._DBMModel.mean_field_layers``), compiled.

    ``x`` holds the layers' states: the visible blocks on entry (rows ``missing`` in a
    modality are overwritten), every hidden layer's buffer; ``L`` receives the document
    lengths (the mean training length where missing); ``bias[l]`` is layer ``l``'s bias
    (the visible biases, then the hidden ones), ``length_weights[m]`` modality ``m``'s
    length-scaled bias on the layer ``graph`` names for it; ``units`` the modalities' unit
    codes. The layers start at the recognition pass (:func:`_mean_field_start`), then the
    sweeps update the layers of ``plan`` (``_DBMModel._sweep_plan``: the odd hidden
    layers, then the even hidden layers and the visible layers missing in some rows; the
    graph is bipartite, so the layers of a block do not neighbour each other), each from
    its neighbours ``source[q]`` through ``weights[edge[q]]`` (transposed if
    ``transposed[q]``), ``q`` in ``ptr[p]:ptr[p + 1]``, plus ``fixed[l]`` (its bias and the
    input from the visible layers present in every row, computed once). Hidden layers
    (``codes[p] < 0``) become the sigmoid of it, a missing visible block its mean. A new
    state is written into the array that does not hold the current one (``x[l]`` if
    ``current[l] == 1``, else ``spare[l]``). A row stops (keeps its state) after the first
    sweep in which none of its values moves by more than ``tol``, or after ``n_iter``
    sweeps. Returns the number of sweeps made.
    """
    order, ptr, source, edge, transposed, codes = plan
    n, M = L.shape
    if n == 0:
        return 0
    absent = np.zeros(M, dtype=np.bool_)
    for m in range(M):
        absent[m] = missing[:, m].any()
    _mean_field_start(x, fixed, L, weights, bias, length_weights, units, mean_length, graph,
                      top, missing, absent)
    frozen = np.zeros(n, dtype=np.bool_)
    moved = np.zeros(n, dtype=np.bool_)
    sweeps = 0
    for _ in range(n_iter):
        moved[:] = False
        for p in range(order.shape[0]):
            layer = order[p]
            old = x[layer] if current[layer] == 0 else spare[layer]
            out = spare[layer] if current[layer] == 0 else x[layer]
            _layer_input(x, spare, current, weights, ptr[p], ptr[p + 1], source, edge,
                         transposed, out)
            if codes[p] < 0:
                sigmoid_moved(out, fixed[layer], out, old, frozen, moved, tol)
            else:
                visible_mean(codes[p], out, fixed[layer], L[:, layer], out)
                for i in range(n):
                    if frozen[i] or not missing[i, layer]:
                        out[i, :] = old[i, :]
                    else:
                        for j in range(out.shape[1]):
                            if abs(out[i, j] - old[i, j]) > tol:
                                moved[i] = True
                                break
            current[layer] ^= 1
        sweeps += 1
        done = True
        for i in range(n):
            frozen[i] |= not moved[i]
            done &= frozen[i]
        if done:
            break
    return sweeps


@kernel
def _hidden_bias(b, A, L, uses_length):
    """The hidden bias of an RBM per row, ``b + L @ A`` (``(1, k)`` if no lengths)."""
    if not uses_length:
        return b.reshape(1, b.shape[0])
    out = np.empty((L.shape[0], b.shape[0]), dtype=b.dtype)
    length_bias(b.reshape(1, b.shape[0]), L, A, out)
    return out


@kernel(error_model="numpy", fastmath={"contract"})
def rbm_pcd_step(W, b, c, A, uses_length, velocity, v, L, h_chains, L_chains, groups, up,
                 down, k, state, momentum, learning_rate, weight_decay, buffers):
    """One batch of PCD-k for an RBM of a DBM's stack (``_dbm._train_rbm``), compiled.

    ``W`` ``(K, F)``, ``b``, ``c`` and the length weights ``A`` ``(M, K)`` (used if
    ``uses_length``: the hidden bias is then ``b + L @ A``) are updated in place by momentum
    SGD (``velocity``: a tuple of four 2-D arrays shaped as ``W``, ``(1, K)``, ``(1, F)``,
    ``A``). The data's hidden probabilities are ``sigmoid(up * W v + b(L))``; each of the
    ``k`` steps draws the visible chains given ``down * W^T h`` group by group (``groups``:
    rows ``(start, stop, unit code, modality)`` of the visible columns, the modality's
    document lengths in ``L_chains``), then the chains' hidden units ``h_chains`` given
    ``up * W v``. ``buffers``: ``h_pos`` (at least the batch's rows), ``pre_v``, ``v_neg``
    (the chains' shape over ``F``), ``h_neg``, ``g_pos``, ``g_neg`` (shaped as ``W``). The
    draws are those of the uncompiled step, in order (the visible means are not kept).
    """
    h_pos_all, pre_v, v_neg, h_neg, g_pos, g_neg = buffers
    n = v.shape[0]
    nc = h_chains.shape[0]
    h_pos = h_pos_all[:n]
    layer_product(v, W, True, h_pos)
    sigmoid(h_pos, _hidden_bias(b, A, L, uses_length), h_pos, up)
    bias_neg = _hidden_bias(b, A, L_chains, uses_length)
    c_row = c.reshape(1, c.shape[0])
    for _ in range(k):
        np.dot(h_chains, W, pre_v)
        if down != 1.0:
            scale_rows(pre_v, pre_v.dtype.type(down))
        if groups.shape[0] == 1:
            visible_sample(groups[0, 2], pre_v, c_row, L_chains[:, groups[0, 3]], state,
                            v_neg[:0], v_neg)
        else:  # each group's columns as contiguous blocks, and back
            for g in range(groups.shape[0]):
                lo, hi = groups[g, 0], groups[g, 1]
                sample = np.empty((nc, hi - lo), dtype=W.dtype)
                visible_sample(groups[g, 2], np.ascontiguousarray(pre_v[:, lo:hi]),
                                np.ascontiguousarray(c_row[:, lo:hi]),
                                L_chains[:, groups[g, 3]], state, sample[:0], sample)
                v_neg[:, lo:hi] = sample
        layer_product(v_neg, W, True, h_neg)
        sigmoid_sample(h_neg, bias_neg, state, h_neg, h_chains, up)
    np.dot(h_pos.T, v, g_pos)
    np.dot(h_neg.T, v_neg, g_neg)
    scale_pos, scale_neg = 1.0 / n, 1.0 / nc
    momentum_step(W, velocity[0], g_pos, g_neg, scale_pos, scale_neg, momentum,
                  learning_rate, weight_decay)
    momentum_step_sums(b.reshape(1, b.shape[0]), velocity[1], h_pos, h_neg, scale_pos,
                       scale_neg, momentum, learning_rate)
    momentum_step_sums(c_row, velocity[2], v, v_neg, scale_pos, scale_neg, momentum,
                       learning_rate)
    if uses_length:
        momentum_step(A, velocity[3], np.dot(L.T, h_pos), np.dot(L_chains.T, h_neg),
                      scale_pos, scale_neg, momentum, learning_rate, 0.0)


@njit(inline="always")
def _state(x, spare, current, layer):
    """Layer ``layer``'s state in double buffers: ``x[layer]``, or ``spare[layer]`` if
    ``current[layer]``."""
    return x[layer] if current[layer] == 0 else spare[layer]


@kernel
def _length_statistic(L, m, x, out):
    """``out[0] = L[:, m] @ x``: a layer's states weighted by a modality's lengths."""
    out[:] = 0
    for r in range(x.shape[0]):
        length = L[r, m]
        if length != 0:
            for j in range(x.shape[1]):
                out[0, j] += length * x[r, j]


@kernel(error_model="numpy", fastmath={"contract"})
def dbm_update(params, velocity, g_pos, g_neg, x_pos, spare_pos, current_pos, x_neg, spare_neg,
               current_neg, L_pos, L_neg, edges, layers, length_modality, length_layer,
               momentum, learning_rate, weight_decay):
    """The parameter step of a DBM's joint training (``_dbm.MultimodalDBM._batch_update``),
    compiled: momentum SGD on ``<.>_data - <.>_model`` from the layers' states of the batch
    (mean-field) and of the chains, each held in double buffers as in :func:`gibbs_sweep`
    (layer ``l`` in ``x[l]`` if ``current[l] == 0`` else in ``spare[l]``).

    ``params`` and ``velocity`` are tuples of 2-D blocks in the order of
    ``_DBMModel.params``: the weights of ``edges`` (rows ``(lower, upper)``; statistics
    ``x[upper]^T x[lower]`` into the buffers ``g_pos[e]``, ``g_neg[e]``), the biases of
    ``layers`` (hidden layers, then visible; statistics their column sums), the length
    weights of ``length_modality`` (statistics ``L[:, m] @ x[length_layer]``, no weight
    decay).
    """
    n_edges, n_layers = edges.shape[0], layers.shape[0]
    scale_pos, scale_neg = 1.0 / L_pos.shape[0], 1.0 / L_neg.shape[0]
    for e in range(n_edges):
        lo, up = edges[e, 0], edges[e, 1]
        np.dot(_state(x_pos, spare_pos, current_pos, up).T,
               _state(x_pos, spare_pos, current_pos, lo), g_pos[e])
        np.dot(_state(x_neg, spare_neg, current_neg, up).T,
               _state(x_neg, spare_neg, current_neg, lo), g_neg[e])
        momentum_step(params[e], velocity[e], g_pos[e], g_neg[e], scale_pos, scale_neg,
                      momentum, learning_rate, weight_decay)
    for k in range(n_layers):
        i = layers[k]
        momentum_step_sums(params[n_edges + k], velocity[n_edges + k],
                           _state(x_pos, spare_pos, current_pos, i),
                           _state(x_neg, spare_neg, current_neg, i), scale_pos, scale_neg,
                           momentum, learning_rate)
    for k in range(length_modality.shape[0]):
        p = n_edges + n_layers + k
        m, i = length_modality[k], length_layer[k]
        pos = np.empty_like(params[p])
        neg = np.empty_like(params[p])
        _length_statistic(L_pos, m, _state(x_pos, spare_pos, current_pos, i), pos)
        _length_statistic(L_neg, m, _state(x_neg, spare_neg, current_neg, i), neg)
        momentum_step(params[p], velocity[p], pos, neg, scale_pos, scale_neg, momentum,
                      learning_rate, 0.0)


@njit(inline="always")
def _copy_row(src, start, dst):
    """``dst[:] = src[start:start + len(dst)]`` as a loop over two 1-D views: vectorised
    loads, where an index ``start + j`` into the 2-D data (which numba must check for
    wrap-around) or a 2-D slice assignment is copied value by value."""
    src = src[start:]
    for j in range(dst.shape[0]):
        dst[j] = src[j]


@kernel(error_model="numpy", fastmath={"contract"})
def rbm_pcd_epoch(data, rows, col_start, order, batch_size, W, b, c, A, uses_length,
                  velocity, h_chains, L_chains, groups, up, down, k, state, momentum,
                  learning_rate, weight_decay, buffers, v_buffer, L_buffer):
    """An epoch of :func:`rbm_pcd_step` over complete dense data: batch after batch of
    ``batch_size`` rows in ``order``, row ``i`` being ``data[rows[i], col_start:]``'s first
    ``W.shape[1]`` columns, gathered into ``v_buffer``; the document lengths (the row sums
    of the Replicated Softmax groups) into ``L_buffer`` (``(batch_size, M)``)."""
    n = order.shape[0]
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        v = v_buffer[: stop - start]
        L = L_buffer[: stop - start]
        for i in range(stop - start):
            _copy_row(data[rows[order[start + i]]], col_start, v[i])
        L[:] = 0
        for g in range(groups.shape[0]):
            if groups[g, 2] == 2:
                for i in range(stop - start):
                    L[i, groups[g, 3]] = row_total(v[i, groups[g, 0]:groups[g, 1]])
        rbm_pcd_step(W, b, c, A, uses_length, velocity, v, L, h_chains, L_chains, groups, up,
                     down, k, state, momentum, learning_rate, weight_decay, buffers)


@kernel(error_model="numpy", fastmath={"contract"})
def dbm_epoch(data, col_start, order, batch_size, x, spare, fixed, L, chains, chains_spare,
              chains_current, L_chains, weights, bias, length_weights, units, mean_length,
              graph, top, mean_field_plan, gibbs_plan, n_iter, tol, k, state, params,
              velocity, g_pos, g_neg, edges, layers, momentum, learning_rate, weight_decay):
    """Joint training of a DBM over complete dense rows (``_dbm.MultimodalDBM``): for each
    full batch of ``batch_size`` rows in ``order``, modality ``m``'s block gathered from
    ``data[rows, col_start[m]:]`` into ``x[m]``, then :func:`mean_field_layers` (the batch's
    buffers ``x``, ``spare``, ``fixed``, ``L``), ``k`` sweeps of :func:`gibbs_sweep` of the
    persistent chains (double buffers ``chains``, ``chains_spare``, ``chains_current``) and
    :func:`dbm_update`: the per-batch calls of the uncompiled loop, in the same order.
    Returns the number of rows used (the full batches)."""
    M = L.shape[1]
    n_batches = order.shape[0] // batch_size
    missing = np.zeros((batch_size, M), dtype=np.bool_)
    clamp = np.zeros((0, M), dtype=np.bool_)
    current = np.zeros(len(x), dtype=np.intp)
    length_updates = graph[10:]  # the lengths' modalities and layers (_Structure.graph)
    for t in range(n_batches):
        rows = order[t * batch_size:(t + 1) * batch_size]
        for m in range(M):
            block = x[m]
            for i in range(batch_size):
                _copy_row(data[rows[i]], col_start[m], block[i])
        current[:] = 0
        mean_field_layers(x, spare, current, fixed, L, weights, bias, length_weights, units,
                          mean_length, graph, top, mean_field_plan, missing, n_iter, tol)
        for _ in range(k):
            gibbs_sweep(chains, chains_spare, chains_current, bias, length_weights,
                        length_updates, weights, *gibbs_plan, L_chains, state, clamp)
        dbm_update(params, velocity, g_pos, g_neg, x, spare, current, chains, chains_spare,
                   chains_current, L, L_chains, edges, layers, *length_updates, momentum,
                   learning_rate, weight_decay)
    return n_batches * batch_size
