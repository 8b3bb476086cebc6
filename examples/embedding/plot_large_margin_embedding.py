"""
Large-margin label embedding of the digits
==========================================

:class:`~skmultimodal.LargeMarginEmbedding` maps every image into a space where each class
also has an embedding, and trains both so that an image is closer to its own class than to
any other by a margin (the ranking hinge of large-margin label embeddings, with negatives
sampled as in WSABIE's WARP loss, Weston, Bengio & Usunier 2011). It is a
classifier (``predict``: nearest class embedding) and a transformer (``transform``: the
image's embedding ``W x``), so it slots into a Pipeline next to a StandardScaler.

Here it is compared with a logistic regression on the same standardised pixels, trained in
one go and by streaming the data through ``partial_fit``, and the learned space is drawn:
the test images and the ten class embeddings, projected to two dimensions.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmultimodal import LargeMarginEmbedding

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0,
                                                    stratify=y)

logistic = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
lme = make_pipeline(StandardScaler(), LargeMarginEmbedding(n_components=32, random_state=0))
for name, model in [("logistic regression", logistic), ("large-margin embedding", lme)]:
    model.fit(X_train, y_train)
    print(f"{name:24s} test accuracy {model.score(X_test, y_test):.3f}")
embedding = lme[-1]
print(f"LME: {embedding.n_iter_} epochs, final loss {embedding.loss_curve_[-1]:.3f}; "
      f"coef_ {embedding.coef_.shape}, class_embeddings_ {embedding.class_embeddings_.shape}")
proba = lme.predict_proba(X_test[:3])
print("predict_proba (softmax of negative squared distances) of 3 test images:")
print(np.round(proba, 2))

# Streaming: chunks of 200 images through partial_fit, all classes announced first.
scaler = StandardScaler().fit(X_train)
stream = LargeMarginEmbedding(n_components=32, random_state=0)
for epoch in range(5):
    for start in range(0, len(X_train), 200):
        chunk = slice(start, start + 200)
        stream.partial_fit(scaler.transform(X_train[chunk]), y_train[chunk],
                           classes=np.arange(10))
print(f"partial_fit, 5 passes in chunks of 200: test accuracy "
      f"{stream.score(scaler.transform(X_test), y_test):.3f}")

# %%
# The learned space
# -----------------
# The 32-dimensional embeddings ``W x`` of the test images and the class embeddings
# (``class_embeddings_``), projected on the two principal axes of the class embeddings.
# Each class label sits at the centre of its images. The stars are the class embeddings:
# shrunk towards the origin by their penalty ``alpha_U``, they are joined to their labels by
# a thin line; the images of a class lie in the direction of its embedding.
Z = lme.transform(X_test)
pca = PCA(n_components=2).fit(embedding.class_embeddings_)
Z2, U2 = pca.transform(Z), pca.transform(embedding.class_embeddings_)
colors = plt.get_cmap("tab10")(np.arange(10))
fig, ax = plt.subplots(figsize=(6.5, 6))
ax.scatter(Z2[:, 0], Z2[:, 1], c=colors[y_test], s=8, alpha=0.5)
ax.scatter(U2[:, 0], U2[:, 1], c=colors, marker="*", s=140, edgecolors="k", linewidths=0.8,
           zorder=3)
for digit in range(10):
    centre = np.median(Z2[y_test == digit], axis=0)
    ax.plot([U2[digit, 0], centre[0]], [U2[digit, 1], centre[1]], color=colors[digit],
            linewidth=1)
    ax.annotate(str(digit), centre, fontsize=15, weight="bold", ha="center", va="center",
                color=colors[digit],
                bbox=dict(boxstyle="circle,pad=0.25", facecolor="white", alpha=0.85,
                          edgecolor=colors[digit]))
ax.set_xlabel("first principal axis")
ax.set_ylabel("second principal axis")
ax.set_title("LME: test images (dots), class embeddings (stars), class labels")
fig.tight_layout()
plt.show()
