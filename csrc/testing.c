/* testing.c: fm_gemm_check_f32/_f64 and fm_gemm_layout of fastmlp_testing.h, the paths
   looked up by name. */
#include <string.h>

#include "fastmlp_testing.h"
#include "internal.h"

/* Each impl_*.c defines the entry for its path (gemm_check.template.h). */
int fm_gemm_check_f32_baseline(FM_GEMM_CHECK_ARGS(float));
int fm_gemm_check_f64_baseline(FM_GEMM_CHECK_ARGS(double));
void fm_gemm_layout_f32_baseline(ptrdiff_t out[5]);
void fm_gemm_layout_f64_baseline(ptrdiff_t out[5]);
#if FM_HAVE_X86_PATHS
int fm_gemm_check_f32_avx2(FM_GEMM_CHECK_ARGS(float));
int fm_gemm_check_f64_avx2(FM_GEMM_CHECK_ARGS(double));
int fm_gemm_check_f32_avx512(FM_GEMM_CHECK_ARGS(float));
int fm_gemm_check_f64_avx512(FM_GEMM_CHECK_ARGS(double));
void fm_gemm_layout_f32_avx2(ptrdiff_t out[5]);
void fm_gemm_layout_f64_avx2(ptrdiff_t out[5]);
void fm_gemm_layout_f32_avx512(ptrdiff_t out[5]);
void fm_gemm_layout_f64_avx512(ptrdiff_t out[5]);
#define FM_X86_PATH(name) name
#else
#define FM_X86_PATH(name) NULL
#endif

/* The fm_isa called `name` when this CPU can run it, else -1. */
static int runnable_isa_named(const char *name)
{
    for (int isa = FM_ISA_BASELINE; name && isa <= FM_ISA_AVX512; isa++)
        if (strcmp(name, fm_isa_name(isa)) == 0) return fm_isa_supported(isa) ? isa : -1;
    return -1;
}

/* The entries of every path of one dtype, indexed by fm_isa, and the one named `isa`. */
#define FM_PATH_BY_NAME(dt)                                                                  \
    fm_gemm_check_##dt##_fn fm_gemm_check_##dt(const char *isa)                              \
    {                                                                                        \
        static const fm_gemm_check_##dt##_fn paths[] = {                                     \
            [FM_ISA_BASELINE] = fm_gemm_check_##dt##_baseline,                               \
            [FM_ISA_AVX2] = FM_X86_PATH(fm_gemm_check_##dt##_avx2),                          \
            [FM_ISA_AVX512] = FM_X86_PATH(fm_gemm_check_##dt##_avx512)};                     \
        const int i = runnable_isa_named(isa);                                               \
        return i < 0 ? NULL : paths[i];                                                      \
    }
FM_PATH_BY_NAME(f32)
FM_PATH_BY_NAME(f64)

int fm_gemm_layout(const char *isa, int itemsize, ptrdiff_t out[5])
{
    typedef void (*layout_fn)(ptrdiff_t[5]);
    static const layout_fn f32[] = {[FM_ISA_BASELINE] = fm_gemm_layout_f32_baseline,
                                    [FM_ISA_AVX2] = FM_X86_PATH(fm_gemm_layout_f32_avx2),
                                    [FM_ISA_AVX512] = FM_X86_PATH(fm_gemm_layout_f32_avx512)};
    static const layout_fn f64[] = {[FM_ISA_BASELINE] = fm_gemm_layout_f64_baseline,
                                    [FM_ISA_AVX2] = FM_X86_PATH(fm_gemm_layout_f64_avx2),
                                    [FM_ISA_AVX512] = FM_X86_PATH(fm_gemm_layout_f64_avx512)};
    const int i = runnable_isa_named(isa);
    if (i < 0 || (itemsize != 4 && itemsize != 8)) return -1;
    (itemsize == 4 ? f32 : f64)[i](out);
    return 0;
}

double fm_set_split_min_flops(double flops)
{
    const double before = fm_split_min_flops;
    fm_split_min_flops = flops;
    fm_pool_forget_contention();
    return before;
}

void fm_hold_workers(int hold) { atomic_store(&fm_workers_held, hold != 0); }

void fm_slow_workers(double seconds) { atomic_store(&fm_workers_delay, seconds > 0 ? seconds : 0.0); }
