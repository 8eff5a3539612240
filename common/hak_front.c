/**
 * hak_front.c - the small front's bins and routing tables (hak_front.h).
 */
#include "hak_front.h"

#define BIN(s) { .mask = (uint16_t)((1u << (s)) - 1), .shift = (s) }
HAK_TLS hak_tls_bin t_hak_bins[HAK_NBINS] = {
    [HAK_BIN_TINY + 0] = BIN(3), [HAK_BIN_TINY + 1] = BIN(4), [HAK_BIN_TINY + 2] = BIN(5),
    [HAK_BIN_TINY + 3] = BIN(6), [HAK_BIN_TINY + 4] = BIN(7), [HAK_BIN_TINY + 5] = BIN(8),
    [HAK_BIN_TINY + 6] = BIN(9), [HAK_BIN_TINY + 7] = BIN(10),
    [HAK_BIN_SMALLMID + 0] = BIN(8), [HAK_BIN_SMALLMID + 1] = BIN(9),
    [HAK_BIN_SMALLMID + 2] = BIN(10),
};

/* Until the phase routes otherwise (and before process init): every request to
 * its Tiny bin; every slab tag to its own class's bin. */
#define T(c) (HAK_BIN_TINY + (c))
uint8_t g_hak_size_bin[HAK_SIZE_BINS] = {
    [0 ... 8] = T(0), [9 ... 16] = T(1), [17 ... 32] = T(2), [33 ... 64] = T(3),
    [65 ... 128] = T(4), [129 ... 256] = T(5), [257 ... 512] = T(6), [513 ... 1024] = T(7),
};
uint8_t g_hak_tag_bin[256] = {
    [HAK_TAG_TINY | 0] = T(0), [HAK_TAG_TINY | 1] = T(1), [HAK_TAG_TINY | 2] = T(2),
    [HAK_TAG_TINY | 3] = T(3), [HAK_TAG_TINY | 4] = T(4), [HAK_TAG_TINY | 5] = T(5),
    [HAK_TAG_TINY | 6] = T(6), [HAK_TAG_TINY | 7] = T(7),
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
