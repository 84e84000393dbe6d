/*
 * Dense layer forward and backward passes.
 *
 *   forward:   Z = X W^T + b,  A = act(Z)
 *   backward:  D = G * act'(Z)          (G = dC/dA, D = dC/dZ: each neuron's error)
 *              dW = D^T X / m,  db = sum over rows of D / m
 *              dX = D W                 (dC/dX, the previous layer's G; only when asked)
 */

static inline int FM_T(valid_activation)(int activation)
{
    return activation == FM_SIGMOID || activation == FM_IDENTITY || activation == FM_SOFTMAX;
}

/* The dot product of two contiguous vectors; the compiler may reorder the sum. */
static inline REAL FM_T(dot)(ptrdiff_t n, const REAL *restrict x, const REAL *restrict y)
{
    REAL acc = 0;
#pragma omp simd reduction(+ : acc)
    for (ptrdiff_t k = 0; k < n; k++) acc += x[k] * y[k];
    return acc;
}

/* y += alpha * x over n contiguous elements. */
static inline void FM_T(axpy)(ptrdiff_t n, REAL alpha, const REAL *restrict x, REAL *restrict y)
{
#pragma omp simd
    for (ptrdiff_t k = 0; k < n; k++) y[k] += alpha * x[k];
}

int FM_T(fm_dense_forward)(ptrdiff_t m, ptrdiff_t n_in, ptrdiff_t n_out, int activation,
                           const REAL *restrict X, ptrdiff_t ldx,
                           const REAL *restrict W, ptrdiff_t ldw,
                           const REAL *restrict b,
                           REAL *restrict A, ptrdiff_t lda)
{
    FM_FAIL_IF(m < 0 || n_in < 1 || n_out < 1, FM_ERR_SIZE);
    FM_FAIL_IF(!FM_T(valid_activation)(activation), FM_ERR_ACTIVATION);
    FM_CHECK_MATRIX(X, m, n_in, ldx);
    FM_CHECK_MATRIX(W, n_out, n_in, ldw);
    FM_CHECK_MATRIX(A, m, n_out, lda);
    FM_FAIL_IF(b == NULL, FM_ERR_NULL);

    for (ptrdiff_t i = 0; i < m; i++) {
        const REAL *x = X + i * ldx;
        REAL *a = A + i * lda;
        for (ptrdiff_t j = 0; j < n_out; j++) a[j] = b[j] + FM_T(dot)(n_in, x, W + j * ldw);
        FM_T(activate_row)(activation, n_out, a);
    }
    return FM_OK;
}

int FM_T(fm_dense_backward)(ptrdiff_t m, ptrdiff_t n_in, ptrdiff_t n_out, int activation,
                            const REAL *restrict X, ptrdiff_t ldx,
                            const REAL *restrict W, ptrdiff_t ldw,
                            const REAL *restrict A, ptrdiff_t lda,
                            const REAL *restrict G, ptrdiff_t ldg,
                            REAL *restrict D, ptrdiff_t ldd,
                            REAL *restrict dW, REAL *restrict db,
                            REAL *restrict dX, ptrdiff_t lddx)
{
    FM_FAIL_IF(m < 1 || n_in < 1 || n_out < 1, FM_ERR_SIZE);
    /* The softmax Jacobian is not diagonal: its output error comes from the cost
       (log-likelihood gives D = A - Y directly), passed here as FM_IDENTITY. */
    FM_FAIL_IF(activation != FM_SIGMOID && activation != FM_IDENTITY, FM_ERR_ACTIVATION);
    FM_CHECK_MATRIX(X, m, n_in, ldx);
    FM_CHECK_MATRIX(W, n_out, n_in, ldw);
    FM_CHECK_MATRIX(A, m, n_out, lda);
    FM_CHECK_MATRIX(G, m, n_out, ldg);
    FM_CHECK_MATRIX(D, m, n_out, ldd);
    FM_FAIL_IF(dW == NULL || db == NULL, FM_ERR_NULL);
    if (dX != NULL) FM_FAIL_IF(lddx < n_in, FM_ERR_LD);

    /* D = G * A * (1 - A): sigma'(z) = sigma(z) (1 - sigma(z)), read off the outputs. */
    for (ptrdiff_t i = 0; i < m; i++) {
        const REAL *g = G + i * ldg, *a = A + i * lda;
        REAL *d = D + i * ldd;
        if (activation == FM_SIGMOID) {
#pragma omp simd
            for (ptrdiff_t j = 0; j < n_out; j++) d[j] = g[j] * a[j] * ((REAL)1 - a[j]);
        } else {
            memcpy(d, g, (size_t)n_out * sizeof(REAL));
        }
    }

    /* dW = D^T X / m, accumulated one sample (one outer product d x^T) at a time. */
    const REAL inv_m = (REAL)1 / (REAL)m;
    memset(dW, 0, (size_t)(n_out * n_in) * sizeof(REAL));
    memset(db, 0, (size_t)n_out * sizeof(REAL));
    for (ptrdiff_t i = 0; i < m; i++) {
        const REAL *x = X + i * ldx, *d = D + i * ldd;
        for (ptrdiff_t j = 0; j < n_out; j++) {
            FM_T(axpy)(n_in, d[j] * inv_m, x, dW + j * n_in);
            db[j] += d[j];
        }
    }
    for (ptrdiff_t j = 0; j < n_out; j++) db[j] *= inv_m;

    /* dX = D W: row i of dX is the sum over neurons j of d_ij times row j of W. */
    if (dX != NULL) {
        for (ptrdiff_t i = 0; i < m; i++) {
            const REAL *d = D + i * ldd;
            REAL *dx = dX + i * lddx;
            memset(dx, 0, (size_t)n_in * sizeof(REAL));
            for (ptrdiff_t j = 0; j < n_out; j++) FM_T(axpy)(n_in, d[j], W + j * ldw, dx);
        }
    }
    return FM_OK;
}
