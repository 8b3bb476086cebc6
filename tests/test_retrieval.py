"""nearest_neighbors: against brute force, batching invariance, ties, errors."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import config_context
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import normalize

from skmultimodal.retrieval import nearest_neighbors


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(37, 5)), rng.normal(size=(101, 5))


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_matches_sklearn_brute_force(data, metric):
    queries, database = data
    nn = NearestNeighbors(n_neighbors=7, metric=metric, algorithm="brute").fit(database)
    expected_distances, expected_indices = nn.kneighbors(queries)
    scores, indices = nearest_neighbors(queries, database, n_neighbors=7, metric=metric)
    np.testing.assert_array_equal(indices, expected_indices)
    if metric == "cosine":  # sklearn's cosine distance is 1 - similarity
        np.testing.assert_allclose(scores, 1 - expected_distances, atol=1e-12)
        assert np.all(np.diff(scores, axis=1) <= 0)
    else:
        np.testing.assert_allclose(scores, expected_distances, rtol=1e-12)
        assert np.all(np.diff(scores, axis=1) >= 0)


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_scores_are_the_direct_formula(data, metric):
    queries, database = data
    scores, indices = nearest_neighbors(queries, database, n_neighbors=4, metric=metric)
    q, d = queries[:, None, :], database[indices]
    if metric == "cosine":
        direct = (q * d).sum(-1) / np.linalg.norm(q, axis=-1) / np.linalg.norm(d, axis=-1)
    else:
        direct = np.linalg.norm(q - d, axis=-1)
    np.testing.assert_allclose(scores, direct, rtol=1e-12)


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
@pytest.mark.parametrize("n_neighbors", [1, 5, None])
def test_batching_does_not_change_the_result(data, metric, n_neighbors):
    queries, database = data
    reference = nearest_neighbors(queries, database, n_neighbors=n_neighbors, metric=metric,
                                  batch_size=len(queries))
    for batch_size in (1, 4, 36, 1000):
        scores, indices = nearest_neighbors(queries, database, n_neighbors=n_neighbors,
                                            metric=metric, batch_size=batch_size)
        np.testing.assert_array_equal(indices, reference[1])
        # BLAS may round a one-row product differently from a block product by an ulp.
        np.testing.assert_allclose(scores, reference[0], rtol=1e-13, atol=1e-15)


def test_score_blocks_follow_working_memory(data, monkeypatch):
    """A tiny working memory forces small score blocks, merged across database blocks."""
    from skmultimodal import retrieval

    queries, database = data
    shapes = []
    original = retrieval._top_k

    def spy(cost, k):
        shapes.append(cost.shape)
        return original(cost, k)

    monkeypatch.setattr(retrieval, "_top_k", spy)
    with config_context(working_memory=1e-3):  # 1048 bytes: 65 float64 scores and their sort
        small = nearest_neighbors(queries, database, n_neighbors=3)
    assert shapes and all(rows * columns <= 65 for rows, columns in shapes)
    assert {columns for _, columns in shapes} == {65, len(database) - 65}
    shapes.clear()
    large = nearest_neighbors(queries, database, n_neighbors=3)
    assert shapes == [(len(queries), len(database))]
    np.testing.assert_array_equal(small[1], large[1])
    np.testing.assert_allclose(small[0], large[0], rtol=1e-13)


def test_full_ranking_is_a_permutation(data):
    queries, database = data
    _, indices = nearest_neighbors(queries, database, n_neighbors=None)
    assert indices.shape == (len(queries), len(database))
    np.testing.assert_array_equal(np.sort(indices, axis=1),
                                  np.broadcast_to(np.arange(len(database)), indices.shape))


def test_cosine_equals_euclidean_on_unit_rows(data):
    queries, database = (normalize(a) for a in data)
    similarities, by_cosine = nearest_neighbors(queries, database, n_neighbors=10)
    distances, by_euclidean = nearest_neighbors(queries, database, n_neighbors=10,
                                                metric="euclidean")
    np.testing.assert_array_equal(by_cosine, by_euclidean)
    np.testing.assert_allclose(distances**2, 2 - 2 * similarities, atol=1e-12)


def test_cosine_ignores_scale(data):
    queries, database = data
    scale = np.random.default_rng(1).uniform(0.1, 10, size=(len(database), 1))
    a = nearest_neighbors(queries, database, n_neighbors=6)
    b = nearest_neighbors(3 * queries, scale * database, n_neighbors=6)
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_allclose(a[0], b[0], rtol=1e-12)


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
@pytest.mark.parametrize("batch_size", [1, None])
def test_ties_go_to_the_lower_index(metric, batch_size):
    # Database items 1, 3, 4, 6 are copies of one vector, 0 and 5 of another farther away.
    near, far = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    database = np.array([far, near, [-1.0, -1.0], near, near, far, near])
    queries = np.array([[2.0, 0.0], [3.0, 0.0]])
    for k, expected in [(1, [1]), (2, [1, 3]), (3, [1, 3, 4]), (4, [1, 3, 4, 6]),
                        (5, [1, 3, 4, 6, 0]), (7, [1, 3, 4, 6, 0, 5, 2])]:
        _, indices = nearest_neighbors(queries, database, n_neighbors=k, metric=metric,
                                       batch_size=batch_size)
        np.testing.assert_array_equal(indices, [expected, expected])


def test_ties_lower_index_at_random_cut():
    """Many exact ties straddling the k-th place: the chosen ones are the lowest indices."""
    rng = np.random.default_rng(3)
    database = rng.integers(0, 3, size=(500, 1)).astype(float)  # values 0, 1, 2
    queries = np.array([[0.0], [2.0], [1.2]])
    _, indices = nearest_neighbors(queries, database, n_neighbors=50, metric="euclidean")
    for query, row in zip(queries, indices):
        distance = np.abs(database[:, 0] - query[0])
        expected = np.lexsort((np.arange(len(database)), distance))[:50]
        np.testing.assert_array_equal(row, expected)


def test_zero_vector_has_zero_cosine_similarity():
    database = np.array([[1.0, 0.0], [0.0, 0.0], [-1.0, 0.0]])
    similarities, indices = nearest_neighbors([[1.0, 1.0]], database, n_neighbors=3)
    np.testing.assert_array_equal(indices, [[0, 1, 2]])
    np.testing.assert_allclose(similarities, [[np.sqrt(0.5), 0.0, -np.sqrt(0.5)]])
    similarities, _ = nearest_neighbors([[0.0, 0.0]], database, n_neighbors=3)
    np.testing.assert_array_equal(similarities, [[0.0, 0.0, 0.0]])


def test_dtype():
    rng = np.random.default_rng(0)
    q, d = rng.normal(size=(5, 3)).astype(np.float32), rng.normal(size=(20, 3)).astype(np.float32)
    for metric in ("cosine", "euclidean"):
        scores, indices = nearest_neighbors(q, d, n_neighbors=3, metric=metric)
        assert scores.dtype == np.float32
        assert indices.dtype == np.intp
        assert nearest_neighbors(q, d.astype(np.float64), n_neighbors=3)[0].dtype == np.float64


@pytest.mark.parametrize(
    "kwargs, queries, database, message",
    [
        ({"n_neighbors": 0}, None, None, "n_neighbors must be an int in \\[1, n_database"),
        ({"n_neighbors": 102}, None, None, "n_neighbors must be an int in \\[1, n_database"),
        ({"n_neighbors": 2.0}, None, None, "n_neighbors must be an int"),
        ({"metric": "manhattan"}, None, None, "metric must be one of"),
        ({"batch_size": 0}, None, None, "batch_size must be a positive int"),
        ({}, np.ones((2, 4)), None, "queries have 4 columns but the database has 5"),
        ({}, np.full((2, 5), np.nan), None, "NaN"),
        ({}, None, np.full((3, 5), np.inf), "infinity"),
        ({}, np.ones((0, 5)), None, "0 sample"),
    ],
)
def test_errors(data, kwargs, queries, database, message):
    q, d = data
    with pytest.raises(ValueError, match=message):
        nearest_neighbors(q if queries is None else queries,
                          d if database is None else database, **kwargs)


def test_sparse_is_refused(data):
    queries, database = data
    with pytest.raises(TypeError, match="toarray"):
        nearest_neighbors(sp.csr_matrix(queries), database)


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_database_blocks_merge_exactly(metric):
    """Score blocks over a few database rows at a time, merged, give the one-block answer,
    ties included (items copied across blocks keep the lower index first)."""
    rng = np.random.default_rng(0)
    database = rng.integers(-2, 3, size=(300, 2)).astype(float)  # many exact ties
    queries = rng.normal(size=(20, 2))
    expected = nearest_neighbors(queries, database, n_neighbors=25, metric=metric)
    with config_context(working_memory=1e-3):  # 65 scores per block
        got = nearest_neighbors(queries, database, n_neighbors=25, metric=metric)
    np.testing.assert_array_equal(got[1], expected[1])
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-13, atol=1e-15)
    # brute force, ties to the lower index
    cost = (-normalize(queries) @ normalize(database).T if metric == "cosine" else
            np.linalg.norm(queries[:, None] - database[None], axis=-1))
    for row, c in zip(got[1], cost):
        np.testing.assert_array_equal(row, np.lexsort((np.arange(300), np.round(c, 12)))[:25])


def test_a_memmap_database_is_read_block_by_block(tmp_path, monkeypatch):
    from skmultimodal import retrieval

    rng = np.random.default_rng(0)
    queries, database = rng.normal(size=(10, 4)), rng.normal(size=(2000, 4))
    path = tmp_path / "database.dat"
    stored = np.memmap(path, dtype=np.float64, mode="w+", shape=database.shape)
    stored[:] = database
    stored.flush()
    mapped = np.memmap(path, dtype=np.float64, mode="r", shape=database.shape)
    blocks = []
    original = retrieval._check_embeddings

    def spy(Z, name, **kwargs):
        blocks.append((name, Z.shape))
        return original(Z, name, **kwargs)

    monkeypatch.setattr(retrieval, "_check_embeddings", spy)
    with config_context(working_memory=0.01):  # 655 float64 scores: one query row at a time
        got = nearest_neighbors(queries, mapped, n_neighbors=5)
    assert all(shape[0] <= 655 for name, shape in blocks if name == "database")
    assert ("database", mapped.shape) not in blocks  # never validated (read) whole
    expected = nearest_neighbors(queries, database, n_neighbors=5)
    np.testing.assert_array_equal(got[1], expected[1])
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-13)
    with pytest.raises(ValueError, match="infinity"):
        bad = np.memmap(tmp_path / "bad.dat", dtype=np.float64, mode="w+", shape=(700, 4))
        bad[:] = 1.0
        bad[690] = np.inf
        with config_context(working_memory=0.01):
            nearest_neighbors(queries, bad, n_neighbors=5)
