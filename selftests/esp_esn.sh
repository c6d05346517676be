#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Extended sequence numbers across 2^32, both directions.
#
#   a (10.0.0.1, LEFT) --veth-- b (10.0.0.2, RIGHT)
#
# ESP transport, rfc4106(gcm(aes)), `flag esn replay-window 128`, every SA starting at
# sequence 0xfffffff0 (replay-oseq on the sender, replay-seq on the receiver). 40 pings
# a -> b: requests and replies use 0xfffffff1 .. 0x1_00000018, so both senders cross 2^32 and
# both receivers must infer the high half (it is not on the wire but in the ICV). Asserts:
# 40/40 replies; the wire carries low halves 0xfffffff1..0xffffffff then 0x1..0x18 each way;
# the SAs end at 0x1_00000018 (nfsec: -s -j sa show, xfrm: seq-hi/oseq-hi); nfsec counted
# exactly 40 out and 40 in. Then two of a's frames captured on the way are injected again:
# 0xfffffff5 (before the crossing, still inside the window) and 0x1_00000010 (after): both are
# duplicates (rx_replay_dup +2) and neither is an ICV failure.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
run_combos "xfrm/nfsec"
need_cmd tcpdump python3
PKT="python3 $SELFTESTS_DIR/esp_pkt.py"

ns_create a b
veth_pair "$a" eth0 10.0.0.1/24 "$b" eth0 10.0.0.2/24
na() { ip netns exec "$a" "$@"; }

KEY_AB=0x0123456789abcdef0123456789abcdef01020304
KEY_BA=0xfedcba9876543210fedcba987654321005060708
SPI_AB=0x1001 SPI_BA=0x2002
START=0xfffffff0
for side in "a $LEFT" "b $RIGHT"; do
	read -r n impl <<<"$side"
	ns=${!n}
	sa "$ns" "$impl" add src 10.0.0.1 dst 10.0.0.2 proto esp spi $SPI_AB reqid 1 mode transport \
		flag esn replay-window 128 replay-seq $START replay-oseq $START \
		aead 'rfc4106(gcm(aes))' $KEY_AB 128
	sa "$ns" "$impl" add src 10.0.0.2 dst 10.0.0.1 proto esp spi $SPI_BA reqid 2 mode transport \
		flag esn replay-window 128 replay-seq $START replay-oseq $START \
		aead 'rfc4106(gcm(aes))' $KEY_BA 128
done
pol "$a" "$LEFT" add src 10.0.0.1 dst 10.0.0.2 dir out tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 1 mode transport
pol "$a" "$LEFT" add src 10.0.0.2 dst 10.0.0.1 dir in tmpl src 10.0.0.2 dst 10.0.0.1 proto esp reqid 2 mode transport
pol "$b" "$RIGHT" add src 10.0.0.2 dst 10.0.0.1 dir out tmpl src 10.0.0.2 dst 10.0.0.1 proto esp reqid 2 mode transport
pol "$b" "$RIGHT" add src 10.0.0.1 dst 10.0.0.2 dir in tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 1 mode transport

# static neighbours: no ARP, so the 40 pings are the only traffic
mac_a=$(ip -n "$a" -j link show eth0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
mac_b=$(ip -n "$b" -j link show eth0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
ip -n "$a" neigh replace 10.0.0.2 lladdr "$mac_b" dev eth0 nud permanent
ip -n "$b" neigh replace 10.0.0.1 lladdr "$mac_a" dev eth0 nud permanent

tmp=$(mktemp -d)
defer "rm -rf $tmp"
cap_start "$b" eth0 "$tmp/esp.pcap" "esp"
out=$(na ping -c 40 -i 0.05 -W 5 10.0.0.2) || fail "40 pings across 2^32: $(tail -n 2 <<<"$out")"
grep -q "40 received" <<<"$out" || fail "pings lost: $(tail -n 2 <<<"$out")"
cap_stop
pass "40/40 pings with every SA crossing 2^32"

# the wire: low halves, per direction, in order
for dir in "10.0.0.1 $SPI_AB" "10.0.0.2 $SPI_BA"; do
	read -r src spi <<<"$dir"
	want=$(python3 -c 'print(" ".join(str((0xfffffff1 + i) & 0xffffffff) for i in range(40)))')
	got=$($PKT list "$tmp/esp.pcap" | awk -v s="$(printf '0x%08x' $spi)" '$2 == s { printf "%s%s", sep, $3; sep = " " }')
	check_eq "sequence numbers on the wire from $src (spi $spi)" "$got" "$want"
done

# the SAs' state afterwards: 0x1_00000018 everywhere
END=$((0x100000018))
for side in "a $LEFT $SPI_AB $SPI_BA" "b $RIGHT $SPI_BA $SPI_AB"; do
	read -r n impl out_spi in_spi <<<"$side"
	ns=${!n}
	if is_nfsec "$impl"; then
		check_eq "$n (nfsec) SA $out_spi oseq" "$(sa_field "$ns" "$out_spi" oseq)" "$END"
		check_eq "$n (nfsec) SA $in_spi seq" "$(sa_field "$ns" "$in_spi" seq)" "$END"
		check_eq "$n (nfsec) tx_packets" "$(nstat "$ns" tx_packets)" 40
		check_eq "$n (nfsec) rx_packets" "$(nstat "$ns" rx_packets)" 40
		check_eq "$n (nfsec) tx_seq_overflow" "$(nstat "$ns" tx_seq_overflow)" 0
		check_eq "$n (nfsec) rx_auth_fail" "$(nstat "$ns" rx_auth_fail)" 0
	else
		o=$(ip -n "$ns" xfrm state list spi "$out_spi")
		i=$(ip -n "$ns" xfrm state list spi "$in_spi")
		grep -q "oseq-hi 0x1, oseq 0x18" <<<"$o" || fail "$n (xfrm) SA $out_spi: not at oseq 0x1_00000018: $o"
		grep -q "seq-hi 0x1, seq 0x18," <<<"$i" || fail "$n (xfrm) SA $in_spi: not at seq 0x1_00000018: $i"
		pass "$n (xfrm) SAs at 0x1_00000018 both ways"
	fi
done

# replays across the boundary: inferred as duplicates, not as ICV failures
if is_nfsec "$RIGHT"; then
	d0=$(nstat "$b" rx_replay_dup) f0=$(nstat "$b" rx_auth_fail) p0=$(nstat "$b" rx_packets)
else
	d0=$(xstat "$b" XfrmInStateSeqError) f0=$(xstat "$b" XfrmInStateProtoError) p0=$(xsa_packets "$b" $SPI_AB)
fi
$PKT pick "$tmp/esp.pcap" $SPI_AB 0xfffffff5 "$tmp/before"
$PKT pick "$tmp/esp.pcap" $SPI_AB 0x10 "$tmp/after"
na $PKT send eth0 "$tmp/before"
na $PKT send eth0 "$tmp/after"
sleep 0.5
if is_nfsec "$RIGHT"; then
	echo "# b's nonzero counters after the replays: $(nstats "$b" | awk '$2 != 0 { printf "%s=%s ", $1, $2 }')"
	check_eq "b (nfsec) rx_replay_dup after replaying 0xfffffff5 and 0x1_00000010" "$(($(nstat "$b" rx_replay_dup) - d0))" 2
	check_eq "b (nfsec) rx_auth_fail after the replays" "$(($(nstat "$b" rx_auth_fail) - f0))" 0
	check_eq "b (nfsec) rx_packets after the replays" "$(($(nstat "$b" rx_packets) - p0))" 0
else
	check_eq "b (xfrm) XfrmInStateSeqError after the replays" "$(($(xstat "$b" XfrmInStateSeqError) - d0))" 2
	check_eq "b (xfrm) XfrmInStateProtoError after the replays" "$(($(xstat "$b" XfrmInStateProtoError) - f0))" 0
	check_eq "b (xfrm) SA packets after the replays" "$(($(xsa_packets "$b" $SPI_AB) - p0))" 0
fi
exit 0
