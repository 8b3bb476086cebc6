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
    maxvar = _maxvar_coefficients(diagonal, lambda m, o: T, 3)
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
        (lambda X: (CCA(n_components=7, modalities=[8, 6]), X),
         "exceeds the width 6 of view 'm1'"),
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


# --- the fitted attributes users rely on (sign convention, correlations, fit(X, Y)) ---------


def _coordinated(name):
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from skmultimodal import KCCA, DeepCCA

    estimator = {
        "cca": CCA(n_components=2),
        "kcca": KCCA(n_components=2, kernel_params={"gamma": 0.5}, reg=1e-2),
        "nystroem": KCCA(n_components=2, kernel_params={"gamma": 0.5}, reg=1e-2,
                         approximation="nystroem", n_approx_components=60, random_state=0),
        "deepcca": DeepCCA(n_components=2, hidden_layer_sizes=(8,), max_iter=30,
                           random_state=0),
    }[name]
    warnings.simplefilter("ignore", ConvergenceWarning)
    return estimator


_NAMES = ["cca", "kcca", "nystroem", "deepcca"]


@pytest.mark.parametrize("name", _NAMES)
def test_signs_do_not_depend_on_the_input_layout(name):
    """C order, Fortran order, a DataFrame and float32 give the same embedding, signs too."""
    pd = pytest.importorskip("pandas")
    from skmultimodal.datasets import make_nonlinear_views

    X = make_nonlinear_views(300, random_state=0)[0]
    layouts = [np.ascontiguousarray(X), np.asfortranarray(X),
               pd.DataFrame(X, columns=[f"c{i}" for i in range(6)]), X.astype(np.float32)]
    reference = _coordinated(name).fit(X).transform(X)
    for layout, tolerance in zip(layouts, (1e-12, 1e-12, 1e-12, 1e-3)):
        Z = _coordinated(name).fit(layout).transform(np.asarray(layout))
        np.testing.assert_allclose(Z, reference, atol=tolerance * np.abs(reference).max())


def test_sign_convention_largest_weight_of_the_first_view_is_positive():
    X, widths = _planted(n=500)
    for reg in (0.0, 1.0):
        W = CCA(n_components=3, modalities=widths, reg=reg).fit(X).weights_[0]
        assert np.all(W[np.argmax(np.abs(W), axis=0), range(3)] > 0)
        flipped = CCA(n_components=3, modalities=widths, reg=reg).fit(-X).weights_[0]
        np.testing.assert_allclose(flipped, W, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("reg", [0.0, 1.0, "ledoit_wolf"])
@pytest.mark.parametrize("widths", [(8, 6), (4, 5, 6)])
def test_canonical_correlations_are_the_variates_correlations(reg, widths):
    rng = np.random.default_rng(0)
    z = rng.standard_normal((400, 3))
    X = np.hstack([z @ rng.normal(size=(3, w)) + rng.standard_normal((400, w))
                   for w in widths])
    X[:30, : widths[0]] = np.nan  # rows with a missing view are not training pairs
    cca = CCA(n_components=3, modalities=list(widths), reg=reg).fit(X)
    variates = [Z[30:] for Z in cca.transform_views(X)]
    pairs = [np.array([np.corrcoef(a[:, j], b[:, j])[0, 1] for j in range(3)])
             for i, a in enumerate(variates) for b in variates[i + 1:]]
    np.testing.assert_allclose(cca.canonical_correlations_, np.mean(pairs, axis=0), atol=1e-6)
    assert cca.score(X) == pytest.approx(np.mean(cca.canonical_correlations_), abs=1e-6)


@pytest.mark.parametrize("name", ["kcca", "nystroem", "deepcca"])
def test_feature_cca_correlations_are_the_variates_correlations(name):
    from skmultimodal.datasets import make_nonlinear_views

    X = make_nonlinear_views(300, random_state=0)[0]
    estimator = _coordinated(name).fit(X)
    Z1, Z2 = estimator.transform_views(X)
    empirical = [np.corrcoef(Z1[:, j], Z2[:, j])[0, 1] for j in range(2)]
    np.testing.assert_allclose(estimator.canonical_correlations_, empirical, atol=1e-6)
    assert estimator.score(X) == pytest.approx(np.mean(empirical), abs=1e-6)


@pytest.mark.parametrize("name", _NAMES)
def test_before_fit_every_method_raises_not_fitted(name):
    from sklearn.exceptions import NotFittedError

    X, _ = _planted(n=20, d=(3, 3))
    estimator = _coordinated(name)
    for method in (estimator.transform, estimator.transform_views, estimator.score):
        with pytest.raises(NotFittedError):
            method(X)


@pytest.mark.parametrize("name", _NAMES)
def test_transform_honours_set_output(name):
    pd = pytest.importorskip("pandas")
    from skmultimodal.datasets import make_nonlinear_views

    X = make_nonlinear_views(200, random_state=0)[0]
    estimator = _coordinated(name).set_output(transform="pandas").fit(X)
    out = estimator.transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(estimator.get_feature_names_out())
    np.testing.assert_allclose(out.to_numpy(), estimator.fit_transform(X).to_numpy())


@pytest.mark.parametrize("name", ["cca", "kcca", "nystroem"])
def test_a_second_view_as_y_is_refused(name):
    pd = pytest.importorskip("pandas")
    from sklearn.base import clone

    from skmultimodal import stack_modalities

    X, _ = _planted(n=100, d=(3, 3))
    left, right = X[:, :3], X[:, 3:]
    estimator = _coordinated(name)
    for Y in (right, right.tolist(), pd.DataFrame(right), right[:, :1]):
        with pytest.raises(ValueError, match=r"stack_modalities\(\[X, Y\]\)"):
            clone(estimator).fit(left, Y)
    # the fix the message gives works, and a 1-D y (labels in a Pipeline) is ignored
    stacked, modalities = stack_modalities([left, right])
    fitted = clone(estimator).set_params(modalities=modalities).fit(stacked)
    labelled = clone(estimator).set_params(modalities=modalities).fit(
        stacked, (X[:, 0] > 0).astype(int))
    np.testing.assert_allclose(fitted.transform(stacked), labelled.transform(stacked))


def test_reject_second_view_is_one_shared_helper():
    from skmultimodal._modalities import reject_second_view

    X = np.zeros((5, 4))
    reject_second_view(None, X, CCA())
    reject_second_view(np.zeros(5), X, CCA())
    reject_second_view(np.zeros((4, 2)), X, CCA())  # not paired with X's rows: not a view
    reject_second_view(["a", "b", "c", "d", "e"], X, CCA())
    with pytest.raises(ValueError, match=r"CCA.fit got a 2-D y with 5 rows"):
        reject_second_view(np.zeros((5, 2)), X, CCA())


def test_ledoit_wolf_ridge_from_statistics_matches_scikit_learn():
    from sklearn.covariance import ledoit_wolf_shrinkage

    from skmultimodal.cross_decomposition._views import _Moments, ledoit_wolf_ridge

    rng = np.random.default_rng(0)
    for n, d in ((200, 7), (9, 7), (40, 1)):
        A = rng.normal(size=(n, d)) * np.arange(1, d + 1) + 3.0
        centred = A - A.mean(axis=0)
        alpha = ledoit_wolf_shrinkage(centred, assume_centered=True)
        expected = alpha * np.sum(centred**2) / (n * d) / (1 - alpha)
        half = n // 2
        moments = _Moments.of_rows(A[:half].copy(), [d]).merge(
            _Moments.of_rows(A[half:].copy(), [d]))
        bases, _, norm4 = moments.view_bases()
        assert ledoit_wolf_ridge(n, d, bases[0][0], norm4[0]) == pytest.approx(expected,
                                                                               rel=1e-10)


@pytest.mark.parametrize("dataset", ["scaled", "constant_column"])
def test_scale_and_stability(dataset):
    """Ported from scikit-learn's test_pls.py::test_scale_and_stability: unregularised CCA
    is affine invariant, so standardising the columns changes neither the correlations nor
    the variates (up to sign)."""
    if dataset == "scaled":  # scikit-learn issue 7818: large scale and offset
        rng = np.random.RandomState(0)
        Y = rng.randn(1000, 5)
        X = (Y @ rng.randn(5, 10) + 2 * rng.randn(1000, 10) + 1) * 1000
    else:  # a constant column
        X, Y = load_linnerud(return_X_y=True)
        X = X.astype(float)
        X[:, -1] = 1.0
    data = np.hstack([X, Y])
    std = data.std(axis=0)
    scaled = (data - data.mean(axis=0)) / np.where(std > 0, std, 1.0)
    widths = [X.shape[1], Y.shape[1]]
    k = min(np.linalg.matrix_rank(X - X.mean(0)), Y.shape[1])
    raw = CCA(n_components=k, modalities=widths).fit(data)
    standard = CCA(n_components=k, modalities=widths).fit(scaled)
    np.testing.assert_allclose(raw.canonical_correlations_, standard.canonical_correlations_,
                               rtol=1e-8)
    for Z_raw, Z_std in zip(raw.transform_views(data), standard.transform_views(scaled)):
        np.testing.assert_allclose(np.abs(Z_raw), np.abs(Z_std), atol=1e-6)


def test_maxvar_shared_space_may_be_wider_than_a_view():
    """Against an independent MAXVAR: the top eigenvectors G of the sum of the views'
    projection matrices (Kettenring 1971); each view's variates are its projections of G."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal((500, 6))
    views = [z[:, :2] @ rng.normal(size=(2, 2)) + 0.3 * rng.standard_normal((500, 2)),
             z[:, 1:4] @ rng.normal(size=(3, 5)) + 0.3 * rng.standard_normal((500, 5)),
             z[:, 2:] @ rng.normal(size=(4, 6)) + 0.3 * rng.standard_normal((500, 6))]
    X = np.hstack(views)
    cca = CCA(n_components=5, modalities=[2, 5, 6]).fit(X)  # the first view has 2 columns
    centred = [v - v.mean(axis=0) for v in views]
    projections = [c @ np.linalg.pinv(c.T @ c) @ c.T for c in centred]
    G = np.linalg.eigh(sum(projections))[1][:, ::-1][:, :5]
    for P, Z in zip(projections, cca.transform_views(X)):
        for j in range(5):
            assert abs(np.corrcoef(P @ G[:, j], Z[:, j])[0, 1]) > 1 - 1e-9
    # and the components a view's width allows agree with cca-zoo's GCCA
    zoo = pytest.importorskip("cca_zoo.linear")
    peer = zoo.GCCA(n_components=2).fit(views).transform(views)
    ours = CCA(n_components=2, modalities=[2, 5, 6]).fit(X).transform_views(X)
    for Z_ours, Z_peer in zip(ours, peer):
        for j in range(2):
            assert abs(np.corrcoef(Z_ours[:, j], Z_peer[:, j])[0, 1]) > 1 - 1e-9
    with pytest.raises(ValueError, match="exceeds the 13 columns"):
        CCA(n_components=14, modalities=[2, 5, 6]).fit(X)
    with pytest.raises(ValueError, match="exceeds the rank 9 of the views' whitened data"):
        CCA(n_components=10, modalities=[2, 5, 6]).fit(X[:10])
