"""MultimodalRBM against exact answers on models small enough to enumerate."""

import numpy as np
import pytest
from scipy.special import expit, logsumexp

from skmultimodal import MultimodalRBM
from skmultimodal._random import new_state

from _enumeration import binary_states, enumerate_visible


def _tiny(units, widths, data, n_hidden=3, seed=0, **params):
    """A fitted estimator whose parameters are then replaced by random ones."""
    rng = np.random.default_rng(seed)
    est = MultimodalRBM(n_hidden, modalities=list(widths), visible_units=list(units),
                        n_iter=1, random_state=seed, **params).fit(data)
    n_features = sum(widths)
    est.components_ = rng.normal(0, 0.8, (n_hidden, n_features))
    est.intercept_hidden_ = rng.normal(0, 0.5, n_hidden)
    est.intercept_visible_ = rng.normal(0, 0.5, n_features)
    length_bias = np.zeros((len(widths), n_hidden))
    for m, u in enumerate(units):
        if u == "replicated_softmax":
            length_bias[m] = rng.normal(0, 0.3, n_hidden)
    est.hidden_length_bias_ = length_bias
    return est


def _energy(est, v, h):
    """E(v, h) written out directly (binary and Replicated Softmax visible units)."""
    W, b, c, A = (est.components_, est.intercept_hidden_, est.intercept_visible_,
                  est.hidden_length_bias_)
    L = np.zeros(len(est.modalities_))
    for m, ((_, cols), u) in enumerate(zip(est.modalities_, est.visible_units_)):
        if u == "replicated_softmax":
            L[m] = v[cols].sum()
    return -(v @ W.T @ h) - b @ h - c @ v - (L @ A) @ h


MIXED = (("binary", "replicated_softmax"), (4, 3))
BINARY = (("binary", "binary"), (4, 3))


@pytest.mark.parametrize("units, widths", [BINARY, MIXED])
def test_free_energy_matches_enumeration_over_hidden_states(units, widths):
    V, _ = enumerate_visible(units, widths)
    est = _tiny(units, widths, V)
    H = binary_states(est.n_components)
    brute = np.array([-logsumexp([-_energy(est, v, h) for h in H]) for v in V])
    np.testing.assert_allclose(est.free_energy(V), brute, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("units, widths", [BINARY, MIXED])
def test_exact_log_partition_function(units, widths):
    """log Z by double enumeration equals log Z through the free energy."""
    V, log_measure = enumerate_visible(units, widths)
    est = _tiny(units, widths, V)
    H = binary_states(est.n_components)
    joint = logsumexp([lm - _energy(est, v, h) for v, lm in zip(V, log_measure) for h in H])
    through_free_energy = logsumexp(log_measure - est.free_energy(V))
    assert joint == pytest.approx(through_free_energy, rel=1e-12)


def _exact(est, V, log_measure):
    """Model distribution over V, P(h=1|v) for each state, and the lengths matrix."""
    log_p = log_measure - est.free_energy(V)
    p = np.exp(log_p - logsumexp(log_p))
    L = np.zeros((len(V), len(est.modalities_)))
    for m, ((_, cols), u) in enumerate(zip(est.modalities_, est.visible_units_)):
        if u == "replicated_softmax":
            L[:, m] = V[:, cols].sum(axis=1)
    H = expit(V @ est.components_.T + est.intercept_hidden_ + L @ est.hidden_length_bias_)
    return p, H, L


def _mean_log_likelihood(est, data, V, log_measure):
    log_z = logsumexp(log_measure - est.free_energy(V))
    data_measure = np.array([log_measure[np.flatnonzero((V == d).all(axis=1))[0]]
                             for d in data])
    return np.mean(data_measure - est.free_energy(data)) - log_z


@pytest.mark.parametrize("units, widths", [BINARY, MIXED])
def test_likelihood_gradient_matches_finite_differences(units, widths):
    V, log_measure = enumerate_visible(units, widths)
    rng = np.random.default_rng(1)
    data = V[rng.choice(len(V), 12)]
    est = _tiny(units, widths, V)
    p, H, L = _exact(est, V, log_measure)
    _, H_data, L_data = _exact(est, data, np.zeros(len(data)))
    analytic = {
        "components_": H_data.T @ data / len(data) - (H * p[:, None]).T @ V,
        "intercept_hidden_": H_data.mean(axis=0) - p @ H,
        "intercept_visible_": data.mean(axis=0) - p @ V,
        "hidden_length_bias_": L_data.T @ H_data / len(data) - (L * p[:, None]).T @ H,
    }
    eps = 1e-6
    for name, grad in analytic.items():
        param = getattr(est, name)
        for index in np.ndindex(param.shape):
            if name == "hidden_length_bias_" and units[index[0]] != "replicated_softmax":
                continue
            saved = param[index]
            param[index] = saved + eps
            up = _mean_log_likelihood(est, data, V, log_measure)
            param[index] = saved - eps
            down = _mean_log_likelihood(est, data, V, log_measure)
            param[index] = saved
            assert (up - down) / (2 * eps) == pytest.approx(grad[index], abs=1e-7), (name, index)


@pytest.mark.parametrize("units, widths", [BINARY, MIXED])
def test_persistent_chain_statistics_match_exact_expectations(units, widths):
    """A PCD update's gradient is the exact likelihood gradient, up to Monte Carlo error.

    With a negligible learning rate the model stays fixed, and with no momentum or decay the
    velocity of an update is learning_rate * (<h v^T>_data - <h v^T>_chains). Averaged over
    updates after burn-in, 4000 persistent chains estimate E_model[h v^T] (CD-infinity); the
    data term is exact.
    """
    V, log_measure = enumerate_visible(units, widths)
    rng = np.random.default_rng(2)
    data = V[rng.choice(len(V), 10)]
    est = _tiny(units, widths, V, method="pcd", momentum=0.0, weight_decay=0.0,
                learning_rate=1e-12, batch_size=10)
    n_chains = 4000
    est.set_params(n_chains=n_chains)
    p, H, L = _exact(est, V, log_measure)
    _, H_data, _ = _exact(est, data, np.zeros(len(data)))

    model = est._model().copy()
    missing = np.zeros((len(V), len(widths)), dtype=bool)
    optimizer = est._new_optimizer(model, V, missing, est._rng)
    state = new_state(np.random.default_rng(3))
    gradient = np.zeros_like(est.components_)
    n_burn, n_avg = 20, 60
    for it in range(n_burn + n_avg):
        optimizer.step(data.copy(), missing[:10], state, est.learning_rate)
        velocity = np.hstack(optimizer.velocity[:len(widths)])
        if it >= n_burn:
            gradient += velocity / est.learning_rate / n_avg
        if it == 0:
            x, _ = optimizer.negative_states()
            negative = x[-1].T @ np.hstack(x[:-1]) / n_chains
            np.testing.assert_allclose(velocity / est.learning_rate + negative,
                                       H_data.T @ data / len(data), rtol=1e-6, atol=1e-9)
    exact = H_data.T @ data / len(data) - (H * p[:, None]).T @ V
    np.testing.assert_allclose(gradient, exact, atol=0.02)


def test_gaussian_chain_statistics_match_exact_expectations():
    """Gaussian-binary RBM: E[v h^T] by enumerating h, p(h) ~ exp(b.h + |c + W^T h|^2 / 2)."""
    rng = np.random.default_rng(4)
    data = rng.normal(size=(30, 3))
    est = _tiny(("gaussian", "gaussian"), (2, 1), data, n_hidden=2, method="pcd",
                momentum=0.0, weight_decay=0.0, learning_rate=1e-12, batch_size=30)
    est.set_params(n_chains=4000)
    W, b, c = est.components_, est.intercept_hidden_, est.intercept_visible_
    H = binary_states(2)
    log_ph = H @ b + 0.5 * ((c + H @ W) ** 2).sum(axis=1)
    ph = np.exp(log_ph - logsumexp(log_ph))
    exact = sum(p * np.outer(h, c + h @ W) for p, h in zip(ph, H))

    model = est._model().copy()
    missing = np.zeros((30, 2), dtype=bool)
    optimizer = est._new_optimizer(model, data, missing, est._rng)
    state = new_state(np.random.default_rng(5))
    negative = np.zeros_like(W)
    positive = est.transform(data).T @ data / len(data)
    for it in range(80):
        optimizer.step(data.copy(), missing, state, est.learning_rate)
        if it >= 20:
            velocity = np.hstack(optimizer.velocity[:2])
            negative += (positive - velocity / est.learning_rate) / 60
    np.testing.assert_allclose(negative, exact, atol=0.03)


@pytest.mark.parametrize("units, widths", [BINARY, MIXED])
def test_mean_field_is_a_fixed_point_and_impute_is_its_expectation(units, widths):
    V, _ = enumerate_visible(units, widths)
    est = _tiny(units, widths, V, n_mean_field=500, mean_field_tol=1e-12)
    X = V[::3].copy()
    X[:, 4:] = np.nan  # the second modality is missing
    h = est.transform(X)
    filled = est.impute(X)
    W, b, c, A = (est.components_, est.intercept_hidden_, est.intercept_visible_,
                  est.hidden_length_bias_)
    L = np.zeros((len(X), 2))
    if units[1] == "replicated_softmax":
        L[:, 1] = est.mean_length_[1]
    np.testing.assert_allclose(h, expit(filled @ W.T + b + L @ A), atol=1e-9)
    pre = h @ W[:, 4:] + c[4:]
    if units[1] == "binary":
        expected = expit(pre)
    else:
        expected = est.mean_length_[1] * np.exp(pre - logsumexp(pre, axis=1, keepdims=True))
    np.testing.assert_allclose(filled[:, 4:], expected, atol=1e-9)
    np.testing.assert_array_equal(filled[:, :4], X[:, :4])


def test_transform_of_complete_rows_is_the_exact_posterior():
    V, _ = enumerate_visible(*BINARY)
    est = _tiny(*BINARY, V)
    np.testing.assert_allclose(
        est.transform(V), expit(V @ est.components_.T + est.intercept_hidden_), rtol=1e-12
    )
