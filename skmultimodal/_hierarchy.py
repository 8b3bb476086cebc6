"""Class hierarchies: the parent array, its validation, and the relations read from it.

A class hierarchy is a tree, or a forest whose top-level nodes hang from one implicit root
(so top-level nodes are siblings of each other), held as a **parent array**: entry ``j`` is
the index of node ``j``'s parent, ``-1`` for a top-level node. Nodes ``0 .. n_classes - 1``
are the classes; later nodes are internal categories. Users may also give a hierarchy as a
dict ``{node: parent}`` keyed by labels, which :func:`hierarchy_nodes` indexes.

The ontology of Unified Semantic Embedding (Hwang & Sigal 2014) and the tree distances of
hierarchical precision@k (Frome et al. 2013) are both read from this one representation.
"""

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path


def _python_label(label):
    """A numpy scalar as the equal Python scalar (dict lookups then match either)."""
    return label.item() if isinstance(label, np.generic) else label


def _cycle_node(parent):
    """A node on a cycle of the parent pointers, or None if there is none."""
    node = np.arange(parent.size)
    # Without a cycle every chain reaches the top within n_nodes steps; with one, a chain
    # that has not reached it after n_nodes steps is on the cycle.
    for _ in range(parent.size):
        node = np.where(node >= 0, parent[np.maximum(node, 0)], -1)
        if (node < 0).all():
            return None
    on_cycle = node[node >= 0]
    return int(on_cycle[0]) if on_cycle.size else None


def _check_acyclic(parent, nodes, name):
    node = _cycle_node(parent)
    if node is not None:
        raise ValueError(
            f"{name} has a cycle through node {nodes[node]!r}; it must be a tree (or forest): "
            "following parents from any node must reach a top-level node."
        )


def check_parents(parent, n_classes, *, name="class_hierarchy", classes_of="y"):
    """Validate a parent array whose first ``n_classes`` nodes are the classes.

    Parameters
    ----------
    parent : array-like of int of shape (n_nodes,)
        Index of each node's parent, ``-1`` for a top-level node.
    n_classes : int
        Number of classes (nodes ``0 .. n_classes - 1``).
    name : str, default="class_hierarchy"
        The parameter's name in error messages.
    classes_of : str, default="y"
        What the classes come from, in error messages.

    Returns
    -------
    parent : ndarray of intp of shape (n_nodes,)

    Raises
    ------
    ValueError
        If ``parent`` is not a 1-d int array, has fewer than ``n_classes`` entries, holds an
        entry that is neither ``-1`` nor another node's index, or has a cycle.
    """
    parent = np.asarray(parent)
    if parent.ndim != 1 or not np.issubdtype(parent.dtype, np.integer):
        raise ValueError(
            f"{name} must be a dict {{node: parent}} or a 1-d int array of parent node "
            f"indices (-1 for a top-level node); got a {parent.dtype} array of shape "
            f"{parent.shape}."
        )
    n_nodes = parent.size
    if n_nodes < n_classes:
        raise ValueError(
            f"{name} has {n_nodes} nodes but {classes_of} has {n_classes} classes; it needs "
            f"entries for {n_classes} classes first (nodes 0 .. {n_classes - 1}, in the "
            "classes' order), then any internal nodes."
        )
    bad = np.flatnonzero((parent < -1) | (parent >= n_nodes) | (parent == np.arange(n_nodes)))
    if bad.size:
        j = bad[0]
        raise ValueError(
            f"{name}[{j}] = {parent[j]} is not a valid parent: it is not -1 or a node index "
            f"in [0, {n_nodes}) other than {j} (-1 marks a top-level node)."
        )
    _check_acyclic(parent, range(n_nodes), name)
    return parent.astype(np.intp)


def hierarchy_nodes(classes, class_hierarchy, *, name="class_hierarchy", classes_of="y"):
    """Index the nodes of a class hierarchy, classes first.

    Parameters
    ----------
    classes : ndarray of shape (n_classes,)
        The class labels.
    class_hierarchy : dict, array-like of int or None
        ``{node: parent}``; a parent of ``None`` (or a class absent from the dict) makes a
        top-level node, whose parent is the implicit root. Or an int array of parent
        indices (-1 at the top), the classes being nodes ``0 .. n_classes - 1``; its
        internal nodes are then labelled by their indices (see :func:`check_parents`).
    name, classes_of : str
        As in :func:`check_parents`, for error messages.

    Returns
    -------
    nodes : list
        Node labels: the classes in order, then the other nodes in order of first appearance.
    parent : ndarray of intp of shape (n_nodes,)
        Index of each node's parent, -1 for top-level nodes.
    """
    nodes = [_python_label(c) for c in classes]
    if class_hierarchy is None or (isinstance(class_hierarchy, dict) and not class_hierarchy):
        return nodes, np.full(len(nodes), -1, dtype=np.intp)
    if not isinstance(class_hierarchy, dict):
        parent = check_parents(class_hierarchy, len(nodes), name=name, classes_of=classes_of)
        return nodes + list(range(len(nodes), parent.size)), parent
    index = {c: i for i, c in enumerate(nodes)}
    for child, par in class_hierarchy.items():
        for node in (child, par):
            if node is not None and _python_label(node) not in index:
                index[_python_label(node)] = len(nodes)
                nodes.append(_python_label(node))
    parent = np.full(len(nodes), -1, dtype=np.intp)
    for child, par in class_hierarchy.items():
        if par is not None:
            if _python_label(par) == _python_label(child):
                raise ValueError(f"{name} makes node {child!r} its own parent.")
            parent[index[_python_label(child)]] = index[_python_label(par)]
    _check_acyclic(parent, nodes, name)
    return nodes, parent


def class_distances(parent, n_classes):
    """Path length (number of edges) in the tree between every pair of class nodes.

    The top-level nodes (parent -1) hang from one implicit root, so they are siblings.

    Returns
    -------
    distances : ndarray of shape (n_classes, n_classes)
    """
    n_nodes = parent.size
    parent = np.where(parent >= 0, parent, n_nodes)
    edges = sp.coo_matrix(
        (np.ones(n_nodes), (np.arange(n_nodes), parent)), shape=(n_nodes + 1, n_nodes + 1)
    ).tocsr()
    distances = shortest_path(edges, directed=False, unweighted=True, indices=np.arange(n_classes))
    return distances[:, :n_classes]


def sibling_pairs(parent, n_classes):
    """The ontology hinge pairs of each class, in CSR form.

    For class ``c``, every ancestor ``s`` (its parent, grandparent, ...) is paired with each
    sibling ``o`` of ``s`` (the other children of ``s``'s parent; top-level nodes are
    siblings of each other): the pairs of the ontology loss ``L_S`` of Hwang & Sigal (2014).

    Returns
    -------
    ptr : ndarray of shape (n_classes + 1,)
        Class ``c``'s pairs are ``positive[ptr[c]:ptr[c + 1]]`` and the same of ``negative``.
    positive, negative : ndarray of int
        Ancestor and sibling node indices.
    """
    children = {}
    for node, par in enumerate(parent):
        children.setdefault(int(par), []).append(node)
    ptr, positive, negative = [0], [], []
    for c in range(n_classes):
        s = parent[c]
        while s >= 0:
            for o in children[int(parent[s])]:
                if o != s:
                    positive.append(s)
                    negative.append(o)
            s = parent[s]
        ptr.append(len(positive))
    return (np.asarray(ptr, dtype=np.intp), np.asarray(positive, dtype=np.intp),
            np.asarray(negative, dtype=np.intp))
