"""Cross-modal nearest-neighbour search in a shared representation space.

Every skmultimodal transformer maps whatever modalities a row has into one shared space (see
:ref:`data_model`), so cross-modal retrieval is three steps: transform the queries (say, text
only, the image block set to NaN), transform the database (images only), and search the
nearest database items of each query in the shared space with :func:`nearest_neighbors`. The
rankings it returns are what the retrieval metrics of :mod:`skmultimodal.metrics` consume.
"""

import numbers

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


def _default_batch_size(row_items, itemsize):
    """Query rows per batch so that a batch's work arrays fit sklearn's working memory.

    ``row_items`` is the number of array entries one query row of a batch needs: its row of
    scores and about as much again for the partial sort.
    """
    budget = get_config()["working_memory"] * 2**20
    return max(1, int(budget // (row_items * itemsize)))


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

    The search is exact (brute force): for a batch of queries the scores against the whole
    database are one matrix product, the ``n_neighbors`` best are selected with
    :func:`numpy.argpartition` and only those are sorted. At most ``batch_size`` query rows
    are scored at a time, so the full ``n_queries x n_database`` score matrix is never built
    unless it fits in one batch; the memory used is ``O(batch_size * n_database)`` beyond
    the returned arrays.

    Parameters
    ----------
    queries : array-like of shape (n_queries, n_components)
        Query embeddings, e.g. ``model.transform(X_text_only)``.
    database : array-like of shape (n_database, n_components)
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
        Number of query rows scored at a time. ``None`` chooses it so that a batch's score
        block fits in scikit-learn's ``working_memory`` (see :func:`sklearn.set_config`,
        1024 MiB by default).

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
    queries = _check_embeddings(queries, "queries")
    database = _check_embeddings(database, "database")
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

    dtype = np.result_type(queries.dtype, database.dtype)
    queries = queries.astype(dtype, copy=False)
    database = database.astype(dtype, copy=False)
    if metric == "cosine":
        # Rows scaled to unit norm; zero rows stay zero (similarity 0 with everything).
        norms = np.linalg.norm(database, axis=1)
        database = database / np.where(norms > 0, norms, 1)[:, None]
        norms = np.linalg.norm(queries, axis=1)
        queries = queries / np.where(norms > 0, norms, 1)[:, None]
    else:
        # Ranking a query's row needs only ||d||^2 - 2 q.d: the ||q||^2 term is constant.
        database_sq_norms = np.einsum("ij,ij->i", database, database)
        query_sq_norms = np.einsum("ij,ij->i", queries, queries)

    if batch_size is None:
        batch_size = _default_batch_size(2 * n_database, dtype.itemsize)
    n_queries = queries.shape[0]
    scores = np.empty((n_queries, n_neighbors), dtype=dtype)
    indices = np.empty((n_queries, n_neighbors), dtype=np.intp)
    for batch in gen_batches(n_queries, batch_size):
        products = queries[batch] @ database.T
        if metric == "cosine":
            np.negative(products, out=products)
            top = _top_k(products, n_neighbors)
            scores[batch] = -np.take_along_axis(products, top, axis=1)
        else:
            products *= -2
            products += database_sq_norms
            top = _top_k(products, n_neighbors)
            squared = np.take_along_axis(products, top, axis=1)
            squared += query_sq_norms[batch][:, None]
            scores[batch] = np.sqrt(np.maximum(squared, 0, out=squared), out=squared)
        indices[batch] = top
    return scores, indices
