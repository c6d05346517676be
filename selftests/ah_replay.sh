#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# AH on receive: what the ICV covers and what it does not, replay, and IPv4 options.
#
#   a (10.0.0.1, LEFT: sender) --veth-- b (10.0.0.2, RIGHT: receiver)
#
# AH transport mode, hmac(sha256) 128, replay-window 32. Echo requests a -> b with sequence
# numbers 2..4 are captured on b's link while b drops AH before any IPsec processing (nft
# prerouting); then, injected from a's side (AF_PACKET):
#   seq 2, source address changed (immutable)      rx_auth_fail +1, nothing delivered
#   seq 2, TTL and DSCP changed (mutable), checksum fixed   delivered +1
#   seq 2 as captured                              rx_replay_dup +1
#   seq 3, one byte of the ICV flipped             rx_auth_fail +1
#   seq 4 as captured                              delivered +1
# Then pings with the record-route and the timestamp option (both mutable, zeroed for the ICV)
# go both ways: the receiver of the request and the receiver of the reply (which echoes the
# option) each verify a header with options. With xfrm as the receiver the same events are read
# from /proc/net/xfrm_stat and the SA's packet count.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
run_combos "xfrm/nfsec"
need_cmd tcpdump nft python3
PKT="python3 $SELFTESTS_DIR/esp_pkt.py"

ns_create a b
veth_pair "$a" eth0 10.0.0.1/24 "$b" eth0 10.0.0.2/24
na() { ip netns exec "$a" "$@"; }
nb() { ip netns exec "$b" "$@"; }

KEY_AB=0x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
KEY_BA=0xfedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210
SPI_AB=0x1001 SPI_BA=0x2002
for side in "a $LEFT" "b $RIGHT"; do
	read -r n impl <<<"$side"
	ns=${!n}
	sa "$ns" "$impl" add src 10.0.0.1 dst 10.0.0.2 proto ah spi $SPI_AB reqid 1 mode transport \
		replay-window 32 auth-trunc 'hmac(sha256)' $KEY_AB 128
	sa "$ns" "$impl" add src 10.0.0.2 dst 10.0.0.1 proto ah spi $SPI_BA reqid 2 mode transport \
		replay-window 32 auth-trunc 'hmac(sha256)' $KEY_BA 128
done
pol "$a" "$LEFT" add src 10.0.0.1 dst 10.0.0.2 dir out tmpl src 10.0.0.1 dst 10.0.0.2 proto ah reqid 1 mode transport
pol "$a" "$LEFT" add src 10.0.0.2 dst 10.0.0.1 dir in tmpl src 10.0.0.2 dst 10.0.0.1 proto ah reqid 2 mode transport
pol "$b" "$RIGHT" add src 10.0.0.2 dst 10.0.0.1 dir out tmpl src 10.0.0.2 dst 10.0.0.1 proto ah reqid 2 mode transport
pol "$b" "$RIGHT" add src 10.0.0.1 dst 10.0.0.2 dir in tmpl src 10.0.0.1 dst 10.0.0.2 proto ah reqid 1 mode transport

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
	local what=$1 now d
	shift
	if ! is_nfsec "$RIGHT"; then
		set -- "$1" "$2" $(($3 + $4)) 0
	fi
	now=$(rx)
	read -ra n <<<"$now"
	read -ra l <<<"$last"
	d="$((n[0] - l[0])) $((n[1] - l[1])) $((n[2] - l[2])) $((n[3] - l[3]))"
	check_eq "$what: delta (delivered auth_fail replay_dup replay_old)" "$d" "$*"
	last=$now
}
inject() { na $PKT send eth0 "$1"; sleep 0.5; }

na ping -c 1 -W 5 10.0.0.2 >/dev/null || fail "first ping a -> b"
last=$(rx)
tmp=$(mktemp -d)
defer "rm -rf $tmp"

nb nft -f - <<EOF
table ip dropah {
	chain pre {
		type filter hook prerouting priority -1000; policy accept;
		ip protocol ah drop
	}
}
EOF
cap_start "$b" eth0 "$tmp/ah.pcap" "ah and src 10.0.0.1"
if na ping -c 3 -i 0.2 -W 1 10.0.0.2 >/dev/null; then
	fail "pings went through while b drops AH"
fi
cap_stop
nb nft delete table ip dropah
check_eq "captured AH frames (spi seq)" "$($PKT list "$tmp/ah.pcap" | awk '{ printf "%s %s;", $2, $3 }')" \
	"0x00001001 2;0x00001001 3;0x00001001 4;"
expect "while AH was dropped" 0 0 0 0

$PKT pick "$tmp/ah.pcap" $SPI_AB 2 "$tmp/2"
$PKT mangle "$tmp/2" "$tmp/2-saddr" saddr
inject "$tmp/2-saddr"
expect "seq 2, source address changed" 0 1 0 0

$PKT mangle "$tmp/2" "$tmp/2-ttl" ttl-tos
cmp -s "$tmp/2" "$tmp/2-ttl" && fail "the TTL/TOS copy is identical"
inject "$tmp/2-ttl"
expect "seq 2, TTL and DSCP changed in transit" 1 0 0 0

inject "$tmp/2"
expect "seq 2 replayed" 0 0 1 0

$PKT pick "$tmp/ah.pcap" $SPI_AB 3 "$tmp/3-icv" 5
inject "$tmp/3-icv"
expect "seq 3, ICV byte flipped" 0 1 0 0

$PKT pick "$tmp/ah.pcap" $SPI_AB 4 "$tmp/4"
inject "$tmp/4"
expect "seq 4 as captured" 1 0 0 0

# IPv4 options, both ways: requests verified by b, replies (the option echoed) by a
for opt in "-R" "-T tsonly"; do
	cap_start "$b" eth0 "$tmp/opt.pcap" "ah"
	out=$(na ping $opt -c 2 -i 0.3 -W 5 10.0.0.2 2>&1) || fail "ping $opt a -> b: $(tail -n 3 <<<"$out")"
	grep -q " 0% packet loss" <<<"$out" || fail "ping $opt a -> b lost packets"
	cap_stop
	# 24 bytes of header or more: the option is on the wire, inside what AH protects
	check_eq "ping $opt: AH packets with IPv4 options on b's link" \
		"$(cap_count "$tmp/opt.pcap" "ah and ip[0] & 0xf > 5")" 4
	expect "ping $opt, 2 requests" 2 0 0 0
	pass "ping $opt a -> b with AH both ways"
done
if is_nfsec "$RIGHT"; then
	for c in rx_bad_trailer rx_too_short rx_crypto_error rx_no_sa rx_policy_mismatch rx_unprotected; do
		check_eq "$c at b" "$(nstat "$b" $c)" 0
	done
	check_eq "b's SA $SPI_AB rx_auth_fail" "$(sastat "$b" $SPI_AB rx_auth_fail)" 2
	check_eq "b's SA $SPI_AB rx_replay_dup" "$(sastat "$b" $SPI_AB rx_replay_dup)" 1
	check_eq "b's SA $SPI_BA tx_packets (echo replies)" "$(sastat "$b" $SPI_BA tx_packets)" 7
fi
exit 0
