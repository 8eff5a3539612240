/**
 * phase.c - Phase 17-2 hooks for common/ (hak_backend.h).
 */
#include "hak_backend.h"
#include "hak_config.h"
#include "hakmem_smallmid.h"
#include "hakmem_smallmid_superslab.h"
#include "tiny_superslab.h"

HAK_EXPORT const char *hak_phase_name(void) { return "phase17_2_superslab"; }

void phase_init(void) { smallmid_init(); }
void phase_thread_init(void) { smallmid_thread_init(); }
void phase_thread_exit(void) { smallmid_thread_exit(); }
void phase_fork_prepare(void) { smallmid_superslab_fork_prepare(); tiny_pool_fork_prepare(); }
void phase_fork_parent(void) { tiny_pool_fork_parent(); smallmid_superslab_fork_parent(); }
void phase_fork_child(void) { tiny_pool_fork_child(); smallmid_superslab_fork_child(); }
unsigned phase_reclaim(void) { return tiny_pool_reclaim() + smallmid_superslab_reclaim(); }
