#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-pkg: install the Debian packages of .build/deb/ (make deb) on this machine, test the
# installed module and tool in one VM boot (selftests/vm/run.sh with NFSEC_INSTALLED=1), then
# purge them and check that nothing stays. As root. An nfsec installed before is left alone:
# the run refuses to start.
#
#   KVER=VERSION   the guest's kernel (make passes KDIR's); DKMS must have built nfsec for it
#   PKG_TESTS=...  the tests (default: pkg_installed.sh boot_config.sh batch_atomic.sh)
#
# Prints the VM's KTAP; the exit status is non-zero if installing, a test, or purging failed.

set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
repo=$PWD

die()
{
	echo "check-pkg: $*" >&2
	exit 2
}

[[ $(id -u) == 0 ]] || die "run as root: it installs packages"
kver=${KVER:-}
[[ -n $kver ]] || die "KVER not set"
debs=("$repo"/.build/deb/nfsec_*.deb "$repo"/.build/deb/nfsec-dkms_*.deb)
for d in "${debs[@]}"; do
	[[ -f $d ]] || die "no $d: make deb"
done
for p in nfsec nfsec-dkms; do
	dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' &&
		die "$p is installed already: not touching it"
done
[[ ! -e /etc/nfsec ]] || die "/etc/nfsec exists: not touching it"
compgen -G "/lib/modules/*/updates/dkms/nfsec.ko*" >/dev/null &&
	die "an nfsec module is in /lib/modules/*/updates/dkms already: not touching it"

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
purged=
purge()
{
	[[ -n $purged ]] && return
	purged=1
	apt-get purge -y nfsec nfsec-dkms >"$log" 2>&1 || { sed 's/^/# apt purge: /' "$log"; return 1; }
}
trap 'purge; rm -f "$log"' EXIT

t0=$SECONDS
if ! apt-get install -y --no-install-recommends "${debs[@]}" >"$log" 2>&1; then
	sed 's/^/# apt install: /' "$log"
	die "installing the packages failed (above)"
fi
built=$(compgen -G "/lib/modules/*/updates/dkms/nfsec.ko*" | cut -d/ -f4 | paste -sd ' ')
echo "# check-pkg: installed in $((SECONDS - t0)) s; DKMS built nfsec for: ${built:-no kernel}"
[[ -f /lib/modules/$kver/updates/dkms/nfsec.ko ]] || die "DKMS did not build nfsec for $kver"
# The VM has no systemd: systemd's own check of the installed unit runs here.
if out=$(systemd-analyze verify --man=no /lib/systemd/system/nfsec.service 2>&1) && [[ -z $out ]]; then
	echo "# check-pkg: systemd-analyze verify nfsec.service: clean"
else
	sed 's/^/# systemd-analyze: /' <<<"$out"
	die "systemd-analyze verify found fault with the installed nfsec.service"
fi

t0=$SECONDS
NFSEC_INSTALLED=1 KVER=$kver TESTS=${PKG_TESTS:-pkg_installed.sh boot_config.sh batch_atomic.sh} \
	selftests/vm/run.sh
rc=$?
echo "# check-pkg: VM run in $((SECONDS - t0)) s"

# Removing them removes everything they installed (the configuration too: a purge).
purge || rc=1
left=$(ls -d /usr/sbin/nfsec /lib/systemd/system/nfsec.service /usr/share/nfsec /etc/nfsec \
	/usr/src/nfsec-* /var/lib/dkms/nfsec /lib/modules/*/updates/dkms/nfsec.ko* 2>/dev/null)
if [[ -n $left ]]; then
	sed 's/^/# left after purge: /' <<<"$left"
	rc=1
fi
echo "# check-pkg: $( ((rc == 0)) && echo passed || echo FAILED)"
exit $rc
