#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The tool's parser, without the module: NFSEC_DRY_RUN=1 prints the attributes a
# command would send. `make -C tools check`.
cd "$(dirname "$0")" || exit 1
export NFSEC_DRY_RUN=1
fails=0 n=0
GCM=0x0123456789abcdef0123456789abcdef0badc0de
ID="src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x1000"

# ok "ARGS" LINE... : succeeds, and prints every LINE
ok()
{
	local args=$1 out line
	shift
	((n++))
	if ! out=$(eval "./nfsec $args" 2>&1); then
		echo "not ok $n - nfsec $args: $out"; ((fails++)); return
	fi
	for line in "$@"; do
		if ! grep -qxF -- "$line" <<<"$out"; then
			echo "not ok $n - nfsec $args: no '$line' in:"; sed 's/^/#   /' <<<"$out"
			((fails++)); return
		fi
	done
	echo "ok $n - nfsec $args"
}

# bad "ARGS" "MESSAGE" : fails with MESSAGE on stderr
bad()
{
	local args=$1 msg=$2 out
	((n++))
	if out=$(eval "./nfsec $args" 2>&1); then
		echo "not ok $n - nfsec $args: accepted"; ((fails++)); return
	fi
	if ! grep -qF -- "$msg" <<<"$out"; then
		echo "not ok $n - nfsec $args: want '$msg', got: $out"; ((fails++)); return
	fi
	echo "ok $n - nfsec $args: $out"
}

ok "sa add $ID reqid 7 mode tunnel replay-window 64 flag esn aead 'rfc4106(gcm(aes))' $GCM 128 sel src 10.1.0.0/24 dst 10.2.0.0/24" \
	NFSEC_CMD_SA_ADD "SA.SPI 0x00001000" "SA.PROTO 50" "SA.MODE 1" "SA.REQID 7" "SA.FLAGS 1" \
	"SA.REPLAY_WINDOW 64" 'SA.ALG_AEAD.NAME "rfc4106(gcm(aes))"' "SA.ALG_AEAD.ICV_LEN 128" \
	"SA.ALG_AEAD.KEY (20 bytes) ${GCM#0x}" "SA.SEL.SRC 10.1.0.0" "SA.SEL.SRC_PLEN 24"
ok "sa add $ID enc 'ecb(cipher_null)' '' auth digest_null ''" \
	"SA.ALG_ENC.KEY (0 bytes) " "SA.ALG_AUTH.ICV_LEN 0"
ok "sa add $ID auth 'hmac(sha256)' abc" "SA.ALG_AUTH.KEY (3 bytes) 616263" "SA.ALG_AUTH.ICV_LEN 0"
ok "sa add $ID auth-trunc 'hmac(sha256)' 0x0011 128 flag esn align4" "SA.ALG_AUTH.ICV_LEN 128" "SA.FLAGS 3"
ok "sa update $ID replay-seq 5 replay-seq-hi 1 replay-oseq 0x10 replay-oseq-hi 2" \
	NFSEC_CMD_SA_UPDATE "SA.SEQ 4294967301" "SA.OSEQ 8589934608"
ok "sa add $ID limit time-soft 60 limit time-hard 120 limit time-use-soft 1 limit time-use-hard 2 limit byte-soft 3 limit byte-hard 4 limit packet-soft 5 limit packet-hard 6" \
	"SA.LIFETIME.SOFT_ADD_SECONDS 60" "SA.LIFETIME.HARD_ADD_SECONDS 120" \
	"SA.LIFETIME.SOFT_USE_SECONDS 1" "SA.LIFETIME.HARD_USE_SECONDS 2" "SA.LIFETIME.SOFT_BYTES 3" \
	"SA.LIFETIME.HARD_BYTES 4" "SA.LIFETIME.SOFT_PACKETS 5" "SA.LIFETIME.HARD_PACKETS 6"
ok "sa add $ID encap espinudp 4500 4501 10.9.9.9 mss off" \
	"SA.ENCAP.TYPE 2" "SA.ENCAP.SPORT 4500" "SA.ENCAP.DPORT 4501" "SA.ENCAP.OADDR 10.9.9.9" "SA.MSS 65535"
ok "sa add $ID mss auto sel proto udp sport 53" "SA.MSS 0" "SA.SEL.PROTO 17" "SA.SEL.SPORT 53"
# IPv6: its own attributes, selectors with an explicit family (::/0 is not 0.0.0.0/0).
ok "sa add src 2001:db8::1 dst 2001:db8::2 proto esp spi 0x1000 mode tunnel flag af-unspec aead 'rfc4106(gcm(aes))' $GCM 128 encap espinudp 4500 4500 2001:db8::9" \
	"SA.SRC6 2001:db8::1" "SA.DST6 2001:db8::2" "SA.FLAGS 4" "SA.ENCAP.OADDR6 2001:db8::9"
ok "sa add src 2001:db8::1 dst 2001:db8::2 proto esp spi 1 sel src 2001:db8:1::/48 dst ::/0" \
	"SA.SEL.FAMILY 10" "SA.SEL.SRC6 2001:db8:1::" "SA.SEL.SRC_PLEN 48" "SA.SEL.DST6 ::" "SA.SEL.DST_PLEN 0"
ok "sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 1 mode tunnel sel src 2001:db8:1::/64" \
	"SA.SRC 10.0.0.1" "SA.SEL.FAMILY 10" "SA.SEL.SRC6 2001:db8:1::" "SA.SEL.SRC_PLEN 64"
ok "policy add src ::/0 dst ::/0 dir out" "POLICY.SEL.FAMILY 10" "POLICY.SEL.SRC6 ::" "POLICY.SEL.SRC_PLEN 0"
ok "policy add src 0.0.0.0/0 dst 0.0.0.0/0 dir out" "POLICY.SEL.FAMILY 2" "POLICY.SEL.SRC 0.0.0.0"
ok "policy add dir out" "POLICY.SEL.FAMILY 2"
ok "-6 policy add dir out" "POLICY.SEL.FAMILY 10"
ok "policy add src 2001:db8:1::/64 dst 2001:db8:2::1 dir fwd tmpl src fe80::1 dst fe80::2 proto esp mode tunnel" \
	"POLICY.SEL.SRC6 2001:db8:1::" "POLICY.SEL.DST6 2001:db8:2::1" "POLICY.SEL.DST_PLEN 128" \
	"POLICY.TMPL.SRC6 fe80::1" "POLICY.TMPL.DST6 fe80::2"
ok "sa del dst 2001:db8::2 proto esp spi 1" NFSEC_CMD_SA_DEL "SA.DST6 2001:db8::2"
ok "sa add $ID mss 1300 sel proto 132" "SA.MSS 1300" "SA.SEL.PROTO 132"
ok "state add src 10.0.0.1 dst 10.0.0.2 proto ah spi 4096" "SA.PROTO 51" "SA.SPI 0x00001000"
ok "sa del dst 10.0.0.2 proto esp spi 0x1000" NFSEC_CMD_SA_DEL "SA.DST 10.0.0.2"
ok "sa get $ID" NFSEC_CMD_SA_GET "SA.SRC 10.0.0.1"
ok "sa show" "NFSEC_CMD_SA_GET dump"
ok "sa allocspi src 10.0.0.1 dst 10.0.0.2 proto esp mode tunnel reqid 3 min 0x100 max 0x1ff timeout 5" \
	NFSEC_CMD_SA_ALLOCSPI "SA.DST 10.0.0.2" "SA.PROTO 50" "SA.MODE 1" "SA.REQID 3" \
	"SPI_MIN 0x00000100" "SPI_MAX 0x000001ff" "SPI_TIMEOUT 5"
ok "sa allocspi dst 2001:db8::2 proto ah" NFSEC_CMD_SA_ALLOCSPI "SA.DST6 2001:db8::2" "SA.PROTO 51"
bad "sa allocspi $ID" "allocspi chooses the spi"
bad "sa allocspi dst 10.0.0.2 proto esp min 1" "\"min\" and \"max\" go together"
bad "sa allocspi src 10.0.0.1 proto esp" "needs dst and proto (missing dst)"
bad "sa allocspi dst 10.0.0.2 proto esp enc x y" "unsupported word \"enc\""
bad "-atomic -batch - <<<\$'sa allocspi dst 10.0.0.2 proto esp'" "not in an -atomic batch"
ok "sa move $ID to src 10.0.0.1 dst 10.0.0.3 encap espinudp 4500 4501 0.0.0.0 reqid 9" \
	NFSEC_CMD_SA_MOVE "SA.SRC 10.0.0.1" "SA.DST 10.0.0.2" "SA.SPI 0x00001000" "SA.PROTO 50" \
	"MOVE_TO.SRC 10.0.0.1" "MOVE_TO.DST 10.0.0.3" "MOVE_TO.ENCAP.SPORT 4500" \
	"MOVE_TO.ENCAP.DPORT 4501" "MOVE_TO.ENCAP.OADDR 0.0.0.0" "MOVE_TO.REQID 9"
ok "sa move dst 2001:db8::2 proto ah spi 7 to dst 2001:db8::3 src 2001:db8::1" \
	"SA.DST6 2001:db8::2" "MOVE_TO.SRC6 2001:db8::1" "MOVE_TO.DST6 2001:db8::3"
ok "sa move $ID to src 10.0.0.1 dst 10.0.0.2 encap none" "MOVE_TO.ENCAP"
bad "sa move $ID" "needs \"to\" and the new addresses"
bad "sa move $ID to src 10.0.0.1" "\"to\" needs src and dst"
bad "sa move $ID to src 10.0.0.1 dst 2001:db8::3" "an IPv4 address with an IPv6 one"
bad "sa move dst 10.0.0.2 proto esp to src 10.0.0.1 dst 10.0.0.3" "(missing spi)"
bad "sa move $ID enc 'cbc(aes)' 0x00 to src 10.0.0.1 dst 10.0.0.3" "unsupported word \"enc\""
bad "sa move $ID to src 10.0.0.1 dst 10.0.0.3 aead x y 128" "unsupported word \"aead\" after \"to\""
bad "sa move $ID to src 10.0.0.1 dst 10.0.0.3 encap espinudp 4500" "\"encap\" needs none or 4 arguments"
bad "sa move $ID to src 10.0.0.1 dst 10.0.0.3 encap espinudp 4500 0x1ffff 0.0.0.0" "port"
bad "sa move $ID to src 10.0.0.1 dst" "\"dst\" needs an argument"
bad "-atomic -batch - <<<\$'sa move $ID to src 10.0.0.1 dst 10.0.0.3'" "not in an -atomic batch"
ok "-s -j sa list spi 0x1000 nokeys" "[NFSEC_CMD_SA_GET dump"
ok "sa flush" NFSEC_CMD_SA_FLUSH
ok "sa flush proto ah" "SA.PROTO 51"
ok "policy add src 10.1.0.0/24 dst 10.2.0.0/24 proto tcp dport 22 dir out priority 100 action block ptype main" \
	NFSEC_CMD_POLICY_ADD "POLICY.DIR 1" "POLICY.PRIORITY 100" "POLICY.ACTION 1" "POLICY.SEL.DPORT 22"
ok "policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir fwd tmpl src 10.0.0.1 dst 10.0.0.2 proto ah spi 7 mode tunnel reqid 1 level required priority 3" \
	"POLICY.DIR 2" "POLICY.TMPL.SRC 10.0.0.1" "POLICY.TMPL.PROTO 51" "POLICY.TMPL.SPI 0x00000007" \
	"POLICY.TMPL.MODE 1" "POLICY.TMPL.REQID 1" "POLICY.TMPL.LEVEL 0" "POLICY.PRIORITY 3"
ok "policy del index 7 dir in" NFSEC_CMD_POLICY_DEL "POLICY.INDEX 7" "POLICY.DIR 0"
ok "policy get src 10.1.0.0/24 dir out" NFSEC_CMD_POLICY_GET "POLICY.SEL.SRC_PLEN 24"
ok "policy flush ptype main" NFSEC_CMD_POLICY_FLUSH
ok "-s stats" NFSEC_CMD_STATS_GET
ok "version" NFSEC_CMD_VERSION_GET
ok "-batch - <<<\$'# c\n\nsa flush\npolicy flush \\\\\n ptype main'" NFSEC_CMD_SA_FLUSH NFSEC_CMD_POLICY_FLUSH

for w in mark output-mark if_id ctx extra-flag coa offload tfcpad dir seq; do
	bad "sa add $ID $w 1" "unsupported word \"$w\""
done
for f in noecn decap-dscp nopmtudisc wildrecv icmp; do
	bad "sa add $ID flag $f" "flag $f is not supported by nfsec"
done
bad "policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir out tmpl proto esp level use" "level use is not supported"
bad "sa add $ID mode beet" "mode beet is not supported"
bad "sa add $ID mode ro" "mode ro is not supported"
bad "sa add src 10.0.0.1 dst 10.0.0.2 proto comp spi 1" "proto comp is not supported"
bad "sa add src 10.0.0.1 dst 2001:db8::1 proto esp spi 1" "an IPv4 address with an IPv6 one"
bad "sa add src 2001:db8::1 dst 10.0.0.1 proto esp spi 1" "an IPv4 address with an IPv6 one"
bad "policy add src 10.1.0.0/24 dst 2001:db8::/32 dir out" "selector: an IPv4 address with an IPv6 one"
bad "policy add dir out tmpl src 10.0.0.1 dst 2001:db8::2 proto esp mode tunnel" "tmpl: an IPv4 address with an IPv6 one"
bad "sa add $ID sel src 2001:db8::/129" "invalid prefix length \"129\" (0..128)"
bad "sa add src 2001:db8::zz dst 2001:db8::1 proto esp spi 1" "is not an IPv4 or IPv6 address"
bad "-4 sa add src 2001:db8::1 dst 2001:db8::2 proto esp spi 1" "is not an IPv4 address (-4)"
bad "-6 policy add src 10.1.0.0/24 dir out" "is not an IPv6 address (-6)"
bad "sa add $ID sel dev eth0" "unsupported word \"dev\""
bad "sa add $ID sel proto icmp type 8" "unsupported word \"type\""
bad "sa add $ID encap espintcp 1 2 0.0.0.0" "encap espintcp is not supported"
bad "sa add $ID encap espinudp-nonike 1 2 0.0.0.0" "encap espinudp-nonike is not supported"
bad "sa add $ID replay-window 4097" "out of range"
bad "sa add $ID sel src 10.0.0.0/33" "prefix length"
bad "sa add $ID enc x 0x123" "odd number"
bad "sa add $ID enc x 0xzz" "not hex"
bad "sa add $ID aead x 0x00 128 aead y 0x00 128" "only one aead"
bad "sa add $ID auth x 0x00 auth-trunc y 0x00 96" "only one auth"
bad "sa add $ID limit" "needs 2 arguments"
bad "sa add $ID limit byte-huge 1" "unknown limit"
bad "sa add $ID mss fast" "mss is auto, off or a size"
bad "sa add src 10.0.0.1 proto esp spi 1" "missing dst"
bad "sa del dst 10.0.0.2 proto esp" "missing spi"
bad "sa del $ID mode tunnel" "unsupported word \"mode\""
bad "sa flush proto comp" "proto comp is not supported"
bad "sa deleteall" "unknown sa command"
bad "policy add src 10.1.0.0/24 dir out index 4" "unsupported word \"index\""
bad "policy add src 10.1.0.0/24 dir out limit time-hard 4" "unsupported word \"limit\""
bad "policy add src 10.1.0.0/24 dir out flag localok" "unsupported word \"flag\""
bad "policy add src 10.1.0.0/24 dir out mark 1" "unsupported word \"mark\""
bad "policy add src 10.1.0.0/24 dir out ptype sub" "ptype sub is not supported"
bad "policy add src 10.1.0.0/24 dir out tmpl proto esp tmpl proto ah" "only one template supported"
bad "policy add src 10.1.0.0/24 dir sideways" "unknown dir"
bad "policy add src 10.1.0.0/24" "needs dir"
ok "policy update src 10.1.0.0/24 dst 10.2.0.0/24 dir out priority 5 action block" \
	NFSEC_CMD_POLICY_UPDATE "POLICY.DIR 1" "POLICY.PRIORITY 5" "POLICY.ACTION 1"
bad "policy update index 9 src 10.1.0.0/24 dir out" "with add or update"
bad "policy del index 1 src 10.0.0.0/8 dir in" "not both"
bad "policy add dir out tmpl proto esp mode beet" "mode beet is not supported"
bad "frobnicate" "unknown object"
bad "monitor report" "unsupported word \"report\" with monitor"
ok "monitor all sa policy acquire"
bad "-batch - <<<\$'sa flush\n\nsa add $ID ctx x\nsa flush'" "<stdin>:3: unsupported word \"ctx\""
bad "-batch - <<<\$'sa flush \"open'" "<stdin>:1: unbalanced quotes"
tmpf=$(mktemp)
trap 'rm -f "$tmpf"' EXIT
printf 'sa flush\nsa add %s mode sideways\n' "$ID" >"$tmpf"
bad "-batch $tmpf" "$tmpf:2: unknown mode \"sideways\""

# -atomic: nothing is sent before every line parsed and checked (against an empty state here);
# what cannot be undone (sa update, del, flush, and later lines about the same SA) goes last.
# plan "ARGS" "LINES": the dry run prints requests for the batch's lines in the order LINES
plan()
{
	local args=$1 want=$2 out got
	((n++))
	if ! out=$(eval "./nfsec $args" 2>&1); then
		echo "not ok $n - nfsec $args: $out"; ((fails++)); return
	fi
	got=$(sed -n 's/^# line //p' <<<"$out" | paste -sd ' ')
	if [[ $got != "$want" ]]; then
		echo "not ok $n - nfsec $args: lines applied in the order '$got', want '$want'"; ((fails++)); return
	fi
	echo "ok $n - nfsec $args: order $got"
}
B="src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2000"
P="policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir out tmpl proto esp"
plan "-atomic -batch - <<<\$'sa add $ID\nsa update $ID\nsa add $B\n$P\nsa del $B\nsa add $B'" "1 3 4 2 5 6"
plan "-atomic -batch - <<<\$'sa add $B\nsa flush\nsa add $ID\npolicy flush\n$P\nsa add $B'" "1 4 5 2 3 6"
plan "-atomic -batch - <<<\$'sa add $B\nsa flush proto ah\nsa add $ID\npolicy flush\n$P\nsa del $B'" "1 3 4 5 2 6"
plan "-replace -batch - <<<\$'sa add $ID\n$P\nsa add $ID\n$P'" "1 2 4 3"
ok "-replace -batch - <<<\$'sa add $ID\n$P\nsa add $ID\n$P'" NFSEC_CMD_SA_UPDATE NFSEC_CMD_POLICY_UPDATE
bad "-atomic -batch - <<<\$'sa add $ID\nsa add $ID'" "<stdin>:2: sa add: an SA with this dst, spi and proto exists"
bad "-atomic -batch - <<<\$'sa update $ID'" "<stdin>:1: sa update: no such SA to update"
bad "-atomic -batch - <<<\$'sa add $ID replay-window 32\nsa update $ID'" "replay-window cannot change on update (it is 32"
bad "-atomic -batch - <<<\$'sa del $ID'" "<stdin>:1: sa del: no such SA"
bad "-atomic -batch - <<<\$'$P\n$P'" "<stdin>:2: policy add: a policy with this selector and dir exists"
bad "-atomic -batch - <<<\$'$P\npolicy del src 10.1.0.0/24 dst 10.2.0.0/24 dir in'" "<stdin>:2: policy del: no such policy"
bad "-atomic -batch - <<<\$'sa add $ID\nsa show'" "<stdin>:2: sa show: not in an -atomic batch"
bad "-atomic sa show" "-atomic and -replace are for -batch"
# A bad line anywhere: not one request is sent (a plain batch sends those before it).
((n++))
if out=$(./nfsec -atomic -batch - <<<$'sa flush\nsa add '"$ID"$' ctx x' 2>&1) || grep -q NFSEC_CMD <<<"$out"; then
	echo "not ok $n - -atomic sent requests before its bad line: $out"; ((fails++))
else
	echo "ok $n - -atomic: a bad last line, no request: $out"
fi

echo "1..$n"
((fails == 0)) && echo "# all $n passed" || echo "# $fails of $n failed"
((fails == 0))
