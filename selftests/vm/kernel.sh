#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the debug kernel of `make check KERNEL=debug` once: Debian's linux-source-6.1 with
# tinyconfig with selftests/vm/debug.config (KASAN, KFENCE,
# lockdep, kmemleak, ...) on top. Prints the path of the bzImage.
#
#   selftests/vm/kernel.sh
#
# Environment:
#   DEBUG_KERNEL_DIR=DIR  output tree (O=; default .build/kernel-debug). Another worktree may
#                         point here to reuse a build: nfsec.ko is built against it (KDIR=DIR).
#   DEBUG_KERNEL_SRC=DIR  where the sources are extracted (default .build/linux-source-6.1)
#   JOBS=N                make -j (default: the number of CPUs)
#
# The tree is rebuilt when debug.config changes (its hash is kept in DIR/.nfsec-config-key).
# Every line of debug.config must hold in the final .config: an option that olddefconfig drops
# (an unmet dependency) fails the build rather than giving a kernel without, say, KASAN.

set -euo pipefail
cd "$(dirname "$0")/../.." || exit 1
repo=$PWD
tarball=/usr/src/linux-source-6.1.tar.xz
fragment=$repo/selftests/vm/debug.config
src=$(realpath -m "${DEBUG_KERNEL_SRC:-$repo/.build/linux-source-6.1}")
out=$(realpath -m "${DEBUG_KERNEL_DIR:-$repo/.build/kernel-debug}")
jobs=${JOBS:-$(nproc)}

die()
{
	echo "vm/kernel.sh: $*" >&2
	exit 1
}

# Print each line of debug.config that the .config in $1 does not honour.
config_mismatches()
{
	local line opt
	while read -r line; do
		case $line in
		"# CONFIG_"*" is not set")
			opt=${line#\# }
			opt=${opt%% *}
			if grep -q "^$opt=" "$1"; then
				echo "$opt: want unset, got $(grep "^$opt=" "$1")"
			fi
			;;
		CONFIG_*=*)
			grep -qxF -- "$line" "$1" ||
				echo "${line%%=*}: want $line, got $(grep "^${line%%=*}=" "$1" || echo unset)"
			;;
		esac
	done <"$fragment"
}

verify()
{
	local bad
	bad=$(config_mismatches "$out/.config")
	[[ -z $bad ]] || die "$out/.config lost options of $fragment (unmet dependencies?):"$'\n'"$bad"
}

key=$(sha256sum <"$fragment" | cut -c1-16)
image=$out/arch/x86/boot/bzImage
mkdir -p "$out"
exec 9>"$out/.nfsec-build.lock"
flock 9 # another `make check KERNEL=debug` of a worktree sharing DIR may be building it

if [[ $(cat "$out/.nfsec-config-key" 2>/dev/null) == "$key" && -f $image && -f $out/Module.symvers ]]; then
	verify
	echo "$image"
	exit 0
fi

if [[ ! -f $src/Makefile ]]; then
	[[ -r $tarball ]] || die "no $tarball: apt-get install linux-source-6.1"
	echo "vm/kernel.sh: extracting $tarball to $src" >&2
	tmp=$(mktemp -d "$(dirname "$src")/.extract.XXXXXX")
	tar -C "$tmp" -xf "$tarball"
	mv "$tmp"/linux-source-6.1 "$src"
	rmdir "$tmp"
fi
for t in flex bison bc; do
	command -v $t >/dev/null || die "$t missing: apt-get install flex bison bc libelf-dev"
done
echo "vm/kernel.sh: configuring $out" >&2
rm -f "$out/.nfsec-config-key"
make -s -C "$src" O="$out" tinyconfig
"$src"/scripts/kconfig/merge_config.sh -m -O "$out" "$out/.config" "$fragment" >/dev/null
make -s -C "$src" O="$out" olddefconfig
verify

echo "vm/kernel.sh: building $out with -j$jobs (the first build takes a while)" >&2
start=$SECONDS
nice -n 5 make -C "$src" O="$out" -j"$jobs" all >"$out/.nfsec-build.log" 2>&1 ||
	{ tail -n 40 "$out/.nfsec-build.log" >&2; die "build failed: $out/.nfsec-build.log"; }
verify
echo "$key" >"$out/.nfsec-config-key"
echo "vm/kernel.sh: built in $((SECONDS - start))s" >&2
echo "$image"
