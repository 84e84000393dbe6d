"""Where the first layer's zero-skipping starts to pay: training time on compressed rows
against the dense path, by input density, on W1's and W2's shapes; and for one sample
per inference call (W4b's shape), the row's nonzeros against the dense product.

    python bench/sparse_threshold.py [--samples 4000] [--repeats 5]

Random inputs with the given fraction of nonzero entries (uniform in (0, 1]); each row
is timed interleaved (dense, compressed, dense, ...) from the same starting weights, on
one thread, and the median is printed with the ratio dense / compressed (above 1: the
compressed rows win).  `fastmlp.sparse.SPARSE_BELOW` is set from the training table,
FM_SPARSE_ROW_DENSITY (csrc/network_forward.template.h) from the inference table.
"""
import argparse
import statistics
import time
from unittest import mock

import numpy as np

from fastmlp import _kernels, kernel_backend, runtime, sparse

SHAPES = {"W1": ([784, 30, 10], 10), "W2": ([784, 100, 10], 1)}
DENSITIES = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)


def epoch_seconds(sizes, batch, X, Y, dtype, compressed):
    """One epoch's time on X, dense or as compressed rows, from the same starting weights."""
    rng = np.random.default_rng(0)
    W = [(rng.standard_normal((o, i)) / np.sqrt(i)).astype(dtype) for i, o in zip(sizes[:-1], sizes[1:])]
    b = [np.zeros(o, dtype=W[0].dtype) for o in sizes[1:]]
    inputs = _kernels.compress_rows(X) if compressed else X
    trainer = kernel_backend.Trainer(W, b, batch_size=batch, cost="quadratic", output="sigmoid")
    with mock.patch.dict(sparse.SPARSE_BELOW, {"few rows": 0.0, "packed": 0.0}):
        trainer._prepared(inputs)  # the path under test (dense stays dense), set up untimed
    start = time.perf_counter()
    trainer.epoch(inputs, Y, None, 0.5, 0.0)
    return time.perf_counter() - start


def one_sample_seconds(arrays, x, out, calls=2000):
    start = time.perf_counter()
    for _ in range(calls):
        _kernels.network_forward(arrays, x, out)
    return (time.perf_counter() - start) / calls


def inference_table(repeats):
    """One sample per call through [784, 100, 10]: the dense product on a dense row
    against the nonzeros of a row of the given density (as compressed rows)."""
    rng = np.random.default_rng(2)
    print(f"{'one sample':10} {'dtype':8} {'density':>8} {'dense us':>9} {'nonzeros us':>12} {'dense/nonzeros':>15}")
    for dtype in (np.float64, np.float32):
        W = [rng.standard_normal((100, 784)).astype(dtype), rng.standard_normal((10, 100)).astype(dtype)]
        b = [np.zeros(100, dtype), np.zeros(10, dtype)]
        arrays = _kernels.NetworkArrays(W, b)
        out = np.empty((1, 10), dtype)
        dense_x = (1 - rng.random((1, 784))).astype(dtype)
        for density in DENSITIES[:-1]:
            x = ((1 - rng.random((1, 784))) * (rng.random((1, 784)) < density)).astype(dtype)
            rows = _kernels.compress_rows(x)
            pair = {False: [], True: []}
            for _ in range(repeats):
                pair[False].append(one_sample_seconds(arrays, dense_x, out))
                pair[True].append(one_sample_seconds(arrays, rows, out))
            dense, sparse = statistics.median(pair[False]) * 1e6, statistics.median(pair[True]) * 1e6
            print(f"{'W4b':10} {np.dtype(dtype).name:8} {density:8.2f} {dense:9.2f} {sparse:12.2f} "
                  f"{dense / sparse:15.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"ISA {_kernels.get_isa()}, 1 thread, {args.samples} samples")
    print(f"{'shape':6} {'dtype':8} {'density':>8} {'dense s':>9} {'compressed s':>13} {'dense/compressed':>17}")
    rng = np.random.default_rng(1)
    with runtime.threads(1):
        for name, (sizes, batch) in SHAPES.items():
            n = args.samples if batch > 1 else args.samples // 4
            for dtype in (np.float64, np.float32):
                Y = np.eye(sizes[-1], dtype=dtype)[rng.integers(0, sizes[-1], n)]
                for density in DENSITIES:
                    X = ((1 - rng.random((n, sizes[0]))) * (rng.random((n, sizes[0])) < density)).astype(dtype)
                    pair = {False: [], True: []}
                    for _ in range(args.repeats):
                        for compressed in (False, True):
                            pair[compressed].append(epoch_seconds(sizes, batch, X, Y, dtype, compressed))
                    dense, sparse = statistics.median(pair[False]), statistics.median(pair[True])
                    print(f"{name:6} {np.dtype(dtype).name:8} {density:8.2f} {dense:9.4f} {sparse:13.4f} "
                          f"{dense / sparse:17.2f}")
        inference_table(args.repeats)


if __name__ == "__main__":
    main()
