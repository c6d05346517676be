#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What a decapsulated packet is checked against, besides its ICV:
#   - transport mode: a peer holding its own SA cannot speak for another peer with it. Host A
#     sends, with A's SA, a datagram whose source is peer B's address; C's in policy for B
#     has a template that names no reqid, so only the SA's own peer address tells them apart.
#   - tunnel mode: the policy is that of the direction the packet takes, decided by routing. A
#     datagram to the broadcast address of the gateway's LAN comes through the tunnel; the
#     gateway has a fwd policy for the LAN and no in policy: it must not receive it.
# Each with a control that the same packet is delivered when it is allowed.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
need_module
need_cmd python3

GCM="aead rfc4106(gcm(aes))"
KEY_A=0x$(printf '%040x' 0xa)
KEY_B=0x$(printf '%040x' 0xb)
KEY_T=0x$(printf '%040x' 0xc)

send() # NS SRC DST: one datagram "hello" to DST:9000 from SRC
{
	ip netns exec "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
s.sendto(b"hello", (sys.argv[2], 9000))' "$2" "$3"
}

got() { grep -c '^5 ' "$1" || true; }

# ---- transport mode: A forges B's source
ns_create A C
veth_pair "$A" eth0 10.0.0.1/24 "$C" eth0 10.0.0.3/24
ip -n "$A" addr add 10.0.0.2/24 dev eth0
nc() { ip netns exec "$C" "$@"; }
nc nfsec sa add src 10.0.0.1 dst 10.0.0.3 proto esp spi 0xa1 reqid 1 mode transport $GCM $KEY_A 128
nc nfsec sa add src 10.0.0.2 dst 10.0.0.3 proto esp spi 0xb1 reqid 2 mode transport $GCM $KEY_B 128
nc nfsec policy add src 10.0.0.1 dst 10.0.0.3 dir in tmpl proto esp reqid 1 mode transport
nc nfsec policy add src 10.0.0.2 dst 10.0.0.3 dir in tmpl proto esp mode transport
clog=$(mktemp)
defer rm -f "$clog"
udp_listen "$C" 10.0.0.3 9000 "$clog"

xa() # SRC: A's SA and out policy, with SRC as the source
{
	ip -n "$A" xfrm state flush
	ip -n "$A" xfrm policy flush
	ip -n "$A" xfrm state add src "$1" dst 10.0.0.3 proto esp spi 0xa1 reqid 1 mode transport \
		$GCM $KEY_A 128
	ip -n "$A" xfrm policy add src "$1" dst 10.0.0.3 dir out \
		tmpl src "$1" dst 10.0.0.3 proto esp reqid 1 mode transport
}

xa 10.0.0.1
send "$A" 10.0.0.1 10.0.0.3
one() { [[ $(got "$clog") == 1 ]]; }
wait_for 10 one
pass "control: A's datagram through A's SA delivered"

xa 10.0.0.2
m0=$(sastat "$C" 0xa1 rx_policy_mismatch) r0=$(sastat "$C" 0xa1 rx_packets)
send "$A" 10.0.0.2 10.0.0.3
counted() { (($(sastat "$C" 0xa1 rx_policy_mismatch) > m0 || $(got "$clog") > 1)); }
wait_for 10 counted
check_eq "datagrams delivered from B's address through A's SA" "$(($(got "$clog") - 1))" 0
check_eq "rx_policy_mismatch of A's SA" "$(($(sastat "$C" 0xa1 rx_policy_mismatch) - m0))" 1
check_eq "rx_packets of B's SA" "$(sastat "$C" 0xb1 rx_packets)" 0

# ---- tunnel mode: a broadcast to the gateway's LAN, with a fwd policy and no in policy
ns_create p q
veth_pair "$p" eth0 10.0.0.1/24 "$q" eth0 10.0.0.2/24
ip -n "$p" addr add 10.1.0.1/32 dev lo
ip -n "$p" route add 10.2.0.0/24 via 10.0.0.2 src 10.1.0.1
ip -n "$q" link add lan0 type dummy
ip -n "$q" addr add 10.2.0.1/24 dev lan0
ip -n "$q" link set lan0 up
nq() { ip netns exec "$q" "$@"; }
ip -n "$p" xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x300 reqid 3 mode tunnel \
	$GCM $KEY_T 128
ip -n "$p" xfrm policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir out \
	tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 3 mode tunnel
nq nfsec sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x300 reqid 3 mode tunnel $GCM $KEY_T 128
nq nfsec policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir fwd \
	tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 3 mode tunnel
qlog=$(mktemp)
defer rm -f "$qlog"
udp_listen "$q" 0.0.0.0 9000 "$qlog"

m0=$(sastat "$q" 0x300 rx_policy_mismatch) r0=$(sastat "$q" 0x300 rx_packets)
send "$p" 10.1.0.1 10.2.0.255
seen() { (($(sastat "$q" 0x300 rx_packets) > r0)); }
wait_for 10 seen
counted() { (($(sastat "$q" 0x300 rx_policy_mismatch) > m0 || $(got "$qlog") > 0)); }
wait_for 10 counted
check_eq "broadcasts received by the gateway without an in policy" "$(got "$qlog")" 0
check_eq "rx_policy_mismatch of the tunnel SA" "$(($(sastat "$q" 0x300 rx_policy_mismatch) - m0))" 1

nq nfsec policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir in \
	tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 3 mode tunnel
send "$p" 10.1.0.1 10.2.0.255
q_one() { [[ $(got "$qlog") == 1 ]]; }
wait_for 10 q_one
pass "control: with an in policy, the broadcast is received"
