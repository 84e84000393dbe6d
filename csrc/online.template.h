/*
 * Online learning (mini-batches of one sample), with the first pass of the next sample
 * fused into each update.
 *
 * With one sample per step, every step streams each W_l twice: once to update it with
 * sample i and once for sample i + 1's forward pass.  Once every error D_l of sample i
 * is known (computed with the old weights, as in any step), layer l's update needs only
 * D_l and A_{l-1}(i), and layer l's forward pass for sample i + 1 needs only the updated
 * W_l and A_{l-1}(i + 1).  So the updates run first layer first, each fused with that
 * layer's forward pass for the next sample, and W_l is streamed once per step:
 *
 *   for each row j of W_l:   w_j -= lr (d_j a_{l-1}(i) + decay w_j)        (or via momentum)
 *                            z_j  = w_j . a_{l-1}(i + 1) + b_j            b_j updated first
 *
 * The results are those of fm_train_epoch's general path (to rounding).
 */
#ifndef REAL
#error "a template: include it through instantiate.h (see csrc/README.md)"
#endif

#define FM_LANES ((ptrdiff_t)(FM_VEC_BYTES / sizeof(REAL)))

/* Update row w (n elements) with the gradient d a + decay w, through the velocity v when
   with_v, and return the updated row's dot product with a_next when with_next (else 0).
   Always inlined with constant flags, so that each combination gets a loop of its own. */
static inline __attribute__((always_inline)) REAL
FM_T(update_row_dot)(const int with_v, const int with_next, ptrdiff_t n, REAL d,
                     const REAL *restrict a, const REAL *restrict a_next, REAL *restrict w,
                     REAL *restrict v, REAL lr, REAL decay, REAL mu)
{
    /* four vector accumulators: independent chains of multiply-adds hide their latency */
    FM_T(vec) acc[4] = {{0}};
    ptrdiff_t k = 0;
    for (; k + 4 * FM_LANES <= n; k += 4 * FM_LANES) {
#pragma GCC unroll 4
        for (int u = 0; u < 4; u++) {
            const ptrdiff_t o = k + u * FM_LANES;
            const FM_T(vec) wv = FM_T(sgd_vector)(d * *(const FM_T(uvec) *)(a + o), w + o,
                                                  with_v ? v + o : NULL, lr, decay, mu);
            if (with_next) acc[u] += wv * *(const FM_T(uvec) *)(a_next + o);
        }
    }
    REAL sum = 0;
    for (; k < n; k++) {
        FM_T(sgd_rule)(d * a[k], w + k, with_v ? v + k : NULL, lr, decay, mu);
        if (with_next) sum += w[k] * a_next[k];
    }
    FM_T(vec) total = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (int lane = 0; lane < FM_LANES; lane++) sum += total[lane];
    return sum;
}
#undef FM_LANES

/* Neurons [j0, j1) of layer l's step for sample i and, when a_next is given, of its
   forward pass for sample i + 1 into a_out: biases, then each weight row fused with its
   dot product. */
static void FM_T(update_and_forward)(ptrdiff_t n_prev, ptrdiff_t j0, ptrdiff_t j1, int activation,
                                     const REAL *d, const REAL *a, const REAL *a_next,
                                     REAL *W, REAL *V, REAL *b, REAL *vb,
                                     REAL lr, REAL decay, REAL mu, REAL *a_out)
{
    FM_T(sgd_step)(j1 - j0, lr, 0, mu, d + j0, b + j0, vb ? vb + j0 : NULL);
#define FM_ROWS(with_v, with_next)                                                         \
    for (ptrdiff_t j = j0; j < j1; j++) {                                                  \
        REAL z = FM_T(update_row_dot)(with_v, with_next, n_prev, d[j], a, a_next,           \
                                      W + j * n_prev, with_v ? V + j * n_prev : NULL, lr, decay, mu); \
        if (with_next) a_out[j] = z + b[j];                                                \
    }
    if (V && a_next) FM_ROWS(1, 1)
    else if (V) FM_ROWS(1, 0)
    else if (a_next) FM_ROWS(0, 1)
    else FM_ROWS(0, 0)
#undef FM_ROWS
    if (a_next) FM_T(activate_rows)(activation, 1, j1 - j0, a_out + j0, j1 - j0);
}

/* fm_train_epoch with batch == 1, over rows [r->start, r->end) of the visiting order. */
static int FM_T(train_online)(FM_T(run) *r, fm_epoch_result *result)
{
    const fm_epoch *ep = r->ep;
    const ptrdiff_t L = r->L, *sizes = r->sizes;
    REAL **A = r->lay.A, **A_next = r->lay.A_next, **D = r->lay.D;
    REAL *const *W = r->p.W, *const *b = r->p.b;
    /* the first sample's forward pass; every later one is fused into the previous step
       (compressed rows: through the first layer input-major, x unused) */
    const REAL *x = r->csr ? NULL : r->X + fm_row(ep->order, r->start) * ep->ldx;
    for (ptrdiff_t l = 1; l <= L; l++) {
        if (l == 1 && r->csr) {
            FM_T(csr_forward)(&r->first, r->csr, ep->order, r->start, 1, 0, r->first.ld, b[0],
                              L == 1 ? r->output : FM_SIGMOID, A[1], sizes[1]);
            continue;
        }
        int status = FM_T(forward)(1, sizes[l - 1], sizes[l], l == L ? r->output : FM_SIGMOID,
                                   l > 1 ? A[l - 1] : x, sizes[l - 1], W[l - 1], sizes[l - 1],
                                   b[l - 1], A[l], sizes[l]);
        if (status != FM_OK) return status;
    }
    for (ptrdiff_t i = r->start; i < r->end; i++) {
        const REAL *y = r->Y + fm_row(ep->order, i) * ep->ldy;
        const int has_next = i + 1 < r->end;
        const REAL *x_next = has_next && !r->csr ? r->X + fm_row(ep->order, i + 1) * ep->ldx : NULL;
        if (!FM_T(record_batch)(1, sizes[L], ep->cost, A[L], y, ep->ldy, result)) {
            result->failed_batch = i;
            return FM_OK;
        }
        /* every layer's error, with the weights as they are */
        FM_T(output_error)(r, 1, i, 0, sizes[L], A[L], y, ep->ldy, D[L]);
        for (ptrdiff_t l = L; l > 1; l--) {
            int status = FM_T(backprop_error)(1, sizes[l - 1], sizes[l], D[l], W[l - 1],
                                              A[l - 1], D[l - 1]);
            if (status != FM_OK) return status;
        }
        /* the updates, first layer first, each with the next sample's pass through it */
        for (ptrdiff_t l = 1; l <= L; l++) {
            const int act = l == L ? r->output : FM_SIGMOID;
            if (l == 1 && r->csr) { /* biases, weights, then the next sample's pass */
                FM_T(sgd_step)(sizes[1], r->lr, 0, r->mu, D[1], b[0], r->p.vb[0]);
                FM_T(csr_update)(&r->first, r->csr, ep->order, i, 1, 0, r->first.ld, D[1], r->lr,
                                r->decay, r->mu);
                if (has_next)
                    FM_T(csr_forward)(&r->first, r->csr, ep->order, i + 1, 1, 0, r->first.ld, b[0], act,
                                      A_next[1], sizes[1]);
                continue;
            }
            FM_T(update_and_forward)(sizes[l - 1], 0, sizes[l], act,
                                     D[l], l > 1 ? A[l - 1] : x,
                                     has_next ? (l > 1 ? A_next[l - 1] : x_next) : NULL,
                                     W[l - 1], r->p.vW[l - 1], b[l - 1], r->p.vb[l - 1],
                                     r->lr, r->decay, r->mu, A_next[l]);
        }
        for (ptrdiff_t l = 1; l <= L; l++) {
            REAL *swap = A[l];
            A[l] = A_next[l], A_next[l] = swap;
        }
        x = x_next;
    }
    return FM_OK;
}
