#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The boot configuration: the commands of nfsec.service (tools/nfsec.service.in), run as
# systemd would run them (the VM has no systemd), on a gateway a whose peer b is configured by
# hand:
#  - ExecStart on an empty namespace applies the file: the tunnel carries pings;
#  - ExecReload, five times while pings flow, with a new key each time on both sides: every
#    policy is replaced in place (nfsec monitor shows updates, never a delete or a flush: no
#    moment without it), not one packet crosses in clear, and the SAs keep their sequence
#    numbers;
#  - ExecReload of a file whose last line is bad fails naming FILE:LINE and changes nothing:
#    the tunnel still carries pings with the old keys.
#
#   a: 10.1.0.1 (lo) -- 10.0.0.1 eth0 ==== eth0 10.0.0.2 -- 10.2.0.1 (lo) :b

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
source "$(dirname "$0")/monitor_lib.sh"
need_module
need_cmd tcpdump ping

tmp=$(mktemp -d)
defer rm -rf "$tmp"
mkdir -m 0700 "$tmp/etc" "$tmp/etc/nfsec"
if [[ ${NFSEC_INSTALLED:-} == 1 ]]; then
	# make check-pkg: the installed unit's commands as they are, with this test's file mounted
	# on the one they name, in a mount namespace of their own.
	unit=/lib/systemd/system/nfsec.service
	conf=$(sed -n 's/^ConditionPathExists=//p' "$unit")
	[[ -f $conf ]] || fail "no $conf (the unit's ConditionPathExists)"
	unit_cmd() { sed -n "s/^$1=//p" "$unit"; }
	run_unit() { ip netns exec "$a" unshare -m bash -c "mount --bind $tmp/etc/nfsec/nfsec.conf $conf && $1"; }
	edit=$tmp/etc/nfsec/nfsec.conf
else
	# the tree's unit, with the tree's tool and this test's file
	unit=$SELFTESTS_DIR/../tools/nfsec.service.in
	conf=$tmp/etc/nfsec/nfsec.conf
	unit_cmd()
	{
		sed -n "s/^$1=//p" "$unit" | sed "s|@SBINDIR@|$SELFTESTS_DIR/../tools|g; s|@SYSCONFDIR@|$tmp/etc|g"
	}
	run_unit() { ip netns exec "$a" bash -c "$1"; }
	edit=$conf
fi
start=$(unit_cmd ExecStart)
reload=$(unit_cmd ExecReload)
[[ -n $start && -n $reload ]] || fail "no ExecStart or ExecReload in $unit"
echo "# ExecStart=$start"
echo "# ExecReload=$reload"

tunnel_hosts
na() { ip netns exec "$a" nfsec "$@"; }
nb() { ip netns exec "$b" nfsec "$@"; }

key() { printf '0x%040x' "$1"; }
# sas KEY_OUT KEY_IN: a's SA out (0x1000) and in (0x1001), the same on b
sas()
{
	echo "sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x1000 mode tunnel reqid 1 replay-window 64 aead rfc4106(gcm(aes)) $(key "$1") 128"
	echo "sa add src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x1001 mode tunnel reqid 2 replay-window 64 aead rfc4106(gcm(aes)) $(key "$2") 128"
}
# config KEY_OUT KEY_IN: a's file, 5 lines
config()
{
	echo "# gateway a"
	sas "$@"
	echo "policy add src 10.1.0.1/32 dst 10.2.0.1/32 dir out tmpl src 10.0.0.1 dst 10.0.0.2 proto esp mode tunnel reqid 1"
	echo "policy add src 10.2.0.1/32 dst 10.1.0.1/32 dir in tmpl src 10.0.0.2 dst 10.0.0.1 proto esp mode tunnel reqid 2"
}
{
	sas 1 2
	echo "policy add src 10.2.0.1/32 dst 10.1.0.1/32 dir out tmpl src 10.0.0.2 dst 10.0.0.1 proto esp mode tunnel reqid 2"
	echo "policy add src 10.1.0.1/32 dst 10.2.0.1/32 dir in tmpl src 10.0.0.1 dst 10.0.0.2 proto esp mode tunnel reqid 1"
} | nb -batch - || fail "configuring the peer b"
peer() { sas "$@" | sed 's/^sa add/sa update/' | nb -batch -; }
config 1 2 >"$edit"
chmod 0600 "$edit"
ping_ok() { ip netns exec "$a" ping -q -c 3 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1 >/dev/null; }

# Boot: an empty namespace, the unit's ExecStart.
run_unit "$start" || fail "ExecStart failed"
check_eq "SAs after ExecStart" "$(na sa count)" "SAD count 2"
wait_for 10 ping_ok
tx=$(sastat "$a" 0x1000 tx_packets)
((tx >= 3)) || fail "pings did not go through SA 0x1000 (tx_packets $tx)"
pass "ExecStart applied the file: pings cross the tunnel ($tx packets through 0x1000)"

# Reload with new keys (and the peer too, just before), five times while pings flow.
mon_start "$a" nfsec "$tmp/events"
mon_ready "$a" nfsec "$tmp/events"
: >"$tmp/events"
cap_start "$b" eth0 "$tmp/wire.pcap" "icmp or esp"
ip netns exec "$a" ping -q -i 0.01 -w 8 -I 10.1.0.1 10.2.0.1 >"$tmp/ping.log" 2>&1 &
ping_pid=$!
for k in 3 5 7 9 11; do
	sleep 0.5
	oseq=$(sa_field "$a" 0x1000 oseq)
	peer "$k" "$((k + 1))" || fail "rekeying the peer"
	config "$k" "$((k + 1))" >"$edit"
	run_unit "$reload" || fail "ExecReload $k failed"
	((oseq <= $(sa_field "$a" 0x1000 oseq))) || fail "ExecReload reset the SA's sequence numbers"
done
wait "$ping_pid" || true
cap_stop
mon_alive "$a" nfsec "$tmp/events"
# (the monitor's probe SAs are 192.0.2.x)
if grep -E '^(Deleted|Flushed)' "$tmp/events" | grep -v 192.0.2 | grep -q .; then
	grep -E '^(Deleted|Flushed)' "$tmp/events" | grep -v 192.0.2 | sed 's/^/# event: /'
	fail "a reload deleted or flushed (events above): a moment without the object"
fi
check_eq "policy updates the reloads sent" \
	"$(grep -cE '^Updated src 10\.[12]\.0\.1/32 dst 10\.[12]\.0\.1/32' "$tmp/events")" 10
check_eq "SA updates the reloads sent" "$(grep -c '^Updated src 10\.0\.0\.[12] dst' "$tmp/events")" 10
sed 's/^/# /' "$tmp/ping.log" | tail -n 2
clear=$(cap_count "$tmp/wire.pcap" "icmp and host 10.1.0.1")
esp=$(cap_count "$tmp/wire.pcap" "esp")
echo "# on the wire during the reloads: $esp ESP packets, $clear ICMP in clear"
((esp > 100)) || fail "too few ESP packets ($esp) for the check to mean anything"
check_eq "ICMP packets in clear during five reloads" "$clear" 0
check_eq "SAs after the reloads" "$(na sa count)" "SAD count 2"
check_eq "policies after the reloads" "$(na policy count)" "SPD count 2"
ping_ok || fail "no pings after the reloads"
pass "five ExecReloads under traffic: new keys, no packet in clear, sequence numbers kept"

# A file with a bad last line: the reload fails naming it, and nothing changes (the old keys
# still match the peer's).
before=$(na sa show; na policy show)
{ config 21 22; echo "policy add src 10.1.0.1/32 dst 10.9.0.0/24 dir out tmpl proto esp mode tunnel"; } >"$edit"
if run_unit "$reload" 2>"$tmp/err"; then
	fail "ExecReload of a file with a bad last line succeeded"
fi
sed 's/^/# stderr: /' "$tmp/err"
grep -q "^$conf:6: policy add: " "$tmp/err" || fail "the error does not name $conf:6"
[[ $(na sa show; na policy show) == "$before" ]] ||
	{ diff <(echo "$before") <(na sa show; na policy show) | sed 's/^/# /'; fail "the failed reload changed the state"; }
ping_ok || fail "the failed reload broke the tunnel"
pass "ExecReload of a file with a bad last line: FILE:LINE named, nothing changed, tunnel up"

# A file others can read is named in a warning.
config 11 12 >"$edit"
chmod 0644 "$edit"
run_unit "$reload" 2>"$tmp/err" || fail "ExecReload of the good file failed"
grep -q "warning: $conf can be read by others" "$tmp/err" || fail "no warning for a 0644 file"
pass "a file others can read draws a warning"
