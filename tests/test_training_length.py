"""The adaptive training length of the Boltzmann estimators (``n_iter="auto"``): held-out
early stopping that keeps the best model, pretraining that stops on a plateau, the cap in
parameter updates, and integers that keep their meaning."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import skmultimodal._training as training
from skmultimodal import MinVIRBM, MultimodalDBM, MultimodalDBN, MultimodalRBM, SSLRBM
from skmultimodal.boltzmann import _base, _stack
from skmultimodal.datasets import load_digits_halves

JOINT = {
    "MultimodalRBM": lambda **kw: MultimodalRBM(8, modalities=[32, 32], **kw),
    "MinVIRBM": lambda **kw: MinVIRBM(8, modalities=[32, 32], **kw),
    "SSLRBM": lambda **kw: SSLRBM(8, modalities=[32, 32], **kw),
    "MultimodalDBM": lambda **kw: MultimodalDBM(8, pathways=(6,), modalities=[32, 32],
                                                n_iter_pretrain=1, **kw),
}


@pytest.fixture(scope="module")
def digits():
    return load_digits_halves(return_X_y=True)[0]


def _weights(est):
    return est.coefs_ if isinstance(est, MultimodalDBM) else [est.components_]


@pytest.mark.parametrize("name", JOINT)
def test_auto_keeps_the_model_of_the_best_held_out_score(name, digits, monkeypatch):
    """Scripted held-out scores peak at epoch 2 and never beat it again: the run stops
    after the patience and returns the model of epoch 2, the one ``n_iter=2`` fits (on 10
    rows nothing is held out, so both runs draw the same numbers)."""
    scores = iter([1.0, 5.0] + [2.0] * 50)
    monkeypatch.setattr(training, "AUTO_PATIENCE_UPDATES", 1)
    monkeypatch.setattr(_base, "cross_modal_log_likelihood",
                        lambda *args: np.full(args[1].shape[0], next(scores)))
    X = digits[:10]
    auto = JOINT[name](n_iter="auto", n_iter_no_change=3, batch_size=5,
                       random_state=0).fit(X)
    two = JOINT[name](n_iter=2, batch_size=5, random_state=0).fit(X)
    assert auto.n_iter_ == 5 and two.n_iter_ == 2
    assert auto.validation_scores_ == [1.0, 5.0, 2.0, 2.0, 2.0]
    assert auto.best_validation_score_ == 5.0
    assert two.validation_scores_ is None and two.best_validation_score_ is None
    for a, b in zip(_weights(auto), _weights(two)):
        np.testing.assert_array_equal(a, b)


def test_auto_stops_when_the_held_out_score_levels_off(digits, monkeypatch):
    """On real data the held-out score rises, then levels off and the run stops, well
    before the cap; 10% of the rows are held out."""
    monkeypatch.setattr(training, "AUTO_PATIENCE_UPDATES", 50)
    X = digits[:400]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        rbm = MultimodalRBM(16, modalities=[32, 32], visible_units="binary",
                            learning_rate=0.1, random_state=0).fit(X)
    n_batches = -(-360 // 32)
    assert 10 <= rbm.n_iter_ < training.AUTO_MAX_UPDATES // n_batches
    assert len(rbm.validation_scores_) == len(rbm.reconstruction_error_curve_) == rbm.n_iter_
    assert rbm.best_validation_score_ == max(rbm.validation_scores_)
    assert rbm.best_validation_score_ > rbm.validation_scores_[0] + 1.0  # it learned
    best = int(np.argmax(rbm.validation_scores_))
    patience = training.auto_patience(n_batches, rbm.n_iter_no_change)
    assert rbm.n_iter_ == best + 1 + patience


@pytest.mark.parametrize("name", JOINT)
def test_the_cap_in_updates_warns_with_what_to_do(name, digits, monkeypatch):
    monkeypatch.setattr(_base, "AUTO_MAX_UPDATES", 12)
    est = JOINT[name](batch_size=20, random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"updates \(12\) was reached.*pass an "
                                                r"integer n_iter \(epochs\)"):
        est.fit(digits[:100])
    assert est.n_iter_ == 3  # 5 updates per epoch over the 90 training rows


def test_an_integer_n_iter_keeps_its_meaning(digits):
    rbm = MultimodalRBM(8, modalities=[32, 32], n_iter=3, random_state=0).fit(digits[:100])
    assert rbm.n_iter_ == 3 and rbm.validation_scores_ is None
    rbm.set_params(warm_start=True, n_iter="auto", n_iter_no_change=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        rbm.fit(digits[:100])  # warm start: continues, now adaptively
    assert rbm.n_iter_ > 3 and len(rbm.validation_scores_) == rbm.n_iter_ - 3


def test_pretraining_stops_on_a_plateau_and_reports_each_rbms_epochs(digits, monkeypatch):
    monkeypatch.setattr(training, "AUTO_PATIENCE_UPDATES", 20)
    dbn = MultimodalDBN(8, pathways=(6,), modalities=[32, 32], visible_units="binary",
                        n_iter_no_change=2, random_state=0).fit(digits[:200])
    epochs = dbn.n_iter_per_rbm_
    assert set(epochs) == set(dbn.reconstruction_errors_)
    patience = training.auto_patience(-(-200 // 32), 2)
    assert all(patience < e < 20_000 // 7 for e in epochs.values())
    assert dbn.n_iter_ == max(epochs.values())
    assert len(set(epochs.values())) > 1  # each RBM stops on its own
    fixed = MultimodalDBN(8, pathways=(6,), modalities=[32, 32], n_iter=2,
                          random_state=0).fit(digits[:200])
    assert fixed.n_iter_per_rbm_ == dict.fromkeys(epochs, 2) and fixed.n_iter_ == 2


@pytest.mark.parametrize("make, parameter", [
    (lambda: MultimodalDBN(4, pathways=(3,), modalities=[32, 32]), "n_iter"),
    (lambda: MultimodalDBM(4, pathways=(3,), modalities=[32, 32], n_iter=1),
     "n_iter_pretrain"),
])
def test_the_pretraining_cap_names_its_parameter(make, parameter, digits, monkeypatch):
    monkeypatch.setattr(_stack, "AUTO_MAX_UPDATES", 8)
    with pytest.warns(ConvergenceWarning, match=rf"pass an integer {parameter} \(epochs\)"):
        make().set_params(batch_size=50, random_state=0).fit(digits[:100])
