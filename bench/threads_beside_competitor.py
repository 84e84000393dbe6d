"""Fits of several epochs on 1 and 2 threads, with and without a CPU-bound process
competing for a core: whether the split steps (csrc/split.template.h) gain on an idle
machine and hold level beside a competitor once the pool has seen it.

    python bench/threads_beside_competitor.py [--sizes 784 30 10] [--batch 10]

The bench's `--compete` rows time one short epoch each, so they mostly measure how fast the
pool notices the competitor; a fit of several epochs also shows how it runs afterwards.
Random dense inputs of MNIST's shape; each fit starts from the same weights; 1 and 2
threads alternate, after a warm-up fit of each, with a pause before every fit; medians.
"""
import argparse
import contextlib
import statistics
import time

import numpy as np

import fastmlp
from fastmlp.benchmark_measure import SETTLE_SECONDS, competing_process


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[784, 30, 10])
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--samples", type=int, default=20000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=4)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    X = rng.random((args.samples, args.sizes[0]))
    y = rng.integers(0, args.sizes[-1], args.samples)
    print(f"{args.sizes}, batch {args.batch}, {args.samples} samples, {args.epochs} epochs a fit")
    print(f"{'dtype':>8} {'competitor':>10} {'1 thread':>9} {'2 threads':>9} {'ratio':>6}")
    for dtype in ("float64", "float32"):
        Xd = X.astype(dtype)

        def fit(threads):
            net = fastmlp.Network(args.sizes, dtype=dtype, seed=0)
            time.sleep(SETTLE_SECONDS)
            start = time.perf_counter()
            net.fit(Xd, y, epochs=args.epochs, batch_size=args.batch, lr=0.5,
                    threads=threads, shuffle=False)
            return time.perf_counter() - start

        for competing in (False, True):
            with competing_process() if competing else contextlib.nullcontext():
                fit(1), fit(2)
                times = {1: [], 2: []}
                for _ in range(args.repeats):
                    for threads in (1, 2):
                        times[threads].append(fit(threads))
            one, two = (statistics.median(times[t]) for t in (1, 2))
            print(f"{dtype:>8} {'yes' if competing else 'no':>10} {one:8.3f}s {two:8.3f}s "
                  f"{one / two:5.2f}x", flush=True)


if __name__ == "__main__":
    main()
