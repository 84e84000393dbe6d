/*
 * The pieces of one SGD step on a mini-batch that the epoch loops share: the typed view
 * of the network and of one call's work, gathering the batch, the output error, the error
 * flowing back one layer, and the fused weight update.
 */
#ifndef REAL
#error "a template: include it through instantiate.h (see csrc/README.md)"
#endif

/* The parameter arrays of an fm_network, typed; velocities NULL without momentum. */
typedef struct {
    REAL *W[FM_MAX_LAYERS], *b[FM_MAX_LAYERS], *vW[FM_MAX_LAYERS], *vb[FM_MAX_LAYERS];
} FM_T(params);

static void FM_T(params_of)(const fm_network *net, int with_velocities, FM_T(params) *p)
{
    for (ptrdiff_t l = 0; l < net->n_layers; l++) {
        p->W[l] = net->W[l], p->b[l] = net->b[l];
        p->vW[l] = with_velocities ? net->vW[l] : NULL;
        p->vb[l] = with_velocities ? net->vb[l] : NULL;
    }
}

/* What one fm_train_epoch call works with: the network typed, the rule in REAL, the rows
   of the visiting order it trains on, and the workspace laid out. */
typedef struct {
    const fm_epoch *ep;
    ptrdiff_t L;
    const ptrdiff_t *sizes;
    int output;
    FM_T(params) p;
    const REAL *X, *Y, *scale;
    REAL lr, decay, mu;
    int output_derivative; /* the quadratic cost on sigmoid outputs: D_L takes A (1 - A) */
    ptrdiff_t start, end;  /* rows [start, end) of the visiting order */
    FM_T(layout) lay;
    const fm_csr *csr;     /* the inputs as compressed rows, or NULL (then X) */
    FM_T(input_major) first; /* with csr: the first layer, input-major (sparse.template.h) */
} FM_T(run);

/* Set up one call; with compressed inputs the first layer goes input-major until
   finish_run. */
static void FM_T(start_run)(const fm_network *net, const fm_epoch *ep, REAL *work, FM_T(run) *r)
{
    r->ep = ep;
    r->L = net->n_layers, r->sizes = net->sizes, r->output = net->output;
    FM_T(params_of)(net, ep->momentum != 0, &r->p);
    r->X = ep->X, r->Y = ep->Y, r->scale = ep->sample_scale;
    r->lr = (REAL)ep->lr, r->decay = (REAL)ep->decay, r->mu = (REAL)ep->momentum;
    r->output_derivative = ep->cost == FM_QUADRATIC && net->output == FM_SIGMOID;
    fm_epoch_rows(ep, &r->start, &r->end);
    memset(&r->lay, 0, sizeof r->lay);
    r->csr = ep->X_csr;
    FM_T(lay_out)(r->L, r->sizes, ep->batch, r->csr != NULL, fm_has_velocities(net), work,
                  &r->lay);
    if (r->csr)
        FM_T(input_major_begin)(&r->first, r->sizes[0], r->sizes[1], r->p.W[0], r->p.vW[0],
                                r->lay.V1, r->lay.V1v, r->lay.G1);
}

/* End the call: the first layer back in the arrays users see. */
static void FM_T(finish_run)(FM_T(run) *r)
{
    if (r->csr) FM_T(input_major_end)(&r->first, r->p.W[0], r->p.vW[0]);
}

/* Rows [start, start + m) of the epoch, gathered through `order` when there is one. */
static void FM_T(gather)(ptrdiff_t m, ptrdiff_t width, const REAL *src, ptrdiff_t ld,
                         const long long *order, ptrdiff_t start, REAL *out)
{
    for (ptrdiff_t i = 0; i < m; i++)
        memcpy(out + i * width, src + order[start + i] * ld, (size_t)width * sizeof(REAL));
}

/* Add a mini-batch's cost and correct predictions (outputs A, targets Y) to `result`,
   measured before its update.  Returns 0 when the cost is not finite: the epoch stops. */
static int FM_T(record_batch)(ptrdiff_t m, ptrdiff_t n_out, int cost, const REAL *A,
                              const REAL *Y, ptrdiff_t ldy, fm_epoch_result *result)
{
    double batch_cost = FM_T(cost_sum)(m, n_out, cost, A, n_out, Y, ldy);
    if (!isfinite(batch_cost)) return 0;
    result->cost_sum += batch_cost;
    result->correct += FM_T(count_correct)(m, n_out, A, n_out, Y, ldy);
    return 1;
}

/* The output layer's error for the m rows from row `start` of the visiting order, in its
   columns [lo, hi): D = A - Y, times A (1 - A) when the quadratic cost meets sigmoid
   outputs (the other pairings cancel the activation's derivative), and each row times its
   sample's scale. */
static void FM_T(output_error)(const FM_T(run) *r, ptrdiff_t m, ptrdiff_t start, ptrdiff_t lo,
                               ptrdiff_t hi, const REAL *A, const REAL *Y, ptrdiff_t ldy, REAL *D)
{
    const ptrdiff_t n_out = r->sizes[r->L];
    for (ptrdiff_t i = 0; i < m; i++) {
        const REAL *a = A + i * n_out, *y = Y + i * ldy;
        REAL *d = D + i * n_out;
        const REAL s = r->scale ? r->scale[fm_row(r->ep->order, start + i)] : (REAL)1;
        if (r->output_derivative) {
#pragma omp simd
            for (ptrdiff_t j = lo; j < hi; j++) d[j] = s * (a[j] - y[j]) * FM_T(sigmoid_slope)(a[j]);
        } else {
#pragma omp simd
            for (ptrdiff_t j = lo; j < hi; j++) d[j] = s * (a[j] - y[j]);
        }
    }
}

/* Columns [lo, hi) of D_{l-1} = (D_l W_l) * A_{l-1} (1 - A_{l-1}) for at most
   FM_FEW_ROWS rows, row by row, as sums of W's rows, with no packing.  Each element is the
   same sum whatever the columns asked for. */
static void FM_T(backprop_rows)(ptrdiff_t m, ptrdiff_t n_prev, ptrdiff_t n, ptrdiff_t lo,
                                ptrdiff_t hi, const REAL *D, const REAL *W, const REAL *A_prev,
                                REAL *D_prev)
{
    for (ptrdiff_t i = 0; i < m; i++) {
        REAL *dp = D_prev + i * n_prev + lo;
        const REAL *s = A_prev + i * n_prev + lo;
        memset(dp, 0, (size_t)(hi - lo) * sizeof(REAL));
        for (ptrdiff_t j = 0; j < n; j++) FM_T(axpy)(hi - lo, D[i * n + j], W + j * n_prev + lo, dp);
#pragma omp simd
        for (ptrdiff_t k = 0; k < hi - lo; k++) dp[k] *= FM_T(sigmoid_slope)(s[k]);
    }
}

/* D_{l-1} = (D_l W_l) * A_{l-1} (1 - A_{l-1}): the error flowing back one layer. */
static int FM_T(backprop_error)(ptrdiff_t m, ptrdiff_t n_prev, ptrdiff_t n, const REAL *D,
                                const REAL *W, const REAL *A_prev, REAL *D_prev)
{
    if (m <= FM_FEW_ROWS) {
        FM_T(backprop_rows)(m, n_prev, n, 0, n_prev, D, W, A_prev, D_prev);
        return FM_OK;
    }
    FM_T(epilogue) e = {.kind = FM_EPI_DSIGMOID, .S = A_prev, .lds = n_prev};
    return FM_T(gemm)(m, n_prev, n, (FM_T(mat)){D, n, 1}, (FM_T(mat)){W, n_prev, 1},
                      D_prev, n_prev, &e);
}

/*
 * W -= lr (D^T A_prev / m + decay W) for a batch of at most FM_FEW_ROWS samples, sample i's
 * inputs at rows[i], D's rows ldd apart, with no packing.  A block of FM_UPDATE_ROWS rows
 * of W by kv vectors of columns is a tile of gradients g_jk = sum_i d_ij a_ik / m summed in registers (each
 * broadcast d_ij serves kv vectors), then applied to W at once: W is read and written
 * once per step.
 */
#define FM_UPDATE_ROWS 4
#define FM_UPDATE_VECTORS 3
static inline __attribute__((always_inline)) void
FM_T(update_tile)(const int kv, ptrdiff_t m, ptrdiff_t k, int rj, ptrdiff_t n_prev,
                  const REAL (*d)[FM_UPDATE_ROWS], const REAL *const *rows, REAL *W, REAL *V,
                  REAL lr, REAL decay, REAL mu)
{
    const ptrdiff_t lanes = FM_VEC_BYTES / (ptrdiff_t)sizeof(REAL);
    FM_T(vec) g[FM_UPDATE_ROWS][FM_UPDATE_VECTORS] = {{{0}}};
    for (ptrdiff_t i = 0; i < m; i++) {
        FM_T(vec) a[FM_UPDATE_VECTORS];
#pragma GCC unroll 4
        for (int u = 0; u < kv; u++) a[u] = *(const FM_T(uvec) *)(rows[i] + k + u * lanes);
#pragma GCC unroll 4
        for (int c = 0; c < FM_UPDATE_ROWS; c++)
#pragma GCC unroll 4
            for (int u = 0; u < kv; u++) g[c][u] += d[i][c] * a[u];
    }
    /* a full unroll keeps g in registers; a loop to rj would index it at run time */
#pragma GCC unroll 4
    for (int c = 0; c < FM_UPDATE_ROWS; c++)
#pragma GCC unroll 4
        for (int u = 0; u < kv; u++) {
            if (c >= rj) break;
            const ptrdiff_t at = c * n_prev + k + u * lanes;
            FM_T(sgd_vector)(g[c][u], W + at, V ? V + at : NULL, lr, decay, mu);
        }
}

static void FM_T(small_update)(ptrdiff_t m, ptrdiff_t n_prev, ptrdiff_t n, const REAL *D,
                               ptrdiff_t ldd, const REAL *const *rows, REAL *W, REAL *V,
                               REAL lr, REAL decay, REAL mu)
{
    const ptrdiff_t lanes = FM_VEC_BYTES / (ptrdiff_t)sizeof(REAL);
    const REAL inv_m = (REAL)1 / (REAL)m;
    for (ptrdiff_t j0 = 0; j0 < n; j0 += FM_UPDATE_ROWS) {
        const int rj = (int)(n - j0 < FM_UPDATE_ROWS ? n - j0 : FM_UPDATE_ROWS);
        REAL d[FM_FEW_ROWS][FM_UPDATE_ROWS] = {{0}}; /* d[i][c] = D_i,j0+c / m; 0 past n */
        for (ptrdiff_t i = 0; i < m; i++)
            for (int c = 0; c < rj; c++) d[i][c] = D[i * ldd + j0 + c] * inv_m;
        REAL *Wj = W + j0 * n_prev, *Vj = V ? V + j0 * n_prev : NULL;
        ptrdiff_t k = 0;
        for (; k + FM_UPDATE_VECTORS * lanes <= n_prev; k += FM_UPDATE_VECTORS * lanes)
            FM_T(update_tile)(FM_UPDATE_VECTORS, m, k, rj, n_prev, d, rows, Wj, Vj, lr, decay, mu);
        for (; k + lanes <= n_prev; k += lanes)
            FM_T(update_tile)(1, m, k, rj, n_prev, d, rows, Wj, Vj, lr, decay, mu);
        for (; k < n_prev; k++)
            for (int c = 0; c < rj; c++) {
                REAL g = 0;
                for (ptrdiff_t i = 0; i < m; i++) g += d[i][c] * rows[i][k];
                FM_T(sgd_rule)(g, Wj + c * n_prev + k, Vj ? Vj + c * n_prev + k : NULL, lr, decay, mu);
            }
    }
}
#undef FM_UPDATE_ROWS
#undef FM_UPDATE_VECTORS

/* W -= lr (D^T A_prev / m + decay W), with momentum through V: the update fused into the
   gradient's product.  A_prev's rows are at rows[] when m <= FM_FEW_ROWS (then A_prev
   is not read), else A_prev with row stride ld_prev.  grad is scratch for batches longer
   than one K block. */
static int FM_T(update_weights)(ptrdiff_t m, ptrdiff_t n_prev, ptrdiff_t n, const REAL *D,
                                const REAL *const *rows, const REAL *A_prev, ptrdiff_t ld_prev,
                                REAL *W, REAL *V, REAL lr, REAL decay, REAL mu, REAL *grad)
{
    if (m <= FM_FEW_ROWS) {
        FM_T(small_update)(m, n_prev, n, D, n, rows, W, V, lr, decay, mu);
        return FM_OK;
    }
    FM_T(epilogue) e = {.kind = FM_EPI_SGD, .scale = (REAL)1 / (REAL)m, .W = W, .V = V,
                        .ldw = n_prev, .lr = lr, .decay = decay, .mu = mu};
    return FM_T(gemm)(n, n_prev, m, (FM_T(mat)){D, 1, n}, (FM_T(mat)){A_prev, ld_prev, 1},
                      m > FM_GEMM_KC ? grad : NULL, n_prev, &e);
}
