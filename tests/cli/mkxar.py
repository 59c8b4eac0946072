"""Write a XAR from a directory tree, independently of pkgflat.

usage: mkxar.py [options] DIR OUT

Every regular file is stored as is (application/octet-stream) with SHA-1
archived and extracted checksums; directories nest as <file type=
"directory">. The TOC checksum is SHA-1 at heap offset 0, as pkgbuild
writes. Enough for an unsigned flat package that Installer would read.

Options write the variants older or other XAR writers produce:
  --toc-cksum sha256|sha512  header algorithm 3 or 4 and a <checksum> of
                             that style and size (xar --toc-cksum)
  --unarchived               spell the extracted checksum
                             <unarchived-checksum> (libxar before 1.6)
  --base64-names             every <name enctype="base64"> (libarchive's
                             writer does this for names not in UTF-8)
  --ea NAME=VALUE            give every regular file an extended attribute
                             stored zlib'd in the heap as an <ea> with its
                             own offset, length and checksums
  --file-cksum sha256        archived/extracted checksums of that style
"""
import argparse
import base64
import hashlib
import os
import struct
import sys
import zlib
from xml.sax.saxutils import escape

ALGS = {"sha1": (1, 20), "sha256": (3, 32), "sha512": (4, 64)}


def build(top, out, toc_cksum="sha1", unarchived=False, b64=False, eas=(),
          file_cksum="sha1"):
    alg, csize = ALGS[toc_cksum]
    heap = bytearray(b"\0" * csize)  # the TOC checksum goes first
    ids = [0]
    extracted = "unarchived-checksum" if unarchived else "extracted-checksum"

    def hexd(data):
        return hashlib.new(file_cksum, data).hexdigest()

    def name_el(name):
        if b64:
            return '<name enctype="base64">%s</name>' % base64.b64encode(
                os.fsencode(name)).decode()
        return "<name>%s</name>" % escape(name)

    def ea_els():
        parts = []
        for i, (k, v) in enumerate(eas):
            raw = v.encode()
            z = zlib.compress(raw, 9)
            parts.append('<ea id="%d"><name>%s</name><offset>%d</offset>'
                         '<length>%d</length><size>%d</size>'
                         '<encoding style="application/x-gzip"/>'
                         '<archived-checksum style="%s">%s</archived-checksum>'
                         '<%s style="%s">%s</%s></ea>'
                         % (i, escape(k), len(heap), len(z), len(raw),
                            file_cksum, hexd(z), extracted, file_cksum,
                            hexd(raw), extracted))
            heap.extend(z)
        return "".join(parts)

    def walk(path):
        parts = []
        for name in sorted(os.listdir(path)):
            full = os.path.join(path, name)
            ids[0] += 1
            fid = ids[0]
            if os.path.isdir(full):
                parts.append('<file id="%d">%s<type>directory</type>%s</file>'
                             % (fid, name_el(name), walk(full)))
                continue
            data = open(full, "rb").read()
            sha = hexd(data)
            parts.append('<file id="%d">%s<type>file</type><data>'
                         '<length>%d</length><offset>%d</offset><size>%d</size>'
                         '<encoding style="application/octet-stream"/>'
                         '<archived-checksum style="%s">%s</archived-checksum>'
                         '<%s style="%s">%s</%s>'
                         '</data>' % (fid, name_el(name), len(data), len(heap),
                                      len(data), file_cksum, sha, extracted,
                                      file_cksum, sha, extracted))
            heap.extend(data)
            parts.append(ea_els() + "</file>")
        return "".join(parts)

    body = walk(top)
    toc = ('<?xml version="1.0" encoding="UTF-8"?>\n<xar><toc>'
           '<checksum style="%s"><offset>0</offset><size>%d</size></checksum>'
           '%s</toc></xar>' % (toc_cksum, csize, body)).encode()
    ctoc = zlib.compress(toc, 9)
    heap[0:csize] = hashlib.new(toc_cksum, ctoc).digest()
    hdr = b"xar!" + struct.pack(">HHQQI", 28, 1, len(ctoc), len(toc), alg)
    with open(out, "wb") as f:
        f.write(hdr + ctoc + heap)


def main():
    p = argparse.ArgumentParser(usage=__doc__)
    p.add_argument("dir")
    p.add_argument("out")
    p.add_argument("--toc-cksum", default="sha1", choices=sorted(ALGS))
    p.add_argument("--file-cksum", default="sha1",
                   choices=["sha1", "sha256", "sha512", "md5"])
    p.add_argument("--unarchived", action="store_true")
    p.add_argument("--base64-names", action="store_true")
    p.add_argument("--ea", action="append", default=[])
    a = p.parse_args()
    eas = [tuple(e.split("=", 1)) for e in a.ea]
    build(a.dir, a.out, a.toc_cksum, a.unarchived, a.base64_names, eas,
          a.file_cksum)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main()
