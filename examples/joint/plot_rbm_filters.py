"""
What a multimodal RBM learns: filters across both halves
========================================================

A :class:`~skmultimodal.MultimodalRBM` has one layer of binary hidden units connected to
every modality (Sohn, Shang & Lee 2014, Eq. 5-7). Each hidden unit's weights, its
*filter*, span both halves of a digit: drawn as an 8x8 image, the left half of a filter is
its weights on the left-half pixels and the right half its weights on the right-half
pixels. A unit whose two halves form one stroke is what lets the model infer a missing half
from the other.

The example trains the RBM by maximum likelihood with persistent contrastive divergence
(Tieleman 2008), draws its filters and its reconstruction-error curve, and generates right
halves for left halves with :meth:`~skmultimodal.MultimodalRBM.sample`.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from skmultimodal import MultimodalRBM
from skmultimodal.datasets import load_digits_halves

digits = load_digits_halves()
left, right = digits.modalities[0][1], digits.modalities[1][1]
rbm = MultimodalRBM(n_components=64, modalities=digits.modalities, visible_units="binary",
                    method="pcd", learning_rate=0.05, n_iter=40, batch_size=32,
                    random_state=0).fit(digits.data)
print(f"components_ {rbm.components_.shape}: one row of weights per hidden unit")


def as_images(rows):
    """Rows of left-then-right half values back to 8x8 images."""
    images = np.empty((len(rows), 8, 8))
    images[:, :, :4] = rows[:, left].reshape(-1, 8, 4)
    images[:, :, 4:] = rows[:, right].reshape(-1, 8, 4)
    return images


# %%
# The filters
# -----------
# The 32 hidden units with the largest weights, red positive and blue negative. The line
# in the middle of each image separates the two modalities.
order = np.argsort(-np.abs(rbm.components_).sum(axis=1))[:32]
fig, axes = plt.subplots(4, 8, figsize=(8, 4.4))
for ax, image in zip(axes.ravel(), as_images(rbm.components_[order])):
    limit = np.abs(image).max()
    ax.imshow(image, cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.axvline(3.5, color="k", linewidth=0.8)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("Filters of a multimodal RBM (left | right half)")
fig.tight_layout()
plt.show()

# %%
# Training curve
# --------------
# ``reconstruction_error_curve_`` holds the mean squared error of a one-step reconstruction
# of the training data after each epoch (a monitor of training, not the likelihood).
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(np.arange(1, rbm.n_iter_ + 1), rbm.reconstruction_error_curve_, marker=".")
ax.set_xlabel("epoch")
ax.set_ylabel("reconstruction error")
ax.set_title("MultimodalRBM, persistent CD")
fig.tight_layout()
plt.show()

# %%
# Generating a missing half
# -------------------------
# :meth:`~skmultimodal.MultimodalRBM.sample` runs a Gibbs chain with the left half clamped
# and draws the right half; :meth:`~skmultimodal.MultimodalRBM.impute` returns its
# mean-field expectation instead.
X_left = digits.data[:8].copy()
X_left[:, right] = np.nan
rows = [("true digit", digits.data[:8]),
        ("mean-field", rbm.impute(X_left)),
        ("Gibbs draw", rbm.sample(X_left, n_steps=50, random_state=0))]
fig, axes = plt.subplots(3, 8, figsize=(8, 3.4))
for r, (label, X) in enumerate(rows):
    for c, image in enumerate(as_images(X)):
        axes[r, c].imshow(image, cmap="gray_r", vmin=0, vmax=1)
        axes[r, c].axvline(3.5, color="tab:orange", linewidth=0.8)
        axes[r, c].set_xticks([])
        axes[r, c].set_yticks([])
    axes[r, 0].set_ylabel(label, fontsize=8)
fig.suptitle("Right halves generated from left halves")
fig.tight_layout()
plt.show()
