# Signing as productsign does, checked with openssl (pkeyutl -verifyrecover,
# cms -verify against the test root) and bsdtar.
. tests/cli/lib.sh

EXIF="$TD/legacy/ExifTool-9.47.pkg"
XARCHECK="$ROOT/${BUILD:-build}/xarcheck"
export SOURCE_DATE_EPOCH=1700000000

. tests/cli/signing.sh

convert_and_sign() {
	pki
	run 0 "$PKGFLAT" convert -q "$EXIF" -o s.pkg --sign --key "$P/leaf.key" \
	    --cert "$P/leaf.pem" --chain "$P/chain.pem"
	check_signed s.pkg
	# Signing twice with a fixed time gives the same bytes.
	run 0 "$PKGFLAT" convert -q "$EXIF" -o t.pkg --sign --key "$P/leaf.key" \
	    --cert "$P/leaf.pem" --chain "$P/chain.pem"
	cmp s.pkg t.pkg || fail "not reproducible"
	# The PKCS#12 identity, passphrase from a file and from a descriptor.
	printf 'test-pass\n' >pw
	run 0 "$PKGFLAT" convert -q "$EXIF" -o p.pkg --sign --p12 "$P/leaf.p12" --pass file:pw
	check_signed p.pkg
	run 0 "$PKGFLAT" convert -q "$EXIF" -o q.pkg --sign --p12 "$P/leaf.p12" --pass fd:3 3<pw
	cmp p.pkg q.pkg || fail "fd: and file: passphrases differ"
}

resign_apple_package() {
	pki
	orig="$TD/flat/Installomator-0.5.pkg"
	before=$(sha256sum "$orig")
	PW=test-pass run 0 "$PKGFLAT" sign --p12 "$P/leaf.p12" --pass env:PW "$orig" -o r.pkg
	check_signed r.pkg
	[ "$before" = "$(sha256sum "$orig")" ] || fail "input modified"
	python3 "$ROOT/tests/cli/sigparts.py" --same-data "$orig" r.pkg || fail "file data changed"
	# The stapled ticket after the heap is gone.
	[ "$(stat -c %s r.pkg)" -lt "$(stat -c %s "$orig")" ] || true
	tail -c 16 r.pkg | grep -q t8lr && fail "stapled ticket kept"
	# In place.
	cp r.pkg inplace.pkg
	run 0 "$PKGFLAT" sign --key "$P/leaf.key" --cert "$P/leaf.pem" --chain "$P/chain.pem" \
	    inplace.pkg -o inplace.pkg
	check_signed inplace.pkg
	python3 "$ROOT/tests/cli/sigparts.py" --same-data "$orig" inplace.pkg || fail "data changed"
	# Every corpus package re-signs.
	for f in "$TD"/flat/*.pkg; do
		run 0 "$PKGFLAT" sign --key "$P/leaf.key" --cert "$P/leaf.pem" --chain "$P/chain.pem" \
		    "$f" -o x.pkg
		check_signed x.pkg
		python3 "$ROOT/tests/cli/sigparts.py" --same-data "$f" x.pkg >/dev/null || fail "$f data"
	done
}

bad_identities() {
	pki
	mkdir o
	cp "$TD/flat/Installomator-0.5.pkg" in.pkg
	sum=$(sha256sum in.pkg)
	PW=wrong bad_input "leaf.p12: cannot open: wrong passphrase" \
	    "$PKGFLAT" sign --p12 "$P/leaf.p12" --pass env:PW in.pkg -o o/x.pkg
	bad_input "the private key does not match the certificate" \
	    "$PKGFLAT" sign --key "$P/leaf.key" --cert "$P/expired.pem" in.pkg -o o/x.pkg
	bad_input "not a Developer ID Installer or Mac Installer Distribution certificate" \
	    "$PKGFLAT" sign --key "$P/wrong-eku.key" --cert "$P/wrong-eku.pem" in.pkg -o o/x.pkg
	has "$T/err" "--force signs anyway"
	bad_input "the certificate is not valid now" \
	    "$PKGFLAT" sign --key "$P/expired.key" --cert "$P/expired.pem" in.pkg -o o/x.pkg
	bad_input "cannot decrypt the key: wrong passphrase" \
	    "$PKGFLAT" sign --key "$P/leaf-enc.key" --cert "$P/leaf.pem" --pass file:/dev/null in.pkg -o o/x.pkg
	run 2 "$PKGFLAT" sign --key "$P/leaf.key" --cert "$P/leaf.pem" --pass test-pass in.pkg -o o/x.pkg
	has "$T/err" "never the passphrase itself"
	# A Mac Installer Distribution certificate is accepted; --force signs anything.
	run 0 "$PKGFLAT" sign --key "$P/mas.key" --cert "$P/mas.pem" --chain "$P/chain.pem" in.pkg -o o/mas.pkg
	run 0 "$PKGFLAT" sign --force --key "$P/expired.key" --cert "$P/expired.pem" in.pkg -o o/forced.pkg
	rm o/mas.pkg o/forced.pkg
	# Not a flat package, a truncated one: clean errors, nothing written.
	bad_input "not a flat package" "$PKGFLAT" sign --key "$P/leaf.key" --cert "$P/leaf.pem" \
	    "$EXIF/Contents/Archive.bom" -o o/x.pkg
	head -c 2000 in.pkg >short.pkg
	bad_input "short.pkg" "$PKGFLAT" sign --key "$P/leaf.key" --cert "$P/leaf.pem" short.pkg -o o/x.pkg
	[ -z "$(ls -A o)" ] || fail "output left: $(ls -A o)"
	[ "$sum" = "$(sha256sum in.pkg)" ] || fail "input modified"
}

t convert_and_sign convert_and_sign
t resign_apple_package resign_apple_package
t bad_identities bad_identities

# RFC 3161: a real server on 127.0.0.1 (openssl ts -reply behind it).
timestamped() {
	pki
	PKI=$P
	start_tsa ok
	run 0 "$PKGFLAT" convert -q "$EXIF" -o ts.pkg --sign --key "$P/leaf.key" \
	    --cert "$P/leaf.pem" --chain "$P/chain.pem" --timestamp="$url"
	check_signed ts.pkg
	has cms.txt "id-smime-aa-timeStampToken"
	# The token, checked by openssl ts against the test root: its imprint
	# is SHA-1 of the SignerInfo's signature value.
	python3 - parts/cms.der <<'PY' || fail "cannot pick the token apart"
import subprocess, sys
der = open(sys.argv[1], "rb").read()
out = subprocess.run(["openssl", "asn1parse", "-inform", "DER", "-in", sys.argv[1]],
                     capture_output=True, text=True).stdout.splitlines()
tok = sig = None
for i, l in enumerate(out):
    if "id-smime-aa-timeStampToken" in l:
        tok = int(out[i + 2].split(":")[0])       # SET, then the SEQUENCE
    if "sha1WithRSAEncryption" in l and sig is None and i + 2 < len(out) and "OCTET STRING" in out[i + 2]:
        sig = out[i + 2]
def tlv(off):
    b = der[off + 1]
    if b & 0x80:
        n = b & 0x7f
        return off + 2 + n, int.from_bytes(der[off + 2:off + 2 + n], "big")
    return off + 2, b
s, n = tlv(tok)
open("token.der", "wb").write(der[tok:s + n])
off = int(sig.split(":")[0])
s, n = tlv(off)
open("sigvalue.bin", "wb").write(der[s:s + n])
PY
	cp "$P/tsa.pem" tsa.pem
	openssl ts -verify -token_in -in token.der -data sigvalue.bin -CAfile "$P/root.pem" \
	    -untrusted tsa.pem >tsv.out 2>&1 || { cat tsv.out; fail "timestamp does not verify"; }
	# Re-signing with a timestamp works too.
	run 0 "$PKGFLAT" sign --key "$P/leaf.key" --cert "$P/leaf.pem" --chain "$P/chain.pem" \
	    --timestamp="$url" "$TD/flat/Installomator-0.5.pkg" -o rts.pkg
	check_signed rts.pkg
}

timestamp_failures() {
	pki
	PKI=$P
	mkdir o
	start_tsa garbage
	bad_input "did not answer with a timestamp" "$PKGFLAT" convert -q "$EXIF" -o o/x.pkg --sign \
	    --key "$P/leaf.key" --cert "$P/leaf.pem" --timestamp="$url"
	kill $tsa_pid 2>/dev/null
	start_tsa http500
	bad_input "did not answer with a timestamp" "$PKGFLAT" sign --key "$P/leaf.key" \
	    --cert "$P/leaf.pem" --timestamp="$url" "$TD/flat/Installomator-0.5.pkg" -o o/x.pkg
	kill $tsa_pid 2>/dev/null
	# Nobody listening: said at once, without waiting out the timeout.
	bad_input "cannot reach the timestamp server at 127.0.0.1 port 9: Connection refused" \
	    "$PKGFLAT" sign --key "$P/leaf.key" --cert "$P/leaf.pem" \
	    --timestamp=http://127.0.0.1:9/ts "$TD/flat/Installomator-0.5.pkg" -o o/x.pkg
	start_tsa slow
	bad_input "did not answer" "$PKGFLAT" sign --key "$P/leaf.key" --cert "$P/leaf.pem" \
	    --timestamp="$url" --timestamp-timeout 2 "$TD/flat/Installomator-0.5.pkg" -o o/x.pkg
	kill $tsa_pid 2>/dev/null
	[ -z "$(ls -A o)" ] || fail "output left: $(ls -A o)"
}

t timestamped timestamped
t timestamp_failures timestamp_failures

stapling() {
	pki
	orig="$TD/flat/Installomator-0.5.pkg"
	cp "$orig" a.pkg
	# Apple's own ticket: take it off, put it back, get the same bytes.
	python3 -c "import sys; d=open(sys.argv[1],'rb').read(); open('ticket','wb').write(d[-1668:-16])" "$orig"
	run 0 "$PKGFLAT" staple --remove a.pkg
	[ "$(stat -c %s a.pkg)" -eq $(( $(stat -c %s "$orig") - 1684 )) ] || fail "trailer not removed"
	run 0 "$PKGFLAT" info a.pkg
	has "$T/out" "stapled-ticket             none"
	run 0 "$PKGFLAT" staple --ticket ticket a.pkg
	cmp a.pkg "$orig" || fail "re-stapling Apple's ticket does not give Apple's file back"
	# Our own signed package: the record key is the TOC checksum.
	run 0 "$PKGFLAT" convert -q "$EXIF" -o s.pkg --sign --key "$P/leaf.key" \
	    --cert "$P/leaf.pem" --chain "$P/chain.pem"
	run 0 "$PKGFLAT" staple --ticket ticket s.pkg
	check_signed s.pkg
	key=$(od -An -v -tx1 parts/checksum.bin | tr -d ' \n')
	run 0 "$PKGFLAT" info s.pkg
	has "$T/out" "stapled-ticket             1652 bytes, record 2/1/$key"
	# Errors: nothing to remove; stale bytes after the heap; no ticket file.
	run 0 "$PKGFLAT" staple --remove s.pkg
	run 0 "$PKGFLAT" staple --remove s.pkg
	has "$T/err" "no stapled ticket to remove; nothing changed"
	cp "$TD/flat/Install Joyent Pkgsrc.pkg" j.pkg
	bad_input "2249 bytes after the heap are not a stapled ticket" \
	    "$PKGFLAT" staple --ticket ticket j.pkg
	cmp j.pkg "$TD/flat/Install Joyent Pkgsrc.pkg" || fail "modified on error"
	bad_input "nope: cannot open" "$PKGFLAT" staple --ticket nope s.pkg
	run 2 "$PKGFLAT" staple s.pkg
}

t stapling stapling

# The signed TOC has the shape of productsign's (Installomator, 2020):
# the same top-level order and the same elements under each signature.
toc_shaped_like_apple() {
	pki
	run 0 "$PKGFLAT" sign --key "$P/leaf.key" --cert "$P/leaf.pem" --chain "$P/chain.pem" \
	    "$TD/flat/Installomator-0.5.pkg" -o ours.pkg
	python3 - "$TD/flat/Installomator-0.5.pkg" ours.pkg <<'PY' || exit 1
import struct, sys, zlib, xml.etree.ElementTree as ET
def shape(path):
    d = open(path, "rb").read()
    clen, = struct.unpack(">Q", d[8:16])
    toc = ET.fromstring(zlib.decompress(d[28:28 + clen])).find("toc")
    def walk(e, depth=0):
        yield "  " * depth + e.tag + "".join(" %s=%s" % kv for kv in sorted(e.attrib.items())
                                             if kv[0] != "id")
        for c in e:
            yield from walk(c, depth + 1)
    top = [c.tag for c in toc]
    sigs = [l for t in ("signature", "x-signature", "checksum") for l in walk(toc.find(t))]
    return top[:top.index("file")], sigs, [ (c.find("offset").text, c.find("size").text) for c in (toc.find("checksum"), toc.find("signature"), toc.find("x-signature"))]
a, b = shape(sys.argv[1]), shape(sys.argv[2])
assert a[0] == b[0], (a[0], b[0])
assert a[1] == b[1], "\n".join(a[1]) + "\n----\n" + "\n".join(b[1])
assert a[2] == b[2], (a[2], b[2])
print("same shape:", a[0], a[2])
PY
}

t toc_shaped_like_apple toc_shaped_like_apple

# An external signer: openssl pkeyutl stands in for an HSM or a service.
sign_command() {
	pki
	cmd="openssl pkeyutl -sign -inkey '$P/leaf.key'"
	run 0 "$PKGFLAT" convert -q "$EXIF" -o ext.pkg --sign --cert "$P/leaf.pem" \
	    --chain "$P/chain.pem" --sign-command "$cmd"
	check_signed ext.pkg
	# The same bytes as signing with the key itself (fixed time, no TSA):
	# RSA PKCS#1 v1.5 is deterministic.
	run 0 "$PKGFLAT" convert -q "$EXIF" -o key.pkg --sign --cert "$P/leaf.pem" \
	    --chain "$P/chain.pem" --key "$P/leaf.key"
	cmp ext.pkg key.pkg || fail "external and key signing differ"
	run 0 "$PKGFLAT" sign --cert "$P/leaf.pem" --chain "$P/chain.pem" \
	    --sign-command "$cmd" "$TD/flat/Installomator-0.5.pkg" -o re.pkg
	check_signed re.pkg
	# A signer with the wrong key, one that fails, one that writes junk.
	mkdir o
	bad_input "does not verify with the certificate's key" "$PKGFLAT" sign --cert "$P/leaf.pem" \
	    --sign-command "openssl pkeyutl -sign -inkey '$P/mas.key'" "$TD/flat/Installomator-0.5.pkg" -o o/x.pkg
	bad_input "the signing command failed (exit status 3)" "$PKGFLAT" sign --cert "$P/leaf.pem" \
	    --sign-command "exit 3" "$TD/flat/Installomator-0.5.pkg" -o o/x.pkg
	bad_input "wrote 5 bytes, not a 256-byte signature" "$PKGFLAT" sign --cert "$P/leaf.pem" \
	    --sign-command "printf hello" "$TD/flat/Installomator-0.5.pkg" -o o/x.pkg
	run 2 "$PKGFLAT" sign --cert "$P/leaf.pem" --key "$P/leaf.key" --sign-command true \
	    "$TD/flat/Installomator-0.5.pkg" -o o/x.pkg
	[ -z "$(ls -A o)" ] || fail "output left"
}

t sign_command sign_command

# A key in a PKCS#11 token (SoftHSM 2, set up here) through OpenSSL's
# pkcs11 engine.
pkcs11_key() {
	pki
	command -v softhsm2-util >/dev/null || fail "softhsm2 missing (scripts/install-deps)"
	mkdir tokens
	printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
	    "$PWD" >softhsm2.conf
	export SOFTHSM2_CONF="$PWD/softhsm2.conf"
	# Under ASan: the pkcs11 engine leaks its method tables (see
	# tests/lsan.supp), and only full stacks let LSan see whose they are.
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
	export PKGFLAT_PKCS11_MODULE=/usr/lib/softhsm/libsofthsm2.so
	softhsm2-util --init-token --free --label pkgflat --pin 1234 --so-pin 5678 >/dev/null ||
		fail "cannot make a token"
	openssl pkcs8 -topk8 -nocrypt -in "$P/leaf.key" -out leaf.p8
	softhsm2-util --import leaf.p8 --token pkgflat --label leaf --id 01 --pin 1234 >/dev/null ||
		fail "cannot import the key"
	uri="pkcs11:token=pkgflat;object=leaf;type=private"
	PIN=1234 run 0 "$PKGFLAT" convert -q "$EXIF" -o hsm.pkg --sign --key "$uri" \
	    --pass env:PIN --cert "$P/leaf.pem" --chain "$P/chain.pem"
	check_signed hsm.pkg
	# The token signs exactly as the key file does.
	run 0 "$PKGFLAT" convert -q "$EXIF" -o file.pkg --sign --key "$P/leaf.key" \
	    --cert "$P/leaf.pem" --chain "$P/chain.pem"
	cmp hsm.pkg file.pkg || fail "token and key file signatures differ"
	mkdir o
	PIN=1234 bad_input "no such private key in the PKCS#11 token" "$PKGFLAT" sign \
	    --key "pkcs11:token=pkgflat;object=nothere;type=private" --pass env:PIN \
	    --cert "$P/leaf.pem" "$TD/flat/Installomator-0.5.pkg" -o o/x.pkg
	PIN=9999 bad_input "pkcs11:token=pkgflat" "$PKGFLAT" sign --key "$uri" --pass env:PIN \
	    --cert "$P/leaf.pem" "$TD/flat/Installomator-0.5.pkg" -o o/x.pkg
	[ -z "$(ls -A o)" ] || fail "output left"
}

t pkcs11_key pkcs11_key

# A chain too long for productsign's 9216 bytes of CMS: more is reserved,
# and said on stderr; the signatures still verify.
reservation_grows() {
	pki
	cp "$P/chain.pem" long.pem
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out extra.key 2>/dev/null
	note=$(python3 -c 'print("x" * 1500)')
	for i in 1 2 3; do
		openssl req -x509 -new -key extra.key -subj "/CN=pkgflat extra $i" -days 36500 \
		    -addext "nsComment=$note" -out extra$i.pem 2>/dev/null || fail "openssl req"
		cat extra$i.pem >>long.pem
	done
	run 0 "$PKGFLAT" sign --key "$P/leaf.key" --cert "$P/leaf.pem" --chain long.pem \
	    "$TD/flat/Installomator-0.5.pkg" -o long.pkg
	has "$T/err" "pkgflat: warning: long.pkg: the CMS signature with its 6 certificates needs"
	has "$T/err" "(and 512 kept spare): more than productsign's 9216-byte reservation; 10240 bytes are reserved instead"
	check_signed long.pkg 6 10240
	python3 "$ROOT/tests/cli/sigparts.py" --same-data "$TD/flat/Installomator-0.5.pkg" long.pkg \
	    >/dev/null || fail "data changed"
	# convert --sign reports it among its warnings; two-step signing too.
	run 0 "$PKGFLAT" convert "$EXIF" -o conv.pkg --sign --key "$P/leaf.key" \
	    --cert "$P/leaf.pem" --chain long.pem
	has "$T/err" "more than productsign's 9216-byte reservation"
	check_signed conv.pkg 6 10240
	run 0 "$PKGFLAT" sign --prepare req --cert "$P/leaf.pem" --chain long.pem long.pkg
	has "$T/err" "pkgflat: warning: req: the CMS signature with its 6 certificates"
	for x in rsa cms; do openssl pkeyutl -sign -inkey "$P/leaf.key" -in req/$x.tbs -out req/$x.sig; done
	run 0 "$PKGFLAT" sign --inject req long.pkg -o two.pkg
	has "$T/err" "(and 5120 kept for a timestamp)"
	has "$T/err" "14336 bytes are reserved instead"
	check_signed two.pkg 6 14336
	# The usual chain stays at 9216, without a word (-q: not even the
	# summary).
	run 0 "$PKGFLAT" sign -q --key "$P/leaf.key" --cert "$P/leaf.pem" --chain "$P/chain.pem" \
	    long.pkg -o short.pkg
	[ ! -s "$T/err" ] || fail "unexpected stderr: $(cat "$T/err")"
	check_signed short.pkg
}

t reservation_grows reservation_grows

# A heap of 16 MiB or more: copied while the key is read, to where it
# keeps its offset modulo 64 KiB (the kernel copies that fastest); zero
# padding after the CMS and spaces before </xar> make the head fit. The
# signatures are checked by openssl, the layout by Python.
place() { python3 "$ROOT/tests/cli/heapplace.py" "$1" || fail "heapplace $1"; }
aligned() { # aligned IN OUT: OUT's file data at IN's offset modulo 64 KiB
	a=$(place "$1" | cut -d' ' -f1) && b=$(place "$2" | cut -d' ' -f1)
	[ $((a % 65536)) -eq $((b % 65536)) ] || fail "$2: data at $b, $1's at $a: not the same modulo 65536"
}
reserved() { # the CMS reservation sigparts finds in PKG
	python3 "$ROOT/tests/cli/sigparts.py" "$1" rparts | sed -n 's/^cms CMS 276 //p'
}
large_heap() {
	pki
	python3 "$ROOT/tests/cli/mkbig.py" big.pkg 20 || fail "mkbig.py"
	run 0 "$PKGFLAT" convert -q big.pkg -o flat.pkg
	before=$(sha256sum flat.pkg)
	run 0 "$PKGFLAT" sign -q --key "$P/leaf.key" --cert "$P/leaf.pem" --chain "$P/chain.pem" \
	    flat.pkg -o s.pkg
	[ "$before" = "$(sha256sum flat.pkg)" ] || fail "input modified"
	[ ! -s "$T/err" ] || fail "unexpected stderr: $(cat "$T/err")"
	aligned flat.pkg s.pkg
	r=$(reserved s.pkg)
	[ "$r" -ge 9216 ] && [ "$r" -lt $((9216 + 32768 + 65536)) ] || fail "CMS reservation $r"
	check_signed s.pkg 3 "$r"
	python3 "$ROOT/tests/cli/sigparts.py" --same-data flat.pkg s.pkg >/dev/null || fail "data changed"
	place s.pkg | grep -q "  </xar>" || fail "no spaces before </xar>: $(place s.pkg)"
	python3 "$ROOT/tests/cli/sigparts.py" s.pkg xp >/dev/null && xmllint --noout xp/toc.xml ||
		fail "TOC not well-formed"
	CA="$P/root.pem" whole s.pkg
	7zz t s.pkg >7z.out 2>&1 || fail "7zz t s.pkg: $(tail -5 7z.out)"
	# Reproducible, and what two-step signing gives byte for byte.
	run 0 "$PKGFLAT" sign -q --key "$P/leaf.key" --cert "$P/leaf.pem" --chain "$P/chain.pem" \
	    flat.pkg -o s2.pkg
	cmp s.pkg s2.pkg || fail "not reproducible"
	run 0 "$PKGFLAT" sign --prepare req --cert "$P/leaf.pem" --chain "$P/chain.pem" flat.pkg
	for x in rsa cms; do openssl pkeyutl -sign -inkey "$P/leaf.key" -in req/$x.tbs -out req/$x.sig; done
	run 0 "$PKGFLAT" sign --inject req flat.pkg -o two.pkg
	r2=$(reserved two.pkg)
	check_signed two.pkg 3 "$r2"
	aligned flat.pkg two.pkg
	# Bytes after the last file (here junk, as a stapled ticket would be)
	# are not carried over: the copy started from the header alone stops
	# at the last file.
	cp flat.pkg junk.pkg && head -c 5000 /dev/urandom >>junk.pkg
	run 0 "$PKGFLAT" sign -q --key "$P/leaf.key" --cert "$P/leaf.pem" --chain "$P/chain.pem" \
	    junk.pkg -o j.pkg
	cmp s.pkg j.pkg || fail "trailing bytes changed the signed package"
	# Re-signing a signed package, and signing in place.
	run 0 "$PKGFLAT" sign -q --key "$P/leaf.key" --cert "$P/leaf.pem" --chain "$P/chain.pem" \
	    s.pkg -o re.pkg
	aligned s.pkg re.pkg
	check_signed re.pkg 3 "$(reserved re.pkg)"
	cp flat.pkg inplace.pkg
	run 0 "$PKGFLAT" sign -q --fsync --key "$P/leaf.key" --cert "$P/leaf.pem" \
	    --chain "$P/chain.pem" inplace.pkg inplace.pkg
	cmp s.pkg inplace.pkg || fail "signing in place differs"
	# A chain too long for the room planned before the key was read: the
	# heap follows the head instead, still at its offset modulo 64 KiB.
	cp "$P/chain.pem" long.pem
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out extra.key 2>/dev/null
	for i in 1 2 3 4 5 6; do
		note=$(head -c 15000 /dev/urandom | base64 -w0)
		openssl req -x509 -new -key extra.key -subj "/CN=pkgflat extra $i" -days 36500 \
		    -addext "nsComment=$note" -out extra$i.pem 2>/dev/null || fail "openssl req"
		cat extra$i.pem >>long.pem
	done
	run 0 "$PKGFLAT" sign --key "$P/leaf.key" --cert "$P/leaf.pem" --chain long.pem \
	    flat.pkg -o long.pkg
	has "$T/err" "more than productsign's 9216-byte reservation"
	aligned flat.pkg long.pkg
	b=$(place long.pkg | cut -d' ' -f1)
	[ "$b" -gt $((28 + 32768 + 65536 + $(place flat.pkg | cut -d' ' -f1))) ] ||
		fail "long chain: data at $b, where the early copy would have put it"
	check_signed long.pkg 9 "$(reserved long.pkg)"
	python3 "$ROOT/tests/cli/sigparts.py" --same-data flat.pkg long.pkg >/dev/null || fail "data changed"
	# A wrong passphrase, or a TOC verify calls malformed (found while the
	# copy runs): exit 3, nothing written, no temporary file left.
	mkdir o
	printf 'wrong\n' >pw
	bad_input "leaf.p12: cannot open: wrong passphrase" \
	    "$PKGFLAT" sign --p12 "$P/leaf.p12" --pass file:pw flat.pkg -o o/x.pkg
	only o
	# Cut short: the copy started from the header stops when the TOC
	# shows the last file past the end.
	head -c -1000 flat.pkg >cut.pkg
	bad_input "cut.pkg: " "$PKGFLAT" sign --key "$P/leaf.key" --cert "$P/leaf.pem" \
	    cut.pkg -o o/x.pkg
	has "$T/err" "outside the heap"
	only o
	python3 "$ROOT/tests/cli/heapplace.py" --dup-id flat.pkg dup.pkg || fail "--dup-id"
	cp dup.pkg dup0.pkg
	bad_input "dup.pkg: xar-structure:" \
	    "$PKGFLAT" sign --key "$P/leaf.key" --cert "$P/leaf.pem" dup.pkg -o o/x.pkg
	has "$T/err" "is used more than once"
	only o
	cmp dup.pkg dup0.pkg || fail "input modified"
	[ "$before" = "$(sha256sum flat.pkg)" ] || fail "input modified"
}

t large_heap large_heap
