"""Coordinated representations: canonical correlation analysis and its relatives."""

from ._cca import CCA

__all__ = ["CCA"]
