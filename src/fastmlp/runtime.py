"""Threads and instruction-set paths of the C kernels.

The thread count defaults to $FASTMLP_NUM_THREADS, else the CPUs this process may use;
`set_num_threads` and threadpoolctl (when installed) change it for the process; the
`threads` context manager and `Network.fit(threads=...)` for the calling thread only.
Small work always stays on one thread.  The instruction-set path defaults to the best
this CPU supports; $FASTMLP_ISA ("baseline", "avx2", "avx512") or `set_isa` forces one.
"""
import contextlib
import os
import warnings
from collections.abc import Iterator

from . import _kernels

get_num_threads = _kernels.get_num_threads
get_isa = _kernels.get_isa
supported_isas = _kernels.supported_isas


def set_num_threads(n: int) -> None:
    """Use up to n threads (1 to 64) for large matrix products."""
    _kernels.set_num_threads(n)


def set_isa(name: str) -> None:
    """Force an instruction-set path ("baseline", "avx2", "avx512") this CPU supports."""
    _kernels.set_isa(name)


@contextlib.contextmanager
def threads(n: int | None) -> Iterator[None]:
    """``with fastmlp.threads(1): ...`` runs the kernels this thread calls in the block on
    n threads, then restores; other threads and the process-wide count are untouched."""
    if n is None:
        yield
        return
    before = _kernels.get_local_num_threads()
    _kernels.set_local_num_threads(n)
    try:
        yield
    finally:
        _kernels.set_local_num_threads(before)


def _check_forced_isa() -> None:
    forced = os.environ.get("FASTMLP_ISA")
    if forced and forced != get_isa():
        warnings.warn(f"FASTMLP_ISA={forced!r} is not a path this CPU supports "
                      f"({', '.join(supported_isas())}); using {get_isa()!r}", RuntimeWarning,
                      stacklevel=3)


def _register_with_threadpoolctl() -> None:
    """Let threadpoolctl.threadpool_limits(n) and threadpool_info() see fastmlp's pool."""
    try:
        import threadpoolctl
    except ImportError:
        return
    if not hasattr(threadpoolctl, "register"):  # threadpoolctl < 3.5
        return

    class FastmlpController(threadpoolctl.LibController):
        user_api = "fastmlp"
        internal_api = "fastmlp"
        filename_prefixes = ("_kernels",)

        def _ours(self) -> bool:
            return hasattr(self.dynlib, "fm_get_num_threads")

        def get_num_threads(self) -> int | None:
            return self.dynlib.fm_get_num_threads() if self._ours() else None

        def set_num_threads(self, num_threads: int) -> None:
            if self._ours():
                self.dynlib.fm_set_num_threads(int(num_threads))

        def get_version(self) -> str:
            from . import __version__
            return __version__

    threadpoolctl.register(FastmlpController)
