/**
 * vg_detect.c - memcheck sees hakmem blocks (make test VALGRIND=1 runs it).
 *
 * Linked with a VALGRIND=1 (client requests on, prefixed-only) library and run under
 * memcheck by tests/run_tests.sh, which asserts that memcheck reports each planted
 * error: a leaked block, a write past the end of a block, a read after free, a
 * read of uninitialised block memory.  A library without the annotations reports
 * none of them (the memory is plain mmap'ed memory to memcheck).
 */
#include "hakmem.h"

#include <stdio.h>
#include <string.h>

static void *volatile g_sink;

int main(void) {
    /* 1. a leak: the only pointer is dropped */
    g_sink = hak_malloc(100);
    g_sink = NULL;

    /* 2. overrun: a byte well inside the next block of a fresh Mid class (that
     *    neighbour is free, so nothing of it is addressable past its link word) */
    char *p = hak_malloc(2000);
    size_t u = hak_malloc_usable_size(p);
    p[u + 32] = 1;                                   /* "Invalid write" */

    /* 3. use after free */
    char *q = hak_malloc(300);
    memset(q, 7, 300);
    hak_free(q);
    volatile char c = q[40];                         /* "Invalid read" */
    (void)c;

    /* 4. uninitialised memory used in a branch */
    int *r = hak_malloc(64);
    if (r[3] == 42) puts("uninitialised value was 42");  /* "Conditional jump" */
    hak_free(r);

    hak_free(p);
    puts("vg_detect: done");
    return 0;
}
