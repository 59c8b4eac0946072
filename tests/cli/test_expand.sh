# expand and flatten: flat packages to directories and back, checked
# against bsdtar (which reads XAR, cpio and the payloads itself), the real
# flat packages in testdata, and diff/verify of the round trip.
. tests/cli/lib.sh

FLAT="$TD/flat"
EXIF="$TD/legacy/ExifTool-9.47.pkg"
CMP="python3 $ROOT/tests/cli/cmp_trees.py"
CPIO="python3 $ROOT/tests/cli/mkcpio.py"
XARCHECK="$ROOT/${BUILD:-build}/xarcheck"
export SOURCE_DATE_EPOCH=1700000000

# Every real flat package, plus converted legacy ones (a product with a
# 200-entry payload, one with symlinks and a path stored twice, a nested
# metapackage, a component with scripts).
samples() {
	for f in "$FLAT"/*.pkg; do cp "$f" .; done
	run 0 "$PKGFLAT" convert -q "$EXIF" -o exif.pkg
	unzip_to "$TD/legacy/zips/Keychain_Minder_1_3.zip" km
	run 0 "$PKGFLAT" convert -q km/*.pkg -o km.pkg
	rm -rf km
	# A nested metapackage (four components, choices) and one with
	# scripts (wrappers and originals in Scripts).
	python3 "$ROOT/tests/cli/mkfixture.py" nested fx >/dev/null || fail "mkfixture"
	python3 "$ROOT/tests/cli/mkfixture.py" scripts fs >/dev/null || fail "mkfixture"
	run 0 "$PKGFLAT" convert -q fx/Suite.mpkg -o nested.pkg
	run 0 "$PKGFLAT" convert -q fs/*.pkg -o scripts.pkg
	rm -rf fx fs
}

# The members as xar -x writes them: bsdtar reads XAR.
expand_vs_bsdtar() {
	samples
	for f in *.pkg; do
		b=${f%.pkg}
		run 0 "$PKGFLAT" expand "$f" "$b.x"
		mkdir "$b.ref" && bsdtar -xf "$f" -C "$b.ref" || fail "bsdtar: $f"
		diff -r "$b.ref" "$b.x" || fail "$f: expand and bsdtar disagree"
	done
}

# --full: each Payload and Scripts as bsdtar extracts them, modes, times,
# owners (as root), symlinks and hard links included.
expand_full_vs_bsdtar() {
	samples
	own=--no-owner
	[ "$(id -u)" = 0 ] && own=
	for f in *.pkg; do
		b=${f%.pkg}
		run 0 "$PKGFLAT" expand --full "$f" "$b.f"
		mkdir "$b.ref" && bsdtar -xf "$f" -C "$b.ref"
		(cd "$b.ref" && find . -name Payload -o -name Scripts) >archives
		while read -r arch; do
			[ -d "$b.f/$arch" ] || fail "$f: $arch not extracted"
			mkdir -p "$b.bt/$arch"
			bsdtar -xpf "$b.ref/$arch" -C "$b.bt/$arch" || fail "bsdtar: $arch"
			# bsdtar does not apply the archive's "." to the directory.
			$CMP $own --no-root "$b.bt/$arch" "$b.f/$arch" || fail "$f: $arch differs"
			echo "$f $arch" >>compared
		done <archives
		# Everything else as plain expand writes it.
		(cd "$b.ref" && find . -type f ! -name Payload ! -name Scripts) | while read -r m; do
			cmp "$b.ref/$m" "$b.f/$m" || fail "$f: $m differs"
		done
	done
	n=$(wc -l <compared)
	[ "$n" -ge 8 ] || fail "only $n archives compared"
	# A payload with what trees can hold: hard links, set-id bits, a
	# fifo, a read-only directory, a symlink to a directory.
	mkdir -p tree/bin tree/ro tree/lib && echo hi >tree/bin/a && ln tree/bin/a tree/bin/b
	chmod 4755 tree/bin/a && ln -s ../lib tree/bin/lib && mkfifo tree/fifo
	echo x >tree/ro/f && chmod 0555 tree/ro && touch -d @1500000000 tree/bin/a tree/ro
	bsdtar --format odc -czf Payload -C tree .
	mkdir comp && cp Payload comp/ && bsdtar -xf "$FLAT/Install Joyent Pkgsrc.pkg" -C comp PackageInfo
	run 0 "$PKGFLAT" flatten comp c.pkg
	run 0 "$PKGFLAT" expand --full c.pkg c.f
	mkdir c.bt && bsdtar -xpf Payload -C c.bt
	$CMP $own --no-root c.bt c.f/Payload || fail "payload with links differs"
	[ "$(stat -c %i c.f/Payload/bin/a)" = "$(stat -c %i c.f/Payload/bin/b)" ] || fail "hard link lost"
	chmod -R u+w tree c.bt c.f
}

# expand, then flatten, in both layouts: diff calls the result equivalent
# to the original and verify finds nothing wrong; the plain layout keeps
# every member byte for byte. The --full layout is flattened signed (the
# real packages were signed, three of four), and verifies to our root.
roundtrip() {
	. "$ROOT/tests/cli/signing.sh"
	pki
	samples
	for f in *.pkg; do
		b=${f%.pkg}
		run 0 "$PKGFLAT" expand "$f" "$b.x"
		run 0 "$PKGFLAT" flatten "$b.x" "$b.x.out"
		run 0 "$PKGFLAT" diff "$f" "$b.x.out"
		has "$T/out" "equivalent"
		whole "$b.x.out"
		mkdir "$b.a" "$b.b" && bsdtar -xf "$f" -C "$b.a" && bsdtar -xf "$b.x.out" -C "$b.b"
		diff -r "$b.a" "$b.b" || fail "$f: members changed"
		run 0 "$PKGFLAT" expand --full "$f" "$b.f"
		run 0 "$PKGFLAT" flatten --sign --key "$P/leaf.key" --cert "$P/leaf.pem" \
		    --chain "$P/chain.pem" "$b.f" "$b.f.out"
		run 0 "$PKGFLAT" diff "$f" "$b.f.out"
		has "$T/out" "equivalent"
		check_signed "$b.f.out"
		CA="$P/root.pem" whole "$b.f.out"
		echo "$f" >>signed
	done
	[ "$(wc -l <signed)" -ge 8 ] || fail "only $(wc -l <signed) packages round-tripped"
	# A mistake the round trip must catch: diff and verify are no rubber
	# stamps.
	run 0 "$PKGFLAT" expand --full exif.pkg e.f
	chmod 0600 "$(find e.f -path '*Payload/*' -type f | head -1)"
	run 0 "$PKGFLAT" flatten e.f e.out
	run 1 "$PKGFLAT" diff exif.pkg e.out
	has "$T/out" "changed mode"
	whole e.out
}

# A --full Payload directory edited: a new file, a removed one. The fresh
# Bom and PackageInfo's counts agree with the new payload (verify), and
# diff sees exactly the edit.
edit_full() {
	run 0 "$PKGFLAT" convert -q "$EXIF" -o exif.pkg
	run 0 "$PKGFLAT" expand --full exif.pkg e
	pl=$(find e -type d -name Payload)
	echo new >"$pl/NEWFILE"
	touch -d @1600000000 "$pl/NEWFILE"
	victim=$(cd "$pl" && find . -type f ! -name NEWFILE | sort | head -1)
	rm "$pl/$victim"
	run 0 "$PKGFLAT" flatten e edited.pkg
	whole edited.pkg
	run 1 "$PKGFLAT" diff exif.pkg edited.pkg
	has "$T/out" "added file: /NEWFILE"
	has "$T/out" "removed file: /${victim#./}"
	# And the directories the edit touched: nothing else.
	grep "^  " "$T/out" | grep -v "NEWFILE\|${victim#./}\|changed mtime" && fail "more differences"
	# PackageInfo counts the new payload: bsdtar's entry count.
	mkdir ed && bsdtar -xf edited.pkg -C ed
	comp=$(cd ed && ls -d *.pkg)
	entries=$(bsdtar -tf "ed/$comp/Payload" | wc -l)
	xmllint --xpath 'string(//payload/@numberOfFiles)' "ed/$comp/PackageInfo" >nf
	[ "$(cat nf)" = "$entries" ] || fail "numberOfFiles $(cat nf), payload has $entries"
}

# Grown payloads: the Distribution's pkg-ref sizes (which Installer shows)
# follow the fresh PackageInfo's, for every component archived again, and
# for no other.
edit_sizes() {
	python3 "$ROOT/tests/cli/mkfixture.py" nested fx >/dev/null || fail "mkfixture"
	run 0 "$PKGFLAT" convert -q fx/Suite.mpkg -o nested.pkg
	run 0 "$PKGFLAT" expand --full nested.pkg n
	comps=$(cd n && ls -d *.pkg)
	grown=$(echo "$comps" | head -1)
	kept=$(echo "$comps" | tail -1)
	[ "$grown" != "$kept" ] || fail "one component only"
	head -c 700000 /dev/urandom >"n/$grown/Payload/big.bin"
	# The other one stays a plain Payload file: its size must not move.
	(cd n/"$kept" && rm -r Payload && bsdtar -xOf ../../nested.pkg "$kept/Payload" >Payload) ||
	    fail "bsdtar $kept"
	run 0 "$PKGFLAT" flatten n grown.pkg
	whole grown.pkg
	bsdtar -xOf grown.pkg Distribution >dist.xml || fail "bsdtar Distribution"
	bsdtar -xOf nested.pkg Distribution >old.xml || fail "bsdtar Distribution"
	bsdtar -xOf grown.pkg "$grown/PackageInfo" >pi.xml || fail "bsdtar PackageInfo"
	new=$(xmllint --xpath 'string(//payload/@installKBytes)' pi.xml)
	[ "$new" -ge 684 ] || fail "PackageInfo says $new KB"
	url=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$grown")
	got=$(xmllint --xpath "string(//pkg-ref[normalize-space(.)='#$url']/@installKBytes)" dist.xml)
	[ "$got" = "$new" ] || fail "Distribution says $got KB for $grown, PackageInfo $new"
	url=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$kept")
	q="string(//pkg-ref[normalize-space(.)='#$url']/@installKBytes)"
	[ "$(xmllint --xpath "$q" dist.xml)" = "$(xmllint --xpath "$q" old.xml)" ] ||
	    fail "$kept's size changed"
	rm -rf fx
}

flatten_reproducible() {
	run 0 "$PKGFLAT" expand --full "$FLAT/Installomator-0.5.pkg" i
	run 0 "$PKGFLAT" flatten i one.pkg
	run 0 "$PKGFLAT" flatten i two.pkg
	cmp one.pkg two.pkg || fail "not reproducible"
	SOURCE_DATE_EPOCH=1700000001 run 0 "$PKGFLAT" flatten i three.pkg
	cmp -s one.pkg three.pkg && fail "SOURCE_DATE_EPOCH ignored"
	"$XARCHECK" one.pkg >/dev/null || fail "xarcheck"
}

flatten_signed() {
	. "$ROOT/tests/cli/signing.sh"
	pki
	run 0 "$PKGFLAT" expand "$FLAT/Installomator-0.5.pkg" i
	run 0 "$PKGFLAT" flatten --sign --key "$P/leaf.key" --cert "$P/leaf.pem" \
	    --chain "$P/chain.pem" i s.pkg
	check_signed s.pkg
	CA="$P/root.pem" whole s.pkg
	run 2 "$PKGFLAT" flatten --key "$P/leaf.key" i u.pkg
	run 2 "$PKGFLAT" flatten --min-os 10.9 i u.pkg
	has "$T/err" "--min-os does not apply to flatten"
	[ ! -e u.pkg ] || fail "output after a usage error"
}

# Apple Archive payloads (mkaa.py, an independent writer) extract as
# bsdtar extracts the cpio they were made from, however wrapped; what the
# archive holds that Linux cannot keep is refused by name, and so is
# anything that would write outside DIR.
expand_full_aa() {
	own=--no-owner
	[ "$(id -u)" = 0 ] && own=
	mkdir -p tree/bin tree/ro tree/lib tree/empty && echo hi >tree/bin/a
	chmod 4755 tree/bin/a && ln -s ../lib tree/bin/lib && : >tree/lib/zero
	head -c 300000 /dev/urandom >tree/lib/big && ln tree/lib/big tree/bin/big
	echo x >tree/ro/f && chmod 0555 tree/ro && touch -d @1500000000 tree/bin/a tree/ro
	bsdtar --format odc -czf pl.gz -C tree . || fail "bsdtar -c"
	mkdir ref && bsdtar -xpf pl.gz -C ref || fail "bsdtar -x"
	mkdir comp && cat >comp/PackageInfo <<-EOF
	<?xml version="1.0" encoding="utf-8"?>
	<pkg-info format-version="2" identifier="org.example.aa" version="1" install-location="/" auth="root">
	  <payload numberOfFiles="1" installKBytes="1"/>
	</pkg-info>
	EOF
	for w in none raw zlib lzma; do
		python3 "$ROOT/tests/cli/mkaa.py" pl.gz comp/Payload --wrap $w || fail "mkaa $w"
		run 0 "$PKGFLAT" flatten comp aa-$w.pkg
		run 0 "$PKGFLAT" info aa-$w.pkg
		has "$T/out" "Apple Archive"
		run 0 "$PKGFLAT" expand --full aa-$w.pkg aa-$w
		$CMP $own --no-root ref aa-$w/Payload || fail "$w: extraction differs"
		[ "$(stat -c %i aa-$w/Payload/bin/big)" = "$(stat -c %i aa-$w/Payload/lib/big)" ] ||
		    fail "$w: hard link lost"
		# And flattened again: the same files, now a cpio payload.
		run 0 "$PKGFLAT" flatten aa-$w re-$w.pkg
		run 0 "$PKGFLAT" diff aa-$w.pkg re-$w.pkg
		has "$T/out" "equivalent"
		whole re-$w.pkg
	done
	# An extended attribute: refused, naming the entry and the field.
	python3 "$ROOT/tests/cli/mkaa.py" pl.gz comp/Payload --xat || fail "mkaa --xat"
	run 0 "$PKGFLAT" flatten comp xat.pkg
	third=$(bsdtar -tf pl.gz | sed -n 3p)
	bad_input "xat.pkg(Payload): Apple Archive entry 2" "$PKGFLAT" expand --full xat.pkg xat
	has "$T/err" "$third has extended attributes (XAT)"
	[ ! -e xat ] || fail "DIR after a refusal"
	# Malformed: an unknown field subtype, a stream cut inside an entry.
	python3 "$ROOT/tests/cli/mkaa.py" pl.gz comp/Payload --break-header || fail "mkaa"
	run 0 "$PKGFLAT" flatten comp field.pkg
	bad_input "field.pkg(Payload): Apple Archive entry 2" "$PKGFLAT" expand --full field.pkg field
	has "$T/err" "unknown field subtype '?'"
	python3 "$ROOT/tests/cli/mkaa.py" pl.gz aa || fail "mkaa"
	head -c 1000 aa >comp/Payload
	run 0 "$PKGFLAT" flatten comp cut.pkg
	bad_input "the stream ends inside" "$PKGFLAT" expand --full cut.pkg cut
	[ ! -e field ] && [ ! -e cut ] || fail "DIR after an error"
	# LZFSE chunks: no decoder here, so refused by name.
	python3 "$ROOT/tests/cli/mkaa.py" pl.gz comp/Payload --wrap lzfse || fail "mkaa lzfse"
	run 0 "$PKGFLAT" flatten comp lzfse.pkg
	run 3 "$PKGFLAT" expand --full lzfse.pkg lzfse
	has "$T/err" "lzfse.pkg(Payload): an Apple Archive in LZFSE chunks"
	[ ! -e lzfse ] || fail "DIR after a refusal"
	# Hostile paths, as for cpio below.
	mkdir outside
	for spec in "up:f:../escape:x" "link:l:./a:$T/work.expand_full_aa/outside f:./a/x:x"; do
		name=${spec%%:*}
		ents=${spec#*:}
		# shellcheck disable=SC2086
		$CPIO h.gz --gz d:. $ents || fail "mkcpio $name"
		python3 "$ROOT/tests/cli/mkaa.py" h.gz comp/Payload || fail "mkaa $name"
		run 0 "$PKGFLAT" flatten comp "$name.pkg"
		bad_input "Payload" "$PKGFLAT" expand --full "$name.pkg" "$name.out"
		[ ! -e "$name.out" ] || fail "$name: DIR left behind"
	done
	only outside
	[ ! -e ../escape ] || fail "wrote outside"
	chmod -R u+w tree ref aa-*
}

# Payloads that try to write outside DIR or through a symlink: refused,
# nothing written anywhere, no DIR.
expand_hostile() {
	mkdir outside comp
	bsdtar -xf "$FLAT/Install Joyent Pkgsrc.pkg" -C comp PackageInfo
	for spec in "up:f:../escape:x" "link:l:./a:$T/work.expand_hostile/outside f:./a/x:x" \
	    "abs:l:./b:/tmp f:./b/pkgflat-expand-test:x" "deep:f:./d/../../x:x"; do
		name=${spec%%:*}
		ents=${spec#*:}
		# shellcheck disable=SC2086
		$CPIO comp/Payload --gz d:. $ents || fail "mkcpio $name"
		run 0 "$PKGFLAT" flatten comp "$name.pkg"
		bad_input "Payload" "$PKGFLAT" expand --full "$name.pkg" "$name.out"
		[ ! -e "$name.out" ] || fail "$name: DIR left behind"
	done
	only outside
	[ ! -e ../escape ] && [ ! -e /tmp/pkgflat-expand-test ] || fail "wrote outside"
	only . abs.pkg comp deep.pkg link.pkg outside up.pkg
	# Plain expand keeps the payload archived: nothing to refuse.
	run 0 "$PKGFLAT" expand link.pkg plain
}

expand_bad() {
	cp "$FLAT/Installomator-0.5.pkg" i.pkg
	mkdir there
	run 2 "$PKGFLAT" expand i.pkg there
	has "$T/err" "already exists"
	only there
	run 2 "$PKGFLAT" expand "$TD/flat" x
	bad_input "not" "$PKGFLAT" expand "$EXIF/Contents/Info.plist" y
	[ ! -e y ] || fail "DIR after an error"
	head -c 3000 i.pkg >cut.pkg
	run 3 "$PKGFLAT" expand cut.pkg z
	[ ! -e z ] || fail "DIR after an error"
	only . cut.pkg i.pkg there
	run 2 "$PKGFLAT" expand i.pkg
	run 2 "$PKGFLAT" expand --bogus i.pkg q
}

flatten_bad() {
	run 0 "$PKGFLAT" expand --full "$FLAT/Installomator-0.5.pkg" good
	before=$(tree_sum good)
	cp -a good nopi && rm nopi/Installomator.pkg/PackageInfo
	bad_input "nopi/Installomator.pkg/PackageInfo: missing" "$PKGFLAT" flatten nopi o.pkg
	cp -a good miss && sed -i 's/#Installomator.pkg/#Gone.pkg/' miss/Distribution
	bad_input 'miss/Distribution: pkg-ref "com.scriptingosx.Installomator": component Gone.pkg is missing' \
	    "$PKGFLAT" flatten miss o.pkg
	cp -a good loop && ln -s l1 loop/l2 && ln -s l2 loop/l1
	bad_input "symlink loop" "$PKGFLAT" flatten loop o.pkg
	cp -a good out && ln -s ../../../etc/passwd out/pw
	bad_input "outside" "$PKGFLAT" flatten out o.pkg
	mkdir empty
	bad_input "no Distribution and no PackageInfo" "$PKGFLAT" flatten empty o.pkg
	cp -a good badxml && echo '<nope/>' >badxml/Installomator.pkg/PackageInfo
	bad_input "pkg-info" "$PKGFLAT" flatten badxml o.pkg
	run 2 "$PKGFLAT" flatten good good/inside.pkg
	has "$T/err" "inside the input"
	[ ! -e o.pkg ] && [ ! -e good/inside.pkg ] || fail "output after an error"
	[ "$before" = "$(tree_sum good)" ] || fail "input changed"
	# A symlink loop inside a --full Payload is data, archived as links.
	ln -s x good/Installomator.pkg/Payload/y && ln -s y good/Installomator.pkg/Payload/x
	run 0 "$PKGFLAT" flatten good ok.pkg
	run 0 "$PKGFLAT" ls --payload ok.pkg
	has "$T/out" "./x -> y"
}

# pkgutil's spelling --payload-files lists the payload as bsdtar does.
ls_payload_files() {
	run 0 "$PKGFLAT" convert -q "$EXIF" -o exif.pkg
	mkdir x && (cd x && bsdtar -xf ../exif.pkg '*Payload') || fail "bsdtar"
	run 0 "$PKGFLAT" ls --payload-files --json exif.pkg
	cp "$T/out" ls.json
	bsdtar -tvf x/*/Payload --numeric-owner >bsdtar.txt || fail "bsdtar -t"
	python3 "$ROOT/tests/cli/cmp_bsdtar.py" ls.json bsdtar.txt || fail "listing"
	run 0 "$PKGFLAT" ls --payload-files --sha256 exif.pkg
	cp "$T/out" a.txt
	run 0 "$PKGFLAT" ls --payload --sha256 exif.pkg
	cmp a.txt "$T/out" || fail "--payload-files and --payload differ"
}

t ls_payload_files ls_payload_files
t expand_vs_bsdtar expand_vs_bsdtar
t expand_full_vs_bsdtar expand_full_vs_bsdtar
t roundtrip roundtrip
t edit_full edit_full
t edit_sizes edit_sizes
t flatten_reproducible flatten_reproducible
t flatten_signed flatten_signed
t expand_hostile expand_hostile
t expand_full_aa expand_full_aa
t expand_bad expand_bad
t flatten_bad flatten_bad
