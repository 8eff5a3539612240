/**
 * sol_malloc.c - "speed of light": the physical limit of the benchmark loop, not a
 * product.  A bench-only malloc with no checks at all, LD_PRELOAD-ed as contender
 * `sol` by bench/run_bench.sh (build/bench/libsol.so).
 *
 *  - 17 size classes, powers of two 16 B .. 1 MiB (a request of 0..16 B gets 16 B).
 *  - One PROT_NONE, MAP_NORESERVE reservation of 17 x 2 GiB at start-up; class c owns
 *    [base + c * 2 GiB, base + (c + 1) * 2 GiB), so free() finds the class of a block
 *    from its address alone: c = (p - base) >> 31.  No header, no metadata.
 *  - Per thread and class: a LIFO free list through the blocks' first word, and a bump
 *    pointer into a 1 MiB chunk taken from the class's range (one atomic add, one
 *    mprotect to commit it).  A block freed by another thread simply joins that
 *    thread's list: nothing ever goes back to the OS or to another thread.
 *  - Requests over 1 MiB (or with alignment over 1 MiB, or when a class's 2 GiB are
 *    used up) get their own mmap; a mutex-protected open-addressing table (address ->
 *    length, backward-shift deletion) finds their length at free, which munmaps them.
 *
 * The 34 GiB reservation fits valgrind's address-space limit (about 60 GiB).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define EXPORT __attribute__((visibility("default")))
#define NCLASS 17                       /* 16 B << 0 .. 16 B << 16 = 1 MiB */
#define MAXSMALL ((size_t)1 << 20)
#define RSHIFT 31                       /* 2 GiB per class */
#define SPAN ((uintptr_t)NCLASS << RSHIFT)
#define CHUNK ((size_t)1 << 20)         /* committed per refill */
#define PAGE ((size_t)4096)

struct bin { void *free; uintptr_t bump, end; };
static __thread struct bin t_bins[NCLASS] __attribute__((tls_model("initial-exec")));
static _Atomic uintptr_t g_base;        /* 0 until reserved */
static _Atomic size_t g_next[NCLASS];   /* bytes handed out of each class's range */

static inline unsigned size_class(size_t n) { return n <= 16 ? 0 : 60 - __builtin_clzl(n - 1); }
static inline uintptr_t base(void) { return atomic_load_explicit(&g_base, memory_order_relaxed); }

static uintptr_t reserve(void) {
    uintptr_t b = atomic_load(&g_base);
    if (b) return b;
    void *m = mmap(NULL, SPAN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) return 0;
    uintptr_t want = 0;
    if (!atomic_compare_exchange_strong(&g_base, &want, (uintptr_t)m)) { munmap(m, SPAN); return want; }
    return (uintptr_t)m;
}
__attribute__((constructor)) static void sol_init(void) { reserve(); }

/* ---- large blocks: own mapping, length in a table keyed by address ---------------- */
#define LT_BITS 16
#define LT_MASK ((1u << LT_BITS) - 1)
static struct { uintptr_t p; size_t len; } lt[1u << LT_BITS];
static unsigned lt_count;
static pthread_mutex_t lt_lock = PTHREAD_MUTEX_INITIALIZER;

static inline unsigned lt_hash(uintptr_t p) { return (unsigned)(((p >> 12) * 0x9E3779B97F4A7C15ull) >> (64 - LT_BITS)); }
static unsigned lt_find(uintptr_t p) {  /* caller holds the lock; returns LT_MASK + 1 if absent */
    for (unsigned i = lt_hash(p), n = 0; n <= LT_MASK; i = (i + 1) & LT_MASK, n++) {
        if (lt[i].p == p) return i;
        if (!lt[i].p) break;
    }
    return LT_MASK + 1;
}

static __attribute__((noinline)) void *large_alloc(size_t n, size_t align) {
    if (n > ((size_t)1 << 46)) { errno = ENOMEM; return NULL; }
    size_t len = (n + PAGE - 1) & ~(PAGE - 1), extra = align > PAGE ? align : 0;
    if (!len) len = PAGE;
    char *m = mmap(NULL, len + extra, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) { errno = ENOMEM; return NULL; }
    char *p = m;
    if (extra) {                        /* trim to an aligned [p, p + len) */
        p = (char *)(((uintptr_t)m + align - 1) & ~(uintptr_t)(align - 1));
        if (p > m) munmap(m, p - m);
        if (m + len + extra > p + len) munmap(p + len, m + len + extra - (p + len));
    }
    pthread_mutex_lock(&lt_lock);
    if (lt_count >= (LT_MASK + 1) / 4 * 3) {
        pthread_mutex_unlock(&lt_lock);
        munmap(p, len);
        errno = ENOMEM;
        return NULL;
    }
    unsigned i = lt_hash((uintptr_t)p);
    while (lt[i].p) i = (i + 1) & LT_MASK;
    lt[i].p = (uintptr_t)p; lt[i].len = len; lt_count++;
    pthread_mutex_unlock(&lt_lock);
    return p;
}

static size_t large_size(void *p) {
    pthread_mutex_lock(&lt_lock);
    unsigned i = lt_find((uintptr_t)p);
    size_t len = i <= LT_MASK ? lt[i].len : 0;
    pthread_mutex_unlock(&lt_lock);
    return len;
}

static __attribute__((noinline)) void large_free(void *p) {
    pthread_mutex_lock(&lt_lock);
    unsigned i = lt_find((uintptr_t)p);
    if (i > LT_MASK) { pthread_mutex_unlock(&lt_lock); return; }   /* not ours: ignored */
    size_t len = lt[i].len;
    for (unsigned j = i;;) {            /* backward-shift deletion: no tombstones */
        j = (j + 1) & LT_MASK;
        if (!lt[j].p) break;
        unsigned k = lt_hash(lt[j].p);  /* entry j may move to i unless k lies in (i, j] */
        if (i <= j ? (k <= i || k > j) : (k <= i && k > j)) { lt[i] = lt[j]; i = j; }
    }
    lt[i].p = 0; lt_count--;
    pthread_mutex_unlock(&lt_lock);
    munmap(p, len);
}

/* ---- small blocks ----------------------------------------------------------------- */
static __attribute__((noinline)) void *small_carve(unsigned c, size_t n) {
    struct bin *b = &t_bins[c];
    size_t sz = (size_t)16 << c;
    if (b->end - b->bump < sz) {        /* both 0 at the thread's first call */
        uintptr_t bs = reserve();
        size_t off = bs ? atomic_fetch_add(&g_next[c], CHUNK) : 0;
        uintptr_t chunk = bs + ((uintptr_t)c << RSHIFT) + off;
        if (!bs || off + CHUNK > ((size_t)1 << RSHIFT) ||
            mprotect((void *)chunk, CHUNK, PROT_READ | PROT_WRITE))
            return large_alloc(n, sz < PAGE ? PAGE : sz);   /* range used up: own mapping */
        b->bump = chunk;
        b->end = chunk + CHUNK;
    }
    b->bump += sz;
    return (void *)(b->bump - sz);
}

static inline void *sol_alloc(size_t n) {
    if (n > MAXSMALL) return large_alloc(n, PAGE);
    unsigned c = size_class(n);
    void *p = t_bins[c].free;
    if (p) { t_bins[c].free = *(void **)p; return p; }
    return small_carve(c, n);
}

static inline void sol_free(void *p) {
    uintptr_t off = (uintptr_t)p - base();
    if (off < SPAN) {
        struct bin *b = &t_bins[off >> RSHIFT];
        *(void **)p = b->free;
        b->free = p;
    } else if (p) {
        large_free(p);
    }
}

static size_t usable(void *p) {
    uintptr_t off = (uintptr_t)p - base();
    if (off < SPAN) return (size_t)16 << (off >> RSHIFT);
    return p ? large_size(p) : 0;
}

/* align: a power of two */
static void *sol_aligned(size_t align, size_t n) {
    if (align <= 16) return sol_alloc(n);
    if (align <= MAXSMALL && n <= MAXSMALL) return sol_alloc(n > align ? n : align); /* blocks are aligned to their class size */
    return large_alloc(n, align);
}

/* ---- the glibc names -------------------------------------------------------------- */
EXPORT void *malloc(size_t n) { return sol_alloc(n); }
EXPORT void free(void *p) { sol_free(p); }

EXPORT void *calloc(size_t a, size_t b) {
    size_t n;
    if (__builtin_mul_overflow(a, b, &n)) { errno = ENOMEM; return NULL; }
    void *p = sol_alloc(n);
    if (p && (uintptr_t)p - base() < SPAN) memset(p, 0, n);    /* mmap'd blocks are zero */
    return p;
}

EXPORT void *realloc(void *p, size_t n) {
    if (!p) return sol_alloc(n);
    if (!n) { sol_free(p); return NULL; }
    size_t old = usable(p);
    if (n <= old) return p;
    void *q = sol_alloc(n);
    if (q) { memcpy(q, p, old); sol_free(p); }
    return q;
}

EXPORT void *reallocarray(void *p, size_t a, size_t b) {
    size_t n;
    if (__builtin_mul_overflow(a, b, &n)) { errno = ENOMEM; return NULL; }
    return realloc(p, n);
}

EXPORT int posix_memalign(void **out, size_t align, size_t n) {
    if (!align || (align & (align - 1)) || align % sizeof(void *)) return EINVAL;
    void *p = sol_aligned(align, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

EXPORT void *aligned_alloc(size_t align, size_t n) {
    if (!align || (align & (align - 1))) { errno = EINVAL; return NULL; }
    return sol_aligned(align, n);
}

EXPORT void *memalign(size_t align, size_t n) {
    if (align > MAXSMALL << 20) { errno = EINVAL; return NULL; }
    size_t a = 16;
    while (a < align) a <<= 1;          /* glibc rounds a non-power of two up */
    return sol_aligned(a, n);
}

EXPORT void *valloc(size_t n) { return sol_aligned(PAGE, n); }
EXPORT void *pvalloc(size_t n) { return sol_aligned(PAGE, n ? (n + PAGE - 1) & ~(PAGE - 1) : PAGE); }
EXPORT size_t malloc_usable_size(void *p) { return usable(p); }
