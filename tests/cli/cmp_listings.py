"""Compare two `bsdtar -tv --numeric-owner` listings, entry by entry.

usage: cmp_listings.py LEGACY.txt FLAT.txt [--root-owned] [--dot-added]
                        [--ownership=MODE]

Paths are compared in "./" form; for each: type and permission string,
uid, gid, the size of regular files, symlink targets. A hard link read
from tar ("link to") may come back from odc cpio as a file of the same
name: the pair is checked by name only. --root-owned expects 0/0 in FLAT;
--dot-added allows FLAT to have a "." that LEGACY lacks. --ownership
applies a conversion's ownership policy to LEGACY's owners first:
preserve (none), root (0/0), recommended (the default of pkgflat convert:
an owner of 500 and up, other than nobody, becomes 0, and its group 0 when
it was staff (20); any group of 500 and up becomes 0).
"""
import re
import sys

line_re = re.compile(r"^(\S{10})\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+\S+\s+\d+\s+\S+\s(.*)$")


def norm(p):
    p = p.rstrip("/")
    if p in (".", ""):
        return "."
    while p.startswith("./"):
        p = p[2:]
    return "./" + p


def system_id(i):
    return i < 500 or i in (65534, 4294967294)


def policy(mode, uid, gid):
    if mode == "root":
        return 0, 0
    if mode == "recommended":
        if not system_id(uid):
            if gid == 20:
                gid = 0
            uid = 0
        if not system_id(gid):
            gid = 0
    return uid, gid


def load(path):
    out = {}
    order = []
    for line in open(path, encoding="utf-8", errors="surrogateescape"):
        m = line_re.match(line.rstrip("\n"))
        if not m:
            sys.exit("%s: cannot parse: %r" % (path, line))
        mode, _, uid, gid, size, rest = m.groups()
        link = hard = None
        if mode[0] == "l" and " -> " in rest:
            rest, link = rest.split(" -> ", 1)
        if " link to " in rest:
            rest, hard = rest.split(" link to ", 1)
        p = norm(rest)
        out[p] = (mode, int(uid), int(gid), int(size), link, hard)
        order.append(p)
    return out, order


args = [a for a in sys.argv[1:] if not a.startswith("--")]
flags = [a for a in sys.argv[1:] if a.startswith("--")]
a, _ = load(args[0])
b, border = load(args[1])
if "--dot-added" in flags and "." not in a and "." in b:
    del b["."]
if border and border[0] != "." and "." in b:
    sys.exit("flat payload does not start with \".\"")
if set(a) != set(b):
    sys.exit("paths differ: only legacy %s; only flat %s" % (
        sorted(set(a) - set(b))[:5], sorted(set(b) - set(a))[:5]))
for p in sorted(a):
    am, au, ag, asz, al, ah = a[p]
    bm, bu, bg, bsz, bl, bh = b[p]
    if ah or bh:
        continue
    for f in flags:
        if f.startswith("--ownership="):
            au, ag = policy(f.split("=", 1)[1], au, ag)
    if "--root-owned" in flags:
        if (bu, bg) != (0, 0):
            sys.exit("%s: owner %d/%d, want 0/0" % (p, bu, bg))
        au = ag = 0
    if (am, au, ag, al) != (bm, bu, bg, bl):
        sys.exit("%s: legacy %r, flat %r" % (p, a[p], b[p]))
    if am[0] == "-" and asz != bsz:
        sys.exit("%s: size legacy %d, flat %d" % (p, asz, bsz))
print("%d entries agree" % len(a))
