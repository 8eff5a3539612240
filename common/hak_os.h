/**
 * hak_os.h - the OS layer: the only place in hakmem that calls mmap, munmap, madvise.
 *
 * Every mapping is counted by purpose, so HAKMEM_STATS=1 can report SuperSlabs and
 * bytes mapped and released.  Counters are relaxed atomics (slow path only).
 */
#ifndef HAK_OS_H
#define HAK_OS_H

#include <stddef.h>
#include <stdint.h>

typedef enum hak_os_purpose {
    HAK_OS_SUPERSLAB = 0,   /* Tiny / Small-Mid SuperSlabs (1 MiB)       */
    HAK_OS_MID       = 1,   /* Mid segments (1 MiB)                      */
    HAK_OS_LARGE     = 2,   /* one mapping per large block               */
    HAK_OS_META      = 3,   /* registry leaves                           */
    HAK_OS_NPURPOSE  = 4
} hak_os_purpose;

typedef struct hak_os_counters {
    uint64_t maps;            /* successful map calls                    */
    uint64_t unmaps;          /* release calls                           */
    uint64_t bytes_mapped;    /* total bytes ever mapped                 */
    uint64_t bytes_released;  /* total bytes ever unmapped               */
    uint64_t bytes_decommitted; /* bytes handed back with MADV_DONTNEED  */
    uint64_t bytes_populated;   /* bytes faulted in ahead (prewarm)      */
} hak_os_counters;

/* Map len bytes (rounded up to a page) aligned to align (a power of two >= page).
 * Returns NULL with errno = ENOMEM on failure.  Memory is zeroed. */
void *hak_os_map(size_t len, size_t align, hak_os_purpose why);
/* Map len bytes (page multiple) exactly at addr, only if that range is wholly free
 * address space (MAP_FIXED_NOREPLACE: nothing mapped there is ever replaced).
 * Returns addr, or NULL (errno kept) when anything is in the way. */
void *hak_os_map_at(void *addr, size_t len, hak_os_purpose why);
/* Unmap a region returned by hak_os_map (or a page-aligned tail of it). */
void hak_os_unmap(void *p, size_t len, hak_os_purpose why);
/* Resize a region from hak_os_map: in place if the address space after it is free;
 * else, with may_move, moved (page tables, not bytes) to a new address aligned to
 * align - the old range is then unmapped, free for anyone's next mmap.  Returns the
 * region's address, or NULL (errno ENOMEM) with the region unchanged. */
void *hak_os_remap(void *p, size_t old_len, size_t new_len, size_t align, int may_move,
                   hak_os_purpose why);
/* Give the pages back to the OS but keep the address range (reads return zero). */
void hak_os_decommit(void *p, size_t len, hak_os_purpose why);
/* Fault every page of a mapped range in now, in one call (MADV_POPULATE_WRITE; where
 * the kernel lacks it, one write per page).  Returns the bytes populated. */
size_t hak_os_populate(void *p, size_t len, hak_os_purpose why);
/* Ask for transparent huge pages on a mapped range (MADV_HUGEPAGE).  Returns 0 if
 * the kernel took the advice, -1 if it cannot (no THP, mode "never"): then the
 * range simply stays on small pages. */
int hak_os_hugepage(void *p, size_t len);

void hak_os_counters_get(hak_os_purpose why, hak_os_counters *out);

#endif /* HAK_OS_H */
