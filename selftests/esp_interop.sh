#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nfsec against native xfrm, both configured with the same words, for every ESP algorithm, in
# transport and tunnel mode.
#
#   a (LEFT)  10.0.0.1 eth0 ---veth--- eth0 10.0.0.2  b (RIGHT)
#             10.1.0.1 lo (tunnel inner)    10.2.0.1 lo (tunnel inner)
#
# Cases (INTEROP_CASES="gcm128/transport ..." narrows them):
#   gcm128, gcm192, gcm256   aead rfc4106(gcm(aes)), 128/192/256-bit key + salt, ICV 128
#   gcm64, gcm96     the same with a 128-bit key and ICV 64, a 192-bit key and ICV 96
#   cbc              enc cbc(aes) 128 + auth-trunc hmac(sha256) 128
#   cbc192, cbc256   enc cbc(aes) 192 + hmac(sha256) 96, cbc(aes) 256 + hmac(sha256) 256
#   chacha           aead rfc7539esp(chacha20,poly1305), ICV 128
#   null             enc ecb(cipher_null) + auth-trunc hmac(sha256) 128
#   ah, ah4          AH with auth-trunc hmac(sha256) 128, padded to 8 bytes (xfrm's default) or,
#                    with flag align4, to 4 (selftests/ah_interop.sh runs these)
#   ah96, ah256      AH with hmac(sha256) truncated to 96 bits, and the full 256
#   NAME+esn         any of these with `flag esn replay-window 128`, every SA starting at
#                    sequence 0xffffff80: the TCP transfer crosses 2^32 both ways, and the
#                    SAs are checked past it afterwards (high half 1)
#   NAME+udp         ESP in UDP (encap espinudp 4500 4500); over IPv6 the datagrams' UDP
#                    checksums are checked with tshark (all there and right)
# each in transport mode (10.0.0.1 <-> 10.0.0.2) and tunnel mode (10.1.0.1 <-> 10.2.0.1 inside
# 10.0.0.1 <-> 10.0.0.2), and with IPv6 (esp6_interop.sh, ah6_natt6_interop.sh): transport6 (fd00::1 <-> fd00::2),
# 6in6 (fd01::1 <-> fd02::1 inside fd00::1 <-> fd00::2), 4in6 (10.1.0.1 <-> 10.2.0.1 inside
# fd00::1 <-> fd00::2) and 6in4 (fd01::1 <-> fd02::1 inside 10.0.0.1 <-> 10.0.0.2); the SAs of
# the two cross-family ones have flag af-unspec, as strongSwan sets it. Per case:
#   1. pings of 56, 1000 and 1400 bytes, two of each, a -> b and b -> a: all answered; nfsec's
#      tx_packets and rx_packets move by exactly 12 each (6 requests, 6 replies per way), but
#      in 4in6, where the 1400-byte IPv4 packets leave as two fragments each (tx_frag_inner 4);
#   2. 256 KiB over TCP each way, sha256 compared; captured on both sides' outgoing eth0: every
#      packet of the outer family on the link (but ICMPv6's neighbour discovery) is ESP with
#      the configured SPIs; nfsec counted exactly the ESP it
#      put on the wire and the ESP the peer put there; xfrm's SA counted every packet nfsec sent
#      and xfrm saw no ICV failure; no drop counter of nfsec moved.
# Runs nfsec/xfrm by default (traffic flows both ways, so both implementations encrypt and
# decrypt); COMBOS="xfrm/xfrm" validates the test itself.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
run_combos "nfsec/xfrm"
need_cmd tcpdump socat

# Every algorithm, each mode with AEAD and with encryption + HMAC (the modes' code does not
# depend on the algorithm: ChaCha20 in a tunnel is esp6_interop's 6in4, NULL in transport mode
# would repeat CBC's path); GCM's key sizes and ICV lengths, the AES key sizes and HMAC
# truncations of CBC, and ESN with CBC and ChaCha20 spread over the cases (GCM-128 with its full
# ICV, and ESN with it, are in most other tests: natt.sh, esp_esn.sh, esp_nft.sh...).
CASES=${INTEROP_CASES:-"gcm64/transport gcm96/tunnel gcm256/tunnel cbc/transport cbc256/tunnel
	cbc192+esn/transport chacha+esn/transport null/tunnel"}

tunnel_hosts
for c in $CASES; do
	[[ ${c#*/} == tunnel || ${c#*/} == transport ]] || { tunnel_hosts6; break; }
done

SPI_AB=0x00000100 SPI_BA=0x00000200
ESN_START=0xffffff80
# bytes over TCP each way per case: about 180 full-size packets, and as many ACKs
XFER=262144
tmp=$(mktemp -d)
defer "rm -rf $tmp"
CAP_SNAPLEN=64

hexkey() # BYTES: random key material, 0x...
{
	echo "0x$(od -An -tx1 -N "$1" /dev/urandom | tr -d ' \n')"
}

# algo NAME: the ALGO words of one direction, fresh keys each call, into the array ALGO
algo()
{
	case $1 in
	gcm128)	ALGO=(aead 'rfc4106(gcm(aes))' "$(hexkey 20)" 128) ;;
	gcm192)	ALGO=(aead 'rfc4106(gcm(aes))' "$(hexkey 28)" 128) ;;
	gcm256)	ALGO=(aead 'rfc4106(gcm(aes))' "$(hexkey 36)" 128) ;;
	gcm64)	ALGO=(aead 'rfc4106(gcm(aes))' "$(hexkey 20)" 64) ;;
	gcm96)	ALGO=(aead 'rfc4106(gcm(aes))' "$(hexkey 28)" 96) ;;
	cbc)	ALGO=(enc 'cbc(aes)' "$(hexkey 16)" auth-trunc 'hmac(sha256)' "$(hexkey 32)" 128) ;;
	cbc192)	ALGO=(enc 'cbc(aes)' "$(hexkey 24)" auth-trunc 'hmac(sha256)' "$(hexkey 32)" 96) ;;
	cbc256)	ALGO=(enc 'cbc(aes)' "$(hexkey 32)" auth-trunc 'hmac(sha256)' "$(hexkey 32)" 256) ;;
	chacha)	ALGO=(aead 'rfc7539esp(chacha20,poly1305)' "$(hexkey 36)" 128) ;;
	null)	ALGO=(enc 'ecb(cipher_null)' '' auth-trunc 'hmac(sha256)' "$(hexkey 32)" 128) ;;
	ah)	ALGO=(auth-trunc 'hmac(sha256)' "$(hexkey 32)" 128) ;;
	ah4)	ALGO=(auth-trunc 'hmac(sha256)' "$(hexkey 32)" 128 flag align4) ;;
	ah96)	ALGO=(auth-trunc 'hmac(sha256)' "$(hexkey 32)" 96) ;;
	ah256)	ALGO=(auth-trunc 'hmac(sha256)' "$(hexkey 32)" 256) ;;
	*)	fail "unknown algorithm case '$1'" ;;
	esac
}

# mode_addrs MODE: the xfrm mode, the SAs' addresses (OUT_A, OUT_B) and the selectors'
# (SEL_A, SEL_B) of a case's mode
mode_addrs()
{
	local out4="10.0.0.1 10.0.0.2" out6="fd00::1 fd00::2"
	local in4="10.1.0.1 10.2.0.1" in6="fd01::1 fd02::1" out sel
	XMODE=tunnel
	case $1 in
	transport)	XMODE=transport out=$out4 sel=$out4 ;;
	transport6)	XMODE=transport out=$out6 sel=$out6 ;;
	tunnel)		out=$out4 sel=$in4 ;;
	6in6)		out=$out6 sel=$in6 ;;
	4in6)		out=$out6 sel=$in4 ;;
	6in4)		out=$out4 sel=$in6 ;;
	*)		fail "unknown mode '$1'" ;;
	esac
	read -r OUT_A OUT_B <<<"$out"
	read -r SEL_A SEL_B <<<"$sel"
}

# configure ALG MODE: flush both sides, then the same SAs and mirrored policies on each
configure()
{
	local alg=${1%%+*} mode ns impl ab ba flags=() esn=() udp=()
	algo "$alg"; ab=("${ALGO[@]}")
	algo "$alg"; ba=("${ALGO[@]}")
	[[ $1 == *+esn* ]] &&
		esn=(flag esn replay-window 128 replay-seq $ESN_START replay-oseq $ESN_START)
	mode_addrs "$2"
	mode=$XMODE
	[[ $2 == 4in6 || $2 == 6in4 ]] && flags=(flag af-unspec)
	if [[ $1 == *+udp* ]]; then
		udp=(encap espinudp 4500 4500 0.0.0.0)
		[[ $OUT_A == *:* ]] && udp=(encap espinudp 4500 4500 ::)
	fi
	for ns in "$a" "$b"; do
		impl=$LEFT
		[[ $ns == "$b" ]] && impl=$RIGHT
		sa "$ns" "$impl" flush
		pol "$ns" "$impl" flush
		sa "$ns" "$impl" add src $OUT_A dst $OUT_B proto $P spi $SPI_AB reqid 1 \
			mode "$mode" "${flags[@]}" "${esn[@]}" "${udp[@]}" "${ab[@]}"
		sa "$ns" "$impl" add src $OUT_B dst $OUT_A proto $P spi $SPI_BA reqid 2 \
			mode "$mode" "${flags[@]}" "${esn[@]}" "${udp[@]}" "${ba[@]}"
	done
	pol "$a" "$LEFT" add src $SEL_A dst $SEL_B dir out \
		tmpl src $OUT_A dst $OUT_B proto $P reqid 1 mode "$mode"
	pol "$a" "$LEFT" add src $SEL_B dst $SEL_A dir in \
		tmpl src $OUT_B dst $OUT_A proto $P reqid 2 mode "$mode"
	pol "$b" "$RIGHT" add src $SEL_B dst $SEL_A dir out \
		tmpl src $OUT_B dst $OUT_A proto $P reqid 2 mode "$mode"
	pol "$b" "$RIGHT" add src $SEL_A dst $SEL_B dir in \
		tmpl src $OUT_A dst $OUT_B proto $P reqid 1 mode "$mode"
	TO_B=$SEL_B TO_A=$SEL_A
}

# The counters every step checks (esp_lib.sh: snap, delta, check_sides)
NAMES="tx_packets rx_packets rx_auth_fail rx_replay_dup rx_replay_old rx_bad_trailer rx_too_short
	rx_policy_mismatch rx_unprotected rx_no_mem rx_crypto_error tx_no_sa tx_no_mem tx_crypto_error
	tx_no_route tx_error tx_frag_inner rx_ecn"


# The packets an SA sent or accepted, as its lifetime counts them (ESP or AH packets, an inner
# datagram's fragments each), for nfsec as for xfrm
sa_packets() # NS IMPL SPI
{
	if is_nfsec "$2"; then
		sastat "$1" "$3" packets
	else
		xsa_packets "$1" "$3"
	fi
}

# ESN: both SAs of both sides went past 2^32 (from ESN_START) during the transfers
check_esn_crossed()
{
	local ns impl spi dir x
	for ns in "$a" "$b"; do
		impl=$LEFT
		[[ $ns == "$b" ]] && impl=$RIGHT
		for spi in $SPI_AB $SPI_BA; do
			dir=in
			[[ $spi == "$SPI_AB" && $ns == "$a" || $spi == "$SPI_BA" && $ns == "$b" ]] && dir=out
			if is_nfsec "$impl"; then
				x=$(sa_field "$ns" $spi "$([[ $dir == out ]] && echo oseq || echo seq)")
				check_eq "$(side "$ns") SA $spi ($dir) high half of the sequence number" \
					"$((x >> 32))" 1
			else
				x=$(ip -n "$ns" xfrm state list spi $spi)
				[[ $dir == out ]] && re="oseq-hi 0x1," || re="(^|[^o])seq-hi 0x1,"
				grep -Eq "$re" <<<"$x" || fail "$(side "$ns") SA $spi ($dir) not past 2^32: $x"
				pass "$(side "$ns") SA $spi ($dir) past 2^32"
			fi
		done
	done
}

# ESP in UDP over IPv6: every datagram on the link (both sides', captured whole, with the
# devices' checksum offload off so that the checksums are final on the wire) has a UDP
# checksum, and a right one (RFC 8200 8.1)
check_udp6_csum()
{
	local ns n seen zero bad
	for ns in a b; do
		n=$(cap_count "$tmp/$ns.pcap" "udp port 4500")
		# one pass of tshark (it takes seconds to start under TCG): each datagram's checksum
		# and tshark's verdict on it (1: good; a zero one is 4, illegal in IPv6)
		read -r seen zero bad < <(tshark -r "$tmp/$ns.pcap" -o udp.check_checksum:TRUE \
			-Y 'udp.port == 4500' -T fields -e udp.checksum -e udp.checksum.status \
			2>/dev/null | awk '{ n++ } $1 == "0x0000" { z++ } $2 != 1 { b++ }
				END { print n + 0, z + 0, b + 0 }')
		check_eq "ESP-in-UDP datagrams from $ns tshark read (tcpdump counted $n)" "$seen" "$n"
		check_eq "ESP-in-UDP datagrams from $ns with a zero checksum" "$zero" 0
		check_eq "ESP-in-UDP datagrams from $ns whose checksum tshark finds wrong (of $n)" \
			"$bad" 0
	done
}

run_case()
{
	local alg=${1%/*} mode=${1#*/} ns wire_ab wire_ba ip_all big t0=$SECONDS
	local L3 IP SPIAT LEN PNUM frag
	echo "# ---- $alg, $mode mode"
	mode_addrs "$mode"
	# The outer family in tcpdump's words, where the SPI is in a packet without options or
	# extension headers, and a filter for packets of more than 1400 bytes.
	if [[ $OUT_A == *:* ]]; then
		L3=ip6 IP="ip6 and not icmp6" SPIAT=40 LEN="ip6[4:2] > 1360"
	else
		L3=ip IP=ip SPIAT=20 LEN="ip[2:2] > 1400"
	fi
	P=esp PNUM=50
	[[ $alg == ah* ]] && P=ah PNUM=51 SPIAT=$((SPIAT + 4))
	# ESP in UDP: the SPI after the UDP header
	[[ $alg == *+udp* ]] && PNUM=17 SPIAT=$((SPIAT + 8))
	configure "$alg" "$mode"
	# the first ping resolves ARP and proves the SAs work before anything is counted
	ip netns exec "$a" ping -c 1 -W 5 "$TO_B" >/dev/null 2>&1 || true
	ip netns exec "$b" ping -c 1 -W 5 "$TO_A" >/dev/null 2>&1 || true

	snap
	pings_each_way
	for ns in $(nfsec_sides); do
		counters_now "$ns"
		# 4in6: the 1400-byte IPv4 packets do not fit the IPv6 tunnel, and go as two
		# fragments each, fragmented before encapsulation (two requests, two replies)
		frag=0
		[[ $mode == 4in6 ]] && frag=4
		check_eq "$(side "$ns") tx_frag_inner after the pings" "$(moved "$ns" tx_frag_inner)" $frag
		check_eq "$(side "$ns") tx_packets after the pings" "$(moved "$ns" tx_packets)" $((12 + frag))
		check_eq "$(side "$ns") rx_packets after the pings" "$(moved "$ns" rx_packets)" 12
	done

	snap
	CAP_SNAPLEN=64 CAP_BUFFER=
	if [[ $alg == *+udp* && $L3 == ip6 ]]; then
		# whole packets of 256 KiB each way: a buffer (KiB) that holds them all
		CAP_SNAPLEN=0 CAP_BUFFER=65536
		ip netns exec "$a" ethtool -K eth0 tx off >/dev/null
		ip netns exec "$b" ethtool -K eth0 tx off >/dev/null
	fi
	cap_start "$a" eth0 "$tmp/a.pcap" "-Q out $IP"
	cap_start "$b" eth0 "$tmp/b.pcap" "-Q out $IP"
	xfer "$a" "$b" "$TO_B" 5001 $XFER
	xfer "$b" "$a" "$TO_A" 5002 $XFER
	cap_stop
	for ns in a b; do
		grep -q "^0 packets dropped by kernel" "$tmp/$ns.pcap.log" ||
			fail "tcpdump on $ns dropped packets: $(cat "$tmp/$ns.pcap.log")"
	done
	wire_ab=$(cap_count "$tmp/a.pcap" "$L3 proto $PNUM and src $OUT_A and dst $OUT_B and $L3[$SPIAT:4] = $SPI_AB")
	wire_ba=$(cap_count "$tmp/b.pcap" "$L3 proto $PNUM and src $OUT_B and dst $OUT_A and $L3[$SPIAT:4] = $SPI_BA")
	ip_all=$(($(cap_captured "$tmp/a.pcap") + $(cap_captured "$tmp/b.pcap")))
	((wire_ab > 200 && wire_ba > 200)) || fail "too little $P on the wire: $wire_ab a->b, $wire_ba b->a"
	if ((ip_all != wire_ab + wire_ba)); then
		for ns in a b; do
			echo "# $ns sent, not $P of its SA:"
			tcpdump -r "$tmp/$ns.pcap" -n 2>/dev/null | grep -vi "$P(spi=0x00000[12]00" |
				head -n 6 | sed 's/^/#   /'
		done
	fi
	check_eq "$L3 packets on the link that are not $P with the SAs' SPIs" \
		"$((ip_all - wire_ab - wire_ba))" 0
	pass "wire: only $P during the transfers, $wire_ab a->b and $wire_ba b->a"
	# TCP found the MTU left inside ESP: full-size packets, not ever smaller ones
	for ns in a b; do
		big=$(cap_count "$tmp/$ns.pcap" "$L3 proto $PNUM and $LEN")
		check_eq "$P packets of more than 1400 bytes from $ns (over 150)" "$((big > 150))" 1
	done

	check_sides "$P" "$wire_ab" "$wire_ba"
	# the receiver's SA accepted every packet the sender's SA sent, whoever implements which
	check_eq "packets of SA $SPI_AB, a sent / b received" \
		"$(sa_packets "$a" "$LEFT" $SPI_AB)" "$(sa_packets "$b" "$RIGHT" $SPI_AB)"
	check_eq "packets of SA $SPI_BA, b sent / a received" \
		"$(sa_packets "$b" "$RIGHT" $SPI_BA)" "$(sa_packets "$a" "$LEFT" $SPI_BA)"
	check_xfrm_icv
	[[ $alg != *+esn* ]] || check_esn_crossed
	[[ $alg != *+udp* || $L3 != ip6 ]] || check_udp6_csum
	echo "# $alg, $mode mode: $((SECONDS - t0)) s"
}

# ESP in UDP (NAME+udp): xfrm takes it only through a UDP_ENCAP socket on the port, one per
# outer family the cases use
for f in 4 6; do
	for c in $CASES; do
		[[ $c == *+udp* ]] || continue
		mode_addrs "${c#*/}"
		[[ $f == 6 && $OUT_A == *:* || $f == 4 && $OUT_A != *:* ]] || continue
		is_nfsec "$LEFT" || encap_socket "$a" 4500 $f
		is_nfsec "$RIGHT" || encap_socket "$b" 4500 $f
		break
	done
done
for c in $CASES; do
	run_case "$c"
done
exit 0
