/**
 * tiny_superslab.c - the Tiny SuperSlab pool.
 *
 * Locks: g_tiny_pool[c].lock guards class c's partial list and every field of the
 * slabs assigned to class c.  Slabs come from the shared pool (ss_shared_pool.h)
 * and go back to it when their last block comes back.  Order: class locks
 * (ascending), then the pool lock, then the registry lock.
 *
 * Invariant (per class, DEBUG): a slab is on the partial list iff it has room
 * (freelist non-empty or carved < capacity); a slab of the class has used > 0.
 */
#include "tiny_superslab.h"
#include "ss_shared_pool.h"
#include "hak_lock.h"
#include "hak_stats.h"

#define SLAB_ON_PARTIAL 1u

typedef struct tiny_class_pool {
    hak_lock_t lock;
    hak_slab_meta *partial;            /* slabs of this class with room */
} tiny_class_pool;

static tiny_class_pool g_tiny_pool[TINY_NUM_CLASSES] = {
#define P { .lock = HAK_LOCK_INITIALIZER }
    P, P, P, P, P, P, P, P,
#undef P
};

static void tiny_pool_lock_all(void) {
    for (unsigned c = 0; c < TINY_NUM_CLASSES; c++) hak_lock(&g_tiny_pool[c].lock);
}
static void tiny_pool_unlock_all(void) {
    for (unsigned c = TINY_NUM_CLASSES; c-- > 0;) hak_unlock(&g_tiny_pool[c].lock);
}

unsigned hak_tiny_backend_refill(unsigned c, void ***tail, unsigned max) {
    tiny_class_pool *pool = &g_tiny_pool[c];
    unsigned n = 0;
    hak_lock(&pool->lock);
    while (n < max) {
        hak_slab_meta *m = pool->partial;
        if (!m) {
            m = hak_shared_pool_take(HAK_TAG_TINY | c);
            if (!m) break;
            hak_slab_list_push(&pool->partial, m, SLAB_ON_PARTIAL);
        }
        n += hak_slab_take(m, tail, max - n);
        if (!hak_slab_has_room(m)) hak_slab_list_remove(&pool->partial, m, SLAB_ON_PARTIAL);
        hak_assert_expensive((hak_slab_check(m), 1));
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
        if (m->used == 0) {
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

const hak_layer hak_tiny_pool_layer = {
    .name = "tiny pool",
    .fork_prepare = tiny_pool_lock_all,
    .fork_parent = tiny_pool_unlock_all,
    .fork_child = tiny_pool_unlock_all,
};
