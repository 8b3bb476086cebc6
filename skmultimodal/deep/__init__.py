"""Deep multimodal networks finetuned by backpropagation."""

from ._mdrnn import MDRNN

__all__ = ["MDRNN"]
