# hakmem - phase-staged Small-Mid allocator.
#
#   make                      build every phase folder (build/<phase>/libhakmem.{so,a})
#   make PHASE=phase17_1_front  build one phase
#   make test                 install missing test deps, build, run every suite
#   make bench [QUICK=1]      compare the phases side by side (bench/, results in bench/results/)
#   make profile PHASE=p SIZE=256  top symbols of one phase on one workload (perf)
#   make DEBUG=1 ...          assertions + hot-path stats (build-debug/)
#   make STATS=1 ...          hot-path stats only (build-stats/)
#   make test SAN=address|undefined|thread   suites through hak_* under a sanitizer
#   make test VALGRIND=1      suites through hak_* under memcheck (client requests on)
#   make stress [STRESS_SECONDS=120]   shadow-checked stress, every phase, both modes
#   make fuzz [FUZZ_SECONDS=60]        libFuzzer harness, every phase, both modes
#   make install [PREFIX=/usr/local] [DESTDIR=]   libraries, hakmem.h, pkg-config files
#   make uninstall [PREFIX=...] [DESTDIR=]
#   make phases               the phase folders, oldest first
#
# CFLAGS is honoured (default -O2 -g); the flags hakmem needs are added to it.

# Phase folders are discovered (any phase*/ with a phase.c); PHASE_ORDER only says
# which is older, for "the previous phase" in make bench and "the newest phase" that
# make install makes the default.  Folders it does not name come last, by name.
PHASE_ORDER := phase17_1_front phase17_2_superslab phase18_ss_reuse phase18_prewarm
FOUND_PHASES := $(patsubst %/,%,$(sort $(dir $(wildcard phase*/phase.c))))
ALL_PHASES := $(filter $(FOUND_PHASES),$(PHASE_ORDER)) $(filter-out $(PHASE_ORDER),$(FOUND_PHASES))
PHASE      ?= $(ALL_PHASES)
PHASES     := $(PHASE)
VERSION    := 0.18.0
, := ,

CC      ?= cc
CFLAGS  ?= -O2 -g
DEBUG   ?= 0
STATS   ?= 0
SAN     ?=
VALGRIND ?= 0
SUITE   ?=

# Build variants, each in its own directory.  SAN= and VALGRIND=1 build the
# prefixed-only library (-DHAKMEM_NO_EXPORT: the sanitizer's or valgrind's malloc
# stays the process's malloc) and compile the suites with HAK_TEST_PREFIXED, which
# sends their allocations to hak_malloc & co.
ifneq ($(SAN),)
  BUILD    ?= build-san-$(SAN)
  VARIANT  := -DHAKMEM_DEBUG=1 -DHAKMEM_NO_EXPORT -fsanitize=$(SAN) -fno-omit-frame-pointer \
              -fno-sanitize-recover=all
  PREFIXED := 1
else ifeq ($(VALGRIND),1)
  BUILD    ?= build-valgrind
  VARIANT  := -DHAKMEM_VALGRIND=1 -DHAKMEM_NO_EXPORT
  PREFIXED := 1
else ifeq ($(DEBUG),1)
  BUILD    ?= build-debug
  VARIANT  := -DHAKMEM_DEBUG=1
else ifeq ($(STATS),1)
  BUILD    ?= build-stats
  VARIANT  := -DHAKMEM_STATS_BUILD=1
else
  BUILD    ?= build
  VARIANT  :=
endif
PREFIXED ?= 0
ifeq ($(PREFIXED),1)
  TEST_VARIANT := -DHAK_TEST_PREFIXED=1
endif

# What the allocator needs whatever CFLAGS says: PIC for the .so, internal symbols
# hidden, no builtin malloc/calloc folding (calloc must not become a call to itself),
# initial-exec TLS; _GNU_SOURCE for glibc's adaptive mutex (hak_lock.h).
HAK_CFLAGS := -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -fPIC -fvisibility=hidden -fno-builtin \
              -ftls-model=initial-exec -pthread $(VARIANT)
COMMON_SRCS := $(wildcard common/*.c)
# The two sparse arrays - the registry root (32 KiB, one page of it touched) and the
# slab map's zero leaf (16 MiB, never written) - are linked last: ld lays .bss out in
# link order, and every other variable of the library then shares 3 pages instead of
# sitting on both sides of them (6 pages of each process's RSS before).
SPARSE_SRCS := common/hak_registry.c common/hak_slabmap.c
# Relative relocations packed (DT_RELR; binutils >= 2.38, glibc >= 2.36 to load): the
# slab map root's 256 entries took 6 KiB of RELA records, 2 pages of every process's
# RSS.  Used when the linker takes it without a warning.
RELR_LDFLAGS := $(shell printf 'int x; int *p = &x;' | $(CC) -x c -shared -fPIC - -o /dev/null \
                  -Wl,--fatal-warnings -Wl,-z,pack-relative-relocs 2>/dev/null && \
                  echo -Wl,-z,pack-relative-relocs)
COMMON_HDRS := $(wildcard common/*.h)

TEST_SRCS := $(wildcard tests/*.c)
TEST_HDRS := $(wildcard tests/*.h)
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt)

.PHONY: all test bench bench-progs profile clean deps help tools stress fuzz fuzz-build \
        install uninstall phases $(ALL_PHASES)
.DEFAULT_GOAL := all

all: $(PHASES)

# ---- per-phase rules -------------------------------------------------------
define PHASE_RULES
$(1)_SRCS := $$(wildcard $(1)/*.c)
$(1)_HDRS := $$(wildcard $(1)/*.h)
$(1)_OBJS := $$(patsubst common/%.c,$(BUILD)/$(1)/obj/common/%.o,$$(filter-out $(SPARSE_SRCS),$(COMMON_SRCS))) \
             $$(patsubst $(1)/%.c,$(BUILD)/$(1)/obj/phase/%.o,$$($(1)_SRCS)) \
             $$(patsubst common/%.c,$(BUILD)/$(1)/obj/common/%.o,$(SPARSE_SRCS))

$(BUILD)/$(1)/obj/common/%.o: common/%.c $$(COMMON_HDRS) $$($(1)_HDRS) | $(BUILD)/$(1)/obj/common
	$$(CC) $$(CFLAGS) $$(HAK_CFLAGS) -DHAKMEM_PHASE=\"$(1)\" -I$(1) -Icommon -c $$< -o $$@
$(BUILD)/$(1)/obj/phase/%.o: $(1)/%.c $$(COMMON_HDRS) $$($(1)_HDRS) | $(BUILD)/$(1)/obj/phase
	$$(CC) $$(CFLAGS) $$(HAK_CFLAGS) -DHAKMEM_PHASE=\"$(1)\" -I$(1) -Icommon -c $$< -o $$@
$(BUILD)/$(1)/obj/common $(BUILD)/$(1)/obj/phase $(BUILD)/$(1)/tests:
	mkdir -p $$@

$(BUILD)/$(1)/libhakmem.so: $$($(1)_OBJS)
	$$(CC) $$(CFLAGS) -shared -pthread -Wl,-z,nodelete $(RELR_LDFLAGS) -Wl,-soname,libhakmem.so -o $$@ $$^
$(BUILD)/$(1)/libhakmem.a: $$($(1)_OBJS)
	rm -f $$@ && ar rcs $$@ $$^

# The Check suites, linked against this phase's static library (so malloc in the
# test binary is hakmem's) - one binary per phase.
$(BUILD)/$(1)/tests/hak_tests: $$(TEST_SRCS) $$(TEST_HDRS) $(BUILD)/$(1)/libhakmem.a | $(BUILD)/$(1)/tests
	$$(CC) $$(CFLAGS) -std=gnu11 -Wall -Wextra -pthread $(VARIANT) $(TEST_VARIANT) -Icommon -I$(1) \
	    $$(CHECK_CFLAGS) -DHAK_TEST_PHASE=\"$(1)\" -DHAK_TEST_SO=\"$(abspath $(BUILD))/$(1)/libhakmem.so\" \
	    -DHAK_TEST_TOOLS=\"$(abspath build/tools)\" -DHAK_TEST_BENCH=\"$(abspath build/bench)\" \
	    -o $$@ $$(TEST_SRCS) $(BUILD)/$(1)/libhakmem.a $$(CHECK_LIBS) -pthread

# The libFuzzer harness, against this phase's prefixed-only objects (clang, ASan+UBSan).
build-fuzz/$(1)/hak_fuzz: tests/fuzz/hak_fuzz.c $$(COMMON_SRCS) $$($(1)_SRCS) $$(COMMON_HDRS) $$($(1)_HDRS)
	mkdir -p $$(@D)
	$$(FUZZ_CC) -g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -fno-builtin -ftls-model=initial-exec -pthread -DHAKMEM_DEBUG=1 -DHAKMEM_NO_EXPORT -DHAKMEM_PHASE=\"$(1)\" \
	    -I$(1) -Icommon -o $$@ tests/fuzz/hak_fuzz.c $$(COMMON_SRCS) $$($(1)_SRCS)

# A program with its own phase_init, tiny_alloc_slow, mid_reclaim, ... linked with
# the whole archive: a hakmem symbol without the prefix breaks the link.
$(BUILD)/$(1)/tests/user_names: tests/hygiene/user_names.c common/hakmem.h $(BUILD)/$(1)/libhakmem.a | $(BUILD)/$(1)/tests
	$$(CC) -O2 -Wall -Wextra -Icommon -o $$@ $$< -Wl,--whole-archive $(BUILD)/$(1)/libhakmem.a \
	    -Wl,--no-whole-archive -pthread

# memcheck's view of hakmem blocks (VALGRIND=1 builds only; see tests/valgrind/).
$(BUILD)/$(1)/tests/vg_detect: tests/valgrind/vg_detect.c $(BUILD)/$(1)/libhakmem.a | $(BUILD)/$(1)/tests
	$$(CC) -O0 -g -Icommon -o $$@ $$< $(BUILD)/$(1)/libhakmem.a -pthread

$(1): $(BUILD)/$(1)/libhakmem.so $(BUILD)/$(1)/libhakmem.a
$(1)-tests: $(1) $(BUILD)/$(1)/tests/hak_tests $(if $(VARIANT),,$(BUILD)/$(1)/tests/user_names) \
            $(if $(filter 1,$(VALGRIND)),$(BUILD)/$(1)/tests/vg_detect)
endef
$(foreach p,$(ALL_PHASES),$(eval $(call PHASE_RULES,$(p))))

# ---- tests -----------------------------------------------------------------
# Stand-alone programs the suites drive under LD_PRELOAD (phase independent).
TOOLS_DIR  := build/tools
TOOL_PROGS := $(patsubst tests/stress/%.c,$(TOOLS_DIR)/%,$(wildcard tests/stress/*.c))
$(TOOLS_DIR)/%: tests/stress/%.c | $(TOOLS_DIR)
	gcc -O2 -g -Wall -Wextra -pthread -o $@ $< -pthread
$(TOOLS_DIR):
	mkdir -p $@
tools: $(TOOL_PROGS)

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
fuzz-build: $(foreach p,$(PHASES),build-fuzz/$(p)/hak_fuzz)

deps:
	@sh tests/deps.sh

# make test [SAN=address|undefined|thread] [VALGRIND=1] [SUITE=threads]
test: deps
	@$(MAKE) --no-print-directory tools bench-progs $(addsuffix -tests,$(PHASES)) \
	    $(if $(filter build,$(BUILD)),all fuzz-build)
	@BUILD=$(BUILD) VALGRIND=$(VALGRIND) SUITE=$(SUITE) sh tests/run_tests.sh $(PHASES)

# make stress [STRESS_SECONDS=300]: the shadow-checked stress program under every
# phase in both modes.
STRESS_SECONDS ?= 120
stress: all tools
	@sh tests/stress/run_stress.sh $(STRESS_SECONDS) $(PHASES)

# make fuzz [PHASE=...] [FUZZ_SECONDS=60]: libFuzzer on each phase, both modes;
# new crashing inputs land in tests/fuzz/regress/ (keep them: make test replays them).
fuzz: deps fuzz-build
	@sh tests/fuzz/run_fuzz.sh $(FUZZ_SECONDS) $(PHASES)

# ---- bench -----------------------------------------------------------------
# make bench [QUICK=1]              every phase vs Baseline vs glibc/mimalloc/jemalloc/tcmalloc vs sol
#   (knobs: REPS, BENCH_GROUPS, BENCH_CONTENDERS, BENCH_CALLGRIND, ... - bench/README.md)
# make profile PHASE=<phase> SIZE=<256|512|1024|mixed|smallmid> [RUN=long|short] [SMALLMID=1|0]
#   [MODE=perf|callgrind]   MODE=callgrind: Ir per function (callgrind_annotate)
# The bench programs are plain C built with plain gcc -O2 and run under LD_PRELOAD;
# libsol.so is the bench-only "speed of light" allocator (bench/sol_malloc.c).
BENCH_CC    ?= gcc
BENCH_DIR   := build/bench
BENCH_PROGS := $(patsubst bench/%.c,$(BENCH_DIR)/%,$(wildcard bench/bench_*.c)) $(BENCH_DIR)/libsol.so
QUICK       ?= 0
SIZE        ?= 256
RUN         ?= long
SMALLMID    ?= 1
MODE        ?= perf

$(BENCH_DIR)/%: bench/%.c bench/bench_common.h | $(BENCH_DIR)
	$(BENCH_CC) -O2 -Wall -Wextra -pthread -o $@ $< -pthread
$(BENCH_DIR)/libsol.so: bench/sol_malloc.c | $(BENCH_DIR)
	$(BENCH_CC) -O2 -Wall -Wextra -fPIC -shared -pthread -fvisibility=hidden -fno-builtin -o $@ $<
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
	@sh bench/profile.sh '$(lastword $(PHASE))' '$(SIZE)' '$(RUN)' '$(SMALLMID)' '$(MODE)'

clean:
	rm -rf build build-debug build-stats build-valgrind build-san-* build-fuzz

phases:
	@echo $(ALL_PHASES)

# ---- install (GNU conventions) ---------------------------------------------
# $(LIBDIR)/hakmem/<phase>/libhakmem.{so,a}   every phase built (PHASE= selects)
# $(LIBDIR)/libhakmem.{so,a}                  symlinks to the newest of them
# $(INCLUDEDIR)/hakmem.h                      the prefixed API
# $(PKGCONFIGDIR)/hakmem.pc                   the default (newest) phase
# $(PKGCONFIGDIR)/hakmem-<phase>.pc           one phase (-Wl,-rpath to its folder)
PREFIX       ?= /usr/local
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR      ?=
NEWEST_PHASE := $(lastword $(PHASES))
# pkg-config paths relative to ${prefix} when they lie under it (pkg-config
# --define-prefix then works for a relocated tree, e.g. a DESTDIR staging area).
pc_rel = $(patsubst $(PREFIX)%,$${prefix}%,$(1))

# $(call write_pc,file,name,phase,libdir,extra-libs)
define write_pc
	{ echo 'prefix=$(PREFIX)'; echo 'libdir=$(call pc_rel,$(4))'; \
	  echo 'includedir=$(call pc_rel,$(INCLUDEDIR))'; echo; \
	  echo 'Name: $(2)'; \
	  echo 'Description: hakmem allocator, $(3): malloc replacement and the hak_* API'; \
	  echo 'Version: $(VERSION)'; \
	  echo 'Libs: -L$${libdir} $(5)-lhakmem'; echo 'Libs.private: -pthread'; \
	  echo 'Cflags: -I$${includedir}'; } > $(1)
endef

install: $(PHASES)
	install -d '$(DESTDIR)$(INCLUDEDIR)' '$(DESTDIR)$(PKGCONFIGDIR)'
	install -m 644 common/hakmem.h '$(DESTDIR)$(INCLUDEDIR)/hakmem.h'
	$(foreach p,$(PHASES),install -d '$(DESTDIR)$(LIBDIR)/hakmem/$(p)' && \
	    install -m 755 $(BUILD)/$(p)/libhakmem.so '$(DESTDIR)$(LIBDIR)/hakmem/$(p)/libhakmem.so' && \
	    install -m 644 $(BUILD)/$(p)/libhakmem.a '$(DESTDIR)$(LIBDIR)/hakmem/$(p)/libhakmem.a' && \
	    $(call write_pc,'$(DESTDIR)$(PKGCONFIGDIR)/hakmem-$(p).pc',hakmem-$(p),$(p),$(LIBDIR)/hakmem/$(p),-Wl$(,)-rpath$(,)$${libdir} ) &&) true
	ln -sfn hakmem/$(NEWEST_PHASE)/libhakmem.so '$(DESTDIR)$(LIBDIR)/libhakmem.so'
	ln -sfn hakmem/$(NEWEST_PHASE)/libhakmem.a '$(DESTDIR)$(LIBDIR)/libhakmem.a'
	$(call write_pc,'$(DESTDIR)$(PKGCONFIGDIR)/hakmem.pc',hakmem,$(NEWEST_PHASE) (the newest phase),$(LIBDIR),)

uninstall:
	rm -f '$(DESTDIR)$(INCLUDEDIR)/hakmem.h' '$(DESTDIR)$(LIBDIR)/libhakmem.so' \
	    '$(DESTDIR)$(LIBDIR)/libhakmem.a' '$(DESTDIR)$(PKGCONFIGDIR)/hakmem.pc' \
	    '$(DESTDIR)$(PKGCONFIGDIR)'/hakmem-*.pc
	rm -rf '$(DESTDIR)$(LIBDIR)/hakmem'

help:
	@sed -n "2,19p" Makefile
