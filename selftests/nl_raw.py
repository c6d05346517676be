#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Send malformed nfsec netlink requests by hand; each must be refused
with an error and an extended-ACK message (containing the case's text,
where it gives one). Exits 1 on the first that is
accepted or refused without a message.

  nl_raw.py aead SPI NAME KEYHEX [ICV]
      add an ESP SA 10.9.0.1 -> 10.9.0.2 with that AEAD, without the ICV
      length attribute unless ICV is given (the tool always sends one)
  nl_raw.py allocspi
      SA_ALLOCSPI requests the tool would not send (proto comp, an SPI,
      a timeout of 0, no proto, IPv4 src with IPv6 dst, ...); then a
      well-formed one of each family is accepted and released
  nl_raw.py move
      adds an SA, then SA_MOVE requests of it the tool would not send (a
      key, an algorithm, a lifetime, the SPI, its mode, IPv6 addresses, an
      encap with port 0, the validate flag, ...): each refused with its
      message, the SA's SA_GET reply the same after them; the SA is deleted

Also a small library for other raw-netlink tests (genl_fuzz.py): attr(),
nest(), parse_attrs(), Genl.header(), Genl.transact(), Genl.dump()."""
import os
import socket
import struct
import sys

NETLINK_GENERIC = 16
NETLINK_CAP_ACK, NETLINK_EXT_ACK = 10, 11
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK, NLM_F_DUMP_INTR = 1, 2, 4, 0x10
NLM_F_DUMP, NLM_F_CAPPED = 0x300, 0x100
NLMSG_NOOP, NLMSG_ERROR, NLMSG_DONE = 1, 2, 3
NLMSGERR_ATTR_MSG = 1
GENL_ID_CTRL, CTRL_CMD_GETFAMILY = 0x10, 3
CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME, CTRL_ATTR_MCAST_GROUPS = 1, 2, 7
NLA_F_NESTED = 1 << 15

# From module/uapi/nfsec.h.
SA_ADD, SA_DEL, SA_GET, POLICY_ADD, SA_ALLOCSPI, SA_MOVE = 1, 3, 4, 6, 15, 17
A_SA, A_POLICY, A_STATS, A_VALIDATE, A_MOVE_TO = 1, 2, 3, 9, 15
A_SPI_MIN, A_SPI_MAX, A_SPI_TIMEOUT = 10, 11, 12
SA_SRC, SA_DST, SA_PROTO, SA_SPI, SA_REQID, SA_MODE, SA_FLAGS = 1, 2, 3, 4, 5, 6, 7
SA_REPLAY, SA_AEAD = 8, 9
ALG_NAME, ALG_KEY, ALG_ICV, ALG_KEY_LEN = 1, 2, 3, 4
POL_SEL, POL_DIR, POL_TMPL = 1, 2, 6
TMPL_PROTO, TMPL_LEVEL = 3, 7
SEL_SRC_PLEN = 2


def attr(t, payload):
    n = 4 + len(payload)
    return struct.pack("=HH", n, t) + payload + b"\0" * ((4 - n % 4) % 4)


def nest(t, *attrs):
    return attr(t | NLA_F_NESTED, b"".join(attrs))


def parse_attrs(buf):
    """[(type without flag bits, payload)], in order; stops at a bad one."""
    out, off = [], 0
    while off + 4 <= len(buf):
        ln, t = struct.unpack_from("=HH", buf, off)
        if ln < 4 or off + ln > len(buf):
            break
        out.append((t & 0x3fff, buf[off + 4:off + ln]))
        off += (ln + 3) & ~3
    return out


class Reply:
    """One netlink message received: type, flags, seq, body (after nlmsghdr);
    for NLMSG_ERROR also err (positive errno, 0 for an ACK) and msg (extack)."""

    def __init__(self, data):
        _, self.type, self.flags, self.seq, _ = struct.unpack_from("=LHHLL", data)
        self.body = data[16:]
        self.err, self.msg = None, ""
        if self.type == NLMSG_ERROR:
            self.err = -struct.unpack_from("=i", data, 16)[0]
            self.msg = Genl._msg(data, self.flags)
        elif self.type == NLMSG_DONE and len(self.body) >= 4:
            self.err = -struct.unpack_from("=i", self.body)[0]
            self.msg = dict(parse_attrs(self.body[4:])).get(NLMSGERR_ATTR_MSG, b"")
            self.msg = self.msg.rstrip(b"\0").decode(errors="replace")


class Genl:
    def __init__(self, cap_ack=False, timeout=None):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        self.s.setsockopt(270, NETLINK_EXT_ACK, 1)  # SOL_NETLINK
        if cap_ack:  # errors do not echo the request (its keys)
            self.s.setsockopt(270, NETLINK_CAP_ACK, 1)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        if timeout:
            self.s.settimeout(timeout)
        self.s.bind((0, 0))
        self.seq = 1
        self.raw = []  # every datagram received by transact(), if kept
        self.buf = bytearray(1 << 17)  # more than a dump part or capped error

    def header(self, family, cmd, payload, flags=NLM_F_REQUEST | NLM_F_ACK,
               version=1, reserved=0, seq=None, length=None):
        """A whole message; length overrides nlmsg_len (to lie about it)."""
        if seq is None:
            self.seq += 1
            seq = self.seq
        n = 20 + len(payload) if length is None else length
        return struct.pack("=LHHLLBBH", n, family, flags, seq, 0, cmd, version,
                           reserved) + payload

    def transact(self, raw, dumps=()):
        """Send @raw (one or more messages) in one datagram, then a NOOP
        with NLM_F_ACK that the kernel acknowledges without looking further.
        Every reply to @raw comes before that ACK, except the later parts of
        a dump: read those until NLMSG_DONE or an error for each seq in
        @dumps that got any reply. Returns [Reply]."""
        self.s.send(raw)
        self.seq += 1
        sentinel = self.seq
        self.s.send(struct.pack("=LHHLL", 16, NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK,
                                sentinel, 0))
        out, seen, done, acked = [], set(), set(), False
        while not acked or (seen - done):
            data = bytes(self.buf[:self.s.recv_into(self.buf)])
            self.raw.append(data)
            off = 0
            while off + 16 <= len(data):
                ln = struct.unpack_from("=L", data, off)[0]
                if ln < 16:
                    break
                r = Reply(data[off:off + ln])
                off += (ln + 3) & ~3
                if r.seq == sentinel and r.type == NLMSG_ERROR:
                    acked = True
                    continue
                out.append(r)
                if r.seq in dumps:
                    seen.add(r.seq)
                    if r.type in (NLMSG_DONE, NLMSG_ERROR):
                        done.add(r.seq)
        return out

    def dump(self, family, cmd, payload=b""):
        """(interrupted, [attribute payload of each reply]) of a dump."""
        raw = self.header(family, cmd, payload, NLM_F_REQUEST | NLM_F_DUMP)
        seq = self.seq
        objs, intr = [], False
        for r in self.transact(raw, dumps=(seq,)):
            if r.err:
                raise OSError(r.err, f"dump {cmd}: {r.msg}")
            if r.type == family and r.seq == seq:
                objs.append(r.body[4:])
            intr |= bool(r.flags & NLM_F_DUMP_INTR)
        return intr, objs

    def request(self, family, cmd, payload):
        self.seq += 1
        hdr = struct.pack("=LHHLL", 16 + 4 + len(payload), family,
                          NLM_F_REQUEST | NLM_F_ACK, self.seq, 0)
        self.s.send(hdr + struct.pack("=BBH", cmd, 1, 0) + payload)
        reply = b""
        while True:
            data = self.s.recv(65536)
            off = 0
            while off < len(data):
                ln, typ, flags, seq, _ = struct.unpack_from("=LHHLL", data, off)
                if typ == NLMSG_ERROR:
                    err = -struct.unpack_from("=i", data, off + 16)[0]
                    return err, self._msg(data[off:off + ln], flags), reply
                if seq == self.seq and typ == family:
                    reply = data[off + 20:off + ln]
                    off += (ln + 3) & ~3
                    continue
                off += (ln + 3) & ~3
            # a data reply comes before the ACK: keep reading

    @staticmethod
    def _msg(msg, flags):
        # The error message echoes the request unless NLM_F_CAPPED (0x100).
        plen = 16 + 4 + (16 if flags & 0x100 else
                         struct.unpack_from("=L", msg, 20)[0])
        off = (plen + 3) & ~3
        while off + 4 <= len(msg):
            ln, t = struct.unpack_from("=HH", msg, off)
            if ln < 4:
                break
            if t & 0x3fff == NLMSGERR_ATTR_MSG:
                return msg[off + 4:off + ln].rstrip(b"\0").decode()
            off += (ln + 3) & ~3
        return ""

    def family_info(self, name):
        """(family id, {multicast group name: id})"""
        raw = self.header(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                          attr(CTRL_ATTR_FAMILY_NAME, name.encode() + b"\0"))
        fid, groups = None, {}
        for r in self.transact(raw):
            if r.err:
                raise OSError(r.err, f"family {name}: {r.msg}")
            for t, v in parse_attrs(r.body[4:]):
                if t == CTRL_ATTR_FAMILY_ID:
                    fid = struct.unpack_from("=H", v)[0]
                elif t == CTRL_ATTR_MCAST_GROUPS:
                    for _, g in parse_attrs(v):
                        d = dict(parse_attrs(g))
                        groups[d[1].rstrip(b"\0").decode()] = struct.unpack("=L", d[2])[0]
        return fid, groups

    def family(self, name):
        err, _, _ = 0, "", b""
        self.seq += 1
        payload = attr(CTRL_ATTR_FAMILY_NAME, name.encode() + b"\0")
        hdr = struct.pack("=LHHLL", 20 + len(payload), GENL_ID_CTRL, NLM_F_REQUEST,
                          self.seq, 0)
        self.s.send(hdr + struct.pack("=BBH", CTRL_CMD_GETFAMILY, 1, 0) + payload)
        data = self.s.recv(65536)
        off = 20
        while off < len(data):
            ln, t = struct.unpack_from("=HH", data, off)
            if t == CTRL_ATTR_FAMILY_ID:
                return struct.unpack_from("=H", data, off + 4)[0]
            off += (ln + 3) & ~3
        sys.exit("nfsec family not found")


def ip(a):
    return socket.inet_aton(a)


GCM_KEY = bytes(range(20))
GOOD_ID = [attr(SA_SRC, ip("10.9.0.1")), attr(SA_DST, ip("10.9.0.2")),
           attr(SA_PROTO, b"\x32"), attr(SA_SPI, struct.pack(">L", 0x9000))]
GOOD_AEAD = nest(SA_AEAD, attr(ALG_NAME, b"rfc4106(gcm(aes))\0"),
                 attr(ALG_KEY, GCM_KEY), attr(ALG_ICV, struct.pack("=L", 128)))

CASES = [
    ("SA add without the SA nest", SA_ADD, b""),
    ("truncated SPI (2 bytes)", SA_ADD,
     nest(A_SA, *GOOD_ID[:3], attr(SA_SPI, b"\0\x01"), GOOD_AEAD)),
    ("address of 3 bytes", SA_ADD,
     nest(A_SA, attr(SA_SRC, b"\x0a\0\0"), *GOOD_ID[1:], GOOD_AEAD)),
    ("oversized key (200 bytes)", SA_ADD,
     nest(A_SA, *GOOD_ID, nest(SA_AEAD, attr(ALG_NAME, b"rfc4106(gcm(aes))\0"),
                               attr(ALG_KEY, bytes(200)),
                               attr(ALG_ICV, struct.pack("=L", 128))))),
    ("algorithm name without NUL", SA_ADD,
     nest(A_SA, *GOOD_ID, nest(SA_AEAD, attr(ALG_NAME, b"rfc4106(gcm(aes))"),
                               attr(ALG_KEY, GCM_KEY)))),
    ("algorithm name of 100 bytes", SA_ADD,
     nest(A_SA, *GOOD_ID, nest(SA_AEAD, attr(ALG_NAME, b"a" * 99 + b"\0"),
                               attr(ALG_KEY, GCM_KEY)))),
    ("key length attribute sent in", SA_ADD,
     nest(A_SA, *GOOD_ID, nest(SA_AEAD, attr(ALG_NAME, b"rfc4106(gcm(aes))\0"),
                               attr(ALG_KEY, GCM_KEY),
                               attr(ALG_KEY_LEN, struct.pack("=L", 160))))),
    ("unknown SA attribute", SA_ADD, nest(A_SA, *GOOD_ID, GOOD_AEAD, attr(99, b"\0" * 4))),
    ("proto 17", SA_ADD, nest(A_SA, *GOOD_ID[:2], attr(SA_PROTO, b"\x11"),
                               GOOD_ID[3], GOOD_AEAD)),
    ("mode 7", SA_ADD, nest(A_SA, *GOOD_ID, GOOD_AEAD, attr(SA_MODE, b"\x07"))),
    ("unknown flag bits", SA_ADD,
     nest(A_SA, *GOOD_ID, GOOD_AEAD, attr(SA_FLAGS, struct.pack("=L", 0x80)))),
    ("replay window 65536", SA_ADD,
     nest(A_SA, *GOOD_ID, GOOD_AEAD, attr(SA_REPLAY, struct.pack("=L", 65536)))),
    ("algorithm nest that is not a nest", SA_ADD,
     nest(A_SA, *GOOD_ID, attr(SA_AEAD, b"\x01\x02\x03\x04\x05"))),
    ("SA nest cut short", SA_ADD, attr(A_SA | NLA_F_NESTED, b"\x08\x00\x01")),
    ("stats attribute sent in", SA_ADD, nest(A_SA, *GOOD_ID, GOOD_AEAD) + attr(A_STATS, b"")),
    ("policy without dir", POLICY_ADD, nest(A_POLICY, nest(POL_SEL))),
    ("policy dir 9", POLICY_ADD, nest(A_POLICY, attr(POL_DIR, b"\x09"))),
    ("selector prefix 33", POLICY_ADD,
     nest(A_POLICY, attr(POL_DIR, b"\x01"), nest(POL_SEL, attr(SEL_SRC_PLEN, b"\x21")))),
    ("template level use", POLICY_ADD,
     nest(A_POLICY, attr(POL_DIR, b"\x01"),
          nest(POL_TMPL, attr(TMPL_PROTO, b"\x32"), attr(TMPL_LEVEL, b"\x01"))),
     "level use"),
    ("unknown command 200", 200, b""),
]


ALLOC_ID = [attr(SA_DST, ip("10.9.0.2")), attr(SA_PROTO, b"\x32")]
SA_SRC6, SA_DST6 = 21, 22
DST6 = socket.inet_pton(socket.AF_INET6, "2001:db8::2")
ALLOC_ID6 = [attr(SA_DST6, DST6), ALLOC_ID[1]]


def be32(v):
    return struct.pack(">L", v)


ALLOCSPI_CASES = [
    ("allocspi without the SA nest", SA_ALLOCSPI, b"", "missing the SA"),
    ("allocspi without proto", SA_ALLOCSPI, nest(A_SA, ALLOC_ID[0]), "needs dst and proto"),
    ("allocspi without dst", SA_ALLOCSPI, nest(A_SA, ALLOC_ID[1]), "needs dst and proto"),
    ("allocspi proto comp (108)", SA_ALLOCSPI,
     nest(A_SA, ALLOC_ID[0], attr(SA_PROTO, b"\x6c"))),
    ("allocspi with an SPI", SA_ALLOCSPI,
     nest(A_SA, *ALLOC_ID, attr(SA_SPI, be32(0x9000))), "chooses the SPI"),
    ("allocspi with an algorithm", SA_ALLOCSPI, nest(A_SA, *ALLOC_ID, GOOD_AEAD)),
    ("allocspi min 0 max 0", SA_ALLOCSPI,
     nest(A_SA, *ALLOC_ID) + attr(A_SPI_MIN, be32(0)) + attr(A_SPI_MAX, be32(0)),
     "SPI 0 is reserved"),
    ("allocspi min above max", SA_ALLOCSPI,
     nest(A_SA, *ALLOC_ID) + attr(A_SPI_MIN, be32(0x200)) + attr(A_SPI_MAX, be32(0x100)),
     "min is above max"),
    ("allocspi timeout 0", SA_ALLOCSPI,
     nest(A_SA, *ALLOC_ID) + attr(A_SPI_TIMEOUT, struct.pack("=L", 0))),
    ("allocspi timeout 3601", SA_ALLOCSPI,
     nest(A_SA, *ALLOC_ID) + attr(A_SPI_TIMEOUT, struct.pack("=L", 3601))),
    ("allocspi min of 2 bytes", SA_ALLOCSPI,
     nest(A_SA, *ALLOC_ID) + attr(A_SPI_MIN, b"\0\1")),
    ("allocspi dst6 of 4 bytes", SA_ALLOCSPI,
     nest(A_SA, attr(SA_DST6, ip("10.9.0.2")), ALLOC_ID[1])),
    ("allocspi dst and dst6", SA_ALLOCSPI, nest(A_SA, *ALLOC_ID, attr(SA_DST6, DST6)),
     "both an IPv4 and an IPv6 address"),
    ("allocspi IPv4 src, IPv6 dst", SA_ALLOCSPI,
     nest(A_SA, attr(SA_SRC, ip("10.9.0.1")), *ALLOC_ID6), "an IPv4 address with an IPv6 one"),
]


TO = [attr(SA_SRC, ip("10.9.1.1")), attr(SA_DST, ip("10.9.1.2"))]
MOVE_ID = nest(A_SA, *GOOD_ID)
SA_SEL, SA_ENCAP, SA_LFT, SA_OSEQ = 12, 13, 14, 16
MOVE_CASES = [
    ("move with a key in the new place", SA_MOVE,
     MOVE_ID + nest(A_MOVE_TO, *TO, GOOD_AEAD), "keeps the SA's keys"),
    ("move with a key beside the SA's id", SA_MOVE,
     nest(A_SA, *GOOD_ID, GOOD_AEAD) + nest(A_MOVE_TO, *TO), "keeps the SA's keys"),
    ("move with a lifetime", SA_MOVE,
     MOVE_ID + nest(A_MOVE_TO, *TO, nest(SA_LFT)), "Unsupported attribute"),
    ("move with an oseq", SA_MOVE,
     MOVE_ID + nest(A_MOVE_TO, *TO, attr(SA_OSEQ, struct.pack("=Q", 1))),
     "Unsupported attribute"),
    ("move with a selector in the id", SA_MOVE,
     nest(A_SA, *GOOD_ID, nest(SA_SEL)) + nest(A_MOVE_TO, *TO), "Unsupported attribute"),
    ("move to another SPI", SA_MOVE,
     MOVE_ID + nest(A_MOVE_TO, *TO, attr(SA_SPI, struct.pack(">L", 0x9001))), "keeps the SPI"),
    ("move to tunnel mode", SA_MOVE,
     MOVE_ID + nest(A_MOVE_TO, *TO, attr(SA_MODE, b"\x01")), "Unsupported attribute"),
    ("move with an encap beside the SA's id", SA_MOVE,
     nest(A_SA, *GOOD_ID, nest(SA_ENCAP)) + nest(A_MOVE_TO, *TO), "new encap in NFSEC_A_MOVE_TO"),
    ("move without where to", SA_MOVE, MOVE_ID, "needs where to"),
    ("move without the new src", SA_MOVE, MOVE_ID + nest(A_MOVE_TO, TO[1]), "new src and dst"),
    ("move to IPv6 addresses", SA_MOVE,
     MOVE_ID + nest(A_MOVE_TO, attr(SA_SRC6, DST6), attr(SA_DST6, DST6)),
     "cannot change the SA's address family"),
    ("move to an IPv4 src and IPv6 dst", SA_MOVE,
     MOVE_ID + nest(A_MOVE_TO, TO[0], attr(SA_DST6, DST6)), "an IPv4 address with an IPv6"),
    ("move with encap dport 0", SA_MOVE,
     MOVE_ID + nest(A_MOVE_TO, *TO, nest(SA_ENCAP, attr(1, struct.pack("=H", 2)),
                                         attr(2, struct.pack(">H", 4500)),
                                         attr(3, struct.pack(">H", 0)))), "non-zero ports"),
    ("move of another src", SA_MOVE,
     nest(A_SA, attr(SA_SRC, ip("10.9.0.3")), *GOOD_ID[1:]) + nest(A_MOVE_TO, *TO),
     "its src is another"),
    ("move of no SA", SA_MOVE,
     nest(A_SA, *GOOD_ID[:3], attr(SA_SPI, struct.pack(">L", 0x9999))) + nest(A_MOVE_TO, *TO),
     "no such SA to move"),
    ("move, validate only", SA_MOVE, MOVE_ID + nest(A_MOVE_TO, *TO) + attr(A_VALIDATE, b""),
     "validate is for add and update only"),
]


def move():
    g = Genl()
    fam = g.family("nfsec")
    err, msg, _ = g.request(fam, SA_ADD, nest(A_SA, *GOOD_ID, GOOD_AEAD))
    if err:
        sys.exit(f"sa add: {os.strerror(err)}: {msg}")
    _, _, before = g.request(fam, SA_GET, MOVE_ID)
    bad = run_cases(g, fam, MOVE_CASES)
    _, _, after = g.request(fam, SA_GET, MOVE_ID)
    if after != before:
        print("# FAIL: the SA changed under the refused moves")
        bad += 1
    else:
        print("# ok: the SA is as it was (SA_GET reply the same)")
    g.request(fam, SA_DEL, MOVE_ID)
    sys.exit(1 if bad else 0)


def run_cases(g, fam, cases):
    bad = 0
    for what, cmd, payload, *want in cases:
        err, msg, _ = g.request(fam, cmd, payload)
        if err == 0:
            print(f"# FAIL: {what}: accepted")
            bad += 1
        elif not msg and cmd != 200:
            print(f"# FAIL: {what}: refused ({os.strerror(err)}) without a message")
            bad += 1
        elif want and want[0] not in msg:
            print(f"# FAIL: {what}: {os.strerror(err)}: message lacks '{want[0]}': {msg}")
            bad += 1
        else:
            print(f"# ok: {what}: {os.strerror(err)}: {msg}")
    return bad


def allocspi():
    g = Genl()
    fam = g.family("nfsec")
    bad = run_cases(g, fam, ALLOCSPI_CASES)
    # Well formed, of each family: accepted, the reply names the dst and the
    # one SPI of the range; SA_DEL of it releases the reservation.
    for what, ident, dst_t, dst in (("IPv4", ALLOC_ID, SA_DST, ip("10.9.0.2")),
                                    ("IPv6", ALLOC_ID6, SA_DST6, DST6)):
        err, msg, reply = g.request(fam, SA_ALLOCSPI, nest(A_SA, *ident) +
                                    attr(A_SPI_MIN, be32(0x9100)) +
                                    attr(A_SPI_MAX, be32(0x9100)))
        sa = dict(parse_attrs(dict(parse_attrs(reply)).get(A_SA, b"")))
        if err:
            print(f"# FAIL: the well-formed {what} allocspi was refused: {msg}")
            bad += 1
        elif sa.get(dst_t) != dst or sa.get(SA_SPI) != be32(0x9100):
            print(f"# FAIL: {what} allocspi reply: dst {sa.get(dst_t)}, spi {sa.get(SA_SPI)}")
            bad += 1
        else:
            print(f"# ok: a well-formed {what} allocspi is accepted, SPI 0x9100")
        err, msg, _ = g.request(fam, SA_DEL, nest(A_SA, *ident, attr(SA_SPI, be32(0x9100))))
        if err:
            print(f"# FAIL: {what}: sa del of the reservation: {msg}")
            bad += 1
    sys.exit(1 if bad else 0)


def add_aead(spi, name, key, icv):
    g = Genl()
    alg = [attr(ALG_NAME, name.encode() + b"\0"), attr(ALG_KEY, bytes.fromhex(key))]
    if icv is not None:
        alg.append(attr(ALG_ICV, struct.pack("=L", icv)))
    sa = nest(A_SA, *GOOD_ID[:3], attr(SA_SPI, struct.pack(">L", spi)), nest(SA_AEAD, *alg))
    err, msg, _ = g.request(g.family("nfsec"), SA_ADD, sa)
    if err:
        sys.exit(f"sa add: {os.strerror(err)}: {msg}")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "allocspi":
        allocspi()
        return
    if len(sys.argv) > 1 and sys.argv[1] == "move":
        move()
        return
    if len(sys.argv) > 1 and sys.argv[1] == "aead":
        icv = int(sys.argv[5], 0) if len(sys.argv) > 5 else None
        add_aead(int(sys.argv[2], 0), sys.argv[3], sys.argv[4], icv)
        return
    g = Genl()
    fam = g.family("nfsec")
    bad = run_cases(g, fam, CASES)
    # The same request, well formed, is accepted and then removed.
    err, msg, _ = g.request(fam, SA_ADD, nest(A_SA, *GOOD_ID, GOOD_AEAD))
    if err:
        print(f"# FAIL: the well-formed request was refused: {msg}")
        bad += 1
    g.request(fam, SA_DEL, nest(A_SA, *GOOD_ID))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
