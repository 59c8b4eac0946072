# build: flat components from a directory tree (like pkgbuild --root) and
# products from components (like productbuild), checked against a legacy
# bundle made from the same tree and converted, bsdtar, xmllint, verify.
. tests/cli/lib.sh

CMP="python3 $ROOT/tests/cli/cmp_trees.py"
XARCHECK="$ROOT/${BUILD:-build}/xarcheck"
export SOURCE_DATE_EPOCH=1700000000

# A tree with a bit of everything; as root, owners a packager's Mac gives.
mktree() {
	mkdir -p tree/usr/local/bin tree/usr/local/share/doc tree/Library/Empty
	printf '#!/bin/sh\necho tool\n' >tree/usr/local/bin/tool
	chmod 755 tree/usr/local/bin/tool
	ln tree/usr/local/bin/tool tree/usr/local/bin/tool2
	ln -s tool tree/usr/local/bin/t
	head -c 100000 /dev/urandom >tree/usr/local/share/doc/blob
	echo doc >tree/usr/local/share/doc/README
	chmod 4750 tree/usr/local/share/doc/README
	if [ "$(id -u)" = 0 ]; then
		chown 501:20 tree/usr/local/share/doc/README
		chown 0:80 tree/usr/local/share
	fi
	touch -d @1400000000 tree/usr/local/share/doc/README tree/usr/local/share/doc tree
}

# The same tree as a legacy bundle: Info.plist and an odc payload that
# bsdtar writes.
mklegacy() {
	mkdir -p L.pkg/Contents
	bsdtar --format odc -czf L.pkg/Contents/Archive.pax.gz -C tree . || fail "bsdtar"
	python3 - <<'PY' || fail "plist"
import plistlib
plistlib.dump({"CFBundleIdentifier": "org.example.tool",
               "CFBundleShortVersionString": "1.2",
               "IFPkgFlagDefaultLocation": "/",
               "IFPkgFlagAuthorizationAction": "RootAuthorization",
               "IFPkgFlagRestartAction": "NoRestart",
               "IFPkgFlagRelocatable": False,
               "IFPkgFlagOverwritePermissions": True},
              open("L.pkg/Contents/Info.plist", "wb"))
PY
}

# A component built from the tree installs what the converted bundle of
# the same tree does, and verifies.
build_vs_legacy() {
	mktree
	mklegacy
	run 0 "$PKGFLAT" convert -q L.pkg -o conv.pkg
	run 0 "$PKGFLAT" build --root tree --identifier org.example.tool --version 1.2 built.pkg
	whole built.pkg
	run 0 "$PKGFLAT" diff conv.pkg built.pkg
	has "$T/out" "equivalent"
	run 0 "$PKGFLAT" diff L.pkg built.pkg
	has "$T/out" "equivalent"
	# The other way round too, and a different tree is not equivalent.
	run 0 "$PKGFLAT" diff built.pkg conv.pkg
	echo changed >>tree/usr/local/share/doc/blob
	touch -d @1400000000 tree/usr/local/share/doc/blob
	run 0 "$PKGFLAT" build --root tree --identifier org.example.tool --version 1.2 other.pkg
	run 1 "$PKGFLAT" diff conv.pkg other.pkg
	has "$T/out" "changed size 100000 -> 100008: /usr/local/share/doc/blob"
	# The payload as bsdtar extracts it is the tree, owners kept with
	# --ownership preserve.
	run 0 "$PKGFLAT" build --ownership preserve --root tree --identifier org.example.tool \
	    --version 1.2 kept.pkg
	mkdir k x && bsdtar -xf kept.pkg -C k && bsdtar -xpf k/Payload -C x || fail "bsdtar"
	$CMP --no-root tree x || fail "payload is not the tree"
	bsdtar -tvf k/Payload | head -1 | grep -q " \.$" || fail "payload does not start with ."
	xmllint --xpath 'string(/pkg-info/@identifier)' k/PackageInfo >id
	[ "$(cat id)" = org.example.tool ] || fail "identifier $(cat id)"
	xmllint --xpath 'string(//payload/@numberOfFiles)' k/PackageInfo >nf
	[ "$(cat nf)" = "$(bsdtar -tf k/Payload | wc -l)" ] || fail "numberOfFiles"
	"$PKGFLAT" ls k/Bom | grep -q "./usr/local/bin/t -> tool" || fail "Bom lacks the symlink"
}

build_scripts() {
	mktree
	mkdir scripts
	printf '#!/bin/sh\n. "$(dirname "$0")/helper"\n' >scripts/postinstall
	printf 'echo helper\n' >scripts/helper
	chmod 755 scripts/postinstall
	run 0 "$PKGFLAT" build --root tree --scripts scripts --identifier org.example.s \
	    --version 1 --install-location /opt/x s.pkg
	whole s.pkg
	mkdir s && bsdtar -xf s.pkg -C s
	xmllint --xpath 'string(//scripts/postinstall/@file)' s/PackageInfo >pf
	[ "$(cat pf)" = ./postinstall ] || fail "postinstall not named: $(cat pf)"
	xmllint --xpath 'count(//scripts/preinstall)' s/PackageInfo >pre
	[ "$(cat pre)" = 0 ] || fail "a preinstall that is not there"
	xmllint --xpath 'string(/pkg-info/@install-location)' s/PackageInfo >loc
	[ "$(cat loc)" = /opt/x ] || fail "install-location $(cat loc)"
	mkdir sx && bsdtar -xpf s/Scripts -C sx
	$CMP --no-owner --no-root scripts sx || fail "scripts differ"
	run 0 "$PKGFLAT" ls --scripts s.pkg
	has "$T/out" "postinstall"
	has "$T/out" "helper"
	run 0 "$PKGFLAT" info s.pkg
	has "$T/out" "/opt/x"
}

# Products: synthesized from components, and from a Distribution found on
# the package path; both verify, install the same, and are reproducible.
build_product() {
	mktree
	run 0 "$PKGFLAT" build --root tree --identifier org.example.a --version 1 a.pkg
	mkdir t2 && echo b >t2/b && touch -d @1400000000 t2/b t2
	mkdir comps
	run 0 "$PKGFLAT" build --root t2 --identifier org.example.b --version 2 \
	    "comps/B Part.pkg"
	run 0 "$PKGFLAT" build --package a.pkg --component "comps/B Part.pkg" --title "Tool" p.pkg
	whole p.pkg
	run 0 "$PKGFLAT" info p.pkg
	has "$T/out" "org.example.a"
	has "$T/out" "org.example.b"
	mkdir px && bsdtar -xf p.pkg -C px
	[ -f "px/B Part.pkg/Payload" ] && [ -f px/a.pkg/Bom ] || fail "components not inside"
	xmllint --xpath 'count(//choices-outline//line)' px/Distribution >n
	[ "$(cat n)" = 3 ] || fail "outline lines $(cat n)"
	xmllint --xpath 'string(//title)' px/Distribution >title
	[ "$(cat title)" = Tool ] || fail "title"
	# The component inside is the component built: diff says so.
	run 0 "$PKGFLAT" build --package a.pkg pa.pkg
	run 0 "$PKGFLAT" diff a.pkg pa.pkg
	has "$T/out" "equivalent"
	run 1 "$PKGFLAT" diff a.pkg p.pkg
	has "$T/out" "added component: org.example.b"
	# --synthesize writes the Distribution alone.
	run 0 "$PKGFLAT" build --synthesize --package a.pkg --package "comps/B Part.pkg" \
	    --title Tool D.xml
	xmllint --noout D.xml || fail "not XML"
	cmp D.xml px/Distribution || fail "synthesized Distribution differs"
	mv a.pkg comps/
	run 0 "$PKGFLAT" build --distribution D.xml --package-path comps q.pkg
	whole q.pkg
	cmp p.pkg q.pkg || fail "the same Distribution and components, other bytes"
	run 0 "$PKGFLAT" build --distribution D.xml --package-path comps r.pkg
	cmp q.pkg r.pkg || fail "not reproducible"
}

# --resources DIR, as productbuild --resources: DIR's files under
# Resources/ (bsdtar's listing and bytes), where the Distribution finds its
# background and license; symlinks out of DIR refused, as flatten does.
build_resources() {
	mktree
	run 0 "$PKGFLAT" build --root tree --identifier org.example.a --version 1 a.pkg
	mkdir -p res/en.lproj
	head -c 5000 /dev/urandom >res/background.png
	echo "license text" >res/License.txt
	echo "{\\rtf1 readme}" >res/en.lproj/ReadMe.rtf
	ln -s License.txt res/Licence.txt
	cat >D.xml <<-EOF
	<?xml version="1.0" encoding="utf-8"?>
	<installer-gui-script minSpecVersion="2">
	  <background file="background.png" alignment="bottomleft"/>
	  <license file="License.txt"/>
	  <readme file="ReadMe.rtf"/>
	  <pkg-ref id="org.example.a" version="1" onConclusion="none">#a.pkg</pkg-ref>
	  <choices-outline><line choice="a"/></choices-outline>
	  <choice id="a" visible="false"><pkg-ref id="org.example.a"/></choice>
	</installer-gui-script>
	EOF
	run 0 "$PKGFLAT" build --distribution D.xml --resources res r.pkg
	whole r.pkg
	bsdtar -tf r.pkg | grep '^Resources' | LC_ALL=C sort >got || fail "bsdtar -t"
	printf '%s\n' Resources Resources/Licence.txt Resources/License.txt \
	    Resources/background.png Resources/en.lproj Resources/en.lproj/ReadMe.rtf >want
	diff -u want got || fail "Resources listing"
	for f in background.png License.txt Licence.txt en.lproj/ReadMe.rtf; do
		bsdtar -xOf r.pkg "Resources/$f" >one || fail "bsdtar -x $f"
		cmp one "res/$f" || fail "Resources/$f differs"
	done
	run 0 "$PKGFLAT" info r.pkg
	has "$T/out" "License.txt"
	# The synthesizing form takes it too.
	run 0 "$PKGFLAT" build --package a.pkg --resources res s.pkg
	bsdtar -tf s.pkg | grep -qx Resources/background.png || fail "no Resources in s.pkg"
	# Symlinks out of DIR, or to a directory, and DIR that is no
	# directory: refused, no output.
	cp -a res out && ln -s /etc/passwd out/pw
	bad_input "out/pw: symlink to an absolute path" "$PKGFLAT" build --distribution D.xml \
	    --resources out o.pkg
	cp -a res up && ln -s ../D.xml up/d
	bad_input "outside" "$PKGFLAT" build --distribution D.xml --resources up o.pkg
	cp -a res dl && ln -s en.lproj dl/de.lproj
	bad_input "a symlink to a directory" "$PKGFLAT" build --distribution D.xml --resources dl o.pkg
	bad_input "nope" "$PKGFLAT" build --distribution D.xml --resources nope o.pkg
	run 2 "$PKGFLAT" build --distribution D.xml --resources D.xml o.pkg
	has "$T/err" "not a directory"
	run 2 "$PKGFLAT" build --root tree --identifier a --version 1 --resources res o.pkg
	has "$T/err" "--resources goes with a product"
	run 2 "$PKGFLAT" build --distribution D.xml --resources res res/o.pkg
	has "$T/err" "inside the input"
	[ ! -e o.pkg ] && [ ! -e res/o.pkg ] || fail "output after an error"
}

build_reproducible() {
	mktree
	run 0 "$PKGFLAT" build --root tree --identifier org.example.a --version 1 one.pkg
	run 0 "$PKGFLAT" build --root tree --identifier org.example.a --version 1 two.pkg
	cmp one.pkg two.pkg || fail "not reproducible"
	"$XARCHECK" one.pkg >/dev/null || fail "xarcheck"
	SOURCE_DATE_EPOCH=1700000001 run 0 "$PKGFLAT" build --root tree \
	    --identifier org.example.a --version 1 three.pkg
	cmp -s one.pkg three.pkg && fail "SOURCE_DATE_EPOCH ignored"
	true
}

build_signed() {
	. "$ROOT/tests/cli/signing.sh"
	pki
	mktree
	run 0 "$PKGFLAT" build --root tree --identifier org.example.a --version 1 \
	    --sign --key "$P/leaf.key" --cert "$P/leaf.pem" --chain "$P/chain.pem" c.pkg
	check_signed c.pkg
	CA="$P/root.pem" whole c.pkg
	rm -rf parts ex
	PW=test-pass run 0 "$PKGFLAT" build --package c.pkg --sign --p12 "$P/leaf.p12" \
	    --pass env:PW p.pkg
	check_signed p.pkg
	CA="$P/root.pem" whole p.pkg
}

build_bad() {
	mktree
	before=$(tree_sum tree)
	run 0 "$PKGFLAT" build --root tree --identifier org.example.a --version 1 a.pkg
	printf '<?xml version="1.0"?>\n<installer-gui-script minSpecVersion="2">\n<pkg-ref id="x">#missing.pkg</pkg-ref>\n<choices-outline><line choice="c"/></choices-outline>\n<choice id="c"><pkg-ref id="x"/></choice>\n</installer-gui-script>\n' >D.xml
	bad_input 'D.xml: pkg-ref "x": component missing.pkg is missing' \
	    "$PKGFLAT" build --distribution D.xml --package-path . out.pkg
	echo '<not-a-distribution/>' >E.xml
	bad_input "E.xml: not XML with an <installer-gui-script>" \
	    "$PKGFLAT" build --distribution E.xml out.pkg
	bad_input "D.xml: offset 0: not a flat package" "$PKGFLAT" build --package D.xml out.pkg
	run 0 "$PKGFLAT" build --package a.pkg p.pkg
	bad_input "not a component package: no PackageInfo" "$PKGFLAT" build --package p.pkg out.pkg
	run 2 "$PKGFLAT" build --package a.pkg --package a.pkg out.pkg
	has "$T/err" "a second component"
	bad_input "nope" "$PKGFLAT" build --root nope --identifier a --version 1 out.pkg
	ln -s loop loop
	bad_input "loop" "$PKGFLAT" build --root loop --identifier a --version 1 out.pkg
	mkdir sock && python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind("sock/s")'
	bad_input "socket" "$PKGFLAT" build --root sock --identifier a --version 1 out.pkg
	run 2 "$PKGFLAT" build --root tree --identifier a --version 1 tree/inside.pkg
	has "$T/err" "inside the input"
	run 2 "$PKGFLAT" build --root tree --version 1 out.pkg
	run 2 "$PKGFLAT" build --root tree --identifier a out.pkg
	run 2 "$PKGFLAT" build --root tree --identifier a --version 1 --install-location rel out.pkg
	run 2 "$PKGFLAT" build --root tree --package a.pkg --identifier a --version 1 out.pkg
	run 2 "$PKGFLAT" build --package a.pkg --identifier a out.pkg
	run 2 "$PKGFLAT" build --distribution D.xml --package a.pkg out.pkg
	run 2 "$PKGFLAT" build --package a.pkg --arch arm64 out.pkg
	has "$T/err" "--arch does not apply to build"
	run 2 "$PKGFLAT" build --package a.pkg a.pkg
	[ ! -e out.pkg ] && [ ! -e tree/inside.pkg ] || fail "output after an error"
	[ "$before" = "$(tree_sum tree)" ] || fail "input changed"
	only . D.xml E.xml a.pkg loop p.pkg sock tree
}

t build_vs_legacy build_vs_legacy
t build_scripts build_scripts
t build_product build_product
t build_resources build_resources
t build_reproducible build_reproducible
t build_signed build_signed
t build_bad build_bad
