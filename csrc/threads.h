/*
 * threads.h: the process-wide thread pool behind the kernels (internal).
 *
 * One parallel region runs at a time (concurrent callers take turns).  The pool starts
 * its workers on first use, and survives fork(): the child forgets the parent's workers
 * and starts its own when it next needs them.
 */
#ifndef FASTMLP_THREADS_H
#define FASTMLP_THREADS_H

#include <stdatomic.h>
#include <stddef.h>

/* Bytes of per-thread scratch (the GEMM packing buffers) each slot gets at least,
   64-byte aligned. */
#define FM_SCRATCH_BYTES ((size_t)1280 * 1024)
#define FM_MAX_THREADS 64

/* Run fn(arg, slot, n) for slot = 0 .. n-1, slot 0 on the calling thread, and wait; each
   slot has at least `scratch_bytes` of scratch (the pool's buffers grow to the largest
   size asked for so far, never below FM_SCRATCH_BYTES).  Returns FM_OK, or FM_ERR_NOMEM
   when not even slot 0's scratch could be allocated (with fewer slots than asked for, n
   shrinks to those that have scratch). */
int fm_parallel_run(int n, size_t scratch_bytes, void (*fn)(void *arg, int slot, int n_slots),
                    void *arg);

/* Run fn(arg, chunk, slot) for chunk = 0 .. n_chunks-1 on up to n threads, slot 0 on the
   calling thread, and wait.  Each chunk runs once, on whichever thread claims it next
   (in order), so a thread that starts late or loses its core leaves its chunks to the
   others, and the call returns without waiting for a worker that never got to start.
   Scratch and the return value as for fm_parallel_run. */
int fm_parallel_chunks(int n, size_t scratch_bytes, ptrdiff_t n_chunks,
                       void (*fn)(void *arg, ptrdiff_t chunk, int slot), void *arg);

/* The scratch of a slot, valid inside fm_parallel_run and fm_parallel_chunks. */
void *fm_thread_scratch(int slot);

/* Slot `slot` of n_slots's share [*lo, *hi) of `extent` items, in whole units of `unit`
   items (the last share ends at extent; a share may be empty). */
static inline void fm_share(ptrdiff_t extent, ptrdiff_t unit, int slot, int n_slots,
                            ptrdiff_t *lo, ptrdiff_t *hi)
{
    const ptrdiff_t units = (extent + unit - 1) / unit;
    *lo = units * slot / n_slots * unit;
    *hi = units * (slot + 1) / n_slots * unit;
    *lo = *lo < extent ? *lo : extent;
    *hi = *hi < extent ? *hi : extent;
}

/* How many threads a job of `flops` work split into `units` pieces should use. */
int fm_threads_for(double flops, ptrdiff_t units);

/* How many threads a run of small steps should split each step's neurons among, when one
   step is `flops` of work (float64 flops; `compressed`: the first layer reads compressed
   rows; `online`: one sample per step): each step then waits at a few barriers, which
   only enough work per thread repays (measured: see threads.c). */
int fm_split_threads(double flops, int compressed, int online);
/* Seconds on a monotonic clock; sleep for some. */
double fm_seconds(void);
void fm_sleep(double seconds);
/* Tell the pool that a thread of its was descheduled while others waited for it (another
   process wants the cores): for a spell, fm_threads_for and fm_split_threads answer one
   thread, which a competing process cannot stall.  The spell doubles while such waits
   keep coming (see CONTENDED_SECONDS in threads.c). */
void fm_pool_contended(void);
/* Forget it (fm_set_split_min_flops of fastmlp_testing.h: the tests ask for splits). */
void fm_pool_forget_contention(void);
extern double fm_split_min_flops;
/* Nonzero: the workers enter no job (fm_hold_workers of fastmlp_testing.h). */
extern atomic_int fm_workers_held;
/* Above 0: the workers sleep this many seconds at each barrier of a split step
   (fm_slow_workers of fastmlp_testing.h). */
extern _Atomic double fm_workers_delay;

/* A barrier for the n_slots slots of one parallel region (the count its task is given):
   each slot's fm_barrier_wait returns once all have called it, and every write made
   before it is visible after it. */
typedef struct {
    atomic_int arrived;
    atomic_uint round;
} fm_barrier;

void fm_barrier_init(fm_barrier *b);
void fm_barrier_wait(fm_barrier *b, int n_slots);

#endif
