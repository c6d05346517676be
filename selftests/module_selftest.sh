#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# nfsec-selftest: exclusive (it unloads and reloads the module)
#
# The in-module self-tests of the pure logic (replay window, ESN inference,
# selector matching, policy index allocation) run when a debug build loads;
# a failure refuses the load. `make check` builds that module (make
# debug-ko); this test loads it in place of the normal one and puts the
# normal one back.
source "$(dirname "$0")/lib.sh"
need_module

ko=${NFSEC_KO:-$SELFTESTS_DIR/../module/nfsec.ko}
dbg=${NFSEC_DEBUG_KO:-$SELFTESTS_DIR/../.build/debug/nfsec.ko}
[[ -f $dbg ]] || skip "no debug build at $dbg (make debug-ko)"

defer "grep -q '^nfsec ' /proc/modules || insmod '$ko'"
dmesg_mark
rmmod nfsec
insmod "$dbg" || fail "the debug build refused to load: $(dmesg_since | tail -n 5)"
log=$(dmesg_since)
rmmod nfsec
insmod "$ko"
echo "$log" | grep 'nfsec' | sed 's/^/# /'
grep -q "nfsec: replay self-tests: pass" <<<"$log" || fail "no replay self-test pass line"
grep -q "nfsec: selector self-tests: pass" <<<"$log" || fail "no selector self-test pass line"
grep -q "nfsec: policy index self-tests: pass" <<<"$log" || fail "no policy index self-test pass line"
grep -q "nfsec: mss self-tests: pass" <<<"$log" || fail "no MSS self-test pass line"
if grep -qi "self-test.*fail" <<<"$log"; then
	fail "a self-test failed"
fi
pass "in-module self-tests"
