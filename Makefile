# SPDX-License-Identifier: GPL-2.0
#
# nfsec: the module (module/) and its configuration tool (tools/).
#
#   make                           module and tool
#   make module | tools            one of them
#   make debug                     module with CONFIG_NFSEC_DEBUG=y (-DDEBUG); or DEBUG=1 on any target
#   make C=1                       also run sparse on the module (passed through to kbuild)
#   make WERROR=1                  compiler warnings are errors (module and tool; CI builds so)
#   make check [TESTS="a.sh b.sh"] build, then run selftests/ with the module loaded (in a VM
#                                  when this kernel cannot load it): see Documentation/testing.rst
#                                  [JOBS=2] tests at once; [NFSEC_NO_SKIP=1] a skip fails (as CI=true).
#                                  Settings from the environment (LEFT, RIGHT, COMBOS, NFSEC_KO, ...)
#                                  pass through, and are printed as overrides
#   make fuzz [FUZZ=genl|pkt|all] [FUZZ_COUNT=100000] [FUZZ_SECS=600] [FUZZ_SEED=N]
#                                  long fuzzing runs in one VM boot: genl sends FUZZ_COUNT
#                                  messages, pkt fuzzes for FUZZ_SECS; FUZZ_SEED replays a run
#   make install [PREFIX=/usr/local]
#   make clean | distclean         distclean also drops the VM cache (.vm/)
#
# KDIR defaults to the running kernel's build tree, else the newest /lib/modules/*/build.

KDIR ?= $(or $(wildcard /lib/modules/$(shell uname -r)/build),$(lastword $(shell ls -d /lib/modules/*/build 2>/dev/null | sort -V)))
KDIR := $(KDIR)
KVER := $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' $(KDIR)/include/generated/utsrelease.h 2>/dev/null)
PREFIX ?= /usr/local
KBUILD = $(MAKE) -C $(KDIR) M=$(CURDIR) $(if $(DEBUG),CONFIG_NFSEC_DEBUG=y) $(if $(WERROR),KCFLAGS=-Werror)

all: module tools

module:
	@test -f "$(KDIR)/Makefile" || { echo "no kernel build tree (KDIR='$(KDIR)'): install linux-headers-amd64 or pass KDIR=" >&2; exit 1; }
	$(KBUILD) modules

debug:
	@$(MAKE) --no-print-directory module DEBUG=1

# A debug build beside the normal one, for the in-module self-tests that
# `make check` runs (selftests/module_selftest.sh): kbuild builds in the
# directory of the sources, so link them there.
DEBUG_DIR := $(CURDIR)/.build/debug
debug-ko:
	@mkdir -p $(DEBUG_DIR)
	@ln -sfn $(CURDIR)/module/Kbuild $(CURDIR)/module/uapi $(wildcard $(CURDIR)/module/*.[ch]) $(DEBUG_DIR)/
	$(MAKE) -C $(KDIR) M=$(DEBUG_DIR) CONFIG_NFSEC_DEBUG=y modules

tools:
	$(MAKE) -C tools $(if $(WERROR),WERROR=1)

install: all
	$(KBUILD) modules_install
	depmod -a $(KVER)
	$(MAKE) -C tools install PREFIX=$(PREFIX)

clean:
	$(if $(wildcard $(KDIR)/Makefile),$(KBUILD) clean)
	$(MAKE) -C tools clean

distclean: clean
	rm -rf .vm .build

# On a machine whose running kernel is KDIR's and can load modules, test right here (as root);
# otherwise boot KDIR's kernel in QEMU.
check: all debug-ko
	$(MAKE) -C tools check
	@if [ -e /proc/modules ] && [ "$$(id -u)" = 0 ] && [ "$$(uname -r)" = "$(KVER)" ]; then \
		TESTS="$(TESTS)" selftests/run_tests.sh; \
	else \
		TESTS="$(TESTS)" KVER="$(KVER)" selftests/vm/run.sh; \
	fi

# nfsec against native xfrm in one VM boot (Documentation/performance.rst).
# BENCH_CASES="gcm-tunnel ..." ROUNDS=3 SECS=5 narrow or lengthen it. Fails when a
# measurement did: the status is run.sh's, not tee's (make's sh has no pipefail).
bench: all
	@TESTS=bench.sh TEST_TIMEOUT=3300 VM_TIMEOUT=3600 KVER="$(KVER)" \
		bash -c 'selftests/vm/run.sh | tee bench/last.log; exit $${PIPESTATUS[0]}'; \
	rc=$$?; \
	sed -n 's/^# json: //p' bench/last.log > bench/results.json; \
	echo "wrote bench/results.json"; \
	if [ $$rc != 0 ]; then echo "make bench: FAILED (exit $$rc), see bench/last.log" >&2; fi; \
	exit $$rc

# Long fuzzing runs, one VM boot (Documentation/testing.rst); the short runs are in make check.
# FUZZ picks the fuzzers: genl (selftests/genl_fuzz.sh) sends FUZZ_COUNT messages, pkt
# (selftests/pkt_fuzz.sh) mutates packets for FUZZ_SECS. FUZZ_SEED replays a run.
FUZZ ?= all
FUZZ_COUNT ?= 100000
FUZZ_SECS ?= 600
FUZZ_TESTS = $(patsubst %,%_fuzz.sh,$(if $(filter all,$(FUZZ)),genl pkt,$(FUZZ)))
fuzz: all
	@for t in $(FUZZ_TESTS); do test -f selftests/$$t || { echo "no fuzzer $$t (FUZZ=genl, pkt or all)" >&2; exit 1; }; done
	@export FUZZ_COUNT=$(FUZZ_COUNT) FUZZ_SECS=$(FUZZ_SECS) TEST_TIMEOUT=$${TEST_TIMEOUT:-10800}; \
	if [ -e /proc/modules ] && [ "$$(id -u)" = 0 ] && [ "$$(uname -r)" = "$(KVER)" ]; then \
		selftests/run_tests.sh $(FUZZ_TESTS); \
	else \
		TESTS="$(FUZZ_TESTS)" VM_TIMEOUT=$${VM_TIMEOUT:-12000} KVER="$(KVER)" selftests/vm/run.sh; \
	fi

.PHONY: all module debug debug-ko tools bench install clean distclean check fuzz
