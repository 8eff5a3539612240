/**
 * hakmem_smallmid.h - Small-Mid allocator (Phase 17-2).
 *
 * Phase 17-2: the Phase 17-1 front (TLS freelists for 256 B / 512 B / 1 KiB, on only
 * with HAKMEM_SMALLMID_ENABLE=1) over a dedicated Small-Mid SuperSlab backend
 * (hakmem_smallmid_superslab.h): batch refill of 16 / 12 / 8 blocks, 0xb0|class
 * tags, no Tiny delegation.  As in the seed, a free that finds the TLS list full
 * does not return its block (counted as lost; the block stays FREE, so a second
 * free of it is still reported).
 */
#ifndef HAKMEM_SMALLMID_H
#define HAKMEM_SMALLMID_H

#include "hak_config.h"
#include "hak_life.h"
#include "hak_size_class.h"

/* The seed's TLS capacities. */
#define SMALLMID_TLS_CAP_256B 32
#define SMALLMID_TLS_CAP_512B 24
#define SMALLMID_TLS_CAP_1KB  16

/* Small-Mid class c's bin (bin HAK_BIN_SMALLMID + c of hak_front.h) was empty:
 * refill it, return one block (NULL + ENOMEM). */
void *hak_smallmid_alloc_slow(unsigned c) HAK_NOINLINE;
/* Small-Mid class c's bin was full (or the thread is new or exiting): take p. */
void hak_smallmid_free_slow(void *p, unsigned c) HAK_NOINLINE;
/* init (reads HAKMEM_SMALLMID_ENABLE and routes the small front), TLS caps,
 * thread-exit flush. */
extern const hak_layer hak_smallmid_front_layer;

#endif /* HAKMEM_SMALLMID_H */
