#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Published ESP known-answer packets (selftests/vectors/*.json, from /work/shared/vectors) as
a plan for esp_vectors.sh: one line per usable vector, fields separated by "|":

  name|expect|mode|src|dst|spi|alg words|inner src|inner dst|frame file|flipped frame file|want

Usable: IPv4 outer header included, no UDP encapsulation, no ESN, an IPv4 inner packet in
tunnel mode, and an algorithm nfsec has (rfc4106(gcm(aes)), cbc(aes) with or without
hmac(sha256) 128, NULL encryption with hmac(sha256) 128). expect is valid, invalid (a
published negative vector), dummy (next header 59: to be discarded) or fragment (the inner
packet is an IP fragment: held for reassembly). alg words use "-" for
an empty key. The frame files (written to OUTDIR) hold the packet as an Ethernet frame to
DSTMAC; the outer IPv4 checksum is recomputed. The flipped file, for vectors with an ICV,
is the same with one ciphertext byte changed ("-" otherwise). want is what a valid vector
delivers to the local stack, as the sink prints it, from the published ESP plaintext ("-"
when nothing is to be delivered).

  esp_vectors.py VECTOR_DIR OUTDIR DSTMAC SRCMAC
  esp_vectors.py sink       print "proto src dst len sha256" (of what follows the IPv4
                            header) for every packet delivered locally to a raw socket of
                            ICMP, TCP, UDP or protocol 59 (no next header), after "ready"
"""
import hashlib
import json
import os
import select
import socket
import struct
import sys


# the same SA and packet shape as a vector kept: VM time better spent elsewhere
SKIP = {
    "odp-mcgrew_gcm_test_2_esp",    # dpdk-aes_128_gcm's key and packet, another sequence number
    "odp-mcgrew_gcm_test_3_esp",    # dpdk-aes_256_gcm's
    "dpdk-aes_128_cbc_null",        # RFC 3602 case 7 with byte-swapped outer addresses
    "rfc3602-case6-esp-transport",  # case 5's SA
}


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def ip4(b):
    return ".".join(str(x) for x in b)


def alg_words(c):
    a = c.get("algorithm") or c.get("kind") or ""
    if a.startswith("rfc4106(gcm(aes))"):
        return "aead rfc4106(gcm(aes)) 0x%s%s %d" % (c["key"], c["salt"], c["icv_len"] * 8)
    if "HMAC-SHA-256-128" in a and c.get("enc_key"):
        return "enc cbc(aes) 0x%s auth-trunc hmac(sha256) 0x%s 128" % (c["enc_key"], c["auth_key"])
    if a.startswith("ENCR_NULL + HMAC-SHA-256-128"):
        return "enc ecb(cipher_null) - auth-trunc hmac(sha256) 0x%s 128" % c["auth_key"]
    if ("AES-CBC, no integrity" in a or "AES-128-CBC confidentiality only" in a) and c.get("enc_key"):
        return "enc cbc(aes) 0x%s" % c["enc_key"]
    return None


def delivered(pkt):
    """the line the sink prints for an IPv4 packet"""
    ihl = (pkt[0] & 0x0F) * 4
    body = pkt[ihl:]
    return "%d %s %s %d %s" % (pkt[9], ip4(pkt[12:16]), ip4(pkt[16:20]), len(body),
                               hashlib.sha256(body).hexdigest())


def sink():
    socks = [socket.socket(socket.AF_INET, socket.SOCK_RAW, p) for p in (1, 6, 17, 59)]
    print("ready", flush=True)
    while True:
        for s in select.select(socks, [], [])[0]:
            print(delivered(s.recv(65535)), flush=True)


def want(c, mode, nh, src, dst):
    """the sink's line for a valid vector: its published ESP plaintext without the trailer
    (its "plaintext" where that is missing; the two differ only where a vector's notes say
    so: ODP's UDP packet went out with checksum offload, its cleartext has checksum 0)"""
    if c.get("esp_plaintext"):
        ep = bytes.fromhex(c["esp_plaintext"])
        body = ep[:len(ep) - ep[-2] - 2]
        if mode == "tunnel":
            return delivered(body[:struct.unpack("!H", body[2:4])[0]])
    else:
        inner = bytes.fromhex(c["plaintext"])
        if mode == "tunnel":
            return delivered(inner)
        body = inner[(inner[0] & 0x0F) * 4:]
    # transport: the payload under the outer addresses
    hdr = bytearray(20)
    hdr[0], hdr[9] = 0x45, nh
    hdr[12:16], hdr[16:20] = socket.inet_aton(src), socket.inet_aton(dst)
    return delivered(bytes(hdr) + body)


def main():
    if sys.argv[1:] == ["sink"]:
        sink()
        return
    vdir, outdir, dmac, smac = sys.argv[1:5]
    dmac = bytes.fromhex(dmac.replace(":", ""))
    smac = bytes.fromhex(smac.replace(":", ""))
    for fname in sorted(os.listdir(vdir)):
        if not fname.endswith(".json"):
            continue
        for c in json.load(open(os.path.join(vdir, fname))):
            if c.get("protocol", "ESP") != "ESP" or not c.get("esp_packet"):
                continue
            if c["name"] in SKIP:
                continue
            if not c.get("esp_packet_includes_outer_ip") or c.get("udp_encap_header") or c.get("esn"):
                continue
            pkt = bytearray.fromhex(c.get("esp_packet_checksum_fixed") or c["esp_packet"])
            if pkt[0] != 0x45 or pkt[9] != 50:
                continue
            alg = alg_words(c)
            if alg is None:
                continue
            nh = c.get("next_header")
            mode = c["mode"]
            if mode == "tunnel" and nh not in (4, 59):
                continue
            expect = c.get("expect") or "valid"
            if nh == 59:
                expect = "dummy"
            spi = struct.unpack("!I", pkt[20:24])[0]
            if spi == 0:  # reserved (RFC 4303 2.1): no SA can have it
                continue
            if mode == "tunnel" and nh == 4:
                inner = bytes.fromhex(c["plaintext"])
                isrc, idst = ip4(inner[12:16]), ip4(inner[16:20])
                if expect == "valid" and struct.unpack("!H", inner[6:8])[0] & 0x3FFF:
                    expect = "fragment"
                # ESP does not cover the outer header: an unusable (0/8) outer address
                # (DPDK's byte-swapped copy of RFC 3602 #7) is replaced by the inner one
                if pkt[12] == 0 or pkt[16] == 0:
                    pkt[12:20] = inner[12:20]
            src, dst = ip4(pkt[12:16]), ip4(pkt[16:20])
            if mode != "tunnel" or nh != 4:
                isrc, idst = src, dst
            pkt[10:12] = b"\0\0"
            pkt[10:12] = struct.pack("!H", csum(bytes(pkt[:20])))
            frame = dmac + smac + b"\x08\x00" + bytes(pkt)
            path = os.path.join(outdir, c["name"] + ".frame")
            with open(path, "wb") as f:
                f.write(frame)
            flipped = "-"
            if c.get("icv_len") and expect in ("valid", "fragment"):
                bad = bytearray(frame)
                bad[14 + 20 + 8 + 9] ^= 0x80  # inside the IV/ciphertext, covered by the ICV
                flipped = path + ".bad"
                with open(flipped, "wb") as f:
                    f.write(bad)
            print("|".join([c["name"], expect, mode, src, dst, "0x%08x" % spi, alg, isrc, idst,
                            path, flipped,
                            want(c, mode, nh, src, dst) if expect == "valid" else "-"]))


if __name__ == "__main__":
    main()
