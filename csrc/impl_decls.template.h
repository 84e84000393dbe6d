/* Prototypes of one instruction-set path's kernels (see impl.templates.h). */
#ifndef REAL
#error "a template: include it through instantiate.h (see csrc/README.md)"
#endif
int FM_I(fm_exp)(ptrdiff_t n, const REAL *x, REAL *y);
int FM_I(fm_sigmoid)(ptrdiff_t n, const REAL *z, REAL *a);
int FM_I(fm_dense_forward)(ptrdiff_t m, ptrdiff_t n_in, ptrdiff_t n_out, int activation,
                           const REAL *restrict X, ptrdiff_t ldx, const REAL *restrict W,
                           ptrdiff_t ldw, const REAL *restrict b, REAL *restrict A, ptrdiff_t lda);
int FM_I(fm_dense_backward)(ptrdiff_t m, ptrdiff_t n_in, ptrdiff_t n_out, int activation,
                            const REAL *restrict X, ptrdiff_t ldx, const REAL *restrict W,
                            ptrdiff_t ldw, const REAL *restrict A, ptrdiff_t lda,
                            const REAL *restrict G, ptrdiff_t ldg, REAL *restrict D, ptrdiff_t ldd,
                            REAL *restrict dW, REAL *restrict db, REAL *restrict dX, ptrdiff_t lddx);
int FM_I(fm_sgd_update)(ptrdiff_t n, REAL lr, REAL decay, REAL momentum, const REAL *restrict g,
                        REAL *restrict p, REAL *restrict v);
int FM_I(fm_cost)(ptrdiff_t m, ptrdiff_t n, int cost, const REAL *restrict A, ptrdiff_t lda,
                  const REAL *restrict Y, ptrdiff_t ldy, double *out);
int FM_I(fm_train_epoch)(const fm_network *net, const fm_epoch *epoch, REAL *work,
                         fm_epoch_result *result);
int FM_I(fm_network_forward)(const fm_network *net, ptrdiff_t m, const REAL *X, ptrdiff_t ldx,
                             const fm_csr *X_csr, REAL *out, ptrdiff_t ldo, REAL *work,
                             ptrdiff_t *bad);
int FM_I(fm_compress_rows)(ptrdiff_t m, ptrdiff_t n, const REAL *X, ptrdiff_t ldx,
                           long long *indptr, int *indices, REAL *data);
