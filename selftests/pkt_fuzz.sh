#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A packet fuzzer against nfsec's receive path (pkt_fuzz.py). One SA of every kind in the
# receiver r (ESP GCM-128/256 with 64, 96 and 128-bit ICVs, ChaCha20-Poly1305, AES-CBC with
# HMAC-SHA-256 truncated to 96, 128 and 256 bits; transport and tunnel; with and without ESN, the
# ESN SAs crossing 2^32; ESP in UDP 4500; AH with HMAC-SHA-256), each with its in policy; the
# sender s builds packets with the SAs' keys on raw sockets: valid ones (a UDP stream, each
# datagram tagged and hashed), and mutants of every field, before and after the ICV
# (pkt_fuzz.py's header lists them).
#
#   s 10.0.0.1, 10.0.0.10-23 eth0 ---- eth0 10.0.0.2 r, 10.2.0.1 lo: UDP 9000 listeners
#
# After each round of FUZZ_ROUND cases (300; 1000 with FUZZ_SECS): no mutant that must be
# dropped was delivered (UDP socket) or passed LOCAL_IN (raw socket), every valid datagram
# arrived once with its sha256, the sum of nfsec's drop counters moved by at least the
# must-drop mutants that reached it, no forged frag-needed was believed (pmtu_update: r sends
# nothing), the kmalloc-1k red zones are intact (the VM boots with slub_debug=FZ,kmalloc-1k)
# and the kernel log is clean.
#
#   FUZZ_SEED=N    replay a run (the seed is printed first)
#   FUZZ_COUNT=N   test cases in all (default 600: make check)
#   FUZZ_SECS=N    run rounds for N seconds instead (make fuzz FUZZ=pkt)
#   FUZZ_CASES=a,b only these cases (pkt_fuzz.py's Fuzzer.CASES); -a,-b all but those
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
need_module
need_cmd python3

fuzz=$SELFTESTS_DIR/pkt_fuzz.py
seed=${FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
count=${FUZZ_COUNT:-600}
secs=${FUZZ_SECS:-0}
per=${FUZZ_ROUND:-$((secs ? 1000 : 300))}
if ((secs)); then
	echo "# seed $seed, rounds of $per cases for ${secs}s (FUZZ_SEED=$seed FUZZ_SECS=$secs replays)"
else
	echo "# seed $seed, $count cases (FUZZ_SEED=$seed FUZZ_COUNT=$count replays)"
fi
[[ -z ${FUZZ_CASES:-} ]] || echo "# only $FUZZ_CASES"

ns_create s r
veth_pair "$s" eth0 10.0.0.1/24 "$r" eth0 10.0.0.2/24
nr() { ip netns exec "$r" "$@"; }
for k in $(seq 10 23); do
	echo "addr add 10.0.0.$k/24 dev eth0"
done | ip -n "$s" -batch -
ip -n "$r" addr add 10.2.0.1/32 dev lo
ip -n "$r" route add 10.1.0.0/16 via 10.0.0.1
ip -n "$s" route add 10.2.0.0/16 via 10.0.0.2
for k in all default eth0 lo; do
	nr sysctl -qw net.ipv4.conf.$k.rp_filter=0
done
# Fragments that can never complete (one came in clear) expire in a second, not thirty.
nr sysctl -qw net.ipv4.ipfrag_time=1
python3 "$fuzz" config | nr nfsec -batch - || fail "configuring the SAs"
check_eq "SAs" "$(nr nfsec sa show | grep -c '^src ')" 14

dir=$(mktemp -d)
defer "rm -rf $dir"
nr python3 "$fuzz" listen "$dir/log" &
wait_for 10 grep -qs ready "$dir/log"

DROPS="rx_replay_old rx_replay_dup rx_auth_fail rx_bad_trailer rx_too_short rx_policy_mismatch
	rx_unprotected rx_policy_block rx_no_mem rx_crypto_error rx_expired rx_sa_gone rx_dummy rx_ecn"
drops()
{
	nstats "$r" | awk -v names=" $(echo $DROPS) " \
		'index(names, " " $1 " ") { sum += $2 } END { print sum + 0 }'
}
validate()
{
	local f=/sys/kernel/slab/kmalloc-1k/validate
	[[ -w $f ]] && echo 1 >"$f"
	return 0
}
found()
{
	echo "# found after $((SECONDS - t0)) s, $sent packets, round $round"
	echo "# replay: FUZZ_SEED=$seed FUZZ_COUNT=$(((round + 1) * per)) FUZZ_ROUND=$per${FUZZ_CASES:+ FUZZ_CASES=$FUZZ_CASES}"
	fail "$*"
}

# One sender for the whole run: Python starts slowly under emulation.
coproc SENDER { ip netns exec "$s" python3 -u "$fuzz" serve "$seed" 2>"$dir/sender.err"; }
defer "kill $SENDER_PID 2>/dev/null"

dmesg_mark
t0=$SECONDS sent=0 counted=0 round=0
while :; do
	d0=$(drops)
	echo "$round $per $dir/m.$round" >&"${SENDER[1]}"
	read -r -t 300 out <&"${SENDER[0]}" || found "the sender failed: $(cat "$dir/sender.err")"
	echo "# $out"
	read -r p c < <(sed -n 's/^# sent \([0-9]*\) packets, \([0-9]*\) counted drops/\1 \2/p' "$dir/m.$round")
	sent=$((sent + p)) counted=$((counted + c))
	res=$(python3 "$fuzz" check "$dir/log" "$dir"/m.* --wait 20) || found "$res"
	echo "# $res"
	want=$((d0 + c))
	enough() { (($(drops) >= want)); }
	for ((i = 0; i < 100; i++)); do
		enough && break
		sleep 0.1
	done
	enough || found "drop counters moved by $(($(drops) - d0)), less than the $c must-drop mutants sent"
	# r sends nothing: every fragmentation-needed it gets is forged.
	pmtu=$(nstat "$r" pmtu_update)
	((pmtu == 0)) || found "pmtu_update $pmtu: a forged frag-needed was believed"
	validate
	bad=$(dmesg_since | dmesg_bad)
	[[ -z $bad ]] || found "kernel log: $bad"
	round=$((round + 1))
	if ((secs)); then
		((SECONDS - t0 < secs)) || break
	else
		((round * per < count)) || break
	fi
done
nstats "$r" | awk '$2 != 0' | sed 's/^/#   /'
pass "seed $seed: $((round * per)) cases, $sent packets in $((SECONDS - t0)) s; $counted must-drop mutants reached nfsec, every one counted; nothing forged delivered"
