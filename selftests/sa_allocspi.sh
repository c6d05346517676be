#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# SPI reservations (`nfsec sa allocspi`, as ip xfrm state allocspi) and the last-use time of
# SAs and policies, what strongSwan's charon needs of nfsec (issue 15).
#
# Topology: namespaces a (nfsec) and b (the kernel's xfrm) on a veth, 10.0.0.1 - 10.0.0.2 and
# fd00::1 - fd00::2. Control plane in a, each for IPv4 and IPv6:
#  - allocspi prints the SA to be as ip does, its SPI inside [min, max];
#  - a range of 16 SPIs gives 16 different SPIs, then the 17th fails (exit status and the
#    module's message "every SPI of the range ..."); an SA's SPI is never given out (the range
#    of an SA's SPI and one more gives the other); the same SPIs stay free for another
#    destination and AH;
#  - reservations are not SAs: `sa show` and `sa count` do not change, `nfsec stats` counts
#    them in spi_reservations;
#  - a reservation with timeout 5 expires: the SPI is refused at once, given again within a
#    few seconds (polled), and spi_reservations comes back;
#  - `sa add` and `sa update` (charon installs its inbound SA so) of a reserved SPI turn it
#    into an SA; `sa del` releases a reservation; `sa flush` drops them;
#  - the family is in the key: IPv4 10.0.0.1 and IPv6 a00:1:: (the same 16 bytes) both get
#    SPI 0x9000; an IPv6 SA added on it takes over only the IPv6 reservation (counts 2, 1),
#    the IPv4 one still refuses 0x9000, and its sa del leaves the IPv6 SA;
#  - bad input: min above max, min 0 (module messages through the tool); raw netlink
#    (nl_raw.py allocspi): proto comp, an SPI given, an algorithm, no proto, no dst, timeout
#    0 and 3601, a short min, a dst6 of 4 bytes, dst with dst6, an IPv4 src with an IPv6 dst;
#    each refused with an extack message; a well-formed one of each family gives its SPI.
# Datapath, transport ESP between a and b, IPv4 then IPv6 (with permanent neighbour entries, so
# that no NDP matches the policies; each family's SAs and policies flushed after it):
#  - b sends ESP with the SPI a only reserved: dropped in a, counted by rx_no_sa exactly 3
#    times (3 pings), rx_packets still;
#  - before that, no SA and no policy of a has a last use (JSON null, "lastused -" and
#    "use -" in -s output);
#  - once a installs the SA (sa update of the reservation), pings pass, and a's inbound and
#    outbound SAs and in and out policies have a last use between CLOCK_MONOTONIC before and
#    after the ping, which -s prints as a date between the real clock's then (within 1 s).
# (That reservations count against max_sas is sa_allocspi_max.sh's: it changes the global
# max_sas module parameter, and runs alone; this test runs beside others.)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
need_module
need_cmd python3 ping

ns_create a b
veth_pair "$a" eth0 10.0.0.1/24 "$b" eth0 10.0.0.2/24
_addr_add "$a" eth0 fd00::1/64
_addr_add "$b" eth0 fd00::2/64
na() { ip netns exec "$a" "$@"; }

KEY_IN=0x0123456789abcdef0123456789abcdef0badc0de
KEY_OUT=0xfedcba9876543210fedcba9876543210deadbeef
aead_in=(aead "rfc4106(gcm(aes))" "$KEY_IN" 128)
aead_out=(aead "rfc4106(gcm(aes))" "$KEY_OUT" 128)

count_sas() { na nfsec -j sa show | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
resv() { nstat "$a" spi_reservations; }
resv_is() { [[ $(resv) -eq $1 ]]; }
# allocspi WORDS...: the SPI given (0x%08x); fails with the tool's error. Reservations last
# 600 s unless WORDS say otherwise: the default 30 s may pass within a slow VM's test.
allocspi()
{
	local out
	[[ " $* " == *" timeout "* ]] || set -- "$@" timeout 600
	out=$(na nfsec sa allocspi "$@" 2>&1) || { echo "$out"; return 1; }
	sed -nE $'s/^\tproto [a-z]+ spi (0x[0-9a-f]{8}) .*/\\1/p' <<<"$out"
}
# allocspi_ok WORDS...: allocspi WORDS succeeds (quietly; for polls)
allocspi_ok() { na nfsec sa allocspi "$@" >/dev/null 2>&1; }
# refused WHAT TEXT WORDS...: allocspi WORDS fails, its error containing TEXT
refused()
{
	local what=$1 text=$2 err
	shift 2
	err=$(na nfsec sa allocspi "$@" 2>&1) && fail "$what: allocspi succeeded: $err"
	grep -qF -- "$text" <<<"$err" || fail "$what: error lacks '$text': $err"
}

# --- Control plane, for each family ---
for fam in 4 6; do
	if [[ $fam == 4 ]]; then me=10.0.0.1 peer=10.0.0.2 other=10.0.0.3; else
		me=fd00::1 peer=fd00::2 other=fd00::3; fi
	id=(src "$peer" dst "$me" proto esp)
	sas=$(count_sas) r0=$(resv)

	out=$(na nfsec sa allocspi "${id[@]}" mode tunnel reqid 5 min 0x2000 max 0x20ff timeout 600)
	first=$(head -n1 <<<"$out")
	check_eq "IPv$fam allocspi: first line" "$first" "src $peer dst $me"
	grep -qE $'^\tproto esp spi 0x000020[0-9a-f]{2} reqid 5 mode tunnel$' <<<"$out" ||
		fail "IPv$fam allocspi: not an SPI of 0x2000-0x20ff, reqid 5, tunnel: $out"
	pass "IPv$fam allocspi prints the SA to be as ip, an SPI of the range"

	declare -A seen=()
	for i in {1..16}; do
		spi=$(allocspi "${id[@]}" min 0x3000 max 0x300f) || fail "allocation $i of 16: $spi"
		(( spi >= 0x3000 && spi <= 0x300f )) || fail "SPI $spi outside 0x3000-0x300f"
		[[ -z ${seen[$spi]:-} ]] || fail "SPI $spi given twice"
		seen[$spi]=1
	done
	refused "IPv$fam 17th SPI of 16" "every SPI of the range is used by an SA or reserved" \
		"${id[@]}" min 0x3000 max 0x300f
	pass "IPv$fam: 16 SPIs of a range of 16 all different, the 17th refused"

	na nfsec sa add "${id[@]}" spi 0x4000 mode transport "${aead_in[@]}"
	for i in 1 2 3; do
		check_eq "IPv$fam SPI beside an SA's ($i)" "$(allocspi "${id[@]}" min 0x4000 max 0x4001)" \
			0x00004001
		na nfsec sa del dst "$me" proto esp spi 0x4001
	done
	refused "IPv$fam only SPI is an SA's" "every SPI of the range" "${id[@]}" min 0x4000 max 0x4000
	na nfsec sa del dst "$me" proto esp spi 0x4000
	# Another destination, proto ah: their own SPIs.
	check_eq "IPv$fam same SPI, other dst" "$(allocspi src "$peer" dst "$other" proto esp \
		min 0x3000 max 0x3000)" 0x00003000
	check_eq "IPv$fam same SPI, proto ah" "$(allocspi src "$peer" dst "$me" proto ah \
		min 0x3000 max 0x3000)" 0x00003000
	pass "IPv$fam: an SA's SPI is never given; dst and proto have their own SPIs"

	check_eq "IPv$fam SAs shown after allocations" "$(count_sas)" "$sas"
	check_eq "IPv$fam sa count" "$(na nfsec sa count)" "SAD count $sas"
	check_eq "IPv$fam spi_reservations" "$(resv)" $((r0 + 1 + 16 + 2))

	# Expiry: refused while it lasts, given again once it expired.
	check_eq "IPv$fam short reservation" "$(allocspi "${id[@]}" min 0x6000 max 0x6000 \
		timeout 5)" 0x00006000
	refused "IPv$fam reserved SPI asked again" "every SPI of the range" \
		"${id[@]}" min 0x6000 max 0x6000
	start=$SECONDS
	wait_for 20 allocspi_ok "${id[@]}" min 0x6000 max 0x6000 timeout 1
	wait_for 20 resv_is $((r0 + 1 + 16 + 2))
	pass "IPv$fam: a reservation expires (given again after $((SECONDS - start)) s)"

	# Takeover: add and update of a reserved SPI; del releases one.
	spi=$(allocspi "${id[@]}" min 0x5000 max 0x5fff)
	na nfsec sa add "${id[@]}" spi "$spi" mode transport "${aead_in[@]}"
	spi2=$(allocspi "${id[@]}" min 0x5000 max 0x5fff)
	na nfsec sa update "${id[@]}" spi "$spi2" mode transport "${aead_in[@]}"
	check_eq "IPv$fam SAs after add and update of reserved SPIs" "$(count_sas)" $((sas + 2))
	check_eq "IPv$fam spi_reservations after the takeovers" "$(resv)" $((r0 + 1 + 16 + 2))
	err=$(na nfsec sa update "${id[@]}" spi 0x5abc0 mode transport "${aead_in[@]}" 2>&1) &&
		fail "update of neither an SA nor a reservation succeeded"
	grep -qF "no such SA to update" <<<"$err" || fail "update of nothing: $err"
	check_eq "IPv$fam reserve for del" "$(allocspi "${id[@]}" min 0x7000 max 0x7000)" 0x00007000
	na nfsec sa del dst "$me" proto esp spi 0x7000
	check_eq "IPv$fam released SPI given again" "$(allocspi "${id[@]}" min 0x7000 max 0x7000)" \
		0x00007000
	na nfsec sa del dst "$me" proto esp spi 0x7000
	pass "IPv$fam: sa add and sa update take a reservation over, sa del releases one"

	na nfsec sa flush
	check_eq "IPv$fam spi_reservations after flush" "$(resv)" 0
	check_eq "IPv$fam SAs after flush" "$(count_sas)" 0
	pass "IPv$fam: sa flush drops reservations"
done

# The family is part of a reservation's key: IPv6 a00:1:: is, as a 16-byte address, 10.0.0.1
# followed by zeros. Each gets SPI 0x9000; the IPv6 SA added on it takes over only its own.
check_eq "IPv4 10.0.0.1 reserves 0x9000" "$(allocspi src 10.0.0.2 dst 10.0.0.1 proto esp \
	min 0x9000 max 0x9000)" 0x00009000
check_eq "IPv6 a00:1:: beside it" "$(allocspi src fd00::2 dst a00:1:: proto esp \
	min 0x9000 max 0x9000)" 0x00009000
check_eq "spi_reservations of both" "$(resv)" 2
na nfsec sa add src fd00::2 dst a00:1:: proto esp spi 0x9000 mode transport "${aead_in[@]}"
check_eq "spi_reservations after the IPv6 takeover" "$(resv)" 1
check_eq "SAs after the IPv6 takeover" "$(na nfsec sa count)" "SAD count 1"
refused "IPv4 reservation after the IPv6 takeover" "every SPI of the range" \
	src 10.0.0.2 dst 10.0.0.1 proto esp min 0x9000 max 0x9000
na nfsec sa del dst 10.0.0.1 proto esp spi 0x9000
check_eq "spi_reservations after the IPv4 release" "$(resv)" 0
na nfsec sa get dst a00:1:: proto esp spi 0x9000 >/dev/null || fail "the IPv6 SA went with the IPv4 release"
na nfsec sa flush
pass "the family is part of a reservation's key (10.0.0.1 and a00:1::)"

# Bad input.
refused "min above max" "min is above max" src 10.0.0.2 dst 10.0.0.1 proto esp min 0x200 max 0x100
refused "min 0 max 0" "SPI 0 is reserved" src 10.0.0.2 dst 10.0.0.1 proto esp min 0 max 0
refused "proto comp (tool)" "comp" src 10.0.0.2 dst 10.0.0.1 proto comp
refused "min without max" "go together" src 10.0.0.2 dst 10.0.0.1 proto esp min 0x200
na python3 "$SELFTESTS_DIR/nl_raw.py" allocspi || fail "raw allocspi requests (above)"
check_eq "spi_reservations after the bad input" "$(resv)" 0
pass "bad allocspi requests refused with a message"

# --- Datapath: a reserved SPI matches no packet; last use ---
SPI_OUT=0x100
# last_use JSON fields of a's SAs by SPI, and of its policies by dir, one a line
last_uses()
{
	{ na nfsec -s -j sa show; na nfsec -s -j policy show; } | python3 -c '
import json, sys
dec = json.JSONDecoder()
text = sys.stdin.read()
objs, i = [], 0
while i < len(text):
    if text[i].isspace():
        i += 1
        continue
    o, i = dec.raw_decode(text, i)
    objs.append(o)
sas, pols = objs
for s in sorted(sas, key=lambda s: s["spi"]):
    print("sa", s["spi"], s["current"]["last_use"])
for p in sorted(pols, key=lambda p: p["dir"]):
    print("policy", p["dir"], p["last_use"])'
}
# CLOCK_MONOTONIC seconds, what the module's last uses count in
mono() { python3 -c 'import time; print(int(time.monotonic()))'; }
date_re='[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}'

# IPv6 neighbours are permanent: NDP between the two addresses would match the policies too.
ip -n "$a" neigh replace fd00::2 dev eth0 lladdr "$(ip -n "$b" -br link show eth0 | awk '{ print $3 }')" nud permanent
ip -n "$b" neigh replace fd00::1 dev eth0 lladdr "$(ip -n "$a" -br link show eth0 | awk '{ print $3 }')" nud permanent
for fam in 4 6; do
	if [[ $fam == 4 ]]; then me=10.0.0.1 peer=10.0.0.2 plen=32; else
		me=fd00::1 peer=fd00::2 plen=128; fi
	spi_in=$(allocspi src "$peer" dst "$me" proto esp min 0xc0000000 max 0xcfffffff)
	na nfsec sa add src "$me" dst "$peer" proto esp spi $SPI_OUT mode transport "${aead_out[@]}"
	na nfsec policy add src "$me/$plen" dst "$peer/$plen" dir out \
		tmpl src "$me" dst "$peer" proto esp mode transport
	na nfsec policy add src "$peer/$plen" dst "$me/$plen" dir in \
		tmpl src "$peer" dst "$me" proto esp mode transport
	ip -n "$b" xfrm state add src "$peer" dst "$me" proto esp spi "$spi_in" mode transport \
		"${aead_in[@]}"
	ip -n "$b" xfrm state add src "$me" dst "$peer" proto esp spi $SPI_OUT mode transport \
		"${aead_out[@]}"
	ip -n "$b" xfrm policy add src "$peer/$plen" dst "$me/$plen" dir out \
		tmpl src "$peer" dst "$me" proto esp mode transport
	ip -n "$b" xfrm policy add src "$me/$plen" dst "$peer/$plen" dir in \
		tmpl src "$me" dst "$peer" proto esp mode transport

	lu=$(last_uses)
	check_eq "IPv$fam last uses before traffic" "$(awk '{ print $3 }' <<<"$lu" | sort -u)" "None"
	grep -qF $'\tlastused -' <<<"$(na nfsec -s sa show)" ||
		fail "IPv$fam -s sa show before traffic: no 'lastused -'"
	grep -qF $'\t  use -' <<<"$(na nfsec -s policy show)" ||
		fail "IPv$fam -s policy show before traffic: no 'use -'"
	pass "IPv$fam: no SA nor policy has a last use before traffic"

	no_sa=$(nstat "$a" rx_no_sa) rx=$(nstat "$a" rx_packets)
	ip netns exec "$b" ping -c 3 -i 0.2 -W 1 "$me" >/dev/null &&
		fail "IPv$fam ping through a reserved SPI answered"
	check_eq "IPv$fam rx_no_sa for ESP to a reserved SPI" $(($(nstat "$a" rx_no_sa) - no_sa)) 3
	check_eq "IPv$fam rx_packets for ESP to a reserved SPI" "$(nstat "$a" rx_packets)" "$rx"
	pass "IPv$fam: ESP for a reserved SPI matches no SA: counted in rx_no_sa"

	na nfsec sa update src "$peer" dst "$me" proto esp spi "$spi_in" mode transport "${aead_in[@]}"
	t0=$(mono) wall0=$(date +%s)
	ip netns exec "$b" ping -c 3 -i 0.2 -W 2 "$me" >/dev/null || fail "IPv$fam ping after the SA was installed"
	t1=$(mono) wall1=$(date +%s)
	lu=$(last_uses)
	for what in "sa $spi_in" "sa 0x00000100" "policy in" "policy out"; do
		t=$(awk -v w="$what" '$1 " " $2 == w { print $3 }' <<<"$lu")
		[[ $t =~ ^[0-9]+$ ]] || fail "IPv$fam $what: no last use after traffic: $lu"
		(( t >= t0 && t <= t1 )) ||
			fail "IPv$fam $what: last use $t, not of the ping (CLOCK_MONOTONIC $t0 to $t1)"
	done
	pass "IPv$fam: SAs and policies have the ping's last use, $t0 to $t1 ($(tr '\n' ' ' <<<"$lu"))"
	[[ $(na nfsec -s sa show | grep -cE $'^\tlastused '"$date_re") == 2 ]] ||
		fail "IPv$fam -s sa show: not a lastused date for both SAs: $(na nfsec -s sa show)"
	[[ $(na nfsec -s policy show | grep -cE $'^\t  use '"$date_re") == 2 ]] ||
		fail "IPv$fam -s policy show: not a use date for both policies: $(na nfsec -s policy show)"
	wall=$(na nfsec -s sa show | sed -nE $'s/^\tlastused (.*)/\\1/p' | head -n1)
	t=$(date -d "$wall" +%s)
	(( t >= wall0 - 1 && t <= wall1 + 1 )) ||
		fail "IPv$fam -s lastused $wall is not the ping's time ($(date -d @"$wall0") to $(date -d @"$wall1"))"
	pass "IPv$fam: -s prints the last use as a date, the ping's"

	na nfsec sa flush
	na nfsec policy flush
	ip -n "$b" xfrm state flush
	ip -n "$b" xfrm policy flush
done
