#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bad IPv6 input on the receive path (issue 14). esp6_bad.py builds the packets with the SAs'
# keys and sends them as raw frames (AF_PACKET) from a (fd00::1) to b (fd00::2), where nfsec
# has four SAs, GCM, from fd00::1: 0x100 transport, 0x200 6in6 (its selector IPv6, the SA's
# family), 0x300 4in6 (selector 10.1.0.1 -> 10.2.0.1), 0x400 transport in UDP 4500; and in
# policies for UDP fd00::1 -> fd00::2 (transport), fd01::1 -> fd02::1 and 10.1.0.1 -> 10.2.0.1
# (tunnel), whose templates name no reqid: either tunnel SA satisfies either policy, so that
# only an SA's selector keeps the other family out of it.
#
# Each case is followed by a marker, a valid datagram through 0x100. The case passes when b's
# nfsec counters moved by exactly what it wants (and the marker's rx_packets; every other
# counter, the byte counts aside, still) and a UDP listener on b ([::]:9000, IPv4 too) got the
# marker and, where the case is delivered, its datagram: nothing else. Every bad packet is
# authentic, one check away from being delivered: a check that breaks shows in the listener
# (L: it gets the datagram) or in the counters (C: the drop is not counted where it should be,
# or another counter moves), as the last column says.
#
#  1. Extension header chains (0x100), with in policies:
#     valid, opts1, hop_first, opts8   none, one destination options header (DO), hop-by-hop
#                                      first, 8 DO: delivered (8 is the limit)
#     opts9          9 DO                                 rx_too_short         L C
#     trunc_opts     DO whose length runs 2 KiB past the end of the packet
#                                                         rx_too_short         C
#     trunc_chain    the packet ends 2 bytes into a DO    rx_too_short         C
#     hop_second     DO, then hop-by-hop                  rx_too_short         L C
#     clear_opts9    cleartext UDP behind 9 DO            rx_too_short         C
#     Without any in policy (first, before they are added) nfsec leaves a malformed chain to the
#     stack, uncounted (Documentation/ipv6.rst): the ESP ones are dropped by it (no xfrm state),
#     clear_opts9 is delivered; the marker is counted in rx_policy_mismatch there.
#  2. Fragments of ESP (0x100):
#     frag2, frag2_rev, frag_atomic   valid ESP in two fragments, in order and tail first, and
#                                     behind an atomic fragment header: reassembled, delivered
#     frag_before_hop  atomic fragment header, then hop-by-hop       rx_too_short   L C
#     frag_twice       two atomic fragment headers                   rx_too_short   L C
#     frag_overlap     the tail starts 8 bytes early, same bytes     rx_too_short   L C
#     frag_incomplete  a first fragment alone; a first and a last one with a hole: held, nothing
#                      counted by nfsec; expired (timeout 1 s here) in Ip6ReasmTimeout   L C
#  3. 6in6 (0x200): 6in6 and 6in6_opts (DO inside) delivered;
#     6in6_plen_long   inner payload length 1 byte longer than there is   rx_too_short   L C
#     6in6_plen_zero   inner payload length 0                             rx_too_short   C
#  4. Families: 4in6 (0x300) delivered;
#     4in_6in6         IPv4 inside 0x200, IPv6 selector      rx_policy_mismatch   L C
#     6in_4in6         IPv6 inside 0x300, IPv4 selector      rx_policy_mismatch   L C
#  5. ESP in UDP over IPv6 (0x400): udp_ok delivered;
#     udp_bad_csum     one bit of the checksum flipped       rx_bad_csum          L C
#     udp_zero_csum    checksum 0                            rx_bad_csum          L C
#     udp_zero_ffff    checksum 0 where the right one is 0xffff (the same ones' complement sum:
#                      only a check for 0 itself refuses it)  rx_bad_csum          L C
#  6. 6in6_hop         hop-by-hop inside 0x200               rx_inner_hopopts     C
#
# A case that fails is reported and the others still run; the test fails at the end.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
need_module
need_cmd python3

tunnel_hosts
tunnel_hosts6
na() { ip netns exec "$a" "$@"; }
nb() { ip netns exec "$b" "$@"; }
# esp_lib.sh's snap: nfsec runs in b alone, a sends raw frames.
LEFT=raw RIGHT=nfsec

dir=$(mktemp -d)
defer "rm -rf $dir"
rx=$dir/rx
: >"$rx"
udp_listen "$b" :: 9000 "$rx"

# One sender for the whole test (Python starts slowly under emulation), on FIFOs: each case
# runs in a subshell, where a coproc's descriptors would be closed.
mkfifo "$dir/to" "$dir/from"
na python3 -u "$SELFTESTS_DIR/esp6_bad.py" serve eth0 "$(na cat /sys/class/net/eth0/address)" \
	"$(nb cat /sys/class/net/eth0/address)" <"$dir/to" >"$dir/from" 2>"$dir/sender.err" &
defer "kill $! 2>/dev/null"
exec {TO}>"$dir/to" {FROM}<"$dir/from"
config='' line=''
while read -r -t 120 line <&"$FROM"; do
	[[ $line == ready ]] && break
	config+=$line$'\n'
done
[[ $line == ready ]] || fail "the sender did not start: $(cat "$dir/sender.err")"
grep '^sa ' <<<"$config" | nb nfsec -batch - || fail "configuring the SAs"
check_eq "SAs" "$(nb nfsec sa show | grep -c '^src ')" 4

# The counters every case checks: all of nfsec's but the byte counts.
NAMES=$(nstats "$b" | awk '$1 !~ /_bytes$|_count$/ { printf "%s ", $1 }')

# read_moved: MOVED[NAME] = how far each counter of NAMES moved since snap, where it did
declare -A MOVED
read_moved()
{
	local out n v
	out=$(nstats "$b") || fail "nfsec stats: $out"
	MOVED=()
	while read -r n v; do
		[[ -n ${before[$b,$n]+x} ]] || continue
		((v == before[$b,$n])) || MOVED[$n]=$((v - before[$b,$n]))
	done <<<"$out"
}

# read_rx N: RX_NEW = the sha256 of each datagram the listener got after its first N lines
read_rx()
{
	local l=()
	mapfile -t -s "$1" l <"$rx"
	RX_NEW=("${l[@]#* }")
}

# What the marker does: delivered, or (without policies) counted and dropped.
MARK="rx_packets=1" MARK_DELIVERED=1

# How long a case waits for its counters and datagrams, at most; once the marker is there,
# at most 2 s more (times the machine's slowness).
WAIT=$(awk -v f="${NFSEC_SLOWNESS:-1}" 'BEGIN { printf "%d %d", 10 * f + 1, 2 * f + 1 }')
read -r WAIT WAIT_AFTER <<<"$WAIT"

# run_case CASE WANT DELIVERED WHAT: send esp6_bad.py's CASE and the marker; the counters must
# move by WANT ("rx_too_short=1") and the marker's MARK, and the listener must get the marker
# (unless MARK_DELIVERED=0) and, if DELIVERED is 1, CASE's datagram, nothing else. Everything
# but nfsec stats is the shell's own: a process costs much under emulation.
run_case()
{
	local name=$1 want=$2 deliver=$3 what=$4 w k sha sent n marker carried rx0 deadline
	local got='' expect='' got_rx='' want_rx='' barrier=0
	local -A exp=()
	for w in $MARK $want; do
		k=${w%=*}
		[[ " $NAMES " == *" $k "* ]] || fail "$name: nfsec stats has no counter $k"
		exp[$k]=$((${exp[$k]:-0} + ${w#*=}))
	done
	mapfile -t w <"$rx"
	rx0=${#w[@]}
	snap
	echo "$name" >&"$TO"
	if ! read -r -t 60 sent n marker carried <&"$FROM" || [[ $sent != sent ]]; then
		fail "$name: the sender failed: $(cat "$dir/sender.err")"
	fi
	label()
	{
		case $1 in
		"$marker") echo "the marker" ;;
		"$carried") echo "$name's datagram" ;;
		*) echo "a datagram never sent" ;;
		esac
	}
	((MARK_DELIVERED)) && want_rx="the marker "
	((deliver)) && want_rx+="$name's datagram "
	reached()
	{
		local k
		for k in "${!exp[@]}"; do
			((${MOVED[$k]:-0} >= exp[$k])) || return 1
		done
		((!MARK_DELIVERED)) || [[ " ${RX_NEW[*]} " == *" $marker "* ]] || return 1
		((!deliver)) || [[ " ${RX_NEW[*]} " == *" $carried "* ]]
	}
	deadline=$((SECONDS + WAIT))
	while read_moved; read_rx "$rx0"; ! reached && ((SECONDS < deadline)); do
		# The marker went after the case's packets: what it waits for is late, or never comes.
		if ((MARK_DELIVERED && !barrier)) && [[ " ${RX_NEW[*]} " == *" $marker "* ]]; then
			barrier=1
			((deadline < SECONDS + WAIT_AFTER)) || deadline=$((SECONDS + WAIT_AFTER))
		fi
		sleep 0.1
	done
	sleep 0.2
	read_moved
	read_rx "$rx0"
	for k in $NAMES; do
		[[ -z ${MOVED[$k]:-} ]] || got+="$k=${MOVED[$k]} "
		[[ -z ${exp[$k]:-} ]] || expect+="$k=${exp[$k]} "
	done
	# the marker first, as want_rx has it
	for sha in "${RX_NEW[@]}"; do
		[[ $sha != "$marker" ]] || got_rx="the marker $got_rx"
		[[ $sha == "$marker" ]] || got_rx+="$(label "$sha") "
	done
	if [[ $got != "$expect" || $got_rx != "$want_rx" ]]; then
		got=${got% } expect=${expect% } got_rx=${got_rx% } want_rx=${want_rx% }
		echo "# $name ($n frames): counters moved: ${got:-none}; want: $expect"
		echo "# $name: the listener got: ${got_rx:-nothing}; want: ${want_rx:-nothing}"
		fail "$name: $what"
	fi
	w="nothing delivered"
	((!deliver)) || w=delivered
	pass "$name: $what: ${want:-no counter}, $w"
}

FAILED=()
# isolated NAME CMD...: CMD in a subshell of its own, whose fail ends it alone (in the
# background: in `( ) ||`, set -e would be off inside)
isolated()
{
	local name=$1
	shift
	("$@") &
	wait $! || FAILED+=("$name")
}
# check CASE WANT DELIVERED WHAT
check() { isolated "$1" run_case "$@"; }

dmesg_mark

# Without in policies: the stack's to judge.
MARK="rx_packets=1 rx_policy_mismatch=1" MARK_DELIVERED=0
check trunc_opts "" 0 "no in policy: ESP behind a DO running past the end, to the stack"
check trunc_chain "" 0 "no in policy: the chain ends inside a DO, to the stack"
check opts9 "" 0 "no in policy: ESP behind 9 DO, to the stack"
check hop_second "" 0 "no in policy: ESP behind DO and hop-by-hop, to the stack"
check clear_opts9 "" 1 "no in policy: cleartext behind 9 DO, delivered by the stack"
MARK="rx_packets=1" MARK_DELIVERED=1

grep '^policy ' <<<"$config" | nb nfsec -batch - || fail "configuring the policies"
check_eq "in policies" "$(nb nfsec policy show | grep -c 'dir in')" 3
if ! nb sysctl -qw net.netfilter.nf_conntrack_frag6_timeout=1; then
	skip_case "no net.netfilter.nf_conntrack_frag6_timeout: incomplete fragments not expired"
fi

# 1. extension header chains
check valid "rx_packets=1" 1 "ESP transport"
check opts1 "rx_packets=1" 1 "ESP behind a DO"
check hop_first "rx_packets=1" 1 "ESP behind hop-by-hop"
check opts8 "rx_packets=1" 1 "ESP behind 8 DO"
check opts9 "rx_too_short=1" 0 "ESP behind 9 DO"
check trunc_opts "rx_too_short=1" 0 "ESP behind a DO running 2 KiB past the end"
check trunc_chain "rx_too_short=1" 0 "the chain ends 2 bytes into a DO"
check hop_second "rx_too_short=1" 0 "ESP behind DO, then hop-by-hop"
check clear_opts9 "rx_too_short=1" 0 "cleartext behind 9 DO"

# 2. fragments
check frag2 "rx_packets=1" 1 "ESP in two fragments"
check frag2_rev "rx_packets=1" 1 "ESP in two fragments, tail first"
check frag_atomic "rx_packets=1" 1 "ESP behind an atomic fragment header"
check frag_before_hop "rx_too_short=1" 0 "ESP behind an atomic fragment header, then hop-by-hop"
check frag_twice "rx_too_short=1" 0 "ESP behind two atomic fragment headers"
check frag_overlap "rx_too_short=1" 0 "ESP in two overlapping fragments"
timeouts()
{
	nb awk '$1 == "Ip6ReasmTimeout" { print $2 }' /proc/net/snmp6
}
t0=$(timeouts)
mapfile -t w <"$rx"
rx0=${#w[@]}
check frag_incomplete "" 0 "two datagrams of ESP fragments that never complete"
expired() { (($(timeouts) - t0 >= 2)); }
expiry()
{
	wait_for "$(awk -v f="${NFSEC_SLOWNESS:-1}" 'BEGIN { printf "%d", 10 * f + 5 }')" expired
	check_eq "frag_incomplete: Ip6ReasmTimeout" $(($(timeouts) - t0)) 2
	# The listener got the marker of frag_incomplete and nothing more.
	read_rx "$rx0"
	check_eq "frag_incomplete: datagrams delivered up to the expiry" "${#RX_NEW[@]}" 1
}
if [[ $(nb sysctl -n net.netfilter.nf_conntrack_frag6_timeout 2>/dev/null) == 1 ]]; then
	isolated frag_incomplete_expiry expiry
fi

# 3. 6in6, the inner header's payload length
check 6in6 "rx_packets=1" 1 "6in6"
check 6in6_opts "rx_packets=1" 1 "6in6, a DO inside"
check 6in6_plen_long "rx_too_short=1" 0 "6in6, inner payload length 1 byte too long"
check 6in6_plen_zero "rx_too_short=1" 0 "6in6, inner payload length 0"

# 4. the family inside against the SA's selector
check 4in6 "rx_packets=1" 1 "4in6"
check 4in_6in6 "rx_policy_mismatch=1" 0 "IPv4 inside the SA whose selector is IPv6"
check 6in_4in6 "rx_policy_mismatch=1" 0 "IPv6 inside the SA whose selector is IPv4"

# 5. ESP in UDP over IPv6: the UDP checksum
check udp_ok "rx_packets=1" 1 "ESP in UDP"
check udp_bad_csum "rx_bad_csum=1" 0 "ESP in UDP, a bit of the checksum flipped"
check udp_zero_csum "rx_bad_csum=1" 0 "ESP in UDP, checksum 0"
check udp_zero_ffff "rx_bad_csum=1" 0 "ESP in UDP, checksum 0 where 0xffff is right"

# 6. hop-by-hop inside a tunnel
check 6in6_hop "rx_inner_hopopts=1" 0 "6in6, hop-by-hop inside"

bad=$(dmesg_since | dmesg_bad)
[[ -z $bad ]] || fail "kernel log: $bad"
((${#FAILED[@]} == 0)) || fail "${#FAILED[@]} cases failed: ${FAILED[*]}"
pass "every case; kernel log clean"
