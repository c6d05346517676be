#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""UDP datagrams with chosen ECN codepoints, and what became of them, for ecn.sh.

  ecn.py recv FILE PORT              log "TAG TOS" per UDP datagram to PORT (IPv4 or IPv6) in FILE
                                     (line buffered), TOS being the IPv4 TOS or IPv6 traffic
                                     class byte the socket received (IP_RECVTOS, IPV6_RECVTCLASS)
  ecn.py send PORT TOS,... DST TAG...  to each DST:PORT, one datagram per TOS (hex), in that
                                     order, sent with it (IP_TOS, IPV6_TCLASS); payload "TAG-N",
                                     N counting from 0
  ecn.py wire PCAP SPI...            per SPI, one line: "SPI" then the outer TOS or traffic class
                                     ("0x..") of each ESP packet of that SPI in PCAP (Ethernet,
                                     tcpdump -w), in sequence number order
"""
import select
import socket
import struct
import sys

# <linux/in.h>, <linux/in6.h>
IP_TOS, IP_RECVTOS = 1, 13
IPV6_RECVTCLASS, IPV6_TCLASS = 66, 67


def recv(path, port):
    socks = []
    for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        if fam == socket.AF_INET:
            s.setsockopt(socket.IPPROTO_IP, IP_RECVTOS, 1)
        else:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVTCLASS, 1)
        s.bind((addr, int(port)))
        socks.append(s)
    with open(path, "a", buffering=1) as f:
        f.write("ready\n")
        while True:
            for s in select.select(socks, [], [])[0]:
                data, anc, _, _ = s.recvmsg(2048, 64)
                tos = None
                for level, typ, val in anc:
                    if (level, typ) == (socket.IPPROTO_IP, IP_TOS):
                        tos = val[0]
                    elif (level, typ) == (socket.IPPROTO_IPV6, IPV6_TCLASS):
                        tos = struct.unpack("=i", val[:4])[0]
                f.write("%s %s\n" % (data.decode(errors="replace"),
                                     "none" if tos is None else "0x%02x" % tos))


def send(port, toses, *dst_tags):
    toses = [int(t, 16) for t in toses.split(",")]
    for dst, tag in zip(dst_tags[::2], dst_tags[1::2]):
        v6 = ":" in dst
        s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
        for i, tos in enumerate(toses):
            if v6:
                s.setsockopt(socket.IPPROTO_IPV6, IPV6_TCLASS, tos)
            else:
                s.setsockopt(socket.IPPROTO_IP, IP_TOS, tos)
            s.sendto(("%s-%d" % (tag, i)).encode(), (dst, int(port)))
        s.close()


def wire(path, *spis):
    spis = [int(spi, 0) for spi in spis]
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    if struct.unpack(endian + "I", data[20:24])[0] != 1:
        sys.exit("%s: not Ethernet" % path)
    off, seen = 24, {spi: [] for spi in spis}
    while off + 16 <= len(data):
        caplen = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        fr = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        etype = fr[12:14]
        ip = fr[14:]
        if etype == b"\x08\x00" and len(ip) >= 20 and ip[9] == 50:
            tos, esp = ip[1], ip[(ip[0] & 15) * 4:]
        elif etype == b"\x86\xdd" and len(ip) >= 40 and ip[6] == 50:
            tos, esp = ((ip[0] & 15) << 4) | (ip[1] >> 4), ip[40:]
        else:
            continue
        if len(esp) >= 8:
            spi, seq = struct.unpack("!II", esp[:8])
            if spi in seen:
                seen[spi].append((seq, tos))
    for spi in spis:
        print(" ".join(["%#x" % spi] + ["0x%02x" % tos for _, tos in sorted(seen[spi])]))


if __name__ == "__main__":
    cmds = {"recv": recv, "send": send, "wire": wire}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](*sys.argv[2:])
