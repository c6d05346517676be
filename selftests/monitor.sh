#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nfsec monitor: every change to a namespace's SAs and policies, in order, printed as
# ip xfrm monitor prints xfrm's (and one JSON object a line with -j); never a key byte;
# nothing from another namespace; joining the events needs CAP_NET_ADMIN over the namespace;
# an out policy whose template finds no SA asks for one (acquire), once.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/monitor_lib.sh"
need_module
need_cmd python3 setpriv unshare timeout

ns_create ns1 ns2
KEY=0x0123456789abcdef0123456789abcdef0badc0de
AEAD="aead rfc4106(gcm(aes)) $KEY 128"
tmp=$(mktemp -d)
defer "rm -rf $tmp"

mon_start "$ns1" nfsec "$tmp/text"
mon_start "$ns1" nfsec "$tmp/json" -j monitor
mon_start "$ns1" nfsec "$tmp/sa_only" -j monitor sa
mon_start "$ns2" nfsec "$tmp/other" -j monitor
mon_ready "$ns1" nfsec "$tmp/text" "$tmp/json" "$tmp/sa_only"
mon_ready "$ns2" nfsec "$tmp/other"

n1() { ip netns exec "$ns1" nfsec "$@"; }
SA="src 10.0.0.1 dst 10.0.0.2 proto esp spi"
POL="src 10.1.0.0/24 dst 10.2.0.0/24 dir out"
n1 sa add $SA 0x100 reqid 7 mode tunnel $AEAD
n1 sa update $SA 0x100 reqid 8 mode tunnel $AEAD
n1 policy add $POL tmpl src 10.0.0.1 dst 10.0.0.2 proto esp mode tunnel reqid 8
n1 policy update $POL priority 3 tmpl src 10.0.0.1 dst 10.0.0.2 proto esp mode tunnel reqid 9
n1 policy del $POL
n1 sa del $SA 0x100
n1 sa add $SA 0x101 mode transport $AEAD
n1 sa flush
n1 policy add $POL action block
n1 policy flush
n1 sa add $SA 0xfff mode transport $AEAD
wait_for 10 mon_seen "$tmp/json" fff
wait_for 10 mon_seen "$tmp/sa_only" fff
wait_for 10 mon_seen "$tmp/text" fff

# events FILE: one line per event after the probes: EVENT OBJECT [SPI|DIR]
events()
{
	python3 -c '
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    kind = "sa" if "sa" in e else "policy"
    obj = e[kind]
    what = "" if obj is None else obj["spi"] if kind == "sa" else obj["dir"]
    if not str(what).startswith("0x0000fe"):	# the probes of monitor_lib.sh
        print(e["event"], kind, what)' "$1" | xargs
}
want="add sa 0x00000100 update sa 0x00000100 add policy out update policy out del policy out"
want+=" del sa 0x00000100"
want+=" add sa 0x00000101 flush sa add policy out flush policy add sa 0x00000fff"
check_eq "events, in order (-j)" "$(events "$tmp/json")" "$want"
check_eq "events with 'monitor sa'" "$(events "$tmp/sa_only")" \
	"add sa 0x00000100 update sa 0x00000100 del sa 0x00000100 add sa 0x00000101 flush sa add sa 0x00000fff"

# The text is ip xfrm monitor's: the object as show prints it, after its event's word.
for line in "src 10.0.0.1 dst 10.0.0.2" "Updated src 10.0.0.1 dst 10.0.0.2" \
	    "Deleted src 10.0.0.1 dst 10.0.0.2" "src 10.1.0.0/24 dst 10.2.0.0/24" \
	    "Updated src 10.1.0.0/24 dst 10.2.0.0/24" "Deleted src 10.1.0.0/24 dst 10.2.0.0/24" \
	    "Flushed state" "Flushed policy"; do
	grep -qx -- "$line" "$tmp/text" || fail "no line '$line' in the monitor's text: $(cat "$tmp/text")"
done
grep -qF "reqid 8 mode tunnel" "$tmp/text" || fail "the update's reqid is not in the text"
pass "monitor prints every event, in order, in both formats; 'sa' filters"

if grep -qiE "0123456789abcdef|00112233445566778899" "$tmp"/*; then
	fail "key bytes in a monitor's output"
fi
pass "no key bytes in any event"

# ns2's monitor saw its probes and nothing of ns1, and still reads.
mon_alive "$ns2" nfsec "$tmp/other"
check_eq "events in ns2" "$(events "$tmp/other")" ""
pass "events stay in their namespace"

# SA_ACQUIRE: a packet whose out policy's template finds no SA is dropped, and the keying
# daemon is asked for the SA, once per policy in 30 s however many packets follow.
ip -n "$ns1" link add d0 type dummy
ip -n "$ns1" addr add 10.9.0.1/24 dev d0
ip -n "$ns1" link set d0 up
n1 policy add src 10.9.0.1 dst 10.9.0.2 dir out tmpl proto esp mode transport reqid 5
acq_index=$(n1 -j policy show | python3 -c '
import json, sys
print([p["index"] for p in json.load(sys.stdin) if p["sel"]["dst"] == "10.9.0.2/32"][0])')
no_sa() { n1 stats | awk '$1 == "tx_no_sa" { print $2 }'; }
acquires() # FILE: the acquire events in a -j monitor's FILE, one line each
{
	python3 -c '
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] == "acquire":
        p, t, s = e["policy"], e["policy"]["tmpl"], e["sel"]
        print(s["src"], s["dst"], s["proto"], p["index"], p["dir"], t["proto"], t["mode"],
              t["reqid"])' "$1"
}
has_acquire() { [[ -n $(acquires "$tmp/json") ]]; }
b4=$(no_sa)
ip netns exec "$ns1" ping -c 3 -i 0.2 -W 1 10.9.0.2 >/dev/null 2>&1 || true
wait_for 5 has_acquire
ip netns exec "$ns1" ping -c 2 -i 0.2 -W 1 10.9.0.2 >/dev/null 2>&1 || true
# the events come from a work item: a moment for a second one, then the monitors still read
sleep 0.5
mon_alive "$ns1" nfsec "$tmp/json" "$tmp/sa_only" "$tmp/text"
check_eq "packets dropped without an SA" $(($(no_sa) - b4)) 5
check_eq "acquire events for 5 packets" "$(acquires "$tmp/json")" \
	"10.9.0.1/32 10.9.0.2/32 1 $acq_index out esp transport 5"
grep -qx "acquire sel src 10.9.0.1/32 dst 10.9.0.2/32 proto icmp" "$tmp/text" ||
	fail "no acquire line in the monitor's text: $(grep -A3 acquire "$tmp/text")"
grep -q acquire "$tmp/sa_only" && fail "'monitor sa' printed an acquire"
pass "acquire: one event for 5 packets, with the packet's selector, the policy and its template"

# Joining the group needs CAP_NET_ADMIN: refused at once for nobody, with a reason.
if out=$(ip netns exec "$ns1" setpriv --reuid=65534 --regid=65534 --clear-groups \
	 timeout 5 nfsec monitor 2>&1); then
	fail "an unprivileged monitor ran: $out"
fi
grep -q "not permitted" <<<"$out" || fail "unprivileged monitor: not EPERM: $out"
pass "EPERM for an unprivileged monitor: $out"

# Root of a user namespace may watch the network namespace it owns (it runs until killed).
rc=0
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups unshare -U -r -n \
	timeout 2 nfsec monitor 2>&1) || rc=$?
((rc == 124)) || fail "user-namespace root could not monitor its netns (status $rc): $out"
pass "CAP_NET_ADMIN in a user namespace over its own netns may monitor"
