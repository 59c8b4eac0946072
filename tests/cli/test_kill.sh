# SIGKILL at 50 random moments (fixed seed) of convert, sign, in-place sign
# and batch: after each, the output is absent or whole (bsdtar reads it,
# verify passes), the input is unchanged, and once the command has run
# again in that directory no temporary file is left. Every other kill runs
# with O_TMPFILE refused (tests/tools/faultinj.c), so that the named
# temporary files and their removal by the next run are what is tested.
. tests/cli/lib.sh

SHIM="$ROOT/${BUILD:-build}/faultinj.so"
SEED=${KILL_SEED:-20261204}
export SOURCE_DATE_EPOCH=1700000000
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

ms_now() { date +%s%N | cut -c1-13; }

# kill_at FRACTION MODE CMD...: run CMD, SIGKILL it after FRACTION of the
# time an unkilled run took ($DUR ms); MODE named refuses O_TMPFILE.
kill_at() {
	frac=$1 mode=$2; shift 2
	d=$(awk -v f="$frac" -v t="$DUR" 'BEGIN { printf "%.3f", f * t * 1.2 / 1000 }')
	if [ "$mode" = named ]; then
		FAULTINJ_NO_TMPFILE=1 LD_PRELOAD="$SHIM" "$@" >/dev/null 2>&1 &
	else
		"$@" >/dev/null 2>&1 &
	fi
	pid=$!
	sleep "$d"
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null
	echo "killed after ${d}s ($mode): $*"
}

# The kill moments, from the seed: one fraction in [0, 1) per line.
fractions() { awk -v s="$SEED" -v n="$1" -v o="$2" \
	'BEGIN { srand(s); for (i = 0; i < o + n; i++) { r = rand(); if (i >= o) print r } }'; }

timed() { # timed CMD...: set DUR to its run time in ms
	t0=$(ms_now)
	"$@" >/dev/null 2>&1 || fail "unkilled run failed: $*"
	DUR=$(( $(ms_now) - t0 ))
}

big_input() {
	"$ROOT/scripts/make-cpython-mpkg" --no-chown --format ustar --big-mb 6 in >/dev/null ||
		fail "generator failed"
	IN=in/Python.mpkg
	INSUM=$(tree_sum in)
}

convert_kills() {
	big_input
	mkdir out
	timed "$PKGFLAT" convert -q "$IN" -o out/ref.pkg
	rm out/ref.pkg
	i=0
	for f in $(fractions 15 0); do
		mode=tmpfile; [ $((i % 2)) = 1 ] && mode=named
		[ $((i % 3)) = 2 ] && "$PKGFLAT" convert -q "$IN" -o out/x.pkg # replace, not create
		kill_at "$f" $mode "$PKGFLAT" convert -q "$IN" -o out/x.pkg
		[ ! -e out/x.pkg ] || whole out/x.pkg
		[ "$(tree_sum in)" = "$INSUM" ] || fail "input changed"
		"$PKGFLAT" convert -q "$IN" -o out/x.pkg || fail "the next run failed"
		only out x.pkg
		rm out/x.pkg
		i=$((i + 1))
	done
}

sign_kills() {
	"$ROOT/scripts/make-test-pki" "$T/pki" >/dev/null 2>&1
	P=$T/pki
	CA=$P/root.pem
	big_input
	mkdir flat out
	"$PKGFLAT" convert -q "$IN" -o flat/u.pkg || fail "convert"
	sum=$(sha256sum <flat/u.pkg)
	set -- --key "$P/leaf.key" --cert "$P/leaf.pem" --chain "$P/chain.pem"
	timed "$PKGFLAT" sign "$@" flat/u.pkg -o out/ref.pkg
	rm out/ref.pkg
	i=0
	for f in $(fractions 20 15); do
		mode=tmpfile; [ $((i % 2)) = 1 ] && mode=named
		if [ $i -lt 10 ]; then # to a new file
			kill_at "$f" $mode "$PKGFLAT" sign "$@" flat/u.pkg -o out/s.pkg
			[ ! -e out/s.pkg ] || whole out/s.pkg
			"$PKGFLAT" sign "$@" flat/u.pkg -o out/s.pkg || fail "the next run failed"
			only out s.pkg
			rm out/s.pkg
		else # in place: the old package or the signed one, nothing else
			cp flat/u.pkg out/ip.pkg
			kill_at "$f" $mode "$PKGFLAT" sign "$@" out/ip.pkg -o out/ip.pkg
			[ "$(sha256sum <out/ip.pkg)" = "$sum" ] || whole out/ip.pkg
			"$PKGFLAT" sign "$@" out/ip.pkg -o out/ip.pkg || fail "the next run failed"
			only out ip.pkg
			rm out/ip.pkg
		fi
		[ "$(sha256sum <flat/u.pkg)" = "$sum" ] || fail "input changed"
		i=$((i + 1))
	done
}

batch_kills() {
	big_input
	cp "$TD/legacy/zips/Keychain_Minder_1_3.zip" in/k.zip
	INSUM=$(tree_sum in)
	timed "$PKGFLAT" batch -q -j 2 -o out in
	rm -rf out
	i=0
	for f in $(fractions 15 35); do
		mode=tmpfile; [ $((i % 2)) = 1 ] && mode=named
		kill_at "$f" $mode "$PKGFLAT" batch -q -j 2 -o out in
		sleep 0.2 # the workers' SIGKILL from PR_SET_PDEATHSIG
		for o in out/Python.pkg out/k.pkg; do
			[ ! -e $o ] || whole $o
		done
		[ "$(tree_sum in)" = "$INSUM" ] || fail "input changed"
		"$PKGFLAT" batch -q -j 2 -o out in || fail "the next run failed"
		only out .pkgflat-batch-state Python.pkg k.pkg pkgflat-report.html pkgflat-report.json
		rm -rf out
		i=$((i + 1))
	done
}

t convert_kills convert_kills
t sign_kills sign_kills
t batch_kills batch_kills
