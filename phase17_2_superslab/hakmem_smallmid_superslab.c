/**
 * hakmem_smallmid_superslab.c - Phase 17-2 Small-Mid SuperSlab backend.
 *
 * Lock order: a class's SmallMidSSHead lock, then the registry lock.
 */
#include "hakmem_smallmid_superslab.h"
#include "hak_life.h"
#include "hak_stats.h"

#define SLAB_ON_REUSE 1u
#define SLAB_OWNED    2u

/* The slab each thread bump-allocates class c from (issue 11: owned slabs, so two
 * threads do not carve blocks whose state bytes share a cache line).  Marked
 * SLAB_OWNED so that reclaim leaves its SuperSlab alone; let go at thread exit. */
static HAK_TLS SmallMidSlabMeta *t_smallmid_bump[SMALLMID_NUM_CLASSES];

static SmallMidSSHead g_smallmid_ss[SMALLMID_NUM_CLASSES] = {
    { .lock = HAK_LOCK_INITIALIZER }, { .lock = HAK_LOCK_INITIALIZER },
    { .lock = HAK_LOCK_INITIALIZER },
};

/* A new SuperSlab for one class: mmap(1 MiB) and registration (common).  Every page of it is
 * first touched by the refills that carve it - the page faults of the seed's perf. */
static SmallMidSuperSlab *smallmid_superslab_new(unsigned c, SmallMidSSHead *head) {
    SmallMidSuperSlab *ss = hak_superslab_new(SS_POOL_SMALLMID);
    if (!ss) return NULL;
    ss->next = head->all;                  /* newest first */
    ss->prev = NULL;
    if (head->all) head->all->prev = ss;
    head->all = ss;
    HAK_STAT_SLOW_ADD(smallmid[c].superslabs, 1);
    return ss;
}

/* The slab to bump-allocate from: the thread's own while it has blocks to carve,
 * else the current SuperSlab's next slab, else a brand-new SuperSlab.  Lock held. */
static SmallMidSlabMeta *smallmid_bump_slab(unsigned c, SmallMidSSHead *head) {
    SmallMidSlabMeta *m = t_smallmid_bump[c];
    if (m && m->carved < m->capacity) return m;
    if (m) m->list_flags &= ~SLAB_OWNED;                 /* carved out: let it go */
    t_smallmid_bump[c] = NULL;
    SmallMidSuperSlab *ss = head->current;
    if (!ss || ss->nassigned == SLABS_PER_SS) {
        ss = smallmid_superslab_new(c, head);
        if (!ss) return NULL;
        head->current = ss;
    }
    m = &ss->slabs[ss->nassigned++];
    hak_slab_assign(m, HAK_TAG_SMALLMID | c);
    if (t_hak_thread_state != HAK_THREAD_DEAD) {         /* no exit hook after death */
        m->list_flags |= SLAB_OWNED;
        t_smallmid_bump[c] = m;
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
        if (!m->freelist) hak_slab_list_remove(&head->reuse, m, SLAB_ON_REUSE);
        hak_assert_expensive((hak_slab_check(m), 1));
    }
    /* 2. Bump allocation, 3. a new SuperSlab when the class is exhausted. */
    while (n < batch_max) {
        SmallMidSlabMeta *m = smallmid_bump_slab(c, head);
        if (!m) break;
        n += (int)hak_slab_take(m, &tail, (unsigned)(batch_max - n));
        hak_assert_expensive((hak_slab_check(m), 1));
    }
    hak_unlock(&head->lock);
    *tail = NULL;
    for (int i = 0; i < n; i++) {
        batch[i] = chain;
        chain = *(void **)chain;
    }
    return n;
}

void hak_smallmid_superslab_free_chain(void *p) {
    while (p) {
        void *next = *(void **)p;
        SmallMidSlabMeta *m = hak_meta_from_ptr(p);
        unsigned c = m->tag & HAK_TAG_CLASS_MASK;
        SmallMidSSHead *head = &g_smallmid_ss[c];
        hak_lock(&head->lock);
        if (!(m->list_flags & SLAB_ON_REUSE)) hak_slab_list_push(&head->reuse, m, SLAB_ON_REUSE);
        hak_slab_give(m, p);
        hak_unlock(&head->lock);
        p = next;
    }
}

static unsigned smallmid_superslab_reclaim(void) {
    unsigned released = 0;
    for (unsigned c = 0; c < SMALLMID_NUM_CLASSES; c++) {
        SmallMidSSHead *head = &g_smallmid_ss[c];
        hak_lock(&head->lock);
        SmallMidSuperSlab *ss = head->all;
        while (ss) {
            SmallMidSuperSlab *next = ss->next;
            unsigned busy = 0;      /* a block out, or a thread carves a slab of it */
            for (unsigned i = 0; i < ss->nassigned; i++)
                busy |= ss->slabs[i].used | (ss->slabs[i].list_flags & SLAB_OWNED);
            if (!busy) {
                for (unsigned i = 0; i < ss->nassigned; i++)
                    if (ss->slabs[i].list_flags & SLAB_ON_REUSE)
                        hak_slab_list_remove(&head->reuse, &ss->slabs[i], SLAB_ON_REUSE);
                if (ss->prev) ss->prev->next = next; else head->all = next;
                if (next) next->prev = ss->prev;
                if (head->current == ss) head->current = NULL;
                hak_superslab_release(ss);
                released++;
            }
            ss = next;
        }
        hak_unlock(&head->lock);
    }
    return released;
}

static void smallmid_superslab_lock_all(void) {
    for (unsigned c = 0; c < SMALLMID_NUM_CLASSES; c++) hak_lock(&g_smallmid_ss[c].lock);
}
static void smallmid_superslab_unlock_all(void) {
    for (unsigned c = SMALLMID_NUM_CLASSES; c-- > 0;) hak_unlock(&g_smallmid_ss[c].lock);
}

/* Thread exit: let the bump slabs go. */
static void smallmid_superslab_thread_exit(void) {
    for (unsigned c = 0; c < SMALLMID_NUM_CLASSES; c++) {
        if (!t_smallmid_bump[c]) continue;
        hak_lock(&g_smallmid_ss[c].lock);
        t_smallmid_bump[c]->list_flags &= ~SLAB_OWNED;
        t_smallmid_bump[c] = NULL;
        hak_unlock(&g_smallmid_ss[c].lock);
    }
}

const hak_layer hak_smallmid_superslab_layer = {
    .name = "smallmid superslab",
    .thread_exit = smallmid_superslab_thread_exit,
    .reclaim = smallmid_superslab_reclaim,
    .fork_prepare = smallmid_superslab_lock_all,
    .fork_parent = smallmid_superslab_unlock_all,
    .fork_child = smallmid_superslab_unlock_all,
};
