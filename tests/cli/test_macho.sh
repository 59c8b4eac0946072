# Mach-O binaries in payloads: hostArchitectures, the Rosetta warning, info's
# architectures, and verify --notarization. Fixtures come from
# tests/cli/mkmacho.py (the format alone, CMS by openssl cms, timestamps by
# openssl ts with the test TSA); real ones from testdata/legacy/zips.
. tests/cli/lib.sh
. tests/cli/signing.sh

MK="$ROOT/tests/cli/mkmacho.py"
FB="$TD/legacy/zips/First_Boot_Package_Install.zip"
LOGINLOG="Library/PrivilegedHelperTools/LoginLog.app/Contents/MacOS/LoginLog"

# One PKI and one set of fixtures for every test.
pki
F=$T/fixtures
python3 "$MK" --pki "$P" "$F" good unsigned adhoc no-runtime no-timestamp \
    get-task-allow not-devid other-team old-sdk universal universal-dylib \
    x86_64-ext ppc-be i386-ppc sha1-cd trunc-lcmds bad-cmdsize trunc-sig \
    bad-sig-magic back-sig bad-cms code-modified >"$T/mk.log" 2>&1 || { cat "$T/mk.log"; exit 1; }

# bundle DEST IDENT PATH=KIND...
bundle() {
	python3 "$MK" --bundle "$@" || fail "mkmacho --bundle $*"
}

dist_of() { # dist_of PKG: the Distribution, read by bsdtar
	bsdtar -xOf "$1" Distribution || fail "no Distribution in $1"
}

# The fixtures are what they claim, by file(1)'s reading of them.
fixtures_by_file() {
	file -b "$F/universal" | grep -q "universal binary with 2 architectures" ||
	    fail "universal: $(file -b "$F/universal")"
	file -b "$F/universal" | grep -q "x86_64" || fail "universal: no x86_64"
	file -b "$F/universal" | grep -q "arm64" || fail "universal: no arm64"
	file -b "$F/ppc-be" | grep -q "Mach-O ppc executable" ||
	    fail "ppc-be: $(file -b "$F/ppc-be")"
	file -b "$F/good" | grep -q "Mach-O 64-bit x86_64 executable" ||
	    fail "good: $(file -b "$F/good")"
	file -b "$F/x86_64-ext" | grep -q "bundle" || fail "x86_64-ext: not a bundle"
	file -b "$F/i386-ppc" | grep -q "i386" || fail "i386-ppc: $(file -b "$F/i386-ppc")"
}

# Every reason on a fixture that has exactly it; the compliant ones pass.
notarization_reasons() {
	bundle all.pkg org.example.all "bin/good=$F/good" "bin/unsigned=$F/unsigned" \
	    "bin/adhoc=$F/adhoc" "bin/no-runtime=$F/no-runtime" "bin/no-timestamp=$F/no-timestamp" \
	    "bin/get-task-allow=$F/get-task-allow" "bin/not-devid=$F/not-devid" \
	    "bin/other-team=$F/other-team" "bin/old-sdk=$F/old-sdk" "bin/universal=$F/universal" \
	    "lib/universal.dylib=$F/universal-dylib" "bin/sha1=$F/sha1-cd" \
	    "bin/bad-cms=$F/bad-cms" "bin/code-modified=$F/code-modified"
	run 0 "$PKGFLAT" convert all.pkg -o u.pkg
	run 0 "$PKGFLAT" sign --cert "$P/leaf.pem" --key "$P/leaf.key" \
	    --chain "$P/chain.pem" u.pkg -o s.pkg
	run 1 "$PKGFLAT" verify --notarization s.pkg
	cp "$T/out" text
	has text "reject org.example.all ./bin/unsigned (x86_64): unsigned"
	has text "./bin/adhoc (x86_64): ad-hoc signed"
	has text "./bin/no-runtime (x86_64): signed without the hardened runtime"
	has text "./bin/no-timestamp (x86_64): signed without a secure timestamp"
	has text "./bin/get-task-allow (x86_64): has the com.apple.security.get-task-allow entitlement"
	has text "./bin/not-devid (x86_64): signed by \"Developer ID Installer: pkgflat Test (TEAMID1234)\", not a Developer ID Application certificate"
	has text "./bin/other-team (x86_64): signed by team OTHERTEAM9, the installer by team TEAMID1234"
	has text "./bin/old-sdk (x86_64): built against the macOS 10.8 SDK, older than 10.9"
	has text "./bin/bad-cms (x86_64): code signature does not verify (its CMS signature does not match the CodeDirectory)"
	has text "./bin/code-modified (x86_64): code changed after signing (page 1, bytes 4096 to 8191, does not match its hash in the CodeDirectory)"
	has text "notarization: 14 binaries, 10 would be rejected (installer team TEAMID1234)"
	[ "$(grep -c '^reject ' text)" = 10 ] || fail "want 10 reject lines"
	run 1 "$PKGFLAT" verify --notarization --json s.pkg
	python3 - "$T/out" <<'PY' || exit 1
import json, sys
n = json.load(open(sys.argv[1]))["notarization"]
got = {r["path"]: r["reasons"] for r in n["rejections"]}
want = {"./bin/unsigned": ["unsigned"], "./bin/adhoc": ["ad-hoc"],
        "./bin/no-runtime": ["no-runtime"], "./bin/no-timestamp": ["no-timestamp"],
        "./bin/get-task-allow": ["get-task-allow"],
        "./bin/not-devid": ["not-developer-id"], "./bin/other-team": ["other-team"],
        "./bin/old-sdk": ["old-sdk"], "./bin/bad-cms": ["signature-invalid"],
        "./bin/code-modified": ["code-modified"]}
assert got == want, got
assert n["team"] == "TEAMID1234", n["team"]
assert n["binaries"] == 14 and n["rejected"] == 10, n
assert n["host-architectures"] == "arm64,x86_64", n
PY
	# The same, through info --json.
	run 0 "$PKGFLAT" info --json s.pkg
	python3 - "$T/out" <<'PY' || exit 1
import json, sys
d = json.load(open(sys.argv[1]))
assert d["notarization"]["rejected"] == 10, d["notarization"]
PY
}

# A package of compliant binaries only passes.
notarization_pass() {
	bundle ok.pkg org.example.ok "bin/tool=$F/good" "bin/uni=$F/universal" \
	    "lib/ext.so=$F/x86_64-ext" "lib/libx.dylib=$F/universal-dylib"
	run 0 "$PKGFLAT" convert ok.pkg -o u.pkg
	run 0 "$PKGFLAT" sign --cert "$P/leaf.pem" --key "$P/leaf.key" \
	    --chain "$P/chain.pem" u.pkg -o s.pkg
	run 0 "$PKGFLAT" verify --notarization s.pkg
	has "$T/out" "notarization: 4 binaries, 0 would be rejected (installer team TEAMID1234)"
	grep -q '^reject' "$T/out" && fail "a compliant binary was rejected"
	run 0 "$PKGFLAT" verify --notarization --quiet s.pkg
	[ -s "$T/out" ] && fail "--quiet printed"
	true
}

universal_host_arch() {
	bundle uni.pkg org.example.uni "bin/tool=$F/universal"
	run 0 "$PKGFLAT" convert uni.pkg -o out.pkg --report r.json
	dist_of out.pkg >dist.xml
	has dist.xml 'hostArchitectures="arm64,x86_64"'
	grep -q Rosetta "$T/err" && fail "a universal binary needs no Rosetta"
	python3 - r.json <<'PY' || exit 1
import json, sys
r = json.load(open(sys.argv[1]))
assert r["hostArchitectures"] == "arm64,x86_64", r["hostArchitectures"]
m = [m for m in r["mappings"] if m["legacy"] == "Mach-O architectures"]
assert len(m) == 1 and m[0]["value"] == "1 Mach-O file: arm64,x86_64", m
PY
	run 0 "$PKGFLAT" info uni.pkg
	has "$T/out" "architectures              arm64,x86_64 (1 binary)"
}

x86_only_rosetta() {
	bundle x.pkg org.example.x "lib/_ext.so=$F/x86_64-ext"
	run 0 "$PKGFLAT" convert x.pkg -o out.pkg
	dist_of out.pkg >dist.xml
	has dist.xml 'hostArchitectures="x86_64"'
	has "$T/err" "Apple silicon Macs will need Rosetta: 1 binary without arm64: ./lib/_ext.so (x86_64)"
}

# --arch wins over what the binaries say.
arch_override() {
	bundle uni.pkg org.example.uni "bin/tool=$F/universal"
	run 0 "$PKGFLAT" convert --arch x86_64 uni.pkg -o out.pkg --report r.json
	dist_of out.pkg >dist.xml
	has dist.xml 'hostArchitectures="x86_64"'
	grep -q 'arm64' dist.xml && fail "--arch did not override"
	has r.json "--arch given: it overrides the binaries' architectures"
}

# No Mach-O: no hostArchitectures, no mapping, as before.
no_macho_unchanged() {
	run 0 "$PKGFLAT" convert "$TD/legacy/ExifTool-9.47.pkg" -o out.pkg --report r.json
	dist_of out.pkg >dist.xml
	grep -q hostArchitectures dist.xml && fail "hostArchitectures without Mach-O"
	grep -q "Mach-O" r.json && fail "a Mach-O mapping without Mach-O"
	true
}

# i386/ppc binaries: Installer gets no hostArchitectures; the user is told.
legacy_archs() {
	bundle old.pkg org.example.old "bin/fat=$F/i386-ppc" "bin/ppc=$F/ppc-be"
	run 0 "$PKGFLAT" convert old.pkg -o out.pkg
	dist_of out.pkg >dist.xml
	grep -q hostArchitectures dist.xml && fail "hostArchitectures for ppc/i386"
	has "$T/err" "2 binaries have neither arm64 nor x86_64"
	grep -q Rosetta "$T/err" && fail "Rosetta does not run ppc or i386"
	run 0 "$PKGFLAT" info old.pkg
	has "$T/out" "architectures              i386,ppc (2 binaries, 2 without arm64)"
}

# A CPython-style installer: a universal interpreter and library, an
# x86_64-only extension module.
cpython_machos() {
	mkdir m
	cp "$F/universal" m/python
	cp "$F/universal-dylib" m/Python
	cp "$F/x86_64-ext" m/_ssl.so
	"$ROOT/scripts/make-cpython-mpkg" --machos m cp >/dev/null || fail "generator"
	run 0 "$PKGFLAT" convert cp/Python.mpkg -o out.pkg
	dist_of out.pkg >dist.xml
	has dist.xml 'hostArchitectures="arm64,x86_64"'
	has "$T/err" "Apple silicon Macs will need Rosetta: 2 binaries without arm64: ./Versions/3.13/lib/python3.13/lib-dynload/_ssl.cpython-313-darwin.so (x86_64)"
	grep Rosetta "$T/err" | grep -q "bin/python" && fail "the interpreter is universal"
	true
}

# Malformed Mach-O: a clear message naming the place, never a crash; the
# conversion goes on (Installer does not read them either).
malformed() {
	bundle bad.pkg org.example.bad "a=$F/trunc-lcmds" "b=$F/bad-cmdsize" "c=$F/trunc-sig" \
	    "d=$F/bad-sig-magic" "e=$F/back-sig"
	run 0 "$PKGFLAT" convert bad.pkg -o out.pkg
	has "$T/err" "./a: not read as Mach-O: offset 40: truncated: the file ends at 40 bytes, before the end of the load commands (40 bytes at offset 32)"
	has "$T/err" "./b: not read as Mach-O: offset 32: load command 1 of 1 (0x32): cmdsize 4000 runs past the load commands"
	has "$T/err" "./c: not read as Mach-O: "
	has "$T/err" "truncated: the file ends at"
	has "$T/err" "./d: not read as Mach-O: "
	has "$T/err" "code signature: bad magic 0xfade0cc1 (not an embedded signature)"
	has "$T/err" "./e: not read as Mach-O: offset 40: the code signature at offset 40 lies before the end of the load commands"
	run 1 "$PKGFLAT" verify --notarization out.pkg
	[ "$(grep -c 'not a readable Mach-O file' "$T/out")" = 5 ] ||
	    fail "want 5 unreadable lines"
}

# LoginLog, extracted by bsdtar from the real package, at $LOGINLOG.
loginlog() {
	bsdtar -xOf "$FB" "First Boot Package Install.pkg/Contents/Archive.pax.gz" |
	    bsdtar -xf - "./$LOGINLOG" || fail "extract"
}

# sig_blobs BIN: the CodeDirectory (slot 0) to cd.bin and the CMS blob's
# DER to cms.der, cut out of a thin little-endian 64-bit Mach-O by a few
# lines of Python (not pkgflat's reader).
sig_blobs() {
	python3 - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
ncmds = struct.unpack_from("<I", d, 16)[0]
off = 32
for _ in range(ncmds):
    cmd, size = struct.unpack_from("<II", d, off)
    if cmd == 0x1d:
        sig = struct.unpack_from("<I", d, off + 8)[0]
    off += size
count = struct.unpack_from(">I", d, sig + 8)[0]
for i in range(count):
    t, o = struct.unpack_from(">II", d, sig + 12 + 8 * i)
    n = struct.unpack_from(">I", d, sig + o + 4)[0]
    if t == 0:
        open("cd.bin", "wb").write(d[sig + o:sig + o + n])
    if t == 0x10000:
        open("cms.der", "wb").write(d[sig + o + 8:sig + o + n])
PY
}

# A real signed binary from a real package: LoginLog (Developer ID
# Application: University of Gothenburg, 2015), signed without the hardened
# runtime. The signer's name is checked against openssl's reading of the
# CMS blob, found by a few lines of Python.
real_loginlog() {
	run 1 "$PKGFLAT" verify --notarization "$FB"
	has "$T/out" "./$LOGINLOG (x86_64): signed without the hardened runtime"
	[ "$(grep -c '^reject' "$T/out")" = 1 ] || fail "one binary, one line"
	run 0 "$PKGFLAT" info --json "$FB"
	cp "$T/out" info.json
	loginlog
	file -b "$LOGINLOG" | grep -q "Mach-O 64-bit x86_64 executable" || fail "file(1)"
	sig_blobs "$LOGINLOG" || exit 1
	openssl pkcs7 -inform DER -in cms.der -print_certs -noout >certs.txt ||
	    fail "openssl cannot read the CMS blob"
	has certs.txt "Developer ID Application: University of Gothenburg"
	python3 - info.json <<'PY' || exit 1
import json, sys
d = json.load(open(sys.argv[1]))
b = d["root"]["binaries"]
assert len(b) == 1, b
b = b[0]
assert b["signer"] == "Developer ID Application: University of Gothenburg", b
assert b["signer-team"] == "5KQ3D3FG5H" and b["team-id"] == "5KQ3D3FG5H", b
assert b["identifier"] == "se.gu.it.LoginLog", b
assert b["archs"] == "x86_64" and b["timestamp"] is True, b
assert b["hardened-runtime"] is False and b["sdk"] == "10.11", b
assert b["min-os"] == "10.7", b
assert d["notarization"]["team"] is None, d["notarization"]
PY
}

# Every fixture, cut at every 97th byte and at its last bytes, read
# through a package: a message or a listing, never a crash.
truncations() {
	python3 - "$F" <<'PY' >cut.list || exit 1
import os, sys
for k in ("universal-dylib", "sha1-cd"):
    size = os.path.getsize(os.path.join(sys.argv[1], k))
    for n in range(1, size, 97):
        print(k, n)
PY
	python3 - "$F" cut.pkg <<'PY' || exit 1
import os, sys
sys.path.insert(0, os.path.join(os.environ["ROOT"], "tests", "cli"))
from mkmacho import bundle
files = []
for line in open("cut.list"):
    k, n = line.split()
    files.append(("cut/%s-%s" % (k, n), open(os.path.join(sys.argv[1], k), "rb").read()[:int(n)]))
bundle(sys.argv[2], "org.example.cut", files)
PY
	"$PKGFLAT" verify --notarization --json cut.pkg >out.json 2>err.txt
	[ $? -eq 1 ] || fail "want exit 1 (every cut is rejected): $(cat err.txt)"
	python3 - out.json cut.list <<'PY' || exit 1
import json, sys
n = json.load(open(sys.argv[1]))["notarization"]
cuts = sum(1 for _ in open(sys.argv[2]))
# Cuts shorter than the magic are not Mach-O at all; every other one is
# reported unreadable, with where and what.
assert all(r["reasons"] == ["unreadable"] for r in n["rejections"]), n
assert n["rejected"] >= cuts - 2, (n["rejected"], cuts)
for r in n["rejections"]:
    assert "offset" in r["text"] and "truncated" in r["text"] or \
        "past" in r["text"] or "before" in r["text"], r["text"]
PY
}

export ROOT
# The CMS signature over the CodeDirectory, judged by openssl cms -verify
# (signature and content digest, the chain not checked) on the blobs cut
# out by a few lines of Python: pkgflat says "signature-invalid" exactly
# where openssl refuses. The real LoginLog (2015) verifies.
cms_against_openssl() {
	loginlog
	for f in "$F/good" "$F/bad-cms" "$F/sha1-cd" "$LOGINLOG"; do
		sig_blobs "$f" || fail "cannot cut the blobs of $f"
		if openssl cms -verify -binary -noverify -inform DER -in cms.der \
		    -content cd.bin -out /dev/null 2>/dev/null; then want=ok; else want=bad; fi
		mkdir -p b && rm -rf b/* && cp "$f" b/tool
		python3 "$MK" --bundle one.pkg org.example.one "bin/tool=b/tool" ||
		    fail "mkmacho --bundle"
		"$PKGFLAT" verify --notarization --json one.pkg >v.json 2>"$T/err"
		got=$(python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))["notarization"]["rejections"]
print("bad" if any("signature-invalid" in x["reasons"] for x in r) else "ok")' v.json) ||
		    fail "no JSON for $f"
		[ "$got" = "$want" ] || fail "$f: openssl says $want, pkgflat $got"
		case $f in
		*bad-cms) [ "$want" = bad ] || fail "openssl accepts bad-cms" ;;
		*) [ "$want" = ok ] || fail "openssl refuses $f" ;;
		esac
		rm -rf one.pkg
	done
}

# The code pages against the CodeDirectory's code slots, judged by a few
# lines of Python (hashlib over each 4096-byte page up to codeLimit):
# pkgflat's "code-pages" is "match" exactly where every slot matches and
# "differ" (with the same first page) where one does not; the real
# LoginLog's pages match.
pages_against_python() {
	loginlog
	cat >pages.py <<'PY'
import hashlib, struct, sys
d = open(sys.argv[1], "rb").read()
cd = open("cd.bin", "rb").read()
hoff, = struct.unpack_from(">I", cd, 16)
nslots, limit = struct.unpack_from(">II", cd, 28)
hsize, htype, _, plog = cd[36], cd[37], cd[38], cd[39]
algo = {1: hashlib.sha1, 2: hashlib.sha256, 3: hashlib.sha256}[htype]
page = 1 << plog
res = "match"
for i in range(nslots):
    h = algo(d[i * page:min((i + 1) * page, limit)]).digest()[:hsize]
    if h != cd[hoff + i * hsize:hoff + (i + 1) * hsize]:
        res = "differ %d" % i
        break
print(res)
PY
	for f in "$F/good" "$F/sha1-cd" "$F/code-modified" "$F/no-runtime" "$LOGINLOG"; do
		sig_blobs "$f" || fail "cannot cut the blobs of $f"
		want=$(python3 pages.py "$f") || fail "cannot read $f"
		mkdir -p b && rm -rf b/* one.pkg && cp "$f" b/tool
		python3 "$MK" --bundle one.pkg org.example.one "bin/tool=b/tool" ||
		    fail "mkmacho --bundle"
		"$PKGFLAT" info --json one.pkg >i.json 2>"$T/err" || fail "info $f"
		"$PKGFLAT" verify --notarization one.pkg >v.txt 2>&1
		got=$(python3 -c 'import json,sys
b = json.load(open(sys.argv[1]))["root"]["binaries"][0]
print(b["code-pages"])' i.json) || fail "no JSON for $f"
		case $want in
		match) [ "$got" = match ] || fail "$f: python: match, pkgflat: $got"
		       grep -q "code changed" v.txt && fail "$f: called changed" ;;
		differ*) [ "$got" = differ ] || fail "$f: python: $want, pkgflat: $got"
		       has v.txt "code changed after signing (page ${want#differ }," ;;
		esac
		case $f in
		*code-modified) [ "$want" = "differ 1" ] || fail "python: $want" ;;
		*) [ "$want" = match ] || fail "python: $f: $want" ;;
		esac
	done
}

t macho_fixtures_by_file fixtures_by_file
t macho_notarization_reasons notarization_reasons
t macho_notarization_pass notarization_pass
t macho_universal_host_arch universal_host_arch
t macho_x86_only_rosetta x86_only_rosetta
t macho_arch_override arch_override
t macho_no_macho_unchanged no_macho_unchanged
t macho_legacy_archs legacy_archs
t macho_cpython cpython_machos
t macho_malformed malformed
t macho_real_loginlog real_loginlog
t macho_cms_against_openssl cms_against_openssl
t macho_pages_against_python pages_against_python
t macho_truncations truncations
