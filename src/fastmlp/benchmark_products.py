"""The benchmark's bare matrix products: fastmlp's blocked product (`fastmlp._testing.gemm`,
no epilogue) against NumPy's matmul, on 1024^3 and on the products W3 computes.

W3 is [784, 1024, 1024, 10] on mini-batches of 128 rows; its two wide layers make nearly
all of its flops (the 10-neuron layer's products are 1% of them and left out).  Each
product is stored as the layers read it: X W^T (the forward pass, W of shape (n_out,
n_in)), D W (the error flowing back, D of shape (batch, n_out)) and D^T X (the weight
gradient).  NumPy computes the same views into a preallocated output, as fastmlp does.
"""
import time

import numpy as np

from . import _testing
from .benchmark_measure import check_same, pinned, time_interleaved

# name, M, N, K, use: the product A (M x K) times B (K x N) as `use` stores A and B
PRODUCTS = [
    ("1024^3", 1024, 1024, 1024, "A B"),
    ("W3 X W^T, 784 -> 1024", 128, 1024, 784, "X W^T"),
    ("W3 X W^T, 1024 -> 1024", 128, 1024, 1024, "X W^T"),
    ("W3 D W, 1024 -> 1024", 128, 1024, 1024, "D W"),
    ("W3 D^T X, 784 -> 1024", 1024, 784, 128, "D^T X"),
    ("W3 D^T X, 1024 -> 1024", 1024, 1024, 128, "D^T X"),
]
DTYPES = ("float32", "float64")
THREADS = (1, 2)
# Each timing repeats a product until it has done about this many flops (once at least,
# MAX_CALLS times at most), so that a small product is not timed on one short call.
FLOPS_PER_TIMING = {"full": 4e9, "quick": 1e9}
MAX_CALLS = 100
# Before each timing, the product runs untimed for this long: on several threads, after the
# pause that lets other libraries' threads go idle, a virtual machine's second CPU took
# several milliseconds to come back to speed (measured one call at a time on 2 threads:
# 68, 93, 133, 71, 92, 94, 132, 138, 140 GFLOP/s, against 85 from the second call on one).
WARM_UP_SECONDS = 0.02


def operands(M, N, K, use, dtype, rng):
    """A (M x K) and B (K x N) stored as `use` says; values N(0, 1 / K) in B, so that the
    products are near 1 in size."""
    def normal(shape, scale=1.0):
        return (rng.standard_normal(shape) * scale).astype(dtype)

    scale = 1 / np.sqrt(K)
    A = normal((K, M)).T if use == "D^T X" else normal((M, K))  # D^T: the transpose of D
    B = normal((N, K), scale).T if use == "X W^T" else normal((K, N), scale)  # W^T, or W, X
    return A, B


def measure_product(product, dtype, threads, mode, repeats, peak):
    """One row: the product by fastmlp and by NumPy, checked equal, then timed."""
    name, M, N, K, use = product
    A, B = operands(M, N, K, use, dtype, np.random.default_rng([M, N, K]))
    out = {"fastmlp": np.empty((M, N), dtype), "numpy": np.empty((M, N), dtype)}
    flops = 2.0 * M * N * K
    calls = min(MAX_CALLS, max(1, round(FLOPS_PER_TIMING[mode] / flops)))

    once = {"fastmlp": lambda: _testing.gemm(A, B, out["fastmlp"], threads=threads),
            "numpy": lambda: np.matmul(A, B, out=out["numpy"])}

    def calls_of(product):
        def run():
            for _ in range(calls):
                product()
        return run

    def warm_up_of(product):
        def run():
            start = time.perf_counter()
            while time.perf_counter() - start < WARM_UP_SECONDS:
                product()
        return run

    runs = {contender: calls_of(product) for contender, product in once.items()}
    warm_up = {contender: warm_up_of(product) for contender, product in once.items()}
    with pinned(threads):
        for run in runs.values():
            run()
        check_same(out, dtype, f"{name} {dtype}")
        seconds = time_interleaved(runs, lambda contender: (), repeats, threads, warm_up=warm_up)
    gflops = {k: calls * flops / s / 1e9 for k, s in seconds.items()}
    return {"product": name, "M": M, "N": N, "K": K, "use": use, "dtype": dtype,
            "threads": threads, "calls": calls, "seconds": seconds["fastmlp"] / calls,
            "gflops": gflops["fastmlp"], "numpy_gflops": gflops["numpy"],
            "speedup": seconds["numpy"] / seconds["fastmlp"], "peak_gflops": peak,
            "percent_of_peak": 100 * gflops["fastmlp"] / peak}


def format_products(rows):
    """The product rows as a table."""
    head = (f"{'product':<24} {'M x K x N':<16} {'dtype':<8} {'thr':>3} {'GFLOP/s':>8} "
            f"{'NumPy':>8} {'vs numpy':>9} {'% peak':>7}")
    lines = [head, "-" * len(head)]
    for r in rows:
        shape = f"{r['M']}x{r['K']}x{r['N']}"
        lines.append(f"{r['product']:<24} {shape:<16} {r['dtype']:<8} {r['threads']:>3} "
                     f"{r['gflops']:8.1f} {r['numpy_gflops']:8.1f} {r['speedup']:8.2f}x "
                     f"{r['percent_of_peak']:6.1f}%")
    lines.append("GFLOP/s: fastmlp's blocked product alone (no epilogue), A (M x K) times B "
                 "(K x N); NumPy: its matmul on the same operands (GFLOP/s); % peak: of NumPy's "
                 "matmul peak at that dtype and thread count.")
    return "\n".join(lines)
