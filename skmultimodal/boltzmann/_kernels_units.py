"""Kernels of the visible and hidden unit types: activations, their gradients, samplers.

Every activation takes a pre-activation ``pre`` (the matrix product computed by the caller), a
bias of shape ``(1, n)`` (shared by all rows) or ``(n_rows, n)`` (one per row), and writes
into preallocated outputs; ``out`` may alias ``pre``. Arithmetic follows the arrays' dtype
(float32 is the fast path).

The sigmoid computes its own ``exp`` (:func:`_exp_nonpositive`: arithmetic that LLVM
vectorises, where numba's ``math.exp`` is a scalar libm call without Intel's SVML), so the
bias, the sigmoid and what follows it (the Bernoulli draw, the mean-field convergence test) are
one vectorised pass. The Replicated Softmax's ``exp`` is the same function, between the row's
maximum and the draws, in one kernel per call. Where LLVM would not vectorise a loop as
written, it is written so that it does: the softmax's row maximum is taken on the floats' bits
as integers (:func:`_ordered_max`), row totals in a separately compiled loop that may
reassociate (:func:`row_total`). The kernels compile with ``error_model="numpy"`` (a
Python-style division-by-zero check would keep a division scalar) and fused multiply-adds.

:func:`visible_mean`, :func:`visible_sample` and :func:`visible_resample` are the compiled
loops' one dispatch on a visible layer's unit type, by the codes of one table (``BINARY``,
``GAUSSIAN``, ``REPLICATED_SOFTMAX``; unit types defined outside the package are called back
in Python, and an unknown code raises).
"""

import math

import numpy as np
from numba import njit, objmode, types
from numba.extending import intrinsic, overload

from .._jit import kernel
from .._random import bernoulli, bernoulli_rows, draw_counts, normal_rows


@kernel(error_model="numpy")
def identity(pre, bias, out):
    """``out = pre + bias``: the mean of unit-variance Gaussian units (``bias`` ``(1, k)``
    or per row; ``out`` may be ``pre``)."""
    per_row = bias.shape[0] > 1
    for i in range(out.shape[0]):
        r = i if per_row else 0
        for j in range(out.shape[1]):
            out[i, j] = pre[i, j] + bias[r, j]


@kernel(error_model="numpy")
def gaussian_sample(pre, bias, state, mean, sample):
    """``mean = pre + bias`` and ``sample ~ N(mean, 1)`` (``mean`` may be ``pre``); if
    ``mean`` has no rows, the sample alone, in one pass."""
    if mean.shape[0]:
        identity(pre, bias, mean)
        normal_rows(mean, mean[:0], state, sample)
    else:
        normal_rows(pre, bias, state, sample)


@kernel
def sigmoid_backward(grad, prob, out):
    """``out = grad * prob * (1 - prob)``: back-propagation through a sigmoid, elementwise.

    ``grad`` and ``prob`` are 2-D; ``out`` may alias ``grad``.
    """
    n, k = grad.shape
    for i in range(n):
        for j in range(k):
            p = prob[i, j]
            out[i, j] = grad[i, j] * p * (1.0 - p)


# -- the sigmoid, fused with what follows it ---------------------------------------------------
#
# ``exp`` in numba is a call into libm per element (no Intel SVML here), which keeps a loop
# scalar. :func:`_exp_nonpositive` is ``exp`` written in arithmetic LLVM vectorises (Cephes'
# range reduction and polynomial, the power of two built from its bits), so the bias, the
# sigmoid and the convergence test or the Bernoulli draw are one vectorised pass (measured on
# 100 x 128: float32 6 us, float64 16 us, against 10 and 26 us for numpy's ``tanh`` between
# two numba passes). The kernels compile with ``error_model="numpy"`` (a Python-style
# division-by-zero check would keep the division scalar) and fused multiply-adds.


@njit(inline="always")
def _same(a, b):
    """Whether two arrays of one shape are the same memory: same address and strides."""
    return a.ctypes.data == b.ctypes.data and a.strides == b.strides
_SAME_BITS = {types.int32: types.float32, types.int64: types.float64,
              types.float32: types.int32, types.float64: types.int64}


@intrinsic
def _same_bits(typingctx, x):
    """The value with the bit pattern of ``x`` as the other kind of number of its width:
    int32 <-> float32, int64 <-> float64."""
    result = _SAME_BITS.get(x)
    if result is None:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(result))

    return result(x), codegen


def _exp_nonpositive(x):
    """``exp(x)`` for ``x <= 0`` (NaN stays NaN), in the dtype of ``x``; numba only."""
    raise NotImplementedError("a numba function")
_F4 = np.float32
_EXP32 = tuple(_F4(c) for c in (
    1.4426950408889634, 12582912.0, 0.693359375, -2.12194440e-4, -87.68,
    1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1,
    5.0000001201e-1, 1.0, 0.0,
))
_EXP64_TAYLOR = tuple(1.0 / math.factorial(k) for k in range(12, 1, -1))


@overload(_exp_nonpositive)
def _exp_nonpositive_impl(x):
    """float32: Cephes ``expf`` (``x = k ln 2 + r``, ``|r| <= ln(2) / 2``, a degree-7
    polynomial in ``r``: within 2 ulp); float64: the same reduction with ``ln 2`` in two
    parts and Taylor's series to degree 12 (truncation below 2e-16). ``k`` is rounded by
    adding and subtracting ``1.5 * 2**mantissa_bits``; ``2**k`` is the float whose exponent
    field is ``k + bias``, so ``k`` stops at the smallest normal exponent: below ``-126.5 ln
    2`` (float32) or ``-1022.5 ln 2`` (float64) the result is 0."""
    if x == types.float32:
        log2e, magic, ln2_hi, ln2_lo, low, p0, p1, p2, p3, p4, p5, one, zero = _EXP32

        def exp32(x):
            if x < low:
                return zero
            k = (x * log2e + magic) - magic
            r = (x - k * ln2_hi) - k * ln2_lo
            p = (((((p0 * r + p1) * r + p2) * r + p3) * r + p4) * r + p5) * (r * r) + r + one
            return p * _same_bits(np.int32((np.int32(k) + 127) << 23))

        return exp32
    if x == types.float64:
        c12, c11, c10, c9, c8, c7, c6, c5, c4, c3, c2 = _EXP64_TAYLOR

        def exp64(x):
            if x < -708.7:
                return 0.0
            k = (x * 1.4426950408889634 + 6755399441055744.0) - 6755399441055744.0
            r = (x - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10
            p = ((((((((((c12 * r + c11) * r + c10) * r + c9) * r + c8) * r + c7) * r + c6) * r
                      + c5) * r + c4) * r + c3) * r + c2) * (r * r) + r + 1.0
            return p * _same_bits((np.int64(k) + 1023) << 52)

        return exp64
    return None


def _logistic(z):
    """``1 / (1 + exp(-z))`` in the dtype of ``z``; numba only."""
    raise NotImplementedError("a numba function")


@overload(_logistic)
def _logistic_impl(z):
    """From ``exp(-|z|)``, which cannot overflow: relative error within a few ulp down to
    the smallest normal number, NaN for NaN. The constants take the dtype of ``z`` (a
    Python ``1`` would turn float32 arithmetic into float64)."""
    if z not in (types.float32, types.float64):
        return None
    one, zero = (_F4(1), _F4(0)) if z == types.float32 else (1.0, 0.0)

    def logistic(z):
        e = _exp_nonpositive(-abs(z))
        q = one / (one + e)
        return q if z >= zero else e * q

    return logistic


@njit(inline="always")
def _sigmoid_rows(src, scale, bias, out):
    """``out = sigmoid(scale * src + bias)``; ``src`` may be ``out``."""
    n, k = src.shape
    per_row = bias.shape[0] > 1
    for i in range(n):
        r = i if per_row else 0
        for j in range(k):
            out[i, j] = _logistic(src[i, j] * scale + bias[r, j])


@kernel(error_model="numpy", fastmath={"contract"})
def sigmoid(pre, bias, out, scale=1.0):
    """``out = sigmoid(scale * pre + bias)``; ``bias`` ``(1, k)`` or per row ``(n, k)``;
    ``out`` may be ``pre``."""
    scale = pre.dtype.type(scale)
    # LLVM vectorises a loop only if no array it writes can overlap one it reads (a run-time
    # check); with ``out`` also the input, the loop reads it through ``out`` alone
    if _same(out, pre):
        _sigmoid_rows(out, scale, bias, out)
    else:
        _sigmoid_rows(pre, scale, bias, out)


@kernel(error_model="numpy", fastmath={"contract"})
def sigmoid_sample(pre, bias, state, prob, sample, scale=1.0):
    """``prob = sigmoid(scale * pre + bias)`` and ``sample ~ Bernoulli(prob)``, elementwise
    (``prob`` may be ``pre``); the draws are those of :func:`bernoulli` on the same
    state."""
    scale = pre.dtype.type(scale)
    if _same(prob, pre):
        _sigmoid_rows(prob, scale, bias, prob)
    else:
        _sigmoid_rows(pre, scale, bias, prob)
    bernoulli_rows(prob, state, sample)


@kernel(error_model="numpy", fastmath={"contract"})
def sigmoid_moved(pre, bias, out, old, frozen, moved, tol):
    """A mean-field update: ``out = sigmoid(pre + bias)`` in the rows not ``frozen`` (which
    keep ``old``), and the convergence test: ``moved[i]`` is set if some ``|out[i, j] -
    old[i, j]|`` exceeds ``tol`` (a flag, not the row's largest change: an "any" over the row
    vectorises, a running maximum does not). ``out`` may be ``pre``, not ``old``."""
    n, k = pre.shape
    per_row = bias.shape[0] > 1
    tol = pre.dtype.type(tol)  # a float64 test would convert every value
    for i in range(n):
        if frozen[i]:
            for j in range(k):
                out[i, j] = old[i, j]
            continue
        r = i if per_row else 0
        changed = False
        if _same(out, pre):
            for j in range(k):
                p = _logistic(out[i, j] + bias[r, j])
                out[i, j] = p
                changed |= abs(p - old[i, j]) > tol
        else:
            for j in range(k):
                p = _logistic(pre[i, j] + bias[r, j])
                out[i, j] = p
                changed |= abs(p - old[i, j]) > tol
        if changed:
            moved[i] = True


# -- the one dispatch on a visible unit type -----------------------------------------------------
#
# The unit types' codes: one table for every compiled loop. A unit type defined outside the
# package (a subclass of ``_units.VisibleUnits`` without compiled kernels) is registered
# under a code from ``FIRST_EXTERNAL`` on; the loops call back into its Python methods
# through numba's object mode. A code that is neither raises.

BINARY = 0
GAUSSIAN = 1
REPLICATED_SOFTMAX = 2
FIRST_EXTERNAL = 16
_EXTERNAL_UNITS = {}


def register_external(code, units):
    """Let the compiled loops call ``units``' Python methods for visible units of ``code``."""
    if code < FIRST_EXTERNAL:
        raise ValueError(f"codes below {FIRST_EXTERNAL} are the compiled unit types'")
    _EXTERNAL_UNITS[code] = units


def _external(code):
    units = _EXTERNAL_UNITS.get(int(code))
    if units is None:
        raise ValueError(f"No visible unit type has the code {code}.")
    return units


def _external_mean(code, pre, bias, length, out):
    _external(code).mean(pre, bias, length, out)


def _external_sample(code, pre, bias, length, state, mean, sample):
    _external(code).sample(pre, bias, length, state, mean, sample)


def _external_resample(code, v, state):
    _external(code).resample(v, state)


@kernel
def visible_mean(code, pre, bias, length, out):
    """The conditional mean of visible units of type ``code`` given their input ``pre``
    (``out`` may be ``pre``)."""
    if code == BINARY:
        sigmoid(pre, bias, out, 1.0)
    elif code == GAUSSIAN:
        identity(pre, bias, out)
    elif code == REPLICATED_SOFTMAX:
        softmax(pre, bias, length, out)
    else:
        with objmode():
            _external_mean(code, pre, bias, length, out)


@kernel
def visible_sample(code, pre, bias, length, state, mean, sample):
    """``sample ~ p(v | input pre)`` for visible units of type ``code``, with ``mean`` their
    conditional mean; if ``mean`` has no rows the means are not kept (computed in ``pre`` or
    ``sample``, or not at all)."""
    keep = mean.shape[0] > 0
    if code == BINARY:
        sigmoid_sample(pre, bias, state, mean if keep else pre, sample)
    elif code == GAUSSIAN:
        gaussian_sample(pre, bias, state, mean, sample)
    elif code == REPLICATED_SOFTMAX:
        multinomial_sample(pre, bias, length, state, mean, sample)
    else:
        with objmode():
            _external_sample(code, pre, bias, length, state, mean, sample)


@kernel
def visible_resample(code, v, state):
    """Redraw data of visible units of type ``code`` from the distribution its values are
    the mean of, in place (binary units: a Bernoulli draw of probabilities such as grey
    levels); unit types with nothing to redraw leave ``v`` as it is."""
    if code == BINARY:
        bernoulli(v, state, v)
    elif code >= FIRST_EXTERNAL:
        with objmode():
            _external_resample(code, v, state)
    elif code != GAUSSIAN and code != REPLICATED_SOFTMAX:
        raise ValueError("unknown visible unit code")


# -- the Replicated Softmax ---------------------------------------------------------------------


def _ordered_max(row):
    """The largest entry of a 1-D float array; numba only."""
    raise NotImplementedError("a numba function")


@overload(_ordered_max, inline="always")
def _ordered_max_impl(row):
    """As integers: a float's bits ``b`` map to ``b ^ ((b >> (w - 1)) & (2**(w-1) - 1))``
    (signed, ``w`` bits), which orders the floats as the integers (the negative ones'
    magnitude bits flipped) and is its own inverse. The integer maximum vectorises; a
    floating-point one does not (LLVM will not reorder a NaN-aware comparison). A positive
    NaN is the largest; any NaN in the row gives a NaN softmax either way."""
    bits = {types.float32: np.int32, types.float64: np.int64}.get(row.dtype)
    if bits is None:
        return None
    shift = bits(8 * np.dtype(bits).itemsize - 1)
    magnitude, lowest = bits(np.iinfo(bits).max), bits(np.iinfo(bits).min)

    def ordered_max(row):
        top = lowest
        for j in range(row.shape[0]):
            b = _same_bits(row[j])
            top = max(top, bits(b ^ ((b >> shift) & magnitude)))
        return _same_bits(bits(top ^ ((top >> shift) & magnitude)))

    return ordered_max


@njit(inline="always")
def _shifted_exp_row(pre, bias, i, r, row):
    """``row = exp(x - max(x))`` for ``x = pre[i] + bias[r]`` (which cannot overflow), the
    maximum by :func:`_ordered_max`, the ``exp`` by :func:`_exp_nonpositive`."""
    k = row.shape[0]
    for j in range(k):
        row[j] = pre[i, j] + bias[r, j]
    top = _ordered_max(row)
    for j in range(k):
        row[j] = _exp_nonpositive(row[j] - top)


@kernel(fastmath={"reassoc"})
def row_total(row):
    """The sum of a 1-D array in float64, in whatever order vectorises (a separate function:
    its reassociation flag stays on this loop)."""
    total = 0.0
    for j in range(row.shape[0]):
        total += row[j]
    return total


@kernel(error_model="numpy", fastmath={"contract"})
def softmax(pre, bias, length, out):
    """``out[i] = length[i] * softmax(pre[i] + bias)``: the mean of Replicated Softmax units
    (``out`` may be ``pre``)."""
    n, k = pre.shape
    per_row = bias.shape[0] > 1
    row = np.empty(k, dtype=out.dtype)
    for i in range(n if k else 0):
        _shifted_exp_row(pre, bias, i, i if per_row else 0, row)
        scale = length[i] / row_total(row)
        for j in range(k):
            out[i, j] = row[j] * scale


@kernel(error_model="numpy", fastmath={"contract"})
def multinomial_sample(pre, bias, length, state, mean, sample):
    """``mean`` as :func:`softmax` (not computed if ``mean`` has no rows); ``sample[i]``
    counts ``round(length[i])`` draws of a word from ``softmax(pre[i] + bias)``, each
    inverting the row's cumulative distribution by binary search. One pass per row over
    data in cache: the shifted input, its ``exp``, the cumulative sums with the draws, the
    mean."""
    n, k = pre.shape
    per_row = bias.shape[0] > 1
    row = np.empty(k, dtype=mean.dtype)
    cdf = np.empty(k, dtype=np.float64)
    s0, s1 = state[0], state[1]
    for i in range(n if k else 0):
        _shifted_exp_row(pre, bias, i, i if per_row else 0, row)
        s0, s1 = draw_counts(row, length[i], cdf, sample, i, s0, s1)
        if mean.shape[0]:
            scale = length[i] / cdf[k - 1]
            for j in range(k):
                mean[i, j] = row[j] * scale
    state[0], state[1] = s0, s1
