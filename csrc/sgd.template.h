/* Stochastic gradient descent update of one parameter array. */

int FM_T(fm_sgd_update)(ptrdiff_t n, REAL lr, REAL l2, REAL momentum,
                        const REAL *restrict g, REAL *restrict p, REAL *restrict v)
{
    FM_FAIL_IF(n < 0, FM_ERR_SIZE);
    /* Written so that NaN arguments fail too. */
    FM_FAIL_IF(!(lr >= 0) || !(l2 >= 0) || !(momentum >= 0 && momentum < 1), FM_ERR_VALUE);
    FM_FAIL_IF(n > 0 && (g == NULL || p == NULL), FM_ERR_NULL);
    FM_FAIL_IF(n > 0 && momentum != 0 && v == NULL, FM_ERR_NULL);

    if (momentum == 0) {
        /* p -= lr * (g + l2 * p) */
#pragma omp simd
        for (ptrdiff_t i = 0; i < n; i++) p[i] -= lr * (g[i] + l2 * p[i]);
    } else {
        /* v = momentum * v - lr * (g + l2 * p);  p += v */
#pragma omp simd
        for (ptrdiff_t i = 0; i < n; i++) {
            v[i] = momentum * v[i] - lr * (g[i] + l2 * p[i]);
            p[i] += v[i];
        }
    }
    return FM_OK;
}
