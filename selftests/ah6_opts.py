#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""IPv6 UDP datagrams with hop-by-hop and destination options, traffic class and flow label,
for ah6_opts.sh: a sender that says what it sent and a receiver that says what arrived, one
JSON object per datagram and line.

  ah6_opts.py recv ADDR PORT FILE     log each datagram arriving at [ADDR]:PORT to FILE (line
                                      buffered), after a line "ready": its payload's length and
                                      sha256, and what recvmsg() reports of its IPv6 header
                                      (IPV6_RECVHOPOPTS, IPV6_RECVDSTOPTS, IPV6_RECVTCLASS,
                                      IPV6_RECVHOPLIMIT and the flow information, IPV6_FLOWINFO)
  ah6_opts.py send SRC DST PORT CASE...
                                      one datagram from SRC to [DST]:PORT per CASE, the options
                                      given as ancillary data (sendmsg); print per datagram what
                                      the receiver must see: the payload's sha256, the option
                                      headers as the receiver gets them (their next header
                                      field as after AH is taken out), traffic class, flow label

A CASE is words joined by "+":
  hbh       a hop-by-hop options header: option 0x3e (RFC 4727 experimental, third bit set: may
            change en route) with data a1 a2 a3 a4, option 0x1e (the same without that bit:
            immutable) with data b1 b2 b3 b4, PadN
  dst       a destination options header: 0x3e with c1 c2 c3 c4, 0x1e with d1 d2 d3 d4, PadN
  tc=N      traffic class N (IPV6_TCLASS)
  fl=N      flow label N (IPV6_FLOWLABEL_MGR, then IPV6_FLOWINFO_SEND and sin6_flowinfo);
            Linux then sends the label's own hop-by-hop options, none, not the datagram's
            (fl6_merge_options()): do not combine it with hbh
  hl=N      hop limit N (IPV6_HOPLIMIT; else the default, 64)
Either header is 16 bytes: next header, length 1, 0x3e, 4, 4 bytes, 0x1e, 4, 4 bytes, 1, 0. In
a packet with both headers and AH, the hop-by-hop header is at offset 40 of the IPv6 header and
the destination options at 56: its immutable data at 50-53 (66-69), the mutable at 44-47 (60-63).
"""
import hashlib
import json
import os
import socket
import struct
import sys

IPV6_FLOWINFO = 11          # as a socket option: receive the flow information (rxflow)
IPV6_FLOWLABEL_MGR = 32
IPV6_FLOWINFO_SEND = 33
IPV6_RECVHOPLIMIT = 51
IPV6_HOPLIMIT = 52
IPV6_RECVHOPOPTS = 53
IPV6_HOPOPTS = 54
IPV6_RECVDSTOPTS = 58
IPV6_DSTOPTS = 59
IPV6_RECVTCLASS = 66
IPV6_TCLASS = 67
IPV6_FL_A_GET, IPV6_FL_S_EXCL, IPV6_FL_F_CREATE = 0, 1, 1
NEXTHDR_DEST, NEXTHDR_UDP = 60, 17


def opthdr(mutable, immutable):
    """A 16-byte option header; its next header byte is filled in by the kernel."""
    return (bytes([0, 1]) + bytes([0x3E, 4]) + mutable + bytes([0x1E, 4]) + immutable +
            bytes([1, 0]))


HBH = opthdr(bytes.fromhex("a1a2a3a4"), bytes.fromhex("b1b2b3b4"))
DST = opthdr(bytes.fromhex("c1c2c3c4"), bytes.fromhex("d1d2d3d4"))


def recv(addr, port, path):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    for opt in (IPV6_RECVHOPOPTS, IPV6_RECVDSTOPTS, IPV6_RECVTCLASS, IPV6_RECVHOPLIMIT,
                IPV6_FLOWINFO):
        s.setsockopt(socket.IPPROTO_IPV6, opt, 1)
    s.bind((addr, int(port)))
    with open(path, "a", buffering=1) as f:
        f.write("ready\n")
        while True:
            data, anc, _, _ = s.recvmsg(70000, 4096)
            r = {"len": len(data), "sha": hashlib.sha256(data).hexdigest()}
            for level, typ, val in anc:
                if level != socket.IPPROTO_IPV6:
                    continue
                if typ == IPV6_HOPOPTS:
                    r["hbh"] = val.hex()
                elif typ == IPV6_DSTOPTS:
                    r["dst"] = val.hex()
                elif typ == IPV6_TCLASS:
                    r["tc"] = struct.unpack("=i", val)[0]
                elif typ == IPV6_HOPLIMIT:
                    r["hlim"] = struct.unpack("=i", val)[0]
                elif typ == IPV6_FLOWINFO:
                    r["fl"] = struct.unpack("!I", val[:4])[0] & 0xFFFFF
            f.write(json.dumps(r, sort_keys=True) + "\n")


def flowlabel(s, dst, label):
    # struct in6_flowlabel_req: dst, label (network order), action, share, flags, expires,
    # linger, pad
    req = (socket.inet_pton(socket.AF_INET6, dst) + struct.pack("!I", label) +
           struct.pack("=BBHHHI", IPV6_FL_A_GET, IPV6_FL_S_EXCL, IPV6_FL_F_CREATE, 0, 0, 0))
    s.setsockopt(socket.IPPROTO_IPV6, IPV6_FLOWLABEL_MGR, req)


def send(src, dst, port, *cases):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind((src, 0))
    labels = set()
    for case in cases:
        words = dict((w.split("=") + [""])[:2] for w in case.split("+"))
        anc, want = [], {"case": case}
        if "hbh" in words:
            anc.append((socket.IPPROTO_IPV6, IPV6_HOPOPTS, HBH))
            nxt = NEXTHDR_DEST if "dst" in words else NEXTHDR_UDP
            want["hbh"] = (bytes([nxt]) + HBH[1:]).hex()
        if "dst" in words:
            anc.append((socket.IPPROTO_IPV6, IPV6_DSTOPTS, DST))
            want["dst"] = (bytes([NEXTHDR_UDP]) + DST[1:]).hex()
        tclass = int(words.get("tc") or "0", 0)
        anc.append((socket.IPPROTO_IPV6, IPV6_TCLASS, struct.pack("=i", tclass)))
        want["tc"] = tclass
        hlim = int(words.get("hl") or "0", 0)
        if hlim:
            anc.append((socket.IPPROTO_IPV6, IPV6_HOPLIMIT, struct.pack("=i", hlim)))
        want["hlim"] = hlim or 64  # net.ipv6.conf.*.hop_limit's default
        label = int(words.get("fl") or "0", 0)
        if label:
            if label not in labels:
                flowlabel(s, dst, label)
                labels.add(label)
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_FLOWINFO_SEND, 1)
            want["fl"] = label
        payload = ("ah6_opts " + case + " ").encode() + os.urandom(200)
        want["sha"] = hashlib.sha256(payload).hexdigest()
        s.sendmsg([payload], anc, 0, (dst, int(port), label, 0))
        if label:
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_FLOWINFO_SEND, 0)
        print(json.dumps(want, sort_keys=True), flush=True)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "recv":
        recv(*args)
    elif cmd == "send":
        send(*args)
    else:
        sys.exit(__doc__)
