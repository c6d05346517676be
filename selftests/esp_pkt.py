#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""ESP frames for the datapath tests, from tcpdump captures (Ethernet pcap).

  esp_pkt.py list PCAP                        "index spi seq len" per ESP frame
  esp_pkt.py pick PCAP SPI SEQ OUT [FLIP]     write the frame with that SPI and sequence number
                                              to OUT; FLIP: xor 0x01 into the byte at offset FLIP
                                              of the ESP payload after SPI and sequence number
  esp_pkt.py send IFNAME FILE [COUNT]         send FILE's frame out of IFNAME (AF_PACKET), COUNT times
  esp_pkt.py serve IFNAME                     the same for each line "FILE [COUNT]" of stdin,
                                              answering "sent" once done
"""
import socket
import struct
import sys


def frames(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        e = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        e = ">"
    else:
        sys.exit("%s: not a pcap file" % path)
    linktype = struct.unpack(e + "I", data[20:24])[0]
    if linktype != 1:
        sys.exit("%s: link type %d, want Ethernet" % (path, linktype))
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(e + "IIII", data[off:off + 16])
        off += 16
        yield data[off:off + incl]
        off += incl


def esp(frame):
    """(spi, seq, offset of the SPI) of an IPv4 ESP frame, else None"""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return None
    ihl = (frame[14] & 0x0F) * 4
    if frame[14 + 9] != 50:
        return None
    o = 14 + ihl
    spi, seq = struct.unpack(">II", frame[o:o + 8])
    return spi, seq, o


def main():
    cmd = sys.argv[1]
    if cmd == "list":
        for i, fr in enumerate(frames(sys.argv[2])):
            r = esp(fr)
            if r:
                print(i, "0x%08x" % r[0], r[1], len(fr))
    elif cmd == "pick":
        path, spi, seq, out = sys.argv[2], int(sys.argv[3], 0), int(sys.argv[4], 0), sys.argv[5]
        flip = int(sys.argv[6], 0) if len(sys.argv) > 6 else None
        for fr in frames(path):
            r = esp(fr)
            if r and r[0] == spi and r[1] == seq:
                fr = bytearray(fr)
                if flip is not None:
                    fr[r[2] + 8 + flip] ^= 0x01
                with open(out, "wb") as f:
                    f.write(fr)
                return
        sys.exit("no ESP frame with spi %#x seq %d in %s" % (spi, seq, path))
    elif cmd == "send":
        ifname, path = sys.argv[2], sys.argv[3]
        count = int(sys.argv[4]) if len(sys.argv) > 4 else 1
        with open(path, "rb") as f:
            fr = f.read()
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind((ifname, 0))
        for _ in range(count):
            s.send(fr)
    elif cmd == "serve":
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind((sys.argv[2], 0))
        for line in sys.stdin:
            words = line.split()
            if not words:
                continue
            with open(words[0], "rb") as f:
                fr = f.read()
            for _ in range(int(words[1]) if len(words) > 1 else 1):
                s.send(fr)
            print("sent", flush=True)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
