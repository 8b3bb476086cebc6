"""What the defaults give: each joint estimator with its defaults against the best setting
of a small grid, on each data set.

A user drops an estimator into a Pipeline with its defaults; this sweep measures how far
that is from what one or two settings changed would give, so that the defaults can be set
by measurement and re-checked by the next person. For every data set and estimator it fits
the defaults (only ``modalities`` and ``visible_units`` given) and every setting of the
estimator's grid, then scores a ``LogisticRegression`` on ``transform``: test accuracy with
both modalities, with the first only and with the second only (the missing one inferred by
the estimator). A setting's score is the mean of the three.

Data sets (train / test, stratified, seed 0):

- ``digits``: scikit-learn's 8x8 digits as left and right halves, binary units (grey
  levels in [0, 1] read as probabilities), 1,257 / 540 rows;
- ``digits-mixed``: the same with the right half standardised and Gaussian units, a
  binary + real pairing as in image + measurement data;
- ``topics``: :func:`~skmultimodal.datasets.make_multimodal_topics` (2,000 rows, 50
  Gaussian image features, 100 tags of 10 words as Replicated Softmax, 5 topics as the
  classes), 1,400 / 600 rows;
- ``mnist``: MNIST's left and right halves (392 pixels each, binarised at 0.5), 7,000 /
  3,000 of the 10,000 test images, when ``--data-home`` holds them.

Run ``python benchmarks/defaults.py [--quick] [--data NAME ...] [--estimators NAME ...]
[--data-home PATH]``. ``--quick`` runs the digits with the defaults and one other setting
per estimator, on 600 training rows.
"""

import argparse
import itertools
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import skmultimodal
from skmultimodal.datasets import fetch_mnist_halves, load_digits_halves, make_multimodal_topics

DATA_HOME = Path(__file__).resolve().parents[2] / "shared" / "data"

GRIDS = {
    "MultimodalRBM": {"learning_rate": [0.01, 0.05, 0.1], "momentum": [0.5, 0.9]},
    "MinVIRBM": {"learning_rate": [0.01, 0.05, 0.1], "momentum": [0.5, 0.9]},
    "SSLRBM": {"learning_rate": [0.01, 0.05, 0.1], "momentum": [0.5, 0.9]},
    "MultimodalDBN": {"learning_rate": [0.01, 0.05], "pathways": [(64,), (256, 256)]},
    "MultimodalDBM": {"learning_rate": [0.001, 0.005], "pathways": [(64,), (256, 256)]},
    "MDRNN": {"learning_rate": [0.001, 0.01], "pathways": [(64,), (256, 256)]},
}
"""The settings tried besides the defaults; every combination of the listed values."""

QUICK_GRIDS = {
    "MultimodalRBM": {"learning_rate": [0.1]},
    "MinVIRBM": {"learning_rate": [0.1]},
    "SSLRBM": {"learning_rate": [0.1]},
    "MultimodalDBN": {"pathways": [(64,)]},
    "MultimodalDBM": {"pathways": [(64,)]},
    "MDRNN": {"pathways": [(64,)]},
}


def _split(X, y, test_size=0.3):
    return train_test_split(X, y, test_size=test_size, random_state=0, stratify=y)


def load(name, data_home, quick=False):
    """``(X_train, X_test, y_train, y_test, widths, visible_units)`` of a data set."""
    if name in ("digits", "digits-mixed"):
        X, y = load_digits_halves(return_X_y=True)
        X_train, X_test, y_train, y_test = _split(X, y)
        units = ["binary", "binary"]
        if name == "digits-mixed":
            scaler = StandardScaler().fit(X_train[:, 32:])
            X_train, X_test = X_train.copy(), X_test.copy()
            X_train[:, 32:] = scaler.transform(X_train[:, 32:])
            X_test[:, 32:] = scaler.transform(X_test[:, 32:])
            units = ["binary", "gaussian"]
        widths = [32, 32]
    elif name == "topics":
        X, y = make_multimodal_topics(2000, random_state=0)
        X_train, X_test, y_train, y_test = _split(X, y)
        widths, units = [50, 100], ["gaussian", "replicated_softmax"]
    elif name == "mnist":
        X, y = fetch_mnist_halves(data_home, return_X_y=True, download_if_missing=False)
        X = (X > 0.5).astype(np.float64)
        X_train, X_test, y_train, y_test = _split(X, y)
        widths, units = [392, 392], ["binary", "binary"]
    else:
        raise ValueError(f"unknown data set {name!r}")
    if quick:
        X_train, y_train = X_train[:600], y_train[:600]
    return X_train, X_test, y_train, y_test, widths, units


def _hide(X, cols):
    X = X.copy()
    X[:, cols] = np.nan
    return X


def evaluate(name, params, data):
    """Accuracies (both, first only, second only), seconds to fit, epochs, warnings."""
    X_train, X_test, y_train, y_test, widths, units = data
    est = getattr(skmultimodal, name)(modalities=widths, visible_units=units, random_state=0,
                                      **params)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        tic = time.perf_counter()
        est.fit(X_train)
        seconds = time.perf_counter() - tic
    clf = LogisticRegression(max_iter=3000).fit(est.transform(X_train), y_train)
    first, second = slice(0, widths[0]), slice(widths[0], sum(widths))
    accuracies = [clf.score(est.transform(Z), y_test)
                  for Z in (X_test, _hide(X_test, second), _hide(X_test, first))]
    epochs = getattr(est, "n_iter_", None)
    notes = sorted({type(w.message).__name__ for w in caught})
    return accuracies, seconds, epochs, notes


def settings(grid):
    keys = list(grid)
    for values in itertools.product(*(grid[k] for k in keys)):
        yield dict(zip(keys, values))


def _fmt(accuracies):
    return " / ".join(f"{a:.3f}" for a in accuracies)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="digits only, 600 training rows, one setting besides the defaults")
    parser.add_argument("--data", nargs="*", default=None)
    parser.add_argument("--estimators", nargs="*", default=None)
    parser.add_argument("--data-home", default=str(DATA_HOME))
    args = parser.parse_args(argv)
    grids = QUICK_GRIDS if args.quick else GRIDS
    names = args.estimators or list(grids)
    data_names = args.data or (["digits"] if args.quick else
                               ["digits", "digits-mixed", "topics", "mnist"])
    print("| data | estimator | setting | both / first / second | mean | fit s | epochs | "
          "warnings |")
    print("|---|---|---|---|---|---|---|---|")
    summary = []
    for data_name in data_names:
        try:
            data = load(data_name, args.data_home, quick=args.quick)
        except OSError as error:
            print(f"(skipping {data_name}: {error})")
            continue
        for name in names:
            rows = []
            for params in [None, *settings(grids[name])]:
                accuracies, seconds, epochs, notes = evaluate(name, params or {}, data)
                label = "defaults" if params is None else \
                    ", ".join(f"{k}={v}" for k, v in params.items())
                rows.append((np.mean(accuracies), label, accuracies))
                print(f"| {data_name} | {name} | {label} | {_fmt(accuracies)} | "
                      f"{np.mean(accuracies):.3f} | {seconds:.1f} | {epochs} | "
                      f"{', '.join(notes)} |", flush=True)
            best = max(rows[1:], key=lambda r: r[0]) if len(rows) > 1 else rows[0]
            summary.append((data_name, name, rows[0], best))
    print("\nWhat the defaults give against the best setting of the grid (mean accuracy):\n")
    print("| data | estimator | defaults | best setting | best | gap |")
    print("|---|---|---|---|---|---|")
    for data_name, name, default, best in summary:
        print(f"| {data_name} | {name} | {default[0]:.3f} | {best[1]} | {best[0]:.3f} | "
              f"{best[0] - default[0]:+.3f} |")


if __name__ == "__main__":
    main()
