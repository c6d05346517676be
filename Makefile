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
#                                  when this kernel cannot load it): see Documentation/testing.rst.
#                                  It builds the charon plugin too (make ike) when it can:
#                                  ike_establish.sh skips without it
#                                  [JOBS=N] tests at once (default 3); [NFSEC_NO_SKIP=1] a skip fails (as CI=true).
#                                  Settings from the environment (LEFT, RIGHT, COMBOS, NFSEC_KO, ...)
#                                  pass through, and are printed as overrides
#   make fuzz [FUZZ=genl|pkt|all] [FUZZ_COUNT=100000] [FUZZ_SECS=600] [FUZZ_SEED=N]
#                                  long fuzzing runs in one VM boot: genl sends FUZZ_COUNT
#                                  messages, pkt fuzzes for FUZZ_SECS; FUZZ_SEED replays a run
#   make cross-arm64               module and tool for arm64, in .build/arm64/ (Debian's arm64
#                                  headers of KVER's version, gcc-aarch64-linux-gnu)
#   make check KERNEL=debug        the same in a VM booting a debug kernel (KASAN, lockdep,
#                                  kmemleak, ...) built once from /usr/src/linux-source-6.1
#   make kernel-debug              only build that kernel (DEBUG_KERNEL_DIR=DIR: where)
#   make ike                       the kernel-nfsec charon plugin (ike/) for the installed
#                                  strongSwan 5.9.8 charon: fetches and configures strongSwan's
#                                  Debian source into .build/strongswan/ (Documentation/ike.rst)
#   make install [PREFIX=/usr/local] [DESTDIR=]
#                                  the module (modules_install + depmod), and the tool, its man
#                                  page and systemd unit (install-module, install-tools alone);
#                                  the charon plugin and its conf too if `make ike` built it
#                                  (install-ike alone)
#   make uninstall [PREFIX=] [DESTDIR=]   removes what make install installed
#   make dkms-install [DESTDIR=]   the module's source and dkms.conf in /usr/src/nfsec-VERSION,
#                                  for `dkms add/build/install nfsec/VERSION`
#   make deb                       Debian packages nfsec and nfsec-dkms in .build/deb/, then lintian
#   make check-pkg                 as root: build the packages, install them, test the installed
#                                  module and tool in a VM, purge them (Documentation/install.rst)
#   make clean | distclean         distclean also drops the VM cache (.vm/)
#
# KVER=VERSION picks the kernel: KDIR=/lib/modules/VERSION/build, and make check boots
# /boot/vmlinuz-VERSION. Without either, KDIR is the running kernel's build tree, else the newest
# /lib/modules/*/build that is not a PREEMPT_RT one (-rt-), else the newest.

ifdef KVER
KDIR ?= /lib/modules/$(KVER)/build
endif
KDIRS := $(shell ls -d /lib/modules/*/build 2>/dev/null | sort -V)
KDIR ?= $(or $(wildcard /lib/modules/$(shell uname -r)/build),$(lastword $(filter-out %-rt-amd64/build,$(KDIRS))),$(lastword $(KDIRS)))
KDIR := $(KDIR)
KDIR_VER := $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' $(KDIR)/include/generated/utsrelease.h 2>/dev/null)
ifneq ($(and $(KVER),$(KDIR_VER)),)
ifneq ($(KVER),$(KDIR_VER))
$(error KVER=$(KVER) but KDIR=$(KDIR) is $(KDIR_VER): give one of them)
endif
endif
override KVER := $(or $(KDIR_VER),$(KVER))
PREFIX ?= /usr/local
VERSION := $(shell sed -n 's/^\#define NFSEC_VERSION "\(.*\)"/\1/p' module/nfsec.h)
KBUILD = $(MAKE) -C $(KDIR) M=$(CURDIR) $(if $(DEBUG),CONFIG_NFSEC_DEBUG=y) $(if $(WERROR),KCFLAGS=-Werror)

all: module tools

module:
	@test -f "$(KDIR)/Makefile" || { echo "no kernel build tree (KDIR='$(KDIR)'): install linux-headers-$(or $(KVER),amd64) or pass KDIR=" >&2; exit 1; }
	+$(KBUILD) modules

debug:
	@$(MAKE) --no-print-directory module DEBUG=1

# A debug build beside the normal one, for the in-module self-tests that
# `make check` runs (selftests/module_selftest.sh): kbuild builds in the
# directory of the sources, so link them there.
# (Not nfsec.mod.c: modpost would write the other build's through the link.)
MODULE_SRCS = $(filter-out %.mod.c,$(wildcard $(CURDIR)/module/*.[ch]))
DEBUG_DIR := $(CURDIR)/.build/debug
debug-ko:
	@mkdir -p $(DEBUG_DIR)
	@find $(DEBUG_DIR) -maxdepth 1 -name '*.mod.c' -type l -delete
	@ln -sfn $(CURDIR)/module/Kbuild $(CURDIR)/module/uapi $(MODULE_SRCS) $(DEBUG_DIR)/
	$(MAKE) -C $(KDIR) M=$(DEBUG_DIR) CONFIG_NFSEC_DEBUG=y modules

tools:
	$(MAKE) -C tools $(if $(WERROR),WERROR=1)

# Not part of `all`: it needs strongswan-charon installed and its source fetched.
ike:
	$(MAKE) -C ike $(if $(WERROR),WERROR=1)

# For make check: the plugin if strongSwan's source can be fetched (charon installed, apt able
# to get the source: as root, fetch-strongswan.sh adds deb-src lines), else a warning only:
# selftests/ike_establish.sh skips, naming the reason (and so fails CI, which skips nothing).
ike-if-possible:
	@if [ ! -x /usr/lib/ipsec/charon ]; then \
		echo "make check: no strongswan-charon: the kernel-nfsec plugin is not built, ike_establish.sh will skip" >&2; \
	elif ! $(MAKE) --no-print-directory -C ike $(if $(WERROR),WERROR=1); then \
		echo "make check: building the kernel-nfsec plugin failed (above): ike_establish.sh will skip" >&2; \
	fi

# arm64 (appliance boards), with Debian's cross compiler (gcc-aarch64-linux-gnu): the module
# against Debian's arm64 headers of KVER's version (6.1.0-57-amd64: linux-headers-6.1.0-57-arm64,
# unpacked into .build/arm64/ by scripts/arm64-headers.sh), the tool against libnl's arm64
# packages (multiarch). Both are built in .build/arm64/ from links to the sources.
ARM64_KVER = $(patsubst %-amd64,%-arm64,$(KVER))
ARM64_DIR := $(CURDIR)/.build/arm64
ARM64_PKG_CONFIG = env PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig pkg-config
cross-arm64:
	@case "$(KVER)" in *-amd64) ;; *) echo "cross-arm64: KVER='$(KVER)' is not a Debian *-amd64 kernel" >&2; exit 1;; esac
	@command -v aarch64-linux-gnu-gcc >/dev/null || { echo "cross-arm64: apt-get install gcc-aarch64-linux-gnu" >&2; exit 1; }
	@mkdir -p $(ARM64_DIR)/module $(ARM64_DIR)/tools
	@find $(ARM64_DIR)/module $(ARM64_DIR)/tools -maxdepth 1 -type l -delete
	@ln -sfn $(CURDIR)/module/Kbuild $(CURDIR)/module/uapi $(MODULE_SRCS) $(ARM64_DIR)/module/
	@ln -sfn $(CURDIR)/tools/Makefile $(wildcard $(CURDIR)/tools/*.[ch]) $(ARM64_DIR)/tools/
	+kdir=$$(scripts/arm64-headers.sh $(ARM64_KVER) $(ARM64_DIR)/headers-$(ARM64_KVER)) && \
	$(MAKE) -C $$kdir M=$(ARM64_DIR)/module ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
		$(if $(DEBUG),CONFIG_NFSEC_DEBUG=y) $(if $(WERROR),KCFLAGS=-Werror) modules
	$(MAKE) -C $(ARM64_DIR)/tools CC=aarch64-linux-gnu-gcc PKG_CONFIG="$(ARM64_PKG_CONFIG)" $(if $(WERROR),WERROR=1)
	@file $(ARM64_DIR)/module/nfsec.ko $(ARM64_DIR)/tools/nfsec

# The debug kernel (selftests/vm/kernel.sh, selftests/vm/debug.config) and the module built
# against it, beside the normal one: .build/kdebug/nfsec.ko, and with CONFIG_NFSEC_DEBUG=y in
# .build/kdebug-selftest/ for selftests/module_selftest.sh. Another worktree can share one kernel
# build with DEBUG_KERNEL_DIR=.
DEBUG_KERNEL_DIR ?= $(CURDIR)/.build/kernel-debug
override DEBUG_KERNEL_DIR := $(abspath $(DEBUG_KERNEL_DIR))
KDEBUG_DIR := $(CURDIR)/.build/kdebug
KDEBUG_SELFTEST_DIR := $(CURDIR)/.build/kdebug-selftest
kernel-debug:
	@DEBUG_KERNEL_DIR=$(DEBUG_KERNEL_DIR) JOBS=$(or $(JOBS),2) selftests/vm/kernel.sh >/dev/null

module-kdebug: kernel-debug
	@mkdir -p $(KDEBUG_DIR) $(KDEBUG_SELFTEST_DIR)
	@find $(KDEBUG_DIR) $(KDEBUG_SELFTEST_DIR) -maxdepth 1 -name '*.mod.c' -type l -delete
	@ln -sfn $(CURDIR)/module/Kbuild $(CURDIR)/module/uapi $(MODULE_SRCS) $(KDEBUG_DIR)/
	@ln -sfn $(CURDIR)/module/Kbuild $(CURDIR)/module/uapi $(MODULE_SRCS) $(KDEBUG_SELFTEST_DIR)/
	$(MAKE) -C $(DEBUG_KERNEL_DIR) M=$(KDEBUG_DIR) $(if $(DEBUG),CONFIG_NFSEC_DEBUG=y) $(if $(WERROR),KCFLAGS=-Werror) modules
	$(MAKE) -C $(DEBUG_KERNEL_DIR) M=$(KDEBUG_SELFTEST_DIR) CONFIG_NFSEC_DEBUG=y modules

# A staged install (DESTDIR) leaves depmod to whoever installs the files for real.
MODDIR = $(DESTDIR)/lib/modules/$(KVER)/extra
install: install-module install-tools install-ike-if-built

install-module: module
	$(KBUILD) modules_install $(if $(DESTDIR),INSTALL_MOD_PATH=$(DESTDIR))
	$(if $(DESTDIR),,depmod -a $(KVER))

install-tools: tools
	$(MAKE) -C tools install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)

# charon looks for plugins in /usr/lib/ipsec/plugins whatever PREFIX is.
install-ike: ike
	$(MAKE) -C ike install DESTDIR=$(DESTDIR)

install-ike-if-built:
	$(if $(wildcard ike/libstrongswan-kernel-nfsec.so),$(MAKE) -C ike install DESTDIR=$(DESTDIR))

uninstall:
	@test -n "$(KVER)" || { echo "no kernel build tree (KDIR='$(KDIR)'): pass KDIR= of the kernel installed for" >&2; exit 1; }
	rm -f $(MODDIR)/module/nfsec.ko $(MODDIR)/module/nfsec.ko.*
	-rmdir $(MODDIR)/module
	$(if $(DESTDIR),,depmod -a $(KVER))
	$(MAKE) -C tools uninstall PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)
	$(MAKE) -C ike uninstall DESTDIR=$(DESTDIR)

# DKMS builds from these (dkms.conf): the top Kbuild and module/, nothing else.
DKMS_DIR = $(DESTDIR)/usr/src/nfsec-$(VERSION)
DKMS_FILES = Kbuild dkms.conf $(filter-out %.mod.c,$(wildcard module/*.[ch])) module/Kbuild module/uapi/nfsec.h
dkms-install: version-check
	install -d $(DKMS_DIR)/module/uapi
	for f in $(DKMS_FILES); do install -m 0644 $$f $(DKMS_DIR)/$$f || exit; done

# One version everywhere: the module's, the tool's, DKMS's and the Debian package's.
version-check:
	@v=$$(sed -n 's/^\#define TOOL_VERSION "\(.*\)"/\1/p' tools/tool.h); \
	d=$$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf); \
	c=$$(sed -n '1s/^nfsec (\([^)]*\)).*/\1/p' debian/changelog); \
	[ -n "$(VERSION)" ] && [ "$$v" = "$(VERSION)" ] && [ "$$d" = "$(VERSION)" ] && [ "$$c" = "$(VERSION)" ] || \
		{ echo "versions differ: module/nfsec.h '$(VERSION)', tools/tool.h '$$v', dkms.conf '$$d', debian/changelog '$$c'" >&2; exit 1; }

# The packages are built from a copy of the tree's files (tracked, or new and not ignored),
# not from the tree: no build product of the tree gets in, and dpkg-buildpackage writes its
# results beside the copy, in .build/deb/.
DEB_DIR := $(CURDIR)/.build/deb
deb: version-check
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/nfsec-$(VERSION)
	git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t $(DEB_DIR)/nfsec-$(VERSION)
	cd $(DEB_DIR)/nfsec-$(VERSION) && dpkg-buildpackage -b -us -uc
	lintian --fail-on error,warning $(DEB_DIR)/*.changes

# As root: the packages installed, tested in a VM against the installed files, purged
# (selftests/vm/check-pkg.sh). KDIR's kernel is the guest.
check-pkg: deb
	KVER="$(KVER)" selftests/vm/check-pkg.sh

clean:
	$(if $(wildcard $(KDIR)/Makefile),$(KBUILD) clean)
	$(MAKE) -C tools clean
	$(MAKE) -C ike clean

distclean: clean
	rm -rf .vm .build

# On a machine whose running kernel is KDIR's and can load modules, test right here (as root);
# otherwise boot KDIR's kernel in QEMU.
ON_HOST = [ -e /proc/modules ] && [ "$$(id -u)" = 0 ] && [ "$$(uname -r)" = "$(KVER)" ]
ifeq ($(KERNEL),debug)
# Slower than the Debian kernel's run several times over (KASAN, lockdep, kmemleak under TCG):
# longer limits, and room for KASAN's shadow. TEST_TIMEOUT=, VM_TIMEOUT=, VM_MEM= override.
check: tools module-kdebug ike-if-possible
	$(MAKE) -C tools check
	TESTS="$(TESTS)" NFSEC_KO=$${NFSEC_KO:-$(KDEBUG_DIR)/nfsec.ko} NFSEC_DEBUG_KO=$${NFSEC_DEBUG_KO:-$(KDEBUG_SELFTEST_DIR)/nfsec.ko} \
		VM_KERNEL=$(DEBUG_KERNEL_DIR)/arch/x86/boot/bzImage TEST_TIMEOUT=$${TEST_TIMEOUT:-1200} \
		VM_TIMEOUT=$${VM_TIMEOUT:-10800} VM_MEM=$${VM_MEM:-3072} selftests/vm/run.sh
else ifneq ($(KERNEL),)
check:
	@echo "KERNEL=$(KERNEL): only KERNEL=debug is known" >&2; exit 1
else
check: all debug-ko ike-if-possible
	$(MAKE) -C tools check
	@if $(ON_HOST); then \
		TESTS="$(TESTS)" selftests/run_tests.sh; \
	else \
		TESTS="$(TESTS)" KVER="$(KVER)" selftests/vm/run.sh; \
	fi
endif

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
	if $(ON_HOST); then \
		selftests/run_tests.sh $(FUZZ_TESTS); \
	else \
		TESTS="$(FUZZ_TESTS)" VM_TIMEOUT=$${VM_TIMEOUT:-12000} KVER="$(KVER)" selftests/vm/run.sh; \
	fi

.PHONY: all module debug debug-ko kernel-debug module-kdebug tools ike ike-if-possible cross-arm64 bench install install-module \
	install-tools install-ike install-ike-if-built uninstall dkms-install version-check deb check-pkg clean distclean check fuzz
