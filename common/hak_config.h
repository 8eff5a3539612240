/**
 * hak_config.h - build-wide macros: branch hints, TLS model, assertions.
 *
 * Release builds (default): assertions and hot-path statistics compile to nothing.
 *   make DEBUG=1  -> -DHAKMEM_DEBUG=1: hak_assert / hak_assert_expensive are live,
 *                    hot-path stats are counted.
 *   make STATS=1  -> -DHAKMEM_STATS_BUILD=1: hot-path stats only (no asserts).
 */
#ifndef HAK_CONFIG_H
#define HAK_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define hak_likely(x)   __builtin_expect(!!(x), 1)
#define hak_unlikely(x) __builtin_expect(!!(x), 0)

#define HAK_INLINE   static inline __attribute__((always_inline))
#define HAK_NOINLINE __attribute__((noinline))
#define HAK_COLD     __attribute__((noinline, cold))
#define HAK_NORETURN __attribute__((noreturn))
#define HAK_EXPORT   __attribute__((visibility("default")))
/* On an extern declaration: the object is in this library (-fvisibility=hidden
 * covers definitions, not declarations), so it is read with one RIP-relative load,
 * not a load of its GOT entry first. */
#define HAK_HIDDEN   __attribute__((visibility("hidden")))
/* A zero-initialised variable of a file that also defines a sparse array: kept in
 * .data, so that it does not land on a page of its own beside the array in .bss
 * (the Makefile links those files last: SPARSE_SRCS). */
#define HAK_NOT_BSS  __attribute__((section(".data.hakmem")))

/* Every thread-local of the allocator uses the initial-exec model: no
 * __tls_get_addr call (which may allocate) on any path. */
#define HAK_TLS __thread __attribute__((tls_model("initial-exec")))

#ifndef HAKMEM_DEBUG
#define HAKMEM_DEBUG 0
#endif
#if HAKMEM_DEBUG && !defined(HAKMEM_STATS_BUILD)
#define HAKMEM_STATS_BUILD 1
#endif
#ifndef HAKMEM_STATS_BUILD
#define HAKMEM_STATS_BUILD 0
#endif

void hak_assert_fail(const char *expr, const char *file, int line) HAK_NORETURN HAK_COLD;

#if HAKMEM_DEBUG
#define hak_assert(e) \
    (hak_likely(e) ? (void)0 : hak_assert_fail(#e, __FILE__, __LINE__))
/* Invariant checks that walk lists or metadata: DEBUG builds only. */
#define hak_assert_expensive(e) hak_assert(e)
#else
#define hak_assert(e)           ((void)0)
#define hak_assert_expensive(e) ((void)0)
#endif

#endif /* HAK_CONFIG_H */
