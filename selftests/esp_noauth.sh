#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ESP without integrity (encryption only) is for tests only: without allow_null=1 nfsec
# refuses it (bad_input.sh), and with it, nothing an unauthenticated packet says may move
# the SA's state. Here one forged packet with sequence number 0xffffffff arrives first; a
# replay window advanced by it would make every genuine packet after it "old". The genuine
# pings from native xfrm must still be delivered, and the lifetime must not count the forgery
# (nor anything else: without an ICV no packet is known to be the peer's).
# Sets allow_null=1 for its own SA, and back at the end.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
need_module
need_cmd python3

param=/sys/module/nfsec/parameters/allow_null
defer "echo $(cat $param) >$param"
echo 1 >$param

ns_create a b
veth_pair "$a" eth0 10.0.0.1/24 "$b" eth0 10.0.0.2/24
nb() { ip netns exec "$b" "$@"; }
CBC="enc cbc(aes) 0x$(printf '%032x' 0xc0ffee)"

ip -n "$a" xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x100 reqid 1 mode transport $CBC
ip -n "$a" xfrm policy add src 10.0.0.1 dst 10.0.0.2 proto icmp dir out \
	tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 1 mode transport
nb nfsec sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x100 reqid 1 mode transport \
	replay-window 32 $CBC
nb nfsec policy add src 10.0.0.1 dst 10.0.0.2 proto icmp dir in \
	tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 1 mode transport

# The forgery: the SPI and sequence number 0xffffffff, then 64 bytes that decrypt to noise.
ip netns exec "$a" python3 -c '
import os, socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ESP)
s.sendto(struct.pack("!II", 0x100, 0xffffffff) + os.urandom(16 + 64), ("10.0.0.2", 0))'
dropped() { (($(sastat "$b" 0x100 rx_bad_trailer) + $(sastat "$b" 0x100 rx_too_short) >= 1)); }
wait_for 10 dropped
pass "the forgery was dropped after decryption"

# Genuine echo requests; the replies go in clear (no out policy on b).
ip netns exec "$a" ping -c 5 -i 0.2 -W 2 -q 10.0.0.2 >/dev/null || fail "pings through the SA failed"
check_eq "rx_packets" "$(sastat "$b" 0x100 rx_packets)" 5
check_eq "rx_replay_old" "$(sastat "$b" 0x100 rx_replay_old)" 0
# No packet of such an SA is authenticated, the genuine ones included: none moves its lifetime.
check_eq "packets counted by the SA's lifetime" "$(sa_field "$b" 0x100 packets)" 0
