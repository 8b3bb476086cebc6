"""Multimodal RBM trained to minimise the variation of information (seed 001, Sec. 3)."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from .._random import uniform
from ._kernels_units import sigmoid, sigmoid_backward, sigmoid_sample
from ._kernels_graph import momentum_step
from ._mrbm import _BaseMultimodalRBM


def _zero_gradients(model):
    return {
        "W": np.zeros_like(model.W), "b": np.zeros((1, model.b.size), model.dtype),
        "c": np.zeros((1, model.c.size), model.dtype),
        "length_bias": np.zeros_like(model.length_bias),
    }


def _add_columns(target, columns, block):
    """``target[:, columns] += block`` for a slice or an index array of columns."""
    if isinstance(columns, slice):
        target[:, columns] += block
    else:
        np.add.at(target, (slice(None), columns), block)


def _init_scale(n_modalities, sampling_ratio):
    """Scale of the present modalities' input in the first bottom-up pass.

    The target's predicted fraction is replaced by a proportional share of the inputs that
    are present; with ``sampling_ratio=1`` this is ``n_modalities / (n_modalities - 1)``, the
    scale :meth:`_RBMModel.mean_field` uses when one modality is missing.
    """
    return (n_modalities - 1 + sampling_ratio) / (n_modalities - 1)


# -- multi-prediction (Eq. 9) ---------------------------------------------------------------

def mp_forward(model, v, target, predict, n_steps, scale):
    """Unrolled mean-field prediction of modality ``target`` from the others (Eq. 9).

    ``predict`` (bool, like ``v[:, columns]``, or None for all) marks the subset S of the
    target's units to predict; the others are clamped to their values. The first hidden
    estimate scales the other modalities' input by ``scale``; then ``n_steps`` rounds of
    ``y_S = E[y_S | h]`` and ``h = sigmoid(W_x x + W_y y + b)``; the prediction is
    ``E[y | h]`` under the last ``h``. Returns everything the backward pass needs.
    """
    cols, units = model.columns[target], model.units[target]
    W_t = model.W[:, cols]
    c_t = model.c[None, cols]
    y = v[:, cols]
    L = model.lengths(v)
    L_t = L[:, target]
    bias = model.hidden_bias(L)
    observed = y if predict is None else np.where(predict, 0, y).astype(y.dtype)
    given = None if predict is None else ~predict
    u = model.hidden_pre(v) - y @ W_t.T  # input from the other modalities
    h = np.empty_like(u)
    sigmoid(scale * u + (observed @ W_t.T if predict is not None else 0), bias, h)
    hs, ys = [h], []
    for _ in range(n_steps):
        y_hat = np.matmul(h, W_t)
        units.mean(y_hat, c_t, L_t, y_hat)
        if given is not None:
            np.copyto(y_hat, y, where=given)
        ys.append(y_hat)
        h = np.empty_like(u)
        sigmoid(u + y_hat @ W_t.T, bias, h)
        hs.append(h)
    prediction = np.matmul(h, W_t)
    units.mean(prediction, c_t, L_t, prediction)
    return {
        "target": target, "v": v, "y": y, "L": L, "predict": predict, "scale": scale,
        "observed": observed, "hs": hs, "ys": ys, "prediction": prediction,
    }


def mp_loss(model, trace, sparsity_target=0.1, sparsity_cost=0.0):
    """Mean prediction loss of a :func:`mp_forward` trace: ``-log p(y_S | prediction)``.

    Plus ``sparsity_cost * sum_k CE(sparsity_target, q_k)``, the cross-entropy between the
    target and each hidden unit's mean activation ``q_k`` over the rows in the last step.
    """
    y = trace["y"].astype(np.float64)
    mean = trace["prediction"].astype(np.float64)
    units = model.units[trace["target"]]
    predict = trace["predict"]
    if units.name == "binary":
        eps = np.finfo(np.float64).eps
        p = np.clip(mean, eps, 1 - eps)
        loss = -(y * np.log(p) + (1 - y) * np.log1p(-p))
    elif units.name == "gaussian":
        loss = 0.5 * (y - mean) ** 2
    else:
        length = trace["L"][:, trace["target"]].astype(np.float64)
        safe = np.where(length > 0, length, 1.0)[:, None]
        loss = -y * np.log(np.maximum(mean / safe, np.finfo(np.float64).tiny))
    if predict is not None:
        loss = loss * predict
    value = loss.sum() / y.shape[0]
    if sparsity_cost:
        q = np.clip(trace["hs"][-1].astype(np.float64).mean(axis=0), 1e-6, 1 - 1e-6)
        t = sparsity_target
        value -= sparsity_cost * np.sum(t * np.log(q) + (1 - t) * np.log1p(-q))
    return value


def mp_backward(model, trace, grads, sparsity_target=0.1, sparsity_cost=0.0):
    """Add ``-d mp_loss / d theta`` (the ascent direction) of a trace to ``grads``.

    Back-propagation through the unrolled network of :func:`mp_forward`: each step's
    hidden pre-activation is ``u + y_i W_t^T + b`` with ``u`` the other modalities' input
    (scaled by ``scale`` in the first step), each prediction ``E[y | h_i]`` has the
    canonical link, so the output error is ``(y - prediction)`` on the predicted units.
    """
    target = trace["target"]
    cols, units = model.columns[target], model.units[target]
    W_t = model.W[:, cols]
    v, y, L, predict = trace["v"], trace["y"], trace["L"], trace["predict"]
    hs, ys = trace["hs"], trace["ys"]
    n = y.shape[0]
    L_t = L[:, target]

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
    grad_u += trace["scale"] * grad_z
    grad_bias += grad_z
    if predict is not None:
        gW_t += grad_z.T @ trace["observed"]

    # u = v W^T - y W_t^T: the other modalities' weights get grad_u^T v outside the target
    gW = grad_u.T @ v
    gW[:, cols] = 0
    grads["W"] += gW
    _add_columns(grads["W"], cols, gW_t)
    _add_columns(grads["c"], cols, gc_t[None, :])
    grads["b"] += grad_bias.sum(axis=0)
    if model.uses_length:
        grads["length_bias"] += L.T @ grad_bias
    return grads


# -- CD-PercLoss -----------------------------------------------------------------------------

def lowest_free_energy_particle(model, v, target, k, state, record=None):
    """Negative particles of CD-PercLoss for ``p(v_target | v_rest)`` (Mnih et al. 2011).

    A Gibbs chain with the other modalities clamped to ``v`` starts from a hidden sample
    given the other modalities alone (their input scaled as in mean-field), draws the target,
    then makes ``k`` more Gibbs steps; of the ``k + 1`` target samples each row keeps the one
    with the lowest free energy ``F(v_rest, v_target)`` (the later one on ties). Returns the
    chosen target block and its hidden pre-activation ``W v``. With ``record`` (a list), every
    sampled target block is appended to it.
    """
    cols, units = model.columns[target], model.units[target]
    W_t = model.W[:, cols]
    c_t = model.c[None, cols]
    L = model.lengths(v)
    L_t = L[:, target]
    bias = model.hidden_bias(L)
    u = model.hidden_pre(v) - v[:, cols] @ W_t.T
    n_modalities = len(model.units)
    h_prob = np.empty_like(u)
    h = np.empty_like(u)
    sigmoid_sample(u * (n_modalities / (n_modalities - 1)), bias, state, h_prob, h)
    y = np.empty_like(v[:, cols])
    mean = np.empty_like(y)
    best = best_pre = best_F = pre = None
    for step in range(k + 1):
        if step:
            sigmoid_sample(pre, bias, state, h_prob, h)
        units.sample(np.matmul(h, W_t), c_t, L_t, state, mean, y)
        if record is not None:
            record.append(y.copy())
        pre = u + y @ W_t.T
        F = (units.free_energy(y, c_t[0])
             - np.logaddexp(0, (pre + bias).astype(np.float64)).sum(axis=1))
        if best is None:
            best, best_pre, best_F = y.copy(), pre.copy(), F
        else:
            better = F <= best_F
            best[better], best_pre[better], best_F[better] = y[better], pre[better], F[better]
    return best, best_pre


class MinVIRBM(_BaseMultimodalRBM):
    """Multimodal RBM trained by minimum variation of information (MinVI).

    The model is the multimodal RBM of :class:`MultimodalRBM` (seed 001 Eq. 5-7); the
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
    visible_units : {"gaussian", "binary", "replicated_softmax"} or list of str, \
            default="gaussian"
        Unit type of every modality, or one per modality.
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
    n_iter : int, default=20
        Number of epochs of :meth:`fit`.
    momentum : float, default=0.5
        Momentum of the parameter updates, in [0, 1).
    weight_decay : float, default=1e-4
        L2 penalty on the weights.
    resample_binary : bool, default=False
        If True, the values of binary modalities (probabilities in [0, 1], e.g. grey
        levels) are redrawn as 0/1 samples in every mini-batch: stochastic binarisation,
        a regulariser used by seed 001's authors on MNIST.
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
        visible_units="gaussian",
        training="mp",
        k=1,
        sampling_ratio=1.0,
        learning_rate=0.01,
        learning_rate_decay=0.0,
        batch_size=32,
        n_iter=20,
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

    def _batch_update(self, model, velocity, chains, v, missing, state, workspace, lr):
        """One step of stochastic gradient ascent on the negative MinVI objective."""
        complete = ~missing.any(axis=1)
        if not complete.all():
            v = v[complete]
        n = v.shape[0]
        if not n:
            return
        grads = _zero_gradients(model)
        if self.training == "mp":
            self._mp_gradient(model, v, state, grads)
        else:
            self._percloss_gradient(model, v, state, grads)
        for name in ("W", "b", "c", "length_bias"):
            if name == "length_bias" and not model.uses_length:
                continue
            param = getattr(model, name)
            momentum_step(
                param if param.ndim == 2 else param[None, :], velocity[name], grads[name],
                grads[name], 1.0, 0.0, self.momentum, lr,
                self.weight_decay if name == "W" else 0.0,
            )

    def _mp_gradient(self, model, v, state, grads):
        n_modalities = len(model.units)
        for target, (cols, units) in enumerate(zip(model.columns, model.units)):
            predict, ratio = None, 1.0
            if self.sampling_ratio < 1 and not units.has_length:
                width = v[:, cols].shape[1]
                draws = np.empty(v.shape[0] * width, dtype=model.dtype)
                uniform(state, draws)
                predict = (draws < self.sampling_ratio).reshape(v.shape[0], width)
                ratio = self.sampling_ratio
            trace = mp_forward(model, v, target, predict, self.n_mean_field,
                               _init_scale(n_modalities, ratio))
            mp_backward(model, trace, grads, self.sparsity_target, self.sparsity_cost)

    def _percloss_gradient(self, model, v, state, grads):
        n, n_modalities = v.shape[0], len(model.units)
        L = model.lengths(v)
        bias = model.hidden_bias(L)
        h_pos = model.hidden_pre(v)
        sigmoid(h_pos, bias, h_pos)
        gb_pos = h_pos.sum(axis=0, keepdims=True)
        self._sparsity_step(gb_pos, n)
        grads["W"] += h_pos.T @ v / n
        grads["b"] += gb_pos / n
        grads["c"] += v.sum(axis=0, keepdims=True) / n
        if model.uses_length:
            grads["length_bias"] += L.T @ h_pos / n
        weight = 1.0 / (n * n_modalities)
        for target, cols in enumerate(model.columns):
            best, pre = lowest_free_energy_particle(model, v, target, self.k, state)
            v_neg = v.copy()
            v_neg[:, cols] = best
            h_neg = np.empty_like(pre)
            sigmoid(pre, bias, h_neg)
            grads["W"] -= weight * (h_neg.T @ v_neg)
            grads["b"] -= weight * h_neg.sum(axis=0, keepdims=True)
            grads["c"] -= weight * v_neg.sum(axis=0, keepdims=True)
            if model.uses_length:
                grads["length_bias"] -= weight * (model.lengths(v_neg).T @ h_neg)
