# Malformed input: a clear message naming the file and the problem, exit 3,
# no crash, nothing on stdout, and the input left exactly as it was.
. tests/cli/lib.sh

EXIF="$TD/legacy/ExifTool-9.47.pkg"
MK="python3 $ROOT/tests/cli/mkfixture.py"

copy() { cp -a "$EXIF" "${1:-x.pkg}"; }

# bad INPUT TEXT: info and ls both fail cleanly and change nothing.
bad() {
	before=$(tree_sum "$(dirname "$1")")
	bad_input "$2" "$PKGFLAT" info "$1"
	[ ! -s "$T/out" ] || fail "info printed to stdout on error"
	after=$(tree_sum "$(dirname "$1")")
	[ "$before" = "$after" ] || fail "the input was modified"
}

missing_info_plist() {
	copy; rm x.pkg/Contents/Info.plist
	bad x.pkg "x.pkg/Contents/Info.plist: file is missing"
}

malformed_xml_plist() {
	copy; head -c 700 "$EXIF/Contents/Info.plist" >x.pkg/Contents/Info.plist
	bad x.pkg "x.pkg/Contents/Info.plist: line 22: malformed XML property list: premature end of data"
}

wrong_root_element() {
	copy; printf '<?xml version="1.0"?>\n<html><body/></html>\n' >x.pkg/Contents/Info.plist
	bad x.pkg "x.pkg/Contents/Info.plist: line 2: not a property list: root element is <html>"
}

not_a_dict() {
	copy; python3 -c 'import plistlib,sys; sys.stdout.buffer.write(plistlib.dumps([1,2]))' \
		>x.pkg/Contents/Info.plist
	bad x.pkg "x.pkg/Contents/Info.plist: top level is not a dictionary"
}

truncated_binary_plist() {
	copy
	python3 - "$EXIF/Contents/Info.plist" x.pkg/Contents/Info.plist <<'PY'
import plistlib, sys
data = plistlib.dumps(plistlib.load(open(sys.argv[1], "rb")), fmt=plistlib.FMT_BINARY)
open(sys.argv[2], "wb").write(data[: len(data) * 2 // 3])
PY
	bad x.pkg "x.pkg/Contents/Info.plist: offset"
	has "$T/err" "binary property list"
}

corrupt_binary_plist_offsets() {
	copy
	python3 - "$EXIF/Contents/Info.plist" x.pkg/Contents/Info.plist <<'PY'
import plistlib, sys
data = bytearray(plistlib.dumps(plistlib.load(open(sys.argv[1], "rb")), fmt=plistlib.FMT_BINARY))
data[-8:] = (len(data) * 4).to_bytes(8, "big")   # offset table beyond the file
open(sys.argv[2], "wb").write(data)
PY
	bad x.pkg "binary property list trailer points past the data"
}

package_list_missing() {
	$MK nested n
	rm -rf n/Suite.mpkg/Contents/Packages/D.pkg
	bad n/Suite.mpkg "n/Suite.mpkg/Contents/Info.plist: IFPkgFlagPackageList[2]: package \"D.pkg\" not found"
}

package_list_escapes() {
	$MK nested n
	python3 - n/Suite.mpkg/Contents/Info.plist <<'PY'
import plistlib, sys
p = sys.argv[1]; d = plistlib.load(open(p, "rb"))
d["IFPkgFlagPackageList"][1]["IFPkgFlagPackageLocation"] = "../../../../../etc"
plistlib.dump(d, open(p, "wb"))
PY
	bad n/Suite.mpkg "IFPkgFlagPackageList[1]: package location \"../../../../../etc\" points outside the input"
}

package_list_absolute() {
	$MK nested n
	python3 - n/Suite.mpkg/Contents/Info.plist <<'PY'
import plistlib, sys
p = sys.argv[1]; d = plistlib.load(open(p, "rb"))
d["IFPkgFlagPackageList"][0]["IFPkgFlagPackageLocation"] = "/etc"
plistlib.dump(d, open(p, "wb"))
PY
	bad n/Suite.mpkg "IFPkgFlagPackageList[0]: package location \"/etc\" is not a relative path"
}

package_list_loops() {
	$MK siblings s
	python3 - s/Suite.mpkg/Contents/Info.plist <<'PY'
import plistlib, sys
p = sys.argv[1]; d = plistlib.load(open(p, "rb"))
d["IFPkgFlagPackageList"][1]["IFPkgFlagPackageLocation"] = "Suite.mpkg"
plistlib.dump(d, open(p, "wb"))
PY
	bad s/Suite.mpkg "package list loops back to a package that contains it"
}

symlink_loop() {
	copy; rm x.pkg/Contents/Info.plist
	ln -s Info.plist x.pkg/Contents/Info.plist
	bad x.pkg "x.pkg/Contents/Info.plist: too many levels of symlinks (a symlink loop)"
	copy y.pkg; ln -s b y.pkg/Contents/Resources/a; ln -s a y.pkg/Contents/Resources/b
	bad y.pkg "y.pkg/Contents/Resources/a: too many levels of symlinks"
}

symlink_escapes() {
	copy; rm x.pkg/Contents/Info.plist
	ln -s /etc/passwd x.pkg/Contents/Info.plist
	bad x.pkg "x.pkg/Contents/Info.plist: symlink to an absolute path (/etc/passwd) leaves the package"
	copy y.pkg; rm y.pkg/Contents/Info.plist
	ln -s ../../../../../../../../etc/hostname y.pkg/Contents/Info.plist
	bad y.pkg "symlink points outside the package"
}

truncated_gzip() {
	copy
	head -c 100000 "$EXIF/Contents/Archive.pax.gz" >x.pkg/Contents/Archive.pax.gz
	bad x.pkg "x.pkg/Contents/Archive.pax.gz: entry "
	has "$T/err" "(truncated)"
	bad_input "Archive.pax.gz: entry" "$PKGFLAT" ls --payload x.pkg
}

corrupt_cpio_header() {
	copy
	gzip -dc "$EXIF/Contents/Archive.pax.gz" >p.cpio
	# The second header starts right after ".": 76 + 2 bytes in.
	printf 'XXXXXX' | dd of=p.cpio bs=1 seek=78 conv=notrunc 2>/dev/null
	gzip -9n <p.cpio >x.pkg/Contents/Archive.pax.gz
	bad x.pkg "x.pkg/Contents/Archive.pax.gz: entry 1 (after .)"
}

payload_climbs_out() {
	copy
	python3 - x.pkg/Contents/Archive.pax.gz <<'PY'
import io, tarfile, sys, gzip
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
    for name in (".", "./ok", "../../etc/evil"):
        ti = tarfile.TarInfo(name)
        if name == ".":
            ti.type = tarfile.DIRTYPE
        t.addfile(ti, io.BytesIO(b""))
open(sys.argv[1], "wb").write(gzip.compress(buf.getvalue()))
PY
	bad x.pkg "x.pkg/Contents/Archive.pax.gz: entry 2: member name \"../../etc/evil\" climbs out of the install root"
}

truncated_bom() {
	copy
	head -c 9000 "$EXIF/Contents/Archive.bom" >x.pkg/Contents/Archive.bom
	bad x.pkg "x.pkg/Contents/Archive.bom: "
	bad_input "x.pkg/Contents/Archive.bom: " "$PKGFLAT" ls --bom x.pkg
}

bom_cycle() {
	copy
	cp "$ROOT/tests/fuzz/corpus/bom/bad-leaf-cycle" x.pkg/Contents/Archive.bom
	bad x.pkg "x.pkg/Contents/Archive.bom: block 3: Paths tree cycle"
	cp "$ROOT/tests/fuzz/corpus/bom/bad-parent-cycle" x.pkg/Contents/Archive.bom
	bad x.pkg "parent ids form a cycle"
	cp "$ROOT/tests/fuzz/corpus/bom/bad-block-past-end" x.pkg/Contents/Archive.bom
	bad x.pkg "points past end of file"
}

zip_traversal() {
	python3 - "$EXIF" evil.zip <<'PY'
import os, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w") as z:
    for d, _, files in os.walk(src):
        for f in files:
            p = os.path.join(d, f)
            z.write(p, os.path.join("x.pkg", os.path.relpath(p, src)))
    z.writestr("../../evil.sh", "#!/bin/sh\n")
PY
	sum=$(sha256sum evil.zip)
	bad_input "evil.zip: entry " "$PKGFLAT" info evil.zip
	has "$T/err" "entry \"../../evil.sh\" points outside the archive"
	[ "$sum" = "$(sha256sum evil.zip)" ] || fail "zip modified"
}

tar_absolute_entry() {
	mkdir src && cp -a "$EXIF" src/x.pkg
	python3 - src abs.tar <<'PY'
import sys, tarfile, io
with tarfile.open(sys.argv[2], "w") as t:
    t.add(sys.argv[1] + "/x.pkg", arcname="x.pkg")
    ti = tarfile.TarInfo("/etc/evil"); t.addfile(ti, io.BytesIO(b""))
PY
	bad_input "points outside the archive" "$PKGFLAT" info abs.tar
}

truncated_zip() {
	(cd "$TD/legacy/zips" && head -c 50000 Keychain_Minder_1_5.zip) >t.zip
	bad_input "t.zip" "$PKGFLAT" info t.zip
}

not_a_package() {
	head -c 4096 /dev/urandom >junk.bin
	printf 'hello' >text.pkg
	bad_input "junk.bin: not a bundle package, nor a zip or tar archive of one" "$PKGFLAT" info junk.bin
	bad_input "text.pkg: not a bundle package" "$PKGFLAT" info text.pkg
	mkdir empty.pkg
	bad_input "empty.pkg: not a bundle package: no Contents directory" "$PKGFLAT" info empty.pkg
	mkdir nopkg && echo hi >nopkg/readme && (cd nopkg && bsdtar -a -cf ../nopkg.zip readme)
	bad_input "nopkg.zip: archive holds no .pkg or .mpkg bundle" "$PKGFLAT" info nopkg.zip
}

malformed_dist() {
	$MK dist d
	printf '<installer-script><choices-outline>' >d/Tiger.mpkg/Contents/distribution.dist
	bad d/Tiger.mpkg "d/Tiger.mpkg/Contents/distribution.dist: line 1: malformed distribution script"
	$MK dist e
	sed -i 's|Two%20Words.pkg|Gone.pkg|' e/Tiger.mpkg/Contents/distribution.dist
	bad e/Tiger.mpkg "pkg-ref \"./Contents/Packages/Gone.pkg\" names a package that is not there"
}

t missing_info_plist missing_info_plist
t malformed_xml_plist malformed_xml_plist
t wrong_root_element wrong_root_element
t not_a_dict not_a_dict
t truncated_binary_plist truncated_binary_plist
t corrupt_binary_plist_offsets corrupt_binary_plist_offsets
t package_list_missing package_list_missing
t package_list_escapes package_list_escapes
t package_list_absolute package_list_absolute
t package_list_loops package_list_loops
t symlink_loop symlink_loop
t symlink_escapes symlink_escapes
t truncated_gzip truncated_gzip
t corrupt_cpio_header corrupt_cpio_header
t payload_climbs_out payload_climbs_out
t truncated_bom truncated_bom
t bom_cycle bom_cycle
t zip_traversal zip_traversal
t tar_absolute_entry tar_absolute_entry
t truncated_zip truncated_zip
t not_a_package not_a_package
t malformed_dist malformed_dist
