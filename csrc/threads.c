/*
 * threads.c: a small fork-safe thread pool (see threads.h).
 *
 * Workers wait for a new generation number, run their slot of the job, and count down
 * `pending`.  Both sides spin briefly before sleeping on a condition variable, because
 * a training step starts many short parallel products in a row; the spin is short and
 * gives the core away between rounds, so that a waiter never burns the time slice the
 * thread it waits for (or another process) needs.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "fastmlp.h"
#include "threads.h"

#if defined(__x86_64__) || defined(__i386__)
#define CPU_RELAX() __builtin_ia32_pause()
#else
#define CPU_RELAX() ((void)0)
#endif
/* A wait spins SPIN_ROUNDS rounds of SPIN_PAUSES pause instructions, with sched_yield()
   after each round, then sleeps.  256 pauses take 2,500 to 36,000 cycles (a pause costs
   10 to 140 cycles depending on the CPU), about 1 to 12 microseconds: enough to catch the
   next of a training step's products without a trip through the kernel's sleep and wake. */
#define SPIN_ROUNDS 8
#define SPIN_PAUSES 32
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
/* After a run of split steps found a partner thread descheduled (another process wants
   the cores), this many runs go on one thread before splitting is tried again. */
#define SPLIT_BACKOFF_RUNS 16
/* Mini-batches of more than one sample: the sweep's warmed-up epochs gained (W1 dense
   1.54x float64, 1.27x float32), but the bench's one-epoch rows, A/B against one thread,
   lost (W1 dense float32 2.08x the time, W1 beside a CPU-bound process 1.8x-2.1x), while
   online learning gained there too (W2 dense float32 0.65x the time).  Until that is
   understood, mini-batches split only from 100x the work. */
#define MINI_BATCH_FACTOR 100
/* A barrier wait this long means a descheduled partner: a time slice of the scheduler is
   milliseconds, while timer interrupts and uneven shares cost microseconds. */
#define LONG_WAIT_SECONDS 2e-4

static struct {
    pthread_mutex_t run_lock; /* one parallel region at a time */
    pthread_mutex_t lock;     /* guards sleeping and waking */
    pthread_cond_t wake, done;
    atomic_ulong generation;
    atomic_int pending;
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
    atomic_store(&pool.pending, 0);
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

int fm_threads_for(double flops, ptrdiff_t units)
{
    double by_work = flops / MIN_FLOPS_PER_THREAD;
    int n = fm_get_num_threads();
    if (by_work < n) n = by_work < 1 ? 1 : (int)by_work;
    if (units < n) n = units < 1 ? 1 : (int)units;
    return n;
}

/* Per thread and per step (float64 flops).  In bench/split_threshold.py's sweep (2 cores,
   AMD Zen 5), dense steps of 1.85e4 or more per thread ran 1.23x to 2.2x faster on 2 threads
   than on 1, and steps of 1.42e4 or less ran slower.  fm_set_split_min_flops of
   fastmlp_testing.h lets the tests lower it. */
double fm_split_min_flops = SPLIT_MIN_FLOPS;

/* Runs still to start on one thread after a run found its threads descheduled. */
static atomic_int runs_on_one_thread;

int fm_split_threads(double flops, int compressed, int online)
{
    int n = fm_get_num_threads();
    double by_work = flops / (fm_split_min_flops * (compressed ? COMPRESSED_FACTOR : 1)
                              * (online ? 1 : MINI_BATCH_FACTOR));
    if (n > 1 && by_work >= 2 && atomic_load(&runs_on_one_thread) > 0) {
        atomic_fetch_sub(&runs_on_one_thread, 1);
        return 1;
    }
    return by_work < n ? (by_work < 2 ? 1 : (int)by_work) : n;
}

void fm_split_contended(void) { atomic_store(&runs_on_one_thread, SPLIT_BACKOFF_RUNS); }

void *fm_thread_scratch(int slot) { return pool.scratch[slot]; }

/* The two things a thread waits for: a job after generation *seen, all slots done. */
static int job_after(const void *seen) { return atomic_load(&pool.generation) != *(const unsigned long *)seen; }
static int slots_done(const void *unused) { return (void)unused, atomic_load(&pool.pending) == 0; }

/* Return once ready(arg) holds: spin a few microseconds, yielding the core between rounds
   of pauses, then sleep on `cond` (signalled under pool.lock when ready may hold). */
static void wait_for(int (*ready)(const void *), const void *arg, pthread_cond_t *cond)
{
    for (int round = 0; round < SPIN_ROUNDS; round++) {
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
   a partner has lost its core, which sched_yield offers back.  Returns 1 when the wait
   took longer than LONG_WAIT_SECONDS (a partner was descheduled), else 0. */
static double seconds_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}

int fm_barrier_wait(fm_barrier *b, int n_slots)
{
    const unsigned round = atomic_load(&b->round);
    if (atomic_fetch_add(&b->arrived, 1) == n_slots - 1) {
        atomic_store(&b->arrived, 0);
        atomic_store(&b->round, round + 1);
        return 0;
    }
    double yielding_since = 0;
    for (;;) {
        for (int i = 0; i < SPIN_PAUSES * SPIN_ROUNDS; i++) {
            if (atomic_load(&b->round) != round)
                return yielding_since > 0 && seconds_now() - yielding_since > LONG_WAIT_SECONDS;
            CPU_RELAX();
        }
        if (yielding_since == 0) yielding_since = seconds_now();
        sched_yield();
    }
}

static void *worker_main(void *arg)
{
    int slot = (int)(intptr_t)arg;
    unsigned long seen = pool.start_generation[slot];
    for (;;) {
        wait_for(job_after, &seen, &pool.wake);
        seen = atomic_load(&pool.generation);
        if (slot < pool.n_slots) pool.fn(pool.arg, slot, pool.n_slots);
        if (atomic_fetch_sub(&pool.pending, 1) == 1) {
            pthread_mutex_lock(&pool.lock);
            pthread_cond_signal(&pool.done);
            pthread_mutex_unlock(&pool.lock);
        }
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

int fm_parallel_run(int n, size_t scratch_bytes, void (*fn)(void *, int, int), void *arg)
{
    pthread_once(&atfork_once, register_atfork);
    pthread_mutex_lock(&pool.run_lock);
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
            n = s;
            break;
        }
    }
    if (n == 0) {
        pthread_mutex_unlock(&pool.run_lock);
        return FM_ERR_NOMEM;
    }
    if (n > 1) n = start_workers(n);
    if (n == 1) {
        fn(arg, 0, 1);
        pthread_mutex_unlock(&pool.run_lock);
        return FM_OK;
    }
    pool.fn = fn;
    pool.arg = arg;
    pool.n_slots = n;
    atomic_store(&pool.pending, pool.n_workers);
    pthread_mutex_lock(&pool.lock);
    atomic_fetch_add(&pool.generation, 1);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);

    fn(arg, 0, n);

    wait_for(slots_done, NULL, &pool.done);
    pthread_mutex_unlock(&pool.run_lock);
    return FM_OK;
}
