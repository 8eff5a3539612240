/**
 * hak_slabmap.h - the flat map of small slabs: one byte per 64 KiB slab of the
 * address space, holding the slab's free route - the small front's route (its bin's
 * offset in the TLS bins) for the slab's tag (g_hak_tag_route in hak_front.h) - or 0.
 *
 * free() of a small block reads two words here and nothing else to learn its bin:
 * the root entry of its 1 TiB region and the byte of its slab.  A pointer whose
 * byte is 0 (no leaf, not a small slab, a slab no class owns) goes the slow way,
 * through the chunk registry (hak_registry.h), which names Mid, Large, released and
 * foreign memory.  Like the registry it never touches the pointer.
 *
 * Writers (slow paths only): hak_slab_assign writes the code before any block of the
 * slab is handed out; hak_slab_reset and hak_superslab_release write 0 when no block
 * of the slab is out.  The map lives apart from the slab metadata that refills and
 * flushes write, so free() does not read a line another core keeps writing.
 * Leaves (SLABMAP_LEAF_SIZE bytes, one per 1 TiB) are mapped when the first
 * SuperSlab in their range is created and never freed; untouched pages read zero
 * (one 4 KiB page of a leaf covers 256 MiB of slabs).
 */
#ifndef HAK_SLABMAP_H
#define HAK_SLABMAP_H

#include "hak_config.h"
#include "hak_geometry.h"

#define SLABMAP_LEAF_BITS  24                                        /* slabs per leaf */
#define SLABMAP_LEAF_SIZE  ((size_t)1 << SLABMAP_LEAF_BITS)          /* 16 MiB of bytes */
#define SLABMAP_ROOT_SHIFT (SLAB_SHIFT + SLABMAP_LEAF_BITS)          /* 40: 1 TiB      */
#define SLABMAP_ROOT_SIZE  ((size_t)1 << (HAK_ADDR_BITS - SLABMAP_ROOT_SHIFT)) /* 256 */

/* Every root entry points at a leaf: a region without small slabs at the shared
 * zero leaf (static data, never written; its pages are never touched but by reads),
 * so a lookup needs no NULL test.  An entry holds its leaf's address minus the
 * region's first slab number (r << SLABMAP_LEAF_BITS), an integer, so that p's byte
 * is at entry + (p >> SLAB_SHIFT) with no mask (hak_slabmap_leaf turns it back
 * into the leaf).  The entries are set by the static initializer
 * (relocations applied by the loader, before any code of the process runs).  The
 * root is kept small - 256 entries, 2 KiB of data and 6 KiB of RELA records in
 * every process's RSS (80 bytes where the Makefile can pack them: DT_RELR) - by big
 * leaves: with 4096 entries (64 GiB leaves) the
 * root cost 128 KiB of RSS, most of libhakmem.so's share of a small process.
 * (Offsets from the zero leaf in bss would cost nothing at load time but two
 * instructions per free, 1 Ir per call in `make bench`.) */
extern uintptr_t g_hak_slabmap[SLABMAP_ROOT_SIZE] HAK_HIDDEN;
extern uint8_t g_hak_slabmap_zero_leaf[SLABMAP_LEAF_SIZE] HAK_HIDDEN;
/* The root entry of a leaf of region r, and the leaf of root entry r. */
#define HAK_SLABMAP_ENTRY(leaf, r) ((uintptr_t)(leaf) - ((uintptr_t)(r) << SLABMAP_LEAF_BITS))
HAK_INLINE uint8_t *hak_slabmap_leaf(uintptr_t r) {
    return (uint8_t *)(__atomic_load_n(&g_hak_slabmap[r], __ATOMIC_ACQUIRE) +
                       (r << SLABMAP_LEAF_BITS));
}

/* The code of p's slab, 0 when p is not in a slab a small class owns (NULL too). */
HAK_INLINE unsigned hak_slabmap_code(const void *p) {
    uintptr_t a = (uintptr_t)p;
    uintptr_t r = a >> SLABMAP_ROOT_SHIFT;
    if (hak_unlikely(r >= SLABMAP_ROOT_SIZE)) return 0;
    uintptr_t entry = __atomic_load_n(&g_hak_slabmap[r], __ATOMIC_ACQUIRE);
    return __atomic_load_n((const uint8_t *)(entry + (a >> SLAB_SHIFT)), __ATOMIC_RELAXED);
}

/* Map the leaf covering a SuperSlab at ss_base, before any of its slabs gets a tag.
 * Returns 0, or -1 (errno ENOMEM). */
int hak_slabmap_reserve(uintptr_t ss_base);
/* The code of the slab at slab_base (its leaf reserved), 0 to clear it. */
HAK_INLINE void hak_slabmap_write(uintptr_t slab_base, unsigned code) {
    uint8_t *leaf = hak_slabmap_leaf(slab_base >> SLABMAP_ROOT_SHIFT);
    __atomic_store_n(&leaf[(slab_base >> SLAB_SHIFT) & (SLABMAP_LEAF_SIZE - 1)], (uint8_t)code,
                     __ATOMIC_RELEASE);
}

void hak_slabmap_fork_prepare(void);
void hak_slabmap_fork_release(void);

#endif /* HAK_SLABMAP_H */
