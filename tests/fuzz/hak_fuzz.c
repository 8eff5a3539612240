/**
 * hak_fuzz.c - libFuzzer harness: input bytes become a sequence of hak_malloc /
 * hak_free / hak_realloc / hak_memalign / hak_calloc / ... calls checked against a
 * shadow model.
 *
 * Built with clang -fsanitize=fuzzer,address,undefined against the prefixed-only
 * library objects (-DHAKMEM_NO_EXPORT, assertions on), so ASan watches hakmem's own
 * code while hakmem manages the blocks.  Every live block has a shadow record (size,
 * fill byte); contents, alignment and usable size are checked on every touch, and a
 * block is never handed out twice while live (overlap check on allocation).
 *
 *   make fuzz PHASE=phase17_1_front FUZZ_SECONDS=60
 *   build-fuzz/<phase>/hak_fuzz FILES...   (make test replays seeds/ and regress/)
 */
#include "hakmem.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 64

typedef struct shadow {
    unsigned char *p;
    size_t size;
    unsigned char fill;
} shadow;

typedef struct reader {
    const uint8_t *d;
    size_t n, i;
} reader;

static unsigned rd8(reader *r) { return r->i < r->n ? r->d[r->i++] : 0; }
static unsigned rd16(reader *r) { unsigned a = rd8(r); return a | (rd8(r) << 8); }

static void die(const char *what, const shadow *s) {
    fprintf(stderr, "hak_fuzz: %s (ptr %p size %zu)\n", what, s ? (void *)s->p : NULL,
            s ? s->size : 0);
    abort();
}

/* Sizes: mostly Tiny/Small-Mid, some Mid, a few Large. */
static size_t rd_size(reader *r) {
    unsigned sel = rd8(r), v = rd16(r);
    if (sel < 150) return v % 1025;                       /* 0..1024       */
    if (sel < 240) return 1025 + v % 64512;               /* Mid           */
    return 65537 + (size_t)v * 8;                         /* Large <= ~600K */
}

static void check_contents(const shadow *s) {
    size_t n = s->size < 4096 ? s->size : 4096;           /* head and tail of big blocks */
    for (size_t i = 0; i < n; i++)
        if (s->p[i] != s->fill) die("contents changed", s);
    if (s->size > 4096)
        for (size_t i = s->size - 64; i < s->size; i++)
            if (s->p[i] != s->fill) die("tail changed", s);
}

static void fill(shadow *s, unsigned char f) {
    s->fill = f;
    if (s->size <= 8192) {
        memset(s->p, f, s->size);
    } else {
        memset(s->p, f, 4096);
        memset(s->p + s->size - 64, f, 64);
    }
}

static void check_new(shadow *sh, int slot, size_t align) {
    shadow *s = &sh[slot];
    uintptr_t a = (uintptr_t)s->p;
    if (s->size >= 16 ? (a & 15) : (a & 7)) die("misaligned", s);
    if (align && (a & (align - 1))) die("misaligned for memalign", s);
    if (hak_malloc_usable_size(s->p) < s->size) die("usable size below request", s);
    for (int i = 0; i < SLOTS; i++) {
        if (i == slot || !sh[i].p) continue;
        uintptr_t b = (uintptr_t)sh[i].p;
        size_t sa = s->size ? s->size : 1, sb = sh[i].size ? sh[i].size : 1;
        if (a < b + sb && b < a + sa) die("overlaps a live block", s);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    shadow sh[SLOTS];
    memset(sh, 0, sizeof(sh));
    reader r = { data, size, 0 };
    while (r.i < r.n) {
        unsigned op = rd8(&r) % 9, slot = rd8(&r) % SLOTS;
        shadow *s = &sh[slot];
        unsigned char f = (unsigned char)(rd8(&r) | 1);
        switch (op) {
        case 0: case 1: {                                  /* malloc */
            if (s->p) { check_contents(s); hak_free(s->p); s->p = NULL; }
            size_t n = rd_size(&r);
            s->p = hak_malloc(n);
            if (!s->p) die("malloc failed", NULL);
            s->size = n;
            check_new(sh, (int)slot, 0);
            fill(s, f);
            break;
        }
        case 2:                                            /* free */
            if (s->p) { check_contents(s); hak_free(s->p); s->p = NULL; }
            break;
        case 3: {                                          /* realloc */
            size_t n = rd_size(&r);
            if (s->p) check_contents(s);
            unsigned char *q = hak_realloc(s->p, n);
            if (!q) {
                if (n == 0 && s->p) { s->p = NULL; break; }  /* glibc: freed */
                die("realloc failed", s);
            }
            size_t keep = s->p ? (n < s->size ? n : s->size) : 0;
            if (keep == s->size) {                         /* grew or same: all of it */
                shadow t = { q, keep, s->fill };
                if (keep) check_contents(&t);
            } else {                                       /* shrank: the filled head */
                for (size_t i = 0; i < keep && i < 4096; i++)
                    if (q[i] != s->fill) die("realloc lost contents", s);
            }
            s->p = q;
            s->size = n;
            check_new(sh, (int)slot, 0);
            fill(s, f);
            break;
        }
        case 4: {                                          /* memalign family */
            if (s->p) { check_contents(s); hak_free(s->p); s->p = NULL; }
            size_t align = (size_t)1 << (rd8(&r) % 16);    /* 1 .. 32 KiB */
            size_t n = rd_size(&r);
            unsigned which = rd8(&r) % 3;
            void *q = NULL;
            if (which == 0) {
                int rc = hak_posix_memalign(&q, align, n);
                if (align < sizeof(void *)) { if (rc != EINVAL) die("posix_memalign accepted a bad alignment", NULL); break; }
                if (rc) die("posix_memalign failed", NULL);
            } else if (which == 1) {
                q = hak_aligned_alloc(align, n);
            } else {
                q = hak_memalign(align, n);
            }
            if (!q) die("aligned allocation failed", NULL);
            s->p = q;
            s->size = n;
            check_new(sh, (int)slot, align);
            fill(s, f);
            break;
        }
        case 5: {                                          /* calloc */
            if (s->p) { check_contents(s); hak_free(s->p); s->p = NULL; }
            size_t a = rd8(&r) + 1, b = rd_size(&r) / 64 + 1;
            unsigned char *q = hak_calloc(a, b);
            if (!q) die("calloc failed", NULL);
            for (size_t i = 0; i < a * b; i++)
                if (q[i]) die("calloc not zeroed", NULL);
            s->p = q;
            s->size = a * b;
            check_new(sh, (int)slot, 0);
            fill(s, f);
            break;
        }
        case 6:                                            /* usable size */
            if (s->p && hak_malloc_usable_size(s->p) < s->size) die("usable size shrank", s);
            break;
        case 7: {                                          /* reallocarray, overflow */
            void *q = hak_reallocarray(s->p, SIZE_MAX / 2, 3);
            if (q || errno != ENOMEM) die("reallocarray overflow not rejected", s);
            if (s->p) check_contents(s);                   /* old block intact */
            break;
        }
        case 8: {                                          /* valloc / pvalloc */
            if (s->p) { check_contents(s); hak_free(s->p); s->p = NULL; }
            size_t n = rd_size(&r);
            void *q = (f & 2) ? hak_valloc(n) : hak_pvalloc(n);
            if (!q) die("valloc failed", NULL);
            s->p = q;
            s->size = n;
            check_new(sh, (int)slot, 4096);
            fill(s, f);
            break;
        }
        }
    }
    for (int i = 0; i < SLOTS; i++)
        if (sh[i].p) { check_contents(&sh[i]); hak_free(sh[i].p); }
    return 0;
}
