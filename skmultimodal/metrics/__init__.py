from ._retrieval import (
    hierarchical_precision_at_k,
    hit_at_k,
    make_retrieval_scorer,
    mean_average_precision,
    median_rank,
    precision_at_k,
    recall_at_k,
)

__all__ = [
    "hierarchical_precision_at_k",
    "hit_at_k",
    "make_retrieval_scorer",
    "mean_average_precision",
    "median_rank",
    "precision_at_k",
    "recall_at_k",
]
