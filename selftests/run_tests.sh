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
# Environment (every setting that changes what is tested is printed at the start as an override):
#   NFSEC_KO=PATH            module to insmod (default: module/nfsec.ko of this tree)
#   NFSEC_INSTALLED=1        test the installed nfsec (make check-pkg): `modprobe nfsec` (DKMS's
#                            module) instead of insmod, /usr/sbin/nfsec instead of tools/nfsec.
#                            Otherwise modprobe is kept from loading an installed nfsec for the
#                            run (/run/modprobe.d), so that only the tree's module is tested
#   TEST_TIMEOUT=SECS        per-test limit on a machine as fast as the reference (default 300),
#                            multiplied by the measured slowness of this one (see calibrate)
#   TIMEOUT_FACTOR=F         that multiplier, instead of measuring it
#   JOBS=N                   run up to N tests at once (default 3); a test whose script has the
#                            line "# nfsec-selftest: exclusive" always runs alone
#   NFSEC_NO_SKIP=1          any skip, of a test or of a sub-case, fails it (CI=true does the same)
#   NFSEC_DMESG_CHECK=host   plan the final "dmesg" result but leave it to the caller, which
#                            checks the whole kernel log (selftests/vm/run.sh does)
#
# Output: KTAP; each test's output is shown as "# " diagnostics; the last line is
# "N passed, N failed, N skipped". Exit status 0 only if nothing failed. A test that exits 0
# after a skip_case (lib.sh) is a skip, not a pass. A run of all of TEST_PROGS fails unless every
# one of them ran; a run of a subset says so before the summary.

cd "$(dirname "$0")/.." || exit 1
repo=$PWD
source selftests/lib.sh
set +e
trap - EXIT
installed=
[[ ${NFSEC_INSTALLED:-} == 1 ]] && installed=1
if [[ -n $installed ]]; then
	export PATH="/usr/sbin:$PATH:/sbin"
else
	export PATH="$repo/tools:$PATH:/usr/sbin:/sbin"
fi
ko=${NFSEC_KO:-$repo/module/nfsec.ko}
test_timeout=${TEST_TIMEOUT:-300}
jobs=${JOBS:-3}
no_skip=
[[ ${NFSEC_NO_SKIP:-} == 1 || ${CI:-} == true ]] && no_skip=1

# The settings that change what a test checks (run_combos' datapath choice, the module, limits):
# a run with any of them is not the default check, and says so at its start and its end.
overrides=
for v in NFSEC_KO NFSEC_DEBUG_KO NFSEC_INSTALLED COMBOS LEFT RIGHT PERF PERF_UNDER INTEROP_CASES NATT_CASES XFER_TIMEOUT \
	 IKE_CASES IKE_LEFT FUZZ_SEED FUZZ_COUNT FUZZ_SECS FUZZ_ROUND FUZZ_CASES \
	 TEST_TIMEOUT TIMEOUT_FACTOR BENCH_CASES ROUNDS SECS; do
	[[ -z ${!v:-} ]] || overrides+=" $v=${!v}"
done

# A variable of selftests/Makefile (":=", "+=" and "\\" continuations), without make
make_var()
{
	awk -v v="$1" '$0 ~ "^" v "[ \t]*[:+]?=" { on = 1; sub(/^[^=]*=/, "") }
		on { c = sub(/\\$/, ""); printf "%s ", $0; on = c }' selftests/Makefile
}
read -ra all_tests < <(make_var TEST_PROGS)
subset=
if (($#)); then
	tests=("$@") subset="$*"
elif [[ -n ${TESTS:-} ]]; then
	read -ra tests <<<"$TESTS"
	subset=$TESTS
else
	tests=("${all_tests[@]}")
fi
ntests=${#tests[@]}

# kmemleak (a debug kernel, selftests/vm/debug.config): it reports an object unreferenced in two
# scans and older than 5 s. The scans before insmod and the "clear" after them quiet what boot
# leaked, so that what is reported after the rmmod leaked while the module was loaded.
kmemleak=/sys/kernel/debug/kmemleak
# A kmemleak that gave up (its pool ran out) refuses these: it said so in the log (dmesg_bad).
kmemleak_scan()
{
	{ echo scan >"$kmemleak" && echo scan >"$kmemleak"; } 2>/dev/null
}

n=0 passed=0 failed=0 skipped=0 ran=0
result() # ok|fail|skip NAME [REASON]
{
	n=$((n + 1))
	if [[ $1 == skip && -n $no_skip ]]; then
		set -- fail "$2" "skipped, which NFSEC_NO_SKIP=1 or CI=true forbids: ${3:-}"
	fi
	case $1 in
	ok)	passed=$((passed + 1)); echo "ok $n $2" ;;
	skip)	skipped=$((skipped + 1)); echo "ok $n $2 # SKIP ${3:-}" ;;
	*)	failed=$((failed + 1)); echo "not ok $n $2${3:+ # $3}" ;;
	esac
}

# How much slower than the reference this machine runs now: a fixed mix of process starts and
# hashing, the median of 3, against REF_MS. The per-test limit is multiplied by it (1 to 4): a
# loaded host gets more time instead of a flaky timeout. REF_MS is an estimate for the VM on a
# quiet 2-core machine (the machine it was measured on was shared: 2.5-13 s under load 5-13);
# set lower rather than higher, which only lengthens the limits.
REF_MS=800
calibrate()
{
	local k t0 ms=()
	for _ in 1 2 3; do
		t0=${EPOCHREALTIME/./}
		for ((k = 0; k < 10; k++)); do /bin/true; done
		head -c 4M /dev/zero | sha256sum >/dev/null
		ms+=($(((${EPOCHREALTIME/./} - t0) / 1000)))
	done
	printf '%s\n' "${ms[@]}" | sort -n | sed -n 2p
}
if [[ -n ${TIMEOUT_FACTOR:-} ]]; then
	factor=$TIMEOUT_FACTOR
else
	cal=$(calibrate)
	factor=$(awk -v c="$cal" -v r=$REF_MS 'BEGIN { f = c / r; if (f < 1) f = 1; if (f > 4) f = 4; printf "%.1f", f }')
fi
# A test beside another runs up to 1.6 times as long (esp_interop 150 s alone, 237 s beside
# others), beside two 1.4-1.6 times as long again (8 tests, 2026-12-03): its limit grows by
# half for each other test at once.
pf=$(awk -v j="$jobs" 'BEGIN { print 1 + (j - 1) / 2 }')
limit=$(awk -v t="$test_timeout" -v f="$factor" -v p=$pf 'BEGIN { printf "%d", t * f * p + 0.5 }')
# The tests' own time limits follow the machine too (esp_lib.sh's xfer).
export NFSEC_SLOWNESS=$factor

echo "KTAP version 1"
echo "1..$((ntests + 2))"
[[ -z $overrides ]] || echo "# WARNING: settings from the environment change what is tested:$overrides"
[[ -z $subset ]] || echo "# SUBSET: $ntests of the ${#all_tests[@]} tests of TEST_PROGS ($subset)"
echo "# machine speed: ${cal:-?} ms for the calibration (reference $REF_MS ms): per-test limit ${test_timeout} s x $factor x $pf (JOBS=$jobs) = ${limit} s"

# Tests run against this tree's module or not at all: never against one loaded before.
load_err=
if [[ -d /sys/module/nfsec ]] && ! out=$(rmmod nfsec 2>&1); then
	load_err="could not unload the nfsec already loaded: $out"
fi
if [[ -w $kmemleak ]]; then
	kmemleak_scan && echo clear >"$kmemleak"
fi
# (not lib.sh's dmesg_mark, which fails the caller: without a mark, the dmesg check below fails)
_DMESG_SEQ=$(python3 selftests/kmsg.py mark "nfsec-run_tests-$$") || echo "# cannot mark the kernel log"
# The tool's first request would load an installed nfsec (DKMS's, MODULE_ALIAS_GENL_FAMILY)
# whenever the tree's is out, between a test's rmmod and insmod: keep modprobe from it.
guard=/run/modprobe.d/nfsec-selftests-$$.conf
if [[ -n $installed ]]; then
	echo "# modprobe nfsec (NFSEC_INSTALLED=1: the installed module, $(modinfo -n nfsec 2>&1))"
	if [[ -z $load_err ]] && ! out=$(modprobe nfsec 2>&1); then
		load_err="modprobe failed: $out"
	fi
else
	mkdir -p /run/modprobe.d && echo "install nfsec /bin/false # selftests: the tree's module only" >"$guard" ||
		load_err="cannot write $guard"
	trap 'rm -f "$guard"' EXIT
	# What nfsec.ko needs of other modules (nf_defrag_ipv6): insmod loads none, modprobe
	# does, and they stay loaded through the tests' rmmod and insmod of nfsec.
	deps=$(modinfo -F depends "$ko" 2>/dev/null | tr , ' ')
	echo "# modprobe -a $deps; insmod $ko"
	if [[ -z $load_err && -n $deps ]] && ! out=$(modprobe -a $deps 2>&1); then
		load_err="modprobe $deps failed: $out"
	fi
	if [[ -z $load_err ]] && ! out=$(insmod "$ko" 2>&1); then
		load_err="insmod failed: $out"
	fi
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

tmpd=$(mktemp -d)
names=()
for ((i = 0; i < ntests; i++)); do
	t=${tests[i]##*/}
	[[ $t == *.sh ]] || t+=.sh
	names[i]=$t
done

exclusive() # NAME: the test must run alone (it reloads the module, reads global counters, times)
{
	grep -q '^# nfsec-selftest: exclusive' "selftests/$1" 2>/dev/null
}

# Start test I in the background: output in $tmpd/I.log, "EXIT SECONDS" in $tmpd/I.rc at the end,
# the reasons of its skips in $tmpd/I.skips. With JOBS=1 its output is shown as it comes.
start_test()
{
	local i=$1 d=$tmpd/$1
	: >"$d.log"	# before tail opens it
	# In the VM, what was running when a guest crashed: results are reported in order, later.
	[[ -z ${NFSEC_RUN:-} ]] || echo "$SECONDS s: ${names[i]}" >>"$NFSEC_RUN/started"
	(
		s=$SECONDS
		# timeout makes its own process group: whatever the test leaves running is killed after.
		cd selftests || exit
		NFSEC_SKIP_LOG=$d.skips NFSEC_TRACE_NAME=${names[i]} timeout -k 10 "$limit" bash "./${names[i]}" </dev/null >"$d.log" 2>&1 &
		p=$!
		wait $p
		rc=$?
		kill -KILL -- -$p 2>/dev/null
		echo "$rc $((SECONDS - s))" >"$d.rc"
	) &
	pids[i]=$!
	if ((jobs == 1)); then
		echo "# ${names[i]}"
		tail -n +1 -s 0.2 -f --pid="${pids[i]}" "$d.log" | sed -u '/^#/!s/^/# /'
	fi
}

report_test() # I
{
	local i=$1 t=${names[$1]} d=$tmpd/$1 rc secs why
	wait "${pids[i]}"
	if ((jobs > 1)); then
		echo "# $t"
		sed '/^#/!s/^/# /' "$d.log"
	fi
	read -r rc secs <"$d.rc"
	ran=$((ran + 1))
	echo "# $t: exit $rc in ${secs}s"
	((secs * 100 <= limit * 60)) ||
		echo "# WARNING: $t used ${secs} s, $((secs * 100 / limit))% of its ${limit} s limit"
	why=$(sed -n 's/^# SKIP: //p' "$d.log" | sort -u | paste -sd ';' | sed 's/;/; /g')
	[[ -n $why || ! -s $d.skips ]] || why=$(sort -u "$d.skips" | paste -sd ';' | sed 's/;/; /g')
	case $rc in
	0)	if [[ -s $d.skips || -n $why ]]; then
			result skip "$t" "passed, but skipped: $why"
		else
			result ok "$t"
		fi ;;
	4)	result skip "$t" "$why" ;;
	124|137) result fail "$t" "timeout after ${limit}s" ;;
	*)	result fail "$t" ;;
	esac
}

# Tests start in TEST_PROGS order, up to $jobs at once, an exclusive one alone; their results are
# reported in that order.
can_start() # next
{
	local j running=0
	for ((j = first; j < next; j++)); do
		[[ -f $tmpd/$j.rc ]] && continue
		exclusive "${names[j]}" && return 1
		running=$((running + 1))
	done
	((running < jobs)) && { ! exclusive "${names[next]}" || ((running == 0)); }
}

first=0 next=0
while ((first < ntests)); do
	while ((next < ntests)) && can_start; do
		t=${names[next]}
		if [[ ! -f selftests/$t || -n $load_err ]]; then
			echo "bad ${load_err:+module}" >"$tmpd/$next.rc"
		else
			start_test $next
		fi
		next=$((next + 1))
		# One at a time, each result as soon as it is known (a crash later keeps them).
		((jobs > 1)) || break
	done
	while ((first < next)) && [[ -f $tmpd/$first.rc ]]; do
		if read -r rc _ <"$tmpd/$first.rc" && [[ $rc == bad ]]; then
			if [[ -n $load_err ]]; then
				result fail "${names[first]}" "not run: the module is not this tree's"
			else
				result fail "${names[first]}" "no such test"
			fi
		else
			report_test $first
		fi
		first=$((first + 1))
	done
	((first < next)) && sleep 0.5
done
rm -rf "$tmpd"

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

# Every test of TEST_PROGS ran, or the run says loudly that it was not the whole suite.
if [[ -z $subset ]] && ((ran != ${#all_tests[@]})); then
	echo "# FAIL: $ran tests ran, TEST_PROGS has ${#all_tests[@]}"
	failed=$((failed + 1))
fi
# ... and TEST_PROGS has every test: a script that is in neither list was left out by mistake.
if [[ -z $subset ]]; then
	listed=" ${all_tests[*]} $(make_var NOT_TESTS) "
	for f in selftests/*.sh; do
		[[ $listed == *" ${f##*/} "* ]] && continue
		echo "# FAIL: ${f##*/} is neither in TEST_PROGS nor in NOT_TESTS (selftests/Makefile)"
		failed=$((failed + 1))
	done
fi
# A full run that tests less than the default (run_combos' datapath choice, fewer cases) is no
# check at all: LEFT=xfrm RIGHT=xfrm tests no nfsec. Such settings are for subsets.
narrowing=
for v in COMBOS LEFT RIGHT INTEROP_CASES NATT_CASES IKE_CASES IKE_LEFT FUZZ_CASES FUZZ_COUNT FUZZ_ROUND; do
	[[ -z ${!v:-} ]] || narrowing+=" $v=${!v}"
done
if [[ -z $subset && -n $narrowing ]]; then
	echo "# FAIL: a full run with settings that narrow it:$narrowing"
	failed=$((failed + 1))
fi
[[ -z $subset ]] || echo "# SUBSET: only $ran of the ${#all_tests[@]} tests of TEST_PROGS ran: not a full check"
[[ -z $overrides ]] || echo "# WARNING: settings from the environment changed what was tested:$overrides"
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
