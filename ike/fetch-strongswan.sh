#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nfsec: strongSwan's source, configured, for building the kernel-nfsec
# charon plugin against the charon installed on this machine.
#
#   ike/fetch-strongswan.sh CACHE_DIR
#
# Fetches Debian's source package of the installed strongswan-charon's
# exact version (apt-get source, with a deb-src line added for bookworm
# if apt has none), unpacks it with Debian's patches, and runs the real
# configure (its config.h decides how strongSwan defines bool: a plugin
# must see what charon was built with). Prints the configured source
# directory last. Done once: a second run finds the stamp and only
# checks the installed version again.
set -eu

cache=${1:?usage: $0 CACHE_DIR}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

die() { echo "fetch-strongswan: $*" >&2; exit 1; }

# The charon we build for. A plugin is valid for one upstream release
# only: strongSwan has no plugin ABI version.
ver=$(dpkg-query -W -f '${Version}' strongswan-charon 2>/dev/null) ||
	die "strongswan-charon is not installed: apt-get install strongswan-charon strongswan-swanctl"
[ -n "$ver" ] && [ -x /usr/lib/ipsec/charon ] ||
	die "strongswan-charon is not installed: apt-get install strongswan-charon strongswan-swanctl"
upstream=${ver#*:}
upstream=${upstream%%-*}
case "$upstream" in
5.9.8) ;;
*) die "installed charon is strongSwan $upstream ($ver); the kernel-nfsec plugin is written for 5.9.8 (Debian 12)";;
esac
src=$cache/strongswan-$upstream
stamp=$src/.nfsec-configured

if [ -f "$stamp" ]; then
	have=$(cat "$stamp")
	[ "$have" = "$ver" ] ||
		die "$src was configured for $have but charon $ver is installed: rm -rf $cache and run again"
	echo "$src"
	exit 0
fi

dsc=$cache/strongswan_${ver#*:}.dsc
[ -f "$dsc" ] || dsc=$(ls -v "$cache"/strongswan_"$upstream"-*.dsc 2>/dev/null | tail -n 1)
if [ -z "$dsc" ]; then
	# apt-get source needs deb-src entries; Debian's mirrors serve both.
	if ! apt-get indextargets --format '$(TARGET_OF)' 2>/dev/null | grep -qx deb-src; then
		[ "$(id -u)" = 0 ] ||
			die "apt has no deb-src entries: add them for bookworm, bookworm-updates and bookworm-security (as root, this script does)"
		f=/etc/apt/sources.list.d/nfsec-deb-src.sources
		echo "fetch-strongswan: adding $f" >&2
		cat >"$f" <<'SRC'
# Added by nfsec's ike/fetch-strongswan.sh: strongSwan's source package
# for building the kernel-nfsec charon plugin.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
		apt-get update >&2 || die "apt-get update failed"
	fi
	# The installed version's source first; a mirror may lack a security
	# update's, so then the newest other Debian revision of the same
	# upstream release (the same orig tarball; Debian's revisions of
	# 5.9.8 fix .c files, not the interfaces a plugin uses).
	got=
	for v in "$ver" $(apt-cache showsrc strongswan | sed -n 's/^Version: //p' | sort -Vru); do
		case "$v" in "$upstream"-*) ;; *) continue;; esac
		if (cd "$cache" && apt-get source --download-only "strongswan=$v") >&2 &&
		   [ -f "$cache/strongswan_${v#*:}.dsc" ]; then
			got=$v
			break
		fi
		echo "fetch-strongswan: no source of strongswan $v on the mirror" >&2
	done
	[ -n "$got" ] || die "apt-get source found no strongswan $upstream source (apt-get update?)"
	[ "$got" = "$ver" ] ||
		echo "fetch-strongswan: warning: building against source $got, charon is $ver" >&2
	dsc=$cache/strongswan_${got#*:}.dsc
fi

rm -rf "$src"
# Debian's patches too: they are part of the charon we load into.
(cd "$cache" && dpkg-source --no-check -x "$dsc" "$src") >&2 ||
	die "dpkg-source -x $dsc failed (apt-get install dpkg-dev)"

# The configure IKE.md found to match Debian's build for everything a
# plugin touches; it needs no -dev packages.
(cd "$src" && nice -n 19 ./configure --prefix=/usr --sysconfdir=/etc \
	--libdir=/usr/lib --libexecdir=/usr/lib --disable-defaults \
	--enable-ikev1 --enable-ikev2 --enable-mediation >configure.log 2>&1) ||
	die "configure failed, see $src/configure.log"
echo "$ver" >"$stamp"
echo "$src"
