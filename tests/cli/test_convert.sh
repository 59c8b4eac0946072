# pkgflat convert, checked with independent tools (tests/cli/check_convert.py:
# bsdtar, 7zz, xmllint, gzip, cksum) and the XAR layout checker.
. tests/cli/lib.sh

EXIF="$TD/legacy/ExifTool-9.47.pkg"
ZIPS="Keychain_Minder_1_3 Keychain_Minder_1_5 Retrospect_Client_Uninstaller
Reset_User_and_System_Font_Caches Office_2011_SP_2_World-Writable_Permissions_Fix
First_Boot_Package_Install"
XARCHECK="$ROOT/${BUILD:-build}/xarcheck"
export SOURCE_DATE_EPOCH=1700000000

convert_ok() { # INPUT OUT [options]: convert and check everything
	in=$1 out=$2; shift 2
	run 0 "$PKGFLAT" convert "$@" --report "$out.json" "$in" -o "$out"
	"$XARCHECK" "$out" >"$T/xc" 2>&1 || { cat "$T/xc"; fail "xarcheck: $out"; }
	python3 "$ROOT/tests/cli/check_convert.py" "$PKGFLAT" "$in" "$out" $CHECK_FLAGS ||
		fail "check_convert: $in"
	python3 -m json.tool "$out.json" >/dev/null || fail "report is not JSON"
}

exiftool_fast_path() {
	CHECK_FLAGS=--ownership=preserve convert_ok "$EXIF" e.pkg --ownership preserve
	mkdir x && bsdtar -xf e.pkg -C x
	# The odc payload went through unchanged.
	cmp "$EXIF/Contents/Archive.pax.gz" x/ExifTool-9.47.pkg/Payload ||
		fail "fast path did not copy the payload byte for byte"
	has e.pkg.json '"payload": "copied"'
	has x/Distribution '<background file="background.tiff" mime-type="image/tiff" alignment="topleft" scaling="none"/>'
	[ -f x/Resources/en.lproj/ReadMe.rtf ] || fail "ReadMe.rtf not in Resources/en.lproj"
	cmp x/Resources/en.lproj/ReadMe.rtf "$EXIF/Contents/Resources/en.lproj/ReadMe" ||
		fail "ReadMe changed"
	has e.pkg.json '"legacy": "IFPkgFlagInstallFat"'
	# Owners preserved as asked: "." keeps the builder's 501/20, and we say so.
	bsdtar -tvf x/ExifTool-9.47.pkg/Payload --numeric-owner | head -1 | grep -q ' 501 *20 ' ||
		fail "owner of . not preserved"
	has "$T/err" "not owned by root"
}

corpus_zips() {
	for z in $ZIPS; do
		CHECK_FLAGS= convert_ok "$TD/legacy/zips/$z.zip" "$z.pkg"
	done
}

cpython() {
	for f in ustar odc; do
		"$ROOT/scripts/make-cpython-mpkg" --format $f $f >/dev/null || fail "generator"
		CHECK_FLAGS= convert_ok $f/Python.mpkg py-$f.pkg
	done
	has py-ustar.pkg.json '"payload": "transcoded"'
	has py-odc.pkg.json '"payload": "copied"'
	mkdir x && bsdtar -xf py-ustar.pkg -C x
	has x/Distribution '<title>Python</title>'
	has x/Distribution 'alignment="left" scaling="proportional"'
	has x/Distribution '<options customize="allow" require-scripts="false" rootVolumeOnly="true"/>'
	# python.org style: the framework is required, PythonT starts off.
	grep -q 'id="org.python.Python.PythonFramework-3.13".*selected="true" enabled="false"' x/Distribution ||
		fail "framework choice not required"
	grep -q 'id="org.python.Python.PythonTFramework-3.13".*start_selected="false"' x/Distribution ||
		fail "PythonT choice not unselected"
	has x/Distribution '#PythonFramework-3.13.pkg</pkg-ref>'
	has x/PythonFramework-3.13.pkg/PackageInfo 'install-location="/Library/Frameworks/Python.framework"'
	has x/PythonFramework-3.13.pkg/PackageInfo '<postinstall file="./postinstall"/>'
	# Every Info.plist key of every bundle is in the report, mapped or
	# dropped with a reason.
	python3 - ustar/Python.mpkg py-ustar.pkg.json <<'PY' || exit 1
import glob, json, os, plistlib, sys
mpkg, report = sys.argv[1], json.load(open(sys.argv[2]))
seen = {(m["component"], m["legacy"]) for m in report["mappings"]}
for m in report["mappings"]:
    assert m["flat"] or m["note"], m          # a drop always says why
for info in glob.glob(mpkg + "/Contents/Packages/*.pkg/Contents/Info.plist"):
    comp = info.split("/")[-3]
    for k in plistlib.load(open(info, "rb")):
        assert (comp, k) in seen, (comp, k)
for k in plistlib.load(open(mpkg + "/Contents/Info.plist", "rb")):
    assert (None, k) in seen or k in ("CFBundleIdentifier", "CFBundleShortVersionString",
        "IFPkgFlagComponentDirectory", "IFPkgFlagPackageList", "IFPkgFlagBackgroundAlignment",
        "IFPkgFlagBackgroundScaling", "IFPkgFlagAuthorizationAction"), k
PY
	# The ustar and the odc input give the same installed tree.
	mkdir y && bsdtar -xf py-odc.pkg -C y
	for p in x/*.pkg/Payload; do
		n=${p#x/}
		bsdtar -tvf "$p" --numeric-owner | awk '{print $1, $3, $4, $9, $10, $11}' | sort >a
		bsdtar -tvf "y/$n" --numeric-owner | awk '{print $1, $3, $4, $9, $10, $11}' | sort >b
		diff a b >/dev/null || fail "$n differs between ustar and odc input"
	done
}

ownership_recommended() {
	# ExifTool's builder owned every entry (501/20): the default gives
	# them all to root:wheel, transcoding, and the report says so.
	CHECK_FLAGS=--root-owned convert_ok "$EXIF" r.pkg
	has r.pkg.json '"payload": "transcoded"'
	has r.pkg.json '"legacy": "payload ownership"'
	# As many as bsdtar sees owned by a personal uid (500 and up).
	n=$(bsdtar -tvf "$EXIF/Contents/Archive.pax.gz" --numeric-owner | awk '$3 >= 500' | wc -l)
	[ "$n" -gt 1 ] || fail "expected personal owners in ExifTool's payload"
	has r.pkg.json "\"value\": \"501:20 on $n entries, first .\""
	hasnt "$T/err" "not owned by root"
	CHECK_FLAGS="--root-owned --ownership=root" convert_ok "$EXIF" o.pkg --ownership root
}

reproducible() {
	"$ROOT/scripts/make-cpython-mpkg" cp >/dev/null || fail "generator"
	run 0 "$PKGFLAT" convert cp/Python.mpkg -o a.pkg
	run 0 "$PKGFLAT" convert cp/Python.mpkg -o b.pkg
	cmp a.pkg b.pkg || fail "two conversions differ"
	SOURCE_DATE_EPOCH=1700000001 run 0 "$PKGFLAT" convert cp/Python.mpkg -o c.pkg
	! cmp -s a.pkg c.pkg || fail "the time stamp is not used"
}

min_os_and_options() {
	run 2 "$PKGFLAT" convert "$EXIF" -o o.pkg --min-os 10.4
	has "$T/err" "flat packages need Mac OS X 10.5 or later"
	[ ! -e o.pkg ] || fail "output written on a usage error"
	run 2 "$PKGFLAT" convert "$EXIF" -o o.pkg --min-os banana
	run 2 "$PKGFLAT" convert "$EXIF" -o o.pkg --ownership mine
	run 2 "$PKGFLAT" convert "$EXIF"
	has "$T/err" "no output file"
	run 0 "$PKGFLAT" convert "$EXIF" -o o.pkg --min-os 10.9 --title "Exif" \
	    --identifier org.example.exif --arch arm64,x86_64 --toc-checksum sha1
	mkdir x && bsdtar -xf o.pkg -C x
	has x/Distribution '<os-version min="10.9"/>'
	has x/Distribution '<title>Exif</title>'
	has x/Distribution 'hostArchitectures="arm64,x86_64"'
	has x/ExifTool-9.47.pkg/PackageInfo 'identifier="org.example.exif"'
	"$ROOT/scripts/make-cpython-mpkg" cp >/dev/null
	run 2 "$PKGFLAT" convert cp/Python.mpkg -o p.pkg --identifier x.y
	has "$T/err" "--identifier is for a single component"
	run 0 "$PKGFLAT" convert "$EXIF" -o s.pkg --toc-checksum sha256
	has "$T/err" "not readable before OS X 10.10"
	"$XARCHECK" s.pkg >/dev/null || fail "sha256 archive does not check"
}

failure_leaves_nothing() {
	cp -a "$EXIF" x.pkg
	head -c 100000 "$EXIF/Contents/Archive.pax.gz" >x.pkg/Contents/Archive.pax.gz
	before=$(tree_sum x.pkg)
	mkdir outdir
	bad_input "x.pkg/Contents/Archive.pax.gz: entry " "$PKGFLAT" convert x.pkg -o outdir/x.pkg
	[ -z "$(ls -A outdir)" ] || fail "left behind: $(ls -A outdir)"
	[ "$before" = "$(tree_sum x.pkg)" ] || fail "input modified"
	bad_input "cannot create" "$PKGFLAT" convert "$EXIF" -o /nonexistent/dir/x.pkg
}

MK="python3 $ROOT/tests/cli/mkfixture.py"

metapackage_shapes() {
	for k in nested siblings dist checks; do
		$MK $k $k
	done
	CHECK_FLAGS= convert_ok nested/Suite.mpkg n.pkg
	CHECK_FLAGS= convert_ok siblings/Suite.mpkg s.pkg
	CHECK_FLAGS= convert_ok dist/Tiger.mpkg d.pkg
	CHECK_FLAGS= convert_ok checks/Checks.pkg c.pkg
	mkdir n && bsdtar -xf n.pkg -C n
	# Nested metapackages flatten in order; an unselected part stays so.
	[ "$(grep -o 'line choice="[^"]*"' n/Distribution | tr '\n' ' ')" = \
	    'line choice="org.example.a" line choice="org.example.b" line choice="org.example.c" line choice="org.example.d" ' ] ||
		fail "outline: $(grep -o 'line choice="[^"]*"' n/Distribution)"
	grep -q 'id="org.example.a".*selected="true" enabled="false"' n/Distribution ||
		fail "required choice"
	grep -q 'id="org.example.c".*start_selected="false"' n/Distribution || fail "unselected"
	mkdir d && bsdtar -xf d.pkg -C d
	has d/Distribution '#Two%20Words.pkg</pkg-ref>'
	[ -d "d/Two Words.pkg" ] || fail "component with a space in its name"
}

# The Distribution's JavaScript parses (node), and says what it should.
distribution_javascript() {
	command -v node >/dev/null || { echo "node missing"; exit 1; }
	$MK checks c
	run 0 "$PKGFLAT" convert c/Checks.pkg -o c.pkg
	mkdir x && bsdtar -xf c.pkg -C x
	has x/Distribution '<installation-check script="pkgflat_installation_check()"/>'
	has x/Distribution '<volume-check script="pkgflat_volume_check()"/>'
	python3 - x/Distribution >check.js <<'PY'
import sys, xml.etree.ElementTree as ET
print(ET.parse(sys.argv[1]).getroot().find("script").text)
PY
	node --check check.js || fail "the Distribution script does not parse"
	grep -q "system.sysctl('hw.machine')" check.js || fail "sysctl check missing"
	grep -q "my.target.mountpoint + '/Applications'" check.js || fail "file check missing"
	# Run the checks under a stand-in for Installer's JavaScript objects.
	cat >run.js <<'JS'
var fs = require('fs');
var my = { result: {}, target: { mountpoint: '/Volumes/X', receiptForIdentifier: function () { return null; } } };
var system = { sysctl: function (k) { return k == 'hw.machine' ? 'x86_64' : ''; },
  gestalt: function () { return 0; }, compareVersions: function (a, b) { return a < b ? -1 : a > b ? 1 : 0; },
  files: { fileExistsAtPath: function () { return true; } } };
eval(fs.readFileSync('check.js', 'utf8'));
console.log(pkgflat_installation_check(), my.result.type, pkgflat_volume_check());
JS
	[ "$(node run.js)" = "false Fatal true" ] || fail "checks evaluate to: $(node run.js)"
	# CPython forbids downgrades (IFPkgFlagAllowBackRev false).
	"$ROOT/scripts/make-cpython-mpkg" cp >/dev/null
	run 0 "$PKGFLAT" convert cp/Python.mpkg -o p.pkg
	mkdir y && bsdtar -xf p.pkg -C y
	has y/Distribution "my.target.receiptForIdentifier('org.python.Python.PythonFramework-3.13')"
}

metapackage_scripts() {
	$MK mpkg-scripts m
	CHECK_FLAGS= convert_ok m/Suite.mpkg m.pkg
	mkdir x && bsdtar -xf m.pkg -C x
	outline=$(grep -o 'line choice="[^"]*"' x/Distribution | tr '\n' ' ')
	[ "$outline" = 'line choice="org.example.meta.preflight" line choice="org.example.a" line choice="org.example.b" line choice="org.example.meta.postflight" ' ] ||
		fail "outline: $outline"
	bsdtar -tf x/Suite-preflight.pkg/Scripts | grep -qx './preinstall' || fail "no preinstall"
	bsdtar -tf x/Suite-preflight.pkg/Scripts | grep -qx './postinstall' && fail "post in pre"
	bsdtar -tf x/Suite-postflight.pkg/Scripts | grep -qx './postinstall' || fail "no postinstall"
	[ ! -e x/Suite-preflight.pkg/Payload ] || fail "scripts-only component has a payload"
}

payload_too_large() {
	cp -a "$EXIF" x.pkg
	# A pax header announcing a 9 GiB file; no data needs to follow for the
	# converter to refuse it at the header.
	python3 - x.pkg/Contents/Archive.pax.gz <<'PY'
import gzip, io, sys, tarfile
buf = io.BytesIO()
t = tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT)
d = tarfile.TarInfo("."); d.type = tarfile.DIRTYPE; t.addfile(d)
ti = tarfile.TarInfo("./big.bin"); ti.size = 9 << 30
t.fileobj.write(ti.tobuf(tarfile.PAX_FORMAT, t.encoding, t.errors))
open(sys.argv[1], "wb").write(gzip.compress(buf.getvalue()))
PY
	mkdir o
	bad_input "x.pkg/Contents/Archive.pax.gz: entry 1 (./big.bin): file of 9663676416 bytes is too large for a flat payload" \
	    "$PKGFLAT" convert x.pkg -o o/x.pkg
	[ -z "$(ls -A o)" ] || fail "output left behind"
}

t metapackage_shapes metapackage_shapes
t distribution_javascript distribution_javascript
t metapackage_scripts metapackage_scripts
t payload_too_large payload_too_large
t exiftool_fast_path exiftool_fast_path
t corpus_zips corpus_zips
t cpython cpython
t ownership_recommended ownership_recommended
t reproducible reproducible
t min_os_and_options min_os_and_options
t failure_leaves_nothing failure_leaves_nothing

# The Bom goes through temporary files in TMPDIR; without a usable TMPDIR
# convert, verify and diff work in memory and say the same.
no_tmpdir() {
	export SOURCE_DATE_EPOCH=1700000000
	run 0 "$PKGFLAT" convert "$EXIF" -o with.pkg
	TMPDIR=/nonexistent-pkgflat-dir run 0 "$PKGFLAT" convert "$EXIF" -o without.pkg
	cmp with.pkg without.pkg || fail "convert without TMPDIR differs"
	TMPDIR=/nonexistent-pkgflat-dir run 0 "$PKGFLAT" verify --allow-unsigned without.pkg
	has "$T/out" "ok   package-structure"
	TMPDIR=/nonexistent-pkgflat-dir run 0 "$PKGFLAT" diff "$EXIF" without.pkg
}
t no_tmpdir no_tmpdir
