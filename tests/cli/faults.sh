# Fault-injection helpers shared by tests/cli/test_faults*.sh; sourced
# after lib.sh with $SHIM, $RUNS and $FUNCS set. A test defines setup_KIND,
# cmd_KIND and check_KIND RC STDERR-FILE, then calls sweep KIND.

sane_stderr() { # no crash report of any kind
	for s in AddressSanitizer LeakSanitizer "runtime error" "Segmentation" "Aborted" \
	    "(null)"; do
		hasnt "$1" "$s"
	done
}

# How often each function is called: the largest count of any process.
count_calls() { # count_calls FUNC CMD... (from a clean state made by $setup)
	f=$1; shift
	rm -f "$T/fi.log"
	FAULTINJ_LOG="$T/fi.log" LD_PRELOAD="$SHIM" "$@" >/dev/null 2>&1
	awk -v f="$f" '$1 == "count" && $2 == f && $3 > m { m = $3 } END { print m + 0 }' "$T/fi.log"
}

# sweep KIND: for each function and N, set up, run under the fault, check.
sweep() {
	kind=$1
	total=0
	fired=0
	for FUNC in $FUNCS; do
		setup_$kind
		c=$(count_calls "$FUNC" cmd_$kind)
		check_$kind 0 "$T/err.none" || fail "$kind without a fault"
		[ "$c" -gt 0 ] || continue
		step=$(( (c + RUNS - 1) / RUNS ))
		n=1
		while [ $n -le "$c" ]; do
			setup_$kind
			rm -f "$T/fi.log"
			# Memory that an out-of-memory exit leaves is not looked
			# for: the process ends right after (see the README).
			lsan=1; [ "$FUNC" = malloc ] && lsan=0
			ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=$lsan" \
			FAULTINJ_FUNC=$FUNC FAULTINJ_N=$n FAULTINJ_LOG="$T/fi.log" LD_PRELOAD="$SHIM" \
			    cmd_$kind >"$T/fo" 2>"$T/fe"
			rc=$?
			grep -q "^fired" "$T/fi.log" 2>/dev/null && fired=$((fired + 1))
			sane_stderr "$T/fe"
			check_$kind $rc "$T/fe" || fail "$kind: $FUNC #$n of $c: exit $rc: $(cat "$T/fe")"
			total=$((total + 1))
			n=$((n + step))
		done
	done
	echo "$kind: $total runs, $fired faults fired"
	[ $fired -gt 0 ] || fail "$kind: no fault ever fired"
}

# An error says what failed: "pkgflat: FILE: ..." or out of memory.
named_error() {
	grep -Eq '^pkgflat( [a-z]+)?: (.*(\.pkg|\.zip|/)[^:]*: |(.*: )?out of memory)' "$1" ||
		fail "no file named in: $(cat "$1")"
}

