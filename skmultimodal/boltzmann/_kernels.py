"""Kernels of the Boltzmann family: activations, sampling, parameter updates.

Every activation takes a pre-activation ``pre`` (the matrix product computed by the caller), a
bias of shape ``(1, n)`` (shared by all rows) or ``(n_rows, n)`` (one per row), and writes
into preallocated outputs; ``out`` may alias ``pre``. Arithmetic follows the arrays' dtype
(float32 is the fast path).

The kernels are numba loops over arrays with no Python objects. The sigmoid computes its
own ``exp`` (:func:`_exp_nonpositive`: arithmetic that LLVM vectorises, where numba's
``math.exp`` is a scalar libm call without Intel's SVML), so the bias, the sigmoid and what
follows it (the Bernoulli draw, the mean-field convergence test) are one vectorised pass.
The Replicated Softmax's ``exp`` is the same function, between the row's maximum and the
draws, in one kernel per call. Where LLVM would not vectorise a loop as written, it is written
so that it does: the softmax's row maximum is taken on the floats' bits as integers
(:func:`_ordered_max`), row totals in a separately compiled loop that may reassociate
(:func:`_row_total`), 2-D additions, copies and scalings as plain loops (numba's ``a += b``
on 2-D arrays goes value by value, and an index with an offset into 2-D data is gathered
value by value); the draws' binary search stays free of branches (:func:`_pick`).

The deep Boltzmann machine's loops are compiled too, with their matrix products (BLAS through
numba's ``np.dot``, the same OpenBLAS calls numpy makes) inside: the mean-field inference
(:func:`mean_field_layers`), a Gibbs sweep (:func:`gibbs_sweep`), the parameter step of joint
training (:func:`dbm_update`), an epoch of joint training over complete dense rows
(:func:`dbm_epoch`, the three in a loop over batches) and a batch or an epoch of PCD for the
RBMs of its pretraining (:func:`rbm_pcd_step`, :func:`rbm_pcd_epoch`). A DBM's layers reach them as tuples of
arrays with the graph as integer arrays, so one compiled loop serves every architecture, and
a few hundred Python calls per batch become a handful (at the benchmark's 128-unit layers
they had cost about a tenth of an epoch). Kernels are compiled on first use and cached on disk
next to this file (or in ``NUMBA_CACHE_DIR``): the DBM's loops take about half a minute per
float type the first time; where no cache folder is writable they are compiled once per
process, with a warning.

Random numbers come from a xoroshiro128++ generator (Blackman & Vigna) whose state (two uint64
in a small array) is owned by the caller and seeded from the estimator's
``numpy.random.Generator``: the same seed gives the same draws, with no hidden global state,
so concurrent fits in threads stay independent and reproducible. Every bit of its output is
of full quality (unlike xoroshiro128+, whose low bits are weak linear-feedback bits), so the
Bernoulli kernels take two 24-bit uniforms from one 64-bit draw (bits 40-63 and 8-31). The
steps of one generator depend on each other, so the Bernoulli kernels run one generator per
pair of columns instead ("lanes", seeded for each call from one draw of the caller's
generator through SplitMix64), and the loop over lanes vectorises.
"""

import math
import warnings

import numpy as np
from numba import njit, types
from numba.extending import intrinsic, overload

_R17 = np.uint64(17)
_S21 = np.uint64(21)
_R28 = np.uint64(28)
_R49 = np.uint64(49)
_S8 = np.uint64(8)
_R40 = np.uint64(40)
_U64 = np.uint64(64)
_M24 = np.uint64(2**24 - 1)
_TWO_M24 = 1.0 / 16777216.0


def _kernel(func=None, **options):
    """``njit(cache=True, nogil=True, **options)``, or without the disk cache where none is
    writable."""
    if func is None:
        return lambda f: _kernel(f, **options)
    try:
        return njit(cache=True, nogil=True, **options)(func)
    except RuntimeError as exc:
        warnings.warn(
            f"numba cannot cache {func.__name__} ({exc}); kernels will be compiled in every "
            "process. Set NUMBA_CACHE_DIR to a writable folder to cache them.",
            RuntimeWarning,
            stacklevel=2,
        )
        return njit(nogil=True, **options)(func)


def new_state(rng):
    """A fresh generator state drawn from a ``numpy.random.Generator``."""
    state = rng.integers(1, 2**63, size=2, dtype=np.uint64)
    return state


@njit(inline="always")
def _rotl(x, k):
    return (x << k) | (x >> (_U64 - k))


@njit(inline="always")
def _next_raw(s0, s1):
    """One 64-bit draw of xoroshiro128++ (rotations 17, 49, 28; shift 21), and the advanced
    state."""
    result = _rotl(s0 + s1, _R17) + s0
    t = s1 ^ s0
    s0 = _rotl(s0, _R49) ^ t ^ (t << _S21)
    s1 = _rotl(t, _R28)
    return result, s0, s1


@njit(inline="always")
def _uniform_halves(r):
    """Two independent uniforms in [0, 1) with 24 bits each from one 64-bit draw ``r``:
    bits 40-63 and 8-31 (disjoint, all of full quality in xoroshiro128++)."""
    return np.int64(r >> _R40) * _TWO_M24, np.int64((r >> _S8) & _M24) * _TWO_M24


@njit(inline="always")
def _next_uniform(s0, s1):
    """One uniform draw in [0, 1) with 24 bits (the top ones), and the advanced state."""
    result, s0, s1 = _next_raw(s0, s1)
    u, _ = _uniform_halves(result)
    return u, s0, s1


@_kernel
def uniform_pairs(state, first, second):
    """Fill two 1-D arrays of one length with the two uniforms of each 64-bit draw (for
    testing :func:`_uniform_halves`)."""
    s0, s1 = state[0], state[1]
    for i in range(first.shape[0]):
        r, s0, s1 = _next_raw(s0, s1)
        first[i], second[i] = _uniform_halves(r)
    state[0], state[1] = s0, s1


@_kernel
def uniform(state, out):
    """Fill a 1-D array with uniform draws in [0, 1)."""
    s0, s1 = state[0], state[1]
    for i in range(out.shape[0]):
        u, s0, s1 = _next_uniform(s0, s1)
        out[i] = u
    state[0], state[1] = s0, s1


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S27 = np.uint64(27)
_S30 = np.uint64(30)
_S31 = np.uint64(31)
_ONE = np.uint64(1)
_TWO = np.uint64(2)


@njit(inline="always")
def _splitmix(z):
    """SplitMix64's output function (Steele, Lea & Flood 2014), a bijection of 64-bit words;
    ``_splitmix(seed + i * _GOLDEN)`` for ``i = 1, 2, ...`` is its sequence from ``seed``."""
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@njit(inline="always")
def _lane_states(state, n_lanes):
    """Fresh xoroshiro128++ states for ``n_lanes`` lanes, for one kernel call: lane ``l``
    takes outputs ``2l + 1`` and ``2l + 2`` of the SplitMix64 sequence seeded by one draw
    of ``state`` (the seeding its authors recommend), which advances ``state``."""
    seed, s0, s1 = _next_raw(state[0], state[1])
    state[0], state[1] = s0, s1
    a = np.empty(n_lanes, dtype=np.uint64)
    b = np.empty(n_lanes, dtype=np.uint64)
    for lane in range(n_lanes):
        a[lane] = _splitmix(seed + _GOLDEN * (_TWO * np.uint64(lane) + _ONE))
        b[lane] = _splitmix(seed + _GOLDEN * (_TWO * np.uint64(lane) + _TWO))
    return a, b


@njit(inline="always")
def _bernoulli_rows(prob, state, sample):
    """``sample ~ Bernoulli(prob)``, elementwise, with the lanes of :func:`_lane_states`
    (``(k + 1) // 2`` of them for ``k`` columns).

    Lane ``l < h = k // 2`` draws columns ``l`` and ``h + l`` of every row, the two
    uniforms of one 64-bit draw (:func:`_uniform_halves`); for odd ``k`` lane ``h`` draws
    the last column. The lanes are independent generators, so the loop over them
    vectorises, where the steps of one generator depend on each other."""
    n, k = prob.shape
    h = k // 2
    a, b = _lane_states(state, (k + 1) // 2)
    for i in range(n):
        for lane in range(h):
            r, s0, s1 = _next_raw(a[lane], b[lane])
            a[lane] = s0
            b[lane] = s1
            u, w = _uniform_halves(r)
            sample[i, lane] = u < prob[i, lane]
            sample[i, h + lane] = w < prob[i, h + lane]
        if k % 2:
            r, s0, s1 = _next_raw(a[h], b[h])
            a[h] = s0
            b[h] = s1
            u, _ = _uniform_halves(r)
            sample[i, k - 1] = u < prob[i, k - 1]


@_kernel(error_model="numpy")
def bernoulli(prob, state, sample):
    """``sample ~ Bernoulli(prob)``, elementwise (:func:`_bernoulli_rows`: 24-bit uniforms,
    exact in float32 too)."""
    _bernoulli_rows(prob, state, sample)


@_kernel(error_model="numpy")
def identity(pre, bias, out):
    """``out = pre + bias``: the mean of unit-variance Gaussian units (``bias`` ``(1, k)``
    or per row; ``out`` may be ``pre``)."""
    per_row = bias.shape[0] > 1
    for i in range(out.shape[0]):
        r = i if per_row else 0
        for j in range(out.shape[1]):
            out[i, j] = pre[i, j] + bias[r, j]


_ZIG_R = 3.6541528853610088


def _ziggurat_tables(r=_ZIG_R, v=0.00492867323399):
    """The 256 layers of Marsaglia & Tsang's (2000) ziggurat for the standard normal (the
    layout of numpy's): per layer the bound under which a 52-bit draw is accepted at once
    (``k``), the scale from a draw to ``x`` (``w``) and the density at the layer's edge
    (``f``); ``r`` is the start of the tail, ``v`` the area of each layer."""
    m = 2.0**52
    k, w, f = np.zeros(256, dtype=np.uint64), np.zeros(256), np.zeros(256)
    q = v / math.exp(-0.5 * r * r)
    k[0] = r / q * m
    w[0], w[255] = q / m, r / m
    f[0], f[255] = 1.0, math.exp(-0.5 * r * r)
    d = t = r
    for i in range(254, 0, -1):
        d = math.sqrt(-2.0 * math.log(v / d + math.exp(-0.5 * d * d)))
        k[i + 1] = d / t * m
        t = d
        f[i] = math.exp(-0.5 * d * d)
        w[i] = d / m
    return k, w, f


_ZIG_K, _ZIG_W, _ZIG_F = _ziggurat_tables()
_M52 = np.uint64(2**52 - 1)
_S11 = np.uint64(11)
_S55 = np.uint64(55)
_S56 = np.uint64(56)
_TWO_M53 = 1.0 / 2.0**53


@njit
def _ziggurat_edge(layer, x, s0, s1):
    """The rare cases of :func:`add_normal`'s ziggurat: a draw from the tail beyond
    ``_ZIG_R`` (layer 0), or the test of ``x`` against the density in a layer's wedge;
    returns whether a value was accepted, the value and the state."""
    if layer == 0:
        while True:
            a, s0, s1 = _next_raw(s0, s1)
            b, s0, s1 = _next_raw(s0, s1)
            xx = -math.log1p(-((a >> _S11) * _TWO_M53)) / _ZIG_R
            yy = -math.log1p(-((b >> _S11) * _TWO_M53))
            if yy + yy > xx * xx:
                return True, (-(_ZIG_R + xx) if x < 0 else _ZIG_R + xx), s0, s1
    u, s0, s1 = _next_raw(s0, s1)
    y = (_ZIG_F[layer - 1] - _ZIG_F[layer]) * ((u >> _S11) * _TWO_M53) + _ZIG_F[layer]
    return y < math.exp(-0.5 * x * x), x, s0, s1


@njit(inline="always")
def _ziggurat_candidate(r):
    """The ziggurat's fast path for one 64-bit draw ``r`` (as numpy's): the layer from the
    top 8 bits, the value from the low 52 with the sign from bit 55, and whether it is
    accepted at once (about 99% of draws)."""
    layer = r >> _S56
    bits = r & _M52
    x = np.int64(bits) * _ZIG_W[layer]
    x = -x if (r >> _S55) & _ONE else x
    return layer, x, bits < _ZIG_K[layer]


@njit(inline="always")
def _normal(s0, s1):
    """One standard normal draw by the whole ziggurat, and the advanced state."""
    while True:
        r, s0, s1 = _next_raw(s0, s1)
        layer, x, accepted = _ziggurat_candidate(r)
        if accepted:
            return x, s0, s1
        accepted, x, s0, s1 = _ziggurat_edge(layer, x, s0, s1)
        if accepted:
            return x, s0, s1


@_kernel(error_model="numpy")
def add_normal(mean, state, sample):
    """``sample = mean + N(0, 1)`` noise, elementwise, by Marsaglia & Tsang's ziggurat
    (``sample`` may be ``mean``; :func:`_normal_rows`)."""
    _normal_rows(mean, mean[:0], state, sample)


@njit(inline="always")
def _normal_rows(pre, bias, state, sample):
    """``sample = pre + bias + N(0, 1)`` noise, elementwise (``bias`` ``(1, k)``, per row, or
    with no rows for none), by Marsaglia & Tsang's ziggurat.

    Row by row, one lane per column (:func:`_lane_states`) draws a candidate for every
    value (:func:`_ziggurat_candidate`: the loop over lanes vectorises, table lookups as
    gathers); the few values rejected by the fast path are then finished one by one from
    the caller's generator, by the wedge or tail test of the same candidate and, if that
    fails too, a fresh draw (:func:`_normal`): each value follows the ziggurat exactly."""
    n, k = pre.shape
    per_row = bias.shape[0] > 1
    biased = bias.shape[0] > 0
    a, b = _lane_states(state, k)
    raw = np.empty(k, dtype=np.uint64)
    s0, s1 = state[0], state[1]
    for i in range(n):
        rejected = 0
        row = i if per_row else 0
        for j in range(k):
            r, t0, t1 = _next_raw(a[j], b[j])
            a[j] = t0
            b[j] = t1
            _, x, accepted = _ziggurat_candidate(r)
            base = pre[i, j] + bias[row, j] if biased else pre[i, j]
            sample[i, j] = base + (x if accepted else 0.0)
            raw[j] = r
            rejected += not accepted
        j = 0
        while rejected:  # up to the row's last rejected value
            layer, x, accepted = _ziggurat_candidate(raw[j])
            if not accepted:
                rejected -= 1
                accepted, x, s0, s1 = _ziggurat_edge(layer, x, s0, s1)
                if not accepted:
                    x, s0, s1 = _normal(s0, s1)
                sample[i, j] += x
            j += 1
    state[0], state[1] = s0, s1


@_kernel(error_model="numpy")
def gaussian_sample(pre, bias, state, mean, sample):
    """``mean = pre + bias`` and ``sample ~ N(mean, 1)`` (``mean`` may be ``pre``); if
    ``mean`` has no rows, the sample alone, in one pass."""
    if mean.shape[0]:
        identity(pre, bias, mean)
        _normal_rows(mean, mean[:0], state, sample)
    else:
        _normal_rows(pre, bias, state, sample)


@intrinsic
def _pick(typingctx, cond, a, b):
    """``a if cond else b`` as a ``select`` marked ``!unpredictable``: LLVM keeps it a
    conditional move, where it would otherwise turn the select of a loop-carried value (a
    binary search's bound) into a branch that mispredicts about half the time."""
    if not isinstance(cond, types.Boolean) or a != b:
        return None

    def codegen(context, builder, signature, args):
        chosen = builder.select(*args)
        chosen.set_metadata("unpredictable", builder.module.add_metadata([]))
        return chosen

    return a(cond, a, b), codegen


@njit(inline="always")
def _draw_counts(prob_row, length, cdf, sample, i, s0, s1):
    """``sample[i]`` counts ``round(length)`` draws from ``prob_row`` normalised (the
    cumulative sums in ``cdf``, float64, the last one the row's total); returns the new
    state. Each draw is the first ``j`` with ``cdf[j] > u`` for ``u`` uniform in ``[0,
    total)``, found by a branch-free binary search over ``cdf[:-1]`` (so ``j <= k - 1``
    whatever the rounding of ``u``)."""
    k = prob_row.shape[0]
    acc = 0.0
    for j in range(k):
        acc += prob_row[j]
        cdf[j] = acc
        sample[i, j] = 0.0
    for _ in range(int(round(length))):
        u, s0, s1 = _next_uniform(s0, s1)
        u *= cdf[k - 1]
        lo, size = 0, k  # the answer lies in lo:lo + size
        while size > 1:
            half = size >> 1
            lo = _pick(cdf[lo + half - 1] <= u, lo + half, lo)
            size -= half
        sample[i, lo] += 1.0
    return s0, s1


@_kernel
def length_bias(bias, L, a, out):
    """``out = bias + L @ a``: the hidden bias of each row, ``bias`` ``(1, k)`` plus the
    document lengths ``L`` ``(n, M)`` times their weights ``a`` ``(M, k)`` (Replicated
    Softmax modalities; zero lengths are skipped). One pass instead of a matrix product
    with an inner dimension of 1 or 2 and a broadcast sum."""
    n, k = out.shape
    for i in range(n):
        for j in range(k):
            out[i, j] = bias[0, j]
        for m in range(L.shape[1]):
            length = L[i, m]
            if length != 0:
                for j in range(k):
                    out[i, j] += length * a[m, j]


@_kernel
def momentum_step(
    param, velocity, grad_pos, grad_neg, scale_pos, scale_neg, momentum, learning_rate,
    weight_decay,
):
    """One SGD step with momentum on a 2-D parameter block, in place.

    ``velocity = momentum * velocity + learning_rate * (scale_pos * grad_pos - scale_neg *
    grad_neg - weight_decay * param)``, then ``param += velocity``. The scales turn summed
    statistics into means over the positive batch and the negative particles. The scalars
    take the parameters' dtype (float32 arithmetic vectorises twice as wide).
    """
    n, k = param.shape
    t = param.dtype.type
    momentum, learning_rate, weight_decay = t(momentum), t(learning_rate), t(weight_decay)
    scale_pos, scale_neg = t(scale_pos), t(scale_neg)
    for i in range(n):
        for j in range(k):
            v = momentum * velocity[i, j] + learning_rate * (
                scale_pos * grad_pos[i, j] - scale_neg * grad_neg[i, j]
                - weight_decay * param[i, j]
            )
            velocity[i, j] = v
            param[i, j] += v


@_kernel
def momentum_step_sums(param, velocity, x_pos, x_neg, scale_pos, scale_neg, momentum,
                       learning_rate):
    """:func:`momentum_step` of a bias row ``param`` (``(1, k)``, no weight decay) whose
    statistics are the column sums of ``x_pos`` and ``x_neg``, summed in ``param``'s dtype
    (as the weights' statistics are, by BLAS)."""
    k = param.shape[1]
    pos, neg = np.zeros(k, dtype=param.dtype), np.zeros(k, dtype=param.dtype)
    for i in range(x_pos.shape[0]):
        for j in range(k):
            pos[j] += x_pos[i, j]
    for i in range(x_neg.shape[0]):
        for j in range(k):
            neg[j] += x_neg[i, j]
    t = param.dtype.type
    momentum, learning_rate = t(momentum), t(learning_rate)
    scale_pos, scale_neg = t(scale_pos), t(scale_neg)
    for j in range(k):
        v = momentum * velocity[0, j] + learning_rate * (
            scale_pos * pos[j] - scale_neg * neg[j])
        velocity[0, j] = v
        param[0, j] += v


@_kernel
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


@_kernel(error_model="numpy", fastmath={"contract"})
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


@_kernel(error_model="numpy", fastmath={"contract"})
def sigmoid_sample(pre, bias, state, prob, sample, scale=1.0):
    """``prob = sigmoid(scale * pre + bias)`` and ``sample ~ Bernoulli(prob)``, elementwise
    (``prob`` may be ``pre``); the draws are those of :func:`bernoulli` on the same
    state."""
    scale = pre.dtype.type(scale)
    if _same(prob, pre):
        _sigmoid_rows(prob, scale, bias, prob)
    else:
        _sigmoid_rows(pre, scale, bias, prob)
    _bernoulli_rows(prob, state, sample)


@_kernel(error_model="numpy", fastmath={"contract"})
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


@njit(inline="always")
def _scale_rows(x, scale):
    """``x *= scale`` in place, as a loop that vectorises (numba's 2-D ``*=`` does not)."""
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            x[i, j] *= scale


@njit(inline="always")
def _add_rows(src, out, keep=1):
    """``out = keep * out + src`` (``keep`` 1 or 0) with ``src`` ``(n, k)`` or one row
    ``(1, k)`` for every row, as loops that vectorise: numba's ``out += src`` and
    ``out[:] = src`` on 2-D arrays go value by value."""
    n, k = out.shape
    per_row = src.shape[0] > 1
    for i in range(n):
        r = i if per_row else 0
        if keep:
            for j in range(k):
                out[i, j] += src[r, j]
        else:
            for j in range(k):
                out[i, j] = src[r, j]


@_kernel
def fortran_copy_pays(n_rows, inner, n_cols):
    """Whether ``a @ w.T`` (``a`` ``(n_rows, inner)``, ``w`` ``(n_cols, inner)``) is faster
    with ``a`` copied to Fortran order first: for a few rows in a small product, which
    OpenBLAS then computes with its small-matrix kernels (float32, 32 rows, 128x128 weights:
    9 us instead of 14, copy included). Beyond about 10**6 multiply-adds, or from about 64
    rows, the copy costs more than it saves (float32, 32 rows, 128x256: 33 us against 27)."""
    return n_rows <= 48 and n_rows * inner * n_cols <= 1_000_000


@_kernel
def _layer_product(a, w, transposed, out):
    """``out = a @ w.T`` if ``transposed`` else ``a @ w`` (BLAS; ``a`` copied to Fortran
    order first where :func:`fortran_copy_pays`)."""
    if not transposed:
        np.dot(a, w, out)
    elif fortran_copy_pays(a.shape[0], a.shape[1], w.shape[0]):
        np.dot(np.asfortranarray(a), w.T, out)
    else:
        np.dot(a, w.T, out)


@_kernel
def _layer_input(x, spare, current, weights, start, stop, source, edge, transposed, out):
    """``out`` = the sum over ``q`` in ``start:stop`` of the state of layer ``source[q]``
    (``x`` or ``spare`` by ``current``) times ``weights[edge[q]]`` (transposed if
    ``transposed[q]``); zeros if the range is empty."""
    if start == stop:
        out[:] = 0
    for q in range(start, stop):
        a = x[source[q]] if current[source[q]] == 0 else spare[source[q]]
        if q == start:
            _layer_product(a, weights[edge[q]], transposed[q], out)
        else:
            term = np.empty_like(out)
            _layer_product(a, weights[edge[q]], transposed[q], term)
            _add_rows(term, out)


@_kernel(error_model="numpy", fastmath={"contract"})
def gibbs_sweep(x, spare, current, bias, length_weights, length_updates, weights, order, ptr,
                source, edge, transposed, codes, lengths, state, clamp):
    """One sweep of block Gibbs sampling of a DBM (``_dbm._DBMModel.gibbs``), compiled.

    The layers, their neighbours and the double buffers as in :func:`mean_field_layers`
    (``order``: the odd hidden layers, then the even hidden layers and the visible layers,
    so each block is drawn given the other); the layers' biases are those of
    :func:`_layer_biases` (``length_updates``: its last two arguments). Hidden layers and binary visible units are drawn as
    :func:`sigmoid_sample`, Gaussian ones as :func:`gaussian_sample`, Replicated Softmax
    ones as :func:`multinomial_sample` with the document lengths ``lengths[:, m]``. If
    ``clamp`` has rows, visible layer ``m`` keeps its state in the rows where ``clamp[:,
    m]`` (and is not drawn at all if that is every row).
    """
    n = lengths.shape[0]
    clamped = clamp.shape[0] > 0
    biases = _layer_biases(bias, length_weights, lengths, *length_updates)
    for p in range(order.shape[0]):
        layer = order[p]
        code = codes[p]
        if code >= 0 and clamped and clamp[:, layer].all():
            continue
        old = x[layer] if current[layer] == 0 else spare[layer]
        out = spare[layer] if current[layer] == 0 else x[layer]
        pre = np.empty_like(out)
        _layer_input(x, spare, current, weights, ptr[p], ptr[p + 1], source, edge,
                     transposed, pre)
        if code < 0:
            sigmoid_sample(pre, biases[layer], state, pre, out)
        else:
            _visible_sample(code, pre, biases[layer], lengths[:, layer], state, out[:0],
                            out)
        if code >= 0 and clamped:
            for i in range(n):
                if clamp[i, layer]:
                    out[i, :] = old[i, :]
        current[layer] ^= 1


@_kernel
def _visible_mean(code, pre, bias, length, out):
    """The conditional mean of visible units of type ``code`` (the ``code`` of the classes
    of ``_units``) given their input ``pre`` (``out`` may be ``pre``)."""
    if code == 0:
        sigmoid(pre, bias, out, 1.0)
    elif code == 1:
        identity(pre, bias, out)
    else:
        softmax(pre, bias, length, out)


@_kernel
def _visible_sample(code, pre, bias, length, state, mean, sample):
    """``sample ~ p(v | input pre)`` for visible units of type ``code``, with ``mean`` their
    conditional mean (as the ``sample`` method of the classes of ``_units``); if ``mean``
    has no rows the means are not kept (computed in ``pre`` or ``sample``, or not at all)."""
    keep = mean.shape[0] > 0
    if code == 0:
        sigmoid_sample(pre, bias, state, mean if keep else pre, sample)
    elif code == 1:
        gaussian_sample(pre, bias, state, mean, sample)
    else:
        multinomial_sample(pre, bias, length, state, mean, sample)


@_kernel
def _layer_biases(bias, length_weights, L, length_modality, length_layer):
    """Every layer's bias as a list: ``bias[l]`` (``(1, k)``), or per row with the document
    lengths ``L`` of the modalities whose length scales it (``+ L[:, m] length_weights[m]``
    for ``m`` in ``length_modality`` with ``length_layer`` the layer)."""
    n = L.shape[0]
    biases = [bias[layer] for layer in range(len(bias))]
    for k in range(length_modality.shape[0]):
        m, layer = length_modality[k], length_layer[k]
        if biases[layer].shape[0] == 1:
            biases[layer] = np.empty((n, bias[layer].shape[1]), dtype=L.dtype)
            _add_rows(bias[layer], biases[layer], 0)
        out, weight = biases[layer], length_weights[m][0]  # not list items in the loop
        for i in range(n):
            length = L[i, m]
            for j in range(out.shape[1]):
                out[i, j] += length * weight[j]
    return biases


@_kernel
def _mean_field_start(x, fixed, L, weights, bias, length_weights, units, mean_length, graph,
                      top, missing, absent):
    """The start of :func:`mean_field_layers`: document lengths, biases, the recognition
    pass and the constant part of each layer's input; returns the biases (a list)."""
    (up_order, down_ptr, down_edge, edge_lower, edge_upper, doubled, edge_modality,
     pathway_tops, below, above_edge, length_modality, length_layer) = graph
    n, M = L.shape
    dtype = L.dtype.type
    for m in range(M):
        for i in range(n):
            if missing[i, m]:
                x[m][i, :] = 0
                L[i, m] = mean_length[m] if units[m] == 2 else 0
            elif units[m] == 2:
                L[i, m] = _row_total(x[m][i])
            else:
                L[i, m] = 0
    biases = _layer_biases(bias, length_weights, L, length_modality, length_layer)
    for m in range(M):
        if absent[m]:
            _add_rows(bias[m], fixed[m], 0)
    # bottom-up through the present pathways, a layer with a layer above it taking its
    # input doubled; the top layer's input from the present pathways scaled by
    # n_modalities / n_present
    any_missing = absent.any()
    for p in range(up_order.shape[0]):
        layer = up_order[p]
        _add_rows(biases[layer], fixed[layer], 0)
        pre = np.empty_like(x[layer])
        if down_ptr[p] == down_ptr[p + 1]:
            pre[:] = 0
        for q in range(down_ptr[p], down_ptr[p + 1]):
            e = down_edge[q]
            lower = edge_lower[e]
            term = pre if q == down_ptr[p] else np.empty_like(pre)
            _layer_product(x[lower], weights[e], True, term)
            if layer == top and any_missing:
                for i in range(n):
                    if missing[i, edge_modality[e]]:
                        term[i, :] = 0
            if lower < M and not absent[lower]:
                _add_rows(term, fixed[layer])
            if q > down_ptr[p]:
                _add_rows(term, pre)
        scale = 2.0 if doubled[layer] else 1.0
        if layer == top and any_missing:
            for i in range(n):
                present = 0
                for m in range(M):
                    present += not missing[i, m]
                pre[i, :] *= dtype(M / max(present, 1))
        sigmoid(pre, biases[layer], x[layer], scale)
    # top-down through each missing pathway: a hidden layer's input from above doubled in
    # place of the missing input from below, down to the missing visible block's mean
    for m in range(M):
        if not absent[m]:
            continue
        rows = np.flatnonzero(missing[:, m])
        layer = pathway_tops[m]
        while True:
            e = above_edge[layer]
            above = x[edge_upper[e]]
            src = np.empty((rows.size, above.shape[1]), dtype=L.dtype)
            for r in range(rows.size):
                src[r, :] = above[rows[r], :]
            pre = np.empty((rows.size, x[layer].shape[1]), dtype=L.dtype)
            np.dot(src, weights[e], pre)
            if layer >= M:
                b = biases[layer]
                if b.shape[0] > 1:
                    b = np.empty_like(pre)
                    for r in range(rows.size):
                        b[r, :] = biases[layer][rows[r], :]
                sigmoid(pre, b, pre, 2.0)
            else:
                lengths = np.empty(rows.size, dtype=L.dtype)
                for r in range(rows.size):
                    lengths[r] = L[rows[r], m]
                _visible_mean(units[m], pre, bias[m], lengths, pre)
            for r in range(rows.size):
                x[layer][rows[r], :] = pre[r, :]
            if layer < M:
                break
            layer = below[layer]
    return biases


@_kernel(error_model="numpy", fastmath={"contract"})
def mean_field_layers(x, spare, current, fixed, L, weights, bias, length_weights, units,
                      mean_length, graph, top, plan, missing, n_iter, tol):
    """The mean-field posterior of a DBM (``_dbm._DBMModel.mean_field_layers``), compiled.

    ``x`` holds the layers' states: the visible blocks on entry (rows ``missing`` in a
    modality are overwritten), every hidden layer's buffer; ``L`` receives the document
    lengths (the mean training length where missing); ``bias[l]`` is layer ``l``'s bias
    (the visible biases, then the hidden ones), ``length_weights[m]`` modality ``m``'s
    length-scaled bias on the layer ``graph`` names for it; ``units`` the modalities' unit
    codes. The layers start at the recognition pass (:func:`_mean_field_start`), then the
    sweeps update the layers of ``plan`` (``_DBMModel._sweep_plan``: the odd hidden
    layers, then the even hidden layers and the visible layers missing in some rows; the
    graph is bipartite, so the layers of a block do not neighbour each other), each from
    its neighbours ``source[q]`` through ``weights[edge[q]]`` (transposed if
    ``transposed[q]``), ``q`` in ``ptr[p]:ptr[p + 1]``, plus ``fixed[l]`` (its bias and the
    input from the visible layers present in every row, computed once). Hidden layers
    (``codes[p] < 0``) become the sigmoid of it, a missing visible block its mean. A new
    state is written into the array that does not hold the current one (``x[l]`` if
    ``current[l] == 1``, else ``spare[l]``). A row stops (keeps its state) after the first
    sweep in which none of its values moves by more than ``tol``, or after ``n_iter``
    sweeps. Returns the number of sweeps made.
    """
    order, ptr, source, edge, transposed, codes = plan
    n, M = L.shape
    if n == 0:
        return 0
    absent = np.zeros(M, dtype=np.bool_)
    for m in range(M):
        absent[m] = missing[:, m].any()
    _mean_field_start(x, fixed, L, weights, bias, length_weights, units, mean_length, graph,
                      top, missing, absent)
    frozen = np.zeros(n, dtype=np.bool_)
    moved = np.zeros(n, dtype=np.bool_)
    sweeps = 0
    for _ in range(n_iter):
        moved[:] = False
        for p in range(order.shape[0]):
            layer = order[p]
            old = x[layer] if current[layer] == 0 else spare[layer]
            out = spare[layer] if current[layer] == 0 else x[layer]
            _layer_input(x, spare, current, weights, ptr[p], ptr[p + 1], source, edge,
                         transposed, out)
            if codes[p] < 0:
                sigmoid_moved(out, fixed[layer], out, old, frozen, moved, tol)
            else:
                _visible_mean(codes[p], out, fixed[layer], L[:, layer], out)
                for i in range(n):
                    if frozen[i] or not missing[i, layer]:
                        out[i, :] = old[i, :]
                    else:
                        for j in range(out.shape[1]):
                            if abs(out[i, j] - old[i, j]) > tol:
                                moved[i] = True
                                break
            current[layer] ^= 1
        sweeps += 1
        done = True
        for i in range(n):
            frozen[i] |= not moved[i]
            done &= frozen[i]
        if done:
            break
    return sweeps


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


@_kernel(fastmath={"reassoc"})
def _row_total(row):
    """The sum of a 1-D array in float64, in whatever order vectorises (a separate function:
    its reassociation flag stays on this loop)."""
    total = 0.0
    for j in range(row.shape[0]):
        total += row[j]
    return total


@_kernel(error_model="numpy", fastmath={"contract"})
def softmax(pre, bias, length, out):
    """``out[i] = length[i] * softmax(pre[i] + bias)``: the mean of Replicated Softmax units
    (``out`` may be ``pre``)."""
    n, k = pre.shape
    per_row = bias.shape[0] > 1
    row = np.empty(k, dtype=out.dtype)
    for i in range(n if k else 0):
        _shifted_exp_row(pre, bias, i, i if per_row else 0, row)
        scale = length[i] / _row_total(row)
        for j in range(k):
            out[i, j] = row[j] * scale


@_kernel(error_model="numpy", fastmath={"contract"})
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
        s0, s1 = _draw_counts(row, length[i], cdf, sample, i, s0, s1)
        if mean.shape[0]:
            scale = length[i] / cdf[k - 1]
            for j in range(k):
                mean[i, j] = row[j] * scale
    state[0], state[1] = s0, s1


@_kernel
def _hidden_bias(b, A, L, uses_length):
    """The hidden bias of an RBM per row, ``b + L @ A`` (``(1, k)`` if no lengths)."""
    if not uses_length:
        return b.reshape(1, b.shape[0])
    out = np.empty((L.shape[0], b.shape[0]), dtype=b.dtype)
    length_bias(b.reshape(1, b.shape[0]), L, A, out)
    return out


@_kernel(error_model="numpy", fastmath={"contract"})
def rbm_pcd_step(W, b, c, A, uses_length, velocity, v, L, h_chains, L_chains, groups, up,
                 down, k, state, momentum, learning_rate, weight_decay, buffers):
    """One batch of PCD-k for an RBM of a DBM's stack (``_dbm._train_rbm``), compiled.

    ``W`` ``(K, F)``, ``b``, ``c`` and the length weights ``A`` ``(M, K)`` (used if
    ``uses_length``: the hidden bias is then ``b + L @ A``) are updated in place by momentum
    SGD (``velocity``: a tuple of four 2-D arrays shaped as ``W``, ``(1, K)``, ``(1, F)``,
    ``A``). The data's hidden probabilities are ``sigmoid(up * W v + b(L))``; each of the
    ``k`` steps draws the visible chains given ``down * W^T h`` group by group (``groups``:
    rows ``(start, stop, unit code, modality)`` of the visible columns, the modality's
    document lengths in ``L_chains``), then the chains' hidden units ``h_chains`` given
    ``up * W v``. ``buffers``: ``h_pos`` (at least the batch's rows), ``pre_v``, ``v_neg``
    (the chains' shape over ``F``), ``h_neg``, ``g_pos``, ``g_neg`` (shaped as ``W``). The
    draws are those of the uncompiled step, in order (the visible means are not kept).
    """
    h_pos_all, pre_v, v_neg, h_neg, g_pos, g_neg = buffers
    n = v.shape[0]
    nc = h_chains.shape[0]
    h_pos = h_pos_all[:n]
    _layer_product(v, W, True, h_pos)
    sigmoid(h_pos, _hidden_bias(b, A, L, uses_length), h_pos, up)
    bias_neg = _hidden_bias(b, A, L_chains, uses_length)
    c_row = c.reshape(1, c.shape[0])
    for _ in range(k):
        np.dot(h_chains, W, pre_v)
        if down != 1.0:
            _scale_rows(pre_v, pre_v.dtype.type(down))
        if groups.shape[0] == 1:
            _visible_sample(groups[0, 2], pre_v, c_row, L_chains[:, groups[0, 3]], state,
                            v_neg[:0], v_neg)
        else:  # each group's columns as contiguous blocks, and back
            for g in range(groups.shape[0]):
                lo, hi = groups[g, 0], groups[g, 1]
                sample = np.empty((nc, hi - lo), dtype=W.dtype)
                _visible_sample(groups[g, 2], np.ascontiguousarray(pre_v[:, lo:hi]),
                                np.ascontiguousarray(c_row[:, lo:hi]),
                                L_chains[:, groups[g, 3]], state, sample[:0], sample)
                v_neg[:, lo:hi] = sample
        _layer_product(v_neg, W, True, h_neg)
        sigmoid_sample(h_neg, bias_neg, state, h_neg, h_chains, up)
    np.dot(h_pos.T, v, g_pos)
    np.dot(h_neg.T, v_neg, g_neg)
    scale_pos, scale_neg = 1.0 / n, 1.0 / nc
    momentum_step(W, velocity[0], g_pos, g_neg, scale_pos, scale_neg, momentum,
                  learning_rate, weight_decay)
    momentum_step_sums(b.reshape(1, b.shape[0]), velocity[1], h_pos, h_neg, scale_pos,
                       scale_neg, momentum, learning_rate)
    momentum_step_sums(c_row, velocity[2], v, v_neg, scale_pos, scale_neg, momentum,
                       learning_rate)
    if uses_length:
        momentum_step(A, velocity[3], np.dot(L.T, h_pos), np.dot(L_chains.T, h_neg),
                      scale_pos, scale_neg, momentum, learning_rate, 0.0)


@njit(inline="always")
def _state(x, spare, current, layer):
    """Layer ``layer``'s state in double buffers: ``x[layer]``, or ``spare[layer]`` if
    ``current[layer]``."""
    return x[layer] if current[layer] == 0 else spare[layer]


@_kernel
def _length_statistic(L, m, x, out):
    """``out[0] = L[:, m] @ x``: a layer's states weighted by a modality's lengths."""
    out[:] = 0
    for r in range(x.shape[0]):
        length = L[r, m]
        if length != 0:
            for j in range(x.shape[1]):
                out[0, j] += length * x[r, j]


@_kernel(error_model="numpy", fastmath={"contract"})
def dbm_update(params, velocity, g_pos, g_neg, x_pos, spare_pos, current_pos, x_neg, spare_neg,
               current_neg, L_pos, L_neg, edges, layers, length_modality, length_layer,
               momentum, learning_rate, weight_decay):
    """The parameter step of a DBM's joint training (``_dbm.MultimodalDBM._batch_update``),
    compiled: momentum SGD on ``<.>_data - <.>_model`` from the layers' states of the batch
    (mean-field) and of the chains, each held in double buffers as in :func:`gibbs_sweep`
    (layer ``l`` in ``x[l]`` if ``current[l] == 0`` else in ``spare[l]``).

    ``params`` and ``velocity`` are tuples of 2-D blocks in the order of
    ``_DBMModel.params``: the weights of ``edges`` (rows ``(lower, upper)``; statistics
    ``x[upper]^T x[lower]`` into the buffers ``g_pos[e]``, ``g_neg[e]``), the biases of
    ``layers`` (hidden layers, then visible; statistics their column sums), the length
    weights of ``length_modality`` (statistics ``L[:, m] @ x[length_layer]``, no weight
    decay).
    """
    n_edges, n_layers = edges.shape[0], layers.shape[0]
    scale_pos, scale_neg = 1.0 / L_pos.shape[0], 1.0 / L_neg.shape[0]
    for e in range(n_edges):
        lo, up = edges[e, 0], edges[e, 1]
        np.dot(_state(x_pos, spare_pos, current_pos, up).T,
               _state(x_pos, spare_pos, current_pos, lo), g_pos[e])
        np.dot(_state(x_neg, spare_neg, current_neg, up).T,
               _state(x_neg, spare_neg, current_neg, lo), g_neg[e])
        momentum_step(params[e], velocity[e], g_pos[e], g_neg[e], scale_pos, scale_neg,
                      momentum, learning_rate, weight_decay)
    for k in range(n_layers):
        i = layers[k]
        momentum_step_sums(params[n_edges + k], velocity[n_edges + k],
                           _state(x_pos, spare_pos, current_pos, i),
                           _state(x_neg, spare_neg, current_neg, i), scale_pos, scale_neg,
                           momentum, learning_rate)
    for k in range(length_modality.shape[0]):
        p = n_edges + n_layers + k
        m, i = length_modality[k], length_layer[k]
        pos = np.empty_like(params[p])
        neg = np.empty_like(params[p])
        _length_statistic(L_pos, m, _state(x_pos, spare_pos, current_pos, i), pos)
        _length_statistic(L_neg, m, _state(x_neg, spare_neg, current_neg, i), neg)
        momentum_step(params[p], velocity[p], pos, neg, scale_pos, scale_neg, momentum,
                      learning_rate, 0.0)


@njit(inline="always")
def _copy_row(src, start, dst):
    """``dst[:] = src[start:start + len(dst)]`` as a loop over two 1-D views: vectorised
    loads, where an index ``start + j`` into the 2-D data (which numba must check for
    wrap-around) or a 2-D slice assignment is copied value by value."""
    src = src[start:]
    for j in range(dst.shape[0]):
        dst[j] = src[j]


@_kernel(error_model="numpy", fastmath={"contract"})
def rbm_pcd_epoch(data, rows, col_start, order, batch_size, W, b, c, A, uses_length,
                  velocity, h_chains, L_chains, groups, up, down, k, state, momentum,
                  learning_rate, weight_decay, buffers, v_buffer, L_buffer):
    """An epoch of :func:`rbm_pcd_step` over complete dense data: batch after batch of
    ``batch_size`` rows in ``order``, row ``i`` being ``data[rows[i], col_start:]``'s first
    ``W.shape[1]`` columns, gathered into ``v_buffer``; the document lengths (the row sums
    of the Replicated Softmax groups) into ``L_buffer`` (``(batch_size, M)``)."""
    n = order.shape[0]
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        v = v_buffer[: stop - start]
        L = L_buffer[: stop - start]
        for i in range(stop - start):
            _copy_row(data[rows[order[start + i]]], col_start, v[i])
        L[:] = 0
        for g in range(groups.shape[0]):
            if groups[g, 2] == 2:
                for i in range(stop - start):
                    L[i, groups[g, 3]] = _row_total(v[i, groups[g, 0]:groups[g, 1]])
        rbm_pcd_step(W, b, c, A, uses_length, velocity, v, L, h_chains, L_chains, groups, up,
                     down, k, state, momentum, learning_rate, weight_decay, buffers)


@_kernel(error_model="numpy", fastmath={"contract"})
def dbm_epoch(data, col_start, order, batch_size, x, spare, fixed, L, chains, chains_spare,
              chains_current, L_chains, weights, bias, length_weights, units, mean_length,
              graph, top, mean_field_plan, gibbs_plan, n_iter, tol, k, state, params,
              velocity, g_pos, g_neg, edges, layers, momentum, learning_rate, weight_decay):
    """Joint training of a DBM over complete dense rows (``_dbm.MultimodalDBM``): for each
    full batch of ``batch_size`` rows in ``order``, modality ``m``'s block gathered from
    ``data[rows, col_start[m]:]`` into ``x[m]``, then :func:`mean_field_layers` (the batch's
    buffers ``x``, ``spare``, ``fixed``, ``L``), ``k`` sweeps of :func:`gibbs_sweep` of the
    persistent chains (double buffers ``chains``, ``chains_spare``, ``chains_current``) and
    :func:`dbm_update`: the per-batch calls of the uncompiled loop, in the same order.
    Returns the number of rows used (the full batches)."""
    M = L.shape[1]
    n_batches = order.shape[0] // batch_size
    missing = np.zeros((batch_size, M), dtype=np.bool_)
    clamp = np.zeros((0, M), dtype=np.bool_)
    current = np.zeros(len(x), dtype=np.intp)
    length_updates = graph[10:]  # the lengths' modalities and layers (_Structure.graph)
    for t in range(n_batches):
        rows = order[t * batch_size:(t + 1) * batch_size]
        for m in range(M):
            block = x[m]
            for i in range(batch_size):
                _copy_row(data[rows[i]], col_start[m], block[i])
        current[:] = 0
        mean_field_layers(x, spare, current, fixed, L, weights, bias, length_weights, units,
                          mean_length, graph, top, mean_field_plan, missing, n_iter, tol)
        for _ in range(k):
            gibbs_sweep(chains, chains_spare, chains_current, bias, length_weights,
                        length_updates, weights, *gibbs_plan, L_chains, state, clamp)
        dbm_update(params, velocity, g_pos, g_neg, x, spare, current, chains, chains_spare,
                   chains_current, L, L_chains, edges, layers, *length_updates, momentum,
                   learning_rate, weight_decay)
    return n_batches * batch_size
