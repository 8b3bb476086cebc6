"""Multimodal deep belief network (Srivastava & Salakhutdinov 2012).

The same layers as :class:`MultimodalDBM` (a pathway of hidden layers per modality, a joint
top layer over the pathways' last layers), trained by the same greedy layerwise PCD
(``_stack.pretrain``), but read as a deep belief net (Hinton, Osindero & Teh 2006): the
joint RBM between the pathway tops and the top layer is an undirected associative memory,
and every layer below is generated top-down by the visible conditional of its RBM::

    P(h_J, h_1L, ..., h_ML) = exp(sum_m h_J^T T_m h_mL + b_J^T h_J + sum_m c_mL^T h_mL) / Z
    P(h_m,l-1 = 1 | h_ml)   = sigmoid(W_ml^T h_ml + c_m,l-1)                 (l = 2 .. L)
    p(v_m | h_m1)           = the modality's units with mean  units(W_m1^T h_m1 + c_m)

Inference is approximate and bottom-up: ``Q(h_ml = 1 | h_m,l-1) = sigmoid(W_ml h_m,l-1 +
b_ml)``, the hidden conditional of each RBM of the stack. The RBMs are plain RBMs (no
doubled inputs: in a DBN a layer gets its input from one side at a time).
"""

import time
from numbers import Integral

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from .._modalities import reject_second_view
from .._random import new_state
from .._utils import as_generator, keep_state_on_error
from ._base import (
    _BaseJointModel,
    _BaseTrainedBoltzmann,
    _GibbsSamplingMixin,
    dense_rows,
    monitor_rows,
)
from ._dbm import _PathwaysMixin
from ._graph import Model, Structure, put_rows
from ._stack import pretrain, stack_attributes
from ._units import BINARY_UNITS


def _rbm(widths, units, W, hidden_bias, visible_bias, a, mean_length):
    """A fitted RBM of the stack (weights per visible group) as a :class:`_graph.Model`."""
    starts = np.cumsum([0] + list(widths))
    s = Structure([slice(starts[j], starts[j + 1]) for j in range(len(widths))], units,
                  [()] * len(widths), hidden_bias.shape[0])
    return Model(s, W, list(visible_bias) + [hidden_bias], a, mean_length)


class _DBNModel:
    """A fitted multimodal DBN: each modality's pathway of RBMs (bottom-up) and the joint RBM
    over the pathway tops (one visible group per pathway), with inference."""

    def __init__(self, structure, pathways, joint):
        self.s, self.pathways, self.joint = structure, pathways, joint

    @property
    def dtype(self):
        return self.joint.dtype

    def up(self, v, missing):
        """Bottom-up pass: every layer of the present pathways, and the joint RBM's visible
        blocks (the pathway tops, zero where a pathway is missing).

        Returns ``x`` (per layer of the structure: visible blocks, hidden probabilities; rows
        of a missing modality zero; the top None) and the joint RBM's visible blocks.
        """
        s = self.s
        n = v.shape[0]
        x = [np.zeros((n, w), dtype=self.dtype) for w in s.widths[:-1]] + [None]
        for m, rbms in enumerate(self.pathways):
            rows = np.flatnonzero(~missing[:, m])
            h = np.ascontiguousarray(v[rows][:, s.columns[m]])
            x[m][rows] = h
            for rbm, (lo, up) in zip(rbms, self._edges(m)):
                h = rbm.transform(h, np.zeros((h.shape[0], 1), bool), 0, 0.0, [rbm.s.top])
                x[up][rows] = h
        return x, [x[t] for t in s.pathway_tops]

    def _edges(self, m):
        """The pathway edges of modality ``m`` bottom-up, as ``(lower, upper)`` layers."""
        s, lower, out = self.s, m, []
        for _ in self.pathways[m]:
            e = s.up[lower][0]
            out.append(s.edges[e])
            lower = s.edges[e][1]
        return out

    def _joint_posterior(self, tops, missing, n_iter, tol):
        """The joint RBM's mean-field posterior given the present pathway tops (the missing
        ones filled in ``tops`` in place); returns its layers and lengths."""
        J = np.hstack(tops)
        x, L = self.joint.mean_field(J, missing, n_iter, tol)
        for m, cols in enumerate(self.joint.s.columns):
            tops[m][:] = J[:, cols]
        return x, L

    def infer(self, v, missing, n_iter, tol, generate=True):
        """Every layer's state given the present modalities; the top is the joint RBM's
        posterior, the missing pathway tops its mean-field estimates (Sohn, Shang & Lee 2014,
        Eq. 8).

        With ``generate``, each missing pathway below its top gets the top-down means
        ``E[h_l-1 | h_l]`` down to the visible expectation, written into ``v`` in place.
        Returns the list ``x`` of all layers.
        """
        s = self.s
        x, tops = self.up(v, missing)
        joint_x, _ = self._joint_posterior(tops, missing, n_iter, tol)
        x[s.top] = joint_x[-1]
        for m in range(s.n_modalities):
            rows = np.flatnonzero(missing[:, m])
            if not rows.size or not generate:
                continue
            h = x[s.pathway_tops[m]][rows]
            for rbm, (lo, _) in zip(self.pathways[m][::-1], self._edges(m)[::-1]):
                L = np.broadcast_to(rbm.mean_length, (rows.size, 1))
                x[lo][rows] = h = rbm.layer_mean([None, h], 0, L)
            put_rows(v, rows, s.columns[m], h)
        return x

    def transform(self, v, missing, n_iter, tol, layers):
        x = self.infer(v, missing, n_iter, tol, generate=layers != [self.s.top])
        return x[layers[0]] if len(layers) == 1 else np.hstack([x[i] for i in layers])

    def fill(self, v, missing, n_iter, tol):
        self.infer(v, missing, n_iter, tol)

    def draw(self, v, missing, n_steps, n_iter, tol, state, doc_length=None):
        """Missing modalities drawn into ``v`` in place: ``n_steps`` sweeps of block Gibbs
        sampling in the joint RBM from its mean-field solution, the present pathway tops
        clamped at their bottom-up probabilities, then one ancestral pass down each missing
        pathway."""
        s, joint = self.s, self.joint
        _, tops = self.up(v, missing)
        J = np.hstack(tops)
        joint.draw(J, missing, n_steps, n_iter, tol, state, doc_length)
        for m in range(s.n_modalities):
            rows = np.flatnonzero(missing[:, m])
            if not rows.size:
                continue
            h = np.ascontiguousarray(J[rows][:, joint.s.columns[m]])
            for rbm in self.pathways[m][::-1]:
                below = np.empty((rows.size, rbm.s.widths[0]), dtype=self.dtype)
                length = np.full((rows.size, 1), doc_length or np.round(rbm.mean_length[0]),
                                 dtype=self.dtype)
                plan = rbm.plan((True,), visible_only=True)
                x = [below, h]
                rbm.gibbs(x, length, state, plan=plan)
                h = x[0]
            put_rows(v, rows, s.columns[m], h)


class MultimodalDBN(_PathwaysMixin, _GibbsSamplingMixin, _BaseJointModel):
    """Multimodal deep belief network (Srivastava & Salakhutdinov 2012).

    The layers of :class:`MultimodalDBM`: a pathway of binary hidden layers per modality
    (``pathways``; the MIR-Flickr network of Hu, Li & Lu's (2016) MDBN is
    ``[(1024, 1024), (1024, 1024)]`` over
    3857 image and 2000 text features) and a joint top layer of ``n_components`` units over
    the pathways' last layers. Trained greedily, one RBM at a time bottom-up, each by PCD
    for ``n_iter`` epochs on the bottom-up probabilities of the finished RBM below (the
    pathway RBMs on the rows where their modality is present; the joint RBM on every row,
    a missing pathway top inferred by mean-field as in :class:`MultimodalRBM`). This is the
    pretraining of :class:`MultimodalDBM` with plain RBMs instead of doubled inputs. The
    result is a deep belief net: the joint RBM is undirected, the pathways below it are
    directed top-down (with ``T_m`` the joint weights of pathway ``m`` and ``h_m0 = v_m``)::

        P(h_J, h_1L, ..., h_ML) ~ exp(sum_m h_J^T T_m h_mL + b_J^T h_J + sum_m c_mL^T h_mL)
        P(h_m,l-1 = 1 | h_ml)   = sigmoid(W_ml^T h_ml + c_m,l-1),   p(v_m | h_m1) by unit type

    and the hidden conditionals of the stacked RBMs are its recognition model,
    ``Q(h_ml = 1 | h_m,l-1) = sigmoid(W_ml h_m,l-1 + b_ml)`` (Hinton, Osindero & Teh 2006:
    the approximate posterior that greedy training improves a variational bound for).

    Inference, as in Srivastava & Salakhutdinov's multimodal DBN:

    - :meth:`transform`: a deterministic bottom-up pass (probabilities, not samples)
      through each present pathway gives the visible vector of the joint RBM; the
      representation is the joint RBM's posterior ``P(h_J = 1 | h_1L, ..., h_ML)``, exact
      given the pathway tops. A missing modality's pathway top is a missing block of the
      joint RBM's visible vector and is inferred with the top layer by mean-field (Sohn,
      Shang & Lee 2014, Eq. 8; the code of :class:`MultimodalRBM`): the layers below a
      missing pathway top are not needed, because a DBN's top layer depends on them only
      through it.
    - :meth:`impute`: the generative model run down the missing pathway from the inferred
      pathway top, each layer at its mean given the layer above (``E[h_l-1 | h_l]``, the
      means propagated), down to the visible expectation.
    - :meth:`sample`: block Gibbs sampling in the joint RBM with the present pathway tops
      clamped, then one ancestral (sampled) pass down each missing pathway: "generate text
      for this image" as in the paper.

    Read more in the :ref:`User Guide <data_model>`.

    Parameters
    ----------
    n_components : int, default=256
        Number of units of the joint top layer (the width of the representation).
    pathways : tuple of int, or list of tuples of int, default=(256, 256)
        Widths of the hidden layers of each modality's pathway, bottom-up: one tuple for
        every modality, or one tuple per modality. Unlike a DBM, pathways may differ in
        depth (but either all or none have hidden layers; none gives a MultimodalRBM).
    modalities : None, list of int or list of (str, columns) tuples, default=None
        Which columns form which modality (see :class:`MultimodalRBM`).
    visible_units : {"auto", "gaussian", "binary", "replicated_softmax"}, VisibleUnits \
            or list, default="auto"
        Unit type of every modality, or one per modality. ``"auto"`` takes binary units for
        a modality whose values all lie in [0, 1] (pixels, probabilities) and unit-variance
        Gaussian units otherwise (standardise such features: fit warns when they are far
        from it). Binary units read values in between as probabilities; Replicated Softmax
        units take non-negative word counts. A :class:`~skmultimodal.boltzmann.VisibleUnits`
        instance is a unit type of your own.
    n_chains : int, default=100
        Number of persistent chains of each RBM.
    k : int, default=1
        Gibbs sweeps of the persistent chains per update.
    learning_rate : float, default=0.05
        Step size of the PCD updates of every RBM (the pretraining rate of
        :class:`MultimodalDBM`; the step of an RBM with Gaussian visible units is capped at
        ``2 (1 + momentum) / n_hidden``, its stability limit).
    batch_size : int, default=32
        Rows per mini-batch.
    n_iter : int or "auto", default="auto"
        Epochs of PCD per RBM of the stack (0: random weights). ``"auto"`` trains each RBM
        until the reconstruction error of its training rows has not improved by 0.1% for
        ``n_iter_no_change`` epochs and at least 1,000 updates, or for at most 20,000
        updates.
    n_iter_no_change : int, default=10
        Epochs without improvement that stop ``n_iter="auto"``.
    momentum : float, default=0.5
        Momentum of the parameter updates.
    weight_decay : float, default=1e-4
        L2 penalty on the weights.
    n_mean_field : int, default=20
        Cap on the mean-field iterations that infer a missing pathway top in the joint RBM.
    mean_field_tol : float, default=1e-4
        Mean-field stops when no top-layer probability moves by more than this.
    output : {"top", "all"}, default="top"
        What :meth:`transform` returns: the top layer, or every hidden layer side by side
        (each pathway's layers bottom-up, modality by modality, then the top layer; the
        layers of a missing pathway are its top-down means, as in :meth:`impute`).
    verbose : int, default=0
        If positive, print a line per trained RBM (its reconstruction error and time).
    random_state : int, RandomState instance or None, default=None
        Seed of initialisation, shuffling and sampling.

    Attributes
    ----------
    layer_names_ : list of str
        Names of the layers: the modalities (visible), ``{modality}_h{l}`` the hidden
        layers of each pathway, ``top``.
    edges_ : list of (str, str)
        The connected layer pairs (lower, upper), in the order of ``coefs_``.
    coefs_ : list of ndarray
        Weights of each edge, of shape ``(width_upper, width_lower)``.
    intercepts_hidden_ : list of ndarray
        Bottom-up (recognition) biases of the hidden layers, in the order of
        ``layer_names_``: each layer's hidden bias in the RBM below it.
    intercepts_generative_ : list of ndarray
        Top-down (generative) biases of the pathways' hidden layers (the top excluded), in
        the same order: each layer's visible bias in the RBM above it.
    intercept_visible_ : ndarray of shape (n_features,)
        Visible biases, in X's column order.
    hidden_length_bias_ : list of ndarray
        Per modality, the length-scaled bias of the layer above it (zeros unless
        Replicated Softmax).
    components_ : ndarray of shape (n_components, n_top_inputs)
        The joint RBM's weights from every pathway's last layer, side by side.
    mean_length_ : ndarray of shape (n_modalities,)
        Mean document length of each Replicated Softmax modality (0 for the others).
    modalities_ : list of (str, slice or ndarray)
        The resolved modality specification.
    visible_units_ : list of str
        Unit type of each modality.
    n_iter_ : int
        The most epochs of PCD any RBM of the stack was trained for.
    n_iter_per_rbm_ : dict of str to int
        Epochs of PCD of each RBM, named as in ``reconstruction_errors_``.
    reconstruction_errors_ : dict of str to float
        Per RBM of the stack (``"{lower}-{upper}"``, and ``"joint"``), the mean squared
        error of its one-step mean-field reconstruction of up to 256 of its training rows.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    MultimodalDBM : The same layers as an undirected model, trained jointly.
    MultimodalRBM : One joint hidden layer.

    Notes
    -----
    No ``partial_fit`` and no ``warm_start``: greedy training finishes each RBM before the
    data of the next one exist (the finished RBM's bottom-up probabilities), so there is
    no half-trained stack that another chunk of data or another epoch would continue.
    Fitting a :class:`MultimodalDBM` with ``n_iter=0`` gives the same stack with doubled
    inputs, then ``partial_fit`` trains it jointly.

    :meth:`score` is label-free and higher-is-better for model selection: the mean over
    rows of ``sum_m log p(v_m | v_-m)``, each present modality hidden in turn, imputed from
    the others by :meth:`impute` and scored under its units' conditional (Bernoulli
    cross-entropy, unit-variance Gaussian density, multinomial probability of the counts,
    the Replicated Softmax mean rescaled to the document's length), the cross-modal
    quantity that matters when a modality is missing and the one :class:`MultimodalRBM`
    scores. A DBN's likelihood needs the intractable posterior of every layer and ``log
    Z`` of the joint RBM; a variational bound would score the recognition model, not the
    cross-modal inference.

    References
    ----------
    Srivastava, N. and Salakhutdinov, R. Learning representations for multimodal data
    with deep belief nets. ICML Representation Learning Workshop, 2012.

    Hinton, G., Osindero, S. and Teh, Y. A fast learning algorithm for deep belief nets.
    Neural Computation 18, 2006.

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal import MultimodalDBN
    >>> from skmultimodal.datasets import load_digits_halves
    >>> X, y = load_digits_halves(return_X_y=True)
    >>> dbn = MultimodalDBN(n_components=32, pathways=(32,), visible_units="binary",
    ...                     n_iter=3, random_state=0).fit(X)
    >>> X_left_only = X.copy()
    >>> X_left_only[:, 32:] = np.nan  # the right halves are missing
    >>> dbn.transform(X_left_only).shape
    (1797, 32)
    >>> dbn.impute(X_left_only[:2]).shape
    (2, 64)
    """

    _parameter_constraints = {
        **{name: _BaseTrainedBoltzmann._parameter_constraints[name] for name in (
            "n_components", "modalities", "visible_units", "learning_rate", "batch_size",
            "momentum", "weight_decay", "n_mean_field", "mean_field_tol", "verbose",
            "random_state")},
        "pathways": [list, tuple],
        "n_chains": [Interval(Integral, 1, None, closed="left")],
        "k": [Interval(Integral, 1, None, closed="left")],
        "n_iter": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "output": [StrOptions({"top", "all"})],
    }

    def __init__(
        self,
        n_components=256,
        *,
        pathways=(256, 256),
        modalities=None,
        visible_units="auto",
        n_chains=100,
        k=1,
        learning_rate=0.05,
        batch_size=32,
        n_iter="auto",
        n_iter_no_change=10,
        momentum=0.5,
        weight_decay=1e-4,
        n_mean_field=20,
        mean_field_tol=1e-4,
        output="top",
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
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.n_iter_no_change = n_iter_no_change
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.n_mean_field = n_mean_field
        self.mean_field_tol = mean_field_tol
        self.output = output
        self.verbose = verbose
        self.random_state = random_state

    # -- structure and fitted state ----------------------------------------------------------

    _bipartite = False  # a DBN is never sampled in two blocks: pathways of any depth

    def _store(self, s, stack):
        """Fitted attributes from the stack of ``_stack.pretrain``."""
        self._store_names(s)
        for name, value in stack_attributes(s, stack).items():
            setattr(self, name, value)

    def _model(self):
        """The fitted stack as a ``_DBNModel`` (views of the fitted arrays)."""
        s, _ = self._pathway_structure()
        M = s.n_modalities
        dtype = self.coefs_[0].dtype

        def visible(i, m):
            """Units, bias, length weights and mean length of layer ``i`` as the visible
            group of the RBM above it."""
            if i < M:
                return (s.units[m], self.intercept_visible_[s.columns[i]],
                        self.hidden_length_bias_[m], self.mean_length_[m])
            width = s.widths[s.edges[s.up[i][-1]][1]]
            return BINARY_UNITS, self.intercepts_generative_[i - M], np.zeros(width, dtype), 0

        pathways = []
        for m in range(M):
            rbms, lower = [], m
            while lower != s.pathway_tops[m]:
                e = s.up[lower][0]
                upper = s.edges[e][1]
                units, c, a, length = visible(lower, m)
                rbms.append(_rbm([s.widths[lower]], [units], [self.coefs_[e]],
                                 self.intercepts_hidden_[upper - M], [c], [a], [length]))
                lower = upper
            pathways.append(rbms)
        parts = [visible(t, m) for m, t in enumerate(s.pathway_tops)]
        joint = _rbm([s.widths[t] for t in s.pathway_tops], [p[0] for p in parts],
                     [self.coefs_[s.up[t][-1]] for t in s.pathway_tops],
                     self.intercepts_hidden_[s.top - M], [p[1] for p in parts],
                     [p[2] for p in parts], [p[3] for p in parts])
        return _DBNModel(s, pathways, joint)

    # -- training ---------------------------------------------------------------------------

    @keep_state_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the stack greedily: each pathway's RBMs bottom-up, then the joint RBM.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data, the modalities' columns side by side; a missing modality is its
            whole block set to NaN (such rows train the other pathways and the joint RBM).
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        reject_second_view(y, X, self)
        X, missing = self._validate_input(X, reset=True)
        s, pathways = self._pathway_structure()
        self._check_every_modality_seen(missing)
        rng = as_generator(self.random_state)
        state = new_state(rng)
        public = dict(zip(s.names, s.layer_names([name for name, _ in self.modalities_])))
        errors, tic = {}, [time.perf_counter()]

        epochs = {}

        def on_trained(name, rbm, data, rows, missing, cols, n_epochs):
            name = "-".join(public[layer] for layer in name.split("-")) \
                if name != "joint" else name
            rows = rows[monitor_rows(rows.size)]
            v = np.ascontiguousarray(dense_rows(data, rows, rbm.dtype)[:, cols])
            miss = np.zeros((v.shape[0], rbm.s.n_modalities), bool) if missing is None \
                else missing[rows]
            errors[name] = float(rbm.reconstruction_error(v, miss, self.n_mean_field,
                                                          self.mean_field_tol))
            epochs[name] = n_epochs
            if self.verbose:
                print(f"[{type(self).__name__}] RBM {name}: {n_epochs} epochs, "
                      f"reconstruction error = {errors[name]:.5f}, "
                      f"time = {time.perf_counter() - tic[0]:.2f}s")
            tic[0] = time.perf_counter()

        with np.errstate(over="ignore", invalid="ignore"):
            stack = pretrain(self, X, missing, s, pathways, rng, state,
                             (self.n_iter, "n_iter", self.learning_rate, "learning_rate"),
                             doubled=False, on_trained=on_trained)
        self._store(s, stack)
        self.reconstruction_errors_ = errors
        self.n_iter_ = max(epochs.values())
        self.n_iter_per_rbm_ = epochs
        monitor = monitor_rows(X.shape[0])
        self._collapse_warning(self._model(), dense_rows(X, monitor, X.dtype),
                               missing[monitor], self.n_iter_)
        return self

    def score_samples(self, X):
        """Cross-modal log-likelihood of each row, ``sum_m log p(v_m | v_-m)``.

        Each present modality in turn is hidden, imputed from the other present ones
        (:meth:`impute`) and its values scored under its units' conditional at the imputed
        mean (see the Notes of the class).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data; missing modalities are whole NaN blocks and are not scored.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Per-row log-likelihoods (nats), higher is better.
        """
        return self._cross_modal_scores(X)
