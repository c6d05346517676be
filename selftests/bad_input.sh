#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bad input is refused with a message that says why, and changes nothing:
# unknown algorithms, wrong key and ICV sizes, ESP without integrity (unless
# the allow_null parameter says so), SPI 0, duplicates, replay
# windows out of range, bad prefixes, tunnel mode without endpoints, AH
# with encryption or in UDP, ESP in UDP to port 0, template level use, more
# SAs or policies than max_sas and max_policies allow; then
# malformed netlink built by hand (nl_raw.py), level use among it.
# nfsec-selftest: exclusive (lowers the global max_sas and max_policies module parameters for a moment)
source "$(dirname "$0")/lib.sh"
need_module
need_cmd python3

ns_create ns1
n1() { ip netns exec "$ns1" "$@"; }

GCM=0x0123456789abcdef0123456789abcdef0badc0de
MAC=0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
ID="src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2000"

n1 nfsec sa add $ID mode tunnel aead 'rfc4106(gcm(aes))' $GCM 128
n1 nfsec policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir out \
	tmpl src 10.0.0.1 dst 10.0.0.2 proto esp mode tunnel
snapshot() { n1 nfsec -j sa show; n1 nfsec -j policy show; n1 nfsec stats; }
before=$(snapshot)

# expect_err "WHAT" "message pattern (grep -Ei)" nfsec args...
expect_err()
{
	local what=$1 pattern=$2 out
	shift 2
	if out=$(n1 nfsec "$@" 2>&1); then
		fail "$what: accepted"
	fi
	grep -Eqi -- "$pattern" <<<"$out" || fail "$what: unclear message: $out"
	pass "$what: $out"
}

expect_err "unknown algorithm" "unknown aead algorithm" \
	sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2001 aead 'gcm(des)' $GCM 128
expect_err "GCM key of 128 bits (no salt)" "key length" \
	sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2001 \
	aead 'rfc4106(gcm(aes))' 0x0123456789abcdef0123456789abcdef 128
expect_err "CBC key of 120 bits" "enc key length" \
	sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2001 \
	enc 'cbc(aes)' 0x0123456789abcdef0123456789abcd auth-trunc 'hmac(sha256)' $MAC 128
expect_err "HMAC key of 160 bits" "auth key length" \
	sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2001 \
	enc 'cbc(aes)' 0x0123456789abcdef0123456789abcdef \
	auth-trunc 'hmac(sha256)' 0x0123456789abcdef0123456789abcdef01234567 128
expect_err "GCM ICV of 32 bits" "ICV length not allowed" \
	sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2001 aead 'rfc4106(gcm(aes))' $GCM 32
expect_err "HMAC truncated to 64 bits" "truncation length not allowed" \
	sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2001 \
	enc 'cbc(aes)' 0x0123456789abcdef0123456789abcdef auth-trunc 'hmac(sha256)' $MAC 64
expect_err "SPI 0" "SPI 0" \
	sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0 aead 'rfc4106(gcm(aes))' $GCM 128
expect_err "duplicate SA" "exists" \
	sa add $ID mode tunnel aead 'rfc4106(gcm(aes))' $GCM 128
expect_err "replay window 4097" "range|replay" \
	sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2001 replay-window 4097 \
	aead 'rfc4106(gcm(aes))' $GCM 128
expect_err "selector prefix /33" "prefix|33" \
	sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2001 aead 'rfc4106(gcm(aes))' $GCM 128 \
	sel src 10.1.0.0/33
expect_err "policy prefix /40" "prefix|40" \
	policy add src 10.1.0.0/40 dst 10.2.0.0/24 dir out
expect_err "tunnel mode without src" "src" \
	sa add dst 10.0.0.2 proto esp spi 0x2001 mode tunnel aead 'rfc4106(gcm(aes))' $GCM 128
expect_err "template level use (the tool)" "level use is not supported" \
	policy add src 10.3.0.0/24 dst 10.4.0.0/24 dir out tmpl proto esp level use
expect_err "tunnel template without endpoints" "endpoints" \
	policy add src 10.3.0.0/24 dst 10.4.0.0/24 dir out tmpl proto esp mode tunnel
expect_err "AH with encryption" "AH takes no encryption" \
	sa add src 10.0.0.1 dst 10.0.0.2 proto ah spi 0x2001 \
	enc 'cbc(aes)' 0x0123456789abcdef0123456789abcdef auth-trunc 'hmac(sha256)' $MAC 128
expect_err "AH with a 128-bit hmac(sha256) key" "auth key length" \
	sa add src 10.0.0.1 dst 10.0.0.2 proto ah spi 0x2001 \
	auth-trunc 'hmac(sha256)' 0x0123456789abcdef0123456789abcdef 128
expect_err "ESP with NULL+NULL" "allow_null" \
	sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2001 \
	enc 'ecb(cipher_null)' '' auth digest_null ''
expect_err "ESP with cbc(aes) and no auth" "without integrity.*allow_null" \
	sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2001 \
	enc 'cbc(aes)' 0x0123456789abcdef0123456789abcdef
expect_err "ESP with cbc(aes) and auth digest_null" "without integrity.*allow_null" \
	sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2001 \
	enc 'cbc(aes)' 0x0123456789abcdef0123456789abcdef auth digest_null ''
expect_err "aead with enc" "excludes" \
	sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2001 aead 'rfc4106(gcm(aes))' $GCM 128 \
	enc 'cbc(aes)' 0x0123456789abcdef0123456789abcdef
expect_err "ESN without a replay window" "replay-window" \
	sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2001 flag esn \
	aead 'rfc4106(gcm(aes))' $GCM 128
expect_err "unsupported word" "ctx|unsupported|unknown" \
	sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2001 aead 'rfc4106(gcm(aes))' $GCM 128 \
	ctx foo
expect_err "AH in UDP" "encap is for ESP only" \
	sa add src 10.0.0.1 dst 10.0.0.2 proto ah spi 0x2001 auth-trunc 'hmac(sha256)' $MAC 128 \
	encap espinudp 4500 4500 0.0.0.0
expect_err "ESP in UDP to port 0" "non-zero ports" \
	sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2001 aead 'rfc4106(gcm(aes))' $GCM 128 \
	encap espinudp 4500 0 0.0.0.0
expect_err "ESP in UDP other than espinudp" "espinudp" \
	sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2001 aead 'rfc4106(gcm(aes))' $GCM 128 \
	encap espinudp-nonike 4500 4500 0.0.0.0
expect_err "a fixed MSS below TCP's minimum" "below TCP's minimum" \
	sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2001 aead 'rfc4106(gcm(aes))' $GCM 128 \
	mss 87
expect_err "update of a missing SA" "no such SA" \
	sa update src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2fff aead 'rfc4106(gcm(aes))' $GCM 128
# An update must not bring about what an add refuses: flag esn dropped with sequence numbers
# above 2^32 (found by genl_fuzz.py).
n1 nfsec sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2ffe flag esn replay-window 32 \
	replay-oseq-hi 1 aead 'rfc4106(gcm(aes))' $GCM 128
expect_err "update dropping esn above 2^32" "above 2\^32 need flag esn" \
	sa update src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2ffe replay-window 32 \
	aead 'rfc4106(gcm(aes))' $GCM 128
n1 nfsec sa get src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2ffe | grep -q esn ||
	fail "the refused update changed the SA"
n1 nfsec sa del src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2ffe

# Per-netns limits (module parameters): ns1 holds one SA and one policy.
params=/sys/module/nfsec/parameters
defer "echo $(cat $params/max_sas) >$params/max_sas; echo $(cat $params/max_policies) >$params/max_policies"
echo 1 >$params/max_sas
echo 1 >$params/max_policies
expect_err "an SA beyond max_sas" "max_sas" \
	sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2001 aead 'rfc4106(gcm(aes))' $GCM 128
expect_err "a policy beyond max_policies" "max_policies" \
	policy add src 10.5.0.0/24 dst 10.6.0.0/24 dir out
n1 nfsec sa update $ID mode tunnel aead 'rfc4106(gcm(aes))' $GCM 128
pass "sa update at the limit (it adds nothing)"
echo 100000 >$params/max_sas
echo 100000 >$params/max_policies

# Malformed messages the tool would never send.
n1 python3 "$SELFTESTS_DIR/nl_raw.py"

check_eq "state after every rejection" "$(snapshot)" "$before"

# ESP without integrity is there for tests and benchmarks, behind allow_null.
param=/sys/module/nfsec/parameters/allow_null
old=$(cat $param)
defer "echo $old >$param"
echo 1 >$param
n1 nfsec sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2001 \
	enc 'cbc(aes)' 0x0123456789abcdef0123456789abcdef
echo "$old" >$param
n1 nfsec sa get dst 10.0.0.2 proto esp spi 0x2001 >/dev/null
pass "with allow_null=1, ESP cbc(aes) without auth is accepted"
