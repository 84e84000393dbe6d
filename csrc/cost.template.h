/* Costs of a batch of outputs against targets, averaged over the rows. */

/* ln(a), with a clamped to the smallest normal number so that ln(0) stays finite. */
static inline double FM_T(safe_log)(REAL a)
{
    return log(a > REAL_MIN ? (double)a : (double)REAL_MIN);
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

    double total = 0;
    for (ptrdiff_t i = 0; i < m; i++) {
        const REAL *a = A + i * lda, *y = Y + i * ldy;
        for (ptrdiff_t j = 0; j < n; j++) {
            double aj = a[j], yj = y[j];
            switch (cost) {
            case FM_QUADRATIC: total += 0.5 * (aj - yj) * (aj - yj); break;
            case FM_CROSS_ENTROPY:
                /* a term whose target weight is 0 contributes 0, even where its log is -inf */
                if (yj != 0) total -= yj * FM_T(safe_log)(a[j]);
                if (yj != 1) total -= (1 - yj) * FM_T(safe_log)((REAL)1 - a[j]);
                break;
            default: /* FM_LOG_LIKELIHOOD */
                if (yj != 0) total -= yj * FM_T(safe_log)(a[j]);
                break;
            }
        }
    }
    *out = total / (double)m;
    return FM_OK;
}
