#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# TCP MSS clamping through an ESP tunnel, seen by the hosts at both ends.
#
#   h1 (10.1.0.2) --- gwA (LEFT) ==ESP tunnel, rfc4106(gcm(aes)) 128, MTU 1500== gwB (RIGHT) --- h2
#
# The MSS that fits: 1500 - 20 (outer IPv4) - 8 (SPI, seq) - 8 (IV) - 16 (ICV) = 1448 for
# payload + padding + pad length + next header (a multiple of 4): 1446 bytes of inner packet,
# minus 20 (inner IPv4) and 20 (TCP) = 1406. The hosts offer 1460 (MTU 1500). Asserts:
#   1. mss auto (the default): h1 -> h2 and h2 -> h1 connections; every SYN and SYN-ACK arrives
#      at the far host with MSS exactly 1406, whichever gateway implements what (nfsec clamps
#      both what it sends into the tunnel and what comes out of it, so one nfsec gateway is
#      enough); mss_clamped of the nfsec gateways rises by exactly 2 per connection;
#   2. 2 MB each way with DF set (Linux's default): sha256 matches, not one ICMP
#      fragmentation-needed on either host's link, tx_frag_needed unchanged, no outer packet
#      over 1500 bytes and no fragment between the gateways;
#   3. `mss 1300` on nfsec's SAs: the far host sees 1300; `mss off`: it sees 1460 and
#      mss_clamped does not move;
#   4. the same SAs with `encap espinudp 4500 4500` (ESP in UDP, the xfrm gateway holding a
#      UDP_ENCAP socket): 8 bytes less, so 1398; as 1 and 2, the full-size packets between the
#      gateways being UDP 4500 of exactly 1500 bytes.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
run_combos "nfsec/xfrm"
need_cmd tcpdump socat

ns_create h1 gwA gwB h2
veth_pair "$h1" eth0 10.1.0.2/24 "$gwA" lan0 10.1.0.1/24
veth_pair "$gwA" wan0 10.0.0.1/24 "$gwB" wan0 10.0.0.2/24
veth_pair "$gwB" lan0 10.2.0.1/24 "$h2" eth0 10.2.0.2/24
ip -n "$h1" route add default via 10.1.0.1
ip -n "$h2" route add default via 10.2.0.1
ip -n "$gwA" route add 10.2.0.0/24 via 10.0.0.2
ip -n "$gwB" route add 10.1.0.0/24 via 10.0.0.1
for ns in "$gwA" "$gwB"; do
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
done
TUNNEL_MSS=1406 TUNNEL_MSS_UDP=1398

KEY_AB=0x1111111111111111111111111111111122222222
KEY_BA=0x3333333333333333333333333333333344444444
impl_of() { [[ $1 == "$gwA" ]] && echo "$LEFT" || echo "$RIGHT"; }

# sas NS CMD [MSS-WORDS]: the two SAs, added or updated, with nfsec's mss words if any
sas()
{
	local ns=$1 cmd=$2 impl extra=
	impl=$(impl_of "$ns")
	is_nfsec "$impl" && extra=${3:-}
	sa "$ns" "$impl" "$cmd" src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x1001 reqid 1 mode tunnel \
		aead 'rfc4106(gcm(aes))' $KEY_AB 128 $extra $ENCAP
	sa "$ns" "$impl" "$cmd" src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x2002 reqid 2 mode tunnel \
		aead 'rfc4106(gcm(aes))' $KEY_BA 128 $extra $ENCAP
}
ENCAP=

gateway()
{
	local ns=$1 impl me peer mine theirs out in
	impl=$(impl_of "$ns")
	sas "$ns" add
	if [[ $ns == "$gwA" ]]; then
		me=10.0.0.1 peer=10.0.0.2 mine=10.1.0.0/24 theirs=10.2.0.0/24 out=1 in=2
	else
		me=10.0.0.2 peer=10.0.0.1 mine=10.2.0.0/24 theirs=10.1.0.0/24 out=2 in=1
	fi
	pol "$ns" "$impl" add src $mine dst $theirs dir out tmpl src $me dst $peer proto esp reqid $out mode tunnel
	pol "$ns" "$impl" add src $theirs dst $mine dir fwd tmpl src $peer dst $me proto esp reqid $in mode tunnel
	pol "$ns" "$impl" add src $theirs dst $mine dir in tmpl src $peer dst $me proto esp reqid $in mode tunnel
}
gateway "$gwA"
gateway "$gwB"

# counter NAME: the sum over the nfsec gateways
counter()
{
	local ns n=0
	for ns in "$gwA" "$gwB"; do
		is_nfsec "$(impl_of "$ns")" && n=$((n + $(nstat "$ns" "$1")))
	done
	echo $n
}

# syn_mss PCAP FLAGS: the MSS options of the packets with exactly these SYN/ACK flags
syn_mss()
{
	tcpdump -r "$1" -n -v "tcp[tcpflags] & (tcp-syn|tcp-ack) == $2" 2>/dev/null |
		grep -oE 'mss [0-9]+' | awk '{ print $2 }' | sort -u | tr '\n' ' ' | sed 's/ $//'
}

tmp=$(mktemp -d)
defer "rm -rf $tmp"
CAP_SNAPLEN=128
ip netns exec "$h1" ping -c 2 -W 5 10.2.0.2 >/dev/null || fail "ping h1 -> h2 through the tunnel"
ip netns exec "$h2" ping -c 1 -W 5 10.1.0.2 >/dev/null || fail "ping h2 -> h1 through the tunnel"

# connections WANT BYTES: one connection each way, captured on both hosts; assert the MSS each
# host sees in the other's SYN and SYN-ACK
connections()
{
	local want=$1 bytes=$2
	cap_start "$h1" eth0 "$tmp/h1.pcap" "tcp or icmp"
	cap_start "$h2" eth0 "$tmp/h2.pcap" "tcp or icmp"
	cap_start "$gwA" wan0 "$tmp/wan.pcap" "ip"
	# without clamping, TCP learns the tunnel's PMTU from the gateway and the next SYN-ACK
	# would offer what fits on its own: each connection starts from what the hosts' links say
	ip -n "$h1" route flush cache
	ip -n "$h2" route flush cache
	xfer "$h1" "$h2" 10.2.0.2 5001 "$bytes"
	ip -n "$h1" route flush cache
	ip -n "$h2" route flush cache
	xfer "$h2" "$h1" 10.1.0.2 5002 "$bytes"
	cap_stop
	# h2 receives h1's SYN (port 5001) and h1's SYN-ACK (port 5002); h1 the converse
	check_eq "MSS of h1's SYN as h2 sees it" "$(syn_mss "$tmp/h2.pcap" "tcp-syn and dst port 5001")" "$want"
	check_eq "MSS of h1's SYN-ACK as h2 sees it" \
		"$(syn_mss "$tmp/h2.pcap" "(tcp-syn|tcp-ack) and src port 5002")" "$want"
	check_eq "MSS of h2's SYN as h1 sees it" "$(syn_mss "$tmp/h1.pcap" "tcp-syn and dst port 5002")" "$want"
	check_eq "MSS of h2's SYN-ACK as h1 sees it" \
		"$(syn_mss "$tmp/h1.pcap" "(tcp-syn|tcp-ack) and src port 5001")" "$want"
}

# automatic MSS WANT, 2 MB each way; WIRE: the pcap filter of the outer packets
automatic()
{
	local want=$1 wire=$2 c0 f0 full
	c0=$(counter mss_clamped) f0=$(counter tx_frag_needed)
	connections "$want" 2097152
	check_eq "mss_clamped of the nfsec gateways, 2 connections" "$(($(counter mss_clamped) - c0))" 4
	check_eq "ICMP need-to-frag on the hosts' links" \
		"$(($(cap_count "$tmp/h1.pcap" "icmp[icmptype] = 3 and icmp[icmpcode] = 4") +
		    $(cap_count "$tmp/h2.pcap" "icmp[icmptype] = 3 and icmp[icmpcode] = 4")))" 0
	check_eq "tx_frag_needed of the nfsec gateways" "$(($(counter tx_frag_needed) - f0))" 0
	check_eq "outer packets over 1500 bytes or fragments between the gateways" \
		"$(cap_count "$tmp/wan.pcap" "ip[2:2] > 1500 or ip[6:2] & 0x3fff != 0")" 0
	full=$(cap_count "$tmp/wan.pcap" "$wire and ip[2:2] = 1500")
	((full > 500)) || fail "only $full packets ($wire) of exactly 1500 bytes: the clamped MSS does not fill the link"
	pass "2 MB each way at MSS $want: $full packets ($wire) of exactly 1500 bytes, no fragmentation"
}

# 1 and 2
automatic $TUNNEL_MSS esp

# 3: a fixed value, then off, on nfsec's side only
for ns in "$gwA" "$gwB"; do
	is_nfsec "$(impl_of "$ns")" && sas "$ns" update "mss 1300"
done
connections 1300 65536
pass "mss 1300: both hosts see 1300"
for ns in "$gwA" "$gwB"; do
	is_nfsec "$(impl_of "$ns")" && sas "$ns" update "mss off"
done
c0=$(counter mss_clamped)
connections 1460 65536
check_eq "mss_clamped with mss off" "$(($(counter mss_clamped) - c0))" 0
pass "mss off: the hosts' own 1460 passes untouched"

# 4: ESP in UDP
ENCAP="encap espinudp 4500 4500 0.0.0.0"
for ns in "$gwA" "$gwB"; do
	is_nfsec "$(impl_of "$ns")" || encap_socket "$ns" 4500
	sa "$ns" "$(impl_of "$ns")" flush
	sas "$ns" add
done
ip netns exec "$h1" ping -c 1 -W 5 10.2.0.2 >/dev/null || fail "ping h1 -> h2 through ESP in UDP"
automatic $TUNNEL_MSS_UDP "udp port 4500 and ip[28:4] != 0"
exit 0
