"""A scorer that rates a transformer by cross-modal retrieval, for model selection."""

import numbers
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.utils import gen_batches

from .._modalities import missing_mask, resolve_modalities
from ..retrieval import _METRICS, _default_batch_size, nearest_neighbors
from ._base import _check_k
from ._retrieval import (
    _RETRIEVAL,
    _check_labels,
    _per_query,
    _relevance_spec,
    _summarise,
    mean_average_precision,
    median_rank,
    precision_at_k,
    recall_at_k,
)

__all__ = ["make_retrieval_scorer"]

_RETRIEVAL_FUNCTIONS = {
    function: function.__name__
    for function in (mean_average_precision, precision_at_k, recall_at_k, median_rank)
}


def _select_modalities(selection, resolved, name):
    """Indices of the modalities named (or indexed) by ``selection``; None means all."""
    names = [n for n, _ in resolved]
    if selection is None:
        return list(range(len(resolved)))
    if isinstance(selection, (str, numbers.Integral)):
        selection = [selection]
    chosen = []
    for s in selection:
        if isinstance(s, str) and s in names:
            chosen.append(names.index(s))
        elif isinstance(s, numbers.Integral) and not isinstance(s, bool) and 0 <= s < len(names):
            chosen.append(int(s))
        else:
            raise ValueError(
                f"{name}: {s!r} is not a modality; the modalities are {names} (give names "
                f"or positions 0 .. {len(names) - 1})."
            )
    if not chosen:
        raise ValueError(f"{name} selects no modality.")
    return sorted(set(chosen))


def _masked(X, rows, keep, resolved):
    """Rows ``rows`` of ``X`` (ndarray or DataFrame), the modalities not in ``keep`` set to NaN."""
    frame = hasattr(X, "iloc")
    block = X.iloc[rows].copy() if frame else X[rows].copy()
    for m, (_, columns) in enumerate(resolved):
        if m not in keep:
            if frame:
                block.iloc[:, columns] = np.nan
            else:
                block[:, columns] = np.nan
    return block


def _label_relevance(y, query_rows, database_rows, n_rows):
    """Relevance by the labels ``y``, every query left out of its own ranking.

    Returns the ``kind, yq, ydb`` of :func:`_relevance_spec` and ``exclude``: the database
    position of each query's own row (-1 if it is not in the database), which its ranking
    must not hold.
    """
    y = _check_labels(y, "y")
    kind, yq, ydb = _relevance_spec(
        np.zeros((query_rows.size, 1), dtype=np.intp), y[query_rows], y[database_rows], None
    )
    position = np.full(n_rows, -1, dtype=np.intp)
    position[database_rows] = np.arange(database_rows.size)
    return kind, yq, ydb, position[query_rows]


@dataclass(eq=False, repr=False)
class _RetrievalScorer:
    """Callable ``(estimator, X, y=None) -> float``; see :func:`make_retrieval_scorer`."""

    name: str
    k: int | None
    query_modalities: object
    database_modalities: object
    modalities: object
    relevance: str
    metric: str
    batch_size: int | None

    def __repr__(self):
        return (
            f"make_retrieval_scorer({self.name}, k={self.k!r}, "
            f"query_modalities={self.query_modalities!r}, "
            f"database_modalities={self.database_modalities!r}, relevance={self.relevance!r}, "
            f"metric={self.metric!r})"
        )

    def _resolved(self, estimator, X, feature_names):
        if self.modalities is not None:
            return resolve_modalities(self.modalities, X.shape[1], feature_names)
        if hasattr(estimator, "modalities_"):
            return estimator.modalities_
        spec = getattr(estimator, "modalities", None)
        return resolve_modalities(spec, X.shape[1], feature_names)

    def __call__(self, estimator, X, y=None):
        frame = hasattr(X, "iloc") and hasattr(X, "columns")
        feature_names = np.asarray(X.columns, dtype=object) if frame else None
        if sp.issparse(X):
            X = X.toarray()
        values = X.to_numpy(dtype=np.float64) if frame else np.asarray(X, dtype=np.float64)
        resolved = self._resolved(estimator, values, feature_names)
        query_mods = _select_modalities(self.query_modalities, resolved, "query_modalities")
        database_mods = _select_modalities(
            self.database_modalities, resolved, "database_modalities"
        )
        missing = missing_mask(values, resolved, allow_all_missing=True)
        relevance = self.relevance
        if relevance == "auto":
            relevance = "paired" if y is None else "labels"
        if relevance == "labels" and y is None:
            raise ValueError("relevance='labels' needs y (class labels or a label indicator).")

        query_rows = np.flatnonzero(~missing[:, query_mods].any(axis=1))
        database_rows = np.flatnonzero(~missing[:, database_mods].any(axis=1))
        if relevance == "paired":
            query_rows = database_rows = np.intersect1d(query_rows, database_rows)
        if query_rows.size == 0 or database_rows.size < 2:
            raise ValueError(
                "Too few rows observe the query and database modalities to score retrieval: "
                f"{query_rows.size} query rows, {database_rows.size} database rows."
            )
        data = X if frame else values
        queries = estimator.transform(_masked(data, query_rows, query_mods, resolved))
        database = estimator.transform(_masked(data, database_rows, database_mods, resolved))
        if relevance == "paired":
            relevance = ("matches", np.arange(query_rows.size), None, None)
        else:
            relevance = _label_relevance(y, query_rows, database_rows, values.shape[0])
        score = self._score(queries, database, *relevance)
        return -score if self.name == "median_rank" else score

    def _score(self, queries, database, kind, yq, ydb, exclude):
        """Rank the database for batches of queries and reduce the rankings to the metric."""
        n_database = database.shape[0]
        max_ranked = n_database - (exclude is not None)
        if self.k is not None and self.k > max_ranked:
            raise ValueError(
                f"k={self.k} is larger than the {max_ranked} database items a query can rank."
            )
        n_ranked = max_ranked if _RETRIEVAL[self.name].whole_ranking else self.k
        n_search = min(n_ranked + (exclude is not None), n_database)

        values, n_relevant = [], []
        # Per query row: its scores, ranking and reordering, 8 bytes each.
        for batch in gen_batches(queries.shape[0], _default_batch_size(3 * n_search, 8)):
            _, ranking = nearest_neighbors(
                queries[batch], database, n_neighbors=n_search, metric=self.metric,
                batch_size=self.batch_size,
            )
            ex = None
            if exclude is not None:
                ex = exclude[batch]
                keep = ranking != ex[:, None]
                order = np.argsort(~keep, axis=1, kind="stable")[:, :n_ranked]
                ranking = np.take_along_axis(ranking, order, axis=1)
            batch_values, batch_relevant = _per_query(
                self.name, ranking, kind, yq[batch], ydb, self.k, exclude=ex
            )
            values.append(batch_values)
            n_relevant.append(batch_relevant)
        return _summarise(self.name, np.concatenate(values), np.concatenate(n_relevant))


def make_retrieval_scorer(
    score_func,
    *,
    k=None,
    query_modalities,
    database_modalities=None,
    modalities=None,
    relevance="auto",
    metric="cosine",
    batch_size=None,
):
    """A scorer ``(estimator, X, y)`` that rates a transformer by cross-modal retrieval.

    For model selection with :class:`~sklearn.model_selection.GridSearchCV` or
    :func:`~sklearn.model_selection.cross_val_score` (``scoring=make_retrieval_scorer(...)``)
    on held-out rows ``X``: the query rows keep only ``query_modalities`` (the other blocks
    set to NaN), the database rows only ``database_modalities``, both are mapped by
    ``estimator.transform`` into the shared space, every query ranks the database with
    :func:`~skmultimodal.retrieval.nearest_neighbors`, and ``score_func`` scores the rankings.
    Rows of ``X`` that miss one of the needed modalities are not used as queries (or database
    items).

    Relevance:

    - ``"paired"``: the queries and the database are the same rows, query ``i``'s match is
      its own row (e.g. left half retrieves right half of the same digit);
    - ``"labels"``: relevance from ``y`` (class labels: equal; a multilabel indicator:
      any overlap). Every usable row is a query against all the other rows (leave-one-out,
      a query's own row is never in its ranking);
    - ``"auto"``: ``"labels"`` when the search passes ``y`` (``fit(X, y)``), else
      ``"paired"``.

    Parameters
    ----------
    score_func : callable
        One of :func:`mean_average_precision`, :func:`precision_at_k`, :func:`recall_at_k`,
        :func:`median_rank`. The scorer returns the metric, except for ``median_rank`` whose
        negative it returns (scorers are greater-is-better).
    k : int, default=None
        The ``k`` of :func:`precision_at_k` and :func:`recall_at_k` (required for them).
    query_modalities : str, int or list of them
        Names (or positions) of the modalities the queries keep.
    database_modalities : str, int, list of them or None, default=None
        The modalities the database items keep; ``None`` keeps all (a multimodal database).
    modalities : None, list of int or list of (str, columns), default=None
        The column blocks of ``X``. ``None`` takes the fitted estimator's ``modalities_``
        (or its ``modalities`` parameter); give it when the estimator is a Pipeline.
    relevance : {"auto", "paired", "labels"}, default="auto"
        See above.
    metric : {"cosine", "euclidean"}, default="cosine"
        Similarity of the search.
    batch_size : int, default=None
        Query batch size of the search (see :func:`~skmultimodal.retrieval.nearest_neighbors`).

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y=None) -> float``.

    Examples
    --------
    Choose the regularisation of CCA by the recall@10 of left halves retrieving right halves:

    >>> from sklearn.model_selection import GridSearchCV
    >>> from skmultimodal import CCA
    >>> from skmultimodal.datasets import load_digits_halves
    >>> from skmultimodal.metrics import make_retrieval_scorer, recall_at_k
    >>> X, y = load_digits_halves(return_X_y=True)
    >>> scorer = make_retrieval_scorer(
    ...     recall_at_k, k=10, query_modalities="m0", database_modalities="m1")
    >>> search = GridSearchCV(CCA(n_components=10), {"reg": [1e-3, 1e-1]}, scoring=scorer,
    ...                       cv=3).fit(X)
    >>> bool(search.best_score_ > 10 / 600)   # far above chance
    True
    """
    if score_func not in _RETRIEVAL_FUNCTIONS:
        raise ValueError(
            "score_func must be one of mean_average_precision, precision_at_k, recall_at_k, "
            f"median_rank from skmultimodal.metrics; got {score_func!r}."
        )
    name = _RETRIEVAL_FUNCTIONS[score_func]
    if not _RETRIEVAL[name].whole_ranking:
        if k is None:
            raise ValueError(f"{name} needs k.")
        k = _check_k(k)
    elif k is not None:
        raise ValueError(f"{name} has no k; leave k=None.")
    if relevance not in ("auto", "paired", "labels"):
        raise ValueError(
            f"relevance must be 'auto', 'paired' or 'labels', got {relevance!r}."
        )
    if metric not in _METRICS:
        raise ValueError(f"metric must be one of {_METRICS}, got {metric!r}.")
    return _RetrievalScorer(
        name, k, query_modalities, database_modalities, modalities, relevance, metric,
        batch_size,
    )
