# cython: language_level=3
"""This machine's data caches as the C kernels read them (csrc/cache.c), and the matrix
product's cache blocks derived from them.

Private: `fastmlp.runtime.machine()` is the public view.  `caches()` is what the kernels
use, read once per process; `read_caches` reads them again from the sources given (tests
point it at a folder laid out as Linux's sysfs); `blocks_for` runs the blocking model on
any caches.  A cache level is a dict: ``bytes`` (its capacity, shared by ``sharing``
logical CPUs), ``ways``, ``line`` (bytes) and ``source`` ("sysfs", "cpuid" or "default").
"""
cdef extern from "cache.h" nogil:
    ctypedef struct fm_cache_level:
        long long bytes
        int ways, line, sharing, source
    ctypedef struct fm_cache_info:
        fm_cache_level l1d, l2, l3
    ctypedef struct fm_gemm_blocks:
        Py_ssize_t mc, nc, kc
    const fm_cache_info *fm_cache()
    void fm_cache_read(const char *sysfs, int cpuid, fm_cache_info *out)
    fm_gemm_blocks fm_gemm_blocks_for(const fm_cache_info *c, size_t elem, Py_ssize_t mr,
                                      Py_ssize_t nr)

# fm_cache_source's names, by value.
SOURCES = ("default", "sysfs", "cpuid")
LEVELS = ("l1d", "l2", "l3")


cdef dict _as_dict(const fm_cache_info *c):
    # Cython turns each struct into a dict of its fields
    levels = {name: level for name, level in zip(LEVELS, (c.l1d, c.l2, c.l3))}
    for level in levels.values():
        level["source"] = SOURCES[level["source"]]
    return levels


cdef fm_cache_level _as_level(dict d) except *:
    cdef fm_cache_level level
    level.bytes, level.ways, level.line, level.sharing = d["bytes"], d["ways"], d["line"], d["sharing"]
    level.source = SOURCES.index(d.get("source", "default"))
    return level


def caches():
    """The data caches the kernels are blocked for: {"l1d": level, "l2": ..., "l3": ...}."""
    return _as_dict(fm_cache())


def read_caches(sysfs=None, cpuid=True):
    """The caches read now: each level from the folder `sysfs` (holding index0, index1, ...
    as /sys/devices/system/cpu/cpu0/cache does; None skips it), else CPUID when `cpuid`
    (x86 only), else the defaults."""
    cdef fm_cache_info info
    cdef bytes folder = None if sysfs is None else str(sysfs).encode()
    fm_cache_read(NULL if folder is None else <const char *>folder, bool(cpuid), &info)
    return _as_dict(&info)


def blocks_for(caches, itemsize, mr, nr):
    """(mc, nc, kc): the blocks the model of csrc/cache.c derives from `caches` (a dict as
    `caches()` returns, every level with bytes, ways, line and sharing) for elements of
    `itemsize` bytes and an mr x nr register tile."""
    cdef fm_cache_info info
    info.l1d, info.l2, info.l3 = (_as_level(caches[name]) for name in LEVELS)
    for name in LEVELS:
        level = caches[name]
        if level["bytes"] < 1 or level["ways"] < 1 or level["line"] < 1 or level["sharing"] < 1:
            raise ValueError(f"{name}: bytes, ways, line and sharing must be at least 1, got {level}")
    if itemsize not in (4, 8) or mr < 1 or nr < 1:
        raise ValueError(f"itemsize must be 4 or 8 and the tile at least 1 x 1, got "
                         f"{itemsize}, {mr} x {nr}")
    cdef fm_gemm_blocks b = fm_gemm_blocks_for(&info, itemsize, mr, nr)
    return b.mc, b.nc, b.kc
