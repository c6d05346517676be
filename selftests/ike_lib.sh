# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers for the IKE tests (ike_*.sh): Debian's charon with the kernel-nfsec plugin (ike/,
# LD_PRELOADed) on nfsec, or stock charon on xfrm, one per namespace, each with its own /run
# (unshare -m), strongswan.conf, vici socket and log. Sourced after lib.sh and esp_lib.sh, once
# the test set LEFT (nfsec or xfrm: the first side's kernel; the other side is always xfrm).
#
# IKE_PLUGIN=FILE: that build of the plugin instead of ike/'s (one broken on purpose).
#
# A "side" is the name of the shell variable holding its namespace (a, b: tunnel_hosts' $a and
# $b), and of its directory $tmp/SIDE (strongswan.conf, swanctl.conf, charon.log, charon.vici).
#
#   ike_setup                  LEFT from IKE_LEFT (default nfsec), RIGHT xfrm, CASE setup; then
#                              ike_need
#   ike_need                   skip unless charon, swanctl, the plugin (with nfsec) and the
#                              strongSwan plugins are there
#   ike_tmp                    $tmp, removed at exit, with tools.conf (pki's and swanctl's plugins)
#   strongswan_conf DIR IMPL [LINES]  DIR/strongswan.conf: PLUGINS with kernel-nfsec (critical)
#                              before kernel-netlink for nfsec, IKE_RETRANSMIT, LINES (more
#                              settings of section charon), vici and the log in DIR
#   conn_head NAME LOCAL REMOTE  the first lines of swanctl.conf's IKEv2 connection NAME
#                              between the addresses LOCAL and REMOTE (IKE AES-CBC-256/
#                              HMAC-SHA2-256/X25519, no reauthentication)
#   start_charon SIDE IMPL     charon in SIDE's namespace; swanctl --load-all of
#                              $tmp/SIDE/swanctl.conf; with nfsec, the plugin registered
#   stop_charon SIDE           SIGTERM, wait for it to exit
#   kill_charon SIDE           SIGKILL (no IKE message, nothing removed from the kernel), reaped
#   sw SIDE COMMAND [ARGS...]  swanctl COMMAND on SIDE's charon
#   die_logs MSG               the end of each charon's log and nfsec's SAs and policies, fail MSG
#   wait_secs SECS CMD...      wait_for by the clock (each try of a swanctl predicate costs
#                              seconds under TCG)
#   step WHAT                  "# CASE +N ms: WHAT", N since CASE_T0
#   list_sas SIDE              swanctl --list-sas --pretty into $tmp/sas.SIDE
#   children SIDE              the INSTALLED CHILD_SAs of the last list_sas, "NAME MODE REQID
#                              SPI-IN SPI-OUT ENCR KEYSIZE INTEG", sorted
#   children_up [SIDES]        every CHILD_SA of $CHILDREN installed on both sides (a b)
#   no_sas SIDE                swanctl --list-sas shows nothing on SIDE
#   nfsec_sas NS               nfsec's SAs, "SPI REQID MODE DST REPLAY-WINDOW ALG FLAGS", sorted
#   xfrm_sas NS                xfrm's SAs, "SPI REQID MODE DST", sorted
#   nfsec_alg ENCR KEYSIZE INTEG  nfsec's algorithm words for swanctl's
#   kernel_spis SIDE IMPL      the SAs of SIDE's kernel, "SPI REQID", sorted
#   sas_agree WHAT SA SB [IMPL-A [IMPL-B]]  the CHILD_SAs of SA and SB (last list_sas) are the same
#                              (names, a's inbound SPIs b's outbound ones) and each side's
#                              kernel holds exactly their SAs (SPI and reqid)
#   xfrm_spd NS                xfrm's SPD (not the sockets' policies)
#   nfsec_policies NS          "DIR PRIORITY SRC:SPORT DST:DPORT PROTO ACTION TMPL|-", sorted
#   bypass_policies            what nfsec_policies shows of the plugin's IKE bypasses (IPv4 and
#                              IPv6, UDP 500 and 4500)

charon=/usr/lib/ipsec/charon
plugin=${IKE_PLUGIN:-$SELFTESTS_DIR/../ike/libstrongswan-kernel-nfsec.so}

ike_setup()
{
	CASE=setup CASE_T0=${EPOCHREALTIME/./}
	# shellcheck disable=SC2034 # esp_lib.sh's side() and nfsec_sides() read RIGHT
	LEFT=${IKE_LEFT:-nfsec} RIGHT=xfrm
	ike_need
}

ike_need()
{
	is_nfsec "$LEFT" && need_module
	[[ -x $charon ]] || skip "no $charon (apt-get install strongswan-charon)"
	need_cmd swanctl pki tcpdump socat jq
	[[ $(id -u) == 0 ]] || skip "needs root (namespaces, mount)"
	if is_nfsec "$LEFT"; then
		[[ -f $plugin ]] || skip "the kernel-nfsec plugin is not built (make ike)"
		command -v nfsec >/dev/null || fail "the nfsec tool is not built (tools/nfsec)"
	fi
	local p
	for p in curve25519 vici kernel-netlink socket-default x509 pkcs8; do
		[[ -f /usr/lib/ipsec/plugins/libstrongswan-$p.so ]] ||
			skip "strongSwan plugin $p missing (libstrongswan-extra-plugins, strongswan-charon)"
	done
}

ike_tmp()
{
	tmp=$(mktemp -d)
	defer "rm -rf $tmp"
	chmod 755 "$tmp"
	# pki's and swanctl's plugins: what they need, not every plugin installed
	cat >"$tmp/tools.conf" <<'EOF'
pki {
	load = random drbg nonce sha1 sha2 pem pkcs1 pkcs8 x509 pubkey curve25519 gmp constraints
}
swanctl {
	load = random nonce sha1 sha2 pem pkcs1 pkcs8 x509 pubkey curve25519 gmp
}
EOF
}

# Plugins in Debian 12's order, kernel-nfsec (critical) before kernel-netlink on nfsec's side
PLUGINS="random nonce aes sha1 sha2 hmac kdf pem pkcs1 pkcs8 x509 revocation constraints pubkey
	gmp curve25519 drbg KERNEL kernel-netlink socket-default vici"
# TCG: IKE's crypto is emulated, and the machine may be busy
IKE_RETRANSMIT="retransmit_timeout = 15
	retransmit_tries = 3"

strongswan_conf()
{
	local kernel=''
	is_nfsec "$2" && kernel='kernel-nfsec!'
	cat >"$1/strongswan.conf" <<EOF
charon {
	load = $(tr -s ' \t\n' ' ' <<<"${PLUGINS/KERNEL/$kernel}")
	${3:-}
	$IKE_RETRANSMIT
	install_virtual_ip = no
	plugins {
		vici {
			socket = unix://$1/charon.vici
		}
	}
	filelog {
		log {
			path = $1/charon.log
			time_format = %H:%M:%S
			flush_line = yes
			default = 1
			knl = 2
			ike = 1
			cfg = 1
		}
	}
}
EOF
}

conn_head()
{
	cat <<EOF
	$1 {
		version = 2
		local_addrs = $2
		remote_addrs = $3
		proposals = aes256-sha256-x25519
		rekey_time = 0
EOF
}

declare -A CHARON CHARON_IMPL
start_charon()
{
	local s=$1 impl=$2 d=$tmp/$1 pre=
	is_nfsec "$impl" && pre="LD_PRELOAD=$plugin"
	# a restart: the last charon's log aside, its socket gone
	[[ -f $d/charon.log ]] && cat "$d/charon.log" >>"$d/charon.log.old" && rm -f "$d/charon.log"
	rm -f "$d/charon.vici"
	ip netns exec "${!s}" unshare -m sh -c "mount -t tmpfs tmpfs /run && exec env $pre \
		STRONGSWAN_CONF=$d/strongswan.conf $charon" >"$d/charon.out" 2>&1 &
	CHARON[$s]=$! CHARON_IMPL[$s]=$impl
	defer "kill ${CHARON[$s]} 2>/dev/null"
	wait_for 60 test -S "$d/charon.vici"
	wait_for 30 sw "$s" --stats >/dev/null
	SWANCTL_DIR=$d sw "$s" --load-all --file "$d/swanctl.conf" >"$d/load.out" 2>&1 ||
		{ cat "$d/load.out"; fail "swanctl --load-all on $s"; }
	if is_nfsec "$impl"; then
		grep -q "using nfsec as kernel IPsec backend" "$d/charon.log" ||
			fail "charon on $s did not register kernel-nfsec: $(grep -i nfsec "$d/charon.log")"
	fi
	pass "charon on $s ($impl) up, $(grep -c "loaded connection" "$d/load.out") connections loaded"
}

stop_charon()
{
	local pid=${CHARON[$1]} i
	kill -TERM "$pid"
	for ((i = 0; i < 300; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && fail "charon on $1 still running 30 s after SIGTERM"
	wait "$pid" 2>/dev/null || true
}

kill_charon()
{
	local pid=${CHARON[$1]}
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	unset "CHARON[$1]"
}

sw()
{
	local s=$1 cmd=$2
	shift 2
	STRONGSWAN_CONF=$tmp/tools.conf swanctl "$cmd" --uri "unix://$tmp/$s/charon.vici" "$@"
}

die_logs()
{
	local s
	for s in "${!CHARON_IMPL[@]}"; do
		echo "# ---- charon.log on $s (end)"
		tail -n 40 "$tmp/$s/charon.log" 2>/dev/null | sed 's/^/#   /'
		is_nfsec "${CHARON_IMPL[$s]}" || continue
		echo "# ---- nfsec on $s"
		ip netns exec "${!s}" nfsec sa show 2>&1 | sed 's/^/#   /'
		ip netns exec "${!s}" nfsec policy show 2>&1 | sed 's/^/#   /'
	done
	fail "$@"
}

wait_secs()
{
	local secs=$1 end=$((${EPOCHREALTIME/./} + $1 * 1000000))
	shift
	until "$@"; do
		((${EPOCHREALTIME/./} < end)) || fail "timed out after ${secs}s waiting for: $*"
		sleep 0.1
	done
}

step() { echo "# $CASE +$(((${EPOCHREALTIME/./} - CASE_T0) / 1000)) ms: $*"; }

# shellcheck disable=SC2317 # called by wait_for
list_sas() { sw "$1" --list-sas --pretty >"$tmp/sas.$1"; }

children()
{
	awk '
		function out() {
			if (name != "" && state == "INSTALLED")
				printf "%s %s %s 0x%s 0x%s %s %s %s\n", name, mode, reqid, spi_in,
					spi_out, encr, (keysize == "" ? "-" : keysize),
					(integ == "" ? "-" : integ)
			name = ""
		}
		$1 == "name" && $2 == "=" { out(); name = $3; mode = reqid = spi_in = spi_out = ""
			encr = keysize = integ = state = "" }
		$1 == "state" { state = $3 }
		$1 == "mode" { mode = $3 }
		$1 == "reqid" { reqid = $3 }
		$1 == "spi-in" { spi_in = $3 }
		$1 == "spi-out" { spi_out = $3 }
		$1 == "encr-alg" { encr = $3 }
		$1 == "encr-keysize" { keysize = $3 }
		$1 == "integ-alg" { integ = $3 }
		END { out() }' "$tmp/sas.$1" | sort
}

# shellcheck disable=SC2317 # called by wait_for
children_up()
{
	local sa=${1:-a} sb=${2:-b}
	list_sas "$sa" && list_sas "$sb" &&
		[[ $(children "$sa" | awk '{ print $1 }' | xargs) == "$CHILDREN" &&
			$(children "$sb" | awk '{ print $1 }' | xargs) == "$CHILDREN" ]]
}

# shellcheck disable=SC2317 # called by wait_for
no_sas() { [[ -z $(sw "$1" --list-sas) ]]; }

nfsec_sas()
{
	ip netns exec "$1" nfsec -j sa show | jq -r '.[] | "\(.spi) \(.reqid) \(.mode) \(.dst) \(.replay_window) " +
		([("aead", "enc", "auth") as $k | select(has($k)) |
		  "\($k):\(.[$k].name):\(.[$k].key_len)" + (if $k == "enc" then "" else ":\(.[$k].icv_len)" end)] |
		 join("+")) + " " + ((.flags // []) | if length == 0 then "-" else join(",") end)' | sort
}

xfrm_sas()
{
	ip -n "$1" xfrm state | awk '
		/^src / { dst = $4 }
		/proto esp spi/ { spi = $4; reqid = $6; mode = $8; printf "%s %s %s %s\n", spi, reqid, mode, dst }' |
		sort
}

nfsec_alg()
{
	case "$1 $2 $3" in
	"AES_GCM_16 128 -")	echo "aead:rfc4106(gcm(aes)):160:128" ;;
	"AES_GCM_16 256 -")	echo "aead:rfc4106(gcm(aes)):288:128" ;;
	"CHACHA20_POLY1305 256 -"|"CHACHA20_POLY1305 - -")
				echo "aead:rfc7539esp(chacha20,poly1305):288:128" ;;
	"AES_CBC 256 HMAC_SHA2_256_128")
				echo "enc:cbc(aes):256+auth:hmac(sha256):256:128" ;;
	*)			echo "unknown($1 $2 $3)" ;;
	esac
}

kernel_spis()
{
	if is_nfsec "$2"; then
		nfsec_sas "${!1}"
	else
		xfrm_sas "${!1}"
	fi | awk '{ print $1, $2 }' | sort
}

sas_agree()
{
	local what=$1 sa=$2 sb=$3 impl=${4:-$LEFT} implb=${5:-xfrm} ca cb want
	ca=$(children "$sa") cb=$(children "$sb")
	check_eq "$what: CHILD_SAs on $sa" "$(awk '{ print $1 }' <<<"$ca" | xargs)" "$CHILDREN"
	check_eq "$what: CHILD_SAs on $sb" "$(awk '{ print $1 }' <<<"$cb" | xargs)" "$CHILDREN"
	check_eq "$what: $sa's inbound SPIs = $sb's outbound ones" "$(awk '{ print $1, $4, $5 }' <<<"$ca")" \
		"$(awk '{ print $1, $5, $4 }' <<<"$cb")"
	want=$(awk '{ print $4, $3; print $5, $3 }' <<<"$ca" | sort)
	check_eq "$what: $sa's SAs ($impl: SPI reqid)" "$(kernel_spis "$sa" "$impl")" "$want"
	want=$(awk '{ print $4, $3; print $5, $3 }' <<<"$cb" | sort)
	check_eq "$what: $sb's SAs ($implb: SPI reqid)" "$(kernel_spis "$sb" "$implb")" "$want"
}

xfrm_spd() { ip -n "$1" xfrm policy | grep -E "^[[:space:]]+dir (in|out|fwd) " || true; }

nfsec_policies()
{
	ip netns exec "$1" nfsec -j policy show | jq -r '.[] | "\(.dir) \(.priority) \(.sel.src):\(.sel.sport) " +
		"\(.sel.dst):\(.sel.dport) \(.sel.proto) \(.action) \(if has("tmpl") then "tmpl" else "-" end)"' | sort
}

bypass_policies()
{
	printf '%s\n' \
		"in 32 0.0.0.0/0:0 0.0.0.0/0:4500 17 allow -" \
		"in 32 0.0.0.0/0:0 0.0.0.0/0:500 17 allow -" \
		"out 32 0.0.0.0/0:4500 0.0.0.0/0:0 17 allow -" \
		"out 32 0.0.0.0/0:500 0.0.0.0/0:0 17 allow -" \
		"in 32 ::/0:0 ::/0:4500 17 allow -" \
		"in 32 ::/0:0 ::/0:500 17 allow -" \
		"out 32 ::/0:4500 ::/0:0 17 allow -" \
		"out 32 ::/0:500 ::/0:0 17 allow -"
}
