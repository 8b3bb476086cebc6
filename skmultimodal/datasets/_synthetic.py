"""Synthetic multimodal data with known ground truth."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

from .._utils import as_generator


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_topics": [Interval(Integral, 2, None, closed="left")],
        "n_image_features": [Interval(Integral, 1, None, closed="left")],
        "n_tags": [Interval(Integral, 2, None, closed="left")],
        "doc_length": [Interval(Integral, 1, None, closed="left")],
        "topic_concentration": [Interval(Real, 0, None, closed="neither")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "n_labels": [None, Interval(Integral, 1, None, closed="left")],
        "label_threshold": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_multimodal_topics(
    n_samples=1000, *, n_topics=5, n_image_features=50, n_tags=100, doc_length=10,
    topic_concentration=0.1, noise=1.0, n_labels=None, label_threshold=0.25,
    random_state=None,
):
    """Paired Gaussian "image features" and tag counts generated from shared latent topics.

    Each sample has topic proportions ``theta ~ Dirichlet(topic_concentration)``; its label
    is the dominant topic. Image features are ``theta @ A + noise * N(0, I)`` with topic
    loadings ``A ~ N(0, I)``; tags are ``doc_length`` draws from the mixture ``theta @ B`` of
    topic-word distributions ``B`` (each topic favours its own few tags). Both modalities
    carry the same latent information, so each predicts the other.

    With ``n_labels``, samples also get multi-label classes from the same topics, as the
    concept labels of MIR-Flickr: label ``j`` is tied to one topic (``j mod n_topics``, so
    every topic has a label) or, beyond the first ``n_topics``, to a random pair of topics,
    and a sample carries it when the proportion of those topics is at least
    ``label_threshold``. The labels are drawn after everything else, so the other outputs do
    not depend on ``n_labels``.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of samples.
    n_topics : int, default=5
        Number of latent topics (and classes).
    n_image_features : int, default=50
        Width of the Gaussian image modality.
    n_tags : int, default=100
        Vocabulary size of the tag modality.
    doc_length : int, default=10
        Number of tag draws per sample.
    topic_concentration : float, default=0.1
        Dirichlet concentration of the topic proportions; small values make samples mostly
        single-topic.
    noise : float, default=1.0
        Standard deviation of the Gaussian noise on the image features.
    n_labels : int, default=None
        Number of multi-label classes to return as a third output; None returns none.
    label_threshold : float, default=0.25
        Topic proportion from which a sample carries a topic's label.
    random_state : int, RandomState instance or None, default=None
        Determines random number generation for dataset creation. Pass an int for
        reproducible output across multiple function calls.

    Returns
    -------
    X : ndarray of shape (n_samples, n_image_features + n_tags)
        Image features, then tag counts; pass ``modalities=[n_image_features, n_tags]``
        (with ``visible_units=["gaussian", "replicated_softmax"]``) to an estimator.
    y : ndarray of shape (n_samples,)
        Dominant topic of each sample.
    Y : ndarray of shape (n_samples, n_labels)
        Multi-label indicator matrix (0/1 ints), returned only when ``n_labels`` is given.
        Every sample carries at least the label of its dominant topic when ``n_labels >=
        n_topics``.

    Examples
    --------
    >>> from skmultimodal.datasets import make_multimodal_topics
    >>> X, y = make_multimodal_topics(n_samples=200, n_image_features=20, n_tags=30,
    ...                               random_state=0)
    >>> X.shape
    (200, 50)
    >>> X[:, 20:].sum(axis=1)[:3]
    array([10., 10., 10.])
    >>> X, y, Y = make_multimodal_topics(n_samples=200, n_labels=8, random_state=0)
    >>> Y.shape
    (200, 8)
    """
    rng = check_random_state(random_state)
    theta = rng.dirichlet(np.full(n_topics, topic_concentration), size=n_samples)
    loadings = rng.standard_normal((n_topics, n_image_features))
    image = theta @ loadings + noise * rng.standard_normal((n_samples, n_image_features))
    favoured = np.full((n_topics, n_tags), 0.05)
    for t in range(n_topics):
        favoured[t, rng.choice(n_tags, size=max(1, n_tags // n_topics), replace=False)] = 1.0
    word_dist = np.vstack([rng.dirichlet(f) for f in favoured])
    mixture = theta @ word_dist
    mixture /= mixture.sum(axis=1, keepdims=True)
    tags = np.vstack([rng.multinomial(doc_length, p) for p in mixture]).astype(np.float64)
    X, y = np.hstack([image, tags]), theta.argmax(axis=1)
    if n_labels is None:
        return X, y
    membership = np.zeros((n_topics, n_labels))
    for j in range(n_labels):
        if j < n_topics:
            membership[j, j] = 1.0
        else:
            membership[rng.choice(n_topics, size=2, replace=False), j] = 1.0
    Y = (theta @ membership >= label_threshold).astype(np.int64)
    # the dominant topic's own label is always carried (it has proportion >= 1 / n_topics)
    own = np.arange(n_samples)[y < n_labels]
    Y[own, y[y < n_labels]] = 1
    return X, y, Y


@validate_params(
    {
        "n_samples": [Interval(Integral, 2, None, closed="left")],
        "correlations": ["array-like"],
        "n_features": [tuple, list],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_correlated_views(n_samples=1000, *, correlations=(0.9, 0.7, 0.5), n_features=(8, 6),
                          random_state=None):
    """Two linearly related views with known canonical correlations.

    Latent pairs ``(a_j, b_j)`` of unit-variance Gaussians with ``corr(a_j, b_j) =
    correlations[j]`` fill the first columns of each view, independent Gaussian noise the
    rest; each view is then multiplied by a random square matrix, so the structure is not
    axis-aligned. The population canonical correlations are ``correlations`` followed by
    zeros.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of rows.
    correlations : array-like of float in [0, 1), default=(0.9, 0.7, 0.5)
        The planted canonical correlations.
    n_features : tuple of two ints, default=(8, 6)
        Width of each view; each at least ``len(correlations)``.
    random_state : int, RandomState instance or None, default=None
        Determines random number generation for dataset creation. Pass an int for
        reproducible output across multiple function calls.

    Returns
    -------
    X : ndarray of shape (n_samples, sum(n_features))
        The first view's columns, then the second's; pass ``modalities=list(n_features)``.
    latent : ndarray of shape (n_samples, len(correlations))
        The first view's latent variables ``a``.

    Examples
    --------
    >>> from skmultimodal import CCA
    >>> from skmultimodal.datasets import make_correlated_views
    >>> X, _ = make_correlated_views(20000, correlations=(0.8, 0.4), n_features=(5, 4),
    ...                              random_state=0)
    >>> CCA(n_components=2, modalities=[5, 4]).fit(X).canonical_correlations_.round(1)
    array([0.8, 0.4])
    """
    rho = np.asarray(correlations, dtype=float)
    k = rho.size
    d1, d2 = n_features
    if np.any(rho < 0) or np.any(rho >= 1) or min(d1, d2) < k:
        raise ValueError(
            f"correlations must lie in [0, 1) and each view needs at least {k} features; got "
            f"correlations={rho.tolist()}, n_features={tuple(n_features)}."
        )
    rng = as_generator(random_state)
    a = rng.standard_normal((n_samples, k))
    noise = rng.standard_normal((n_samples, k))
    b = a * rho + noise * np.sqrt(1 - rho**2)
    A = np.hstack([a, rng.standard_normal((n_samples, d1 - k))])
    B = np.hstack([b, rng.standard_normal((n_samples, d2 - k))])
    A = A @ rng.normal(size=(d1, d1))
    B = B @ rng.normal(size=(d2, d2))
    return np.hstack([A, B]), a


@validate_params(
    {
        "n_samples": [Interval(Integral, 2, None, closed="left")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_nonlinear_views(n_samples=1000, *, noise=0.1, random_state=None):
    """Two 3-feature views that share a latent variable only through even functions of it.

    With ``t ~ U(-2, 2)``: the first view is ``[t, e1, e2]``, the second ``[t**2, cos 2t, e3]
    + noise``, the ``e`` independent standard normals. The views' linear correlation is near
    zero while a nonlinear map (kernel or deep CCA) recovers ``t**2`` from ``t``.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of rows.
    noise : float, default=0.1
        Standard deviation of the Gaussian noise on the second view.
    random_state : int, RandomState instance or None, default=None
        Determines random number generation for dataset creation. Pass an int for
        reproducible output across multiple function calls.

    Returns
    -------
    X : ndarray of shape (n_samples, 6)
        The first view's three columns, then the second's (``modalities=[3, 3]``, the
        default split in halves).
    t : ndarray of shape (n_samples,)
        The shared latent variable.

    Examples
    --------
    >>> from skmultimodal.datasets import make_nonlinear_views
    >>> X, t = make_nonlinear_views(500, random_state=0)
    >>> X.shape
    (500, 6)
    """
    rng = as_generator(random_state)
    t = rng.uniform(-2, 2, size=n_samples)
    first = np.column_stack([t, rng.standard_normal(n_samples), rng.standard_normal(n_samples)])
    second = np.column_stack([t**2, np.cos(2 * t), rng.standard_normal(n_samples)])
    return np.hstack([first, second + noise * rng.standard_normal((n_samples, 3))]), t
