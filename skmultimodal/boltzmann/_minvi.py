"""Multimodal RBM trained to minimise the variation of information (Sohn, Shang & Lee 2014)."""

from numbers import Integral, Real

import numpy as np
from numba.typed import List
from sklearn.utils._param_validation import Interval, StrOptions

from .._random import uniform
from ._kernels_graph import momentum_step
from ._kernels_units import sigmoid, sigmoid_backward, sigmoid_sample
from ._mrbm import _BaseMultimodalRBM


def zero_gradients(model):
    """Zero arrays shaped as the model's weights, biases and length weights."""
    return [np.zeros_like(p) for p in model.blocks()]


def _gradient_blocks(model, grads):
    """The blocks of ``grads`` (from :func:`zero_gradients`): per edge, per layer, per
    modality."""
    E, Lr = len(model.W), len(model.bias)
    return grads[:E], grads[E:E + Lr], grads[E + Lr:]


def _start_scale(n_modalities, predicted_fraction):
    """Per row, the scale of the other modalities' input in the first estimate of the
    hidden units when a target modality is (partly) missing: ``(n_present + missing mass) /
    n_present`` with the target's predicted fraction as its missing mass (the rule of the
    mean-field's start, ``_kernels_graph._start_scale``)."""
    present = n_modalities - 1
    return (present + predicted_fraction) / present


# -- multi-prediction (Eq. 9) ---------------------------------------------------------------

def mp_forward(model, v, target, predict, n_steps, work=None):
    """The unrolled mean-field prediction of modality ``target`` from the others (Eq. 9).

    It is the model's mean-field inference with the target missing (:meth:`_graph.Model.
    mean_field`, exactly ``n_steps`` sweeps, every step recorded), so training and inference
    are the same network. ``predict`` (bool, like ``v[:, columns]``, or None for all) marks
    the subset S of the target's units to predict; the others are clamped to their values.
    The first hidden estimate scales the other modalities' input to stand in for the
    predicted fraction of the target; then ``n_steps`` rounds of ``y_S = E[y_S | h]`` and
    ``h = sigmoid(W_x x + W_y y + b)``; the prediction is ``E[y | h]`` under the last ``h``.
    Count targets keep their true document lengths. Returns what the backward pass needs;
    ``work``, a dict kept by the caller for this target, keeps the buffers (the trace is
    valid until the next call with it).
    """
    s = model.s
    n, M = v.shape[0], s.n_modalities
    missing = np.zeros((n, M), dtype=bool)
    missing[:, target] = True
    work = {} if work is None else work
    key = ("record", n, n_steps)
    if key not in work:
        record = [np.empty((0, 0, 0), model.dtype)] * len(s.widths)
        record[s.top] = np.empty((n_steps + 1, n, s.widths[s.top]), dtype=model.dtype)
        record[target] = np.empty((n_steps + 1, n, s.widths[target]), dtype=model.dtype)
        work[key] = (record, List(record))
    record, typed_record = work[key]
    L = model.lengths(v)
    given = None if predict is None else (target, ~predict)
    model.mean_field(v, missing, n_steps, -1.0, record=typed_record, given=given,
                     lengths=L.copy(), refresh=False, work=work)
    y = v[:, s.columns[target]]
    fraction = 1.0 if predict is None else predict.mean(axis=1)
    return {
        "target": target, "v": v, "y": y, "L": L, "predict": predict,
        "scale": _start_scale(M, fraction), "hs": list(record[s.top]),
        "ys": list(record[target][:n_steps]), "prediction": record[target][n_steps],
    }


def mp_loss(model, trace, sparsity_target=0.1, sparsity_cost=0.0):
    """Mean prediction loss of a :func:`mp_forward` trace: ``-log p(y_S | prediction)``
    per row (the target units' log-likelihood).

    Plus ``sparsity_cost * sum_k CE(sparsity_target, q_k)``, the cross-entropy between the
    target and each hidden unit's mean activation ``q_k`` over the rows in the last step.
    """
    target = trace["target"]
    units = model.s.units[target]
    value = -units.log_likelihood(
        trace["y"], trace["prediction"].astype(np.float64), trace["L"][:, target],
        trace["predict"]).sum() / trace["y"].shape[0]
    if sparsity_cost:
        q = np.clip(trace["hs"][-1].astype(np.float64).mean(axis=0), 1e-6, 1 - 1e-6)
        t = sparsity_target
        value -= sparsity_cost * np.sum(t * np.log(q) + (1 - t) * np.log1p(-q))
    return value


def mp_backward(model, trace, grads, sparsity_target=0.1, sparsity_cost=0.0):
    """Add ``-d mp_loss / d theta`` (the ascent direction) of a trace to ``grads``.

    Back-propagation through the unrolled network of :func:`mp_forward`: each step's
    hidden pre-activation is ``u + W_t y_i + b`` with ``u`` the other modalities' input
    (scaled in the first step), each prediction ``E[y | h_i]`` has the canonical link, so the
    output error is ``(y - prediction)`` on the predicted units.
    """
    s = model.s
    target = trace["target"]
    units = s.units[target]
    W_t = model.W[target]
    v, y, L, predict = trace["v"], trace["y"], trace["L"], trace["predict"]
    hs, ys = trace["hs"], trace["ys"]
    n = y.shape[0]
    L_t = L[:, target]
    gW, gbias, ga = _gradient_blocks(model, grads)

    delta = (y - trace["prediction"]) / n
    if predict is not None:
        delta *= predict
    gW_t = hs[-1].T @ delta
    gc_t = delta.sum(axis=0)
    grad_h = delta @ W_t.T
    if sparsity_cost:
        q = np.clip(hs[-1].mean(axis=0), 1e-6, 1 - 1e-6)
        t = sparsity_target
        grad_h += sparsity_cost * (t / q - (1 - t) / (1 - q)) / n
    grad_u = np.zeros_like(grad_h)
    grad_bias = np.zeros_like(grad_h)
    grad_z = np.empty_like(grad_h)
    for i in range(len(ys), 0, -1):
        sigmoid_backward(grad_h, hs[i], grad_z)
        grad_u += grad_z
        grad_bias += grad_z
        gW_t += grad_z.T @ ys[i - 1]
        grad_y = grad_z @ W_t
        if predict is not None:
            grad_y *= predict
        grad_pre = units.mean_backward(ys[i - 1], L_t, grad_y)
        gW_t += hs[i - 1].T @ grad_pre
        gc_t += grad_pre.sum(axis=0)
        grad_h = grad_pre @ W_t.T
    sigmoid_backward(grad_h, hs[0], grad_z)
    grad_bias += grad_z
    if predict is not None:
        gW_t += grad_z.T @ np.where(predict, 0, y).astype(y.dtype)
    grad_u += np.reshape(trace["scale"], (-1, 1)) * grad_z
    for m, cols in enumerate(s.columns):
        if m != target:
            gW[m] += grad_u.T @ v[:, cols]
    gW[target] += gW_t
    gbias[target] += gc_t
    gbias[s.top] += grad_bias.sum(axis=0)
    for m in range(s.n_modalities):
        if s.uses_length[m]:
            ga[m] += L[:, m] @ grad_bias
    return grads


# -- CD-PercLoss -----------------------------------------------------------------------------

def lowest_free_energy_particle(model, v, target, k, state, record=None):
    """Negative particles of CD-PercLoss for ``p(v_target | v_rest)`` (Mnih et al. 2011).

    A Gibbs chain with the other modalities clamped to ``v`` starts from a hidden sample
    given the other modalities alone (their input scaled as in mean-field), draws the target,
    then makes ``k`` more Gibbs steps; of the ``k + 1`` target samples each row keeps the one
    with the lowest free energy ``F(v_rest, v_target)`` (the later one on ties). Returns the
    chosen target block and the hidden probabilities given it. With ``record`` (a list),
    every sampled target block is appended to it.
    """
    s = model.s
    M = s.n_modalities
    blocks = model.split(v)
    L = model.lengths(v)
    others = [b if m != target else np.zeros_like(b) for m, b in enumerate(blocks)]
    pre = model.layer_input(others + [None], s.top)
    h = np.empty_like(pre)
    sigmoid_sample(pre, np.asarray(model.layer_bias(s.top, L)), state, pre, h, M / (M - 1))
    x = blocks + [h]
    clamp = np.ones((v.shape[0], M), dtype=bool)
    clamp[:, target] = False
    zero = np.zeros((1, h.shape[1]), dtype=h.dtype)
    work = {}
    best = best_h = best_F = None
    for _ in range(k + 1):
        model.gibbs(x, L, state, clamp=clamp, work=work, order="even")
        y = x[target]
        if record is not None:
            record.append(y.copy())
        hidden = model.hidden_input(x[:-1], L)
        F = model.visible_energy(x[:-1]) - np.logaddexp(0, hidden.astype(np.float64)).sum(1)
        sigmoid(hidden, zero, hidden)
        if best is None:
            best, best_h, best_F = y.copy(), hidden, F
        else:
            better = F <= best_F
            best[better], best_h[better], best_F[better] = y[better], hidden[better], F[better]
    return best, best_h


class _MinVIOptimizer:
    """Momentum SGD on the negative MinVI objective of a batch's complete rows."""

    def __init__(self, est, model, velocity):
        self.est, self.model = est, model
        self.velocity = velocity if velocity is not None else zero_gradients(model)
        self.work = [{} for _ in model.s.units]  # the buffers of each target's network

    def epoch(self, X, missing, order, state, learning_rate):
        return 0

    def step(self, v, missing, state, learning_rate):
        est, model = self.est, self.model
        complete = ~missing.any(axis=1)
        if not complete.all():
            v = v[complete]
        if not v.shape[0]:
            return
        grads = zero_gradients(model)
        if est.training == "mp":
            est._mp_gradient(model, v, state, grads, self.work)
        else:
            est._percloss_gradient(model, v, state, grads)
        E = len(model.W)
        for i, (param, velocity, grad) in enumerate(zip(model.blocks(), self.velocity,
                                                       grads)):
            momentum_step(param, velocity, grad, grad, 1.0, 0.0, est.momentum,
                          learning_rate, est.weight_decay if i < E else 0.0)

    def persist(self):
        return {"velocity": self.velocity}


class MinVIRBM(_BaseMultimodalRBM):
    """Multimodal RBM trained by minimum variation of information (MinVI).

    The model is the multimodal RBM of :class:`MultimodalRBM` (Sohn, Shang & Lee 2014,
    Eq. 5-7); the
    training objective is not the joint likelihood but the sum of the conditional
    log-likelihoods of each modality given the others (Eq. 2)::

        L_VI(theta) = - E_data[ log P(x | y) + log P(y | x) ]

    minimised with shared weights, so that the joint representation is good at what matters
    when a modality is missing: inferring it from the rest. With more than two modalities
    each modality in turn is predicted from all the others and the terms are summed.

    ``training="mp"`` (multi-prediction, Eq. 9) unrolls ``n_mean_field`` steps of the
    mean-field encoder that :meth:`transform` uses when the target modality is missing and
    back-propagates the target's prediction error (its negative log-likelihood under the
    predicted mean) through all of them: training and test-time inference are the same
    network. ``sampling_ratio`` is the fraction of the target's units predicted in each
    batch (the set S of Eq. 9), the others being given; Replicated Softmax targets are always
    predicted whole. ``training="cd_percloss"`` trains each conditional RBM by CD-PercLoss
    (Mnih et al. 2011): a Gibbs chain per conditioning direction, the negative particle being
    the sample of lowest free energy among the ``k + 1`` drawn; the gradients of the
    directions are averaged.

    Only rows with every modality present carry a conditional pair: rows with a missing
    modality are skipped during training (at least one complete row is needed).

    Read more in the :ref:`User Guide <objectives>`.

    Parameters
    ----------
    n_components : int, default=256
        Number of hidden units (the width of the joint representation).
    modalities : None, list of int or list of (str, columns) tuples, default=None
        Which columns form which modality, as in :class:`MultimodalRBM`.
    visible_units : {"auto", "gaussian", "binary", "replicated_softmax"}, VisibleUnits \
            or list, default="auto"
        Unit type of every modality, or one per modality. ``"auto"`` takes binary units for
        a modality whose values all lie in [0, 1] (pixels, probabilities) and unit-variance
        Gaussian units otherwise (standardise such features: fit warns when they are far
        from it). Binary units read values in between as probabilities; Replicated Softmax
        units take non-negative word counts. A :class:`~skmultimodal.boltzmann.VisibleUnits`
        instance is a unit type of your own.
    training : {"mp", "cd_percloss"}, default="mp"
        Multi-prediction training through the unrolled mean-field encoder, or CD-PercLoss.
    k : int, default=1
        Number of Gibbs steps of each CD-PercLoss chain (``training="cd_percloss"``).
    sampling_ratio : float, default=1.0
        Fraction of each binary or Gaussian target modality's units predicted in a batch
        (``training="mp"``); each unit is chosen independently per row.
    learning_rate : float, default=0.01
        Step size of the updates (gradients are means over the batch).
    learning_rate_decay : float, default=0.0
        The step size of epoch ``t`` (from 0) is ``learning_rate / (1 + learning_rate_decay
        * t)``.
    batch_size : int, default=32
        Number of rows per mini-batch.
    n_iter : int or "auto", default="auto"
        Number of epochs of :meth:`fit`; rows are reshuffled every epoch. ``"auto"`` holds
        out ``validation_fraction`` of the rows (at most 2,000) and trains until their
        :meth:`score` (the cross-modal log-likelihood) has not improved by 0.1% for
        ``n_iter_no_change`` epochs and at least 1,000 updates, or for at most 20,000
        updates, keeping the parameters of the best held-out score.
    validation_fraction : float, default=0.1
        Fraction of the rows held out by ``n_iter="auto"``.
    n_iter_no_change : int, default=10
        Epochs without improvement that stop ``n_iter="auto"``.
    momentum : float, default=0.5
        Momentum of the parameter updates, in [0, 1).
    weight_decay : float, default=1e-4
        L2 penalty on the weights.
    resample_binary : bool, default=False
        If True, the values of binary modalities (probabilities in [0, 1], e.g. grey
        levels) are redrawn as 0/1 samples in every mini-batch: stochastic binarisation,
        a regulariser Sohn, Shang & Lee (2014) used on MNIST.
    sparsity_target : float, default=0.1
        Target mean activation of each hidden unit, in (0, 1).
    sparsity_cost : float, default=0.0
        Weight of the sparsity penalty. With ``training="mp"`` it is
        ``sparsity_cost * sum_k CE(sparsity_target, q_k)``, the cross-entropy with the
        batch's mean activation ``q_k`` of hidden unit ``k`` in the last mean-field step,
        back-propagated with the prediction error; with CD-PercLoss it acts on the hidden
        biases as in :class:`MultimodalRBM`.
    n_mean_field : int, default=10
        Number of mean-field steps of the multi-prediction encoder in training, and the
        maximum number of mean-field iterations when inferring missing modalities.
    mean_field_tol : float, default=1e-5
        Inference stops when no hidden probability moves by more than this.
    warm_start : bool, default=False
        If True, :meth:`fit` continues from the previous solution.
    verbose : int, default=0
        If positive, print the reconstruction error and time of every epoch.
    random_state : int, RandomState instance or None, default=None
        Seed of the initial weights, the shuffling and the sampling.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        Weights between hidden units and all visible columns.
    intercept_hidden_ : ndarray of shape (n_components,)
        Hidden biases.
    intercept_visible_ : ndarray of shape (n_features,)
        Visible biases.
    hidden_length_bias_ : ndarray of shape (n_modalities, n_components)
        Length-scaled hidden biases of Replicated Softmax modalities.
    mean_length_ : ndarray of shape (n_modalities,)
        Mean document length of each Replicated Softmax modality (0 for the others).
    modalities_ : list of (str, slice or ndarray)
        The resolved modality specification.
    visible_units_ : list of str
        Unit type of each modality.
    modality_weights_ : dict of str to ndarray
        Each modality's block of ``components_``.
    modality_intercepts_ : dict of str to ndarray
        Each modality's block of ``intercept_visible_``.
    n_iter_ : int
        Number of epochs trained so far.
    reconstruction_error_curve_ : list of float
        Per epoch, the mean squared error of the mean-field reconstruction of up to 256
        training rows (a monitor).
    validation_scores_ : list of float or None
        With ``n_iter="auto"``, the held-out :meth:`score` of every epoch; None otherwise.
    best_validation_score_ : float or None
        The best of ``validation_scores_``, whose parameters the model keeps.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    MultimodalRBM : The same model trained by maximum likelihood.
    SSLRBM : Maximum likelihood with a cross-modal similarity regulariser.

    Notes
    -----
    With ``n_mean_field=0`` the multi-prediction encoder is a single bottom-up pass from the
    given modalities, their input scaled by ``n_modalities / (n_modalities - 1)``, and the
    prediction ``E[y | h]`` of that ``h``: a cross-modal autoencoder with tied weights.

    :meth:`score` is the mean-field estimate of ``sum_m log p(v_m | v_{-m})``, the negative
    of the MinVI objective, so GridSearchCV can select hyper-parameters without labels.

    References
    ----------
    Sohn, K., Shang, W. and Lee, H. Improved multimodal deep learning with variation of
    information. NIPS 2014.

    Mnih, V., Larochelle, H. and Hinton, G. Conditional restricted Boltzmann machines for
    structured output prediction. UAI 2011.

    Goodfellow, I., Mirza, M., Courville, A. and Bengio, Y. Multi-prediction deep
    Boltzmann machines. NIPS 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal import MinVIRBM
    >>> from skmultimodal.datasets import load_digits_halves
    >>> X, y = load_digits_halves(return_X_y=True)
    >>> rbm = MinVIRBM(n_components=64, visible_units="binary", learning_rate=0.1,
    ...                n_mean_field=3, n_iter=3, random_state=0).fit(X)
    >>> X_left_only = X.copy()
    >>> X_left_only[:, 32:] = np.nan  # the right halves are missing
    >>> rbm.transform(X_left_only).shape
    (1797, 64)
    """

    _parameter_constraints = {
        **_BaseMultimodalRBM._parameter_constraints,
        "training": [StrOptions({"mp", "cd_percloss"})],
        "k": [Interval(Integral, 1, None, closed="left")],
        "sampling_ratio": [Interval(Real, 0, 1, closed="right")],
    }

    def __init__(
        self,
        n_components=256,
        *,
        modalities=None,
        visible_units="auto",
        training="mp",
        k=1,
        sampling_ratio=1.0,
        learning_rate=0.01,
        learning_rate_decay=0.0,
        batch_size=32,
        n_iter="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        momentum=0.5,
        weight_decay=1e-4,
        resample_binary=False,
        sparsity_target=0.1,
        sparsity_cost=0.0,
        n_mean_field=10,
        mean_field_tol=1e-5,
        warm_start=False,
        verbose=0,
        random_state=None,
    ):
        self.n_components = n_components
        self.modalities = modalities
        self.visible_units = visible_units
        self.training = training
        self.k = k
        self.sampling_ratio = sampling_ratio
        self.learning_rate = learning_rate
        self.learning_rate_decay = learning_rate_decay
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.resample_binary = resample_binary
        self.sparsity_target = sparsity_target
        self.sparsity_cost = sparsity_cost
        self.n_mean_field = n_mean_field
        self.mean_field_tol = mean_field_tol
        self.warm_start = warm_start
        self.verbose = verbose
        self.random_state = random_state

    def _validate_input(self, X, *, reset, allow_all_missing=False):
        X, missing = super()._validate_input(X, reset=reset,
                                             allow_all_missing=allow_all_missing)
        if reset and len(self.modalities_) < 2:
            raise ValueError(
                "MinVIRBM predicts each modality from the others and needs at least two "
                f"modalities; got {len(self.modalities_)}."
            )
        return X, missing

    def _start(self, X, missing):
        if missing.any(axis=1).all():
            raise ValueError(
                "MinVIRBM trains on rows with every modality present and X has none; "
                "provide paired rows."
            )
        super()._start(X, missing)

    def _new_optimizer(self, model, X, missing, rng):
        persisted = self._persist or {}
        velocity = persisted.get("velocity")
        return _MinVIOptimizer(self, model,
                               None if velocity is None else [v.copy() for v in velocity])

    def _mp_gradient(self, model, v, state, grads, work):
        for target, units in enumerate(model.s.units):
            predict = None
            if self.sampling_ratio < 1 and not units.has_length:
                width = model.s.widths[target]
                draws = np.empty(v.shape[0] * width, dtype=model.dtype)
                uniform(state, draws)
                predict = (draws < self.sampling_ratio).reshape(v.shape[0], width)
            trace = mp_forward(model, v, target, predict, self.n_mean_field, work[target])
            mp_backward(model, trace, grads, self.sparsity_target, self.sparsity_cost)

    def _percloss_gradient(self, model, v, state, grads):
        s = model.s
        n, M = v.shape[0], s.n_modalities
        gW, gbias, ga = _gradient_blocks(model, grads)
        blocks = model.split(v)
        L = model.lengths(v)
        h_pos = model.hidden_input(blocks, L)
        sigmoid(h_pos, np.zeros((1, h_pos.shape[1]), h_pos.dtype), h_pos)
        gb_pos = h_pos.sum(axis=0)
        if self.sparsity_cost:
            gb_pos -= self.sparsity_cost * (gb_pos - n * self.sparsity_target)
        for m, block in enumerate(blocks):
            gW[m] += h_pos.T @ block / n
            gbias[m] += block.sum(axis=0) / n
            if s.uses_length[m]:
                ga[m] += L[:, m] @ h_pos / n
        gbias[s.top] += gb_pos / n
        weight = 1.0 / (n * M)
        for target in range(M):
            best, h_neg = lowest_free_energy_particle(model, v, target, self.k, state)
            neg = list(blocks)
            neg[target] = best
            L_neg = L.copy()
            if s.uses_length[target]:
                L_neg[:, target] = s.units[target].length(best)
            for m, block in enumerate(neg):
                gW[m] -= weight * (h_neg.T @ block)
                gbias[m] -= weight * block.sum(axis=0)
                if s.uses_length[m]:
                    ga[m] -= weight * (L_neg[:, m] @ h_neg)
            gbias[s.top] -= weight * h_neg.sum(axis=0)
