#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# IPv6 against native xfrm (esp6): transport mode between IPv6 hosts, tunnel mode 6in6, and
# across families, 4in6 and 6in4 with flag af-unspec; GCM, CBC+HMAC, ChaCha20 with ESN.
# esp_interop.sh's pings, 1 MB TCP each way, wire and counter checks, for each. AH and ESP in
# UDP over IPv6 are ah6_natt6_interop.sh's: one script would run longer than one test's limit.
export INTEROP_CASES=${INTEROP_CASES:-"gcm128/transport6 gcm128/6in6 cbc/4in6 chacha+esn/6in4
	cbc/transport6"}
exec "$(dirname "$0")/esp_interop.sh"
