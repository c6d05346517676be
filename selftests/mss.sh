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
#   2. 512 KiB each way with DF set (Linux's default): sha256 matches, not one ICMP
#      fragmentation-needed on either host's link, tx_frag_needed unchanged, no outer packet
#      over 1500 bytes and no fragment between the gateways;
#   3. `mss 1300` on nfsec's SAs: the far host sees 1300; `mss off`: it sees 1460 and
#      mss_clamped does not move;
#   4. the same SAs with `encap espinudp 4500 4500` (ESP in UDP, the xfrm gateway holding a
#      UDP_ENCAP socket): 8 bytes less, so 1398; as 1 and 2, the full-size packets between the
#      gateways being UDP 4500 of exactly 1500 bytes.
#   5. IPv6 (fd01::2 behind gwA, fd02::2 behind gwB, fd00::1 - fd00::2 between the gateways),
#      as in Documentation/mss.rst, 20 bytes more for each IPv6 header, outer or inner:
#        6in6: 1500 - 40 - 8 - 8 - 16 = 1428, a multiple of 4, - 2 = 1426 - 40 - 20 = 1366;
#        4in6: 1426 - 20 (inner IPv4) - 20 = 1386;
#        6in4: 1500 - 20 - 32 = 1448 - 2 = 1446 - 40 (inner IPv6) - 20 = 1386.
#      An IPv6 tunnel with flag af-unspec carries IPv6 and IPv4 (6in6, 4in6), then an IPv4 one
#      with flag af-unspec carries IPv6 (6in4): per pair, one connection h1 -> h2 of 128 KB
#      (nfsec on gwA clamps its SYN going into the tunnel and its SYN-ACK coming out), the SYN
#      and the SYN-ACK arriving with exactly that MSS, mss_clamped +2, not one ICMP(v6) too big
#      on the hosts' links, no outer packet over 1500 bytes nor fragment between the gateways,
#      and more than 50 of exactly 1500. Left out for time: ESP in UDP
#      over IPv6 (the UDP header is counted the same way as over IPv4, step 4) and IPv6
#      transport mode (1406, as the module's self-tests check: this test has no transport case).
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
for a in "$h1 eth0 fd01::2" "$gwA lan0 fd01::1" "$gwA wan0 fd00::1" "$gwB wan0 fd00::2" \
	"$gwB lan0 fd02::1" "$h2 eth0 fd02::2"; do
	read -r ns dev addr <<<"$a"
	ip -n "$ns" addr add "$addr/64" dev "$dev" nodad
done
ip -n "$h1" -6 route add default via fd01::1
ip -n "$h2" -6 route add default via fd02::1
ip -n "$gwA" -6 route add fd02::/64 via fd00::2
ip -n "$gwB" -6 route add fd01::/64 via fd00::1
for ns in "$gwA" "$gwB"; do
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
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

# syn_mss PCAP FLAGS: the MSS options of the packets with exactly these SYN/ACK flags; over
# IPv6 (INNER=6) pcap has no tcp[], and the TCP header follows the IPv6 one
INNER=4
syn_mss()
{
	local flags="tcp[tcpflags]"
	[[ $INNER == 6 ]] && flags="ip6 proto 6 and ip6[53]"
	tcpdump -r "$1" -n -v "$flags & (tcp-syn|tcp-ack) == $2" 2>/dev/null |
		grep -oE 'mss [0-9]+' | awk '{ print $2 }' | sort -u | tr '\n' ' ' | sed 's/ $//'
}

tmp=$(mktemp -d)
defer "rm -rf $tmp"
CAP_SNAPLEN=128
ip netns exec "$h1" ping -c 2 -W 5 10.2.0.2 >/dev/null || fail "ping h1 -> h2 through the tunnel"
ip netns exec "$h2" ping -c 1 -W 5 10.1.0.2 >/dev/null || fail "ping h2 -> h1 through the tunnel"

# connections WANT BYTES [ONE]: one connection each way (with ONE, h1 -> h2 only), captured on
# both hosts; assert the MSS each host sees in the other's SYN and SYN-ACK. The hosts' addresses
# of family INNER (4 or 6); the outer packets are captured of family OUTER.
OUTER=4
connections()
{
	local want=$1 bytes=$2 one=${3:-} to_h1=10.1.0.2 to_h2=10.2.0.2 ns
	[[ $INNER == 6 ]] && to_h1=fd01::2 to_h2=fd02::2
	cap_start "$h1" eth0 "$tmp/h1.pcap" "tcp or icmp or icmp6"
	cap_start "$h2" eth0 "$tmp/h2.pcap" "tcp or icmp or icmp6"
	cap_start "$gwA" wan0 "$tmp/wan.pcap" "$([[ $OUTER == 6 ]] && echo ip6 || echo ip)"
	# without clamping, TCP learns the tunnel's PMTU from the gateway and the next SYN-ACK
	# would offer what fits on its own: each connection starts from what the hosts' links say
	for ns in "$h1" "$h2"; do
		ip -n "$ns" route flush cache
		ip -n "$ns" -6 route flush cache
	done
	xfer "$h1" "$h2" $to_h2 5001 "$bytes"
	if [[ -z $one ]]; then
		for ns in "$h1" "$h2"; do
			ip -n "$ns" route flush cache
			ip -n "$ns" -6 route flush cache
		done
		xfer "$h2" "$h1" $to_h1 5002 "$bytes"
	fi
	cap_stop
	# h2 receives h1's SYN (port 5001) and h1's SYN-ACK (port 5002); h1 the converse
	check_eq "MSS of h1's SYN as h2 sees it" "$(syn_mss "$tmp/h2.pcap" "tcp-syn and dst port 5001")" "$want"
	check_eq "MSS of h2's SYN-ACK as h1 sees it" \
		"$(syn_mss "$tmp/h1.pcap" "(tcp-syn|tcp-ack) and src port 5001")" "$want"
	[[ -z $one ]] || return 0
	check_eq "MSS of h1's SYN-ACK as h2 sees it" \
		"$(syn_mss "$tmp/h2.pcap" "(tcp-syn|tcp-ack) and src port 5002")" "$want"
	check_eq "MSS of h2's SYN as h1 sees it" "$(syn_mss "$tmp/h1.pcap" "tcp-syn and dst port 5002")" "$want"
}

# automatic MSS WANT, 512 KiB each way; WIRE: the pcap filter of the outer packets
automatic()
{
	local want=$1 wire=$2 c0 f0 full
	c0=$(counter mss_clamped) f0=$(counter tx_frag_needed)
	connections "$want" 524288
	check_eq "mss_clamped of the nfsec gateways, 2 connections" "$(($(counter mss_clamped) - c0))" 4
	check_eq "ICMP need-to-frag on the hosts' links" \
		"$(($(cap_count "$tmp/h1.pcap" "icmp[icmptype] = 3 and icmp[icmpcode] = 4") +
		    $(cap_count "$tmp/h2.pcap" "icmp[icmptype] = 3 and icmp[icmpcode] = 4")))" 0
	check_eq "tx_frag_needed of the nfsec gateways" "$(($(counter tx_frag_needed) - f0))" 0
	check_eq "outer packets over 1500 bytes or fragments between the gateways" \
		"$(cap_count "$tmp/wan.pcap" "ip[2:2] > 1500 or ip[6:2] & 0x3fff != 0")" 0
	full=$(cap_count "$tmp/wan.pcap" "$wire and ip[2:2] = 1500")
	((full > 500)) || fail "only $full packets ($wire) of exactly 1500 bytes: the clamped MSS does not fill the link"
	pass "512 KiB each way at MSS $want: $full packets ($wire) of exactly 1500 bytes, no fragmentation"
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

# 5: the other family pairs. af_sas OUTER INNER...: fresh SAs of family OUTER with flag
# af-unspec (mss auto), and on both gateways policies for each INNER family
af_sas()
{
	local outer=$1 a=10.0.0.1 b=10.0.0.2 ns impl f sel_a sel_b dir
	shift
	[[ $outer == 6 ]] && a=fd00::1 b=fd00::2
	for ns in "$gwA" "$gwB"; do
		impl=$(impl_of "$ns")
		sa "$ns" "$impl" flush
		pol "$ns" "$impl" flush
		sa "$ns" "$impl" add src $a dst $b proto esp spi 0x1001 reqid 1 mode tunnel \
			flag af-unspec aead 'rfc4106(gcm(aes))' $KEY_AB 128
		sa "$ns" "$impl" add src $b dst $a proto esp spi 0x2002 reqid 2 mode tunnel \
			flag af-unspec aead 'rfc4106(gcm(aes))' $KEY_BA 128
	done
	for f; do
		sel_a=10.1.0.0/24 sel_b=10.2.0.0/24
		[[ $f == 6 ]] && sel_a=fd01::/64 sel_b=fd02::/64
		pol "$gwA" "$LEFT" add src $sel_a dst $sel_b dir out \
			tmpl src $a dst $b proto esp reqid 1 mode tunnel
		pol "$gwB" "$RIGHT" add src $sel_b dst $sel_a dir out \
			tmpl src $b dst $a proto esp reqid 2 mode tunnel
		for dir in fwd in; do
			pol "$gwA" "$LEFT" add src $sel_b dst $sel_a dir $dir \
				tmpl src $b dst $a proto esp reqid 2 mode tunnel
			pol "$gwB" "$RIGHT" add src $sel_a dst $sel_b dir $dir \
				tmpl src $a dst $b proto esp reqid 1 mode tunnel
		done
	done
}

# pair WHAT WANT: one connection h1 -> h2 of 128 KB at MSS WANT, INNER inside OUTER. It takes
# both of nfsec's ways on gwA: the SYN into the tunnel, the SYN-ACK out of it.
pair()
{
	local what=$1 want=$2 c0 wire big frag full
	c0=$(counter mss_clamped)
	connections "$want" 131072 one
	check_eq "$what: mss_clamped of the nfsec gateways, 1 connection" \
		"$(($(counter mss_clamped) - c0))" 2
	check_eq "$what: ICMP need-to-frag or ICMPv6 too big on the hosts' links" \
		"$(($(cap_count "$tmp/h1.pcap" "icmp[icmptype] = 3 or (icmp6 and ip6[40] = 2)") +
		    $(cap_count "$tmp/h2.pcap" "icmp[icmptype] = 3 or (icmp6 and ip6[40] = 2)")))" 0
	if [[ $OUTER == 6 ]]; then
		wire="ip6 proto 50" big="ip6[4:2] > 1460" frag="ip6 proto 44" full="ip6[4:2] = 1460"
	else
		wire="esp" big="ip[2:2] > 1500" frag="ip[6:2] & 0x3fff != 0" full="ip[2:2] = 1500"
	fi
	check_eq "$what: outer packets over 1500 bytes or fragments between the gateways" \
		"$(cap_count "$tmp/wan.pcap" "$big or $frag")" 0
	full=$(cap_count "$tmp/wan.pcap" "$wire and $full")
	((full > 50)) || fail "$what: only $full ESP packets of exactly 1500 bytes: the MSS does not fill the link"
	pass "$what: MSS $want in SYN and SYN-ACK, $full ESP packets of exactly 1500 bytes"
}

t5=$SECONDS
OUTER=6
af_sas 6 6 4
ip netns exec "$h1" ping -c 1 -W 5 fd02::2 >/dev/null || fail "ping h1 -> h2 through the IPv6 tunnel"
INNER=6 pair 6in6 1366
INNER=4 pair 4in6 1386
OUTER=4
af_sas 4 6
ip netns exec "$h1" ping -c 1 -W 5 fd02::2 >/dev/null || fail "ping h1 -> h2, IPv6 through the IPv4 tunnel"
INNER=6 pair 6in4 1386
echo "# IPv6 pairs in $((SECONDS - t5)) s"
exit 0
