#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""UDP datagrams for the datapath tests: a receiver that logs what arrives, and a sender of
hand-made IPv4 fragments whose pieces may take different paths (SO_MARK per fragment, for
xfrm policies with a mark).

  udp_probe.py recv ADDR PORT FILE      log "LEN SHA256" per datagram to FILE (line buffered);
                                        ADDR :: takes IPv6 and IPv4
  udp_probe.py burst DST PORT LEN COUNT  COUNT datagrams of LEN bytes (each its index, then
                                        0x5a filler) to DST:PORT, 50 per send (UDP GSO)
  udp_probe.py frags SRC DST PORT LEN MARKS [COUNT]
                                        COUNT (1) datagrams of LEN payload bytes from SRC to
                                        DST:PORT, each cut into fragments of at most 1480
                                        bytes; MARKS is one SO_MARK per fragment, e.g. "1,0"
                                        (head marked, tail not); fragments are sent in order
"""
import hashlib
import os
import socket
import struct
import sys
import time

SO_MARK = 36


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def recv(addr, port, path):
    # An IPv6 address (:: for any) takes IPv4 too, as bindv6only=0 has it.
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE: bursts, not losses
    s.bind((addr, int(port)))
    with open(path, "a", buffering=1) as f:
        f.write("ready\n")
        while True:
            d = s.recv(70000)
            f.write("%d %s\n" % (len(d), hashlib.sha256(d).hexdigest()))


def burst(dst, port, length, count):
    length, count = int(length), int(count)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_UDP, 103, length)  # UDP_SEGMENT: one send, many datagrams
    for first in range(0, count, 50):
        n = min(50, count - first)
        s.sendto(b"".join(struct.pack("!I", first + i) + b"\x5a" * (length - 4) for i in range(n)),
                 (dst, int(port)))
        time.sleep(0.02)


def frags(src, dst, port, length, marks, count=1):
    marks = [int(m) for m in marks.split(",")]
    socks = {}
    for m in set(marks):
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        if m:
            s.setsockopt(socket.SOL_SOCKET, SO_MARK, m)
        socks[m] = s
    for i in range(int(count)):
        payload = os.urandom(int(length))
        udp = struct.pack("!HHHH", 40000 + i % 1000, int(port), 8 + len(payload), 0) + payload
        ident = (os.getpid() * 7 + i) & 0xFFFF
        chunks = [udp[o:o + 1480] for o in range(0, len(udp), 1480)]
        if len(chunks) != len(marks):
            sys.exit("%d fragments, %d marks" % (len(chunks), len(marks)))
        for n, chunk in enumerate(chunks):
            off = n * 1480 // 8 | (0x2000 if n < len(chunks) - 1 else 0)
            hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(chunk), ident, off, 64,
                              socket.IPPROTO_UDP, 0, socket.inet_aton(src), socket.inet_aton(dst))
            hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
            socks[marks[n]].sendto(hdr + chunk, (dst, 0))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "recv":
        recv(*args)
    elif cmd == "burst":
        burst(*args)
    elif cmd == "frags":
        frags(*args)
    else:
        sys.exit(__doc__)
