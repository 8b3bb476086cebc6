"""scikit-learn compatible estimators for multimodal representation learning.

Data model: one matrix with the modalities' columns side by side, a ``modalities`` parameter
naming the column blocks, and a missing modality written as its whole block set to NaN.
"""

from ._modalities import split_modalities, stack_modalities
from .boltzmann import MinVIRBM, MultimodalDBM, MultimodalDBN, MultimodalRBM, SSLRBM
from .cross_decomposition import CCA, KCCA, DeepCCA
from .deep import MDRNN, MultimodalAutoencoder
from .embedding import LargeMarginEmbedding, RankingEmbedding, UnifiedSemanticEmbedding
from .impute import ModalityImputer
from . import metrics, retrieval  # noqa: F401  (public submodules)

__version__ = "0.1.0.dev0"

__all__ = [
    "CCA",
    "DeepCCA",
    "KCCA",
    "LargeMarginEmbedding",
    "MDRNN",
    "MinVIRBM",
    "ModalityImputer",
    "MultimodalAutoencoder",
    "MultimodalDBM",
    "MultimodalDBN",
    "MultimodalRBM",
    "RankingEmbedding",
    "SSLRBM",
    "UnifiedSemanticEmbedding",
    "split_modalities",
    "stack_modalities",
]
