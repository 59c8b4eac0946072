# Two-step signing: sign --prepare here, openssl pkeyutl with the key
# "elsewhere", sign --inject here; checked with the oracles of
# test_sign.sh and byte for byte against one-step signing.
. tests/cli/lib.sh

XARCHECK="$ROOT/${BUILD:-build}/xarcheck"
IPKG="$TD/flat/Installomator-0.5.pkg"
export SOURCE_DATE_EPOCH=1700000000

. tests/cli/signing.sh

# remote_sign DIR KEY: what the key holder does, per the README in DIR.
remote_sign() {
	for x in rsa cms; do
		openssl pkeyutl -sign -inkey "$2" -in "$1/$x.tbs" -out "$1/$x.sig" ||
			fail "openssl pkeyutl -sign $1/$x.tbs"
	done
}

same_as_one_step() {
	pki
	cp "$IPKG" in.pkg
	sum=$(sha256sum in.pkg)
	run 0 "$PKGFLAT" sign --prepare req --cert "$P/leaf.pem" --chain "$P/chain.pem" in.pkg
	[ ! -s "$T/out" ] || fail "prepare printed: $(cat "$T/out")"
	for f in README state head certs.pem rsa.tbs cms.tbs rsa.sha1 cms.sha1; do
		[ -f "req/$f" ] || fail "req/$f missing"
	done
	[ "$(stat -c %s req/rsa.tbs)" -eq 35 ] && [ "$(stat -c %s req/cms.sha1)" -eq 20 ] ||
		fail "tbs/sha1 sizes"
	# rsa.tbs is DigestInfo(sha1) || the TOC checksum of the output.
	printf '\060\041\060\011\006\005\053\016\003\002\032\005\000\004\024' |
	    cat - req/rsa.sha1 | cmp - req/rsa.tbs || fail "rsa.tbs is not DigestInfo(sha1) || rsa.sha1"
	has req/state "input-sha256 $(sha256sum in.pkg | cut -c1-64)"
	remote_sign req "$P/leaf.key"
	run 0 "$PKGFLAT" sign --inject req in.pkg -o two.pkg
	check_signed two.pkg
	# The same bytes as signing in one step with the key.
	run 0 "$PKGFLAT" sign --key "$P/leaf.key" --cert "$P/leaf.pem" --chain "$P/chain.pem" \
	    in.pkg -o one.pkg
	cmp one.pkg two.pkg || fail "two-step and one-step signing differ"
	python3 "$ROOT/tests/cli/sigparts.py" --same-data "$IPKG" two.pkg >/dev/null || fail "data changed"
	# The hash form of the contract gives the same signatures.
	for x in rsa cms; do
		openssl pkeyutl -sign -inkey "$P/leaf.key" -pkeyopt digest:sha1 \
		    -in "req/$x.sha1" -out "$x.sig" || fail "pkeyutl digest:sha1"
		cmp "$x.sig" "req/$x.sig" || fail "$x: signing the hash differs from signing the DigestInfo"
	done
	[ "$sum" = "$(sha256sum in.pkg)" ] || fail "input modified"
	# Inject again, in place; and for a converted package.
	run 0 "$PKGFLAT" sign --inject req in.pkg -o in.pkg
	cmp one.pkg in.pkg || fail "in-place inject differs"
	run 0 "$PKGFLAT" convert -q "$TD/legacy/ExifTool-9.47.pkg" -o exif.pkg
	run 0 "$PKGFLAT" sign --prepare req2 --cert "$P/leaf.pem" --chain "$P/chain.pem" exif.pkg
	remote_sign req2 "$P/leaf.key"
	run 0 "$PKGFLAT" sign --inject req2 exif.pkg -o exif-two.pkg
	check_signed exif-two.pkg
	run 0 "$PKGFLAT" sign --key "$P/leaf.key" --cert "$P/leaf.pem" --chain "$P/chain.pem" \
	    exif.pkg -o exif-one.pkg
	cmp exif-one.pkg exif-two.pkg || fail "two-step and one-step differ (converted package)"
}

timestamp_at_inject() {
	pki
	PKI=$P
	start_tsa ok
	run 0 "$PKGFLAT" sign --prepare req --cert "$P/leaf.pem" --chain "$P/chain.pem" "$IPKG"
	remote_sign req "$P/leaf.key"
	run 0 "$PKGFLAT" sign --inject req --timestamp="$url" "$IPKG" -o ts.pkg
	check_signed ts.pkg
	has cms.txt "id-smime-aa-timeStampToken"
	kill $tsa_pid 2>/dev/null
	# Server gone: a clear error, no output.
	mkdir o
	bad_input "cannot reach the timestamp server" "$PKGFLAT" sign --inject req \
	    --timestamp=http://127.0.0.1:9/ts "$IPKG" -o o/x.pkg
	[ -z "$(ls -A o)" ] || fail "output left: $(ls -A o)"
}

bad_requests() {
	pki
	mkdir o
	cp "$IPKG" in.pkg
	sum=$(sha256sum in.pkg)
	run 0 "$PKGFLAT" sign --prepare good --cert "$P/leaf.pem" --chain "$P/chain.pem" in.pkg
	remote_sign good "$P/leaf.key"
	# fresh NAME: a copy of the good request to spoil.
	fresh() { rm -rf "$1" && cp -r good "$1"; }
	# Each signature over the other's bytes: right key, wrong input.
	fresh swapped
	mv swapped/rsa.sig x && mv swapped/cms.sig swapped/rsa.sig && mv x swapped/cms.sig
	bad_input "swapped/rsa.sig: does not verify with the certificate's key" \
	    "$PKGFLAT" sign --inject swapped in.pkg -o o/x.pkg
	# Another key (same size).
	fresh other
	remote_sign other "$P/mas.key"
	bad_input "other/rsa.sig: does not verify with the certificate's key: made with another key" \
	    "$PKGFLAT" sign --inject other in.pkg -o o/x.pkg
	fresh othercms
	openssl pkeyutl -sign -inkey "$P/mas.key" -in othercms/cms.tbs -out othercms/cms.sig
	bad_input "othercms/cms.sig: does not verify" "$PKGFLAT" sign --inject othercms in.pkg -o o/x.pkg
	# Truncated, empty, too long.
	fresh short
	head -c 200 good/rsa.sig >short/rsa.sig
	bad_input "short/rsa.sig: 200 bytes, not a 256-byte RSA signature of rsa.tbs (cut short?)" \
	    "$PKGFLAT" sign --inject short in.pkg -o o/x.pkg
	: >short/rsa.sig
	bad_input "short/rsa.sig: 0 bytes" "$PKGFLAT" sign --inject short in.pkg -o o/x.pkg
	cat good/cms.sig good/cms.sig >short/rsa.sig
	bad_input "512 bytes, not a 256-byte" "$PKGFLAT" sign --inject short in.pkg -o o/x.pkg
	# Missing pieces.
	fresh nosig
	rm nosig/cms.sig
	bad_input "nosig/cms.sig: cannot open" "$PKGFLAT" sign --inject nosig in.pkg -o o/x.pkg
	bad_input "nothere/state: cannot open" "$PKGFLAT" sign --inject nothere in.pkg -o o/x.pkg
	fresh nocerts
	rm nocerts/certs.pem
	bad_input "nocerts/certs.pem: cannot open" "$PKGFLAT" sign --inject nocerts in.pkg -o o/x.pkg
	bad_input "missing.pkg: cannot open" "$PKGFLAT" sign --inject good missing.pkg -o o/x.pkg
	# Another input, or this one modified by a single byte.
	cp "$TD/flat/Disable Gatekeeper.pkg" other.pkg
	bad_input "other.pkg: not the package good was prepared from (its size or SHA-256 differ)" \
	    "$PKGFLAT" sign --inject good other.pkg -o o/x.pkg
	cp in.pkg mod.pkg
	printf 'X' | dd of=mod.pkg bs=1 seek=20000 conv=notrunc 2>/dev/null
	bad_input "mod.pkg: not the package good was prepared from" \
	    "$PKGFLAT" sign --inject good mod.pkg -o o/x.pkg
	# A spoiled request: state, head, certificates.
	fresh st
	sed 's/^signing-time .*/signing-time 17x/' good/state >st/state
	bad_input "st/state: line 6: signing-time is not a decimal number" \
	    "$PKGFLAT" sign --inject st in.pkg -o o/x.pkg
	sed '/^toc-sha1/d' good/state >st/state
	bad_input "st/state: no toc-sha1" "$PKGFLAT" sign --inject st in.pkg -o o/x.pkg
	{ cat good/state; echo "rsa-size 256"; } >st/state
	bad_input "st/state: line 13: rsa-size given twice" "$PKGFLAT" sign --inject st in.pkg -o o/x.pkg
	echo "hello" >st/state
	bad_input "st/state: line 1: not a pkgflat sign request" "$PKGFLAT" sign --inject st in.pkg -o o/x.pkg
	head -c 300 good/state >st/state
	bad_input "st/state: line" "$PKGFLAT" sign --inject st in.pkg -o o/x.pkg
	# Edits that still parse: caught by request-sha256.
	for edit in 's/^rsa-digestinfo 30/rsa-digestinfo 31/' 's/^heap-length \(.*\)/heap-length 1\1/' \
	    's/^cms-reserved .*/cms-reserved 10240/' \
	    "s/^request-sha256 .*/request-sha256 $(printf '%064d' 0)/"; do
		sed "$edit" good/state >st/state
		cmp -s good/state st/state && fail "sed '$edit' changed nothing"
		bad_input "st/state: the request was changed after it was prepared" \
		    "$PKGFLAT" sign --inject st in.pkg -o o/x.pkg
	done
	fresh hd
	head -c 1000 good/head >hd/head
	bad_input "hd/state: the request was changed after it was prepared" \
	    "$PKGFLAT" sign --inject hd in.pkg -o o/x.pkg
	fresh ct
	cp "$P/mas.pem" ct/certs.pem
	bad_input "ct/state: the request was changed after it was prepared" \
	    "$PKGFLAT" sign --inject ct in.pkg -o o/x.pkg
	[ -z "$(ls -A o)" ] || fail "output left: $(ls -A o)"
	[ "$sum" = "$(sha256sum in.pkg)" ] || fail "input modified"
	# prepare: refuses to overwrite, to take a key, a bad leaf, a non-package.
	bad_input "good: already exists" "$PKGFLAT" sign --prepare good --cert "$P/leaf.pem" in.pkg
	run 2 "$PKGFLAT" sign --prepare r --key "$P/leaf.key" --cert "$P/leaf.pem" in.pkg
	has "$T/err" "--prepare needs --cert FILE"
	run 2 "$PKGFLAT" sign --prepare r --cert "$P/leaf.pem" in.pkg -o o/x.pkg
	run 2 "$PKGFLAT" sign --prepare r --cert "$P/leaf.pem" --timestamp in.pkg
	run 2 "$PKGFLAT" sign --inject good --cert "$P/leaf.pem" in.pkg -o o/x.pkg
	has "$T/err" "no identity options"
	run 2 "$PKGFLAT" sign --inject good in.pkg
	run 2 "$PKGFLAT" sign --prepare r --inject good in.pkg -o o/x.pkg
	bad_input "the certificate is not valid now" \
	    "$PKGFLAT" sign --prepare r --cert "$P/expired.pem" in.pkg
	head -c 2000 in.pkg >trunc.pkg
	bad_input "trunc.pkg" "$PKGFLAT" sign --prepare r --cert "$P/leaf.pem" trunc.pkg
	[ ! -e r ] || fail "request directory left behind"
	[ -z "$(ls -A o)" ] || fail "output left: $(ls -A o)"
	ls -a | grep -q '^\.r\.' && fail "temporary request directory left"
	true
}

t same_as_one_step same_as_one_step
t timestamp_at_inject timestamp_at_inject
t bad_requests bad_requests
