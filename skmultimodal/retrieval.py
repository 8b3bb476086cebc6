"""Cross-modal nearest-neighbour search in a shared representation space.

Every skmultimodal transformer maps whatever modalities a row has into one shared space (see
:ref:`data_model`), so cross-modal retrieval is three steps: transform the queries (say, text
only, the image block set to NaN), transform the database (images only), and search the
nearest database items of each query in the shared space with :func:`nearest_neighbors`. The
rankings it returns are what the retrieval metrics of :mod:`skmultimodal.metrics` consume.
"""

import numbers
import sys

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.utils import check_array, gen_batches

__all__ = ["nearest_neighbors"]

_METRICS = ("cosine", "euclidean")


def _check_embeddings(Z, name, dtype=(np.float64, np.float32)):
    if sp.issparse(Z):
        raise TypeError(
            f"{name} is a sparse matrix; nearest_neighbors searches dense embeddings (the "
            "output of a transform). Convert it with .toarray()."
        )
    return check_array(Z, dtype=list(dtype), input_name=name)


def _rows_source(Z, name):
    """An array-like whose row slices give the rows: a memmap or a dask array is kept as it is
    and validated one slice at a time; anything else is validated whole."""
    dask_array = sys.modules.get("dask.array")
    if isinstance(Z, np.memmap) or (dask_array is not None and isinstance(Z, dask_array.Array)):
        if Z.ndim != 2:
            _check_embeddings(Z[:0] if Z.ndim else Z, name)
        if Z.shape[0] == 0:
            _check_embeddings(np.asarray(Z), name)
        return Z
    return _check_embeddings(Z, name)


def _float_dtype(*arrays):
    dtype = np.result_type(*(a.dtype for a in arrays))
    return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)


def _default_batch_size(row_items, itemsize):
    """Rows per batch so that a batch's work arrays fit scikit-learn's working memory, for
    ``row_items`` array entries of ``itemsize`` bytes per row."""
    budget = get_config()["working_memory"] * 2**20
    return max(1, int(budget // (row_items * itemsize)))


def _block_sizes(n_queries, n_database, n_neighbors, itemsize, batch_size):
    """Query rows and database rows per score block, within scikit-learn's working memory.

    A block's work arrays are its scores and about as much again for the partial sort. The
    whole database goes in one block when a query row against it fits (the full ranking,
    ``n_neighbors == n_database``, always does); else blocks of one query row against as many
    database rows as fit.
    """
    budget = _default_batch_size(2, itemsize)  # scores: a score and its sort's work
    if n_database <= budget or n_neighbors == n_database:
        database_rows = n_database
    else:
        database_rows = budget
    query_rows = batch_size or max(1, budget // database_rows)
    return min(query_rows, max(n_queries, 1)), database_rows


def _top_k(cost, k):
    """Column indices of the ``k`` smallest entries of each row, sorted, ties to lower index.

    Candidates come from ``argpartition``; rows where the k-th smallest value is tied with
    values left out of the candidates are redone exactly (strictly smaller values, then the
    tied ones in index order), so the selection never depends on argpartition's internal order.
    """
    if k >= cost.shape[1]:
        return np.argsort(cost, axis=1, kind="stable")  # stable: ties in index order
    part = np.argpartition(cost, k - 1, axis=1)[:, :k]
    values = np.take_along_axis(cost, part, axis=1)
    threshold = values.max(axis=1)
    n_tied_kept = (values == threshold[:, None]).sum(axis=1)
    n_tied_all = (cost == threshold[:, None]).sum(axis=1)
    for row in np.flatnonzero(n_tied_all > n_tied_kept):
        below = np.flatnonzero(cost[row] < threshold[row])
        tied = np.flatnonzero(cost[row] == threshold[row])[: k - below.size]
        part[row] = np.concatenate([below, tied])
    values = np.take_along_axis(cost, part, axis=1)
    order = np.lexsort((part, values), axis=1)
    return np.take_along_axis(part, order, axis=1)


def nearest_neighbors(
    queries, database, *, n_neighbors=10, metric="cosine", batch_size=None
):
    """Rank the database items nearest to each query, best first, in memory-bounded batches.

    The search is exact (brute force): for a block of queries and a block of database items
    the scores are one matrix product, the ``n_neighbors`` best are selected with
    :func:`numpy.argpartition`, only those are sorted and merged with the best of the blocks
    before. The score blocks fit in scikit-learn's ``working_memory``: the full
    ``n_queries x n_database`` score matrix is never built unless it fits (or the full
    ranking, ``n_neighbors=None``, is asked for). The database is read once, block by block,
    so it may be larger than memory (a :class:`numpy.memmap`, or a ``dask.array.Array``
    whose blocks are computed one at a time); the queries are held in memory.

    Parameters
    ----------
    queries : array-like or dask array of shape (n_queries, n_components)
        Query embeddings, e.g. ``model.transform(X_text_only)``.
    database : array-like, memmap or dask array of shape (n_database, n_components)
        Database embeddings in the same space, e.g. ``model.transform(X_images_only)``.
    n_neighbors : int or None, default=10
        Number of database items returned per query, at most ``n_database``. ``None``
        ranks the whole database (what :func:`skmultimodal.metrics.mean_average_precision`
        and :func:`skmultimodal.metrics.median_rank` need for exact values).
    metric : {"cosine", "euclidean"}, default="cosine"
        ``"cosine"`` ranks by cosine similarity :math:`q^\\top d / (\\|q\\| \\|d\\|)`
        (higher is better; a zero vector has similarity 0 to everything, as in
        :func:`sklearn.metrics.pairwise.cosine_similarity`). ``"euclidean"`` ranks by
        euclidean distance :math:`\\|q - d\\|` (lower is better). On rows of unit norm the
        two give the same ranking, since :math:`\\|q - d\\|^2 = 2 - 2 q^\\top d`.
    batch_size : int or None, default=None
        Number of query rows scored at a time. ``None`` chooses it so that a score block
        fits in scikit-learn's ``working_memory`` (see :func:`sklearn.set_config`, 1024 MiB
        by default); the number of database rows per block is chosen the same way.

    Returns
    -------
    scores : ndarray of shape (n_queries, n_neighbors)
        Cosine similarities (descending) or euclidean distances (ascending) of the returned
        items. Euclidean distances come from the expansion
        :math:`\\|q\\|^2 + \\|d\\|^2 - 2 q^\\top d`, as in
        :func:`sklearn.metrics.pairwise.euclidean_distances`: their absolute error is about
        the dtype's epsilon times the squared norms, so very small distances between large
        vectors are only approximate.
    indices : ndarray of int of shape (n_queries, n_neighbors)
        Database row indices, best first.

    Notes
    -----
    Ties are broken deterministically: of two database items with equal scores, the one
    with the lower index comes first, both in the order and in the choice of which items
    make the cut at the ``n_neighbors``-th place. Scores are computed in float32 when both
    inputs are float32 (the fast path) and in float64 otherwise; in float32, items whose
    scores differ by less than the rounding may come out in either order.

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal.retrieval import nearest_neighbors
    >>> database = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.0]])
    >>> queries = np.array([[2.0, 0.1], [0.0, -3.0]])
    >>> similarities, indices = nearest_neighbors(queries, database, n_neighbors=2)
    >>> indices
    array([[0, 2],
           [0, 3]])
    >>> distances, indices = nearest_neighbors(
    ...     queries, database, n_neighbors=2, metric="euclidean")
    >>> indices
    array([[0, 2],
           [0, 3]])
    >>> distances.round(3)
    array([[1.005, 1.345],
           [3.162, 3.162]])
    """
    queries = _rows_source(queries, "queries")
    database = _rows_source(database, "database")
    if queries.shape[1] != database.shape[1]:
        raise ValueError(
            f"queries have {queries.shape[1]} columns but the database has "
            f"{database.shape[1]}; both must be embeddings in the same space (transform both "
            "with the same fitted model)."
        )
    if metric not in _METRICS:
        raise ValueError(f"metric must be one of {_METRICS}, got {metric!r}.")
    n_database = database.shape[0]
    if n_neighbors is None:
        n_neighbors = n_database
    elif (
        not isinstance(n_neighbors, numbers.Integral)
        or isinstance(n_neighbors, bool)
        or not 1 <= n_neighbors <= n_database
    ):
        raise ValueError(
            f"n_neighbors must be an int in [1, n_database = {n_database}] or None (rank the "
            f"whole database), got {n_neighbors!r}."
        )
    if batch_size is not None and (
        not isinstance(batch_size, numbers.Integral)
        or isinstance(batch_size, bool)
        or batch_size < 1
    ):
        raise ValueError(f"batch_size must be a positive int or None, got {batch_size!r}.")

    dtype = _float_dtype(queries, database)
    queries = _check_embeddings(queries, "queries").astype(dtype, copy=False)
    if metric == "cosine":
        # Rows scaled to unit norm; zero rows stay zero (similarity 0 with everything).
        queries = _unit_rows(queries)
    else:
        # Ranking a query's row needs only ||d||^2 - 2 q.d: the ||q||^2 term is constant.
        query_sq_norms = np.einsum("ij,ij->i", queries, queries)
    n_queries = queries.shape[0]
    query_rows, database_rows = _block_sizes(n_queries, n_database, n_neighbors,
                                             dtype.itemsize, batch_size)
    # the best so far of each query: costs (lower is better) and database indices
    best = np.full((n_queries, n_neighbors), np.inf, dtype=dtype)
    indices = np.full((n_queries, n_neighbors), n_database, dtype=np.intp)
    for chunk in gen_batches(n_database, database_rows):
        items = _check_embeddings(database[chunk], "database").astype(dtype, copy=False)
        if metric == "cosine":
            items = _unit_rows(items)
        else:
            item_sq_norms = np.einsum("ij,ij->i", items, items)
        k = min(n_neighbors, items.shape[0])
        for batch in gen_batches(n_queries, query_rows):
            cost = queries[batch] @ items.T
            if metric == "cosine":
                np.negative(cost, out=cost)
            else:
                cost *= -2
                cost += item_sq_norms
            top = _top_k(cost, k)
            candidates = np.take_along_axis(cost, top, axis=1)
            top += chunk.start
            if chunk.start == 0 and chunk.stop == n_database:
                best[batch], indices[batch] = candidates, top
            else:  # merge with the best so far; ties to the lower index
                costs = np.hstack([best[batch], candidates])
                ids = np.hstack([indices[batch], top])
                order = np.lexsort((ids, costs), axis=1)[:, :n_neighbors]
                best[batch] = np.take_along_axis(costs, order, axis=1)
                indices[batch] = np.take_along_axis(ids, order, axis=1)
    if metric == "cosine":
        return np.negative(best, out=best), indices
    best += query_sq_norms[:, None]
    return np.sqrt(np.maximum(best, 0, out=best), out=best), indices


def _unit_rows(Z):
    norms = np.linalg.norm(Z, axis=1)
    return Z / np.where(norms > 0, norms, 1)[:, None]
