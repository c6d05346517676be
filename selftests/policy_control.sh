#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Policy control plane: add, update, get, show, del (by selector and by
# index) and flush, in the words of `ip xfrm policy`; -j is JSON.
source "$(dirname "$0")/lib.sh"
need_module
need_cmd python3

ns_create ns1
n1() { ip netns exec "$ns1" "$@"; }
count() { n1 nfsec -j policy show | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

check_eq "policies in a new netns" "$(count)" 0
n1 nfsec policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir out priority 100 \
	tmpl src 10.0.0.1 dst 10.0.0.2 proto esp mode tunnel reqid 1
n1 nfsec policy add src 10.2.0.0/24 dst 10.1.0.0/24 dir in \
	tmpl src 10.0.0.2 dst 10.0.0.1 proto esp mode tunnel reqid 1
n1 nfsec policy add src 10.2.0.0/24 dst 10.1.0.0/24 dir fwd \
	tmpl src 10.0.0.2 dst 10.0.0.1 proto esp mode tunnel reqid 1
n1 nfsec policy add src 10.0.0.1/32 dst 10.0.0.2/32 proto tcp dport 22 dir out \
	priority 10 action block
n1 nfsec policy add src 10.0.0.1 dst 10.0.0.3 dir out action allow
check_eq "policies after five adds" "$(count)" 5

if n1 nfsec policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir out \
	tmpl src 10.0.0.1 dst 10.0.0.2 proto esp mode tunnel 2>/dev/null; then
	fail "a duplicate policy was accepted"
fi
check_eq "policies after a duplicate" "$(count)" 5

get=$(n1 nfsec policy get src 10.1.0.0/24 dst 10.2.0.0/24 dir out)
for word in "src 10.1.0.0/24 dst 10.2.0.0/24" "dir out" "priority 100" \
	    "tmpl src 10.0.0.1 dst 10.0.0.2" "proto esp" "reqid 1" "mode tunnel"; do
	grep -qF -- "$word" <<<"$get" || fail "policy get lacks '$word': $get"
done
show=$(n1 nfsec policy show)
grep -qF "action block" <<<"$show" || fail "show lacks the block policy: $show"
grep -qF "dport 22" <<<"$show" || fail "show lacks the port selector: $show"
pass "policy get and show"

n1 nfsec -s -j policy show | python3 -c '
import json, sys
pols = json.load(sys.stdin)
assert len(pols) == 5, pols
dirs = sorted(p["dir"] for p in pols)
assert dirs == ["fwd", "in", "out", "out", "out"], dirs
outs = [p for p in pols if p["dir"] == "out"]
# priority order: lower first
prios = [p["priority"] for p in outs]
assert prios == sorted(prios), prios
assert all("index" in p for p in pols)
' || fail "JSON policy output is not what a script expects"
pass "-j policy output"

# update replaces the policy of the same selector and dir, keeping its index; or adds one.
field() # DIR FIELD: the first such policy's FIELD, from -j
{
	n1 nfsec -j policy show | python3 -c '
import json, sys
print([p for p in json.load(sys.stdin) if p["dir"] == sys.argv[1]][0][sys.argv[2]])' "$1" "$2"
}
before=$(field in index)
n1 nfsec policy update src 10.2.0.0/24 dst 10.1.0.0/24 dir in priority 7 \
	tmpl src 10.0.0.9 dst 10.0.0.1 proto esp mode tunnel reqid 3
check_eq "policies after update" "$(count)" 5
check_eq "index after update" "$(field in index)" "$before"
get=$(n1 nfsec policy get src 10.2.0.0/24 dst 10.1.0.0/24 dir in)
for word in "priority 7" "tmpl src 10.0.0.9 dst 10.0.0.1" "reqid 3"; do
	grep -qF -- "$word" <<<"$get" || fail "policy get after update lacks '$word': $get"
done
n1 nfsec policy update src 10.2.0.0/24 dst 10.1.0.0/24 dir in action block
check_eq "action after a second update" "$(field in action)" block
check_eq "index after a second update" "$(field in index)" "$before"
n1 nfsec policy update src 10.7.0.0/24 dir out action block
check_eq "policies after update of a missing one" "$(count)" 6
n1 nfsec policy del src 10.7.0.0/24 dir out
pass "policy update"

index=$(n1 nfsec -j policy show | python3 -c '
import json, sys
print([p["index"] for p in json.load(sys.stdin) if p["dir"] == "fwd"][0])')
n1 nfsec policy del index "$index" dir fwd
check_eq "policies after del by index" "$(count)" 4
n1 nfsec policy del src 10.2.0.0/24 dst 10.1.0.0/24 dir in
check_eq "policies after del by selector" "$(count)" 3
err=$(n1 nfsec policy del src 10.2.0.0/24 dst 10.1.0.0/24 dir in 2>&1) && fail "second del succeeded"
grep -qi "no such policy" <<<"$err" || fail "unclear error: $err"
pass "policy del"

# IPv6 policies: a family of their own (src ::/0 is not src 0.0.0.0/0), IPv6 templates, a
# cross-family one (IPv4 inside an IPv6 tunnel).
before=$(count)
n1 nfsec policy add src ::/0 dst ::/0 dir out
n1 nfsec policy add src 0.0.0.0/0 dst 0.0.0.0/0 dir out
n1 nfsec policy add src 2001:db8:1::/64 dst 2001:db8:2::/64 dir fwd \
	tmpl src 2001:db8::1 dst 2001:db8::2 proto esp mode tunnel
n1 nfsec policy add src 10.5.0.0/24 dst 10.6.0.0/24 dir out \
	tmpl src 2001:db8::1 dst 2001:db8::2 proto esp mode tunnel
check_eq "policies after the IPv6 adds" "$(count)" "$((before + 4))"
out=$(n1 nfsec policy show)
grep -qF "src 2001:db8:1::/64 dst 2001:db8:2::/64" <<<"$out" || fail "IPv6 policy shown: $out"
grep -qF "tmpl src 2001:db8::1 dst 2001:db8::2" <<<"$out" || fail "IPv6 template shown: $out"
n1 nfsec policy del src ::/0 dst ::/0 dir out
out=$(n1 nfsec policy get src 0.0.0.0/0 dst 0.0.0.0/0 dir out) ||
	fail "deleting the IPv6 default took the IPv4 one"
n1 nfsec policy del src 0.0.0.0/0 dst 0.0.0.0/0 dir out
n1 nfsec policy del src 2001:db8:1::/64 dst 2001:db8:2::/64 dir fwd
n1 nfsec policy del src 10.5.0.0/24 dst 10.6.0.0/24 dir out
check_eq "policies after the IPv6 deletes" "$(count)" "$before"
pass "IPv6 policies and templates, each family its own"

n1 nfsec policy flush
check_eq "policies after flush" "$(count)" 0
pass "policy flush"
