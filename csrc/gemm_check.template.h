/*
 * The test entries of the matrix product (see fastmlp_testing.h): one product C = A B
 * with its epilogue, by the fast product of gemm.template.h on exactly `threads` threads
 * (with the blocks given, or those derived), or by its reference; and the fast product's
 * register tile and derived blocks.  Every argument is checked first, so that no
 * combination the fast product does not support reaches it.
 */
#ifndef REAL
#error "a template: include it through instantiate.h (see csrc/README.md)"
#endif

#include "fastmlp_testing.h"
#include "gemm_reference.template.h"

/* An operand of `rows` x `cols` stored as fm_layout `layout` with leading dimension ld. */
static inline FM_T(mat) FM_T(operand)(const REAL *p, int layout, ptrdiff_t ld)
{
    return layout == FM_TRANSPOSED ? (FM_T(mat)){p, 1, ld} : (FM_T(mat)){p, ld, 1};
}

/* 1 when ld is valid for an operand of rows x cols in fm_layout `layout`. */
static inline int FM_T(operand_ld_ok)(int layout, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ld)
{
    return ld >= (layout == FM_TRANSPOSED ? rows : cols);
}

int FM_I(fm_gemm_check)(FM_GEMM_CHECK_ARGS(REAL))
{
    FM_FAIL_IF(M < 1 || N < 1 || K < 1, FM_ERR_SIZE);
    FM_FAIL_IF(!reference && (threads < 1 || threads > FM_MAX_THREADS), FM_ERR_VALUE);
    FM_FAIL_IF(kind < FM_EPI_NONE || kind > FM_EPI_SGD, FM_ERR_VALUE);
    FM_FAIL_IF((a_layout != FM_AS_IS && a_layout != FM_TRANSPOSED) ||
               (b_layout != FM_AS_IS && b_layout != FM_TRANSPOSED), FM_ERR_VALUE);
    FM_FAIL_IF(A == NULL || B == NULL, FM_ERR_NULL);
    FM_FAIL_IF(!FM_T(operand_ld_ok)(a_layout, M, K, lda) ||
               !FM_T(operand_ld_ok)(b_layout, K, N, ldb), FM_ERR_LD);
    /* C is the output of every kind but SGD, and SGD's partial sums beyond one K block */
    FM_FAIL_IF(C == NULL && (kind != FM_EPI_SGD || K > FM_GEMM_KC), FM_ERR_NULL);
    FM_FAIL_IF(C != NULL && ldc < N, FM_ERR_LD);
    FM_FAIL_IF(kind == FM_EPI_BIAS_ACT && bias == NULL, FM_ERR_NULL);
    if (kind == FM_EPI_DSIGMOID) FM_CHECK_MATRIX(S, M, N, lds);
    if (kind == FM_EPI_SGD) {
        FM_CHECK_MATRIX(W, M, N, ldw);
        /* written so that NaN arguments fail too */
        FM_FAIL_IF(!(lr >= 0) || !(decay >= 0) || !(mu >= 0 && mu < 1), FM_ERR_VALUE);
        FM_FAIL_IF(mu != 0 && V == NULL, FM_ERR_NULL);
    }

    const fm_gemm_blocks blocks = {mc, nc, kc};
    const int derived = mc == 0 && nc == 0 && kc == 0;
    FM_FAIL_IF(!derived && !FM_T(blocks_valid)(blocks), FM_ERR_VALUE);

    const FM_T(mat) a = FM_T(operand)(A, a_layout, lda), b = FM_T(operand)(B, b_layout, ldb);
    const FM_T(epilogue) e = {.kind = kind, .sigmoid = sigmoid, .scale = scale, .bias = bias,
                              .S = S, .lds = lds, .W = W, .V = V, .ldw = ldw,
                              .lr = lr, .decay = decay, .mu = mu};
    if (reference) {
        FM_T(gemm_reference)(M, N, K, a, b, C, ldc, &e);
        return FM_OK;
    }
    return FM_T(gemm_on)(threads, M, N, K, a, b, C, ldc, &e, derived ? NULL : &blocks);
}

void FM_I(fm_gemm_layout)(ptrdiff_t out[5]) { FM_T(gemm_layout)(out); }
