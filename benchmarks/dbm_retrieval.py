"""MultimodalDBM on data shaped like MIR-Flickr, and its AIS log-likelihood on MNIST.

Three parts, each printing a table:

1. **Retrieval and classification** (the MIR-Flickr protocol of Srivastava & Salakhutdinov 2012
   and of Sohn, Shang & Lee 2014, Section 4.2) on ``make_multimodal_topics``: Gaussian "image
   features" (standardised) and sparse tag counts from shared latent topics, with multi-label
   classes from the same topics. MultimodalDBM, MultimodalDBN (its stack without doubled inputs
   and without joint training, the MDBN of Hu, Li & Lu
   2016, Table 2), MultimodalRBM and MinVIRBM are trained on the
   same unlabelled pairs; then

   - classification MAP: a one-vs-rest logistic regression on the joint representation,
     trained on labelled training rows, mean over labels of the average precision on the
     test rows, with image+text and with image only (text missing at test time);
   - retrieval: 1000 queries against a disjoint 5000-item database (image+text), cosine
     nearest neighbours in the joint space (``skmultimodal.retrieval``), relevant if any
     label overlaps; MAP and P@50 (``skmultimodal.metrics``) for multimodal (image+text)
     and unimodal (image) queries, and the MAP after centring the representations on the
     database mean (cMAP);
   - tags P@5: precision@5 of the tags imputed from the image alone;
   - the top generated tags of a few images (text missing), next to their true tags.

2. **Speed**: seconds per epoch of pretraining and of joint training, against the time of the
   bare matrix products an epoch needs, measured in the same run (see ``gemm_lower_bound``), in
   float64 and float32, at the default batch of 32 rows and at 100; then the same at the layer
   sizes of Srivastava & Salakhutdinov 2012 (image 3857-1024-1024, text 2000-1024-1024, joint
   2048, batch 100) on 2000 synthetic rows of that shape (``--quick``: 400 rows, every width
   divided by 4), where the matrix products dominate. Seconds per epoch are marginal (a fit of
   ``1 + E`` epochs minus a fit of one, over ``E``), so what a fit does once is not spread over
   its epochs; each figure is the median of three such measurements (one in ``--quick``). An
   epoch includes the estimators' per-epoch monitor (``reconstruction_error_curve_``: mean-field
   on 256 training rows), whose cost does not grow with the data: on 1000 rows of that shape it
   was 10-13% of a joint-training epoch in float32, on the 10,000 rows of the first table 1-2%.

3. **Log-likelihood on MNIST** (``../shared/data/mnist``: the 10,000 test images, binarised once
   with a fixed seed, 8,000 for training and 2,000 held out): the AIS test log-likelihood of an
   RBM trained by CD-25 as the published one (PCD at the same settings gave -141 nats with an
   unreliable AIS estimate, CD-25 -105), ``-F(v) - log Z``, and the variational lower bound of a
   two-layer DBM, ``-F_q(v) - log Z`` with ``log Z`` by AIS, with the AIS spread, for the
   pretrained stack (30 epochs of PCD per layer) and after 100 epochs of joint training at
   ``learning_rate=0.02`` (joint training should raise the bound; measured on this split, 30
   joint epochs at 0.005 left it at -109 nats, below the RBM, 100 at 0.005 at -104.5). The RBM
   trains for 30 epochs: at 100 it overfits the 8k images (-111 nats on the test set). Published
   figures on the full 60k training set: RBM (CD25, 500 hidden) -86.34 nats (Salakhutdinov &
   Murray 2008), DBM 784-500-1000 -84.62 (Salakhutdinov & Hinton 2009); ours use 8k training
   images, so compare the DBM with our RBM on the same data. The DBM's figure is not stable to a
   few nats: two runs whose only difference was rounding in the sigmoid (the same seed) gave
   -101.4 and -109.7 after 100 joint epochs (-106.8 and -104.0 after 60), while the RBM's moved
   by 0.4; seeds 1 and 2 gave -103.4 and -103.8, and seed 0 after the Bernoulli draws became
   lane-based -105.2 (RBM -103.0, with an unreliable AIS run; two more AIS runs on that RBM gave
   -101.5 and -102.1), then -101.4 with the compiled training loops (the same algorithm,
   rounding differences only; RBM -103.0 again), and -101.6 after the kernels' rounding changed
   again (bias statistics summed in float32; RBM -102.5, its AIS spread finite this time). Over
   these seven runs the DBM is level with the RBM or a few nats below it.
   A ``-inf`` lower spread means three standard errors of the importance weights exceed
   their mean: that AIS estimate is unreliable (AIS tends to underestimate ``log Z``, so the
   log-likelihood is then likely overestimated).

Run ``python benchmarks/dbm_retrieval.py [--quick] [--mnist PATH]``. ``--quick`` (< 1 minute
on 2 cores) uses a smaller training set, smaller models and 1,000 AIS temperatures; the full
run uses the protocol's 14,500 temperatures and 100 runs and takes tens of minutes.
Single-threaded BLAS (``OPENBLAS_NUM_THREADS=1``) is faster for these small matrices on a
shared machine.
"""

import argparse
import copy
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import StandardScaler

from skmultimodal import MinVIRBM, MultimodalDBM, MultimodalDBN, MultimodalRBM
from skmultimodal.boltzmann._ais import ais_log_partition, base_rate_bias
from skmultimodal.datasets import fetch_mnist, make_multimodal_topics
from skmultimodal.metrics import mean_average_precision, precision_at_k
from skmultimodal.retrieval import nearest_neighbors

N_IMAGE, N_TAGS, N_LABELS = 100, 200, 24
REPO = Path(__file__).resolve().parents[1]


def topics_data(n_train, seed=0):
    """Training pairs, 5000 database items and 1000 disjoint queries, with labels."""
    n = n_train + 6000
    X, _, Y = make_multimodal_topics(
        n, n_topics=12, n_image_features=N_IMAGE, n_tags=N_TAGS, doc_length=8, noise=2.0,
        topic_concentration=0.2, n_labels=N_LABELS, random_state=seed,
    )
    scaler = StandardScaler().fit(X[:n_train, :N_IMAGE])
    X[:, :N_IMAGE] = scaler.transform(X[:, :N_IMAGE])
    split = {"train": slice(0, n_train), "database": slice(n_train, n_train + 5000),
             "queries": slice(n_train + 5000, n)}
    return X, Y, split


def image_only(X):
    X = X.copy()
    X[:, N_IMAGE:] = np.nan
    return X


def models(quick):
    """The four models, each at the learning rate that worked best for it here.

    The DBM pretrains at 0.05 and trains jointly at 0.005 (joint training at the pretraining
    rate takes the top layer out of use, see ``MultimodalDBM``); the DBN's RBMs train at the
    DBM's pretraining rate; MultimodalRBM and MinVIRBM at 0.05 beat their own 0.01.
    ``output="all"`` reuses the fitted DBM with every hidden layer as the representation.
    """
    common = dict(modalities=[N_IMAGE, N_TAGS], visible_units=["gaussian", "replicated_softmax"],
                  random_state=0)
    width = 64 if quick else 128
    epochs = 20 if quick else 30
    return {
        "MultimodalDBM": MultimodalDBM(
            width, pathways=(width,), learning_rate_pretrain=0.05, learning_rate=0.005,
            n_iter_pretrain=epochs, n_iter=10 if quick else 20, **common),
        "MultimodalDBN": MultimodalDBN(width, pathways=(width,), learning_rate=0.05,
                                       n_iter=epochs, **common),
        "MultimodalRBM": MultimodalRBM(width, learning_rate=0.05, n_iter=epochs, **common),
        "MinVIRBM": MinVIRBM(width, learning_rate=0.05, n_iter=epochs, **common),
    }


def imputed_tags(est, X_q):
    """The 5 highest imputed tags of each query's image, and their precision against the
    query's true tags."""
    imputed = est.impute(image_only(X_q))[:, N_IMAGE:]
    top = np.argsort(-imputed, axis=1, kind="stable")[:, :5]
    return top, np.take_along_axis(X_q[:, N_IMAGE:] > 0, top, axis=1).mean(axis=1)


def generic_tag_sets(fitted, X_q):
    """How many images get the most common imputed top-5 set, per model, and the precision
    of every model on those images (the DBM's) and on the others."""
    top, _ = imputed_tags(fitted["MultimodalDBM (top)"], X_q)
    sets, counts = np.unique(np.sort(top, axis=1), axis=0, return_counts=True)
    generic = (np.sort(top, axis=1) == sets[counts.argmax()]).all(axis=1)
    print(f"\nThe DBM gives {generic.sum()} of {len(X_q)} images the same top-5 tags "
          f"{sets[counts.argmax()].tolist()} (the most frequent training tags are among them); "
          "tags P@5 on those images and on the others:")
    for name in ("MultimodalDBM (top)", "MultimodalDBN", "MultimodalRBM", "MinVIRBM"):
        top, precision = imputed_tags(fitted[name], X_q)
        n_sets = len(np.unique(np.sort(top, axis=1), axis=0))
        print(f"  {name:19s} {precision[generic].mean():.3f} / {precision[~generic].mean():.3f} "
              f"({n_sets} distinct top-5 sets)")


def retrieval_table(quick):
    n_train = 3000 if quick else 10000
    X, Y, split = topics_data(n_train)
    X_train, Y_train = X[split["train"]], Y[split["train"]]
    X_db, Y_db = X[split["database"]], Y[split["database"]]
    X_q, Y_q = X[split["queries"]], Y[split["queries"]]
    rows, fitted, timings = [], {}, {}
    candidates = list(models(quick).items())
    for name, est in candidates:
        tic = time.perf_counter()
        est.fit(X_train)
        timings[name] = time.perf_counter() - tic
        fitted[name] = est
    dbm_all = copy.deepcopy(fitted["MultimodalDBM"]).set_params(output="all")
    fitted = {"MultimodalDBM (top)": fitted["MultimodalDBM"], "MultimodalDBM (all)": dbm_all,
              **{k: v for k, v in fitted.items() if k != "MultimodalDBM"}}
    timings["MultimodalDBM (top)"] = timings["MultimodalDBM (all)"] = timings["MultimodalDBM"]
    for name, est in fitted.items():
        clf = OneVsRestClassifier(LogisticRegression(max_iter=2000, C=1.0))
        clf.fit(est.transform(X_train), Y_train)
        map_both = average_precision_score(Y_db, clf.predict_proba(est.transform(X_db)))
        map_image = average_precision_score(
            Y_db, clf.predict_proba(est.transform(image_only(X_db))))
        database = est.transform(X_db)
        row = [name, map_both, map_image]
        centred = []
        for queries in (X_q, image_only(X_q)):
            codes = est.transform(queries)
            _, ranking = nearest_neighbors(codes, database, n_neighbors=None)
            row += [mean_average_precision(ranking, query_labels=Y_q, database_labels=Y_db),
                    precision_at_k(ranking, k=50, query_labels=Y_q, database_labels=Y_db)]
            offset = database.mean(axis=0)
            _, ranking = nearest_neighbors(codes - offset, database - offset,
                                           n_neighbors=None)
            centred.append(mean_average_precision(ranking, query_labels=Y_q,
                                                  database_labels=Y_db))
        rows.append(row + centred + [imputed_tags(est, X_q)[1].mean(), timings[name]])
    # chance: a random ranking
    rng = np.random.default_rng(0)
    ranking = np.argsort(rng.random((len(X_q), len(X_db))), axis=1)
    chance_map = mean_average_precision(ranking, query_labels=Y_q, database_labels=Y_db)
    chance_p50 = precision_at_k(ranking, k=50, query_labels=Y_q, database_labels=Y_db)
    frequent = np.argsort(-X_train[:, N_IMAGE:].sum(axis=0))[:5]
    tags_frequent = (X_q[:, N_IMAGE:][:, frequent] > 0).mean()
    rows.append(["random", Y_db.mean(), Y_db.mean(), chance_map, chance_p50, chance_map,
                 chance_p50, chance_map, chance_map, tags_frequent, 0.0])
    print(f"\n## Classification and retrieval on make_multimodal_topics "
          f"({n_train} training pairs, {N_IMAGE} image features, {N_TAGS} tags, "
          f"{N_LABELS} labels; database 5000, queries 1000)\n")
    print(f"{'model':19s} {'cls MAP img+txt':>15s} {'cls MAP img':>11s} "
          f"{'ret MAP img+txt':>15s} {'P@50 img+txt':>12s} {'ret MAP img':>11s} "
          f"{'P@50 img':>8s} {'cMAP img+txt':>12s} {'cMAP img':>8s} {'tags P@5':>8s} "
          f"{'fit s':>7s}")
    for r in rows:
        print(f"{r[0]:19s} {r[1]:15.3f} {r[2]:11.3f} {r[3]:15.3f} {r[4]:12.3f} {r[5]:11.3f} "
              f"{r[6]:8.3f} {r[7]:12.3f} {r[8]:8.3f} {r[9]:8.3f} {r[10]:7.1f}")
    print("cMAP: retrieval MAP with cosine similarity after subtracting the database's mean "
          "representation (the DBM's dense top layer shares a large common offset that raw "
          "cosine is dominated by; the RBM's sparse units hardly have one).\n"
          "tags P@5: precision@5 of the 5 highest imputed tags of image-only queries against "
          "their true tags; the 'random' row gives the 5 most frequent training tags.")
    generic_tag_sets(fitted, X_q)
    dbm = fitted["MultimodalDBM (top)"]
    print("\n## Tags generated for images (text missing) by the DBM\n")
    some = X_q[:5]
    top = dbm.top_words(image_only(some), k=6, modality=1)
    # documents of the training length drawn by 10 chains of 20 Gibbs sweeps each (a
    # single 100-word document, as the original code generated, is out of the training
    # regime here: its own words outweigh the image and every image gets the same words)
    drawn = sum(dbm.sample(image_only(some), n_steps=20, random_state=r)[:, N_IMAGE:]
                for r in range(10))
    for i in range(len(some)):
        true = np.flatnonzero(some[i, N_IMAGE:])
        sampled = np.argsort(-drawn[i], kind="stable")[:6]
        print(f"image {i}: true tags {sorted(true.tolist())}; mean-field top-6 "
              f"{top[i].tolist()}; most drawn in 10 sampled documents {sampled.tolist()}")
    return dbm, X_train


def gemm_lower_bound(dbm, X_train, sweeps, repeats=30):
    """Seconds of the bare matrix products of one epoch of joint training and of one epoch
    of pretraining (all layers), on random matrices of the same shapes.

    Joint training, per batch: the statistics products of the batch and of the chains
    (one per edge each), one Gibbs sweep of the chains (two products per edge), the
    bottom-up initialisation of the batch (one product per edge; the visible layers'
    products are kept for the whole mean-field loop, as the implementation does) and
    ``sweeps`` mean-field sweeps of the batch (two products per edge between hidden
    layers; ``sweeps`` is the mean number the timed epochs made before reaching
    ``mean_field_tol``). Pretraining, per batch and RBM: the up pass of the batch, one
    down and one up pass of the chains, two statistics products.
    """
    rng = np.random.default_rng(0)
    n_batches = int(np.ceil(X_train.shape[0] / dbm.batch_size))
    dtype = dbm.coefs_[0].dtype

    def timed(shapes):
        mats = [(rng.random(a, dtype=np.float64).astype(dtype),
                 rng.random(b, dtype=np.float64).astype(dtype)) for a, b in shapes]
        best = np.inf
        for _ in range(repeats):
            tic = time.perf_counter()
            for A, B in mats:
                A @ B
            best = min(best, time.perf_counter() - tic)
        return best * n_batches

    b, c = dbm.batch_size, dbm.n_chains
    visible = {name for name, _ in dbm.modalities_}
    joint, sweep, pre = [], [], []
    for W, (lower, _) in zip(dbm.coefs_, dbm.edges_):
        up, lo = W.shape
        for n in (b, c):
            joint += [((up, n), (n, lo))]  # statistics
        joint += [((c, lo), (lo, up)), ((c, up), (up, lo))]  # Gibbs sweep of the chains
        joint += [((b, lo), (lo, up))]  # bottom-up initialisation
        if lower not in visible:
            sweep += [((b, lo), (lo, up)), ((b, up), (up, lo))]  # one mean-field sweep
        pre += [((b, lo), (lo, up)), ((c, up), (up, lo)), ((c, lo), (lo, up)),
                ((up, b), (b, lo)), ((up, c), (c, lo))]
    return timed(pre), timed(joint) + sweeps * timed(sweep)


def _count_sweeps():
    """Count the mean-field sweeps of the DBM's positive phases: every trainer made while
    counting reports its batches and sweeps; returns the counter (``calls``: batches,
    ``sweeps`` in total) and the undo function."""
    from skmultimodal.boltzmann._graph import Trainer

    counter = {"calls": 0, "sweeps": 0}
    trainers = []
    original = Trainer.__init__

    def counted(self, *args, **kwargs):
        original(self, *args, **kwargs)
        trainers.append(self)

    Trainer.__init__ = counted

    def undo():
        Trainer.__init__ = original
        counter["calls"] = sum(t.n_batches for t in trainers)
        counter["sweeps"] = sum(t.n_sweeps for t in trainers)
    return counter, undo


def _seconds_per_epoch(fit, epochs):
    """The marginal seconds of one epoch: ``(fit(1 + epochs) - fit(1)) / epochs``, so what
    a fit does once (validation, set-up, the up passes that build each next layer's data,
    the final checks) is not counted as per-epoch time."""
    tic = time.perf_counter()
    fit(1)
    short = time.perf_counter() - tic
    tic = time.perf_counter()
    fit(1 + epochs)
    return (time.perf_counter() - tic - short) / epochs


def speed_rows(params, X_train, configs, epochs, repeats=1):
    """Time pretraining and joint training of a ``MultimodalDBM`` with ``params`` on
    ``X_train`` for each ``(dtype, batch_size)`` of ``configs``, and print one row per stage
    against :func:`gemm_lower_bound` of the same model.

    Seconds per epoch are marginal (:func:`_seconds_per_epoch`: a fit of ``1 + epochs``
    epochs minus a fit of one; joint training from copies of one pretrained model, so the
    same computation each time). Each of ``repeats`` measurements is followed by the bound,
    so that a ratio compares timings taken together (the machine's speed drifts: on a
    shared machine the bound alone moved by up to 15% between runs); the row shows the
    medians of the seconds, of the bounds and of the ratios."""
    print(f"{'stage':22s} {'dtype':>7s} {'batch':>5s} {'sweeps':>6s} {'s/epoch':>8s} "
          f"{'bare GEMMs s':>13s} {'ratio':>6s}")
    data = {"float64": X_train.astype(np.float64), "float32": X_train.astype(np.float32)}
    for X in data.values():  # compile the kernels for both dtypes before any timing
        MultimodalDBM(**{**params, "n_iter_pretrain": 1, "n_iter": 1}).fit(X[:200])
    for dtype, batch_size in configs:
        X_train = data[dtype]

        def pretrain(n, X_train=X_train, batch_size=batch_size):
            return MultimodalDBM(**{**params, "n_iter_pretrain": n, "n_iter": 0,
                                    "batch_size": batch_size}).fit(X_train)

        pretrained = pretrain(epochs)

        def joint(n, X_train=X_train, pretrained=pretrained):
            est = copy.deepcopy(pretrained).set_params(warm_start=True, n_iter=n)
            return est.fit(X_train)

        rows = {"pre": [], "joint": []}
        for _ in range(repeats):
            t = _seconds_per_epoch(pretrain, epochs)
            rows["pre"].append((t, gemm_lower_bound(pretrained, X_train, 0)[0]))
            counter, undo = _count_sweeps()
            try:
                t = _seconds_per_epoch(joint, epochs)
            finally:
                undo()
            sweeps = counter["sweeps"] / max(counter["calls"], 1)
            rows["joint"].append((t, gemm_lower_bound(pretrained, X_train, sweeps)[1], sweeps))
        for stage, key in (("pretraining (all RBMs)", "pre"), ("joint training", "joint")):
            runs = np.array(rows[key])
            t, g = np.median(runs[:, 0]), np.median(runs[:, 1])
            sw = f"{np.mean(runs[:, 2]):.1f}" if key == "joint" else ""
            print(f"{stage:22s} {dtype:>7s} {batch_size:5d} {sw:>6s} {t:8.3f} {g:13.3f} "
                  f"{np.median(runs[:, 0] / runs[:, 1]):6.2f}")


def speed_table(dbm, X_train, quick):
    """The speed rows at the benchmark's own model size, then at the layer sizes of Srivastava &
    Salakhutdinov 2012 (image 3857-1024-1024, text 2000-1024-1024, joint 2048; batch 100) on
    synthetic data of that shape. In ``--quick`` the second table uses every layer at a quarter
    of the width (the same shape of network, about 1/16 of the products)."""
    epochs = 2 if quick else 5
    repeats = 1 if quick else 3
    print(f"\n## Speed of the DBM ({X_train.shape[0]} rows, {dbm.n_chains} chains, layers "
          f"{[w.shape for w in dbm.coefs_]}; marginal s/epoch, the median of {repeats} "
          "measurement(s))\n")
    speed_rows(dbm.get_params(), X_train,
               [("float64", dbm.batch_size), ("float64", 100), ("float32", dbm.batch_size),
                ("float32", 100)], epochs, repeats)
    print("sweeps: mean-field sweeps per batch (the mean over the timed fits)")
    scale = 4 if quick else 1
    n_image, n_tags, width, top = (3857 // scale, 2000 // scale, 1024 // scale,
                                   2048 // scale)
    n_rows = 400 if quick else 2000
    X, _ = make_multimodal_topics(
        n_rows, n_topics=12, n_image_features=n_image, n_tags=n_tags, doc_length=8,
        noise=2.0, topic_concentration=0.2, random_state=0,
    )
    X[:, :n_image] = StandardScaler().fit_transform(X[:, :n_image])
    params = {**dbm.get_params(), "n_components": top, "pathways": (width, width),
              "modalities": [n_image, n_tags]}
    epochs = 2 if quick else 3
    print(f"\n## Speed at the layer sizes of Srivastava & Salakhutdinov 2012"
          f"{' / 4' if quick else ''} ({n_rows} "
          f"synthetic rows; image {n_image}-{width}-{width}, text {n_tags}-{width}-{width}, "
          f"joint {top}; {epochs} epoch(s) timed, the median of {repeats})\n")
    speed_rows(params, X, [("float64", 100), ("float32", 100)], epochs, repeats)
    print("s/epoch is marginal (a fit of 1 + E epochs minus a fit of one, over E): it "
          "carries the per-epoch monitor of reconstruction_error_curve_ (mean-field on up to "
          "256 rows) and checks, not what a fit does once; the bare GEMMs are the per-batch "
          "products only.")


def mnist_table(quick, mnist_home):
    X, _ = fetch_mnist(mnist_home, download_if_missing=False, return_X_y=True)
    rng = np.random.default_rng(0)
    X = (rng.random(X.shape, dtype=np.float32) < X).astype(np.float32)  # binarised once
    order = rng.permutation(len(X))
    X_train, X_test = X[order[:8000]], X[order[8000:]]
    if quick:
        X_train = X_train[:3000]
    hidden, (h1, h2) = (100, (100, 200)) if quick else (500, (500, 1000))
    epochs = 5 if quick else 30
    n_betas = 1000 if quick else 14500
    common = dict(modalities=[784], visible_units="binary", batch_size=100, random_state=0)
    results = []
    tic = time.perf_counter()
    rbm = MultimodalRBM(hidden, method="cd", k=25, learning_rate=0.05, n_iter=epochs,
                        **common).fit(X_train)
    t_fit = time.perf_counter() - tic
    model = rbm._model()
    tic = time.perf_counter()
    ais = ais_log_partition(model, base_rate_bias(model, X_train), betas=n_betas, n_runs=100,
                            random_state=0)
    t_ais = time.perf_counter() - tic
    ll = -rbm.free_energy(X_test)
    results.append((f"RBM 784-{hidden} (CD-25)", ll.mean() - ais.log_z,
                    -ll.mean() + ais.log_z_high, ais, t_fit, t_ais))
    tic = time.perf_counter()
    dbm = MultimodalDBM(h2, pathways=(h1,), learning_rate_pretrain=0.05,
                        learning_rate=0.005 if quick else 0.02, n_iter_pretrain=epochs,
                        n_iter=0, n_ais_betas=n_betas, **common).fit(X_train)
    joint_epochs = epochs if quick else 100
    for stage in ("pretrained", f"joint {joint_epochs} ep."):
        if stage != "pretrained":
            dbm.set_params(warm_start=True, n_iter=joint_epochs).fit(X_train)
        t_fit = time.perf_counter() - tic
        tic = time.perf_counter()
        ais = dbm.log_partition(X_train, random_state=0)
        t_ais = time.perf_counter() - tic
        bound = -dbm.free_energy(X_test)
        results.append((f"DBM 784-{h1}-{h2} {stage} (bound)", bound.mean() - ais.log_z, None,
                        ais, t_fit, t_ais))
        tic = time.perf_counter()
    print(f"\n## AIS test log-likelihood on MNIST ({len(X_train)} training, {len(X_test)} test "
          f"images, binarised; {n_betas} temperatures, 100 runs)\n")
    print(f"{'model':36s} {'test log p (nats)':>17s} {'log Z':>9s} {'log Z -3se/+3se':>18s} "
          f"{'fit s':>7s} {'AIS s':>7s}")
    for name, value, _, ais, t_fit, t_ais in results:
        print(f"{name:36s} {value:17.2f} {ais.log_z:9.2f} "
              f"{ais.log_z_low - ais.log_z:+8.3f}/{ais.log_z_high - ais.log_z:+.3f} "
              f"{t_fit:7.1f} {t_ais:7.1f}")
    print("published (60k training images): RBM CD25 500 hidden -86.34, DBM 784-500-1000 "
          "-84.62")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small run, under a minute")
    parser.add_argument("--mnist", default=str(REPO.parent / "shared" / "data" / "mnist"),
                        help="folder with MNIST's IDX files")
    parser.add_argument("--skip-mnist", action="store_true")
    args = parser.parse_args(argv)
    tic = time.perf_counter()
    dbm, X_train = retrieval_table(args.quick)
    speed_table(dbm, X_train, args.quick)
    if not args.skip_mnist:
        mnist_table(args.quick, args.mnist)
    print(f"\ntotal {time.perf_counter() - tic:.0f} s")


if __name__ == "__main__":
    main()
