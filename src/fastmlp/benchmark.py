"""The benchmark suite: fastmlp against NumPy (and PyTorch) on the workloads W1-W4, and
its bare matrix product against NumPy's matmul (fastmlp.benchmark_products).

Every row is measured in one process: the contenders run interleaved, each repeat from
the same starting parameters, and the median of the repeats is reported, with the thread
count pinned on every side.  Before timing, each workload checks that the contenders
compute the same weights (or outputs).  The machine's limits are measured in the same
run: NumPy's matrix-multiply peak (each row gives its % of it) and one core's L2
bandwidth, which bounds online training (batch 1) from below: each sample sweeps the
weights through L2 twice.  W1, W2 and W4b (one image per call) run on MNIST and on dense
random data side by side; with `compete`, W1 and W3 run again while a CPU-bound process
competes for a core.

    python -m fastmlp bench            # the quick comparison (under a minute)
    python bench/run.py                # the full suite, JSON in bench/results/
"""
import argparse
import datetime
import functools
import json
import os
import platform
from typing import NamedTuple

import numpy as np

from . import Network, datasets, kernel_backend, numpy_backend, peers, runtime
from .benchmark_measure import (blas_pinnable, check_same, competing_process, l2_bandwidth,
                                l2_floor_seconds, matmul_peak, pinned, time_interleaved)
from .benchmark_products import PRODUCTS, format_products, measure_product


class Workload(NamedTuple):
    id: str
    label: str
    sizes: list
    batch: int | None  # None: inference
    samples: tuple  # (full, quick)
    dtypes: tuple  # in the full suite; the quick one takes QUICK_DTYPES where given
    threads: tuple
    kind: str  # "train", "infer_batch" or "infer_single"
    every_dataset: bool  # on MNIST and on dense random data side by side, else the first


WORKLOADS = [
    Workload("W1", "nielsen", [784, 30, 10], 10, (50_000, 5_000), ("float64", "float32"), (1, 2),
             "train", True),
    Workload("W2", "online", [784, 100, 10], 1, (10_000, 1_000), ("float64", "float32"), (1, 2),
             "train", True),
    Workload("W3", "wide", [784, 1024, 1024, 10], 128, (60_000, 2_560), ("float32", "float64"),
             (1, 2), "train", False),
    Workload("W4a", "inference, all at once", [784, 100, 10], None, (10_000, 10_000),
             ("float64", "float32"), (1,), "infer_batch", False),
    Workload("W4b", "inference, one at a time", [784, 100, 10], None, (10_000, 2_000),
             ("float64", "float32"), (1,), "infer_single", True),
]
QUICK_DTYPES = {"W3": ("float32",)}
# Run again beside a competing CPU-bound process (`compete`), in their first dtype.
COMPETING = ("W1", "W3")
# The id that selects the bare product rows in `only`.
PRODUCTS_ID = "products"
# The per-sample loop is slow; it runs on at most this many samples (rates are compared).
LOOP_SAMPLES = {"full": 10_000, "quick": 1_000}
TRAIN_LR = 0.5


def training_flops(sizes):
    """Flops per sample of one training step: 2 forward, 2 for dW, 2 for the input
    gradient per weight, except the first layer, which needs no input gradient."""
    pairs = list(zip(sizes[:-1], sizes[1:]))
    return sum(6 * i * o for i, o in pairs) - 2 * pairs[0][0] * pairs[0][1]


def inference_flops(sizes):
    return sum(2 * i * o for i, o in zip(sizes[:-1], sizes[1:]))


# --- data and contenders -------------------------------------------------------------------

def load_data(samples, dense_samples):
    """{"MNIST": (X, y), "dense": (X, y)}: MNIST's training images repeated up to `samples`
    rows (left out when $FASTMLP_DATA does not point at them), and `dense_samples` rows
    of dense random data of MNIST's shape, uniform in [0, 1), with random labels (MNIST is
    81% zeros, which fastmlp's first layer may skip; this data has none); `samples` rows
    of it when there is no MNIST."""
    data = {}
    try:
        X, y = datasets.load_mnist()["train"]
        reps = -(-samples // len(X))
        data["MNIST"] = np.tile(X, (reps, 1))[:samples], np.tile(y, reps)[:samples]
    except (FileNotFoundError, ValueError):
        pass
    n = dense_samples if data else max(samples, dense_samples)
    if n:
        rng = np.random.default_rng(0)
        data["dense"] = rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n)
    return data


def starting_parameters(sizes, dtype):
    net = Network(sizes, init="scaled", dtype=dtype, seed=0)
    return [l.weights.copy() for l in net.layers], [l.biases.copy() for l in net.layers]


def fastmlp_network(weights, biases):
    net = Network([weights[0].shape[1]] + [w.shape[0] for w in weights], dtype=weights[0].dtype)
    for layer, w, b in zip(net.layers, weights, biases):
        layer.weights, layer.biases = w, b
    return net


def trainers(sizes, dtype, batch, with_loop, with_torch):
    """name -> run(X, Y, y, order) -> final (weights, biases); each starts afresh.  Every
    contender is a trainer of `fastmlp.backend`'s interface, run for one epoch."""
    contenders = {"fastmlp": kernel_backend.Trainer,
                  "numpy": functools.partial(numpy_backend.Trainer, monitor=False)}
    if with_loop:
        contenders["loop"] = peers.NielsenTrainer
    if with_torch:
        contenders["torch"] = peers.TorchTrainer

    start_w, start_b = starting_parameters(sizes, dtype)  # drawn once, copied per run

    def runner(make_trainer):
        def run(X, Y, y, order):
            w, b = [a.copy() for a in start_w], [a.copy() for a in start_b]
            trainer = make_trainer(w, b, batch_size=batch, cost="quadratic", output="sigmoid")
            trainer.epoch(X, Y, order, TRAIN_LR, 0.0)
            # PyTorch trains copies inside its model; the others train w and b in place
            return trainer.parameters() if hasattr(trainer, "parameters") else (w, b)
        return run

    return {name: runner(make) for name, make in contenders.items()}


def inferers(sizes, dtype, single, with_torch):
    """name -> run(X) -> outputs, for a network built from the shared start."""
    w, b = starting_parameters(sizes, dtype)
    net = fastmlp_network(w, b)
    out = {}
    if single:
        out["fastmlp"] = lambda X: np.array([net.forward(x) for x in X])
        out["numpy"] = lambda X: np.array([numpy_backend.forward(w, b, x[None])[0] for x in X])
    else:
        out["fastmlp"] = net.forward
        out["numpy"] = lambda X: numpy_backend.forward(w, b, X)
    if with_torch:
        model = peers.TorchTrainer(w, b)  # only its forward pass is used
        if single:
            out["torch"] = lambda X: np.array([model.forward(x[None])[0] for x in X])
        else:
            out["torch"] = model.forward
    return out


# --- one row -------------------------------------------------------------------------------

def measure(workload, dtype, threads, mode, data, repeats, with_torch, peak, bandwidth,
            competing=False):
    """One row: `workload` on the dataset `data` (its name and (X, y)), checked, then
    timed against its peers.  `peak`: NumPy's matmul GFLOP/s at this dtype and thread
    count; `bandwidth`: one core's L2 bytes/s; `competing`: whether a competing process
    runs meanwhile (it only names the row)."""
    wid, label, sizes, batch, samples, _, _, kind, _ = workload
    data_name, (X_all, y_all) = data
    n = samples[0] if mode == "full" else samples[1]
    X = np.ascontiguousarray(X_all[:n], dtype=dtype)
    y = y_all[:n]
    Y = np.eye(sizes[-1], dtype=dtype)[y]
    counts = {}
    with pinned(threads):
        if kind == "train":
            with_loop = sizes == [784, 30, 10] or batch == 1
            runs = trainers(sizes, dtype, batch, with_loop, with_torch)
            m = min(n, 20 * batch)  # the check: 20 mini-batches in order
            check_same({k: r(X[:m], Y[:m], y[:m], None) for k, r in runs.items()}, dtype,
                       f"{wid} {data_name} {dtype}")
            order = np.random.default_rng(1).permutation(n)
            loop_n = min(n, LOOP_SAMPLES[mode])
            counts = {k: (loop_n if k == "loop" else n) for k in runs}

            def args_for(name):
                k = counts[name]
                if k == n:
                    return X, Y, y, order
                sub = np.random.default_rng(1).permutation(k)
                return X[:k], Y[:k], y[:k], sub

            seconds = time_interleaved(runs, args_for, repeats, threads)
            flops = training_flops(sizes)
        else:
            runs = inferers(sizes, dtype, kind == "infer_single", with_torch)
            check_same({k: [r(X[:50])] for k, r in runs.items()}, dtype, f"{wid} {data_name} {dtype}")
            counts = {k: n for k in runs}
            seconds = time_interleaved(runs, lambda name: (X,), repeats, threads)
            flops = inference_flops(sizes)
    rate = {k: counts[k] / s for k, s in seconds.items()}
    ours = rate["fastmlp"]
    gflops = ours * flops / 1e9
    row = {
        "workload": wid, "name": f"{wid} {data_name}" + (" +busy" if competing else ""),
        "label": label, "data": data_name, "competing": competing, "sizes": sizes,
        "batch": batch, "dtype": dtype, "threads": threads, "samples": n,
        "seconds": seconds["fastmlp"], "samples_per_s": ours, "gflops": gflops,
        "peak_gflops": peak, "percent_of_peak": 100 * gflops / peak,
        "peers": {k: {"samples": counts[k], "seconds": seconds[k], "samples_per_s": rate[k],
                      "speedup": ours / rate[k]} for k in rate if k != "fastmlp"},
    }
    if batch == 1:  # online training: the L2 floor per sample, and how near the row comes
        floor = l2_floor_seconds(sizes, dtype, bandwidth)
        row.update(l2_floor_seconds=floor, percent_of_l2_floor=100 * floor * ours)
    return row


# --- the report ----------------------------------------------------------------------------

def blas():
    """NumPy's BLAS: name, version, core type and default thread count (threadpoolctl),
    else what NumPy's build says."""
    try:
        from threadpoolctl import threadpool_info
        found = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    except ImportError:
        found = []
    if found:
        i = found[0]
        core = f"{i['architecture']} core, " if i.get("architecture") else ""
        return f"{i.get('internal_api')} {i.get('version')} ({core}{i.get('num_threads')} threads)"
    try:
        config = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{config.get('name')} {config.get('version')}"
    except Exception:  # older NumPy: no dict form
        return "unknown"


def machine():
    """The facts the table's header gives: runtime.machine() (CPU, caches, path, threads),
    the product's cache blocks, versions and the date."""
    from . import _testing

    info = runtime.machine()
    info.update(python=platform.python_version(), numpy=np.__version__, blas=blas(),
                blas_pinned=blas_pinnable(),
                date=datetime.datetime.now().isoformat(timespec="seconds"),
                gemm_blocks={d: _testing.gemm_layout(d) for d in ("float32", "float64")})
    if peers.torch_available():
        import torch
        info["torch"] = torch.__version__
    return info


def header(info):
    """The lines above the tables: the machine, the software, the limits measured."""
    blocks = "; ".join(f"{d} {b['mc']} x {b['nc']} x {b['kc']} (tile {b['mr']} x {b['nr']})"
                       for d, b in info["gemm_blocks"].items())
    peaks = ", ".join(f"{key} {value:.1f}" for key, value in info["matmul_peak_gflops"].items())
    lines = [f"fastmlp benchmark, {info['date']}", *runtime.describe_machine(info),
             f"path {info['isa']} (this CPU runs {', '.join(info['isas'])}); GEMM blocks "
             f"mc x nc x kc: {blocks}",
             f"threads: fastmlp {info['threads']} by default, each row pins every contender "
             f"to its own; NumPy {info['numpy']} with {info['blas']}; "
             + (f"PyTorch {info['torch']}" if "torch" in info else "PyTorch not installed"),
             *([] if info["blas_pinned"] else [
                 "WARNING: NumPy's BLAS threads are not pinned (threadpoolctl is not installed; "
                 "pip install 'fastmlp[bench]'): its rows ran on its default thread count, so "
                 "the 'vs numpy' ratios of 1-thread rows are not like for like"]),
             f"data: {info['data']}; mode {info['mode']}, median of {info['repeats']}",
             f"measured in this run: NumPy's matmul peak (GFLOP/s, dtype x threads) {peaks}; "
             f"L2 bandwidth of one core {info['l2_bandwidth'] / 1e9:.1f} GB/s (NumPy copies)"]
    if info["competing"]:
        lines.append("rows marked +busy ran while a competing CPU-bound process spun on one core")
    return lines


def format_table(rows, info, products=()):
    """The header, the workload rows and the product rows, for people."""
    peer_names = ["numpy", "loop", "torch"]
    head = (f"{'workload':<16} {'dtype':<8} {'thr':>3} {'samples':>7} {'seconds':>8} "
            f"{'samples/s':>10} {'GFLOP/s':>8} {'% peak':>7} {'% L2':>6} "
            + " ".join(f"{'vs ' + p:>9}" for p in peer_names))
    lines = header(info)
    if rows:
        lines += ["", head, "-" * len(head)]
    for r in rows:
        ratios = []
        for p in peer_names:
            peer = r["peers"].get(p)
            ratios.append(f"{peer['speedup']:8.2f}x" if peer else f"{'-':>9}")
        floor = f"{r['percent_of_l2_floor']:5.1f}%" if "percent_of_l2_floor" in r else f"{'-':>6}"
        lines.append(f"{r['name']:<16} {r['dtype']:<8} {r['threads']:>3} {r['samples']:>7} "
                     f"{r['seconds']:8.3f} {r['samples_per_s']:10.0f} {r['gflops']:8.1f} "
                     f"{r['percent_of_peak']:6.1f}% {floor} " + " ".join(ratios))
    if rows:
        lines.append("vs X: fastmlp's samples/s over X's, same run (above 1: fastmlp is faster). "
                     "loop: per-sample NumPy in the style of network.py; % peak: of NumPy's "
                     "matmul GFLOP/s at that dtype and thread count; % L2 (batch 1): the time "
                     "per sample of two sweeps of the parameters through L2 at the bandwidth "
                     "above, over fastmlp's.")
    if products:
        lines += ["", format_products(products)]
    return "\n".join(lines)


def selected(only):
    """The workloads `only` names (by id, or family: W4 is W4a and W4b); all for None."""
    return [w for w in WORKLOADS if not only or w.id in only or w.id[:2] in only]


def run(mode="quick", repeats=3, only=None, threads=None, json_path=None, torch=True, echo=print,
        compete=False, workloads=None, products=None, data=None):
    """Run the suite; returns (workload rows, product rows, machine info).

    `only`, `threads`: ids (of WORKLOADS, or PRODUCTS_ID) and thread counts to run instead
    of all and each one's own.  `workloads`, `products` and `data` ({name: (X, y)}) replace
    WORKLOADS, PRODUCTS and the loaded data (the tests run tiny ones).
    """
    info = machine()
    with_torch = torch and peers.torch_available()
    index = 0 if mode == "full" else 1
    if workloads is None:
        workloads = selected(only)
    if products is None:
        products = PRODUCTS if not only or PRODUCTS_ID in only else []
    if data is None and workloads:
        dense = [w.samples[index] for w in workloads if w.every_dataset] or [0]
        data = load_data(max(w.samples[index] for w in workloads), max(dense))
    info.update(mode=mode, repeats=repeats,
                data=" and ".join(name if name == "MNIST" else f"{name} random data"
                                  for name in data or {}) or "none")
    caches = info["caches"]
    info["l2_bandwidth"] = l2_bandwidth(caches["l1d"]["bytes"], caches["l2"]["bytes"])
    echo(f"data: {info['data']}; mode {mode}, median of {repeats}")
    peaks = {}

    def peak(dtype, t):
        if (dtype, t) not in peaks:
            peaks[dtype, t] = matmul_peak(dtype, t, 2048 if mode == "full" else 1024)
        return peaks[dtype, t]

    def measure_rows(workload, dtypes, competing=False):
        datasets_here = list(data.items()) if workload.every_dataset else list(data.items())[:1]
        for dtype in dtypes:
            for t in (threads or workload.threads):
                for dataset in datasets_here:
                    row = measure(workload, dtype, t, mode, dataset, repeats, with_torch,
                                  peak(dtype, t), info["l2_bandwidth"], competing)
                    rows.append(row)
                    echo(f"  {row['name']} {dtype} threads={t}: {row['seconds']:.3f} s, "
                         + ", ".join(f"{k} {v['speedup']:.2f}x" for k, v in row["peers"].items()))

    rows, product_rows = [], []
    for workload in workloads:
        dtypes = QUICK_DTYPES.get(workload.id, workload.dtypes) if mode == "quick" else workload.dtypes
        measure_rows(workload, dtypes)
    for product in products:
        for dtype in ("float32", "float64"):
            for t in (threads or (1, 2)):
                row = measure_product(product, dtype, t, mode, repeats, peak(dtype, t))
                product_rows.append(row)
                echo(f"  {row['product']} {dtype} threads={t}: {row['gflops']:.1f} GFLOP/s, "
                     f"numpy {row['speedup']:.2f}x")
    competing = [w for w in workloads if w.id in COMPETING] if compete else []
    if compete and not competing:
        echo(f"compete: none of {', '.join(COMPETING)} is selected; no row runs beside a competitor")
    if competing:
        with competing_process():
            for workload in competing:
                measure_rows(workload, workload.dtypes[:1], competing=True)
    info["competing"] = bool(competing)
    info["matmul_peak_gflops"] = {f"{d} x{t}": round(p, 1) for (d, t), p in peaks.items()}
    if json_path:
        os.makedirs(os.path.dirname(os.path.abspath(json_path)), exist_ok=True)
        with open(json_path, "w") as f:
            json.dump({"machine": info, "mode": mode, "repeats": repeats, "rows": rows,
                       "products": product_rows}, f, indent=1)
    return rows, product_rows, info


def add_arguments(parser):
    from .cli.arguments import integer, thread_count

    # a workload's id, or its family's (W4 is W4a and W4b), or the bare products
    ids = sorted({w.id for w in WORKLOADS} | {w.id[:2] for w in WORKLOADS}) + [PRODUCTS_ID]
    parser.add_argument("--full", action="store_true", help="the full workloads (minutes)")
    parser.add_argument("--repeats", type=integer(1), default=3,
                        help="timed repeats per row (median)")
    parser.add_argument("--only", nargs="*", metavar="ID", choices=ids,
                        help=f"workloads to run, of {' '.join(ids)} (default: all)")
    parser.add_argument("--threads", type=thread_count, nargs="*",
                        help="thread counts (default per workload)")
    parser.add_argument("--compete", action="store_true",
                        help=f"also run {' and '.join(COMPETING)} while a CPU-bound process "
                             f"competes for a core")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")


def main(args):
    rows, products, info = run("full" if args.full else "quick", args.repeats, args.only,
                               args.threads, args.json, not args.no_torch, compete=args.compete)
    print()
    print(format_table(rows, info, products))
    if args.json:
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(p)
    raise SystemExit(main(p.parse_args()))
