"""Time Network.fit against the same mini-batch SGD in vectorised NumPy.

Workload W1 of DESIGN.md: a [784, 30, 10] network, batch 10, one epoch over 50,000
MNIST-shaped samples (the real MNIST when $FASTMLP_DATA points at it).  Both trainers
first run a short identical training and must agree on the weights.

    python bench/bench_fit.py [--repeats 3] [--samples 50000] [--dtype float64]
"""
import argparse
import statistics
import time

import numpy as np

import fastmlp
from fastmlp import datasets, numpy_backend


def mnist_shaped(samples, seed=0):
    try:
        X, y = datasets.load_mnist()["train"]
        return X[:samples], y[:samples], "MNIST"
    except FileNotFoundError:
        rng = np.random.default_rng(seed)
        return rng.random((samples, 784)), rng.integers(0, 10, samples), "random MNIST-shaped"


def numpy_params(net):
    return ([l.weights.copy() for l in net.layers], [l.biases.copy() for l in net.layers])


def check_same_weights(X, y, dtype):
    """Both trainers, same start and same batches: the same weights within float tolerance."""
    net = fastmlp.Network([784, 30, 10], dtype=dtype, seed=1)
    weights, biases = numpy_params(net)
    Xd, Y = X[:500].astype(dtype), np.eye(10, dtype=dtype)[y[:500]]
    net.fit(Xd, y[:500], epochs=1, batch_size=10, lr=3.0, shuffle=False)
    numpy_backend.train_epoch(weights, biases, Xd, Y, 10, 3.0)
    tol = 1e-9 if dtype == "float64" else 1e-3
    for layer, W in zip(net.layers, weights):
        np.testing.assert_allclose(layer.weights, W, rtol=tol, atol=tol)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--samples", type=int, default=50000)
    parser.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    args = parser.parse_args()

    X, y, source = mnist_shaped(args.samples)
    check_same_weights(X, y, args.dtype)
    X = X.astype(args.dtype)
    Y = np.eye(10, dtype=args.dtype)[y]
    times = {"fastmlp": [], "numpy": []}
    for _ in range(args.repeats):  # interleaved, so both sides see the same machine load
        net = fastmlp.Network([784, 30, 10], dtype=args.dtype, seed=0)
        start = time.perf_counter()
        net.fit(X, y, epochs=1, batch_size=10, lr=3.0)
        times["fastmlp"].append(time.perf_counter() - start)

        weights, biases = numpy_params(net)
        order = np.random.default_rng(0).permutation(len(X))
        start = time.perf_counter()
        numpy_backend.train_epoch(weights, biases, X, Y, 10, 3.0, order)
        times["numpy"].append(time.perf_counter() - start)

    ours, theirs = (statistics.median(times[k]) for k in ("fastmlp", "numpy"))
    print(f"W1 [784, 30, 10], batch 10, {len(X)} {source} samples, {args.dtype}, "
          f"median of {args.repeats}")
    print(f"  fastmlp         {ours:7.3f} s")
    print(f"  NumPy (vector)  {theirs:7.3f} s")
    print(f"  speed-up        {theirs / ours:7.2f}x")


if __name__ == "__main__":
    main()
