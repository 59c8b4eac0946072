# What a person sees: summary lines, -v and -q, warnings once, suggestions
# for mistyped options and commands, the messages that say what to do,
# paths as typed, and productsign's and pkgutil's habits (sign IN OUT,
# --timestamp=none, --sign NAME, --cert given a CA, the default Apple
# timestamp, check-signature).
. tests/cli/lib.sh

EXIF="$TD/legacy/ExifTool-9.47.pkg"
INSTALLOMATOR="$TD/flat/Installomator-0.5.pkg"
XARCHECK="$ROOT/${BUILD:-build}/xarcheck"
export SOURCE_DATE_EPOCH=1700000000

. tests/cli/signing.sh

# lines FILE N: FILE has exactly N lines.
lines() {
	[ "$(wc -l <"$1")" -eq "$2" ] || { cat "$1"; fail "$1: want $2 lines"; }
}

suggestions() {
	run 2 "$PKGFLAT" conver x
	has "$T/err" "pkgflat: unknown command 'conver'; did you mean 'convert'?"
	run 2 "$PKGFLAT" chek-signature x
	has "$T/err" "did you mean 'check-signature'?"
	run 2 "$PKGFLAT" convert --ownrship root "$EXIF" -o x.pkg
	has "$T/err" "pkgflat convert: unknown option '--ownrship'; did you mean '--ownership'?"
	run 2 "$PKGFLAT" sign --timestmp=none "$INSTALLOMATOR" -o x.pkg
	has "$T/err" "unknown option '--timestmp=none'; did you mean '--timestamp'?"
	run 2 "$PKGFLAT" verify --sigature-only "$INSTALLOMATOR"
	has "$T/err" "did you mean '--signature-only'?"
	run 2 "$PKGFLAT" diff --jsno a b
	has "$T/err" "did you mean '--json'?"
	run 2 "$PKGFLAT" batch --jbos 2 -o out "$EXIF"
	has "$T/err" "did you mean '--jobs'?"
	# Nothing close: no guess.
	run 2 "$PKGFLAT" convert --zzzzzzzz "$EXIF" -o x.pkg
	has "$T/err" "unknown option '--zzzzzzzz'"
	hasnt "$T/err" "did you mean"
	run 2 "$PKGFLAT" frobnicate
	hasnt "$T/err" "did you mean"
	[ ! -e x.pkg ] || fail "written after a usage error"
}

summary_convert() {
	run 0 "$PKGFLAT" convert "$EXIF" -o e.pkg
	size=$(stat -c %s e.pkg)
	has "$T/err" "pkgflat: wrote e.pkg: $size bytes, 1 component, not signed"
	[ ! -s "$T/out" ] || fail "convert wrote to standard output"
	# The summary says signed as whom, and whether timestamped.
	pki
	run 0 "$PKGFLAT" convert "$EXIF" -o s.pkg --sign --key "$P/leaf.key" \
	    --cert "$P/leaf.pem" --chain "$P/chain.pem"
	has "$T/err" "pkgflat: wrote s.pkg: $(stat -c %s s.pkg) bytes, 1 component, signed as \"Developer ID Installer: pkgflat Test (TEAMID1234)\" (team TEAMID1234), no timestamp"
	check_signed s.pkg
	# -q: nothing but errors.
	run 0 "$PKGFLAT" convert -q "$EXIF" -o q.pkg
	[ ! -s "$T/err" ] || fail "-q printed: $(cat "$T/err")"
	cmp e.pkg q.pkg || fail "-q changed the output"
}

summary_sign() {
	pki
	run 0 "$PKGFLAT" sign --key "$P/leaf.key" --cert "$P/leaf.pem" --chain "$P/chain.pem" \
	    "$INSTALLOMATOR" -o s.pkg
	lines "$T/err" 1
	has "$T/err" "pkgflat: signed s.pkg: $(stat -c %s s.pkg) bytes, signed as \"Developer ID Installer: pkgflat Test (TEAMID1234)\" (team TEAMID1234), no timestamp"
	PKI=$P start_tsa ok
	run 0 "$PKGFLAT" sign --key "$P/leaf.key" --cert "$P/leaf.pem" --chain "$P/chain.pem" \
	    --timestamp="$url" "$INSTALLOMATOR" -o t.pkg
	has "$T/err" "(team TEAMID1234), timestamped by $url"
	run 0 "$PKGFLAT" sign -q --key "$P/leaf.key" --cert "$P/leaf.pem" --chain "$P/chain.pem" \
	    "$INSTALLOMATOR" -o q.pkg
	[ ! -s "$T/err" ] || fail "-q printed: $(cat "$T/err")"
	cmp s.pkg q.pkg || fail "-q changed the output"
}

verbose_everywhere() {
	# Every command takes -v and -q (and says so in its help).
	for c in info ls convert sign staple diff verify batch check-signature; do
		run 0 "$PKGFLAT" "$c" --help
		has "$T/out" "-v, --verbose"
		has "$T/out" "-q, --quiet"
	done
	run 0 "$PKGFLAT" info -v "$EXIF"
	run 0 "$PKGFLAT" ls -q "$EXIF"
	# convert -v: the mapping report's decisions, one line each, the same
	# as --report has them.
	run 0 "$PKGFLAT" convert -v "$EXIF" -o e.pkg --report r.json
	python3 - r.json "$T/err" <<'EOF' || fail "-v does not list the mappings"
import json, sys
r = json.load(open(sys.argv[1]))
err = open(sys.argv[2]).read().splitlines()
for m in r["mappings"]:
    want = "pkgflat: %s: %s%s -> %s" % (m["component"] or "product", m["legacy"],
        "=" + m["value"] if m["value"] else "", m["flat"] or "dropped")
    assert any(l.startswith(want) for l in err), (want, err[:5])
EOF
	# sign -v: which identity, which chain, why no timestamp.
	pki
	run 0 "$PKGFLAT" sign -v --key "$P/leaf.key" --cert "$P/leaf.pem" --chain "$P/chain.pem" \
	    "$INSTALLOMATOR" -o s.pkg
	has "$T/err" "pkgflat: identity: Developer ID Installer: pkgflat Test (TEAMID1234) (team TEAMID1234)"
	has "$T/err" "pkgflat: no timestamp: the chain does not end at an Apple root and no --timestamp was given"
	run 0 "$PKGFLAT" verify -v --ca "$P/root.pem" s.pkg
	run 0 "$PKGFLAT" diff -v "$EXIF" e.pkg
	run 0 "$PKGFLAT" verify -q --ca "$P/root.pem" s.pkg
	[ ! -s "$T/out" ] && [ ! -s "$T/err" ] || fail "verify -q printed something"
}

warnings_once() {
	python3 - "$ROOT/tests/cli" <<'EOF' || fail "fixture"
import sys
sys.path.insert(0, sys.argv[1])
import mkfixture as m
top = m.mpkg("Suite.mpkg", [("A.pkg", "selected"), ("B.pkg", "selected"),
                            ("C.pkg", "selected")])
for n in "ABC":
    m.component("Suite.mpkg/Contents/Packages/%s.pkg" % n, "org.example." + n.lower(),
                IFPkgFlagUpdateInstalledLangauges=True)
EOF
	run 0 "$PKGFLAT" convert Suite.mpkg -o s.pkg --report r.json
	grep -c "misspelled key IFPkgFlagUpdateInstalledLangauges" "$T/err" >n
	[ "$(cat n)" = 1 ] || { cat "$T/err"; fail "the warning is not printed once"; }
	has "$T/err" "pkgflat: warning: misspelled key IFPkgFlagUpdateInstalledLangauges (Installer never read it); ignored (3 times: Suite.mpkg/Contents/Packages/A.pkg/Contents/Info.plist, Suite.mpkg/Contents/Packages/B.pkg/Contents/Info.plist, Suite.mpkg/Contents/Packages/C.pkg/Contents/Info.plist)"
	# The report keeps every one.
	[ "$(grep -c 'misspelled key IFPkgFlagUpdateInstalledLangauges' r.json)" = 3 ] ||
		fail "the report does not keep every warning"
}

messages() {
	pki
	mkdir o
	# A PKCS#12 with a passphrase and no --pass.
	run 2 "$PKGFLAT" sign --p12 "$P/leaf.p12" "$INSTALLOMATOR" -o o/x.pkg
	has "$T/err" "pkgflat: $P/leaf.p12: needs a passphrase: --pass env:VAR | file:PATH | fd:N"
	# One without a passphrase needs none.
	run 0 "$PKGFLAT" sign -q --p12 "$P/leaf-nopass.p12" "$INSTALLOMATOR" -o o/np.pkg
	rm o/np.pkg
	# A legacy bundle where a flat package is wanted.
	run 3 "$PKGFLAT" sign --key "$P/leaf.key" --cert "$P/leaf.pem" "$EXIF" -o o/x.pkg
	has "$T/err" "pkgflat: $EXIF: a legacy bundle: use pkgflat convert --sign"
	run 3 "$PKGFLAT" verify "$EXIF"
	has "$T/err" "pkgflat: $EXIF: a legacy bundle: use pkgflat convert --sign"
	# An expired certificate: its window, by name.
	run 3 "$PKGFLAT" sign --key "$P/expired.key" --cert "$P/expired.pem" "$INSTALLOMATOR" -o o/x.pkg
	has "$T/err" "notBefore 2001-01-01 00:00:00 UTC, notAfter 2002-01-01 00:00:00 UTC"
	# Paths as typed: absolute stays absolute, ./ stays.
	run 3 "$PKGFLAT" convert /etc -o o/x.pkg
	has "$T/err" "pkgflat: /etc: not a bundle package: no Contents directory"
	mkdir -p sub/NotA.pkg
	run 3 "$PKGFLAT" convert ./sub/NotA.pkg/ -o o/x.pkg
	has "$T/err" "pkgflat: ./sub/NotA.pkg: not a bundle package: no Contents directory"
	run 3 "$PKGFLAT" info "$PWD/sub/NotA.pkg"
	has "$T/err" "pkgflat: $PWD/sub/NotA.pkg: not a bundle package"
	only o
}

sign_in_out() {
	pki
	printf 'test-pass\n' >pw
	# productsign's order: options, then IN and OUT.
	run 0 "$PKGFLAT" sign --p12 "$P/leaf.p12" --pass file:pw "$INSTALLOMATOR" a.pkg
	run 0 "$PKGFLAT" sign --p12 "$P/leaf.p12" --pass file:pw "$INSTALLOMATOR" -o b.pkg
	cmp a.pkg b.pkg || fail "IN OUT and IN -o OUT differ"
	check_signed a.pkg
	run 2 "$PKGFLAT" sign --p12 "$P/leaf.p12" --pass file:pw "$INSTALLOMATOR" c.pkg -o d.pkg
	has "$T/err" "OUT twice"
	run 2 "$PKGFLAT" sign --p12 "$P/leaf.p12" --pass file:pw "$INSTALLOMATOR" c.pkg d.pkg
	has "$T/err" "one package at a time"
	[ ! -e c.pkg ] && [ ! -e d.pkg ] || fail "written after a usage error"
}

timestamp_none() {
	pki
	run 0 "$PKGFLAT" sign --timestamp=none --key "$P/leaf.key" --cert "$P/leaf.pem" \
	    --chain "$P/chain.pem" "$INSTALLOMATOR" -o n.pkg
	has "$T/err" ", no timestamp"
	check_signed n.pkg
	openssl cms -cmsout -print -inform DER -in parts/cms.der >cms.txt
	hasnt cms.txt "id-smime-aa-timeStampToken"
	run 0 "$PKGFLAT" convert -q "$EXIF" -o c.pkg --sign --timestamp=none \
	    --key "$P/leaf.key" --cert "$P/leaf.pem" --chain "$P/chain.pem"
	check_signed c.pkg
	hasnt "$T/err" "host none"
}

# An identity chained to an Apple root is timestamped by default, as
# productsign does. The test PKI cannot chain to Apple's real roots:
# PKGFLAT_TEST_APPLE_ROOT (tests only) counts its root as one, and
# PKGFLAT_TEST_APPLE_TSA stands in for Apple's server.
apple_default_timestamp() {
	pki
	PKI=$P start_tsa ok
	export PKGFLAT_TEST_APPLE_ROOT="$P/root.pem"
	PKGFLAT_TEST_APPLE_TSA=$url run 0 "$PKGFLAT" sign --key "$P/leaf.key" \
	    --cert "$P/leaf.pem" --chain "$P/chain.pem" "$INSTALLOMATOR" -o a.pkg
	has "$T/err" "timestamped by $url (Apple's timestamp server, as productsign does; --timestamp=none to sign without)"
	check_signed a.pkg 3 "$(python3 "$ROOT/tests/cli/sigparts.py" a.pkg x | sed -n 's/^cms CMS 276 //p')"
	openssl cms -cmsout -print -inform DER -in parts/cms.der >cms.txt
	has cms.txt "id-smime-aa-timeStampToken"
	# --timestamp=none opts out; an explicit URL wins.
	PKGFLAT_TEST_APPLE_TSA=$url run 0 "$PKGFLAT" sign --timestamp=none --key "$P/leaf.key" \
	    --cert "$P/leaf.pem" --chain "$P/chain.pem" "$INSTALLOMATOR" -o n.pkg
	has "$T/err" ", no timestamp"
	# Unreachable: a clear error that names the way out, nothing written.
	PKGFLAT_TEST_APPLE_TSA=http://127.0.0.1:9/ts run 3 "$PKGFLAT" sign --key "$P/leaf.key" \
	    --cert "$P/leaf.pem" --chain "$P/chain.pem" "$INSTALLOMATOR" -o u.pkg
	has "$T/err" "cannot reach the timestamp server at 127.0.0.1 port 9"
	has "$T/err" "pkgflat: productsign timestamps Developer ID signatures by default; --timestamp=none signs without one"
	[ ! -e u.pkg ] || fail "written without the timestamp"
	# Not an Apple chain: no timestamp unless asked.
	unset PKGFLAT_TEST_APPLE_ROOT
	PKGFLAT_TEST_APPLE_TSA=http://127.0.0.1:9/ts run 0 "$PKGFLAT" sign --key "$P/leaf.key" \
	    --cert "$P/leaf.pem" --chain "$P/chain.pem" "$INSTALLOMATOR" -o v.pkg
	has "$T/err" ", no timestamp"
}

sign_by_name() {
	pki
	cc -o mkp12 "$ROOT/tests/tools/mkp12.c" -lcrypto || fail "cannot build mkp12"
	./mkp12 multi.p12 test-pass "$P/leaf.key" "$P/leaf.pem" "$P/mas.key" "$P/mas.pem" \
	    -- "$P/chain.pem" || fail "mkp12"
	printf 'test-pass\n' >pw
	run 0 "$PKGFLAT" sign --p12 multi.p12 --pass file:pw --sign "3rd Party Mac" \
	    "$INSTALLOMATOR" -o mas.pkg
	has "$T/err" "signed as \"3rd Party Mac Developer Installer: pkgflat Test (TEAMID1234)\""
	python3 "$ROOT/tests/cli/sigparts.py" mas.pkg parts >/dev/null || fail "sigparts"
	[ "$(openssl x509 -in parts/certs/0.pem -noout -fingerprint)" = \
	  "$(openssl x509 -in "$P/mas.pem" -noout -fingerprint)" ] || fail "not the mas identity"
	run 0 "$PKGFLAT" sign --p12 multi.p12 --pass file:pw --sign "Developer ID Installer" \
	    "$INSTALLOMATOR" -o dev.pkg
	check_signed dev.pkg
	# Several match, none matches, several and no --sign: say which there are.
	run 2 "$PKGFLAT" sign --p12 multi.p12 --pass file:pw --sign "pkgflat Test" \
	    "$INSTALLOMATOR" -o x.pkg
	has "$T/err" "multi.p12: 2 identities match 'pkgflat Test': \"Developer ID Installer: pkgflat Test (TEAMID1234)\", \"3rd Party Mac Developer Installer: pkgflat Test (TEAMID1234)\""
	run 2 "$PKGFLAT" sign --p12 multi.p12 --pass file:pw --sign "Nobody" "$INSTALLOMATOR" -o x.pkg
	has "$T/err" "multi.p12: no identity matches 'Nobody'; it holds \"Developer ID Installer: pkgflat Test (TEAMID1234)\", \"3rd Party Mac Developer Installer: pkgflat Test (TEAMID1234)\""
	run 2 "$PKGFLAT" sign --p12 multi.p12 --pass file:pw "$INSTALLOMATOR" -o x.pkg
	has "$T/err" "multi.p12: holds 2 identities: choose one by its name (sign --sign NAME; convert, batch, flatten, build --identity NAME)"
	[ ! -e x.pkg ] || fail "written after an error"
	# --sign goes with --p12.
	run 2 "$PKGFLAT" sign --sign "x" --key "$P/leaf.key" --cert "$P/leaf.pem" "$INSTALLOMATOR" -o x.pkg
	has "$T/err" "--sign NAME picks an identity inside --p12"
	# convert (and batch, flatten, build: one option table) pick by --identity.
	run 0 "$PKGFLAT" convert "$EXIF" -o cmas.pkg --sign --p12 multi.p12 --pass file:pw \
	    --identity "3rd Party Mac"
	has "$T/err" "signed as \"3rd Party Mac Developer Installer: pkgflat Test (TEAMID1234)\""
	rm -rf parts
	python3 "$ROOT/tests/cli/sigparts.py" cmas.pkg parts >/dev/null || fail "sigparts"
	[ "$(openssl x509 -in parts/certs/0.pem -noout -fingerprint)" = \
	  "$(openssl x509 -in "$P/mas.pem" -noout -fingerprint)" ] || fail "convert: not the mas identity"
	run 2 "$PKGFLAT" convert "$EXIF" -o x.pkg --sign --p12 multi.p12 --pass file:pw
	has "$T/err" "--identity NAME"
	run 2 "$PKGFLAT" convert "$EXIF" -o x.pkg --identity "3rd Party Mac"
	has "$T/err" "identity options go with --sign"
	run 2 "$PKGFLAT" convert "$EXIF" -o x.pkg --sign --key "$P/leaf.key" --cert "$P/leaf.pem" \
	    --identity "3rd Party Mac"
	has "$T/err" "--identity NAME picks an identity inside --p12 FILE"
	[ ! -e x.pkg ] || fail "written after an error"
}

cert_is_ca() {
	pki
	run 2 "$PKGFLAT" sign --key "$P/ca.key" --cert "$P/ca.pem" "$INSTALLOMATOR" -o x.pkg
	has "$T/err" "pkgflat: $P/ca.pem: a CA certificate (Developer ID Certification Authority), not a signing identity: --cert takes the leaf (Developer ID Installer) certificate; put intermediates and the root in --chain (productsign's --cert adds an intermediate)"
	run 2 "$PKGFLAT" convert "$EXIF" -o x.pkg --sign --key "$P/ca.key" --cert "$P/ca.pem"
	has "$T/err" "a CA certificate"
	[ ! -e x.pkg ] || fail "written after an error"
}

check_signature() {
	pki
	run 0 "$PKGFLAT" sign -q --key "$P/leaf.key" --cert "$P/leaf.pem" --chain "$P/chain.pem" \
	    "$INSTALLOMATOR" -o s.pkg
	run 0 "$PKGFLAT" check-signature --ca "$P/root.pem" s.pkg
	# pkgutil's words, and nothing of verify's check list.
	has "$T/out" 'Package "s.pkg":'
	has "$T/out" "   Status: signed by a certificate trusted through --ca (not an Apple root)"
	has "$T/out" "   Certificate Chain:"
	has "$T/out" "    1. Developer ID Installer: pkgflat Test (TEAMID1234)"
	hasnt "$T/out" "rsa-signature"
	hasnt "$T/out" "no check failed"
	run 0 "$PKGFLAT" verify --signature-only --ca "$P/root.pem" s.pkg
	cp "$T/out" v.out
	run 0 "$PKGFLAT" check-signature --ca "$P/root.pem" s.pkg
	# (The time judged at is the clock's: left out of the comparison.)
	head -n "$(wc -l <"$T/out")" v.out | grep -v "judged at" >v.head
	grep -v "judged at" "$T/out" | cmp - v.head || fail "not verify --signature-only's first lines"
	# Unsigned: pkgutil's "no signature", exit 1.
	run 0 "$PKGFLAT" convert -q "$EXIF" -o u.pkg
	run 1 "$PKGFLAT" check-signature u.pkg
	has "$T/out" "   Status: no signature"
}

# Each message reaches stderr in one write(2), whole lines only: stderr is
# unbuffered, and written a piece at a time (the escaping printer went a
# byte at a time) a line could be cut by another process's or thread's
# (batch's workers, notarize's threads). strace shows every write.
whole_writes() {
	command -v strace >/dev/null || fail "strace missing (scripts/install-deps)"
	pki
	# traced WANT NAME CMD...: CMD under strace, exit WANT; its log in NAME.
	traced() {
		want=$1 log=$2; shift 2
		# LeakSanitizer cannot run under ptrace.
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 run "$want" \
		    strace -f -qq -xx -s 100000 -e trace=write,writev -o "$log" "$@"
		python3 "$ROOT/tests/cli/whole_writes.py" "$log" ||
			fail "$*: a message cut: $(cat "$T/err")"
	}
	# An error naming a file; a usage error (two lines); a summary; a
	# legacy bundle where a flat package is wanted.
	traced 3 e.log "$PKGFLAT" sign --key "$P/leaf.key" --cert "$P/leaf.pem" nonexistent.pkg -o x.pkg
	has "$T/err" "pkgflat: nonexistent.pkg: cannot open"
	traced 2 u.log "$PKGFLAT" sign nonexistent.pkg -o x.pkg
	has "$T/err" "Try 'pkgflat --help'."
	traced 0 s.log "$PKGFLAT" sign --key "$P/leaf.key" --cert "$P/leaf.pem" \
	    --chain "$P/chain.pem" "$INSTALLOMATOR" -o s.pkg
	has "$T/err" "pkgflat: signed s.pkg"
	traced 3 l.log "$PKGFLAT" sign --key "$P/leaf.key" --cert "$P/leaf.pem" "$EXIF" -o x.pkg
	has "$T/err" "a legacy bundle: use pkgflat convert --sign"
	# batch -j 2 -v: a failed input, the plain progress lines, an ignored
	# flat package, warnings.
	mkdir -p in/Broken.pkg/Contents && printf 'garbage' >in/Broken.pkg/Contents/Info.plist &&
	cp -a "$EXIF" in/ && cp "$INSTALLOMATOR" in/ || fail "fixture"
	traced 1 b.log "$PKGFLAT" batch -v -j 2 -o out in
	has "$T/err" "[2/2] converted"
	has "$T/err" "pkgflat: ignored "
	has "$T/err" "pkgflat: warning: "
	[ "$(grep -c 'write(2,' b.log)" -ge 5 ] || fail "too few writes: $(cat b.log)"
}

t suggestions suggestions
t summary_convert summary_convert
t summary_sign summary_sign
t verbose_everywhere verbose_everywhere
t warnings_once warnings_once
t messages messages
t sign_in_out sign_in_out
t timestamp_none timestamp_none
t apple_default_timestamp apple_default_timestamp
t sign_by_name sign_by_name
t cert_is_ca cert_is_ca
t check_signature check_signature
t whole_writes whole_writes
