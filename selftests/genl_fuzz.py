#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A seeded fuzzer of nfsec's generic netlink family, run in a fresh netns.

  genl_fuzz.py fuzz [COUNT]      COUNT messages (default $FUZZ_COUNT or
                                 2000): valid, just-invalid, mutated, random
                                 and bad-header requests of every command,
                                 then dumps racing writers in other
                                 processes, then unprivileged senders;
                                 leaves the netns empty (flush) at the end
  genl_fuzz.py flood SPI DST ALG KEYHEX ICV SEL-SRC SEL-DST COUNT
                                 COUNT updates of an SA (same keys) and of
                                 the out policy naming it, while packets
                                 run through them, with GETs and dumps

FUZZ_SEED=N reproduces a run: the seed is printed first. The fuzzer keeps a
model of the SAs and policies its requests made, checks every reply against
it and the final state against a dump; every error must carry an extended
ACK message, except the few the generic netlink core refuses without one
(unknown command, no dump handler, message shorter than its headers,
EPERM); no reply may contain a byte pattern of a key it sent. Exits 1 at
the first failure, printing the seed and the last requests."""
import collections
import ctypes
import errno
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nl_raw import (Genl, attr, nest, parse_attrs, NLA_F_NESTED,  # noqa: E402
                    NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP, NLMSG_ERROR, NLMSG_DONE)

# module/uapi/nfsec.h
SA_ADD, SA_UPDATE, SA_DEL, SA_GET, SA_FLUSH = 1, 2, 3, 4, 5
POL_ADD, POL_DEL, POL_GET, POL_FLUSH = 6, 7, 8, 9
STATS_GET, VERSION_GET, POL_UPDATE = 10, 11, 12
SA_ALLOCSPI, SA_MOVE = 15, 17
OPS = (*range(1, 13), SA_ALLOCSPI, SA_MOVE)     # 13, 14 and 16 are events only
DUMPABLE = (SA_GET, POL_GET)
CHANGES = (SA_ADD, SA_UPDATE, SA_DEL, SA_FLUSH, POL_ADD, POL_DEL, POL_FLUSH,
           POL_UPDATE, SA_MOVE)
A_SA, A_POLICY, A_STATS, A_VERSION, A_SA_COUNT, A_POLICY_COUNT = 1, 2, 3, 4, 5, 6
A_VALIDATE = 9
A_SPI_MIN, A_SPI_MAX, A_SPI_TIMEOUT, A_SPI_COUNT = 10, 11, 12, 13
A_MOVE_TO = 15
(S_SRC, S_DST, S_PROTO, S_SPI, S_REQID, S_MODE, S_FLAGS, S_REPLAY, S_AEAD,
 S_ENC, S_AUTH, S_SEL, S_ENCAP, S_LFT, S_SEQ, S_OSEQ, S_MSS) = range(1, 18)
S_DST6 = 22
S_MAX = 20
ALG_NAME, ALG_KEY, ALG_ICV, ALG_KEY_LEN = 1, 2, 3, 4
SEL_SRC, SEL_SPLEN, SEL_DST, SEL_DPLEN, SEL_PROTO, SEL_SPORT, SEL_DPORT = range(1, 8)
ENC_TYPE, ENC_SPORT, ENC_DPORT, ENC_OADDR = 1, 2, 3, 4
P_SEL, P_DIR, P_PRIO, P_ACTION, P_INDEX, P_TMPL = 1, 2, 3, 4, 5, 6
P_MAX = 8
T_SRC, T_DST, T_PROTO, T_SPI, T_MODE, T_REQID, T_LEVEL = range(1, 8)
ESP, AH = 50, 51
U32, U64 = 0xffffffff, 0xffffffffffffffff
F_ESN, F_ALIGN4 = 1, 2

# Every key the fuzzer sends of 8 bytes or more starts with this: no reply
# may contain it. Keys are made of it and a counter, so a reply can also be
# scanned for any 8 bytes of any key.
MAGIC = b"\xc4\x1e\x5e\xc7\x4b\x3f"
LONG_SECONDS = 10 ** 7  # lifetimes in seconds: none ends during a run


def u8(v): return struct.pack("=B", v & 0xff)
def u16(v): return struct.pack("=H", v & 0xffff)
def be16(v): return struct.pack(">H", v & 0xffff)
def u32(v): return struct.pack("=L", v & U32)
def be32(v): return struct.pack(">L", v & U32)
def u64(v): return struct.pack("=Q", v & U64)
def ip(a): return socket.inet_aton(a)
def ipn(b): return socket.inet_ntoa(b)


def get(d, t, fmt, default=None):
    v = d.get(t)
    return struct.unpack(fmt, v)[0] if v is not None else default


# A request is a tree: ["a", type, payload] or ["n", type, [children]];
# a nest is sent with NLA_F_NESTED unless its type already has that bit
# (a mutation flips it).
def A(t, v): return ["a", t, v]
def N(t, *c): return ["n", t, list(c)]


def encode(node):
    if node[0] == "a":
        return attr(node[1], node[2])
    return attr(node[1] ^ NLA_F_NESTED, b"".join(encode(c) for c in node[2]))


class Fail(Exception):
    pass


# ---------------------------------------------------------------- records

def mask(plen):
    return (U32 << (32 - plen)) & U32 if plen else 0


def canon_sel(d):
    """As nfsec_nl_parse_sel() does: default prefix /32 for an address,
    host bits cleared."""
    src = get(d, SEL_SRC, ">L", 0)
    dst = get(d, SEL_DST, ">L", 0)
    splen = get(d, SEL_SPLEN, "=B", 32 if src else 0)
    dplen = get(d, SEL_DPLEN, "=B", 32 if dst else 0)
    return (src & mask(splen), splen, dst & mask(dplen), dplen,
            get(d, SEL_PROTO, "=B", 0), get(d, SEL_SPORT, ">H", 0),
            get(d, SEL_DPORT, ">H", 0))


def parse_alg(v):
    d = dict(parse_attrs(v))
    return (d[ALG_NAME].rstrip(b"\0").decode(), get(d, ALG_KEY_LEN, "=L"),
            get(d, ALG_ICV, "=L"))


def parse_sa(body):
    """An SA record from the attributes of a reply (dump, get, event)."""
    top = dict(parse_attrs(body))
    d = dict(parse_attrs(top[A_SA]))
    algs = tuple(parse_alg(d[t]) if t in d else None for t in (S_AEAD, S_ENC, S_AUTH))
    enc = None
    if S_ENCAP in d:
        e = dict(parse_attrs(d[S_ENCAP]))
        enc = (get(e, ENC_TYPE, "=H"), get(e, ENC_SPORT, ">H"), get(e, ENC_DPORT, ">H"),
               get(e, ENC_OADDR, ">L"))
    lft = dict(parse_attrs(d[S_LFT]))
    return dict(src=get(d, S_SRC, ">L"), dst=get(d, S_DST, ">L"), proto=get(d, S_PROTO, "=B"),
                spi=get(d, S_SPI, ">L"), reqid=get(d, S_REQID, "=L"), mode=get(d, S_MODE, "=B"),
                flags=get(d, S_FLAGS, "=L"), replay=get(d, S_REPLAY, "=L"),
                mss=get(d, S_MSS, "=H"), algs=algs, sel=canon_sel(dict(parse_attrs(d[S_SEL]))),
                encap=enc, lft=tuple(get(lft, i, "=Q") for i in range(1, 9)),
                seq=get(d, S_SEQ, "=Q"), oseq=get(d, S_OSEQ, "=Q"))


def parse_pol(body):
    top = dict(parse_attrs(body))
    d = dict(parse_attrs(top[A_POLICY]))
    tmpl = None
    if P_TMPL in d:
        t = dict(parse_attrs(d[P_TMPL]))
        tmpl = (get(t, T_SRC, ">L"), get(t, T_DST, ">L"), get(t, T_PROTO, "=B"),
                get(t, T_SPI, ">L"), get(t, T_MODE, "=B"), get(t, T_REQID, "=L"),
                get(t, T_LEVEL, "=B"))
    return dict(sel=canon_sel(dict(parse_attrs(d[P_SEL]))), dir=get(d, P_DIR, "=B"),
                prio=get(d, P_PRIO, "=L"), action=get(d, P_ACTION, "=B"),
                index=get(d, P_INDEX, "=L"), tmpl=tmpl)


def sa_id(r): return (r["dst"], r["spi"], r["proto"])


def sa_sane(r):
    """What nfsec refuses to add must not come about otherwise either."""
    if not r["flags"] & F_ESN and max(r["seq"], r["oseq"]) > U32:
        return "sequence numbers above 2^32 without flag esn"
    return None
def pol_id(r): return (r["dir"], r["sel"])


def ephemeral(r):
    """An SA a hard add-time lifetime removes during the run."""
    return 0 < r["lft"][5] < LONG_SECONDS


# ---------------------------------------------------------------- the fuzzer

class Fuzzer:
    def __init__(self, seed):
        self.seed = seed
        self.rng = random.Random(seed)
        self.g = Genl(cap_ack=True, timeout=30)
        self.fam, self.groups = self.g.family_info("nfsec")
        self.sas = {}       # id -> record
        self.pols = {}      # (dir, sel) -> record
        self.keyno = 0
        self.chunks = set()  # every 8 bytes of every key sent
        self.sent = collections.Counter()
        self.errnos = collections.Counter()
        self.log = collections.deque(maxlen=12)
        self.n = 0
        self.steps = 0
        self.took = collections.Counter()

    # ---- helpers
    def fail(self, why):
        raise Fail(why)

    def key(self, n):
        """@n key bytes, marked for the leak scan when long enough."""
        self.keyno += 1
        if n < len(MAGIC) + 2:
            return bytes(self.rng.randrange(256) for _ in range(n))
        body = struct.pack(">Q", self.keyno * 0x9e3779b97f4a7c15 & U64) * 8
        k = (MAGIC + body)[:n]
        if len(self.chunks) < 400000:
            self.chunks.update(k[i:i + 8] for i in range(len(k) - 7))
        return k

    def scan(self, thorough=False):
        """No datagram received may carry a key's bytes."""
        for data in self.g.raw:
            if MAGIC in data:
                self.fail(f"a reply carries key bytes: {data.hex()}")
            if thorough and self.chunks:
                for i in range(len(data) - 7):
                    if data[i:i + 8] in self.chunks:
                        self.fail(f"a reply carries 8 bytes of a key at {i}: {data.hex()}")
        self.g.raw.clear()

    def addr(self, zero=True):
        pool = ["10.0.0.1", "10.0.0.2", "10.9.8.7", "192.0.2.1", "255.255.255.255"]
        if zero:
            pool.append("0.0.0.0")
        return self.rng.choice(pool)

    def pick(self, *vals):
        return self.rng.choice(vals)

    # ---- sending
    def send(self, cmd, payload, what, flags=NLM_F_REQUEST | NLM_F_ACK, version=1,
             reserved=0, length=None, raw=None):
        self.n += 1
        self.log.append(f"{self.n}: {what}")
        if raw is None:
            raw = self.g.header(self.fam, cmd, payload, flags, version, reserved, length=length)
        seq = self.g.seq
        dump = flags & NLM_F_DUMP == NLM_F_DUMP and flags & NLM_F_REQUEST
        replies = self.g.transact(raw, dumps=(seq,) if dump else ())
        self.scan()
        mine = [r for r in replies if r.seq == seq]
        if len(mine) != len(replies):
            self.fail(f"{what}: replies to another seq: {[(r.type, r.seq) for r in replies]}")
        err = [r for r in mine if r.type in (NLMSG_ERROR, NLMSG_DONE)]
        data = [r for r in mine if r.type == self.fam]
        if err and err[-1].err:
            self.errnos[errno.errorcode.get(err[-1].err, err[-1].err)] += 1
        return (err[-1] if err else None), data

    def expect(self, cmd, tree, what, want=0, msg=None, **kw):
        """Send; the outcome is known: errno @want (0: success), and for an
        error a message, containing @msg if given. Returns the data replies."""
        payload = b"".join(encode(t) for t in tree)
        e, data = self.send(cmd, payload, what, **kw)
        if e is None:
            self.fail(f"{what}: no ACK")
        if e.err != want and not (want is None and e.err):
            self.fail(f"{what}: got {os.strerror(e.err) if e.err else 'success'}"
                      f" ({e.msg}), want {os.strerror(want) if want else 'an error'}")
        if want and not e.msg:
            self.fail(f"{what}: refused ({os.strerror(want)}) without an extack message")
        if msg and msg.lower() not in e.msg.lower():
            self.fail(f"{what}: message '{e.msg}' lacks '{msg}'")
        return data

    # ---- state
    def dump_state(self):
        """(SAs, policies) as nfsec reports them; retried while interrupted."""
        for _ in range(20):
            i1, sas = self.g.dump(self.fam, SA_GET)
            i2, pols = self.g.dump(self.fam, POL_GET)
            self.scan(thorough=True)
            if not i1 and not i2:
                break
        else:
            self.fail("dumps interrupted 20 times in a row with nothing else running")
        return (self.by_id("SA", sas, parse_sa, sa_id),
                self.by_id("policy", pols, parse_pol, pol_id))

    def by_id(self, what, msgs, parse, key):
        out = {}
        for b in msgs:
            r = parse(b)
            if key(r) in out:
                self.fail(f"{what} {key(r)} twice in one dump")
            out[key(r)] = r
        return out

    def drop_expired(self, ks):
        for k in [k for k, r in self.sas.items() if ephemeral(r) and k not in ks]:
            del self.sas[k]

    def compare(self, where):
        ks, kp = self.dump_state()
        self.drop_expired(ks)
        for name, model, got in (("SA", self.sas, ks), ("policy", self.pols, kp)):
            for k in model.keys() | got.keys():
                if k not in got:
                    self.fail(f"{where}: {name} {k} of the model is not in the dump")
                if k not in model:
                    self.fail(f"{where}: {name} {k} in the dump was never made: {got[k]}")
                if model[k] != got[k]:
                    self.fail(f"{where}: {name} {k}: dump {got[k]}, model {model[k]}")
                if name == "SA" and sa_sane(got[k]):
                    self.fail(f"{where}: SA {k}: {sa_sane(got[k])}: {got[k]}")

    def adopt(self, cmd, payload, what):
        """A request of unknown outcome succeeded: the state may differ from
        the model only as @cmd allows; then the model takes the new state."""
        ks, kp = self.dump_state()
        self.drop_expired(ks)
        top = dict(parse_attrs(payload))
        sa_new = ks.keys() - self.sas.keys()
        sa_gone = self.sas.keys() - ks.keys()
        sa_diff = {k for k in ks.keys() & self.sas.keys() if ks[k] != self.sas[k]}
        p_new = kp.keys() - self.pols.keys()
        p_gone = self.pols.keys() - kp.keys()
        p_diff = {k for k in kp.keys() & self.pols.keys() if kp[k] != self.pols[k]}
        ok = True
        if cmd == SA_ADD:
            ok = len(sa_new) == 1 and not sa_gone and not sa_diff
        elif cmd == SA_UPDATE:
            ok = not sa_new and not sa_gone and len(sa_diff) <= 1
            if sa_diff:
                k = next(iter(sa_diff))
                old, new = self.sas[k], ks[k]
                ok &= old["seq"] == new["seq"] and old["oseq"] == new["oseq"] and \
                    old["replay"] == new["replay"]
        elif cmd == SA_DEL:
            ok = len(sa_gone) == 1 and not sa_new and not sa_diff
        elif cmd == SA_MOVE:
            # To another dst (one SA gone, one new) or the same (one changed),
            # with the sequence numbers and replay window it had.
            pairs = [(self.sas[g], ks[n]) for g in sa_gone for n in sa_new] + \
                [(self.sas[k], ks[k]) for k in sa_diff]
            ok = len(pairs) <= 1 and len(sa_new) == len(sa_gone) and \
                not (sa_diff and sa_new)
            for old, new in pairs:
                ok &= all(old[f] == new[f] for f in ("spi", "proto", "seq", "oseq", "replay",
                                                     "algs", "lft", "mode", "flags"))
        elif cmd == SA_FLUSH:
            proto = get(dict(parse_attrs(top.get(A_SA, b""))), S_PROTO, "=B", 0)
            ok = not ks if not proto else \
                not any(k[2] == proto for k in ks) and not sa_new and not sa_diff
        if cmd in (SA_ADD, SA_UPDATE, SA_DEL, SA_FLUSH, SA_MOVE):
            ok &= not p_new and not p_gone and not p_diff
        elif cmd in (POL_ADD, POL_UPDATE):
            ok = not sa_new and not sa_gone and not sa_diff and not p_gone
            # An update may replace a policy with its equal: no change seen.
            ok &= (len(p_new) == 1 and not p_diff) or \
                (cmd == POL_UPDATE and not p_new and len(p_diff) <= 1)
            for k in p_diff:
                ok &= kp[k]["index"] == self.pols[k]["index"]
        elif cmd == POL_DEL:
            ok = len(p_gone) == 1 and not p_new and not p_diff
        elif cmd == POL_FLUSH:
            d = get(dict(parse_attrs(top.get(A_POLICY, b""))), P_DIR, "=B")
            ok = not p_new and not p_diff and \
                (not kp if d is None else not any(k[0] == d for k in kp))
        if cmd in (POL_ADD, POL_UPDATE, POL_DEL, POL_FLUSH):
            ok &= not sa_new and not sa_gone and not sa_diff
        if cmd not in CHANGES:
            ok = not (sa_new or sa_gone or sa_diff or p_new or p_gone or p_diff)
        if A_VALIDATE in top:
            # A mutation may add the flag: only adds and updates take it,
            # and then they change nothing.
            ok = cmd in (SA_ADD, SA_UPDATE, POL_ADD, POL_UPDATE) and \
                not (sa_new or sa_gone or sa_diff or p_new or p_gone or p_diff)
        if not ok:
            self.fail(f"{what} succeeded and changed more than it may: SAs new {sa_new} "
                      f"gone {sa_gone} changed {sa_diff}; policies new {p_new} "
                      f"gone {p_gone} changed {p_diff}")
        for k, r in ks.items():
            if sa_sane(r):
                self.fail(f"{what}: SA {k}: {sa_sane(r)}: {r}")
        self.sas, self.pols = ks, kp
        for k in [k for k, r in self.sas.items() if ephemeral(r)]:
            e, _ = self.send(SA_DEL, encode(self.id_tree(k)[0]), f"sa del {k} (ends soon)")
            if e is None or e.err not in (0, errno.ENOENT):
                self.fail(f"sa del {k} (ends soon): {e and e.err}")
            del self.sas[k]

    # ---- valid requests and what they do
    def alg_esp(self):
        """(nests, algs record) of a valid ESP algorithm choice."""
        r = self.rng.randrange(5)
        if r < 2:
            name, keys, icvs, dflt = (("rfc4106(gcm(aes))", (20, 28, 36), (64, 96, 128), 128)
                                      if r == 0 else
                                      ("rfc7539esp(chacha20,poly1305)", (36,), (128,), 128))
            klen, icv = self.rng.choice(keys), self.pick(None, 0, *icvs)
            a = [A(ALG_NAME, name.encode() + b"\0"), A(ALG_KEY, self.key(klen))]
            if icv is not None:
                a.append(A(ALG_ICV, u32(icv)))
            return [N(S_AEAD, *a)], ((name, klen * 8, icv or dflt), None, None)
        auth, arec = self.alg_hmac()
        if r == 2:
            return [auth], (None, ("ecb(cipher_null)", 0, 0), arec)
        if r == 3:
            name = self.pick("ecb(cipher_null)", "cipher_null")
            e = [A(ALG_NAME, name.encode() + b"\0")] + \
                ([A(ALG_KEY, b"")] if self.rng.random() < .5 else [])
            return [N(S_ENC, *e), auth], (None, ("ecb(cipher_null)", 0, 0), arec)
        klen = self.pick(16, 24, 32)
        name = self.pick("cbc(aes)", "aes")
        e = N(S_ENC, A(ALG_NAME, name.encode() + b"\0"), A(ALG_KEY, self.key(klen)))
        return [e, auth], (None, ("cbc(aes)", klen * 8, 0), arec)

    def alg_hmac(self):
        icv = self.pick(None, 0, 96, 128, 256)
        a = [A(ALG_NAME, self.pick(b"hmac(sha256)\0", b"sha256\0")), A(ALG_KEY, self.key(32))]
        if icv is not None:
            a.append(A(ALG_ICV, u32(icv)))
        return N(S_AUTH, *a), ("hmac(sha256)", 256, icv or 96)

    def sel(self, t):
        """A selector nest of type @t and its canonical record."""
        a = []
        for at, pt in ((SEL_SRC, SEL_SPLEN), (SEL_DST, SEL_DPLEN)):
            if self.rng.random() < .6:
                a.append(A(at, ip(self.addr())))
            if self.rng.random() < .5:
                a.append(A(pt, u8(self.pick(0, 1, 8, 16, 24, 31, 32))))
        proto = self.pick(None, 0, 1, 6, 17, 50, 132)
        if proto is not None:
            a.append(A(SEL_PROTO, u8(proto)))
        if proto in (6, 17, 132):
            for pt in (SEL_SPORT, SEL_DPORT):
                if self.rng.random() < .5:
                    a.append(A(pt, be16(self.pick(0, 1, 443, 65535))))
        self.rng.shuffle(a)
        n = N(t, *a)
        return n, canon_sel(dict((c[1], c[2]) for c in a))

    def lifetime(self):
        a, v = [], [U64] * 8
        for i in range(8):
            if self.rng.random() < .3:
                if i in (4, 5, 6, 7):  # seconds
                    x = self.pick(0, LONG_SECONDS, 1 << 32, U64 - 1, U64)
                else:
                    x = self.pick(0, 1, 1000, U32, U64 - 1, U64)
                a.append(A(i + 1, u64(x)))
                v[i] = x
        return N(S_LFT, *a), tuple(v)

    def sa_ident(self):
        if self.sas and self.rng.random() < .5:
            return self.rng.choice(list(self.sas))
        return (struct.unpack(">L", ip(self.addr()))[0],
                self.pick(1, 0x1000, 0x1001, 0x1002, 0x1003, 0x7fffffff, U32,
                          0x2000 + self.rng.randrange(64)), self.pick(ESP, AH))

    def valid_sa(self, ident=None):
        """(tree, record) of an SA add request that must be accepted."""
        dst, spi, proto = ident or self.sa_ident()
        mode = self.pick(0, 1)
        src = struct.unpack(">L", ip(self.addr(zero=mode == 0)))[0]
        if mode == 1 and not dst:
            mode = 0
        replay = self.pick(0, 0, 1, 32, 64, 4095, 4096)
        flags = self.pick(0, 0, F_ALIGN4) | (F_ESN if replay and self.rng.random() < .3 else 0)
        top = U64 if flags & F_ESN else U32
        seq, oseq = self.pick(0, 1, top - 1, top, None), self.pick(0, 1, top - 1, top, None)
        reqid, mss = self.pick(0, 1, 7, U32 - 1, U32), self.pick(0, 88, 1400, 65534, 0xffff)
        a = [A(S_SRC, be32(src)), A(S_DST, be32(dst)), A(S_PROTO, u8(proto)),
             A(S_SPI, be32(spi))]
        for t, v, enc, dflt in ((S_MODE, mode, u8, 0), (S_REQID, reqid, u32, 0),
                                (S_FLAGS, flags, u32, 0), (S_REPLAY, replay, u32, 0),
                                (S_MSS, mss, u16, 0), (S_SEQ, seq, u64, None),
                                (S_OSEQ, oseq, u64, None)):
            if v is not None and (v != dflt or self.rng.random() < .5):
                a.append(A(t, enc(v)))
        if proto == ESP:
            algs_t, algs = self.alg_esp()
        else:
            auth, arec = self.alg_hmac()
            algs_t, algs = [auth], (None, None, arec)
        a += algs_t
        sel = (0, 0, 0, 0, 0, 0, 0)
        if self.rng.random() < .5:
            n, sel = self.sel(S_SEL)
            a.append(n)
        encap = None
        if proto == ESP and self.rng.random() < .25:
            sp, dp = self.pick(4500, 1, 65535), self.pick(4500, 1, 65535)
            oa = self.pick(None, "0.0.0.0", "10.0.0.9")
            e = [A(ENC_TYPE, u16(2)), A(ENC_SPORT, be16(sp)), A(ENC_DPORT, be16(dp))]
            if oa:
                e.append(A(ENC_OADDR, ip(oa)))
            a.append(N(S_ENCAP, *e))
            encap = (2, sp, dp, struct.unpack(">L", ip(oa or "0.0.0.0"))[0])
        lft = (U64,) * 8
        if self.rng.random() < .4:
            n, lft = self.lifetime()
            a.append(n)
        self.rng.shuffle(a)
        rec = dict(src=src, dst=dst, proto=proto, spi=spi, reqid=reqid, mode=mode, flags=flags,
                   replay=replay, mss=mss, algs=algs, sel=sel, encap=encap, lft=lft,
                   seq=seq or 0, oseq=oseq or 0)
        return [N(A_SA, *a)], rec

    def id_tree(self, ident):
        dst, spi, proto = ident
        return [N(A_SA, A(S_DST, be32(dst)), A(S_SPI, be32(spi)), A(S_PROTO, u8(proto)))]

    def valid_pol(self, existing=False):
        if existing and self.pols:
            d, sel_rec = self.rng.choice(list(self.pols))
            s = sel_rec
            a = [A(SEL_SRC, be32(s[0])), A(SEL_SPLEN, u8(s[1])), A(SEL_DST, be32(s[2])),
                 A(SEL_DPLEN, u8(s[3])), A(SEL_PROTO, u8(s[4])), A(SEL_SPORT, be16(s[5])),
                 A(SEL_DPORT, be16(s[6]))]
            seln = N(P_SEL, *a)
        else:
            d = self.pick(0, 1, 2)
            seln, sel_rec = self.sel(P_SEL)
        a = [seln, A(P_DIR, u8(d))]
        prio, action = self.pick(0, 1, 100, U32 - 1, U32), self.pick(0, 1)
        if prio or self.rng.random() < .5:
            a.append(A(P_PRIO, u32(prio)))
        if action or self.rng.random() < .5:
            a.append(A(P_ACTION, u8(action)))
        tmpl = None
        if self.rng.random() < .7:
            mode = self.pick(0, 1)
            src = self.addr(zero=mode == 0)
            dst = self.addr(zero=mode == 0)
            proto, spi, reqid = self.pick(ESP, AH), self.pick(0, 1, U32), self.pick(0, 1, U32)
            t = [A(T_PROTO, u8(proto)), A(T_MODE, u8(mode)), A(T_SPI, be32(spi)),
                 A(T_REQID, u32(reqid)), A(T_SRC, ip(src)), A(T_DST, ip(dst))]
            if self.rng.random() < .5:
                t.append(A(T_LEVEL, u8(0)))
            a.append(N(P_TMPL, *t))
            tmpl = (struct.unpack(">L", ip(src))[0], struct.unpack(">L", ip(dst))[0],
                    proto, spi, mode, reqid, 0)
        self.rng.shuffle(a)
        rec = dict(sel=sel_rec, dir=d, prio=prio, action=action, index=None, tmpl=tmpl)
        return [N(A_POLICY, *a)], rec

    def pol_ident_tree(self, rec):
        if self.rng.random() < .5 and rec.get("index"):
            return [N(A_POLICY, A(P_INDEX, u32(rec["index"])))]
        s = rec["sel"]
        return [N(A_POLICY, A(P_DIR, u8(rec["dir"])),
                  N(P_SEL, A(SEL_SRC, be32(s[0])), A(SEL_SPLEN, u8(s[1])),
                    A(SEL_DST, be32(s[2])), A(SEL_DPLEN, u8(s[3])), A(SEL_PROTO, u8(s[4])),
                    A(SEL_SPORT, be16(s[5])), A(SEL_DPORT, be16(s[6]))))]

    def check_sa_reply(self, data, rec, what):
        if len(data) != 1:
            self.fail(f"{what}: {len(data)} data replies")
        got = parse_sa(data[0].body[4:])
        if got != rec:
            self.fail(f"{what}: reply {got}, model {rec}")

    def check_pol_reply(self, data, rec, what):
        if len(data) != 1:
            self.fail(f"{what}: {len(data)} data replies")
        got = parse_pol(data[0].body[4:])
        want = dict(rec, index=got["index"]) if rec["index"] is None else rec
        if got != want:
            self.fail(f"{what}: reply {got}, want {want}")
        if got["index"] & 7 != got["dir"] or got["index"] < 8:
            self.fail(f"{what}: index {got['index']:#x} for dir {got['dir']}")
        return got

    def op_valid(self):
        """One valid request with an outcome the model predicts."""
        r = self.rng.random()
        self.sent["valid"] += 1
        if r < .22:
            tree, rec = self.valid_sa()
            k = sa_id(rec)
            if k in self.sas:
                self.expect(SA_ADD, tree, f"sa add {k} (exists)", errno.EEXIST, "exists")
            else:
                self.expect(SA_ADD, tree, f"sa add {k}")
                self.sas[k] = rec
        elif r < .32:
            tree, rec = self.valid_sa(self.sa_ident())
            k = sa_id(rec)
            old = self.sas.get(k)
            if not old:
                self.expect(SA_UPDATE, tree, f"sa update {k} (none)", errno.ENOENT, "no such SA")
            elif old["replay"] != rec["replay"]:
                self.expect(SA_UPDATE, tree, f"sa update {k} (window)", errno.EINVAL,
                            "replay-window cannot change")
            elif sa_sane(dict(rec, seq=old["seq"], oseq=old["oseq"])):
                self.expect(SA_UPDATE, tree, f"sa update {k} (esn off above 2^32)",
                            errno.EINVAL, "esn")
            else:
                self.expect(SA_UPDATE, tree, f"sa update {k}")
                self.sas[k] = dict(rec, seq=old["seq"], oseq=old["oseq"])
        elif r < .40:
            k = self.sa_ident()
            if k in self.sas:
                self.expect(SA_DEL, self.id_tree(k), f"sa del {k}")
                del self.sas[k]
            else:
                self.expect(SA_DEL, self.id_tree(k), f"sa del {k} (none)", errno.ENOENT,
                            "no such SA")
        elif r < .48:
            k = self.sa_ident()
            if k in self.sas:
                data = self.expect(SA_GET, self.id_tree(k), f"sa get {k}")
                self.check_sa_reply(data, self.sas[k], f"sa get {k}")
                self.scan_data(data)
            else:
                self.expect(SA_GET, self.id_tree(k), f"sa get {k} (none)", errno.ENOENT,
                            "no such SA")
        elif r < .49:
            proto = self.pick(None, ESP, AH)
            tree = [N(A_SA, A(S_PROTO, u8(proto)))] if proto else []
            self.expect(SA_FLUSH, tree, f"sa flush {proto}")
            self.sas = {k: v for k, v in self.sas.items() if proto and k[2] != proto}
        elif r < .53:
            self.op_move()
        elif r < .70:
            cmd = self.pick(POL_ADD, POL_UPDATE)
            tree, rec = self.valid_pol(existing=self.rng.random() < .3)
            k = pol_id(rec)
            name = "policy add" if cmd == POL_ADD else "policy update"
            if k in self.pols and cmd == POL_ADD:
                self.expect(cmd, tree, f"{name} {k} (exists)", errno.EEXIST, "exists")
            else:
                if k in self.pols:
                    rec["index"] = self.pols[k]["index"]
                data = self.expect(cmd, tree, f"{name} {k}")
                got = self.check_pol_reply(data, rec, f"{name} {k}")
                if k not in self.pols and any(p["index"] == got["index"]
                                              for p in self.pols.values()):
                    self.fail(f"{name} {k}: index {got['index']:#x} in use")
                self.pols[k] = got
        elif r < .80:
            rec = self.rng.choice(list(self.pols.values())) if self.pols and \
                self.rng.random() < .7 else self.valid_pol()[1]
            k = pol_id(rec)
            cmd = self.pick(POL_DEL, POL_GET)
            name = "policy del" if cmd == POL_DEL else "policy get"
            tree = self.pol_ident_tree(rec)
            if k in self.pols:
                data = self.expect(cmd, tree, f"{name} {k}")
                if cmd == POL_GET:
                    self.check_pol_reply(data, self.pols[k], f"{name} {k}")
                else:
                    del self.pols[k]
            else:
                self.expect(cmd, tree, f"{name} {k} (none)", errno.ENOENT, "no such policy")
        elif r < .81:
            d = self.pick(None, 0, 1, 2)
            tree = [N(A_POLICY, A(P_DIR, u8(d)))] if d is not None else []
            self.expect(POL_FLUSH, tree, f"policy flush {d}")
            self.pols = {k: v for k, v in self.pols.items() if d is not None and k[0] != d}
        elif r < .87:
            data = self.expect(STATS_GET, [], "stats")
            d = dict(parse_attrs(data[0].body[4:]))
            ks = None
            if any(ephemeral(v) for v in self.sas.values()):
                ks, _ = self.dump_state()
                self.drop_expired(ks)
            # Every SPI reservation was released as soon as it was made.
            got = (get(d, A_SA_COUNT, "=L"), get(d, A_POLICY_COUNT, "=L"),
                   get(d, A_SPI_COUNT, "=L"))
            if got != (len(self.sas), len(self.pols), 0):
                self.fail(f"stats: SA, policy and SPI reservation counts {got}, model "
                          f"{(len(self.sas), len(self.pols), 0)}")
        elif r < .90:
            data = self.expect(VERSION_GET, [], "version")
            v = dict(parse_attrs(data[0].body[4:])).get(A_VERSION, b"")
            if not v.rstrip(b"\0"):
                self.fail(f"version: {data[0].body.hex()}")
        else:
            self.compare(f"after request {self.n}")

    def valid_move(self, k):
        """(tree, record of the moved SA or None) of a well-formed SA_MOVE
        of @k: new addresses, maybe new or no encap, maybe a new reqid."""
        dst, spi, proto = k
        nsrc, ndst = (struct.unpack(">L", ip(self.addr()))[0] for _ in range(2))
        to = [A(S_SRC, be32(nsrc)), A(S_DST, be32(ndst))]
        old = self.sas.get(k)
        rec = dict(old, src=nsrc, dst=ndst) if old else None
        if proto == ESP and self.rng.random() < .3:
            if self.rng.random() < .3:
                to.append(N(S_ENCAP))
                encap = None
            else:
                sp, dp = self.pick(4500, 1, 65535), self.pick(4500, 4501)
                to.append(N(S_ENCAP, A(ENC_TYPE, u16(2)), A(ENC_SPORT, be16(sp)),
                            A(ENC_DPORT, be16(dp))))
                encap = (2, sp, dp, 0)
            if rec:
                rec["encap"] = encap
        if self.rng.random() < .3:
            reqid = self.pick(0, 5, U32)
            to.append(A(S_REQID, u32(reqid)))
            if rec:
                rec["reqid"] = reqid
        if rec:
            # A selector naming the old address as a host names the new one.
            s = list(old["sel"])
            if s[1] == 32 and s[0] == old["src"]:
                s[0] = nsrc
            if s[3] == 32 and s[2] == old["dst"]:
                s[2] = ndst
            rec["sel"] = tuple(s)
        self.rng.shuffle(to)
        return self.id_tree(k) + [N(A_MOVE_TO, *to)], rec

    def op_move(self):
        k = self.sa_ident()
        tree, rec = self.valid_move(k)
        nk = rec and sa_id(rec)
        if not rec:
            self.expect(SA_MOVE, tree, f"sa move {k} (none)", errno.ENOENT, "no such SA")
        elif rec["mode"] == 1 and not (rec["src"] and rec["dst"]):
            self.expect(SA_MOVE, tree, f"sa move {k} to {nk} (tunnel to 0.0.0.0)",
                        errno.EINVAL, "tunnel")
        elif nk != k and nk in self.sas:
            self.expect(SA_MOVE, tree, f"sa move {k} to {nk} (exists)", errno.EEXIST, "exists")
        else:
            self.expect(SA_MOVE, tree, f"sa move {k} to {nk}")
            del self.sas[k]
            self.sas[nk] = rec

    def scan_data(self, data):
        for r in data:
            for c in self.chunks & {r.body[i:i + 8] for i in range(len(r.body) - 7)}:
                self.fail(f"reply carries key bytes {c.hex()}")

    # ---- just invalid: one value past a documented limit
    def op_invalid(self):
        """A valid SA or policy with one thing wrong: refused, with a
        message, and nothing changes."""
        self.sent["invalid"] += 1
        tree, rec = self.valid_sa()
        k = sa_id(rec)
        sa = tree[0][2]

        def setv(t, v):
            sa[:] = [c for c in sa if c[1] != t] + [A(t, v)]

        def alg(t, *c):
            sa[:] = [x for x in sa if x[1] not in (S_AEAD, S_ENC, S_AUTH)] + [N(t, *c)]

        gcm = A(ALG_NAME, b"rfc4106(gcm(aes))\0")
        hmac = A(ALG_NAME, b"hmac(sha256)\0")
        cases = [
            ("SPI 0", lambda: setv(S_SPI, be32(0)), "SPI 0"),
            ("replay window 4097", lambda: setv(S_REPLAY, u32(4097)), ""),
            ("replay window u32 max", lambda: setv(S_REPLAY, u32(U32)), ""),
            ("mode 2", lambda: setv(S_MODE, u8(2)), ""),
            ("proto 49", lambda: setv(S_PROTO, u8(49)), ""),
            ("proto 52", lambda: setv(S_PROTO, u8(52)), ""),
            ("flags 8", lambda: setv(S_FLAGS, u32(8)), ""),
            ("flags u32 max", lambda: setv(S_FLAGS, u32(U32)), ""),
            ("mss 87", lambda: setv(S_MSS, u16(87)), "below TCP"),
            ("mss 1", lambda: setv(S_MSS, u16(1)), "below TCP"),
            ("seq 2^32 without esn",
             lambda: (setv(S_FLAGS, u32(0)), setv(S_SEQ, u64(1 << 32))), "esn"),
            ("oseq 2^32 without esn",
             lambda: (setv(S_FLAGS, u32(0)), setv(S_OSEQ, u64(1 << 32))), "esn"),
            ("esn without replay window",
             lambda: (setv(S_FLAGS, u32(F_ESN)), setv(S_REPLAY, u32(0))), "replay-window"),
            ("no src", lambda: sa.__setitem__(slice(None), [c for c in sa if c[1] != S_SRC]),
             "src"),
            ("no spi", lambda: sa.__setitem__(slice(None), [c for c in sa if c[1] != S_SPI]),
             "spi"),
            ("tunnel from 0.0.0.0",
             lambda: (setv(S_MODE, u8(1)), setv(S_SRC, ip("0.0.0.0"))), "tunnel"),
            ("selector prefix 33",
             lambda: setv(S_SEL, b"") or sa.__setitem__(-1, N(S_SEL, A(SEL_SPLEN, u8(33)))), ""),
            ("selector ports without tcp/udp",
             lambda: sa.__setitem__(slice(None), [c for c in sa if c[1] != S_SEL] +
                                    [N(S_SEL, A(SEL_PROTO, u8(1)), A(SEL_DPORT, be16(80)))]),
             "ports"),
            ("icv 513", lambda: alg(S_AEAD, gcm, A(ALG_KEY, self.key(20)), A(ALG_ICV, u32(513))),
             ""),
            ("gcm icv 32", lambda: alg(S_AEAD, gcm, A(ALG_KEY, self.key(20)), A(ALG_ICV, u32(32))),
             "ICV length"),
            ("gcm icv 127",
             lambda: alg(S_AEAD, gcm, A(ALG_KEY, self.key(20)), A(ALG_ICV, u32(127))), "ICV"),
            ("gcm key 19", lambda: alg(S_AEAD, gcm, A(ALG_KEY, self.key(19))), "key length"),
            ("gcm key 37", lambda: alg(S_AEAD, gcm, A(ALG_KEY, self.key(37))), "key length"),
            ("gcm without key", lambda: alg(S_AEAD, gcm), "key length"),
            ("key of 129 bytes", lambda: alg(S_AEAD, gcm, A(ALG_KEY, self.key(129))), ""),
            ("hmac key 31", lambda: alg(S_AUTH, hmac, A(ALG_KEY, self.key(31))), "key length"),
            ("hmac icv 64",
             lambda: alg(S_AUTH, hmac, A(ALG_KEY, self.key(32)), A(ALG_ICV, u32(64))), ""),
            ("hmac icv 257",
             lambda: alg(S_AUTH, hmac, A(ALG_KEY, self.key(32)), A(ALG_ICV, u32(257))), ""),
            ("name of 64 bytes", lambda: alg(S_AEAD, A(ALG_NAME, b"g" * 63 + b"\0")), ""),
            ("unknown algorithm", lambda: alg(S_AEAD, A(ALG_NAME, b"gcm(des)\0")), "unknown"),
            ("empty algorithm name", lambda: alg(S_AEAD, A(ALG_NAME, b"\0")), "name"),
            ("key length attribute sent in",
             lambda: alg(S_AEAD, gcm, A(ALG_KEY, self.key(20)), A(ALG_KEY_LEN, u32(160))), ""),
            ("encap type 1", lambda: setv(S_ENCAP, b"") or sa.__setitem__(
                -1, N(S_ENCAP, A(ENC_TYPE, u16(1)), A(ENC_SPORT, be16(1)),
                      A(ENC_DPORT, be16(1)))), ""),
            ("encap dport 0", lambda: setv(S_ENCAP, b"") or sa.__setitem__(
                -1, N(S_ENCAP, A(ENC_TYPE, u16(2)), A(ENC_SPORT, be16(1)),
                      A(ENC_DPORT, be16(0)))), ""),
            ("cur attribute sent in", lambda: setv(18, b""), ""),
            ("stats attribute sent in", lambda: setv(19, b""), ""),
            ("unknown SA attribute 21", lambda: setv(21, u32(0)), ""),
        ]
        what, fn, msg = self.rng.choice(cases)
        fn()
        if rec["proto"] == AH and ("gcm" in what or "key" in what or "algorithm" in what or
                                   "name" in what or "encap" in what):
            msg = ""  # AH refuses the encryption algorithm or the encap first
        # The policy refuses with ERANGE or EINVAL; the handlers with EINVAL.
        want = errno.EINVAL if msg else None
        cmd = self.pick(SA_ADD, SA_ADD, SA_UPDATE)
        self.expect(cmd, tree, f"{'sa add' if cmd == SA_ADD else 'sa update'} {k}: {what}",
                    want, msg)
        if self.rng.random() < .3:
            self.pol_invalid()

    def pol_invalid(self):
        tree, rec = self.valid_pol()
        pol = tree[0][2]
        tmpl = [c for c in pol if c[1] == P_TMPL]
        cases = [
            ("dir 3", lambda: pol.append(A(P_DIR, u8(3))), ""),
            ("no dir", lambda: pol.__setitem__(slice(None), [c for c in pol if c[1] != P_DIR]),
             "dir"),
            ("index sent in", lambda: pol.append(A(P_INDEX, u32(9))), "index"),
            ("action 2", lambda: pol.append(A(P_ACTION, u8(2))), ""),
            ("prefix 33", lambda: pol.append(N(P_SEL, A(SEL_DPLEN, u8(33)))), ""),
            ("template without proto", lambda: pol.append(N(P_TMPL, A(T_MODE, u8(0)))), "proto"),
            ("template proto 17", lambda: pol.append(N(P_TMPL, A(T_PROTO, u8(17)))), ""),
            ("template mode 2",
             lambda: pol.append(N(P_TMPL, A(T_PROTO, u8(ESP)), A(T_MODE, u8(2)))), ""),
            ("template level use",
             lambda: pol.append(N(P_TMPL, A(T_PROTO, u8(ESP)), A(T_LEVEL, u8(1)))), "level use"),
            ("template level 2",
             lambda: pol.append(N(P_TMPL, A(T_PROTO, u8(ESP)), A(T_LEVEL, u8(2)))), ""),
            ("tunnel template without endpoints",
             lambda: pol.append(N(P_TMPL, A(T_PROTO, u8(ESP)), A(T_MODE, u8(1)))), "endpoints"),
            ("stats sent in", lambda: pol.append(A(7, b"")), ""),
        ]
        what, fn, msg = self.rng.choice(cases)
        if what.startswith("template") or what.startswith("tunnel"):
            pol[:] = [c for c in pol if c not in tmpl]
        fn()
        want = errno.EOPNOTSUPP if what == "template level use" else \
            errno.EINVAL if msg else None
        cmd = self.pick(POL_ADD, POL_UPDATE)
        self.expect(cmd, tree, f"policy {'add' if cmd == POL_ADD else 'update'}: {what}",
                    want, msg)

    # ---- mutated and random requests: outcome unknown
    def any_valid_tree(self):
        """(cmd, tree) of some valid request."""
        r = self.rng.randrange(8)
        if r < 3:
            return self.pick(SA_ADD, SA_UPDATE), self.valid_sa()[0]
        if r == 3:
            return self.pick(SA_DEL, SA_GET), self.id_tree(self.sa_ident())
        if r < 6:
            return self.pick(POL_ADD, POL_UPDATE), self.valid_pol(self.rng.random() < .3)[0]
        if r == 6:
            rec = self.rng.choice(list(self.pols.values())) if self.pols else self.valid_pol()[1]
            return self.pick(POL_DEL, POL_GET), self.pol_ident_tree(rec)
        if self.rng.random() < .25:
            return SA_ALLOCSPI, self.valid_allocspi()
        if self.rng.random() < .25:
            return SA_MOVE, self.valid_move(self.sa_ident())[0]
        return self.pick(SA_FLUSH, POL_FLUSH, STATS_GET, VERSION_GET), []

    def valid_allocspi(self):
        """An SA_ALLOCSPI request, well formed (it fails only when the range
        is full); unknown() releases what it reserves."""
        dst, _, proto = self.sa_ident()
        sa = [A(S_DST, be32(dst)), A(S_PROTO, u8(proto))]
        if self.rng.random() < .5:
            sa.append(A(S_SRC, ip(self.addr())))
        if self.rng.random() < .5:
            sa.append(A(S_MODE, u8(self.pick(0, 1))))
        if self.rng.random() < .5:
            sa.append(A(S_REQID, u32(self.pick(0, 1, U32))))
        tree = [N(A_SA, *sa)]
        if self.rng.random() < .7:
            lo, hi = self.pick((0x1000, 0x1003), (0x2000, 0x203f), (1, U32), (U32, U32))
            tree += [A(A_SPI_MIN, be32(lo)), A(A_SPI_MAX, be32(hi))]
        if self.rng.random() < .3:
            tree.append(A(A_SPI_TIMEOUT, u32(self.pick(5, 30, 3600))))
        return tree

    def nodes(self, tree):
        out = []
        for n in tree:
            out.append((tree, n))
            if n[0] == "n":
                out += self.nodes(n[2])
        return out

    def boundary(self):
        w = self.pick(0, 1, 2, 4, 8)
        v = self.pick(0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0xffff, 0x10000, 0x7fffffff,
                      U32, 1 << 32, U64 - 1, U64)
        return v.to_bytes(8, "little")[:w] if w else b""

    def mutate(self, tree):
        """Apply 1-3 mutations to @tree in place; return how, for the log."""
        how = []
        for _ in range(self.rng.randint(1, 3)):
            nodes = self.nodes(tree)
            if not nodes:
                tree.append(A(self.rng.randrange(12), self.boundary()))
                how.append("add top attr")
                continue
            parent, n = self.rng.choice(nodes)
            m = self.rng.randrange(11)
            if m == 0:
                parent.remove(n)
                how.append(f"drop {n[1]}")
            elif m == 1:
                parent.insert(self.rng.randrange(len(parent) + 1), list(n))
                how.append(f"duplicate {n[1]}")
            elif m == 2:
                n[1] = self.pick(0, self.rng.randrange(32), 0x3fff, S_MAX + 1, P_MAX + 1)
                how.append(f"type {n[1]}")
            elif m == 3 and n[0] == "a":
                n[2] = n[2][:self.rng.randrange(len(n[2]) + 1)]
                how.append(f"truncate {n[1]}")
            elif m == 4 and n[0] == "a":
                n[2] = n[2] + bytes(self.rng.randint(1, 9))
                how.append(f"extend {n[1]}")
            elif m == 5 and n[0] == "a":
                n[2] = self.boundary()
                how.append(f"boundary {n[1]}={n[2].hex()}")
            elif m == 6:
                n[1] ^= self.pick(NLA_F_NESTED, 1 << 14)
                how.append(f"flag bits {n[1]:#x}")
            elif m == 7 and n[0] == "n":
                n[:] = ["a", n[1] ^ NLA_F_NESTED, b"".join(encode(c) for c in n[2])[
                    :self.rng.randrange(1, 64)]]
                how.append(f"cut nest {n[1]}")
            elif m == 8 and n[0] == "n":
                k = self.rng.randint(50, 3000)
                n[2] += [A(self.rng.randrange(1, 18), self.boundary()) for _ in range(k)]
                how.append(f"oversize nest {n[1]} by {k}")
            elif m == 9 and n[0] == "n":
                n[2].append(N(self.rng.randrange(1, 20), *[A(self.rng.randrange(1, 8),
                                                            self.boundary())
                                                          for _ in range(3)]))
                how.append(f"nest in {n[1]}")
            else:
                parent.insert(self.rng.randrange(len(parent) + 1),
                              A(self.rng.randrange(1, 40), self.boundary()))
                how.append("insert attr")
        return ", ".join(how)

    def random_tree(self, depth=0):
        out = []
        for _ in range(self.rng.randint(0, 6)):
            if depth < 3 and self.rng.random() < .3:
                out.append(N(self.rng.randrange(0, 22), *self.random_tree(depth + 1)))
            else:
                out.append(A(self.rng.randrange(0, 22), self.pick(
                    self.boundary(), self.key(self.rng.randrange(40)),
                    bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(20))))))
        return out

    def unknown(self, cmd, payload, what, flags=NLM_F_REQUEST | NLM_F_ACK, version=1,
                reserved=0):
        """A request whose outcome the model cannot tell: an error needs a
        message (bar the core's few), a success is checked against a dump."""
        e, data = self.send(cmd, payload, what, flags, version, reserved)
        if e is None:
            self.fail(f"{what}: no ACK")
        if e.err:
            core = (cmd not in OPS and e.err == errno.EOPNOTSUPP) or \
                (flags & NLM_F_DUMP == NLM_F_DUMP and cmd not in DUMPABLE and
                 e.err == errno.EOPNOTSUPP)
            if e.err == errno.EPERM:
                self.fail(f"{what}: EPERM for a privileged sender")
            if not core and not e.msg:
                self.fail(f"{what}: refused ({os.strerror(e.err)}) without an extack message")
            return
        if cmd not in OPS:
            self.fail(f"{what}: command {cmd} accepted")
        self.scan_data(data)
        if cmd in CHANGES:
            self.adopt(cmd, payload, what)
        if cmd == SA_ALLOCSPI:
            self.release(payload, data, what)

    def release(self, payload, data, what):
        """Drop the SPI reservation an SA_ALLOCSPI made: the model has
        none, and an SA_UPDATE or SA_DEL of its SPI would succeed. One of a
        timeout of a second or two may have expired (SA_DEL frees it then
        too, and answers ENOENT)."""
        sa = [p for r in data for t, p in parse_attrs(r.body[4:]) if t == A_SA]
        ident = [attr(t, p) for t, p in parse_attrs(sa[0]) if t in (S_DST, S_SPI, S_PROTO,
                                                                  S_DST6)] if sa else []
        if len(ident) != 3:
            self.fail(f"{what}: allocspi accepted, reply without dst, spi and proto: {data}")
        v = dict(parse_attrs(payload)).get(A_SPI_TIMEOUT, b"")
        timeout = struct.unpack_from("=L", v)[0] if len(v) >= 4 else 30
        e, _ = self.send(SA_DEL, nest(A_SA, *ident), f"sa del of what {what} reserved")
        if not e or (e.err and not (e.err == errno.ENOENT and timeout <= 2)):
            self.fail(f"{what}: the reservation it made cannot be deleted: {e and e.err}")

    def op_mutated(self):
        self.sent["mutated"] += 1
        cmd, tree = self.any_valid_tree()
        how = self.mutate(tree)
        payload = b"".join(encode(t) for t in tree)
        if self.rng.random() < .1 and payload:  # flip bytes after encoding
            b = bytearray(payload)
            for _ in range(self.rng.randint(1, 4)):
                b[self.rng.randrange(len(b))] = self.rng.randrange(256)
            payload, how = bytes(b), how + ", bytes flipped"
        if len(payload) > 60000:
            payload = payload[:60000]
        self.unknown(cmd, payload, f"cmd {cmd} mutated: {how}")

    def op_random(self):
        self.sent["random"] += 1
        cmd = self.pick(*OPS, 0, 13, 14, 16, 255, self.rng.randrange(256))
        payload = b"".join(encode(t) for t in self.random_tree())
        if self.rng.random() < .2:
            payload = bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(64)))
        self.unknown(cmd, payload, f"cmd {cmd} random {len(payload)} bytes")

    def op_header(self):
        """Valid payloads behind bad headers; the core's answers are known."""
        self.sent["header"] += 1
        cmd, tree = self.any_valid_tree()
        payload = b"".join(encode(t) for t in tree)
        r = self.rng.randrange(8)
        if r == 0:  # shorter than the netlink header, or lying about its length
            raw = self.g.header(self.fam, cmd, payload)
            cut = self.pick(1, 4, 8, 12, 15)
            if self.rng.random() < .5:
                raw = raw[:cut]
                what = f"datagram of {cut} bytes"
            else:
                n = self.pick(0, 1, 15, len(raw) + 4, len(raw) + 1000, U32)
                raw = struct.pack("=L", n) + raw[4:]
                what = f"nlmsg_len {n} for {len(raw)} bytes"
            e, data = self.send(cmd, b"", what, raw=raw)
            if e or data:
                self.fail(f"{what}: answered ({e and e.err})")
        elif r == 1:  # shorter than the genl header
            n = self.pick(16, 17, 19)
            raw = self.g.header(self.fam, cmd, payload, length=n)[:n]
            e, _ = self.send(cmd, b"", f"message of {n} bytes", raw=raw)
            if not e or e.err != errno.EINVAL:
                self.fail(f"message of {n} bytes: want EINVAL, got {e and e.err}")
        elif r == 2:  # not a request: ignored, acknowledged if asked
            flags = self.pick(0, NLM_F_ACK, NLM_F_ACK | NLM_F_DUMP)
            e, data = self.send(cmd, payload, f"cmd {cmd} flags {flags:#x}", flags=flags)
            if data or (e and e.err) or bool(e) != bool(flags & NLM_F_ACK):
                self.fail(f"cmd {cmd} without NLM_F_REQUEST: answered {e and e.err}")
        elif r == 3:  # flags the core refuses for new families
            flags = NLM_F_REQUEST | NLM_F_ACK | self.pick(0x10, 0x20, 0x100, 0x200, 0x400,
                                                           0x800, 0x1000, 0x8000)
            self.expect(cmd, tree, f"cmd {cmd} flags {flags:#x}", errno.EINVAL,
                        "nlmsg_flags", flags=flags)
        elif r == 4:
            rsv = self.rng.randint(1, 0xffff)
            self.expect(cmd, tree, f"cmd {cmd} reserved {rsv:#x}", errno.EINVAL,
                        "reserved", reserved=rsv)
        elif r == 5:  # dump of a command without one
            if cmd in DUMPABLE:
                cmd = STATS_GET
            e, _ = self.send(cmd, payload, f"dump of cmd {cmd}",
                             flags=NLM_F_REQUEST | NLM_F_DUMP)
            if not e or e.err != errno.EOPNOTSUPP:
                self.fail(f"dump of cmd {cmd}: want EOPNOTSUPP, got {e and e.err}")
        elif r == 6:  # genetlink does not check the version: as with 1
            v = self.pick(0, 2, 255)
            self.unknown(cmd, payload, f"cmd {cmd} version {v}", version=v)
        else:  # a dump with attributes, mutated or not
            c = self.pick(*DUMPABLE)
            t = self.valid_sa()[0] if c == SA_GET else self.valid_pol()[0]
            how = self.mutate(t) if self.rng.random() < .5 else "as is"
            self.unknown(c, b"".join(encode(x) for x in t), f"dump {c} with attrs {how}",
                         flags=NLM_F_REQUEST | NLM_F_DUMP)

    def step(self):
        r = self.rng.random()
        if len(self.sas) > 300 or len(self.pols) > 300:
            self.expect(SA_FLUSH, [], "sa flush (size)")
            self.expect(POL_FLUSH, [], "policy flush (size)")
            self.sas, self.pols = {}, {}
            return
        op = (self.op_valid if r < .45 else self.op_invalid if r < .55 else
              self.op_mutated if r < .80 else self.op_random if r < .90 else self.op_header)
        t = time.monotonic()
        op()
        self.took[op.__name__[3:]] += time.monotonic() - t
        self.steps += 1
        if self.steps % 200 == 0:
            t = time.monotonic()
            self.compare(f"after request {self.n}")
            self.took["compare"] += time.monotonic() - t

    # ---- races: dumps against writers in other processes
    def race(self, workers=3, iters=150):
        base = len(self.sas)
        for i in range(200 - min(base, 200)):  # enough for dumps of many parts
            tree, rec = self.valid_sa((0x0a630000 + i, 0x50000 + i, ESP))
            if sa_id(rec) not in self.sas:
                self.expect(SA_ADD, tree, f"race: static sa {i}")
                self.sas[sa_id(rec)] = rec
        for i in range(100):
            tree = [N(A_POLICY, A(P_DIR, u8(i % 3)),
                      N(P_SEL, A(SEL_SRC, ip(f"10.98.{i}.0")), A(SEL_SPLEN, u8(24))))]
            k = (i % 3, (0x0a620000 + (i << 8), 24, 0, 0, 0, 0, 0))
            if k not in self.pols:
                data = self.expect(POL_ADD, tree, f"race: static policy {i}")
                self.pols[k] = parse_pol(data[0].body[4:])
        pids = []
        for w in range(workers):
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    code = race_worker(self.seed * 31 + w, w, iters)
                finally:
                    os._exit(code)
            pids.append(pid)
        dumps = intr = 0
        alive = set(pids)
        while alive:
            for pid in list(alive):
                p, st = os.waitpid(pid, os.WNOHANG)
                if p:
                    alive.discard(pid)
                    if os.waitstatus_to_exitcode(st):
                        self.fail(f"race worker {pid} failed")
            for cmd in (SA_GET, POL_GET):
                self.n += 1
                i, objs = self.g.dump(self.fam, cmd)
                self.scan()
                dumps, intr = dumps + 1, intr + i
                recs = [parse_sa(b) if cmd == SA_GET else parse_pol(b) for b in objs]
                ids = [sa_id(r) if cmd == SA_GET else pol_id(r) for r in recs]
                if i:
                    continue
                if len(set(ids)) != len(ids):
                    self.fail(f"race: dump {cmd} not interrupted, yet repeats an object")
                model = self.sas if cmd == SA_GET else self.pols
                got = dict(zip(ids, recs))
                for k, r in model.items():
                    if got.get(k) != r and not (cmd == SA_GET and ephemeral(r)):
                        self.fail(f"race: dump {cmd} not interrupted, yet {k} is "
                                  f"{got.get(k)}, not {r}")
        print(f"# race: {workers} writers x {iters} requests, {dumps} dumps meanwhile, "
              f"{intr} of them interrupted (NLM_F_DUMP_INTR)")
        self.compare("after the race")

    # ---- unprivileged senders
    def unprivileged(self):
        sa_tree, _ = self.valid_sa((0x0a0b0c0d, 0x4242, ESP))
        pol_tree, _ = self.valid_pol()
        some_sa = self.rng.choice(list(self.sas)) if self.sas else (1, 1, ESP)
        some_pol = self.rng.choice(list(self.pols.values())) if self.pols else None
        reqs = [(SA_ADD, sa_tree), (SA_UPDATE, self.valid_sa(some_sa)[0]),
                (SA_DEL, self.id_tree(some_sa)), (SA_GET, self.id_tree(some_sa)),
                (SA_FLUSH, []), (POL_ADD, pol_tree), (POL_UPDATE, pol_tree),
                (POL_DEL, self.pol_ident_tree(some_pol) if some_pol else []),
                (POL_GET, self.pol_ident_tree(some_pol) if some_pol else []),
                (POL_FLUSH, []), (STATS_GET, []), (VERSION_GET, []),
                (SA_ALLOCSPI, self.valid_allocspi()),
                (SA_MOVE, self.valid_move(some_sa)[0])]
        msgs = [(cmd, b"".join(encode(t) for t in tree), NLM_F_REQUEST | NLM_F_ACK)
                for cmd, tree in reqs]
        msgs += [(SA_GET, b"", NLM_F_REQUEST | NLM_F_DUMP),
                 (POL_GET, b"", NLM_F_REQUEST | NLM_F_DUMP)]
        inherited = Genl(cap_ack=True, timeout=30)
        for how in ("setuid 65534", "socket opened as root, used as 65534",
                    "user namespace not owning the netns"):
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(r)
                try:
                    out = unpriv_child(how, self.fam, self.groups, msgs, inherited)
                except Exception as ex:  # noqa: BLE001
                    out = f"FAIL: {how}: {ex!r}"
                os.write(w, out.encode())
                os._exit(0)
            os.close(w)
            out = b""
            while True:
                chunk = os.read(r, 65536)
                if not chunk:
                    break
                out += chunk
            os.close(r)
            os.waitpid(pid, 0)
            out = out.decode()
            if not out.startswith("ok"):
                self.fail(f"unprivileged: {out}")
            self.n += len(msgs)
            self.sent["unprivileged"] += len(msgs)
            print(f"# {how}: {out}")
        self.compare("after the unprivileged requests")

    def finish(self):
        self.compare("at the end")
        self.expect(SA_FLUSH, [], "final sa flush")
        self.expect(POL_FLUSH, [], "final policy flush")
        self.sas, self.pols = {}, {}
        self.compare("after the flush")


def unpriv_child(how, fam, groups, msgs, inherited):
    if how.startswith("user namespace"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(0x10000000):  # CLONE_NEWUSER
            return "ok (skipped: no user namespaces: " + os.strerror(ctypes.get_errno()) + ")"
        g = Genl(cap_ack=True, timeout=30)
    elif how.startswith("socket opened as root"):
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
        g = inherited
    else:
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
        g = Genl(cap_ack=True, timeout=30)
    bad = []
    for cmd, payload, flags in msgs:
        raw = g.header(fam, cmd, payload, flags)
        seq = g.seq
        dump = flags & NLM_F_DUMP == NLM_F_DUMP
        rs = g.transact(raw, dumps=(seq,) if dump else ())
        errs = [x.err for x in rs if x.type == NLMSG_ERROR]
        data = [x for x in rs if x.type == fam]
        if errs != [errno.EPERM] or data:
            bad.append(f"cmd {cmd}{' dump' if dump else ''}: {errs}, {len(data)} data")
    try:
        g.s.setsockopt(270, 1, groups["events"])  # NETLINK_ADD_MEMBERSHIP
        bad.append("joined the events group")
    except PermissionError:
        pass
    for data in g.raw:
        if MAGIC in data:
            bad.append("key bytes in a reply")
    if bad:
        return "FAIL: " + "; ".join(bad)
    return f"ok: EPERM for all {len(msgs)} requests, events group refused"


def race_worker(seed, w, iters):
    """Add, update, get and delete SAs and policies of one's own range,
    predicting every outcome; delete them all at the end."""
    f = Fuzzer(seed)
    f.log.clear()
    try:
        for _ in range(iters):
            r = f.rng.random()
            k = (0x0a640000 + (w << 8) + f.rng.randrange(4), 0x60000 + w * 16 + f.rng.randrange(8),
                 f.pick(ESP, AH))
            if r < .35:
                tree, rec = f.valid_sa(k)
                if k in f.sas:
                    f.expect(SA_ADD, tree, f"race sa add {k}", errno.EEXIST)
                else:
                    f.expect(SA_ADD, tree, f"race sa add {k}")
                    f.sas[k] = rec
            elif r < .5 and k in f.sas:
                tree, rec = f.valid_sa(k)
                old = f.sas[k]
                if rec["replay"] == old["replay"] and \
                        not sa_sane(dict(rec, seq=old["seq"], oseq=old["oseq"])):
                    f.expect(SA_UPDATE, tree, f"race sa update {k}")
                    f.sas[k] = dict(rec, seq=f.sas[k]["seq"], oseq=f.sas[k]["oseq"])
            elif r < .6 and k in f.sas:
                data = f.expect(SA_GET, f.id_tree(k), f"race sa get {k}")
                f.check_sa_reply(data, f.sas[k], f"race sa get {k}")
            elif r < .75:
                if k in f.sas:
                    f.expect(SA_DEL, f.id_tree(k), f"race sa del {k}")
                    del f.sas[k]
                else:
                    f.expect(SA_DEL, f.id_tree(k), f"race sa del {k}", errno.ENOENT)
            else:
                d = f.rng.randrange(3)
                sel = (0x0a650000 + (w << 8) + f.rng.randrange(4), 32, 0, 0, 0, 0, 0)
                pk = (d, sel)
                tree = [N(A_POLICY, A(P_DIR, u8(d)), N(P_SEL, A(SEL_SRC, be32(sel[0]))),
                          A(P_PRIO, u32(f.rng.randrange(4))))]
                if pk in f.pols and f.rng.random() < .5:
                    f.expect(POL_DEL, f.pol_ident_tree(f.pols[pk]), f"race policy del {pk}")
                    del f.pols[pk]
                else:
                    data = f.expect(POL_UPDATE, tree, f"race policy update {pk}")
                    got = parse_pol(data[0].body[4:])
                    if pk in f.pols and got["index"] != f.pols[pk]["index"]:
                        f.fail(f"race policy update {pk}: index changed")
                    f.pols[pk] = got
        for k in list(f.sas):
            f.expect(SA_DEL, f.id_tree(k), f"race cleanup sa {k}")
        for rec in list(f.pols.values()):
            f.expect(POL_DEL, f.pol_ident_tree(rec), "race cleanup policy")
        return 0
    except Exception as ex:  # noqa: BLE001
        print(f"# FAIL: race worker {w}: {ex!r}")
        for line in f.log:
            print(f"#   {line}")
        sys.stdout.flush()
        return 1


# ---------------------------------------------------------------- flood

def flood(argv):
    """Update an SA in use (same keys) and the policy using it, over and
    over, while packets run through them; GETs check the sequence numbers
    only go up and the counters survive each update."""
    spi, dst, alg, keyhex, icv, ssrc, sdst, count = argv
    f = Fuzzer(int(os.environ.get("FUZZ_SEED", "1")))
    spi, icv, count = int(spi, 0), int(icv), int(count)
    key = bytes.fromhex(keyhex.removeprefix("0x"))
    f.chunks.update(key[i:i + 8] for i in range(len(key) - 7))
    k = (struct.unpack(">L", ip(dst))[0], spi, ESP)
    data = f.expect(SA_GET, f.id_tree(k), "flood: get")
    first = parse_sa(data[0].body[4:])
    if first["proto"] != ESP or first["mode"] != 1:
        f.fail(f"flood: want a tunnel-mode ESP SA: {first}")
    last_oseq, last_tx, updates = first["oseq"], 0, 0
    pol = [N(A_POLICY, A(P_DIR, u8(1)),
             N(P_SEL, A(SEL_SRC, ip(ssrc)), A(SEL_DST, ip(sdst))),
             N(P_TMPL, A(T_PROTO, u8(ESP)), A(T_MODE, u8(1)), A(T_SRC, be32(first["src"])),
               A(T_DST, be32(first["dst"]))))]
    for i in range(count):
        tree = [N(A_SA, A(S_SRC, be32(first["src"])), A(S_DST, be32(k[0])),
                  A(S_SPI, be32(spi)), A(S_PROTO, u8(ESP)), A(S_MODE, u8(1)),
                  A(S_REPLAY, u32(first["replay"])),
                  A(S_MSS, u16(f.pick(0, 1300, 0xffff))),
                  N(S_LFT, A(1, u64(f.pick(U64, 1 << 40)))),
                  N(S_AEAD, A(ALG_NAME, alg.encode() + b"\0"), A(ALG_KEY, key),
                    A(ALG_ICV, u32(icv))))]
        f.expect(SA_UPDATE, tree, f"flood: sa update {i}")
        f.expect(POL_UPDATE, pol, f"flood: policy update {i}")
        updates += 1
        data = f.expect(SA_GET, f.id_tree(k), f"flood: get {i}")
        f.scan_data(data)
        rec = parse_sa(data[0].body[4:])
        st = dict(parse_attrs(dict(parse_attrs(dict(parse_attrs(data[0].body[4:]))[A_SA]))[19]))
        tx = get(st, 3, "=Q", 0)  # NFSEC_STAT_TX_PACKETS + 1
        if rec["oseq"] < last_oseq or tx < last_tx:
            f.fail(f"flood: update {i}: oseq {last_oseq} -> {rec['oseq']}, "
                   f"tx_packets {last_tx} -> {tx}")
        last_oseq, last_tx = rec["oseq"], tx
        if i % 10 == 0:
            f.dump_state()
    print(f"# flood: {updates} SA and policy updates; oseq {first['oseq']} -> {last_oseq}, "
          f"tx_packets {last_tx}, never going back")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "flood":
        try:
            flood(sys.argv[2:])
        except Fail as ex:
            print(f"# FAIL: {ex}")
            sys.exit(1)
        return
    count = int(sys.argv[2]) if len(sys.argv) > 2 else int(os.environ.get("FUZZ_COUNT", "2000"))
    seed = int(os.environ.get("FUZZ_SEED") or random.SystemRandom().randrange(1 << 32))
    print(f"# genl_fuzz: seed {seed} (FUZZ_SEED={seed} reproduces), {count} messages")
    f = Fuzzer(seed)
    start = time.monotonic()
    try:
        while f.n < count:
            f.step()
        t = time.monotonic()
        f.race(iters=max(100, count // 20))
        f.took["race"] += time.monotonic() - t
        f.unprivileged()
        f.finish()
    except Fail as ex:
        print(f"# FAIL: {ex}")
        print(f"# seed {seed}; the last requests:")
        for line in f.log:
            print(f"#   {line}")
        sys.exit(1)
    except (OSError, KeyError, struct.error) as ex:
        print(f"# FAIL: {ex!r} after request {f.n}; seed {seed}; the last requests:")
        for line in f.log:
            print(f"#   {line}")
        raise
    took = time.monotonic() - start
    print(f"# sent {f.n} messages in {took:.0f} s: " +
          ", ".join(f"{k} {v}" for k, v in sorted(f.sent.items())))
    print("# seconds spent: " + ", ".join(f"{k} {v:.1f}" for k, v in f.took.most_common()))
    print("# errors: " + ", ".join(f"{k} {v}" for k, v in f.errnos.most_common()))
    print(f"# ok: seed {seed}: state equal to the model throughout, no key bytes in "
          f"any reply, every rejection with a message")


if __name__ == "__main__":
    main()
