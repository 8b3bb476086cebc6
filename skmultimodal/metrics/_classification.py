"""Class-score metrics: flat hit@k and hierarchical precision@k.

Both take ``y_true`` and a score matrix ``y_score`` of shape ``(n_samples, n_classes)`` (a
classifier's ``decision_function`` or ``predict_proba``), as
:func:`sklearn.metrics.top_k_accuracy_score` does, and rank the classes of a sample by
decreasing score, ties to the lower class index, so that at ``k=1`` they agree.
"""

import numpy as np
from sklearn.utils import check_array, column_or_1d

from .._hierarchy import check_parents, class_distances, hierarchy_nodes
from ..retrieval import _top_k
from ._base import _check_k

__all__ = ["hierarchical_precision_at_k", "hit_at_k"]


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
    :class:`~skmultimodal.embedding.UnifiedSemanticEmbedding`. So :math:`G_k(c)` is the
    smallest ball around the true class, in hops, that holds at least :math:`k` classes; it
    holds more when several classes are at distance :math:`h_k(c)`. The sample's precision
    is the fraction of its :math:`k` best-scored classes that lie in :math:`G_k(c)`, and the
    metric is the (weighted) mean over samples. At ``k=1`` it is flat hit@1
    (:func:`hit_at_k`). Hwang & Sigal (2014, Table 1) report it, beside flat hit@k, for
    Unified Semantic Embedding on Animals with Attributes.

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
        only carry paths. A dict ``{node: parent}`` (``None`` for top level), keyed by class
        labels, is read as the ``class_hierarchy`` of
        :class:`~skmultimodal.embedding.UnifiedSemanticEmbedding`.
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
    y_index, y_score = _check_class_scores(y_true, y_score, labels)
    n_classes = y_score.shape[1]
    k = _check_k(k, upper=n_classes, what="the number of classes")
    if isinstance(hierarchy, dict):
        classes = np.unique(column_or_1d(y_true)) if labels is None else column_or_1d(labels)
        parent = hierarchy_nodes(classes, hierarchy, name="hierarchy")[1]
    else:
        parent = check_parents(hierarchy, n_classes, name="hierarchy", classes_of="y_score")
    distances = class_distances(parent, n_classes)
    radius = np.sort(distances, axis=1)[:, k - 1]
    in_truth = distances <= radius[:, None]
    top = _top_k_classes(y_score, k)
    precision = in_truth[y_index[:, None], top].sum(axis=1) / k
    return float(np.average(precision, weights=sample_weight))
