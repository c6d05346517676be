#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Sequence number overflow without ESN (RFC 4303 3.3.3): the sender must not cycle.
#
#   a (10.0.0.1, LEFT: sender) --veth-- b (10.0.0.2, RIGHT: receiver)
#
# ESP transport, rfc4106(gcm(aes)), the a -> b SA starting at replay-oseq 0xfffffffd. Five UDP
# datagrams a -> b (one, then four): the first two leave with sequence numbers 0xfffffffe and
# 0xffffffff, the other three are refused (tx_seq_overflow +3, xfrm: XfrmOutStateSeqError +3);
# two more later are refused too. The wire carries exactly those two ESP packets and b gets
# exactly two. nfsec on a warns the keying daemon before the numbers run out (past 2^32 - 2^30):
# after the first datagram, `nfsec monitor` shows one soft expire of the SA while
# tx_seq_overflow is still 0, and no other expire event by the end (xfrm has no such warning).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
source "$(dirname "$0")/monitor_lib.sh"
run_combos "nfsec/xfrm"
need_cmd tcpdump python3
PKT="python3 $SELFTESTS_DIR/esp_pkt.py"

ns_create a b
veth_pair "$a" eth0 10.0.0.1/24 "$b" eth0 10.0.0.2/24
na() { ip netns exec "$a" "$@"; }

KEY_AB=0x0123456789abcdef0123456789abcdef01020304
KEY_BA=0xfedcba9876543210fedcba987654321005060708
SPI_AB=0x1001 SPI_BA=0x2002
for side in "a $LEFT" "b $RIGHT"; do
	read -r n impl <<<"$side"
	ns=${!n}
	sa "$ns" "$impl" add src 10.0.0.1 dst 10.0.0.2 proto esp spi $SPI_AB reqid 1 mode transport \
		replay-window 32 replay-oseq 0xfffffffd aead 'rfc4106(gcm(aes))' $KEY_AB 128
	sa "$ns" "$impl" add src 10.0.0.2 dst 10.0.0.1 proto esp spi $SPI_BA reqid 2 mode transport \
		replay-window 32 aead 'rfc4106(gcm(aes))' $KEY_BA 128
done
pol "$a" "$LEFT" add src 10.0.0.1 dst 10.0.0.2 dir out tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 1 mode transport
pol "$a" "$LEFT" add src 10.0.0.2 dst 10.0.0.1 dir in tmpl src 10.0.0.2 dst 10.0.0.1 proto esp reqid 2 mode transport
pol "$b" "$RIGHT" add src 10.0.0.2 dst 10.0.0.1 dir out tmpl src 10.0.0.2 dst 10.0.0.1 proto esp reqid 2 mode transport
pol "$b" "$RIGHT" add src 10.0.0.1 dst 10.0.0.2 dir in tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 1 mode transport
mac_b=$(ip -n "$b" -j link show eth0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
ip -n "$a" neigh replace 10.0.0.2 lladdr "$mac_b" dev eth0 nud permanent
# b answers nothing (no ICMP port unreachable back over the other SA)
ip netns exec "$b" sysctl -qw net.ipv4.icmp_ratelimit=0
ip netns exec "$b" nft -f - <<EOF
table ip quiet {
	chain out {
		type filter hook output priority 0; policy accept;
		icmp type destination-unreachable drop
	}
}
EOF

# send N: N UDP datagrams a -> b:9, one line per sendto: "ok" or the errno name
send()
{
	na python3 -c '
import errno, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[1])):
    try:
        s.sendto(b"overflow %d" % i, ("10.0.0.2", 9))
        print("ok")
    except OSError as e:
        print(errno.errorcode.get(e.errno, e.errno))
' "$1"
}

overflows()
{
	if is_nfsec "$LEFT"; then nstat "$a" tx_seq_overflow; else xstat "$a" XfrmOutStateSeqError; fi
}
received()
{
	if is_nfsec "$RIGHT"; then nstat "$b" rx_packets; else xsa_packets "$b" $SPI_AB; fi
}

tmp=$(mktemp -d)
defer "rm -rf $tmp"
if is_nfsec "$LEFT"; then
	mon_start "$a" nfsec "$tmp/events"
	mon_ready "$a" nfsec "$tmp/events"
fi
soft_seen() { [[ $(mon_expiries "$tmp/events") == "soft 0x00001001" ]]; }
cap_start "$b" eth0 "$tmp/esp.pcap" "esp"
r=$(send 1 | tr '\n' ' ')
if is_nfsec "$LEFT"; then
	wait_for 10 soft_seen
	pass "a (nfsec) soft expire of SA $SPI_AB after sequence number 0xfffffffe"
	check_eq "sequence overflows at the soft expire" "$(overflows)" 0
fi
r+=$(send 4 | tr '\n' ' ')
sleep 0.5
echo "# sendto results: $r"
[[ $r == "ok ok "* ]] || fail "the first two datagrams were not sent: $r"
check_eq "sequence overflows after 5 datagrams" "$(overflows)" 3
r=$(send 2 | tr '\n' ' ')
echo "# sendto results: $r"
sleep 0.5
check_eq "sequence overflows after 2 more" "$(overflows)" 5
cap_stop

check_eq "ESP on the wire a -> b (spi seq)" \
	"$($PKT list "$tmp/esp.pcap" | awk '{ printf "%s %s;", $2, $3 }')" \
	"0x00001001 4294967294;0x00001001 4294967295;"
check_eq "packets b received over the SA" "$(received)" 2
if is_nfsec "$LEFT"; then
	check_eq "a (nfsec) tx_packets" "$(nstat "$a" tx_packets)" 2
	check_eq "a (nfsec) SA $SPI_AB tx_seq_overflow" "$(sastat "$a" $SPI_AB tx_seq_overflow)" 5
	check_eq "a (nfsec) SA $SPI_AB oseq" "$(sa_field "$a" $SPI_AB oseq)" $((0xffffffff))
	check_eq "a (nfsec) expire events by the end" "$(mon_expiries "$tmp/events")" "soft 0x00001001"
fi
exit 0
