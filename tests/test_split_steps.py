"""Small mini-batches and online learning with each layer's neurons split among threads
(csrc/split.template.h): every value is computed by one thread with the one-thread
arithmetic, so any thread count gives the same bits, and the reference's results."""
import os
import subprocess
import sys

import numpy as np
import pytest

import fastmlp
from fastmlp import _kernels

from helpers import TRAINED_TOLERANCE, one_hot, reference_fit, snapshot

scipy_sparse = pytest.importorskip("scipy.sparse")

# shapes whose layers split unevenly, leave a thread no share of a narrow layer, or have
# a single layer
SIZES = [[40, 33, 17, 5], [40, 70, 3], [40, 9]]
OPTIONS = [dict(), dict(momentum=0.9), dict(l2=3.0), dict(l2=3.0, momentum=0.5)]


@pytest.fixture
def split_every_step():
    """Split every step, however small, while the test runs."""
    before = _kernels._set_split_min_flops(0)
    yield
    _kernels._set_split_min_flops(before)


def data(inputs, n_in, n_out, dtype, m=60, seed=0):
    """m samples, dense or as SciPy CSR with about 80 % zeros, and their labels."""
    rng = np.random.default_rng(seed)
    X = rng.random((m, n_in)).astype(dtype)
    X[rng.random(X.shape) < 0.8] = 0
    y = rng.integers(0, n_out, m)
    return (scipy_sparse.csr_matrix(X) if inputs == "compressed" else X), y


def trained(sizes, dtype, threads, X, y, output="sigmoid", cost="quadratic", **fit):
    net = fastmlp.Network(sizes, dtype=dtype, seed=3, output=output, cost=cost)
    with fastmlp.threads(threads):
        net.fit(X, y, epochs=2, lr=0.7, **fit)
    return net


@pytest.mark.usefixtures("split_every_step")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("inputs", ["dense", "compressed"])
@pytest.mark.parametrize("batch_size", [1, 4, 16])
@pytest.mark.parametrize("sizes", SIZES, ids=str)
@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_any_thread_count_gives_the_same_bits(dtype, inputs, batch_size, sizes, options):
    X, y = data(inputs, sizes[0], sizes[-1], dtype)
    nets = [trained(sizes, dtype, t, X, y, batch_size=batch_size, **options) for t in (1, 2, 3)]
    for net in nets[1:]:
        for got, want in zip(snapshot(net), snapshot(nets[0])):
            np.testing.assert_array_equal(got, want)
        assert net.history.train_cost == nets[0].history.train_cost


@pytest.mark.usefixtures("split_every_step")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("inputs", ["dense", "compressed"])
@pytest.mark.parametrize("batch_size", [1, 5])
def test_a_softmax_output_is_taken_whole(dtype, inputs, batch_size):
    """A softmax needs the whole row: the threads' shares of the sums meet first."""
    X, y = data(inputs, 40, 21, dtype)
    nets = [trained([40, 30, 21], dtype, t, X, y, output="softmax", cost="log_likelihood",
                    batch_size=batch_size) for t in (1, 2)]
    for got, want in zip(snapshot(nets[1]), snapshot(nets[0])):
        np.testing.assert_array_equal(got, want)


@pytest.mark.usefixtures("split_every_step")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch_size", [1, 6])
@pytest.mark.parametrize("options", [dict(), dict(l2=2.0, momentum=0.5)], ids=str)
def test_split_steps_match_the_reference(dtype, batch_size, options):
    X, y = data("dense", 12, 4, dtype, m=30)
    net = fastmlp.Network([12, 20, 4], dtype=dtype, seed=3)
    start = fastmlp.Network([12, 20, 4], dtype=dtype, seed=3)
    weights, biases, costs, _ = reference_fit(start, X, one_hot(y, 4), epochs=2,
                                              batch_size=batch_size, lr=0.7, **options)
    with fastmlp.threads(2):
        net.fit(X, y, epochs=2, batch_size=batch_size, lr=0.7, **options)
    tol = TRAINED_TOLERANCE[np.dtype(dtype)]
    for layer, w, b in zip(net.layers, weights, biases):
        np.testing.assert_allclose(layer.weights, w, **tol)
        np.testing.assert_allclose(layer.biases, b, **tol)
    np.testing.assert_allclose(net.history.train_cost, costs, **tol)


@pytest.mark.usefixtures("split_every_step")
@pytest.mark.parametrize("batch_size", [1, 8])
def test_a_diverging_step_stops_every_thread_at_the_same_place(batch_size):
    """An identity output trained far too fast: the cost overflows in some mini-batch."""
    rng = np.random.default_rng(0)
    X = rng.random((64, 40))
    Y = 3 * X[:, :20]
    messages = []
    for threads in (1, 2):
        net = fastmlp.Network([40, 30, 20], output="identity", seed=3)
        before = snapshot(net)
        with fastmlp.threads(threads), pytest.raises(fastmlp.DivergenceError) as caught:
            net.fit(X, Y, epochs=3, batch_size=batch_size, lr=1e200)
        messages.append(str(caught.value))
        for got, want in zip(snapshot(net), before):
            np.testing.assert_array_equal(got, want)
    assert messages[0] == messages[1]


def test_the_split_threshold_is_checked():
    for bad in (-1, float("nan"), float("inf"), "1", True):
        with pytest.raises(ValueError, match="finite number >= 0"):
            _kernels._set_split_min_flops(bad)
    before = _kernels._set_split_min_flops(5.0)
    assert _kernels._set_split_min_flops(before) == 5.0


@pytest.mark.usefixtures("split_every_step")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch_size", [1, 4])
def test_a_run_whose_threads_mostly_wait_goes_on_alone_with_the_same_bits(dtype, batch_size):
    """Workers that sleep at every barrier keep thread 0 waiting most of the run: it goes
    on alone (the pool then keeps later work on one thread for a while), and the results
    keep the bits of one thread."""
    X, y = data("dense", 60, 5, dtype, m=200)

    def one_epoch(threads):  # one run of steps, so that the pool's verdict is still fresh
        net = fastmlp.Network([60, 40, 5], dtype=dtype, seed=3)
        net.fit(X, y, epochs=1, batch_size=batch_size, lr=0.7, threads=threads)
        return net

    alone = one_epoch(1)
    assert not _kernels._pool_on_one_thread()
    _kernels._slow_workers(2e-4)
    try:
        slowed = one_epoch(2)
        went_alone = _kernels._pool_on_one_thread()
    finally:
        _kernels._slow_workers(0)
    assert went_alone
    for got, want in zip(snapshot(slowed), snapshot(alone)):
        np.testing.assert_array_equal(got, want)


def test_the_worker_delay_is_checked():
    for bad in (-1e-3, 0.5, float("nan"), "1", True):
        with pytest.raises(ValueError, match="seconds from 0 to 0.01"):
            _kernels._slow_workers(bad)


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs sched_setaffinity")
def test_threads_that_share_one_cpu_go_on_alone_with_the_same_bits():
    """Two threads pinned to one CPU: they take turns at every barrier, thread 0 soon spends
    most of the run waiting and goes on alone, and the results keep their bits (a
    subprocess, so that the pool starts its threads under the pinning)."""
    code = """
import os, numpy as np, fastmlp
from fastmlp import _kernels
os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
_kernels._set_split_min_flops(0)
rng = np.random.default_rng(0)
X, y = rng.random((400, 60)), rng.integers(0, 5, 400)
nets = []
for threads in (1, 2, 2):
    net = fastmlp.Network([60, 40, 5], seed=1)
    net.fit(X, y, epochs=2, batch_size=4, lr=0.5, threads=threads)
    nets.append(np.concatenate([p.ravel() for p in net.parameters()]))
assert all(np.array_equal(n, nets[0]) for n in nets[1:])
print("same bits")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "same bits"
