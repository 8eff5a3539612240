/**
 * hak_slabmap.h - the flat map of small slabs: one byte per 64 KiB slab of the
 * address space, holding the slab's free route - the small front's bin for the
 * slab's tag (g_hak_tag_bin in hak_front.h) - or 0.
 *
 * free() of a small block reads two words here and nothing else to learn its bin:
 * the root entry of its 64 GiB region and the byte of its slab.  A pointer whose
 * byte is 0 (no leaf, not a small slab, a slab no class owns) goes the slow way,
 * through the chunk registry (hak_registry.h), which names Mid, Large, released and
 * foreign memory.  Like the registry it never touches the pointer.
 *
 * Writers (slow paths only): hak_slab_assign writes the code before any block of the
 * slab is handed out; hak_slab_reset and hak_superslab_release write 0 when no block
 * of the slab is out.  The map lives apart from the slab metadata that refills and
 * flushes write, so free() does not read a line another core keeps writing.
 * Leaves (SLABMAP_LEAF_SIZE bytes, one per 64 GiB) are mapped when the first
 * SuperSlab in their range is created and never freed; untouched pages read zero.
 */
#ifndef HAK_SLABMAP_H
#define HAK_SLABMAP_H

#include "hak_config.h"
#include "hak_geometry.h"

#define SLABMAP_LEAF_BITS  20                                        /* slabs per leaf */
#define SLABMAP_LEAF_SIZE  ((size_t)1 << SLABMAP_LEAF_BITS)          /* 1 MiB of bytes */
#define SLABMAP_ROOT_SHIFT (SLAB_SHIFT + SLABMAP_LEAF_BITS)          /* 36: 64 GiB     */
#define SLABMAP_ROOT_SIZE  ((size_t)1 << (HAK_ADDR_BITS - SLABMAP_ROOT_SHIFT)) /* 4096 */

/* Every root entry names a leaf by its distance from the shared zero leaf (static
 * zero data, never written; its pages are never touched but by reads): 0, the
 * entry's initial value, is the zero leaf itself, so a region without small slabs
 * needs neither a NULL test on lookup nor an initializer.  (An array of pointers
 * set to the zero leaf by a static initializer cost 4096 relocations: 96 KiB of
 * relocation records and 32 KiB of written data in every process's RSS.) */
extern uintptr_t g_hak_slabmap[SLABMAP_ROOT_SIZE];
extern uint8_t g_hak_slabmap_zero_leaf[SLABMAP_LEAF_SIZE];
#define HAK_SLABMAP_LEAF(off) ((uint8_t *)((uintptr_t)g_hak_slabmap_zero_leaf + (off)))

/* The code of p's slab, 0 when p is not in a slab a small class owns (NULL too). */
HAK_INLINE unsigned hak_slabmap_code(const void *p) {
    uintptr_t a = (uintptr_t)p;
    uintptr_t r = a >> SLABMAP_ROOT_SHIFT;
    if (hak_unlikely(r >= SLABMAP_ROOT_SIZE)) return 0;
    const uint8_t *leaf = HAK_SLABMAP_LEAF(__atomic_load_n(&g_hak_slabmap[r], __ATOMIC_ACQUIRE));
    return __atomic_load_n(&leaf[(a >> SLAB_SHIFT) & (SLABMAP_LEAF_SIZE - 1)], __ATOMIC_RELAXED);
}

/* Map the leaf covering a SuperSlab at ss_base, before any of its slabs gets a tag.
 * Returns 0, or -1 (errno ENOMEM). */
int hak_slabmap_reserve(uintptr_t ss_base);
/* The code of the slab at slab_base (its leaf reserved), 0 to clear it. */
HAK_INLINE void hak_slabmap_write(uintptr_t slab_base, unsigned code) {
    uint8_t *leaf = HAK_SLABMAP_LEAF(g_hak_slabmap[slab_base >> SLABMAP_ROOT_SHIFT]);
    __atomic_store_n(&leaf[(slab_base >> SLAB_SHIFT) & (SLABMAP_LEAF_SIZE - 1)], (uint8_t)code,
                     __ATOMIC_RELEASE);
}

void hak_slabmap_fork_prepare(void);
void hak_slabmap_fork_release(void);

#endif /* HAK_SLABMAP_H */
