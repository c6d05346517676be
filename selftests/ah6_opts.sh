#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# AH over IPv6 with extension headers in front of it, against the kernel's ah6: the ICV covers
# the IPv6 header and its hop-by-hop and destination options with the mutable fields zeroed
# (RFC 4302 3.3.3.1.2): traffic class, flow label, hop limit and the data of every option
# whose type has the "may change en route" bit (0x20) set; the rest as sent.
#
#   a (fd00::1, LEFT) eth0 ---veth--- eth0 (fd00::2, RIGHT) b
#
# AH transport mode, hmac(sha256) 128, SPI 0x6001 a -> b and 0x6002 b -> a; permanent
# neighbour entries, so that nothing but the test's datagrams goes between the addresses.
# ah6_opts.py sends UDP datagrams with their options as ancillary data; each hop-by-hop or
# destination options header carries option 0x3e (RFC 4727 experimental, may change) and 0x1e
# (the same, immutable), both with nonzero data. The kernel puts a destination options header
# with no routing header in front of AH (ip6_find_1stfragopt()), as nfsec does.
#   1. Four datagrams each way: hop-by-hop options with traffic class 0x48; destination options
#      with traffic class 0x2e and flow label 0x12345; both headers with traffic class 0xb9
#      and hop limit 7; neither, with traffic class 0xfe, flow label 0xabcde, hop limit 200.
#      Linux sends a datagram's hop-by-hop options only without an explicit flow label (with
#      IPV6_FLOWINFO_SEND the label's own options replace them: fl6_merge_options()): those
#      carry the automatic flow label. Asserted: every datagram arrives at the other side's
#      socket with its payload's sha256; recvmsg() reports the hop-by-hop and destination
#      options headers as sent (next header as after AH is taken out) and no other, the
#      traffic class, the hop limit, the explicit flow label or a nonzero automatic one. On
#      the wire (tshark, both sides' outgoing captures merged): exactly those frames, each
#      AH with its direction's SPI before UDP, after the option headers sent, in that order,
#      with their option types and data, traffic class and hop limit as sent. nfsec's
#      tx_packets and rx_packets moved by exactly 4, no drop counter (rx_auth_fail among
#      them) moved; xfrm counted no ICV failure.
#   2. tc pedit rules on each side's ingress (u32: hop-by-hop first, option 0x3e first in it,
#      and the traffic class) change three datagrams with both headers, sent each way: 0x21,
#      a data byte of the hop-by-hop 0x1e (immutable); 0x22, one of the destination 0x1e; 0x23,
#      the data of both 0x3e options, the hop limit, the traffic class and the flow label
#      (mutable). Each way only 0x23 arrives, with exactly the changed values in recvmsg();
#      each receiver counted exactly 2 ICV failures (nfsec: rx_auth_fail, xfrm:
#      XfrmInStateProtoError) and nfsec's other counters moved by exactly what it sent and
#      delivered: tx_packets 3, rx_packets 1, nothing else; xfrm's inbound SA 1 packet.
# Runs nfsec/xfrm and xfrm/nfsec: each implementation sends and receives in both.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
run_combos "nfsec/xfrm xfrm/nfsec"
need_cmd tcpdump tshark mergecap tc python3

ns_create a b
veth_pair "$a" eth0 fd00::1/64 "$b" eth0 fd00::2/64
na() { ip netns exec "$a" "$@"; }
nb() { ip netns exec "$b" "$@"; }
na ip neigh replace fd00::2 lladdr "$(nb cat /sys/class/net/eth0/address)" dev eth0 nud permanent
nb ip neigh replace fd00::1 lladdr "$(na cat /sys/class/net/eth0/address)" dev eth0 nud permanent

PY=(python3 "$SELFTESTS_DIR/ah6_opts.py")
SPI_AB=0x6001 SPI_BA=0x6002
KEY_AB=0x$(od -An -tx1 -N 32 /dev/urandom | tr -d ' \n')
KEY_BA=0x$(od -An -tx1 -N 32 /dev/urandom | tr -d ' \n')
tmp=$(mktemp -d)
defer "rm -rf $tmp"

for side in "a $LEFT" "b $RIGHT"; do
	read -r n impl <<<"$side"
	ns=${!n}
	sa "$ns" "$impl" add src fd00::1 dst fd00::2 proto ah spi $SPI_AB reqid 1 mode transport \
		replay-window 32 auth-trunc 'hmac(sha256)' "$KEY_AB" 128
	sa "$ns" "$impl" add src fd00::2 dst fd00::1 proto ah spi $SPI_BA reqid 2 mode transport \
		replay-window 32 auth-trunc 'hmac(sha256)' "$KEY_BA" 128
done
pol "$a" "$LEFT" add src fd00::1 dst fd00::2 dir out tmpl src fd00::1 dst fd00::2 proto ah reqid 1 mode transport
pol "$a" "$LEFT" add src fd00::2 dst fd00::1 dir in tmpl src fd00::2 dst fd00::1 proto ah reqid 2 mode transport
pol "$b" "$RIGHT" add src fd00::2 dst fd00::1 dir out tmpl src fd00::2 dst fd00::1 proto ah reqid 2 mode transport
pol "$b" "$RIGHT" add src fd00::1 dst fd00::2 dir in tmpl src fd00::1 dst fd00::2 proto ah reqid 1 mode transport

NAMES="tx_packets rx_packets rx_auth_fail rx_replay_dup rx_replay_old rx_too_short
	rx_policy_mismatch rx_unprotected rx_no_mem rx_crypto_error tx_no_sa tx_no_mem tx_crypto_error
	tx_no_route tx_error"

# receivers: a on [fd00::1]:7001, b on [fd00::2]:7002, logging to rx.a and rx.b
ip netns exec "$a" "${PY[@]}" recv fd00::1 7001 "$tmp/rx.a" &
ip netns exec "$b" "${PY[@]}" recv fd00::2 7002 "$tmp/rx.b" &
wait_for 10 grep -qs ready "$tmp/rx.a"
wait_for 10 grep -qs ready "$tmp/rx.b"
lines() { echo $(($(wc -l <"$1") - 1)); }
arrived() { (($(lines "$1") >= $2)); }
# poll CMD...: until CMD succeeds, at most 10 s, and never fail: the checks after it say what
# is missing
poll()
{
	local i
	for ((i = 0; i < 100; i++)); do
		"$@" && return 0
		sleep 0.1
	done
}

impl_of() { [[ $1 == "$a" ]] && echo "$LEFT" || echo "$RIGHT"; }

# check_rx WAY SENT RX FIRST CHANGES [WAY SENT RX ...]: the datagrams the sender logged in
# SENT arrived, in RX from its datagram FIRST on (from 0), exactly those and as sent; CHANGES is
# JSON, {case: {field: value}}: what arrives changed, or {case: {"dropped": true}}
check_rx()
{
	python3 - "$@" <<'EOF'
import json, sys
args, ok = sys.argv[1:], True
for i in range(0, len(args), 5):
    way, sent, rx, first, changes = args[i:i + 5]
    sent = [json.loads(l) for l in open(sent)]
    rx = [json.loads(l) for l in open(rx) if l.startswith("{")][int(first):]
    changes = json.loads(changes)
    for s in sent:
        s.update(changes.get(s["case"], {}))
    want = [s for s in sent if not s.get("dropped")]
    by_sha = dict((r["sha"], r) for r in rx)
    if len(rx) != len(want):
        print("# %s: %d datagrams arrived, want %d" % (way, len(rx), len(want)))
        ok = False
    for s in sent:
        r = by_sha.get(s["sha"])
        if s.get("dropped"):
            if r is not None:
                print("# %s: %s arrived, but should have been dropped" % (way, s["case"]))
                ok = False
            continue
        if r is None:
            print("# %s: %s did not arrive (sha256 %s...)" % (way, s["case"], s["sha"][:16]))
            ok = False
            continue
        bad = ["%s %s, want %s" % (k, r.get(k), s.get(k))
               for k in ("hbh", "dst", "tc", "hlim") if s.get(k) != r.get(k)]
        if "fl" in s and r.get("fl") != s["fl"]:
            bad.append("flow label %#x, want %#x" % (r.get("fl") or 0, s["fl"]))
        if "fl" not in s and not r.get("fl"):
            bad.append("automatic flow label missing")
        if bad:
            ok = False
            print("# %s: %s arrived, but %s" % (way, s["case"], "; ".join(bad)))
    print("# %s: %d of %d datagrams arrived as sent%s" % (
        way, sum(s["sha"] in by_sha for s in want), len(want),
        ", %d dropped" % (len(sent) - len(want)) if len(sent) > len(want) else ""))
sys.exit(0 if ok else 1)
EOF
}

# check_wire PCAP SENT_AB SENT_BA: the frames from each address are exactly its datagrams, in
# order, each AH with the SPI of its direction after the option headers sent
check_wire()
{
	tshark -n -r "$1" -Y 'ipv6 && !icmpv6' -T fields -E 'separator=|' -E occurrence=a \
		-E aggregator=, -e ipv6.src -e ipv6.nxt -e ipv6.hopopts.nxt -e ipv6.dstopts.nxt \
		-e ah.spi -e ah.next_header -e ipv6.opt.type -e ipv6.opt.experimental \
		-e ipv6.tclass -e ipv6.hlim 2>/dev/null >"$1.txt"
	python3 - "$1.txt" "$2" "$3" $SPI_AB $SPI_BA <<'EOF'
import json, sys
frames = [l.rstrip("\n").split("|") for l in open(sys.argv[1]) if l.strip()]
ok = True
for src, path, spi in (("fd00::1", sys.argv[2], sys.argv[4]),
                       ("fd00::2", sys.argv[3], sys.argv[5])):
    sent = [json.loads(l) for l in open(path)]
    mine = [f for f in frames if f[0] == src]
    if len(mine) != len(sent):
        print("# %d frames from %s on the wire, %d datagrams sent" % (len(mine), src, len(sent)))
        ok = False
    for s, f in zip(sent, mine):
        f += [""] * (10 - len(f))
        _, nxt, hnxt, dnxt, fspi, anxt, types, data, tclass, hlim = f[:10]
        # IPv6 -> [hop-by-hop] -> [destination options] -> AH -> UDP
        chain = [int(x) for x in (nxt, hnxt, dnxt) if x]
        want, wtypes, wdata = [], [], []
        for k, t in (("hbh", 0), ("dst", 60)):
            if k in s:
                want.append(t)
                wtypes += [0x3e, 0x1e, 1]
                wdata += [s[k][8:16], s[k][20:28]]
        want = (want or [51]) + ([51] if want else [])
        bad = []
        if chain != want:
            bad.append("header chain %s, want %s" % (chain, want))
        if fspi == "" or int(fspi, 0) != int(spi, 0) or anxt != "17":
            bad.append("AH spi %r next header %r" % (fspi, anxt))
        if [int(t, 0) for t in types.split(",") if t] != wtypes or \
           [d for d in data.split(",") if d] != wdata:
            bad.append("options %s, data %s" % (types, data))
        if int(tclass, 0) != s["tc"] or int(hlim) != s["hlim"]:
            bad.append("traffic class %s hop limit %s" % (tclass, hlim))
        if bad:
            ok = False
            print("# %s from %s on the wire: %s" % (s["case"], src, "; ".join(bad)))
    print("# wire: %d frames from %s, AH spi %s" % (len(mine), src, spi))
sys.exit(0 if ok else 1)
EOF
}

# 1. datagrams both ways
CASES=(hbh+tc=0x48 dst+tc=0x2e+fl=0x12345 hbh+dst+tc=0xb9+hl=7 tc=0xfe+fl=0xabcde+hl=200)
N=${#CASES[@]}
t0=$SECONDS
snap
cap_start "$a" eth0 "$tmp/a.pcap" "-Q out ip6"
cap_start "$b" eth0 "$tmp/b.pcap" "-Q out ip6"
na "${PY[@]}" send fd00::1 fd00::2 7002 "${CASES[@]}" >"$tmp/sent.ab" || fail "sending a -> b"
nb "${PY[@]}" send fd00::2 fd00::1 7001 "${CASES[@]}" >"$tmp/sent.ba" || fail "sending b -> a"
poll arrived "$tmp/rx.b" "$N"
poll arrived "$tmp/rx.a" "$N"
cap_stop
mergecap -F pcap -w "$tmp/all.pcap" "$tmp/a.pcap" "$tmp/b.pcap"
check_rx "a ($LEFT) -> b ($RIGHT)" "$tmp/sent.ab" "$tmp/rx.b" 0 '{}' \
	"b ($RIGHT) -> a ($LEFT)" "$tmp/sent.ba" "$tmp/rx.a" 0 '{}' || fail "datagrams (above)"
pass "$N datagrams each way arrived: payload, options, traffic class, flow label, hop limit as sent"
check_wire "$tmp/all.pcap" "$tmp/sent.ab" "$tmp/sent.ba" || fail "the frames on the wire (above)"
pass "wire: $N AH frames each way with the SAs' SPIs, behind the option headers sent"
check_sides "AH" "$N" "$N"
check_xfrm_icv
echo "# datagrams: $((SECONDS - t0)) s"

# 2. tampering on the way, on the receiver's ingress: the datagrams with both headers (hop-by-hop
# at 40: 0x3e data at 44-47, 0x1e data at 50-53; destination options at 56: 0x3e data at 60-63,
# 0x1e data at 66-69) of traffic class 0x21, 0x22, 0x23
t0=$SECONDS
tamper() # NS PREF TCLASS PEDIT...
{
	local tc=$3
	ip netns exec "$1" tc filter add dev eth0 ingress pref "$2" protocol ipv6 u32 \
		match u16 $((0x6000 | tc << 4)) 0xfff0 at 0 match u8 0 0xff at 6 \
		match u8 0x3e 0xff at 42 action pedit "${@:4}" || fail "tc pedit on $(side "$1")"
}
# ICV failures NS's implementation counted
auth_fail()
{
	if is_nfsec "$(impl_of "$1")"; then
		nstat "$1" rx_auth_fail
	else
		xstat "$1" XfrmInStateProtoError
	fi
}
auth_fail_is() { [[ $(auth_fail "$1") == "$2" ]]; }
# per side: its datagrams' log, its inbound SA
declare -A f0 n0 x0 rxlog=(["$a"]=$tmp/rx.a ["$b"]=$tmp/rx.b) insa=(["$a"]=$SPI_BA ["$b"]=$SPI_AB)
snap
for ns in "$a" "$b"; do
	ip netns exec "$ns" tc qdisc add dev eth0 clsact
	tamper "$ns" 1 0x21 munge offset 50 u8 set 0x00
	tamper "$ns" 2 0x22 munge offset 66 u8 set 0xff
	# version 6, traffic class 0xa5, flow label 0xfedcb; hop limit 9; both 0x3e's data
	tamper "$ns" 3 0x23 munge offset 0 u32 set 0x6a5fedcb munge offset 7 u8 set 9 \
		munge offset 44 u8 set 0x11 munge offset 62 u8 set 0x22
	f0[$ns]=$(auth_fail "$ns")
	n0[$ns]=$(lines "${rxlog[$ns]}")
	is_nfsec "$(impl_of "$ns")" || x0[$ns]=$(xsa_packets "$ns" "${insa[$ns]}")
done
NEG=(hbh+dst+tc=0x21 hbh+dst+tc=0x22 hbh+dst+tc=0x23)
na "${PY[@]}" send fd00::1 fd00::2 7002 "${NEG[@]}" >"$tmp/neg.ab" || fail "sending a -> b"
nb "${PY[@]}" send fd00::2 fd00::1 7001 "${NEG[@]}" >"$tmp/neg.ba" || fail "sending b -> a"
for ns in "$a" "$b"; do
	poll arrived "${rxlog[$ns]}" $((n0[$ns] + 1))
	poll auth_fail_is "$ns" $((f0[$ns] + 2))
done
CHANGES='{"hbh+dst+tc=0x21": {"dropped": true}, "hbh+dst+tc=0x22": {"dropped": true},
	"hbh+dst+tc=0x23": {"tc": 165, "fl": 1043915, "hlim": 9,
		"hbh": "3c013e0411a2a3a41e04b1b2b3b40100", "dst": "11013e04c1c222c41e04d1d2d3d40100"}}'
check_rx "a ($LEFT) -> b ($RIGHT)" "$tmp/neg.ab" "$tmp/rx.b" "${n0[$b]}" "$CHANGES" \
	"b ($RIGHT) -> a ($LEFT)" "$tmp/neg.ba" "$tmp/rx.a" "${n0[$a]}" "$CHANGES" ||
	fail "changed datagrams (above)"
pass "immutable option data changed: dropped; mutable option data, hop limit, traffic class," \
	"flow label changed: delivered with them"
for ns in "$a" "$b"; do
	check_eq "$(side "$ns"): ICV failures" "$(($(auth_fail "$ns") - f0[$ns]))" 2
	if is_nfsec "$(impl_of "$ns")"; then
		counters_now "$ns"
		for n in $NAMES; do
			case $n in
			tx_packets) want=3 ;;
			rx_packets) want=1 ;;
			rx_auth_fail) want=2 ;;
			*) want=0 ;;
			esac
			check_eq "$(side "$ns") $n" "$((current[$ns,$n] - before[$ns,$n]))" $want
		done
	else
		check_eq "$(side "$ns"): packets of its inbound SA" \
			"$(($(xsa_packets "$ns" "${insa[$ns]}") - x0[$ns]))" 1
	fi
done
echo "# tampering: $((SECONDS - t0)) s"
exit 0
