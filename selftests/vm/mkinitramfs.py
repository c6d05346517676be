#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.py KVER INIT OUT: write the VM's initramfs, an uncompressed newc cpio holding
# busybox (static), INIT as /init, and the virtio/9p modules of KVER (decompressed) with what
# they depend on, as modules.dep of KVER says, in /modules/ with their load order in
# /modules/order. No root, mknod or cpio tool needed.
# KVER "-" is a kernel with all of them built in and no /lib/modules tree (the debug kernel of
# selftests/vm/kernel.sh): /modules/order is then empty.

import gzip, lzma, os, subprocess, sys

# What the init needs; their dependencies differ between kernels (9p needs netfs and fscache
# on Debian's 6.1, netfs alone on 6.12, where virtio is built in) and come from modules.dep.
MODULES = ["virtio_pci", "9pnet_virtio", "9p"]
BUSYBOX = ["/bin/busybox", "/usr/bin/busybox"]

def mod_name(path):
    return os.path.basename(path).split(".ko", 1)[0].replace("-", "_")

def read_deps(kver):
    """{name: (path, [paths of its dependencies, in modules.dep's order])}"""
    base = f"/lib/modules/{kver}"
    deps = {}
    with open(f"{base}/modules.dep") as f:
        for line in f:
            path, _, rest = line.partition(":")
            deps[mod_name(path)] = (os.path.join(base, path),
                                    [os.path.join(base, d) for d in rest.split()])
    return deps

def load_order(kver, wanted):
    """Paths of the modules to load for @wanted, each after what it needs. modules.dep lists
    a module's whole closure, the last needed first (modprobe loads it backwards)."""
    deps = read_deps(kver)
    builtin = open(f"/lib/modules/{kver}/modules.builtin").read().replace("-", "_")
    order = []
    for m in wanted:
        if m not in deps:
            if f"/{m}.ko" not in builtin:
                sys.exit(f"mkinitramfs: module {m} not found for {kver}")
            continue  # built into this kernel
        path, needs = deps[m]
        for p in list(reversed(needs)) + [path]:
            if p not in order:
                order.append(p)
    return order

def module_data(path):
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".xz"):
        return lzma.decompress(data)
    if path.endswith(".gz"):
        return gzip.decompress(data)
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dcq", path], check=True, capture_output=True).stdout
    return data

class Cpio:
    def __init__(self, out):
        self.out, self.ino = out, 1

    def add(self, name, mode, data=b"", rdev=(0, 0)):
        name = name.encode() + b"\0"
        hdr = b"070701" + b"".join(b"%08X" % v for v in (
            self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name), 0))
        self.ino += 1
        self.out.write(hdr + name + b"\0" * (-(110 + len(name)) % 4))
        self.out.write(data + b"\0" * (-len(data) % 4))

    def close(self):
        self.add("TRAILER!!!", 0)

def main():
    kver, init, out = sys.argv[1:4]
    busybox = next(p for p in BUSYBOX if os.path.exists(p))
    with open(out, "wb") as f:
        c = Cpio(f)
        for d in ("bin", "dev", "proc", "sys", "newroot", "modules"):
            c.add(d, 0o40755)
        c.add("dev/console", 0o20600, rdev=(5, 1))
        c.add("dev/null", 0o20666, rdev=(1, 3))
        c.add("bin/busybox", 0o100755, open(busybox, "rb").read())
        c.add("init", 0o100755, open(init, "rb").read())
        order = []
        for path in load_order(kver, MODULES) if kver != "-" else []:
            m = mod_name(path)
            c.add(f"modules/{m}.ko", 0o100644, module_data(path))
            order.append(m)
        c.add("modules/order", 0o100644, ("\n".join(order) + "\n").encode())
        c.close()

if __name__ == "__main__":
    main()
