/* Activations: the sigmoid and the row-wise forms used by the dense layer. */
#ifndef REAL
#error "a template: include it through instantiate.h (see csrc/README.md)"
#endif

/*
 * sigmoid(z) = 1 / (1 + e^-z), computed from e = e^-|z|, which is in (0, 1] and never
 * overflows: for z >= 0 the result is 1 / (1 + e); for z < 0 it is e / (1 + e)
 * (the same value, multiplied through by e^z).  At |z| = 1000, e is 0 and the result is
 * exactly 1 or 0.  Branch-free, so the loops that call it vectorise.
 */
static inline REAL FM_T(sigmoid1)(REAL z)
{
    REAL e = FM_T(vexp)(-ABS(z));
    REAL s = (REAL)1 / ((REAL)1 + e);
    return z >= 0 ? s : e * s;
}

/* The sigmoid's derivative read off its output: sigmoid'(z) = a (1 - a) where a = sigmoid(z).
   The one place it is written; every error that passes back through a sigmoid uses it. */
static inline REAL FM_T(sigmoid_slope)(REAL a)
{
    return a * ((REAL)1 - a);
}

int FM_I(fm_exp)(ptrdiff_t n, const REAL *x, REAL *y)
{
#pragma omp simd
    for (ptrdiff_t i = 0; i < n; i++) y[i] = FM_T(vexp)(x[i]);
    return FM_OK;
}

int FM_I(fm_sigmoid)(ptrdiff_t n, const REAL *z, REAL *a)
{
#pragma omp simd
    for (ptrdiff_t i = 0; i < n; i++) a[i] = FM_T(sigmoid1)(z[i]);
    return FM_OK;
}

/*
 * softmax(z)_j = e^(z_j - max z) / sum_k e^(z_k - max z): subtracting the row maximum
 * changes nothing mathematically and keeps every exponent <= 0.
 */
static void FM_T(softmax_row)(ptrdiff_t n, REAL *row)
{
    REAL zmax = row[0];
    for (ptrdiff_t j = 1; j < n; j++) zmax = row[j] > zmax ? row[j] : zmax;
    REAL sum = 0;
#pragma omp simd reduction(+ : sum)
    for (ptrdiff_t j = 0; j < n; j++) {
        row[j] = FM_T(vexp)(row[j] - zmax);
        sum += row[j];
    }
    REAL inv = (REAL)1 / sum;
#pragma omp simd
    for (ptrdiff_t j = 0; j < n; j++) row[j] *= inv;
}

/* Apply the activation to the pre-activations z of m rows (row stride ld), in place. */
static void FM_T(activate_rows)(int activation, ptrdiff_t m, ptrdiff_t n, REAL *Z, ptrdiff_t ld)
{
    for (ptrdiff_t i = 0; i < m; i++) {
        if (activation == FM_SIGMOID) FM_I(fm_sigmoid)(n, Z + i * ld, Z + i * ld);
        else if (activation == FM_SOFTMAX) FM_T(softmax_row)(n, Z + i * ld);
    }
}
