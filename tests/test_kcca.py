"""KCCA: exactness against linear CCA, nonlinear recovery, Nystroem convergence."""

import pickle

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from skmultimodal import CCA, KCCA
from skmultimodal.datasets import make_nonlinear_views


def _nonlinear(n, seed=0):
    return make_nonlinear_views(n, random_state=seed)[0]


def test_linear_kernel_is_linear_cca():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((200, 2))
    X = np.hstack([z @ rng.normal(size=(2, 4)) + rng.standard_normal((200, 4)),
                   z @ rng.normal(size=(2, 3)) + rng.standard_normal((200, 3))])
    spec = [4, 3]
    kcca = KCCA(n_components=2, modalities=spec, kernel="linear", reg=0.1).fit(X)
    cca = CCA(n_components=2, modalities=spec, reg=0.1).fit(X)
    np.testing.assert_allclose(kcca.canonical_correlations_, cca.canonical_correlations_,
                               rtol=1e-8)
    X_new = X[:20] + 0.1
    for Zk, Zc in zip(kcca.transform_views(X_new), cca.transform_views(X_new)):
        np.testing.assert_allclose(np.abs(Zk), np.abs(Zc), rtol=1e-6, atol=1e-8)


def test_recovers_a_nonlinear_signal_that_linear_cca_misses():
    X = _nonlinear(800)
    train, test = X[:500], X[500:]
    assert CCA(n_components=1).fit(train).score(test) < 0.3
    kcca = KCCA(n_components=1, kernel_params={"gamma": 0.5}, reg=1e-2).fit(train)
    assert kcca.score(test) > 0.9


def test_nystroem_approaches_exact_kcca():
    X = _nonlinear(600, seed=1)
    params = dict(n_components=2, kernel_params={"gamma": 0.5}, reg=1e-2)
    exact = KCCA(**params).fit(X).canonical_correlations_
    gaps = [np.abs(KCCA(**params, approximation="nystroem", n_approx_components=m,
                        random_state=0).fit(X).canonical_correlations_ - exact).max()
            for m in (5, 40, 300)]
    assert gaps[2] < gaps[0] and gaps[2] < 0.02, gaps


def test_missing_views_grid_search_and_pickle():
    X = _nonlinear(400)
    kcca = KCCA(n_components=1, kernel_params={"gamma": 0.5}, reg=1e-2).fit(X)
    Z1, Z2 = kcca.transform_views(X)
    X_missing = X.copy()
    X_missing[:5, 3:] = np.nan
    np.testing.assert_allclose(kcca.transform(X_missing)[:5], Z1[:5])
    np.testing.assert_allclose(kcca.transform(X_missing)[5:], (Z1[5:] + Z2[5:]) / 2)
    search = GridSearchCV(KCCA(n_components=1, reg=1e-2),
                          {"kernel_params": [{"gamma": 1e-4}, {"gamma": 0.5}]}, cv=2).fit(X)
    assert search.best_params_["kernel_params"] == {"gamma": 0.5}
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(kcca)).transform(X),
                                  kcca.transform(X))


def test_per_view_kernels_callables_and_errors():
    X = _nonlinear(100)
    KCCA(n_components=1, kernel=["linear", "rbf"], kernel_params=[None, {"gamma": 0.5}]).fit(X)
    # a callable takes two rows, as in sklearn.metrics.pairwise.pairwise_kernels
    as_callable = KCCA(n_components=1, kernel=lambda a, b: np.exp(-0.5 * np.sum((a - b) ** 2)),
                       reg=1e-2).fit(X)
    as_string = KCCA(n_components=1, kernel_params={"gamma": 0.5}, reg=1e-2).fit(X)
    np.testing.assert_allclose(as_callable.canonical_correlations_,
                               as_string.canonical_correlations_, rtol=1e-10)
    with pytest.raises(ValueError, match="kernel lists 3 entries but there are 2 modalities"):
        KCCA(kernel=["rbf"] * 3).fit(X)
    with pytest.raises(ValueError, match="at least two views"):
        KCCA(modalities=[6]).fit(X)


@pytest.mark.parametrize("approximation", [None, "nystroem"])
def test_a_constant_view_is_named_as_constant(approximation):
    X = _nonlinear(100)
    X[:, 3:] = 2.5
    kcca = KCCA(n_components=1, approximation=approximation, n_approx_components=20,
                random_state=0)
    with pytest.raises(ValueError, match="View 'm1' is constant"):
        kcca.fit(X)
    spec = [("image", slice(0, 3)), ("text", slice(3, 6))]
    with pytest.raises(ValueError, match="View 'text' is constant"):
        kcca.set_params(modalities=spec).fit(X)


def test_linear_kernel_nystroem_kcca_with_all_landmarks_is_linear_cca():
    """With every row a landmark the Nystroem map of the linear kernel is an isometry of the
    data (Williams & Seeger 2001), so ridge CCA on it is ridge CCA on the data."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal((150, 2))
    X = np.hstack([z @ rng.normal(size=(2, 4)) + rng.standard_normal((150, 4)),
                   z @ rng.normal(size=(2, 3)) + rng.standard_normal((150, 3))])
    kcca = KCCA(n_components=2, modalities=[4, 3], kernel="linear", reg=0.1,
                approximation="nystroem", n_approx_components=150, random_state=0).fit(X)
    cca = CCA(n_components=2, modalities=[4, 3], reg=0.1).fit(X)
    np.testing.assert_allclose(kcca.canonical_correlations_, cca.canonical_correlations_,
                               rtol=1e-6)
    X_new = X[:20] + 0.1
    for Zk, Zc in zip(kcca.transform_views(X_new), cca.transform_views(X_new)):
        np.testing.assert_allclose(np.abs(Zk), np.abs(Zc), rtol=1e-5, atol=1e-6)
