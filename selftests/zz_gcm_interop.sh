#!/bin/bash
# temporary: the GCM cases of esp_interop.sh only
export INTEROP_CASES="gcm128/transport gcm128/tunnel"
exec bash "$(dirname "$0")/esp_interop.sh"
