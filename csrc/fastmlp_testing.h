/*
 * fastmlp_testing.h: entry points that let tests reach the kernels' internals.  Not part
 * of the API of fastmlp.h: for the test suite (through fastmlp._testing), not for users.
 *
 * fm_gemm_check: one matrix product C = A B with its epilogue, either by the fast product
 * of gemm.template.h on an explicit number of threads (and, if asked, explicit cache
 * blocks), or by its plain twin in gemm_reference.template.h, on a chosen instruction-set
 * path.  fm_gemm_layout: the register tile and the blocks the fast product derives.
 */
#ifndef FASTMLP_TESTING_H
#define FASTMLP_TESTING_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How an operand lies in memory: row-major, as itself or as its transpose. */
typedef enum fm_layout {
    FM_AS_IS = 0,      /* element (r, c) at p[r * ld + c], ld >= its columns: X as A; W, X as B */
    FM_TRANSPOSED = 1  /* element (r, c) at p[c * ld + r], ld >= its rows: D^T as A; W^T as B */
} fm_layout;

/*
 * The arguments of one product, for REAL = float or double, written once here for the
 * prototypes below and the definition in gemm_check.template.h:
 *   reference     0: the fast product; 1: the reference (one thread, `threads` unused)
 *   threads       threads for the fast product (1 .. 64), used as given, even when the
 *                 product is small: a thread whose share is empty computes nothing
 *   M, N, K       sizes (>= 1): A is M x K, B is K x N, C is M x N
 *   A, a_layout, lda   the left operand and how it is stored (an fm_layout)
 *   B, b_layout, ldb   the right operand and how it is stored
 *   C, ldc        out: the product after the epilogue, M x N, row stride ldc >= N.  For
 *                 FM_EPI_SGD it is scratch, may be NULL when K <= FM_GEMM_KC (256), and
 *                 its contents afterwards are unspecified
 *   kind          what happens to each finished c = (A B)_ij: an fm_epilogue_kind
 *                 (internal.h): FM_EPI_NONE, _SCALE, _BIAS_ACT, _DSIGMOID or _SGD
 *   sigmoid       FM_EPI_BIAS_ACT: 1 applies the sigmoid after the bias, 0 does not
 *   scale         FM_EPI_SCALE and FM_EPI_SGD: c is multiplied by it first
 *   bias          FM_EPI_BIAS_ACT: N biases; NULL otherwise
 *   S, lds        FM_EPI_DSIGMOID: sigmoid outputs, M x N, row stride lds >= N; NULL otherwise
 *   W, V, ldw     FM_EPI_SGD: in/out: parameters and velocities (V may be NULL: no
 *                 momentum), M x N, row stride ldw >= N; NULL otherwise
 *   lr, decay, mu FM_EPI_SGD: learning rate (>= 0), per-step weight decay (>= 0), momentum
 *                 (in [0, 1), 0 when V is NULL); the rule is sgd_rule's (sgd.template.h)
 *   mc, nc, kc    the fast product's cache blocks: all 0 for those derived from this
 *                 machine's caches, else mc a multiple of MR, nc a multiple of NR (see
 *                 fm_gemm_layout) and 1 <= kc <= FM_GEMM_KC
 * Returns FM_OK, FM_ERR_NULL, FM_ERR_SIZE, FM_ERR_LD, FM_ERR_VALUE (an unknown kind or
 * layout, a scalar out of range, a thread count out of range, blocks that do not fit
 * the path) or FM_ERR_NOMEM; on an error nothing is written.  Outputs must not overlap
 * each other or the inputs.
 */
#define FM_GEMM_CHECK_ARGS(REAL)                                                          \
    int reference, int threads, ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,                    \
    const REAL *A, int a_layout, ptrdiff_t lda, const REAL *B, int b_layout, ptrdiff_t ldb, \
    REAL *C, ptrdiff_t ldc, int kind, int sigmoid, REAL scale, const REAL *bias,          \
    const REAL *S, ptrdiff_t lds, REAL *W, REAL *V, ptrdiff_t ldw, REAL lr, REAL decay,   \
    REAL mu, ptrdiff_t mc, ptrdiff_t nc, ptrdiff_t kc

typedef int (*fm_gemm_check_f32_fn)(FM_GEMM_CHECK_ARGS(float));
typedef int (*fm_gemm_check_f64_fn)(FM_GEMM_CHECK_ARGS(double));

/*
 * The product on the instruction-set path named `isa` ("baseline", "avx2", "avx512"; see
 * fm_isa_name), whatever path fm_set_isa chose for the other kernels; or NULL when `isa` is
 * NULL, names no path, or names one this CPU (or build) cannot run.
 */
fm_gemm_check_f32_fn fm_gemm_check_f32(const char *isa);
fm_gemm_check_f64_fn fm_gemm_check_f64(const char *isa);

/*
 * The fast product's shape on the path named `isa` for elements of `itemsize` bytes (4:
 * float, 8: double): out = {MR, NR, mc, nc, kc}, its register tile and the cache blocks
 * it derives from this machine's caches.  Returns 0, or -1 (out untouched) when `isa`
 * names no path this CPU runs or itemsize is neither 4 nor 8.
 */
int fm_gemm_layout(const char *isa, int itemsize, ptrdiff_t out[5]);

/*
 * The least work per thread (float64 flops of one training step) for which small mini-
 * batches split their neurons among threads (split.template.h): set it, and return the
 * value it had.  0 splits every step; the tests use it to run the split path on small
 * networks.  It also ends the pool's spell on one thread after a contended wait
 * (fm_pool_contended), which would otherwise keep a test's steps unsplit for a while.
 * Not thread-safe: set it while nothing trains.
 */
double fm_set_split_min_flops(double flops);

/*
 * Hold the thread pool's workers out of every job (hold != 0) as if another process kept
 * them off their cores, or let them go (0).  A product on several threads must still
 * finish, on the calling thread alone; a job that needs every thread (the split steps)
 * waits until they are let go.
 */
void fm_hold_workers(int hold);

/*
 * Make the workers sleep `seconds` at each barrier of a split training step (0: not at
 * all), as if the scheduler kept giving their cores away: the calling thread then spends
 * most of the run waiting, and must go on alone with the same results.
 */
void fm_slow_workers(double seconds);

/* 1 while the pool runs work on one thread after finding its threads waiting on each
   other (fm_pool_contended, another process taking the cores), else 0. */
int fm_pool_on_one_thread(void);

#ifdef __cplusplus
}
#endif
#endif /* FASTMLP_TESTING_H */
