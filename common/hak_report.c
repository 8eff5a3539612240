/**
 * hak_report.c - fatal errors and formatted output without stdio.
 */
#include "hak_report.h"
#include "hak_block.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void hak_buf_str(hak_buf *o, const char *s) {
    while (*s && o->n < sizeof(o->b)) o->b[o->n++] = *s++;
}

static void buf_digits(hak_buf *o, uint64_t v, int width) {
    char tmp[24];
    int n = 0;
    do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (width-- > n && o->n < sizeof(o->b)) o->b[o->n++] = ' ';
    while (n && o->n < sizeof(o->b)) o->b[o->n++] = tmp[--n];
}

void hak_buf_u64(hak_buf *o, uint64_t v) { buf_digits(o, v, 0); }
void hak_buf_u64w(hak_buf *o, uint64_t v, int width) { buf_digits(o, v, width); }

void hak_buf_hex(hak_buf *o, uintptr_t v) {
    char tmp[2 + 16];
    int n = 0;
    do { tmp[n++] = "0123456789abcdef"[v & 15]; v >>= 4; } while (v);
    hak_buf_str(o, "0x");
    while (n && o->n < sizeof(o->b)) o->b[o->n++] = tmp[--n];
}

void hak_buf_pct(hak_buf *o, uint64_t num, uint64_t den) {
    if (den == 0) { hak_buf_str(o, "n/a"); return; }
    uint64_t bp = (uint64_t)((__uint128_t)num * 10000 / den);  /* basis points */
    hak_buf_u64(o, bp / 100);
    hak_buf_str(o, ".");
    if (bp % 100 < 10) hak_buf_str(o, "0");
    hak_buf_u64(o, bp % 100);
    hak_buf_str(o, "%");
}

void hak_buf_flush(hak_buf *o) {
    int saved = errno;
    size_t off = 0;
    while (off < o->n) {
        ssize_t w = write(2, o->b + off, o->n - off);
        if (w <= 0) break;
        off += (size_t)w;
    }
    o->n = 0;
    errno = saved;
}

void hak_fatal_ptr(const char *api, const char *what, const void *p) {
    hak_buf o = { .n = 0 };
    hak_buf_str(&o, "hakmem: ");
    hak_buf_str(&o, api);
    hak_buf_str(&o, "(): ");
    hak_buf_str(&o, what);
    hak_buf_str(&o, " ");
    hak_buf_hex(&o, (uintptr_t)p);
    hak_buf_str(&o, "\n");
    hak_buf_flush(&o);
    abort();
}

void hak_bad_free(const char *api, const void *p, uint8_t state) {
    if (state == HAK_BLK_FREE)
        hak_fatal_ptr(api, "double free or use of a freed pointer", p);
    if (state == HAK_BLK_UNOWNED)
        hak_fatal_ptr(api, "invalid pointer (memory hakmem holds unused: double free?)", p);
    hak_fatal_ptr(api, "invalid pointer (not the start of a hakmem block)", p);
}

void hak_assert_fail(const char *expr, const char *file, int line) {
    hak_buf o = { .n = 0 };
    hak_buf_str(&o, "hakmem: assertion failed: ");
    hak_buf_str(&o, expr);
    hak_buf_str(&o, " at ");
    hak_buf_str(&o, file);
    hak_buf_str(&o, ":");
    hak_buf_u64(&o, (uint64_t)line);
    hak_buf_str(&o, "\n");
    hak_buf_flush(&o);
    abort();
}
