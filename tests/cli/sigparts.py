"""Pull the signature parts out of a flat package, from its TOC alone.

usage: sigparts.py PKG OUTDIR     writes checksum.bin, rsa.bin, cms.der,
                                  certs/N.pem, toc.xml; prints a summary
       sigparts.py --same-data A B   exit 0 when every file's stored bytes
                                  are identical in A and B
       sigparts.py --ranges PKG   one line "NAME OFFSET LENGTH" (file offsets)
                                  per part: header, toc, checksum, rsa, cms,
                                  cms-sigvalue (the SignerInfo's signature
                                  value inside the CMS, found with openssl
                                  asn1parse, BER or DER), file:PATH
"""
import base64
import hashlib
import os
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib


def load(path):
    d = open(path, "rb").read()
    if d[:4] != b"xar!":
        sys.exit("%s: not a xar" % path)
    clen, ulen = struct.unpack(">QQ", d[8:24])
    toc = zlib.decompress(d[28:28 + clen])
    assert len(toc) == ulen
    return d, 28 + clen, toc, ET.fromstring(toc)


def files(el, prefix=""):
    for f in el.findall("file"):
        name = prefix + f.findall("name")[-1].text
        data = f.find("data")
        if data is not None:
            yield name, int(data.find("offset").text), int(data.find("length").text)
        yield from files(f, name + "/")


def der_len(b):
    if b[1] & 0x80:
        n = b[1] & 0x7F
        return 2 + n + int.from_bytes(b[2:2 + n], "big")
    return 2 + b[1]


if sys.argv[1] == "--same-data":
    a, ah, _, at = load(sys.argv[2])
    b, bh, _, bt = load(sys.argv[3])
    fa = {n: a[ah + o:ah + o + l] for n, o, l in files(at.find("toc"))}
    fb = {n: b[bh + o:bh + o + l] for n, o, l in files(bt.find("toc"))}
    if fa != fb:
        sys.exit("file data differ: %s" % sorted(k for k in set(fa) | set(fb) if fa.get(k) != fb.get(k)))
    print("%d files identical" % len(fa))
    sys.exit(0)

def cms_sigvalue(blob):
    """(offset, length) of the SignerInfo signature value in a CMS blob."""
    out = subprocess.run(["openssl", "asn1parse", "-inform", "DER"], input=blob,
                         capture_output=True).stdout.decode().splitlines()
    for i, line in enumerate(out):
        if ("rsaEncryption" in line or "WithRSAEncryption" in line) and i + 2 < len(out) \
                and "OCTET STRING" in out[i + 2]:
            f = out[i + 2].split(":")
            off = int(f[0])
            hl = int(out[i + 2].split("hl=")[1].split()[0])
            ln = int(out[i + 2].split(" l=")[1].split()[0])
            return off + hl, ln
    sys.exit("no SignerInfo signature value in the CMS")


if sys.argv[1] == "--ranges":
    d, heap, _, root = load(sys.argv[2])
    t = root.find("toc")
    print("header 0 28")
    print("toc 28 %d" % (heap - 28))
    for tag, name in (("checksum", "checksum"), ("signature", "rsa"), ("x-signature", "cms")):
        e = t.find(tag)
        if e is not None:
            o, n = int(e.find("offset").text), int(e.find("size").text)
            print("%s %d %d" % (name, heap + o, n))
            if tag == "x-signature":
                so, sn = cms_sigvalue(d[heap + o:heap + o + n])
                print("cms-sigvalue %d %d" % (heap + o + so, sn))
    for n, o, ln in files(t):
        print("file:%s %d %d" % (n, heap + o, ln))
    sys.exit(0)

d, heap, toc, root = load(sys.argv[1])
out = sys.argv[2]
os.makedirs(os.path.join(out, "certs"), exist_ok=True)
open(os.path.join(out, "toc.xml"), "wb").write(toc)
t = root.find("toc")
ck = t.find("checksum")
co, cs = int(ck.find("offset").text), int(ck.find("size").text)
csum = d[heap + co:heap + co + cs]
open(os.path.join(out, "checksum.bin"), "wb").write(csum)
assert hashlib.sha1(d[28:heap]).digest() == csum, "checksum is not SHA-1 of the compressed TOC"
sig = t.find("signature")
so, ss = int(sig.find("offset").text), int(sig.find("size").text)
open(os.path.join(out, "rsa.bin"), "wb").write(d[heap + so:heap + so + ss])
ns = "{http://www.w3.org/2000/09/xmldsig#}"
certs = [c.text for c in sig.iter(ns + "X509Certificate")]
for i, c in enumerate(certs):
    for line in c.split("\n"):
        assert len(line) <= 72, "base64 line longer than 72"
    der = base64.b64decode(c)
    pem = "-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der).decode() + "-----END CERTIFICATE-----\n"
    open(os.path.join(out, "certs", "%d.pem" % i), "w").write(pem)
x = t.find("x-signature")
summary = ["order:" + ",".join(c.tag for c in t)[:80],
           "rsa %s %d %d certs %d" % (sig.get("style"), so, ss, len(certs))]
if x is not None:
    xo, xs = int(x.find("offset").text), int(x.find("size").text)
    blob = d[heap + xo:heap + xo + xs]
    n = der_len(blob)
    assert not any(blob[n:]), "CMS padding is not zeros"
    open(os.path.join(out, "cms.der"), "wb").write(blob[:n])
    xcerts = [c.text for c in x.iter(ns + "X509Certificate")]
    assert xcerts == certs, "KeyInfo of the two signatures differ"
    summary.append("cms %s %d %d" % (x.get("style"), xo, xs))
first = min(o for _, o, _ in files(t))
summary.append("first-data %d" % first)
print("\n".join(summary))
