/*
 * kernels.c: instantiates every kernel template twice, once with REAL = float (names
 * ending _f32) and once with REAL = double (_f64).  The bodies live in *.template.h and
 * are written once, in terms of REAL, FM_T(name) and the math macros below.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "fastmlp.h"

#define FM_CAT_(a, b) a##b
#define FM_CAT(a, b) FM_CAT_(a, b)
#define FM_T(name) FM_CAT(name, FM_SUFFIX)

#define REAL float
#define FM_SUFFIX _f32
#define EXP expf
#define ABS fabsf
#define REAL_MIN FLT_MIN
#include "kernels.templates.h"
#undef REAL
#undef FM_SUFFIX
#undef EXP
#undef ABS
#undef REAL_MIN

#define REAL double
#define FM_SUFFIX _f64
#define EXP exp
#define ABS fabs
#define REAL_MIN DBL_MIN
#include "kernels.templates.h"
