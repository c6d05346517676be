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

As a module (pkt_fuzz.py): Sa builds ESP (AES-GCM, ChaCha20-Poly1305, AES-CBC with
HMAC-SHA-256; ESN; ESP in UDP) and AH (HMAC-SHA-256) packets with an SA's keys, in transport and
tunnel mode, every field open to a lie. The ciphers are the kernel's plain ones through AF_ALG
(gcm(aes), rfc7539(chacha20,poly1305), cbc(aes)), the ESP and AH layout (nonce, AAD, ESN
bits, padding, ICV) is built here, from the RFCs, not by the ESP templates under test.
"""
import hashlib
import hmac
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


def ip_header(src, dst, proto, length, ident=0, frag=0, ttl=64, tos=0, opts=b""):
    """An IPv4 header (with OPTS, padded to 4 bytes) for a packet of LENGTH bytes in all."""
    opts += b"\0" * (-len(opts) % 4)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45 + len(opts) // 4, tos, length, ident, frag, ttl,
                      proto, 0, socket.inet_aton(src), socket.inet_aton(dst)) + opts
    return hdr[:10] + struct.pack("!H", ip_checksum(hdr)) + hdr[12:]


def udp_checksum(src, dst, udp):
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, len(udp))
    data = pseudo + udp + b"\0" * (len(udp) % 2)
    c = ip_checksum(data)
    return c or 0xFFFF


def udp_datagram(src, dst, sport, dport, payload, ulen=None, csum=True):
    """UDP header and PAYLOAD; ULEN lies about the length if given."""
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload) if ulen is None else ulen, 0) + payload
    if csum:
        udp = udp[:6] + struct.pack("!H", udp_checksum(src, dst, udp)) + udp[8:]
    return udp


# AF_ALG (linux/if_alg.h), for Pythons built without the constants.
SOL_ALG = getattr(socket, "SOL_ALG", 279)
ALG_SET_KEY = getattr(socket, "ALG_SET_KEY", 1)
ALG_SET_AEAD_AUTHSIZE = getattr(socket, "ALG_SET_AEAD_AUTHSIZE", 5)
ALG_OP_ENCRYPT = getattr(socket, "ALG_OP_ENCRYPT", 1)


class _Cipher:
    """One kernel cipher through AF_ALG: aead (12-byte nonce, AAD) or skcipher (cbc)."""

    def __init__(self, kind, name, key, authsize=None):
        self.tfm = socket.socket(socket.AF_ALG, socket.SOCK_SEQPACKET, 0)
        self.tfm.bind((kind, name))
        self.tfm.setsockopt(SOL_ALG, ALG_SET_KEY, key)
        if authsize:
            self.tfm.setsockopt(SOL_ALG, ALG_SET_AEAD_AUTHSIZE, None, authsize)
        self.op, _ = self.tfm.accept()
        self.authsize = authsize or 0

    def encrypt(self, iv, data, aad=b""):
        """Ciphertext (and tag) of DATA; AAD only for an aead."""
        kw = {"assoclen": len(aad)} if self.authsize else {}
        self.op.sendmsg_afalg([aad + data], op=ALG_OP_ENCRYPT, iv=iv, **kw)
        out = self.op.recv(len(aad) + len(data) + self.authsize)
        return out[len(aad):]


class Sa:
    """An SA's sending side, from the words `nfsec sa add` takes.

    proto "esp" or "ah"; mode "tunnel" or "transport"; alg "gcm", "chacha" or "cbc" (ESP);
    key: AEAD key with its 4-byte salt, or the cbc key; akey, icv (bytes): HMAC-SHA-256 key and
    truncation; esn; encap: (sport, dport) of ESP in UDP or None; align4 (AH): 4-byte padding.
    """

    def __init__(self, spi, src, dst, proto="esp", mode="tunnel", alg="gcm", key=b"",
                 akey=b"", icv=16, esn=False, encap=None, align4=False):
        self.spi, self.src, self.dst, self.proto, self.mode = spi, src, dst, proto, mode
        self.alg, self.icv, self.esn, self.encap, self.align4 = alg, icv, esn, encap, align4
        self.akey = akey
        self.cipher = None
        if proto == "esp" and alg in ("gcm", "chacha"):
            self.salt = key[-4:]
            name = "gcm(aes)" if alg == "gcm" else "rfc7539(chacha20,poly1305)"
            self.cipher = _Cipher("aead", name, key[:-4], icv)
            self.ivlen, self.blk = 8, 4
        elif proto == "esp":
            self.cipher = _Cipher("skcipher", "cbc(aes)", key)
            self.ivlen, self.blk = 16, 16

    def mac(self, data):
        return hmac.new(self.akey, data, hashlib.sha256).digest()[:self.icv]

    def esp(self, seq, payload, nexthdr, iv, extra_pad=0, pad=None, padlen=None, seq_hi=None):
        """SPI to ICV of an ESP packet (RFC 4303) with the 64-bit SEQ. Lies, all before the
        ICV: EXTRA_PAD more blocks of padding, PAD the padding bytes, PADLEN the pad length
        field, SEQ_HI the high bits the ICV covers (ESN)."""
        n = -(len(payload) + 2) % self.blk + extra_pad * self.blk
        if pad is None:
            pad = bytes(range(1, n + 1))
        plain = payload + pad + struct.pack("!BB", len(pad) if padlen is None else padlen, nexthdr)
        hi = (seq >> 32) if seq_hi is None else seq_hi
        head = struct.pack("!II", self.spi, seq & 0xFFFFFFFF)
        if self.alg == "cbc":
            body = iv + self.cipher.encrypt(iv, plain)
            return head + body + self.mac(head + body + (struct.pack("!I", hi) if self.esn else b""))
        aad = struct.pack("!I", self.spi) + (struct.pack("!I", hi) if self.esn else b"") + head[4:]
        return head + iv + self.cipher.encrypt(self.salt + iv, plain, aad)

    def ah(self, iphdr, seq, payload, nexthdr, seq_hi=None, hdrlen=None):
        """An IPv4 packet with AH (RFC 4302): IPHDR (its length and protocol set here) and
        PAYLOAD. Lies: HDRLEN the length field (the ICV covers it), SEQ_HI (ESN)."""
        ahlen = 12 + self.icv
        ahlen += -ahlen % (4 if self.align4 else 8)
        ihl = (iphdr[0] & 0xF) * 4
        length = ihl + ahlen + len(payload)
        ip = bytearray(iphdr)
        ip[2:4] = struct.pack("!H", length)
        ip[9] = 51
        mutable = bytearray(ip)
        mutable[1] = 0                     # TOS
        mutable[6:8] = b"\0\0"             # flags and fragment offset
        mutable[8] = 0                     # TTL
        mutable[10:12] = b"\0\0"           # checksum
        hl = (ahlen >> 2) - 2 if hdrlen is None else hdrlen
        hdr = struct.pack("!BBHII", nexthdr, hl, 0, self.spi, seq & 0xFFFFFFFF)
        zero = hdr + bytes(ahlen - 12)
        hi = (seq >> 32) if seq_hi is None else seq_hi
        icv = self.mac(bytes(mutable) + zero + payload + (struct.pack("!I", hi) if self.esn else b""))
        ip[10:12] = b"\0\0"
        ip[10:12] = struct.pack("!H", ip_checksum(bytes(ip[:ihl])))
        return bytes(ip) + hdr + icv + bytes(ahlen - 12 - self.icv) + payload


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
