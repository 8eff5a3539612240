/**
 * hak_lock.h - the lock every hakmem slow path uses.
 *
 * A plain pthread mutex: it never allocates, sanitizers understand it, and
 * pthread_atfork handlers can hold all of them across fork() (hak_api.c).
 */
#ifndef HAK_LOCK_H
#define HAK_LOCK_H

#include <pthread.h>

typedef pthread_mutex_t hak_lock_t;
#define HAK_LOCK_INITIALIZER PTHREAD_MUTEX_INITIALIZER

static inline void hak_lock(hak_lock_t *l)   { pthread_mutex_lock(l); }
static inline void hak_unlock(hak_lock_t *l) { pthread_mutex_unlock(l); }

#endif /* HAK_LOCK_H */
