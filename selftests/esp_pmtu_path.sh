#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Path MTU past the first hop: a router between the gateways whose far link is smaller answers
# their ESP with ICMP fragmentation-needed, and the gateway must believe it.
#
#   h1 10.1.0.2 -- 10.1.0.1 gwA 10.0.1.1 -- 10.0.1.2 r 10.0.2.1 ==MTU 1300== 10.0.2.2 gwB
#                           (LEFT)                                           (RIGHT)
#                                                      gwB 10.2.0.1 -- 10.2.0.2 h2
#
# r is a plain router; every link but r - gwB has MTU 1500, so gwA's first hop fits and only r
# can tell it. rfc4106(gcm(aes)) ICV 128, nfsec SAs with `mss off` (only PMTU discovery can make
# TCP fit). Four cases: tunnel (h1 <-> h2) and transport (gwA <-> gwB themselves), each bare and
# in UDP (encap espinudp 4500 4500). The largest inner packet in 1300 bytes (esp_pmtu.sh has the
# arithmetic; xfrm's esp4_get_mtu() gives the same): tunnel 1246, transport 1266, 8 less in UDP.
# Per case, with fresh SAs and every route cache flushed:
#   1. 2 MB over TCP h1 -> h2 (transport: gwA -> gwB): sha256 matches within 30 s;
#   2. DF pings of 1400 bytes from h1 (gwA): one is refused with exactly the MTU above, from
#      gwA ("Frag needed") or locally ("message too long"); a DF ping of that size passes;
#   3. nfsec on gwA: the refused ping counts tx_frag_needed and took no sequence number (the
#      SA's oseq stands still: the sender's route cache is flushed first, so the refusal is
#      nfsec's from the SA's learnt MTU); pmtu_update moved; pmtu_ignored stays 0.
# Last, on an nfsec gwA, three forged frag-needed (MTU 600) quoting ESP the SA never sent (an
# unknown SPI, its SPI from another source, its SPI without UDP) count pmtu_ignored 3 and leave
# the SA's path MTU alone.
# Run with xfrm on gwA too: native xfrm passes the same checks.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
run_combos "nfsec/xfrm xfrm/nfsec"
need_cmd socat python3

ns_create h1 gwA r gwB h2
veth_pair "$h1" eth0 10.1.0.2/24 "$gwA" lan0 10.1.0.1/24
veth_pair "$gwA" wan0 10.0.1.1/24 "$r" left0 10.0.1.2/24
veth_pair "$r" right0 10.0.2.1/24 "$gwB" wan0 10.0.2.2/24
veth_pair "$gwB" lan0 10.2.0.1/24 "$h2" eth0 10.2.0.2/24
ip -n "$r" link set right0 mtu 1300
ip -n "$gwB" link set wan0 mtu 1300
ip -n "$h1" route add default via 10.1.0.1
ip -n "$h2" route add default via 10.2.0.1
ip -n "$gwA" route add default via 10.0.1.2
ip -n "$gwB" route add default via 10.0.2.1
for ns in "$gwA" "$r" "$gwB"; do
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0
done
is_nfsec "$LEFT" || encap_socket "$gwA" 4500
is_nfsec "$RIGHT" || encap_socket "$gwB" 4500

SPI_AB=0x1001 SPI_BA=0x2002
KEY_AB=0x1111111111111111111111111111111122222222
KEY_BA=0x3333333333333333333333333333333344444444
XFER_TIMEOUT=30

# configure MODE ENCAP: fresh SAs and policies on both gateways, route caches flushed
configure()
{
	local side ns impl extra enc= sel_a sel_b
	[[ $2 == udp ]] && enc="encap espinudp 4500 4500 0.0.0.0"
	if [[ $1 == tunnel ]]; then
		sel_a=10.1.0.0/24 sel_b=10.2.0.0/24
	else
		sel_a=10.0.1.1/32 sel_b=10.0.2.2/32
	fi
	for side in "$gwA $LEFT" "$gwB $RIGHT"; do
		read -r ns impl <<<"$side"
		extra=
		is_nfsec "$impl" && extra="mss off"
		sa "$ns" "$impl" flush
		pol "$ns" "$impl" flush
		sa "$ns" "$impl" add src 10.0.1.1 dst 10.0.2.2 proto esp spi $SPI_AB reqid 1 mode "$1" \
			aead 'rfc4106(gcm(aes))' $KEY_AB 128 $enc $extra
		sa "$ns" "$impl" add src 10.0.2.2 dst 10.0.1.1 proto esp spi $SPI_BA reqid 2 mode "$1" \
			aead 'rfc4106(gcm(aes))' $KEY_BA 128 $enc $extra
	done
	pol "$gwA" "$LEFT" add src $sel_a dst $sel_b dir out \
		tmpl src 10.0.1.1 dst 10.0.2.2 proto esp reqid 1 mode "$1"
	pol "$gwB" "$RIGHT" add src $sel_b dst $sel_a dir out \
		tmpl src 10.0.2.2 dst 10.0.1.1 proto esp reqid 2 mode "$1"
	for dir in in $([[ $1 == tunnel ]] && echo fwd); do
		pol "$gwA" "$LEFT" add src $sel_b dst $sel_a dir $dir \
			tmpl src 10.0.2.2 dst 10.0.1.1 proto esp reqid 2 mode "$1"
		pol "$gwB" "$RIGHT" add src $sel_a dst $sel_b dir $dir \
			tmpl src 10.0.1.1 dst 10.0.2.2 proto esp reqid 1 mode "$1"
	done
	for ns in "$h1" "$gwA" "$r" "$gwB" "$h2"; do
		ip -n "$ns" route flush cache
	done
}

# df_refused NS DST SIZE: DF pings of SIZE bytes until one is refused with an MTU (the first
# may vanish at r); prints that MTU, or "none"
df_refused()
{
	local i out mtu
	for ((i = 0; i < 5; i++)); do
		out=$(ip netns exec "$1" ping -M do -c 1 -W 1 -s "$3" "$2" 2>&1) && { echo fits; return; }
		mtu=$(grep -oE '(mtu = |mtu=)[0-9]+' <<<"$out" | grep -oE '[0-9]+$' | head -n 1)
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

run_case()
{
	local mode=$1 encap=$2 port=$3 what="$1 ${2:-bare}" want from to dst p0 p1 fn0 fn1 seq0 seq1 x
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
	xfer "$from" "$to" "$dst" "$port" 2097152
	# the sender learnt the PMTU during TCP: make it ask the gateway's path again
	ip -n "$from" route flush cache
	is_nfsec "$LEFT" && read -r x fn0 seq0 <<<"$(gwA_state)"
	check_eq "$what: DF ping of 1400 refused with MTU" "$(df_refused "$from" "$dst" 1372)" "$want"
	if is_nfsec "$LEFT"; then
		read -r p1 fn1 seq1 <<<"$(gwA_state)"
		check_eq "$what: gwA (nfsec) tx_frag_needed for it" $((fn1 - fn0)) 1
		check_eq "$what: gwA (nfsec) SA $SPI_AB oseq after it (no number taken)" "$seq1" "$seq0"
		((p1 > p0)) || fail "$what: gwA (nfsec) pmtu_update did not move"
		pass "$what: gwA (nfsec) pmtu_update +$((p1 - p0))"
	fi
	check_eq "$what: DF ping of $want bytes" "$(df_refused "$from" "$dst" $((want - 28)))" fits
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
for src, spi in (("10.0.1.1", 0xdead), ("10.0.1.99", 0x1001), ("10.0.1.1", 0x1001)):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 1400, 0, 0x4000, 64, 50, 0,
                     socket.inet_aton(src), socket.inet_aton("10.0.2.2"))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    icmp = struct.pack("!BBHHH", 3, 4, 0, 0, 600) + ip + struct.pack("!II", spi, 1)
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    s.sendto(icmp, ("10.0.1.1", 0))
EOF
	ignored() { [[ $(nstat "$gwA" pmtu_ignored) == 3 ]]; }
	wait_for 10 ignored
	pass "gwA (nfsec) pmtu_ignored = 3 after three forged frag-needed"
	check_eq "DF ping of 1258 bytes after them" "$(df_refused "$gwA" 10.0.2.2 1230)" fits
fi
echo "# all cases in $((SECONDS - t0)) s"
exit 0
