"""The multimodal deep recurrent neural network (Sohn, Shang & Lee 2014, Section 3.3)."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._modalities import reject_second_view
from .._random import new_state
from .._training import (
    TRAINING_CONSTRAINTS,
    EpochLoop,
    TrainingHistory,
    make_optimizer,
    minibatch_epoch,
    n_minibatches,
    resume_state,
    validation_split,
)
from .._utils import as_generator, keep_state_on_error
from ..boltzmann._base import _BaseJointModel, dense_rows
from ..boltzmann._dbm import _PathwaysMixin
from ..boltzmann._graph import put_rows
from ..boltzmann._minvi import MinVIRBM
from ..boltzmann._stack import pretrain, stack_attributes
from ._recurrent import RecurrentNetwork


class _MDRNNModel:
    """A fitted MDRNN's inference: rows grouped by their missing modalities, which are the
    targets of the recurrent network (their document lengths the mean training length)."""

    def __init__(self, net, mean_length, n_steps):
        self.net, self.s, self.mean_length, self.n_steps = net, net.s, mean_length, n_steps

    @property
    def dtype(self):
        return self.net.dtype

    def _groups(self, v, missing):
        """Per missing pattern: its rows, their blocks, lengths and target modalities."""
        s = self.s
        patterns, inverse = np.unique(missing, axis=0, return_inverse=True)
        for g, pattern in enumerate(patterns):
            rows = np.flatnonzero(inverse.reshape(-1) == g)
            blocks = [np.ascontiguousarray(v[rows][:, cols]) for cols in s.columns]
            L = np.zeros((rows.size, s.n_modalities), dtype=self.dtype)
            for m, units in enumerate(s.units):
                if units.has_length:
                    L[:, m] = self.mean_length[m] if pattern[m] else units.length(blocks[m])
            yield rows, blocks, L, list(np.flatnonzero(pattern))

    def transform(self, v, missing, n_iter, tol, layers):
        out = np.empty((v.shape[0], self.s.widths[self.s.top]), dtype=self.dtype)
        for rows, blocks, L, targets in self._groups(v, missing):
            out[rows] = self.net.forward(blocks, L, targets, self.n_steps)["top"][-1]
        return out

    def fill(self, v, missing, n_iter, tol):
        for rows, blocks, L, targets in self._groups(v, missing):
            prediction = self.net.forward(blocks, L, targets, self.n_steps)["prediction"]
            for m in targets:
                put_rows(v, rows, self.s.columns[m], prediction[m])


class MDRNN(_PathwaysMixin, _BaseJointModel):
    """Multimodal deep recurrent neural network (Sohn, Shang & Lee 2014, Section 3.3).

    The layers of :class:`~skmultimodal.MultimodalDBN`: a pathway of hidden layers per
    modality (``pathways``) under a joint top layer of ``n_components`` units. Training has
    two stages:

    1. greedy layerwise pretraining: each pathway's RBMs by PCD (``n_iter_pretrain`` epochs
       each at ``learning_rate_pretrain``, as :class:`~skmultimodal.MultimodalDBN`), then the
       top multimodal RBM over the pathways' last layers by minimum variation of information
       with multi-prediction (:class:`~skmultimodal.MinVIRBM`, ``n_mean_field`` steps);
    2. finetuning of the whole network as a recurrent network that predicts each modality
       from the others (Eq. 10-13): a bottom-up pass with the target's visible units at
       zero, then ``n_steps`` times a top-down pass to the target's visible units and a
       bottom-up pass through the target's pathway, then a last top-down pass; the target's
       reconstruction error (the negative log-likelihood under its units: cross-entropy for
       binary units, squared error for Gaussian ones, softmax cross-entropy scaled by the
       document length for Replicated Softmax) is back-propagated through the unrolled
       network. Every modality in turn is the target of every training row (both directions
       for two modalities), the losses summed; mini-batches, Adam or SGD with momentum,
       early stopping on a held-out fraction.

    :meth:`transform` returns the top layer: from the bottom-up pass for rows with every
    modality, after the recurrent steps for rows with a missing one (its prediction fed back
    ``n_steps`` times); :meth:`impute` returns the predicted missing modalities.

    Read more in the :ref:`User Guide <deep_networks>`.

    Parameters
    ----------
    n_components : int, default=256
        Units of the joint top layer (the width of the representation).
    pathways : tuple of int, or list of tuples of int, default=(256, 256)
        Widths of each modality's hidden layers, bottom-up: one tuple for every modality or
        one per modality (pathways may differ in depth; either all or none have layers).
    modalities : None, list of int or list of (str, columns) tuples, default=None
        Which columns form which modality (see :class:`~skmultimodal.MultimodalRBM`).
    visible_units : {"auto", "gaussian", "binary", "replicated_softmax"}, VisibleUnits \
            or list, default="auto"
        Unit type of every modality, or one per modality (as
        :class:`~skmultimodal.MultimodalRBM`); it sets the pretraining RBMs' visible units
        and the finetuning loss.
    n_steps : int, default=3
        Recurrent iterations of top-down and bottom-up passes, in training and inference
        (0: one bottom-up and one top-down pass).
    n_iter_pretrain : int or "auto", default="auto"
        Epochs of each pretraining RBM (0: the stack's initial weights). ``"auto"``: each
        pathway RBM until its training reconstruction error has not improved by 0.1% for
        ``n_iter_no_change`` epochs and at least 1,000 updates (at most 20,000 updates),
        the top RBM as :class:`~skmultimodal.MinVIRBM`'s ``n_iter="auto"``.
    learning_rate_pretrain : float, default=0.05
        Step size of the pretraining RBMs.
    n_mean_field : int, default=5
        Mean-field steps of the top RBM's multi-prediction training.
    n_chains : int, default=100
        Persistent chains of the pathway RBMs' PCD.
    k : int, default=1
        Gibbs sweeps of those chains per update.
    momentum : float, default=0.5
        Momentum of the pretraining updates, and of finetuning with ``solver="sgd"``.
    weight_decay : float, default=1e-4
        L2 penalty on the pretraining RBMs' weights.
    solver : {"adam", "sgd"}, default="adam"
        Finetuning optimiser.
    learning_rate : float, default=0.01
        Step size of finetuning.
    max_iter : int, default=50
        Cap on the finetuning epochs.
    batch_size : int, default=32
        Rows per mini-batch (pretraining and finetuning).
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the rows and stop finetuning when their
        cross-modal reconstruction loss has not improved by ``tol`` for
        ``n_iter_no_change`` epochs, keeping the best parameters.
    validation_fraction : float, default=0.1
        Fraction of the rows held out for early stopping.
    n_iter_no_change : int, default=5
        Epochs without improvement that stop finetuning.
    tol : float, default=1e-4
        Improvement below which an epoch counts as none.
    warm_start : bool, default=False
        If True, :meth:`fit` continues finetuning the fitted network (no pretraining).
    verbose : int, default=0
        If positive, print a line per finetuning epoch.
    random_state : int, RandomState instance or None, default=None
        Seed of initialisation, pretraining, shuffling and the validation split.

    Attributes
    ----------
    layer_names_ : list of str
        Names of the layers: the modalities, ``{modality}_h{l}``, ``top``.
    edges_ : list of (str, str)
        The connected layer pairs (lower, upper), in the order of ``coefs_``.
    coefs_ : list of ndarray
        Weights of each edge, ``(width_upper, width_lower)``, used in both directions.
    intercepts_hidden_ : list of ndarray
        Bottom-up biases of the hidden layers.
    intercepts_generative_ : list of ndarray
        Top-down biases of the pathways' hidden layers (the top excluded).
    intercept_visible_ : ndarray of shape (n_features,)
        Top-down biases of the visible units, in X's column order.
    hidden_length_bias_ : list of ndarray
        Per modality, the length-scaled bias of the layer above it (zeros unless
        Replicated Softmax).
    mean_length_ : ndarray of shape (n_modalities,)
        Mean document length of each Replicated Softmax modality (0 for the others).
    components_ : ndarray of shape (n_components, n_top_inputs)
        The weights into the top layer from every pathway's last layer, side by side.
    modalities_ : list of (str, slice or ndarray)
        The resolved modality specification.
    visible_units_ : list of str
        Unit type of each modality.
    loss_curve_ : list of float
        Per finetuning epoch, the mean training loss (summed over the target modalities).
    validation_scores_ : list of float or None
        Per finetuning epoch, minus the validation rows' loss (with early stopping).
    best_validation_score_ : float or None
        The best of them.
    n_iter_ : int
        Finetuning epochs run.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    MinVIRBM : The top layer's training criterion, on one hidden layer.
    MultimodalDBN : The same layers, greedily trained, with probabilistic inference.

    Notes
    -----
    Rows with a missing modality train the network too: the missing modality is one more
    target, at zero in the first pass, without a loss of its own.

    :meth:`score` is the label-free cross-modal reconstruction score: the mean over rows of
    ``sum_m log p(v_m | prediction from the others)``, each present modality predicted by
    the recurrent network from the others present, so GridSearchCV can compare settings.

    References
    ----------
    Sohn, K., Shang, W. and Lee, H. Improved multimodal deep learning with variation of
    information. NIPS 2014.

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal.deep import MDRNN
    >>> from skmultimodal.datasets import load_digits_halves
    >>> X, y = load_digits_halves(return_X_y=True)
    >>> net = MDRNN(n_components=32, pathways=(32,), n_iter_pretrain=3, max_iter=3,
    ...             random_state=0).fit(X)
    >>> X_left_only = X.copy()
    >>> X_left_only[:, 32:] = np.nan  # the right halves are missing
    >>> net.transform(X_left_only).shape
    (1797, 32)
    >>> net.impute(X_left_only[:2]).shape
    (2, 64)
    """

    _parameter_constraints = {
        **{name: constraint for name, constraint in _BaseJointModel._parameter_constraints.items()
           if name != "mean_field_tol"},
        **{name: TRAINING_CONSTRAINTS[name] for name in (
            "learning_rate", "max_iter", "tol", "n_iter_no_change", "early_stopping",
            "validation_fraction", "warm_start")},
        "pathways": [list, tuple],
        "n_steps": [Interval(Integral, 0, None, closed="left")],
        "n_iter_pretrain": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "learning_rate_pretrain": [Interval(Real, 0, None, closed="neither")],
        "n_chains": [Interval(Integral, 1, None, closed="left")],
        "k": [Interval(Integral, 1, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions({"adam", "sgd"})],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
    }
    _bipartite = False
    output = "top"

    def __init__(
        self,
        n_components=256,
        *,
        pathways=(256, 256),
        modalities=None,
        visible_units="auto",
        n_steps=3,
        n_iter_pretrain="auto",
        learning_rate_pretrain=0.05,
        n_mean_field=5,
        n_chains=100,
        k=1,
        momentum=0.5,
        weight_decay=1e-4,
        solver="adam",
        learning_rate=0.01,
        max_iter=50,
        batch_size=32,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=5,
        tol=1e-4,
        warm_start=False,
        verbose=0,
        random_state=None,
    ):
        self.n_components = n_components
        self.pathways = pathways
        self.modalities = modalities
        self.visible_units = visible_units
        self.n_steps = n_steps
        self.n_iter_pretrain = n_iter_pretrain
        self.learning_rate_pretrain = learning_rate_pretrain
        self.n_mean_field = n_mean_field
        self.n_chains = n_chains
        self.k = k
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.solver = solver
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.verbose = verbose
        self.random_state = random_state

    # mean-field of the pretraining's joint RBM over missing pathway tops
    mean_field_tol = 1e-5

    # -- fitted state ----------------------------------------------------------------------------

    def _params(self):
        """The network's parameters from the fitted attributes (copies)."""
        s, _ = self._pathway_structure()
        M = s.n_modalities
        params = {f"W{e}": w.copy() for e, w in enumerate(self.coefs_)}
        for i, b in zip(s.hidden, self.intercepts_hidden_):
            params[f"b{i}"] = b[None, :].copy()
        for m, cols in enumerate(s.columns):
            params[f"c{m}"] = self.intercept_visible_[cols][None, :].copy()
            if s.uses_length[m]:
                params[f"a{m}"] = self.hidden_length_bias_[m][None, :].copy()
        for i, c in zip([i for i in s.hidden if i != s.top], self.intercepts_generative_):
            params[f"c{i}"] = c[None, :].copy()
        return RecurrentNetwork(s, params), M

    def _store_params(self, net):
        s, p = net.s, net.params
        self.coefs_ = [p[f"W{e}"] for e in range(len(s.edges))]
        self.intercepts_hidden_ = [p[f"b{i}"][0] for i in s.hidden]
        self.intercepts_generative_ = [p[f"c{i}"][0] for i in s.hidden if i != s.top]
        c = np.empty(s.n_features, dtype=net.dtype)
        for m, cols in enumerate(s.columns):
            c[cols] = p[f"c{m}"][0]
            if s.uses_length[m]:
                self.hidden_length_bias_[m] = p[f"a{m}"][0]
        self.intercept_visible_ = c

    def _model(self):
        net, _ = self._params()
        return _MDRNNModel(net, self.mean_length_, self.n_steps)

    # -- training --------------------------------------------------------------------------------

    @keep_state_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Pretrain the layer stack, then finetune the recurrent network.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data, the modalities' columns side by side; a missing modality is its
            whole block set to NaN.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        reject_second_view(y, X, self)
        warm = self.warm_start and hasattr(self, "coefs_")
        X, missing = self._validate_input(X, reset=not warm)
        if not warm:
            self._pretrain(X, missing)
        self._finetune(X, missing)
        return self

    def _pretrain(self, X, missing):
        s, pathways = self._pathway_structure()
        self._check_every_modality_seen(missing)
        self._rng = as_generator(self.random_state)
        state = new_state(self._rng)

        def train_joint(joint, joint_missing, rbm):
            """The top RBM by MinVI multi-prediction (a MinVIRBM over the pathway tops)."""
            widths = [len(range(*c.indices(joint.shape[1]))) for c in rbm.s.columns]
            data = joint.copy()
            for m, cols in enumerate(rbm.s.columns):
                data[joint_missing[:, m], cols] = np.nan
            top = MinVIRBM(
                self.n_components, modalities=widths, visible_units=rbm.s.units,
                learning_rate=self.learning_rate_pretrain,
                n_iter=self.n_iter_pretrain or 1, n_iter_no_change=self.n_iter_no_change,
                batch_size=self.batch_size, momentum=self.momentum,
                weight_decay=self.weight_decay, n_mean_field=self.n_mean_field,
                random_state=int(self._rng.integers(np.iinfo(np.int32).max)),
            ).fit(data)
            return top._model(), top.n_iter_

        with np.errstate(over="ignore", invalid="ignore"):
            stack = pretrain(self, X, missing, s, pathways, self._rng, state,
                             (self.n_iter_pretrain, "n_iter_pretrain",
                              self.learning_rate_pretrain, "learning_rate_pretrain"),
                             doubled=False,
                             train_joint=train_joint)
        self._store_names(s)
        for name, value in stack_attributes(s, stack).items():
            setattr(self, name, value)
        self._history = TrainingHistory.start(self, validation=self.early_stopping)
        self._optimizer_state = None

    def _batch_loss(self, net, v, missing, with_gradient=True):
        """The summed loss of every modality predicted from the others, on dense rows ``v``
        (per missing pattern: each present modality in turn the target, with the missing
        ones), and its gradient."""
        s = net.s
        model = _MDRNNModel(net, self.mean_length_, self.n_steps)
        total, grads = 0.0, None
        for rows, blocks, L, absent in model._groups(v, missing):
            weight = rows.size / v.shape[0]
            for t in range(s.n_modalities):
                if t in absent:
                    continue
                L_t = L.copy()
                if s.uses_length[t]:
                    L_t[:, t] = s.units[t].length(blocks[t])
                cache = net.forward(blocks, L_t, absent + [t], self.n_steps)
                truth = {t: blocks[t]}
                total += weight * net.loss(cache, truth)
                if with_gradient:
                    g = net.backward(cache, truth)
                    if grads is None:
                        grads = {k: weight * x for k, x in g.items()}
                    else:
                        for k, x in g.items():
                            grads[k] += weight * x
        return total, grads

    def _finetune(self, X, missing):
        rng = self._rng
        net, _ = self._params()
        params = net.params
        dtype = net.dtype
        n = X.shape[0]
        train, val = np.arange(n), None
        if self.early_stopping:
            train, val = validation_split(n, self.validation_fraction, rng, what="rows")
        optimizer = make_optimizer(self.solver, self.learning_rate, self.momentum)
        state = resume_state(optimizer, self._optimizer_state, params)

        def objective(rows):
            v = dense_rows(X, np.sort(rows), dtype)
            return self._batch_loss(net, v, missing[np.sort(rows)])

        def epoch():
            return minibatch_epoch(rng.permutation(train), self.batch_size, objective, params,
                                   optimizer, state)

        validate = None
        if val is not None:
            v_val = dense_rows(X, val, dtype)

            def validate():
                return -self._batch_loss(net, v_val, missing[val], with_gradient=False)[0]

        loop = EpochLoop(type(self).__name__, self._history, max_epochs=self.max_iter,
                         check_convergence=True, tol=self.tol,
                         n_iter_no_change=self.n_iter_no_change,
                         rate=("learning_rate", self.learning_rate), verbose=self.verbose,
                         validation="validation score")
        loop.run(epoch, validate=validate, params=lambda: params,
                 updates_per_epoch=n_minibatches(train.size, self.batch_size))
        if loop.best_params is not None:
            params.update(loop.best_params)
        self._store_params(net)
        self._history = loop.history
        self._history.set_attributes(self, validation=self.early_stopping)
        self._optimizer_state = state

    # -- scoring ---------------------------------------------------------------------------------

    def score_samples(self, X):
        """Cross-modal log-likelihood of each row, ``sum_m log p(v_m | v_-m)``.

        Each present modality in turn is hidden, predicted by the recurrent network from the
        other present ones (:meth:`impute`) and scored under its units' conditional at the
        prediction (see the Notes of the class).

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

    def _transformed_layers(self, model):
        return [model.s.top]

    @property
    def _n_features_out(self):
        check_is_fitted(self)
        return self.n_components
