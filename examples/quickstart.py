"""
Quick start: a joint representation of two modalities and cross-modal retrieval
===============================================================================

The digits shipped with scikit-learn, cut into left and right halves, are two modalities.
A :class:`skmultimodal.MultimodalRBM` learns one joint representation from both. Because
``transform`` maps whatever modalities a row has into the same space, cross-modal retrieval is
a nearest-neighbour search: embed left halves alone (queries) and right halves alone (the
database) and look for each query's own right half among the database's nearest neighbours.
"""

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestNeighbors

from skmultimodal import MultimodalRBM
from skmultimodal.datasets import load_digits_halves

digits = load_digits_halves()
X_train, X_test, y_train, y_test = train_test_split(
    digits.data, digits.target, test_size=0.3, random_state=0
)
rbm = MultimodalRBM(n_components=128, modalities=digits.modalities, visible_units="binary",
                    learning_rate=0.1, n_iter=30, batch_size=32, random_state=0)
rbm.fit(X_train)
print(f"trained {rbm.n_iter_} epochs; reconstruction error "
      f"{rbm.reconstruction_error_curve_[0]:.4f} -> {rbm.reconstruction_error_curve_[-1]:.4f}")

left, right = digits.modalities[0][1], digits.modalities[1][1]
queries = X_test.copy()
queries[:, right] = np.nan  # left halves only
database = X_test.copy()
database[:, left] = np.nan  # right halves only

Q, D = rbm.transform(queries), rbm.transform(database)
neighbours = NearestNeighbors(n_neighbors=10).fit(D).kneighbors(Q, return_distance=False)
own_half_found = (neighbours == np.arange(len(Q))[:, None]).any(axis=1).mean()
same_digit = (y_test[neighbours] == y_test[:, None]).mean()
print(f"left-half queries, right-half database of {len(D)}:")
print(f"  recall@10 of the query's own right half: {own_half_found:.3f} (chance {10 / len(D):.3f})")
print(f"  precision@10 of right halves of the same digit: {same_digit:.3f} (chance ~0.100)")
