"""The views of the coordinated models: validation, row blocks in memory and on dask, and
their sufficient statistics.

Every model of the CCA family fits from the same sufficient statistics of its training rows
(the count, the mean and the centred cross-products of the views' columns, :class:`_Moments`),
accumulated chunk by chunk, so ``fit`` on an in-memory array, ``partial_fit`` over a stream
and ``fit`` on a dask array all solve one small eigenproblem from the same numbers.
"""

import sys

import numpy as np
from sklearn.utils import check_array, gen_batches
from sklearn.utils._chunking import get_chunk_n_rows
from sklearn.utils.validation import validate_data

from .._modalities import missing_mask, resolve_modalities, validate_modal_data


def complete_views(estimator, X, *, max_views=None, min_rows=2):
    """Validate training data of a coordinated model and return its views' complete rows.

    Resolves ``modalities`` (stored as ``modalities_``), checks the number of views, and keeps
    the rows with every view present (rows with a missing view cannot be paired).

    Returns
    -------
    views : list of ndarray
        Each view's columns on the complete rows, float64.
    """
    if is_dask_array(X):  # these models train on all the rows in memory
        X = X.compute()
    X, complete = validate_views(estimator, X, reset=True, max_views=max_views)
    X = np.asarray(X[complete], dtype=np.float64)
    if X.shape[0] < min_rows:
        raise ValueError(f"{type(estimator).__name__} needs at least {min_rows} rows with every "
                         f"view present, got {X.shape[0]}.")
    return [X[:, cols] for _, cols in estimator.modalities_]


def validate_views(estimator, X, *, reset, max_views=None):
    """Validate data of a coordinated model: X (float32 or float64, not copied) and its
    complete rows (every view present; rows with a missing view cannot be paired).

    On ``reset`` resolves ``modalities`` (stored as ``modalities_``) and checks the number of
    views. A dask array is checked for its width only (its values are checked block by block
    where they are computed) and every row counts as complete here.
    """
    if is_dask_array(X):
        validate_data(estimator, X, reset=reset, skip_check_array=True)
        if X.ndim != 2:
            raise ValueError(f"Expected a 2-dimensional dask array, got shape {X.shape}.")
        if reset:
            estimator.modalities_ = resolve_modalities(estimator.modalities, X.shape[1])
        complete = None
    else:
        X, missing, _ = validate_modal_data(estimator, X, reset=reset, accept_sparse=False,
                                            dtype=(np.float64, np.float32))
        complete = ~missing.any(axis=1)
    if reset:
        name, n_views = type(estimator).__name__, len(estimator.modalities_)
        if n_views < 2 or (max_views is not None and n_views > max_views):
            wanted = "exactly two" if max_views == 2 else "at least two"
            raise ValueError(f"{name} needs {wanted} views; got {n_views}.")
    return X, complete


# --- chunks and dask blocks --------------------------------------------------------------------


def is_dask_array(X):
    """Whether X is a ``dask.array.Array`` (without importing dask)."""
    module = sys.modules.get("dask.array")
    return module is not None and isinstance(X, module.Array)


def row_chunks(n_rows, row_bytes):
    """Slices of at most as many rows as fit in scikit-learn's ``working_memory``."""
    return gen_batches(n_rows, get_chunk_n_rows(row_bytes, max_n_rows=max(n_rows, 1)))


def _row_blocks(X):
    """The delayed row blocks of a dask array (all columns in one block) and their first rows."""
    X = X.rechunk({1: -1})
    starts = np.concatenate([[0], np.cumsum(X.chunks[0])[:-1]]).astype(int)
    return X.to_delayed().ravel(), starts


def _tree_reduce(parts, merge):
    """Pairwise tree of delayed ``merge`` calls over delayed parts (depth log2 of their count)."""
    import dask

    while len(parts) > 1:
        pairs = [dask.delayed(merge)(a, b) for a, b in zip(parts[::2], parts[1::2])]
        parts = pairs + ([parts[-1]] if len(parts) % 2 else [])
    return parts[0]


def map_row_blocks(function, X, n_columns):
    """``function`` (in-memory rows to ``n_columns`` float64 columns) over a dask array's row
    blocks: a dask array of the results, one block per row block of X."""
    X = X.rechunk({1: -1})
    return X.map_blocks(function, dtype=np.float64, chunks=(X.chunks[0], (n_columns,)),
                        meta=np.empty((0, 0)))


def _checked_block(block, resolved, start):
    """A computed dask block validated as ``validate_modal_data`` validates in-memory X.

    Returns the block (float32 or float64) and its missing mask; a message naming rows says
    which row of the whole array the block starts at.
    """
    block = check_array(block, dtype=(np.float64, np.float32), ensure_all_finite=False,
                        ensure_min_samples=0, input_name="X")
    try:
        missing = missing_mask(block, resolved)
    except ValueError as error:
        raise ValueError(f"{error} (Row numbers are counted within the dask block that starts "
                         f"at row {start}.)") from None
    return block, missing


def _block_complete(block, resolved, start):
    return ~_checked_block(block, resolved, start)[1].any(axis=1)


def _block_moments(block, resolved, start, rows_to_statistics, widths):
    block, missing = _checked_block(block, resolved, start)
    return complete_moments(block, ~missing.any(axis=1), rows_to_statistics, widths)


def dask_complete_rows(X, resolved):
    """The complete-row mask of a dask array, computed block by block (one bool per row)."""
    import dask

    blocks, starts = _row_blocks(X)
    parts = [dask.delayed(_block_complete)(b, resolved, s) for b, s in zip(blocks, starts)]
    return np.concatenate(dask.compute(*parts))


def dask_moments(X, resolved, rows_to_statistics, widths):
    """:class:`_Moments` of a dask array's complete rows: each block's statistics computed
    where the block lives (on the cluster when a ``distributed.Client`` is active), merged
    pairwise in a tree; only the merged statistics come back."""
    import dask

    blocks, starts = _row_blocks(X)
    parts = [dask.delayed(_block_moments)(b, resolved, s, rows_to_statistics, widths)
             for b, s in zip(blocks, starts)]
    return dask.compute(_tree_reduce(parts, _Moments.merge))[0]


# --- sufficient statistics ---------------------------------------------------------------------


class _Moments:
    """Count, mean and centred cross-products of the rows of several views, mergeable.

    Rows hold the views' columns side by side, in view order (``widths``). Two parts with
    counts ``n_a, n_b``, means ``m_a, m_b`` and co-moments ``M = sum (x - m)(x - m)^T`` merge
    by the pairwise update of Chan, Golub & LeVeque (1983)::

        n = n_a + n_b,   d = m_b - m_a,   m = m_a + d n_b / n,
        M = M_a + M_b + d d^T n_a n_b / n,

    which is exact and, unlike accumulating raw sums, does not lose the variance to
    cancellation when the mean is large. For the Ledoit-Wolf shrinkage each view also keeps
    ``sum ||x - m||^4`` and, to move it to a new mean (Pebay 2008), ``sum ||x - m||^2 (x - m)``.
    Each column's smallest and largest value tell an exactly constant view apart.

    While there are no more rows than columns, the rows themselves are kept instead (no more
    memory than the co-moment matrix): their thin SVD gives each view's eigenbasis without
    squaring the condition number, and without forming a wide view's large cross-product
    matrix. Parts are never modified: ``merge`` returns a new object.
    """

    def __init__(self, widths):
        self.widths = list(widths)
        self.slices = [slice(int(s - w), int(s)) for w, s in zip(widths, np.cumsum(widths))]
        self.n = 0
        self.rows = np.empty((0, sum(widths)))
        self.mean = self.comoment = self.norm4 = self.norm3 = None
        self.low = np.full(sum(widths), np.inf)
        self.high = np.full(sum(widths), -np.inf)

    @classmethod
    def of_rows(cls, X, widths):
        """Statistics of the float64 rows X, which are taken over (centred in place)."""
        moments = cls(widths)
        moments.n = X.shape[0]
        if moments.n:
            moments.low, moments.high = X.min(axis=0), X.max(axis=0)
        if moments.n <= sum(widths):
            moments.rows = X
            return moments
        moments.rows = None
        moments._fold(X)
        return moments

    def _fold(self, Y):
        """Set mean, co-moment and norm sums from the rows Y (centred in place)."""
        self.mean = Y.mean(axis=0)
        Y -= self.mean
        self.comoment = Y.T @ Y
        self.norm4 = np.empty(len(self.widths))
        self.norm3 = np.empty(Y.shape[1])
        for m, cols in enumerate(self.slices):
            q = np.einsum("ij,ij->i", Y[:, cols], Y[:, cols])
            self.norm4[m] = q @ q
            self.norm3[cols] = q @ Y[:, cols]

    def _folded(self):
        """The same statistics as mean, co-moment and norm sums (a new object)."""
        if self.rows is None:
            return self
        folded = _Moments(self.widths)
        folded.n, folded.low, folded.high, folded.rows = self.n, self.low, self.high, None
        folded._fold(self.rows.copy())
        return folded

    def merge(self, other):
        """Statistics of the rows of both parts (Chan, Golub & LeVeque 1983)."""
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        merged = _Moments(self.widths)
        merged.n = self.n + other.n
        merged.low = np.minimum(self.low, other.low)
        merged.high = np.maximum(self.high, other.high)
        if self.rows is not None and other.rows is not None and merged.n <= sum(self.widths):
            merged.rows = np.vstack([self.rows, other.rows])
            return merged
        a, b = self._folded(), other._folded()
        merged.rows = None
        delta = b.mean - a.mean
        merged.mean = a.mean + delta * (b.n / merged.n)
        merged.comoment = a.comoment + b.comoment
        merged.comoment += np.outer(delta, delta * (a.n * b.n / merged.n))
        merged.norm4 = np.zeros(len(self.widths))
        merged.norm3 = np.zeros(sum(self.widths))
        for part in (a, b):
            shift = part.mean - merged.mean
            for m, cols in enumerate(self.slices):
                s, M, t = shift[cols], part.comoment[cols, cols], part.norm3[cols]
                Ms, ss, trace = M @ s, s @ s, np.trace(M)
                merged.norm4[m] += (part.norm4[m] + 4 * s @ Ms + part.n * ss**2 + 4 * s @ t
                                    + 2 * ss * trace)
                merged.norm3[cols] += t + trace * s + 2 * Ms + part.n * ss * s
        return merged

    def column_means(self):
        """Column means of the rows."""
        if self.rows is not None:
            return self.rows.mean(axis=0)
        return self.mean

    def view_bases(self):
        """Each view's scatter eigendecomposition and the cross-products of the eigenbases.

        Returns
        -------
        bases : list of (ndarray, ndarray)
            Per view, the eigenvalues of its scatter matrix ``X_m^T X_m`` (centred rows),
            all of them, descending, and the eigenvectors of those clearly above rounding
            (none for a view that is constant, exactly or to rounding).
        cross : dict
            ``cross[m, o] = V_m^T (X_m^T X_o) V_o`` for views ``m < o``.
        norm4 : list of float
            Per view, ``sum ||x - mean||^4`` over the rows (for the Ledoit-Wolf shrinkage).
        """
        eps = np.finfo(np.float64).eps
        bases, projected = [], []
        if self.rows is not None:
            Y = self.rows - self.column_means()
        for m, cols in enumerate(self.slices):
            d = self.widths[m]
            if self.rows is None or self.n > d:
                block = Y[:, cols] if self.rows is not None else None
                scatter, V = np.linalg.eigh(self.comoment[cols, cols] if block is None
                                            else block.T @ block)
                scatter, V = scatter[::-1], V[:, ::-1]
                tol = scatter[0] * 10 * d * eps
            else:  # never forming a wide view's d x d scatter matrix
                _, s, Vt = np.linalg.svd(Y[:, cols], full_matrices=False)
                scatter, V = s**2, Vt.T
                tol = scatter[0] * (max(self.n, d) * eps) ** 2
            # variance at the rounding level of the values is no variance
            scale = max(np.max(np.abs(self.low[cols])), np.max(np.abs(self.high[cols])))
            tol = max(tol, self.n * d * (100 * eps * scale) ** 2)
            if np.all(self.high[cols] == self.low[cols]):
                tol = np.inf
            V = V[:, scatter > tol]
            bases.append((scatter, V))
            if self.rows is not None:
                projected.append(Y[:, cols] @ V)
        cross = {}
        for m in range(len(self.widths)):
            for o in range(m + 1, len(self.widths)):
                if self.rows is None:
                    block = self.comoment[self.slices[m], self.slices[o]]
                    cross[m, o] = bases[m][1].T @ block @ bases[o][1]
                else:
                    cross[m, o] = projected[m].T @ projected[o]
        if self.rows is None:
            norm4 = list(self.norm4)
        else:
            norm4 = [float(np.sum(np.einsum("ij,ij->i", Y[:, c], Y[:, c]) ** 2))
                     for c in self.slices]
        return bases, cross, norm4


def complete_moments(X, complete, rows_to_statistics, widths):
    """:class:`_Moments` of ``rows_to_statistics`` applied to X's complete rows, computed over
    row chunks (float64 copies of one chunk at a time)."""
    moments = _Moments(widths)
    for rows in row_chunks(X.shape[0], 24 * max(X.shape[1], sum(widths))):
        keep = complete[rows]
        chunk = X[rows][keep] if not keep.all() else X[rows]
        if chunk.shape[0]:
            moments = moments.merge(_Moments.of_rows(rows_to_statistics(chunk), widths))
    return moments


def _take_columns(X, order):
    """The views' columns side by side, in view order, as a new float64 array."""
    if order is None:
        return np.array(X, dtype=np.float64)
    return X[:, order].astype(np.float64, copy=False)


def ledoit_wolf_ridge(n, d, scatter, norm4):
    """Ridge ``alpha mu / (1 - alpha)`` of a view from its Ledoit-Wolf shrinkage ``alpha``.

    ``alpha`` is the shrinkage intensity of Ledoit & Wolf (2004) towards ``mu I``, ``mu`` the
    mean variance, computed as :func:`sklearn.covariance.ledoit_wolf_shrinkage` computes it
    on the centred view (``assume_centered=True``), but from the view's scatter eigenvalues
    (their sum and sum of squares are the trace and the squared Frobenius norm of ``X^T X``)
    and ``sum_i ||x_i||^4``, so that it is available from streamed statistics.
    """
    if d == 1:
        return 0.0
    trace, frobenius2 = np.sum(scatter), np.sum(scatter**2)
    mu = trace / (n * d)
    delta_ = frobenius2 / n**2
    beta = (norm4 / n - delta_) / (d * n)
    delta = (delta_ - 2 * mu * trace / n + d * mu**2) / d
    beta = min(beta, delta)
    alpha = 0.0 if beta == 0 else min(beta / delta, 1 - 1e-12)
    return alpha * mu / (1 - alpha)
