"""Retrieval metrics over rankings: MAP, precision@k, recall@k and median rank.

They take a ``ranking``: for each query, database row indices best first, as returned by
:func:`skmultimodal.retrieval.nearest_neighbors`. Which database items are relevant to a
query is given in one of three ways, shared by all of them:

- nothing: query ``i``'s single match is database item ``i`` (paired data, e.g. the image and
  the caption of row ``i``, the protocol of ranking embeddings: Kiros, Salakhutdinov & Zemel
  2014; Faghri et al. 2018);
- ``matches``: query ``i``'s single match is database item ``matches[i]``;
- ``query_labels`` and ``database_labels``: 1-d class labels (relevant if equal) or
  multilabel indicator matrices (relevant if any label overlaps, the MIR-Flickr protocol of
  Srivastava & Salakhutdinov 2012 and Sohn, Shang & Lee 2014, Section 4.2).

All of them reduce the ranking to the same per-query relevance of the ranked items
(:func:`_ranked_relevance`), then average a per-query value.
"""

import warnings
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.utils import check_array, column_or_1d, gen_batches

from ..retrieval import _default_batch_size
from ._base import _check_k

__all__ = ["mean_average_precision", "median_rank", "precision_at_k", "recall_at_k"]


def _check_ranking(ranking):
    ranking = check_array(ranking, dtype=None, input_name="ranking")
    if not np.issubdtype(ranking.dtype, np.integer):
        raise ValueError(
            f"ranking must hold int database indices (the `indices` of nearest_neighbors), "
            f"got dtype {ranking.dtype}."
        )
    if ranking.min() < 0:
        raise ValueError("ranking holds negative database indices.")
    ordered = np.sort(ranking, axis=1)
    repeated = np.flatnonzero((ordered[:, 1:] == ordered[:, :-1]).any(axis=1))
    if repeated.size:
        raise ValueError(
            f"ranking row {repeated[0]} lists a database item more than once; each row must "
            "rank distinct items."
        )
    return ranking.astype(np.intp, copy=False)


def _check_labels(y, name):
    if sp.issparse(y) or np.ndim(y) == 2:
        y = check_array(y, accept_sparse="csr", dtype=None, input_name=name)
        return y if sp.issparse(y) else np.asarray(y != 0, dtype=np.float32)
    return column_or_1d(y)


def _relevance_spec(ranking, query_labels, database_labels, matches):
    """Validate how relevance is given; return ("labels", yq, ydb) or ("matches", m, None)."""
    n_queries = ranking.shape[0]
    if (query_labels is None) != (database_labels is None):
        raise ValueError(
            "Give both query_labels and database_labels (relevance by labels), or neither."
        )
    if query_labels is not None:
        if matches is not None:
            raise ValueError("Give either matches or labels, not both.")
        yq = _check_labels(query_labels, "query_labels")
        ydb = _check_labels(database_labels, "database_labels")
        if yq.ndim != ydb.ndim:
            raise ValueError(
                "query_labels and database_labels must both be 1-d class labels or both "
                "multilabel indicator matrices."
            )
        if yq.shape[0] != n_queries:
            raise ValueError(
                f"query_labels has {yq.shape[0]} rows but the ranking has {n_queries} queries."
            )
        if yq.ndim == 2 and yq.shape[1] != ydb.shape[1]:
            raise ValueError(
                f"query_labels has {yq.shape[1]} label columns, database_labels "
                f"{ydb.shape[1]}; they must index the same labels."
            )
        if ranking.max() >= ydb.shape[0]:
            raise ValueError(
                f"ranking holds database index {ranking.max()} but database_labels has only "
                f"{ydb.shape[0]} rows."
            )
        if yq.ndim == 1:
            _, codes = np.unique(np.concatenate([yq, ydb]), return_inverse=True)
            yq, ydb = codes[:n_queries], codes[n_queries:]
        return "labels", yq, ydb
    if matches is None:
        matches = np.arange(n_queries)
    else:
        matches = column_or_1d(matches)
        if not np.issubdtype(matches.dtype, np.integer) or matches.size != n_queries:
            raise ValueError(
                f"matches must be {n_queries} int database indices, one per query; got "
                f"shape {matches.shape} and dtype {matches.dtype}."
            )
        if matches.min() < 0:
            raise ValueError("matches holds negative database indices.")
    return "matches", matches.astype(np.intp, copy=False), None


def _ranked_relevance(ranking, kind, yq, ydb, exclude=None):
    """Relevance of each ranked item and each query's number of relevant database items.

    Parameters
    ----------
    ranking : ndarray of int, shape (n_queries, n_ranked)
    kind, yq, ydb : output of :func:`_relevance_spec`.
    exclude : ndarray of int, shape (n_queries,), optional
        A database item per query (or -1) that is left out of the database for that query:
        the caller has removed it from the ranking, and it is not counted as relevant.

    Returns
    -------
    hits : ndarray of bool, shape (n_queries, n_ranked)
    n_relevant : ndarray of int, shape (n_queries,)
    """
    n_queries = ranking.shape[0]
    if kind == "matches":
        hits = ranking == yq[:, None]
        n_relevant = np.ones(n_queries, dtype=np.intp)
        if exclude is not None:
            n_relevant -= exclude == yq
        return hits, n_relevant
    if yq.ndim == 1:
        hits = ydb[ranking] == yq[:, None]
        n_relevant = np.bincount(ydb, minlength=yq.max() + 1)[yq]
        if exclude is not None:
            n_relevant -= (exclude >= 0) & (ydb[np.maximum(exclude, 0)] == yq)
        return hits, n_relevant
    # Multilabel: relevant if any label overlaps; label overlaps of a batch of queries with
    # the whole database, one matrix product per batch.
    n_database = ydb.shape[0]
    hits = np.empty(ranking.shape, dtype=bool)
    n_relevant = np.empty(n_queries, dtype=np.intp)
    # Per query row: its float32 overlaps with the database and their bool test.
    for batch in gen_batches(n_queries, _default_batch_size(n_database, 5)):
        overlap = yq[batch] @ ydb.T
        overlap = (overlap.toarray() if sp.issparse(overlap) else np.asarray(overlap)) > 0
        hits[batch] = np.take_along_axis(overlap, ranking[batch], axis=1)
        n_relevant[batch] = overlap.sum(axis=1)
        if exclude is not None:
            ex = exclude[batch]
            n_relevant[batch] -= (ex >= 0) & overlap[np.arange(ex.size), np.maximum(ex, 0)]
    return hits, n_relevant


def _average_precision(hits, n_relevant, k=None):
    """Per-query AP: sum over relevant ranks r of precision@r, divided by n_relevant."""
    precision = np.cumsum(hits, axis=1) / np.arange(1, hits.shape[1] + 1)
    return (precision * hits).sum(axis=1) / np.maximum(n_relevant, 1)


def _precision(hits, n_relevant, k):
    return hits[:, :k].sum(axis=1) / k


def _recall(hits, n_relevant, k):
    return hits[:, :k].sum(axis=1) / np.maximum(n_relevant, 1)


def _first_rank(hits, n_relevant, k=None):
    """1-based rank of the first relevant item; inf when none is in the ranking."""
    first = np.argmax(hits, axis=1) + 1.0
    first[~hits.any(axis=1)] = np.inf
    return first


class _Metric(NamedTuple):
    per_query: Callable  # (hits, n_relevant, k) -> the value of each query
    needs_relevant: bool  # undefined for a query without a relevant item
    reduce: Callable  # per-query values -> the metric
    whole_ranking: bool  # exact only on the whole ranking (else on the first k)


_RETRIEVAL = {
    "mean_average_precision": _Metric(_average_precision, True, np.mean, True),
    "precision_at_k": _Metric(_precision, False, np.mean, False),
    "recall_at_k": _Metric(_recall, True, np.mean, False),
    "median_rank": _Metric(_first_rank, True, np.median, True),
}


def _per_query(name, ranking, kind, yq, ydb, k=None, exclude=None):
    """Metric ``name`` of each query and its number of relevant items (see _ranked_relevance)."""
    hits, n_relevant = _ranked_relevance(ranking, kind, yq, ydb, exclude=exclude)
    return _RETRIEVAL[name].per_query(hits, n_relevant, k), n_relevant


def _summarise(name, values, n_relevant):
    """Reduce the per-query values to metric ``name``, leaving out the queries it is undefined
    for (no relevant item), with a warning."""
    metric = _RETRIEVAL[name]
    if metric.needs_relevant:
        defined = n_relevant > 0
        if not defined.any():
            raise ValueError(
                f"{name} is undefined: no query has a relevant item in the database."
            )
        if not defined.all():
            warnings.warn(
                f"{name}: {np.sum(~defined)} of {defined.size} queries have no relevant "
                "database item and are left out of the average.",
                UndefinedMetricWarning,
                stacklevel=3,
            )
        values = values[defined]
    return float(metric.reduce(values))


def _retrieval_metric(name, ranking, query_labels, database_labels, matches, k=None):
    ranking = _check_ranking(ranking)
    if k is not None:
        k = _check_k(k, upper=ranking.shape[1], what="the number of ranked items per query")
    kind, yq, ydb = _relevance_spec(ranking, query_labels, database_labels, matches)
    return _summarise(name, *_per_query(name, ranking, kind, yq, ydb, k))


_RELEVANCE_DOC = """ranking : array-like of int of shape (n_queries, n_ranked)
        Database row indices per query, best first, distinct within a row: the ``indices``
        returned by :func:`skmultimodal.retrieval.nearest_neighbors`."""


def mean_average_precision(ranking, *, query_labels=None, database_labels=None, matches=None):
    """Mean over queries of the average precision of their rankings.

    For a query with :math:`R` relevant database items and relevance :math:`rel_r \\in
    \\{0, 1\\}` of its rank-:math:`r` item,

    .. math::

        \\mathrm{AP} = \\frac{1}{R} \\sum_{r} rel_r \\, \\mathrm{P@}r, \\qquad
        \\mathrm{P@}r = \\frac{1}{r} \\sum_{s \\le r} rel_s,

    the mean of the precisions at the ranks of the relevant items. :math:`R` counts every
    relevant item of the database, so a truncated ranking counts the relevant items it misses
    as retrieved with precision 0 (a lower bound of the full-ranking AP); pass the whole
    ranking (``nearest_neighbors(..., n_neighbors=None)``) for the exact value. With the whole
    ranking and no tied scores, a query's AP equals
    :func:`sklearn.metrics.average_precision_score` of its relevance against its scores.
    This is the retrieval MAP on MIR-Flickr of Srivastava & Salakhutdinov (2012) and Sohn,
    Shang & Lee (2014, Section 4.2): cosine similarity of joint representations, relevant if
    any of the class labels overlap.

    Queries without any relevant database item are left out of the mean, with an
    :class:`~sklearn.exceptions.UndefinedMetricWarning`.

    Parameters
    ----------
    {ranking}
    query_labels, database_labels : array-like or sparse matrix, default=None
        Relevance by labels: class labels of shape ``(n_queries,)`` and ``(n_database,)``
        (relevant if equal), or multilabel indicator matrices, dense or sparse, of shape
        ``(n_queries, n_labels)`` and ``(n_database, n_labels)`` (relevant if any label
        overlaps).
    matches : array-like of int of shape (n_queries,), default=None
        Relevance by a single match: query ``i``'s match is database item ``matches[i]``.
        When neither labels nor ``matches`` are given, query ``i``'s match is database item
        ``i``.

    Returns
    -------
    score : float
        In [0, 1].

    Examples
    --------
    Query 0 has labels {a}, query 1 labels {a, b}; the database items have {a},
    {b}, {} and {a, b}:

    >>> import numpy as np
    >>> from skmultimodal.metrics import mean_average_precision
    >>> query_labels = np.array([[1, 0], [1, 1]])
    >>> database_labels = np.array([[1, 0], [0, 1], [0, 0], [1, 1]])
    >>> ranking = np.array([[1, 0, 2, 3],    # relevant at ranks 2, 4: (1/2 + 2/4) / 2
    ...                     [2, 0, 1, 3]])   # relevant at ranks 2, 3, 4: (1/2 + 2/3 + 3/4) / 3
    >>> round(mean_average_precision(
    ...     ranking, query_labels=query_labels, database_labels=database_labels), 4)
    0.5694
    """
    return _retrieval_metric(
        "mean_average_precision", ranking, query_labels, database_labels, matches
    )


def precision_at_k(ranking, *, k=50, query_labels=None, database_labels=None, matches=None):
    """Mean over queries of the fraction of relevant items among the k best ranked (P@k).

    P@50 is reported beside MAP in the MIR-Flickr results of Srivastava & Salakhutdinov
    (2012). Queries without a relevant database item count (with precision 0).

    Parameters
    ----------
    {ranking}
        It must rank at least ``k`` items per query.
    k : int, default=50
        Number of top-ranked items considered.
    query_labels, database_labels, matches : optional
        How relevance is given; see :func:`mean_average_precision`.

    Returns
    -------
    score : float
        In [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal.metrics import precision_at_k
    >>> ranking = np.array([[0, 1, 2],   # labels 0, 1, 0: one of the top 2 is relevant
    ...                     [2, 0, 1]])  # labels 0, 0, 1: none of the top 2 is
    >>> precision_at_k(ranking, k=2, query_labels=[0, 1], database_labels=[0, 1, 0])
    0.25
    """
    return _retrieval_metric(
        "precision_at_k", ranking, query_labels, database_labels, matches, k=k
    )


def recall_at_k(ranking, *, k=10, query_labels=None, database_labels=None, matches=None):
    """Mean over queries of the fraction of their relevant items among the k best ranked.

    With a single match per query (the default pairing or ``matches``) this is the R@K of the
    image-caption ranking protocol (Kiros, Salakhutdinov & Zemel 2014; Faghri et al. 2018):
    the fraction of queries whose match is among their ``k`` nearest database items. Queries
    without a relevant database item are left out of the mean, with an
    :class:`~sklearn.exceptions.UndefinedMetricWarning`.

    Parameters
    ----------
    {ranking}
        It must rank at least ``k`` items per query.
    k : int, default=10
        Number of top-ranked items considered.
    query_labels, database_labels, matches : optional
        How relevance is given; see :func:`mean_average_precision`.

    Returns
    -------
    score : float
        In [0, 1].

    Examples
    --------
    Query ``i``'s match is database item ``i``:

    >>> import numpy as np
    >>> from skmultimodal.metrics import recall_at_k
    >>> ranking = np.array([[0, 2, 1], [2, 0, 1], [0, 1, 2]])
    >>> recall_at_k(ranking, k=1)   # only query 0 finds its match first
    0.3333333333333333
    >>> recall_at_k(ranking, k=2)
    0.3333333333333333
    >>> recall_at_k(ranking, k=3)
    1.0
    """
    return _retrieval_metric("recall_at_k", ranking, query_labels, database_labels, matches, k=k)


def median_rank(ranking, *, query_labels=None, database_labels=None, matches=None):
    """Median over queries of the rank (1 = best) of their first relevant item.

    The "Med r" of the image-caption ranking protocol (Kiros, Salakhutdinov & Zemel 2014;
    lower is better). A query whose relevant items are all outside a truncated ranking has
    rank ``inf`` (it is beyond the ranking), so the result is exact when the ranking is the
    whole database and otherwise exact whenever the median falls inside the ranking. Queries
    without any relevant database item are left out, with an
    :class:`~sklearn.exceptions.UndefinedMetricWarning`.

    Parameters
    ----------
    {ranking}
    query_labels, database_labels, matches : optional
        How relevance is given; see :func:`mean_average_precision`.

    Returns
    -------
    rank : float
        At least 1; ``inf`` if the median query's match is not in the ranking.

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal.metrics import median_rank
    >>> ranking = np.array([[0, 2, 1], [2, 0, 1], [0, 1, 2]])
    >>> median_rank(ranking)   # ranks 1, 3, 3
    3.0
    """
    return _retrieval_metric("median_rank", ranking, query_labels, database_labels, matches)


for _function in (mean_average_precision, precision_at_k, recall_at_k, median_rank):
    _function.__doc__ = _function.__doc__.replace("{ranking}", _RELEVANCE_DOC)

