# pkgflat verify: the Apple-signed corpus packages against the bundled
# Apple roots, corrupt copies made here (byte ranges located by
# tests/cli/sigparts.py, independently of our reader), everything sign and
# convert --sign produce against the test PKI, and random damage.
. tests/cli/lib.sh

FLAT="$TD/flat"
INSTALLOMATOR="$FLAT/Installomator-0.5.pkg"
EXIF="$TD/legacy/ExifTool-9.47.pkg"
SIGPARTS="$ROOT/tests/cli/sigparts.py"
export SOURCE_DATE_EPOCH=1700000000

pki() { "$ROOT/scripts/make-test-pki" "$T/pki" >/dev/null 2>&1 || true; P=$T/pki; }

# flip FILE OFFSET: invert one byte in place.
flip() {
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# part NAME: "OFFSET LENGTH" of a part of Installomator, from
# sigparts.py --ranges (run once: python3 starts slowly).
part() {
	[ -s "$T/ranges" ] || python3 "$SIGPARTS" --ranges "$INSTALLOMATOR" >"$T/ranges" ||
		fail "sigparts --ranges"
	grep "^$1 " "$T/ranges" | cut -d' ' -f2- | grep . || fail "no part $1"
}

apple_signed() {
	# The 2020 product: CMS (no signed attributes) and RSA in the
	# hash-of-hash form, Apple's timestamp, Apple's stapled ticket.
	run 0 "$PKGFLAT" verify "$INSTALLOMATOR"
	has "$T/out" 'Package "Installomator-0.5.pkg":'
	has "$T/out" "Status: signed by a developer certificate issued by Apple for distribution"
	has "$T/out" "Signed with a trusted timestamp on: 2020-10-30 11:04:08 +0000"
	has "$T/out" "Notarization ticket: stapled (1652 bytes, record 2/1/b5ae889f04076dce95bb68d4ba1b3219d4d254ad)"
	has "$T/out" "1. Developer ID Installer: Armin Briegel (JME5BW3F3R)"
	has "$T/out" "Expires: 2023-12-13 09:18:37 +0000"
	has "$T/out" "3. Apple Root CA"
	has "$T/out" "hash-of-hash"
	has "$T/out" "no signed attributes"
	has "$T/out" "no check failed"
	for c in xar-structure toc-checksum file-checksums rsa-signature cms-signature chain policy time; do
		has "$T/out" "ok   $c: "
	done
	# Fingerprints as openssl computes them from the KeyInfo certificates.
	python3 "$SIGPARTS" "$INSTALLOMATOR" parts >/dev/null 2>&1 || true
	for i in 0 1 2; do
		fp=$(openssl x509 -in parts/certs/$i.pem -noout -fingerprint -sha256 | cut -d= -f2 |
		    tr ':' ' ' | cut -c1-47)
		has "$T/out" "$fp"
	done
	# The 2012 component: leaf expired in 2017, but the CMS carries
	# Apple's timestamp of 2012-09-19, and validity is judged then.
	run 0 "$PKGFLAT" verify "$FLAT/Disable Gatekeeper.pkg"
	has "$T/out" "Signed with a trusted timestamp on: 2012-09-19 18:47:04 +0000"
	has "$T/out" "Expires: 2017-08-10 21:57:23 +0000"
	has "$T/out" "ok   time: every certificate is valid at 2012-09-19 18:47:04 +0000 (the trusted timestamp)"
	# The 2013 RSA-only component: no CMS, so no timestamp; the same
	# leaf is judged now, and it expired in 2017.
	run 1 "$PKGFLAT" verify "$FLAT/Re-Enable Java 6.pkg"
	has "$T/out" "Status: signed by a certificate that has since expired (failed: time)"
	has "$T/out" "n/a  cms-signature"
	has "$T/out" "ok   rsa-signature: PKCS#1 v1.5 over DigestInfo(SHA1) || the TOC checksum"
	has "$T/out" "ok   chain"
	has "$T/out" 'FAIL time: "Developer ID Installer: Rich Trouton" expired on 2017-08-10 21:57:23 +0000'
	has "$T/out" "3. Apple Root CA (from the trust store)"
	run 0 "$PKGFLAT" verify --at 2013-06-01 "$FLAT/Re-Enable Java 6.pkg"
	has "$T/out" "ok   time: every certificate is valid at 2013-06-01 00:00:00 +0000 (the given time: no timestamp)"
	run 1 "$PKGFLAT" verify --at "2017-08-11 00:00:00" "$FLAT/Re-Enable Java 6.pkg"
	# Apple's roots replaced by an unrelated one: untrusted.
	pki
	run 1 "$PKGFLAT" verify --ca-only "$P/other-root.pem" "$INSTALLOMATOR"
	has "$T/out" "Status: signed by untrusted certificate (failed: chain, time)"
	has "$T/out" "ok   rsa-signature"
}

unsigned() {
	run 1 "$PKGFLAT" verify "$FLAT/Install Joyent Pkgsrc.pkg"
	has "$T/out" "Status: no signature"
	has "$T/out" "2249 bytes after the heap are not a stapled ticket"
	has "$T/out" "n/a  rsa-signature: the package is not signed"
	hasnt "$T/out" "FAIL"
	run 0 "$PKGFLAT" verify --allow-unsigned "$FLAT/Install Joyent Pkgsrc.pkg"
	run 0 "$PKGFLAT" verify --allow-unsigned --quiet "$FLAT/Install Joyent Pkgsrc.pkg"
	[ ! -s "$T/out" ] || fail "--quiet printed something"
}

json_output() {
	run 0 "$PKGFLAT" verify --json "$INSTALLOMATOR"
	python3 - "$T/out" <<'PY' || fail "JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is True and d["status"] == "developer-id", d["status"]
assert d["failed"] == []
assert d["rsa_form"] == "hash-of-hash"
assert d["timestamp"] == {"present": True, "trusted": True, "time": "2020-10-30T11:04:08Z"}, d["timestamp"]
assert d["judged_by"] == "timestamp" and d["policy"] == "developer-id-installer"
assert d["apple_root"] is True
assert d["stapled_ticket"]["record"] == "2/1/b5ae889f04076dce95bb68d4ba1b3219d4d254ad"
assert [c["common_name"] for c in d["certificates"]] == [
    "Developer ID Installer: Armin Briegel (JME5BW3F3R)",
    "Developer ID Certification Authority", "Apple Root CA"]
assert d["certificates"][2]["sha256"] == \
    "b0b1730ecbc7ff4505142c49f1295e6eda6bcaed7e2c68c5be91b5a11001f024"
assert [c["name"] for c in d["checks"]] == ["xar-structure", "toc-checksum",
    "file-checksums", "rsa-signature", "cms-signature", "chain", "policy", "time",
    "package-structure"]
assert all(c["result"] == "pass" for c in d["checks"])
PY
	run 1 "$PKGFLAT" verify --json "$FLAT/Re-Enable Java 6.pkg"
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is False and d["failed"] == ["time"] and d["status"] == "expired"
assert d["judged_by"] == "now" and d["rsa_form"] == "digestinfo"
assert [c["result"] for c in d["checks"]][4] == "not-applicable"' "$T/out" || fail "JSON expired"
}

t apple_signed apple_signed
t unsigned unsigned
t json_output json_output

# expect_fail PKG CHECK: exit 1, CHECK failed, every check reported.
expect_fail() {
	run 1 "$PKGFLAT" verify "$1"
	has "$T/out" "FAIL $2: "
	for c in xar-structure toc-checksum file-checksums rsa-signature cms-signature chain policy time; do
		grep -q "^[a-zA-Z/]* *$c: " "$T/out" || fail "$c not reported"
	done
	hasnt "$T/err" "AddressSanitizer"
	hasnt "$T/err" "runtime error"
}

corrupt_copies() {
	sum=$(sha256sum "$INSTALLOMATOR")
	cp "$INSTALLOMATOR" rsa.pkg
	flip rsa.pkg $(( $(part rsa | cut -d' ' -f1) + 100 ))
	expect_fail rsa.pkg rsa-signature
	has "$T/out" "Status: invalid signature (failed: rsa-signature)"
	has "$T/out" "ok   cms-signature"
	has "$T/out" "ok   time"

	cp "$INSTALLOMATOR" cms.pkg
	flip cms.pkg $(( $(part cms-sigvalue | cut -d' ' -f1) + 100 ))
	expect_fail cms.pkg cms-signature
	has "$T/out" "Status: invalid signature (failed: cms-signature"
	has "$T/out" "ok   rsa-signature"
	# The timestamp's imprint is over that signature value.
	has "$T/out" "FAIL time: the timestamp's message imprint is not the hash of the CMS signature value"

	cp "$INSTALLOMATOR" pad.pkg
	set -- $(part cms)
	flip pad.pkg $(( $1 + $2 - 1 ))
	expect_fail pad.pkg cms-signature
	has "$T/out" "are not zero padding"

	cp "$INSTALLOMATOR" toc.pkg
	flip toc.pkg 2000
	expect_fail toc.pkg xar-structure
	has "$T/out" "FAIL toc-checksum"
	has "$T/out" "skip file-checksums: the TOC cannot be read"
	has "$T/out" "Status: package is invalid (malformed archive)"

	cp "$INSTALLOMATOR" cksum.pkg
	flip cksum.pkg $(( $(part checksum | cut -d' ' -f1) + 5 ))
	expect_fail cksum.pkg toc-checksum
	has "$T/out" "Status: package is invalid (checksum did not verify) (failed: toc-checksum"
	has "$T/out" "ok   xar-structure"
	has "$T/out" "ok   file-checksums"

	cp "$INSTALLOMATOR" payload.pkg
	flip payload.pkg $(( $(part file:Installomator.pkg/Payload | cut -d' ' -f1) + 5000 ))
	expect_fail payload.pkg file-checksums
	has "$T/out" "Installomator.pkg/Payload: archived checksum mismatch"
	has "$T/out" "Installomator.pkg/Payload: extracted checksum mismatch"
	has "$T/out" "ok   rsa-signature"
	has "$T/out" "ok   cms-signature"

	cp "$INSTALLOMATOR" bom.pkg
	flip bom.pkg $(( $(part file:Installomator.pkg/Bom | cut -d' ' -f1) + 100 ))
	expect_fail bom.pkg file-checksums
	has "$T/out" "Installomator.pkg/Bom: archived checksum mismatch"
	hasnt "$T/out" "Payload"

	head -c 20000 "$INSTALLOMATOR" >short.pkg
	expect_fail short.pkg xar-structure
	has "$T/out" "lie outside the heap"
	has "$T/out" "FAIL file-checksums"
	has "$T/out" "ok   rsa-signature"
	has "$T/out" "ok   chain"

	# The header says the TOC inflates to 10 bytes more than it does.
	cp "$INSTALLOMATOR" ulen.pkg
	[ "$(od -An -tx1 -j16 -N8 ulen.pkg | tr -d ' ')" = 000000000000354c ] || fail "TOC length"
	printf '\065\126' | dd of=ulen.pkg bs=1 seek=22 conv=notrunc status=none # 13654
	expect_fail ulen.pkg xar-structure
	has "$T/out" "the TOC inflates to 13644 bytes, not the 13654 the header declares"
	has "$T/out" "ok   file-checksums"
	# ...and 10 bytes less.
	cp "$INSTALLOMATOR" ulen2.pkg
	printf '\065\102' | dd of=ulen2.pkg bs=1 seek=22 conv=notrunc status=none # 13634
	expect_fail ulen2.pkg xar-structure
	has "$T/out" "inflates to more than the 13634 bytes"

	# A damaged stapled ticket trailer.
	cp "$INSTALLOMATOR" ticket.pkg
	flip ticket.pkg $(( $(stat -c %s ticket.pkg) - 10 ))
	expect_fail ticket.pkg xar-structure
	has "$T/out" "look like a stapled ticket but are not a well-formed one"

	[ "$sum" = "$(sha256sum "$INSTALLOMATOR")" ] || fail "input modified"
}

unreadable() {
	bad_input "not a flat package" "$PKGFLAT" verify "$EXIF/Contents/Archive.bom"
	bad_input "nope.pkg: cannot open" "$PKGFLAT" verify nope.pkg
	bad_input "a legacy bundle: use pkgflat convert --sign" "$PKGFLAT" verify "$EXIF"
: >empty.pkg
	bad_input "empty.pkg: offset 0: not a flat package" "$PKGFLAT" verify empty.pkg
	printf 'xa' >tiny.pkg
	bad_input "not a flat package" "$PKGFLAT" verify tiny.pkg
	printf 'xar!' >magic.pkg
	run 1 "$PKGFLAT" verify magic.pkg
	has "$T/out" "FAIL xar-structure: the 28-byte header is cut short (the file has 4 bytes)"
	bad_input "nope.pem: cannot open" "$PKGFLAT" verify --ca nope.pem "$INSTALLOMATOR"
	bad_input "no PEM certificate" "$PKGFLAT" verify --ca "$INSTALLOMATOR" "$INSTALLOMATOR"
	run 2 "$PKGFLAT" verify --at yesterday "$INSTALLOMATOR"
	has "$T/err" "--at"
	run 2 "$PKGFLAT" verify
	run 2 "$PKGFLAT" verify a.pkg b.pkg
	run 0 "$PKGFLAT" verify --help
	has "$T/out" "--signature-only"
}

t corrupt_copies corrupt_copies
t unreadable unreadable

# What pkgflat signs verifies against the test root.
signed_by_us() {
	pki
	run 0 "$PKGFLAT" convert -q "$EXIF" -o s.pkg --sign --key "$P/leaf.key" \
	    --cert "$P/leaf.pem" --chain "$P/chain.pem"
	run 1 "$PKGFLAT" verify s.pkg
	has "$T/out" "FAIL chain"
	has "$T/out" "ok   cms-signature"
	run 0 "$PKGFLAT" verify --ca "$P/root.pem" s.pkg
	has "$T/out" "Status: signed by a certificate trusted through --ca (not an Apple root)"
	has "$T/out" "signed attributes consistent"
	has "$T/out" "DigestInfo(SHA1) || the TOC checksum"
	has "$T/out" "ok   policy: Developer ID Installer"
	run 0 "$PKGFLAT" verify --ca-only "$P/root.pem" s.pkg
	run 0 "$PKGFLAT" verify --signature-only --ca "$P/root.pem" s.pkg
	run 1 "$PKGFLAT" verify --ca-only "$P/other-root.pem" s.pkg
	# Re-signing an Apple package, with each kind of identity.
	PW=test-pass run 0 "$PKGFLAT" sign --p12 "$P/leaf.p12" --pass env:PW "$INSTALLOMATOR" -o r.pkg
	run 0 "$PKGFLAT" verify --ca "$P/root.pem" r.pkg
	run 0 "$PKGFLAT" sign --cert "$P/leaf.pem" --chain "$P/chain.pem" \
	    --sign-command "openssl pkeyutl -sign -inkey '$P/leaf.key'" "$INSTALLOMATOR" -o x.pkg
	run 0 "$PKGFLAT" verify --ca "$P/root.pem" x.pkg
	for f in "$FLAT"/*.pkg; do
		run 0 "$PKGFLAT" sign --key "$P/leaf.key" --cert "$P/leaf.pem" --chain "$P/chain.pem" "$f" -o y.pkg
		run 0 "$PKGFLAT" verify --ca "$P/root.pem" y.pkg
	done
	# Mac Installer Distribution.
	run 0 "$PKGFLAT" sign --key "$P/mas.key" --cert "$P/mas.pem" --chain "$P/chain.pem" s.pkg -o mas.pkg
	run 0 "$PKGFLAT" verify --ca "$P/root.pem" mas.pkg
	has "$T/out" "ok   policy: Mac Installer Distribution"
	# An expired leaf fails the time check now, passes at a time it was valid.
	run 0 "$PKGFLAT" sign --force --key "$P/expired.key" --cert "$P/expired.pem" \
	    --chain "$P/chain.pem" s.pkg -o expired.pkg
	run 1 "$PKGFLAT" verify --ca "$P/root.pem" expired.pkg
	has "$T/out" "Status: signed by a certificate that has since expired (failed: time)"
	has "$T/out" "expired on 2002-01-01 00:00:00 +0000"
	run 0 "$PKGFLAT" verify --ca "$P/root.pem" --at 2001-06-01T12:00:00Z expired.pkg
	# The wrong EKU is neither kind of installer certificate.
	run 0 "$PKGFLAT" sign --force --key "$P/wrong-eku.key" --cert "$P/wrong-eku.pem" \
	    --chain "$P/chain.pem" s.pkg -o eku.pkg
	run 1 "$PKGFLAT" verify --ca "$P/root.pem" eku.pkg
	has "$T/out" "FAIL policy: neither Developer ID Installer"
	has "$T/out" "codeSigning (1.3.6.1.5.5.7.3.3)"
	run 1 "$PKGFLAT" verify --json --ca "$P/root.pem" eku.pkg
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))
assert d["policy"] == "neither" and d["failed"] == ["policy"], d' "$T/out" || fail "policy JSON"
}

timestamped() {
	pki
	PKI=$P
	start_tsa ok
	run 0 "$PKGFLAT" convert -q "$EXIF" -o ts.pkg --sign --key "$P/leaf.key" \
	    --cert "$P/leaf.pem" --chain "$P/chain.pem" --timestamp="$url"
	# The TSA chains to the test root, trusted with --ca.
	run 0 "$PKGFLAT" verify --ca "$P/root.pem" ts.pkg
	has "$T/out" "Signed with a trusted timestamp on: "
	has "$T/out" "ok   time: every certificate is valid at"
	has "$T/out" "(the trusted timestamp)"
	run 0 "$PKGFLAT" verify --json --ca "$P/root.pem" ts.pkg
	python3 -c 'import json, sys, time; d = json.load(open(sys.argv[1]))
t = d["timestamp"]
assert t["present"] and t["trusted"] and d["judged_by"] == "timestamp", d
ts = time.mktime(time.strptime(t["time"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
assert abs(ts - time.time()) < 3600, (t, time.time())' "$T/out" || fail "timestamp JSON"
	# An expired leaf stays expired at the (current) timestamp, whatever --at says.
	run 0 "$PKGFLAT" sign --force --key "$P/expired.key" --cert "$P/expired.pem" \
	    --chain "$P/chain.pem" --timestamp="$url" ts.pkg -o tsx.pkg
	run 1 "$PKGFLAT" verify --ca "$P/root.pem" --at 2001-06-01 tsx.pkg
	has "$T/out" "FAIL time:"
	has "$T/out" "(the trusted timestamp)"
	# Without the test root the TSA is not trusted either.
	run 1 "$PKGFLAT" verify ts.pkg
	has "$T/out" "FAIL chain"
	has "$T/out" "FAIL time: the timestamp's signature or its authority's chain does not verify"
}

t signed_by_us signed_by_us
t timestamped timestamped

# Random truncations and byte flips of the corpus never crash verify:
# every run ends with 0, 1 or 3, no signal, no sanitizer report.
random_damage() {
	python3 - "$PKGFLAT" "$FLAT" <<'PY' || fail "random damage"
import concurrent.futures, os, random, subprocess, sys
prog, flat = sys.argv[1], sys.argv[2]
rng = random.Random(5)
pkgs = [open(os.path.join(flat, f), "rb").read() for f in sorted(os.listdir(flat))]
def mutate():
    d = bytearray(rng.choice(pkgs))
    how = rng.randrange(3)
    if how == 0:
        return d[:rng.randrange(4, len(d))]
    for _ in range(1 if how == 1 else rng.randrange(2, 9)):
        o = rng.randrange(len(d)) if rng.random() < 0.7 else rng.randrange(min(len(d), 5000))
        d[o] ^= 1 << rng.randrange(8)
    return d
def one(i, d):
    name = "m%d.pkg" % i
    open(name, "wb").write(d)
    p = subprocess.run([prog, "verify", "--quiet", "--at", "2013-06-01", name],
                       capture_output=True)
    err = p.stderr.decode(errors="replace")
    if p.returncode not in (0, 1, 3) or "Sanitizer" in err or "runtime error" in err:
        return "%s: exit %d\n%s" % (name, p.returncode, err[-2000:])
    os.unlink(name)
    return p.returncode
inputs = [mutate() for _ in range(200)]
with concurrent.futures.ThreadPoolExecutor(2) as ex:
    results = list(ex.map(one, range(len(inputs)), inputs))
bad = [r for r in results if isinstance(r, str)]
if bad:
    sys.exit("\n".join(bad[:3]))
codes = {c: results.count(c) for c in set(results)}
print(codes)
assert codes.get(1, 0) > 100, codes
PY
}

t random_damage random_damage

# Check 9, package structure: a conversion expanded with bsdtar, changed
# with independent tools and written back by tests/cli/mkxar.py.
structure_base() {
	"$PKGFLAT" convert -q "$TD/legacy/ExifTool-9.47.pkg" -o o.pkg || fail "convert"
	rm -rf e && mkdir e && bsdtar -xf o.pkg -C e || fail "bsdtar"
}
rexar() { # rexar OUT: write e/ as a XAR
	python3 "$ROOT/tests/cli/mkxar.py" e "$1" || fail "mkxar"
}
C=e/ExifTool-9.47.pkg
structure() {
	structure_base
	rexar same.pkg
	run 0 "$PKGFLAT" verify --allow-unsigned same.pkg
	has "$T/out" "ok   package-structure: product archive with 1 component; payloads, Boms and scripts agree"
	# A pkg-ref that names a component with another identifier.
	sed -i 's|identifier="com.philharvey.image-exiftool"|identifier="org.example.other"|' $C/PackageInfo
	rexar id.pkg
	run 1 "$PKGFLAT" verify --allow-unsigned id.pkg
	has "$T/out" 'FAIL package-structure: id.pkg(Distribution): pkg-ref "com.philharvey.image-exiftool" names ExifTool-9.47.pkg, whose identifier is "org.example.other"'
	has "$T/out" "ok   file-checksums"
	# numberOfFiles grossly off the payload (more than 10 %; small
	# differences are notes: test_tolerance.sh).
	structure_base
	sed -i 's|numberOfFiles="200"|numberOfFiles="231"|' $C/PackageInfo
	grep -q 'numberOfFiles="231"' $C/PackageInfo || fail "not edited"
	rexar nf.pkg
	run 1 "$PKGFLAT" verify --allow-unsigned nf.pkg
	has "$T/out" "FAIL package-structure: ExifTool-9.47.pkg: PackageInfo says numberOfFiles 231, the Payload holds 200 entries"
	run 0 "$PKGFLAT" verify --allow-unsigned --signature-only nf.pkg
	has "$T/out" "skip package-structure"
	# A payload whose file mode no longer matches the Bom.
	structure_base
	mkdir tree && bsdtar -xpf $C/Payload --numeric-owner -C tree &&
	bsdtar -cf spec.mtree --format mtree \
	    --options 'mtree:!all,type,mode,uid,gid,time,size,link' @$C/Payload || fail "bsdtar"
	sed -i 's|^\(\./usr/bin/exiftool .*\)mode=775|\1mode=700|' spec.mtree
	(cd tree && bsdtar -cf - --format cpio @../spec.mtree) | gzip -n >$C/Payload
	rexar mode.pkg
	run 1 "$PKGFLAT" verify --allow-unsigned mode.pkg
	has "$T/out" "FAIL package-structure: ExifTool-9.47.pkg: BOM and payload disagree: 1 mode(s) differ, first ./usr/bin/exiftool (BOM 0775, payload 0700)"
	# The same files as a gzip'd ustar: not what Installer reads.
	(cd tree && bsdtar -cf - --format ustar @../spec.mtree) | gzip -n >$C/Payload
	rexar ustar.pkg
	run 1 "$PKGFLAT" verify --allow-unsigned ustar.pkg
	has "$T/out" "ExifTool-9.47.pkg/Payload is ustar, gzip, not gzip'd odc cpio"
	# A pkg-ref to a component that is not there.
	structure_base
	rm -r $C
	rexar missing.pkg
	run 1 "$PKGFLAT" verify --allow-unsigned missing.pkg
	has "$T/out" "FAIL package-structure: missing.pkg(Distribution): pkg-ref \"com.philharvey.image-exiftool\": component ExifTool-9.47.pkg is missing"
}
t structure structure

# A XAR written here by Python with zlib, bzip2 and xz encoded files (an
# independent writer): every extracted checksum is checked, and a wrong
# one is caught in each encoding.
encodings() {
	python3 - <<'PY' || fail "cannot write the XARs"
import bz2, hashlib, lzma, struct, zlib
def xar(path, files, break_extracted=None):
    heap, entries = bytearray(), []
    for i, (name, style, plain, packed) in enumerate(files):
        ext = hashlib.sha1(plain).hexdigest()
        if name == break_extracted:
            ext = "0" * 40
        entries.append('<file id="%d"><name>%s</name><type>file</type><data>'
            '<length>%d</length><offset>%d</offset><size>%d</size>'
            '<encoding style="%s"/><archived-checksum style="sha1">%s</archived-checksum>'
            '<extracted-checksum style="SHA1">%s</extracted-checksum></data></file>'
            % (i + 1, name, len(packed), 20 + len(heap), len(plain), style,
               hashlib.sha1(packed).hexdigest(), ext))
        heap += packed
    toc = ('<?xml version="1.0" encoding="UTF-8"?>\n<xar><toc><checksum style="sha1">'
           '<offset>0</offset><size>20</size></checksum>%s</toc></xar>' % "".join(entries)).encode()
    ctoc = zlib.compress(toc, 9)
    hdr = b"xar!" + struct.pack(">HHQQI", 28, 1, len(ctoc), len(toc), 1)
    open(path, "wb").write(hdr + ctoc + hashlib.sha1(ctoc).digest() + heap)
plain = b"".join(b"line %d of some text\n" % i for i in range(5000))
files = [("z", "application/x-gzip", plain, zlib.compress(plain)),
         ("b", "application/x-bzip2", plain, bz2.compress(plain)),
         ("x", "application/x-xz", plain, lzma.compress(plain)),
         ("r", "application/octet-stream", plain, plain)]
xar("enc.pkg", files)
for n in "zbxr":
    xar("bad-%s.pkg" % n, files, n)
PY
	# Not an installer package: only the signature-level checks apply.
	run 1 "$PKGFLAT" verify --allow-unsigned enc.pkg
	has "$T/out" "FAIL package-structure: enc.pkg: TOC: neither Distribution nor PackageInfo"
	run 0 "$PKGFLAT" verify --allow-unsigned --signature-only enc.pkg
	has "$T/out" "ok   file-checksums: 4 files: archived and extracted checksums match"
	hasnt "$T/out" "not checked"
	for n in z b x r; do
		run 1 "$PKGFLAT" verify --allow-unsigned bad-$n.pkg
		has "$T/out" "FAIL file-checksums: $n: extracted checksum mismatch"
	done
}

t encodings encodings
