"""What every Boltzmann estimator shares: validation, the model from its fitted attributes,
chunked inference, the epoch loop with its monitors, and scoring.

An estimator describes its model by a :class:`_graph.Structure` (:meth:`_structure`), turns its
fitted attributes into a model (:meth:`_model`) and back (:meth:`_store`), and says how one
batch trains it (:meth:`_new_optimizer`). Inference (``transform``, ``impute``, ``sample``,
``score``) is the model's, through four methods every model has: ``transform(v, missing,
n_iter, tol, layers)``, ``fill(v, missing, n_iter, tol)`` (the missing blocks of ``v`` in
place), ``draw(v, missing, n_steps, n_iter, tol, state, doc_length)`` and the attribute
``s`` (its :class:`_graph.Structure`); a :class:`_graph.Model` for the multimodal RBM and
the deep Boltzmann machine, the deep belief net's own for it.
"""

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

from .._modalities import per_modality, reject_second_view, validate_modal_data
from .._random import new_state
from .._training import (
    AUTO_MAX_UPDATES,
    AUTO_TOL,
    EpochLoop,
    TrainingHistory,
    auto_patience,
    holdout_rows,
)
from .._utils import as_generator, keep_state_on_error
from ._graph import Structure
from ._units import VISIBLE_UNITS, VisibleUnits, resolve_units

_CHUNK_ROWS = 2048
_MONITOR_ROWS = 256


def dense_rows(X, rows, dtype, out=None):
    """Rows of X as a C-contiguous dense array (sparse rows densified here only).

    With ``out`` (a buffer of at least ``len(rows)`` rows, of ``dtype``) dense rows are
    gathered into it without allocating; the filled part is returned.
    """
    if sp.issparse(X):
        return X[rows].toarray().astype(dtype, copy=False)
    if out is not None and X.dtype == dtype:
        return np.take(X, rows, axis=0, out=out[: len(rows)])
    return np.take(X, rows, axis=0).astype(dtype, copy=False)


def monitor_rows(n_rows):
    """Up to 256 rows spread evenly over ``n_rows``: the rows of the per-epoch monitor."""
    return np.unique(np.linspace(0, n_rows - 1, min(n_rows, _MONITOR_ROWS)).astype(np.intp))


def cross_modal_log_likelihood(infer, v, missing, columns, units):
    """``sum_m log p(v_m | v_-m)`` per row over the present modalities.

    Each present modality in turn is hidden, inferred from the others present in the row by
    ``infer(rows, hidden_mask)`` (which fills the hidden blocks in place), and its values
    scored under the factorised conditional of its units; a count modality's inferred mean is
    rescaled to the row's true document length.
    """
    total = np.zeros(v.shape[0], dtype=np.float64)
    for m, (cols, u) in enumerate(zip(columns, units)):
        rows = np.flatnonzero(~missing[:, m])
        if not rows.size:
            continue
        truth = v[rows][:, cols]
        hide = missing[rows].copy()
        hide[:, m] = True
        filled = v[rows]
        infer(filled, hide)
        mean = filled[:, cols].astype(np.float64)
        length = None
        if u.has_length:
            length = u.length(truth).astype(np.float64)
            mean *= (length / np.maximum(mean.sum(axis=1), 1e-300))[:, None]
        total[rows] += u.log_likelihood(truth, mean, length)
    return total


class _BaseJointModel(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Input validation, chunked inference and tags of every estimator of a joint
    representation (the Boltzmann machines, the deep networks built on their layers).

    Fitted subclasses have ``modalities_``, ``visible_units_`` and a model in the dtype
    inference works in (:meth:`_dtype`).
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "modalities": [None, list, tuple],
        "visible_units": [StrOptions({"auto", *VISIBLE_UNITS}), VisibleUnits, list, tuple],
        "n_mean_field": [Interval(Integral, 0, None, closed="left")],
        "mean_field_tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    # -- validation -------------------------------------------------------------------------

    def _validate_input(self, X, *, reset, allow_all_missing=False):
        dtype = [np.float64, np.float32] if reset else self._dtype()
        X, missing, ranges = validate_modal_data(
            self, X, reset=reset, dtype=dtype, allow_all_missing=allow_all_missing
        )
        if reset:
            specs = per_modality(self.visible_units, "visible_units", len(self.modalities_))
            self._unit_types = [resolve_units(spec, name, value_range) for spec, (name, _),
                                value_range in zip(specs, self.modalities_, ranges)]
            self.visible_units_ = [u.name for u in self._unit_types]
        for (name, _), units, (low, high) in zip(self.modalities_, self._unit_types, ranges):
            units.check(low, high, name)
        if reset:
            self._warn_about_scale(X, missing)
        return X, missing

    def _warn_about_scale(self, X, missing):
        """Warn once, at a new model's fit, about modalities whose values are far from the
        scale their units assume (Gaussian units: standardised features), from their column
        means and standard deviations on up to 2,000 rows where they are present."""
        sample = np.unique(np.linspace(0, X.shape[0] - 1, min(X.shape[0], 2000)).astype(int))
        problems = []
        for m, ((name, cols), units) in enumerate(zip(self.modalities_, self._unit_types)):
            rows = sample[~missing[sample, m]]
            if rows.size < 2:
                continue
            block = dense_rows(X, rows, np.float64)[:, cols]
            problems.append(units.check_scale(block.mean(axis=0), block.std(axis=0), name))
        problems = [p for p in problems if p]
        self._scale_problems = problems
        if problems:
            warnings.warn(
                f"{type(self).__name__}: {'; '.join(problems)}. Training may diverge or learn "
                "little. Standardise such features (a StandardScaler before the estimator in "
                "a Pipeline), or use visible_units='binary' for values in [0, 1].",
                UserWarning, stacklevel=4)

    def _scale_hint(self):
        """The likely cause a divergence message names: the scale problems found at fit."""
        problems = getattr(self, "_scale_problems", None)
        if problems:
            return (f"{'; '.join(problems)}. Standardise such features (a StandardScaler "
                    "before the estimator in a Pipeline).")
        return None

    def _structure(self, pathways=None, bipartite=True):
        """The model's layers: the modalities' visible layers, ``pathways`` (none: an RBM)
        and the joint layer."""
        M = len(self.modalities_)
        return Structure([c for _, c in self.modalities_], self._unit_types,
                         [()] * M if pathways is None else pathways, self.n_components,
                         bipartite=bipartite)

    def _check_every_modality_seen(self, missing):
        for m, (name, _) in enumerate(self.modalities_):
            if missing[:, m].all():
                raise ValueError(
                    f"Modality {name!r} is missing in every training row; there is nothing to "
                    "learn it from."
                )

    # -- inference --------------------------------------------------------------------------

    def _chunks(self, X, missing):
        """Dense row chunks of X with their missing masks, bounded in memory."""
        dtype = self._dtype()
        for chunk in gen_batches(X.shape[0], _CHUNK_ROWS):
            if sp.issparse(X):
                v = X[chunk].toarray().astype(dtype, copy=False)
            else:
                v = np.array(X[chunk], dtype=dtype, order="C")
            yield chunk, v, missing[chunk]

    def _transformed_layers(self, model):
        """The layers :meth:`transform` returns: the joint top layer."""
        return [model.s.top]

    def transform(self, X):
        """Joint representation of X, from whichever modalities each row has.

        Rows with every modality present get the mean-field posterior given all of them
        (exact for an RBM: ``P(h = 1 | v)``, Sohn, Shang & Lee 2014, Eq. 6); a missing
        modality is inferred jointly with the hidden units by the mean-field iterations of
        Eq. 8 (see ``n_mean_field``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data; missing modalities are whole NaN blocks. Rows need at least one modality.

        Returns
        -------
        H : ndarray of shape (n_samples, n_features_out)
            Mean-field posterior probabilities of the hidden units.
        """
        check_is_fitted(self)
        X, missing = self._validate_input(X, reset=False)
        model = self._model()
        layers = self._transformed_layers(model)
        H = np.empty((X.shape[0], self._n_features_out), dtype=model.dtype)
        for chunk, v, miss in self._chunks(X, missing):
            H[chunk] = model.transform(v, miss, self.n_mean_field, self.mean_field_tol, layers)
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
            model.fill(v, miss, self.n_mean_field, self.mean_field_tol)
            out[chunk] = v
        return out

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

    def _cross_modal_scores(self, X):
        """``sum_m log p(v_m | v_-m)`` per row (:func:`cross_modal_log_likelihood`, each
        hidden modality inferred by mean-field)."""
        check_is_fitted(self)
        X, missing = self._validate_input(X, reset=False)
        model = self._model()
        scores = np.empty(X.shape[0], dtype=np.float64)

        def infer(v, hide):
            model.fill(v, hide, self.n_mean_field, self.mean_field_tol)

        for chunk, v, miss in self._chunks(X, missing):
            scores[chunk] = cross_modal_log_likelihood(infer, v, miss, model.s.columns,
                                                       model.s.units)
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

    def _complete(self, X, what):
        """Validated X that has every modality in every row."""
        check_is_fitted(self)
        X, missing = self._validate_input(X, reset=False)
        if missing.any():
            raise ValueError(
                f"{what} needs every modality present; rows "
                f"{np.flatnonzero(missing.any(axis=1))[:10].tolist()} have a missing one."
            )
        return X, missing

    def _collapse_warning(self, model, v, missing, n_epochs_done):
        """ConvergenceWarning if the hidden units no longer depend on the data: on the
        monitored rows (which differ), every unit of the returned representation has the same
        probability to 1e-6, or is below 1e-3 on every row, or above 1 - 1e-3 on every row.
        Too large a step drives all hidden units off this way rather than to NaN."""
        if v.shape[0] < 2 or not np.ptp(np.nan_to_num(v), axis=0).any():
            return  # rows that do not differ cannot tell
        h = model.transform(v.copy(), missing, self.n_mean_field, self.mean_field_tol,
                            self._transformed_layers(model))
        stuck = ((np.ptp(h, axis=0) < 1e-6) | (h.max(axis=0) < 1e-3)
                 | (h.min(axis=0) > 1 - 1e-3))
        if not stuck.all():
            return
        warnings.warn(
            f"{type(self).__name__}'s hidden units stopped depending on the data after "
            f"{n_epochs_done} epochs: each is off (or on) for every row or has the same "
            f"probability for all (mean {h.mean():.3g}), so transform returns about a "
            f"constant. learning_rate={self.learning_rate} is likely too large; lower it"
            f"{_step_advice(model, self.momentum)}.",
            ConvergenceWarning, stacklevel=4,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class _GibbsSamplingMixin:
    """``sample``: the generative models' conditional draws of missing modalities (their
    model's ``draw``)."""

    def sample(self, X, n_steps=100, random_state=None, doc_length=None):
        """Draw missing modalities given the observed ones by block Gibbs sampling.

        The chain starts at the mean-field solution with its hidden layers sampled; every
        sweep samples the odd layers, then the even layers, the observed modalities clamped
        ("generate tags for this image"). Replicated Softmax blocks are drawn as a
        multinomial of the document length: the mean training length (rounded), or
        ``doc_length``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data with missing modalities as whole NaN blocks.
        n_steps : int, default=100
            Number of Gibbs sweeps.
        random_state : int, RandomState instance or None, default=None
            Seed of the draws.
        doc_length : int, default=None
            Number of words drawn for a missing Replicated Softmax modality.

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
            model.draw(v, miss, n_steps, self.n_mean_field, self.mean_field_tol, state,
                       doc_length)
            out[chunk] = v
        return out


def _check_sample_args(n_steps, doc_length):
    """The arguments of ``sample``: positive integers (``doc_length`` may be None)."""
    if not isinstance(n_steps, Integral) or n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}.")
    if doc_length is not None and (not isinstance(doc_length, Integral) or doc_length < 1):
        raise ValueError(f"doc_length must be a positive integer, got {doc_length!r}.")


def _step_advice(model, momentum):
    """The stable step of an RBM's visible units, for a warning, or ''."""
    s = model.s
    limits = [(u.max_stable_learning_rate(s.widths[s.length_layer[m]], momentum), u.name)
              for m, u in enumerate(s.units)]
    limit, name = min(limits)
    if not np.isfinite(limit):
        return ""
    return (f"; with {name} visible units, steps above 2 (1 + momentum) / n_hidden = "
            f"{limit:.3g} are unstable")


class _BaseTrainedBoltzmann(_GibbsSamplingMixin, _BaseJointModel):
    """The epoch loop of the Boltzmann estimators trained by mini-batch gradient steps,
    with persistence across ``partial_fit`` calls.

    Subclasses give the initial model (:meth:`_initial_model`) and an optimizer
    (:meth:`_new_optimizer`: an object with ``epoch(X, missing, order, state, lr)``, which
    trains on the first full batches of ``order`` in one compiled call where it can and
    returns how many rows it used, ``step(v, missing, state, lr)`` for one batch, and
    ``persist()``, what the next call continues from, and ``end_epoch()`` if the estimator
    names per-epoch curves in ``_curves``: their values for the epoch, by name).
    """

    _parameter_constraints = {
        **_BaseJointModel._parameter_constraints,
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "learning_rate_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_iter": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "resample_binary": ["boolean"],
        "warm_start": ["boolean"],
    }

    @keep_state_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the model to X by mini-batch training, ``n_iter`` epochs or adaptively.

        With ``n_iter="auto"`` a ``validation_fraction`` of the rows is held out and the
        epochs run until the held-out :meth:`score` stops improving (see
        :meth:`_train`); the parameters of the best held-out score are kept.

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
        reject_second_view(y, X, self)
        warm = self.warm_start and hasattr(self, "n_iter_")
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
        reject_second_view(y, X, self)
        first = not hasattr(self, "n_iter_")
        X, missing = self._validate_input(X, reset=first)
        if first:
            self._start(X, missing)
        self._train(X, missing, 1)
        return self

    def _start(self, X, missing):
        self._rng = as_generator(self.random_state)
        self._check_every_modality_seen(missing)
        self._store(self._initial_model(X, missing, self._rng))
        self._persist = None
        self._state = new_state(self._rng)
        self._history = TrainingHistory()
        self._set_history_attributes()
        for name in getattr(self, "_curves", ()):
            setattr(self, name, [])

    def _train(self, X, missing, n_epochs):
        """Run ``n_epochs`` epochs (or ``"auto"``) on a copy of the model and store it if
        all went well.

        The epochs run under the trainer's checks (:class:`skmultimodal._training.EpochLoop`):
        the monitored value is the reconstruction error of up to 256 training rows (its
        value before the model's first update is the reference), the watched parameters the
        weights; a blow-up raises FloatingPointError naming ``learning_rate``.

        ``"auto"``: the model trains on all but the held-out rows
        (:func:`skmultimodal._training.holdout_rows`), whose mean cross-modal
        log-likelihood (:meth:`score`) is the validation score of every epoch. The run
        stops when it has not improved by 0.1% for ``n_iter_no_change`` epochs and at
        least 1,000 updates, or after 20,000 updates; the model of the best score is kept.
        """
        rng = self._rng
        model = self._model().copy()
        state = self._state.copy()
        optimizer = self._new_optimizer(model, X, missing, rng)
        auto = n_epochs == "auto"
        if auto:
            rows, held_out = holdout_rows(X.shape[0], self.validation_fraction, rng)
        else:
            rows = np.arange(X.shape[0])
        monitor = rows[monitor_rows(rows.size)]
        X_monitor, missing_monitor = dense_rows(X, monitor, model.dtype), missing[monitor]
        batch_buffer = np.empty((min(self.batch_size, rows.size), X.shape[1]), model.dtype)
        history = self._history
        n_batches = -(-rows.size // self.batch_size)
        loop = EpochLoop(type(self).__name__, history,
                         max_epochs=None if auto else n_epochs,
                         max_updates=AUTO_MAX_UPDATES if auto else None,
                         check_convergence=auto, tol=AUTO_TOL, relative_tol=True,
                         n_iter_no_change=auto_patience(n_batches, self.n_iter_no_change),
                         cap_name="pass an integer n_iter (epochs) to train longer",
                         rate=("learning_rate", self.learning_rate),
                         advice=self._advice(model), scale_hint=self._scale_hint,
                         monitor="reconstruction error", validation="held-out score",
                         verbose=self.verbose)

        def monitored():
            return model.reconstruction_error(X_monitor, missing_monitor, self.n_mean_field,
                                              self.mean_field_tol)

        def epoch():
            t = history.n_epochs + loop.epochs_run
            lr = self.learning_rate / (1.0 + self.learning_rate_decay * t)
            order = rows[rng.permutation(rows.size)]
            # Overflow is reported by the loop's divergence checks, not as warnings.
            with np.errstate(over="ignore", invalid="ignore"):
                done = optimizer.epoch(X, missing, order, state, lr)
                for batch in gen_batches(rows.size - done, self.batch_size):
                    picked = order[done:][batch]
                    v = dense_rows(X, picked, model.dtype, out=batch_buffer)
                    optimizer.step(v, missing[picked], state, lr)
                return monitored()

        validate, best = None, {}
        if auto:
            X_held, missing_held = dense_rows(X, held_out, model.dtype), missing[held_out]

            def infer(v, hide):
                model.fill(v, hide, self.n_mean_field, self.mean_field_tol)

            def validate():
                score = float(np.mean(cross_modal_log_likelihood(
                    infer, X_held, missing_held, model.s.columns, model.s.units)))
                if score > best.get("score", -np.inf):
                    best.update(score=score, model=model.copy())
                return score

        with np.errstate(over="ignore", invalid="ignore"):
            loop.run(epoch, params=lambda: {f"W{e}": w for e, w in enumerate(model.W)},
                     validate=validate, updates_per_epoch=n_batches,
                     hooks=[lambda _: optimizer.end_epoch()] if self._curves else (),
                     initial_value=monitored if history.first_value is None else None)
        model = best.get("model", model)
        self._collapse_warning(model, X_monitor, missing_monitor, loop.history.n_epochs)
        self._store(model)
        self._persist = optimizer.persist()
        self._state = state
        self._history = loop.history
        self._set_history_attributes()
        for name in self._curves:
            setattr(self, name, self._history.records.get(name, []))

    def _set_history_attributes(self):
        """``n_iter_``, ``reconstruction_error_curve_``, and the held-out scores of
        ``n_iter="auto"`` (``validation_scores_``, ``best_validation_score_``; None when no
        epoch had one)."""
        self._history.set_attributes(self, curve="reconstruction_error_curve_",
                                     validation=True)
        if not self._history.validation_scores:
            self.validation_scores_ = self.best_validation_score_ = None

    _curves = ()  # names of the per-epoch values the optimizer's end_epoch returns

    def _advice(self, model):
        """What the divergence message adds to lowering the learning rate."""
        return f" (or the momentum){_step_advice(model, self.momentum)}"
