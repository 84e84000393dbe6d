"""Threads and instruction-set paths of the C kernels, and the machine they run on.

The thread count defaults to $FASTMLP_NUM_THREADS, else the CPUs this process may use;
`set_num_threads` and threadpoolctl (when installed) change it for the process; the
`threads` context manager and `Network.fit(threads=...)` for the calling thread only.
Small work always stays on one thread.  The instruction-set path defaults to the best
this CPU supports; $FASTMLP_ISA ("baseline", "avx2", "avx512") or `set_isa` forces one.
`machine()` tells the CPU, the cache sizes the matrix product is blocked for, the path
and the thread count.
"""
import contextlib
import os
import platform
import warnings
from collections.abc import Iterator
from typing import Any

from . import _kernels, _machine, _validate

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
    n = _validate.positive_int("threads", n)
    before = _kernels.get_local_num_threads()
    _kernels.set_local_num_threads(n)
    try:
        yield
    finally:
        _kernels.set_local_num_threads(before)


def _cpuinfo() -> dict[str, str]:
    """The first processor's fields in /proc/cpuinfo (empty where there is none)."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if not line.strip():
                    break  # the end of the first processor's block
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return fields


def machine() -> dict[str, Any]:
    """This machine as the kernels see it.

    Returns
    -------
    dict
        ``cpu``: the CPU's model name (/proc/cpuinfo, else `platform`); ``family``,
        ``model``: its family and model numbers (x86 Linux; None elsewhere); ``cpus``: the
        logical CPUs; ``caches``: {"l1d", "l2", "l3"}, each a dict of ``bytes`` (the whole
        cache), ``sharing`` (the logical CPUs sharing it), ``ways``, ``line`` (bytes) and
        ``source`` ("sysfs", "cpuid" or "default"): the sizes the matrix product's blocks
        are derived from, read once per process; ``isa``: the instruction-set path in use;
        ``isas``: the paths this CPU runs; ``threads``: the kernels' thread count for the
        calling thread.
    """
    info = _cpuinfo()

    def number(key: str) -> int | None:
        return int(info[key]) if info.get(key, "").isdigit() else None

    return {"cpu": info.get("model name") or platform.processor() or platform.machine(),
            "family": number("cpu family"), "model": number("model"), "cpus": os.cpu_count(),
            "caches": _machine.caches(), "isa": get_isa(), "isas": list(supported_isas()),
            "threads": get_num_threads()}


def _size(n: int) -> str:
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale and n % (scale // 4) == 0:
            return f"{n / scale:g} {unit}"
    return f"{n} bytes"


def describe_machine(m: dict[str, Any]) -> list[str]:
    """Two lines for people from `machine()`'s dict: the CPU, and its caches.

    For example ``cpu: AMD EPYC (family 26, model 2), 2 logical CPUs`` and ``caches: L1d
    48 KiB, L2 1 MiB, L3 32 MiB shared by 2 CPUs (16 MiB each), from sysfs``.
    """
    numbers = ", ".join(f"{k} {m[k]}" for k in ("family", "model") if m[k] is not None)
    cpu = f"cpu: {m['cpu']}" + (f" ({numbers})" if numbers else "") + f", {m['cpus']} logical CPUs"
    levels = []
    for name, c in m["caches"].items():
        text = f"{name[:1].upper()}{name[1:]} {_size(c['bytes'])}"
        if c["sharing"] > 1:
            text += f" shared by {c['sharing']} CPUs ({_size(c['bytes'] // c['sharing'])} each)"
        levels.append(text)
    sources = sorted({c["source"] for c in m["caches"].values()})
    return [cpu, f"caches: {', '.join(levels)}, from {' and '.join(sources)}"]


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
