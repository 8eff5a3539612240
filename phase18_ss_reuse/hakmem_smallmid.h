/**
 * hakmem_smallmid.h - Small-Mid allocator (Phase 18 SS-Reuse).
 *
 * The Phase 17-1 front (TLS freelists for 256 B / 512 B / 1 KiB, on only with
 * HAKMEM_SMALLMID_ENABLE=1) over the Small-Mid SuperSlab backend
 * (hakmem_smallmid_superslab.h): batch refill of half a bin, 0xb0|class
 * tags, no Tiny delegation.  A free that finds the TLS list full sends the older
 * half of the list back to the slabs (17-2 lost the block).
 */
#ifndef HAKMEM_SMALLMID_H
#define HAKMEM_SMALLMID_H

#include "hak_config.h"
#include "hak_life.h"
#include "hak_size_class.h"

/* TLS capacities: the Tiny front's for the same sizes (the seed's 32 / 24 / 16, with
 * refills of 16 / 12 / 8, made Small-Mid ON 0.83-0.88x its own OFF mode on two threads:
 * a lock round trip every 8 blocks at 1 KiB; issue 11). */
#define SMALLMID_TLS_CAP_256B 128
#define SMALLMID_TLS_CAP_512B 64
#define SMALLMID_TLS_CAP_1KB  64

/* Small-Mid class c's bin (bin HAK_BIN_SMALLMID + c of hak_front.h) was empty:
 * refill it, return one block (NULL + ENOMEM). */
void *hak_smallmid_alloc_slow(unsigned c) HAK_NOINLINE;
/* Small-Mid class c's bin was full (or the thread is new or exiting): take p. */
void hak_smallmid_free_slow(void *p, unsigned c) HAK_NOINLINE;
/* init (reads HAKMEM_SMALLMID_ENABLE and routes the small front), TLS caps,
 * thread-exit flush. */
extern const hak_layer hak_smallmid_front_layer;

#endif /* HAKMEM_SMALLMID_H */
