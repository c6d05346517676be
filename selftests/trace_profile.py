#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Where a test spends its time, from the trace NFSEC_TRACE=1 writes (see selftests/lib.sh).

    trace_profile.py TRACE [N]

Each traced command lasts until the next command of the same shell (BASHPID); its time is
added to its script line. Prints the N (default 30) lines that took the longest in all, with
how often they ran and the first command seen there. A line that calls a function or waits
for a subshell includes the time spent in them, so read from the top down.
"""
import re
import sys
from collections import defaultdict

LINE = re.compile(r'^\++(\d+\.\d+) (\d+) (\S+:\d+) (.*)$')


def main():
    path = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    last = {}
    total = defaultdict(float)
    count = defaultdict(int)
    sample = {}
    start = end = None
    with open(path, errors='replace') as f:
        for raw in f:
            m = LINE.match(raw.rstrip('\n'))
            if not m:
                continue
            t, pid, where, cmd = float(m[1]), m[2], m[3], m[4]
            start = t if start is None else min(start, t)
            end = t if end is None else max(end, t)
            if pid in last:
                pt, pwhere = last[pid]
                total[pwhere] += t - pt
            last[pid] = (t, where)
            count[where] += 1
            sample.setdefault(where, cmd[:90])
    if start is None:
        sys.exit(f'{path}: no trace lines')
    print(f'# {path}: {end - start:.1f} s from the first traced command to the last')
    for where in sorted(total, key=total.get, reverse=True)[:top]:
        print(f'{total[where]:8.1f} s {count[where]:6d}x  {where:24s} {sample[where]}')


if __name__ == '__main__':
    main()
