"""Check every claim of a `pkgflat convert --report` against the package
it describes, with tools that are not pkgflat: bsdtar (extraction and
`-tvf --numeric-owner` listings of Payload and Scripts), xmllint --xpath
on the Distribution and PackageInfo, gzip.

usage: check_report.py REPORT.json OUT.pkg

Each mapping that names a flat place ("flat" not null) must be true of
OUT.pkg; a form of claim this checker does not know fails too, so that a
new kind of claim cannot go unchecked. Prints one line per claim checked.
"""
import json
import os
import re
import subprocess
import sys
import tempfile


def run(*cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode:
        sys.exit("%s failed: %s" % (" ".join(cmd), r.stderr.decode()[:300]))
    return r.stdout.decode("utf-8", "surrogateescape")


def xp(path, expr):
    r = subprocess.run(["xmllint", "--xpath", expr, path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    out = r.stdout.decode() if r.returncode == 0 else ""
    return out[:-1] if out.endswith("\n") else out


def q(s):
    """An XPath string literal."""
    return "'%s'" % s if "'" not in s else '"%s"' % s


report = json.load(open(sys.argv[1]))
tmp = tempfile.mkdtemp(prefix="pkgflat-report-")
run("bsdtar", "-xf", sys.argv[2], "-C", tmp)
dist = os.path.join(tmp, "Distribution")
comps = {c["name"]: c for c in report["components"]}
listing = {}


def members(comp, what):
    """path -> (mode string, uid, gid) of comp's Payload or Scripts."""
    key = (comp, what)
    if key not in listing:
        out = {}
        for line in run("bsdtar", "-tvf", os.path.join(tmp, comp, what),
                        "--numeric-owner").splitlines():
            f = line.split(None, 8)
            p = f[8].split(" -> ")[0]
            p = "." if p in (".", "./") else p if p.startswith("./") else "./" + p
            out[p] = (f[0], int(f[2]), int(f[3]))
        listing[key] = out
    return listing[key]


def fail(m, why):
    sys.exit("report claim not true of the package: %s: %s" % (json.dumps(m), why))


def check_attr(m, where, attr, want, comp):
    if where == "PackageInfo":
        got = xp(os.path.join(tmp, comp, "PackageInfo"), "string(/pkg-info/@%s)" % attr)
    elif where == "pkg-ref":
        got = xp(dist, "string(//pkg-ref[@id=%s and text()]/@%s)"
                 % (q(comps[comp]["identifier"]), attr))
    else:
        fail(m, "unknown place %s" % where)
    if got != want:
        fail(m, "%s %s is %r, not %r" % (where, attr, got, want))


for m in report["mappings"]:
    flat, comp, val = m["flat"], m["component"], m["value"]
    if flat is None:
        continue
    cid = comps[comp]["identifier"] if comp in comps else None
    choice = "//choice[@id=%s]" % q(cid) if cid else None
    pi = os.path.join(tmp, comp, "PackageInfo") if comp else None
    if flat == "Payload (gzip'd odc cpio) and Bom":
        data = run("sh", "-c", 'gzip -dc "$1" | head -c 6', "-",
                   os.path.join(tmp, comp, "Payload"))
        if data != "070707" or not os.path.isfile(os.path.join(tmp, comp, "Bom")):
            fail(m, "Payload is not gzip'd odc cpio, or no Bom")
    elif flat.startswith("Scripts ./"):
        wrapper = flat.split()[1]
        files = members(comp, "Scripts")
        orig = "./Contents/Resources/" + m["legacy"]
        if wrapper not in files or orig not in files:
            fail(m, "Scripts lacks %s or %s" % (wrapper, orig))
        if files[orig][0] != "-rwxr-xr-x":
            fail(m, "%s is %s, not executable" % (orig, files[orig][0]))
        text = run("sh", "-c", 'bsdtar -xOf "$1" "$2"', "-",
                   os.path.join(tmp, comp, "Scripts"), wrapper)
        if not re.search(r"\bstep '?%s'?[ ;\n]" % re.escape(m["legacy"]), text):
            fail(m, "%s does not run %s" % (wrapper, m["legacy"]))
        name = wrapper[2:]
        if xp(pi, "string(/pkg-info/scripts/%s/@file)" % name) != wrapper:
            fail(m, "PackageInfo does not name %s" % wrapper)
    elif re.match(r"^[^ ]+\.pkg/Scripts \./", flat):
        where, path = flat.split(" ", 1)
        if path not in members(os.path.dirname(where), "Scripts"):
            fail(m, "%s does not hold %s" % (where, path))
    elif flat == "Distribution title":
        if xp(dist, "string(/installer-gui-script/title)") != val:
            fail(m, "title differs")
    elif flat == "PackageInfo identifier, pkg-ref id, choice id":
        want = m["note"] or val
        if xp(pi, "string(/pkg-info/@identifier)") != want or \
                not xp(dist, "//pkg-ref[@id=%s and text()]" % q(want)) or \
                not xp(dist, "//choice[@id=%s]" % q(want)):
            fail(m, "identifier %s not in PackageInfo, pkg-ref and choice" % want)
    elif flat == "PackageInfo version, pkg-ref version":
        check_attr(m, "PackageInfo", "version", val or "0", comp)
        check_attr(m, "pkg-ref", "version", val or "0", comp)
    elif re.match(r'^(PackageInfo|pkg-ref) [\w-]+="', flat):
        for part in flat.split(", "):
            mm = re.match(r'^(PackageInfo|pkg-ref) ([\w-]+)="([^"]*)"$', part)
            if not mm:
                fail(m, "cannot read %r" % part)
            check_attr(m, mm.group(1), mm.group(2), mm.group(3), comp)
    elif re.match(r"^PackageInfo [\w-]+$", flat):
        check_attr(m, "PackageInfo", flat.split()[1], val, comp)
    elif flat == "Distribution options rootVolumeOnly and domains":
        got = xp(dist, "string(//options/@rootVolumeOnly)")
        anywhere = xp(dist, "string(//domains/@enable_anywhere)")
        if got != val or anywhere != ("false" if val == "true" else "true"):
            fail(m, "rootVolumeOnly %r, enable_anywhere %r" % (got, anywhere))
    elif flat.startswith("Distribution choice ") and "=" in flat:
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', flat))
        check = list(attrs)
        sel = ("selected", "enabled", "start_selected", "start_enabled")
        if set(attrs) & set(sel):
            check += [a for a in sel if a not in attrs]  # and no others
        for a in check:
            got = xp(dist, "string(%s/@%s)" % (choice, a))
            if got != attrs.get(a, ""):
                fail(m, "choice %s is %r" % (a, got))
    elif flat in ("Distribution choice title", "Distribution choice description"):
        if xp(dist, "string(%s/@%s)" % (choice, flat.split()[-1])) != val:
            fail(m, "choice %s differs" % flat.split()[-1])
    elif flat.startswith("Payload owner "):
        to = tuple(int(x) for x in flat.split()[-1].split(":"))
        first = val.rsplit(", first ", 1)[1]
        entry = members(comp, "Payload").get(first if first == "." else
                                             "./" + first.lstrip("./"))
        if not entry or entry[1:] != to:
            fail(m, "%s is owned %r" % (first, entry and entry[1:]))
    else:
        fail(m, "no check for this kind of claim")
    print("ok: %s %s -> %s" % (comp or "(product)", m["legacy"], flat))
