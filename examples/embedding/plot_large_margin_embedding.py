"""
Large-margin label embedding of the digits
==========================================

:class:`~skmultimodal.LargeMarginEmbedding` maps every image into a space where each class
also has an embedding, and trains both so that an image is closer to its own class than to
any other by a margin (the ranking hinge of seed 004, sampled WSABIE/WARP-style). It is a
classifier (``predict``: nearest class embedding) and a transformer (``transform``: the
image's embedding ``W x``), so it slots into a Pipeline next to a StandardScaler.

Here it is compared with a logistic regression on the same standardised pixels, trained in
one go and by streaming the data through ``partial_fit``, and a two-dimensional embedding is
drawn with the class embeddings (matplotlib optional).
"""

import numpy as np
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

# A two-dimensional embedding to look at: images and the ten class embeddings.
flat = make_pipeline(StandardScaler(),
                     LargeMarginEmbedding(n_components=2, max_iter=200, random_state=0))
flat.fit(X_train, y_train)
print(f"2-d embedding test accuracy {flat.score(X_test, y_test):.3f}")

try:
    import matplotlib.pyplot as plt
except ImportError:  # the numbers above are the example; the figure needs matplotlib
    plt = None

if plt is not None:
    Z = flat.transform(X_test)
    U = flat[-1].class_embeddings_
    fig, ax = plt.subplots(figsize=(6, 6))
    points = ax.scatter(Z[:, 0], Z[:, 1], c=y_test, cmap="tab10", s=8, alpha=0.6)
    for digit, (u0, u1) in enumerate(U):
        ax.text(u0, u1, str(digit), fontsize=16, weight="bold", ha="center", va="center")
    ax.set_title("LME: test images (dots) and class embeddings (digits)")
    fig.colorbar(points, ax=ax)
    plt.show()
