"""
Cross-modal retrieval with a ranking embedding
==============================================

:class:`~skmultimodal.RankingEmbedding` maps two modalities (here the left and right halves
of scikit-learn's digits, standing in for images and their captions) into one space with a
bidirectional hinge ranking loss over cosine similarities (seed 003): each pair must be more
similar than the other pairs of its mini-batch by a margin. Because ``transform`` embeds
whichever modality a row has (the other block set to NaN), retrieving right halves from left
halves is a nearest-neighbour search between two transforms.

The network size is chosen by ``GridSearchCV`` on the label-free :meth:`score` (mean
Recall@1/5/10 of the true partner), and Recall@K and the median rank are reported for both
directions with the linear CCA as a reference.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmultimodal import CCA, RankingEmbedding
from skmultimodal.datasets import load_digits_halves
from skmultimodal.metrics import median_rank, recall_at_k
from skmultimodal.retrieval import nearest_neighbors

warnings.filterwarnings("ignore", category=ConvergenceWarning)  # 100 epochs suffice here
digits = load_digits_halves()
X_train, X_test = train_test_split(digits.data, test_size=0.3, random_state=0)
pipe = make_pipeline(StandardScaler(),
                     RankingEmbedding(n_components=16, modalities=digits.modalities,
                                      random_state=0))
search = GridSearchCV(pipe, {"rankingembedding__hidden_layer_sizes": [(), (64,)]},
                      cv=3).fit(X_train)
linear, mlp = search.cv_results_["mean_test_score"]
print(f"mean held-out score: linear {linear:.3f}, one hidden layer of 64 {mlp:.3f}")
models = {
    "RankingEmbedding": search.best_estimator_,
    "RankingEmbedding, VSE++": make_pipeline(StandardScaler(), RankingEmbedding(
        n_components=16, modalities=digits.modalities, hidden_layer_sizes=(64,),
        max_violation=True, random_state=0)).fit(X_train),
    "CCA": make_pipeline(StandardScaler(), CCA(n_components=16,
                                               modalities=digits.modalities)).fit(X_train),
}

left, right = digits.modalities[0][1], digits.modalities[1][1]
queries, database = X_test.copy(), X_test.copy()
queries[:, right] = np.nan  # left halves only
database[:, left] = np.nan  # right halves only
print(f"\n{len(X_test)} held-out digits: left half -> right half, and back")
print(f"{'model':26s} {'R@1':>5s} {'R@5':>5s} {'R@10':>5s} {'MedR':>5s} | {'R@1':>5s} "
      f"{'R@5':>5s} {'R@10':>5s} {'MedR':>5s}")
for name, model in models.items():
    Q, D = model.transform(queries), model.transform(database)
    row = []
    for q, d in ((Q, D), (D, Q)):
        ranking = nearest_neighbors(q, d, n_neighbors=None)[1]
        row += [100 * recall_at_k(ranking, k=k) for k in (1, 5, 10)] + [median_rank(ranking)]
    print(f"{name:26s} " + " ".join(f"{v:5.1f}" for v in row[:4]) + " | "
          + " ".join(f"{v:5.1f}" for v in row[4:]))
