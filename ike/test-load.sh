#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nfsec: does Debian's charon take the kernel-nfsec plugin? As root, on the host (no VM): charon
# runs in a scratch network namespace with a private /run, the plugin put into it with
# LD_PRELOAD (so nothing is installed), twice:
#   modular   Debian's load_modular with kernel-nfsec.conf: with nfsec's genl family the plugin
#             must register ("using nfsec as kernel IPsec backend"), kernel-ipsec before
#             kernel-netlink's; without, it must refuse with its "kernel-nfsec:" line;
#   critical  charon.load with "kernel-nfsec!" before kernel-netlink: with nfsec, charon starts
#             on it; without, charon must refuse to start.
#
#   ike/test-load.sh [PLUGIN.so]
set -u

dir=$(cd "$(dirname "$0")" && pwd)
so=${1:-$dir/libstrongswan-kernel-nfsec.so}
charon=/usr/lib/ipsec/charon
[ "$(id -u)" = 0 ] || { echo "test-load: needs root (ip netns, mount)" >&2; exit 2; }
[ -x $charon ] || { echo "test-load: no $charon (apt-get install strongswan-charon)" >&2; exit 2; }
[ -f "$so" ] || { echo "test-load: no $so (make ike)" >&2; exit 2; }
so=$(cd "$(dirname "$so")" && pwd)/$(basename "$so")

tmp=$(mktemp -d)
ns=nfsec-ike-load-$$
ip netns add $ns || exit 1
trap 'ip netns del $ns; rm -rf $tmp' EXIT
# The family is per kernel, not per namespace: nfsec loaded or not decides what must happen.
if grep -qw nfsec /proc/modules 2>/dev/null || [ -d /sys/module/nfsec ]; then
	have=1
else
	have=0
fi
fail=0

# conf NAME LOAD-LINE: a strongswan.conf in $tmp/NAME
conf()
{
	cat >"$tmp/$1.conf" <<EOC
charon {
	$2
	plugins {
		include /etc/strongswan.d/charon/*.conf
		include $dir/kernel-nfsec.conf
		vici { socket = unix://$tmp/$1.vici }
		stroke { load = no }
	}
	filelog {
		log { path = $tmp/$1.log
		      default = 1
		      knl = 2
		      lib = 2 }
	}
}
EOC
}

# run NAME: charon for 5 s (it exits at once if it refuses); sets rc (124: still running)
run()
{
	: >"$tmp/$1.log"
	timeout 5 ip netns exec $ns unshare -m sh -c \
		"mount -t tmpfs tmpfs /run && exec env LD_PRELOAD=$so STRONGSWAN_CONF=$tmp/$1.conf $charon" \
		>"$tmp/$1.out" 2>&1
	rc=$?
}

check() # NAME WHAT PATTERN
{
	if grep -q -- "$3" "$tmp/$1.log"; then
		echo "ok - $1: $2"
	else
		echo "not ok - $1: $2 (no '$3' in the log:)"
		sed 's/^/#   /' "$tmp/$1.log" | grep -E "nfsec|critical|abort|kernel-ipsec" | head -20
		fail=1
	fi
}

conf modular "load_modular = yes"
run modular
if [ $have = 1 ]; then
	check modular "registered as kernel IPsec backend" "using nfsec as kernel IPsec backend"
else
	check modular "refuses without nfsec" "kernel-nfsec: nfsec module not loaded"
fi

plugins=$(sed -n 's/.*loaded plugins: charon //p' "$tmp/modular.log" | tail -n 1)
plugins=$(echo " $plugins " | sed 's/ kernel-nfsec / /; s/ kernel-netlink / kernel-nfsec! kernel-netlink /')
conf critical "load = $plugins"
run critical
if [ $have = 1 ]; then
	check critical "charon starts on nfsec" "using nfsec as kernel IPsec backend"
	[ $rc = 124 ] || { echo "not ok - critical: charon exited ($rc)"; fail=1; }
else
	check critical "charon refuses to start without nfsec" "loading critical plugin 'kernel-nfsec' failed"
	[ $rc != 124 ] && [ $rc != 0 ] || { echo "not ok - critical: charon kept running ($rc)"; fail=1; }
fi
exit $fail
