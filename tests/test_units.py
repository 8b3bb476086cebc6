"""Each visible unit type's sampler against its mean, in distribution (fixed seeds)."""

import numpy as np
import pytest
from scipy import stats

from skmultimodal._random import (
    _lane_states,
    add_normal,
    bernoulli,
    new_state,
    uniform,
    uniform_pairs,
)
from skmultimodal.boltzmann._kernels_units import (
    _ordered_max,
    multinomial_sample,
    sigmoid_sample,
    softmax,
    visible_sample,
)
from skmultimodal.boltzmann._kernels_graph import fortran_copy_pays, layer_product
from skmultimodal.boltzmann._units import VISIBLE_UNITS


def _draw(units, pre, bias, length, n_draws, seed=0):
    state = new_state(np.random.default_rng(seed))
    pre = np.repeat(pre[None, :], n_draws, axis=0)
    mean, sample = np.empty_like(pre), np.empty_like(pre)
    units.sample(pre, bias[None, :], np.full(n_draws, length, dtype=pre.dtype), state,
                 mean, sample)
    return mean[0], sample


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_binary_samples_match_probabilities(dtype):
    pre = np.array([-3.0, -0.5, 0.0, 0.7, 2.5], dtype=dtype)
    bias = np.array([0.0, 0.1, -0.2, 0.0, 0.3], dtype=dtype)
    mean, sample = _draw(VISIBLE_UNITS["binary"], pre, bias, 0, 40000)
    np.testing.assert_allclose(mean, 1 / (1 + np.exp(-(pre + bias))), rtol=1e-6)
    assert set(np.unique(sample)) <= {0.0, 1.0}
    n = sample.shape[0]
    z = (sample.mean(axis=0) - mean) / np.sqrt(mean * (1 - mean) / n)
    assert np.all(np.abs(z) < 4.5), z


def test_gaussian_samples_are_unit_variance_normal_around_mean():
    pre = np.array([-1.0, 0.0, 2.0])
    bias = np.array([0.5, 0.0, -0.5])
    mean, sample = _draw(VISIBLE_UNITS["gaussian"], pre, bias, 0, 40000)
    np.testing.assert_allclose(mean, pre + bias)
    for j in range(3):
        assert stats.kstest(sample[:, j] - mean[j], "norm").pvalue > 1e-3
    assert np.all(np.abs(sample.var(axis=0) - 1) < 0.05)


def test_replicated_softmax_samples_are_multinomial_with_the_length():
    pre = np.array([1.0, 0.0, -1.0, 0.5])
    bias = np.array([0.0, 0.2, 0.0, -0.3])
    length = 7
    mean, sample = _draw(VISIBLE_UNITS["replicated_softmax"], pre, bias, length, 20000)
    p = np.exp(pre + bias) / np.exp(pre + bias).sum()
    np.testing.assert_allclose(mean, length * p, rtol=1e-12)
    np.testing.assert_array_equal(sample.sum(axis=1), length)
    observed = sample.sum(axis=0)
    chi2 = stats.chisquare(observed, observed.sum() * p)
    assert chi2.pvalue > 1e-3, chi2
    # a single word's count is Binomial(length, p_k)
    counts = np.bincount(sample[:, 0].astype(int), minlength=length + 1)
    expected = stats.binom.pmf(np.arange(length + 1), length, p[0]) * len(sample)
    keep = expected > 5
    assert stats.chisquare(counts[keep], expected[keep] * counts[keep].sum()
                           / expected[keep].sum()).pvalue > 1e-3


def test_a_broken_sampler_would_be_caught():
    """The binary check above rejects a sampler that is off by 2% in probability."""
    pre = np.zeros(1)
    _, sample = _draw(VISIBLE_UNITS["binary"], pre, np.full(1, np.log(0.52 / 0.48)), 0, 40000)
    z = (sample.mean() - 0.5) / np.sqrt(0.25 / 40000)
    assert abs(z) > 4.5


def test_same_seed_same_draws():
    pre = np.zeros((3, 4))
    out = []
    for _ in range(2):
        state = new_state(np.random.default_rng(7))
        mean, sample = np.empty_like(pre), np.empty_like(pre)
        sigmoid_sample(pre, np.zeros((1, 4)), state, mean, sample)
        out.append(sample)
    np.testing.assert_array_equal(*out)


def test_uniform_generator_is_uniform():
    state = new_state(np.random.default_rng(0))
    u = np.empty(100000)
    uniform(state, u)
    assert u.min() >= 0 and u.max() < 1
    assert stats.kstest(u, "uniform").pvalue > 1e-3


def test_both_uniforms_of_a_draw_are_uniform_and_independent():
    """The Bernoulli kernels take two 24-bit uniforms from each 64-bit draw (bits 40-63 and
    8-31): each half is uniform (chi-square on 64 bins over a million draws), the pairs are
    uniform on the square (8 x 8 bins) and the halves uncorrelated."""
    state = new_state(np.random.default_rng(0))
    u, w = np.empty(1_000_000), np.empty(1_000_000)
    uniform_pairs(state, u, w)
    for x in (u, w):
        assert x.min() >= 0 and x.max() < 1
        counts = np.bincount((x * 64).astype(int), minlength=64)
        assert stats.chisquare(counts).pvalue > 1e-3
    joint = np.bincount((u * 8).astype(int) * 8 + (w * 8).astype(int), minlength=64)
    assert stats.chisquare(joint).pvalue > 1e-3
    assert abs(np.corrcoef(u, w)[0, 1]) < 4.5 / np.sqrt(u.size)
    # the low half's lowest bit, the weakest of an xoroshiro128+ output, is fair
    bit = (w * 2**24).astype(np.int64) & 1
    assert abs(bit.mean() - 0.5) < 4.5 * 0.5 / np.sqrt(bit.size)


def test_bernoulli_lanes_pairs_of_columns_and_odd_width():
    """Lane ``l`` draws columns ``l`` and ``h + l`` (``h = k // 2``) from the two halves of
    one draw, lane ``h`` the last column of an odd width; the lanes are seeded afresh at
    every call. Every column follows its probability, columns are uncorrelated (within a
    lane, across lanes and from call to call) and so are a column's consecutive rows (a
    lane's consecutive draws)."""
    state = new_state(np.random.default_rng(4))
    p = np.array([0.1, 0.5, 0.8, 0.3, 0.6, 0.5, 0.9])
    prob = np.tile(p, (20000, 1))
    samples = []
    for _ in range(2):
        sample = np.empty_like(prob)
        bernoulli(prob, state, sample)
        samples.append(sample)
    n = prob.shape[0]
    for sample in samples:
        z = (sample.mean(axis=0) - p) / np.sqrt(p * (1 - p) / n)
        assert np.all(np.abs(z) < 4.5), z
        lag = [np.corrcoef(sample[1:, j], sample[:-1, j])[0, 1] for j in range(p.size)]
        assert np.all(np.abs(lag) < 4.5 / np.sqrt(n)), lag
    both = np.hstack(samples)
    corr = np.corrcoef(both.T)[np.triu_indices(both.shape[1], 1)]
    assert np.all(np.abs(corr) < 4.5 / np.sqrt(n)), corr


def test_lanes_are_seeded_by_splitmix64():
    """Lane ``l``'s state is outputs ``2l + 1, 2l + 2`` of SplitMix64 (Steele, Lea & Flood
    2014; reimplemented here from its definition) seeded by one draw of the caller's
    generator, which that draw advances; no two lanes start alike."""
    mask = (1 << 64) - 1

    def splitmix(seed, i):
        z = (seed + i * 0x9E3779B97F4A7C15) & mask
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        return z ^ (z >> 31)

    def rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & mask

    def xoroshiro128pp(s0, s1):  # Blackman & Vigna's reference: output, next state
        t = s1 ^ s0
        return (rotl((s0 + s1) & mask, 17) + s0) & mask, \
            (rotl(s0, 49) ^ t ^ ((t << 21) & mask), rotl(t, 28))

    state = new_state(np.random.default_rng(0))
    s, advanced = xoroshiro128pp(int(state[0]), int(state[1]))
    a, b = _lane_states(state, 5)
    assert (int(state[0]), int(state[1])) == advanced
    assert [int(x) for x in a] == [splitmix(s, 2 * lane + 1) for lane in range(5)]
    assert [int(x) for x in b] == [splitmix(s, 2 * lane + 2) for lane in range(5)]
    assert len({(int(x), int(y)) for x, y in zip(a, b)}) == 5


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_kernels_are_scipys_softmax(dtype):
    """The Replicated Softmax's mean, alone and next to the draws, is ``length *
    softmax(pre + bias)`` within a few ulp, for a shared or per-row bias, a view of some
    columns, a width that is no multiple of four and inputs far beyond ``exp``'s range."""
    from scipy.special import softmax as scipy_softmax

    rng = np.random.default_rng(0)
    pre = (rng.standard_normal((6, 23)) * 300).astype(dtype)[:, 2:]
    length = np.arange(1, 7).astype(dtype)
    for bias in (rng.standard_normal((1, 21)), rng.standard_normal((6, 21))):
        bias = bias.astype(dtype)
        expected = length[:, None] * scipy_softmax((pre + bias).astype(np.float64), axis=1)
        out, mean, sample = (np.empty_like(pre) for _ in range(3))
        softmax(pre, bias, length, out)
        state = new_state(rng)
        multinomial_sample(pre, bias, length, state, mean, sample)
        for got in (out, mean):
            np.testing.assert_allclose(got, expected, rtol=8 * np.finfo(dtype).eps,
                                       atol=8 * np.finfo(dtype).tiny)
        np.testing.assert_array_equal(sample.sum(axis=1), length)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_ordered_maximum_is_numpys_maximum(dtype):
    """The softmax's row maximum, taken on the floats' bits as integers: rows all
    negative, mixed, with signed zeros, infinities and subnormals."""
    from numba import njit

    row_max = njit(lambda row: _ordered_max(row))
    tiny = np.finfo(dtype).smallest_subnormal
    rows = [[-3.5, -1e-3, -7.0], [-2.0, 4.0, 0.5, 3.9], [-0.0, -1.0], [0.0, -0.0, -5.0],
            [-np.inf, -1e30], [np.inf, 1.0], [-np.inf], [tiny, 0.0], [-tiny, -2 * tiny]]
    rng = np.random.default_rng(0)
    rows += [rng.standard_normal(n) * 10.0 ** rng.integers(-5, 5) for n in (1, 7, 64, 201)]
    for row in rows:
        row = np.asarray(row, dtype=dtype)
        assert row_max(row) == row.max(), row
    assert {str(sig.return_type) for sig in row_max.nopython_signatures} == {np.dtype(dtype).name}
    assert np.isnan(row_max(np.array([1.0, np.nan, 2.0], dtype=dtype)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_multinomial_draws_no_word_of_probability_zero(dtype):
    """Words whose probability underflows to zero, first, inside and last in the row, are
    never drawn (the draws' search over the cumulative sums), and the others in proportion
    (chi-square)."""
    logits = np.array([-1e4, 0.3, -1e4, -1e4, 1.0, -0.5, 0.0, -1e4], dtype=dtype)
    n, length = 4000, 9
    state = new_state(np.random.default_rng(0))
    pre = np.repeat(logits[None, :], n, axis=0)
    mean, sample = np.empty_like(pre), np.empty_like(pre)
    multinomial_sample(pre, np.zeros((1, 8), dtype), np.full(n, length, dtype),
                                state, mean, sample)
    counts = sample.sum(axis=0)
    zero = logits < -100
    assert counts[zero].sum() == 0
    p = np.exp(logits[~zero] - logits.max())
    p /= p.sum()
    assert stats.chisquare(counts[~zero], n * length * p).pvalue > 1e-3


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_layer_product_is_the_product_with_or_without_the_fortran_copy(dtype):
    """A layer's input ``a @ w.T`` (or ``a @ w``), on shapes either side of the rule that
    copies ``a`` to Fortran order first."""
    rng = np.random.default_rng(0)
    for n, inner, k, copied in [(32, 128, 128, True), (32, 256, 128, False),
                                (48, 100, 128, True), (64, 100, 128, False), (3, 5, 4, True)]:
        assert fortran_copy_pays(n, inner, k) == copied
        a, w = rng.standard_normal((n, inner)).astype(dtype), rng.standard_normal((k, inner))
        w = w.astype(dtype)
        out = np.empty((n, k), dtype)
        layer_product(a, w, True, out)
        np.testing.assert_allclose(out, a @ w.T, rtol=1e-4 if dtype == np.float32 else 1e-10,
                                   atol=1e-4 if dtype == np.float32 else 1e-10)
        out2 = np.empty((n, inner), dtype)
        layer_product(out, w, False, out2)
        np.testing.assert_allclose(out2, out @ w, rtol=1e-3 if dtype == np.float32 else 1e-10,
                                   atol=1e-3 if dtype == np.float32 else 1e-10)


def test_kernels_compile_without_a_writable_cache():
    """With no cache location numba would refuse cache=True: the kernels fall back to
    compiling in every process, and importing the package says so in one warning."""
    import subprocess
    import sys

    code = (
        "import warnings, numpy as np\n"
        "import numba.core.caching as caching\n"
        "impl = getattr(caching, 'CacheImpl', None) or caching._CacheImpl\n"
        "impl._locator_classes = []\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    import skmultimodal\n"
        "    from skmultimodal.boltzmann._kernels_units import sigmoid\n"
        "messages = [str(x.message) for x in w]\n"
        "assert len(messages) == 1 and 'NUMBA_CACHE_DIR' in messages[0], messages\n"
        "out = np.empty((2, 3)); sigmoid(np.zeros((2, 3)), np.zeros((1, 3)), out)\n"
        "assert np.all(out == 0.5)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_gaussian_noise_in_place_is_the_same_draw():
    """``add_normal`` into ``mean`` itself gives the values it gives into another array
    (values rejected by the ziggurat's fast path are finished after the row's pass; about
    one in a hundred here)."""
    mean = np.random.default_rng(0).standard_normal((50, 301))
    out, inplace = np.empty_like(mean), mean.copy()
    state = new_state(np.random.default_rng(1))
    add_normal(mean, state.copy(), out)
    add_normal(inplace, state, inplace)
    np.testing.assert_array_equal(out, inplace)
    assert not np.any(out == mean)


@pytest.mark.parametrize("name", ["binary", "gaussian", "replicated_softmax"])
def test_sampling_into_the_input_and_without_means_makes_the_same_draws(name):
    """A unit type's ``sample`` with ``mean`` the input array itself (as MultimodalRBM calls
    it), or with a mean buffer of no rows (only the draws wanted, as the DBM's negative
    phase), draws what it draws into separate arrays from the same generator state."""
    rng = np.random.default_rng(0)
    pre = rng.standard_normal((40, 9)) * 2
    bias = rng.standard_normal((1, 9))
    length = np.full(40, 5.0)
    units = VISIBLE_UNITS[name]
    state = new_state(rng)
    mean, sample = np.empty_like(pre), np.empty_like(pre)
    units.sample(pre.copy(), bias, length, state.copy(), mean, sample)
    aliased, sample_aliased = pre.copy(), np.empty_like(pre)
    units.sample(aliased, bias, length, state.copy(), aliased, sample_aliased)
    np.testing.assert_array_equal(aliased, mean)
    np.testing.assert_array_equal(sample_aliased, sample)
    sample_only = np.empty_like(pre)
    visible_sample(units.code, pre.copy(), bias, length, state.copy(), pre[:0],
                             sample_only)
    np.testing.assert_allclose(sample_only, sample, rtol=1e-12, atol=1e-12)


def test_gaussian_noise_has_normal_tails():
    """The ziggurat's rare branches: the wedges of its layers and the tail beyond
    ``r = 3.654`` (drawn separately), against the normal's probabilities of |z| beyond a few
    thresholds, on four million draws."""
    state = new_state(np.random.default_rng(3))
    z = np.empty((2000, 2000))
    add_normal(np.zeros_like(z), state, z)
    z = np.abs(z.ravel())
    for threshold in (0.5, 1.0, 2.0, 3.0, 3.654, 4.0, 4.5):
        p = 2 * stats.norm.sf(threshold)
        count = np.count_nonzero(z > threshold)
        assert abs(count - z.size * p) < 4.5 * np.sqrt(z.size * p * (1 - p)), threshold
    assert stats.kstest(z[:200000], stats.halfnorm.cdf).pvalue > 1e-3
    assert np.count_nonzero(z > 4.5) > 10  # the tail beyond r is drawn (27 expected)
