"""Training speed of MultimodalRBM on MNIST against BernoulliRBM and the GEMM lower bound.

What it measures, in one run on binarised MNIST images (784 visible units, 512 hidden units,
mini-batches of 100, CD-1, float32):

* **ours**: seconds per epoch of ``skmultimodal.MultimodalRBM`` (the 784 pixels as two
  modalities of 392). A first ``partial_fit`` warms up (numba kernels compiled or loaded
  from the cache) and is not timed; each later ``partial_fit`` is exactly one epoch (with
  the input validation and the per-epoch reconstruction monitor a user's loop pays too),
  and the median over those epochs is reported.
* **BernoulliRBM**: seconds per epoch of ``sklearn.neural_network.BernoulliRBM`` on the
  same float32 data and settings. Its ``partial_fit`` is a single update on all of X, not
  an epoch, so ``fit`` with ``n_iter=E`` is timed and divided by E.
* **GEMM lower bound**: seconds of the bare matrix products one CD-1 epoch needs, numpy
  float32 on preallocated arrays: per batch ``v @ W.T``, ``h @ W``, ``v1 @ W.T``,
  ``h0.T @ v0`` and ``h1.T @ v1``. Median of several repetitions.
* **cold start**: in a fresh interpreter, the time of ``import skmultimodal`` and of a first
  small fit + transform with a missing modality. Run twice with a fresh numba cache
  directory: the first run compiles the kernels, the second loads them from the cache.

Targets: ours at least 2x faster than BernoulliRBM, and within 1.5x of the GEMM lower bound.
Timings are reported, never asserted. Run it on an otherwise idle machine: the CPU time other
processes take during the timings is printed, because on a small machine two-thread BLAS then
slows down many times over.

Run from the repository root::

    python benchmarks/bench_rbm.py            # 10 000 images, 10 epochs each
    python benchmarks/bench_rbm.py --quick    # 2 000 images, 3 epochs (well under a minute)
    python benchmarks/bench_rbm.py --data-home /path/to/mnist

The MNIST IDX files (``t10k-images-idx3-ubyte.gz`` ...) are read from ``--data-home``
(default ``../shared/data/mnist`` next to the repository); nothing is downloaded. If they are
absent the benchmark says so and exits successfully.
"""

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np
import sklearn
from sklearn.neural_network import BernoulliRBM

from skmultimodal import MultimodalRBM
from skmultimodal.datasets import fetch_mnist

DEFAULT_DATA_HOME = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"

N_HIDDEN = 512
BATCH_SIZE = 100
LEARNING_RATE = 0.01
SEED = 0
FULL_EPOCHS = 10
QUICK_EPOCHS = 3
QUICK_ROWS = 2000
GEMM_REPEATS = 7
SPEEDUP_TARGET = 2.0  # BernoulliRBM / ours must be at least this
BOUND_TARGET = 1.5  # ours / GEMM bound must be at most this
BUSY_SHARE = 0.05  # other processes above this share of the CPUs: unreliable timings

COLD_START_CODE = """
import time
tic = time.perf_counter()
import skmultimodal
t_import = time.perf_counter() - tic

import numpy as np
rng = np.random.default_rng(0)
X = (rng.random((200, 20)) < 0.5).astype(np.float32)
tic = time.perf_counter()
rbm = skmultimodal.MultimodalRBM(
    n_components=16, visible_units="binary", n_iter=1, random_state=0
).fit(X)
X_missing = X.copy()
X_missing[:, 10:] = np.nan
rbm.transform(X_missing)
t_fit = time.perf_counter() - tic
print(t_import, t_fit)
"""


# -- data -------------------------------------------------------------------------------------


def load_binary_mnist(data_home, n_rows=None):
    """Binarised MNIST test images as float32, or None if the files are absent."""
    try:
        X, _ = fetch_mnist(data_home, download_if_missing=False, return_X_y=True)
    except OSError as exc:  # FileNotFoundError when absent
        print(f"MNIST not found in {data_home} ({exc}).")
        return None
    if n_rows is not None:
        X = X[:n_rows]
    rng = np.random.default_rng(SEED)
    return (rng.random(X.shape) < X).astype(np.float32)


# -- timings ----------------------------------------------------------------------------------


def time_ours(X, n_epochs):
    """Median seconds per epoch of MultimodalRBM.partial_fit, after one untimed warm-up epoch."""
    half = X.shape[1] // 2
    rbm = MultimodalRBM(
        n_components=N_HIDDEN, modalities=[half, X.shape[1] - half], visible_units="binary",
        method="cd", k=1, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE, n_iter=1,
        momentum=0.5, weight_decay=1e-4, random_state=SEED,
    )
    rbm.partial_fit(X)  # warm-up: compiles the numba kernels or loads them from the cache
    times = []
    for _ in range(n_epochs):
        tic = time.perf_counter()
        rbm.partial_fit(X)
        times.append(time.perf_counter() - tic)
    return float(np.median(times)), rbm.components_.dtype, times


def time_bernoulli_rbm(X, n_epochs):
    """Seconds per epoch of BernoulliRBM: one fit of ``n_epochs`` epochs, divided by them.

    ``BernoulliRBM.partial_fit`` makes a single update on all of X, so it is not an epoch.
    """

    def make(n_iter):
        return BernoulliRBM(
            n_components=N_HIDDEN, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE,
            n_iter=n_iter, random_state=SEED,
        )

    make(1).fit(X[: 2 * BATCH_SIZE])  # warm-up of the code paths, not timed
    rbm = make(n_epochs)
    tic = time.perf_counter()
    rbm.fit(X)
    return (time.perf_counter() - tic) / n_epochs, rbm.components_.dtype


def time_gemm_bound(n_rows, n_features, repeats=GEMM_REPEATS):
    """Median seconds of the five float32 matrix products of one CD-1 epoch over n_rows."""
    rng = np.random.default_rng(SEED)
    dtype = np.float32
    W = (0.01 * rng.standard_normal((N_HIDDEN, n_features))).astype(dtype)
    v0 = (rng.random((BATCH_SIZE, n_features)) < 0.5).astype(dtype)
    v1 = (rng.random((BATCH_SIZE, n_features)) < 0.5).astype(dtype)
    h0 = np.empty((BATCH_SIZE, N_HIDDEN), dtype)
    h1 = np.empty((BATCH_SIZE, N_HIDDEN), dtype)
    v_mean = np.empty((BATCH_SIZE, n_features), dtype)
    g_pos = np.empty((N_HIDDEN, n_features), dtype)
    g_neg = np.empty((N_HIDDEN, n_features), dtype)
    n_batches = -(-n_rows // BATCH_SIZE)

    def epoch():
        for _ in range(n_batches):
            np.matmul(v0, W.T, out=h0)
            np.matmul(h0, W, out=v_mean)
            np.matmul(v1, W.T, out=h1)
            np.matmul(h0.T, v0, out=g_pos)
            np.matmul(h1.T, v1, out=g_neg)

    epoch()  # warm-up (BLAS threads, page faults)
    times = []
    for _ in range(repeats):
        tic = time.perf_counter()
        epoch()
        times.append(time.perf_counter() - tic)
    return float(np.median(times))


def cold_start(cache_dir):
    """(import seconds, first fit seconds) of a fresh interpreter using ``cache_dir`` for numba.

    Returns None, with the error printed, if the subprocess fails.
    """
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    result = subprocess.run(
        [sys.executable, "-c", COLD_START_CODE], env=env, capture_output=True, text=True,
        timeout=600,
    )
    if result.returncode != 0:
        print(f"cold-start subprocess failed:\n{result.stderr.strip()}")
        return None
    t_import, t_fit = map(float, result.stdout.split()[-2:])
    return t_import, t_fit


# -- report -----------------------------------------------------------------------------------


def machine_info():
    """One line: Python, numpy, scikit-learn, numba, BLAS and CPU count."""
    parts = [
        f"Python {platform.python_version()}", f"numpy {np.__version__}",
        f"scikit-learn {sklearn.__version__}", f"numba {numba.__version__}",
    ]
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        pass
    else:
        for pool in sorted(threadpool_info(), key=lambda info: info.get("filepath", "")):
            if pool.get("user_api") == "blas":
                parts.append(
                    f"BLAS {pool.get('internal_api')} {pool.get('version') or '?'} "
                    f"[{Path(pool.get('filepath', '?')).parent.name}] "
                    f"({pool.get('architecture') or '?'}, {pool.get('num_threads')} threads)"
                )
    parts.append(f"{os.cpu_count()} CPUs ({platform.machine()})")
    return ", ".join(parts)


def machine_busy_seconds():
    """CPU-seconds the whole machine has been busy since boot (Linux), or None elsewhere."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(t) for t in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = ticks
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class OtherLoad:
    """Measures how much CPU other processes (or the hypervisor) took during a ``with`` block.

    Other CPU-bound processes make the timings noisy, and two-thread BLAS on a two-core machine
    then slows down many times over; :meth:`note` says so.
    """

    def __enter__(self):
        self._start = (time.perf_counter(), machine_busy_seconds(), time.process_time())
        return self

    def __exit__(self, *exc):
        wall, busy, own = self._start
        self.wall = time.perf_counter() - wall
        end_busy = machine_busy_seconds()
        self.others = None if busy is None else (end_busy - busy) - (time.process_time() - own)
        return False

    def note(self):
        if self.others is None:
            return ""
        share = max(self.others, 0.0) / (self.wall * (os.cpu_count() or 1))
        line = (f"Other processes used {max(self.others, 0.0):.1f} CPU-s during the "
                f"{self.wall:.0f} s of timings ({share:.0%} of the machine)")
        if share > BUSY_SHARE:
            return line + ": the machine was busy, the timings are unreliable; rerun when idle."
        return line + "."


def verdict(ok):
    return "met" if ok else "NOT met"


def print_table(n_rows, n_epochs, ours, peer, bound):
    """The timing table and the two target ratios."""
    ours_s, ours_dtype, ours_times = ours
    peer_s, peer_dtype = peer
    print(f"\nMNIST binarised: {n_rows} x 784 -> {N_HIDDEN} hidden, batch {BATCH_SIZE}, CD-1, "
          f"{n_epochs} epochs")
    rows = [
        ("ours: MultimodalRBM", ours_s, str(ours_dtype),
         f"median of {n_epochs} partial_fit epochs "
         f"(min {min(ours_times):.3f}, max {max(ours_times):.3f})"),
        ("sklearn BernoulliRBM", peer_s, str(peer_dtype),
         f"fit(n_iter={n_epochs}) / {n_epochs}"),
        ("GEMM lower bound", bound, "float32",
         f"5 matmuls x {-(-n_rows // BATCH_SIZE)} batches, median of {GEMM_REPEATS}"),
    ]
    print(f"{'':22s} {'s/epoch':>9s}  {'dtype':8s} notes")
    for name, seconds, dtype, note in rows:
        print(f"{name:22s} {seconds:9.4f}  {dtype:8s} {note}")
    speedup, overhead = peer_s / ours_s, ours_s / bound
    print(f"\nBernoulliRBM / ours  = {speedup:5.2f}x  (target >= {SPEEDUP_TARGET:g})   "
          f"{verdict(speedup >= SPEEDUP_TARGET)}")
    print(f"ours / GEMM bound    = {overhead:5.2f}x  (target <= {BOUND_TARGET:g})  "
          f"{verdict(overhead <= BOUND_TARGET)}")


def print_cold_start():
    """Cold start twice in fresh interpreters sharing a new, initially empty numba cache."""
    print("\nCold start (fresh interpreter: import skmultimodal; first fit 200x20 + transform "
          "with a missing modality)")
    with tempfile.TemporaryDirectory(prefix="bench_rbm_numba_") as cache_dir:
        for label in ("run 1, empty numba cache (compiles)", "run 2, numba cache warm (loads)"):
            timing = cold_start(cache_dir)
            if timing is not None:
                print(f"  {label:38s} import {timing[0]:6.2f} s   first fit {timing[1]:6.2f} s")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true",
        help=f"{QUICK_ROWS} images and {QUICK_EPOCHS} epochs instead of all and "
             f"{FULL_EPOCHS}.",
    )
    parser.add_argument(
        "--data-home", type=Path, default=DEFAULT_DATA_HOME,
        help=f"folder with the MNIST IDX files (default: {DEFAULT_DATA_HOME}).",
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    n_rows, n_epochs = (QUICK_ROWS, QUICK_EPOCHS) if args.quick else (None, FULL_EPOCHS)
    X = load_binary_mnist(args.data_home, n_rows)
    if X is None:
        print("Skipping the RBM benchmark: put the MNIST IDX files there or pass --data-home.")
        return 0
    print(machine_info())
    with OtherLoad() as load:
        ours = time_ours(X, n_epochs)
        peer = time_bernoulli_rbm(X, n_epochs)
        bound = time_gemm_bound(X.shape[0], X.shape[1])
    print_table(X.shape[0], n_epochs, ours, peer, bound)
    note = load.note()
    if note:
        print(note)
    print_cold_start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
