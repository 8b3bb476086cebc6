"""Energy-based multimodal models."""

from ._minvi import MinVIRBM
from ._mrbm import MultimodalRBM
from ._ssl import SSLRBM

__all__ = ["MinVIRBM", "MultimodalRBM", "SSLRBM"]
