import gzip

import numpy as np
import pytest

from skmultimodal.datasets import (
    fetch_mnist,
    fetch_mnist_halves,
    load_digits_halves,
    make_multimodal_topics,
    split_image_halves,
)


def test_digits_halves():
    digits = load_digits_halves()
    assert digits.data.shape == (1797, 64) and digits.target.shape == (1797,)
    assert digits.data.min() == 0 and digits.data.max() == 1
    assert digits.modalities == [("left", slice(0, 32)), ("right", slice(32, 64))]
    np.testing.assert_array_equal(digits.data[:, :32], digits.images[:, :, :4].reshape(-1, 32))
    np.testing.assert_array_equal(digits.data[:, 32:], digits.images[:, :, 4:].reshape(-1, 32))
    assert len(digits.feature_names) == 64 and digits.feature_names[32] == "right_r0_c4"
    X, y = load_digits_halves(return_X_y=True)
    np.testing.assert_array_equal(X, digits.data)


def test_split_image_halves_odd_width_and_errors():
    X, modalities = split_image_halves(np.arange(6).reshape(1, 2, 3))
    np.testing.assert_array_equal(X, [[0, 3, 1, 2, 4, 5]])
    assert modalities == [("left", slice(0, 2)), ("right", slice(2, 6))]
    with pytest.raises(ValueError, match="height, width"):
        split_image_halves(np.zeros((2, 4)))


def test_fetch_mnist_from_data_home(mnist_home):
    mnist = fetch_mnist(mnist_home, download_if_missing=False)
    assert mnist.data.shape == (10000, 784) and mnist.data.dtype == np.float32
    assert 0 <= mnist.data.min() and mnist.data.max() == 1
    np.testing.assert_array_equal(
        np.bincount(mnist.target), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    )
    halves = fetch_mnist_halves(mnist_home, download_if_missing=False)
    assert halves.modalities == [("left", slice(0, 392)), ("right", slice(392, 784))]
    np.testing.assert_array_equal(halves.data[:, :392],
                                  mnist.images[:, :, :14].reshape(-1, 392))


def test_fetch_mnist_downloads_missing_files(mnist_home, tmp_path):
    X, y = fetch_mnist(tmp_path, base_url=mnist_home.as_uri() + "/", return_X_y=True)
    assert (tmp_path / "t10k-images-idx3-ubyte.gz").exists()
    assert X.shape == (10000, 784) and y.shape == (10000,)


def test_fetch_mnist_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="download_if_missing=False"):
        fetch_mnist(tmp_path, download_if_missing=False)
    with pytest.raises(OSError, match="Could not download"):
        fetch_mnist(tmp_path, base_url=(tmp_path / "nowhere").as_uri() + "/")
    with pytest.raises(ValueError, match="subset"):
        fetch_mnist(tmp_path, subset="validation")
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        with gzip.open(tmp_path / name, "wb") as f:
            f.write(bytes([0, 0, 8, 1]) + (5).to_bytes(4, "big") + bytes(3))
    with pytest.raises(ValueError, match="truncated"):
        fetch_mnist(tmp_path, download_if_missing=False)


def test_make_multimodal_topics():
    X, y = make_multimodal_topics(500, n_topics=4, n_image_features=10, n_tags=30,
                                  doc_length=12, random_state=0)
    assert X.shape == (500, 40) and set(np.unique(y)) == {0, 1, 2, 3}
    tags = X[:, 10:]
    np.testing.assert_array_equal(tags.sum(axis=1), 12)
    assert np.all(tags == np.round(tags)) and tags.min() >= 0
    X2, y2 = make_multimodal_topics(500, n_topics=4, n_image_features=10, n_tags=30,
                                    doc_length=12, random_state=0)
    np.testing.assert_array_equal(X, X2)
    # both modalities carry the topic: each alone predicts the label well above chance
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    for block in (X[:, :10], tags):
        assert cross_val_score(LogisticRegression(max_iter=1000), block, y, cv=3).mean() > 0.6


def test_make_correlated_views_and_make_nonlinear_views():
    from skmultimodal.datasets import make_correlated_views, make_nonlinear_views

    X, latent = make_correlated_views(100, correlations=(0.5,), n_features=(2, 3),
                                      random_state=0)
    assert X.shape == (100, 5) and latent.shape == (100, 1)
    np.testing.assert_array_equal(
        X, make_correlated_views(100, correlations=(0.5,), n_features=(2, 3),
                                 random_state=0)[0])
    with pytest.raises(ValueError, match=r"correlations must lie in \[0, 1\)"):
        make_correlated_views(10, correlations=(1.0,))
    with pytest.raises(ValueError, match="at least 2 features"):
        make_correlated_views(10, correlations=(0.5, 0.4), n_features=(1, 3))
    X, t = make_nonlinear_views(2000, noise=0.0, random_state=0)
    np.testing.assert_array_equal(X[:, 0], t)
    np.testing.assert_allclose(X[:, 3], t**2)
    assert abs(np.corrcoef(X[:, 0], X[:, 3])[0, 1]) < 0.1
