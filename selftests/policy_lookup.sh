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
na ping -c 1 -W 2 10.0.0.2 >/dev/null || fail "no ping after the flush"
pass "flushed: no policy applies"
exit 0
