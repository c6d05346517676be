#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# IKEv2 with strongSwan: Debian's charon with the kernel-nfsec plugin (ike/, LD_PRELOADed) on
# nfsec in one namespace, Debian's charon on the kernel's xfrm (kernel-netlink) in the other.
# Each charon has its own /run (unshare -m), strongswan.conf and vici socket; swanctl loads
# the connections and initiates them.
#
#   a (nfsec)  10.0.0.1 eth0 ---veth--- eth0 10.0.0.2  b (xfrm)
#              fd00::1                         fd00::2     (permanent neighbours: no ND)
#              10.1.0.1 lo (10.1.0.0/24)      10.2.0.1 lo (10.2.0.0/24)
#              fd01::1 lo (fd01::/64)         fd02::1 lo (fd02::/64)
#
# Cases (IKE_CASES="psk-a ..." narrows them), each one IKE_SA (IKEv2, AES-CBC-256/HMAC-SHA2-256,
# X25519) with two CHILD_SAs: a tunnel between a's and b's networks behind them and a transport
# between the hosts, each with one ESP proposal:
#   psk-a   PSK, a initiates (the tunnel on demand: a trap, SA_ACQUIRE): tunnel aes128gcm16,
#           transport aes256gcm16
#   psk-b   PSK, b initiates: tunnel chacha20poly1305 (rekeyed by a, then by b), transport
#           aes256-sha256 (CBC, HMAC 128)
#   x509    certificates made with pki at test time (a CA, a host certificate each, Ed25519),
#           a initiates, IKE and both CHILD_SAs over IPv6 (fd00::1 - fd00::2): tunnel
#           aes256-sha256 between fd01::/64,10.1.0.0/24 and fd02::/64,10.2.0.0/24 (6in6 and
#           4in6 in one CHILD_SA: nfsec's flag af-unspec), transport aes128gcm16
# The PSK cases are IPv4 only (IKE, outer and inner addresses). charon on a hands out inbound
# SPIs of 0xc0de0000..0xc0de0009 (charon.spi_min, spi_max).
# Per case (each step's time since the case began is printed):
#   0. with nfsec on a, the test reserves 8 of those 10 SPIs for a's address (nfsec sa
#      allocspi, as another daemon would): nfsec counts 8 SPI reservations;
#   1. both CHILD_SAs establish, initiated at once (two swanctl --initiate: one IKE_SA, the
#      second CHILD_SA in a CREATE_CHILD_SA after IKE_AUTH; the time is printed); psk-a's
#      tunnel instead from a trap: swanctl --load-conns with start_action = trap on psk-a-tun
#      (a's side only) makes swanctl --list-pols on a show the trap and a hold exactly its three
#      policies (out, in, fwd between the networks, priority 375424, a template of ESP, tunnel
#      between the hosts, no SPI, the trap's reqid) and its route in table 220, no SA; one ping
#      from a into the tunnel (with the transport's swanctl --initiate) is not answered, and
#      brings the CHILD_SA up: charon on a got exactly one acquire (with nfsec, the plugin's
#      SA_ACQUIRE with the trap's reqid and the packet's /32 selectors), nfsec's tx_no_sa
#      counted the packet (nfsec drops it: control-plane.rst), the tunnel CHILD_SA has the
#      trap's reqid and its policies took the trap's place (the same, at priority 375423); swanctl
#      --list-sas shows one IKE_SA on each side; on a it shows the CHILD_SAs' SPIs and reqids,
#      and nfsec holds exactly those SAs (in and out, with that reqid, mode, destination,
#      replay window (the configured one inbound, none outbound), the algorithm of the proposal
#      and the flags: af-unspec on x509's tunnel SAs, none on others); b's swanctl and xfrm agree
#      the same way, and a's inbound SPIs are b's outbound ones; xfrm in a holds nothing;
#      a's inbound SPIs are in charon's range; with nfsec, they are exactly the two SPIs the
#      test left free (charon's get_spi asked nfsec's SA_ALLOCSPI), nfsec still counts the
#      test's 8 reservations and no more (the inbound SAs took charon's two over), and
#      releasing the test's (SA_DEL) leaves 0;
#   2. through each CHILD_SA, pings of 56, 1000 and 1400 bytes (1300 for x509), one of each,
#      a -> b and b -> a, all at once (x509: through the tunnel both IPv6 and IPv4): all
#      answered, and each of a's SAs counted exactly 6 packets per address pair;
#   3. 2 MiB over TCP each way through each CHILD_SA (x509: the tunnel both IPv6 and IPv4), all
#      at once, sha256 compared;
#   4. on a's eth0 (both directions) every IPv4 and IPv6 packet from the first IKE message to
#      the end is ESP with one of the four SPIs, or UDP 500/4500, or ICMPv6 neighbour or
#      router discovery or MLD (link-local), and there was IKE; more than 20 ESP packets of
#      each SPI (with xfrm on a, the decapsulated tunnel packets xfrm passes through eth0 again
#      are told apart); printed, per inbound SPI, the most a packet came behind the highest
#      sequence number before it; no drop counter of a's four SAs moved;
#      at least 3 s after the last transfer ended, swanctl --list-sas on a shows both
#      CHILD_SAs' last use in and out (use-in, use-out: nfsec's LAST_USE of SAs and policies)
#      no less than those seconds - 1, and no more than the time since the pings began + 1;
#   5. psk-b: swanctl --rekey of the tunnel CHILD_SA on a (nfsec's side initiates the
#      CREATE_CHILD_SA), then on b: each time, within a poll, one tunnel CHILD_SA on each side
#      with new inbound and outbound SPIs (the old ones gone from swanctl, from a's nfsec and
#      from b's xfrm: step 1's comparison of swanctl, nfsec and xfrm, exactly four SAs each) and
#      the same reqid, the transport's SPIs unchanged, a's new inbound SPI from charon's range
#      and no SPI reservation left; one ping each way through the tunnel: the new tunnel SAs
#      counted exactly 2 packets each, the transport's none, no drop counter of the four moved;
#   6. swanctl --terminate of the IKE_SA: nfsec on a holds no SA, no SPI reservation and
#      exactly the eight IKE bypass policies (UDP 500 and 4500, in and out, IPv4 and IPv6,
#      priority 32, no template); no route left in table 220 on either side; xfrm on b holds
#      no SA and no policy. psk-a first: the trap is left (swanctl --list-pols, its three
#      policies at 375424 beside the bypasses, its route) until swanctl --uninstall, then
#      --list-pols shows nothing and nfsec (xfrm) holds what the other cases leave.
# Throughout, no drop counter of nfsec moved but tx_no_sa by psk-a's one packet. Last, charon
# on a stops: nfsec holds nothing at all.
# Every CHILD_SA has a replay window of 1024 packets, not charon's 32 (see REPLAY_WINDOW), and
# xfrm counted no ICV failure and no packet outside its window (XfrmInStateProtoError and
# XfrmInStateSeqError unchanged on b; on a too with xfrm there).
# IKE_LEFT=xfrm runs stock charon on both sides (validates the test without nfsec).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
source "$(dirname "$0")/ike_lib.sh"
ike_setup

CASES=${IKE_CASES:-"psk-a psk-b x509"}
# charon's inbound SPIs on a (charon.spi_min, spi_max); the test reserves all but two of them
SPI_BASE=0xc0de0000 SPI_N=10 SPI_FREE="5 8"
XFER_BYTES=2097152
# ESP reaches the receiver out of order here, legitimately: a veth delivers each packet through
# the backlog of the vCPU that sent it, and on a loaded host one vCPU's softirq lags the other's.
# Seen on a's eth0: packets up to 134 (nfsec on a) and 308 (xfrm on a) behind the highest before
# them, in a flow that had left b's eth0 at most 17 behind. With charon's window of 32 both
# receivers dropped such packets, before decryption: in one run xfrm on b 28
# (XfrmInStateSeqError) and nfsec on a 33 (rx_replay_old). 1024 leaves room; anti-replay
# itself is esp_replay.sh's, ah_replay.sh's and esp_esn.sh's.
REPLAY_WINDOW=1024
tunnel_hosts
tunnel_hosts6
# no neighbour discovery between the hosts' IPv6 addresses: it would go through the transport
# CHILD_SA's policies (as with xfrm), and races the SAs' installation on the two sides
ip -n "$a" neigh replace fd00::2 lladdr "$(ip netns exec "$b" cat /sys/class/net/eth0/address)" \
	dev eth0 nud permanent
ip -n "$b" neigh replace fd00::1 lladdr "$(ip netns exec "$a" cat /sys/class/net/eth0/address)" \
	dev eth0 nud permanent
ike_tmp

# The counters that must not move at all
NAMES="rx_auth_fail rx_replay_dup rx_replay_old rx_bad_trailer rx_too_short rx_policy_mismatch
	rx_unprotected rx_no_mem rx_crypto_error tx_no_sa tx_no_mem tx_crypto_error tx_no_route
	tx_error"

# ---- configuration

psk=$(od -An -tx1 -N 24 /dev/urandom | tr -d ' \n')

# swanctl_conf DIR ME PEER [FILE TRAP] (ME a or b): DIR/swanctl.conf, or DIR/FILE with
# start_action = trap on the CHILD_SA TRAP
swanctl_conf()
{
	local dir=$1 me=$2 peer=$3 file=${4:-swanctl.conf} trap=${5:-} addr paddr net pnet c auth tun tr
	mkdir -p "$dir/x509" "$dir/x509ca" "$dir/private"
	{
		echo "connections {"
		for c in psk-a psk-b x509; do
			read -r auth tun tr <<<"$(case_params "$c")"
			if [[ $me == a ]]; then
				read -r addr paddr net pnet <<<"$(case_net "$c")"
			else
				read -r paddr addr pnet net <<<"$(case_net "$c")"
			fi
			conn_head "$c" "$addr" "$paddr"
			cat <<EOF
		dpd_delay = 0
		local {
			auth = $auth
			id = $me-$c.nfsec.test
$([[ $auth == pubkey ]] && echo "			certs = $me.pem")
		}
		remote {
			auth = $auth
			id = $peer-$c.nfsec.test
		}
		children {
			$c-tun {
				replay_window = $REPLAY_WINDOW
				mode = tunnel
				local_ts = $net
				remote_ts = $pnet
				esp_proposals = $tun
$([[ $c-tun == "$trap" ]] && echo "				start_action = trap")
			}
			$c-tr {
				replay_window = $REPLAY_WINDOW
				mode = transport
				esp_proposals = $tr
			}
		}
	}
EOF
		done
		echo "}"
		cat <<EOF
secrets {
	ike-psk-a {
		id-1 = a-psk-a.nfsec.test
		id-2 = b-psk-a.nfsec.test
		secret = 0x$psk
	}
	ike-psk-b {
		id-1 = a-psk-b.nfsec.test
		id-2 = b-psk-b.nfsec.test
		secret = 0x$psk
	}
}
EOF
	} >"$dir/$file"
}

# case_params CASE: AUTH TUNNEL-PROPOSAL TRANSPORT-PROPOSAL
case_params()
{
	case $1 in
	psk-a)	echo "psk aes128gcm16 aes256gcm16" ;;
	psk-b)	echo "psk chacha20poly1305 aes256-sha256" ;;
	x509)	echo "pubkey aes256-sha256 aes128gcm16" ;;
	*)	fail "unknown case '$1'" ;;
	esac
}

# case_net CASE: A-ADDR B-ADDR A-TS B-TS: the hosts' addresses (IKE, transport, tunnel ends) and
# the tunnel's traffic selectors
case_net()
{
	case $1 in
	x509)	echo "fd00::1 fd00::2 fd01::/64,10.1.0.0/24 fd02::/64,10.2.0.0/24" ;;
	*)	echo "10.0.0.1 10.0.0.2 10.1.0.0/24 10.2.0.0/24" ;;
	esac
}

# case_tunnel CASE: the pairs "A-HOST B-HOST" the tunnel carries, one a line
case_tunnel()
{
	case $1 in
	x509)	printf '%s\n' "fd01::1 fd02::1" "10.1.0.1 10.2.0.1" ;;
	*)	echo "10.1.0.1 10.2.0.1" ;;
	esac
}

# make_certs: a CA and one certificate per side, Ed25519, their IDs as subjectAltNames
make_certs()
{
	local s d c
	export STRONGSWAN_CONF=$tmp/tools.conf
	pki --gen --type ed25519 --outform pem >"$tmp/ca.key"
	pki --self --ca --lifetime 2 --in "$tmp/ca.key" --type ed25519 --dn "CN=nfsec test CA" \
		--outform pem >"$tmp/ca.pem"
	for s in a b; do
		d=$tmp/$s
		pki --gen --type ed25519 --outform pem >"$d/private/$s.key"
		pki --pub --in "$d/private/$s.key" |
			pki --issue --lifetime 2 --cacert "$tmp/ca.pem" --cakey "$tmp/ca.key" --type pub \
				--dn "CN=$s-x509.nfsec.test" --san "$s-x509.nfsec.test" --outform pem \
				>"$d/x509/$s.pem"
		cp "$tmp/ca.pem" "$d/x509ca/ca.pem"
	done
	unset STRONGSWAN_CONF
	for c in "$tmp/a/x509/a.pem" "$tmp/b/x509/b.pem"; do
		[[ -s $c ]] || fail "pki made no certificate $c"
	done
	pass "pki: a CA and two host certificates (Ed25519)"
}

# ---- what each side holds

# check_sas [rekeyed]: step 1, for the CHILD_SAs of the case (the only ones), as children_up last
# listed them; after a rekey only a's inbound SPIs in charon's range, not the reservations
check_sas()
{
	local ca cb want_a want_b got mode reqid in out encr ks integ m fl
	ca=$(children a) cb=$(children b)
	printf '#   a: %s\n' "${ca//$'\n'/$'\n'#   a: }"
	check_eq "CHILD_SAs on a" "$(awk '{ print $1 }' <<<"$ca" | xargs)" "$CHILDREN"
	check_eq "CHILD_SAs on b" "$(awk '{ print $1 }' <<<"$cb" | xargs)" "$CHILDREN"
	# the same SPIs seen from both ends, each side's reqid its own
	check_eq "a's inbound SPIs = b's outbound ones" "$(awk '{ print $1, $4, $5 }' <<<"$ca")" \
		"$(awk '{ print $1, $5, $4 }' <<<"$cb")"
	want_a='' want_b=
	while read -r _ mode reqid in out encr ks integ; do
		m=${mode,,}
		# both CHILD_SAs' SAs are between the hosts
		if is_nfsec "$LEFT"; then
			# the inbound SA with charon's replay window, the outbound one without
			# a tunnel carrying the other family too takes both
			fl=-
			[[ $m == tunnel && $CASE == x509 ]] && fl=af-unspec
			want_a+="$in $reqid $m $A_ADDR $REPLAY_WINDOW $(nfsec_alg "$encr" "$ks" "$integ") $fl"$'\n'
			want_a+="$out $reqid $m $B_ADDR 0 $(nfsec_alg "$encr" "$ks" "$integ") $fl"$'\n'
		else
			want_a+="$in $reqid $m $A_ADDR"$'\n'"$out $reqid $m $B_ADDR"$'\n'
		fi
	done <<<"$ca"
	while read -r _ mode reqid in out _; do
		want_b+="$in $reqid ${mode,,} $B_ADDR"$'\n'"$out $reqid ${mode,,} $A_ADDR"$'\n'
	done <<<"$cb"
	if is_nfsec "$LEFT"; then
		got=$(nfsec_sas "$a")
		check_eq "nfsec's SAs on a (SPI reqid mode dst replay-window algorithm)" "$got" "$(sort <<<"${want_a%$'\n'}")"
		check_eq "xfrm SAs on a (nfsec's side)" "$(ip -n "$a" xfrm state | wc -l)" 0
	else
		check_eq "xfrm's SAs on a (SPI reqid mode dst)" "$(xfrm_sas "$a")" "$(sort <<<"${want_a%$'\n'}")"
	fi
	check_eq "xfrm's SAs on b (SPI reqid mode dst)" "$(xfrm_sas "$b")" "$(sort <<<"${want_b%$'\n'}")"
	# for the wire and the counters
	read -r _ _ _ TUN_IN TUN_OUT _ <<<"$(grep -- "-tun " <<<"$ca")"
	read -r _ _ _ TR_IN TR_OUT _ <<<"$(grep -- "-tr " <<<"$ca")"
	check_spis "${1:-}"
}

# spi_list: the SPIs of charon's range on a the test reserves, one a line
spi_list()
{
	local i
	for ((i = 0; i < SPI_N; i++)); do
		[[ " $SPI_FREE " == *" $i "* ]] || printf '0x%08x\n' $((SPI_BASE + i))
	done
}

# spi_reservations: nfsec's count of SPI reservations on a
spi_reservations() { ip netns exec "$a" nfsec -j stats | jq -r .spi_reservations; }

# reserve_spis: step 0, the SPIs of spi_list reserved for a's address, as another daemon would
reserve_spis()
{
	is_nfsec "$LEFT" || return 0
	# shellcheck disable=SC2016,SC2046 # for sh -c; one SPI a word
	ip netns exec "$a" sh -c 'dst=$1; shift; for s; do
		nfsec sa allocspi dst "$dst" proto esp min "$s" max "$s" timeout 600 >/dev/null || exit 1
		done' sh "$A_ADDR" $(spi_list) || fail "$CASE: nfsec sa allocspi"
	check_eq "$CASE: SPI reservations on a before IKE" "$(spi_reservations)" "$(spi_list | wc -l)"
}

# check_spis: step 1's SPIs: a's inbound ones in charon's range; with nfsec, the two the test
# left free (reserved by charon's get_spi, taken over by the inbound SAs), then the test's
# reservations released
check_spis()
{
	local s want=
	for s in $TUN_IN $TR_IN; do
		((s >= SPI_BASE && s < SPI_BASE + SPI_N)) ||
			fail "$CASE: a's inbound SPI $s is not in charon's spi_min..spi_max"
	done
	pass "$CASE: a's inbound SPIs $TUN_IN $TR_IN in charon's range"
	is_nfsec "$LEFT" || return 0
	if [[ ${1:-} == rekeyed ]]; then
		check_eq "$CASE: SPI reservations on a, rekeyed" "$(spi_reservations)" 0
		return 0
	fi
	for s in $SPI_FREE; do
		want+="$(printf '0x%08x' $((SPI_BASE + s))) "
	done
	check_eq "$CASE: a's inbound SPIs (the two the test did not reserve: SA_ALLOCSPI)" \
		"$(printf '%s\n' "$TUN_IN" "$TR_IN" | sort | xargs)" "${want% }"
	check_eq "$CASE: SPI reservations on a, established (charon's taken over by its SAs)" \
		"$(spi_reservations)" "$(spi_list | wc -l)"
	# shellcheck disable=SC2016,SC2046 # for sh -c; one SPI a word
	ip netns exec "$a" sh -c 'dst=$1; shift; for s; do
		nfsec sa del dst "$dst" proto esp spi "$s" || exit 1
		done' sh "$A_ADDR" $(spi_list) || fail "$CASE: releasing the test's SPI reservations"
	check_eq "$CASE: SPI reservations on a, the test's released" "$(spi_reservations)" 0
}

# a_sas SPI...: "SPI PACKETS DROPS" of a's SAs (nfsec's or xfrm's), DROPS the counters of NAMES
# that moved ("name=N,...", "-" for none; always "-" for xfrm), one call for all
a_sas()
{
	local spi
	if is_nfsec "$LEFT"; then
		ip netns exec "$a" nfsec -s -j sa show | jq -r --arg names "$NAMES" --arg spis "$*" '
			([$names | splits("\\s+") | select(. != "")]) as $names |
			(map({key: .spi, value: .}) | from_entries) as $sas |
			$spis | splits(" ") | . as $spi | $sas[$spi] as $sa |
			if $sa == null then "\($spi) none -" else
				"\($spi) \($sa.current.packets) " +
				([$names[] as $n | select(($sa.stats[$n] // 0) != 0) | "\($n)=\($sa.stats[$n])"] |
				 if length == 0 then "-" else join(",") end)
			end'
	else
		for spi; do
			echo "$spi $(xsa_packets "$a" "$spi") -"
		done
	fi
}

# pings: step 2, through both CHILD_SAs at once
pings()
{
	local t what to_a to_b size from dst k n=0 spi p0 p1 ntun sizes="56 1000 1400"
	local -A pid=() run=() before=()
	# IPv6 in IPv6 (and IPv4 in IPv6) of 1400 bytes would not fit the link's 1500 with ESP
	[[ $CASE == x509 ]] && sizes="56 1000 1300"
	ntun=$(case_tunnel "$CASE" | wc -l)
	while read -r spi p0 _; do
		before[$spi]=$p0
	done < <(a_sas "$TUN_IN" "$TUN_OUT" "$TR_IN" "$TR_OUT")
	while read -r t; do
		read -r what to_a to_b <<<"$t"
		for size in $sizes; do
			for from in a b; do
				dst=$to_b
				[[ $from == b ]] && dst=$to_a
				k=$what.$to_b.$size.$from
				# One echo each: the exact counts below need no more, and under TCG
				# every process started costs (ping -c 2 would also wait max(2 RTTs,
				# the interval) for its last reply)
				ip netns exec "${!from}" ping -c 1 -W 20 -s "$size" "$dst" \
					>"$tmp/ping.$k" 2>&1 &
				pid[$k]=$!
				run[$k]="$CASE $what: ping -s $size $from -> $dst"
			done
		done
	done < <(case_tunnel "$CASE" | sed 's/^/tunnel /'; echo "transport $A_ADDR $B_ADDR")
	for k in "${!pid[@]}"; do
		wait "${pid[$k]}" ||
			die_logs "${run[$k]}: $(tail -n 2 "$tmp/ping.$k" | tr '\n' ' ')"
		grep -q " 1 received" "$tmp/ping.$k" ||
			die_logs "${run[$k]} lost packets: $(grep received "$tmp/ping.$k" | tr '\n' ' ')"
		n=$((n + 1))
	done
	pass "$CASE: pings of ${sizes// /, } bytes each way through both CHILD_SAs, $n answered"
	while read -r spi p1 _; do
		k=6
		[[ $spi == "$TUN_IN" || $spi == "$TUN_OUT" ]] && k=$((6 * ntun))
		check_eq "$CASE: packets of a's SA $spi ($(sa_name "$spi")) after the pings" \
			"$((p1 - before[$spi]))" $k
	done < <(a_sas "$TUN_IN" "$TUN_OUT" "$TR_IN" "$TR_OUT")
}

# sa_name SPI: which of a's SAs it is
sa_name()
{
	case $1 in
	"$TUN_IN")	echo "tunnel, in" ;;
	"$TUN_OUT")	echo "tunnel, out" ;;
	"$TR_IN")	echo "transport, in" ;;
	"$TR_OUT")	echo "transport, out" ;;
	esac
}

# xfers: step 3, XFER_BYTES over TCP each way through each CHILD_SA (and each family of the
# tunnel), all at once
xfers()
{
	local k rc=0 port=5000 ha hb ports=
	local -A pid=()
	while read -r ha hb; do
		for k in "$a $b $hb" "$b $a $ha"; do
			port=$((port + 1)) ports+=" $port"
			# shellcheck disable=SC2086 # three words
			(TMPDIR=$tmp xfer $k $port "$XFER_BYTES") >"$tmp/xfer.$port" 2>&1 &
			pid[$port]=$!
		done
	done < <(case_tunnel "$CASE"; echo "$A_ADDR $B_ADDR")
	for k in $ports; do
		wait "${pid[$k]}" || rc=1
		cat "$tmp/xfer.$k"
	done
	((rc == 0)) || die_logs "$CASE: a TCP transfer failed (above)"
	# xfer's own cleanup does not run in a subshell
	rm -rf "$tmp"/tmp.*
}

# wire CASE: step 4, from one pass over the capture: the ESP of each of the four SPIs, IKE, and
# anything else (none allowed); with xfrm on a, the decapsulated tunnel packets xfrm hands to the
# stack again through eth0 (where the capture sees them: they are not on the wire) are told
# apart. Also, per inbound SPI, how far behind the highest sequence number seen before it a
# packet came (printed: what a replay window must tolerate)
wire()
{
	local c=$1 out decap=0 n spi
	is_nfsec "$LEFT" || decap=1
	out=$(tcpdump -r "$tmp/$c.pcap" -n -t 2>/dev/null | awk -v spis="$TUN_IN $TUN_OUT $TR_IN $TR_OUT" \
		-v ins="$TUN_IN $TR_IN" -v decap=$decap -v w="$REPLAY_WINDOW" '
		function hex(h,   i, v) { v = 0; h = tolower(h); sub(/^0x/, "", h)
			for (i = 1; i <= length(h); i++)
				v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
			return v }
		function key(h) { h = tolower(h); sub(/^0x0*/, "", h); return h }
		function addr(w,   x) { sub(/:$/, "", w)
			if (w ~ /:/) { sub(/\.[0-9]+$/, "", w); return w }
			split(w, x, "."); return x[1] "." x[2] "." x[3] "." x[4] }
		function port(w,   x, n) { sub(/:$/, "", w); n = split(w, x, ".")
			if (w ~ /:/) return n == 2 ? x[2] : ""
			return n == 5 ? x[5] : "" }
		BEGIN { k = split(spis, s, " "); for (i = 1; i <= k; i++) { want[key(s[i])] = s[i]; n[s[i]] = 0 }
			split(ins, x, " "); for (i in x) inbound[key(x[i])] = 1 }
		match($0, /ESP\(spi=0x[0-9a-f]+,seq=0x[0-9a-f]+\)/) {
			e = substr($0, RSTART + 8, RLENGTH - 9); split(e, f, ",seq=")
			spi = key(f[1]); seq = hex(f[2])
			if (!(spi in want)) { other++; if (shown++ < 8) print "other " $0; next }
			n[want[spi]]++
			if (spi in inbound) {
				if (seq > top[spi]) top[spi] = seq
				else if (top[spi] - seq > lag[spi]) lag[spi] = top[spi] - seq
				if (seq + w <= top[spi]) late[spi]++
			}
			next
		}
		($1 == "IP" || $1 == "IP6") &&
			(port($2) == 500 || port($2) == 4500 || port($4) == 500 || port($4) == 4500) &&
			$0 ~ /(isakmp|NONESP|UDP)/ { ike++; next }
		$1 == "IP6" && addr($2) ~ /^fe80:/ &&
			$0 ~ /ICMP6, (neighbor|router|multicast listener)/ { nd++; next }
		decap && (($1 == "IP" && addr($2) == "10.2.0.1" && addr($4) == "10.1.0.1") ||
			($1 == "IP6" && addr($2) == "fd02::1" && addr($4) == "fd01::1")) { dec++; next }
		{ other++; if (shown++ < 8) print "other " $0 }
		END { for (i = 1; i <= k; i++) print "esp", s[i], n[s[i]], lag[key(s[i])] + 0, late[key(s[i])] + 0
			print "ike", ike + 0; print "decap", dec + 0; print "nd", nd + 0
			print "others", other + 0 }')
	grep "^other " <<<"$out" | sed 's/^other /#   /' || true
	esp=0
	while read -r _ spi n lag late; do
		((n > 20)) || fail "$c: only $n ESP packets of SPI $spi ($(sa_name "$spi")) on the wire"
		[[ $spi == "$TUN_IN" || $spi == "$TR_IN" ]] &&
			echo "# $c: SPI $spi ($(sa_name "$spi")): $n ESP packets, one up to $lag behind the highest before it, $late outside a window of $REPLAY_WINDOW"
		esp=$((esp + n))
	done < <(grep "^esp " <<<"$out")
	ike=$(awk '$1 == "ike" { print $2 }' <<<"$out")
	((ike > 0)) || fail "$c: no IKE packet on the wire"
	if ((decap)); then
		n=$(awk '$1 == "decap" { print $2 }' <<<"$out")
		echo "# $c: $n decapsulated tunnel packets seen again on eth0 (xfrm on a)"
	fi
	check_eq "$c: IP packets on a's eth0 neither ESP of the CHILD_SAs nor IKE (nor link-local ND)" \
		"$(awk '$1 == "others" { print $2 }' <<<"$out")" 0
	pass "$c: wire: $esp ESP packets of the 4 SPIs, $ike IKE, $(awk '$1 == "nd" { print $2 }' <<<"$out") link-local ND/MLD"
}

# xfrm_errors: "NS:COUNTER VALUE" of xfrm's ICV and replay failures on its sides
xfrm_errors()
{
	local ns n
	for ns in "$b" $(is_nfsec "$LEFT" || echo "$a"); do
		for n in XfrmInStateProtoError XfrmInStateSeqError; do
			echo "$(side "$ns"):$n $(xstat "$ns" $n)"
		done
	done
}

# check_use T-PINGS T-END: the use times swanctl shows on a (seconds since the last packet in and
# out of each CHILD_SA), at least 3 s after the traffic that began at T-PINGS ended at T-END
# (EPOCHREALTIME, microseconds)
check_use()
{
	local t0=$1 t1=$2 now lo hi name in out
	now=${EPOCHREALTIME/./}
	# the gap tells the last use from the time of the query (the time usually passed already)
	while ((now - t1 < 3000000)); do
		sleep 0.2
		now=${EPOCHREALTIME/./}
	done
	lo=$(((now - t1) / 1000000 - 1))
	list_sas a
	hi=$(((${EPOCHREALTIME/./} - t0) / 1000000 + 2))
	while read -r name in out; do
		[[ $in =~ ^[0-9]+$ && $out =~ ^[0-9]+$ ]] ||
			die_logs "$CASE: $name on a shows no last use (use-in '$in', use-out '$out')"
		((in >= lo && in <= hi && out >= lo && out <= hi)) ||
			die_logs "$CASE: $name on a: last use in $in s, out $out s ago, want $lo..$hi"
		pass "$CASE: $name on a: last use in $in s, out $out s ago (traffic ended $((lo + 1)) s ago)"
	done < <(awk '
		function out() { if (name != "") print name, (uin == "" ? "-" : uin), (uout == "" ? "-" : uout); name = "" }
		$1 == "name" && $2 == "=" { out(); name = $3; uin = uout = "" }
		$1 == "use-in" { uin = $3 }
		$1 == "use-out" { uout = $3 }
		END { out() }' "$tmp/sas.a" | sort)
}

# ---- trap policies (psk-a) and rekeying (psk-b)

# The priorities charon gives the tunnel's policies (kernel-netlink's, the plugin's alike):
# 200000 + 200000 - (24 + 24) * 512, one less when installed than when a trap
PRIO_TRAP=375424 PRIO_INSTALLED=375423

# tun_policies: a's policies of psk-a's tunnel (nfsec's or xfrm's), "DIR PRIORITY SRC DST
# TMPL-SRC TMPL-DST PROTO SPI REQID MODE" per policy, sorted
tun_policies()
{
	if is_nfsec "$LEFT"; then
		ip netns exec "$a" nfsec -j policy show | jq -r '.[] |
			select(.sel.src == "10.1.0.0/24" or .sel.dst == "10.1.0.0/24") |
			"\(.dir) \(.priority) \(.sel.src) \(.sel.dst) " + (if has("tmpl") then
			"\(.tmpl.src) \(.tmpl.dst) \(.tmpl.proto) \(.tmpl.spi) \(.tmpl.reqid) \(.tmpl.mode)"
			else "- - - - - -" end) + (if .action == "allow" then "" else " \(.action)" end)'
	else
		ip -n "$a" xfrm policy | awk '
			function out() { if (dir != "") print dir, prio, src, dst, ts, td, proto, spi, reqid, mode; dir = "" }
			/^src / { out(); src = $2; dst = $4; ts = td = proto = reqid = mode = "-"; spi = "0x00000000" }
			$1 == "dir" { dir = $2; prio = $4 }
			$1 == "tmpl" { ts = $3; td = $5 }
			$1 == "proto" { for (i = 1; i < NF; i++) { if ($i == "proto") proto = $(i + 1)
				if ($i == "spi") spi = $(i + 1); if ($i == "reqid") reqid = $(i + 1)
				if ($i == "mode") mode = $(i + 1) } }
			END { out() }' | grep -E " 10\.[12]\.0\.0/24 " || true
	fi | sort
}

# tun_policies_want PRIORITY REQID [OUT-SPI]: the three (out, in, fwd) with a template of REQID,
# no SPI; kernel-netlink puts the outbound SA's SPI into xfrm's out policy (OUT-SPI), the
# plugin none (nfsec's template takes the newest SA of its reqid)
tun_policies_want()
{
	local spi=0x00000000
	is_nfsec "$LEFT" || spi=${3:-$spi}
	printf '%s\n' "fwd $1 10.2.0.0/24 10.1.0.0/24 10.0.0.2 10.0.0.1 esp 0x00000000 $2 tunnel" \
		"in $1 10.2.0.0/24 10.1.0.0/24 10.0.0.2 10.0.0.1 esp 0x00000000 $2 tunnel" \
		"out $1 10.1.0.0/24 10.2.0.0/24 10.0.0.1 10.0.0.2 esp $spi $2 tunnel"
}

# trap_route: the source route of the trap's (or the CHILD_SA's) out policy in a's table 220
TRAP_ROUTE="10.2.0.0/24 via 10.0.0.2 dev eth0 proto static src 10.1.0.1"

# check_trap WHAT: charon on a has psk-a-tun's trap (swanctl --list-pols), its three policies are
# in nfsec (xfrm) at the trap's priority with a template of TRAP_REQID, and its route
check_trap()
{
	check_eq "$1: a's trap policies (swanctl --list-pols)" "$(sw a --list-pols | xargs)" \
		"psk-a/psk-a-tun, TUNNEL local: 10.1.0.0/24 remote: 10.2.0.0/24"
	check_eq "$1: a's tunnel policies" "$(tun_policies)" "$(tun_policies_want $PRIO_TRAP "$TRAP_REQID")"
}

# no_sa_drops: a's packets dropped for want of an SA (nfsec's tx_no_sa, xfrm's
# XfrmOutNoStates)
no_sa_drops()
{
	if is_nfsec "$LEFT"; then
		nstat "$a" tx_no_sa
	else
		xstat "$a" XfrmOutNoStates
	fi
}

# acquires: the acquires charon on a got from its kernel backend (its log, knl 2)
acquires()
{
	grep -E "received (an nfsec SA_ACQUIRE|a XFRM_MSG_ACQUIRE)" "$tmp/a/charon.log" |
		sed -E 's/^.*received //' || true
}

# trap_up: step 1 of psk-a: psk-a-tun's trap loaded (start_action = trap), and established by one
# packet's SA_ACQUIRE; psk-a-tr initiated at once as in the other cases
trap_up()
{
	local t0 p2 d0 want
	sw a --load-conns --file "$tmp/a/trap.conf" >"$tmp/$CASE.trap" 2>&1 ||
		die_logs "$CASE: swanctl --load-conns with start_action = trap: $(cat "$tmp/$CASE.trap")"
	TRAP_REQID=$(tun_policies | awk '$1 == "out" { print $9 }')
	[[ $TRAP_REQID =~ ^[1-9][0-9]*$ ]] || die_logs "$CASE: no trap policy with a reqid: $(tun_policies)"
	check_trap "$CASE: trap loaded"
	if is_nfsec "$LEFT"; then
		check_eq "$CASE: nfsec SAs on a with the trap" "$(nfsec_sas "$a")" ""
	else
		check_eq "$CASE: xfrm SAs on a with the trap" "$(ip -n "$a" xfrm state)" ""
	fi
	check_eq "$CASE: routes in table 220 on a with the trap" \
		"$(ip -n "$a" route show table 220 | xargs)" "$TRAP_ROUTE"
	d0=$(no_sa_drops)
	step "trap installed (reqid $TRAP_REQID)"

	# One packet into the tunnel: nfsec drops it (tx_no_sa) and sends SA_ACQUIRE; the ping
	# gets EPERM at once (xfrm: the packet goes to a blackhole, the ping waits its second)
	t0=${EPOCHREALTIME/./}
	ip netns exec "$a" ping -c 1 -W 1 10.2.0.1 >"$tmp/$CASE.ping0" 2>&1 &&
		die_logs "$CASE: the first ping into the trap was answered: $(cat "$tmp/$CASE.ping0")"
	sw a --initiate --child "$CASE-tr" --timeout 120 >"$tmp/$CASE.init2" 2>&1 &
	p2=$!
	wait $p2 || die_logs "$CASE: initiating $CASE-tr from a: $(tail -n 3 "$tmp/$CASE.init2" | tr '\n' ' ')"
	wait_secs 60 children_up
	pass "$CASE: IKE_SA and both CHILD_SAs established in $(((${EPOCHREALTIME/./} - t0) / 1000)) ms (the tunnel by SA_ACQUIRE)"
	want="a XFRM_MSG_ACQUIRE"
	is_nfsec "$LEFT" &&
		want="an nfsec SA_ACQUIRE for reqid {$TRAP_REQID}: 10.1.0.1/32[icmp] === 10.2.0.1/32[icmp]"
	check_eq "$CASE: acquires charon on a received" "$(acquires)" "$want"
	if is_nfsec "$LEFT"; then
		check_eq "$CASE: nfsec's tx_no_sa on a (the first packet, dropped)" \
			"$(($(no_sa_drops) - d0))" 1
	else
		echo "# $CASE: xfrm's XfrmOutNoStates on a moved by $(($(no_sa_drops) - d0))"
	fi
	check_eq "$CASE: the tunnel's reqid on a (swanctl), the trap's" \
		"$(children a | awk -v n="$CASE-tun" '$1 == n { print $3 }')" "$TRAP_REQID"
	check_eq "$CASE: a's tunnel policies, established" "$(tun_policies)" \
		"$(tun_policies_want $PRIO_INSTALLED "$TRAP_REQID" \
			"$(children a | awk -v n="$CASE-tun" '$1 == n { print $5 }')")"
}

# trap_down: after --terminate, the trap is left (policies, route), until swanctl --uninstall
trap_down()
{
	check_trap "$CASE: terminated"
	check_empty "$CASE: terminated, the trap left" bypass trap
	sw a --uninstall --child "$CASE-tun" >"$tmp/$CASE.uninstall" 2>&1 ||
		die_logs "$CASE: swanctl --uninstall: $(cat "$tmp/$CASE.uninstall")"
	check_eq "$CASE: a's trap policies (swanctl --list-pols), uninstalled" "$(sw a --list-pols)" ""
}

# rekeyed OLD-SPI-IN: the tunnel CHILD_SA rekeyed (a's inbound SPI not OLD-SPI-IN), the old
# CHILD_SA gone from both charons and its SAs from a's nfsec (xfrm) and b's xfrm
# shellcheck disable=SC2317 # called by wait_for
rekeyed()
{
	list_sas a && list_sas b &&
		[[ $(grep -c "^ *name = " "$tmp/sas.a") == 2 && $(grep -c "^ *name = " "$tmp/sas.b") == 2 &&
			$(children a | awk '{ print $1 }' | xargs) == "$CHILDREN" &&
			$(children b | awk '{ print $1 }' | xargs) == "$CHILDREN" &&
			$(children a | awk -v n="$CASE-tun" '$1 == n { print $4 }') != "$1" ]] &&
		if is_nfsec "$LEFT"; then
			[[ $(nfsec_sas "$a" | wc -l) == 4 ]]
		else
			[[ $(xfrm_sas "$a" | wc -l) == 4 ]]
		fi && [[ $(xfrm_sas "$b" | wc -l) == 4 ]]
}

# rekey SIDE: swanctl --rekey of the tunnel CHILD_SA on SIDE: new SPIs both ways with the same
# reqid, the old SAs gone from both kernels, one ping each way through the new SAs
rekey()
{
	local s=$1 in=$TUN_IN out=$TUN_OUT tr_in=$TR_IN tr_out=$TR_OUT reqid t0 spi p0 p1 drops k
	local -A before=() pid=()
	reqid=$(children a | awk -v n="$CASE-tun" '$1 == n { print $3 }')
	t0=${EPOCHREALTIME/./}
	sw "$s" --rekey --child "$CASE-tun" >"$tmp/$CASE.rekey.$s" 2>&1 ||
		die_logs "$CASE: swanctl --rekey on $s: $(cat "$tmp/$CASE.rekey.$s")"
	wait_secs 60 rekeyed "$in"
	pass "$CASE: $CASE-tun rekeyed by $s, the old CHILD_SA and SAs gone, in $(((${EPOCHREALTIME/./} - t0) / 1000)) ms"
	check_sas rekeyed
	check_eq "$CASE: the tunnel's reqid on a, rekeyed by $s" \
		"$(children a | awk -v n="$CASE-tun" '$1 == n { print $3 }')" "$reqid"
	[[ $TUN_IN != "$in" && $TUN_OUT != "$out" ]] ||
		die_logs "$CASE: rekeyed by $s: SPIs in $TUN_IN out $TUN_OUT, before in $in out $out"
	check_eq "$CASE: the transport's SPIs on a, the tunnel rekeyed by $s" "$TR_IN $TR_OUT" "$tr_in $tr_out"
	pass "$CASE: the tunnel's SPIs on a, rekeyed by $s: in $in -> $TUN_IN, out $out -> $TUN_OUT"
	while read -r spi p0 _; do
		before[$spi]=$p0
	done < <(a_sas "$TUN_IN" "$TUN_OUT" "$TR_IN" "$TR_OUT")
	ip netns exec "$a" ping -c 1 -W 20 10.2.0.1 >"$tmp/ping.rekey.a" 2>&1 &
	pid[a]=$!
	ip netns exec "$b" ping -c 1 -W 20 10.1.0.1 >"$tmp/ping.rekey.b" 2>&1 &
	pid[b]=$!
	for k in a b; do
		wait "${pid[$k]}" ||
			die_logs "$CASE: ping from $k through the rekeyed tunnel: $(tail -n 2 "$tmp/ping.rekey.$k" | tr '\n' ' ')"
	done
	while read -r spi p1 drops; do
		k=0
		[[ $spi == "$TUN_IN" || $spi == "$TUN_OUT" ]] && k=2
		check_eq "$CASE: packets of a's SA $spi ($(sa_name "$spi")) after a ping each way, rekeyed by $s" \
			"$((p1 - before[$spi]))" $k
		check_eq "$CASE: a's SA $spi ($(sa_name "$spi")) drop counters, rekeyed by $s" "$drops" "-"
	done < <(a_sas "$TUN_IN" "$TUN_OUT" "$TR_IN" "$TR_OUT")
}

# ---- a case

run_case()
{
	local c=$1 auth tun tr init t0 p1 p2 s spi n drops t_pings t_end
	read -r auth tun tr <<<"$(case_params "$c")"
	read -r A_ADDR B_ADDR _ <<<"$(case_net "$c")"
	init=a
	[[ $c == psk-b ]] && init=b
	CHILDREN="$c-tr $c-tun"
	echo "# ---- $c: $auth, tunnel $tun, transport $tr, $init initiates"
	CASE=$c CASE_T0=${EPOCHREALTIME/./}
	xfrm_errors >"$tmp/$c.xfrm0"
	CAP_SNAPLEN=64 CAP_BUFFER=8192 cap_start "$a" eth0 "$tmp/$c.pcap" "ip or ip6"
	reserve_spis

	# Both CHILD_SAs at once: charon serializes the two initiates' lookup of the IKE_SA by
	# config, so the second joins the IKE_SA the first sets up (its CHILD_SA follows IKE_AUTH in
	# a CREATE_CHILD_SA). swanctl returns when a CHILD_SA of that IKE_SA is up, maybe the other
	# one: children_up waits for both. psk-a's tunnel comes from its trap instead (trap_up).
	if [[ $c == psk-a ]]; then
		trap_up
	else
		t0=${EPOCHREALTIME/./}
		sw $init --initiate --child "$c-tun" --timeout 120 >"$tmp/$c.init" 2>&1 &
		p1=$!
		sw $init --initiate --child "$c-tr" --timeout 120 >"$tmp/$c.init2" 2>&1 &
		p2=$!
		wait $p1 || die_logs "$c: initiating $c-tun from $init: $(tail -n 3 "$tmp/$c.init" | tr '\n' ' ')"
		wait $p2 || die_logs "$c: initiating $c-tr from $init: $(tail -n 3 "$tmp/$c.init2" | tr '\n' ' ')"
		wait_secs 60 children_up
		pass "$c: IKE_SA and both CHILD_SAs established in $(((${EPOCHREALTIME/./} - t0) / 1000)) ms"
	fi
	for s in a b; do
		check_eq "$c: IKE_SAs on $s" "$(grep -c "^list-sa event" "$tmp/sas.$s")" 1
	done
	step "established"

	check_sas
	step "SAs checked"
	t_pings=${EPOCHREALTIME/./}
	pings
	step "pings"
	xfers
	t_end=${EPOCHREALTIME/./}
	step "transfers"
	cap_stop
	grep -q "^0 packets dropped by kernel" "$tmp/$c.pcap.log" ||
		fail "tcpdump dropped packets: $(cat "$tmp/$c.pcap.log")"
	wire "$c"
	# no drop counter of a's four SAs moved; xfrm took every packet
	while read -r spi n drops; do
		check_eq "$c: a's SA $spi ($(sa_name "$spi")) drop counters" "$drops" "-"
	done < <(a_sas "$TUN_IN" "$TUN_OUT" "$TR_IN" "$TR_OUT")
	check_eq "$c: xfrm's ICV and replay failures" "$(xfrm_errors)" "$(cat "$tmp/$c.xfrm0")"
	step "wire checked"
	check_use "$t_pings" "$t_end"
	step "use times checked"
	if [[ $c == psk-b ]]; then
		rekey a
		step "rekeyed by a"
		rekey b
		step "rekeyed by b"
	fi

	# step 5: terminate
	sw $init --terminate --ike "$c" --timeout 60 >"$tmp/$c.term" 2>&1 ||
		die_logs "$c: terminate: $(tail -n 3 "$tmp/$c.term" | tr '\n' ' ')"
	for s in a b; do
		wait_secs 30 no_sas "$s"
	done
	if [[ $c == psk-a ]]; then
		trap_down
		step "trap left, uninstalled"
	fi
	check_empty "$c: after --terminate" bypass
	step "terminated, done"
}

# check_empty WHAT bypass|none [trap]: what nfsec (and xfrm) hold once the CHILD_SAs are gone
# (trap: and psk-a-tun's trap, policies and route)
check_empty()
{
	local what=$1 want='' trap=${3:-} route=''
	if is_nfsec "$LEFT"; then
		check_eq "$what: nfsec SAs on a" "$(ip netns exec "$a" nfsec sa show)" ""
		check_eq "$what: nfsec SPI reservations on a" "$(spi_reservations)" 0
		if [[ $2 == bypass ]]; then
			# the IKE sockets of both families
			want=$(bypass_policies
				if [[ -n $trap ]]; then
					printf '%s\n' "in $PRIO_TRAP 10.2.0.0/24:0 10.1.0.0/24:0 0 allow tmpl" \
						"fwd $PRIO_TRAP 10.2.0.0/24:0 10.1.0.0/24:0 0 allow tmpl" \
						"out $PRIO_TRAP 10.1.0.0/24:0 10.2.0.0/24:0 0 allow tmpl"
				fi)
			want=$(sort <<<"$want")
		fi
		check_eq "$what: nfsec policies on a" "$(nfsec_policies "$a")" "$want"
	else
		check_eq "$what: xfrm SAs on a" "$(ip -n "$a" xfrm state)" ""
		[[ -n $trap ]] && want=$(printf '%s\n' "fwd $PRIO_TRAP" "in $PRIO_TRAP" "out $PRIO_TRAP")
		check_eq "$what: xfrm policies on a (dir priority)" \
			"$(xfrm_spd "$a" | awk '{ print $2, $4 }' | sort)" "$want"
	fi
	[[ -n $trap ]] && route=$TRAP_ROUTE
	check_eq "$what: xfrm SAs on b" "$(ip -n "$b" xfrm state)" ""
	check_eq "$what: xfrm policies on b" "$(xfrm_spd "$b")" ""
	check_eq "$what: routes in table 220 on a" "$(ip -n "$a" route show table 220 2>/dev/null | xargs)" "$route"
	check_eq "$what: routes in table 220 on b" "$(ip -n "$b" route show table 220 2>/dev/null)" ""
}

# ---- main

step "namespaces"
mkdir -p "$tmp/a" "$tmp/b"
strongswan_conf "$tmp/a" "$LEFT" "spi_min = $SPI_BASE
	spi_max = $(printf '0x%08x' $((SPI_BASE + SPI_N - 1)))"
strongswan_conf "$tmp/b" xfrm
swanctl_conf "$tmp/a" a b
swanctl_conf "$tmp/a" a b trap.conf psk-a-tun
swanctl_conf "$tmp/b" b a
make_certs
step certificates
start_charon a "$LEFT"
step "charon a"
start_charon b xfrm
step "charon b"
check_empty "before any CHILD_SA" bypass
step "checked empty"
is_nfsec "$LEFT" && snap

for c in $CASES; do
	run_case "$c"
done

CASE=end CASE_T0=${EPOCHREALTIME/./}
if is_nfsec "$LEFT"; then
	counters_now "$a"
	for n in $NAMES; do
		k=0
		# psk-a's first packet, into the trap
		[[ $n == tx_no_sa && " $CASES " == *" psk-a "* ]] && k=1
		check_eq "a (nfsec) $n over the whole test" "$((current[$a,$n] - before[$a,$n]))" $k
	done
fi
step "counters checked"
stop_charon a
stop_charon b
step "charons stopped"
if is_nfsec "$LEFT"; then
	check_eq "charon on a stopped: nfsec SAs" "$(ip netns exec "$a" nfsec sa show)" ""
	check_eq "charon on a stopped: nfsec policies" "$(ip netns exec "$a" nfsec policy show)" ""
fi
exit 0
