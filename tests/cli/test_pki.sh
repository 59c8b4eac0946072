# The throwaway test PKI (scripts/make-test-pki) and the test timestamp
# server (tests/tools/tsa_server.py), checked with openssl as the oracle.
. tests/cli/lib.sh

PKI="$T/pki"
MKPKI="$ROOT/scripts/make-test-pki"
TSA="$ROOT/tests/tools/tsa_server.py"
sh "$MKPKI" "$PKI" >"$T/pki.out" 2>"$T/pki.err"
PKI_RC=$?

# DER bytes of a certificate as one lowercase hex string.
der_hex() { openssl x509 -in "$1" -outform DER | od -An -v -tx1 | tr -d ' \n'; }

# Public key of whatever openssl can read a private key from, as PEM.
pub_of() { # pub_of KEYFILE [openssl pkey options...]
	f=$1; shift
	openssl pkey -in "$f" "$@" -pubout 2>/dev/null
}

# post URL FILE OUT [TIMEOUT [CONTENT-TYPE]]: POST FILE (an RFC 3161 query) with
# Python's urllib; body to OUT, "STATUS CONTENT-TYPE" (or "timeout") on stdout.
post() {
	python3 - "$@" <<'PY'
import socket, sys, urllib.error, urllib.request
url, infile, outfile = sys.argv[1:4]
timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 20
ctype = sys.argv[5] if len(sys.argv) > 5 else "application/timestamp-query"
assert url.startswith("http://127.0.0.1:"), url
req = urllib.request.Request(url, data=open(infile, "rb").read(),
                             headers={"Content-Type": ctype}, method="POST")
try:
    r = urllib.request.urlopen(req, timeout=timeout)
except urllib.error.HTTPError as e:
    r = e
except (socket.timeout, TimeoutError):
    print("timeout")
    sys.exit(0)
except urllib.error.URLError as e:
    if isinstance(e.reason, (socket.timeout, TimeoutError)):
        print("timeout")
        sys.exit(0)
    raise
open(outfile, "wb").write(r.read())
print(r.status, r.headers.get("Content-Type"))
PY
}

# stopped_by_itself SECS: the server exits with status 0 within SECS seconds.
stopped_by_itself() {
	i=0
	while kill -0 "$tsa_pid" 2>/dev/null && [ $i -lt $(($1 * 10)) ]; do
		# A child that has exited but not been reaped still answers kill -0.
		[ "$(sed 's/.*) //' "/proc/$tsa_pid/stat" 2>/dev/null | cut -c1)" = Z ] && break
		i=$((i + 1))
		sleep 0.1
	done
	[ $i -lt $(($1 * 10)) ] || { cat server.log; fail "server still running after $1 s"; }
	wait "$tsa_pid"
	rc=$?
	[ $rc -eq 0 ] || { cat server.log; fail "server exit status $rc"; }
}

query() { # query FILE: a SHA-1 RFC 3161 query asking for the TSA certificate
	echo "pkgflat timestamp test data" >data
	openssl ts -query -data data -sha1 -cert -out "$1" 2>/dev/null || fail "ts -query failed"
}

make_pki() {
	[ "$PKI_RC" -eq 0 ] || { cat "$T/pki.err"; fail "make-test-pki exit $PKI_RC"; }
	[ "$(cat "$T/pki.out")" = "$PKI" ] || fail "stdout is not OUTDIR: $(cat "$T/pki.out")"
	[ ! -s "$T/pki.err" ] || fail "stderr not empty: $(cat "$T/pki.err")"
	for f in root.pem root.key ca.pem ca.key leaf.pem leaf.key leaf.der \
	    leaf-enc.key chain.pem leaf.p12 leaf-nopass.p12 expired.pem expired.key \
	    wrong-eku.pem wrong-eku.key mas.pem mas.key tsa.pem tsa.key tsa.cnf \
	    other-root.pem other-root.key; do
		[ -s "$PKI/$f" ] || fail "missing $f"
	done
	[ ! -e "$PKI/.work" ] || fail "work directory left behind"
	cat "$PKI/ca.pem" "$PKI/root.pem" | cmp -s - "$PKI/chain.pem" ||
	    fail "chain.pem is not ca.pem + root.pem"
	for k in root ca leaf expired wrong-eku mas tsa other-root; do
		openssl pkey -in "$PKI/$k.key" -noout -text 2>/dev/null | head -1 >k.txt
		has k.txt "Private-Key: (2048 bit, 2 primes)"
		has "$PKI/$k.key" "-----BEGIN PRIVATE KEY-----"
	done
}

make_pki_errors() {
	run 2 sh "$MKPKI"
	has "$T/err" "usage: make-test-pki OUTDIR"
	mkdir full && echo x >full/x
	run 1 sh "$MKPKI" full
	has "$T/err" "full exists and is not empty"
	[ "$(ls full)" = x ] || fail "touched a non-empty OUTDIR"
	echo x >file
	run 1 sh "$MKPKI" file
	has "$T/err" "file exists and is not a directory"
	run 1 env PATH=/nonexistent /bin/sh "$MKPKI" nossl
	has "$T/err" "make-test-pki: openssl not found in PATH"
	[ ! -e nossl ] || fail "created OUTDIR without openssl"
	# An existing empty directory is fine, and odd characters in the path
	# survive into tsa.cnf.
	mkdir "empty \$dir #1"
	run 0 sh "$MKPKI" "empty \$dir #1"
	has "$T/out" "/empty \$dir #1"
	echo data >d
	openssl ts -query -data d -sha256 -cert -out q.tsq 2>/dev/null || fail "ts -query"
	run 0 openssl ts -reply -config "empty \$dir #1/tsa.cnf" -queryfile q.tsq -out r.tsr
	# (not -untrusted: openssl ts splits that file name at spaces)
	run 0 openssl ts -verify -CAfile "empty \$dir #1/root.pem" -data d -in r.tsr
}

# OpenSSL knows nothing of Apple's critical extension 1.2.840.113635.100.6.1.14
# (nor 100.6.1.10): a plain verify fails with error 34 "unhandled critical
# extension", -x509_strict does not change that, and -ignore_critical is the
# flag that makes the chain verify (also together with -x509_strict).
verify_chain() {
	cd "$PKI" || exit 1
	run 2 openssl verify -CAfile root.pem -untrusted ca.pem leaf.pem
	has "$T/err" "error 34 at 0 depth lookup: unhandled critical extension"
	run 2 openssl verify -x509_strict -CAfile root.pem -untrusted ca.pem leaf.pem
	has "$T/err" "unhandled critical extension"
	run 0 openssl verify -ignore_critical -CAfile root.pem -untrusted ca.pem leaf.pem
	has "$T/out" "leaf.pem: OK"
	run 0 openssl verify -ignore_critical -x509_strict -CAfile root.pem \
	    -untrusted ca.pem leaf.pem
	run 0 openssl verify -ignore_critical -CAfile root.pem -untrusted chain.pem leaf.pem
	# The intermediate's 100.6.2.6 is not critical: no flag needed.
	run 0 openssl verify -x509_strict -CAfile root.pem ca.pem
	run 0 openssl verify -x509_strict -CAfile root.pem root.pem
	# Not without the intermediate, and not under another root.
	run 2 openssl verify -ignore_critical -CAfile root.pem leaf.pem
	has "$T/err" "unable to get local issuer certificate"
	run 2 openssl verify -ignore_critical -CAfile other-root.pem -untrusted ca.pem leaf.pem
	has "$T/err" "unable to get local issuer certificate"
	run 2 openssl verify -CAfile other-root.pem root.pem
	# The variants.
	run 2 openssl verify -ignore_critical -CAfile root.pem -untrusted ca.pem expired.pem
	has "$T/err" "error 10 at 0 depth lookup: certificate has expired"
	run 0 openssl verify -x509_strict -CAfile root.pem -untrusted ca.pem wrong-eku.pem
	run 2 openssl verify -CAfile root.pem -untrusted ca.pem mas.pem
	has "$T/err" "unhandled critical extension"
	run 0 openssl verify -ignore_critical -x509_strict -CAfile root.pem \
	    -untrusted ca.pem mas.pem
	run 0 openssl verify -x509_strict -purpose timestampsign -CAfile root.pem tsa.pem
	run 0 openssl verify -x509_strict -CAfile other-root.pem other-root.pem
}

leaf_cert() {
	run 0 openssl x509 -in "$PKI/leaf.pem" -noout -text
	tr -s ' ' <"$T/out" >leaf.txt
	has leaf.txt "Issuer: CN = Developer ID Certification Authority, OU = pkgflat test"
	has leaf.txt "Subject: CN = Developer ID Installer: pkgflat Test (TEAMID1234), OU = TEAMID1234, O = pkgflat Test, UID = TEAMID1234, C = US"
	has leaf.txt "Not Before: Jan 1 00:00:00 2001 GMT"
	has leaf.txt "Not After : Dec 31 23:59:59 2098 GMT"
	has leaf.txt "Public-Key: (2048 bit)"
	grep -A1 "X509v3 Extended Key Usage: critical" leaf.txt >eku.txt
	has eku.txt " 1.2.840.113635.100.4.13"
	has leaf.txt "1.2.840.113635.100.6.1.14: critical"
	has leaf.txt "1.2.840.113635.100.6.1.33: "
	hasnt leaf.txt "1.2.840.113635.100.6.1.33: critical"
	grep -A1 "X509v3 Key Usage: critical" leaf.txt >ku.txt
	has ku.txt " Digital Signature"
	grep -A1 "X509v3 Basic Constraints: critical" leaf.txt >bc.txt
	has bc.txt " CA:FALSE"
	has leaf.txt "Policy: 1.2.840.113635.100.5.1"
	# Exact DER: OID, critical TRUE, OCTET STRING { NULL }.
	hex=$(der_hex "$PKI/leaf.pem")
	case $hex in
	*060a2a864886f7636406010e0101ff04020500*) ;;
	*) fail "100.6.1.14 is not critical NULL" ;;
	esac
	case $hex in # UTF8String "20230101000000Z", not critical
	*060a2a864886f7636406012104110c0f32303233303130313030303030305a*) ;;
	*) fail "100.6.1.33 is not a non-critical UTF8String 20230101000000Z" ;;
	esac
	case $hex in # EKU: critical, exactly { 1.2.840.113635.100.4.13 }
	*0603551d250101ff040d300b06092a864886f76364040d*) ;;
	*) fail "EKU is not critical { 1.2.840.113635.100.4.13 }" ;;
	esac
	# Validity is UTCTime before 2050, GeneralizedTime after.
	openssl asn1parse -in "$PKI/leaf.pem" >asn1.txt
	has asn1.txt "UTCTIME           :010101000000Z"
	has asn1.txt "GENERALIZEDTIME   :20981231235959Z"
}

ca_certs() {
	run 0 openssl x509 -in "$PKI/root.pem" -noout -text -nameopt RFC2253
	tr -s ' ' <"$T/out" >root.txt
	has root.txt "Subject: O=pkgflat test,OU=pkgflat test,CN=pkgflat Test Apple Root CA"
	has root.txt "Issuer: O=pkgflat test,OU=pkgflat test,CN=pkgflat Test Apple Root CA"
	has root.txt "Not Before: Jan 1 00:00:00 2000 GMT"
	has root.txt "Not After : Dec 31 23:59:59 2099 GMT"
	grep -A1 "X509v3 Basic Constraints: critical" root.txt >bc.txt
	has bc.txt "CA:TRUE"
	grep -A1 "X509v3 Key Usage: critical" root.txt >ku.txt
	has ku.txt "Certificate Sign"

	run 0 openssl x509 -in "$PKI/ca.pem" -noout -text
	tr -s ' ' <"$T/out" >ca.txt
	has ca.txt "Subject: CN = Developer ID Certification Authority, OU = pkgflat test"
	has ca.txt "Issuer: CN = pkgflat Test Apple Root CA, OU = pkgflat test, O = pkgflat test"
	has ca.txt "Not Before: Jan 1 00:00:00 2000 GMT"
	has ca.txt "Not After : Dec 31 23:59:59 2099 GMT"
	grep -A1 "X509v3 Basic Constraints: critical" ca.txt >bc.txt
	has bc.txt "CA:TRUE, pathlen:0"
	has ca.txt "1.2.840.113635.100.6.2.6: "
	hasnt ca.txt "1.2.840.113635.100.6.2.6: critical"
	case $(der_hex "$PKI/ca.pem") in # not critical, value NULL
	*060a2a864886f7636406020604020500*) ;;
	*) fail "100.6.2.6 is not a non-critical NULL" ;;
	esac

	run 0 openssl x509 -in "$PKI/other-root.pem" -noout -subject -issuer
	has "$T/out" "subject=CN = pkgflat Test Unrelated Root CA"
	has "$T/out" "issuer=CN = pkgflat Test Unrelated Root CA"
	a=$(openssl x509 -in "$PKI/root.pem" -noout -pubkey)
	b=$(openssl x509 -in "$PKI/other-root.pem" -noout -pubkey)
	[ "$a" != "$b" ] || fail "other-root shares root's key"
}

variant_certs() {
	run 0 openssl x509 -in "$PKI/expired.pem" -noout -enddate -startdate -subject
	has "$T/out" "notAfter=Jan  1 00:00:00 2002 GMT"
	has "$T/out" "notBefore=Jan  1 00:00:00 2001 GMT"
	has "$T/out" "subject=CN = Developer ID Installer: pkgflat Test (TEAMID1234)"
	run 1 openssl x509 -in "$PKI/expired.pem" -noout -checkend 0
	run 0 openssl x509 -in "$PKI/leaf.pem" -noout -checkend 0

	run 0 openssl x509 -in "$PKI/wrong-eku.pem" -noout -text
	grep -A1 "X509v3 Extended Key Usage: critical" "$T/out" >eku.txt
	has eku.txt "Code Signing"
	hasnt "$T/out" "1.2.840.113635.100.4.13"
	hasnt "$T/out" "1.2.840.113635.100.6.1.14"

	run 0 openssl x509 -in "$PKI/mas.pem" -noout -text
	has "$T/out" "Subject: CN = 3rd Party Mac Developer Installer: pkgflat Test (TEAMID1234)"
	grep -A1 "X509v3 Extended Key Usage: critical" "$T/out" >eku.txt
	has eku.txt "1.2.840.113635.100.4.9"
	has "$T/out" "1.2.840.113635.100.6.1.10: critical"
	hasnt "$T/out" "1.2.840.113635.100.6.1.14"
	case $(der_hex "$PKI/mas.pem") in
	*060a2a864886f7636406010a0101ff04020500*) ;;
	*) fail "100.6.1.10 is not critical NULL" ;;
	esac

	run 0 openssl x509 -in "$PKI/tsa.pem" -noout -text
	has "$T/out" "Subject: CN = pkgflat Test Timestamp Authority"
	has "$T/out" "Issuer: CN = pkgflat Test Apple Root CA"
	grep -A1 "X509v3 Extended Key Usage: critical" "$T/out" >eku.txt
	has eku.txt "Time Stamping"
	grep -A1 "X509v3 Key Usage: critical" "$T/out" >ku.txt
	has ku.txt "Digital Signature"
}

keys_and_p12() {
	cd "$PKI" || exit 1
	openssl x509 -in leaf.pem -noout -pubkey >"$T/want.pub"
	leafpub=$(cat "$T/want.pub")
	[ "$(pub_of leaf.key)" = "$leafpub" ] || fail "leaf.key does not match leaf.pem"
	[ "$(pub_of leaf.der -inform DER)" = "$leafpub" ] || fail "leaf.der does not match"
	[ "$(head -c 2 leaf.der | od -An -tx1 | tr -d ' ')" = 3082 ] || fail "leaf.der is not DER"
	has leaf-enc.key "-----BEGIN ENCRYPTED PRIVATE KEY-----"
	[ "$(pub_of leaf-enc.key -passin pass:test-pass)" = "$leafpub" ] ||
	    fail "leaf-enc.key does not open with test-pass"
	run 1 openssl pkey -in leaf-enc.key -passin pass:wrong -noout
	for k in expired wrong-eku mas; do
		[ "$(pub_of $k.key)" = "$(openssl x509 -in $k.pem -noout -pubkey)" ] ||
		    fail "$k.key does not match $k.pem"
	done

	run 0 openssl pkcs12 -in leaf.p12 -passin pass:test-pass -info -nodes
	has "$T/err" "PBES2, PBKDF2, AES-256-CBC"
	has "$T/out" "friendlyName: Developer ID Installer: pkgflat Test (TEAMID1234)"
	has "$T/out" "-----BEGIN PRIVATE KEY-----"
	[ "$(grep -c 'BEGIN CERTIFICATE' "$T/out")" -eq 3 ] || fail "p12 does not hold 3 certificates"
	has "$T/out" "subject=CN = Developer ID Certification Authority"
	has "$T/out" "subject=CN = pkgflat Test Apple Root CA"
	run 0 openssl pkcs12 -in leaf.p12 -passin pass:test-pass -nocerts -nodes -out "$T/p12.key"
	[ "$(pub_of "$T/p12.key")" = "$leafpub" ] || fail "p12 key does not match leaf.pem"
	run 0 openssl pkcs12 -in leaf.p12 -passin pass:test-pass -clcerts -nokeys -out "$T/p12.crt"
	cmp -s "$T/p12.crt" leaf.pem ||
	    [ "$(openssl x509 -in "$T/p12.crt" -outform DER | od -An -tx1)" = \
	      "$(openssl x509 -in leaf.pem -outform DER | od -An -tx1)" ] ||
	    fail "p12 certificate is not leaf.pem"
	run 1 openssl pkcs12 -in leaf.p12 -passin pass:wrong-pass -nodes
	has "$T/err" "Mac verify error"
	run 1 openssl pkcs12 -in leaf.p12 -passin pass: -nodes

	run 0 openssl pkcs12 -in leaf-nopass.p12 -passin pass: -nokeys -cacerts
	[ "$(grep -c 'BEGIN CERTIFICATE' "$T/out")" -eq 2 ] || fail "nopass p12: want 2 CA certs"
	run 0 openssl pkcs12 -in leaf-nopass.p12 -passin pass: -nocerts -nodes -out "$T/np.key"
	[ "$(pub_of "$T/np.key")" = "$leafpub" ] || fail "nopass p12 key does not match"
	run 1 openssl pkcs12 -in leaf-nopass.p12 -passin pass:test-pass -nodes
}

tsa_config() {
	has "$PKI/tsa.cnf" "default_tsa = "
	has "$PKI/tsa.cnf" "default_policy = 1.2.3.4.5.6"
	has "$PKI/tsa.cnf" "digests = sha1, sha256"
	has "$PKI/tsa.cnf" "ess_cert_id_alg = sha1"
	has "$PKI/tsa.cnf" "dir = $PKI"
	[ -s "$PKI/tsaserial" ] || fail "no serial file"
}

tsa_ok() {
	query q.tsq
	start_tsa ok
	[ "$(post "$url" q.tsq r.tsr)" = "200 application/timestamp-reply" ] ||
	    { cat server.log; fail "not a 200 timestamp reply"; }
	run 0 openssl ts -reply -in r.tsr -text
	has "$T/out" "Status: Granted."
	has "$T/out" "Hash Algorithm: sha1"
	has "$T/out" "Accuracy: 0x01 seconds"
	grep -E "Policy OID: (1\.2\.3\.4\.5\.6|tsa_policy2)$" "$T/out" >/dev/null ||
	    fail "policy is not 1.2.3.4.5.6"
	cp "$PKI/tsa.pem" tsa.pem && run 0 openssl ts -verify -CAfile "$PKI/root.pem" -untrusted tsa.pem \
	    -data data -in r.tsr
	has "$T/out" "Verification: OK"
	run 0 openssl ts -verify -CAfile "$PKI/root.pem" -queryfile q.tsq -in r.tsr
	# Another trust anchor, or other data, fails.
	run 1 openssl ts -verify -CAfile "$PKI/other-root.pem" -data data -in r.tsr
	echo other >other
	run 1 openssl ts -verify -CAfile "$PKI/root.pem" -data other -in r.tsr
	# A second request is answered with a new serial number.
	query q2.tsq
	[ "$(post "$url" q2.tsq r2.tsr)" = "200 application/timestamp-reply" ] ||
	    fail "second request failed"
	openssl ts -reply -in r.tsr -text 2>/dev/null | grep 'Serial number' >s1
	openssl ts -reply -in r2.tsr -text 2>/dev/null | grep 'Serial number' >s2
	! cmp -s s1 s2 || fail "same serial twice: $(cat s1)"
	has server.log "request 1: POST /ts (application/timestamp-query"
	has server.log "request 2: POST /ts"
}

tsa_garbage() {
	query q.tsq
	start_tsa garbage
	[ "$(post "$url" q.tsq r.tsr)" = "200 application/timestamp-reply" ] ||
	    fail "garbage mode: not a 200"
	[ "$(wc -c <r.tsr)" -gt 0 ] || fail "empty garbage"
	run 1 openssl ts -reply -in r.tsr -text
}

tsa_http500() {
	query q.tsq
	start_tsa http500
	st=$(post "$url" q.tsq r.tsr)
	case $st in 500*) ;; *) fail "want 500, got $st" ;; esac
}

tsa_bad_requests() {
	query q.tsq
	start_tsa ok
	st=$(post "$url" q.tsq r.tsr 20 application/octet-stream)
	case $st in 415*) ;; *) fail "wrong content type: want 415, got $st" ;; esac
	st=$(post "${url%/ts}/other" q.tsq r.tsr)
	case $st in 404*) ;; *) fail "wrong path: want 404, got $st" ;; esac
	# A malformed query still gets a DER reply: a rejection.
	echo "not a query" >junk
	[ "$(post "$url" junk r.tsr)" = "200 application/timestamp-reply" ] || fail "junk query"
	run 0 openssl ts -reply -in r.tsr -text
	has "$T/out" "Status: Rejected"
}

tsa_slow() {
	query q.tsq
	start_tsa slow
	[ "$(post "$url" q.tsq r.tsr 1)" = timeout ] || fail "slow mode answered within 1 s"
	has server.log "slow mode: waiting 30 s"
	kill -TERM "$tsa_pid"
	stopped_by_itself 5
}

tsa_limits() {
	query q.tsq
	start_tsa ok --max-requests 1
	[ "$(post "$url" q.tsq r.tsr)" = "200 application/timestamp-reply" ] || fail "request failed"
	stopped_by_itself 5
	has server.log "answered 1 requests, stopping"

	start_tsa ok --max-seconds 1
	stopped_by_itself 5
	has server.log "--max-seconds 1 reached, stopping"

	start_tsa ok
	kill -TERM "$tsa_pid"
	stopped_by_itself 5

	run 2 python3 "$TSA" --pki "$T/nonexistent"
	has "$T/err" "has no tsa.cnf"
}

t make_pki make_pki
t make_pki_errors make_pki_errors
t pki_verify_chain verify_chain
t pki_leaf_cert leaf_cert
t pki_ca_certs ca_certs
t pki_variant_certs variant_certs
t pki_keys_and_p12 keys_and_p12
t pki_tsa_config tsa_config
t tsa_ok tsa_ok
t tsa_garbage tsa_garbage
t tsa_http500 tsa_http500
t tsa_bad_requests tsa_bad_requests
t tsa_slow tsa_slow
t tsa_limits tsa_limits
