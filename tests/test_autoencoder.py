"""MultimodalAutoencoder: the masked-modality objective against loops and finite differences,
the NaN-block convention, composition, and what masking buys on the digits halves."""

import pickle
import warnings

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import gammaln, logsumexp
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmultimodal import MultimodalAutoencoder
from skmultimodal.datasets import load_digits_halves, make_multimodal_topics
from skmultimodal.deep import _autoencoder
from test_nn import numerical_gradient
from test_training import assert_same_state

UNITS = ("binary", "gaussian", "replicated_softmax")


def _fit(est, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X)


def _block(rng, units, n, d):
    if units == "binary":
        return rng.random((n, d))
    if units == "gaussian":
        return rng.standard_normal((n, d))
    return rng.poisson(1.5, (n, d)).astype(float)


def _mixed_data(units, widths, n=8, seed=0):
    """Blocks of the given unit types; rows 1, 2, ... miss modality 0, 1, ... in turn and
    the last row has modality 0 alone."""
    rng = np.random.default_rng(seed)
    X = np.hstack([_block(rng, u, n, d) for u, d in zip(units, widths)])
    stops = np.cumsum(widths)
    for m, (start, stop) in enumerate(zip(stops - widths, stops)):
        X[1 + m, start:stop] = np.nan
    if len(widths) > 1:
        X[-1, widths[0]:] = np.nan
    return X


def _missing(est, X):
    return np.column_stack([np.isnan(X[:, cols]).all(axis=1) for _, cols in est.modalities_])


def _perturbed_params(est, seed=1):
    """The fitted parameters moved by small noise (no weight or bias left at exactly 0, so
    relu has no kink at the rows' inputs)."""
    rng = np.random.default_rng(seed)
    return {**{f"encoder{m}": t + 0.1 * rng.standard_normal(t.shape)
               for m, t in enumerate(est.encoders_)},
            **{f"decoder{m}": p + 0.1 * rng.standard_normal(p.shape)
               for m, p in enumerate(est.decoders_)}}


def reference_loss(est, params, X):
    """The class docstring's objective with loops over rows, input sets and modalities, each
    network evaluated layer by layer and each loss written out."""
    f = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0),
         "logistic": lambda z: 1 / (1 + np.exp(-z))}[est.activation]
    encoders, decoders = est._networks()
    M = len(est.modalities_)

    def run(net, theta, x):
        layers = net.unpack(theta)
        for i, (W, b) in enumerate(layers):
            x = x @ W + b
            x = f(x) if i < len(layers) - 1 else x
        return x

    sets = [set(range(M))] + ([{m} for m in range(M)] if est.mask_modalities and M > 1 else [])
    total = 0.0
    for x in X:
        blocks = [x[cols] for _, cols in est.modalities_]
        has = {m for m in range(M) if not np.isnan(blocks[m]).all()}
        for given in sets:
            if not given & has:
                continue
            z = f(np.mean([run(encoders[m], params[f"encoder{m}"], blocks[m])
                           for m in given & has], axis=0))
            for m in has:
                a, v = run(decoders[m], params[f"decoder{m}"], z), blocks[m]
                if est.visible_units_[m] == "binary":
                    p = 1 / (1 + np.exp(-a))
                    total -= np.sum(v * np.log(p) + (1 - v) * np.log(1 - p))
                elif est.visible_units_[m] == "gaussian":
                    total += 0.5 * np.sum((v - a) ** 2) + 0.5 * v.size * np.log(2 * np.pi)
                else:
                    D = v.sum()
                    total -= gammaln(D + 1) - gammaln(v + 1).sum() + v @ (a - logsumexp(a))
    penalty = sum(0.5 * est.alpha * np.sum(W**2)
                  for nets, kind in ((encoders, "encoder"), (decoders, "decoder"))
                  for m, net in enumerate(nets) for W, _ in net.unpack(params[f"{kind}{m}"]))
    return total / (len(sets) * len(X)) + penalty


def _check_objective(est, X):
    missing = _missing(est, X)
    nets = est._networks()
    blocks, present = est._batch(X, missing, np.arange(len(X)))
    params = _perturbed_params(est)
    loss, grads = est._objective(nets, params, blocks, present)
    assert loss == pytest.approx(reference_loss(est, params, X), rel=1e-10)
    for key, theta in params.items():
        def objective(value, key=key):
            return est._objective(nets, {**params, key: value}, blocks, present)[0]

        np.testing.assert_allclose(grads[key], numerical_gradient(objective, theta),
                                   atol=1e-6, err_msg=key)


# -- the objective ----------------------------------------------------------------------------


@pytest.mark.parametrize("units", UNITS)
@pytest.mark.parametrize("activation", ["tanh", "relu", "logistic"])
def test_gradient_of_each_unit_type(units, activation):
    """Two modalities of one unit type (rows missing either, one row with one modality):
    the loss equals the loops of reference_loss, the gradient its finite differences."""
    X = _mixed_data([units, units], [5, 4])
    est = _fit(MultimodalAutoencoder(3, modalities=[5, 4], visible_units=units,
                                     hidden_layer_sizes=(4,), activation=activation,
                                     alpha=0.1, max_iter=2, random_state=0), X)
    _check_objective(est, X)


@pytest.mark.parametrize("mask_modalities", [True, False])
def test_gradient_of_the_masked_objective_over_three_modalities(mask_modalities):
    """Binary, Gaussian and Replicated Softmax modalities with different depths; each input
    set (all, and each modality alone) and each missing pattern of the rows."""
    X = _mixed_data(UNITS, [5, 4, 6])
    est = _fit(MultimodalAutoencoder(3, modalities=[5, 4, 6], visible_units=list(UNITS),
                                     hidden_layer_sizes=[(3,), (), (2, 3)],
                                     mask_modalities=mask_modalities, alpha=0.1, max_iter=2,
                                     random_state=0), X)
    assert est._input_sets().shape == ((4, 3) if mask_modalities else (1, 3))
    _check_objective(est, X)


def test_a_missing_modality_is_neither_input_nor_target():
    """Whatever a NaN block would hold, the loss is that of the row's present modalities:
    the same as its row with the block's values, minus their targets, and the same for any
    values (the block enters neither the code nor the loss)."""
    X = _mixed_data(["binary", "gaussian"], [5, 4])
    est = _fit(MultimodalAutoencoder(3, modalities=[5, 4], max_iter=1, random_state=0), X)
    params = _perturbed_params(est)
    missing = _missing(est, X)
    nets = est._networks()
    blocks, present = est._batch(X, missing, np.arange(len(X)))
    loss = est._objective(nets, params, blocks, present)[0]
    blocks[0][present[:, 0] == 0] = 7.0  # junk where modality 0 is missing
    assert est._objective(nets, params, blocks, present)[0] == pytest.approx(loss, rel=1e-12)


# -- inference on any subset of modalities ----------------------------------------------------


def _digits_model(**params):
    X, _ = load_digits_halves(return_X_y=True)
    defaults = dict(n_components=16, hidden_layer_sizes=(32,), max_iter=10, random_state=0)
    return X, _fit(MultimodalAutoencoder(**{**defaults, **params}), X)


def test_transform_impute_and_score_on_any_subset():
    X, ae = _digits_model()
    encoders, _ = ae._networks()
    left, right = X.copy(), X.copy()
    left[:, 32:] = np.nan
    right[:, :32] = np.nan
    e_left = encoders[0].forward(ae.encoders_[0], X[:, :32])[-1]
    e_right = encoders[1].forward(ae.encoders_[1], X[:, 32:])[-1]
    np.testing.assert_allclose(ae.transform(X), np.tanh((e_left + e_right) / 2), atol=1e-12)
    direct = pickle.loads(pickle.dumps(ae)).set_params(n_fill_iter=0)
    np.testing.assert_allclose(direct.transform(left), np.tanh(e_left), atol=1e-12)
    np.testing.assert_allclose(direct.transform(right), np.tanh(e_right), atol=1e-12)
    # n_fill_iter=1: the missing half drawn from the code of the given one, then both encoded
    _, decoders = ae._networks()
    drawn = 1 / (1 + np.exp(-decoders[1].forward(ae.decoders_[1], np.tanh(e_left))[-1]))
    e_drawn = encoders[1].forward(ae.encoders_[1], drawn)[-1]
    np.testing.assert_allclose(ae.transform(left), np.tanh((e_left + e_drawn) / 2),
                               atol=1e-12)
    mixed = np.where(np.arange(len(X))[:, None] % 3 == 0, left, X)
    mixed[1::3] = right[1::3]
    expected = ae.transform(X)
    expected[::3], expected[1::3] = ae.transform(left)[::3], ae.transform(right)[1::3]
    np.testing.assert_allclose(ae.transform(mixed), expected, atol=1e-12)

    imputed = ae.impute(mixed)
    np.testing.assert_array_equal(imputed[~np.isnan(mixed)], mixed[~np.isnan(mixed)])
    np.testing.assert_allclose(imputed[::3, 32:], drawn[::3], atol=1e-12)
    assert np.all((imputed >= 0) & (imputed <= 1))

    # score: each present half reconstructed from the other; single halves are not scored
    scores = ae.score_samples(mixed)
    assert np.isnan(scores[::3]).all() and np.isnan(scores[1::3]).all()
    assert np.isfinite(scores[2::3]).all() and (scores[2::3] < 0).all()
    complete = X[2::3]
    from_left = ae.impute(left[2::3])[:, 32:]
    from_right = ae.impute(right[2::3])[:, :32]
    p, q = np.clip(from_left, 1e-300, 1 - 1e-16), np.clip(from_right, 1e-300, 1 - 1e-16)
    expected = (np.sum(complete[:, 32:] * np.log(p) + (1 - complete[:, 32:]) * np.log1p(-p),
                       axis=1)
                + np.sum(complete[:, :32] * np.log(q) + (1 - complete[:, :32]) * np.log1p(-q),
                         axis=1))
    np.testing.assert_allclose(scores[2::3], expected, rtol=1e-9)
    assert ae.score(mixed) == pytest.approx(expected.mean())
    with pytest.raises(ValueError, match="at least two modalities"):
        ae.score(left)


def test_three_modalities_with_their_own_units_and_sparse_counts(monkeypatch):
    """Gaussian features, binary indicators and sparse tag counts: the counts are densified
    one mini-batch at a time (never the whole matrix), the model equals the dense one, any
    subset transforms, and a missing count block is imputed at the mean document length."""
    topics, _ = make_multimodal_topics(600, n_topics=4, n_image_features=10, n_tags=30,
                                       doc_length=8, random_state=0)
    image = StandardScaler().fit_transform(topics[:, :10])
    rng = np.random.default_rng(0)
    indicators = (image[:, :5] + 0.5 * rng.standard_normal((600, 5)) > 0).astype(float)
    X = np.hstack([image, indicators, topics[:, 10:]])
    X[::5, 15:] = np.nan  # tags missing
    modalities = [("image", slice(0, 10)), ("flags", slice(10, 15)), ("tags", slice(15, 45))]
    params = dict(n_components=6, modalities=modalities, hidden_layer_sizes=(8,),
                  visible_units=["auto", "auto", "replicated_softmax"], batch_size=32,
                  max_iter=4, random_state=0)
    densified = []
    dense_rows = _autoencoder.dense_rows

    def spy(X, rows, dtype, out=None):
        densified.append(len(rows))
        return dense_rows(X, rows, dtype, out)

    monkeypatch.setattr(_autoencoder, "dense_rows", spy)
    sparse = _fit(MultimodalAutoencoder(**params), sp.csr_matrix(X))
    assert sparse.visible_units_ == ["gaussian", "binary", "replicated_softmax"]
    assert max(densified) < 600
    dense = _fit(MultimodalAutoencoder(**params), X)
    for a, b in zip(sparse.decoders_, dense.decoders_):
        np.testing.assert_allclose(a, b, atol=1e-10)
    assert sparse.mean_length_[2] == pytest.approx(8.0)

    only_image = X.copy()
    only_image[:, 10:] = np.nan
    tags = sparse.impute(only_image)[:, 15:]
    np.testing.assert_allclose(tags.sum(axis=1), 8.0, rtol=1e-10)
    assert sparse.top_words(only_image[:3], k=5, modality="tags").shape == (3, 5)
    for columns in (slice(0, 10), slice(10, 15), slice(15, 45)):
        subset = np.full_like(X[1:5], np.nan)
        subset[:, columns] = X[1:5, columns]
        assert np.isfinite(sparse.transform(subset)).all()
    assert np.isfinite(sparse.score(sp.csr_matrix(X[1::5])))


# -- what masking buys ------------------------------------------------------------------------


def test_masked_training_reconstructs_a_missing_half_better():
    """Digits halves, 70/30 splits with seeds 0-4, 16 components, one hidden layer of 32,
    15 epochs: the squared error of a half inferred from the other. Measured: with masking
    0.058-0.062 (right from left) and 0.045-0.047 (left from right); trained on complete
    inputs only 0.092-0.104 and 0.083-0.100, 1.56-1.70 and 1.80-2.22 times as much. A
    model that never saw one half alone has never learnt a code from it. The masked model's
    error is 0.74-0.78 times that of imputing the training column means (seeds 0-2).
    Asserted: at least 1.4 times on every seed, and below 0.85 times the column means."""
    X, _ = load_digits_halves(return_X_y=True)
    for seed in range(5):
        X_train, X_test = train_test_split(X, test_size=0.3, random_state=seed)
        errors = {}
        for mask in (True, False):
            ae = _fit(MultimodalAutoencoder(16, hidden_layer_sizes=(32,), max_iter=15,
                                            mask_modalities=mask, random_state=seed),
                      X_train)
            for given, hidden in ((slice(0, 32), slice(32, 64)), (slice(32, 64), slice(0, 32))):
                half = X_test.copy()
                half[:, hidden] = np.nan
                errors[mask, given.start] = np.mean((ae.impute(half)[:, hidden]
                                                     - X_test[:, hidden]) ** 2)
        for start in (0, 32):
            assert errors[False, start] > 1.4 * errors[True, start]
            hidden = slice(32, 64) if start == 0 else slice(0, 32)
            baseline = np.mean((X_test[:, hidden] - X_train[:, hidden].mean(axis=0)) ** 2)
            assert errors[True, start] < 0.85 * baseline


def test_filling_in_the_missing_half_makes_its_code_classifiable():
    """A logistic regression trained on codes of complete digits, applied to codes of half
    digits (70/30 splits, seeds 0-4, defaults but 40 epochs). Measured accuracy from the
    left halves with the code of the given half alone (``n_fill_iter=0``) 0.754-0.798, after
    one fill-in 0.837-0.863 (gains 0.045-0.102); from the right halves 0.770-0.844 and
    0.863-0.911 (gains 0.040-0.115). Two fill-ins are no better. Asserted on seeds 0-2: a
    gain above 0.02 for each half."""
    from sklearn.linear_model import LogisticRegression

    X, y = load_digits_halves(return_X_y=True)
    for seed in range(3):
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3,
                                                            random_state=seed, stratify=y)
        ae = _fit(MultimodalAutoencoder(max_iter=40, random_state=seed), X_train)
        clf = LogisticRegression(max_iter=3000).fit(ae.transform(X_train), y_train)
        for hidden in (slice(32, 64), slice(0, 32)):
            half = X_test.copy()
            half[:, hidden] = np.nan
            accuracy = [clf.score(ae.set_params(n_fill_iter=n).transform(half), y_test)
                        for n in (0, 1)]
            assert accuracy[1] > accuracy[0] + 0.02


def test_rows_missing_a_modality_train_their_modalities():
    """A row missing the right half still trains the left half's encoder and decoder (its
    own reconstruction), and leaves the right decoder's gradient at zero."""
    X, _ = load_digits_halves(return_X_y=True)
    left_only = X[:40].copy()
    left_only[:, 32:] = np.nan
    est = _fit(MultimodalAutoencoder(4, hidden_layer_sizes=(), max_iter=1, random_state=0),
               X[:100])
    blocks, present = est._batch(left_only, _missing(est, left_only), np.arange(40))
    _, grads = est._objective(est._networks(), _perturbed_params(est), blocks, present)
    assert np.abs(grads["encoder0"]).max() > 1e-3 and np.abs(grads["decoder0"]).max() > 1e-3
    # the right modality's networks see only the L2 penalty
    params = _perturbed_params(est)
    np.testing.assert_allclose(grads["encoder1"][:-4],
                               est.alpha * params["encoder1"][:-4], atol=1e-12)


# -- estimator behaviour ----------------------------------------------------------------------


def test_reproducible_float32_and_pickled():
    X, a = _digits_model()
    _, b = _digits_model()
    for u, v in zip(a.encoders_ + a.decoders_, b.encoders_ + b.decoders_):
        np.testing.assert_array_equal(u, v)
    for loads, dumps in ((pickle.loads, pickle.dumps), (None, None)):
        if loads is None:
            import io

            buffer = io.BytesIO()
            joblib.dump(a, buffer)
            buffer.seek(0)
            clone = joblib.load(buffer)
        else:
            clone = loads(dumps(a))
        half = X.copy()
        half[::2, :32] = np.nan
        np.testing.assert_array_equal(clone.transform(half), a.transform(half))
        np.testing.assert_array_equal(clone.impute(half), a.impute(half))
    _, c = _digits_model(random_state=1)
    assert not np.array_equal(c.encoders_[0], a.encoders_[0])
    X32 = X.astype(np.float32)
    d = _fit(MultimodalAutoencoder(8, hidden_layer_sizes=(8,), max_iter=2, random_state=0),
             X32)
    assert d.encoders_[0].dtype == np.float32
    assert d.transform(X32).dtype == np.float32 and d.impute(X32).dtype == np.float32


def test_partial_fit_warm_start_early_stopping_and_verbose(capsys):
    X, _ = load_digits_halves(return_X_y=True)
    est = MultimodalAutoencoder(8, hidden_layer_sizes=(8,), random_state=0)
    for start in range(0, 900, 300):
        est.partial_fit(X[start:start + 300])
    assert est.n_iter_ == 3 and len(est.loss_curve_) == 3
    warm = _fit(MultimodalAutoencoder(8, hidden_layer_sizes=(8,), max_iter=2,
                                      warm_start=True, random_state=0), X)
    first = warm.encoders_[0].copy()
    warm = _fit(warm, X)
    assert warm.n_iter_ == 4 and not np.array_equal(first, warm.encoders_[0])
    # a warm continuation equals one run of as many epochs
    once = _fit(MultimodalAutoencoder(8, hidden_layer_sizes=(8,), max_iter=4,
                                      random_state=0), X)
    np.testing.assert_allclose(once.decoders_[1], warm.decoders_[1], rtol=1e-10)
    early = _fit(MultimodalAutoencoder(8, hidden_layer_sizes=(8,), early_stopping=True,
                                       n_iter_no_change=2, max_iter=300, verbose=1,
                                       random_state=0), X)
    assert len(early.validation_scores_) == early.n_iter_ < 300
    assert early.best_validation_score_ == max(early.validation_scores_)
    assert capsys.readouterr().out.count("validation score") == early.n_iter_
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        MultimodalAutoencoder(4, max_iter=1).fit(X)


def test_denoising_pretraining_initialises_encoders_and_mirrored_decoders():
    """Each encoder's hidden layers come from the denoising autoencoders, the decoder's
    mirror layers are their transposes, and the code layers keep their random start (the
    training step here is 1e-12, so the weights are those of the start)."""
    X, _ = load_digits_halves(return_X_y=True)
    params = dict(n_components=4, hidden_layer_sizes=(12, 6), max_iter=1,
                  learning_rate=1e-12, random_state=0)
    plain = _fit(MultimodalAutoencoder(**params), X)
    pre = _fit(MultimodalAutoencoder(**params, pretrain_iter=20, pretrain_noise=0.3), X)
    encoders, decoders = pre._networks()
    for m in range(2):
        enc, enc_plain = (encoders[m].unpack(e.encoders_[m]) for e in (pre, plain))
        dec, dec_plain = (decoders[m].unpack(e.decoders_[m]) for e in (pre, plain))
        for i in range(2):
            assert not np.allclose(enc[i][0], enc_plain[i][0])
            np.testing.assert_allclose(dec[-1 - i][0], enc[i][0].T, atol=1e-9)
        np.testing.assert_allclose(enc[2][0], enc_plain[2][0], atol=1e-9)  # 6 -> code
        np.testing.assert_allclose(dec[0][0], dec_plain[0][0], atol=1e-9)  # code -> 6


def test_pipeline_and_grid_search_on_the_label_free_score():
    """Gaussian features behind a StandardScaler (NaN blocks pass through it), the code
    width chosen by the held-out cross-modal score."""
    rng = np.random.default_rng(0)
    latent = rng.standard_normal((300, 3))
    X = np.hstack([latent @ rng.standard_normal((3, 8)), np.tanh(latent) @ rng.standard_normal(
        (3, 6))]) * 5 + 20
    X += 0.3 * rng.standard_normal(X.shape)
    X[:30, :8] = np.nan
    pipe = make_pipeline(StandardScaler(), MultimodalAutoencoder(
        modalities=[8, 6], hidden_layer_sizes=(16,), max_iter=30, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # standardised: no scale warning
        warnings.simplefilter("ignore", ConvergenceWarning)
        search = GridSearchCV(pipe, {"multimodalautoencoder__n_components": [1, 3]},
                              cv=3).fit(X)
    scores = search.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores)) and scores[1] > scores[0]
    assert search.best_params_ == {"multimodalautoencoder__n_components": 3}
    assert search.transform(X).shape == (300, 3)


def test_modality_imputer_and_pandas_output():
    pd = pytest.importorskip("pandas")
    from skmultimodal import ModalityImputer

    X, _ = load_digits_halves(return_X_y=True)
    X[::2, 32:] = np.nan
    imputer = _fit(ModalityImputer(MultimodalAutoencoder(4, max_iter=2, random_state=0)), X)
    completed = imputer.transform(X)
    assert not np.isnan(completed).any()
    np.testing.assert_array_equal(completed[1::2], X[1::2])
    frame = pd.DataFrame(X, columns=[f"pixel{i}" for i in range(64)])
    ae = _fit(MultimodalAutoencoder(4, max_iter=2, random_state=0).set_output(
        transform="pandas"), frame)
    Z = ae.transform(frame)
    assert list(Z.columns) == [f"multimodalautoencoder{i}" for i in range(4)]
    np.testing.assert_array_equal(Z.to_numpy(), ae.set_output(transform="default")
                                  .transform(X))


# -- bad input and bad training ---------------------------------------------------------------


def test_bad_input_errors_leave_the_model_unchanged():
    X, ae = _digits_model(max_iter=2, warm_start=True)
    twin = pickle.loads(pickle.dumps(ae))
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="partly NaN"):
        ae.partial_fit(bad)
    bad = X.copy()
    bad[0] = np.nan
    with pytest.raises(ValueError, match="every modality missing"):
        ae.transform(bad)
    with pytest.raises(ValueError, match="expecting 64 features"):
        ae.fit(X[:, :40])  # warm: the width is checked against the model
    assert_same_state(ae, twin)
    never = X.copy()
    never[:, 32:] = np.nan
    with pytest.raises(ValueError, match="missing in every training row"):
        MultimodalAutoencoder().fit(never)
    halves = never[:100].copy()
    halves[50:, :32], halves[50:, 32:] = np.nan, X[50:100, 32:]  # no row has both halves
    with pytest.raises(ValueError, match="no validation row has two modalities"):
        MultimodalAutoencoder(early_stopping=True).fit(halves)
    with pytest.raises(ValueError, match="binary visible units"):
        MultimodalAutoencoder(visible_units="binary").fit(X * 16)


def test_divergence_names_the_learning_rate_and_unscaled_features():
    """SGD at learning_rate=10 on Gaussian raw pixels (0-16): in the first epoch at that
    rate the loss grows from 657 to 8e98 (the parameters are NaN in the next). The message
    names the rate and the unscaled modalities, and a failed call leaves the estimator
    bit-identical."""
    X, _ = load_digits_halves(return_X_y=True)
    raw = X * 16
    params = dict(n_components=4, visible_units="gaussian", hidden_layer_sizes=(8,),
                  solver="sgd", max_iter=3, warm_start=True, random_state=0)
    with pytest.warns(UserWarning, match="Gaussian visible units"):
        failed = _fit(MultimodalAutoencoder(**params, learning_rate=1e-4), raw)
    twin = pickle.loads(pickle.dumps(failed))
    failed.set_params(learning_rate=10.0)
    twin.set_params(learning_rate=10.0)
    for call in (failed.partial_fit, failed.fit):
        with pytest.raises(FloatingPointError, match=r"learning_rate=10\.0.*Likely cause: "
                           r"the features of the Gaussian modalities are not standardised "
                           r"\(modality 'm0': feature \d+ has root mean square"):
            call(raw)
        assert_same_state(failed, twin)
    for est in (failed, twin):
        est.set_params(learning_rate=1e-4)
    assert_same_state(failed.partial_fit(raw), twin.partial_fit(raw))


def test_saturated_code_warns():
    """Features of mean 100 as Gaussian units saturate every tanh unit: the code is the same
    for every row, which is said, with the likely cause."""
    rng = np.random.default_rng(0)
    X = 100 + rng.standard_normal((60, 6))
    with pytest.warns(ConvergenceWarning, match="code stopped depending on the data.*"
                      "Gaussian modalities are not standardised"):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*maximum number of epochs")
            warnings.filterwarnings("ignore", category=UserWarning,
                                    message=".*Gaussian visible units")
            MultimodalAutoencoder(3, hidden_layer_sizes=(4,), max_iter=2,
                                  random_state=0).fit(X)
