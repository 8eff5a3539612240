/**
 * hak_slabmap.c - leaves of the flat slab map (hak_slabmap.h).
 */
#include "hak_slabmap.h"
#include "hak_lock.h"
#include "hak_os.h"

#include <errno.h>

uint8_t g_hak_slabmap_zero_leaf[SLABMAP_LEAF_SIZE];
#define E1(r)  [r] = HAK_SLABMAP_ENTRY(g_hak_slabmap_zero_leaf, r),
#define E4(r)  E1(r) E1(r + 1) E1(r + 2) E1(r + 3)
#define E16(r) E4(r) E4(r + 4) E4(r + 8) E4(r + 12)
#define E64(r) E16(r) E16(r + 16) E16(r + 32) E16(r + 48)
_Static_assert(SLABMAP_ROOT_SIZE == 256, "the initializer below names 256 entries");
uintptr_t g_hak_slabmap[SLABMAP_ROOT_SIZE] = { E64(0) E64(64) E64(128) E64(192) };
#undef E1
#undef E4
#undef E16
#undef E64
static hak_lock_t g_slabmap_lock HAK_NOT_BSS = HAK_LOCK_INITIALIZER;

int hak_slabmap_reserve(uintptr_t ss_base) {
    uintptr_t r = ss_base >> SLABMAP_ROOT_SHIFT;
    if (r >= SLABMAP_ROOT_SIZE) { errno = ENOMEM; return -1; }
    if (hak_slabmap_leaf(r) != g_hak_slabmap_zero_leaf) return 0;
    int rc = 0;
    hak_lock(&g_slabmap_lock);
    if (hak_slabmap_leaf(r) == g_hak_slabmap_zero_leaf) {
        uint8_t *leaf = hak_os_map(SLABMAP_LEAF_SIZE, HAK_PAGE_SIZE, HAK_OS_META);
        if (leaf) __atomic_store_n(&g_hak_slabmap[r], HAK_SLABMAP_ENTRY(leaf, r), __ATOMIC_RELEASE);
        else rc = -1;                                      /* errno ENOMEM */
    }
    hak_unlock(&g_slabmap_lock);
    return rc;
}

void hak_slabmap_fork_prepare(void) { hak_lock(&g_slabmap_lock); }
void hak_slabmap_fork_release(void) { hak_unlock(&g_slabmap_lock); }
