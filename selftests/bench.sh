#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Not a test (not in TEST_PROGS): `make bench` runs the benchmark through
# the test harness so that it gets the same VM, module load and log checks.
# shellcheck disable=SC2086
exec "$(dirname "$0")/../bench/bench.sh" ${BENCH_CASES:-}
