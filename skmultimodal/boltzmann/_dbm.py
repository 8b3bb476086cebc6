"""Multimodal deep Boltzmann machine (seed 000) and its pretrained stack of RBMs.

The model (Srivastava & Salakhutdinov 2012; seed 000) is a layered undirected graph: each
modality ``m`` has a pathway of hidden layers ``v_m - h_m1 - ... - h_mL``, and one joint layer
``h^(top)`` of ``n_components`` units is connected to the last layer of every pathway. Its
energy sums one bilinear term per edge, the hidden biases and each modality's own unit term
(``_units``)::

    E(v, h) = - sum_edges x_upper^T W_e x_lower - sum_layers b_l^T h_l
              - sum_m D_m a_m^T h_m1 + sum_m U_m(v_m; c_m)

The graph is bipartite: even layers (the visible layers, every second hidden layer of a
pathway) against odd layers, so Gibbs sampling alternates two blocks, and with the odd layers
summed out the model is an RBM over the even layers (used by annealed importance sampling).
"""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import gen_batches
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._utils import as_generator
from .._random import bernoulli, new_state
from ._kernels_units import sigmoid
from ._kernels_graph import (
    dbm_epoch,
    dbm_update,
    fortran_copy_pays,
    gibbs_sweep,
    length_bias,
    mean_field_layers,
    rbm_pcd_epoch,
    rbm_pcd_step,
)
from ._ais import ais_log_partition, base_rate_bias
from ._mrbm import _BaseMultimodalRBM, _dense_rows, _RBMModel, _unit_groups
from ._units import VISIBLE_UNITS

_BINARY = VISIBLE_UNITS["binary"]


def _matmul(a, b, out=None):
    """``a @ b`` (into ``out``), ``a`` copied to Fortran order first if ``b`` is a
    transposed matrix (a ``.T`` view: a layer's input from the layer below) and
    :func:`fortran_copy_pays`."""
    if (b.flags.f_contiguous and not b.flags.c_contiguous
            and fortran_copy_pays(a.shape[0], a.shape[1], b.shape[1])):
        a = np.asfortranarray(a)
    return np.matmul(a, b, out=out)


def _put_rows(v, rows, cols, values):
    """``v[rows, cols] = values`` for a modality's ``cols`` (a slice or an index array)."""
    v[np.ix_(rows, np.arange(v.shape[1])[cols])] = values


def _entropy(p):
    """Sum over units of the Bernoulli entropy of probabilities ``p``, per row, float64."""
    p = np.clip(p.astype(np.float64), 1e-12, 1 - 1e-12)
    return -(p * np.log(p) + (1 - p) * np.log1p(-p)).sum(axis=1)


class _Structure:
    """The layers and edges of a multimodal DBM (no parameters).

    Layers ``0 .. M-1`` are the modalities' visible layers, then each pathway's hidden layers
    bottom-up, then the joint top layer. ``edges`` are ``(lower, upper)`` layer pairs.
    ``bipartite=False`` (a deep belief net, which never samples the layers in two blocks)
    allows pathways of different parities.
    """

    def __init__(self, columns, units, pathways, n_components, bipartite=True):
        self.columns, self.units = columns, units
        M = len(columns)
        self.n_modalities = M
        self.widths = [c.stop - c.start if isinstance(c, slice) else c.size for c in columns]
        self.names = [f"v{m}" for m in range(M)]
        self.edges, self.parity = [], [0] * M
        tops = []
        for m, sizes in enumerate(pathways):
            below = m
            for depth, width in enumerate(sizes, start=1):
                self.widths.append(width)
                self.names.append(f"h{m}_{depth}")
                self.parity.append(depth % 2)
                self.edges.append((below, len(self.widths) - 1))
                below = len(self.widths) - 1
            tops.append(below)
        parities = {len(sizes) % 2 for sizes in pathways}
        if len(parities) > 1 and bipartite:
            raise ValueError(
                "Every pathway needs a number of hidden layers of the same parity (all even or "
                f"all odd) for the DBM to be bipartite; got pathways={list(pathways)}."
            )
        self.widths.append(n_components)
        self.names.append("top")
        self.top = len(self.widths) - 1
        self.parity.append((min(parities) + 1) % 2)  # one parity unless not bipartite
        self.edges.extend((t, self.top) for t in tops)
        self.pathway_tops = tops
        self.hidden = list(range(M, len(self.widths)))
        self.odd = [i for i in self.hidden if self.parity[i] == 1]
        self.even_hidden = [i for i in self.hidden if self.parity[i] == 0]
        self.down = [[e for e, (lo, up) in enumerate(self.edges) if up == i]
                     for i in range(len(self.widths))]
        self.up = [[e for e, (lo, up) in enumerate(self.edges) if lo == i]
                   for i in range(len(self.widths))]
        # the layer whose hidden bias a modality's document length scales
        self.length_layer = [self.edges[self.up[m][0]][1] for m in range(M)]
        # bottom-up order of the hidden layers (pathways, then the top)
        self.order = self.hidden
        # for the compiled parameter step: the edges, the layers in the order of the biases
        self.edge_array = np.array(self.edges, dtype=np.intp).reshape(-1, 2)
        self.update_layers = np.array(self.hidden + list(range(M)), dtype=np.intp)
        self.graph = self._graph_arrays()
        # the Replicated Softmax modalities and the layers their lengths scale
        self.length_updates = self.graph[-2:]

    def _graph_arrays(self):
        """The graph as the arrays of :func:`mean_field_layers`: the hidden layers
        bottom-up with their edges from below (``ptr``, ``edge``), each edge's lower and
        upper layer, per layer whether a layer lies above it, per edge into the top layer
        the modality of its pathway (-1 for other edges), each modality's pathway top, per
        layer the layer below it and its edge to the layer above (-1 if none), the
        Replicated Softmax modalities and the layers whose bias their lengths scale."""
        M = self.n_modalities
        ptr = np.cumsum([0] + [len(self.down[i]) for i in self.order])
        counts = [m for m in range(M) if self.units[m].has_length]
        arrays = (
            self.order, ptr, [e for i in self.order for e in self.down[i]],
            [lo for lo, _ in self.edges], [up for _, up in self.edges],
            [bool(self.up[i]) for i in range(len(self.widths))],
            [self.pathway_tops.index(lo) if up == self.top else -1 for lo, up in self.edges],
            self.pathway_tops,
            [self.edges[d[0]][0] if d else -1 for d in self.down],
            [u[-1] if u else -1 for u in self.up],
            counts, [self.length_layer[m] for m in counts],
        )
        return tuple(np.array(a, dtype=np.intp) for a in arrays)


class _DBMModel:
    """Parameters of a multimodal DBM with its inference routines.

    ``W[e]`` is ``(width[upper], width[lower])`` for edge ``e``; ``b[i]`` the bias of hidden
    layer ``i`` (shape ``(1, width)``, indexed by layer); ``c[m]`` the visible bias of modality
    ``m`` (``(1, width)``); ``a[m]`` its length-scaled bias on the layer above it (zeros unless
    Replicated Softmax).
    """

    def __init__(self, structure, W, b, c, a, mean_length):
        self.s, self.W, self.b, self.c, self.a = structure, W, b, c, a
        self.mean_length = mean_length
        self.uses_length = [u.has_length for u in structure.units]
        self.groups = _unit_groups(structure.columns, structure.units)
        s = structure
        # per layer: the Replicated Softmax modalities whose document length scales its bias
        self.length_modalities = [[m for m in range(s.n_modalities)
                                   if self.uses_length[m] and s.length_layer[m] == i]
                                  for i in range(len(s.widths))]
        # per layer: its neighbours, each with the weights that map its state to the
        # layer's input (views: the parameters are updated in place)
        self.neighbours = [[(s.edges[e][0], W[e].T) for e in s.down[i]]
                           + [(s.edges[e][1], W[e]) for e in s.up[i]]
                           for i in range(len(s.widths))]
        self._sweep_plans = {}
        # every layer's bias (visible, then hidden) and the modalities' unit codes, for the
        # compiled loops (views: the parameters are updated in place)
        self.biases = tuple(c) + tuple(b[i] for i in s.hidden)
        self.unit_codes = np.array([u.code for u in s.units], dtype=np.intp)

    def copy(self):
        return _DBMModel(self.s, [w.copy() for w in self.W],
                         {i: b.copy() for i, b in self.b.items()}, [c.copy() for c in self.c],
                         [a.copy() for a in self.a], self.mean_length.copy())

    @property
    def dtype(self):
        return self.W[0].dtype

    def params(self):
        """Every parameter block as a 2-D array, in a fixed order (views, updated in place)."""
        out = list(self.W) + [self.b[i] for i in self.s.hidden] + list(self.c)
        out += [self.a[m] for m in range(self.s.n_modalities) if self.uses_length[m]]
        return out

    def is_finite(self):
        return all(np.isfinite(p).all() for p in self.params())

    # -- conditionals ------------------------------------------------------------------------

    def lengths(self, v, missing=None):
        """Document length of each modality, (n, M); 0 for non-count modalities.

        A missing modality gets the mean training length.
        """
        L = np.zeros((v.shape[0], self.s.n_modalities), dtype=self.dtype)
        for m, (cols, units) in enumerate(zip(self.s.columns, self.s.units)):
            if units.has_length:
                L[:, m] = units.length(v[:, cols])
                if missing is not None and missing[:, m].any():
                    L[missing[:, m], m] = self.mean_length[m]
        return L

    def _input(self, x, i):
        """Total input of layer ``i`` from its neighbours (no bias), in one new array."""
        (src, weights), *rest = self.neighbours[i]
        out = x[src] @ weights
        for src, weights in rest:
            out += x[src] @ weights
        return out

    def _bias(self, i, L):
        """Bias of layer ``i``: ``(1, width)``, or per row with document lengths."""
        if i < self.s.n_modalities:
            return self.c[i]
        counts = self.length_modalities[i]
        if not counts:
            return self.b[i]
        a = self.a[counts[0]] if len(counts) == 1 else np.concatenate([self.a[m] for m in counts])
        out = np.empty((L.shape[0], self.b[i].shape[1]), dtype=self.dtype)
        length_bias(self.b[i], L[:, counts], a, out)
        return out

    def _update(self, x, i, L, pre=None):
        """Mean of layer ``i`` given its neighbours in ``x`` (``pre``: its input, if already
        computed; overwritten)."""
        if pre is None:
            pre = self._input(x, i)
        if i >= self.s.n_modalities:  # hidden layers are binary units
            _BINARY.mean(pre, self._bias(i, L), None, pre)
        else:
            self.s.units[i].mean(pre, self._bias(i, L), L[:, i], pre)
        return pre

    def split(self, v):
        """The visible blocks of dense rows ``v``, one C-contiguous array per modality."""
        return [np.ascontiguousarray(v[:, cols]) for cols in self.s.columns]

    # -- mean-field inference ----------------------------------------------------------------

    def mean_field_layers(self, v, missing, n_iter, tol):
        """Mean-field posterior of every layer given the present modalities.

        The layers start at a recognition pass: bottom-up through the present pathways,
        doubling the input of layers that also receive input from above (the recognition
        pass of the pretrained stack); the top layer takes the present pathways' input
        scaled by ``n_modalities / n_present``, to stand in for the missing ones (as
        :class:`MultimodalRBM` does, seed 001). Then top-down through each missing pathway,
        every hidden layer's input from above doubled in place of the missing input from
        below, down to the expectation of the missing visible block. Starting the missing
        text at zero words instead let the mean-field loop settle, for most images, in one
        image-independent fixed point (measured: precision@5 of tags generated from images
        0.18 instead of 0.23 on ``benchmarks/dbm_retrieval.py``'s data).

        Then the odd and the even layers (with the missing modalities) are updated in
        turn, each a fixed-point equation ``mu_l = sigmoid(sum of neighbours' inputs +
        b_l)`` (seed 000: "iterating a set of the mean-field fixed-point equations"). A row
        stops at the first sweep in which none of its probabilities (nor its missing
        values) moves by more than ``tol``, or after ``n_iter`` sweeps, so each row's
        result is independent of the other rows of the batch. The input from visible
        layers present in every row is computed once. All of it is one compiled call
        (:func:`mean_field_layers`). Missing blocks of ``v`` are filled in place
        with their expectations.

        Returns the list ``x`` of all layers' states (visible blocks, hidden means) and the
        lengths ``L``.
        """
        n = v.shape[0]
        s = self.s
        M = s.n_modalities
        x = self.split(v) + [np.empty((n, w), dtype=self.dtype) for w in s.widths[M:]]
        absent = tuple(bool(a) for a in missing.any(axis=0))
        plan = self._sweep_plan(absent)
        moving = [i >= M or absent[i] for i in range(len(x))]
        spare = [np.empty_like(a) if k else a for a, k in zip(x, moving)]
        fixed = [np.empty_like(a) if k else b for a, k, b in zip(x, moving, self.biases)]
        L = np.empty((n, M), dtype=self.dtype)
        current = np.zeros(len(x), dtype=np.intp)
        mean_field_layers(
            tuple(x), tuple(spare), current, tuple(fixed), L, tuple(self.W), self.biases,
            tuple(self.a), self.unit_codes, self.mean_length, s.graph, s.top, plan, missing,
            n_iter, tol)
        x = [b if k else a for a, b, k in zip(x, spare, current)]
        for m in range(M):
            if absent[m]:
                rows = np.flatnonzero(missing[:, m])
                x[m][rows] = self._update(x, m, L)[rows]  # given the final layers above
                _put_rows(v, rows, s.columns[m], x[m][rows])
        return x, L

    def _sweep_plan(self, moving):
        """The layers that a sweep of :func:`mean_field_layers` or
        :func:`gibbs_sweep` updates, given which visible layers do (``moving``, a
        tuple of bools: the modalities missing in some rows; all of them in Gibbs sampling),
        as the kernels' arrays: the layers in update order (odd hidden, even hidden, the
        moving visible layers); per layer its neighbours whose state changes during the
        sweeps (``ptr``, ``source``, ``edge``, ``transposed``: the other visible layers'
        input is constant); its units' code, -1 for hidden layers. Cached.
        """
        plan = self._sweep_plans.get(moving)
        if plan is None:
            s = self.s
            order = s.odd + s.even_hidden + [m for m in range(s.n_modalities) if moving[m]]
            ptr, source, edge, transposed, codes = [0], [], [], [], []
            for i in order:
                for e in s.down[i] + s.up[i]:
                    lo, up = s.edges[e]
                    src = lo if up == i else up
                    if src >= s.n_modalities or moving[src]:
                        source.append(src)
                        edge.append(e)
                        transposed.append(up == i)
                ptr.append(len(source))
                codes.append(-1 if i >= s.n_modalities else s.units[i].code)
            plan = self._sweep_plans[moving] = (
                np.array(order, dtype=np.intp), np.array(ptr, dtype=np.intp),
                np.array(source, dtype=np.intp), np.array(edge, dtype=np.intp),
                np.array(transposed, dtype=bool), np.array(codes, dtype=np.intp))
        return plan

    def mean_field(self, v, missing, n_iter, tol):
        """Top-layer mean-field posterior (fills missing blocks of ``v`` in place)."""
        x, _ = self.mean_field_layers(v, missing, n_iter, tol)
        return x[self.s.top]

    # -- sampling ----------------------------------------------------------------------------

    def sample_hidden(self, x, state):
        """Replace every hidden layer's probabilities in ``x`` by a Bernoulli draw."""
        for i in self.s.hidden:
            sample = np.empty_like(x[i])
            bernoulli(x[i], state, sample)
            x[i] = sample

    def gibbs(self, x, L, state, clamp=None, work=None):
        """One sweep of block Gibbs sampling: odd layers, then even layers, in place.

        ``clamp`` (bool per row and modality) keeps observed visible blocks. ``work``, a
        dict kept from sweep to sweep, holds the buffers: a layer's new state is drawn into
        a spare array, which then takes the place of the old one in ``x``.
        """
        s = self.s
        work = {} if work is None else work
        spare = work.get("spare")
        if spare is None or any(a.shape != b.shape or a.dtype != b.dtype
                                for a, b in zip(spare, x)):
            spare = work["spare"] = [np.empty_like(a) for a in x]
        current = np.zeros(len(x), dtype=np.intp)
        plan = self._sweep_plan((True,) * s.n_modalities)
        if clamp is None:
            clamp = np.zeros((0, s.n_modalities), dtype=bool)
        gibbs_sweep(tuple(x), tuple(spare), current, self.biases, tuple(self.a),
                             s.length_updates, tuple(self.W), *plan, L, state, clamp)
        for i in np.flatnonzero(current):
            x[i], spare[i] = spare[i], x[i]

    # -- energies and bounds -----------------------------------------------------------------

    def energy(self, x, L):
        """``E(x)`` per row, float64, for states or means of every layer."""
        s = self.s
        E = np.zeros(x[0].shape[0], dtype=np.float64)
        for e, (lo, up) in enumerate(s.edges):
            E -= np.einsum("ij,ij->i", x[up] @ self.W[e], x[lo], dtype=np.float64)
        for i in s.hidden:
            bias = np.broadcast_to(self._bias(i, L), x[i].shape)
            E -= np.einsum("ij,ij->i", x[i], bias, dtype=np.float64)
        for m, units in enumerate(s.units):
            E += units.free_energy(x[m], self.c[m][0])
        return E

    def variational_free_energy(self, v, n_iter, tol):
        """``E_q[E(v, h)] - H(q)`` under the mean-field posterior of complete rows: an upper
        bound of the free energy ``-log sum_h exp(-E(v, h))``, equal to it when q is exact."""
        missing = np.zeros((v.shape[0], self.s.n_modalities), dtype=bool)
        x, L = self.mean_field_layers(v.copy(), missing, n_iter, tol)
        F = self.energy(x, L)
        for i in self.s.hidden:
            F -= _entropy(x[i])
        return F

    def as_rbm(self):
        """The even layers with the odd ones summed out: an ``_RBMModel`` (for AIS).

        Its visible vector is ``[v_0, ..., v_{M-1}, even hidden layers]``, its hidden vector
        the odd layers side by side; edges that do not exist are zero blocks.
        """
        s = self.s
        even = list(range(s.n_modalities)) + s.even_hidden
        offsets_e = np.cumsum([0] + [s.widths[i] for i in even])
        offsets_o = np.cumsum([0] + [s.widths[i] for i in s.odd])
        pos_e = {i: slice(offsets_e[k], offsets_e[k + 1]) for k, i in enumerate(even)}
        pos_o = {i: slice(offsets_o[k], offsets_o[k + 1]) for k, i in enumerate(s.odd)}
        W = np.zeros((offsets_o[-1], offsets_e[-1]), dtype=self.dtype)
        for e, (lo, up) in enumerate(s.edges):
            if up in pos_o:
                W[pos_o[up], pos_e[lo]] = self.W[e]
            else:
                W[pos_o[lo], pos_e[up]] = self.W[e].T
        b = np.concatenate([self.b[i][0] for i in s.odd])
        c = np.concatenate([self.c[m][0] for m in range(s.n_modalities)]
                           + [self.b[i][0] for i in s.even_hidden])
        M_e = len(even)
        A = np.zeros((M_e, W.shape[0]), dtype=self.dtype)
        for m in range(s.n_modalities):
            if self.uses_length[m]:
                A[m, pos_o[s.length_layer[m]]] = self.a[m][0]
        units = list(s.units) + [_BINARY] * len(s.even_hidden)
        mean_length = np.concatenate([self.mean_length,
                                      np.zeros(len(s.even_hidden), dtype=self.dtype)])
        return _RBMModel(W, b, c, A, [pos_e[i] for i in even], units, mean_length), even


def _pathways(pathways, n_modalities):
    """One tuple of hidden-layer widths per modality."""
    if isinstance(pathways, (list, tuple)) and pathways and all(
        isinstance(p, (list, tuple)) for p in pathways
    ):
        if len(pathways) != n_modalities:
            raise ValueError(
                f"pathways lists {len(pathways)} stacks but there are {n_modalities} "
                "modalities; give one tuple of layer widths per modality, or one for all."
            )
        out = [tuple(p) for p in pathways]
    elif isinstance(pathways, (list, tuple)):
        out = [tuple(pathways)] * n_modalities
    else:
        raise ValueError(f"pathways must be a tuple of layer widths (or one per modality), "
                         f"got {pathways!r}.")
    for p in out:
        if not all(isinstance(w, Integral) and w >= 1 for w in p):
            raise ValueError(f"pathways must hold positive integer widths, got {pathways!r}.")
    if len({len(p) == 0 for p in out}) > 1:
        raise ValueError(
            "Either every pathway has hidden layers or none has (then the model is an RBM); "
            f"got pathways={out}."
        )
    return out


# -- greedy layerwise pretraining ------------------------------------------------------------


def _initial_weights(rng, n_upper, n_lower, dtype):
    """Random weights of one RBM of the stack: ``N(0, 1 / (n_upper + n_lower))``.

    The customary ``N(0, 0.01^2)`` leaves short documents in a long plateau: with eight
    words a Replicated Softmax layer's hidden units barely depend on the text for tens of
    epochs (the gradient grows the weights in proportion to themselves), and the joint RBM
    above a flat layer learns nothing either. Glorot-scaled weights break the symmetry from
    the first epoch.
    """
    weights = rng.standard_normal((n_upper, n_lower))
    weights *= 1.0 / np.sqrt(n_upper + n_lower)  # in place: no weight-sized temporaries
    return weights.astype(dtype, copy=False)


def _train_rbm(model, batches, n_rows, up, down, est, rng, state, name, schedule,
               source=None):
    """PCD training of one RBM of the stack, with the DBM's doubled inputs.

    In the DBM a layer between two others gets input from both; in its RBM of the stack it
    has one neighbour only. Salakhutdinov & Hinton (2009, Section 3.1) make up for it by
    doubling: the hidden units of the bottom RBM of a pathway see ``up * W v`` (``up = 2``),
    the visible units of the top RBM ``down * W^T h`` (``down = 2``), in the data and in the
    negative phase alike. As in their code, the doubled input is twice one drawn state.
    (Summing two independently drawn copies instead, the exact RBM with tied copies, gave
    a lower classification MAP and tag precision on both seeds of
    ``benchmarks/dbm_retrieval.py``'s data that we tried.) The weight statistics are the
    usual ``<h v^T>_data - <h v^T>_model``.

    Gaussian visible units have a conditional mean linear in ``W^T h``, so the negative
    statistic grows like ``<h h^T> W``: a curvature up to ``K`` (all ``K`` hidden units on),
    and momentum SGD is stable on it only for steps below ``2 (1 + momentum) / K``. The
    step of an RBM with Gaussian visible units is capped there (measured on 100
    standardised features: 128 and 256 hidden units diverged within 4-6 epochs at 0.05
    without the cap).

    ``batches(rows)`` returns the dense visible rows and their missing mask; ``schedule`` is
    ``(epochs, learning_rate, name of the learning rate's parameter)``. Each batch is one
    call of the compiled step :func:`rbm_pcd_step`, or each epoch one call of
    :func:`rbm_pcd_epoch` if the rows are complete and dense: ``source = (data,
    rows, cols)`` with ``batches(r)`` the same as ``data[rows[r], cols]`` (``cols`` a
    slice). The chains' and the statistics' buffers are allocated once.
    """
    dtype = model.dtype
    K, F = model.W.shape
    nc = est.n_chains
    # np.zeros, not zeros_like: calloc'd pages are zeroed on first touch, not in a pass
    vel = [np.zeros((K, F), dtype), np.zeros((1, K), dtype),
           np.zeros((1, F), dtype), np.zeros(model.length_bias.shape, dtype)]
    buffers = (np.empty((est.batch_size, K), dtype), *(np.empty((nc, F), dtype) for _ in range(2)),
               np.empty((nc, K), dtype), np.empty((K, F), dtype), np.empty((K, F), dtype))
    if source is not None:
        v_buffer = np.empty((est.batch_size, F), dtype)
        L_buffer = np.empty((est.batch_size, len(model.units)), dtype)
    h_chains = None
    epochs, rate, rate_name = schedule
    lr, mom, wd = rate, est.momentum, est.weight_decay
    if any(units.name == "gaussian" for units in model.units):
        lr = min(lr, 2.0 * (1.0 + mom) / K)
    groups = np.array([[cols.start, cols.stop, units.code, m]
                       for cols, units, m in model.groups], dtype=np.intp)
    args = (model.W, model.b, model.c, model.length_bias, model.uses_length, tuple(vel))
    settings = (groups, up, down, est.k, state, mom, lr, wd, buffers)
    for epoch in range(epochs):
        order = rng.permutation(n_rows)
        if h_chains is None:  # the chains start at a draw given random rows of a batch
            v, missing = _complete_batch(model, batches, order[:est.batch_size], est)
            L = model.lengths(v, missing)
            pick = rng.choice(v.shape[0], size=nc)
            L_chains, h_chains = L[pick].copy(), np.empty((nc, K), dtype)
            bernoulli(_rbm_up(model, v, L, up)[pick], state, h_chains)
        if source is None:
            for batch in gen_batches(n_rows, est.batch_size):
                v, missing = _complete_batch(model, batches, order[batch], est)
                rbm_pcd_step(*args, v, model.lengths(v, missing), h_chains,
                                      L_chains, *settings)
        else:
            data, rows, cols = source
            rbm_pcd_epoch(data, rows, cols.start, order, est.batch_size, *args,
                                   h_chains, L_chains, *settings, v_buffer, L_buffer)
        if not model.is_finite():
            raise FloatingPointError(
                f"{type(est).__name__} diverged during pretraining (the RBM {name}, epoch "
                f"{epoch + 1}): parameters became NaN or infinite with "
                f"{rate_name}={rate}. Lower {rate_name}; Gaussian units also need "
                "standardised features."
            )


def _complete_batch(model, batches, rows, est):
    """``batches(rows)``, the missing blocks filled in by the RBM's mean-field."""
    v, missing = batches(rows)
    if missing is not None and missing.any():
        model.mean_field(v, missing, est.n_mean_field, est.mean_field_tol)
    return v, missing


def _rbm_up(model, v, L, up):
    h = _matmul(v, model.W.T)
    sigmoid(h, model.hidden_bias(L), h, up)
    return h


def _pretrain(est, X, missing, structure, pathways, rng, state, schedule=None, doubled=True,
              on_trained=None):
    """Greedy layerwise PCD pretraining of every pathway, then of the joint layer.

    Returns the stack: a list of ``(rbm, up, down)`` per edge of ``structure`` (in its order),
    where ``rbm`` is an ``_RBMModel``; the pathway layers are trained on the rows where their
    modality is present, the joint layer on every row (missing pathway tops inferred by
    mean-field, as in MultimodalRBM). ``schedule`` (epochs, learning rate, its parameter's
    name) defaults to MultimodalDBM's ``n_iter_pretrain`` and ``learning_rate_pretrain``.
    ``doubled=False`` trains plain RBMs (``up = down =
    1``, the stack of a deep belief net) instead of the DBM's doubled inputs.
    ``on_trained(name, rbm, batches, n_rows)``, if given, is called after each RBM is
    trained (``batches`` as for :func:`_train_rbm`).
    """
    if schedule is None:
        schedule = (est.n_iter_pretrain, est.learning_rate_pretrain, "learning_rate_pretrain")
    factor = 2.0 if doubled else 1.0
    dtype = X.dtype
    s = structure
    n = X.shape[0]
    stack = {}
    tops, top_units, top_missing = [], [], []
    for m, (cols, units) in enumerate(zip(s.columns, s.units)):
        rows = np.flatnonzero(~missing[:, m])
        block = None  # dense representation of the current layer's input (None: raw X)
        lower = m
        for depth, width in enumerate(pathways[m], start=1):
            edge = s.up[lower][0]
            upper = s.edges[edge][1]
            is_first = depth == 1
            up = factor
            down = 1.0 if is_first else factor
            F = s.widths[lower]
            rbm = _RBMModel(
                _initial_weights(rng, width, F, dtype),
                np.zeros(width, dtype), np.zeros(F, dtype), np.zeros((1, width), dtype),
                [slice(0, F)], [units if is_first else _BINARY], np.zeros(1, dtype),
            )
            if is_first:
                dense = isinstance(X, np.ndarray) and isinstance(cols, slice)

                def batches(r, cols=cols, rows=rows, dense=dense):
                    if dense:
                        return X[rows[r], cols], None  # the modality's columns only
                    return np.ascontiguousarray(_dense_rows(X, rows[r], dtype)[:, cols]), None
                sample = batches(np.arange(min(rows.size, 10000)))[0]
                source = (X, rows, cols) if dense and X.dtype == dtype else None
            else:
                def batches(r, block=block):
                    return block[r], None
                sample = block
                source = (block, np.arange(rows.size), slice(0, F))
            rbm.c[:] = rbm.units[0].init_bias(sample.mean(axis=0, dtype=np.float64))
            if rbm.uses_length:
                rbm.mean_length[0] = sample.sum(axis=1, dtype=np.float64).mean()
            name = f"{s.names[lower]}-{s.names[upper]}"
            _train_rbm(rbm, batches, rows.size, up, down, est, rng, state, name, schedule,
                       source)
            if on_trained is not None:
                on_trained(name, rbm, batches, rows.size)
            stack[edge] = (rbm, up, down)
            # upward representation for the next layer
            new_block = np.empty((rows.size, width), dtype)
            for chunk in gen_batches(rows.size, 2048):
                v, _ = batches(np.arange(rows.size)[chunk])
                new_block[chunk] = _rbm_up(rbm, v, rbm.lengths(v), up)
            block, lower = new_block, upper
        if block is None:
            top_units.append(units)
        else:
            top_units.append(_BINARY)
        tops.append((rows, block, cols))
        top_missing.append(missing[:, m])
    # the joint layer over the pathway tops
    widths = [s.widths[t] for t in s.pathway_tops]
    starts = np.cumsum([0] + widths)
    Fj = int(starts[-1])
    joint = np.zeros((n, Fj), dtype)
    for m, (rows, block, cols) in enumerate(tops):
        if block is None:
            joint[rows, starts[m]:starts[m + 1]] = _dense_rows(X, rows, dtype)[:, cols]
        else:
            joint[rows, starts[m]:starts[m + 1]] = block
    jmissing = np.column_stack(top_missing)
    M = s.n_modalities
    rbm = _RBMModel(
        _initial_weights(rng, s.widths[s.top], Fj, dtype),
        np.zeros(s.widths[s.top], dtype), np.zeros(Fj, dtype),
        np.zeros((M, s.widths[s.top]), dtype),
        [slice(starts[m], starts[m + 1]) for m in range(M)], top_units, np.zeros(M, dtype),
    )
    for m, (rows, block, _) in enumerate(tops):
        if block is None:
            block = joint[rows, starts[m]:starts[m + 1]]
        rbm.c[starts[m]:starts[m + 1]] = top_units[m].init_bias(
            block.mean(axis=0, dtype=np.float64))
        if top_units[m].has_length:
            rbm.mean_length[m] = block.sum(axis=1, dtype=np.float64).mean()
    down = factor if pathways[0] else 1.0  # doubled when the pathway tops are hidden layers

    def joint_batches(r):
        return joint[r], jmissing[r]  # a copy: mean-field fills missing blocks in place

    source = None if jmissing.any() else (joint, np.arange(n), slice(0, Fj))
    _train_rbm(rbm, joint_batches, n, 1.0, down, est, rng, state, "joint", schedule, source)
    if on_trained is not None:
        on_trained("joint", rbm, joint_batches, n)
    for m, t in enumerate(s.pathway_tops):
        sub = _RBMModel(rbm.W[:, starts[m]:starts[m + 1]], rbm.b,
                        rbm.c[starts[m]:starts[m + 1]], rbm.length_bias[m:m + 1],
                        [slice(0, widths[m])], [top_units[m]], rbm.mean_length[m:m + 1])
        stack[s.up[t][-1]] = (sub, 1.0, down)
    return [stack[e] for e in range(len(s.edges))]


def _statistics_buffers(model, workspace):
    """The weight statistics' buffers of joint training, kept in ``workspace`` from batch to
    batch (fresh weight-sized arrays every batch cost page faults: at the sizes of seed 000,
    float64, about 90 ms a batch instead of 65 ms), and the Gibbs sweep's."""
    if workspace.get("key") != (model.dtype, len(model.W)):
        workspace.clear()
        workspace["key"] = (model.dtype, len(model.W))
        workspace["pos"] = [np.empty_like(w) for w in model.W]
        workspace["neg"] = [np.empty_like(w) for w in model.W]
        workspace["gibbs"] = {}


def _check_sample_args(n_steps, doc_length):
    """The arguments of ``sample``: positive integers (``doc_length`` may be None)."""
    if not isinstance(n_steps, Integral) or n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}.")
    if doc_length is not None and (not isinstance(doc_length, Integral) or doc_length < 1):
        raise ValueError(f"doc_length must be a positive integer, got {doc_length!r}.")


def _layer_names(structure, modality_names):
    """Public layer names: the modalities', ``{modality}_h{depth}`` and ``top``."""
    s = structure
    return list(modality_names) + [
        "top" if i == s.top else f"{modality_names[int(s.names[i][1:].split('_')[0])]}_h"
        + s.names[i].split("_")[1] for i in s.hidden
    ]


def _dbm_from_stack(structure, stack, dtype):
    """DBM parameters from the pretrained stack: the RBMs' weights, and for every hidden
    layer between two RBMs the mean of its hidden bias in the lower RBM and its visible bias
    in the upper one (each conditional of the DBM then averages the two RBMs' inputs)."""
    s = structure
    W = [rbm.W.copy() for rbm, _, _ in stack]
    b, c, a = {}, [None] * s.n_modalities, [None] * s.n_modalities
    mean_length = np.zeros(s.n_modalities, dtype)
    for e, (lo, up) in enumerate(s.edges):
        rbm = stack[e][0]
        if lo < s.n_modalities:
            c[lo] = rbm.c[None, :].copy()
            a[lo] = rbm.length_bias[:1].copy()
            mean_length[lo] = rbm.mean_length[0]
        b[up] = rbm.b[None, :].copy()
    for e, (lo, up) in enumerate(s.edges):
        if lo >= s.n_modalities:
            b[lo] = 0.5 * (b[lo] + stack[e][0].c[None, :])
    return _DBMModel(s, W, b, c, a, mean_length)


# -- the estimator ---------------------------------------------------------------------------


class _PathwaysMixin:
    """What the estimators with modality pathways under a joint top layer share (the DBM and
    the DBN): the layer structure, the views of the fitted weights, the output width and
    ``top_words``. ``_bipartite`` says whether every pathway needs a depth of one parity."""

    _bipartite = True

    def _structure(self):
        pathways = _pathways(self.pathways, len(self.modalities_))
        return _Structure([c for _, c in self.modalities_],
                          [VISIBLE_UNITS[u] for u in self.visible_units_], pathways,
                          self.n_components, bipartite=self._bipartite), pathways

    def _check_every_modality_seen(self, missing):
        for m, (name, _) in enumerate(self.modalities_):
            if missing[:, m].all():
                raise ValueError(
                    f"Modality {name!r} is missing in every training row; there is nothing to "
                    "learn it from."
                )

    @property
    def _n_features_out(self):
        if self.output == "top":
            return self.n_components
        s, _ = self._structure()
        return sum(s.widths[i] for i in s.hidden)

    @property
    def components_(self):
        """ndarray: the weights into the top layer from every pathway's last layer, side by
        side (the blocks of ``coefs_``), ``(n_components, n_top_inputs)``."""
        check_is_fitted(self, "coefs_")
        s, _ = self._structure()
        return np.hstack([self.coefs_[s.up[t][-1]] for t in s.pathway_tops])

    @property
    def modality_weights_(self):
        """dict of str to ndarray: each modality's first-layer weights."""
        check_is_fitted(self)
        s, _ = self._structure()
        return {name: self.coefs_[s.up[m][0]] for m, (name, _) in enumerate(self.modalities_)}

    def top_words(self, X, k=10, modality=-1):
        """The ``k`` columns of a modality with the highest expected value, per row.

        For a Replicated Softmax text modality missing in a row these are the most probable
        words given the other modalities (their expected counts under :meth:`impute`); for a
        present one, the row's own most frequent words.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data; the modality is usually missing (NaN).
        k : int, default=10
            Number of columns returned per row.
        modality : int or str, default=-1
            The modality (index or name).

        Returns
        -------
        columns : ndarray of shape (n_samples, k)
            Column indices within the modality's block, most probable first.
        """
        check_is_fitted(self)
        names = [name for name, _ in self.modalities_]
        m = names.index(modality) if isinstance(modality, str) else int(modality)
        cols = self.modalities_[m][1]
        block = self.impute(X)[:, cols]
        k = min(int(k), block.shape[1])
        top = np.argpartition(-block, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(block, top, axis=1), axis=1, kind="stable")
        return np.take_along_axis(top, order, axis=1)


class MultimodalDBM(_PathwaysMixin, _BaseMultimodalRBM):
    """Multimodal deep Boltzmann machine (Srivastava & Salakhutdinov 2012; seed 000).

    Each modality has a pathway of hidden layers (``pathways``), and a joint top layer of
    ``n_components`` binary units is connected to the last layer of every pathway. Visible
    unit types are chosen per modality as in :class:`MultimodalRBM` (Gaussian image features,
    Replicated Softmax word counts, binary pixels). With all layers ``x``::

        E(x) = - sum_edges x_upper^T W_e x_lower - sum_l b_l^T h_l - sum_m D_m a_m^T h_m1
               + sum_m U_m(v_m; c_m)

    Training has two stages (seed 000):

    1. greedy layerwise pretraining of each pathway's stack of RBMs and of the joint RBM
       with PCD, ``n_iter_pretrain`` epochs per layer at ``learning_rate_pretrain``, with
       doubled inputs for the units that in the DBM also receive input from the other side
       (Salakhutdinov & Hinton 2009); the DBM starts from the stacked weights;
    2. ``n_iter`` epochs of joint training: the data-dependent statistics by mean-field
       (the fixed-point equations iterated to ``mean_field_tol`` or ``n_mean_field`` sweeps),
       the model statistics from ``n_chains`` persistent Gibbs chains (independent of the
       batch size; stochastic approximation), with the learning rate
       ``learning_rate / (1 + learning_rate_decay * t)`` in epoch ``t``, ten times smaller
       than the pretraining rate by default (see ``learning_rate_pretrain``).

    :meth:`transform` returns the top layer's mean-field posterior given whichever modalities
    a row has, the missing ones inferred jointly in the same mean-field loop; :meth:`impute`
    and :meth:`sample` fill missing modalities; :meth:`score_samples` is a variational lower
    bound of ``log p(v)`` with ``log Z`` estimated by annealed importance sampling.

    Read more in the :ref:`User Guide <data_model>`.

    Parameters
    ----------
    n_components : int, default=256
        Number of units of the joint top layer (the width of the representation).
    pathways : tuple of int, or list of tuples of int, default=(256, 256)
        Widths of the hidden layers of each modality's pathway, bottom-up: one tuple for
        every modality, or one tuple per modality. All pathways need a number of layers of
        the same parity (the model must be bipartite).
    modalities : None, list of int or list of (str, columns) tuples, default=None
        Which columns form which modality (see :class:`MultimodalRBM`).
    visible_units : {"gaussian", "binary", "replicated_softmax"} or list of str, \
            default="gaussian"
        Unit type of every modality, or one per modality.
    n_chains : int, default=100
        Number of persistent chains, in pretraining and in joint training.
    k : int, default=1
        Gibbs sweeps of the persistent chains per update.
    learning_rate : float, default=0.005
        Step size of the joint-training updates (gradients are means over the batch and
        over the chains).
    learning_rate_pretrain : float, default=0.05
        Step size of the layerwise pretraining. Joint training needs a much smaller step
        than pretraining: at the pretraining rate the stochastic approximation steadily
        shrinks the joint layer's weights until its posterior no longer depends on the
        data (the top layer falls out of use and a missing modality is inferred as the
        same prior guess for every row); a rate ten times smaller keeps it in use and
        improves the cross-modal inference of the pretrained stack.
    learning_rate_decay : float, default=0.1
        Epoch ``t`` of joint training (counted from 0 over all calls of :meth:`fit` with
        ``warm_start`` and :meth:`partial_fit`) uses ``learning_rate / (1 +
        learning_rate_decay * t)``; pretraining uses ``learning_rate_pretrain``.
    batch_size : int, default=32
        Rows per mini-batch.
    n_iter_pretrain : int, default=10
        Epochs of PCD per RBM of the stack (0 skips pretraining: small random weights).
    n_iter : int, default=10
        Epochs of joint training by :meth:`fit` (0: the pretrained stack only).
    momentum : float, default=0.5
        Momentum of the parameter updates.
    weight_decay : float, default=1e-4
        L2 penalty on the weights.
    resample_binary : bool, default=False
        If True, binary modalities' values (probabilities such as grey levels) are redrawn
        as 0/1 samples in every mini-batch of joint training.
    n_mean_field : int, default=20
        Cap on the mean-field sweeps.
    mean_field_tol : float, default=1e-4
        A row's mean-field stops when none of its hidden probabilities (nor its missing
        values) moves by more than this in a sweep; rows converge independently, so a
        row's result does not depend on the batch it is in.
    output : {"top", "all"}, default="top"
        What :meth:`transform` returns: the top layer, or every hidden layer side by side
        (each pathway's layers bottom-up, modality by modality, then the top layer).
    n_ais_runs : int, default=100
        AIS runs used by :meth:`score_samples`.
    n_ais_betas : int, default=14500
        Intermediate distributions of AIS (spaced as Salakhutdinov & Murray 2008).
    warm_start : bool, default=False
        If True, :meth:`fit` continues joint training from the previous solution.
    verbose : int, default=0
        If positive, print a progress line per epoch.
    random_state : int, RandomState instance or None, default=None
        Seed of initialisation, shuffling and sampling.

    Attributes
    ----------
    layer_names_ : list of str
        Names of the layers: ``v0..`` visible (one per modality), ``h{m}_{l}`` the hidden
        layers of pathway ``m``, ``top``.
    edges_ : list of (str, str)
        The connected layer pairs (lower, upper), in the order of ``coefs_``.
    coefs_ : list of ndarray
        Weights of each edge, of shape ``(width_upper, width_lower)``.
    intercepts_hidden_ : list of ndarray
        Biases of the hidden layers, in the order of ``layer_names_`` (hidden ones).
    intercept_visible_ : ndarray of shape (n_features,)
        Visible biases, in X's column order.
    hidden_length_bias_ : list of ndarray
        Per modality, the length-scaled bias of the layer above it (zeros unless
        Replicated Softmax).
    components_ : ndarray of shape (n_components, n_top_inputs)
        The weights into the top layer from every pathway's last layer, side by side.
    mean_length_ : ndarray of shape (n_modalities,)
        Mean document length of each Replicated Softmax modality (0 for the others).
    modalities_ : list of (str, slice or ndarray)
        The resolved modality specification.
    visible_units_ : list of str
        Unit type of each modality.
    n_iter_ : int
        Epochs of joint training done.
    reconstruction_error_curve_ : list of float
        Per joint-training epoch, the mean squared error of the mean-field reconstruction of
        up to 256 training rows.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    MultimodalRBM : One joint hidden layer.
    skmultimodal.ModalityImputer : Fill missing modalities for any downstream model.

    Notes
    -----
    Seed 000's energy of the Replicated Softmax model is garbled; the standard form of
    Salakhutdinov & Hinton (2009) is used (see ``skmultimodal.boltzmann._units``).

    Three choices keep the top layer in use, without which a missing modality is inferred
    as the same prior guess for every row (found on eight-word tag documents): the RBMs of
    the stack start from ``N(0, 1 / (n_upper + n_lower))`` weights rather than the
    customary ``N(0, 0.01^2)``, which left the text layer and the joint layer above it in a
    plateau for tens of epochs; joint training runs at a tenth of the pretraining rate; and
    the step of an RBM with Gaussian visible units is capped at ``2 (1 + momentum) /
    n_hidden``, the stability limit of its quadratic term, so that wide Gaussian layers
    can be pretrained at the rate the other layers need. float32 input is the fast path
    (every array follows the input's dtype).

    References
    ----------
    Srivastava, N. and Salakhutdinov, R. Multimodal learning with deep Boltzmann machines.
    NIPS 2012.

    Salakhutdinov, R. and Hinton, G. Deep Boltzmann machines. AISTATS 2009.

    Salakhutdinov, R. and Murray, I. On the quantitative analysis of deep belief networks.
    ICML 2008.

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal import MultimodalDBM
    >>> from skmultimodal.datasets import load_digits_halves
    >>> X, y = load_digits_halves(return_X_y=True)
    >>> dbm = MultimodalDBM(n_components=32, pathways=(32,), visible_units="binary",
    ...                     learning_rate=0.05, n_iter_pretrain=3, n_iter=2,
    ...                     random_state=0).fit(X)
    >>> X_left_only = X.copy()
    >>> X_left_only[:, 32:] = np.nan  # the right halves are missing
    >>> dbm.transform(X_left_only).shape
    (1797, 32)
    >>> dbm.impute(X_left_only[:2]).shape
    (2, 64)
    """

    _parameter_constraints = {
        **_BaseMultimodalRBM._parameter_constraints,
        "pathways": [list, tuple],
        "n_chains": [Interval(Integral, 1, None, closed="left")],
        "k": [Interval(Integral, 1, None, closed="left")],
        "n_iter_pretrain": [Interval(Integral, 0, None, closed="left")],
        "learning_rate_pretrain": [Interval(Real, 0, None, closed="neither")],
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "output": [StrOptions({"top", "all"})],
        "n_ais_runs": [Interval(Integral, 2, None, closed="left")],
        "n_ais_betas": [Interval(Integral, 3, None, closed="left")],
    }

    def __init__(
        self,
        n_components=256,
        *,
        pathways=(256, 256),
        modalities=None,
        visible_units="gaussian",
        n_chains=100,
        k=1,
        learning_rate=0.005,
        learning_rate_pretrain=0.05,
        learning_rate_decay=0.1,
        batch_size=32,
        n_iter_pretrain=10,
        n_iter=10,
        momentum=0.5,
        weight_decay=1e-4,
        resample_binary=False,
        n_mean_field=20,
        mean_field_tol=1e-4,
        output="top",
        n_ais_runs=100,
        n_ais_betas=14500,
        warm_start=False,
        verbose=0,
        random_state=None,
    ):
        self.n_components = n_components
        self.pathways = pathways
        self.modalities = modalities
        self.visible_units = visible_units
        self.n_chains = n_chains
        self.k = k
        self.learning_rate = learning_rate
        self.learning_rate_pretrain = learning_rate_pretrain
        self.learning_rate_decay = learning_rate_decay
        self.batch_size = batch_size
        self.n_iter_pretrain = n_iter_pretrain
        self.n_iter = n_iter
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.resample_binary = resample_binary
        self.n_mean_field = n_mean_field
        self.mean_field_tol = mean_field_tol
        self.output = output
        self.n_ais_runs = n_ais_runs
        self.n_ais_betas = n_ais_betas
        self.warm_start = warm_start
        self.verbose = verbose
        self.random_state = random_state

    # -- structure and fitted state ----------------------------------------------------------

    def _model(self):
        s, _ = self._structure()
        b = {i: bias[None, :] for i, bias in zip(s.hidden, self.intercepts_hidden_)}
        c = [self.intercept_visible_[cols][None, :] for cols in s.columns]
        a = [bias[None, :] for bias in self.hidden_length_bias_]
        return _DBMModel(s, list(self.coefs_), b, c, a, self.mean_length_)

    def _store(self, model):
        s = model.s
        self.layer_names_ = _layer_names(s, [name for name, _ in self.modalities_])
        self.edges_ = [(self.layer_names_[lo], self.layer_names_[up]) for lo, up in s.edges]
        self.coefs_ = list(model.W)
        self.intercepts_hidden_ = [model.b[i][0] for i in s.hidden]
        c = np.empty(sum(s.widths[: s.n_modalities]), dtype=model.dtype)
        for m, cols in enumerate(s.columns):
            c[cols] = model.c[m][0]
        self.intercept_visible_ = c
        self.hidden_length_bias_ = [a[0] for a in model.a]
        self.mean_length_ = model.mean_length
        self._ais_cache = {}

    # -- initialisation: layerwise pretraining ----------------------------------------------

    def _initial_model(self, X, missing, rng):
        s, pathways = self._structure()
        self._check_every_modality_seen(missing)
        state = new_state(rng)
        with np.errstate(over="ignore", invalid="ignore"):
            stack = _pretrain(self, X, missing, s, pathways, rng, state)
        return _dbm_from_stack(s, stack, X.dtype)

    # -- joint training -----------------------------------------------------------------------

    def _velocity_copy(self, model):
        if self._velocity is not None:
            return [v.copy() for v in self._velocity]
        return [np.zeros(p.shape, p.dtype) for p in model.params()]  # calloc, no pass

    def _chains_copy(self, X, missing, model, rng):
        """Persistent chains: layer states ``x`` and document lengths ``L``.

        New chains start at the mean-field posterior of ``n_chains`` random training rows,
        their hidden layers sampled.
        """
        if self._chains is not None and self._chains["x"][0].shape[0] == self.n_chains:
            return {"x": [x.copy() for x in self._chains["x"]], "L": self._chains["L"].copy()}
        rows = rng.choice(X.shape[0], size=self.n_chains)
        v = _dense_rows(X, rows, model.dtype)
        x, L = model.mean_field_layers(v, missing[rows], self.n_mean_field, self.mean_field_tol)
        model.sample_hidden(x, new_state(rng))
        L = np.round(L)
        return {"x": x, "L": L}

    def _batch_update(self, model, velocity, chains, v, missing, state, workspace, lr):
        """One step of the stochastic approximation procedure (seed 000).

        Positive statistics from the mean-field posterior of the batch, negative ones from
        ``k`` Gibbs sweeps of the persistent chains. The weight statistics go into arrays
        reused from batch to batch (:func:`_statistics_buffers`); the statistics and the
        updates are one compiled call (:func:`dbm_update`).
        """
        x_pos, L_pos = model.mean_field_layers(v, missing, self.n_mean_field,
                                               self.mean_field_tol)
        _statistics_buffers(model, workspace)
        x_neg, L_neg = chains["x"], chains["L"]
        for _ in range(self.k):
            model.gibbs(x_neg, L_neg, state, work=workspace["gibbs"])
        x_pos, x_neg, current = tuple(x_pos), tuple(x_neg), np.zeros(len(x_pos), dtype=np.intp)
        dbm_update(  # the states are in x_pos, x_neg: no spare buffers in use
            tuple(model.params()), tuple(velocity), tuple(workspace["pos"]),
            tuple(workspace["neg"]), x_pos, x_pos, current, x_neg, x_neg, current, L_pos,
            L_neg, model.s.edge_array, model.s.update_layers, *model.s.length_updates,
            self.momentum, lr, self.weight_decay)

    def _compiled_epoch(self, model, velocity, chains, X, missing, order, state, workspace,
                        lr):
        """The full batches of an epoch of joint training in one compiled call
        (:func:`dbm_epoch`, the same steps as :meth:`_batch_update`) if the rows
        are complete, dense and C-ordered with each modality's columns a slice; returns how
        many rows of ``order`` it used (0: every batch goes through :meth:`_batch_update`)."""
        s, bs = model.s, self.batch_size
        if (not isinstance(X, np.ndarray) or X.dtype != model.dtype
                or not X.flags.c_contiguous or X.shape[0] < bs or self.resample_binary
                or not all(isinstance(cols, slice) for cols in s.columns) or missing.any()):
            return 0
        _statistics_buffers(model, workspace)
        if workspace.get("epoch_key") != bs:
            M = s.n_modalities
            x = [np.empty((bs, w), dtype=model.dtype) for w in s.widths]
            workspace["epoch_key"] = bs
            workspace["epoch"] = (
                tuple(x), tuple(np.empty_like(a) if i >= M else a for i, a in enumerate(x)),
                tuple(np.empty_like(a) if i >= M else model.biases[i] for i, a in enumerate(x)),
                np.empty((bs, M), dtype=model.dtype),
                np.array([cols.start for cols in s.columns], dtype=np.intp))
        x, spare, fixed, L, col_start = workspace["epoch"]
        work = workspace["gibbs"]
        if work.get("spare") is None or any(a.shape != b.shape for a, b in
                                            zip(work["spare"], chains["x"])):
            work["spare"] = [np.empty_like(a) for a in chains["x"]]
        chains_x, chains_spare = chains["x"], work["spare"]
        current = np.zeros(len(chains_x), dtype=np.intp)
        done = dbm_epoch(
            X, col_start, order, bs, x, spare, fixed, L, tuple(chains_x), tuple(chains_spare),
            current, chains["L"], tuple(model.W), model.biases, tuple(model.a),
            model.unit_codes, model.mean_length, s.graph, s.top,
            model._sweep_plan((False,) * s.n_modalities),
            model._sweep_plan((True,) * s.n_modalities), self.n_mean_field,
            self.mean_field_tol, self.k, state, tuple(model.params()), tuple(velocity),
            tuple(workspace["pos"]), tuple(workspace["neg"]), s.edge_array, s.update_layers,
            self.momentum, lr, self.weight_decay)
        for i in np.flatnonzero(current):
            chains_x[i], chains_spare[i] = chains_spare[i], chains_x[i]
        return done

    def _step_advice(self, model):
        """No bound to quote: MultimodalRBM's stable step for Gaussian units (from the
        curvature of one RBM) is not derived for joint training."""
        return ""

    def _reconstruction_error(self, model, v, missing):
        """Mean squared error of present values against their mean-field reconstruction."""
        if not v.shape[0]:
            return np.nan
        x, L = model.mean_field_layers(v.copy(), missing, self.n_mean_field,
                                       self.mean_field_tol)
        error, count = 0.0, 0
        for m, cols in enumerate(model.s.columns):
            present = ~missing[:, m]
            recon = model._update(x, m, L)
            diff = (v[present][:, cols] - recon[present]).astype(np.float64)
            error += np.einsum("ij,ij->", diff, diff)
            count += diff.size
        return error / max(count, 1)

    # -- inference ----------------------------------------------------------------------------

    def transform(self, X):
        """Top-layer (or every layer's) mean-field posterior given the present modalities.

        Missing modalities are inferred jointly with the hidden layers in the same
        mean-field loop.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data; missing modalities are whole NaN blocks. Rows need at least one modality.

        Returns
        -------
        H : ndarray of shape (n_samples, n_components) or (n_samples, n_hidden_total)
            Mean-field probabilities of the top layer (``output="top"``), or of every hidden
            layer side by side (``output="all"``: pathways bottom-up, then the top).
        """
        check_is_fitted(self)
        X, missing = self._validate_input(X, reset=False)
        model = self._model()
        layers = [model.s.top] if self.output == "top" else model.s.hidden
        H = np.empty((X.shape[0], self._n_features_out), dtype=model.dtype)
        for chunk, v, miss in self._chunks(X, missing):
            x, _ = model.mean_field_layers(v, miss, self.n_mean_field, self.mean_field_tol)
            H[chunk] = np.hstack([x[i] for i in layers])
        return H

    def sample(self, X, n_steps=100, random_state=None, doc_length=None):
        """Draw missing modalities given the observed ones by block Gibbs sampling.

        The chain starts at the mean-field solution; every sweep samples the odd layers, then
        the even layers, the observed modalities clamped ("generate tags for this image").
        Replicated Softmax blocks are drawn as a multinomial of the document length: the
        mean training length (rounded), or ``doc_length``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data with missing modalities as whole NaN blocks.
        n_steps : int, default=100
            Number of Gibbs sweeps.
        random_state : int, RandomState instance or None, default=None
            Seed of the draws.
        doc_length : int, default=None
            Fixed number of words drawn for a missing Replicated Softmax modality (the
            original code generated text with 100).

        Returns
        -------
        X_sampled : ndarray of shape (n_samples, n_features)
            Dense copy of X whose NaN blocks hold the last Gibbs draw.
        """
        check_is_fitted(self)
        _check_sample_args(n_steps, doc_length)
        X, missing = self._validate_input(X, reset=False)
        model = self._model()
        state = new_state(as_generator(random_state))
        out = np.empty(X.shape, dtype=model.dtype)
        for chunk, v, miss in self._chunks(X, missing):
            x, L = model.mean_field_layers(v, miss, self.n_mean_field, self.mean_field_tol)
            L[miss] = np.round(L[miss]) if doc_length is None else doc_length
            model.sample_hidden(x, state)
            clamp, work = ~miss, {}
            for _ in range(n_steps):
                model.gibbs(x, L, state, clamp=clamp, work=work)
            for m, cols in enumerate(model.s.columns):
                rows = np.flatnonzero(miss[:, m])
                if rows.size:
                    _put_rows(v, rows, cols, x[m][rows])
            out[chunk] = v
        return out

    # -- likelihood ----------------------------------------------------------------------------

    def _complete(self, X, what):
        check_is_fitted(self)
        X, missing = self._validate_input(X, reset=False)
        if missing.any():
            raise ValueError(
                f"{what} needs every modality present; rows "
                f"{np.flatnonzero(missing.any(axis=1))[:10].tolist()} have a missing one."
            )
        return X, missing

    def free_energy(self, X):
        """Variational free energy ``E_q[E(v, h)] - H(q)`` of complete rows.

        ``q`` is the mean-field posterior; the result is an upper bound of the free energy
        ``-log sum_h exp(-E(v, h))`` (exact when q is the true posterior), so
        ``-free_energy(X) - log Z`` is a lower bound of ``log p(v)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Complete data.

        Returns
        -------
        F : ndarray of shape (n_samples,)
            Variational free energies, float64.
        """
        X, missing = self._complete(X, "free_energy")
        model = self._model()
        F = np.empty(X.shape[0], dtype=np.float64)
        for chunk, v, _ in self._chunks(X, missing):
            F[chunk] = model.variational_free_energy(v, self.n_mean_field, self.mean_field_tol)
        return F

    def log_partition(self, X=None, *, lengths=None, n_runs=None, n_betas=None,
                      random_state=None):
        """AIS estimate of ``log Z`` (Salakhutdinov & Hinton 2009).

        The odd layers are summed out analytically and AIS (see
        ``skmultimodal.boltzmann._ais``) runs on the even layers, from a base-rate model
        fitted to the marginals of ``X`` (visible units) and of its mean-field posterior
        (even hidden layers).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), default=None
            Data for the base-rate model; None uses the model's own biases.
        lengths : array-like of shape (n_modalities,) or (n_settings, n_modalities)
            Document lengths of the Replicated Softmax modalities (``Z`` depends on them).
        n_runs, n_betas : int, default=None
            AIS runs and intermediate distributions; default ``n_ais_runs``,
            ``n_ais_betas``.
        random_state : int, Generator or None, default=None
            Seed of the runs; default the estimator's ``random_state``.

        Returns
        -------
        result : AISResult
            ``log_z`` with its spread (``log_z_low``, ``log_z_high``) and the log-weights.
        """
        check_is_fitted(self)
        model = self._model()
        rbm, even = model.as_rbm()
        if X is None:
            base = rbm.c.astype(np.float64)
        else:
            X, missing = self._validate_input(X, reset=False)
            rows = np.flatnonzero(~missing.any(axis=1))[:2000]
            v = _dense_rows(X, rows, model.dtype)
            x, _ = model.mean_field_layers(v, missing[rows], self.n_mean_field,
                                           self.mean_field_tol)
            base = base_rate_bias(rbm, np.hstack([x[i] for i in even]))
        if lengths is not None:
            lengths = np.asarray(lengths, dtype=np.float64)
            pad = np.zeros(lengths.shape[:-1] + (len(even) - model.s.n_modalities,))
            lengths = np.concatenate([lengths, pad], axis=-1)
        return ais_log_partition(
            rbm, base, betas=self.n_ais_betas if n_betas is None else n_betas,
            n_runs=self.n_ais_runs if n_runs is None else n_runs, lengths=lengths,
            random_state=self.random_state if random_state is None else random_state,
        )

    def score_samples(self, X):
        """Variational lower bound of ``log p(v)`` per complete row, with AIS ``log Z``.

        ``log p(v) >= -F_q(v) - log Z`` (see :meth:`free_energy`), plus the log multinomial
        coefficient of Replicated Softmax counts. ``log Z`` comes from :meth:`log_partition`
        with ``n_ais_runs`` and ``n_ais_betas`` (base-rate model from the estimator's own
        biases, seeded by ``random_state``), computed once per fitted model and document
        length and cached.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Complete data (no missing modality).

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Lower bounds of the log-likelihood (nats), higher is better.
        """
        X, missing = self._complete(X, "score_samples")
        model = self._model()
        scores = np.empty(X.shape[0], dtype=np.float64)
        keys = np.zeros((X.shape[0], model.s.n_modalities))
        for chunk, v, _ in self._chunks(X, missing):
            scores[chunk] = -model.variational_free_energy(v, self.n_mean_field,
                                                           self.mean_field_tol)
            L = model.lengths(v)
            keys[chunk] = np.round(L)
            for m, (cols, units) in enumerate(zip(model.s.columns, model.s.units)):
                if units.has_length:
                    counts = v[:, cols].astype(np.float64)
                    # the log multinomial coefficient (a mean equal to the length zeroes the
                    # rest of the log-likelihood)
                    scores[chunk] += units.log_likelihood(
                        counts, np.repeat(L[:, m:m + 1], counts.shape[1], axis=1), L[:, m]
                    )
        settings, inverse = np.unique(keys, axis=0, return_inverse=True)
        todo = [tuple(s) for s in settings if tuple(s) not in self._ais_cache]
        if todo:
            lengths = np.array(todo) if any(model.uses_length) else None
            result = self.log_partition(lengths=lengths)
            values = np.atleast_1d(result.log_z)
            for key, value in zip(todo, values if lengths is not None else values[:1]):
                self._ais_cache[key] = float(value)
        log_z = np.array([self._ais_cache[tuple(s)] for s in settings])
        return scores - log_z[inverse.reshape(-1)]
