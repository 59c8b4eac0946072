"""Compare two directory trees entry by entry, without following symlinks.

usage: cmp_trees.py [--no-owner] [--no-root] A B

Checks every path under A and B (the roots too, unless --no-root): file
type, permission bits (set-id and sticky bits included), uid and gid
(unless --no-owner), mtime (seconds), size and SHA-256 of regular files,
symlink targets, device numbers, and which paths are hard links of one
another. Prints each difference; exit 1 when there is any.
"""
import hashlib
import os
import stat
import sys


def walk(root, with_root):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        names = dirnames + filenames
        if dirpath == root and with_root:
            out["."] = os.lstat(root)
        for n in names:
            p = os.path.join(dirpath, n)
            out[os.path.relpath(p, root)] = os.lstat(p)
    return out


def digest(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def links(root, entries):
    groups = {}
    for rel, st in entries.items():
        if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
            groups.setdefault((st.st_dev, st.st_ino), []).append(rel)
    return {rel: tuple(sorted(g)) for g in groups.values() for rel in g}


def main():
    args = sys.argv[1:]
    owner = "--no-owner" not in args
    with_root = "--no-root" not in args
    a, b = [x for x in args if not x.startswith("--")]
    ea, eb = walk(a, with_root), walk(b, with_root)
    la, lb = links(a, ea), links(b, eb)
    bad = []
    for rel in sorted(set(ea) | set(eb)):
        if rel not in ea or rel not in eb:
            bad.append("%s only in %s" % (rel, a if rel in ea else b))
            continue
        x, y = ea[rel], eb[rel]
        if stat.S_IFMT(x.st_mode) != stat.S_IFMT(y.st_mode):
            bad.append("%s: type %o != %o" % (rel, stat.S_IFMT(x.st_mode), stat.S_IFMT(y.st_mode)))
            continue
        if not stat.S_ISLNK(x.st_mode) and stat.S_IMODE(x.st_mode) != stat.S_IMODE(y.st_mode):
            bad.append("%s: mode %04o != %04o" % (rel, stat.S_IMODE(x.st_mode), stat.S_IMODE(y.st_mode)))
        if owner and (x.st_uid, x.st_gid) != (y.st_uid, y.st_gid):
            bad.append("%s: owner %d:%d != %d:%d" % (rel, x.st_uid, x.st_gid, y.st_uid, y.st_gid))
        if int(x.st_mtime) != int(y.st_mtime):
            bad.append("%s: mtime %d != %d" % (rel, x.st_mtime, y.st_mtime))
        pa, pb = os.path.join(a, rel), os.path.join(b, rel)
        if stat.S_ISREG(x.st_mode) and (x.st_size != y.st_size or digest(pa) != digest(pb)):
            bad.append("%s: content differs" % rel)
        if stat.S_ISLNK(x.st_mode) and os.readlink(pa) != os.readlink(pb):
            bad.append("%s: link %s != %s" % (rel, os.readlink(pa), os.readlink(pb)))
        if (stat.S_ISCHR(x.st_mode) or stat.S_ISBLK(x.st_mode)) and x.st_rdev != y.st_rdev:
            bad.append("%s: rdev differs" % rel)
        if la.get(rel) != lb.get(rel):
            bad.append("%s: hard links %s != %s" % (rel, la.get(rel), lb.get(rel)))
    for line in bad:
        print(line)
    print("%d entries, %d differences" % (len(ea), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
