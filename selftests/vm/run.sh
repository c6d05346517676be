#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the selftests in a QEMU VM (TCG) booting the packaged Debian kernel the module was built
# for, the host's root shared read-only over 9p. One boot per run; `make check` calls this when
# the running kernel cannot load the module. Prints the guest's KTAP live, then a "dmesg" result
# from the whole guest kernel log, and last the line "N passed, N failed, N skipped".
#
# Environment:
#   TESTS="a.sh b.sh"   subset to run (default: TEST_PROGS of selftests/Makefile)
#   NFSEC_KO=PATH       module to test (default module/nfsec.ko); must not be under /tmp
#   NFSEC_INSTALLED=1   test the installed module and tool instead (make check-pkg)
#   KVER=VERSION        guest kernel (default: the module's vermagic, else the newest *-amd64 with a
#                       /boot/vmlinuz, PREEMPT_RT ones (*-rt-amd64) only when there is no other)
#   VM_KERNEL=BZIMAGE   boot this kernel instead of /boot/vmlinuz-$KVER: one with virtio and 9p
#                       built in and no /lib/modules tree (the debug kernel: make check KERNEL=debug)
#   VM_MEM=MB           guest memory (default 2048)
#   TEST_TIMEOUT=SECS   per test, in the guest (default 300, times the machine's slowness)
#   TIMEOUT_FACTOR=F, JOBS=N, NFSEC_NO_SKIP=1, COMBOS, LEFT, RIGHT, ...
#                       passed to run_tests.sh in the guest when set (see there); CI=true
#                       sets NFSEC_NO_SKIP=1
#   VM_TIMEOUT=SECS     whole boot (default 3600: the suite takes 20-26 min in it)
#   VM_CONSOLE=1        also copy the guest console to stderr
#   KEEP_VM_RUN=1       keep .vm/run.XXXXXX even when everything passed
#   NFSEC_TRACE=1       trace every test into .vm/run.XXXXXX/trace (kept): where the time goes,
#                       by selftests/trace_profile.py .vm/run.XXXXXX/trace/TEST.trace
# Several runs may go on at once: each has its own .vm/run.XXXXXX.

set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
repo=$PWD
source selftests/lib.sh
set +e

die()
{
	echo "vm/run.sh: $*" >&2
	exit 2
}

ko=$(realpath -m "${NFSEC_KO:-module/nfsec.ko}")
if [[ -z ${KVER:-} && -f $ko ]]; then
	KVER=$(modinfo -F vermagic "$ko" 2>/dev/null | cut -d' ' -f1)
fi
if [[ -z ${KVER:-} ]]; then
	KVER=$(cd /lib/modules && for v in *-amd64; do [[ -f /boot/vmlinuz-$v ]] && echo "$v"; done |
		sort -V | awk '!/-rt-amd64$/ { v = $0 } { any = $0 } END { print v ? v : any }')
fi
if [[ -n ${VM_KERNEL:-} ]]; then
	kernel=$VM_KERNEL
	[[ -r $kernel ]] || die "no $kernel (VM_KERNEL)"
	initrd_kver=- # everything the initramfs would load is built in
	modules_dep=/bin/busybox
else
	kernel=/boot/vmlinuz-$KVER
	[[ -r $kernel && -f /lib/modules/$KVER/modules.dep ]] || die "no $kernel or /lib/modules/$KVER: apt-get install linux-image-$KVER"
	initrd_kver=$KVER
	modules_dep=/lib/modules/$KVER/modules.dep
fi
if [[ -f $ko ]]; then
	v=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
	[[ $v == "$KVER" ]] || echo "# warning: $ko is built for $v, the guest runs $KVER" >&2
fi
case $ko/ in
"$repo"/*) ;;
/tmp/*|/var/tmp/*|/run/*|/root/*) die "$ko is not visible in the guest (tmpfs there): keep it in the tree" ;;
esac
[[ $repo != *[[:space:]]* ]] || die "the tree's path must not contain spaces: $repo"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing: apt-get install qemu-system-x86"

mkdir -p .vm
run=$(mktemp -d "$repo/.vm/run.XXXXXX") || die "mktemp"
# Into the guest: only what is set here (run_tests.sh prints each as an override of the default
# check), and NFSEC_NO_SKIP in CI.
[[ ${CI:-} != true ]] || NFSEC_NO_SKIP=1
[[ -z ${NFSEC_KO:-} ]] || NFSEC_KO=$ko
: >"$run/config"
if [[ -n ${NFSEC_TRACE:-} ]]; then
	mkdir -p "$run/trace" && echo "NFSEC_TRACE=$run/trace" >>"$run/config"
	KEEP_VM_RUN=1
fi
for v in TESTS NFSEC_KO NFSEC_INSTALLED TEST_TIMEOUT TIMEOUT_FACTOR JOBS NFSEC_NO_SKIP BENCH_CASES ROUNDS SECS \
	 COMBOS LEFT RIGHT PERF PERF_UNDER INTEROP_CASES NATT_CASES IKE_CASES IKE_LEFT XFER_TIMEOUT \
	 FUZZ_SEED FUZZ_COUNT FUZZ_SECS FUZZ_ROUND FUZZ_CASES NFSEC_DEBUG_KO; do
	[[ -z ${!v:-} ]] || printf '%s=%q\n' "$v" "${!v}" >>"$run/config"
done
: >"$run/ktap.log"

# The initramfs only depends on its inputs: cache it per kernel, written atomically.
key=$({ echo "$initrd_kver"; cat selftests/vm/init selftests/vm/mkinitramfs.py
	stat -Lc '%s %Y' /bin/busybox "$modules_dep"; } | sha256sum | cut -c1-16)
initrd=.vm/initramfs-${initrd_kver/#-/builtin}-$key.cpio
if [[ ! -f $initrd ]]; then
	python3 selftests/vm/mkinitramfs.py "$initrd_kver" selftests/vm/init "$run/initramfs.cpio" || die "mkinitramfs failed"
	mv -f "$run/initramfs.cpio" "$initrd"
fi

vm_timeout=${VM_TIMEOUT:-3600}
start=$SECONDS
timeout -k 10 "$vm_timeout" qemu-system-x86_64 \
	-nodefaults -nographic -serial stdio -no-reboot \
	-accel tcg,thread=multi -cpu max -smp 2 -m "${VM_MEM:-2048}" \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 oops=panic slab_nomerge slub_debug=FZ,kmalloc-1k log_buf_len=8M softlockup_panic=1 quiet NFSEC_REPO=$repo NFSEC_RUN=$run" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs "local,path=$run,mount_tag=results,security_model=none,multidevs=remap" \
	</dev/null >"$run/console.log" 2>&1 &
qpid=$!
trap 'kill $qpid 2>/dev/null' EXIT
if [[ -n ${VM_CONSOLE:-} ]]; then
	tail -n +1 -s 0.2 -f --pid=$qpid "$run/console.log" >&2 &
fi

summary_re='^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$'
tail -n +1 -s 0.2 -f --pid=$qpid "$run/ktap.log" | grep --line-buffered -vE "$summary_re"
wait $qpid
qrc=$?
wait
trap - EXIT
elapsed=$((SECONDS - start))

results=$(grep -cE '^(not )?ok [0-9]+ ' "$run/ktap.log")
summary=$(grep -E "$summary_re" "$run/ktap.log" | tail -n 1)
echo "# vm: $KVER, booted in $(cat "$run/booted" 2>/dev/null || echo '?')s, $elapsed s in all"
# guest.sh holds the kernel's static keys the tests would switch (a 6.12 TCG hazard): say so if
# it could not.
if [[ $(cat "$run/keys.log" 2>/dev/null) != held ]]; then
	echo "# WARNING: the guest did not hold the static keys on: $(head -c 300 "$run/keys.log" 2>/dev/null | tr '\n' ' ')"
fi
if [[ -n $summary && -f $run/dmesg.txt ]]; then
	read -r passed _ failed _ skipped _ <<<"$summary"
	[[ $(cat "$run/status") == 0 ]] || ((failed)) || failed=1
	bad=$(cat "$run/dmesg.txt" "$run/kmemleak.txt" 2>/dev/null | dmesg_bad)
	# Counted here, not only in the guest: a full run has a result for each test of TEST_PROGS.
	ran=$(grep -cE '^(not )?ok [0-9]+ ' "$run/ktap.log")
	ran=$((ran - 1)) # rmmod
	want=$(make -s --no-print-directory -C selftests list | wc -w)
	if [[ -z ${TESTS:-} ]] && ((ran != want)); then
		echo "# FAIL: the guest reported $ran tests, TEST_PROGS has $want"
		failed=$((failed + 1))
	fi
	if [[ -z $bad ]]; then
		passed=$((passed + 1))
		echo "ok $((results + 1)) dmesg"
	else
		failed=$((failed + 1))
		sed 's/^/# guest kernel log: /' <<<"$bad"
		echo "not ok $((results + 1)) dmesg"
	fi
else
	passed=$(grep -E '^ok [0-9]+ ' "$run/ktap.log" | grep -vc '# SKIP')
	skipped=$(grep -cE '^ok [0-9]+ .*# SKIP' "$run/ktap.log")
	failed=$(($(grep -cE '^not ok [0-9]+ ' "$run/ktap.log") + 1))
	if ((qrc == 124 || qrc == 137)); then
		why="timed out after ${vm_timeout}s"
	else
		why="guest stopped before the end (crash or panic)"
	fi
	console=$(tr -d '\r' <"$run/console.log" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g')
	bad=$(dmesg_bad <<<"$console")
	echo "# $why; console ($run/console.log):"
	if [[ -n $bad ]]; then
		grep -m1 -A60 -F "$(head -n 1 <<<"$bad")" <<<"$console" | sed 's/^/# console: /'
	else
		tail -n 30 <<<"$console" | sed 's/^/# console: /'
	fi
	# The summary last, where a reader of only the output's tail (CI's) still finds it: the
	# tests that had ended, the kernel's complaint and where it stopped.
	tail -n 4 "$run/ktap.log" | sed 's/^/# guest last said: /'
	tail -n 3 "$run/started" 2>/dev/null | sed 's/^/# last tests started, at: /'
	if [[ -n $bad ]]; then
		sed 's/^/# guest kernel log: /' <<<"$bad"
		grep -m2 -E '(RIP|Comm):' <<<"$console" | sed 's/^/# guest kernel log: /'
	fi
	echo "not ok $((results + 1)) vm # $why"
fi
if ((failed)) || [[ -n ${KEEP_VM_RUN:-} ]]; then
	echo "# guest files kept in $run"
else
	rm -rf "$run"
fi
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
