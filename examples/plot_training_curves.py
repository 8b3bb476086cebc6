"""
Training curves: what each estimator records while it learns
=============================================================

Every iterative estimator of the package records a per-epoch curve in a fitted attribute,
so training can be checked after the fact (and ``verbose=1`` prints the same values as a
progress line per epoch). This example trains one of each family on the digit halves and
draws its curve:

- ``reconstruction_error_curve_`` of :class:`~skmultimodal.MultimodalRBM`,
  :class:`~skmultimodal.MinVIRBM` and :class:`~skmultimodal.MultimodalDBM` (a monitor, the
  mean squared error of a mean-field reconstruction; the DBM's during joint training);
- ``similarity_curve_`` of :class:`~skmultimodal.SSLRBM`, its similarity penalty;
- ``loss_curve_`` of :class:`~skmultimodal.DeepCCA` (the negative total correlation);
- ``loss_curve_`` and, with ``early_stopping=True``, ``validation_scores_`` of
  :class:`~skmultimodal.LargeMarginEmbedding` and :class:`~skmultimodal.RankingEmbedding`:
  training stops when the held-out score has not improved for ``n_iter_no_change`` epochs.
"""

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from skmultimodal import (
    SSLRBM,
    DeepCCA,
    LargeMarginEmbedding,
    MinVIRBM,
    MultimodalDBM,
    MultimodalRBM,
    RankingEmbedding,
)
from skmultimodal.datasets import load_digits_halves

X, y = load_digits_halves(return_X_y=True)
X_scaled = StandardScaler().fit_transform(X)
rbm = dict(n_components=64, visible_units="binary", learning_rate=0.1, batch_size=32,
           n_iter=30, random_state=0)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed budget of epochs
    models = {
        "MultimodalRBM": MultimodalRBM(**rbm).fit(X),
        "MinVIRBM": MinVIRBM(**rbm).fit(X),
        "SSLRBM": SSLRBM(alpha=0.1, **rbm).fit(X),
        "MultimodalDBM": MultimodalDBM(n_components=64, pathways=(64,),
                                       visible_units="binary", learning_rate_pretrain=0.1,
                                       n_iter_pretrain=20, n_iter=20,
                                       random_state=0).fit(X),
        "DeepCCA": DeepCCA(n_components=10, hidden_layer_sizes=(64,), max_iter=100,
                           random_state=0).fit(X),
        "LargeMarginEmbedding": LargeMarginEmbedding(n_components=32, early_stopping=True,
                                                     random_state=0).fit(X_scaled, y),
        "RankingEmbedding": RankingEmbedding(n_components=16, hidden_layer_sizes=(64,),
                                             early_stopping=True,
                                             random_state=0).fit(X_scaled),
    }
for name, model in models.items():
    print(f"{name:22s} {model.n_iter_:4d} epochs or iterations")

# %%
# The curves
# ----------
fig, axes = plt.subplots(2, 3, figsize=(10, 5.6))
ax = axes[0, 0]
for name in ("MultimodalRBM", "MinVIRBM", "MultimodalDBM"):
    curve = models[name].reconstruction_error_curve_
    ax.plot(np.arange(1, len(curve) + 1), curve, label=name)
ax.set_title("reconstruction_error_curve_", fontsize=9)
ax.legend(fontsize=7)
ax = axes[0, 1]
ax.plot(models["SSLRBM"].similarity_curve_)
ax.set_title("SSLRBM similarity_curve_", fontsize=9)
ax = axes[0, 2]
ax.plot(models["DeepCCA"].loss_curve_)
ax.set_title("DeepCCA loss_curve_", fontsize=9)
for ax, name in zip(axes[1, :2], ("LargeMarginEmbedding", "RankingEmbedding")):
    model = models[name]
    ax.plot(model.loss_curve_, color="tab:blue")
    ax.set_title(name, fontsize=9)
    ax.set_ylabel("training loss", color="tab:blue", fontsize=8)
    twin = ax.twinx()
    twin.plot(model.validation_scores_, color="tab:orange")
    twin.set_ylabel("validation score", color="tab:orange", fontsize=8)
axes[1, 2].set_axis_off()
for ax in axes.ravel()[:5]:
    ax.set_xlabel("epoch", fontsize=8)
axes[0, 2].set_xlabel("L-BFGS iteration", fontsize=8)
fig.tight_layout()
plt.show()
