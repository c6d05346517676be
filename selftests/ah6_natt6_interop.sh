#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# IPv6 against native xfrm, the second half of esp6_interop.sh: AH (ah6) in transport mode and
# 6in6, and ESP in UDP over IPv6 with its checksums checked, tunnel 6in6 and transport.
# esp_interop.sh's pings, 1 MB TCP each way, wire and counter checks, for each.
export INTEROP_CASES=${INTEROP_CASES:-"ah/transport6 ah/6in6 gcm128+udp/6in6 chacha+udp/transport6"}
exec "$(dirname "$0")/esp_interop.sh"
