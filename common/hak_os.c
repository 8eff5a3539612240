/**
 * hak_os.c - mmap / munmap / madvise, and nothing else calls them.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "hak_os.h"
#include "hak_config.h"
#include "hak_geometry.h"
#include "hak_track.h"

#include <errno.h>
#include <sys/mman.h>

static hak_os_counters g_os[HAK_OS_NPURPOSE];

#define CNT_ADD(f, v) __atomic_fetch_add(&(f), (uint64_t)(v), __ATOMIC_RELAXED)

void *hak_os_map(size_t len, size_t align, hak_os_purpose why) {
    len = hak_align_up(len, HAK_PAGE_SIZE);
    if (len == 0) { errno = ENOMEM; return NULL; }
    if (align < HAK_PAGE_SIZE) align = HAK_PAGE_SIZE;
    size_t span = len + (align > HAK_PAGE_SIZE ? align : 0);
    if (span < len) { errno = ENOMEM; return NULL; }          /* overflow */
    void *raw = mmap(NULL, span, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED) { errno = ENOMEM; return NULL; }
    uintptr_t start = hak_align_up((uintptr_t)raw, align);
    uintptr_t end = start + len;
    /* Trim the over-mapping so the region is exactly [start, end). */
    if (start > (uintptr_t)raw) munmap(raw, start - (uintptr_t)raw);
    if ((uintptr_t)raw + span > end) munmap((void *)end, (uintptr_t)raw + span - end);
    CNT_ADD(g_os[why].maps, 1);
    CNT_ADD(g_os[why].bytes_mapped, len);
    if (why != HAK_OS_META) hak_track_noaccess((void *)start, len);  /* owners open headers */
    return (void *)start;
}

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000       /* Linux 4.17; older kernels take it as a hint */
#endif

void *hak_os_map_at(void *addr, size_t len, hak_os_purpose why) {
    len = hak_align_up(len, HAK_PAGE_SIZE);
    if (len == 0 || ((uintptr_t)addr & (HAK_PAGE_SIZE - 1))) return NULL;
    int saved = errno;
    void *q = mmap(addr, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    errno = saved;
    if (q == MAP_FAILED) return NULL;
    if (q != addr) { munmap(q, len); return NULL; }         /* a kernel that took a hint */
    CNT_ADD(g_os[why].maps, 1);
    CNT_ADD(g_os[why].bytes_mapped, len);
    if (why != HAK_OS_META) hak_track_noaccess(q, len);
    return q;
}

void hak_os_unmap(void *p, size_t len, hak_os_purpose why) {
    len = hak_align_up(len, HAK_PAGE_SIZE);
    munmap(p, len);
    CNT_ADD(g_os[why].unmaps, 1);
    CNT_ADD(g_os[why].bytes_released, len);
}

void *hak_os_remap(void *p, size_t old_len, size_t new_len, size_t align, int may_move,
                   hak_os_purpose why) {
    old_len = hak_align_up(old_len, HAK_PAGE_SIZE);
    new_len = hak_align_up(new_len, HAK_PAGE_SIZE);
    if (new_len == 0) { errno = ENOMEM; return NULL; }
    if (align < HAK_PAGE_SIZE) align = HAK_PAGE_SIZE;
    int saved = errno;
    void *q = mremap(p, old_len, new_len, 0);                    /* in place */
    if (q == MAP_FAILED && new_len > old_len && may_move) {
        /* Reserve an aligned destination, then move the pages there. */
        size_t span = new_len + align;
        char *raw = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (raw == MAP_FAILED) { errno = ENOMEM; return NULL; }
        uintptr_t dst = hak_align_up((uintptr_t)raw, align);
        q = mremap(p, old_len, new_len, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)dst);
        if (q == MAP_FAILED) { munmap(raw, span); errno = ENOMEM; return NULL; }
        if (dst > (uintptr_t)raw) munmap(raw, dst - (uintptr_t)raw);
        if ((uintptr_t)raw + span > dst + new_len)
            munmap((void *)(dst + new_len), (uintptr_t)raw + span - (dst + new_len));
    }
    if (q == MAP_FAILED) { errno = ENOMEM; return NULL; }
    errno = saved;
    if (new_len > old_len) CNT_ADD(g_os[why].bytes_mapped, new_len - old_len);
    else CNT_ADD(g_os[why].bytes_released, old_len - new_len);
    return q;
}

void hak_os_decommit(void *p, size_t len, hak_os_purpose why) {
    len = len & ~(HAK_PAGE_SIZE - 1);
    if (len == 0) return;
    int saved = errno;
    madvise(p, len, MADV_DONTNEED);
    errno = saved;
    CNT_ADD(g_os[why].bytes_decommitted, len);
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23             /* Linux 5.14 */
#endif

size_t hak_os_populate(void *p, size_t len, hak_os_purpose why) {
    len = len & ~(HAK_PAGE_SIZE - 1);
    if (len == 0) return 0;
    int saved = errno;
    if (madvise(p, len, MADV_POPULATE_WRITE) != 0) {
        /* An older kernel: touch each page (the memory is ours and zero). */
        for (size_t off = 0; off < len; off += HAK_PAGE_SIZE)
            __atomic_store_n((volatile char *)p + off, 0, __ATOMIC_RELAXED);
    }
    errno = saved;
    CNT_ADD(g_os[why].bytes_populated, len);
    return len;
}

int hak_os_hugepage(void *p, size_t len) {
    int saved = errno;
    int rc = madvise(p, len, MADV_HUGEPAGE);
    errno = saved;
    return rc == 0 ? 0 : -1;
}

void hak_os_counters_get(hak_os_purpose why, hak_os_counters *out) {
    out->maps = __atomic_load_n(&g_os[why].maps, __ATOMIC_RELAXED);
    out->unmaps = __atomic_load_n(&g_os[why].unmaps, __ATOMIC_RELAXED);
    out->bytes_mapped = __atomic_load_n(&g_os[why].bytes_mapped, __ATOMIC_RELAXED);
    out->bytes_released = __atomic_load_n(&g_os[why].bytes_released, __ATOMIC_RELAXED);
    out->bytes_decommitted = __atomic_load_n(&g_os[why].bytes_decommitted, __ATOMIC_RELAXED);
    out->bytes_populated = __atomic_load_n(&g_os[why].bytes_populated, __ATOMIC_RELAXED);
}
