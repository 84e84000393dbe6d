/*
 * Small mini-batches (at most FM_FEW_ROWS samples, online learning included) on several
 * threads, each layer's neurons split among them.
 *
 * Thread t owns a share of every layer's neurons: it computes their activations and
 * errors and updates their weights and biases (rows of W_l; columns of the input-major
 * first layer).  Every value is computed by exactly one thread, with the same arithmetic
 * as on one thread, so the results are bit-identical for any thread count.  What a thread
 * needs from the others' shares it reads after a barrier:
 *
 *   forward, layer l      A_l[:, own]                 reads all of A_{l-1}: a barrier
 *                                                     after each layer but the last
 *   output error          D_L[:, own]; a barrier, then thread 0 adds the cost (all of A_L)
 *   error, layer l - 1    D_{l-1}[:, own] = (D_l W_l[:, own]) * A_{l-1} (1 - A_{l-1}),
 *                         reading all of D_l and columns of W_l: a barrier after each, so
 *                         that no row of W_l changes while another thread still reads it
 *   update, every layer   W_l[own, :] and b_l[own], from D_l[:, own] and all of A_{l-1}
 *
 * A network of one layer sends no error back, so a barrier of its own stands before the
 * cost's verdict is read.  A step's first forward pass writes A_1 before its first
 * barrier, while a slower thread may still read A_1 to update W_2: A_1 alternates between
 * two buffers.  A softmax output needs its whole row: the threads leave their shares'
 * sums, and after a barrier thread 0 takes the softmax and the output error.
 *
 * When another process keeps taking the cores, a barrier waits for a descheduled thread
 * for a whole time slice, or the scheduler puts two threads of the run on one core and
 * they take turns at every barrier.  Once thread 0 has spent more than FM_WAITING_SHARE
 * of the run at barriers (two threads that each wait half the time are no faster than
 * one), it takes every share for the rest of the run, and the runs that start soon after
 * use one thread (fm_pool_contended).  A single long wait does not count: in a virtual
 * machine an idle run meets a few, and the one-thread spell they would start costs more
 * than they do.  The shares never change the arithmetic, so neither does this.
 *
 * Online learning keeps the fused order of online.template.h (each layer's update with
 * the next sample's pass through it, first layer first), with a barrier after each layer
 * but the last, so that its arithmetic, too, is the one-thread path's.
 */
#ifndef REAL
#error "a template: include it through instantiate.h (see csrc/README.md)"
#endif

/* The share of a run that thread 0 may spend at barriers before it goes on alone (see
   share_step_done), judged once the run has gone on for FM_JUDGE_SECONDS. */
#define FM_WAITING_SHARE 0.5
#define FM_JUDGE_SECONDS 1e-3

typedef struct {
    FM_T(run) *r;
    fm_epoch_result *result; /* thread 0 adds to it */
    fm_barrier barrier;
    int failed;              /* thread 0's verdict on a step's cost, read after a barrier */
    int alone;               /* thread 0's decision to go on alone, read after a barrier */
    double started, waited;  /* thread 0's: when it began to count, seconds at barriers */
} FM_T(split_job);

/* What one thread knows: its slot, its shares, its copy of the input-major first layer
   (whose scale every thread moves in step) and its own buffers. */
typedef struct {
    FM_T(split_job) *job;
    const FM_T(run) *r;
    int slot, n_slots;
    ptrdiff_t lo[FM_MAX_LAYERS + 1], hi[FM_MAX_LAYERS + 1];
    ptrdiff_t out_lo, out_hi; /* the output error's share (all on thread 0 for softmax) */
    int out_act;              /* the output layer's activation over a share */
    FM_T(input_major) first;
    REAL *targets, *db;       /* a step's targets; the shares' bias gradients (the shares
                                 of different layers overlap) */
} FM_T(share);

/* The columns of the input-major first layer behind neurons [lo, hi): the last share
   takes the padding too, so that its vectors stay whole. */
static inline ptrdiff_t FM_T(end_in)(const FM_T(input_major) *im, ptrdiff_t lo, ptrdiff_t hi)
{
    return hi == im->n_out && hi > lo ? im->ld : hi;
}

/* The elements of a thread's scratch before its bias gradients: a step's targets. */
static size_t FM_T(split_targets)(const FM_T(run) *r)
{
    return FM_T(round_up)((size_t)FM_FEW_ROWS * (size_t)r->sizes[r->L]);
}

/* Shares of every layer for slot `slot` of n_slots. */
static void FM_T(share_layers)(FM_T(share) *t, int slot, int n_slots)
{
    const FM_T(run) *r = t->r;
    t->slot = slot, t->n_slots = n_slots;
    /* shares in whole 64-byte lines: no line is written by two threads */
    for (ptrdiff_t l = 1; l <= r->L; l++)
        fm_share(r->sizes[l], 64 / (ptrdiff_t)sizeof(REAL), slot, n_slots, &t->lo[l], &t->hi[l]);
    const int softmax = r->output == FM_SOFTMAX;
    t->out_lo = softmax ? 0 : t->lo[r->L];
    t->out_hi = softmax ? (slot == 0 ? r->sizes[r->L] : 0) : t->hi[r->L];
}

static void FM_T(share_start)(FM_T(share) *t, FM_T(split_job) *job, int slot, int n_slots)
{
    const FM_T(run) *r = job->r;
    t->job = job, t->r = r;
    FM_T(share_layers)(t, slot, n_slots);
    t->out_act = r->output == FM_SOFTMAX ? FM_IDENTITY : r->output;
    t->first = r->first;
    t->targets = fm_thread_scratch(slot);
    t->db = t->targets + FM_T(split_targets)(r);
}

static inline void FM_T(share_wait)(FM_T(share) *t)
{
    const double since = t->slot == 0 ? fm_seconds() : 0;
    const double delay = t->slot == 0 ? 0 : atomic_load_explicit(&fm_workers_delay, memory_order_relaxed);
    if (delay > 0) fm_sleep(delay);
    fm_barrier_wait(&t->job->barrier, t->n_slots);
    if (t->slot == 0) t->job->waited += fm_seconds() - since;
}

/* Thread 0, at a step: whether the run's threads keep waiting for each other (see the
   top of this file). */
static int FM_T(mostly_waiting)(const FM_T(split_job) *job)
{
    const double elapsed = fm_seconds() - job->started;
    return elapsed > FM_JUDGE_SECONDS && job->waited > FM_WAITING_SHARE * elapsed;
}

/* At the end of a step: when thread 0 has decided to go on alone (another process keeps
   taking the cores, and every barrier then waits for a descheduled thread), the others
   leave after a last barrier and thread 0 takes every share.  Returns 0 for a thread that
   leaves. */
static int FM_T(share_step_done)(FM_T(share) *t)
{
    if (!t->job->alone || t->n_slots == 1) return 1;
    FM_T(share_wait)(t);
    if (t->slot != 0) return 0;
    FM_T(share_layers)(t, 0, 1);
    return 1;
}

/* The share of layer l's forward pass for m samples: the first layer's from the
   compressed rows of the visiting order from `start`, or from the rows at in[]. */
static void FM_T(share_forward)(FM_T(share) *t, ptrdiff_t l, ptrdiff_t m, ptrdiff_t start,
                                const REAL *const *in, REAL *A)
{
    const FM_T(run) *r = t->r;
    const ptrdiff_t j0 = t->lo[l], j1 = t->hi[l], n_prev = r->sizes[l - 1];
    const int act = l == r->L ? t->out_act : FM_SIGMOID;
    if (j1 <= j0) return;
    if (l == 1 && r->csr)
        FM_T(csr_forward)(&t->first, r->csr, r->ep->order, start, m, j0,
                          FM_T(end_in)(&t->first, j0, j1), r->p.b[0], act, A, r->sizes[1]);
    else
        FM_T(forward_rows)(m, n_prev, j1 - j0, act, in, r->p.W[l - 1] + j0 * n_prev, n_prev,
                           r->p.b[l - 1] + j0, A + j0, r->sizes[l]);
}

/* After the output layer's forward pass: a softmax over whole rows, on thread 0. */
static void FM_T(share_finish_output)(FM_T(share) *t, ptrdiff_t m, REAL *A_L)
{
    if (t->r->output != FM_SOFTMAX) return;
    FM_T(share_wait)(t);
    const ptrdiff_t n = t->r->sizes[t->r->L];
    if (t->slot == 0) FM_T(activate_rows)(FM_SOFTMAX, m, n, A_L, n);
}

/* The output error, the cost (thread 0) and every error sent back, for the m samples from
   `start` with targets y (row stride ly).  Returns whether the cost was finite: the
   threads agree, having read thread 0's verdict after a barrier. */
static int FM_T(share_errors)(FM_T(share) *t, ptrdiff_t m, ptrdiff_t start, ptrdiff_t batch_no,
                              REAL *const *A, const REAL *y, ptrdiff_t ly)
{
    const FM_T(run) *r = t->r;
    const ptrdiff_t L = r->L, *sizes = r->sizes;
    REAL *const *D = r->lay.D;
    FM_T(output_error)(r, m, start, t->out_lo, t->out_hi, A[L], y, ly, D[L]);
    FM_T(share_wait)(t);
    if (t->slot == 0 && !FM_T(record_batch)(m, sizes[L], r->ep->cost, A[L], y, ly, t->job->result)) {
        t->job->result->failed_batch = batch_no;
        t->job->failed = 1;
    }
    if (t->slot == 0 && t->n_slots > 1 && FM_T(mostly_waiting)(t->job)) t->job->alone = 1;
    for (ptrdiff_t l = L; l > 1; l--) {
        FM_T(backprop_rows)(m, sizes[l - 1], sizes[l], t->lo[l - 1], t->hi[l - 1], D[l],
                            r->p.W[l - 1], A[l - 1], D[l - 1]);
        FM_T(share_wait)(t);
    }
    if (L == 1) FM_T(share_wait)(t);
    return !t->job->failed;
}

/* Mini-batches of 2 to FM_FEW_ROWS samples. */
static void FM_T(split_batches)(FM_T(share) *t)
{
    const FM_T(run) *r = t->r;
    const fm_epoch *ep = r->ep;
    const ptrdiff_t L = r->L, *sizes = r->sizes;
    REAL *A[FM_MAX_LAYERS + 1], *const *D = r->lay.D;
    for (ptrdiff_t l = 1; l <= L; l++) A[l] = r->lay.A[l];
    ptrdiff_t batch_no = ep->first_batch;
    for (ptrdiff_t start = r->start; start < r->end; start += ep->batch, batch_no++) {
        const ptrdiff_t m = r->end - start < ep->batch ? r->end - start : ep->batch;
        A[1] = (batch_no - ep->first_batch) % 2 ? r->lay.A_next[1] : r->lay.A[1];
        const REAL *x_rows[FM_FEW_ROWS], *rows[FM_FEW_ROWS];
        if (!r->csr)
            for (ptrdiff_t i = 0; i < m; i++) x_rows[i] = r->X + fm_row(ep->order, start + i) * ep->ldx;
        const REAL *y = r->Y + start * ep->ldy;
        ptrdiff_t ly = ep->ldy;
        if (ep->order) {
            FM_T(gather)(m, sizes[L], r->Y, ep->ldy, ep->order, start, t->targets);
            y = t->targets, ly = sizes[L];
        }
        for (ptrdiff_t l = 1; l <= L; l++) {
            if (l > 1) FM_T(row_addresses)(m, A[l - 1], sizes[l - 1], rows);
            FM_T(share_forward)(t, l, m, start, l > 1 ? rows : x_rows, A[l]);
            if (l < L) FM_T(share_wait)(t);
        }
        FM_T(share_finish_output)(t, m, A[L]);
        if (!FM_T(share_errors)(t, m, start, batch_no, A, y, ly)) return;
        for (ptrdiff_t l = 1; l <= L; l++) {
            const ptrdiff_t j0 = t->lo[l], j1 = t->hi[l], n_prev = sizes[l - 1];
            if (l == 1 && r->csr) { /* also with an empty share: the scale moves in step */
                FM_T(csr_update)(&t->first, r->csr, ep->order, start, m, j0,
                                 FM_T(end_in)(&t->first, j0, j1), D[1], r->lr, r->decay, r->mu);
            } else if (j1 > j0) {
                if (l > 1) FM_T(row_addresses)(m, A[l - 1], n_prev, rows);
                FM_T(small_update)(m, n_prev, j1 - j0, D[l] + j0, sizes[l], l > 1 ? rows : x_rows,
                                   r->p.W[l - 1] + j0 * n_prev,
                                   r->p.vW[l - 1] ? r->p.vW[l - 1] + j0 * n_prev : NULL,
                                   r->lr, r->decay, r->mu);
            }
            if (j1 > j0) {
                FM_T(column_sums)(m, j1 - j0, D[l] + j0, sizes[l], (REAL)1 / (REAL)m, t->db + j0);
                FM_T(sgd_step)(j1 - j0, r->lr, 0, r->mu, t->db + j0, r->p.b[l - 1] + j0,
                               r->p.vb[l - 1] ? r->p.vb[l - 1] + j0 : NULL);
            }
        }
        if (!FM_T(share_step_done)(t)) return;
    }
}

/* Online learning, fused as in online.template.h. */
static void FM_T(split_online)(FM_T(share) *t)
{
    const FM_T(run) *r = t->r;
    const fm_epoch *ep = r->ep;
    const ptrdiff_t L = r->L, *sizes = r->sizes;
    REAL *A[FM_MAX_LAYERS + 1], *A_next[FM_MAX_LAYERS + 1], *const *D = r->lay.D;
    for (ptrdiff_t l = 1; l <= L; l++) A[l] = r->lay.A[l], A_next[l] = r->lay.A_next[l];
    const REAL *x = r->csr ? NULL : r->X + fm_row(ep->order, r->start) * ep->ldx;
    for (ptrdiff_t l = 1; l <= L; l++) {
        FM_T(share_forward)(t, l, 1, r->start, l > 1 ? (const REAL *const *)&A[l - 1] : &x, A[l]);
        if (l < L) FM_T(share_wait)(t);
    }
    FM_T(share_finish_output)(t, 1, A[L]);
    for (ptrdiff_t i = r->start; i < r->end; i++) {
        const REAL *y = r->Y + fm_row(ep->order, i) * ep->ldy;
        const int has_next = i + 1 < r->end;
        const REAL *x_next = has_next && !r->csr ? r->X + fm_row(ep->order, i + 1) * ep->ldx : NULL;
        if (!FM_T(share_errors)(t, 1, i, i, A, y, ep->ldy)) return;
        for (ptrdiff_t l = 1; l <= L; l++) {
            const ptrdiff_t j0 = t->lo[l], j1 = t->hi[l];
            const int act = l == L ? t->out_act : FM_SIGMOID;
            if (l == 1 && r->csr) {
                FM_T(sgd_step)(j1 - j0, r->lr, 0, r->mu, D[1] + j0, r->p.b[0] + j0,
                               r->p.vb[0] ? r->p.vb[0] + j0 : NULL);
                const ptrdiff_t end = FM_T(end_in)(&t->first, j0, j1);
                FM_T(csr_update)(&t->first, r->csr, ep->order, i, 1, j0, end, D[1], r->lr,
                                 r->decay, r->mu);
                if (has_next && j1 > j0)
                    FM_T(csr_forward)(&t->first, r->csr, ep->order, i + 1, 1, j0, end, r->p.b[0],
                                      act, A_next[1], sizes[1]);
            } else if (j1 > j0) {
                FM_T(update_and_forward)(sizes[l - 1], j0, j1, act, D[l], l > 1 ? A[l - 1] : x,
                                         has_next ? (l > 1 ? A_next[l - 1] : x_next) : NULL,
                                         r->p.W[l - 1], r->p.vW[l - 1], r->p.b[l - 1],
                                         r->p.vb[l - 1], r->lr, r->decay, r->mu, A_next[l]);
            }
            if (has_next && l < L) FM_T(share_wait)(t);
        }
        for (ptrdiff_t l = 1; l <= L; l++) {
            REAL *swap = A[l];
            A[l] = A_next[l], A_next[l] = swap;
        }
        if (has_next) FM_T(share_finish_output)(t, 1, A[L]);
        x = x_next;
        if (!FM_T(share_step_done)(t)) return;
    }
}

static void FM_T(split_task)(void *arg, int slot, int n_slots)
{
    FM_T(split_job) *job = arg;
    FM_T(share) t;
    FM_T(share_start)(&t, job, slot, n_slots);
    if (job->r->ep->batch == 1) FM_T(split_online)(&t);
    else FM_T(split_batches)(&t);
    if (slot == 0) job->r->first.s = t.first.s;
}

/* Threads worth splitting the steps of this run among: one step's multiply-adds (the
   first layer's in proportion to its nonzero inputs), counted at float64's rate (float32
   does twice as many per instruction), against fm_split_threads. */
static int FM_T(split_threads)(const FM_T(run) *r)
{
    if (r->ep->batch > FM_FEW_ROWS) return 1;
    double flops = 0;
    for (ptrdiff_t l = 1; l <= r->L; l++) {
        double weights = (double)r->sizes[l - 1] * (double)r->sizes[l];
        if (l == 1 && r->csr && r->ep->n > 0)
            weights *= (double)r->csr->nnz / ((double)r->ep->n * (double)r->sizes[0]);
        flops += 6 * weights * (double)r->ep->batch; /* forward, error back, update */
    }
    return fm_split_threads(flops * (double)sizeof(REAL) / 8, r->csr != NULL, r->ep->batch == 1);
}

/* The run's steps on `threads` threads (fewer when the pool has fewer). */
static int FM_T(train_split)(FM_T(run) *r, int threads, fm_epoch_result *result)
{
    FM_T(split_job) job = {.r = r, .result = result, .failed = 0, .alone = 0,
                           .started = fm_seconds(), .waited = 0};
    fm_barrier_init(&job.barrier);
    size_t widest = 0;
    for (ptrdiff_t l = 1; l <= r->L; l++)
        widest = (size_t)r->sizes[l] > widest ? (size_t)r->sizes[l] : widest;
    const size_t scratch = (FM_T(split_targets)(r) + widest) * sizeof(REAL);
    const int status = fm_parallel_run(threads, scratch, FM_T(split_task), &job);
    if (job.alone) fm_pool_contended();
    return status;
}
