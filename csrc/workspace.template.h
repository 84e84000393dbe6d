/* The layout of fm_train_epoch's workspace: per-layer activations and errors for one
   mini-batch, each block rounded up to 64 bytes. */

static size_t FM_T(round_up)(size_t n)
{
    const size_t per_line = 64 / sizeof(REAL);
    return (n + per_line - 1) / per_line * per_line;
}

typedef struct {
    REAL *x, *y;           /* a gathered mini-batch (when visiting in a given order) */
    REAL *A[FM_MAX_LAYERS + 1], *D[FM_MAX_LAYERS + 1]; /* per layer 1..L: batch x sizes[l] */
    REAL *db;              /* bias gradient of the widest layer */
    REAL *grad;            /* a weight gradient, only when batches exceed one K block */
} FM_T(layout);

/* Lay the workspace out (work may be NULL to only count); returns elements needed. */
static size_t FM_T(lay_out)(ptrdiff_t L, const ptrdiff_t *sizes, ptrdiff_t batch, REAL *work,
                            FM_T(layout) *lay)
{
    size_t used = 0, widest = 0, largest = 0;
#define FM_TAKE(ptr, count)                                   \
    do {                                                      \
        if (work) (ptr) = work + used;                        \
        used += FM_T(round_up)((size_t)(count));              \
    } while (0)
    FM_TAKE(lay->x, batch * sizes[0]);
    FM_TAKE(lay->y, batch * sizes[L]);
    for (ptrdiff_t l = 1; l <= L; l++) {
        FM_TAKE(lay->A[l], batch * sizes[l]);
        FM_TAKE(lay->D[l], batch * sizes[l]);
        widest = (size_t)sizes[l] > widest ? (size_t)sizes[l] : widest;
        size_t weights = (size_t)sizes[l] * (size_t)sizes[l - 1];
        largest = weights > largest ? weights : largest;
    }
    FM_TAKE(lay->db, widest);
    FM_TAKE(lay->grad, batch > FM_GEMM_KC ? largest : 0);
#undef FM_TAKE
    return used;
}
