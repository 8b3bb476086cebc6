"""
Coordinated representations: CCA, KCCA and DeepCCA for cross-modal retrieval
============================================================================

:class:`~skmultimodal.CCA` learns one linear map per view (here the left and right halves
of scikit-learn's digits) such that the two views' *canonical variates* are maximally
correlated (Hotelling 1936). Because ``transform`` embeds whichever view a row has, a left
half (query) and a right half (database item) land in the same space, and cross-modal
retrieval is a nearest-neighbour search (:func:`~skmultimodal.retrieval.nearest_neighbors`)
scored by :func:`~skmultimodal.metrics.recall_at_k`: the fraction of left halves whose own
right half is among their ``k`` nearest.

The example draws the canonical variates, shows that CCA's default ``n_components=2`` is
far too few for retrieval (and how to choose the number with
:func:`~skmultimodal.metrics.make_retrieval_scorer`), and compares linear CCA with kernel
CCA (:class:`~skmultimodal.KCCA`; Hardoon et al. 2004) and deep CCA
(:class:`~skmultimodal.DeepCCA`; Andrew et al. 2013).
"""

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split

from skmultimodal import CCA, KCCA, DeepCCA
from skmultimodal.datasets import load_digits_halves
from skmultimodal.metrics import make_retrieval_scorer, recall_at_k
from skmultimodal.retrieval import nearest_neighbors

digits = load_digits_halves()
X_train, X_test, y_train, y_test = train_test_split(
    digits.data, digits.target, test_size=0.3, random_state=0
)
left, right = digits.modalities[0][1], digits.modalities[1][1]
queries, database = X_test.copy(), X_test.copy()
queries[:, right] = np.nan  # left halves only
database[:, left] = np.nan  # right halves only


def ranking_of(model, n_neighbors=50):
    """Rank the right halves (database) for every left half (query) in the shared space."""
    return nearest_neighbors(model.transform(queries), model.transform(database),
                             n_neighbors=n_neighbors)[1]


# %%
# Canonical variates
# ------------------
# ``transform_views`` returns each view's variates. The first pair is the direction in
# which the two halves agree most: the test digits line up along the diagonal, grouped by
# class.
cca = CCA(n_components=10, modalities=digits.modalities, reg=0.01).fit(X_train)
print("training canonical correlations:", np.round(cca.canonical_correlations_, 3))
print(f"held-out mean canonical correlation (score): {cca.score(X_test):.3f}")
Z_left, Z_right = cca.transform_views(X_test)
fig, axes = plt.subplots(1, 2, figsize=(9, 4))
for component, ax in enumerate(axes):
    points = ax.scatter(Z_left[:, component], Z_right[:, component], c=y_test,
                        cmap="tab10", s=8)
    ax.set_xlabel(f"left half, canonical variate {component + 1}")
    ax.set_ylabel(f"right half, canonical variate {component + 1}")
    ax.set_title(f"correlation {cca.canonical_correlations_[component]:.2f} (training)",
                 fontsize=10)
fig.colorbar(points, ax=axes, label="digit")
plt.show()

# %%
# How many components does retrieval need?
# ----------------------------------------
# The mean canonical correlation (``score``) falls as components are added, since each is
# less correlated than the last; but retrieval needs enough directions to tell 540 right
# halves apart. With the default ``n_components=2`` a left half finds its own right half
# among the 10 nearest only about one time in ten.
n_components = [1, 2, 3, 5, 10, 15, 20, 30]
recall, correlation = [], []
for n in n_components:
    model = CCA(n_components=n, modalities=digits.modalities, reg=0.01).fit(X_train)
    recall.append(recall_at_k(ranking_of(model), k=10))
    correlation.append(model.score(X_test))
    print(f"n_components={n:2d}: recall@10 {recall[-1]:.3f}, "
          f"mean canonical correlation {correlation[-1]:.3f}")
fig, ax = plt.subplots(figsize=(6, 3.4))
ax.plot(n_components, recall, marker="o", label="recall@10, left -> right")
ax.plot(n_components, correlation, marker="s", label="mean canonical correlation")
ax.axhline(10 / len(database), color="gray", linestyle=":", label="recall@10 by chance")
ax.set_xlabel("n_components")
ax.legend(fontsize=8)
ax.set_title("CCA on digit halves: more components, better retrieval", fontsize=10)
fig.tight_layout()
plt.show()

# %%
# Model selection by retrieval, without labels: :func:`make_retrieval_scorer` masks the
# held-out rows' modalities, transforms, ranks and scores, inside ``GridSearchCV``.
scorer = make_retrieval_scorer(recall_at_k, k=10, query_modalities="left",
                               database_modalities="right")
search = GridSearchCV(CCA(modalities=digits.modalities),
                      {"n_components": [2, 5, 10, 20], "reg": [0.01, 0.1]},
                      scoring=scorer, cv=3).fit(X_train)
print(f"chosen by held-out recall@10: {search.best_params_} "
      f"(cross-validated recall@10 {search.best_score_:.3f})")

# %%
# Linear, kernel and deep CCA
# ---------------------------
# Recall@k of the three for k from 1 to 50, each with 10 components. Kernel CCA maps each
# view through an RBF kernel; deep CCA trains one small network per view by full-batch
# L-BFGS on the total correlation of their outputs.
models = {
    "CCA": CCA(n_components=10, modalities=digits.modalities, reg=0.01),
    "KCCA (RBF, exact)": KCCA(n_components=10, modalities=digits.modalities,
                              kernel_params={"gamma": 0.1}, reg=0.01),
    "DeepCCA (128 tanh units)": DeepCCA(n_components=10, modalities=digits.modalities,
                                        hidden_layer_sizes=(128,), max_iter=200,
                                        random_state=0),
}
ks = np.arange(1, 51)
fig, ax = plt.subplots(figsize=(6, 3.6))
rankings = {}
for name, model in models.items():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # L-BFGS may use all its steps
        model.fit(X_train)
    rankings[name] = ranking_of(model)
    curve = [recall_at_k(rankings[name], k=k) for k in ks]
    print(f"{name:26s} recall@1 {curve[0]:.3f}  recall@10 {curve[9]:.3f}  "
          f"recall@50 {curve[-1]:.3f}")
    ax.plot(ks, curve, label=name)
ax.set_xlabel("k")
ax.set_ylabel("recall@k")
ax.set_title("Left halves retrieving their own right half among 540", fontsize=10)
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %%
# What the search returns
# -----------------------
# Left-half queries (first column) and the five nearest right halves under deep CCA; a
# green frame marks the query's own right half, the title the digit it belongs to.
ranking = rankings["DeepCCA (128 tanh units)"]
fig, axes = plt.subplots(5, 6, figsize=(5.5, 5.5))
for row, q in enumerate(range(5)):
    axes[row, 0].imshow(X_test[q, left].reshape(8, 4), cmap="gray_r", vmin=0, vmax=1)
    axes[row, 0].set_title(f"query ({y_test[q]})", fontsize=8)
    for col, d in enumerate(ranking[q, :5], start=1):
        axes[row, col].imshow(X_test[d, right].reshape(8, 4), cmap="gray_r", vmin=0, vmax=1)
        axes[row, col].set_title(str(y_test[d]), fontsize=8)
        if d == q:
            for spine in axes[row, col].spines.values():
                spine.set_edgecolor("tab:green")
                spine.set_linewidth(3)
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()
plt.show()
