"""Compare `pkgflat ls --payload --json` with `bsdtar -tv --numeric-owner`.

Checks, entry by entry and in order: path, file type and permission bits,
uid, gid, size of regular files, and symlink targets.
"""
import json
import re
import stat
import sys

TYPES = {"-": stat.S_IFREG, "d": stat.S_IFDIR, "l": stat.S_IFLNK,
         "h": stat.S_IFREG, "c": stat.S_IFCHR, "b": stat.S_IFBLK,
         "p": stat.S_IFIFO, "s": stat.S_IFSOCK}


def perm_bits(s):
    bits = 0
    for i, (ch, on) in enumerate(zip(s[1:], "rwxrwxrwx")):
        if ch in (on, "s", "t"):
            bits |= 1 << (8 - i)
    if s[3] in "sS":
        bits |= stat.S_ISUID
    if s[6] in "sS":
        bits |= stat.S_ISGID
    if s[9] in "tT":
        bits |= stat.S_ISVTX
    return TYPES[s[0]] | bits


def norm(p):
    p = p.rstrip("/")
    if p in (".", "./", ""):
        return "."
    while p.startswith("./"):
        p = p[2:]
    return "./" + p


line_re = re.compile(r"^(\S{10})\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+\S+\s+\d+\s+\S+\s(.*)$")
ours = [e for comp in json.load(open(sys.argv[1])) for e in comp["entries"]]
theirs = []
for line in open(sys.argv[2], encoding="utf-8", errors="surrogateescape"):
    m = line_re.match(line.rstrip("\n"))
    if not m:
        sys.exit("cannot parse bsdtar line: %r" % line)
    mode, _, uid, gid, size, rest = m.groups()
    link = None
    if mode[0] == "l" and " -> " in rest:
        rest, link = rest.split(" -> ", 1)
    if " link to " in rest:
        rest = rest.split(" link to ", 1)[0]
    theirs.append((norm(rest), perm_bits(mode), int(uid), int(gid), int(size), link, mode[0]))

if len(ours) != len(theirs):
    sys.exit("entry count: pkgflat %d, bsdtar %d" % (len(ours), len(theirs)))
for a, b in zip(ours, theirs):
    path, mode, uid, gid, size, link, kind = b
    got = (a["path"], int(a["mode"], 8), a["uid"], a["gid"])
    want = (path, mode, uid, gid)
    if got != want:
        sys.exit("entry differs: pkgflat %r, bsdtar %r" % (got, want))
    if kind == "-" and a["size"] != size:
        sys.exit("%s: size pkgflat %d, bsdtar %d" % (path, a["size"], size))
    if kind == "l" and a.get("link") != link:
        sys.exit("%s: link pkgflat %r, bsdtar %r" % (path, a.get("link"), link))
print("%d entries agree" % len(ours))
