/*
 * The stochastic gradient descent rule, the one place it is written: a parameter p with
 * gradient g (without the L2 term) becomes
 *   plain:          p -= lr (g + decay p)
 *   with momentum:  v = mu v - lr (g + decay p);  p += v      (v is the velocity, else NULL)
 * sgd_rule applies it to one parameter, sgd_vector to one vector of them (and returns
 * the updated vector).  Every update the kernels make goes through one of the two.
 */
#ifndef REAL
#error "a template: include it through instantiate.h (see csrc/README.md)"
#endif
static inline __attribute__((always_inline)) void
FM_T(sgd_rule)(REAL g, REAL *p, REAL *v, REAL lr, REAL decay, REAL mu)
{
    const REAL step = lr * (g + decay * *p);
    if (v) {
        *v = mu * *v - step;
        *p += *v;
    } else {
        *p -= step;
    }
}

static inline __attribute__((always_inline)) FM_T(vec)
FM_T(sgd_vector)(FM_T(vec) g, REAL *p, REAL *v, REAL lr, REAL decay, REAL mu)
{
    FM_T(vec) pv = *(FM_T(uvec) *)p;
    const FM_T(vec) step = lr * (g + decay * pv);
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
static void FM_T(sgd_step)(ptrdiff_t n, REAL lr, REAL decay, REAL momentum,
                           const REAL *restrict g, REAL *restrict p, REAL *restrict v)
{
    if (momentum == 0) {
#pragma omp simd
        for (ptrdiff_t i = 0; i < n; i++) FM_T(sgd_rule)(g[i], p + i, NULL, lr, decay, 0);
    } else {
#pragma omp simd
        for (ptrdiff_t i = 0; i < n; i++) FM_T(sgd_rule)(g[i], p + i, v + i, lr, decay, momentum);
    }
}

int FM_I(fm_sgd_update)(ptrdiff_t n, REAL lr, REAL decay, REAL momentum,
                        const REAL *restrict g, REAL *restrict p, REAL *restrict v)
{
    FM_T(sgd_step)(n, lr, decay, momentum, g, p, v);
    return FM_OK;
}
