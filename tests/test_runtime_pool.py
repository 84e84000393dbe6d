"""The thread pool while another process competes for the cores: its waits give the core
away (csrc/threads.c), and the work still comes out whole and the same."""
import threading

import numpy as np
import pytest

import fastmlp
from fastmlp import _testing
from fastmlp.benchmark_measure import competing_process


def train(threads, dtype):
    """Products wide enough to split across threads, many in a row (one per layer and
    mini-batch), each with its waits for the workers."""
    rng = np.random.default_rng(0)
    X, y = rng.random((512, 300)), rng.integers(0, 10, 512)
    net = fastmlp.Network([300, 256, 10], dtype=dtype, seed=0)
    net.fit(X, y, epochs=2, batch_size=64, lr=0.5, threads=threads)
    return net


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_two_threads_beside_a_competing_process_give_one_threads_results(dtype):
    alone = train(1, dtype)
    with competing_process(), competing_process():  # one per core of a 2-core machine
        busy = [train(threads, dtype) for threads in (2, 1)]
    for net in busy:
        for a, b in zip(alone.layers, net.layers):
            np.testing.assert_array_equal(a.weights, b.weights)
            np.testing.assert_array_equal(a.biases, b.biases)
    start = fastmlp.Network([300, 256, 10], dtype=dtype, seed=0).layers[0].weights
    assert np.abs(alone.layers[0].weights - start).max() > 1e-3  # training moved them


def test_products_on_more_threads_than_cores_beside_a_competitor():
    """Four slots on this machine's cores, with a competitor: every slot's share is done
    (the reference agrees) and the waits end."""
    rng = np.random.default_rng(1)
    A, B = rng.random((301, 200)), rng.random((200, 257)) / 200
    expected = np.empty((301, 257))
    _testing.gemm(A, B, expected, reference=True)
    with competing_process():
        for _ in range(20):
            got = np.full((301, 257), np.nan)
            _testing.gemm(A, B, got, threads=4)
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_product_does_not_wait_for_a_worker_that_cannot_start(dtype):
    """Workers held out of every job (a competitor keeps them off their cores): products
    on two and four threads finish on the calling thread, and agree with the reference.
    A pool that waited for every worker would never return; the bound on the wait is
    there only so that such a pool fails this test instead of hanging the suite."""
    rng = np.random.default_rng(2)
    A, B = rng.random((97, 150)).astype(dtype), (rng.random((150, 301)) / 150).astype(dtype)
    expected = np.empty((97, 301), dtype)
    _testing.gemm(A, B, expected, reference=True)
    results = []

    def products():
        for threads in (2, 4, 2):
            got = np.full((97, 301), np.nan, dtype)
            _testing.gemm(A, B, got, threads=threads)
            results.append(got)

    _testing.gemm(A, B, np.empty_like(expected), threads=4)  # the workers exist
    _testing.hold_workers(True)
    try:
        caller = threading.Thread(target=products)
        caller.start()
        caller.join(timeout=120)
        finished = not caller.is_alive()
    finally:
        _testing.hold_workers(False)
        caller.join()
    assert finished, "a product on several threads waited for workers that could not start"
    tolerance = {"float32": 1e-5, "float64": 1e-12}[dtype]
    for got in results:
        np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance)
