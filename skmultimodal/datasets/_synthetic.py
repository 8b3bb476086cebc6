"""Synthetic multimodal data with known ground truth."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_topics": [Interval(Integral, 2, None, closed="left")],
        "n_image_features": [Interval(Integral, 1, None, closed="left")],
        "n_tags": [Interval(Integral, 2, None, closed="left")],
        "doc_length": [Interval(Integral, 1, None, closed="left")],
        "topic_concentration": [Interval(Real, 0, None, closed="neither")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_multimodal_topics(
    n_samples=1000, *, n_topics=5, n_image_features=50, n_tags=100, doc_length=10,
    topic_concentration=0.1, noise=1.0, random_state=None,
):
    """Paired Gaussian "image features" and tag counts generated from shared latent topics.

    Each sample has topic proportions ``theta ~ Dirichlet(topic_concentration)``; its label
    is the dominant topic. Image features are ``theta @ A + noise * N(0, I)`` with topic
    loadings ``A ~ N(0, I)``; tags are ``doc_length`` draws from the mixture ``theta @ B`` of
    topic-word distributions ``B`` (each topic favours its own few tags). Both modalities
    carry the same latent information, so each predicts the other.

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
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    X : ndarray of shape (n_samples, n_image_features + n_tags)
        Image features, then tag counts; pass ``modalities=[n_image_features, n_tags]``
        (with ``visible_units=["gaussian", "replicated_softmax"]``) to an estimator.
    y : ndarray of shape (n_samples,)
        Dominant topic of each sample.

    Examples
    --------
    >>> from skmultimodal.datasets import make_multimodal_topics
    >>> X, y = make_multimodal_topics(n_samples=200, n_image_features=20, n_tags=30,
    ...                               random_state=0)
    >>> X.shape
    (200, 50)
    >>> X[:, 20:].sum(axis=1)[:3]
    array([10., 10., 10.])
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
    return np.hstack([image, tags]), theta.argmax(axis=1)
