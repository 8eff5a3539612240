/**
 * hak_backend.h - what every phase folder must provide to common/.
 *
 *   - the Tiny SuperSlab pool below (the phase's tiny_superslab.c), which the Tiny
 *     front (tiny_front.c) refills from and flushes to;
 *   - hakmem_smallmid.h: the Small-Mid front's slow paths and its layer, whose init
 *     routes the small front (hak_front.h) for the phase;
 *   - hak_phase_layers[] (hak_life.h): the phase's layers, in lock order.
 */
#ifndef HAK_BACKEND_H
#define HAK_BACKEND_H

#include "hak_config.h"
#include "hak_life.h"

/* Append up to max free blocks of Tiny class c to the chain ending at **tail
 * (advancing *tail).  Blocks are in state FREE.  Returns the count, 0 on ENOMEM. */
unsigned hak_tiny_backend_refill(unsigned c, void ***tail, unsigned max);
/* Return a NULL-terminated chain of n FREE blocks of Tiny class c to their slabs. */
void hak_tiny_backend_free_chain(unsigned c, void *head, unsigned n);

/* Layers common/ defines, for the phase's hak_phase_layers[]. */
extern const hak_layer hak_tiny_front_layer;   /* tiny_front.c: TLS bins        */
extern const hak_layer hak_mid_layer;          /* hak_mid.c                     */
extern const hak_layer hak_large_layer;        /* hak_large.c                   */

#endif /* HAK_BACKEND_H */
