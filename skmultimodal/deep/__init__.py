"""Multimodal networks trained end to end by backpropagation."""

from ._autoencoder import MultimodalAutoencoder
