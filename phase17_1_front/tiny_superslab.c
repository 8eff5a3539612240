/**
 * tiny_superslab.c - the Tiny SuperSlab pool.
 *
 * Locks: g_tiny_pool[c].lock guards class c's partial list and every field of the
 * slabs assigned to class c.  g_ss_lock guards the SuperSlab list, the current
 * SuperSlab (the only one with unassigned slabs: slabs are handed out in order) and
 * nassigned.  Order: class locks (ascending), then g_ss_lock, then the registry lock.
 *
 * Owned slabs: a thread carves class c from one slab of its own (t_tiny_owned[c],
 * SLAB_OWNED), which is on no list while owned, so the blocks - their state bytes
 * and link words - that one thread hands out are not interleaved with another
 * thread's in the same cache lines.  Blocks freed back to an owned slab wait there
 * for its owner; a slab with no room left is let go, and the next flush that gives
 * it room lists it as partial again.  A thread lets its slabs go at exit.
 *
 * Invariant (per class, DEBUG): a slab is on the partial list iff it has room
 * (freelist non-empty or carved < capacity) and no thread owns it.
 */
#include "tiny_superslab.h"
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
static hak_lock_t g_ss_lock = HAK_LOCK_INITIALIZER;
static hak_superslab *g_ss_all;         /* every Tiny SuperSlab             */
static hak_superslab *g_ss_current;     /* the one with unassigned slabs    */

static void tiny_pool_lock_all(void) {
    for (unsigned c = 0; c < TINY_NUM_CLASSES; c++) hak_lock(&g_tiny_pool[c].lock);
    hak_lock(&g_ss_lock);
}
static void tiny_pool_unlock_all(void) {
    hak_unlock(&g_ss_lock);
    for (unsigned c = TINY_NUM_CLASSES; c-- > 0;) hak_unlock(&g_tiny_pool[c].lock);
}

/* A fresh slab for class c from a SuperSlab with room, mapping one if needed. */
static hak_slab_meta *ss_assign_slab(unsigned c) {
    hak_lock(&g_ss_lock);
    hak_superslab *ss = g_ss_current;
    if (!ss) {
        ss = hak_superslab_new(SS_POOL_TINY);
        if (!ss) { hak_unlock(&g_ss_lock); return NULL; }
        HAK_STAT_SLOW_ADD(tiny[c].superslabs, 1);
        ss->prev = NULL;
        ss->next = g_ss_all;
        if (g_ss_all) g_ss_all->prev = ss;
        g_ss_all = ss;
        g_ss_current = ss;
    }
    hak_slab_meta *m = &ss->slabs[ss->nassigned++];       /* slabs go in order */
    hak_slab_assign(m, HAK_TAG_TINY | c);
    if (ss->nassigned == SLABS_PER_SS) g_ss_current = NULL;
    hak_unlock(&g_ss_lock);
    return m;
}

/* Let go of the calling thread's slab of class c.  Class lock held. */
static void own_release(tiny_class_pool *pool, unsigned c) {
    hak_slab_meta *m = t_tiny_owned[c];
    t_tiny_owned[c] = NULL;
    m->list_flags &= ~SLAB_OWNED;
    if (hak_slab_has_room(m)) hak_slab_list_push(&pool->partial, m, SLAB_ON_PARTIAL);
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
            else if (!(m = ss_assign_slab(c))) break;
            if (may_own) {
                m->list_flags |= SLAB_OWNED;
                t_tiny_owned[c] = m;
            }
        }
        n += hak_slab_take(m, tail, max - n);
        hak_assert_expensive((hak_slab_check(m), 1));
        if (m == t_tiny_owned[c]) {
            if (!hak_slab_has_room(m)) own_release(pool, c);     /* full: let it go */
        } else if (hak_slab_has_room(m)) {
            hak_slab_list_push(&pool->partial, m, SLAB_ON_PARTIAL);
        }
    }
    hak_unlock(&pool->lock);
    return n;
}

void hak_tiny_backend_free_chain(unsigned c, void *head, unsigned n) {
    tiny_class_pool *pool = &g_tiny_pool[c];
    (void)n;
    hak_lock(&pool->lock);
    while (head) {
        void *next = *(void **)head;
        hak_slab_meta *m = hak_meta_from_ptr(head);
        hak_assert(m->tag == (HAK_TAG_TINY | c));
        if (!(m->list_flags & (SLAB_ON_PARTIAL | SLAB_OWNED)))
            hak_slab_list_push(&pool->partial, m, SLAB_ON_PARTIAL);
        hak_slab_give(m, head);
        head = next;
    }
    hak_unlock(&pool->lock);
}

/* Memory pressure only: a SuperSlab whose assigned slabs are all empty (no block
 * in user hands or in any TLS list) leaves its classes and goes back to the OS. */
static unsigned tiny_pool_reclaim(void) {
    unsigned released = 0;
    tiny_pool_lock_all();
    hak_superslab *ss = g_ss_all;
    while (ss) {
        hak_superslab *next = ss->next;
        unsigned busy = 0;          /* a block out, or a thread owns a slab */
        for (unsigned i = 0; i < ss->nassigned; i++)
            busy |= ss->slabs[i].used | (ss->slabs[i].list_flags & SLAB_OWNED);
        if (!busy) {
            for (unsigned i = 0; i < ss->nassigned; i++) {
                hak_slab_meta *m = &ss->slabs[i];
                tiny_class_pool *pool = &g_tiny_pool[m->tag & HAK_TAG_CLASS_MASK];
                if (m->list_flags & SLAB_ON_PARTIAL)
                    hak_slab_list_remove(&pool->partial, m, SLAB_ON_PARTIAL);
            }
            if (ss->prev) ss->prev->next = next; else g_ss_all = next;
            if (next) next->prev = ss->prev;
            if (g_ss_current == ss) g_ss_current = NULL;
            hak_superslab_release(ss);
            released++;
        }
        ss = next;
    }
    tiny_pool_unlock_all();
    return released;
}

/* Thread exit (after the Tiny front flushed its bins): let the owned slabs go. */
static void tiny_pool_thread_exit(void) {
    for (unsigned c = 0; c < TINY_NUM_CLASSES; c++) {
        if (!t_tiny_owned[c]) continue;
        hak_lock(&g_tiny_pool[c].lock);
        own_release(&g_tiny_pool[c], c);
        hak_unlock(&g_tiny_pool[c].lock);
    }
}

const hak_layer hak_tiny_pool_layer = {
    .name = "tiny pool",
    .thread_exit = tiny_pool_thread_exit,
    .reclaim = tiny_pool_reclaim,
    .fork_prepare = tiny_pool_lock_all,
    .fork_parent = tiny_pool_unlock_all,
    .fork_child = tiny_pool_unlock_all,
};
