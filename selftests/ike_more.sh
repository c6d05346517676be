#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# IKEv2 with strongSwan beyond establishment (ike_establish.sh): dead peer detection, a restart
# of charon on nfsec, NAT traversal with a NAT mapping that changes, and rekeying under
# continuous traffic. Debian's charon with the kernel-nfsec plugin (LD_PRELOADed) on nfsec in
# one namespace, stock charon on xfrm in the other (ike_lib.sh); PSK, IKE AES-CBC-256/
# HMAC-SHA2-256/X25519, one tunnel CHILD_SA aes128gcm16 between two hosts behind the gateways.
#
#   a (nfsec)  10.0.0.1 eth0 ---veth--- eth0 10.0.0.2  b (xfrm)        cases rekey, restart, dpd
#              10.1.0.1, 10.1.0.2 lo          10.2.0.1, 10.2.0.2 lo
#
#   na  192.168.1.2 wan0 --- lan0 192.168.1.1  nr  10.0.0.1 wan0 --- wan0 10.0.0.2  nb  case nat
#       10.1.0.1 lo         (masquerade of na: UDP to ports 40000-40099)         10.2.0.1 lo
#   (and pa, pr, pb: the same with xfrm behind the NAT, nfsec public)
#
# Charon on a has dpd_delay 2 s (dpd_action clear), retransmits after 2, 3 and 4.5 s
# (retransmit_timeout 2, retransmit_base 1.5, retransmit_tries 2) and, with nfsec,
# charon.plugins.kernel-nfsec.flush_on_start; b has unique = replace. Cases (IKE_CASES narrows
# them; each step's time since the case began is printed):
#   rekey    a initiates m-tun (10.1.0.1/32 - 10.2.0.1/32). With a ping every 0.05 s from a to
#            b and a TCP stream (64 KiB every 0.2 s, socat) through it, m-tun is rekeyed by a
#            (swanctl --rekey), by b, then by both at once (a collision): each time, within a
#            poll, one m-tun on each side with new SPIs both ways and the same reqid, a's
#            inbound SPIs b's outbound ones, and a's nfsec and b's xfrm hold exactly its two
#            SAs (SPI, reqid). Then no ping lost (every icmp_seq up to the last answered one
#            answered; if one was, the nfsec and xfrm counters that moved are shown), the
#            stream's sha256 equal. Then m-bytes (10.1.0.2/32 - 10.2.0.2/32, rekey_bytes
#            200000 on a, life_bytes 100 MB, rand_bytes 0): 300000 bytes over TCP (sha256
#            compared); charon on a got a soft expire of one of its SAs (with nfsec, the
#            plugin's "nfsec SA_EXPIRE (soft)" for that SPI) and rekeyed it: new SPIs, exactly
#            the SAs of m-tun and the new m-bytes in both kernels; m-bytes terminated.
#   restart  charon on a is killed (SIGKILL): nfsec still holds the killed charon's SAs and
#            policies. Started again, before anything is initiated, nfsec holds no SA and
#            only the eight IKE bypass policies (flush_on_start). a initiates m-tun again; b
#            replaces the old IKE_SA (unique = replace): one IKE_SA on each side, exactly the
#            new CHILD_SA's SAs in a's nfsec and b's xfrm, a's policies the bypasses and
#            m-tun's three; three pings a -> b answered, each of a's two SAs counted exactly 3.
#            (With xfrm on a, kernel-netlink leaves the killed charon's SAs: they must still
#            be there beside the new ones.)
#   dpd      a sends DPD while idle (seen in its log); then with a ping every 0.2 s through
#            m-tun for three DPD intervals, charon on a sends no DPD (the plugin's last use
#            times: query_sa, query_policy); then the ping stops and b's charon is killed
#            (SIGKILL: no DELETE): a declares b dead ("giving up after 2 retransmits") and
#            deletes the IKE_SA within 2 * dpd_delay + the retransmits + 6 s (the time is
#            printed); nfsec then holds no SA and only the bypass policies.
#   nat      na (LEFT) behind r's masquerade, nb (xfrm) not; then the other way round (xfrm
#            behind, nfsec public: nfsec sees the new mapping). na initiates n-tun: NAT
#            detected, IKE floats to 4500, both sides' SAs are ESP in UDP: the behind side's
#            SAs espinudp 4500 -> 4500, the public side's 4500 -> the mapped port (40000-
#            40099, what swanctl shows as na's port on nb); three pings answered, each nfsec
#            SA counted exactly 3; on nb's wan0 every packet is UDP between 10.0.0.1:40000-
#            40099 and 10.0.0.2:500 or 4500, ESP in UDP and IKE, no plain ESP. Then, with a
#            ping every 0.1 s from na, r's masquerade moves to ports 41000-41099 and r's
#            conntrack table is flushed: na's packets come from a new port; the public side's
#            charon learns it (its log: "NAT mappings of CHILD_SA ... changed", with nfsec
#            public first the plugin's "nfsec SA_MAPPING"), the public side's SAs go to the
#            new port, pings are answered again within 60 s (the time from the flush to the
#            first answer after the last lost ping is printed), the CHILD_SA was moved by
#            update_sa (same SPIs; nfsec's SA_MOVE when nfsec is public), and nfsec and xfrm
#            hold exactly the CHILD_SA's SAs.
# Throughout: no drop counter of nfsec on a moved (but in the nat case, where the test looks at
# what happened, and the counters are shown).
# IKE_LEFT=xfrm runs stock charon on both sides (validates the test without nfsec).
# shellcheck disable=SC2317 # the cases are called by name (case_$c), helpers by wait_secs
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
source "$(dirname "$0")/ike_lib.sh"
ike_setup
need_cmd nft ping python3
CASES=${IKE_CASES:-"rekey restart dpd nat"}
REPLAY_WINDOW=1024
DPD_DELAY=2
# a's retransmits: 2 s, then 3, 4.5 (the last one waited for), giving up after the second
RETRANSMIT_SUM=9.5
NAMES="rx_auth_fail rx_replay_dup rx_replay_old rx_bad_trailer rx_too_short rx_policy_mismatch
	rx_unprotected rx_no_mem rx_crypto_error tx_no_sa tx_no_mem tx_crypto_error tx_no_route
	tx_error"
ike_tmp
psk=$(od -An -tx1 -N 24 /dev/urandom | tr -d ' \n')

# ---- configuration

# conn_conf DIR ME PEER LOCAL REMOTE EXTRA CHILD-EXTRA [BYTES-EXTRA]: DIR/swanctl.conf, a
# connection named after DIR's last letter... one IKE_SA "ME" to PEER with m-tun (or n-tun),
# and m-bytes when BYTES-EXTRA is given ("-" for no extra settings)
conn_conf()
{
	local dir=$1 me=$2 peer=$3 local=$4 remote=$5 extra=$6 cextra=$7 bextra=${8:-} c=$9
	{
		echo "connections {"
		conn_head "$c" "$local" "$remote"
		cat <<EOF
		${extra/#-/}
		local {
			auth = psk
			id = $me.nfsec.test
		}
		remote {
			auth = psk
			id = $peer.nfsec.test
		}
		children {
$(child_conf "$c-tun" "$me" "$peer" 1 "$cextra")
$([[ -z $bextra ]] || child_conf "$c-bytes" "$me" "$peer" 2 "$bextra")
		}
	}
}
secrets {
	ike-$c {
		id-1 = $me.nfsec.test
		id-2 = $peer.nfsec.test
		secret = 0x$psk
	}
}
EOF
	} >"$dir/swanctl.conf"
}

# child_conf NAME ME PEER N EXTRA: a tunnel CHILD_SA between the hosts N behind ME and PEER
child_conf()
{
	cat <<EOF
			$1 {
				replay_window = $REPLAY_WINDOW
				mode = tunnel
				local_ts = $(ts "$2" "$4")
				remote_ts = $(ts "$3" "$4")
				esp_proposals = aes128gcm16
				${5/#-/}
			}
EOF
}

# ts SIDE N: the host N behind SIDE (a, na, pa: 10.1.0.N; b, nb, pb: 10.2.0.N)
ts() { [[ $1 == *a ]] && echo "10.1.0.$2/32" || echo "10.2.0.$2/32"; }

# ---- helpers

# sa_packets SIDE IMPL SPI: packets of that SA in SIDE's kernel
sa_packets()
{
	if is_nfsec "$2"; then
		sa_field "${!1}" "$3" packets
	else
		xsa_packets "${!1}" "$3"
	fi
}

# child SIDE NAME: "REQID SPI-IN SPI-OUT" of CHILD_SA NAME in SIDE's last list_sas
child() { children "$1" | awk -v n="$2" '$1 == n { print $3, $4, $5 }'; }

# ike_sas SIDE: IKE_SAs in SIDE's last list_sas
ike_sas() { grep -c "^list-sa event" "$tmp/sas.$1" || true; }

# settled SA SB IMPL-A IMPL-B [CHILD OLD-SPI-IN]: both sides show exactly the CHILD_SAs of CHILDREN and
# one IKE_SA with no exchange queued or under way (a rekey collision's second rekey), each kernel
# exactly their SAs, and CHILD's inbound SPI on SA is not OLD-SPI-IN
# shellcheck disable=SC2317 # called by wait_secs
settled()
{
	local sa=$1 sb=$2 ia=$3 ib=$4 n
	children_up "$sa" "$sb" || return 1
	n=$(wc -w <<<"$CHILDREN")
	[[ $(ike_sas "$sa") == 1 && $(ike_sas "$sb") == 1 &&
		$(grep -c "^ *name = " "$tmp/sas.$sa") == "$n" &&
		$(grep -c "^ *name = " "$tmp/sas.$sb") == "$n" &&
		$(kernel_spis "$sa" "$ia" | wc -l) == $((2 * n)) &&
		$(kernel_spis "$sb" "$ib" | wc -l) == $((2 * n)) ]] || return 1
	! grep -q "tasks-" "$tmp/sas.$sa" "$tmp/sas.$sb" || return 1
	[[ -z ${5:-} ]] || [[ $(child "$sa" "$5" | awk '{ print $2 }') != "$6" ]]
}

# ping_start NS DST INTERVAL FILE: a ping in the background until ping_stop (PING_PID)
ping_start()
{
	ip netns exec "$1" ping -D -i "$3" -W 5 "$2" >"$4" 2>&1 &
	PING_PID=$!
	defer "kill $PING_PID 2>/dev/null"
}

# ping_stop FILE: SIGINT, its statistics into PING_RESULT, "SENT ANSWERED LOST", LOST the
# icmp_seqs up to the last answered one that were not answered (the last ones may be in flight
# when it stops)
ping_stop()
{
	kill -INT "$PING_PID"
	wait "$PING_PID" 2>/dev/null || true
	PING_RESULT=$(awk '/ packets transmitted/ { sent = $1; got = $4 }
		match($0, /icmp_seq=[0-9]+ ttl/) { s = substr($0, RSTART + 9, RLENGTH - 13) + 0
			ans[s] = 1; if (s > top) top = s }
		END { for (i = 1; i <= top; i++) if (!(i in ans)) lost++
			print sent + 0, got + 0, lost + 0 }' "$1")
}

# kernel_drops SIDE IMPL: the drop counters of SIDE's kernel that are not 0 ("NAME=N ...")
kernel_drops()
{
	if is_nfsec "$2"; then
		nstats "${!1}" | awk '$2 != 0 && $1 !~ /packets|bytes/ { printf "%s=%s ", $1, $2 }'
	else
		# shellcheck disable=SC2016 # awk's
		ip netns exec "${!1}" awk '$2 != 0 { printf "%s=%s ", $1, $2 }' /proc/net/xfrm_stat
	fi
}

# ---- rekey

# stream_start: the TCP stream from 10.1.0.1 to 10.2.0.1:5001, 64 KiB every 0.2 s
stream_start()
{
	ip netns exec "$b" socat -d -d -u TCP-LISTEN:5001,bind=10.2.0.1,reuseaddr \
		"OPEN:$tmp/stream.out,creat,trunc" 2>"$tmp/stream.rx" &
	STREAM_RX=$!
	defer "kill $STREAM_RX 2>/dev/null"
	wait_for 10 grep -q "listening on" "$tmp/stream.rx"
	# shellcheck disable=SC2016 # for sh -c
	ip netns exec "$a" sh -c 'while [ ! -e "$1" ]; do head -c 65536 /dev/urandom; sleep 0.2; done' \
		sh "$tmp/stream.stop" | tee "$tmp/stream.in" |
		ip netns exec "$a" socat -u STDIN TCP:10.2.0.1:5001 2>"$tmp/stream.tx" &
	STREAM_TX=$!
	defer "kill $STREAM_TX 2>/dev/null"
}

stream_stop()
{
	touch "$tmp/stream.stop"
	wait "$STREAM_TX" || die_logs "the TCP stream's sender failed: $(cat "$tmp/stream.tx")"
	wait "$STREAM_RX" || die_logs "the TCP stream's receiver failed: $(tail -n 3 "$tmp/stream.rx")"
	check_eq "the TCP stream through m-tun ($(stat -c %s "$tmp/stream.in") bytes): sha256 received" \
		"$(sha256sum <"$tmp/stream.out")" "$(sha256sum <"$tmp/stream.in")"
}

# rekey_by WHO (a, b or "a b"): swanctl --rekey of m-tun there (at once), settled with new SPIs
rekey_by()
{
	local who=$1 s old t0 reqid now
	local -A pid=()
	read -r reqid old _ <<<"$(child a m-tun)"
	t0=${EPOCHREALTIME/./}
	for s in $who; do
		sw "$s" --rekey --child m-tun >"$tmp/rekey.$s" 2>&1 &
		pid[$s]=$!
	done
	for s in $who; do
		wait "${pid[$s]}" || die_logs "swanctl --rekey on $s: $(cat "$tmp/rekey.$s")"
	done
	wait_secs 90 settled a b "$LEFT" xfrm m-tun "$old"
	now=$(child a m-tun)
	pass "m-tun rekeyed by ${who// / and }: $(((${EPOCHREALTIME/./} - t0) / 1000)) ms to settle, a's SPIs (in out) $old -> ${now#* }"
	sas_agree "rekeyed by ${who// / and }" a b "$LEFT"
	check_eq "m-tun's reqid on a, rekeyed by ${who// / and }" "${now%% *}" "$reqid"
}

# ensure_up: m-tun up between a and b (a case run alone)
ensure_up()
{
	CHILDREN="m-tun"
	[[ -z $(sw a --list-sas) ]] || return 0
	sw a --initiate --child m-tun --timeout 120 >"$tmp/init.up" 2>&1 ||
		die_logs "initiating m-tun: $(tail -n 3 "$tmp/init.up")"
	wait_secs 60 settled a b "$LEFT" xfrm
}

case_rekey()
{
	local sent got lost old t0 spis spi exp
	CHILDREN="m-tun"
	sw a --initiate --child m-tun --timeout 120 >"$tmp/init.rekey" 2>&1 ||
		die_logs "initiating m-tun: $(tail -n 3 "$tmp/init.rekey")"
	wait_secs 60 settled a b "$LEFT" xfrm
	sas_agree "established" a b "$LEFT"
	step "established"
	is_nfsec "$LEFT" && snap
	ping_start "$a" 10.2.0.1 0.05 "$tmp/ping.rekey"
	stream_start
	wait_for 30 grep -q "icmp_seq=" "$tmp/ping.rekey"
	step "traffic flowing"
	rekey_by a
	step "rekeyed by a"
	rekey_by b
	step "rekeyed by b"
	rekey_by "a b"
	step "rekeyed by both (collision)"
	ping_stop "$tmp/ping.rekey"
	read -r sent got lost <<<"$PING_RESULT"
	stream_stop
	if ((lost != 0)); then
		echo "# a: $(kernel_drops a "$LEFT")"
		echo "# b (xfrm): $(kernel_drops b xfrm)"
		grep -v "bytes from" "$tmp/ping.rekey" | head -n 20 | sed 's/^/#   /'
	fi
	check_eq "pings through m-tun over three rekeys ($sent sent, $got answered): lost" "$lost" 0
	if is_nfsec "$LEFT"; then
		counters_now "$a"
		for n in $NAMES; do
			check_eq "a (nfsec) $n over the rekeys" "$(moved "$a" "$n")" 0
		done
	fi
	step "traffic checked"

	# rekey_bytes: nfsec's soft expire makes charon rekey
	CHILDREN="m-bytes m-tun"
	sw a --initiate --child m-bytes --timeout 120 >"$tmp/init.bytes" 2>&1 ||
		die_logs "initiating m-bytes: $(tail -n 3 "$tmp/init.bytes")"
	wait_secs 60 settled a b "$LEFT" xfrm
	spis=$(child a m-bytes)
	read -r _ old _ <<<"$spis"
	step "m-bytes established: $spis"
	t0=${EPOCHREALTIME/./}
	xfer "$a" "$b" 10.2.0.2 5002 300000
	wait_secs 90 settled a b "$LEFT" xfrm m-bytes "$old"
	pass "m-bytes rekeyed $(((${EPOCHREALTIME/./} - t0) / 1000)) ms after the transfer began: (reqid in out) $spis -> $(child a m-bytes)"
	sas_agree "m-bytes rekeyed on its bytes" a b "$LEFT"
	exp=$(grep -E "received an nfsec SA_EXPIRE \(soft\)|creating rekey job" "$tmp/a/charon.log" || true)
	printf '#   %s\n' "${exp//$'\n'/$'\n'#   }"
	for spi in ${spis#* }; do
		grep -qi "creating rekey job for CHILD_SA ESP/$spi/" <<<"$exp" && break
		spi=
	done
	[[ -n $spi ]] || die_logs "no soft expire of m-bytes' SAs ($spis) in charon's log on a"
	is_nfsec "$LEFT" && { grep -q "received an nfsec SA_EXPIRE (soft) for SPI ${spi#0x}" <<<"$exp" ||
		die_logs "charon on a rekeyed m-bytes ($spi) without nfsec's soft SA_EXPIRE"; }
	pass "m-bytes rekeyed on nfsec's soft expire of SA $spi"
	sw a --terminate --child m-bytes --timeout 60 >"$tmp/term.bytes" 2>&1 ||
		die_logs "terminating m-bytes: $(tail -n 3 "$tmp/term.bytes")"
	CHILDREN="m-tun"
	wait_secs 60 settled a b "$LEFT" xfrm
	step "m-bytes terminated"
}

# ---- restart

# shellcheck disable=SC2317 # called by wait_secs
settled_b() { [[ $(kernel_spis b xfrm | wc -l) == 2 ]]; }

case_restart()
{
	local old_sas old_pols want spi in out
	local -A before=()
	ensure_up
	list_sas a
	old_sas=$(kernel_spis a "$LEFT")
	is_nfsec "$LEFT" && old_pols=$(nfsec_policies "$a")
	kill_charon a
	step "charon on a killed"
	check_eq "a's SAs after SIGKILL (the killed charon's)" "$(kernel_spis a "$LEFT")" "$old_sas"
	is_nfsec "$LEFT" && check_eq "a's nfsec policies after SIGKILL" "$(nfsec_policies "$a")" "$old_pols"
	start_charon a "$LEFT"
	step "charon on a started again"
	if is_nfsec "$LEFT"; then
		check_eq "nfsec SAs on a, charon restarted" "$(nfsec_sas "$a")" ""
		check_eq "nfsec policies on a, charon restarted" "$(nfsec_policies "$a")" "$(bypass_policies | sort)"
		grep -q "flush_on_start: flushing" "$tmp/a/charon.log" || die_logs "no flush_on_start in a's log"
	fi
	sw a --initiate --child m-tun --timeout 120 >"$tmp/init.restart" 2>&1 ||
		die_logs "initiating m-tun after the restart: $(tail -n 3 "$tmp/init.restart")"
	if is_nfsec "$LEFT"; then
		wait_secs 60 settled a b "$LEFT" xfrm
		sas_agree "re-established after the restart" a b "$LEFT"
		want=$( (bypass_policies; printf '%s\n' "out 367231 10.1.0.1/32:0 10.2.0.1/32:0 0 allow tmpl" \
			"in 367231 10.2.0.1/32:0 10.1.0.1/32:0 0 allow tmpl" \
			"fwd 367231 10.2.0.1/32:0 10.1.0.1/32:0 0 allow tmpl") | sort)
		check_eq "nfsec policies on a, re-established" "$(nfsec_policies "$a")" "$want"
	else
		# kernel-netlink flushes nothing: the killed charon's SAs stay beside the new ones
		wait_secs 60 children_up a b
		wait_secs 60 settled_b
		check_eq "xfrm SAs on a: the new and the killed charon's" "$(kernel_spis a xfrm)" \
			"$( (awk '{ print $4, $3; print $5, $3 }' <<<"$(children a)"; echo "$old_sas") | sort)"
	fi
	check_eq "IKE_SAs on b (the old one replaced)" "$(ike_sas b)" 1
	step "re-established"
	read -r _ in out <<<"$(child a m-tun)"
	for spi in $in $out; do
		before[$spi]=$(sa_packets a "$LEFT" "$spi")
	done
	ip netns exec "$a" ping -c 3 -i 0.2 -W 10 10.2.0.1 >"$tmp/ping.restart" 2>&1 ||
		die_logs "pings after the restart: $(tail -n 2 "$tmp/ping.restart")"
	grep -q " 3 received" "$tmp/ping.restart" || die_logs "pings after the restart: $(tail -n 2 "$tmp/ping.restart")"
	for spi in $in $out; do
		check_eq "packets of a's SA $spi after 3 pings" "$(($(sa_packets a "$LEFT" "$spi") - before[$spi]))" 3
	done
	step "pings answered"
}

# ---- dpd

# dpds: the DPDs charon on a sent so far
dpds() { grep -c "sending DPD request" "$tmp/a/charon.log" || true; }
# shellcheck disable=SC2317 # called by wait_secs
more_dpds() { (($(dpds) > $1)); }

case_dpd()
{
	local n0 t0 t1 ms max sent got lost
	ensure_up
	n0=$(dpds)
	wait_secs 20 more_dpds "$n0"
	pass "charon on a sends DPD when idle ($(($(dpds) - n0)) seen)"
	ping_start "$a" 10.2.0.1 0.2 "$tmp/ping.dpd"
	wait_for 30 grep -q "icmp_seq=" "$tmp/ping.dpd"
	n0=$(dpds)
	t0=${EPOCHREALTIME/./}
	while ((${EPOCHREALTIME/./} - t0 < 3 * DPD_DELAY * 1000000)); do
		sleep 0.5
	done
	check_eq "DPDs charon on a sent in $((3 * DPD_DELAY)) s of traffic" "$(($(dpds) - n0))" 0
	ping_stop "$tmp/ping.dpd"
	read -r sent got lost <<<"$PING_RESULT"
	check_eq "pings during the DPD window ($sent sent, $got answered): lost" "$lost" 0
	step "no DPD while traffic flows"
	kill_charon b
	t0=${EPOCHREALTIME/./}
	wait_secs 60 no_sas a
	t1=${EPOCHREALTIME/./}
	ms=$(((t1 - t0) / 1000))
	max=$(awk -v d="$DPD_DELAY" -v r="$RETRANSMIT_SUM" 'BEGIN { printf "%d", (2 * d + r + 6) * 1000 }')
	grep -q "giving up after 2 retransmits" "$tmp/a/charon.log" ||
		die_logs "charon on a did not give up after 2 retransmits"
	((ms <= max)) || die_logs "b declared dead after $ms ms, more than $max ms"
	pass "charon on a declared b dead $ms ms after b's charon was killed (at most $max ms)"
	if is_nfsec "$LEFT"; then
		check_eq "nfsec SAs on a, b dead" "$(nfsec_sas "$a")" ""
		check_eq "nfsec policies on a, b dead" "$(nfsec_policies "$a")" "$(bypass_policies | sort)"
	else
		check_eq "xfrm SAs on a, b dead" "$(xfrm_sas "$a")" ""
		check_eq "xfrm policies on a, b dead" "$(xfrm_spd "$a")" ""
	fi
	step "b dead, a clean"
}

# ---- nat

# nat_rule NS RANGE: r's masquerade of what leaves wan0, UDP to ports RANGE
nat_rule()
{
	ip netns exec "$1" nft -f - <<EOF
flush ruleset
table ip nat {
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan0" meta l4proto udp masquerade to :$2
		oifname "wan0" masquerade
	}
}
EOF
}

# ct_flush NS: flush the conntrack table (ctnetlink IPCTNL_MSG_CT_DELETE without a tuple)
ct_flush()
{
	ip netns exec "$1" python3 -c '
import socket, struct
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)
s.bind((0, 0))
s.send(struct.pack("=IHHII", 20, (1 << 8) | 2, 1 | 4, 1, 0) + struct.pack("=BBH", 2, 0, 0))
r = s.recv(4096)
raise SystemExit(-struct.unpack("=i", r[16:20])[0])' || fail "flushing conntrack in $1"
}

# encaps SIDE IMPL: "SPI TYPE SPORT DPORT" of the SAs of SIDE's kernel, sorted
encaps()
{
	if is_nfsec "$2"; then
		ip netns exec "${!1}" nfsec -j sa show |
			jq -r '.[] | "\(.spi) \(.encap.type // "-") \(.encap.sport // "-") \(.encap.dport // "-")"'
	else
		ip -n "${!1}" xfrm state | awk '
			function out() { if (spi != "") print spi, type, sp, dp; spi = "" }
			/^src / { out() }
			/proto esp spi/ { spi = $4; type = sp = dp = "-" }
			$1 == "encap" { type = $3; sp = $5; dp = $7 }
			END { out() }'
	fi | sort
}

# remote_port SIDE: the peer's IKE port its last list_sas shows
remote_port() { awk '$1 == "remote-port" { print $3; exit }' "$tmp/sas.$1"; }

# port_moved SIDE: SIDE's IKE_SA has the peer at one of r's second range of ports
# shellcheck disable=SC2317 # called by wait_secs
port_moved()
{
	local p
	list_sas "$1" && p=$(remote_port "$1") && ((p >= 41000 && p <= 41099))
}

# answered_after FILE T: ping -D's FILE has an answer received after T (EPOCHREALTIME, us)
# shellcheck disable=SC2317 # called by wait_secs
answered_after()
{
	awk -v t="${2:0:-6}.${2: -6}" '/ bytes from / && match($0, /^\[[0-9.]+\]/) &&
		substr($0, 2, RLENGTH - 2) + 0 > t + 0 { f = 1 } END { exit !f }' "$1"
}

# nat_case BEHIND ROUTER PUBLIC IMPL-BEHIND IMPL-PUBLIC: the namespaces' variables
nat_case()
{
	local sa=$1 rt=$2 sb=$3 ia=$4 ib=$5 r port port2 want in out spi sent got lost t0 t1 first
	local ns s ms path w nside=
	local -A before=()
	is_nfsec "$ia" && nside=$sa
	is_nfsec "$ib" && nside=$sb
	echo "# ---- nat: $sa ($ia) behind r's NAT, $sb ($ib) public"
	ns_create "$sa" "$rt" "$sb"
	r=${!rt}
	nat_hosts "${!sa}" "$r" "${!sb}"
	nat_rule "$r" 40000-40099
	mkdir -p "$tmp/$sa" "$tmp/$sb"
	strongswan_conf "$tmp/$sa" "$ia"
	strongswan_conf "$tmp/$sb" "$ib"
	conn_conf "$tmp/$sa" "$sa" "$sb" 192.168.1.2 10.0.0.2 - - "" n
	conn_conf "$tmp/$sb" "$sb" "$sa" 10.0.0.2 %any - - "" n
	start_charon "$sa" "$ia"
	start_charon "$sb" "$ib"
	step "$sa/$sb: charons up"
	CHILDREN="n-tun"
	CAP_SNAPLEN=96 cap_start "${!sb}" wan0 "$tmp/$sb.pcap" ip
	sw "$sa" --initiate --child n-tun --timeout 120 >"$tmp/init.$sa" 2>&1 ||
		die_logs "initiating n-tun from $sa: $(tail -n 3 "$tmp/init.$sa")"
	wait_secs 60 children_up "$sa" "$sb"
	step "$sa/$sb: established"
	port=$(remote_port "$sb")
	((port >= 40000 && port <= 40099)) || die_logs "$sb sees $sa at port '$port', not one of r's 40000-40099"
	check_eq "$sb sees $sa at" "$(awk '$1 == "remote-host" { print $3; exit }' "$tmp/sas.$sb")" 10.0.0.1
	check_eq "$sa's IKE ports (local remote)" "$(awk '$1 == "local-port" { l = $3 } $1 == "remote-port" { print l, $3; exit }' "$tmp/sas.$sa")" "4500 4500"
	# both sides' SAs: ESP in UDP, nfsec's and xfrm's alike
	read -r _ in out <<<"$(child "$sa" n-tun)"
	check_eq "$sa's SAs ($ia: SPI encap sport dport)" "$(encaps "$sa" "$ia")" \
		"$(printf '%s espinudp 4500 4500\n' "$in" "$out" | sort)"
	read -r _ in out <<<"$(child "$sb" n-tun)"
	check_eq "$sb's SAs ($ib: SPI encap sport dport)" "$(encaps "$sb" "$ib")" \
		"$(printf '%s\n' "$in espinudp $port 4500" "$out espinudp 4500 $port" | sort)"
	if [[ -n $nside ]]; then
		read -r _ in out <<<"$(child "$nside" n-tun)"
		for spi in $in $out; do
			before[$spi]=$(sa_packets "$nside" nfsec "$spi")
		done
	fi
	ip netns exec "${!sa}" ping -c 3 -i 0.2 -W 10 10.2.0.1 >"$tmp/ping.$sa" 2>&1 ||
		die_logs "pings through the NAT: $(tail -n 2 "$tmp/ping.$sa")"
	grep -q " 3 received" "$tmp/ping.$sa" || die_logs "pings through the NAT: $(tail -n 2 "$tmp/ping.$sa")"
	for spi in "${!before[@]}"; do
		check_eq "packets of nfsec's SA $spi after 3 pings through the NAT" \
			"$(($(sa_packets "$nside" nfsec "$spi") - before[$spi]))" 3
	done
	cap_stop
	# between r and nb: UDP only, between r's ports and nb's 500/4500. The decapsulated tunnel
	# packets xfrm hands to the stack again through wan0 (where the capture sees them: they
	# are not on the wire) are told apart: from 10.1.0.1, they cannot have crossed r's
	# masquerade
	w=$(tcpdump -r "$tmp/$sb.pcap" -n -t 2>/dev/null | awk '
		function port(w, x, n) { sub(/:$/, "", w); n = split(w, x, "."); return n == 5 ? x[5] : "" }
		function host(w, x) { split(w, x, "."); return x[1] "." x[2] "." x[3] "." x[4] }
		$1 == "IP" && $2 == "10.1.0.1" && $4 == "10.2.0.1:" { dec++; next }
		$1 != "IP" { other++; if (shown++ < 5) print "other " $0; next }
		{ s = host($2); sp = port($2); d = host($4); dp = port($4)
		  if (s == "10.0.0.2") { t = s; s = d; d = t; t = sp; sp = dp; dp = t }
		  if (s != "10.0.0.1" || d != "10.0.0.2" || sp < 40000 || sp > 40099 || (dp != 500 && dp != 4500)) {
			other++; if (shown++ < 5) print "other " $0; next }
		  if ($0 ~ /UDP-encap: ESP\(/) espudp++
		  else if ($0 ~ /ESP\(/) esp++
		  else ike++ }
		END { print "espinudp", espudp + 0; print "esp", esp + 0; print "ike", ike + 0; print "others", other + 0
			print "decap", dec + 0 }')
	grep "^other " <<<"$w" | sed 's/^/#   /' || true
	check_eq "packets between r and $sb neither IKE nor ESP in UDP of r's ports and $sb's 500/4500" \
		"$(awk '$1 == "others" { print $2 }' <<<"$w")" 0
	check_eq "plain ESP between r and $sb" "$(awk '$1 == "esp" { print $2 }' <<<"$w")" 0
	(($(awk '$1 == "espinudp" { print $2 }' <<<"$w") >= 6)) || fail "fewer than 6 ESP-in-UDP packets: $w"
	pass "wire between r and $sb: $(awk '$1 == "espinudp" { print $2 }' <<<"$w") ESP in UDP, $(awk '$1 == "ike" { print $2 }' <<<"$w") IKE ($(awk '$1 == "decap" { print $2 }' <<<"$w") decapsulated packets seen again on $ib's side)"
	step "$sa/$sb: NAT-T checked"

	# the mapping changes
	read -r _ in out <<<"$(child "$sb" n-tun)"
	ping_start "${!sa}" 10.2.0.1 0.1 "$tmp/ping.nat.$sa"
	wait_for 30 grep -q "icmp_seq=" "$tmp/ping.nat.$sa"
	nat_rule "$r" 41000-41099
	t0=${EPOCHREALTIME/./}
	ct_flush "$r"
	wait_secs 60 port_moved "$sb"
	port2=$(remote_port "$sb")
	t1=${EPOCHREALTIME/./}
	# an answer after that
	wait_secs 60 answered_after "$tmp/ping.nat.$sa" "$t1"
	ping_stop "$tmp/ping.nat.$sa"
	read -r sent got lost <<<"$PING_RESULT"
	# the first answer after the last ping lost
	first=$(awk '/ bytes from / && match($0, /icmp_seq=[0-9]+ /) { s = substr($0, RSTART + 9, RLENGTH - 10) + 0
			ans[s] = $1; if (s > top) top = s }
		END { for (i = 1; i <= top; i++) if (!(i in ans)) m = i
			for (i = m + 1; i <= top; i++) if (i in ans) { gsub(/[][]/, "", ans[i]); print ans[i]; exit } }' \
		"$tmp/ping.nat.$sa")
	ms="no ping lost"
	((lost == 0)) ||
		ms="answered again $(awk -v f="$first" -v t="${t0:0:-6}.${t0: -6}" 'BEGIN { printf "%d", (f - t) * 1000 }') ms after the flush"
	wait_secs 60 settled "$sa" "$sb" "$ia" "$ib"
	grep -E "NAT mappings of CHILD_SA|nfsec SA_MAPPING|unable to update SAD" "$tmp/$sb/charon.log" | sed 's/^/#   /' || true
	# kernel-netlink's update_sa and the plugin's (SA_MOVE) both move the SAs: a rekey (new
	# SPIs) means update_sa failed
	[[ $(child "$sb" n-tun | awk '{ print $2, $3 }') == "$in $out" ]] ||
		fail "$sa/$sb: the CHILD_SA was rekeyed (new SPIs $(child "$sb" n-tun)), not moved: update_sa on $sb ($ib) failed"
	pass "$sa/$sb: NAT mapping changed ($sa's port $port -> $port2): $lost of $sent pings lost, $ms; the CHILD_SA was moved (same SPIs: update_sa)"
	grep -q "NAT mappings of CHILD_SA" "$tmp/$sb/charon.log" ||
		die_logs "charon on $sb got no NAT mapping event"
	if is_nfsec "$ib"; then
		grep -q "received an nfsec SA_MAPPING for SPI" "$tmp/$sb/charon.log" ||
			die_logs "charon on $sb got no nfsec SA_MAPPING"
		pass "nfsec's SA_MAPPING reached charon on $sb (the plugin's mapping())"
	fi
	sas_agree "$sa/$sb: after the NAT change" "$sa" "$sb" "$ia" "$ib"
	read -r _ in out <<<"$(child "$sb" n-tun)"
	check_eq "$sb's SAs after the NAT change ($ib: SPI encap sport dport)" "$(encaps "$sb" "$ib")" \
		"$(printf '%s\n' "$in espinudp $port2 4500" "$out espinudp 4500 $port2" | sort)"
	[[ -z $nside ]] || echo "# $nside (nfsec) counters not 0: $(kernel_drops "$nside" nfsec)"
	step "$sa/$sb: NAT change recovered"
	stop_charon "$sa"
	stop_charon "$sb"
}

case_nat()
{
	nat_case na nr nb "$LEFT" xfrm
	is_nfsec "$LEFT" && nat_case pa pr pb xfrm nfsec
	return 0
}

# ---- main

tunnel_hosts
ip -n "$a" addr add 10.1.0.2/32 dev lo
ip -n "$b" addr add 10.2.0.2/32 dev lo
ip -n "$a" route add 10.2.0.2/32 via 10.0.0.2 src 10.1.0.2
ip -n "$b" route add 10.1.0.2/32 via 10.0.0.1 src 10.2.0.2
mkdir -p "$tmp/a" "$tmp/b"
flush=''
is_nfsec "$LEFT" && flush="plugins {
		kernel-nfsec {
			flush_on_start = yes
		}
	}"
IKE_RETRANSMIT="retransmit_timeout = 2
	retransmit_base = 1.5
	retransmit_tries = 2" strongswan_conf "$tmp/a" "$LEFT" "$flush"
strongswan_conf "$tmp/b" xfrm
conn_conf "$tmp/a" a b 10.0.0.1 10.0.0.2 "dpd_delay = ${DPD_DELAY}s" "dpd_action = clear" \
	"rekey_bytes = 200000
				life_bytes = 100000000
				rand_bytes = 0" m
conn_conf "$tmp/b" b a 10.0.0.2 10.0.0.1 "unique = replace" - - m
if [[ " $CASES " == *" rekey "* || " $CASES " == *" restart "* || " $CASES " == *" dpd "* ]]; then
	start_charon a "$LEFT"
	start_charon b xfrm
	step "charons up"
fi
for c in rekey restart dpd; do
	[[ " $CASES " == *" $c "* ]] || continue
	echo "# ---- $c"
	CASE=$c CASE_T0=${EPOCHREALTIME/./}
	"case_$c"
	step "done"
done
if [[ " $CASES " == *" nat "* ]]; then
	CASE=nat CASE_T0=${EPOCHREALTIME/./}
	case_nat
	step "done"
fi
exit 0
