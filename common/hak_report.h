/**
 * hak_report.h - output without allocating: fatal errors and stats lines.
 *
 * Nothing here calls stdio or malloc: text is built in a caller's stack buffer and
 * written to fd 2 with write(2).
 */
#ifndef HAK_REPORT_H
#define HAK_REPORT_H

#include "hak_config.h"

typedef struct hak_buf {
    char b[512];
    size_t n;
} hak_buf;

void hak_buf_str(hak_buf *o, const char *s);
void hak_buf_u64(hak_buf *o, uint64_t v);
void hak_buf_u64w(hak_buf *o, uint64_t v, int width);   /* right-aligned */
void hak_buf_hex(hak_buf *o, uintptr_t v);              /* 0x... */
void hak_buf_pct(hak_buf *o, uint64_t num, uint64_t den); /* "12.34%" */
void hak_buf_flush(hak_buf *o);                         /* write to stderr, reset */

/* "hakmem: <api>(): <what> <ptr>\n" on stderr, then abort(). */
void hak_fatal_ptr(const char *api, const char *what, const void *p) HAK_NORETURN HAK_COLD;

#endif /* HAK_REPORT_H */
