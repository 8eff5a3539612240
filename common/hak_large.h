/**
 * hak_large.h - the Large path: > 64 KiB (and alignments the classes cannot give).
 *
 * A block is a mapped range that starts on a 1 MiB chunk, so that no two hakmem
 * blocks share a registry chunk; the header sits at the range's start and every
 * chunk the range covers is registered HAK_REG_LARGE pointing at it.
 *
 * Freed blocks become free ranges in a cache (at most HAKMEM_LARGE_CACHE of them), a
 * small page heap in the manner of tcmalloc's: a freed block merges with the cached
 * ranges right before and after it (whole chunks apart; the free address space at the
 * end of the lower one's last chunk is mapped to join them, unless someone else's
 * mapping sits there), and a request takes the smallest range that fits, split
 * after its last chunk - the rest stays cached, its pages where they are.  The
 * memory cached stays under max(LARGE_CACHE_MIN_BYTES, live Large bytes /
 * LARGE_CACHE_LIVE_DIV), oldest ranges first: one past the budget gives back only its
 * tail.  A program that replaces big buffers gets pages it already faulted in, and one
 * that stops using Large memory gets all but LARGE_CACHE_MIN_BYTES back at its next
 * free.  A range not reused for HAKMEM_LARGE_PURGE_MS gives its pages back
 * (MADV_DONTNEED, all but its header page) at the next Large call, mimalloc's purge
 * delay: the address range stays cached and merges as before.  When nothing fits,
 * the largest range grows where it lies (upwards, or downwards with its header
 * moving down) or, if it cannot, stays cached and the
 * request is mapped afresh: a cached range is never moved (on the virtual machine
 * we measure on, moving cost more than mapping afresh).  A block keeps the rest of
 * its last chunk only up to a quarter of the request.  realloc grows or shrinks a
 * Large block in place (over the free range after it, or the free address space),
 * or moves it with mremap - which refuses a range made of several VMAs, as a merged
 * one often is: the caller then copies.  Everything that leaves the cache for the
 * OS leaves registry tombstones behind.
 */
#ifndef HAK_LARGE_H
#define HAK_LARGE_H

#include "hak_config.h"

#define LARGE_MAGIC            0x47524c4bu            /* "KLRG"                   */
#define LARGE_CACHE_MIN_BYTES  ((size_t)32 << 20)     /* 32 MiB                   */
#define LARGE_CACHE_LIVE_DIV   1                      /* cached <= live           */
#define LARGE_CACHE_SLOTS      64                     /* HAKMEM_LARGE_CACHE's max */
#define LARGE_SPLIT_MIN        ((size_t)64 << 10)     /* 64 KiB: a smaller rest stays
                                                         with the block it follows */

/**
 * hak_large_hdr - at the base of a large mapping.
 * A live block or a free range (state HAK_BLK_FREE, in the cache or taken out of it
 * by one thread): it starts on a chunk and every chunk it overlaps is registered to
 * it.  Writers: the thread that owns the block; state, map_len of a cached range,
 * cached_ms, purged and cache membership under the large lock.  Invariants (large
 * lock): the cached ranges' map_len sum to g_large_cached_bytes <= the budget after
 * every free; no cached range ends in the chunk before another starts unless
 * someone else's mapping sits between them (large_cache_ok checks them under
 * DEBUG=1); a purged range's pages past its header page read zero until reused.
 */
typedef struct hak_large_hdr {
    uint32_t magic;
    uint32_t state;             /* HAK_BLK_ALLOC, or HAK_BLK_FREE while cached     */
    size_t map_len;             /* bytes mapped (page multiple)                    */
    void *user;                 /* the pointer handed out                          */
    size_t usable;              /* bytes from user to the end of the mapping       */
    uint64_t cached_ms;         /* cached range: when it was freed (monotonic ms)  */
    uint32_t purged;            /* cached range: its pages went back (header kept) */
} hak_large_hdr;

/* Allocate n bytes aligned to align (power of two, >= 16).  *zeroed tells whether
 * the memory is known to be zero (a fresh mapping).  NULL + ENOMEM on failure. */
void *hak_large_alloc(size_t n, size_t align, int *zeroed);
void hak_large_free(hak_large_hdr *h, void *p, const char *api);
/* Validate a live large pointer; returns its usable size. */
size_t hak_large_usable(hak_large_hdr *h, const void *p, const char *api);
/* realloc of a live Large block to n bytes without copying: in place (grown over
 * the free range after it or the free address space, or its tail unmapped) or
 * moved by mremap.  Returns the block, or NULL (errno ENOMEM) when it cannot (no
 * room, or a range of several VMAs to move): the caller then copies, the block
 * untouched. */
void *hak_large_realloc(hak_large_hdr *h, void *p, size_t n, const char *api);


#endif /* HAK_LARGE_H */
