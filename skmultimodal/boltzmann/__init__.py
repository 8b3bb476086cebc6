"""Energy-based multimodal models."""

from ._dbm import MultimodalDBM
from ._dbn import MultimodalDBN
from ._minvi import MinVIRBM
from ._mrbm import MultimodalRBM
from ._ssl import SSLRBM

__all__ = ["MinVIRBM", "MultimodalDBM", "MultimodalDBN", "MultimodalRBM", "SSLRBM"]
