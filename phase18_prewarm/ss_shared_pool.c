/**
 * ss_shared_pool.c - Phase 18 shared pool of empty slabs (ss_shared_pool.h).
 */
#include "ss_shared_pool.h"
#include "hak_lock.h"
#include "hak_options.h"
#include "hak_os.h"
#include "hak_registry.h"
#include "hak_stats.h"

#define ALL_SLABS ((uint16_t)((1u << SLABS_PER_SS) - 1))          /* 0xffff */

static hak_lock_t g_pool_lock = HAK_LOCK_INITIALIZER;
static hak_superslab *g_partial;      /* pool lock: PARTIAL SuperSlabs              */
static hak_superslab *g_warm;         /* pool lock: WARM, most recently emptied first */
static hak_superslab *g_warm_tail;    /* pool lock: the least recently emptied      */
static hak_superslab *g_cold;         /* pool lock: COLD                            */
static unsigned g_nwarm;              /* pool lock                                  */
static unsigned g_warm_budget;        /* set at init: max(HAKMEM_SS_WARM, _PREWARM) */
static int g_huge;                    /* set at init: HAKMEM_SS_HUGEPAGE=1           */

HAK_INLINE hak_pool_ss *pss(hak_superslab *ss) { return (hak_pool_ss *)ss; }

/* ---- intrusive SuperSlab lists (pool lock) -------------------------------- */

static void ss_push(hak_superslab **head, hak_superslab *ss) {
    ss->prev = NULL;
    ss->next = *head;
    if (*head) (*head)->prev = ss;
    *head = ss;
}

static void ss_remove(hak_superslab **head, hak_superslab *ss) {
    if (ss->prev) ss->prev->next = ss->next; else *head = ss->next;
    if (ss->next) ss->next->prev = ss->prev;
    ss->next = ss->prev = NULL;
}

static void warm_push(hak_superslab *ss) {
    ss_push(&g_warm, ss);
    if (!g_warm_tail) g_warm_tail = ss;
    pss(ss)->where = SS_WARM;
    g_nwarm++;
}

static void warm_remove(hak_superslab *ss) {
    if (g_warm_tail == ss) g_warm_tail = ss->prev;
    ss_remove(&g_warm, ss);
    g_nwarm--;
}

/* DEBUG builds: the invariants above hak_pool_ss, for one SuperSlab. */
static inline int pool_check(hak_superslab *ss) {
#if HAKMEM_DEBUG
    hak_pool_ss *p = pss(ss);
    unsigned nfree = (unsigned)__builtin_popcount(p->free_mask);
    hak_assert(nfree + ss->nassigned == SLABS_PER_SS);
    hak_assert((p->where == SS_FULL) == (p->free_mask == 0));
    hak_assert((p->where == SS_PARTIAL) == (nfree > 0 && nfree < SLABS_PER_SS));
    for (unsigned i = 0; i < SLABS_PER_SS; i++)
        if (p->free_mask >> i & 1) hak_assert(ss->slabs[i].tag == HAK_TAG_NONE);
#else
    (void)ss;
#endif
    return 1;
}

/* ---- mapping ------------------------------------------------------------------ */

/* Map n SuperSlabs as one region (2 MiB aligned, MADV_HUGEPAGE with huge pages on),
 * fault it in if `populate`, and register each: SuperSlab i is at the returned
 * address + i * SS_SIZE.  NULL (errno ENOMEM) with nothing left mapped. */
static char *pool_map(unsigned n, int populate) {
    size_t len = (size_t)n * SS_SIZE;
    char *base = hak_os_map(len, g_huge ? 2 * SS_SIZE : SS_SIZE, HAK_OS_SUPERSLAB);
    if (!base) return NULL;
    if (g_huge && hak_os_hugepage(base, len) == 0) HAK_STAT_SLOW_ADD(pool.ss_huge, n);
    if (populate) hak_os_populate(base, len, HAK_OS_SUPERSLAB);
    for (unsigned i = 0; i < n; i++) {
        hak_superslab *ss = hak_superslab_init(base + (size_t)i * SS_SIZE, SS_POOL_SHARED);
        if (!ss) {                              /* the registry has no memory */
            if (i) hak_registry_release((uintptr_t)base, (size_t)i * SS_SIZE);
            hak_os_unmap(base, len, HAK_OS_SUPERSLAB);
            return NULL;
        }
        pss(ss)->free_mask = ALL_SLABS;
    }
    return base;
}

/* ---- take ------------------------------------------------------------------- */

/* A SuperSlab with a free slab: PARTIAL first, then the most recently emptied WARM
 * one, then a COLD one (its pages fault in again), then a new mapping.  Pool lock
 * held; returns it PARTIAL (or about to be FULL). */
static hak_superslab *pool_source(int *mapped) {
    hak_superslab *ss = g_partial;
    *mapped = 0;
    if (ss) return ss;
    if ((ss = g_warm) != NULL) {
        warm_remove(ss);
    } else if ((ss = g_cold) != NULL) {
        ss_remove(&g_cold, ss);
    } else {
        char *base = pool_map(g_huge ? 2 : 1, 0);
        if (!base) return NULL;
        ss = (hak_superslab *)base;
        if (g_huge) warm_push((hak_superslab *)(base + SS_SIZE));   /* the pair's other half */
        *mapped = 1;
        ss_push(&g_partial, ss);
        pss(ss)->where = SS_PARTIAL;
        return ss;
    }
    HAK_STAT_SLOW_ADD(pool.ss_reused, 1);
    ss_push(&g_partial, ss);
    pss(ss)->where = SS_PARTIAL;
    return ss;
}

hak_slab_meta *hak_shared_pool_take(unsigned tag) {
    int mapped;
    hak_lock(&g_pool_lock);
    hak_superslab *ss = pool_source(&mapped);
    if (!ss) { hak_unlock(&g_pool_lock); return NULL; }
    hak_pool_ss *p = pss(ss);
    uint16_t warm = p->free_mask & p->touched_mask;
    unsigned i = (unsigned)__builtin_ctz(warm ? warm : p->free_mask);
    p->free_mask &= (uint16_t)~(1u << i);
    p->touched_mask |= (uint16_t)(1u << i);
    ss->nassigned++;
    if (p->free_mask == 0) {
        ss_remove(&g_partial, ss);
        p->where = SS_FULL;
    }
    unsigned last = p->last_tag[i];
    hak_assert_expensive(pool_check(ss));
    hak_unlock(&g_pool_lock);

    /* The slab is ours alone now: no class lists it, no block of it is out. */
    hak_slab_meta *m = &ss->slabs[i];
    hak_slab_assign(m, tag);
    HAK_STAT_SLOW_ADD(pool.slabs_taken, 1);
    if (last != HAK_TAG_NONE && last != tag) HAK_STAT_SLOW_ADD(pool.class_changes, 1);
    if (mapped) {                       /* the class that made the pool map one */
        if ((tag & HAK_TAG_KIND_MASK) == HAK_TAG_SMALLMID)
            HAK_STAT_SLOW_ADD(smallmid[tag & HAK_TAG_CLASS_MASK].superslabs, 1);
        else
            HAK_STAT_SLOW_ADD(tiny[tag & HAK_TAG_CLASS_MASK].superslabs, 1);
    }
    return m;
}

/* ---- put ------------------------------------------------------------------- */

/* Give the pages of a RELEASING SuperSlab back to the OS, keeping the header page
 * (the slab metadata and the registry's view of it stay valid), then list it COLD.
 * No lock held: nothing can reach a RELEASING SuperSlab but a stale pointer, and
 * its slabs all say HAK_TAG_NONE. */
static void pool_decommit(hak_superslab *ss) {
    hak_os_decommit((char *)ss + HAK_PAGE_SIZE, SS_SIZE - HAK_PAGE_SIZE, HAK_OS_SUPERSLAB);
    HAK_STAT_SLOW_ADD(pool.ss_decommitted, 1);
    hak_lock(&g_pool_lock);
    pss(ss)->touched_mask = 0;
    pss(ss)->where = SS_COLD;
    ss_push(&g_cold, ss);
    hak_unlock(&g_pool_lock);
}

void hak_shared_pool_put_list(hak_slab_meta *list) {
    if (!list) return;
    /* Outside the lock: every slab on the list is the caller's alone, and so is its
     * last_tag slot (take reads only the slots of free slabs). */
    unsigned n = 0;
    for (hak_slab_meta *m = list; m; m = m->next, n++) {
        hak_assert(m->used == 0 && m->list_flags == 0);
        pss(hak_ss_from_ptr(m))->last_tag[m->idx] = m->tag;
        hak_slab_reset(m);
    }
    hak_superslab *victims = NULL;
    unsigned budget = g_warm_budget;
    hak_lock(&g_pool_lock);
    for (hak_slab_meta *m = list, *next; m; m = next) {
        next = m->next;
        m->next = NULL;
        hak_superslab *ss = hak_ss_from_ptr(m);
        hak_pool_ss *p = pss(ss);
        unsigned bit = 1u << m->idx;
        hak_assert(!(p->free_mask & bit));
        if (p->where == SS_FULL) {
            ss_push(&g_partial, ss);
            p->where = SS_PARTIAL;
        }
        p->free_mask |= (uint16_t)bit;
        ss->nassigned--;
        if (p->free_mask == ALL_SLABS) {        /* every slab back: the SuperSlab goes warm */
            ss_remove(&g_partial, ss);
            warm_push(ss);
            HAK_STAT_SLOW_ADD(pool.ss_warm, 1);
            while (g_nwarm > budget) {          /* beyond the budget: the coldest goes */
                hak_superslab *v = g_warm_tail;
                warm_remove(v);
                pss(v)->where = SS_RELEASING;
                v->next = victims;
                victims = v;
            }
        }
        hak_assert_expensive(pool_check(ss));
    }
    hak_unlock(&g_pool_lock);
    HAK_STAT_SLOW_ADD(pool.slabs_put, n);
    while (victims) {
        hak_superslab *next = victims->next;
        pool_decommit(victims);
        victims = next;
    }
}

/* ---- the layer: fork and memory pressure ---------------------------------- */

/* Unmap every WARM and COLD SuperSlab (no block of theirs is out). */
static unsigned shared_pool_reclaim(void) {
    hak_superslab *victims = NULL;
    hak_lock(&g_pool_lock);
    while (g_warm) {
        hak_superslab *ss = g_warm;
        warm_remove(ss);
        ss->next = victims;
        victims = ss;
    }
    while (g_cold) {
        hak_superslab *ss = g_cold;
        ss_remove(&g_cold, ss);
        ss->next = victims;
        victims = ss;
    }
    hak_unlock(&g_pool_lock);
    unsigned n = 0;
    while (victims) {
        hak_superslab *next = victims->next;
        hak_superslab_release(victims);
        victims = next;
        n++;
    }
    HAK_STAT_SLOW_ADD(pool.ss_unmapped, n);
    return n;
}

/* Process init (under the init lock, before any allocation is routed here): the
 * options, then HAKMEM_SS_PREWARM SuperSlabs mapped, faulted in and listed WARM. */
static void shared_pool_init(void) {
    unsigned prewarm = (unsigned)hak_option(HAK_OPT_SS_PREWARM);
    unsigned warm = (unsigned)hak_option(HAK_OPT_SS_WARM);
    g_warm_budget = warm > prewarm ? warm : prewarm;
    g_huge = hak_option(HAK_OPT_SS_HUGEPAGE) == 1;
    if (!prewarm) return;
    if (g_huge) prewarm += prewarm & 1;                  /* whole pairs */
    char *base = pool_map(prewarm, 1);
    if (!base) return;                               /* no memory: start cold */
    hak_lock(&g_pool_lock);
    for (unsigned i = prewarm; i-- > 0;)             /* lowest address taken first */
        warm_push((hak_superslab *)(base + (size_t)i * SS_SIZE));
    hak_unlock(&g_pool_lock);
    HAK_STAT_SLOW_ADD(pool.ss_prewarmed, prewarm);
}

static void shared_pool_lock(void) { hak_lock(&g_pool_lock); }
static void shared_pool_unlock(void) { hak_unlock(&g_pool_lock); }

const hak_layer hak_shared_pool_layer = {
    .name = "shared pool",
    .init = shared_pool_init,
    .reclaim = shared_pool_reclaim,
    .fork_prepare = shared_pool_lock,
    .fork_parent = shared_pool_unlock,
    .fork_child = shared_pool_unlock,
};
