"""Each visible unit type's sampler against its mean, in distribution (fixed seeds)."""

import numpy as np
import pytest
from scipy import stats

from skmultimodal.boltzmann import _kernels
from skmultimodal.boltzmann._units import VISIBLE_UNITS


def _draw(units, pre, bias, length, n_draws, seed=0):
    state = _kernels.new_state(np.random.default_rng(seed))
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
        state = _kernels.new_state(np.random.default_rng(7))
        mean, sample = np.empty_like(pre), np.empty_like(pre)
        _kernels.sigmoid_sample(pre, np.zeros((1, 4)), state, mean, sample)
        out.append(sample)
    np.testing.assert_array_equal(*out)


def test_uniform_generator_is_uniform():
    state = _kernels.new_state(np.random.default_rng(0))
    u = np.empty(100000)
    _kernels.uniform(state, u)
    assert u.min() >= 0 and u.max() < 1
    assert stats.kstest(u, "uniform").pvalue > 1e-3


def test_kernels_compile_without_a_writable_cache():
    """With no cache location numba would refuse cache=True; the kernels fall back softly."""
    import subprocess
    import sys

    code = (
        "import warnings, numpy as np\n"
        "import numba.core.caching as caching\n"
        "impl = getattr(caching, 'CacheImpl', None) or caching._CacheImpl\n"
        "impl._locator_classes = []\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    from skmultimodal.boltzmann import _kernels\n"
        "assert any('NUMBA_CACHE_DIR' in str(x.message) for x in w), [str(x.message) for x in w]\n"
        "out = np.empty((2, 3)); _kernels.sigmoid(np.zeros((2, 3)), np.zeros((1, 3)), out)\n"
        "assert np.all(out == 0.5)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_gaussian_noise_has_normal_tails():
    """The ziggurat's rare branches: the wedges of its layers and the tail beyond
    ``r = 3.654`` (drawn separately), against the normal's probabilities of |z| beyond a few
    thresholds, on four million draws."""
    state = _kernels.new_state(np.random.default_rng(3))
    z = np.empty((2000, 2000))
    _kernels.add_normal(np.zeros_like(z), state, z)
    z = np.abs(z.ravel())
    for threshold in (0.5, 1.0, 2.0, 3.0, 3.654, 4.0, 4.5):
        p = 2 * stats.norm.sf(threshold)
        count = np.count_nonzero(z > threshold)
        assert abs(count - z.size * p) < 4.5 * np.sqrt(z.size * p * (1 - p)), threshold
    assert stats.kstest(z[:200000], stats.halfnorm.cdf).pvalue > 1e-3
    assert np.count_nonzero(z > 5.0) > 0  # the tail is reachable
