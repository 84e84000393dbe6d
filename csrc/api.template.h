/*
 * The public kernels (fastmlp.h): check every argument, then run the chosen
 * instruction-set path.  Bad arguments return a status and touch nothing.
 */

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

int FM_T(fm_sgd_update)(ptrdiff_t n, REAL lr, REAL l2, REAL momentum,
                        const REAL *restrict g, REAL *restrict p, REAL *restrict v)
{
    FM_FAIL_IF(n < 0, FM_ERR_SIZE);
    /* Written so that NaN arguments fail too. */
    FM_FAIL_IF(!(lr >= 0) || !(l2 >= 0) || !(momentum >= 0 && momentum < 1), FM_ERR_VALUE);
    FM_FAIL_IF(n > 0 && (g == NULL || p == NULL), FM_ERR_NULL);
    FM_FAIL_IF(n > 0 && momentum != 0 && v == NULL, FM_ERR_NULL);
    FM_DISPATCH(fm_sgd_update, (n, lr, l2, momentum, g, p, v))
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

/* The sizes of a network of n_layers layers: 1 when every size is >= 1 and every
   product of two of them (or of one and m) fits comfortably in size_t. */
static int FM_T(valid_sizes)(ptrdiff_t n_layers, const ptrdiff_t *sizes, ptrdiff_t m)
{
    if (n_layers < 1 || n_layers > FM_MAX_LAYERS || sizes == NULL || m < 0) return 0;
    const double limit = (double)PTRDIFF_MAX / 16 / sizeof(REAL);
    for (ptrdiff_t l = 0; l <= n_layers; l++) {
        if (sizes[l] < 1) return 0;
        if (l > 0 && (double)sizes[l] * (double)sizes[l - 1] > limit) return 0;
        if ((double)sizes[l] * (double)m > limit) return 0;
    }
    return 1;
}

size_t FM_T(fm_train_workspace)(ptrdiff_t n_layers, const ptrdiff_t *sizes, ptrdiff_t batch)
{
    if (batch < 1 || !FM_T(valid_sizes)(n_layers, sizes, batch)) return 0;
    FM_T(layout) lay = {0};
    return FM_T(lay_out)(n_layers, sizes, batch, NULL, &lay);
}

int FM_T(fm_train_epoch)(ptrdiff_t L, const ptrdiff_t *sizes, int output, int cost,
                         ptrdiff_t n, ptrdiff_t batch, const REAL *X, ptrdiff_t ldx,
                         const REAL *Y, ptrdiff_t ldy, const long long *order,
                         REAL lr, REAL l2, REAL momentum,
                         REAL *const *W, REAL *const *b, REAL *const *vW, REAL *const *vb,
                         REAL *work, size_t work_len, fm_epoch_result *result)
{
    FM_FAIL_IF(sizes == NULL || W == NULL || b == NULL || result == NULL, FM_ERR_NULL);
    FM_FAIL_IF(n < 1 || batch < 1, FM_ERR_SIZE);
    size_t needed = FM_T(fm_train_workspace)(L, sizes, batch);
    FM_FAIL_IF(needed == 0, FM_ERR_SIZE);
    FM_FAIL_IF(work == NULL, FM_ERR_NULL);
    FM_FAIL_IF(work_len < needed, FM_ERR_SIZE);
    FM_FAIL_IF(!FM_T(valid_activation)(output), FM_ERR_ACTIVATION);
    FM_FAIL_IF(!((cost == FM_QUADRATIC && output != FM_SOFTMAX) ||
                 (cost == FM_CROSS_ENTROPY && output == FM_SIGMOID) ||
                 (cost == FM_LOG_LIKELIHOOD && output == FM_SOFTMAX)), FM_ERR_COST);
    FM_FAIL_IF(!(lr >= 0) || !(l2 >= 0) || !(momentum >= 0 && momentum < 1), FM_ERR_VALUE);
    FM_CHECK_MATRIX(X, n, sizes[0], ldx);
    FM_CHECK_MATRIX(Y, n, sizes[L], ldy);
    for (ptrdiff_t l = 0; l < L; l++) {
        FM_FAIL_IF(W[l] == NULL || b[l] == NULL, FM_ERR_NULL);
        FM_FAIL_IF(momentum != 0 && (vW == NULL || vb == NULL || vW[l] == NULL || vb[l] == NULL),
                   FM_ERR_NULL);
    }
    for (ptrdiff_t i = 0; order && i < n; i++)
        FM_FAIL_IF(order[i] < 0 || order[i] >= n, FM_ERR_VALUE);
    FM_DISPATCH(fm_train_epoch, (L, sizes, output, cost, n, batch, X, ldx, Y, ldy, order, lr, l2,
                                 momentum, W, b, momentum != 0 ? vW : NULL,
                                 momentum != 0 ? vb : NULL, work, work_len, result))
}

size_t FM_T(fm_forward_workspace)(ptrdiff_t n_layers, const ptrdiff_t *sizes, ptrdiff_t m)
{
    if (!FM_T(valid_sizes)(n_layers, sizes, m)) return 0;
    return FM_T(forward_lay_out)(n_layers, sizes, m, NULL, NULL);
}

int FM_T(fm_network_forward)(ptrdiff_t L, const ptrdiff_t *sizes, int output, ptrdiff_t m,
                             const REAL *X, ptrdiff_t ldx, const REAL *const *W,
                             const REAL *const *b, REAL *out, ptrdiff_t ldo,
                             REAL *work, size_t work_len, ptrdiff_t *bad)
{
    FM_FAIL_IF(sizes == NULL || W == NULL || b == NULL || bad == NULL, FM_ERR_NULL);
    FM_FAIL_IF(!FM_T(valid_sizes)(L, sizes, m), FM_ERR_SIZE);
    FM_FAIL_IF(!FM_T(valid_activation)(output), FM_ERR_ACTIVATION);
    size_t needed = FM_T(fm_forward_workspace)(L, sizes, m);
    FM_FAIL_IF(needed > 0 && work == NULL, FM_ERR_NULL);
    FM_FAIL_IF(work_len < needed, FM_ERR_SIZE);
    FM_CHECK_MATRIX(X, m, sizes[0], ldx);
    FM_CHECK_MATRIX(out, m, sizes[L], ldo);
    for (ptrdiff_t l = 0; l < L; l++) FM_FAIL_IF(W[l] == NULL || b[l] == NULL, FM_ERR_NULL);
    *bad = -1;
    if (m == 0) return FM_OK;
    FM_DISPATCH(fm_network_forward, (L, sizes, output, m, X, ldx, W, b, out, ldo, work, work_len, bad))
}
