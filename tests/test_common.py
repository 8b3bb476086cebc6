"""scikit-learn's estimator checks over every public estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skmultimodal import ModalityImputer, MultimodalRBM


def _estimators():
    return [
        MultimodalRBM(n_components=8, n_iter=3, random_state=0),
        MultimodalRBM(n_components=8, n_iter=2, method="pcd", n_chains=7, k=2, random_state=0),
        ModalityImputer(MultimodalRBM(n_components=8, n_iter=3, random_state=0)),
    ]


@parametrize_with_checks(_estimators())
def test_sklearn_compatible(estimator, check):
    check(estimator)
