/*
 * The matrix product of gemm.template.h written plainly, to be read first and to test the
 * fast product against (the role of BLIS's reference kernels): C = A B by a triple loop,
 * then each finished element c = (A B)_ij through the same epilogue.  The same operands
 * (FM_T(mat): element (i, p) of A at A.p[i * A.rs + p * A.cs]), the same FM_T(epilogue),
 * the same results up to rounding; no blocking, no packing, no vectors, one thread.
 * C is not used by FM_EPI_SGD here (the fast product keeps partial sums in it when K
 * spans several K blocks, so its contents afterwards are unspecified by both).
 */
#ifndef REAL
#error "a template: include it through instantiate.h (see csrc/README.md)"
#endif

static void FM_T(gemm_reference)(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K, FM_T(mat) A, FM_T(mat) B,
                                 REAL *C, ptrdiff_t ldc, const FM_T(epilogue) *e)
{
    for (ptrdiff_t i = 0; i < M; i++) {
        for (ptrdiff_t j = 0; j < N; j++) {
            /* c = sum_p A_ip B_pj */
            REAL c = 0;
            for (ptrdiff_t p = 0; p < K; p++) c += A.p[i * A.rs + p * A.cs] * B.p[p * B.rs + j * B.cs];
            REAL *out = C ? &C[i * ldc + j] : NULL;
            switch (e->kind) {
            case FM_EPI_NONE: /* C_ij = c */
                *out = c;
                break;
            case FM_EPI_SCALE: /* C_ij = scale c */
                *out = c * e->scale;
                break;
            case FM_EPI_BIAS_ACT: /* C_ij = sigmoid(c + bias_j), or c + bias_j */
                *out = e->sigmoid ? FM_T(sigmoid1)(c + e->bias[j]) : c + e->bias[j];
                break;
            case FM_EPI_DSIGMOID: /* C_ij = c S_ij (1 - S_ij): S holds sigmoid outputs */
                *out = c * FM_T(sigmoid_slope)(e->S[i * e->lds + j]);
                break;
            case FM_EPI_SGD: /* scale c is the gradient of W_ij: W_ij (and V_ij) by sgd_rule */
                FM_T(sgd_rule)(c * e->scale, &e->W[i * e->ldw + j],
                               e->V ? &e->V[i * e->ldw + j] : NULL, e->lr, e->decay, e->mu);
                break;
            }
        }
    }
}
