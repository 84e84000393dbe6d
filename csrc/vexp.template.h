/*
 * A vectorisable exp(x), written branch-free so that loops calling it vectorise for
 * whatever instruction set the translation unit is compiled for.
 *
 * Range reduction (Cody and Waite): x = n ln2 + r with n = round(x / ln2), |r| <= ln2/2,
 * r computed in two parts of ln2 so that n * LN2_HI is exact.  Then
 * exp(x) = 2^n exp(r), exp(r) by its Taylor series (degree 7 for float, 13 for double:
 * the first omitted term, 0.347^8/8! = 5e-9 and 0.347^14/14! = 4e-18, is below half an
 * ulp), and 2^n built in the exponent bits, in two factors so that results in the
 * subnormal range round correctly.  Below the range the result is 0, above it +inf
 * (clamping keeps n small enough for the two factors, and the product overflows);
 * NaN propagates.  tests/test_kernels.py::test_exp_error_bound measures the error.
 */
#ifndef REAL
#error "a template: include it through instantiate.h (see csrc/README.md)"
#endif

#ifndef FM_VEXP_CONSTANTS
#define FM_VEXP_CONSTANTS
#include <stdint.h>
/* Bit casts through unions, which GCC vectorises (memcpy-based ones it did not). */
static inline float fm_f32_from_bits(int32_t i) { union { int32_t i; float f; } u = {.i = i}; return u.f; }
static inline int32_t fm_bits_of_f32(float f) { union { float f; int32_t i; } u = {.f = f}; return u.i; }
static inline double fm_f64_from_bits(int64_t i) { union { int64_t i; double f; } u = {.i = i}; return u.f; }
static inline int64_t fm_bits_of_f64(double f) { union { double f; int64_t i; } u = {.f = f}; return u.i; }
#endif

#if FM_IS_FLOAT
#define VEXP_LO (-104.0f)       /* exp(-104) < half the smallest subnormal float */
#define VEXP_HI 89.0f           /* past ln(FLT_MAX) = 88.72: the result overflows to inf */
#define VEXP_SHIFT 0x1.8p23f    /* adding it rounds to an integer, kept in the low bits */
#define VEXP_LN2_HI 0x1.62e4p-1f
#define VEXP_LN2_LO 0x1.7f7d1cp-20f
#define VEXP_MANT 23
#define VEXP_BIAS 127
#define VEXP_INT int32_t
#define VEXP_UINT uint32_t
#define VEXP_BITS fm_bits_of_f32
#define VEXP_FROM_BITS fm_f32_from_bits
#else
#define VEXP_LO (-745.2)
#define VEXP_HI 710.0           /* past ln(DBL_MAX) = 709.78 */
#define VEXP_SHIFT 0x1.8p52
#define VEXP_LN2_HI 0x1.62e42fee00000p-1
#define VEXP_LN2_LO 0x1.a39ef35793c76p-33
#define VEXP_MANT 52
#define VEXP_BIAS 1023
#define VEXP_INT int64_t
#define VEXP_UINT uint64_t
#define VEXP_BITS fm_bits_of_f64
#define VEXP_FROM_BITS fm_f64_from_bits
#endif

static inline REAL FM_T(vexp)(REAL x)
{
    x = x < VEXP_LO ? VEXP_LO : x;
    x = x > VEXP_HI ? VEXP_HI : x;
    REAL t = x * (REAL)1.4426950408889634 + VEXP_SHIFT; /* n + shift, n = round(x / ln2) */
    REAL n = t - VEXP_SHIFT;
    REAL r = (x - n * VEXP_LN2_HI) - n * VEXP_LN2_LO;
#if FM_IS_FLOAT
    REAL p = 1 + r * (1 + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120
             + r * (1.0f / 720 + r * (1.0f / 5040)))))));
#else
    REAL p = 1 + r * (1 + r * (1. / 2 + r * (1. / 6 + r * (1. / 24 + r * (1. / 120
             + r * (1. / 720 + r * (1. / 5040 + r * (1. / 40320 + r * (1. / 362880
             + r * (1. / 3628800 + r * (1. / 39916800 + r * (1. / 479001600
             + r * (1. / 6227020800.0)))))))))))));
#endif
    VEXP_INT ni = VEXP_BITS(t) - VEXP_BITS(VEXP_SHIFT); /* n as an integer */
    VEXP_INT n1 = ni >> 1, n2 = ni - n1;                /* 2^n = 2^n1 2^n2, each normal */
    /* the exponent field, shifted as unsigned: a signed left shift of a negative value
       (inputs below the range, whose result is 0 anyway) is undefined in C */
    REAL s1 = VEXP_FROM_BITS((VEXP_INT)((VEXP_UINT)(n1 + VEXP_BIAS) << VEXP_MANT));
    REAL s2 = VEXP_FROM_BITS((VEXP_INT)((VEXP_UINT)(n2 + VEXP_BIAS) << VEXP_MANT));
    return p * s1 * s2;
}

#undef VEXP_LO
#undef VEXP_HI
#undef VEXP_SHIFT
#undef VEXP_LN2_HI
#undef VEXP_LN2_LO
#undef VEXP_MANT
#undef VEXP_BIAS
#undef VEXP_BITS
#undef VEXP_FROM_BITS
#undef VEXP_INT
#undef VEXP_UINT
