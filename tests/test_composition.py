"""MultimodalRBM and ModalityImputer inside scikit-learn's machinery."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline

from skmultimodal import ModalityImputer, MultimodalRBM
from skmultimodal.datasets import load_digits_halves


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits_halves(return_X_y=True)
    return X[:600], y[:600]


def _rbm(**params):
    return MultimodalRBM(**{"n_components": 32, "visible_units": "binary", "n_iter": 3,
                            "learning_rate": 0.1, "random_state": 0, **params})


def test_pipeline_imputer_then_classifier(digits):
    X, y = digits
    X_missing = X.copy()
    X_missing[::2, 32:] = np.nan
    model = make_pipeline(ModalityImputer(_rbm()), LogisticRegression(max_iter=1000))
    scores = cross_val_score(model, X_missing, y, cv=3)
    assert scores.mean() > 0.5
    filled = ModalityImputer(_rbm()).fit(X).transform(X_missing)
    assert not np.isnan(filled).any()
    np.testing.assert_array_equal(filled[1::2], X_missing[1::2])


def test_grid_search_over_n_components_and_learning_rate_in_parallel(digits):
    X, _ = digits
    search = GridSearchCV(_rbm(), {"n_components": [8, 32], "learning_rate": [0.01, 0.1]},
                          cv=2, n_jobs=2).fit(X)
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all() and len(scores) == 4
    assert search.best_score_ == scores.max()
    assert search.best_estimator_.n_iter_ == 3


def test_set_output_pandas_and_dataframe_modalities(digits):
    pd = pytest.importorskip("pandas")
    X, _ = digits
    columns = [f"px{i}" for i in range(64)]
    df = pd.DataFrame(X, columns=columns)
    spec = [("left", columns[:32]), ("right", columns[32:])]
    rbm = _rbm(modalities=spec).set_output(transform="pandas").fit(df)
    out = rbm.transform(df)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns[:2]) == ["multimodalrbm0", "multimodalrbm1"]
    np.testing.assert_allclose(out.to_numpy(), _rbm().fit(X).transform(X))
    df_missing = df.copy()
    df_missing.loc[:5, columns[32:]] = np.nan
    assert np.isfinite(rbm.transform(df_missing).to_numpy()).all()
    imputer = ModalityImputer(_rbm(modalities=spec)).set_output(transform="pandas").fit(df)
    assert list(imputer.transform(df_missing).columns) == columns
    with pytest.raises(ValueError, match="feature names"):
        rbm.transform(df[columns[::-1]])


def test_grid_search_on_a_dask_cluster(digits):
    distributed = pytest.importorskip("distributed")
    import joblib

    X, _ = digits
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        with joblib.parallel_backend("dask"):
            search = GridSearchCV(_rbm(), {"n_components": [8, 16]}, cv=2).fit(X)
    local = GridSearchCV(_rbm(), {"n_components": [8, 16]}, cv=2).fit(X)
    np.testing.assert_allclose(search.cv_results_["mean_test_score"],
                               local.cv_results_["mean_test_score"])
