# hakmem - phase-staged Small-Mid allocator.
#
#   make                      build every phase folder (build/<phase>/libhakmem.{so,a})
#   make PHASE=phase17_1_front  build one phase
#   make test                 install missing test deps, build, run every suite
#   make bench [QUICK=1]      compare the phases side by side (bench/, results in bench/results/)
#   make profile PHASE=p SIZE=256  top symbols of one phase on one workload (perf)
#   make DEBUG=1 ...          assertions + hot-path stats (build-debug/)
#   make STATS=1 ...          hot-path stats only (build-stats/)
#
# CFLAGS is honoured (default -O2 -g); the flags hakmem needs are added to it.

ALL_PHASES := $(patsubst %/,%,$(sort $(dir $(wildcard phase*/phase.c))))
PHASE      ?= $(ALL_PHASES)
PHASES     := $(PHASE)

CC      ?= cc
CFLAGS  ?= -O2 -g
DEBUG   ?= 0
STATS   ?= 0

ifeq ($(DEBUG),1)
  BUILD    ?= build-debug
  VARIANT  := -DHAKMEM_DEBUG=1
else ifeq ($(STATS),1)
  BUILD    ?= build-stats
  VARIANT  := -DHAKMEM_STATS_BUILD=1
else
  BUILD    ?= build
  VARIANT  :=
endif

# What the allocator needs whatever CFLAGS says: PIC for the .so, internal symbols
# hidden, no builtin malloc/calloc folding (calloc must not become a call to itself),
# initial-exec TLS.
HAK_CFLAGS := -std=gnu11 -Wall -Wextra -fPIC -fvisibility=hidden -fno-builtin \
              -ftls-model=initial-exec -pthread $(VARIANT)
COMMON_SRCS := $(wildcard common/*.c)
COMMON_HDRS := $(wildcard common/*.h)

TEST_SRCS := $(wildcard tests/*.c)
TEST_HDRS := $(wildcard tests/*.h)
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt)

.PHONY: all test bench bench-progs profile clean deps help $(ALL_PHASES)
.DEFAULT_GOAL := all

all: $(PHASES)

# ---- per-phase rules -------------------------------------------------------
define PHASE_RULES
$(1)_SRCS := $$(wildcard $(1)/*.c)
$(1)_HDRS := $$(wildcard $(1)/*.h)
$(1)_OBJS := $$(patsubst common/%.c,$(BUILD)/$(1)/obj/common/%.o,$$(COMMON_SRCS)) \
             $$(patsubst $(1)/%.c,$(BUILD)/$(1)/obj/phase/%.o,$$($(1)_SRCS))

$(BUILD)/$(1)/obj/common/%.o: common/%.c $$(COMMON_HDRS) $$($(1)_HDRS) | $(BUILD)/$(1)/obj/common
	$$(CC) $$(CFLAGS) $$(HAK_CFLAGS) -I$(1) -Icommon -c $$< -o $$@
$(BUILD)/$(1)/obj/phase/%.o: $(1)/%.c $$(COMMON_HDRS) $$($(1)_HDRS) | $(BUILD)/$(1)/obj/phase
	$$(CC) $$(CFLAGS) $$(HAK_CFLAGS) -I$(1) -Icommon -c $$< -o $$@
$(BUILD)/$(1)/obj/common $(BUILD)/$(1)/obj/phase $(BUILD)/$(1)/tests:
	mkdir -p $$@

$(BUILD)/$(1)/libhakmem.so: $$($(1)_OBJS)
	$$(CC) $$(CFLAGS) -shared -pthread -Wl,-z,nodelete -o $$@ $$^
$(BUILD)/$(1)/libhakmem.a: $$($(1)_OBJS)
	rm -f $$@ && ar rcs $$@ $$^

# The Check suites, linked against this phase's static library (so malloc in the
# test binary is hakmem's) - one binary per phase.
$(BUILD)/$(1)/tests/hak_tests: $$(TEST_SRCS) $$(TEST_HDRS) $(BUILD)/$(1)/libhakmem.a | $(BUILD)/$(1)/tests
	$$(CC) $$(CFLAGS) -std=gnu11 -Wall -Wextra -pthread $(VARIANT) -Icommon -I$(1) $$(CHECK_CFLAGS) \
	    -DHAK_TEST_PHASE=\"$(1)\" -DHAK_TEST_SO=\"$(abspath $(BUILD))/$(1)/libhakmem.so\" \
	    -o $$@ $$(TEST_SRCS) $(BUILD)/$(1)/libhakmem.a $$(CHECK_LIBS) -pthread

$(1): $(BUILD)/$(1)/libhakmem.so $(BUILD)/$(1)/libhakmem.a
$(1)-tests: $(1) $(BUILD)/$(1)/tests/hak_tests
endef
$(foreach p,$(ALL_PHASES),$(eval $(call PHASE_RULES,$(p))))

# ---- tests -----------------------------------------------------------------
deps:
	@sh tests/deps.sh

test: deps
	@$(MAKE) --no-print-directory $(addsuffix -tests,$(PHASES))
	@BUILD=$(BUILD) sh tests/run_tests.sh $(PHASES)

# ---- bench -----------------------------------------------------------------
# make bench [QUICK=1]              every phase vs Baseline vs glibc/mimalloc/jemalloc/tcmalloc
# make profile PHASE=<phase> SIZE=<256|512|1024|mixed> [RUN=long|short] [SMALLMID=1|0]
# The bench programs are plain C built with plain gcc -O2 and run under LD_PRELOAD.
BENCH_CC    ?= gcc
BENCH_DIR   := build/bench
BENCH_PROGS := $(patsubst bench/%.c,$(BENCH_DIR)/%,$(wildcard bench/bench_*.c))
QUICK       ?= 0
SIZE        ?= 256
RUN         ?= long
SMALLMID    ?= 1

$(BENCH_DIR)/%: bench/%.c bench/bench_common.h | $(BENCH_DIR)
	$(BENCH_CC) -O2 -Wall -Wextra -pthread -o $@ $< -pthread
$(BENCH_DIR):
	mkdir -p $@

bench-progs: $(BENCH_PROGS)

bench:
	@$(MAKE) --no-print-directory BUILD=build all bench-progs >&2
	@QUICK=$(QUICK) sh bench/run_bench.sh

profile:
	@case ' $(ALL_PHASES) ' in *' $(lastword $(PHASE)) '*) ;; \
	  *) echo "profile: PHASE must be one of: $(ALL_PHASES)" >&2; exit 2 ;; esac
	@$(MAKE) --no-print-directory BUILD=build PHASE='$(PHASE)' all bench-progs >&2
	@sh bench/profile.sh '$(lastword $(PHASE))' '$(SIZE)' '$(RUN)' '$(SMALLMID)'

clean:
	rm -rf build build-debug build-stats

help:
	@sed -n '2,12p' Makefile
