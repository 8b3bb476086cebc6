"""Datasets: real two-modality data and synthetic generators with known ground truth."""

from ._base import load_digits_halves, split_image_halves
from ._mnist import fetch_mnist, fetch_mnist_halves
from ._synthetic import make_multimodal_topics

__all__ = [
    "fetch_mnist",
    "fetch_mnist_halves",
    "load_digits_halves",
    "make_multimodal_topics",
    "split_image_halves",
]
