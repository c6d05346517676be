# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Watching SA and policy events (nfsec monitor, or ip xfrm monitor), sourced after lib.sh:
#   mon_start NS IMPL FILE [ARGS...]  a monitor in NS until the test ends, output into FILE:
#                                     IMPL nfsec runs `nfsec ARGS` (default: monitor), xfrm
#                                     `ip xfrm monitor ARGS` (default: all)
#   mon_ready NS IMPL FILE...         returns once the monitors writing FILEs print events:
#                                     nothing tells when a socket has joined the group, so an SA
#                                     with SPI 0xfeed is added and deleted until each printed it
#   mon_seen FILE SPI                 FILE shows an SA with SPI (text or JSON)
#   mon_expiries FILE                 "soft SPI" or "hard SPI" for each expire event in the text
#                                     FILE: "Expired" ... "hard 0|1", as both tools print them

MON_PROBE_ALG="aead rfc4106(gcm(aes)) 0x00112233445566778899aabbccddeeff00112233 128"

mon_start()
{
	local ns=$1 impl=$2 file=$3
	shift 3
	# Appending, so that a test may empty the file between steps.
	: >"$file"
	if [[ $impl == nfsec ]]; then
		(($#)) || set -- monitor
		ip netns exec "$ns" nfsec "$@" >>"$file" 2>"$file.err" &
	else
		(($#)) || set -- all
		ip -n "$ns" xfrm monitor "$@" >>"$file" 2>"$file.err" &
	fi
}

mon_seen() { grep -qiE "spi\"?:? ?\"?0x0*$2\b" "$1"; }

mon_ready()
{
	local ns=$1 impl=$2 f i probe="src 192.0.2.1 dst 192.0.2.2 proto esp spi 0xfeed"
	shift 2
	for ((i = 0; i < 100; i++)); do
		if [[ $impl == nfsec ]]; then
			ip netns exec "$ns" nfsec sa add $probe $MON_PROBE_ALG
			ip netns exec "$ns" nfsec sa del $probe
		else
			ip -n "$ns" xfrm state add $probe $MON_PROBE_ALG
			ip -n "$ns" xfrm state del $probe
		fi
		for f; do mon_seen "$f" feed || continue 2; done
		return 0
	done
	fail "the monitors never saw the probe SA: $(cat "${@/%/.err}")"
}

mon_expiries()
{
	awk '/^Expired/ { on = 1 }
	on && match($0, /spi 0x[0-9a-f]+/) { spi = substr($0, RSTART + 4, RLENGTH - 4) }
	on && match($0, /hard [01]/) {
		print (substr($0, RSTART + 5, 1) == "1" ? "hard" : "soft"), spi; on = 0
	}' "$1" | xargs
}
