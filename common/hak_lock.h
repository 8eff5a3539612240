/**
 * hak_lock.h - the lock every hakmem slow path uses.
 *
 * A pthread mutex: it never allocates, sanitizers understand it, and
 * pthread_atfork handlers can hold all of them across fork() (hak_life.c).
 * glibc's adaptive kind: a thread that finds the lock held spins a little (glibc's
 * tunable glibc.pthread.mutex_spin_count, 100 tries by default) before it sleeps
 * in the kernel.  The sections it guards are short, and a producer and a consumer
 * take one class's lock in turn: with a plain mutex a contended handover is a
 * futex wait and a wake (a Mid producer/consumer's perf: 8% of the samples in
 * pthread_mutex_lock / unlock, 5.6% in the futex wait and wake paths).
 * Adaptive, 7-9 interleaved reps, paired: producer/consumer 1025-65536 B 1.50x,
 * 16-1024 B 1.06x, xthread 1.09x; the 2-thread churns level.  The library is
 * built with _GNU_SOURCE (Makefile) for the initializer.
 */
#ifndef HAK_LOCK_H
#define HAK_LOCK_H

#include <pthread.h>

typedef pthread_mutex_t hak_lock_t;
#if defined(PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP)
#define HAK_LOCK_INITIALIZER PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP
#elif defined(__GLIBC__) && defined(HAKMEM_PHASE)
#error "hak_lock.h: compile the library with -D_GNU_SOURCE (glibc's adaptive mutex)"
#else
#define HAK_LOCK_INITIALIZER PTHREAD_MUTEX_INITIALIZER
#endif

static inline void hak_lock(hak_lock_t *l)   { pthread_mutex_lock(l); }
static inline void hak_unlock(hak_lock_t *l) { pthread_mutex_unlock(l); }

#endif /* HAK_LOCK_H */
