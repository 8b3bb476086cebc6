"""Energy-based multimodal models."""

from ._mrbm import MultimodalRBM

__all__ = ["MultimodalRBM"]
