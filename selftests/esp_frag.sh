#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fragments and protection. Inner fragments that come out of a tunnel SA are reassembled only
# with fragments that came through the same SA, and the selector and policy are checked on the
# whole datagram:
#   - a datagram sent through the tunnel in two fragments is delivered although the in policy
#     names ports (only the first fragment has them);
#   - head through the tunnel and tail in clear, or the reverse: nothing is delivered;
# and a gateway whose out policy names ports sends no fragment of a datagram it protects in
# clear (the ports are in the first fragment only: it reassembles, then encrypts the whole).
# The sending side is native xfrm with a marked out policy, so that the test can choose, per
# fragment, whether it goes through the tunnel.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
need_module
need_cmd python3 tcpdump

probe=$SELFTESTS_DIR/udp_probe.py
GCM="aead rfc4106(gcm(aes))"
KEY_AB=0x$(printf '%040x' 0xab)
KEY_BA=0x$(printf '%040x' 0xba)

tunnel_hosts
na() { ip netns exec "$a" "$@"; }
nb() { ip netns exec "$b" "$@"; }
# Incomplete datagrams expire in a second here, not thirty.
nb sysctl -qw net.ipv4.ipfrag_time=1

ip -n "$a" xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x100 reqid 1 mode tunnel \
	$GCM $KEY_AB 128
ip -n "$a" xfrm policy add src 10.1.0.1 dst 10.2.0.1 dir out mark 1 mask 0xffffffff \
	tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 1 mode tunnel
nb nfsec sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x100 reqid 1 mode tunnel replay-window 64 \
	$GCM $KEY_AB 128
nb nfsec sa add src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x200 reqid 2 mode tunnel $GCM $KEY_BA 128
nb nfsec policy add src 10.1.0.1 dst 10.2.0.1 proto udp dport 9000 dir in \
	tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 1 mode tunnel

log=$(mktemp)
defer rm -f "$log"
udp_listen "$b" 10.2.0.1 9000 "$log"
received() { grep -c "^2000 " "$log" || true; }
reasm_fails() { nb nstat -az IpReasmFails | awk '$1 == "IpReasmFails" { print $2 }'; }

# Mixed: head through the tunnel, tail in clear; then the reverse.
for marks in 1,0 0,1; do
	f0=$(reasm_fails) r0=$(sastat "$b" 0x100 rx_frag_reasm) m0=$(nstat "$b" rx_unprotected)
	before=$(received)
	na python3 "$probe" frags 10.1.0.1 10.2.0.1 9000 2000 "$marks" 20
	# Each of the 20 leaves two incomplete queues (the SA's, the stack's), failed on expiry,
	# unless they were reassembled together and delivered.
	settled() { (($(reasm_fails) >= f0 + 40 || $(received) > before)); }
	wait_for 10 settled
	check_eq "datagrams delivered, fragments marked $marks (1: through the tunnel)" \
		"$(($(received) - before))" 0
	check_eq "fragments through the SA, held apart ($marks)" \
		"$(($(sastat "$b" 0x100 rx_frag_reasm) - r0))" 20
	pass "reassembly failures +$(($(reasm_fails) - f0)) ($marks)"
done

# Whole through the tunnel, in two fragments.
r0=$(sastat "$b" 0x100 rx_frag_reasm)
na python3 "$probe" frags 10.1.0.1 10.2.0.1 9000 2000 1,1 20
all_in() { [[ $(received) == 20 ]]; }
wait_for 10 all_in
check_eq "datagrams delivered, sent through the tunnel in 2 fragments" "$(received)" 20
check_eq "fragments reassembled by the SA" "$(($(sastat "$b" 0x100 rx_frag_reasm) - r0))" 40

# The out side: b protects only UDP to port 9000, and forwards for host h behind it a datagram
# of 3000 bytes that h fragmented. No fragment of it may leave b in clear.
ns_create h
veth_pair "$h" eth0 10.2.1.2/24 "$b" eth1 10.2.1.1/24
ip -n "$h" route add default via 10.2.1.1
nb sysctl -qw net.ipv4.ip_forward=1
ip -n "$a" xfrm state add src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x200 reqid 2 mode tunnel \
	$GCM $KEY_BA 128
ip -n "$a" xfrm policy add src 10.2.1.0/24 dst 10.1.0.1 dir in \
	tmpl src 10.0.0.2 dst 10.0.0.1 proto esp reqid 2 mode tunnel
nb nfsec policy add src 10.2.1.0/24 dst 10.1.0.1 proto udp dport 9000 dir out \
	tmpl src 10.0.0.2 dst 10.0.0.1 proto esp reqid 2 mode tunnel
alog=$(mktemp)
defer rm -f "$alog"
udp_listen "$a" 10.1.0.1 9000 "$alog"
cap=$(mktemp -d)
defer rm -rf "$cap"
cap_start "$b" eth0 "$cap/out.pcap"
t0=$(nstat "$b" tx_frag_reasm) p0=$(sastat "$b" 0x200 tx_packets)
ip netns exec "$h" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"x" * 3000, ("10.1.0.1", 9000))'
want="3000 $(python3 -c 'import hashlib; print(hashlib.sha256(b"x" * 3000).hexdigest())')"
a_got() { grep -q "^$want\$" "$alog"; }
wait_for 10 a_got
cap_stop
# (xfrm on a would deliver it even if its tail came in clear: it takes the reassembled
# datagram as protected when its head was. The wire is what tells.)
check_eq "IPv4 packets on the wire that are not ESP" "$(cap_count "$cap/out.pcap" "ip and not esp")" 0
check_eq "ESP packets (fragments) on the wire" "$(cap_count "$cap/out.pcap" "esp")" 3
pass "the 3000-byte datagram arrived whole through the tunnel"
check_eq "fragments reassembled before the out policy" "$(($(nstat "$b" tx_frag_reasm) - t0))" 3
check_eq "packets the SA protected" "$(($(sastat "$b" 0x200 tx_packets) - p0))" 1
