/**
 * tiny_superslab.c - the Tiny SuperSlab pool.
 *
 * Locks: g_tiny_pool[c].lock guards class c's partial list and every field of the
 * slabs assigned to class c.  Slabs come from the shared pool (ss_shared_pool.h)
 * and go back to it when their last block comes back.  Order: class locks
 * (ascending), then the pool lock, then the registry lock.
 *
 * Owned slabs: a thread carves class c from one slab of its own (t_tiny_owned[c],
 * SLAB_OWNED), which is on no list while owned, so the blocks - their state bytes
 * and link words - that one thread hands out are not interleaved with another
 * thread's in the same cache lines.  Blocks freed back to an owned slab wait there
 * for its owner (even all of them: an owned slab stays with its thread); a slab
 * with no room left is let go, and the next flush that gives it room lists it as
 * partial again.  A thread lets its slabs go at exit.
 *
 * Invariant (per class, DEBUG): a slab is on the partial list iff it has room
 * (freelist non-empty or carved < capacity) and no thread owns it; a slab of the
 * class that no thread owns has used > 0.
 */
#include "tiny_superslab.h"
#include "ss_shared_pool.h"
#include "hak_life.h"
#include "hak_lock.h"
#include "hak_stats.h"

#define SLAB_ON_PARTIAL 1u
#define SLAB_OWNED      2u

static HAK_TLS hak_slab_meta *t_tiny_owned[TINY_NUM_CLASSES];   /* owner thread */

typedef struct tiny_class_pool {
    hak_lock_t lock;
    hak_slab_meta *partial;            /* slabs of this class with room */
} tiny_class_pool;

static tiny_class_pool g_tiny_pool[TINY_NUM_CLASSES] = {
    [0 ... TINY_NUM_CLASSES - 1] = { .lock = HAK_LOCK_INITIALIZER },
};

static void tiny_pool_lock_all(void) {
    for (unsigned c = 0; c < TINY_NUM_CLASSES; c++) hak_lock(&g_tiny_pool[c].lock);
}
static void tiny_pool_unlock_all(void) {
    for (unsigned c = TINY_NUM_CLASSES; c-- > 0;) hak_unlock(&g_tiny_pool[c].lock);
}

/* Let go of the calling thread's slab of class c; returns it if its blocks are all
 * back (the caller gives it to the shared pool, after the lock).  Class lock held. */
static hak_slab_meta *own_release(tiny_class_pool *pool, unsigned c) {
    hak_slab_meta *m = t_tiny_owned[c];
    t_tiny_owned[c] = NULL;
    m->list_flags &= ~SLAB_OWNED;
    if (m->used == 0) { m->next = NULL; return m; }
    if (hak_slab_has_room(m)) hak_slab_list_push(&pool->partial, m, SLAB_ON_PARTIAL);
    return NULL;
}

unsigned hak_tiny_backend_refill(unsigned c, void ***tail, unsigned max) {
    tiny_class_pool *pool = &g_tiny_pool[c];
    int may_own = t_hak_thread_state != HAK_THREAD_DEAD;   /* no exit hook after death */
    unsigned n = 0;
    hak_lock(&pool->lock);
    /* blocks that came back first (the owned slab's, the partial slabs'), then carving */
    n = hak_slab_take_returned(t_tiny_owned[c], &pool->partial, SLAB_ON_PARTIAL, tail, max);
    while (n < max) {
        hak_slab_meta *m = t_tiny_owned[c];
        if (!m) {
            m = pool->partial;
            if (m) hak_slab_list_remove(&pool->partial, m, SLAB_ON_PARTIAL);
            else if (!(m = hak_shared_pool_take(HAK_TAG_TINY | c))) break;
            if (may_own) {
                m->list_flags |= SLAB_OWNED;
                t_tiny_owned[c] = m;
            }
        }
        n += hak_slab_take(m, tail, max - n);
        hak_assert_expensive((hak_slab_check(m), 1));
        if (m == t_tiny_owned[c]) {
            if (!hak_slab_has_room(m)) (void)own_release(pool, c);   /* full: let it go */
        } else if (hak_slab_has_room(m)) {
            hak_slab_list_push(&pool->partial, m, SLAB_ON_PARTIAL);
        }
    }
    hak_unlock(&pool->lock);
    return n;
}

/* One class lock round trip for the chain; slabs it empties leave the class and
 * go to the shared pool after the lock is dropped. */
void hak_tiny_backend_free_chain(unsigned c, void *head, unsigned n) {
    tiny_class_pool *pool = &g_tiny_pool[c];
    hak_slab_meta *emptied = NULL;
    (void)n;
    hak_lock(&pool->lock);
    while (head) {
        void *next = *(void **)head;
        hak_slab_meta *m = hak_meta_from_ptr(head);
        hak_assert(m->tag == (HAK_TAG_TINY | c));
        hak_slab_give(m, head);
        if (m->list_flags & SLAB_OWNED) {
            /* its owner carves it; it holds the slab even when all blocks are back */
        } else if (m->used == 0) {
            if (m->list_flags & SLAB_ON_PARTIAL)
                hak_slab_list_remove(&pool->partial, m, SLAB_ON_PARTIAL);
            m->next = emptied;
            emptied = m;
        } else if (!(m->list_flags & SLAB_ON_PARTIAL)) {
            hak_slab_list_push(&pool->partial, m, SLAB_ON_PARTIAL);
        }
        head = next;
    }
    hak_unlock(&pool->lock);
    hak_shared_pool_put_list(emptied);
}

/* Thread exit (after the Tiny front flushed its bins): let the owned slabs go. */
static void tiny_pool_thread_exit(void) {
    for (unsigned c = 0; c < TINY_NUM_CLASSES; c++) {
        if (!t_tiny_owned[c]) continue;
        hak_lock(&g_tiny_pool[c].lock);
        hak_slab_meta *m = own_release(&g_tiny_pool[c], c);
        hak_unlock(&g_tiny_pool[c].lock);
        hak_shared_pool_put_list(m);
    }
}

const hak_layer hak_tiny_pool_layer = {
    .name = "tiny pool",
    .thread_exit = tiny_pool_thread_exit,
    .fork_prepare = tiny_pool_lock_all,
    .fork_parent = tiny_pool_unlock_all,
    .fork_child = tiny_pool_unlock_all,
};
