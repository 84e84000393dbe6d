"""Where splitting small steps among threads starts to pay (csrc/split.template.h): one
epoch on 2 threads against 1, by network and batch, dense and compressed inputs, with
every step split, and each step's work as fm_split_threads counts it.

    python bench/split_threshold.py [--samples 20000] [--repeats 5]

Random inputs (dense, or 19 % nonzero like MNIST and then compressed); each row is timed
interleaved (1 thread, 2 threads, 1, ...) from the same starting weights, after a warm-up
epoch, and the medians are printed with their ratio (above 1: 2 threads win).  The
threshold SPLIT_MIN_FLOPS in csrc/threads.c lies between the float64 flops per thread of
the steps that lost and of those that won.
"""
import argparse
import statistics
import time

import numpy as np

from fastmlp import _kernels, kernel_backend, runtime

CASES = [  # (sizes, batch)
    ([784, 30, 10], 10), ([784, 100, 10], 10), ([784, 100, 10], 1), ([784, 30, 10], 1),
    ([784, 300, 10], 1), ([196, 30, 10], 10), ([196, 30, 10], 1), ([64, 16, 10], 4),
]


def step_flops(sizes, batch, density, dtype):
    """One step's work as csrc/split.template.h counts it, in float64 flops."""
    flops = sum(6 * i * o * batch * (density if l == 0 else 1.0)
                for l, (i, o) in enumerate(zip(sizes[:-1], sizes[1:])))
    return flops * np.dtype(dtype).itemsize / 8


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"{'sizes':>16} {'batch':>5} {'inputs':>10} {'dtype':>7} {'flops/thread':>12} "
          f"{'1 thread':>9} {'2 threads':>9} {'ratio':>6}")
    before = _kernels._set_split_min_flops(0)
    try:
        for sizes, batch in CASES:
            for inputs in ("dense", "compressed"):
                X = rng.random((args.samples, sizes[0]))
                if inputs == "compressed":
                    X[rng.random(X.shape) >= 0.19] = 0
                Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], args.samples)]
                for dtype in ("float64", "float32"):
                    Xd, Yd = X.astype(dtype), Y.astype(dtype)
                    if inputs == "compressed":
                        Xd = _kernels.compress_rows(Xd)
                    start = [(rng.standard_normal((o, i)) / np.sqrt(i)).astype(dtype)
                             for i, o in zip(sizes[:-1], sizes[1:])]
                    trainers = {t: kernel_backend.Trainer(
                        [w.copy() for w in start], [np.zeros(o, dtype) for o in sizes[1:]],
                        batch_size=batch, cost="quadratic", output="sigmoid") for t in (1, 2)}
                    times = {1: [], 2: []}
                    for repeat in range(args.repeats + 1):
                        for t, trainer in trainers.items():
                            with runtime.threads(t):
                                began = time.perf_counter()
                                trainer.epoch(Xd, Yd, None, 0.1, 0.0)
                                if repeat:  # the first round warms up
                                    times[t].append(time.perf_counter() - began)
                    one, two = statistics.median(times[1]), statistics.median(times[2])
                    density = 0.19 if inputs == "compressed" else 1.0
                    per_thread = step_flops(sizes, batch, density, dtype) / 2
                    print(f"{str(sizes):>16} {batch:>5} {inputs:>10} {dtype:>7} "
                          f"{per_thread:>12.3g} {one * 1e3:>7.1f}ms {two * 1e3:>7.1f}ms "
                          f"{one / two:>5.2f}x", flush=True)
    finally:
        _kernels._set_split_min_flops(before)


if __name__ == "__main__":
    main()
