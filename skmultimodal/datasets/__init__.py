"""Datasets: real two-modality data and synthetic generators with known ground truth."""

from ._base import load_digits_halves, split_image_halves
from ._hierarchical import make_hierarchical_classification
from ._mnist import fetch_mnist, fetch_mnist_halves
from ._synthetic import (
    make_correlated_views,
    make_multimodal_topics,
    make_nonlinear_views,
)

__all__ = [
    "fetch_mnist",
    "fetch_mnist_halves",
    "load_digits_halves",
    "make_correlated_views",
    "make_hierarchical_classification",
    "make_multimodal_topics",
    "make_nonlinear_views",
    "split_image_halves",
]
