#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# AH (hmac(sha256) 128) against native xfrm, transport and tunnel mode, padded to 8 bytes as xfrm
# does by default and to 4 with flag align4: esp_interop.sh's pings, 2 MB TCP each way, wire and
# counter checks, for AH.
export INTEROP_CASES=${INTEROP_CASES:-"ah/transport ah/tunnel ah4/transport ah4/tunnel"}
exec "$(dirname "$0")/esp_interop.sh"
