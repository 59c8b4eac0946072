"""Write an odc cpio (gzip'd with --gz) from a tiny spec, independently of pkgflat.

usage: mkcpio.py OUT [--gz] ENTRY...
ENTRY is TYPE:NAME[:DATA], TYPE one of f (file), d (directory), l (symlink,
DATA the target). Names are written as given, with a NUL appended; a
literal \\0 in NAME stands for a NUL byte inside the name. --truncate-last
N cuts N bytes off the last entry's header; --no-trailer leaves out
TRAILER!!!.
"""
import gzip
import sys


def header(name, mode, data, ino, nlink=1):
    name = name.encode().replace(b"\\0", b"\0") + b"\0"
    h = b"070707" + b"%06o%06o%06o%06o%06o%06o%06o%011o%06o%011o" % (
        0, ino, mode, 0, 0, nlink, 0, 0, len(name), len(data))
    return h + name + data


def main():
    out, args = sys.argv[1], sys.argv[2:]
    gz = "--gz" in args
    trailer = "--no-trailer" not in args
    cut = 0
    if "--truncate-last" in args:
        cut = int(args[args.index("--truncate-last") + 1])
        del args[args.index("--truncate-last"):args.index("--truncate-last") + 2]
    ents = [a for a in args if not a.startswith("--")]
    body = b""
    for i, e in enumerate(ents):
        kind, name, *rest = e.split(":", 2)
        data = rest[0].encode() if rest else b""
        mode = {"f": 0o100644, "d": 0o40755, "l": 0o120755}[kind]
        h = header(name, mode, data, i + 1, 2 if kind == "d" else 1)
        if i == len(ents) - 1 and cut:
            h = h[:cut]
        body += h
    if trailer:
        body += header("TRAILER!!!", 0, b"", 0, 1)
    body += b"\0" * (-len(body) % 512)
    open(out, "wb").write(gzip.compress(body) if gz else body)


main()
