#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Not exclusive: its time limits are lower bounds, and under load events only come later.
#
# SA lifetimes, as xfrm keeps them: a packet that finds its SA at or past a soft limit has the
# keying daemon told once (an expire event, hard 0); one that finds it at or past a hard limit
# is dropped and the SA deleted (hard 1); time limits act on their own. a (LEFT) holds the SAs
# with limits, b (RIGHT) the same SAs without; pings a -> b, one at a time, go out on 0x100 and
# come back on 0x200. The same expectations run against xfrm itself (xfrm/xfrm), so that they
# are xfrm's. A "no event" check first has the monitor print a probe (mon_alive).
#   1. packet-soft 5, packet-hard 10 out: soft when the 6th leaves, pings 1-10 answered, the
#      11th dropped as expired (and the SA deleted), the 12th finds no SA
#   2. packet-hard 3 in: replies 1-3 delivered, the 4th dropped as expired, the 5th no SA
#   3. byte-soft 3000, byte-hard 6000 out, 1028-byte packets: soft with the 4th, 6 answered
#   4. time-soft 2, time-hard 4, no traffic: soft, then deleted, neither before its time (the
#      kernel's add second + 2 s and + 4 s) as a monitor that timestamps its lines saw them;
#      under load they come late, which only a timeout bounds (on a slow machine both limits
#      are NFSEC_SLOWNESS times longer, rounded up: the add time is read before the SA goes)
#   5. time-use-hard 2: kept 3 s while unused; deleted, not before 1 s after its first packet
#   6. update after the soft event, with a higher soft limit: no second event
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
source "$(dirname "$0")/monitor_lib.sh"
run_combos "nfsec/xfrm xfrm/xfrm"
need_cmd python3

ns_create a b
veth_pair "$a" eth0 10.0.0.1/24 "$b" eth0 10.0.0.2/24
tmp=$(mktemp -d)
defer "rm -rf $tmp"
AEAD="aead rfc4106(gcm(aes)) 0x0123456789abcdef0123456789abcdef0badc0de 128"
OUT="src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x100"
IN="src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x200"

mon_start "$a" "$LEFT" "$tmp/events"
# A second monitor, each line prefixed with the time it arrived (microseconds): when an event
# came, within a reader's wake-up, where a poll is late by a whole round (seconds, under load).
if is_nfsec "$LEFT"; then mon=(ip netns exec "$a" nfsec monitor); else mon=(ip -n "$a" xfrm monitor all); fi
"${mon[@]}" | while IFS= read -r line; do echo "${EPOCHREALTIME/./} $line"; done >>"$tmp/timed" &
mon_ready "$a" "$LEFT" "$tmp/events" "$tmp/timed"

# batch NS IMPL: the lines of stdin, "sa WORDS" and "pol WORDS", run by one process
batch()
{
	if is_nfsec "$2"; then
		sed 's/^pol /policy /' | ip netns exec "$1" nfsec -batch -
	else
		sed 's/^sa /xfrm state /; s/^pol /xfrm policy /' | ip -n "$1" -batch -
	fi
}

# setup OUT_LIMITS IN_LIMITS: fresh SAs and policies, a's SAs with the limits given, added last
# (t_add: the time just before), once the monitor's file is emptied
setup()
{
	batch "$a" "$LEFT" <<-EOF
		sa flush
		pol flush
		pol add src 10.0.0.1 dst 10.0.0.2 dir out tmpl proto esp mode transport
		pol add src 10.0.0.2 dst 10.0.0.1 dir in tmpl proto esp mode transport
	EOF
	batch "$b" "$RIGHT" <<-EOF
		sa flush
		pol flush
		sa add $OUT mode transport $AEAD
		sa add $IN mode transport $AEAD
		pol add src 10.0.0.2 dst 10.0.0.1 dir out tmpl proto esp mode transport
		pol add src 10.0.0.1 dst 10.0.0.2 dir in tmpl proto esp mode transport
	EOF
	# The monitor appends: emptied, the file starts again at 0. Before the SAs are added: under
	# load, setting up took long enough for a time limit's event to come before a later ": >".
	: >"$tmp/events"
	: >"$tmp/timed"
	t_add=$(now)
	batch "$a" "$LEFT" <<-EOF
		sa add $OUT mode transport $AEAD $1
		sa add $IN mode transport $AEAD $2
	EOF
}

# now: microseconds; since T [T2]: milliseconds from T to T2 (default now)
now() { echo "${EPOCHREALTIME/./}"; }
since() { echo $(((${2:-$(now)} - $1) / 1000)); }

# at_least WHAT MS SECS: MS milliseconds are at least SECS seconds. Times are taken when a poll
# sees a thing, late under load but never early: only lower bounds hold whatever the load, an
# upper one only as a timeout.
at_least()
{
	local t
	t=$(printf '%d.%03d' $(($2 / 1000)) $(($2 % 1000)))
	(($2 >= $3 * 1000)) || fail "$1 after $t s, before its time ($3 s)"
	echo "# $1 after $t s"
}

# pings N [SIZE]: N pings a -> b, one at a time; "1" for each answered, "0" otherwise. One
# process enters a: under emulation each program started costs.
pings()
{
	# shellcheck disable=SC2016
	ip netns exec "$a" bash -c 'for ((i = 0; i < $1; i++)); do
		ping -c 1 -W 1 -s "$2" 10.0.0.2 >/dev/null 2>&1 && echo -n 1 || echo -n 0
	done; echo' _ "$1" "${2:-56}"
}

expiries() { mon_expiries "$tmp/events"; }
# expire_at soft|hard: when that expire event reached the timed monitor (microseconds)
expire_at()
{
	awk -v want="$1" '{ t = $1; sub(/^[0-9]+ /, "") }
	/^Expired/ { on = 1 }
	on && match($0, /hard [01]/) {
		if ((substr($0, RSTART + 5, 1) == "1" ? "hard" : "soft") == want) { print t; exit }
		on = 0
	}' "$tmp/timed"
}
has_expire() { [[ -n $(expire_at "$1") ]]; }
any_expiry() { [[ -n $(expiries) ]]; }
two_expiries() { [[ $(expiries) == *" "*" "*" "* ]]; }
has_sa() { sa "$a" "$LEFT" get $1 >/dev/null 2>&1; }
gone() { ! has_sa "$1"; }

# counter NAME_NFSEC NAME_XFRM: a's drop counter, nfsec's or xfrm's name for it
counter()
{
	if is_nfsec "$LEFT"; then nstat "$a" "$1"; else xstat "$a" "$2"; fi
}

# moved WHAT BEFORE NAME_NFSEC NAME_XFRM: the counter moved by one since BEFORE; xfrm's
# XfrmOutNoStates counts route lookups, several for one ping: at least one there
moved()
{
	local n=$(($(counter "$3" "$4") - $2))
	if is_nfsec "$LEFT" || [[ $4 != XfrmOutNoStates ]]; then
		check_eq "$1" "$n" 1
	else
		((n >= 1)) || fail "$1: $4 did not move"
	fi
}

# 1
setup "limit packet-soft 5 limit packet-hard 10" ""
check_eq "pings 1-5 answered" "$(pings 5)" 11111
sleep 0.5
mon_alive "$a" "$LEFT" "$tmp/events"
check_eq "expire events after 5 packets" "$(expiries)" ""
check_eq "ping 6 answered" "$(pings 1)" 1
wait_for 5 any_expiry
check_eq "expire events after the 6th" "$(expiries)" "soft 0x00000100"
exp0=$(counter tx_expired XfrmOutStateExpired)
nosa0=$(counter tx_no_sa XfrmOutNoStates)
check_eq "pings 7-12" "$(pings 6)" 111100
wait_for 5 gone "$OUT"
check_eq "expire events after 12 pings" "$(expiries)" "soft 0x00000100 hard 0x00000100"
moved "packets dropped as expired" "$exp0" tx_expired XfrmOutStateExpired
moved "packets without an SA" "$nosa0" tx_no_sa XfrmOutNoStates
pass "packet limits out: soft when the 6th left, 10 sent, the SA deleted at the 11th"

# 2
setup "" "limit packet-hard 3"
exp0=$(counter rx_expired XfrmInStateExpired)
nosa0=$(counter rx_no_sa XfrmInNoStates)
check_eq "pings 1-5" "$(pings 5)" 11100
wait_for 5 gone "$IN"
check_eq "expire events" "$(expiries)" "hard 0x00000200"
moved "replies dropped as expired" "$exp0" rx_expired XfrmInStateExpired
moved "replies without an SA" "$nosa0" rx_no_sa XfrmInNoStates
pass "packet limit in: 3 replies delivered, the SA deleted at the 4th"

# 3
setup "limit byte-soft 3000 limit byte-hard 6000" ""
check_eq "1028-byte pings 1-3" "$(pings 3 1000)" 111
sleep 0.5
mon_alive "$a" "$LEFT" "$tmp/events"
check_eq "expire events after 3,084 bytes" "$(expiries)" ""
check_eq "1028-byte pings 4-8" "$(pings 5 1000)" 11100
wait_for 5 gone "$OUT"
check_eq "expire events" "$(expiries)" "soft 0x00000100 hard 0x00000100"
pass "byte limits out: soft with the 4th packet, 6 sent"

# 4
# The limits count whole seconds, from the second the kernel stamped the SA with when it was
# added (as xfrm's): an event due N s after the add comes at that second + N, never before.
# On a slow machine (NFSEC_SLOWNESS, run_tests.sh's measure) the limits are that many times
# longer: the add time is read after the add, and must be read before the SA is gone.
slow=$(awk -v f="${NFSEC_SLOWNESS:-1}" 'BEGIN { n = int(f); if (n < f) n++; print (n < 1 ? 1 : n) }')
setup "limit time-soft $((2 * slow)) limit time-hard $((4 * slow))" ""
if is_nfsec "$LEFT"; then
	added=$(sa_field "$a" 0x100 add_time)
else
	added=$(date -d "$(ip -n "$a" -s xfrm state list spi 0x100 |
		sed -n 's/.* add \([0-9-]* [0-9:]*\) .*/\1/p')" +%s)
fi
[[ $added =~ ^[0-9]+$ ]] || fail "no add time for the SA: '$added'"
wait_for $((30 * slow)) gone "$OUT"
wait_for 10 has_expire hard
at_least "hard time limit: the SA deleted" "$(since "${added}000000" "$(expire_at hard)")" $((4 * slow))
wait_for 10 has_expire soft
at_least "soft time limit" "$(since "${added}000000" "$(expire_at soft)")" $((2 * slow))
wait_for 10 two_expiries
check_eq "expire events, in order" "$(expiries)" "soft 0x00000100 hard 0x00000100"
pass "time limits: soft, then the SA deleted, without traffic"

# 5
setup "limit time-use-hard 2" ""
sleep 3
has_sa "$OUT" || fail "an unused SA went at its time-use-hard limit"
mon_alive "$a" "$LEFT" "$tmp/events"
check_eq "expire events while unused" "$(expiries)" ""
t_use=$(now)
check_eq "ping" "$(pings 1)" 1
wait_for 20 gone "$OUT"
wait_for 10 has_expire hard
at_least "time-use-hard: the SA deleted, after its first use," "$(since "$t_use" "$(expire_at hard)")" 1
wait_for 10 any_expiry
check_eq "expire events" "$(expiries)" "hard 0x00000100"
pass "time-use-hard counts from the first packet"

# 6
setup "limit packet-soft 3" ""
check_eq "pings 1-4" "$(pings 4)" 1111
wait_for 5 any_expiry
sa "$a" "$LEFT" update $OUT mode transport $AEAD limit packet-soft 100
check_eq "pings 5-8 after the update" "$(pings 4)" 1111
sleep 0.5
mon_alive "$a" "$LEFT" "$tmp/events"
check_eq "expire events" "$(expiries)" "soft 0x00000100"
pass "update with a higher soft limit: no second event"
