"""Where a flat package's file data starts, read with Python alone.

usage: heapplace.py PKG         prints "FIRST-DATA-FILE-OFFSET TOC-TAIL"
       heapplace.py --dup-id PKG OUT   writes OUT with the second <file>'s
                                  id made the first one's (a TOC verify
                                  calls malformed), the heap unchanged

FIRST-DATA-FILE-OFFSET is the file offset of the lowest <data>/<ea>
offset; TOC-TAIL is the TOC's last 16 bytes, as Python's repr.
"""
import re
import struct
import sys
import xml.etree.ElementTree as ET
import zlib


def load(path):
    d = open(path, "rb").read()
    if d[:4] != b"xar!":
        sys.exit("%s: not a xar" % path)
    hsize = struct.unpack(">H", d[4:6])[0]
    clen, ulen = struct.unpack(">QQ", d[8:24])
    toc = zlib.decompress(d[hsize:hsize + clen])
    if len(toc) != ulen:
        sys.exit("%s: TOC is %d bytes, the header says %d" % (path, len(toc), ulen))
    return d, hsize, clen, toc


def main():
    if sys.argv[1] == "--dup-id":
        d, hsize, clen, toc = load(sys.argv[2])
        ids = re.findall(rb'<file id="(\d+)"', toc)
        if len(ids) < 2:
            sys.exit("fewer than two files")
        toc2 = toc.replace(b'<file id="%s"' % ids[1], b'<file id="%s"' % ids[0], 1)
        z = zlib.compress(toc2, 9)
        hdr = bytearray(d[:hsize])
        hdr[8:24] = struct.pack(">QQ", len(z), len(toc2))
        # The heap stays where it was relative to its start; an unsigned
        # package has no checksum to keep right.
        open(sys.argv[3], "wb").write(bytes(hdr) + z + d[hsize + clen:])
        return
    d, hsize, clen, toc = load(sys.argv[1])
    t = ET.fromstring(toc).find("toc")
    offs = [int(e.find("offset").text) for e in t.iter() if e.tag in ("data", "ea")]
    print(hsize + clen + min(offs), repr(toc[-16:]))


main()
