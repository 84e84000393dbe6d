# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Thin wrappers around the C kernels in csrc/fastmlp.h.

Each wrapper takes C-contiguous arrays of one floating dtype (float32 or float64),
checks that their shapes agree, calls the kernel without the GIL and turns a non-zero
status into an exception.  Argument meanings are documented in csrc/fastmlp.h.
"""
from cython cimport floating
from libc.stdint cimport int64_t
from cpython.buffer cimport (PyBUF_C_CONTIGUOUS, PyBUF_FORMAT, PyBUF_WRITABLE, PyBuffer_Release,
                            PyObject_GetBuffer)
from libc.stdlib cimport free, malloc

import numpy as np

from . import _validate

cdef extern from "fastmlp.h" nogil:
    const char *fm_strerror(int status)
    int fm_get_isa()
    int fm_set_isa(int isa)
    int fm_isa_supported(int isa)
    const char *fm_isa_name(int isa)
    int fm_get_num_threads()
    int fm_set_num_threads(int n)
    int fm_set_local_num_threads(int n)
    int fm_get_local_num_threads()
    enum: FM_MAX_LAYERS
    enum: FM_ERR_NONFINITE
    enum: FM_ERR_OVERFLOW
    enum: FM_ERR_INDEX
    enum: FM_FLOAT32
    enum: FM_FLOAT64
    enum: FM_SIGMOID
    enum: FM_IDENTITY
    enum: FM_SOFTMAX
    enum: FM_QUADRATIC
    enum: FM_CROSS_ENTROPY
    enum: FM_LOG_LIKELIHOOD
    ctypedef struct fm_network:
        int dtype
        Py_ssize_t n_layers
        Py_ssize_t sizes[FM_MAX_LAYERS + 1]
        int output
        void *W[FM_MAX_LAYERS]
        void *b[FM_MAX_LAYERS]
        void *vW[FM_MAX_LAYERS]
        void *vb[FM_MAX_LAYERS]
    ctypedef struct fm_csr:
        long long nnz
        const long long *indptr
        const int *indices
        const void *data
    ctypedef struct fm_epoch:
        int cost
        Py_ssize_t n, batch
        const void *X
        Py_ssize_t ldx
        const fm_csr *X_csr
        const void *Y
        Py_ssize_t ldy
        const long long *order
        const void *sample_scale
        double lr, decay, momentum
        Py_ssize_t first_batch, n_batches
    ctypedef struct fm_epoch_result:
        double cost_sum
        long long correct
        long long failed_batch
    size_t fm_train_workspace(const fm_network *net, Py_ssize_t batch, int compressed)
    size_t fm_forward_workspace(const fm_network *net, Py_ssize_t m)
    int fm_train_epoch_f32(const fm_network *net, const fm_epoch *epoch, float *work,
                           size_t work_len, fm_epoch_result *result)
    int fm_train_epoch_f64(const fm_network *net, const fm_epoch *epoch, double *work,
                           size_t work_len, fm_epoch_result *result)
    int fm_network_forward_f32(const fm_network *net, Py_ssize_t m, const float *X,
                               Py_ssize_t ldx, float *out, Py_ssize_t ldo, float *work,
                               size_t work_len, Py_ssize_t *bad)
    int fm_network_forward_f64(const fm_network *net, Py_ssize_t m, const double *X,
                               Py_ssize_t ldx, double *out, Py_ssize_t ldo, double *work,
                               size_t work_len, Py_ssize_t *bad)
    int fm_network_forward_csr_f32(const fm_network *net, Py_ssize_t m, const fm_csr *X,
                                   float *out, Py_ssize_t ldo, float *work, size_t work_len,
                                   Py_ssize_t *bad)
    int fm_network_forward_csr_f64(const fm_network *net, Py_ssize_t m, const fm_csr *X,
                                   double *out, Py_ssize_t ldo, double *work, size_t work_len,
                                   Py_ssize_t *bad)
    int fm_compress_rows_f32(Py_ssize_t m, Py_ssize_t n, const float *X, Py_ssize_t ldx,
                             long long *indptr, int *indices, float *data)
    int fm_compress_rows_f64(Py_ssize_t m, Py_ssize_t n, const double *X, Py_ssize_t ldx,
                             long long *indptr, int *indices, double *data)
    int fm_exp_f32(Py_ssize_t n, const float *x, float *y)
    int fm_exp_f64(Py_ssize_t n, const double *x, double *y)
    int fm_sigmoid_f32(Py_ssize_t n, const float *z, float *a)
    int fm_sigmoid_f64(Py_ssize_t n, const double *z, double *a)
    int fm_dense_forward_f32(Py_ssize_t m, Py_ssize_t n_in, Py_ssize_t n_out, int activation,
                             const float *X, Py_ssize_t ldx, const float *W, Py_ssize_t ldw,
                             const float *b, float *A, Py_ssize_t lda)
    int fm_dense_forward_f64(Py_ssize_t m, Py_ssize_t n_in, Py_ssize_t n_out, int activation,
                             const double *X, Py_ssize_t ldx, const double *W, Py_ssize_t ldw,
                             const double *b, double *A, Py_ssize_t lda)
    int fm_dense_backward_f32(Py_ssize_t m, Py_ssize_t n_in, Py_ssize_t n_out, int activation,
                              const float *X, Py_ssize_t ldx, const float *W, Py_ssize_t ldw,
                              const float *A, Py_ssize_t lda, const float *G, Py_ssize_t ldg,
                              float *D, Py_ssize_t ldd, float *dW, float *db,
                              float *dX, Py_ssize_t lddx)
    int fm_dense_backward_f64(Py_ssize_t m, Py_ssize_t n_in, Py_ssize_t n_out, int activation,
                              const double *X, Py_ssize_t ldx, const double *W, Py_ssize_t ldw,
                              const double *A, Py_ssize_t lda, const double *G, Py_ssize_t ldg,
                              double *D, Py_ssize_t ldd, double *dW, double *db,
                              double *dX, Py_ssize_t lddx)
    int fm_sgd_update_f32(Py_ssize_t n, float lr, float decay, float momentum,
                          const float *g, float *p, float *v)
    int fm_sgd_update_f64(Py_ssize_t n, double lr, double decay, double momentum,
                          const double *g, double *p, double *v)
    int fm_cost_f32(Py_ssize_t m, Py_ssize_t n, int cost, const float *A, Py_ssize_t lda,
                    const float *Y, Py_ssize_t ldy, double *out)
    int fm_cost_f64(Py_ssize_t m, Py_ssize_t n, int cost, const double *A, Py_ssize_t lda,
                    const double *Y, Py_ssize_t ldy, double *out)

cdef extern from "fastmlp_testing.h" nogil:
    double fm_set_split_min_flops(double flops)
    void fm_slow_workers(double seconds)
    int fm_pool_on_one_thread()

cdef extern from "internal.h":
    enum: FM_FEW_ROWS

# The codes of csrc/fastmlp.h, read from it: the one place Python learns them.
SIGMOID, IDENTITY, SOFTMAX = FM_SIGMOID, FM_IDENTITY, FM_SOFTMAX
QUADRATIC, CROSS_ENTROPY, LOG_LIKELIHOOD = FM_QUADRATIC, FM_CROSS_ENTROPY, FM_LOG_LIKELIHOOD
ACTIVATIONS = {"sigmoid": SIGMOID, "identity": IDENTITY, "softmax": SOFTMAX}
COSTS = {"quadratic": QUADRATIC, "cross_entropy": CROSS_ENTROPY, "log_likelihood": LOG_LIKELIHOOD}
MAX_LAYERS = FM_MAX_LAYERS
# Mini-batches of up to this many rows take the kernels' matrix-vector path, not the
# packed products.
FEW_ROWS = FM_FEW_ROWS


class KernelError(RuntimeError):
    """A C kernel refused its arguments; the message is the kernel's own."""


cdef int _check(int status) except -1:
    if status != 0:
        raise KernelError(f"fastmlp kernel error {status}: {fm_strerror(status).decode()}")
    return 0


def _expect(str name, tuple shape, tuple expected):
    if shape != expected:
        raise ValueError(f"{name} has shape {shape}, expected {expected}")


# Data pointers of C-contiguous views; NULL for an empty view, whose data is never read.
# The kernels load whole elements (and vectors of them): an array whose data is not
# aligned to its element size (a view into a byte buffer at an odd offset) is refused.
cdef int _check_aligned(const void *p, size_t size, str name) except -1:
    if <size_t>p % size:
        raise ValueError(f"{name} is not aligned to its {size}-byte elements; pass "
                         f"np.require({name}, requirements='CA'), an aligned copy")
    return 0

cdef inline floating *ptr1(const floating[::1] v, str name) except? NULL:
    if v.shape[0] == 0:
        return NULL
    _check_aligned(&v[0], sizeof(floating), name)
    return <floating *>&v[0]

cdef inline floating *ptr2(const floating[:, ::1] v, str name) except? NULL:
    if v.shape[0] == 0 or v.shape[1] == 0:
        return NULL
    _check_aligned(&v[0, 0], sizeof(floating), name)
    return <floating *>&v[0, 0]


def exp(const floating[::1] x not None, floating[::1] y not None):
    """y = e^x, element by element; y may be x itself."""
    _expect("y", (y.shape[0],), (x.shape[0],))
    cdef Py_ssize_t n = x.shape[0]
    cdef floating *xp = ptr1(x, "x")
    cdef floating *yp = ptr1(y, "y")
    cdef int status
    with nogil:
        if floating is float:
            status = fm_exp_f32(n, xp, yp)
        else:
            status = fm_exp_f64(n, xp, yp)
    _check(status)


def sigmoid(const floating[::1] z not None, floating[::1] a not None):
    """a = 1 / (1 + exp(-z)), element by element; a may be z itself."""
    _expect("a", (a.shape[0],), (z.shape[0],))
    cdef Py_ssize_t n = z.shape[0]
    cdef floating *zp = ptr1(z, "z")
    cdef floating *ap = ptr1(a, "a")
    cdef int status
    with nogil:
        if floating is float:
            status = fm_sigmoid_f32(n, zp, ap)
        else:
            status = fm_sigmoid_f64(n, zp, ap)
    _check(status)


def dense_forward(const floating[:, ::1] X not None, const floating[:, ::1] W not None,
                  const floating[::1] b not None, floating[:, ::1] A not None,
                  int activation=SIGMOID):
    """A = act(X W^T + b) for X (m, n_in), W (n_out, n_in), b (n_out), A (m, n_out)."""
    cdef Py_ssize_t m = X.shape[0], n_in = X.shape[1], n_out = W.shape[0]
    _expect("W", (W.shape[0], W.shape[1]), (n_out, n_in))
    _expect("b", (b.shape[0],), (n_out,))
    _expect("A", (A.shape[0], A.shape[1]), (m, n_out))
    cdef floating *Xp = ptr2(X, "X")
    cdef floating *Wp = ptr2(W, "W")
    cdef floating *bp = ptr1(b, "b")
    cdef floating *Ap = ptr2(A, "A")
    cdef int status
    with nogil:
        if floating is float:
            status = fm_dense_forward_f32(m, n_in, n_out, activation, Xp, n_in, Wp, n_in, bp, Ap, n_out)
        else:
            status = fm_dense_forward_f64(m, n_in, n_out, activation, Xp, n_in, Wp, n_in, bp, Ap, n_out)
    _check(status)


def dense_backward(const floating[:, ::1] X not None, const floating[:, ::1] W not None,
                   const floating[:, ::1] A not None, const floating[:, ::1] G not None,
                   floating[:, ::1] D not None, floating[:, ::1] dW not None,
                   floating[::1] db not None, floating[:, ::1] dX=None,
                   int activation=SIGMOID):
    """Backward pass of A = act(X W^T + b) given G = dC/dA (see fm_dense_backward).

    Writes D (m, n_out), dW (n_out, n_in), db (n_out), and dX (m, n_in) unless it is None.
    """
    cdef Py_ssize_t m = X.shape[0], n_in = X.shape[1], n_out = W.shape[0]
    _expect("W", (W.shape[0], W.shape[1]), (n_out, n_in))
    _expect("A", (A.shape[0], A.shape[1]), (m, n_out))
    _expect("G", (G.shape[0], G.shape[1]), (m, n_out))
    _expect("D", (D.shape[0], D.shape[1]), (m, n_out))
    _expect("dW", (dW.shape[0], dW.shape[1]), (n_out, n_in))
    _expect("db", (db.shape[0],), (n_out,))
    cdef floating *dXp = NULL
    if dX is not None:
        _expect("dX", (dX.shape[0], dX.shape[1]), (m, n_in))
        dXp = ptr2(dX, "dX")
    cdef floating *Xp = ptr2(X, "X")
    cdef floating *Wp = ptr2(W, "W")
    cdef floating *Ap = ptr2(A, "A")
    cdef floating *Gp = ptr2(G, "G")
    cdef floating *Dp = ptr2(D, "D")
    cdef floating *dWp = ptr2(dW, "dW")
    cdef floating *dbp = ptr1(db, "db")
    cdef int status
    with nogil:
        if floating is float:
            status = fm_dense_backward_f32(m, n_in, n_out, activation, Xp, n_in, Wp, n_in, Ap, n_out,
                                           Gp, n_out, Dp, n_out, dWp, dbp, dXp, n_in)
        else:
            status = fm_dense_backward_f64(m, n_in, n_out, activation, Xp, n_in, Wp, n_in, Ap, n_out,
                                           Gp, n_out, Dp, n_out, dWp, dbp, dXp, n_in)
    _check(status)


def sgd_update(const floating[::1] g not None, floating[::1] p not None, floating[::1] v=None,
               double lr=0.1, double decay=0.0, double momentum=0.0):
    """p -= lr (g + decay p); with momentum, v = momentum v - lr (g + decay p), p += v."""
    cdef Py_ssize_t n = p.shape[0]
    _expect("g", (g.shape[0],), (n,))
    cdef floating *vp = NULL
    if v is not None:
        _expect("v", (v.shape[0],), (n,))
        vp = ptr1(v, "v")
    cdef floating *gp = ptr1(g, "g")
    cdef floating *pp = ptr1(p, "p")
    cdef int status
    with nogil:
        if floating is float:
            status = fm_sgd_update_f32(n, <float>lr, <float>decay, <float>momentum, gp, pp, vp)
        else:
            status = fm_sgd_update_f64(n, lr, decay, momentum, gp, pp, vp)
    _check(status)


def cost(const floating[:, ::1] A not None, const floating[:, ::1] Y not None,
         int kind=QUADRATIC):
    """The cost of outputs A against targets Y, both (m, n), averaged over the m rows."""
    cdef Py_ssize_t m = A.shape[0], n = A.shape[1]
    _expect("Y", (Y.shape[0], Y.shape[1]), (m, n))
    cdef floating *Ap = ptr2(A, "A")
    cdef floating *Yp = ptr2(Y, "Y")
    cdef double out = 0
    cdef int status
    with nogil:
        if floating is float:
            status = fm_cost_f32(m, n, kind, Ap, n, Yp, n, &out)
        else:
            status = fm_cost_f64(m, n, kind, Ap, n, Yp, n, &out)
    _check(status)
    return out


# --- the network, described once -----------------------------------------------------

cdef void *_address_of(str name, object array, tuple shape, object dtype,
                       bint writable) except NULL:
    """The data pointer of `array` (the caller keeps it alive) when it is an ndarray of
    `shape` and `dtype`, C-contiguous, aligned to its elements (and writable when asked);
    otherwise a ValueError or TypeError that names the problem."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array, got {type(array).__name__}")
    if array.dtype != dtype:
        raise ValueError(f"{name} has dtype {array.dtype}, expected {dtype} "
                         f"(every array of a network has one dtype)")
    if array.shape != shape:
        raise ValueError(f"{name} has shape {array.shape}, expected {shape}")
    if not array.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous (row-major); pass np.ascontiguousarray({name})")
    if writable and not array.flags.writeable:
        raise ValueError(f"{name} is read-only, and training writes into it")
    cdef Py_buffer view
    PyObject_GetBuffer(array, &view, PyBUF_C_CONTIGUOUS | (PyBUF_WRITABLE if writable else 0))
    cdef void *address = view.buf
    PyBuffer_Release(&view)
    _check_aligned(address, array.itemsize, name)
    return address


cdef class NetworkArrays:
    """The C description of a network (fm_network in csrc/fastmlp.h), checked and filled
    once, then passed to every whole-network kernel.

    weights[l] (n_out, n_in) and biases[l] (n_out,) are C-contiguous arrays of one dtype,
    float32 or float64, each layer's n_in the previous layer's n_out; vweights and
    vbiases are velocities of the same shapes, or None (no momentum).  The arrays are
    referenced, not copied: the kernels read (and training writes) them in place.
    """
    cdef fm_network net
    cdef readonly object dtype
    cdef readonly tuple sizes
    cdef readonly bint writable, has_velocities
    cdef tuple _alive

    def __cinit__(self, list weights not None, list biases not None, list vweights=None,
                  list vbiases=None, str output="sigmoid", bint writable=False):
        cdef Py_ssize_t L = len(weights), l
        if not 1 <= L <= FM_MAX_LAYERS:
            raise ValueError(f"a network has 1 to {FM_MAX_LAYERS} layers, got {L} weight matrices")
        if len(biases) != L:
            raise ValueError(f"{L} weight matrices need {L} bias vectors, got {len(biases)}")
        if (vweights is None) != (vbiases is None):
            raise ValueError("give both velocity lists (vweights and vbiases) or neither")
        if vweights is not None and (len(vweights) != L or len(vbiases) != L):
            raise ValueError(f"{L} layers need {L} velocities each, got {len(vweights)} weight "
                             f"and {len(vbiases)} bias velocities")
        if output not in ACTIVATIONS:
            raise ValueError(f"output={output!r} is not one of {', '.join(map(repr, ACTIVATIONS))}")
        for l in range(L):
            if not isinstance(weights[l], np.ndarray) or weights[l].ndim != 2:
                raise ValueError(f"weights[{l}] must be a 2-D array (n_out, n_in), "
                                 f"got {weights[l]!r:.60}")
        sizes = [weights[0].shape[1]] + [w.shape[0] for w in weights]
        if min(sizes) < 1:
            raise ValueError(f"layer sizes must be >= 1, got {sizes}")
        self.dtype = weights[0].dtype
        if self.dtype.name not in ("float32", "float64"):
            raise ValueError(f"weights[0] has dtype {self.dtype}; a network holds float32 or float64")
        self.net.dtype = FM_FLOAT32 if self.dtype.name == "float32" else FM_FLOAT64
        self.net.n_layers = L
        self.net.output = ACTIVATIONS[output]
        for l in range(L + 1):
            self.net.sizes[l] = sizes[l]
        for l in range(L):
            shape_w, shape_b = (sizes[l + 1], sizes[l]), (sizes[l + 1],)
            self.net.W[l] = _address_of(f"weights[{l}]", weights[l], shape_w, self.dtype, writable)
            self.net.b[l] = _address_of(f"biases[{l}]", biases[l], shape_b, self.dtype, writable)
            self.net.vW[l] = self.net.vb[l] = NULL
            if vweights is not None:
                self.net.vW[l] = _address_of(f"vweights[{l}]", vweights[l], shape_w, self.dtype, True)
                self.net.vb[l] = _address_of(f"vbiases[{l}]", vbiases[l], shape_b, self.dtype, True)
        self.sizes = tuple(sizes)
        self.writable = writable
        self.has_velocities = vweights is not None
        self._alive = tuple(weights) + tuple(biases) + tuple(vweights or ()) + tuple(vbiases or ())

    def __reduce__(self):
        raise TypeError("NetworkArrays points into live arrays and cannot be pickled; "
                        "rebuild it from the arrays")


cdef int _check_dtype(NetworkArrays arrays, str name, object dtype) except -1:
    if dtype != arrays.dtype:
        raise ValueError(f"{name} has dtype {dtype}, the network's arrays are {arrays.dtype}")
    return 0


cdef CompressedRows _compressed_or_none(NetworkArrays arrays, object X, str other, object dtype):
    """X if it is CompressedRows, else None (a dense array); X and the array named `other`
    (of `dtype`) checked to be of the network's dtype."""
    _check_dtype(arrays, "X", getattr(X, "dtype", None))
    _check_dtype(arrays, other, dtype)
    return X if isinstance(X, CompressedRows) else None


def train_workspace_size(NetworkArrays arrays not None, Py_ssize_t batch, bint compressed=False):
    """Elements of workspace (of the network's dtype) train_epoch needs for mini-batches of
    up to `batch` rows, of dense inputs or (compressed=True) of CompressedRows."""
    if batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    cdef size_t n = fm_train_workspace(&arrays.net, batch, compressed)
    if n == 0:
        raise ValueError(f"a network of sizes {list(arrays.sizes)} with mini-batches of {batch} "
                         f"is too large to lay out")
    return n


def train_epoch(NetworkArrays arrays not None, object X not None,
                const floating[:, ::1] Y not None, const int64_t[::1] order,
                const floating[::1] sample_scale, Py_ssize_t batch, str cost, double lr,
                double decay, double momentum, floating[::1] work not None,
                Py_ssize_t first_batch=0, Py_ssize_t n_batches=0):
    """Train on mini-batches first_batch .. first_batch + n_batches - 1 of an epoch (all of
    them from first_batch when n_batches is 0), in C (see fm_train_epoch and fm_epoch).

    X (n, n_in) and Y (n, n_out) are C-contiguous arrays of the network's dtype (X may be
    CompressedRows instead: the first layer then skips its zeros); `order`
    holds the n row indices of the visiting order, or is None; `sample_scale` the n
    per-sample gradient weights, or None; `decay` the per-step weight decay.  The
    network's arrays (built with writable=True) change in place.  Returns
    (cost_sum, correct, failed_batch or None) over the mini-batches run.
    """
    if not arrays.writable:
        raise ValueError("train_epoch needs NetworkArrays(..., writable=True)")
    cdef CompressedRows rows = _compressed_or_none(
        arrays, X, "Y", np.dtype(np.float32 if floating is float else np.float64))
    cdef const floating[:, ::1] dense
    if rows is None:
        dense = X
    cdef Py_ssize_t n = X.shape[0], L = arrays.net.n_layers
    _expect("X", tuple(X.shape), (n, arrays.sizes[0]))
    _expect("Y", (Y.shape[0], Y.shape[1]), (n, arrays.sizes[L]))
    if n < 1:
        raise ValueError("X has no samples")
    if order is not None:
        _expect("order", (order.shape[0],), (n,))
    if sample_scale is not None:
        _expect("sample_scale", (sample_scale.shape[0],), (n,))
    if cost not in COSTS:
        raise ValueError(f"cost={cost!r} is not one of {', '.join(map(repr, COSTS))}")
    if momentum != 0 and not arrays.has_velocities:
        raise ValueError(f"momentum={momentum} needs velocities: build NetworkArrays with vweights and vbiases")
    if batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    needed = train_workspace_size(arrays, batch, rows is not None)
    if <size_t>work.shape[0] < needed:
        raise ValueError(f"work has {work.shape[0]} elements, train_workspace_size says {needed}")
    batches = -(-n // batch)
    if not 0 <= first_batch < batches:
        raise ValueError(f"first_batch={first_batch} is not in 0..{batches - 1} "
                         f"({n} samples in mini-batches of {batch})")
    cdef fm_epoch ep
    ep.cost = COSTS[cost]
    ep.n, ep.batch = n, batch
    if rows is None:
        ep.X, ep.ldx, ep.X_csr = ptr2(dense, "X"), dense.shape[1], NULL
    else:
        ep.X, ep.ldx, ep.X_csr = NULL, 0, &rows.csr
    ep.Y, ep.ldy = ptr2(Y, "Y"), Y.shape[1]
    ep.order = NULL
    if order is not None:
        _check_aligned(&order[0], sizeof(int64_t), "order")
        ep.order = <const long long *>&order[0]
    ep.sample_scale = ptr1(sample_scale, "sample_scale") if sample_scale is not None else NULL
    ep.lr, ep.decay, ep.momentum = lr, decay, momentum
    ep.first_batch, ep.n_batches = first_batch, n_batches
    cdef fm_epoch_result result
    cdef floating *workp = ptr1(work, "work")
    cdef size_t work_len = work.shape[0]
    cdef int status
    with nogil:
        if floating is float:
            status = fm_train_epoch_f32(&arrays.net, &ep, workp, work_len, &result)
        else:
            status = fm_train_epoch_f64(&arrays.net, &ep, workp, work_len, &result)
    _check(status)
    return result.cost_sum, result.correct, None if result.failed_batch < 0 else result.failed_batch


# --- inputs as compressed rows --------------------------------------------------------------

cdef class CompressedRows:
    """Samples as compressed rows (fm_csr in csrc/fastmlp.h, SciPy's CSR layout): row i's
    nonzero values are data[indptr[i]:indptr[i + 1]], at columns indices[indptr[i]:
    indptr[i + 1]].  indptr is int64 (n_rows + 1), indices int32, data float32 or
    float64; each C-contiguous and referenced, not copied.  Offsets and columns are
    checked by the kernels for the rows they read.
    """
    cdef fm_csr csr
    cdef readonly object indptr, indices, data, dtype
    cdef readonly tuple shape

    def __cinit__(self, indptr not None, indices not None, data not None, Py_ssize_t n_columns):
        data = np.asarray(data)
        if data.dtype.name not in ("float32", "float64"):
            raise ValueError(f"data has dtype {data.dtype}; expected float32 or float64")
        n_rows = len(indptr) - 1
        if n_rows < 0:
            raise ValueError("indptr must hold n_rows + 1 offsets, got none")
        if n_columns < 0 or n_columns > 2**31 - 1:
            raise ValueError(f"n_columns must be in 0..2**31 - 1, got {n_columns}")
        for name, array, dtype in (("indptr", indptr, np.int64), ("indices", indices, np.int32)):
            if getattr(array, "dtype", None) != dtype:
                raise ValueError(f"{name} must be a NumPy array of {np.dtype(dtype)}, got "
                                 f"{getattr(array, 'dtype', type(array).__name__)}")
        nnz = len(data)
        self.csr.nnz = nnz
        self.csr.indptr = <const long long *>_address_of("indptr", indptr, (n_rows + 1,),
                                                         np.dtype(np.int64), False)
        self.csr.indices = <const int *>_address_of("indices", indices, (nnz,),
                                                    np.dtype(np.int32), False)
        self.csr.data = _address_of("data", data, (nnz,), data.dtype, False)
        if nnz < indptr[n_rows]:
            raise ValueError(f"indptr[-1] = {indptr[n_rows]} but data holds {nnz} values")
        self.indptr, self.indices, self.data, self.dtype = indptr, indices, data, data.dtype
        self.shape = (n_rows, n_columns)

    def position(self, Py_ssize_t t):
        """(row, column) of entry t of data."""
        row = int(np.searchsorted(self.indptr, t, side="right")) - 1
        return row, int(self.indices[t])

    def __reduce__(self):
        raise TypeError("CompressedRows points into its arrays and cannot be pickled")


def compress_rows(const floating[:, ::1] X not None):
    """CompressedRows holding the nonzero entries of X (m, n), in one C pass per row to
    count and one to copy."""
    cdef Py_ssize_t m = X.shape[0], n = X.shape[1]
    if n > 2**31 - 1:
        raise ValueError(f"X has {n} columns; compressed rows hold at most 2**31 - 1")
    dtype = np.dtype(np.float32 if floating is float else np.float64)
    indptr = np.empty(m + 1, dtype=np.int64)
    cdef int64_t[::1] ip = indptr
    cdef const floating *Xp = ptr2(X, "X")
    cdef int status
    with nogil:
        if floating is float:
            status = fm_compress_rows_f32(m, n, Xp, n, <long long *>&ip[0], NULL, NULL)
        else:
            status = fm_compress_rows_f64(m, n, Xp, n, <long long *>&ip[0], NULL, NULL)
    _check(status)
    nnz = int(indptr[m])
    indices = np.empty(nnz, dtype=np.int32)
    data = np.empty(nnz, dtype=dtype)
    cdef int[::1] ix = indices
    cdef floating[::1] dv = data
    if nnz:
        with nogil:
            if floating is float:
                status = fm_compress_rows_f32(m, n, Xp, n, <long long *>&ip[0], &ix[0], &dv[0])
            else:
                status = fm_compress_rows_f64(m, n, Xp, n, <long long *>&ip[0], &ix[0], &dv[0])
        _check(status)
    return CompressedRows(indptr, indices, data, n)


# --- inference through the whole network ------------------------------------------------

def network_forward(NetworkArrays arrays not None, object X not None,
                    floating[:, ::1] out not None):
    """out = the network's output activations for the rows of X, in one C call.

    X (m, n_in) and out (m, n_out) are C-contiguous arrays of the network's dtype (X may
    be CompressedRows instead).  Returns None, or when X holds a NaN or an infinity, the
    (row, column) of the first one (out is then unspecified).  Raises FloatingPointError
    when finite inputs overflow inside the network to non-finite outputs.
    """
    cdef CompressedRows rows = _compressed_or_none(
        arrays, X, "out", np.dtype(np.float32 if floating is float else np.float64))
    cdef const floating[:, ::1] dense
    if rows is None:
        dense = X
    cdef Py_ssize_t L = arrays.net.n_layers, m = X.shape[0], bad = -1
    cdef Py_ssize_t n_in = arrays.net.sizes[0], n_out = arrays.net.sizes[L]
    _expect("X", tuple(X.shape), (m, arrays.sizes[0]))
    _expect("out", (out.shape[0], out.shape[1]), (m, arrays.sizes[L]))
    # every check that can raise comes before the allocation
    cdef floating *Xp = ptr2(dense, "X") if rows is None else NULL
    cdef floating *outp = ptr2(out, "out")
    cdef const fm_csr *csr = &rows.csr if rows is not None else NULL
    cdef size_t work_len = fm_forward_workspace(&arrays.net, m)
    cdef floating *work = NULL
    if work_len:
        work = <floating *>malloc(work_len * sizeof(floating))
        if work == NULL:
            raise MemoryError()
    cdef int status
    with nogil:
        if floating is float:
            if csr != NULL:
                status = fm_network_forward_csr_f32(&arrays.net, m, csr, outp, n_out, work,
                                                    work_len, &bad)
            else:
                status = fm_network_forward_f32(&arrays.net, m, Xp, n_in, outp, n_out, work,
                                                work_len, &bad)
        else:
            if csr != NULL:
                status = fm_network_forward_csr_f64(&arrays.net, m, csr, outp, n_out, work,
                                                    work_len, &bad)
            else:
                status = fm_network_forward_f64(&arrays.net, m, Xp, n_in, outp, n_out, work,
                                                work_len, &bad)
    free(work)
    return _forward_status(status, bad, n_in, rows)


# One sample per call is mostly overhead: its entry checks a buffer's format, length and
# alignment directly (no typed memoryview, no shape tuples) and keeps a small workspace
# on the stack.
DEF SAMPLE_STACK_WORK = 2048

cdef int _check_sample(Py_buffer *view, char code, Py_ssize_t n, str name) except -1:
    if view.ndim != 1 or view.format == NULL or view.format[0] != code or view.format[1] != 0:
        raise ValueError(f"{name} must be a 1-D array of the network's dtype")
    if view.shape[0] != n:
        raise ValueError(f"{name} has {view.shape[0]} entries, expected {n}")
    _check_aligned(view.buf, view.itemsize, name)
    return 0


def forward_sample(NetworkArrays arrays not None, x not None, out not None):
    """network_forward for one sample: x (n_in,) and out (n_out,) C-contiguous arrays of
    the network's dtype.  Returns None, or the column of x's first NaN or infinity."""
    cdef Py_ssize_t L = arrays.net.n_layers, bad = -1
    cdef char code = b"f" if arrays.net.dtype == FM_FLOAT32 else b"d"
    cdef Py_buffer xv, ov
    cdef double stack_work[SAMPLE_STACK_WORK]
    cdef size_t work_len = fm_forward_workspace(&arrays.net, 1), itemsize
    cdef void *work = NULL
    cdef int status
    PyObject_GetBuffer(x, &xv, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT)
    try:
        PyObject_GetBuffer(out, &ov, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_WRITABLE)
        try:
            _check_sample(&xv, code, arrays.net.sizes[0], "x")
            _check_sample(&ov, code, arrays.net.sizes[L], "out")
            itemsize = xv.itemsize
            work = <void *>stack_work
            if work_len * itemsize > sizeof(stack_work):
                work = malloc(work_len * itemsize)
                if work == NULL:
                    raise MemoryError()
            with nogil:
                if code == b"f":
                    status = fm_network_forward_f32(&arrays.net, 1, <const float *>xv.buf,
                                                    xv.shape[0], <float *>ov.buf, ov.shape[0],
                                                    <float *>work, work_len, &bad)
                else:
                    status = fm_network_forward_f64(&arrays.net, 1, <const double *>xv.buf,
                                                    xv.shape[0], <double *>ov.buf, ov.shape[0],
                                                    <double *>work, work_len, &bad)
        finally:
            if work != <void *>stack_work:
                free(work)
            PyBuffer_Release(&ov)
    finally:
        PyBuffer_Release(&xv)
    return _forward_status(status, bad, arrays.net.sizes[0], None)


cdef object _forward_status(int status, Py_ssize_t bad, Py_ssize_t n_in, CompressedRows rows):
    """network_forward's result for a kernel status: None, or the (row, column) of a
    non-finite input; FloatingPointError when the outputs overflowed."""
    if status == FM_ERR_NONFINITE:
        return rows.position(bad) if rows is not None else divmod(bad, n_in)
    if status == FM_ERR_OVERFLOW:
        raise _validate.overflow_error(bad)
    _check(status)


# --- instruction sets and threads ---------------------------------------------------------

ISA_NAMES = tuple(fm_isa_name(i).decode() for i in range(3))


def get_isa():
    """The instruction-set path the kernels run: "baseline", "avx2" or "avx512"."""
    return fm_isa_name(fm_get_isa()).decode()


def supported_isas():
    """The paths this CPU and build can run, slowest first."""
    return tuple(name for i, name in enumerate(ISA_NAMES) if fm_isa_supported(i))


def set_isa(str name):
    """Force a path (for tests and comparisons)."""
    if name not in ISA_NAMES:
        raise ValueError(f"isa={name!r} is not one of {', '.join(map(repr, ISA_NAMES))}")
    if fm_set_isa(ISA_NAMES.index(name)) != 0:
        raise ValueError(f"this CPU cannot run the {name!r} path; it supports {supported_isas()}")


def get_num_threads():
    return fm_get_num_threads()


def set_num_threads(n):
    """The process-wide default thread count."""
    if not isinstance(n, int) or not 1 <= n <= 64 or fm_set_num_threads(n) != 0:
        raise ValueError(f"the thread count must be between 1 and 64, got {n}")


def _set_split_min_flops(flops):
    """For the tests: the least work per thread (float64 flops of one step) for which
    small mini-batches split their neurons among threads; returns the value it had."""
    if (not isinstance(flops, (int, float)) or isinstance(flops, bool)
            or not 0 <= flops < float("inf")):
        raise ValueError(f"the flops per thread must be a finite number >= 0, got {flops!r}")
    return fm_set_split_min_flops(float(flops))


def _slow_workers(seconds):
    """For the tests: the pool's workers sleep this long at each barrier of a split
    training step (0: not at all), as if another process kept taking their cores."""
    if (not isinstance(seconds, (int, float)) or isinstance(seconds, bool)
            or not 0 <= seconds <= 0.01):
        raise ValueError(f"the delay must be a number of seconds from 0 to 0.01, got {seconds!r}")
    fm_slow_workers(float(seconds))


def _pool_on_one_thread():
    """For the tests: whether the pool runs work on one thread for now, having found its
    threads waiting on each other (another process taking the cores)."""
    return bool(fm_pool_on_one_thread())


def get_local_num_threads():
    """The calling thread's own count, 0 when it has none."""
    return fm_get_local_num_threads()


def set_local_num_threads(n):
    """The calling thread's own count (0 removes it), leaving other threads alone."""
    if not isinstance(n, int) or not 0 <= n <= 64 or fm_set_local_num_threads(n) != 0:
        raise ValueError(f"the thread count must be between 1 and 64 (or 0 for none), got {n}")
