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

# Every ping asks for receive timestamps (SO_TIMESTAMP), and the first and the last socket that
# does switch the kernel's netstamp static key, patching kernel text on every CPU: thousands of
# times a run, slow under TCG, and 6.12 once took an int3 at such a site while another CPU ran
# it (Documentation/testing.rst). One socket holding timestamps on all along keeps the key on.
python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_TIMESTAMP, 1)
time.sleep(1 << 30)' &

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
