/*
 * instantiate.h: include the template named by FM_TEMPLATE twice, with REAL = float
 * (names ending _f32) and REAL = double (_f64).  Templates are written once, in terms of
 * REAL, FM_IS_FLOAT, FM_T(name), FM_I(name), ABS and REAL_MIN.
 */
#define REAL float
#define FM_IS_FLOAT 1
#define FM_SUFFIX _f32
#define ABS fabsf
#define REAL_MIN FLT_MIN
#include FM_TEMPLATE
#undef REAL
#undef FM_IS_FLOAT
#undef FM_SUFFIX
#undef ABS
#undef REAL_MIN

#define REAL double
#define FM_IS_FLOAT 0
#define FM_SUFFIX _f64
#define ABS fabs
#define REAL_MIN DBL_MIN
#include FM_TEMPLATE
#undef REAL
#undef FM_IS_FLOAT
#undef FM_SUFFIX
#undef ABS
#undef REAL_MIN
