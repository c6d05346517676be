#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# NAT traversal (ESP in UDP, RFC 3948) through a real NAT, nfsec against native xfrm.
#
#   a (LEFT) 192.168.1.2 wan0 --- lan0 192.168.1.1  nat  10.0.0.1 wan0 --- wan0 10.0.0.2 b (RIGHT)
#   10.1.0.1 lo (tunnel inner)       masquerade, UDP 4500 -> 14500,        10.2.0.1 lo (inner)
#                                                4501 -> 14501
#
# a is behind the NAT and knows b as 10.0.0.2:4500; b knows a as the NAT's 10.0.0.1:14500. The
# xfrm side holds a UDP_ENCAP socket on 4500, as the kernel requires. Per mode (transport:
# 192.168.1.2 <-> 10.0.0.2 as a sees it, 10.0.0.1 <-> 10.0.0.2 as b does; tunnel: 10.1.0.1 <->
# 10.2.0.1) and algorithm (NATT_CASES; GCM-128 in both modes, with nfsec on a also cbc(aes) 128 +
# hmac(sha256) 128 in transport mode, with nfsec on b ChaCha20-Poly1305 in tunnel mode; the
# probes and the rebinding run on the last case, GCM in tunnel mode):
#   1. pings of 56, 1000, 1400 bytes each way; nfsec's tx/rx_packets move by exactly 12;
#   2. 256 KiB over TCP each way, sha256 compared (in transport mode every TCP checksum arrives
#      wrong, since the NAT rewrote the addresses it covers: the receiver fixes it up); on the
#      link between nat and b every IPv4 packet is UDP, port 4500 on b's side, with the SAs' SPIs
#      after the UDP header; what nfsec sent has UDP checksum 0; nfsec counted exactly what is
#      on the wire; no drop counter moved, natt_unexpected_src neither.
# Tunnel mode, on the nfsec side, datagrams from nat to its port 4500 where a plain UDP socket
# listens: IKE behind the non-ESP marker arrives intact; a 0xff keep-alive is consumed and
# natt_keepalive rises by one; ESP in UDP with an SPI nobody knows goes on to the socket
# (rx_no_sa +1); the same keep-alive to port 4501, which no SA uses, reaches its socket; ESP
# in UDP with the SPI of the side's inbound SA, cut after the sequence number, is dropped
# (rx_too_short +1) and, with 40 forged bytes after it, fails the ICV (rx_auth_fail +1): the
# socket sees neither.
# NAT rebinding: a moves to source port 4501, which the NAT maps to 14501; five pings, sent
# 50 ms apart, still pass both ways, and b tells its monitor of the new mapping: xfrm once per
# packet ("Mapping change 10.0.0.1:14500 -> 10.0.0.1:14501"), nfsec once for the five (an
# SA_MAPPING event: "Mapping change", SA 0x100, "new src 10.0.0.1 sport 14501"); an nfsec b
# counts natt_unexpected_src once per packet. After `sa update` of b's inbound SA to 14501 the
# counter stands still and no more mapping events come.
# (AH cannot go in UDP: bad_input.sh checks that nfsec refuses `encap` on an AH SA.)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
source "$(dirname "$0")/monitor_lib.sh"
run_combos "nfsec/xfrm xfrm/nfsec"
need_cmd tcpdump socat nft python3

ns_create a nat b
nat_hosts "$a" "$nat" "$b"
ip netns exec "$nat" nft -f - <<'EOF'
table ip nat {
	chain post {
		type nat hook postrouting priority srcnat;
		oifname "wan0" udp sport 4500 masquerade to :14500
		oifname "wan0" udp sport 4501 masquerade to :14501
		oifname "wan0" masquerade
	}
}
EOF
is_nfsec "$LEFT" || encap_socket "$a" 4500
is_nfsec "$RIGHT" || encap_socket "$b" 4500

SPI_AB=0x00000100 SPI_BA=0x00000200
# nfsec sends and receives with each algorithm in either combination: CBC runs with nfsec behind
# the NAT, ChaCha20 with xfrm there
if [[ -n ${NATT_CASES:-} ]]; then
	CASES=$NATT_CASES
elif is_nfsec "$LEFT"; then
	CASES="gcm/transport cbc/transport gcm/tunnel"
else
	CASES="gcm/transport chacha/tunnel gcm/tunnel"
fi

hexkey() # BYTES: random key material, 0x...
{
	echo "0x$(od -An -tx1 -N "$1" /dev/urandom | tr -d ' \n')"
}

# algo NAME: the algorithm words of one direction, fresh keys each call, into the array ALGO
algo()
{
	case $1 in
	gcm)	ALGO=(aead 'rfc4106(gcm(aes))' "$(hexkey 20)" 128) ;;
	cbc)	ALGO=(enc 'cbc(aes)' "$(hexkey 16)" auth-trunc 'hmac(sha256)' "$(hexkey 32)" 128) ;;
	chacha)	ALGO=(aead 'rfc7539esp(chacha20,poly1305)' "$(hexkey 36)" 128) ;;
	*)	fail "unknown algorithm case '$1'" ;;
	esac
}
tmp=$(mktemp -d)
defer "rm -rf $tmp"
CAP_SNAPLEN=64

# b's inbound SA: from the NAT's address and port
b_in_sa() # CMD NATPORT
{
	sa "$b" "$RIGHT" "$1" src 10.0.0.1 dst 10.0.0.2 proto esp spi $SPI_AB reqid 1 mode "$MODE" \
		"${ALG_AB[@]}" encap espinudp "$2" 4500 0.0.0.0
}

configure()
{
	local sel_a sel_b
	MODE=$1
	algo "$2"; ALG_AB=("${ALGO[@]}")
	algo "$2"; ALG_BA=("${ALGO[@]}")
	for ns in "$a" "$b"; do
		impl=$LEFT
		[[ $ns == "$b" ]] && impl=$RIGHT
		sa "$ns" "$impl" flush
		pol "$ns" "$impl" flush
	done
	sa "$a" "$LEFT" add src 192.168.1.2 dst 10.0.0.2 proto esp spi $SPI_AB reqid 1 mode "$MODE" \
		"${ALG_AB[@]}" encap espinudp 4500 4500 0.0.0.0
	sa "$a" "$LEFT" add src 10.0.0.2 dst 192.168.1.2 proto esp spi $SPI_BA reqid 2 mode "$MODE" \
		"${ALG_BA[@]}" encap espinudp 4500 4500 0.0.0.0
	b_in_sa add 14500
	sa "$b" "$RIGHT" add src 10.0.0.2 dst 10.0.0.1 proto esp spi $SPI_BA reqid 2 mode "$MODE" \
		"${ALG_BA[@]}" encap espinudp 4500 14500 0.0.0.0
	if [[ $MODE == tunnel ]]; then
		sel_a=10.1.0.1 sel_b=10.2.0.1 TO_B=10.2.0.1 TO_A=10.1.0.1
	else
		sel_a=192.168.1.2 sel_b=10.0.0.2 TO_B=10.0.0.2 TO_A=10.0.0.1
	fi
	pol "$a" "$LEFT" add src $sel_a dst $sel_b dir out \
		tmpl src 192.168.1.2 dst 10.0.0.2 proto esp reqid 1 mode "$MODE"
	pol "$a" "$LEFT" add src $sel_b dst $sel_a dir in \
		tmpl src 10.0.0.2 dst 192.168.1.2 proto esp reqid 2 mode "$MODE"
	# b sees a at the NAT's address
	[[ $MODE == transport ]] && sel_a=10.0.0.1
	pol "$b" "$RIGHT" add src $sel_b dst $sel_a dir out \
		tmpl src 10.0.0.2 dst 10.0.0.1 proto esp reqid 2 mode "$MODE"
	pol "$b" "$RIGHT" add src $sel_a dst $sel_b dir in \
		tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 1 mode "$MODE"
}

# The counters every step checks (esp_lib.sh: snap, delta, check_sides)
NAMES="tx_packets rx_packets rx_no_sa rx_auth_fail rx_replay_dup rx_replay_old rx_bad_trailer
	rx_too_short rx_policy_mismatch rx_unprotected rx_no_mem rx_crypto_error tx_no_sa tx_no_mem
	tx_crypto_error tx_no_route tx_error natt_keepalive natt_unexpected_src"

# probe NS ADDR SPI: the datagrams of the header comment, from nat to ADDR; prints what the
# sockets on ADDR's side received, "port hex" sorted
probe()
{
	local ns=$1 addr=$2 spi=$3
	ip netns exec "$ns" python3 -c '
import select, socket, sys
socks = {}
for port in (4500, 4501):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    socks[s] = port
print("ready", flush=True)
got = []
while True:
    r, _, _ = select.select(list(socks), [], [], 20)
    if not r:
        sys.exit("timed out")
    for s in r:
        d = s.recv(2048)
        got.append("%d %s" % (socks[s], d.hex()))
        if d == b"\0\0\0\0STOP":
            print("\n".join(sorted(got)), flush=True)
            sys.exit(0)' >"$tmp/probe" 2>&1 &
	local lpid=$!
	wait_for 10 grep -q ready "$tmp/probe"
	ip netns exec "$nat" python3 -c '
import os, socket, sys, time
addr, spi = sys.argv[1], int(sys.argv[2], 0).to_bytes(4, "big")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for port, d in ((4500, b"\0\0\0\0IKE_SA_INIT from nat"), (4500, b"\xff"), (4501, b"\xff"),
                (4500, bytes.fromhex("deadbeef00000001") + bytes(16)),
                (4500, spi + bytes.fromhex("00000001")),
                (4500, spi + bytes.fromhex("00000002") + os.urandom(40)),
                (4500, b"\0\0\0\0STOP")):
    s.sendto(d, (addr, port))
    time.sleep(0.1)' "$addr" "$spi"
	wait "$lpid" || fail "probe listener: $(cat "$tmp/probe")"
	sed 1d "$tmp/probe"
}

run_case()
{
	local alg=${1%/*} mode=${1#*/} ns wire_ab wire_ba ip_all want t0=$SECONDS
	echo "# ---- $alg, $mode mode"
	configure "$mode" "$alg"
	# a speaks first: the NAT learns the mapping
	ip netns exec "$a" ping -c 1 -W 5 "$TO_B" >/dev/null 2>&1 || true
	ip netns exec "$b" ping -c 1 -W 5 "$TO_A" >/dev/null 2>&1 || true

	snap
	pings_each_way "through the NAT"
	for ns in $(nfsec_sides); do
		counters_now "$ns"
		check_eq "$(side "$ns") tx_packets after the pings" "$(moved "$ns" tx_packets)" 12
		check_eq "$(side "$ns") rx_packets after the pings" "$(moved "$ns" rx_packets)" 12
	done

	snap
	# on nat's end of the link: xfrm's tunnel mode shows its decrypted packets to taps on b
	cap_start "$nat" wan0 "$tmp/b.pcap" "ip"
	xfer "$a" "$b" "$TO_B" 5001 262144
	xfer "$b" "$a" "$TO_A" 5002 262144
	cap_stop
	grep -q "^0 packets dropped by kernel" "$tmp/b.pcap.log" ||
		fail "tcpdump dropped packets: $(cat "$tmp/b.pcap.log")"
	wire_ab=$(cap_count "$tmp/b.pcap" "src 10.0.0.1 and udp src port 14500 and udp dst port 4500 and ip[28:4] = $SPI_AB")
	wire_ba=$(cap_count "$tmp/b.pcap" "dst 10.0.0.1 and udp src port 4500 and udp dst port 14500 and ip[28:4] = $SPI_BA")
	ip_all=$(cap_captured "$tmp/b.pcap")
	if ((ip_all != wire_ab + wire_ba)); then
		echo "# between nat and b, not ESP in UDP of the SAs:"
		tcpdump -r "$tmp/b.pcap" -n "ip and not ((udp port 4500) and (ip[28:4] = $SPI_AB or ip[28:4] = $SPI_BA))" 2>/dev/null |
			head -n 6 | sed 's/^/#   /'
	fi
	((wire_ab > 200 && wire_ba > 200)) || fail "too little ESP in UDP on the wire: $wire_ab a->b, $wire_ba b->a"
	check_eq "IPv4 packets between nat and b that are not ESP in UDP 4500 with the SPIs" \
		"$((ip_all - wire_ab - wire_ba))" 0
	pass "wire: only ESP in UDP 4500, $wire_ab a->b and $wire_ba b->a"
	if is_nfsec "$LEFT"; then
		want="src 10.0.0.1"
	else
		want="dst 10.0.0.1"
	fi
	check_eq "datagrams nfsec sent with a UDP checksum" \
		"$(cap_count "$tmp/b.pcap" "$want and udp[6:2] != 0")" 0

	check_sides ESP "$wire_ab" "$wire_ba"
	check_xfrm_icv
	echo "# $alg, $mode mode: $((SECONDS - t0)) s"
}

# What the sockets must see from probe: everything but the keep-alive to 4500.
probe_want()
{
	printf '%s\n' "4500 $(printf '\0\0\0\0IKE_SA_INIT from nat' | od -An -tx1 | tr -d ' \n')" \
		"4500 deadbeef00000001$(printf '0%.0s' {1..32})" "4500 0000000053544f50" "4501 ff" | sort
}

probes()
{
	local ns addr spi
	for ns in $(nfsec_sides); do
		addr=192.168.1.2 spi=$SPI_BA
		[[ $ns == "$b" ]] && addr=10.0.0.2 spi=$SPI_AB
		snap
		check_eq "$(side "$ns") sockets on 4500 and 4501 received" \
			"$(probe "$ns" $addr $spi | tr '\n' ' ')" "$(probe_want | tr '\n' ' ')"
		check_eq "$(side "$ns") natt_keepalive" "$(delta "$ns" natt_keepalive)" 1
		check_eq "$(side "$ns") rx_no_sa (the unknown SPI)" "$(delta "$ns" rx_no_sa)" 1
		check_eq "$(side "$ns") rx_too_short (SPI and sequence number only)" \
			"$(delta "$ns" rx_too_short)" 1
		check_eq "$(side "$ns") rx_auth_fail (40 forged bytes)" "$(delta "$ns" rx_auth_fail)" 1
		check_eq "$(side "$ns") rx_packets" "$(delta "$ns" rx_packets)" 0
	done
}

rebind()
{
	local mon=$tmp/mon.b want n args=()
	is_nfsec "$RIGHT" && args=(-j monitor)
	mon_start "$b" "$RIGHT" "$mon" "${args[@]}"
	mon_ready "$b" "$RIGHT" "$mon"
	: >"$mon"
	is_nfsec "$RIGHT" && snap
	sa "$a" "$LEFT" update src 192.168.1.2 dst 10.0.0.2 proto esp spi $SPI_AB reqid 1 \
		mode "$MODE" "${ALG_AB[@]}" encap espinudp 4501 4500 0.0.0.0
	ip netns exec "$a" ping -c 5 -i 0.05 -W 5 "$TO_B" >"$tmp/ping" 2>&1 ||
		fail "ping after a moved to port 4501: $(tail -n 2 "$tmp/ping" | tr '\n' ' ')"
	if is_nfsec "$RIGHT"; then
		check_eq "b natt_unexpected_src, 5 requests from 14501" \
			"$(delta "$b" natt_unexpected_src)" 5
		check_eq "b rx_packets (delivered all the same)" "$(delta "$b" rx_packets)" 5
		want="Mapping change spi 0x00000100 new src 10.0.0.1 sport 14501"
		n=1
	else
		want="Mapping change 10.0.0.1:14500 -> 10.0.0.1:14501"
		n=5
	fi
	mon_alive "$b" "$RIGHT" "$mon"
	check_eq "b's mapping events (of 5 packets), as $RIGHT tells them" \
		"$(mappings "$RIGHT" "$mon" | sort | uniq -c | sed 's/^ *//')" "$n $want"
	b_in_sa update 14501
	: >"$mon"
	is_nfsec "$RIGHT" && snap
	ip netns exec "$a" ping -c 5 -i 0.05 -W 5 "$TO_B" >"$tmp/ping" 2>&1 ||
		fail "ping after b's SA moved to 14501: $(tail -n 2 "$tmp/ping" | tr '\n' ' ')"
	if is_nfsec "$RIGHT"; then
		check_eq "b natt_unexpected_src once its SA says 14501" \
			"$(delta "$b" natt_unexpected_src)" 0
		check_eq "b rx_packets" "$(delta "$b" rx_packets)" 5
	fi
	mon_alive "$b" "$RIGHT" "$mon"
	check_eq "b's mapping events once its SA says 14501" "$(mappings "$RIGHT" "$mon")" ""
	pass "NAT rebinding: told to the daemon, never dropped"
}

# mappings IMPL FILE: one line per mapping event in FILE: the SA's SPI and the new source for
# nfsec's (JSON), the old and the new source for xfrm's
mappings()
{
	if [[ $1 == nfsec ]]; then
		grep '"event":"mapping"' "$2" | sed -E 's/.*"new":\{"src":"([^"]*)","sport":([0-9]+)\}.*"spi":"?(0x[0-9a-f]+)"?.*/Mapping change spi \3 new src \1 sport \2/'
	else
		grep "^Mapping change" "$2" | tr -s '\t ' ' ' | sed 's/ *$//'
	fi
}

for c in $CASES; do
	run_case "$c"
done
probes
rebind
exit 0
