"""Multimodal restricted Boltzmann machine trained by maximum likelihood (CD-k / PCD)."""

import time
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import gen_batches
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._modalities import per_modality, validate_modal_data
from .._utils import as_generator, keep_state_on_error
from .._random import bernoulli, new_state
from ._kernels_units import sigmoid, sigmoid_sample
from ._kernels_graph import length_bias, momentum_step
from ._units import VISIBLE_UNITS

_CHUNK_ROWS = 2048
_MONITOR_ROWS = 256


def _dense_rows(X, rows, dtype, out=None):
    """Rows of X as a C-contiguous dense array (sparse rows densified here only).

    With ``out`` (a buffer of at least ``len(rows)`` rows, of ``dtype``) dense rows are
    gathered into it without allocating; the filled part is returned.
    """
    if sp.issparse(X):
        return X[rows].toarray().astype(dtype, copy=False)
    if out is not None and X.dtype == dtype:
        return np.take(X, rows, axis=0, out=out[: len(rows)])
    return np.take(X, rows, axis=0).astype(dtype, copy=False)


def _on_block(columns, func, pre, bias, *outs):
    """Call ``func(pre_block, bias_block, *out_blocks)`` on one modality's columns.

    Column slices are passed as views; index arrays are gathered and scattered back.
    """
    if isinstance(columns, slice):
        func(pre[:, columns], bias[:, columns], *(out[:, columns] for out in outs))
        return
    blocks = [np.empty((pre.shape[0], columns.size), dtype=out.dtype) for out in outs]
    func(np.ascontiguousarray(pre[:, columns]), bias[:, columns], *blocks)
    for out, block in zip(outs, blocks):
        out[:, columns] = block


def _unit_groups(columns, units):
    """Blocks of columns that one unit call can handle: ``(columns, units, modality)``.

    Neighbouring modalities with the same unit type and no document length are merged, so a
    two-modality binary model activates its visible layer in one contiguous call.
    """
    groups = []
    for m, (cols, u) in enumerate(zip(columns, units)):
        if groups and not u.has_length and groups[-1][1] is u and \
                isinstance(cols, slice) and isinstance(groups[-1][0], slice) and \
                groups[-1][0].stop == cols.start:
            groups[-1] = (slice(groups[-1][0].start, cols.stop), u, groups[-1][2])
        else:
            groups.append((cols, u, m))
    return groups


def _resample_binary(model, v, state):
    """Replace binary modalities' values (probabilities) by 0/1 draws, in place."""
    for cols, units, _ in model.groups:
        if units.name == "binary":
            _on_block(cols, lambda p, _, o: bernoulli(p, state, o), v, v, v)


class _RBMModel:
    """The parameters and structure of a multimodal RBM, with its inference routines.

    Energy (seed 001 Eq. 5, with each modality's own unit term, see ``_units``)::

        E(v, h) = - sum_m v_m^T W_m^T h - b^T h - sum_m D_m a_m^T h + sum_m E_m(v_m; c_m)

    ``W`` is ``(n_hidden, n_features)``; ``a`` (``length_bias``) is ``(n_modalities,
    n_hidden)``, used only for Replicated Softmax modalities (``D_m`` their document lengths).
    The estimator's fitted arrays are used without copy for inference; training works on a
    :meth:`copy`.
    """

    def __init__(self, W, b, c, length_bias, columns, units, mean_length):
        self.W, self.b, self.c, self.length_bias = W, b, c, length_bias
        self.columns, self.units = columns, units
        self.mean_length = mean_length
        self.uses_length = any(u.has_length for u in units)
        self.groups = _unit_groups(columns, units)

    def copy(self):
        return _RBMModel(
            self.W.copy(), self.b.copy(), self.c.copy(), self.length_bias.copy(),
            self.columns, self.units, self.mean_length.copy(),
        )

    @property
    def dtype(self):
        return self.W.dtype

    def is_finite(self):
        return all(
            np.isfinite(a).all() for a in (self.W, self.b, self.c, self.length_bias)
        )

    # -- conditionals -----------------------------------------------------------------------

    def lengths(self, v, missing=None):
        """Per-row document length of each modality, (n, n_modalities); 0 if not counts.

        A missing modality gets the mean training length.
        """
        L = np.zeros((v.shape[0], len(self.units)), dtype=self.dtype)
        if not self.uses_length:
            return L
        for m, (cols, units) in enumerate(zip(self.columns, self.units)):
            if units.has_length:
                present = slice(None) if missing is None else ~missing[:, m]
                L[present, m] = units.length(v[present][:, cols])
                if missing is not None:
                    L[missing[:, m], m] = self.mean_length[m]
        return L

    def hidden_bias(self, L):
        """The hidden bias of each row: ``(1, n_hidden)``, or ``(n, n_hidden)`` with lengths."""
        if not self.uses_length:
            return self.b[None, :]
        out = np.empty((L.shape[0], self.b.shape[0]), dtype=self.dtype)
        length_bias(self.b[None, :], L, self.length_bias, out)
        return out

    def hidden_pre(self, v, out=None):
        return np.matmul(v, self.W.T, out=out)

    def visible_mean(self, h, L, out):
        """``out = E[v | h]`` for every modality."""
        np.matmul(h, self.W, out=out)
        c = self.c[None, :]
        for cols, units, m in self.groups:
            _on_block(cols, lambda p, bi, o: units.mean(p, bi, L[:, m], o), out, c, out)

    def visible_sample(self, h, L, state, mean, sample):
        """``sample ~ p(v | h)``, with ``mean = E[v | h]``."""
        np.matmul(h, self.W, out=mean)
        c = self.c[None, :]
        for cols, units, m in self.groups:
            _on_block(
                cols, lambda p, bi, o, s: units.sample(p, bi, L[:, m], state, o, s),
                mean, c, mean, sample,
            )

    # -- mean-field inference (seed 001 Eq. 8) ---------------------------------------------

    def mean_field(self, v, missing, n_iter, tol):
        """Infer missing modalities by mean-field; fill them in ``v`` in place, return q(h).

        The first hidden estimate uses the present modalities only, their input scaled by
        ``n_modalities / n_present`` to stand in for the missing ones (as the authors' code
        of seed 001 does, like the doubled inputs that initialise a DBM). Then it alternates
        ``v_m = E[v_m | h]`` for the missing modalities and ``h = sigmoid(W v + b)`` (Eq. 8)
        until the largest change of ``h`` is at most ``tol`` or ``n_iter`` updates of ``v_m``
        were made; the returned missing blocks are the expectation under the returned ``h``.
        Rows are processed in groups with the same missing pattern; complete rows take the
        exact posterior.
        """
        n = v.shape[0]
        h = np.empty((n, self.W.shape[0]), dtype=self.dtype)
        L = self.lengths(v, missing)
        incomplete = missing.any(axis=1)
        complete = np.flatnonzero(~incomplete)
        if complete.size:
            vc = v if complete.size == n else v[complete]
            hc = self.hidden_pre(vc)
            sigmoid(hc, self.hidden_bias(L[complete]), hc)
            h[complete] = hc
        if not incomplete.any():
            return h
        patterns, group = np.unique(missing[incomplete], axis=0, return_inverse=True)
        rows_incomplete = np.flatnonzero(incomplete)
        for g, pattern in enumerate(patterns):
            rows = rows_incomplete[group.reshape(-1) == g]
            h[rows] = self._mean_field_group(v, rows, np.flatnonzero(pattern), L, n_iter, tol)
        return h

    def _mean_field_group(self, v, rows, missing_modalities, L, n_iter, tol):
        vr = v[rows]
        Lr = L[rows]
        for m in missing_modalities:
            vr[:, self.columns[m]] = 0
        present = self.hidden_pre(vr)
        bias = self.hidden_bias(Lr)
        h = np.empty_like(present)
        scale = len(self.units) / max(len(self.units) - len(missing_modalities), 1)
        sigmoid(scale * present, bias, h)
        base = present + bias
        zero_bias = np.zeros((1, base.shape[1]), dtype=self.dtype)
        blocks = [(self.columns[m], self.units[m], self.W[:, self.columns[m]], m)
                  for m in missing_modalities]
        for _ in range(n_iter):
            pre = base.copy()
            for cols, units, Wm, m in blocks:
                block = np.matmul(h, Wm)
                units.mean(block, self.c[None, cols], Lr[:, m], block)
                vr[:, cols] = block
                pre += block @ Wm.T
            h_new = np.empty_like(h)
            sigmoid(pre, zero_bias, h_new)
            delta = np.max(np.abs(h_new - h)) if h.size else 0.0
            h = h_new
            if delta <= tol:
                break
        for cols, units, Wm, m in blocks:
            block = np.matmul(h, Wm)
            units.mean(block, self.c[None, cols], Lr[:, m], block)
            vr[:, cols] = block
        v[rows] = vr
        return h

    # -- energies and likelihoods ----------------------------------------------------------

    def free_energy(self, v):
        """``F(v) = -log sum_h exp(-E(v, h))`` for complete rows, float64."""
        L = self.lengths(v)
        pre = self.hidden_pre(v).astype(np.float64) + self.hidden_bias(L)
        F = -np.logaddexp(0, pre).sum(axis=1)
        for cols, units in zip(self.columns, self.units):
            F += units.free_energy(v[:, cols], self.c[cols])
        return F

    def cross_modal_log_likelihood(self, v, missing, n_iter, tol):
        """Mean-field estimate of ``sum_m log p(v_m | v_{-m})`` over present modalities.

        Each present modality in turn is hidden, inferred by mean-field from the others present
        in the row, and its values scored under the factorised conditional of its units.
        """
        total = np.zeros(v.shape[0], dtype=np.float64)
        L = self.lengths(v, missing)
        for m, (cols, units) in enumerate(zip(self.columns, self.units)):
            rows = np.flatnonzero(~missing[:, m])
            if not rows.size:
                continue
            hide = missing[rows].copy()
            hide[:, m] = True
            filled = v[rows].copy()
            self.mean_field(filled, hide, n_iter, tol)
            total[rows] += units.log_likelihood(v[rows][:, cols], filled[:, cols], L[rows, m])
        return total


class _BaseBoltzmann(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Input validation, chunked inference and tags of every Boltzmann estimator.

    Fitted subclasses have ``components_`` (whose dtype inference works in),
    ``modalities_`` and ``visible_units_``.
    """

    # -- validation -------------------------------------------------------------------------

    def _validate_input(self, X, *, reset, allow_all_missing=False):
        dtype = [np.float64, np.float32] if reset else self.components_.dtype
        X, missing, ranges = validate_modal_data(
            self, X, reset=reset, dtype=dtype, allow_all_missing=allow_all_missing
        )
        if reset:
            self.visible_units_ = self._resolve_visible_units()
        for (name, _), units_name, (low, high) in zip(
            self.modalities_, self.visible_units_, ranges
        ):
            VISIBLE_UNITS[units_name].check(low, high, name)
        return X, missing

    def _resolve_visible_units(self):
        units = per_modality(self.visible_units, "visible_units", len(self.modalities_))
        for (name, _), u in zip(self.modalities_, units):
            if u not in VISIBLE_UNITS:
                raise ValueError(
                    f"Unknown visible_units {u!r} for modality {name!r}; choose from "
                    f"{sorted(VISIBLE_UNITS)}."
                )
        return units

    # -- monitoring -------------------------------------------------------------------------

    def _reconstruction_error(self, model, v, missing):
        """Mean squared error of the one-step mean-field reconstruction of present values
        by an ``_RBMModel``."""
        if not v.shape[0]:
            return np.nan
        filled = v.copy()
        h = model.mean_field(filled, missing, self.n_mean_field, self.mean_field_tol)
        recon = np.empty_like(filled)
        model.visible_mean(h, model.lengths(filled, missing), recon)
        error, count = 0.0, 0
        for m, cols in enumerate(model.columns):
            present = ~missing[:, m]
            diff = (v[present][:, cols] - recon[present][:, cols]).astype(np.float64)
            error += np.einsum("ij,ij->", diff, diff)
            count += diff.size
        return error / max(count, 1)

    # -- inference --------------------------------------------------------------------------

    def _chunks(self, X, missing):
        """Dense row chunks of X with their missing masks, bounded in memory."""
        dtype = self.components_.dtype
        for chunk in gen_batches(X.shape[0], _CHUNK_ROWS):
            if sp.issparse(X):
                v = X[chunk].toarray().astype(dtype, copy=False)
            else:
                v = np.array(X[chunk], dtype=dtype, order="C")
            yield chunk, v, missing[chunk]

    def _cross_modal_scores(self, X):
        """``sum_m log p(v_m | v_-m)`` per row, by the fitted model's
        ``cross_modal_log_likelihood``."""
        check_is_fitted(self)
        X, missing = self._validate_input(X, reset=False)
        model = self._model()
        scores = np.empty(X.shape[0], dtype=np.float64)
        for chunk, v, miss in self._chunks(X, missing):
            scores[chunk] = model.cross_modal_log_likelihood(
                v, miss, self.n_mean_field, self.mean_field_tol
            )
        return scores

    def score(self, X, y=None):
        """Mean of :meth:`score_samples` over the rows of X; higher is better.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.
        y : None
            Ignored.

        Returns
        -------
        score : float
            Mean of :meth:`score_samples`.
        """
        return float(np.mean(self.score_samples(X)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class _BaseMultimodalRBM(_BaseBoltzmann):
    """Shared machinery of the multimodal RBM estimators.

    Subclasses define the per-batch update (:meth:`_batch_update`); this class owns parameter
    validation, initialisation, the epoch loop, persistence across ``partial_fit`` calls and
    every inference method.
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "modalities": [None, list, tuple],
        "visible_units": [StrOptions(set(VISIBLE_UNITS)), list, tuple],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "learning_rate_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_iter": [Interval(Integral, 1, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "resample_binary": ["boolean"],
        "sparsity_target": [Interval(Real, 0, 1, closed="neither")],
        "sparsity_cost": [Interval(Real, 0, None, closed="left")],
        "n_mean_field": [Interval(Integral, 0, None, closed="left")],
        "mean_field_tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    # -- fitted model -----------------------------------------------------------------------

    def _model(self):
        return _RBMModel(
            self.components_, self.intercept_hidden_, self.intercept_visible_,
            self.hidden_length_bias_, [c for _, c in self.modalities_],
            [VISIBLE_UNITS[u] for u in self.visible_units_], self.mean_length_,
        )

    def _store(self, model):
        self.components_ = model.W
        self.intercept_hidden_ = model.b
        self.intercept_visible_ = model.c
        self.hidden_length_bias_ = model.length_bias
        self.mean_length_ = model.mean_length

    @property
    def _n_features_out(self):
        return self.n_components

    @property
    def modality_weights_(self):
        """dict of str to ndarray: each modality's weights, ``(n_components, n_features_m)``."""
        check_is_fitted(self)
        return {name: self.components_[:, cols] for name, cols in self.modalities_}

    @property
    def modality_intercepts_(self):
        """dict of str to ndarray: each modality's visible biases, ``(n_features_m,)``."""
        check_is_fitted(self)
        return {name: self.intercept_visible_[cols] for name, cols in self.modalities_}

    # -- initialisation ---------------------------------------------------------------------

    def _initial_model(self, X, missing, rng):
        n_features = X.shape[1]
        dtype = X.dtype
        n_modalities = len(self.modalities_)
        W = (0.01 * rng.standard_normal((self.n_components, n_features))).astype(dtype)
        c = np.zeros(n_features, dtype=dtype)
        mean_length = np.zeros(n_modalities, dtype=dtype)
        model = _RBMModel(
            W, np.zeros(self.n_components, dtype=dtype), c,
            np.zeros((n_modalities, self.n_components), dtype=dtype),
            [cols for _, cols in self.modalities_],
            [VISIBLE_UNITS[u] for u in self.visible_units_], mean_length,
        )
        sample_rows = rng.permutation(X.shape[0])[:10000]
        for m, (name, cols) in enumerate(self.modalities_):
            rows = sample_rows[~missing[sample_rows, m]]
            if not rows.size:
                raise ValueError(
                    f"Modality {name!r} is missing in every training row; there is nothing to "
                    "learn it from."
                )
            block = X[rows][:, cols]
            units = model.units[m]
            c[cols] = units.init_bias(np.asarray(block.mean(axis=0), dtype=np.float64).ravel())
            if units.has_length:
                mean_length[m] = np.asarray(block.sum(axis=1), dtype=np.float64).mean()
        return model

    # -- training ---------------------------------------------------------------------------

    @keep_state_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the model to X by ``n_iter`` epochs of mini-batch training.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data, the modalities' columns side by side; a missing modality is its
            whole block set to NaN (see the class docstring for how such rows are used).
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        warm = self.warm_start and hasattr(self, "components_")
        X, missing = self._validate_input(X, reset=not warm)
        if not warm:
            self._start(X, missing)
        self._train(X, missing, self.n_iter)
        return self

    @keep_state_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train for one epoch over X (mini-batches of ``batch_size``), continuing the model.

        The first call initialises the model; later calls continue it, including momentum and
        persistent chains, so a stream of chunks trains like one long run.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The updated estimator.
        """
        first = not hasattr(self, "components_")
        X, missing = self._validate_input(X, reset=first)
        if first:
            self._start(X, missing)
        self._train(X, missing, 1)
        return self

    def _start(self, X, missing):
        self._rng = as_generator(self.random_state)
        self._store(self._initial_model(X, missing, self._rng))
        self._velocity = None
        self._chains = None
        self._state = new_state(self._rng)
        self.n_iter_ = 0
        self.reconstruction_error_curve_ = []

    def _train(self, X, missing, n_epochs):
        """Run ``n_epochs`` epochs on a copy of the model and store it if all went well."""
        rng = self._rng
        model = self._model().copy()
        velocity = self._velocity_copy(model)
        chains = self._chains_copy(X, missing, model, rng)
        state = self._state.copy()
        workspace = {}
        curve = list(self.reconstruction_error_curve_)
        monitor = np.unique(np.linspace(0, X.shape[0] - 1, _MONITOR_ROWS).astype(np.intp))
        X_monitor, missing_monitor = _dense_rows(X, monitor, model.dtype), missing[monitor]
        n_samples = X.shape[0]
        batch_buffer = np.empty((min(self.batch_size, n_samples), X.shape[1]), model.dtype)
        for epoch in range(n_epochs):
            tic = time.perf_counter()
            lr = self.learning_rate / (1.0 + self.learning_rate_decay * (self.n_iter_ + epoch))
            order = rng.permutation(n_samples)
            # Overflow is detected below and reported as divergence, not as warnings.
            with np.errstate(over="ignore", invalid="ignore"):
                done = self._compiled_epoch(model, velocity, chains, X, missing, order, state,
                                            workspace, lr)
                for batch in gen_batches(n_samples - done, self.batch_size):
                    rows = order[done:][batch]
                    v = _dense_rows(X, rows, model.dtype, out=batch_buffer)
                    if self.resample_binary:
                        _resample_binary(model, v, state)
                    self._batch_update(model, velocity, chains, v, missing[rows], state,
                                       workspace, lr)
            if not model.is_finite():
                raise FloatingPointError(
                    f"{type(self).__name__} diverged: its parameters became NaN or infinite "
                    f"in epoch {self.n_iter_ + epoch + 1} with learning_rate="
                    f"{self.learning_rate}. Lower the learning_rate (or the momentum); "
                    "Gaussian units also need standardised features."
                )
            curve.append(self._reconstruction_error(model, X_monitor, missing_monitor))
            if self.verbose:
                print(
                    f"[{type(self).__name__}] epoch {self.n_iter_ + epoch + 1}, "
                    f"reconstruction error = {curve[-1]:.5f}, "
                    f"time = {time.perf_counter() - tic:.2f}s"
                )
        self._warn_if_collapsed(model, X_monitor, missing_monitor, self.n_iter_ + n_epochs)
        self._store(model)
        self._velocity = velocity
        self._chains = chains
        self._state = state
        self.n_iter_ += n_epochs
        self.reconstruction_error_curve_ = curve

    def _compiled_epoch(self, model, velocity, chains, X, missing, order, state, workspace,
                        lr):
        """Train on the first batches of the epoch's ``order`` in one compiled call where the
        estimator has one; returns how many rows it used (none here: every batch goes
        through :meth:`_batch_update`)."""
        return 0

    def _warn_if_collapsed(self, model, v, missing, n_epochs_done):
        """ConvergenceWarning if the hidden units no longer depend on the data: on the
        monitored rows (which differ), every unit's mean-field probability is the same to
        1e-6, or below 1e-3 on every row, or above 1 - 1e-3 on every row. Too large a step
        drives all hidden units off this way rather than to NaN (measured: 256 units at
        learning_rate 0.1 on standardised Gaussian features, in 3 epochs, every probability
        below 1e-4 at seeds 0-7, varying by 1e-8 to 8e-5 over the rows: the first test
        alone missed half of them)."""
        if v.shape[0] < 2 or not np.ptp(np.nan_to_num(v), axis=0).any():
            return  # rows that do not differ cannot tell
        h = model.mean_field(v.copy(), missing, self.n_mean_field, self.mean_field_tol)
        stuck = ((np.ptp(h, axis=0) < 1e-6) | (h.max(axis=0) < 1e-3)
                 | (h.min(axis=0) > 1 - 1e-3))
        if not stuck.all():
            return
        warnings.warn(
            f"{type(self).__name__}'s hidden units stopped depending on the data after "
            f"{n_epochs_done} epochs: each is off (or on) for every row or has the same "
            f"probability for all (mean {h.mean():.3g}), so transform returns about a "
            f"constant. learning_rate="
            f"{self.learning_rate} is likely too large; lower it.{self._step_advice(model)}",
            ConvergenceWarning, stacklevel=3,
        )

    def _step_advice(self, model):
        """What the collapse warning adds about stable steps for ``model``."""
        if not any(units.name == "gaussian" for units in model.units):
            return ""
        limit = 2.0 * (1.0 + self.momentum) / model.W.shape[0]
        return (f" With Gaussian visible units, steps above 2 (1 + momentum) / "
                f"n_components = {limit:.3g} are unstable.")

    def _velocity_copy(self, model):
        if self._velocity is not None:
            return {k: v.copy() for k, v in self._velocity.items()}
        return {
            "W": np.zeros_like(model.W), "b": np.zeros((1, model.b.size), model.dtype),
            "c": np.zeros((1, model.c.size), model.dtype),
            "length_bias": np.zeros_like(model.length_bias),
        }

    def _chains_copy(self, X, missing, model, rng):
        """Persistent chains, or None when the method does not use them."""
        return None

    def _sparsity_step(self, gb_pos, n_pos):
        """Pull the positive hidden-bias statistics towards the sparsity target, in place.

        ``gb_pos`` holds the summed hidden probabilities of the batch; subtracting
        ``n_pos * sparsity_cost * (mean - sparsity_target)`` adds the gradient of the penalty
        ``sparsity_cost * ||mean - sparsity_target||^2 / 2`` on the hidden biases (Lee,
        Ekanadham & Ng 2008), with ``mean`` the batch's mean activation of each hidden unit.
        """
        if self.sparsity_cost:
            gb_pos -= self.sparsity_cost * (gb_pos - n_pos * self.sparsity_target)

    # -- inference --------------------------------------------------------------------------

    def transform(self, X):
        """Joint hidden representation of X, from whichever modalities each row has.

        Rows with every modality present get the exact posterior ``P(h = 1 | v)`` (seed 001
        Eq. 6); a missing modality is inferred jointly by the mean-field iterations of Eq. 8
        (see ``n_mean_field``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data; missing modalities are whole NaN blocks. Rows need at least one modality.

        Returns
        -------
        H : ndarray of shape (n_samples, n_components)
            Mean-field posterior probabilities of the hidden units.
        """
        check_is_fitted(self)
        X, missing = self._validate_input(X, reset=False)
        model = self._model()
        H = np.empty((X.shape[0], self.n_components), dtype=model.dtype)
        for chunk, v, miss in self._chunks(X, missing):
            H[chunk] = model.mean_field(v, miss, self.n_mean_field, self.mean_field_tol)
        return H

    def impute(self, X):
        """Fill missing modalities with their mean-field expectations.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data with missing modalities as whole NaN blocks.

        Returns
        -------
        X_imputed : ndarray of shape (n_samples, n_features)
            Dense copy of X where each NaN block holds ``E[v_m | h]`` under the mean-field
            posterior of :meth:`transform` (probabilities for binary units, means for Gaussian
            ones, expected counts at the mean training length for Replicated Softmax).
        """
        check_is_fitted(self)
        X, missing = self._validate_input(X, reset=False)
        model = self._model()
        out = np.empty(X.shape, dtype=model.dtype)
        for chunk, v, miss in self._chunks(X, missing):
            model.mean_field(v, miss, self.n_mean_field, self.mean_field_tol)
            out[chunk] = v
        return out

    def sample(self, X, n_steps=100, random_state=None):
        """Draw missing modalities from the model given the observed ones (Gibbs sampling).

        The chain starts at the mean-field solution, then alternates ``h ~ p(h | v)`` and
        ``v_m ~ p(v_m | h)`` for the missing modalities, the observed ones clamped. Replicated
        Softmax blocks are drawn with the mean training document length (rounded).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data with missing modalities as whole NaN blocks.
        n_steps : int, default=100
            Number of Gibbs steps.
        random_state : int, RandomState instance or None, default=None
            Seed of the draws.

        Returns
        -------
        X_sampled : ndarray of shape (n_samples, n_features)
            Dense copy of X whose NaN blocks hold the last Gibbs draw.
        """
        check_is_fitted(self)
        if not isinstance(n_steps, Integral) or n_steps < 1:
            raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}.")
        X, missing = self._validate_input(X, reset=False)
        model = self._model()
        state = new_state(as_generator(random_state))
        out = np.empty(X.shape, dtype=model.dtype)
        for chunk, v, miss in self._chunks(X, missing):
            model.mean_field(v, miss, self.n_mean_field, self.mean_field_tol)
            L = model.lengths(v, miss)
            L[miss] = np.round(L[miss])
            clamp = np.zeros_like(v, dtype=bool)
            for m, cols in enumerate(model.columns):
                clamp[:, cols] = ~miss[:, m][:, None]
            observed = v[clamp]
            bias = model.hidden_bias(L)
            h_prob = np.empty((v.shape[0], self.n_components), dtype=model.dtype)
            h = np.empty_like(h_prob)
            mean = np.empty_like(v)
            for _ in range(n_steps):
                sigmoid_sample(model.hidden_pre(v), bias, state, h_prob, h)
                model.visible_sample(h, L, state, mean, v)
                v[clamp] = observed
            out[chunk] = v
        return out

    def free_energy(self, X):
        """Free energy ``F(v) = -log sum_h exp(-E(v, h))`` of complete rows.

        ``log p(v) = -F(v) - log Z``; lower free energy means more probable.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Complete data (no missing modality).

        Returns
        -------
        F : ndarray of shape (n_samples,)
            Free energies, float64.
        """
        check_is_fitted(self)
        X, missing = self._validate_input(X, reset=False)
        if missing.any():
            raise ValueError(
                "free_energy needs every modality present; rows "
                f"{np.flatnonzero(missing.any(axis=1))[:10].tolist()} have a missing one."
            )
        model = self._model()
        F = np.empty(X.shape[0], dtype=np.float64)
        for chunk, v, _ in self._chunks(X, missing):
            F[chunk] = model.free_energy(v)
        return F

    def score_samples(self, X):
        """Cross-modal log-likelihood of each row: ``sum_m log p(v_m | v_{-m})``.

        Each present modality in turn is hidden and inferred by mean-field (Eq. 8) from the
        other modalities present in the row; its observed values are scored under the
        factorised conditional of its units (Bernoulli cross-entropy, unit-variance Gaussian
        density, multinomial probability of the counts). This is the mean-field estimate of
        the negative variation of information objective of seed 001 (Eq. 2), the quantity
        that matters when a modality is missing at prediction time; unlike the likelihood it
        needs no partition function, so it compares models and hyper-parameters.

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


class MultimodalRBM(_BaseMultimodalRBM):
    """Multimodal restricted Boltzmann machine trained by maximum likelihood.

    One layer of binary hidden units shared by all modalities (seed 001 Eq. 5-7)::

        P(h_k = 1 | v) = sigmoid(sum_m W_m[k] . v_m + b_k + sum_m D_m a_mk)      (Eq. 6)
        p(v_m | h)     = the modality's unit type with mean units(W_m^T h + c_m) (Eq. 7)

    trained by stochastic gradient ascent on the log-likelihood, the model statistics
    estimated by contrastive divergence (``method="cd"``, k Gibbs steps from the data) or
    persistent contrastive divergence (``method="pcd"``, ``n_chains`` persistent chains,
    independent of the batch size). Each modality has its own visible unit type: ``binary``,
    unit-variance ``gaussian`` (standardise those features) or ``replicated_softmax`` for
    word counts, whose document length scales a hidden bias of its own.

    :meth:`transform` returns the joint hidden posterior from whichever modalities a row has;
    a missing modality (its whole block NaN) is inferred by mean-field (Eq. 8).

    Read more in the :ref:`User Guide <data_model>`.

    Parameters
    ----------
    n_components : int, default=256
        Number of hidden units (the width of the joint representation).
    modalities : None, list of int or list of (str, columns) tuples, default=None
        Which columns form which modality. ``None``: two modalities, the first
        ``n_features // 2`` columns and the rest. A list of ints gives consecutive block
        widths; ``(name, columns)`` pairs give columns as a slice, int indices or DataFrame
        column names. Every column belongs to exactly one modality.
    visible_units : {"gaussian", "binary", "replicated_softmax"} or list of str, \
            default="gaussian"
        Unit type of every modality, or one per modality. Binary units accept values in
        [0, 1] (grey levels are read as probabilities); Replicated Softmax units accept
        non-negative counts.
    method : {"cd", "pcd"}, default="cd"
        Contrastive divergence with ``k`` steps from the data, or persistent contrastive
        divergence with ``k`` steps per update of ``n_chains`` persistent chains.
    k : int, default=1
        Number of Gibbs steps per update.
    n_chains : int, default=100
        Number of persistent chains (``method="pcd"`` only).
    learning_rate : float, default=0.01
        Step size of the updates (the gradients are means over the batch).
    learning_rate_decay : float, default=0.0
        The step size of epoch ``t`` (counted from 0 over all calls to :meth:`fit` with
        ``warm_start`` and :meth:`partial_fit`) is ``learning_rate / (1 + learning_rate_decay
        * t)``.
    batch_size : int, default=32
        Number of rows per mini-batch; the last, shorter batch is scaled by its own size.
    n_iter : int, default=20
        Number of epochs of :meth:`fit`. Rows are reshuffled every epoch.
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
        Weight of the sparsity penalty ``||mean_activation - sparsity_target||^2 / 2`` on the
        hidden biases (Lee, Ekanadham & Ng 2008); 0 switches it off.
    n_mean_field : int, default=20
        Maximum number of mean-field iterations when inferring missing modalities. The
        first hidden estimate comes from the present modalities alone, their input scaled by
        ``n_modalities / n_present`` in place of the missing ones (as in the code of seed
        001's authors).
    mean_field_tol : float, default=1e-5
        Mean-field stops when no hidden probability moves by more than this.
    warm_start : bool, default=False
        If True, :meth:`fit` continues from the previous solution.
    verbose : int, default=0
        If positive, print the reconstruction error and time of every epoch.
    random_state : int, RandomState instance or None, default=None
        Seed of the initial weights, the shuffling and the Gibbs sampling. An int makes fits
        exactly reproducible.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        Weights between hidden units and all visible columns (``W``, in X's column order).
    intercept_hidden_ : ndarray of shape (n_components,)
        Hidden biases ``b``.
    intercept_visible_ : ndarray of shape (n_features,)
        Visible biases ``c``.
    hidden_length_bias_ : ndarray of shape (n_modalities, n_components)
        Length-scaled hidden biases ``a_m`` of Replicated Softmax modalities (zero rows for
        the other unit types).
    mean_length_ : ndarray of shape (n_modalities,)
        Mean document length of each Replicated Softmax modality in the first training data
        (0 for the others), used when such a modality is missing.
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
        Per epoch, the mean squared error of the one-step mean-field reconstruction of up to
        256 training rows spread evenly over X (a monitor, not the training objective).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    sklearn.neural_network.BernoulliRBM : A one-modality binary RBM.
    skmultimodal.ModalityImputer : Fill missing modalities for any downstream model.

    Notes
    -----
    Rows with a missing modality are used at fit time: their missing blocks are filled by
    mean-field inference under the current model, which gives the positive statistics of the
    variational lower bound on the marginal likelihood of the observed modalities (as in the
    training of deep Boltzmann machines); the negative phase is unchanged.

    Float32 input is trained in float32, the fast path; the matrix products dominate the cost
    and sampling is fused into numba kernels.

    References
    ----------
    Sohn, K., Shang, W. and Lee, H. Improved multimodal deep learning with variation of
    information. NIPS 2014.

    Srivastava, N. and Salakhutdinov, R. Multimodal learning with deep Boltzmann machines.
    NIPS 2012.

    Salakhutdinov, R. and Hinton, G. Replicated softmax: an undirected topic model. NIPS 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal import MultimodalRBM
    >>> from skmultimodal.datasets import load_digits_halves
    >>> X, y = load_digits_halves(return_X_y=True)
    >>> rbm = MultimodalRBM(n_components=64, visible_units="binary", learning_rate=0.05,
    ...                     n_iter=5, random_state=0).fit(X)
    >>> X_left_only = X.copy()
    >>> X_left_only[:, 32:] = np.nan  # the right halves are missing
    >>> rbm.transform(X_left_only).shape
    (1797, 64)
    >>> rbm.impute(X_left_only[:2]).shape
    (2, 64)
    """

    _parameter_constraints = {
        **_BaseMultimodalRBM._parameter_constraints,
        "method": [StrOptions({"cd", "pcd"})],
        "k": [Interval(Integral, 1, None, closed="left")],
        "n_chains": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_components=256,
        *,
        modalities=None,
        visible_units="gaussian",
        method="cd",
        k=1,
        n_chains=100,
        learning_rate=0.01,
        learning_rate_decay=0.0,
        batch_size=32,
        n_iter=20,
        momentum=0.5,
        weight_decay=1e-4,
        resample_binary=False,
        sparsity_target=0.1,
        sparsity_cost=0.0,
        n_mean_field=20,
        mean_field_tol=1e-5,
        warm_start=False,
        verbose=0,
        random_state=None,
    ):
        self.n_components = n_components
        self.modalities = modalities
        self.visible_units = visible_units
        self.method = method
        self.k = k
        self.n_chains = n_chains
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

    def _chains_copy(self, X, missing, model, rng):
        if self.method != "pcd":
            return None
        if self._chains is not None and self._chains["v"].shape[0] == self.n_chains:
            return {k: v.copy() for k, v in self._chains.items()}
        # Start from the visible-bias-only model (matching the data marginals after the
        # data-driven bias initialisation), with document lengths drawn from the data.
        n, dtype = self.n_chains, model.dtype
        L = np.zeros((n, len(model.units)), dtype=dtype)
        for m, (cols, units) in enumerate(zip(model.columns, model.units)):
            if units.has_length:
                present = np.flatnonzero(~missing[:, m])
                rows = rng.choice(present, size=n)
                L[:, m] = units.length(_dense_rows(X, rows, dtype)[:, cols])
        v = np.empty((n, X.shape[1]), dtype=dtype)
        state = new_state(rng)
        model.visible_sample(
            np.zeros((n, model.W.shape[0]), dtype=dtype), L, state, np.empty_like(v), v
        )
        h = np.empty((n, model.W.shape[0]), dtype=dtype)
        sigmoid_sample(model.hidden_pre(v), model.hidden_bias(L), state,
                                np.empty_like(h), h)
        return {"v": v, "h": h, "L": L}

    def _buffers(self, workspace, n_pos, n_neg, model):
        """Per-fit buffers, allocated once for the largest batch and reused."""
        key = (n_pos, n_neg)
        if workspace.get("key") != key:
            K, F, M, dtype = model.W.shape[0], model.W.shape[1], len(model.units), model.dtype
            workspace.clear()
            workspace.update(
                key=key,
                h_pos=np.empty((n_pos, K), dtype), h_pos_sample=np.empty((n_pos, K), dtype),
                v_mean=np.empty((n_neg, F), dtype), v_neg=np.empty((n_neg, F), dtype),
                h_neg=np.empty((n_neg, K), dtype), h_neg_sample=np.empty((n_neg, K), dtype),
                gW_pos=np.empty((K, F), dtype), gW_neg=np.empty((K, F), dtype),
                ones=np.ones((1, max(n_pos, n_neg)), dtype),
                gb_pos=np.empty((1, K), dtype), gb_neg=np.empty((1, K), dtype),
                gc_pos=np.empty((1, F), dtype), gc_neg=np.empty((1, F), dtype),
                gA_pos=np.empty((M, K), dtype), gA_neg=np.empty((M, K), dtype),
            )
        return workspace

    def _batch_update(self, model, velocity, chains, v, missing, state, workspace, lr):
        """One CD-k / PCD-k step of stochastic gradient ascent on the log-likelihood."""
        n_pos = v.shape[0]
        n_neg = n_pos if chains is None else chains["v"].shape[0]
        ws = self._buffers(workspace, max(n_pos, self.batch_size), n_neg, model)
        if missing.any():
            model.mean_field(v, missing, self.n_mean_field, self.mean_field_tol)
        L_pos = model.lengths(v, missing)
        h_pos, h_pos_sample = ws["h_pos"][:n_pos], ws["h_pos_sample"][:n_pos]
        model.hidden_pre(v, out=h_pos)
        if chains is None:  # CD starts its chains at a draw of the data's hidden units
            sigmoid_sample(h_pos, model.hidden_bias(L_pos), state, h_pos,
                                    h_pos_sample)
        else:
            sigmoid(h_pos, model.hidden_bias(L_pos), h_pos)

        if chains is None:
            h_sample, L_neg = h_pos_sample, L_pos
            v_mean, v_neg = ws["v_mean"][:n_pos], ws["v_neg"][:n_pos]
            h_neg, h_neg_sample = ws["h_neg"][:n_pos], ws["h_neg_sample"][:n_pos]
        else:
            h_sample, L_neg = chains["h"], chains["L"]
            v_mean, v_neg = ws["v_mean"], chains["v"]
            h_neg, h_neg_sample = ws["h_neg"], chains["h"]
        bias_neg = model.hidden_bias(L_neg)
        for step in range(self.k):
            model.visible_sample(h_sample, L_neg, state, v_mean, v_neg)
            model.hidden_pre(v_neg, out=h_neg)
            if chains is None and step == self.k - 1:
                sigmoid(h_neg, bias_neg, h_neg)
            else:
                sigmoid_sample(h_neg, bias_neg, state, h_neg, h_neg_sample)
                h_sample = h_neg_sample

        np.matmul(h_pos.T, v, out=ws["gW_pos"])
        np.matmul(h_neg.T, v_neg, out=ws["gW_neg"])
        # column sums as products with a row of ones (much faster than np.sum over axis 0)
        ones_pos, ones_neg = ws["ones"][:, :n_pos], ws["ones"][:, :n_neg]
        np.matmul(ones_pos, h_pos, out=ws["gb_pos"])
        np.matmul(ones_neg, h_neg, out=ws["gb_neg"])
        np.matmul(ones_pos, v, out=ws["gc_pos"])
        np.matmul(ones_neg, v_neg, out=ws["gc_neg"])
        self._sparsity_step(ws["gb_pos"], n_pos)
        mom = self.momentum
        a_pos, a_neg = 1.0 / n_pos, 1.0 / n_neg
        momentum_step(model.W, velocity["W"], ws["gW_pos"], ws["gW_neg"],
                               a_pos, a_neg, mom, lr, self.weight_decay)
        momentum_step(model.b[None, :], velocity["b"], ws["gb_pos"], ws["gb_neg"],
                               a_pos, a_neg, mom, lr, 0.0)
        momentum_step(model.c[None, :], velocity["c"], ws["gc_pos"], ws["gc_neg"],
                               a_pos, a_neg, mom, lr, 0.0)
        if model.uses_length:
            np.matmul(L_pos.T, h_pos, out=ws["gA_pos"])
            np.matmul(L_neg.T, h_neg, out=ws["gA_neg"])
            momentum_step(model.length_bias, velocity["length_bias"], ws["gA_pos"],
                                   ws["gA_neg"], a_pos, a_neg, mom, lr, 0.0)
