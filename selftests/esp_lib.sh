# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers for the datapath tests (esp_*.sh), sourced after lib.sh.
#
# Each test configures two sides, LEFT and RIGHT, each with either implementation:
#   nfsec   `nfsec sa ...` / `nfsec policy ...`
#   xfrm    `ip xfrm state ...` / `ip xfrm policy ...`
# with the SAME words. A test calls
#
#	run_combos "nfsec/nfsec nfsec/xfrm xfrm/nfsec"
#
# first: without LEFT and RIGHT in the environment it runs itself once per combination (each
# run with its own namespaces) and exits with the worst result; with them it returns and the
# test body runs for that one combination. COMBOS="xfrm/xfrm" (or LEFT=xfrm RIGHT=xfrm)
# overrides the list: xfrm on both sides validates the test itself, where nfsec's counter
# checks are skipped. Where traffic flows both ways through the same roles, a test lists only
# nfsec/xfrm and nfsec/nfsec (xfrm/nfsec would repeat nfsec/xfrm); COMBOS adds it back.
# selftests/vm/run.sh passes COMBOS, LEFT and RIGHT into the guest.
#
#   sa NS IMPL WORDS...        nfsec sa WORDS / ip xfrm state WORDS in NS
#   pol NS IMPL WORDS...       nfsec policy WORDS / ip xfrm policy WORDS in NS
#   nstat NS NAME              nfsec netns counter NAME (`nfsec stats`); fails if absent
#   nstats NS                  all of them, "name value" lines
#   sastat NS SPI NAME         per-SA counter NAME of the nfsec SA with SPI (`nfsec -s -j sa show`)
#   sa_field NS SPI KEY...     a field of that SA's JSON object (first KEY found, searched
#                              recursively), e.g. oseq
#   xstat NS NAME              /proc/net/xfrm_stat counter NAME in NS (native xfrm)
#   xsa_packets NS SPI         packets through the xfrm SA with SPI ("lifetime current")
#   cap_start NS IF FILE [FILTER]  tcpdump -w FILE in the background until cap_stop; CAP_SNAPLEN=N
#                              captures only the first N bytes of each frame
#   cap_stop                   stop every capture started, wait until the files are complete
#   cap_count FILE FILTER      packets in FILE matching the pcap FILTER
#   cap_captured FILE          all packets in FILE (tcpdump's count when it stopped)
#   listening NS PORT          a TCP socket in NS listens on PORT
#   udp_listen NS ADDR PORT LOG  udp_probe.py's receiver in NS on ADDR:PORT, in the background,
#                              logging "LEN SHA256" per datagram to LOG; ready when it returns
#   pings_each_way [WHERE]     two pings of 56, 1000 and 1400 bytes, $a -> $TO_B and $b -> $TO_A,
#                              all at once: each one answered (files in $tmp)
#   xfer NSSRC NSDST DSTADDR PORT BYTES
#                              send BYTES random bytes over TCP, fail unless sha256 matches
#                              within XFER_TIMEOUT seconds (default 90) times NFSEC_SLOWNESS,
#                              the machine's slowness run_tests.sh measured
#
# Two-sided tests (namespaces $a and $b configured by LEFT and RIGHT; the counters to watch in
# NAMES, tx_packets and rx_packets among them):
#   nfsec_sides                the namespaces where nfsec runs
#   side NS                    "a (nfsec)" or "b (xfrm)", for messages
#   snap / delta NS NAME       NAMES on every nfsec side before a step / the change since
#   counters_now NS            every counter of nfsec side NS now, into current[NS,NAME] (one
#                              nfsec call; snap keeps NAMES' in before[NS,NAME])
#   moved NS NAME              current minus before: what a counter of NAMES moved by between
#                              snap and the last counters_now NS
#   check_sides WHAT AB BA     on every nfsec side since snap: every counter of NAMES but
#                              tx/rx_packets still, tx_packets and rx_packets moved by the WHAT
#                              packets it sent and received (AB went a -> b, BA b -> a)
#   check_xfrm_icv             XfrmInStateProtoError (ICV failures) is 0 on every xfrm side
#   encap_socket NS [PORT] [4|6]  a UDP socket on PORT (4500) with UDP_ENCAP_ESPINUDP, held until
#                              the test exits: native xfrm receives ESP in UDP only through one;
#                              with bypass socket policies both ways, as IKE daemons set them,
#                              since xfrm checks the datagram against the in policies first

IMPLS_OK="nfsec xfrm"

run_combos()
{
	local combos=${COMBOS:-$1} c rc worst=0 any_pass=0 script t0
	if [[ -n ${LEFT:-} || -n ${RIGHT:-} ]]; then
		LEFT=${LEFT:-nfsec} RIGHT=${RIGHT:-nfsec}
		[[ " $IMPLS_OK " == *" $LEFT "* && " $IMPLS_OK " == *" $RIGHT "* ]] ||
			fail "LEFT/RIGHT must be nfsec or xfrm: '$LEFT'/'$RIGHT'"
		echo "# combination: left=$LEFT right=$RIGHT"
		if [[ $LEFT == nfsec || $RIGHT == nfsec ]]; then
			need_module
			command -v nfsec >/dev/null || fail "the nfsec tool is not built (tools/nfsec)"
		fi
		return 0
	fi
	script=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
	trap - EXIT
	for c in $combos; do
		echo "# ---- ${c%/*}/${c#*/}"
		t0=$SECONDS
		set +e
		LEFT=${c%/*} RIGHT=${c#*/} bash "$script"
		rc=$?
		set -e
		echo "# ---- ${c%/*}/${c#*/}: exit $rc in $((SECONDS - t0)) s"
		case $rc in
		0) any_pass=1 ;;
		4) ((worst == 1)) || worst=4 ;;
		*) worst=1 ;;
		esac
	done
	# a skipped combination was recorded (skip_case), run_tests.sh reports the test as a skip
	((worst == 4 && any_pass)) && worst=0
	exit $worst
}

is_nfsec() { [[ $1 == nfsec ]]; }

sa()
{
	local ns=$1 impl=$2
	shift 2
	if is_nfsec "$impl"; then
		ip netns exec "$ns" nfsec sa "$@"
	else
		ip -n "$ns" xfrm state "$@"
	fi
}

pol()
{
	local ns=$1 impl=$2
	shift 2
	if is_nfsec "$impl"; then
		ip netns exec "$ns" nfsec policy "$@"
	else
		ip -n "$ns" xfrm policy "$@"
	fi
}

nstats()
{
	ip netns exec "$1" nfsec stats
}

nstat()
{
	local out v
	out=$(ip netns exec "$1" nfsec stats 2>&1) || fail "nfsec stats: $out"
	v=$(awk -v n="$2" '$1 == n || $1 == n":" { print $2; exit }' <<<"$out")
	[[ -n $v ]] || fail "nfsec stats has no counter $2"
	echo "$v"
}

# sa_field NS SPI KEY...: the first KEY the SA has (its own or in a nested object, in the order
# nfsec prints them), hexadecimal numbers as decimal; empty if none. A jq filter, shorter than
# the Python it replaced (a trace under TCG found both cost about the same per call).
sa_field()
{
	local ns=$1 spi v
	spi=$(printf '0x%08x' "$2")
	shift 2
	v=$(ip netns exec "$ns" nfsec -s -j sa show | jq -r --arg spi "$spi" '
		[.[] | select(.spi == $spi)]
		| if length == 0 then error("no SA with spi \($spi)") else .[0] end
		| first($ARGS.positional[] as $k | first(.. | objects | select(has($k)) | .[$k])) // ""
		' --args "$@") || return
	[[ $v == 0x* ]] && v=$((v))
	echo "$v"
}

sastat()
{
	local v
	v=$(sa_field "$1" "$2" "$3") || fail "nfsec -s -j sa show: $v"
	[[ -n $v ]] || fail "SA $2 has no counter $3"
	echo "$v"
}

xstat()
{
	ip netns exec "$1" awk -v n="$2" '$1 == n { print $2 }' /proc/net/xfrm_stat
}

xsa_packets()
{
	# ip -s xfrm state: "lifetime current:" then "  N(bytes), M(packets)"
	ip -n "$1" -s xfrm state list spi "$2" |
		awk '/lifetime current:/ { getline; gsub(/[(),]/, " "); print $3; exit }'
}

_CAPS=()
cap_start()
{
	local ns=$1 dev=$2 file=$3 filter=${4:-} log
	log=$file.log
	ip netns exec "$ns" tcpdump -i "$dev" --immediate-mode -U -n -s "${CAP_SNAPLEN:-0}" ${CAP_BUFFER:+-B $CAP_BUFFER} -w "$file" $filter >"$log" 2>&1 &
	_CAPS+=("$!")
	defer "kill ${!} 2>/dev/null"
	wait_for 10 grep -q "listening on" "$log"
}

cap_stop()
{
	local p i
	sleep 0.3
	for p in "${_CAPS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${_CAPS[@]}"; do
		for ((i = 0; i < 50; i++)); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$p" 2>/dev/null && { echo "# tcpdump $p still running: $(ps -o pid,stat,wchan:20,args -p "$p" | tail -n 1)"; kill -KILL "$p"; }
		wait "$p" 2>/dev/null || true
	done
	_CAPS=()
}

cap_count()
{
	tcpdump -r "$1" -n -q -t "$2" 2>/dev/null | wc -l
}

# cap_captured FILE: the packets a capture wrote (tcpdump's count at cap_stop: all that passed
# cap_start's FILTER), without reading the file again
cap_captured()
{
	awk '/ packets captured$/ { print $1; n = 1 } END { exit !n }' "$1.log" ||
		fail "no count of captured packets in $1.log: $(cat "$1.log")"
}

listening() { ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q LISTEN; }

xfer()
{
	local src=$1 dst=$2 addr=$3 port=$4 bytes=$5 dir out in got want t0=$SECONDS limit
	# XFER_TIMEOUT is for a machine as fast as run_tests.sh's reference: a slower one (TCG
	# under load, the debug kernel) gets its measured multiple of it.
	limit=$(awk -v t="${XFER_TIMEOUT:-90}" -v f="${NFSEC_SLOWNESS:-1}" 'BEGIN { printf "%d", t * f + 0.5 }')
	dir=$(mktemp -d)
	defer "rm -rf $dir"
	in=$dir/in out=$dir/out
	head -c "$bytes" /dev/urandom >"$in"
	# socat's TCP is IPv4; an IPv6 address is TCP6's, in brackets.
	local tcp=TCP peer=$addr
	[[ $addr == *:* ]] && tcp=TCP6 peer="[$addr]"
	# socat says when it listens (-d -d): polled in a file, not with ss in the namespace
	ip netns exec "$dst" timeout "$limit" socat -d -d -u "$tcp-LISTEN:$port,reuseaddr" \
		"OPEN:$out,creat,trunc" 2>"$dir/listen.log" &
	local lpid=$!
	wait_for 10 grep -q "listening on" "$dir/listen.log"
	ip netns exec "$src" timeout "$limit" socat -u "OPEN:$in" "$tcp:$peer:$port" ||
		fail "TCP transfer to $addr:$port: sender failed (limit $limit s)"
	wait "$lpid" || fail "TCP transfer to $addr:$port: receiver failed: $(grep -v ' [NI] ' "$dir/listen.log" | tail -n 3)"
	want=$(sha256sum <"$in" | cut -d' ' -f1)
	got=$(sha256sum <"$out" | cut -d' ' -f1)
	[[ $got == "$want" ]] || fail "TCP transfer to $addr:$port: sha256 mismatch ($(stat -c %s "$out") of $bytes bytes)"
	pass "$bytes bytes over TCP to $addr:$port, sha256 matches ($((SECONDS - t0)) s)"
}

encap_socket()
{
	local ns=$1 port=${2:-4500} family=${3:-4} log
	log=$(mktemp)
	defer "rm -f $log"
	# UDP_ENCAP is 100, UDP_ENCAP_ESPINUDP 2 (linux/udp.h); IP_XFRM_POLICY 17 (IPV6_XFRM_POLICY
	# 35 for IPv6) takes a struct xfrm_userpolicy_info: selector (family AF_INET or AF_INET6, all
	# else 0), lifetimes without limits, priority, index, dir (0 in, 1 out), action 0 (allow),
	# flags, share
	ip netns exec "$ns" python3 -c '
import socket, struct, sys, time
v6 = sys.argv[2] == "6"
af = socket.AF_INET6 if v6 else socket.AF_INET
s = socket.socket(af, socket.SOCK_DGRAM)
if v6:  # beside an IPv4 socket on the same port
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
s.bind(("::" if v6 else "0.0.0.0", int(sys.argv[1])))
s.setsockopt(socket.IPPROTO_UDP, 100, 2)
sel = bytes(40) + struct.pack("=H3x3xiI", af, 0, 0)
inf = struct.pack("=4Q", *[2**64 - 1] * 4) + bytes(32)
for d in (0, 1):
    pol = sel + inf + bytes(32) + struct.pack("=IIBBBB", 0, 0, d, 0, 0, 0)
    if v6:
        s.setsockopt(socket.IPPROTO_IPV6, 35, pol + bytes(-len(pol) % 8))
    else:
        s.setsockopt(socket.IPPROTO_IP, 17, pol + bytes(-len(pol) % 8))
print("ready", flush=True)
time.sleep(3600)' "$port" "$family" >"$log" 2>&1 &
	defer "kill ${!} 2>/dev/null"
	wait_for 10 grep -q ready "$log"
}

nfsec_sides()
{
	is_nfsec "$LEFT" && echo "$a"
	is_nfsec "$RIGHT" && echo "$b"
	return 0
}

side() { [[ $1 == "$a" ]] && echo "a ($LEFT)" || echo "b ($RIGHT)"; }

declare -A before current
# One nfsec call per side, parsed by the shell: a process per counter costs seconds under
# emulation.
counters_now()
{
	local ns=$1 n v out
	local -A cur=()
	out=$(nstats "$ns") || fail "nfsec stats: $out"
	while read -r n v; do
		cur[${n%:}]=$v
	done <<<"$out"
	for n in "${!cur[@]}"; do
		current[$ns,$n]=${cur[$n]}
	done
	for n in $NAMES; do
		[[ -n ${current[$ns,$n]:-} ]] || fail "nfsec stats has no counter $n"
	done
}

snap()
{
	local ns n
	for ns in $(nfsec_sides); do
		counters_now "$ns"
		for n in $NAMES; do
			before[$ns,$n]=${current[$ns,$n]}
		done
	done
}

delta() { echo $(($(nstat "$1" "$2") - before[$1,$2])); }
# moved NS NAME: what a counter of NAMES moved by from snap to the last counters_now NS
moved() { echo $((current[$1,$2] - before[$1,$2])); }

check_sides()
{
	local what=$1 ab=$2 ba=$3 ns n sent got tx rx
	for ns in $(nfsec_sides); do
		counters_now "$ns"
		for n in $NAMES; do
			[[ $n == tx_packets || $n == rx_packets ]] && continue
			check_eq "$(side "$ns") $n" "$((current[$ns,$n] - before[$ns,$n]))" 0
		done
		if [[ $ns == "$a" ]]; then
			sent=$ab got=$ba
		else
			sent=$ba got=$ab
		fi
		tx=$((current[$ns,tx_packets] - before[$ns,tx_packets]))
		rx=$((current[$ns,rx_packets] - before[$ns,rx_packets]))
		if ((tx != sent || rx != got)); then
			{
				nstats "$ns" | grep -v " 0$"
				ip netns exec "$ns" nstat -az | grep -E "IpOut|IpFrag|TcpRetrans|IcmpOutDest"
				ip -n "$ns" -s link
			} | sed 's/^/#   /'
		fi
		check_eq "$(side "$ns") tx_packets = its $what on the wire" "$tx" "$sent"
		check_eq "$(side "$ns") rx_packets = the peer's $what on the wire" "$rx" "$got"
	done
}

check_xfrm_icv()
{
	local ns
	for ns in "$a" "$b"; do
		[[ $ns == "$a" && $LEFT == xfrm || $ns == "$b" && $RIGHT == xfrm ]] || continue
		check_eq "$(side "$ns") XfrmInStateProtoError (ICV failures)" \
			"$(xstat "$ns" XfrmInStateProtoError)" 0
	done
}

# All at once: each ping waits for its replies, and under emulation one after the other
# they cost seconds per case.
pings_each_way() # [WHERE]: a -> $TO_B and b -> $TO_A
{
	local size way from dst n=0 p
	local -A pid=() run=()
	for size in 56 1000 1400; do
		for way in ab ba; do
			if [[ $way == ab ]]; then from=$a dst=$TO_B; else from=$b dst=$TO_A; fi
			ip netns exec "$from" ping -c 2 -i 0.2 -W 5 -s $size "$dst" \
				>"$tmp/ping.$size.$way" 2>&1 &
			pid[$size.$way]=$!
			run[$size.$way]="ping -s $size $(side "$from") -> $dst"
		done
	done
	for p in "${!pid[@]}"; do
		wait "${pid[$p]}" ||
			fail "${run[$p]}: $(tail -n 2 "$tmp/ping.$p" | tr '\n' ' ')"
		grep -q " 0% packet loss" "$tmp/ping.$p" || fail "${run[$p]} lost packets"
		n=$((n + 2))
	done
	pass "pings of 56, 1000 and 1400 bytes each way${1:+ $1}, $n answered"
}

udp_listen()
{
	ip netns exec "$1" python3 "$SELFTESTS_DIR/udp_probe.py" recv "$2" "$3" "$4" &
	wait_for 10 grep -q ready "$4"
}
