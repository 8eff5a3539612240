/**
 * hak_tls.h - per-thread free lists (bins).
 *
 * A bin is a LIFO list of free blocks of one class, linked through word 0.
 * Invariant: count == |list| <= cap (owner thread only; no other thread touches it).
 * A zeroed bin (a new thread's TLS) has cap 0, so the first push or pop of a thread
 * takes the slow path, which runs hak_thread_init (hak_life.h) and sets the caps.
 * At thread exit the bins are flushed and cap goes back to 0: later frees (other
 * TLS destructors) return blocks straight to the backend instead of stranding them.
 */
#ifndef HAK_TLS_H
#define HAK_TLS_H

#include "hak_config.h"

typedef struct hak_tls_bin {
    void *head;
    uint16_t count;
    uint16_t cap;
    uint16_t mask;           /* small front: block size - 1 (constant, in .tdata)  */
    uint8_t shift;           /* small front: log2 of the block size (constant)     */
    uint8_t ramp;            /* slow paths: backend refills so far, up to HAK_RAMP */
} hak_tls_bin;

/* Slow start (tcmalloc's): a bin's first refills from its backend bring 1/8, 1/4,
 * 1/2 of `full` blocks, later ones all of it - a thread that takes a few blocks of
 * a class touches a page or so of it, not full * size bytes (carving writes every
 * block it hands out).  Refills from a transfer cache take whole chains as they are. */
#define HAK_RAMP 3
HAK_INLINE unsigned hak_bin_refill_want(hak_tls_bin *b, unsigned full) {
    unsigned want = full >> (HAK_RAMP - b->ramp);
    if (b->ramp < HAK_RAMP) b->ramp++;
    return want ? want : 1;
}

/* Push a block onto a bin that has room. */
HAK_INLINE void hak_bin_push(hak_tls_bin *b, void *p) {
    *(void **)p = b->head;
    b->head = p;
    b->count++;
}

/* Detach the older blocks of a bin, keeping the `keep` most recent; returns the
 * detached chain (NULL-terminated) and its length in *n. */
HAK_INLINE void *hak_bin_split(hak_tls_bin *b, uint32_t keep, uint32_t *n) {
    if (b->count <= keep) { *n = 0; return NULL; }
    void *chain;
    if (keep == 0) {
        chain = b->head;
        b->head = NULL;
    } else {
        void *last = b->head;
        for (uint32_t i = 1; i < keep; i++) last = *(void **)last;
        chain = *(void **)last;
        *(void **)last = NULL;
    }
    *n = b->count - keep;
    b->count = (uint16_t)keep;
    return chain;
}

#endif /* HAK_TLS_H */
