# pkgflat info and ls on the real legacy packages.
. tests/cli/lib.sh

EXIF="$TD/legacy/ExifTool-9.47.pkg"
ZIPS="Keychain_Minder_1_3 Keychain_Minder_1_5 Retrospect_Client_Uninstaller
Reset_User_and_System_Font_Caches Office_2011_SP_2_World-Writable_Permissions_Fix
First_Boot_Package_Install"

info_exiftool() {
	run 0 "$PKGFLAT" info "$EXIF"
	sed "s|$TD/||" "$T/out" >"$T/info"
	golden info/exiftool.txt "$T/info"
	has "$T/out" "com.philharvey.image-exiftool"
	has "$T/out" "(odc cpio, gzip)"
}

info_exiftool_json() {
	run 0 "$PKGFLAT" info --json "$EXIF"
	python3 -m json.tool "$T/out" >/dev/null || fail "not valid JSON"
	sed "s|$TD/||" "$T/out" >"$T/info"
	golden info/exiftool.json "$T/info"
	python3 - "$T/out" <<'PY' || exit 1
import json, sys
d = json.load(open(sys.argv[1]))
r = d["root"]
assert d["kind"] == "component", d["kind"]
assert r["identifier"] == "com.philharvey.image-exiftool"
assert r["version"] == "9.47"
assert r["flags"]["allow-back-rev"] is True
assert r["flags"]["relocatable"] is False
assert r["payload"]["entries"] == 200, r["payload"]
assert r["bom"]["paths"] == 200
assert r["scripts"]["postflight"].endswith("Contents/Resources/postflight")
PY
}

# The payload listing agrees with bsdtar's (an independent reader).
payload_vs_bsdtar() { # ARCHIVE.pax.gz PACKAGE
	"$PKGFLAT" ls --payload --json "$2" >"$T/ls.json" || fail "ls failed"
	bsdtar -tvf "$1" --numeric-owner >"$T/bsdtar.txt" || fail "bsdtar failed"
	python3 "$ROOT/tests/cli/cmp_bsdtar.py" "$T/ls.json" "$T/bsdtar.txt"
}

ls_exiftool_payload() {
	payload_vs_bsdtar "$EXIF/Contents/Archive.pax.gz" "$EXIF"
}

ls_exiftool_bom() {
	run 0 "$PKGFLAT" ls "$EXIF"
	golden ls/exiftool-bom.txt "$T/out"
	# CRC of a file, checked against cksum(1) of the file bsdtar extracts.
	mkdir x && bsdtar -xf "$EXIF/Contents/Archive.pax.gz" -C x ./usr/bin/exiftool
	crc=$(cksum <x/usr/bin/exiftool | cut -d' ' -f1)
	grep -q "^100[0-7]* [0-9]*/[0-9]* [0-9]* $crc ./usr/bin/exiftool\$" "$T/out" ||
		fail "BOM CRC of ./usr/bin/exiftool is not cksum's $crc: $(grep exiftool\$ "$T/out")"
}

zips_info() {
	for z in $ZIPS; do
		run 0 "$PKGFLAT" info "$TD/legacy/zips/$z.zip"
		sed "s|$TD/||" "$T/out" >"$T/info"
		golden "info/$z.txt" "$T/info"
		# Unpacked, the same package reads the same.
		rm -rf u && unzip_to "$TD/legacy/zips/$z.zip" u
		dir=$(ls -d u/*.pkg)
		run 0 "$PKGFLAT" info "$dir"
		sed 1,2d "$T/out" >"$T/dir.txt"
		sed 1,2d "$T/info" >"$T/zip.txt"
		diff -u "$T/zip.txt" "$T/dir.txt" || fail "$z: zip and directory differ"
	done
}

zips_payload_vs_bsdtar() {
	for z in $ZIPS; do
		rm -rf u && unzip_to "$TD/legacy/zips/$z.zip" u
		dir=$(ls -d u/*.pkg)
		payload_vs_bsdtar "$dir/Contents/Archive.pax.gz" "$TD/legacy/zips/$z.zip" ||
			fail "$z"
	done
}

zips_bom() {
	for z in $ZIPS; do
		run 0 "$PKGFLAT" ls --bom "$TD/legacy/zips/$z.zip"
		golden "ls/$z-bom.txt" "$T/out"
	done
}

# Known oddities of the real samples show up as warnings.
warnings_real() {
	run 0 "$PKGFLAT" info "$TD/legacy/zips/First_Boot_Package_Install.zip"
	has "$T/out" "owner(s) differ, first ./Library/LaunchAgents/com.company.LoginLog.plist (BOM 0/1899195968, payload 0/28224)"
	run 0 "$PKGFLAT" info "$TD/legacy/zips/Keychain_Minder_1_3.zip"
	has "$T/out" "stored twice in the payload"
	has "$T/out" "auth                       admin"
	run 0 "$PKGFLAT" info "$TD/legacy/zips/Reset_User_and_System_Font_Caches.zip"
	has "$T/out" "starts with \"(null).\""
	has "$T/out" "payload-layout             only \".\""
	has "$T/out" "scripts                    preflight postflight"
}

cheetah_symlinks() {
	run 0 "$PKGFLAT" info --json "$TD/legacy/zips/Keychain_Minder_1_5.zip"
	python3 - "$T/out" <<'PY' || exit 1
import json, sys
r = json.load(open(sys.argv[1]))["root"]
res = {x["path"]: x for x in r["resources"]}
bom = res["Keychain Minder 1.5.bom"]
assert bom["link"] == "../Archive.bom" and bom["role"] == "cheetah", bom
assert bom["size"] == 36246, bom   # the size of what the link points at
assert res["Keychain Minder 1.5.info"]["role"] == "cheetah"
PY
}

standalone_files() {
	run 0 "$PKGFLAT" ls "$EXIF/Contents/Archive.bom"
	golden ls/exiftool-bom.txt "$T/out"
	run 0 "$PKGFLAT" ls "$EXIF/Contents/Archive.pax.gz"
	[ "$(wc -l <"$T/out")" -eq 200 ] || fail "want 200 payload lines"
	run 2 "$PKGFLAT" ls --payload "$EXIF/Contents/Archive.bom"
}

usage_errors() {
	run 2 "$PKGFLAT"
	run 2 "$PKGFLAT" frobnicate
	has "$T/err" "unknown command 'frobnicate'"
	run 2 "$PKGFLAT" info
	run 2 "$PKGFLAT" info --bogus "$EXIF"
	has "$T/err" "unknown option '--bogus'"
	run 2 "$PKGFLAT" ls --bom --payload "$EXIF"
	run 3 "$PKGFLAT" info "$T/does-not-exist.pkg"
	has "$T/err" "does-not-exist.pkg: cannot open: No such file or directory"
	run 0 "$PKGFLAT" --help
	has "$T/out" "exit status:"
	for c in info ls; do
		run 0 "$PKGFLAT" "$c" --help
		has "$T/out" "usage: pkgflat $c"
		run 0 "$PKGFLAT" help "$c"
	done
	run 0 "$PKGFLAT" --version
}

flat_info() {
	run 0 "$PKGFLAT" info "$TD/flat/Installomator-0.5.pkg"
	has "$T/out" "flat product archive"
	has "$T/out" "RSA and CMS"
	has "$T/out" "Developer ID Installer: Armin Briegel (JME5BW3F3R)"
	has "$T/out" "stapled-ticket             1652 bytes"
	run 0 "$PKGFLAT" info --json "$TD/flat/Re-Enable Java 6.pkg"
	python3 -m json.tool "$T/out" >/dev/null || fail "not JSON"
	has "$T/out" '"signatures": "RSA only"'
	run 0 "$PKGFLAT" info "$TD/flat/Install Joyent Pkgsrc.pkg"
	has "$T/out" "trailing-bytes             2249 (not a ticket)"
	# ls reads flat packages too (more in test_flat.sh).
	run 0 "$PKGFLAT" ls "$TD/flat/Installomator-0.5.pkg"
	has "$T/out" "# Installomator.pkg com.scriptingosx.Installomator"
}

# Uncompressed payloads (Archive.pax), cpio and tar alike.
uncompressed_payloads() {
	cp -a "$EXIF" x.pkg
	gzip -dc "$EXIF/Contents/Archive.pax.gz" >x.pkg/Contents/Archive.pax
	rm x.pkg/Contents/Archive.pax.gz
	run 0 "$PKGFLAT" info x.pkg
	has "$T/out" "x.pkg/Contents/Archive.pax (odc cpio, none)"
	has "$T/out" "entries                    200 "
	payload_vs_bsdtar x.pkg/Contents/Archive.pax x.pkg
	# The same tree as uncompressed ustar, names without "./".
	mkdir root && bsdtar -xf x.pkg/Contents/Archive.pax -C root
	(cd root && bsdtar --format ustar -cf ../x.pkg/Contents/Archive.pax usr) ||
		fail "cannot write ustar"
	run 0 "$PKGFLAT" info x.pkg
	has "$T/out" "(ustar, none)"
	has "$T/out" "payload-layout             no \".\" entry"
	payload_vs_bsdtar x.pkg/Contents/Archive.pax x.pkg
}

t uncompressed_payloads uncompressed_payloads
t info_exiftool info_exiftool
t info_exiftool_json info_exiftool_json
t ls_exiftool_payload ls_exiftool_payload
t ls_exiftool_bom ls_exiftool_bom
t zips_info zips_info
t zips_payload_vs_bsdtar zips_payload_vs_bsdtar
t zips_bom zips_bom
t warnings_real warnings_real
t cheetah_symlinks cheetah_symlinks
t standalone_files standalone_files
t usage_errors usage_errors
t flat_info flat_info

# Malformed flat packages: info, sign and staple refuse them cleanly.
flat_malformed() {
	"$ROOT/scripts/make-test-pki" pki >/dev/null 2>&1
	python3 - "$TD/flat/Installomator-0.5.pkg" <<'PY'
import struct, sys, zlib
d = bytearray(open(sys.argv[1], "rb").read())
clen, ulen = struct.unpack(">QQ", d[8:24])
def save(name, b): open(name, "wb").write(bytes(b))
b = bytearray(d); b[8:16] = struct.pack(">Q", len(d) * 2); save("toolong.pkg", b)
b = bytearray(d); b[16:24] = struct.pack(">Q", ulen + 1); save("ulen.pkg", b)
b = bytearray(d); b[4:6] = struct.pack(">H", 64); save("hdr64.pkg", b)
raw = b"<xar><toc><file>not closed"
toc = zlib.compress(raw)
b = bytearray(d[:8]) + struct.pack(">QQ", len(toc), len(raw)) + d[24:28] + toc; save("badxml.pkg", b)
toc = zlib.decompress(bytes(d[28:28 + clen])).replace(b"<offset>9492</offset>", b"<offset>99999999</offset>", 1)
z = zlib.compress(toc)
b = bytearray(d[:8]) + struct.pack(">QQ", len(z), len(toc)) + d[24:28] + z + d[28 + clen:]; save("pastend.pkg", b)
PY
	for f in toolong ulen hdr64 badxml; do
		cp $f.pkg keep.pkg
		bad_input "$f.pkg: " "$PKGFLAT" info $f.pkg
		bad_input "$f.pkg: " "$PKGFLAT" sign --key pki/leaf.key --cert pki/leaf.pem $f.pkg -o out.pkg
		cmp $f.pkg keep.pkg || fail "$f modified"
	done
	has "$T/err" "badxml.pkg: TOC: not well-formed XML"
	bad_input "pastend.pkg: xar-structure: Installomator.pkg/Bom: bytes 99999999..100000537 lie outside the heap" \
	    "$PKGFLAT" sign --key pki/leaf.key --cert pki/leaf.pem pastend.pkg -o out.pkg
	bad_input "claims more heap than the file holds" "$PKGFLAT" staple --remove pastend.pkg
	[ ! -e out.pkg ] || fail "output written"
}

t flat_malformed flat_malformed
