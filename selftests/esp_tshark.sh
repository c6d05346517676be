#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# An independent decoder: tshark, given the keys, decrypts the ESP on the wire, verifies its ICV
# and finds the original packets inside.
#
#   a (10.0.0.1, inner 10.1.0.1, LEFT) --veth-- b (10.0.0.2, inner 10.2.0.1, RIGHT)
#     fd00::1, inner fd01::1                      fd00::2, inner fd02::1
#
# Two cases, each over IPv4 and IPv6 at once (SAs of both families, one capture, one tshark
# pass): cbc(aes) + hmac(sha256) 128 in transport mode (10.0.0.1 <-> 10.0.0.2, fd00::1 <->
# fd00::2), rfc4106(gcm(aes)) ICV 128 in tunnel mode (10.1.0.1 <-> 10.2.0.1 inside 10.0.0.x,
# 6in6 fd01::1 <-> fd02::1 inside fd00::x); tshark's SA table takes the IPv6 addresses. A GCM
# transport case, commented out below, would cost another ~40 s of VM time.
# Each, per family: 5 pings a -> b and a UDP datagram carrying a marker string, captured on the
# link (IPv6: permanent neighbour entries, so that no neighbour discovery crosses it;
# multicast is left out of the capture). Asserts, per family and direction: every frame of the
# family on the link is ESP of the family's SAs; every ESP frame decrypts with a good ICV and
# self-describing padding (1, 2, 3, ...); the 5 echo requests (a -> b) and 5 replies (b -> a)
# with the pinging process' id appear inside; the family's marker appears in a decrypted UDP
# payload; in tunnel mode every frame carries the inner addresses. nfsec's
# tx_packets/rx_packets equal the ESP frames it sent/received on the wire.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
run_combos "nfsec/xfrm"
need_cmd tcpdump tshark mergecap socat python3

tunnel_hosts
tunnel_hosts6
na() { ip netns exec "$a" "$@"; }
nb() { ip netns exec "$b" "$@"; }
na ip neigh replace fd00::2 lladdr "$(nb cat /sys/class/net/eth0/address)" dev eth0 nud permanent
nb ip neigh replace fd00::1 lladdr "$(na cat /sys/class/net/eth0/address)" dev eth0 nud permanent

# SPIs a -> b and b -> a: IPv4's, IPv6's
SPI_AB=0x0000a001 SPI_BA=0x0000b002
SPI6_AB=0x0000a601 SPI6_BA=0x0000b602
GCM_AB=0x0123456789abcdef0123456789abcdef01020304
GCM_BA=0xfedcba9876543210fedcba987654321005060708
CBC_AB=0x000102030405060708090a0b0c0d0e0f CBC_BA=0x101112131415161718191a1b1c1d1e1f
MAC_AB=0x202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f
MAC_BA=0x404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f
# the counters snap and counters_now read (esp_lib.sh)
NAMES="tx_packets rx_packets"
tmp=$(mktemp -d)
defer "rm -rf $tmp"
mkdir -p "$tmp/home"

# mode_addrs MODE: of transport, tunnel (IPv4), transport6 or 6in6: the xfrm mode (XMODE),
# tshark's name of the family (FAM), the SAs' addresses (OUT_A, OUT_B), SPIs (SAB, SBA) and
# reqids (RAB, RBA), the selectors' addresses (SEL_A, SEL_B) and the family on the link in
# tcpdump's words (L3: IPv6 without multicast, MLD and router solicitations)
mode_addrs()
{
	local out sel
	case $1 in
	transport)	XMODE=transport out="10.0.0.1 10.0.0.2" sel=$out ;;
	tunnel)		XMODE=tunnel out="10.0.0.1 10.0.0.2" sel="10.1.0.1 10.2.0.1" ;;
	transport6)	XMODE=transport out="fd00::1 fd00::2" sel=$out ;;
	6in6)		XMODE=tunnel out="fd00::1 fd00::2" sel="fd01::1 fd02::1" ;;
	*)		fail "unknown mode '$1'" ;;
	esac
	read -r OUT_A OUT_B <<<"$out"
	read -r SEL_A SEL_B <<<"$sel"
	if [[ $OUT_A == *:* ]]; then
		FAM=IPv6 SAB=$SPI6_AB SBA=$SPI6_BA RAB=3 RBA=4 L3="ip6 and not ip6 multicast"
	else
		FAM=IPv4 SAB=$SPI_AB SBA=$SPI_BA RAB=1 RBA=2 L3=ip
	fi
}

_udp_bound() { ip netns exec "$1" ss -Hlun "sport = :$2" | grep -q .; }

# configure MODE ALG_AB ALG_BA: the SAs and policies of MODE on both sides
configure()
{
	local alg_ab=$2 alg_ba=$3 side n impl ns s1 s2 mode
	mode_addrs "$1"
	mode=$XMODE
	s1="src $SEL_A dst $SEL_B" s2="src $SEL_B dst $SEL_A"
	for side in "a $LEFT" "b $RIGHT"; do
		read -r n impl <<<"$side"
		ns=${!n}
		eval "sa \"\$ns\" \"\$impl\" add src $OUT_A dst $OUT_B proto esp spi $SAB reqid $RAB mode $mode replay-window 32 $alg_ab"
		eval "sa \"\$ns\" \"\$impl\" add src $OUT_B dst $OUT_A proto esp spi $SBA reqid $RBA mode $mode replay-window 32 $alg_ba"
	done
	pol "$a" "$LEFT" add $s1 dir out tmpl src $OUT_A dst $OUT_B proto esp reqid $RAB mode $mode
	pol "$a" "$LEFT" add $s2 dir in tmpl src $OUT_B dst $OUT_A proto esp reqid $RBA mode $mode
	pol "$b" "$RIGHT" add $s2 dir out tmpl src $OUT_B dst $OUT_A proto esp reqid $RBA mode $mode
	pol "$b" "$RIGHT" add $s1 dir in tmpl src $OUT_A dst $OUT_B proto esp reqid $RAB mode $mode
}

# run_case NAME "MODE..." ALG_AB ALG_BA UAT_AB UAT_BA: the modes (one per family) at once
run_case()
{
	local name=$1 modes=$2 uab=$5 uba=$6 pcap=$tmp/$1.pcap esp_ab esp_ba out rx mode side n impl
	local ns sent got all_ab=0 all_ba=0 filter="" uats=() specs=() t0=$SECONDS
	for side in "a $LEFT" "b $RIGHT"; do
		read -r n impl <<<"$side"
		sa "${!n}" "$impl" flush
		pol "${!n}" "$impl" flush
	done
	for mode in $modes; do
		configure "$mode" "$3" "$4"
		filter+="${filter:+ or }($L3)"
	done
	snap

	# outgoing on each side: the wire, without what xfrm re-injects decrypted on its device
	cap_start "$a" eth0 "$pcap.a" "-Q out $filter"
	cap_start "$b" eth0 "$pcap.b" "-Q out $filter"
	# one receiver, IPv6's, takes IPv4 too; a port of its own per case: the previous case's
	# receiver may still be exiting
	port=$((port + 1))
	ip netns exec "$b" timeout 60 socat -u UDP6-RECV:$port OPEN:"$tmp/$name.rx",creat,trunc &
	rx=$!
	wait_for 10 _udp_bound "$b" $port
	for mode in $modes; do
		mode_addrs "$mode"
		out=$(na ping -c 5 -i 0.2 -W 5 "$SEL_B") ||
			fail "$name: ping a -> $SEL_B: $(tail -n 2 <<<"$out")"
		if [[ $FAM == IPv6 ]]; then
			na socat -u - "UDP6-SENDTO:[$SEL_B]:$port" <<<"NFSEC-MARKER-$name-$FAM"
		else
			na socat -u - "UDP-SENDTO:$SEL_B:$port" <<<"NFSEC-MARKER-$name-$FAM"
		fi
		wait_for 10 grep -qs "NFSEC-MARKER-$name-$FAM" "$tmp/$name.rx"
	done
	kill $rx 2>/dev/null || true
	cap_stop
	mergecap -F pcap -w "$pcap" "$pcap.a" "$pcap.b"

	for mode in $modes; do
		mode_addrs "$mode"
		esp_ab=$(cap_count "$pcap" "$L3 and esp and src $OUT_A and dst $OUT_B")
		esp_ba=$(cap_count "$pcap" "$L3 and esp and src $OUT_B and dst $OUT_A")
		check_eq "$name: $FAM on the wire that is not ESP between $OUT_A and $OUT_B" \
			"$(($(cap_count "$pcap" "$L3") - esp_ab - esp_ba))" 0
		((esp_ab >= 6 && esp_ba >= 5)) ||
			fail "$name: too few $FAM ESP frames: $esp_ab a->b, $esp_ba b->a"
		uats+=(-o "uat:esp_sa:\"$FAM\",\"$OUT_A\",\"$OUT_B\",\"$SAB\",$uab"
		       -o "uat:esp_sa:\"$FAM\",\"$OUT_B\",\"$OUT_A\",\"$SBA\",$uba")
		specs+=("$FAM" "$XMODE" "$SAB" "$SBA" "$SEL_A" "$SEL_B" "$esp_ab" "$esp_ba")
		all_ab=$((all_ab + esp_ab)) all_ba=$((all_ba + esp_ba))
	done

	# one tshark pass: per ESP frame, ICV verdict, padding, and what it found inside
	HOME=$tmp/home tshark -n -r "$pcap" -o esp.enable_encryption_decode:TRUE \
		-o esp.enable_authentication_check:TRUE "${uats[@]}" \
		-Y esp -T fields -E 'separator=|' -E occurrence=l \
		-e esp.spi -e esp.icv_good -e esp.pad -e esp.pad_len -e ip.src -e ip.dst \
		-e icmp.type -e icmp.ident -e udp.payload -e data.data -e ipv6.src -e ipv6.dst \
		-e icmpv6.type -e icmpv6.echo.identifier >"$tmp/$name.esp" 2>/dev/null
	python3 - "$tmp/$name.esp" "$name" "${specs[@]}" <<'EOF' || fail "$name: tshark's view of the ESP frames (above)"
import sys
path, name, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = [r.split("|") for r in open(path).read().split("\n") if r]
ok = True
def bad(msg):
    global ok
    ok = False
    print("# FAIL: %s: %s" % (name, msg))
fams = {}   # family: its SPIs, mode, inner addresses, frames counted by tcpdump and tshark...
by_spi = {}
for i in range(0, len(specs), 8):
    fam, mode, sab, sba, sel_a, sel_b, esp_ab, esp_ba = specs[i:i + 8]
    f = fams[fam] = dict(mode=mode, ab=int(sab, 0), ba=int(sba, 0), sel=(sel_a, sel_b),
                         want=(int(esp_ab), int(esp_ba)), n={}, req={}, rep={}, marker=0,
                         inner=0, rows=0)
    by_spi[f["ab"]] = by_spi[f["ba"]] = f
for r in rows:
    r += [""] * (14 - len(r))
    spi, good, pad, padlen, src, dst, itype, ident, payload, data = r[:10]
    spi = int(spi, 0)
    f = by_spi.get(spi)
    if f is None:
        bad("a frame of spi %#x, none of the SAs'" % spi)
        continue
    if f is fams.get("IPv6"):
        # ICMPv6 echo request 128, reply 129: in ICMP's numbers
        src, dst = r[10:12]
        itype, ident = {"128": "8", "129": "0"}.get(r[12], ""), r[13]
    payload += data
    f["rows"] += 1
    f["n"][spi] = f["n"].get(spi, 0) + 1
    padb = bytes.fromhex(pad.replace(":", "")) if pad else b""
    if good not in ("1", "True"):
        bad("spi %#x frame: ICV not verified (icv_good=%r)" % (spi, good))
    if padlen == "" or len(padb) != int(padlen) or padb != bytes(range(1, len(padb) + 1)):
        bad("spi %#x frame: padding %r, pad length %r" % (spi, pad, padlen))
    if (src, dst) in (f["sel"], f["sel"][::-1]):
        f["inner"] += 1
    if itype == "8" and spi == f["ab"]:
        f["req"][ident] = f["req"].get(ident, 0) + 1
    if itype == "0" and spi == f["ba"]:
        f["rep"][ident] = f["rep"].get(ident, 0) + 1
    if payload and ("NFSEC-MARKER-%s-" % name).encode().hex() in payload.replace(":", ""):
        f["marker"] += 1
for fam, f in fams.items():
    n_ab, n_ba = f["n"].get(f["ab"], 0), f["n"].get(f["ba"], 0)
    print("# %s %s: tshark decrypted %d ESP frames a->b, %d b->a; echo requests %s, replies %s;"
          " marker in %d" % (name, fam, n_ab, n_ba, f["req"], f["rep"], f["marker"]))
    if (n_ab, n_ba) != f["want"]:
        bad("%s: tshark saw %d/%d ESP frames, tcpdump %d/%d" % ((fam, n_ab, n_ba) + f["want"]))
    if len(f["req"]) != 1 or list(f["req"].values()) != [5]:
        bad("%s: want 5 echo requests of one ping inside a->b ESP: %s" % (fam, f["req"]))
    elif f["rep"] != f["req"]:
        bad("%s: want the 5 matching echo replies inside b->a ESP: %s" % (fam, f["rep"]))
    if f["marker"] != 1:
        bad("%s: the UDP marker is in %d decrypted payloads, want 1" % (fam, f["marker"]))
    if f["mode"] == "tunnel" and f["inner"] != f["rows"]:
        bad("%s: only %d of %d frames carry the inner %s <-> %s packet"
            % ((fam, f["inner"], f["rows"]) + f["sel"]))
sys.exit(0 if ok else 1)
EOF
	pass "$name: tshark verifies the ICV and padding of all $((all_ab + all_ba)) ESP frames ($modes) and finds the pings and the UDP markers inside"

	for ns in $(nfsec_sides); do
		counters_now "$ns"
		sent=$all_ab got=$all_ba
		[[ $ns == "$b" ]] && sent=$all_ba got=$all_ab
		check_eq "$name: $(side "$ns") tx_packets = its ESP frames on the wire" \
			$((current[$ns,tx_packets] - before[$ns,tx_packets])) "$sent"
		check_eq "$name: $(side "$ns") rx_packets = ESP frames it received" \
			$((current[$ns,rx_packets] - before[$ns,rx_packets])) "$got"
	done
	echo "# $name: $((SECONDS - t0)) s"
}

GCM_UAT='"AES-GCM with 16 octet ICV [RFC4106]"'
port=40122
run_case cbc-hmac-transport "transport transport6" \
	"enc 'cbc(aes)' $CBC_AB auth-trunc 'hmac(sha256)' $MAC_AB 128" \
	"enc 'cbc(aes)' $CBC_BA auth-trunc 'hmac(sha256)' $MAC_BA 128" \
	"\"AES-CBC [RFC3602]\",\"$CBC_AB\",\"HMAC-SHA-256-128 [RFC4868]\",\"$MAC_AB\"" \
	"\"AES-CBC [RFC3602]\",\"$CBC_BA\",\"HMAC-SHA-256-128 [RFC4868]\",\"$MAC_BA\""
# run_case gcm-transport "transport transport6" \
#	"aead 'rfc4106(gcm(aes))' $GCM_AB 128" "aead 'rfc4106(gcm(aes))' $GCM_BA 128" \
#	"$GCM_UAT,\"$GCM_AB\",\"NULL\",\"\"" "$GCM_UAT,\"$GCM_BA\",\"NULL\",\"\""
run_case gcm-tunnel "tunnel 6in6" \
	"aead 'rfc4106(gcm(aes))' $GCM_AB 128" "aead 'rfc4106(gcm(aes))' $GCM_BA 128" \
	"$GCM_UAT,\"$GCM_AB\",\"NULL\",\"\"" "$GCM_UAT,\"$GCM_BA\",\"NULL\",\"\""
exit 0
