"""Behaviour of MultimodalRBM: learning, determinism, streaming, inference, bad input."""

import pickle

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from skmultimodal import MultimodalRBM
from skmultimodal.datasets import load_digits_halves, make_multimodal_topics


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits_halves(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def _hide_right(X):
    X = X.copy()
    X[:, 32:] = np.nan
    return X


def _digits_rbm(**params):
    params = {"n_components": 128, "visible_units": "binary", "learning_rate": 0.1,
              "n_iter": 30, "batch_size": 32, "random_state": 0, **params}
    return MultimodalRBM(**params)


def test_learns_a_joint_representation_that_survives_a_missing_half(digits):
    """Thresholds sit just below the worst of seeds 0-4 measured when this was written:
    accuracy 0.904-0.915 with both halves, 0.622-0.717 with the right half missing (chance
    0.1), imputation MSE 0.0606-0.0653 against 0.0801 for the training mean."""
    X_train, X_test, y_train, y_test = digits
    rbm = _digits_rbm().fit(X_train)
    clf = LogisticRegression(max_iter=2000).fit(rbm.transform(X_train), y_train)
    assert clf.score(rbm.transform(X_test), y_test) > 0.89
    X_left = _hide_right(X_test)
    assert clf.score(rbm.transform(X_left), y_test) > 0.60
    mse = np.mean((rbm.impute(X_left)[:, 32:] - X_test[:, 32:]) ** 2)
    mse_mean = np.mean((X_train[:, 32:].mean(axis=0) - X_test[:, 32:]) ** 2)
    assert mse < 0.9 * mse_mean
    assert rbm.reconstruction_error_curve_[-1] < rbm.reconstruction_error_curve_[0]
    assert len(rbm.reconstruction_error_curve_) == rbm.n_iter_ == 30


def test_score_prefers_a_trained_model(digits):
    X_train, X_test, *_ = digits
    short = _digits_rbm(n_iter=1, learning_rate=0.01).fit(X_train)
    trained = _digits_rbm().fit(X_train)
    assert trained.score(X_test) > short.score(X_test)
    scores = trained.score_samples(_hide_right(X_test))
    assert scores.shape == (len(X_test),) and np.all(scores < 0)


@pytest.mark.parametrize("method", ["cd", "pcd"])
def test_same_random_state_same_model(digits, method):
    X = digits[0][:300]
    a = _digits_rbm(n_iter=2, method=method).fit(X)
    b = _digits_rbm(n_iter=2, method=method).fit(X)
    np.testing.assert_array_equal(a.components_, b.components_)
    c = _digits_rbm(n_iter=2, method=method, random_state=1).fit(X)
    assert not np.allclose(a.components_, c.components_)


def test_pickle_round_trip_gives_identical_outputs(digits, tmp_path):
    X_train, X_test, *_ = digits
    rbm = _digits_rbm(n_iter=2).fit(X_train)
    X_left = _hide_right(X_test)
    for restored in (pickle.loads(pickle.dumps(rbm)),
                     joblib.load(joblib.dump(rbm, tmp_path / "rbm.joblib")[0])):
        np.testing.assert_array_equal(restored.transform(X_left), rbm.transform(X_left))
        np.testing.assert_array_equal(restored.impute(X_left), rbm.impute(X_left))


def test_partial_fit_streams_and_continues(digits):
    X = digits[0].astype(np.float32)
    rbm = _digits_rbm(method="pcd", n_chains=50)
    for chunk in np.array_split(X, 4):
        rbm.partial_fit(chunk)
    assert rbm.n_iter_ == 4 and rbm.components_.dtype == np.float32
    assert [x.shape for x in rbm._persist["chains"][0]] == [(50, 32), (50, 32), (50, 128)]
    assert rbm.transform(X[:5]).dtype == np.float32
    # a stream of partial_fit calls equals the same epochs of fit when chunks are whole epochs
    a = _digits_rbm(n_iter=3).fit(X)
    b = _digits_rbm()
    for _ in range(3):
        b.partial_fit(X)
    np.testing.assert_allclose(a.components_, b.components_)


def test_warm_start_continues(digits):
    X = digits[0][:400]
    rbm = _digits_rbm(n_iter=2, warm_start=True).fit(X)
    first = rbm.components_.copy()
    rbm.fit(X)
    assert rbm.n_iter_ == 4 and not np.allclose(first, rbm.components_)
    cold = _digits_rbm(n_iter=2).fit(X)
    cold.fit(X)
    assert cold.n_iter_ == 2


def test_pcd_chains_are_independent_of_batch_size(digits):
    rbm = _digits_rbm(method="pcd", n_chains=37, batch_size=10, n_iter=1).fit(digits[0])
    assert all(x.shape[0] == 37 for x in rbm._persist["chains"][0])


def test_rows_with_a_missing_modality_are_used_in_fit(digits):
    """Incomplete rows enter through the mean-field bound: their positive statistics are
    q(h) [x; E_q(y)]^T, the q of :meth:`transform` and :meth:`impute`."""
    X_train, X_test, y_train, y_test = digits
    X = X_train.copy()
    X[::3, 32:] = np.nan
    X[1::3, :32] = np.nan
    rbm = _digits_rbm(n_iter=4, n_mean_field=5).fit(X)
    assert np.isfinite(rbm.components_).all()
    clf = LogisticRegression(max_iter=2000).fit(rbm.transform(X_train), y_train)
    # measured 0.639-0.713 over seeds 0-4 (chance 0.1)
    assert clf.score(rbm.transform(X_test), y_test) > 0.62

    batch = X[:12]
    missing = np.isnan(batch[:, [0, 32]])
    rbm.set_params(momentum=0.0, weight_decay=0.0, learning_rate=1.0)
    model = rbm._model().copy()
    optimizer = rbm._new_optimizer(model, batch, missing, np.random.default_rng(0))
    for velocity in optimizer.velocity:
        velocity[:] = 0
    optimizer.step(batch, missing, rbm._state.copy(), 1.0)
    # velocity = <h v^T>_data / n - <h v^T>_negative / n; add the negative phase back
    x_neg, _ = optimizer.negative_states(12)
    positive = np.hstack(optimizer.velocity[:2]) * 12 + x_neg[2].T @ np.hstack(x_neg[:2])
    expected = rbm.transform(batch).T @ rbm.impute(batch)
    np.testing.assert_allclose(positive, expected, rtol=1e-4, atol=1e-6)


def test_sample_keeps_observed_blocks_and_draws_missing_ones(digits):
    rbm = _digits_rbm(n_iter=5).fit(digits[0])
    X_left = _hide_right(digits[1][:20])
    drawn = rbm.sample(X_left, n_steps=20, random_state=0)
    np.testing.assert_array_equal(drawn[:, :32], X_left[:, :32])
    assert set(np.unique(drawn[:, 32:])) <= {0.0, 1.0}
    np.testing.assert_array_equal(drawn, rbm.sample(X_left, n_steps=20, random_state=0))
    with pytest.raises(ValueError, match="n_steps"):
        rbm.sample(X_left, n_steps=0)


def test_modality_blocks_and_names(digits):
    rbm = _digits_rbm(modalities=[("left", slice(0, 32)), ("right", slice(32, 64))],
                      n_iter=1).fit(digits[0])
    assert set(rbm.modality_weights_) == {"left", "right"}
    np.testing.assert_array_equal(rbm.modality_weights_["right"], rbm.components_[:, 32:])
    assert rbm.modality_intercepts_["left"].shape == (32,)
    np.testing.assert_array_equal(rbm.get_feature_names_out()[:2],
                                  ["multimodalrbm0", "multimodalrbm1"])


def test_non_contiguous_modality_columns_match_contiguous_ones(digits):
    """Modalities given as scattered column indices infer exactly like contiguous blocks."""
    X = digits[0][:300]
    perm = np.random.default_rng(0).permutation(64)
    inverse = np.argsort(perm)
    left, right = inverse[:32], inverse[32:]
    scattered = _digits_rbm(n_iter=2, modalities=[("l", left), ("r", right)]).fit(X[:, perm])
    blocks = _digits_rbm(n_iter=1, modalities=[32, 32]).fit(X)
    blocks.components_ = scattered.components_[:, inverse]
    blocks.intercept_visible_ = scattered.intercept_visible_[inverse]
    blocks.intercept_hidden_ = scattered.intercept_hidden_
    Xh = _hide_right(X[:10])
    np.testing.assert_allclose(blocks.transform(Xh), scattered.transform(Xh[:, perm]),
                               atol=1e-12)
    np.testing.assert_allclose(blocks.impute(Xh), scattered.impute(Xh[:, perm])[:, inverse],
                               atol=1e-12)


def test_sparse_counts_give_the_dense_result():
    X, _ = make_multimodal_topics(300, n_image_features=10, n_tags=40, random_state=0)
    params = dict(n_components=16, modalities=[10, 40], n_iter=3, learning_rate=0.01,
                  visible_units=["gaussian", "replicated_softmax"], random_state=0)
    dense = MultimodalRBM(**params).fit(X)
    sparse = MultimodalRBM(**params).fit(sp.csr_matrix(X))
    np.testing.assert_allclose(dense.components_, sparse.components_, atol=1e-12)
    X_image = X[:20].copy()
    X_image[:, 10:] = np.nan
    X_tags = X[:20].copy()
    X_tags[:, :10] = np.nan
    for Xm in (X_image, X_tags):
        np.testing.assert_allclose(dense.transform(Xm), sparse.transform(sp.csr_matrix(Xm)),
                                   atol=1e-12)
    assert dense.mean_length_[1] == 10 and dense.mean_length_[0] == 0
    assert np.all(dense.hidden_length_bias_[0] == 0)
    assert np.any(dense.hidden_length_bias_[1] != 0)
    tags = dense.impute(X_image)[:, 10:]
    np.testing.assert_allclose(tags.sum(axis=1), 10, rtol=1e-5)


def test_tags_imputed_from_images_beat_the_most_frequent_tags():
    X, _ = make_multimodal_topics(1500, n_image_features=20, n_tags=50, noise=0.5,
                                  random_state=0)
    X_train, X_test = X[:1200], X[1200:]
    rbm = MultimodalRBM(32, modalities=[20, 50], learning_rate=0.01, n_iter=30,
                        visible_units=["gaussian", "replicated_softmax"],
                        random_state=0).fit(X_train)
    X_image = X_test.copy()
    X_image[:, 20:] = np.nan
    scores = rbm.impute(X_image)[:, 20:]
    truth = X_test[:, 20:] > 0

    def precision_at_5(s):
        top = np.argsort(-s, axis=1)[:, :5]
        return np.take_along_axis(truth, top, axis=1).mean()

    frequent = np.tile(X_train[:, 20:].sum(axis=0), (len(X_test), 1))
    assert precision_at_5(scores) > precision_at_5(frequent) + 0.05


# -- bad input ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted(digits):
    return _digits_rbm(n_iter=1).fit(digits[0])


def _unchanged(est, action):
    before = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in vars(est).items()}
    action()
    after = vars(est)
    assert before.keys() == after.keys()
    for k, v in before.items():
        if isinstance(v, np.ndarray):
            np.testing.assert_array_equal(v, after[k])


@pytest.mark.parametrize(
    "make_X, match",
    [
        (lambda X: X[:0], "0 sample"),
        (lambda X: X[:, :10], "expecting 64 features"),
        (lambda X: np.vstack([X[:3], np.full((1, 64), np.nan)]), "every modality missing"),
        (lambda X: np.where(np.arange(64) == 40, np.nan, X[:4]), "'m1' is partly NaN"),
        (lambda X: np.where(np.arange(64) == 3, np.inf, X[:4]), "infinity in modality 'm0'"),
        (lambda X: X[:4] * 2, "binary visible units, which take values in \\[0, 1\\]"),
        (lambda X: np.full((4, 64), "x", dtype=object), "could not convert"),
        (lambda X: X[:4] + 1j, "[Cc]omplex"),
    ],
)
def test_bad_input_is_refused_and_the_model_is_left_as_it_was(fitted, digits, make_X, match):
    X = make_X(digits[1])
    for method in ("transform", "impute", "score_samples"):
        with pytest.raises(ValueError, match=match):
            getattr(fitted, method)(X)
    if X.shape[1] == 64 and X.shape[0]:
        _unchanged(fitted, lambda: pytest.raises(ValueError, fitted.partial_fit, X))


def test_one_sample_is_refused():
    with pytest.raises(ValueError, match="1 sample"):
        MultimodalRBM().fit(np.ones((1, 4)))


def test_negative_count_for_replicated_softmax():
    X = np.abs(np.random.default_rng(0).normal(size=(10, 6)))
    X[3, 4] = -1
    with pytest.raises(ValueError, match="'m1' has replicated_softmax .* down to -1"):
        MultimodalRBM(visible_units=["gaussian", "replicated_softmax"]).fit(X)


def test_visible_units_per_modality_must_match():
    with pytest.raises(ValueError, match="visible_units lists 3 entries but there are 2 modalities"):
        MultimodalRBM(visible_units=["binary"] * 3).fit(np.zeros((5, 4)))
    with pytest.raises(ValueError, match="Unknown visible_units 'poisson' for modality 'm1'"):
        MultimodalRBM(visible_units=["binary", "poisson"]).fit(np.zeros((5, 4)))


def test_modality_missing_in_every_training_row():
    X = np.random.default_rng(0).random((10, 4))
    X[:, 2:] = np.nan
    with pytest.raises(ValueError, match="'m1' is missing in every training row"):
        MultimodalRBM().fit(X)


def test_divergence_raises_naming_the_learning_rate_and_keeps_the_model(digits):
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(200, 8)) * 50).astype(np.float32)
    rbm = MultimodalRBM(8, learning_rate=1e-4, n_iter=1, random_state=0).fit(X)
    rbm.set_params(learning_rate=1e3, n_iter=5, warm_start=True)
    before = rbm.components_.copy()
    with pytest.raises(FloatingPointError, match="learning_rate=1000.0"):
        rbm.fit(X)
    np.testing.assert_array_equal(rbm.components_, before)
    assert rbm.n_iter_ == 1


def test_constant_columns_are_fine():
    X = np.random.default_rng(0).random((50, 6))
    X[:, 0] = 0.0
    X[:, 4] = 1.0
    rbm = MultimodalRBM(4, visible_units="binary", n_iter=2, random_state=0).fit(X)
    assert np.isfinite(rbm.transform(X)).all()


def test_verbose_prints_one_line_per_epoch(capsys, digits):
    _digits_rbm(n_iter=3, verbose=1).fit(digits[0][:100])
    lines = [ln for ln in capsys.readouterr().out.splitlines() if "epoch" in ln]
    assert len(lines) == 3 and "reconstruction error" in lines[0]


def test_resample_binary_draws_binary_modalities_only():
    rng = np.random.default_rng(0)
    p = np.tile(np.linspace(0.05, 0.95, 4), (20000, 1))
    gaussian = rng.normal(size=(20000, 3))
    v = np.hstack([gaussian, p])
    rbm = MultimodalRBM(n_components=2, modalities=[3, 4],
                        visible_units=["gaussian", "binary"], n_iter=1,
                        random_state=0).fit(v[:50])
    state = rbm._state.copy()
    for units, (_, cols) in zip(rbm._unit_types, rbm.modalities_):
        block = np.ascontiguousarray(v[:, cols])
        units.resample(block, state)
        v[:, cols] = block
    np.testing.assert_array_equal(v[:, :3], gaussian)
    assert set(np.unique(v[:, 3:])) == {0.0, 1.0}
    np.testing.assert_allclose(v[:, 3:].mean(axis=0), p[0], atol=0.01)
    fitted = MultimodalRBM(n_components=4, visible_units="binary", resample_binary=True,
                           n_iter=2, random_state=0).fit(p[:200])
    assert fitted.n_iter_ == 2


def test_hidden_units_that_stop_depending_on_the_data_are_reported():
    """Too large a step on Gaussian features turns every hidden unit off for every row (no
    NaN): a ConvergenceWarning says so and names the stability limit, at every seed tried
    (0-7); a stable step is silent."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.preprocessing import StandardScaler

    X, _ = make_multimodal_topics(1000, n_image_features=30, n_tags=50, doc_length=8,
                                  random_state=0)
    X[:, :30] = StandardScaler().fit_transform(X[:, :30])
    params = dict(modalities=[30, 50], visible_units=["gaussian", "replicated_softmax"],
                  n_iter=3, random_state=0)
    for seed in range(8):
        with pytest.warns(ConvergenceWarning,
                          match=r"stopped depending.*learning_rate=0.1.*0\.0117"):
            rbm = MultimodalRBM(256, learning_rate=0.1, **{**params, "random_state": seed})
            rbm.fit(X)
        assert rbm.transform(X[:100]).max() < 1e-3
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        rbm = MultimodalRBM(256, learning_rate=0.01, **params).fit(X)
    assert np.ptp(rbm.transform(X[:100]), axis=0).max() > 0.1


def test_saturated_units_that_still_depend_on_the_data_are_not_reported(digits):
    """Units that are on for some rows and off for others are in use however saturated:
    weights scaled up 200-fold make nearly every probability binary, and no
    ConvergenceWarning follows."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    X_train = digits[0][:500]
    rbm = _digits_rbm(n_iter=5).fit(X_train)
    rbm.components_ *= 200
    rbm.intercept_hidden_ *= 200
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        rbm.set_params(warm_start=True, learning_rate=1e-9, n_iter=1).fit(X_train)
    H = rbm.transform(X_train)
    # measured 0.85-0.96 over seeds 0-3
    assert np.mean(np.minimum(H, 1 - H) < 1e-3) > 0.8
    assert np.ptp(H, axis=0).max() > 0.99
