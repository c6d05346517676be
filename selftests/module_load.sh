#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module is loaded and the tool talks to it over generic netlink: `nfsec version` shows
# both the tool's and the module's version.

source "$(dirname "$0")/lib.sh"

need_module
pass "/sys/module/nfsec exists"

command -v nfsec >/dev/null || fail "tools/nfsec not built"
out=$(nfsec version 2>&1) || fail "nfsec version: $out"
echo "$out" | sed 's/^/# /'

# Contract with tools/: the output names two versions (tool's and module's), and the module's
# equals MODULE_VERSION as sysfs shows it.
modver=$(cat /sys/module/nfsec/version 2>/dev/null || true)
[[ -n $modver ]] || fail "/sys/module/nfsec/version missing (MODULE_VERSION)"
grep -qF "$modver" <<<"$out" || fail "module version '$modver' not in: $out"
nver=$(grep -oE '[0-9]+\.[0-9]+(\.[0-9]+)?' <<<"$out" | wc -l)
((nver >= 2)) || fail "want both the tool's and the module's version in: $out"
pass "nfsec version reports tool and module ($modver)"

# Only the tree's module is tested: for the run, modprobe refuses to load an installed nfsec
# (DKMS's), which the tool's first request would otherwise load whenever a test unloaded ours.
if [[ ${NFSEC_INSTALLED:-} != 1 ]]; then
	modprobe -c | grep -q '^install nfsec /bin/false' ||
		fail "modprobe may load an installed nfsec during the run (no guard in /run/modprobe.d)"
	pass "modprobe will not load an installed nfsec during the run"
fi
