"""
Cross-modal retrieval with a ranking embedding
==============================================

:class:`~skmultimodal.RankingEmbedding` maps two modalities (here the left and right halves
of scikit-learn's digits, standing in for images and their captions) into one space with a
bidirectional hinge ranking loss over cosine similarities (Kiros, Salakhutdinov & Zemel
2014): each pair must be more similar than the other pairs of its mini-batch by a margin;
with ``max_violation=True`` only the hardest negative of each pair counts (VSE++, Faghri et
al. 2018). Because ``transform`` embeds
whichever modality a row has (the other block set to NaN), retrieving right halves from left
halves is a nearest-neighbour search between two transforms.

The network size is chosen by ``GridSearchCV`` on the label-free :meth:`score` (mean
Recall@1/5/10 of the true partner), and Recall@K and the median rank are reported for both
directions with the linear CCA as a reference.
"""

# %%
import warnings

import matplotlib.pyplot as plt
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
rankings = {}
for name, model in models.items():
    Q, D = model.transform(queries), model.transform(database)
    row = []
    for q, d in ((Q, D), (D, Q)):
        ranking = nearest_neighbors(q, d, n_neighbors=None)[1]
        rankings.setdefault(name, ranking)  # the left -> right ranking, for the figure
        row += [100 * recall_at_k(ranking, k=k) for k in (1, 5, 10)] + [median_rank(ranking)]
    print(f"{name:26s} " + " ".join(f"{v:5.1f}" for v in row[:4]) + " | "
          + " ".join(f"{v:5.1f}" for v in row[4:]))

# %%
# Recall@k and training
# ---------------------
# Left: recall@k of left halves retrieving their own right half, for k up to 50. Right:
# the training loss per epoch of the two ranking embeddings (``loss_curve_``; the VSE++
# loss counts one hardest negative per pair, so it is on a smaller scale).
ks = np.arange(1, 51)
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(9, 3.4))
for name, ranking in rankings.items():
    ax0.plot(ks, [recall_at_k(ranking, k=k) for k in ks], label=name)
ax0.set_xlabel("k")
ax0.set_ylabel("recall@k, left -> right")
ax0.legend(fontsize=8)
for name in ("RankingEmbedding", "RankingEmbedding, VSE++"):
    curve = models[name][-1].loss_curve_
    ax1.plot(np.arange(1, len(curve) + 1), curve, label=name)
ax1.set_xlabel("epoch")
ax1.set_ylabel("training loss")
ax1.set_yscale("log")
ax1.legend(fontsize=8)
fig.tight_layout()
plt.show()
