#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nfsec against native xfrm, in one boot, interleaved: see
# Documentation/performance.rst. Runs as root where the module loads (the
# VM of `make bench`); prints a table and one "json:" line. Exits 1 when a
# measurement failed (iperf3, a command of the setup, or traffic that did not
# go through ESP), after the others; at once when a round's namespaces would
# not go.
#
#   bench/bench.sh [CASE...]     default: every case
#   ROUNDS=3 SECS=5              rounds per case and implementation, iperf3 seconds
#   PERF=1                       also sample every CPU (perf, cpu-clock: no PMU under TCG) during
#                                each measurement and print the top kernel symbols
#   PERF_UNDER="f g"             with PERF: what the samples under f (and g) spend their time in
set -euo pipefail
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

# teardown: the iperf3 servers killed, both namespaces deleted, and checked gone, so that a
# round does not keep the last one's SAs alive (a netns lives on while a process is in it)
teardown()
{
	local n i pids
	for n in $A $B; do
		[[ -e /run/netns/$n ]] || continue
		# TERM, and KILL after 2 s
		for ((i = 0; i < 50; i++)); do
			pids=$(ip netns pids $n | xargs)
			[[ -n $pids ]] || break
			# shellcheck disable=SC2086
			if ((i < 20)); then kill $pids; else kill -KILL $pids; fi 2>/dev/null || true
			sleep 0.1
		done
		[[ -z $(ip netns pids $n) ]] || { echo "# error: processes left in $n: $(ip netns pids $n | xargs)"; return 1; }
		ip netns del $n
	done
	if ip netns list | grep -qE "^($A|$B)( |$)"; then
		echo "# error: namespaces left: $(ip netns list | xargs)"
		return 1
	fi
	if pids=$(pgrep -x iperf3); then
		echo "# error: iperf3 left running: $(xargs <<<"$pids")"
		return 1
	fi
}
trap 'teardown >/dev/null 2>&1 || true' EXIT
teardown

# servers: b's iperf3 server listening (on [::], for both families)
servers() { [[ $(b ss -Hltn 'sport = :5201' | wc -l) == 1 ]]; }

# a (10.0.0.1, fd00::1; inner 10.1.0.1, fd01::1) --veth-- b (10.0.0.2, fd00::2; inner 10.2.0.1,
# fd02::1)
topology()
{
	ip netns add $A && ip netns add $B
	ip -n $A link add eth0 type veth peer name eth0 netns $B
	ip -n $A addr add 10.0.0.1/24 dev eth0 && ip -n $B addr add 10.0.0.2/24 dev eth0
	ip -n $A addr add fd00::1/64 dev eth0 nodad && ip -n $B addr add fd00::2/64 dev eth0 nodad
	ip -n $A addr add 10.1.0.1/32 dev lo && ip -n $B addr add 10.2.0.1/32 dev lo
	ip -n $A addr add fd01::1/128 dev lo && ip -n $B addr add fd02::1/128 dev lo
	for n in $A $B; do ip -n $n link set eth0 up && ip -n $n link set lo up; done
	ip -n $A route add 10.2.0.1/32 via 10.0.0.2 src 10.1.0.1
	ip -n $B route add 10.1.0.1/32 via 10.0.0.1 src 10.2.0.1
	ip -n $A route add fd02::1/128 via fd00::2 src fd01::1
	ip -n $B route add fd01::1/128 via fd00::1 src fd02::1
	b iperf3 -s -D >/dev/null
	local i
	for ((i = 0; i < 100; i++)); do servers && return 0; sleep 0.1; done
	echo "iperf3 server not listening after 10 s" >&2
	return 1
}

# ipsec IMPL MODE ALG...: the same words for both implementations. MODE transport or tunnel
# (IPv4), transport6 or tunnel6 (IPv6 in IPv6).
ipsec()
{
	local impl=$1 mode=${2%6} sa pol o1=10.0.0.1 o2=10.0.0.2 i1=10.1.0.1 i2=10.2.0.1 sel1 sel2
	[[ $2 == *6 ]] && o1=fd00::1 o2=fd00::2 i1=fd01::1 i2=fd02::1
	shift 2
	if [[ $impl == xfrm ]]; then sa="ip xfrm state"; pol="ip xfrm policy"; else sa="nfsec sa"; pol="nfsec policy"; fi
	sel1="src $o1 dst $o2" sel2="src $o2 dst $o1"
	if [[ $mode == tunnel ]]; then sel1="src $i1 dst $i2"; sel2="src $i2 dst $i1"; fi
	for n in a b; do
		eval "$n $sa add src $o1 dst $o2 proto esp spi 0x100 reqid 1 mode $mode $*"
		eval "$n $sa add src $o2 dst $o1 proto esp spi 0x200 reqid 2 mode $mode $*"
	done
	a $pol add $sel1 dir out tmpl src $o1 dst $o2 proto esp reqid 1 mode $mode
	a $pol add $sel2 dir in tmpl src $o2 dst $o1 proto esp reqid 2 mode $mode
	b $pol add $sel2 dir out tmpl src $o2 dst $o1 proto esp reqid 2 mode $mode
	b $pol add $sel1 dir in tmpl src $o1 dst $o2 proto esp reqid 1 mode $mode
}

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

# tcp HOST [iperf3 args]: Mbit/s received; the bytes received into /tmp/bench.bytes
tcp()
{
	profiled ip netns exec "$A" iperf3 -c "$@" -t "$SECS" -J >/tmp/bench.iperf ||
		{ iperf_error; return 1; }
	python3 -c '
import json, sys
j = json.load(open("/tmp/bench.iperf"))
if "error" in j:
    sys.exit("iperf3: %s" % j["error"])
s = j["end"]["sum_received"]
open("/tmp/bench.bytes", "w").write("%d\n" % s["bytes"])
print("%.1f" % (s["bits_per_second"] / 1e6))'
}

# udp64 HOST: kpps received, 64-byte payloads; the bytes received into /tmp/bench.bytes
udp64()
{
	a iperf3 -c "$1" -u -l 64 -b 0 -t "$SECS" -J >/tmp/bench.iperf || { iperf_error; return 1; }
	python3 -c '
import json, sys
j = json.load(open("/tmp/bench.iperf"))
if "error" in j:
    sys.exit("iperf3: %s" % j["error"])
s = j["end"]["sum"]
open("/tmp/bench.bytes", "w").write("%d\n" % ((s["packets"] - s["lost_packets"]) * 64))
print("%.1f" % ((s["packets"] - s["lost_packets"]) / s["seconds"] / 1e3))'
}

iperf_error()
{
	echo "iperf3 failed: $(python3 -c 'import json; print(json.load(open("/tmp/bench.iperf")).get("error"))' \
		2>/dev/null || head -c 300 /tmp/bench.iperf)" >&2
}

# esp_bytes IMPL NS DIR: the bytes the SA 0x100 carried, out of a (DIR tx) or into b (rx):
# nfsec's per-SA tx_bytes or rx_bytes; xfrm's lifetime use (which nfsec does not count into an
# SA without integrity, the NULL cases), from "lifetime current:" and "N(bytes), M(packets)"
esp_bytes()
{
	if [[ $1 == xfrm ]]; then
		$2 ip -s xfrm state list spi 0x100 |
			awk '/lifetime current:/ { getline; sub(/\(bytes\).*/, ""); print $1 + 0; exit }'
		return
	fi
	$2 nfsec -s -j sa show | python3 -c '
import json, sys
def find(o, k):
    if isinstance(o, dict):
        if k in o:
            return o[k]
        o = list(o.values())
    if isinstance(o, list):
        for v in o:
            r = find(v, k)
            if r is not None:
                return r
sas = json.load(sys.stdin)
sa = [s for s in (sas if isinstance(sas, list) else find(sas, "sas") or []) if int(str(s["spi"]), 0) == 0x100]
print(find(sa, sys.argv[1] + "_bytes") or 0)' "$3"
}

# through_esp IMPL: what iperf3 carried a -> b went through ESP: the SA 0x100 carried at least as
# many bytes out of a and into b (its headers make the rest); the ratios into /tmp/bench.note
through_esp()
{
	local impl=$1 want got n dir note=
	want=$(cat /tmp/bench.bytes)
	((want > 0)) || { echo "iperf3 received nothing" >&2; return 1; }
	for n in a b; do
		dir=$([[ $n == a ]] && echo tx || echo rx)
		got=$(esp_bytes "$impl" $n $dir)
		if ((got < want)); then
			echo "not through ESP: $impl's SA 0x100 $dir in $n: $got bytes, iperf3 received $want" >&2
			return 1
		fi
		note+=" $n $dir $(python3 -c "print('%.3f' % ($got / $want))")"
	done
	echo "ESP bytes / iperf3's:$note" >/tmp/bench.note
}

# many IMPL N [6]: N extra SAs and policies that match nothing in use (IPv6 ones with 6)
many()
{
	local impl=$1 n=$2 f
	f=$(mktemp)
	python3 - "$impl" "$n" "${3:-4}" > "$f" <<'PY'
import sys
impl, n, v6 = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "6"
pre = "xfrm state" if impl == "xfrm" else "sa"
ppre = "xfrm policy" if impl == "xfrm" else "policy"
key = "0x0123456789abcdef0123456789abcdef0badc0de"
for i in range(n):
    s, d, sel = "10.0.0.1", f"172.16.{i >> 8}.{i & 255}", f"src 10.1.0.1 dst 10.{100 + (i >> 8)}.{i & 255}.0/24"
    if v6:
        s, d, sel = "fd00::1", f"fd10::{i:x}", f"src fd01::1 dst fd64:{i:x}::/48"
    print(f"{pre} add src {s} dst {d} proto esp spi {0x10000 + i} reqid {1000 + i} mode tunnel aead rfc4106(gcm(aes)) {key} 128")
    print(f"{ppre} add {sel} dir out tmpl src {s} dst {d} proto esp reqid {1000 + i} mode tunnel")
PY
	if [[ $impl == xfrm ]]; then a ip -batch "$f"; else a nfsec -batch "$f"; fi
	rm -f "$f"
	# all of them there: "SAD count N" (N >= n: the 10k case adds its own after)
	local got
	if [[ $impl == xfrm ]]; then got=$(a ip xfrm state count); else got=$(a nfsec sa count); fi
	[[ $(awk '{ print $3 }' <<<"$got") -ge $n ]] || { echo "after $n SAs added: $got" >&2; return 1; }
}

# measure CASE IMPL: one figure; fails if anything did, or traffic bypassed ESP. Run under
# set -e in a subshell of its own (errexit is off in $(...) and wherever a || follows).
measure()
{
	local case=$1 impl=$2
	rm -f /tmp/bench.bytes /tmp/bench.note
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
	gcm-tunnel6)	ipsec $impl tunnel6 $GCM; tcp fd02::1 ;;
	gcm-transport6)	ipsec $impl transport6 $GCM; tcp fd00::2 ;;
	cbc-transport)	ipsec $impl transport $CBC; tcp 10.0.0.2 ;;
	null-transport)	ipsec $impl transport $NULLALG; tcp 10.0.0.2 ;;
	null-tunnel)	ipsec $impl tunnel $NULLALG; tcp 10.2.0.1 ;;
	udp64-gcm-tunnel) ipsec $impl tunnel $GCM; udp64 10.2.0.1 ;;
	gcm-tunnel-4flows) ipsec $impl tunnel $GCM; tcp 10.2.0.1 -P 4 ;;
	# the policies in use come last, where a list would find them last
	gcm-tunnel-10k)	many $impl 10000; ipsec $impl tunnel $GCM; tcp 10.2.0.1 ;;
	gcm-tunnel6-10k) many $impl 10000 6; ipsec $impl tunnel6 $GCM; tcp fd02::1 ;;
	install-10k)
		local t0 t1
		t0=$(date +%s.%N); many $impl 10000; t1=$(date +%s.%N)
		# SAs per second (policies too): higher is better
		python3 -c "print('%.0f' % (10000 / ($t1 - $t0)))" ;;
	*)	echo "no case $case" >&2; return 1 ;;
	esac
	[[ $case == plaintext* || $case == install-10k ]] || through_esp "$impl"
}

CASES=(gcm-tunnel gcm-transport gcm-tunnel6 gcm-transport6 cbc-transport null-transport null-tunnel plaintext
       plaintext-nooffload udp64-gcm-tunnel gcm-tunnel-4flows gcm-tunnel-10k gcm-tunnel6-10k install-10k)
(($#)) && CASES=("$@")
declare -A res
failed=()
# Rounds outermost: every case of a round is measured close in time to the others, so that a
# ratio between cases (10k against 1 SA) suffers the host's drift as little as one between
# implementations.
for ((r = 1; r <= ROUNDS; r++)); do
	for case in "${CASES[@]}"; do
		for impl in nfsec xfrm; do
			[[ $case == plaintext* && $impl == xfrm ]] && continue
			# not "|| rc=$?", which would turn errexit off inside
			set +e
			(set -e; measure "$case" "$impl") >/tmp/bench.out 2>/tmp/bench.err
			rc=$?
			set -e
			v=$(tail -n 1 /tmp/bench.out)
			if ((rc)) || [[ -z $v ]]; then
				v=nan
				failed+=("$case $impl round $r")
				sed -n '1,5s/^/# error: /p' /tmp/bench.err
			fi
			res[$case,$impl]+="$v "
			echo "# $case $impl round $r: $v$(sed 's/^/ (/; s/$/)/' /tmp/bench.note 2>/dev/null)"
			if [[ -n ${PERF:-} && -s /tmp/bench.perf ]]; then
				sed "s/^/# perf $case $impl: /" /tmp/bench.perf
				rm -f /tmp/bench.perf
			fi
			teardown || exit 1
		done
	done
done

{
	echo "$ROUNDS"
	for case in "${CASES[@]}"; do
		echo "$case|${res[$case,nfsec]:-}|${res[$case,xfrm]:-}"
	done
} | python3 -c '
import json, statistics, sys
units = {"udp64-gcm-tunnel": "kpps", "install-10k": "SA/s"}
rows = []
rounds = int(sys.stdin.readline())
f = lambda v: "-" if v is None else "%.1f" % v
spread = lambda v: "%s-%s" % (f(min(v)), f(max(v))) if v else "-"
print("# %-20s %6s %9s %9s %6s  %-15s %-15s %s" % ("case", "rounds", "nfsec", "xfrm", "ratio",
      "nfsec min-max", "xfrm min-max", "unit"))
for line in sys.stdin:
    case, n, x = line.rstrip("\n").split("|")
    nv = [float(v) for v in n.split() if v != "nan"]
    xv = [float(v) for v in x.split() if v != "nan"]
    nm = statistics.median(nv) if nv else None
    xm = statistics.median(xv) if xv else None
    ratio = nm / xm if nm and xm else None
    unit = units.get(case, "Mbit/s")
    # the rounds kept: a failed one (nan) fails the run, but is not in the median
    kept = "%d/%d" % (len(nv), rounds) if case.startswith("plaintext") else \
           "%d+%d/%d" % (len(nv), len(xv), rounds)
    rows.append(dict(case=case, unit=unit, rounds=rounds, nfsec=nv, xfrm=xv, nfsec_median=nm,
                     xfrm_median=xm, ratio=ratio))
    print("# %-20s %6s %9s %9s %6s  %-15s %-15s %s" % (case, kept, f(nm), f(xm),
          "-" if ratio is None else "%.2f" % ratio, spread(nv), spread(xv), unit))
med = {r["case"]: r for r in rows}
for c1, c10k in (("gcm-tunnel", "gcm-tunnel-10k"), ("gcm-tunnel6", "gcm-tunnel6-10k")):
    if c1 not in med or c10k not in med:
        continue
    for impl in ("nfsec", "xfrm"):
        one, many = med[c1][impl + "_median"], med[c10k][impl + "_median"]
        if one and many:
            print("# scale, %s, %s: 10k SAs+policies / 1 = %.2f" % (c1, impl, many / one))
print("json: " + json.dumps(rows))
'
if ((${#failed[@]})); then
	echo "# FAIL: ${#failed[@]} measurement(s) failed: $(IFS=,; echo "${failed[*]}")"
	exit 1
fi
