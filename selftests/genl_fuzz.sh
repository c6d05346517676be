#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fuzz nfsec's generic netlink family (genl_fuzz.py, which says what it sends
# and checks): FUZZ_COUNT messages (default 2000; `make fuzz` sends 100,000)
# in a fresh netns, FUZZ_SEED=N to reproduce a run. Then SA and policy
# updates (same keys) while a ping flood runs through them:
#
#   a (10.1.0.1) -- ESP tunnel 10.0.0.1 <-> 10.0.0.2 -- b (10.2.0.1)
#
# where no packet may leave in clear or fail its ICV at b. Last: the kernel
# log is clean, and once the namespaces are gone nfsec's slab caches hold no
# object.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
need_module
need_cmd python3 ping

count=${FUZZ_COUNT:-2000}
GCM_KEY=0x0123456789abcdef0123456789abcdef0badc0de
GCM="aead rfc4106(gcm(aes)) $GCM_KEY 128"

dmesg_mark
ns_create f
ip netns exec "$f" python3 -u "$SELFTESTS_DIR/genl_fuzz.py" fuzz "$count" ||
	fail "genl_fuzz.py (rerun with FUZZ_SEED= as printed above)"
pass "genl_fuzz.py: $count messages"

tunnel_hosts
for n in "$a" "$b"; do
	ip netns exec "$n" nfsec sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x100 mode tunnel $GCM
	ip netns exec "$n" nfsec sa add src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x200 mode tunnel $GCM
done
ip netns exec "$a" nfsec policy add src 10.1.0.1 dst 10.2.0.1 dir out \
	tmpl src 10.0.0.1 dst 10.0.0.2 proto esp mode tunnel
ip netns exec "$b" nfsec policy add src 10.1.0.1 dst 10.2.0.1 dir in \
	tmpl src 10.0.0.1 dst 10.0.0.2 proto esp mode tunnel
ip netns exec "$b" nfsec policy add src 10.2.0.1 dst 10.1.0.1 dir out \
	tmpl src 10.0.0.2 dst 10.0.0.1 proto esp mode tunnel
ip netns exec "$a" nfsec policy add src 10.2.0.1 dst 10.1.0.1 dir in \
	tmpl src 10.0.0.2 dst 10.0.0.1 proto esp mode tunnel
ip netns exec "$a" ping -q -f -s 1000 -I 10.1.0.1 10.2.0.1 >/dev/null 2>&1 &
rx_over() { local v; v=$(sastat "$b" 0x100 rx_packets); ((v > $1)); }
wait_for 20 rx_over 100
unprot=$(nstat "$b" rx_unprotected) authf=$(nstat "$b" rx_auth_fail)
ip netns exec "$a" python3 -u "$SELFTESTS_DIR/genl_fuzz.py" flood 0x100 10.0.0.2 \
	'rfc4106(gcm(aes))' $GCM_KEY 128 10.1.0.1 10.2.0.1 $((count / 50 + 20)) ||
	fail "updates under the flood"
n=$(sastat "$b" 0x100 rx_packets)
wait_for 20 rx_over $((n + 100))
pass "the flood still goes through the tunnel after the updates"
check_eq "b: packets in clear (rx_unprotected) during the updates" \
	$(($(nstat "$b" rx_unprotected) - unprot)) 0
check_eq "b: ICV failures during the updates" $(($(nstat "$b" rx_auth_fail) - authf)) 0

cleanup
# Objects go after an RCU grace period and a work item: poll.
slab_active() # CACHE: objects in use, after freeing the per-CPU slabs
{
	echo 1 >"/sys/kernel/slab/$1/shrink" 2>/dev/null || true
	awk -v c="$1" '$1 == c { print $2 }' /proc/slabinfo
}
caches=$(awk '$1 ~ /^nfsec/ { print $1 }' /proc/slabinfo)
[[ -n $caches ]] || fail "no nfsec slab cache in /proc/slabinfo (boot with slab_nomerge)"
for c in $caches; do
	wait_for 30 eval '[[ $(slab_active '"$c"') == 0 ]]'
	pass "slab cache $c: no object left"
done

bad=$(dmesg_since | dmesg_bad)
[[ -z $bad ]] || fail "kernel log: $bad"
pass "kernel log clean"
