/**
 * hak_registry.h - which 1 MiB chunks of the address space belong to hakmem.
 *
 * A two-level radix over chunk numbers (address >> SS_SHIFT): a static root of
 * REG_ROOT_SIZE pointers to leaves of REG_LEAF_SIZE entries, leaves mapped on first
 * use and never freed.  An entry is the address of the header that owns the chunk
 * with the kind in its low 4 bits (headers are 16-byte aligned), or 0.
 *
 * Lookup reads only the registry, never the pointer: a pointer hakmem never handed
 * out (stack, another mapping, unmapped) is recognised as foreign without touching it.
 *
 * Writers: hak_registry_set (under the registry lock for leaf creation; entries are stored
 * with release order so a reader that sees the entry sees the header behind it).
 */
#ifndef HAK_REGISTRY_H
#define HAK_REGISTRY_H

#include "hak_config.h"
#include "hak_geometry.h"

#define REG_LEAF_BITS  16
#define REG_LEAF_SIZE  ((size_t)1 << REG_LEAF_BITS)                  /* 65536 entries */
#define REG_ROOT_BITS  (HAK_CHUNK_BITS - REG_LEAF_BITS)              /* 12            */
#define REG_ROOT_SIZE  ((size_t)1 << REG_ROOT_BITS)                  /* 4096 leaves   */

enum {
    HAK_REG_NONE     = 0,   /* never hakmem's                                     */
    HAK_REG_RELEASED = 1,   /* was hakmem's, returned to the OS (tombstone)       */
    HAK_REG_SMALL    = 2,   /* Tiny / Small-Mid SuperSlab; header at chunk base   */
    HAK_REG_MID      = 3,   /* Mid segment; header at chunk base                  */
    HAK_REG_LARGE    = 4,   /* part of a large block; entry points at its header  */
};
#define HAK_REG_KIND_MASK ((uintptr_t)0xf)

extern uintptr_t *g_hak_reg_root[REG_ROOT_SIZE];

HAK_INLINE uintptr_t hak_registry_lookup(const void *p) {
    uintptr_t a = (uintptr_t)p;
    if (hak_unlikely(a >> HAK_ADDR_BITS)) return HAK_REG_NONE;
    uintptr_t chunk = a >> SS_SHIFT;
    uintptr_t *leaf = __atomic_load_n(&g_hak_reg_root[chunk >> REG_LEAF_BITS], __ATOMIC_ACQUIRE);
    if (hak_unlikely(!leaf)) return HAK_REG_NONE;
    return __atomic_load_n(&leaf[chunk & (REG_LEAF_SIZE - 1)], __ATOMIC_ACQUIRE);
}
HAK_INLINE unsigned hak_reg_kind(uintptr_t e) { return (unsigned)(e & HAK_REG_KIND_MASK); }
HAK_INLINE void *hak_reg_header(uintptr_t e) { return (void *)(e & ~HAK_REG_KIND_MASK); }

/* Mark every chunk overlapping [base, base+len) with header|kind.  Returns 0, or -1
 * when a leaf cannot be mapped (ENOMEM); then nothing is registered. */
int hak_registry_set(uintptr_t base, size_t len, void *header, unsigned kind);
/* Mark the chunks as released (tombstone) before the range is unmapped. */
void hak_registry_release(uintptr_t base, size_t len);

void hak_registry_fork_prepare(void);
void hak_registry_fork_parent(void);
void hak_registry_fork_child(void);

#endif /* HAK_REGISTRY_H */
