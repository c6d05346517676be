#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# AH (hmac(sha256)) against native xfrm, transport and tunnel mode, padded to 8 bytes as xfrm
# does by default and to 4 with flag align4, truncated to 128 bits, to 96 with ESN across 2^32
# and not at all (256): esp_interop.sh's pings, 1 MB TCP each way, wire and counter checks, for
# AH.
export INTEROP_CASES=${INTEROP_CASES:-"ah/transport ah256/tunnel ah96+esn/transport
	ah4/transport ah4/tunnel"}
exec "$(dirname "$0")/esp_interop.sh"
