"""Annealed importance sampling against exact partition functions of enumerable models."""

import numpy as np
import pytest
from scipy.special import logsumexp

from skmultimodal.boltzmann._ais import (
    ais_log_partition,
    annealing_schedule,
    base_rate_bias,
)
from skmultimodal.boltzmann._graph import Model, Structure
from skmultimodal.boltzmann._units import VISIBLE_UNITS

from _enumeration import binary_states, enumerate_visible


def _rbm(units, W, b, c, length_bias, widths):
    """A one-hidden-layer model from a full weight matrix and bias vectors."""
    starts = np.cumsum([0, *widths])
    columns = [slice(a, b) for a, b in zip(starts[:-1], starts[1:])]
    s = Structure(columns, [VISIBLE_UNITS[u] for u in units], [()] * len(widths), W.shape[0])
    return Model(s, [W[:, cols] for cols in columns], [c[cols] for cols in columns] + [b],
                 list(length_bias), np.zeros(len(widths), dtype=W.dtype))


def _model(units, widths, n_hidden=3, seed=0, scale=0.8, dtype=np.float64):
    rng = np.random.default_rng(seed)
    F = sum(widths)
    length_bias = np.zeros((len(widths), n_hidden))
    W = rng.normal(0, scale, (n_hidden, F))
    b = rng.normal(0, 0.5, n_hidden)
    c = rng.normal(0, 0.5, F)
    for m, u in enumerate(units):
        if u == "replicated_softmax":
            length_bias[m] = rng.normal(0, 0.3, n_hidden)
    return _rbm(units, W.astype(dtype), b.astype(dtype), c.astype(dtype),
                length_bias.astype(dtype), widths)


def _weights(model):
    """The full weight matrix, hidden bias and visible bias of a one-hidden-layer model."""
    return (np.hstack(model.W), model.bias[-1][0],
            np.concatenate([c[0] for c in model.bias[:-1]]))


def _exact_log_z(model, units, widths, length=3):
    if all(u == "gaussian" for u in units):
        # sum over h of exp(b.h + |c + W^T h|^2 / 2 - |c|^2 / 2) (2 pi)^(F/2)
        W, b, c = _weights(model)
        H = binary_states(W.shape[0])
        terms = H @ b + 0.5 * ((c + H @ W) ** 2).sum(axis=1) - 0.5 * c @ c
        return logsumexp(terms) + 0.5 * c.size * np.log(2 * np.pi)
    V, log_measure = enumerate_visible(units, widths, length)
    return logsumexp(log_measure - model.free_energy(V))


MODELS = {
    "binary": (("binary", "binary"), (4, 3)),
    "mixed": (("binary", "replicated_softmax"), (4, 3)),
    "gaussian": (("gaussian", "gaussian"), (2, 2)),
}


def _lengths(units, length=3):
    return [length if u == "replicated_softmax" else 0 for u in units]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_ais_matches_the_exact_log_partition_function(name):
    units, widths = MODELS[name]
    model = _model(units, widths)
    exact = _exact_log_z(model, units, widths)
    rng = np.random.default_rng(1)
    data = rng.random((50, sum(widths)))
    if name == "mixed":
        data[:, 4:] = rng.multinomial(3, [0.2, 0.3, 0.5], size=50)
    base = base_rate_bias(model, data)
    result = ais_log_partition(model, base, betas=2000, n_runs=100, lengths=_lengths(units),
                               random_state=0)
    error = abs(result.log_z - exact)
    assert error < 0.01 * abs(exact)
    assert result.log_z_low <= exact <= result.log_z_high
    assert error < 0.05


def test_float32_model_gives_float64_weights_and_the_same_estimate():
    units, widths = MODELS["binary"]
    model = _model(units, widths, dtype=np.float32)
    exact = _exact_log_z(_model(units, widths), units, widths)
    result = ais_log_partition(model, np.zeros(7), betas=1000, n_runs=100, random_state=0)
    assert result.log_weights.dtype == np.float64
    assert abs(result.log_z - exact) < 0.05


@pytest.mark.parametrize("name", sorted(MODELS))
def test_base_rate_model_is_exact(name):
    """With W = 0 and c_B = c_A every run has the same weight: log Z is exact, spread zero."""
    units, widths = MODELS[name]
    model = _model(units, widths)
    for w in model.W + model.a:
        w[:] = 0
    exact = _exact_log_z(model, units, widths)
    result = ais_log_partition(model, _weights(model)[2], betas=50, n_runs=10,
                               lengths=_lengths(units), random_state=0)
    assert result.log_z == pytest.approx(exact, abs=1e-10)
    assert np.ptp(result.log_weights) < 1e-10
    assert result.log_z_high - result.log_z_low < 1e-8


def test_disconnected_pathways_add():
    """log Z of two pathways with no shared hidden unit is the sum of their log Z."""
    a = _model(("binary",), (4,), n_hidden=3, seed=3, scale=1.2)
    b = _model(("binary",), (3,), n_hidden=2, seed=4, scale=1.2)
    (Wa, ba, ca), (Wb, bb, cb) = _weights(a), _weights(b)
    W = np.zeros((5, 7))
    W[:3, :4], W[3:, 4:] = Wa, Wb
    joint = _rbm(("binary", "binary"), W, np.concatenate([ba, bb]), np.concatenate([ca, cb]),
                 np.zeros((2, 5)), (4, 3))
    exact = [_exact_log_z(m, ("binary",) * m.s.n_modalities, w)
             for m, w in ((a, (4,)), (b, (3,)), (joint, (4, 3)))]
    assert exact[2] == pytest.approx(exact[0] + exact[1], rel=1e-12)
    estimates = [ais_log_partition(m, np.zeros(m.s.n_features), betas=3000, n_runs=100,
                                   random_state=s).log_z
                 for s, m in enumerate((a, b, joint))]
    assert estimates[2] == pytest.approx(estimates[0] + estimates[1], abs=0.05)
    assert estimates[2] == pytest.approx(exact[2], abs=0.05)


def test_estimate_tightens_with_more_betas():
    units, widths = MODELS["binary"]
    model = _model(units, widths, scale=2.5, seed=5)
    exact = _exact_log_z(model, units, widths)
    spreads, errors = [], []
    for n_betas in (10, 100, 3000):
        result = ais_log_partition(model, np.zeros(7), betas=n_betas, n_runs=200,
                                   random_state=0)
        spreads.append(np.std(result.log_weights))
        errors.append(abs(result.log_z - exact))
    assert spreads[0] > spreads[1] > spreads[2]
    assert errors[2] < errors[0]
    assert errors[2] < 0.05


def test_several_document_lengths_in_one_batch():
    units, widths = MODELS["mixed"]
    model = _model(units, widths)
    result = ais_log_partition(model, np.zeros(7), betas=2000, n_runs=100,
                               lengths=[[0, 2], [0, 3]], random_state=0)
    exact = [_exact_log_z(model, units, widths, length=d) for d in (2, 3)]
    np.testing.assert_allclose(result.log_z, exact, atol=0.05)
    assert result.log_weights.shape == (2, 100)


def test_schedule_and_bad_arguments():
    betas = annealing_schedule(14500)
    assert betas.size == 14501 and betas[0] == 0 and betas[-1] == 1
    assert np.all(np.diff(betas) > 0)
    np.testing.assert_allclose(np.diff(betas[:500]), 1e-3)
    np.testing.assert_allclose(np.diff(betas[-10000:]), 1e-5)
    model = _model(*MODELS["mixed"])
    with pytest.raises(ValueError, match="pass lengths"):
        ais_log_partition(model, np.zeros(7))
    with pytest.raises(ValueError, match="increasing"):
        ais_log_partition(model, np.zeros(7), betas=[0, 0.6, 0.5, 1], lengths=[0, 3])
