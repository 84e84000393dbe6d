/* The kernels for any CPU of the architecture (SSE2 on x86-64, NEON on aarch64). */
#include "internal.h"

#define FM_ISA_SUFFIX _baseline
#define FM_VEC_BYTES 16
#define FM_TEMPLATE "impl.templates.h"
#include "instantiate.h"
