"""The numpy network layers: gradients against finite differences, packing, validation."""

import numpy as np
import pytest

from skmultimodal._nn import (
    ACTIVATIONS,
    MLP,
    dense_backward,
    dense_forward,
    layer_sizes,
)


def numerical_gradient(f, x, eps=1e-6):
    """Central finite differences of the scalar function ``f`` at every entry of ``x``."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[idx] += eps
        minus[idx] -= eps
        grad[idx] = (f(plus) - f(minus)) / (2 * eps)
    return grad


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_activation_derivatives_from_the_output(activation):
    f, derivative = ACTIVATIONS[activation]
    z = np.linspace(-3, 3, 13) + 0.05  # no kink of relu at a grid point
    numeric = (f(z + 1e-6) - f(z - 1e-6)) / 2e-6
    exact = np.ones_like(z) if derivative is None else derivative(f(z))
    np.testing.assert_allclose(exact, numeric, atol=1e-8)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_dense_layer_gradients_match_finite_differences(activation):
    rng = np.random.default_rng(0)
    X, W, b = rng.normal(size=(6, 4)), rng.normal(size=(4, 3)), rng.normal(size=3)
    target = rng.normal(size=(6, 3))

    def loss(X, W, b):
        return 0.5 * np.sum((dense_forward(X, W, b, activation) - target) ** 2)

    A = dense_forward(X, W, b, activation)
    gW, gb, gX = dense_backward(X, W, A, A - target, activation)
    np.testing.assert_allclose(gW, numerical_gradient(lambda w: loss(X, w, b), W), atol=1e-6)
    np.testing.assert_allclose(gb, numerical_gradient(lambda c: loss(X, W, c), b), atol=1e-6)
    np.testing.assert_allclose(gX, numerical_gradient(lambda x: loss(x, W, b), X), atol=1e-6)
    assert dense_backward(X, W, A, A - target, activation, input_grad=False)[2] is None
    # weights stored (n_out, n_in): the gradients of f(X W^T + b), W's shape
    gWt, gbt, gXt = dense_backward(X, W.T.copy(), A, A - target, activation, out_in=True)
    np.testing.assert_allclose(gWt, gW.T)
    np.testing.assert_allclose(gbt, gb)
    np.testing.assert_allclose(gXt, gX)


@pytest.mark.parametrize("activation", ["tanh", "relu", "logistic"])
@pytest.mark.parametrize("sizes", [[4, 2], [4, 5, 2], [4, 5, 3, 2]])
def test_mlp_gradient_matches_finite_differences(activation, sizes):
    rng = np.random.default_rng(1)
    net = MLP(sizes, activation)
    theta = net.init(rng) + 0.1 * rng.normal(size=net.n_params)  # non-zero biases
    X = rng.normal(size=(7, sizes[0]))
    G = rng.normal(size=(7, sizes[-1]))  # loss = sum(G * output)

    def loss(theta, X=X):
        return float(np.sum(G * net.forward(theta, X)[-1]))

    grad, grad_X = net.backward(theta, net.forward(theta, X), G, input_grad=True)
    np.testing.assert_allclose(grad, numerical_gradient(loss, theta), atol=1e-6)
    np.testing.assert_allclose(grad_X, numerical_gradient(lambda x: loss(theta, x), X), atol=1e-6)
    np.testing.assert_array_equal(net.backward(theta, net.forward(theta, X), G), grad)


def test_mlp_forward_against_an_explicit_network():
    rng = np.random.default_rng(2)
    net = MLP([3, 4, 2], "tanh")
    theta = rng.normal(size=net.n_params)
    W1, b1 = theta[:12].reshape(3, 4), theta[12:16]
    W2, b2 = theta[16:24].reshape(4, 2), theta[24:26]
    X = rng.normal(size=(5, 3))
    outputs = net.forward(theta, X)
    assert len(outputs) == 3 and outputs[0] is X
    np.testing.assert_allclose(outputs[-1], np.tanh(X @ W1 + b1) @ W2 + b2, rtol=1e-12)
    (V1, c1), (V2, c2) = net.unpack(theta)
    np.testing.assert_array_equal(V1, W1)
    np.testing.assert_array_equal(c2, b2)
    V1[0, 0] = 7.0  # unpack gives views into the flat vector
    assert theta[0] == 7.0


def test_init_is_glorot_uniform_with_zero_biases():
    net = MLP([30, 20, 10], "relu")
    theta = net.init(np.random.default_rng(0))
    assert theta.shape == (net.n_params,) == (30 * 20 + 20 + 20 * 10 + 10,)
    for (W, b), (a, c) in zip(net.unpack(theta), net.shapes):
        bound = np.sqrt(6 / (a + c))
        assert np.abs(W).max() <= bound and np.abs(W).max() > 0.9 * bound
        np.testing.assert_array_equal(b, 0.0)


def test_l2_penalty_on_weights_only():
    rng = np.random.default_rng(3)
    net = MLP([3, 4, 2], "tanh")
    theta = rng.normal(size=net.n_params)
    grad = np.zeros_like(theta)
    value = net.l2_penalty(theta, 0.3, grad)
    weights = [W for W, _ in net.unpack(theta)]
    assert value == pytest.approx(0.15 * sum(np.sum(W**2) for W in weights))
    np.testing.assert_allclose(grad, numerical_gradient(
        lambda t: net.l2_penalty(t, 0.3, np.zeros_like(t)), theta), atol=1e-8)
    for _, g_b in net.unpack(grad):
        np.testing.assert_array_equal(g_b, 0.0)


def test_float32_stays_float32():
    net = MLP([3, 4, 2], "logistic")
    theta = net.init(np.random.default_rng(0)).astype(np.float32)
    X = np.ones((5, 3), dtype=np.float32)
    outputs = net.forward(theta, X)
    assert all(o.dtype == np.float32 for o in outputs)
    assert net.backward(theta, outputs, np.ones((5, 2), np.float32)).dtype == np.float32


def test_layer_sizes():
    assert layer_sizes((), 2) == [(), ()]
    assert layer_sizes((8, 4), 2) == [(8, 4), (8, 4)]
    assert layer_sizes([(8,), (3, 2)], 2) == [(8,), (3, 2)]
    assert layer_sizes((np.int64(5),), 1) == [(5,)]


@pytest.mark.parametrize("spec, problem", [
    ((10, 5.4), "5.4 is not a positive integer"), ((-3,), "-3 is not a positive integer"),
    ((10, 0), "0 is not a positive integer"), ([(4,), ("a",)], "'a' is not a positive"),
    ((True,), "True is not a positive integer"),
    ([(4,), 3], r"\(4,\) is not a positive integer"),
])
def test_layer_sizes_rejects_non_positive_integers(spec, problem):
    with pytest.raises(ValueError, match=f"hidden_layer_sizes=.*: {problem}"):
        layer_sizes(spec, 2)


def test_layer_sizes_rejects_the_wrong_number_of_networks():
    with pytest.raises(ValueError, match="lists 3 entries"):
        layer_sizes([(4,), (3,), (2,)], 2)
