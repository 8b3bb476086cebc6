"""Synthetic classification data whose classes form a hierarchy and have attributes."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, validate_params

from .._utils import as_generator


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_superclasses": [Interval(Integral, 1, None, closed="left")],
        "n_classes_per_superclass": [Interval(Integral, 1, None, closed="left")],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "n_attributes": [Interval(Integral, 1, None, closed="left")],
        "n_attributes_per_class": [Interval(Integral, 0, None, closed="left")],
        "superclass_scale": [Interval(Real, 0, None, closed="left")],
        "attribute_scale": [Interval(Real, 0, None, closed="left")],
        "class_scale": [Interval(Real, 0, None, closed="left")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_hierarchical_classification(
    n_samples=600, *, n_superclasses=3, n_classes_per_superclass=4, n_features=32,
    n_attributes=12, n_attributes_per_class=3, superclass_scale=1.0, attribute_scale=0.7,
    class_scale=0.3, noise=1.0, random_state=None,
):
    """Gaussian classes organised in a two-level hierarchy and described by attributes.

    The ground truth that Unified Semantic Embedding (Hwang & Sigal 2014) models: each class
    mean is its superclass's mean plus the sum of its attributes' prototype vectors plus a
    small class-specific offset,

    ``mu_c = m_{s(c)} + sum_{j in A_c} t_j + e_c``,

    with ``m_s ~ N(0, superclass_scale^2 I)``, ``t_j ~ N(0, attribute_scale^2 I)``,
    ``e_c ~ N(0, class_scale^2 I)``, and every sample is ``x = mu_c + noise * N(0, I)``.
    Each class has ``n_attributes_per_class`` attributes drawn at random, different sets
    for classes of the same superclass. The classes that share a superclass or attributes
    are therefore close, so knowing the hierarchy and the attributes tells much about a
    class seen in only a few samples.

    Parameters
    ----------
    n_samples : int, default=600
        Number of samples, spread as evenly as possible over the classes.
    n_superclasses : int, default=3
        Number of internal nodes under the root.
    n_classes_per_superclass : int, default=4
        Number of classes (leaves) under each superclass.
    n_features : int, default=32
        Number of features.
    n_attributes : int, default=12
        Number of attributes.
    n_attributes_per_class : int, default=3
        Number of attributes of each class (at most ``n_attributes``).
    superclass_scale : float, default=1.0
        Standard deviation of the superclass means' coordinates.
    attribute_scale : float, default=0.7
        Standard deviation of the attribute prototypes' coordinates.
    class_scale : float, default=0.3
        Standard deviation of the class-specific offsets' coordinates.
    noise : float, default=1.0
        Standard deviation of the within-class noise.
    random_state : int, RandomState instance or None, default=None
        Determines random number generation for dataset creation. Pass an int for
        reproducible output across multiple function calls.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Samples.
    y : ndarray of int of shape (n_samples,)
        Class labels ``0, ..., n_classes - 1``; class ``c`` belongs to superclass
        ``c // n_classes_per_superclass``.
    class_hierarchy : dict
        ``{class: "super<s>"}``: the parent of each class, the form
        :class:`~skmultimodal.embedding.UnifiedSemanticEmbedding` takes.
    class_attributes : ndarray of shape (n_classes, n_attributes)
        1.0 where a class has an attribute, else 0.0.

    Examples
    --------
    >>> from skmultimodal.datasets import make_hierarchical_classification
    >>> X, y, hierarchy, attributes = make_hierarchical_classification(random_state=0)
    >>> X.shape, attributes.shape
    ((600, 32), (12, 12))
    >>> hierarchy[0], hierarchy[11]
    ('super0', 'super2')
    """
    if n_attributes_per_class > n_attributes:
        raise ValueError(
            f"n_attributes_per_class={n_attributes_per_class} exceeds n_attributes="
            f"{n_attributes}."
        )
    rng = as_generator(random_state)
    n_classes = n_superclasses * n_classes_per_superclass
    if n_samples < n_classes:
        raise ValueError(
            f"n_samples={n_samples} is fewer than the {n_classes} classes; every class needs "
            "a sample."
        )
    super_means = superclass_scale * rng.standard_normal((n_superclasses, n_features))
    prototypes = attribute_scale * rng.standard_normal((n_attributes, n_features))
    attributes = np.zeros((n_classes, n_attributes))
    for s in range(n_superclasses):
        taken = set()
        for k in range(n_classes_per_superclass):
            c = s * n_classes_per_superclass + k
            for _ in range(100):  # distinct attribute sets among siblings, when possible
                chosen = tuple(sorted(rng.choice(n_attributes, n_attributes_per_class,
                                                 replace=False)))
                if chosen not in taken:
                    break
            taken.add(chosen)
            attributes[c, list(chosen)] = 1.0
    superclass = np.arange(n_classes) // n_classes_per_superclass
    means = (super_means[superclass] + attributes @ prototypes
             + class_scale * rng.standard_normal((n_classes, n_features)))
    y = np.arange(n_samples) % n_classes
    rng.shuffle(y)
    X = means[y] + noise * rng.standard_normal((n_samples, n_features))
    hierarchy = {c: f"super{superclass[c]}" for c in range(n_classes)}
    return X, y, hierarchy, attributes
