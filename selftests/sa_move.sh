#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# SA_MOVE (`nfsec sa move`): an SA goes to new addresses and ESP-in-UDP ports with its keys,
# sequence numbers, replay window, lifetimes and counters, as strongSwan's update_sa wants for a
# NAT rebinding or a MOBIKE address change. nfsec (a) against native xfrm (b), transport mode,
# AES-GCM, replay-window 32, pings from a:
#
#   a eth0 10.0.0.1 10.0.0.11 fd00::1 fd00::11 ------- eth0 10.0.0.2 10.0.0.12 fd00::2 fd00::12 b
#
# Static neighbours: nothing but the test's packets crosses the link. Policies cover the whole
# subnets, templates name no addresses: only the SAs say where packets go. a's outbound SA
# (SPI 0x100) has limit packet-hard (the pings it will carry + 3). Per family, IPv4 in ESP in UDP
# (b's xfrm receives through sockets on 4500 and 4600), IPv6 as plain ESP:
#   1. 3 pings 10.0.0.1 -> 10.0.0.2 (fd00::1 -> fd00::2) answered; on b's link a's ESP has
#      seq 1 2 3 (IPv4: UDP 4500 -> 4500), b's too.
#   2. (IPv4) b's source port becomes 4600 (`ip xfrm state update` of its SAs, keys and all);
#      a's two SAs are moved to the new ports (`nfsec sa move ... encap espinudp 4500 4600`):
#      right after each move the SA shows the new addresses and encap and, as `nfsec -s -j sa
#      show` prints them, the same everything else (seq, oseq, lifetime limits and current
#      bytes, packets, add time (a second old at least), use time, per-SA counters);
#      3 pings answered, on the wire a's ESP goes 4500 -> 4600 with seq 4 5 6 (the numbers go
#      on), b's comes 4600 -> 4500 with seq 4 5 6; then b's pre-move ESP of seq 2, sent again on
#      b's link, is a replay for a's moved inbound SA: rx_replay_dup +1, rx_packets +0,
#      rx_auth_fail +0.
#   3. a's SAs moved to 10.0.0.11 <-> 10.0.0.12 (fd00::11 <-> fd00::12), encap not given (kept),
#      b's SAs re-added there with its outbound sequence numbers carried over (replay-oseq):
#      the same checks of the SAs; 3 pings between the new addresses answered, on the wire (all
#      ESP to or from the new address of a) a's seq 7 8 9 (IPv6: 4 5 6), b's likewise, IPv4
#      still in UDP 4500 <-> 4600.
#   4. `nfsec monitor` printed one "Moved" event per move, with the SA's new addresses.
#   5. (IPv4) refused, with the kernel's message, the SAs as they were (`nfsec -s -j sa show` the
#      same): a move of no SA (ENOENT), to a dst where an SA has the SPI (EEXIST, "exists"), to
#      one where allocspi reserved it (EEXIST, "reserved"), to IPv6 addresses (EINVAL, "family");
#      nl_raw.py move: SA_MOVE with a key, an algorithm, a lifetime, an oseq, a selector, an
#      SPI, a mode, without where to, with an encap port 0, with validate, of another src:
#      each refused with its message, its SA unchanged.
#   6. The packet-hard limit counted across the moves: of 4 more pings 3 are answered, the 4th
#      finds the limit (tx_expired +1) and the SA is deleted.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
source "$(dirname "$0")/monitor_lib.sh"
run_combos "nfsec/xfrm"
need_cmd tcpdump jq python3

ns_create a b
veth_pair "$a" eth0 10.0.0.1/24 "$b" eth0 10.0.0.2/24
for ns in "$a" "$b"; do
	n=1
	[[ $ns == "$b" ]] && n=2
	ip -n "$ns" addr add 10.0.0.1$n/24 dev eth0
	ip -n "$ns" addr add fd00::$n/64 dev eth0 nodad
	ip -n "$ns" addr add fd00::1$n/64 dev eth0 nodad
done
mac_a=$(ip netns exec "$a" cat /sys/class/net/eth0/address)
mac_b=$(ip netns exec "$b" cat /sys/class/net/eth0/address)
for n in "" 1; do
	for x in 10.0.0.${n}2 fd00::${n}2; do
		ip -n "$a" neigh replace "$x" lladdr "$mac_b" dev eth0 nud permanent
	done
	for x in 10.0.0.${n}1 fd00::${n}1; do
		ip -n "$b" neigh replace "$x" lladdr "$mac_a" dev eth0 nud permanent
	done
done
encap_socket "$b" 4500
encap_socket "$b" 4600

tmp=$(mktemp -d)
defer "rm -rf $tmp"
GCM_AB=(aead 'rfc4106(gcm(aes))' 0x0123456789abcdef0123456789abcdef01234567 128)
GCM_BA=(aead 'rfc4106(gcm(aes))' 0x89abcdef0123456789abcdef0123456789abcdef 128)
SPI_AB=0x100 SPI_BA=0x200
NAMES="tx_packets rx_packets rx_replay_dup rx_auth_fail tx_expired"
mon_start "$a" nfsec "$tmp/mon"
mon_ready "$a" nfsec "$tmp/mon"
: >"$tmp/mon"
MOVES=()

na() { ip netns exec "$a" "$@"; }

# sa_json SPI: a's SA with SPI as `nfsec -s -j sa show` prints it, one line
sa_json()
{
	na nfsec -s -j sa show | jq -c --arg spi "$(printf '0x%08x' "$1")" '.[] | select(.spi == $spi)'
}

# xfrm_sa NS CMD SRC DST SPI REQID ENCAP-WORDS... (b's side, keys and all)
xfrm_sa()
{
	local cmd=$1 src=$2 dst=$3 spi=$4 reqid=$5 alg
	shift 5
	alg=("${GCM_AB[@]}")
	[[ $spi == "$SPI_BA" ]] && alg=("${GCM_BA[@]}")
	ip -n "$b" xfrm state "$cmd" src "$src" dst "$dst" proto esp spi "$spi" reqid "$reqid" \
		mode transport replay-window 32 "${alg[@]}" "$@"
}

# move SPI WORDS...: a's SA with SPI moved by `nfsec sa move WORDS`; the SA must come out
# with everything but its addresses and encap as it went in
move()
{
	local spi=$1 before after
	shift
	before=$(sa_json "$spi")
	[[ -n $before ]] || fail "no SA $spi on a before the move"
	# the add time stays: make a new one tell
	wait_for 3 bash -c "(( \$(date +%s) > $(jq .current.add_time <<<"$before") ))"
	na nfsec sa move "$@"
	after=$(sa_json "$spi")
	[[ -n $after ]] || fail "no SA $spi on a after: nfsec sa move $*"
	[[ $(jq -cS 'del(.src, .dst, .encap)' <<<"$after") == \
	   "$(jq -cS 'del(.src, .dst, .encap)' <<<"$before")" ]] ||
		fail "SA $spi changed in the move: before $before, after $after"
	pass "SA $spi moved, all but its addresses and encap the same:" \
		"$(jq -c '{oseq, seq, current, tx_packets: .stats.tx_packets,
			rx_packets: .stats.rx_packets}' <<<"$after")"
	MOVES+=("Moved src $(jq -r .src <<<"$after") dst $(jq -r .dst <<<"$after")")
}

# check_addrs SPI SRC DST ENCAP: a's SA with SPI has these addresses and encap ("sport dport" or
# "none")
check_addrs()
{
	check_eq "SA $1's addresses and encap" \
		"$(sa_json "$1" | jq -r '"\(.src) \(.dst) \(.encap // {} | "\(.sport) \(.dport)" |
			sub("^null null$"; "none"))"')" "$2 $3 $4"
}

# pings FROM TO: 3 pings, each answered, with a capture on b's link of what goes to or from
# FROM; prints "SPI seq sport dport" of each ESP frame seen there, in order
pings()
{
	cap_start "$b" eth0 "$tmp/cap.pcap" "host $1"
	na ping -c 3 -i 0.1 -W 2 -I "$1" "$2" >"$tmp/ping" 2>&1 ||
		fail "ping $1 -> $2: $(tail -n 2 "$tmp/ping" | tr '\n' ' ')"
	cap_stop
	python3 "$SELFTESTS_DIR/esp_pkt.py" wire "$tmp/cap.pcap"
}

# wire_eq WHAT SPI PORTS SEQ...: the capture's ESP of SPI had these seqs, on these ports
wire_eq()
{
	local what=$1 spi=$2 ports=$3 s want=""
	shift 3
	for s; do
		want+="$(printf '0x%08x' "$spi") $s $ports;"
	done
	check_eq "$what" "$(grep "^$(printf '0x%08x' "$spi") " "$tmp/wire" | tr '\n' ';')" "$want"
}

run_family()
{
	local f=$1 a1 b1 a2 b2 enc_ab=() enc_ba=() sel ports_ab ports_ba hard oseq next
	if [[ $f == 4 ]]; then
		a1=10.0.0.1 b1=10.0.0.2 a2=10.0.0.11 b2=10.0.0.12 sel=10.0.0.0/24 hard=12
		enc_ab=(encap espinudp 4500 4500 0.0.0.0) enc_ba=("${enc_ab[@]}")
		ports_ab="4500 4500" ports_ba="4500 4500"
	else
		a1=fd00::1 b1=fd00::2 a2=fd00::11 b2=fd00::12 sel=fd00::/64 hard=9
		ports_ab="- -" ports_ba="- -"
	fi
	echo "# ---- IPv$f"
	na nfsec sa flush
	na nfsec policy flush
	ip -n "$b" xfrm state flush
	ip -n "$b" xfrm policy flush
	na nfsec sa add src $a1 dst $b1 proto esp spi $SPI_AB reqid 1 mode transport \
		replay-window 32 "${GCM_AB[@]}" "${enc_ab[@]}" limit packet-hard $hard
	na nfsec sa add src $b1 dst $a1 proto esp spi $SPI_BA reqid 2 mode transport \
		replay-window 32 "${GCM_BA[@]}" "${enc_ba[@]}"
	xfrm_sa add $a1 $b1 $SPI_AB 1 "${enc_ab[@]}"
	xfrm_sa add $b1 $a1 $SPI_BA 2 "${enc_ba[@]}"
	na nfsec policy add src $sel dst $sel dir out tmpl proto esp reqid 1 mode transport
	na nfsec policy add src $sel dst $sel dir in tmpl proto esp reqid 2 mode transport
	ip -n "$b" xfrm policy add src $sel dst $sel dir out tmpl proto esp reqid 2 mode transport
	ip -n "$b" xfrm policy add src $sel dst $sel dir in tmpl proto esp reqid 1 mode transport

	pings $a1 $b1 >"$tmp/wire"
	cp "$tmp/cap.pcap" "$tmp/before.pcap"
	wire_eq "a's ESP before any move" $SPI_AB "$ports_ab" 1 2 3
	wire_eq "b's ESP before any move" $SPI_BA "$ports_ba" 1 2 3
	next=4

	if [[ $f == 4 ]]; then
		# b's NAT mapping changes: it sends from 4600, and a follows
		xfrm_sa update $a1 $b1 $SPI_AB 1 encap espinudp 4500 4600 0.0.0.0
		xfrm_sa update $b1 $a1 $SPI_BA 2 encap espinudp 4600 4500 0.0.0.0
		move $SPI_AB src $a1 dst $b1 proto esp spi $SPI_AB to src $a1 dst $b1 \
			encap espinudp 4500 4600 0.0.0.0
		move $SPI_BA dst $a1 proto esp spi $SPI_BA to src $b1 dst $a1 \
			encap espinudp 4600 4500 0.0.0.0
		check_addrs $SPI_AB $a1 $b1 "4500 4600"
		check_addrs $SPI_BA $b1 $a1 "4600 4500"
		ports_ab="4500 4600" ports_ba="4600 4500"
		pings $a1 $b1 >"$tmp/wire"
		wire_eq "a's ESP after the port move: the sequence goes on" $SPI_AB "$ports_ab" 4 5 6
		wire_eq "b's ESP from its new port" $SPI_BA "$ports_ba" 4 5 6
		next=7

		# b's ESP of seq 2, from before the move, once more
		python3 "$SELFTESTS_DIR/esp_pkt.py" pick "$tmp/before.pcap" $SPI_BA 2 "$tmp/replay"
		snap
		ip netns exec "$b" python3 "$SELFTESTS_DIR/esp_pkt.py" send eth0 "$tmp/replay"
		wait_for 5 test "$(delta "$a" rx_replay_dup)" -ge 1
		check_eq "a rx_replay_dup (the pre-move packet again)" "$(delta "$a" rx_replay_dup)" 1
		check_eq "a rx_packets" "$(delta "$a" rx_packets)" 0
		check_eq "a rx_auth_fail" "$(delta "$a" rx_auth_fail)" 0
		pass "a pre-move packet replayed after the move is a replay"
	fi

	# MOBIKE: both ends take their other addresses; encap, if any, is kept
	oseq=$(ip -n "$b" -s xfrm state get src $b1 dst $a1 proto esp spi $SPI_BA |
		sed -n 's/.*oseq 0x\([0-9a-f]*\).*/\1/p')
	[[ -n $oseq ]] || fail "no oseq in ip -s xfrm state get of b's SA $SPI_BA"
	ip -n "$b" xfrm state deleteall
	xfrm_sa add $a2 $b2 $SPI_AB 1 ${enc_ab:+encap espinudp 4500 4600 0.0.0.0}
	xfrm_sa add $b2 $a2 $SPI_BA 2 ${enc_ab:+encap espinudp 4600 4500 0.0.0.0} \
		replay-oseq $((0x$oseq))
	move $SPI_AB dst $b1 proto esp spi $SPI_AB to src $a2 dst $b2
	move $SPI_BA src $b1 dst $a1 proto esp spi $SPI_BA to src $b2 dst $a2
	if [[ $f == 4 ]]; then
		check_addrs $SPI_AB $a2 $b2 "4500 4600"
		check_addrs $SPI_BA $b2 $a2 "4600 4500"
	else
		check_addrs $SPI_AB $a2 $b2 none
		check_addrs $SPI_BA $b2 $a2 none
	fi
	pings $a2 $b2 >"$tmp/wire"
	wire_eq "a's ESP from and to the new addresses" $SPI_AB "$ports_ab" \
		$next $((next + 1)) $((next + 2))
	wire_eq "b's ESP to a's new address" $SPI_BA "$ports_ba" $next $((next + 1)) $((next + 2))

	[[ $f == 4 ]] && refusals $a2 $b2

	# the hard limit counted every packet, before and after the moves
	snap
	na ping -c 4 -i 0.1 -W 1 -I $a2 $b2 >"$tmp/ping" 2>&1 || true
	check_eq "pings answered up to packet-hard $hard" \
		"$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$tmp/ping")" 3
	check_eq "a tx_expired" "$(delta "$a" tx_expired)" 1
	wait_for 5 bash -c "! ip netns exec $a nfsec sa get dst $b2 proto esp spi $SPI_AB 2>/dev/null"
	pass "IPv$f: the moved SA reached packet-hard $hard and is gone"
}

# expect_refused WHAT PATTERN WORDS...: nfsec WORDS fails with PATTERN, the SAs as they were
expect_refused()
{
	local what=$1 pattern=$2 out before
	shift 2
	before=$(na nfsec -s -j sa show)
	if out=$(na nfsec "$@" 2>&1); then
		fail "$what: accepted"
	fi
	grep -Eq -- "$pattern" <<<"$out" || fail "$what: unclear message: $out"
	check_eq "$what: the SAs" "$(na nfsec -s -j sa show)" "$before"
	pass "$what: $out"
}

refusals()
{
	local a2=$1 b2=$2 id
	id=(dst "$b2" proto esp spi "$SPI_AB")
	expect_refused "move of no SA" "No such file or directory: no such SA to move" \
		sa move dst "$b2" proto esp spi 0x999 to src "$a2" dst 10.0.0.2
	na nfsec sa add src "$a2" dst 10.0.0.2 proto esp spi $SPI_AB "${GCM_AB[@]}"
	expect_refused "move where an SA has the id" "File exists: an SA with the new dst" \
		sa move "${id[@]}" to src "$a2" dst 10.0.0.2
	na nfsec sa del dst 10.0.0.2 proto esp spi $SPI_AB
	na nfsec sa allocspi dst 10.0.0.99 proto esp min $SPI_AB max $SPI_AB >/dev/null
	expect_refused "move where allocspi reserved the SPI" \
		"File exists: this spi is reserved" sa move "${id[@]}" to src "$a2" dst 10.0.0.99
	na nfsec sa del dst 10.0.0.99 proto esp spi $SPI_AB
	expect_refused "move to another family" \
		"Invalid argument: SA_MOVE cannot change the SA's address family" \
		sa move "${id[@]}" to src fd00::11 dst fd00::12
	na python3 "$SELFTESTS_DIR/nl_raw.py" move || fail "raw SA_MOVE requests (above)"
}

run_family 4
run_family 6
mon_alive "$a" nfsec "$tmp/mon"
check_eq "a's monitor: a Moved event for each move" \
	"$(grep '^Moved ' "$tmp/mon" | tr '\n' ';')" "$(printf '%s;' "${MOVES[@]}")"
exit 0
