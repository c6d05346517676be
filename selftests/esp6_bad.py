#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Bad IPv6 input for nfsec's receive path: the sender of selftests/esp6_bad.sh.

  esp6_bad.py serve IFNAME SRC_MAC DST_MAC
        print the receiver's `nfsec -batch` lines (its SAs, then its policies), then "ready";
        then for each line "CASE" of stdin send CASE's frames out of IFNAME (AF_PACKET, from
        SRC_MAC to DST_MAC) and after them the marker, a valid datagram through the transport
        SA; answer "sent N MARKER CARRIED": N frames, the sha256 of the marker's UDP payload and
        of the one CASE's packets carry ("-" if none)
  esp6_bad.py pcap FILE CASE...
        write the frames of the CASEs to FILE (Ethernet pcap), to look at them with tshark

Topology (lib.sh's tunnel_hosts and tunnel_hosts6): the sender fd00::1 on a veth to the
receiver fd00::2; tunnels carry fd01::1 -> fd02::1 (6in6) and 10.1.0.1 -> 10.2.0.1 (4in6). Each
datagram goes to UDP port 9000 and carries a payload of its own ("esp6_bad CASE SERIAL").
The receiver's SAs, all AES-GCM-128 from fd00::1 to fd00::2:

  0x100  transport
  0x200  tunnel, no selector: one of the SA's family, IPv6 (6in6)
  0x300  tunnel, selector 10.1.0.1 -> 10.2.0.1: IPv4 only (4in6)
  0x400  transport, ESP in UDP 4500 -> 4500

and its in policies, each for UDP and with a template that names no reqid: fd00::1 -> fd00::2
through a transport SA, fd01::1 -> fd02::1 and 10.1.0.1 -> 10.2.0.1 through a tunnel SA. Either
tunnel SA satisfies either tunnel policy: only the SA's selector keeps IPv4 out of 0x200 and
IPv6 out of 0x300.
"""
import errno
import hashlib
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from esp_pkt import (DSTOPTS, FRAGMENT, HOPOPTS, Sa, ether, frag_header,  # noqa: E402
                     ip6_fragments, ip6_packet, ip_checksum, ip_header, opts_header,
                     pseudo_header, udp_datagram)

SND, RCV = "fd00::1", "fd00::2"
IN6_SRC, IN6_DST = "fd01::1", "fd02::1"
IN4_SRC, IN4_DST = "10.1.0.1", "10.2.0.1"
PORT, SPORT, NATT = 9000, 40000, 4500
WINDOW = 64

# spi: mode, extra words of `nfsec sa add`
SAS = {
    0x100: ("transport", ""),
    0x200: ("tunnel", ""),
    0x300: ("tunnel", " sel src %s/32 dst %s/32" % (IN4_SRC, IN4_DST)),
    0x400: ("transport", " encap espinudp %d %d ::" % (NATT, NATT)),
}


def key_of(spi):
    """AES-128 key and 4-byte salt"""
    return hashlib.sha256(b"nfsec esp6_bad %d" % spi).digest()[:20]


def config():
    for spi, (mode, extra) in SAS.items():
        print("sa add src %s dst %s proto esp spi %#x mode %s replay-window %d "
              "aead 'rfc4106(gcm(aes))' 0x%s 128%s" % (SND, RCV, spi, mode, WINDOW,
                                                       key_of(spi).hex(), extra))
    tmpl = "tmpl src %s dst %s proto esp mode" % (SND, RCV)
    print("policy add src %s/128 dst %s/128 proto udp dir in %s transport" % (SND, RCV, tmpl))
    print("policy add src %s/128 dst %s/128 proto udp dir in %s tunnel" % (IN6_SRC, IN6_DST, tmpl))
    print("policy add src %s/32 dst %s/32 proto udp dir in %s tunnel" % (IN4_SRC, IN4_DST, tmpl))


class Sender:
    def __init__(self):
        self.sas = {spi: Sa(spi, SND, RCV, mode=mode, alg="gcm", key=key_of(spi),
                            encap=(NATT, NATT) if "encap" in extra else None)
                    for spi, (mode, extra) in SAS.items()}
        self.seqs = {spi: 0 for spi in SAS}
        self.serial = 0
        self.ident = 0x6b00

    # -- building blocks
    def payload(self, what, n=0):
        """A UDP payload of its own, N bytes longer than its tag."""
        self.serial += 1
        return b"esp6_bad %s %d " % (what.encode(), self.serial) + b"\x5a" * n

    def new_ident(self):
        self.ident += 1
        return self.ident

    def next_seq(self, spi):
        """SA SPI's next sequence number, and the IV that goes with it (never twice a key's)"""
        self.seqs[spi] += 1
        return self.seqs[spi], struct.pack("!Q", self.seqs[spi])

    def esp(self, spi, nexthdr, data):
        """SA SPI's ESP (SPI to ICV) around DATA, with its next sequence number."""
        seq, iv = self.next_seq(spi)
        return self.sas[spi].esp(seq, data, nexthdr, iv)

    def packet(self, spi, nexthdr, data, **kw):
        """The whole packet of SA SPI around DATA (see Sa.packet())."""
        seq, iv = self.next_seq(spi)
        return self.sas[spi].packet(seq, data, nexthdr, iv, **kw)

    def udp(self, what, src=SND, dst=RCV, n=0):
        """(UDP datagram from SRC to DST:9000, its payload)"""
        p = self.payload(what, n)
        return udp_datagram(src, dst, SPORT, PORT, p), p

    def inner6(self, what, exts=(), plen=None):
        """(an IPv6 packet fd01::1 -> fd02::1 with a datagram, its payload)"""
        udp, p = self.udp(what, IN6_SRC, IN6_DST)
        return ip6_packet(IN6_SRC, IN6_DST, exts, 17, udp, plen=plen), p

    def inner4(self, what):
        udp, p = self.udp(what, IN4_SRC, IN4_DST)
        return ip_header(IN4_SRC, IN4_DST, 17, 20 + len(udp)) + udp, p

    def transport(self, what, exts=()):
        """(a valid transport-mode packet through 0x100, behind the extension headers EXTS;
        its payload)"""
        udp, p = self.udp(what)
        return self.packet(0x100, 17, udp, exts=exts), p

    # -- the cases: each returns (IPv6 packets, the payload they carry or None)
    def case_valid(self):
        pkt, p = self.transport("valid")
        return [pkt], p

    def case_opts1(self):
        pkt, p = self.transport("opts1", [(DSTOPTS, opts_header())])
        return [pkt], p

    def case_opts8(self):
        # 8 bytes each: the stack, which processes them after nfsec took ESP out, drops a
        # header with more than 7 bytes of padding in a row (RFC 4942 2.1.9.5)
        pkt, p = self.transport("opts8", [(DSTOPTS, opts_header())] * 8)
        return [pkt], p

    def case_opts9(self):
        pkt, p = self.transport("opts9", [(DSTOPTS, opts_header())] * 9)
        return [pkt], p

    def case_hop_first(self):
        pkt, p = self.transport("hop_first", [(HOPOPTS, opts_header())])
        return [pkt], p

    def case_hop_second(self):
        pkt, p = self.transport("hop_second", [(DSTOPTS, opts_header()), (HOPOPTS, opts_header())])
        return [pkt], p

    def case_trunc_opts(self):
        """Destination options that claim 2048 bytes, then a valid ESP packet."""
        pkt, p = self.transport("trunc_opts", [(DSTOPTS, opts_header(hdrlen=255))])
        return [pkt], p

    def case_trunc_chain(self):
        """The payload ends 2 bytes into a destination options header."""
        return [ip6_packet(SND, RCV, [], DSTOPTS, bytes([50, 0]))], None

    def case_clear_opts9(self):
        """A cleartext datagram behind 9 destination options headers."""
        udp, p = self.udp("clear_opts9")
        return [ip6_packet(SND, RCV, [(DSTOPTS, opts_header())] * 9, 17, udp)], p

    def frag_esp(self, what, n=600):
        """(a valid ESP packet of 0x100 to fragment, its payload, a cut near its middle)"""
        udp, p = self.udp(what, n=n)
        esp = self.esp(0x100, 17, udp)
        return esp, p, len(esp) // 16 * 8

    def case_frag2(self):
        esp, p, cut = self.frag_esp("frag2")
        return ip6_fragments(SND, RCV, 50, esp, [(0, cut, True), (cut, len(esp), False)],
                             self.new_ident()), p

    def case_frag2_rev(self):
        esp, p, cut = self.frag_esp("frag2_rev")
        return ip6_fragments(SND, RCV, 50, esp, [(cut, len(esp), False), (0, cut, True)],
                             self.new_ident()), p

    def case_frag_atomic(self):
        """A fragment header at offset 0 without M (RFC 6946)."""
        esp, p, _ = self.frag_esp("frag_atomic", 0)
        return ip6_fragments(SND, RCV, 50, esp, [(0, len(esp), False)], self.new_ident()), p

    def case_frag_overlap(self):
        """The second fragment starts 8 bytes early, with the same bytes there."""
        esp, p, cut = self.frag_esp("frag_overlap")
        return ip6_fragments(SND, RCV, 50, esp, [(0, cut, True), (cut - 8, len(esp), False)],
                             self.new_ident()), p

    def case_frag_twice(self):
        """Two atomic fragment headers in a row."""
        esp, p, _ = self.frag_esp("frag_twice", 0)
        exts = [(FRAGMENT, frag_header(0, False, self.new_ident())),
                (FRAGMENT, frag_header(0, False, self.new_ident()))]
        return [ip6_packet(SND, RCV, exts, 50, esp)], p

    def case_frag_before_hop(self):
        """An atomic fragment header, then hop-by-hop."""
        esp, p, _ = self.frag_esp("frag_before_hop", 0)
        exts = [(FRAGMENT, frag_header(0, False, self.new_ident())), (HOPOPTS, opts_header())]
        return [ip6_packet(SND, RCV, exts, 50, esp)], p

    def case_frag_incomplete(self):
        """Two datagrams that never complete: a first fragment alone, and a first and a last
        one with a hole between them."""
        esp, p, cut = self.frag_esp("frag_incomplete_head")
        pkts = ip6_fragments(SND, RCV, 50, esp, [(0, cut, True)], self.new_ident())
        esp, p, cut = self.frag_esp("frag_incomplete_hole")
        pkts += ip6_fragments(SND, RCV, 50, esp, [(0, cut - 64, True), (cut, len(esp), False)],
                              self.new_ident())
        return pkts, None

    def case_6in6(self):
        inner, p = self.inner6("6in6")
        return [self.packet(0x200, 41, inner)], p

    def case_6in6_opts(self):
        inner, p = self.inner6("6in6_opts", [(DSTOPTS, opts_header())])
        return [self.packet(0x200, 41, inner)], p

    def case_6in6_plen_long(self):
        """The inner payload length one byte more than there is."""
        inner, p = self.inner6("6in6_plen_long")
        inner = inner[:4] + struct.pack("!H", len(inner) - 40 + 1) + inner[6:]
        return [self.packet(0x200, 41, inner)], p

    def case_6in6_plen_zero(self):
        inner, p = self.inner6("6in6_plen_zero", plen=0)
        return [self.packet(0x200, 41, inner)], p

    def case_6in6_hop(self):
        inner, p = self.inner6("6in6_hop", [(HOPOPTS, opts_header())])
        return [self.packet(0x200, 41, inner)], p

    def case_4in6(self):
        inner, p = self.inner4("4in6")
        return [self.packet(0x300, 4, inner)], p

    def case_4in_6in6(self):
        """IPv4 inside the SA whose selector is IPv6."""
        inner, p = self.inner4("4in_6in6")
        return [self.packet(0x200, 4, inner)], p

    def case_6in_4in6(self):
        """IPv6 inside the SA whose selector is IPv4."""
        inner, p = self.inner6("6in_4in6")
        return [self.packet(0x300, 41, inner)], p

    def udp_esp(self, what):
        """(ESP in UDP through 0x400, its payload) whose right UDP checksum is not 0xffff (a
        zero one would be right too then, in ones' complement: case_udp_zero_ffff)"""
        while True:
            udp, p = self.udp(what)
            pkt = self.packet(0x400, 17, udp)
            if pkt[46:48] != b"\xff\xff":
                return pkt, p

    def case_udp_ok(self):
        pkt, p = self.udp_esp("udp_ok")
        return [pkt], p

    def case_udp_bad_csum(self):
        """The right checksum with one bit flipped."""
        pkt, p = self.udp_esp("udp_bad_csum")
        return [pkt[:46] + bytes([pkt[46] ^ 0x40]) + pkt[47:]], p

    def case_udp_zero_csum(self):
        pkt, p = self.udp_esp("udp_zero_csum")
        return [pkt[:46] + b"\0\0" + pkt[48:]], p

    def case_udp_zero_ffff(self):
        """A zero checksum where the right one is 0xffff (ones' complement -0, the same sum as
        0): a NAT-mapped source port chosen for it. RFC 8200 8.1: zero is never valid."""
        udp, p = self.udp("udp_zero_ffff")
        pkt = bytearray(self.packet(0x400, 17, udp, sport=0, ucsum=False))
        dgram = bytes(pkt[40:])
        c = ip_checksum(pseudo_header(SND, RCV, 17, len(dgram)) + dgram + b"\0" * (len(dgram) % 2))
        pkt[40:42] = struct.pack("!H", c or 0xFFFF)
        return [bytes(pkt)], p

    def marker(self):
        return self.transport("marker")


def hexsha(p):
    return hashlib.sha256(p).hexdigest() if p is not None else "-"


def serve(ifname, src_mac, dst_mac):
    config()
    snd = Sender()
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    print("ready", flush=True)
    for line in sys.stdin:
        name = line.strip()
        if not name:
            continue
        pkts, p = getattr(snd, "case_" + name)()
        mark, mp = snd.marker()
        for pkt in pkts + [mark]:
            while True:
                try:
                    s.send(ether(dst_mac, src_mac, pkt))
                    break
                except OSError as e:
                    if e.errno != errno.ENOBUFS:
                        raise
                    time.sleep(0.005)
        print("sent %d %s %s" % (len(pkts), hexsha(mp), hexsha(p)), flush=True)


def pcap(path, names):
    snd = Sender()
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for name in names:
            pkts, _ = getattr(snd, "case_" + name)()
            for pkt in pkts:
                fr = ether("02:00:00:00:00:02", "02:00:00:00:00:01", pkt)
                f.write(struct.pack("<IIII", 0, 0, len(fr), len(fr)) + fr)


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "serve":
        serve(*sys.argv[2:])
    elif len(sys.argv) > 3 and sys.argv[1] == "pcap":
        pcap(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
