"""Small fully connected networks in numpy: layers, activations, the L2 penalty, packing.

One layer is ``A = f(X W + b)`` (:func:`dense_forward`); :func:`dense_backward` takes the
layer's input ``X`` and output ``A`` (its cache) and the gradient with respect to ``A``,
and returns the gradients with respect to ``W``, ``b`` and ``X``. Derivatives are written
in terms of the output ``A`` (``1 - A^2`` for tanh, ``A (1 - A)`` for the logistic), so a
layer's output is all its backward pass needs. Networks that share weights or are unrolled
(an autoencoder with tied weights, a recurrent network) chain these two functions; their
gradients with respect to a weight are the sums over its uses.

:class:`MLP` stacks layers with one activation for the hidden layers and a linear output
layer, its parameters packed into one flat vector (what :func:`scipy.optimize.minimize`
and the optimisers of :mod:`skmultimodal._training` update): for each layer in turn, ``W``
row by row (``n_in x n_out``) and then ``b``. Its forward pass returns every layer's
output (the cache of the backward pass).

Examples
--------
>>> import numpy as np
>>> from skmultimodal._nn import MLP
>>> net = MLP([3, 4, 2], "tanh")
>>> theta = net.init(np.random.default_rng(0))
>>> X = np.ones((5, 3))
>>> outputs = net.forward(theta, X)
>>> outputs[-1].shape
(5, 2)
>>> grad = net.backward(theta, outputs, np.ones((5, 2)))
>>> grad.shape == theta.shape == (net.n_params,)
True
"""

from numbers import Integral

import numpy as np
from scipy.optimize import minimize


def _identity(Z):
    return Z


def _relu(Z):
    return np.maximum(Z, 0.0)


def _logistic(Z):
    return 0.5 * np.tanh(0.5 * Z) + 0.5  # no overflow for large negative Z


ACTIVATIONS = {
    "identity": (_identity, None),
    "tanh": (np.tanh, lambda A: 1.0 - A**2),
    "relu": (_relu, lambda A: (A > 0).astype(A.dtype)),
    "logistic": (_logistic, lambda A: A * (1.0 - A)),
}
"""Each activation's function and its derivative as a function of the output (None: 1)."""

HIDDEN_ACTIVATIONS = ("tanh", "relu", "logistic")
"""The activations the estimators offer for hidden layers."""


def dense_forward(X, W, b, activation):
    """One layer's output ``f(X W + b)``."""
    return ACTIVATIONS[activation][0](X @ W + b)


def dense_backward(X, W, A, grad_A, activation, input_grad=True, out_in=False):
    """Gradients of one layer ``A = f(X W + b)`` from the gradient with respect to ``A``.

    With ``out_in`` the layer is ``A = f(X W^T + b)``: ``W`` is stored ``(n_out, n_in)``, as
    weights shared with a layer that goes the other way, and ``grad_W`` has that shape
    (computed as such, not transposed afterwards).

    Returns
    -------
    grad_W : ndarray of shape (n_in, n_out), or (n_out, n_in) with ``out_in``
    grad_b : ndarray of shape (n_out,)
    grad_X : ndarray of shape (n_samples, n_in) or None
        None when ``input_grad`` is False (a first layer needs no input gradient).
    """
    derivative = ACTIVATIONS[activation][1]
    delta = grad_A if derivative is None else grad_A * derivative(A)
    if out_in:
        return delta.T @ X, delta.sum(axis=0), (delta @ W if input_grad else None)
    grad_X = delta @ W.T if input_grad else None
    return X.T @ delta, delta.sum(axis=0), grad_X


class MLP:
    """A fully connected network with a linear output layer; parameters in one flat vector.

    Parameters
    ----------
    sizes : sequence of int
        Widths of the input, the hidden layers and the output.
    activation : str
        Activation of the hidden layers, a key of :data:`ACTIVATIONS`.

    Attributes
    ----------
    shapes : list of (int, int)
        ``(n_in, n_out)`` of each layer.
    n_params : int
        Length of the flat parameter vector.
    """

    def __init__(self, sizes, activation):
        self.sizes, self.activation = list(sizes), activation
        self.shapes = list(zip(self.sizes[:-1], self.sizes[1:]))
        self.n_params = sum(a * b + b for a, b in self.shapes)

    def _activation(self, layer):
        return self.activation if layer < len(self.shapes) - 1 else "identity"

    def init(self, rng):
        """Glorot & Bengio (2010, Eq. 16) uniform weights and zero biases, float64."""
        parts = []
        for a, b in self.shapes:
            bound = np.sqrt(6.0 / (a + b))
            parts += [rng.uniform(-bound, bound, size=a * b), np.zeros(b)]
        return np.concatenate(parts)

    def unpack(self, theta):
        """Views ``[(W, b), ...]`` of each layer's parameters in ``theta``."""
        layers, start = [], 0
        for a, b in self.shapes:
            W = theta[start:start + a * b].reshape(a, b)
            start += a * b
            layers.append((W, theta[start:start + b]))
            start += b
        return layers

    def forward(self, theta, X):
        """Every layer's output, the input first: ``outputs[-1]`` is the network's output."""
        outputs = [X]
        for i, (W, b) in enumerate(self.unpack(theta)):
            outputs.append(dense_forward(outputs[-1], W, b, self._activation(i)))
        return outputs

    def backward(self, theta, outputs, grad_out, input_grad=False):
        """Gradient with respect to ``theta`` from that with respect to the output.

        ``outputs`` is the cache of :meth:`forward`. With ``input_grad`` the gradient with
        respect to the input is returned too, as ``(grad_theta, grad_X)``.
        """
        grad = np.empty(self.n_params, dtype=theta.dtype)
        delta = grad_out
        for i, ((W, _), (gW, gb)) in reversed(list(enumerate(zip(self.unpack(theta),
                                                                  self.unpack(grad))))):
            gW[...], gb[...], delta = dense_backward(outputs[i], W, outputs[i + 1], delta,
                                                     self._activation(i),
                                                     input_grad=i > 0 or input_grad)
        return (grad, delta) if input_grad else grad

    def l2_penalty(self, theta, alpha, grad):
        """``alpha / 2`` times the squared norm of the weights (not the biases).

        Adds the penalty's gradient ``alpha W`` to ``grad`` (shaped like ``theta``) in
        place and returns its value.
        """
        value, start = 0.0, 0
        for a, b in self.shapes:
            W = theta[start:start + a * b]
            value += 0.5 * alpha * float(W @ W)
            grad[start:start + a * b] += alpha * W
            start += a * b + b
        return value


def layer_sizes(hidden_layer_sizes, n_networks):
    """The hidden layer widths of each of ``n_networks`` networks, validated.

    ``hidden_layer_sizes`` is one sequence of positive ints for every network (``()``: no
    hidden layer) or a list with one such sequence per network.

    Returns
    -------
    sizes : list of tuple of int
    """
    spec = hidden_layer_sizes
    if not spec or not all(isinstance(h, (tuple, list)) for h in spec):
        spec = [spec] * n_networks
    elif len(spec) != n_networks:
        raise ValueError(
            f"hidden_layer_sizes={hidden_layer_sizes!r} lists {len(spec)} entries; give one "
            f"tuple of layer widths for all {n_networks} networks, e.g. (64, 32), or a list "
            f"of {n_networks} tuples, one per network."
        )
    sizes = []
    for layers in spec:
        bad = [w for w in layers if not isinstance(w, Integral) or isinstance(w, bool) or w < 1]
        if bad:
            raise ValueError(
                f"hidden_layer_sizes={hidden_layer_sizes!r}: {bad[0]!r} is not a positive "
                "integer layer width. Give one tuple of positive ints for all networks, e.g. "
                "(64, 32), or one such tuple per network."
            )
        sizes.append(tuple(int(w) for w in layers))
    return sizes


def autoencoder_loss(theta, A, A_noisy, activation):
    """Squared reconstruction error of a tied-weight autoencoder layer, and its gradient.

    ``H = f(A_noisy W + c)``, ``R = H W^T + b``, loss ``||R - A||^2 / (2 n)``; ``theta`` packs
    ``W`` (d x k), ``c`` (k) and ``b`` (d). The gradient of the tied ``W`` is the sum of
    its encoder and decoder parts.
    """
    n, d = A.shape
    k = (theta.size - d) // (d + 1)
    W = theta[: d * k].reshape(d, k)
    c, b = theta[d * k: d * k + k], theta[d * k + k:]
    H = dense_forward(A_noisy, W, c, activation)
    E = (dense_forward(H, W.T, b, "identity") - A) / n
    g_decoder, g_b, g_H = dense_backward(H, W.T, None, E, "identity")
    g_W, g_c, _ = dense_backward(A_noisy, W, H, g_H, activation, input_grad=False)
    g_W += g_decoder.T
    return 0.5 * n * np.sum(E**2), np.concatenate([g_W.ravel(), g_c, g_b])


def pretrain_denoising(net, theta, X, noise, n_iter, rng):
    """Greedy layerwise denoising-autoencoder pretraining of a network's hidden layers.

    Each hidden layer in turn learns to reconstruct its (clean) input from a copy with a
    fraction ``noise`` of the entries set to zero; its encoder becomes the layer's initial
    weights. The linear top layer keeps its random initialisation.
    """
    theta = theta.copy()
    A, start = X, 0
    for a, k in net.shapes[:-1]:
        noisy = A * (rng.random(A.shape) >= noise)
        init = np.concatenate([theta[start:start + a * k], np.zeros(k + a)])
        result = minimize(autoencoder_loss, init, args=(A, noisy, net.activation), jac=True,
                          method="L-BFGS-B", options={"maxiter": n_iter})
        theta[start:start + a * k + k] = result.x[: a * k + k]
        W, c = result.x[: a * k].reshape(a, k), result.x[a * k: a * k + k]
        A = dense_forward(A, W, c, net.activation)
        start += a * k + k
    return theta
