/**
 * hak_geometry.h - every address-space constant of hakmem, derived from shifts.
 *
 * A SuperSlab is a SS_SIZE region aligned to SS_SIZE.  Small SuperSlabs (Tiny and
 * Small-Mid classes) are cut into SLABS_PER_SS slabs of SLAB_SIZE; each slab serves
 * one size class.  The SuperSlab header sits at the start of slab 0; every slab
 * reserves SLAB_HDR_RESERVE bytes at its start (only slab 0 uses them, the others
 * leave them untouched, costing address space but no RSS) so that all slabs of a
 * class share one layout:
 *
 *   slab base                          + SLAB_STATE_OFF          + blocks_off(class)
 *   [ SuperSlab header (slab 0 only) ] [ state bytes, 1/granule ] [ block 0 ][ block 1 ]...
 *
 * A class's granule is the largest power of two dividing its block size (the size
 * itself for a power of two; hak_size_class.h).  The state byte of the granule at
 * slab offset `off` is at
 *   slab_base + SLAB_STATE_OFF + (off >> granule_shift)
 * so it is computed from the pointer alone; a block's state is the byte of its first
 * granule, the bytes of its other granules stay NEVER.  Class tags and block states
 * are out of band: no byte before or after a user block belongs to the allocator.
 */
#ifndef HAK_GEOMETRY_H
#define HAK_GEOMETRY_H

#include <stdint.h>

#define SS_SHIFT          20                           /* SuperSlab: 1 MiB          */
#define SS_SIZE           ((uintptr_t)1 << SS_SHIFT)    /* 1048576                   */
#define SS_MASK           (SS_SIZE - 1)                 /* 0xFFFFF                   */

#define SLAB_SHIFT        16                           /* slab: 64 KiB              */
#define SLAB_SIZE         ((uintptr_t)1 << SLAB_SHIFT)  /* 65536                     */
#define SLAB_MASK         (SLAB_SIZE - 1)               /* 0xFFFF                    */
#define SLABS_PER_SS      (1u << (SS_SHIFT - SLAB_SHIFT)) /* 16                      */

#define SLAB_HDR_RESERVE  ((uintptr_t)1 << 10)          /* 1024: SuperSlab header    */
#define SLAB_STATE_OFF    SLAB_HDR_RESERVE              /* 1024: state bytes start   */

#define HAK_ADDR_BITS     48                           /* user address space        */
#define HAK_CHUNK_BITS    (HAK_ADDR_BITS - SS_SHIFT)    /* 28: 1 MiB chunks          */

#define HAK_MIN_ALIGN     16                           /* alignment for n >= 16     */
#define HAK_PAGE_SHIFT    12
#define HAK_PAGE_SIZE     ((uintptr_t)1 << HAK_PAGE_SHIFT) /* 4096                   */

#define hak_ss_of(p)      ((uintptr_t)(p) & ~SS_MASK)
#define hak_slab_idx(p)   ((unsigned)(((uintptr_t)(p) & SS_MASK) >> SLAB_SHIFT))
#define hak_slab_base(p)  ((uintptr_t)(p) & ~SLAB_MASK)
#define hak_slab_off(p)   ((uintptr_t)(p) & SLAB_MASK)

#define hak_align_up(x, a) (((uintptr_t)(x) + ((uintptr_t)(a) - 1)) & ~((uintptr_t)(a) - 1))

#endif /* HAK_GEOMETRY_H */
