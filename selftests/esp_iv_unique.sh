#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# GCM and ChaCha20-Poly1305 never send one IV twice under one key, even when the user reuses
# the key: for both directions, and for an SA deleted and added again (its sequence numbers
# restart at 1). Two packets under one (key, nonce) give away GCM's authentication key.
#
#   a (10.0.0.1, LEFT) --veth-- b (10.0.0.2, RIGHT)
#
# Per algorithm (rfc4106(gcm(aes)), rfc7539esp(chacha20,poly1305); both send an 8-byte IV):
# ESP transport SAs a -> b and b -> a with the SAME key; 20 pings a -> b; then every SA is
# deleted and added again with that key, and 20 pings more; then every SA is updated (same
# words) and 10 pings more. Captured on the link, asserts: 50/50 pings answered, 100 ESP
# frames (50 each way), no IV (the 8 bytes after the SPI and sequence number) appears twice
# among them, and an update keeps the IVs' offset from the sequence numbers (IV xor seq is
# one value per SA from the re-add on: the sequence numbers go on, so must the salt). Runs nfsec/nfsec (nfsec sends both ways);
# COMBOS="xfrm/xfrm" validates the test itself (xfrm's seqiv salts its IVs per SA).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
run_combos "nfsec/nfsec"
need_cmd tcpdump python3
PKT="python3 $SELFTESTS_DIR/esp_pkt.py"

ns_create a b
veth_pair "$a" eth0 10.0.0.1/24 "$b" eth0 10.0.0.2/24
na() { ip netns exec "$a" "$@"; }

SPI_AB=0x1001 SPI_BA=0x2002
tmp=$(mktemp -d)
defer "rm -rf $tmp"

# sas add|update|del ALG KEY: both SAs on both sides
sas()
{
	local op=$1 alg=$2 key=$3 side n impl ns
	for side in "a $LEFT" "b $RIGHT"; do
		read -r n impl <<<"$side"
		ns=${!n}
		if [[ $op == del ]]; then
			sa "$ns" "$impl" del src 10.0.0.1 dst 10.0.0.2 proto esp spi $SPI_AB
			sa "$ns" "$impl" del src 10.0.0.2 dst 10.0.0.1 proto esp spi $SPI_BA
			continue
		fi
		sa "$ns" "$impl" "$op" src 10.0.0.1 dst 10.0.0.2 proto esp spi $SPI_AB reqid 1 \
			mode transport aead "$alg" "$key" 128
		sa "$ns" "$impl" "$op" src 10.0.0.2 dst 10.0.0.1 proto esp spi $SPI_BA reqid 2 \
			mode transport aead "$alg" "$key" 128
	done
}

pol "$a" "$LEFT" add src 10.0.0.1 dst 10.0.0.2 dir out tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 1 mode transport
pol "$a" "$LEFT" add src 10.0.0.2 dst 10.0.0.1 dir in tmpl src 10.0.0.2 dst 10.0.0.1 proto esp reqid 2 mode transport
pol "$b" "$RIGHT" add src 10.0.0.2 dst 10.0.0.1 dir out tmpl src 10.0.0.2 dst 10.0.0.1 proto esp reqid 2 mode transport
pol "$b" "$RIGHT" add src 10.0.0.1 dst 10.0.0.2 dir in tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 1 mode transport

pings() # COUNT WHAT
{
	local out
	out=$(na ping -c "$1" -i 0.05 -W 5 10.0.0.2) || fail "$2: pings: $(tail -n 2 <<<"$out")"
	grep -q "$1 received" <<<"$out" || fail "$2: pings lost: $(tail -n 2 <<<"$out")"
	pass "$2: $1/$1 pings answered"
}

# IV xor sequence number of each SA's frames after the first 20 (from the re-add on): one
# value per SA, as "SPI COUNT-OF-DISTINCT-VALUES"
iv_offsets()
{
	awk '{ n[$1]++ } n[$1] > 20 { print $1, $2, $3 }' "$1" | python3 -c '
import sys
offs = {}
for line in sys.stdin:
    spi, seq, iv = line.split()
    offs.setdefault(spi, set()).add(int(iv, 16) ^ int(seq))
print(" ".join("%s:%d" % (spi, len(v)) for spi, v in sorted(offs.items())))'
}

bad=0
for alg in 'rfc4106(gcm(aes))' 'rfc7539esp(chacha20,poly1305)'; do
	if [[ $alg == rfc4106* ]]; then
		key=0x0123456789abcdef0123456789abcdef01020304
	else
		key=0x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef01020304
	fi
	pcap=$tmp/${alg%%(*}.pcap
	cap_start "$a" eth0 "$pcap" "esp"
	sas add "$alg" "$key"
	pings 20 "$alg, one key both ways"
	sas del "$alg" "$key"
	sas add "$alg" "$key"
	pings 20 "$alg, the same SAs added again"
	sas update "$alg" "$key"
	pings 10 "$alg, the SAs updated"
	cap_stop
	sas del "$alg" "$key"

	$PKT iv "$pcap" 8 >"$tmp/ivs"
	check_eq "$alg: ESP frames a -> b" "$(grep -c "^$(printf '0x%08x' $SPI_AB) " "$tmp/ivs")" 50
	check_eq "$alg: ESP frames b -> a" "$(grep -c "^$(printf '0x%08x' $SPI_BA) " "$tmp/ivs")" 50
	got=$(iv_offsets "$tmp/ivs")
	if [[ $got != "$(printf '0x%08x:1 0x%08x:1' $SPI_AB $SPI_BA)" ]]; then
		echo "# FAIL: $alg: IV xor seq changed across sa update (SPI:distinct values): $got"
		bad=1
	else
		pass "$alg: IV xor seq constant per SA across sa update"
	fi
	dups=$(awk '{ print $3 }' "$tmp/ivs" | sort | uniq -d)
	if [[ -n $dups ]]; then
		awk 'NR == FNR { d[$1] = 1; next } $3 in d' <(echo "$dups") "$tmp/ivs" | head -n 8 |
			sed 's/^/#   spi seq iv: /'
		echo "# FAIL: $alg: $(wc -l <<<"$dups") IVs sent more than once under one key"
		bad=1
		continue
	fi
	pass "$alg: 100 frames under one key, 100 distinct IVs"
done
((!bad)) || fail "IVs repeated under one key, or their salt not kept by sa update"
