/**
 * tiny_front.h - the Tiny front: bins 0..7 of the small front (hak_front.h), one
 * per Tiny class (8 B .. 1 KiB).
 *
 * The fast paths are hak_front.h's; this front owns the slow paths (tiny_front.c):
 * refill an empty bin from the phase's Tiny SuperSlab pool, flush half of a full one.
 */
#ifndef TINY_FRONT_H
#define TINY_FRONT_H

#include "hak_config.h"

/* Tiny class c's bin was empty: refill it, return one block (NULL + ENOMEM). */
void *hak_tiny_alloc_slow(unsigned c) HAK_NOINLINE;
/* Tiny class c's bin was full (or the thread is new or exiting): take p. */
void hak_tiny_free_slow(void *p, unsigned c) HAK_NOINLINE;

#endif /* TINY_FRONT_H */
