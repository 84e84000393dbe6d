"""How the benchmark suite measures (fastmlp.benchmark): thread counts pinned on every
side, contenders checked against each other and then timed interleaved, the machine's
limits measured in the same run, and a competing CPU-bound process on demand."""
import contextlib
import statistics
import subprocess
import sys
import time

import numpy as np

from . import peers, runtime


def blas_pinnable():
    """Whether `pinned` can set NumPy's BLAS threads: only through threadpoolctl (the
    `bench` extra); without it, NumPy's rows run on its default thread count."""
    try:
        import threadpoolctl  # noqa: F401
    except ImportError:
        return False
    return True


@contextlib.contextmanager
def pinned(threads):
    """Pin fastmlp, NumPy's BLAS (when `blas_pinnable`) and PyTorch to `threads`."""
    stack = contextlib.ExitStack()
    with stack:
        stack.enter_context(runtime.threads(threads))
        if blas_pinnable():
            from threadpoolctl import threadpool_limits
            stack.enter_context(threadpool_limits(limits=threads, user_api="blas"))
        torch_before = None
        if peers.torch_available():
            import torch
            torch_before = torch.get_num_threads()
            torch.set_num_threads(threads)
        try:
            yield
        finally:
            if torch_before is not None:
                import torch
                torch.set_num_threads(torch_before)


# --- checking and timing -------------------------------------------------------------------

TOLERANCE = {"float64": 1e-7, "float32": 2e-3}


def flatten(arrays):
    """One flat float64 array from nested lists and tuples of arrays."""
    if isinstance(arrays, (list, tuple)):
        return np.concatenate([flatten(a) for a in arrays])
    return np.ravel(arrays).astype(np.float64)


def check_same(results, dtype, what):
    """Every contender's arrays equal fastmlp's within the dtype's tolerance, or raise."""
    mine = flatten(results["fastmlp"])
    for name, theirs in results.items():
        other = flatten(theirs)
        if not np.allclose(mine, other, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype]):
            worst = np.max(np.abs(mine - other))
            raise AssertionError(f"{what}: {name} differs from fastmlp by up to {worst:.3g}: "
                                 f"they do not compute the same thing")


# With more than one thread, a library's idle workers keep spinning for a while after its
# last call (OpenBLAS: about 2^28 cycles, ~0.1 s) and take the cores that the next
# contender's threads need: measured, fastmlp's W3 epoch on 2 threads took 0.135 s right
# after NumPy's 2-thread matmuls and 0.081 s after a 0.15 s pause.  So with more than one
# thread, each timed run starts after this pause.
SETTLE_SECONDS = 0.15


def time_interleaved(runs, args_for, repeats, threads=1, warm_up=None):
    """Median seconds of each contender over `repeats` rounds, contenders interleaved.

    `warm_up` ({name: callable}, optional) runs, untimed, after the pause and before each
    timed run of that contender (see benchmark_products.WARM_UP_SECONDS).
    """
    times = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            args = args_for(name)
            if threads > 1:
                time.sleep(SETTLE_SECONDS)
            if warm_up:
                warm_up[name]()
            start = time.perf_counter()
            run(*args)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


# --- the machine's limits, measured in the run -----------------------------------------------

def matmul_peak(dtype, threads, n):
    """NumPy's matrix-multiply GFLOP/s for n x n matrices: the machine's practical peak."""
    rng = np.random.default_rng(0)
    a, b = rng.random((n, n)).astype(dtype), rng.random((n, n)).astype(dtype)
    with pinned(threads):
        if threads > 1:  # other libraries' idle threads off the cores (see SETTLE_SECONDS)
            time.sleep(SETTLE_SECONDS)
        a @ b
        times = []
        for _ in range(5):
            start = time.perf_counter()
            a @ b
            times.append(time.perf_counter() - start)
    return 2 * n ** 3 / min(times) / 1e9


def l2_bandwidth(l1_bytes, l2_bytes, rounds=1000):
    """Bytes per second one core moves through its L2: NumPy copies between two arrays
    of a quarter of L2 each (at least twice L1, so that they come from L2, not L1),
    counting each copy's bytes read and written.  The best of 5 timings of `rounds`
    copies, less the same number of copies of one element (the cost of a call)."""

    def seconds(n):
        src, dst = np.ones(n), np.empty(n)
        np.copyto(dst, src)
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(rounds):
                np.copyto(dst, src)
            best = min(best, time.perf_counter() - start)
        return best

    n = max(l2_bytes // 4, 2 * l1_bytes) // 8
    moving = seconds(n) - seconds(1)
    return 2 * 8 * n * rounds / max(moving, 1e-9)


def parameter_bytes(sizes, dtype):
    """Bytes of a network's weights and biases."""
    return sum((i + 1) * o for i, o in zip(sizes[:-1], sizes[1:])) * np.dtype(dtype).itemsize


def l2_floor_seconds(sizes, dtype, bandwidth):
    """The least time one sample of online training (batch 1) can take when the weights
    live in L2: the update fused with the next sample's forward pass still sweeps every
    parameter through L2 twice (read, then written back), at `bandwidth` bytes/s."""
    return 2 * parameter_bytes(sizes, dtype) / bandwidth


# --- a competing CPU-bound process -----------------------------------------------------------

# The competitor: a fresh interpreter (a multiprocessing child would copy this process's
# threads, or re-run the script that started it) that says so once it runs, then spins.
COMPETITOR = "import sys; print('spinning', flush=True)\nwhile True: pass"


@contextlib.contextmanager
def competing_process():
    """Run a CPU-bound process for the duration of the block; it spins on one core when the
    block begins and is gone when it ends.  Yields its pid."""
    child = subprocess.Popen([sys.executable, "-c", COMPETITOR], stdout=subprocess.PIPE,
                             stdin=subprocess.DEVNULL, text=True)
    try:
        if child.stdout.readline().strip() != "spinning":
            raise RuntimeError(f"the competing process did not start (exit code {child.poll()})")
        yield child.pid
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
