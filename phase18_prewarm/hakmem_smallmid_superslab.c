/**
 * hakmem_smallmid_superslab.c - Phase 18 Small-Mid SuperSlab backend (shared pool).
 *
 * Lock order: a class's SmallMidSSHead lock, then the shared pool lock, then the
 * registry lock.
 */
#include "hakmem_smallmid_superslab.h"
#include "ss_shared_pool.h"
#include "hak_life.h"
#include "hak_stats.h"

#define SLAB_ON_REUSE 1u
#define SLAB_OWNED    2u

/* The slab each thread bump-allocates class c from (issue 11: owned slabs, so two
 * threads do not carve blocks whose state bytes share a cache line): on no list
 * while owned, kept by its thread even when all its blocks are back, let go when
 * it has no room left or at thread exit. */
static HAK_TLS SmallMidSlabMeta *t_smallmid_current[SMALLMID_NUM_CLASSES];

static SmallMidSSHead g_smallmid_ss[SMALLMID_NUM_CLASSES] = {
    { .lock = HAK_LOCK_INITIALIZER }, { .lock = HAK_LOCK_INITIALIZER },
    { .lock = HAK_LOCK_INITIALIZER },
};

/* Let go of the calling thread's slab of class c; returns it if its blocks are all
 * back (the caller gives it to the shared pool, after the lock).  Lock held. */
static SmallMidSlabMeta *smallmid_own_release(SmallMidSSHead *head, unsigned c) {
    SmallMidSlabMeta *m = t_smallmid_current[c];
    t_smallmid_current[c] = NULL;
    m->list_flags &= ~SLAB_OWNED;
    if (m->used == 0) { m->next = NULL; return m; }
    if (hak_slab_has_room(m)) hak_slab_list_push(&head->reuse, m, SLAB_ON_REUSE);
    return NULL;
}

/* The slab to bump-allocate from: the thread's own while it has room (blocks freed
 * into it since are taken first), else a slab from the shared pool.  Lock held. */
static SmallMidSlabMeta *smallmid_bump_slab(unsigned c, SmallMidSSHead *head) {
    SmallMidSlabMeta *m = t_smallmid_current[c];
    if (m && hak_slab_has_room(m)) return m;
    if (m) (void)smallmid_own_release(head, c);          /* full: used > 0 */
    m = hak_shared_pool_take(HAK_TAG_SMALLMID | c);
    if (m && t_hak_thread_state != HAK_THREAD_DEAD) {    /* no exit hook after death */
        m->list_flags |= SLAB_OWNED;
        t_smallmid_current[c] = m;
    }
    return m;
}

int hak_smallmid_refill_batch(int class_idx, void **batch, int batch_max) {
    unsigned c = (unsigned)class_idx;
    SmallMidSSHead *head = &g_smallmid_ss[c];
    void *chain = NULL, **tail = &chain;
    int n = 0;
    hak_lock(&head->lock);
    /* 1. Freelist priority. */
    while (n < batch_max && head->reuse) {
        SmallMidSlabMeta *m = head->reuse;
        n += (int)hak_slab_take(m, &tail, (unsigned)(batch_max - n));
        if (!hak_slab_has_room(m)) hak_slab_list_remove(&head->reuse, m, SLAB_ON_REUSE);
        hak_assert_expensive((hak_slab_check(m), 1));
    }
    /* 2. Bump allocation, 3. a slab from the shared pool when the class has none. */
    while (n < batch_max) {
        SmallMidSlabMeta *m = smallmid_bump_slab(c, head);
        if (!m) break;
        n += (int)hak_slab_take(m, &tail, (unsigned)(batch_max - n));
        hak_assert_expensive((hak_slab_check(m), 1));
        /* A dead thread owns nothing: what it did not carve goes back on a list. */
        if (m != t_smallmid_current[c] && hak_slab_has_room(m) && !(m->list_flags & SLAB_ON_REUSE))
            hak_slab_list_push(&head->reuse, m, SLAB_ON_REUSE);
    }
    hak_unlock(&head->lock);
    *tail = NULL;
    for (int i = 0; i < n; i++) {
        batch[i] = chain;
        chain = *(void **)chain;
    }
    return n;
}

void hak_smallmid_superslab_free_chain(unsigned c, void *p) {
    SmallMidSSHead *head = &g_smallmid_ss[c];
    SmallMidSlabMeta *emptied = NULL;
    hak_lock(&head->lock);
    while (p) {
        void *next = *(void **)p;
        SmallMidSlabMeta *m = hak_meta_from_ptr(p);
        hak_assert(m->tag == (HAK_TAG_SMALLMID | c));
        hak_slab_give(m, p);
        if (m->list_flags & SLAB_OWNED) {
            /* its owner carves it; it holds the slab even when all blocks are back */
        } else if (m->used == 0) {                /* every block back: leave the class */
            if (m->list_flags & SLAB_ON_REUSE) hak_slab_list_remove(&head->reuse, m, SLAB_ON_REUSE);
            m->next = emptied;
            emptied = m;
        } else if (!(m->list_flags & SLAB_ON_REUSE)) {
            hak_slab_list_push(&head->reuse, m, SLAB_ON_REUSE);
        }
        p = next;
    }
    hak_unlock(&head->lock);
    hak_shared_pool_put_list(emptied);
}

static void smallmid_superslab_lock_all(void) {
    for (unsigned c = 0; c < SMALLMID_NUM_CLASSES; c++) hak_lock(&g_smallmid_ss[c].lock);
}
static void smallmid_superslab_unlock_all(void) {
    for (unsigned c = SMALLMID_NUM_CLASSES; c-- > 0;) hak_unlock(&g_smallmid_ss[c].lock);
}

/* Thread exit (after the front flushed its bins): let the owned slabs go. */
static void smallmid_superslab_thread_exit(void) {
    for (unsigned c = 0; c < SMALLMID_NUM_CLASSES; c++) {
        if (!t_smallmid_current[c]) continue;
        hak_lock(&g_smallmid_ss[c].lock);
        SmallMidSlabMeta *m = smallmid_own_release(&g_smallmid_ss[c], c);
        hak_unlock(&g_smallmid_ss[c].lock);
        hak_shared_pool_put_list(m);
    }
}

const hak_layer hak_smallmid_superslab_layer = {
    .name = "smallmid superslab",
    .thread_exit = smallmid_superslab_thread_exit,
    .fork_prepare = smallmid_superslab_lock_all,
    .fork_parent = smallmid_superslab_unlock_all,
    .fork_child = smallmid_superslab_unlock_all,
};
