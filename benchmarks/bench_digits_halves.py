"""Learning quality of MultimodalRBM on the digits halves, over several seeds.

The protocol of ``tests/test_mrbm.py`` (whose thresholds come from this table): scikit-learn's
8x8 digits cut into left and right halves, a stratified 70/30 split, MultimodalRBM(128 hidden,
binary units, learning rate 0.1, 30 epochs, batch 32), a LogisticRegression on ``transform``.
Printed per seed: test accuracy with both halves, with the right half missing (the classifier
trained on complete representations), the mean squared error of the imputed right half, and
the accuracy when two thirds of the training rows miss one modality (4 epochs, 5 mean-field
steps).

Run ``python benchmarks/bench_digits_halves.py [--quick]``; ``--quick`` uses two seeds.
"""

import argparse
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from skmultimodal import MultimodalRBM
from skmultimodal.datasets import load_digits_halves


def _rbm(seed, **params):
    return MultimodalRBM(**{"n_components": 128, "visible_units": "binary",
                            "learning_rate": 0.1, "n_iter": 30, "batch_size": 32,
                            "random_state": seed, **params})


def _hide(X, columns):
    X = X.copy()
    X[:, columns] = np.nan
    return X


def evaluate(seed, X_train, X_test, y_train, y_test):
    """The four figures of one seed."""
    rbm = _rbm(seed).fit(X_train)
    clf = LogisticRegression(max_iter=2000).fit(rbm.transform(X_train), y_train)
    X_left = _hide(X_test, slice(32, 64))
    incomplete = X_train.copy()
    incomplete[::3, 32:] = np.nan
    incomplete[1::3, :32] = np.nan
    rbm_incomplete = _rbm(seed, n_iter=4, n_mean_field=5).fit(incomplete)
    clf_incomplete = LogisticRegression(max_iter=2000).fit(
        rbm_incomplete.transform(X_train), y_train)
    return {
        "both halves": clf.score(rbm.transform(X_test), y_test),
        "right missing": clf.score(rbm.transform(X_left), y_test),
        "imputed MSE": np.mean((rbm.impute(X_left)[:, 32:] - X_test[:, 32:]) ** 2),
        "2/3 rows incomplete": clf_incomplete.score(rbm_incomplete.transform(X_test), y_test),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="two seeds instead of five")
    args = parser.parse_args(argv)
    X, y = load_digits_halves(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0,
                                                        stratify=y)
    mean_mse = np.mean((X_train[:, 32:].mean(axis=0) - X_test[:, 32:]) ** 2)
    print(__doc__.split("\n\n")[0])
    print(f"{len(X_train)} training / {len(X_test)} test images; imputing the training mean "
          f"gives MSE {mean_mse:.4f}; chance accuracy 0.100\n")
    rows = []
    header = None
    for seed in range(2 if args.quick else 5):
        tic = time.perf_counter()
        result = evaluate(seed, X_train, X_test, y_train, y_test)
        if header is None:
            header = list(result)
            print("seed  " + "  ".join(f"{h:>19}" for h in header) + "   seconds")
        rows.append([result[h] for h in header])
        print(f"{seed:>4}  " + "  ".join(f"{result[h]:>19.4f}" for h in header)
              + f"   {time.perf_counter() - tic:7.1f}")
    rows = np.array(rows)
    print(" min  " + "  ".join(f"{v:>19.4f}" for v in rows.min(axis=0)))
    print(" max  " + "  ".join(f"{v:>19.4f}" for v in rows.max(axis=0)))


if __name__ == "__main__":
    main()
