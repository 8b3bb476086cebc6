"""Property-based fuzzing of every public estimator: never silent garbage, never a crash.

Random finite inputs with column scales from 1e-6 to 1e6, random learning rates from 1e-6 to
1e6 and random missing-block patterns. Every fit either returns a model whose outputs are
finite and whose monitored loss did not blow up, or raises (a ``ValueError`` about the
input, a ``FloatingPointError`` about the training) or warns, with a message naming the
cause; never another exception (from a compiled kernel, a linear-algebra routine, a
division). The CI profile is deterministic and small; explore further with::

    python -m pytest tests/test_fuzz.py --hypothesis-profile=explore --hypothesis-seed=N

With ``SKMULTIMODAL_FUZZ_REPORT=path`` the outcomes are counted by category into that file.
"""

import json
import os
import warnings
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skmultimodal import (
    CCA,
    KCCA,
    MDRNN,
    SSLRBM,
    DeepCCA,
    LargeMarginEmbedding,
    MinVIRBM,
    ModalityImputer,
    MultimodalDBM,
    MultimodalDBN,
    MultimodalRBM,
    RankingEmbedding,
    UnifiedSemanticEmbedding,
)

settings.register_profile(
    "ci", max_examples=6, deadline=None, derandomize=True, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "explore", max_examples=200, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

OUTCOMES = Counter()


def _factories():
    """Each estimator small, with its step-size parameter set to ``rate``."""
    small = {"n_components": 2, "random_state": 0}
    return {
        "MultimodalRBM": lambda r: MultimodalRBM(n_iter=2, learning_rate=r, **small),
        "MultimodalRBM-pcd": lambda r: MultimodalRBM(n_iter=2, learning_rate=r, method="pcd",
                                                     n_chains=5, **small),
        "MinVIRBM": lambda r: MinVIRBM(n_iter=2, learning_rate=r, n_mean_field=2, **small),
        "SSLRBM": lambda r: SSLRBM(n_iter=2, learning_rate=r, **small),
        "MultimodalDBM": lambda r: MultimodalDBM(pathways=(3,), n_iter=2, n_iter_pretrain=2,
                                                 n_chains=5, learning_rate=r,
                                                 learning_rate_pretrain=r, **small),
        "MultimodalDBN": lambda r: MultimodalDBN(pathways=(3,), n_iter=2, n_chains=5,
                                                 learning_rate=r, **small),
        "MDRNN": lambda r: MDRNN(pathways=(3,), n_iter_pretrain=1, max_iter=2, n_chains=5,
                                 learning_rate=r, learning_rate_pretrain=r,
                                 early_stopping=False, **small),
        "ModalityImputer": lambda r: ModalityImputer(
            MultimodalRBM(n_iter=2, learning_rate=r, **small)),
        "CCA": lambda r: CCA(n_components=1),
        "KCCA": lambda r: KCCA(n_components=1),
        "DeepCCA": lambda r: DeepCCA(n_components=1, hidden_layer_sizes=(3,), solver="adam",
                                     learning_rate_init=r, max_iter=3, random_state=0),
        "RankingEmbedding": lambda r: RankingEmbedding(n_components=2, learning_rate=r,
                                                       max_iter=3, random_state=0),
        "LargeMarginEmbedding": lambda r: LargeMarginEmbedding(n_components=2,
                                                               learning_rate=r, max_iter=3,
                                                               random_state=0),
        "UnifiedSemanticEmbedding": lambda r: UnifiedSemanticEmbedding(
            n_components=2, learning_rate=r, max_iter=3, random_state=0),
    }


FACTORIES = _factories()
SUPERVISED = {"LargeMarginEmbedding", "UnifiedSemanticEmbedding"}


@st.composite
def problems(draw):
    """Data of two modalities: widths, rows, per-column scales, a missing pattern, a rate."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    widths = [draw(st.integers(2, 4)), draw(st.integers(2, 4))]
    n = draw(st.integers(12, 40))
    kind = draw(st.sampled_from(["normal", "unit", "counts"]))
    if kind == "normal":
        X = rng.normal(size=(n, sum(widths)))
    elif kind == "unit":
        X = rng.random((n, sum(widths)))
    else:
        X = rng.poisson(2.0, size=(n, sum(widths))).astype(float)
    scales = 10.0 ** rng.uniform(-6, 6, size=sum(widths)) if draw(st.booleans()) else \
        np.full(sum(widths), 10.0 ** draw(st.integers(-6, 6)))
    X = X * scales
    missing_fraction = draw(st.sampled_from([0.0, 0.0, 0.2, 0.5]))
    rows = rng.random(n) < missing_fraction
    which = rng.integers(0, 2, size=n)
    starts = [0, widths[0]]
    for i in np.flatnonzero(rows):
        m = which[i]
        X[i, starts[m]:starts[m] + widths[m]] = np.nan
    rate = 10.0 ** draw(st.integers(-6, 6))
    y = rng.integers(0, 3, size=n)
    return X, widths, rate, y


def _outputs(name, est, X):
    if name in SUPERVISED:
        return est.decision_function(np.nan_to_num(X))
    if name == "ModalityImputer":
        return est.transform(X)
    return est.transform(X)


def _curve(est):
    for name in ("loss_curve_", "reconstruction_error_curve_"):
        curve = getattr(est, name, None)
        if curve:
            return np.asarray(curve, dtype=float)
    return None


@pytest.mark.parametrize("name", sorted(FACTORIES))
@given(problem=problems())
def test_fit_is_sound_or_says_why(name, problem):
    X, widths, rate, y = problem
    est = FACTORIES[name](rate)
    if name in SUPERVISED:
        X = np.nan_to_num(X)
    else:
        est.set_params(**{key: widths for key in est.get_params()
                          if key.endswith("modalities") and "__" not in key} or {})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            est.fit(X, y) if name in SUPERVISED else est.fit(X)
            out = _outputs(name, est, X)
        except (ValueError, FloatingPointError) as exc:
            message = str(exc)
            assert len(message) > 30, message  # says what was wrong
            OUTCOMES[f"{type(exc).__name__}"] += 1
            return
    named = [w for w in caught if issubclass(w.category, UserWarning)
             and "Numba" not in w.category.__name__ and len(str(w.message)) > 30]
    assert np.all(np.isfinite(out)), (name, rate, "non-finite outputs, nothing raised")
    curve = _curve(est)
    blew_up = curve is not None and curve[0] > 0 and curve[-1] > 100 * curve[0]
    assert not blew_up or named, (name, rate, curve)
    OUTCOMES["fitted, warned" if named else "fitted, silent"] += 1


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    path = os.environ.get("SKMULTIMODAL_FUZZ_REPORT")
    if path:
        with open(path, "w") as f:
            json.dump(dict(OUTCOMES, total=sum(OUTCOMES.values())), f, indent=1)
