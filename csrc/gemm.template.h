/*
 * A cache-blocked, register-tiled matrix product C = A B (the BLIS design), with the
 * layer's elementwise work fused into the pass that finishes each tile of C.
 * gemm_reference.template.h states the same contract as a plain triple loop: read it
 * first; tests/test_gemm.py checks this product against it.
 *
 * A (M x K) and B (K x N) are read through a row and a column stride each, so one kernel
 * serves X W^T (forward), D W (input gradient) and D^T X (weight gradient).  Blocks of A
 * (MC x KC) and B (KC x NC) are packed into MR-row and NR-column panels; the micro-kernel
 * keeps an MR x NR tile of C in vector registers (GCC vector extensions, VL lanes).
 * The blocks MC, NC and KC are derived at run time from this machine's cache sizes
 * (fm_gemm_blocks_for in cache.c); the register tile MR x NR is fixed per path.
 * Threads claim chunks of C (columns or rows) in turn, each packing into its own
 * buffers, so the threads never wait on each other inside a product, and a thread that
 * loses its core holds up at most the chunk it is on.
 */
#ifndef REAL
#error "a template: include it through instantiate.h (see csrc/README.md)"
#endif

#define VL (FM_VEC_BYTES / (ptrdiff_t)sizeof(REAL))
#define MR 6
#define NV 2
#define NR (NV * VL)
#define FM_MIN(a, b) ((a) < (b) ? (a) : (b))

/* The blocks for this machine's caches (read once per process; the model is a few
   divisions). */
static fm_gemm_blocks FM_T(derived_blocks)(void)
{
    return fm_gemm_blocks_for(fm_cache(), sizeof(REAL), MR, NR);
}

/* 1 when b can block a product on this path: whole register tiles, kc <= FM_GEMM_KC. */
static int FM_T(blocks_valid)(fm_gemm_blocks b)
{
    return b.mc >= MR && b.mc % MR == 0 && b.nc >= NR && b.nc % NR == 0 && b.kc >= 1 &&
           b.kc <= FM_GEMM_KC;
}

/* {MR, NR, mc, nc, kc}: the register tile and the blocks derived for this machine. */
static void FM_T(gemm_layout)(ptrdiff_t out[5])
{
    const fm_gemm_blocks b = FM_T(derived_blocks)();
    out[0] = MR, out[1] = NR, out[2] = b.mc, out[3] = b.nc, out[4] = b.kc;
}

/*
 * How one product (or one thread's slice of it) is cut: C in blocks of mc x nc (no larger
 * than C, in whole tiles), K in k_blocks equal blocks of at most kb elements, so that no
 * short tail block costs a whole pass.  Without C (`single`: the SGD epilogue has nowhere
 * to keep partial sums) K is one block, which the callers keep to K <= FM_GEMM_KC.
 */
typedef struct {
    ptrdiff_t mc, nc, kb, k_blocks;
} FM_T(cut);

static FM_T(cut) FM_T(cut_for)(fm_gemm_blocks b, ptrdiff_t M, ptrdiff_t N, ptrdiff_t K, int single)
{
    const ptrdiff_t k_blocks = single ? 1 : (K + b.kc - 1) / b.kc;
    return (FM_T(cut)){.mc = FM_MIN(b.mc, (M + MR - 1) / MR * MR),
                       .nc = FM_MIN(b.nc, (N + NR - 1) / NR * NR),
                       .kb = (K + k_blocks - 1) / k_blocks, .k_blocks = k_blocks};
}

/* Bytes of scratch the packing buffers of a cut take: A's block, then B's, each aligned
   to 64 bytes. */
static size_t FM_T(packing_bytes)(FM_T(cut) c)
{
    return (size_t)(c.mc + c.nc) * (size_t)c.kb * sizeof(REAL) + 2 * 64;
}

/* A matrix read through strides: element (i, p) is at p[i * rs + p * cs]. */
typedef struct { const REAL *p; ptrdiff_t rs, cs; } FM_T(mat);

/* What happens to each finished element c = (A B)_ij; see enum fm_epilogue_kind. */
typedef struct {
    int kind;
    int sigmoid;            /* FM_EPI_BIAS_ACT: apply the sigmoid after the bias */
    REAL scale;             /* FM_EPI_SCALE, FM_EPI_SGD: c is multiplied by it first */
    const REAL *bias;       /* FM_EPI_BIAS_ACT: N biases */
    const REAL *S;          /* FM_EPI_DSIGMOID: sigmoid outputs, M x N, row stride lds */
    ptrdiff_t lds;
    REAL *W, *V;            /* FM_EPI_SGD: parameters and velocities (or NULL), M x N */
    ptrdiff_t ldw;
    REAL lr, decay, mu;
} FM_T(epilogue);

static inline FM_T(epilogue) FM_T(epilogue_at)(FM_T(epilogue) e, ptrdiff_t i0, ptrdiff_t j0)
{
    if (e.bias) e.bias += j0;
    if (e.S) e.S += i0 * e.lds + j0;
    if (e.W) e.W += i0 * e.ldw + j0;
    if (e.V) e.V += i0 * e.ldw + j0;
    return e;
}

/*
 * Copy `rows` (<= width) source rows, element p of row r at src[r * row_stride + p * step],
 * into a kc x width panel, panel[p * width + r], zero-padding rows up to width.  Full
 * panels take a loop with the width fixed.  When the rows are contiguous (step 1) they
 * are read a cache line at a time, row after row: read p-major, the width rows would each
 * want a line at once, and rows a multiple of 4 KB apart share a few cache sets (32 rows
 * of float32 W^T, 4 KB apart in a 1024-wide layer, made the product 0.63x NumPy's on an
 * AMD Zen 4, each line refetched for every element it holds).
 */
#define FM_LINE ((ptrdiff_t)(64 / sizeof(REAL)))
#define FM_INTERLEAVE_FIXED(W)                                                           \
    do {                                                                                 \
        if (step == 1) {                                                                 \
            for (ptrdiff_t p0 = 0; p0 < kc; p0 += FM_LINE) {                             \
                const ptrdiff_t p1 = FM_MIN(p0 + FM_LINE, kc);                           \
                for (ptrdiff_t r = 0; r < (W); r++) {                                    \
                    __builtin_prefetch(src + r * row_stride + p0 + 2 * FM_LINE);         \
                    for (ptrdiff_t p = p0; p < p1; p++) panel[p * (W) + r] = src[r * row_stride + p]; \
                }                                                                        \
            }                                                                            \
        } else {                                                                         \
            for (ptrdiff_t p = 0; p < kc; p++)                                           \
                for (ptrdiff_t r = 0; r < (W); r++) panel[p * (W) + r] = src[r * row_stride + p * step]; \
        }                                                                                \
    } while (0)
static inline void FM_T(interleave)(ptrdiff_t kc, ptrdiff_t rows, ptrdiff_t width,
                                    const REAL *restrict src, ptrdiff_t row_stride,
                                    ptrdiff_t step, REAL *restrict panel)
{
    if (rows == MR && width == MR) {
        FM_INTERLEAVE_FIXED(MR);
    } else if (rows == NR && width == NR) {
        FM_INTERLEAVE_FIXED(NR);
    } else {
        for (ptrdiff_t p = 0; p < kc; p++)
            for (ptrdiff_t r = 0; r < width; r++)
                panel[p * width + r] = r < rows ? src[r * row_stride + p * step] : (REAL)0;
    }
}
#undef FM_INTERLEAVE_FIXED
#undef FM_LINE

/* Pack an mc x kc block of A into MR-row panels, zero-padding the last. */
static void FM_T(pack_a)(ptrdiff_t mc, ptrdiff_t kc, FM_T(mat) A, REAL *restrict out)
{
    for (ptrdiff_t i0 = 0; i0 < mc; i0 += MR, out += MR * kc)
        FM_T(interleave)(kc, FM_MIN(MR, mc - i0), MR, A.p + i0 * A.rs, A.rs, A.cs, out);
}

/* Pack a kc x nc block of B into NR-column panels, zero-padding the last. */
static void FM_T(pack_b)(ptrdiff_t kc, ptrdiff_t nc, FM_T(mat) B, REAL *restrict out)
{
    for (ptrdiff_t j0 = 0; j0 < nc; j0 += NR, out += NR * kc) {
        ptrdiff_t nr = FM_MIN(NR, nc - j0);
        if (nr == NR && B.cs == 1) { /* rows of B are contiguous: copy NR at a time */
            for (ptrdiff_t p = 0; p < kc; p++)
                memcpy(out + p * NR, B.p + p * B.rs + j0, NR * sizeof(REAL));
        } else { /* B = W^T: each panel is a transpose of NR rows of W */
            FM_T(interleave)(kc, nr, NR, B.p + j0 * B.cs, B.cs, B.rs, out);
        }
    }
}

/*
 * The MR x NR tile A (MR x kc, element (i, p) at a[i * a_rs + p * a_cs]) times b (a
 * kc x NR panel), accumulated in registers, plus the tile of C at `add` when it is not
 * NULL; the sum goes to C at `store` when that is not NULL, else to ct.  A is a packed
 * panel (a_rs = 1, a_cs = MR) or MR rows of A read in place (a_rs = the row stride,
 * a_cs = 1); the wrappers below are kept out of line so that the MR nv vector
 * accumulators get the register file to themselves.  Only the first nv (a constant, NV
 * or 1) of the tile's NV vectors of columns are computed: a last panel of at most VL
 * columns (a 100-wide layer in float32 on AVX-512 ends in one of 4) takes half the work.
 */
static inline __attribute__((always_inline)) void
FM_T(micro_tile)(const int nv, ptrdiff_t kc, const REAL *restrict a, ptrdiff_t a_rs,
                 ptrdiff_t a_cs, const REAL *restrict b, REAL *restrict ct, const REAL *add,
                 REAL *store, ptrdiff_t ldc)
{
    FM_T(vec) c[MR][NV];
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) c[i][v] = (FM_T(vec)){0};
    for (ptrdiff_t p = 0; p < kc; p++, a += a_cs, b += NR) {
        FM_T(vec) bv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) bv[v] = ((const FM_T(vec) *)b)[v];
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++) c[i][v] += a[i * a_rs] * bv[v];
    }
    if (add) {
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++) c[i][v] += *(const FM_T(uvec) *)(add + i * ldc + v * VL);
    }
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) {
            if (store) *(FM_T(uvec) *)(store + i * ldc + v * VL) = c[i][v];
            else ((FM_T(vec) *)ct)[i * NV + v] = c[i][v];
        }
}

/* The tile from a packed panel of A (full width, or the first VL columns). */
__attribute__((noinline)) static void FM_T(micro_kernel)(ptrdiff_t kc, const REAL *restrict a,
                                                         const REAL *restrict b, REAL *restrict ct,
                                                         const REAL *add, REAL *store,
                                                         ptrdiff_t ldc)
{
    FM_T(micro_tile)(NV, kc, a, 1, MR, b, ct, add, store, ldc);
}

__attribute__((noinline)) static void FM_T(micro_kernel_narrow)(ptrdiff_t kc, const REAL *restrict a,
                                                                const REAL *restrict b,
                                                                REAL *restrict ct)
{
    FM_T(micro_tile)(1, kc, a, 1, MR, b, ct, NULL, NULL, 0);
}

/* The tile from MR contiguous rows of A, lda apart, read in place: no packing, which for
   a row-major A would be a transpose. */
__attribute__((noinline)) static void FM_T(micro_kernel_rows)(ptrdiff_t kc, const REAL *restrict a,
                                                              ptrdiff_t lda, const REAL *restrict b,
                                                              REAL *restrict ct, const REAL *add,
                                                              REAL *store, ptrdiff_t ldc)
{
    FM_T(micro_tile)(NV, kc, a, lda, 1, b, ct, add, store, ldc);
}

__attribute__((noinline)) static void FM_T(micro_kernel_rows_narrow)(ptrdiff_t kc,
                                                                     const REAL *restrict a,
                                                                     ptrdiff_t lda,
                                                                     const REAL *restrict b,
                                                                     REAL *restrict ct)
{
    FM_T(micro_tile)(1, kc, a, lda, 1, b, ct, NULL, NULL, 0);
}

/*
 * Add the tile ct (mr x nr of it) to C (or store it, on the first K block), and on the
 * last K block apply the epilogue.  With a single K block and FM_EPI_SGD, C is not used.
 */
static void FM_T(finish_tile)(const FM_T(epilogue) *e, const REAL *restrict ct, int first,
                              int last, REAL *C, ptrdiff_t ldc, ptrdiff_t mr, ptrdiff_t nr)
{
    for (ptrdiff_t ii = 0; ii < mr; ii++) {
        REAL *c = C ? C + ii * ldc : NULL;
        /* the finished values of this row: the tile itself, or the tile plus C so far
           (read in place, never copied: a copy would stall the loads that follow it) */
        const REAL *row = ct + ii * NR;
        REAL sum[NR];
        if (!first) {
#pragma omp simd
            for (ptrdiff_t jj = 0; jj < nr; jj++) sum[jj] = row[jj] + c[jj];
            row = sum;
        }
        if (!last) {
            memcpy(c, row, (size_t)nr * sizeof(REAL));
            continue;
        }
        switch (e->kind) {
        case FM_EPI_NONE:
            memcpy(c, row, (size_t)nr * sizeof(REAL));
            break;
        case FM_EPI_SCALE:
#pragma omp simd
            for (ptrdiff_t jj = 0; jj < nr; jj++) c[jj] = row[jj] * e->scale;
            break;
        case FM_EPI_BIAS_ACT:
            if (e->sigmoid) {
#pragma omp simd
                for (ptrdiff_t jj = 0; jj < nr; jj++) c[jj] = FM_T(sigmoid1)(row[jj] + e->bias[jj]);
            } else {
#pragma omp simd
                for (ptrdiff_t jj = 0; jj < nr; jj++) c[jj] = row[jj] + e->bias[jj];
            }
            break;
        case FM_EPI_DSIGMOID: {
            /* the previous layer's error: (D W)_ij * s_ij (1 - s_ij) */
            const REAL *s = e->S + ii * e->lds;
#pragma omp simd
            for (ptrdiff_t jj = 0; jj < nr; jj++) c[jj] = row[jj] * FM_T(sigmoid_slope)(s[jj]);
            break;
        }
        default: { /* FM_EPI_SGD: the gradient is row * scale */
            REAL *w = e->W + ii * e->ldw;
            if (e->V) {
                REAL *v = e->V + ii * e->ldw;
#pragma omp simd
                for (ptrdiff_t jj = 0; jj < nr; jj++)
                    FM_T(sgd_rule)(row[jj] * e->scale, w + jj, v + jj, e->lr, e->decay, e->mu);
            } else {
#pragma omp simd
                for (ptrdiff_t jj = 0; jj < nr; jj++)
                    FM_T(sgd_rule)(row[jj] * e->scale, w + jj, NULL, e->lr, e->decay, 0);
            }
            break;
        }
        }
    }
}

/* Ask for the rows x cols tile at p (rows ld apart) to be brought into cache for
   writing: issued before a tile's micro-kernel runs, the lines arrive while it does. */
static inline void FM_T(prefetch_tile)(const REAL *p, ptrdiff_t ld, ptrdiff_t rows, ptrdiff_t cols)
{
    for (ptrdiff_t i = 0; i < rows; i++) {
        __builtin_prefetch(p + i * ld, 1);
        __builtin_prefetch(p + i * ld + cols - 1, 1);
    }
}

/* One thread's product: the whole BLIS loop nest over an M x N slice of C. */
static void FM_T(gemm_serial)(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K, FM_T(mat) A, FM_T(mat) B,
                              REAL *C, ptrdiff_t ldc, const FM_T(epilogue) *e,
                              fm_gemm_blocks blocks, void *scratch)
{
    const FM_T(cut) cut = FM_T(cut_for)(blocks, M, N, K, C == NULL);
    REAL *pack_a = (REAL *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    REAL *pack_b = (REAL *)(((uintptr_t)(pack_a + cut.mc * cut.kb) + 63) & ~(uintptr_t)63);
    REAL ct[MR * NR] __attribute__((aligned(64)));

    for (ptrdiff_t jc = 0; jc < N; jc += cut.nc) {
        ptrdiff_t nc = FM_MIN(cut.nc, N - jc);
        for (ptrdiff_t pc = 0; pc < K; pc += cut.kb) {
            ptrdiff_t kc = FM_MIN(cut.kb, K - pc);
            int first = pc == 0, last = pc + kc >= K;
            FM_T(pack_b)(kc, nc, (FM_T(mat)){B.p + pc * B.rs + jc * B.cs, B.rs, B.cs}, pack_b);
            for (ptrdiff_t ic = 0; ic < M; ic += cut.mc) {
                ptrdiff_t mc = FM_MIN(cut.mc, M - ic);
                /* A with contiguous rows is read in place, full panels of MR rows at a
                   time; only a last, shorter panel is packed (zero-padded).  Not when the
                   rows are a multiple of 4 KB apart (the MR rows would compete for the
                   same few cache sets), nor for short rows (measured slower: the
                   product is too small for packing to cost anything). */
                const int rows_in_place = A.cs == 1 && kc >= 64 &&
                                          (A.rs * (ptrdiff_t)sizeof(REAL)) % 4096 != 0;
                const ptrdiff_t direct = rows_in_place ? mc / MR * MR : 0;
                FM_T(pack_a)(mc - direct, kc,
                             (FM_T(mat)){A.p + (ic + direct) * A.rs + pc * A.cs, A.rs, A.cs}, pack_a);
                /* Tiles go down each column panel (B's panel stays in L1), except when the
                   epilogue updates W: then along each row panel, so that W is swept row by
                   row rather than a page per tile. */
                const int by_rows = e->kind == FM_EPI_SGD;
                const ptrdiff_t outer_n = by_rows ? mc : nc, inner_n = by_rows ? nc : mc;
                const ptrdiff_t outer_step = by_rows ? MR : NR, inner_step = by_rows ? NR : MR;
                for (ptrdiff_t o = 0; o < outer_n; o += outer_step) {
                    for (ptrdiff_t q = 0; q < inner_n; q += inner_step) {
                        const ptrdiff_t ir = by_rows ? o : q, jr = by_rows ? q : o;
                        ptrdiff_t i0 = ic + ir, j0 = jc + jr;
                        ptrdiff_t mr = FM_MIN(MR, mc - ir), nr = FM_MIN(NR, nc - jr);
                        REAL *c = C ? C + i0 * ldc + j0 : NULL;
                        const REAL *pb = pack_b + jr * kc;
                        const int in_place = ir < direct;
                        const REAL *pa = in_place ? A.p + i0 * A.rs + pc : pack_a + (ir - direct) * kc;
                        /* what the tile will write: C, and W and V when it updates them */
                        if (c) FM_T(prefetch_tile)(c, ldc, mr, nr);
                        if (last && e->kind == FM_EPI_SGD) {
                            FM_T(prefetch_tile)(e->W + i0 * e->ldw + j0, e->ldw, mr, nr);
                            if (e->V) FM_T(prefetch_tile)(e->V + i0 * e->ldw + j0, e->ldw, mr, nr);
                        }
#define FM_TILE(ct_, add_, store_)                                                            \
    (in_place ? FM_T(micro_kernel_rows)(kc, pa, A.rs, pb, ct_, add_, store_, ldc)           \
              : FM_T(micro_kernel)(kc, pa, pb, ct_, add_, store_, ldc))
                        if (nr <= VL) { /* a narrow last panel: through ct */
                            if (in_place) FM_T(micro_kernel_rows_narrow)(kc, pa, A.rs, pb, ct);
                            else FM_T(micro_kernel_narrow)(kc, pa, pb, ct);
                            FM_T(epilogue) at = FM_T(epilogue_at)(*e, i0, j0);
                            FM_T(finish_tile)(&at, ct, first, last, c, ldc, mr, nr);
                        } else if (mr < MR || nr < NR) { /* an edge tile: through ct, element by element */
                            FM_TILE(ct, NULL, NULL);
                            FM_T(epilogue) at = FM_T(epilogue_at)(*e, i0, j0);
                            FM_T(finish_tile)(&at, ct, first, last, c, ldc, mr, nr);
                        } else if (!last) { /* a partial sum: straight into C */
                            FM_TILE(ct, first ? NULL : c, c);
                        } else { /* the full sum, in ct, then the epilogue */
                            FM_TILE(ct, first ? NULL : c, NULL);
                            FM_T(epilogue) at = FM_T(epilogue_at)(*e, i0, j0);
                            FM_T(finish_tile)(&at, ct, 1, 1, c, ldc, MR, NR);
                        }
#undef FM_TILE
                    }
                }
            }
        }
    }
}

/*
 * Z = X W^T for a batch of few rows (the matrix-vector end of the range): blocks of
 * xr (1 or 2) rows of X against WR rows of W, with vector partial sums along k and one
 * horizontal sum per pair at the end.  No packing: W is read in place, once per block
 * of X's rows.  When `e` is given, the block is finished through it (bias and sigmoid).
 */
#define WR 4
static inline void FM_T(xwt_block)(const int xr, ptrdiff_t K, const REAL *const *x,
                                   const REAL *const *w, REAL *tile)
{
    FM_T(vec) acc[2][WR];
#pragma GCC unroll 8
    for (int r = 0; r < 2; r++)
#pragma GCC unroll 8
        for (int c = 0; c < WR; c++) acc[r][c] = (FM_T(vec)){0};
    ptrdiff_t k = 0;
    if (xr == 1) {
        /* One row: the even vector steps sum into acc[0] and the odd ones into acc[1], so
           that 2 WR independent chains of multiply-adds, not WR, hide their latency. */
        for (; k + 2 * VL <= K; k += 2 * VL) {
            const FM_T(vec) x0 = *(const FM_T(uvec) *)(x[0] + k);
            const FM_T(vec) x1 = *(const FM_T(uvec) *)(x[0] + k + VL);
#pragma GCC unroll 8
            for (int c = 0; c < WR; c++) {
                acc[0][c] += x0 * *(const FM_T(uvec) *)(w[c] + k);
                acc[1][c] += x1 * *(const FM_T(uvec) *)(w[c] + k + VL);
            }
        }
#pragma GCC unroll 8
        for (int c = 0; c < WR; c++) acc[0][c] += acc[1][c];
    }
    for (; k + VL <= K; k += VL) {
        FM_T(vec) xv[2], wv[WR];
#pragma GCC unroll 8
        for (int r = 0; r < xr; r++) xv[r] = *(const FM_T(uvec) *)(x[r] + k);
#pragma GCC unroll 8
        for (int c = 0; c < WR; c++) wv[c] = *(const FM_T(uvec) *)(w[c] + k);
#pragma GCC unroll 8
        for (int r = 0; r < xr; r++)
#pragma GCC unroll 8
            for (int c = 0; c < WR; c++) acc[r][c] += xv[r] * wv[c];
    }
    for (int r = 0; r < xr; r++)
        for (int c = 0; c < WR; c++) {
            REAL sum = 0;
            for (int lane = 0; lane < VL; lane++) sum += acc[r][c][lane];
            for (ptrdiff_t kk = k; kk < K; kk++) sum += x[r][kk] * w[c][kk];
            tile[r * NR + c] = sum;
        }
}

/* The rows of X are rows[0..m): the samples of a batch may lie anywhere in memory. */
static void FM_T(small_xwt)(ptrdiff_t m, ptrdiff_t n, ptrdiff_t K, const REAL *const *rows,
                            const REAL *W, ptrdiff_t ldw, REAL *Z, ptrdiff_t ldz,
                            const FM_T(epilogue) *e)
{
    for (ptrdiff_t j0 = 0; j0 < n; j0 += WR) {
        const ptrdiff_t rj = FM_MIN(WR, n - j0);
        const REAL *w[WR];
        for (int c = 0; c < WR; c++) w[c] = W + (j0 + FM_MIN(c, rj - 1)) * ldw;
        for (ptrdiff_t i0 = 0; i0 < m; i0 += 2) {
            const ptrdiff_t ri = FM_MIN(2, m - i0);
            const REAL *x[2] = {rows[i0], rows[i0 + ri - 1]};
            REAL tile[2 * NR] __attribute__((aligned(64)));
            if (ri == 2) FM_T(xwt_block)(2, K, x, w, tile);
            else FM_T(xwt_block)(1, K, x, w, tile);
            if (e) {
                FM_T(epilogue) at = FM_T(epilogue_at)(*e, i0, j0);
                FM_T(finish_tile)(&at, tile, 1, 1, Z + i0 * ldz + j0, ldz, ri, rj);
            } else {
                for (ptrdiff_t r = 0; r < ri; r++)
                    for (ptrdiff_t c = 0; c < rj; c++) Z[(i0 + r) * ldz + j0 + c] = tile[r * NR + c];
            }
        }
    }
}
#undef WR

/* Chunks of C per thread in a product on several threads: enough that a thread that
   starts late or loses its core leaves little for the others to wait on.  But each chunk
   packs the other operand's block anew, so a chunk spans at least FM_GEMM_CHUNK_MIN
   columns (rows) of C, over which that packing is spread: measured on 1024^3 on 2
   threads, 128-column chunks ran at 0.84x (float32) and 0.86x (float64) the speed of
   two halves. */
#ifndef FM_GEMM_CHUNKS_PER_THREAD
#define FM_GEMM_CHUNKS_PER_THREAD 4
#define FM_GEMM_CHUNK_MIN 256
#endif

typedef struct {
    ptrdiff_t M, N, K, ldc;
    FM_T(mat) A, B;
    REAL *C;
    const FM_T(epilogue) *e;
    int split_n;           /* chunks are columns of C (else rows) */
    ptrdiff_t chunk_items; /* columns (rows) per chunk, whole panels */
    fm_gemm_blocks blocks;
} FM_T(gemm_job);

/* Panels per chunk of a product of `panels` panels (`extent` columns or rows) on
   `threads` threads: the whole product on one thread, else as many chunks as
   FM_GEMM_CHUNKS_PER_THREAD and FM_GEMM_CHUNK_MIN allow, and at least one per thread. */
static ptrdiff_t FM_T(chunk_panels)(int threads, ptrdiff_t panels, ptrdiff_t extent)
{
    if (threads == 1) return panels;
    ptrdiff_t chunks = FM_MIN(extent / FM_GEMM_CHUNK_MIN, threads * FM_GEMM_CHUNKS_PER_THREAD);
    if (chunks < FM_MIN(threads, panels)) chunks = FM_MIN(threads, panels);
    return (panels + chunks - 1) / chunks;
}

/* The register panels along C's longer side, which threads share out. */
static ptrdiff_t FM_T(panels_along_longer_side)(ptrdiff_t M, ptrdiff_t N)
{
    return N >= M ? (N + NR - 1) / NR : (M + MR - 1) / MR;
}

/* One chunk of C's columns (or rows), on whichever thread claimed it. */
static void FM_T(gemm_task)(void *arg, ptrdiff_t chunk, int slot)
{
    const FM_T(gemm_job) *job = arg;
    const ptrdiff_t extent = job->split_n ? job->N : job->M;
    const ptrdiff_t lo = chunk * job->chunk_items, hi = FM_MIN(lo + job->chunk_items, extent);
    ptrdiff_t i0 = job->split_n ? 0 : lo, j0 = job->split_n ? lo : 0;
    FM_T(mat) A = {job->A.p + i0 * job->A.rs, job->A.rs, job->A.cs};
    FM_T(mat) B = {job->B.p + j0 * job->B.cs, job->B.rs, job->B.cs};
    FM_T(epilogue) e = FM_T(epilogue_at)(*job->e, i0, j0);
    ptrdiff_t M = job->split_n ? job->M : hi - lo, N = job->split_n ? hi - lo : job->N;
    FM_T(gemm_serial)(M, N, job->K, A, B, job->C ? job->C + i0 * job->ldc + j0 : NULL,
                      job->ldc, &e, job->blocks, fm_thread_scratch(slot));
}

/* FM_T(gemm) on exactly `threads` threads (the tests run 2 even on tiny products) with
   the given blocks (NULL: those derived for this machine; else FM_T(blocks_valid)).
   Threads claim chunks of C along its longer side, in whole panels; each chunk's packing
   buffers fit the scratch asked for the whole product.  How C is chunked never changes
   the arithmetic of an element: K is cut the same way for every chunk. */
static int FM_T(gemm_on)(int threads, ptrdiff_t M, ptrdiff_t N, ptrdiff_t K, FM_T(mat) A,
                         FM_T(mat) B, REAL *C, ptrdiff_t ldc, const FM_T(epilogue) *e,
                         const fm_gemm_blocks *blocks)
{
    const int split_n = N >= M;
    const ptrdiff_t panels = FM_T(panels_along_longer_side)(M, N);
    if (panels == 0) return FM_OK; /* C is empty */
    const ptrdiff_t per_chunk = FM_T(chunk_panels)(threads, panels, split_n ? N : M);
    FM_T(gemm_job) job = {M, N, K, ldc, A, B, C, e, split_n, per_chunk * (split_n ? NR : MR),
                          blocks ? *blocks : FM_T(derived_blocks)()};
    const size_t scratch = FM_T(packing_bytes)(FM_T(cut_for)(job.blocks, M, N, K, C == NULL));
    return fm_parallel_chunks(threads, scratch, (panels + per_chunk - 1) / per_chunk,
                              FM_T(gemm_task), &job);
}

/*
 * C (M x N) = A B with the epilogue e, on up to fm_get_num_threads() threads; small
 * products stay on the calling thread.  C may be NULL when e is FM_EPI_SGD and
 * K <= FM_GEMM_KC.  Returns FM_OK or FM_ERR_NOMEM (nothing computed).
 */
static int FM_T(gemm)(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K, FM_T(mat) A, FM_T(mat) B,
                      REAL *C, ptrdiff_t ldc, const FM_T(epilogue) *e)
{
    double flops = 2.0 * (double)M * (double)N * (double)K;
    return FM_T(gemm_on)(fm_threads_for(flops, FM_T(panels_along_longer_side)(M, N)), M, N, K,
                         A, B, C, ldc, e, NULL);
}

#undef VL
#undef MR
#undef NV
#undef NR
#undef FM_MIN
