"""Write a XAR from a directory tree, independently of pkgflat.

usage: mkxar.py DIR OUT

Every regular file is stored as is (application/octet-stream) with SHA-1
archived and extracted checksums; directories nest as <file type=
"directory">. The TOC checksum is SHA-1 at heap offset 0, as pkgbuild
writes. Enough for an unsigned flat package that Installer would read.
"""
import hashlib
import os
import struct
import sys
import zlib
from xml.sax.saxutils import escape


def build(top, out):
    heap = bytearray(b"\0" * 20)  # the TOC checksum goes first
    ids = [0]

    def walk(path):
        parts = []
        for name in sorted(os.listdir(path)):
            full = os.path.join(path, name)
            ids[0] += 1
            fid = ids[0]
            if os.path.isdir(full):
                parts.append('<file id="%d"><name>%s</name><type>directory</type>%s</file>'
                             % (fid, escape(name), walk(full)))
                continue
            data = open(full, "rb").read()
            sha = hashlib.sha1(data).hexdigest()
            parts.append('<file id="%d"><name>%s</name><type>file</type><data>'
                         '<length>%d</length><offset>%d</offset><size>%d</size>'
                         '<encoding style="application/octet-stream"/>'
                         '<archived-checksum style="sha1">%s</archived-checksum>'
                         '<extracted-checksum style="sha1">%s</extracted-checksum>'
                         '</data></file>' % (fid, escape(name), len(data), len(heap),
                                             len(data), sha, sha))
            heap.extend(data)
        return "".join(parts)

    body = walk(top)
    toc = ('<?xml version="1.0" encoding="UTF-8"?>\n<xar><toc>'
           '<checksum style="sha1"><offset>0</offset><size>20</size></checksum>'
           '%s</toc></xar>' % body).encode()
    ctoc = zlib.compress(toc, 9)
    heap[0:20] = hashlib.sha1(ctoc).digest()
    hdr = b"xar!" + struct.pack(">HHQQI", 28, 1, len(ctoc), len(toc), 1)
    with open(out, "wb") as f:
        f.write(hdr + ctoc + heap)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    build(sys.argv[1], sys.argv[2])
