#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# nfsec-selftest: exclusive (it unloads and reloads the module)
#
# 10,000 SAs and 10,000 policies, half of them IPv6: installed with one batch, dumped whole
# (multi-part), flushed; then installed again and the module unloaded
# under them, which must free every object (a leak in nfsec's own slab
# caches makes kmem_cache_destroy() complain in the kernel log, which fails
# the suite). The module is loaded again afterwards.
source "$(dirname "$0")/lib.sh"
need_module
need_cmd python3

N=10000
GCM=0x0123456789abcdef0123456789abcdef0badc0de
ko=${NFSEC_KO:-$SELFTESTS_DIR/../module/nfsec.ko}
ns_create ns1
n1() { ip netns exec "$ns1" "$@"; }
batch=$(mktemp)
defer rm -f "$batch"

python3 - "$N" "$GCM" > "$batch" <<'PY'
import sys
n, key = int(sys.argv[1]), sys.argv[2]
for i in range(n):
    b = i % 65536
    if i % 2:
        # IPv6, in three prefix-length classes
        plen = (48, 64, 128)[i % 3]
        peer = f"fd10::{i:x}"
        sel = f"src fd01::/48 dst fd64:{i:x}::/{plen}"
    else:
        peer = f"172.{16 + i // 65536}.{b >> 8}.{b & 255}"
        sel = f"src 10.1.0.0/16 dst 10.{100 + i // 256}.{i % 256}.0/24"
    src = "fd00::1" if i % 2 else "10.0.0.1"
    print(f"sa add src {src} dst {peer} proto esp spi {0x10000 + i} reqid {i + 1} "
          f"mode tunnel aead 'rfc4106(gcm(aes))' {key} 128")
    print(f"policy add {sel} dir out tmpl src {src} dst {peer} proto esp mode tunnel "
          f"reqid {i + 1}")
PY

start=$(date +%s.%N)
n1 nfsec -batch "$batch"
end=$(date +%s.%N)
echo "# installed $N SAs and $N policies in $(awk "BEGIN { printf \"%.2f\", $end - $start }") s"

check_eq "SAs dumped" "$(n1 nfsec -j sa show | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" $N
check_eq "distinct SPIs dumped" "$(n1 nfsec -j sa show | python3 -c '
import json,sys; print(len({int(str(s["spi"]), 0) for s in json.load(sys.stdin)}))')" $N
check_eq "policies dumped" "$(n1 nfsec -j policy show | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" $N
check_eq "IPv6 policies dumped (-6)" "$(n1 nfsec -6 -j policy show | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" $((N / 2))
check_eq "IPv4 SAs dumped (-4)" "$(n1 nfsec -4 -j sa show | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" $((N / 2))
check_eq "SA count in stats" "$(n1 nfsec stats | awk '$1 == "sa_count" || $1 == "sas" { print $2 }')" $N
pass "dump of $N SAs and $N policies is complete"

n1 nfsec sa flush
n1 nfsec policy flush
check_eq "SAs after flush" "$(n1 nfsec -j sa show | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 0
pass "flush of $N"

n1 nfsec -batch "$batch"
dmesg_mark
rmmod nfsec || fail "rmmod with $N SAs installed failed"
grep -q '^nfsec_sa ' /proc/slabinfo && fail "the nfsec_sa cache survived rmmod"
insmod "$ko" || fail "could not load $ko again"
bad=$(dmesg_since | dmesg_bad) || true
[[ -z $bad ]] || fail "kernel log after rmmod: $bad"
pass "rmmod with $N SAs and $N policies installed frees them"
