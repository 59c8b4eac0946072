# Reliability of the read and convert side on hostile legacy input: depth
# bounds before libplist, gzip trailers on every path, no invalid package
# written with exit 0, tar payloads without ".", cpio members that are
# never dropped or cut silently. Inputs come from independent generators
# (python3 writers here and in tests/cli, gzip, bsdtar); gzip -t, bsdtar
# and verify's package-structure check judge the results.
. tests/cli/lib.sh

EXIF="$TD/legacy/ExifTool-9.47.pkg"
CPIO="python3 $ROOT/tests/cli/mkcpio.py"
BPLIST="python3 $ROOT/tests/cli/mkbplist.py"
PAX=x.pkg/Contents/Archive.pax.gz

# The ExifTool bundle with a one-entry payload: each test writes its own.
copy() { cp -a "$EXIF" x.pkg && $CPIO "$PAX" --gz d:.; }

# refused TEXT: convert, info and ls --payload all fail cleanly on x.pkg,
# no output file appears and the input is unchanged.
refused() {
	before=$(tree_sum x.pkg)
	mkdir -p out
	bad_input "$1" "$PKGFLAT" convert x.pkg -o out/x.pkg
	[ -z "$(ls -A out)" ] || fail "convert left $(ls -A out)"
	bad_input "$1" "$PKGFLAT" info x.pkg
	bad_input "$1" "$PKGFLAT" ls --payload x.pkg
	[ "$before" = "$(tree_sum x.pkg)" ] || fail "the input was modified"
}

# converts_valid: convert x.pkg to o.pkg with exit 0, and the result passes
# our verify and bsdtar reads its Payload; the listing is left in o.list.
converts_valid() {
	rm -rf o.pkg o
	run 0 "$PKGFLAT" convert x.pkg -o o.pkg
	cp "$T/err" convert.err
	run 0 "$PKGFLAT" verify --allow-unsigned o.pkg
	mkdir o && bsdtar -xf o.pkg -C o || fail "bsdtar cannot expand o.pkg"
	bsdtar -tvf o/x.pkg/Payload >o.list || fail "bsdtar cannot list the Payload"
	gzip -t o/x.pkg/Payload || fail "gzip -t rejects the Payload"
}

# --- 1. depth bounds -------------------------------------------------------

deep_binary_plist() {
	copy
	# 300,000 nested arrays crashed libplist's recursive parser.
	$BPLIST x.pkg/Contents/Info.plist deep 300000
	refused "x.pkg/Contents/Info.plist: offset "
	has "$T/err" "binary property list nested more than 512 deep"
	# Shared objects: 2^60 nodes once expanded, from a few hundred bytes.
	$BPLIST x.pkg/Contents/Info.plist bomb 60
	rc=0; timeout 60 "$PKGFLAT" info x.pkg >/dev/null 2>"$T/err" || rc=$?
	[ $rc -eq 3 ] || fail "bomb: exit $rc, want 3"
	has "$T/err" "x.pkg/Contents/Info.plist: binary property list expands to more than 1048576 nodes"
	$BPLIST x.pkg/Contents/Info.plist cycle 50
	bad_input "binary property list object 49 refers back to object 2, which contains it" \
	    "$PKGFLAT" info x.pkg
	$BPLIST x.pkg/Contents/Info.plist badref 50
	bad_input "binary property list object 49 refers to object 55, past the 50 objects" \
	    "$PKGFLAT" info x.pkg
	# Below the limit the plist is read (and found to lack an identifier).
	$BPLIST x.pkg/Contents/Info.plist dict 500
	run 0 "$PKGFLAT" info x.pkg
	hasnt "$T/err" "nested more than"
	hasnt "$T/err" "binary property list"
	# XML: libxml2 stops at 256 levels before libplist sees the document.
	python3 -c 'import sys; n = 100000; sys.stdout.write("<?xml version=\"1.0\"?><plist><dict><key>a</key>" + "<array>" * n + "</array>" * n + "</dict></plist>")' \
	    >x.pkg/Contents/Info.plist
	bad_input "x.pkg/Contents/Info.plist: line 1: malformed XML property list: excessive depth" \
	    "$PKGFLAT" info x.pkg
}

# Package lists that name the next metapackage 6 times, 12 levels deep:
# 6^11 bundle reads once expanded. No cycle, no nesting past 16: only a
# bound on the bundles read in all stops it.
metapackage_fanout() {
	python3 - "$ROOT/tests/cli" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import mkfixture as m
for i in range(12):
    items = [("M%d.mpkg" % (i + 1), "selected")] * 6 if i < 11 else [("A.pkg", "selected")]
    m.mpkg("M%d.mpkg" % i, items, component_dir="..")
m.component("A.pkg", "org.example.a")
PY
	rc=0; timeout 120 "$PKGFLAT" info M0.mpkg >/dev/null 2>"$T/err" || rc=$?
	[ $rc -eq 3 ] || fail "exit $rc, want 3: $(cat "$T/err")"
	has "$T/err" "package lists name more than 4096 packages in all"
	# A package listed twice is still read.
	python3 - "$ROOT/tests/cli" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import mkfixture as m
m.mpkg("Two.mpkg", [("A.pkg", "selected"), ("A.pkg", "selected")], component_dir="..")
PY
	run 0 "$PKGFLAT" info Two.mpkg
}

# --- 2. gzip integrity -----------------------------------------------------

# A small odc payload ("." first, "./" names: the copy fast path) of 40
# files, gzip'd by python, then gzmod MODE rewrites it.
small_payload() {
	set -- d:. d:./usr
	for i in $(seq 1 40); do set -- "$@" "f:./usr/f$i:$(seq -s ' ' "$i" 400)"; done
	$CPIO "$PAX" --gz "$@"
}

gzmod() {
	python3 - "$PAX" "$1" <<'PY'
import gzip, sys
p, mode = sys.argv[1], sys.argv[2]
d = bytearray(open(p, "rb").read())
raw = gzip.decompress(bytes(d))
half = len(raw) // 2
if mode == "crc":
    d[-8] ^= 0xff
elif mode == "isize":
    d[-4] ^= 0x01
elif mode == "garbage":
    d += b"JUNKJUNK"
elif mode == "zeros":
    d += bytes(1000)
elif mode == "truncated":
    d = d[:-3]
elif mode == "multi":
    d = bytearray(gzip.compress(raw[:half]) + gzip.compress(raw[half:]))
elif mode == "multicrc":
    a = bytearray(gzip.compress(raw[:half]))
    a[-8] ^= 1
    d = a + gzip.compress(raw[half:])
open(p, "wb").write(d)
PY
}

gzip_trailer_legacy() {
	for m in crc isize multicrc; do
		copy; small_payload; gzmod $m
		! gzip -t "$PAX" 2>/dev/null || fail "$m: gzip -t accepts the input"
		case $m in
		isize) want="length in the gzip trailer (ISIZE) does not match the data" ;;
		*) want="CRC-32 in the gzip trailer does not match the data" ;;
		esac
		refused "$want"
		has "$T/err" "x.pkg/Contents/Archive.pax.gz: "
		has "$T/err" "(gzip member 1)"
		rm -rf x.pkg
	done
	copy; small_payload; gzmod truncated
	refused "gzip data ends inside a member (truncated)"
	rm -rf x.pkg
	# Trailing garbage: gzip -t warns (exit 2), and a payload has none.
	copy; small_payload; gzmod garbage
	gzip -t "$PAX" 2>/dev/null; [ $? -eq 2 ] || fail "gzip -t does not warn"
	refused "trailing garbage after the last gzip member"
	rm -rf x.pkg
	# What gzip -t accepts converts: zero padding, several members.
	for m in zeros multi; do
		copy; small_payload; gzmod $m
		gzip -t "$PAX" || fail "$m: gzip -t rejects the input"
		converts_valid
		has o.list "./usr/f40"
		rm -rf x.pkg
	done
}

# A flat package whose Payload has a bad CRC-32: made from a good
# conversion, expanded by bsdtar, re-archived by tests/cli/mkxar.py (so
# the XAR checksums are right and only the gzip trailer is wrong).
gzip_trailer_flat() {
	run 0 "$PKGFLAT" convert "$EXIF" -o good.pkg
	mkdir e && bsdtar -xf good.pkg -C e
	python3 - e/ExifTool-9.47.pkg/Payload <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
d[-8] ^= 0x55
open(sys.argv[1], "wb").write(d)
PY
	! gzip -t e/ExifTool-9.47.pkg/Payload 2>/dev/null || fail "gzip -t accepts the Payload"
	python3 "$ROOT/tests/cli/mkxar.py" e bad.pkg
	run 1 "$PKGFLAT" verify --allow-unsigned bad.pkg
	has "$T/out" "FAIL package-structure"
	has "$T/out" "CRC-32 in the gzip trailer does not match the data"
	has "$T/out" "ok   file-checksums"
	bad_input "CRC-32 in the gzip trailer does not match the data" \
	    "$PKGFLAT" ls --payload bad.pkg
	has "$T/err" "bad.pkg(ExifTool-9.47.pkg/Payload): entry "
	bad_input "CRC-32 in the gzip trailer does not match the data" \
	    "$PKGFLAT" diff good.pkg bad.pkg
}

# --- 3. no invalid package with exit 0 --------------------------------------

empty_payload() {
	for kind in empty zeros gzip-empty gzip-zeros; do
		copy
		case $kind in
		empty) : >"$PAX" ;;
		zeros) head -c 10240 /dev/zero >"$PAX" ;;
		gzip-empty) : | gzip >"$PAX" ;;
		gzip-zeros) head -c 1024 /dev/zero | gzip >"$PAX" ;;
		esac
		converts_valid
		has convert.err "the payload holds no entries; the flat Payload holds only \".\""
		[ "$(wc -l <o.list)" -eq 1 ] || fail "$kind: Payload holds $(cat o.list)"
		grep -q ' \.$' o.list || fail "$kind: no \".\" in $(cat o.list)"
		rm -rf x.pkg
	done
}

same_path_twice() {
	# Different types, modes, sizes or targets: no Bom fits both copies.
	for spec in "f:./a:x d:./a" "d:./a f:./a:x" "l:./a:b f:./a:x" \
	    "f:./a:x f:./a:yy" "l:./a:b l:./a:c" "f:./._a:x f:./._a:yy"; do
		copy
		# shellcheck disable=SC2086
		$CPIO "$PAX" --gz d:. $spec
		mkdir -p out
		bad_input "x.pkg/Contents/Archive.pax.gz: " "$PKGFLAT" convert x.pkg -o out/x.pkg
		has "$T/err" "path stored twice"
		[ -z "$(ls -A out)" ] || fail "$spec: convert left $(ls -A out)"
		rm -rf x.pkg
	done
	# The same copy twice, or an AppleDouble file beside its file, is what
	# real packages hold: converted, with a warning.
	for spec in "f:./a:x f:./a:y" "f:./._a:x f:./._a:yy f:./a:z"; do
		copy
		# shellcheck disable=SC2086
		$CPIO "$PAX" --gz d:. $spec
		converts_valid
		has convert.err "path(s) twice"
		rm -rf x.pkg
	done
}

# --- 4. tar payloads without "." ---------------------------------------------

tar_without_dot() {
	copy
	mkdir -p tree/usr/bin && echo hi >tree/usr/bin/a && ln tree/usr/bin/a tree/usr/bin/b
	ln -s a tree/usr/bin/c
	(cd tree && bsdtar -czf "../$PAX" --format ustar usr)
	bsdtar -tf "$PAX" | grep -qx '\.\(/\)\{0,1\}' && fail "bsdtar wrote a . entry"
	converts_valid
	grep -q ' \.$' o.list || fail "no . in the Payload: $(cat o.list)"
	has o.list "./usr/bin/c -> a"
	grep -q 'link to ./usr/bin/' o.list || fail "hard link lost: $(cat o.list)"
	rm -rf x.pkg
	copy
	python3 - "$PAX" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w:gz", format=tarfile.PAX_FORMAT) as t:
    for d in ("usr", "usr/share"):
        i = tarfile.TarInfo(d); i.type = tarfile.DIRTYPE; i.mode = 0o755; t.addfile(i)
    i = tarfile.TarInfo("usr/share/f"); i.size = 6; t.addfile(i, io.BytesIO(b"hello\n"))
PY
	converts_valid
	has o.list "./usr/share/f"
}

hard_link_outside() {
	for target in ../../etc/passwd opt/nothere; do
		copy
		python3 - "$PAX" "$target" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w:gz", format=tarfile.PAX_FORMAT) as t:
    for d in ("usr", "usr/bin"):
        i = tarfile.TarInfo(d); i.type = tarfile.DIRTYPE; i.mode = 0o755; t.addfile(i)
    i = tarfile.TarInfo("usr/bin/a"); i.size = 6; t.addfile(i, io.BytesIO(b"hello\n"))
    i = tarfile.TarInfo("usr/bin/b"); i.type = tarfile.LNKTYPE; i.linkname = sys.argv[2]; t.addfile(i)
PY
		mkdir -p out
		bad_input "x.pkg/Contents/Archive.pax.gz: " "$PKGFLAT" convert x.pkg -o out/x.pkg
		hasnt "$T/err" "Size required"
		case $target in
		../*) has "$T/err" "hard link target \"../../etc/passwd\" climbs out of the install root" ;;
		*) has "$T/err" "hard link ./usr/bin/b names ./opt/nothere" ;;
		esac
		[ -z "$(ls -A out)" ] || fail "convert left $(ls -A out)"
		rm -rf x.pkg
	done
}

# --- 9. cpio members never dropped or cut silently ---------------------------

cpio_corrupt_last_header() {
	# The last member's magic, mode or size made unreadable: libarchive
	# (and bsdtar) skip to TRAILER!!! and say nothing.
	for field in magic mode size; do
		copy
		$CPIO raw.cpio d:. d:./usr f:./usr/a:hello f:./usr/b:world
		python3 - raw.cpio "$field" <<'PY'
import sys
p, field = sys.argv[1], sys.argv[2]
d = bytearray(open(p, "rb").read())
off = d.find(b"070707", d.find(b"./usr/a"))     # the header of ./usr/b
span = {"magic": (0, 6, b"07070X"), "mode": (18, 24, b"zzzzzz"),
        "size": (65, 76, b"0000000000z")}[field]
d[off + span[0]:off + span[1]] = span[2]
open(p, "wb").write(d)
PY
		bsdtar -tf raw.cpio >listed 2>/dev/null
		grep -q 'usr/b' listed && fail "$field: bsdtar still lists ./usr/b"
		gzip -c raw.cpio >"$PAX"
		refused "x.pkg/Contents/Archive.pax.gz: entry 3 (after ./usr/a): corrupt member header at offset 249"
		rm -rf x.pkg
	done
}

cpio_nul_in_name() {
	for order in middle last; do
		copy
		if [ $order = middle ]; then
			$CPIO "$PAX" --gz d:. 'f:./ab\0cd:hello' f:./z:q
		else
			$CPIO "$PAX" --gz d:. f:./z:q 'f:./ab\0cd:hello'
		fi
		refused "(./ab): its name holds a NUL byte, or its header is corrupt"
		rm -rf x.pkg
	done
}

t deep_binary_plist deep_binary_plist
t metapackage_fanout metapackage_fanout
t gzip_trailer_legacy gzip_trailer_legacy
t gzip_trailer_flat gzip_trailer_flat
t empty_payload empty_payload
t same_path_twice same_path_twice
t tar_without_dot tar_without_dot
t hard_link_outside hard_link_outside
t cpio_corrupt_last_header cpio_corrupt_last_header
t cpio_nul_in_name cpio_nul_in_name
