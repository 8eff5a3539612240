/**
 * hak_options.c - HAKMEM_* environment variables (see README.md "Options").
 */
#include "hak_options.h"

#include <stdlib.h>

const hak_option_desc hak_option_table[HAK_OPT_COUNT] = {
    [HAK_OPT_SMALLMID_ENABLE] = { "HAKMEM_SMALLMID_ENABLE", 0, 0, 1,
        "1: serve 256..1024 B through the Small-Mid front (the phase's Small-Mid design); "
        "0: Tiny serves them (the Baseline)" },
    [HAK_OPT_STATS] = { "HAKMEM_STATS", 0, 0, 1,
        "1: print allocator statistics on stderr at exit" },
    [HAK_OPT_LARGE_CACHE] = { "HAKMEM_LARGE_CACHE", 16, 0, 64,
        "free Large (> 64 KiB) ranges kept for reuse, merged with their free neighbours "
        "(bytes bounded by the live Large bytes, hak_large.h); 0 unmaps every free" },
    [HAK_OPT_SS_WARM] = { "HAKMEM_SS_WARM", 8, 0, 4096,
        "phase18 on: all-free SuperSlabs kept with their pages (1 MiB each); beyond, "
        "their pages go back to the OS" },
    [HAK_OPT_SS_PREWARM] = { "HAKMEM_SS_PREWARM", 0, 0, 4096,
        "phase18_prewarm on: SuperSlabs (1 MiB each, all classes share them) mapped and "
        "faulted in at start-up" },
    [HAK_OPT_SS_HUGEPAGE] = { "HAKMEM_SS_HUGEPAGE", 0, 0, 1,
        "phase18_prewarm on: 1 backs SuperSlabs with transparent huge pages (2 MiB-aligned "
        "pairs, MADV_HUGEPAGE) where the kernel allows it" },
    [HAK_OPT_TINY_CACHE] = { "HAKMEM_TINY_CACHE", 512, 0, 4096,
        "KiB of blocks a thread's Tiny bins may hold in all (cap x block size); bins with "
        "two-way traffic grow within it; at most 272 (the bases) keeps every bin at its base" },
    [HAK_OPT_MID_WARM] = { "HAKMEM_MID_WARM", 4, 0, 4096,
        "all-free Mid segments (1 MiB each, 1-64 KiB blocks) kept with their pages for any "
        "Mid class to take; beyond, the least recently emptied is unmapped" },
    [HAK_OPT_LARGE_PURGE_MS] = { "HAKMEM_LARGE_PURGE_MS", 10000, -1, 3600000,
        "a free Large range not reused for this many ms gives its pages back to the OS "
        "(MADV_DONTNEED; the range stays cached), checked at the next Large call; 0: at "
        "once, -1: never" },
};

long g_hak_options[HAK_OPT_COUNT];

/* Decimal only; anything unparsable or out of range keeps the default. */
static int parse_long(const char *s, long *out) {
    long v = 0;
    int neg = 0;
    if (*s == '-') { neg = 1; s++; }
    if (*s < '0' || *s > '9') return -1;
    while (*s >= '0' && *s <= '9') {
        if (v > 1000000000L) return -1;
        v = v * 10 + (*s++ - '0');
    }
    if (*s) return -1;
    *out = neg ? -v : v;
    return 0;
}

void hak_options_init(void) {
    for (int i = 0; i < HAK_OPT_COUNT; i++) {
        const hak_option_desc *d = &hak_option_table[i];
        long v = d->def;
        const char *s = getenv(d->name);
        long parsed;
        if (s && parse_long(s, &parsed) == 0 && parsed >= d->min && parsed <= d->max) v = parsed;
        g_hak_options[i] = v;
    }
}
