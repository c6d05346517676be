#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Anti-replay and ICV check on receive, with frames captured off the wire and injected again.
#
#   a (10.0.0.1, LEFT: sender) --veth-- b (10.0.0.2, RIGHT: receiver)
#
# ESP transport mode, rfc4106(gcm(aes)), replay-window 32. Echo requests a -> b with sequence
# numbers 2..4 are captured on b's link while b drops ESP before any IPsec processing (nft
# prerouting); then, injected from a's side (AF_PACKET):
#   seq 2 with one ciphertext byte flipped    rx_auth_fail +1, nothing delivered
#   seq 2 as captured                         delivered +1 (the failure did not move the window)
#   seq 2 again                               rx_replay_dup +1, nothing delivered
#   40 more pings (seq 5..44), then seq 3     rx_replay_old +1 (left of the window), nothing delivered
# Every other counter stays put. With xfrm as the receiver the same events are read from
# /proc/net/xfrm_stat (XfrmInStateProtoError, XfrmInStateSeqError) and the SA's packet count.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
run_combos "xfrm/nfsec"
need_cmd tcpdump nft python3
PKT="python3 $SELFTESTS_DIR/esp_pkt.py"

ns_create a b
veth_pair "$a" eth0 10.0.0.1/24 "$b" eth0 10.0.0.2/24
na() { ip netns exec "$a" "$@"; }
nb() { ip netns exec "$b" "$@"; }

KEY_AB=0x0123456789abcdef0123456789abcdef01020304
KEY_BA=0xfedcba9876543210fedcba987654321005060708
SPI_AB=0x1001 SPI_BA=0x2002
ALG=(aead 'rfc4106(gcm(aes))')
for side in "a $LEFT" "b $RIGHT"; do
	read -r n impl <<<"$side"
	ns=${!n}
	sa "$ns" "$impl" add src 10.0.0.1 dst 10.0.0.2 proto esp spi $SPI_AB reqid 1 mode transport \
		replay-window 32 "${ALG[@]}" $KEY_AB 128
	sa "$ns" "$impl" add src 10.0.0.2 dst 10.0.0.1 proto esp spi $SPI_BA reqid 2 mode transport \
		replay-window 32 "${ALG[@]}" $KEY_BA 128
done
pol "$a" "$LEFT" add src 10.0.0.1 dst 10.0.0.2 dir out tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 1 mode transport
pol "$a" "$LEFT" add src 10.0.0.2 dst 10.0.0.1 dir in tmpl src 10.0.0.2 dst 10.0.0.1 proto esp reqid 2 mode transport
pol "$b" "$RIGHT" add src 10.0.0.2 dst 10.0.0.1 dir out tmpl src 10.0.0.2 dst 10.0.0.1 proto esp reqid 2 mode transport
pol "$b" "$RIGHT" add src 10.0.0.1 dst 10.0.0.2 dir in tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 1 mode transport

# counters at b: delivered auth_fail replay_dup replay_old (xfrm: dup and old are one counter)
rx()
{
	if is_nfsec "$RIGHT"; then
		echo "$(nstat "$b" rx_packets) $(nstat "$b" rx_auth_fail) $(nstat "$b" rx_replay_dup) $(nstat "$b" rx_replay_old)"
	else
		echo "$(xsa_packets "$b" $SPI_AB) $(xstat "$b" XfrmInStateProtoError) $(xstat "$b" XfrmInStateSeqError) 0"
	fi
}
# expect WHAT D_DELIVERED D_AUTH D_DUP D_OLD: counters moved by exactly that since the last call
last=
expect()
{
	local what=$1 now want d i
	shift
	if ! is_nfsec "$RIGHT"; then # xfrm counts dup and old together
		set -- "$1" "$2" $(($3 + $4)) 0
	fi
	now=$(rx)
	read -ra n <<<"$now"
	read -ra l <<<"$last"
	d="$((n[0] - l[0])) $((n[1] - l[1])) $((n[2] - l[2])) $((n[3] - l[3]))"
	check_eq "$what: delta (delivered auth_fail replay_dup replay_old)" "$d" "$*"
	last=$now
}

# seq 1: a first ping resolves the neighbours; 5/5 afterwards
na ping -c 1 -W 5 10.0.0.2 >/dev/null || fail "first ping a -> b"
last=$(rx)
tmp=$(mktemp -d)
defer "rm -rf $tmp"

# seq 2..4: captured at b, dropped before IPsec
nb nft -f - <<EOF
table ip dropesp {
	chain pre {
		type filter hook prerouting priority -1000; policy accept;
		ip protocol esp drop
	}
}
EOF
cap_start "$b" eth0 "$tmp/esp.pcap" "esp and src 10.0.0.1"
if na ping -c 3 -i 0.2 -W 1 10.0.0.2 >/dev/null; then
	fail "pings went through while b drops ESP"
fi
cap_stop
nb nft delete table ip dropesp
listing=$($PKT list "$tmp/esp.pcap")
check_eq "captured ESP frames (spi seq)" "$(awk '{ printf "%s %s;", $2, $3 }' <<<"$listing")" \
	"0x00001001 2;0x00001001 3;0x00001001 4;"
expect "while ESP was dropped" 0 0 0 0

# ICV failure: one byte of ciphertext flipped, a sequence number never received
$PKT pick "$tmp/esp.pcap" $SPI_AB 2 "$tmp/bad" 12
$PKT pick "$tmp/esp.pcap" $SPI_AB 2 "$tmp/good"
cmp -s "$tmp/bad" "$tmp/good" && fail "the flipped copy is identical"
na $PKT send eth0 "$tmp/bad"
sleep 0.5
expect "seq 2, ciphertext flipped" 0 1 0 0

# the genuine packet still passes: a failed ICV did not advance the window
na $PKT send eth0 "$tmp/good"
sleep 0.5
expect "seq 2 as captured" 1 0 0 0

na $PKT send eth0 "$tmp/good"
sleep 0.5
expect "seq 2 replayed" 0 0 1 0

na $PKT send eth0 "$tmp/good" 3
sleep 0.5
expect "seq 2 replayed 3 more times" 0 0 3 0

# 40 pings move the window to 44: seq 3, never received, is now left of it
out=$(na ping -c 40 -i 0.02 -W 5 10.0.0.2) || fail "40 pings a -> b: $(tail -n 2 <<<"$out")"
expect "40 pings" 40 0 0 0
$PKT pick "$tmp/esp.pcap" $SPI_AB 3 "$tmp/old"
na $PKT send eth0 "$tmp/old"
sleep 0.5
expect "seq 3 after the window moved to 44" 0 0 0 1

# seq 4 with a flipped byte, also left of the window: the replay check comes first, no ICV work
$PKT pick "$tmp/esp.pcap" $SPI_AB 4 "$tmp/oldbad" 20
na $PKT send eth0 "$tmp/oldbad"
sleep 0.5
expect "seq 4 flipped, left of the window" 0 0 0 1

if is_nfsec "$RIGHT"; then
	for c in rx_bad_trailer rx_too_short rx_crypto_error rx_no_sa rx_policy_mismatch rx_unprotected; do
		check_eq "$c at b" "$(nstat "$b" $c)" 0
	done
	check_eq "b's SA $SPI_AB rx_packets" "$(sastat "$b" $SPI_AB rx_packets)" 42
	check_eq "b's SA $SPI_AB rx_auth_fail" "$(sastat "$b" $SPI_AB rx_auth_fail)" 1
	check_eq "b's SA $SPI_AB rx_replay_dup" "$(sastat "$b" $SPI_AB rx_replay_dup)" 4
	check_eq "b's SA $SPI_AB rx_replay_old" "$(sastat "$b" $SPI_AB rx_replay_old)" 2
fi
exit 0
