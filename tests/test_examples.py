"""Every example script and the main demo run to completion (each within a minute)."""

import os
import subprocess
import sys

import pytest
from conftest import REPO

EXAMPLES = sorted((REPO / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script, tmp_path):
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120, env={**os.environ, "MPLBACKEND": "Agg"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip()


def test_main_demo_runs():
    from skmultimodal.demo import main

    results = main()
    assert results["MultimodalRBM joint representation, both halves"] > 0.85
    assert results["raw pixels, both halves"] > 0.9
