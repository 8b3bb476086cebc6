"""DeepCCA: analytic gradients against finite differences, nonlinear recovery, interface;
the MAXVAR objective of more than two views against the pair objective, projection
matrices and finite differences."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skmultimodal import CCA, DeepCCA
from skmultimodal.cross_decomposition import _dcca
from skmultimodal.cross_decomposition._dcca import correlation_objective, maxvar_objective
from skmultimodal.datasets import make_nonlinear_views
from test_nn import numerical_gradient
from test_training import assert_same_state


def _nonlinear(n, seed=0):
    return make_nonlinear_views(n, random_state=seed)[0]


def _three_views(n, seed=0, noise=0.1):
    """Three 3-feature views sharing ``t ~ U(-2, 2)`` through even functions of it only:
    ``[t, e, e]``, ``[t^2, cos 2t, e]`` and ``[|t|, e, exp(-t^2)]`` (plus noise on the last
    two), ``e`` independent standard normals. Linearly the first view is uncorrelated with
    the others."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(-2, 2, n)
    e = lambda: rng.standard_normal(n)
    views = [np.column_stack([t, e(), e()]),
             np.column_stack([t**2, np.cos(2 * t), e()]) + noise * rng.standard_normal((n, 3)),
             np.column_stack([np.abs(t), e(), np.exp(-t**2)])
             + noise * rng.standard_normal((n, 3))]
    return np.hstack(views), t


def _outputs(n_views, n=15, o=3, seed=0):
    rng = np.random.default_rng(seed)
    outputs = [rng.normal(size=(n, o))]
    for _ in range(n_views - 1):
        outputs.append(rng.normal(size=(n, o)) + 0.5 * outputs[-1] @ rng.normal(size=(o, o)))
    return outputs


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
@pytest.mark.parametrize("n, o", [(15, 3), (4, 6)])  # (4, 6): the pair's few-rows path
def test_maxvar_objective_of_two_views_is_the_pair_objective(objective, n, o):
    """For two views the generalised objective is Andrew et al.'s, value and gradients."""
    H1, H2 = _outputs(2, n=n, o=o)
    value, g1, g2 = correlation_objective(H1, H2, 1e-2, objective)
    general, grads = maxvar_objective([H1, H2], 1e-2, objective)
    assert general == pytest.approx(value, rel=1e-10)
    np.testing.assert_allclose(grads[0], g1, atol=1e-10)
    np.testing.assert_allclose(grads[1], g2, atol=1e-10)


@pytest.mark.parametrize("n_views", [3, 4])
def test_maxvar_objective_against_projections_and_pairs(n_views):
    """Independent computations: the trace objective at reg = 0 from the views' n x n
    projection matrices (Carroll 1968: the top o eigenvalues of their sum), the Frobenius
    objective as the mean over view pairs of the two-view one."""
    outputs = _outputs(n_views, n=20, o=3)
    projections = 0.0
    for H in outputs:
        Hc = H - H.mean(axis=0)
        projections = projections + Hc @ np.linalg.pinv(Hc)
    top = np.sort(np.linalg.eigvalsh(projections))[::-1][:3]
    value, _ = maxvar_objective(outputs, 0.0, "trace")
    assert value == pytest.approx((top.sum() - 3) / (n_views - 1), rel=1e-10)
    assert 0 < value < 3
    pairs = [correlation_objective(outputs[m], outputs[o], 1e-2, "frobenius")[0]
             for m in range(n_views) for o in range(m + 1, n_views)]
    assert maxvar_objective(outputs, 1e-2, "frobenius")[0] == pytest.approx(np.mean(pairs))
    # identical views: the largest value, o (as reg goes to 0), for any number of views
    same = [outputs[0] @ np.random.default_rng(m).normal(size=(3, 3)) for m in range(n_views)]
    for objective in ("trace", "frobenius"):
        assert maxvar_objective(same, 1e-9, objective)[0] == pytest.approx(3, rel=1e-6)


@pytest.mark.parametrize("objective", ["trace", "frobenius"])
@pytest.mark.parametrize("n_views", [3, 4])
def test_maxvar_gradient_matches_finite_differences(objective, n_views):
    outputs = _outputs(n_views, n=12, o=2, seed=1)
    _, grads = maxvar_objective(outputs, 1e-2, objective)
    for m in range(n_views):
        def f(H, m=m):
            changed = list(outputs)
            changed[m] = H
            return maxvar_objective(changed, 1e-2, objective)[0]

        np.testing.assert_allclose(grads[m], numerical_gradient(f, outputs[m]), atol=1e-7)


@pytest.mark.parametrize("objective", ["trace", "frobenius"])
@pytest.mark.parametrize("n_views", [2, 3])
def test_network_gradient_matches_finite_differences(objective, n_views):
    X = _nonlinear(30) if n_views == 2 else _three_views(30)[0]
    hidden = [(4,), (3, 2), ()][:n_views]
    est = DeepCCA(n_components=2, modalities=[3] * n_views, hidden_layer_sizes=hidden,
                  objective=objective, alpha=0.1, max_iter=1, random_state=0)
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
    with pytest.raises(ValueError, match="DeepCCA needs at least two views; got 1"):
        DeepCCA(modalities=[6]).fit(X)
    with pytest.raises(ValueError, match="output_dim=1 is smaller than n_components=2"):
        DeepCCA(n_components=2, output_dim=1).fit(X)


def test_autoencoder_gradient_and_pretraining():
    from skmultimodal._nn import MLP
    from skmultimodal._nn import autoencoder_loss, pretrain_denoising

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
    trained = pretrain_denoising(net, start, X, 0.0, 100, np.random.default_rng(0))

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


def test_two_views_train_the_same_through_the_maxvar_objective(monkeypatch):
    """The generalised objective reduces to the pair's: trained on it, two views give the
    same networks to rounding. (L-BFGS amplifies rounding over many iterations: after 10
    the networks agree to 1e-12, after 100 the canonical correlations to 1e-4; measured.)"""
    X = _nonlinear(300)

    def through_maxvar(H1, H2, reg, objective):
        value, grads = maxvar_objective([H1, H2], reg, objective)
        return value, *grads

    for objective in ("trace", "frobenius"):
        for max_iter, tolerance in ((10, 1e-9), (100, 1e-3)):
            make = lambda objective=objective, max_iter=max_iter: DeepCCA(
                n_components=2, hidden_layer_sizes=(8,), objective=objective,
                max_iter=max_iter, random_state=0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                pair = make().fit(X)
                with monkeypatch.context() as patch:
                    patch.setattr(_dcca, "correlation_objective", through_maxvar)
                    general = make().fit(X)
            np.testing.assert_allclose(pair.canonical_correlations_,
                                       general.canonical_correlations_, atol=tolerance)
            if max_iter == 10:
                for a, b in zip(pair.networks_, general.networks_):
                    np.testing.assert_allclose(a, b, atol=tolerance)


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_three_views_recover_the_shared_latent(solver):
    """Held-out mean pairwise canonical correlation on three views that share t through
    even functions only. Measured (data and model seeds 0-2): DeepCCA 0.991-0.993 (L-BFGS)
    and 0.989-0.990 (Adam); linear MAXVAR CCA 0.31-0.38 (only the two even views
    correlate); the same networks after one iteration 0.23-0.37; trained on rows whose
    views are shuffled apart (no shared latent) -0.14 to 0.06. The shared variate's
    correlation with t^2: 0.94-0.95 (L-BFGS), 0.99 (Adam)."""
    X, t = _three_views(1000)
    train, test = X[:700], X[700:]
    params = {"solver": "adam", "max_iter": 100, "batch_size": 350,
              "learning_rate_init": 1e-2} if solver == "adam" else {"max_iter": 200}

    def make(**changes):
        return DeepCCA(n_components=1, modalities=[3, 3, 3], hidden_layer_sizes=(32,),
                       random_state=0, **{**params, **changes})

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        deep = make().fit(train)
        untrained = make(max_iter=1).fit(train)
        rng = np.random.default_rng(0)
        shuffled = np.hstack([train[rng.permutation(700)][:, 3 * m:3 * m + 3]
                              for m in range(3)])
        unpaired = make().fit(shuffled)
    linear = CCA(n_components=1, modalities=[3, 3, 3]).fit(train).score(test)
    score = deep.score(test)
    assert score > 0.97
    assert max(linear, untrained.score(test), unpaired.score(test)) < score - 0.5
    assert deep.canonical_correlations_.shape == (1,)
    # the shared variate is a function of t^2: it orders the held-out rows as |t| does
    Z = deep.transform(test)[:, 0]
    assert abs(np.corrcoef(Z, t[700:] ** 2)[0, 1]) > 0.9
    # a row's representation is the mean of its views' variates, whichever it has
    variates = deep.transform_views(test)
    partial = test.copy()
    partial[:10, :3] = np.nan
    partial[10:20, 3:6] = np.nan
    partial[20:30, :6] = np.nan
    Z = deep.transform(partial)
    np.testing.assert_allclose(Z[:10], (variates[1][:10] + variates[2][:10]) / 2)
    np.testing.assert_allclose(Z[10:20], (variates[0][10:20] + variates[2][10:20]) / 2)
    np.testing.assert_allclose(Z[20:30], variates[2][20:30])


def test_three_view_adam_blow_up_says_so():
    X = _three_views(300)[0]
    with pytest.raises(FloatingPointError, match="DeepCCA diverged in epoch 1: .*Lower "
                       "learning_rate_init"):
        DeepCCA(n_components=1, modalities=[3, 3, 3], hidden_layer_sizes=(32,),
                solver="adam", max_iter=20, batch_size=100, learning_rate_init=1e4,
                random_state=0).fit(X)
