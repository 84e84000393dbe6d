/* Costs of a batch of outputs against targets, and the count of right predictions. */
#ifndef REAL
#error "a template: include it through instantiate.h (see csrc/README.md)"
#endif

/* ln(a), with a clamped to the smallest normal number so that ln(0) stays finite. */
static inline double FM_T(safe_log)(REAL a)
{
    return log(a > REAL_MIN ? (double)a : (double)REAL_MIN);
}

static double FM_T(cost_sum)(ptrdiff_t m, ptrdiff_t n, int cost, const REAL *A, ptrdiff_t lda,
                             const REAL *Y, ptrdiff_t ldy)
{
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
    return total;
}

int FM_I(fm_cost)(ptrdiff_t m, ptrdiff_t n, int cost, const REAL *restrict A, ptrdiff_t lda,
                  const REAL *restrict Y, ptrdiff_t ldy, double *out)
{
    *out = FM_T(cost_sum)(m, n, cost, A, lda, Y, ldy) / (double)m;
    return FM_OK;
}

/* The index of the first largest of n values (as numpy.argmax). */
static inline ptrdiff_t FM_T(argmax)(ptrdiff_t n, const REAL *v)
{
    ptrdiff_t best = 0;
    for (ptrdiff_t j = 1; j < n; j++)
        if (v[j] > v[best]) best = j;
    return best;
}

/* Rows whose output picks the target's class: the largest output at the largest target,
   or with one output, output and target on the same side of 0.5. */
static long long FM_T(count_correct)(ptrdiff_t m, ptrdiff_t n, const REAL *A, ptrdiff_t lda,
                                     const REAL *Y, ptrdiff_t ldy)
{
    long long correct = 0;
    for (ptrdiff_t i = 0; i < m; i++) {
        const REAL *a = A + i * lda, *y = Y + i * ldy;
        if (n == 1) correct += (a[0] >= (REAL)0.5) == (y[0] >= (REAL)0.5);
        else correct += FM_T(argmax)(n, a) == FM_T(argmax)(n, y);
    }
    return correct;
}
