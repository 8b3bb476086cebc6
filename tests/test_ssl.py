"""SSLRBM: the similarity penalties' gradients, the alpha=0 reduction, behaviour."""

import numpy as np
import pytest

from skmultimodal import MultimodalRBM, SSLRBM
from skmultimodal.boltzmann._minvi import zero_gradients
from skmultimodal.boltzmann._ssl import (
    SIMILARITIES,
    _modality_activations,
    similarity_penalty,
)
from skmultimodal.datasets import load_digits_halves

from test_minvi import _data, _numerical_gradient, _tiny_model


@pytest.mark.parametrize("similarity", SIMILARITIES)
@pytest.mark.parametrize("units, widths", [
    (("binary", "binary"), (3, 4)),
    (("gaussian", "replicated_softmax"), (3, 4)),
])
def test_similarity_gradient_matches_finite_differences(similarity, units, widths):
    model = _tiny_model(units, widths, n_hidden=3)
    v = _data(units, widths, n=8)
    grads = zero_gradients(model)
    similarity_penalty(model, v, similarity, 0.05, grads)
    if similarity == "cca":
        def penalty():
            return similarity_penalty(model, v, similarity, 0.05)
    else:
        # the cross-entropy's first argument is its target, held fixed
        target, fitted = (0, 1) if similarity == "cross_entropy_xy" else (1, 0)
        L = model.lengths(v)
        _, H_target = _modality_activations(model, v, target, L)

        def penalty():
            z, _ = _modality_activations(model, v, fitted, L)
            return np.sum(np.logaddexp(0, z) - H_target * z) / len(v)

        assert penalty() == pytest.approx(similarity_penalty(model, v, similarity, 0.05))
    expected = _numerical_gradient(model, penalty)
    for k, (got, want) in enumerate(zip(grads, expected)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-8, err_msg=str(k))
    for m in range(len(widths)):  # the visible biases do not enter the penalty
        np.testing.assert_array_equal(expected[len(model.W) + m], 0)


def test_similarity_values():
    """Eq. 2 by hand; the CCA form is minus the sum of the canonical correlations."""
    model = _tiny_model(("binary", "binary"), (3, 4), n_hidden=3)
    v = _data(("binary", "binary"), (3, 4), n=8)
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    Hx = sigmoid(v[:, :3] @ model.W[0].T + model.bias[2])
    Hy = sigmoid(v[:, 3:] @ model.W[1].T + model.bias[2])
    ce = -np.sum(Hx * np.log(Hy) + (1 - Hx) * np.log(1 - Hy)) / 8
    assert similarity_penalty(model, v, "cross_entropy_xy", 1e-3) == pytest.approx(ce)
    ce_yx = -np.sum(Hy * np.log(Hx) + (1 - Hy) * np.log(1 - Hx)) / 8
    assert similarity_penalty(model, v, "cross_entropy_yx", 1e-3) == pytest.approx(ce_yx)

    def inv_sqrt(S):
        lam, Q = np.linalg.eigh(S)
        return Q @ np.diag(lam ** -0.5) @ Q.T

    Xc, Yc = Hx - Hx.mean(0), Hy - Hy.mean(0)
    Sxx, Syy, Sxy = Xc.T @ Xc / 7 + 1e-3 * np.eye(3), Yc.T @ Yc / 7 + 1e-3 * np.eye(3), \
        Xc.T @ Yc / 7
    trace_norm = np.linalg.svd(inv_sqrt(Sxx) @ Sxy @ inv_sqrt(Syy), compute_uv=False).sum()
    assert similarity_penalty(model, v, "cca", 1e-3) == pytest.approx(-trace_norm)


def test_alpha_zero_is_the_multimodal_rbm():
    X, _ = load_digits_halves(return_X_y=True)
    kw = dict(n_components=16, visible_units="binary", learning_rate=0.1, n_iter=3,
              method="pcd", n_chains=20, random_state=0)
    ssl = SSLRBM(alpha=0.0, **kw).fit(X[:300])
    mrbm = MultimodalRBM(**kw).fit(X[:300])
    for name in ("components_", "intercept_hidden_", "intercept_visible_"):
        np.testing.assert_array_equal(getattr(ssl, name), getattr(mrbm, name))
    np.testing.assert_array_equal(ssl.transform(X[:50]), mrbm.transform(X[:50]))


@pytest.mark.parametrize("similarity", SIMILARITIES)
def test_penalty_makes_the_modalities_representations_alike(similarity):
    X, _ = load_digits_halves(return_X_y=True)
    X = X[:600]
    kw = dict(n_components=32, visible_units="binary", learning_rate=0.1, n_iter=8,
              similarity=similarity, random_state=0)
    plain = SSLRBM(alpha=0.0, **kw).fit(X)
    ssl = SSLRBM(alpha=1.0, **kw).fit(X)
    assert len(ssl.similarity_curve_) == 8
    assert np.isnan(plain.similarity_curve_).all()
    penalty = {
        name: similarity_penalty(est._model(), X, similarity, est.cca_reg)
        for name, est in (("plain", plain), ("ssl", ssl))
    }
    assert penalty["ssl"] < penalty["plain"], penalty


def test_ssl_needs_two_modalities_and_keeps_state_on_error():
    X, _ = load_digits_halves(return_X_y=True)
    with pytest.raises(ValueError, match="pairs two modalities"):
        SSLRBM(modalities=[20, 20, 24], visible_units="binary").fit(X[:50])
    ssl = SSLRBM(n_components=8, visible_units="binary", n_iter=1, random_state=0).fit(X[:100])
    before = ssl.components_.copy(), list(ssl.similarity_curve_)
    with pytest.raises(ValueError):
        ssl.partial_fit(X[:100] * 3)
    np.testing.assert_array_equal(ssl.components_, before[0])
    assert ssl.similarity_curve_ == before[1]


def test_ssl_partial_fit_stream_equals_fit():
    X, _ = load_digits_halves(return_X_y=True)
    kw = dict(n_components=8, visible_units="binary", n_iter=3, similarity="cca",
              random_state=0)
    fitted = SSLRBM(**kw).fit(X[:200])
    stream = SSLRBM(**kw)
    for _ in range(3):
        stream.partial_fit(X[:200])
    np.testing.assert_array_equal(fitted.components_, stream.components_)
    assert fitted.similarity_curve_ == stream.similarity_curve_
