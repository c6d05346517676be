#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Which policy the packet path picks: the first that matches in priority order, the older on a
# tie, whatever the prefix lengths (the lookup hashes policies per pair of prefix lengths).
# Out policies on a, pings a (10.0.0.1) -> b (10.0.0.2); "allow" without a template lets the
# ping through, "block" drops it. After each change, which policy's packet counter moved and
# whether the ping came back say which one applied:
#   1. allow dst 10.0.0.0/24 prio 10 + block dst 10.0.0.2/32 prio 20: the /24 wins
#   2. + block src 10.0.0.1/32 dst 10.0.0.2/32 prio 5: that one wins; deleted: the /24 again
#   3. + block any prio 10 (same priority, newer): the /24 still wins; the /24 deleted and added
#      again (now the newer): the catch-all wins
#   4. 3,000 more /24 and /32 policies that match nothing, and an allow proto icmp dst
#      10.0.0.2/32 prio 1 added last: it wins; show still lists all, in priority order
#   5. update is atomic: under a ping flood, an allow /24 prio 10 in front of a block /32
#      prio 20 is replaced 900 times or more, its priority going to 5 and back to 10 across
#      a block tcp dport 22 prio 7 in the same hash chain; no packet falls through to the
#      block /32 between old and new. Done as del + add instead, packets do (the control).
source "$(dirname "$0")/lib.sh"
need_module

ns_create a b
veth_pair "$a" eth0 10.0.0.1/24 "$b" eth0 10.0.0.2/24
na() { ip netns exec "$a" "$@"; }

declare -A idx
add() # NAME WORDS...: add an out policy, remember its index
{
	local name=$1
	shift
	na nfsec policy add "$@" dir out
	idx[$name]=$(na nfsec -j policy show | python3 -c '
import json, sys
print(max(p["index"] for p in json.load(sys.stdin)))')
}
del() { na nfsec policy del index "${idx[$1]}" dir out; unset "idx[$1]"; }
packets()
{
	na nfsec -s -j policy show | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p["index"] == int(sys.argv[1]):
        print(p["stats"]["packets"])' "${idx[$1]}"
}

# expect WHO RESULT: ping once; WHO's counter moved by exactly one and no other's did;
# RESULT is "ok" (answered) or "blocked"
expect()
{
	local who=$1 want=$2 n got name
	declare -A b4
	for name in "${!idx[@]}"; do b4[$name]=$(packets "$name"); done
	if na ping -c 1 -W 2 10.0.0.2 >/dev/null 2>&1; then got=ok; else got=blocked; fi
	check_eq "ping with $who in charge" "$got" "$want"
	for name in "${!idx[@]}"; do
		n=$(($(packets "$name") - b4[$name]))
		if [[ $name == "$who" ]]; then
			check_eq "packets that matched $name" $n 1
		else
			check_eq "packets that matched $name" $n 0
		fi
	done
}

na ping -c 1 -W 2 10.0.0.2 >/dev/null || fail "no ping without policies"

add net24 dst 10.0.0.0/24 priority 10 action allow
add host32 dst 10.0.0.2/32 priority 20 action block
expect net24 ok
add pair32 src 10.0.0.1/32 dst 10.0.0.2/32 priority 5 action block
expect pair32 blocked
del pair32
expect net24 ok
add any priority 10 action block
expect net24 ok
del net24
add net24 dst 10.0.0.0/24 priority 10 action allow
expect any blocked

python3 -c '
for i in range(3000):
    if i % 2:
        print(f"policy add src 10.9.{i >> 8}.{i & 255}/32 dst 10.0.0.2/32 dir out priority 0 action block")
    else:
        print(f"policy add dst 10.{100 + (i >> 8)}.{i & 255}.0/24 dir out priority 0 action block")
' | na nfsec -batch -
add icmp proto icmp dst 10.0.0.2/32 priority 1 action allow
expect icmp ok
na nfsec -j policy show | python3 -c '
import json, sys
pols = json.load(sys.stdin)
assert len(pols) == 3004, len(pols)
prios = [p["priority"] for p in pols]
assert prios == sorted(prios), "not in priority order"
' || fail "policy show after 3,000 more"
pass "3,004 policies listed in priority order"
na nfsec policy flush
idx=()
na ping -c 1 -W 2 10.0.0.2 >/dev/null || fail "no ping after the flush"
pass "flushed: no policy applies"

# replace_under_flood N LINES...: run the batch of LINES N times while a ping flood runs;
# prints how many packets the block behind the /24 caught meanwhile. Fails (status 1, and
# prints why) if the batch did: a check of "nothing leaked" means nothing if nothing changed.
replace_under_flood()
{
	local n=$1 pid b4 i line
	shift
	b4=$(packets host32)
	ip netns exec "$a" ping -q -f -l 16 -w 120 10.0.0.2 >/dev/null 2>&1 &
	pid=$!
	sleep 0.5
	if ! for ((i = 0; i < n; i++)); do
		for line; do echo "$line"; done
	done | na nfsec -batch - >/dev/null; then
		kill "$pid"
		echo "nfsec -batch failed"
		return 1
	fi
	kill "$pid"
	wait "$pid" 2>/dev/null
	echo $(($(packets host32) - b4))
}
net24_index()
{
	na nfsec -j policy show | python3 -c '
import json, sys
print([p["index"] for p in json.load(sys.stdin) if p["priority"] == 10][0])'
}
add net24 dst 10.0.0.0/24 priority 10 action allow
add host32 dst 10.0.0.2/32 priority 20 action block
add tcp22 dst 10.0.0.0/24 proto tcp dport 22 priority 7 action block
# The control: del + add until a packet falls through (each round 300 times).
for ((rounds = 1; rounds <= 10; rounds++)); do
	leaked=$(replace_under_flood 300 "policy del dst 10.0.0.0/24 dir out" \
		"policy add dst 10.0.0.0/24 dir out priority 10 action allow") || fail "control: $leaked"
	((leaked > 0)) && break
done
((leaked > 0)) || fail "the control (del + add under a flood, 3,000 times) let no packet through"
idx[net24]=$(net24_index)
# update, at least as many times as the control needed, and 900 at the least
((rounds < 3)) && rounds=3
blocked=$(replace_under_flood $((rounds * 150)) \
	"policy update dst 10.0.0.0/24 dir out priority 5 action allow" \
	"policy update dst 10.0.0.0/24 dir out priority 10 action allow") || fail "updates: $blocked"
check_eq "packets blocked between update's old and new, $((rounds * 300)) updates" "$blocked" 0
pass "updates under a flood: no packet fell through (del + add: $leaked did)"
check_eq "index after the updates" "$(net24_index)" "${idx[net24]}"
expect net24 ok
exit 0
