/*
 * pthread.h for Windows (internal): the part of POSIX threads that threads.c uses, on
 * Win32 slim reader/writer locks, condition variables, one-time initialisation and
 * _beginthreadex, and posix_memalign, sched_yield and sysconf.  CMakeLists.txt puts this folder on the include path on Windows only;
 * sched.h and unistd.h here include this file.
 */
#ifndef FASTMLP_WIN32_PTHREAD_H
#define FASTMLP_WIN32_PTHREAD_H

#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <errno.h>
#include <malloc.h>
#include <process.h>
#include <stdint.h>
#include <stdlib.h>

typedef SRWLOCK pthread_mutex_t;
typedef CONDITION_VARIABLE pthread_cond_t;
typedef INIT_ONCE pthread_once_t;
typedef HANDLE pthread_t;
typedef int pthread_attr_t; /* only "detached" is ever asked for: every thread is */

#define PTHREAD_MUTEX_INITIALIZER SRWLOCK_INIT
#define PTHREAD_COND_INITIALIZER CONDITION_VARIABLE_INIT
#define PTHREAD_ONCE_INIT INIT_ONCE_STATIC_INIT
#define PTHREAD_CREATE_DETACHED 1

static inline int pthread_mutex_init(pthread_mutex_t *m, const void *attr)
{
    (void)attr;
    InitializeSRWLock(m);
    return 0;
}
static inline int pthread_mutex_lock(pthread_mutex_t *m) { AcquireSRWLockExclusive(m); return 0; }
static inline int pthread_mutex_unlock(pthread_mutex_t *m) { ReleaseSRWLockExclusive(m); return 0; }

static inline int pthread_cond_init(pthread_cond_t *c, const void *attr)
{
    (void)attr;
    InitializeConditionVariable(c);
    return 0;
}
static inline int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
    return SleepConditionVariableSRW(c, m, INFINITE, 0) ? 0 : -1;
}
static inline int pthread_cond_signal(pthread_cond_t *c) { WakeConditionVariable(c); return 0; }
static inline int pthread_cond_broadcast(pthread_cond_t *c) { WakeAllConditionVariable(c); return 0; }

static BOOL CALLBACK fm_win32_once(PINIT_ONCE once, PVOID fn, PVOID *context)
{
    (void)once, (void)context;
    ((void (*)(void))fn)();
    return TRUE;
}
static inline int pthread_once(pthread_once_t *once, void (*fn)(void))
{
    return InitOnceExecuteOnce(once, fm_win32_once, (PVOID)fn, NULL) ? 0 : -1;
}

/* Windows has no fork(): nothing to prepare for one. */
static inline int pthread_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void))
{
    (void)prepare, (void)parent, (void)child;
    return 0;
}

static inline int pthread_attr_init(pthread_attr_t *a) { *a = 0; return 0; }
static inline int pthread_attr_destroy(pthread_attr_t *a) { (void)a; return 0; }
static inline int pthread_attr_setdetachstate(pthread_attr_t *a, int state) { *a = state; return 0; }

struct fm_win32_start { void *(*fn)(void *); void *arg; };

static unsigned __stdcall fm_win32_thread(void *p)
{
    struct fm_win32_start start = *(struct fm_win32_start *)p;
    free(p);
    start.fn(start.arg);
    return 0;
}
/* Starts a detached thread (the handle is closed at once). */
static inline int pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
    (void)a;
    struct fm_win32_start *start = malloc(sizeof *start);
    if (!start) return -1;
    start->fn = fn, start->arg = arg;
    uintptr_t h = _beginthreadex(NULL, 0, fm_win32_thread, start, 0, NULL);
    if (!h) {
        free(start);
        return -1;
    }
    CloseHandle((HANDLE)h);
    *t = NULL;
    return 0;
}

/* stdlib.h's aligned allocation (threads.c frees it with _aligned_free). */
static inline int posix_memalign(void **p, size_t alignment, size_t size)
{
    *p = _aligned_malloc(size, alignment);
    return *p ? 0 : ENOMEM;
}

/* sched.h's yield: let another thread that is ready to run have this core. */
static inline int sched_yield(void)
{
    SwitchToThread();
    return 0;
}

/* unistd.h's processor count. */
#define _SC_NPROCESSORS_ONLN 84
static inline long sysconf(int name)
{
    return name == _SC_NPROCESSORS_ONLN ? (long)GetActiveProcessorCount(ALL_PROCESSOR_GROUPS) : -1;
}

#endif
