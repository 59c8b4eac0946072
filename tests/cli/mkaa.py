"""Rewrite a gzip'd odc cpio Payload as an Apple Archive, independently of
pkgflat: what pkgbuild --compression latest writes on macOS 12 and later.

usage: mkaa.py IN OUT [--wrap none|raw|zlib|lzma|lzfse] [--yaa]
               [--break-header] [--xat]

Each cpio entry becomes an "AA01" header (TYP, PAT, LNK, UID, GID, MOD,
MTM, DAT; HLC, the cpio inode, for a file with more than one link) and
its data blob. --wrap puts the stream in Apple's chunks:
"pbz-" stored, "pbzz" raw deflate, "pbzx" xz, "pbze" LZFSE (no LZFSE
encoder here: its one chunk is stored, which a reader must not decode).
--break-header writes an unknown field subtype in the third entry; --xat
gives the third entry an extended attribute (an "XAT" blob after its data).
"""
import argparse
import gzip
import lzma
import struct
import zlib

CHUNK = 1 << 20


def cpio_entries(raw):
    pos = 0
    while True:
        h = raw[pos:pos + 76]
        assert h[:6] == b"070707", "not odc cpio at %d" % pos
        ino, mode = int(h[12:18], 8), int(h[18:24], 8)
        uid, gid = int(h[24:30], 8), int(h[30:36], 8)
        nlink = int(h[36:42], 8)
        mtime = int(h[48:59], 8)
        nsize, fsize = int(h[59:65], 8), int(h[65:76], 8)
        name = raw[pos + 76:pos + 76 + nsize - 1].decode("utf-8", "surrogateescape")
        data = raw[pos + 76 + nsize:pos + 76 + nsize + fsize]
        pos += 76 + nsize + fsize
        if name == "TRAILER!!!":
            return
        yield name, mode, uid, gid, mtime, data, (ino if nlink > 1 and
                                                  mode & 0o170000 == 0o100000 else None)


def field_uint(key, v):
    for sub, fmt in (("1", "<B"), ("2", "<H"), ("4", "<I"), ("8", "<Q")):
        if v < 1 << (8 * struct.calcsize(fmt)):
            return key.encode() + sub.encode() + struct.pack(fmt, v)


def field_str(key, s):
    b = s.encode("utf-8", "surrogateescape")
    return key.encode() + b"P" + struct.pack("<H", len(b)) + b


def xat_blob(name, value):
    """One extended attribute as Apple Archive stores it: u32 LE size of
    the record, the name NUL-terminated, the value."""
    rec = name.encode() + b"\0" + value
    return struct.pack("<I", 4 + len(rec)) + rec


def aa_stream(raw, yaa=False, break_header=False, xat=False):
    out = bytearray()
    for i, (name, mode, uid, gid, mtime, data, cluster) in enumerate(cpio_entries(raw)):
        kind = mode & 0o170000
        typ = {0o100000: "F", 0o040000: "D", 0o120000: "L"}[kind]
        path = "" if name == "." else name[2:] if name.startswith("./") else name
        f = field_uint("TYP", ord(typ)) + field_str("PAT", path)
        if typ == "L":
            f += field_str("LNK", data.decode("utf-8", "surrogateescape"))
        f += field_uint("UID", uid) + field_uint("GID", gid)
        f += field_uint("MOD", mode & 0o7777)
        f += b"MTMS" + struct.pack("<Q", mtime)
        if cluster is not None:
            f += field_uint("HLC", cluster)
        if break_header and i == 2:
            f += b"XYZ?"
        blob = b""
        if typ == "F":
            f += b"DATB" + struct.pack("<I", len(data))
            blob = data
        if xat and i == 2:
            x = xat_blob("com.apple.quarantine", b"0081;00000000;Safari;")
            f += b"XATB" + struct.pack("<I", len(x))
            blob += x
        magic = b"YAA1" if yaa else b"AA01"
        out += magic + struct.pack("<H", 6 + len(f)) + f + blob
    return bytes(out)


def wrap(stream, how):
    if how == "none":
        return stream
    letter = {"raw": b"-", "zlib": b"z", "lzma": b"x", "lzfse": b"e"}[how]
    out = bytearray(b"pbz" + letter + struct.pack(">Q", CHUNK))
    for i in range(0, len(stream), CHUNK):
        c = stream[i:i + CHUNK]
        if how == "zlib":
            co = zlib.compressobj(9, zlib.DEFLATED, -15)
            z = co.compress(c) + co.flush()
        elif how == "lzma":
            z = lzma.compress(c, format=lzma.FORMAT_XZ)
        else:
            z = c
        out += struct.pack(">QQ", len(c), len(z)) + z
    return bytes(out)


def main():
    p = argparse.ArgumentParser(usage=__doc__)
    p.add_argument("inp")
    p.add_argument("out")
    p.add_argument("--wrap", default="none",
                   choices=["none", "raw", "zlib", "lzma", "lzfse"])
    p.add_argument("--yaa", action="store_true")
    p.add_argument("--break-header", action="store_true")
    p.add_argument("--xat", action="store_true")
    a = p.parse_args()
    raw = gzip.open(a.inp).read()
    with open(a.out, "wb") as f:
        f.write(wrap(aa_stream(raw, a.yaa, a.break_header, a.xat), a.wrap))


if __name__ == "__main__":
    main()
