"""Coordinated representations: canonical correlation analysis and its relatives."""

from ._cca import CCA
from ._dcca import DeepCCA
from ._kcca import KCCA

__all__ = ["CCA", "DeepCCA", "KCCA"]
