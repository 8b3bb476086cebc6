"""The modality data model: named column blocks of one matrix, NaN blocks for "missing".

Every estimator of skmultimodal takes one ordinary ``X`` holding the modalities' columns side
by side, and a ``modalities`` parameter saying which columns belong to which modality:

- ``None``: two modalities, the first ``n_features // 2`` columns (``"m0"``) and the rest
  (``"m1"``);
- a list of ints: consecutive block widths, named ``"m0", "m1", ...``;
- a list of ``(name, columns)`` pairs, as in :class:`~sklearn.compose.ColumnTransformer`, with
  ``columns`` a slice, a list of int indices, or a list of column names of a DataFrame ``X``.

Every column belongs to exactly one modality. A modality missing for a sample is its whole block
set to NaN in that row. This module is the single place that parses the specification, checks
it against ``X`` and computes the per-row missing mask.
"""

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import _num_samples, validate_data

__all__ = ["stack_modalities", "split_modalities"]

_MAX_ROWS_IN_MESSAGE = 10


def _format_rows(rows):
    rows = np.asarray(rows)
    shown = ", ".join(str(r) for r in rows[:_MAX_ROWS_IN_MESSAGE])
    more = f", ... ({rows.size} rows in all)" if rows.size > _MAX_ROWS_IN_MESSAGE else ""
    return f"[{shown}{more}]"


def _as_slice_if_contiguous(indices):
    """A slice for an ascending run of consecutive indices, else the index array."""
    if indices.size and np.all(np.diff(indices) == 1):
        return slice(int(indices[0]), int(indices[-1]) + 1)
    return indices


def _column_indices(name, columns, n_features, feature_names_in):
    """Resolve one modality's ``columns`` into an int index array."""
    if isinstance(columns, slice):
        indices = np.arange(n_features)[columns]
    elif isinstance(columns, (str, numbers.Integral)) or np.ndim(columns) != 1:
        raise ValueError(
            f"Modality {name!r}: columns must be a slice or a list of column indices or names, "
            f"got {columns!r}. Wrap a single column in a list."
        )
    else:
        columns = list(columns)
        if all(isinstance(c, str) for c in columns) and columns:
            if feature_names_in is None:
                raise ValueError(
                    f"Modality {name!r} selects columns by name, which needs X to be a pandas "
                    "DataFrame with string column names."
                )
            position = {c: i for i, c in enumerate(feature_names_in)}
            unknown = [c for c in columns if c not in position]
            if unknown:
                raise ValueError(
                    f"Modality {name!r}: unknown column names {unknown[:10]}; X has columns "
                    f"{list(feature_names_in[:10])}{' ...' if len(feature_names_in) > 10 else ''}."
                )
            indices = np.array([position[c] for c in columns], dtype=np.intp)
        elif all(isinstance(c, numbers.Integral) and not isinstance(c, bool) for c in columns):
            indices = np.asarray(columns, dtype=np.intp).reshape(-1)
            bad = indices[(indices < 0) | (indices >= n_features)]
            if bad.size:
                raise ValueError(
                    f"Modality {name!r}: column indices {bad[:10].tolist()} are out of range "
                    f"for X with n_features = {n_features}."
                )
        else:
            raise ValueError(
                f"Modality {name!r}: columns must be all ints or all strings, got {columns!r}."
            )
    if indices.size == 0:
        raise ValueError(f"Modality {name!r} selects no columns.")
    if np.unique(indices).size != indices.size:
        raise ValueError(f"Modality {name!r} lists a column more than once.")
    return indices


def resolve_modalities(modalities, n_features, feature_names_in=None):
    """Resolve a ``modalities`` specification against the width of ``X``.

    Parameters
    ----------
    modalities : None, list of int or list of (str, columns) tuples
        The specification (see the module docstring).
    n_features : int
        Number of columns of ``X``.
    feature_names_in : ndarray of str, default=None
        Column names of a DataFrame ``X``; needed for name-based columns.

    Returns
    -------
    resolved : list of (str, slice or ndarray) tuples
        One ``(name, columns)`` pair per modality, columns as a slice when they are an
        ascending run of consecutive indices, else as an int index array. Every column of
        ``X`` belongs to exactly one modality.
    """
    if modalities is None:
        if n_features < 2:
            raise ValueError(
                "modalities=None splits X into two halves, which needs at least 2 columns; "
                f"got 1 feature(s) (n_features = {n_features}). Pass `modalities` explicitly."
            )
        half = n_features // 2
        return [("m0", slice(0, half)), ("m1", slice(half, n_features))]
    if not isinstance(modalities, (list, tuple)) or len(modalities) == 0:
        raise ValueError(
            "modalities must be None, a non-empty list of block widths or a non-empty list of "
            f"(name, columns) pairs; got {modalities!r}."
        )
    if all(isinstance(m, numbers.Integral) and not isinstance(m, bool) for m in modalities):
        widths = [int(w) for w in modalities]
        for i, w in enumerate(widths):
            if w <= 0:
                raise ValueError(f"Modality 'm{i}' has width {w}; widths must be positive.")
        if sum(widths) != n_features:
            raise ValueError(
                f"The modality widths {widths} sum to {sum(widths)}, but X has "
                f"n_features = {n_features}. The widths must cover every column exactly once."
            )
        stops = np.cumsum(widths)
        return [(f"m{i}", slice(int(s - w), int(s))) for i, (w, s) in enumerate(zip(widths, stops))]
    if not all(isinstance(m, (list, tuple)) and len(m) == 2 for m in modalities):
        raise ValueError(
            "modalities must be a list of positive ints (block widths) or a list of "
            f"(name, columns) pairs, not a mixture; got {modalities!r}."
        )
    names = [m[0] for m in modalities]
    for name in names:
        if not isinstance(name, str) or not name:
            raise ValueError(f"Modality names must be non-empty strings; got {name!r}.")
    if len(set(names)) != len(names):
        raise ValueError(f"Modality names must be unique; got {names}.")
    owner = np.full(n_features, -1, dtype=np.intp)
    resolved = []
    for i, (name, columns) in enumerate(modalities):
        indices = _column_indices(name, columns, n_features, feature_names_in)
        taken = owner[indices] >= 0
        if taken.any():
            other = names[owner[indices[taken][0]]]
            raise ValueError(
                f"Modalities {other!r} and {name!r} overlap on columns "
                f"{indices[taken][:10].tolist()}; each column must belong to one modality."
            )
        owner[indices] = i
        resolved.append((name, _as_slice_if_contiguous(indices)))
    uncovered = np.flatnonzero(owner < 0)
    if uncovered.size:
        raise ValueError(
            f"Columns {uncovered[:10].tolist()}{' ...' if uncovered.size > 10 else ''} belong "
            "to no modality. Add them to a modality or drop them from X."
        )
    return resolved


def per_modality(value, name, n_modalities):
    """A parameter given once for all modalities or as a list with one entry per modality."""
    values = list(value) if isinstance(value, (list, tuple)) else [value] * n_modalities
    if len(values) != n_modalities:
        raise ValueError(
            f"{name} lists {len(values)} entries but there are {n_modalities} modalities; "
            "give one per modality or a single value for all."
        )
    return values


def modality_widths(resolved):
    """Number of columns of each modality of a resolved specification."""
    return [
        (c.stop - c.start) if isinstance(c, slice) else c.size for _, c in resolved
    ]


def modality_owner(resolved, n_features):
    """Index of the modality each column belongs to, shape (n_features,)."""
    owner = np.empty(n_features, dtype=np.intp)
    for i, (_, columns) in enumerate(resolved):
        owner[columns] = i
    return owner


def missing_mask(X, resolved, *, allow_all_missing=False):
    """Per-row mask of missing modalities, validating the NaN convention.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Validated input.
    resolved : list of (str, columns)
        Output of :func:`resolve_modalities`.
    allow_all_missing : bool, default=False
        Whether a row may have every modality missing.

    Returns
    -------
    missing : ndarray of bool, shape (n_samples, n_modalities)
        True where the modality's whole block is NaN in that row.

    Raises
    ------
    ValueError
        If X holds infinity, if a block is only partly NaN, or (unless allowed) if a row has
        every modality missing. The message names the modality and the rows.
    """
    n_samples, n_features = X.shape
    names = [name for name, _ in resolved]
    widths = np.asarray(modality_widths(resolved))
    if sp.issparse(X):
        data = X.data
        rows = np.repeat(np.arange(n_samples), np.diff(X.indptr))
        owner = modality_owner(resolved, n_features)
        inf = np.isinf(data)
        if inf.any():
            first = np.flatnonzero(inf)[0]
            raise ValueError(
                f"X contains infinity in modality {names[owner[X.indices[first]]]!r} "
                f"(row {rows[first]}). Infinite values are never accepted."
            )
        nan = np.isnan(data)
        n_nan = np.zeros((n_samples, len(resolved)), dtype=np.intp)
        np.add.at(n_nan, (rows[nan], owner[X.indices[nan]]), 1)
    else:
        n_nan = np.empty((n_samples, len(resolved)), dtype=np.intp)
        for i, (name, columns) in enumerate(resolved):
            block = X[:, columns]
            inf_rows = np.flatnonzero(np.isinf(block).any(axis=1))
            if inf_rows.size:
                raise ValueError(
                    f"X contains infinity in modality {name!r} (rows {_format_rows(inf_rows)}). "
                    "Infinite values are never accepted."
                )
            n_nan[:, i] = np.isnan(block).sum(axis=1)
    missing = n_nan == widths
    partial = (n_nan > 0) & ~missing
    if partial.any():
        i = np.flatnonzero(partial.any(axis=0))[0]
        raise ValueError(
            f"Modality {names[i]!r} is partly NaN in rows "
            f"{_format_rows(np.flatnonzero(partial[:, i]))}. A missing modality is its whole "
            "block set to NaN; impute the NaN entries of a partly observed block first, or set "
            "the whole block to NaN."
        )
    if not allow_all_missing:
        empty = np.flatnonzero(missing.all(axis=1))
        if empty.size:
            raise ValueError(
                f"Rows {_format_rows(empty)} have every modality missing (all NaN); there is "
                "nothing to infer them from. Drop these rows."
            )
    return missing


def modality_ranges(X, resolved):
    """Smallest and largest observed value of each modality, NaN (missing) ignored.

    Implicit zeros of a sparse matrix count as values. A modality with no observed value gets
    ``(0.0, 0.0)``.

    Returns
    -------
    ranges : list of (float, float)
        ``(low, high)`` per modality.
    """
    ranges = []
    for _, columns in resolved:
        block = X[:, columns]
        values = block.data if sp.issparse(block) else block
        if values.size == 0:
            ranges.append((0.0, 0.0))
            continue
        low, high = np.fmin.reduce(values, axis=None), np.fmax.reduce(values, axis=None)
        if np.isnan(low):
            low = high = 0.0
        if sp.issparse(block) and block.nnz < block.shape[0] * block.shape[1]:
            low, high = min(low, 0.0), max(high, 0.0)
        ranges.append((float(low), float(high)))
    return ranges


def validate_modal_data(
    estimator, X, *, reset, dtype=(np.float64, np.float32), accept_sparse="csr",
    allow_all_missing=False,
):
    """Validate ``X`` for a multimodal estimator: missing mask and value range per modality.

    On ``reset`` the estimator's ``modalities`` parameter is resolved and stored as the fitted
    attribute ``modalities_``; otherwise the stored one is used. This is the only place an
    estimator's ``modalities`` is parsed.

    Dense data without NaN or infinity (the common case) is recognised from its column minima
    and maxima, two contiguous passes that also give the value ranges.

    Returns
    -------
    X : {ndarray, csr_matrix}
        The validated data.
    missing : ndarray of bool, shape (n_samples, n_modalities)
        The per-row missing mask (see :func:`missing_mask`).
    ranges : list of (float, float)
        Each modality's observed value range (see :func:`modality_ranges`), for the
        estimator's checks of its data domain.
    """
    X = validate_data(
        estimator, X, reset=reset, accept_sparse=accept_sparse, dtype=dtype,
        ensure_all_finite=False, ensure_min_samples=2 if reset else 1,
    )
    if reset:
        estimator.modalities_ = resolve_modalities(
            estimator.modalities, X.shape[1], getattr(estimator, "feature_names_in_", None)
        )
    resolved = estimator.modalities_
    if not sp.issparse(X):
        low, high = X.min(axis=0), X.max(axis=0)  # NaN and infinity propagate
        if np.isfinite(low).all() and np.isfinite(high).all():
            missing = np.zeros((X.shape[0], len(resolved)), dtype=bool)
            ranges = [(float(low[c].min()), float(high[c].max())) for _, c in resolved]
            return X, missing, ranges
    missing = missing_mask(X, resolved, allow_all_missing=allow_all_missing)
    return X, missing, modality_ranges(X, resolved)


def reject_second_view(y, X, estimator):
    """Refuse scikit-learn's ``fit(X, Y)`` habit: a second view passed as a 2-D ``y``.

    scikit-learn's cross-decomposition estimators (``CCA``, ``PLSCanonical``) take the second
    view as ``Y``; skmultimodal's take every view in ``X``, and a 2-D ``y`` would silently be
    ignored. A 2-D array-like ``y`` with as many rows as ``X`` therefore raises an error that
    says how to stack the views. ``None`` and 1-D ``y`` (labels a Pipeline passes through)
    are accepted.

    Parameters
    ----------
    y : object
        The ``y`` given to ``fit``.
    X : array-like
        The ``X`` given to ``fit``.
    estimator : estimator instance
        The estimator being fitted (named in the message).

    Raises
    ------
    ValueError
        If ``y`` is 2-dimensional with as many rows as ``X``.
    """
    if y is None or X is None:
        return
    y_shape = getattr(y, "shape", None)
    if y_shape is None:
        if not isinstance(y, (list, tuple)):
            return
        y_shape = np.shape(np.asarray(y, dtype=object))
    if len(y_shape) != 2:
        return
    try:
        x_rows = _num_samples(X)
    except TypeError:
        return  # X is not array-like; its validation says so
    if y_shape[0] != x_rows:
        return
    name = type(estimator).__name__
    raise ValueError(
        f"{name}.fit got a 2-D y with {y_shape[0]} rows, like X. {name} takes every view in X "
        "(scikit-learn's CCA takes the second view as Y; this one does not, and would ignore "
        "it). Stack the views into one matrix and say which columns form which view: "
        "`X, modalities = skmultimodal.stack_modalities([X, Y])`, then "
        f"`{name}(modalities=modalities, ...).fit(X)`."
    )


def stack_modalities(blocks, names=None):
    """Put the modalities' blocks side by side in one matrix.

    Parameters
    ----------
    blocks : list of array-like or sparse matrices, each of shape (n_samples, n_features_m)
        One block per modality, rows aligned. A row missing in a block is all NaN there. If
        any block is sparse, the result is a CSR matrix.
    names : list of str, default=None
        Modality names; ``"m0", "m1", ...`` by default.

    Returns
    -------
    X : ndarray or csr_matrix of shape (n_samples, sum of n_features_m)
        The stacked data.
    modalities : list of (str, slice) tuples
        The specification to pass as an estimator's ``modalities`` parameter.

    See Also
    --------
    split_modalities : The reverse operation.

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal import stack_modalities
    >>> image = np.zeros((3, 4))
    >>> tags = np.ones((3, 2))
    >>> X, modalities = stack_modalities([image, tags], names=["image", "tags"])
    >>> X.shape
    (3, 6)
    >>> modalities
    [('image', slice(0, 4, None)), ('tags', slice(4, 6, None))]
    """
    blocks = list(blocks)
    if not blocks:
        raise ValueError("stack_modalities needs at least one block.")
    if names is None:
        names = [f"m{i}" for i in range(len(blocks))]
    names = list(names)
    if len(names) != len(blocks):
        raise ValueError(f"Got {len(blocks)} blocks but {len(names)} names.")
    if len(set(names)) != len(names):
        raise ValueError(f"Modality names must be unique; got {names}.")
    blocks = [b if sp.issparse(b) else np.asarray(b) for b in blocks]
    for name, block in zip(names, blocks):
        if block.ndim != 2:
            raise ValueError(
                f"Block {name!r} must be 2-dimensional, got shape {block.shape}. Reshape a "
                "single feature with .reshape(-1, 1)."
            )
    n_rows = {b.shape[0] for b in blocks}
    if len(n_rows) != 1:
        raise ValueError(
            "Blocks must have the same number of rows; got "
            + ", ".join(f"{n!r}: {b.shape[0]}" for n, b in zip(names, blocks))
        )
    if any(sp.issparse(b) for b in blocks):
        X = sp.hstack(blocks, format="csr")
    else:
        X = np.hstack(blocks)
    stops = np.cumsum([b.shape[1] for b in blocks])
    modalities = [
        (name, slice(int(stop - b.shape[1]), int(stop)))
        for name, b, stop in zip(names, blocks, stops)
    ]
    return X, modalities


def split_modalities(X, modalities=None):
    """Split a stacked matrix into its modalities' blocks.

    Parameters
    ----------
    X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
        Stacked data.
    modalities : None, list of int or list of (str, columns) tuples, default=None
        The specification, as given to an estimator (see :ref:`data_model`).

    Returns
    -------
    blocks : list
        One block per modality, in the order of the specification, of the type of ``X``
        (DataFrame columns for a DataFrame).

    See Also
    --------
    stack_modalities : The reverse operation.

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal import split_modalities
    >>> X = np.arange(12.0).reshape(2, 6)
    >>> left, right = split_modalities(X, [4, 2])
    >>> right
    array([[ 4.,  5.],
           [10., 11.]])
    """
    feature_names = None
    if hasattr(X, "columns") and hasattr(X, "iloc"):
        feature_names = np.asarray(X.columns, dtype=object)
        if not all(isinstance(c, str) for c in feature_names):
            feature_names = None
    elif not sp.issparse(X):
        X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-dimensional, got shape {X.shape}.")
    resolved = resolve_modalities(modalities, X.shape[1], feature_names)
    if hasattr(X, "iloc"):
        return [X.iloc[:, columns] for _, columns in resolved]
    if sp.issparse(X):
        X = X.tocsr()
    return [X[:, columns] for _, columns in resolved]
