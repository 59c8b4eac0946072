# Legacy fidelity: 10.0/10.1 scripts, components without an identifier,
# ownership policies, report accuracy, and diff twins that lose one of
# them. Fixtures come from tests/cli/mklegacy.py (written from the format
# description); outputs are checked with bsdtar, xmllint and sh.
. tests/cli/lib.sh

MKL="python3 $ROOT/tests/cli/mklegacy.py"
XARCHECK="$ROOT/${BUILD:-build}/xarcheck"
export SOURCE_DATE_EPOCH=1700000000

# The difference lines of the last diff run.
lines() {
	grep '^  ' "$T/out" | sed 's/^  //'
}

# expand PKG DIR: a converted package as a directory tree, to be edited
# and written back with the independent XAR writer (repack).
expand() {
	mkdir "$2" && bsdtar -xf "$1" -C "$2" || fail "bsdtar cannot expand $1"
}
repack() { # repack DIR OUT.pkg
	python3 "$ROOT/tests/cli/mkxar.py" "$1" "$2" || fail "mkxar"
}

# A 10.0/10.1 package: its four scripts and the helper they call through
# "$1" run from the flat wrappers, in legacy order, install or upgrade.
cheetah_scripts() {
	$MKL cheetah in || fail "mklegacy"
	run 0 "$PKGFLAT" info in/Driver.pkg
	has "$T/out" "preinstall (Driver.pre_install) preupgrade (Driver.pre_upgrade) postinstall (Driver.post_install) postupgrade (Driver.post_upgrade)"
	# The .info opens with "### Package Flags": a comment, not a key.
	hasnt "$T/out" "unknown key"
	run 0 "$PKGFLAT" convert --report r.json in/Driver.pkg -o d.pkg
	hasnt "$T/err" "unknown key"
	"$XARCHECK" d.pkg >/dev/null || fail "xarcheck"
	expand d.pkg x
	pi=x/Driver.pkg/PackageInfo
	[ "$(xmllint --xpath 'string(/pkg-info/scripts/preinstall/@file)' $pi)" = ./preinstall ] &&
	[ "$(xmllint --xpath 'string(/pkg-info/scripts/postinstall/@file)' $pi)" = ./postinstall ] ||
		fail "PackageInfo names no wrappers"
	bsdtar -tvf x/Driver.pkg/Scripts --numeric-owner >list
	for f in Driver.pre_install Driver.pre_upgrade Driver.post_install \
	    Driver.post_upgrade kextload-helper; do
		grep -q "^-rwxr-xr-x .* 0  *0 .* \./Contents/Resources/$f$" list ||
			fail "$f not in Scripts, executable and root-owned"
		cmp -s in/Driver.pkg/Contents/Resources/$f \
		    "$(mkdir -p s && bsdtar -xf x/Driver.pkg/Scripts -C s && echo s/Contents/Resources/$f)" ||
			fail "$f changed"
	done
	grep -q '\./Contents/Resources/Driver\.pax\.gz$' list && fail "payload copy in Scripts"
	# Run the wrappers as Installer would: $1 the package file, $3 the
	# volume. First a fresh install, then an upgrade (a receipt exists).
	mkdir sx && bsdtar -xpf x/Driver.pkg/Scripts -C sx || fail "bsdtar"
	here=$(cd sx && pwd)
	export PKGFLAT_TEST_LOG=$PWD/log INSTALLER_TEMP=$PWD
	PKGUTIL=false sx/preinstall /tmp/d.pkg / /Volumes/T / &&
	PKGUTIL=false sx/postinstall /tmp/d.pkg / /Volumes/T / || fail "wrappers failed"
	printf '%s\n' "pre_install $here / /Volumes/T /" \
	    "post_install $here / /Volumes/T /" "helper /Volumes/T" >want
	diff -u want log || fail "install order or arguments wrong"
	rm log
	PKGUTIL=true sx/preinstall /tmp/d.pkg / /Volumes/T / &&
	PKGUTIL=true sx/postinstall /tmp/d.pkg / /Volumes/T / || fail "wrappers failed"
	printf '%s\n' "pre_upgrade $here / /Volumes/T /" \
	    "post_upgrade $here / /Volumes/T /" >want
	diff -u want log || fail "upgrade order wrong"
	# Nothing claims the scripts are "kept only in Scripts".
	hasnt r.json "kept only in Scripts"
	has r.json '"legacy": "Driver.post_install"'
}

# No identifier anywhere (10.0/10.1, and an Info.plist without one): one
# fallback, so diff pairs a package with its conversion without --map and
# convert --check passes.
identifierless() {
	$MKL cheetah c && $MKL owners o || fail "mklegacy"
	for in in c/Driver.pkg o/Owned.pkg; do
		rm -f out.pkg
		run 0 "$PKGFLAT" convert --check "$in" -o out.pkg
		run 0 "$PKGFLAT" diff "$in" out.pkg
		has "$T/out" "equivalent: the packages install the same things"
		hasnt "$T/out" "component:"
		run 0 "$PKGFLAT" diff out.pkg "$in"
	done
	mkdir x && bsdtar -xf out.pkg -C x || fail "bsdtar"
	[ "$(xmllint --xpath 'string(/pkg-info/@identifier)' x/Owned.pkg/PackageInfo)" = pkgflat.Owned ] ||
		fail "fallback identifier"
	[ "$(xmllint --xpath 'string(//choice/pkg-ref/@id)' x/Distribution)" = pkgflat.Owned ] ||
		fail "choice does not carry the fallback"
}

# A developer-built payload: personal owners become root by default,
# root:admin and other system owners stay, and the report says what
# changed; --ownership preserve keeps them all.
ownership_policy() {
	$MKL owners in || fail "mklegacy"
	run 0 "$PKGFLAT" convert --report r.json in/Owned.pkg -o o.pkg
	expand o.pkg x
	bsdtar -tvf x/Owned.pkg/Payload --numeric-owner | awk '{print $3 ":" $4, $9}' >got
	cat >want <<'EOF'
0:0 .
0:0 ./Applications
0:0 ./Applications/Owned.app
0:0 ./Applications/Owned.app/Contents
0:0 ./Applications/Owned.app/Contents/Info.plist
0:0 ./Applications/Owned.app/Contents/Tool
0:0 ./Library
0:80 ./Library/Frameworks
0:80 ./Library/Frameworks/Python.framework
0:80 ./Library/Frameworks/Python.framework/Versions
0:80 ./Library/Frameworks/Python.framework/Versions/Current
0:0 ./usr
0:20 ./usr/local
65534:65534 ./usr/local/nobody.txt
EOF
	diff -u want got || fail "owners after the default policy"
	has r.json '"value": "501:20 on 6 entries, first ."'
	has r.json '"flat": "Payload owner 0:0"'
	[ "$(xmllint --xpath 'string(/pkg-info/@generator-version)' x/Owned.pkg/PackageInfo)" = \
	    "pkgflat-0.1.0 (ownership recommended)" ] || fail "policy not stated"
	# The conversion followed its policy: equivalent, with one note.
	run 0 "$PKGFLAT" diff in/Owned.pkg o.pkg
	has "$T/out" "note: owners changed by the conversion's ownership policy, 501:20 -> 0:0 (ownership recommended, 6 entries), first: /"
	# Told the conversion kept owners, diff holds the changes against it.
	run 1 "$PKGFLAT" diff --ownership preserve in/Owned.pkg o.pkg
	has "$T/out" "changed uid 501 -> 0: /Applications"
	# preserve keeps every owner; root makes even root:admin root:wheel.
	run 0 "$PKGFLAT" convert --ownership preserve in/Owned.pkg -o p.pkg
	bsdtar -tvf in/Owned.pkg/Contents/Archive.pax.gz --numeric-owner | awk '{print $3 ":" $4, $9}' >a
	mkdir px && bsdtar -xf p.pkg -C px &&
	bsdtar -tvf px/Owned.pkg/Payload --numeric-owner | awk '{print $3 ":" $4, $9}' >b
	diff -u a b || fail "--ownership preserve changed owners"
	run 0 "$PKGFLAT" diff in/Owned.pkg p.pkg
	hasnt "$T/out" "note:"
	run 0 "$PKGFLAT" convert --check --ownership root in/Owned.pkg -o w.pkg
	mkdir wx && bsdtar -xf w.pkg -C wx &&
	bsdtar -tvf wx/Owned.pkg/Payload --numeric-owner | awk '$3 != 0 || $4 != 0' >nonroot
	[ ! -s nonroot ] || fail "--ownership root left $(cat nonroot)"
	run 2 "$PKGFLAT" convert --ownership mine in/Owned.pkg -o z.pkg
	run 2 "$PKGFLAT" diff --ownership mine in/Owned.pkg o.pkg
}

# Every claim of the report is true of the package written.
report_claims() {
	$MKL cheetah c && $MKL owners o || fail "mklegacy"
	for in in c/Driver.pkg o/Owned.pkg; do
		rm -f out.pkg r.json
		run 0 "$PKGFLAT" convert --report r.json "$in" -o out.pkg
		python3 "$ROOT/tests/cli/check_report.py" r.json out.pkg >claims ||
			fail "$(tail -1 claims)"
		[ "$(wc -l <claims)" -ge 10 ] || fail "too few claims checked"
	done
	# IFPkgFlagIsRequired=false is described as what the choice got.
	has r.json '"flat": "Distribution choice start_selected=\"true\""'
}

# Twins of a faithful conversion, each losing one behaviour: diff says
# "different" (exit 1) and names it.
twins() {
	$MKL cheetah c && $MKL owners o || fail "mklegacy"
	run 0 "$PKGFLAT" convert c/Driver.pkg -o d.pkg
	run 0 "$PKGFLAT" convert o/Owned.pkg -o o.pkg
	# The round trip through bsdtar and mkxar.py alone changes nothing.
	expand d.pkg dx
	repack dx same.pkg
	run 0 "$PKGFLAT" diff c/Driver.pkg same.pkg
	# One 10.0/10.1 script missing.
	mkdir sc && bsdtar -xpf dx/Driver.pkg/Scripts -C sc &&
	rm sc/Contents/Resources/Driver.post_install &&
	(cd sc && bsdtar -cf - --format cpio .) | gzip -n >dx/Driver.pkg/Scripts || fail "bsdtar"
	repack dx noscript.pkg
	run 1 "$PKGFLAT" diff c/Driver.pkg noscript.pkg
	has "$T/out" "removed script: Driver.post_install"
	has "$T/out" "the packages install different things"
	# An owner changed outside the policy: root:admin made root:wheel.
	expand o.pkg ox
	mkdir tree && bsdtar -xpf ox/Owned.pkg/Payload --numeric-owner -C tree &&
	bsdtar -cf spec.mtree --format mtree \
	    --options 'mtree:!all,type,mode,uid,gid,time,size,link' \
	    @ox/Owned.pkg/Payload || fail "bsdtar"
	sed -i 's|^\(\./Library/Frameworks/Python.framework .*\)gid=80|\1gid=0|' spec.mtree
	(cd tree && bsdtar -cf - --format cpio @../spec.mtree) | gzip -n >ox/Owned.pkg/Payload ||
		fail "bsdtar cannot write the payload"
	repack ox owner.pkg
	run 1 "$PKGFLAT" diff o/Owned.pkg owner.pkg
	has "$T/out" "changed gid 80 -> 0: /Library/Frameworks/Python.framework"
	has "$T/out" "note: owners changed by the conversion's ownership policy"
}

# SOURCE_DATE_EPOCH fixes the dates written, not the clock the
# certificate is judged by: a certificate issued today signs, the same
# bytes twice; one valid only at SOURCE_DATE_EPOCH is refused, naming the
# time judged.
sde_sign() {
	"$ROOT/scripts/make-test-pki" "$T/pki" >/dev/null 2>&1 || fail "test PKI"
	P=$T/pki
	cat >ext.cnf <<'EOF'
[leaf]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, 1.2.840.113635.100.4.13
EOF
	openssl req -new -key "$P/leaf.key" -subj "/CN=Developer ID Installer: Today (TEAMID1234)" \
	    -out today.csr 2>/dev/null &&
	openssl x509 -req -in today.csr -CA "$P/ca.pem" -CAkey "$P/ca.key" -days 30 \
	    -set_serial 77 -extfile ext.cnf -extensions leaf -out today.pem 2>/dev/null ||
		fail "cannot issue today's certificate"
	$MKL owners in && run 0 "$PKGFLAT" convert in/Owned.pkg -o u.pkg
	for n in 1 2; do
		SOURCE_DATE_EPOCH=1700000000 run 0 "$PKGFLAT" sign --key "$P/leaf.key" \
		    --cert today.pem --chain "$P/chain.pem" u.pkg -o s$n.pkg
	done
	cmp s1.pkg s2.pkg || fail "signing with SOURCE_DATE_EPOCH is not reproducible"
	mkdir parts && python3 "$ROOT/tests/cli/sigparts.py" s1.pkg parts >summary || fail "sigparts"
	openssl cms -cmsout -print -inform DER -in parts/cms.der >cms.txt
	grep -A2 signingTime cms.txt | grep -q "Nov 14 22:13:20 2023" ||
		fail "signing time is not SOURCE_DATE_EPOCH"
	# Valid in 2001 only: refused although SOURCE_DATE_EPOCH is in 2001.
	SOURCE_DATE_EPOCH=1000000000 bad_input "the certificate is not valid now (judged at $(date -u +%Y-%m-%d)" \
	    "$PKGFLAT" sign --key "$P/expired.key" --cert "$P/expired.pem" --chain "$P/chain.pem" u.pkg -o no.pkg
	has "$T/err" "notBefore 2001-01-01 00:00:00 UTC, notAfter 2002-01-01 00:00:00 UTC"
	[ ! -e no.pkg ] || fail "output written"
}

# Malformed 10.0/10.1 input: clear errors or warnings, input untouched.
cheetah_malformed() {
	$MKL cheetah in || fail "mklegacy"
	res=in/Driver.pkg/Contents/Resources
	# Two candidates of one kind, neither named after the bundle.
	mv $res/Driver.pre_upgrade $res/Other.pre_upgrade
	cp $res/Other.pre_upgrade $res/Third.pre_upgrade
	run 0 "$PKGFLAT" info in/Driver.pkg
	has "$T/out" "2 files end in .pre_upgrade and none is named after the bundle; none is run"
	hasnt "$T/out" "preupgrade ("
	# A directory with a script's name is no script.
	rm $res/Driver.post_install && mkdir $res/Driver.post_install
	run 0 "$PKGFLAT" info in/Driver.pkg
	has "$T/out" "Driver.post_install: not a regular file; ignored"
	# An .info of only comments and junk: no crash, the junk named.
	printf '### Package Flags\n#\n\n   # indented comment\nBogus YES\n' >$res/Driver.info
	run 0 "$PKGFLAT" info in/Driver.pkg
	has "$T/out" "unknown key Bogus"
	hasnt "$T/out" "unknown key #"
	sum=$(tree_sum in)
	run 0 "$PKGFLAT" convert in/Driver.pkg -o o.pkg
	[ "$(tree_sum in)" = "$sum" ] || fail "input modified"
	# A garbled payload: a clear error, no output.
	head -c 100 $res/Driver.pax.gz >p && mv p $res/Driver.pax.gz
	bad_input "Driver.pax.gz" "$PKGFLAT" convert in/Driver.pkg -o bad.pkg
	[ ! -e bad.pkg ] || fail "partial output"
}

t cheetah_scripts cheetah_scripts
t identifierless identifierless
t ownership_policy ownership_policy
t report_claims report_claims
t twins twins
t sde_sign sde_sign
t cheetah_malformed cheetah_malformed
