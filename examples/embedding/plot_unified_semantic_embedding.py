"""
Few-shot classification with a class hierarchy and attributes (USE)
===================================================================

:class:`~skmultimodal.UnifiedSemanticEmbedding` (Hwang & Sigal 2014) is a
large-margin label embedding that also knows how the classes relate: a taxonomy (each sample
should be closer to its superclass than to the other superclasses) and attributes (each class
embedding is its parent's plus a sparse combination of attribute embeddings). With only two
training images per class, this knowledge transfers between classes.

The data come from :func:`~skmultimodal.datasets.make_hierarchical_classification`: 24
classes in 4 superclasses, each class described by 3 of 8 attributes. Flat hit@k and the
hierarchical precision@k of DeViSE (a top-k guess counts if it is the true class or close to
it in the taxonomy) are compared with :class:`~skmultimodal.LargeMarginEmbedding`, and the
learned attribute combination of a few classes is printed next to their true attributes.
"""

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from skmultimodal import LargeMarginEmbedding, UnifiedSemanticEmbedding
from skmultimodal.datasets import make_hierarchical_classification
from skmultimodal.metrics import hierarchical_precision_at_k, hit_at_k

# With two images per class the training hinge is soon zero and the regularisers keep
# shrinking the embeddings slowly: the default budget of 100 epochs stops that early on
# purpose (it acts as a regulariser), so the "not converged" warning is expected here.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

results = {"LME": [], "USE": []}
for seed in range(5):
    X, y, hierarchy, attributes = make_hierarchical_classification(
        n_samples=3000, n_superclasses=4, n_classes_per_superclass=6, n_attributes=8,
        noise=2.0, class_scale=0.2, random_state=seed)
    rng = np.random.default_rng(seed)
    train = np.concatenate([rng.choice(np.flatnonzero(y == c), 2, replace=False)
                            for c in range(attributes.shape[0])])  # two images per class
    test = np.setdiff1d(np.arange(y.size), train)
    X = StandardScaler().fit(X[train]).transform(X)
    models = {
        "LME": LargeMarginEmbedding(random_state=seed),
        "USE": UnifiedSemanticEmbedding(class_hierarchy=hierarchy,
                                        class_attributes=attributes, random_state=seed),
    }
    for name, model in models.items():
        model.fit(X[train], y[train])
        scores = model.decision_function(X[test])
        results[name].append(
            [hit_at_k(y[test], scores, k=k, labels=model.classes_) for k in (1, 5)]
            + [hierarchical_precision_at_k(y[test], scores, hierarchy=hierarchy, k=k,
                                           labels=model.classes_) for k in (2, 5)])

print("2 training images per class, 24 classes, mean of 5 seeds (%)")
print(f"{'model':5s} {'hit@1':>6s} {'hit@5':>6s} {'hp@2':>6s} {'hp@5':>6s}")
for name, rows in results.items():
    print(f"{name:5s} " + " ".join(f"{100 * v:6.1f}" for v in np.mean(rows, axis=0)))

use = models["USE"]
print("\nEach class = its superclass + a sparse combination of attributes "
      "(attribute_weights_, last seed):")
for c in range(4):
    used = {j: round(float(w), 2) for j, w in enumerate(use.attribute_weights_[c]) if w != 0}
    print(f"class {c} ({hierarchy[c]}): true attributes {np.flatnonzero(attributes[c]).tolist()}"
          f", learned weights {used}")

# %%
# The attributes each class embedding is built from
# -------------------------------------------------
# Left, which attributes each class has; right, the sparse attribute weights USE learned for
# each class (``attribute_weights_``; red positive, blue negative).
fig, axes = plt.subplots(1, 2, figsize=(9, 5), sharey=True)
axes[0].imshow(attributes, cmap="Greys", aspect="auto")
axes[0].set_title("true class attributes")
limit = np.abs(use.attribute_weights_).max()
axes[1].imshow(use.attribute_weights_, cmap="RdBu_r", vmin=-limit, vmax=limit,
               aspect="auto")
axes[1].set_title("learned attribute_weights_")
for ax in axes:
    ax.set_xlabel("attribute")
axes[0].set_ylabel("class")
plt.show()
