# Reliability of sign, verify and staple on hostile input: malformed XARs
# made by an independent generator (python3 below) are refused before
# anything is written; flipped bytes in real signatures fail verify; a
# full disk names the output.
. tests/cli/lib.sh

XARCHECK="$ROOT/${BUILD:-build}/xarcheck"
export SOURCE_DATE_EPOCH=1700000000
. tests/cli/signing.sh

# mkbad NAME: write NAME.pkg, a XAR whose TOC is malformed as NAME says.
mkbad() {
	python3 - "$1" <<'PY' || fail "cannot make $1"
import hashlib, struct, sys, zlib
def xar(body, heap=b""):
    toc = ('<?xml version="1.0" encoding="UTF-8"?>\n<xar><toc><checksum style="sha1">'
           '<offset>0</offset><size>20</size></checksum>%s</toc></xar>' % body).encode()
    c = zlib.compress(toc, 9)
    return (b"xar!" + struct.pack(">HHQQI", 28, 1, len(c), len(toc), 1) + c +
            hashlib.sha1(c).digest() + heap)
def f(fid, name, off=None, ln=0, inner=""):
    d = ""
    if off is not None:
        s = hashlib.sha1(b"0123456789"[:ln]).hexdigest()
        d = ('<data><length>%d</length><offset>%d</offset><size>%d</size>'
             '<encoding style="application/octet-stream"/><archived-checksum style="sha1">%s'
             '</archived-checksum><extracted-checksum style="sha1">%s</extracted-checksum>'
             '</data>' % (ln, off, ln, s, s))
    return '<file id="%s"><name>%s</name><type>%s</type>%s%s</file>' % (
        fid, name, "file" if off is not None else "directory", d, inner)
n = sys.argv[1]
body = {
    "deep": '<file id="1"><name>a</name><type>directory</type>' * 100000 + "</file>" * 100000,
    "off63": f(1, "x", (1 << 63) - 5, 10),
    "off64": f(1, "x", (1 << 64) - 5, 25),
    "dupid": f(1, "x", 20, 5) + f(1, "y", 25, 5),
    "slash": f(1, "a/b", 20, 5),
    "dotdot": f(1, "d", None, 0, f(2, "..", 20, 5)),
    "b64slash": f(1, "x", 20, 5).replace("<name>x</name>",
                                         '<name enctype="base64">Li4vZXRj</name>'),
}[n]
open(n + ".pkg", "wb").write(xar(body, b"0123456789"))
PY
}

# sign_refuses NAME TEXT [PLACE]: sign exits 3 naming PLACE (xar-structure,
# verify's check) and TEXT, writes nothing, leaves the input alone; verify
# fails xar-structure with TEXT.
sign_refuses() {
	mkbad "$1"
	sum=$(sha256sum "$1.pkg")
	bad_input "$1.pkg: ${3:-xar-structure}: $2" "$PKGFLAT" sign --key "$P/leaf.key" \
	    --cert "$P/leaf.pem" --chain "$P/chain.pem" --force "$1.pkg" -o "out-$1.pkg"
	[ ! -e "out-$1.pkg" ] || fail "$1: an output was written"
	[ -z "$(ls -A | grep '^\.out-')" ] || fail "$1: a temporary file was left"
	[ "$sum" = "$(sha256sum "$1.pkg")" ] || fail "$1: input modified"
	run 1 "$PKGFLAT" verify "$1.pkg"
	has "$T/out" "FAIL xar-structure: "
	has "$T/out" "$2"
}

malformed_tocs_are_not_signed() {
	pki
	sign_refuses deep "files nested more than 64 deep" TOC
	sign_refuses off63 "x: bytes 9223372036854775803..9223372036854775813 lie outside the heap"
	sign_refuses off64 "x: bytes 18446744073709551611..18446744073709551615 lie outside the heap"
	sign_refuses dupid "file id 1 is used more than once"
	sign_refuses slash 'a/b: file name "a/b" is not a single path component'
	sign_refuses dotdot 'd/..: file name ".." is not a single path component'
	sign_refuses b64slash '../etc: file name "../etc" is not a single path component'
	# info and ls refuse the deep one too (the shared limit), cleanly.
	bad_input "nested more than 64 deep" "$PKGFLAT" info deep.pkg
	bad_input "nested more than 64 deep" "$PKGFLAT" ls deep.pkg
}

t malformed_tocs_are_not_signed malformed_tocs_are_not_signed

# A flipped byte inside a certificate of the CMS certificate set (the
# Developer ID CA's signature, carried there and in the KeyInfo): the CMS
# signature itself still verifies, but the certificate is no longer the
# KeyInfo one and its signature does not verify against its issuer.
cms_certificate_flip() {
	cp "$TD/flat/Disable Gatekeeper.pkg" g.pkg
	python3 - g.pkg <<'PY' || fail "cannot flip"
import base64, re, struct, sys, zlib
d = bytearray(open(sys.argv[1], "rb").read())
clen = struct.unpack(">Q", d[8:16])[0]
toc = zlib.decompress(bytes(d[28:28 + clen])).decode()
# KeyInfo: leaf, then the Developer ID CA.
ca = base64.b64decode(re.findall(r"<X509Certificate>([^<]*)<", toc)[1])
# The KeyInfo copies are base64 inside the compressed TOC: the only DER
# copy is the one in the CMS certificate set.
i = d.find(ca)
assert i > 0 and d.find(ca, i + 1) < 0
d[i + len(ca) - 10] ^= 0x01
open(sys.argv[1], "wb").write(d)
PY
	run 1 "$PKGFLAT" verify g.pkg
	has "$T/out" "FAIL cms-signature: "
	has "$T/out" "Developer ID Certification Authority\" in the CMS is neither one of the KeyInfo certificates nor signed by an issuer"
	# The untouched package passes.
	run 0 "$PKGFLAT" verify "$TD/flat/Disable Gatekeeper.pkg"
}

t cms_certificate_flip cms_certificate_flip

# 10,000 KeyInfo certificates in a small TOC: refused by count, before
# 10,000 certificates are decoded (they cost 112 MB of memory).
keyinfo_bound() {
	pki
	run 0 "$PKGFLAT" sign --key "$P/leaf.key" --cert "$P/leaf.pem" --chain "$P/chain.pem" \
	    "$TD/flat/Installomator-0.5.pkg" -o s.pkg
	python3 - s.pkg <<'PY' || fail "cannot rewrite the TOC"
import hashlib, re, struct, sys, zlib
d = open(sys.argv[1], "rb").read()
clen, ulen = struct.unpack(">QQ", d[8:24])
toc = zlib.decompress(d[28:28 + clen]).decode()
cert = re.search(r"<X509Certificate>[^<]*</X509Certificate>", toc).group(0)
toc = toc.replace(cert, cert * 10000, 1)
c = zlib.compress(toc.encode(), 9)
assert len(c) < 200000
heap = d[28 + clen:]
heap = hashlib.sha1(c).digest() + heap[20:]
open(sys.argv[1], "wb").write(b"xar!" + struct.pack(">HHQQI", 28, 1, len(c), len(toc), 1) + c + heap)
PY
	run 1 "$PKGFLAT" verify --ca "$P/root.pem" s.pkg
	has "$T/out" "FAIL rsa-signature: its KeyInfo holds more than 16 certificates"
}

t keyinfo_bound keyinfo_bound

staple_remove_without_ticket() {
	cp "$TD/flat/Disable Gatekeeper.pkg" g.pkg
	touch -d @1000000000 g.pkg
	before=$(stat -c '%Y %s' g.pkg; sha256sum g.pkg)
	run 0 "$PKGFLAT" staple --remove g.pkg
	has "$T/err" "g.pkg: no stapled ticket to remove; nothing changed"
	[ "$before" = "$(stat -c '%Y %s' g.pkg; sha256sum g.pkg)" ] || fail "package touched"
	run 0 "$PKGFLAT" staple --help
	has "$T/out" "--remove on a package without a ticket changes nothing"
}

t staple_remove_without_ticket staple_remove_without_ticket

# A full disk during sign names the output (the input is fine). A tiny
# tmpfs in a private mount namespace gives ENOSPC where one can be had;
# RLIMIT_FSIZE (EFBIG) exercises the same path everywhere.
sign_disk_full() {
	pki
	in="$TD/flat/Installomator-0.5.pkg"
	# 20 KB: past the header, TOC and signatures, inside the file data.
	(trap '' XFSZ; prlimit --fsize=20480 "$PKGFLAT" sign --key "$P/leaf.key" --cert "$P/leaf.pem" \
	    --chain "$P/chain.pem" "$in" -o big.pkg) >out 2>err
	[ $? -eq 3 ] || fail "exit $?, want 3: $(cat err)"
	has err "pkgflat: big.pkg: cannot write: File too large"
	[ ! -e big.pkg ] && [ -z "$(ls -A | grep '^\.big')" ] || fail "output or temp file left"
	mkdir mnt
	if unshare -rm true 2>/dev/null; then
		unshare -rm sh -c 'mount -t tmpfs -o size=20k tmpfs mnt &&
		    "$0" sign --key "$1/leaf.key" --cert "$1/leaf.pem" --chain "$1/chain.pem" \
		    "$2" -o mnt/out.pkg; echo "exit $?"; ls -A mnt' "$PKGFLAT" "$P" "$in" >out 2>err
		has out "exit 3"
		has err "pkgflat: mnt/out.pkg: cannot write: No space left on device"
		hasnt err "Installomator"
		[ "$(grep -vc '^exit' out)" -eq 0 ] || fail "left in the full filesystem: $(cat out)"
	else
		echo "note: no user namespaces here; ENOSPC checked through EFBIG only"
	fi
}

t sign_disk_full sign_disk_full

# ts.pkg: a sample signed with the test PKI and timestamped by a local
# TSA, verified; $P is the PKI.
signed_with_timestamp() {
	pki
	PKI=$P
	start_tsa ok
	run 0 "$PKGFLAT" sign --key "$P/leaf.key" --cert "$P/leaf.pem" --chain "$P/chain.pem" \
	    --timestamp="$url" "$TD/flat/Disable Gatekeeper.pkg" -o ts.pkg
	run 0 "$PKGFLAT" verify --ca "$P/root.pem" ts.pkg
}

# The flip sweep (tests/unit/test_flipsweep.c) over packages pkgflat signs
# with the test PKI: plain, and with an RFC 3161 timestamp from a local
# server, so that the token's certificates are swept too.
flip_sweep_our_signatures() {
	signed_with_timestamp
	has "$T/out" "carries a timestamp"
	printf '%s\n' "$PWD/ts.pkg" >list
	PKGFLAT_SWEEP_LIST=$PWD/list PKGFLAT_SWEEP_CA=$P/root.pem \
	    run 0 "$ROOT/${BUILD:-build}/unit-tests" flip_sweep
	has "$T/out" "ok   unit/flip_sweep_signed_packages"
}

t flip_sweep_our_signatures flip_sweep_our_signatures

# OpenSSL checks a signature over signed attributes against its own
# re-encoding of them: a SET tag made primitive (0x31 -> 0x11) inside them
# is read, normalised and so covered by nothing. verify must call it out,
# in the CMS's own signed attributes and in the timestamp token's.
signed_attrs_not_der() {
	signed_with_timestamp
	for which in first last; do
		cp ts.pkg "$which.pkg"
		python3 - "$which.pkg" "$which" <<'PY' || fail "no contentType attribute found"
import sys
p, which = sys.argv[1], sys.argv[2]
d = bytearray(open(p, 'rb').read())
oid = bytes.fromhex('06092a864886f70d010903')  # contentType
at = d.find(oid) if which == 'first' else d.rfind(oid)
if at < 0 or d[at + len(oid)] != 0x31:
    sys.exit(1)
d[at + len(oid)] = 0x11
open(p, 'wb').write(d)
PY
		run 1 "$PKGFLAT" verify --ca "$P/root.pem" "$which.pkg"
		has "$T/out" "FAIL cms-signature:"
		has "$T/out" "signed attributes are not DER"
	done
	has "$T/out" "the timestamp token's signed attributes are not DER"
}

t signed_attrs_not_der signed_attrs_not_der
