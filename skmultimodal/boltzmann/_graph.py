"""The layer graph of every Boltzmann model of the package, its parameters and inference.

A multimodal Boltzmann machine is a layered undirected graph: modality ``m`` has a pathway of
hidden layers ``v_m - h_m1 - ... - h_mL`` and one joint layer ``h^(top)`` of
``n_components`` units is connected to the last layer of every pathway (Srivastava &
Salakhutdinov 2012). With empty pathways it is the multimodal RBM (Sohn, Shang & Lee 2014,
Eq. 5); each RBM of a deep model's greedy pretraining is one too. The energy sums one
bilinear term per edge, the hidden biases and each modality's own unit term (``_units``)::

    E(v, h) = - sum_edges x_upper^T W_e x_lower - sum_layers b_l^T h_l
              - sum_m D_m a_m^T h_m1 + sum_m U_m(v_m; c_m)

``D_m`` is the document length of a Replicated Softmax modality, whose length-scaled bias
``a_m`` sits on the layer above it. The graph is bipartite: even layers (the visible layers,
every second hidden layer of a pathway) against odd layers, so Gibbs sampling alternates two
blocks, and with the odd layers summed out the model is an RBM over the even layers (used by
annealed importance sampling).

:class:`Structure` holds the layers and edges, :class:`Model` the parameters with the
inference every estimator uses: the mean-field posterior (one compiled routine for inference,
the positive phase of training and the unrolled network of multi-prediction training), block
Gibbs sampling, energies. The compiled loops are in ``_kernels_graph``; a model reaches them as
typed lists of arrays with the graph as integer arrays, so one compiled loop serves every
architecture.

Each edge may scale its input into the upper and into the lower layer (``edge_scale``): the
RBMs of a deep Boltzmann machine's pretraining double the input of a layer that the DBM
connects on both sides (Salakhutdinov & Hinton 2009, Section 3.1), and annealed importance
sampling scales all weights by the inverse temperature.
"""

from numbers import Integral

import numpy as np
from numba.typed import List

from .._random import bernoulli
from ._kernels_graph import gibbs_sweep, mean_field_layers, train_epoch, train_step
from ._units import BINARY_UNITS


def put_rows(v, rows, cols, values):
    """``v[rows, cols] = values`` for a modality's ``cols`` (a slice or an index array)."""
    v[np.ix_(rows, np.arange(v.shape[1])[cols])] = values


def bernoulli_entropy(p):
    """Sum over units of the Bernoulli entropy of probabilities ``p``, per row, float64."""
    p = np.clip(p.astype(np.float64), 1e-12, 1 - 1e-12)
    return -(p * np.log(p) + (1 - p) * np.log1p(-p)).sum(axis=1)


def check_pathways(pathways, n_modalities):
    """One tuple of hidden-layer widths per modality, from one tuple for all or one each."""
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


class Structure:
    """The layers and edges of a multimodal Boltzmann machine (no parameters).

    Layers ``0 .. M-1`` are the modalities' visible layers, then each pathway's hidden layers
    bottom-up, then the joint top layer. ``edges`` are ``(lower, upper)`` layer pairs.
    ``bipartite=False`` (a deep belief net, which never samples the layers in two blocks)
    allows pathways of different parities.
    """

    def __init__(self, columns, units, pathways, n_components, bipartite=True):
        self.columns, self.units = list(columns), list(units)
        M = len(columns)
        self.n_modalities = M
        self.widths = [c.stop - c.start if isinstance(c, slice) else c.size for c in columns]
        self.n_features = sum(self.widths)
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
        self.uses_length = [u.has_length for u in self.units]
        self.codes = np.array([u.code for u in self.units], dtype=np.intp)
        self.arrays = self._graph_arrays()

    @property
    def is_rbm(self):
        """Whether the only hidden layer is the top layer."""
        return self.hidden == [self.top]

    def _graph_arrays(self):
        """The graph as the arrays of :func:`_kernels_graph.mean_field_layers`: the hidden
        layers bottom-up with their edges from below (``ptr``, ``edge``), each edge's lower
        and upper layer, per layer whether a layer lies above it, per edge into the top
        layer the modality of its pathway (-1 for other edges), each modality's pathway top,
        per layer the layer below it and its edge to the layer above (-1 if none), the
        Replicated Softmax modalities and the layers whose bias their lengths scale, the
        top layer."""
        M = self.n_modalities
        order = self.hidden
        ptr = np.cumsum([0] + [len(self.down[i]) for i in order])
        counts = [m for m in range(M) if self.uses_length[m]]
        arrays = (
            order, ptr, [e for i in order for e in self.down[i]],
            [lo for lo, _ in self.edges], [up for _, up in self.edges],
            [bool(self.up[i]) for i in range(len(self.widths))],
            [self.pathway_tops.index(lo) if up == self.top else -1 for lo, up in self.edges],
            self.pathway_tops,
            [self.edges[d[0]][0] if d else -1 for d in self.down],
            [u[-1] if u else -1 for u in self.up],
            counts, [self.length_layer[m] for m in counts], [self.top],
        )
        return tuple(np.array(a, dtype=np.intp) for a in arrays)

    def layer_names(self, modality_names):
        """Public layer names: the modalities', ``{modality}_h{depth}`` and ``top``."""
        return list(modality_names) + [
            "top" if i == self.top else
            f"{modality_names[int(self.names[i][1:].split('_')[0])]}_h"
            + self.names[i].split("_")[1] for i in self.hidden
        ]


class Model:
    """The parameters of a :class:`Structure`, with its inference routines.

    ``W[e]`` is ``(width[upper], width[lower])`` for edge ``e``; ``bias[l]`` the bias of layer
    ``l`` (``(1, width)``; the visible biases ``c_m`` are the first ``M``); ``a[m]`` modality
    ``m``'s length-scaled bias on the layer above it (``(1, width)``, zeros unless Replicated
    Softmax); ``edge_scale[e]`` the factors of edge ``e``'s input into its upper and lower
    layer. The arrays are updated in place by training: a fitted estimator's model is a copy.
    """

    def __init__(self, structure, W, bias, a, mean_length, edge_scale=None):
        self.s = structure
        self.W = [np.ascontiguousarray(w) for w in W]
        self.bias = [np.ascontiguousarray(b).reshape(1, -1) for b in bias]
        self.a = [np.ascontiguousarray(x).reshape(1, -1) for x in a]
        self.mean_length = np.asarray(mean_length, dtype=self.W[0].dtype)
        if edge_scale is None:
            edge_scale = np.ones((len(structure.edges), 2))
        self.edge_scale = np.asarray(edge_scale, dtype=np.float64)
        self._plans = {}
        self._net = None

    def copy(self):
        return Model(self.s, [w.copy() for w in self.W], [b.copy() for b in self.bias],
                     [a.copy() for a in self.a], self.mean_length.copy(),
                     self.edge_scale.copy())

    @property
    def dtype(self):
        return self.W[0].dtype

    def blocks(self):
        """Every parameter block: the weights per edge, the biases per layer, the length
        weights per modality (the layout of velocities and gradients)."""
        return self.W + self.bias + self.a

    def is_finite(self):
        return all(np.isfinite(p).all() for p in self.blocks())

    def net(self):
        """The model as the compiled loops take it (typed lists of the parameter arrays)."""
        if self._net is None:
            self._net = (List(self.W), List(self.bias), List(self.a), self.s.codes,
                         self.mean_length, self.s.arrays, self.edge_scale)
        return self._net

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

    def layer_bias(self, i, L):
        """Bias of layer ``i``: ``(1, width)``, or per row with document lengths."""
        bias = self.bias[i]
        counts = [m for m in range(self.s.n_modalities)
                  if self.s.uses_length[m] and self.s.length_layer[m] == i]
        if not counts:
            return bias
        return bias + L[:, counts] @ np.vstack([self.a[m] for m in counts])

    def layer_input(self, x, i):
        """Total input of layer ``i`` from its neighbours in ``x`` (no bias), a new array."""
        s = self.s
        n = next(a.shape[0] for a in x if a is not None)
        out = np.zeros((n, s.widths[i]), dtype=self.dtype)
        for e in s.down[i]:
            out += self.edge_scale[e, 0] * (x[s.edges[e][0]] @ self.W[e].T)
        for e in s.up[i]:
            out += self.edge_scale[e, 1] * (x[s.edges[e][1]] @ self.W[e])
        return out

    def layer_mean(self, x, i, L):
        """Mean of layer ``i`` given its neighbours in ``x``."""
        pre = self.layer_input(x, i)
        if i >= self.s.n_modalities:  # hidden layers are binary units
            BINARY_UNITS.mean(pre, self.layer_bias(i, L), None, pre)
        else:
            self.s.units[i].mean(pre, self.bias[i], L[:, i], pre)
        return pre

    def split(self, v):
        """The visible blocks of dense rows ``v``, one C-contiguous array per modality."""
        return [np.ascontiguousarray(v[:, cols]) for cols in self.s.columns]

    # -- mean-field inference ----------------------------------------------------------------

    def plan(self, moving, order="odd", visible_only=False):
        """The layers a sweep of :func:`_kernels_graph.mean_field_layers` or
        :func:`_kernels_graph.gibbs_sweep` updates, as the kernels' arrays.

        ``moving`` (a tuple of bools) says which visible layers change (the modalities
        missing in some rows; all of them in Gibbs sampling); ``order`` is ``"odd"`` (the
        odd hidden layers, then the even hidden and the moving visible layers) or
        ``"even"`` (the even layers first: visible, then hidden, as in the Gibbs chain of an
        RBM's contrastive divergence); ``visible_only`` leaves the hidden layers out. Per
        layer: its neighbours whose state changes during
        the sweeps (``ptr``, ``source``, ``edge``, ``transposed``, the edge's ``scale``: the
        other visible layers' input is constant); its units' code, -1 for hidden layers.
        Cached.
        """
        key = (tuple(moving), order, visible_only)
        plan = self._plans.get(key)
        if plan is None:
            s = self.s
            visible = [m for m in range(s.n_modalities) if moving[m]]
            if visible_only:
                layers = visible
            elif order == "odd":
                layers = s.odd + s.even_hidden + visible
            else:
                layers = visible + s.even_hidden + s.odd
            ptr, source, edge, transposed, codes, scale = [0], [], [], [], [], []
            for i in layers:
                for e in s.down[i] + s.up[i]:
                    lo, up = s.edges[e]
                    src = lo if up == i else up
                    if src >= s.n_modalities or moving[src]:
                        source.append(src)
                        edge.append(e)
                        transposed.append(up == i)
                        scale.append(self.edge_scale[e, 0 if up == i else 1])
                ptr.append(len(source))
                codes.append(-1 if i >= s.n_modalities else s.units[i].code)
            plan = self._plans[key] = (
                np.array(layers, dtype=np.intp), np.array(ptr, dtype=np.intp),
                np.array(source, dtype=np.intp), np.array(edge, dtype=np.intp),
                np.array(transposed, dtype=bool), np.array(codes, dtype=np.intp),
                np.array(scale, dtype=np.float64))
        return plan

    def _buffers(self, n, moving):
        """States, double buffers and constant inputs of ``n`` rows."""
        s = self.s
        M = s.n_modalities
        x = [np.empty((n, w), dtype=self.dtype) for w in s.widths]
        spare = [np.empty_like(a) if i >= M or moving[i] else a for i, a in enumerate(x)]
        fixed = [np.empty_like(a) if i >= M or moving[i] else self.bias[i]
                 for i, a in enumerate(x)]
        return x, spare, fixed

    def no_record(self):
        """An empty recording buffer per layer (the default of the compiled mean-field)."""
        return List([np.empty((0, 0, 0), dtype=self.dtype) for _ in self.s.widths])

    def mean_field(self, v, missing, n_iter, tol, record=None, given=None, lengths=None,
                   refresh=True, work=None):
        """Mean-field posterior of every layer given the present modalities.

        The layers start at a recognition pass: bottom-up through the present pathways,
        doubling the input of layers that also receive input from above (the recognition
        pass of the pretrained stack); the top layer takes the present pathways' input scaled
        by ``n_modalities / n_present``, to stand in for the missing ones (as the code of
        Sohn, Shang & Lee (2014) does for the multimodal RBM). Then top-down through each
        missing pathway, every hidden layer's input from above doubled in place of the
        missing input from below, down to the expectation of the missing visible block.
        Starting missing text at zero words instead let the mean-field loop settle, for most
        images, in one image-independent fixed point.

        Then the odd and the even layers (with the missing modalities) are updated in turn,
        each a fixed-point equation ``mu_l = sigmoid(sum of neighbours' inputs + b_l)``
        (Srivastava & Salakhutdinov 2012; Sohn, Shang & Lee 2014, Eq. 8 for one hidden
        layer). A row stops at the first sweep in which none of its probabilities (nor its
        missing values) moves by more than ``tol`` (never if ``tol < 0``), or after
        ``n_iter`` sweeps, so each row's result is independent of the other rows of the
        batch. All of it is one compiled call (:func:`_kernels_graph.mean_field_layers`).
        Missing blocks of ``v`` are filled in place with their expectations given the final
        layers above them.

        ``record`` (a list with an array ``(n_iter + 1, n, width)`` or ``None`` per layer)
        receives the recorded layers' states after the start and after each sweep;
        ``given`` is ``(m, mask)``: modality ``m``, marked missing in every row, keeps its
        values where ``mask`` is True (a partly observed target). ``lengths`` (the document
        lengths, known even where a modality is missing) replaces the mean training length;
        ``refresh=False`` leaves ``v`` and the missing blocks as the last sweep left them.
        ``work``, a dict kept by a caller that calls again with as many rows, keeps the
        buffers (and the returned states, valid until the next such call).

        Returns the list ``x`` of all layers' states (visible blocks, hidden means) and the
        lengths ``L``.
        """
        n = v.shape[0]
        s = self.s
        M = s.n_modalities
        moving = tuple(bool(a) for a in missing.any(axis=0))
        buffers = None if work is None else work.get((n, moving))
        if buffers is None:
            x, spare, fixed = self._buffers(n, moving)
            buffers = (x, spare, fixed, List(x), List(spare), List(fixed))
            if work is not None:
                work[(n, moving)] = buffers
        x, spare, fixed = list(buffers[0]), buffers[1], buffers[2]
        for m, cols in enumerate(s.columns):
            x[m][:] = v[:, cols]
        L = np.empty((n, M), dtype=self.dtype) if lengths is None else lengths
        current = np.zeros(len(x), dtype=np.intp)
        if record is None:
            record = self.no_record() if work is None else \
                work.setdefault("no_record", self.no_record())
        elif not isinstance(record, List):
            record = List([np.empty((0, 0, 0), self.dtype) if r is None else r
                           for r in record])
        given_layer, mask = (-1, np.zeros((0, 0), dtype=bool)) if given is None else given
        mean_field_layers(buffers[3], buffers[4], current, buffers[5], L, self.net(),
                          self.plan(moving), missing, n_iter, tol, record, given_layer, mask,
                          lengths is not None)
        x = [b if k else a for a, b, k in zip(x, spare, current)]
        for m in range(M if refresh else 0):
            if moving[m]:
                rows = np.flatnonzero(missing[:, m])
                mean = self.layer_mean(x, m, L)[rows]  # given the final layers above
                if m == given_layer:
                    mean = np.where(mask[rows], x[m][rows], mean)
                x[m][rows] = mean
                put_rows(v, rows, s.columns[m], mean)
        return x, L

    def transform(self, v, missing, n_iter, tol, layers):
        """The mean-field states of ``layers`` side by side (fills missing blocks of ``v``)."""
        x, _ = self.mean_field(v, missing, n_iter, tol)
        return x[layers[0]] if len(layers) == 1 else np.hstack([x[i] for i in layers])

    def fill(self, v, missing, n_iter, tol):
        """Fill the missing blocks of ``v`` with their mean-field expectations."""
        self.mean_field(v, missing, n_iter, tol)

    def draw(self, v, missing, n_steps, n_iter, tol, state, doc_length=None):
        """Draw the missing blocks of ``v`` by block Gibbs sampling, in place: from the
        mean-field solution with the hidden layers sampled, ``n_steps`` sweeps with the
        observed modalities clamped; count modalities drawn at the mean training length
        (rounded) or ``doc_length``."""
        x, L = self.mean_field(v, missing, n_iter, tol)
        L[missing] = np.round(L[missing]) if doc_length is None else doc_length
        self.sample_hidden(x, state)
        clamp, work = ~missing, {}
        for _ in range(n_steps):
            self.gibbs(x, L, state, clamp=clamp, work=work)
        for m, cols in enumerate(self.s.columns):
            rows = np.flatnonzero(missing[:, m])
            if rows.size:
                put_rows(v, rows, cols, x[m][rows])

    def reconstruction_error(self, v, missing, n_iter, tol):
        """Mean squared error of the present values against their reconstruction from the
        mean-field posterior (each visible layer's mean given the layers above it)."""
        if not v.shape[0]:
            return np.nan
        x, L = self.mean_field(v.copy(), missing, n_iter, tol)
        error, count = 0.0, 0
        for m, cols in enumerate(self.s.columns):
            present = ~missing[:, m]
            recon = self.layer_mean(x, m, L)
            diff = (v[present][:, cols] - recon[present]).astype(np.float64)
            error += np.einsum("ij,ij->", diff, diff)
            count += diff.size
        return error / max(count, 1)

    # -- sampling ----------------------------------------------------------------------------

    def sample_hidden(self, x, state):
        """Replace every hidden layer's probabilities in ``x`` by a Bernoulli draw."""
        for i in self.s.hidden:
            sample = np.empty_like(x[i])
            bernoulli(x[i], state, sample)
            x[i] = sample

    def gibbs(self, x, L, state, clamp=None, work=None, order="odd", plan=None):
        """One sweep of block Gibbs sampling of every layer (or of ``plan``'s), in place.

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
            work["probs"] = List([np.empty((0, a.shape[1]), self.dtype) for a in x])
        current = np.zeros(len(x), dtype=np.intp)
        if plan is None:
            plan = self.plan((True,) * s.n_modalities, order)
        if clamp is None:
            clamp = np.zeros((0, s.n_modalities), dtype=bool)
        gibbs_sweep(List(x), List(spare), current, self.net(), plan, L, state, clamp, True,
                    work["probs"])
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
            bias = np.broadcast_to(self.layer_bias(i, L), x[i].shape)
            E -= np.einsum("ij,ij->i", x[i], bias, dtype=np.float64)
        for m, units in enumerate(s.units):
            E += units.free_energy(x[m], self.bias[m][0])
        return E

    def visible_energy(self, blocks, bias=None):
        """``sum_m U_m(v_m; c_m)`` per row, float64 (the units' own energy terms)."""
        U = np.zeros(blocks[0].shape[0], dtype=np.float64)
        for m, units in enumerate(self.s.units):
            U += units.free_energy(blocks[m], (self.bias[m] if bias is None else bias[m])[0])
        return U

    def hidden_input(self, blocks, L):
        """An RBM's hidden pre-activation ``sum_m W_m v_m + b + sum_m D_m a_m``, a new
        array (a model whose only hidden layer is the top)."""
        x = list(blocks) + [None]
        return self.layer_input(x, self.s.top) + self.layer_bias(self.s.top, L)

    def free_energy(self, v):
        """``F(v) = -log sum_h exp(-E(v, h))`` of an RBM's complete rows, float64."""
        blocks = self.split(v)
        pre = self.hidden_input(blocks, self.lengths(v)).astype(np.float64)
        return self.visible_energy(blocks) - np.logaddexp(0, pre).sum(axis=1)

    def variational_free_energy(self, v, n_iter, tol):
        """``E_q[E(v, h)] - H(q)`` under the mean-field posterior of complete rows: an upper
        bound of the free energy ``-log sum_h exp(-E(v, h))``, equal to it when q is exact."""
        missing = np.zeros((v.shape[0], self.s.n_modalities), dtype=bool)
        x, L = self.mean_field(v.copy(), missing, n_iter, tol)
        F = self.energy(x, L)
        for i in self.s.hidden:
            F -= bernoulli_entropy(x[i])
        return F

    def as_rbm(self):
        """The even layers with the odd ones summed out: a model whose visible layers are
        the modalities and the even hidden layers (as binary units) and whose only hidden
        layer holds the odd layers side by side; edges that do not exist are zero blocks.
        Returns it and the list of the even layers."""
        s = self.s
        even = list(range(s.n_modalities)) + s.even_hidden
        offsets = np.cumsum([0] + [s.widths[i] for i in s.odd])
        pos = {i: slice(offsets[k], offsets[k + 1]) for k, i in enumerate(s.odd)}
        W = [np.zeros((offsets[-1], s.widths[i]), dtype=self.dtype) for i in even]
        for e, (lo, up) in enumerate(s.edges):
            if up in pos:
                W[even.index(lo)][pos[up]] = self.W[e]
            else:
                W[even.index(up)][pos[lo]] = self.W[e].T
        starts = np.cumsum([0] + [s.widths[i] for i in even])
        units = list(s.units) + [BINARY_UNITS] * len(s.even_hidden)
        rbm_structure = Structure([slice(starts[k], starts[k + 1]) for k in range(len(even))],
                                  units, [()] * len(even), int(offsets[-1]))
        top_bias = np.concatenate([self.bias[i][0] for i in s.odd])
        a = [np.zeros(offsets[-1], dtype=self.dtype) for _ in even]
        for m in range(s.n_modalities):
            if s.uses_length[m]:
                a[m][pos[s.length_layer[m]]] = self.a[m][0]
        mean_length = np.concatenate([self.mean_length,
                                      np.zeros(len(s.even_hidden), dtype=self.dtype)])
        bias = [self.bias[i] for i in even] + [top_bias]
        return Model(rbm_structure, W, bias, a, mean_length), even


def init_visible(model, blocks):
    """Each modality's visible bias from its data's column means (the unit type's
    ``init_bias``) and, for counts, its mean document length; ``blocks[m]`` are rows where
    modality ``m`` is present (dense)."""
    for m, (units, block) in enumerate(zip(model.s.units, blocks)):
        model.bias[m][0] = units.init_bias(
            np.asarray(block.mean(axis=0, dtype=np.float64)).ravel())
        if units.has_length:
            model.mean_length[m] = np.asarray(block.sum(axis=1, dtype=np.float64)).mean()


class Trainer:
    """Stochastic approximation of a :class:`Model`'s likelihood gradient (CD-k or PCD-k),
    with the buffers of its batches and chains allocated once.

    The positive phase is the batch's mean-field posterior; the negative one ``k`` sweeps
    of block Gibbs sampling, of persistent chains (``chains``, from :meth:`new_chains` or a
    previous trainer) or, with ``cd``, of chains started at the batch's posterior with its
    hidden layers sampled. ``rao_blackwell`` uses the chains' hidden probabilities rather
    than their samples in the model statistics, as an RBM's contrastive divergence does
    (Hinton 2002); a deep model's joint training uses the samples. One compiled call per
    batch (:func:`_kernels_graph.train_step`) or per epoch of dense rows
    (:func:`_kernels_graph.train_epoch`).
    """

    def __init__(self, model, *, batch_size, k, cd, rao_blackwell, n_iter, tol, momentum,
                 weight_decay, sparsity_target=0.1, sparsity_cost=0.0, chains=None,
                 velocity=None, resample=None):
        self.model, self.batch_size, self.k, self.cd = model, batch_size, k, cd
        self.rao_blackwell = rao_blackwell
        self.n_iter, self.tol, self.momentum = n_iter, tol, momentum
        self.weight_decay = weight_decay
        self.sparsity_target, self.sparsity_cost = sparsity_target, sparsity_cost
        s = model.s
        M = s.n_modalities
        self.resample = np.zeros(M, dtype=bool) if resample is None else resample
        if velocity is None:
            velocity = [np.zeros(p.shape, p.dtype) for p in model.blocks()]
        self.velocity = velocity
        E, Lr = len(model.W), len(model.bias)
        self.optimizer = (
            List(velocity[:E]), List(velocity[E:E + Lr]), List(velocity[E + Lr:]),
            List([np.empty_like(w) for w in model.W]), List([np.empty_like(w) for w in model.W]))
        self.chains = chains
        self._batches = {}
        self.plans = (None, model.plan((True,) * M, "even" if s.is_rbm else "odd"))
        self.no_mask = np.zeros((0, M), dtype=bool)
        self.n_batches = self.n_sweeps = 0  # the positive phases' mean-field sweeps

    def _batch(self, n):
        """The buffers of a batch of ``n`` rows (and CD's chains of as many)."""
        work = self._batches.get(n)
        if work is None:
            model, M = self.model, self.model.s.n_modalities
            x, spare, fixed = model._buffers(n, (True,) * M)
            missing = np.zeros((n, M), dtype=bool)
            batch = (List(x), List(spare), np.zeros(len(x), np.intp), List(fixed),
                     np.empty((n, M), model.dtype), missing, model.no_record(), self.no_mask)
            work = self._batches[n] = {"batch": batch, "x": x}
            if self.cd:
                work["chains"] = self._chain_buffers(
                    [np.empty((n, w), model.dtype) for w in model.s.widths],
                    np.empty((n, M), model.dtype))
        return work

    def _chain_buffers(self, x, L):
        """The compiled loops' view of chains with states ``x`` and lengths ``L``."""
        s, dtype = self.model.s, self.model.dtype
        probs = [np.empty((x[i].shape[0] if self.rao_blackwell and i >= s.n_modalities
                           else 0, w), dtype) for i, w in enumerate(s.widths)]
        return (List(x), List([np.empty_like(a) for a in x]), np.zeros(len(x), np.intp), L,
                List(probs))

    def set_chains(self, x, L):
        """Persistent chains with states ``x`` (every layer, sampled) and lengths ``L``."""
        self.chains = self._chain_buffers(x, L)

    def chain_states(self):
        """The persistent chains' current states and lengths (copies)."""
        cx, cspare, current, L, _ = self.chains
        return [(cspare[i] if current[i] else cx[i]).copy() for i in range(len(cx))], L.copy()

    def negative_states(self, n=None):
        """The chains' states as the last update used them (a hidden layer's probabilities
        where kept) and their lengths; ``n``: the batch size of CD's chains."""
        cx, cspare, current, L, probs = self._batches[n]["chains"] if self.cd else self.chains
        return [probs[i] if probs[i].shape[0] else (cspare[i] if current[i] else cx[i])
                for i in range(len(cx))], L

    def persist(self):
        """What a later call continues from: the velocities and the persistent chains."""
        chains = None if self.cd or self.chains is None else self.chain_states()
        return {"velocity": self.velocity, "chains": chains}

    def settings(self, learning_rate):
        return (self.n_iter, self.tol, self.k, self.cd, self.model.s.n_modalities,
                self.momentum, learning_rate, self.weight_decay, self.sparsity_target,
                self.sparsity_cost)

    def _plans(self, missing_any):
        moving = tuple(bool(a) for a in missing_any)
        return (self.model.plan(moving), self.plans[1])

    def step(self, v, missing, state, learning_rate):
        """One batch: dense rows ``v`` (missing blocks NaN or anything) with their mask."""
        work = self._batch(v.shape[0])
        batch = work["batch"]
        for m, cols in enumerate(self.model.s.columns):
            work["x"][m][:] = v[:, cols]
            if self.resample[m]:
                self.model.s.units[m].resample(work["x"][m], state)
        batch[5][:] = missing
        chains = work["chains"] if self.cd else self.chains
        self.n_sweeps += train_step(batch, chains, self.model.net(),
                                    self._plans(missing.any(axis=0)), self.optimizer,
                                    self.settings(learning_rate), state)
        self.n_batches += 1

    def epoch(self, X, missing, order, state, learning_rate, col_offset=0):
        """The full batches of ``order`` in one compiled call if ``X`` is a C-ordered dense
        array of the model's dtype and every modality's columns a slice (of ``X``'s columns
        from ``col_offset`` on); returns how many rows of ``order`` it used (0 if it cannot
        run)."""
        s = self.model.s
        bs = self.batch_size
        if (not isinstance(X, np.ndarray) or X.dtype != self.model.dtype
                or not X.flags.c_contiguous or order.size < bs
                or not all(isinstance(cols, slice) for cols in s.columns)):
            return 0
        work = self._batch(bs)
        col_start = np.array([cols.start + col_offset for cols in s.columns], dtype=np.intp)
        chains = work["chains"] if self.cd else self.chains
        done, sweeps = train_epoch(X, col_start, missing, order, self.resample, work["batch"],
                                   chains, self.model.net(), self._plans(missing.any(axis=0)),
                                   self.optimizer, self.settings(learning_rate), state)
        self.n_batches += done // bs
        self.n_sweeps += sweeps
        return done
