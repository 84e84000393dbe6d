/*
 * The whole network's forward pass for inference, block of rows by block of rows:
 *   A_0 = X,  A_l = act(A_{l-1} W_l^T + b_l)  for l = 1..L,  out = A_L.
 * Each block's inputs are checked to be finite just before they are used, while they
 * are in cache, so the check costs no extra pass over memory; the outputs are checked
 * the same way (finite inputs can still overflow inside the network).
 */
#ifndef REAL
#error "a template: include it through instantiate.h (see csrc/README.md)"
#endif

/* The position row * n + column of the first NaN or infinity of the m x n matrix X, or -1. */
static ptrdiff_t FM_T(first_nonfinite)(ptrdiff_t m, ptrdiff_t n, const REAL *X, ptrdiff_t ldx)
{
    for (ptrdiff_t i = 0; i < m; i++) {
        const REAL *x = X + i * ldx;
        /* x * 0 is 0 for a finite x and NaN for a NaN or an infinity, and a NaN survives
           any sum: a row is finite exactly when this sum is 0. */
        REAL probe = 0;
#pragma omp simd reduction(+ : probe)
        for (ptrdiff_t k = 0; k < n; k++) probe += x[k] * 0;
        if (probe == 0) continue;
        for (ptrdiff_t k = 0; k < n; k++)
            if (!isfinite(x[k])) return i * n + k;
    }
    return -1;
}

/* A row of few nonzeros costs less through its nonzeros alone (sparse.template.h) when
   at most this fraction of its entries are nonzero.  Measured with
   bench/sparse_threshold.py (one sample through [784, 100, 10]): the gather of W's
   columns wins below about 0.35 in float64 and 0.12 in float32, whose dense product is
   twice as fast, on an AMD EPYC Zen 5 (AVX-512); these keep a margin. */
#define FM_SPARSE_ROW_DENSITY (FM_IS_FLOAT ? 0.08 : 0.25)

/* The first layer for a block of few rows of a dense X: rows with few nonzeros are
   compressed (into values and columns, workspace) and go through their nonzeros; if any
   row is denser, the block goes through the dense product.  Returns a status. */
static int FM_T(first_layer_few_rows)(const fm_network *net, ptrdiff_t rows, const REAL *X,
                                      ptrdiff_t ldx, int activation, REAL *dest, ptrdiff_t ldd,
                                      REAL *values, int *columns)
{
    const ptrdiff_t n_in = net->sizes[0], n_out = net->sizes[1];
    const REAL *W = net->W[0], *b = net->b[0];
    const ptrdiff_t most = (ptrdiff_t)(FM_SPARSE_ROW_DENSITY * (double)n_in);
    for (ptrdiff_t i = 0; i < rows; i++) {
        const REAL *x = X + i * ldx;
        ptrdiff_t nnz = 0;
        for (ptrdiff_t k = 0; k < n_in && nnz <= most; k++) { /* no branch on the values */
            columns[nnz] = (int)k, values[nnz] = x[k];
            nnz += x[k] != 0;
        }
        if (nnz > most) return FM_T(forward)(rows, n_in, n_out, activation, X, ldx, W, n_in, b,
                                             dest, ldd);
        const long long indptr[2] = {0, nnz};
        const fm_csr row = {nnz, indptr, columns, values};
        FM_T(csr_forward_rowmajor)(1, 0, &row, n_in, n_out, W, b, activation, dest + i * ldd, ldd);
    }
    return FM_OK;
}

/* With X_csr (X then unused), the first layer reads the compressed rows' nonzeros, its
   weights in place (sparse.template.h); the caller has checked their values are finite. */
int FM_I(fm_network_forward)(const fm_network *net, ptrdiff_t m, const REAL *X, ptrdiff_t ldx,
                             const fm_csr *X_csr, REAL *out, ptrdiff_t ldo, REAL *work,
                             ptrdiff_t *bad)
{
    const ptrdiff_t L = net->n_layers, *sizes = net->sizes;
    FM_T(params) p;
    FM_T(params_of)(net, 0, &p);
    REAL *hidden[2], *row_values;
    int *row_columns;
    FM_T(forward_lay_out)(L, sizes, m, work, hidden, &row_values, &row_columns);
    *bad = -1;
    for (ptrdiff_t start = 0; start < m; start += FM_FORWARD_ROWS) {
        const ptrdiff_t rows = m - start < FM_FORWARD_ROWS ? m - start : FM_FORWARD_ROWS;
        const REAL *a = X_csr ? NULL : X + start * ldx;
        ptrdiff_t where = X_csr ? -1 : FM_T(first_nonfinite)(rows, sizes[0], a, ldx);
        if (where >= 0) {
            *bad = start * sizes[0] + where;
            return FM_ERR_NONFINITE;
        }
        ptrdiff_t lda = ldx;
        for (ptrdiff_t l = 1; l <= L; l++) {
            REAL *dest = l == L ? out + start * ldo : hidden[l % 2];
            ptrdiff_t ldd = l == L ? ldo : sizes[l];
            const int act = l == L ? net->output : FM_SIGMOID;
            int status = FM_OK;
            if (l == 1 && X_csr)
                FM_T(csr_forward_rowmajor)(rows, start, X_csr, sizes[0], sizes[1], p.W[0],
                                           p.b[0], act, dest, ldd);
            else if (l == 1 && row_values)
                status = FM_T(first_layer_few_rows)(net, rows, a, lda, act, dest, ldd, row_values,
                                                    row_columns);
            else
                status = FM_T(forward)(rows, sizes[l - 1], sizes[l], act, a, lda, p.W[l - 1],
                                       sizes[l - 1], p.b[l - 1], dest, ldd);
            if (status != FM_OK) return status;
            a = dest, lda = ldd;
        }
        /* finite inputs can still overflow inside (1e308 times a weight): say so, never
           hand back a NaN as if it were an answer */
        where = FM_T(first_nonfinite)(rows, sizes[L], out + start * ldo, ldo);
        if (where >= 0) {
            *bad = start + where / sizes[L];
            return FM_ERR_OVERFLOW;
        }
    }
    return FM_OK;
}
