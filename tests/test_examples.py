"""Every example script and the main demo run to completion (each within a minute)."""

import os
import subprocess
import sys

import pytest
from conftest import REPO

EXAMPLES = sorted((REPO / "examples").rglob("*.py"))
# The examples are small: single-threaded BLAS runs them as fast and does not oversubscribe
# a machine that runs other work (on a loaded 2-core machine two BLAS threads made some of
# them ten times slower). Matplotlib draws into files (the examples call plt.show()).
ENV = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
       "MKL_NUM_THREADS": "1"}


@pytest.mark.parametrize("script", EXAMPLES,
                         ids=lambda p: str(p.relative_to(REPO / "examples")))
def test_example_runs(script, tmp_path):
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120, env=ENV)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip()


def test_main_demo_runs():
    """The demo's claim: one MinVIRBM and one classifier for every availability pattern are
    as good as a raw-pixel classifier trained for each pattern (within 2 points)."""
    from threadpoolctl import threadpool_limits

    from skmultimodal.demo import PATTERNS, main

    with threadpool_limits(1):  # as the examples above and `python -m skmultimodal.demo`
        results = main()
    raw = results["raw pixels, a classifier per pattern"]
    minvi = results["MinVIRBM, one classifier"]
    assert raw["both halves"] > 0.95
    for pattern in PATTERNS:
        assert minvi[pattern] > raw[pattern] - 0.02, (pattern, minvi, raw)
    assert minvi["left only"] > results["MultimodalRBM (ML), one classifier"]["left only"]
