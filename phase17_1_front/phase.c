/**
 * phase.c - Phase 17-1 hooks for common/ (hak_backend.h).
 */
#include "hak_backend.h"
#include "hak_config.h"
#include "hakmem_smallmid.h"
#include "tiny_superslab.h"

HAK_EXPORT const char *hak_phase_name(void) { return "phase17_1_front"; }

void phase_init(void) { smallmid_init(); }
void phase_thread_init(void) { smallmid_thread_init(); }
void phase_thread_exit(void) { smallmid_thread_exit(); }
void phase_fork_prepare(void) { tiny_pool_fork_prepare(); }
void phase_fork_parent(void) { tiny_pool_fork_parent(); }
void phase_fork_child(void) { tiny_pool_fork_child(); }
unsigned phase_reclaim(void) { return tiny_pool_reclaim(); }
