"""
Semantic-similarity regularisation of a multimodal RBM (SSLRBM)
===============================================================

Seed 002 adds to the RBM's likelihood a penalty ``alpha * sim(H^x, H^y)`` that asks the hidden
activations given each modality alone to agree (:class:`~skmultimodal.SSLRBM`). Here each
8x8 digit is two modalities, its left and right halves; models with each similarity and the
unregularised one (``alpha=0``, exactly :class:`~skmultimodal.MultimodalRBM`) are trained
alike, and for each the script prints

- the penalty on the test images (the function the estimator trains with, ``similarity_penalty``;
  lower means the two modalities' activations agree more), and the same quantity for the
  ``alpha=0`` model;
- the accuracy of a logistic regression on the joint representation with both halves and
  with one half missing (inferred by mean-field).

Every penalty ends below its value for the unregularised model: the halves' activations
agree more. On these tiny images the effect on the accuracy with a half missing is small and
mixed (the left half gains, the right half does not); ``benchmarks/mnist_halves.py`` measures
it on MNIST, where the cross-entropies lower the one-half errors.
"""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from skmultimodal import SSLRBM
from skmultimodal.boltzmann._ssl import similarity_penalty
from skmultimodal.datasets import load_digits_halves

digits = load_digits_halves()
X_train, X_test, y_train, y_test = train_test_split(
    digits.data, digits.target, test_size=0.3, random_state=0, stratify=digits.target
)
left, right = digits.modalities[0][1], digits.modalities[1][1]
params = dict(n_components=128, modalities=digits.modalities, visible_units="binary",
              learning_rate=0.1, batch_size=32, n_iter=30, random_state=0)


def hide(X, columns):
    X = X.copy()
    X[:, columns] = np.nan
    return X


alpha = 0.1  # seed 002's lambda
plain = SSLRBM(alpha=0.0, **params).fit(X_train)
print(f"{'model':26s} {'penalty':>8s} {'alpha=0':>8s} {'both':>6s} {'left':>6s} {'right':>6s}")
for similarity in ("cross_entropy_xy", "cross_entropy_yx", "cca"):
    model = SSLRBM(alpha=alpha, similarity=similarity, cca_reg=0.1, **params).fit(X_train)
    penalty = similarity_penalty(model._model(), X_test, similarity, 0.1)
    baseline = similarity_penalty(plain._model(), X_test, similarity, 0.1)
    clf = LogisticRegression(max_iter=2000).fit(model.transform(X_train), y_train)
    accuracy = [clf.score(model.transform(X), y_test)
                for X in (X_test, hide(X_test, right), hide(X_test, left))]
    print(f"{similarity + f' (alpha={alpha:g})':26s} {penalty:8.3f} "
          f"{baseline:8.3f} " + " ".join(f"{a:6.3f}" for a in accuracy))

clf = LogisticRegression(max_iter=2000).fit(plain.transform(X_train), y_train)
accuracy = [clf.score(plain.transform(X), y_test)
            for X in (X_test, hide(X_test, right), hide(X_test, left))]
print(f"{'alpha=0 (MultimodalRBM)':26s} {'':8s} {'':8s} " + " ".join(f"{a:6.3f}" for a in accuracy))
