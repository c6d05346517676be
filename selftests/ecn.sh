#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ECN across a tunnel-mode SA (RFC 6040), for every pair of families, against native xfrm both
# ways: nfsec/xfrm has nfsec encapsulate and xfrm decapsulate, xfrm/nfsec the other way round.
#
#   a (LEFT: sender)  10.0.0.1, fd00::1 eth0 ---veth--- eth0 10.0.0.2, fd00::2  b (RIGHT: receiver)
#                     10.1.0.1, fd01::1 lo               lo 10.2.0.1, fd02::1
#                     10.1.0.2, fd01::2 lo               lo 10.2.0.2, fd02::2
#
# GCM tunnel SAs (rfc4106(gcm(aes)), ICV 128) both ways for each pair of families, all at once,
# each with its own SPIs: 4in4 (10.1.0.1 -> 10.2.0.1 inside 10.0.0.1 -> 10.0.0.2, SPI 0x100 a
# to b), 6in6 (fd01::1 -> fd02::1 inside fd00::1 -> fd00::2, 0x101), 4in6 (10.1.0.2 -> 10.2.0.2
# inside fd00::1 -> fd00::2, 0x102) and 6in4 (fd01::2 -> fd02::2 inside 10.0.0.1 -> 10.0.0.2,
# 0x103); the last two with flag af-unspec. A receiver in b logs each UDP datagram to port 9000
# with the TOS or traffic class its socket got (IP_RECVTOS, IPV6_RECVTCLASS). An nftables rule
# on a's POSTROUTING rewrites the outer ECN field of the ESP it sends by the outer DSCP, which
# the encapsulator copied from the inner packet: AF31 gets CE, AF41 ECT(1), AF21 nothing. For
# each pair, a sends three rounds of four datagrams, one per ECN codepoint in the order
# Not-ECT, ECT(0), ECT(1), CE; the ESP arriving on b's eth0 is captured.
#   1. encap, DSCP AF21 (TOS 0x48, 0x4a, 0x49, 0x4b): the outer TOS on the wire is what the
#      encapsulator puts there: nfsec copies ECN, CE included (RFC 6040 4.1, normal mode):
#      0x48 0x4a 0x49 0x4b; xfrm copies it but turns CE into ECT(0) (INET_ECN_encapsulate, RFC
#      3168 9.1.1): 0x48 0x4a 0x49 0x4a; both copy DSCP. All four arrive as they were sent.
#   2. outer CE, DSCP AF31 (0x68...): all four outer TOS 0x6b on the wire. ECT(0), ECT(1) and CE
#      arrive as CE (0x6b); Not-ECT under CE is dropped by nfsec (RFC 6040 4.2) and counted in
#      rx_ecn, of the netns and of the SA, exactly once. The datagrams sent after it arrived.
#   3. outer ECT(1), DSCP AF41 (0x88...): all four outer TOS 0x89 on the wire. Not-ECT arrives as
#      Not-ECT (0x88), ECT(0) as ECT(1) (0x89) at nfsec (RFC 6040 4.2), ECT(1) as ECT(1), CE as CE.
# Every datagram expected arrives exactly once, its DSCP unchanged; the last of each pair (CE
# in round 3) is waited for, and was sent after the dropped one. On every nfsec side: tx_packets
# (a) moved by 48, rx_packets (b) by 44, rx_ecn (b) by 4, and each inbound SA's rx_ecn by 1; no
# other counter of NAMES moved. Each SA put exactly its 12 packets on the wire. Where xfrm's
# receiver differs from RFC 6040 4.2 (it delivers the Not-ECT datagram under an outer CE, and
# leaves ECT(0) under ECT(1) as it is), only nfsec's behaviour is asserted: what xfrm did is
# printed. COMBOS="xfrm/xfrm" validates the rest of the test.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
run_combos "nfsec/xfrm xfrm/nfsec"
need_cmd tcpdump nft python3

tunnel_hosts
tunnel_hosts6
# The inner addresses of 4in6 and 6in4, beside those of 4in4 and 6in6
ip -n "$a" -batch - <<EOF
addr add 10.1.0.2/32 dev lo
addr add fd01::2/128 dev lo nodad
route add 10.2.0.2/32 via 10.0.0.2 src 10.1.0.2
route add fd02::2/128 via fd00::2 src fd01::2
EOF
ip -n "$b" -batch - <<EOF
addr add 10.2.0.2/32 dev lo
addr add fd02::2/128 dev lo nodad
route add 10.1.0.2/32 via 10.0.0.1 src 10.2.0.2
route add fd01::2/128 via fd00::1 src fd02::2
EOF
tmp=$(mktemp -d)
defer "rm -rf $tmp"
ECN=$SELFTESTS_DIR/ecn.py
PORT=9000
NAMES="tx_packets rx_packets rx_ecn rx_auth_fail rx_replay_dup rx_replay_old rx_bad_trailer
	rx_too_short rx_policy_mismatch rx_unprotected rx_policy_block rx_no_mem rx_crypto_error
	rx_sa_gone rx_inner_hopopts tx_no_sa tx_no_mem tx_crypto_error tx_no_route tx_error"
# Each round's four TOS: DSCP AF21, AF31, AF41 with Not-ECT, ECT(0), ECT(1), CE
SENT=(0x48 0x4a 0x49 0x4b 0x68 0x6a 0x69 0x6b 0x88 0x8a 0x89 0x8b)
WHAT=(Not-ECT "ECT(0)" "ECT(1)" CE)
ROUND=(encap outer-CE outer-ECT1)
# What the receiver gets of each, for both implementations; "drop" (nfsec only) or "nfsec:X"
# where xfrm differs: asserted when b is nfsec, printed when b is xfrm
WANT=(0x48 0x4a 0x49 0x4b nfsec:drop 0x6b 0x6b 0x6b 0x88 nfsec:0x89 0x89 0x8b)
# What the encapsulator makes of CE
ce_out=0x4b
is_nfsec "$LEFT" || ce_out=0x4a
# Per pair: SPI a -> b (b -> a is 0x100 more), outer a, outer b, inner a, inner b, flags
PAIRS=(4in4 6in6 4in6 6in4)
declare -A CONF=(
	[4in4]="0x100 10.0.0.1 10.0.0.2 10.1.0.1 10.2.0.1"
	[6in6]="0x101 fd00::1 fd00::2 fd01::1 fd02::1"
	[4in6]="0x102 fd00::1 fd00::2 10.1.0.2 10.2.0.2 flag af-unspec"
	[6in4]="0x103 10.0.0.1 10.0.0.2 fd01::2 fd02::2 flag af-unspec"
)

# config IMPL SIDE: the SAs of every pair, and side a's or b's policies, one command a line
config()
{
	local impl=$1 side=$2 pair spi oa ob ia ib flags n=0 key sa=sa pol=policy
	is_nfsec "$impl" || sa="xfrm state" pol="xfrm policy"
	for pair in "${PAIRS[@]}"; do
		read -r spi oa ob ia ib flags <<<"${CONF[$pair]}"
		n=$((n + 1))
		key=0x$(printf '%08x' $((n * 0x1010101)))000000000000000000000000
		echo "$sa add src $oa dst $ob proto esp spi $spi reqid $n mode tunnel $flags" \
			"aead rfc4106(gcm(aes)) ${key}11111111 128"
		echo "$sa add src $ob dst $oa proto esp spi $((spi + 0x100)) reqid $((n + 10))" \
			"mode tunnel $flags aead rfc4106(gcm(aes)) ${key}22222222 128"
		if [[ $side == a ]]; then
			echo "$pol add src $ia dst $ib dir out tmpl src $oa dst $ob proto esp reqid $n mode tunnel"
			echo "$pol add src $ib dst $ia dir in tmpl src $ob dst $oa proto esp reqid $((n + 10)) mode tunnel"
		else
			echo "$pol add src $ib dst $ia dir out tmpl src $ob dst $oa proto esp reqid $((n + 10)) mode tunnel"
			echo "$pol add src $ia dst $ib dir in tmpl src $oa dst $ob proto esp reqid $n mode tunnel"
		fi
	done
}

configure() # NS IMPL SIDE: one batch, one process
{
	local out
	if is_nfsec "$2"; then
		out=$(config "$2" "$3" | ip netns exec "$1" nfsec -batch - 2>&1) || fail "configuring $3 ($2): $out"
	else
		out=$(config "$2" "$3" | ip -n "$1" -batch - 2>&1) || fail "configuring $3 ($2): $out"
	fi
}

# moved NS: "name=delta" of every counter of NAMES that moved since snap, one nfsec call
moved()
{
	local out n v
	local -A cur
	out=$(nstats "$1") || fail "nfsec stats: $out"
	while read -r n v; do
		cur[${n%:}]=$v
	done <<<"$out"
	out=
	for n in $NAMES; do
		v=$((cur[$n] - before[$1,$n]))
		((v == 0)) || out+="${out:+ }$n=$v"
	done
	echo "$out"
}

# check_received PAIR: each datagram of PAIR arrived once with the TOS of WANT, or not at all
check_received()
{
	local pair=$1 tag t v i want
	local -A got=()
	while read -r tag v; do
		[[ $tag == "$pair"-* ]] || continue
		[[ -z ${got[$tag]:-} ]] || fail "$tag arrived twice (${got[$tag]}, $v)"
		got[$tag]=$v
	done <"$tmp/recv"
	for i in "${!WANT[@]}"; do
		t="$pair ${ROUND[i / 4]}, ${WHAT[i % 4]} (sent ${SENT[i]})"
		want=${WANT[i]}
		if [[ $want == nfsec:* ]]; then
			if ! is_nfsec "$RIGHT"; then
				echo "# $t: xfrm delivered ${got[$pair-$i]:-nothing} (not asserted; RFC 6040 4.2: ${want#nfsec:})"
				continue
			fi
			want=${want#nfsec:}
		fi
		[[ $want == drop ]] && want=
		check_eq "$t: TOS received" "${got[$pair-$i]:-}" "$want"
	done
}

received_all()
{
	local pair
	for pair in "${PAIRS[@]}"; do
		grep -q "^$pair-11 " "$tmp/recv" || return 1
	done
}

configure "$a" "$LEFT" a
configure "$b" "$RIGHT" b
ip netns exec "$a" nft -f - <<-'EOF'
	table inet mark_ecn {
		chain post {
			type filter hook postrouting priority 0; policy accept;
			meta l4proto esp ip dscp af31 ip ecn set ce
			meta l4proto esp ip dscp af41 ip ecn set ect1
			meta l4proto esp ip6 dscp af31 ip6 ecn set ce
			meta l4proto esp ip6 dscp af41 ip6 ecn set ect1
		}
	}
EOF
ip netns exec "$b" python3 "$ECN" recv "$tmp/recv" $PORT &
defer "kill $! 2>/dev/null"
wait_for 10 grep -qs ready "$tmp/recv"
CAP_SNAPLEN=128
cap_start "$b" eth0 "$tmp/wire.pcap" "-Q in ip proto 50 or ip6 proto 50"

snap
dsts=()
for pair in "${PAIRS[@]}"; do
	read -r _ _ _ _ dst _ <<<"${CONF[$pair]}"
	dsts+=("$dst" "$pair")
done
ip netns exec "$a" python3 "$ECN" send $PORT "$(IFS=,; echo "${SENT[*]}")" "${dsts[@]}"
wait_for 10 received_all
for pair in "${PAIRS[@]}"; do
	check_received "$pair"
done
for ns in $(nfsec_sides); do
	want="rx_packets=44 rx_ecn=4"
	[[ $ns == "$a" ]] && want="tx_packets=48"
	check_eq "$(side "$ns") counters moved" "$(moved "$ns")" "$want"
done
if is_nfsec "$RIGHT"; then
	# "SPI rx_ecn" of each of b's SAs, from `nfsec -s sa show`
	check_eq "rx_ecn of b's SAs" "$(ip netns exec "$b" nfsec -s sa show |
		awk '$3 == "spi" { spi = $4 } $1 == "rx_ecn" { print spi, $2 }' | sort | tr '\n' ' ')" \
		"0x00000100 1 0x00000101 1 0x00000102 1 0x00000103 1 0x00000200 0 0x00000201 0 0x00000202 0 0x00000203 0 "
fi
check_xfrm_icv
cap_stop

# The ESP of each SA a -> b on the wire, in order of sequence number
i=0
while read -r spi tos; do
	pair=${PAIRS[i]}
	i=$((i + 1))
	read -ra tos <<<"$tos"
	check_eq "$pair: ESP packets of SPI $spi on the wire" "${#tos[@]}" 12
	check_eq "$pair encap: outer TOS on the wire ($LEFT encapsulating)" \
		"${tos[*]:0:4}" "0x48 0x4a 0x49 $ce_out"
	check_eq "$pair outer-CE: outer TOS on the wire" "${tos[*]:4:4}" "0x6b 0x6b 0x6b 0x6b"
	check_eq "$pair outer-ECT1: outer TOS on the wire" "${tos[*]:8:4}" "0x89 0x89 0x89 0x89"
done < <(python3 "$ECN" wire "$tmp/wire.pcap" 0x100 0x101 0x102 0x103)
check_eq "SAs seen on the wire" $i 4
exit 0
