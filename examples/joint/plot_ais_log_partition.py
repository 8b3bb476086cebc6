"""
The partition function of a Boltzmann machine by annealed importance sampling
=============================================================================

The likelihood of a Boltzmann machine needs its partition function ``Z``, a sum over every
joint state of the units. :meth:`~skmultimodal.MultimodalDBM.log_partition` estimates
``log Z`` by annealed importance sampling (AIS; Salakhutdinov & Murray 2008, applied to
deep Boltzmann machines by Salakhutdinov & Hinton 2009): ``n_runs`` chains move from a
simple base-rate model to the trained model through ``n_betas`` intermediate
distributions, and the mean of their importance weights estimates ``Z``. The result comes
with its spread (three standard errors of the mean weight): the estimate and the spread
narrow as the path gets finer.

1. A model small enough to enumerate: 16 binary pixels (the digits pooled to 4x2 halves)
   and 10 hidden units, whose exact ``log Z`` is a sum over the ``2^16`` visible states of
   ``exp(-free_energy)``. AIS converges to it.
2. A deep Boltzmann machine on the full 8x8 digit halves, where only AIS can tell ``log Z``;
   with it, :meth:`~skmultimodal.MultimodalDBM.score_samples` gives a lower bound of each
   test digit's log-likelihood.
"""

# %%
import itertools

import matplotlib.pyplot as plt
import numpy as np
from scipy.special import logsumexp

from skmultimodal import MultimodalDBM
from skmultimodal.datasets import load_digits_halves

X, y = load_digits_halves(return_X_y=True)


def pool(half):
    """8x4 half images to 4x2 binary images (mean of 2x2 blocks above 0.35)."""
    return (half.reshape(-1, 4, 2, 2, 2).mean(axis=(2, 4)) > 0.35).reshape(-1, 8)


X_small = np.hstack([pool(X[:, :32]), pool(X[:, 32:])]).astype(float)
small = MultimodalDBM(n_components=10, pathways=(), visible_units="binary",
                      learning_rate=0.05, n_iter_pretrain=20, n_iter=20,
                      random_state=0).fit(X_small)

# With one hidden layer the free energy is exact, so log Z = logsumexp(-F(v)) over all v.
states = np.array(list(itertools.product([0.0, 1.0], repeat=X_small.shape[1])))
exact = logsumexp(-small.free_energy(states))
print(f"exact log Z of the small model: {exact:.4f}")

n_betas = [10, 30, 100, 300, 1000]
estimates = {"small": [], "deep": []}
for n in n_betas:
    estimates["small"].append(small.log_partition(n_betas=n, n_runs=100, random_state=0))
    result = estimates["small"][-1]
    print(f"  {n:5d} betas: {result.log_z:.4f} in [{result.log_z_low:.4f}, "
          f"{result.log_z_high:.4f}]")

# %%
# A deep Boltzmann machine on the digit halves
# --------------------------------------------
X_train, X_test = X[:1300], X[1300:]
deep = MultimodalDBM(n_components=64, pathways=(64,), visible_units="binary",
                     learning_rate_pretrain=0.1, n_iter_pretrain=20, n_iter=10,
                     n_ais_betas=1000, random_state=0).fit(X_train)
for n in n_betas:
    estimates["deep"].append(deep.log_partition(X_train, n_betas=n, n_runs=100,
                                                random_state=0))
    result = estimates["deep"][-1]
    print(f"  {n:5d} betas: {result.log_z:.2f} in [{result.log_z_low:.2f}, "
          f"{result.log_z_high:.2f}]")
bound = deep.score_samples(X_test).mean()
print(f"held-out lower bound of log p(v) (n_ais_betas={deep.n_ais_betas}): {bound:.2f} "
      "nats per digit")

# %%
# The estimates and their spread
# ------------------------------
# Each point is the AIS estimate of 100 runs, the bar its spread; the exact value is the
# dashed line. With few intermediate distributions the spread is wide (and may miss the
# truth); it narrows around the exact value as ``n_betas`` grows.
fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
for ax, (name, results) in zip(axes, estimates.items()):
    log_z = np.array([r.log_z for r in results])
    low = np.array([r.log_z_low for r in results])
    high = np.array([r.log_z_high for r in results])
    ax.errorbar(n_betas, log_z, yerr=[log_z - low, high - log_z], fmt="o", capsize=3)
    ax.set_xscale("log")
    ax.set_xlabel("intermediate distributions (n_betas)")
axes[0].axhline(exact, color="k", linestyle="--", label="exact (enumeration)")
axes[0].legend(fontsize=8)
axes[0].set_ylabel("log Z")
axes[0].set_title("16 pixels, 10 hidden units", fontsize=10)
axes[1].set_title("DBM on digit halves (64 units per half, 64 on top)", fontsize=10)
fig.suptitle("AIS estimates of log Z with three standard errors")
fig.tight_layout()
plt.show()
