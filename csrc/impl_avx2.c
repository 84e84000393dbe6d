/* The kernels compiled for x86-64 with AVX2 and FMA (chosen at run time, see isa.c). */
#include "internal.h"

#if FM_HAVE_X86_PATHS
#pragma GCC target("avx2,fma")
#define FM_ISA_SUFFIX _avx2
#define FM_VEC_BYTES 32
#define FM_TEMPLATE "impl.templates.h"
#include "instantiate.h"
#endif
