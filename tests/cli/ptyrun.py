"""Run a command with its standard error on a pseudo-terminal, as a person
at a terminal would, and record what it wrote there with the time each
piece arrived.

usage: ptyrun.py LOG CMD [ARGS...]

The terminal is 120 columns wide.
Standard output goes to this script's standard output. LOG gets one line
per piece read from the terminal: seconds since the start (and, on the last
line, "end" with the seconds at exit), a tab, and the bytes as Python
escapes them (so carriage returns and escape sequences are visible).
Exits with the command's status.
"""
import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time

COLUMNS = 120


def main():
    log, cmd = sys.argv[1], sys.argv[2:]
    master, slave = pty.openpty()
    # A terminal COLUMNS wide, 30 rows, as a window would be.
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, COLUMNS, 0, 0))
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    pieces = []
    while True:
        r, _, _ = select.select([master], [], [], 0.05)
        if r:
            try:
                data = os.read(master, 65536)
            except OSError:
                data = b""
            if not data:
                break
            pieces.append((time.monotonic() - t0, data))
        elif p.poll() is not None:
            # The child is gone; drain what is left.
            continue
    rc = p.wait()
    end = time.monotonic() - t0
    with open(log, "w") as f:
        for t, data in pieces:
            f.write("%.3f\t%r\n" % (t, data))
        f.write("%.3f\tend\n" % end)
    sys.exit(rc)


if __name__ == "__main__":
    main()
