#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# IKEv2 with strongSwan beyond establishment (ike_establish.sh): dead peer detection, a restart
# of charon on nfsec, an address change by MOBIKE, NAT traversal with a NAT mapping that
# changes, and rekeying under continuous traffic. Debian's charon with the kernel-nfsec plugin
# (LD_PRELOADed) on nfsec in one namespace, stock charon on xfrm in the other (ike_lib.sh); PSK,
# IKE AES-CBC-256/HMAC-SHA2-256/X25519, one tunnel CHILD_SA aes128gcm16 between two hosts behind
# the gateways (and in the mobike case a transport one between the gateways).
#
#   a (nfsec)  10.0.0.1 eth0 ---veth--- eth0 10.0.0.2  b (xfrm)        cases rekey, restart,
#              10.1.0.1, 10.1.0.2 lo          10.2.0.1, 10.2.0.2 lo         mobike, dpd
#              (10.0.0.3 from the mobike case on)
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
#   mobike   a's IKE address changes; MOBIKE (mobike = yes, the default) moves the CHILD_SAs.
#            m-tun is up, and m-tr, a transport CHILD_SA between the gateways (its traffic
#            selectors are the IKE addresses). With a ping every 0.05 s from a through m-tun
#            (b's eth0 captured), 10.0.0.3/24 is added to a's eth0 and 10.0.0.1/24 deleted in
#            one `ip -batch` (promote_secondaries: 10.0.0.3 becomes the primary; one roam event
#            for charon's kernel-netlink): charon on a, the IKE_SA's initiator, checks the path
#            from 10.0.0.3 (an empty INFORMATIONAL), moves its CHILD_SAs on the answer (with
#            nfsec, the plugin's update_sa: SA_MOVE), then sends UPDATE_SA_ADDRESSES, on which b
#            moves its own (the charons' log lines are printed). Within 60 s both charons
#            show a at 10.0.0.3 and the pings are answered again (the time from the address
#            change to the first answer after the last lost ping is printed). Then: the lost
#            pings are one run of icmp_seqs, no answer twice; swanctl, a's nfsec and b's xfrm
#            show the CHILD_SAs' SAs with the SPIs they had (moved, not rekeyed), exactly those;
#            m-tun's reqid is the same on both sides, m-tr's a new one on both (its selectors
#            moved: charon's new_reqid); a's SAs: outbound src 10.0.0.3, inbound dst 10.0.0.3,
#            m-tr's selectors 10.0.0.3/32 <-> 10.0.0.2/32; b's xfrm SAs the same; a's
#            policies with a template: m-tun's out, in and fwd with templates 10.0.0.3 -> 10.0.0.2
#            and back, m-tr's out and in on 10.0.0.3/32, with nfsec beside them only the IKE
#            bypasses; b's m-tun policies' templates likewise; a's inbound SA's seq and
#            outbound SA's oseq went on from before the ping. Each ping accounted for (nfsec):
#            a's echo requests (an nft counter in output, before nfsec) = m-tun's outbound SA's
#            packets + tx_no_route (sent from 10.0.0.1 once it was gone) + tx_policy_block
#            (charon's drop policy while it replaces the policies) + tx_sa_gone + tx_no_sa; b's
#            inbound SA counted as many but those that came while kernel-netlink's update_sa had
#            deleted it to add it again (XfrmInNoStates), and b's outbound SA answered each but
#            those that came while b's inbound policy was being replaced (XfrmInNoPols) or that
#            b's charon's drop policy blocked (XfrmOutPolBlock; no other xfrm counter may move);
#            every answer reached a's prerouting (nft, per address), those to 10.0.0.3 its input
#            too; what reached a's input = a's inbound SA's packets + rx_no_sa; the pings lost =
#            the sum of those drops, rx_policy_mismatch, rx_sa_gone, and the answers to 10.0.0.1
#            that a's stack dropped once the address was gone; no other nfsec counter moved
#            (those that did are printed). Then 256 KiB over TCP through m-tun (sha256). On
#            the wire, a's ESP of m-tun is numbered from the outbound SA's oseq before the ping
#            + 1 up to its oseq now, none missing or twice, from 10.0.0.1 up to the move and from
#            10.0.0.3 from the next number on; b's to 10.0.0.1, then from the next number on to
#            10.0.0.3; no other ESP; IKE between 10.0.0.3:4500 and b. Three pings from 10.0.0.3
#            to b are counted exactly by m-tr's SAs, and no nfsec counter (nor b's xfrm one)
#            moved since the ping across the move.
#            Transport mode: RFC 4555 has MOBIKE move tunnel mode SAs (an extension for
#            transport mode was only drafted), and a transport CHILD_SA between moving hosts is
#            not what it is used for; charon moves one whose selectors are its IKE addresses
#            all the same (new selectors and reqid), so m-tr checks that, but no traffic runs
#            through it during the move: until the move, the new address's packets match no
#            policy and go in clear (with xfrm as with nfsec). a stays at 10.0.0.3 (restart
#            needs 10.0.0.1 and runs before; dpd after) and m-tr up.
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
# Throughout: no drop counter of nfsec on a moved (but in the mobike case, which accounts for
# each, and in the nat case, where the test looks at what happened, and the counters are shown).
# IKE_LEFT=xfrm runs stock charon on both sides (validates the test without nfsec).
# shellcheck disable=SC2317 # the cases are called by name (case_$c), helpers by wait_secs
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
source "$(dirname "$0")/ike_lib.sh"
ike_setup
need_cmd nft ping python3
CASES=${IKE_CASES:-"rekey restart mobike dpd nat"}
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
# and m-bytes when BYTES-EXTRA is given ("-" for no extra settings); connection m also m-tr
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
$([[ $c != m ]] || tr_conf)
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

# tr_conf: m-tr, a transport CHILD_SA between the gateways (the mobike case)
tr_conf()
{
	cat <<EOF
			m-tr {
				replay_window = $REPLAY_WINDOW
				mode = transport
				esp_proposals = aes128gcm16
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

# ---- mobike

# a's IKE address after the move (on eth0 beside 10.0.0.1, which then goes)
MOBIKE_NEW=10.0.0.3
# a's nfsec counters the move may move, each explained by mobike_account
MOBIKE_EXPLAINED="tx_no_route tx_policy_block tx_sa_gone tx_no_sa rx_no_sa rx_policy_mismatch rx_sa_gone"

# endpoints SIDE IMPL: "SPI SRC DST REQID" of SIDE's kernel's SAs, sorted
endpoints()
{
	if is_nfsec "$2"; then
		sa_rows "${!1}" | awk '{ print $1, $2, $3, $4 }'
	else
		ip -n "${!1}" xfrm state | awk '/^src / { s = $2; d = $4 } /proto esp spi/ { print $4, s, d, $6 }'
	fi | sort
}

# tmpls SIDE IMPL: "DIR SEL-SRC SEL-DST TMPL-SRC TMPL-DST REQID" of the policies of SIDE's
# kernel with a template (a transport template has no addresses: "-"), sorted
tmpls()
{
	if is_nfsec "$2"; then
		ip netns exec "${!1}" nfsec -j policy show | jq -r '.[] | select(has("tmpl")) |
			"\(.dir) \(.sel.src) \(.sel.dst) " + (if .tmpl.mode == "tunnel" then
			"\(.tmpl.src) \(.tmpl.dst)" else "- -" end) + " \(.tmpl.reqid)"'
	else
		ip -n "${!1}" xfrm policy | awk '
			/^src / { s = $2; d = $4 }
			$1 == "dir" { dir = $2 }
			$1 == "tmpl" { ts = $3; td = $5 }
			$1 == "proto" && /reqid/ { for (i = 1; i < NF; i++) if ($i == "reqid") r = $(i + 1)
				if ($NF != "tunnel") ts = td = "-"
				print dir, s, d, ts, td, r }'
	fi | sort
}

# sa_rows NS: "SPI SRC DST REQID SEQ OSEQ PACKETS SEL-SRC SEL-DST" of NS's nfsec SAs (-s: their
# current use), sorted: one call where the case looks at several SAs (each costs under TCG)
sa_rows()
{
	ip netns exec "$1" nfsec -s -j sa show | jq -r '.[] |
		"\(.spi) \(.src) \(.dst) \(.reqid) \(.seq) \(.oseq) \(.current.packets) \(.sel.src) \(.sel.dst)"' | sort
}

# row SPI N: field N of SPI's row in MB_ROWS (sa_rows of a)
row() { awk -v s="$1" -v f="$2" '$1 == s { print $f }' <<<"$MB_ROWS"; }

# a_endpoints: endpoints of a (nfsec: of MB_ROWS)
a_endpoints()
{
	if is_nfsec "$LEFT"; then
		awk '{ print $1, $2, $3, $4 }' <<<"$MB_ROWS"
	else
		endpoints a xfrm
	fi
}

# mobike_nft SPI: a's counters (before nfsec's hooks) of the ping's echo requests (output:
# req) and of b's ESP of SPI (b's outbound) to a's old and new address, in prerouting (pre1,
# pre3) and in input (in1, in3)
mobike_nft()
{
	ip netns exec "$a" nft -f - <<EOF
table ip mobike {
	counter req {}
	counter pre1 {}
	counter pre3 {}
	counter in1 {}
	counter in3 {}
	chain out {
		type filter hook output priority 0; policy accept;
		ip daddr 10.2.0.1 icmp type echo-request counter name "req"
	}
	chain pre {
		type filter hook prerouting priority 0; policy accept;
		ip daddr 10.0.0.1 esp spi $1 counter name "pre1"
		ip daddr $MOBIKE_NEW esp spi $1 counter name "pre3"
	}
	chain in {
		type filter hook input priority 0; policy accept;
		ip daddr 10.0.0.1 esp spi $1 counter name "in1"
		ip daddr $MOBIKE_NEW esp spi $1 counter name "in3"
	}
}
EOF
	defer "ip netns exec $a nft delete table ip mobike 2>/dev/null"
}

# nft_counts: "NAME=PACKETS ..." of mobike_nft's counters
nft_counts()
{
	ip netns exec "$a" nft -j list counters table ip mobike |
		jq -r '[.nftables[] | select(.counter) | "\(.counter.name)=\(.counter.packets)"] | join(" ")'
}

# host_of SIDE local|remote: the IKE_SA's address in SIDE's last list_sas
host_of() { awk -v k="$2-host" '$1 == k { print $3; exit }' "$tmp/sas.$1"; }

# ike_moved: both charons show a's IKE_SA at the new address
# shellcheck disable=SC2317 # called by wait_secs
ike_moved()
{
	list_sas a && list_sas b && [[ $(host_of a local) == "$MOBIKE_NEW" && $(host_of b remote) == "$MOBIKE_NEW" ]]
}

# ping_runs FILE T0: "LOST RUNS DUPS FIRST": of the icmp_seqs up to the last answered one, how
# many were not answered, in how many runs of consecutive ones, the duplicates, and the ms from
# T0 (EPOCHREALTIME, us) to the first answer after the last lost ping (- if none lost)
ping_runs()
{
	awk -v t="${2:0:-6}.${2: -6}" '
		/\(DUP!\)/ { dups++; next }
		/ bytes from / && match($0, /icmp_seq=[0-9]+ /) { s = substr($0, RSTART + 9, RLENGTH - 10) + 0
			ts = $1; gsub(/[][]/, "", ts); ans[s] = ts; if (s > top) top = s }
		END { for (i = 1; i <= top; i++) if (!(i in ans)) { lost++; if (i == 1 || (i - 1) in ans) runs++; m = i }
			first = "-"
			if (lost) for (i = m + 1; i <= top; i++) if (i in ans) { first = sprintf("%d", (ans[i] - t) * 1000); break }
			print lost + 0, runs + 0, dups + 0, first }' "$1"
}

# esp_wire FILE SPI: "SRC DST SEQ" (seq decimal) of the ESP packets of SPI in a capture
esp_wire()
{
	python3 "$SELFTESTS_DIR/esp_pkt.py" wire "$1" |
		awk -v spi="$(printf '0x%08x' "$2")" '$3 == spi { print $1, $2, $4 }'
}

# b's xfrm counters the move may move: its charon's drop policy while it replaces its policies
# (XfrmOutPolBlock), a's ESP that came while kernel-netlink's update_sa had deleted b's inbound
# SA to add it again at its new addresses (XfrmInNoStates: xfrm moves no SA in place), and a
# tunnel packet decrypted while b's inbound policy was deleted, before its new one was in
# (XfrmInNoPols: xfrm refuses a tunnel packet that no policy takes)
MOBIKE_B_EXPLAINED="XfrmOutPolBlock XfrmInNoStates XfrmInNoPols"

# xfrm_moved: "NAME=DELTA ..." of b's xfrm counters (/proc/net/xfrm_stat) that moved since MB_BX
xfrm_moved()
{
	local n v out=""
	while read -r n v; do
		((v == ${MB_BX[$n]:-0})) || out+=" $n=$((v - ${MB_BX[$n]:-0}))"
	done < <(ip netns exec "$b" cat /proc/net/xfrm_stat)
	echo "${out# }"
}

# moved_since: "NAME=DELTA ..." of a's nfsec counters (counters_now) that moved since MB_BEFORE,
# but traffic, MSS clamps and the counts of SAs, policies and SPI reservations
moved_since()
{
	local n d out=""
	for n in "${!current[@]}"; do
		[[ $n == "$a",* ]] || continue
		n=${n#"$a",}
		case $n in rx_packets | rx_bytes | tx_packets | tx_bytes | mss_clamped | sa_count | policy_count | spi_reservations) continue ;; esac
		d=$((current[$a,$n] - ${MB_BEFORE[$n]:-0}))
		((d == 0)) || out+=" $n=$d"
	done
	echo "${out# }"
}

# mobike_account: a's nfsec counters and SAs, b's xfrm SAs and a's nft counters over the ping
# across the move (from MB_* taken before it): every echo request and every answer is
# accounted for, and the pings lost are exactly what the counters say was dropped
mobike_account()
{
	local lost=$1 n d req out_d in_d b_in b_out b_block=0 b_nostate=0 b_nopol=0 drops=0 moved bmoved
	local why=""
	local -A nft=()
	for n in $(nft_counts); do
		nft[${n%=*}]=${n#*=}
	done
	counters_now "$a"
	moved=$(moved_since)
	echo "# a's nfsec counters moved over the move: ${moved:-none}"
	for n in $moved; do
		[[ " $MOBIKE_EXPLAINED " == *" ${n%=*} "* ]] || die_logs "a's nfsec counter ${n%=*} moved by ${n#*=} over the move"
	done
	for n in $MOBIKE_EXPLAINED; do
		MB_D[$n]=$((current[$a,$n] - ${MB_BEFORE[$n]:-0}))
	done
	# from here on nothing may move
	for n in "${!current[@]}"; do
		[[ $n != "$a",* ]] || MB_BEFORE[${n#"$a",}]=${current[$n]}
	done
	req=${nft[req]}
	out_d=$(($(row "$MB_OUT" 7) - MB_OUT_PKTS))
	in_d=$(($(row "$MB_IN" 7) - MB_IN_PKTS))
	b_in=$(($(xsa_packets "$b" "$MB_OUT") - MB_B_IN))
	b_out=$(($(xsa_packets "$b" "$MB_IN") - MB_B_OUT))
	echo "# nft on a: ${!nft[*]} = ${nft[*]}; a's SAs: out +$out_d in +$in_d; b's SAs: in +$b_in out +$b_out"
	bmoved=$(xfrm_moved)
	echo "# b's xfrm counters moved over the move: ${bmoved:-none}"
	for n in $bmoved; do
		[[ " $MOBIKE_B_EXPLAINED " == *" ${n%=*} "* ]] || die_logs "b's xfrm counter ${n%=*} moved by ${n#*=} over the move"
		[[ ${n%=*} != XfrmOutPolBlock ]] || b_block=${n#*=}
		[[ ${n%=*} != XfrmInNoStates ]] || b_nostate=${n#*=}
		[[ ${n%=*} != XfrmInNoPols ]] || b_nopol=${n#*=}
		MB_BX[${n%=*}]=$((MB_BX[${n%=*}] + ${n#*=}))
	done
	check_eq "a's echo requests (nft) = out SA's packets + tx_no_route + tx_policy_block + tx_sa_gone + tx_no_sa" \
		"$req" "$((out_d + MB_D[tx_no_route] + MB_D[tx_policy_block] + MB_D[tx_sa_gone] + MB_D[tx_no_sa]))"
	check_eq "b's inbound SA's packets = a's outbound SA's - XfrmInNoStates" "$b_in" "$((out_d - b_nostate))"
	check_eq "b's outbound SA's packets (answers) = its inbound SA's - XfrmInNoPols - XfrmOutPolBlock" \
		"$b_out" "$((b_in - b_nopol - b_block))"
	check_eq "b's ESP that reached a (prerouting: to 10.0.0.1 + to $MOBIKE_NEW) = b's outbound SA's packets" \
		"$((nft[pre1] + nft[pre3]))" "$b_out"
	check_eq "b's ESP to $MOBIKE_NEW: in prerouting = in input" "${nft[in3]}" "${nft[pre3]}"
	check_eq "b's ESP in a's input = a's inbound SA's packets + rx_no_sa" \
		"$((nft[in1] + nft[in3]))" "$((in_d + MB_D[rx_no_sa]))"
	# what was lost where
	for n in tx_no_route tx_policy_block tx_sa_gone tx_no_sa rx_no_sa rx_policy_mismatch rx_sa_gone; do
		((MB_D[$n] == 0)) && continue
		drops=$((drops + MB_D[$n]))
		why+=", $n ${MB_D[$n]}"
	done
	((b_nostate == 0)) || why+=", b's XfrmInNoStates $b_nostate (b's inbound SA deleted and added again)"
	((b_nopol == 0)) || why+=", b's XfrmInNoPols $b_nopol (b's inbound policy replaced)"
	((b_block == 0)) || why+=", b's XfrmOutPolBlock $b_block (b's charon's drop policy)"
	drops=$((drops + b_nostate + b_nopol + b_block))
	d=$((nft[pre1] - nft[in1]))
	((d == 0)) || why+=", $d answers to 10.0.0.1 after a lost it (a's stack: not local, no forwarding)"
	drops=$((drops + d))
	check_eq "pings lost = requests and answers dropped (${why#, })" "$lost" "$drops"
}

# mobike_wire FILE: the ESP of m-tun on b's link: a's outbound SA numbered every packet it sent,
# one after the other across the move (by number: a's two CPUs may send them out of order), from
# 10.0.0.1 up to the move, then from the new address only; b's to a's old, then new address
mobike_wire()
{
	local w n no nn gaps dups bad ls fs first last
	# by sequence number: "N FROM-OLD FROM-NEW GAPS DUPS BAD LAST-FROM-OLD FIRST-FROM-NEW FIRST LAST"
	w=$(esp_wire "$1" "$MB_OUT" | sort -n -k 3 | awk -v old=10.0.0.1 -v new="$MOBIKE_NEW" '
		{ n++; if ($2 != "10.0.0.2") bad++
		  if (n == 1) first = $3; else if ($3 == last) dups++; else if ($3 != last + 1) gaps += $3 - last - 1
		  if ($1 == new) { nn++; if (!fs) fs = $3 } else if ($1 == old) { no++; ls = $3 } else bad++
		  last = $3 }
		END { print n + 0, no + 0, nn + 0, gaps + 0, dups + 0, bad + 0, ls + 0, fs + 0, first + 0, last + 0 }')
	read -r n no nn gaps dups bad ls fs first last <<<"$w"
	echo "# wire, a -> b ESP of $MB_OUT: $n packets, seq $first..$last; $no from 10.0.0.1 (up to seq $ls), $nn from $MOBIKE_NEW (from seq $fs)"
	check_eq "a -> b ESP of $MB_OUT on the wire not to 10.0.0.2 or from a third address" "$bad" 0
	check_eq "a -> b ESP: sequence numbers missing between $first and $last, and repeated" "$gaps $dups" "0 0"
	((no > 0 && nn > 0)) || fail "a -> b ESP: $no from 10.0.0.1, $nn from $MOBIKE_NEW: both expected"
	check_eq "a -> b ESP: from 10.0.0.1 seq $first..$ls, from $MOBIKE_NEW the rest (first seq)" "$fs" "$((ls + 1))"
	if [[ -n $MB_OSEQ ]]; then
		check_eq "a -> b ESP: first and last seq on the wire = a's outbound SA's oseq before + 1, now" \
			"$first $last" "$((MB_OSEQ + 1)) $(sa_rows "$a" | awk -v s="$MB_OUT" '$1 == s { print $6 }')"
	fi
	w=$(esp_wire "$1" "$MB_IN" | sort -n -k 3 | awk -v old=10.0.0.1 -v new="$MOBIKE_NEW" '
		{ n++; if ($1 != "10.0.0.2") bad++
		  if (n > 1 && $3 != last + 1) gaps++
		  if ($2 == new) { nn++; if (!fs) fs = $3 } else if ($2 == old) { no++; ls = $3 } else bad++
		  last = $3 }
		END { print n + 0, no + 0, nn + 0, gaps + 0, bad + 0, ls + 0, fs + 0 }')
	read -r n no nn gaps bad ls fs <<<"$w"
	echo "# wire, b -> a ESP of $MB_IN: $n packets, $no to 10.0.0.1 (up to seq $ls), $nn to $MOBIKE_NEW (from seq $fs)"
	check_eq "b -> a ESP of $MB_IN not from 10.0.0.2 or to a third address, and gaps in its numbers" "$bad $gaps" "0 0"
	((no > 0 && nn > 0)) || fail "b -> a ESP: $no to 10.0.0.1, $nn to $MOBIKE_NEW: both expected"
	check_eq "b -> a ESP: to $MOBIKE_NEW from the seq after the last to 10.0.0.1" "$fs" "$((ls + 1))"
	check_eq "ESP of other SPIs on b's link" \
		"$(tcpdump -r "$1" -n -t esp 2>/dev/null | grep -vc -e "spi=$MB_OUT," -e "spi=$MB_IN,")" 0
	w=$(tcpdump -r "$1" -n -t "udp port 4500 and host $MOBIKE_NEW" 2>/dev/null | wc -l)
	((w >= 2)) || fail "no IKE exchange between $MOBIKE_NEW and b on b's link ($w packets)"
	pass "wire: IKE between $MOBIKE_NEW:4500 and b: $w packets"
}

# answers_in: each answer b sent since the snapshot reached a's prerouting (nft)
# shellcheck disable=SC2317 # called by wait_secs
answers_in()
{
	local pre
	pre=$(nft_counts | tr ' ' '\n' | awk -F= '$1 ~ /^pre/ { s += $2 } END { print s + 0 }')
	[[ $(($(xsa_packets "$b" "$MB_IN") - MB_B_OUT)) == "$pre" ]]
}

case_mobike()
{
	local reqid in out tr_reqid tr_in tr_out b_reqid b_tr_reqid tr2 btr2 t0 t1 sent got lost runs
	local dups first want spi n
	local -A MB_BEFORE=() MB_D=() MB_BX=()
	ensure_up
	CHILDREN="m-tr m-tun"
	sw a --initiate --child m-tr --timeout 120 >"$tmp/init.tr" 2>&1 ||
		die_logs "initiating m-tr: $(tail -n 3 "$tmp/init.tr")"
	wait_secs 60 settled a b "$LEFT" xfrm
	sas_agree "before the move" a b "$LEFT"
	read -r reqid in out <<<"$(child a m-tun)"
	read -r tr_reqid tr_in tr_out <<<"$(child a m-tr)"
	read -r b_reqid _ <<<"$(child b m-tun)"
	read -r b_tr_reqid _ <<<"$(child b m-tr)"
	MB_IN=$in MB_OUT=$out
	# a's counters (before any ping)
	mobike_nft "$in"
	MB_OSEQ='' MB_SEQ=-
	if is_nfsec "$LEFT"; then
		MB_ROWS=$(sa_rows "$a")
		MB_SEQ=$(row "$in" 5) MB_IN_PKTS=$(row "$in" 7) MB_OSEQ=$(row "$out" 6) MB_OUT_PKTS=$(row "$out" 7)
		counters_now "$a"
		for n in "${!current[@]}"; do
			[[ $n != "$a",* ]] || MB_BEFORE[${n#"$a",}]=${current[$n]}
		done
	fi
	MB_B_IN=$(xsa_packets "$b" "$out") MB_B_OUT=$(xsa_packets "$b" "$in")
	while read -r n spi; do
		MB_BX[$n]=$spi
	done < <(ip netns exec "$b" cat /proc/net/xfrm_stat)
	check_eq "IKE_SA's addresses on a (local remote)" "$(host_of a local) $(host_of a remote)" "10.0.0.1 10.0.0.2"
	check_eq "a's SAs ($LEFT: SPI src dst reqid) before the move" "$(a_endpoints)" \
		"$(printf '%s\n' "$in 10.0.0.2 10.0.0.1 $reqid" "$out 10.0.0.1 10.0.0.2 $reqid" \
			"$tr_in 10.0.0.2 10.0.0.1 $tr_reqid" "$tr_out 10.0.0.1 10.0.0.2 $tr_reqid" | sort)"
	check_eq "a's policies with a template ($LEFT) before the move" "$(tmpls a "$LEFT")" \
		"$(printf '%s\n' "fwd 10.2.0.1/32 10.1.0.1/32 10.0.0.2 10.0.0.1 $reqid" \
			"in 10.2.0.1/32 10.1.0.1/32 10.0.0.2 10.0.0.1 $reqid" \
			"out 10.1.0.1/32 10.2.0.1/32 10.0.0.1 10.0.0.2 $reqid" \
			"in 10.0.0.2/32 10.0.0.1/32 - - $tr_reqid" \
			"out 10.0.0.1/32 10.0.0.2/32 - - $tr_reqid" | sort)"
	step "m-tun and m-tr up"

	# the ping across the move, b's link captured
	CAP_SNAPLEN=96 cap_start "$b" eth0 "$tmp/mobike.pcap" "esp or udp port 4500 or udp port 500"
	ping_start "$a" 10.2.0.1 0.05 "$tmp/ping.mobike"
	wait_for 30 grep -q "icmp_seq=" "$tmp/ping.mobike"
	step "ping flowing (a's outbound oseq ${MB_OSEQ:--}, inbound seq $MB_SEQ before it)"

	# a's address changes: the new one beside the old, which then goes (promote_secondaries:
	# the new one becomes eth0's primary, the subnet's route stays), in one batch: one roam
	# event for charon's kernel-netlink
	ip netns exec "$a" sysctl -qw net.ipv4.conf.eth0.promote_secondaries=1
	t0=${EPOCHREALTIME/./}
	printf '%s\n' "address add $MOBIKE_NEW/24 dev eth0" "address del 10.0.0.1/24 dev eth0" |
		ip -n "$a" -batch -
	wait_secs 60 ike_moved
	t1=${EPOCHREALTIME/./}
	step "IKE_SA at $MOBIKE_NEW on both sides ($(((t1 - t0) / 1000)) ms after the address change)"
	# (not wait_secs: if none comes, what nfsec holds is the news)
	n=$((t1 + 60000000))
	until answered_after "$tmp/ping.mobike" "$t1"; do
		((${EPOCHREALTIME/./} < n)) ||
			die_logs "no ping answered in 60 s after both charons moved the IKE_SA (nfsec's SAs and policies below)"
		sleep 0.1
	done
	ping_stop "$tmp/ping.mobike"
	read -r sent got _ <<<"$PING_RESULT"
	read -r lost runs dups first <<<"$(ping_runs "$tmp/ping.mobike" "$t0")"
	grep -E "requesting address change|checking path|INFORMATIONAL|updating SAD entry|unable to update SAD|rekey" \
		"$tmp/a/charon.log" | tail -n 16 | sed 's/^/#   a: /' || true
	grep -E "INFORMATIONAL request|updating SAD entry|unable to update SAD|rekey" \
		"$tmp/b/charon.log" | tail -n 8 | sed 's/^/#   b: /' || true
	pass "ping across the move: $sent sent, $got answered, $lost lost, answered again ${first/#-/(none lost) -} ms after the address change"
	check_eq "runs of lost pings (one outage)" "$runs" "$((lost > 0))"
	check_eq "duplicate answers" "$dups" 0
	wait_secs 60 settled a b "$LEFT" xfrm
	# moved, not rekeyed (charon rekeys a CHILD_SA that update_sa could not move)
	[[ $(child a m-tun) == "$reqid $in $out" ]] ||
		die_logs "m-tun on a (reqid in out) was '$reqid $in $out', now '$(child a m-tun)': rekeyed, not moved (update_sa failed?)"
	[[ $(child a m-tr | cut -d' ' -f2-) == "$tr_in $tr_out" ]] ||
		die_logs "m-tr on a (in out) was '$tr_in $tr_out', now '$(child a m-tr | cut -d' ' -f2-)': rekeyed, not moved"
	wait_secs 10 answers_in
	if is_nfsec "$LEFT"; then
		MB_ROWS=$(sa_rows "$a")
		mobike_account "$lost"
	fi
	step "ping accounted for"

	# the same CHILD_SAs (SPIs), moved
	sas_agree "after the move" a b "$LEFT"
	check_eq "m-tun on a (reqid in out) after the move" "$(child a m-tun)" "$reqid $in $out"
	check_eq "m-tun on b (reqid in out) after the move" "$(child b m-tun)" "$b_reqid $out $in"
	read -r tr2 _ <<<"$(child a m-tr)"
	read -r btr2 _ <<<"$(child b m-tr)"
	check_eq "m-tr on a (in out) after the move" "$(child a m-tr | cut -d' ' -f2-)" "$tr_in $tr_out"
	check_eq "m-tr on b (in out) after the move" "$(child b m-tr | cut -d' ' -f2-)" "$tr_out $tr_in"
	# its traffic selectors were the old address: charon gives it a new reqid (update_sa's new_reqid)
	[[ $tr2 != "$tr_reqid" && $btr2 != "$b_tr_reqid" ]] ||
		fail "m-tr's reqids (a b) $tr_reqid $b_tr_reqid -> $tr2 $btr2: new ones expected"
	pass "m-tr's reqids (a b) $tr_reqid $b_tr_reqid -> $tr2 $btr2"
	check_eq "IKE_SA's addresses on a (local remote)" "$(host_of a local) $(host_of a remote)" "$MOBIKE_NEW 10.0.0.2"
	check_eq "a's SAs ($LEFT: SPI src dst reqid) after the move" "$(a_endpoints)" \
		"$(printf '%s\n' "$in 10.0.0.2 $MOBIKE_NEW $reqid" "$out $MOBIKE_NEW 10.0.0.2 $reqid" \
			"$tr_in 10.0.0.2 $MOBIKE_NEW $tr2" "$tr_out $MOBIKE_NEW 10.0.0.2 $tr2" | sort)"
	want=$(printf '%s\n' "fwd 10.2.0.1/32 10.1.0.1/32 10.0.0.2 $MOBIKE_NEW $reqid" \
		"in 10.2.0.1/32 10.1.0.1/32 10.0.0.2 $MOBIKE_NEW $reqid" \
		"out 10.1.0.1/32 10.2.0.1/32 $MOBIKE_NEW 10.0.0.2 $reqid" \
		"in 10.0.0.2/32 $MOBIKE_NEW/32 - - $tr2" \
		"out $MOBIKE_NEW/32 10.0.0.2/32 - - $tr2" | sort)
	check_eq "a's policies with a template ($LEFT) after the move" "$(tmpls a "$LEFT")" "$want"
	if is_nfsec "$LEFT"; then
		check_eq "a's nfsec policies after the move: the IKE bypasses and 5 with a template" \
			"$(nfsec_policies "$a" | awk '$7 == "tmpl" { t++; next } { print } END { print t + 0 }')" \
			"$(bypass_policies | sort; echo 5)"
		check_eq "a's nfsec SAs of m-tr: their selectors (src dst)" \
			"$(awk -v i="$tr_in" -v o="$tr_out" '$1 == i || $1 == o { print $1, $8, $9 }' <<<"$MB_ROWS")" \
			"$(printf '%s\n' "$tr_in 10.0.0.2/32 $MOBIKE_NEW/32" "$tr_out $MOBIKE_NEW/32 10.0.0.2/32" | sort)"
	fi
	check_eq "b's SAs (xfrm: SPI src dst reqid) after the move" "$(endpoints b xfrm)" \
		"$(printf '%s\n' "$in 10.0.0.2 $MOBIKE_NEW $b_reqid" "$out $MOBIKE_NEW 10.0.0.2 $b_reqid" \
			"$tr_in 10.0.0.2 $MOBIKE_NEW $btr2" "$tr_out $MOBIKE_NEW 10.0.0.2 $btr2" | sort)"
	check_eq "b's m-tun policies with a template (xfrm) after the move" \
		"$(tmpls b xfrm | grep -e " 10.2.0.1/32 " -e " 10.1.0.1/32 ")" \
		"$(printf '%s\n' "fwd 10.1.0.1/32 10.2.0.1/32 $MOBIKE_NEW 10.0.0.2 $b_reqid" \
			"in 10.1.0.1/32 10.2.0.1/32 $MOBIKE_NEW 10.0.0.2 $b_reqid" \
			"out 10.2.0.1/32 10.1.0.1/32 10.0.0.2 $MOBIKE_NEW $b_reqid" | sort)"
	if is_nfsec "$LEFT"; then
		n=$(row "$in" 5) spi=$(row "$out" 6)
		((n > MB_SEQ)) || fail "a's inbound SA's seq $n after the move, $MB_SEQ before"
		((spi > MB_OSEQ)) || fail "a's outbound SA's oseq $spi after the move, $MB_OSEQ before"
		pass "sequence numbers went on: a's inbound SA's seq $MB_SEQ -> $n, outbound oseq $MB_OSEQ -> $spi"
	fi
	step "SAs and policies checked"

	# TCP through the moved m-tun, then the wire
	xfer "$a" "$b" 10.2.0.1 5003 262144
	cap_stop
	mobike_wire "$tmp/mobike.pcap"
	step "TCP and wire checked"

	# m-tr carries the new address's pings
	local -A pkts=()
	for spi in $tr_in $tr_out; do
		pkts[$spi]=$(sa_packets a "$LEFT" "$spi")
	done
	ip netns exec "$a" ping -c 3 -i 0.2 -W 10 10.0.0.2 >"$tmp/ping.tr" 2>&1 ||
		die_logs "pings through m-tr: $(tail -n 2 "$tmp/ping.tr")"
	for spi in $tr_in $tr_out; do
		check_eq "packets of a's m-tr SA $spi after 3 pings from $MOBIKE_NEW" \
			"$(($(sa_packets a "$LEFT" "$spi") - pkts[$spi]))" 3
	done
	if is_nfsec "$LEFT"; then
		counters_now "$a"
		check_eq "a's nfsec counters moved since the ping across the move (TCP, m-tr's pings)" "$(moved_since)" ""
		check_eq "b's xfrm counters moved since the ping across the move" "$(xfrm_moved)" ""
	fi
	step "m-tr carries the new address's pings"
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
	local ns s ms w nside=
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
if [[ " $CASES " == *" rekey "* || " $CASES " == *" restart "* || " $CASES " == *" mobike "* ||
	" $CASES " == *" dpd "* ]]; then
	start_charon a "$LEFT"
	start_charon b xfrm
	step "charons up"
fi
for c in rekey restart mobike dpd; do
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
