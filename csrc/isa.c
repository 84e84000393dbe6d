/*
 * isa.c: run-time choice among the compiled instruction-set paths.
 *
 * The best path this CPU supports is used unless FASTMLP_ISA names another
 * ("baseline", "avx2", "avx512"), or fm_set_isa() chose one.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "fastmlp.h"
#include "isa.h"

static const char *const names[] = {"baseline", "avx2", "avx512"};
static atomic_int active = -1;

const char *fm_isa_name(int isa)
{
    return isa >= FM_ISA_BASELINE && isa <= FM_ISA_AVX512 ? names[isa] : "unknown";
}

int fm_isa_supported(int isa)
{
    switch (isa) {
    case FM_ISA_BASELINE: return 1;
#if FM_HAVE_X86_PATHS
    case FM_ISA_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case FM_ISA_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
               fm_isa_supported(FM_ISA_AVX2);
#endif
    default: return 0;
    }
}

static int best_isa(void)
{
    for (int isa = FM_ISA_AVX512; isa > FM_ISA_BASELINE; isa--)
        if (fm_isa_supported(isa)) return isa;
    return FM_ISA_BASELINE;
}

int fm_get_isa(void)
{
    int isa = atomic_load(&active);
    if (isa >= 0) return isa;
    isa = best_isa();
    const char *forced = getenv("FASTMLP_ISA");
    for (int i = FM_ISA_BASELINE; forced && i <= FM_ISA_AVX512; i++)
        if (strcmp(forced, names[i]) == 0 && fm_isa_supported(i)) isa = i;
    atomic_store(&active, isa);
    return isa;
}

int fm_set_isa(int isa)
{
    if (!fm_isa_supported(isa)) return FM_ERR_VALUE;
    atomic_store(&active, isa);
    return FM_OK;
}
