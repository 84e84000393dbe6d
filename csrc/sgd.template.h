/*
 * The stochastic gradient descent rule, the one place it is written: a parameter p with
 * gradient g (without the L2 term) becomes
 *   plain:          p -= lr (g + l2 p)
 *   with momentum:  v = mu v - lr (g + l2 p);  p += v      (v is the velocity, else NULL)
 * sgd_rule applies it to one parameter, sgd_vector to one vector of them (and returns
 * the updated vector).  Every update the kernels make goes through one of the two.
 */
static inline __attribute__((always_inline)) void
FM_T(sgd_rule)(REAL g, REAL *p, REAL *v, REAL lr, REAL l2, REAL mu)
{
    const REAL step = lr * (g + l2 * *p);
    if (v) {
        *v = mu * *v - step;
        *p += *v;
    } else {
        *p -= step;
    }
}

static inline __attribute__((always_inline)) FM_T(vec)
FM_T(sgd_vector)(FM_T(vec) g, REAL *p, REAL *v, REAL lr, REAL l2, REAL mu)
{
    FM_T(vec) pv = *(FM_T(uvec) *)p;
    const FM_T(vec) step = lr * (g + l2 * pv);
    if (v) {
        const FM_T(vec) vv = mu * *(FM_T(uvec) *)v - step;
        *(FM_T(uvec) *)v = vv;
        pv += vv;
    } else {
        pv -= step;
    }
    *(FM_T(uvec) *)p = pv;
    return pv;
}

/* The rule over a whole parameter array (v may be NULL when momentum is 0). */
static void FM_T(sgd_step)(ptrdiff_t n, REAL lr, REAL l2, REAL momentum,
                           const REAL *restrict g, REAL *restrict p, REAL *restrict v)
{
    if (momentum == 0) {
#pragma omp simd
        for (ptrdiff_t i = 0; i < n; i++) FM_T(sgd_rule)(g[i], p + i, NULL, lr, l2, 0);
    } else {
#pragma omp simd
        for (ptrdiff_t i = 0; i < n; i++) FM_T(sgd_rule)(g[i], p + i, v + i, lr, l2, momentum);
    }
}

int FM_I(fm_sgd_update)(ptrdiff_t n, REAL lr, REAL l2, REAL momentum,
                        const REAL *restrict g, REAL *restrict p, REAL *restrict v)
{
    FM_T(sgd_step)(n, lr, l2, momentum, g, p, v);
    return FM_OK;
}
