# XAR archives: the test-only checker (tests/tools/xarcheck.c) on Apple's
# own flat packages, then archives written by src/lib/format/xar_write.c checked
# with it and with independent readers (bsdtar, 7zz).
. tests/cli/lib.sh

XARCHECK="$ROOT/${BUILD:-build}/xarcheck"
UNIT="$ROOT/${BUILD:-build}/unit-tests"
EXIF="$TD/legacy/ExifTool-9.47.pkg/Contents"
TAB=$(printf '\t')

# The sample written by the xar_sample unit test: archive path, original
# (the same table as in tests/unit/test_xar.c).
SAMPLE_FILES="Distribution $EXIF/Resources/en.lproj/Description.plist
Resources/en.lproj/Welcome.rtf $TD/cpython/resources/Welcome.rtf
Resources/en.lproj/Localizable.strings /dev/null
foo.pkg/PackageInfo $EXIF/Info.plist
foo.pkg/Bom $EXIF/Archive.bom
foo.pkg/Payload $EXIF/Archive.pax.gz"

make_sample() { # make_sample FILE (the unit test reads testdata/ from $ROOT)
	(o=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") &&
	    cd "$ROOT" && PKGFLAT_XAR_SAMPLE="$o" "$UNIT" xar_sample) >"$T/unit.out" 2>&1 ||
		fail "xar_sample failed: $(cat "$T/unit.out")"
	[ -s "$1" ] || fail "xar_sample wrote nothing"
}

# The sample, written once per run and copied for each test.
sample() { # sample FILE
	[ -s "$T/sample.pkg" ] || make_sample "$T/sample.pkg" || exit 1
	cp "$T/sample.pkg" "$1"
}

# Byte patching in plain sh (python3 starts too slowly here).
putbytes() { # putbytes FILE OFFSET BYTE...: write decimal byte values
	f=$1 o=$2; shift 2
	esc=
	for v in "$@"; do esc="$esc\\$(printf '%03o' "$v")"; done
	printf "$esc" | dd of="$f" bs=1 seek="$o" conv=notrunc 2>/dev/null
}

flip() { # flip FILE OFFSET: invert one byte
	case $2 in '' | *[!0-9]*) fail "flip: bad offset \"$2\"" ;; esac
	putbytes "$1" "$2" $(($(od -An -tu1 -j"$2" -N1 "$1") ^ 255))
}

put_be64() { # put_be64 FILE OFFSET VALUE
	putbytes "$1" "$2" $(($3 >> 56 & 255)) $(($3 >> 48 & 255)) \
	    $(($3 >> 40 & 255)) $(($3 >> 32 & 255)) $(($3 >> 24 & 255)) \
	    $(($3 >> 16 & 255)) $(($3 >> 8 & 255)) $(($3 & 255))
}

be64() { # be64 FILE OFFSET
	od -An -tu1 -j"$2" -N8 "$1" |
	    awk '{ v = 0; for (i = 1; i <= NF; i++) v = v * 256 + $i; printf "%d\n", v }'
}

heap_start() { echo $((28 + $(be64 "$1" 8))); }

# The file offset of the first byte of ENTRY's data, from the listing.
data_at() { # data_at FILE ENTRY
	off=$("$XARCHECK" --list "$1" | awk -F'\t' -v n="$2" '$1 == n { print $6 }')
	[ -n "$off" ] || fail "no $2 in $1"
	echo $(($(heap_start "$1") + off))
}

# ---------------------------------------------------------------------------
# Apple's packages

apple_samples_pass() {
	for f in "$TD"/flat/*.pkg; do
		run 0 "$XARCHECK" "$f"
		has "$T/out" ": ok: "
		[ -s "$T/err" ] && fail "problems on $f: $(cat "$T/err")"
	done
	# The stapled ticket of the notarized sample is outside every range.
	run 0 "$XARCHECK" "$TD/flat/Installomator-0.5.pkg"
	has "$T/out" "7 heap ranges"
	has "$T/out" "1684 trailing bytes after the last range (file offset 29862)"
	run 0 "$XARCHECK" "$TD/flat/Re-Enable Java 6.pkg"
	hasnt "$T/out" "trailing"
}

apple_list_and_toc() {
	run 0 "$XARCHECK" --list "$TD/flat/Installomator-0.5.pkg"
	has "$T/out" "Distribution${TAB}file${TAB}application/x-gzip${TAB}316${TAB}795${TAB}25153"
	has "$T/out" "Installomator.pkg${TAB}directory${TAB}-${TAB}-${TAB}-${TAB}-"
	has "$T/out" "Installomator.pkg/Payload${TAB}file${TAB}application/octet-stream${TAB}14830${TAB}14830${TAB}10030"
	[ "$(wc -l <"$T/out")" -eq 5 ] || fail "want 5 entries: $(cat "$T/out")"
	run 0 "$XARCHECK" --toc "$TD/flat/Installomator-0.5.pkg"
	[ "$(wc -c <"$T/out")" -eq 13644 ] || fail "toc is not 13644 bytes"
	head -1 "$T/out" | grep -qx '<?xml version="1.0" encoding="UTF-8"?>' ||
		fail "toc does not start with the xml declaration"
	xmllint --noout "$T/out" || fail "toc is not well-formed"
}

# The checker is only worth something if it catches damage in Apple's
# archives too.
apple_sample_damaged() {
	cp "$TD/flat/Installomator-0.5.pkg" a.pkg
	at=$(data_at a.pkg Installomator.pkg/Payload) || exit 1
	flip a.pkg $((at + 100))
	run 1 "$XARCHECK" a.pkg
	has "$T/err" "Installomator.pkg/Payload: archived-checksum mismatch"
	has "$T/out" ": FAILED: "
	cp "$TD/flat/Installomator-0.5.pkg" b.pkg
	flip b.pkg $(($(heap_start b.pkg) + 300))   # inside the CMS signature
	run 0 "$XARCHECK" b.pkg                     # not a checksum: not seen
	cp "$TD/flat/Installomator-0.5.pkg" c.pkg
	flip c.pkg $(($(heap_start c.pkg) + 5))     # the TOC checksum
	run 1 "$XARCHECK" c.pkg
	has "$T/err" "toc checksum: stored checksum mismatch"
}

usage() {
	run 2 "$XARCHECK"
	has "$T/err" "usage: xarcheck"
	run 2 "$XARCHECK" --bogus x
	run 3 "$XARCHECK" "$T/does-not-exist"
}

# ---------------------------------------------------------------------------
# Archives written by xar_write.c

written_sample_readers() {
	sample s.pkg
	run 0 "$XARCHECK" s.pkg
	has "$T/out" ": ok: 3 top-level entries"
	hasnt "$T/out" "trailing"
	run 0 "$XARCHECK" --list s.pkg
	has "$T/out" "foo.pkg/Payload${TAB}file${TAB}application/octet-stream${TAB}2381189${TAB}2381189${TAB}"
	has "$T/out" "Distribution${TAB}file${TAB}application/x-gzip${TAB}"
	has "$T/out" "Resources/en.lproj${TAB}directory"
	# Compressed entries are zlib, as Apple writes them: "78 da".
	at=$(data_at s.pkg foo.pkg/Bom) || exit 1
	[ "$(od -An -tx1 -j"$at" -N2 s.pkg | tr -d ' ')" = 78da ] ||
		fail "Bom is not stored as zlib level 9"
	# The TOC is well-formed XML with Apple's one-space indentation.
	run 0 "$XARCHECK" --toc s.pkg
	xmllint --noout "$T/out" || fail "toc is not well-formed"
	has "$T/out" "$(printf '<xar>\n <toc>\n  <creation-time>')"

	# bsdtar lists everything, and extracts it, checking the checksums.
	run 0 bsdtar -tvf s.pkg
	echo "$SAMPLE_FILES" | while read -r name src; do
		grep -q " $name\$" "$T/out" || fail "bsdtar does not list $name"
	done || exit 1
	has "$T/out" "drwx------  2 root   wheel       0 Jan  1  1970 foo.pkg"
	mkdir x && run 0 bsdtar -xf s.pkg -C x
	echo "$SAMPLE_FILES" | while read -r name src; do
		cmp "x/$name" "$src" || fail "$name differs from $src"
	done || exit 1
	[ "$(find x -type f | wc -l)" -eq 6 ] || fail "extra files: $(find x)"

	# 7-Zip's xar reader agrees.
	run 0 7zz t s.pkg
	has "$T/out" "Everything is Ok"
	has "$T/out" "Files: 7"          # 7-Zip adds the TOC as "[TOC].xml"
	has "$T/out" "Folders: 3"
}

written_sample_deterministic() {
	make_sample a.pkg
	make_sample b.pkg
	cmp a.pkg b.pkg || fail "two runs differ"
}

written_sample_damaged_heap() {
	sample s.pkg
	# One byte of the raw Payload.
	cp s.pkg p.pkg
	at=$(data_at p.pkg foo.pkg/Payload) || exit 1
	flip p.pkg $((at + 1000))
	run 1 "$XARCHECK" p.pkg
	has "$T/err" "foo.pkg/Payload: archived-checksum mismatch"
	has "$T/err" "foo.pkg/Payload: extracted-checksum mismatch"
	hasnt "$T/err" "foo.pkg/Bom"
	# bsdtar, an independent reader, also refuses it.
	mkdir x && run 1 bsdtar -xf p.pkg -C x
	# One byte of the zlib Bom.
	cp s.pkg b.pkg
	at=$(data_at b.pkg foo.pkg/Bom) || exit 1
	flip b.pkg $((at + 50))
	run 1 "$XARCHECK" b.pkg
	has "$T/err" "foo.pkg/Bom: archived-checksum mismatch"
	hasnt "$T/err" "foo.pkg/Payload"
	run 2 7zz t b.pkg
}

written_sample_damaged_toc() {
	sample s.pkg
	lc=$(be64 s.pkg 8)
	lu=$(be64 s.pkg 16)
	# toc_length_compressed one short: the zlib stream is cut.
	cp s.pkg a.pkg && put_be64 a.pkg 8 $((lc - 1))
	run 1 "$XARCHECK" a.pkg
	has "$T/err" "toc: does not inflate"
	# toc_length_compressed zeroed.
	cp s.pkg b.pkg && put_be64 b.pkg 8 0
	run 1 "$XARCHECK" b.pkg
	has "$T/err" "toc: does not inflate"
	# toc_length_uncompressed off by one either way.
	cp s.pkg c.pkg && put_be64 c.pkg 16 $((lu - 1))
	run 1 "$XARCHECK" c.pkg
	has "$T/err" "toc: inflates to $lu bytes, header says $((lu - 1))"
	cp s.pkg d.pkg && put_be64 d.pkg 16 $((lu + 1))
	run 1 "$XARCHECK" d.pkg
	has "$T/err" "toc: inflates to $lu bytes, header says $((lu + 1))"
	# The file cut inside the header, and inside the heap.
	head -c 20 s.pkg >e.pkg
	run 1 "$XARCHECK" e.pkg
	has "$T/err" "too short for the 28-byte header"
	head -c $(($(wc -c <s.pkg) - 1)) s.pkg >f.pkg
	run 1 "$XARCHECK" f.pkg
	has "$T/err" "foo.pkg/Payload: data range"
	has "$T/err" "runs past the end of the heap"
	# A wrong magic, header size, version or checksum algorithm.
	cp s.pkg g.pkg && putbytes g.pkg 0 88
	run 1 "$XARCHECK" g.pkg
	has "$T/err" "bad magic"
	cp s.pkg h.pkg && putbytes h.pkg 4 0 64 0 2
	run 1 "$XARCHECK" h.pkg
	has "$T/err" "header size is 64, want 28"
	has "$T/err" "version is 2, want 1"
	cp s.pkg i.pkg && putbytes i.pkg 24 0 0 0 3
	run 1 "$XARCHECK" i.pkg
	has "$T/err" "style \"sha1\" does not match the header's cksum_alg 3"
}

t xarcheck_apple_samples apple_samples_pass
t xarcheck_apple_list_toc apple_list_and_toc
t xarcheck_apple_damaged apple_sample_damaged
t xarcheck_usage usage
t xar_written_readers written_sample_readers
t xar_written_deterministic written_sample_deterministic
t xar_written_damaged_heap written_sample_damaged_heap
t xar_written_damaged_toc written_sample_damaged_toc
