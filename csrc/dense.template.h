/*
 * Dense layer forward and backward passes on top of the matrix product.
 *
 *   forward:   Z = X W^T + b,  A = act(Z)
 *   backward:  D = G * act'(Z)          (G = dC/dA, D = dC/dZ: each neuron's error)
 *              dW = D^T X / m,  db = sum over rows of D / m
 *              dX = D W                 (dC/dX, the previous layer's G; only when asked)
 *
 * Arguments are checked by the public wrappers (api.template.h).
 */
#ifndef REAL
#error "a template: include it through instantiate.h (see csrc/README.md)"
#endif

/* y += alpha * x over n contiguous elements. */
static inline void FM_T(axpy)(ptrdiff_t n, REAL alpha, const REAL *restrict x, REAL *restrict y)
{
#pragma omp simd
    for (ptrdiff_t k = 0; k < n; k++) y[k] += alpha * x[k];
}

/* A = act(X W^T + b) for at most FM_FEW_ROWS samples, sample i's inputs at rows[i]. */
static void FM_T(forward_rows)(ptrdiff_t m, ptrdiff_t n_in, ptrdiff_t n_out, int activation,
                               const REAL *const *rows, const REAL *W, ptrdiff_t ldw,
                               const REAL *b, REAL *A, ptrdiff_t lda)
{
    FM_T(epilogue) e = {.kind = FM_EPI_BIAS_ACT, .sigmoid = activation == FM_SIGMOID, .bias = b};
    FM_T(small_xwt)(m, n_out, n_in, rows, W, ldw, A, lda, &e);
    if (activation == FM_SOFTMAX) FM_T(activate_rows)(FM_SOFTMAX, m, n_out, A, lda);
}

/* The addresses of the m (<= FM_FEW_ROWS) rows of X, in rows[]. */
static inline void FM_T(row_addresses)(ptrdiff_t m, const REAL *X, ptrdiff_t ldx,
                                       const REAL **rows)
{
    for (ptrdiff_t i = 0; i < m; i++) rows[i] = X + i * ldx;
}

/* A = act(X W^T + b), the sigmoid fused into the product's last pass. */
static int FM_T(forward)(ptrdiff_t m, ptrdiff_t n_in, ptrdiff_t n_out, int activation,
                          const REAL *X, ptrdiff_t ldx, const REAL *W, ptrdiff_t ldw,
                          const REAL *b, REAL *A, ptrdiff_t lda)
{
    if (m <= FM_FEW_ROWS) {
        const REAL *rows[FM_FEW_ROWS];
        FM_T(row_addresses)(m, X, ldx, rows);
        FM_T(forward_rows)(m, n_in, n_out, activation, rows, W, ldw, b, A, lda);
        return FM_OK;
    }
    FM_T(epilogue) e = {.kind = FM_EPI_BIAS_ACT, .sigmoid = activation == FM_SIGMOID, .bias = b};
    int status = FM_T(gemm)(m, n_out, n_in, (FM_T(mat)){X, ldx, 1}, (FM_T(mat)){W, 1, ldw},
                            A, lda, &e);
    if (status == FM_OK && activation == FM_SOFTMAX)
        FM_T(activate_rows)(FM_SOFTMAX, m, n_out, A, lda);
    return status;
}

int FM_I(fm_dense_forward)(ptrdiff_t m, ptrdiff_t n_in, ptrdiff_t n_out, int activation,
                           const REAL *restrict X, ptrdiff_t ldx,
                           const REAL *restrict W, ptrdiff_t ldw,
                           const REAL *restrict b,
                           REAL *restrict A, ptrdiff_t lda)
{
    return FM_T(forward)(m, n_in, n_out, activation, X, ldx, W, ldw, b, A, lda);
}

/* db = the column sums of D (m x n) times scale. */
static void FM_T(column_sums)(ptrdiff_t m, ptrdiff_t n, const REAL *D, ptrdiff_t ldd,
                              REAL scale, REAL *db)
{
    memset(db, 0, (size_t)n * sizeof(REAL));
    for (ptrdiff_t i = 0; i < m; i++) FM_T(axpy)(n, scale, D + i * ldd, db);
}

int FM_I(fm_dense_backward)(ptrdiff_t m, ptrdiff_t n_in, ptrdiff_t n_out, int activation,
                            const REAL *restrict X, ptrdiff_t ldx,
                            const REAL *restrict W, ptrdiff_t ldw,
                            const REAL *restrict A, ptrdiff_t lda,
                            const REAL *restrict G, ptrdiff_t ldg,
                            REAL *restrict D, ptrdiff_t ldd,
                            REAL *restrict dW, REAL *restrict db,
                            REAL *restrict dX, ptrdiff_t lddx)
{
    /* D = G * A * (1 - A): sigma'(z) = sigma(z) (1 - sigma(z)), read off the outputs. */
    for (ptrdiff_t i = 0; i < m; i++) {
        const REAL *g = G + i * ldg, *a = A + i * lda;
        REAL *d = D + i * ldd;
        if (activation == FM_SIGMOID) {
#pragma omp simd
            for (ptrdiff_t j = 0; j < n_out; j++) d[j] = g[j] * FM_T(sigmoid_slope)(a[j]);
        } else {
            memcpy(d, g, (size_t)n_out * sizeof(REAL));
        }
    }
    const REAL inv_m = (REAL)1 / (REAL)m;
    /* dW = D^T X / m: A operand D^T (n_out x m), B operand X (m x n_in). */
    FM_T(epilogue) scale = {.kind = FM_EPI_SCALE, .scale = inv_m};
    int status = FM_T(gemm)(n_out, n_in, m, (FM_T(mat)){D, 1, ldd}, (FM_T(mat)){X, ldx, 1},
                            dW, n_in, &scale);
    FM_T(column_sums)(m, n_out, D, ldd, inv_m, db);
    if (status == FM_OK && dX != NULL) {
        FM_T(epilogue) none = {.kind = FM_EPI_NONE};
        status = FM_T(gemm)(m, n_in, n_out, (FM_T(mat)){D, ldd, 1}, (FM_T(mat)){W, ldw, 1},
                            dX, lddx, &none);
    }
    return status;
}
