#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# arm64-headers.sh VERSION DIR: Debian's arm64 kernel headers linux-headers-VERSION (say
# 6.1.0-57-arm64) unpacked below DIR, for `make cross-arm64`; prints the build tree's path.
#
# The package is not installed: as an arm64 package it depends on gcc-12:arm64, whose
# binutils conflict with the cross compiler's (gcc-aarch64-linux-gnu). It needs nothing that
# runs, though: it is headers, .config and Module.symvers, its scripts/ and tools/ are links
# to linux-kbuild-X.Y (Multi-Arch: foreign, the host's, installed with the amd64 headers of
# the same version), and its Makefile includes the arch-independent
# linux-headers-VERSION-common, installed with them too. So it is downloaded
# (apt-get download, which needs `dpkg --add-architecture arm64` and `apt-get update` once),
# unpacked, and its links to linux-kbuild pointed at the host's.
set -euo pipefail

die()
{
	echo "arm64-headers.sh: $*" >&2
	exit 1
}

[[ $# == 2 ]] || die "usage: arm64-headers.sh VERSION DIR"
ver=$1 dir=$2
pkg=linux-headers-$ver
tree=$dir/usr/src/$pkg

if [[ ! -f $tree/Makefile ]]; then
	dpkg --print-foreign-architectures | grep -qx arm64 ||
		die "no arm64 packages known: dpkg --add-architecture arm64 && apt-get update"
	rm -rf "$dir"
	mkdir -p "$dir/deb"
	# apt drops to _apt to download, which cannot write into our tree: stay root if we are.
	opts=()
	[[ $EUID != 0 ]] || opts=(-o APT::Sandbox::User=root)
	(cd "$dir/deb" && apt-get download -q "${opts[@]}" "$pkg:arm64") >&2 ||
		die "cannot download $pkg:arm64 (apt-get update after adding arm64?)"
	dpkg-deb -x "$dir"/deb/*.deb "$dir"
	rm -rf "$dir/deb"
fi

# scripts -> ../../lib/linux-kbuild-X.Y/scripts: the host's linux-kbuild-X.Y.
kbuild=$(readlink "$tree/scripts")
kbuild=${kbuild#../../lib/}
kbuild=${kbuild%/scripts}
[[ $kbuild == linux-kbuild-* ]] || die "$tree/scripts does not point into linux-kbuild: $kbuild"
[[ -x /usr/lib/$kbuild/scripts/mod/modpost ]] ||
	die "no /usr/lib/$kbuild: install the amd64 headers of this version (linux-headers-${ver%-arm64}-amd64)"
mkdir -p "$dir/usr/lib"
ln -sfn "/usr/lib/$kbuild" "$dir/usr/lib/$kbuild"
common=$(sed -n 's/^include \(.*\)\/Makefile$/\1/p' "$tree/Makefile")
[[ -f $common/Makefile ]] ||
	die "no $common: install the amd64 headers of this version (linux-headers-${ver%-arm64}-amd64)"
echo "$tree"
