"""The thread pool and the instruction-set paths: counts, agreement, concurrency, fork."""
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import fastmlp
from fastmlp import _kernels


def big_training_run(threads, dtype="float32", seed=0):
    """Wide enough that the products split across threads."""
    rng = np.random.default_rng(seed)
    X, y = rng.random((256, 300)), rng.integers(0, 10, 256)
    net = fastmlp.Network([300, 512, 10], dtype=dtype, seed=seed)
    net.fit(X, y, epochs=1, batch_size=128, lr=0.5, threads=threads)
    return net


def test_thread_count_controls():
    before = fastmlp.get_num_threads()
    assert before >= 1
    with fastmlp.threads(1):
        assert fastmlp.get_num_threads() == 1
    assert fastmlp.get_num_threads() == before
    with pytest.raises(ValueError, match="between 1 and 64, got 0"):
        fastmlp.set_num_threads(0)
    big_training_run(threads=1)
    assert fastmlp.get_num_threads() == before  # fit(threads=...) restores the count
    with pytest.raises(ValueError, match="threads must be an integer >= 1"):
        fastmlp.Network([2, 2]).fit([[0, 1]], [1], epochs=1, batch_size=1, lr=1, threads=0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_one_and_two_threads_give_identical_results(dtype):
    """Each element of a product is summed by one thread in the same order either way."""
    one, two = big_training_run(1, dtype), big_training_run(2, dtype)
    for a, b in zip(one.layers, two.layers):
        np.testing.assert_array_equal(a.weights, b.weights)
        np.testing.assert_array_equal(a.biases, b.biases)
    X = np.random.default_rng(1).random((500, 300))
    with fastmlp.threads(1):
        out1 = one.forward(X)
    with fastmlp.threads(2):
        out2 = one.forward(X)
    np.testing.assert_array_equal(out1, out2)


def test_concurrent_callers_share_the_pool_safely():
    """Python threads call the kernels at once (the GIL is released inside them)."""
    expected = big_training_run(2).layers[0].weights
    results, errors = [None] * 4, []

    def work(i):
        try:
            results[i] = big_training_run(2).layers[0].weights
        except Exception as error:  # reported below
            errors.append(error)

    workers = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not errors and not any(w.is_alive() for w in workers)
    for r in results:
        np.testing.assert_array_equal(r, expected)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_trains_after_the_parent_used_threads():
    expected = big_training_run(2, seed=3).layers[1].weights  # the parent's pool is running
    pid = os.fork()
    if pid == 0:  # the child: must not hang, must compute the same thing
        signal.alarm(120)
        try:
            ok = np.array_equal(big_training_run(2, seed=3).layers[1].weights, expected)
        finally:
            os._exit(0 if ok else 3)
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung")
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, f"child status {status}"
    big_training_run(2)  # and the parent's pool still works


def test_threadpoolctl_limits_the_pool():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if not hasattr(threadpoolctl, "register"):
        pytest.skip("threadpoolctl too old to register controllers")
    ours = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "fastmlp"]
    assert len(ours) == 1 and ours[0]["num_threads"] == fastmlp.get_num_threads()
    before = fastmlp.get_num_threads()
    with threadpoolctl.threadpool_limits(limits=1, user_api="fastmlp"):
        assert fastmlp.get_num_threads() == 1
    assert fastmlp.get_num_threads() == before


def run_python(code, **env):
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, **env}, timeout=120)
    assert result.returncode == 0, result.stderr
    return result


def test_environment_variables_set_threads_and_isa():
    out = run_python("import fastmlp; print(fastmlp.get_num_threads(), fastmlp.get_isa())",
                     FASTMLP_NUM_THREADS="1", FASTMLP_ISA="baseline").stdout.split()
    assert out == ["1", "baseline"]
    unknown = run_python("import fastmlp", FASTMLP_ISA="avx9000")
    assert "FASTMLP_ISA='avx9000' is not a path this CPU supports" in unknown.stderr


def test_isa_controls():
    assert fastmlp.supported_isas()[0] == "baseline"
    assert fastmlp.get_isa() in fastmlp.supported_isas()
    with pytest.raises(ValueError, match="isa='sse9' is not one of 'baseline', 'avx2', 'avx512'"):
        fastmlp.set_isa("sse9")
    missing = [i for i in _kernels.ISA_NAMES if i not in fastmlp.supported_isas()]
    for name in missing:
        with pytest.raises(ValueError, match="this CPU cannot run"):
            fastmlp.set_isa(name)


@pytest.mark.parametrize("bad", [0, -1, True, 2.0, "2"])
def test_threads_context_refuses_what_is_not_a_count(bad):
    """`fastmlp.threads(n)` takes a count >= 1 (0 would silently mean the process-wide
    count, True one thread)."""
    before = fastmlp.get_num_threads()
    with pytest.raises(ValueError, match="threads must be an integer >= 1"):
        with fastmlp.threads(bad):
            pass
    assert fastmlp.get_num_threads() == before
