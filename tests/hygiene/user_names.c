/**
 * user_names.c - a program with names of its own, linked with the whole of
 * libhakmem.a (-Wl,--whole-archive): the link fails if hakmem defines any of them,
 * and the run checks that the program's definitions are the ones it calls while
 * malloc & co. are hakmem's.  The names are those hakmem's layers had before they
 * took the prefix, and generic ones a program might well use.
 */
#include "hakmem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int init_calls;
int g_reg_root[4] = { 1, 2, 3, 4 };
__thread int t_tiny_bins = 7;
int g_smallmid_enabled = 42;

void init(void) { init_calls++; }
void phase_init(void) { init_calls += 10; }
void *tiny_alloc_slow(unsigned c) { return (void *)(unsigned long)(c + 1); }
void *tiny_alloc(size_t n) { return (void *)n; }
unsigned mid_reclaim(void) { return 1234; }
void smallmid_init(void) { init_calls += 100; }
int smallmid_refill_batch(int a, void **b, int c) { (void)b; return a + c; }
void tiny_thread_init(void) { init_calls += 1000; }
unsigned phase_reclaim(void) { return 99; }

int main(void) {
    init(); phase_init(); smallmid_init(); tiny_thread_init();
    int bad = 0;
    bad |= init_calls != 1111;
    bad |= tiny_alloc_slow(4) != (void *)5 || tiny_alloc(77) != (void *)77;
    bad |= mid_reclaim() != 1234 || phase_reclaim() != 99 || smallmid_refill_batch(2, NULL, 3) != 5;
    bad |= g_reg_root[3] != 4 || t_tiny_bins != 7 || g_smallmid_enabled != 42;
    /* malloc is hakmem's: its usable size is the class size (glibc's would be 104). */
    void *small[64];
    for (int i = 0; i < 64; i++) {
        small[i] = malloc(100 + (size_t)i * 16);
        if (!small[i]) return 2;
        memset(small[i], i, 100);
    }
    bad |= hak_malloc_usable_size(small[0]) != 128;
    for (int i = 0; i < 64; i++) free(small[i]);
    void *big = calloc(1, 3 << 20), *mid = realloc(NULL, 5000);
    bad |= !big || !mid || hak_malloc_usable_size(mid) != 5120;
    free(big);
    free(mid);
    printf("%s %s\n", hak_phase_name(), bad ? "FAIL" : "ok");
    return bad;
}
