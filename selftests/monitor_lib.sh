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
#   mon_alive NS IMPL FILE...         before checking that a quiet period printed nothing: the
#                                     monitors writing FILEs still run, and an SA added and
#                                     deleted now (SPI 0xfe00-0xfeff, new each call) shows up
#                                     in each FILE. A dead or stuck monitor fails it; one that
#                                     printed the probe has printed what the kernel sent before.
#                                     Probe SAs (0xfe00-0xfeff) are no test's own: leave them out
#   mon_expiries FILE                 "soft SPI" or "hard SPI" for each expire event in the text
#                                     FILE: "Expired" ... "hard 0|1", as both tools print them

MON_PROBE_ALG="aead rfc4106(gcm(aes)) 0x00112233445566778899aabbccddeeff00112233 128"
declare -A _MON_PID
_MON_PROBE=0

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
	# ip netns exec and ip -n exec or setns in place: this is the monitor itself
	_MON_PID[$file]=$!
}

mon_seen() { grep -qiE "spi\"?:? ?\"?0x0*$2\b" "$1"; }

# _mon_probe NS IMPL SPI: an SA with SPI added and deleted
_mon_probe()
{
	local probe="src 192.0.2.1 dst 192.0.2.2 proto esp spi $3"
	if [[ $2 == nfsec ]]; then
		ip netns exec "$1" nfsec sa add $probe $MON_PROBE_ALG
		ip netns exec "$1" nfsec sa del $probe
	else
		ip -n "$1" xfrm state add $probe $MON_PROBE_ALG
		ip -n "$1" xfrm state del $probe
	fi
}

mon_ready()
{
	local ns=$1 impl=$2 f i
	shift 2
	for ((i = 0; i < 100; i++)); do
		_mon_probe "$ns" "$impl" 0xfeed
		for f; do mon_seen "$f" feed || continue 2; done
		return 0
	done
	fail "the monitors never saw the probe SA: $(cat "${@/%/.err}")"
}

# _mon_running FILE: the monitor writing FILE is still running (not exited, not a zombie)
_mon_running()
{
	local pid=${_MON_PID[$1]:-}
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null &&
		[[ $(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) != [ZX] ]]
}

mon_alive()
{
	local ns=$1 impl=$2 f i spi
	shift 2
	for f; do
		_mon_running "$f" || fail "the monitor writing ${f##*/} is gone: $(cat "$f.err")"
	done
	_MON_PROBE=$(((_MON_PROBE + 1) % 256))
	spi=$(printf 'fe%02x' $_MON_PROBE)
	_mon_probe "$ns" "$impl" "0x$spi"
	for f; do
		for ((i = 0; i < 100; i++)); do
			mon_seen "$f" "$spi" && continue 2
			sleep 0.1
		done
		fail "the monitor writing ${f##*/} did not print an SA added after the quiet period"
	done
}

mon_expiries()
{
	awk '/^Expired/ { on = 1 }
	on && match($0, /spi 0x[0-9a-f]+/) { spi = substr($0, RSTART + 4, RLENGTH - 4) }
	on && match($0, /hard [01]/) {
		print (substr($0, RSTART + 5, 1) == "1" ? "hard" : "soft"), spi; on = 0
	}' "$1" | xargs
}
