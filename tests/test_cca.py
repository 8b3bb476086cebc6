"""CCA against exact answers, peers and planted structure; composition and bad input."""

import pickle

import numpy as np
import pytest
from scipy.linalg import eigh
from sklearn.cross_decomposition import CCA as SklearnCCA
from sklearn.datasets import load_linnerud
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmultimodal.cross_decomposition import CCA
from skmultimodal.datasets import make_correlated_views


def _planted(n=5000, rho=(0.9, 0.7, 0.5), d=(8, 6), seed=0, return_latent=False):
    X, latent = make_correlated_views(n, correlations=rho, n_features=d, random_state=seed)
    return (X, list(d), latent) if return_latent else (X, list(d))


def test_linnerud_canonical_correlations():
    exercise, physiology = load_linnerud(return_X_y=True)
    cca = CCA(n_components=3).fit(np.hstack([exercise, physiology]))
    np.testing.assert_allclose(cca.canonical_correlations_, [0.795608, 0.200556, 0.072570],
                               atol=1e-6)


@pytest.mark.parametrize("reg", [0.0, 0.5])
def test_agrees_with_the_generalised_eigenproblem(reg):
    X, widths = _planted(n=300)
    A, B = X[:, :8], X[:, 8:]
    Ac, Bc = A - A.mean(0), B - B.mean(0)
    n = len(X)
    C11 = Ac.T @ Ac / (n - 1) + reg * np.eye(8)
    C22 = Bc.T @ Bc / (n - 1) + reg * np.eye(6)
    C12 = Ac.T @ Bc / (n - 1)
    lhs = np.block([[np.zeros((8, 8)), C12], [C12.T, np.zeros((6, 6))]])
    rhs = np.block([[C11, np.zeros((8, 6))], [np.zeros((6, 8)), C22]])
    values, vectors = eigh(lhs, rhs)
    order = np.argsort(values)[::-1][:3]
    cca = CCA(n_components=3, modalities=widths, reg=reg).fit(X)
    for view, W, block in ((0, cca.weights_[0], slice(0, 8)), (1, cca.weights_[1], slice(8, 14))):
        reference = vectors[block, order]
        reference = reference / np.sqrt(np.sum(reference * ((C11 if view == 0 else C22)
                                                             @ reference), axis=0))
        np.testing.assert_allclose(np.abs(W), np.abs(reference), rtol=1e-6, atol=1e-9)
    # the eigenvalues are the regularised criterion; the attribute is the variates' correlation
    a, b = Ac @ vectors[:8, order], Bc @ vectors[8:, order]
    empirical = np.sum(a * b, 0) / np.linalg.norm(a, axis=0) / np.linalg.norm(b, axis=0)
    np.testing.assert_allclose(cca.canonical_correlations_, np.abs(empirical), rtol=1e-8)
    if reg == 0:
        np.testing.assert_allclose(cca.canonical_correlations_, values[order], rtol=1e-8)


def test_agrees_with_sklearn_on_well_conditioned_data():
    X, widths = _planted(n=2000)
    ours = CCA(n_components=3, modalities=widths).fit(X)
    peer = SklearnCCA(n_components=3, scale=False, tol=1e-14, max_iter=10000).fit(
        X[:, :8], X[:, 8:])
    xs, ys = peer.transform(X[:, :8], X[:, 8:])
    peer_rho = [np.corrcoef(xs[:, j], ys[:, j])[0, 1] for j in range(3)]
    np.testing.assert_allclose(ours.canonical_correlations_, peer_rho, atol=1e-6)
    Z1, Z2 = ours.transform_views(X)
    for j in range(3):
        assert abs(np.corrcoef(Z1[:, j], xs[:, j])[0, 1]) > 1 - 1e-6
        assert abs(np.corrcoef(Z2[:, j], ys[:, j])[0, 1]) > 1 - 1e-6


def test_agrees_with_cca_zoo():
    zoo = pytest.importorskip("cca_zoo.linear")
    X, widths = _planted(n=2000, seed=3)
    ours = CCA(n_components=3, modalities=widths).fit(X)
    peer = zoo.CCA(n_components=3).fit([X[:, :8], X[:, 8:]])
    for Z_ours, Z_peer in zip(ours.transform_views(X), peer.transform([X[:, :8], X[:, 8:]])):
        for j in range(3):
            assert abs(np.corrcoef(Z_ours[:, j], Z_peer[:, j])[0, 1]) > 1 - 1e-6
    Z1, Z2 = peer.transform([X[:, :8], X[:, 8:]])
    peer_rho = [np.corrcoef(Z1[:, j], Z2[:, j])[0, 1] for j in range(3)]
    np.testing.assert_allclose(ours.canonical_correlations_, peer_rho, atol=1e-6)


def test_recovers_planted_correlations():
    X, widths = _planted(n=25000, seed=1)
    cca = CCA(n_components=3, modalities=widths).fit(X[:20000])
    np.testing.assert_allclose(cca.canonical_correlations_, [0.9, 0.7, 0.5], atol=0.02)
    assert cca.score(X[20000:]) == pytest.approx(0.7, abs=0.02)


def test_more_features_than_samples():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 100))
    degenerate = CCA(n_components=5).fit(X)
    np.testing.assert_allclose(degenerate.canonical_correlations_, 1.0, atol=1e-8)
    a = CCA(n_components=5, reg=1.0).fit(X)
    b = CCA(n_components=5, reg=1.0).fit(X)
    rho = a.canonical_correlations_
    assert np.all(np.isfinite(rho)) and np.all(rho < 1)
    Z1, Z2 = a.transform_views(X)
    np.testing.assert_allclose(rho, [np.corrcoef(Z1[:, j], Z2[:, j])[0, 1] for j in range(5)],
                               rtol=1e-8)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    assert np.all(CCA(n_components=5, reg="ledoit_wolf").fit(X).canonical_correlations_ < 1)


def test_missing_views_average_the_available_variates():
    X, widths = _planted(n=500)
    cca = CCA(n_components=2, modalities=widths).fit(X)
    Z1, Z2 = cca.transform_views(X)
    np.testing.assert_allclose(cca.transform(X), (Z1 + Z2) / 2)
    X_missing = X.copy()
    X_missing[:10, 8:] = np.nan
    X_missing[10:20, :8] = np.nan
    Z = cca.transform(X_missing)
    np.testing.assert_allclose(Z[:10], Z1[:10])
    np.testing.assert_allclose(Z[10:20], Z2[10:20])
    # rows with a missing view are not used to fit
    with_missing = CCA(n_components=2, modalities=widths).fit(X_missing)
    complete_only = CCA(n_components=2, modalities=widths).fit(X[20:])
    np.testing.assert_allclose(with_missing.weights_[0], complete_only.weights_[0])
    np.testing.assert_allclose(with_missing.canonical_correlations_,
                               complete_only.canonical_correlations_)
    # and a plain list of lists is accepted
    np.testing.assert_allclose(CCA(n_components=2, modalities=widths).fit(X.tolist())
                               .canonical_correlations_, cca.canonical_correlations_)


def test_maxvar_with_two_views_finds_the_canonical_directions():
    from skmultimodal.cross_decomposition._cca import (
        _maxvar_coefficients,
        _two_view_coefficients,
    )

    rng = np.random.default_rng(0)
    diagonal = [np.ones(8), np.ones(6)]  # no ridge: MAXVAR's K is [[I, T], [T^T, I]]
    T = rng.normal(size=(8, 6)) * 0.1
    svd = _two_view_coefficients(T, 3)
    maxvar = _maxvar_coefficients(diagonal, lambda m, l: T, 3)
    for C_svd, C_maxvar, d in zip(svd, maxvar, diagonal):
        for j in range(3):  # the same direction, whatever the scale
            cosine = (C_svd[:, j] * d) @ C_maxvar[:, j] / np.sqrt(
                (C_svd[:, j] ** 2 * d).sum() * (C_maxvar[:, j] ** 2 * d).sum())
            assert abs(cosine) > 1 - 1e-10


def test_three_views():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((2000, 2))
    views = [z @ rng.normal(size=(2, d)) + 0.5 * rng.standard_normal((2000, d))
             for d in (4, 5, 6)]
    cca = CCA(n_components=2, modalities=[4, 5, 6]).fit(np.hstack(views))
    assert np.all(cca.canonical_correlations_ > 0.8)
    assert len(cca.transform_views(np.hstack(views))) == 3


def test_grid_search_pipeline_and_pickle():
    X, widths, z = _planted(n=600, rho=(0.9, 0.6), d=(20, 20), return_latent=True)
    search = GridSearchCV(CCA(n_components=2, modalities=widths),
                          {"reg": [0.0, 1.0, 100.0]}, cv=3).fit(X)
    assert search.best_params_["reg"] in (0.0, 1.0, 100.0)
    y = (z[:, 0] > 0).astype(int)
    model = make_pipeline(StandardScaler(), CCA(n_components=2, modalities=widths),
                          LogisticRegression())
    assert cross_val_score(model, X, y, cv=3).mean() > 0.85
    cca = CCA(n_components=2, modalities=widths).fit(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(cca)).transform(X),
                                  cca.transform(X))


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda X: (CCA(n_components=7, modalities=[8, 6]), X), "exceeds the width 6 of view 'm1'"),
        (lambda X: (CCA(n_components=1, modalities=[14]), X), "at least two views"),
        (lambda X: (CCA(n_components=1, modalities=[8, 6]),
                    np.hstack([X[:, :8], np.ones((len(X), 6))])), "View 'm1' is constant"),
        (lambda X: (CCA(n_components=1, modalities=[8, 6]),
                    np.where(np.arange(14) == 9, np.nan, X)), "'m1' is partly NaN"),
        (lambda X: (CCA(n_components=1, modalities=[8, 6], reg=[0.1]), X), "reg lists 1 entries but there are 2 modalities"),
    ],
)
def test_bad_input(make, match):
    X, _ = _planted(n=50)
    cca, data = make(X)
    with pytest.raises(ValueError, match=match):
        cca.fit(data)


def test_fit_transform_matches_fit_then_transform_on_data_frames():
    pd = pytest.importorskip("pandas")
    X, widths = _planted(n=200)
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(14)])
    spec = [("a", [f"f{i}" for i in range(8)]), ("b", [f"f{i}" for i in range(8, 14)])]
    cca = CCA(n_components=2, modalities=spec).set_output(transform="pandas")
    out = cca.fit_transform(df)
    assert list(out.columns) == ["cca0", "cca1"]
    np.testing.assert_allclose(out.to_numpy(), cca.transform(df).to_numpy())
    np.testing.assert_allclose(out.to_numpy(),
                               CCA(n_components=2, modalities=widths).fit(X).transform(X))


def test_constant_and_collinear_columns_change_nothing():
    X, widths = _planted(n=500)
    A, B = X[:, :8], X[:, 8:]
    padded = np.hstack([A, np.ones((500, 1)), A[:, :1] * 2.0, B])
    plain = CCA(n_components=3, modalities=widths).fit(X)
    extra = CCA(n_components=3, modalities=[10, 6]).fit(padded)
    np.testing.assert_allclose(extra.canonical_correlations_, plain.canonical_correlations_,
                               rtol=1e-8)
    np.testing.assert_allclose(np.abs(extra.transform(padded)), np.abs(plain.transform(X)),
                               rtol=1e-6, atol=1e-8)
