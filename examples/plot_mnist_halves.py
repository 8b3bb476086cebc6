"""
Inferring the missing half of a digit: maximum likelihood vs MinVI
==================================================================

Figure 2 of Sohn, Shang & Lee (2014) on scikit-learn's 8x8 digits: each image is two
modalities, its left and right halves. A multimodal RBM trained by maximum likelihood
(:class:`~skmultimodal.MultimodalRBM`) and one trained by minimum variation of information
with multi-prediction (:class:`~skmultimodal.MinVIRBM`) are given one half of unseen digits and
infer the other by mean-field (:meth:`~skmultimodal.MinVIRBM.impute`).

Rows of the figure: the ground truth, the given half, the completion under ML and under MinVI,
first for left halves given, then for right halves given. MinVI is trained for exactly this
task, predicting each half from the other: its completions are closer to the truth (lower
squared error) and its representations of half digits are classified correctly more often.
"""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from skmultimodal import MinVIRBM, MultimodalRBM
from skmultimodal.datasets import load_digits_halves

digits = load_digits_halves()
X_train, X_test, y_train, y_test = train_test_split(
    digits.data, digits.target, test_size=0.3, random_state=0, stratify=digits.target
)
params = dict(n_components=128, modalities=digits.modalities, visible_units="binary",
              learning_rate=0.1, batch_size=32, n_iter=60, random_state=0)
models = {
    "ML": MultimodalRBM(**params).fit(X_train),
    "MinVI (MP)": MinVIRBM(training="mp", n_mean_field=5, **params).fit(X_train),
}

left, right = digits.modalities[0][1], digits.modalities[1][1]
given = {"left given": right, "right given": left}  # the columns hidden in each case
completions = {}
for name, model in models.items():
    clf = LogisticRegression(max_iter=2000).fit(model.transform(X_train), y_train)
    for case, hidden in given.items():
        X_half = X_test.copy()
        X_half[:, hidden] = np.nan
        completed = model.impute(X_half)
        completions[name, case] = completed
        mse = np.mean((completed[:, hidden] - X_test[:, hidden]) ** 2)
        accuracy = clf.score(model.transform(X_half), y_test)
        print(f"{name:11s} {case:12s} MSE of the inferred half {mse:.4f}, "
              f"accuracy {accuracy:.3f}")


def as_images(X):
    """Rows of left-then-right half pixels back to 8x8 images."""
    images = np.empty((len(X), 8, 8))
    images[:, :, :4] = X[:, left].reshape(-1, 8, 4)
    images[:, :, 4:] = X[:, right].reshape(-1, 8, 4)
    return images


try:
    import matplotlib.pyplot as plt
except ImportError:  # the numbers above are the example; the figure needs matplotlib
    plt = None

if plt is not None:
    shown = np.arange(8)
    fig, axes = plt.subplots(8, len(shown), figsize=(len(shown), 8.5))
    rows = []
    for case, hidden in given.items():
        query = X_test[shown].copy()
        query[:, hidden] = 0
        rows += [("ground truth", X_test[shown]), (f"{case}", query)]
        rows += [(name, completions[name, case][shown]) for name in models]
    for r, (label, X) in enumerate(rows):
        for c, image in enumerate(as_images(X)):
            axes[r, c].imshow(image, cmap="gray_r", vmin=0, vmax=1)
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", fontsize=8)
    fig.suptitle("Inferred halves: maximum likelihood vs MinVI (multi-prediction)")
    fig.tight_layout()
    plt.show()
