#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Path MTU past the first hop: a router between the gateways whose far link is smaller answers
# their ESP with ICMP fragmentation-needed or ICMPv6 packet too big, and the gateway must
# believe it.
#
#   h1 10.1.0.2 -- 10.1.0.1 gwA 10.0.1.1 -- 10.0.1.2 r 10.0.2.1 ==MTU 1300== 10.0.2.2 gwB
#      fd01::2     fd01::1 (LEFT) fd00:1::1  fd00:1::2  fd00:2::1             fd00:2::2 (RIGHT)
#                                                      gwB 10.2.0.1 -- 10.2.0.2 h2
#                                                          fd02::1     fd02::2
#
# r is a plain router; every link but r - gwB has MTU 1500, so gwA's first hop fits and only r
# can tell it. rfc4106(gcm(aes)) ICV 128, nfsec SAs with `mss off` (only PMTU discovery can make
# TCP fit). ESP adds 8 (SPI, sequence number) + 8 (IV) + 16 (ICV) = 32 bytes and 2 (pad length,
# next header) after the payload, which is padded so that payload + 2 is a multiple of 4. The
# largest inner packet in 1300 bytes (xfrm's esp4_get_mtu() and xfrm_state_mtu() agree):
#   IPv4 outer (20): 1300 - 20 - 32 = 1248, a multiple of 4, - 2 = 1246 (tunnel);
#                    transport: the packet's own header is the outer one, 1246 + 20 = 1266;
#   IPv6 outer (40): 1300 - 40 - 32 = 1228, - 2 = 1226 (tunnel); transport 1226 + 40 = 1266;
#   ESP in UDP: 8 less before the rounding (1240, 1220): tunnel 1238 (IPv4), 1218 (IPv6 outer),
#   transport 1258.
# IPv6 inside: every IPv6 link carries 1280 bytes (RFC 8200 5), so a packet too big gets packet
# too big with the larger of the figure above and 1280, and up to 1280 bytes go through, the ESP
# packet fragmented (an IPv4 outer header without DF, RFC 4213 3.2): with this path, every IPv6
# inner packet is told exactly 1280 by nfsec.
#
# IPv4 (4in4 and transport, each bare and in UDP, encap espinudp 4500 4500), per case, with
# fresh SAs and every route cache flushed:
#   1. 512 KiB over TCP h1 -> h2 (transport: gwA -> gwB): sha256 matches within 30 s;
#   2. DF pings of 1400 bytes from h1 (gwA): one is refused with exactly the MTU above, from
#      gwA ("Frag needed") or locally ("message too long"); a DF ping of that size passes;
#   3. nfsec on gwA: the refused ping counts tx_frag_needed and took no sequence number (the
#      SA's oseq stands still: the sender's route cache is flushed first, so the refusal is
#      nfsec's from the SA's learnt MTU); pmtu_update moved; pmtu_ignored stays 0.
# Then on an nfsec gwA, three forged frag-needed (MTU 600) quoting ESP the SA never sent (an
# unknown SPI in UDP, its SPI in UDP from another source, its SPI without UDP) count
# pmtu_ignored 3 and leave the SA's path MTU alone, and the route's: the two in UDP quote the
# SA's flow, and nfsec drops them, where 6.12's UDP error handler would believe them.
#
# IPv6, three cases with 512 KB of TCP each (PMTU discovery is over after the first few
# segments): an IPv6 outer tunnel in UDP with `flag af-unspec`, carrying both IPv6 (6in6) and
# IPv4 (4in6); 6in4 bare (IPv6 inside IPv4, af-unspec); IPv6 transport bare. Each family pair
# once, and a bare and a UDP IPv6 outer header. Left out for time (each case costs about as much
# as an IPv4 one): the IPv6 tunnel bare (only 8 bytes apart: 4in6 1226; the bare quote is
# transport's), 6in4 and IPv6 transport in UDP (the UDP quote over IPv6 is the tunnel's, over
# IPv4 the IPv4 cases'). Per case, with fresh SAs and every route cache flushed:
#   1. the TCP transfer (6in6 and 6in4: h1 -> h2 over IPv6; transport: gwA -> gwB) passes r,
#      which answers with ICMPv6 packet too big (6in4: fragmentation-needed), and the IPv6
#      packets of 1280 bytes the sender is then told to send go through, the ESP packets in
#      fragments; sha256 matches;
#   2. IPv6 inside (6in6, 6in4, transport): a DF ping of 1400 bytes is refused with exactly
#      1280, counted without a sequence number on an nfsec gwA as in 3. above, pmtu_update
#      moved; a UDP datagram of 1280 bytes that its sender may not fragment (IPV6_PMTUDISC_DO,
#      or forwarded) arrives whole, length and sha256 (one way: with xfrm on gwB, an echo of
#      1280 bytes would not come back, below);
#   3. IPv4 inside the IPv6 tunnel (4in6): a DF ping of 1400 is refused with exactly 1218
#      (bare it would be 1226), the same counters; a DF ping of that size passes; a UDP
#      datagram of 1400 bytes without DF arrives at h2 whole, and an nfsec gwA fragmented it
#      before encapsulation: tx_frag_inner +1 (with xfrm on gwA, its ESP-in-UDP packet
#      reaches an nfsec gwB in IPv6 fragments instead, which nfsec reassembles before it looks
#      for ESP in UDP).
# Last, on an nfsec gwA, three forged ICMPv6 packet too big (MTU 1280) quoting ESP the live
# IPv6 SA (in UDP) never sent, as for IPv4: pmtu_ignored +3 (none counted before them), and a
# DF IPv4 ping of 1218 bytes still passes (a believed one would have left 1198).
#
# Run with xfrm on gwA too: native xfrm passes the same checks but nfsec's counters, except for
# IPv6 inside a tunnel whose MTU is below 1280, where xfrm (6.1 and 6.12) tells the sender the
# figure above (6in6 in UDP 1218, bare 1226; 6in4 1246) and drops packets of up to 1280 bytes,
# which the sender cannot make smaller: the TCP transfer would stall, so there is none, and the
# datagram is of xfrm's size. In IPv6 transport mode xfrm tells the local sender the route's
# PMTU (1300) and refuses more than 1266 (EMSGSIZE): the datagram is of 1266 bytes.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
run_combos "nfsec/xfrm xfrm/nfsec"
need_cmd socat python3

ns_create h1 gwA r gwB h2
veth_pair "$h1" eth0 10.1.0.2/24 "$gwA" lan0 10.1.0.1/24
veth_pair "$gwA" wan0 10.0.1.1/24 "$r" left0 10.0.1.2/24
veth_pair "$r" right0 10.0.2.1/24 "$gwB" wan0 10.0.2.2/24
veth_pair "$gwB" lan0 10.2.0.1/24 "$h2" eth0 10.2.0.2/24
for a in "$h1 eth0 fd01::2" "$gwA lan0 fd01::1" "$gwA wan0 fd00:1::1" "$r left0 fd00:1::2" \
	"$r right0 fd00:2::1" "$gwB wan0 fd00:2::2" "$gwB lan0 fd02::1" "$h2 eth0 fd02::2"; do
	read -r ns dev addr <<<"$a"
	ip -n "$ns" addr add "$addr/64" dev "$dev" nodad
done
ip -n "$r" link set right0 mtu 1300
ip -n "$gwB" link set wan0 mtu 1300
ip -n "$h1" route add default via 10.1.0.1
ip -n "$h2" route add default via 10.2.0.1
ip -n "$gwA" route add default via 10.0.1.2
ip -n "$gwB" route add default via 10.0.2.1
ip -n "$h1" -6 route add default via fd01::1
ip -n "$h2" -6 route add default via fd02::1
ip -n "$gwA" -6 route add default via fd00:1::2
ip -n "$gwB" -6 route add default via fd00:2::1
for ns in "$gwA" "$r" "$gwB"; do
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0 \
		net.ipv6.conf.all.forwarding=1 net.ipv6.icmp.ratelimit=0
done
is_nfsec "$LEFT" || { encap_socket "$gwA" 4500; encap_socket "$gwA" 4500 6; }
is_nfsec "$RIGHT" || { encap_socket "$gwB" 4500; encap_socket "$gwB" 4500 6; }

SPI_AB=0x1001 SPI_BA=0x2002
KEY_AB=0x1111111111111111111111111111111122222222
KEY_BA=0x3333333333333333333333333333333344444444
XFER_TIMEOUT=30
tmp=$(mktemp -d)
defer "rm -rf $tmp"

# configure MODE ENCAP [OUTER [INNER]]: fresh SAs and policies on both gateways, every route
# cache flushed. OUTER (4 or 6, default 4) is the SAs' family; INNER (tunnel mode, default
# OUTER) the families they carry, "6 4" for both. An SA carrying another family than its own
# has flag af-unspec.
configure()
{
	local mode=$1 outer=${3:-4} side ns impl extra enc="" flags="" sels=() sel f dir a b sel_a sel_b
	local inner=${4:-${3:-4}}
	if [[ $outer == 6 ]]; then
		a=fd00:1::1 b=fd00:2::2
		[[ $2 == udp ]] && enc="encap espinudp 4500 4500 ::"
	else
		a=10.0.1.1 b=10.0.2.2
		[[ $2 == udp ]] && enc="encap espinudp 4500 4500 0.0.0.0"
	fi
	if [[ $mode == tunnel ]]; then
		for f in $inner; do
			if [[ $f == 4 ]]; then
				sels+=("10.1.0.0/24 10.2.0.0/24")
			else
				sels+=("fd01::/64 fd02::/64")
			fi
		done
		[[ $inner == "$outer" ]] || flags="flag af-unspec"
	elif [[ $outer == 6 ]]; then
		sels=("$a/128 $b/128")
	else
		sels=("$a/32 $b/32")
	fi
	for side in "$gwA $LEFT" "$gwB $RIGHT"; do
		read -r ns impl <<<"$side"
		extra=
		is_nfsec "$impl" && extra="mss off"
		sa "$ns" "$impl" flush
		pol "$ns" "$impl" flush
		sa "$ns" "$impl" add src $a dst $b proto esp spi $SPI_AB reqid 1 mode "$mode" $flags \
			aead 'rfc4106(gcm(aes))' $KEY_AB 128 $enc $extra
		sa "$ns" "$impl" add src $b dst $a proto esp spi $SPI_BA reqid 2 mode "$mode" $flags \
			aead 'rfc4106(gcm(aes))' $KEY_BA 128 $enc $extra
	done
	for sel in "${sels[@]}"; do
		read -r sel_a sel_b <<<"$sel"
		pol "$gwA" "$LEFT" add src $sel_a dst $sel_b dir out \
			tmpl src $a dst $b proto esp reqid 1 mode "$mode"
		pol "$gwB" "$RIGHT" add src $sel_b dst $sel_a dir out \
			tmpl src $b dst $a proto esp reqid 2 mode "$mode"
		for dir in in $([[ $mode == tunnel ]] && echo fwd); do
			pol "$gwA" "$LEFT" add src $sel_b dst $sel_a dir $dir \
				tmpl src $b dst $a proto esp reqid 2 mode "$mode"
			pol "$gwB" "$RIGHT" add src $sel_a dst $sel_b dir $dir \
				tmpl src $a dst $b proto esp reqid 1 mode "$mode"
		done
	done
	for ns in "$h1" "$gwA" "$r" "$gwB" "$h2"; do
		flush_cache "$ns"
	done
}

# flush_cache NS: forget the path MTUs NS learnt, of both families
flush_cache()
{
	ip -n "$1" route flush cache
	ip -n "$1" -6 route flush cache
}

# df_refused NS DST SIZE: DF pings of SIZE bytes until one is refused with an MTU (the first
# may vanish at r); prints that MTU, or "none"
df_refused()
{
	local i out mtu
	for ((i = 0; i < 5; i++)); do
		out=$(ip netns exec "$1" ping -M do -c 1 -W 1 -s "$3" "$2" 2>&1) && { echo fits; return; }
		mtu=$(grep -oE '(mtu = |mtu=|mtu: )[0-9]+' <<<"$out" | grep -oE '[0-9]+$' | head -n 1)
		[[ -z $mtu ]] || { echo "$mtu"; return; }
	done
	echo none
}

# gwA_state: "pmtu_update tx_frag_needed oseq" of nfsec on gwA (oseq of SA $SPI_AB), one call
# each (the tool and awk: cheaper under TCG than a python per value)
gwA_state()
{
	local n o
	n=$(ip netns exec "$gwA" nfsec stats | awk '$1 == "pmtu_update" { p = $2 }
		$1 == "tx_frag_needed" { f = $2 } END { print p, f }')
	o=$(ip netns exec "$gwA" nfsec -s sa show | awk -v spi="$(printf 'spi 0x%08x' $SPI_AB)" '
		/spi 0x/ { on = index($0, spi) > 0 }
		on && match($0, /oseq 0x[0-9a-f]+/) { print substr($0, RSTART + 5, RLENGTH - 5); exit }')
	[[ -n $o ]] || fail "nfsec -s sa show on gwA: no oseq for SA $SPI_AB"
	echo "$n $((o))"
}

# refused WHAT FROM DST WANT: with FROM's route cache flushed, a DF ping of 1400 bytes FROM ->
# DST is refused with MTU WANT, on an nfsec gwA counted in tx_frag_needed without taking a
# sequence number
refused()
{
	local what=$1 from=$2 dst=$3 want=$4 hdr=28 fn0 fn1 seq0 seq1 x
	[[ $dst == *:* ]] && hdr=48
	flush_cache "$from"
	is_nfsec "$LEFT" && read -r x fn0 seq0 <<<"$(gwA_state)"
	check_eq "$what: DF ping of 1400 refused with MTU" \
		"$(df_refused "$from" "$dst" $((1400 - hdr)))" "$want"
	if is_nfsec "$LEFT"; then
		read -r x fn1 seq1 <<<"$(gwA_state)"
		check_eq "$what: gwA (nfsec) tx_frag_needed for it" $((fn1 - fn0)) 1
		check_eq "$what: gwA (nfsec) SA $SPI_AB oseq after it (no number taken)" "$seq1" "$seq0"
	fi
}

# datagram WHAT FROM TO DST PORT LEN: a UDP datagram of LEN bytes (headers included) FROM ->
# TO's address DST arrives whole (length and sha256). IPv4 without DF, after FROM forgot what it
# learnt (it would fragment the datagram itself); IPv6 with IPV6_PMTUDISC_DO (no fragmenting
# by its sender, as for a packet forwarded), after what FROM learnt from refused()
datagram()
{
	local what=$1 from=$2 to=$3 dst=$4 port=$5 len=$6 log=$tmp/udp.$5 sum
	: >"$log"
	udp_listen "$to" "$dst" "$port" "$log"
	[[ $dst == *:* ]] || ip -n "$from" route flush cache
	len=$((len - 8 - ($([[ $dst == *:* ]] && echo 40 || echo 20))))
	# IP_MTU_DISCOVER (10) = IP_PMTUDISC_DONT (0); IPV6_MTU_DISCOVER (23) = IPV6_PMTUDISC_DO (2)
	sum=$(ip netns exec "$from" python3 -c '
import hashlib, os, socket, sys
dst, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if ":" in dst:
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, 23, 2)
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, 10, 0)
d = os.urandom(n)
s.sendto(d, (dst, port))
print(hashlib.sha256(d).hexdigest())' "$dst" "$port" "$len")
	got() { grep -q "^$len $sum$" "$log"; }
	wait_for 10 got
	pass "$what: UDP datagram of $6 bytes arrived whole (sha256 matches)"
}

run_case()
{
	local mode=$1 encap=$2 port=$3 what="$1 ${2:-bare}" want from to dst p0 p1 x
	configure "$mode" "$encap"
	want=1266
	[[ $mode == tunnel ]] && want=1246
	[[ $encap == udp ]] && want=$((want - 8))
	if [[ $mode == tunnel ]]; then
		from=$h1 to=$h2 dst=10.2.0.2
	else
		from=$gwA to=$gwB dst=10.0.2.2
	fi
	echo "# -- $what ESP ($((SECONDS - t0)) s)"
	is_nfsec "$LEFT" && read -r p0 x x <<<"$(gwA_state)"
	xfer "$from" "$to" "$dst" "$port" 524288
	# the sender learnt the PMTU during TCP: refused() makes it ask the gateway's path again
	refused "$what" "$from" "$dst" "$want"
	check_eq "$what: DF ping of $want bytes" "$(df_refused "$from" "$dst" $((want - 28)))" fits
	if is_nfsec "$LEFT"; then
		read -r p1 x x <<<"$(gwA_state)"
		((p1 > p0)) || fail "$what: gwA (nfsec) pmtu_update did not move"
		pass "$what: gwA (nfsec) pmtu_update +$((p1 - p0))"
	fi
}

# run_case6 KIND ENCAP PORT: KIND tunnel6 (an IPv6 tunnel carrying IPv6 and IPv4), 6in4 or
# transport6
run_case6()
{
	local kind=$1 encap=$2 port=$3 what="$1 ${2:-bare}" from=$h1 to=$h2 dst=fd02::2 v6=1280 tcp=1
	local v4=1226 dg p0 p1 f0 x
	[[ $encap == udp ]] && v4=1218
	case $kind in
	tunnel6)	configure tunnel "$encap" 6 "6 4" ;;
	6in4)		configure tunnel "$encap" 4 6 ;;
	transport6)	configure transport "$encap" 6
			from=$gwA to=$gwB dst=fd00:2::2 ;;
	esac
	dg=$v6
	if ! is_nfsec "$LEFT"; then
		# xfrm tells what fits inside ESP even below 1280 and drops the packets between that
		# and 1280, which their senders cannot make smaller (TCP would stall); in transport
		# mode it tells the route's PMTU and then refuses more than what fits inside ESP
		case $kind in
		tunnel6)	v6=$v4 dg=$v4 tcp= ;;
		6in4)		v6=1246 dg=1246 tcp= ;;
		transport6)	v6=1300 dg=1266 ;;
		esac
	fi
	echo "# -- $what ESP ($((SECONDS - t0)) s)"
	if [[ -n $tcp ]]; then
		is_nfsec "$LEFT" && read -r p0 x x <<<"$(gwA_state)"
		xfer "$from" "$to" "$dst" "$port" 524288
	else
		echo "# xfrm on gwA: no TCP over IPv6 through a tunnel whose MTU is below 1280"
	fi
	refused "$what, IPv6" "$from" "$dst" $v6
	if is_nfsec "$LEFT"; then
		read -r p1 x x <<<"$(gwA_state)"
		((p1 > p0)) || fail "$what: gwA (nfsec) pmtu_update did not move"
		pass "$what: gwA (nfsec) pmtu_update +$((p1 - p0))"
	fi
	datagram "$what, IPv6" "$from" "$to" "$dst" $((port + 1000)) $dg
	[[ $kind == tunnel6 ]] || return 0
	refused "$what, 4in6" "$h1" 10.2.0.2 $v4
	check_eq "$what, 4in6: DF ping of $v4 bytes" "$(df_refused "$h1" 10.2.0.2 $((v4 - 28)))" fits
	is_nfsec "$LEFT" && f0=$(nstat "$gwA" tx_frag_inner)
	datagram "$what, 4in6 without DF" "$h1" "$h2" 10.2.0.2 $((port + 2000)) 1400
	is_nfsec "$LEFT" &&
		check_eq "$what, 4in6: gwA (nfsec) tx_frag_inner for it" \
			$(($(nstat "$gwA" tx_frag_inner) - f0)) 1
	return 0
}

t0=$SECONDS
run_case tunnel "" 5001
run_case tunnel udp 5002
run_case transport "" 5003
run_case transport udp 5004
if is_nfsec "$LEFT"; then
	check_eq "gwA (nfsec) pmtu_ignored" "$(nstat "$gwA" pmtu_ignored)" 0
	# Forged frag-needed (MTU 600) from r, quoting ESP that the live SA (in UDP) never sent:
	# an unknown SPI, the SA's SPI from another source, the SA's SPI bare: none believed.
	ip netns exec "$r" python3 - <<'EOF'
import socket, struct
def csum(b):
    b += bytes(len(b) % 2)
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
for src, spi, udp in (("10.0.1.1", 0xdead, True), ("10.0.1.99", 0x1001, True),
                      ("10.0.1.1", 0x1001, False)):
    esp = struct.pack("!II", spi, 1)
    if udp:
        esp = struct.pack("!HHHH", 4500, 4500, 1380, 0) + esp
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 1400, 0, 0x4000, 64, 17 if udp else 50, 0,
                     socket.inet_aton(src), socket.inet_aton("10.0.2.2"))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    icmp = struct.pack("!BBHHH", 3, 4, 0, 0, 600) + ip + esp
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    s.sendto(icmp, ("10.0.1.1", 0))
EOF
	ignored() { [[ $(nstat "$gwA" pmtu_ignored) == 3 ]]; }
	wait_for 10 ignored
	pass "gwA (nfsec) pmtu_ignored = 3 after three forged frag-needed"
	check_eq "DF ping of 1258 bytes after them" "$(df_refused "$gwA" 10.0.2.2 1230)" fits
fi
run_case6 6in4 "" 5006
run_case6 transport6 "" 5007
run_case6 tunnel6 udp 5008
if is_nfsec "$LEFT"; then
	check_eq "gwA (nfsec) pmtu_ignored after the IPv6 cases" "$(nstat "$gwA" pmtu_ignored)" 3
	# Forged packet too big (MTU 1280) from r, as above: the live SA is IPv6 in UDP. The
	# kernel sums ICMPv6 on a raw socket.
	ip netns exec "$r" python3 - <<'EOF'
import socket, struct
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
for src, spi, udp in (("fd00:1::1", 0xdead, True), ("fd00:1::99", 0x1001, True),
                      ("fd00:1::1", 0x1001, False)):
    esp = struct.pack("!II", spi, 1)
    if udp:
        esp = struct.pack("!HHHH", 4500, 4500, 1352, 0) + esp
    ip6 = struct.pack("!IHBB16s16s", 6 << 28, 1360, 17 if udp else 50, 64,
                      socket.inet_pton(socket.AF_INET6, src),
                      socket.inet_pton(socket.AF_INET6, "fd00:2::2"))
    s.sendto(struct.pack("!BBHI", 2, 0, 0, 1280) + ip6 + esp, ("fd00:1::1", 0))
EOF
	ignored() { [[ $(nstat "$gwA" pmtu_ignored) == 6 ]]; }
	wait_for 10 ignored
	pass "gwA (nfsec) pmtu_ignored = 6 after three forged packet too big"
	flush_cache "$h1"
	check_eq "DF ping 4in6 of 1218 bytes after them" "$(df_refused "$h1" 10.2.0.2 1190)" fits
fi
echo "# all cases in $((SECONDS - t0)) s"
exit 0
