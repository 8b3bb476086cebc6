"""Class-score metrics, retrieval metrics over rankings, and a retrieval scorer.

- **Class-score metrics** (:func:`hit_at_k`, :func:`hierarchical_precision_at_k`) take
  ``y_true`` and a score matrix ``y_score`` of shape ``(n_samples, n_classes)``, as
  :func:`sklearn.metrics.top_k_accuracy_score` does.
- **Retrieval metrics** (:func:`mean_average_precision`, :func:`precision_at_k`,
  :func:`recall_at_k`, :func:`median_rank`) take a ``ranking``, database row indices per
  query best first, as returned by :func:`skmultimodal.retrieval.nearest_neighbors`, and the
  relevance as a single match per query or as labels.
- :func:`make_retrieval_scorer` turns a retrieval metric into a scorer
  ``(estimator, X, y)`` for :class:`~sklearn.model_selection.GridSearchCV`: it masks
  modalities of the held-out rows, transforms queries and database, ranks and scores.
"""

from ._classification import hierarchical_precision_at_k, hit_at_k
from ._retrieval import mean_average_precision, median_rank, precision_at_k, recall_at_k
from ._scorers import make_retrieval_scorer

__all__ = [
    "hierarchical_precision_at_k",
    "hit_at_k",
    "make_retrieval_scorer",
    "mean_average_precision",
    "median_rank",
    "precision_at_k",
    "recall_at_k",
]
