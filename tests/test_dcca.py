"""DeepCCA: analytic gradients against finite differences, nonlinear recovery, interface."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skmultimodal import CCA, DeepCCA
from skmultimodal.cross_decomposition._dcca import correlation_objective
from skmultimodal.datasets import make_nonlinear_views
from test_training import assert_same_state


def _nonlinear(n, seed=0):
    return make_nonlinear_views(n, random_state=seed)[0]


@pytest.mark.parametrize("objective", ["trace", "frobenius"])
def test_correlation_gradient_matches_finite_differences(objective):
    rng = np.random.default_rng(0)
    H1 = rng.normal(size=(15, 3))
    H2 = rng.normal(size=(15, 3)) + 0.5 * H1
    value, g1, g2 = correlation_objective(H1, H2, 1e-2, objective)
    d = np.linalg.svd(np.linalg.inv(np.linalg.cholesky(
        np.cov(H1.T) + 1e-2 * np.eye(3))) @ np.cov(H1.T, H2.T)[:3, 3:] @ np.linalg.inv(
        np.linalg.cholesky(np.cov(H2.T) + 1e-2 * np.eye(3))).T, compute_uv=False)
    assert value == pytest.approx(d.sum() if objective == "trace" else np.sum(d**2))
    eps = 1e-6
    for H, g, first in ((H1, g1, True), (H2, g2, False)):
        for index in np.ndindex(H.shape):
            up, down = H.copy(), H.copy()
            up[index] += eps
            down[index] -= eps
            args_up = (up, H2) if first else (H1, up)
            args_down = (down, H2) if first else (H1, down)
            numeric = (correlation_objective(*args_up, 1e-2, objective)[0]
                       - correlation_objective(*args_down, 1e-2, objective)[0]) / (2 * eps)
            assert numeric == pytest.approx(g[index], abs=1e-7)


@pytest.mark.parametrize("objective", ["trace", "frobenius"])
def test_network_gradient_matches_finite_differences(objective):
    X = _nonlinear(30)
    est = DeepCCA(n_components=2, hidden_layer_sizes=[(4,), (3, 2)], objective=objective,
                  alpha=0.1, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X)
    nets = est._build()
    views = [(X[:, c] - m) / s for (_, c), m, s in
             zip(est.modalities_, est.input_means_, est.input_scales_)]
    theta = np.concatenate(est.networks_)
    _, grad = est._loss(theta, nets, views)
    eps = 1e-6
    for i in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[i] += eps
        down[i] -= eps
        numeric = (est._loss(up, nets, views)[0] - est._loss(down, nets, views)[0]) / (2 * eps)
        assert numeric == pytest.approx(grad[i], abs=1e-6), i


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_beats_linear_cca_on_a_nonlinear_problem(solver):
    X = _nonlinear(1000)
    train, test = X[:700], X[700:]
    linear = CCA(n_components=1).fit(train).score(test)
    params = dict(solver="adam", max_iter=100, batch_size=350, learning_rate_init=1e-2) \
        if solver == "adam" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        deep = DeepCCA(n_components=1, hidden_layer_sizes=(32,), random_state=0,
                       **params).fit(train)
    assert linear < 0.1 and deep.score(test) > 0.9
    assert len(deep.loss_curve_) == deep.n_iter_ > 0


def test_missing_views_pickle_and_errors():
    X = _nonlinear(300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = DeepCCA(n_components=1, hidden_layer_sizes=(8,), max_iter=30,
                      random_state=0).fit(X)
    Z1, Z2 = est.transform_views(X)
    X_missing = X.copy()
    X_missing[:5, :3] = np.nan
    np.testing.assert_allclose(est.transform(X_missing)[:5], Z2[:5])
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(est)).transform(X),
                                  est.transform(X))
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        DeepCCA(n_components=1, max_iter=2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="exactly two views"):
        DeepCCA(modalities=[2, 2, 2]).fit(X)
    with pytest.raises(ValueError, match="output_dim=1 is smaller than n_components=2"):
        DeepCCA(n_components=2, output_dim=1).fit(X)


def test_autoencoder_gradient_and_pretraining():
    from skmultimodal._nn import MLP
    from skmultimodal.cross_decomposition._dcca import _pretrain, autoencoder_loss

    rng = np.random.default_rng(0)
    A = rng.normal(size=(12, 4))
    noisy = A * (rng.random(A.shape) > 0.2)
    theta = rng.normal(size=4 * 3 + 3 + 4)
    _, grad = autoencoder_loss(theta, A, noisy, "tanh")
    eps = 1e-6
    for i in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[i] += eps
        down[i] -= eps
        numeric = (autoencoder_loss(up, A, noisy, "tanh")[0]
                   - autoencoder_loss(down, A, noisy, "tanh")[0]) / (2 * eps)
        assert numeric == pytest.approx(grad[i], abs=1e-7)
    # pretraining the first layer lowers its reconstruction error from the random start
    X = _nonlinear(300)[:, :3]
    net = MLP([3, 8, 1], "tanh")
    start = net.init(np.random.default_rng(0))
    trained = _pretrain(net, start, X, 0.0, 100, np.random.default_rng(0))

    def error(t):
        """Reconstruction error of the first layer with its best decoder bias."""
        W, c = net.unpack(t)[0]
        residual = X - np.tanh(X @ W + c) @ W.T
        return 0.5 * np.mean(np.sum((residual - residual.mean(axis=0)) ** 2, axis=1))

    assert error(trained) < 0.5 * error(start)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = DeepCCA(n_components=1, hidden_layer_sizes=(16,), pretrain_iter=50,
                      random_state=0).fit(_nonlinear(700))
    assert est.score(_nonlinear(300, seed=1)) > 0.9


@pytest.mark.parametrize("hidden, problem", [
    ((10, 5.4), "5.4 is not a positive integer"), ((-3,), "-3 is not a positive integer"),
    ((10, 0), "0 is not a positive integer"),
])
def test_hidden_layer_sizes_are_validated(hidden, problem):
    """These used to fail with "'int' object is not iterable", a ZeroDivisionError and a
    message about a constant view."""
    with pytest.raises(ValueError, match=f"hidden_layer_sizes=.*: {problem} layer width"):
        DeepCCA(hidden_layer_sizes=hidden).fit(_nonlinear(50))


@pytest.mark.parametrize("rate", [100.0, 1e4])
def test_an_adam_blow_up_says_so(rate):
    """learning_rate_init=100 used to end in "View 'm1' is constant" from the final CCA, and
    1e4 in a silent canonical correlation of 7e-21."""
    X = _nonlinear(500)
    with pytest.raises(FloatingPointError, match=f"DeepCCA diverged in epoch 1: .*Lower "
                       f"learning_rate_init \\(now learning_rate_init={rate}\\)"):
        DeepCCA(n_components=1, hidden_layer_sizes=(32,), solver="adam", max_iter=50,
                batch_size=100, learning_rate_init=rate, random_state=0).fit(X)
    healthy = DeepCCA(n_components=1, hidden_layer_sizes=(32,), solver="adam", max_iter=50,
                      batch_size=100, learning_rate_init=0.1, random_state=0).fit(X)
    assert healthy.canonical_correlations_[0] > 0.95
    assert len(healthy.loss_curve_) == healthy.n_iter_ == 50


def test_collapsed_outputs_are_reported_as_a_training_failure():
    """The last line of defence after training: outputs without variance (saturated or dead
    units) are reported as the training's failure, not as a property of view 'm0'."""
    rng = np.random.default_rng(0)
    outputs = [np.ones((20, 2)), rng.normal(size=(20, 2))]
    for solver, advice in (("adam", "learning_rate_init"), ("lbfgs", "alpha")):
        est = DeepCCA(n_components=1, solver=solver)
        with pytest.raises(ValueError, match="trained networks give outputs that cannot be "
                           f"correlated: View 'm0' is constant.*{advice}"):
            est._output_cca(outputs)


def test_a_failed_fit_leaves_the_estimator_and_its_generator_as_before():
    X = _nonlinear(300)
    make = lambda: DeepCCA(n_components=1, hidden_layer_sizes=(8,), solver="adam",
                           max_iter=5, batch_size=100, learning_rate_init=0.01,
                           random_state=np.random.RandomState(3)).fit(X)
    failed, twin = make(), make()
    for est in (failed, twin):
        est.set_params(learning_rate_init=1e4)
    with pytest.raises(FloatingPointError):
        failed.fit(X)
    assert_same_state(failed, twin)
    for est in (failed, twin):
        est.set_params(learning_rate_init=0.01)
    assert_same_state(failed.fit(X), twin.fit(X))  # the generator had not moved
