/**
 * hak_slabmap.c - leaves of the flat slab map (hak_slabmap.h).
 */
#include "hak_slabmap.h"
#include "hak_lock.h"
#include "hak_os.h"

#include <errno.h>

uint8_t g_hak_slabmap_zero_leaf[SLABMAP_LEAF_SIZE];
uint8_t *g_hak_slabmap[SLABMAP_ROOT_SIZE] = {
    [0 ... SLABMAP_ROOT_SIZE - 1] = g_hak_slabmap_zero_leaf,
};
static hak_lock_t g_slabmap_lock = HAK_LOCK_INITIALIZER;

int hak_slabmap_reserve(uintptr_t ss_base) {
    uintptr_t r = ss_base >> SLABMAP_ROOT_SHIFT;
    if (r >= SLABMAP_ROOT_SIZE) { errno = ENOMEM; return -1; }
    if (__atomic_load_n(&g_hak_slabmap[r], __ATOMIC_ACQUIRE) != g_hak_slabmap_zero_leaf) return 0;
    int rc = 0;
    hak_lock(&g_slabmap_lock);
    if (g_hak_slabmap[r] == g_hak_slabmap_zero_leaf) {
        uint8_t *leaf = hak_os_map(SLABMAP_LEAF_SIZE, HAK_PAGE_SIZE, HAK_OS_META);
        if (leaf) __atomic_store_n(&g_hak_slabmap[r], leaf, __ATOMIC_RELEASE);
        else rc = -1;                                      /* errno ENOMEM */
    }
    hak_unlock(&g_slabmap_lock);
    return rc;
}

void hak_slabmap_fork_prepare(void) { hak_lock(&g_slabmap_lock); }
void hak_slabmap_fork_release(void) { hak_unlock(&g_slabmap_lock); }
