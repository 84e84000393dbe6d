/*
 * The first layer on inputs held as compressed rows (fm_csr): work in proportion to the
 * nonzero inputs, not to all of them.
 *
 * A zero input x_k adds nothing to z = W x and nothing to the gradient g_jk = d_j x_k of
 * the weights leaving it, so the forward product and the update need only the columns k
 * of W where x_k != 0.  To make those columns contiguous, training keeps the first layer
 * input-major for the length of a call: V[k] (n_out weights leaving input k, padded with
 * zeros to whole vectors), copied from W at the start of the call and back at its end.
 *
 * Weight decay shrinks every weight at every step, zero input or not.  Without momentum
 * it is kept lazily, as a scale s with W = s V:
 *     W' = (1 - lr decay) W - lr g   <=>   s' = (1 - lr decay) s,  V' = V - (lr / s') g,
 * so a step still touches only the rows of the nonzero inputs; s is folded back into V
 * when it falls below 1/2, and at the end of the call.  With momentum every velocity
 * moves at every step, so the update sweeps all rows (the gradient is still gathered
 * from the nonzero inputs alone).
 */
#ifndef REAL
#error "a template: include it through instantiate.h (see csrc/README.md)"
#endif

#define FM_LANES ((ptrdiff_t)(FM_VEC_BYTES / sizeof(REAL)))
/* Vectors of a row of V held in registers at once. */
#define FM_CHUNK 4

/* The first layer input-major (see above). */
typedef struct {
    ptrdiff_t n_in, n_out, ld; /* ld: n_out rounded up to 64 bytes; the padding stays 0 */
    REAL *V;                   /* n_in x ld: the weights, divided by s */
    REAL *Vv, *G;              /* n_in x ld each, with momentum: velocities and a gradient
                                  kept at 0 between steps; NULL without momentum */
    REAL s;
} FM_T(input_major);

/* dst[k * ldd + j] = factor * src[j * lds + k] for j < rows, k < cols, in tiles that stay
   in L1 on both sides. */
static void FM_T(transpose)(ptrdiff_t rows, ptrdiff_t cols, REAL factor, const REAL *src,
                            ptrdiff_t lds, REAL *dst, ptrdiff_t ldd)
{
    enum { TILE = 16 };
    for (ptrdiff_t j0 = 0; j0 < rows; j0 += TILE) {
        const ptrdiff_t j1 = j0 + TILE < rows ? j0 + TILE : rows;
        for (ptrdiff_t k0 = 0; k0 < cols; k0 += TILE) {
            const ptrdiff_t k1 = k0 + TILE < cols ? k0 + TILE : cols;
            for (ptrdiff_t k = k0; k < k1; k++)
                for (ptrdiff_t j = j0; j < j1; j++) dst[k * ldd + j] = factor * src[j * lds + k];
        }
    }
}

/* dst (n_in x ld) = src (n_out x n_in, row-major) input-major, the padding zeroed. */
static void FM_T(to_input_major)(const FM_T(input_major) *im, const REAL *src, REAL *dst)
{
    FM_T(transpose)(im->n_out, im->n_in, 1, src, im->n_in, dst, im->ld);
    for (ptrdiff_t k = 0; k < im->n_in; k++)
        memset(dst + k * im->ld + im->n_out, 0, (size_t)(im->ld - im->n_out) * sizeof(REAL));
}

/* Start a call: V (and Vv) from W (and vW), (n_out, n_in) row-major; s = 1.  The
   buffers come from the workspace; Vv and G are NULL without momentum. */
static void FM_T(input_major_begin)(FM_T(input_major) *im, ptrdiff_t n_in, ptrdiff_t n_out,
                                    const REAL *W, const REAL *vW, REAL *V, REAL *Vv, REAL *G)
{
    im->n_in = n_in, im->n_out = n_out, im->ld = (ptrdiff_t)FM_T(round_up)((size_t)n_out);
    im->V = V, im->Vv = vW ? Vv : NULL, im->G = vW ? G : NULL, im->s = 1;
    FM_T(to_input_major)(im, W, V);
    if (im->Vv) {
        FM_T(to_input_major)(im, vW, im->Vv);
        memset(im->G, 0, (size_t)(n_in * im->ld) * sizeof(REAL));
    }
}

/* End a call: W = s V (and vW = Vv) back in the row-major arrays users see. */
static void FM_T(input_major_end)(const FM_T(input_major) *im, REAL *W, REAL *vW)
{
    FM_T(transpose)(im->n_in, im->n_out, im->s, im->V, im->ld, W, im->n_in);
    if (im->Vv) FM_T(transpose)(im->n_in, im->n_out, 1, im->Vv, im->ld, vW, im->n_in);
}

/* out[0 .. nv vectors) = sum over t < nnz of x[t] V[col[t]][j0 ..]: nv vectors of
   outputs in registers, two sets of accumulators (even and odd t) so that twice as many
   independent chains of multiply-adds hide their latency. */
static inline __attribute__((always_inline)) void
FM_T(sum_rows_chunk)(const int nv, ptrdiff_t nnz, const int *col, const REAL *x, const REAL *V,
                     ptrdiff_t ld, ptrdiff_t j0, REAL *out)
{
    FM_T(vec) even[FM_CHUNK], odd[FM_CHUNK];
#pragma GCC unroll 4
    for (int u = 0; u < nv; u++) even[u] = odd[u] = (FM_T(vec)){0};
    ptrdiff_t t = 0;
    for (; t + 2 <= nnz; t += 2) {
        const REAL *r0 = V + (ptrdiff_t)col[t] * ld + j0, *r1 = V + (ptrdiff_t)col[t + 1] * ld + j0;
#pragma GCC unroll 4
        for (int u = 0; u < nv; u++) {
            even[u] += x[t] * *(const FM_T(uvec) *)(r0 + u * FM_LANES);
            odd[u] += x[t + 1] * *(const FM_T(uvec) *)(r1 + u * FM_LANES);
        }
    }
    if (t < nnz) {
        const REAL *r0 = V + (ptrdiff_t)col[t] * ld + j0;
#pragma GCC unroll 4
        for (int u = 0; u < nv; u++) even[u] += x[t] * *(const FM_T(uvec) *)(r0 + u * FM_LANES);
    }
#pragma GCC unroll 4
    for (int u = 0; u < nv; u++) *(FM_T(uvec) *)(out + u * FM_LANES) = even[u] + odd[u];
}

/* V[col[t]][j0 ..] += x[t] c for t < nnz, c being nv vectors (held in registers). */
static inline __attribute__((always_inline)) void
FM_T(add_to_rows_chunk)(const int nv, ptrdiff_t nnz, const int *col, const REAL *x,
                        const REAL *c_in, REAL *V, ptrdiff_t ld, ptrdiff_t j0)
{
    FM_T(vec) c[FM_CHUNK];
#pragma GCC unroll 4
    for (int u = 0; u < nv; u++) c[u] = *(const FM_T(uvec) *)(c_in + u * FM_LANES);
    for (ptrdiff_t t = 0; t < nnz; t++) {
        REAL *row = V + (ptrdiff_t)col[t] * ld + j0;
#pragma GCC unroll 4
        for (int u = 0; u < nv; u++) *(FM_T(uvec) *)(row + u * FM_LANES) += x[t] * c[u];
    }
}

/* The chunk functions above for nv = min(FM_CHUNK, vectors left), each with nv fixed. */
#define FM_CHUNK_CALL(fn, nv, ...)         \
    switch (nv) {                          \
    case 1: fn(1, __VA_ARGS__); break;     \
    case 2: fn(2, __VA_ARGS__); break;     \
    case 3: fn(3, __VA_ARGS__); break;     \
    default: fn(FM_CHUNK, __VA_ARGS__); break; \
    }

/* Sample r of X (its nonzeros' columns and values, and their count). */
static inline ptrdiff_t FM_T(csr_row)(const fm_csr *X, ptrdiff_t r, const int **col, const REAL **x)
{
    const long long lo = X->indptr[r];
    *col = X->indices + lo, *x = (const REAL *)X->data + lo;
    return (ptrdiff_t)(X->indptr[r + 1] - lo);
}

/* The routines below take columns [lo, hi) of V: a share of the first layer's neurons, lo
   and hi whole vectors (hi = ld for the last share), or all of them.  Of the step of
   columns from j0, this many are neurons: below n_out and below hi. */
static inline ptrdiff_t FM_T(valid_in)(const FM_T(input_major) *im, ptrdiff_t j0, ptrdiff_t hi)
{
    const ptrdiff_t end = hi < im->n_out ? hi : im->n_out, step = FM_CHUNK * FM_LANES;
    return end - j0 < step ? end - j0 : step;
}

/* Neurons [lo, hi) of A = act(X W^T + b) for the m samples of the visiting order from
   `start` (lo, hi: columns of V as above). */
static void FM_T(csr_forward)(const FM_T(input_major) *im, const fm_csr *X,
                              const long long *order, ptrdiff_t start, ptrdiff_t m,
                              ptrdiff_t lo, ptrdiff_t hi, const REAL *b, int activation,
                              REAL *A, ptrdiff_t lda)
{
    const ptrdiff_t step = FM_CHUNK * FM_LANES, end = hi < im->n_out ? hi : im->n_out;
    for (ptrdiff_t i = 0; i < m; i++) {
        const int *col;
        const REAL *x;
        const ptrdiff_t nnz = FM_T(csr_row)(X, fm_row(order, start + i), &col, &x);
        REAL *a = A + i * lda;
        for (ptrdiff_t j0 = lo; j0 < end; j0 += step) {
            REAL z[FM_CHUNK * FM_LANES] __attribute__((aligned(64)));
            const ptrdiff_t nv = (hi - j0) / FM_LANES, valid = FM_T(valid_in)(im, j0, hi);
            FM_CHUNK_CALL(FM_T(sum_rows_chunk), nv, nnz, col, x, im->V, im->ld, j0, z)
            for (ptrdiff_t jj = 0; jj < valid; jj++) a[j0 + jj] = im->s * z[jj] + b[j0 + jj];
        }
        if (end > lo) FM_T(activate_rows)(activation, 1, end - lo, a + lo, lda);
    }
}

/* V[k][lo, hi) += factor * D_i x_ik for each sample i of the m from `start` and each of
   its nonzero inputs k (D is m x n_out). */
static void FM_T(csr_scatter)(FM_T(input_major) *im, REAL *V, const fm_csr *X,
                              const long long *order, ptrdiff_t start, ptrdiff_t m,
                              ptrdiff_t lo, ptrdiff_t hi, const REAL *D, REAL factor)
{
    const ptrdiff_t n_out = im->n_out, step = FM_CHUNK * FM_LANES;
    for (ptrdiff_t i = 0; i < m; i++) {
        const int *col;
        const REAL *x;
        const ptrdiff_t nnz = FM_T(csr_row)(X, fm_row(order, start + i), &col, &x);
        for (ptrdiff_t j0 = lo; j0 < hi; j0 += step) {
            REAL c[FM_CHUNK * FM_LANES] __attribute__((aligned(64)));
            const ptrdiff_t nv = (hi - j0) / FM_LANES, valid = FM_T(valid_in)(im, j0, hi);
            for (ptrdiff_t jj = 0; jj < step; jj++) c[jj] = jj < valid ? factor * D[i * n_out + j0 + jj] : 0;
            FM_CHUNK_CALL(FM_T(add_to_rows_chunk), nv, nnz, col, x, c, V, im->ld, j0)
        }
    }
}

/* W -= lr (D^T X / m + decay W) for the m samples from `start`, as described above, in
   columns [lo, hi) of V.  Each share keeps its own copy of im with the same scale s. */
static void FM_T(csr_update)(FM_T(input_major) *im, const fm_csr *X, const long long *order,
                             ptrdiff_t start, ptrdiff_t m, ptrdiff_t lo, ptrdiff_t hi,
                             const REAL *D, REAL lr, REAL decay, REAL mu)
{
    const ptrdiff_t ld = im->ld, width = hi - lo;
    if (im->G) { /* momentum: every weight moves */
        FM_T(csr_scatter)(im, im->G, X, order, start, m, lo, hi, D, (REAL)1 / (REAL)m);
        for (ptrdiff_t k = 0; k < im->n_in; k++) {
            REAL *g = im->G + k * ld + lo;
            FM_T(sgd_step)(width, lr, decay, mu, g, im->V + k * ld + lo, im->Vv + k * ld + lo);
            memset(g, 0, (size_t)width * sizeof(REAL));
        }
        return;
    }
    if (decay != 0) {
        const REAL s = im->s * (1 - lr * decay);
        if (s >= (REAL)0.5) {
            im->s = s;
        } else { /* fold the scale into V (also when a huge decay made it <= 0) */
            for (ptrdiff_t k = 0; k < im->n_in; k++) {
                REAL *v = im->V + k * ld + lo;
#pragma omp simd
                for (ptrdiff_t j = 0; j < width; j++) v[j] *= s;
            }
            im->s = 1;
        }
    }
    FM_T(csr_scatter)(im, im->V, X, order, start, m, lo, hi, D, -lr / ((REAL)m * im->s));
}

/* A = act(X W^T + b) for rows [row0, row0 + m) of X, with W row-major, read in place
   (inference, where W is not copied): z_ij = b_j + sum over row i's nonzeros x_k W_jk,
   for FM_GATHER_ROWS neurons at a time (independent sums). */
#define FM_GATHER_ROWS 8
static void FM_T(csr_forward_rowmajor)(ptrdiff_t m, ptrdiff_t row0, const fm_csr *X,
                                       ptrdiff_t n_in, ptrdiff_t n_out, const REAL *W,
                                       const REAL *b, int activation, REAL *A, ptrdiff_t lda)
{
    for (ptrdiff_t i = 0; i < m; i++) {
        const int *col;
        const REAL *x;
        const ptrdiff_t nnz = FM_T(csr_row)(X, row0 + i, &col, &x);
        REAL *a = A + i * lda;
        ptrdiff_t j = 0;
        for (; j + FM_GATHER_ROWS <= n_out; j += FM_GATHER_ROWS) {
            REAL z[FM_GATHER_ROWS] = {0};
            const REAL *w = W + j * n_in;
            for (ptrdiff_t t = 0; t < nnz; t++)
#pragma GCC unroll 8
                for (int u = 0; u < FM_GATHER_ROWS; u++) z[u] += x[t] * w[u * n_in + col[t]];
            for (int u = 0; u < FM_GATHER_ROWS; u++) a[j + u] = z[u] + b[j + u];
        }
        for (; j < n_out; j++) {
            REAL z = 0;
            for (ptrdiff_t t = 0; t < nnz; t++) z += x[t] * W[j * n_in + col[t]];
            a[j] = z + b[j];
        }
        FM_T(activate_rows)(activation, 1, n_out, a, lda);
    }
}
#undef FM_GATHER_ROWS

/* fm_compress_rows: a count of each row's nonzeros (vectorised), or their columns and
   values.  (Stores without a branch on the values, each kept only by a nonzero, measured
   slower: every store waits on the count before it.) */
int FM_I(fm_compress_rows)(ptrdiff_t m, ptrdiff_t n, const REAL *X, ptrdiff_t ldx,
                           long long *indptr, int *indices, REAL *data)
{
    long long total = 0;
    indptr[0] = 0;
    for (ptrdiff_t i = 0; i < m; i++) {
        const REAL *x = X + i * ldx;
        if (indices) {
            for (ptrdiff_t k = 0; k < n; k++)
                if (x[k] != 0) indices[total] = (int)k, data[total++] = x[k];
        } else {
            ptrdiff_t count = 0;
#pragma omp simd reduction(+ : count)
            for (ptrdiff_t k = 0; k < n; k++) count += x[k] != 0;
            total += count;
        }
        indptr[i + 1] = total;
    }
    return FM_OK;
}

#undef FM_CHUNK_CALL
#undef FM_CHUNK
#undef FM_LANES
