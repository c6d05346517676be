#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Site to site, dual stack: two gateways tunnel 10.1.0.0/24 <-> 10.2.0.0/24 over their IPv4 WAN
# addresses and fd01::/64 <-> fd02::/64 over their IPv6 ones, in ESP tunnel mode
# (rfc4106(gcm(aes)), 128-bit key + salt, ICV 128), out/in/fwd policies for each family on each.
#
#   h1 10.1.0.2     10.1.0.1 gwA 10.0.0.1          10.0.0.2 gwB 10.2.0.1     10.2.0.2 h2
#      fd01::2  ---  fd01::1      fd00::1 ==ESP==  fd00::2      fd02::1  ---  fd02::2
#
# gwA is LEFT, gwB RIGHT (nfsec or xfrm each). For each family: pings each way, 5 of them with
# nfsec's counters moving by exactly 5, and 256 KiB over TCP each way with matching sha256. Captured
# during the transfers: the hosts' links carry no ESP; between the gateways every IPv4 and IPv6
# packet (but ICMPv6's neighbour discovery) is ESP of that family's SPIs, each direction its own;
# nfsec counted exactly the ESP on the wire; no drop counter moved.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
run_combos "nfsec/xfrm nfsec/nfsec"
need_cmd tcpdump socat python3

ns_create h1 gwA gwB h2
veth_pair "$h1" eth0 10.1.0.2/24 "$gwA" lan0 10.1.0.1/24
veth_pair "$gwA" wan0 10.0.0.1/24 "$gwB" wan0 10.0.0.2/24
veth_pair "$gwB" lan0 10.2.0.1/24 "$h2" eth0 10.2.0.2/24
_addr_add "$h1" eth0 fd01::2/64
_addr_add "$gwA" lan0 fd01::1/64
_addr_add "$gwA" wan0 fd00::1/64
_addr_add "$gwB" wan0 fd00::2/64
_addr_add "$gwB" lan0 fd02::1/64
_addr_add "$h2" eth0 fd02::2/64
ip -n "$h1" route add default via 10.1.0.1
ip -n "$h2" route add default via 10.2.0.1
ip -n "$h1" -6 route add default via fd01::1
ip -n "$h2" -6 route add default via fd02::1
ip -n "$gwA" route add 10.2.0.0/24 via 10.0.0.2
ip -n "$gwB" route add 10.1.0.0/24 via 10.0.0.1
ip -n "$gwA" -6 route add fd02::/64 via fd00::2
ip -n "$gwB" -6 route add fd01::/64 via fd00::1
for ns in "$gwA" "$gwB"; do
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
done

KEY_AB=0x1111111111111111111111111111111122222222
KEY_BA=0x3333333333333333333333333333333344444444
# Per family: the gateways' WAN addresses, the sites, the hosts, the SPIs A->B and B->A (their
# reqids are the SPIs' low digit), the capture's filter for that family's packets.
declare -A WAN_A=([4]=10.0.0.1 [6]=fd00::1) WAN_B=([4]=10.0.0.2 [6]=fd00::2)
declare -A SITE_A=([4]=10.1.0.0/24 [6]=fd01::/64) SITE_B=([4]=10.2.0.0/24 [6]=fd02::/64)
declare -A HOST_1=([4]=10.1.0.2 [6]=fd01::2) HOST_2=([4]=10.2.0.2 [6]=fd02::2)
declare -A SPI_AB=([4]=0x1001 [6]=0x3003) SPI_BA=([4]=0x2002 [6]=0x4004)
declare -A L3=([4]="ip" [6]="ip6 and not icmp6 and not ip6 multicast") SPIAT=([4]=20 [6]=40)

# gateway NS IMPL FAMILY: the same SAs on both, policies mirrored
gateway()
{
	local ns=$1 impl=$2 f=$3 me peer mine theirs out in
	sa "$ns" "$impl" add src "${WAN_A[$f]}" dst "${WAN_B[$f]}" proto esp spi "${SPI_AB[$f]}" \
		reqid $((SPI_AB[$f] & 0xf)) mode tunnel aead 'rfc4106(gcm(aes))' $KEY_AB 128
	sa "$ns" "$impl" add src "${WAN_B[$f]}" dst "${WAN_A[$f]}" proto esp spi "${SPI_BA[$f]}" \
		reqid $((SPI_BA[$f] & 0xf)) mode tunnel aead 'rfc4106(gcm(aes))' $KEY_BA 128
	if [[ $ns == "$gwA" ]]; then
		me=${WAN_A[$f]} peer=${WAN_B[$f]} mine=${SITE_A[$f]} theirs=${SITE_B[$f]}
		out=$((SPI_AB[$f] & 0xf)) in=$((SPI_BA[$f] & 0xf))
	else
		me=${WAN_B[$f]} peer=${WAN_A[$f]} mine=${SITE_B[$f]} theirs=${SITE_A[$f]}
		out=$((SPI_BA[$f] & 0xf)) in=$((SPI_AB[$f] & 0xf))
	fi
	pol "$ns" "$impl" add src "$mine" dst "$theirs" dir out \
		tmpl src "$me" dst "$peer" proto esp reqid $out mode tunnel
	pol "$ns" "$impl" add src "$theirs" dst "$mine" dir fwd \
		tmpl src "$peer" dst "$me" proto esp reqid $in mode tunnel
	pol "$ns" "$impl" add src "$theirs" dst "$mine" dir in \
		tmpl src "$peer" dst "$me" proto esp reqid $in mode tunnel
}
for f in 4 6; do
	gateway "$gwA" "$LEFT" $f
	gateway "$gwB" "$RIGHT" $f
done

# counters of every nfsec gateway: esp_lib.sh's snap and delta, gwA and gwB its two sides
a=$gwA b=$gwB NAMES="tx_packets rx_packets"
impl_of() { [[ $1 == "$gwA" ]] && echo "$LEFT" || echo "$RIGHT"; }
name_of() { [[ $1 == "$gwA" ]] && echo "gwA ($LEFT)" || echo "gwB ($RIGHT)"; }

tmp=$(mktemp -d)
CAP_SNAPLEN=128
defer "rm -rf $tmp"

# 1. pings, with exact counters on the nfsec side(s)
for f in 4 6; do
	ip netns exec "$h1" ping -c 1 -W 5 "${HOST_2[$f]}" >/dev/null || true # may need ND/ARP first
	snap
	ip netns exec "$h1" ping -c 5 -i 0.2 -W 5 "${HOST_2[$f]}" >"$tmp/ping" ||
		fail "IPv$f: h1 -> h2 ping through the tunnel: $(tail -n 3 "$tmp/ping")"
	grep -q " 0% packet loss" "$tmp/ping" || fail "IPv$f: ping lost packets: $(tail -n 2 "$tmp/ping")"
	pass "IPv$f: ping h1 -> h2 through the tunnel, 5/5"
	for ns in "$gwA" "$gwB"; do
		is_nfsec "$(impl_of "$ns")" || continue
		check_eq "IPv$f: $(name_of "$ns") tx_packets after 5 pings" "$(delta "$ns" tx_packets)" 5
		check_eq "IPv$f: $(name_of "$ns") rx_packets after 5 pings" "$(delta "$ns" rx_packets)" 5
	done
	ip netns exec "$h2" ping -c 3 -i 0.2 -W 5 "${HOST_1[$f]}" >/dev/null ||
		fail "IPv$f: h2 -> h1 ping through the tunnel"
	pass "IPv$f: ping h2 -> h1 through the tunnel"
done

# 2. TCP each way in each family, captured on all three links
cap_start "$h1" eth0 "$tmp/h1.pcap"
cap_start "$h2" eth0 "$tmp/h2.pcap"
# each gateway's outgoing packets: together, everything on the wire between them (a capture
# of incoming packets would also show what xfrm re-injects, decrypted, on the same device)
cap_start "$gwA" wan0 "$tmp/wanA.pcap" "-Q out"
cap_start "$gwB" wan0 "$tmp/wanB.pcap" "-Q out"
snap
for f in 4 6; do
	xfer "$h1" "$h2" "${HOST_2[$f]}" 5001 262144
	xfer "$h2" "$h1" "${HOST_1[$f]}" 5002 262144
done
cap_stop
for c in h1 h2 wanA wanB; do
	grep -q "^0 packets dropped by kernel" "$tmp/$c.pcap.log" ||
		fail "tcpdump on the $c link dropped packets: $(cat "$tmp/$c.pcap.log")"
done

check_eq "ESP packets on h1's link" "$(cap_count "$tmp/h1.pcap" "esp")" 0
check_eq "ESP packets on h2's link" "$(cap_count "$tmp/h2.pcap" "esp")" 0
sent_a=0 sent_b=0
for f in 4 6; do
	l3=${L3[$f]}
	h1_tcp=$(cap_count "$tmp/h1.pcap" "$l3 and tcp")
	h2_tcp=$(cap_count "$tmp/h2.pcap" "$l3 and tcp")
	((h1_tcp > 200 && h2_tcp > 200)) ||
		fail "IPv$f: too few TCP packets seen on the hosts' links: $h1_tcp, $h2_tcp"
	wan_all=$(($(cap_count "$tmp/wanA.pcap" "$l3") + $(cap_count "$tmp/wanB.pcap" "$l3")))
	wan_ab=$(cap_count "$tmp/wanA.pcap" "$l3 and esp and src ${WAN_A[$f]} and dst ${WAN_B[$f]}")
	wan_ba=$(cap_count "$tmp/wanB.pcap" "$l3 and esp and src ${WAN_B[$f]} and dst ${WAN_A[$f]}")
	wan_esp=$((wan_ab + wan_ba))
	((wan_esp > 400)) || fail "IPv$f: only $wan_esp ESP packets between the gateways"
	if ((wan_all != wan_esp)); then
		for c in wanA wanB; do
			tcpdump -r "$tmp/$c.pcap" -n -v "$l3 and not esp" 2>/dev/null | head -n 6 | sed 's/^/# /'
		done
	fi
	check_eq "IPv$f packets between the gateways that are not ESP between them" "$((wan_all - wan_esp))" 0
	# the SPIs on the wire are the configured ones, each direction its own
	at=${SPIAT[$f]}
	check_eq "IPv$f: gwA->gwB ESP with SPI ${SPI_AB[$f]}" \
		"$(cap_count "$tmp/wanA.pcap" "$l3 and esp and ${l3%% *}[$at:4] = ${SPI_AB[$f]}")" "$wan_ab"
	check_eq "IPv$f: gwB->gwA ESP with SPI ${SPI_BA[$f]}" \
		"$(cap_count "$tmp/wanB.pcap" "$l3 and esp and ${l3%% *}[$at:4] = ${SPI_BA[$f]}")" "$wan_ba"
	pass "IPv$f wire: $wan_esp ESP packets between the gateways ($wan_ab A->B, $wan_ba B->A), nothing else"
	sent_a=$((sent_a + wan_ab)) sent_b=$((sent_b + wan_ba))
done

# nfsec gateways encapsulated / decapsulated exactly what the wire shows
for ns in "$gwA" "$gwB"; do
	is_nfsec "$(impl_of "$ns")" || continue
	sent=$sent_a got=$sent_b
	[[ $ns == "$gwB" ]] && sent=$sent_b got=$sent_a
	check_eq "$(name_of "$ns") tx_packets during the transfers = ESP it put on the wire" "$(delta "$ns" tx_packets)" "$sent"
	check_eq "$(name_of "$ns") rx_packets during the transfers = ESP the wire brought" "$(delta "$ns" rx_packets)" "$got"
	for c in rx_auth_fail rx_replay_dup rx_replay_old rx_bad_trailer rx_too_short rx_policy_mismatch \
		 tx_no_sa tx_error; do
		check_eq "$c on $(name_of "$ns")" "$(nstat "$ns" $c)" 0
	done
done
exit 0
