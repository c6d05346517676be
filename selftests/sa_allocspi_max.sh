#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# SPI reservations count against max_sas with the SAs. The rest of the reservations is
# sa_allocspi.sh's, which runs beside other tests; this part lowers the global max_sas module
# parameter, so it runs alone.
#
# Topology: one namespace a, no traffic. a holds one SA (0x8000) and one reservation, and
# max_sas is set to 2:
#  - a second allocspi is refused with the module's message naming max_sas, and
#    spi_reservations stays 1;
#  - sa add of the reserved SPI succeeds all the same (the SA takes the reservation's place):
#    sa count 2, spi_reservations 0;
#  - one SA more is refused (max_sas).
# max_sas is set back to its value before the test at once, and at exit.
# nfsec-selftest: exclusive (lowers the global max_sas module parameter)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/esp_lib.sh"
need_module

ns_create a
na() { ip netns exec "$a" "$@"; }
aead=(aead "rfc4106(gcm(aes))" 0x0123456789abcdef0123456789abcdef0badc0de 128)
id=(src 10.0.0.2 dst 10.0.0.1 proto esp)

params=/sys/module/nfsec/parameters
max=$(cat $params/max_sas)
defer "echo $max >$params/max_sas"

na nfsec sa add "${id[@]}" spi 0x8000 "${aead[@]}"
out=$(na nfsec sa allocspi "${id[@]}" min 0x8001 max 0x8fff timeout 600) || fail "allocspi: $out"
spi=$(sed -nE $'s/^\tproto esp spi (0x[0-9a-f]{8}) .*/\\1/p' <<<"$out")
[[ -n $spi ]] || fail "allocspi printed no SPI: $out"
echo 2 >$params/max_sas
err=$(na nfsec sa allocspi "${id[@]}" 2>&1) && fail "allocspi beyond max_sas succeeded: $err"
grep -qF "max_sas" <<<"$err" || fail "allocspi beyond max_sas: error lacks 'max_sas': $err"
check_eq "spi_reservations after the refusal" "$(nstat "$a" spi_reservations)" 1
pass "allocspi refused at max_sas reached by an SA and a reservation"

na nfsec sa add "${id[@]}" spi "$spi" "${aead[@]}" || fail "add of a reserved SPI at max_sas refused"
check_eq "sa count after the takeover" "$(na nfsec sa count)" "SAD count 2"
check_eq "spi_reservations after the takeover" "$(nstat "$a" spi_reservations)" 0
err=$(na nfsec sa add "${id[@]}" spi 0x9000 "${aead[@]}" 2>&1) && fail "a third SA at max_sas 2 was added"
grep -qF "max_sas" <<<"$err" || fail "a third SA: error lacks 'max_sas': $err"
echo "$max" >$params/max_sas
na nfsec sa flush
pass "an add of a reserved SPI needs no room at max_sas; one more SA does"
