#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Path MTU through an ESP tunnel: the gateway answers a packet too big for the tunnel with
# ICMP fragmentation-needed carrying the exact tunnel MTU, and TCP finds it.
#
#   h1 (10.1.0.2) --- gwA (LEFT) ==ESP, MTU 1400== gwB (RIGHT) --- h2 (10.2.0.2-6)
#
# rfc4106(gcm(aes)) ICV 128 tunnel. The largest inner packet that fits a 1400-byte link:
#   1400 - 20 (outer IPv4) - 8 (SPI, seq) - 8 (IV) - 16 (ICV) = 1348 for payload + padding +
#   pad length + next header, a multiple of 4: inner + 2 <= 1348, inner <= 1346.
# Native xfrm's esp4_get_mtu() gives the same 1346. Asserts, with DF pings (each to a fresh
# destination, so no cached PMTU interferes):
#   1346 bytes (-s 1318) pass, and leave as exactly 1400-byte ESP packets;
#   1347 bytes (-s 1319) and 1400 bytes (-s 1372): ICMP "need to frag (mtu 1346)" from gwA,
#   tx_frag_needed +1 each on an nfsec gwA; the same from gwB for h2 -> h1;
# then 512 KiB of TCP each way with MSS clamping off (nfsec's `mss off`), so only PMTU discovery
# can make it fit: sha256 matches, no outer packet over 1400, no fragments.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
run_combos "nfsec/xfrm"
need_cmd tcpdump socat python3

ns_create h1 gwA gwB h2
veth_pair "$h1" eth0 10.1.0.2/24 "$gwA" lan0 10.1.0.1/24
veth_pair "$gwA" wan0 10.0.0.1/24 "$gwB" wan0 10.0.0.2/24
veth_pair "$gwB" lan0 10.2.0.1/24 "$h2" eth0 10.2.0.2/24
for i in 3 4 5 6; do
	ip -n "$h2" addr add 10.2.0.$i/24 dev eth0
done
ip -n "$gwA" link set wan0 mtu 1400
ip -n "$gwB" link set wan0 mtu 1400
ip -n "$h1" route add default via 10.1.0.1
ip -n "$h2" route add default via 10.2.0.1
ip -n "$gwA" route add 10.2.0.0/24 via 10.0.0.2
ip -n "$gwB" route add 10.1.0.0/24 via 10.0.0.1
for ns in "$gwA" "$gwB"; do
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0
done
TUNNEL_MTU=1346

KEY_AB=0x1111111111111111111111111111111122222222
KEY_BA=0x3333333333333333333333333333333344444444
gateway()
{
	local ns=$1 impl=$2 me peer mine theirs out in extra=
	is_nfsec "$impl" && extra="mss off"
	sa "$ns" "$impl" add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x1001 reqid 1 mode tunnel \
		aead 'rfc4106(gcm(aes))' $KEY_AB 128 $extra
	sa "$ns" "$impl" add src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x2002 reqid 2 mode tunnel \
		aead 'rfc4106(gcm(aes))' $KEY_BA 128 $extra
	if [[ $ns == "$gwA" ]]; then
		me=10.0.0.1 peer=10.0.0.2 mine=10.1.0.0/24 theirs=10.2.0.0/24 out=1 in=2
	else
		me=10.0.0.2 peer=10.0.0.1 mine=10.2.0.0/24 theirs=10.1.0.0/24 out=2 in=1
	fi
	pol "$ns" "$impl" add src $mine dst $theirs dir out tmpl src $me dst $peer proto esp reqid $out mode tunnel
	pol "$ns" "$impl" add src $theirs dst $mine dir fwd tmpl src $peer dst $me proto esp reqid $in mode tunnel
	pol "$ns" "$impl" add src $theirs dst $mine dir in tmpl src $peer dst $me proto esp reqid $in mode tunnel
}
gateway "$gwA" "$LEFT"
gateway "$gwB" "$RIGHT"

frag_needed()
{
	local ns=$1 impl=$2
	if is_nfsec "$impl"; then nstat "$ns" tx_frag_needed; else echo 0; fi
}

tmp=$(mktemp -d)
CAP_SNAPLEN=128
defer "rm -rf $tmp"
ip netns exec "$h1" ping -c 2 -W 5 10.2.0.2 >/dev/null || fail "plain ping h1 -> h2 through the tunnel"
ip netns exec "$h2" ping -c 1 -W 5 10.1.0.2 >/dev/null || fail "plain ping h2 -> h1 through the tunnel"

cap_start "$h1" eth0 "$tmp/h1.pcap" "icmp"
cap_start "$h2" eth0 "$tmp/h2.pcap" "icmp"
cap_start "$gwA" wan0 "$tmp/wan.pcap" "ip"
fa=$(frag_needed "$gwA" "$LEFT") fb=$(frag_needed "$gwB" "$RIGHT")

# probe FROM_NS DST SIZE: one DF ping of SIZE payload bytes; prints ok or the ping's complaint
probe()
{
	local out
	if out=$(ip netns exec "$1" ping -M "do" -c 1 -W 3 -s "$3" "$2" 2>&1); then
		echo ok
	else
		grep -oE 'Frag needed and DF set \(mtu = [0-9]+\)|message too long, mtu=[0-9]+' <<<"$out" | head -n 1
	fi
}
check_eq "DF ping h1 -> h2, $TUNNEL_MTU bytes" "$(probe "$h1" 10.2.0.3 $((TUNNEL_MTU - 28)))" ok
check_eq "DF ping h1 -> h2, $((TUNNEL_MTU + 1)) bytes" "$(probe "$h1" 10.2.0.4 $((TUNNEL_MTU - 27)))" \
	"Frag needed and DF set (mtu = $TUNNEL_MTU)"
check_eq "DF ping h1 -> h2, 1400 bytes" "$(probe "$h1" 10.2.0.5 1372)" "Frag needed and DF set (mtu = $TUNNEL_MTU)"
check_eq "DF ping h2 -> h1, $((TUNNEL_MTU + 1)) bytes" "$(probe "$h2" 10.1.0.2 $((TUNNEL_MTU - 27)))" \
	"Frag needed and DF set (mtu = $TUNNEL_MTU)"
check_eq "DF ping h2 -> h1 (PMTU learnt), $TUNNEL_MTU bytes" "$(probe "$h2" 10.1.0.2 $((TUNNEL_MTU - 28)))" ok
cap_stop

check_eq "ICMP need-to-frag on h1's link" \
	"$(tcpdump -r "$tmp/h1.pcap" -n 2>/dev/null | grep -c "10.1.0.1 > 10.1.0.2: ICMP 10.2.0.[45] unreachable - need to frag (mtu $TUNNEL_MTU)")" 2
check_eq "ICMP need-to-frag on h2's link" \
	"$(tcpdump -r "$tmp/h2.pcap" -n 2>/dev/null | grep -c "10.2.0.1 > 10.2.0.2: ICMP 10.1.0.2 unreachable - need to frag (mtu $TUNNEL_MTU)")" 1
check_eq "need-to-frag with another MTU" \
	"$( (tcpdump -r "$tmp/h1.pcap" -n; tcpdump -r "$tmp/h2.pcap" -n) 2>/dev/null | grep "need to frag" | grep -vc "(mtu $TUNNEL_MTU)")" 0
# the $TUNNEL_MTU-byte packets filled the link exactly: ESP of 1400 bytes, each way
check_eq "1400-byte ESP packets gwA -> gwB" "$(cap_count "$tmp/wan.pcap" "esp and src 10.0.0.1 and ip[2:2] = 1400")" 2
check_eq "1400-byte ESP packets gwB -> gwA" "$(cap_count "$tmp/wan.pcap" "esp and src 10.0.0.2 and ip[2:2] = 1400")" 2
check_eq "packets over 1400 bytes or fragments between the gateways" \
	"$(cap_count "$tmp/wan.pcap" "ip[2:2] > 1400 or ip[6:2] & 0x3fff != 0")" 0
if is_nfsec "$LEFT"; then
	check_eq "gwA (nfsec) tx_frag_needed" "$(($(frag_needed "$gwA" "$LEFT") - fa))" 2
fi
if is_nfsec "$RIGHT"; then
	check_eq "gwB (nfsec) tx_frag_needed" "$(($(frag_needed "$gwB" "$RIGHT") - fb))" 1
fi

# TCP with PMTU discovery, no MSS clamping. Forget the PMTUs learnt above: a host that knows
# one advertises an MSS that fits, and the other side would never need to discover anything.
ip -n "$h1" route flush cache
ip -n "$h2" route flush cache
cap_start "$gwA" wan0 "$tmp/wan2.pcap" "ip"
fa=$(frag_needed "$gwA" "$LEFT") fb=$(frag_needed "$gwB" "$RIGHT")
xfer "$h1" "$h2" 10.2.0.6 5001 524288
xfer "$h2" "$h1" 10.1.0.2 5002 524288
cap_stop
check_eq "outer packets over 1400 bytes or fragments during TCP" \
	"$(cap_count "$tmp/wan2.pcap" "ip[2:2] > 1400 or ip[6:2] & 0x3fff != 0")" 0
full=$(cap_count "$tmp/wan2.pcap" "esp and ip[2:2] = 1400")
((full > 500)) || fail "only $full full-size (1400-byte) ESP packets: TCP did not use the path MTU"
pass "TCP used the path MTU: $full ESP packets of exactly 1400 bytes"
echo "# h1's route to h2 afterwards: $(ip netns exec "$h1" ip route get 10.2.0.6 | tr '\n' ' ')"
if is_nfsec "$LEFT"; then
	d=$(($(frag_needed "$gwA" "$LEFT") - fa))
	((d >= 1)) || fail "gwA (nfsec) sent no fragmentation-needed during the TCP transfer"
	pass "gwA (nfsec) tx_frag_needed +$d during TCP"
	check_eq "gwA (nfsec) mss_clamped (mss off)" "$(nstat "$gwA" mss_clamped)" 0
fi
if is_nfsec "$RIGHT"; then
	d=$(($(frag_needed "$gwB" "$RIGHT") - fb))
	((d >= 1)) || fail "gwB (nfsec) sent no fragmentation-needed during the TCP transfer"
	pass "gwB (nfsec) tx_frag_needed +$d during TCP"
fi
exit 0
