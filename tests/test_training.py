"""The shared trainer: epoch driver, divergence checks, optimisers, mini-batches, state."""

import re
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import gen_batches

from skmultimodal._training import DIVERGENCE_RATIO, RUNAWAY_RATIO, STALL_RATIO, SGD, Adam
from skmultimodal._training import EpochLoop, TrainingHistory, make_optimizer, minibatch_epoch
from skmultimodal._training import n_minibatches, resume_state, validation_split
from skmultimodal._training import AUTO_PATIENCE_UPDATES, MAX_VALIDATION_ROWS, auto_patience
from skmultimodal._training import holdout_rows
from skmultimodal._utils import feature_scale_advice, keep_state_on_error


def _scripted(values):
    """An epoch callable returning the given values in turn."""
    values = iter(values)
    return lambda: next(values)


def _loop(**kwargs):
    options = dict(max_epochs=50, tol=0.0, n_iter_no_change=3, rate=("learning_rate", 0.1))
    options.update(kwargs)
    return EpochLoop("Model", None, **options)


# -- the epoch driver -------------------------------------------------------------------------


def test_stops_after_n_iter_no_change_and_records_the_curve():
    values = [5.0, 4.0, 3.0, 3.5, 3.2, 3.1, 9.9]
    loop = _loop().run(_scripted(values))
    assert loop.converged and loop.epochs_run == 6
    assert loop.history.curve == values[:6] and loop.history.n_epochs == 6
    assert loop.history.best_loss == 3.0 and loop.best_params is None


def test_tol_counts_small_improvements_as_none():
    loop = _loop(tol=0.5).run(_scripted([5.0, 4.8, 4.6, 4.4, 1.0]))
    assert loop.converged and loop.history.curve == [5.0, 4.8, 4.6, 4.4]


def test_cap_without_convergence_warns_and_partial_runs_do_not():
    with pytest.warns(ConvergenceWarning, match="max_iter=4 was reached"):
        _loop(max_epochs=4).run(_scripted([4.0, 3.0, 2.0, 1.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loop = _loop(max_epochs=4, check_convergence=False).run(
            _scripted([1.0, 1.0, 1.0, 1.0, 1.0]))
    assert loop.epochs_run == 4 and not loop.converged


def test_relative_tol_scales_with_the_best_value():
    """0.1% of 1000 is 1: a loss going 1000 -> 999.5 -> 999.2 improves by less; at 10 the
    same tolerance is 0.01 and 10 -> 9.99 -> 9.98 improves each time."""
    loop = _loop(tol=1e-3, relative_tol=True).run(
        _scripted([1000.0, 999.5, 999.2, 999.0, 1.0]))
    assert loop.converged and loop.epochs_run == 4
    loop = _loop(tol=1e-3, relative_tol=True, max_epochs=4).run(
        _scripted([10.0, 9.98, 9.96, 9.94]))
    assert not loop.converged
    scores = iter([-100.0, -99.95, -99.9, -99.85, -50.0])  # a negative score: |best|
    loop = _loop(tol=1e-3, relative_tol=True).run(_scripted([1.0] * 5),
                                                  validate=lambda: next(scores))
    assert loop.converged and loop.epochs_run == 4


def test_a_sentence_as_the_cap_advice():
    with pytest.warns(ConvergenceWarning, match=r"updates \(6\) was reached .*; pass an int"):
        _loop(max_epochs=None, max_updates=6, cap_name="pass an integer n_iter").run(
            _scripted([4.0, 3.0, 2.0]), updates_per_epoch=2)


def test_holdout_rows_and_auto_patience():
    rng = np.random.default_rng(0)
    train, held = holdout_rows(1000, 0.1, rng)
    assert held.size == 100 and train.size == 900
    assert np.array_equal(np.sort(np.r_[train, held]), np.arange(1000))
    assert np.all(np.diff(train) > 0) and np.all(np.diff(held) > 0)
    assert holdout_rows(10 * MAX_VALIDATION_ROWS, 0.5, rng)[1].size == MAX_VALIDATION_ROWS
    state = rng.bit_generator.state
    train, held = holdout_rows(12, 0.1, rng)  # one row would be held out: too few
    assert np.array_equal(train, held) and train.size == 12
    assert rng.bit_generator.state == state  # no draw
    assert auto_patience(10_000, 10) == 10  # large data: epochs
    assert auto_patience(7, 10) == -(-AUTO_PATIENCE_UPDATES // 7)  # small data: updates
    assert auto_patience(0, 3) == AUTO_PATIENCE_UPDATES


def test_validation_early_stopping_returns_the_best_epochs_parameters():
    params = {"w": np.zeros(2)}
    scores = iter([0.5, 0.7, 0.6, 0.7, 0.65, 0.9])

    def epoch():
        params["w"] += 1.0
        return 1.0

    loop = _loop().run(epoch, validate=lambda: next(scores), params=lambda: params)
    assert loop.converged and loop.epochs_run == 5  # no gain over 0.7 for 3 epochs
    assert loop.history.validation_scores == [0.5, 0.7, 0.6, 0.7, 0.65]
    assert loop.history.best_validation_score == 0.7
    np.testing.assert_array_equal(loop.best_params["w"], [2.0, 2.0])  # epoch 2, a copy
    assert params["w"][0] == 5.0


def test_history_continues_across_runs_and_is_copied():
    first = _loop(max_epochs=2, check_convergence=False).run(_scripted([4.0, 3.0]))
    second = EpochLoop("Model", first.history, max_epochs=2, check_convergence=False).run(
        _scripted([2.0, 1.0]))
    assert second.history.curve == [4.0, 3.0, 2.0, 1.0] and second.history.n_epochs == 4
    assert first.history.curve == [4.0, 3.0]  # the stored history is not changed by a run
    assert second.history.first_value == 4.0


def test_max_updates_caps_a_run_by_parameter_updates():
    """The cap of an ``n_iter="auto"`` run: epochs until the updates reach the cap."""
    loop = EpochLoop("Model", None, max_updates=25, check_convergence=False)
    loop.run(_scripted([1.0] * 10), updates_per_epoch=10)
    assert loop.epochs_run == 3 and loop.history.n_updates == 30
    with pytest.warns(ConvergenceWarning, match=r"maximum number of updates \(25\)"):
        EpochLoop("Model", None, max_updates=25).run(_scripted([5, 4, 3, 2]),
                                                     updates_per_epoch=10)
    with pytest.raises(ValueError, match="max_epochs or max_updates"):
        EpochLoop("Model", None)


def test_hooks_record_values_and_verbose_prints_a_line_per_epoch(capsys):
    seen = []

    def hook(epoch):
        seen.append(epoch)
        return {"similarity": 0.5 * epoch}

    loop = _loop(max_epochs=3, check_convergence=False, verbose=1)
    loop.run(_scripted([3.0, 2.0, 1.0]), hooks=[hook, lambda epoch: None])
    assert seen == [1, 2, 3] and loop.history.records == {"similarity": [0.5, 1.0, 1.5]}
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert lines[1].startswith("[Model] epoch 2, loss = 2.00000, similarity = 1")


def test_set_attributes_on_an_estimator():
    class Estimator:
        pass

    est = Estimator()
    history = TrainingHistory.start(est)
    assert est.n_iter_ == 0 and est.loss_curve_ == [] and est.validation_scores_ is None
    history = _loop(max_epochs=2, check_convergence=False).run(
        _scripted([2.0, 1.0]), validate=_scripted([0.1, 0.2])).history
    history.set_attributes(est, curve="reconstruction_error_curve_", validation=True)
    assert est.n_iter_ == 2 and est.reconstruction_error_curve_ == [2.0, 1.0]
    assert est.validation_scores_ == [0.1, 0.2] and est.best_validation_score_ == 0.2


# -- divergence -------------------------------------------------------------------------------


def test_a_loss_growing_by_orders_of_magnitude_raises_while_finite():
    values = [1.0, 3.0, 10.0, 50.0, 101.0, 1e4]
    with pytest.raises(FloatingPointError, match=r"Model diverged in epoch 5: its loss grew "
                       r"from its first value 1 to 101.*Lower learning_rate \(now "
                       r"learning_rate=0.1\)"):
        _loop(n_iter_no_change=10).run(_scripted(values))


def test_a_slow_blow_up_across_partial_fit_calls_is_caught():
    history = None
    for call, value in enumerate([1.0, 10.0, 60.0, 150.0]):
        loop = EpochLoop("Model", history, max_epochs=1, check_convergence=False)
        if value > DIVERGENCE_RATIO:
            with pytest.raises(FloatingPointError, match="epoch 4"):
                loop.run(lambda: value)
            break
        history = loop.run(lambda: value).history
    assert call == 3


def test_the_initial_value_and_the_lower_bound_are_the_reference():
    # an objective bounded below by -2 that was -1.9 before training: +9 is 110 times as far
    with pytest.raises(FloatingPointError, match="epoch 1: its objective grew"):
        _loop(monitor="objective").run(_scripted([9.0]), initial_value=lambda: -1.9,
                                       lower_bound=-2.0)
    _loop(max_epochs=2, check_convergence=False).run(
        _scripted([-1.0, 5.0]), initial_value=lambda: -1.9, lower_bound=-2.0 - 0.1)


def test_nan_and_runaway_parameters_raise():
    with pytest.raises(FloatingPointError, match="NaN or infinite"):
        _loop().run(_scripted([1.0, np.nan]))
    params = {"w": np.full(4, 0.01), "b": np.zeros(2)}
    with pytest.raises(FloatingPointError, match="NaN or infinite"):
        _loop().run(lambda: params.update(b=np.array([0.0, np.inf])) or 1.0,
                    params=lambda: params)
    params = {"w": np.full(4, 3.0)}
    grown = []

    def epoch():
        params["w"] *= 10
        grown.append(float(params["w"][0]))
        return 1.0

    with pytest.raises(FloatingPointError, match="ran away from 3 at the start to 3000"):
        _loop().run(epoch, params=lambda: params)
    assert grown[-1] > RUNAWAY_RATIO * 3.0 >= grown[-2]


def test_a_blow_up_that_levels_off_is_not_reported_as_convergence():
    values = [2.0, 1.0, 1.5, 30.0, 30.0, 30.0, 30.0]  # 30 > 10 x best and above the first
    with pytest.raises(FloatingPointError, match="rose from its best 1 to 30"):
        _loop().run(_scripted(values))
    with pytest.raises(FloatingPointError, match="rose from its best 1 to 30"):
        _loop(max_epochs=4).run(_scripted(values))  # at the cap too
    # a loss approaching zero may end several times above its best, far below its start
    with pytest.warns(ConvergenceWarning):
        _loop(max_epochs=4).run(_scripted([2.0, 0.001, 0.02, 0.01]))
    assert STALL_RATIO < DIVERGENCE_RATIO


def test_the_scale_hint_is_evaluated_only_on_divergence():
    calls = []

    def hint():
        calls.append(1)
        return "the features are not standardised"

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _loop(max_epochs=3, scale_hint=hint).run(_scripted([3.0, 2.0, 1.0]))
    assert not calls
    with pytest.raises(FloatingPointError, match="or the momentum\\). Likely cause: the "
                       "features are not standardised"):
        _loop(scale_hint=hint, advice=" (or the momentum)").run(_scripted([1.0, 1e3]))


# -- optimisers -------------------------------------------------------------------------------


def test_sgd_with_momentum_by_hand():
    params = {"w": np.array([1.0, -2.0])}
    optimizer = SGD(0.1, momentum=0.5)
    state = optimizer.init_state(params)
    optimizer.update(params, {"w": np.array([1.0, 1.0])}, state)
    np.testing.assert_allclose(params["w"], [0.9, -2.1])
    optimizer.update(params, {"w": np.array([2.0, 0.0])}, state)
    # v = 0.5 * (-0.1) - 0.2 = -0.25 and 0.5 * (-0.1) - 0 = -0.05
    np.testing.assert_allclose(params["w"], [0.65, -2.15])
    assert state["step"] == 2


def test_adam_matches_kingma_and_ba_algorithm_1():
    rng = np.random.default_rng(0)
    grads = rng.normal(size=(5, 3))
    params = {"w": np.zeros(3)}
    optimizer = Adam(0.01)
    state = optimizer.init_state(params)
    theta, m, v = np.zeros(3), np.zeros(3), np.zeros(3)
    for t, g in enumerate(grads, start=1):
        optimizer.update(params, {"w": g}, state)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g**2
        m_hat, v_hat = m / (1 - 0.9**t), v / (1 - 0.999**t)
        # Section 2's step size with epsilon_hat = epsilon sqrt(1 - beta2^t)
        theta = theta - 0.01 * m_hat / (np.sqrt(v_hat) + 1e-8 / np.sqrt(1 - 0.999**t))
    np.testing.assert_allclose(params["w"], theta, rtol=1e-12)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_optimisers_work_in_place_in_the_parameters_dtype_and_resume(solver):
    rng = np.random.default_rng(1)
    grads = [rng.normal(size=(2, 3)).astype(np.float32) for _ in range(6)]
    optimizer = make_optimizer(solver, 0.05, momentum=0.8)
    start = {"W": rng.normal(size=(2, 3)).astype(np.float32)}
    one = {"W": start["W"].copy()}
    array = one["W"]
    state = optimizer.init_state(one)
    for g in grads:
        optimizer.update(one, {"W": g}, state)
    assert one["W"] is array and array.dtype == np.float32
    assert all(a.dtype == np.float32 for part in state.values() if isinstance(part, dict)
               for a in part.values())
    two = {"W": start["W"].copy()}
    stored = None
    for chunk in (grads[:2], grads[2:]):  # two calls, the state stored in between
        state = resume_state(optimizer, stored, two)
        for g in chunk:
            optimizer.update(two, {"W": g}, state)
        stored = state
    np.testing.assert_array_equal(one["W"], two["W"])


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_compiled_steps_equal_the_numpy_form(solver, dtype):
    """C-ordered parameters take the compiled one-pass step, Fortran-ordered ones the
    numpy form: the same numbers, in the parameters' dtype."""
    rng = np.random.default_rng(2)
    grads = [rng.normal(size=(4, 3)).astype(dtype) for _ in range(5)]
    start = rng.normal(size=(4, 3)).astype(dtype)
    results = []
    for order in "CF":
        optimizer = make_optimizer(solver, 0.05, momentum=0.8)
        params = {"W": np.array(start, order=order)}
        state = optimizer.init_state(params)
        for g in grads:
            optimizer.update(params, {"W": np.array(g, order=order)}, state)
        assert params["W"].dtype == dtype
        results.append(params["W"])
    tol = 1e-5 if dtype == np.float32 else 1e-12  # float32: rounding of 5 steps of 0.05
    np.testing.assert_allclose(results[0], results[1], rtol=tol, atol=tol)
    assert not np.allclose(results[0], start)


def test_resume_state_copies_and_starts_afresh_for_another_optimiser():
    params = {"W": np.ones(3)}
    stored = SGD(0.1).init_state(params)
    resumed = resume_state(SGD(0.1), stored, params)
    resumed["velocity"]["W"][0] = 5.0
    assert stored["velocity"]["W"][0] == 0.0
    assert set(resume_state(Adam(0.1), stored, params)) == {"step", "m", "v"}
    assert resume_state(Adam(0.1), None, params)["step"] == 0
    with pytest.raises(ValueError, match="Unknown solver"):
        make_optimizer("lbfgs", 0.1)


# -- mini-batches -----------------------------------------------------------------------------


@pytest.mark.parametrize("n, batch, min_batch, drop_last", [
    (10, 3, 1, False), (10, 3, 2, False), (9, 3, 1, False), (10, 4, 3, False),
    (2, 5, 1, False), (10, 3, 1, True), (11, 4, 1, True),
])
def test_minibatch_epoch_visits_rows_once_and_counts_its_updates(n, batch, min_batch,
                                                                 drop_last):
    order = np.random.default_rng(0).permutation(n)
    seen = []

    def objective(rows):
        seen.append(rows.copy())
        return float(rows.size), {"w": np.ones(1)}

    params = {"w": np.zeros(1)}
    optimizer = SGD(1.0, momentum=0.0)
    loss = minibatch_epoch(order, batch, objective, params, optimizer,
                           optimizer.init_state(params), min_batch_size=min_batch,
                           drop_last=drop_last)
    assert len(seen) == n_minibatches(n, batch, min_batch, drop_last) == -params["w"][0]
    used = np.concatenate(seen)
    if drop_last:
        np.testing.assert_array_equal(used, order[: n // batch * batch])
    else:
        np.testing.assert_array_equal(used, order)
        assert len(seen) == len(list(gen_batches(n, batch, min_batch_size=min_batch)))
    sizes = np.array([s.size for s in seen])
    assert loss == pytest.approx(np.sum(sizes**2) / sizes.sum())  # row-weighted mean


def test_minibatch_epoch_after_update_sees_each_batch():
    counted = []
    params = {"w": np.zeros(1)}
    optimizer = SGD(1.0)
    minibatch_epoch(np.arange(7), 3, lambda rows: (0.0, {"w": np.zeros(1)}), params,
                    optimizer, optimizer.init_state(params),
                    after_update=lambda rows: counted.append(rows.size))
    assert counted == [3, 4] or counted == [3, 3, 1]


def test_validation_split_is_stratified_seeded_and_checked():
    y = np.repeat([0, 1, 2], [40, 40, 20])
    train, val = validation_split(100, 0.2, np.random.default_rng(0), stratify=y)
    assert val.size == 20 and np.intersect1d(train, val).size == 0
    assert np.bincount(y[val]).tolist() == [8, 8, 4]
    again = validation_split(100, 0.2, np.random.default_rng(0), stratify=y)
    np.testing.assert_array_equal(again[1], val)
    # a class with one row: no stratification, no error
    validation_split(10, 0.3, np.random.default_rng(0), stratify=np.r_[np.zeros(9), 1])
    with pytest.raises(ValueError, match="validation_fraction=0.01 of 20 pairs leaves 1"):
        validation_split(20, 0.01, np.random.default_rng(0), what="pairs")


# -- state kept on error ----------------------------------------------------------------------


class _Stateful:
    def __init__(self, random_state):
        self.random_state = random_state

    def start(self):
        self._rng = np.random.default_rng(0)
        self._legacy = np.random.RandomState(0)
        self.coef_ = np.zeros(4)
        self.head_ = self.coef_[:2]  # a view
        self._buffers = {"velocity": [np.zeros(3)]}
        self.curve_ = [1.0]
        return self

    @keep_state_on_error
    def partial_fit(self, fail):
        self._rng.random(5)
        self._legacy.rand(5)
        self.coef_ += self._rng.random(4)
        self._buffers["velocity"][0] += 1.0
        self._buffers["extra"] = 1
        self.curve_.append(2.0)
        self.extra_ = 1
        if isinstance(self.random_state, np.random.Generator):
            self.random_state.random(3)
        if fail:
            raise FloatingPointError("diverged")
        return self


@pytest.mark.parametrize("random_state", [0, np.random.default_rng(5)])
def test_keep_state_on_error_restores_generators_and_arrays_in_place(random_state):
    failed = _Stateful(random_state).start().partial_fit(False)
    twin = _Stateful(np.random.default_rng(5) if not isinstance(random_state, int) else 0)
    twin = twin.start().partial_fit(False)
    coef = failed.coef_
    with pytest.raises(FloatingPointError):
        failed.partial_fit(True)
    assert failed.coef_ is coef and failed.head_.base is coef
    failed.partial_fit(False)
    twin.partial_fit(False)
    np.testing.assert_array_equal(failed.coef_, twin.coef_)
    np.testing.assert_array_equal(failed.head_, twin.coef_[:2])
    np.testing.assert_array_equal(failed._buffers["velocity"][0], [2.0, 2.0, 2.0])
    assert failed.curve_ == twin.curve_ == [1.0, 2.0, 2.0]
    assert failed._rng.random() == twin._rng.random()
    assert failed._legacy.rand() == twin._legacy.rand()
    if not isinstance(random_state, int):
        assert failed.random_state.random() == twin.random_state.random()


def test_keep_state_on_error_on_a_new_estimator_removes_what_the_call_set():
    est = _Stateful(0)
    est.start = None

    @keep_state_on_error
    def fit(self):
        self.coef_ = np.ones(2)
        raise ValueError("bad input")

    with pytest.raises(ValueError):
        fit(est)
    assert not hasattr(est, "coef_")


def test_feature_scale_advice():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5))
    assert feature_scale_advice(X) is None
    assert feature_scale_advice(np.zeros((0, 5))) is None
    big = X.copy()
    big[:, 3] = big[:, 3] * 1e6
    assert re.search(r"feature 3 has root mean square 1\.\d+e\+06", feature_scale_advice(big))
    shifted = X + np.r_[0, 0, 50.0, 0, 0]
    assert "feature 2" in feature_scale_advice(shifted)
    assert "at most 0.001" in feature_scale_advice(X * 1e-3)
    with_nan = big.copy()
    with_nan[:10, :2] = np.nan
    assert "feature 3" in feature_scale_advice(with_nan)
    import scipy.sparse as sp

    sparse = sp.random(300, 6, density=0.3, random_state=0, format="csr") * 100
    advice = feature_scale_advice(sparse)
    assert advice is not None and "root mean square" in advice
    dense_rms = np.sqrt((sparse.toarray() ** 2).mean(axis=0)).max()
    assert f"{dense_rms:.3g}" in advice


# -- a helper for the estimators' tests -------------------------------------------------------


def assert_same_state(a, b, path="estimator"):
    """Assert that two objects hold bit-identical state: arrays, generators, containers and
    the attributes of nested objects (such as fitted sub-estimators and network plans)."""
    if isinstance(a, np.random.Generator):
        assert a.bit_generator.state == b.bit_generator.state, path
    elif isinstance(a, np.random.RandomState):
        assert_same_state(a.get_state(legacy=False), b.get_state(legacy=False), path)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        np.testing.assert_array_equal(a, b, err_msg=path)
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            assert_same_state(a[key], b[key], f"{path}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), path
        for i, (u, v) in enumerate(zip(a, b)):
            assert_same_state(u, v, f"{path}[{i}]")
    elif isinstance(a, float):
        assert a == b or (np.isnan(a) and np.isnan(b)), path
    elif hasattr(a, "__dict__") and not isinstance(a, type):
        assert type(a) is type(b), path
        assert_same_state(vars(a), vars(b), path)
    else:
        assert a == b, path


def test_assert_same_state_sees_generators_and_nested_arrays():
    class Holder:
        pass

    a, b = Holder(), Holder()
    for h in (a, b):
        h.rng, h.parts = np.random.default_rng(0), {"w": [np.zeros(2)]}
    assert_same_state(a, b)
    b.rng.random()
    with pytest.raises(AssertionError):
        assert_same_state(a, b)
    a.rng.random()
    b.parts["w"][0][1] = 1e-300
    with pytest.raises(AssertionError):
        assert_same_state(a, b)
