#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nfsec -atomic -batch: all the lines of a file or none (Documentation/nfsec.8, -atomic).
#  - a file whose last line the module refuses changes nothing, not even for a moment: no event
#    while it runs, the same SAs and policies after; the error names FILE:LINE;
#  - a line that fails only when applied (max_sas reached, which no check foresees) has the
#    lines applied before it undone: the same SAs and policies after;
#  - -replace applies a file again: adds become updates, policies keep their index.
# nfsec-selftest: exclusive (lowers the global max_sas module parameter for a moment)

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/monitor_lib.sh"
need_module

ns_create a
n() { ip netns exec "$a" nfsec "$@"; }
tmp=$(mktemp -d)
defer rm -rf "$tmp"

# The SAs and policies of a, as shown, but without policy indexes (a deleted policy put back
# has a new one) and without the monitor's probe SAs.
state()
{
	n sa show
	n policy show | sed 's/ index [0-9]*//'
}

aead() { printf 'aead rfc4106(gcm(aes)) 0x%040x 128' "$1"; }
out_sa() { echo "sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi $1 mode tunnel reqid 1 replay-window 32 $(aead "$1") ${*:2}"; }
in_sa() { echo "sa add src 10.0.0.2 dst 10.0.0.1 proto esp spi $1 mode tunnel reqid 2 replay-window 32 $(aead "$1") ${*:2}"; }
OUT_POL="policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir out priority 10 tmpl src 10.0.0.1 dst 10.0.0.2 proto esp mode tunnel reqid 1"
IN_POL="policy add src 10.2.0.0/24 dst 10.1.0.0/24 dir in priority 10 tmpl src 10.0.0.2 dst 10.0.0.1 proto esp mode tunnel reqid 2"
BLOCK_POL="policy add src 10.3.0.0/24 dst 10.4.0.0/24 dir out action block"

cat >"$tmp/base.conf" <<EOF
# the running configuration
$(out_sa 0x100)
$(in_sa 0x200)
$OUT_POL
$IN_POL
$BLOCK_POL
EOF
chmod 0600 "$tmp/base.conf"
n -atomic -batch "$tmp/base.conf" || fail "the base file did not apply"
check_eq "SAs after the base file" "$(n sa count)" "SAD count 2"
check_eq "policies after the base file" "$(n policy count)" "SPD count 3"
before=$(state)
# The indexes of the out and in policies, which updates keep.
indexes()
{
	n policy get src 10.1.0.0/24 dst 10.2.0.0/24 dir out | grep -o 'index [0-9]*'
	n policy get src 10.2.0.0/24 dst 10.1.0.0/24 dir in | grep -o 'index [0-9]*'
}
indexes=$(indexes)

# Every kind of change, then a line the module refuses (a 2-byte GCM key) last.
changes()
{
	out_sa 0x300
	out_sa 0x100 | sed 's/sa add/sa update/; s/$/ mss 1300/'
	echo "${OUT_POL/policy add/policy update}" | sed 's/priority 10/priority 5/'
	echo "policy del src 10.3.0.0/24 dst 10.4.0.0/24 dir out"
	echo "sa del dst 10.0.0.1 proto esp spi 0x200"
	echo "policy add src 10.5.0.0/24 dir out action block"
}
{ changes; echo "sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x400 aead rfc4106(gcm(aes)) 0x0011 128"; } \
	>"$tmp/bad-last.conf"

mon_start "$a" nfsec "$tmp/events"
mon_ready "$a" nfsec "$tmp/events"
: >"$tmp/events"
if n -atomic -batch "$tmp/bad-last.conf" 2>"$tmp/err"; then
	fail "a file with a bad last line applied"
fi
sed 's/^/# stderr: /' "$tmp/err"
grep -q "^$tmp/bad-last.conf:7: sa add: " "$tmp/err" || fail "the error does not name FILE:7"
mon_alive "$a" nfsec "$tmp/events"
# (the probe SAs of mon_ready and mon_alive are 192.0.2.x: the file's are 10.x)
if grep -qE '10\.[0-5]\.0\.|Flushed' "$tmp/events"; then
	sed 's/^/# event: /' "$tmp/events"
	fail "the failed batch changed something for a moment (events above)"
fi
[[ $(state) == "$before" ]] || fail "the failed batch changed the state"
pass "a file with a bad last line: FILE:7 named, no change, not even for a moment"

# The same changes failing when applied: max_sas lets one SA more in, the file adds two.
# No check foresees that; the lines applied before are undone.
{ changes; out_sa 0x500; } >"$tmp/late.conf"
max=$(cat /sys/module/nfsec/parameters/max_sas)
defer "echo $max >/sys/module/nfsec/parameters/max_sas"
echo 3 >/sys/module/nfsec/parameters/max_sas
if n -atomic -batch "$tmp/late.conf" 2>"$tmp/err"; then
	fail "a file adding two SAs where one fits applied"
fi
echo "$max" >/sys/module/nfsec/parameters/max_sas
sed 's/^/# stderr: /' "$tmp/err"
grep -q "^$tmp/late.conf:7: sa add: .*max_sas" "$tmp/err" || fail "the error does not name FILE:7 and max_sas"
grep -q "nothing changed (4 applied lines undone)" "$tmp/err" || fail "no 'nothing changed' report"
[[ $(state) == "$before" ]] || { diff <(echo "$before") <(state) | sed 's/^/# /'; fail "the undone batch left changes"; }
pass "a line failing when applied: the 4 lines applied before it undone, the same state"

# Without the bad line, the same changes apply.
changes >"$tmp/good.conf"
n -atomic -batch "$tmp/good.conf" || fail "the good changes did not apply"
check_eq "SAs after the good changes" "$(n sa count)" "SAD count 2"
n sa get dst 10.0.0.2 proto esp spi 0x100 | grep -q "mss 1300" || fail "sa update not applied"
n policy show | grep -q "priority 5" || fail "policy update not applied"
pass "the same lines without the bad one apply"

# -replace: the base file again puts the base state back where the file names it; the policy
# the good changes added stays, the SA they deleted comes back, the one they added stays.
n -replace -batch "$tmp/base.conf" || fail "-replace of the base file failed"
check_eq "SAs after -replace" "$(n sa count)" "SAD count 3"
n sa get dst 10.0.0.2 proto esp spi 0x100 | grep -q "mss 1300" && fail "-replace did not update SA 0x100"
n policy show | grep -q "priority 5" && fail "-replace did not update the out policy"
n -atomic -batch "$tmp/base.conf" 2>"$tmp/err" && fail "-atomic without -replace added existing SAs"
grep -q "base.conf:2: sa add: an SA with this dst, spi and proto exists" "$tmp/err" ||
	fail "want FILE:2 and 'exists': $(cat "$tmp/err")"
n -replace -batch "$tmp/base.conf" || fail "-replace a second time failed"
check_eq "the out and in policies' indexes, which updates keep" "$(indexes)" "$indexes"
pass "-replace applies the same file again"
