#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nfsec against native xfrm, in one boot, interleaved: see
# Documentation/performance.rst. Runs as root where the module loads (the
# VM of `make bench`); prints a table and one "json:" line.
#
#   bench/bench.sh [CASE...]     default: every case
#   ROUNDS=3 SECS=5              rounds per case and implementation, iperf3 seconds
#   PERF=1                       also sample every CPU (perf, cpu-clock: no PMU under TCG) during
#                                each measurement and print the top kernel symbols
#   PERF_UNDER="f g"             with PERF: what the samples under f (and g) spend their time in
set -eu
cd "$(dirname "$0")/.."
export PATH="$PWD/tools:$PATH:/usr/sbin:/sbin" LC_ALL=C
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-5}
ko=${NFSEC_KO:-$PWD/module/nfsec.ko}
GCM="aead 'rfc4106(gcm(aes))' 0x0123456789abcdef0123456789abcdef0badc0de 128"
CBC="enc 'cbc(aes)' 0x0123456789abcdef0123456789abcdef auth-trunc 'hmac(sha256)' 0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff 128"
NULLALG="enc 'ecb(cipher_null)' '' auth digest_null ''"

# NULL+NULL ESP is refused unless the module is loaded for benchmarks.
rmmod nfsec 2>/dev/null || true
insmod "$ko" allow_null=1

A=bench-a B=bench-b
a() { ip netns exec $A "$@"; }
b() { ip netns exec $B "$@"; }
cleanup() { ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null; true; }
trap cleanup EXIT

# a (10.0.0.1, inner 10.1.0.1) --veth-- b (10.0.0.2, inner 10.2.0.1)
topology()
{
	cleanup
	ip netns add $A && ip netns add $B
	ip -n $A link add eth0 type veth peer name eth0 netns $B
	ip -n $A addr add 10.0.0.1/24 dev eth0 && ip -n $B addr add 10.0.0.2/24 dev eth0
	ip -n $A addr add 10.1.0.1/32 dev lo && ip -n $B addr add 10.2.0.1/32 dev lo
	for n in $A $B; do ip -n $n link set eth0 up && ip -n $n link set lo up; done
	ip -n $A route add 10.2.0.1/32 via 10.0.0.2 src 10.1.0.1
	ip -n $B route add 10.1.0.1/32 via 10.0.0.1 src 10.2.0.1
	b iperf3 -s -D -B 10.2.0.1 >/dev/null
	b iperf3 -s -D -B 10.0.0.2 >/dev/null
	sleep 0.3
}

# ipsec IMPL MODE ALG...: the same words for both implementations.
ipsec()
{
	local impl=$1 mode=$2 sa pol; shift 2
	if [[ $impl == xfrm ]]; then sa="ip xfrm state"; pol="ip xfrm policy"; else sa="nfsec sa"; pol="nfsec policy"; fi
	local sel1="src 10.0.0.1 dst 10.0.0.2" sel2="src 10.0.0.2 dst 10.0.0.1"
	if [[ $mode == tunnel ]]; then sel1="src 10.1.0.1 dst 10.2.0.1"; sel2="src 10.2.0.1 dst 10.1.0.1"; fi
	for n in a b; do
		eval "$n $sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x100 reqid 1 mode $mode $*"
		eval "$n $sa add src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x200 reqid 2 mode $mode $*"
	done
	a $pol add $sel1 dir out tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 1 mode $mode
	a $pol add $sel2 dir in tmpl src 10.0.0.2 dst 10.0.0.1 proto esp reqid 2 mode $mode
	b $pol add $sel2 dir out tmpl src 10.0.0.2 dst 10.0.0.1 proto esp reqid 2 mode $mode
	b $pol add $sel1 dir in tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 1 mode $mode
}

target() { [[ $1 == tunnel ]] && echo 10.2.0.1 || echo 10.0.0.2; }

# profiled CMD...: CMD, sampled by perf when PERF is set: each symbol's own share of all
# CPUs' time (idle included), then the share of the datapath's entry points with their callees
profiled()
{
	if [[ -z ${PERF:-} ]]; then "$@"; return; fi
	perf record -q -g -e cpu-clock -F 2000 -a -o /tmp/perf.data -- "$@" 2>/dev/null
	{
	perf report -q -i /tmp/perf.data --no-children --sort sym --percent-limit 0.5 \
		--stdio -g none 2>/dev/null | sed '/^$/d' | head -n 40
	echo "with callees:"
	perf report -q -i /tmp/perf.data --children --sort sym --stdio -g none 2>/dev/null |
		grep -E '\] (out_hook|in_hook|nfsec_[a-z_]+|skb_segment|xfrm_output|xfrm_input|esp_[a-z_]+|tcp_sendmsg|tcp_recvmsg|tcp_v4_rcv|__alloc_skb|gro_cell_poll|napi_gro_receive|tcp4_gro_receive|tcp_ack|tcp_rcv_established)\s*$'
	local f
	for f in ${PERF_UNDER:-}; do
		echo "under $f:"
		perf script -i /tmp/perf.data -F ip,sym 2>/dev/null | under "$f"
	done
	} >/tmp/bench.perf
}

# under FUNC: of the samples whose stack holds FUNC (perf script -F ip,sym on stdin, leaf
# first), the share of all samples each leaf symbol has, with the top ten
under()
{
	python3 -c '
import collections, sys
f, total, under, leaves, stack = sys.argv[1], 0, 0, collections.Counter(), []
def done():
    global total, under
    if stack:
        total += 1
        if f in stack:
            under += 1
            leaves[stack[0]] += 1
for line in sys.stdin:
    w = line.split()
    if not w:
        done(); stack.clear()
    elif len(w) >= 2:
        stack.append(w[1].split("+")[0])
done()
print("%6.2f%%  %s with its callees" % (100.0 * under / max(total, 1), f))
for sym, n in leaves.most_common(10):
    print("%6.2f%%    %s" % (100.0 * n / total, sym))
' "$1"
}

# tcp HOST [iperf3 args]: Mbit/s received
tcp()
{
	profiled ip netns exec "$A" iperf3 -c "$@" -t "$SECS" -J | python3 -c '
import json, sys; print("%.1f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6))'
}

# udp64 HOST: kpps received, 64-byte payloads
udp64()
{
	a iperf3 -c "$1" -u -l 64 -b 0 -t "$SECS" -J | python3 -c '
import json, sys
s = json.load(sys.stdin)["end"]["sum"]
print("%.1f" % ((s["packets"] - s["lost_packets"]) / s["seconds"] / 1e3))'
}

# many IMPL N: N extra SAs and policies that match nothing in use
many()
{
	local impl=$1 n=$2 f
	f=$(mktemp)
	python3 - "$impl" "$n" > "$f" <<'PY'
import sys
impl, n = sys.argv[1], int(sys.argv[2])
pre = "xfrm state" if impl == "xfrm" else "sa"
ppre = "xfrm policy" if impl == "xfrm" else "policy"
key = "0x0123456789abcdef0123456789abcdef0badc0de"
for i in range(n):
    d = f"172.16.{i >> 8}.{i & 255}"
    print(f"{pre} add src 10.0.0.1 dst {d} proto esp spi {0x10000 + i} reqid {1000 + i} mode tunnel aead rfc4106(gcm(aes)) {key} 128")
    print(f"{ppre} add src 10.1.0.1 dst 10.{100 + (i >> 8)}.{i & 255}.0/24 dir out tmpl src 10.0.0.1 dst {d} proto esp reqid {1000 + i} mode tunnel")
PY
	if [[ $impl == xfrm ]]; then a ip -batch "$f"; else a nfsec -batch "$f"; fi
	rm -f "$f"
}

# measure CASE IMPL: one figure
measure()
{
	local case=$1 impl=$2
	topology
	case $case in
	plaintext)	tcp 10.0.0.2 ;;
	# the stack's own per-packet floor: what IPsec does to TCP without crypto or nfsec (MTU-
	# sized packets both ways, checksums in software), as offloads cannot pass through ESP
	plaintext-nooffload)
		for n in a b; do $n ethtool -K eth0 tso off gso off gro off tx off >/dev/null; done
		tcp 10.0.0.2 ;;
	gcm-tunnel)	ipsec $impl tunnel $GCM; tcp 10.2.0.1 ;;
	gcm-transport)	ipsec $impl transport $GCM; tcp 10.0.0.2 ;;
	cbc-transport)	ipsec $impl transport $CBC; tcp 10.0.0.2 ;;
	null-transport)	ipsec $impl transport $NULLALG; tcp 10.0.0.2 ;;
	null-tunnel)	ipsec $impl tunnel $NULLALG; tcp 10.2.0.1 ;;
	udp64-gcm-tunnel) ipsec $impl tunnel $GCM; udp64 10.2.0.1 ;;
	gcm-tunnel-4flows) ipsec $impl tunnel $GCM; tcp 10.2.0.1 -P 4 ;;
	# the policies in use come last, where a list would find them last
	gcm-tunnel-10k)	many $impl 10000; ipsec $impl tunnel $GCM; tcp 10.2.0.1 ;;
	install-10k)
		local t0 t1
		t0=$(date +%s.%N); many $impl 10000; t1=$(date +%s.%N)
		# SAs per second (policies too): higher is better
		python3 -c "print('%.0f' % (10000 / ($t1 - $t0)))" ;;
	esac
}

CASES=(gcm-tunnel gcm-transport cbc-transport null-transport null-tunnel plaintext
       plaintext-nooffload udp64-gcm-tunnel gcm-tunnel-4flows gcm-tunnel-10k install-10k)
(($#)) && CASES=("$@")
declare -A res
# Rounds outermost: every case of a round is measured close in time to the others, so that a
# ratio between cases (10k against 1 SA) suffers the host's drift as little as one between
# implementations.
for ((r = 1; r <= ROUNDS; r++)); do
	for case in "${CASES[@]}"; do
		for impl in nfsec xfrm; do
			[[ $case == plaintext* && $impl == xfrm ]] && continue
			v=$(measure "$case" "$impl" 2>/tmp/bench.err) || v=nan
			[[ -n $v ]] || v=nan
			[[ $v != nan ]] || sed -n '1,3s/^/# error: /p' /tmp/bench.err
			res[$case,$impl]+="$v "
			echo "# $case $impl round $r: $v"
			if [[ -n ${PERF:-} && -s /tmp/bench.perf ]]; then
				sed "s/^/# perf $case $impl: /" /tmp/bench.perf
				rm -f /tmp/bench.perf
			fi
		done
	done
done

{
	for case in "${CASES[@]}"; do
		echo "$case|${res[$case,nfsec]:-}|${res[$case,xfrm]:-}"
	done
} | python3 -c '
import json, statistics, sys
units = {"udp64-gcm-tunnel": "kpps", "install-10k": "SA/s"}
rows = []
print("# %-20s %12s %12s %7s  %-24s %s" % ("case", "nfsec", "xfrm", "ratio", "nfsec min-max", "unit"))
for line in sys.stdin:
    case, n, x = line.rstrip("\n").split("|")
    nv = [float(v) for v in n.split() if v != "nan"]
    xv = [float(v) for v in x.split() if v != "nan"]
    nm = statistics.median(nv) if nv else None
    xm = statistics.median(xv) if xv else None
    ratio = nm / xm if nm and xm else None
    unit = units.get(case, "Mbit/s")
    rows.append(dict(case=case, unit=unit, nfsec=nv, xfrm=xv, nfsec_median=nm,
                     xfrm_median=xm, ratio=ratio))
    f = lambda v: "-" if v is None else "%.1f" % v
    spread = "%s-%s" % (f(min(nv)), f(max(nv))) if nv else "-"
    print("# %-20s %12s %12s %7s  %-24s %s" % (case, f(nm), f(xm),
          "-" if ratio is None else "%.2f" % ratio, spread, unit))
med = {r["case"]: r for r in rows}
if "gcm-tunnel" in med and "gcm-tunnel-10k" in med:
    for impl in ("nfsec", "xfrm"):
        one, many = med["gcm-tunnel"][impl + "_median"], med["gcm-tunnel-10k"][impl + "_median"]
        if one and many:
            print("# scale, %s: 10k SAs+policies / 1 = %.2f" % (impl, many / one))
print("json: " + json.dumps(rows))
'
