/**
 * hak_size_class.h - the size-class tables: Tiny, Small-Mid, Mid. O(1) size -> class.
 *
 *   Tiny      16,32,48,64, 96,128, 192,256, 384,512, 768,1024
 *             class c: tag 0xa0|c; up to 64 B every 16 B, then two classes per
 *             power of two (<= 50% apart, a block wastes 1/6 of its size on a
 *             uniform request size, against 1/4 with powers of two alone)
 *             (the smallest block is 16 B: a free block holds its list link and the
 *             free key, hak_front.h; requests of 0..16 B get 16 B)
 *   Small-Mid 256,512,1024                        class c: size 256 << c, tag 0xb0|c
 *   Mid       1280 .. 4096 every 256 B (the state granule; <= 12.5% apart above
 *             2 KiB, where programs keep most of their Mid blocks), then 4 classes per
 *             power of two to 65536 (<= 25% apart): 28 classes
 *   Large     > 65536: one mapping each (hak_large.c)
 *
 * Tiny and Small-Mid blocks live in 64 KiB slabs.  A class's granule is the largest
 * power of two dividing its size (48 B: 16, 96 B: 32, 768 B: 256; a power of two is
 * its own granule): the slab has one state byte per granule, and blocks start at
 * granule multiples, so free() checks a pointer with the granule's mask and finds
 * its state byte with the granule's shift - no division - while the granules inside
 * a block keep the state NEVER (hak_geometry.h).
 */
#ifndef HAK_SIZE_CLASS_H
#define HAK_SIZE_CLASS_H

#include "hak_config.h"
#include "hak_geometry.h"

/* ---- Tiny ---------------------------------------------------------------- */
#define TINY_NUM_CLASSES   12
#define TINY_MIN_SHIFT     4                                /* 16 B               */
#define TINY_MIN_SIZE      ((size_t)1 << TINY_MIN_SHIFT)    /* 16                 */
#define TINY_MAX_SIZE      ((size_t)1024)                   /* class 11           */

/* ---- Small-Mid (the seed's hakmem_smallmid.h) ----------------------------- */
#define SMALLMID_NUM_CLASSES 3
#define SMALLMID_MIN_SHIFT   8                              /* 256 B              */
#define SMALLMID_MIN_SIZE    256
#define SMALLMID_MAX_SIZE    1024
/* Small-Mid class c is the same block size as this Tiny class (256 B: 7, 512 B: 9,
 * 1 KiB: 11). */
#define SMALLMID_TINY_CLASS(c) (7u + 2u * (c))

/* ---- Class tags (out of band, in the slab metadata) ----------------------- */
#define HAK_TAG_TINY      0xa0u
#define HAK_TAG_SMALLMID  0xb0u
#define HAK_TAG_KIND_MASK 0xf0u
#define HAK_TAG_CLASS_MASK 0x0fu
#define HAK_TAG_NONE      0x00u   /* slab not assigned to any class */

/* ---- Mid ------------------------------------------------------------------ */
#define MID_NUM_CLASSES   28
#define MID_MIN_SIZE      1025
#define MID_MAX_SIZE      ((size_t)65536)

/* ---- Slab layout by granule shift ------------------------------------------ */
#define SLAB_MIN_SHIFT    TINY_MIN_SHIFT                   /* 4                  */
#define SLAB_MAX_SHIFT    10
/* Start of the first block: after the header reserve and one state byte per granule
 * (1 << shift), aligned to the granule (so power-of-two blocks are naturally
 * aligned, and every block of a class starts at a multiple of its granule). */
#define SLAB_BLOCKS_OFF(shift) \
    hak_align_up(SLAB_STATE_OFF + (SLAB_SIZE >> (shift)), \
                 ((uintptr_t)1 << (shift)) < HAK_MIN_ALIGN ? HAK_MIN_ALIGN : ((uintptr_t)1 << (shift)))
/* Blocks of `size` bytes (granule 1 << shift) in a slab. */
#define SLAB_CAPACITY(shift, size) ((uint32_t)((SLAB_SIZE - SLAB_BLOCKS_OFF(shift)) / (size)))

/* Tiny class of a request of n bytes (n <= TINY_MAX_SIZE); n == 0 is class 0. */
HAK_INLINE unsigned tiny_size_to_class(size_t n) {
    /* 0..16 -> 0, 17..32 -> 1, 33..48 -> 2, 49..64 -> 3; then per power of two
     * (2^k, 2^(k+1)]: 1.5 * 2^k and 2^(k+1) - 65..96 -> 4, 97..128 -> 5, ...,
     * 513..768 -> 10, 769..1024 -> 11 */
    if (n <= 64) return n <= TINY_MIN_SIZE ? 0u : (unsigned)((n - 1) >> 4);
    unsigned long long m = n - 1;
    unsigned k = (unsigned)(63 - __builtin_clzll(m));             /* 6..9 */
    return 4u + 2u * (k - 6u) + (unsigned)((m >> (k - 1)) & 1u);
}
HAK_INLINE size_t tiny_class_size(unsigned c) {
    return c < 4 ? (size_t)16 * (c + 1) : (size_t)(3 + (c & 1)) << (c / 2 + 3);
}

/* The seed routes exactly 256..1024 to Small-Mid; 129..255 stay Tiny. */
HAK_INLINE int smallmid_is_in_range(size_t n) {
    return n - SMALLMID_MIN_SIZE <= (size_t)(SMALLMID_MAX_SIZE - SMALLMID_MIN_SIZE);
}
HAK_INLINE unsigned smallmid_size_to_class(size_t n) {
    return n <= 256 ? 0u : (unsigned)(64 - __builtin_clzll((unsigned long long)(n - 1))) - SMALLMID_MIN_SHIFT;
}
HAK_INLINE size_t smallmid_class_size(unsigned c) { return (size_t)SMALLMID_MIN_SIZE << c; }

/* Mid class of n, MID_MIN_SIZE <= n <= MID_MAX_SIZE: every 256 B up to 4 KiB (the
 * state-byte granule: classes 0..11 are 1280 .. 4096), then four per power of two. */
#define MID_STEP_CLASSES  12                                 /* 1280 .. 4096       */
HAK_INLINE unsigned mid_size_to_class(size_t n) {
    size_t m = n - 1;                                        /* >= 1024 */
    if (m < 4096) return (unsigned)(m >> 8) - 4u;
    unsigned k = (unsigned)(63 - __builtin_clzll((unsigned long long)m)); /* >= 12 */
    unsigned sub = (unsigned)(m >> (k - 2)) & 3u;
    return MID_STEP_CLASSES + (k - 12) * 4 + sub;
}
HAK_INLINE size_t mid_class_size(unsigned c) {
    if (c < MID_STEP_CLASSES) return (size_t)(c + 5) << 8;
    unsigned k = 12 + (c - MID_STEP_CLASSES) / 4, sub = (c - MID_STEP_CLASSES) % 4;
    return (size_t)(5 + sub) << (k - 2);
}

#endif /* HAK_SIZE_CLASS_H */
