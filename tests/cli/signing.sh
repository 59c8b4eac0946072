# Signing helpers shared by tests/cli/test_sign*.sh; sourced after lib.sh,
# with $XARCHECK set.

pki() { "$ROOT/scripts/make-test-pki" "$T/pki" >/dev/null 2>&1 || true; P=$T/pki; }

# check_signed PKG [CERTS CMS-RESERVED]: both signatures verify, the layout
# is productsign's (3 certificates and 9216 bytes for the CMS unless told).
check_signed() {
	"$XARCHECK" "$1" >/dev/null || fail "xarcheck: $1"
	rm -rf parts && python3 "$ROOT/tests/cli/sigparts.py" "$1" parts >summary || fail "sigparts"
	has summary "order:creation-time,checksum,signature,x-signature,file"
	has summary "rsa RSA 20 256 certs ${2:-3}"
	has summary "cms CMS 276 ${3:-9216}"
	has summary "first-data $((276 + ${3:-9216}))"
	openssl x509 -in "$P/leaf.pem" -pubkey -noout >pub.pem
	openssl pkeyutl -verifyrecover -pubin -inkey pub.pem -in parts/rsa.bin -out rec.bin ||
		fail "RSA signature does not verify"
	# DigestInfo(sha1) followed by the checksum itself, not hashed again.
	printf '\060\041\060\011\006\005\053\016\003\002\032\005\000\004\024' | cat - parts/checksum.bin >want.bin
	cmp rec.bin want.bin || fail "RSA block is not DigestInfo(sha1) || checksum"
	openssl cms -verify -inform DER -in parts/cms.der -content parts/checksum.bin -binary \
	    -CAfile "$P/root.pem" -purpose any -ignore_critical -out /dev/null 2>cms.err ||
		{ cat cms.err; fail "CMS signature does not verify"; }
	openssl cms -cmsout -print -inform DER -in parts/cms.der >cms.txt
	has cms.txt "sha1WithRSAEncryption"
	has cms.txt "signingTime"
	hasnt cms.txt "SMIMECapabilities"
	cmp parts/certs/0.pem "$P/leaf.pem" >/dev/null 2>&1 ||
		[ "$(openssl x509 -in parts/certs/0.pem -noout -fingerprint)" = \
		  "$(openssl x509 -in "$P/leaf.pem" -noout -fingerprint)" ] || fail "leaf not first"
	mkdir -p ex && bsdtar -xf "$1" -C ex || fail "bsdtar cannot extract $1"
}
