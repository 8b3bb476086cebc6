import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def mnist_home():
    """The folder with MNIST's IDX files: $SKMULTIMODAL_MNIST or ../shared/data/mnist."""
    home = Path(os.environ.get("SKMULTIMODAL_MNIST", REPO.parent / "shared" / "data" / "mnist"))
    if not (home / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"MNIST IDX files not found in {home}; set SKMULTIMODAL_MNIST to run this.")
    return home
