"""Random numbers for the compiled kernels: xoroshiro128++ and the samplers built on it.

The generator is xoroshiro128++ (Blackman & Vigna 2021), whose state (two uint64 in a small
array) is owned by the caller and seeded from the estimator's ``numpy.random.Generator``
(:func:`new_state`): the same seed gives the same draws, with no hidden global state, so
concurrent fits in threads stay independent and reproducible. Every bit of its output is of
full quality (unlike xoroshiro128+, whose low bits are weak linear-feedback bits), so two
24-bit uniforms come from one 64-bit draw (bits 40-63 and 8-31).

The steps of one generator depend on each other, so the elementwise samplers run one
generator per column or pair of columns instead ("lanes", seeded for each call from one draw
of the caller's generator through SplitMix64, as its authors recommend), and the loop over
lanes vectorises: Bernoulli draws (:func:`bernoulli_rows`), standard normal noise by
Marsaglia & Tsang's (2000) ziggurat (:func:`normal_rows`), multinomial counts by inverting a
row's cumulative distribution (:func:`draw_counts`). Plain loops over arrays, no Python
objects; the Boltzmann and the embedding kernels both draw from here.
"""

import math

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from ._jit import kernel


_R17 = np.uint64(17)
_S21 = np.uint64(21)
_R28 = np.uint64(28)
_R49 = np.uint64(49)
_S8 = np.uint64(8)
_R40 = np.uint64(40)
_U64 = np.uint64(64)
_M24 = np.uint64(2**24 - 1)
_TWO_M24 = 1.0 / 16777216.0


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
def next_uniform(s0, s1):
    """One uniform draw in [0, 1) with 24 bits (the top ones), and the advanced state."""
    result, s0, s1 = _next_raw(s0, s1)
    u, _ = _uniform_halves(result)
    return u, s0, s1


@kernel
def uniform_pairs(state, first, second):
    """Fill two 1-D arrays of one length with the two uniforms of each 64-bit draw (for
    testing :func:`_uniform_halves`)."""
    s0, s1 = state[0], state[1]
    for i in range(first.shape[0]):
        r, s0, s1 = _next_raw(s0, s1)
        first[i], second[i] = _uniform_halves(r)
    state[0], state[1] = s0, s1


@kernel
def uniform(state, out):
    """Fill a 1-D array with uniform draws in [0, 1)."""
    s0, s1 = state[0], state[1]
    for i in range(out.shape[0]):
        u, s0, s1 = next_uniform(s0, s1)
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
def bernoulli_rows(prob, state, sample):
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


@kernel(error_model="numpy")
def bernoulli(prob, state, sample):
    """``sample ~ Bernoulli(prob)``, elementwise (:func:`bernoulli_rows`: 24-bit uniforms,
    exact in float32 too)."""
    bernoulli_rows(prob, state, sample)
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


@kernel(error_model="numpy")
def add_normal(mean, state, sample):
    """``sample = mean + N(0, 1)`` noise, elementwise, by Marsaglia & Tsang's ziggurat
    (``sample`` may be ``mean``; :func:`normal_rows`)."""
    normal_rows(mean, mean[:0], state, sample)


@njit(inline="always")
def normal_rows(pre, bias, state, sample):
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
def draw_counts(prob_row, length, cdf, sample, i, s0, s1):
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
        u, s0, s1 = next_uniform(s0, s1)
        u *= cdf[k - 1]
        lo, size = 0, k  # the answer lies in lo:lo + size
        while size > 1:
            half = size >> 1
            lo = _pick(cdf[lo + half - 1] <= u, lo + half, lo)
            size -= half
        sample[i, lo] += 1.0
    return s0, s1
