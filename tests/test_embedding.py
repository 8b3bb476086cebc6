"""LargeMarginEmbedding and UnifiedSemanticEmbedding: exact numerics, behaviour, quality."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skmultimodal._training import DIVERGENCE_RATIO, RUNAWAY_RATIO
from skmultimodal.datasets import make_hierarchical_classification
from skmultimodal.embedding import (
    LargeMarginEmbedding,
    UnifiedSemanticEmbedding,
    _kernels,
)
from skmultimodal.embedding._use import hierarchy_nodes, sibling_pairs
from skmultimodal.metrics import hierarchical_precision_at_k, hit_at_k
from test_training import assert_same_state

# -- an independent numpy statement of the objectives -----------------------------------------


def _similarities(Z, U, metric):
    if metric == "cosine":
        Zn = Z / np.linalg.norm(Z, axis=1, keepdims=True)
        Un = U / np.linalg.norm(U, axis=1, keepdims=True)
        return Zn @ Un.T
    return -((Z[:, None, :] - U[None, :, :]) ** 2).sum(axis=2)


def reference_objective(params, X, y, est, class_pairs=(), parent=None, support=None):
    """The USE objective written from the docstrings, summing hinges over all classes."""
    W, U = params["W"], params["U"]
    n, n_classes = X.shape[0], len(est.classes_)
    S = _similarities(X @ W.T, U, est.metric)
    margin = est._margin
    L_C = sum(max(0.0, margin - S[i, y[i]] + S[i, c])
              for i in range(n) for c in range(n_classes) if c != y[i])
    L_S = sum(max(0.0, margin - S[i, s] + S[i, o])
              for i in range(n) for s, o in (class_pairs[y[i]] if class_pairs else ()))
    value = (L_C + getattr(est, "hierarchy_weight", 0.0) * L_S) / n
    value += est.alpha_W * np.sum(W**2) + est.alpha_U * np.sum(U**2)
    if parent is not None:
        for c in range(U.shape[0]):
            has_attr = c < n_classes and support is not None and support[c].any()
            if parent[c] < 0 and not has_attr:
                continue
            r = U[c] - (U[parent[c]] if parent[c] >= 0 else 0.0)
            if has_attr:
                r = r - params["beta"][c] @ params["UA"]
            value += est.semantic_reg * np.sum(r**2)
        if support is not None:
            value += est.semantic_reg * est.attribute_sparsity * np.abs(params["beta"]).sum()
    return value


def numerical_gradient(f, params, key, eps=1e-6):
    grad = np.zeros_like(params[key])
    for idx in np.ndindex(grad.shape):
        plus = {k: v.copy() for k, v in params.items()}
        minus = {k: v.copy() for k, v in params.items()}
        plus[key][idx] += eps
        minus[key][idx] -= eps
        grad[idx] = (f(plus) - f(minus)) / (2 * eps)
    return grad


def _tiny_problem(seed=0, n=8, n_features=5, n_classes=4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_features))
    y = np.concatenate([np.arange(n_classes), rng.integers(0, n_classes, n - n_classes)])
    return X, y


def _fitted(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


# -- the hinge: sign and gradients ------------------------------------------------------------


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_hinge_sign_correct_sample_beyond_margin_has_zero_loss_and_gradient(metric):
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    y = np.array([0, 1])
    est = LargeMarginEmbedding(n_components=2, metric=metric, alpha_W=0.0, alpha_U=0.0,
                               sampling="all", max_iter=1)
    est = _fitted(est, X, y)
    # W = 10 I and class embeddings at the samples' images: each sample sits on its own
    # class and far from the other (distance 200 >> margin; cosine 1 vs 0 > margin 0.3).
    params = {"W": 10 * np.eye(2), "U": 10 * np.eye(2)}
    value, grads = est._objective(params, X, np.array([0, 1]))
    assert value == 0.0
    assert np.all(grads["W"] == 0) and np.all(grads["U"] == 0)
    # Swapping the labels makes both samples violate: positive loss, nonzero gradient, and
    # the gradient step moves the sample's embedding towards its (new) class.
    value, grads = est._objective(params, X, np.array([1, 0]))
    assert value > 0
    z = X[0] @ params["W"].T
    step = -grads["W"] @ X[0]
    # each sample: margin + D(own, 0) ... = 1 + 200 - 0 (euclidean), 0.3 - 0 + 1 (cosine)
    assert value == pytest.approx(201.0 if metric == "euclidean" else 1.3)
    assert step @ (params["U"][1] - z) > 0


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_lme_gradient_matches_finite_differences(metric):
    X, y = _tiny_problem()
    est = _fitted(LargeMarginEmbedding(n_components=3, metric=metric, sampling="all",
                                       alpha_W=0.05, alpha_U=0.02, max_iter=2, random_state=0),
                  X, y)
    params = {k: v.copy() for k, v in est._params().items()}
    value, grads = est._objective(params, X, y)

    def f(p):
        return reference_objective(p, X, y, est)

    assert value == pytest.approx(f(params), rel=1e-12)
    for key in ("W", "U"):
        np.testing.assert_allclose(grads[key], numerical_gradient(f, params, key), atol=1e-6)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_all_classes_matrix_form_equals_the_pair_kernel(metric):
    X, y = _tiny_problem(seed=3, n=30, n_classes=6)
    est = _fitted(LargeMarginEmbedding(n_components=4, metric=metric, sampling="all",
                                       max_iter=1, random_state=0), X, y)
    params = est._params()
    value, grads = est._objective(params, X, y)
    value_pairs, grads_pairs = est._objective(params, X, y, pairs=est._all_pairs(y, X.dtype))
    assert value == pytest.approx(value_pairs, rel=1e-12)
    for key in grads:
        np.testing.assert_allclose(grads[key], grads_pairs[key], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_warp_weighted_pairs_gradient_matches_finite_differences(metric):
    X, y = _tiny_problem(seed=1, n=10, n_classes=5)
    est = _fitted(LargeMarginEmbedding(n_components=3, metric=metric, max_iter=1,
                                       random_state=0), X, y)
    params = {k: v.copy() for k, v in est._params().items()}
    state = est._state.copy()
    Z = X @ params["W"].T
    znorm, unorm = _kernels.row_norms_safe(Z), _kernels.row_norms_safe(params["U"])
    pairs = est._warp_pairs(Z, params["U"], znorm, unorm, y, state)
    assert np.all(pairs[3][pairs[2] >= 0] >= 1.0)  # L(rank) >= L(1) = 1 for a violator

    def f(p):
        return est._objective(p, X, y, pairs=pairs)[0]

    grads = est._objective(params, X, y, pairs=pairs)[1]
    for key in ("W", "U"):
        np.testing.assert_allclose(grads[key], numerical_gradient(f, params, key), atol=1e-6)


def _use_problem():
    X, y = _tiny_problem(seed=2, n=10, n_features=5, n_classes=4)
    hierarchy = {0: "a", 1: "a", 2: "b", 3: "c", "b": "c"}  # 3 levels: 2 -> b -> c
    attributes = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 0]], dtype=float)
    return X, y, hierarchy, attributes


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_use_gradient_matches_finite_differences(metric):
    X, y, hierarchy, attributes = _use_problem()
    est = _fitted(UnifiedSemanticEmbedding(
        n_components=3, metric=metric, class_hierarchy=hierarchy, class_attributes=attributes,
        hierarchy_weight=0.7, semantic_reg=0.3, attribute_sparsity=0.2, sampling="all",
        alpha_W=0.05, alpha_U=0.02, max_iter=2, random_state=0), X, y)
    params = {k: v.copy() for k, v in est._params().items()}
    pos, neg, ptr = est._pair_pos, est._pair_neg, est._pair_ptr
    class_pairs = [list(zip(pos[ptr[c]:ptr[c + 1]], neg[ptr[c]:ptr[c + 1]])) for c in range(4)]

    def f(p):
        return reference_objective(p, X, y, est, class_pairs, est.node_parents_,
                                   attributes != 0)

    value, grads = est._objective(params, X, y)
    assert value == pytest.approx(f(params), rel=1e-12)
    assert set(grads) == {"W", "U", "UA"}
    for key in ("W", "U", "UA"):
        np.testing.assert_allclose(grads[key], numerical_gradient(f, params, key), atol=1e-6)


# -- the WARP sampler -------------------------------------------------------------------------


def test_harmonic_rank_weights():
    L = _kernels.harmonic_weights(5)
    np.testing.assert_allclose(L, [0, 1, 1.5, 1.5 + 1 / 3, 1.5 + 1 / 3 + 0.25])


@pytest.mark.parametrize("n_violators", [0, 1, 3, 9])
def test_warp_rank_estimate_on_constructed_case(n_violators):
    """Draws until a violator are a geometric variable truncated at C - 1 trials.

    With C = 10 classes, the true class 0 and exactly ``v`` violating classes among the 9
    others, each uniform draw violates with p = v / 9, so P(N = t) = (1 - p)^(t - 1) p for
    t <= 9, E[min(N, 9)] = sum_{t=0}^{8} (1 - p)^t, and the row's weight is
    L(floor(9 / N)).
    """
    n_classes, n_rows = 10, 40000
    d = 2
    # z = 0; u_0 at squared distance 1; violators at 1.44 (< 1 + margin 1), others at 9.
    U = np.zeros((n_classes, d))
    U[:, 0] = 3.0
    U[0, 0] = 1.0
    U[1:1 + n_violators, 0] = 1.2
    Z = np.zeros((n_rows, d))
    y = np.zeros(n_rows, dtype=np.intp)
    L = _kernels.harmonic_weights(n_classes)
    negative = np.empty(n_rows, dtype=np.intp)
    weight = np.empty(n_rows)
    trials = np.empty(n_rows, dtype=np.intp)
    state = np.array([12345, 67890], dtype=np.uint64)
    _kernels.warp_sample(np.empty((0, 0)), Z, U, np.ones(n_rows), np.ones(n_classes), y,
                         n_classes, 1.0, False, n_classes - 1, L, state, negative, weight,
                         trials)
    if n_violators == 0:
        assert np.all(negative == -1) and np.all(trials == 9) and np.all(weight == 0)
        return
    found = negative >= 0
    assert np.all((negative[found] >= 1) & (negative[found] <= n_violators))  # violators only
    assert np.all(trials[~found] == 9) and np.all(weight[~found] == 0)
    p = n_violators / 9
    t = np.arange(1, 10)
    prob = (1 - p) ** (t - 1) * p
    expected_trials = np.sum(t * prob) / prob.sum()
    expected_weight = np.sum(L[9 // t] * prob) / prob.sum()
    assert found.mean() == pytest.approx(prob.sum(), abs=0.01)
    se = trials[found].std() / np.sqrt(found.sum())
    assert abs(trials[found].mean() - expected_trials) < 4 * se + 1e-12
    se = weight[found].std() / np.sqrt(found.sum())
    assert abs(weight[found].mean() - expected_weight) < 4 * se + 1e-12
    # The rank estimate floor(9 / N) is exact when every other class violates.
    if n_violators == 9:
        assert np.all(trials == 1) and np.all(weight == L[9])


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_warp_sampler_from_the_similarity_matrix_makes_the_same_draws(metric):
    X, y = _tiny_problem(seed=4, n=200, n_classes=12)
    est = _fitted(LargeMarginEmbedding(n_components=3, metric=metric, max_iter=1,
                                       random_state=0), X, y)
    Z, U = X @ est.coef_.T, est.node_embeddings_
    znorm, unorm = _kernels.row_norms_safe(Z), _kernels.row_norms_safe(U)
    outputs = []
    for dense in (True, False):
        out = np.empty(200, dtype=np.intp), np.empty(200), np.empty(200, dtype=np.intp)
        state = np.array([7, 11], dtype=np.uint64)
        S = est._similarities(Z, U, znorm, unorm) if dense else np.empty((0, 0))
        _kernels.warp_sample(S, Z, U, znorm, unorm, y, 12, est._margin, metric == "cosine",
                             11, est._rank_weight, state, *out)
        outputs.append(out)
    for a, b in zip(*outputs):
        np.testing.assert_array_equal(a, b)
    assert (outputs[0][0] >= 0).sum() > 20  # the comparison covers many violators


def test_warp_max_trials_caps_draws():
    n_classes = 6
    U = np.zeros((n_classes, 1))
    U[:, 0] = 5.0
    U[0, 0] = 1.0  # no violator
    L = _kernels.harmonic_weights(n_classes)
    out = np.empty(3, dtype=np.intp), np.empty(3), np.empty(3, dtype=np.intp)
    _kernels.warp_sample(np.empty((0, 0)), np.zeros((3, 1)), U, np.ones(3), np.ones(n_classes),
                         np.zeros(3, dtype=np.intp), n_classes, 1.0, False, 2, L,
                         np.array([1, 2], dtype=np.uint64), *out)
    assert np.all(out[2] == 2) and np.all(out[0] == -1)


# -- the sparse-coding step -------------------------------------------------------------------


def test_lasso_coordinate_descent_matches_sklearn_lasso():
    rng = np.random.default_rng(0)
    d, n_att, n_rows, gamma = 6, 5, 4, 0.3
    A = rng.standard_normal((n_att, d))  # rows are the attribute embeddings
    targets = rng.standard_normal((n_rows, d))
    support = rng.random((n_rows, n_att)) < 0.7
    beta = np.zeros((n_rows, n_att))
    _kernels.lasso_cd(A @ A.T, targets @ A.T, support, gamma, beta, 10000, 1e-12)
    for c in range(n_rows):
        cols = np.flatnonzero(support[c])
        # ||r - A^T b||^2 + gamma ||b||_1  <=>  Lasso's (1/2d)||r - A^T b||^2 + alpha ||b||_1
        lasso = Lasso(alpha=gamma / (2 * d), fit_intercept=False, tol=1e-14, max_iter=100000)
        lasso.fit(A[cols].T, targets[c])
        np.testing.assert_allclose(beta[c, cols], lasso.coef_, atol=1e-8)
        assert np.all(beta[c, ~support[c]] == 0)
    assert np.any(beta[support] == 0)  # the l1 penalty makes some exact zeros


def test_use_attribute_weights_solve_the_lasso_of_the_final_embedding():
    X, y, hierarchy, attributes = make_hierarchical_classification(n_samples=240,
                                                                  random_state=0)
    est = _fitted(UnifiedSemanticEmbedding(n_components=6, class_hierarchy=hierarchy,
                                           class_attributes=attributes, max_iter=5,
                                           attribute_sparsity=0.5, random_state=0), X, y)
    UA, beta = est.attribute_embeddings_, est.attribute_weights_
    assert np.all(np.linalg.norm(UA, axis=1) <= 1 + 1e-12)
    assert np.all(beta[attributes == 0] == 0)
    parent = est.node_parents_
    d = UA.shape[1]
    for c in range(len(est.classes_)):
        target = est.node_embeddings_[c] - est.node_embeddings_[parent[c]]
        cols = np.flatnonzero(attributes[c])
        lasso = Lasso(alpha=0.5 / (2 * d), fit_intercept=False, tol=1e-14, max_iter=100000)
        np.testing.assert_allclose(beta[c, cols], lasso.fit(UA[cols].T, target).coef_,
                                   atol=1e-5)


# -- the hierarchy ----------------------------------------------------------------------------


def test_hierarchy_nodes_and_sibling_pairs_on_a_three_level_tree():
    # classes 0..3; 0, 1 under "a"; 2 under "b"; "b" and 3 under "c"; "a" and "c" top level.
    nodes, parent = hierarchy_nodes(np.array([0, 1, 2, 3]),
                                    {0: "a", 1: "a", 2: "b", 3: "c", "b": "c"})
    assert nodes == [0, 1, 2, 3, "a", "b", "c"]
    np.testing.assert_array_equal(parent, [4, 4, 5, 6, -1, 6, -1])
    ptr, pos, neg = sibling_pairs(parent, 4)
    pairs = [sorted(zip(pos[ptr[c]:ptr[c + 1]].tolist(), neg[ptr[c]:ptr[c + 1]].tolist()))
             for c in range(4)]
    assert pairs[0] == [(4, 6)]  # ancestor a vs its sibling c (top level)
    assert pairs[1] == [(4, 6)]
    assert pairs[2] == [(5, 3), (6, 4)]  # b vs 3 (children of c), then c vs a
    assert pairs[3] == [(6, 4)]


def test_use_takes_the_hierarchy_as_a_parent_array_too():
    X, y, hierarchy, attributes = _use_problem()
    params = dict(n_components=3, class_attributes=attributes, max_iter=3, random_state=0)
    by_dict = _fitted(UnifiedSemanticEmbedding(class_hierarchy=hierarchy, **params), X, y)
    by_array = _fitted(UnifiedSemanticEmbedding(class_hierarchy=[4, 4, 5, 6, -1, 6, -1],
                                                **params), X, y)
    assert by_array.nodes_ == [0, 1, 2, 3, 4, 5, 6]
    np.testing.assert_array_equal(by_array.node_parents_, by_dict.node_parents_)
    np.testing.assert_array_equal(by_array.coef_, by_dict.coef_)
    np.testing.assert_array_equal(by_array.attribute_weights_, by_dict.attribute_weights_)


@pytest.mark.parametrize("hierarchy, message", [
    ({0: 1, 1: 0}, "cycle"),
    ({0: 0}, "its own parent"),
    ([4, 4, 5, 5, 5, 4], "cycle"),
    ([4, 4, 5], "entries for 4 classes"),
    ([4, 4, 5, 9, -1, -1], "not -1 or a node index"),
    ([0.5, 1, 1, 1], "1-d int array"),
])
def test_use_rejects_bad_hierarchies(hierarchy, message):
    X, y = _tiny_problem()
    with pytest.raises(ValueError, match=message):
        UnifiedSemanticEmbedding(class_hierarchy=hierarchy).fit(X, y)


def test_use_warns_when_no_class_is_in_the_hierarchy():
    X, y = _tiny_problem()
    with pytest.warns(UserWarning, match="No class of y has a parent"):
        _fitted(UnifiedSemanticEmbedding(class_hierarchy={"0": "a", "1": "a"}, max_iter=1),
                X, y)


def test_use_rejects_attributes_of_the_wrong_shape():
    X, y = _tiny_problem()
    with pytest.raises(ValueError, match=r"shape \(n_classes, n_attributes\)"):
        UnifiedSemanticEmbedding(class_attributes=np.ones((3, 2))).fit(X, y)
    with pytest.raises(ValueError, match="NaN or infinity"):
        UnifiedSemanticEmbedding(class_attributes=np.full((4, 2), np.nan)).fit(X, y)


def test_use_exposes_nodes_and_starts_internal_nodes_at_their_classes_mean():
    X, y, hierarchy, _ = _use_problem()
    est = UnifiedSemanticEmbedding(n_components=3, class_hierarchy=hierarchy, max_iter=1,
                                   random_state=0)
    est.classes_ = np.unique(y)
    est._start(X, y)
    assert est.nodes_ == [0, 1, 2, 3, "a", "b", "c"]
    assert est.node_embeddings_.shape == (7, 3)
    assert est.class_embeddings_.shape == (4, 3)
    classes = np.arange(12.0).reshape(4, 3)
    nodes = est._extend_to_nodes(classes, 7)
    np.testing.assert_array_equal(nodes[:4], classes)
    np.testing.assert_array_equal(nodes[4], classes[:2].mean(axis=0))  # a: classes 0, 1
    np.testing.assert_array_equal(nodes[5], classes[2])  # b: class 2
    np.testing.assert_array_equal(nodes[6], classes[2:].mean(axis=0))  # c: 2 (via b) and 3


# -- USE without semantics is LME -------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [{}, {"metric": "cosine", "sampling": "all"},
                                    {"early_stopping": True}])
def test_use_without_semantics_equals_lme_exactly(kwargs):
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X[:300])
    y = y[:300]
    lme = _fitted(LargeMarginEmbedding(n_components=8, max_iter=5, random_state=3, **kwargs),
                  X, y)
    use = _fitted(UnifiedSemanticEmbedding(n_components=8, max_iter=5, random_state=3,
                                           **kwargs), X, y)
    np.testing.assert_array_equal(use.coef_, lme.coef_)
    np.testing.assert_array_equal(use.class_embeddings_, lme.class_embeddings_)
    assert use.loss_curve_ == lme.loss_curve_
    lme.partial_fit(X, y)
    use.partial_fit(X, y)
    np.testing.assert_array_equal(use.coef_, lme.coef_)


def test_use_and_lme_share_parameter_defaults():
    lme = LargeMarginEmbedding().get_params()
    use = UnifiedSemanticEmbedding().get_params()
    assert all(use[k] == v for k, v in lme.items())


# -- estimator behaviour ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0,
                                                        stratify=y)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def test_predict_decision_function_proba_and_transform_agree(digits):
    X, _, y, _ = digits
    est = LargeMarginEmbedding(n_components=8, max_iter=10, random_state=0)
    est = _fitted(est, X[:400], y[:400])
    scores = est.decision_function(X[:50])
    proba = est.predict_proba(X[:50])
    assert scores.shape == proba.shape == (50, 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    np.testing.assert_allclose(np.log(proba), est.predict_log_proba(X[:50]), atol=1e-10)
    np.testing.assert_array_equal(est.predict(X[:50]), est.classes_[scores.argmax(axis=1)])
    Z = est.transform(X[:50])
    np.testing.assert_allclose(Z, X[:50] @ est.coef_.T)
    np.testing.assert_allclose(
        scores, -((Z[:, None] - est.class_embeddings_[None]) ** 2).sum(axis=2), atol=1e-9)
    assert est.get_feature_names_out().tolist()[:2] == ["largemarginembedding0",
                                                        "largemarginembedding1"]


def test_binary_decision_function_is_the_score_difference():
    X, y = _tiny_problem(n=20, n_classes=2)
    est = _fitted(LargeMarginEmbedding(n_components=2, max_iter=3, random_state=0), X,
                  np.where(y == 1, "yes", "no"))
    d = est.decision_function(X)
    assert d.shape == (20,)
    np.testing.assert_array_equal(est.predict(X), np.where(d > 0, "yes", "no"))
    np.testing.assert_allclose(est.predict_proba(X)[:, 1], 1 / (1 + np.exp(-d)))


def test_same_seed_same_model_other_seed_other_model(digits):
    X, _, y, _ = digits
    a = _fitted(LargeMarginEmbedding(n_components=4, max_iter=3, random_state=1), X, y)
    b = _fitted(LargeMarginEmbedding(n_components=4, max_iter=3, random_state=1), X, y)
    c = _fitted(LargeMarginEmbedding(n_components=4, max_iter=3, random_state=2), X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert not np.allclose(a.coef_, c.coef_)


def test_partial_fit_needs_classes_first_and_checks_labels(digits):
    X, _, y, _ = digits
    est = LargeMarginEmbedding(n_components=16, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        est.partial_fit(X[:50], y[:50])
    est.partial_fit(X[:50], y[:50], classes=np.arange(10))
    assert est.n_iter_ == 1 and est.t_ == 50
    coef = est.coef_.copy()
    with pytest.raises(ValueError, match="not in classes_"):
        est.partial_fit(X[:50], y[:50] + 20)
    np.testing.assert_array_equal(est.coef_, coef)  # a failed call changes nothing
    assert est.n_iter_ == 1
    for start in range(50, 500, 50):
        est.partial_fit(X[start:start + 50], y[start:start + 50])
    assert est.n_iter_ == 10 and est.t_ == 500
    assert len(est.loss_curve_) == 10
    for _ in range(2):  # stream the whole training set twice, in chunks
        for start in range(0, X.shape[0], 100):
            est.partial_fit(X[start:start + 100], y[start:start + 100])
    assert est.score(X, y) > 0.9


def test_partial_fit_with_classes_absent_from_the_first_chunk():
    X, y = _tiny_problem(n=30, n_classes=4)
    est = LargeMarginEmbedding(n_components=3, random_state=0)
    first = y < 2
    est.partial_fit(X[first], y[first], classes=[0, 1, 2, 3])
    est.partial_fit(X, y)
    assert est.class_embeddings_.shape == (4, 3)


def test_keep_state_on_error_for_fit_and_partial_fit(digits):
    X, _, y, _ = digits
    est = _fitted(LargeMarginEmbedding(n_components=4, max_iter=2, random_state=0), X, y)
    saved = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in vars(est).items()
             if k.endswith("_") and not k.startswith("_")}
    with pytest.raises(ValueError, match="features"):
        est.partial_fit(X[:, :10], y)
    est.set_params(warm_start=True)
    with pytest.raises(ValueError, match="not in classes_"):
        est.fit(X, np.full(y.shape, 99))
    est.set_params(learning_rate=1e20)
    with pytest.raises(FloatingPointError):
        est.partial_fit(X * 100, y)
    for key, value in saved.items():
        np.testing.assert_array_equal(getattr(est, key), value)


def test_divergence_names_the_learning_rate(digits):
    X, _, y, _ = digits
    est = LargeMarginEmbedding(n_components=4, learning_rate=1e12, max_iter=5, random_state=0)
    with pytest.raises(FloatingPointError, match="learning_rate=1000000000000.0"):
        est.fit(X, y)
    assert not hasattr(est, "coef_")


def _sixty_rows(digits):
    X, _, y, _ = digits
    rows = np.random.default_rng(0).choice(y.size, 60, replace=False)
    return X[rows], y[rows]


@pytest.mark.parametrize("Estimator", [LargeMarginEmbedding, UnifiedSemanticEmbedding])
def test_unscaled_features_warn_at_fit_and_their_blow_up_raises(digits, Estimator):
    """Standardised features times 1e6 (60 rows): the loss used to go from 1.9e12 to 3.2e61
    in 6 epochs, stopped by the stopping rule as converged, training accuracy 0.0."""
    X, y = _sixty_rows(digits)
    with pytest.warns(UserWarning, match="feature .* root mean square .*e\\+06.*Put a "
                      "StandardScaler in the Pipeline") as record:
        with pytest.raises(FloatingPointError, match="diverged in epoch 1.*Lower "
                           "learning_rate \\(now learning_rate=0.01\\) \\(or the momentum\\)"
                           "\\. Likely cause: the features are not standardised"):
            Estimator(random_state=0).fit(X * 1e6, y)
    assert sum(issubclass(w.category, UserWarning) for w in record) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        _fitted(Estimator(n_components=4, max_iter=3, random_state=0), X, y)


def test_tiny_features_warn_and_raw_pixels_raise():
    X, y = load_digits(return_X_y=True)
    with pytest.warns(UserWarning, match="at most 0.00.*far below the unit scale"):
        _fitted(LargeMarginEmbedding(n_components=4, max_iter=2, random_state=0),
                X * 1e-4, y)
    # raw pixels (0-16) used to diverge silently: loss 1.6e4 -> 1.4e7, accuracy 0.49
    with pytest.warns(UserWarning, match="feature .* root mean square"):
        with pytest.raises(FloatingPointError, match="grew from its first value"):
            LargeMarginEmbedding(random_state=0).fit(X, y)


def test_a_blow_up_is_not_reported_as_convergence(digits):
    """learning_rate=0.1 on standardised digits: the loss grew from 7.5 to 1.8e3 in 6 epochs
    and the stopping rule reported convergence (test accuracy 0.76, 0.95 at the default)."""
    X, _, y, _ = digits
    with pytest.raises(FloatingPointError, match="LargeMarginEmbedding diverged.*its loss"):
        LargeMarginEmbedding(learning_rate=0.1, random_state=0).fit(X, y)


@pytest.mark.parametrize("params", [
    dict(), dict(metric="cosine", sampling="all", solver="adam"),
    dict(early_stopping=True, max_iter=300),
])
def test_healthy_training_stays_far_from_the_divergence_thresholds(digits, params):
    X, _, y, _ = digits
    est = _fitted(LargeMarginEmbedding(random_state=0, **params), X, y)
    history = est._history
    assert max(est.loss_curve_) < 0.05 * DIVERGENCE_RATIO * history.first_value
    rms = np.sqrt(np.mean(np.concatenate([est.coef_.ravel(), est.node_embeddings_.ravel()])
                          ** 2))
    assert rms < 0.05 * RUNAWAY_RATIO * max(history.initial_rms, 1.0)


@pytest.mark.parametrize("Estimator, params", [
    (LargeMarginEmbedding, dict()),
    (LargeMarginEmbedding, dict(solver="adam", sampling="all")),
    (UnifiedSemanticEmbedding, dict(class_hierarchy={0: "low", 1: "low", 2: "high"},
                                    class_attributes=np.eye(10)[:, :4] + 0.0)),
])
def test_a_failed_call_leaves_the_estimator_bit_identical(digits, Estimator, params):
    """A divergence in partial_fit or a warm-started fit leaves everything as before, the
    random generator and the WARP sampler's state included: the next call does what it
    would have done."""
    X, _, y, _ = digits
    X, y = X[:300], y[:300]
    make = lambda: _fitted(Estimator(n_components=4, max_iter=2, warm_start=True,
                                     random_state=0, **params), X, y)
    failed, twin = make(), make()
    assert_same_state(failed, twin)
    rate = twin.learning_rate
    for est in (failed, twin):
        est.set_params(learning_rate=1e20)
    for call in (lambda: failed.partial_fit(X, y), lambda: failed.fit(X, y)):
        with pytest.raises(FloatingPointError):
            call()
        assert_same_state(failed, twin)
    for est in (failed, twin):
        est.set_params(learning_rate=rate)
    assert_same_state(failed.partial_fit(X, y), twin.partial_fit(X, y))
    assert_same_state(_fitted(failed, X, y), _fitted(twin, X, y))


def test_convergence_warning_and_stopping(digits):
    X, _, y, _ = digits
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        LargeMarginEmbedding(n_components=4, max_iter=2, random_state=0).fit(X, y)
    est = LargeMarginEmbedding(n_components=4, max_iter=500, tol=0.5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X, y)
    assert est.n_iter_ < 500 and len(est.loss_curve_) == est.n_iter_


def test_early_stopping_keeps_the_best_validation_epoch(digits):
    X, _, y, _ = digits
    est = LargeMarginEmbedding(n_components=8, early_stopping=True, n_iter_no_change=3,
                               max_iter=200, random_state=0)
    est = _fitted(est, X, y)
    scores = est.validation_scores_
    assert len(scores) == est.n_iter_ < 200
    assert est.best_validation_score_ == max(scores)
    assert est.best_validation_score_ > 0.9
    with pytest.raises(ValueError, match="validation_fraction"):
        LargeMarginEmbedding(early_stopping=True, validation_fraction=0.01).fit(X[:20], y[:20])


def test_warm_start_continues(digits):
    X, _, y, _ = digits
    est = _fitted(LargeMarginEmbedding(n_components=4, max_iter=3, warm_start=True,
                                       random_state=0), X, y)
    coef = est.coef_.copy()
    est = _fitted(est, X, y)
    assert est.n_iter_ == 6 and len(est.loss_curve_) == 6
    assert not np.array_equal(coef, est.coef_)
    cold = _fitted(LargeMarginEmbedding(n_components=4, max_iter=3, random_state=0), X, y)
    np.testing.assert_array_equal(cold.coef_, coef)


def test_verbose_prints_one_line_per_epoch(digits, capsys):
    X, _, y, _ = digits
    _fitted(LargeMarginEmbedding(n_components=4, max_iter=3, verbose=1, random_state=0), X, y)
    lines = [line for line in capsys.readouterr().out.splitlines() if "epoch" in line]
    assert len(lines) == 3 and "loss" in lines[0]


def test_float32_sparse_and_pickle(digits):
    X, _, y, _ = digits
    X32 = X.astype(np.float32)
    est = _fitted(LargeMarginEmbedding(n_components=4, max_iter=3, random_state=0), X32, y)
    assert est.coef_.dtype == np.float32 and est.transform(X32).dtype == np.float32
    dense = _fitted(LargeMarginEmbedding(n_components=4, max_iter=3, random_state=0), X, y)
    sparse = _fitted(LargeMarginEmbedding(n_components=4, max_iter=3, random_state=0),
                     sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-9, atol=1e-12)
    clone = pickle.loads(pickle.dumps(dense))
    np.testing.assert_array_equal(clone.decision_function(X), dense.decision_function(X))


def test_needs_two_classes():
    X, _ = _tiny_problem()
    with pytest.raises(ValueError, match="at least 2 classes"):
        LargeMarginEmbedding().fit(X, np.zeros(len(X)))


# -- quality ----------------------------------------------------------------------------------


def test_lme_close_to_logistic_regression_on_digits():
    """Measured on 4 stratified 70/30 splits (seeds 0-3, standardised pixels, defaults):
    LogisticRegression 0.972 / 0.967 / 0.956 / 0.978 (mean 0.968), LME euclidean
    0.946 / 0.967 / 0.944 / 0.956 (mean 0.953), LME cosine mean 0.949. The test allows
    LME 3 points below the logistic regression on average, 5 on a split."""
    X, y = load_digits(return_X_y=True)
    gaps = []
    for seed in (0, 1):
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3,
                                                            random_state=seed, stratify=y)
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
        with threadpool_limits(1):  # lbfgs on a loaded 2-core machine: threads only contend
            logistic = LogisticRegression(max_iter=2000).fit(X_train, y_train)
        logistic = logistic.score(X_test, y_test)
        lme = _fitted(LargeMarginEmbedding(random_state=seed), X_train, y_train)
        accuracy = lme.score(X_test, y_test)
        assert accuracy > 0.93
        assert accuracy > logistic - 0.05
        gaps.append(logistic - accuracy)
    assert np.mean(gaps) < 0.03


def _few_shot(seed, shots):
    X, y, hierarchy, attributes = make_hierarchical_classification(
        n_samples=2400, n_superclasses=4, n_classes_per_superclass=6, n_attributes=8,
        noise=2.0, class_scale=0.2, random_state=seed)
    rng = np.random.default_rng(seed)
    train = np.concatenate([rng.choice(np.flatnonzero(y == c), shots, replace=False)
                            for c in range(attributes.shape[0])])
    test = np.setdiff1d(np.arange(y.size), train)
    X = StandardScaler().fit(X[train]).transform(X)
    return X[train], y[train], X[test], y[test], hierarchy, attributes


def _evaluate(est, X, y, hierarchy):
    scores = est.decision_function(X)
    return (hit_at_k(y, scores, k=1, labels=est.classes_),
            hierarchical_precision_at_k(y, scores, hierarchy=hierarchy, k=2,
                                        labels=est.classes_),
            hierarchical_precision_at_k(y, scores, hierarchy=hierarchy, k=5,
                                        labels=est.classes_))


@pytest.mark.parametrize("shots, min_hit_gain", [(2, 0.015), (5, 0.0)])
def test_use_beats_lme_in_few_shot_and_on_hierarchical_precision(shots, min_hit_gain):
    """The direction of Hwang & Sigal's (2014) AwA results (USE +5 hit@1 points at 2 samples
    per class).

    Measured with the defaults on this protocol over seeds 0-19 (24 classes in 4
    superclasses, 8 attributes; test on all samples but the training shots), USE - LME in
    points, mean (std, seeds where USE is ahead):

    ======  ================  ======================  ======================
    shots   flat hit@1        hierarchical prec.@2    hierarchical prec.@5
    ======  ================  ======================  ======================
    2       +3.6 (2.0, 19)    +5.6 (1.3, 20)          +5.2 (1.2, 20)
    5       +1.5 (1.5, 16)    +4.0 (1.2, 20)          +6.2 (1.2, 20)
    ======  ================  ======================  ======================

    The test runs 6 seeds and asks for the mean gains above about 2 standard errors below
    the measured means, and USE ahead on hierarchical precision@5 on every seed.
    """
    diffs = []
    for seed in range(6):
        X, y, X_test, y_test, hierarchy, attributes = _few_shot(seed, shots)
        lme = _fitted(LargeMarginEmbedding(random_state=seed), X, y)
        use = _fitted(UnifiedSemanticEmbedding(class_hierarchy=hierarchy,
                                               class_attributes=attributes,
                                               random_state=seed), X, y)
        diffs.append(np.subtract(_evaluate(use, X_test, y_test, hierarchy),
                                 _evaluate(lme, X_test, y_test, hierarchy)))
    diffs = np.array(diffs)
    assert diffs[:, 0].mean() > min_hit_gain  # flat hit@1
    assert diffs[:, 1].mean() > 0.02  # hierarchical precision@2
    assert diffs[:, 2].mean() > 0.03  # hierarchical precision@5
    assert np.all(diffs[:, 2] > 0)


# -- the synthetic hierarchy ------------------------------------------------------------------


def test_make_hierarchical_classification():
    X, y, hierarchy, attributes = make_hierarchical_classification(
        n_samples=130, n_superclasses=2, n_classes_per_superclass=3, n_features=7,
        n_attributes=5, n_attributes_per_class=2, random_state=0)
    assert X.shape == (130, 7) and attributes.shape == (6, 5)
    assert np.bincount(y).min() >= 21 and np.bincount(y).max() <= 22
    assert hierarchy == {0: "super0", 1: "super0", 2: "super0", 3: "super1", 4: "super1",
                         5: "super1"}
    assert np.all(attributes.sum(axis=1) == 2)
    for s in range(2):  # siblings have different attribute sets
        rows = {tuple(r) for r in attributes[3 * s:3 * s + 3]}
        assert len(rows) == 3
    again = make_hierarchical_classification(
        n_samples=130, n_superclasses=2, n_classes_per_superclass=3, n_features=7,
        n_attributes=5, n_attributes_per_class=2, random_state=0)
    np.testing.assert_array_equal(again[0], X)
    # without noise, class means are superclass mean + attribute prototypes (+ small offset)
    X0, y0, _, _ = make_hierarchical_classification(n_samples=60, noise=0.0, class_scale=0.0,
                                                     random_state=1)
    means = np.array([X0[y0 == c][0] for c in range(12)])
    assert np.allclose(X0, means[y0])
    with pytest.raises(ValueError, match="n_attributes_per_class"):
        make_hierarchical_classification(n_attributes=2, n_attributes_per_class=3)
    with pytest.raises(ValueError, match="fewer than"):
        make_hierarchical_classification(n_samples=5)
