"""Visible unit types of the Boltzmann family: everything type-specific, one class each.

A modality's units enter the energy of a Boltzmann machine with hidden units ``h`` through
``-v^T W h`` and a term of their own (Salakhutdinov & Hinton 2009; Sohn, Shang & Lee 2014,
Eq. 5):

========================  ===============================  ==============================
units                     own energy term ``U(v; c)``      conditional ``p(v | h)``
========================  ===============================  ==============================
``binary``                ``-c^T v``                       ``Bernoulli(sigmoid(W h + c))``
``gaussian``              ``||v - c||^2 / 2``              ``N(W h + c, I)``
``replicated_softmax``    ``-c^T v - D a^T h``             ``Multinomial(D, softmax(W h + c))``
========================  ===============================  ==============================

``D = sum_k v_k`` is the document length of a count vector: the Replicated Softmax model scales a
hidden bias by it, so documents of every length share one set of weights. Here each Replicated
Softmax modality has its own length-scaled hidden bias ``a``, added to the bias of the layer
above it. The Replicated Softmax energy of Srivastava & Salakhutdinov (2012) is read in this
standard form. Gaussian units have unit variance: standardise such features.

A unit type is a subclass of :class:`VisibleUnits`; every estimator, the compiled loops and
annealed importance sampling reach a type's mathematics only through its methods. The contract
a new type must keep:

- the conditional ``p(v | x)`` given the total input ``x = W h + c`` is an exponential family
  with ``x`` its natural parameter (the canonical link): the gradient of ``-log p(v | x)``
  with respect to ``x`` is ``mean - v`` (multi-prediction training relies on it), and the
  energy ``U(v; c)`` is affine in ``c`` up to a term in ``v`` alone, so that an interpolation
  of two models' biases is again a model of the type (annealed importance sampling relies on
  it);
- ``mean`` and ``sample`` write into preallocated arrays and take a bias of shape ``(1, n)``
  or one row per data row.

The compiled loops dispatch on a type's ``code`` (``_kernels_units``): the three types above
have kernels; a type defined elsewhere is registered on first use (:func:`units_code`) and the
loops call its Python methods.
"""

import numpy as np
from scipy.special import gammaln, logsumexp

from .._random import bernoulli
from ._kernels_units import (
    BINARY,
    FIRST_EXTERNAL,
    GAUSSIAN,
    REPLICATED_SOFTMAX,
    gaussian_sample,
    identity,
    multinomial_sample,
    register_external,
    sigmoid,
    sigmoid_backward,
    sigmoid_sample,
    softmax,
)


class VisibleUnits:
    """The base class of a visible unit type.

    Subclasses set ``name`` and implement the methods below (the default
    :meth:`check`, :meth:`length`, :meth:`resample` and :meth:`max_stable_learning_rate`
    suit most types). ``has_length`` marks count units whose document length scales a
    hidden bias. Instances are stateless; they may be passed as ``visible_units`` to any
    Boltzmann estimator of the package.
    """

    name = None
    has_length = False

    @property
    def code(self):
        """The type's code in the compiled loops."""
        return units_code(self)

    def check(self, low, high, modality):
        """Raise if a modality's values from ``low`` to ``high`` are outside the domain."""

    def check_scale(self, mean, std, modality):
        """What is wrong (a clause naming the modality) if data of these column means and
        standard deviations are far from the scale the units assume, else None."""
        return None

    def length(self, v):
        """Per-row document length (zeros unless ``has_length``)."""
        return np.zeros(v.shape[0], dtype=v.dtype)

    def init_bias(self, column_mean):
        """The bias under which independent units have the data's column means."""
        raise NotImplementedError

    def mean(self, pre, bias, length, out):
        """``out = E[v | input pre]`` for bias ``bias`` (``out`` may be ``pre``)."""
        raise NotImplementedError

    def sample(self, pre, bias, length, state, mean, out):
        """``out ~ p(v | input pre)``; ``mean`` receives ``E[v | pre]`` if it has rows.
        ``state`` is the xoroshiro state of ``skmultimodal._random``."""
        raise NotImplementedError

    def mean_backward(self, mean, length, grad):
        """The gradient with respect to the input, given the gradient ``grad`` with respect
        to the mean ``mean``."""
        raise NotImplementedError

    def free_energy(self, v, bias):
        """The units' own energy term ``U(v; bias)`` per row, float64."""
        raise NotImplementedError

    def log_likelihood(self, v, mean, length, weights=None):
        """``log p(v | mean)`` per row under the factorised conditional with mean ``mean``,
        float64; with ``weights`` (shaped as ``v``) each unit's term is weighted."""
        raise NotImplementedError

    def log_partition(self, bias, length):
        """``log sum_v exp(-U(v; bias))`` of independent units (the base model of annealed
        importance sampling), with the document length ``length`` for count units."""
        raise NotImplementedError

    def resample(self, v, state):
        """Redraw data in place from the distribution their values are the mean of (binary
        units: probabilities become 0/1 draws); by default nothing changes."""

    def max_stable_learning_rate(self, n_hidden, momentum):
        """The largest step for which momentum SGD on an RBM with these visible units stays
        stable whatever the data (infinite unless the units' energy is curved)."""
        return np.inf


class BinaryUnits(VisibleUnits):
    """Bernoulli units; data in [0, 1] (values in between are read as probabilities)."""

    name = "binary"

    def check(self, low, high, modality):
        if low < 0 or high > 1:
            raise ValueError(
                f"Modality {modality!r} has binary visible units, which take values in [0, 1], "
                f"but X has values from {low:g} to {high:g} there. "
                "Scale the features into [0, 1] or choose visible_units='gaussian'."
            )

    def init_bias(self, column_mean):
        p = np.clip(column_mean, 1e-3, 1 - 1e-3)
        return np.log(p) - np.log1p(-p)

    def mean(self, pre, bias, length, out):
        sigmoid(pre, bias, out)

    def sample(self, pre, bias, length, state, mean, out):
        sigmoid_sample(pre, bias, state, mean if mean.shape[0] else pre, out)

    def mean_backward(self, mean, length, grad):
        out = np.empty_like(grad)
        sigmoid_backward(grad, mean, out)
        return out

    def free_energy(self, v, bias):
        return -(v @ bias.astype(np.float64))

    def log_likelihood(self, v, mean, length, weights=None):
        eps = np.finfo(np.float64).eps
        p = np.clip(mean.astype(np.float64), eps, 1 - eps)
        terms = v * np.log(p) + (1 - v) * np.log1p(-p)
        return (terms if weights is None else terms * weights).sum(axis=1)

    def log_partition(self, bias, length):
        return float(np.logaddexp(0, bias).sum())

    def resample(self, v, state):
        bernoulli(v, state, v)


class GaussianUnits(VisibleUnits):
    """Unit-variance Gaussian units for real-valued, standardised features."""

    name = "gaussian"

    def check_scale(self, mean, std, modality):
        """Unit-variance units need standardised features: a message if the non-constant
        columns' standard deviations are far from 1 (median outside [1/3, 3]) or their means
        several deviations from zero (median ``|mean| / std`` above 3)."""
        varying = std > 1e-12
        if not varying.any():
            return None
        spread = float(np.median(std[varying]))
        offset = float(np.median(np.abs(mean[varying]) / std[varying]))
        if 1 / 3 <= spread <= 3 and offset <= 3:
            return None
        return (
            f"modality {modality!r} has Gaussian visible units, which assume standardised "
            f"features (zero mean, unit variance), but its columns' median standard "
            f"deviation is {spread:.3g} and their median |mean| / std {offset:.3g}"
        )

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

    def log_likelihood(self, v, mean, length, weights=None):
        diff = v.astype(np.float64) - mean
        terms = -0.5 * diff * diff - 0.5 * np.log(2 * np.pi)
        return (terms if weights is None else terms * weights).sum(axis=1)

    def log_partition(self, bias, length):
        return 0.5 * bias.size * np.log(2 * np.pi)

    def max_stable_learning_rate(self, n_hidden, momentum):
        """The conditional mean is linear in ``W^T h``, so the model statistics grow like
        ``<h h^T> W``: a curvature up to ``n_hidden`` (every hidden unit on), on which
        momentum SGD is stable only for steps below ``2 (1 + momentum) / n_hidden``."""
        return 2.0 * (1.0 + momentum) / n_hidden


class ReplicatedSoftmaxUnits(VisibleUnits):
    """Replicated Softmax units for word-count vectors (Salakhutdinov & Hinton 2009)."""

    name = "replicated_softmax"
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

    def log_likelihood(self, v, mean, length, weights=None):
        if weights is not None:
            raise ValueError("Replicated Softmax units are predicted whole, not unit by unit.")
        v = v.astype(np.float64)
        length = np.asarray(length, dtype=np.float64)
        safe = np.where(length > 0, length, 1.0)[:, None]
        tiny = np.finfo(np.float64).tiny
        log_p = np.log(np.maximum(mean / safe, tiny))
        return gammaln(length + 1) - gammaln(v + 1).sum(axis=1) + (v * log_p).sum(axis=1)

    def log_partition(self, bias, length):
        return float(length * logsumexp(bias))


BINARY_UNITS = BinaryUnits()
VISIBLE_UNITS = {
    units.name: units for units in (BINARY_UNITS, GaussianUnits(), ReplicatedSoftmaxUnits())
}
_CODES = {"binary": BINARY, "gaussian": GAUSSIAN, "replicated_softmax": REPLICATED_SOFTMAX}
_EXTERNAL_CODES = {}


def units_code(units):
    """The code of a unit type in the compiled loops: its own for the package's types, a
    registered one (from ``FIRST_EXTERNAL`` on) for a type defined elsewhere, whose Python
    methods the loops then call."""
    code = _CODES.get(units.name) if type(units) in _BUILTIN_TYPES else None
    if code is not None:
        return code
    key = (type(units), units.name)
    code = _EXTERNAL_CODES.get(key)
    if code is None:
        code = _EXTERNAL_CODES[key] = FIRST_EXTERNAL + len(_EXTERNAL_CODES)
        register_external(code, units)
    return code


_BUILTIN_TYPES = (BinaryUnits, GaussianUnits, ReplicatedSoftmaxUnits)


def resolve_units(spec, modality, value_range):
    """A unit type from ``"auto"``, a name of :data:`VISIBLE_UNITS` or a
    :class:`VisibleUnits`; ``"auto"`` is binary for values within [0, 1] (``value_range``,
    the modality's observed low and high), Gaussian otherwise."""
    if isinstance(spec, VisibleUnits):
        if not isinstance(spec.name, str) or not spec.name:
            raise ValueError(f"The visible units {spec!r} of modality {modality!r} need a name.")
        return spec
    if isinstance(spec, str) and spec == "auto":
        low, high = value_range
        return VISIBLE_UNITS["binary" if low >= 0 and high <= 1 else "gaussian"]
    if isinstance(spec, str) and spec in VISIBLE_UNITS:
        return VISIBLE_UNITS[spec]
    raise ValueError(
        f"Unknown visible_units {spec!r} for modality {modality!r}; choose from "
        f"{['auto', *sorted(VISIBLE_UNITS)]} or pass a skmultimodal.boltzmann.VisibleUnits "
        "instance."
    )
