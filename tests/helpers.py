"""Shared test helpers: the tolerance table, conversions to the reference's lists, toy data,
parameter snapshots, a wrong backprop, compiling C, fit written with the reference."""
import copy
import gzip
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from fastmlp import kernel_backend, reference
from fastmlp._metrics import count_correct

# How far a kernel may be from the pure-Python reference, |fast - ref| <= atol + rtol |ref|.
# The reference computes in float64 from the same input values (float32 inputs are exact
# in float64), so the only differences are the kernels' rounding and summation order.
TOLERANCE = {
    # float64: a dot product of n terms of size <= S is off by at most about n * eps * S
    # (eps = 2.2e-16).  The tests use n <= 100 and S <= 100, so 1e-12 absolute is a
    # margin of about 500x over that bound; rtol covers large values.
    np.dtype("float64"): dict(rtol=1e-10, atol=1e-12),
    # float32: the kernels accumulate in float32 (eps = 1.2e-7).  Sums of up to 100 terms
    # of size up to 10 can be off by about sqrt(n) * eps * sum|terms| ~ 1e-4 in the
    # typical case; sigmoid outputs are compressed into (0, 1) so they do better.
    np.dtype("float32"): dict(rtol=2e-4, atol=2e-4),
}
# After many training steps: every SGD step feeds its rounding into the next, and steep
# regions of the cost amplify it, so two exact-arithmetic-equal trajectories drift apart
# by more than one kernel call's error.  Over the tens of steps these tests run, float64
# stays within 1e-8 and float32 within about 1e-3 (observed up to 2.5e-4 relative).
TRAINED_TOLERANCE = {
    np.dtype("float64"): dict(rtol=1e-8, atol=1e-9),
    np.dtype("float32"): dict(rtol=1e-3, atol=1e-3),
}
DTYPES = [np.float32, np.float64]


def assert_close(fast, ref, dtype, what="", trained=False):
    tol = (TRAINED_TOLERANCE if trained else TOLERANCE)[np.dtype(dtype)]
    fast = np.asarray(fast, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    assert fast.shape == ref.shape, f"{what}: shape {fast.shape} != reference {ref.shape}"
    np.testing.assert_allclose(fast, ref, err_msg=what, **tol)


def lists(array):
    """A NumPy array as the reference's nested lists of Python floats."""
    return np.asarray(array, dtype=np.float64).tolist()


def random_array(rng, shape, dtype, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)


# Every valid pairing of cost and output activation.
COMBOS = [("quadratic", "sigmoid"), ("quadratic", "identity"),
          ("cross_entropy", "sigmoid"), ("log_likelihood", "softmax")]


def toy_data(m=23, n_in=5, n_classes=3, seed=0):
    """m samples of n_in uniform features in [0, 1) and integer labels below n_classes."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, (m, n_in)), rng.integers(0, n_classes, m)


def one_hot(y, n):
    return np.eye(n)[y]


def params(net):
    """A network's weights and biases as the reference's nested lists."""
    return [lists(l.weights) for l in net.layers], [lists(l.biases) for l in net.layers]


def snapshot(net):
    """Copies of a network's parameter arrays (``net.parameters()``: every layer's weights,
    then every layer's biases), to compare with them later."""
    return [p.copy() for p in net.parameters()]


def backprop_off_by_a_tenth(monkeypatch):
    """Make the C backend's backprop return weight gradients 10% too large: a wrong
    gradient that a gradient check must catch."""
    real = kernel_backend.backprop

    def off_by_a_tenth(*args):
        dWs, dbs, deltas = real(*args)
        return [1.1 * d for d in dWs], dbs, deltas

    monkeypatch.setattr(kernel_backend, "backprop", off_by_a_tenth)


def write_idx(path, magic, shape, data, compress=False):
    """An IDX file (MNIST's format): magic number, sizes, then the raw bytes."""
    raw = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in shape) + bytes(data)
    (gzip.open if compress else open)(path, "wb").write(raw)


# --- compiling and running C (the exported headers) ------------------------------------

C_RUNNER = r"""
#include <stdio.h>
#include "{header}"

/* Reads m samples of {P}_N_INPUTS float32 from argv[1]; writes forward's outputs
   (float32) to argv[2] and predict's classes (int32) to argv[3]. */
int main(int argc, char **argv)
{{
    float x[{P}_N_INPUTS], out[{P}_N_OUTPUTS];
    if (argc != 4) return 2;
    FILE *in = fopen(argv[1], "rb"), *fo = fopen(argv[2], "wb"), *fl = fopen(argv[3], "wb");
    if (!in || !fo || !fl) return 2;
    while (fread(x, sizeof x, 1, in) == 1) {{
        int label = {p}_predict(x);
        {p}_forward(x, out);
        fwrite(out, sizeof out, 1, fo);
        fwrite(&label, sizeof label, 1, fl);
    }}
    return fclose(in) || fclose(fo) || fclose(fl);
}}
"""
# Strict C99: the headers must not lean on any extension.
C_FLAGS = ["-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror", "-O2"]


def c_compiler():
    """The system C compiler (``$CC``, else cc), or None."""
    return shutil.which(os.environ.get("CC", "cc"))


needs_cc = pytest.mark.skipif(c_compiler() is None, reason="needs a C compiler (cc)")


def compile_c(source, workdir, name="program"):
    """Compile C `source` in `workdir` with C_FLAGS and libm; return the executable."""
    workdir = Path(workdir)
    (workdir / f"{name}.c").write_text(source)
    exe = workdir / name
    subprocess.run([c_compiler(), *C_FLAGS, f"{name}.c", "-o", str(exe), "-lm"],
                   cwd=workdir, check=True, capture_output=True, text=True)
    return exe


def run_header(header, name, X, n_outputs):
    """Compile C_RUNNER around `header` (a path) and run it on the rows of X.

    Returns forward's outputs (m, n_outputs) float32 and predict's classes (m,) int32.
    """
    header = Path(header).resolve()
    workdir = header.parent
    exe = compile_c(C_RUNNER.format(header=header.name, p=name, P=name.upper()), workdir,
                    f"run_{name}")
    np.ascontiguousarray(X, dtype=np.float32).tofile(workdir / "x.bin")
    subprocess.run([str(exe), "x.bin", "out.bin", "labels.bin"], cwd=workdir, check=True)
    out = np.fromfile(workdir / "out.bin", dtype=np.float32).reshape(-1, n_outputs)
    return out, np.fromfile(workdir / "labels.bin", dtype=np.int32)


def reference_fit(net, X, Y, *, epochs, batch_size, lr, l2=0.0, momentum=0.0, shuffle=True):
    """fit written with the reference: returns parameters, and per epoch the training cost
    and accuracy (None for an identity output), both measured on each mini-batch's forward
    pass before its update."""
    weights, biases = params(net)
    rng = copy.deepcopy(net.rng)
    n = len(X)
    velocities = [[0.0] * len(row) for W, b in zip(weights, biases) for row in W + [b]]
    costs, accuracies = [], []
    for _ in range(epochs):
        order = rng.permutation(n) if shuffle else np.arange(n)
        total, correct = 0.0, 0
        for start in range(0, n, batch_size):
            rows = order[start:start + batch_size]
            xb, yb = lists(X[rows]), lists(Y[rows])
            out = reference.feedforward(weights, biases, xb, net.output)[-1]
            total += reference.cost(out, yb, net.cost) * len(rows)
            correct += count_correct(np.array(out), Y[rows])
            reference.train_step(weights, biases, xb, yb, lr, net.cost, net.output,
                                 decay=l2 / n, momentum=momentum, velocities=velocities)
        costs.append(total / n)
        accuracies.append(correct / n if net.output != "identity" else None)
    return weights, biases, costs, accuracies
