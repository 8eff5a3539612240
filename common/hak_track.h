/**
 * hak_track.h - memcheck client requests (make VALGRIND=1), nothing otherwise.
 *
 * With -DHAKMEM_VALGRIND=1 every block handed out is a MALLOCLIKE block of the
 * requested size and every free a FREELIKE one, so memcheck reports leaks, overruns
 * and use-after-free in hakmem blocks as it does for glibc's.  Region data is
 * NOACCESS from the moment it is mapped; headers and state bytes are made DEFINED
 * by their owners; a free block's first word (its list link) stays DEFINED so the
 * allocator's own list walking is clean.
 */
#ifndef HAK_TRACK_H
#define HAK_TRACK_H

#ifndef HAKMEM_VALGRIND
#define HAKMEM_VALGRIND 0
#endif

#if HAKMEM_VALGRIND
#include <stdint.h>
#include <valgrind/memcheck.h>
#define hak_track_malloc(p, n, zeroed) VALGRIND_MALLOCLIKE_BLOCK((p), (n), 0, (zeroed))
#define hak_track_free(p)              VALGRIND_FREELIKE_BLOCK((p), 0)
#define hak_track_noaccess(p, n)       VALGRIND_MAKE_MEM_NOACCESS((p), (n))
#define hak_track_undefined(p, n)      VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define hak_track_defined(p, n)        VALGRIND_MAKE_MEM_DEFINED((p), (n))
/* Whether the word at a is wholly defined, so a check may branch on it.  A word the
 * program never wrote cannot hold the free key, which hakmem writes whole; without
 * this, memcheck reports the key check of every free as a use of uninitialised
 * memory. */
static inline int hak_track_word_defined(const void *a) {
    unsigned char v[sizeof(uintptr_t)];
    if (VALGRIND_GET_VBITS(a, v, sizeof v) != 1) return 1;
    for (unsigned i = 0; i < sizeof v; i++)
        if (v[i]) return 0;
    return 1;
}
#else
#define hak_track_malloc(p, n, zeroed) ((void)0)
#define hak_track_free(p)              ((void)0)
#define hak_track_noaccess(p, n)       ((void)0)
#define hak_track_undefined(p, n)      ((void)0)
#define hak_track_defined(p, n)        ((void)0)
#define hak_track_word_defined(a)      1
#endif

#endif /* HAK_TRACK_H */
