"""Check an strace log (strace -f -xx -s 100000 -e trace=write,writev -o
LOG) for messages cut into pieces: each write to standard error must be
whole lines. stderr is unbuffered, so a message written a piece at a time
could be cut mid-line by another process's or thread's (batch's workers,
notarize's submitting threads).

usage: whole_writes.py LOG [MIN]: exit 1, the cut pieces printed, when a
write to fd 2 does not end a line, or when fewer than MIN (1) writes to
fd 2 were seen (the trace caught nothing).
"""
import re
import sys

WRITE = re.compile(r'^(?:\[pid\s+\d+\]\s+|\d+\s+)?write\(2, "((?:\\x[0-9a-f]{2})*)"(\.\.\.)?')
WRITEV = re.compile(r'^(?:\[pid\s+\d+\]\s+|\d+\s+)?writev\(2,')

log, least = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1
seen, cut = 0, []
with open(log, encoding="ascii", errors="replace") as f:
    for line in f:
        if WRITEV.match(line):
            cut.append(line.strip())
            continue
        m = WRITE.match(line)
        if not m:
            continue
        seen += 1
        data = bytes.fromhex(m.group(1).replace("\\x", ""))
        if m.group(2) or not data.endswith(b"\n"):
            cut.append(repr(data))
if cut:
    print("%d of %d writes to stderr are not whole lines, e.g.:" % (len(cut), seen))
    print("\n".join(cut[:10]))
    sys.exit(1)
if seen < least:
    print("%d writes to stderr seen, want at least %d" % (seen, least))
    sys.exit(1)
