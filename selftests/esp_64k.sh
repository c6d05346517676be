#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# nfsec-selftest: exclusive (it reads the kernel log)
#
# Datagrams near 64 KiB through a tunnel: ESP's overhead must not wrap the outer tot_len.
#
#   a (LEFT: sender) 10.1.0.1 lo, eth0 10.0.0.1 --veth-- 10.0.0.2 eth0, 10.2.0.1 lo b (RIGHT)
#
# rfc4106(gcm(aes)) ICV 128 tunnel 10.1.0.1 <-> 10.2.0.1. The largest inner packet whose ESP
# fits 65535 bytes: 65535 - 52 (outer IPv4, SPI, seq, IV, ICV) = 65483, a multiple of 4 less
# the pad length and next header: 65478. Pings from a without DF (a fragments the ESP packet):
#   65478 bytes (-s 65450): answered, its ESP is exactly 65532 bytes;
#   65479 bytes (-s 65451): refused, tx_too_big +1 on an nfsec a, nothing on the wire.
# On b's link one ESP datagram, every fragment's tot_len is its length, and none reaches past
# 65535 bytes; the kernel log has no "Oversized IP packet" and no bug.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
run_combos "nfsec/xfrm"
need_cmd tcpdump python3

tunnel_hosts
KEY_AB=0x1111111111111111111111111111111122222222
KEY_BA=0x3333333333333333333333333333333344444444
for side in "a $LEFT" "b $RIGHT"; do
	read -r n impl <<<"$side"
	ns=${!n}
	sa "$ns" "$impl" add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x1001 reqid 1 mode tunnel \
		aead 'rfc4106(gcm(aes))' $KEY_AB 128
	sa "$ns" "$impl" add src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x2002 reqid 2 mode tunnel \
		aead 'rfc4106(gcm(aes))' $KEY_BA 128
done
pol "$a" "$LEFT" add src 10.1.0.1 dst 10.2.0.1 dir out tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 1 mode tunnel
pol "$a" "$LEFT" add src 10.2.0.1 dst 10.1.0.1 dir in tmpl src 10.0.0.2 dst 10.0.0.1 proto esp reqid 2 mode tunnel
pol "$b" "$RIGHT" add src 10.2.0.1 dst 10.1.0.1 dir out tmpl src 10.0.0.2 dst 10.0.0.1 proto esp reqid 2 mode tunnel
pol "$b" "$RIGHT" add src 10.1.0.1 dst 10.2.0.1 dir in tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 1 mode tunnel

too_big() { if is_nfsec "$LEFT"; then nstat "$a" tx_too_big; else echo 0; fi; }
ping_big() { ip netns exec "$a" ping -M dont -c 1 -W 5 -s "$1" -I 10.1.0.1 10.2.0.1 >/dev/null 2>&1; }

tmp=$(mktemp -d)
defer "rm -rf $tmp"
dmesg_mark
CAP_SNAPLEN=64
cap_start "$b" eth0 "$tmp/wire.pcap" "src 10.0.0.1"
t0=$(too_big)
ping_big 65450 || fail "ping of 65478 bytes through the tunnel unanswered"
pass "ping of 65478 bytes through the tunnel answered"
if ping_big 65451; then
	fail "ping of 65479 bytes answered: its ESP cannot fit 65535 bytes"
fi
pass "ping of 65479 bytes refused"
cap_stop
if is_nfsec "$LEFT"; then
	check_eq "a (nfsec) tx_too_big" "$(($(too_big) - t0))" 1
fi

# "datagrams seen, bad lengths, reaching past 65535, largest" on b's link, from a (a capture
# may miss a fragment under load: the largest datagram seen is only shown)
wire=$(python3 - "$tmp/wire.pcap" <<'EOF'
import struct, sys
f = open(sys.argv[1], "rb")
magic = struct.unpack("<I", f.read(24)[:4])[0]
assert magic in (0xa1b2c3d4, 0xa1b23c4d), hex(magic)
ends = {}
bad = 0
while True:
    h = f.read(16)
    if len(h) < 16:
        break
    incl, orig = struct.unpack("<IIII", h)[2:]
    frame = f.read(incl)
    if frame[12:14] != b"\x08\x00":
        continue
    ip = frame[14:]
    ihl = (ip[0] & 15) * 4
    tot, ident, frag = struct.unpack(">HHH", ip[2:8])
    if ip[9] != 50:
        continue
    if tot != orig - 14:
        bad += 1
    end = (frag & 0x1fff) * 8 + tot - ihl
    ends[ident] = max(ends.get(ident, 0), end + ihl)
print(len(ends), bad, sum(1 for e in ends.values() if e > 65535), max(ends.values(), default=0))
EOF
)
echo "# largest ESP datagram seen on b's link: ${wire##* } bytes (65532 when no fragment is missed)"
check_eq "b's link: ESP datagrams, bad lengths, past 65535" "${wire% *}" "1 0 0"
log=$(dmesg_since)
check_eq "kernel log: oversized packets" "$(grep -c "Oversized IP packet" <<<"$log")" 0
check_eq "kernel log: bugs" "$(dmesg_bad <<<"$log")" ""
exit 0
