"""Reliability: memory safety at every kernel entry point (a fuzz in a subprocess), no
leaks over 10,000 calls, Ctrl-C during fit, threads, fork and multiprocessing.

Scenarios that crash, hang, fork or take signals run in a subprocess
(`subprocess_scenarios.py`), so that a failure is a failed test, not a dead session.
"""
import gc
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import fastmlp
from fastmlp import _kernels
from fastmlp._testing import unaligned
from helpers import DTYPES, toy_data

import subprocess_scenarios as scenarios

HERE = Path(__file__).parent
SCENARIOS = HERE / "subprocess_scenarios.py"
FUZZ = HERE.parent / "tools" / "fuzz_kernels.py"
# What AddressSanitizer and UndefinedBehaviorSanitizer print (tools/sanitize.sh runs the
# suite under them; a subprocess's report would otherwise stay in its captured stderr).
SANITIZER_REPORT = re.compile(r"runtime error:|ERROR: AddressSanitizer")


def assert_no_sanitizer_report(stderr):
    found = SANITIZER_REPORT.search(stderr)
    assert not found, stderr[max(0, found.start() - 200):found.start() + 3000]


def run_scenario(*args, timeout=120):
    """Run a scenario; return the JSON lines it printed.  A hang or a crash fails."""
    done = subprocess.run([sys.executable, str(SCENARIOS), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr[-3000:]}"
    assert_no_sanitizer_report(done.stderr)
    return [json.loads(line) for line in done.stdout.splitlines()]


# --- the kernels refuse bad arguments, never crash ------------------------------------------

def run_fuzz(*extra, timeout=240):
    if not FUZZ.exists():
        pytest.skip("needs the source tree's tools/fuzz_kernels.py")
    done = subprocess.run([sys.executable, str(FUZZ), "--trace", *extra], capture_output=True,
                          text=True, timeout=timeout, cwd=HERE)
    lines = done.stderr.splitlines()
    calls = [line for line in lines if line.startswith("CALL ")]
    other = "\n".join(line for line in lines if not line.startswith("CALL "))
    assert done.returncode >= 0, \
        f"the process died ({done.returncode}) in {calls[-1] if calls else 'no call'}\n{other[-3000:]}"
    assert_no_sanitizer_report(done.stderr)
    return done


def import_fuzz():
    """tools/fuzz_kernels.py as a module (its strategies and array helpers)."""
    if not FUZZ.exists():
        pytest.skip("needs the source tree's tools/fuzz_kernels.py")
    sys.path.insert(0, str(FUZZ.parent))
    try:
        import fuzz_kernels
    finally:
        sys.path.remove(str(FUZZ.parent))
    return fuzz_kernels


def test_fuzz_every_kernel_entry_point_in_a_subprocess():
    """A few thousand calls (FASTMLP_FUZZ_EXAMPLES per entry point, default 200): each
    returns or raises ValueError, TypeError, KernelError or (overflow) FloatingPointError."""
    done = run_fuzz()
    assert done.returncode == 0 and "OK: 0 calls misbehaved" in done.stdout, done.stdout
    total = int(done.stdout.split(" calls ")[0].split(", ")[-1])
    assert total >= 10 * int(os.environ.get("FASTMLP_FUZZ_EXAMPLES", 200))  # 10 take arguments


def test_fuzz_has_a_strategy_for_every_entry_point():
    fuzz_kernels = import_fuzz()
    names = fuzz_kernels.entry_points()
    assert {"NetworkArrays", "train_epoch", "network_forward", "exp"} <= set(names)
    assert not set(names) - set(fuzz_kernels.strategies()), "entry points without a strategy"


def test_kernels_refuse_arrays_not_aligned_to_their_elements():
    W, b = [np.ones((3, 4))], [np.zeros(3)]
    X = unaligned(np.ones((5, 4)))
    assert X.flags.c_contiguous and not X.flags.aligned
    with pytest.raises(ValueError, match="X is not aligned to its 8-byte elements"):
        _kernels.network_forward(_kernels.NetworkArrays(W, b), X, np.empty((5, 3)))
    with pytest.raises(ValueError, match=r"weights\[0\] is not aligned"):
        _kernels.NetworkArrays([unaligned(W[0])], b)
    with pytest.raises(ValueError, match="x is not aligned"):
        _kernels.exp(unaligned(np.ones(5)), np.empty(5))


def test_the_public_api_copies_unaligned_inputs_into_aligned_ones():
    net, twin = fastmlp.Network([4, 3], seed=0), fastmlp.Network([4, 3], seed=0)
    X = unaligned(np.linspace(0, 1, 20).reshape(5, 4))
    assert not X.flags.aligned
    np.testing.assert_array_equal(net.forward(X), net.forward(np.array(X)))
    y = np.arange(5) % 3
    history = net.fit(X, y, epochs=1, batch_size=2, lr=0.1)
    twin_history = twin.fit(np.array(X), y, epochs=1, batch_size=2, lr=0.1)
    assert history.train_cost == twin_history.train_cost
    for p, q in zip(net.parameters(), twin.parameters()):
        np.testing.assert_array_equal(p, q)


# --- no leak over 10,000 calls ---------------------------------------------------------------

def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def growth_over(call, n=10_000, warmup=200):
    """RSS growth in bytes over n calls, after a warm-up (allocator pools, caches)."""
    for _ in range(warmup):
        call()
    gc.collect()
    before = rss_bytes()
    for _ in range(n):
        call()
    gc.collect()
    return rss_bytes() - before


def refused(call, error=(ValueError, TypeError)):
    def attempt():
        try:
            call()
        except error:
            return
        raise AssertionError("the call was expected to fail")
    return attempt


def memory_cases():
    """Public entry points, succeeding and failing, each with what it is called on."""
    X = np.random.default_rng(0).uniform(0, 1, (20, 8))
    y = np.arange(20) % 3
    net = fastmlp.Network([8, 6, 3], seed=0)
    W, b = [np.zeros((6, 8)), np.zeros((3, 6))], [np.zeros(6), np.zeros(3)]
    arrays = _kernels.NetworkArrays(W, b)
    out = np.empty((20, 3))
    return {
        "forward": lambda: net.forward(X),
        "predict": lambda: net.predict(X),
        "predict_proba": lambda: net.predict_proba(X),
        "evaluate": lambda: net.evaluate(X, y),
        "backprop": lambda: net.backprop(X[:4], y[:4]),
        "fit": lambda: net.fit(X, y, epochs=1, batch_size=8, lr=0.1, momentum=0.5),
        "partial_fit": lambda: net.partial_fit(X, y, batch_size=8, lr=0.1),
        "forward (bad shape)": refused(lambda: net.forward(X[:, :5])),
        "fit (bad labels)": refused(lambda: net.fit(X, y + 10, epochs=1, batch_size=8, lr=0.1)),
        "NetworkArrays": lambda: _kernels.NetworkArrays(W, b),
        "network_forward": lambda: _kernels.network_forward(arrays, X, out),
        # the failing calls that leaked 8 KB each in fastmlp 0.1: a wrong dtype in a list
        "NetworkArrays (wrong dtype)": refused(lambda: _kernels.NetworkArrays(
            [W[0], W[1].astype(np.float32)], b)),
        "NetworkArrays (Fortran order)": refused(lambda: _kernels.NetworkArrays(
            [np.asfortranarray(np.zeros((8, 6)).T), W[1]], b)),
        "network_forward (wrong dtype)": refused(lambda: _kernels.network_forward(
            arrays, X.astype(np.float32), out.astype(np.float32))),
    }


# ASan's quarantine keeps freed memory on purpose (tools/sanitize.sh sets this variable).
measures_rss = pytest.mark.skipif(bool(os.environ.get("FASTMLP_SANITIZED")),
                                  reason="RSS means nothing under AddressSanitizer")
LEAK_BOUND = 5 * 2**20  # 5 MB over 10,000 calls: 500 bytes a call; fastmlp 0.1 leaked 8 KB a call


@measures_rss
@pytest.mark.parametrize("case", list(memory_cases()))
def test_10000_calls_do_not_grow_memory(case):
    growth = growth_over(memory_cases()[case])
    assert growth < LEAK_BOUND, f"{case}: RSS grew {growth / 2**20:.2f} MB over 10,000 calls"


@measures_rss
def test_saves_and_loads_do_not_grow_memory(tmp_path):
    """2,000 of each (10,000 would take half a minute), against a fifth of the bound."""
    folder = Path("/dev/shm") if os.access("/dev/shm", os.W_OK) else tmp_path  # fsync is free there
    path = folder / f"fastmlp-leak-{os.getpid()}.npz"
    net = fastmlp.Network([8, 6, 3], seed=0)
    bad = folder / f"fastmlp-leak-{os.getpid()}-bad.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    try:
        net.save(path)
        for name, call in {"save": lambda: net.save(path), "load": lambda: fastmlp.load(path),
                           "load (damaged)": refused(lambda: fastmlp.load(bad), fastmlp.LoadError)}.items():
            growth = growth_over(call, 2_000)
            assert growth < LEAK_BOUND / 5, f"{name}: RSS grew {growth / 2**20:.2f} MB over 2,000 calls"
    finally:
        path.unlink(missing_ok=True)
        bad.unlink(missing_ok=True)


# --- Ctrl-C during fit ------------------------------------------------------------------------

SIGINT_ROWS = 8192  # of W3's shape: an epoch of a few seconds, so the signal lands inside one


def test_ctrl_c_during_fit_lands_quickly_and_rolls_back():
    """SIGINT during the first epoch, then during the second epoch of a second fit: the
    KeyboardInterrupt arrives within 2 s (the goal is 0.5 s) and the network, its
    momentum velocities, epochs_trained and history describe the completed epochs."""
    process = subprocess.Popen([sys.executable, str(SCENARIOS), "interrupted_fit", str(SIGINT_ROWS), "1"],
                               stdout=subprocess.PIPE, text=True)
    try:
        reports = []
        for attempt, epochs_before in ((1, 0), (2, 1)):
            line = json.loads(process.stdout.readline())
            seen = []
            while line["event"] != "moving" or seen.count("epoch") < epochs_before:
                seen.append(line["event"])
                line = json.loads(process.stdout.readline())
            sent = time.monotonic()  # the weights are moving: inside an epoch's C loop
            process.send_signal(signal.SIGINT)
            line = json.loads(process.stdout.readline())
            assert line["event"] == "interrupted", line
            reports.append(dict(line, latency=line["t"] - sent))
        process.wait(timeout=60)
    finally:
        process.kill()
    first, second = reports
    print(f"Ctrl-C latency: {first['latency']:.3f} s, {second['latency']:.3f} s")
    for report in reports:
        assert report["latency"] < 2.0
        assert report["rolled_back"] and report["finite"] and report["stopped"] == "interrupted"
    assert (first["epochs_trained"], first["history_epochs"]) == (0, [])
    assert (second["epochs_trained"], second["history_epochs"]) == (1, [1])


# --- threads --------------------------------------------------------------------------------

def toy(n):
    """n samples of 30 features in 5 classes."""
    return toy_data(m=n, n_in=30, n_classes=5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_two_networks_in_two_threads_equal_sequential_runs(dtype):
    X, y = toy(4000)

    def train(seed, threads):
        net = fastmlp.Network([30, 128, 5], dtype=dtype, seed=seed)
        net.fit(X, y, epochs=3, batch_size=int(16 + seed), lr=0.5, momentum=0.5, threads=threads)
        return scenarios.digest(net)

    expected = [train(1, 1), train(2, 2)]
    for _ in range(3):
        got = [None, None]
        workers = [threading.Thread(target=lambda i=i: got.__setitem__(i, train(i + 1, i + 1)))
                   for i in range(2)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=120)
        assert got == expected


def test_fit_threads_never_changes_the_count_any_thread_sees():
    X, y = toy(3000)
    before = fastmlp.get_num_threads()
    seen = set()
    stop = threading.Event()

    def observe():
        while not stop.is_set():
            seen.add(fastmlp.get_num_threads())

    def train(threads):
        fastmlp.Network([30, 128, 5], seed=threads).fit(X, y, epochs=2, batch_size=64, lr=0.1,
                                                      threads=threads)

    observer = threading.Thread(target=observe)
    observer.start()
    for _ in range(5):
        workers = [threading.Thread(target=train, args=(n,)) for n in (1, 3)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=120)
    stop.set()
    observer.join()
    assert seen == {before} and fastmlp.get_num_threads() == before


def test_second_fit_on_a_training_network_is_refused_and_predict_stays_correct():
    X, y = toy(6000)
    net = fastmlp.Network([30, 256, 5], seed=0)
    other = fastmlp.Network([30, 16, 5], seed=1)
    expected = other.forward(X)
    started = threading.Event()
    errors = []

    def train():
        try:
            net.fit(X, y, epochs=8, batch_size=32, lr=0.1,
                    callbacks=[lambda *_: started.set()])
        except Exception as error:  # reported below
            errors.append(error)

    trainer = threading.Thread(target=train)
    trainer.start()
    assert started.wait(60)
    with pytest.raises(RuntimeError, match=r"already training \(a fit or partial_fit call on it is still running, in this thread or another\)"):
        net.fit(X, y, epochs=1, batch_size=32, lr=0.1)
    with pytest.raises(RuntimeError, match="already training"):
        net.partial_fit(X, y, batch_size=32, lr=0.1)
    during = net.forward(X)  # while the other thread updates the weights
    np.testing.assert_array_equal(other.forward(X), expected)
    trainer.join(timeout=120)
    assert not errors and net.epochs_trained == 8 and len(net.history.epoch) == 8
    assert during.shape == (6000, 5) and np.isfinite(during).all()
    assert ((during > 0) & (during < 1)).all()


# --- fork and multiprocessing ---------------------------------------------------------------

def test_fork_after_threaded_training_does_not_hang():
    (report,) = run_scenario("fork_after_threads", 10)
    assert report["codes"] == [0] * 10  # None would be a child that hung and was killed


def test_fork_while_another_thread_trains_does_not_hang():
    (report,) = run_scenario("fork_while_training")
    assert report == {"codes": [0, 0, 0]}  # None would be a child that hung and was killed


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_multiprocessing_pool_trains_the_same_networks(method):
    (report,) = run_scenario("pool", method)
    assert report == {"equal": True}


# --- outputs that overflow, the layer limit ---------------------------------------------------

@pytest.mark.parametrize("output,call", [("softmax", "forward"), ("softmax", "predict"),
                                         ("softmax", "predict_proba"), ("softmax", "evaluate"),
                                         ("identity", "forward"), ("identity", "evaluate")])
def test_overflowing_outputs_are_reported_with_the_row(output, call):
    """Finite float64 inputs (1e308) overflow to z = inf: softmax makes that NaN (inf - inf),
    identity passes the inf on; either is an error naming the row, never a silent class 0."""
    net = fastmlp.Network([2, 2], cost="log_likelihood" if output == "softmax" else "quadratic",
                          output=output, seed=0)
    net.layers[0].weights = [[2.0, 2.0], [1.0, 1.0]]
    X = np.array([[0.0, 0.0], [1.0, 1.0], [1e308, 1e308]])
    args = (X, [0, 1, 1]) if call == "evaluate" else (X,)
    with pytest.raises(FloatingPointError, match="outputs for row 2 are not finite"):
        getattr(net, call)(*args)
    assert np.isfinite(net.forward(X[:2])).all()


def test_layer_limit_is_checked_at_construction():
    with pytest.raises(ValueError, match="at most 64 layers.*got 65"):
        fastmlp.Network([3] * 66)
    deep = fastmlp.Network([3] * 65, seed=0)  # 64 layers: the C limit, and it works
    out = deep.forward(np.ones((2, 3)))
    assert out.shape == (2, 3) and np.isfinite(out).all()


# --- the valgrind smoke test, without valgrind ------------------------------------------------

def test_the_valgrind_smoke_test_passes_as_plain_python():
    """tools/valgrind.sh is run by hand; its smoke test runs here so that it keeps working:
    every training (dense inputs and compressed rows) agrees with the NumPy backend and
    every call it expects the kernels to refuse is refused."""
    smoke = HERE.parent / "tools" / "valgrind_smoke.py"
    if not smoke.exists():
        pytest.skip("needs the source tree's tools/valgrind_smoke.py")
    done = subprocess.run([sys.executable, str(smoke)], capture_output=True, text=True,
                          timeout=300, cwd=HERE)
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.fullmatch(r"valgrind smoke: 24 trainings on ISA \w+ \(half on inputs with \S+ "
                        r"of them nonzero\) agree with the NumPy backend \(largest gap \S+ of "
                        r"its tolerance\); 6 refused calls raised their errors\n", done.stdout), \
        done.stdout
