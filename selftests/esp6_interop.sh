#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# IPv6 against native xfrm (esp6, ah6): transport mode between IPv6 hosts, tunnel mode 6in6,
# and across families, 4in6 and 6in4 with flag af-unspec; GCM, CBC+HMAC, ChaCha20 with ESN and
# AH; ESP in UDP over IPv6 with its checksums checked. esp_interop.sh's pings, 2 MB TCP each
# way, wire and counter checks, for each.
export INTEROP_CASES=${INTEROP_CASES:-"gcm128/transport6 gcm128/6in6 cbc/4in6 chacha+esn/6in4
	ah/transport6 ah/6in6 cbc/transport6 gcm256/4in6 gcm128+udp/6in6 chacha+udp/transport6"}
exec "$(dirname "$0")/esp_interop.sh"
