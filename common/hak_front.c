/**
 * hak_front.c - the small front's bins and routing tables (hak_front.h).
 */
#include "hak_front.h"

#include <sys/auxv.h>

uintptr_t g_hak_free_key = (uintptr_t)0x6b6579206861686bULL;   /* until process init */

void hak_front_init_key(void) {
    /* 16 random bytes the kernel gives every process at exec: no syscall, no malloc. */
    const unsigned char *r = (const unsigned char *)getauxval(AT_RANDOM);  /* not aligned */
    uintptr_t k = (uintptr_t)&k * 0x9E3779B97F4A7C15ULL, w[2];
    if (r) {
        __builtin_memcpy(w, r, sizeof w);
        k = w[0] ^ w[1];
    }
    g_hak_free_key = k | 1;                                     /* never 0 */
}

#define BIN(s) { .mask = (uint16_t)((1u << (s)) - 1), .shift = (s) }
HAK_TLS hak_tls_bin t_hak_bins[HAK_NBINS] = {
    [HAK_BIN_TINY + 0] = BIN(4), [HAK_BIN_TINY + 1] = BIN(5), [HAK_BIN_TINY + 2] = BIN(6),
    [HAK_BIN_TINY + 3] = BIN(7), [HAK_BIN_TINY + 4] = BIN(8), [HAK_BIN_TINY + 5] = BIN(9),
    [HAK_BIN_TINY + 6] = BIN(10),
    [HAK_BIN_SMALLMID + 0] = BIN(8), [HAK_BIN_SMALLMID + 1] = BIN(9),
    [HAK_BIN_SMALLMID + 2] = BIN(10),
};

/* Until the phase routes otherwise (and before process init): every request to
 * its Tiny bin; every slab tag to its own class's bin. */
#define T(c) (HAK_BIN_TINY + (c))
uint8_t g_hak_size_bin[HAK_SIZE_BINS] = {
    [0 ... 16] = T(0), [17 ... 32] = T(1), [33 ... 64] = T(2), [65 ... 128] = T(3),
    [129 ... 256] = T(4), [257 ... 512] = T(5), [513 ... 1024] = T(6),
};
uint8_t g_hak_tag_bin[256] = {
    [HAK_TAG_TINY | 0] = T(0), [HAK_TAG_TINY | 1] = T(1), [HAK_TAG_TINY | 2] = T(2),
    [HAK_TAG_TINY | 3] = T(3), [HAK_TAG_TINY | 4] = T(4), [HAK_TAG_TINY | 5] = T(5),
    [HAK_TAG_TINY | 6] = T(6),
    [HAK_TAG_SMALLMID | 0] = HAK_BIN_SMALLMID + 0, [HAK_TAG_SMALLMID | 1] = HAK_BIN_SMALLMID + 1,
    [HAK_TAG_SMALLMID | 2] = HAK_BIN_SMALLMID + 2,
};
#undef T

void hak_front_route_sizes(size_t lo, size_t hi, unsigned bin) {
    hak_assert(lo <= hi && hi <= TINY_MAX_SIZE && bin > 0 && bin < HAK_NBINS);
    for (size_t n = lo; n <= hi; n++) g_hak_size_bin[n] = (uint8_t)bin;
}

void hak_front_route_tag(unsigned tag, unsigned bin) {
    hak_assert(tag < 256 && bin > 0 && bin < HAK_NBINS);
    g_hak_tag_bin[tag] = (uint8_t)bin;
}

void hak_front_bad(const void *p, unsigned state, const char *api) {
    hak_bad_free(api, p, (uint8_t)state);
}
