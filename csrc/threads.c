/*
 * threads.c: a small fork-safe thread pool (see threads.h).
 *
 * Workers wait for a new generation number, enter the job (pool.entry), run their slot
 * of it, and leave.  Both sides spin a while before sleeping on a condition variable,
 * because a training step starts many short parallel products in a row; the spin gives
 * the core away between rounds, so that a waiter never burns the time slice the thread
 * it waits for (or another process) needs.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "fastmlp.h"
#include "fastmlp_testing.h"
#include "threads.h"

#if defined(__x86_64__) || defined(__i386__)
#define CPU_RELAX() __builtin_ia32_pause()
#else
#define CPU_RELAX() ((void)0)
#endif
/* A wait spins in rounds of SPIN_PAUSES pause instructions, with sched_yield() after
   each round (which hands the core to any other thread that wants it), for SPIN_SECONDS
   before it sleeps.  A sleeping worker's CPU may halt, and in a virtual machine waking it
   costs far more than the sleep saved: measured on a 2-vCPU VM (AMD Zen 5), a 128 x 784 x
   1024 float32 product in a loop ran at 227 GFLOP/s on 2 threads with a 5 us spin, 287
   with 50 us, 303 with 200 us and 308 with 1 ms (163 on one thread). */
#define SPIN_SECONDS 2e-4
#define SPIN_PAUSES 32
/* A barrier spins this many pauses before it starts to yield. */
#define BARRIER_SPIN_PAUSES 256
#ifdef _WIN32
#define free_scratch _aligned_free /* what the compat posix_memalign's memory needs */
#else
#define free_scratch free
#endif
/* Below this much work per thread, a thread costs more to wake than it saves. */
#define MIN_FLOPS_PER_THREAD 4e6
/* The same for one small step split among threads, which waits at a few barriers (float64
   flops; measured by bench/split_threshold.py, see fm_split_min_flops). */
#define SPLIT_MIN_FLOPS 1.5e4
/* A first layer on compressed rows splits each nonzero's row of weights, not the
   nonzeros: every thread walks every nonzero, for a short share of its row.  In the sweep
   such steps gained from 1.43e5 float64 flops per thread up (1.17x to 1.44x, with one
   float32 shape at 2.4e5 still at 0.85x) and lost below 7.2e4. */
#define COMPRESSED_FACTOR 8
/* After a wait found a thread descheduled (another process wants the cores), work runs on
   one thread for a spell before several are tried again.  A retry costs a few waits of a
   scheduler's time slice, milliseconds, so a competitor that stays would cost a fifth of a
   2-thread run's speed on 50 ms spells: each wait found within CONTENDED_RECENT seconds of
   the last one doubles the spell, from CONTENDED_SECONDS up to 2^CONTENDED_DOUBLINGS times
   that (1.6 s), which keeps the retries' cost to a few percent of a one-thread run's. */
#define CONTENDED_SECONDS 0.05
#define CONTENDED_DOUBLINGS 5
#define CONTENDED_RECENT 2.0
/* Mini-batches of more than one sample split from this many times an online step's
   work.  In bench/split_threshold.py's sweep (2 cores, AMD Zen 4, with the 200 us spin),
   dense mini-batch steps gained from 1.85e5 float64 flops per thread (1.24x; 1.55x at
   7.2e5, 1.76x at 2.4e6) and were level at 9.3e4 (1.02x); with compressed inputs
   (COMPRESSED_FACTOR on top) only the smallest shape gained (1.32x at 1.43e5) and
   [784, 100, 10] lost (0.80x at 4.8e5).  (It was 100 while the pool slept after a 5 us
   spin, when the bench's one-epoch rows lost with any split of mini-batches.) */
#define MINI_BATCH_FACTOR 10
/* A wait this much longer than a chunk's work means a descheduled worker: a time slice of
   the scheduler is milliseconds, while timer interrupts and uneven shares cost
   microseconds. */
#define LONG_WAIT_SECONDS 2e-4

/* pool.entry says which job workers may enter and how many are inside it: the job's
   generation in the high bits, ENTRY_CLOSED once the caller admits no more workers, and
   the count of workers inside in the low bits.  A worker enters only the job it was woken
   for, while it is open, and reads the job (fn, arg, n_slots) only while inside; the
   caller closes the job and waits for the count to fall to zero before it returns.  So a
   worker that wakes late, after the job was closed, never touches it: a job split into
   chunks (fm_parallel_chunks) ends as soon as its chunks are done, without waiting for a
   worker that another process keeps off its core. */
#define ENTRY_COUNT_BITS 15
#define ENTRY_CLOSED (1UL << ENTRY_COUNT_BITS)
#define ENTRY_COUNT(e) ((e) & (ENTRY_CLOSED - 1))
#define ENTRY_OF(generation) ((unsigned long)(generation) << (ENTRY_COUNT_BITS + 1))
#define ENTRY_JOB(e) ((e) & ~(2 * ENTRY_CLOSED - 1))

static struct {
    pthread_mutex_t run_lock; /* one parallel region at a time */
    pthread_mutex_t lock;     /* guards sleeping and waking */
    pthread_cond_t wake, done;
    atomic_ulong generation;
    atomic_ulong entry;    /* who is inside the current job: see ENTRY_OF */
    atomic_int finished;   /* workers that ran their slot of the current job */
    void (*fn)(void *, int, int);
    void *arg;
    int n_slots;
    int n_workers; /* started; worker w runs slot w + 1 */
    unsigned long start_generation[FM_MAX_THREADS]; /* the generation a worker was born in */
    void *scratch[FM_MAX_THREADS];
    size_t scratch_bytes; /* of each scratch[s] that is not NULL */
} pool = {.run_lock = PTHREAD_MUTEX_INITIALIZER, .lock = PTHREAD_MUTEX_INITIALIZER,
          .wake = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER};

static atomic_int configured_threads; /* 0: not yet read from the environment */
static _Thread_local int local_threads; /* the calling thread's override, 0 for none */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void before_fork(void) { pthread_mutex_lock(&pool.run_lock); }
static void parent_after_fork(void) { pthread_mutex_unlock(&pool.run_lock); }

static void child_after_fork(void)
{
    /* The workers did not survive the fork: forget them.  Their scratch stays allocated
       (the child has a copy of it) and is reused by the workers the child starts. */
    pool.n_workers = 0;
    atomic_store(&pool.entry, ENTRY_OF(atomic_load(&pool.generation)) | ENTRY_CLOSED);
    pthread_mutex_init(&pool.lock, NULL);
    pthread_cond_init(&pool.wake, NULL);
    pthread_cond_init(&pool.done, NULL);
    pthread_mutex_unlock(&pool.run_lock); /* held by this thread since before_fork */
}

static void register_atfork(void) { pthread_atfork(before_fork, parent_after_fork, child_after_fork); }

static int available_cpus(void)
{
#ifdef CPU_COUNT
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int fm_get_num_threads(void)
{
    if (local_threads > 0) return local_threads;
    int n = atomic_load(&configured_threads);
    if (n > 0) return n;
    const char *env = getenv("FASTMLP_NUM_THREADS");
    n = env ? atoi(env) : 0;
    if (n <= 0) n = available_cpus();
    n = n > FM_MAX_THREADS ? FM_MAX_THREADS : n;
    atomic_store(&configured_threads, n);
    return n;
}

int fm_set_num_threads(int n)
{
    if (n < 1 || n > FM_MAX_THREADS) return FM_ERR_VALUE;
    atomic_store(&configured_threads, n);
    return FM_OK;
}

int fm_set_local_num_threads(int n)
{
    if (n < 0 || n > FM_MAX_THREADS) return FM_ERR_VALUE;
    local_threads = n;
    return FM_OK;
}

int fm_get_local_num_threads(void) { return local_threads; }

double fm_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}

/* Until when work runs on one thread (fm_pool_contended), in fm_seconds's time; when the
   last contended wait was found, and how many times the spell has doubled since the
   waits began to come within CONTENDED_RECENT of each other.  Written by whichever thread
   holds pool.run_lock or has just released it (a parallel region's caller), so the
   last-writer-wins races between them cost at most one spell's length. */
static _Atomic double one_thread_until, last_contended = -1e9;
static atomic_int contended_doublings;

void fm_pool_contended(void)
{
    const double now = fm_seconds();
    int doublings = 0;
    if (now - atomic_load(&last_contended) < CONTENDED_RECENT) {
        doublings = atomic_load(&contended_doublings) + 1;
        if (doublings > CONTENDED_DOUBLINGS) doublings = CONTENDED_DOUBLINGS;
    }
    atomic_store(&contended_doublings, doublings);
    atomic_store(&last_contended, now);
    atomic_store(&one_thread_until, now + CONTENDED_SECONDS * (double)(1 << doublings));
}

void fm_pool_forget_contention(void)
{
    atomic_store(&one_thread_until, 0.0);
    atomic_store(&last_contended, -1e9);
    atomic_store(&contended_doublings, 0);
}

static int contended(void) { return fm_seconds() < atomic_load(&one_thread_until); }

/* For the tests (fastmlp_testing.h). */
int fm_pool_on_one_thread(void) { return contended(); }

void fm_sleep(double seconds)
{
    const long nanoseconds = (long)(seconds * 1e9);
    nanosleep(&(struct timespec){.tv_sec = nanoseconds / 1000000000, .tv_nsec = nanoseconds % 1000000000}, NULL);
}

int fm_threads_for(double flops, ptrdiff_t units)
{
    double by_work = flops / MIN_FLOPS_PER_THREAD;
    int n = fm_get_num_threads();
    if (by_work < n) n = by_work < 1 ? 1 : (int)by_work;
    if (units < n) n = units < 1 ? 1 : (int)units;
    return n > 1 && contended() ? 1 : n;
}

/* Per thread and per step (float64 flops).  In bench/split_threshold.py's sweep (2 cores,
   AMD Zen 5), dense steps of 1.85e4 or more per thread ran 1.23x to 2.2x faster on 2 threads
   than on 1, and steps of 1.42e4 or less ran slower.  fm_set_split_min_flops of
   fastmlp_testing.h lets the tests lower it. */
double fm_split_min_flops = SPLIT_MIN_FLOPS;

int fm_split_threads(double flops, int compressed, int online)
{
    int n = fm_get_num_threads();
    double by_work = flops / (fm_split_min_flops * (compressed ? COMPRESSED_FACTOR : 1)
                              * (online ? 1 : MINI_BATCH_FACTOR));
    n = by_work < n ? (by_work < 2 ? 1 : (int)by_work) : n;
    return n > 1 && contended() ? 1 : n;
}

void *fm_thread_scratch(int slot) { return pool.scratch[slot]; }

/* The three things a thread waits for: a job after generation *seen; every worker slot
   of the job run; no worker left inside the job. */
static int job_after(const void *seen) { return atomic_load(&pool.generation) != *(const unsigned long *)seen; }
static int slots_done(const void *unused) { return (void)unused, atomic_load(&pool.finished) == pool.n_slots - 1; }
static int nobody_inside(const void *unused) { return (void)unused, ENTRY_COUNT(atomic_load(&pool.entry)) == 0; }

/* Return once ready(arg) holds: spin for SPIN_SECONDS, yielding the core between rounds
   of pauses, then sleep on `cond` (signalled under pool.lock when ready may hold). */
static void wait_for(int (*ready)(const void *), const void *arg, pthread_cond_t *cond)
{
    for (const double since = fm_seconds(); fm_seconds() - since < SPIN_SECONDS;) {
        for (int i = 0; i < SPIN_PAUSES; i++) {
            if (ready(arg)) return;
            CPU_RELAX();
        }
        sched_yield();
    }
    pthread_mutex_lock(&pool.lock);
    while (!ready(arg)) pthread_cond_wait(cond, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
}

void fm_barrier_init(fm_barrier *b)
{
    atomic_init(&b->arrived, 0);
    atomic_init(&b->round, 0);
}

/* The last to arrive starts the next round.  The others spin as wait_for does but never
   sleep: a barrier is passed many times a millisecond, and a slot waits long only when
   a partner has lost its core, which sched_yield offers back. */
void fm_barrier_wait(fm_barrier *b, int n_slots)
{
    const unsigned round = atomic_load(&b->round);
    if (atomic_fetch_add(&b->arrived, 1) == n_slots - 1) {
        atomic_store(&b->arrived, 0);
        atomic_store(&b->round, round + 1);
        return;
    }
    for (;;) {
        for (int i = 0; i < BARRIER_SPIN_PAUSES; i++) {
            if (atomic_load(&b->round) != round) return;
            CPU_RELAX();
        }
        sched_yield();
    }
}

static void signal_done(void)
{
    pthread_mutex_lock(&pool.lock);
    pthread_cond_broadcast(&pool.done);
    pthread_mutex_unlock(&pool.lock);
}

/* Enter job `generation` if it is still open; 1 when entered. */
static int enter_job(unsigned long generation)
{
    unsigned long e = atomic_load(&pool.entry);
    while (ENTRY_JOB(e) == ENTRY_OF(generation) && !(e & ENTRY_CLOSED))
        if (atomic_compare_exchange_weak(&pool.entry, &e, e + 1)) return 1;
    return 0;
}

static void leave_job(void)
{
    const unsigned long e = atomic_fetch_sub(&pool.entry, 1) - 1;
    if (ENTRY_COUNT(e) == 0 && (e & ENTRY_CLOSED)) signal_done();
}

atomic_int fm_workers_held;
_Atomic double fm_workers_delay;

static void *worker_main(void *arg)
{
    int slot = (int)(intptr_t)arg;
    unsigned long seen = pool.start_generation[slot];
    for (;;) {
        wait_for(job_after, &seen, &pool.wake);
        seen = atomic_load(&pool.generation);
        while (atomic_load(&fm_workers_held)) fm_sleep(1e-3);
        if (!enter_job(seen)) continue; /* closed already: the job went on without us */
        const int n_slots = pool.n_slots;
        if (slot < n_slots) {
            pool.fn(pool.arg, slot, n_slots);
            if (atomic_fetch_add(&pool.finished, 1) + 1 == n_slots - 1) signal_done();
        }
        leave_job();
    }
    return NULL;
}

/* Start workers until there are n - 1 of them; returns how many slots can run. */
static int start_workers(int n)
{
    while (pool.n_workers < n - 1) {
        pthread_t tid;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pool.start_generation[pool.n_workers + 1] = atomic_load(&pool.generation);
        int failed = pthread_create(&tid, &attr, worker_main, (void *)(intptr_t)(pool.n_workers + 1));
        pthread_attr_destroy(&attr);
        if (failed) break;
        pool.n_workers++;
    }
    return pool.n_workers + 1 < n ? pool.n_workers + 1 : n;
}

/* Scratch for n slots and workers for them; returns how many slots can run, 0 when not
   even slot 0 has scratch.  Called with pool.run_lock held. */
static int prepare_slots(int n, size_t scratch_bytes)
{
    pthread_once(&atfork_once, register_atfork);
    if (n > FM_MAX_THREADS) n = FM_MAX_THREADS;
    if (n < 1) n = 1;
    if (scratch_bytes < FM_SCRATCH_BYTES) scratch_bytes = FM_SCRATCH_BYTES;
    if (scratch_bytes > pool.scratch_bytes) { /* grow: each slot allocates anew below */
        for (int s = 0; s < FM_MAX_THREADS; s++) {
            free_scratch(pool.scratch[s]);
            pool.scratch[s] = NULL;
        }
        pool.scratch_bytes = scratch_bytes;
    }
    for (int s = 0; s < n; s++) {
        if (!pool.scratch[s] && posix_memalign(&pool.scratch[s], 64, pool.scratch_bytes) != 0) {
            pool.scratch[s] = NULL;
            return s;
        }
    }
    return n > 1 ? start_workers(n) : n;
}

/* Run fn(arg, slot, n) on slot 0 here and on the workers; with `every_slot`, return once
   each worker slot has run, else as soon as fn returns here and the workers inside the
   job have left it.  Returns the seconds spent waiting for those to leave.  Called with
   pool.run_lock held, n > 1. */
static double run_job(int n, void (*fn)(void *, int, int), void *arg, int every_slot)
{
    pool.fn = fn;
    pool.arg = arg;
    pool.n_slots = n;
    atomic_store(&pool.finished, 0);
    pthread_mutex_lock(&pool.lock);
    const unsigned long generation = atomic_load(&pool.generation) + 1;
    atomic_store(&pool.entry, ENTRY_OF(generation));
    atomic_store(&pool.generation, generation);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);

    fn(arg, 0, n);

    if (every_slot) wait_for(slots_done, NULL, &pool.done);
    if (ENTRY_COUNT(atomic_fetch_or(&pool.entry, ENTRY_CLOSED)) == 0) return 0;
    const double since = fm_seconds();
    wait_for(nobody_inside, NULL, &pool.done);
    return fm_seconds() - since;
}

int fm_parallel_run(int n, size_t scratch_bytes, void (*fn)(void *, int, int), void *arg)
{
    pthread_mutex_lock(&pool.run_lock);
    n = prepare_slots(n, scratch_bytes);
    if (n == 0) {
        pthread_mutex_unlock(&pool.run_lock);
        return FM_ERR_NOMEM;
    }
    if (n == 1) fn(arg, 0, 1);
    else (void)run_job(n, fn, arg, 1);
    pthread_mutex_unlock(&pool.run_lock);
    return FM_OK;
}

typedef struct {
    atomic_long next; /* the first chunk nobody has claimed */
    ptrdiff_t n_chunks;
    ptrdiff_t by_caller; /* chunks run by slot 0 */
    void (*fn)(void *, ptrdiff_t, int);
    void *arg;
} chunk_job;

/* Claim chunks in order until none is left. */
static void chunk_task(void *arg, int slot, int n_slots)
{
    chunk_job *job = arg;
    (void)n_slots;
    for (ptrdiff_t c; (c = atomic_fetch_add(&job->next, 1)) < job->n_chunks;) {
        job->fn(job->arg, c, slot);
        if (slot == 0) job->by_caller++; /* only the caller touches it */
    }
}

int fm_parallel_chunks(int n, size_t scratch_bytes, ptrdiff_t n_chunks,
                       void (*fn)(void *, ptrdiff_t, int), void *arg)
{
    pthread_mutex_lock(&pool.run_lock);
    n = prepare_slots(n < n_chunks ? n : (int)n_chunks, scratch_bytes);
    if (n == 0) {
        pthread_mutex_unlock(&pool.run_lock);
        return FM_ERR_NOMEM;
    }
    chunk_job job = {.n_chunks = n_chunks, .fn = fn, .arg = arg};
    atomic_init(&job.next, 0);
    if (n == 1) {
        chunk_task(&job, 0, 1);
    } else {
        /* A worker still on its last chunk when this thread has run out of them keeps it
           waiting for up to a chunk's time; much longer means it lost its core. */
        const double start = fm_seconds(), waited = run_job(n, chunk_task, &job, 0);
        const double per_chunk = (fm_seconds() - start - waited) / (double)(job.by_caller + 1);
        if (waited > LONG_WAIT_SECONDS + 2 * per_chunk) fm_pool_contended();
    }
    pthread_mutex_unlock(&pool.run_lock);
    return FM_OK;
}
