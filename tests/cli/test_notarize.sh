# pkgflat notarize and staple --fetch against tests/tools/notary_mock.py: a
# stand-in for Apple's notary service, S3 and the ticket lookup on
# 127.0.0.1 over HTTPS (a test CA), which checks the JWT with the key's
# public half, SigV4 of every S3 request and the uploaded bytes' SHA-256.
# What it cannot prove: that Apple's real service answers the same way.
. tests/cli/lib.sh

EXIF="$TD/legacy/ExifTool-9.47.pkg"
export SOURCE_DATE_EPOCH=1700000000
KID=TESTKEY001
ISS=6053b7fe-68a8-4acb-89be-165aa6465141
# Fast polls, and the environment of the machine running the tests ignored.
export PKGFLAT_NOTARY_POLL_MS=100 PKGFLAT_NOTARY_POLL_MAX_MS=400
unset PKGFLAT_NOTARY_KEY PKGFLAT_NOTARY_KEY_ID PKGFLAT_NOTARY_ISSUER \
    PKGFLAT_NOTARY_API_KEY_FILE PKGFLAT_NOTARY_URL PKGFLAT_S3_URL \
    PKGFLAT_TICKET_URL PKGFLAT_CA_FILE PKGFLAT_NOTARY_TOKEN_LIFETIME \
    PKGFLAT_S3_PART_SIZE PKGFLAT_S3_MULTIPART_ABOVE

# Once per file: a CA and a server certificate for 127.0.0.1, the API key
# (the .p8 as App Store Connect hands it out: PKCS#8 PEM), its public half,
# a second key (the wrong one), rcodesign's JSON form of the first, a
# converted package signed with the test PKI and a small signed package.
setup() {
	S=$T/setup
	mkdir -p "$S" && cd "$S" || exit 3
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout ca.key -out ca.pem -days 3650 -subj /CN=notary-test-ca 2>/dev/null &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 2>/dev/null &&
	printf 'subjectAltName=IP:127.0.0.1\n' >ext &&
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
	    -out srv.pem -days 3650 -extfile ext 2>/dev/null &&
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "AuthKey_$KID.p8" 2>/dev/null &&
	openssl pkey -in "AuthKey_$KID.p8" -pubout -out pub.pem &&
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out wrong.p8 2>/dev/null &&
	python3 -c 'import base64, json, subprocess, sys
der = subprocess.run(["openssl", "pkey", "-in", sys.argv[1], "-outform", "DER"],
                     check=True, capture_output=True).stdout
json.dump({"issuer_id": sys.argv[2], "key_id": sys.argv[3],
           "private_key": base64.b64encode(der).decode()}, open("key.json", "w"))' \
	    "AuthKey_$KID.p8" "$ISS" "$KID" || { echo "FAIL cli/notarize_setup"; exit 1; }
	chmod 600 "AuthKey_$KID.p8" wrong.p8 key.json
	"$ROOT/scripts/make-test-pki" "$S/pki" >/dev/null 2>&1
	"$PKGFLAT" convert -q "$EXIF" -o converted.pkg --sign --key "$S/pki/leaf.key" \
	    --cert "$S/pki/leaf.pem" --chain "$S/pki/chain.pem" ||
		{ echo "FAIL cli/notarize_setup (convert --sign)"; exit 1; }
	# A small one for the other tests: an Apple-made package re-signed.
	"$PKGFLAT" sign --key "$S/pki/leaf.key" --cert "$S/pki/leaf.pem" \
	    --chain "$S/pki/chain.pem" "$TD/flat/Installomator-0.5.pkg" -o signed.pkg ||
		{ echo "FAIL cli/notarize_setup (sign)"; exit 1; }
	# Legacy bundles holding Mach-O fixtures (tests/cli/mkmacho.py): one
	# the notary service would take (Developer ID Application, hardened
	# runtime, timestamp, the installer's team), one with an unsigned tool.
	mkdir -p in &&
	python3 "$ROOT/tests/cli/mkmacho.py" --pki "$S/pki" --bundle in/Accepted.pkg \
	    org.example.accepted bin/tool=good &&
	python3 "$ROOT/tests/cli/mkmacho.py" --pki "$S/pki" --bundle in/Invalid.pkg \
	    org.example.invalid bin/tool=good &&
	python3 "$ROOT/tests/cli/mkmacho.py" --bundle in/Unsigned.pkg \
	    org.example.unsigned bin/tool=unsigned ||
		{ echo "FAIL cli/notarize_setup (mkmacho)"; exit 1; }
	"$PKGFLAT" convert -q in/Unsigned.pkg -o unsigned.pkg --sign --key "$S/pki/leaf.key" \
	    --cert "$S/pki/leaf.pem" --chain "$S/pki/chain.pem" ||
		{ echo "FAIL cli/notarize_setup (convert unsigned)"; exit 1; }
	cd "$ROOT" || exit 3
}
setup

# start_mock [OPTIONS...]: the mock in the background, killed when the test
# ends; sets $url. The KILL after 90 s is the last-resort bound.
start_mock() {
	rm -f port
	timeout -s KILL 90 python3 "$ROOT/tests/tools/notary_mock.py" --cert "$S/srv.pem" \
	    --key "$S/srv.key" --pubkey "$S/pub.pem" --key-id "$KID" --issuer "$ISS" \
	    --port-file port --max-seconds 80 "$@" >events 2>mock.err &
	mock_pid=$!
	trap 'kill $mock_pid 2>/dev/null' EXIT
	wait_port_file "$mock_pid" notary_mock mock.err
	url=$(cat port)
	export PKGFLAT_NOTARY_URL="$url/notary/v2" PKGFLAT_S3_URL="$url/s3" \
	    PKGFLAT_TICKET_URL="$url/ticket/lookup" PKGFLAT_CA_FILE="$S/ca.pem"
}

KEYOPTS="--key $S/AuthKey_$KID.p8 --key-id $KID --issuer $ISS"
KEYOPTS_BATCH="--notary-key $S/AuthKey_$KID.p8 --key-id $KID --issuer $ISS"

# events_have TEXT: the mock logged it.
events_have() { has events "$1"; }
# No check of the mock failed, no crash in pkgflat.
clean_run() {
	hasnt events "jwt-rejected"
	hasnt events "sigv4-rejected"
	hasnt "$T/err" "AddressSanitizer"
	hasnt "$T/err" "runtime error"
}

# The release path's last steps: notarize --wait --staple, then verify; the
# stapled ticket is the mock's, under the record of the package's TOC digest.
happy_path() {
	start_mock --polls 2 --ticket-dir .
	cp "$S/converted.pkg" p.pkg
	sum=$(sha256sum p.pkg | cut -c1-64)
	run 0 "$PKGFLAT" notarize $KEYOPTS --wait --staple p.pkg
	clean_run
	has "$T/err" "submission id "
	id=$(sed -n 's/^id: //p' "$T/out")
	[ -n "$id" ] || fail "no id printed"
	has "$T/out" "status: Accepted"
	events_have "submitted $id $sum p.pkg"
	events_have "uploaded $id $sum"
	events_have "status $id In_Progress"
	rec=$(sed -n "s/^EVENT accepted $id //p" events)
	[ -n "$rec" ] || fail "the mock accepted nothing"
	has "$T/out" "stapled: ticket $rec"
	# The record the mock derived from the bytes is the one pkgflat info shows.
	"$PKGFLAT" info p.pkg >info.txt
	has info.txt "record $rec"
	# The trailer holds exactly the mock's ticket, and nothing else changed.
	tk=$(echo "$rec" | tr / _).ticket
	[ -f "$tk" ] || fail "the mock served no ticket"
	n=$(stat -c %s "$tk")
	tail -c $((n + 16)) p.pkg | head -c "$n" | cmp - "$tk" || fail "stapled bytes differ"
	orig=$(stat -c %s "$S/converted.pkg")
	head -c "$orig" p.pkg | cmp - "$S/converted.pkg" || fail "package bytes changed"
	[ "$(stat -c %s p.pkg)" -eq $((orig + n + 32)) ] || fail "unexpected size"
	CA="$S/pki/root.pem" whole p.pkg
	"$PKGFLAT" verify --ca "$S/pki/root.pem" p.pkg >v.txt 2>&1
	has v.txt "Notarization ticket: stapled ($n bytes, record $rec)"
}

# rcodesign's JSON key file, and the key from the environment (no option).
key_forms() {
	start_mock --polls 0
	cp "$S/signed.pkg" p.pkg
	run 0 "$PKGFLAT" notarize --api-key-file "$S/key.json" --wait p.pkg
	clean_run
	has "$T/out" "status: Accepted"
	PKGFLAT_NOTARY_KEY="$S/AuthKey_$KID.p8" PKGFLAT_NOTARY_KEY_ID=$KID \
	    PKGFLAT_NOTARY_ISSUER=$ISS run 0 "$PKGFLAT" notarize --wait --json p.pkg
	clean_run
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["status"] == "Accepted" and len(d["id"]) == 36 and d["stapled"] is False, d' "$T/out" ||
		fail "bad --json: $(cat "$T/out")"
	[ "$(grep -c '^EVENT submitted' events)" -eq 2 ] || fail "two submissions expected"
}

# Invalid: exit 1 and the log's issue printed (path, architecture, message,
# doc URL); --log ID prints it again, --log --json as Apple wrote it.
invalid_log() {
	start_mock --result invalid --polls 1
	cp "$S/signed.pkg" p.pkg
	run 1 "$PKGFLAT" notarize $KEYOPTS --wait --staple p.pkg
	clean_run
	has "$T/out" "status: Invalid"
	has "$T/out" "summary: Archive contains critical validation errors"
	has "$T/out" "error: p.pkg/Payload/Applications/Tool.app/Contents/MacOS/tool [x86_64]"
	has "$T/out" "The binary is not signed with a valid Developer ID certificate."
	has "$T/out" "see https://developer.apple.com/documentation/security/"
	hasnt "$T/out" "stapled"
	hasnt events "devlog-with-authorization"
	id=$(sed -n 's/^id: //p' "$T/out")
	run 0 "$PKGFLAT" notarize $KEYOPTS --log "$id"
	has "$T/out" "status: Invalid"
	has "$T/out" "[x86_64]"
	run 0 "$PKGFLAT" notarize $KEYOPTS --log "$id" --json
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["jobId"] == sys.argv[2] and d["issues"][0]["architecture"] == "x86_64"' "$T/out" "$id" ||
		fail "--log --json is not the log"
	# The package was not touched.
	cmp p.pkg "$S/signed.pkg" || fail "an Invalid submission changed the package"
	# --status and --history see it too.
	run 1 "$PKGFLAT" notarize $KEYOPTS --status "$id"
	has "$T/out" "status: Invalid"
	run 0 "$PKGFLAT" notarize $KEYOPTS --history
	has "$T/out" "$id  Invalid      p.pkg"
}

# A token that expires during a long wait is replaced: by its lifetime (2 s,
# renewed 1 s before its end, so the mock never sees an expired one), and
# when the server calls it expired (a 401: once more with a new token).
token_renewed() {
	start_mock --polls 8
	cp "$S/signed.pkg" p.pkg
	PKGFLAT_NOTARY_TOKEN_LIFETIME=2 PKGFLAT_NOTARY_POLL_MS=400 \
	    PKGFLAT_NOTARY_POLL_MAX_MS=400 run 0 "$PKGFLAT" notarize $KEYOPTS --wait p.pkg
	clean_run
	has "$T/out" "status: Accepted"
	has "$T/err" "API token renewed"
	hasnt events "jwt-expired"
	tokens=$(sed -n 's/^EVENT jwt-ok .* tokens=\([0-9]*\)$/\1/p' events | tail -1)
	[ "${tokens:-0}" -ge 3 ] || fail "only ${tokens:-0} tokens over a 3 s wait"
	kill $mock_pid
	start_mock --polls 6 --expire-token-after 3
	run 0 "$PKGFLAT" notarize $KEYOPTS --wait p.pkg
	has "$T/out" "status: Accepted"
	[ "$(grep -c '^EVENT jwt-expired-by-server' events)" -ge 2 ] ||
		fail "the server never expired a token"
	hasnt events "sigv4-rejected"
}

# Multipart upload (parts of 8 KiB): part 2 fails once with a 500 and is
# sent again; every request is SigV4-checked; the object is the file.
part_retried() {
	start_mock --polls 0 --fail-part 2
	cp "$S/signed.pkg" p.pkg
	sum=$(sha256sum p.pkg | cut -c1-64)
	size=$(stat -c %s p.pkg)
	parts=$(( (size + 8191) / 8192 ))
	[ "$parts" -ge 3 ] || fail "the test package is too small for 3 parts"
	PKGFLAT_S3_PART_SIZE=8192 PKGFLAT_S3_MULTIPART_ABOVE=8192 \
	    run 0 "$PKGFLAT" notarize $KEYOPTS --wait p.pkg
	clean_run
	has "$T/err" "retrying after: part 2: HTTP 500"
	events_have "part-failed-on-purpose 2"
	[ "$(grep -c '^EVENT part 2 ' events)" -eq 1 ] || fail "part 2 not stored once"
	events_have "uploaded"
	grep -q "^EVENT uploaded .* $sum parts=$parts$" events || fail "object is not the file: $(grep uploaded events)"
	has "$T/out" "status: Accepted"
}

# Nothing listens: a clear error naming the host, exit 3, quickly retried.
unreachable() {
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cp "$S/signed.pkg" p.pkg
	PKGFLAT_NOTARY_URL="https://127.0.0.1:$port/notary/v2" \
	    run 3 "$PKGFLAT" notarize $KEYOPTS --ca-file "$S/ca.pem" --wait p.pkg
	has "$T/err" "pkgflat: 127.0.0.1:$port: cannot reach the server"
	hasnt "$T/err" "AddressSanitizer"
	cmp p.pkg "$S/signed.pkg" || fail "changed"
	# Without the test CA, TLS verification fails against the system store.
	start_mock
	run 3 "$PKGFLAT" notarize $KEYOPTS --ca-file /etc/ssl/certs/ca-certificates.crt p.pkg
	has "$T/err" "TLS failed"
	has events "listening"
	hasnt events "EVENT submitted"
}

# --wait=SECONDS runs out: exit 3, the id printed, how to resume said; the
# same id then resumes with --status ID --wait.
wait_timeout() {
	start_mock --polls 1000
	cp "$S/signed.pkg" p.pkg
	run 3 "$PKGFLAT" notarize $KEYOPTS --wait=1 --staple p.pkg
	id=$(sed -n 's/^id: //p' "$T/out")
	[ -n "$id" ] || fail "no id printed"
	has "$T/out" "status: In Progress"
	has "$T/err" "still In Progress after the wait; submission $id goes on at Apple"
	has "$T/err" "notarize --status $id --wait --staple p.pkg' resumes"
	# Ctrl-C during the wait: the same, at once.
	"$PKGFLAT" notarize $KEYOPTS --wait p.pkg >int.out 2>int.err &
	pid=$!
	i=0
	until grep -q "status: In Progress" int.err; do
		i=$((i + 1)); [ $i -le 100 ] || fail "no poll in 10 s"; sleep 0.1
	done
	kill -INT $pid
	wait $pid
	[ $? -eq 3 ] || fail "Ctrl-C: exit not 3"
	has int.err "interrupted; submission"
	has int.err "--wait' resumes"
}

# The ticket appears only on the 3rd lookup: notarize --staple asks again;
# staple --fetch with no wait says none is published, then finds it.
ticket_late() {
	start_mock --polls 0 --ticket-delay 3
	cp "$S/signed.pkg" p.pkg
	run 0 "$PKGFLAT" notarize $KEYOPTS --wait --staple p.pkg
	clean_run
	[ "$(grep -c '^EVENT ticket-not-found' events)" -eq 3 ] || fail "not 3 misses"
	has "$T/err" "not published yet"
	has "$T/out" "stapled: ticket 2/"
	# staple --fetch on a copy without the ticket: published by now.
	cp "$S/signed.pkg" q.pkg
	run 0 "$PKGFLAT" notarize --status "$(sed -n 's/^id: //p' "$T/out")" $KEYOPTS --staple q.pkg
	has "$T/out" "stapled: ticket"
	cmp p.pkg q.pkg || fail "the two staplings differ"
}

# Changed between submission and staple: refused, the file left alone.
# A byte of file data changed: the digest of the submission no longer
# matches; staple --fetch (no submission to compare with) finds the file
# checksums wrong. Re-signed (a new TOC): no ticket under its record.
modified_refused() {
	start_mock --polls 0
	cp "$S/signed.pkg" p.pkg
	run 0 "$PKGFLAT" notarize $KEYOPTS p.pkg
	id=$(sed -n 's/^id: //p' "$T/out")
	has "$T/err" "notarize --status $id --wait' waits for the result"
	cp p.pkg m.pkg
	size=$(stat -c %s m.pkg)
	printf 'x' | dd of=m.pkg bs=1 seek=$((size - 1)) conv=notrunc 2>/dev/null
	cp m.pkg before.pkg
	run 3 "$PKGFLAT" notarize $KEYOPTS --status "$id" --wait --staple m.pkg
	has "$T/err" "m.pkg: changed since it was submitted"
	cmp m.pkg before.pkg || fail "the refused package was changed"
	hasnt events "ticket-served"
}

# staple --fetch alone (no API key): a package whose file data changed is
# refused (file checksums); the accepted one gets its ticket.
staple_fetch() {
	start_mock --polls 0
	cp "$S/signed.pkg" p.pkg
	run 0 "$PKGFLAT" notarize $KEYOPTS --wait p.pkg
	cp p.pkg m.pkg
	size=$(stat -c %s m.pkg)
	printf 'x' | dd of=m.pkg bs=1 seek=$((size - 1)) conv=notrunc 2>/dev/null
	cp m.pkg before.pkg
	run 3 "$PKGFLAT" staple --fetch m.pkg
	has "$T/err" "m.pkg: file-checksums: refused before stapling"
	cmp m.pkg before.pkg || fail "changed by staple --fetch"
	# The original still gets its ticket.
	run 0 "$PKGFLAT" staple --fetch p.pkg
	has "$T/out" "stapled: ticket 2/"
}

# The wrong private key (or key id, or issuer): 401, explained, exit 3.
wrong_key() {
	start_mock
	cp "$S/signed.pkg" p.pkg
	run 3 "$PKGFLAT" notarize --key "$S/wrong.p8" --key-id $KID --issuer $ISS p.pkg
	has "$T/err" "the notary service refused the API key (HTTP 401"
	has "$T/err" "check that --key-id and --issuer belong to this .p8 key"
	events_have "jwt-rejected signature_does_not_verify_with_the_public_key"
	run 3 "$PKGFLAT" notarize $KEYOPTS --issuer 00000000-0000-0000-0000-000000000000 p.pkg
	events_have "jwt-rejected iss"
	hasnt events "EVENT submitted"
}

# Malformed or incomplete answers: a clear error naming the service, exit 3,
# the package untouched.
bad_answers() {
	cp "$S/signed.pkg" p.pkg
	start_mock --bad-answer submit
	run 3 "$PKGFLAT" notarize $KEYOPTS p.pkg
	has "$T/err" "/submissions: the answer lacks the submission id or its S3 credentials"
	hasnt events "sigv4-ok"
	kill $mock_pid
	start_mock --bad-answer status
	run 3 "$PKGFLAT" notarize $KEYOPTS --wait p.pkg
	has "$T/err" "/notary/v2/submissions/"
	has "$T/err" ": offset 41: unterminated string"
	kill $mock_pid
	start_mock --polls 0 --bad-answer ticket
	run 3 "$PKGFLAT" notarize $KEYOPTS --wait --staple p.pkg
	has "$T/err" "the record has no signedTicket of type BYTES"
	has "$T/out" "status: Accepted"
	cmp p.pkg "$S/signed.pkg" || fail "changed"
	hasnt "$T/err" "AddressSanitizer"
}

# Usage errors and malformed key files: exit 2 or 3, nothing sent.
bad_usage() {
	run 2 "$PKGFLAT" notarize
	run 2 "$PKGFLAT" notarize --staple x.pkg
	run 2 "$PKGFLAT" notarize --status a --log b
	run 2 "$PKGFLAT" notarize --wait=0 x.pkg
	run 2 "$PKGFLAT" notarize --wait=soon x.pkg
	run 2 "$PKGFLAT" notarize --history x.pkg
	run 2 "$PKGFLAT" notarize --key-id $KID --issuer $ISS "$S/signed.pkg"
	has "$T/err" "no App Store Connect API key"
	run 2 "$PKGFLAT" notarize --key "$S/AuthKey_$KID.p8" "$S/signed.pkg"
	has "$T/err" "--key-id"
	printf '{"issuer_id": "x", "key_id": 5}' >bad.json
	bad_input "bad.json: an API key file has the strings issuer_id, key_id and private_key" \
	    "$PKGFLAT" notarize --api-key-file bad.json "$S/signed.pkg"
	printf '{"issuer_id": "x", "key_id": "y", "private_key": "bm90IGEga2V5"' >trunc.json
	bad_input "trunc.json: offset" "$PKGFLAT" notarize --api-key-file trunc.json "$S/signed.pkg"
	printf -- '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' >bad.p8
	bad_input "bad.p8: not a PEM private key" \
	    "$PKGFLAT" notarize --key bad.p8 --key-id $KID --issuer $ISS "$S/signed.pkg"
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa.p8 2>/dev/null
	bad_input "not an ECDSA P-256 key" \
	    "$PKGFLAT" notarize --key rsa.p8 --key-id $KID --issuer $ISS "$S/signed.pkg"
	run 2 "$PKGFLAT" notarize $KEYOPTS --status '../x'
	has "$T/err" "is not a submission id"
	PKGFLAT_NOTARY_URL=http://example.com/notary/v2 run 2 "$PKGFLAT" notarize $KEYOPTS --history
	has "$T/err" "only https:// URLs"
}

# The pre-flight: a package with an unsigned Mach-O is refused before any
# request reaches the service (the mock logs every request: none came),
# with verify --notarization's lines; --no-preflight submits it anyway.
preflight() {
	start_mock --polls 0
	cp "$S/unsigned.pkg" p.pkg
	"$PKGFLAT" verify --notarization p.pkg >verify.txt
	[ $? -eq 1 ] || fail "verify --notarization did not find the unsigned binary"
	run 1 "$PKGFLAT" notarize $KEYOPTS --wait --staple p.pkg
	cmp "$T/out" verify.txt || fail "not verify --notarization's lines: $(cat "$T/out")"
	has "$T/out" "reject org.example.unsigned ./bin/tool (x86_64): unsigned"
	has "$T/err" "p.pkg: the notary service would reject 1 binary; nothing submitted"
	hasnt "$T/err" "submission id"
	run 1 "$PKGFLAT" notarize $KEYOPTS --json p.pkg
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
n = d["notarization"]
assert d["submitted"] is False and n["rejected"] == 1, d
assert n["rejections"][0]["reasons"] == ["unsigned"], n' "$T/out" || fail "bad --json"
	hasnt events "EVENT request"
	cmp p.pkg "$S/unsigned.pkg" || fail "a refused package was changed"
	run 0 "$PKGFLAT" notarize $KEYOPTS --no-preflight --wait p.pkg
	clean_run
	has "$T/out" "status: Accepted"
	events_have "submitted"
	events_have "request POST /notary/v2/submissions"
}

# batch --notarize --staple: three inputs converted and signed; the
# unsigned one is refused by the pre-flight and never submitted, the other
# two are submitted together; one is accepted and stapled, the other
# Invalid with its log; both in the JSON, JUnit and HTML reports.
batch_notarize() {
	start_mock --polls 2 --ticket-dir . --invalid-name Invalid
	SIGN="--sign --key $S/pki/leaf.key --cert $S/pki/leaf.pem --chain $S/pki/chain.pem"
	run 1 "$PKGFLAT" batch -q -o out $SIGN --notarize --staple \
	    --notary-key "$S/AuthKey_$KID.p8" --key-id $KID --issuer $ISS \
	    --junit junit.xml "$S/in"
	clean_run
	has "$T/err" "Accepted.pkg: Accepted"
	has "$T/err" "Invalid.pkg: Invalid"
	[ "$(grep -c '^EVENT submitted' events)" -eq 2 ] || fail "not two submissions"
	hasnt events "Unsigned.pkg"
	acc=$(sed -n 's/^EVENT submitted \([^ ]*\) .* Accepted.pkg$/\1/p' events)
	inv=$(sed -n 's/^EVENT submitted \([^ ]*\) .* Invalid.pkg$/\1/p' events)
	[ -n "$acc" ] && [ -n "$inv" ] || fail "submissions: $(grep submitted events)"
	# Submitted together: both uploaded before the first status poll.
	first_status=$(grep -n '^EVENT status' events | head -1 | cut -d: -f1)
	last_upload=$(grep -n '^EVENT uploaded' events | tail -1 | cut -d: -f1)
	[ "$last_upload" -lt "$first_status" ] || fail "not submitted before the wait"
	# The staple, read independently: the trailer is the mock's ticket and
	# the bytes before it are exactly the ones submitted.
	rec=$(sed -n "s/^EVENT accepted $acc //p" events)
	[ -n "$rec" ] || fail "the mock accepted nothing"
	tk=$(echo "$rec" | tr / _).ticket
	[ -f "$tk" ] || fail "the mock served no ticket"
	n=$(stat -c %s "$tk")
	size=$(stat -c %s out/Accepted.pkg)
	tail -c $((n + 16)) out/Accepted.pkg | head -c "$n" | cmp - "$tk" || fail "stapled bytes differ"
	sum=$(head -c $((size - n - 32)) out/Accepted.pkg | sha256sum | cut -c1-64)
	events_have "submitted $acc $sum Accepted.pkg"
	isum=$(sha256sum out/Invalid.pkg | cut -c1-64)
	events_have "submitted $inv $isum Invalid.pkg"
	python3 - out/pkgflat-report.json "$acc" "$inv" "$rec" <<'PY' || fail "bad JSON report"
import json, sys
d = json.load(open(sys.argv[1]))
by = {i["input"].rsplit("/", 1)[-1]: i for i in d["inputs"]}
a, v, u = by["Accepted.pkg"], by["Invalid.pkg"], by["Unsigned.pkg"]
na, nv, nu = a["notarization"], v["notarization"], u["notarization"]
assert na["id"] == sys.argv[2] and na["status"] == "Accepted" and na["stapled"] is True, na
assert na["record"] == sys.argv[4] and na["failed"] is False, na
assert a["preflight"]["binaries"] == 1 and a["preflight"]["rejected"] == 0, a["preflight"]
assert nv["id"] == sys.argv[3] and nv["status"] == "Invalid" and nv["failed"] is True, nv
assert nv["stapled"] is False and nv["summary"] == "Archive contains critical validation errors", nv
assert nv["issues"][0]["architecture"] == "x86_64", nv
assert "not signed with a valid Developer ID" in nv["issues"][0]["message"], nv
assert nu["submitted"] is False and nu["refused_by_preflight"] is True and nu["failed"], nu
assert u["preflight"]["rejected"] == 1, u["preflight"]
assert u["preflight"]["rejections"][0]["reasons"] == ["unsigned"], u["preflight"]
assert u["preflight"]["rejections"][0]["path"] == "./bin/tool", u["preflight"]
assert any("notarization pre-flight: org.example.unsigned ./bin/tool (x86_64): unsigned" == w
           for w in u["warnings"]), u["warnings"]
s = d["summary"]
assert s["notarized"] == 1 and s["notarization_failed"] == 2 and s["preflight_rejecting"] == 1, s
PY
	xmllint --noout junit.xml || fail "JUnit is not XML"
	python3 - junit.xml <<'PY' || fail "bad JUnit"
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
assert r.get("failures") == "2", r.attrib
cases = {c.get("name").rsplit("/", 1)[-1]: c for c in r.iter("testcase")}
assert cases["Accepted.pkg"].find("failure") is None
f = cases["Invalid.pkg"].find("failure")
assert "Invalid" in f.get("message"), f.attrib
assert "[x86_64]: The binary is not signed with a valid Developer ID" in f.text, f.text
f = cases["Unsigned.pkg"].find("failure")
assert "not submitted" in f.get("message") and "./bin/tool (x86_64): unsigned" in f.text, f.text
assert "stapled (ticket" in cases["Accepted.pkg"].find("system-out").text
PY
	has out/pkgflat-report.html "<th>Notarization</th>"
	has out/pkgflat-report.html "stapled (ticket $rec)"
	# Again: the stapled output is up to date and not sent again; the
	# Invalid one is (it may have been fixed at Apple's end: not ours to say).
	run 1 "$PKGFLAT" batch -q -o out $SIGN --notarize --staple \
	    --notary-key "$S/AuthKey_$KID.p8" --key-id $KID --issuer $ISS "$S/in"
	[ "$(grep -c '^EVENT submitted .* Accepted.pkg$' events)" -eq 1 ] ||
		fail "the stapled output was submitted again"
	[ "$(grep -c '^EVENT submitted .* Invalid.pkg$' events)" -eq 2 ] ||
		fail "the Invalid one was not submitted again"
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
a = [i for i in d["inputs"] if i["input"].endswith("Accepted.pkg")][0]
assert a["status"] == "up-to-date" and a["notarization"]["status"] == "stapled-before", a' \
	    out/pkgflat-report.json || fail "not up to date and stapled before"
	tail -c $((n + 16)) out/Accepted.pkg | head -c "$n" | cmp - "$tk" || fail "ticket lost"
}

# batch --wait=SECONDS runs out: the input fails with its id and how to
# resume in the report; nothing is stapled.
batch_wait_timeout() {
	start_mock --polls 1000
	run 1 "$PKGFLAT" batch -q -o out --sign --key "$S/pki/leaf.key" --cert "$S/pki/leaf.pem" \
	    --chain "$S/pki/chain.pem" --notarize --staple --wait=1 $KEYOPTS_BATCH \
	    "$S/in/Accepted.pkg"
	clean_run
	id=$(sed -n 's/^EVENT submitted \([^ ]*\) .*/\1/p' events)
	[ -n "$id" ] || fail "nothing submitted"
	python3 - out/pkgflat-report.json "$id" <<'PY' || fail "bad report"
import json, sys
n = json.load(open(sys.argv[1]))["inputs"][0]["notarization"]
assert n["id"] == sys.argv[2] and n["status"] == "In Progress", n
assert n["failed"] is True and n["stapled"] is False, n
assert "notarize --status %s --wait' resumes" % sys.argv[2] in n["error"], n
PY
	sum=$(sha256sum out/Accepted.pkg | cut -c1-64)
	events_have "submitted $id $sum Accepted.pkg"
}

# Without --notarize a rejection is a warning, not a failure; the
# pre-flight goes with --no-preflight; usage errors send nothing.
batch_preflight() {
	start_mock
	run 0 "$PKGFLAT" batch -q -o out "$S/in/Unsigned.pkg"
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
u = d["inputs"][0]
assert u["status"] == "converted" and u["preflight"]["rejected"] == 1, u
assert "notarization" not in u and d["summary"]["preflight_rejecting"] == 1, d' \
	    out/pkgflat-report.json || fail "bad report"
	has out/pkgflat-report.html "notarization pre-flight: org.example.unsigned ./bin/tool (x86_64): unsigned"
	run 0 "$PKGFLAT" batch -q --force --no-preflight -o out "$S/in/Unsigned.pkg"
	python3 -c 'import json, sys
u = json.load(open(sys.argv[1]))["inputs"][0]
assert u["preflight"] is None, u
assert not [w for w in u["warnings"] if "pre-flight" in w], u' out/pkgflat-report.json ||
		fail "--no-preflight ran it"
	run 2 "$PKGFLAT" batch -o out2 --notarize $KEYOPTS_BATCH "$S/in"
	has "$T/err" "--notarize needs --sign: Apple's notary service takes signed packages only"
	run 2 "$PKGFLAT" batch -o out2 --staple "$S/in"
	has "$T/err" "--staple, --wait and the API key options go with --notarize"
	run 2 "$PKGFLAT" batch -o out2 --sign --key "$S/pki/leaf.key" --cert "$S/pki/leaf.pem" \
	    --notarize --key-id $KID --issuer $ISS "$S/in"
	has "$T/err" "no App Store Connect API key"
	[ ! -e out2 ] || fail "a usage error made the output directory"
	hasnt events "EVENT request"
}

# libcurl is loaded when a command first needs it (dlopen), not linked:
# neither the program nor the shared library names it, so a run that
# talks to no server does not load it and its ~25 libraries. Where it
# cannot be loaded (PKGFLAT_LIBCURL names the file), notarize, staple
# --fetch and batch --notarize fail before any request or change, naming
# the server and the package to install; the other commands work, sign
# --timestamp too (its request goes through OpenSSL's HTTP client).
no_libcurl() {
	for f in "$PKGFLAT" "$ROOT/${BUILD:-build}"/libpkgflat.so*; do
		readelf -d "$f" >dyn.txt || fail "readelf -d $f failed"
		has dyn.txt "(NEEDED)"
		hasnt dyn.txt "libcurl"
	done
	start_mock --polls 0
	cp "$S/signed.pkg" p.pkg
	export PKGFLAT_LIBCURL=/nonexistent/libcurl.so.4
	why="cannot load /nonexistent/libcurl.so.4 (cannot open shared object file"
	run 3 "$PKGFLAT" notarize $KEYOPTS --wait --staple p.pkg
	has "$T/err" "pkgflat: cannot reach $url/notary/v2: $why"
	has "$T/err" "): install the libcurl4 package"
	run 3 "$PKGFLAT" staple --fetch p.pkg
	has "$T/err" "pkgflat: cannot reach $url/ticket/lookup: $why"
	cmp p.pkg "$S/signed.pkg" || fail "changed without libcurl"
	run 3 "$PKGFLAT" batch -q -o out --sign --key "$S/pki/leaf.key" \
	    --cert "$S/pki/leaf.pem" --chain "$S/pki/chain.pem" --notarize \
	    $KEYOPTS_BATCH "$S/in/Accepted.pkg"
	has "$T/err" "pkgflat: cannot reach $url/notary/v2: $why"
	[ ! -e out ] || [ -z "$(find out -name '*.pkg')" ] || fail "batch wrote $(find out)"
	# A file that is not libcurl: the missing function is named.
	PKGFLAT_LIBCURL=libz.so.1 run 3 "$PKGFLAT" staple --fetch p.pkg
	has "$T/err" "cannot load libz.so.1 ("
	has "$T/err" "undefined symbol: curl_"
	hasnt events "EVENT request"
	clean_run
	# What needs no server is unaffected.
	run 0 "$PKGFLAT" verify --ca "$S/pki/root.pem" p.pkg
	has "$T/out" "no check failed"
	PKI="$S/pki"
	start_tsa ok
	run 0 "$PKGFLAT" sign --key "$S/pki/leaf.key" --cert "$S/pki/leaf.pem" \
	    --chain "$S/pki/chain.pem" --timestamp="$url" "$S/signed.pkg" -o ts.pkg
	run 0 "$PKGFLAT" verify --ca "$S/pki/root.pem" ts.pkg
	has "$T/out" "no check failed"
	has "$T/out" "carries a timestamp"
}

# The progress lines of notarize's submitting threads reach stderr one
# write(2) a line (tests/cli/whole_writes.py reads strace's log): pieces
# could interleave mid-line.
whole_lines() {
	command -v strace >/dev/null || fail "strace missing (scripts/install-deps)"
	start_mock --polls 2
	# LeakSanitizer cannot run under ptrace.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 run 0 \
	    strace -f -qq -xx -s 100000 -e trace=write,writev -o trace.txt \
	    "$PKGFLAT" batch -o out --sign --key "$S/pki/leaf.key" --cert "$S/pki/leaf.pem" \
	    --chain "$S/pki/chain.pem" --notarize $KEYOPTS_BATCH "$S/in/Accepted.pkg" "$S/in/Invalid.pkg"
	clean_run
	has "$T/err" "Accepted.pkg: submission id "
	has "$T/err" "Invalid.pkg: uploaded "
	python3 "$ROOT/tests/cli/whole_writes.py" trace.txt 8 || fail "a line cut: $(cat "$T/err")"
}

# No secret in any argv: the key's bytes, the token, the S3 secret and
# session token never reach an exec (strace -f of a whole run), and the key
# is never printed.
no_secret_in_argv() {
	command -v strace >/dev/null || fail "strace missing (scripts/install-deps)"
	start_mock --polls 1
	cp "$S/signed.pkg" p.pkg
	# LeakSanitizer cannot run under ptrace; every other test checks leaks.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	    strace -f -qq -s 100000 -e trace=execve -o trace.txt \
	    "$PKGFLAT" notarize $KEYOPTS --wait --staple p.pkg >out.txt 2>err.txt ||
		fail "notarize under strace failed: $(cat err.txt)"
	[ "$(grep -c execve trace.txt)" -ge 1 ] || fail "strace saw nothing"
	# batch --notarize too: its workers and its submitting threads.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	    strace -f -qq -s 100000 -e trace=execve -o btrace.txt \
	    "$PKGFLAT" batch -q -o out --sign --key "$S/pki/leaf.key" --cert "$S/pki/leaf.pem" \
	    --chain "$S/pki/chain.pem" --notarize --staple $KEYOPTS_BATCH \
	    "$S/in/Accepted.pkg" >bout.txt 2>berr.txt ||
		fail "batch --notarize under strace failed: $(cat berr.txt)"
	events_have "submitted"
	key=$(grep -v -- ----- "$S/AuthKey_$KID.p8" | tr -d '\n')
	for s in "$key" "$(echo "$key" | cut -c1-40)" "eyJ" "Bearer" "ASIA" "AWS4-HMAC"; do
		for f in trace.txt out.txt err.txt btrace.txt bout.txt berr.txt \
		    out/pkgflat-report.json; do
			hasnt $f "$s"
		done
	done
}

[ -z "${ONLY:-}" ] || [ "$ONLY" = happy_path ] && t notarize_happy_path happy_path
[ -z "${ONLY:-}" ] || [ "$ONLY" = key_forms ] && t notarize_key_forms key_forms
[ -z "${ONLY:-}" ] || [ "$ONLY" = invalid_log ] && t notarize_invalid_log invalid_log
[ -z "${ONLY:-}" ] || [ "$ONLY" = token_renewed ] && t notarize_token_renewed token_renewed
[ -z "${ONLY:-}" ] || [ "$ONLY" = part_retried ] && t notarize_part_retried part_retried
[ -z "${ONLY:-}" ] || [ "$ONLY" = unreachable ] && t notarize_unreachable unreachable
[ -z "${ONLY:-}" ] || [ "$ONLY" = wait_timeout ] && t notarize_wait_timeout wait_timeout
[ -z "${ONLY:-}" ] || [ "$ONLY" = ticket_late ] && t notarize_ticket_late ticket_late
[ -z "${ONLY:-}" ] || [ "$ONLY" = modified_refused ] && t notarize_modified_refused modified_refused
[ -z "${ONLY:-}" ] || [ "$ONLY" = staple_fetch ] && t notarize_staple_fetch staple_fetch
[ -z "${ONLY:-}" ] || [ "$ONLY" = wrong_key ] && t notarize_wrong_key wrong_key
[ -z "${ONLY:-}" ] || [ "$ONLY" = bad_answers ] && t notarize_bad_answers bad_answers
[ -z "${ONLY:-}" ] || [ "$ONLY" = bad_usage ] && t notarize_bad_usage bad_usage
[ -z "${ONLY:-}" ] || [ "$ONLY" = preflight ] && t notarize_preflight preflight
[ -z "${ONLY:-}" ] || [ "$ONLY" = batch_notarize ] && t notarize_batch batch_notarize
[ -z "${ONLY:-}" ] || [ "$ONLY" = batch_wait_timeout ] && t notarize_batch_wait_timeout batch_wait_timeout
[ -z "${ONLY:-}" ] || [ "$ONLY" = batch_preflight ] && t notarize_batch_preflight batch_preflight
[ -z "${ONLY:-}" ] || [ "$ONLY" = no_libcurl ] && t notarize_no_libcurl no_libcurl
[ -z "${ONLY:-}" ] || [ "$ONLY" = whole_lines ] && t notarize_whole_lines whole_lines
[ -z "${ONLY:-}" ] || [ "$ONLY" = no_secret_in_argv ] && t notarize_no_secret_in_argv no_secret_in_argv
