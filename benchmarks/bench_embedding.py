"""Joint embeddings: speed of LME's WARP epochs and quality of LME, USE and RankingEmbedding.

Speed. ``LargeMarginEmbedding`` epochs (``partial_fit`` over the whole training set, after a
first call) against the lower bound of the same epoch's work: the matrix products per
mini-batch, ``Z = X_b W^T`` and ``grad_W = grad_Z^T X_b`` (with the row gather), plus those
with the class embeddings the mode needs (see ``gemm_epoch``), timed in the same run on the
same batches. WARP (``sampling="warp"``) against the sum over all classes
(``"all"``) as the number of classes grows. LightFM's WARP is the natural peer; it is used
when ``import lightfm`` works (``pip install lightfm`` 1.17 does not build on this Python:
its setup.py fails with ``'dict' object has no attribute '__LIGHTFM_SETUP__'``).

Quality.

1. ``load_digits`` (standardised, stratified 70/30 splits): accuracy of LME (euclidean and
   cosine, WARP and all-class sum) against ``LogisticRegression`` on the same features.
2. The synthetic hierarchy of ``make_hierarchical_classification`` (24 classes in 4
   superclasses, 8 attributes, noise 2): flat hit@k and hierarchical precision@k (DeViSE
   form, ``skmultimodal.metrics``) of LME and USE variants with 2, 5 and 20 training samples
   per class, beside the AwA results of Hwang & Sigal (2014).
3. ``load_digits_halves``: left-half <-> right-half retrieval of held-out images (R@1, R@5,
   R@10 both ways, median rank) for CCA and RankingEmbedding (linear / one hidden layer;
   the hinge summed over the negatives (Kiros, Salakhutdinov & Zemel 2014), the hinge of
   the hardest negative (VSE++, Faghri et al. 2018), and CLIP's symmetric InfoNCE with a
   learned temperature (Radford et al. 2021)).

Everything runs with BLAS limited to one thread (threadpoolctl), so that the epoch and the
GEMM lower bound are timed alike and other jobs on the machine disturb less.

Run ``python benchmarks/bench_embedding.py [--quick]``; ``--quick`` (under a minute on two
cores) uses a smaller speed problem and fewer seeds.
"""

import argparse
import os
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils import gen_batches
from threadpoolctl import threadpool_limits

from skmultimodal import CCA
from skmultimodal.datasets import load_digits_halves, make_hierarchical_classification
from skmultimodal.embedding import (
    LargeMarginEmbedding,
    RankingEmbedding,
    UnifiedSemanticEmbedding,
)
from skmultimodal.metrics import hierarchical_precision_at_k, hit_at_k, median_rank, recall_at_k
from skmultimodal.retrieval import nearest_neighbors

warnings.simplefilter("ignore", ConvergenceWarning)


def lightfm_status():
    try:
        import lightfm  # noqa: F401
    except ImportError as exc:
        return f"LightFM not available ({exc}); `pip install lightfm` 1.17 fails to build here"
    return "LightFM imports"


# -- speed ------------------------------------------------------------------------------------


def clustered(n, n_features, n_classes, seed):
    rng = np.random.default_rng(seed)
    means = rng.standard_normal((n_classes, n_features))
    y = rng.integers(0, n_classes, n)
    return (means[y] + 2.0 * rng.standard_normal((n, n_features))).astype(np.float32), y


def gemm_epoch(X, W, U, batch_size, order, n_class_products):
    """The matrix products of one epoch: ``X_b W^T``, ``G^T X_b`` and, per batch,
    ``n_class_products`` products of the batch's embeddings with the class embeddings
    (1 for WARP's similarity matrix, 3 for the all-class sum: ``Z U^T``, ``M U``,
    ``M^T Z``; 0 for WARP's per-draw similarities beyond 2**22 batch x class entries)."""
    tic = time.perf_counter()
    for batch in gen_batches(X.shape[0], batch_size):
        Xb = X[order[batch]]
        Z = Xb @ W.T
        Z.T @ Xb
        for _ in range(n_class_products):
            Z @ U.T
    return time.perf_counter() - tic


def speed(quick):
    n, n_features, d = (20000, 256, 64) if quick else (100000, 512, 128)
    epochs = 2 if quick else 3
    print(f"\nLME epoch time vs the bare matrix products (n={n}, {n_features} features, "
          f"d={d}, float32, {epochs} epochs after a first partial_fit)")
    print(f"{'classes':>7s} {'sampling':>8s} {'batch':>5s} {'epoch s':>8s} {'GEMM s':>7s} "
          f"{'ratio':>6s} {'train acc':>9s}")
    for n_classes in ((10, 1000) if quick else (10, 100, 1000, 10000)):
        X, y = clustered(n, n_features, n_classes, 0)
        for sampling in ("warp", "all"):
            for batch_size in (64, 512):
                if sampling == "all" and batch_size == 64 and n_classes >= 1000:
                    continue
                if sampling == "warp" and batch_size * n_classes > 2**22:
                    # per-draw similarities: a row without violator costs n_classes - 1 dot
                    # products in numba, minutes per epoch here; skipped
                    continue
                # the all-class sum's gradient grows with the number of violators
                rate = 0.001 if sampling == "warp" else 0.001 * min(1.0, 1000 / n_classes)
                est = LargeMarginEmbedding(n_components=d, sampling=sampling,
                                           batch_size=batch_size, learning_rate=rate,
                                           random_state=0)
                est.partial_fit(X, y, classes=np.arange(n_classes))
                tic = time.perf_counter()
                for _ in range(epochs):
                    est.partial_fit(X, y)
                per_epoch = (time.perf_counter() - tic) / epochs
                order = np.random.default_rng(0).permutation(n)
                products = {"all": 3, "warp": 1 if batch_size * n_classes <= 2**22 else 0}[
                    sampling]
                gemm = min(gemm_epoch(X, est.coef_, est.class_embeddings_, batch_size, order,
                                      products) for _ in range(epochs))
                accuracy = est.score(X[:5000], y[:5000])
                print(f"{n_classes:7d} {sampling:>8s} {batch_size:5d} {per_epoch:8.3f} "
                      f"{gemm:7.3f} {per_epoch / gemm:6.1f} {accuracy:9.3f}")
    print(lightfm_status())


# -- quality: digits --------------------------------------------------------------------------


def digits(seeds):
    X, y = load_digits(return_X_y=True)
    variants = {
        "LogisticRegression": lambda s: LogisticRegression(max_iter=2000),
        "LME euclidean warp": lambda s: LargeMarginEmbedding(random_state=s),
        "LME euclidean all": lambda s: LargeMarginEmbedding(sampling="all", random_state=s),
        "LME cosine warp": lambda s: LargeMarginEmbedding(metric="cosine", random_state=s),
        "LME euclidean warp, early stopping": lambda s: LargeMarginEmbedding(
            early_stopping=True, max_iter=300, random_state=s),
    }
    results = {name: [] for name in variants}
    times = {name: [] for name in variants}
    for seed in seeds:
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3,
                                                            random_state=seed, stratify=y)
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
        for name, make in variants.items():
            tic = time.perf_counter()
            model = make(seed).fit(X_train, y_train)
            times[name].append(time.perf_counter() - tic)
            results[name].append(model.score(X_test, y_test))
    print(f"\nload_digits test accuracy, {len(seeds)} stratified 70/30 splits "
          "(standardised pixels, defaults, n_components=32)")
    print(f"{'model':38s} {'accuracy':>16s} {'fit s':>6s}")
    for name in variants:
        acc = np.array(results[name])
        print(f"{name:38s} {acc.mean():8.4f} +- {acc.std():.4f} {np.mean(times[name]):6.2f}")


# -- quality: few-shot on the synthetic hierarchy ---------------------------------------------


def few_shot(seeds, shot_list):
    ks = (1, 2, 5)
    variants = {
        "LME": lambda h, A, s: LargeMarginEmbedding(random_state=s),
        "USE hierarchy only": lambda h, A, s: UnifiedSemanticEmbedding(
            class_hierarchy=h, random_state=s),
        "USE attributes only": lambda h, A, s: UnifiedSemanticEmbedding(
            class_attributes=A, random_state=s),
        "USE-No Reg. (semantic_reg=0)": lambda h, A, s: UnifiedSemanticEmbedding(
            class_hierarchy=h, class_attributes=A, semantic_reg=0.0, random_state=s),
        "USE (hierarchy + attributes)": lambda h, A, s: UnifiedSemanticEmbedding(
            class_hierarchy=h, class_attributes=A, random_state=s),
    }
    print("\nSynthetic hierarchy (24 classes, 4 superclasses, 8 attributes, noise 2; "
          f"mean over {len(seeds)} seeds, in %)")
    print(f"{'shots':>5s} {'model':30s} " + " ".join(f"{'hit@' + str(k):>6s}" for k in ks)
          + " " + " ".join(f"{'hp@' + str(k):>6s}" for k in ks[1:]))
    for shots in shot_list:
        table = {name: [] for name in variants}
        for seed in seeds:
            X, y, h, A = make_hierarchical_classification(
                n_samples=3000, n_superclasses=4, n_classes_per_superclass=6, n_attributes=8,
                noise=2.0, class_scale=0.2, random_state=seed)
            rng = np.random.default_rng(seed)
            train = np.concatenate([rng.choice(np.flatnonzero(y == c), shots, replace=False)
                                    for c in range(A.shape[0])])
            test = np.setdiff1d(np.arange(y.size), train)
            X = StandardScaler().fit(X[train]).transform(X)
            for name, make in variants.items():
                model = make(h, A, seed).fit(X[train], y[train])
                scores = model.decision_function(X[test])
                row = [hit_at_k(y[test], scores, k=k, labels=model.classes_) for k in ks]
                row += [hierarchical_precision_at_k(y[test], scores, hierarchy=h, k=k,
                                                    labels=model.classes_) for k in ks[1:]]
                table[name].append(row)
        for name in variants:
            values = 100 * np.mean(table[name], axis=0)
            print(f"{shots:5d} {name:30s} " + " ".join(f"{v:6.1f}" for v in values))
    print("AwA results of Hwang & Sigal (2014), all samples: LME 44.76 / 58.08 / 75.11 "
          "hit@1/2/5, 44.84 / 49.87 hp@2/5; USE-No Reg. 45.93 / 59.37 / 74.97, 47.13 / 51.04; "
          "USE-Reg. 46.42 / 59.54 / 76.62, 47.39 / 53.35. With 2 samples per class, hit@1: "
          "LME 38.93, USE-No Reg. 44.87 (+5.9), USE-Reg. 49.87 (printed as +5.0).")


# -- quality: cross-modal retrieval -----------------------------------------------------------


def retrieval(seeds):
    X, _ = load_digits_halves(return_X_y=True)
    variants = {
        "CCA (16 components)": lambda s: CCA(n_components=16),
        "Ranking linear, sum": lambda s: RankingEmbedding(16, random_state=s),
        "Ranking linear, VSE++": lambda s: RankingEmbedding(16, max_violation=True,
                                                            random_state=s),
        "Ranking MLP(64), sum": lambda s: RankingEmbedding(16, hidden_layer_sizes=(64,),
                                                           random_state=s),
        "Ranking MLP(64), VSE++": lambda s: RankingEmbedding(
            16, hidden_layer_sizes=(64,), max_violation=True, random_state=s),
        "Ranking linear, InfoNCE": lambda s: RankingEmbedding(16, loss="infonce",
                                                              random_state=s),
        "Ranking MLP(64), InfoNCE": lambda s: RankingEmbedding(
            16, hidden_layer_sizes=(64,), loss="infonce", random_state=s),
    }
    table = {name: [] for name in variants}
    for seed in seeds:
        X_train, X_test = train_test_split(X, test_size=0.3, random_state=seed)
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
        left, right = X_test.copy(), X_test.copy()
        left[:, 32:] = np.nan
        right[:, :32] = np.nan
        for name, make in variants.items():
            tic = time.perf_counter()
            model = make(seed).fit(X_train)
            seconds = time.perf_counter() - tic
            Z_left, Z_right = model.transform(left), model.transform(right)
            row = []
            for queries, database in ((Z_left, Z_right), (Z_right, Z_left)):
                ranking = nearest_neighbors(queries, database, n_neighbors=None)[1]
                row += [100 * recall_at_k(ranking, k=k) for k in (1, 5, 10)]
                row.append(median_rank(ranking))
            table[name].append(row + [seconds])
    print(f"\nload_digits_halves retrieval of {X_test.shape[0]} held-out images, mean over "
          f"{len(seeds)} splits: left->right R@1 R@5 R@10 MedR | right->left ... | the mean "
          "of the six recalls (the R-sum / 6) and its standard deviation over the splits")
    print(f"{'model':26s} {'R@1':>5s} {'R@5':>5s} {'R@10':>5s} {'MedR':>5s} | {'R@1':>5s} "
          f"{'R@5':>5s} {'R@10':>5s} {'MedR':>5s} | {'R mean':>12s} {'fit s':>6s}")
    for name in variants:
        runs = np.array(table[name])
        v = runs.mean(axis=0)
        recalls = runs[:, [0, 1, 2, 4, 5, 6]].mean(axis=1)
        print(f"{name:26s} {v[0]:5.1f} {v[1]:5.1f} {v[2]:5.1f} {v[3]:5.1f} | {v[4]:5.1f} "
              f"{v[5]:5.1f} {v[6]:5.1f} {v[7]:5.1f} | {recalls.mean():5.1f} +- "
              f"{recalls.std():4.1f} {v[8]:6.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small problems, fewer seeds")
    args = parser.parse_args()
    tic = time.perf_counter()
    print(f"load average at start: {os.getloadavg()[0]:.2f}; BLAS limited to 1 thread (on a "
          "shared 2-core machine, multithreaded BLAS on mini-batch products only contends)")
    speed(args.quick)
    digits(range(2) if args.quick else range(5))
    few_shot(range(3) if args.quick else range(10), (2, 5) if args.quick else (2, 5, 20))
    retrieval(range(1) if args.quick else range(3))
    print(f"\ntotal {time.perf_counter() - tic:.0f} s")


if __name__ == "__main__":
    with threadpool_limits(1):
        main()
