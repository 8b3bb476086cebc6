"""
Multimodal DBN and DBM with a missing modality
==============================================

The same layers trained two ways (Srivastava & Salakhutdinov 2012): a
:class:`~skmultimodal.MultimodalDBN` is the greedy stack of plain RBMs read as a deep belief
net (the MDBN that Hu, Li & Lu 2016 train on MIR-Flickr), a
:class:`~skmultimodal.MultimodalDBM` pretrains the stack with doubled inputs and then trains
all layers jointly as one undirected model.

1. **Tags for untagged images** (synthetic data with the structure of MIR-Flickr,
   :func:`skmultimodal.datasets.make_multimodal_topics`): the tags of test images are
   missing; the DBN infers the text pathway's top in its joint RBM by mean-field and runs
   the text pathway down to the expected tag counts, the DBM infers all layers in one
   mean-field loop. ``top_words`` ranks the tags; precision@5 against the true tags.
2. **Digits from their left halves** (:func:`skmultimodal.datasets.load_digits_halves`):
   the right halves are missing at training time of the classifier and at test time; a
   logistic regression on each model's ``transform`` predicts the digit.

The DBN trains faster (no joint stage); the DBM's joint training, where every layer also
gets input from the layer above, gives the better cross-modal inference (the numbers are
printed below and drawn at the end). With numba's cache of compiled kernels warm, the
script takes about 5 s on 2 cores; the very first run of a DBM compiles its kernels, about
30 s more (see :ref:`scaling`).
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from skmultimodal import MultimodalDBM, MultimodalDBN
from skmultimodal.datasets import load_digits_halves, make_multimodal_topics

# %%
# 1. Tags for untagged images
# ---------------------------
n_image, n_tags = 30, 60
X, _ = make_multimodal_topics(3000, n_topics=6, n_image_features=n_image, n_tags=n_tags,
                              doc_length=8, noise=1.0, random_state=0)
X_train, X_test = X[:2000], X[2000:]
scaler = StandardScaler().fit(X_train[:, :n_image])  # Gaussian units have unit variance
X_train[:, :n_image] = scaler.transform(X_train[:, :n_image])
X_test[:, :n_image] = scaler.transform(X_test[:, :n_image])
untagged = X_test.copy()
untagged[:, n_image:] = np.nan
truth = X_test[:, n_image:] > 0

shared = dict(n_components=64, pathways=(64,),
              modalities=[("image", slice(0, n_image)), ("tags", slice(n_image, None))],
              visible_units=["gaussian", "replicated_softmax"], random_state=0)
models = {
    "MultimodalDBN": MultimodalDBN(n_iter=20, **shared),
    "MultimodalDBM": MultimodalDBM(n_iter_pretrain=20, n_iter=10, **shared),
}
print("Tags generated for untagged images (precision@5 over "
      f"{len(X_test)} test images)")
popular = np.argsort(-X_train[:, n_image:].sum(axis=0))[:5]
precision = {"most frequent tags": truth[:, popular].mean()}
print(f"  {'5 most frequent training tags':30s} {precision['most frequent tags']:.3f}")
for name, model in models.items():
    tic = time.perf_counter()
    model.fit(X_train)
    seconds = time.perf_counter() - tic
    top5 = model.top_words(untagged, k=5, modality="tags")
    precision[name] = np.take_along_axis(truth, top5, axis=1).mean()
    print(f"  {name:30s} {precision[name]:.3f}   "
          f"(fit {seconds:.1f}s)")
print(f"  held-out cross-modal log-likelihood of the DBN (its score): "
      f"{models['MultimodalDBN'].score(X_test):.2f} nats per row")

# %%
# 2. Digits from their left halves
# --------------------------------
X, y = load_digits_halves(return_X_y=True)
order = np.random.default_rng(0).permutation(len(X))
train, test = order[:1300], order[1300:]
X_left = X.copy()
X_left[:, 32:] = np.nan  # the right halves are missing
shared = dict(n_components=64, pathways=(64,), visible_units="binary", random_state=0)
models = {
    "MultimodalDBN": MultimodalDBN(learning_rate=0.1, n_iter=20, **shared),
    "MultimodalDBM": MultimodalDBM(learning_rate_pretrain=0.1, n_iter_pretrain=20, n_iter=5,
                                   **shared),
}
print("\nDigit accuracy of a logistic regression on the top layer (chance 0.10)")
print(f"  {'':16s} {'both halves':>12s} {'left half only':>15s}")
accuracy = {}
for name, model in models.items():
    model.fit(X[train])
    scores = []
    for data in (X, X_left):
        Z = model.transform(data)
        classifier = LogisticRegression(max_iter=3000).fit(Z[train], y[train])
        scores.append(classifier.score(Z[test], y[test]))
    accuracy[name] = scores
    print(f"  {name:16s} {scores[0]:12.3f} {scores[1]:15.3f}")

# %%
# The two comparisons side by side
# --------------------------------
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(9, 3.3))
bars = ax0.bar(list(precision), list(precision.values()),
               color=["tab:gray", "tab:blue", "tab:orange"])
ax0.bar_label(bars, fmt="%.3f", fontsize=8)
ax0.set_ylabel("precision@5")
ax0.set_title("tags generated for untagged images", fontsize=10)
for i, (name, scores) in enumerate(accuracy.items()):
    bars = ax1.bar(np.arange(2) + (i - 0.5) * 0.38, scores, 0.38, label=name,
                   color=["tab:blue", "tab:orange"][i])
    ax1.bar_label(bars, fmt="%.3f", fontsize=8)
ax1.set_xticks(np.arange(2), ["both halves", "left half only"])
ax1.set_ylim(0, 1)
ax1.set_ylabel("accuracy")
ax1.set_title("digits from their top layer", fontsize=10)
ax1.legend(fontsize=8, loc="lower left")
fig.tight_layout()
plt.show()
