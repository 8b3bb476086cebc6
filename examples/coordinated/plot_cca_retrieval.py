"""
Coordinated representations with CCA: retrieving right halves from left halves
==============================================================================

:class:`skmultimodal.CCA` learns one linear map per view (here the left and right halves of
scikit-learn's digits) so that the two views' canonical variates are maximally correlated.
Because ``transform`` embeds whichever view a row has, a left half (query) and a right half
(database item) land in the same space, and cross-modal retrieval is a nearest-neighbour
search. The ridge ``reg`` is chosen without labels by ``GridSearchCV`` on the held-out
canonical correlation (:meth:`~skmultimodal.CCA.score`).
"""

import numpy as np
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neighbors import NearestNeighbors

from skmultimodal import CCA
from skmultimodal.datasets import load_digits_halves

digits = load_digits_halves()
X_train, X_test, y_train, y_test = train_test_split(
    digits.data, digits.target, test_size=0.3, random_state=0
)
search = GridSearchCV(CCA(n_components=10, modalities=digits.modalities),
                      {"reg": [0.0, 0.01, 0.1, 1.0]}, cv=3).fit(X_train)
cca = search.best_estimator_
print(f"reg chosen by held-out canonical correlation: {search.best_params_['reg']}")
print("training canonical correlations:", np.round(cca.canonical_correlations_, 3))
print(f"test mean canonical correlation: {cca.score(X_test):.3f}")

left, right = digits.modalities[0][1], digits.modalities[1][1]
queries, database = X_test.copy(), X_test.copy()
queries[:, right] = np.nan
database[:, left] = np.nan
Q, D = cca.transform(queries), cca.transform(database)
neighbours = NearestNeighbors(n_neighbors=10).fit(D).kneighbors(Q, return_distance=False)
own = (neighbours == np.arange(len(Q))[:, None]).any(axis=1).mean()
same_digit = (y_test[neighbours] == y_test[:, None]).mean()
print(f"left-half queries against {len(D)} right halves: recall@10 of the own half {own:.3f} "
      f"(chance {10 / len(D):.3f}); precision@10 of the same digit {same_digit:.3f}")
