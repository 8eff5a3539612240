/**
 * hak_transfer.c - per-bin stacks of chains (hak_transfer.h).
 */
#include "hak_transfer.h"
#include "hak_front.h"
#include "hak_lock.h"

typedef struct hak_transfer {
    hak_lock_t lock;
    unsigned n;                                   /* chains on the stack */
    struct { void *head; uint32_t count; } chain[HAK_TRANSFER_CHAINS];
} hak_transfer;

static hak_transfer g_transfer[HAK_NBINS] = {
    [0 ... HAK_NBINS - 1] = { .lock = HAK_LOCK_INITIALIZER },
};

/* Pop a chain of `bin` into *head; its length, 0 when the stack is empty. */
static uint32_t transfer_pop(unsigned bin, void **head) {
    hak_transfer *t = &g_transfer[bin];
    uint32_t n = 0;
    if (!__atomic_load_n(&t->n, __ATOMIC_RELAXED)) return 0;    /* racy peek: a hint */
    hak_lock(&t->lock);
    if (t->n) {
        __atomic_store_n(&t->n, t->n - 1, __ATOMIC_RELAXED);
        *head = t->chain[t->n].head;
        n = t->chain[t->n].count;
    }
    hak_unlock(&t->lock);
    return n;
}

int hak_transfer_push(unsigned bin, void *head, uint32_t n) {
    hak_transfer *t = &g_transfer[bin];
    int ok = 0;
    hak_lock(&t->lock);
    if (t->n < HAK_TRANSFER_CHAINS) {
        t->chain[t->n].head = head;
        t->chain[t->n].count = n;
        __atomic_store_n(&t->n, t->n + 1, __ATOMIC_RELAXED);
        ok = 1;
    }
    hak_unlock(&t->lock);
    return ok;
}

void *hak_transfer_refill(unsigned bin, uint32_t *n) {
    void *head;
    *n = transfer_pop(bin, &head);
    if (*n == 0) return NULL;
    hak_tls_bin *b = &t_hak_bins[bin];
    b->head = *(void **)head;
    b->count = (uint16_t)(*n - 1);
    return head;
}

unsigned hak_transfer_drain(unsigned first, unsigned nbins, hak_transfer_sink sink) {
    unsigned total = 0;
    for (unsigned c = 0; c < nbins; c++) {
        void *head;
        uint32_t n;
        while ((n = transfer_pop(first + c, &head)) != 0) {
            sink(c, head, n);
            total++;
        }
    }
    return total;
}

void hak_transfer_lock_all(void) {
    for (unsigned b = 0; b < HAK_NBINS; b++) hak_lock(&g_transfer[b].lock);
}
void hak_transfer_unlock_all(void) {
    for (unsigned b = HAK_NBINS; b-- > 0;) hak_unlock(&g_transfer[b].lock);
}
