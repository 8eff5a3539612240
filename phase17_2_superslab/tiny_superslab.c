/**
 * tiny_superslab.c - the Tiny SuperSlab pool.
 *
 * Locks: g_tiny_pool[c].lock guards class c's partial list and every field of the
 * slabs assigned to class c.  g_ss_lock guards the list of SuperSlabs that still
 * have unassigned slabs and their nassigned counts.  Order: class lock, then
 * g_ss_lock, then the registry lock.
 *
 * Invariant (per class, DEBUG): a slab is on the partial list iff it has room
 * (freelist non-empty or carved < capacity).
 */
#include "tiny_superslab.h"
#include "hak_lock.h"
#include "hak_os.h"
#include "hak_registry.h"
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
static hak_lock_t g_ss_lock = HAK_LOCK_INITIALIZER;
static hak_superslab *g_ss_avail;       /* SuperSlabs with unassigned slabs */

static hak_superslab *ss_map_new(void) {
    hak_superslab *ss = hak_os_map(SS_SIZE, SS_SIZE, HAK_OS_SUPERSLAB);
    if (!ss) return NULL;
    ss->magic = HAK_SS_MAGIC;
    ss->pool = SS_POOL_TINY;
    for (unsigned i = 0; i < SLABS_PER_SS; i++) ss->slabs[i].idx = i;
    if (hak_registry_set((uintptr_t)ss, SS_SIZE, ss, HAK_REG_SMALL) != 0) {
        hak_os_unmap(ss, SS_SIZE, HAK_OS_SUPERSLAB);
        return NULL;
    }
    return ss;
}

/* A fresh slab for class c from a SuperSlab with room, mapping one if needed. */
static hak_slab_meta *ss_assign_slab(unsigned c) {
    hak_lock(&g_ss_lock);
    hak_superslab *ss = g_ss_avail;
    if (!ss) {
        ss = ss_map_new();
        if (!ss) { hak_unlock(&g_ss_lock); return NULL; }
        HAK_STAT_SLOW_ADD(tiny[c].superslabs, 1);
        ss->next = NULL;
        g_ss_avail = ss;
    }
    hak_slab_meta *m = &ss->slabs[ss->nassigned++];       /* slabs go in order */
    hak_slab_assign(m, HAK_TAG_TINY | c, c + TINY_MIN_SHIFT);
    if (ss->nassigned == SLABS_PER_SS) g_ss_avail = ss->next;
    hak_unlock(&g_ss_lock);
    return m;
}

unsigned tiny_backend_refill(unsigned c, void ***tail, unsigned max) {
    tiny_class_pool *pool = &g_tiny_pool[c];
    unsigned n = 0;
    hak_lock(&pool->lock);
    while (n < max) {
        hak_slab_meta *m = pool->partial;
        if (!m) {
            m = ss_assign_slab(c);
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

void tiny_backend_free_chain(unsigned c, void *head, unsigned n) {
    tiny_class_pool *pool = &g_tiny_pool[c];
    (void)n;
    hak_lock(&pool->lock);
    while (head) {
        void *next = *(void **)head;
        hak_slab_meta *m = hak_meta_from_ptr(head);
        hak_assert(m->tag == (HAK_TAG_TINY | c));
        if (!(m->list_flags & SLAB_ON_PARTIAL))
            hak_slab_list_push(&pool->partial, m, SLAB_ON_PARTIAL);
        hak_slab_give(m, head);
        head = next;
    }
    hak_unlock(&pool->lock);
}

void tiny_pool_fork_prepare(void) {
    for (unsigned c = 0; c < TINY_NUM_CLASSES; c++) hak_lock(&g_tiny_pool[c].lock);
    hak_lock(&g_ss_lock);
}
void tiny_pool_fork_parent(void) {
    hak_unlock(&g_ss_lock);
    for (unsigned c = TINY_NUM_CLASSES; c-- > 0;) hak_unlock(&g_tiny_pool[c].lock);
}
void tiny_pool_fork_child(void) { tiny_pool_fork_parent(); }
