/**
 * hakmem.h - hakmem's public, prefixed API.
 *
 * Link libhakmem.a (or libhakmem.so) and call these directly when you do not want
 * to interpose the system allocator (sanitizer builds, valgrind, embedding).  The
 * unprefixed malloc/free/... exported by the same libraries behave identically.
 */
#ifndef HAKMEM_H
#define HAKMEM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

void *hak_malloc(size_t size);
void hak_free(void *ptr);
void *hak_calloc(size_t nmemb, size_t size);
void *hak_realloc(void *ptr, size_t size);
void *hak_reallocarray(void *ptr, size_t nmemb, size_t size);
int hak_posix_memalign(void **out, size_t alignment, size_t size);
void *hak_aligned_alloc(size_t alignment, size_t size);
void *hak_memalign(size_t alignment, size_t size);
void *hak_valloc(size_t size);
void *hak_pvalloc(size_t size);
size_t hak_malloc_usable_size(void *ptr);

/* The phase this library was built from, e.g. "phase17_1_front". */
const char *hak_phase_name(void);
/* Print the HAKMEM_STATS report now (it is printed at exit when HAKMEM_STATS=1). */
void hak_stats_print(void);

#ifdef __cplusplus
}
#endif

#endif /* HAKMEM_H */
