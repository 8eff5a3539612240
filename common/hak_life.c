/**
 * hak_life.c - process init, thread start and exit, fork, reclaim (hak_life.h).
 */
#include "hak_life.h"
#include "hak_front.h"
#include "hak_lock.h"
#include "hak_options.h"
#include "hak_registry.h"
#include "hak_slabmap.h"
#include "hak_stats.h"

#include <errno.h>
#include <pthread.h>

HAK_TLS uint8_t t_hak_thread_state;
int g_hak_init_done;                 /* atomic: options read, layers initialised */

static hak_lock_t g_init_lock = HAK_LOCK_INITIALIZER;
static int g_hooks_state;            /* atomic: 0 none, 1 installing, 2 done     */
static int g_key_ready;              /* atomic                                   */
static pthread_key_t g_thread_key;

#define FOR_EACH_LAYER(l) \
    for (const hak_layer *const *l = hak_phase_layers; *l; l++)
#define FOR_EACH_LAYER_REVERSE(l, n) \
    for (const hak_layer *const *l = hak_phase_layers + (n); l-- != hak_phase_layers;)

static unsigned layer_count(void) {
    unsigned n = 0;
    FOR_EACH_LAYER(l) n++;
    return n;
}

/* Thread exit: every layer hands its TLS blocks back to its backend. */
static void life_thread_exit(void *unused) {
    (void)unused;
    int saved = errno;
    t_hak_thread_state = HAK_THREAD_DEAD;
    FOR_EACH_LAYER(l) if ((*l)->thread_exit) (*l)->thread_exit();
    HAK_STAT_SLOW_ADD(threads_exited, 1);
    errno = saved;
}

/* fork(): hold every allocator lock across the fork so the child never inherits a
 * lock held by a thread that does not exist there.  Order: the init lock, the
 * layers in table order, the slab map and the registry (innermost). */
static void life_fork_prepare(void) {
    hak_lock(&g_init_lock);
    FOR_EACH_LAYER(l) if ((*l)->fork_prepare) (*l)->fork_prepare();
    hak_slabmap_fork_prepare();
    hak_registry_fork_prepare();
}
static void life_fork_parent(void) {
    hak_registry_fork_parent();
    hak_slabmap_fork_release();
    FOR_EACH_LAYER_REVERSE(l, layer_count()) if ((*l)->fork_parent) (*l)->fork_parent();
    hak_unlock(&g_init_lock);
}
static void life_fork_child(void) {
    hak_registry_fork_child();
    hak_slabmap_fork_release();
    FOR_EACH_LAYER_REVERSE(l, layer_count()) if ((*l)->fork_child) (*l)->fork_child();
    hak_unlock(&g_init_lock);
}

void hak_init_slow(void) {
    hak_lock(&g_init_lock);
    if (!__atomic_load_n(&g_hak_init_done, __ATOMIC_RELAXED)) {
        hak_options_init();
        hak_front_init_key();               /* before any block exists */
        FOR_EACH_LAYER(l) if ((*l)->init) (*l)->init();
        __atomic_store_n(&g_hak_init_done, 1, __ATOMIC_RELEASE);
    }
    hak_unlock(&g_init_lock);
    /* Hooks after the lock: pthread_atfork may allocate, which re-enters here and
     * finds g_hak_init_done set. */
    int expected = 0;
    if (__atomic_compare_exchange_n(&g_hooks_state, &expected, 1, 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE)) {
        if (pthread_key_create(&g_thread_key, life_thread_exit) == 0)
            __atomic_store_n(&g_key_ready, 1, __ATOMIC_RELEASE);
        pthread_atfork(life_fork_prepare, life_fork_parent, life_fork_child);
        __atomic_store_n(&g_hooks_state, 2, __ATOMIC_RELEASE);
    }
}

void hak_thread_init(void) {
    hak_ensure_init();
    if (t_hak_thread_state != HAK_THREAD_NEW) return;
    t_hak_thread_state = HAK_THREAD_ACTIVE;   /* first: re-entry takes normal paths */
    FOR_EACH_LAYER(l) if ((*l)->thread_init) (*l)->thread_init();
    HAK_STAT_SLOW_ADD(threads_started, 1);
    /* A non-NULL value makes pthread call life_thread_exit when the thread ends. */
    if (__atomic_load_n(&g_key_ready, __ATOMIC_ACQUIRE))
        pthread_setspecific(g_thread_key, (void *)1);
}

unsigned hak_reclaim(void) {
    int saved = errno;
    unsigned n = 0;
    FOR_EACH_LAYER(l) if ((*l)->reclaim) n += (*l)->reclaim();
    errno = saved;
    return n;
}

/* Read the options before main() (and before the first allocation routes a
 * request), so HAKMEM_SMALLMID_ENABLE holds from the first block on. */
__attribute__((constructor)) static void life_process_start(void) { hak_ensure_init(); }

__attribute__((destructor)) static void life_process_exit(void) {
    if (__atomic_load_n(&g_hak_init_done, __ATOMIC_ACQUIRE) && hak_option(HAK_OPT_STATS))
        hak_stats_print();
}
