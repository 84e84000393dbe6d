/*
 * The public kernels (fastmlp.h): check every argument, then run the chosen
 * instruction-set path.  Bad arguments return a status and touch nothing.
 */
#ifndef REAL
#error "a template: include it through instantiate.h (see csrc/README.md)"
#endif

/* Call `name` on the path fm_get_isa() chose. */
#if FM_HAVE_X86_PATHS
#define FM_DISPATCH(name, args)                                               \
    switch (fm_get_isa()) {                                                   \
    case FM_ISA_AVX512: return FM_CAT(FM_T(name), _avx512) args;              \
    case FM_ISA_AVX2: return FM_CAT(FM_T(name), _avx2) args;                  \
    default: return FM_CAT(FM_T(name), _baseline) args;                       \
    }
#else
#define FM_DISPATCH(name, args) return FM_CAT(FM_T(name), _baseline) args;
#endif

static inline int FM_T(valid_activation)(int activation)
{
    return activation == FM_SIGMOID || activation == FM_IDENTITY || activation == FM_SOFTMAX;
}

int FM_T(fm_exp)(ptrdiff_t n, const REAL *x, REAL *y)
{
    FM_FAIL_IF(n < 0, FM_ERR_SIZE);
    FM_FAIL_IF(n > 0 && (x == NULL || y == NULL), FM_ERR_NULL);
    FM_DISPATCH(fm_exp, (n, x, y))
}

int FM_T(fm_sigmoid)(ptrdiff_t n, const REAL *z, REAL *a)
{
    FM_FAIL_IF(n < 0, FM_ERR_SIZE);
    FM_FAIL_IF(n > 0 && (z == NULL || a == NULL), FM_ERR_NULL);
    FM_DISPATCH(fm_sigmoid, (n, z, a))
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
    if (m == 0) return FM_OK;
    FM_DISPATCH(fm_dense_forward, (m, n_in, n_out, activation, X, ldx, W, ldw, b, A, lda))
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
    FM_DISPATCH(fm_dense_backward, (m, n_in, n_out, activation, X, ldx, W, ldw, A, lda, G, ldg,
                                    D, ldd, dW, db, dX, lddx))
}

int FM_T(fm_sgd_update)(ptrdiff_t n, REAL lr, REAL decay, REAL momentum,
                        const REAL *restrict g, REAL *restrict p, REAL *restrict v)
{
    FM_FAIL_IF(n < 0, FM_ERR_SIZE);
    /* Written so that NaN arguments fail too. */
    FM_FAIL_IF(!(lr >= 0) || !(decay >= 0) || !(momentum >= 0 && momentum < 1), FM_ERR_VALUE);
    FM_FAIL_IF(n > 0 && (g == NULL || p == NULL), FM_ERR_NULL);
    FM_FAIL_IF(n > 0 && momentum != 0 && v == NULL, FM_ERR_NULL);
    FM_DISPATCH(fm_sgd_update, (n, lr, decay, momentum, g, p, v))
}

int FM_T(fm_cost)(ptrdiff_t m, ptrdiff_t n, int cost, const REAL *restrict A, ptrdiff_t lda,
                  const REAL *restrict Y, ptrdiff_t ldy, double *out)
{
    FM_FAIL_IF(m < 1 || n < 1, FM_ERR_SIZE);
    FM_FAIL_IF(cost != FM_QUADRATIC && cost != FM_CROSS_ENTROPY && cost != FM_LOG_LIKELIHOOD,
               FM_ERR_COST);
    FM_CHECK_MATRIX(A, m, n, lda);
    FM_CHECK_MATRIX(Y, m, n, ldy);
    FM_FAIL_IF(out == NULL, FM_ERR_NULL);
    FM_DISPATCH(fm_cost, (m, n, cost, A, lda, Y, ldy, out))
}

/* The dtype code of this instantiation. */
#define FM_DTYPE_CODE (FM_IS_FLOAT ? FM_FLOAT32 : FM_FLOAT64)

/* A usable network description of this dtype for m rows: FM_OK when its layer count is in
   range, every size is >= 1, every product of two sizes (or of one and m) fits comfortably
   in size_t, and every weight and bias pointer is set. */
static int FM_T(check_network)(const fm_network *net, ptrdiff_t m)
{
    FM_FAIL_IF(net == NULL, FM_ERR_NULL);
    FM_FAIL_IF(net->dtype != FM_DTYPE_CODE, FM_ERR_DTYPE);
    FM_FAIL_IF(net->n_layers < 1 || net->n_layers > FM_MAX_LAYERS || m < 0, FM_ERR_SIZE);
    const double limit = (double)PTRDIFF_MAX / 16 / sizeof(REAL);
    for (ptrdiff_t l = 0; l <= net->n_layers; l++) {
        const double size = (double)net->sizes[l];
        FM_FAIL_IF(size < 1 || size * (double)m > limit, FM_ERR_SIZE);
        FM_FAIL_IF(l > 0 && size * (double)net->sizes[l - 1] > limit, FM_ERR_SIZE);
    }
    for (ptrdiff_t l = 0; l < net->n_layers; l++)
        FM_FAIL_IF(net->W[l] == NULL || net->b[l] == NULL, FM_ERR_NULL);
    FM_FAIL_IF(!FM_T(valid_activation)(net->output), FM_ERR_ACTIVATION);
    return FM_OK;
}

static size_t FM_T(train_workspace)(const fm_network *net, ptrdiff_t batch, int compressed)
{
    if (batch < 1 || FM_T(check_network)(net, batch) != FM_OK) return 0;
    FM_T(layout) lay = {0};
    return FM_T(lay_out)(net->n_layers, net->sizes, batch, compressed != 0,
                         fm_has_velocities(net), NULL, &lay);
}

/* Compressed rows fit to be read: every row r that order[first .. last) names (or
   first .. last - 1 without an order) has offsets from 0 up, and columns in [0, columns);
   its values finite when `bad` is given (else the first non-finite one's position goes
   there, with FM_ERR_NONFINITE). */
static int FM_T(check_csr)(const fm_csr *X, ptrdiff_t columns, const long long *order,
                           ptrdiff_t first, ptrdiff_t last, ptrdiff_t *bad)
{
    FM_FAIL_IF(X->indptr == NULL, FM_ERR_NULL);
    for (ptrdiff_t i = first; i < last; i++) {
        const ptrdiff_t r = fm_row(order, i);
        const long long lo = X->indptr[r], hi = X->indptr[r + 1];
        FM_FAIL_IF(lo < 0 || hi < lo || hi > X->nnz, FM_ERR_INDEX);
        FM_FAIL_IF(hi > lo && (X->indices == NULL || X->data == NULL), FM_ERR_NULL);
        /* the smallest and largest column, without a branch per entry (this check reads
           every index the call will, so it must cost far less than using them) */
        int low = 0, high = 0;
        const int *col = X->indices;
#pragma omp simd reduction(min : low) reduction(max : high)
        for (long long t = lo; t < hi; t++) {
            low = col[t] < low ? col[t] : low;
            high = col[t] > high ? col[t] : high;
        }
        FM_FAIL_IF(low < 0 || high >= columns, FM_ERR_INDEX);
        const REAL *x = (const REAL *)X->data;
        for (long long t = lo; bad && t < hi; t++)
            if (!isfinite(x[t])) {
                *bad = (ptrdiff_t)t;
                return FM_ERR_NONFINITE;
            }
    }
    return FM_OK;
}

static size_t FM_T(forward_workspace)(const fm_network *net, ptrdiff_t m)
{
    if (FM_T(check_network)(net, m) != FM_OK) return 0;
    return FM_T(forward_lay_out)(net->n_layers, net->sizes, m, NULL, NULL, NULL, NULL);
}

int FM_T(fm_train_epoch)(const fm_network *net, const fm_epoch *ep, REAL *work, size_t work_len,
                         fm_epoch_result *result)
{
    FM_FAIL_IF(ep == NULL || result == NULL, FM_ERR_NULL);
    FM_FAIL_IF(ep->n < 1 || ep->batch < 1, FM_ERR_SIZE);
    int status = FM_T(check_network)(net, ep->batch);
    if (status != FM_OK) return status;
    const ptrdiff_t L = net->n_layers;
    FM_FAIL_IF(work == NULL, FM_ERR_NULL);
    FM_T(layout) lay = {0};
    FM_FAIL_IF(work_len < FM_T(lay_out)(L, net->sizes, ep->batch, ep->X_csr != NULL,
                                        fm_has_velocities(net), NULL, &lay), FM_ERR_SIZE);
    const int output = net->output, cost = ep->cost;
    FM_FAIL_IF(!((cost == FM_QUADRATIC && output != FM_SOFTMAX) ||
                 (cost == FM_CROSS_ENTROPY && output == FM_SIGMOID) ||
                 (cost == FM_LOG_LIKELIHOOD && output == FM_SOFTMAX)), FM_ERR_COST);
    /* Written so that NaN arguments fail too. */
    FM_FAIL_IF(!(ep->lr >= 0) || !(ep->decay >= 0) || !(ep->momentum >= 0 && ep->momentum < 1),
               FM_ERR_VALUE);
    if (ep->X_csr == NULL) FM_CHECK_MATRIX(ep->X, ep->n, net->sizes[0], ep->ldx);
    FM_CHECK_MATRIX(ep->Y, ep->n, net->sizes[L], ep->ldy);
    for (ptrdiff_t l = 0; ep->momentum != 0 && l < L; l++)
        FM_FAIL_IF(net->vW[l] == NULL || net->vb[l] == NULL, FM_ERR_NULL);
    /* at least one mini-batch to run: the online path reads its first row up front */
    FM_FAIL_IF(ep->first_batch < 0 || ep->first_batch >= (ep->n + ep->batch - 1) / ep->batch,
               FM_ERR_VALUE);
    /* only the rows this call visits are read, so only they are checked */
    ptrdiff_t first, last;
    fm_epoch_rows(ep, &first, &last);
    for (ptrdiff_t i = first; ep->order && i < last; i++)
        FM_FAIL_IF(ep->order[i] < 0 || ep->order[i] >= ep->n, FM_ERR_VALUE);
    if (ep->X_csr) {
        status = FM_T(check_csr)(ep->X_csr, net->sizes[0], ep->order, first, last, NULL);
        if (status != FM_OK) return status;
    }
    const REAL *scale = ep->sample_scale;
    for (ptrdiff_t i = first; scale && i < last; i++) {
        const REAL s = scale[fm_row(ep->order, i)];
        FM_FAIL_IF(!(s >= 0) || !isfinite(s), FM_ERR_VALUE);
    }
    FM_DISPATCH(fm_train_epoch, (net, ep, work, result))
}

/* What both forward entries check: the network for m rows, the workspace, the output;
   *bad set to -1 first. */
static int FM_T(check_forward)(const fm_network *net, ptrdiff_t m, REAL *out, ptrdiff_t ldo,
                               REAL *work, size_t work_len, ptrdiff_t *bad)
{
    FM_FAIL_IF(bad == NULL, FM_ERR_NULL);
    *bad = -1;
    int status = FM_T(check_network)(net, m);
    if (status != FM_OK) return status;
    size_t needed = FM_T(forward_workspace)(net, m);
    FM_FAIL_IF(needed > 0 && work == NULL, FM_ERR_NULL);
    FM_FAIL_IF(work_len < needed, FM_ERR_SIZE);
    FM_CHECK_MATRIX(out, m, net->sizes[net->n_layers], ldo);
    return FM_OK;
}

int FM_T(fm_network_forward)(const fm_network *net, ptrdiff_t m, const REAL *X, ptrdiff_t ldx,
                             REAL *out, ptrdiff_t ldo, REAL *work, size_t work_len, ptrdiff_t *bad)
{
    int status = FM_T(check_forward)(net, m, out, ldo, work, work_len, bad);
    if (status != FM_OK) return status;
    FM_CHECK_MATRIX(X, m, net->sizes[0], ldx);
    if (m == 0) return FM_OK;
    FM_DISPATCH(fm_network_forward, (net, m, X, ldx, NULL, out, ldo, work, bad))
}

int FM_T(fm_network_forward_csr)(const fm_network *net, ptrdiff_t m, const fm_csr *X,
                                 REAL *out, ptrdiff_t ldo, REAL *work, size_t work_len,
                                 ptrdiff_t *bad)
{
    int status = FM_T(check_forward)(net, m, out, ldo, work, work_len, bad);
    if (status != FM_OK) return status;
    FM_FAIL_IF(X == NULL, FM_ERR_NULL);
    status = FM_T(check_csr)(X, net->sizes[0], NULL, 0, m, bad);
    if (status != FM_OK) return status;
    if (m == 0) return FM_OK;
    FM_DISPATCH(fm_network_forward, (net, m, NULL, 0, X, out, ldo, work, bad))
}

int FM_T(fm_compress_rows)(ptrdiff_t m, ptrdiff_t n, const REAL *X, ptrdiff_t ldx,
                           long long *indptr, int *indices, REAL *data)
{
    FM_FAIL_IF(m < 0 || n < 0 || n > INT32_MAX, FM_ERR_SIZE);
    FM_CHECK_MATRIX(X, m, n, ldx);
    FM_FAIL_IF(indptr == NULL || (indices == NULL) != (data == NULL), FM_ERR_NULL);
    FM_DISPATCH(fm_compress_rows, (m, n, X, ldx, indptr, indices, data))
}
#undef FM_DTYPE_CODE
