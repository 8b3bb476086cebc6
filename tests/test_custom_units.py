"""A visible unit type defined here, outside the package, works everywhere a built-in one does.

``SpinUnits`` take the states {-1, +1}: energy ``U(v; c) = -c^T v``, conditional
``P(v = +1 | x) = sigmoid(2 x)`` for the total input ``x = W^T h + c``, mean ``tanh(x)``. Nothing
in the package knows them: the compiled loops call back into these methods. The checks are exact
(enumeration, finite differences), on MultimodalRBM, MinVIRBM, MultimodalDBM and AIS.
"""

import itertools
import pickle

import numpy as np
import pytest
from scipy.special import logsumexp

from skmultimodal import MinVIRBM, MultimodalDBM, MultimodalRBM
from skmultimodal._random import uniform
from skmultimodal.boltzmann import VisibleUnits
from skmultimodal.boltzmann._ais import ais_log_partition, base_rate_bias
from skmultimodal.boltzmann._minvi import mp_backward, mp_forward, mp_loss, zero_gradients

from _enumeration import binary_states
from test_minvi import _numerical_gradient


class SpinUnits(VisibleUnits):
    """Units with states -1 and +1 (an Ising layer)."""

    name = "spin"

    def check(self, low, high, modality):
        if low < -1 or high > 1:
            raise ValueError(f"Modality {modality!r} has spin units: values in [-1, 1].")

    def init_bias(self, column_mean):
        return np.arctanh(np.clip(column_mean, -0.999, 0.999))

    def mean(self, pre, bias, length, out):
        np.tanh(pre + bias, out=out)

    def sample(self, pre, bias, length, state, mean, out):
        m = np.tanh(pre + bias)
        if mean.shape[0]:
            mean[:] = m
        u = np.empty(m.size)
        uniform(state, u)
        out[:] = np.where(u.reshape(m.shape) < (1 + m) / 2, 1.0, -1.0)

    def mean_backward(self, mean, length, grad):
        return grad * (1 - mean * mean)

    def free_energy(self, v, bias):
        return -(v @ bias.astype(np.float64))

    def log_likelihood(self, v, mean, length, weights=None):
        p_up = np.clip((1 + mean.astype(np.float64)) / 2, 1e-15, 1 - 1e-15)
        terms = np.where(v > 0, np.log(p_up), np.log1p(-p_up))
        return (terms if weights is None else terms * weights).sum(axis=1)

    def log_partition(self, bias, length):
        return float(np.sum(np.logaddexp(bias, -bias)))

    def resample(self, v, state):
        u = np.empty(v.size)
        uniform(state, u)
        v[:] = np.where(u.reshape(v.shape) < (1 + v) / 2, 1.0, -1.0)


SPIN = SpinUnits()


def spin_states(width):
    return 2 * binary_states(width) - 1


def _all_states():
    """Every visible state of a spin modality of 3 units and a binary one of 3."""
    return np.array([np.concatenate([a, b]) for a in spin_states(3) for b in binary_states(3)])


def _data(n=300, seed=0):
    """Spins that agree with the binary half: v_spin = 2 b - 1 with 20% of them flipped."""
    rng = np.random.default_rng(seed)
    b = (rng.random((n, 3)) < 0.5).astype(float)
    spins = np.where(rng.random((n, 3)) < 0.8, 2 * b - 1, 1 - 2 * b)
    return np.hstack([spins, b])


def _rbm(**params):
    return MultimodalRBM(n_components=4, modalities=[3, 3], visible_units=[SPIN, "binary"],
                         random_state=0, **params)


def test_rbm_free_energy_and_ais_match_enumeration():
    est = _rbm(n_iter=5, learning_rate=0.1).fit(_data())
    V = _all_states()
    H = binary_states(4)
    W, b, c = est.components_, est.intercept_hidden_, est.intercept_visible_
    neg_energy = V @ W.T @ H.T + (H @ b)[None, :] + (V @ c)[:, None]
    np.testing.assert_allclose(est.free_energy(V), -logsumexp(neg_energy, axis=1),
                               rtol=1e-10, atol=1e-10)
    model = est._model()
    exact = logsumexp(-est.free_energy(V))
    result = ais_log_partition(model, base_rate_bias(model, _data()), betas=2000,
                               n_runs=100, random_state=0)
    assert abs(result.log_z - exact) < 0.05
    assert result.log_z_low <= exact <= result.log_z_high


def test_rbm_trains_infers_and_samples_spins():
    X = _data()
    untrained = _rbm(n_iter=1, learning_rate=1e-8).fit(X)
    est = _rbm(n_iter=60, learning_rate=0.3, method="pcd", n_chains=50).fit(X)
    V = _all_states()

    def log_likelihood(e):
        log_p = -e.free_energy(V) - logsumexp(-e.free_energy(V))
        index = {tuple(v): i for i, v in enumerate(V)}
        return np.mean(log_p[[index[tuple(x)] for x in X]])

    # independent units: -6 log 2 = -4.16; the data's own entropy: -3.58; measured -3.85
    assert log_likelihood(est) > log_likelihood(untrained) + 0.2
    X_spin_missing = X[:40].copy()
    X_spin_missing[:, :3] = np.nan
    imputed = est.impute(X_spin_missing)
    assert np.all(np.abs(imputed[:, :3]) <= 1)
    # the spins follow the binary half they agree with
    agree = np.mean(np.sign(imputed[:, :3]) == 2 * X[:40, 3:] - 1)
    assert agree > 0.7, agree
    drawn = est.sample(X_spin_missing, n_steps=5, random_state=0)
    assert set(np.unique(drawn[:, :3])) <= {-1.0, 1.0}
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(X_spin_missing),
                                  est.transform(X_spin_missing))
    with pytest.raises(ValueError, match="spin units"):
        est.transform(X * 3)


def test_minvi_gradient_and_fit_with_spins():
    est = MinVIRBM(n_components=4, modalities=[3, 3], visible_units=[SPIN, "binary"],
                   n_iter=60, n_mean_field=2, learning_rate=0.3, random_state=0).fit(_data())
    model = est._model()
    v = _data(8, seed=1)
    for target in (0, 1):
        for n_steps in (0, 2):
            def loss():
                return mp_loss(model, mp_forward(model, v, target, None, n_steps))

            grads = mp_backward(model, mp_forward(model, v, target, None, n_steps),
                                zero_gradients(model))
            for got, want in zip(grads, _numerical_gradient(model, loss)):
                np.testing.assert_allclose(-got, want, rtol=1e-5, atol=1e-7)
    X_binary_missing = _data(40, seed=2)
    truth = X_binary_missing[:, 3:].copy()
    X_binary_missing[:, 3:] = np.nan
    predicted = est.impute(X_binary_missing)[:, 3:] > 0.5
    assert np.mean(predicted == truth) > 0.7


def test_dbm_with_spins_matches_enumeration_and_trains():
    """A DBM with a spin pathway: its AIS log Z against the sum over all 2^12 states, and
    pretraining plus joint training through the compiled loops."""
    X = _data()
    dbm = MultimodalDBM(2, pathways=(2,), modalities=[3, 3], visible_units=[SPIN, "binary"],
                        n_iter_pretrain=3, n_iter=3, n_chains=20, learning_rate=0.02,
                        random_state=0).fit(X)
    assert all(np.isfinite(w).all() for w in dbm.coefs_)
    X_missing = X[:30].copy()
    X_missing[:, :3] = np.nan
    assert np.all(np.abs(dbm.impute(X_missing)[:, :3]) <= 1)
    assert np.isfinite(dbm.transform(X_missing)).all()

    V = _all_states()
    W0, W1, T0, T1 = dbm.coefs_
    b0, b1, bt = dbm.intercepts_hidden_
    c = dbm.intercept_visible_
    log_terms = []
    for h0, h1, top in itertools.product(binary_states(2), binary_states(2), binary_states(2)):
        log_terms.append(V[:, :3] @ W0.T @ h0 + V[:, 3:] @ W1.T @ h1 + h0 @ T0.T @ top
                         + h1 @ T1.T @ top + b0 @ h0 + b1 @ h1 + bt @ top + V @ c)
    log_z = logsumexp(np.array(log_terms))
    result = dbm.log_partition(X, n_betas=3000, n_runs=100, random_state=0)
    assert abs(result.log_z - log_z) < 0.05
    assert result.log_z_low <= log_z <= result.log_z_high
