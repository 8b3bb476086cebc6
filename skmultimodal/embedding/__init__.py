"""Joint embeddings: label embeddings for classification and cross-modal ranking embeddings."""

from ._lme import LargeMarginEmbedding
from ._ranking import RankingEmbedding
from ._use import UnifiedSemanticEmbedding

__all__ = ["LargeMarginEmbedding", "RankingEmbedding", "UnifiedSemanticEmbedding"]
