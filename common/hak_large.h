/**
 * hak_large.h - the Large path: > 64 KiB (and alignments the classes cannot give).
 *
 * One mapping per block, aligned to 1 MiB so that no two hakmem blocks share a
 * registry chunk; the header sits at the mapping's start and every chunk the mapping
 * covers is registered HAK_REG_LARGE pointing at it.
 *
 * Freed mappings go to a cache (at most HAKMEM_LARGE_CACHE of them).  The memory
 * Large holds and nobody uses - cached mappings plus the slack of live ones (below) -
 * stays under max(LARGE_CACHE_MIN_BYTES, live Large bytes / LARGE_CACHE_LIVE_DIV): a
 * program that replaces big buffers gets pages it already faulted in, and one that
 * stops using Large memory gets all but LARGE_CACHE_MIN_BYTES back at its next free.
 * A request takes the smallest cached mapping that fits, else grows the largest one
 * with mremap (its pages move, the OS adds only the missing tail), else maps.  A
 * mapping taken for a smaller request keeps its excess beyond a quarter of the
 * request as slack while the budget allows (the next request of that slot may be
 * bigger: its pages are already faulted in), else the excess is unmapped.  realloc grows or shrinks a
 * Large block in place, or moves it with mremap, without copying.  Everything that
 * leaves the cache for the OS leaves registry tombstones behind.
 */
#ifndef HAK_LARGE_H
#define HAK_LARGE_H

#include "hak_config.h"

#define LARGE_MAGIC            0x47524c4bu            /* "KLRG"                   */
#define LARGE_CACHE_MIN_BYTES  ((size_t)32 << 20)     /* 32 MiB                   */
#define LARGE_CACHE_LIVE_DIV   2                      /* unused <= live / 4 above */
#define LARGE_CACHE_SLOTS      64

/**
 * hak_large_hdr - at the base of a large mapping.
 * Writers: the thread that owns the block; state, slack and cache membership under
 * the large lock.  Invariant (large lock): g_large_cached_bytes + g_large_slack_bytes
 * <= the budget, except transiently when live bytes fall (the next free trims).
 */
typedef struct hak_large_hdr {
    uint32_t magic;
    uint32_t state;             /* HAK_BLK_ALLOC, or HAK_BLK_FREE while cached     */
    size_t map_len;             /* bytes mapped (page multiple)                    */
    void *user;                 /* the pointer handed out                          */
    size_t usable;              /* bytes from user to the end of the mapping       */
    size_t slack;               /* bytes kept beyond request + a quarter (budgeted) */
} hak_large_hdr;

/* Allocate n bytes aligned to align (power of two, >= 16).  *zeroed tells whether
 * the memory is known to be zero (a fresh mapping).  NULL + ENOMEM on failure. */
void *hak_large_alloc(size_t n, size_t align, int *zeroed);
void hak_large_free(hak_large_hdr *h, void *p, const char *api);
/* Validate a live large pointer; returns its usable size. */
size_t hak_large_usable(hak_large_hdr *h, const void *p, const char *api);
/* realloc of a live Large block to n bytes without copying: in place (grown or its
 * tail unmapped) or moved by mremap.  Returns the block, or NULL (errno ENOMEM) when
 * it cannot: the caller then copies, the block untouched. */
void *hak_large_realloc(hak_large_hdr *h, void *p, size_t n, const char *api);


#endif /* HAK_LARGE_H */
