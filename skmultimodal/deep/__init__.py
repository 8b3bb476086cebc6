"""Deep multimodal networks trained by backpropagation: the multimodal deep recurrent
network finetuned from a pretrained stack, and the multimodal autoencoder."""

from ._autoencoder import MultimodalAutoencoder
from ._mdrnn import MDRNN

__all__ = ["MDRNN", "MultimodalAutoencoder"]
