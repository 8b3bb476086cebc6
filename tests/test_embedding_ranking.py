"""RankingEmbedding: the bidirectional hinge and CLIP's InfoNCE, their gradients (the
temperature's included), every pair of two or more modalities, the NaN-block convention."""

import pickle
import warnings
from itertools import combinations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmultimodal import CCA
from skmultimodal._training import DIVERGENCE_RATIO, RUNAWAY_RATIO
from skmultimodal.datasets import load_digits_halves
from skmultimodal.embedding import RankingEmbedding
from skmultimodal.embedding._ranking import (
    INITIAL_LOGIT_SCALE,
    LOGIT_SCALE_RANGE,
    _normalize_backward,
    infonce_loss,
    ranking_loss,
)
from skmultimodal.metrics import recall_at_k
from skmultimodal.retrieval import nearest_neighbors
from test_nn import numerical_gradient
from test_training import assert_same_state


def _unit(A):
    return A / np.linalg.norm(A, axis=1, keepdims=True)


def reference_ranking_loss(A, B, margin, max_violation):
    """Kiros, Salakhutdinov & Zemel's (2014) cost with loops over pairs and contrastive rows."""
    n = A.shape[0]
    def s(x, v):  # cosine of unit rows
        return float(x @ v)

    total = 0.0
    for i in range(n):
        image = [max(0.0, margin - s(A[i], B[i]) + s(A[i], B[k])) for k in range(n) if k != i]
        caption = [max(0.0, margin - s(B[i], A[i]) + s(B[i], A[k])) for k in range(n) if k != i]
        total += (max(image) + max(caption)) if max_violation else (sum(image) + sum(caption))
    return total / n


def reference_infonce(A, B, logit_scale):
    """CLIP's symmetric cross-entropy (Radford et al. 2021, Fig. 3), row by row."""
    n, scale = A.shape[0], np.exp(logit_scale)
    total = 0.0
    for i in range(n):
        image = [scale * float(A[i] @ B[k]) for k in range(n)]
        text = [scale * float(B[i] @ A[k]) for k in range(n)]
        total += (logsumexp(image) - image[i]) + (logsumexp(text) - text[i])
    return total / (2 * n)


def _latent_pairs(n=300, seed=0, noise=0.1):
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n, 4))
    image = latent @ rng.standard_normal((4, 10)) + noise * rng.standard_normal((n, 10))
    text = np.tanh(latent @ rng.standard_normal((4, 6))) + noise * rng.standard_normal((n, 6))
    return np.hstack([image, text])


def _latent_triples(n=300, seed=0, noise=0.1):
    """Three modalities (10, 6 and 5 features) from one 4-dimensional latent: linear,
    through tanh and through sin; the last column block is the latent itself."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n, 4))
    blocks = [latent @ rng.standard_normal((4, 10)),
              np.tanh(latent @ rng.standard_normal((4, 6))),
              np.sin(latent @ rng.standard_normal((4, 5)))]
    return np.hstack([b + noise * rng.standard_normal(b.shape) for b in blocks]), latent


def _fit(est, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X)


# -- the loss ---------------------------------------------------------------------------------


def test_ranking_loss_hand_computed():
    A = np.eye(2)
    assert ranking_loss(A, np.eye(2), 0.2, False)[0] == 0.0  # pairs aligned, others at 0
    # Swapped captions: S = [[0, 1], [1, 0]]; each of the 4 hinges is 0.2 - 0 + 1 = 1.2.
    loss, grad_A, grad_B = ranking_loss(A, np.eye(2)[::-1], 0.2, False)
    assert loss == pytest.approx(4 * 1.2 / 2)
    # dL/dS = G is 1 off the diagonal and -1 on it (per pair): dL/dA = G B, dL/dB = G^T A
    np.testing.assert_allclose(grad_A, [[1, -1], [-1, 1]])
    np.testing.assert_allclose(grad_B, [[-1, 1], [1, -1]])
    # With 2 pairs there is one negative per direction, so the hardest is the sum.
    assert ranking_loss(A, np.eye(2)[::-1], 0.2, True)[0] == pytest.approx(loss)


@pytest.mark.parametrize("max_violation", [False, True])
def test_ranking_loss_matches_loops_and_finite_differences(max_violation):
    rng = np.random.default_rng(0)
    A, B = _unit(rng.standard_normal((7, 3))), _unit(rng.standard_normal((7, 3)))
    loss, grad_A, grad_B = ranking_loss(A, B, 0.3, max_violation)
    assert loss == pytest.approx(reference_ranking_loss(A, B, 0.3, max_violation), rel=1e-12)
    np.testing.assert_allclose(grad_A, numerical_gradient(
        lambda a: ranking_loss(a, B, 0.3, max_violation)[0], A), atol=1e-7)
    np.testing.assert_allclose(grad_B, numerical_gradient(
        lambda b: ranking_loss(A, b, 0.3, max_violation)[0], B), atol=1e-7)
    if max_violation:  # only the hardest negative of each direction counts
        assert loss <= ranking_loss(A, B, 0.3, False)[0]


def test_infonce_hand_computed_loops_and_finite_differences():
    # aligned unit pairs at scale 1: softmax over cosines 1 (the partner) and 0 (the other)
    A = np.eye(2)
    loss, grad_A, grad_B, grad_t = infonce_loss(A, A, 0.0)
    assert loss == pytest.approx(np.log(1 + np.exp(-1)))
    rng = np.random.default_rng(0)
    A, B = _unit(rng.standard_normal((7, 3))), _unit(rng.standard_normal((7, 3)))
    t = np.log(1 / 0.07)
    loss, grad_A, grad_B, grad_t = infonce_loss(A, B, t)
    assert loss == pytest.approx(reference_infonce(A, B, t), rel=1e-12)
    np.testing.assert_allclose(grad_A, numerical_gradient(
        lambda a: infonce_loss(a, B, t)[0], A), atol=1e-7)
    np.testing.assert_allclose(grad_B, numerical_gradient(
        lambda b: infonce_loss(A, b, t)[0], B), atol=1e-7)
    assert grad_t == pytest.approx(numerical_gradient(
        lambda s: infonce_loss(A, B, s[0])[0], np.array([t]))[0], abs=1e-7)
    # at the largest scale (100) the logits do not overflow
    assert np.isfinite(infonce_loss(A, -B, LOGIT_SCALE_RANGE[1])[0])


def _reference_objective(est, params, views, present):
    """The estimator's objective from the loop references: the pair loss over every pair
    of modalities on the rows that have both, plus the L2 penalty."""
    units = []
    for net, theta, V in zip(est._nets, [params[m] for m in range(len(views))], views):
        H = V
        for i, (W, c) in enumerate(net.unpack(theta)):
            H = H @ W + c
            if i < len(net.shapes) - 1:
                H = np.tanh(H)
        units.append(_unit(H))
    total = 0.0
    for m, o in combinations(range(len(views)), 2):
        both = present[:, m] & present[:, o]
        if both.sum() >= 2:
            if est.loss == "infonce":
                total += reference_infonce(units[m][both], units[o][both],
                                           params["logit_scale"][0])
            else:
                total += reference_ranking_loss(units[m][both], units[o][both], est.margin,
                                                est.max_violation)
    return total + sum(0.5 * est.alpha * np.sum(W**2) for m, net in enumerate(est._nets)
                       for W, _ in net.unpack(params[m]))


@pytest.mark.parametrize("hidden", [(), (5,)])
@pytest.mark.parametrize("loss, max_violation", [("hinge", False), ("hinge", True),
                                                 ("infonce", False)])
@pytest.mark.parametrize("n_modalities", [2, 3])
def test_objective_gradient_through_networks_and_normalisation(hidden, loss, max_violation,
                                                               n_modalities):
    """Every network's gradient and the temperature's, against finite differences of the
    loop references; with three modalities on rows that miss one (each pair is scored on
    the rows that have both; a row with one modality only holds no pair)."""
    if n_modalities == 2:
        X, widths = _latent_pairs(n=9), [10, 6]
    else:
        X, widths = _latent_triples(n=11)[0], [10, 6, 5]
    est = _fit(RankingEmbedding(n_components=3, modalities=widths, hidden_layer_sizes=hidden,
                                activation="tanh", loss=loss, max_violation=max_violation,
                                alpha=0.1, max_iter=2, random_state=0), X)
    present = np.ones((X.shape[0], n_modalities), dtype=bool)
    if n_modalities == 3:
        present[[0, 1], 2] = present[2, 0] = present[[3, 4], 1] = False
        present[5, :2] = False  # modality 2 alone
    views = [np.where(present[:, [m]], V, np.nan) for m, V in enumerate(est._views(X))]
    params = dict(enumerate(t.copy() for t in est.networks_))
    if loss == "infonce":
        params["logit_scale"] = np.array([est.logit_scale_])
    value, grads = est._objective(params, views, present)
    clean = [np.nan_to_num(V) for V in views]  # the references embed every row
    assert value == pytest.approx(_reference_objective(est, params, clean, present),
                                  rel=1e-10)
    assert grads.keys() == params.keys()
    for key, theta in params.items():
        def f(changed, key=key):
            return _reference_objective(est, {**params, key: changed}, clean, present)

        np.testing.assert_allclose(grads[key], numerical_gradient(f, theta), atol=1e-6)


@pytest.mark.parametrize("max_violation", [False, True])
def test_two_modalities_objective_is_the_pair_loss_exactly(max_violation):
    """The sum over pairs of modalities is, for two, the one pair: the same arithmetic
    (fitted models are bit-identical to those of the two-modality code it replaced)."""
    X = _latent_pairs(n=20)
    est = _fit(RankingEmbedding(n_components=3, modalities=[10, 6], hidden_layer_sizes=(4,),
                                max_violation=max_violation, max_iter=2, random_state=0), X)
    views = est._views(X)
    params = dict(enumerate(est.networks_))
    value, grads = est._objective(params, views, np.ones((20, 2), dtype=bool))
    outs = [est._embed(net, params[m], V) for m, (net, V) in enumerate(zip(est._nets, views))]
    expected, grad_a, grad_b = ranking_loss(outs[0][1], outs[1][1], est.margin, max_violation)
    for m, ((outputs, _, norms), g) in enumerate(zip(outs, (grad_a, grad_b))):
        grad = est._nets[m].backward(params[m], outputs,
                                     _normalize_backward(outputs[-1], norms, g))
        expected += est._nets[m].l2_penalty(params[m], est.alpha, grad)
        np.testing.assert_array_equal(grads[m], grad)
    assert value == expected


# -- the NaN-block convention -----------------------------------------------------------------


def test_transform_embeds_whichever_modality_a_row_has():
    X = _latent_pairs()
    est = _fit(RankingEmbedding(n_components=4, modalities=[10, 6], hidden_layer_sizes=(8,),
                                random_state=0), X)
    image_only, text_only = X.copy(), X.copy()
    image_only[:, 10:] = np.nan
    text_only[:, :10] = np.nan
    Z_image, Z_text, Z_both = (est.transform(image_only), est.transform(text_only),
                               est.transform(X))
    for Z in (Z_image, Z_text, Z_both):
        np.testing.assert_allclose(np.linalg.norm(Z, axis=1), 1.0)
    np.testing.assert_allclose(Z_both, _unit(Z_image + Z_text))
    mixed = np.where(np.arange(len(X))[:, None] % 2 == 0, image_only, text_only)
    expected = np.where(np.arange(len(X))[:, None] % 2 == 0, Z_image, Z_text)
    np.testing.assert_allclose(est.transform(mixed), expected)
    # Cross-modal retrieval is one nearest-neighbour search between the two transforms.
    ranking = nearest_neighbors(Z_text, Z_image, n_neighbors=10)[1]
    assert recall_at_k(ranking, k=10) > 0.5
    assert est.score(X) > 0.5


def test_rows_missing_a_modality_are_not_training_pairs():
    X = _latent_pairs(n=200)
    extra = _latent_pairs(n=40, seed=1)
    extra[:20, :10] = np.nan
    extra[20:, 10:] = np.nan
    with_extra = _fit(RankingEmbedding(n_components=3, modalities=[10, 6], max_iter=5,
                                       random_state=0), np.vstack([extra[:7], X, extra[7:]]))
    without = _fit(RankingEmbedding(n_components=3, modalities=[10, 6], max_iter=5,
                                    random_state=0), X)
    for a, b in zip(with_extra.networks_, without.networks_):
        np.testing.assert_allclose(a, b)


def test_bad_input_errors():
    X = _latent_pairs(n=50)
    with pytest.raises(ValueError, match="two or more modalities; `modalities` gives 1"):
        RankingEmbedding(modalities=[16]).fit(X)
    few = X.copy()
    few[1:, :10] = np.nan
    with pytest.raises(ValueError, match="at least 2 rows with both modalities"):
        RankingEmbedding(modalities=[10, 6]).fit(few)
    est = _fit(RankingEmbedding(n_components=3, modalities=[10, 6], max_iter=2,
                                random_state=0), X)
    bad = X.copy()
    bad[0] = np.nan
    with pytest.raises(ValueError, match="every modality missing"):
        est.transform(bad)
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="partly NaN"):
        est.transform(bad)
    networks = [t.copy() for t in est.networks_]
    with pytest.raises(ValueError, match="at least 2 rows"):
        est.partial_fit(few)
    for a, b in zip(networks, est.networks_):  # a failed call leaves the model unchanged
        np.testing.assert_array_equal(a, b)


# -- estimator behaviour ----------------------------------------------------------------------


def test_reproducible_picklable_float32_and_sparse():
    X = _latent_pairs(n=120)
    a = _fit(RankingEmbedding(n_components=3, modalities=[10, 6], max_iter=3,
                              random_state=5), X)
    b = _fit(RankingEmbedding(n_components=3, modalities=[10, 6], max_iter=3,
                              random_state=5), X)
    for u, v in zip(a.networks_, b.networks_):
        np.testing.assert_array_equal(u, v)
    clone = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(clone.transform(X), a.transform(X))
    c = _fit(RankingEmbedding(n_components=3, modalities=[10, 6], max_iter=3,
                              random_state=5), sp.csr_matrix(X))
    np.testing.assert_allclose(c.transform(X), a.transform(X), atol=1e-10)
    d = _fit(RankingEmbedding(n_components=3, modalities=[10, 6], max_iter=3,
                              random_state=5), X.astype(np.float32))
    assert d.transform(X.astype(np.float32)).dtype == np.float32


def test_partial_fit_warm_start_and_early_stopping():
    X = _latent_pairs(n=300)
    est = RankingEmbedding(n_components=4, modalities=[10, 6], random_state=0)
    for start in range(0, 300, 100):
        est.partial_fit(X[start:start + 100])
    assert est.n_iter_ == 3 and len(est.loss_curve_) == 3
    warm = _fit(RankingEmbedding(n_components=4, modalities=[10, 6], max_iter=2,
                                 warm_start=True, random_state=0), X)
    first = [t.copy() for t in warm.networks_]
    warm = _fit(warm, X)
    assert warm.n_iter_ == 4 and not np.array_equal(first[0], warm.networks_[0])
    early = _fit(RankingEmbedding(n_components=4, modalities=[10, 6], early_stopping=True,
                                  n_iter_no_change=2, max_iter=200, random_state=0), X)
    assert len(early.validation_scores_) == early.n_iter_ < 200
    assert early.best_validation_score_ == max(early.validation_scores_)
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        RankingEmbedding(modalities=[10, 6], max_iter=1).fit(X)


def test_divergence_names_the_learning_rate():
    # Adam's steps are bounded by the learning rate, so drive the weights to the edge of
    # the float range instead: the next products overflow and the weights become NaN.
    X = _latent_pairs(n=100)
    est = _fit(RankingEmbedding(modalities=[10, 6], learning_rate=0.5, max_iter=2,
                                random_state=0), X)
    est.networks_ = [t / np.abs(t).max() * 1e308 for t in est.networks_]
    with pytest.raises(FloatingPointError, match="learning_rate=0.5"):
        est.partial_fit(X)
    assert est.n_iter_ == 2 and np.all(np.isfinite(est.networks_[0]))


def test_a_large_learning_rate_raises_naming_it():
    """learning_rate=1e4 (4 components): the loss went 2.4e5 -> 1.1e6 -> 2.5e5, stopped after
    6 epochs without a warning and a retrieval score of 0.06 (0.99 at the default)."""
    rng = np.random.default_rng(0)
    latent = rng.standard_normal((300, 4))
    X = np.hstack([latent @ rng.standard_normal((4, 10)), latent @ rng.standard_normal((4, 6))])
    with pytest.raises(FloatingPointError, match="RankingEmbedding diverged in epoch 1: the "
                       "root mean square of its parameters ran away.*learning_rate=10000.0"):
        RankingEmbedding(n_components=4, learning_rate=1e4, modalities=[10, 6],
                         random_state=0).fit(X)
    healthy = _fit(RankingEmbedding(n_components=4, modalities=[10, 6], random_state=0), X)
    assert max(healthy.loss_curve_) < 0.05 * DIVERGENCE_RATIO * healthy._history.first_value
    rms = np.sqrt(np.mean(np.concatenate(healthy.networks_) ** 2))
    assert rms < 0.05 * RUNAWAY_RATIO * max(healthy._history.initial_rms, 1.0)


def test_unscaled_features_warn_once_at_fit():
    X = _latent_pairs(n=100)
    with pytest.warns(UserWarning, match="RankingEmbedding: the features are not standardised "
                      "\\(every feature has root mean square at most .*StandardScaler") as record:
        _fit(RankingEmbedding(modalities=[10, 6], max_iter=2, random_state=0), X * 1e-4)
    assert len([w for w in record if w.category is UserWarning]) == 1
    missing = X * 1e3
    missing[:10, :10] = np.nan  # rows missing a modality do not count
    with pytest.warns(UserWarning, match="root mean square .*e\\+03"):
        _fit(RankingEmbedding(modalities=[10, 6], max_iter=2, random_state=0), missing)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        est = _fit(RankingEmbedding(modalities=[10, 6], max_iter=2, random_state=0), X)
        est.partial_fit(X * 1e-4)  # a later chunk: no warning, the model exists


@pytest.mark.parametrize("hidden", [(), (6,)])
def test_a_failed_call_leaves_the_estimator_bit_identical(hidden):
    X = _latent_pairs(n=200)
    make = lambda: _fit(RankingEmbedding(n_components=3, modalities=[10, 6],
                                         hidden_layer_sizes=hidden, max_iter=2,
                                         warm_start=True, random_state=0), X)
    failed, twin = make(), make()
    for est in (failed, twin):
        est.set_params(learning_rate=1e6)
    for call in (lambda: failed.partial_fit(X), lambda: failed.fit(X)):
        with pytest.raises(FloatingPointError):
            call()
        assert_same_state(failed, twin)
    for est in (failed, twin):
        est.set_params(learning_rate=0.01)
    assert_same_state(failed.partial_fit(X), twin.partial_fit(X))
    assert_same_state(_fit(failed, X), _fit(twin, X))


def test_verbose(capsys):
    _fit(RankingEmbedding(modalities=[10, 6], max_iter=2, verbose=1, random_state=0),
         _latent_pairs(n=60))
    assert capsys.readouterr().out.count("epoch") == 2


def test_pipeline_and_grid_search_on_the_label_free_score():
    X = _latent_pairs(n=240)
    X[:30, :10] = np.nan  # rows missing a modality: StandardScaler ignores NaN
    pipe = make_pipeline(StandardScaler(),
                         RankingEmbedding(n_components=3, modalities=[10, 6], max_iter=20,
                                          random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search = GridSearchCV(pipe, {"rankingembedding__hidden_layer_sizes": [(), (16,)]},
                              cv=2).fit(X)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.transform(X).shape == (240, 3)


# -- quality ----------------------------------------------------------------------------------


def test_digits_halves_retrieval_against_cca():
    """Left-half <-> right-half retrieval of held-out digits (30 %, 540 pairs).

    Measured on splits 0-3 (16 dimensions, standardised pixels, defaults), mean of R@1, R@5,
    R@10 in both directions: CCA 0.225 / 0.221 / 0.215 / 0.231; linear RankingEmbedding
    0.244 / 0.234 / 0.210 / 0.233; with one hidden layer of 64 0.333 / 0.350 / 0.363 / 0.352.
    The hardest-negative variant is worse here (0.10 linear, 0.28 MLP): halves of
    different images of the same digit are near duplicates, so the hardest negative is
    often no negative at all.
    """
    X, _ = load_digits_halves(return_X_y=True)
    X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    cca = CCA(n_components=16).fit(X_train)
    left, right = X_test.copy(), X_test.copy()
    left[:, 32:] = np.nan
    right[:, :32] = np.nan
    scores = []
    for queries, database in ((cca.transform(left), cca.transform(right)),
                              (cca.transform(right), cca.transform(left))):
        ranking = nearest_neighbors(queries, database, n_neighbors=10)[1]
        scores += [recall_at_k(ranking, k=k) for k in (1, 5, 10)]
    cca_score = np.mean(scores)
    linear = _fit(RankingEmbedding(n_components=16, random_state=0), X_train)
    mlp = _fit(RankingEmbedding(n_components=16, hidden_layer_sizes=(64,), random_state=0),
               X_train)
    assert linear.score(X_test) > cca_score - 0.03
    assert mlp.score(X_test) > cca_score + 0.07


# -- more than two modalities -----------------------------------------------------------------


def test_three_modalities_retrieve_across_every_pair_and_use_partly_paired_rows():
    """Three modalities of one latent (400 training rows, 200 held out, standardised).
    Measured on seeds 0-3, held-out score (mean R@1/5/10 over the 6 directions), linear
    maps: hinge 0.35-0.53, InfoNCE 0.41-0.59; after one epoch 0.02-0.03; random networks
    0.02. With 100 complete training rows only, hinge 0.24-0.39 and InfoNCE 0.29-0.47;
    adding 300 rows that miss one modality each (their other two form a pair) brings them
    to 0.34-0.50 and 0.40-0.56 (+0.03 to +0.14)."""
    X, _ = _latent_triples(600, seed=0)
    X = StandardScaler().fit(X[:400]).transform(X)
    train, test = X[:400], X[400:]
    blocks = [slice(0, 10), slice(10, 16), slice(16, 21)]
    partly = train.copy()
    for i in range(100, 400):
        partly[i, blocks[i % 3]] = np.nan
    for loss in ("hinge", "infonce"):
        make = lambda loss=loss, **kw: RankingEmbedding(n_components=4, modalities=[10, 6, 5],
                                                        loss=loss, random_state=0, **kw)
        full = _fit(make(), train)
        one_epoch = _fit(make(max_iter=1), train)
        rng = np.random.default_rng(0)
        random = one_epoch._paired_score({m: net.init(rng) for m, net in
                                          enumerate(one_epoch._nets)},
                                         one_epoch._views(test), np.ones((200, 3), bool))
        score = full.score(test)
        assert score > 0.3 and max(random, one_epoch.score(test)) < score - 0.25
        complete_only, with_partial = _fit(make(), train[:100]), _fit(make(), partly)
        assert with_partial.score(test) > complete_only.score(test) + 0.05
        # transform: the normalised mean of the unit embeddings of a row's modalities
        singles = []
        for m in range(3):
            only = np.full_like(test, np.nan)
            only[:, blocks[m]] = test[:, blocks[m]]
            singles.append(full.transform(only))
        two = test.copy()
        two[:, blocks[1]] = np.nan
        np.testing.assert_allclose(full.transform(two), _unit(singles[0] + singles[2]),
                                   atol=1e-12)
        np.testing.assert_allclose(full.transform(test), _unit(sum(singles)), atol=1e-12)
        # cross-modal retrieval between any two modalities is one nearest-neighbour search
        ranking = nearest_neighbors(singles[2], singles[0], n_neighbors=10)[1]
        assert recall_at_k(ranking, k=10) > 0.3


def test_rows_with_a_single_modality_hold_no_pair():
    X, _ = _latent_triples(200)
    single = _latent_triples(30, seed=1)[0]
    for i, b in enumerate([slice(0, 10), slice(10, 16), slice(16, 21)]):
        keep = single[10 * i:10 * i + 10, b].copy()
        single[10 * i:10 * i + 10] = np.nan
        single[10 * i:10 * i + 10, b] = keep
    make = lambda: RankingEmbedding(n_components=3, modalities=[10, 6, 5], max_iter=5,
                                    random_state=0)
    with_single = _fit(make(), np.vstack([single[:13], X, single[13:]]))
    without = _fit(make(), X)
    for a, b in zip(with_single.networks_, without.networks_):
        np.testing.assert_array_equal(a, b)
    lonely = X.copy()
    lonely[2:, 16:] = np.nan  # modality m2 is with another one in only 2 rows: enough
    _fit(make(), lonely)
    lonely[1, 16:] = np.nan
    with pytest.raises(ValueError, match="fit needs at least 2 rows with modality 'm2' and "
                       "another one present \\(pairs\\); got 1"):
        make().fit(lonely)


# -- InfoNCE ----------------------------------------------------------------------------------


def test_infonce_learns_its_temperature_within_clipping():
    X = _latent_pairs(n=300)
    est = _fit(RankingEmbedding(n_components=4, modalities=[10, 6], loss="infonce",
                                random_state=0), X)
    # measured: score 0.61 (the hinge's 0.56), loss 14.5 -> 1.76, log(1/temperature) 2.77
    assert est.logit_scale_ != INITIAL_LOGIT_SCALE
    assert est.score(X) > 0.5
    assert est.loss_curve_[-1] < 0.2 * est.loss_curve_[0]
    # identical modalities: the temperature falls until the logits' scale is clipped at 100
    rng = np.random.default_rng(0)
    latent = rng.standard_normal((300, 8))
    easy = np.hstack([latent, latent @ rng.standard_normal((8, 8))])
    sharp = _fit(RankingEmbedding(n_components=8, modalities=[8, 8], loss="infonce",
                                  learning_rate=1.0, random_state=0), easy)
    assert sharp.logit_scale_ == pytest.approx(np.log(100.0))
    # float32 data train a float32 temperature; the attribute is a float
    est32 = _fit(RankingEmbedding(n_components=4, modalities=[10, 6], loss="infonce",
                                  max_iter=3, random_state=0), X.astype(np.float32))
    assert isinstance(est32.logit_scale_, float)
    assert est32.transform(X.astype(np.float32)).dtype == np.float32
    assert _fit(RankingEmbedding(modalities=[10, 6], max_iter=2), X).logit_scale_ is None


def test_infonce_partial_fit_warm_start_and_switching_loss():
    X = _latent_pairs(n=300)
    est = RankingEmbedding(n_components=4, modalities=[10, 6], loss="infonce",
                           random_state=0)
    scales = []
    for start in range(0, 300, 100):
        scales.append(est.partial_fit(X[start:start + 100]).logit_scale_)
    assert est.n_iter_ == 3 and len(set(scales)) == 3
    hinge = _fit(RankingEmbedding(n_components=4, modalities=[10, 6], max_iter=3,
                                  warm_start=True, random_state=0), X)
    hinge.set_params(loss="infonce")
    _fit(hinge, X)  # the optimiser restarts with the temperature among its parameters
    assert hinge.n_iter_ == 6 and hinge.logit_scale_ is not None
    hinge.set_params(loss="hinge")
    assert _fit(hinge, X).logit_scale_ is None


def test_infonce_bad_options_and_divergence_leave_the_estimator_unchanged():
    X = _latent_pairs(n=200)
    make = lambda: _fit(RankingEmbedding(n_components=3, modalities=[10, 6], loss="infonce",
                                         max_iter=2, warm_start=True, random_state=0), X)
    failed, twin = make(), make()
    failed.set_params(max_violation=True)
    twin.set_params(max_violation=True)
    with pytest.raises(ValueError, match="max_violation=True keeps only the hardest negative "
                       "of the hinge loss; loss='infonce'"):
        failed.fit(X)
    assert_same_state(failed, twin)
    for rate in (100.0, 1e4):
        for est in (failed, twin):
            est.set_params(max_violation=False, learning_rate=rate)
        with pytest.raises(FloatingPointError, match="RankingEmbedding diverged in epoch "
                           f".*Lower learning_rate \\(now learning_rate={rate}\\)"):
            failed.partial_fit(X)
        assert_same_state(failed, twin)
    for est in (failed, twin):
        est.set_params(learning_rate=0.01)
    assert_same_state(failed.partial_fit(X), twin.partial_fit(X))


def test_a_run_that_learned_nothing_warns():
    """InfoNCE at learning_rate=10 flattens the softmax through the temperature within an
    epoch: nothing blows up, the loss ends at its chance value log(batch) and the recall at
    chance (measured on digits halves: score 0.003, against 0.15 at 0.01). A warning says
    so; a run that learned does not get it."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.preprocessing import StandardScaler

    from skmultimodal.datasets import load_digits_halves

    X = StandardScaler().fit_transform(load_digits_halves(return_X_y=True)[0])
    with pytest.warns(ConvergenceWarning, match="learned nothing"):
        RankingEmbedding(n_components=16, loss="infonce", learning_rate=10,
                         random_state=0).fit(X)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        RankingEmbedding(n_components=16, loss="infonce", learning_rate=0.01,
                         random_state=0).fit(X)
    assert not [w for w in record if "learned nothing" in str(w.message)]
