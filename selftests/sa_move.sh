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
#   1. 3 pings 10.0.0.1 -> 10.0.0.2 (fd00::1 -> fd00::2) answered.
#   2. (IPv4) b's source port becomes 4600 (`ip xfrm state update` of its SAs, keys and all);
#      a's two SAs are moved to the new ports (`nfsec sa move ... encap espinudp 4500 4600`):
#      right after each move the SA shows the new addresses and encap and, as `nfsec -s -j sa
#      show` prints them, the same everything else (seq, oseq, lifetime limits and current
#      bytes, packets, add time (a second old at least), use time, per-SA counters);
#      3 pings answered; then b's pre-move ESP of seq 2, sent again on b's link, is a replay
#      for a's moved inbound SA: rx_replay_dup +1, rx_packets +0, rx_auth_fail +0.
#   3. a's SAs moved to 10.0.0.11 <-> 10.0.0.12 (fd00::11 <-> fd00::12), encap not given (kept),
#      b's SAs re-added there with its outbound sequence numbers carried over (replay-oseq):
#      the same checks of the SAs; 3 pings between the new addresses answered.
#   4. (IPv4) refused, with the kernel's message, the SAs as they were (`nfsec -s -j sa show` the
#      same): a move of no SA (ENOENT), to IPv6 addresses (EINVAL, "family"), to a dst where an
#      SA has the SPI (EEXIST, "exists"), to one where allocspi reserved it (EEXIST,
#      "reserved"); nl_raw.py move: SA_MOVE with a key, an algorithm, a lifetime, an oseq, a
#      selector, an SPI, a mode, without where to, with an encap port 0, with validate, of
#      another src: each refused with its message, its SA unchanged.
#   5. The packet-hard limit counted across the moves: of 4 more pings 3 are answered, the 4th
#      finds the limit (tx_expired +1) and the SA is deleted.
#   6. On b's link (one capture per family), in order, the ESP of each SPI with its addresses and
#      ports: a's seq 1 to 12 without a gap (IPv6: 1 to 9): 1-3 10.0.0.1 -> 10.0.0.2 UDP
#      4500 -> 4500, 4-6 the same to 4600, 7-12 10.0.0.11 -> 10.0.0.12 to 4600 (IPv6: 1-3
#      fd00::1 -> fd00::2, 4-9 fd00::11 -> fd00::12); b's likewise back (the replayed frame
#      not counted twice).
#   7. `nfsec monitor` printed one "Moved" event per move, with the SA's new addresses.
# Few processes: under emulation each costs a good part of a second.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
source "$(dirname "$0")/monitor_lib.sh"
run_combos "nfsec/xfrm"
need_cmd tcpdump jq python3

ns_create a b
veth_pair "$a" eth0 10.0.0.1/24 "$b" eth0 10.0.0.2/24
mac_a=$(ip netns exec "$a" cat /sys/class/net/eth0/address)
mac_b=$(ip netns exec "$b" cat /sys/class/net/eth0/address)
for ns in "$a" "$b"; do
	me=1 peer=2 mac=$mac_b
	[[ $ns == "$b" ]] && me=2 peer=1 mac=$mac_a
	ip -n "$ns" -batch - <<EOF
addr add 10.0.0.1$me/24 dev eth0
addr add fd00::$me/64 dev eth0 nodad
addr add fd00::1$me/64 dev eth0 nodad
neigh replace 10.0.0.$peer lladdr $mac dev eth0 nud permanent
neigh replace 10.0.0.1$peer lladdr $mac dev eth0 nud permanent
neigh replace fd00::$peer lladdr $mac dev eth0 nud permanent
neigh replace fd00::1$peer lladdr $mac dev eth0 nud permanent
EOF
done
encap_socket "$b" 4500
encap_socket "$b" 4600

tmp=$(mktemp -d)
defer "rm -rf $tmp"
GCM_AB=(aead 'rfc4106(gcm(aes))' 0x0123456789abcdef0123456789abcdef01234567 128)
GCM_BA=(aead 'rfc4106(gcm(aes))' 0x89abcdef0123456789abcdef0123456789abcdef 128)
SPI_AB=0x100 SPI_BA=0x200
# shellcheck disable=SC2034 # esp_lib.sh's snap reads it
NAMES="tx_packets rx_packets rx_replay_dup rx_auth_fail tx_expired"
mon_start "$a" nfsec "$tmp/mon"
mon_ready "$a" nfsec "$tmp/mon"
: >"$tmp/mon"
MOVES=()

na() { ip netns exec "$a" "$@"; }

# sa_state SPI: a's SA with SPI in two lines: "SRC DST SPORT DPORT" ("SRC DST none" without
# encap), then the rest of it as `nfsec -s -j sa show` prints it
sa_state()
{
	na nfsec -s -j sa show | jq -r --arg spi "$(printf '0x%08x' "$1")" '.[] |
		select(.spi == $spi) |
		"\(.src) \(.dst) \(if .encap then "\(.encap.sport) \(.encap.dport)" else "none" end)",
		(del(.src, .dst, .encap) | tojson)'
}

# xfrm_sa CMD SRC DST SPI REQID WORDS...: b's SA, keys and all
xfrm_sa()
{
	local cmd=$1 src=$2 dst=$3 spi=$4 reqid=$5 alg
	shift 5
	alg=("${GCM_AB[@]}")
	[[ $spi == "$SPI_BA" ]] && alg=("${GCM_BA[@]}")
	ip -n "$b" xfrm state "$cmd" src "$src" dst "$dst" proto esp spi "$spi" reqid "$reqid" \
		mode transport replay-window 32 "${alg[@]}" "$@"
}

# move SPI "SRC DST PORTS" WORDS...: `nfsec sa move WORDS` puts a's SA with SPI at SRC DST with
# encap PORTS ("SPORT DPORT" or "none") and leaves everything else of it as it was
move()
{
	local spi=$1 want=$2 before after add now src dst
	shift 2
	before=$(sa_state "$spi")
	[[ $before =~ \"add_time\":([0-9]+) ]] || fail "no SA $spi on a before the move"
	add=${BASH_REMATCH[1]}
	# the add time stays: let a new one tell
	while printf -v now '%(%s)T' -1; ((now <= add)); do
		sleep 0.1
	done
	na nfsec sa move "$@"
	after=$(sa_state "$spi")
	check_eq "SA $spi's addresses and encap after the move" "${after%%$'\n'*}" "$want"
	[[ ${after#*$'\n'} == "${before#*$'\n'}" ]] ||
		fail "SA $spi changed in the move: before ${before#*$'\n'}, after ${after#*$'\n'}"
	[[ $after =~ \"seq\":([0-9]+),\"oseq\":([0-9]+) ]] || true
	pass "SA $spi moved, all else the same (seq ${BASH_REMATCH[1]:-?}," \
		"oseq ${BASH_REMATCH[2]:-?}, add time $add, counters, lifetime use)"
	read -r src dst _ <<<"$want"
	MOVES+=("Moved src $src dst $dst")
}

pings() # FROM TO: 3 pings, each answered
{
	na ping -c 3 -i 0.1 -W 2 -I "$1" "$2" >"$tmp/ping" 2>&1 ||
		fail "ping $1 -> $2: $(tail -n 2 "$tmp/ping" | tr '\n' ' ')"
}

# seqs SRC DST SPI PORTS FIRST LAST: the lines esp_pkt.py wire prints for those ESP packets
seqs()
{
	local s
	for ((s = $5; s <= $6; s++)); do
		printf '%s %s 0x%08x %s %s\n' "$1" "$2" "$3" "$s" "$4"
	done
}

# refused WHAT PATTERN WORDS...: nfsec WORDS fails, its message has PATTERN
refused()
{
	local what=$1 pattern=$2 out
	shift 2
	if out=$(na nfsec "$@" 2>&1); then
		fail "$what: accepted"
	fi
	[[ $out == *"$pattern"* ]] || fail "$what: unclear message: $out"
	pass "$what: $out"
}

refusals() # A2 B2
{
	local before id=(dst "$2" proto esp spi "$SPI_AB")
	before=$(na nfsec -s -j sa show)
	refused "move of no SA" "No such file or directory: no such SA to move" \
		sa move dst "$2" proto esp spi 0x999 to src "$1" dst 10.0.0.2
	refused "move to another family" \
		"Invalid argument: SA_MOVE cannot change the SA's address family" \
		sa move "${id[@]}" to src fd00::11 dst fd00::12
	na nfsec sa add src "$1" dst 10.0.0.2 proto esp spi $SPI_AB "${GCM_AB[@]}"
	refused "move where an SA has the id" "File exists: an SA with the new dst" \
		sa move "${id[@]}" to src "$1" dst 10.0.0.2
	na nfsec sa del dst 10.0.0.2 proto esp spi $SPI_AB
	na nfsec sa allocspi dst 10.0.0.99 proto esp min $SPI_AB max $SPI_AB >/dev/null
	refused "move where allocspi reserved the SPI" "File exists: this spi is reserved" \
		sa move "${id[@]}" to src "$1" dst 10.0.0.99
	na nfsec sa del dst 10.0.0.99 proto esp spi $SPI_AB
	na python3 "$SELFTESTS_DIR/nl_raw.py" move || fail "raw SA_MOVE requests (above)"
	check_eq "a's SAs after the refused moves" "$(na nfsec -s -j sa show)" "$before"
}

run_family()
{
	local f=$1 a1 b1 a2 b2 enc=() sel p1 p2 r2 m2 hard oseq last i
	if [[ $f == 4 ]]; then
		a1=10.0.0.1 b1=10.0.0.2 a2=10.0.0.11 b2=10.0.0.12 sel=10.0.0.0/24 hard=12
		enc=(encap espinudp 4500 4500 0.0.0.0) p1="4500 4500" p2="4500 4600" r2="4600 4500"
		m2=$r2
	else
		a1=fd00::1 b1=fd00::2 a2=fd00::11 b2=fd00::12 sel=fd00::/64 hard=9
		p1="- -" p2="- -" r2="- -" m2=none
	fi
	echo "# ---- IPv$f"
	na nfsec sa flush
	na nfsec policy flush
	ip -n "$b" xfrm state flush
	ip -n "$b" xfrm policy flush
	na nfsec sa add src $a1 dst $b1 proto esp spi $SPI_AB reqid 1 mode transport \
		replay-window 32 "${GCM_AB[@]}" "${enc[@]}" limit packet-hard $hard
	na nfsec sa add src $b1 dst $a1 proto esp spi $SPI_BA reqid 2 mode transport \
		replay-window 32 "${GCM_BA[@]}" "${enc[@]}"
	xfrm_sa add $a1 $b1 $SPI_AB 1 "${enc[@]}"
	xfrm_sa add $b1 $a1 $SPI_BA 2 "${enc[@]}"
	na nfsec policy add src $sel dst $sel dir out tmpl proto esp reqid 1 mode transport
	na nfsec policy add src $sel dst $sel dir in tmpl proto esp reqid 2 mode transport
	ip -n "$b" xfrm policy add src $sel dst $sel dir out tmpl proto esp reqid 2 mode transport
	ip -n "$b" xfrm policy add src $sel dst $sel dir in tmpl proto esp reqid 1 mode transport
	cap_start "$b" eth0 "$tmp/wire$f.pcap"

	pings $a1 $b1
	last=3
	if [[ $f == 4 ]]; then
		# b's NAT mapping changes: it sends from 4600, and a follows
		xfrm_sa update $a1 $b1 $SPI_AB 1 encap espinudp 4500 4600 0.0.0.0
		xfrm_sa update $b1 $a1 $SPI_BA 2 encap espinudp 4600 4500 0.0.0.0
		move $SPI_AB "$a1 $b1 $p2" src $a1 dst $b1 proto esp spi $SPI_AB \
			to src $a1 dst $b1 encap espinudp 4500 4600 0.0.0.0
		move $SPI_BA "$b1 $a1 $r2" dst $a1 proto esp spi $SPI_BA \
			to src $b1 dst $a1 encap espinudp 4600 4500 0.0.0.0
		pings $a1 $b1
		last=6

		# b's ESP of seq 2, from before the move, once more (tcpdump -U: in the file already)
		python3 "$SELFTESTS_DIR/esp_pkt.py" pick "$tmp/wire$f.pcap" $SPI_BA 2 "$tmp/replay"
		snap
		ip netns exec "$b" python3 "$SELFTESTS_DIR/esp_pkt.py" send eth0 "$tmp/replay"
		for ((i = 0; i < 50; i++)); do
			counters_now "$a"
			(($(moved "$a" rx_replay_dup))) && break
			sleep 0.1
		done
		check_eq "a rx_replay_dup (the pre-move packet again)" "$(moved "$a" rx_replay_dup)" 1
		check_eq "a rx_packets" "$(moved "$a" rx_packets)" 0
		check_eq "a rx_auth_fail" "$(moved "$a" rx_auth_fail)" 0
		pass "a pre-move packet replayed after the move is a replay"
	fi

	# MOBIKE: both ends take their other addresses; encap, if any, is kept
	oseq=$(ip -n "$b" -s xfrm state get src $b1 dst $a1 proto esp spi $SPI_BA)
	[[ $oseq =~ oseq\ 0x([0-9a-f]+) ]] || fail "no oseq for b's SA $SPI_BA: $oseq"
	oseq=$((0x${BASH_REMATCH[1]}))
	ip -n "$b" xfrm state deleteall
	if [[ $f == 4 ]]; then
		xfrm_sa add $a2 $b2 $SPI_AB 1 encap espinudp 4500 4600 0.0.0.0
		xfrm_sa add $b2 $a2 $SPI_BA 2 encap espinudp 4600 4500 0.0.0.0 replay-oseq $oseq
		move $SPI_AB "$a2 $b2 $p2" dst $b1 proto esp spi $SPI_AB to src $a2 dst $b2
	else
		xfrm_sa add $a2 $b2 $SPI_AB 1
		xfrm_sa add $b2 $a2 $SPI_BA 2 replay-oseq $oseq
		move $SPI_AB "$a2 $b2 none" dst $b1 proto esp spi $SPI_AB to src $a2 dst $b2
	fi
	move $SPI_BA "$b2 $a2 $m2" src $b1 dst $a1 proto esp spi $SPI_BA \
		to src $b2 dst $a2
	pings $a2 $b2

	[[ $f == 4 ]] && refusals $a2 $b2

	# the hard limit counted every packet, before and after the moves
	snap
	na ping -c 4 -i 0.1 -W 1 -I $a2 $b2 >"$tmp/ping" 2>&1 || true
	check_eq "pings answered up to packet-hard $hard" \
		"$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$tmp/ping")" 3
	counters_now "$a"
	check_eq "a tx_expired" "$(moved "$a" tx_expired)" 1
	for ((i = 0; i < 50; i++)); do
		na nfsec sa get dst $b2 proto esp spi $SPI_AB >/dev/null 2>&1 || break
		sleep 0.1
	done
	((i < 50)) || fail "the SA at packet-hard $hard is still there"
	pass "IPv$f: the moved SA reached packet-hard $hard and is gone"

	cap_stop
	python3 "$SELFTESTS_DIR/esp_pkt.py" wire "$tmp/wire$f.pcap" >"$tmp/wire"
	check_eq "IPv$f: a's ESP on the wire, in order" \
		"$(grep " $(printf '0x%08x' $SPI_AB) " "$tmp/wire")" \
		"$(seqs $a1 $b1 $SPI_AB "$p1" 1 3; seqs $a1 $b1 $SPI_AB "$p2" 4 $last
		   seqs $a2 $b2 $SPI_AB "$p2" $((last + 1)) $((last + 6)))"
	check_eq "IPv$f: b's ESP on the wire, in order" \
		"$(grep " $(printf '0x%08x' $SPI_BA) " "$tmp/wire" | awk '!seen[$0]++')" \
		"$(seqs $b1 $a1 $SPI_BA "$p1" 1 3; seqs $b1 $a1 $SPI_BA "$r2" 4 $last
		   seqs $b2 $a2 $SPI_BA "$r2" $((last + 1)) $((last + 6)))"
}

run_family 4
run_family 6
mon_alive "$a" nfsec "$tmp/mon"
check_eq "a's monitor: a Moved event for each move" \
	"$(grep '^Moved ' "$tmp/mon" | tr '\n' ';')" "$(printf '%s;' "${MOVES[@]}")"
exit 0
