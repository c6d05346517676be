#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Site to site: two gateways tunnel 10.1.0.0/24 <-> 10.2.0.0/24 in ESP tunnel mode
# (rfc4106(gcm(aes)), 128-bit key + salt, ICV 128), out/in/fwd policies on each.
#
#   h1 (10.1.0.2) --- (10.1.0.1) gwA (10.0.0.1) ==ESP== (10.0.0.2) gwB (10.2.0.1) --- (10.2.0.2) h2
#
# gwA is LEFT, gwB RIGHT (nfsec or xfrm each). Pings and a 2 MB TCP transfer each way with
# matching sha256; the hosts' links carry no ESP, the gateways' link only ESP; nfsec's counters
# move by exactly the pings.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
run_combos "nfsec/xfrm nfsec/nfsec"
need_cmd tcpdump socat python3

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

KEY_AB=0x1111111111111111111111111111111122222222
KEY_BA=0x3333333333333333333333333333333344444444
SPI_AB=0x1001 SPI_BA=0x2002

# gateway NS IMPL: the same SAs on both, policies mirrored
gateway()
{
	local ns=$1 impl=$2 me peer mine theirs
	sa "$ns" "$impl" add src 10.0.0.1 dst 10.0.0.2 proto esp spi $SPI_AB reqid 1 mode tunnel \
		aead 'rfc4106(gcm(aes))' $KEY_AB 128
	sa "$ns" "$impl" add src 10.0.0.2 dst 10.0.0.1 proto esp spi $SPI_BA reqid 2 mode tunnel \
		aead 'rfc4106(gcm(aes))' $KEY_BA 128
	if [[ $ns == "$gwA" ]]; then
		me=10.0.0.1 peer=10.0.0.2 mine=10.1.0.0/24 theirs=10.2.0.0/24 out=1 in=2
	else
		me=10.0.0.2 peer=10.0.0.1 mine=10.2.0.0/24 theirs=10.1.0.0/24 out=2 in=1
	fi
	pol "$ns" "$impl" add src $mine dst $theirs dir out \
		tmpl src $me dst $peer proto esp reqid $out mode tunnel
	pol "$ns" "$impl" add src $theirs dst $mine dir fwd \
		tmpl src $peer dst $me proto esp reqid $in mode tunnel
	pol "$ns" "$impl" add src $theirs dst $mine dir in \
		tmpl src $peer dst $me proto esp reqid $in mode tunnel
}
gateway "$gwA" "$LEFT"
gateway "$gwB" "$RIGHT"

# counters of every nfsec gateway: esp_lib.sh's snap and delta, gwA and gwB its two sides
a=$gwA b=$gwB NAMES="tx_packets rx_packets"
impl_of() { [[ $1 == "$gwA" ]] && echo "$LEFT" || echo "$RIGHT"; }

tmp=$(mktemp -d)
CAP_SNAPLEN=128
defer "rm -rf $tmp"

# 1. pings, with exact counters on the nfsec side(s)
snap
ip netns exec "$h1" ping -c 1 -W 5 10.2.0.2 >/dev/null || true # first one may need ARP, fine
snap
ip netns exec "$h1" ping -c 5 -i 0.2 -W 5 10.2.0.2 >"$tmp/ping" ||
	fail "h1 -> h2 ping through the tunnel: $(tail -n 3 "$tmp/ping")"
grep -q " 0% packet loss" "$tmp/ping" || fail "ping lost packets: $(tail -n 2 "$tmp/ping")"
pass "ping h1 -> h2 through the tunnel, 5/5"
for ns in "$gwA" "$gwB"; do
	is_nfsec "$(impl_of "$ns")" || continue
	name=gwA; [[ $ns == "$gwB" ]] && name=gwB
	check_eq "$name ($(impl_of "$ns")) tx_packets after 5 pings" "$(delta "$ns" tx_packets)" 5
	check_eq "$name ($(impl_of "$ns")) rx_packets after 5 pings" "$(delta "$ns" rx_packets)" 5
done
ip netns exec "$h2" ping -c 3 -i 0.2 -W 5 10.1.0.2 >/dev/null || fail "h2 -> h1 ping through the tunnel"
pass "ping h2 -> h1 through the tunnel"

# 2. TCP each way, captured on all three links
cap_start "$h1" eth0 "$tmp/h1.pcap"
cap_start "$h2" eth0 "$tmp/h2.pcap"
# each gateway's outgoing packets: together, everything on the wire between them (a capture
# of incoming packets would also show what xfrm re-injects, decrypted, on the same device)
cap_start "$gwA" wan0 "$tmp/wanA.pcap" "-Q out ip"
cap_start "$gwB" wan0 "$tmp/wanB.pcap" "-Q out ip"
snap
xfer "$h1" "$h2" 10.2.0.2 5001 2097152
xfer "$h2" "$h1" 10.1.0.2 5002 2097152
cap_stop
for f in h1 h2 wanA wanB; do
	grep -q "^0 packets dropped by kernel" "$tmp/$f.pcap.log" ||
		fail "tcpdump on the $f link dropped packets: $(cat "$tmp/$f.pcap.log")"
done

h1_tcp=$(cap_count "$tmp/h1.pcap" "tcp")
h2_tcp=$(cap_count "$tmp/h2.pcap" "tcp")
((h1_tcp > 1000 && h2_tcp > 1000)) || fail "too few TCP packets seen on the hosts' links: $h1_tcp, $h2_tcp"
check_eq "ESP packets on h1's link" "$(cap_count "$tmp/h1.pcap" "esp")" 0
check_eq "ESP packets on h2's link" "$(cap_count "$tmp/h2.pcap" "esp")" 0
wan_ip=$(($(cap_count "$tmp/wanA.pcap" "ip") + $(cap_count "$tmp/wanB.pcap" "ip")))
wan_ab=$(cap_count "$tmp/wanA.pcap" "esp and src 10.0.0.1 and dst 10.0.0.2")
wan_ba=$(cap_count "$tmp/wanB.pcap" "esp and src 10.0.0.2 and dst 10.0.0.1")
wan_esp=$((wan_ab + wan_ba))
((wan_esp > 1000)) || fail "only $wan_esp ESP packets between the gateways"
if ((wan_ip != wan_esp)); then
	for f in wanA wanB; do
		tcpdump -r "$tmp/$f.pcap" -n -v "not (esp and net 10.0.0.0/24)" 2>/dev/null | head -n 6 | sed 's/^/# /'
	done
fi
check_eq "IPv4 packets between the gateways that are not ESP between them" "$((wan_ip - wan_esp))" 0
# the SPIs on the wire are the configured ones, each direction its own
check_eq "gwA->gwB ESP with SPI $SPI_AB" "$(cap_count "$tmp/wanA.pcap" "esp and ip[20:4] = $SPI_AB")" "$wan_ab"
check_eq "gwB->gwA ESP with SPI $SPI_BA" "$(cap_count "$tmp/wanB.pcap" "esp and ip[20:4] = $SPI_BA")" "$wan_ba"
pass "wire: $wan_esp ESP packets between the gateways ($wan_ab A->B, $wan_ba B->A), nothing else; no ESP on the hosts' links"

# nfsec gateways encapsulated / decapsulated exactly what the wire shows
for ns in "$gwA" "$gwB"; do
	is_nfsec "$(impl_of "$ns")" || continue
	name=gwA sent=$wan_ab got=$wan_ba
	[[ $ns == "$gwB" ]] && name=gwB sent=$wan_ba got=$wan_ab
	check_eq "$name (nfsec) tx_packets during the transfers = ESP it put on the wire" "$(delta "$ns" tx_packets)" "$sent"
	check_eq "$name (nfsec) rx_packets during the transfers = ESP the wire brought" "$(delta "$ns" rx_packets)" "$got"
done
for ns in "$gwA" "$gwB"; do
	is_nfsec "$(impl_of "$ns")" || continue
	for c in rx_auth_fail rx_replay_dup rx_replay_old rx_bad_trailer rx_too_short rx_policy_mismatch \
		 tx_no_sa tx_error; do
		check_eq "$c on $(impl_of "$ns") gateway" "$(nstat "$ns" $c)" 0
	done
done
exit 0
