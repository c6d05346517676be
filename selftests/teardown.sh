#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# nfsec-selftest: exclusive (it takes cpu1 offline and reads the kernel log)
#
# Teardown under traffic. A packet in flight (in the transform, or in the per-CPU queue between
# decapsulation and delivery, rxq.c) holds its SA and its device. Deleting the device the
# packets arrive on, then the namespaces, or unloading the module, while a GCM tunnel carries
# TCP both ways and two ping floods, must wait for those packets and then free everything: rmmod
# destroys nfsec's slab caches, which complain in the kernel log about any object left, and a
# device still held shows as "unregister_netdevice: waiting"; the log must stay clean.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
need_module
need_cmd iperf3

ko=${NFSEC_KO:-$SELFTESTS_DIR/../module/nfsec.ko}
GCM="aead rfc4106(gcm(aes)) 0x0123456789abcdef0123456789abcdef0badc0de 128"

# a (10.1.0.1) -- tunnel over 10.0.0.1 <-> 10.0.0.2 -- b (10.2.0.1), nfsec on both, traffic
# both ways until the end of the test
tunnel_with_traffic()
{
	local n
	tunnel_hosts
	for n in "$a" "$b"; do
		ip netns exec "$n" nfsec sa add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x100 \
			reqid 1 mode tunnel $GCM
		ip netns exec "$n" nfsec sa add src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x200 \
			reqid 2 mode tunnel $GCM
	done
	ip netns exec "$a" nfsec policy add src 10.1.0.1 dst 10.2.0.1 dir out \
		tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 1 mode tunnel
	ip netns exec "$a" nfsec policy add src 10.2.0.1 dst 10.1.0.1 dir in \
		tmpl src 10.0.0.2 dst 10.0.0.1 proto esp reqid 2 mode tunnel
	ip netns exec "$b" nfsec policy add src 10.2.0.1 dst 10.1.0.1 dir out \
		tmpl src 10.0.0.2 dst 10.0.0.1 proto esp reqid 2 mode tunnel
	ip netns exec "$b" nfsec policy add src 10.1.0.1 dst 10.2.0.1 dir in \
		tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 1 mode tunnel
	ip netns exec "$b" iperf3 -s -D -B 10.2.0.1 >/dev/null
	wait_for 5 listening "$b" 5201
	ip netns exec "$a" iperf3 -c 10.2.0.1 --bidir -t 60 >/dev/null 2>&1 &
	ip netns exec "$a" ping -q -f -s 1400 -I 10.1.0.1 10.2.0.1 >/dev/null 2>&1 &
	ip netns exec "$b" ping -q -f -s 1400 -I 10.2.0.1 10.1.0.1 >/dev/null 2>&1 &
	# Traffic flows protected, both ways, before anything is torn down.
	wait_for 20 rx_over "$b" 0x100 2000
	wait_for 20 rx_over "$a" 0x200 2000
}

# rx_of NS SPI: the SA's received packets
rx_of() { sa_field "$1" "$2" rx_packets; }

# rx_over NS SPI N: the SA has received more than N packets
rx_over()
{
	local v
	v=$(rx_of "$1" "$2")
	[[ -n $v ]] && ((v > $3))
}

reload()
{
	rmmod nfsec || fail "rmmod: $1"
	grep -q '^nfsec_sa ' /proc/slabinfo && fail "the nfsec_sa cache survived rmmod ($1)"
	insmod "$ko" || fail "could not load $ko again"
}

dmesg_mark

tunnel_with_traffic
pass "GCM tunnel carries TCP both ways and two ping floods"
# An offline CPU's NAPIs, nfsec's queue among them, are polled by another CPU
# (dev_cpu_dead()), and the CPU may come back while that one polls its queue.
online=/sys/devices/system/cpu/cpu1/online
if [[ -w $online ]]; then
	for i in 1 2 3 4 5; do
		echo 0 >"$online" || fail "taking cpu1 offline"
		sleep 0.2
		echo 1 >"$online" || fail "bringing cpu1 back"
	done
	n=$(rx_of "$b" 0x100)
	wait_for 20 rx_over "$b" 0x100 $((n + 1000))
	n=$(rx_of "$a" 0x200)
	wait_for 20 rx_over "$a" 0x200 $((n + 1000))
	pass "traffic flows on after cpu1 went offline and back 5 times"
else
	skip_case "cpu1 cannot go offline here: that step is not run"
fi
# The device goes while packets that arrived on it are in flight.
ip -n "$b" link del eth0 || fail "deleting the veth under traffic"
pass "veth deleted under traffic"
# A netns lives while a process is in it: stop them, then delete at once.
cleanup
# Both namespaces' exits run in the background; rmmod waits for them, then for nfsec's own.
reload "after deleting both namespaces"
pass "both namespaces deleted; rmmod then freed every object"

tunnel_with_traffic
reload "under traffic"
cleanup
pass "rmmod under traffic freed every object"

bad=$(dmesg_since | dmesg_bad) || true
[[ -z $bad ]] || fail "kernel log: $bad"
pass "kernel log clean"
