# Malformed flat packages: one "pkgflat: FILE: PLACE: problem" line, exit 3,
# nothing on stdout, no crash, and the input left as it was.
. tests/cli/lib.sh

IOM="$TD/flat/Installomator-0.5.pkg"

# bad INPUT TEXT: info fails cleanly and changes nothing.
bad() {
	before=$(tree_sum .)
	bad_input "$2" "$PKGFLAT" info "$1"
	[ ! -s "$T/out" ] || fail "info printed to stdout on error"
	[ "$(wc -l <"$T/err")" -eq 1 ] || fail "more than one line: $(cat "$T/err")"
	after=$(tree_sum .)
	[ "$before" = "$after" ] || fail "the input was modified"
}

# retoc IN OUT OLD NEW: a copy of IN whose TOC has OLD replaced by NEW (the
# first time), header lengths fixed, heap bytes unchanged.
retoc() {
	python3 - "$@" <<'PY' || fail "retoc failed"
import struct, sys, zlib
src, dst, old, new = sys.argv[1:5]
d = open(src, "rb").read()
clen, ulen = struct.unpack(">QQ", d[8:24])
toc = zlib.decompress(d[28:28 + clen]).decode()
assert old in toc, old
toc = toc.replace(old, new, 1).encode()
c = zlib.compress(toc, 9)
# Heap offsets are relative to the heap: it may move.
hdr = d[:8] + struct.pack(">QQ", len(c), len(toc)) + d[24:28]
open(dst, "wb").write(hdr + c + d[28 + clen:])
PY
}

expand() { # expand DIR: Installomator expanded as xar -x would
	rm -rf "$1" && mkdir "$1" && bsdtar -xf "$IOM" -C "$1" || fail "bsdtar -x"
}

truncated_header() {
	head -c 200 "$IOM" >t.pkg
	bad t.pkg "t.pkg: offset 8: TOC length 4365/13644 does not fit the file (200 bytes)"
}

truncated_heap() {
	head -c 20000 "$IOM" >t.pkg
	bad t.pkg "t.pkg: TOC file id 5 (Distribution): data range 25153+316 in the heap ends past the end of the file (20000 bytes)"
}

range_past_eof() {
	retoc "$IOM" r.pkg "<offset>25153</offset>" "<offset>9999999</offset>"
	bad r.pkg "r.pkg: TOC file id 5 (Distribution): data range 9999999+316 in the heap ends past the end of the file"
}

length_past_eof() {
	retoc "$IOM" r.pkg "<length>316</length>" "<length>18446744073709551615</length>"
	bad r.pkg "r.pkg: TOC file id 5 (Distribution): data range 25153+18446744073709551615"
}

name_with_slash() {
	retoc "$IOM" r.pkg "<name>Distribution</name>" "<name>../Distribution</name>"
	bad r.pkg "r.pkg: TOC file id 5 (../Distribution): file name is not a single path component"
}

unknown_encoding() {
	retoc "$IOM" r.pkg 'application/x-gzip' 'application/x-zip'
	bad r.pkg "r.pkg: TOC file id 5 (Distribution): unknown <encoding> style"
}

# The member inflates to something else than its <size> says.
wrong_size() {
	retoc "$IOM" r.pkg "<size>795</size>" "<size>700</size>"
	bad r.pkg "r.pkg(Distribution): decodes to more bytes than its <size>"
}

corrupt_member() {
	# Flip bytes inside the Distribution's zlib stream (heap offset 25153).
	cp "$IOM" c.pkg
	heap=$(python3 -c 'import struct,sys; print(28 + struct.unpack(">Q", open(sys.argv[1],"rb").read()[8:16])[0])' c.pkg)
	printf 'XXXXXXXX' | dd of=c.pkg bs=1 seek=$((heap + 25153 + 40)) conv=notrunc 2>/dev/null
	bad c.pkg "c.pkg(Distribution): cannot inflate: "
}

not_an_installer() {
	mkdir x && echo hi >x/README && (cd x && bsdtar -cf ../n.pkg --format xar README)
	bad n.pkg "n.pkg: TOC: neither Distribution nor PackageInfo at the top: not an installer package"
}

distribution_not_xml() {
	expand d
	echo 'not xml' >d/Distribution
	bad d "d/Distribution: line 1: not well-formed XML: Start tag expected"
	# The same inside a XAR.
	(cd d && bsdtar -cf ../x.pkg --format xar Distribution Installomator.pkg)
	bad x.pkg "x.pkg(Distribution): line 1: not well-formed XML"
}

distribution_wrong_root() {
	expand d
	echo '<installer-script/>' >d/Distribution
	bad d "d/Distribution: root element: <installer-script>, not <installer-gui-script>"
}

missing_component() {
	expand d
	rm -r d/Installomator.pkg
	bad d "d/Distribution: pkg-ref \"com.scriptingosx.Installomator\": component Installomator.pkg is missing (no Installomator.pkg/PackageInfo)"
}

component_outside() {
	expand d
	sed -i 's|#Installomator.pkg|#../../etc|' d/Distribution
	bad d "d/Distribution: pkg-ref \"com.scriptingosx.Installomator\": \"../../etc\" is not a component inside the package"
}

no_identifier() {
	expand d
	sed -i 's/ identifier="[^"]*"//' d/Installomator.pkg/PackageInfo
	bad d "d/Installomator.pkg/PackageInfo: pkg-info: no identifier"
}

script_outside() {
	expand d
	sed -i 's|<relocate/>|<relocate/><scripts><postinstall file="../../x"/></scripts>|' \
	    d/Installomator.pkg/PackageInfo
	bad d "d/Installomator.pkg/PackageInfo: postinstall: file \"../../x\" is not a path inside Scripts"
}

payload_not_archive() {
	expand d
	echo junk >d/Installomator.pkg/Payload
	bad d "d/Installomator.pkg/Payload: offset 0: not a cpio or tar payload"
	# --no-scan does not read it; ls does.
	run 0 "$PKGFLAT" info --no-scan d
	bad_input "d/Installomator.pkg/Payload: offset 0: not a cpio or tar payload" \
	    "$PKGFLAT" ls --payload d
}

# convert takes legacy packages only, and writes nothing for a flat one.
convert_flat() {
	bad_input "Installomator-0.5.pkg: already a flat package: nothing to convert" \
	    "$PKGFLAT" convert "$IOM" -o out.pkg
	[ ! -e out.pkg ] || fail "convert left an output"
}

t truncated_header truncated_header
t truncated_heap truncated_heap
t range_past_eof range_past_eof
t length_past_eof length_past_eof
t name_with_slash name_with_slash
t unknown_encoding unknown_encoding
t wrong_size wrong_size
t corrupt_member corrupt_member
t not_an_installer not_an_installer
t distribution_not_xml distribution_not_xml
t distribution_wrong_root distribution_wrong_root
t missing_component missing_component
t component_outside component_outside
t no_identifier no_identifier
t script_outside script_outside
t payload_not_archive payload_not_archive
t convert_flat convert_flat
