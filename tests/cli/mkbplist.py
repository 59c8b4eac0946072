"""Write hostile binary property lists, independently of pkgflat.

usage: mkbplist.py OUT KIND [N]

KIND is one of
  deep    N arrays, each holding the next (N containers deep)
  bomb    N arrays, each holding the next twice (2^N nodes once expanded)
  cycle   N arrays in a chain whose last one refers back to the third
  badref  a chain whose last reference points past the object table
  dict    a dict at the top whose "k" holds a chain of N arrays

The layout is bplist00 as plistlib and Apple write it: objects, the offset
table, a 32-byte trailer (offset size, ref size, count, top, table offset).
"""
import struct
import sys


def chain(n, refs_of):
    objs = []
    for i in range(n):
        refs = refs_of(i, n)
        objs.append(bytes([0xA0 | len(refs)]) + b"".join(struct.pack(">I", r) for r in refs))
    return objs


def write(out, objs, top=0):
    data = bytearray(b"bplist00")
    offs = []
    for o in objs:
        offs.append(len(data))
        data += o
    table = len(data)
    for o in offs:
        data += struct.pack(">I", o)
    data += bytes(6) + bytes([4, 4]) + struct.pack(">QQQ", len(objs), top, table)
    open(out, "wb").write(data)


def main():
    out, kind = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    last = lambda i, n: i == n - 1
    if kind == "deep":
        objs = chain(n, lambda i, n: [] if last(i, n) else [i + 1])
    elif kind == "bomb":
        objs = chain(n, lambda i, n: [] if last(i, n) else [i + 1, i + 1])
    elif kind == "cycle":
        objs = chain(n, lambda i, n: [2] if last(i, n) else [i + 1])
    elif kind == "badref":
        objs = chain(n, lambda i, n: [n + 5] if last(i, n) else [i + 1])
    elif kind == "dict":
        # 0: {1: 2}, 1: "k", 2..: the chain
        objs = [bytes([0xD1]) + struct.pack(">II", 1, 2), b"\x51k"]
        objs += chain(n, lambda i, n: [] if last(i, n) else [i + 3])
    else:
        sys.exit("unknown kind " + kind)
    write(out, objs)


main()
