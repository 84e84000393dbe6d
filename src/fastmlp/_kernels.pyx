# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Thin wrappers around the C kernels in csrc/fastmlp.h.

Each wrapper takes C-contiguous arrays of one floating dtype (float32 or float64),
checks that their shapes agree, calls the kernel without the GIL and turns a non-zero
status into an exception.  Argument meanings are documented in csrc/fastmlp.h.
"""
from cython cimport floating

cdef extern from "fastmlp.h" nogil:
    const char *fm_strerror(int status)
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
