/* The kernels compiled for x86-64 with AVX-512 (chosen at run time, see isa.c). */
#include "internal.h"

#if FM_HAVE_X86_PATHS
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")
#define FM_ISA_SUFFIX _avx512
#define FM_VEC_BYTES 64
#define FM_TEMPLATE "impl.templates.h"
#include "instantiate.h"
#endif
