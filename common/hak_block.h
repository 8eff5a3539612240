/**
 * hak_block.h - the per-block state every size range keeps out of band, and the
 * one reporter of a bad free.  Tiny / Small-Mid slabs (hak_slab.h), Mid segments
 * (hak_mid.h) and Large headers (hak_large.h) all use these states.
 */
#ifndef HAK_BLOCK_H
#define HAK_BLOCK_H

#include "hak_config.h"

/* One state byte per block.
 *   NEVER: not carved yet (or not a block start) - freeing it is an invalid free
 *   FREE : on a TLS list, a slab / segment freelist, a cache, or lost (phase 17-2)
 *   ALLOC: in the user's hands - the only state free() accepts                  */
enum { HAK_BLK_NEVER = 0x00, HAK_BLK_FREE = 0x46 /* 'F' */, HAK_BLK_ALLOC = 0x41 /* 'A' */ };
/* Not a state byte: what hak_bad_free is told for a pointer into a slab that no
 * class owns (a slab hakmem keeps empty in a pool). */
#define HAK_BLK_UNOWNED 0xffu

/* "hakmem: <api>(): double free ..." for a FREE block, "... memory hakmem holds
 * unused ..." for an UNOWNED one, "... not the start of a hakmem block" for
 * anything else; then abort() (hak_report.c). */
void hak_bad_free(const char *api, const void *p, uint8_t state) HAK_NORETURN HAK_COLD;

#endif /* HAK_BLOCK_H */
