"""MDRNN: the number of recurrent steps (Table 3 of Sohn, Shang & Lee 2014) and its speed.

1. **Recurrent steps.** One stack is pretrained (pathway RBMs by PCD, the top RBM by MinVI
   multi-prediction), then finetuned separately with 0, 1, 2, 5 and 10 recurrent steps
   (the same steps in training and inference). Printed per number of steps:

   * MNIST halves (``../shared/data/mnist``: the 10,000 test images, split 7,000 / 3,000 as
     in ``mnist_halves.py``): the test error (%) of a logistic regression trained on the
     representations of complete training images, with both halves, the left half only and
     the right half only;
   * the topic data of ``dbm_retrieval.py`` (Gaussian image features and 8-word tag
     documents, 24 labels): the classification MAP with image and text, and with the image
     only (the text inferred by the recurrent steps).

   Sohn, Shang & Lee's Table 3 (MIR-Flickr, validation mAP): from 0 to 10 steps +0.8% with
   both modalities, +5.0% with the image only, 3.4% of it from 0 to 1 step.

2. **Speed.** Seconds per finetuning epoch (float32, MNIST halves, batch 100, 3 steps)
   against the bare matrix products that epoch needs (the forward and backward products of
   every step, listed from the network's layers and timed back to back with numpy), medians
   of several epochs and repetitions.

Run ``python benchmarks/bench_mdrnn.py [--quick] [--data-home PATH]``; ``--quick`` uses
1,000 MNIST images and 1,500 topic rows, small layers, steps 0, 1, 3 (under a minute).
"""

import argparse
import copy
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score
from sklearn.model_selection import train_test_split
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import StandardScaler

from skmultimodal import MDRNN
from skmultimodal.datasets import fetch_mnist_halves, make_multimodal_topics

DEFAULT_DATA_HOME = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


def _hide(X, columns):
    X = X.copy()
    X[:, columns] = np.nan
    return X


def _finetuned(base, n_steps, epochs):
    """A copy of the pretrained ``base`` finetuned with ``n_steps`` recurrent steps."""
    est = copy.deepcopy(base).set_params(n_steps=n_steps, warm_start=True, max_iter=epochs,
                                         learning_rate=0.01)
    return est


def steps_table(quick, data_home):
    steps = [0, 1, 3] if quick else [0, 1, 2, 5, 10]
    epochs = 5 if quick else 30
    print("\n## Recurrent steps (Sohn, Shang & Lee 2014, Table 3 analogue)")
    rows = {}
    try:
        X, y = fetch_mnist_halves(data_home, download_if_missing=False, return_X_y=True)
    except (OSError, ValueError) as exc:
        print(f"MNIST not available ({exc}); skipping its columns.")
        X = None
    if X is not None:
        X = (X > 0.5).astype(np.float32)
        if quick:
            X, y = X[:1000], y[:1000]
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.3, stratify=y, random_state=0)
        width = 64 if quick else 512
        base = MDRNN(width, pathways=(width,), n_iter_pretrain=3 if quick else 20,
                     max_iter=1, learning_rate=1e-12, batch_size=100, early_stopping=False,
                     random_state=0).fit(X_train)
        for n in steps:
            est = _finetuned(base, n, epochs).fit(X_train)
            clf = LogisticRegression(max_iter=3000).fit(est.transform(X_train), y_train)
            rows.setdefault(n, []).extend(
                100 * (1 - clf.score(est.transform(Q), y_test))
                for Q in (X_test, _hide(X_test, slice(392, 784)),
                          _hide(X_test, slice(0, 392))))
    n_image, n_tags = 100, 200
    n_train = 1500 if quick else 10000
    Xt, _, Y = make_multimodal_topics(n_train + 5000, n_topics=12, n_image_features=n_image,
                                      n_tags=n_tags, doc_length=8, noise=2.0,
                                      topic_concentration=0.2, n_labels=24, random_state=0)
    Xt[:, :n_image] = StandardScaler().fit(Xt[:n_train, :n_image]).transform(Xt[:, :n_image])
    train, test = slice(0, n_train), slice(n_train, None)
    width = 64 if quick else 128
    base = MDRNN(width, pathways=(width,), modalities=[n_image, n_tags],
                 visible_units=["gaussian", "replicated_softmax"],
                 n_iter_pretrain=5 if quick else 30, max_iter=1, learning_rate=1e-12,
                 early_stopping=False, random_state=0).fit(Xt[train])
    for n in steps:
        est = _finetuned(base, n, epochs).fit(Xt[train])
        clf = OneVsRestClassifier(LogisticRegression(max_iter=2000))
        clf.fit(est.transform(Xt[train]), Y[train])
        rows.setdefault(n, []).extend(
            average_precision_score(Y[test], clf.predict_proba(est.transform(Q)))
            for Q in (Xt[test], _hide(Xt[test], slice(n_image, None))))
    header = ("steps   MNIST err % both / left / right      topics MAP image+text / image")
    print(header)
    for n in steps:
        r = rows[n]
        mnist = " / ".join(f"{v:5.2f}" for v in r[:3]) if X is not None else "   -  "
        print(f"{n:5d}   {mnist:34s}   {r[-2]:.3f} / {r[-1]:.3f}")


def _product_shapes(est, batch):
    """The (m, k, n) of every matrix product of one finetuning batch: each modality in turn
    the target, the forward passes of :class:`skmultimodal.deep._recurrent.RecurrentNetwork`
    and their backward passes (two products per forward product, none for the input of a
    first layer)."""
    net, _ = est._params()
    s = net.s
    top = s.widths[s.top]
    shapes = []
    for t in range(s.n_modalities):
        chain = net.chain
        up = [(batch, s.widths[s.edges[e][0]], s.widths[s.edges[e][1]])
              for m in range(s.n_modalities) for e in chain[m][:-1]]
        into_top = [(batch, s.widths[s.edges[chain[m][-1]][0]], top)
                    for m in range(s.n_modalities)]
        down_t = [(batch, s.widths[s.edges[e][1]], s.widths[s.edges[e][0]])
                  for e in reversed(chain[t])]
        up_t = [(batch, s.widths[s.edges[e][0]], s.widths[s.edges[e][1]]) for e in chain[t]]
        forward = up + into_top + est.n_steps * (down_t + up_t) + down_t
        shapes += forward
        for m, k, n in forward:  # dW and the input's gradient
            shapes += [(k, m, n), (m, n, k)]
    return shapes


def speed_table(quick, data_home):
    print("\n## Speed of finetuning (float32, batch 100, 3 steps)")
    try:
        X, _ = fetch_mnist_halves(data_home, download_if_missing=False, return_X_y=True)
    except (OSError, ValueError) as exc:
        print(f"MNIST not available ({exc}); skipped.")
        return
    X = (X[:2000 if quick else 10000] > 0.5).astype(np.float32)
    width = 128 if quick else 512
    est = MDRNN(width, pathways=(width,), n_iter_pretrain=1, max_iter=1, learning_rate=1e-12,
                batch_size=100, early_stopping=False, n_steps=3, random_state=0).fit(X)
    epochs = 2 if quick else 3
    times = []
    for _ in range(3):
        run = copy.deepcopy(est).set_params(warm_start=True, max_iter=epochs,
                                            n_iter_no_change=epochs + 1)
        tic = time.perf_counter()
        run.fit(X)
        times.append((time.perf_counter() - tic) / epochs)
    rng = np.random.default_rng(0)
    products = [(rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32))
                for m, k, n in _product_shapes(est, 100)]
    n_batches = int(np.ceil(X.shape[0] / 100))
    bound = []
    for _ in range(7):
        tic = time.perf_counter()
        for a, b in products:
            a @ b
        bound.append((time.perf_counter() - tic) * n_batches)
    t, g = np.median(times), np.median(bound)
    print(f"{X.shape[0]} rows, layers {width}/{width}: {t:.3f} s/epoch (runs "
          f"{min(times):.3f}-{max(times):.3f}), bare products {g:.3f} s (median of 7), "
          f"ratio {t / g:.2f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--data-home", default=str(DEFAULT_DATA_HOME))
    args = parser.parse_args(argv)
    # the finetuning runs stop at their epoch counts on purpose
    warnings.simplefilter("ignore", ConvergenceWarning)
    steps_table(args.quick, args.data_home)
    speed_table(args.quick, args.data_home)


if __name__ == "__main__":
    main()
