# pkgflat diff and convert --check: legacy packages against their flat
# conversions, and conversions changed by independent tools (bsdtar, sed).
. tests/cli/lib.sh

LEG="$TD/legacy"
EXIF="$LEG/ExifTool-9.47.pkg"
MK="python3 $ROOT/tests/cli/mkfixture.py"

# Twins are made from a conversion that keeps every owner, so that each
# owner difference is the twin's own (ownership policies: test_legacy.sh).
conv() { # conv IN OUT [convert options]
	in=$1 out=$2; shift 2
	"$PKGFLAT" convert -q --ownership preserve "$@" "$in" -o "$out" ||
		fail "convert $in failed"
}

# With convert's default ownership policy.
convd() { # convd IN OUT [convert options]
	in=$1 out=$2; shift 2
	"$PKGFLAT" convert -q "$@" "$in" -o "$out" || fail "convert $in failed"
}

# The difference lines of the last run (without their two-space indent),
# but for the one note on owners the ownership policy changed.
lines() {
	grep '^  ' "$T/out" | sed 's/^  //' |
	    grep -v "^note: owners changed by the conversion's ownership policy"
}

# want LINE...: the difference lines are exactly these, in this order.
want() {
	: >"$T/want"
	[ $# -eq 0 ] || printf '%s\n' "$@" >"$T/want"
	lines >"$T/got"
	diff -u "$T/want" "$T/got" || fail "other differences than expected"
}

# Every real legacy sample against its own conversion: equivalent. Quirks
# inside a sample are notes, and only the known ones appear.
corpus_equivalent() {
	for z in "$EXIF" "$LEG"/zips/*.zip; do
		rm -f o.pkg
		convd "$z" o.pkg
		run 0 "$PKGFLAT" diff "$z" o.pkg
		has "$T/out" "equivalent: the packages install the same things"
		hasnt "$T/out" "difference"
		# The builder's own uid became root: one note, not a difference.
		case $z in
		*ExifTool*)
			has "$T/out" "note: owners changed by the conversion's ownership policy, 501:20 -> 0:0 (ownership recommended," ;;
		esac
		case $z in
		*First_Boot*)
			want "within A: BOM and payload disagree on gid 1899195968 -> 28224: /Library/LaunchAgents/com.company.LoginLog.plist" ;;
		*Reset_User*)
			want "within A: BOM and payload disagree on uid 222214203 -> 47163: /private/tmp" ;;
		*Keychain_Minder*)
			want "within A: stored 2 times in the payload: /Applications/Utilities/Keychain Minder/._Keychain Minder Read Me.rtf" \
			    "within B (as in A): stored 2 times in the payload: /Applications/Utilities/Keychain Minder/._Keychain Minder Read Me.rtf" ;;
		*)
			want ;;
		esac
	done
}

# The CPython-style metapackage (ustar and odc payloads, hard links,
# symlinks, per-component scripts), and each synthetic legacy shape.
fixtures_equivalent() {
	"$ROOT/scripts/make-cpython-mpkg" --format ustar u >/dev/null &&
	"$ROOT/scripts/make-cpython-mpkg" --format odc o >/dev/null || fail "generator failed"
	for f in u o; do
		convd $f/Python.mpkg $f.pkg
		run 0 "$PKGFLAT" diff $f/Python.mpkg $f.pkg
		want
		[ "$(grep -c ', equivalent$' "$T/out")" -ge 7 ] || fail "not 7 components"
	done
	for k in nested siblings dist checks scripts mpkg-scripts; do
		rm -rf fx fx.pkg
		$MK $k fx >/dev/null || fail "mkfixture $k"
		in=$(ls -d fx/*.*pkg | head -1)
		convd "$in" fx.pkg
		run 0 "$PKGFLAT" diff "$in" fx.pkg
		want
	done
}

# The same conversion twice as a zip, as a directory, and expanded with
# bsdtar: all equivalent, and --json says so.
forms_equivalent() {
	conv "$EXIF" o.pkg
	mkdir exp && bsdtar -xf o.pkg -C exp || fail "bsdtar cannot expand"
	run 0 "$PKGFLAT" diff "$EXIF" exp
	run 0 "$PKGFLAT" diff o.pkg exp
	run 0 "$PKGFLAT" diff exp "$EXIF"
	run 0 "$PKGFLAT" diff --json "$EXIF" o.pkg
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["equivalent"] is True and d["differences"] == 0, d
assert d["components"][0]["entries_a"] == 200, d
' "$T/out" || fail "JSON"
	run 0 "$PKGFLAT" diff -q "$EXIF" o.pkg
	[ ! -s "$T/out" ] || fail "--quiet printed"
}

# Expand a conversion of ExifTool with bsdtar and describe its payload as
# an mtree spec; remake writes the payload back from the (edited) spec,
# with file contents from the extracted tree.
expand_exif() {
	conv "$EXIF" o.pkg
	mkdir exp tree && bsdtar -xf o.pkg -C exp &&
	bsdtar -xpf exp/ExifTool-9.47.pkg/Payload --numeric-owner -C tree &&
	bsdtar -cf spec.mtree --format mtree \
	    --options 'mtree:!all,type,mode,uid,gid,time,size,link' \
	    @exp/ExifTool-9.47.pkg/Payload || fail "bsdtar"
}
remake() {
	(cd tree && bsdtar -cf - --format cpio @../spec.mtree) | gzip -n \
	    >exp/ExifTool-9.47.pkg/Payload || fail "bsdtar cannot write the payload"
}
edit_spec() { # edit_spec SED-EXPR
	sed -i "$1" spec.mtree || fail "sed"
}

X=/usr/bin/exiftool
changed_mode() {
	expand_exif
	remake
	run 0 "$PKGFLAT" diff "$EXIF" exp # the round trip alone changes nothing
	edit_spec "s|^\(\./usr/bin/exiftool .*\)mode=775|\1mode=700|"
	remake
	run 1 "$PKGFLAT" diff "$EXIF" exp
	want "changed mode 0775 -> 0700: $X" \
	    "within B: BOM and payload disagree on mode 0775 -> 0700: $X"
	has "$T/out" "2 differences: the packages install different things"
	run 0 "$PKGFLAT" diff --ignore mode "$EXIF" exp
	run 0 "$PKGFLAT" diff --only metadata "$EXIF" exp
}

changed_owner() {
	expand_exif
	edit_spec "s|^\(\./usr/bin/exiftool .*\)uid=0|\1uid=501|"
	remake
	run 1 "$PKGFLAT" diff "$EXIF" exp
	want "changed uid 0 -> 501: $X" \
	    "within B: BOM and payload disagree on uid 0 -> 501: $X"
	run 0 "$PKGFLAT" diff --ignore owner "$EXIF" exp
}

changed_content() {
	expand_exif
	old=$(sha256sum <tree/usr/bin/exiftool | cut -d' ' -f1)
	# Same size, one byte different: only the digest can tell.
	printf 'X' | dd of=tree/usr/bin/exiftool bs=1 seek=100 conv=notrunc 2>/dev/null
	new=$(sha256sum <tree/usr/bin/exiftool | cut -d' ' -f1)
	[ "$old" != "$new" ] || fail "file not changed"
	remake
	run 1 "$PKGFLAT" diff "$EXIF" exp
	want "changed content $old -> $new: $X"
	run 0 "$PKGFLAT" diff --ignore content "$EXIF" exp
}

removed_file() {
	expand_exif
	p=usr/lib/perl5/site_perl/Image/ExifTool/README
	grep -q "^\./$p " spec.mtree || p=$(grep ' type=file' spec.mtree | tail -1 | cut -d' ' -f1 | cut -c3-)
	edit_spec "\|^\./$p |d"
	remake
	run 1 "$PKGFLAT" diff "$EXIF" exp
	want "removed file: /$p" "within B: file only in the BOM: /$p"
}

changed_install_location() {
	expand_exif
	sed -i 's|install-location="/"|install-location="/opt"|' \
	    exp/ExifTool-9.47.pkg/PackageInfo || fail "sed"
	grep -q 'install-location="/opt"' exp/ExifTool-9.47.pkg/PackageInfo || fail "not edited"
	run 1 "$PKGFLAT" diff "$EXIF" exp
	want "changed install-location / -> /opt"
}

dropped_script() {
	expand_exif
	mkdir sc && bsdtar -xpf exp/ExifTool-9.47.pkg/Scripts -C sc &&
	rm sc/Contents/Resources/postflight &&
	(cd sc && bsdtar -cf - --format cpio .) | gzip -n >exp/ExifTool-9.47.pkg/Scripts ||
	    fail "bsdtar"
	run 1 "$PKGFLAT" diff "$EXIF" exp
	sum=$(sha256sum <"$EXIF/Contents/Resources/postflight" | cut -d' ' -f1)
	want "removed script: postflight"
	run 1 "$PKGFLAT" diff --json "$EXIF" exp
	has "$T/out" "\"a\": \"$sum\""
	run 0 "$PKGFLAT" diff --ignore scripts "$EXIF" exp
}

# A symlink target and a hard link, in the CPython framework payload.
cpython_links() {
	"$ROOT/scripts/make-cpython-mpkg" --format odc o >/dev/null || fail "generator"
	conv o/Python.mpkg o.pkg
	mkdir exp && bsdtar -xf o.pkg -C exp || fail "bsdtar"
	c=$(ls -d exp/*Framework*.pkg | grep -v TFramework | head -1)
	bsdtar -cf spec.mtree --format mtree \
	    --options 'mtree:!all,type,mode,uid,gid,time,size,link' @"$c/Payload" &&
	mkdir tree && bsdtar -xpf "$c/Payload" --numeric-owner -C tree || fail "bsdtar"
	line=$(grep ' type=link ' spec.mtree | head -1)
	lpath=${line%% *}
	sed -i "s|^\($lpath .*link=\)[^ ]*|\1elsewhere|" spec.mtree
	(cd tree && bsdtar -cf - --format cpio @../spec.mtree) | gzip -n >"$c/Payload"
	run 1 "$PKGFLAT" diff --max 0 --only payload o/Python.mpkg exp
	grep -q "changed link .* -> elsewhere: /Library/Frameworks/Python.framework/${lpath#./}\$" "$T/out" ||
	    fail "link change not named"
	lines | grep -v 'changed link\|within B' && fail "unexpected differences"
	# Break the hard-linked pair python3.13 / python3.13-intel64 apart:
	# two files with the same bytes, no longer one.
	(cd tree && bsdtar -cf ../spec.mtree --format mtree \
	    --options 'mtree:!all,type,mode,uid,gid,time,size,link' @"../$c/Payload") || fail "bsdtar"
	hl=$(cd tree && find . -type f -links +1 | sort | head -1)
	[ -n "$hl" ] || fail "no hard link in the framework payload"
	# Its partner (same inode); the pair's first path leads the group.
	ino=$(stat -c %i "tree/$hl")
	pair=$(cd tree && find . -inum "$ino" | sort)
	[ "$(echo "$pair" | wc -l)" -eq 2 ] || fail "not a pair: $pair"
	first=$(echo "$pair" | head -1) second=$(echo "$pair" | tail -1)
	cp -p "tree/$hl" x && rm "tree/$hl" && mv x "tree/$hl"
	(cd tree && bsdtar -cf - --format cpio @../spec.mtree) | gzip -n >"$c/Payload"
	run 1 "$PKGFLAT" diff --max 0 --only payload o/Python.mpkg exp
	R=/Library/Frameworks/Python.framework
	[ "$(grep -c 'changed hard-link group' "$T/out")" -eq 1 ] || fail "not one hard-link change"
	has "$T/out" "changed hard-link group (first member $R/${first#./} -> $R/${second#./}): $R/${second#./}"
	lines | grep -v 'changed hard-link group\|changed link\|within B' && fail "unexpected differences"
	:
}

# A package whose own BOM disagrees with its payload, against itself.
within_package() {
	z="$LEG/zips/First_Boot_Package_Install.zip"
	run 0 "$PKGFLAT" diff "$z" "$z"
	want "within A: BOM and payload disagree on gid 1899195968 -> 28224: /Library/LaunchAgents/com.company.LoginLog.plist" \
	    "within B (as in A): BOM and payload disagree on gid 1899195968 -> 28224: /Library/LaunchAgents/com.company.LoginLog.plist"
	run 0 "$PKGFLAT" diff --ignore bom "$z" "$z"
	want
	# As B, against a clean conversion as A: B's own disagreement counts.
	conv "$z" o.pkg
	run 1 "$PKGFLAT" diff o.pkg "$z"
	want "within B: BOM and payload disagree on gid 1899195968 -> 28224: /Library/LaunchAgents/com.company.LoginLog.plist"
}

renamed_component() {
	conv "$EXIF" o.pkg --identifier org.example.exif
	run 1 "$PKGFLAT" diff "$EXIF" o.pkg
	# The choice that installs it is renamed with it.
	want "removed component: com.philharvey.image-exiftool" \
	    "added component: org.example.exif" \
	    'changed choices-outline: "com.philharvey.image-exiftool" -> "org.example.exif"' \
	    'removed choice: "com.philharvey.image-exiftool"' \
	    'added choice: "org.example.exif"'
	run 0 "$PKGFLAT" diff --map com.philharvey.image-exiftool=org.example.exif "$EXIF" o.pkg
	has "$T/out" "component com.philharvey.image-exiftool = org.example.exif: 200 / 200 entries, equivalent"
}

max_and_json() {
	expand_exif
	edit_spec 's|mode=644|mode=600|'
	remake
	run 1 "$PKGFLAT" diff --max 3 "$EXIF" exp
	[ "$(lines | wc -l)" -eq 4 ] || fail "--max 3 did not cap"
	has "$T/out" "... and "
	run 1 "$PKGFLAT" diff --json "$EXIF" exp
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
modes = [x for x in d["list"] if x["category"] == "payload" and x["attribute"] == "mode"]
assert not d["equivalent"] and len(modes) > 3, len(modes)
assert all(x["a"] == "0644" and x["b"] == "0600" for x in modes)
assert d["differences"] == len(d["list"])
' "$T/out" || fail "JSON"
}

usage_errors() {
	run 2 "$PKGFLAT" diff "$EXIF"
	run 2 "$PKGFLAT" diff --ignore colour "$EXIF" "$EXIF"
	has "$T/err" "unknown item 'colour'"
	run 2 "$PKGFLAT" diff --only everything "$EXIF" "$EXIF"
	run 2 "$PKGFLAT" diff --map nonsense "$EXIF" "$EXIF"
	run 0 "$PKGFLAT" diff --help
	has "$T/out" "exit status: 0 equivalent, 1 different"
}

bad_inputs() {
	bad_input "no-such.pkg" "$PKGFLAT" diff "$EXIF" no-such.pkg
	echo "just text" >notes.txt
	bad_input "notes.txt" "$PKGFLAT" diff notes.txt "$EXIF"
	# A payload cut short: the error names the payload.
	cp -a "$EXIF" cut.pkg
	head -c 20000 "$EXIF/Contents/Archive.pax.gz" >cut.pkg/Contents/Archive.pax.gz
	before=$(tree_sum cut.pkg)
	bad_input "Archive.pax.gz" "$PKGFLAT" diff "$EXIF" cut.pkg
	[ "$(tree_sum cut.pkg)" = "$before" ] || fail "input changed"
	# A flat package cut short.
	conv "$EXIF" o.pkg
	head -c 3000 o.pkg >short.pkg
	bad_input "short.pkg" "$PKGFLAT" diff "$EXIF" short.pkg
}

# convert --check: passes for a faithful conversion, and a conversion that
# does not install the same (made so by a test-only fault) leaves nothing.
convert_check() {
	run 0 "$PKGFLAT" convert --check "$EXIF" -o ok.pkg
	[ -s ok.pkg ] || fail "no output"
	run 0 "$PKGFLAT" diff "$EXIF" ok.pkg
	run 0 "$PKGFLAT" convert --check "$LEG/zips/First_Boot_Package_Install.zip" -o fb.pkg
	run 0 "$PKGFLAT" convert --check --identifier org.example.x "$EXIF" -o id.pkg
	run 0 "$PKGFLAT" convert --check --ownership recommended "$EXIF" -o own.pkg
	PKGFLAT_TEST_FAULT=check-tamper run 1 "$PKGFLAT" convert --check "$EXIF" -o bad.pkg
	has "$T/err" "--check: the output would not install what the input does"
	[ ! -e bad.pkg ] || fail "output left behind"
	[ -z "$(ls -A . | grep -v '^ok.pkg$\|^fb.pkg$\|^id.pkg$\|^own.pkg$')" ] || fail "temporary files left: $(ls -A)"
}

t corpus_equivalent corpus_equivalent
t fixtures_equivalent fixtures_equivalent
t forms_equivalent forms_equivalent
t changed_mode changed_mode
t changed_owner changed_owner
t changed_content changed_content
t removed_file removed_file
t changed_install_location changed_install_location
t dropped_script dropped_script
t cpython_links cpython_links
t within_package within_package
t renamed_component renamed_component
t max_and_json max_and_json
t usage_errors usage_errors
t bad_inputs bad_inputs
t convert_check convert_check
