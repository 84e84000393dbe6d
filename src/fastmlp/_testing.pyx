# cython: language_level=3
"""The test suite's entry into the kernels' internals (csrc/fastmlp_testing.h).

Not part of fastmlp's API.  `unaligned` makes the arrays every entry point must refuse,
for the tests and tools/fuzz_kernels.py.  `gemm` runs one matrix product C = A B with its epilogue,
by the fast product of csrc/gemm.template.h on a given number of threads or by its plain
reference in csrc/gemm_reference.template.h, so that a test can set one against the other
for any shape, operand layout, epilogue, thread count, cache blocks and instruction-set
path; `gemm_layout` tells the fast product's register tile and the blocks it derives from
this machine's caches.  Every argument is checked here, and refused with a ValueError
naming the problem, before C sees it.

This module links its own copy of the kernels: `fastmlp._kernels.set_isa` and
`set_num_threads` do not reach it.  `gemm` takes the path by name and the thread count
as an argument instead; by default it follows the path `_kernels` uses.
"""
import math
import numbers
import operator

import numpy as np

from cython cimport floating

from fastmlp import _kernels

cdef extern from "fastmlp.h" nogil:
    const char *fm_strerror(int status)
    enum: FM_ERR_NOMEM

cdef extern from "internal.h" nogil:
    enum: FM_GEMM_KC
    enum: FM_MAX_THREADS
    enum: FM_EPI_NONE, FM_EPI_SCALE, FM_EPI_BIAS_ACT, FM_EPI_DSIGMOID, FM_EPI_SGD

cdef extern from "fastmlp_testing.h" nogil:
    enum: FM_AS_IS, FM_TRANSPOSED
    ctypedef int (*fm_gemm_check_f32_fn)(
        int reference, int threads, Py_ssize_t M, Py_ssize_t N, Py_ssize_t K,
        const float *A, int a_layout, Py_ssize_t lda, const float *B, int b_layout,
        Py_ssize_t ldb, float *C, Py_ssize_t ldc, int kind, int sigmoid, float scale,
        const float *bias, const float *S, Py_ssize_t lds, float *W, float *V, Py_ssize_t ldw,
        float lr, float decay, float mu, Py_ssize_t mc, Py_ssize_t nc, Py_ssize_t kc)
    ctypedef int (*fm_gemm_check_f64_fn)(
        int reference, int threads, Py_ssize_t M, Py_ssize_t N, Py_ssize_t K,
        const double *A, int a_layout, Py_ssize_t lda, const double *B, int b_layout,
        Py_ssize_t ldb, double *C, Py_ssize_t ldc, int kind, int sigmoid, double scale,
        const double *bias, const double *S, Py_ssize_t lds, double *W, double *V,
        Py_ssize_t ldw, double lr, double decay, double mu, Py_ssize_t mc, Py_ssize_t nc,
        Py_ssize_t kc)
    fm_gemm_check_f32_fn fm_gemm_check_f32(const char *isa)
    fm_gemm_check_f64_fn fm_gemm_check_f64(const char *isa)
    int fm_gemm_layout(const char *isa, int itemsize, Py_ssize_t out[5])
    void fm_hold_workers(int hold)

# Products with K up to this finish in one pass; beyond it, C holds partial sums.
KC = FM_GEMM_KC
MAX_THREADS = FM_MAX_THREADS
# The epilogue kinds (fm_epilogue_kind) and the keyword arguments each one reads.
KINDS = {"none": FM_EPI_NONE, "scale": FM_EPI_SCALE, "bias_act": FM_EPI_BIAS_ACT,
         "dsigmoid": FM_EPI_DSIGMOID, "sgd": FM_EPI_SGD}
_READS = {"none": (), "scale": ("scale",), "bias_act": ("sigmoid", "bias"), "dsigmoid": ("S",),
          "sgd": ("scale", "W", "V", "lr", "decay", "momentum")}
_DEFAULTS = dict(sigmoid=False, scale=1.0, bias=None, S=None, W=None, V=None, lr=0.0, decay=0.0,
                 momentum=0.0)


def unaligned(a):
    """A C-contiguous copy of `a` whose data starts one byte past an aligned address."""
    buffer = np.zeros(a.nbytes + a.itemsize + 1, dtype=np.uint8)
    start = (-buffer.ctypes.data) % a.itemsize + 1
    out = buffer[start:start + a.nbytes].view(a.dtype).reshape(a.shape)
    out[...] = a
    return out


def _checked_array(name, a, dtype, shape, writable=False):
    if not isinstance(a, np.ndarray):
        raise ValueError(f"{name} must be a NumPy array, got {type(a).__name__}")
    if a.dtype != dtype:
        raise ValueError(f"{name} has dtype {a.dtype}, expected {dtype} (the dtype of A)")
    if a.shape != shape:
        raise ValueError(f"{name} has shape {a.shape}, expected {shape}")
    if not a.flags.aligned:
        raise ValueError(f"{name} is not aligned to its {a.itemsize}-byte elements")
    if writable and not a.flags.writeable:
        raise ValueError(f"{name} is read-only")


def _storage(name, a, transposed_ok=True):
    """How the 2-D array `a` lies in memory: (FM_AS_IS or FM_TRANSPOSED, leading dimension).

    As is: contiguous rows, each at least a row's length after the last; transposed: the
    same of its columns.  A size-1 axis's stride is never used, so it may be anything.
    """
    rows, cols = a.shape
    size = a.itemsize
    rs, cs = a.strides

    def unit(n, stride):
        return n == 1 or stride == size

    def apart(n, stride, length):  # n lines `length` elements long, `stride` bytes apart
        return n == 1 or (stride % size == 0 and stride >= length * size)

    if unit(cols, cs) and apart(rows, rs, cols):
        return FM_AS_IS, rs // size if rows > 1 else cols
    if transposed_ok and unit(rows, rs) and apart(cols, cs, rows):
        return FM_TRANSPOSED, cs // size if cols > 1 else rows
    wanted = "contiguous rows or columns" if transposed_ok else "contiguous rows"
    raise ValueError(f"{name} (shape {a.shape}, strides {a.strides}) must have {wanted} that "
                     f"do not overlap; pass np.ascontiguousarray({name})")


def _scalar(name, value, dtype, low=-math.inf, high=math.inf, high_open=False):
    """The value as the dtype will hold it, finite and in [low, high] (or [low, high))."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    with np.errstate(over="ignore"):
        x = float(dtype.type(x))
    if not (math.isfinite(x) and low <= x and (x < high if high_open else x <= high)):
        bounds = f"[{low}, {high})" if high_open else f"[{low}, {high}]"
        raise ValueError(f"{name} = {value!r} is not finite and within {bounds} in {dtype}")
    return x


def _path(isa):
    if isa is None:
        return _kernels.get_isa()
    if isa not in _kernels.ISA_NAMES:
        raise ValueError(f"isa={isa!r} is not one of {', '.join(map(repr, _kernels.ISA_NAMES))}")
    if isa not in _kernels.supported_isas():
        raise ValueError(f"this CPU cannot run the {isa!r} path; it runs {_kernels.supported_isas()}")
    return isa


# The arguments of one product, checked, with the arrays as addresses (0 for None).
cdef struct _Call:
    bint reference, sigmoid
    int threads, a_layout, b_layout, kind
    Py_ssize_t M, N, K, lda, ldb, ldc, lds, ldw, mc, nc, kc
    size_t A, B, C, bias, S, W, V
    double scale, lr, decay, mu


cdef inline size_t _address(a):
    return 0 if a is None else a.__array_interface__["data"][0]


cdef int _run(floating *dtype, const char *isa, _Call *c) except? -1:
    """Run `c` on the path named `isa` for the dtype of `dtype` (a NULL pointer: only its
    type counts).  Returns the C status."""
    cdef fm_gemm_check_f32_fn f32 = fm_gemm_check_f32(isa)
    cdef fm_gemm_check_f64_fn f64 = fm_gemm_check_f64(isa)
    if f32 == NULL or f64 == NULL:
        raise ValueError(f"no kernels for the path {isa.decode()!r}")
    cdef int status
    with nogil:
        if floating is float:
            status = f32(c.reference, c.threads, c.M, c.N, c.K, <float *>c.A, c.a_layout, c.lda,
                         <float *>c.B, c.b_layout, c.ldb, <float *>c.C, c.ldc, c.kind,
                         c.sigmoid, <float>c.scale, <float *>c.bias, <float *>c.S, c.lds,
                         <float *>c.W, <float *>c.V, c.ldw, <float>c.lr, <float>c.decay,
                         <float>c.mu, c.mc, c.nc, c.kc)
        else:
            status = f64(c.reference, c.threads, c.M, c.N, c.K, <double *>c.A, c.a_layout, c.lda,
                         <double *>c.B, c.b_layout, c.ldb, <double *>c.C, c.ldc, c.kind,
                         c.sigmoid, c.scale, <double *>c.bias, <double *>c.S, c.lds,
                         <double *>c.W, <double *>c.V, c.ldw, c.lr, c.decay, c.mu,
                         c.mc, c.nc, c.kc)
    return status


def hold_workers(hold):
    """Keep this module's pool workers out of every job (True), as if another process kept
    them off their cores, or let them go (False).  `gemm` on several threads must still
    finish, on the calling thread alone."""
    fm_hold_workers(1 if hold else 0)


def gemm_layout(dtype, isa=None):
    """The fast product's register tile and cache blocks on a path, for a dtype.

    Parameters
    ----------
    dtype : float32 or float64 (anything np.dtype takes)
    isa : str or None
        The instruction-set path, as for `gemm`.

    Returns
    -------
    dict
        ``mr``, ``nr``: the register tile (MR rows by NR columns of C); ``mc``, ``nc``,
        ``kc``: the blocks derived from this machine's caches (csrc/cache.c).
    """
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    cdef bytes path = _path(isa).encode()
    cdef Py_ssize_t out[5]
    if fm_gemm_layout(path, dtype.itemsize, out) != 0:
        raise ValueError(f"no kernels for the path {path.decode()!r}")
    return dict(mr=out[0], nr=out[1], mc=out[2], nc=out[3], kc=out[4])


def _blocks(blocks, dtype, isa):
    """(mc, nc, kc) checked against the path's register tile, or (0, 0, 0) for None."""
    if blocks is None:
        return 0, 0, 0
    try:
        mc, nc, kc = (operator.index(b) for b in blocks)
    except (TypeError, ValueError):
        raise ValueError(f"blocks must be three integers (mc, nc, kc), got {blocks!r}") from None
    tile = gemm_layout(dtype, isa)
    for name, value, step in (("mc", mc, tile["mr"]), ("nc", nc, tile["nr"])):
        if value < step or value % step:
            raise ValueError(f"{name} = {value} is not a positive multiple of the register tile's "
                             f"{step} for {dtype} on the {_path(isa)!r} path")
    if not 1 <= kc <= KC:
        raise ValueError(f"kc = {kc} is not between 1 and KC = {KC}")
    return mc, nc, kc


def gemm(A, B, C=None, *, kind="none", sigmoid=False, scale=1.0, bias=None, S=None, W=None,
         V=None, lr=0.0, decay=0.0, momentum=0.0, threads=1, isa=None, reference=False,
         blocks=None):
    """C = A B with an epilogue, by the fast product or (``reference=True``) its reference.

    Parameters
    ----------
    A : ndarray, shape (M, K), float32 or float64
        With contiguous rows (as X is read) or contiguous columns (as D.T is); rows or
        columns may lie further apart than their length (a slice of a wider array).
    B : ndarray, shape (K, N), A's dtype
        With contiguous rows (as W and X are read) or columns (as W.T is).
    C : ndarray, shape (M, N), A's dtype, contiguous rows; written
        The result.  With kind "sgd" it is scratch (contents afterwards unspecified) and
        may be None when K <= KC.
    kind : {"none", "scale", "bias_act", "dsigmoid", "sgd"}
        What happens to each c = (A B)_ij: C_ij = c; = scale c; = sigmoid(c + bias_j)
        (or c + bias_j when not `sigmoid`); = c S_ij (1 - S_ij); or scale c is the
        gradient of W_ij, which the SGD rule updates with V_ij (see fm_sgd_update).
    sigmoid : bool
        "bias_act": apply the sigmoid.
    scale : float
        "scale" and "sgd".
    bias : ndarray, shape (N,), contiguous
        "bias_act".
    S : ndarray, shape (M, N), contiguous rows
        "dsigmoid": sigmoid outputs.
    W, V : ndarray, shape (M, N), contiguous rows; updated in place
        "sgd": parameters and velocities (V None: no momentum).
    lr, decay, momentum : float
        "sgd": lr >= 0, the per-step weight decay >= 0, 0 <= momentum < 1 (0 without V).
    threads : int
        Threads for the fast product, 1 to MAX_THREADS, used even for small products.
    isa : str or None
        The instruction-set path, one of ``_kernels.supported_isas()``; None for the one
        ``_kernels`` uses.
    reference : bool
        Run the plain reference (one thread) instead of the fast product.
    blocks : (int, int, int) or None
        The fast product's cache blocks (mc, nc, kc): mc a multiple of the register tile's
        rows, nc of its columns (see `gemm_layout`), 1 <= kc <= KC.  None: the blocks
        derived from this machine's caches.

    A keyword the kind does not read must keep its default.  Outputs (C, W, V) must not
    share memory with any other argument.
    """
    if not isinstance(A, np.ndarray) or A.dtype not in (np.float32, np.float64) or A.ndim != 2:
        raise ValueError(f"A must be a 2-D NumPy array of float32 or float64, got "
                         f"{getattr(A, 'dtype', type(A).__name__)} "
                         f"with shape {getattr(A, 'shape', None)}")
    dtype = A.dtype
    M, K = A.shape
    if not isinstance(B, np.ndarray) or B.ndim != 2:
        raise ValueError(f"B must be a 2-D NumPy array, got {type(B).__name__} "
                         f"with shape {getattr(B, 'shape', None)}")
    N = B.shape[1]
    if M < 1 or N < 1 or K < 1:
        raise ValueError(f"every size must be at least 1, got M = {M}, N = {N}, K = {K}")
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"kind={kind!r} is not one of {', '.join(map(repr, KINDS))}")
    given = dict(sigmoid=sigmoid, scale=scale, bias=bias, S=S, W=W, V=V, lr=lr, decay=decay,
                 momentum=momentum)
    for name, value in given.items():
        default = _DEFAULTS[name]
        if default is None:
            unchanged = value is None
        else:
            unchanged = isinstance(value, numbers.Real) and value == default
        if name not in _READS[kind] and not unchanged:
            raise ValueError(f"kind={kind!r} does not read {name}; leave it at {default!r}")

    _checked_array("A", A, dtype, (M, K))
    _checked_array("B", B, dtype, (K, N))
    a_layout, lda = _storage("A", A)
    b_layout, ldb = _storage("B", B)
    ldc = lds = ldw = 0
    if C is None:
        if kind != "sgd" or K > KC:
            needed = "for its partial sums when K > " + str(KC) if kind == "sgd" else "as output"
            raise ValueError(f"kind={kind!r} with K = {K} needs C {needed}")
    else:
        _checked_array("C", C, dtype, (M, N), writable=True)
        ldc = _storage("C", C, transposed_ok=False)[1]
    if kind == "bias_act":
        if bias is None:
            raise ValueError("kind='bias_act' needs bias")
        _checked_array("bias", bias, dtype, (N,))
        if N > 1 and bias.strides[0] != bias.itemsize:
            raise ValueError(f"bias must be contiguous, its stride is {bias.strides[0]} bytes")
    if kind == "dsigmoid":
        if S is None:
            raise ValueError("kind='dsigmoid' needs S")
        _checked_array("S", S, dtype, (M, N))
        lds = _storage("S", S, transposed_ok=False)[1]
    if kind == "sgd":
        if W is None:
            raise ValueError("kind='sgd' needs W")
        for name, a in (("W", W), ("V", V)):
            if a is not None:
                _checked_array(name, a, dtype, (M, N), writable=True)
                ld = _storage(name, a, transposed_ok=False)[1]
                if name == "W":
                    ldw = ld
                elif ld != ldw:
                    raise ValueError(f"V's rows are {ld} elements apart, W's {ldw}: they must match")
    scale = _scalar("scale", scale, dtype)
    lr = _scalar("lr", lr, dtype, low=0)
    decay = _scalar("decay", decay, dtype, low=0)
    momentum = _scalar("momentum", momentum, dtype, low=0, high=1, high_open=True)
    if momentum != 0 and V is None:
        raise ValueError(f"momentum = {momentum} needs V, the velocities")
    if not isinstance(sigmoid, bool) or not isinstance(reference, bool):
        raise ValueError(f"sigmoid and reference must be True or False, got {sigmoid!r}, {reference!r}")
    try:
        threads = operator.index(threads)
    except TypeError:
        raise ValueError(f"threads must be an integer, got {threads!r}") from None
    if not 1 <= threads <= MAX_THREADS:
        raise ValueError(f"threads must be between 1 and {MAX_THREADS}, got {threads}")
    cdef bytes path = _path(isa).encode()
    mc, nc, kc = _blocks(blocks, dtype, isa)

    arrays = dict(A=A, B=B, C=C, bias=bias, S=S, W=W, V=V)
    for out in ("C", "W", "V"):
        for name, a in arrays.items():
            if name != out and arrays[out] is not None and a is not None \
                    and np.may_share_memory(arrays[out], a):
                raise ValueError(f"{out} shares memory with {name}: outputs must not overlap")

    cdef _Call call = _Call(
        reference=reference, threads=threads, M=M, N=N, K=K,
        A=_address(A), a_layout=a_layout, lda=lda, B=_address(B), b_layout=b_layout, ldb=ldb,
        C=_address(C), ldc=ldc, kind=KINDS[kind], sigmoid=sigmoid, scale=scale,
        bias=_address(bias), S=_address(S), lds=lds, W=_address(W), V=_address(V), ldw=ldw,
        lr=lr, decay=decay, mu=momentum, mc=mc, nc=nc, kc=kc)
    cdef int status
    if dtype == np.float32:
        status = _run(<float *>NULL, path, &call)
    else:
        status = _run(<double *>NULL, path, &call)
    if status == FM_ERR_NOMEM:
        raise MemoryError("the thread pool could not allocate its scratch")
    if status != 0:
        raise ValueError(f"fm_gemm_check refused its arguments: {fm_strerror(status).decode()}")
