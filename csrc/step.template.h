/*
 * The pieces of one SGD step on a mini-batch that the epoch loops share: gathering the
 * batch, the error flowing back one layer, and the fused weight update.
 */

/* Rows [start, start + m) of the epoch, gathered through `order` when there is one. */
static void FM_T(gather)(ptrdiff_t m, ptrdiff_t width, const REAL *src, ptrdiff_t ld,
                         const long long *order, ptrdiff_t start, REAL *out)
{
    for (ptrdiff_t i = 0; i < m; i++)
        memcpy(out + i * width, src + order[start + i] * ld, (size_t)width * sizeof(REAL));
}

/* D_{l-1} = (D_l W_l) * A_{l-1} (1 - A_{l-1}): the error flowing back one layer. */
static int FM_T(backprop_error)(ptrdiff_t m, ptrdiff_t n_prev, ptrdiff_t n, const REAL *D,
                                const REAL *W, const REAL *A_prev, REAL *D_prev)
{
    if (m <= FM_SMALL_BATCH) {
        for (ptrdiff_t i = 0; i < m; i++) {
            REAL *dp = D_prev + i * n_prev;
            const REAL *s = A_prev + i * n_prev;
            memset(dp, 0, (size_t)n_prev * sizeof(REAL));
            for (ptrdiff_t j = 0; j < n; j++) FM_T(axpy)(n_prev, D[i * n + j], W + j * n_prev, dp);
#pragma omp simd
            for (ptrdiff_t k = 0; k < n_prev; k++) dp[k] *= s[k] * ((REAL)1 - s[k]);
        }
        return FM_OK;
    }
    FM_T(epilogue) e = {.kind = FM_EPI_DSIGMOID, .S = A_prev, .lds = n_prev};
    return FM_T(gemm)(m, n_prev, n, (FM_T(mat)){D, n, 1}, (FM_T(mat)){W, n_prev, 1},
                      D_prev, n_prev, &e);
}

/* W -= lr (D^T A_prev / m + l2 W), with momentum through V: the update fused into the
   gradient's product.  grad is scratch for batches longer than one K block. */
static int FM_T(update_weights)(ptrdiff_t m, ptrdiff_t n_prev, ptrdiff_t n, const REAL *D,
                                const REAL *A_prev, ptrdiff_t ld_prev, REAL *W, REAL *V,
                                REAL lr, REAL l2, REAL mu, REAL *grad)
{
    const REAL inv_m = (REAL)1 / (REAL)m;
    if (m == 1) { /* a rank-one update, one pass over W */
        for (ptrdiff_t j = 0; j < n; j++) {
            REAL dj = D[j], *w = W + j * n_prev, *v = V ? V + j * n_prev : NULL;
            if (v) {
#pragma omp simd
                for (ptrdiff_t k = 0; k < n_prev; k++) {
                    v[k] = mu * v[k] - lr * (dj * A_prev[k] + l2 * w[k]);
                    w[k] += v[k];
                }
            } else {
#pragma omp simd
                for (ptrdiff_t k = 0; k < n_prev; k++) w[k] -= lr * (dj * A_prev[k] + l2 * w[k]);
            }
        }
        return FM_OK;
    }
    FM_T(epilogue) e = {.kind = FM_EPI_SGD, .scale = inv_m, .W = W, .V = V, .ldw = n_prev,
                        .lr = lr, .l2 = l2, .mu = mu};
    return FM_T(gemm)(n, n_prev, m, (FM_T(mat)){D, 1, n}, (FM_T(mat)){A_prev, ld_prev, 1},
                      m > FM_GEMM_KC ? grad : NULL, n_prev, &e);
}
