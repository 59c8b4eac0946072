# Real-world tolerance: what older or other writers legitimately do
# differently, which Installer accepts, is a note and never a failed check;
# the same files with a real integrity break still fail. Every variant is
# written here by an independent writer (tests/cli/mkxar.py, mkaa.py,
# mkrename.py, bsdtar) from an Apple-made payload and Bom (ExifTool 9.47),
# and every break is made by tests/cli/xarflip.py, which finds the bytes
# through its own TOC reader.
. tests/cli/lib.sh

TOOLS="$ROOT/tests/cli"
EXIF="$TD/legacy/ExifTool-9.47.pkg"
C=e/ExifTool-9.47.pkg

# The ExifTool conversion expanded with bsdtar into e/.
base() {
	"$PKGFLAT" convert -q --ownership preserve "$EXIF" -o o.pkg || fail "convert"
	rm -rf e && mkdir e && bsdtar -xf o.pkg -C e || fail "bsdtar"
}
rexar() { # rexar OUT [mkxar options]: write e/ as a XAR
	out=$1; shift
	python3 "$TOOLS/mkxar.py" "$@" e "$out" || fail "mkxar $*"
}
flipm() { # flipm PKG MEMBER [data|ea|toc-checksum]
	python3 "$TOOLS/xarflip.py" "$@" || fail "xarflip $*"
}
# tolerated PKG CHECK NOTE: passes every check, with this note.
tolerated() {
	run 0 "$PKGFLAT" verify --allow-unsigned "$1"
	hasnt "$T/out" "FAIL"
	grep "^note $2: " "$T/out" | grep -qF -- "$3" || fail "no note $2: $3 in $(cat "$T/out")"
	run 0 "$PKGFLAT" verify --allow-unsigned --json "$1"
	python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ok"] and not r["failed"], r["failed"]
assert any(n["check"] == sys.argv[2] and sys.argv[3] in n["note"]
           for n in r["notes"]), r["notes"]' "$T/out" "$2" "$3" || fail "json notes"
}
# broken PKG CHECK TEXT: that check fails, naming what is wrong.
broken() {
	run 1 "$PKGFLAT" verify --allow-unsigned "$1"
	has "$T/out" "FAIL $2: "
	has "$T/out" "$3"
	has "$T/out" "Status: package is invalid"
}

# Unsigned is not invalid, and never reads "no check failed" with exit 1.
unsigned_status() {
	run 1 "$PKGFLAT" verify "$TD/flat/Install Joyent Pkgsrc.pkg"
	has "$T/out" "Status: no signature"
	has "$T/out" "unsigned (exit 1; --allow-unsigned accepts it)"
	hasnt "$T/out" "no check failed"
	hasnt "$T/out" "FAIL"
	run 0 "$PKGFLAT" verify --allow-unsigned "$TD/flat/Install Joyent Pkgsrc.pkg"
	has "$T/out" "no check failed (unsigned, accepted with --allow-unsigned)"
}
t unsigned_status unsigned_status

# libxar before 1.6 spelled the extracted checksum <unarchived-checksum>.
unarchived() {
	base
	rexar u.pkg --unarchived
	tolerated u.pkg file-checksums "spell the extracted checksum <unarchived-checksum>"
	"$PKGFLAT" info u.pkg >/dev/null || fail "info"
	cp u.pkg bad.pkg
	flipm bad.pkg ExifTool-9.47.pkg/Payload
	broken bad.pkg file-checksums "ExifTool-9.47.pkg/Payload: archived checksum mismatch"
	# The old spelling is checked too, not only accepted: a wrong one.
	python3 - <<'PY' || fail "edit"
import struct, zlib, hashlib, re
raw = bytearray(open("u.pkg", "rb").read())
clen = struct.unpack(">Q", raw[8:16])[0]
toc = zlib.decompress(bytes(raw[28:28 + clen])).decode()
toc = re.sub(r'(<unarchived-checksum style="sha1">)[0-9a-f]{4}', r'\g<1>0000', toc, count=1)
c = zlib.compress(toc.encode(), 9)
heap = raw[28 + clen:]
heap[0:20] = hashlib.sha1(c).digest()
open("bad2.pkg", "wb").write(raw[:8] + struct.pack(">QQ", len(c), len(toc.encode())) + raw[24:28] + c + heap)
PY
	broken bad2.pkg file-checksums "extracted checksum mismatch"
}
t unarchived unarchived

# Names libarchive's writer stores base64-encoded.
base64_names() {
	base
	rexar b.pkg --base64-names
	run 0 "$PKGFLAT" verify --allow-unsigned b.pkg
	hasnt "$T/out" "FAIL"
	has "$T/out" "ok   package-structure: product archive with 1 component"
	run 0 "$PKGFLAT" info b.pkg
	has "$T/out" "flat-component ExifTool-9.47.pkg"
	run 0 "$PKGFLAT" ls --payload b.pkg
	"$PKGFLAT" ls --payload o.pkg >want || fail "ls o.pkg"
	diff -u want "$T/out" || fail "ls differs"
	cp b.pkg bad.pkg
	flipm bad.pkg ExifTool-9.47.pkg/Bom
	broken bad.pkg file-checksums "ExifTool-9.47.pkg/Bom: archived checksum mismatch"
	# A name that is not base64, and one that decodes to a path.
	for n in '!!!' "$(printf 'a/b' | base64)"; do
		python3 - "$n" <<'PY' || fail "edit"
import hashlib, struct, sys, zlib
raw = bytearray(open("b.pkg", "rb").read())
clen = struct.unpack(">Q", raw[8:16])[0]
toc = zlib.decompress(bytes(raw[28:28 + clen])).decode()
i = toc.index('<name enctype="base64">') + len('<name enctype="base64">')
j = toc.index("<", i)
toc = toc[:i] + sys.argv[1] + toc[j:]
c = zlib.compress(toc.encode(), 9)
heap = raw[28 + clen:]
heap[0:20] = hashlib.sha1(c).digest()
open("n.pkg", "wb").write(raw[:8] + struct.pack(">QQ", len(c), len(toc.encode())) + raw[24:28] + c + heap)
PY
		cp n.pkg before
		run 3 "$PKGFLAT" info n.pkg
		has "$T/err" "n.pkg"
		cmp -s n.pkg before || fail "input modified"
		run 1 "$PKGFLAT" verify --allow-unsigned n.pkg
		has "$T/out" "FAIL package-structure"
	done
}
t base64_names base64_names

# xar --toc-cksum sha256 / sha512: header algorithm 3 / 4, a <checksum>
# of that style and size; the digest checked against openssl's.
toc_sha2() {
	base
	for alg in sha256 sha512; do
		rexar $alg.pkg --toc-cksum $alg --file-cksum $alg
		clen=$(python3 -c 'import struct,sys; print(struct.unpack(">Q", open(sys.argv[1],"rb").read()[8:16])[0])' $alg.pkg)
		sum=$(dd if=$alg.pkg bs=1 skip=28 count=$clen status=none | openssl dgst -$alg -r | cut -d' ' -f1)
		run 0 "$PKGFLAT" verify --allow-unsigned $alg.pkg
		has "$T/out" "ok   toc-checksum: $alg $sum over the $clen compressed TOC bytes"
		has "$T/out" "$alg TOC checksum"
		hasnt "$T/out" "FAIL"
		"$PKGFLAT" info $alg.pkg >"$T/info" || fail "info"
		has "$T/info" "toc-checksum               $alg"
		cp $alg.pkg bad.pkg
		flipm bad.pkg - toc-checksum
		broken bad.pkg toc-checksum "but the compressed TOC hashes to $sum"
	done
}
t toc_sha2 toc_sha2

# <ea> members: extended attributes in the heap, with their own offsets
# and checksums: checked, and covered by the heap-range check.
ea_members() {
	base
	rexar ea.pkg --ea com.apple.FinderInfo=0123456789abcdef0123456789abcdef
	run 0 "$PKGFLAT" verify --allow-unsigned ea.pkg
	hasnt "$T/out" "FAIL"
	has "$T/out" "of them extended attributes"
	cp ea.pkg bad.pkg
	flipm bad.pkg ExifTool-9.47.pkg/PackageInfo ea
	broken bad.pkg file-checksums "ExifTool-9.47.pkg/PackageInfo: archived checksum mismatch"
	# The last bytes of the heap are an <ea>: cut them off.
	head -c $(( $(stat -c %s ea.pkg) - 3 )) ea.pkg >short.pkg
	broken short.pkg xar-structure "(extended attribute): bytes"
	has "$T/out" "lie outside the heap"
}
t ea_members ea_members

# Apple Archive payloads (pkgbuild --compression latest): read whole when
# stored, zlib or xz, named, and listed as the cpio they were made from.
apple_archive() {
	base
	"$PKGFLAT" ls --payload --sha256 o.pkg >want || fail "ls o.pkg"
	cp -r e orig
	for w in none raw zlib lzma; do
		rm -rf e && cp -r orig e
		python3 "$TOOLS/mkaa.py" orig/ExifTool-9.47.pkg/Payload $C/Payload --wrap $w ||
		    fail "mkaa $w"
		rexar aa-$w.pkg
		run 0 "$PKGFLAT" verify --allow-unsigned aa-$w.pkg
		hasnt "$T/out" "FAIL"
		hasnt "$T/out" "note"
		"$PKGFLAT" info aa-$w.pkg >"$T/info" || fail "info"
		case $w in lzma) c=pbzx ;; raw) c=none ;; *) c=$w ;; esac
		has "$T/info" "ExifTool-9.47.pkg/Payload (Apple Archive, $c)"
		has "$T/info" "entries                    200 (191 files, 9 directories"
		run 0 "$PKGFLAT" ls --payload --sha256 aa-$w.pkg
		diff -u want "$T/out" || fail "ls of the Apple Archive ($w) differs"
		run 0 "$PKGFLAT" diff o.pkg aa-$w.pkg
		has "$T/out" "200 / 200 entries, equivalent"
	done
	# The older YAA1 magic reads the same.
	rm -rf e && cp -r orig e
	python3 "$TOOLS/mkaa.py" orig/ExifTool-9.47.pkg/Payload $C/Payload --yaa || fail "mkaa"
	rexar yaa.pkg
	run 0 "$PKGFLAT" ls --payload --sha256 yaa.pkg
	diff -u want "$T/out" || fail "ls of YAA1 differs"
	# Integrity breaks: a flipped byte in the member, an unknown field,
	# a stream cut inside an entry.
	cp aa-zlib.pkg bad.pkg
	flipm bad.pkg ExifTool-9.47.pkg/Payload
	broken bad.pkg file-checksums "ExifTool-9.47.pkg/Payload: archived checksum mismatch"
	rm -rf e && cp -r orig e
	python3 "$TOOLS/mkaa.py" orig/ExifTool-9.47.pkg/Payload $C/Payload --break-header || fail "mkaa"
	rexar field.pkg
	broken field.pkg package-structure "Apple Archive entry 2"
	has "$T/out" "unknown field subtype '?'"
	run 3 "$PKGFLAT" ls --payload field.pkg
	has "$T/err" "unknown field subtype"
	rm -rf e && cp -r orig e
	python3 "$TOOLS/mkaa.py" orig/ExifTool-9.47.pkg/Payload aa || fail "mkaa"
	head -c 5000 aa >$C/Payload
	rexar cut.pkg
	broken cut.pkg package-structure "the stream ends inside"
}
t apple_archive apple_archive

# LZFSE has no Debian decoder: named, noted, never a failure.
apple_archive_lzfse() {
	base
	cp $C/Payload p
	python3 "$TOOLS/mkaa.py" p $C/Payload --wrap lzfse || fail "mkaa"
	rexar lzfse.pkg
	tolerated lzfse.pkg package-structure "ExifTool-9.47.pkg/Payload: Apple Archive (LZFSE): contents not read"
	"$PKGFLAT" info lzfse.pkg >"$T/info" || fail "info"
	has "$T/info" "entries                    not read (Apple Archive, lzfse: no decoder here)"
	# ls lists the Bom; asked for the payload, and diff asked to compare
	# it, say it cannot be read rather than that it is empty.
	run 0 "$PKGFLAT" ls lzfse.pkg
	has "$T/out" "100775 0/0 238807 164291429 ./usr/bin/exiftool"
	run 3 "$PKGFLAT" ls --payload lzfse.pkg
	has "$T/err" "ExifTool-9.47.pkg: payload is Apple Archive (lzfse): contents not read"
	run 3 "$PKGFLAT" diff o.pkg lzfse.pkg
	has "$T/err" "lzfse.pkg(ExifTool-9.47.pkg/Payload): Apple Archive (lzfse): contents not read"
	run 0 "$PKGFLAT" diff --only metadata o.pkg lzfse.pkg
	# The member's checksums are still checked.
	cp lzfse.pkg bad.pkg
	flipm bad.pkg ExifTool-9.47.pkg/Payload
	broken bad.pkg file-checksums "ExifTool-9.47.pkg/Payload: archived checksum mismatch"
}
t apple_archive_lzfse apple_archive_lzfse

# numberOfFiles: with or without ".", hard links once or not, within 10 %
# are notes; more is a failure.
number_of_files() {
	base
	for n in 199:'without "."' 205:'within 10 %'; do
		base
		sed -i "s|numberOfFiles=\"200\"|numberOfFiles=\"${n%%:*}\"|" $C/PackageInfo
		grep -q "numberOfFiles=\"${n%%:*}\"" $C/PackageInfo || fail "not edited"
		rexar nf.pkg
		tolerated nf.pkg package-structure "${n#*:}"
	done
	base
	sed -i 's|numberOfFiles="200"|numberOfFiles="150"|' $C/PackageInfo
	rexar nf.pkg
	broken nf.pkg package-structure "PackageInfo says numberOfFiles 150, the Payload holds 200 entries"
	# Hard links: 6 entries, 2 of them hard links; pkgbuild versions
	# count them once (4) or not at all.
	mkdir -p hl/tree hl/c && cd hl
	echo aaa >tree/a && ln tree/a tree/b && echo ccc >tree/c && ln tree/c tree/d && echo e >tree/e
	(cd tree && bsdtar -cf - --format odc --uid 0 --gid 0 .) | gzip -n >c/Payload || fail "bsdtar"
	for n in 4:"with hard links once" 3:'without "." and with hard links once'; do
		printf '<?xml version="1.0"?>\n<pkg-info format-version="2" identifier="org.example.hl" version="1" install-location="/tmp/hl" auth="root"><payload numberOfFiles="%s" installKBytes="1"/></pkg-info>\n' "${n%%:*}" >c/PackageInfo
		python3 "$TOOLS/mkxar.py" c hl.pkg || fail "mkxar"
		tolerated hl.pkg package-structure "numberOfFiles ${n%%:*} counts the Payload's 6 entries ${n#*:}"
	done
}
t number_of_files number_of_files

# A Bom whose "." record differs from the payload's (pkgbuild with a
# component plist or synthesized root): a note; any other path: a failure.
dot_record() {
	base
	mkdir tree && bsdtar -xpf $C/Payload --numeric-owner -C tree &&
	bsdtar -cf spec.mtree --format mtree \
	    --options 'mtree:!all,type,mode,uid,gid,time,size,link' @$C/Payload || fail "bsdtar"
	sed 's|^\(\. .*\)mode=755|\1mode=775|; s|^\(\. .*\)uid=[0-9]*|\1uid=0|' spec.mtree >dot.mtree
	cmp -s spec.mtree dot.mtree && fail "mtree not edited"
	(cd tree && bsdtar -cf - --format odc @../dot.mtree) | gzip -n >$C/Payload
	rexar dot.pkg
	tolerated dot.pkg package-structure 'BOM and payload describe "." differently (BOM 0755 501/20, payload 0775 0/20)'
	sed 's|^\(\./usr/bin/exiftool .*\)mode=775|\1mode=700|' spec.mtree >f.mtree
	(cd tree && bsdtar -cf - --format odc @../f.mtree) | gzip -n >$C/Payload
	rexar f.pkg
	broken f.pkg package-structure "BOM and payload disagree: 1 mode(s) differ, first ./usr/bin/exiftool (BOM 0775, payload 0700)"
}
t dot_record dot_record

# Each way a payload can differ from its Bom, one at a time, is named; an
# equal payload in another order is not. verify compares the two through
# keyed hashes first and reads them again only to name a difference, so
# these are the cases the hashes must not call equal (a setuid bit alone,
# one gid, one byte, one path more or less, a type; a path stored twice is
# a note).
bom_payload_kinds() {
	base
	mkdir tree && bsdtar -xpf $C/Payload --numeric-owner -C tree &&
	bsdtar -cf spec.mtree --format mtree \
	    --options 'mtree:!all,type,mode,uid,gid,time,size,link' @$C/Payload || fail "bsdtar"
	X=./usr/bin/exiftool
	repay() { # repay OUT.pkg MTREE: the payload from MTREE, the Bom as it was
		(cd tree && bsdtar -cf - --format odc @"../$2") | gzip -n >$C/Payload ||
		    fail "bsdtar $2"
		rexar "$1"
	}
	# reordered: "." first, the rest backwards
	{ head -2 spec.mtree; tail -n +3 spec.mtree | tac; } >rev.mtree
	cmp -s spec.mtree rev.mtree && fail "mtree not reordered"
	repay rev.pkg rev.mtree
	run 0 "$PKGFLAT" verify --allow-unsigned rev.pkg
	hasnt "$T/out" "disagree"
	hasnt "$T/out" "FAIL"
	sed "s|^\($X .*\)mode=775|\1mode=4775|" spec.mtree >m.mtree
	repay m.pkg m.mtree
	broken m.pkg package-structure "1 mode(s) differ, first $X (BOM 0775, payload 4775)"
	sed "s|^\($X .*\)gid=0|\1gid=1|" spec.mtree >g.mtree
	repay g.pkg g.mtree
	broken g.pkg package-structure "1 owner(s) differ, first $X (BOM 0/0, payload 0/1)"
	cp tree/$X exiftool.keep && printf x >>tree/$X
	sed "s|^\($X .*\)size=238807|\1size=238808|" spec.mtree >s.mtree
	repay s.pkg s.mtree
	cp exiftool.keep tree/$X
	broken s.pkg package-structure "1 size(s) differ, first $X (BOM 238807 bytes, payload 238808)"
	echo extra >tree/usr/bin/extra
	{ cat spec.mtree; echo "./usr/bin/extra time=1 mode=644 gid=0 uid=0 type=file"; } >p.mtree
	repay p.pkg p.mtree
	broken p.pkg package-structure "1 path(s) only in the payload, first ./usr/bin/extra"
	grep -v "^$X " spec.mtree >b.mtree
	repay b.pkg b.mtree
	broken b.pkg package-structure "1 path(s) only in the BOM, first $X"
	# twice: bsdtar merges an mtree's repeated path, so the second copy is
	# a one-file cpio put in place of the first one's trailer
	(cd tree && bsdtar -cf ../all.cpio --format odc @../spec.mtree &&
	    bsdtar -cf ../one.cpio --format odc "$X") || fail "bsdtar"
	python3 -c 'import sys
a = open(sys.argv[1], "rb").read(); b = open(sys.argv[2], "rb").read()
t = a.rindex(b"070707", 0, a.rindex(b"TRAILER!!!"))
sys.stdout.buffer.write(a[:t] + b)' all.cpio one.cpio | gzip -n >$C/Payload || fail "cpio"
	[ "$(bsdtar -tf $C/Payload | grep -c "^$X\$")" = 2 ] || fail "not stored twice"
	rexar d.pkg
	tolerated d.pkg package-structure "1 path(s) stored twice in the payload, first $X"
	mv tree/$X exiftool.keep2 && mkdir tree/$X
	sed "s|^\($X .*\)type=file size=238807|\1type=dir|" spec.mtree >t.mtree
	repay t.pkg t.mtree
	broken t.pkg package-structure "1 type(s) differ, first $X"
}
t bom_payload_kinds bom_payload_kinds

# A component no choice holds: listed, not installed, not required.
unreferenced() {
	base
	sed -i 's|<pkg-ref id="com.philharvey.image-exiftool"/>||' e/Distribution
	grep -c 'pkg-ref id="com.philharvey.image-exiftool"' e/Distribution | grep -qx 1 ||
	    fail "Distribution not edited"
	rexar u.pkg
	tolerated u.pkg package-structure 'pkg-ref "com.philharvey.image-exiftool" (ExifTool-9.47.pkg) is in no choice: Installer does not install it'
	run 0 "$PKGFLAT" info u.pkg
	has "$T/out" "selection                  not installed"
	cp u.pkg bad.pkg
	flipm bad.pkg Distribution
	broken bad.pkg file-checksums "Distribution: archived checksum mismatch"
}
t unreferenced unreferenced

# Every flat package in testdata (the corpus's four are byte-identical
# copies), with the verdict a Mac gives it and why. info, ls and diff read
# every one that is a readable XAR.
corpus_verdicts() {
	while IFS='|' read -r file code status why; do
		[ -n "$file" ] || continue
		run "$code" "$PKGFLAT" verify "$TD/$file"
		has "$T/out" "Status: $status" || fail "$file: $why"
		if [ "$status" = "no signature" ]; then
			has "$T/out" "unsigned (exit 1; --allow-unsigned accepts it)"
			run 0 "$PKGFLAT" verify --allow-unsigned "$TD/$file"
		fi
		case $status in
		"package is invalid (malformed archive)") ;;
		*)	"$PKGFLAT" info "$TD/$file" >/dev/null || fail "info $file"
			"$PKGFLAT" ls "$TD/$file" >/dev/null || fail "ls $file"
			run 0 "$PKGFLAT" diff "$TD/$file" "$TD/$file"
			has "$T/out" "equivalent: the packages install the same things" ;;
		esac
	done <<'EOF'
flat/Installomator-0.5.pkg|0|signed by a developer certificate issued by Apple for distribution|productbuild/productsign 2020, Developer ID, timestamped, stapled
flat/Disable Gatekeeper.pkg|0|signed by a developer certificate issued by Apple for distribution|2012 Developer ID, judged at its Apple timestamp
flat/Re-Enable Java 6.pkg|1|signed by a certificate that has since expired|2013 RSA-only signature, no timestamp, leaf expired 2017: pkgutil says the same
flat/Install Joyent Pkgsrc.pkg|1|no signature|unsigned pkgbuild 2015 component: installs, Gatekeeper asks
../tests/fuzz/corpus/flat/Disable-Gatekeeper.pkg|0|signed by a developer certificate issued by Apple for distribution|copy of the 2012 package
../tests/fuzz/corpus/flat/Installomator-0.5.pkg|0|signed by a developer certificate issued by Apple for distribution|copy of the 2020 package
../tests/fuzz/corpus/flat/Re-Enable-Java-6.pkg|1|signed by a certificate that has since expired|copy of the 2013 package
../tests/fuzz/corpus/flat/Install-Joyent-Pkgsrc.pkg|1|no signature|copy of the 2015 package
../tests/fuzz/corpus/flat/bsdtar-bzip2.pkg|1|no signature|bsdtar's XAR with bzip2 members: Apple's xar reads bzip2
../tests/fuzz/corpus/flat/truncated.pkg|1|package is invalid (malformed archive)|cut short: the heap is missing
../tests/fuzz/corpus/verify/installomator.pkg|0|signed by a developer certificate issued by Apple for distribution|copy of the 2020 package
../tests/fuzz/corpus/verify/gatekeeper.pkg|0|signed by a developer certificate issued by Apple for distribution|copy of the 2012 package
../tests/fuzz/corpus/verify/java6.pkg|1|signed by a certificate that has since expired|copy of the 2013 package
../tests/fuzz/corpus/verify/joyent.pkg|1|no signature|copy of the 2015 package
../tests/fuzz/corpus/verify/gatekeeper-cms-flip.pkg|1|invalid signature|a byte of the CMS signature flipped
../tests/fuzz/corpus/verify/installomator-cms-flip.pkg|1|invalid signature|a byte of the CMS signature flipped
../tests/fuzz/corpus/verify/installomator-rsa-flip.pkg|1|invalid signature|a byte of the RSA signature flipped
../tests/fuzz/corpus/verify/installomator-header.pkg|1|package is invalid (malformed archive)|header damaged
../tests/fuzz/corpus/verify/installomator-short.pkg|1|package is invalid (malformed archive)|heap cut short
../tests/fuzz/corpus/verify/installomator-toc-flip.pkg|1|package is invalid (malformed archive)|a TOC byte flipped: the signed checksum no longer matches
../tests/fuzz/corpus/verify/installomator-ulen.pkg|1|package is invalid (malformed archive)|declared TOC length wrong
../tests/fuzz/corpus/verify/installomator-ticket.pkg|1|package is invalid (malformed archive)|stapled ticket damaged: Gatekeeper cannot use it
EOF
	# Not a XAR at all: an error, not a verdict.
	run 3 "$PKGFLAT" verify "$ROOT/tests/fuzz/corpus/verify/empty.pkg"
}
t corpus_verdicts corpus_verdicts

# diff across converters: a legacy bundle against a flat twin another tool
# made by renaming its scripts (tests/cli/mkrename.py).
rename_fixture() { # rename_fixture DIR PREFLIGHT POSTFLIGHT
	cp -r "$EXIF" "$1"
	printf '%b' "$2" >"$1/Contents/Resources/preflight"
	printf '%b' "$3" >"$1/Contents/Resources/postflight"
	chmod 755 "$1/Contents/Resources/preflight" "$1/Contents/Resources/postflight"
}
diff_rename() {
	rename_fixture L.pkg '#!/bin/sh\necho preflight\nexit 0\n' \
	    '#!/bin/sh\n# see $1/Contents/Resources in the old days\necho postflight "$2"\nexit 0\n'
	python3 "$TOOLS/mkrename.py" L.pkg R.pkg || fail "mkrename"
	run 0 "$PKGFLAT" diff L.pkg R.pkg
	has "$T/out" "note: script preflight shipped byte-identical as preinstall (renamed, not wrapped: installs the same)"
	has "$T/out" "note: script postflight shipped byte-identical as postinstall"
	has "$T/out" "equivalent: the packages install the same things (2 notes)"
	run 0 "$PKGFLAT" diff --json L.pkg R.pkg
	has "$T/out" '"category": "note"'
	# A renamed script that reaches into the bundle: a difference that
	# names the script, the line and why.
	rename_fixture L2.pkg '#!/bin/sh\necho preflight\n' \
	    '#!/bin/sh\nset -e\ncp "$1/Contents/Resources/fb" /tmp/fb\n'
	python3 "$TOOLS/mkrename.py" L2.pkg R2.pkg || fail "mkrename"
	run 1 "$PKGFLAT" diff L2.pkg R2.pkg
	has "$T/out" 'script postflight shipped as postinstall needs the legacy bundle: postinstall line 3: cp "$1/Contents/Resources/fb" /tmp/fb ("$1/Contents": $1 is the flat .pkg file, which has no Contents)'
	has "$T/out" "note: script preflight shipped byte-identical as preinstall"
	has "$T/out" "1 difference: the packages install different things"
	for v in 'echo "$PACKAGE_PATH"' 'ls "$RECEIPT_PATH"'; do
		rm -rf L3.pkg && rename_fixture L3.pkg "#!/bin/sh\n$v\n" '#!/bin/sh\n'
		python3 "$TOOLS/mkrename.py" L3.pkg R3.pkg || fail "mkrename"
		run 1 "$PKGFLAT" diff L3.pkg R3.pkg
		has "$T/out" "script preflight shipped as preinstall needs the legacy bundle: preinstall line 2: $v"
	done
	# A legacy script with no flat equivalent, dropped by the other tool.
	rm -rf L4.pkg && rename_fixture L4.pkg '#!/bin/sh\n' '#!/bin/sh\n'
	printf '#!/bin/sh\necho up\n' >L4.pkg/Contents/Resources/preupgrade
	chmod 755 L4.pkg/Contents/Resources/preupgrade
	python3 "$TOOLS/mkrename.py" L4.pkg R4.pkg || fail "mkrename"
	run 1 "$PKGFLAT" diff L4.pkg R4.pkg
	has "$T/out" "removed script: preupgrade"
	# A real PackageMaker package (Retrospect Client Uninstaller, 2010s):
	# its preflight runs "$pkgPath/Contents/Resources/preflight2".
	bsdtar -xf "$TD/legacy/zips/Retrospect_Client_Uninstaller.zip" || fail "unzip"
	python3 "$TOOLS/mkrename.py" "Retrospect Client Uninstaller.pkg" rcu.pkg || fail "mkrename"
	run 1 "$PKGFLAT" diff "Retrospect Client Uninstaller.pkg" rcu.pkg
	has "$T/out" 'needs the legacy bundle: preinstall line 16: "$pkgPath/Contents/Resources/preflight2"'
}
t diff_rename diff_rename
