#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# nfsec-selftest: exclusive (it validates the kmalloc-1k slab cache and reads the kernel log)
#
# Garbage ESP to the SPI of a live GCM SA, whole and in 2 to 44 IPv4 fragments, among 300 idle
# SAs, then the SAs torn down. Every packet must reach the transform and fail its ICV (the
# counter moves by exactly what was sent), and nothing may write outside its allocation: the
# VM boots with SLUB red zones on kmalloc-1k (selftests/vm/run.sh), where the per-packet
# context lives, and this test validates that cache before and after the teardown. A context
# sized for fewer scatterlist entries than it holds overwrote the next object there.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
need_module

ns_create a b
veth_pair "$a" eth0 10.0.0.1/24 "$b" eth0 10.0.0.2/24
nb() { ip netns exec "$b" "$@"; }

GCM="aead rfc4106(gcm(aes))"
key() { printf '0x%040x' "$1"; }

# Idle SAs first and after, so that transforms sit next to the live one's contexts.
batch=$(mktemp)
defer rm -f "$batch"
for i in $(seq 1 150); do
	echo "sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi $((0x20000 + i)) mode tunnel $GCM $(key "$i") 128"
done >"$batch"
nb nfsec -batch "$batch"
nb nfsec sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x1000 mode tunnel replay-window 64 \
	$GCM "$(key 4096)" 128
for i in $(seq 151 300); do
	echo "sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi $((0x20000 + i)) mode tunnel $GCM $(key "$i") 128"
done >"$batch"
nb nfsec -batch "$batch"
check_eq "SAs installed" "$(nb nfsec sa show | grep -c '^src ')" 301

validate()
{
	local f=/sys/kernel/slab/kmalloc-1k/validate
	if [[ -w $f ]]; then
		echo 1 >"$f"
	else
		skip_case "no $f (SLUB debug): the red zones are not checked"
	fi
}

dmesg_mark
auth0=$(sastat "$b" 0x1000 rx_auth_fail)
# Sizes that reassemble from 1 to 44 fragments on a 1500-byte link, 5 of each, each with a new
# sequence number so that the replay window lets every one through to the transform. Each
# fragment is one more scatterlist entry: one of these sizes puts the context within an entry
# of the end of its 1 KiB object, whatever the transform's request size.
ip netns exec "$a" python3 - <<'PY'
import errno, os, socket, struct, time
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ESP)
s.setsockopt(socket.IPPROTO_IP, 10, 0)  # IP_MTU_DISCOVER = IP_PMTUDISC_DONT: fragment
seq = 1
for n in range(1, 45):
    size = 300 + (n - 1) * 1480
    for _ in range(5):
        pkt = struct.pack("!II", 0x1000, seq) + os.urandom(size)
        while True:
            try:
                s.sendto(pkt, ("10.0.0.2", 0))
                break
            except OSError as e:  # the send buffer is full: let the device drain it
                if e.errno != errno.ENOBUFS:
                    raise
                time.sleep(0.01)
        seq += 1
PY
expect=$((44 * 5))
all_failed() { (($(sastat "$b" 0x1000 rx_auth_fail) >= auth0 + expect)); }
wait_for 20 all_failed
check_eq "rx_auth_fail of the live SA" "$(($(sastat "$b" 0x1000 rx_auth_fail) - auth0))" "$expect"
check_eq "rx_packets of the live SA" "$(sastat "$b" 0x1000 rx_packets)" 0
validate

# The per-packet contexts go back to the allocator at rmmod, where SLUB checks their red zones,
# and nfsec_sa's cache must be empty to be destroyed quietly.
nb nfsec sa flush
ko=${NFSEC_KO:-$SELFTESTS_DIR/../module/nfsec.ko}
rmmod nfsec || fail "rmmod after the flush failed"
grep -q '^nfsec_sa ' /proc/slabinfo && fail "the nfsec_sa cache survived rmmod"
insmod "$ko" || fail "could not load $ko again"
validate
bad=$(dmesg_since | dmesg_bad)
[[ -z $bad ]] || fail "kernel log: $bad"
pass "every SA freed at rmmod; kernel log clean, kmalloc-1k red zones intact"
