"""Dask arrays in: CCA and Nystroem KCCA reduce their statistics block by block on a
distributed cluster and equal the in-memory fit; transforms give dask arrays; nearest
neighbours over a dask database."""

import subprocess
import sys

import numpy as np
import pytest

from skmultimodal import CCA, KCCA
from skmultimodal.datasets import make_correlated_views, make_nonlinear_views
from skmultimodal.retrieval import nearest_neighbors

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        yield client


def _data(n=3000, widths=(8, 6)):
    X, _ = make_correlated_views(n, correlations=(0.9, 0.6, 0.3), n_features=widths,
                                 random_state=0)
    X[::7, widths[0]:] = np.nan
    X[3::7, :widths[0]] = np.nan
    return X


def _assert_same_model(a, b):
    for Wa, Wb in zip(a.weights_, b.weights_):
        np.testing.assert_allclose(Wa, Wb, rtol=1e-8, atol=1e-8 * np.abs(Wb).max())
    np.testing.assert_allclose(a.canonical_correlations_, b.canonical_correlations_,
                               rtol=1e-10)
    assert a.n_samples_seen_ == b.n_samples_seen_


@pytest.mark.parametrize("reg", [0.0, "ledoit_wolf"])
def test_cca_on_a_dask_array_equals_the_in_memory_fit(client, reg):
    X = _data()
    chunked = da.from_array(X, chunks=(450, 5))  # blocks split the columns too
    with distributed.get_task_stream(client) as tasks:
        on_cluster = CCA(n_components=3, modalities=[8, 6], reg=reg).fit(chunked)
    in_memory = CCA(n_components=3, modalities=[8, 6], reg=reg).fit(X)
    _assert_same_model(on_cluster, in_memory)
    # each block's statistics were computed by a worker
    blocks = [task for task in tasks.data if "_block_moments" in str(task["key"])]
    assert len(blocks) == len(chunked.chunks[0]) == 7
    assert {task["worker"] for task in blocks} <= set(client.scheduler_info()["workers"])
    Z = on_cluster.transform(chunked)
    assert isinstance(Z, da.Array) and Z.chunks[0] == chunked.chunks[0]
    np.testing.assert_allclose(Z.compute(), in_memory.transform(X), rtol=1e-8, atol=1e-10)
    for V_dask, V in zip(on_cluster.transform_views(chunked), in_memory.transform_views(X)):
        assert isinstance(V_dask, da.Array)
        np.testing.assert_allclose(V_dask.compute(), V, rtol=1e-8, atol=1e-10)
    # partial_fit takes dask chunks too
    stream = CCA(n_components=3, modalities=[8, 6], reg=reg)
    stream.partial_fit(chunked[:1000]).partial_fit(chunked[1000:])
    _assert_same_model(stream, in_memory)


def test_nystroem_kcca_on_a_dask_array_equals_the_in_memory_fit(client):
    X = make_nonlinear_views(2000, random_state=0)[0]
    X[::9, :3] = np.nan
    params = dict(n_components=2, kernel_params={"gamma": 0.5}, reg=1e-2,
                  approximation="nystroem", n_approx_components=80, random_state=0)
    on_cluster = KCCA(**params).fit(da.from_array(X, chunks=300))
    in_memory = KCCA(**params).fit(X)
    for f, g in zip(on_cluster.feature_maps_, in_memory.feature_maps_):
        np.testing.assert_array_equal(f.components_, g.components_)
    np.testing.assert_allclose(on_cluster.canonical_correlations_,
                               in_memory.canonical_correlations_, rtol=1e-10)
    np.testing.assert_allclose(on_cluster.transform(X), in_memory.transform(X), rtol=1e-8,
                               atol=1e-10)
    Z = on_cluster.transform(da.from_array(X, chunks=500))
    np.testing.assert_allclose(Z.compute(), in_memory.transform(X), rtol=1e-8, atol=1e-10)


def test_errors_from_dask_blocks(client):
    X = _data()
    X[2000, 3] = np.nan
    with pytest.raises(ValueError, match=r"partly NaN in rows \[200\].*block that starts at "
                                         r"row 1800"):
        CCA(n_components=2, modalities=[8, 6]).fit(da.from_array(X, chunks=(600, 14)))
    with pytest.raises(ValueError, match="approximation='nystroem'"):
        KCCA().fit(da.from_array(_data(), chunks=600))
    with pytest.raises(ValueError, match="has 13 features"):
        CCA(n_components=2, modalities=[8, 6]).fit(_data()).transform(
            da.from_array(_data()[:, :13], chunks=600))


def test_nearest_neighbors_over_a_dask_database(client):
    rng = np.random.default_rng(0)
    queries, database = rng.normal(size=(40, 6)), rng.normal(size=(3000, 6))
    for metric in ("cosine", "euclidean"):
        expected = nearest_neighbors(queries, database, n_neighbors=7, metric=metric)
        got = nearest_neighbors(da.from_array(queries, chunks=15),
                                da.from_array(database, chunks=700), n_neighbors=7,
                                metric=metric)
        np.testing.assert_array_equal(got[1], expected[1])
        np.testing.assert_allclose(got[0], expected[0], rtol=1e-12)


def test_the_package_imports_without_dask():
    code = ("import sys; sys.modules['dask'] = None; sys.modules['distributed'] = None; "
            "import skmultimodal, numpy as np; "
            "X = np.random.default_rng(0).normal(size=(50, 4)); "
            "skmultimodal.CCA(n_components=1).partial_fit(X).transform(X)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_deep_cca_takes_a_dask_array_into_memory(client):
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from skmultimodal import DeepCCA

    X = make_nonlinear_views(200, random_state=0)[0]
    params = dict(n_components=1, hidden_layer_sizes=(4,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        from_dask = DeepCCA(**params).fit(da.from_array(X, chunks=50))
        in_memory = DeepCCA(**params).fit(X)
    np.testing.assert_array_equal(from_dask.transform(X), in_memory.transform(X))
    Z = from_dask.transform(da.from_array(X, chunks=50))
    assert isinstance(Z, da.Array)
    np.testing.assert_allclose(Z.compute(), in_memory.transform(X), rtol=1e-12)


def test_dask_ml_incremental_streams_the_blocks_through_partial_fit():
    """dask-ml's Incremental wrapper calls partial_fit once per block, in order: the model
    is the one of partial_fit over the blocks by hand, and its transform maps blocks."""
    wrappers = pytest.importorskip("dask_ml.wrappers")

    from skmultimodal import MultimodalRBM

    rng = np.random.default_rng(0)
    X = (rng.random((400, 12)) < 0.3).astype(np.float64)
    params = dict(n_components=5, modalities=[6, 6], batch_size=50, random_state=0)
    incremental = wrappers.Incremental(MultimodalRBM(**params), shuffle_blocks=False)
    incremental.fit(da.from_array(X, chunks=(100, 12)))
    by_hand = MultimodalRBM(**params)
    for start in range(0, 400, 100):
        by_hand.partial_fit(X[start:start + 100])
    assert incremental.estimator_.n_iter_ == by_hand.n_iter_ == 4
    np.testing.assert_allclose(incremental.estimator_.components_, by_hand.components_,
                               rtol=1e-6, atol=1e-8)
    Z = incremental.transform(da.from_array(X, chunks=(100, 12)))
    np.testing.assert_allclose(np.asarray(Z), by_hand.transform(X), rtol=1e-6, atol=1e-8)
    incremental.partial_fit(da.from_array(X, chunks=(100, 12)))
    assert incremental.estimator_.n_iter_ == 8
