"""
Inferring the missing half of a digit: which model imputes best?
================================================================

Figure 2 of Sohn, Shang & Lee (2014) on scikit-learn's 8x8 digits: each image is two
modalities, its left and right halves. Every model of the package that has ``impute`` is
given one half of unseen digits and infers the other:

- :class:`~skmultimodal.MultimodalRBM`, trained by maximum likelihood (ML);
- :class:`~skmultimodal.MinVIRBM`, the same model trained by minimum variation of
  information with multi-prediction (Sohn, Shang & Lee 2014, Eq. 2 and 9): trained for
  exactly this task, predicting each half from the other;
- :class:`~skmultimodal.SSLRBM`, ML plus a penalty that makes the two halves' hidden
  activations alike (Hu, Li & Lu 2016, Eq. 1);
- :class:`~skmultimodal.MultimodalDBN` and :class:`~skmultimodal.MultimodalDBM`, a hidden
  layer per half below the joint layer, trained greedily (DBN) or then jointly (DBM;
  Srivastava & Salakhutdinov 2012);
- :class:`~skmultimodal.MDRNN`, the same layers finetuned by backpropagation as the
  recurrent network that predicts each half from the other (Sohn, Shang & Lee 2014,
  Section 3.3);
- :class:`~skmultimodal.MultimodalAutoencoder`, an encoder and a decoder per half around a
  shared code, trained to reconstruct both halves from either (Ngiam et al. 2011).

Two numbers per model and direction: the mean squared error of the inferred half, and the
accuracy of one logistic regression, trained on complete digits, on the completed digits
(what :class:`~skmultimodal.ModalityImputer` gives a downstream model).
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from skmultimodal import (
    MDRNN,
    MinVIRBM,
    MultimodalAutoencoder,
    MultimodalDBM,
    MultimodalDBN,
    MultimodalRBM,
    SSLRBM,
)
from skmultimodal.datasets import load_digits_halves

digits = load_digits_halves()
X_train, X_test, y_train, y_test = train_test_split(
    digits.data, digits.target, test_size=0.3, random_state=0, stratify=digits.target
)
left, right = digits.modalities[0][1], digits.modalities[1][1]
rbm = dict(n_components=128, modalities=digits.modalities, visible_units="binary",
           learning_rate=0.1, batch_size=32, n_iter=60, random_state=0)
deep = dict(n_components=128, pathways=(64,), modalities=digits.modalities,
            visible_units="binary", batch_size=32, random_state=0)
models = {
    "MultimodalRBM (ML)": MultimodalRBM(**rbm),
    "MinVIRBM": MinVIRBM(**rbm),
    "SSLRBM": SSLRBM(alpha=0.1, **rbm),
    "MultimodalDBN": MultimodalDBN(learning_rate=0.1, n_iter=40, **deep),
    "MultimodalDBM": MultimodalDBM(learning_rate_pretrain=0.1, n_iter_pretrain=40,
                                   n_iter=40, **deep),
    "MDRNN": MDRNN(learning_rate_pretrain=0.1, n_iter_pretrain=40, max_iter=200, **deep),
    "Autoencoder": MultimodalAutoencoder(
        n_components=64, modalities=digits.modalities, visible_units="binary",
        early_stopping=True, max_iter=500, random_state=0),
}

# %%
# The comparison table
# --------------------
classifier = LogisticRegression(max_iter=3000).fit(X_train, y_train)
given = {"left given": right, "right given": left}  # the columns hidden in each case
mean_half = X_train.mean(axis=0)
print(f"{'':25s}   {'MSE of the half':>17s}   {'accuracy':>17s}")
print(f"{'model':19s} {'fit s':>5s}   {'left given':>10s} {'right':>6s}   "
      f"{'left given':>10s} {'right':>6s}")
completions = {}
for name, model in {"training mean": None, **models}.items():
    tic = time.perf_counter()
    if model is not None:
        model.fit(X_train)
    seconds = time.perf_counter() - tic
    mse, accuracy = [], []
    for case, hidden in given.items():
        X_half = X_test.copy()
        X_half[:, hidden] = np.nan
        if model is None:
            completed = np.where(np.isnan(X_half), mean_half, X_half)
        else:
            completed = model.impute(X_half)
        completions[name, case] = completed
        mse.append(np.mean((completed[:, hidden] - X_test[:, hidden]) ** 2))
        accuracy.append(classifier.score(completed, y_test))
    print(f"{name:19s} {seconds:5.1f}   {mse[0]:10.4f} {mse[1]:6.4f}   {accuracy[0]:10.3f} "
          f"{accuracy[1]:6.3f}")
print(f"{'complete digits':19s} {'':5s}   {'':17s}   {classifier.score(X_test, y_test):10.3f}")

# %%
# The completions
# ---------------
# For eight test digits: the truth, the given half (the other blank), and each model's
# completion; first with the left half given, then with the right half given.


def as_images(rows):
    """Rows of left-then-right half pixels back to 8x8 images."""
    images = np.empty((len(rows), 8, 8))
    images[:, :, :4] = rows[:, left].reshape(-1, 8, 4)
    images[:, :, 4:] = rows[:, right].reshape(-1, 8, 4)
    return images


shown = np.arange(6)
labels = ["truth", "given half"] + [name.split(" ")[0] for name in models]
fig, axes = plt.subplots(len(labels), 2 * len(shown) + 1, figsize=(8, 0.75 * len(labels) + 0.6),
                         gridspec_kw={"width_ratios": [1] * len(shown) + [0.3] + [1] * len(shown)})
for block, (case, hidden) in enumerate(given.items()):
    query = X_test[shown].copy()
    query[:, hidden] = 0
    rows = [X_test[shown], query] + [completions[name, case][shown] for name in models]
    for r, X in enumerate(rows):
        for c, image in enumerate(as_images(X)):
            ax = axes[r, c + block * (len(shown) + 1)]
            ax.imshow(image, cmap="gray_r", vmin=0, vmax=1)
    axes[0, block * (len(shown) + 1) + len(shown) // 2].set_title(case, loc="left")
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
for ax in axes[:, len(shown)]:
    ax.set_axis_off()
for r, label in enumerate(labels):
    axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
fig.suptitle("Missing halves inferred by each model")
fig.tight_layout()
plt.show()

# %%
# The models trained for this very task infer the missing half best: the autoencoder, trained
# to reconstruct both halves from either, then MDRNN, whose finetuning back-propagates the
# error of each half predicted from the other, and MinVIRBM, the Boltzmann machine trained
# by multi-prediction to do the same; their completions are the ones a classifier reads
# best. The models trained by maximum likelihood (MultimodalRBM, SSLRBM, and the deep
# Boltzmann models' layers) learn weak associations between the halves (Sohn, Shang & Lee
# 2014, Table 1): their completions are blurred towards an average digit. On 1257 tiny
# images the deep Boltzmann models infer the missing half no better than the training
# mean; their strengths are elsewhere (tags for images, a deeper representation; see
# :ref:`sphx_glr_auto_examples_joint_plot_dbm_tags.py`).
