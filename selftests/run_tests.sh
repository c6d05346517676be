#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Load the tree's nfsec module, run the selftests, unload it; print KTAP.
# Run as root on a kernel that can load the module: the VM's init, or a real test machine.
#
#   selftests/run_tests.sh [TEST...]
#
# Tests: the arguments, else $TESTS (space separated), else TEST_PROGS from selftests/Makefile.
# Names may be given as foo, foo.sh or selftests/foo.sh.
#
# Environment:
#   NFSEC_KO=PATH            module to insmod (default: module/nfsec.ko of this tree)
#   TEST_TIMEOUT=SECS        per-test limit (default 300); a timeout fails the test
#   NFSEC_DMESG_CHECK=host   plan the final "dmesg" result but leave it to the caller, which
#                            checks the whole kernel log (selftests/vm/run.sh does)
#
# Output: KTAP; each test's output is shown as "# " diagnostics; the last line is
# "N passed, N failed, N skipped". Exit status 0 only if nothing failed.

cd "$(dirname "$0")/.." || exit 1
repo=$PWD
source selftests/lib.sh
set +e
trap - EXIT
export PATH="$repo/tools:$PATH:/usr/sbin:/sbin"
ko=${NFSEC_KO:-$repo/module/nfsec.ko}
test_timeout=${TEST_TIMEOUT:-300}

if (($#)); then
	tests=("$@")
elif [[ -n ${TESTS:-} ]]; then
	read -ra tests <<<"$TESTS"
else
	# TEST_PROGS of selftests/Makefile (":=", "+=" and "\\" continuations), without make
	read -ra tests < <(awk '/^TEST_PROGS[ \t]*[:+]?=/ { on = 1; sub(/^[^=]*=/, "") }
		on { c = sub(/\\$/, ""); printf "%s ", $0; on = c }' selftests/Makefile)
fi

# kmemleak (a debug kernel, selftests/vm/debug.config): it reports an object unreferenced in two
# scans and older than 5 s. The scans before insmod and the "clear" after them quiet what boot
# leaked, so that what is reported after the rmmod leaked while the module was loaded.
kmemleak=/sys/kernel/debug/kmemleak
# A kmemleak that gave up (its pool ran out) refuses these: it said so in the log (dmesg_bad).
kmemleak_scan()
{
	{ echo scan >"$kmemleak" && echo scan >"$kmemleak"; } 2>/dev/null
}

n=0 passed=0 failed=0 skipped=0
result() # ok|fail|skip NAME [REASON]
{
	n=$((n + 1))
	case $1 in
	ok)	passed=$((passed + 1)); echo "ok $n $2" ;;
	skip)	skipped=$((skipped + 1)); echo "ok $n $2 # SKIP ${3:-}" ;;
	*)	failed=$((failed + 1)); echo "not ok $n $2${3:+ # $3}" ;;
	esac
}

echo "KTAP version 1"
echo "1..$((${#tests[@]} + 2))"

# Tests run against this tree's module or not at all: never against one loaded before.
load_err=
if [[ -d /sys/module/nfsec ]] && ! out=$(rmmod nfsec 2>&1); then
	load_err="could not unload the nfsec already loaded: $out"
fi
if [[ -w $kmemleak ]]; then
	kmemleak_scan && echo clear >"$kmemleak"
fi
dmesg_mark
echo "# insmod $ko"
if [[ -z $load_err ]] && ! out=$(insmod "$ko" 2>&1); then
	load_err="insmod failed: $out"
fi
[[ -z $load_err ]] || echo "# $load_err"

# Instantiate the crypto templates once, up front: under emulation their self-tests can take
# long enough that the first `ip xfrm state add` gives up ("Requested AEAD algorithm not found").
warm=nfsec-warmup-$$
if ip netns add "$warm" 2>/dev/null; then
	for alg in "aead rfc4106(gcm(aes)) 0x0000000000000000000000000000000000000000 128" \
		   "aead rfc7539esp(chacha20,poly1305) 0x$(printf '%072d' 0) 128" \
		   "enc cbc(aes) 0x$(printf '%032d' 0) auth-trunc hmac(sha256) 0x$(printf '%064d' 0) 128"; do
		for try in 1 2 3; do
			# shellcheck disable=SC2086
			ip -n "$warm" xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 1 $alg \
				2>/dev/null && break
			sleep 2
		done
		ip -n "$warm" xfrm state flush
	done
	ip netns del "$warm"
fi

for t in "${tests[@]}"; do
	t=${t##*/}
	[[ $t == *.sh ]] || t+=.sh
	if [[ ! -f selftests/$t ]]; then
		result fail "$t" "no such test"
		continue
	fi
	if [[ -n $load_err ]]; then
		result fail "$t" "not run: the module is not this tree's"
		continue
	fi
	echo "# $t"
	log=$(mktemp)
	start=$SECONDS
	# timeout makes its own process group: whatever the test leaves running is killed after.
	(cd selftests && exec timeout -k 10 "$test_timeout" bash "./$t") </dev/null >"$log" 2>&1 &
	pid=$!
	tail -n +1 -s 0.2 -f --pid=$pid "$log" | sed -u '/^#/!s/^/# /'
	wait $pid
	rc=$?
	kill -KILL -- -$pid 2>/dev/null
	echo "# $t: exit $rc in $((SECONDS - start))s"
	case $rc in
	0)	result ok "$t" ;;
	4)	result skip "$t" "$(sed -n 's/^# SKIP: //p' "$log" | tail -n 1)" ;;
	124|137) result fail "$t" "timeout after ${test_timeout}s" ;;
	*)	result fail "$t" ;;
	esac
	rm -f "$log"
done

if [[ ! -d /sys/module/nfsec ]]; then
	result fail rmmod "module not loaded"
elif out=$(rmmod nfsec 2>&1); then
	result ok rmmod
else
	echo "# $out"
	result fail rmmod
fi

# A leak logs "N new suspected memory leaks" (dmesg_bad): the dmesg result fails on it.
if [[ -w $kmemleak ]]; then
	# No event to poll for: an object younger than kmemleak's fixed 5 s is never reported.
	sleep 5
	kmemleak_scan
	sed 's/^/# kmemleak: /' "$kmemleak" 2>/dev/null
fi

if [[ ${NFSEC_DMESG_CHECK:-} != host ]]; then
	bad=$(dmesg_since | dmesg_bad)
	if [[ -z $bad ]]; then
		result ok dmesg
	else
		sed 's/^/# kernel log: /' <<<"$bad"
		result fail dmesg
	fi
fi

echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
