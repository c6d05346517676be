#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""ESP and AH frames for the datapath tests, from tcpdump captures (Ethernet pcap).

  esp_pkt.py list PCAP                        "index spi seq len" per ESP or AH frame
  esp_pkt.py iv PCAP [LEN]                    "spi seq iv" per ESP frame, iv the LEN (8) bytes after
                                              the sequence number, in hex
  esp_pkt.py pick PCAP SPI SEQ OUT [FLIP]     write the frame with that SPI and sequence number
                                              to OUT; FLIP: xor 0x01 into the byte at offset FLIP
                                              after the sequence number (ESP: of the payload;
                                              AH: of the ICV and what follows)
  esp_pkt.py mangle IN OUT WHAT               copy a frame, changing its IPv4 header, checksum
                                              fixed: WHAT saddr (last byte of the source address
                                              xor 0x01) or ttl-tos (TTL - 7, DSCP AF41, ECN kept)
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
    """(spi, seq, offset of the sequence number's end) of an IPv4 ESP or AH frame, else None"""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return None
    ihl = (frame[14] & 0x0F) * 4
    o = 14 + ihl
    if frame[14 + 9] == 51:  # AH: next header, length, reserved, then SPI and sequence
        o += 4
    elif frame[14 + 9] != 50:
        return None
    spi, seq = struct.unpack(">II", frame[o:o + 8])
    return spi, seq, o + 8


def ip_checksum(hdr):
    s = sum(struct.unpack(">%dH" % (len(hdr) // 2), hdr))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mangle(fr, what):
    fr = bytearray(fr)
    ihl = (fr[14] & 0x0F) * 4
    if what == "saddr":
        fr[14 + 15] ^= 0x01
    elif what == "ttl-tos":
        fr[14 + 8] -= 7
        fr[14 + 1] = (34 << 2) | (fr[14 + 1] & 3)
    else:
        sys.exit("mangle: saddr or ttl-tos, not %s" % what)
    fr[14 + 10:14 + 12] = b"\0\0"
    fr[14 + 10:14 + 12] = struct.pack(">H", ip_checksum(bytes(fr[14:14 + ihl])))
    return fr


def main():
    cmd = sys.argv[1]
    if cmd == "list":
        for i, fr in enumerate(frames(sys.argv[2])):
            r = esp(fr)
            if r:
                print(i, "0x%08x" % r[0], r[1], len(fr))
    elif cmd == "iv":
        n = int(sys.argv[3]) if len(sys.argv) > 3 else 8
        for fr in frames(sys.argv[2]):
            r = esp(fr)
            if r and fr[14 + 9] == 50:
                print("0x%08x" % r[0], r[1], fr[r[2]:r[2] + n].hex())
    elif cmd == "pick":
        path, spi, seq, out = sys.argv[2], int(sys.argv[3], 0), int(sys.argv[4], 0), sys.argv[5]
        flip = int(sys.argv[6], 0) if len(sys.argv) > 6 else None
        for fr in frames(path):
            r = esp(fr)
            if r and r[0] == spi and r[1] == seq:
                fr = bytearray(fr)
                if flip is not None:
                    fr[r[2] + flip] ^= 0x01
                with open(out, "wb") as f:
                    f.write(fr)
                return
        sys.exit("no ESP frame with spi %#x seq %d in %s" % (spi, seq, path))
    elif cmd == "mangle":
        with open(sys.argv[2], "rb") as f:
            fr = mangle(f.read(), sys.argv[4])
        with open(sys.argv[3], "wb") as f:
            f.write(fr)
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
