"""Scale: time per row and peak memory of streaming and distributed fits, from 10^4 to 10^6 rows.

Each row of the table is one kind of run at one size ``n``, measured in a fresh child process
(forked from a server that has imported numpy, scikit-learn and skmultimodal, so every run
starts from the same memory) and reported as the median over ``--repeats`` runs, with the
range in brackets:

* **cca stream**: ``CCA(n_components=10).partial_fit`` over chunks of 10,000 rows of a dense
  pair of 500 + 500 float32 features, generated chunk by chunk (the data are never whole in
  memory). "fit s" counts the ``partial_fit`` calls and the final solve (the weights are
  solved when first needed); "data s" the generation.
* **kcca stream**: ``KCCA(approximation="nystroem", n_approx_components=200)`` streamed the
  same way over a nonlinear pair of 50 + 50 features (the first chunk fixes the landmarks).
* **cca dask**: ``CCA.fit`` on a ``dask.array`` of the same 500 + 500 data, whose blocks of
  10,000 rows are generated on the workers of a ``distributed.LocalCluster`` (2 worker
  processes, one thread each); the workers reduce their blocks to statistics and only those
  come back. "fit s" includes generating the blocks on the workers, "data s" is a pass that
  only generates them (same graph, reduced to a sum); "worker MB" is the largest worker's peak.
* **transform**: ``CCA.transform`` (fitted on 10,000 rows) of the whole set in chunks: a dask
  array of generated blocks in, a dask array out, reduced block by block (the synchronous
  scheduler: one block in memory at a time). "fit s" is the whole pass, generation
  included; "data s" the generation alone.

"fit s" is the median; "us/row" is fit seconds per row; "peak MB" is the child process's
peak resident memory (``VmHWM``), which includes the ~150 MB of imported libraries. Targets
(from the project issue): time per row flat in n (the 10^6 / 10^4 ratio within 1.5), peak
memory flat in n (within 1.5), CCA streaming of 10^6 rows x (500 + 500) under 60 s.
Timings are reported, never asserted; the machine's load is printed, since other processes
on a small machine slow BLAS down many times over.

To add a row kind (say ``MultimodalRBM.partial_fit`` over a memmap): write a function
``run(n, config) -> dict`` that returns at least ``{"fit": seconds}`` (and optionally
``"data"`` seconds, ``"worker_mb"``), register it in ``ROW_KINDS`` with the sizes it runs at,
and ``measure`` runs it in a child process (after an untimed small fit, :func:`warm_up`, so
that first-call costs are not counted per row) and adds the peak memory. A cold-start table
(a fresh interpreter's first fit) fits the same helper with a row function that times its
imports and first fit itself.

Run from the repository root::

    python benchmarks/bench_scale.py            # n = 10^4, 10^5, 10^6; medians of 3 runs
    python benchmarks/bench_scale.py --quick    # small sizes, one run (under a minute)
    python benchmarks/bench_scale.py --rows cca_stream --sizes 10000 1000000
"""

import argparse
import multiprocessing
import os
import sys
import time

import numpy as np

CHUNK = 10_000
N_COMPONENTS = 10


def peak_rss_mb():
    """Peak resident memory of this process (``VmHWM``), in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- synthetic data, generated chunk by chunk -----------------------------------------------


def linear_chunk(index, rows, widths, dtype=np.float32):
    """Rows ``index * CHUNK ...`` of a pair of views sharing 8 latent variables.

    The loadings are fixed (seed 0), each chunk's latent variables and noise come from its
    own seed, so any chunk can be generated anywhere (a worker, a child) independently.
    """
    loadings = np.random.default_rng(0)
    loadings = [loadings.standard_normal((8, w), dtype=np.float32) / np.sqrt(8) for w in widths]
    rng = np.random.default_rng(index + 1)
    z = rng.standard_normal((rows, 8), dtype=np.float32)
    X = rng.standard_normal((rows, sum(widths)), dtype=np.float32)
    start = 0
    for L in loadings:
        X[:, start:start + L.shape[1]] += z @ L
        start += L.shape[1]
    return X.astype(dtype, copy=False)


def nonlinear_chunk(index, rows, widths):
    """A pair sharing 4 latent variables only through tanh and squares (for KCCA)."""
    maps = np.random.default_rng(0)
    A = maps.standard_normal((4, widths[0]))
    B = maps.standard_normal((4, widths[1]))
    rng = np.random.default_rng(index + 1)
    z = rng.uniform(-2, 2, size=(rows, 4))
    X = np.hstack([np.tanh(z @ A), (z**2) @ B / 4.0])
    X += 0.3 * rng.standard_normal(X.shape)
    return X.astype(np.float32)


def chunk_sizes(n):
    return [min(CHUNK, n - start) for start in range(0, n, CHUNK)]


def dask_rows(n, widths, generate=linear_chunk):
    """A dask array of n rows whose blocks are generated where they are computed."""
    import dask
    import dask.array as da

    blocks = [da.from_delayed(dask.delayed(generate)(i, rows, widths),
                              shape=(rows, sum(widths)), dtype=np.float32)
              for i, rows in enumerate(chunk_sizes(n))]
    return da.concatenate(blocks, axis=0)


# --- one function per row kind: run(n, config) -> {"fit": seconds, ...} -----------------------


def warm_up():
    """One small fit and transform, untimed: BLAS threads, lazy imports and first-call costs
    are paid once per process, not per row."""
    from skmultimodal import CCA, KCCA

    X = np.random.default_rng(0).standard_normal((200, 10))
    CCA(n_components=2).partial_fit(X).transform(X)
    KCCA(n_components=2, approximation="nystroem", n_approx_components=20,
         random_state=0).partial_fit(X).transform(X)


def stream(estimator, n, generate, widths):
    """``partial_fit`` over n generated rows, chunk by chunk; the fit and generation times.

    The fit time includes the first access of the canonical correlations afterwards: the
    weights are solved from the statistics when first needed.
    """
    fit = data = 0.0
    for i, rows in enumerate(chunk_sizes(n)):
        tic = time.perf_counter()
        X = generate(i, rows, widths)
        data += time.perf_counter() - tic
        tic = time.perf_counter()
        estimator.partial_fit(X)
        fit += time.perf_counter() - tic
        del X
    tic = time.perf_counter()
    check = float(estimator.canonical_correlations_[0])
    return {"fit": fit + time.perf_counter() - tic, "data": data, "check": check}


def run_cca_stream(n, config):
    from skmultimodal import CCA

    widths = config["cca_widths"]
    return stream(CCA(n_components=N_COMPONENTS, modalities=list(widths)), n, linear_chunk,
                  widths)


def run_kcca_stream(n, config):
    from skmultimodal import KCCA

    widths = config["kcca_widths"]
    kcca = KCCA(n_components=N_COMPONENTS, modalities=list(widths), kernel_params={"gamma": 0.02},
                reg=1e-3, approximation="nystroem", n_approx_components=config["landmarks"],
                random_state=0)
    return stream(kcca, n, nonlinear_chunk, widths)


def run_cca_dask(n, config):
    import dask
    import distributed

    from skmultimodal import CCA

    widths = config["cca_widths"]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        X = dask_rows(n, widths)
        tic = time.perf_counter()
        X.sum(axis=0).compute()  # the blocks' generation alone (warms the workers up too)
        data = time.perf_counter() - tic
        client.run(_reset_peak)
        tic = time.perf_counter()
        cca = CCA(n_components=N_COMPONENTS, modalities=list(widths)).fit(X)
        fit = time.perf_counter() - tic
        worker_mb = max(client.run(peak_rss_mb).values())
    del dask
    return {"fit": fit, "data": data, "worker_mb": worker_mb,
            "check": float(cca.canonical_correlations_[0])}


def _reset_peak():
    """Reset this process's VmHWM to its current RSS (Linux: write 5 to clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        pass


def run_transform(n, config):
    import dask

    from skmultimodal import CCA

    widths = config["cca_widths"]
    cca = CCA(n_components=N_COMPONENTS, modalities=list(widths)).fit(
        linear_chunk(10**6, CHUNK, widths))
    X = dask_rows(n, widths)
    with dask.config.set(scheduler="synchronous"):
        tic = time.perf_counter()
        X.sum(axis=0).compute()
        data = time.perf_counter() - tic
        tic = time.perf_counter()
        total = cca.transform(X).sum(axis=0).compute()
        fit = time.perf_counter() - tic
    return {"fit": fit, "data": data, "check": float(total[0])}


ROW_KINDS = {
    # name: (function, sizes in the full run, sizes in --quick)
    "cca_stream": (run_cca_stream, (10**4, 10**5, 10**6), (10**4, 5 * 10**4)),
    "kcca_stream": (run_kcca_stream, (10**4, 10**5, 10**6), (10**4, 5 * 10**4)),
    "cca_dask": (run_cca_dask, (10**4, 10**5, 10**6), (10**4, 5 * 10**4)),
    "transform": (run_transform, (10**4, 10**5, 10**6), (10**4, 5 * 10**4)),
}

FULL = {"cca_widths": (500, 500), "kcca_widths": (50, 50), "landmarks": 200}
QUICK = {"cca_widths": (100, 100), "kcca_widths": (20, 20), "landmarks": 100}


# --- the shared measuring helper: one child process per run ---------------------------------


def _child(kind, n, config, connection):
    from threadpoolctl import threadpool_limits

    try:
        with threadpool_limits(config["blas_threads"]):
            warm_up()
            _reset_peak()
            result = ROW_KINDS[kind][0](n, config)
        result["peak_mb"] = peak_rss_mb()
        connection.send(result)
    except BaseException as error:  # report, never hang the parent
        connection.send({"error": f"{type(error).__name__}: {error}"})
    finally:
        connection.close()


def measure(kind, n, config, repeats, context):
    """Run one row kind at size n in ``repeats`` fresh child processes; medians and ranges."""
    runs = []
    for _ in range(repeats):
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=_child, args=(kind, n, config, send))
        child.start()
        send.close()
        result = receive.recv()
        child.join()
        if "error" in result:
            raise RuntimeError(f"{kind} at n={n}: {result['error']}")
        runs.append(result)
    summary = {}
    for key in runs[0]:
        values = np.array([run[key] for run in runs], dtype=float)
        summary[key] = (float(np.median(values)), float(values.min()), float(values.max()))
    return summary


def _format(value, spread, digits):
    text = f"{value:.{digits}f}"
    if spread[1] > spread[0]:
        text += f" [{spread[0]:.{digits}f}-{spread[1]:.{digits}f}]"
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one run each")
    parser.add_argument("--repeats", type=int, default=None,
                        help="runs per row (default 3, 1 with --quick)")
    parser.add_argument("--rows", nargs="+", choices=sorted(ROW_KINDS), default=None)
    parser.add_argument("--sizes", nargs="+", type=int, default=None)
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="BLAS threads of the measured process (default 1: on a small, "
                             "shared machine multi-threaded BLAS slows down many times over "
                             "when another process takes a core; dask workers use 1 each)")
    args = parser.parse_args(argv)
    config = dict(QUICK if args.quick else FULL, blas_threads=args.blas_threads)
    repeats = args.repeats or (1 if args.quick else 3)
    kinds = args.rows or list(ROW_KINDS)

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["numpy", "sklearn", "skmultimodal"])
    print(f"CCA pair {config['cca_widths'][0]} + {config['cca_widths'][1]} features, KCCA pair "
          f"{config['kcca_widths'][0]} + {config['kcca_widths'][1]} ({config['landmarks']} "
          f"landmarks), {N_COMPONENTS} components, chunks of {CHUNK} rows, float32; "
          f"median of {repeats} run(s); {os.cpu_count()} CPUs, {args.blas_threads} BLAS "
          f"thread(s), load average {os.getloadavg()[0]:.1f} at start")
    header = (f"{'row':12s} {'n':>9s} {'fit s':>22s} {'us/row':>7s} {'data s':>7s} "
              f"{'peak MB':>8s} {'worker MB':>9s}")
    print(header)
    print("-" * len(header))
    table = {}
    for kind in kinds:
        sizes = args.sizes or ROW_KINDS[kind][2 if args.quick else 1]
        for n in sizes:
            result = measure(kind, n, config, repeats, context)
            table[kind, n] = result
            fit = result["fit"]
            worker = f"{result['worker_mb'][0]:9.0f}" if "worker_mb" in result else f"{'':9s}"
            print(f"{kind:12s} {n:9d} {_format(fit[0], fit[1:], 2):>22s} "
                  f"{1e6 * fit[0] / n:7.2f} {result.get('data', (0,))[0]:7.2f} "
                  f"{result['peak_mb'][0]:8.0f} {worker}", flush=True)
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")
    print("flatness, largest n against smallest n (targets: both ratios within 1.5):")
    for kind in kinds:
        sizes = sorted(n for k, n in table if k == kind)
        if len(sizes) < 2:
            continue
        small, large = table[kind, sizes[0]], table[kind, sizes[-1]]
        per_row = (large["fit"][0] / sizes[-1]) / (small["fit"][0] / sizes[0])
        memory = large["peak_mb"][0] / small["peak_mb"][0]
        extra = ""
        if "worker_mb" in large:
            extra = f", worker peak {large['worker_mb'][0] / small['worker_mb'][0]:.2f}"
        print(f"  {kind:12s} time per row {per_row:.2f}, peak memory {memory:.2f}{extra}")
    if ("cca_stream", 10**6) in table:
        seconds = table["cca_stream", 10**6]["fit"][0]
        print(f"CCA streaming of 10^6 rows x (500 + 500): {seconds:.1f} s (target < 60 s): "
              f"{'met' if seconds < 60 else 'NOT met'}")


if __name__ == "__main__":
    sys.exit(main())
