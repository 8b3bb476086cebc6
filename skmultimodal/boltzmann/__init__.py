"""Energy-based multimodal models."""

from ._dbm import MultimodalDBM
from ._dbn import MultimodalDBN
from ._minvi import MinVIRBM
from ._mrbm import MultimodalRBM
from ._ssl import SSLRBM
from ._units import VisibleUnits

__all__ = ["MinVIRBM", "MultimodalDBM", "MultimodalDBN", "MultimodalRBM", "SSLRBM",
           "VisibleUnits"]
