"""MNIST from its standard IDX files."""

import gzip
import os
import shutil
import urllib.request
from pathlib import Path

import numpy as np

from ._base import _halves_bunch

_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_DEFAULT_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"


def get_data_home(data_home=None):
    """The folder datasets are read from: ``data_home``, else ``$SKMULTIMODAL_DATA``, else
    ``~/skmultimodal_data``."""
    if data_home is None:
        data_home = os.environ.get("SKMULTIMODAL_DATA", Path("~") / "skmultimodal_data")
    return Path(data_home).expanduser()


def _read_idx(path):
    """Read a gzipped IDX file (the MNIST format) into an ndarray."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes.")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path} is truncated: expected {shape}, found {data.size} values.")
    return data.reshape(shape)


def _ensure_file(folder, name, download_if_missing, base_url):
    path = folder / name
    if path.exists():
        return path
    if not download_if_missing:
        raise FileNotFoundError(
            f"{path} not found and download_if_missing=False. Put the MNIST IDX file "
            f"{name!r} in {folder}, or allow the download."
        )
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    try:
        with urllib.request.urlopen(base_url + name, timeout=60) as response, \
                open(tmp, "wb") as out:
            shutil.copyfileobj(response, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OSError(
            f"Could not download {base_url + name} ({exc}). Without network access, put the "
            f"MNIST IDX file {name!r} in {folder} and pass data_home={str(folder)!r}."
        ) from exc
    tmp.replace(path)
    return path


def _load(data_home, subset, download_if_missing, base_url):
    if subset not in ("train", "test", "all"):
        raise ValueError(f"subset must be 'train', 'test' or 'all', got {subset!r}.")
    folder = get_data_home(data_home)
    parts = ["train", "test"] if subset == "all" else [subset]
    images, labels = [], []
    for part in parts:
        image_file, label_file = _FILES[part]
        images.append(_read_idx(_ensure_file(folder, image_file, download_if_missing, base_url)))
        labels.append(_read_idx(_ensure_file(folder, label_file, download_if_missing, base_url)))
        if images[-1].shape[0] != labels[-1].shape[0]:
            raise ValueError(f"MNIST {part}: {images[-1].shape[0]} images but "
                             f"{labels[-1].shape[0]} labels.")
    images = np.concatenate(images).astype(np.float32) / np.float32(255)
    return images, np.concatenate(labels).astype(np.int64)


def fetch_mnist(data_home=None, *, subset="test", download_if_missing=True,
                base_url=_DEFAULT_URL, return_X_y=False):
    """Load MNIST handwritten digits from the standard IDX files.

    Reads ``train-images-idx3-ubyte.gz`` / ``train-labels-idx1-ubyte.gz`` (60,000 images) and
    ``t10k-images-idx3-ubyte.gz`` / ``t10k-labels-idx1-ubyte.gz`` (10,000 images) from
    ``data_home``, downloading a missing file from ``base_url`` when allowed.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding the IDX files; by default ``$SKMULTIMODAL_DATA`` or
        ``~/skmultimodal_data``.
    subset : {"test", "train", "all"}, default="test"
        Which part to load; ``"all"`` is the training images followed by the test images.
    download_if_missing : bool, default=True
        Download absent files from ``base_url``; if False, raise ``FileNotFoundError``.
    base_url : str, default="https://storage.googleapis.com/cvdf-datasets/mnist/"
        Where the IDX files are fetched from (any URL urllib opens, ``file://`` included).
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With ``data`` (n, 784) float32 pixels scaled to [0, 1], row-major; ``target`` (n,)
        int64 digits; ``images`` (n, 28, 28); ``DESCR``.
    (data, target) : tuple if ``return_X_y`` is True

    See Also
    --------
    fetch_mnist_halves : The same images as two modalities, left and right halves.

    Examples
    --------
    >>> from skmultimodal.datasets import fetch_mnist
    >>> mnist = fetch_mnist("../shared/data/mnist", download_if_missing=False)  # doctest: +SKIP
    >>> mnist.data.shape  # doctest: +SKIP
    (10000, 784)
    """
    from sklearn.utils import Bunch

    images, target = _load(data_home, subset, download_if_missing, base_url)
    data = images.reshape(images.shape[0], -1)
    if return_X_y:
        return data, target
    return Bunch(data=data, target=target, images=images,
                 DESCR=f"MNIST handwritten digits ({subset} subset), pixels scaled to [0, 1].")


def fetch_mnist_halves(data_home=None, *, subset="test", download_if_missing=True,
                       base_url=_DEFAULT_URL, return_X_y=False):
    """Load MNIST as two modalities: the left (columns 1-14) and right (15-28) image halves.

    The benchmark of Sohn, Shang & Lee (2014, Table 1): each half is 392 pixels in [0, 1].

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding the IDX files (see :func:`fetch_mnist`).
    subset : {"test", "train", "all"}, default="test"
        Which part to load.
    download_if_missing : bool, default=True
        Download absent files from ``base_url``.
    base_url : str, default="https://storage.googleapis.com/cvdf-datasets/mnist/"
        Where the IDX files are fetched from.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With ``data`` (n, 784) float32: left-half pixels then right-half pixels; ``target``;
        ``images`` (n, 28, 28); ``modalities``: ``[("left", slice(0, 392)), ("right",
        slice(392, 784))]``; ``feature_names``; ``DESCR``.
    (data, target) : tuple if ``return_X_y`` is True

    Examples
    --------
    >>> from skmultimodal.datasets import fetch_mnist_halves
    >>> X, y = fetch_mnist_halves("../shared/data/mnist", return_X_y=True)  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (10000, 784)
    """
    images, target = _load(data_home, subset, download_if_missing, base_url)
    return _halves_bunch("MNIST", images, target, return_X_y)
