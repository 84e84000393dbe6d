/* Activations: the sigmoid and the row-wise forms used by the dense layer. */

/*
 * sigmoid(z) = 1 / (1 + e^-z), computed from e = e^-|z|, which is in (0, 1] and never
 * overflows: for z >= 0 the result is 1 / (1 + e); for z < 0 it is e / (1 + e)
 * (the same value, multiplied through by e^z).  At |z| = 1000, e is 0 and the result is
 * exactly 1 or 0.  Written without branches so the loop that calls it vectorises.
 */
static inline REAL FM_T(sigmoid1)(REAL z)
{
    REAL e = EXP(-ABS(z));
    REAL s = (REAL)1 / ((REAL)1 + e);
    return z >= 0 ? s : e * s;
}

int FM_T(fm_sigmoid)(ptrdiff_t n, const REAL *z, REAL *a)
{
    FM_FAIL_IF(n < 0, FM_ERR_SIZE);
    FM_FAIL_IF(n > 0 && (z == NULL || a == NULL), FM_ERR_NULL);
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
    for (ptrdiff_t j = 0; j < n; j++) {
        row[j] = EXP(row[j] - zmax);
        sum += row[j];
    }
    REAL inv = (REAL)1 / sum;
    for (ptrdiff_t j = 0; j < n; j++) row[j] *= inv;
}

/* Replace the pre-activations z in one row of n values by act(z). */
static void FM_T(activate_row)(int activation, ptrdiff_t n, REAL *row)
{
    switch (activation) {
    case FM_SIGMOID: FM_T(fm_sigmoid)(n, row, row); break;
    case FM_SOFTMAX: FM_T(softmax_row)(n, row); break;
    default: break; /* FM_IDENTITY */
    }
}
