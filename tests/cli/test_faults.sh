# Fault injection: the Nth write, pwrite, fsync, rename, linkat, read,
# copy_file_range, posix_fallocate or malloc fails (tests/tools/faultinj.c,
# LD_PRELOAD) in a whole convert, sign, in-place sign and batch run, for
# every N up to the call count (strided when there are more than FAULT_RUNS, default 12, per
# function). After each: exit 3 with a message naming what failed (batch:
# exit 1 or 3), or success with an output that is complete and verifies;
# never a partial output, a temporary file, a changed input, a crash or a
# sanitizer report (leaks excepted after a malloc failure: the process
# exits at once). Also once with O_TMPFILE refused, so that the named
# temporary file path is the one under fault.
. tests/cli/lib.sh

SHIM="$ROOT/${BUILD:-build}/faultinj.so"
ZIP="$TD/legacy/zips/Keychain_Minder_1_3.zip"
ZIP2="$TD/legacy/zips/Reset_User_and_System_Font_Caches.zip"
RUNS=${FAULT_RUNS:-12}
FUNCS="write pwrite fsync rename linkat read copy_file_range fallocate malloc"
export SOURCE_DATE_EPOCH=1700000000
# Every fsync is made, so that it can fail.
export PKGFLAT_FSYNC=1
# The shim comes before the sanitizer runtime; that is intended.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

[ -f "$SHIM" ] || { echo "FAIL cli/faults: $SHIM not built"; exit 1; }

. tests/cli/faults.sh

# --- convert ---------------------------------------------------------
setup_convert() { rm -rf out; mkdir out; }
cmd_convert() { "$PKGFLAT" convert -q "$IN" -o out/x.pkg; }
check_convert() {
	[ "$(tree_sum in)" = "$INSUM" ] || fail "input changed"
	if [ "$1" = 0 ]; then
		only out x.pkg
		whole out/x.pkg
	else
		[ "$1" = 3 ] || fail "exit $1, want 0 or 3"
		named_error "$2"
		only out
	fi
}

convert_faults() {
	mkdir in && cp "$ZIP" in/k.zip
	IN=in/k.zip
	INSUM=$(tree_sum in)
	sweep convert
}

convert_faults_named_temp() {
	mkdir in && cp "$ZIP" in/k.zip
	IN=in/k.zip
	INSUM=$(tree_sum in)
	FUNCS="write rename fsync"
	export FAULTINJ_NO_TMPFILE=1
	sweep convert
}

# --- sign, to a new file and in place ---------------------------------
pki_and_input() {
	"$ROOT/scripts/make-test-pki" "$T/pki" >/dev/null 2>&1
	P=$T/pki
	CA=$P/root.pem
	mkdir in
	"$PKGFLAT" convert -q "$ZIP" -o in/u.pkg || fail "convert"
	INSUM=$(tree_sum in)
}
setup_sign() { rm -rf out; mkdir out; }
cmd_sign() {
	"$PKGFLAT" sign --key "$P/leaf.key" --cert "$P/leaf.pem" --chain "$P/chain.pem" \
	    in/u.pkg -o out/s.pkg
}
check_sign() {
	[ "$(tree_sum in)" = "$INSUM" ] || fail "input changed"
	if [ "$1" = 0 ]; then
		only out s.pkg
		whole out/s.pkg
	else
		[ "$1" = 3 ] || fail "exit $1, want 0 or 3"
		named_error "$2"
		only out
	fi
}

sign_faults() {
	pki_and_input
	sweep sign
}

setup_inplace() { rm -rf out; mkdir out; cp in/u.pkg out/u.pkg; }
cmd_inplace() {
	"$PKGFLAT" sign --key "$P/leaf.key" --cert "$P/leaf.pem" --chain "$P/chain.pem" \
	    out/u.pkg -o out/u.pkg
}
check_inplace() {
	only out u.pkg
	if [ "$1" = 0 ]; then
		whole out/u.pkg
	else
		[ "$1" = 3 ] || fail "exit $1, want 0 or 3"
		named_error "$2"
		cmp -s out/u.pkg in/u.pkg || fail "a failed in-place sign changed the package"
	fi
}

inplace_sign_faults() {
	pki_and_input
	sweep inplace
}

# A heap of 16 MiB or more is copied on a second thread while the key is
# read and the head written (sign.c, pkgflat_sign_begin): a fault on
# either thread stops both, and nothing is left.
large_sign_faults() {
	"$ROOT/scripts/make-test-pki" "$T/pki" >/dev/null 2>&1
	P=$T/pki
	CA=$P/root.pem
	mkdir in
	python3 "$ROOT/tests/cli/mkbig.py" big.pkg 17 || fail "mkbig.py"
	"$PKGFLAT" convert -q big.pkg -o in/u.pkg || fail "convert"
	INSUM=$(tree_sum in)
	FUNCS="write pwrite copy_file_range linkat fsync malloc"
	RUNS=6
	sweep sign
}

# --- batch --------------------------------------------------------------
setup_batch() { rm -rf out; }
cmd_batch() { "$PKGFLAT" batch -q -j 2 -o out in; }
check_batch() {
	[ "$(tree_sum in)" = "$INSUM" ] || fail "input changed"
	case $1 in
	0) only out .pkgflat-batch-state k.pkg r.pkg pkgflat-report.json pkgflat-report.html ;;
	1|3) named_error "$2" ;;
	*) fail "exit $1, want 0, 1 or 3" ;;
	esac
	[ -d out ] || return 0
	for f in out/* out/.*; do
		case ${f#out/} in
		.|..|'*'|'.*') ;;
		k.pkg|r.pkg) whole "$f" ;;
		pkgflat-report.json) python3 -m json.tool "$f" >/dev/null || fail "report not JSON" ;;
		pkgflat-report.html) grep -qi "<html" "$f" || fail "report not HTML" ;;
		.pkgflat-batch-state) head -n 1 "$f" | grep -qx 'pkgflat-batch-state 1' ||
			fail "state file damaged" ;;
		*) fail "left in out/: ${f#out/}" ;;
		esac
	done
}

batch_faults() {
	mkdir in && cp "$ZIP" in/k.zip && cp "$ZIP2" in/r.zip
	INSUM=$(tree_sum in)
	sweep batch
}

t convert_faults convert_faults
t convert_faults_named_temp convert_faults_named_temp
t sign_faults sign_faults
t inplace_sign_faults inplace_sign_faults
t large_sign_faults large_sign_faults
t batch_faults batch_faults
