"""Training that goes wrong says so, and the habits users bring from scikit-learn are caught."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from skmultimodal import (
    CCA,
    KCCA,
    SSLRBM,
    DeepCCA,
    MDRNN,
    LargeMarginEmbedding,
    MinVIRBM,
    ModalityImputer,
    MultimodalAutoencoder,
    MultimodalDBM,
    MultimodalDBN,
    MultimodalRBM,
    RankingEmbedding,
    UnifiedSemanticEmbedding,
)
from skmultimodal.datasets import load_digits_halves

SMALL = {"n_components": 4}
UNSUPERVISED = [
    MultimodalRBM(n_iter=1, **SMALL), MinVIRBM(n_iter=1, **SMALL), SSLRBM(n_iter=1, **SMALL),
    MultimodalDBM(pathways=(4,), n_iter=1, n_iter_pretrain=1, **SMALL),
    MultimodalDBN(pathways=(4,), n_iter=1, **SMALL), CCA(n_components=1),
    MDRNN(pathways=(4,), n_iter_pretrain=1, max_iter=1, **SMALL),
    KCCA(n_components=1), DeepCCA(n_components=1, hidden_layer_sizes=(4,), max_iter=2),
    RankingEmbedding(n_components=2, max_iter=2), ModalityImputer(MultimodalRBM(n_iter=1)),
    MultimodalAutoencoder(n_components=2, hidden_layer_sizes=(4,), max_iter=2),
]
ALL = UNSUPERVISED + [LargeMarginEmbedding(n_components=2), UnifiedSemanticEmbedding(2)]


def _name(est):
    return type(est).__name__


@pytest.mark.parametrize("estimator", UNSUPERVISED, ids=_name)
def test_a_second_view_passed_as_y_is_refused(estimator):
    """scikit-learn's CCA takes the second view as Y; ours take every view in X, so a 2-D y
    with as many rows would be silently ignored: it is an error that says what to do."""
    rng = np.random.default_rng(0)
    X, Y = rng.random((40, 6)), rng.random((40, 4))
    with pytest.raises(ValueError, match=r"stack_modalities\(\[X, Y\]\)"):
        estimator.fit(X, Y)
    if hasattr(estimator, "partial_fit") and not isinstance(estimator, (KCCA, CCA)):
        with pytest.raises(ValueError, match="stack_modalities"):
            estimator.partial_fit(X, Y)


@pytest.mark.parametrize("estimator", ALL, ids=_name)
def test_feature_names_out_before_fit_is_not_fitted(estimator):
    with pytest.raises(NotFittedError):
        estimator.get_feature_names_out()


def test_visible_units_auto_follow_the_values():
    X, _ = load_digits_halves(return_X_y=True)
    rng = np.random.default_rng(0)
    mixed = np.hstack([X[:, :32], rng.normal(size=(len(X), 5))])
    rbm = MultimodalRBM(n_components=4, modalities=[32, 5], n_iter=1, random_state=0)
    assert rbm.fit(mixed).visible_units_ == ["binary", "gaussian"]
    dbm = MultimodalDBM(4, pathways=(4,), n_iter=1, n_iter_pretrain=1, random_state=0)
    assert dbm.fit(X).visible_units_ == ["binary", "binary"]


@pytest.mark.parametrize("estimator", [
    MultimodalRBM(visible_units="gaussian", n_iter=1, **SMALL),
    MinVIRBM(visible_units="gaussian", n_iter=1, **SMALL),
    MultimodalDBN(visible_units="gaussian", pathways=(4,), n_iter=1, **SMALL),
    MultimodalDBM(visible_units="gaussian", pathways=(4,), n_iter=1, n_iter_pretrain=1,
                  **SMALL),
], ids=_name)
def test_gaussian_units_on_unscaled_features_warn_once(estimator):
    """Raw digit pixels (0-16) as Gaussian units: one warning naming the modalities and what
    to do; standardised features: none."""
    from sklearn.preprocessing import StandardScaler

    raw = load_digits().data
    with pytest.warns(UserWarning, match="StandardScaler") as record:
        estimator.fit(raw)
    scale_warnings = [w for w in record if "standardised" in str(w.message)]
    assert len(scale_warnings) == 1
    assert "'m0'" in str(scale_warnings[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        estimator.fit(StandardScaler().fit_transform(raw))


def test_collapsed_deep_belief_net_warns():
    """learning_rate=1e4: every output unit constant (before: no warning)."""
    X, _ = load_digits_halves(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match="learning_rate=10000.0"):
        MultimodalDBN(16, pathways=(16,), learning_rate=1e4, n_iter=3, random_state=0).fit(X)


@pytest.mark.parametrize("estimator", [
    MultimodalRBM(visible_units="gaussian", n_components=4, n_iter=3, learning_rate=1e4,
                  random_state=0),
    MinVIRBM(visible_units="gaussian", n_components=4, n_iter=3, learning_rate=1e4,
             random_state=0),
    SSLRBM(visible_units="gaussian", n_components=4, n_iter=3, learning_rate=1e4,
           random_state=0),
    ModalityImputer(MultimodalRBM(visible_units="gaussian", n_components=4, n_iter=3,
                                  learning_rate=1e4, random_state=0)),
], ids=_name)
def test_a_blow_up_raises_before_values_reach_infinity(estimator):
    """Reported cases: weights of 7e25, reconstruction errors of 1e52 and imputed values of
    1e40 came back without a word. Now the first epoch's growth raises, naming the step."""
    X = np.random.default_rng(0).normal(size=(200, 6))
    with pytest.raises(FloatingPointError, match="Lower learning_rate"):
        estimator.fit(X)


def test_unscaled_gaussian_blow_up_names_the_scale():
    X = np.random.default_rng(0).normal(size=(200, 10)) * 1e3
    rbm = MultimodalRBM(visible_units="gaussian", learning_rate=1e6, modalities=[6, 4],
                        n_iter=5, random_state=0)
    with pytest.warns(UserWarning, match="standardised"):
        with pytest.raises(FloatingPointError, match="Likely cause.*StandardScaler"):
            rbm.fit(X)


def test_a_binary_rbm_driven_off_warns_and_a_failed_partial_fit_changes_nothing():
    """Binary units at learning_rate=1e4 switch every hidden unit off (no blow-up):
    ConvergenceWarning. A partial_fit that raises leaves the estimator, its random generator
    included, as it was: its next call gives what a twin's gives."""
    X, _ = load_digits_halves(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match="learning_rate=10000.0"):
        MultimodalRBM(n_components=4, n_iter=3, learning_rate=1e4, random_state=0).fit(X)
    G = np.random.default_rng(0).normal(size=(200, 6))
    a = MultimodalRBM(visible_units="gaussian", n_components=4, learning_rate=0.01,
                      random_state=0).partial_fit(G)
    b = MultimodalRBM(visible_units="gaussian", n_components=4, learning_rate=0.01,
                      random_state=0).partial_fit(G)
    with pytest.raises(FloatingPointError):
        a.set_params(learning_rate=1e4).partial_fit(G)
    a.set_params(learning_rate=0.01).partial_fit(G)
    b.partial_fit(G)
    np.testing.assert_array_equal(a.components_, b.components_)
    assert a.reconstruction_error_curve_ == b.reconstruction_error_curve_
