#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# SA control plane: add, get, show, update, del and flush, in the words of
# `ip xfrm state`. Key bytes never appear in any output; -j is JSON.
source "$(dirname "$0")/lib.sh"
need_module
need_cmd python3

ns_create ns1
n1() { ip netns exec "$ns1" "$@"; }

GCM_KEY=0x0123456789abcdef0123456789abcdef0badc0de
CBC_KEY=0xfedcba9876543210fedcba9876543210
MAC_KEY=0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff

icv_py='
import json, sys
print([s for s in json.load(sys.stdin) if int(s["spi"], 0) == int(sys.argv[1], 0)][0]["aead"]["icv_len"])'
count_sas() { n1 nfsec -j sa show | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

check_eq "SAs in a new netns" "$(count_sas)" 0

n1 nfsec sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x1000 reqid 7 mode tunnel \
	replay-window 64 flag esn aead 'rfc4106(gcm(aes))' $GCM_KEY 128 \
	sel src 10.1.0.0/24 dst 10.2.0.0/24
n1 nfsec sa add src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x1001 reqid 7 mode transport \
	enc 'cbc(aes)' $CBC_KEY auth-trunc 'hmac(sha256)' $MAC_KEY 128 \
	sel src 10.0.0.2 dst 10.0.0.1 proto tcp dport 22 \
	limit packet-hard 1000 limit time-soft 60 replay-oseq 0x100
n1 nfsec sa add src 10.0.0.1 dst 10.0.0.2 proto ah spi 0x1002 mode transport \
	auth-trunc 'hmac(sha256)' $MAC_KEY 128 replay-window 32
check_eq "SAs after three adds" "$(count_sas)" 3

get=$(n1 nfsec sa get src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x1000)
for word in "src 10.0.0.1 dst 10.0.0.2" "spi 0x00001000" "reqid 7" "mode tunnel" \
	    "replay-window 64" "esn" "rfc4106(gcm(aes))" "(160 bits)" "128" \
	    "10.1.0.0/24" "10.2.0.0/24"; do
	grep -qF -- "$word" <<<"$get" || fail "sa get lacks '$word': $get"
done
pass "sa get shows the configuration"

show=$(n1 nfsec sa show)
grep -qF "cbc(aes)" <<<"$show" || fail "show lacks cbc(aes)"
grep -qF "hmac(sha256)" <<<"$show" || fail "show lacks hmac(sha256)"
grep -qF "proto ah" <<<"$show" || fail "show lacks the AH SA"

# Keys never come back: not in show, -s, -j, get, nor the stats.
all=$(n1 nfsec sa show; n1 nfsec -s sa show; n1 nfsec -j sa show;
      n1 nfsec -s -j sa show; n1 nfsec stats; echo "$get")
for key in $GCM_KEY $CBC_KEY $MAC_KEY; do
	hex=${key#0x}
	if grep -qi -- "${hex:0:16}" <<<"$all"; then
		fail "key bytes ${hex:0:16}... appear in output"
	fi
done
pass "no key bytes in any output"

# -j is JSON, with the fields a script needs.
n1 nfsec -s -j sa show | python3 -c '
import json, sys
sas = json.load(sys.stdin)
assert len(sas) == 3, sas
by_spi = {int(str(s["spi"]), 0): s for s in sas}
s = by_spi[0x1000]
assert s["src"] == "10.0.0.1" and s["dst"] == "10.0.0.2", s
assert s["proto"] == "esp" and s["mode"] == "tunnel" and s["reqid"] == 7, s
assert "stats" in s, s
assert by_spi[0x1002]["proto"] == "ah"
for s in sas:
    assert "key" not in json.dumps(s).lower().replace("key_len", "").replace("key-len", "").replace("keylen", ""), s
' || fail "JSON output is not what a script expects"
pass "-j output parses and carries the SA fields"

# update keeps identity, changes configuration.
n1 nfsec sa update src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x1000 reqid 8 mode tunnel \
	replay-window 64 flag esn aead 'rfc4106(gcm(aes))' $GCM_KEY 96
get=$(n1 nfsec sa get dst 10.0.0.2 proto esp spi 0x1000)
grep -qF "reqid 8" <<<"$get" || fail "update did not change reqid: $get"
check_eq "SAs after update" "$(count_sas)" 3
if n1 nfsec sa update src 10.0.0.1 dst 10.0.0.9 proto esp spi 0x1000 mode tunnel \
	aead 'rfc4106(gcm(aes))' $GCM_KEY 128 2>/dev/null; then
	fail "update of a missing SA succeeded"
fi
pass "sa update"

n1 nfsec sa del src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x1000
check_eq "SAs after del" "$(count_sas)" 2
if n1 nfsec sa get dst 10.0.0.2 proto esp spi 0x1000 2>/dev/null; then
	fail "deleted SA still found"
fi
err=$(n1 nfsec sa del dst 10.0.0.2 proto esp spi 0x1000 2>&1) && fail "second del succeeded"
grep -qi "no such SA" <<<"$err" || fail "del of a missing SA: unclear error: $err"
pass "sa del"

# The UAPI's ICV length is optional for an AEAD: none or 0 means its full tag.
n1 python3 "$SELFTESTS_DIR/nl_raw.py" aead 0x1003 'rfc4106(gcm(aes))' "${GCM_KEY#0x}"
n1 python3 "$SELFTESTS_DIR/nl_raw.py" aead 0x1004 'rfc7539esp(chacha20,poly1305)' \
	"${GCM_KEY#0x}${MAC_KEY:2:32}" 0
check_eq "GCM added without an ICV length: icv_len" \
	"$(n1 nfsec -j sa show | python3 -c "$icv_py" 0x1003)" 128
check_eq "ChaCha20-Poly1305 added with ICV length 0: icv_len" \
	"$(n1 nfsec -j sa show | python3 -c "$icv_py" 0x1004)" 128
n1 nfsec sa del dst 10.9.0.2 proto esp spi 0x1003
n1 nfsec sa del dst 10.9.0.2 proto esp spi 0x1004

# Families: IPv6 SAs and selectors, shown as ip xfrm shows them; a transport SA carries its
# own family only; a tunnel carries the other too.
gcm6=(aead 'rfc4106(gcm(aes))' $GCM_KEY 128)
before=$(count_sas)
n1 nfsec sa add src 2001:db8::1 dst 2001:db8::2 proto esp spi 0x6000 mode transport "${gcm6[@]}"
get=$(n1 nfsec sa get dst 2001:db8::2 proto esp spi 0x6000)
grep -qF "src 2001:db8::1 dst 2001:db8::2" <<<"$get" || fail "IPv6 SA's addresses: $get"
grep -qF "sel src ::/0 dst ::/0" <<<"$get" || fail "IPv6 SA's default selector: $get"
err=$(n1 nfsec sa add src 2001:db8::1 dst 2001:db8::2 proto esp spi 0x6001 mode transport \
	sel src 10.1.0.0/24 "${gcm6[@]}" 2>&1) && fail "an IPv6 transport SA took an IPv4 selector"
grep -qF "selector has the SA's family" <<<"$err" || fail "unclear family error: $err"
n1 nfsec sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x6001 mode tunnel \
	sel src 2001:db8:1::/64 "${gcm6[@]}"
get=$(n1 nfsec sa get dst 10.0.0.2 proto esp spi 0x6001)
grep -qF "sel src 2001:db8:1::/64 dst ::/0" <<<"$get" || fail "6in4 SA's selector: $get"
# The same SPI and destination address, but one IPv4 and one IPv6: two SAs.
n1 nfsec sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x6000 "${gcm6[@]}"
check_eq "SAs after the IPv6 adds" "$(count_sas)" "$((before + 3))"
n1 nfsec sa del dst 2001:db8::2 proto esp spi 0x6000
n1 nfsec sa del dst 10.0.0.2 proto esp spi 0x6000
n1 nfsec sa del dst 10.0.0.2 proto esp spi 0x6001
check_eq "SAs after the IPv6 deletes" "$(count_sas)" "$before"
# af-unspec (what strongSwan sets on tunnel SAs): a selector of both families.
n1 nfsec sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x6002 mode tunnel flag af-unspec \
	"${gcm6[@]}"
get=$(n1 nfsec sa get dst 10.0.0.2 proto esp spi 0x6002)
grep -qF "flag af-unspec" <<<"$get" || fail "af-unspec SA lacks its flag: $get"
grep -qF "sel src 0.0.0.0/0 dst 0.0.0.0/0" <<<"$get" || fail "af-unspec SA's selector: $get"
err=$(n1 nfsec sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x6003 mode transport \
	flag af-unspec "${gcm6[@]}" 2>&1) && fail "a transport SA took af-unspec"
grep -qF "af-unspec is for tunnel mode" <<<"$err" || fail "unclear af-unspec error: $err"
n1 nfsec sa del dst 10.0.0.2 proto esp spi 0x6002
check_eq "SAs after the family checks" "$(count_sas)" "$before"
pass "IPv6 SAs and selectors, af-unspec taken in tunnel mode only"

n1 nfsec sa flush proto ah
check_eq "SAs after flush proto ah" "$(count_sas)" 1
n1 nfsec sa flush
check_eq "SAs after flush" "$(count_sas)" 0
pass "sa flush"
