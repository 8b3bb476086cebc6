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
from .._random import bernoulli
from ._kernels_units import (
    REPLICATED_SOFTMAX,
    row_total,
    sigmoid,
    sigmoid_moved,
    sigmoid_sample,
    visible_mean,
    visible_resample,
    visible_sample,
)


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
                       learning_rate, sparsity_target=0.0, sparsity_cost=0.0):
    """:func:`momentum_step` of a bias row ``param`` (``(1, k)``, no weight decay) whose
    statistics are the column sums of ``x_pos`` and ``x_neg``, summed in ``param``'s dtype
    (as the weights' statistics are, by BLAS).

    A ``sparsity_cost`` pulls the positive sums towards ``sparsity_target``: subtracting
    ``n * cost * (mean - target)`` from them adds the gradient of the penalty ``cost *
    ||mean - target||^2 / 2`` on the biases of hidden units whose mean activation over the
    ``n`` rows of ``x_pos`` is ``mean`` (Lee, Ekanadham & Ng 2008)."""
    k = param.shape[1]
    pos, neg = np.zeros(k, dtype=param.dtype), np.zeros(k, dtype=param.dtype)
    for i in range(x_pos.shape[0]):
        for j in range(k):
            pos[j] += x_pos[i, j]
    for i in range(x_neg.shape[0]):
        for j in range(k):
            neg[j] += x_neg[i, j]
    t = param.dtype.type
    if sparsity_cost:
        cost, target = t(sparsity_cost), t(sparsity_target * x_pos.shape[0])
        for j in range(k):
            pos[j] -= cost * (pos[j] - target)
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


@njit(inline="always")
def _copy_row(src, start, dst):
    """``dst[:] = src[start:start + len(dst)]`` as a loop over two 1-D views: vectorised
    loads, where an index ``start + j`` into the 2-D data (which numba must check for
    wrap-around) or a 2-D slice assignment is copied value by value."""
    src = src[start:]
    for j in range(dst.shape[0]):
        dst[j] = src[j]


@njit(inline="always")
def _state(x, spare, current, layer):
    """Layer ``layer``'s state in double buffers: ``x[layer]``, or ``spare[layer]`` if
    ``current[layer]``."""
    return x[layer] if current[layer] == 0 else spare[layer]


@kernel
def _layer_input(x, spare, current, weights, start, stop, source, edge, transposed, scale,
                 out):
    """``out`` = the sum over ``q`` in ``start:stop`` of ``scale[q]`` times the state of layer
    ``source[q]`` (``x`` or ``spare`` by ``current``) times ``weights[edge[q]]``
    (transposed if ``transposed[q]``); zeros if the range is empty."""
    if start == stop:
        out[:] = 0
    for q in range(start, stop):
        a = _state(x, spare, current, source[q])
        if q == start:
            layer_product(a, weights[edge[q]], transposed[q], out)
            if scale[q] != 1.0:
                scale_rows(out, out.dtype.type(scale[q]))
        else:
            term = np.empty_like(out)
            layer_product(a, weights[edge[q]], transposed[q], term)
            if scale[q] != 1.0:
                scale_rows(term, term.dtype.type(scale[q]))
            add_rows(term, out)


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


@kernel(error_model="numpy", fastmath={"contract"})
def gibbs_sweep(x, spare, current, net, plan, L, state, clamp, sample_hidden, probs):
    """One sweep of block Gibbs sampling over the layers of ``plan``, in its order.

    ``net`` and ``plan`` as in :func:`mean_field_layers` (a Gibbs plan lists every layer:
    one parity, then the other, so each block is drawn given the other); a layer's new
    state is drawn into the buffer that does not hold its current one. Hidden layers are
    drawn as :func:`sigmoid_sample` (or set to their probabilities if not
    ``sample_hidden``), visible ones by their unit type (:func:`visible_sample`) with the
    document lengths ``L[:, m]``. If ``probs`` has a buffer for a hidden layer (rows), its
    probabilities are copied there. If ``clamp`` has rows, visible layer ``m`` keeps its
    state in the rows where ``clamp[:, m]`` (and is not drawn at all if that is every
    row).
    """
    weights, bias, length_weights, units, mean_length, graph, edge_scale = net
    order, ptr, source, edge, transposed, codes, scale = plan
    n = L.shape[0]
    clamped = clamp.shape[0] > 0
    biases = _layer_biases(bias, length_weights, L, graph[10], graph[11])
    for p in range(order.shape[0]):
        layer = order[p]
        code = codes[p]
        if code >= 0 and clamped and clamp[:, layer].all():
            continue
        old = _state(x, spare, current, layer)
        out = spare[layer] if current[layer] == 0 else x[layer]
        pre = np.empty_like(out)
        _layer_input(x, spare, current, weights, ptr[p], ptr[p + 1], source, edge,
                     transposed, scale, pre)
        if code < 0:
            if sample_hidden:
                sigmoid_sample(pre, biases[layer], state, pre, out)
            else:
                sigmoid(pre, biases[layer], out)
            if probs[layer].shape[0]:
                add_rows(pre if sample_hidden else out, probs[layer], 0)
        else:
            visible_sample(code, pre, biases[layer], L[:, layer], state, out[:0], out)
        if code >= 0 and clamped:
            for i in range(n):
                if clamp[i, layer]:
                    out[i, :] = old[i, :]
        current[layer] ^= 1


@njit(inline="always")
def _record(record, layer, step, state):
    """Copy a layer's state into slot ``step`` of its recording buffer, if it has one."""
    if record[layer].shape[0]:
        add_rows(state, record[layer][step], 0)


@kernel
def _start_scale(missing, i, given_layer, given):
    """Row ``i``'s scale of the input from the present modalities in the first estimate of
    the top layer: ``(n_present + missing mass) / n_present``, a missing modality weighing
    1 and a partly given one (``given_layer``) the fraction of its units not given."""
    M = missing.shape[1]
    present, mass = 0, 0.0
    for m in range(M):
        if not missing[i, m]:
            present += 1
        elif m == given_layer:
            k = given.shape[1]
            n_given = 0
            for j in range(k):
                n_given += given[i, j]
            mass += (k - n_given) / k
        else:
            mass += 1.0
    return (present + mass) / max(present, 1)


@kernel
def _mean_field_start(x, fixed, L, net, missing, absent, given_layer, given, known_lengths):
    """The start of :func:`mean_field_layers`: document lengths (unless ``known_lengths``),
    biases, the recognition pass and the constant part of each layer's input; returns the
    biases (a list)."""
    weights, bias, length_weights, units, mean_length, graph, edge_scale = net
    (up_order, down_ptr, down_edge, edge_lower, edge_upper, doubled, edge_modality,
     pathway_tops, below, above_edge, length_modality, length_layer, top) = graph
    top = top[0]
    n, M = L.shape
    dtype = L.dtype.type
    for m in range(M):
        for i in range(n):
            if missing[i, m]:
                if m == given_layer:
                    for j in range(x[m].shape[1]):
                        if not given[i, j]:
                            x[m][i, j] = 0
                else:
                    x[m][i, :] = 0
                if not known_lengths:
                    L[i, m] = mean_length[m] if units[m] == REPLICATED_SOFTMAX else 0
            elif known_lengths:
                continue
            elif units[m] == REPLICATED_SOFTMAX:
                L[i, m] = row_total(x[m][i])
            else:
                L[i, m] = 0
    biases = _layer_biases(bias, length_weights, L, length_modality, length_layer)
    for m in range(M):
        if absent[m]:
            add_rows(bias[m], fixed[m], 0)
    # bottom-up through the present pathways, a layer with a layer above it taking its
    # input doubled; the top layer's input from the present pathways scaled by
    # (n_present + missing mass) / n_present, a partly given modality's input added as is
    any_missing = absent.any()
    for p in range(up_order.shape[0]):
        layer = up_order[p]
        add_rows(biases[layer], fixed[layer], 0)
        pre = np.zeros_like(x[layer])
        partial = np.zeros_like(x[layer]) if layer == top and given_layer >= 0 else pre[:0]
        for q in range(down_ptr[p], down_ptr[p + 1]):
            e = down_edge[q]
            lower = edge_lower[e]
            term = np.empty_like(pre)
            layer_product(x[lower], weights[e], True, term)
            if edge_scale[e, 0] != 1.0:
                scale_rows(term, dtype(edge_scale[e, 0]))
            if layer == top and edge_modality[e] == given_layer and given_layer >= 0:
                add_rows(term, partial)
                continue
            if layer == top and any_missing:
                for i in range(n):
                    if missing[i, edge_modality[e]]:
                        term[i, :] = 0
            if lower < M and not absent[lower]:
                add_rows(term, fixed[layer])
            add_rows(term, pre)
        if layer == top and any_missing:
            for i in range(n):
                pre[i, :] *= dtype(_start_scale(missing, i, given_layer, given))
        if partial.shape[0]:
            add_rows(partial, pre)
        sigmoid(pre, biases[layer], x[layer], 2.0 if doubled[layer] else 1.0)
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
            if edge_scale[e, 1] != 1.0:
                scale_rows(pre, dtype(edge_scale[e, 1]))
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
                if layer == given_layer:
                    for j in range(pre.shape[1]):
                        if not given[rows[r], j]:
                            x[layer][rows[r], j] = pre[r, j]
                else:
                    x[layer][rows[r], :] = pre[r, :]
            if layer < M:
                break
            layer = below[layer]
    return biases


@kernel(error_model="numpy", fastmath={"contract"})
def mean_field_layers(x, spare, current, fixed, L, net, plan, missing, n_iter, tol, record,
                      given_layer, given, known_lengths):
    """The mean-field posterior of every layer of a Boltzmann machine given the present
    modalities.

    ``x`` holds the layers' states: the visible blocks on entry (rows ``missing`` in a
    modality are overwritten), every hidden layer's buffer; ``L`` receives the document
    lengths (the mean training length where missing), or holds them if ``known_lengths``.
    ``net`` is the model: per edge its
    weights ``(width_upper, width_lower)``, per layer its bias ``(1, width)`` (the visible
    layers first), per modality its length-scaled bias on the layer above it, the
    modalities' unit codes, their mean training lengths, the graph's integer arrays
    (``_graph.Structure.arrays``) and per edge the factors of its input into the upper and
    the lower layer. The layers start at the recognition pass (:func:`_mean_field_start`),
    then the sweeps update the layers of ``plan`` (``_graph.Model.plan``: the odd hidden
    layers, then the even hidden layers and the visible layers missing in some rows; the
    graph is bipartite, so the layers of a block do not neighbour each other), each from its
    neighbours ``source[q]`` through ``weights[edge[q]]`` (transposed if ``transposed[q]``,
    times ``scale[q]``), ``q`` in ``ptr[p]:ptr[p + 1]``, plus ``fixed[l]`` (its bias and the
    input from the visible layers present in every row, computed once). Hidden layers
    (``codes[p] < 0``) become the sigmoid of it, a missing visible block its mean. A new
    state is written into the array that does not hold the current one (``x[l]`` if
    ``current[l] == 1``, else ``spare[l]``). A row stops (keeps its state) after the first
    sweep in which none of its values moves by more than ``tol`` (never if ``tol < 0``), or
    after ``n_iter`` sweeps; if no layer of the plan has a neighbour that moves, the start
    is the fixed point and no sweep is made.

    With ``record[l]`` of shape ``(n_iter + 1, n, width)``, layer ``l``'s state after the
    start and after each sweep is copied into it (the unrolled network that multi-prediction
    training back-propagates through). ``given_layer`` (or -1) is a visible layer missing in
    its rows only where ``given`` (its shape) is False: the given values stay clamped.
    Returns the number of sweeps made.
    """
    order, ptr, source, edge, transposed, codes, scale = plan
    weights = net[0]
    n, M = L.shape
    if n == 0:
        return 0
    absent = np.zeros(M, dtype=np.bool_)
    for m in range(M):
        absent[m] = missing[:, m].any()
    _mean_field_start(x, fixed, L, net, missing, absent, given_layer, given, known_lengths)
    for layer in range(len(x)):
        _record(record, layer, 0, x[layer])
    if ptr[order.shape[0]] == 0:
        return 0
    frozen = np.zeros(n, dtype=np.bool_)
    moved = np.zeros(n, dtype=np.bool_)
    sweeps = 0
    for _ in range(n_iter):
        moved[:] = False
        for p in range(order.shape[0]):
            layer = order[p]
            old = _state(x, spare, current, layer)
            out = spare[layer] if current[layer] == 0 else x[layer]
            _layer_input(x, spare, current, weights, ptr[p], ptr[p + 1], source, edge,
                         transposed, scale, out)
            if codes[p] < 0:
                sigmoid_moved(out, fixed[layer], out, old, frozen, moved, tol)
            else:
                visible_mean(codes[p], out, fixed[layer], L[:, layer], out)
                clamped = layer == given_layer
                for i in range(n):
                    if frozen[i] or not missing[i, layer]:
                        out[i, :] = old[i, :]
                        continue
                    for j in range(out.shape[1]):
                        if clamped and given[i, j]:
                            out[i, j] = old[i, j]
                        elif abs(out[i, j] - old[i, j]) > tol:
                            moved[i] = True
            current[layer] ^= 1
            _record(record, layer, sweeps + 1, _state(x, spare, current, layer))
        sweeps += 1
        done = True
        for i in range(n):
            frozen[i] |= not moved[i]
            done &= frozen[i]
        if done:
            break
    return sweeps


@kernel
def _length_statistic(L, m, x, out):
    """``out[0] = L[:, m] @ x``: a layer's states weighted by a modality's lengths."""
    out[:] = 0
    for r in range(x.shape[0]):
        length = L[r, m]
        if length != 0:
            for j in range(x.shape[1]):
                out[0, j] += length * x[r, j]


@njit(inline="always")
def _negative_state(x, spare, current, probs, layer):
    """A layer's state in the negative statistics: its probabilities where kept."""
    if probs[layer].shape[0]:
        return probs[layer]
    return _state(x, spare, current, layer)


@kernel(error_model="numpy", fastmath={"contract"})
def update(net, optimizer, x_pos, spare_pos, current_pos, x_neg, spare_neg, current_neg,
           probs_neg, L_pos, L_neg, n_hidden_start, momentum, learning_rate, weight_decay,
           sparsity_target, sparsity_cost):
    """The parameter step of a Boltzmann machine: momentum SGD on ``<.>_data - <.>_model``.

    The data statistics come from the layers' states of the batch (``x_pos``: mean-field),
    the model statistics from those of the chains (``x_neg``; a hidden layer's
    probabilities where ``probs_neg`` keeps them), each in double buffers as in
    :func:`gibbs_sweep`. ``optimizer`` holds the velocities (per edge, per layer, per
    modality: as ``net``'s weights, biases and length weights) and the weight statistics'
    buffers (per edge, positive and negative). Weights get ``x[upper]^T x[lower]`` and the
    weight decay, every layer's bias its column sums (hidden layers, from
    ``n_hidden_start`` on, with the sparsity penalty of :func:`momentum_step_sums`), the
    length weights ``L[:, m] @ x[length layer]``.
    """
    weights, bias, length_weights, units, mean_length, graph, edge_scale = net
    v_weights, v_bias, v_length, g_pos, g_neg = optimizer
    edge_lower, edge_upper = graph[3], graph[4]
    length_modality, length_layer = graph[10], graph[11]
    scale_pos, scale_neg = 1.0 / L_pos.shape[0], 1.0 / L_neg.shape[0]
    for e in range(len(weights)):
        lo, up = edge_lower[e], edge_upper[e]
        np.dot(_state(x_pos, spare_pos, current_pos, up).T,
               _state(x_pos, spare_pos, current_pos, lo), g_pos[e])
        np.dot(_negative_state(x_neg, spare_neg, current_neg, probs_neg, up).T,
               _negative_state(x_neg, spare_neg, current_neg, probs_neg, lo), g_neg[e])
        momentum_step(weights[e], v_weights[e], g_pos[e], g_neg[e], scale_pos, scale_neg,
                      momentum, learning_rate, weight_decay)
    for layer in range(len(bias)):
        hidden = layer >= n_hidden_start
        momentum_step_sums(bias[layer], v_bias[layer],
                           _state(x_pos, spare_pos, current_pos, layer),
                           _negative_state(x_neg, spare_neg, current_neg, probs_neg, layer),
                           scale_pos, scale_neg, momentum, learning_rate,
                           sparsity_target, sparsity_cost if hidden else 0.0)
    for k in range(length_modality.shape[0]):
        m, layer = length_modality[k], length_layer[k]
        pos = np.empty_like(length_weights[m])
        neg = np.empty_like(length_weights[m])
        _length_statistic(L_pos, m, _state(x_pos, spare_pos, current_pos, layer), pos)
        _length_statistic(L_neg, m, _negative_state(x_neg, spare_neg, current_neg, probs_neg,
                                                    layer), neg)
        momentum_step(length_weights[m], v_length[m], pos, neg, scale_pos, scale_neg,
                      momentum, learning_rate, 0.0)


@kernel(error_model="numpy", fastmath={"contract"})
def train_step(batch, chains, net, plans, optimizer, settings, state):
    """One step of stochastic approximation of the likelihood gradient on one batch.

    ``batch = (x, spare, current, fixed, L, missing, no_record, no_mask)``: the batch's
    visible blocks in ``x`` and its buffers (the last two: an empty recording buffer per
    layer and an empty boolean mask, for the arguments not used); the data statistics are
    its mean-field posterior (:func:`mean_field_layers`, ``plans[0]``), exact in one pass
    for an RBM's complete rows.
    ``chains = (x, spare, current, L, probs)``: the negative particles. Persistent chains
    (PCD) go on from their state; with contrastive divergence (``cd``) they start from the
    batch's posterior, its hidden layers sampled. Then ``k`` sweeps of :func:`gibbs_sweep`
    (``plans[1]``), the last one leaving the hidden layers at their probabilities under CD,
    and :func:`update`. ``settings = (n_iter, tol, k, cd, n_hidden_start, momentum,
    learning_rate, weight_decay, sparsity_target, sparsity_cost)``. Returns the number of
    mean-field sweeps.
    """
    x, spare, current, fixed, L, missing, no_record, no_mask = batch
    cx, cspare, ccurrent, cL, cprobs = chains
    (n_iter, tol, k, cd, n_hidden_start, momentum, learning_rate, weight_decay,
     sparsity_target, sparsity_cost) = settings
    current[:] = 0
    # typed values, not literals: the mean-field compiled for Python's calls serves here too
    sweeps = mean_field_layers(x, spare, current, fixed, L, net, plans[0], missing, n_iter,
                               tol, no_record, np.intp(-1), no_mask, np.bool_(False))
    if cd:
        ccurrent[:] = 0
        for layer in range(len(cx)):
            source = _state(x, spare, current, layer)
            if layer >= n_hidden_start:
                bernoulli(source, state, cx[layer])
            else:
                add_rows(source, cx[layer], 0)
        add_rows(L, cL, 0)
    for step in range(k):
        gibbs_sweep(cx, cspare, ccurrent, net, plans[1], cL, state, no_mask,
                    not (cd and step == k - 1), cprobs)
    update(net, optimizer, x, spare, current, cx, cspare, ccurrent, cprobs, L, cL,
           n_hidden_start, momentum, learning_rate, weight_decay, sparsity_target,
           sparsity_cost)
    return sweeps


@kernel(error_model="numpy", fastmath={"contract"})
def train_epoch(data, col_start, data_missing, order, resample, batch, chains, net, plans,
                optimizer, settings, state):
    """:func:`train_step` over the full batches of an epoch of dense data: batch after batch
    of ``batch`` 's size in ``order``, modality ``m``'s block of row ``r`` being
    ``data[r, col_start[m]:]``'s first columns, its missing flags ``data_missing[r]``; the
    visible units of modalities flagged in ``resample`` are redrawn first
    (:func:`visible_resample`). Returns the number of rows used and of mean-field sweeps
    made."""
    x, missing = batch[0], batch[5]
    units = net[3]
    batch_size = missing.shape[0]
    M = missing.shape[1]
    n_batches = order.shape[0] // batch_size
    sweeps = 0
    for t in range(n_batches):
        rows = order[t * batch_size:(t + 1) * batch_size]
        for m in range(M):
            block = x[m]
            for i in range(batch_size):
                _copy_row(data[rows[i]], col_start[m], block[i])
                missing[i, m] = data_missing[rows[i], m]
            if resample[m]:
                visible_resample(units[m], block, state)
        sweeps += train_step(batch, chains, net, plans, optimizer, settings, state)
    return n_batches * batch_size, sweeps
