"""Visible unit types of the Boltzmann family, one small stateless class each.

A modality's units enter the energy of a Boltzmann machine with hidden units ``h`` through
``-v^T W h`` and a term of their own (Salakhutdinov & Hinton 2009; seed 001 Eq. 5):

========================  ===============================  ==============================
units                     own energy term                  conditional ``p(v | h)``
========================  ===============================  ==============================
``binary``                ``-c^T v``                       ``Bernoulli(sigmoid(W h + c))``
``gaussian``              ``||v - c||^2 / 2``              ``N(W h + c, I)``
``replicated_softmax``    ``-c^T v - D a^T h``             ``Multinomial(D, softmax(W h + c))``
========================  ===============================  ==============================

``D = sum_k v_k`` is the document length of a count vector: the Replicated Softmax model scales a
hidden bias by it, so documents of every length share one set of weights. Here each Replicated
Softmax modality has its own length-scaled hidden bias ``a`` (a row of the model's
``hidden_length_bias_``), added to the joint hidden bias. The garbled energy of seed 000 is read
in this standard form. Gaussian units have unit variance: standardise such features.

Each class offers a check of its data domain (given a modality's value range), the visible
bias that matches the data's column means, the conditional mean and its backward pass
(``mean_backward``: the gradient with respect to the pre-activation, given the gradient with
respect to the mean), a fused sample, the visible part of the free energy and the
log-likelihood of a block under the factorised conditional. Each conditional has the canonical
link, so the gradient of its negative log-likelihood with respect to the pre-activation is
``mean - v``.
"""

import numpy as np
from scipy.special import gammaln

from ._kernels_units import (
    gaussian_sample,
    identity,
    multinomial_sample,
    sigmoid,
    sigmoid_backward,
    sigmoid_sample,
    softmax,
)


class BinaryUnits:
    """Bernoulli units; data in [0, 1] (values in between are read as probabilities)."""

    name = "binary"
    code = 0  # in compiled loops (``_kernels``)
    has_length = False

    def check(self, low, high, modality):
        if low < 0 or high > 1:
            raise ValueError(
                f"Modality {modality!r} has binary visible units, which take values in [0, 1], "
                f"but X has values from {low:g} to {high:g} there. "
                "Scale the features into [0, 1] or choose visible_units='gaussian'."
            )

    def length(self, v):
        return np.zeros(v.shape[0], dtype=v.dtype)

    def init_bias(self, column_mean):
        p = np.clip(column_mean, 1e-3, 1 - 1e-3)
        return np.log(p) - np.log1p(-p)

    def mean(self, pre, bias, length, out):
        sigmoid(pre, bias, out)

    def sample(self, pre, bias, length, state, mean, out):
        sigmoid_sample(pre, bias, state, mean, out)

    def mean_backward(self, mean, length, grad):
        out = np.empty_like(grad)
        sigmoid_backward(grad, mean, out)
        return out

    def free_energy(self, v, bias):
        return -(v @ bias.astype(np.float64))

    def log_likelihood(self, v, mean, length):
        eps = np.finfo(mean.dtype).eps
        p = np.clip(mean.astype(np.float64), eps, 1 - eps)
        return (v * np.log(p) + (1 - v) * np.log1p(-p)).sum(axis=1)


class GaussianUnits:
    """Unit-variance Gaussian units for real-valued, standardised features."""

    name = "gaussian"
    code = 1  # in compiled loops (``_kernels``)
    has_length = False

    def check(self, low, high, modality):
        pass

    def length(self, v):
        return np.zeros(v.shape[0], dtype=v.dtype)

    def init_bias(self, column_mean):
        return column_mean

    def mean(self, pre, bias, length, out):
        identity(pre, bias, out)

    def sample(self, pre, bias, length, state, mean, out):
        gaussian_sample(pre, bias, state, mean, out)

    def mean_backward(self, mean, length, grad):
        return grad

    def free_energy(self, v, bias):
        diff = v.astype(np.float64) - bias
        return 0.5 * np.einsum("ij,ij->i", diff, diff)

    def log_likelihood(self, v, mean, length):
        diff = v.astype(np.float64) - mean
        return -0.5 * np.einsum("ij,ij->i", diff, diff) - 0.5 * v.shape[1] * np.log(2 * np.pi)


class ReplicatedSoftmaxUnits:
    """Replicated Softmax units for word-count vectors (Salakhutdinov & Hinton 2009)."""

    name = "replicated_softmax"
    code = 2  # in compiled loops (``_kernels``)
    has_length = True

    def check(self, low, high, modality):
        if low < 0:
            raise ValueError(
                f"Modality {modality!r} has replicated_softmax visible units, which model "
                f"non-negative counts, but X has values down to {low:g} there."
            )

    def length(self, v):
        return np.asarray(v.sum(axis=1), dtype=v.dtype).reshape(-1)

    def init_bias(self, column_mean):
        frequency = column_mean + 1e-3 * max(column_mean.mean(), 1e-12)
        return np.log(frequency / frequency.sum())

    def mean(self, pre, bias, length, out):
        softmax(pre, bias, length, out)

    def sample(self, pre, bias, length, state, mean, out):
        multinomial_sample(pre, bias, length, state, mean, out)

    def mean_backward(self, mean, length, grad):
        # mean = D softmax(pre): the Jacobian-vector product is mean * (g - <p, g>)
        safe = np.where(length > 0, length, 1).astype(mean.dtype)[:, None]
        return mean * (grad - np.einsum("ij,ij->i", mean, grad)[:, None] / safe)

    def free_energy(self, v, bias):
        return -(v @ bias.astype(np.float64))

    def log_likelihood(self, v, mean, length):
        v = v.astype(np.float64)
        length = length.astype(np.float64)
        safe = np.where(length > 0, length, 1.0)[:, None]
        tiny = np.finfo(np.float64).tiny
        log_p = np.log(np.maximum(mean / safe, tiny))
        return gammaln(length + 1) - gammaln(v + 1).sum(axis=1) + (v * log_p).sum(axis=1)


VISIBLE_UNITS = {
    units.name: units for units in (BinaryUnits(), GaussianUnits(), ReplicatedSoftmaxUnits())
}
