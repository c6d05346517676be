#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The firewall sees the ESP a host sends, in both modes, as with xfrm: the ESP packet passes the
# OUTPUT and POSTROUTING chains after the cleartext one did.
#
#   a (LEFT: sender) 10.0.0.1, 10.1.0.1 lo --veth-- 10.0.0.2, 10.2.0.1 lo b (RIGHT)
#
# rfc4106(gcm(aes)) ICV 128; transport SAs for 10.0.0.1 <-> 10.0.0.2, tunnel SAs for
# 10.1.0.1 <-> 10.2.0.1 (outer 10.0.0.1 <-> 10.0.0.2, other SPIs). On a, nftables counters on
# `meta l4proto esp` in an output and a postrouting chain, and on ICMP in postrouting. Per
# mode, 5 pings a -> b: each counter +5 (the ESP of the 5 echo requests; the 5 requests
# themselves in cleartext), and the replies arrive.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
run_combos "nfsec/xfrm xfrm/nfsec"
need_cmd nft python3

tunnel_hosts
KEY=0x1111111111111111111111111111111122222222
GCM="aead rfc4106(gcm(aes)) $KEY 128"
for side in "a $LEFT" "b $RIGHT"; do
	read -r n impl <<<"$side"
	ns=${!n}
	sa "$ns" "$impl" add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x1001 reqid 1 mode transport $GCM
	sa "$ns" "$impl" add src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x2002 reqid 2 mode transport $GCM
	sa "$ns" "$impl" add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x3003 reqid 3 mode tunnel $GCM
	sa "$ns" "$impl" add src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x4004 reqid 4 mode tunnel $GCM
done
pol "$a" "$LEFT" add src 10.0.0.1 dst 10.0.0.2 dir out tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 1 mode transport
pol "$a" "$LEFT" add src 10.0.0.2 dst 10.0.0.1 dir in tmpl src 10.0.0.2 dst 10.0.0.1 proto esp reqid 2 mode transport
pol "$a" "$LEFT" add src 10.1.0.1 dst 10.2.0.1 dir out tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 3 mode tunnel
pol "$a" "$LEFT" add src 10.2.0.1 dst 10.1.0.1 dir in tmpl src 10.0.0.2 dst 10.0.0.1 proto esp reqid 4 mode tunnel
pol "$b" "$RIGHT" add src 10.0.0.2 dst 10.0.0.1 dir out tmpl src 10.0.0.2 dst 10.0.0.1 proto esp reqid 2 mode transport
pol "$b" "$RIGHT" add src 10.0.0.1 dst 10.0.0.2 dir in tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 1 mode transport
pol "$b" "$RIGHT" add src 10.2.0.1 dst 10.1.0.1 dir out tmpl src 10.0.0.2 dst 10.0.0.1 proto esp reqid 4 mode tunnel
pol "$b" "$RIGHT" add src 10.1.0.1 dst 10.2.0.1 dir in tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 3 mode tunnel

ip netns exec "$a" nft -f - <<'EOF'
table ip acct {
	counter esp_out {}
	counter esp_post {}
	counter icmp_post {}
	chain out {
		type filter hook output priority 0; policy accept;
		meta l4proto esp counter name esp_out
	}
	chain post {
		type filter hook postrouting priority 0; policy accept;
		meta l4proto esp counter name esp_post
		meta l4proto icmp counter name icmp_post
	}
}
EOF
counters()
{
	ip netns exec "$a" nft -j list counters table ip acct | python3 -c '
import json, sys
c = {o["counter"]["name"]: o["counter"]["packets"]
     for o in json.load(sys.stdin)["nftables"] if "counter" in o}
print(c["esp_out"], c["esp_post"], c["icmp_post"])'
}

for mode in transport tunnel; do
	dst=10.0.0.2
	[[ $mode == tunnel ]] && dst=10.2.0.1
	c0=$(counters)
	ip netns exec "$a" ping -c 5 -i 0.2 -W 5 "$dst" >/dev/null || fail "$mode: pings a -> $dst unanswered"
	read -r o p i <<<"$c0"
	read -r o1 p1 i1 <<<"$(counters)"
	check_eq "$mode: a's ESP in OUTPUT, in POSTROUTING, ICMP in POSTROUTING" \
		"$((o1 - o)) $((p1 - p)) $((i1 - i))" "5 5 5"
done
exit 0
