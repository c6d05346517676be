#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# nfsec-selftest: exclusive (it counts the objects of nfsec's slab caches)
#
# Every piece of state is per network namespace; configuring one needs
# CAP_NET_ADMIN over it (root of a user namespace owning it will do); and a
# namespace's exit frees its SAs and policies.
source "$(dirname "$0")/lib.sh"
need_module
need_cmd python3 setpriv unshare

ns_create ns1 ns2
n1() { ip netns exec "$ns1" "$@"; }
n2() { ip netns exec "$ns2" "$@"; }
GCM=0x0123456789abcdef0123456789abcdef0badc0de
count() { "$@" nfsec -j sa show | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

n1 nfsec sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x3000 mode tunnel \
	aead 'rfc4106(gcm(aes))' $GCM 128
n1 nfsec policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir out \
	tmpl src 10.0.0.1 dst 10.0.0.2 proto esp mode tunnel
check_eq "SAs in ns1" "$(count n1)" 1
check_eq "SAs in ns2" "$(count n2)" 0
check_eq "policies in ns2" "$(n2 nfsec -j policy show | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 0
if n2 nfsec sa get dst 10.0.0.2 proto esp spi 0x3000 2>/dev/null; then
	fail "ns1's SA is visible from ns2"
fi
# The same identity may exist in both.
n2 nfsec sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x3000 mode tunnel \
	aead 'rfc4106(gcm(aes))' $GCM 128
n2 nfsec sa flush
check_eq "SAs in ns1 after ns2's flush" "$(count n1)" 1
pass "netns isolation"

# An unprivileged user may neither read nor change anything.
for cmd in "sa show" "policy show" "stats" \
	   "sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x3001 aead rfc4106(gcm(aes)) $GCM 128" \
	   "sa flush"; do
	# shellcheck disable=SC2086
	if out=$(n1 setpriv --reuid=65534 --regid=65534 --clear-groups nfsec $cmd 2>&1); then
		fail "unprivileged 'nfsec $cmd' succeeded: $out"
	fi
	grep -qi "not permitted" <<<"$out" || fail "unprivileged 'nfsec $cmd': not EPERM: $out"
done
check_eq "SAs in ns1 after the unprivileged attempts" "$(count n1)" 1
pass "EPERM for an unprivileged user"

# Root of a user namespace administers the network namespace it owns.
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups unshare -U -r -n sh -c "
	nfsec sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x3002 mode tunnel \
		aead 'rfc4106(gcm(aes))' $GCM 128 && nfsec sa show" 2>&1) ||
	skip "unprivileged user namespaces unavailable: $out"
grep -qF "spi 0x00003002" <<<"$out" || fail "user-namespace root could not add an SA: $out"
pass "CAP_NET_ADMIN in a user namespace over its own netns"

# Deleting a namespace frees what it held (counted in nfsec's slab caches).
slab_objs() # CACHE
{
	echo 1 > "/sys/kernel/slab/$1/shrink" 2>/dev/null || true
	awk -v c="$1" '$1 == c { print $2 }' /proc/slabinfo
}
if [[ -z $(slab_objs nfsec_sa) ]]; then
	skip_case "nfsec_sa cache merged with another here (boot with slab_nomerge): not counted"
	exit 0
fi
base_sa=$(slab_objs nfsec_sa) base_pol=$(slab_objs nfsec_policy)
ns_create ns3
batch=$(mktemp)
defer rm -f "$batch"
for i in $(seq 1 50); do
	printf 'sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi %d mode tunnel aead rfc4106(gcm(aes)) %s 128\n' \
		$((0x4000 + i)) $GCM
	printf 'policy add src 10.1.%d.0/24 dst 10.2.0.0/24 dir out tmpl src 10.0.0.1 dst 10.0.0.2 proto esp mode tunnel\n' $i
done > "$batch"
ip netns exec "$ns3" nfsec -batch "$batch"
(( $(slab_objs nfsec_sa) >= base_sa + 50 )) || fail "50 SAs not in the nfsec_sa cache"
ip netns del "$ns3"
wait_for 20 bash -c "[[ \$(echo 1 > /sys/kernel/slab/nfsec_sa/shrink; awk '\$1 == \"nfsec_sa\" { print \$2 }' /proc/slabinfo) -le $base_sa ]]"
check_eq "nfsec_policy objects after netns exit" "$(slab_objs nfsec_policy)" "$base_pol"
pass "netns exit frees its SAs and policies"
