"""Flip one byte of a XAR member's heap range, found by reading the TOC
here (zlib, ElementTree), independently of pkgflat.

usage: xarflip.py PKG PATH [data|ea|toc-checksum]

PATH is the member's path in the archive ("ExifTool-9.47.pkg/Payload"),
names decoded when enctype="base64". 'ea' flips the member's first
extended attribute instead of its data; 'toc-checksum' the stored TOC
checksum (PATH is then ignored). The byte flipped is the range's first.
"""
import base64
import struct
import sys
import xml.etree.ElementTree as ET
import zlib


def name_of(f):
    n = f.findall("name")[-1]
    if n.get("enctype") == "base64":
        return base64.b64decode(n.text).decode("utf-8", "surrogateescape")
    return n.text


def find(parent, parts):
    for f in parent.findall("file"):
        if name_of(f) == parts[0]:
            return f if len(parts) == 1 else find(f, parts[1:])
    sys.exit("no member " + "/".join(parts))


def main(pkg, path, what="data"):
    with open(pkg, "rb") as fh:
        raw = bytearray(fh.read())
    clen = struct.unpack(">Q", raw[8:16])[0]
    toc = ET.fromstring(zlib.decompress(bytes(raw[28:28 + clen])))[0]
    if what == "toc-checksum":
        el = toc.find("checksum")
    else:
        el = find(toc, path.split("/")).find(what)
    off = 28 + clen + int(el.find("offset").text)
    raw[off] ^= 0xFF
    with open(pkg, "wb") as fh:
        fh.write(raw)


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    main(*sys.argv[1:])
