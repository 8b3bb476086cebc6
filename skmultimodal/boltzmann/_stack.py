"""Greedy layerwise pretraining of a multimodal layer stack: each modality's pathway of RBMs
bottom-up, then the joint RBM over the pathways' last layers.

The stack is the initialisation of a multimodal deep Boltzmann machine (Srivastava &
Salakhutdinov 2012; Salakhutdinov & Hinton 2009) and the whole of a multimodal deep belief
net. Every RBM is a :class:`_graph.Model` with one hidden layer, trained by persistent
contrastive divergence through the one trainer of the package (:class:`_graph.Trainer`).

For a DBM the RBMs have doubled inputs: in the DBM a layer between two others gets input from
both; in its RBM of the stack it has one neighbour only. Salakhutdinov & Hinton (2009, Section
3.1) make up for it by doubling: the hidden units of the bottom RBM of a pathway see ``2 W v``,
the visible units of the top RBM ``2 W^T h``, in the data and in the negative phase alike (the
edge scales of :class:`_graph.Model`). As in their code, the doubled input is twice one drawn
state. (Summing two independently drawn copies instead, the exact RBM with tied copies, gave a
lower classification MAP and tag precision on both seeds of ``benchmarks/dbm_retrieval.py``'s
data that we tried.)
"""

import numpy as np
from sklearn.utils import gen_batches

from .._random import bernoulli
from .._training import AUTO_MAX_UPDATES, AUTO_TOL, EpochLoop, auto_patience
from ._base import dense_rows, monitor_rows
from ._graph import Model, Structure, Trainer, init_visible
from ._units import BINARY_UNITS


def initial_weights(rng, n_upper, n_lower, dtype):
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


def _rbm(widths, units, n_hidden, rng, dtype, up, down):
    """An RBM of the stack over visible groups of ``widths`` (one weight draw for all)."""
    starts = np.cumsum([0] + list(widths))
    s = Structure([slice(starts[j], starts[j + 1]) for j in range(len(widths))], units,
                  [()] * len(widths), n_hidden)
    W = initial_weights(rng, n_hidden, int(starts[-1]), dtype)
    zeros = np.zeros(n_hidden, dtype)
    return Model(s, [W[:, c] for c in s.columns], [np.zeros(w, dtype) for w in widths] + [zeros],
                 [zeros] * len(widths), np.zeros(len(widths), dtype),
                 edge_scale=np.tile([up, down], (len(widths), 1)))


def train_rbm(rbm, data, rows, missing, cols, est, rng, state, name, schedule):
    """PCD training of one RBM of the stack on ``data[rows][:, cols]`` (dense or sparse;
    ``cols`` a slice or an index array; ``missing``: per data row and visible group, or
    None).

    ``schedule`` is ``(epochs, name of the epochs' parameter, learning_rate, name of the
    learning rate's parameter)``;
    ``epochs="auto"`` trains until the monitored reconstruction error has not improved by
    0.1% for ``est.n_iter_no_change`` epochs and at least 1,000 updates (at most 20,000
    updates), with a ConvergenceWarning naming the epochs parameter at the cap. The
    step is capped at the visible units' stable step (:meth:`_units.VisibleUnits.
    max_stable_learning_rate`: Gaussian units diverged at 0.05 within 4-6 epochs on 100
    standardised features with 128 and 256 hidden units without it). The chains start at a
    draw of the hidden units given random rows of a batch. An epoch over dense C-ordered
    data is one compiled call; sparse data go batch by batch. The epochs run under the
    trainer's divergence checks (the RBM's reconstruction error of up to 256 of its rows).
    Returns the number of epochs run.
    """
    s, dtype = rbm.s, rbm.dtype
    K = s.widths[s.top]
    n_groups = s.n_modalities
    epochs, epochs_name, rate, rate_name = schedule
    lr = min([rate] + [u.max_stable_learning_rate(K, est.momentum) for u in s.units])
    if missing is None:
        missing = np.zeros((data.shape[0], n_groups), dtype=bool)
    trainer = Trainer(rbm, batch_size=est.batch_size, k=est.k, cd=False, rao_blackwell=True,
                      n_iter=est.n_mean_field, tol=est.mean_field_tol, momentum=est.momentum,
                      weight_decay=est.weight_decay)

    def batch(r):  # one batch densified at a time
        return np.ascontiguousarray(dense_rows(data, r, dtype)[:, cols]), missing[r]

    monitor_v, monitor_missing = batch(rows[monitor_rows(rows.size)])

    def monitored():
        return rbm.reconstruction_error(monitor_v, monitor_missing, est.n_mean_field,
                                        est.mean_field_tol)

    def epoch():
        order = rows[rng.permutation(rows.size)]
        if trainer.chains is None:
            v, miss = batch(order[:est.batch_size])
            x, L = rbm.mean_field(v, miss, est.n_mean_field, est.mean_field_tol)
            pick = rng.choice(v.shape[0], size=est.n_chains)
            h = np.empty((est.n_chains, K), dtype)
            bernoulli(np.ascontiguousarray(x[s.top][pick]), state, h)
            trainer.set_chains([np.zeros((est.n_chains, w), dtype) for w in s.widths[:-1]]
                               + [h], L[pick].copy())
        done = trainer.epoch(data, missing, order, state, lr, cols.start) \
            if isinstance(cols, slice) else 0
        for b in gen_batches(order.size - done, est.batch_size):
            v, miss = batch(order[done:][b])
            trainer.step(v, miss, state, lr)
        return monitored()

    if epochs:
        auto = epochs == "auto"
        n_batches = -(-rows.size // est.batch_size)
        loop = EpochLoop(f"{type(est).__name__} (pretraining the RBM {name})",
                         max_epochs=None if auto else epochs,
                         max_updates=AUTO_MAX_UPDATES if auto else None,
                         check_convergence=auto, tol=AUTO_TOL, relative_tol=True,
                         n_iter_no_change=auto_patience(n_batches, est.n_iter_no_change),
                         cap_name=f"pass an integer {epochs_name} (epochs) to train longer",
                         rate=(rate_name, rate), advice=" (or the momentum)",
                         scale_hint=est._scale_hint, monitor="reconstruction error",
                         verbose=est.verbose)
        loop.run(epoch, params=lambda: {f"W{e}": w for e, w in enumerate(rbm.W)},
                 updates_per_epoch=n_batches, initial_value=monitored)
        return loop.epochs_run
    return 0


def _up(rbm, data, rows, cols):
    """The hidden probabilities of ``data[rows]`` under an RBM of the stack, in chunks."""
    s = rbm.s
    out = np.empty((rows.size, s.widths[s.top]), dtype=rbm.dtype)
    for chunk in gen_batches(rows.size, 2048):
        v = np.ascontiguousarray(dense_rows(data, rows[chunk], rbm.dtype)[:, cols])
        missing = np.zeros((v.shape[0], 1), dtype=bool)
        out[chunk] = rbm.transform(v, missing, 0, 0.0, [s.top])
    return out


def pretrain(est, X, missing, structure, pathways, rng, state, schedule, doubled=True,
             on_trained=None, train_joint=None):
    """Greedy layerwise PCD pretraining of every pathway, then of the joint layer.

    Returns the stack: per edge of ``structure`` (in its order) ``(rbm, j)``, the RBM that
    trained it and the visible group of that RBM the edge starts from (0 for a pathway's
    RBMs; the modality for the joint RBM). The pathway layers are trained on the rows where
    their modality is present, the joint layer on every row (missing pathway tops inferred by
    mean-field, as in :class:`MultimodalRBM`). ``schedule`` is as :func:`train_rbm`'s.
    ``doubled=False`` trains plain RBMs (the stack of a deep belief
    net) instead of the DBM's doubled inputs. ``on_trained(name, rbm, data, rows, missing,
    cols, n_epochs)``, if given, is called after each RBM is trained. ``train_joint(joint,
    missing, rbm)``, if given, trains the joint RBM ``rbm`` (initialised, over the pathway
    tops ``joint``, missing rows of a pathway top zero) in place of PCD and returns the
    trained RBM and its epochs.
    """
    factor = 2.0 if doubled else 1.0
    dtype = X.dtype
    s = structure
    n = X.shape[0]
    stack = {}
    tops, top_units = [], []
    for m, (cols, units) in enumerate(zip(s.columns, s.units)):
        rows = np.flatnonzero(~missing[:, m])
        lower = m
        data, data_rows, data_cols = X, rows, cols  # the first RBM reads X batch by batch
        for depth, width in enumerate(pathways[m], start=1):
            edge = s.up[lower][0]
            upper = s.edges[edge][1]
            first = depth == 1
            rbm = _rbm([s.widths[lower]], [units if first else BINARY_UNITS], width, rng, dtype,
                       factor, 1.0 if first else factor)
            init_visible(rbm, [dense_rows(data, data_rows[:10000], dtype)[:, data_cols]])
            name = f"{s.names[lower]}-{s.names[upper]}"
            epochs = train_rbm(rbm, data, data_rows, None, data_cols, est, rng, state, name,
                               schedule)
            if on_trained is not None:
                on_trained(name, rbm, data, data_rows, None, data_cols, epochs)
            stack[edge] = (rbm, 0)
            data = _up(rbm, data, data_rows, data_cols)
            data_rows, data_cols, lower = np.arange(rows.size), slice(0, width), upper
        tops.append((rows, data if pathways[m] else None, cols))
        top_units.append(units if not pathways[m] else BINARY_UNITS)
    # the joint layer over the pathway tops
    widths = [s.widths[t] for t in s.pathway_tops]
    starts = np.cumsum([0] + widths)
    joint = np.zeros((n, int(starts[-1])), dtype)
    for m, (rows, block, cols) in enumerate(tops):
        if block is None:
            for chunk in gen_batches(rows.size, 2048):
                joint[rows[chunk], starts[m]:starts[m + 1]] = \
                    dense_rows(X, rows[chunk], dtype)[:, cols]
        else:
            joint[rows, starts[m]:starts[m + 1]] = block
    down = factor if pathways[0] else 1.0  # doubled when the pathway tops are hidden layers
    rbm = _rbm(widths, top_units, s.widths[s.top], rng, dtype, 1.0, down)
    init_visible(rbm, [joint[rows, starts[m]:starts[m + 1]]
                       for m, (rows, _, _) in enumerate(tops)])
    all_rows = np.arange(n)
    if train_joint is None:
        epochs = train_rbm(rbm, joint, all_rows, missing, slice(0, joint.shape[1]), est, rng,
                           state, "joint", schedule)
    else:
        rbm, epochs = train_joint(joint, missing, rbm)
    if on_trained is not None:
        on_trained("joint", rbm, joint, all_rows, missing, slice(0, joint.shape[1]), epochs)
    for m, t in enumerate(s.pathway_tops):
        stack[s.up[t][-1]] = (rbm, m)
    return [stack[e] for e in range(len(s.edges))]


def stack_attributes(structure, stack):
    """The fitted attributes of a greedily trained stack (a deep belief net's parameters):
    per edge its RBM's weights (``coefs_``), per hidden layer its bias in the RBM below it
    (``intercepts_hidden_``, recognition) and, below the top, in the RBM above it
    (``intercepts_generative_``), the visible biases in X's column order, each modality's
    length weights and mean document length."""
    s = structure
    M = s.n_modalities

    def visible(layer):
        rbm, j = stack[s.up[layer][-1]]
        return rbm, j

    c = np.empty(s.n_features, dtype=stack[0][0].dtype)
    for m, cols in enumerate(s.columns):
        rbm, j = visible(m)
        c[cols] = rbm.bias[j][0]
    return {
        "coefs_": [rbm.W[j].copy() for rbm, j in stack],
        "intercepts_hidden_": [stack[s.down[i][0]][0].bias[-1][0].copy() for i in s.hidden],
        "intercepts_generative_": [visible(i)[0].bias[visible(i)[1]][0].copy()
                                   for i in s.hidden if i != s.top],
        "intercept_visible_": c,
        "hidden_length_bias_": [visible(m)[0].a[visible(m)[1]][0].copy() for m in range(M)],
        "mean_length_": np.array([visible(m)[0].mean_length[visible(m)[1]]
                                  for m in range(M)]),
    }
