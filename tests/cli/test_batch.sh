# pkgflat batch: many inputs in one run, in parallel; resumable; reports.
# Outputs are checked with independent readers: bsdtar lists them and the
# test-only xarcheck (tests/tools/xarcheck.c) checks their XAR structure.
. tests/cli/lib.sh

XARCHECK="$ROOT/${BUILD:-build}/xarcheck"
MK="python3 $ROOT/tests/cli/mkfixture.py"
EPOCH=1700000000

# The input tree, made once per run in $T/fixtures and copied (cp -a keeps
# mtimes) into each test: the legacy zips, a CPython-style metapackage, a
# zip of two packages, a zip of one deep inside, a name clash (Foo.pkg and Foo.zip), a flat package
# that is no input and a file that is no package: GOOD inputs.
GOOD=12
fixtures() { # fixtures DIR
	if [ ! -d "$T/fixtures" ]; then
		f="$T/fixtures.tmp"
		mkdir -p "$f/legacy" "$f/clash" "$f/cpython" "$f/x/sub" &&
		cp -a "$TD/legacy/zips" "$f/legacy/zips" &&
		"$ROOT/scripts/make-cpython-mpkg" --format ustar "$f/cpython/ustar" >/dev/null &&
		bsdtar -xf "$TD/legacy/zips/Reset_User_and_System_Font_Caches.zip" -C "$f/x" &&
		bsdtar -xf "$TD/legacy/zips/Retrospect_Client_Uninstaller.zip" -C "$f/x" &&
		bsdtar -xf "$TD/legacy/zips/Office_2011_SP_2_World-Writable_Permissions_Fix.zip" -C "$f/x" &&
		mv "$f/x/Reset User and System Font Caches.pkg" "$f/x/A.pkg" &&
		mv "$f/x/Retrospect Client Uninstaller.pkg" "$f/x/sub/B.pkg" &&
		(cd "$f/x" && bsdtar -a -cf ../two.zip A.pkg sub) &&
		mkdir -p "$f/x/d/p/q" && cp -a "$f/x/sub/B.pkg" "$f/x/d/p/q/Deep.pkg" &&
		(cd "$f/x/d" && bsdtar -a -cf ../../deep.zip p) &&
		mv "$f/x/Office 2011 SP 2 World-Writable Permissions Fix.pkg" "$f/clash/Foo.pkg" &&
		(cd "$f/clash" && bsdtar -a -cf Foo.zip Foo.pkg) && rm -r "$f/x" &&
		cp "$TD/flat/Installomator-0.5.pkg" "$f/clash/Flat.pkg" &&
		echo "not a package" >"$f/clash/README.txt" ||
			fail "cannot make the fixtures"
		mv "$f" "$T/fixtures"
	fi
	cp -a "$T/fixtures" "$1"
}

broken() { # broken DIR: a bundle whose Info.plist is not a plist
	mkdir -p "$1/Broken.pkg/Contents" &&
	echo "<plist><dict><key>oops" >"$1/Broken.pkg/Contents/Info.plist"
}

# Every .pkg under DIR is a complete product archive.
check_outputs() { # check_outputs DIR
	n=0
	for p in $(find "$1" -name '*.pkg' | sort); do
		"$XARCHECK" "$p" >"$T/xc" 2>&1 || fail "xarcheck $p: $(cat "$T/xc")"
		bsdtar -tf "$p" >"$T/list" || fail "bsdtar cannot read $p"
		grep -qx Distribution "$T/list" || fail "$p: no Distribution"
		grep -q '\.pkg/Payload$' "$T/list" || fail "$p: no component payload"
		"$PKGFLAT" verify --allow-unsigned "$p" >"$T/v" 2>&1 ||
		    fail "pkgflat verify $p: $(cat "$T/v")"
		n=$((n + 1))
	done
	echo "$n" >"$T/count"
}

# Nothing in OUTDIR but outputs, the reports and the state file.
no_leftovers() { # no_leftovers OUTDIR
	left=$(find "$1" -type f ! -name '*.pkg' ! -name pkgflat-report.json \
	    ! -name pkgflat-report.html ! -name .pkgflat-batch-state; find "$1" -name '.*.pkg*')
	[ -z "$left" ] || fail "left behind: $left"
}

# flat REPORT: check that the report is JSON and flatten it into $T/r,
# one "OUTPUT<TAB>KEY<TAB>VALUE" line per field (OUTPUT relative to OUTDIR;
# "-" for the run), so that the checks below need no more python3, which
# is slow to start.
flat() {
	python3 - "$1" >"$T/r" <<'EOF' || fail "report $1 is not what it should be"
import json, os, sys
r = json.load(open(sys.argv[1]))
print("-\trun-interrupted\t%s" % r["interrupted"])
for k, v in sorted(r["summary"].items()):
    print("-\t%s\t%s" % (k, v))
for o in r["options"]:
    print("-\toption\t%s" % o)
for i in r["ignored"]:
    print("-\tignored\t%s: %s" % (i["path"], i["reason"]))
for i in r["inputs"]:
    rel = os.path.relpath(i["output"], r["outdir"])
    for k, v in sorted(i.items()):
        for x in (v if isinstance(v, list) else [v]):
            print("%s\t%s\t%s" % (rel, k, x))
EOF
}

val() { # val OUTPUT KEY: from $T/r
	awk -F'\t' -v o="$1" -v k="$2" '$1 == o && $2 == k { print $3 }' "$T/r"
}

# statuses REPORT: "status count" lines; read without a JSON parser (the
# report has one field a line), for speed: flat checks it is JSON.
statuses() {
	sed -n 's/^ *"status": "\([a-z-]*\)",$/\1/p' "$1" | sort | uniq -c |
	    awk '{ print $2, $1 }'
}

# The whole corpus: the above, the ExifTool bundle, the odc CPython
# variant, metapackages with nested and sibling components (the siblings
# are part of their metapackage, not inputs), and a broken package.
corpus() {
	fixtures in && broken bad
	cp -a "$TD/legacy/ExifTool-9.47.pkg" in/legacy/ &&
	"$ROOT/scripts/make-cpython-mpkg" --format odc in/cpython/odc >/dev/null &&
	$MK nested in/nested && $MK siblings in/siblings || fail "cannot make the fixtures"
	GOOD=16
	before=$(tree_sum in)
	SOURCE_DATE_EPOCH=$EPOCH run 1 "$PKGFLAT" batch -j 2 --junit j.xml -o out in bad
	rep=out/pkgflat-report.json
	flat $rep
	[ "$(statuses $rep)" = "converted $GOOD
failed 1" ] || fail "statuses: $(statuses $rep)"
	# Where each input went.
	for o in legacy/ExifTool-9.47.pkg legacy/zips/Keychain_Minder_1_3.pkg \
	    legacy/zips/Retrospect_Client_Uninstaller.pkg cpython/ustar/Python.pkg \
	    cpython/odc/Python.pkg nested/Suite.pkg siblings/Suite.pkg two/A.pkg \
	    two/sub/B.pkg deep.pkg clash/Foo.pkg clash/Foo-2.pkg; do
		[ "$(val $o status)" = converted ] || fail "$o not converted"
		[ -f "out/$o" ] || fail "no out/$o"
	done
	[ "$(val clash/Foo-2.pkg renamed_from)" = out/clash/Foo.pkg ] ||
		fail "clash not reported"
	has "$T/err" "clash/Foo.zip: output renamed to clash/Foo-2.pkg"
	[ "$(val two/sub/B.pkg member)" = sub/B.pkg ] || fail "member"
	# The broken one: failed, with the error, and no output.
	[ "$(val Broken.pkg status)" = failed ] || fail "broken"
	val Broken.pkg error >"$T/e"
	has "$T/e" "Broken.pkg/Contents/Info.plist"
	has "$T/err" "pkgflat: $(cat "$T/e")"
	[ ! -e out/Broken.pkg ] || fail "output for the broken package"
	# Digests, sizes and warnings are there and right.
	[ "$(val legacy/zips/Keychain_Minder_1_3.pkg input_sha256)" = \
	    "$(sha256sum in/legacy/zips/Keychain_Minder_1_3.zip | cut -d' ' -f1)" ] || fail "input digest"
	for o in legacy/ExifTool-9.47.pkg two/A.pkg; do
		[ "$(val $o output_sha256)" = "$(sha256sum "out/$o" | cut -d' ' -f1)" ] ||
			fail "output digest of $o"
	done
	[ "$(val legacy/ExifTool-9.47.pkg output_bytes)" = \
	    "$(stat -c %s out/legacy/ExifTool-9.47.pkg)" ] || fail "output size"
	val legacy/ExifTool-9.47.pkg warnings >"$T/w"
	has "$T/w" "IFPkgFlagRestartAction: non-standard value"
	# The flat package and the README are not inputs; the flat one is listed.
	val - ignored >"$T/ign"
	has "$T/ign" "clash/Flat.pkg"
	has "$T/ign" "in/siblings/A.pkg: a component of in/siblings/Suite.mpkg"
	hasnt "$T/ign" "README"
	# Plain progress: one line per input.
	[ "$(grep -c '^\[[0-9]*/17\] ' "$T/err")" = 17 ] || fail "progress lines: $(cat "$T/err")"
	check_outputs out
	[ "$(cat "$T/count")" = $GOOD ] || fail "$(cat "$T/count") outputs, want $GOOD"
	no_leftovers out
	# JUnit: valid XML, one test case per input, one failure.
	xmllint --noout j.xml || fail "JUnit does not validate"
	[ "$(xmllint --xpath 'count(//testcase)' j.xml)" = 17 ] || fail "test cases"
	[ "$(xmllint --xpath 'count(//testcase/failure)' j.xml)" = 1 ] || fail "failures"
	xmllint --xpath 'string(//testcase[failure]/@name)' j.xml | grep -q 'bad/Broken.pkg$' ||
		fail "the failure is not the broken package's"
	xmllint --xpath 'string(//failure/@message)' j.xml | grep -q 'Info.plist' ||
		fail "the failure has no message"
	# --quiet: the error and nothing else.
	SOURCE_DATE_EPOCH=$EPOCH run 1 "$PKGFLAT" batch -q -o out in bad
	[ "$(wc -l <"$T/err")" = 1 ] || fail "quiet printed: $(cat "$T/err")"
	has "$T/err" "Broken.pkg/Contents/Info.plist"
	# The inputs were not touched.
	[ "$(tree_sum in)" = "$before" ] || fail "an input changed"
}

stamps() { # inode and mtime of every output: changes when one is rewritten
	find "$1" -name '*.pkg' -printf '%P %i %T@\n' | sort
}

resume() {
	fixtures in
	run 0 "$PKGFLAT" batch -o out in
	stamps out >s1
	run 0 "$PKGFLAT" batch -o out in
	stamps out >s2
	cmp s1 s2 || fail "a rerun rewrote outputs: $(diff s1 s2)"
	[ "$(statuses out/pkgflat-report.json)" = "up-to-date $GOOD" ] ||
		fail "rerun: $(statuses out/pkgflat-report.json)"
	has "$T/err" "0 converted, $GOOD up to date, 0 failed"
	# Touch one file of one input: only that one is converted again.
	touch -d '2001-02-03' in/cpython/ustar/Python.mpkg/Contents/Info.plist
	run 0 "$PKGFLAT" batch -o out in
	[ "$(statuses out/pkgflat-report.json)" = "converted 1
up-to-date $((GOOD - 1))" ] || fail "after touch: $(statuses out/pkgflat-report.json)"
	[ "$(val cpython/ustar/Python.pkg status)" = converted ] ||
		fail "the touched one was not redone"
	stamps out >s3
	[ "$(diff s2 s3 | grep -c '^>')" = 1 ] || fail "rewritten: $(diff s2 s3)"
	grep -q '^cpython/ustar/Python.pkg ' s3 || fail "lost the output"
	# An output that was changed or removed is made again.
	echo x >>out/legacy/zips/Keychain_Minder_1_5.pkg
	rm out/two/A.pkg
	run 0 "$PKGFLAT" batch -o out in
	[ "$(statuses out/pkgflat-report.json)" = "converted 2
up-to-date $((GOOD - 2))" ] || fail "after damage: $(statuses out/pkgflat-report.json)"
	check_outputs out
	# --force redoes all; so does a changed option, which reaches every input.
	run 0 "$PKGFLAT" batch --force -o out in
	[ "$(statuses out/pkgflat-report.json)" = "converted $GOOD" ] || fail "--force"
	run 0 "$PKGFLAT" batch --min-os 10.9 -o out in
	[ "$(statuses out/pkgflat-report.json)" = "converted $GOOD" ] || fail "--min-os"
	for p in out/legacy/zips/Keychain_Minder_1_3.pkg out/two/sub/B.pkg out/cpython/ustar/Python.pkg; do
		bsdtar -xOf "$p" Distribution | grep -q 'min="10.9"' || fail "$p: no --min-os"
	done
	has out/pkgflat-report.json '"--min-os=10.9"'
	no_leftovers out
}

# SIGTERM in the middle: only complete outputs, no temporary files, a report
# of what finished; a second run completes the rest.
sigterm() {
	fixtures in
	"$ROOT/scripts/make-cpython-mpkg" --format ustar --big-mb 4 in/aaa-big >/dev/null ||
		fail "generator failed"
	# A stale temporary file of a killed earlier run (its pid dead) goes away.
	sh -c 'exit 0' & dead=$!; wait $dead
	mkdir -p out/clash && echo partial >"out/clash/.pkgflat-$dead-AbC123-Foo.pkg"
	# Emptied here: the background shell truncates it only when it gets to
	# run, and the wait below must not see an earlier test's "[1/" line.
	: >"$T/err"
	PKGFLAT_BATCH_TEST_DELAY=0.3 "$PKGFLAT" batch -j 2 -o out in >"$T/out" 2>"$T/err" &
	pid=$!
	i=0
	until grep -q '^\[1/' "$T/err"; do
		i=$((i + 1))
		[ $i -le 300 ] || { kill $pid; fail "nothing finished in 30 s"; }
		sleep 0.1
	done
	kill -TERM $pid
	wait $pid
	rc=$?
	[ $rc -eq 1 ] || fail "interrupted run: exit $rc, want 1: $(cat "$T/err")"
	has "$T/err" "interrupted (run again to finish)"
	rep=out/pkgflat-report.json
	flat $rep
	[ "$(val - run-interrupted)" = True ] || fail "not marked interrupted"
	done1=$(val - converted)
	[ "$(val - interrupted)" -ge 1 ] || fail "nothing interrupted"
	no_leftovers out
	check_outputs out
	[ "$(cat "$T/count")" = "$done1" ] || fail "$(cat "$T/count") outputs, $done1 reported"
	run 0 "$PKGFLAT" batch -j 2 -o out in
	[ "$(statuses $rep)" = "converted $((GOOD + 1 - done1))
up-to-date $done1" ] || fail "rerun: $(statuses $rep)"
	check_outputs out
	[ "$(cat "$T/count")" = $((GOOD + 1)) ] || fail "$(cat "$T/count") outputs"
	no_leftovers out
}

# A worker that dies of a signal is one failure, named as such.
crash() {
	fixtures in
	PKGFLAT_BATCH_TEST_CRASH=Keychain_Minder_1_5 run 1 "$PKGFLAT" batch -o out in
	has "$T/err" "Keychain_Minder_1_5.zip: worker killed by signal SIGABRT"
	[ "$(statuses out/pkgflat-report.json)" = "converted $((GOOD - 1))
failed 1" ] || fail "$(statuses out/pkgflat-report.json)"
	no_leftovers out
}

parallel_is_serial() {
	fixtures in
	SOURCE_DATE_EPOCH=$EPOCH run 0 "$PKGFLAT" batch -j 1 -o o1 in
	SOURCE_DATE_EPOCH=$EPOCH run 0 "$PKGFLAT" batch -j 2 -o o2 in
	(cd o1 && find . -name '*.pkg' | sort) >l1
	(cd o2 && find . -name '*.pkg' | sort) >l2
	cmp l1 l2 || fail "different outputs: $(diff l1 l2)"
	[ "$(wc -l <l1)" = $GOOD ] || fail "$(wc -l <l1) outputs"
	while read -r p; do
		cmp "o1/$p" "o2/$p" || fail "$p differs between -j 1 and -j 2"
	done <l1
}

# A transcoded payload (compressible, several compression blocks) is the
# same bytes whatever the number of compression threads, one gzip member
# (as Installer reads it) that gzip -t and bsdtar accept, holding what the
# legacy payload held.
threads_same_bytes() {
	mkdir in
	"$ROOT/scripts/make-cpython-mpkg" --format ustar --big-mb 3 --big-kind mixed \
	    in/py >/dev/null || fail "generator"
	SOURCE_DATE_EPOCH=$EPOCH run 0 "$PKGFLAT" batch -q --threads 1 -o o1 in
	SOURCE_DATE_EPOCH=$EPOCH run 0 "$PKGFLAT" batch -q --threads 2 -o o2 in
	p=$(cd o1 && find . -name '*.pkg')
	[ -n "$p" ] && [ -f "o2/$p" ] || fail "no output: $p"
	cmp "o1/$p" "o2/$p" || fail "--threads 1 and --threads 2 differ"
	mkdir x && bsdtar -xf "o1/$p" -C x
	pl=x/PythonFramework-3.13.pkg/Payload
	gzip -t "$pl" || fail "gzip -t rejects the payload"
	python3 - "$pl" <<'PY' || fail "payload is not one gzip member"
import sys, zlib
data = open(sys.argv[1], "rb").read()
d = zlib.decompressobj(31)
out = d.decompress(data)
assert d.eof and not d.unused_data, "more than one member"
assert len(out) > 3 * 1024 * 1024, len(out)
PY
	src=$(find in -path '*PythonFramework*' -name Archive.pax.gz)
	bsdtar -tf "$src" | sed 's|^\./||; s|/$||' | grep -v '^\.\?$' | sort >want
	bsdtar -tf "$pl" | sed 's|^\./||; s|/$||' | grep -v '^\.\?$' | sort >got
	cmp want got || fail "entries differ: $(diff want got | head)"
	bsdtar -xOf "$src" ./Versions/3.13/share/bench/payload.bin | cksum >want.ck
	bsdtar -xOf "$pl" ./Versions/3.13/share/bench/payload.bin | cksum >got.ck
	cmp want.ck got.ck || fail "the big file's bytes differ"
}

# Convert options reach every input: signing, checked with openssl.
sign() {
	"$ROOT/scripts/make-test-pki" pki >/dev/null 2>&1 || fail "make-test-pki"
	run 0 "$PKGFLAT" batch -j 2 --sign --key pki/leaf.key --cert pki/leaf.pem \
	    --chain pki/chain.pem -o out "$TD/legacy/zips"
	openssl x509 -in pki/leaf.pem -pubkey -noout >pub.pem
	for p in out/*.pkg; do
		"$XARCHECK" "$p" >/dev/null || fail "xarcheck: $p"
		rm -rf parts && python3 "$ROOT/tests/cli/sigparts.py" "$p" parts >/dev/null ||
			fail "sigparts $p"
		openssl pkeyutl -verifyrecover -pubin -inkey pub.pem -in parts/rsa.bin \
		    -out /dev/null || fail "$p: RSA signature does not verify"
		openssl cms -verify -inform DER -in parts/cms.der -content parts/checksum.bin \
		    -binary -CAfile pki/root.pem -purpose any -ignore_critical -out /dev/null \
		    2>/dev/null || fail "$p: CMS signature does not verify"
	done
	[ "$(ls out/*.pkg | wc -l)" = 6 ] || fail "not 6 outputs"
	# An unfit certificate: refused before anything runs, unless --force-sign.
	bad_input "not valid now" "$PKGFLAT" batch --sign --key pki/expired.key \
	    --cert pki/expired.pem -o out2 "$TD/legacy/zips"
	[ ! -e out2 ] || fail "OUTDIR made for a run that did not start"
	run 0 "$PKGFLAT" batch -q --sign --force-sign --key pki/expired.key \
	    --cert pki/expired.pem -o out2 "$TD/legacy/zips"
	[ "$(ls out2/*.pkg | wc -l)" = 6 ] || fail "--force-sign"
}

usage() {
	fixtures in
	run 2 "$PKGFLAT" batch in
	has "$T/err" "no output directory"
	run 2 "$PKGFLAT" batch -o out
	has "$T/err" "no input named"
	run 2 "$PKGFLAT" batch -j 0 -o out in
	has "$T/err" "-j takes a number"
	run 2 "$PKGFLAT" batch -j x -o out in
	run 2 "$PKGFLAT" batch --progress=fancy -o out in
	has "$T/err" "--progress takes auto, plain or tty"
	run 2 "$PKGFLAT" batch --bogus -o out in
	has "$T/err" "unknown option '--bogus'"
	run 2 "$PKGFLAT" batch -o out in --title
	has "$T/err" "option '--title' needs a value"
	run 2 "$PKGFLAT" batch --ownership sometimes -o out in
	has "$T/err" "pkgflat batch: --ownership takes recommended, preserve or root"
	run 2 "$PKGFLAT" batch --timestamp -o out in
	has "$T/err" "--timestamp goes with --sign"
	run 2 "$PKGFLAT" batch --p12 x.p12 -o out in
	has "$T/err" "identity options go with --sign"
	[ ! -e out ] || fail "usage errors created OUTDIR"
	# The run cannot start: exit 3.
	bad_input "nothing: cannot open" "$PKGFLAT" batch -o out in/nothing
	mkdir empty && echo text >empty/notes.txt
	bad_input "no legacy package found" "$PKGFLAT" batch -o out empty
	[ ! -e out ] || fail "created OUTDIR without inputs"
	echo file >afile
	bad_input "afile: not a directory" "$PKGFLAT" batch -o afile in
	bad_input "cannot create" "$PKGFLAT" batch -o afile/sub in
	run 0 "$PKGFLAT" batch --help
	has "$T/out" "usage: pkgflat batch"
	has "$T/out" "--min-os VERSION"
	has "$T/out" "--force-sign"
	run 0 "$PKGFLAT" --help
	has "$T/out" "batch"
}

# --check reaches every input: a faithful conversion is "equivalent"; one
# the comparison finds different (a test-only fault) fails and leaves no
# output.
check() {
	mkdir in
	cp -a "$TD/legacy/ExifTool-9.47.pkg" in/
	cp "$TD/legacy/zips/Keychain_Minder_1_5.zip" in/
	run 0 "$PKGFLAT" batch --progress=plain --check -o out in
	python3 - out/pkgflat-report.json <<'PY' || fail "report"
import json, sys
r = json.load(open(sys.argv[1]))
assert [i["check"] for i in r["inputs"]] == ["equivalent", "equivalent"], r
PY
	PKGFLAT_TEST_FAULT=check-tamper run 1 "$PKGFLAT" batch --progress=plain --check --force -o out2 in
	python3 - out2/pkgflat-report.json <<'PY' || fail "report"
import json, sys
r = json.load(open(sys.argv[1]))
assert [i["check"] for i in r["inputs"]] == ["different", "different"], r
assert all("--check: the output would not install" in i["error"] for i in r["inputs"]), r
PY
	[ -z "$(find out2 -name '*.pkg')" ] || fail "outputs left: $(find out2 -name '*.pkg')"
}

t batch-corpus corpus
t batch-resume resume
t batch-sigterm sigterm
t batch-crash crash
t batch-parallel-is-serial parallel_is_serial
t batch-threads-same-bytes threads_same_bytes
t batch-sign sign
t batch-usage usage
t batch-check check
