#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A packet fuzzer for nfsec's receive path (selftests/pkt_fuzz.sh runs it).

  pkt_fuzz.py config                    `nfsec -batch` lines for the receiver: one SA of each
                                        kind, each with its in policy
  pkt_fuzz.py listen LOG                in the receiver: log every datagram to UDP port 9000,
                                        "U ID KIND SHA256" from a UDP socket and "R ID KIND"
                                        from a raw socket (what passed LOCAL_IN)
  pkt_fuzz.py serve SEED                in the sender: for each line "ROUND COUNT MANIFEST" of
                                        stdin, COUNT test cases drawn from SEED and ROUND (rounds
                                        in order: sequence numbers and packets to replay carry
                                        over); MANIFEST gets one line per tagged datagram,
                                        "ID KIND COUNTED SHA256 WHAT", and a last line
                                        "# sent P packets, C counted drops"; answers a summary
  pkt_fuzz.py check LOG MANIFEST... [--wait SECS]
                                        compare what was delivered with what was sent: no
                                        mutant that must be dropped, every valid datagram
                                        exactly once and intact; waits up to SECS for the
                                        valid ones

FUZZ_CASES=a,b,... draws only those cases (the names in Fuzzer.CASES); -a,-b all but those.

Every test case has its own ID, in the first bytes of the UDP payload with its KIND:
  V  valid on purpose: must be delivered, once, as sent (sha256)
  M  a mutant that must be dropped; COUNTED 1 when it surely reaches nfsec, which must then
     count it in one of its drop counters (pkt_fuzz.sh sums them)
  P  may be delivered: authentic packets whose inner headers lie in ways the stack, not nfsec,
     judges (a short UDP length), or that Linux drops itself (overlapping fragments)
A flip after the ICV is computed can never be delivered; lies told before it (padding, next
header, inner lengths, selectors, sequence numbers) make authentic packets that nfsec must
still reject.

Topology (pkt_fuzz.sh): sender 10.0.0.1 (and 10.0.0.(10+k), transport peer of SA k) on a veth
to the receiver 10.0.0.2, which also has 10.2.0.1 (the tunnels' inner destination). Tunnel SA
k carries 10.1.k.1 -> 10.2.0.1.
"""
import hashlib
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from esp_pkt import Sa, ip_checksum, ip_header, udp_datagram  # noqa: E402

RCV = "10.0.0.2"
SND = "10.0.0.1"
INNER_DST = "10.2.0.1"
PORT = 9000
NATT = 4500
WINDOW = 64
ESN_START = 0xFFFFFFC0          # the receiver's ESN SAs start just below 2^32
TAG = b"NFZ"

# name, proto, mode, alg, key bytes, ICV bytes, ESN, encap
KINDS = [
    ("gcm128-tunnel", "esp", "tunnel", "gcm", 16, 16, False, False),
    ("gcm256-transport", "esp", "transport", "gcm", 32, 16, False, False),
    ("gcm128-tunnel-esn", "esp", "tunnel", "gcm", 16, 16, True, False),
    ("gcm256-icv96-transport-esn", "esp", "transport", "gcm", 32, 12, True, False),
    ("gcm128-icv64-tunnel", "esp", "tunnel", "gcm", 16, 8, False, False),
    ("chacha-tunnel", "esp", "tunnel", "chacha", 32, 16, False, False),
    ("chacha-transport-esn", "esp", "transport", "chacha", 32, 16, True, False),
    ("cbc128-sha256-128-tunnel", "esp", "tunnel", "cbc", 16, 16, False, False),
    ("cbc256-sha256-96-transport", "esp", "transport", "cbc", 32, 12, False, False),
    ("cbc128-sha256-256-tunnel-esn", "esp", "tunnel", "cbc", 16, 32, True, False),
    ("gcm128-tunnel-udp", "esp", "tunnel", "gcm", 16, 16, False, True),
    ("cbc128-sha256-transport-udp", "esp", "transport", "cbc", 16, 16, False, True),
    ("ah-sha256-128-transport", "ah", "transport", None, 0, 16, False, False),
    ("ah-sha256-96-tunnel-esn", "ah", "tunnel", None, 0, 12, True, False),
]


def key_of(k, n, salt=0):
    return hashlib.sha512(b"nfsec pkt_fuzz %d %d" % (k, salt)).digest()[:n]


def sa_words(k):
    name, proto, mode, alg, klen, icv, esn, encap = KINDS[k]
    src = SND if mode == "tunnel" else "10.0.0.%d" % (10 + k)
    w = "src %s dst %s proto %s spi %#x reqid %d mode %s replay-window %d" % (
        src, RCV, proto, 0x1000 + k, k + 1, mode, WINDOW)
    if esn:
        w += " flag esn replay-seq %#x" % ESN_START
    if alg in ("gcm", "chacha"):
        a = "rfc4106(gcm(aes))" if alg == "gcm" else "rfc7539esp(chacha20,poly1305)"
        w += " aead '%s' 0x%s %d" % (a, key_of(k, klen + 4).hex(), icv * 8)
    else:
        if alg == "cbc":
            w += " enc 'cbc(aes)' 0x%s" % key_of(k, klen).hex()
        w += " auth-trunc 'hmac(sha256)' 0x%s %d" % (key_of(k, 32, 1).hex(), icv * 8)
    if encap:
        w += " encap espinudp %d %d 0.0.0.0" % (NATT, NATT)
    if mode == "tunnel":
        pol = "src 10.1.%d.1/32 dst %s/32 dir in tmpl src %s dst %s proto %s reqid %d mode tunnel" % (
            k, INNER_DST, SND, RCV, proto, k + 1)
    else:
        pol = "src %s/32 dst %s/32 dir in tmpl src %s dst %s proto %s reqid %d mode transport" % (
            src, RCV, src, RCV, proto, k + 1)
    return src, w, pol


def make_sa(k):
    name, proto, mode, alg, klen, icv, esn, encap = KINDS[k]
    src = sa_words(k)[0]
    key = key_of(k, klen + 4) if alg in ("gcm", "chacha") else key_of(k, klen)
    sa = Sa(0x1000 + k, src, RCV, proto=proto, mode=mode, alg=alg, key=key,
            akey=key_of(k, 32, 1), icv=icv, esn=esn, encap=(NATT, NATT) if encap else None)
    sa.k, sa.name = k, name
    sa.isrc = "10.1.%d.1" % k
    return sa


def config():
    for k in range(len(KINDS)):
        _, w, pol = sa_words(k)
        print("sa add " + w)
        print("policy add " + pol)


# ---- the receiver

def listen(path):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    u.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE
    u.bind(("0.0.0.0", PORT))
    r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
    r.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)
    import select
    with open(path, "a", buffering=1) as f:
        f.write("ready\n")
        while True:
            for s in select.select([u, r], [], [])[0]:
                d = s.recv(70000)
                if s is u:
                    f.write("U %s %s\n" % (tag_of(d), hashlib.sha256(d).hexdigest()))
                    continue
                ihl = (d[0] & 0xF) * 4
                if len(d) >= ihl + 4 and struct.unpack("!H", d[ihl + 2:ihl + 4])[0] == PORT:
                    f.write("R %s\n" % tag_of(d[ihl + 8:]))


def tag_of(p):
    """'ID KIND' of a payload, '- ?' if it has no tag."""
    if len(p) < 8 or p[:3] != TAG or p[3:4] not in (b"V", b"M", b"P"):
        return "- ?"
    return "%d %s" % (struct.unpack("!I", p[4:8])[0], p[3:4].decode())


# ---- the sender

class Case:
    """One test case: packets to send, and what must become of the datagram they carry."""

    def __init__(self, what, kind="M", counted=False):
        self.what, self.kind, self.counted = what, kind, counted
        self.pkts = []
        self.id = None
        self.sha = "-"


class Fuzzer:
    def __init__(self, state, seed):
        self.st = state
        self.seed = seed
        self.rng = random.Random(seed)
        self.sas = [make_sa(k) for k in range(len(KINDS))]
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.socks = {}
        self.sent = 0

    # -- numbers that carry over between rounds
    def next_seq(self, sa):
        seqs = self.st.setdefault("seq", {})
        s = seqs.get(str(sa.k), ESN_START if sa.esn else 0) + 1
        seqs[str(sa.k)] = s
        return s

    def accepted(self, sa, seq):
        """SEQ is a valid packet's: the receiver's window will be at least there."""
        acc = self.st.setdefault("acc", {})
        acc[str(sa.k)] = max(acc.get(str(sa.k), 0), seq)

    def top(self, sa):
        """The highest sequence number of a valid packet sent, 0 if none yet."""
        return self.st.get("acc", {}).get(str(sa.k), 0)

    def ident(self):
        i = self.st.get("ident", 0) % 0xFFFF + 1
        self.st["ident"] = i
        return i

    def new_id(self):
        i = self.st.get("id", 0) + 1
        self.st["id"] = i
        return i

    # -- building blocks
    def payload(self, case, n=None):
        rng = self.rng
        if n is None:
            n = rng.choice([0, 1, 7, 8, 15, 16, 17, rng.randrange(0, 200), rng.randrange(0, 1300)])
        case.id = self.new_id()
        p = TAG + case.kind.encode() + struct.pack("!I", case.id) + rng.randbytes(n)
        case.sha = hashlib.sha256(p).hexdigest()
        return p

    def inner(self, sa, case, ulen=None, n=None):
        """(next header, bytes) SA carries for CASE: a UDP datagram to port 9000, inside an
        IPv4 header in tunnel mode."""
        p = self.payload(case, n)
        sport = 1024 + self.rng.randrange(60000)
        if sa.mode == "transport":
            return 17, udp_datagram(sa.src, RCV, sport, PORT, p, ulen=ulen)
        udp = udp_datagram(sa.isrc, INNER_DST, sport, PORT, p, ulen=ulen)
        return 4, ip_header(sa.isrc, INNER_DST, 17, 20 + len(udp), ident=self.ident()) + udp

    def iv(self, sa):
        return self.rng.randbytes(sa.ivlen)

    def protect(self, sa, seq, nh, data, **lie):
        """The outer packet of SA with SEQ around DATA (next header NH). LIE: see Sa.esp/ah."""
        if sa.proto == "ah":
            return sa.ah(ip_header(sa.src, RCV, 51, 0, ident=self.ident()), seq, data, nh,
                         seq_hi=lie.get("seq_hi"), hdrlen=lie.get("hdrlen"))
        esp = sa.esp(seq, data, nh, self.iv(sa), **lie)
        return self.outer(sa, esp)

    def outer(self, sa, esp, ulen=None):
        if sa.encap:
            udp = struct.pack("!HHHH", NATT, NATT, 8 + len(esp) if ulen is None else ulen, 0) + esp
            return ip_header(sa.src, RCV, 17, 20 + len(udp), ident=self.ident()) + udp
        return ip_header(sa.src, RCV, 50, 20 + len(esp), ident=self.ident()) + esp

    def body_off(self, sa):
        """Offset of the SPI (ESP) or of AH in an outer packet."""
        return 28 if sa.encap else 20

    def fragments(self, pkt, n, overlap=False, mtu=None):
        """PKT (an IPv4 packet with a 20-byte header) cut into about N fragments of multiples of
        8 bytes, in a random order half of the time; OVERLAP adds a fragment that overlaps
        another, with other bytes."""
        rng = self.rng
        hdr, data = pkt[:20], pkt[20:]
        slots = len(data) // 8
        cuts = sorted(rng.sample(range(1, slots), min(n - 1, slots - 1))) if slots > 1 else []
        if mtu:
            cuts = range(mtu // 8, slots, mtu // 8)
        bounds = [0]
        for b in [c * 8 for c in cuts] + [len(data)]:
            while b - bounds[-1] > 1480:     # no fragment longer than the link
                bounds.append(bounds[-1] + 1480)
            if b > bounds[-1]:
                bounds.append(b)
        # The packet's own: AH covers it.
        ident = struct.unpack("!H", hdr[4:6])[0] or self.ident()
        out = []
        for a, b in zip(bounds, bounds[1:]):
            out.append((a, data[a:b], b < len(data)))
        if overlap and len(out) > 1:
            a, chunk, more = rng.choice(out[:-1])
            out.append((a, rng.randbytes(len(chunk) + 8), True))
        if not mtu and rng.random() < 0.5:
            rng.shuffle(out)
        frags = []
        for a, chunk, more in out:
            h = bytearray(hdr)
            h[2:4] = struct.pack("!H", 20 + len(chunk))
            h[4:6] = struct.pack("!H", ident)
            h[6:8] = struct.pack("!H", (a // 8) | (0x2000 if more else 0))
            h[10:12] = b"\0\0"
            h[10:12] = struct.pack("!H", ip_checksum(bytes(h)))
            frags.append(bytes(h) + chunk)
        return frags

    def inner_fragments(self, sa, data, pieces):
        """A tunnel's inner IPv4 datagram DATA cut into PIECES inner fragments."""
        hdr, body = data[:20], data[20:]
        slots = len(body) // 8
        if slots < pieces:
            return None
        cuts = sorted(self.rng.sample(range(1, slots), pieces - 1))
        bounds = [0] + [c * 8 for c in cuts] + [len(body)]
        out = []
        for a, b in zip(bounds, bounds[1:]):
            h = bytearray(hdr)
            h[2:4] = struct.pack("!H", 20 + b - a)
            h[6:8] = struct.pack("!H", (a // 8) | (0x2000 if b < len(body) else 0))
            h[10:12] = b"\0\0"
            h[10:12] = struct.pack("!H", ip_checksum(bytes(h)))
            out.append(bytes(h) + body[a:b])
        return out

    # -- test cases: each returns a Case, or None when it does not apply to SA
    def valid(self, sa):
        c = Case("valid", "V")
        nh, data = self.inner(sa, c)
        seq = self.next_seq(sa)
        if sa.proto == "ah":
            sa.align4 = self.rng.random() < 0.5   # either padding is legal
        extra = 0
        if sa.proto == "esp" and self.rng.random() < 0.3:
            # Legal extra padding, up to 255 bytes in all.
            extra = self.rng.randrange(0, (255 - sa.blk) // sa.blk + 1)
            c.what = "valid, %d more pad blocks" % extra
        pkt = self.protect(sa, seq, nh, data, **({"extra_pad": extra} if extra else {}))
        self.accepted(sa, seq)
        c.pkts = [pkt]
        pool = self.st.setdefault("replay", {}).setdefault(str(sa.k), [])
        pool.append(pkt.hex())
        del pool[:-4]
        return c

    def big(self):
        """A payload length for fragments: within one link's MTU, or up to 40 of them."""
        return self.rng.choice([self.rng.randrange(300, 1300), self.rng.randrange(1300, 60000)])

    def valid_frag(self, sa):
        """Outer fragments, 2 to 48 of them (more if long): the skb reassembled has about as
        many pieces, each a scatterlist entry of the transform's request (small ones are
        copied into the first one's tailroom)."""
        c = Case("valid in outer fragments", "V")
        nh, data = self.inner(sa, c, n=self.big())
        seq = self.next_seq(sa)
        pkt = self.protect(sa, seq, nh, data)
        self.accepted(sa, seq)
        if sa.proto == "esp" and self.rng.random() < 0.3:
            c.pkts = [self.kernel_frag(pkt)]
            c.what = "valid, %d bytes fragmented by the sender's kernel" % len(pkt)
            return c
        c.pkts = self.fragments(pkt, self.rng.randrange(2, 49))
        c.what = "valid in %d outer fragments" % len(c.pkts)
        return c

    def valid_inner_frag(self, sa):
        if sa.mode != "tunnel":
            return None
        c = Case("valid in inner fragments", "V")
        nh, data = self.inner(sa, c, n=self.rng.randrange(40, 1300))
        frags = self.inner_fragments(sa, data, self.rng.randrange(2, 5))
        if not frags:
            return None
        c.pkts = [self.protect(sa, self.next_seq(sa), 4, f) for f in frags]
        self.accepted(sa, self.st["seq"][str(sa.k)])
        return c

    def mixed_frag(self, sa):
        """Inner fragments, one in clear: never delivered as protected (esp_frag.sh)."""
        if sa.mode != "tunnel":
            return None
        c = Case("inner fragments, one in clear")
        nh, data = self.inner(sa, c, n=self.rng.randrange(40, 1300))
        frags = self.inner_fragments(sa, data, 2)
        if not frags:
            return None
        clear = self.rng.randrange(2)
        c.pkts = [f if i == clear else self.protect(sa, self.next_seq(sa), 4, f)
                  for i, f in enumerate(frags)]
        if self.rng.random() < 0.5:
            c.pkts.reverse()
        c.what = "inner fragments, %s in clear" % ("head", "tail")[clear]
        return c

    def flip(self, sa):
        c = Case("bit flip", "M", True)
        nh, data = self.inner(sa, c)
        pkt = bytearray(self.protect(sa, self.next_seq(sa), nh, data))
        o = self.body_off(sa)
        spi = o + (4 if sa.proto == "ah" else 0)
        while True:
            at = self.rng.randrange(o, len(pkt))
            if not spi <= at < spi + 4:
                break
        pkt[at] ^= 1 << self.rng.randrange(8)
        c.what = "bit flip at %d of %d" % (at - o, len(pkt) - o)
        c.pkts = [bytes(pkt)]
        return c

    def spi_flip(self, sa):
        c = Case("SPI flipped")
        nh, data = self.inner(sa, c)
        pkt = bytearray(self.protect(sa, self.next_seq(sa), nh, data))
        pkt[self.body_off(sa) + (4 if sa.proto == "ah" else 0) + self.rng.randrange(4)] ^= 0x40
        c.pkts = [bytes(pkt)]
        return c

    def trunc(self, sa):
        c = Case("truncated", "M")
        nh, data = self.inner(sa, c)
        pkt = self.protect(sa, self.next_seq(sa), nh, data)
        o = self.body_off(sa)
        n = self.rng.randrange(0, len(pkt) - o)
        body = pkt[o:o + n]
        if sa.encap:
            fix = self.rng.random() < 0.5
            c.pkts = [self.outer(sa, body, ulen=None if fix else len(pkt) - 20)]
            # Shorter than an ESP header, or IKE's marker: the stack's, not nfsec's.
            c.counted = n >= 8 and body[:4] != b"\0\0\0\0"
        else:
            h = bytearray(pkt[:20])
            h[2:4] = struct.pack("!H", 20 + n)
            h[10:12] = b"\0\0"
            h[10:12] = struct.pack("!H", ip_checksum(bytes(h)))
            c.pkts = [bytes(h) + body]
            c.counted = n >= (8 if sa.proto == "ah" else 4)
        c.what = "truncated to %d of %d" % (n, len(pkt) - o)
        return c

    def extend(self, sa):
        c = Case("extended", "M", True)
        nh, data = self.inner(sa, c)
        pkt = self.protect(sa, self.next_seq(sa), nh, data)
        more = self.rng.randbytes(self.rng.randrange(1, 65))
        if sa.encap:
            c.pkts = [self.outer(sa, pkt[28:] + more)]
        else:
            c.pkts = [ip_header(sa.src, RCV, pkt[9], len(pkt) + len(more), ident=self.ident())
                      + pkt[20:] + more]
        c.what = "%d bytes appended" % len(more)
        return c

    def bad_pad(self, sa):
        if sa.proto != "esp":
            return None
        c = Case("bad pad byte", "M", True)
        nh, data = self.inner(sa, c)
        n = -(len(data) + 2) % sa.blk + sa.blk
        pad = bytearray(range(1, n + 1))
        pad[self.rng.randrange(n)] ^= 1 << self.rng.randrange(8)
        c.pkts = [self.protect(sa, self.next_seq(sa), nh, data, pad=bytes(pad))]
        return c

    def bad_padlen(self, sa):
        if sa.proto != "esp":
            return None
        c = Case("bad pad length", "M", True)
        nh, data = self.inner(sa, c)
        real = -(len(data) + 2) % sa.blk
        padlen = self.rng.randrange(real + 1, 256)
        c.pkts = [self.protect(sa, self.next_seq(sa), nh, data, padlen=padlen)]
        c.what = "pad length %d, %d real" % (padlen, real)
        return c

    def dummy(self, sa):
        if sa.proto != "esp":
            return None
        c = Case("next header 59 (dummy)", "M", True)
        nh, data = self.inner(sa, c)
        c.pkts = [self.protect(sa, self.next_seq(sa), 59, data)]
        return c

    def bad_nexthdr(self, sa):
        bad = self.rng.choice([0, 4, 6, 17, 41, 47, 50, 51, 60, 132, 255])
        if sa.mode == "tunnel":
            # An inner IPv4 packet declared as something else, or IPv6: never delivered.
            c = Case("next header", "M", True)
        else:
            # Transport: the payload goes to that protocol, authentic; not to our socket.
            c = Case("next header", "P")
        nh, data = self.inner(sa, c)
        if bad == nh:
            return None
        c.pkts = [self.protect(sa, self.next_seq(sa), bad, data)]
        c.what = "next header %d for %d" % (bad, nh)
        return c

    def inner_lie(self, sa):
        """Tunnel mode: an inner IPv4 header that lies, inside an authentic packet."""
        if sa.mode != "tunnel":
            return None
        what = self.rng.choice(["tot_len long", "tot_len short", "ihl small", "ihl large",
                                "checksum", "version 6", "source of another SA", "tot_len 0"])
        if what in ("tot_len short", "ihl large"):
            # Trimmed, the UDP length then lies; or the UDP header read as IP options, which
            # ip_options_compile() judges: authentic, the stack's to judge.
            c = Case("inner " + what, "P")
        else:
            c = Case("inner " + what, "M", True)
        nh, data = self.inner(sa, c)
        h = bytearray(data[:20])
        if what == "tot_len long":
            h[2:4] = struct.pack("!H", len(data) + self.rng.randrange(1, 2000))
        elif what == "tot_len 0":
            h[2:4] = b"\0\0"
        elif what == "tot_len short":
            h[2:4] = struct.pack("!H", self.rng.randrange(28, len(data)))
        elif what == "ihl small":
            h[0] = 0x40 | self.rng.randrange(5)
        elif what == "ihl large":
            h[0] = 0x40 | self.rng.randrange(6, 16)
        elif what == "version 6":
            h[0] = 0x65
        elif what == "source of another SA":
            other = self.rng.choice([s for s in self.sas if s.mode == "tunnel" and s is not sa])
            h[12:16] = socket.inet_aton(other.isrc)
        full = bytes(h) + data[20:]
        if what == "checksum":
            h[10] ^= 0x10
        elif 20 <= (h[0] & 0xF) * 4 <= len(full):
            h[10:12] = b"\0\0"
            h[10:12] = struct.pack("!H", ip_checksum(bytes(h) + full[20:(h[0] & 0xF) * 4]))
        c.pkts = [self.protect(sa, self.next_seq(sa), nh, bytes(h) + data[20:])]
        return c

    def udp_len(self, sa):
        """An inner UDP length that lies, authentic: UDP drops or trims it, nfsec need not."""
        c = Case("inner UDP length", "P")
        # Below 8, or enough to keep the tag when UDP trims the datagram to it.
        ulen = self.rng.choice([0, 1, 7, 16, 17, self.rng.randrange(16, 65536)])
        nh, data = self.inner(sa, c, ulen=ulen)
        c.pkts = [self.protect(sa, self.next_seq(sa), nh, data)]
        c.what = "inner UDP length %d" % ulen
        return c

    def outer_src(self, sa):
        """Transport: another peer's source on this peer's SA (ESP does not cover it)."""
        if sa.mode != "transport":
            return None
        c = Case("outer source of another peer", "M", True)
        nh, data = self.inner(sa, c)
        pkt = bytearray(self.protect(sa, self.next_seq(sa), nh, data))
        other = self.rng.choice([s for s in self.sas if s.mode == "transport" and s is not sa])
        pkt[12:16] = socket.inet_aton(other.src)
        pkt[10:12] = b"\0\0"
        pkt[10:12] = struct.pack("!H", ip_checksum(bytes(pkt[:20])))
        c.pkts = [bytes(pkt)]
        return c

    def replay(self, sa):
        pool = self.st.get("replay", {}).get(str(sa.k))
        if not pool:
            return None
        c = Case("replay", "-", True)
        c.pkts = [bytes.fromhex(self.rng.choice(pool))]
        return c

    def old(self, sa):
        """Authentic, left of the window (with ESN: it infers into the next epoch and fails
        the ICV), or sequence number 0."""
        top = self.top(sa)
        c = Case("old sequence number", "M", True)
        nh, data = self.inner(sa, c)
        if self.rng.random() < 0.3 and not sa.esn:
            seq = 0
        elif top - WINDOW > 2:
            # Left of the window wherever it stands now: it is at least at top.
            seq = top - WINDOW - self.rng.randrange(0, min(top - WINDOW - 1, 5000))
        else:
            return None
        c.pkts = [self.protect(sa, seq, nh, data)]
        c.what = "sequence number %#x, top %#x" % (seq, top)
        return c

    def esn_hi(self, sa):
        if not sa.esn:
            return None
        c = Case("ESN high bits", "M", True)
        nh, data = self.inner(sa, c)
        seq = self.next_seq(sa)
        hi = (seq >> 32) + self.rng.choice([-1, 1, 2, 0x80000000])
        c.pkts = [self.protect(sa, seq, nh, data, seq_hi=hi & 0xFFFFFFFF)]
        c.what = "ICV over high bits %#x, seq %#x" % (hi & 0xFFFFFFFF, seq)
        return c

    def ah_hdrlen(self, sa):
        if sa.proto != "ah":
            return None
        c = Case("AH length", "M", True)
        nh, data = self.inner(sa, c)
        hl = self.rng.randrange(256)
        if hl in ((12 + sa.icv + 3) // 4 - 2, (12 + sa.icv + 7) // 8 * 2 - 2):
            return None
        c.pkts = [self.protect(sa, self.next_seq(sa), nh, data, hdrlen=hl)]
        c.what = "AH length field %d" % hl
        return c

    def clear(self, sa):
        c = Case("in clear", "M", True)
        nh, data = self.inner(sa, c)
        if sa.mode == "tunnel":
            c.pkts = [data]
        else:
            c.pkts = [ip_header(sa.src, RCV, 17, 20 + len(data), ident=self.ident()) + data]
        return c

    def garbage(self, sa):
        """Random bytes after a live SPI and a new sequence number, in 1 to 48 fragments."""
        c = Case("garbage", "-", True)
        n = self.big()
        body = struct.pack("!II", sa.spi, self.next_seq(sa) & 0xFFFFFFFF) + self.rng.randbytes(n)
        if sa.proto == "ah":
            body = bytes([17, self.rng.randrange(256), 0, 0]) + body
            pkt = ip_header(sa.src, RCV, 51, 20 + len(body), ident=self.ident()) + body
        else:
            pkt = self.outer(sa, body)
            if self.rng.random() < 0.3:
                c.pkts = [self.kernel_frag(pkt)]
                c.what = "%d garbage bytes fragmented by the sender's kernel" % len(body)
                return c
        c.pkts = self.fragments(pkt, self.rng.randrange(1, 49))
        c.what = "%d garbage bytes in %d fragments" % (len(body), len(c.pkts))
        return c

    def overlap(self, sa):
        c = Case("overlapping outer fragments", "P")
        nh, data = self.inner(sa, c, n=self.rng.randrange(100, 1300))
        pkt = self.protect(sa, self.next_seq(sa), nh, data)
        c.pkts = self.fragments(pkt, self.rng.randrange(2, 10), overlap=True)
        return c

    def esp_in_esp(self, sa):
        """Tunnel: an authentic packet carrying a valid ESP packet of another SA."""
        if sa.mode != "tunnel" or sa.proto != "esp":
            return None
        other = self.rng.choice([s for s in self.sas if s.proto == "esp" and s is not sa])
        c = Case("ESP in ESP", "P")
        nh, data = self.inner(other, c)
        innerpkt = self.protect(other, self.next_seq(other), nh, data)
        ip = bytearray(innerpkt)
        ip[12:16] = socket.inet_aton(sa.isrc)
        ip[16:20] = socket.inet_aton(INNER_DST)
        ip[10:12] = b"\0\0"
        ip[10:12] = struct.pack("!H", ip_checksum(bytes(ip[:20])))
        c.pkts = [self.protect(sa, self.next_seq(sa), 4, bytes(ip))]
        c.what = "ESP of %s in ESP" % other.name
        return c

    def icmp(self, sa):
        """Fragmentation-needed from anyone, quoting ESP, AH or ESP in UDP with forged SPIs,
        cut anywhere; or quoting, whole, a packet of SA itself: the peer's to us, which no
        router can have refused on our behalf (the receiver sends nothing)."""
        rng = self.rng
        c = Case("ICMP frag-needed", None)
        if rng.random() < 0.3:
            proto = 17 if sa.encap else 51 if sa.proto == "ah" else 50
            spi, src, dst, frag, cut = sa.spi, sa.src, RCV, 0, None
        else:
            proto = rng.choice([50, 51, 17])
            spi = rng.choice([sa.spi, rng.randrange(1 << 32), 0])
            src, dst = rng.choice([RCV, SND, sa.src]), rng.choice([sa.src, RCV, SND])
            frag, cut = rng.choice([0, 0, 0x2000, 0x0010]), rng.randrange(0, 41)
        quoted = {50: struct.pack("!II", spi, 1), 51: struct.pack("!BBHII", 17, 4, 0, spi, 1),
                  17: struct.pack("!HHHHI", NATT, NATT, 100, 0, spi)}[proto]
        q = (ip_header(src, dst, proto, 1400, frag=frag) + quoted)[:cut]
        icmp = struct.pack("!BBHHH", 3, 4, 0, 0, rng.choice([0, 68, 576, 1200, 1400, 65535])) + q
        icmp = icmp[:2] + struct.pack("!H", ip_checksum(icmp + b"\0" * (len(icmp) % 2))) + icmp[4:]
        c.pkts = [ip_header(rng.choice([SND, "10.9.9.9"]), RCV, 1, 20 + len(icmp)) + icmp]
        c.what = "frag-needed quoting %d bytes %s -> %s, proto %d, spi %#x" % (
            len(q), src, dst, proto, spi)
        return c

    def natt_small(self, sa):
        """UDP to 4500 of 0 to 40 bytes: keep-alive, IKE's marker, a live SPI cut short."""
        rng = self.rng
        c = Case("small UDP to 4500", None)
        n = rng.randrange(0, 41)
        start = rng.choice([b"\xff", b"\0\0\0\0", struct.pack("!I", 0x1000 + 10),
                            struct.pack("!I", 0x1000 + 11), b""])
        body = (start + rng.randbytes(n))[:n]
        udp = struct.pack("!HHHH", NATT, NATT, 8 + len(body), 0) + body
        c.pkts = [ip_header(rng.choice([SND, sa.src]), RCV, 17, 20 + len(udp)) + udp]
        c.what = "UDP to 4500 with %d bytes %s" % (n, body[:4].hex())
        return c

    CASES = [("valid", 20), ("valid_frag", 6), ("valid_inner_frag", 3), ("mixed_frag", 3),
             ("flip", 14), ("spi_flip", 1), ("trunc", 8), ("extend", 3), ("bad_pad", 3),
             ("bad_padlen", 3), ("dummy", 2), ("bad_nexthdr", 3), ("inner_lie", 5),
             ("udp_len", 2), ("outer_src", 2), ("replay", 4), ("old", 3), ("esn_hi", 2),
             ("ah_hdrlen", 3), ("clear", 2), ("garbage", 6), ("overlap", 2), ("esp_in_esp", 1),
             ("icmp", 2), ("natt_small", 3)]

    def case(self):
        sel = [n for n in os.environ.get("FUZZ_CASES", "").split(",") if n]
        cases = [(n, w) for n, w in self.CASES
                 if not sel or n in sel or (sel[0][0] == "-" and "-" + n not in sel)]
        names = [n for n, _ in cases]
        weights = [w for _, w in cases]
        while True:
            sa = self.rng.choice(self.sas)
            c = getattr(self, self.rng.choices(names, weights)[0])(sa)
            if c:
                c.what = "%s: %s" % (sa.name, c.what)
                return c

    def kernel_frag(self, pkt):
        """PKT (ESP or ESP in UDP, no IP options) as the kernel fragments it: sent from a socket
        bound to its source, without DF. Each fragment is then an skb of its own, MTU-sized,
        that the receiver's reassembly cannot fold into the first one's tailroom."""
        src, proto = socket.inet_ntoa(pkt[12:16]), pkt[9]
        key = (src, proto)
        if key not in self.socks:
            if proto == 17:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((src, NATT))
            else:
                s = socket.socket(socket.AF_INET, socket.SOCK_RAW, proto)
                s.bind((src, 0))
            s.setsockopt(socket.IPPROTO_IP, 10, 0)  # IP_MTU_DISCOVER: IP_PMTUDISC_DONT
            self.socks[key] = s
        return ("kernel", key, pkt[28:] if proto == 17 else pkt[20:])

    def send(self, pkts):
        for p in pkts:
            if isinstance(p, tuple):
                _, key, data = p
                self.retry(self.socks[key].sendto, data, (RCV, NATT if key[1] == 17 else 0))
                self.sent += 1 + len(data) // 1480
                continue
            if len(p) > 1500:
                # Longer than the link: in outer fragments, as its sender would.
                self.send(self.fragments(p, 1, mtu=1480))
                continue
            self.retry(self.sock.sendto, p, (socket.inet_ntoa(p[16:20]), 0))
            self.sent += 1

    @staticmethod
    def retry(f, *a):
        while True:
            try:
                return f(*a)
            except OSError as e:
                if e.errno != 105:  # ENOBUFS: let the device drain
                    raise
                time.sleep(0.005)


def run_round(fz, rnd, count, manifest):
    """COUNT cases of round RND, drawn from the seed and RND alone."""
    fz.rng = random.Random("%s:%s" % (fz.seed, rnd))
    fz.sent = 0
    t0 = time.monotonic()
    counted = 0
    with open(manifest, "w") as m:
        for i in range(int(count)):
            c = fz.case()
            fz.send(c.pkts)
            if c.counted:
                counted += 1
            if c.id is not None:
                m.write("%d %s %d %s %s\n" % (c.id, c.kind, c.counted, c.sha, c.what))
            if i % 64 == 63:
                time.sleep(0.01)   # let the receiver's queues drain
        m.write("# sent %d packets, %d counted drops\n" % (fz.sent, counted))
    return "round %s: %s cases, %d packets in %.1f s, %d must-drop mutants that reach nfsec" % (
        rnd, count, fz.sent, time.monotonic() - t0, counted)


def serve(seed):
    """Rounds as stdin asks, "ROUND COUNT MANIFEST" a line, each answered with a summary
    line: one process for the whole run (Python starts slowly under emulation)."""
    fz = Fuzzer({}, seed)
    for line in sys.stdin:
        rnd, count, manifest = line.split()
        print(run_round(fz, rnd, count, manifest), flush=True)


def check(log, manifests, wait):
    sent = {}
    for path in manifests:
        with open(path) as f:
            for line in f:
                if line.startswith("#"):
                    continue
                i, kind, counted, sha, what = line.rstrip("\n").split(" ", 4)
                sent[int(i)] = (kind, sha, what)
    valid = {i for i, v in sent.items() if v[0] == "V"}
    deadline = time.monotonic() + wait
    while True:
        udp, raw, bad = {}, {}, []
        with open(log) as f:
            for line in f:
                w = line.split()
                if w[0] == "U":
                    udp.setdefault(w[1], []).append(w[3])
                elif w[0] == "R":
                    raw[w[1]] = raw.get(w[1], 0) + 1
        got = {int(i) for i in udp if i != "-"}
        if valid <= got or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    for i, shas in udp.items():
        if i == "-" or int(i) not in sent:
            bad.append("a datagram never sent was delivered (tag %s)" % i)
            continue
        kind, sha, what = sent[int(i)]
        if kind == "M":
            bad.append("mutant %s delivered: %s" % (i, what))
        elif kind == "V" and (len(shas) > 1 or shas[0] != sha):
            bad.append("valid %s delivered %d times%s: %s" % (
                i, len(shas), "" if sha in shas else ", altered", what))
    for i in raw:
        if i != "-" and int(i) in sent and sent[int(i)][0] == "M" and i not in udp:
            bad.append("mutant %s passed LOCAL_IN: %s" % (i, sent[int(i)][2]))
    missing = sorted(valid - got)
    for i in missing[:10]:
        bad.append("valid %d not delivered: %s" % (i, sent[i][2]))
    if len(missing) > 10:
        bad.append("... %d valid not delivered in all" % len(missing))
    may = sum(1 for i in got if sent.get(i, ("?",))[0] == "P")
    print("delivered: %d of %d valid, %d of the may-deliver, %d must-drop mutants" % (
        len(valid & got), len(valid), may, sum(1 for i in got if sent.get(i, ("?",))[0] == "M")))
    for b in bad:
        print("FAIL: " + b)
    return 1 if bad else 0


def main():
    a = sys.argv[1:]
    if not a:
        sys.exit(__doc__)
    if a[0] == "config":
        config()
    elif a[0] == "listen":
        listen(a[1])
    elif a[0] == "serve":
        serve(a[1])
    elif a[0] == "check":
        wait = 0
        if "--wait" in a:
            i = a.index("--wait")
            wait = float(a[i + 1])
            del a[i:i + 2]
        sys.exit(check(a[1], a[2:], wait))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
