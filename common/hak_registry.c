/**
 * hak_registry.c - registration of hakmem's chunks (see hak_registry.h).
 */
#include "hak_registry.h"
#include "hak_lock.h"
#include "hak_os.h"

#include <errno.h>

uintptr_t *g_hak_reg_root[REG_ROOT_SIZE];
static hak_lock_t g_reg_lock HAK_NOT_BSS = HAK_LOCK_INITIALIZER;

/* Caller holds g_reg_lock. */
static uintptr_t *reg_leaf(uintptr_t chunk) {
    uintptr_t **slot = &g_hak_reg_root[chunk >> REG_LEAF_BITS];
    uintptr_t *leaf = *slot;
    if (!leaf) {
        leaf = hak_os_map(REG_LEAF_SIZE * sizeof(uintptr_t), HAK_PAGE_SIZE, HAK_OS_META);
        if (!leaf) return NULL;
        __atomic_store_n(slot, leaf, __ATOMIC_RELEASE);
    }
    return leaf;
}

static int reg_store(uintptr_t base, size_t len, uintptr_t value) {
    uintptr_t first = base >> SS_SHIFT;
    uintptr_t last = (base + len - 1) >> SS_SHIFT;
    if (last >> HAK_CHUNK_BITS) { errno = ENOMEM; return -1; }
    hak_lock(&g_reg_lock);
    for (uintptr_t c = first; c <= last; c++) {           /* map leaves first */
        if (!reg_leaf(c)) { hak_unlock(&g_reg_lock); errno = ENOMEM; return -1; }
    }
    for (uintptr_t c = first; c <= last; c++) {
        uintptr_t *leaf = g_hak_reg_root[c >> REG_LEAF_BITS];
        __atomic_store_n(&leaf[c & (REG_LEAF_SIZE - 1)], value, __ATOMIC_RELEASE);
    }
    hak_unlock(&g_reg_lock);
    return 0;
}

int hak_registry_set(uintptr_t base, size_t len, void *header, unsigned kind) {
    hak_assert(((uintptr_t)header & HAK_REG_KIND_MASK) == 0);
    return reg_store(base, len, (uintptr_t)header | kind);
}

void hak_registry_release(uintptr_t base, size_t len) {
    (void)reg_store(base, len, HAK_REG_RELEASED);  /* leaves exist: cannot fail */
}

void hak_registry_fork_prepare(void) { hak_lock(&g_reg_lock); }
void hak_registry_fork_parent(void)  { hak_unlock(&g_reg_lock); }
void hak_registry_fork_child(void)   { hak_unlock(&g_reg_lock); }
