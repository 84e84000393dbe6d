/* The layout of fm_train_epoch's workspace: per-layer activations and errors for one
   mini-batch, each block rounded up to 64 bytes. */
#ifndef REAL
#error "a template: include it through instantiate.h (see csrc/README.md)"
#endif

static size_t FM_T(round_up)(size_t n)
{
    const size_t per_line = 64 / sizeof(REAL);
    return (n + per_line - 1) / per_line * per_line;
}

typedef struct {
    REAL *x, *y;           /* a gathered mini-batch (when visiting in a given order; x only
                              for batches of more than FM_FEW_ROWS) */
    REAL *A[FM_MAX_LAYERS + 1], *D[FM_MAX_LAYERS + 1]; /* per layer 1..L: batch x sizes[l] */
    REAL *A_next[FM_MAX_LAYERS + 1]; /* batches of at most FM_FEW_ROWS: batch 1's next
                                        sample's activations, or the other buffer of A_1
                                        of the neuron-split steps (split.template.h) */
    REAL *db;              /* bias gradient of the widest layer */
    REAL *grad;            /* a weight gradient, only when batches exceed one K block */
    REAL *V1, *V1v, *G1;   /* inputs as compressed rows: the first layer input-major
                              (sparse.template.h), with momentum its velocities and gradient */
} FM_T(layout);

/* Lay the workspace out (work may be NULL to only count); returns elements needed.
   `compressed`: the inputs come as compressed rows; `momentum`: the network has velocities. */
static size_t FM_T(lay_out)(ptrdiff_t L, const ptrdiff_t *sizes, ptrdiff_t batch, int compressed,
                            int momentum, REAL *work, FM_T(layout) *lay)
{
    /* blocks start on 64-byte lines from the first line boundary in work (work is
       aligned to its elements): no two threads' shares of a row share a line */
    const size_t slack = 64 / sizeof(REAL) - 1;
    REAL *base = work ? (REAL *)(((uintptr_t)work + 63) & ~(uintptr_t)63) : NULL;
    size_t used = 0, widest = 0, largest = 0;
#define FM_TAKE(ptr, count)                                   \
    do {                                                      \
        if (work) (ptr) = base + used;                        \
        used += FM_T(round_up)((size_t)(count));              \
    } while (0)
    /* few rows, and compressed rows, are read in place */
    FM_TAKE(lay->x, batch > FM_FEW_ROWS && !compressed ? batch * sizes[0] : 0);
    FM_TAKE(lay->y, batch * sizes[L]);
    for (ptrdiff_t l = 1; l <= L; l++) {
        FM_TAKE(lay->A[l], batch * sizes[l]);
        FM_TAKE(lay->D[l], batch * sizes[l]);
        FM_TAKE(lay->A_next[l], batch <= FM_FEW_ROWS ? batch * sizes[l] : 0);
        widest = (size_t)sizes[l] > widest ? (size_t)sizes[l] : widest;
        size_t weights = (size_t)sizes[l] * (size_t)sizes[l - 1];
        largest = weights > largest ? weights : largest;
    }
    FM_TAKE(lay->db, widest);
    FM_TAKE(lay->grad, batch > FM_GEMM_KC ? largest : 0);
    const size_t input_major = compressed ? (size_t)sizes[0] * FM_T(round_up)((size_t)sizes[1]) : 0;
    FM_TAKE(lay->V1, input_major);
    FM_TAKE(lay->V1v, momentum ? input_major : 0);
    FM_TAKE(lay->G1, momentum ? input_major : 0);
#undef FM_TAKE
    return used + slack;
}

/* Rows per block of fm_network_forward: a block of this many rows goes through every
   layer before the next starts, so its hidden activations stay in cache. */
#define FM_FORWARD_ROWS 1024

/* fm_network_forward's workspace: two blocks of FM_FORWARD_ROWS x the widest hidden
   layer, which the hidden layers fill in turn, and for few rows a row of X compressed.
   Returns elements needed; hidden (may be NULL) receives the start of each block,
   row_values and row_columns (may be NULL) the compressed row's. */
static size_t FM_T(forward_lay_out)(ptrdiff_t L, const ptrdiff_t *sizes, ptrdiff_t m, REAL *work,
                                    REAL *hidden[2], REAL **row_values, int **row_columns)
{
    size_t widest = 0;
    for (ptrdiff_t l = 1; l < L; l++) widest = (size_t)sizes[l] > widest ? (size_t)sizes[l] : widest;
    size_t rows = (size_t)(m < FM_FORWARD_ROWS ? m : FM_FORWARD_ROWS);
    size_t block = L > 1 ? FM_T(round_up)(rows * widest) : 0;
    /* few rows: room to compress one row of X (its values, and its columns as ints) */
    size_t row = m <= FM_FEW_ROWS ? FM_T(round_up)((size_t)sizes[0]) : 0;
    if (hidden) hidden[0] = work, hidden[1] = work ? work + block : NULL;
    if (row_values) *row_values = work && row ? work + 2 * block : NULL;
    if (row_columns) *row_columns = work && row ? (int *)(work + 2 * block + row) : NULL;
    return 2 * block + 2 * row;
}
