#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""ESP and AH frames for the datapath tests, from tcpdump captures (Ethernet pcap).

  esp_pkt.py list PCAP                        "index spi seq len" per ESP or AH frame
  esp_pkt.py wire PCAP                        "src dst spi seq sport dport" per ESP frame, IPv4 or
                                              IPv6, in UDP (RFC 3948, any ports) or not ("- -")
  esp_pkt.py iv PCAP [LEN]                    "spi seq iv" per ESP frame, iv the LEN (8) bytes after
                                              the sequence number, in hex
  esp_pkt.py pick PCAP SPI SEQ OUT [FLIP]     write the frame with that SPI and sequence number
                                              (ESP in UDP too) to OUT; FLIP: xor 0x01 into the byte at offset FLIP
                                              after the sequence number (ESP: of the payload;
                                              AH: of the ICV and what follows)
  esp_pkt.py mangle IN OUT WHAT               copy a frame, changing its IPv4 header, checksum
                                              fixed: WHAT saddr (last byte of the source address
                                              xor 0x01) or ttl-tos (TTL - 7, DSCP AF41, ECN kept)
  esp_pkt.py send IFNAME FILE [COUNT]         send FILE's frame out of IFNAME (AF_PACKET), COUNT times
  esp_pkt.py serve IFNAME                     the same for each line "FILE [COUNT]" of stdin,
                                              answering "sent" once done

As a module (pkt_fuzz.py, esp6_bad.py): Sa builds ESP (AES-GCM, ChaCha20-Poly1305, AES-CBC with
HMAC-SHA-256; ESN; ESP in UDP) and AH (HMAC-SHA-256) packets with an SA's keys, in transport and
tunnel mode, every field open to a lie; the IPv4 and IPv6 headers (IPv6 with extension headers
and fragments) around them, and the Ethernet frame for an AF_PACKET socket. The ciphers are the kernel's plain ones through AF_ALG
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


def esp_any(frame):
    """(spi, seq, end of the sequence number, sport, dport, src, dst) of an
    IPv4 or IPv6 (no extension headers) ESP frame, in UDP or not (ports
    None); else None. A UDP payload starting with four zero bytes (IKE) or
    of one byte (keep-alive) is not ESP."""
    if frame[12:14] == b"\x08\x00" and len(frame) >= 34:
        o, proto = 14 + (frame[14] & 0x0F) * 4, frame[23]
        addrs = [socket.inet_ntop(socket.AF_INET, frame[a:a + 4]) for a in (26, 30)]
    elif frame[12:14] == b"\x86\xdd" and len(frame) >= 54:
        o, proto = 54, frame[20]
        addrs = [socket.inet_ntop(socket.AF_INET6, frame[a:a + 16]) for a in (22, 38)]
    else:
        return None
    ports = (None, None)
    if proto == 17 and len(frame) >= o + 16 and frame[o + 8:o + 12] != bytes(4):
        ports = struct.unpack(">HH", frame[o:o + 4])
        o += 8
    elif proto != 50 or len(frame) < o + 8:
        return None
    spi, seq = struct.unpack(">II", frame[o:o + 8])
    return spi, seq, o + 8, *ports, *addrs


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


def pseudo_header(src, dst, proto, length):
    """The pseudo-header of a transport checksum, IPv4 or IPv6 by the addresses."""
    if ":" in src:
        return (socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) +
                struct.pack("!I3xB", length, proto))
    return socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, proto, length)


def udp_checksum(src, dst, udp):
    data = pseudo_header(src, dst, 17, len(udp)) + udp + b"\0" * (len(udp) % 2)
    c = ip_checksum(data)
    return c or 0xFFFF


def udp_datagram(src, dst, sport, dport, payload, ulen=None, csum=True):
    """UDP header and PAYLOAD; ULEN lies about the length if given. CSUM: True sums it (IPv4
    or IPv6 by the addresses), False leaves it zero, a number is written as it is."""
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload) if ulen is None else ulen, 0) + payload
    if csum is True:
        csum = udp_checksum(src, dst, udp)
    if csum:
        udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
    return udp


# IPv6 (RFC 8200): the extension headers nfsec walks, by their next header values.
HOPOPTS, ROUTING, FRAGMENT, DSTOPTS = 0, 43, 44, 60


def ip6_header(src, dst, nexthdr, plen, hlim=64, tc=0, flow=0):
    """An IPv6 header for PLEN bytes after it (extension headers and payload)."""
    return struct.pack("!IHBB16s16s", 6 << 28 | tc << 20 | flow, plen, nexthdr, hlim,
                       socket.inet_pton(socket.AF_INET6, src),
                       socket.inet_pton(socket.AF_INET6, dst))


def opts_header(size=8, hdrlen=None):
    """A hop-by-hop or destination options header of SIZE bytes (a multiple of 8, at least 8)
    holding one PadN option; HDRLEN lies about its length. Its next header byte is left 0 for
    ip6_packet() to set."""
    return struct.pack("!BBBB", 0, (size >> 3) - 1 if hdrlen is None else hdrlen, 1,
                       size - 4) + bytes(size - 4)


def frag_header(offset, more, ident):
    """A fragment header: OFFSET in bytes (a multiple of 8), MORE the M flag. Next header as
    in opts_header()."""
    return struct.pack("!BBHI", 0, 0, offset | (1 if more else 0), ident)


def ip6_packet(src, dst, exts, proto, payload, plen=None, **kw):
    """An IPv6 packet: the extension headers EXTS (a list of (next header value, bytes), each
    from opts_header() or frag_header()), chained in that order, then PAYLOAD of protocol PROTO.
    PLEN lies about the payload length; KW goes to ip6_header()."""
    types = [t for t, _ in exts] + [proto]
    body = b"".join(bytes([types[i + 1]]) + h[1:] for i, (_, h) in enumerate(exts)) + payload
    return ip6_header(src, dst, types[0], len(body) if plen is None else plen, **kw) + body


def ip6_fragments(src, dst, proto, data, pieces, ident, exts=()):
    """IPv6 fragments of DATA (the fragmentable part, starting with a header of protocol
    PROTO), one per (start, end, more) of PIECES, each behind the unfragmentable extension
    headers EXTS and a fragment header: pieces may overlap, leave holes or lie about M."""
    return [ip6_packet(src, dst, list(exts) + [(FRAGMENT, frag_header(a, more, ident))], proto,
                       data[a:b]) for a, b, more in pieces]


def ether(dst_mac, src_mac, pkt):
    """An Ethernet frame around the IPv4 or IPv6 packet PKT; MACs as "02:00:..." strings."""
    etype = 0x86DD if pkt[0] >> 4 == 6 else 0x0800
    return (bytes.fromhex(dst_mac.replace(":", "")) + bytes.fromhex(src_mac.replace(":", "")) +
            struct.pack("!H", etype) + pkt)


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

    def packet(self, seq, payload, nexthdr, iv, exts=(), sport=None, ucsum=True, **lie):
        """The whole ESP packet: esp() behind the SA's outer header, IPv4 or IPv6 by its
        addresses (IPv6 with the extension headers EXTS, see ip6_packet()), in UDP with encap.
        The UDP checksum is summed over IPv6 and zero over IPv4 (RFC 3948 2.1); UCSUM lies about
        it (see udp_datagram()), SPORT about the source port. LIE: see esp()."""
        v6 = ":" in self.src
        body, proto = self.esp(seq, payload, nexthdr, iv, **lie), 50
        if self.encap:
            body = udp_datagram(self.src, self.dst, self.encap[0] if sport is None else sport,
                                self.encap[1], body, csum=ucsum if v6 or ucsum is not True else False)
            proto = 17
        if v6:
            return ip6_packet(self.src, self.dst, exts, proto, body)
        return ip_header(self.src, self.dst, proto, 20 + len(body)) + body

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
    elif cmd == "wire":
        for fr in frames(sys.argv[2]):
            r = esp_any(fr)
            if r:
                print(r[5], r[6], "0x%08x" % r[0], r[1],
                      *("-" if p is None else p for p in r[3:5]))
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
            r = esp(fr) or esp_any(fr)
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
