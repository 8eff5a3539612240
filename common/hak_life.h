/**
 * hak_life.h - the ground floor every layer stands on: process init, the thread
 * life cycle, fork, and reclaim under memory pressure.
 *
 * Layers (the Tiny front, Mid, Large, a phase's Small-Mid front and SuperSlab
 * pools) never call each other for these events: each publishes a hak_layer of
 * hooks, and the phase lists its layers in hak_phase_layers[] (phase.c).  This
 * file walks that table; it includes no layer's header, so nothing here calls up.
 *
 * Thread states (t_hak_thread_state, owner thread only):
 *   NEW    - a thread's first slow path runs hak_thread_init: process init if
 *            needed, every layer's thread_init (TLS caps), the exit hook.
 *   ACTIVE - normal operation.
 *   DEAD   - the exit hook ran: layers flushed their TLS caches and set caps to 0,
 *            so frees made by later TLS destructors go straight to the backends.
 */
#ifndef HAK_LIFE_H
#define HAK_LIFE_H

#include "hak_config.h"

enum { HAK_THREAD_NEW = 0, HAK_THREAD_ACTIVE = 1, HAK_THREAD_DEAD = 2 };
extern HAK_TLS uint8_t t_hak_thread_state;

/**
 * hak_layer - the hooks one layer gives the ground floor; any may be NULL.
 * fork_prepare takes every lock of the layer, fork_parent / fork_child release
 * them.  reclaim returns to the OS what the layer caches (called with no allocator
 * lock held) and says how many regions it released.
 */
typedef struct hak_layer {
    const char *name;
    void (*init)(void);             /* once per process, after the options      */
    void (*thread_init)(void);      /* a thread's first slow path               */
    void (*thread_exit)(void);      /* return TLS blocks, caps to 0             */
    unsigned (*reclaim)(void);
    void (*fork_prepare)(void);
    void (*fork_parent)(void);
    void (*fork_child)(void);
} hak_layer;

/* The phase's layers, NULL-terminated, in lock order: a layer's locks may be held
 * while a later layer's are taken, never the reverse (phase.c).  fork_prepare runs
 * in table order, then the registry; parent/child hooks run in reverse. */
extern const hak_layer *const hak_phase_layers[];

/* Process init (options, layer init), once; cheap when already done. */
void hak_init_slow(void) HAK_NOINLINE;
extern int g_hak_init_done;
HAK_INLINE void hak_ensure_init(void) {
    if (hak_unlikely(!__atomic_load_n(&g_hak_init_done, __ATOMIC_ACQUIRE))) hak_init_slow();
}

/* Slow paths call this when t_hak_thread_state is NEW.  Safe to re-enter
 * (pthread internals may allocate). */
void hak_thread_init(void) HAK_NOINLINE;

/* After a failed map: every layer's reclaim.  Returns the regions released; 0
 * means a retry cannot succeed.  No allocator lock may be held. */
unsigned hak_reclaim(void);

#endif /* HAK_LIFE_H */
