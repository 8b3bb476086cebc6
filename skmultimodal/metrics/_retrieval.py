"""Retrieval and ranking metrics: hit@k, hierarchical precision@k, MAP, precision@k, recall@k.

Two families:

- **Class-score metrics** take ``y_true`` and a score matrix ``y_score`` of shape
  ``(n_samples, n_classes)`` (a classifier's ``decision_function`` or ``predict_proba``), as
  :func:`sklearn.metrics.top_k_accuracy_score` does: :func:`hit_at_k` (flat hit@k) and
  :func:`hierarchical_precision_at_k` (DeViSE, Frome et al. 2013). Both rank the classes of a
  sample by decreasing score, ties to the lower class index, so at ``k=1`` they agree.
- **Retrieval metrics** take a ``ranking``: for each query, database row indices best first,
  as returned by :func:`skmultimodal.retrieval.nearest_neighbors`. Which database items are
  relevant to a query is given in one of three ways, shared by all of them:

  * nothing: query ``i``'s single match is database item ``i`` (paired data, e.g. the image
    and the caption of row ``i``, the protocol of ranking embeddings);
  * ``matches``: query ``i``'s single match is database item ``matches[i]``;
  * ``query_labels`` and ``database_labels``: 1-d class labels (relevant if equal) or
    multilabel indicator matrices (relevant if any label overlaps, the MIR-Flickr protocol of
    seeds 000 and 001).

  :func:`mean_average_precision`, :func:`precision_at_k`, :func:`recall_at_k` and
  :func:`median_rank` all reduce the ranking to the same per-query relevance of the ranked
  items, then average a per-query value.

:func:`make_retrieval_scorer` turns a retrieval metric into a scorer ``(estimator, X, y)`` for
:class:`~sklearn.model_selection.GridSearchCV`: it masks modalities of the held-out rows,
transforms queries and database, ranks and scores.
"""

import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path
from sklearn import get_config
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.utils import check_array, column_or_1d, gen_batches

from .._modalities import missing_mask, resolve_modalities
from ..retrieval import _top_k, nearest_neighbors

__all__ = [
    "hierarchical_precision_at_k",
    "hit_at_k",
    "make_retrieval_scorer",
    "mean_average_precision",
    "median_rank",
    "precision_at_k",
    "recall_at_k",
]


def _check_k(k, name="k", upper=None, what=""):
    if not isinstance(k, numbers.Integral) or isinstance(k, bool) or k < 1:
        raise ValueError(f"{name} must be a positive int, got {k!r}.")
    if upper is not None and k > upper:
        raise ValueError(f"{name}={k} is larger than {what} ({upper}).")
    return int(k)


# ----------------------------------------------------------------------------------------
# Class-score metrics
# ----------------------------------------------------------------------------------------


def _check_class_scores(y_true, y_score, labels):
    """Validate ``y_true`` and ``y_score``; return each sample's class column and the scores."""
    y_true = column_or_1d(y_true, warn=True)
    y_score = check_array(y_score, dtype=np.float64, input_name="y_score")
    if y_score.shape[0] != y_true.shape[0]:
        raise ValueError(
            f"y_true has {y_true.shape[0]} samples but y_score has {y_score.shape[0]} rows."
        )
    n_classes = y_score.shape[1]
    if labels is None:
        labels = np.unique(y_true)
        if labels.size != n_classes:
            raise ValueError(
                f"y_score has {n_classes} columns but y_true holds {labels.size} distinct "
                "classes; pass `labels` (e.g. the classifier's `classes_`) to say which class "
                "each column scores."
            )
    else:
        labels = column_or_1d(labels)
        if labels.size != n_classes:
            raise ValueError(
                f"labels lists {labels.size} classes but y_score has {n_classes} columns."
            )
        if np.unique(labels).size != labels.size:
            raise ValueError("labels must be unique.")
    order = np.argsort(labels, kind="stable")
    position = np.searchsorted(labels[order], y_true)
    position = np.clip(position, 0, n_classes - 1)
    found = labels[order][position] == y_true
    if not found.all():
        raise ValueError(
            f"y_true holds classes not in labels: {np.unique(y_true[~found])[:10].tolist()}."
        )
    return order[position], y_score


def _top_k_classes(y_score, k):
    """The k highest-scoring class columns of each row, best first, ties to the lower index."""
    return _top_k(-y_score, k)


def hit_at_k(y_true, y_score, *, k=1, labels=None, sample_weight=None):
    """Flat hit@k: the fraction of samples whose true class is among the k best scored.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True class labels.
    y_score : array-like of shape (n_samples, n_classes)
        Class scores, higher is better (``decision_function`` or ``predict_proba``).
    k : int, default=1
        Number of best-scored classes that count as hits; at most ``n_classes``.
    labels : array-like of shape (n_classes,), default=None
        The class of each column of ``y_score`` (a classifier's ``classes_``). ``None`` means
        the sorted distinct labels of ``y_true``, which must then be ``n_classes`` many.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    hit : float
        Weighted fraction of samples with a hit, in [0, 1].

    See Also
    --------
    sklearn.metrics.top_k_accuracy_score : The same quantity. It equals ``hit_at_k`` whenever
        no class tied with the k-th best score is left out; on such ties
        scikit-learn keeps the class with the higher column index, ``hit_at_k`` the lower (the
        tie rule of this package, shared with :func:`hierarchical_precision_at_k`, so that
        ``hierarchical_precision_at_k(k=1) == hit_at_k(k=1)`` always).

    Examples
    --------
    >>> from skmultimodal.metrics import hit_at_k
    >>> y_true = [0, 1, 2, 2]
    >>> y_score = [[0.5, 0.2, 0.3], [0.3, 0.4, 0.3], [0.2, 0.5, 0.3], [0.6, 0.3, 0.1]]
    >>> hit_at_k(y_true, y_score, k=1)
    0.5
    >>> hit_at_k(y_true, y_score, k=2)
    0.75
    """
    y_index, y_score = _check_class_scores(y_true, y_score, labels)
    k = _check_k(k, upper=y_score.shape[1], what="the number of classes")
    hits = (_top_k_classes(y_score, k) == y_index[:, None]).any(axis=1)
    return float(np.average(hits, weights=sample_weight))


def _check_hierarchy(hierarchy, n_classes):
    """Validate a parent array; return it as an int array."""
    parent = column_or_1d(hierarchy)
    if not np.issubdtype(parent.dtype, np.integer):
        raise ValueError(
            f"hierarchy must be an int array of parent node indices (-1 for a root), got "
            f"dtype {parent.dtype}."
        )
    n_nodes = parent.size
    if n_nodes < n_classes:
        raise ValueError(
            f"hierarchy has {n_nodes} nodes but y_score has {n_classes} classes; nodes "
            "0 .. n_classes-1 must be the classes (extra nodes are internal categories)."
        )
    bad = np.flatnonzero((parent < -1) | (parent >= n_nodes) | (parent == np.arange(n_nodes)))
    if bad.size:
        raise ValueError(
            f"hierarchy[{bad[0]}] = {parent[bad[0]]} is not a valid parent: entries must be "
            f"-1 (root) or another node's index in [0, {n_nodes})."
        )
    # Follow parent pointers: every chain must reach a root within n_nodes steps.
    node = np.arange(n_nodes)
    for _ in range(n_nodes):
        node = np.where(node >= 0, parent[np.maximum(node, 0)], -1)
        if (node < 0).all():
            return parent.astype(np.intp)
    raise ValueError(
        f"hierarchy has a cycle through node {np.flatnonzero(node >= 0)[0]}; it must be a "
        "tree (or forest) given by each node's parent."
    )


def _class_distances(parent, n_classes):
    """Path length (number of edges) in the tree between every pair of class nodes.

    The top-level nodes (parent -1) hang from one implicit root, so they are siblings.
    """
    n_nodes = parent.size
    parent = np.where(parent >= 0, parent, n_nodes)
    edges = sp.coo_matrix(
        (np.ones(n_nodes), (np.arange(n_nodes), parent)), shape=(n_nodes + 1, n_nodes + 1)
    ).tocsr()
    distances = shortest_path(edges, directed=False, unweighted=True, indices=np.arange(n_classes))
    return distances[:, :n_classes]


def hierarchical_precision_at_k(
    y_true, y_score, *, hierarchy, k=2, labels=None, sample_weight=None
):
    """Hierarchical precision@k of DeViSE (Frome et al. 2013): top-k hits on an expanded truth.

    For a sample of true class :math:`c`, the ground-truth set is expanded to the classes
    near :math:`c` in the class hierarchy:

    .. math::

        G_k(c) = \\{c' : d(c, c') \\le h_k(c)\\}, \\qquad
        h_k(c) = \\min\\{h : |\\{c' : d(c, c') \\le h\\}| \\ge k\\},

    where :math:`d(c, c')` is the path length (number of edges) between the two class nodes in
    the hierarchy tree, through internal nodes where needed (siblings are at distance 2, a
    class and its grandparent class at distance 2, cousins at 4). The top-level nodes (parent
    ``-1``) hang from one implicit root, so they are siblings of each other, as in
    ``UnifiedSemanticEmbedding``. So :math:`G_k(c)` is the
    smallest ball around the true class, in hops, that holds at least :math:`k` classes; it
    holds more when several classes are at distance :math:`h_k(c)`. The sample's precision is the fraction of its :math:`k` best-scored
    classes that lie in :math:`G_k(c)`, and the metric is the (weighted) mean over samples.
    At ``k=1`` it is flat hit@1 (:func:`hit_at_k`). This is the metric of the Unified
    Semantic Embedding table of seed 004 (Hwang & Sigal 2014, after Frome et al. 2013).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True class labels.
    y_score : array-like of shape (n_samples, n_classes)
        Class scores, higher is better. Classes are ranked by decreasing score, ties to the
        lower column index.
    hierarchy : array-like of int of shape (n_nodes,) or dict
        Parent of every node, ``-1`` for a top-level node. Nodes ``0 .. n_classes - 1`` are
        the classes, in the column order of ``y_score`` (the order of ``labels``); nodes
        ``n_classes ..`` are internal categories that are not predicted (a class may itself
        be the parent of other nodes). Internal-only nodes never enter :math:`G_k(c)`; they
        only carry paths. A dict ``{node: parent}`` (``None`` for top level) is read as the
        ``class_hierarchy`` of
        ``UnifiedSemanticEmbedding``, keyed by class labels.
    k : int, default=2
        Number of best-scored classes considered; at most ``n_classes``.
    labels : array-like of shape (n_classes,), default=None
        The class of each column of ``y_score``; as in :func:`hit_at_k`.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    precision : float
        In [0, 1].

    Examples
    --------
    Classes 0, 1 under node 4 ("dogs"), classes 2, 3 under node 5 ("cats"), both under the
    root node 6:

    >>> from skmultimodal.metrics import hierarchical_precision_at_k
    >>> hierarchy = [4, 4, 5, 5, 6, 6, -1]
    >>> y_true = [0, 2]
    >>> y_score = [[0.1, 0.6, 0.3, 0.0],   # top 2: class 1 (sibling of 0), class 2
    ...            [0.0, 0.1, 0.7, 0.2]]   # top 2: class 2 (true), class 3 (sibling)
    >>> hierarchical_precision_at_k(
    ...     y_true, y_score, hierarchy=hierarchy, k=2, labels=[0, 1, 2, 3])
    0.75
    """
    if isinstance(hierarchy, dict):
        from ..embedding._use import hierarchy_nodes

        if labels is None:
            labels = np.unique(column_or_1d(y_true))
        hierarchy = hierarchy_nodes(column_or_1d(labels), hierarchy)[1]
    y_index, y_score = _check_class_scores(y_true, y_score, labels)
    n_classes = y_score.shape[1]
    k = _check_k(k, upper=n_classes, what="the number of classes")
    distances = _class_distances(_check_hierarchy(hierarchy, n_classes), n_classes)
    radius = np.sort(distances, axis=1)[:, k - 1]
    in_truth = distances <= radius[:, None]
    top = _top_k_classes(y_score, k)
    precision = in_truth[y_index[:, None], top].sum(axis=1) / k
    return float(np.average(precision, weights=sample_weight))


# ----------------------------------------------------------------------------------------
# Retrieval metrics over rankings
# ----------------------------------------------------------------------------------------


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
    rows = max(1, int(get_config()["working_memory"] * 2**20 // (5 * n_database)))
    for batch in gen_batches(n_queries, rows):
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


def _summarise(values, n_relevant, name, needs_relevant, reduce=np.mean):
    if needs_relevant:
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
    return float(reduce(values))


# name -> (per-query function, needs a relevant item, reduction, needs the whole ranking)
_RETRIEVAL = {
    "mean_average_precision": (_average_precision, True, np.mean, True),
    "precision_at_k": (_precision, False, np.mean, False),
    "recall_at_k": (_recall, True, np.mean, False),
    "median_rank": (_first_rank, True, np.median, True),
}


def _retrieval_metric(name, ranking, query_labels, database_labels, matches, k=None):
    ranking = _check_ranking(ranking)
    if k is not None:
        k = _check_k(k, upper=ranking.shape[1], what="the number of ranked items per query")
    kind, yq, ydb = _relevance_spec(ranking, query_labels, database_labels, matches)
    hits, n_relevant = _ranked_relevance(ranking, kind, yq, ydb)
    per_query, needs_relevant, reduce, _ = _RETRIEVAL[name]
    return _summarise(per_query(hits, n_relevant, k), n_relevant, name, needs_relevant, reduce)


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
    This is the retrieval MAP of seeds 000 and 001 (cosine similarity of joint
    representations, relevant if any of the class labels overlap).

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

    P@50 is the second retrieval figure of seed 000's table. Queries without a relevant
    database item count (with precision 0).

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

    With a single match per query (the default pairing or ``matches``) this is the R@K of
    the ranking-embedding protocol (seed 003): the fraction of queries whose match is among
    their ``k`` nearest database items. Queries without a relevant database item are left
    out of the mean, with an :class:`~sklearn.exceptions.UndefinedMetricWarning`.

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

    The "Med r" of the ranking-embedding protocol (lower is better). A query whose relevant
    items are all outside a truncated ranking has rank ``inf`` (it is beyond the ranking), so
    the result is exact when the ranking is the whole database and otherwise exact whenever
    the median falls inside the ranking. Queries without any relevant database item are left
    out, with an :class:`~sklearn.exceptions.UndefinedMetricWarning`.

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


# ----------------------------------------------------------------------------------------
# Scorer for model selection
# ----------------------------------------------------------------------------------------

_RETRIEVAL_FUNCTIONS = {
    mean_average_precision: "mean_average_precision",
    precision_at_k: "precision_at_k",
    recall_at_k: "recall_at_k",
    median_rank: "median_rank",
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


class _RetrievalScorer:
    """Callable ``(estimator, X, y=None) -> float``; see :func:`make_retrieval_scorer`."""

    def __init__(self, name, k, query_modalities, database_modalities, modalities, relevance,
                 metric, batch_size):
        self.name = name
        self.k = k
        self.query_modalities = query_modalities
        self.database_modalities = database_modalities
        self.modalities = modalities
        self.relevance = relevance
        self.metric = metric
        self.batch_size = batch_size

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

        def masked(rows, keep):
            block = X.iloc[rows].copy() if frame else values[rows].copy()
            for m, (_, columns) in enumerate(resolved):
                if m not in keep:
                    if frame:
                        block.iloc[:, columns] = np.nan
                    else:
                        block[:, columns] = np.nan
            return block

        queries = estimator.transform(masked(query_rows, query_mods))
        database = estimator.transform(masked(database_rows, database_mods))

        per_query, needs_relevant, reduce, whole = _RETRIEVAL[self.name]
        n_database = database_rows.size
        if relevance == "paired":
            kind, yq, ydb = "matches", np.arange(query_rows.size), None
            exclude = None
        else:
            y_all = _check_labels(y, "y")
            yq, ydb = y_all[query_rows], y_all[database_rows]
            kind, yq, ydb = _relevance_spec(
                np.zeros((query_rows.size, 1), dtype=np.intp), yq, ydb, None
            )
            # Leave-one-out: a query never retrieves its own row.
            position = np.full(values.shape[0], -1, dtype=np.intp)
            position[database_rows] = np.arange(n_database)
            exclude = position[query_rows]
        max_ranked = n_database - (exclude is not None)
        if self.k is not None and self.k > max_ranked:
            raise ValueError(
                f"k={self.k} is larger than the {max_ranked} database items a query can rank."
            )
        n_ranked = max_ranked if whole else self.k
        n_search = min(n_ranked + (exclude is not None), n_database)

        values_out, n_relevant_out = [], []
        budget = get_config()["working_memory"] * 2**20
        rows = max(1, int(budget // (24 * n_search)))
        for batch in gen_batches(query_rows.size, rows):
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
            hits, n_relevant = _ranked_relevance(
                ranking, kind, yq[batch], ydb, exclude=ex
            )
            values_out.append(per_query(hits, n_relevant, self.k))
            n_relevant_out.append(n_relevant)
        score = _summarise(
            np.concatenate(values_out), np.concatenate(n_relevant_out), self.name,
            needs_relevant, reduce,
        )
        return -score if self.name == "median_rank" else score


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
    if name in ("precision_at_k", "recall_at_k"):
        if k is None:
            raise ValueError(f"{name} needs k.")
        k = _check_k(k)
    elif k is not None:
        raise ValueError(f"{name} has no k; leave k=None.")
    if relevance not in ("auto", "paired", "labels"):
        raise ValueError(
            f"relevance must be 'auto', 'paired' or 'labels', got {relevance!r}."
        )
    if metric not in ("cosine", "euclidean"):
        raise ValueError(f"metric must be 'cosine' or 'euclidean', got {metric!r}.")
    return _RetrievalScorer(
        name, k, query_modalities, database_modalities, modalities, relevance, metric,
        batch_size,
    )
