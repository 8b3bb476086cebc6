"""MDRNN: the unrolled network's gradient against finite differences, and the estimator."""

import numpy as np
import pytest

from skmultimodal.boltzmann._graph import Structure
from skmultimodal.boltzmann._units import VISIBLE_UNITS
from skmultimodal.deep._recurrent import RecurrentNetwork


def _network(units, widths, pathways, n_top=3, seed=0):
    rng = np.random.default_rng(seed)
    starts = np.cumsum([0, *widths])
    s = Structure([slice(a, b) for a, b in zip(starts[:-1], starts[1:])],
                  [VISIBLE_UNITS[u] for u in units], pathways, n_top, bipartite=False)
    params = {}
    for e, (lo, up) in enumerate(s.edges):
        params[f"W{e}"] = rng.normal(0, 0.7, (s.widths[up], s.widths[lo]))
    for layer in s.hidden:
        params[f"b{layer}"] = rng.normal(0, 0.3, (1, s.widths[layer]))
    for layer in range(len(s.widths) - 1):
        params[f"c{layer}"] = rng.normal(0, 0.3, (1, s.widths[layer]))
    for m, u in enumerate(units):
        if u == "replicated_softmax":
            params[f"a{m}"] = rng.normal(0, 0.2, (1, s.widths[s.length_layer[m]]))
    return RecurrentNetwork(s, params)


def _blocks(units, widths, n=5, seed=1):
    rng = np.random.default_rng(seed)
    out = []
    for u, w in zip(units, widths):
        if u == "binary":
            out.append((rng.random((n, w)) < 0.5).astype(float))
        elif u == "gaussian":
            out.append(rng.normal(size=(n, w)))
        else:
            out.append(rng.poisson(1.5, size=(n, w)).astype(float))
    L = np.column_stack([b.sum(axis=1) if u == "replicated_softmax" else np.zeros(n)
                         for u, b in zip(units, out)])
    return out, L


CASES = [
    (("binary", "binary"), (3, 4), [(2,), (3,)]),
    (("gaussian", "replicated_softmax"), (3, 4), [(2, 3), (3,)]),
    (("binary", "gaussian", "binary"), (2, 3, 2), [(), (), ()]),
]


@pytest.mark.parametrize("units, widths, pathways", CASES)
@pytest.mark.parametrize("n_iter", [0, 1, 3])
def test_unrolled_gradient_matches_finite_differences(units, widths, pathways, n_iter):
    net = _network(units, widths, pathways)
    blocks, L = _blocks(units, widths)
    target_sets = [[0], [len(units) - 1]] + ([[0, 2]] if len(units) == 3 else [])
    for targets in target_sets:
        # the first target only is scored (the others: modalities missing in the data)
        truth = {targets[0]: blocks[targets[0]]}

        def loss():
            return net.loss(net.forward(blocks, L, targets, n_iter), truth)

        grads = net.backward(net.forward(blocks, L, targets, n_iter), truth)
        for name, param in net.params.items():
            numeric = np.zeros_like(param)
            for index in np.ndindex(param.shape):
                old = param[index]
                param[index] = old + 1e-6
                up = loss()
                param[index] = old - 1e-6
                down = loss()
                param[index] = old
                numeric[index] = (up - down) / 2e-6
            np.testing.assert_allclose(grads[name], numeric, rtol=1e-5, atol=1e-8,
                                       err_msg=f"{name} {targets}")


def test_no_iteration_is_a_feed_forward_pass():
    """n_iter=0: up the present pathways (the target at zero), into the top, down the
    target's pathway."""
    units, widths, pathways = CASES[0]
    net = _network(units, widths, pathways)
    blocks, L = _blocks(units, widths)
    p = net.params
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    s = net.s
    h0 = sig(blocks[0] @ p["W0"].T + p["b2"])
    h1 = sig(np.zeros((5, 4)) @ p["W1"].T + p["b3"])
    top = sig(h0 @ p["W2"].T + h1 @ p["W3"].T + p[f"b{s.top}"])
    g = sig(top @ p["W3"] + p["c3"])
    prediction = sig(g @ p["W1"] + p["c1"])
    cache = net.forward(blocks, L, [1], 0)
    np.testing.assert_allclose(cache["top"][-1], top, rtol=1e-12)
    np.testing.assert_allclose(cache["prediction"][1], prediction, rtol=1e-12)


# -- the estimator -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits():
    from sklearn.model_selection import train_test_split

    from skmultimodal.datasets import load_digits_halves

    X, y = load_digits_halves(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def _small(**params):
    from skmultimodal.deep import MDRNN

    return MDRNN(**{"n_components": 16, "pathways": (16,), "n_iter_pretrain": 2,
                    "max_iter": 3, "random_state": 0, **params})


def test_first_bottom_up_pass_is_the_pretrained_stack(digits):
    """Before finetuning, the network's bottom-up pass on complete rows is the pretrained
    stack's: each pathway RBM's hidden probabilities, then the top RBM's posterior."""
    from skmultimodal import MultimodalDBN

    X = digits[0]
    net = _small()
    net._validate_input(X, reset=True)
    net._pretrain(X, np.zeros((len(X), 2), dtype=bool))
    dbn = MultimodalDBN(16, pathways=(16,)).fit(X[:50])  # then given the stack's attributes
    for name in ("coefs_", "intercepts_hidden_", "intercepts_generative_",
                 "intercept_visible_", "hidden_length_bias_", "mean_length_"):
        setattr(dbn, name, getattr(net, name))
    np.testing.assert_allclose(net.transform(X[:40]), dbn.transform(X[:40]), rtol=1e-10)


def test_finetuning_improves_cross_modal_prediction(digits):
    """The finetuned network predicts a missing half better than the pretrained stack, and
    its representation of one half classifies better (measured on seed 0: accuracy from the
    left half 0.34 before finetuning, 0.77 after 50 epochs; both halves 0.55 and 0.89)."""
    from sklearn.linear_model import LogisticRegression

    X_train, X_test, y_train, y_test = digits
    kw = dict(n_components=64, pathways=(64,), n_iter_pretrain=10)
    before = _small(max_iter=1, learning_rate=1e-9, **kw).fit(X_train)
    after = _small(max_iter=50, **kw).fit(X_train)
    X_left = X_test.copy()
    X_left[:, 32:] = np.nan
    assert after.score(X_test) > before.score(X_test) + 1.0
    scores = {}
    for name, est in (("before", before), ("after", after)):
        clf = LogisticRegression(max_iter=3000).fit(est.transform(X_train), y_train)
        scores[name] = clf.score(est.transform(X_left), y_test)
    assert scores["after"] > scores["before"] + 0.2, scores
    error = {name: np.mean((est.impute(X_left)[:, 32:] - X_test[:, 32:]) ** 2)
             for name, est in (("before", before), ("after", after))}
    assert error["after"] < error["before"], error


def test_interface(digits, tmp_path):
    import joblib

    X = digits[0]
    net = _small().fit(X)
    assert net.transform(X).shape == (len(X), 16)
    assert len(net.loss_curve_) == net.n_iter_ <= 3
    X_missing = X[:30].copy()
    X_missing[::2, 32:] = np.nan
    X_missing[1::2, :32] = np.nan
    imputed = net.impute(X_missing)
    assert np.isfinite(imputed).all() and np.all((imputed >= 0) & (imputed <= 1))
    np.testing.assert_array_equal(imputed[::2, :32], X[:30:2, :32])
    joblib.dump(net, tmp_path / "net.joblib")
    again = joblib.load(tmp_path / "net.joblib")
    np.testing.assert_array_equal(again.transform(X_missing), net.transform(X_missing))
    warm = _small(warm_start=True).fit(X)
    first = [w.copy() for w in warm.coefs_]
    warm.fit(X)
    assert warm.n_iter_ > 3 and any(not np.array_equal(a, b)
                                    for a, b in zip(first, warm.coefs_))


def test_replicated_softmax_counts_and_sparse_input():
    import scipy.sparse as sp

    from skmultimodal.datasets import make_multimodal_topics

    X, _ = make_multimodal_topics(300, n_topics=4, n_image_features=10, n_tags=12,
                                  random_state=0)
    X[:, :10] = (X[:, :10] - X[:, :10].mean(0)) / X[:, :10].std(0)
    kw = dict(modalities=[10, 12], visible_units=["gaussian", "replicated_softmax"])
    dense = _small(**kw).fit(X)
    sparse = _small(**kw).fit(sp.csr_matrix(X))
    np.testing.assert_allclose(dense.transform(X), sparse.transform(sp.csr_matrix(X)),
                               rtol=1e-6)
    X_text_missing = X[:20].copy()
    X_text_missing[:, 10:] = np.nan
    counts = dense.impute(X_text_missing)[:, 10:]
    np.testing.assert_allclose(counts.sum(axis=1), dense.mean_length_[1], rtol=1e-6)


def test_bad_training_is_reported(digits):
    with pytest.raises(FloatingPointError, match="learning_rate"):
        _small(learning_rate=1e4, max_iter=10).fit(digits[0])
