"""The benchmark suite: fastmlp against NumPy (and PyTorch) on the workloads W1-W4.

Every row is measured in one process: the contenders run interleaved, each repeat from
the same starting parameters, and the median of the repeats is reported, with the thread
count pinned on every side.  Before timing, each workload checks that the contenders
compute the same weights (or outputs).  The matrix-multiply peak of NumPy's BLAS is
measured in the same run, so each row shows how close it comes to the machine's limit.

    python -m fastmlp bench            # the quick comparison (under a minute)
    python bench/run.py                # the full suite, JSON in bench/results/
"""
import argparse
import contextlib
import datetime
import functools
import json
import os
import platform
import statistics
import time

import numpy as np

from . import Network, datasets, kernel_backend, numpy_backend, peers, runtime

# id, description, sizes, batch, samples (full, quick), dtypes (full, quick), threads, kind
WORKLOADS = [
    ("W1", "nielsen", [784, 30, 10], 10, (50_000, 5_000), ("float64", "float32"), (1,), "train"),
    ("W2", "online", [784, 100, 10], 1, (10_000, 1_000), ("float64", "float32"), (1,), "train"),
    ("W3", "wide", [784, 1024, 1024, 10], 128, (60_000, 2_560), ("float32", "float64"), (1, 2),
     "train"),
    ("W4a", "inference, all at once", [784, 100, 10], None, (10_000, 10_000),
     ("float64", "float32"), (1,), "infer_batch"),
    ("W4b", "inference, one at a time", [784, 100, 10], None, (10_000, 2_000),
     ("float64", "float32"), (1,), "infer_single"),
]
QUICK_DTYPES = {"W3": ("float32",)}
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


# --- threads -----------------------------------------------------------------------------

@contextlib.contextmanager
def pinned(threads):
    """Pin fastmlp, NumPy's BLAS (through threadpoolctl) and PyTorch to `threads`."""
    stack = contextlib.ExitStack()
    with stack:
        stack.enter_context(runtime.threads(threads))
        try:
            from threadpoolctl import threadpool_limits
            stack.enter_context(threadpool_limits(limits=threads, user_api="blas"))
        except ImportError:
            pass
        torch_before = None
        if peers.torch_available():
            import torch
            torch_before = torch.get_num_threads()
            torch.set_num_threads(threads)
        try:
            yield
        finally:
            if torch_before is not None:
                import torch
                torch.set_num_threads(torch_before)


def matmul_peak(dtype, threads, n):
    """NumPy's matrix-multiply GFLOP/s for n x n matrices: the machine's practical peak."""
    rng = np.random.default_rng(0)
    a, b = rng.random((n, n)).astype(dtype), rng.random((n, n)).astype(dtype)
    with pinned(threads):
        a @ b
        times = []
        for _ in range(3):
            start = time.perf_counter()
            a @ b
            times.append(time.perf_counter() - start)
    return 2 * n ** 3 / min(times) / 1e9


# --- data and contenders -------------------------------------------------------------------

def load_data(samples):
    """MNIST (when $FASTMLP_DATA points at it), else random data of MNIST's shape."""
    try:
        X, y = datasets.load_mnist()["train"]
        source = "MNIST"
    except (FileNotFoundError, ValueError):
        rng = np.random.default_rng(0)
        X, y = rng.random((60_000, 784)), rng.integers(0, 10, 60_000)
        source = "random MNIST-shaped"
    reps = -(-samples // len(X))
    return np.tile(X, (reps, 1))[:samples], np.tile(y, reps)[:samples], source


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

    def runner(make_trainer):
        def run(X, Y, y, order):
            w, b = starting_parameters(sizes, dtype)
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


# --- checking and timing -------------------------------------------------------------------

TOLERANCE = {"float64": 1e-7, "float32": 2e-3}


def flatten(arrays):
    """One flat float64 array from nested lists and tuples of arrays."""
    if isinstance(arrays, (list, tuple)):
        return np.concatenate([flatten(a) for a in arrays])
    return np.ravel(arrays).astype(np.float64)


def check_same(results, dtype, what):
    """Every contender's arrays equal fastmlp's within the dtype's tolerance, or raise."""
    mine = flatten(results["fastmlp"])
    for name, theirs in results.items():
        other = flatten(theirs)
        if not np.allclose(mine, other, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype]):
            worst = np.max(np.abs(mine - other))
            raise AssertionError(f"{what}: {name} differs from fastmlp by up to {worst:.3g}: "
                                 f"they do not compute the same thing")


def time_interleaved(runs, args_for, repeats):
    """Median seconds of each contender over `repeats` rounds, contenders interleaved."""
    times = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            args = args_for(name)
            start = time.perf_counter()
            run(*args)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def measure(workload, dtype, threads, mode, X_all, y_all, repeats, with_torch, peak):
    wid, label, sizes, batch, samples, _, _, kind = workload
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
                       f"{wid} {dtype}")
            order = np.random.default_rng(1).permutation(n)
            loop_n = min(n, LOOP_SAMPLES[mode])
            counts = {k: (loop_n if k == "loop" else n) for k in runs}

            def args_for(name):
                k = counts[name]
                if k == n:
                    return X, Y, y, order
                sub = np.random.default_rng(1).permutation(k)
                return X[:k], Y[:k], y[:k], sub

            seconds = time_interleaved(runs, args_for, repeats)
            flops = training_flops(sizes)
        else:
            runs = inferers(sizes, dtype, kind == "infer_single", with_torch)
            check_same({k: [r(X[:50])] for k, r in runs.items()}, dtype, f"{wid} {dtype}")
            counts = {k: n for k in runs}
            seconds = time_interleaved(runs, lambda name: (X,), repeats)
            flops = inference_flops(sizes)
    rate = {k: counts[k] / s for k, s in seconds.items()}
    ours = rate["fastmlp"]
    gflops = ours * flops / 1e9
    row = {
        "workload": wid, "label": label, "sizes": sizes, "batch": batch, "dtype": dtype,
        "threads": threads, "samples": n, "seconds": seconds["fastmlp"],
        "samples_per_s": ours, "gflops": gflops, "peak_gflops": peak,
        "percent_of_peak": 100 * gflops / peak,
        "peers": {k: {"samples": counts[k], "seconds": seconds[k], "samples_per_s": rate[k],
                      "speedup": ours / rate[k]} for k in rate if k != "fastmlp"},
    }
    return row


# --- the report ----------------------------------------------------------------------------

def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    info = {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "fastmlp_isa": runtime.get_isa(),
            "date": datetime.datetime.now().isoformat(timespec="seconds")}
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["blas"] = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # older NumPy: no dict form
        pass
    if peers.torch_available():
        import torch
        info["torch"] = torch.__version__
    return info


def format_table(rows, info):
    peer_names = ["numpy", "loop", "torch"]
    head = (f"{'workload':<30} {'dtype':<8} {'thr':>3} {'samples':>7} {'seconds':>8} "
            f"{'samples/s':>10} {'GFLOP/s':>8} {'% peak':>7} "
            + " ".join(f"{'vs ' + p:>9}" for p in peer_names))
    lines = [f"fastmlp benchmark on {info['cpu']} ({info['cores']} cores), path "
             f"{info['fastmlp_isa']}, NumPy {info['numpy']} ({info.get('blas', '?')})"
             + (f", PyTorch {info['torch']}" if "torch" in info else ", PyTorch not installed"),
             head, "-" * len(head)]
    for r in rows:
        name = f"{r['workload']} {r['label']}"
        ratios = []
        for p in peer_names:
            peer = r["peers"].get(p)
            ratios.append(f"{peer['speedup']:8.2f}x" if peer else f"{'-':>9}")
        lines.append(f"{name:<30} {r['dtype']:<8} {r['threads']:>3} {r['samples']:>7} "
                     f"{r['seconds']:8.3f} {r['samples_per_s']:10.0f} {r['gflops']:8.1f} "
                     f"{r['percent_of_peak']:6.1f}% " + " ".join(ratios))
    lines.append("vs X: fastmlp's samples/s over X's, same run (above 1: fastmlp is faster). "
                 "loop: network.py's per-sample NumPy loop as the book writes it; % peak: of NumPy's "
                 "matmul GFLOP/s at that dtype and thread count.")
    return "\n".join(lines)


def run(mode="quick", repeats=3, only=None, threads=None, json_path=None, torch=True, echo=print):
    """Run the suite; returns (rows, machine info)."""
    info = machine()
    with_torch = torch and peers.torch_available()
    largest = max(w[4][0 if mode == "full" else 1] for w in WORKLOADS)
    X_all, y_all, info["data"] = load_data(largest)
    echo(f"data: {info['data']}; mode {mode}, median of {repeats}")
    peaks, rows = {}, []
    for workload in WORKLOADS:
        if only and workload[0] not in only and workload[0][:2] not in only:
            continue
        dtypes = QUICK_DTYPES.get(workload[0], workload[5]) if mode == "quick" else workload[5]
        for dtype in dtypes:
            for t in (threads or workload[6]):
                key = (dtype, t)
                if key not in peaks:
                    peaks[key] = matmul_peak(dtype, t, 2048 if mode == "full" else 1024)
                row = measure(workload, dtype, t, mode, X_all, y_all, repeats, with_torch,
                              peaks[key])
                rows.append(row)
                echo(f"  {row['workload']} {dtype} threads={t}: {row['seconds']:.3f} s, "
                     + ", ".join(f"{k} {v['speedup']:.2f}x" for k, v in row["peers"].items()))
    info["matmul_peak_gflops"] = {f"{d} x{t}": round(p, 1) for (d, t), p in peaks.items()}
    if json_path:
        os.makedirs(os.path.dirname(os.path.abspath(json_path)), exist_ok=True)
        with open(json_path, "w") as f:
            json.dump({"machine": info, "mode": mode, "repeats": repeats, "rows": rows}, f, indent=1)
    return rows, info


def add_arguments(parser):
    from .cli.arguments import integer, thread_count

    # a workload's id, or its family's (W4 is W4a and W4b)
    ids = sorted({w[0] for w in WORKLOADS} | {w[0][:2] for w in WORKLOADS})
    parser.add_argument("--full", action="store_true", help="the full workloads (minutes)")
    parser.add_argument("--repeats", type=integer(1), default=3,
                        help="timed repeats per row (median)")
    parser.add_argument("--only", nargs="*", metavar="ID", choices=ids,
                        help=f"workloads to run, of {' '.join(ids)} (default: all)")
    parser.add_argument("--threads", type=thread_count, nargs="*",
                        help="thread counts (default per workload)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")


def main(args):
    rows, info = run("full" if args.full else "quick", args.repeats, args.only, args.threads,
                     args.json, not args.no_torch)
    print()
    print(format_table(rows, info))
    if args.json:
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(p)
    raise SystemExit(main(p.parse_args()))
