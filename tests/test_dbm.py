"""MultimodalDBM against exact answers on an enumerable model, and its behaviour on data."""

import pickle

import numpy as np
import pytest
from scipy.special import expit, logsumexp
from scipy.stats import chisquare

from skmultimodal import MultimodalDBM
from skmultimodal.datasets import load_digits_halves, make_multimodal_topics

from _enumeration import binary_states


@pytest.fixture(scope="module")
def tiny():
    """Two 3-unit binary pathways with 2 hidden units each and 2 joint units, with random
    parameters: 2^12 states, enumerable."""
    V = binary_states(6)
    dbm = MultimodalDBM(2, pathways=(2,), visible_units="binary", n_iter_pretrain=1, n_iter=1,
                        batch_size=16, n_chains=10, n_mean_field=500, mean_field_tol=1e-13,
                        random_state=0).fit(V)
    rng = np.random.default_rng(0)
    dbm.coefs_ = [rng.normal(0, 1.5, w.shape) for w in dbm.coefs_]
    dbm.intercepts_hidden_ = [rng.normal(0, 0.5, b.shape) for b in dbm.intercepts_hidden_]
    dbm.intercept_visible_ = rng.normal(0, 0.5, 6)
    return dbm


def _layers(dbm):
    """Widths of every layer by name, visible first."""
    widths = {name: w.shape[1] for (name, _), w in zip(dbm.edges_, dbm.coefs_)}
    widths.update({name: w.shape[0] for (_, name), w in zip(dbm.edges_, dbm.coefs_)})
    return widths


def _neg_energy(dbm, v, h):
    """-E(v, h) written out: v a (6,) state, h a dict of hidden layer states."""
    x = {"m0": v[:3], "m1": v[3:], **h}
    total = dbm.intercept_visible_ @ v
    for (lo, up), W in zip(dbm.edges_, dbm.coefs_):
        total += x[up] @ W @ x[lo]
    hidden = [n for n in dbm.layer_names_ if n not in ("m0", "m1")]
    for name, b in zip(hidden, dbm.intercepts_hidden_):
        total += b @ x[name]
    return total


def _exact(dbm):
    """log p*(v) for all 64 visible states (hidden summed out) and log Z."""
    V = binary_states(6)
    hidden = [n for n in dbm.layer_names_ if n not in ("m0", "m1")]
    widths = _layers(dbm)
    H = binary_states(sum(widths[n] for n in hidden))
    offsets = np.cumsum([0] + [widths[n] for n in hidden])
    log_pv = np.array([
        logsumexp([
            _neg_energy(dbm, v, {n: h[offsets[k]:offsets[k + 1]] for k, n in enumerate(hidden)})
            for h in H
        ])
        for v in V
    ])
    return V, log_pv, logsumexp(log_pv)


def test_layers_and_edges(tiny):
    assert tiny.layer_names_ == ["m0", "m1", "m0_h1", "m1_h1", "top"]
    assert tiny.edges_ == [("m0", "m0_h1"), ("m1", "m1_h1"), ("m0_h1", "top"),
                           ("m1_h1", "top")]
    np.testing.assert_array_equal(tiny.components_,
                                  np.hstack([tiny.coefs_[2], tiny.coefs_[3]]))


def test_variational_bound_is_below_the_exact_log_likelihood(tiny):
    V, log_pv, log_z = _exact(tiny)
    bound = -tiny.free_energy(V)
    assert np.all(bound <= log_pv + 1e-9)
    assert np.max(log_pv - bound) > 1e-3  # the layers interact: mean-field is not exact


def test_variational_bound_is_exact_when_hidden_layers_are_disconnected(tiny):
    dbm = pickle.loads(pickle.dumps(tiny))
    dbm.coefs_[2][:] = 0
    dbm.coefs_[3][:] = 0
    V, log_pv, log_z = _exact(dbm)
    np.testing.assert_allclose(-dbm.free_energy(V), log_pv, atol=1e-9)


def test_ais_log_partition_and_score_samples_match_enumeration(tiny):
    V, log_pv, log_z = _exact(tiny)
    result = tiny.log_partition(V, n_betas=3000, n_runs=100, random_state=0)
    assert abs(result.log_z - log_z) < 0.01 * abs(log_z)
    assert result.log_z_low <= log_z <= result.log_z_high
    dbm = pickle.loads(pickle.dumps(tiny)).set_params(n_ais_betas=3000)
    scores = dbm.score_samples(V)
    np.testing.assert_allclose(scores, -dbm.free_energy(V) - log_z, atol=0.05)


def test_mean_field_output_is_a_fixed_point(tiny):
    X = binary_states(6)[::5].copy()
    X[::2, 3:] = np.nan  # the second modality missing in every other row
    dbm = pickle.loads(pickle.dumps(tiny)).set_params(output="all")
    H = dbm.transform(X)
    filled = dbm.impute(X)
    h0, h1, top = H[:, :2], H[:, 2:4], H[:, 4:]
    W0, W1, T0, T1 = dbm.coefs_
    b0, b1, bt = dbm.intercepts_hidden_
    c = dbm.intercept_visible_
    np.testing.assert_allclose(h0, expit(filled[:, :3] @ W0.T + top @ T0 + b0), atol=1e-10)
    np.testing.assert_allclose(h1, expit(filled[:, 3:] @ W1.T + top @ T1 + b1), atol=1e-10)
    np.testing.assert_allclose(top, expit(h0 @ T0.T + h1 @ T1.T + bt), atol=1e-10)
    np.testing.assert_allclose(filled[::2, 3:], expit(h1[::2] @ W1 + c[3:]), atol=1e-10)
    np.testing.assert_array_equal(filled[1::2], X[1::2])
    np.testing.assert_allclose(dbm.set_params(output="top").transform(X), top)


def test_gibbs_sampler_matches_the_exact_conditional_distribution(tiny):
    """Draws of the missing modality given the observed one, against enumeration."""
    V, log_pv, _ = _exact(tiny)
    observed = np.array([1.0, 0.0, 1.0])
    rows = np.flatnonzero((V[:, :3] == observed).all(axis=1))
    p = np.exp(log_pv[rows] - logsumexp(log_pv[rows]))
    X = np.tile(np.r_[observed, [np.nan] * 3], (4000, 1))
    draws = tiny.sample(X, n_steps=30, random_state=0)
    np.testing.assert_array_equal(draws[:, :3], X[:, :3])
    codes = draws[:, 3:] @ [4, 2, 1]
    counts = np.bincount(codes.astype(int), minlength=8)
    order = (V[rows, 3:] @ [4, 2, 1]).astype(int)
    assert chisquare(counts[order], 4000 * p).pvalue > 1e-3
    # and a sampler with too few steps from a wrong start would be detectable
    assert chisquare(np.full(8, 500), 4000 * p).pvalue < 1e-3


def test_pretraining_gives_the_stacked_rbms_up_pass():
    """With no joint training and no mean-field sweep, transform is the bottom-up pass of the
    pretrained stack: doubled inputs into the pathway layers, single into the top."""
    X, _ = load_digits_halves(return_X_y=True)
    dbm = MultimodalDBM(8, pathways=(12,), visible_units="binary", n_iter_pretrain=2,
                        n_iter=0, n_mean_field=0, output="all", random_state=0).fit(X[:300])
    W0, W1, T0, T1 = dbm.coefs_
    b0, b1, bt = dbm.intercepts_hidden_
    h0 = expit(2 * X[:, :32] @ W0.T + b0)
    h1 = expit(2 * X[:, 32:] @ W1.T + b1)
    top = expit(h0 @ T0.T + h1 @ T1.T + bt)
    np.testing.assert_allclose(dbm.transform(X), np.hstack([h0, h1, top]), atol=1e-12)
    assert dbm.n_iter_ == 0


def test_missing_modality_starts_top_down_from_the_present_one():
    """With no mean-field sweep, a row missing its right half gets the top layer from the
    left pathway alone (input doubled: two pathways, one present), the right pathway's
    hidden layer top-down (input doubled in place of the missing visible layer) and the
    right half's expectation under it."""
    X, _ = load_digits_halves(return_X_y=True)
    dbm = MultimodalDBM(8, pathways=(12,), visible_units="binary", n_iter_pretrain=2,
                        n_iter=1, n_mean_field=0, output="all", random_state=0).fit(X[:300])
    W0, W1, T0, T1 = dbm.coefs_
    b0, b1, bt = dbm.intercepts_hidden_
    X_left = X[:50].copy()
    X_left[:, 32:] = np.nan
    h0 = expit(2 * X[:50, :32] @ W0.T + b0)
    top = expit(2 * h0 @ T0.T + bt)
    h1 = expit(2 * top @ T1 + b1)
    right = expit(h1 @ W1 + dbm.intercept_visible_[32:])
    np.testing.assert_allclose(dbm.transform(X_left), np.hstack([h0, h1, top]), atol=1e-12)
    np.testing.assert_allclose(dbm.impute(X_left)[:, 32:], right, atol=1e-12)


def test_mean_field_of_a_row_does_not_depend_on_the_batch():
    """Each row's mean-field stops on its own convergence, so a row gets the same posterior
    alone as within any batch (with and without a missing half)."""
    X, _ = load_digits_halves(return_X_y=True)
    dbm = MultimodalDBM(8, pathways=(12,), visible_units="binary", n_iter_pretrain=3,
                        n_iter=2, output="all", random_state=0).fit(X[:300])
    X_mixed = X[:40].copy()
    X_mixed[::3, 32:] = np.nan
    full = dbm.transform(X_mixed)
    for rows in (slice(0, 1), slice(5, 6), slice(10, 17), [3, 30, 9]):
        np.testing.assert_allclose(dbm.transform(X_mixed[rows]), full[rows], rtol=0,
                                   atol=1e-12)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits_halves(return_X_y=True)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(X))
    return X[order[:1300]], X[order[1300:]]


def test_joint_training_raises_the_held_out_variational_bound(digits):
    """Held-out lower bound of log p(v) (AIS log Z): measured -27.05 after pretraining and
    -26.32 after 20 joint epochs when written (seed 0)."""
    X_train, X_test = digits
    dbm = MultimodalDBM(64, pathways=(64,), visible_units="binary", learning_rate=0.05,
                        n_iter_pretrain=20, n_iter=0, n_ais_betas=3000,
                        random_state=0).fit(X_train)
    pretrained = dbm.score(X_test)
    dbm.set_params(warm_start=True, n_iter=20, learning_rate=0.01).fit(X_train)
    joint = dbm.score(X_test)
    assert joint > pretrained + 0.3


# -- missing modalities and generation ------------------------------------------------------


@pytest.fixture(scope="module")
def topics():
    X, _ = make_multimodal_topics(1500, n_image_features=20, n_tags=50, noise=0.5,
                                  random_state=0)
    dbm = MultimodalDBM(32, pathways=(32,), modalities=[20, 50], learning_rate_pretrain=0.05,
                        n_iter_pretrain=10, n_iter=0,
                        visible_units=["gaussian", "replicated_softmax"], random_state=0)
    dbm.fit(X[:1200])
    pretrained = pickle.loads(pickle.dumps(dbm))
    dbm.set_params(warm_start=True, n_iter=20, learning_rate=0.005).fit(X[:1200])
    return X[:1200], X[1200:], pretrained, dbm


def test_tags_imputed_from_images_beat_the_most_frequent_tags(topics):
    """precision@5 of the imputed tags: 0.597 after joint training, 0.381 for the pretrained
    stack alone and 0.333 for the 5 most frequent training tags (seed 0; 0.597-0.649 after
    joint training over seeds 0-3)."""
    from skmultimodal.metrics import precision_at_k

    X_train, X_test, pretrained, dbm = topics
    X_image = X_test.copy()
    X_image[:, 20:] = np.nan
    truth = (X_test[:, 20:] > 0).astype(int)
    words = np.eye(50, dtype=int)  # database of words: a word is relevant if in the row

    def precision(top):
        return precision_at_k(top, k=5, query_labels=truth, database_labels=words)

    frequent = np.tile(np.argsort(-X_train[:, 20:].sum(axis=0))[:5], (len(X_test), 1))
    top = dbm.top_words(X_image, k=5, modality="m1")
    assert top.shape == (len(X_test), 5)
    assert precision(top) > precision(frequent) + 0.15
    assert precision(top) > precision(pretrained.top_words(X_image, k=5, modality=1))
    np.testing.assert_array_equal(top, dbm.top_words(X_image, k=5, modality=-1))


@pytest.mark.parametrize("seed", range(5))
def test_short_documents_tags_depend_on_the_image(seed):
    """Regression: with eight-word documents and default training, the imputed tags were the
    same for every image (the text layer stayed in its small-weight plateau, so the top layer
    carried no text). precision@5 measured 0.47-0.54 against 0.24-0.37 for the most frequent
    tags (margin 0.10-0.30) and 5-6 distinct top-5 sets for images of the 6 topics, over
    seeds 0-4; the old initialisation and learning rates gave the frequent tags' precision
    and one or two sets."""
    X, y = make_multimodal_topics(1500, n_topics=6, n_image_features=30, n_tags=60,
                                  doc_length=8, noise=1.0, random_state=seed)
    dbm = MultimodalDBM(32, pathways=(32,), modalities=[30, 60], n_iter_pretrain=10, n_iter=5,
                        visible_units=["gaussian", "replicated_softmax"], random_state=0)
    dbm.fit(X[:1000])
    X_image = X[1000:].copy()
    X_image[:, 30:] = np.nan
    top = dbm.top_words(X_image, k=5, modality=1)
    truth = X[1000:, 30:] > 0
    frequent = np.argsort(-X[:1000, 30:].sum(axis=0))[:5]
    assert np.take_along_axis(truth, top, axis=1).mean() > truth[:, frequent].mean() + 0.07
    y_test = y[1000:]
    per_topic = {tuple(sorted(top[np.flatnonzero(y_test == k)[0]])) for k in range(6)}
    assert len(per_topic) >= 4
    # and the top layer's posterior given the image alone varies across images
    assert dbm.transform(X_image).std(axis=0).mean() > 0.1


def test_sample_draws_documents_of_the_requested_length(topics):
    _, X_test, _, dbm = topics
    X_image = X_test[:20].copy()
    X_image[:, 20:] = np.nan
    drawn = dbm.sample(X_image, n_steps=10, random_state=0, doc_length=100)
    np.testing.assert_array_equal(drawn[:, :20], X_image[:, :20])
    np.testing.assert_array_equal(drawn[:, 20:].sum(axis=1), 100)
    assert np.all(drawn[:, 20:] == np.round(drawn[:, 20:]))
    default = dbm.sample(X_image, n_steps=10, random_state=0)
    np.testing.assert_array_equal(default[:, 20:].sum(axis=1), np.round(dbm.mean_length_[1]))
    np.testing.assert_array_equal(default, dbm.sample(X_image, n_steps=10, random_state=0))
    with pytest.raises(ValueError, match="doc_length"):
        dbm.sample(X_image, doc_length=0)


def test_replicated_softmax_score_includes_the_multinomial_coefficient(topics):
    _, X_test, _, dbm = topics
    dbm = pickle.loads(pickle.dumps(dbm)).set_params(n_ais_betas=200, n_ais_runs=20)
    scores = dbm.score_samples(X_test[:5])
    from scipy.special import gammaln

    counts = X_test[:5, 20:]
    coefficient = gammaln(counts.sum(axis=1) + 1) - gammaln(counts + 1).sum(axis=1)
    log_z = dbm.log_partition(lengths=[0, 10], n_betas=200, n_runs=20).log_z
    np.testing.assert_allclose(scores, -dbm.free_energy(X_test[:5]) + coefficient - log_z)
    with pytest.raises(ValueError, match="needs every modality present"):
        X = X_test[:5].copy()
        X[0, 20:] = np.nan
        dbm.score_samples(X)


def test_wide_gaussian_pathway_pretrains_at_the_default_rate():
    """256 hidden units over 100 standardised Gaussian features: without the stability cap
    on the Gaussian layer's step this diverged in epoch 4 at learning_rate_pretrain=0.05
    (measured); with it the stack trains and its first layer responds to the data."""
    from sklearn.preprocessing import StandardScaler

    X, _ = make_multimodal_topics(3000, n_topics=12, n_image_features=100, n_tags=20,
                                  noise=2.0, random_state=0)
    X = StandardScaler().fit_transform(X[:, :100])
    dbm = MultimodalDBM(16, pathways=(256,), modalities=[100], n_iter_pretrain=8, n_iter=0,
                        output="all", random_state=0).fit(X)
    assert all(np.isfinite(w).all() for w in dbm.coefs_)
    assert dbm.transform(X[:500])[:, :256].std(axis=0).mean() > 0.05


# -- the DBM's samplers and kernels -------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_kernel_is_exact_to_a_few_ulp(dtype):
    """The sigmoid's own vectorised ``exp`` against scipy's ``expit`` in float64: within 3
    ulp of the dtype wherever the value is a normal number, 0 and 1 at the infinities, NaN
    for NaN; a per-row bias, a scale of the input and ``out`` aliasing the input give the
    same values as the plain call."""
    from scipy.special import expit

    from skmultimodal.boltzmann._kernels_units import (
        sigmoid,
    )

    low = -88.0 if dtype == np.float32 else -709.0
    z = np.concatenate([np.linspace(low, 40.0, 400001), [0.0, -0.0, np.inf, -np.inf, np.nan]])
    z = z.astype(dtype)[None, :]
    out = np.empty_like(z)
    sigmoid(z, np.zeros((1, z.shape[1]), dtype), out)
    assert out.dtype == dtype
    exact = expit(z[0, :-5].astype(np.float64))
    normal = exact > np.finfo(dtype).tiny
    rel = np.abs(out[0, :-5] - exact)[normal] / exact[normal]
    assert rel.max() <= 3 * np.finfo(dtype).eps
    assert np.all(out[0, :-5][~normal] < 2 * np.finfo(dtype).tiny)
    np.testing.assert_array_equal(out[0, -5:-1], [0.5, 0.5, 1.0, 0.0])
    assert np.isnan(out[0, -1])

    rng = np.random.default_rng(0)
    pre = (8 * rng.standard_normal((6, 7))).astype(dtype)
    for bias in (rng.standard_normal((1, 7)).astype(dtype),
                 rng.standard_normal((6, 7)).astype(dtype)):
        expected = np.empty_like(pre)
        sigmoid(pre + bias, np.zeros((1, 7), dtype), expected)
        got = np.empty_like(pre)
        sigmoid(pre, bias, got)
        np.testing.assert_allclose(got, expected, rtol=4 * np.finfo(dtype).eps)
        in_place = pre.copy()
        sigmoid(in_place, bias, in_place)
        np.testing.assert_array_equal(in_place, got)
        doubled, twice = np.empty_like(pre), 2 * pre
        sigmoid(pre, bias, doubled, 2.0)
        sigmoid(twice, bias, twice)
        np.testing.assert_array_equal(doubled, twice)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_sigmoid_kernels_equal_the_unfused_ones(dtype):
    """The sigmoid fused with the Bernoulli draws gives the values of ``sigmoid`` and the
    draws of ``bernoulli`` on the same state; the mean-field update keeps frozen rows and
    flags a row whose largest change exceeds the tolerance."""
    from skmultimodal._random import bernoulli, new_state
    from skmultimodal.boltzmann._kernels_units import (
        sigmoid,
        sigmoid_moved,
        sigmoid_sample,
    )

    rng = np.random.default_rng(0)
    pre = (8 * rng.standard_normal((6, 7))).astype(dtype)
    old = rng.random((6, 7)).astype(dtype)
    for bias in (rng.standard_normal((1, 7)).astype(dtype),
                 rng.standard_normal((6, 7)).astype(dtype)):
        expected = np.empty_like(pre)
        sigmoid(pre, bias, expected)

        for in_place in (False, True):
            state_a = new_state(np.random.default_rng(1))
            state_b = state_a.copy()
            prob = pre.copy() if in_place else np.empty_like(pre)
            draws, expected_draws = np.empty_like(pre), np.empty_like(pre)
            sigmoid_sample(prob if in_place else pre, bias, state_a, prob, draws)
            bernoulli(expected, state_b, expected_draws)
            np.testing.assert_array_equal(prob, expected)
            np.testing.assert_array_equal(draws, expected_draws)
            np.testing.assert_array_equal(state_a, state_b)

        frozen = np.arange(6) % 3 == 0
        largest = np.abs(expected - old).max(axis=1)
        tol = np.median(largest)
        moved = np.zeros(6, dtype=bool)
        moved[0] = True  # a flag already set stays set
        converged = pre.copy()
        sigmoid_moved(converged, bias, converged, old, frozen, moved, tol)
        np.testing.assert_array_equal(converged[~frozen], expected[~frozen])
        np.testing.assert_array_equal(converged[frozen], old[frozen])
        np.testing.assert_array_equal(moved[~frozen], largest[~frozen] > tol)
        np.testing.assert_array_equal(moved[frozen], [True, False])
        assert 0 < moved[~frozen].sum() < 4  # both outcomes of the test are exercised


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bias_step_sums_its_statistics(dtype):
    """``momentum_step_sums`` is ``momentum_step`` on the column sums of the two phases."""
    from skmultimodal.boltzmann._kernels_graph import (
        momentum_step,
        momentum_step_sums,
    )

    rng = np.random.default_rng(0)
    x_pos, x_neg = rng.random((32, 9)).astype(dtype), rng.random((100, 9)).astype(dtype)
    param, velocity = rng.standard_normal((2, 1, 9)).astype(dtype)
    expected_param, expected_velocity = param.copy(), velocity.copy()
    momentum_step(expected_param, expected_velocity,
                           x_pos.sum(axis=0, keepdims=True), x_neg.sum(axis=0, keepdims=True),
                           1 / 32, 1 / 100, 0.5, 0.05, 0.0)
    momentum_step_sums(param, velocity, x_pos, x_neg, 1 / 32, 1 / 100, 0.5, 0.05)
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(velocity, expected_velocity, rtol=rtol)
    np.testing.assert_allclose(param, expected_param, rtol=rtol)
    assert param.dtype == dtype and not np.array_equal(param, expected_param + 1)


@pytest.mark.parametrize("k", [1, 2])
def test_compiled_pcd_step_is_the_composition_of_its_kernels(k):
    """One batch of the trainer (``_kernels_graph.train_step``: PCD, the chains' hidden
    probabilities in the model statistics) on an RBM with two visible groups (Gaussian
    columns 0-2, Replicated Softmax columns 3-7, with lengths) and doubled inputs both ways
    equals the step written out with the public kernels and numpy products, drawing from
    the same generator state in the same order."""
    from skmultimodal.boltzmann._graph import Model, Structure, Trainer
    from skmultimodal.boltzmann._kernels_graph import momentum_step
    from skmultimodal.boltzmann._kernels_units import (
        gaussian_sample,
        multinomial_sample,
        sigmoid,
        sigmoid_sample,
    )
    from skmultimodal.boltzmann._units import VISIBLE_UNITS

    rng = np.random.default_rng(0)
    K, n, nc, up, down = 4, 6, 5, 2.0, 2.0
    W, A = rng.normal(0, 0.5, (K, 8)), rng.normal(0, 0.1, (2, K))
    b, c = rng.normal(0, 0.5, K), rng.normal(0, 0.5, 8)
    v = np.hstack([rng.standard_normal((n, 3)), rng.poisson(1.0, (n, 5)).astype(float)])
    L = np.column_stack([np.zeros(n), v[:, 3:].sum(axis=1)])
    h_chains = (rng.random((nc, K)) < 0.5).astype(float)
    L_chains = np.column_stack([np.zeros(nc), rng.integers(1, 6, nc).astype(float)])
    velocity = [rng.normal(0, 0.01, s) for s in [(K, 3), (K, 5), (1, 3), (1, 5), (1, K),
                                                  (1, K), (1, K)]]
    state = np.array([12345, 67890], dtype=np.uint64)
    mom, lr, wd = 0.5, 0.1, 0.01
    s = Structure([slice(0, 3), slice(3, 8)],
                  [VISIBLE_UNITS["gaussian"], VISIBLE_UNITS["replicated_softmax"]], [(), ()], K)
    model = Model(s, [W[:, :3], W[:, 3:]], [c[:3], c[3:], b], [A[0], A[1]], np.zeros(2),
                  edge_scale=[[up, down], [up, down]])
    trainer = Trainer(model, batch_size=n, k=k, cd=False, rao_blackwell=True, n_iter=5,
                      tol=1e-5, momentum=mom, weight_decay=wd,
                      velocity=[x.copy() for x in velocity])
    trainer.set_chains([np.zeros((nc, 3)), np.zeros((nc, 5)), h_chains.copy()], L_chains)

    eW, eA = [W[:, :3].copy(), W[:, 3:].copy()], [A[:1].copy(), A[1:].copy()]
    ec, eb = [c[None, :3].copy(), c[None, 3:].copy()], b[None, :].copy()
    evel = [x.copy() for x in velocity]
    estate, eh = state.copy(), h_chains.copy()
    h_pos = np.empty((n, K))
    sigmoid(up * (v[:, :3] @ eW[0].T + v[:, 3:] @ eW[1].T), b + L @ A, h_pos)
    for _ in range(k):
        gauss, words = np.empty((nc, 3)), np.empty((nc, 5))
        gaussian_sample(down * (eh @ eW[0]), ec[0], estate, np.empty((0, 3)), gauss)
        multinomial_sample(down * (eh @ eW[1]), ec[1], L_chains[:, 1], estate,
                           np.empty((0, 5)), words)
        h_neg = up * (gauss @ eW[0].T + words @ eW[1].T)
        sigmoid_sample(h_neg, b + L_chains @ A, estate, h_neg, eh)
    v_neg = [gauss, words]
    for m in range(2):
        momentum_step(eW[m], evel[m], h_pos.T @ v[:, s.columns[m]], h_neg.T @ v_neg[m],
                      1 / n, 1 / nc, mom, lr, wd)
        momentum_step(ec[m], evel[2 + m], v[:, s.columns[m]].sum(0, keepdims=True),
                      v_neg[m].sum(0, keepdims=True), 1 / n, 1 / nc, mom, lr, 0.0)
    momentum_step(eb, evel[4], h_pos.sum(0, keepdims=True), h_neg.sum(0, keepdims=True),
                  1 / n, 1 / nc, mom, lr, 0.0)
    momentum_step(eA[1], evel[6], L[:, 1:].T @ h_pos, L_chains[:, 1:].T @ h_neg, 1 / n,
                  1 / nc, mom, lr, 0.0)

    trainer.step(v, np.zeros((n, 2), dtype=bool), state, lr)
    np.testing.assert_array_equal(state, estate)
    x, _ = trainer.chain_states()
    np.testing.assert_array_equal(x[2], eh)
    for got, want in zip(model.blocks(), eW + ec + [eb] + eA):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    for got, want in zip(trainer.velocity, evel):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    assert np.abs(model.W[0] - W[:, :3]).max() > 1e-3 and np.abs(eh - h_chains).sum() > 0


# -- estimator behaviour --------------------------------------------------------------------


def _small(**params):
    params = {"n_components": 8, "pathways": (8,), "visible_units": "binary",
              "learning_rate": 0.05, "n_iter_pretrain": 2, "n_iter": 2, "n_chains": 20,
              "random_state": 0, **params}
    return MultimodalDBM(**params)


@pytest.fixture(scope="module")
def small_data():
    X, _ = load_digits_halves(return_X_y=True)
    return X[:400]


def test_same_random_state_same_model_and_pickle_round_trip(small_data, tmp_path):
    a = _small().fit(small_data)
    b = _small().fit(small_data)
    for wa, wb in zip(a.coefs_, b.coefs_):
        np.testing.assert_array_equal(wa, wb)
    import joblib

    joblib.dump(a, tmp_path / "dbm.joblib")
    c = joblib.load(tmp_path / "dbm.joblib")
    X = small_data.copy()
    X[::2, 32:] = np.nan
    np.testing.assert_array_equal(a.transform(X), c.transform(X))
    np.testing.assert_array_equal(a.impute(X), c.impute(X))


def test_partial_fit_and_warm_start_continue(small_data):
    dbm = _small()
    dbm.partial_fit(small_data[:200])
    first = [w.copy() for w in dbm.coefs_]
    dbm.partial_fit(small_data[200:])
    assert dbm.n_iter_ == 2 and len(dbm.reconstruction_error_curve_) == 2
    assert any(not np.array_equal(w, f) for w, f in zip(dbm.coefs_, first))
    # chains independent of the batch size
    assert all(x.shape[0] == 20 for x in dbm._persist["chains"][0])
    warm = _small(warm_start=True).fit(small_data)
    warm.fit(small_data)
    assert warm.n_iter_ == 4
    cold = _small().fit(small_data)
    cold.fit(small_data)
    assert cold.n_iter_ == 2


def test_output_all_and_feature_names(small_data):
    dbm = _small(output="all", pathways=[(8, 6), (5, 7)]).fit(small_data)
    assert dbm.layer_names_ == ["m0", "m1", "m0_h1", "m0_h2", "m1_h1", "m1_h2", "top"]
    assert dbm.transform(small_data).shape == (400, 8 + 6 + 5 + 7 + 8)
    assert len(dbm.get_feature_names_out()) == 34
    assert dbm.set_params(output="top").transform(small_data).shape == (400, 8)
    assert set(dbm.modality_weights_) == {"m0", "m1"}
    assert dbm.modality_weights_["m1"].shape == (5, 32)


def test_sparse_input_gives_the_dense_result():
    import scipy.sparse as sp

    X, _ = make_multimodal_topics(300, n_image_features=10, n_tags=40, random_state=0)
    X[:, :10] = np.abs(X[:, :10]) > 1  # binary "image" features
    params = dict(n_components=6, pathways=(5,), modalities=[10, 40], n_iter_pretrain=2,
                  n_iter=2, visible_units=["binary", "replicated_softmax"], random_state=0)
    dense = MultimodalDBM(**params).fit(X)
    sparse = MultimodalDBM(**params).fit(sp.csr_matrix(X))
    np.testing.assert_allclose(dense.transform(X), sparse.transform(sp.csr_matrix(X)))


@pytest.mark.parametrize("pathways, match", [
    ([(4,), (4,), (4,)], "pathways lists 3 stacks but there are 2 modalities"),
    ([(4,), (4, 4)], "same parity"),
    ([(4, 4), ()], "Either every pathway has hidden layers or none"),
    ((0,), "positive integer widths"),
])
def test_bad_pathways(small_data, pathways, match):
    with pytest.raises(ValueError, match=match):
        _small(pathways=pathways).fit(small_data)


def test_bad_input_and_divergence_leave_the_model_unchanged(small_data):
    dbm = _small(visible_units="gaussian", learning_rate=0.01).fit(small_data)
    saved = [w.copy() for w in dbm.coefs_]
    X = small_data.copy()
    X[0, 3] = np.nan  # partly missing block
    with pytest.raises(ValueError):
        dbm.partial_fit(X)
    with pytest.raises(ValueError):
        dbm.partial_fit(small_data[:, :10])
    with pytest.raises(FloatingPointError, match="learning_rate"):
        dbm.set_params(learning_rate=1e30, warm_start=True).fit(small_data * 1e3)
    for w, s in zip(dbm.coefs_, saved):
        np.testing.assert_array_equal(w, s)
    assert dbm.n_iter_ == 2


def test_verbose_prints_one_line_per_epoch(capsys, small_data):
    _small(verbose=1, n_iter=3).fit(small_data)
    lines = [ln for ln in capsys.readouterr().out.splitlines()
             if ln.startswith("[MultimodalDBM] epoch")]
    assert len(lines) == 3 and "[MultimodalDBM] epoch 3" in lines[-1]


def test_collapse_is_reported_without_the_rbm_step_bound():
    """A DBM whose hidden units are off for every row gets MultimodalRBM's collapse warning,
    without MultimodalRBM's stable step for Gaussian units (not derived for a DBM)."""
    from sklearn.exceptions import ConvergenceWarning

    X, _ = make_multimodal_topics(300, n_image_features=10, n_tags=20, random_state=0)
    X[:, :10] = (X[:, :10] - X[:, :10].mean(axis=0)) / X[:, :10].std(axis=0)
    dbm = MultimodalDBM(4, pathways=(4,), modalities=[10, 20], n_iter_pretrain=1, n_iter=1,
                        visible_units=["gaussian", "replicated_softmax"],
                        random_state=0).fit(X)
    dbm.coefs_ = [np.zeros_like(w) for w in dbm.coefs_]
    dbm.intercepts_hidden_ = [np.full_like(b, -30.0) for b in dbm.intercepts_hidden_]
    with pytest.warns(ConvergenceWarning, match="stopped depending") as record:
        dbm.set_params(warm_start=True, learning_rate=1e-9).fit(X)
    assert not any("Gaussian" in str(w.message) for w in record)
