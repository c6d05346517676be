#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The installed packages (make check-pkg, NFSEC_INSTALLED=1), not the tree:
#  - the module loaded is DKMS's build for this kernel, /lib/modules/VERSION/updates/dkms;
#  - it loads itself when the tool first talks to it (MODULE_ALIAS_GENL_FAMILY);
#  - modinfo says what each module parameter means;
#  - /usr/sbin/nfsec talks to it; the man page, the unit and /etc/nfsec/nfsec.conf (0600, in a
#    0700 directory) are where the packages put them.
# boot_config.sh and batch_atomic.sh then run against the installed unit, tool and module.

source "$(dirname "$0")/lib.sh"
[[ ${NFSEC_INSTALLED:-} == 1 ]] || fail "for make check-pkg only (NFSEC_INSTALLED=1)"
need_module

dkms_ko=/lib/modules/$(uname -r)/updates/dkms/nfsec.ko
[[ -f $dkms_ko ]] || fail "no $dkms_ko: DKMS did not build for $(uname -r)"
check_eq "the module modprobe picks" "$(modinfo -n nfsec)" "$dkms_ko"
# The GNU build ID of the loaded module is that of DKMS's file.
loaded=$(od -An -tx1 -v /sys/module/nfsec/notes/.note.gnu.build-id | tr -d ' \n' | tail -c 40)
file=$(readelf -n "$dkms_ko" | sed -n 's/.*Build ID: //p')
[[ -n $file ]] || fail "no build ID in $dkms_ko"
check_eq "build ID of the loaded module" "$loaded" "$file"

# Every parameter is described.
modinfo -F parm nfsec | sed 's/^/# parm: /'
for p in allow_null max_sas max_policies; do
	modinfo -F parm nfsec | grep -qE "^$p:.{20,}" || fail "modinfo has no description of $p"
done
pass "modinfo describes allow_null, max_sas and max_policies"

[[ $(command -v nfsec) == /usr/sbin/nfsec ]] || fail "nfsec is $(command -v nfsec), not /usr/sbin/nfsec"
out=$(nfsec version) || fail "nfsec version: $out"
grep -qF "module $(cat /sys/module/nfsec/version)" <<<"$out" || fail "nfsec version: $out"
pass "/usr/sbin/nfsec talks to the module: $out"

# The module loads itself at the tool's first request.
rmmod nfsec
[[ ! -d /sys/module/nfsec ]] || fail "rmmod left the module"
out=$(nfsec sa count 2>&1) || fail "nfsec sa count with the module unloaded: $out"
[[ -d /sys/module/nfsec ]] || fail "the module did not load itself"
check_eq "the module that loaded itself" "$(od -An -tx1 -v /sys/module/nfsec/notes/.note.gnu.build-id |
	tr -d ' \n' | tail -c 40)" "$file"
pass "the module loads itself when the tool first talks to it"

for f in /usr/share/man/man8/nfsec.8.gz /lib/systemd/system/nfsec.service /usr/share/nfsec/nfsec.conf; do
	[[ -f $f ]] || fail "$f not installed"
done
check_eq "mode of /etc/nfsec" "$(stat -c %a /etc/nfsec)" 700
check_eq "mode of /etc/nfsec/nfsec.conf" "$(stat -c '%a %U' /etc/nfsec/nfsec.conf)" "600 root"
grep -q '^ExecReload=/usr/sbin/nfsec -replace -batch /etc/nfsec/nfsec.conf$' /lib/systemd/system/nfsec.service ||
	fail "the installed unit does not run /usr/sbin/nfsec on /etc/nfsec/nfsec.conf"
# The file as installed applies (comments only: nothing to do).
nfsec -replace -batch /etc/nfsec/nfsec.conf || fail "the installed /etc/nfsec/nfsec.conf does not apply"
pass "the man page, the unit and /etc/nfsec/nfsec.conf (0600) are installed"
