#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Decapsulation of published known-answer ESP packets (selftests/vectors/, copied from the
# shared vector set; esp_vectors.py picks the usable ones): DPDK and ODP AES-GCM tunnel
# packets, AES-CBC + HMAC-SHA-256-128 (tunnel and transport), ESP NULL + HMAC-SHA-256-128,
# RFC 3602 AES-CBC-only packets (cases 5-8), ODP's corrupted negative vector and McGrew #12
# (sequence 0xffffffff, a dummy packet with next header 59).
#
#   s --veth-- r (RIGHT: nfsec, or xfrm to validate the test; LEFT is not used)
#
# For each vector r gets its outer destination address (and the inner one in tunnel mode), an
# SA with its SPI, mode and keys and an in policy; the frame is injected from s. Asserts, on
# the counters (delivered auth_fail replay_dup replay_old):
#   with an ICV: one IV/ciphertext bit flipped  0 1 0 0
#   valid, as published                          1 0 0 0
#   the same again (one vector, with an ICV)     0 0 1 0
#   a published negative vector                  0 1 0 0
#   a dummy packet (next header 59)              discarded (rx_dummy), no ICV failure
#   an inner fragment (tunnel mode)              held for reassembly (rx_frag_reasm), not
#                                                delivered alone
# and on what r's stack received: raw sockets of ICMP, TCP, UDP and protocol 59 in r (the sink of
# esp_vectors.py) see exactly one packet per valid vector, whose protocol, addresses and bytes
# after the IPv4 header are those of the vector's published ESP plaintext, trailer removed
# (transport mode: that payload under the outer addresses), and nothing for every other step.
# The AES-CBC-only SAs (no integrity) need nfsec's allow_null=1, set for the test's duration.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
run_combos "xfrm/nfsec"
need_cmd python3

ns_create s r
if is_nfsec "$RIGHT"; then
	# RFC 3602's vectors are AES-CBC without integrity, which nfsec refuses by default
	param=/sys/module/nfsec/parameters/allow_null
	defer "echo $(cat $param) >$param"
	echo 1 >$param
fi
veth_pair "$s" eth0 "" "$r" eth0 ""
nr() { ip netns exec "$r" "$@"; }
for k in all default eth0 lo; do
	nr sysctl -qw net.ipv4.conf.$k.rp_filter=0
done
mac_r=$(ip -n "$r" -j link show eth0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
mac_s=$(ip -n "$s" -j link show eth0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
tmp=$(mktemp -d)
defer "rm -rf $tmp"
python3 "$SELFTESTS_DIR/esp_vectors.py" "$SELFTESTS_DIR/vectors" "$tmp" "$mac_r" "$mac_s" >"$tmp/plan"
nvec=$(wc -l <"$tmp/plan")
((nvec >= 14)) || fail "only $nvec usable vectors"
echo "# $nvec vectors"

spi_now=
rx()
{
	local out
	if is_nfsec "$RIGHT"; then
		out=$(nstats "$r") || fail "nfsec stats: $out"
		awk '{ v[$1] = $2 } END { print v["rx_packets"], v["rx_auth_fail"], v["rx_replay_dup"], v["rx_replay_old"] }' <<<"$out"
	else
		# one process for all (processes start slowly under emulation)
		ip netns exec "$r" sh -c "ip -s xfrm state list spi $spi_now; cat /proc/net/xfrm_stat" | awk '
			/lifetime current:/ { getline; gsub(/[(),]/, " "); p = $3 }
			$1 == "XfrmInStateProtoError" { a = $2 } $1 == "XfrmInStateSeqError" { q = $2 }
			END { print p + 0, a + 0, q + 0, 0 }'
	fi
}
# inject NAME FILE: send FILE from s, print the counter deltas since the previous call
last=
inject()
{
	local after b a ack
	echo "$2" >&"${SENDER[1]}"
	read -r -t 10 ack <&"${SENDER[0]}" || fail "the frame sender did not answer"
	sleep 0.2
	after=$(rx)
	read -ra b <<<"$last"
	read -ra a <<<"$after"
	echo "$((a[0] - b[0])) $((a[1] - b[1])) $((a[2] - b[2])) $((a[3] - b[3]))|$after"
}

# what r's stack receives, one line per packet (esp_vectors.py sink)
ip netns exec "$r" python3 -u "$SELFTESTS_DIR/esp_vectors.py" sink >"$tmp/sink" 2>&1 &
defer "kill $! 2>/dev/null"
wait_for 10 grep -q ready "$tmp/sink"
sunk=1
# delivered WANT: the lines the sink printed since the last call are WANT ("-": none); polls
# for a packet that is to arrive, and after it for another that should not
delivered()
{
	local i n got
	for ((i = 0; i < 50; i++)); do
		(($(wc -l <"$tmp/sink") > sunk)) && break
		[[ $1 == - ]] && break
		sleep 0.1
	done
	[[ $1 == - ]] || sleep 0.1
	n=$(wc -l <"$tmp/sink")
	got=$(head -n "$n" "$tmp/sink" | tail -n +$((sunk + 1)))
	sunk=$n
	[[ $got == "${1/#-/}" ]] && return 0
	echo "# delivered: '${got//$'\n'/; }', want '${1/#-/nothing}'"
	return 1
}

# one sender for all the frames (python starts slowly under emulation)
coproc SENDER { ip netns exec "$s" python3 -u "$SELFTESTS_DIR/esp_pkt.py" serve eth0; }
defer "kill $SENDER_PID 2>/dev/null"
failed=0 ndeliv=0
declare -A held
while IFS='|' read -r -u 3 name expect mode src dst spi algw isrc idst frame flipped plain; do
	spi_now=$spi
	read -ra alg <<<"$algw"
	for i in "${!alg[@]}"; do [[ ${alg[i]} == - ]] && alg[i]="''"; done
	words="src $src dst $dst proto esp spi $spi reqid 1 mode $mode replay-window 32 ${alg[*]}"
	pwords="src $isrc/32 dst $idst/32 dir in tmpl src $src dst $dst proto esp reqid 1 mode $mode"
	{
		echo "addr flush dev eth0"
		echo "addr flush dev lo"
		echo "addr add 127.0.0.1/8 dev lo"
		echo "addr add $dst/32 dev eth0"
		[[ $idst == "$dst" ]] || echo "addr add $idst/32 dev lo"
		# through a neighbour that never fails: r's answers to what it received go to s,
		# not back to r as host-unreachable errors the sink would see
		echo "route add default via 10.255.255.1 dev eth0 onlink"
		echo "neigh replace 10.255.255.1 lladdr $mac_s dev eth0 nud permanent"
		if ! is_nfsec "$RIGHT"; then
			printf 'xfrm state flush\nxfrm policy flush\nxfrm state add %s\nxfrm policy add %s\n' "$words" "$pwords"
		fi
	} | ip -n "$r" -batch - || fail "$name: configuring r"
	if is_nfsec "$RIGHT"; then
		# mss off: the sink compares a SYN's bytes with the published ones
		printf 'sa flush\npolicy flush\nsa add %s mss off\npolicy add %s\n' "$words" "$pwords" |
			ip netns exec "$r" nfsec -batch - || fail "$name: configuring nfsec"
	fi

	last=$(rx)
	steps=()
	case $expect in
	valid)
		[[ $flipped != - ]] && steps+=("flipped|$flipped|0 1 0 0")
		steps+=("as published|$frame|1 0 0 0")
		# replays are esp_replay.sh's subject; once here, on the last kind of SA
		[[ $name == odp-ipv4_icmp_0_esp_aes_cbc_sha256_1 ]] && steps+=("again|$frame|0 0 1 0") ;;
	fragment)
		[[ $flipped != - ]] && steps+=("flipped|$flipped|0 1 0 0")
		steps+=("as published|$frame|fragment") ;;
	invalid)
		steps+=("negative vector|$frame|0 1 0 0") ;;
	dummy)
		steps+=("dummy packet|$frame|dummy") ;;
	esac
	for st in "${steps[@]}"; do
		IFS='|' read -r what file want <<<"$st"
		is_nfsec "$RIGHT" || [[ $want == dummy || $want == fragment ]] || want=$(awk '{ print $1, $2, $3 + $4, 0 }' <<<"$want")
		got=$(inject "$name" "$file")
		last=${got#*|} got=${got%|*}
		body=-
		[[ $what == "as published" && $expect == valid ]] && body=$plain
		if delivered "$body"; then
			ndeliv=$((ndeliv + 1))
		else
			echo "# FAIL: $name, $what: r's stack did not receive the published plaintext"
			failed=1
		fi
		if [[ $want == dummy ]] && ! is_nfsec "$RIGHT"; then
			# xfrm's esp_remove_trailer() refuses an ESP packet with no payload (padlen + 2 +
			# ICV >= its length) and counts it as XfrmInStateProtoError, like an ICV failure
			echo "# $name, $what: xfrm: $got (not checked)"
		elif [[ $want == fragment ]] && ! is_nfsec "$RIGHT"; then
			want="1 0 0 0"
			[[ $got == "$want" ]] || { echo "# FAIL: $name, $what: xfrm: got '$got'"; failed=1; }
		elif [[ $want == fragment || $want == dummy ]]; then
			# Not delivered, no ICV failure, no replay; counted where it went: a dummy
			# packet is verified and discarded (RFC 4303 2.6), never delivered as
			# protocol 59; an inner fragment waits for the rest of its datagram.
			counter=rx_dummy
			[[ $want == fragment ]] && counter=rx_frag_reasm
			read -r d f dup old <<<"$got"
			n=$(nstat "$r" $counter)
			held[$want]=$((${held[$want]:-0} + 1))
			if ((d == 0 && f == 0 && dup == 0 && old == 0 && n == held[$want])); then
				echo "# ok: $name, $what: not delivered, $counter $n"
			else
				echo "# FAIL: $name, $what: got '$got' (delivered auth_fail replay_dup replay_old), $counter $n"
				failed=1
			fi
		elif [[ $got == "$want" ]]; then
			echo "# ok: $name ($mode), $what: $got"
		else
			echo "# FAIL: $name ($mode, ${alg[0]} ${alg[1]}), $what: (delivered auth_fail replay_dup replay_old) got '$got', want '$want'"
			failed=1
		fi
	done
done 3<"$tmp/plan"

if is_nfsec "$RIGHT"; then
	for c in rx_bad_trailer rx_too_short rx_crypto_error rx_no_mem; do
		v=$(nstat "$r" $c)
		((v == 0)) || { echo "# FAIL: $c = $v"; failed=1; }
	done
fi
((failed == 0)) || fail "some vectors were not handled as published"
pass "$nvec published vectors decapsulated or rejected as expected"
pass "$ndeliv steps delivered what they had to, the published plaintext or nothing"
