"""
Quick start: a joint representation of two modalities and cross-modal retrieval
===============================================================================

The digits shipped with scikit-learn, cut into left and right halves, are two modalities.
A :class:`~skmultimodal.MultimodalRBM` learns one joint representation from both. Because
``transform`` maps whatever modalities a row has into the same space, cross-modal retrieval
is a nearest-neighbour search: embed left halves alone (the queries) and right halves alone
(the database), rank the database for each query with
:func:`~skmultimodal.retrieval.nearest_neighbors`, and score the rankings with
:func:`~skmultimodal.metrics.recall_at_k` and :func:`~skmultimodal.metrics.precision_at_k`.
"""

# %%
# Two modalities in one matrix
# ----------------------------
# :func:`~skmultimodal.datasets.load_digits_halves` returns the 1797 digits as one matrix:
# 32 columns of left-half pixels, then 32 of right-half pixels, in [0, 1]. ``modalities``
# names the two column blocks.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

from skmultimodal import MultimodalRBM
from skmultimodal.datasets import load_digits_halves
from skmultimodal.metrics import precision_at_k, recall_at_k
from skmultimodal.retrieval import nearest_neighbors

digits = load_digits_halves()
print(digits.data.shape, digits.modalities)
X_train, X_test, y_train, y_test = train_test_split(
    digits.data, digits.target, test_size=0.3, random_state=0
)

# %%
# A joint representation
# ----------------------
rbm = MultimodalRBM(n_components=128, modalities=digits.modalities, visible_units="binary",
                    learning_rate=0.1, n_iter=30, batch_size=32, random_state=0)
rbm.fit(X_train)
print(f"trained {rbm.n_iter_} epochs; reconstruction error "
      f"{rbm.reconstruction_error_curve_[0]:.4f} -> {rbm.reconstruction_error_curve_[-1]:.4f}")

# %%
# Cross-modal retrieval: left halves find right halves
# ----------------------------------------------------
# A missing modality is its whole block set to NaN. The queries keep their left halves,
# the database its right halves; both go through the same ``transform``.
left, right = digits.modalities[0][1], digits.modalities[1][1]
queries = X_test.copy()
queries[:, right] = np.nan
database = X_test.copy()
database[:, left] = np.nan

_, ranking = nearest_neighbors(rbm.transform(queries), rbm.transform(database),
                               n_neighbors=10)
print(f"{len(queries)} left-half queries against {len(database)} right halves:")
print(f"  recall@10 of the query's own right half: {recall_at_k(ranking, k=10):.3f} "
      f"(chance {10 / len(database):.3f})")
same_digit = precision_at_k(ranking, k=10, query_labels=y_test, database_labels=y_test)
print(f"  precision@10 of right halves of the same digit: {same_digit:.3f} (chance ~0.100)")

# %%
# What the search returns
# -----------------------
# Each row: a query's left half, then the five right halves nearest to it in the joint
# space; a green frame marks the query's own right half, the title the digit it belongs to.
fig, axes = plt.subplots(6, 6, figsize=(6, 6.6))
for row, q in enumerate(range(6)):
    axes[row, 0].imshow(X_test[q, left].reshape(8, 4), cmap="gray_r", vmin=0, vmax=1)
    axes[row, 0].set_title(f"query ({y_test[q]})", fontsize=8)
    for col, d in enumerate(ranking[q, :5], start=1):
        ax = axes[row, col]
        ax.imshow(X_test[d, right].reshape(8, 4), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(str(y_test[d]), fontsize=8)
        if d == q:
            for spine in ax.spines.values():
                spine.set_edgecolor("tab:green")
                spine.set_linewidth(3)
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("Left halves (first column) and their 5 nearest right halves")
fig.tight_layout()
plt.show()
