# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared helpers for nfsec selftests. A test is a bash script in selftests/ that starts with
#
#	#!/bin/bash
#	source "$(dirname "$0")/lib.sh"
#	need_module
#
# and exits 0 (pass), 1 (fail) or 4 (skip, kselftest's KSFT_SKIP). lib.sh turns on `set -e`, so
# any failing command fails the test; tools/ is put first on PATH so `nfsec` is the tree's tool
# (/usr/sbin with NFSEC_INSTALLED=1: make check-pkg tests the installed one).
#
# Namespaces and cleanup
#   ns_create ns1 ns2 ...     create one netns per name with a unique name (NAME-<pid>-<rand>)
#                             and set the shell variable of that name to it: `ip -n $ns1 ...`.
#                             They are deleted (their processes killed first) on exit.
#   defer CMD...              run CMD at exit (before the namespaces go; last deferred runs first);
#                             use it rather than your own `trap ... EXIT`, which would replace lib.sh's
#   veth_pair NS1 IF1 ADDR1 NS2 IF2 ADDR2
#                             veth IF1 in NS1 <-> IF2 in NS2, addresses with prefix length
#                             (10.0.0.1/24, fd00::1/64; "" for none), both up; IPv6 without DAD.
#   nat_hosts NS-A NS-NAT NS-B a behind NS-NAT (192.168.1.2 - 192.168.1.1 on lan0), NS-NAT's
#                             wan0 10.0.0.1 - b's wan0 10.0.0.2, 10.1.0.1 behind a and 10.2.0.1
#                             behind b routed through NS-NAT, which forwards (its rules are the
#                             test's)
#   Tests define their own short wrappers: n1() { ip netns exec "$ns1" "$@"; }
#
# Results (every line printed starts with "# ": KTAP diagnostics)
#   pass MSG                  print "# ok: MSG"
#   fail MSG                  print "# FAIL: MSG" and exit 1 (from a $(...) subshell, only it exits)
#   skip MSG                  print "# SKIP: MSG" and exit 4; run_tests.sh shows MSG as the reason
#   skip_case MSG             a sub-case did not run: print "# SKIP: MSG" and go on; the test is
#                             then reported as a skip, not a pass (never end a case with a
#                             silent `return 0` when its precondition is missing)
#   check_eq WHAT GOT WANT    pass if GOT == WANT, else fail showing both
#   need_module               fail (never skip) unless nfsec is loaded: no test passes without it
#   need_cmd CMD...           skip unless every CMD is on PATH
#   wait_for SECS CMD...      retry CMD every 0.1 s until it succeeds; fail after SECS
#   dmesg_mark / dmesg_since  mark the kernel log; print kernel lines logged after the mark.
#                             When lines after the mark were lost (the log wrapped), dmesg_since
#                             prints a "WARNING: kernel log: lines lost" line and returns 1
#   dmesg_bad [FILE]          print lines of a kernel log (stdin or FILE) that mean a kernel bug

set -e

# NFSEC_TRACE=DIR (make check NFSEC_TRACE=1 makes one in the run's folder): every test shell
# and subshell traces each command it runs, with the time, into DIR/TEST.trace, for
# selftests/trace_profile.py to show where a test spends its time. TEST is the script
# run_tests.sh started (NFSEC_TRACE_NAME), also for the scripts it runs (ah_interop.sh execs
# esp_interop.sh).
if [[ -n ${NFSEC_TRACE:-} && -d $NFSEC_TRACE && ${0##*/} != run_tests.sh ]]; then
	exec {_trace_fd}>>"$NFSEC_TRACE/${NFSEC_TRACE_NAME:-${0##*/}}.trace"
	BASH_XTRACEFD=$_trace_fd
	PS4='+${EPOCHREALTIME} ${BASHPID} ${BASH_SOURCE[0]##*/}:${LINENO} '
	set -x
fi
export LC_ALL=C
SELFTESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# NFSEC_INSTALLED=1 (make check-pkg): the installed tool, /usr/sbin/nfsec, not the tree's.
if [[ ${NFSEC_INSTALLED:-} == 1 ]]; then
	PATH=/usr/sbin:$PATH
else
	PATH=$SELFTESTS_DIR/../tools:$PATH
fi

_NS_LIST=()
_DEFERRED=()
_NS_SUFFIX="$$-$RANDOM"

cleanup()
{
	local i ns
	set +e
	disown -a
	for ((i = ${#_DEFERRED[@]} - 1; i >= 0; i--)); do
		eval "${_DEFERRED[i]}"
	done
	for ns in "${_NS_LIST[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	_DEFERRED=() _NS_LIST=()
}
trap cleanup EXIT

defer()
{
	_DEFERRED+=("$*")
}

ns_create()
{
	local var ns
	for var; do
		ns="$var-$_NS_SUFFIX"
		ip netns add "$ns"
		_NS_LIST+=("$ns")
		printf -v "$var" '%s' "$ns"
		ip -n "$ns" link set lo up
	done
}

_addr_add() # NS IF ADDR
{
	[[ -n $3 ]] || return 0
	if [[ $3 == *:* ]]; then
		ip -n "$1" addr add "$3" dev "$2" nodad
	else
		ip -n "$1" addr add "$3" dev "$2"
	fi
}

veth_pair()
{
	local ns1=$1 if1=$2 a1=$3 ns2=$4 if2=$5 a2=$6
	ip -n "$ns1" link add "$if1" type veth peer name "$if2" netns "$ns2"
	_addr_add "$ns1" "$if1" "$a1"
	_addr_add "$ns2" "$if2" "$a2"
	ip -n "$ns1" link set "$if1" up
	ip -n "$ns2" link set "$if2" up
}

# tunnel_hosts: namespaces $a and $b on a veth (10.0.0.1 - 10.0.0.2), each with a
# host address behind it (10.1.0.1 on a, 10.2.0.1 on b) routed through the other, the
# addresses a tunnel-mode SA carries between its outer ones
tunnel_hosts()
{
	ns_create a b
	veth_pair "$a" eth0 10.0.0.1/24 "$b" eth0 10.0.0.2/24
	ip -n "$a" addr add 10.1.0.1/32 dev lo
	ip -n "$b" addr add 10.2.0.1/32 dev lo
	ip -n "$a" route add 10.2.0.1/32 via 10.0.0.2 src 10.1.0.1
	ip -n "$b" route add 10.1.0.1/32 via 10.0.0.1 src 10.2.0.1
}

nat_hosts()
{
	local a=$1 nat=$2 b=$3
	veth_pair "$a" wan0 192.168.1.2/24 "$nat" lan0 192.168.1.1/24
	veth_pair "$nat" wan0 10.0.0.1/24 "$b" wan0 10.0.0.2/24
	ip -n "$a" addr add 10.1.0.1/32 dev lo
	ip -n "$b" addr add 10.2.0.1/32 dev lo
	ip -n "$a" route add default via 192.168.1.1
	ip -n "$a" route add 10.2.0.1/32 via 192.168.1.1 src 10.1.0.1
	ip -n "$b" route add 10.1.0.1/32 via 10.0.0.1 src 10.2.0.1
	ip netns exec "$nat" sysctl -qw net.ipv4.ip_forward=1
}

# tunnel_hosts6: the same in IPv6 beside it: fd00::1 - fd00::2 on the veth, fd01::1 behind a,
# fd02::1 behind b
tunnel_hosts6()
{
	_addr_add "$a" eth0 fd00::1/64
	_addr_add "$b" eth0 fd00::2/64
	_addr_add "$a" lo fd01::1/128
	_addr_add "$b" lo fd02::1/128
	ip -n "$a" route add fd02::1/128 via fd00::2 src fd01::1
	ip -n "$b" route add fd01::1/128 via fd00::1 src fd02::1
}

pass()
{
	echo "# ok: $*"
}

fail()
{
	echo "# FAIL: $*"
	exit 1
}

# A skip is printed and also recorded in $NFSEC_SKIP_LOG (set by run_tests.sh), which sees it
# even when the line itself went into a $(...) or a subshell's 2>/dev/null.
skip_case()
{
	echo "# SKIP: $*"
	[[ -z ${NFSEC_SKIP_LOG:-} ]] || echo "$*" >>"$NFSEC_SKIP_LOG"
}

skip()
{
	skip_case "$@"
	exit 4
}

check_eq()
{
	if [[ "$2" == "$3" ]]; then
		pass "$1 = '$3'"
	else
		fail "$1: got '$2', want '$3'"
	fi
}

need_module()
{
	[[ -d /sys/module/nfsec ]] || fail "nfsec module is not loaded"
}

need_cmd()
{
	local c
	for c; do
		command -v "$c" >/dev/null || skip "$c not installed"
	done
}

wait_for()
{
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	fail "timed out after ${secs}s waiting for: $*"
}

# The mark is a /dev/kmsg record number (kmsg.py): dmesg_since fails, and prints a line
# dmesg_bad reports, when records after it were lost, rather than print less.
_DMESG_SEQ=
dmesg_mark()
{
	_DMESG_SEQ=$(python3 "$SELFTESTS_DIR/kmsg.py" mark "nfsec-selftest-mark-$$-$RANDOM") ||
		fail "dmesg_mark: cannot log a mark in /dev/kmsg"
}

dmesg_since()
{
	if [[ -z $_DMESG_SEQ ]]; then
		echo "WARNING: dmesg_since without dmesg_mark"
		return 1
	fi
	python3 "$SELFTESTS_DIR/kmsg.py" since "$_DMESG_SEQ"
}

# Kernel log lines that mean a kernel bug. The taint note for an unsigned module is expected.
# Beyond the generic ones, what the checkers of the debug kernel (selftests/vm/debug.config)
# print, as 6.1 words it: KASAN and KFENCE ("BUG: KASAN: ...", "BUG: KFENCE: ..."), lockdep
# ("WARNING: possible circular locking dependency detected", ...), DEBUG_ATOMIC_SLEEP and
# DEBUG_PREEMPT ("BUG: sleeping function called from invalid context", "BUG: using
# smp_processor_id() in preemptible", "BUG: using __this_cpu_read() in preemptible"), ODEBUG,
# UBSAN, refcount_t, and kmemleak's leaks (its scan logs "N new suspected memory leaks"; its
# report has "unreferenced object") or its giving up (then it would find nothing).
_DMESG_BAD=(
	'\bBUG[: ]' 'WARNING:' 'Oops' 'general protection' 'Kernel panic' 'Call Trace:'
	'soft lockup' 'hard LOCKUP' 'rcu.*(stall|self-detected)' 'blocked for more than'
	'unregister_netdevice: waiting' 'list_(add|del) corruption'
	'BUG: KASAN' 'BUG: KFENCE'
	'possible circular locking dependency' 'possible recursive locking' 'inconsistent lock state'
	'suspicious RCU usage' 'lock held when returning' 'bad unlock balance' 'held lock freed'
	'sleeping function called from invalid context' 'scheduling while atomic'
	'in preemptible \[' 'BUG: using __this_cpu'
	'ODEBUG' 'UBSAN' 'refcount_t:'
	'unreferenced object' 'new suspected memory leaks'
	'kmemleak: (Memory pool empty|Cannot allocate|Kernel memory leak detector disabled)'
)
dmesg_bad()
{
	local IFS='|'
	grep -aE "${_DMESG_BAD[*]}" "$@" | grep -av 'module verification failed' || true
}
