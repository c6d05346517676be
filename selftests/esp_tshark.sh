#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# An independent decoder: tshark, given the keys, decrypts the ESP on the wire, verifies its ICV
# and finds the original packets inside.
#
#   a (10.0.0.1, inner 10.1.0.1, LEFT) --veth-- b (10.0.0.2, inner 10.2.0.1, RIGHT)
#
# Two cases: cbc(aes) + hmac(sha256) 128 in transport mode, rfc4106(gcm(aes)) ICV 128 in
# tunnel mode (a GCM transport case, commented out below, costs another ~40 s of VM time).
# Each: 5 pings a -> b and a UDP datagram carrying a marker string, captured on the link. Asserts, per direction: every ESP frame decrypts with a good ICV and
# self-describing padding (1, 2, 3, ...); the 5 echo requests (a -> b) and 5 replies
# (b -> a) with the pinging process' id appear inside; the marker appears in the decrypted UDP
# payload. nfsec's tx_packets/rx_packets equal the ESP frames it sent/received on the wire.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
run_combos "nfsec/xfrm"
need_cmd tcpdump tshark mergecap socat python3

tunnel_hosts
na() { ip netns exec "$a" "$@"; }
nb() { ip netns exec "$b" "$@"; }

SPI_AB=0x0000a001 SPI_BA=0x0000b002
GCM_AB=0x0123456789abcdef0123456789abcdef01020304
GCM_BA=0xfedcba9876543210fedcba987654321005060708
CBC_AB=0x000102030405060708090a0b0c0d0e0f CBC_BA=0x101112131415161718191a1b1c1d1e1f
MAC_AB=0x202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f
MAC_BA=0x404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f
tmp=$(mktemp -d)
defer "rm -rf $tmp"
mkdir -p "$tmp/home"

# configure MODE ALG_AB ALG_BA: SAs and policies on both sides (after flushing)
_udp_bound() { ip netns exec "$1" ss -Hlun "sport = :$2" | grep -q .; }

configure()
{
	local mode=$1 alg_ab=$2 alg_ba=$3 side n impl ns s1 s2
	if [[ $mode == tunnel ]]; then
		s1="src 10.1.0.1 dst 10.2.0.1" s2="src 10.2.0.1 dst 10.1.0.1"
	else
		s1="src 10.0.0.1 dst 10.0.0.2" s2="src 10.0.0.2 dst 10.0.0.1"
	fi
	for side in "a $LEFT" "b $RIGHT"; do
		read -r n impl <<<"$side"
		ns=${!n}
		sa "$ns" "$impl" flush
		pol "$ns" "$impl" flush
		eval "sa \"\$ns\" \"\$impl\" add src 10.0.0.1 dst 10.0.0.2 proto esp spi $SPI_AB reqid 1 mode $mode replay-window 32 $alg_ab"
		eval "sa \"\$ns\" \"\$impl\" add src 10.0.0.2 dst 10.0.0.1 proto esp spi $SPI_BA reqid 2 mode $mode replay-window 32 $alg_ba"
	done
	pol "$a" "$LEFT" add $s1 dir out tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 1 mode $mode
	pol "$a" "$LEFT" add $s2 dir in tmpl src 10.0.0.2 dst 10.0.0.1 proto esp reqid 2 mode $mode
	pol "$b" "$RIGHT" add $s2 dir out tmpl src 10.0.0.2 dst 10.0.0.1 proto esp reqid 2 mode $mode
	pol "$b" "$RIGHT" add $s1 dir in tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 1 mode $mode
}

# tshark_esp PCAP UAT_AB UAT_BA ARGS...: tshark on PCAP with both SAs' keys
tshark_esp()
{
	local pcap=$1 uab=$2 uba=$3
	shift 3
	HOME=$tmp/home tshark -n -r "$pcap" -o esp.enable_encryption_decode:TRUE \
		-o esp.enable_authentication_check:TRUE \
		-o "uat:esp_sa:\"IPv4\",\"10.0.0.1\",\"10.0.0.2\",\"$SPI_AB\",$uab" \
		-o "uat:esp_sa:\"IPv4\",\"10.0.0.2\",\"10.0.0.1\",\"$SPI_BA\",$uba" "$@" 2>/dev/null
}

# case NAME MODE ALG_AB ALG_BA UAT_AB UAT_BA
run_case()
{
	local name=$1 mode=$2 uab=$5 uba=$6 dst pcap=$tmp/$1.pcap id n esp_ab esp_ba out rx
	configure "$mode" "$3" "$4"
	dst=10.0.0.2
	[[ $mode == tunnel ]] && dst=10.2.0.1
	declare -A c0
	for side in a b; do
		impl=$LEFT; [[ $side == b ]] && impl=$RIGHT
		is_nfsec "$impl" || continue
		c0[$side,tx]=$(nstat "${!side}" tx_packets) c0[$side,rx]=$(nstat "${!side}" rx_packets)
	done

	# outgoing on each side: the wire, without what xfrm re-injects decrypted on its device
	cap_start "$a" eth0 "$pcap.a" "-Q out ip"
	cap_start "$b" eth0 "$pcap.b" "-Q out ip"
	out=$(na ping -c 5 -i 0.2 -W 5 $dst) || fail "$name: ping a -> b: $(tail -n 2 <<<"$out")"
	# a port of its own per case: the previous case's receiver may still be exiting
	port=$((port + 1))
	ip netns exec "$b" timeout 30 socat -u UDP-RECV:$port OPEN:"$tmp/$name.rx",creat,trunc &
	rx=$!
	wait_for 10 _udp_bound "$b" $port
	na socat -u - UDP-SENDTO:$dst:$port <<<"NFSEC-MARKER-$name"
	wait_for 10 grep -qs "NFSEC-MARKER-$name" "$tmp/$name.rx"
	kill $rx 2>/dev/null || true
	cap_stop
	mergecap -F pcap -w "$pcap" "$pcap.a" "$pcap.b"

	esp_ab=$(cap_count "$pcap" "esp and src 10.0.0.1")
	esp_ba=$(cap_count "$pcap" "esp and src 10.0.0.2")
	check_eq "$name: IPv4 on the wire that is not ESP" "$(($(cap_count "$pcap" ip) - esp_ab - esp_ba))" 0
	((esp_ab >= 6 && esp_ba >= 5)) || fail "$name: too few ESP frames: $esp_ab a->b, $esp_ba b->a"

	# one tshark pass: per ESP frame, ICV verdict, padding, and what it found inside
	tshark_esp "$pcap" "$uab" "$uba" -Y esp -T fields -E 'separator=|' -E occurrence=l \
		-e esp.spi -e esp.icv_good -e esp.pad -e esp.pad_len -e ip.src -e ip.dst \
		-e icmp.type -e icmp.ident -e udp.payload -e data.data >"$tmp/$name.esp"
	python3 - "$tmp/$name.esp" "$name" "$mode" "$esp_ab" "$esp_ba" <<'EOF' || fail "$name: tshark's view of the ESP frames (above)"
import sys
path, name, mode = sys.argv[1:4]
want_ab, want_ba = int(sys.argv[4]), int(sys.argv[5])
rows = [r.split("|") for r in open(path).read().split("\n") if r]
ok = True
def bad(msg):
    global ok
    ok = False
    print("# FAIL: %s: %s" % (name, msg))
n = {0xa001: 0, 0xb002: 0}
req, rep, marker, inner_ok = {}, {}, 0, 0
for r in rows:
    r += [""] * (10 - len(r))
    spi, good, pad, padlen, src, dst, itype, ident, payload, data = r[:10]
    payload += data
    spi = int(spi, 0)
    n[spi] = n.get(spi, 0) + 1
    padb = bytes.fromhex(pad.replace(":", "")) if pad else b""
    if good not in ("1", "True"):
        bad("spi %#x frame: ICV not verified (icv_good=%r)" % (spi, good))
    if padlen == "" or len(padb) != int(padlen) or padb != bytes(range(1, len(padb) + 1)):
        bad("spi %#x frame: padding %r, pad length %r" % (spi, pad, padlen))
    if mode == "tunnel" and (src, dst) in (("10.1.0.1", "10.2.0.1"), ("10.2.0.1", "10.1.0.1")):
        inner_ok += 1
    if itype == "8" and spi == 0xa001:
        req[ident] = req.get(ident, 0) + 1
    if itype == "0" and spi == 0xb002:
        rep[ident] = rep.get(ident, 0) + 1
    if payload and ("NFSEC-MARKER-" + name).encode().hex() in payload.replace(":", ""):
        marker += 1
print("# %s: tshark decrypted %d ESP frames a->b, %d b->a; echo requests %s, replies %s; marker in %d"
      % (name, n[0xa001], n[0xb002], req, rep, marker))
if (n[0xa001], n[0xb002]) != (want_ab, want_ba):
    bad("tshark saw %d/%d ESP frames, tcpdump %d/%d" % (n[0xa001], n[0xb002], want_ab, want_ba))
if len(req) != 1 or list(req.values()) != [5]:
    bad("want 5 echo requests of one ping inside a->b ESP: %s" % req)
elif rep != req:
    bad("want the 5 matching echo replies inside b->a ESP: %s" % rep)
if marker < 1:
    bad("the UDP marker is not in any decrypted payload")
if mode == "tunnel" and inner_ok != len(rows):
    bad("only %d of %d frames carry the inner 10.1.0.1 <-> 10.2.0.1 packet" % (inner_ok, len(rows)))
sys.exit(0 if ok else 1)
EOF
	pass "$name: tshark verifies the ICV and padding of all $((esp_ab + esp_ba)) ESP frames and finds the pings and the UDP marker inside"

	for side in a b; do
		impl=$LEFT; [[ $side == b ]] && impl=$RIGHT
		is_nfsec "$impl" || continue
		sent=$esp_ab got=$esp_ba
		[[ $side == b ]] && sent=$esp_ba got=$esp_ab
		check_eq "$name: $side (nfsec) tx_packets = its ESP frames on the wire" \
			$(($(nstat "${!side}" tx_packets) - c0[$side,tx])) "$sent"
		check_eq "$name: $side (nfsec) rx_packets = ESP frames it received" \
			$(($(nstat "${!side}" rx_packets) - c0[$side,rx])) "$got"
	done
}

GCM_UAT='"AES-GCM with 16 octet ICV [RFC4106]"'
port=40122
run_case cbc-hmac-transport transport \
	"enc 'cbc(aes)' $CBC_AB auth-trunc 'hmac(sha256)' $MAC_AB 128" \
	"enc 'cbc(aes)' $CBC_BA auth-trunc 'hmac(sha256)' $MAC_BA 128" \
	"\"AES-CBC [RFC3602]\",\"$CBC_AB\",\"HMAC-SHA-256-128 [RFC4868]\",\"$MAC_AB\"" \
	"\"AES-CBC [RFC3602]\",\"$CBC_BA\",\"HMAC-SHA-256-128 [RFC4868]\",\"$MAC_BA\""
# run_case gcm-transport transport \
#	"aead 'rfc4106(gcm(aes))' $GCM_AB 128" "aead 'rfc4106(gcm(aes))' $GCM_BA 128" \
#	"$GCM_UAT,\"$GCM_AB\",\"NULL\",\"\"" "$GCM_UAT,\"$GCM_BA\",\"NULL\",\"\""
run_case gcm-tunnel tunnel \
	"aead 'rfc4106(gcm(aes))' $GCM_AB 128" "aead 'rfc4106(gcm(aes))' $GCM_BA 128" \
	"$GCM_UAT,\"$GCM_AB\",\"NULL\",\"\"" "$GCM_UAT,\"$GCM_BA\",\"NULL\",\"\""
exit 0
