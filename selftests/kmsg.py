#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The kernel log from /dev/kmsg, with its record sequence numbers, so that a reader knows when
lines were lost (the ring buffer wrapped) instead of silently reading fewer.

  kmsg.py mark TEXT   log TEXT; print its sequence number
  kmsg.py since SEQ   print the messages of the records after SEQ (-1: every one since boot).
                      When a record after SEQ is gone (overwritten before it was read), print
                      "WARNING: kernel log: ..." (a line dmesg_bad reports) and exit 3.
"""
import errno
import os
import signal
import sys


def records(fd):
    """(seq, message) of each record from fd's position on; seq None marks lost records."""
    while True:
        try:
            r = os.read(fd, 16384)
        except BlockingIOError:
            return
        except OSError as e:
            if e.errno != errno.EPIPE:
                raise
            yield None, None  # the next record was overwritten while we read
            continue
        head, _, rest = r.decode("utf-8", "replace").partition(";")
        msg = rest.split("\n", 1)[0]  # then " KEY=VALUE" dictionary lines
        yield int(head.split(",")[1]), msg


def mark(text):
    fd = os.open("/dev/kmsg", os.O_RDWR | os.O_NONBLOCK)
    os.lseek(fd, 0, os.SEEK_END)
    os.write(fd, text.encode() + b"\n")  # a record without its newline is not readable yet
    for seq, msg in records(fd):
        if msg == text:
            print(seq)
            return 0
    print("kmsg.py: our own mark is not in the log", file=sys.stderr)
    return 1


def since(after):
    fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
    expect = after + 1
    lost = []
    for seq, msg in records(fd):
        if seq is None:
            lost.append("overwritten while read")
            continue
        if seq < expect:
            continue
        if seq > expect:
            lost.append("records %d-%d" % (expect, seq - 1))
        expect = seq + 1
        print(msg)
    if lost:
        print("WARNING: kernel log: lines lost after record %d (ring buffer wrapped): %s"
              % (after, ", ".join(lost)))
        return 3
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    if len(sys.argv) == 3 and sys.argv[1] == "mark":
        sys.exit(mark(sys.argv[2]))
    if len(sys.argv) == 3 and sys.argv[1] == "since":
        sys.exit(since(int(sys.argv[2])))
    sys.exit(__doc__)
