/**
 * hak_api.c - the public API (hak_* and, by alias, the glibc malloc family): the
 * top floor.  Process init, threads, fork and reclaim are hak_life.c's.
 *
 * Routing:   n <= 1 KiB   -> the small front (hak_front.h: Tiny and Small-Mid bins,
 *                             routed by tables the phase fills at init)
 *            n <= 64 KiB  -> Mid (hak_mid.h)
 *            larger       -> Large (hak_large.h)
 * free() finds the owner through the registry (hak_registry.h) without touching
 * the pointer, so foreign, interior, wild and double frees are reported and abort.
 *
 * glibc's "Replacing malloc" contract: the whole family is exported; errno is
 * ENOMEM on failure and preserved by free; TLS is initial-exec; nothing here calls
 * a libc function that allocates while holding an allocator lock.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "hakmem.h"
#include "hak_large.h"
#include "hak_life.h"
#include "hak_mid.h"
#include "hak_registry.h"
#include "hak_report.h"
#include "hak_slab.h"
#include "hak_slabmap.h"
#include "hak_track.h"
#include "hak_front.h"
#include "hakmem_smallmid.h"
#include "tiny_front.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Internal entry points                                                    */
/* ------------------------------------------------------------------------ */

/* The small front's slow paths, by the front that owns the bin (they take the bin's
 * address, which the fast path has in a register, rather than keep its route). */
static HAK_NOINLINE void *hak_small_alloc_slow(hak_tls_bin *b) {
    unsigned bin = (unsigned)(b - t_hak_bins);
    if (bin < HAK_BIN_SMALLMID) return hak_tiny_alloc_slow(bin - HAK_BIN_TINY);
    return hak_smallmid_alloc_slow(bin - HAK_BIN_SMALLMID);
}
static HAK_NOINLINE void hak_small_free_slow(void *p, hak_tls_bin *b) {
    unsigned bin = (unsigned)(b - t_hak_bins);
    if (bin < HAK_BIN_SMALLMID) hak_tiny_free_slow(p, bin - HAK_BIN_TINY);
    else hak_smallmid_free_slow(p, bin - HAK_BIN_SMALLMID);
}

HAK_INLINE void *hak_alloc_inline(size_t n) {
    if (hak_likely(n <= TINY_MAX_SIZE)) {
        unsigned route = g_hak_size_route[n];
        void *p = hak_front_pop_route(route);
        return hak_likely(p != NULL) ? p : hak_small_alloc_slow(hak_front_bin(route));
    }
    if (n <= MID_MAX_SIZE) return mid_alloc(n);
    hak_ensure_init();
    int zeroed;
    return hak_large_alloc(n, 0, &zeroed);
}

/* Not a block of a slab some class owns (slab map 0): NULL, Mid, Large, or an error. */
static HAK_NOINLINE void hak_free_other(void *p, const char *api) {
    if (p == NULL) return;
    int saved = errno;
    uintptr_t e = hak_registry_lookup(p);
    switch (hak_reg_kind(e)) {
    case HAK_REG_MID:
        mid_free((hak_mid_segment *)hak_reg_header(e), p, api);
        break;
    case HAK_REG_LARGE:
        hak_large_free((hak_large_hdr *)hak_reg_header(e), p, api);
        break;
    case HAK_REG_SMALL:                       /* a slab no class owns */
        hak_slab_bad_unowned(hak_meta_from_ptr(p), p, api);
    case HAK_REG_RELEASED:
        hak_fatal_ptr(api, "invalid pointer (memory hakmem already returned to the OS: "
                           "double free?)", p);
    default:
        hak_fatal_ptr(api, "invalid pointer (not allocated by hakmem)", p);
    }
    errno = saved;
}

/* free(): one slab-map read tells a small block's bin (hak_slabmap.h); every exit
 * but the push is a tail jump. */
HAK_INLINE void hak_free_inline(void *p, const char *api) {
    unsigned route = hak_slabmap_code(p);
    if (hak_likely(route != 0)) {
        hak_tls_bin *b = hak_front_bin(route);
        unsigned bad = hak_front_release(p, b);
        if (hak_unlikely(bad)) { hak_front_bad(p, bad & 0xffu, api); return; }
        HAK_BIN_STAT_HOT_INC(HAK_ROUTE_BIN(route), frees);
        if (hak_unlikely(b->count >= b->cap)) { hak_small_free_slow(p, b); return; }
        hak_bin_push(b, p);
        return;
    }
    hak_free_other(p, api);
}

/* Usable size of a live block; aborts on a pointer free() would reject. */
static size_t hak_usable_checked(const void *p, const char *api) {
    unsigned route = hak_slabmap_code(p);
    if (hak_likely(route != 0)) {
        unsigned bin = HAK_ROUTE_BIN(route);
        hak_front_live_check(p, bin, api);
        return g_hak_bin_size[bin];
    }
    uintptr_t e = hak_registry_lookup(p);
    switch (hak_reg_kind(e)) {
    case HAK_REG_SMALL:                       /* a slab no class owns */
        hak_slab_bad_unowned(hak_meta_from_ptr(p), p, api);
    case HAK_REG_MID: {
        hak_mid_segment *s = (hak_mid_segment *)hak_reg_header(e);
        mid_check(s, (void *)p, api, 0);
        return mid_class_size(mid_class_of(s, p, api));
    }
    case HAK_REG_LARGE:
        return hak_large_usable((hak_large_hdr *)hak_reg_header(e), p, api);
    case HAK_REG_RELEASED:
        hak_fatal_ptr(api, "invalid pointer (memory hakmem already returned to the OS: "
                           "double free?)", p);
    default:
        hak_fatal_ptr(api, "invalid pointer (not allocated by hakmem)", p);
    }
}

/* Aligned allocation; align is a power of two. */
static void *hak_alloc_aligned(size_t align, size_t n) {
    if (align <= 8) return hak_alloc_inline(n);
    size_t m = n < align ? align : n;
    if (m <= TINY_MAX_SIZE) {
        /* A power-of-two class's blocks are aligned to their size (the others only
         * to their granule), so round up to a power of two >= align. */
        m = (size_t)1 << (64 - __builtin_clzll((unsigned long long)(m - 1)));
        return hak_alloc_inline(m);
    }
    if (m <= MID_MAX_SIZE) {
        for (unsigned c = mid_size_to_class(m); c < MID_NUM_CLASSES; c++) {
            size_t sz = mid_class_size(c);
            if ((sz & (0 - sz)) >= align) return mid_alloc_class(c);  /* lowest set bit */
        }
    }
    if (align > ((size_t)1 << 40)) { errno = ENOMEM; return NULL; }
    hak_ensure_init();
    int zeroed;
    return hak_large_alloc(m, align, &zeroed);
}

/* memcheck (make VALGRIND=1): a live block is a MALLOCLIKE block of its usable
 * size - malloc_usable_size() promises every one of those bytes to the program, so
 * memcheck may not call them overruns; writes past the block are reported. */
HAK_INLINE void *hak_tracked(void *p, size_t n, int zeroed) {
#if HAKMEM_VALGRIND
    if (p) hak_track_malloc(p, hak_usable_checked(p, "malloc"), zeroed);
#endif
    (void)n; (void)zeroed;
    return p;
}

/* memcheck: validate, then the whole block becomes NOACCESS except its link word. */
HAK_INLINE void hak_untrack(void *p, const char *api) {
#if HAKMEM_VALGRIND
    size_t usable = hak_usable_checked(p, api);
    hak_track_free(p);
    hak_track_noaccess(p, usable);
    hak_track_undefined(p, usable < 16 ? usable : 16);      /* link and key words */
#else
    (void)p; (void)api;
#endif
}

/* ------------------------------------------------------------------------ */
/* Public API                                                               */
/* ------------------------------------------------------------------------ */

HAK_EXPORT void *hak_malloc(size_t n) { return hak_tracked(hak_alloc_inline(n), n, 0); }

HAK_EXPORT void hak_free(void *p) {
    /* NULL needs no test here: its slab-map byte is 0 (hak_free_other). */
#if HAKMEM_VALGRIND
    if (p == NULL) return;
#endif
    hak_untrack(p, "free");
    hak_free_inline(p, "free");
}

HAK_EXPORT void *hak_calloc(size_t nmemb, size_t size) {
    size_t n;
    if (hak_unlikely(__builtin_mul_overflow(nmemb, size, &n))) { errno = ENOMEM; return NULL; }
    if (n > MID_MAX_SIZE) {
        hak_ensure_init();
        int zeroed;
        void *p = hak_tracked(hak_large_alloc(n, 0, &zeroed), n, 0);
        if (p && !zeroed) memset(p, 0, n);
        if (p && zeroed) hak_track_defined(p, n);   /* fresh mapping: zero pages */
        return p;
    }
    void *p = hak_tracked(hak_alloc_inline(n), n, 0);
    if (hak_likely(p != NULL)) memset(p, 0, n);
    return p;
}

HAK_EXPORT void *hak_realloc(void *p, size_t n) {
    if (p == NULL) return hak_tracked(hak_alloc_inline(n), n, 0);
    if (n == 0) {                       /* glibc: free and return NULL */
        hak_untrack(p, "realloc");
        hak_free_inline(p, "realloc");
        return NULL;
    }
    size_t old = hak_usable_checked(p, "realloc");
    /* Fits and is not too roomy: keep it (memcheck builds always move, since
     * memcheck knows the block by its requested size). */
    if (!HAKMEM_VALGRIND && n <= old && (n > old / 2 || old <= 16)) return p;
    /* A Large block staying Large: grown, shrunk or moved by the OS; copied below
     * only when it can be none of these (a move of a range merged from several
     * mappings: mremap takes one VMA at a time). */
    if (n > MID_MAX_SIZE && old > MID_MAX_SIZE) {
        uintptr_t e = hak_registry_lookup(p);
        int saved = errno;
        void *r = hak_large_realloc((hak_large_hdr *)hak_reg_header(e), p, n, "realloc");
        errno = saved;
        if (r) return r;
    }
    void *q = hak_tracked(hak_alloc_inline(n), n, 0);
    if (hak_unlikely(q == NULL)) return NULL;               /* old block untouched */
    hak_track_defined(p, old);          /* memcheck: the slack is copied too */
    memcpy(q, p, n < old ? n : old);
    hak_untrack(p, "realloc");
    hak_free_inline(p, "realloc");
    return q;
}

HAK_EXPORT void *hak_reallocarray(void *p, size_t nmemb, size_t size) {
    size_t n;
    if (__builtin_mul_overflow(nmemb, size, &n)) { errno = ENOMEM; return NULL; }
    return hak_realloc(p, n);
}

HAK_EXPORT int hak_posix_memalign(void **out, size_t align, size_t n) {
    if (align < sizeof(void *) || (align & (align - 1))) return EINVAL;
    int saved = errno;
    void *p = hak_tracked(hak_alloc_aligned(align, n), n, 0);
    errno = saved;                      /* posix_memalign reports through its result */
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

HAK_EXPORT void *hak_aligned_alloc(size_t align, size_t n) {
    if (align == 0 || (align & (align - 1))) { errno = EINVAL; return NULL; }
    return hak_tracked(hak_alloc_aligned(align, n), n, 0);
}

HAK_EXPORT void *hak_memalign(size_t align, size_t n) {
    if (align & (align - 1)) {          /* glibc: round up to a power of two */
        if (align > ((size_t)1 << 62)) { errno = EINVAL; return NULL; }
        size_t a = 1;
        while (a < align) a <<= 1;
        align = a;
    }
    return hak_tracked(hak_alloc_aligned(align, n), n, 0);
}

HAK_EXPORT void *hak_valloc(size_t n) { return hak_tracked(hak_alloc_aligned(HAK_PAGE_SIZE, n), n, 0); }

HAK_EXPORT void *hak_pvalloc(size_t n) {
    if (n > SIZE_MAX - HAK_PAGE_SIZE) { errno = ENOMEM; return NULL; }
    size_t r = hak_align_up(n ? n : 1, HAK_PAGE_SIZE);
    return hak_tracked(hak_alloc_aligned(HAK_PAGE_SIZE, r), r, 0);
}

#ifndef HAKMEM_PHASE
#error "HAKMEM_PHASE (the phase folder's name) is set by the Makefile"
#endif
HAK_EXPORT const char *hak_phase_name(void) { return HAKMEM_PHASE; }

HAK_EXPORT size_t hak_malloc_usable_size(void *p) {
    if (p == NULL) return 0;
    return hak_usable_checked(p, "malloc_usable_size");
}

/* ------------------------------------------------------------------------ */
/* The glibc names (omitted with -DHAKMEM_NO_EXPORT: prefixed-only library)  */
/* ------------------------------------------------------------------------ */
#ifndef HAKMEM_NO_EXPORT
#define HAK_ALIAS(name) HAK_EXPORT __attribute__((alias(#name)))
void *malloc(size_t) HAK_ALIAS(hak_malloc);
void free(void *) HAK_ALIAS(hak_free);
void *calloc(size_t, size_t) HAK_ALIAS(hak_calloc);
void *realloc(void *, size_t) HAK_ALIAS(hak_realloc);
void *reallocarray(void *, size_t, size_t) HAK_ALIAS(hak_reallocarray);
int posix_memalign(void **, size_t, size_t) HAK_ALIAS(hak_posix_memalign);
void *aligned_alloc(size_t, size_t) HAK_ALIAS(hak_aligned_alloc);
void *memalign(size_t, size_t) HAK_ALIAS(hak_memalign);
void *valloc(size_t) HAK_ALIAS(hak_valloc);
void *pvalloc(size_t) HAK_ALIAS(hak_pvalloc);
size_t malloc_usable_size(void *) HAK_ALIAS(hak_malloc_usable_size);
#endif
