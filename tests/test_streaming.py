"""Exact streaming of the CCA family: partial_fit over chunks equals fit on all the rows,
memory bounded by the statistics, chunked transform equals whole-array transform."""

import tracemalloc
import warnings

import numpy as np
import pytest
from sklearn import config_context
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from skmultimodal import CCA, KCCA, DeepCCA
from skmultimodal.datasets import make_correlated_views, make_nonlinear_views


def _views(n=2000, widths=(8, 6), seed=0, offset=0.0):
    """Views sharing three latent variables (two views: planted canonical correlations)."""
    if len(widths) == 2:
        X, _ = make_correlated_views(n, correlations=(0.9, 0.6, 0.3), n_features=widths,
                                     random_state=seed)
        return X + offset
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 3))
    return np.hstack([z @ rng.normal(size=(3, w)) + rng.standard_normal((n, w))
                      for w in widths]) + offset


def _with_missing_blocks(X, widths, seed=0):
    """Whole blocks set to NaN in some rows (never every block of a row)."""
    rng = np.random.default_rng(seed)
    X = X.copy()
    stops = np.cumsum(widths)
    view = rng.integers(-3, len(widths), size=len(X))  # negative: row complete
    for m, (w, s) in enumerate(zip(widths, stops)):
        X[view == m, s - w:s] = np.nan
    return X


def _chunks(X, seed, sizes=(1, 2, 3, 50, 400)):
    """Random chunking: a first chunk of at least 2 rows, then chunks of assorted sizes."""
    rng = np.random.default_rng(seed)
    cuts, start = [0], 2 + int(rng.integers(0, 5))
    while start < len(X):
        cuts.append(start)
        start += int(rng.choice(sizes))
    cuts.append(len(X))
    return [X[a:b] for a, b in zip(cuts[:-1], cuts[1:])]


def _stream(estimator, chunks):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # chunks too small to solve yet
        for chunk in chunks:
            estimator.partial_fit(chunk)
    return estimator


def _assert_same_model(a, b, rtol=1e-8):
    for Wa, Wb in zip(a.weights_, b.weights_):
        np.testing.assert_allclose(Wa, Wb, rtol=rtol, atol=rtol * np.abs(Wb).max())
    for ma, mb in zip(a.means_, b.means_):
        np.testing.assert_allclose(ma, mb, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(a.canonical_correlations_, b.canonical_correlations_,
                               rtol=1e-10)
    assert a.n_samples_seen_ == b.n_samples_seen_


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reg", [0.0, 0.5, "ledoit_wolf"])
@pytest.mark.parametrize("widths", [(8, 6), (4, 5, 3)])
def test_partial_fit_over_random_chunks_equals_fit(dtype, reg, widths):
    X = _with_missing_blocks(_views(widths=widths, offset=5.0), widths).astype(dtype)
    params = dict(n_components=2, modalities=list(widths), reg=reg)
    batch = CCA(**params).fit(X)
    for seed in range(3):
        _assert_same_model(_stream(CCA(**params), _chunks(X, seed)), batch)


def test_fit_is_partial_fit_on_one_chunk():
    X = _with_missing_blocks(_views(), (8, 6))
    a = CCA(n_components=3, modalities=[8, 6]).fit(X)
    b = CCA(n_components=3, modalities=[8, 6]).partial_fit(X)
    for Wa, Wb in zip(a.weights_, b.weights_):
        np.testing.assert_array_equal(Wa, Wb)
    # and partial_fit after fit continues the same statistics
    c = CCA(n_components=3, modalities=[8, 6]).fit(X[:700]).partial_fit(X[700:])
    _assert_same_model(c, a)
    # while fit starts again
    d = CCA(n_components=3, modalities=[8, 6]).fit(X[:700]).fit(X)
    _assert_same_model(d, a, rtol=0)


def test_the_merge_is_stable_far_from_the_origin():
    """Raw sums (sum x x^T - n m m^T) lose about (offset / std)^2 eps of the covariance; the
    pairwise update does not."""
    X = _views()
    shifted = CCA(n_components=3, modalities=[8, 6])
    for chunk in np.array_split(X + 1e6, 40):
        shifted.partial_fit(chunk)
    plain = CCA(n_components=3, modalities=[8, 6]).fit(X)
    for Ws, Wp in zip(shifted.weights_, plain.weights_):
        np.testing.assert_allclose(Ws, Wp, rtol=1e-6, atol=1e-6 * np.abs(Wp).max())


def test_wide_views_and_the_switch_to_cross_products():
    """Fewer rows than columns: the rows are kept and solved by SVD; past the width the
    statistics become the co-moment matrix; both equal fit."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal((130, 3))
    X = np.hstack([z @ rng.normal(size=(3, 40)), z @ rng.normal(size=(3, 60))])
    X += 0.5 * rng.standard_normal(X.shape)
    params = dict(n_components=3, modalities=[40, 60], reg=1.0)
    for n in (60, 130):  # below and above the 100 columns
        stream = _stream(CCA(**params), np.array_split(X[:n], 7))
        assert (stream._moments.rows is None) == (n > 100)
        _assert_same_model(stream, CCA(**params).fit(X[:n]))


def test_memory_does_not_grow_with_the_rows():
    sizes = []
    for n in (1000, 8000):
        stream = _stream(CCA(n_components=2, modalities=[8, 6]),
                         np.array_split(_views(n=n), n // 500))
        state = stream._moments
        sizes.append(sum(a.nbytes for a in (state.mean, state.comoment, state.norm4,
                                             state.norm3, state.low, state.high)))
        assert state.rows is None
    assert sizes[0] == sizes[1] == (14 * 14 + 4 * 14 + 2) * 8


def test_fit_and_transform_never_copy_the_whole_array():
    """float32 X is reduced chunk by chunk: no float64 copy of X is ever made."""
    X = _views(n=40000, widths=(30, 20)).astype(np.float32)
    cca = CCA(n_components=2, modalities=[30, 20])
    with config_context(working_memory=1):
        tracemalloc.start()
        cca.fit(X)
        fit_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        Z = cca.transform(X)
        transform_peak = tracemalloc.get_traced_memory()[1] - Z.nbytes
        tracemalloc.stop()
    assert fit_peak < 0.5 * X.nbytes, fit_peak
    assert transform_peak < 0.5 * X.nbytes, transform_peak
    np.testing.assert_allclose(Z, CCA(n_components=2, modalities=[30, 20]).fit(X).transform(X),
                               rtol=1e-8, atol=1e-10)


def test_until_the_rows_determine_the_weights_the_model_is_not_fitted():
    X = _views()
    constant_first = X[:300].copy()
    constant_first[:, 8:] = 1.0  # view m1 constant in the first chunk
    cca = CCA(n_components=2, modalities=[8, 6]).partial_fit(constant_first)
    assert cca.n_samples_seen_ == 300 and not hasattr(cca, "weights_")
    for method in (cca.transform, cca.transform_views, cca.score):
        with pytest.raises(NotFittedError, match="View 'm1' is constant.*partial_fit"):
            method(X)
    cca.partial_fit(X[300:])
    _assert_same_model(cca, CCA(n_components=2, modalities=[8, 6]).fit(
        np.vstack([constant_first, X[300:]])))
    missing = X[:3].copy()
    missing[:, :8] = np.nan
    with pytest.raises(NotFittedError, match="needs at least 2 rows with every view present"):
        CCA(n_components=2, modalities=[8, 6]).partial_fit(missing).transform(X)
    # fit on the same rows is an error
    with pytest.raises(ValueError, match="View 'm1' is constant"):
        CCA(n_components=2, modalities=[8, 6]).fit(constant_first)


def test_the_weights_are_solved_once_when_needed_with_the_last_call_parameters():
    X = _views()
    cca = CCA(n_components=2, modalities=[8, 6], reg=0.5)
    for chunk in np.array_split(X, 5):
        cca.partial_fit(chunk)
        assert cca._solved is None  # a chunk costs its cross-products only
    cca.set_params(reg=10.0)  # not yet used: the statistics were given with reg=0.5
    _assert_same_model(cca, CCA(n_components=2, modalities=[8, 6], reg=0.5).fit(X))
    solved = cca._solved
    cca.transform(X)
    assert cca._solved is solved


def test_a_failed_partial_fit_changes_nothing():
    X = _views()
    reference = CCA(n_components=2, modalities=[8, 6]).partial_fit(X[:500]).partial_fit(X[500:])
    cca = CCA(n_components=2, modalities=[8, 6]).partial_fit(X[:500])
    bad = X[500:].copy()
    bad[7, 9] = np.nan
    with pytest.raises(ValueError, match="partly NaN"):
        cca.partial_fit(bad)
    with pytest.raises(ValueError, match="features"):
        cca.partial_fit(X[500:, :10])
    cca.partial_fit(X[500:])
    for Wa, Wb in zip(cca.weights_, reference.weights_):
        np.testing.assert_array_equal(Wa, Wb)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nystroem_kcca_streaming_equals_its_batch_fit(dtype):
    X = _with_missing_blocks(make_nonlinear_views(1500, random_state=0)[0], (3, 3))
    X = X.astype(dtype)
    params = dict(n_components=2, kernel_params={"gamma": 0.5}, reg=1e-2,
                  approximation="nystroem", n_approx_components=60, random_state=0)
    chunks = _chunks(X[400:], seed=1)
    stream = _stream(KCCA(**params).partial_fit(X[:400]), chunks)
    # the first chunk fixed the landmarks: fit on it chooses the same ones
    first = KCCA(**params).fit(X[:400])
    for f, g in zip(stream.feature_maps_, first.feature_maps_):
        np.testing.assert_array_equal(f.components_, g.components_)
    # the batch fit of every row with those landmarks: linear CCA on their features
    complete = ~np.isnan(X).any(axis=1)
    features = np.hstack([f.transform(X[complete][:, cols].astype(np.float64))
                          for f, (_, cols) in zip(stream.feature_maps_, stream.modalities_)])
    widths = [f.components_.shape[0] for f in stream.feature_maps_]
    batch = CCA(n_components=2, modalities=widths, reg=1e-2).fit(features)
    np.testing.assert_allclose(stream.canonical_correlations_, batch.canonical_correlations_,
                               rtol=1e-8)
    variates = [(features[:, :60] - batch.means_[0]) @ batch.weights_[0],
                (features[:, 60:] - batch.means_[1]) @ batch.weights_[1]]
    for Z_stream, Z_batch in zip(stream.transform_views(X[complete]), variates):
        np.testing.assert_allclose(np.abs(Z_stream), np.abs(Z_batch), rtol=1e-8, atol=1e-8)
    assert stream.n_samples_seen_ == complete.sum()


def test_exact_kcca_has_no_partial_fit():
    assert not hasattr(KCCA(), "partial_fit")
    assert hasattr(KCCA(approximation="nystroem"), "partial_fit")
    with pytest.raises(AttributeError) as error:
        KCCA().partial_fit
    assert "needs approximation='nystroem'" in str(error.value.__cause__)


def test_a_small_first_chunk_gives_fewer_landmarks_and_says_so():
    X = make_nonlinear_views(300, random_state=0)[0]
    kcca = KCCA(n_components=1, approximation="nystroem", n_approx_components=100,
                random_state=0)
    with pytest.warns(UserWarning, match="only 50 rows .* larger first chunk"):
        kcca.partial_fit(X[:50])
    assert kcca.feature_maps_[0].components_.shape[0] == 50


def _fitted(name):
    X = make_nonlinear_views(400, random_state=0)[0]
    estimator = {
        "cca": CCA(n_components=2),
        "kcca": KCCA(n_components=2, kernel_params={"gamma": 0.5}, reg=1e-2),
        "nystroem": KCCA(n_components=2, kernel_params={"gamma": 0.5}, reg=1e-2,
                         approximation="nystroem", n_approx_components=50, random_state=0),
        "deepcca": DeepCCA(n_components=2, hidden_layer_sizes=(8,), max_iter=20,
                           random_state=0),
    }[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X), X


@pytest.mark.filterwarnings("ignore:Could not adhere to working_memory")
@pytest.mark.parametrize("name", ["cca", "kcca", "nystroem", "deepcca"])
def test_chunked_transform_equals_whole_transform(name):
    estimator, X = _fitted(name)
    X = X.copy()
    X[::5, :3] = np.nan
    X[1::5, 3:] = np.nan
    whole = estimator.transform(X), estimator.transform_views(X), estimator.score(X)
    with config_context(working_memory=0.01):  # a few rows per chunk
        chunked = estimator.transform(X), estimator.transform_views(X), estimator.score(X)
    np.testing.assert_allclose(chunked[0], whole[0], rtol=1e-12, atol=1e-12)
    for a, b in zip(chunked[1], whole[1]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert chunked[2] == pytest.approx(whole[2], rel=1e-12)


def test_streaming_from_a_memmap(tmp_path):
    X = _with_missing_blocks(_views(n=3000), (8, 6)).astype(np.float32)
    path = tmp_path / "rows.dat"
    stored = np.memmap(path, dtype=np.float32, mode="w+", shape=X.shape)
    stored[:] = X
    stored.flush()
    rows = np.memmap(path, dtype=np.float32, mode="r", shape=X.shape)
    stream = CCA(n_components=2, modalities=[8, 6])
    for start in range(0, len(rows), 512):
        stream.partial_fit(rows[start:start + 512])
    batch = CCA(n_components=2, modalities=[8, 6]).fit(X)
    _assert_same_model(stream, batch)
    np.testing.assert_allclose(stream.transform(rows), batch.transform(X), rtol=1e-10,
                               atol=1e-10)


@pytest.mark.parametrize("name", ["MultimodalRBM", "MinVIRBM", "MultimodalDBM"])
def test_boltzmann_partial_fit_over_a_memmap_and_sparse_counts(name, tmp_path):
    """A stochastic estimator whose fit is repeated partial_fit: the same epochs over a
    memmap give the model of fit over the array; sparse CSR count data train as their dense
    copy (each batch densified on its own); transform of a memmap equals the array's."""
    import scipy.sparse as sp

    import skmultimodal

    rng = np.random.default_rng(0)
    counts = rng.poisson(0.6, size=(300, 20)).astype(np.float32)
    counts[:, :5] += 1  # every document has words
    path = tmp_path / "counts.dat"
    memmap = np.memmap(path, dtype=np.float32, mode="w+", shape=counts.shape)
    memmap[:] = counts
    memmap.flush()
    memmap = np.memmap(path, dtype=np.float32, mode="r", shape=counts.shape)
    params = dict(n_components=6, modalities=[8, 12], visible_units="replicated_softmax",
                  random_state=0)
    if name == "MultimodalDBM":
        params.update(pathways=(5,), n_iter_pretrain=1)
    make = getattr(skmultimodal, name)
    fitted = make(n_iter=2, **params).fit(counts)
    streamed = make(**params)
    for _ in range(2):
        streamed.partial_fit(memmap)

    def weights(est):
        return est.coefs_ if name == "MultimodalDBM" else [est.components_]

    for a, b in zip(weights(fitted), weights(streamed)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(streamed.transform(memmap), fitted.transform(counts),
                               rtol=1e-4, atol=1e-6)
    sparse = make(n_iter=2, **params).fit(sp.csr_matrix(counts))
    for a, b in zip(weights(fitted), weights(sparse)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
