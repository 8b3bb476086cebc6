"""Metrics against hand-computed tables, against scikit-learn where they coincide, and as scorers."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.linear_model import RidgeClassifier
from sklearn.metrics import average_precision_score, make_scorer, top_k_accuracy_score
from sklearn.model_selection import GridSearchCV, train_test_split

from skmultimodal import CCA
from skmultimodal._hierarchy import check_parents, class_distances
from skmultimodal.datasets import load_digits_halves
from skmultimodal.metrics import (
    hierarchical_precision_at_k,
    hit_at_k,
    make_retrieval_scorer,
    mean_average_precision,
    median_rank,
    precision_at_k,
    recall_at_k,
)
from skmultimodal.retrieval import nearest_neighbors

# ----------------------------------------------------------------------------------------
# hit@k
# ----------------------------------------------------------------------------------------

# Hand-computed: rankings of the classes per sample, best first, and the hit@k table.
HIT_Y_TRUE = [0, 1, 2, 2, 1]
HIT_Y_SCORE = [
    [0.5, 0.2, 0.3],  # ranking 0, 2, 1: true 0 at rank 1
    [0.3, 0.4, 0.3],  # ranking 1, 0, 2: true 1 at rank 1
    [0.2, 0.5, 0.3],  # ranking 1, 2, 0: true 2 at rank 2
    [0.6, 0.3, 0.1],  # ranking 0, 1, 2: true 2 at rank 3
    [0.4, 0.1, 0.4],  # ranking 0, 2, 1 (tie 0/2 to the lower index): true 1 at rank 3
]


@pytest.mark.parametrize("k, expected", [(1, 2 / 5), (2, 3 / 5), (3, 1.0)])
def test_hit_at_k_hand_computed(k, expected):
    assert hit_at_k(HIT_Y_TRUE, HIT_Y_SCORE, k=k) == pytest.approx(expected)


def test_hit_at_k_sample_weight_and_labels():
    weights = [1, 1, 2, 0, 4]
    # k=2: hits for samples 0, 1, 2 -> (1 + 1 + 2) / 8
    assert hit_at_k(HIT_Y_TRUE, HIT_Y_SCORE, k=2, sample_weight=weights) == pytest.approx(0.5)
    names = np.array(["cat", "dog", "eel"])
    assert hit_at_k(names[HIT_Y_TRUE], HIT_Y_SCORE, k=2, labels=names) == pytest.approx(0.6)
    # Columns listed in another order: the same scores now belong to other classes.
    permuted = ["dog", "cat", "eel"]
    y_true = names[HIT_Y_TRUE]
    assert hit_at_k(y_true, np.asarray(HIT_Y_SCORE)[:, [1, 0, 2]], k=1,
                    labels=permuted) == pytest.approx(0.4)


@pytest.mark.parametrize("seed", range(5))
def test_hit_at_k_equals_top_k_accuracy_without_ties(seed):
    rng = np.random.default_rng(seed)
    labels = np.array([3, 5, 8, 13, 21, 34])
    y_true = rng.choice(labels, size=40)
    y_score = rng.normal(size=(40, labels.size))
    for k in range(1, labels.size):
        assert hit_at_k(y_true, y_score, k=k, labels=labels) == pytest.approx(
            top_k_accuracy_score(y_true, y_score, k=k, labels=labels)
        )


def test_hit_at_k_ties_go_to_lower_index_unlike_sklearn():
    y_score = [[0.5, 0.5, 0.0]]
    assert hit_at_k([0], y_score, k=1, labels=[0, 1, 2]) == 1.0
    assert hit_at_k([1], y_score, k=1, labels=[0, 1, 2]) == 0.0
    # scikit-learn keeps the later of the tied classes.
    assert top_k_accuracy_score([1], y_score, k=1, labels=[0, 1, 2]) == 1.0


@pytest.mark.parametrize(
    "y_true, y_score, kwargs, message",
    [
        ([0, 1], [[1, 0, 0], [0, 1, 0]], {}, "pass `labels`"),
        ([0, 1], [[1, 0], [0, 1]], {"k": 3}, "larger than the number of classes"),
        ([0, 1], [[1, 0], [0, 1]], {"k": 0}, "positive int"),
        ([0, 1, 1], [[1, 0], [0, 1]], {}, "3 samples but y_score has 2 rows"),
        ([0, 7], [[1, 0], [0, 1]], {"labels": [0, 1]}, "not in labels: \\[7\\]"),
        ([0, 1], [[1, 0], [0, 1]], {"labels": [0, 1, 2]}, "labels lists 3 classes"),
        ([0, 1], [[1, np.nan], [0, 1]], {}, "NaN"),
    ],
)
def test_hit_at_k_errors(y_true, y_score, kwargs, message):
    with pytest.raises(ValueError, match=message):
        hit_at_k(y_true, y_score, **kwargs)


# ----------------------------------------------------------------------------------------
# Hierarchical precision@k
# ----------------------------------------------------------------------------------------

# Root 7 -> internal A (5), internal B (6). A -> classes 0, 1, 2. B -> class 3, and class 3 is
# itself the parent of class 4. Class distances: d(0,1) = d(0,2) = d(1,2) = 2,
# d(3,4) = 1, d({0,1,2}, 3) = 4, d({0,1,2}, 4) = 5.
TREE = [5, 5, 5, 6, 3, 7, 7, -1]
# Expanded truth sets G_k(c):
#   k=2: G(0) = G(1) = G(2) = {0,1,2} (radius 2), G(3) = G(4) = {3,4} (radius 1)
#   k=3: G(0..2) = {0,1,2}, G(3) = all (radius 4), G(4) = all (radius 5)
TREE_Y_TRUE = [0, 3, 4, 1]
TREE_Y_SCORE = [
    [0.1, 0.2, 0.0, 0.9, 0.5],  # ranking 3, 4, 1, 0, 2: k=2 -> 0/2, k=3 -> 1/3
    [0.3, 0.0, 0.0, 0.2, 0.4],  # ranking 4, 0, 3, 1, 2: k=2 -> 1/2, k=3 -> 3/3
    [0.0, 0.0, 0.0, 0.0, 0.0],  # ties: ranking 0, 1, 2, 3, 4: k=2 -> 0/2, k=3 -> 3/3
    [0.5, 0.1, 0.6, 0.0, 0.0],  # ranking 2, 0, 1, 3, 4: k=2 -> 2/2, k=3 -> 3/3
]


@pytest.mark.parametrize(
    "k, expected", [(1, 0.0), (2, (0 + 0.5 + 0 + 1) / 4), (3, (1 / 3 + 1 + 1 + 1) / 4),
                    (5, 1.0)]
)
def test_hierarchical_precision_hand_computed(k, expected):
    value = hierarchical_precision_at_k(TREE_Y_TRUE, TREE_Y_SCORE, hierarchy=TREE, k=k,
                                        labels=range(5))
    assert value == pytest.approx(expected)


def test_hierarchical_precision_dict_hierarchy_and_top_level_siblings():
    y_true, y_score = ["a", "c"], [[0.1, 0.6, 0.3, 0.0], [0.0, 0.1, 0.7, 0.2]]
    labels = ["a", "b", "c", "d"]
    as_dict = {"a": "dogs", "b": "dogs", "c": "cats", "d": "cats"}
    as_array = [4, 4, 5, 5, -1, -1]  # "dogs" and "cats" are top-level siblings
    expected = (1 / 2 + 2 / 2) / 2
    assert hierarchical_precision_at_k(y_true, y_score, hierarchy=as_dict, k=2,
                                       labels=labels) == pytest.approx(expected)
    assert hierarchical_precision_at_k(y_true, y_score, hierarchy=as_array, k=2,
                                       labels=labels) == pytest.approx(expected)
    # k=3: "dogs" and "cats" hang from one implicit root, so the classes of the other
    # superclass are at distance 4 and G_3 holds all four classes.
    assert hierarchical_precision_at_k(y_true, y_score, hierarchy=as_array, k=3,
                                       labels=labels) == 1.0
    # A flat hierarchy: every class is at distance 2 from every other.
    flat = [-1, -1, -1, -1]
    assert hierarchical_precision_at_k(y_true, y_score, hierarchy=flat, k=2,
                                       labels=labels) == 1.0


def _tree_distance(parent, a, b):
    def ancestors(node):
        chain = [node]
        while parent[chain[-1]] >= 0:
            chain.append(parent[chain[-1]])
        return chain + [-1]  # -1 stands for the implicit root

    chain_a, chain_b = ancestors(a), ancestors(b)
    common = next(x for x in chain_a if x in chain_b)
    return chain_a.index(common) + chain_b.index(common)


@pytest.mark.parametrize("seed", range(4))
def test_hierarchical_precision_against_a_direct_implementation(seed):
    rng = np.random.default_rng(seed)
    n_classes, n_nodes = 9, 14
    # Random forest: each node's parent has a higher index (or is top level).
    parent = np.array([rng.integers(i + 1, n_nodes) if i < n_nodes - 1 and rng.random() < 0.85
                       else -1 for i in range(n_nodes)])
    y_true = rng.integers(0, n_classes, size=30)
    y_score = rng.normal(size=(30, n_classes))
    for k in (1, 2, 3, 5, 9):
        expected = []
        for t, s in zip(y_true, y_score):
            d = np.array([_tree_distance(parent, t, c) for c in range(n_classes)])
            h = min(r for r in range(3 * n_nodes) if np.sum(d <= r) >= k)
            truth = set(np.flatnonzero(d <= h))
            top = np.argsort(-s, kind="stable")[:k]
            expected.append(len(truth.intersection(top)) / k)
        value = hierarchical_precision_at_k(y_true, y_score, hierarchy=parent, k=k,
                                            labels=range(n_classes))
        assert value == pytest.approx(np.mean(expected))
        if k == 1:
            assert value == pytest.approx(hit_at_k(y_true, y_score, k=1,
                                                   labels=range(n_classes)))


@pytest.mark.parametrize(
    "hierarchy, message",
    [
        ([1, 2, 0], "cycle"),
        ([0, -1, -1], "not a valid parent"),
        ([3, -1, -1], "not a valid parent"),
        ([-2, -1, -1], "not a valid parent"),
        ([-1, -1], "2 nodes but y_score has 3 classes"),
        ([0.5, -1, -1], "int array"),
    ],
)
def test_hierarchical_precision_errors(hierarchy, message):
    with pytest.raises(ValueError, match=message):
        hierarchical_precision_at_k([0, 1, 2], np.eye(3), hierarchy=hierarchy, k=2)


@pytest.mark.parametrize("hierarchy, node", [
    ({"a": "b", "b": "c", "c": "b"}, "'b'"),  # a leads into the cycle b <-> c
    ([2, 2, 3, 4, 3], "4"),  # 0 and 1 lead into the cycle 3 <-> 4
])
def test_hierarchical_precision_names_its_parameter_and_a_node_on_the_cycle(hierarchy, node):
    labels = ["a", "b"] if isinstance(hierarchy, dict) else [0, 1]
    with pytest.raises(ValueError, match=f"^hierarchy has a cycle through node {node};"):
        hierarchical_precision_at_k(labels, np.eye(2), hierarchy=hierarchy, k=1)


def test_class_distances_on_a_deep_chain():
    # 0 -> 1 -> ... -> 199 (top level): the distance of classes i and j is |i - j|.
    n = 200
    parent = check_parents(np.r_[np.arange(1, n), -1], n, name="hierarchy")
    index = np.arange(n)
    np.testing.assert_array_equal(class_distances(parent, n),
                                  np.abs(index[:, None] - index[None, :]))


# ----------------------------------------------------------------------------------------
# Retrieval metrics
# ----------------------------------------------------------------------------------------

# Multi-label hand table. Query labels over (a, b, c); database items 0..4 labelled
# {a}, {b}, {}, {a, b}, {c}. Relevant = any overlap.
QUERY_LABELS = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1]])
DATABASE_LABELS = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 0], [1, 1, 0], [0, 0, 1]])
RANKING = np.array([
    [1, 0, 2, 3, 4],  # query {a}: relevant 0, 3 -> hits at ranks 2, 4
    [2, 0, 1, 4, 3],  # query {a,b}: relevant 0, 1, 3 -> hits at ranks 2, 3, 5
    [4, 3, 2, 1, 0],  # query {c}: relevant 4 -> hit at rank 1
])
AP = [(1 / 2 + 2 / 4) / 2, (1 / 2 + 2 / 3 + 3 / 5) / 3, 1.0]
P_AT = {1: [0, 0, 1], 2: [1 / 2, 1 / 2, 1 / 2], 3: [1 / 3, 2 / 3, 1 / 3]}
R_AT = {1: [0, 0, 1], 2: [1 / 2, 1 / 3, 1], 4: [2 / 2, 2 / 3, 1]}
FIRST_RANK = [2, 2, 1]
LABELLED = {"query_labels": QUERY_LABELS, "database_labels": DATABASE_LABELS}


def test_multilabel_hand_computed():
    assert mean_average_precision(RANKING, **LABELLED) == pytest.approx(np.mean(AP))
    for k, values in P_AT.items():
        assert precision_at_k(RANKING, k=k, **LABELLED) == pytest.approx(np.mean(values))
    for k, values in R_AT.items():
        assert recall_at_k(RANKING, k=k, **LABELLED) == pytest.approx(np.mean(values))
    assert median_rank(RANKING, **LABELLED) == 2.0


def test_multilabel_sparse_and_boolean_indicators_agree():
    for q, d in [(sp.csr_matrix(QUERY_LABELS), sp.csr_matrix(DATABASE_LABELS)),
                 (QUERY_LABELS.astype(bool), DATABASE_LABELS.astype(bool)),
                 (3.0 * QUERY_LABELS, DATABASE_LABELS)]:
        assert mean_average_precision(RANKING, query_labels=q, database_labels=d) == (
            pytest.approx(np.mean(AP)))
        assert recall_at_k(RANKING, k=2, query_labels=q, database_labels=d) == (
            pytest.approx(np.mean(R_AT[2])))


def test_truncated_ranking():
    # The first 3 columns only: query 0 misses item 3, query 1 misses 3; their AP counts the
    # missed relevant items with precision 0.
    truncated = RANKING[:, :3]
    expected = [(1 / 2) / 2, (1 / 2 + 2 / 3) / 3, 1.0]
    assert mean_average_precision(truncated, **LABELLED) == pytest.approx(np.mean(expected))
    assert mean_average_precision(truncated, **LABELLED) < mean_average_precision(
        RANKING, **LABELLED)
    assert recall_at_k(truncated, k=3, **LABELLED) == pytest.approx(
        recall_at_k(RANKING, k=3, **LABELLED))
    with pytest.raises(ValueError, match="k=4 is larger than the number of ranked items"):
        precision_at_k(truncated, k=4, **LABELLED)


# Single match table: query i's match is database item i (default), 4 queries, 5 items.
SINGLE = np.array([
    [0, 1, 2, 3, 4],  # match at rank 1
    [0, 2, 1, 3, 4],  # rank 3
    [4, 3, 1, 0, 2],  # rank 5
    [3, 0, 1, 2, 4],  # rank 1
])


def test_single_match_hand_computed():
    assert recall_at_k(SINGLE, k=1) == pytest.approx(2 / 4)
    assert recall_at_k(SINGLE, k=3) == pytest.approx(3 / 4)
    assert recall_at_k(SINGLE, k=5) == 1.0
    assert median_rank(SINGLE) == 2.0  # ranks 1, 3, 5, 1
    assert mean_average_precision(SINGLE) == pytest.approx((1 + 1 / 3 + 1 / 5 + 1) / 4)
    assert precision_at_k(SINGLE, k=2) == pytest.approx((1 / 2 + 0 + 0 + 1 / 2) / 4)
    # A match outside a truncated ranking has rank inf (unknown, beyond the ranking).
    assert median_rank(SINGLE[:, :3]) == 2.0  # ranks 1, 3, inf, 1: the median is known
    assert median_rank(SINGLE[:, :2]) == np.inf  # ranks 1, inf, inf, 1: it is not


def test_single_match_shares_the_label_code():
    """Explicit matches, unique class labels and one-hot indicators give the same values."""
    rng = np.random.default_rng(0)
    n_queries, n_database = 30, 50
    matches = rng.permutation(n_database)[:n_queries]
    ranking = np.argsort(rng.normal(size=(n_queries, n_database)), axis=1)
    eye = np.eye(n_database)
    specs = [
        {"matches": matches},
        {"query_labels": matches, "database_labels": np.arange(n_database)},
        {"query_labels": eye[matches], "database_labels": eye},
    ]
    for metric, kwargs in [(mean_average_precision, {}), (median_rank, {}),
                           (recall_at_k, {"k": 7}), (precision_at_k, {"k": 3})]:
        values = [metric(ranking, **kwargs, **spec) for spec in specs]
        assert values[0] == pytest.approx(values[1]) == pytest.approx(values[2])
    # The default pairing is matches = arange(n_queries).
    assert recall_at_k(ranking, k=7) == recall_at_k(ranking, k=7,
                                                     matches=np.arange(n_queries))


@pytest.mark.parametrize("seed", range(5))
def test_average_precision_equals_sklearn(seed):
    """Whole rankings of tie-free scores: MAP is the mean of sklearn's per-query AP."""
    rng = np.random.default_rng(seed)
    n_queries, n_database, n_labels = 12, 40, 5
    query_labels = rng.random((n_queries, n_labels)) < 0.3
    database_labels = rng.random((n_database, n_labels)) < 0.3
    queries = rng.normal(size=(n_queries, 4))
    database = rng.normal(size=(n_database, 4))
    similarities = queries @ database.T / np.linalg.norm(queries, axis=1)[:, None] \
        / np.linalg.norm(database, axis=1)
    _, ranking = nearest_neighbors(queries, database, n_neighbors=None)
    relevance = (query_labels.astype(int) @ database_labels.T.astype(int)) > 0
    has_relevant = relevance.any(axis=1)
    expected = np.mean([average_precision_score(r, s) for r, s, h
                        in zip(relevance, similarities, has_relevant) if h])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        value = mean_average_precision(ranking, query_labels=query_labels,
                                       database_labels=database_labels)
    assert value == pytest.approx(expected, rel=1e-12)
    # Class labels (relevant if equal) too.
    y_query, y_database = rng.integers(0, 3, n_queries), rng.integers(0, 3, n_database)
    relevance = y_query[:, None] == y_database
    expected = np.mean([average_precision_score(r, s) for r, s in zip(relevance, similarities)])
    assert mean_average_precision(ranking, query_labels=y_query,
                                  database_labels=y_database) == pytest.approx(expected)


@pytest.mark.parametrize("seed", range(3))
def test_precision_and_recall_against_direct_count(seed):
    rng = np.random.default_rng(seed)
    y_query, y_database = rng.integers(0, 4, 20), rng.integers(0, 4, 60)
    ranking = np.argsort(rng.normal(size=(20, 60)), axis=1)[:, :25]
    relevant = y_database[ranking] == y_query[:, None]
    n_relevant = (y_query[:, None] == y_database).sum(axis=1)
    for k in (1, 10, 25):
        assert precision_at_k(ranking, k=k, query_labels=y_query, database_labels=y_database) \
            == pytest.approx(relevant[:, :k].mean())
        assert recall_at_k(ranking, k=k, query_labels=y_query, database_labels=y_database) \
            == pytest.approx(np.mean(relevant[:, :k].sum(axis=1) / n_relevant))


def test_queries_without_relevant_items():
    query_labels = np.array([[1, 0], [0, 0]])  # the second query has no label
    database_labels = np.array([[1, 0], [0, 1]])
    ranking = np.array([[1, 0], [0, 1]])
    with pytest.warns(UndefinedMetricWarning, match="1 of 2 queries have no relevant"):
        assert mean_average_precision(ranking, query_labels=query_labels,
                                      database_labels=database_labels) == 0.5
    with pytest.warns(UndefinedMetricWarning):
        assert recall_at_k(ranking, k=1, query_labels=query_labels,
                           database_labels=database_labels) == 0.0
    # Precision counts the query (0 relevant of k).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert precision_at_k(ranking, k=2, query_labels=query_labels,
                              database_labels=database_labels) == 0.25
    with pytest.raises(ValueError, match="no query has a relevant item"):
        mean_average_precision(ranking[1:], query_labels=query_labels[1:],
                               database_labels=database_labels)


@pytest.mark.parametrize(
    "ranking, kwargs, message",
    [
        (RANKING.astype(float), {}, "int database indices"),
        (np.array([[0, 1, 0]]), {}, "more than once"),
        (np.array([[0, -1]]), {}, "negative"),
        (RANKING, {"k": 0}, "positive int"),
        (RANKING, {"query_labels": QUERY_LABELS}, "both query_labels and database_labels"),
        (RANKING, {**LABELLED, "matches": [0, 1, 2]}, "either matches or labels"),
        (RANKING, {"query_labels": [0, 1, 2], "database_labels": DATABASE_LABELS},
         "both be 1-d"),
        (RANKING, {"query_labels": QUERY_LABELS[:2], "database_labels": DATABASE_LABELS},
         "2 rows but the ranking has 3 queries"),
        (RANKING, {"query_labels": QUERY_LABELS, "database_labels": DATABASE_LABELS[:, :2]},
         "3 label columns"),
        (RANKING, {"query_labels": QUERY_LABELS, "database_labels": DATABASE_LABELS[:4]},
         "only 4 rows"),
        (RANKING, {"matches": [0, 1]}, "one per query"),
        (RANKING, {"matches": [0, 1, -2]}, "negative"),
    ],
)
def test_retrieval_metric_errors(ranking, kwargs, message):
    with pytest.raises(ValueError, match=message):
        recall_at_k(ranking, **{"k": 2, **kwargs})


# ----------------------------------------------------------------------------------------
# Scorers
# ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits_halves(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=0)


def test_make_scorer_for_hit_at_k_and_hierarchical_precision(digits):
    X_train, X_test, y_train, y_test = digits
    classes = np.arange(10)
    hierarchy = [10, 11, 11, 11, 10, 11, 10, 12, 11, 12, -1, -1, -1]  # digits by "shape"
    hit = make_scorer(hit_at_k, response_method="decision_function", k=2, labels=classes)
    hier = make_scorer(hierarchical_precision_at_k, response_method="decision_function",
                       k=3, labels=classes, hierarchy=hierarchy)
    clf = RidgeClassifier().fit(X_train, y_train)
    scores = clf.decision_function(X_test)
    assert hit(clf, X_test, y_test) == hit_at_k(y_test, scores, k=2, labels=classes)
    assert hier(clf, X_test, y_test) == hierarchical_precision_at_k(
        y_test, scores, k=3, labels=classes, hierarchy=hierarchy)
    search = GridSearchCV(RidgeClassifier(), {"alpha": [0.1, 10.0]},
                          scoring={"hit@2": hit, "hp@3": hier}, refit="hp@3", cv=2)
    search.fit(X_train, y_train)
    assert search.cv_results_["mean_test_hit@2"].min() > 0.8
    assert search.cv_results_["mean_test_hp@3"].min() > 0.5


def test_retrieval_scorer_paired_equals_manual(digits):
    X_train, X_test, _, _ = digits
    cca = CCA(n_components=10, reg=0.01).fit(X_train)
    queries, database = X_test.copy(), X_test.copy()
    queries[:, 32:] = np.nan
    database[:, :32] = np.nan
    Zq, Zd = cca.transform(queries), cca.transform(database)
    for metric in ("cosine", "euclidean"):
        _, ranking = nearest_neighbors(Zq, Zd, n_neighbors=None, metric=metric)
        for func, k in [(recall_at_k, 10), (precision_at_k, 5), (mean_average_precision, None),
                        (median_rank, None)]:
            kwargs = {} if k is None else {"k": k}
            scorer = make_retrieval_scorer(func, query_modalities="m0",
                                           database_modalities=["m1"], metric=metric, **kwargs)
            sign = -1 if func is median_rank else 1
            assert scorer(cca, X_test) == pytest.approx(sign * func(ranking, **kwargs))
    # Positions instead of names, an explicit `modalities`, and a Pipeline-free estimator.
    scorer = make_retrieval_scorer(recall_at_k, k=10, query_modalities=0,
                                   database_modalities=1, modalities=[32, 32])
    _, ranking = nearest_neighbors(Zq, Zd, n_neighbors=10)
    assert scorer(cca, X_test) == recall_at_k(ranking, k=10)


def test_retrieval_scorer_labels_is_leave_one_out(digits):
    """Label relevance: each row queries all other rows; checked with sklearn's AP."""
    X_train, X_test, _, y_test = digits
    X_test, y_test = X_test[:150], y_test[:150]
    cca = CCA(n_components=8, reg=0.01).fit(X_train)
    scorer = make_retrieval_scorer(mean_average_precision, query_modalities="m0",
                                   database_modalities="m1")
    queries, database = X_test.copy(), X_test.copy()
    queries[:, 32:] = np.nan
    database[:, :32] = np.nan
    Zq, Zd = cca.transform(queries), cca.transform(database)
    Zq /= np.linalg.norm(Zq, axis=1, keepdims=True)
    Zd /= np.linalg.norm(Zd, axis=1, keepdims=True)
    similarities = Zq @ Zd.T
    others = ~np.eye(len(X_test), dtype=bool)
    expected = np.mean([
        average_precision_score(y_test[others[i]] == y_test[i], similarities[i, others[i]])
        for i in range(len(X_test))
    ])
    assert scorer(cca, X_test, y_test) == pytest.approx(expected, rel=1e-10)
    # relevance="paired" ignores y.
    paired = make_retrieval_scorer(mean_average_precision, query_modalities="m0",
                                   database_modalities="m1", relevance="paired")
    assert paired(cca, X_test, y_test) == pytest.approx(paired(cca, X_test))
    # Multimodal queries against a multimodal database: without leave-one-out every query
    # would find itself first (AP near 1).
    both = make_retrieval_scorer(precision_at_k, k=1, query_modalities=["m0", "m1"])
    assert both(cca, X_test, y_test) < 1.0
    one_hot = np.eye(10)[y_test]
    assert scorer(cca, X_test, one_hot) == pytest.approx(expected, rel=1e-10)


def test_retrieval_scorer_skips_rows_missing_a_needed_modality(digits):
    X_train, X_test, _, _ = digits
    cca = CCA(n_components=10, reg=0.01).fit(X_train)
    X_missing = X_test.copy()
    X_missing[::3, 32:] = np.nan  # every third row lacks its right half
    scorer = make_retrieval_scorer(recall_at_k, k=10, query_modalities="m0",
                                   database_modalities="m1")
    kept = np.ones(len(X_test), dtype=bool)
    kept[::3] = False
    assert scorer(cca, X_missing) == pytest.approx(scorer(cca, X_test[kept]))


def test_retrieval_scorer_in_grid_search(digits):
    X_train, _, _, _ = digits
    scorer = make_retrieval_scorer(recall_at_k, k=10, query_modalities="m0",
                                   database_modalities="m1")
    search = GridSearchCV(CCA(n_components=10), {"reg": [1e-3, 10.0]}, scoring=scorer,
                          cv=2).fit(X_train)
    n_fold = len(X_train) // 2
    assert search.cv_results_["mean_test_score"].max() > 10 * 10 / n_fold  # 10x chance
    assert search.best_params_["reg"] in (1e-3, 10.0)
    # Label relevance through fit(X, y), several metrics at once.
    X_train, _, y_train, _ = digits
    scoring = {
        "map": make_retrieval_scorer(mean_average_precision, query_modalities="m0",
                                     database_modalities="m1"),
        "neg_medr": make_retrieval_scorer(median_rank, query_modalities="m0",
                                          database_modalities="m1"),
    }
    search = GridSearchCV(CCA(n_components=10), {"reg": [1e-2, 1.0]}, scoring=scoring,
                          refit="map", cv=2).fit(X_train, y_train)
    assert search.cv_results_["mean_test_map"].min() > 0.2  # chance about 0.1
    assert np.all(search.cv_results_["mean_test_neg_medr"] <= -1)


def test_retrieval_scorer_dataframe(digits):
    pd = pytest.importorskip("pandas")
    X_train, X_test, _, _ = digits
    columns = [f"px{i}" for i in range(X_train.shape[1])]
    modalities = [("left", columns[:32]), ("right", columns[32:])]
    cca = CCA(n_components=10, reg=0.01, modalities=modalities).fit(
        pd.DataFrame(X_train, columns=columns))
    scorer = make_retrieval_scorer(recall_at_k, k=10, query_modalities="left",
                                   database_modalities="right")
    plain = CCA(n_components=10, reg=0.01).fit(X_train)
    reference = make_retrieval_scorer(recall_at_k, k=10, query_modalities="m0",
                                      database_modalities="m1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no feature-name warning from transform
        value = scorer(cca, pd.DataFrame(X_test, columns=columns))
    assert value == pytest.approx(reference(plain, X_test))


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((np.mean,), {"query_modalities": "m0"}, "score_func must be one of"),
        ((recall_at_k,), {"query_modalities": "m0"}, "recall_at_k needs k"),
        ((mean_average_precision,), {"query_modalities": "m0", "k": 3}, "has no k"),
        ((median_rank,), {"query_modalities": "m0", "relevance": "both"}, "relevance must be"),
        ((median_rank,), {"query_modalities": "m0", "metric": "l1"}, "metric must be"),
    ],
)
def test_make_retrieval_scorer_errors(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_retrieval_scorer(*args, **kwargs)


def test_retrieval_scorer_call_errors(digits):
    X_train, X_test, _, _ = digits
    cca = CCA(n_components=4).fit(X_train)
    with pytest.raises(ValueError, match="'text' is not a modality; the modalities are"):
        make_retrieval_scorer(median_rank, query_modalities="text")(cca, X_test)
    with pytest.raises(ValueError, match="needs y"):
        make_retrieval_scorer(median_rank, query_modalities="m0", relevance="labels")(
            cca, X_test)
    with pytest.raises(ValueError, match="k=500 is larger than"):
        make_retrieval_scorer(recall_at_k, k=500, query_modalities="m0",
                              database_modalities="m1")(cca, X_test[:100])
