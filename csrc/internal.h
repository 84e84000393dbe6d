/* internal.h: what every kernel translation unit shares (not part of the public API). */
#ifndef FASTMLP_INTERNAL_H
#define FASTMLP_INTERNAL_H

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "cache.h"
#include "fastmlp.h"
#include "isa.h"
#include "threads.h"

#define FM_CAT_(a, b) a##b
#define FM_CAT(a, b) FM_CAT_(a, b)
/* A per-dtype name: FM_T(fm_sigmoid) is fm_sigmoid_f32 or fm_sigmoid_f64. */
#define FM_T(name) FM_CAT(name, FM_SUFFIX)
/* A per-dtype, per-instruction-set name: fm_sigmoid_f32_avx2, ... */
#define FM_I(name) FM_CAT(FM_T(name), FM_ISA_SUFFIX)

/* The matrix product's longest K block: the kc derived from the caches is at most this,
   and a product without C (the SGD epilogue, K up to this) runs as one K block. */
#define FM_GEMM_KC 256

/* Batches of up to this many rows skip the packed product: the forward pass and the
   weight update read W and the samples in place. */
#define FM_FEW_ROWS 16

/* The row of sample i of an epoch: order[i], or i when the epoch visits rows in order. */
static inline ptrdiff_t fm_row(const long long *order, ptrdiff_t i)
{
    return order ? (ptrdiff_t)order[i] : i;
}

/* The rows [*start, *end) of the visiting order covered by the mini-batches an fm_epoch
   names (first_batch .. first_batch + n_batches - 1, or to the epoch's end). */
static inline void fm_epoch_rows(const fm_epoch *ep, ptrdiff_t *start, ptrdiff_t *end)
{
    const ptrdiff_t batches = (ep->n + ep->batch - 1) / ep->batch;
    const ptrdiff_t last = ep->n_batches <= 0 || ep->n_batches >= batches - ep->first_batch
                               ? batches : ep->first_batch + ep->n_batches;
    *start = ep->first_batch * ep->batch;
    *end = last * ep->batch < ep->n ? last * ep->batch : ep->n;
}

/* Whether the network has momentum velocities (they shape the training workspace). */
static inline int fm_has_velocities(const fm_network *net) { return net->vW[0] != NULL; }

/* What a matrix product does with each finished element c of C = A B. */
enum fm_epilogue_kind {
    FM_EPI_NONE,     /* store c */
    FM_EPI_SCALE,    /* store c * scale */
    FM_EPI_BIAS_ACT, /* store act(c + bias_j): the forward pass */
    FM_EPI_DSIGMOID, /* store c * s (1 - s): the error of the previous sigmoid layer */
    FM_EPI_SGD       /* c * scale is the gradient of W_ij: update W (and V) in place */
};

/* Fail with `status` from the enclosing function when `cond` holds. */
#define FM_FAIL_IF(cond, status) \
    do {                         \
        if (cond) return (status); \
    } while (0)

/* A row-major matrix argument: non-NULL unless it has no rows, ld covers its row. */
#define FM_CHECK_MATRIX(ptr, rows, cols, ld)                  \
    do {                                                      \
        FM_FAIL_IF((rows) > 0 && (ptr) == NULL, FM_ERR_NULL); \
        FM_FAIL_IF((ld) < (cols), FM_ERR_LD);                 \
    } while (0)

#endif
