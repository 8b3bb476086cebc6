"""Images split into left and right halves: the two-modality benchmark of Sohn, Shang & Lee
(2014, Table 1)."""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.utils import Bunch

_HALVES_DESCR = """{name} split into halves
{underline}

Each {height}x{width} image is cut down the middle into a left half (columns 1-{half}) and a
right half (columns {half1}-{width}); each half is one modality of {n_half} pixels, scaled to
[0, 1]. ``data`` holds the left half's pixels (row by row) followed by the right half's, and
``modalities`` says which columns are which. Predicting or representing one half from the other
is the benchmark of Sohn, Shang & Lee (2014, Table 1) and of *Multimodal Learning via
Exploring Deep Semantic Similarity* (ACM Multimedia 2016, Table 1).
"""


def split_image_halves(images):
    """Cut images into left and right halves, each half one modality.

    Parameters
    ----------
    images : array-like of shape (n_samples, height, width)
        Images. The left half takes the first ``width // 2`` columns.

    Returns
    -------
    X : ndarray of shape (n_samples, height * width)
        The left halves' pixels (row-major), then the right halves'.
    modalities : list of (str, slice) tuples
        ``[("left", slice(0, n_left)), ("right", slice(n_left, height * width))]``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal.datasets import split_image_halves
    >>> images = np.arange(8).reshape(1, 2, 4)
    >>> X, modalities = split_image_halves(images)
    >>> X
    array([[0, 1, 4, 5, 2, 3, 6, 7]])
    >>> modalities
    [('left', slice(0, 4, None)), ('right', slice(4, 8, None))]
    """
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(
            f"images must have shape (n_samples, height, width), got {images.shape}."
        )
    n, height, width = images.shape
    if width < 2:
        raise ValueError(f"images must be at least 2 pixels wide to split, got width {width}.")
    half = width // 2
    left = images[:, :, :half].reshape(n, -1)
    right = images[:, :, half:].reshape(n, -1)
    X = np.hstack([left, right])
    return X, [("left", slice(0, left.shape[1])), ("right", slice(left.shape[1], X.shape[1]))]


def _halves_bunch(name, images, target, return_X_y):
    n, height, width = images.shape
    X, modalities = split_image_halves(images)
    if return_X_y:
        return X, target
    half = width // 2
    feature_names = [f"left_r{r}_c{c}" for r in range(height) for c in range(half)] + [
        f"right_r{r}_c{c}" for r in range(height) for c in range(half, width)
    ]
    title = f"{name} split into halves"
    descr = _HALVES_DESCR.format(
        name=name, underline="=" * len(title), height=height, width=width, half=half,
        half1=half + 1, n_half=height * half,
    )
    return Bunch(
        data=X, target=target, images=images, modalities=modalities,
        feature_names=feature_names, DESCR=descr,
    )


def load_digits_halves(*, return_X_y=False):
    """Load scikit-learn's 8x8 digits as two modalities: the left and right image halves.

    The always available real two-modality dataset: 1797 images of the digits 0-9 shipped with
    scikit-learn, pixels scaled from 0-16 to [0, 1] (usable with binary units as grey-level
    probabilities), each image cut into a left half (columns 1-4, 32 pixels) and a right half
    (columns 5-8, 32 pixels).

    Parameters
    ----------
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With ``data`` (1797, 64): left-half pixels then right-half pixels; ``target``
        (1797,): the digit; ``images`` (1797, 8, 8) scaled to [0, 1]; ``modalities``: the
        specification ``[("left", slice(0, 32)), ("right", slice(32, 64))]`` to pass to an
        estimator; ``feature_names``; ``DESCR``.
    (data, target) : tuple if ``return_X_y`` is True

    Examples
    --------
    >>> from skmultimodal.datasets import load_digits_halves
    >>> digits = load_digits_halves()
    >>> digits.data.shape
    (1797, 64)
    >>> digits.modalities
    [('left', slice(0, 32, None)), ('right', slice(32, 64, None))]
    """
    digits = load_digits()
    images = digits.images / 16.0
    return _halves_bunch("Digits", images, digits.target, return_X_y)
