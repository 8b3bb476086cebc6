"""Main demo: a joint representation of two modalities that survives a missing one.

Run with ``python -m skmultimodal.demo``. The 8x8 digits shipped with scikit-learn are cut into
left and right halves, two modalities. A MultimodalRBM learns a joint representation from both
halves; a logistic regression on it is then evaluated on test images with both halves and with
the right half missing, the missing half inferred by mean-field. One-modality baselines (raw
pixels of the left half only) and a fill-in-then-classify pipeline are printed beside it.
"""

import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from skmultimodal import ModalityImputer, MultimodalRBM
from skmultimodal.datasets import load_digits_halves


def _hide_right(X, modalities):
    X = X.copy()
    X[:, modalities[1][1]] = np.nan
    return X


def main(random_state=0):
    """Fit, evaluate and print the demo's table; returns the accuracies as a dict."""
    digits = load_digits_halves()
    X_train, X_test, y_train, y_test = train_test_split(
        digits.data, digits.target, test_size=0.3, random_state=0, stratify=digits.target
    )
    left = digits.modalities[0][1]
    X_test_left = _hide_right(X_test, digits.modalities)

    tic = time.perf_counter()
    rbm = MultimodalRBM(n_components=128, modalities=digits.modalities, visible_units="binary",
                        learning_rate=0.1, n_iter=30, batch_size=32, random_state=random_state)
    H_train = rbm.fit_transform(X_train)
    fit_seconds = time.perf_counter() - tic

    def accuracy(model, X):
        return model.fit(*X[:2]).score(*X[2:])

    def logreg():
        return LogisticRegression(max_iter=3000)

    clf = logreg().fit(H_train, y_train)
    imputer_pipeline = make_pipeline(ModalityImputer(rbm), logreg()).fit(X_train, y_train)
    results = {
        "raw pixels, both halves": accuracy(logreg(), (X_train, y_train, X_test, y_test)),
        "raw pixels, left half only (one-modality baseline)": accuracy(
            logreg(), (X_train[:, left], y_train, X_test[:, left], y_test)),
        "MultimodalRBM joint representation, both halves": clf.score(
            rbm.transform(X_test), y_test),
        "MultimodalRBM joint representation, right half missing": clf.score(
            rbm.transform(X_test_left), y_test),
        "  same, classifier trained on left-only representations": accuracy(
            logreg(), (rbm.transform(_hide_right(X_train, digits.modalities)), y_train,
                       rbm.transform(X_test_left), y_test)),
        "ModalityImputer + raw-pixel classifier, right half missing": imputer_pipeline.score(
            X_test_left, y_test),
    }
    mse = np.mean((rbm.impute(X_test_left)[:, 32:] - X_test[:, 32:]) ** 2)
    mse_mean = np.mean((X_train[:, 32:].mean(axis=0) - X_test[:, 32:]) ** 2)

    print(__doc__.split("\n\n")[0])
    print(f"\n{len(X_train)} training and {len(X_test)} test images; "
          f"MultimodalRBM fitted in {fit_seconds:.1f} s.\n")
    width = max(map(len, results))
    print(f"{'logistic regression on':<{width}}  test accuracy")
    for name, value in results.items():
        print(f"{name:<{width}}  {value:.3f}")
    print(f"\nMean squared error of the inferred right half: {mse:.4f} "
          f"(imputing the training mean: {mse_mean:.4f})")
    print("Chance level is 0.100. Maximum-likelihood training (this model) is known to learn "
          "weak cross-modal associations (Sohn et al. 2014, Table 1).")
    return results


if __name__ == "__main__":
    main()
