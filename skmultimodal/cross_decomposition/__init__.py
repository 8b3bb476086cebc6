"""Coordinated representations: canonical correlation analysis and its relatives."""

from ._cca import CCA
from ._kcca import KCCA

__all__ = ["CCA", "KCCA"]
