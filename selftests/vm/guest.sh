#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# PID 1 inside the VM after switch_root, on the host's root (read-only 9p):
#   guest.sh REPO RUN
# Runs selftests/run_tests.sh with the settings in RUN/config, writing its KTAP to RUN/ktap.log,
# its exit status to RUN/status and the kernel log to RUN/dmesg.txt, then resets the VM (QEMU exits).
# selftests/vm/run.sh on the host reads them.

repo=$1 run=$2
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LC_ALL=C

# A reset ends QEMU (-no-reboot) whatever the kernel: the debug kernel has no ACPI to power off.
finish()
{
	sync
	/bin/busybox reboot -f
}
trap finish EXIT

cut -d' ' -f1 /proc/uptime >"$run/booted"
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mkdir -p /dev/shm /dev/pts
mount -t tmpfs -o mode=1777 shm /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
ln -sf /proc/self/fd /dev/fd 2>/dev/null
hostname nfsec-vm
ip link set lo up
# udev would load the CPU's crypto drivers on a real boot (modalias cpu:...feature:...): without
# them every AES would be aes-generic, the async AES-NI paths never taken.
for m in aesni_intel sha256_ssse3 ghash_clmulni_intel chacha_x86_64 poly1305_x86_64; do
	modprobe -q "$m" 2>/dev/null
done

# Static keys that tests switch on and off have the kernel patch its text on every CPU at each
# switch: hundreds of times a run, and 6.12 under TCG now and then takes an int3 at such a site
# while another CPU runs it, and panics ("Oops: int3" in netif_rx_internal; testing.rst).
# Holding each such key on for the whole run keeps the text still: the netstamp key (every ping
# asks for SO_TIMESTAMP; Python's socket module has no name for it: 29 is SO_TIMESTAMP_OLD on
# x86 and arm64), the UDP encapsulation keys (xfrm's ESP-in-UDP sockets), and netfilter's
# per-hook keys (nft in the tests' namespaces), these with empty accepting chains in the initial
# namespace, where no test's packets pass.
python3 -c 'import socket, time
ts = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
ts.setsockopt(socket.SOL_SOCKET, 29, 1)
assert ts.getsockopt(socket.SOL_SOCKET, 29) == 1
encap = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
encap.setsockopt(socket.IPPROTO_UDP, 100, 2)	# UDP_ENCAP, UDP_ENCAP_ESPINUDP
print("held", flush=True)
time.sleep(1 << 30)' >"$run/keys.log" 2>&1 &
nft -f - >>"$run/keys.log" 2>&1 <<EOF || echo "nft failed" >>"$run/keys.log"
table inet nfsec_vm_keys {
	chain k_pre { type filter hook prerouting priority 0; }
	chain k_in { type filter hook input priority 0; }
	chain k_fwd { type filter hook forward priority 0; }
	chain k_out { type filter hook output priority 0; }
	chain k_post { type filter hook postrouting priority 0; }
}
EOF
for ((i = 0; i < 100; i++)); do
	grep -q held "$run/keys.log" && break
	sleep 0.1
done

set -a
source "$run/config"
set +a
cd "$repo" || exit 1
NFSEC_DMESG_CHECK=host selftests/run_tests.sh >"$run/ktap.log" 2>&1
echo $? >"$run/status"

# run_tests.sh scanned for leaks after the rmmod (debug kernel): its report, if any.
if [[ -r /sys/kernel/debug/kmemleak ]]; then
	cat /sys/kernel/debug/kmemleak >"$run/kmemleak.txt"
fi
# The whole log since boot, from record 0: if the ring buffer wrapped (lines lost), kmsg.py adds
# a "WARNING: kernel log: lines lost" line, which fails the host's dmesg check.
python3 selftests/kmsg.py since -1 >"$run/dmesg.txt"
