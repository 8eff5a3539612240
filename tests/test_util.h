/**
 * test_util.h - helpers shared by the hakmem Check suites.
 *
 * Every suite is compiled into one binary per phase, linked with that phase's
 * libhakmem.a, so malloc/free in here are hakmem's.
 */
#ifndef HAK_TEST_UTIL_H
#define HAK_TEST_UTIL_H

#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef HAK_TEST_PHASE
#define HAK_TEST_PHASE "unknown"
#endif
#ifndef HAK_TEST_SO
#define HAK_TEST_SO "libhakmem.so"
#endif

/* Suites (one per tests/ source file). */
Suite *classes_suite(void);
Suite *api_suite(void);
Suite *align_suite(void);
Suite *threads_suite(void);
Suite *death_suite(void);
Suite *realprog_suite(void);
Suite *stats_suite(void);
Suite *phase_suite(void);

/* Optimisation barriers: keep the compiler from folding allocator calls. */
static inline size_t hide_size(size_t n) { __asm__ volatile("" : "+r"(n)); return n; }
static inline void *hide_ptr(void *p) { __asm__ volatile("" : "+r"(p) : : "memory"); return p; }

/* Deterministic fill/verify of a block: the byte pattern depends on the block's
 * address, its length and a seed, so blocks handed out twice or overlapping show. */
void pattern_fill(void *p, size_t n, uint32_t seed);
/* Returns the index of the first wrong byte, or (size_t)-1 if all are right. */
size_t pattern_check(const void *p, size_t n, uint32_t seed);
#define PATTERN_OK ((size_t)-1)

/* Tiny xorshift PRNG. */
static inline uint64_t rng_next(uint64_t *s) {
    uint64_t x = *s;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    return *s = x;
}

/* ---- death tests -------------------------------------------------------- */
/* Run fn(arg) in a forked child whose stderr goes into a pipe (alarm watchdog of
 * `timeout_s`).  Captured stderr into out (NUL-terminated).  Returns the raw
 * waitpid status. */
int death_run(void (*fn)(void *), void *arg, char *out, size_t outsz, unsigned timeout_s);
/* Re-exec this binary (/proc/self/exe) with extra environment assignments
 * ("A=1 B=2", may be NULL) and the hidden argument "--hak-scenario NAME"; stderr captured as
 * in death_run.  Returns the raw status. */
int scenario_run(const char *name, const char *env_assign, char *out, size_t outsz,
                 unsigned timeout_s);
/* Absolute path of the test binary (main() fills it from argv[0]). */
extern char g_test_exe[4096];
/* Called by main() for the hidden mode; returns the exit code. */
int hak_test_scenario(const char *name);

/* Assert that `status` is death by SIGABRT and that `text` holds
 * "hakmem: API(): " + reason + " " + the pointer as %p prints it. */
void assert_abort_msg_at(const char *file, int line, int status, const char *text,
                         const char *api, const char *reason, const void *p);
#define assert_abort_msg(st, txt, api, reason, p) \
    assert_abort_msg_at(__FILE__, __LINE__, (st), (txt), (api), (reason), (p))

#define REASON_FOREIGN  "invalid pointer (not allocated by hakmem)"
#define REASON_INTERIOR "invalid pointer (not the start of a hakmem block)"
#define REASON_DOUBLE   "double free or use of a freed pointer"
#define REASON_UNOWNED  "invalid pointer (memory hakmem holds unused: double free?)"
#define REASON_RELEASED "invalid pointer (memory hakmem already returned to the OS: double free?)"

/* ---- external programs --------------------------------------------------- */
/* mkdtemp under /tmp; returns a malloc'd path. */
char *make_tmpdir(const char *tag);
void remove_tree(const char *dir);
/* Run a /bin/sh script in `dir`, HAKMEM_STATS unset, LD_PRELOAD=HAK_TEST_SO when
 * preload is set.  Returns the exit code (or -1 / 128+sig). */
int run_sh(const char *dir, int preload, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* 1 if the two files have identical contents. */
int files_equal(const char *a, const char *b);
/* Read a whole file (malloc'd, NUL-terminated), NULL on error. */
char *read_file_all(const char *path, size_t *len);
int write_file_all(const char *path, const void *data, size_t len);
/* Does the file contain the substring? */
int file_contains(const char *path, const char *needle);

/* HAKMEM_SMALLMID_ENABLE=1 in the environment (the mode this run tests). */
int smallmid_on(void);

/* Resident set size in bytes (/proc/self/statm). */
size_t rss_bytes(void);

/* ---- the malloc family through volatile pointers ---------------------------
 * The test binary is not built with -fno-builtin, so GCC may delete a
 * malloc/free pair whose block is never used, or fold malloc(SIZE_MAX).  Every
 * call below goes through a volatile pointer to the real (hakmem) function, so
 * each call the test writes is a call hakmem sees. */
extern void *(*volatile t_malloc)(size_t);
extern void (*volatile t_free)(void *);
extern void *(*volatile t_calloc)(size_t, size_t);
extern void *(*volatile t_realloc)(void *, size_t);
extern void *(*volatile t_reallocarray)(void *, size_t, size_t);
extern int (*volatile t_posix_memalign)(void **, size_t, size_t);
extern void *(*volatile t_aligned_alloc)(size_t, size_t);
extern void *(*volatile t_memalign)(size_t, size_t);
extern void *(*volatile t_valloc)(size_t);
extern void *(*volatile t_pvalloc)(size_t);
extern size_t (*volatile t_malloc_usable_size)(void *);
#ifndef HAK_TEST_NO_WRAP
#define malloc(n) t_malloc(n)
#define free(p) t_free(p)
#define calloc(a, b) t_calloc(a, b)
#define realloc(p, n) t_realloc(p, n)
#define reallocarray(p, a, b) t_reallocarray(p, a, b)
#define posix_memalign(o, a, n) t_posix_memalign(o, a, n)
#define aligned_alloc(a, n) t_aligned_alloc(a, n)
#define memalign(a, n) t_memalign(a, n)
#define valloc(n) t_valloc(n)
#define pvalloc(n) t_pvalloc(n)
#define malloc_usable_size(p) t_malloc_usable_size(p)
#endif

#endif /* HAK_TEST_UTIL_H */
