"""The one training loop of every estimator fitted by iterative updates.

Two layers, the second built on the first:

1. :class:`EpochLoop`, the *epoch driver*. It runs epochs given a callable that runs one
   (whatever it does inside: numpy mini-batches, or one compiled call over all batches
   with its own fused momentum update) and returns the epoch's monitored value, a loss or
   a reconstruction error, lower is better. Around it the driver does everything that is
   the same for every estimator: the curve and ``n_iter_``, early stopping (on the
   training value, or on a validation score, higher is better, whose best parameters it
   keeps), a :class:`~sklearn.exceptions.ConvergenceWarning` when the cap is reached
   without convergence, per-epoch hooks, a verbose line per epoch, and the divergence
   checks below. Its state between calls (``partial_fit``, ``warm_start``) is a
   :class:`TrainingHistory` that the estimator stores.

2. For estimators with a numpy gradient: the optimisers :class:`SGD` (with momentum) and
   :class:`Adam`, whose state (velocities, moments, step count) the estimator stores
   between calls, :func:`minibatch_epoch` (one shuffled epoch of mini-batch updates) and
   :func:`validation_split`.

Divergence
----------
Training that blows up is reported when it happens, not when values reach infinity.
After every epoch :meth:`EpochLoop.run` raises :class:`FloatingPointError`, naming the
parameter to lower (``rate=(name, value)``) and, when the estimator passes
``scale_hint``, the unscaled input that likely caused it, if

- the monitored value or a watched parameter is NaN or infinite;
- the monitored value, less its ``lower_bound``, exceeds ``DIVERGENCE_RATIO`` (100) times
  its first value (the value before training if the estimator gives it, else that of the
  model's first epoch; kept across ``partial_fit`` calls);
- the root mean square of the watched parameters exceeds ``RUNAWAY_RATIO`` (100) times the
  larger of its value before the model's first update and 1 (watch the weights: biases
  initialised from data statistics can make the reference large);
- the stopping rule fires, or the cap is reached, while the monitored value is above its
  first value and more than ``STALL_RATIO`` (10) times its best: a blow-up that levelled
  off is not convergence.

The thresholds were chosen by measurement (``load_digits``, its halves and the synthetic
hierarchies and nonlinear views of :mod:`skmultimodal.datasets`, three seeds each). Over
healthy runs, the largest ratios were: monitored value over its first, 1.5
(LargeMarginEmbedding and UnifiedSemanticEmbedding in every metric, sampling and solver,
with early stopping, in float32 and by ``partial_fit``; RankingEmbedding linear and with
one or two hidden layers, up to 1000 epochs; DeepCCA's Adam with learning rates 1e-3 to 1;
the Boltzmann estimators' reconstruction errors never exceeded their first); parameters'
root mean square over ``max(start, 1)``, 5.1 (DeepCCA's Adam at ``learning_rate_init=1``;
0.97 for RankingEmbedding, 0.87 for the Boltzmann estimators' weights and biases); value
at a stop over the best, 1.5, and 6.5 for a loss approaching zero (LargeMarginEmbedding
without regularisation), which ends far below its first value. The failures the checks
exist for exceed them by orders of magnitude within a few epochs: LargeMarginEmbedding on
features scaled by 1e6 (parameters 3e3 to 5e3 times their start in the first epoch), on
raw pixels or at ``learning_rate=0.1`` (loss 130 to 3800 times its first value by epoch 6,
where early stopping used to report convergence), RankingEmbedding at
``learning_rate=1e4`` (parameters 1.6e4 to 1.9e4 times) and ``learning_rate=100`` (450 to
500 times), DeepCCA's Adam at ``learning_rate_init=100`` (objective 70 to 250 times as far
from its bound, parameters 160 to 280 times). Adam at a learning rate of 10 moves the
parameters 30 to 70 times their start without blowing up and is not flagged.
``tests/test_training.py`` and the estimators' tests check both sides on small problems.

Using the driver
----------------
A compiled epoch whose monitored value is a reconstruction error, and a hook recording a
second curve (a Boltzmann machine's ``fit``)::

    history = self._history if warm else TrainingHistory()
    loop = EpochLoop(type(self).__name__, history, max_epochs=self.n_iter,
                     check_convergence=False, rate=("learning_rate", self.learning_rate),
                     verbose=self.verbose, monitor="reconstruction error")

    def epoch():
        kernel_epoch(model.W, model.b, model.c, velocity, X, rng.permutation(n), lr)
        return reconstruction_error(model, X_monitor)

    loop.run(epoch, params=lambda: {"W": model.W, "b": model.b, "c": model.c},
             hooks=[lambda epoch: {"similarity": penalty_of_the_epoch()}])
    self._history = loop.history
    loop.history.set_attributes(self, curve="reconstruction_error_curve_")
    self.similarity_curve_ = loop.history.records["similarity"]

A numpy-gradient estimator with early stopping on a validation score (the embeddings)::

    train, val = validation_split(n, self.validation_fraction, self._rng, stratify=y)
    optimizer = make_optimizer(self.solver, self.learning_rate, self.momentum)
    state = resume_state(optimizer, self._optimizer_state, params)

    def epoch():
        return minibatch_epoch(self._rng.permutation(train), self.batch_size,
                               lambda rows: self._objective(params, X[rows], y[rows]),
                               params, optimizer, state)

    loop = EpochLoop(type(self).__name__, self._history, max_epochs=self.max_iter,
                     tol=self.tol, n_iter_no_change=self.n_iter_no_change,
                     rate=("learning_rate", self.learning_rate), verbose=self.verbose)
    loop.run(epoch, params=lambda: params, updates_per_epoch=n_batches,
             validate=lambda: accuracy(params, X[val], y[val]))
    params = loop.best_params or params

``n_iter="auto"`` (train until the monitored or validation value stops improving, with a
cap counted in parameter updates) is ``EpochLoop(max_epochs=None, max_updates=cap,
check_convergence=True)`` with ``updates_per_epoch`` the number of updates an epoch makes:
the driver already counts updates and stops at ``max_updates``.
"""

import time
import warnings
from dataclasses import dataclass, field, replace
from numbers import Integral, Real

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import gen_batches
from sklearn.utils._param_validation import Interval

from ._kernels_optim import adam_step, momentum_step

DIVERGENCE_RATIO = 100.0
"""The monitored value (less its lower bound) over its first value beyond which training
has diverged."""

RUNAWAY_RATIO = 100.0
"""The parameters' root mean square over ``max(start, 1)`` beyond which they ran away."""

STALL_RATIO = 10.0
"""The monitored value (less its lower bound) over its best at a stop beyond which the stop
is a blow-up that levelled off, not convergence."""


AUTO_MAX_UPDATES = 20_000
"""The cap of an adaptive training length (``n_iter="auto"``), in parameter updates."""

AUTO_PATIENCE_UPDATES = 1_000
"""The least number of updates without improvement that stops an adaptive run (and at
least ``n_iter_no_change`` epochs): on small data an epoch is a few updates, and the
held-out score of a Boltzmann machine can stay level for hundreds of updates before it
improves again."""

AUTO_TOL = 1e-3
"""The improvement that counts in an adaptive run, relative to the best value so far."""

MAX_VALIDATION_ROWS = 2_000
"""The held-out rows of an adaptive run are a ``validation_fraction`` of the rows, at most
this many (scoring them every epoch must cost less than the epoch)."""


CHANCE_RATIO = 0.9
"""The monitored value over its value for a model that learned nothing beyond which a run
is reported as having learned about nothing."""


TRAINING_CONSTRAINTS = {
    "learning_rate": [Interval(Real, 0, None, closed="neither")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, None, None, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "warm_start": ["boolean"],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}
"""``_parameter_constraints`` of the parameters that an estimator hands to the trainer."""


@dataclass
class TrainingHistory:
    """What a model's training has recorded so far; kept by the estimator between calls.

    Attributes
    ----------
    curve : list of float
        The monitored value of every epoch.
    validation_scores : list of float
        The validation score of every epoch that had one.
    best_loss : float
        The lowest monitored value.
    best_validation_score : float or None
        The highest validation score.
    n_epochs, n_updates : int
        Epochs run and parameter updates made (as the epochs reported them).
    first_value : float or None
        The monitored value of the first epoch, the reference of the divergence check.
    initial_rms : float or None
        Root mean square of the watched parameters before the first epoch.
    records : dict of str to list
        The values the hooks returned, one list per name.
    """

    curve: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    best_loss: float = np.inf
    best_validation_score: float = None
    n_epochs: int = 0
    n_updates: int = 0
    first_value: float = None
    initial_rms: float = None
    records: dict = field(default_factory=dict)

    @classmethod
    def start(cls, estimator, curve="loss_curve_", validation=False):
        """A new model's history, its attributes set on the estimator: ``n_iter_ = 0``, an
        empty curve, and ``validation_scores_`` empty with ``validation`` (None without)."""
        history = cls()
        history.set_attributes(estimator, curve, validation=True)
        if not validation:
            estimator.validation_scores_ = None
        return history

    def copy(self):
        return replace(self, curve=list(self.curve),
                       validation_scores=list(self.validation_scores),
                       records={key: list(values) for key, values in self.records.items()})

    def set_attributes(self, estimator, curve="loss_curve_", validation=False):
        """Set ``n_iter_``, the curve (named ``curve``) and ``best_loss_`` on the estimator;
        with ``validation``, also ``validation_scores_`` and ``best_validation_score_``."""
        estimator.n_iter_ = self.n_epochs
        setattr(estimator, curve, self.curve)
        estimator.best_loss_ = self.best_loss
        if validation:
            estimator.validation_scores_ = self.validation_scores
            estimator.best_validation_score_ = self.best_validation_score


def _rms(params):
    """Root mean square of all entries of a dict of arrays (0.0 for no entries)."""
    total, count = 0.0, 0
    for p in params.values():
        flat = p.ravel()
        total += float(np.dot(flat, flat))
        count += flat.size
    return np.sqrt(total / count) if count else 0.0


def _all_finite(params):
    return all(np.isfinite(p).all() for p in params.values())


class EpochLoop:
    """Run epochs with early stopping, divergence checks, curves and verbose output.

    Parameters
    ----------
    name : str
        The estimator's name, for messages.
    history : TrainingHistory or None
        The model's record so far (None: a new model). The loop works on a copy, available
        as ``self.history`` after :meth:`run`; store it only if the call succeeds.
    max_epochs : int or None
        Number of epochs to run, the cap when ``check_convergence``.
    max_updates : int or None
        A cap on the parameter updates of this run (``updates_per_epoch`` per epoch).
    check_convergence : bool
        Stop after ``n_iter_no_change`` epochs without improvement, and warn when a cap is
        reached first (``fit``); False runs every epoch without warning (``partial_fit``).
    tol : float
        Improvement below which an epoch counts as none: a monitored value below the best
        minus ``tol``, or a validation score above the best plus ``tol``.
    relative_tol : bool
        ``tol`` is relative to the best value's magnitude (``tol * |best|``).
    n_iter_no_change : int
        Epochs without improvement that stop the run.
    rate : (str, float)
        Name and value of the parameter that the divergence message says to lower.
    scale_hint : str, callable or None
        Said in the divergence message as the likely cause (e.g. unscaled features); a
        callable is called only then, and may return None.
    advice : str
        Added to the divergence message (other parameters worth lowering).
    cap_name : str
        What to raise when a cap is reached without convergence (for the warning): the
        estimator parameter that sets ``max_epochs``, or a sentence.
    monitor, validation : str
        Names of the monitored value and of the validation score in the verbose line.
    verbose : int
        Print one line per epoch.
    """

    def __init__(self, name, history=None, *, max_epochs=None, max_updates=None,
                 check_convergence=True, tol=1e-4, relative_tol=False, n_iter_no_change=5,
                 rate=("learning_rate", None), scale_hint=None, advice="",
                 cap_name="max_iter", monitor="loss", validation="validation score",
                 verbose=0):
        if max_epochs is None and max_updates is None:
            raise ValueError("EpochLoop needs max_epochs or max_updates.")
        self.name = name
        self.history = TrainingHistory() if history is None else history.copy()
        self.max_epochs, self.max_updates = max_epochs, max_updates
        self.check_convergence = check_convergence
        self.tol, self.n_iter_no_change = tol, n_iter_no_change
        self.relative_tol = relative_tol
        self.rate, self.scale_hint, self.advice = rate, scale_hint, advice
        self.cap_name = cap_name
        self.monitor, self.validation = monitor, validation
        self.verbose = verbose
        self.best_params = None
        self.converged = False
        self.epochs_run = 0

    def run(self, epoch, *, validate=None, params=None, hooks=(), updates_per_epoch=1,
            lower_bound=0.0, initial_value=None, chance_value=None):
        """Run epochs until a cap or the stopping rule; returns ``self``.

        Parameters
        ----------
        epoch : callable
            ``epoch()`` runs one epoch and returns its monitored value (lower is better).
        validate : callable, optional
            ``validate()`` returns a validation score (higher is better). Then the stopping
            rule follows it instead of the monitored value, and ``self.best_params`` holds a
            copy of ``params()`` from the epoch of the best score.
        params : callable, optional
            ``params()`` returns the current parameters, a dict of arrays: checked for
            NaN and for a runaway norm after every epoch.
        hooks : sequence of callable
            ``hook(epoch_number)`` runs after every epoch (after the divergence checks);
            a dict it returns is appended to ``history.records`` by name and shown in the
            verbose line.
        updates_per_epoch : int
            Parameter updates per epoch, counted against ``max_updates``.
        lower_bound : float
            A lower bound of the monitored value; the divergence ratios apply to the value
            minus this bound (e.g. minus the largest possible correlation).
        initial_value : callable, optional
            ``initial_value()`` returns the monitored value before any update (on a new
            model only), the reference of the divergence check; without it, the first
            epoch's value is. It catches a blow-up within the first epoch.
        chance_value : float, optional
            The monitored value of a model that learned nothing (a contrastive loss whose
            scores are all equal): with ``check_convergence``, a run that ends above 90% of
            it gets a :class:`~sklearn.exceptions.ConvergenceWarning` (too large a step can
            flatten such a loss without blowing anything up).
        """
        h = self.history
        watched = params if params is not None else dict
        if h.initial_rms is None:
            h.initial_rms = _rms(watched())
        if h.first_value is None and initial_value is not None:
            h.first_value = float(initial_value())
        no_improvement, start_updates = 0, h.n_updates
        while not self._capped(h.n_updates - start_updates):
            tic = time.perf_counter()
            value = float(epoch())
            self.epochs_run += 1
            h.n_epochs += 1
            h.n_updates += updates_per_epoch
            self._check_divergence(value, watched(), lower_bound)
            extras = {}
            for hook in hooks:
                extras.update(hook(h.n_epochs) or {})
            for key, extra in extras.items():
                h.records.setdefault(key, []).append(extra)
            if h.first_value is None:
                h.first_value = value
            h.curve.append(value)
            message = f"{self.monitor} = {value:.5f}"
            if validate is not None:
                score = float(validate())
                h.validation_scores.append(score)
                message += f", {self.validation} = {score:.4f}"
                best = h.best_validation_score
                no_improvement = 0 if best is None or score > best + self._tol(best) \
                    else no_improvement + 1
                if best is None or score > best:
                    h.best_validation_score = score
                    self.best_params = {k: v.copy() for k, v in watched().items()}
            elif self.check_convergence:
                no_improvement = 0 if value < h.best_loss - self._tol(h.best_loss) \
                    else no_improvement + 1
            h.best_loss = min(h.best_loss, value)
            message += "".join(f", {key} = {extra:.5g}" for key, extra in extras.items())
            if self.verbose:
                print(f"[{self.name}] epoch {h.n_epochs}, {message}, "
                      f"time = {time.perf_counter() - tic:.2f}s")
            if self.check_convergence and no_improvement >= self.n_iter_no_change:
                self._check_not_stalled(value, lower_bound)
                self.converged = True
                if self.verbose:
                    print(f"[{self.name}] no improvement greater than tol={self.tol} for "
                          f"{self.n_iter_no_change} epochs; stopping.")
                break
        if self.check_convergence and not self.converged and h.curve:
            self._check_not_stalled(h.curve[-1], lower_bound)
            warnings.warn(
                f"{self.name}: {self._cap_reached()} was reached and the optimisation has "
                f"not converged yet; {self._raise_cap()}.", ConvergenceWarning, stacklevel=4,
            )
        if self.check_convergence and chance_value and h.curve \
                and h.curve[-1] > CHANCE_RATIO * chance_value:
            name, value = self.rate
            warnings.warn(
                f"{self.name}: its {self.monitor} ended at {h.curve[-1]:.4g}, "
                f"{h.curve[-1] / chance_value:.0%} of its value for a model that learned "
                f"nothing ({chance_value:.4g}). If the data have a signal to learn, lower "
                f"{name} (now {name}={value}).", ConvergenceWarning, stacklevel=4,
            )
        return self

    def _tol(self, best):
        if not self.relative_tol:
            return self.tol
        return self.tol * abs(best) if np.isfinite(best) else 0.0

    def _capped(self, updates):
        return ((self.max_epochs is not None and self.epochs_run >= self.max_epochs)
                or (self.max_updates is not None and updates >= self.max_updates))

    def _raise_cap(self):
        return f"raise {self.cap_name}" if self.cap_name.isidentifier() else self.cap_name

    def _cap_reached(self):
        if self.max_epochs is not None and self.epochs_run >= self.max_epochs:
            return f"the maximum number of epochs {self.cap_name}={self.max_epochs}"
        return f"the maximum number of updates ({self.max_updates})"

    def _check_divergence(self, value, params, lower_bound):
        h = self.history
        if not (np.isfinite(value) and _all_finite(params)):
            self._diverged(f"its {self.monitor} or parameters became NaN or infinite")
        first = None if h.first_value is None else h.first_value - lower_bound
        if first is not None and first > 0 and value - lower_bound > DIVERGENCE_RATIO * first:
            self._diverged(
                f"its {self.monitor} grew from its first value {h.first_value:.4g} to "
                f"{value:.4g} (more than {DIVERGENCE_RATIO:g} times as far above "
                f"{lower_bound:g})" if lower_bound else
                f"its {self.monitor} grew from its first value {h.first_value:.4g} to "
                f"{value:.4g}, more than {DIVERGENCE_RATIO:g} times as large"
            )
        rms = _rms(params)
        if rms > RUNAWAY_RATIO * max(h.initial_rms, 1.0):
            self._diverged(
                f"the root mean square of its parameters ran away from {h.initial_rms:.4g} "
                f"at the start to {rms:.4g}"
            )

    def _check_not_stalled(self, value, lower_bound):
        """A run that stops (or reaches its cap) above its first value and more than
        ``STALL_RATIO`` times above its best blew up and levelled off; it did not converge.
        (Above the first value: a loss that approaches zero may end several times above
        its best and still far below its start.)"""
        h = self.history
        best = h.best_loss - lower_bound
        if best > 0 and value > h.first_value and value - lower_bound > STALL_RATIO * best:
            self._diverged(
                f"its {self.monitor} rose from its best {h.best_loss:.4g} to {value:.4g}, "
                f"above its first value {h.first_value:.4g}, and stopped improving there"
            )

    def _diverged(self, what):
        name, value = self.rate
        message = (f"{self.name} diverged in epoch {self.history.n_epochs}: {what}. "
                   f"Lower {name} (now {name}={value}){self.advice}.")
        hint = self.scale_hint() if callable(self.scale_hint) else self.scale_hint
        if hint:
            message += f" Likely cause: {hint}"
        raise FloatingPointError(message)


# -- optimisers -------------------------------------------------------------------------------


class SGD:
    """Stochastic gradient descent with momentum (Polyak 1964; Sutskever et al. 2013).

    ``v <- momentum * v - learning_rate * g``, then ``p <- p + v``, for every parameter,
    in place and in the parameters' dtype.

    Parameters
    ----------
    learning_rate : float
        Step size.
    momentum : float, default=0.9
        Fraction of the previous step kept.
    """

    state_keys = ("step", "velocity")

    def __init__(self, learning_rate, momentum=0.9):
        self.learning_rate, self.momentum = learning_rate, momentum

    @staticmethod
    def init_state(params):
        """Zero velocities shaped like ``params`` (a dict of arrays)."""
        return {"step": 0, "velocity": {k: np.zeros_like(p) for k, p in params.items()}}

    def update(self, params, grads, state):
        """One step of every parameter that has a gradient in ``grads``, in place."""
        state["step"] += 1
        for key, g in grads.items():
            p, v = params[key], state["velocity"][key]
            flat = _flat_views(p, g, v)
            if flat is not None:
                momentum_step(*flat, self.momentum, self.learning_rate)
                continue
            v *= self.momentum
            v -= self.learning_rate * g
            p += v


class Adam:
    """Adam (Kingma & Ba 2015, Algorithm 1, with the step size of their Section 2).

    ``m <- beta1 m + (1 - beta1) g``, ``v <- beta2 v + (1 - beta2) g^2`` and
    ``p <- p - alpha_t m / (sqrt(v) + epsilon)`` with
    ``alpha_t = learning_rate sqrt(1 - beta2^t) / (1 - beta1^t)``, in place and in the
    parameters' dtype.

    Parameters
    ----------
    learning_rate : float
        Step size ``alpha``.
    beta1, beta2 : float, default=0.9, 0.999
        Decay rates of the moment estimates.
    epsilon : float, default=1e-8
        Added to the root of the second moment.
    """

    state_keys = ("step", "m", "v")

    def __init__(self, learning_rate, beta1=0.9, beta2=0.999, epsilon=1e-8):
        self.learning_rate = learning_rate
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon

    @staticmethod
    def init_state(params):
        """Zero moments shaped like ``params`` (a dict of arrays)."""
        return {"step": 0, "m": {k: np.zeros_like(p) for k, p in params.items()},
                "v": {k: np.zeros_like(p) for k, p in params.items()}}

    def update(self, params, grads, state):
        """One step of every parameter that has a gradient in ``grads``, in place."""
        state["step"] += 1
        t = state["step"]
        beta1, beta2 = self.beta1, self.beta2
        rate = self.learning_rate * np.sqrt(1 - beta2**t) / (1 - beta1**t)
        for key, g in grads.items():
            p, m, v = params[key], state["m"][key], state["v"][key]
            flat = _flat_views(p, g, m, v)
            if flat is not None:
                adam_step(*flat, beta1, beta2, rate, self.epsilon)
                continue
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            p -= m.dtype.type(rate) * m / (np.sqrt(v) + self.epsilon)


def _flat_views(p, g, *state):
    """1-D views of a parameter array, its gradient (a contiguous copy if need be) and its
    state arrays for the compiled steps, or None where they do not apply (arrays of other
    dtypes or layouts, which the numpy form updates)."""
    if not (isinstance(p, np.ndarray) and p.dtype in (np.float32, np.float64)
            and p.flags.c_contiguous and p.flags.writeable
            and all(a.dtype == p.dtype and a.shape == p.shape and a.flags.c_contiguous
                    for a in state)):
        return None
    g = np.ascontiguousarray(g, dtype=p.dtype)
    if g.shape != p.shape:
        return None
    return (p.reshape(-1), g.reshape(-1), *(a.reshape(-1) for a in state))


def make_optimizer(solver, learning_rate, momentum=0.9):
    """``SGD(learning_rate, momentum)`` for ``"sgd"``, ``Adam(learning_rate)`` for ``"adam"``."""
    if solver == "sgd":
        return SGD(learning_rate, momentum)
    if solver == "adam":
        return Adam(learning_rate)
    raise ValueError(f"Unknown solver {solver!r}; expected 'sgd' or 'adam'.")


def resume_state(optimizer, stored, params):
    """The optimiser state to continue from: a copy of ``stored`` if it belongs to the same
    kind of optimiser and the same parameters, else a fresh one (after a change of
    ``solver``, or of the parameters trained)."""
    if stored is None or tuple(stored) != optimizer.state_keys or any(
            isinstance(part, dict) and set(part) != set(params) for part in stored.values()):
        return optimizer.init_state(params)
    return {key: ({name: a.copy() for name, a in part.items()} if isinstance(part, dict)
                  else part) for key, part in stored.items()}


# -- mini-batches -----------------------------------------------------------------------------


def minibatch_epoch(order, batch_size, objective, params, optimizer, state, *,
                    after_update=None, min_batch_size=1, drop_last=False):
    """One epoch of mini-batch updates over the rows ``order`` (already shuffled).

    Parameters
    ----------
    order : ndarray of int
        Row indices in the epoch's order.
    batch_size : int
        Rows per update; the last batch may be smaller (at least ``min_batch_size``; with
        ``drop_last`` it is skipped unless full).
    objective : callable
        ``objective(rows)`` returns the batch's mean loss and its gradients (a dict keyed
        like ``params``, only the trained entries).
    params : dict of ndarray
        Updated in place by ``optimizer.update(params, grads, state)``.
    after_update : callable, optional
        ``after_update(rows)`` runs after every update (projections, counters).

    Returns
    -------
    loss : float
        The mean over the epoch's rows of the batches' losses (0.0 without batches).
    """
    total, count = 0.0, 0
    n = order.size
    if drop_last:
        batches = (slice(start, start + batch_size)
                   for start in range(0, n - batch_size + 1, batch_size))
    else:
        batches = gen_batches(n, batch_size, min_batch_size=min_batch_size)
    # Overflow is reported by the divergence checks, not as warnings.
    with np.errstate(over="ignore", invalid="ignore"):
        for batch in batches:
            rows = order[batch]
            loss, grads = objective(rows)
            total += loss * rows.size
            count += rows.size
            optimizer.update(params, grads, state)
            if after_update is not None:
                after_update(rows)
    return total / max(count, 1)


def n_minibatches(n_rows, batch_size, min_batch_size=1, drop_last=False):
    """Number of updates :func:`minibatch_epoch` makes over ``n_rows`` rows."""
    if drop_last:
        return n_rows // batch_size
    full, rest = divmod(n_rows, batch_size)
    if rest and full and rest < min_batch_size:
        return full  # gen_batches merges a short last batch into the one before
    return full + (rest > 0)


def validation_split(n_samples, fraction, rng, stratify=None, what="samples"):
    """Indices of a training and a validation part for early stopping.

    A ``fraction`` of the rows is held out, stratified by ``stratify`` when every class
    has at least 2 rows (and the split allows it), with the seed drawn from ``rng``.

    Returns
    -------
    train, validation : ndarray of int
        Row indices, each part of at least 2 rows.
    """
    index = np.arange(n_samples)
    if stratify is not None and np.unique(stratify, return_counts=True)[1].min() < 2:
        stratify = None
    seed = int(rng.integers(np.iinfo(np.int32).max))
    try:
        train, val = train_test_split(index, test_size=fraction, random_state=seed,
                                      stratify=stratify)
    except ValueError:
        train, val = train_test_split(index, test_size=fraction, random_state=seed)
    if val.size < 2 or train.size < 2:
        raise ValueError(
            f"validation_fraction={fraction} of {n_samples} {what} leaves {val.size} for "
            f"validation and {train.size} for training; early stopping needs at least 2 of "
            "each. Use more data, another fraction, or early_stopping=False."
        )
    return train, val


def holdout_rows(n_samples, fraction, rng):
    """Training and held-out rows of an adaptive run (``n_iter="auto"``), sorted.

    A ``fraction`` of the rows, at most :data:`MAX_VALIDATION_ROWS`, drawn by ``rng``, is
    held out. When that leaves fewer than 2 rows on either side the held-out rows are the
    training rows themselves (on so little data the stopping rule can only follow the fit).
    """
    n_val = min(MAX_VALIDATION_ROWS, int(round(fraction * n_samples)))
    if n_val < 2 or n_samples - n_val < 2:
        rows = np.arange(n_samples)
        return rows, rows
    order = rng.permutation(n_samples)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def auto_patience(updates_per_epoch, n_iter_no_change):
    """Epochs without improvement that stop an adaptive run: ``n_iter_no_change``, and at
    least :data:`AUTO_PATIENCE_UPDATES` updates."""
    per_epoch = max(int(updates_per_epoch), 1)
    return max(int(n_iter_no_change), -(-AUTO_PATIENCE_UPDATES // per_epoch))
