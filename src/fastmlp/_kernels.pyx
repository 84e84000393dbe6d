# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Thin wrappers around the C kernels in csrc/fastmlp.h.

Each wrapper takes C-contiguous arrays of one floating dtype (float32 or float64),
checks that their shapes agree, calls the kernel without the GIL and turns a non-zero
status into an exception.  Argument meanings are documented in csrc/fastmlp.h.
"""
from cython cimport floating
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc

cdef extern from "fastmlp.h" nogil:
    const char *fm_strerror(int status)
    int fm_get_isa()
    int fm_set_isa(int isa)
    int fm_isa_supported(int isa)
    const char *fm_isa_name(int isa)
    int fm_get_num_threads()
    int fm_set_num_threads(int n)
    enum: FM_MAX_LAYERS
    enum: FM_ERR_NONFINITE
    ctypedef struct fm_epoch_result:
        double cost_sum
        long long correct
        long long failed_batch
    size_t fm_train_workspace_f32(Py_ssize_t n_layers, const Py_ssize_t *sizes, Py_ssize_t batch)
    size_t fm_train_workspace_f64(Py_ssize_t n_layers, const Py_ssize_t *sizes, Py_ssize_t batch)
    int fm_train_epoch_f32(Py_ssize_t n_layers, const Py_ssize_t *sizes, int output, int cost,
                           Py_ssize_t n, Py_ssize_t batch, const float *X, Py_ssize_t ldx,
                           const float *Y, Py_ssize_t ldy, const long long *order,
                           float lr, float l2, float momentum,
                           float **W, float **b, float **vW, float **vb,
                           float *work, size_t work_len, fm_epoch_result *result)
    int fm_train_epoch_f64(Py_ssize_t n_layers, const Py_ssize_t *sizes, int output, int cost,
                           Py_ssize_t n, Py_ssize_t batch, const double *X, Py_ssize_t ldx,
                           const double *Y, Py_ssize_t ldy, const long long *order,
                           double lr, double l2, double momentum,
                           double **W, double **b, double **vW, double **vb,
                           double *work, size_t work_len, fm_epoch_result *result)
    size_t fm_forward_workspace_f32(Py_ssize_t n_layers, const Py_ssize_t *sizes, Py_ssize_t m)
    size_t fm_forward_workspace_f64(Py_ssize_t n_layers, const Py_ssize_t *sizes, Py_ssize_t m)
    int fm_network_forward_f32(Py_ssize_t n_layers, const Py_ssize_t *sizes, int output,
                               Py_ssize_t m, const float *X, Py_ssize_t ldx, const float **W,
                               const float **b, float *out, Py_ssize_t ldo,
                               float *work, size_t work_len, Py_ssize_t *bad)
    int fm_network_forward_f64(Py_ssize_t n_layers, const Py_ssize_t *sizes, int output,
                               Py_ssize_t m, const double *X, Py_ssize_t ldx, const double **W,
                               const double **b, double *out, Py_ssize_t ldo,
                               double *work, size_t work_len, Py_ssize_t *bad)
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
    int fm_sgd_update_f32(Py_ssize_t n, float lr, float l2, float momentum,
                          const float *g, float *p, float *v)
    int fm_sgd_update_f64(Py_ssize_t n, double lr, double l2, double momentum,
                          const double *g, double *p, double *v)
    int fm_cost_f32(Py_ssize_t m, Py_ssize_t n, int cost, const float *A, Py_ssize_t lda,
                    const float *Y, Py_ssize_t ldy, double *out)
    int fm_cost_f64(Py_ssize_t m, Py_ssize_t n, int cost, const double *A, Py_ssize_t lda,
                    const double *Y, Py_ssize_t ldy, double *out)

# Codes shared with csrc/fastmlp.h (fm_activation, fm_cost).
SIGMOID, IDENTITY, SOFTMAX = 0, 1, 2
QUADRATIC, CROSS_ENTROPY, LOG_LIKELIHOOD = 0, 1, 2


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
cdef inline floating *ptr1(const floating[::1] v) noexcept nogil:
    return <floating *>&v[0] if v.shape[0] > 0 else NULL

cdef inline floating *ptr2(const floating[:, ::1] v) noexcept nogil:
    return <floating *>&v[0, 0] if v.shape[0] > 0 and v.shape[1] > 0 else NULL


def exp(const floating[::1] x not None, floating[::1] y not None):
    """y = e^x, element by element; y may be x itself."""
    _expect("y", (y.shape[0],), (x.shape[0],))
    cdef Py_ssize_t n = x.shape[0]
    cdef floating *xp = ptr1(x)
    cdef floating *yp = ptr1(y)
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
    cdef floating *zp = ptr1(z)
    cdef floating *ap = ptr1(a)
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
    cdef floating *Xp = ptr2(X)
    cdef floating *Wp = ptr2(W)
    cdef floating *bp = ptr1(b)
    cdef floating *Ap = ptr2(A)
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
        dXp = ptr2(dX)
    cdef floating *Xp = ptr2(X)
    cdef floating *Wp = ptr2(W)
    cdef floating *Ap = ptr2(A)
    cdef floating *Gp = ptr2(G)
    cdef floating *Dp = ptr2(D)
    cdef floating *dWp = ptr2(dW)
    cdef floating *dbp = ptr1(db)
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
               double lr=0.1, double l2=0.0, double momentum=0.0):
    """p -= lr (g + l2 p); with momentum, v = momentum v - lr (g + l2 p) and p += v."""
    cdef Py_ssize_t n = p.shape[0]
    _expect("g", (g.shape[0],), (n,))
    cdef floating *vp = NULL
    if v is not None:
        _expect("v", (v.shape[0],), (n,))
        vp = ptr1(v)
    cdef floating *gp = ptr1(g)
    cdef floating *pp = ptr1(p)
    cdef int status
    with nogil:
        if floating is float:
            status = fm_sgd_update_f32(n, <float>lr, <float>l2, <float>momentum, gp, pp, vp)
        else:
            status = fm_sgd_update_f64(n, lr, l2, momentum, gp, pp, vp)
    _check(status)


def cost(const floating[:, ::1] A not None, const floating[:, ::1] Y not None,
         int kind=QUADRATIC):
    """The cost of outputs A against targets Y, both (m, n), averaged over the m rows."""
    cdef Py_ssize_t m = A.shape[0], n = A.shape[1]
    _expect("Y", (Y.shape[0], Y.shape[1]), (m, n))
    cdef floating *Ap = ptr2(A)
    cdef floating *Yp = ptr2(Y)
    cdef double out = 0
    cdef int status
    with nogil:
        if floating is float:
            status = fm_cost_f32(m, n, kind, Ap, n, Yp, n, &out)
        else:
            status = fm_cost_f64(m, n, kind, Ap, n, Yp, n, &out)
    _check(status)
    return out


# --- a whole epoch ------------------------------------------------------------------------

def _sizes_of(weights):
    sizes = [weights[0].shape[1]] + [w.shape[0] for w in weights]
    if len(weights) > FM_MAX_LAYERS:
        raise ValueError(f"at most {FM_MAX_LAYERS} layers, got {len(weights)}")
    return sizes


def train_workspace_size(weights, Py_ssize_t batch):
    """Elements of workspace train_epoch needs for these weights and mini-batches of `batch`."""
    cdef Py_ssize_t sizes[FM_MAX_LAYERS + 1]
    py_sizes = _sizes_of(weights)
    for i, v in enumerate(py_sizes):
        sizes[i] = v
    if weights[0].dtype.name == "float32":
        return fm_train_workspace_f32(len(weights), sizes, batch)
    return fm_train_workspace_f64(len(weights), sizes, batch)


cdef floating **_pointers(list arrays, floating *kind) except NULL:
    """A malloc'ed array of the data pointers of C-contiguous arrays of one dtype."""
    cdef floating **out = <floating **>malloc(max(len(arrays), 1) * sizeof(floating *))
    cdef floating[::1] flat
    if out == NULL:
        raise MemoryError()
    for i, a in enumerate(arrays):
        flat = a.reshape(-1)  # a view of a C-contiguous array, never a copy
        out[i] = &flat[0]
    return out


def train_epoch(list weights, list biases, list vweights, list vbiases,
                const floating[:, ::1] X not None, const floating[:, ::1] Y not None,
                const int64_t[::1] order, Py_ssize_t batch, int output, int cost,
                double lr, double l2, double momentum, floating[::1] work not None):
    """One epoch of mini-batch SGD in C (see fm_train_epoch); parameters change in place.

    weights[l] (n_out, n_in) and biases[l] (n_out,) are C-contiguous arrays of X's dtype;
    vweights / vbiases likewise, or empty lists without momentum.  `order` holds the row
    visiting order, or is None.  Returns (cost_sum, correct, failed_batch or None).
    """
    cdef Py_ssize_t L = len(weights)
    cdef Py_ssize_t sizes[FM_MAX_LAYERS + 1]
    py_sizes = _sizes_of(weights)
    for i, v in enumerate(py_sizes):
        sizes[i] = v
    _expect("X", (X.shape[0], X.shape[1]), (X.shape[0], sizes[0]))
    _expect("Y", (Y.shape[0], Y.shape[1]), (X.shape[0], sizes[L]))
    if order is not None:
        _expect("order", (order.shape[0],), (X.shape[0],))
    cdef const long long *order_p = <const long long *>&order[0] if order is not None and order.shape[0] else NULL
    cdef floating **W = NULL
    cdef floating **b = NULL
    cdef floating **vW = NULL
    cdef floating **vb = NULL
    cdef fm_epoch_result result
    cdef int status
    cdef floating *Xp = ptr2(X)
    cdef floating *Yp = ptr2(Y)
    cdef floating *workp = ptr1(work)
    cdef size_t work_len = work.shape[0]
    try:
        W = _pointers(weights, Xp)
        b = _pointers(biases, Xp)
        if vweights:
            vW = _pointers(vweights, Xp)
            vb = _pointers(vbiases, Xp)
        with nogil:
            if floating is float:
                status = fm_train_epoch_f32(L, sizes, output, cost, X.shape[0], batch, Xp, sizes[0],
                                            Yp, sizes[L], order_p, <float>lr, <float>l2,
                                            <float>momentum, W, b, vW, vb, workp, work_len, &result)
            else:
                status = fm_train_epoch_f64(L, sizes, output, cost, X.shape[0], batch, Xp, sizes[0],
                                            Yp, sizes[L], order_p, lr, l2, momentum, W, b, vW, vb,
                                            workp, work_len, &result)
    finally:
        free(W)
        free(b)
        free(vW)
        free(vb)
    _check(status)
    return result.cost_sum, result.correct, None if result.failed_batch < 0 else result.failed_batch


# --- inference through the whole network ------------------------------------------------

def network_forward(list weights, list biases, const floating[:, ::1] X not None,
                    floating[:, ::1] out not None, int output=SIGMOID):
    """out = the network's output activations for the rows of X, in one C call.

    weights[l] (n_out, n_in) and biases[l] (n_out,) are C-contiguous arrays of X's dtype.
    Returns None, or when X holds a NaN or an infinity, the (row, column) of the first one
    (out is then unspecified).
    """
    cdef Py_ssize_t L = len(weights), l
    if L == 0 or L > FM_MAX_LAYERS or len(biases) != L:
        raise ValueError(f"need 1 to {FM_MAX_LAYERS} layers with one bias vector each, "
                         f"got {L} weight matrices and {len(biases)} bias vectors")
    cdef Py_ssize_t sizes[FM_MAX_LAYERS + 1]
    cdef const floating *W[FM_MAX_LAYERS]
    cdef const floating *b[FM_MAX_LAYERS]
    cdef const floating[:, ::1] w_view
    cdef const floating[::1] b_view
    sizes[0] = X.shape[1]
    for l in range(L):
        w_view = weights[l]
        b_view = biases[l]
        _expect(f"weights[{l}]", (w_view.shape[0], w_view.shape[1]), (w_view.shape[0], sizes[l]))
        _expect(f"biases[{l}]", (b_view.shape[0],), (w_view.shape[0],))
        sizes[l + 1] = w_view.shape[0]
        W[l] = &w_view[0, 0]
        b[l] = &b_view[0]
    _expect("out", (out.shape[0], out.shape[1]), (X.shape[0], sizes[L]))
    cdef Py_ssize_t m = X.shape[0], bad = -1
    cdef size_t work_len
    if floating is float:
        work_len = fm_forward_workspace_f32(L, sizes, m)
    else:
        work_len = fm_forward_workspace_f64(L, sizes, m)
    cdef floating *work = NULL
    if work_len:
        work = <floating *>malloc(work_len * sizeof(floating))
        if work == NULL:
            raise MemoryError()
    cdef floating *Xp = ptr2(X)
    cdef floating *outp = ptr2(out)
    cdef int status
    with nogil:
        if floating is float:
            status = fm_network_forward_f32(L, sizes, output, m, Xp, sizes[0], W, b, outp,
                                            sizes[L], work, work_len, &bad)
        else:
            status = fm_network_forward_f64(L, sizes, output, m, Xp, sizes[0], W, b, outp,
                                            sizes[L], work, work_len, &bad)
    free(work)
    if status == FM_ERR_NONFINITE:
        return divmod(bad, sizes[0])
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


def set_num_threads(int n):
    if fm_set_num_threads(n) != 0:
        raise ValueError(f"the thread count must be between 1 and 64, got {n}")
