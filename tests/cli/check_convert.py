"""Check a converted flat package against its legacy source, with
independent tools: bsdtar (extraction verifies the XAR checksums), 7zz,
xmllint, gzip, cksum, and Python's own XML parser.

usage: check_convert.py PKGFLAT INPUT OUT.pkg [--root-owned] [--ownership=MODE]

--ownership names the policy the conversion was asked for (default
recommended, convert's default): each PackageInfo must say so in its
generator-version, and legacy owners are mapped through it (cmp_listings.py)
before they are compared.

Exits non-zero with a message on the first problem.
"""
import json
import os
import subprocess
import sys
import tempfile
import urllib.parse
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))


def run(*cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    if r.returncode != 0:
        sys.exit("%s failed (%d): %s" % (" ".join(cmd), r.returncode,
                                          r.stderr.decode(errors="replace")[:500]))
    return r.stdout


def leaves(b):
    if b["kind"] == "component":
        yield b
    for c in b.get("packages", []):
        yield from leaves(c)


pkgflat, src, out = sys.argv[1:4]
root_owned = "--root-owned" in sys.argv
ownership = "recommended"
for arg in sys.argv[4:]:
    if arg.startswith("--ownership="):
        ownership = arg.split("=", 1)[1]
tmp = tempfile.mkdtemp(prefix="pkgflat-check-")

# Where the legacy payloads are: unpack archives with bsdtar.
info = json.loads(run(pkgflat, "info", "--json", "--no-scan", src))
base = os.path.dirname(os.path.abspath(src))
if info["container"] == "archive":
    base = os.path.join(tmp, "src")
    os.mkdir(base)
    run("bsdtar", "-xf", src, "-C", base)
legacy = list(leaves(info["root"]))

# The whole archive: bsdtar extracts it (checking every file's checksum),
# 7-Zip tests it.
x = os.path.join(tmp, "x")
os.mkdir(x)
run("bsdtar", "-xf", out, "-C", x)
run("7zz", "t", out)
run("xmllint", "--noout", os.path.join(x, "Distribution"))

dist = ET.parse(os.path.join(x, "Distribution")).getroot()
assert dist.tag == "installer-gui-script", dist.tag
choices = {c.get("id"): c for c in dist.findall("choice")}
# Install order: the outline's choices, depth first, and the packages each
# holds (a carried Tiger .dist names choices and pkg-refs differently, and
# lists its pkg-refs in any order).
order = []
for l in dist.iter("line"):
    for r in choices.get(l.get("choice"), ET.Element("x")).findall("pkg-ref"):
        if r.get("id") not in order:
            order.append(r.get("id"))
refs = [r for r in dist.findall("pkg-ref") if (r.text or "").strip()]
refs.sort(key=lambda r: order.index(r.get("id")) if r.get("id") in order else len(order))
if [r.get("id") for r in refs] != order:
    sys.exit("choices-outline %r and pkg-refs %r differ" % (order, [r.get("id") for r in refs]))
held = {r.get("id") for c in choices.values() for r in c.findall("pkg-ref")}

flat = []
for ref in refs:
    name = urllib.parse.unquote(ref.text.strip()[1:])
    d = os.path.join(x, name)
    if not os.path.isdir(d):
        sys.exit("pkg-ref %s names %s, which is not in the archive" % (ref.get("id"), name))
    pi_path = os.path.join(d, "PackageInfo")
    run("xmllint", "--noout", pi_path)
    pi = ET.parse(pi_path).getroot()
    if pi.get("identifier") != ref.get("id"):
        sys.exit("%s: PackageInfo identifier %s, pkg-ref id %s" % (name, pi.get("identifier"), ref.get("id")))
    if ref.get("id") not in held:
        sys.exit("no choice for %s" % ref.get("id"))
    flat.append((name, d, pi, ref))

# Metapackage-level scripts become extra components without payload.
payload_comps = [f for f in flat if os.path.exists(os.path.join(f[1], "Payload"))]
if len(payload_comps) != len([l for l in legacy if l["payload-path"]]):
    sys.exit("%d components with a payload, %d legacy payloads" % (
        len(payload_comps), len([l for l in legacy if l["payload-path"]])))

li = iter(l for l in legacy if l["payload-path"])
for name, d, pi, ref in payload_comps:
    lg = next(li)
    if lg["identifier"] and pi.get("identifier") != lg["identifier"]:
        sys.exit("%s: identifier %s, legacy %s" % (name, pi.get("identifier"), lg["identifier"]))
    want_loc = lg["install-location"] or "/"
    if pi.get("install-location") != want_loc:
        sys.exit("%s: install-location %s, legacy %s" % (name, pi.get("install-location"), want_loc))
    payload = os.path.join(d, "Payload")
    with open(payload, "rb") as f:
        if f.read(2) != b"\x1f\x8b":
            sys.exit("%s: Payload is not gzip" % name)
    cpio = subprocess.run(["gzip", "-dc", payload], stdout=subprocess.PIPE).stdout
    if cpio[:6] != b"070707":
        sys.exit("%s: Payload is not odc cpio" % name)
    lp = os.path.join(base, lg["payload-path"])
    a = os.path.join(tmp, "a.txt")
    b = os.path.join(tmp, "b.txt")
    open(a, "wb").write(run("bsdtar", "-tvf", lp, "--numeric-owner"))
    open(b, "wb").write(run("bsdtar", "-tvf", payload, "--numeric-owner"))
    if not (pi.get("generator-version") or "").endswith("(ownership %s)" % ownership):
        sys.exit("%s: generator-version %r does not state ownership %s" % (
            name, pi.get("generator-version"), ownership))
    cmd = ["python3", os.path.join(HERE, "cmp_listings.py"), a, b, "--dot-added",
           "--ownership=" + ownership]
    if root_owned:
        cmd.append("--root-owned")
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode:
        sys.exit("%s: %s" % (name, (r.stderr or r.stdout).decode().strip()))
    # numberOfFiles and installKBytes from the payload itself.
    lines = open(b).read().splitlines()
    size = sum(int(l.split()[4]) for l in lines if l.startswith("-") and " link to " not in l)
    pl = pi.find("payload")
    if int(pl.get("numberOfFiles")) != len(lines):
        sys.exit("%s: numberOfFiles %s, payload has %d" % (name, pl.get("numberOfFiles"), len(lines)))
    if int(pl.get("installKBytes")) != (size + 1023) // 1024:
        sys.exit("%s: installKBytes %s, payload holds %d bytes" % (name, pl.get("installKBytes"), size))
    if ref.get("installKBytes") != pl.get("installKBytes"):
        sys.exit("%s: pkg-ref installKBytes %s, PackageInfo %s" % (name, ref.get("installKBytes"), pl.get("installKBytes")))
    # The Bom lists the payload, with cksum(1) CRCs of its files.
    px = os.path.join(tmp, "p-" + str(abs(hash(name))))
    os.mkdir(px)
    run("bsdtar", "-xf", payload, "-C", px)
    bom = json.loads(run(pkgflat, "ls", "--bom", "--json", os.path.join(d, "Bom")))[0]["entries"]
    byp = {}
    for l in lines:
        f = l.split(None, 8)
        p = f[8].split(" -> ")[0].split(" link to ")[0]
        p = "." if p in (".", "./") else "./" + p.lstrip("./") if not p.startswith("./") else p
        byp[p] = f
    if sorted(e["path"] for e in bom) != sorted(byp):
        sys.exit("%s: Bom paths differ from the Payload's" % name)
    for e in bom:
        f = byp[e["path"]]
        if os.path.basename(e["path"]).startswith("._") and "crc" not in e:
            continue  # AppleDouble: mkbom records only the mode, as we do
        if (e["uid"], e["gid"]) != (int(f[2]), int(f[3])):
            sys.exit("%s: Bom owner of %s is %d/%d, Payload %s/%s" % (name, e["path"], e["uid"], e["gid"], f[2], f[3]))
        if e["type"] == "file":
            fp = os.path.join(px, e["path"])
            crc = int(run("cksum", fp).split()[0])
            if e.get("crc") != crc:
                sys.exit("%s: Bom CRC of %s is %s, cksum says %d" % (name, e["path"], e.get("crc"), crc))
            if e["size"] != os.path.getsize(fp):
                sys.exit("%s: Bom size of %s is %d, file has %d" % (name, e["path"], e["size"], os.path.getsize(fp)))
print("ok: %d components" % len(flat))
