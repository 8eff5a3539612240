/**
 * hak_large.h - the Large path: > 64 KiB (and alignments the classes cannot give).
 *
 * One mapping per block, aligned to 1 MiB so that no two hakmem blocks share a
 * registry chunk; the header sits at the mapping's start and every chunk the mapping
 * covers is registered HAK_REG_LARGE pointing at it.  Freed mappings of at most
 * LARGE_CACHE_MAX_BYTES go to a small cache (HAKMEM_LARGE_CACHE entries) for reuse;
 * all others are unmapped at once, and their chunks become registry tombstones.
 */
#ifndef HAK_LARGE_H
#define HAK_LARGE_H

#include "hak_config.h"

#define LARGE_MAGIC            0x47524c4bu            /* "KLRG"                   */
#define LARGE_CACHE_MAX_BYTES  ((size_t)8 << 20)      /* 8 MiB                    */
#define LARGE_CACHE_SLOTS      64

/**
 * hak_large_hdr - at the base of a large mapping.
 * Writers: the thread that owns the block; state and cache membership under the
 * large lock.
 */
typedef struct hak_large_hdr {
    uint32_t magic;
    uint32_t state;             /* HAK_BLK_ALLOC, or HAK_BLK_FREE while cached     */
    size_t map_len;             /* bytes mapped (page multiple)                    */
    void *user;                 /* the pointer handed out                          */
    size_t usable;              /* bytes from user to the end of the mapping       */
} hak_large_hdr;

/* Allocate n bytes aligned to align (power of two, >= 16).  *zeroed tells whether
 * the memory is known to be zero (a fresh mapping).  NULL + ENOMEM on failure. */
void *hak_large_alloc(size_t n, size_t align, int *zeroed);
void hak_large_free(hak_large_hdr *h, void *p, const char *api);
/* Validate a live large pointer; returns its usable size. */
size_t hak_large_usable(hak_large_hdr *h, const void *p, const char *api);


#endif /* HAK_LARGE_H */
