#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ESP in UDP that arrives merged: UDP GRO (rx-gro-list, rx-udp-gro-forwarding) or a UDP GSO
# packet forwarded whole can hand LOCAL_IN one packet that holds many datagrams, each with an
# ESP packet of its own. Decrypting the whole as one ESP packet loses them all; nfsec takes
# them apart first and counts it (natt_gro).
#   h --- a (router) --- b (nfsec, an encap SA on port 4500)
# h sends 10 UDP GSO packets of 50 datagrams each to b's port 4500, every datagram a forged
# ESP packet to the live SA's SPI with its own sequence number: each must meet the ICV on its
# own (rx_auth_fail +500), none as part of a merged whole. (A GRO test with genuine traffic
# needs a sender that sets the UDP checksum: 6.1's GRO leaves checksum-less datagrams alone,
# and xfrm sends ESP in UDP without one, as RFC 3948 allows.)

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
need_module
need_cmd python3

GCM="aead rfc4106(gcm(aes))"
KEY=0x$(printf '%040x' 0x6e0)

ns_create h a b
veth_pair "$h" eth0 10.1.0.2/24 "$a" eth1 10.1.0.1/24
veth_pair "$a" eth0 10.0.0.1/24 "$b" eth0 10.0.0.2/24
ip -n "$h" route add default via 10.1.0.1
ip -n "$b" route add default via 10.0.0.1
ip netns exec "$a" sysctl -qw net.ipv4.ip_forward=1

ip netns exec "$b" nfsec sa add src 10.1.0.2 dst 10.0.0.2 proto esp spi 0x100 reqid 1 \
	mode tunnel replay-window 1024 $GCM $KEY 128 encap espinudp 4500 4500 0.0.0.0

ip netns exec "$h" python3 -c '
import os, socket, struct, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.1.0.2", 4500))
s.setsockopt(socket.IPPROTO_UDP, 103, 8 + 300)  # UDP_SEGMENT
seq = 1
for _ in range(10):
    buf = b""
    for i in range(50):
        buf += struct.pack("!II", 0x100, seq) + os.urandom(300)
        seq += 1
    s.sendto(buf, ("10.0.0.2", 4500))
    time.sleep(0.02)'
# Poll up to 10 s, then compare: with the datagrams merged, fewer failures ever come.
end=$((SECONDS + 10))
while ((SECONDS < end)); do
	(($(sastat "$b" 0x100 rx_auth_fail) >= 500)) && break
	sleep 0.1
done
check_eq "forged datagrams that met the ICV one by one" "$(sastat "$b" 0x100 rx_auth_fail)" 500
check_eq "rx_packets" "$(sastat "$b" 0x100 rx_packets)" 0
merged=$(nstat "$b" natt_gro)
((merged >= 10)) || fail "natt_gro $merged: the datagrams did not arrive merged; nothing tested"
pass "merged packets taken apart: $merged"
