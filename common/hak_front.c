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

/* Every bin's block size, once: X(bin, size).  A bin's mask and shift are its
 * class's granule (the largest power of two dividing the size, hak_size_class.h). */
#define HAK_BINS(X)                                                                   \
    X(HAK_BIN_TINY + 0, 16)   X(HAK_BIN_TINY + 1, 32)    X(HAK_BIN_TINY + 2, 48)        \
    X(HAK_BIN_TINY + 3, 64)   X(HAK_BIN_TINY + 4, 96)    X(HAK_BIN_TINY + 5, 128)       \
    X(HAK_BIN_TINY + 6, 192)  X(HAK_BIN_TINY + 7, 256)   X(HAK_BIN_TINY + 8, 384)       \
    X(HAK_BIN_TINY + 9, 512)  X(HAK_BIN_TINY + 10, 768)  X(HAK_BIN_TINY + 11, 1024)     \
    X(HAK_BIN_SMALLMID + 0, 256) X(HAK_BIN_SMALLMID + 1, 512) X(HAK_BIN_SMALLMID + 2, 1024)
#define BIN(bin, size) [bin] = { .mask = (uint16_t)(((size) & -(size)) - 1),           \
                                 .shift = (uint8_t)__builtin_ctz(size) },
#define BIN_SIZE(bin, size) [bin] = (size),
HAK_TLS hak_tls_bin t_hak_bins[HAK_NBINS] = { HAK_BINS(BIN) };
/* Block size of each bin (malloc_usable_size, realloc). */
const uint16_t g_hak_bin_size[HAK_NBINS] = { HAK_BINS(BIN_SIZE) };
#undef BIN
#undef BIN_SIZE

/* Until the phase routes otherwise (and before process init): every request to
 * its Tiny bin; every slab tag to its own class's bin. */
#define T(c) HAK_ROUTE(HAK_BIN_TINY + (c))
uint8_t g_hak_size_route[HAK_SIZE_BINS] = {
    [0 ... 16] = T(0), [17 ... 32] = T(1), [33 ... 48] = T(2), [49 ... 64] = T(3),
    [65 ... 96] = T(4), [97 ... 128] = T(5), [129 ... 192] = T(6), [193 ... 256] = T(7),
    [257 ... 384] = T(8), [385 ... 512] = T(9), [513 ... 768] = T(10), [769 ... 1024] = T(11),
};
uint8_t g_hak_tag_route[256] = {
    [HAK_TAG_TINY | 0] = T(0), [HAK_TAG_TINY | 1] = T(1), [HAK_TAG_TINY | 2] = T(2),
    [HAK_TAG_TINY | 3] = T(3), [HAK_TAG_TINY | 4] = T(4), [HAK_TAG_TINY | 5] = T(5),
    [HAK_TAG_TINY | 6] = T(6), [HAK_TAG_TINY | 7] = T(7), [HAK_TAG_TINY | 8] = T(8),
    [HAK_TAG_TINY | 9] = T(9), [HAK_TAG_TINY | 10] = T(10), [HAK_TAG_TINY | 11] = T(11),
    [HAK_TAG_SMALLMID | 0] = HAK_ROUTE(HAK_BIN_SMALLMID + 0),
    [HAK_TAG_SMALLMID | 1] = HAK_ROUTE(HAK_BIN_SMALLMID + 1),
    [HAK_TAG_SMALLMID | 2] = HAK_ROUTE(HAK_BIN_SMALLMID + 2),
};
#undef T

void hak_front_route_sizes(size_t lo, size_t hi, unsigned bin) {
    hak_assert(lo <= hi && hi <= TINY_MAX_SIZE && bin > 0 && bin < HAK_NBINS);
    for (size_t n = lo; n <= hi; n++) g_hak_size_route[n] = (uint8_t)HAK_ROUTE(bin);
}

void hak_front_route_tag(unsigned tag, unsigned bin) {
    hak_assert(tag < 256 && bin > 0 && bin < HAK_NBINS);
    g_hak_tag_route[tag] = (uint8_t)HAK_ROUTE(bin);
}

void hak_front_bad(const void *p, unsigned state, const char *api) {
    hak_bad_free(api, p, (uint8_t)state);
}
