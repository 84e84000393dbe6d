/* Stochastic gradient descent update of one parameter array. */

/* p -= lr (g + l2 p); with momentum, v = momentum v - lr (g + l2 p) and p += v. */
static void FM_T(sgd_step)(ptrdiff_t n, REAL lr, REAL l2, REAL momentum,
                           const REAL *restrict g, REAL *restrict p, REAL *restrict v)
{
    if (momentum == 0) {
#pragma omp simd
        for (ptrdiff_t i = 0; i < n; i++) p[i] -= lr * (g[i] + l2 * p[i]);
    } else {
#pragma omp simd
        for (ptrdiff_t i = 0; i < n; i++) {
            v[i] = momentum * v[i] - lr * (g[i] + l2 * p[i]);
            p[i] += v[i];
        }
    }
}

int FM_I(fm_sgd_update)(ptrdiff_t n, REAL lr, REAL l2, REAL momentum,
                        const REAL *restrict g, REAL *restrict p, REAL *restrict v)
{
    FM_T(sgd_step)(n, lr, l2, momentum, g, p, v);
    return FM_OK;
}
