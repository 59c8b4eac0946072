# Helpers for the command-line tests; sourced by tests/cli/test_*.sh, run
# from the repository root. Each test is a shell function run in a subshell
# by t(); it fails by calling fail (or any helper below that fails).
set -u
ROOT=$(pwd)
PKGFLAT="$ROOT/${BUILD:-build}/pkgflat"
TD="$ROOT/testdata"
T=$(mktemp -d "${TMPDIR:-/tmp}/pkgflat-cli.XXXXXX") || exit 3
trap 'rm -rf "$T"' EXIT INT TERM
LC_ALL=C
export LC_ALL

t() { # t NAME FUNCTION
	mkdir -p "$T/work.$1" && ( cd "$T/work.$1" && "$2" ) >"$T/.log" 2>&1
	if [ $? -eq 0 ]; then
		echo "ok   cli/$1"
	else
		echo "FAIL cli/$1"
		sed 's/^/  | /' "$T/.log" | tail -30 >&2
	fi
}

fail() { echo "$*"; exit 1; }

# run CODE CMD...: run, keep stdout in $T/out and stderr in $T/err, and
# insist on the exit code.
run() {
	want=$1; shift
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "exit $got, want $want: $*"
		echo "--- stdout"; head -20 "$T/out"
		echo "--- stderr"; cat "$T/err"
		exit 1
	fi
}

has() { # has FILE TEXT: fixed-string search
	grep -qF -- "$2" "$1" || fail "$1 does not contain: $2 (it has: $(head -c 600 "$1"))"
}

hasnt() {
	! grep -qF -- "$2" "$1" || fail "$1 contains: $2"
}

# golden NAME FILE: compare with testdata/golden/NAME, or write it with UPDATE=1.
golden() {
	g="$TD/golden/$1"
	if [ "${UPDATE:-0}" = 1 ]; then
		mkdir -p "$(dirname "$g")"
		cp "$2" "$g"
		return 0
	fi
	[ -f "$g" ] || fail "no golden file $g (run UPDATE=1 scripts/run-tests)"
	diff -u "$g" "$2" || fail "output differs from $g"
}

# A clean error: exit 3, one "pkgflat: FILE: ..." line naming the file,
# nothing on stdout, no sanitizer report.
bad_input() { # bad_input EXPECTED-TEXT CMD...
	text=$1; shift
	run 3 "$@"
	has "$T/err" "pkgflat: "
	has "$T/err" "$text"
	hasnt "$T/err" "AddressSanitizer"
	hasnt "$T/err" "runtime error"
}

# A stable fingerprint of a tree, to prove that nothing was changed.
tree_sum() {
	(cd "$1" && find . -print0 | LC_ALL=C sort -z | xargs -0 stat -c '%n %a %s %Y' &&
	    find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum
}

# only DIR NAME...: DIR holds exactly these names, hidden ones included (no
# temporary file, no partial output).
only() {
	dir=$1; shift
	got=$(cd "$dir" && ls -A | LC_ALL=C sort | tr '\n' ' ')
	want=$([ $# -eq 0 ] || printf '%s\n' "$@" | LC_ALL=C sort | tr '\n' ' ')
	[ "$got" = "$want" ] || fail "$dir holds '$got', want '$want'"
}

# whole PKG: a complete package: bsdtar lists it and verify finds no check
# failed; with $CA set it must be signed by that root, else unsigned is fine.
whole() {
	bsdtar -tf "$1" >/dev/null 2>&1 || fail "$1: bsdtar cannot read it"
	if [ -n "${CA:-}" ]; then
		"$PKGFLAT" verify --ca "$CA" "$1" >"$T/whole.out" 2>&1
	else
		"$PKGFLAT" verify --allow-unsigned "$1" >"$T/whole.out" 2>&1
	fi
	grep -q "^no check failed" "$T/whole.out" || { cat "$T/whole.out"; fail "$1 does not verify"; }
}

unzip_to() { # unzip_to ZIP DIR: extract with bsdtar, keeping modes and links
	mkdir -p "$2" && bsdtar -xpf "$1" -C "$2"
}

# wait_port_file PID NAME LOG: wait (up to 15 s) for ./port, written by the
# test server PID once it listens; its LOG is shown if it dies first.
wait_port_file() {
	i=0
	while [ ! -s port ]; do
		kill -0 "$1" 2>/dev/null || { cat "$3"; fail "$2 died"; }
		i=$((i + 1))
		[ $i -le 150 ] || { cat "$3"; fail "no port file after 15 s"; }
		sleep 0.1
	done
}

# start_tsa MODE [ARGS...]: start tests/tools/tsa_server.py for the test PKI
# in $PKI in the background (killed when
# the test ends), wait for its port file; sets $url and $tsa_pid. A KILL
# after 90 s is the last-resort bound should everything else fail.
start_tsa() {
	mode=$1; shift
	rm -f port
	timeout -s KILL 90 python3 "$ROOT/tests/tools/tsa_server.py" --pki "$PKI" --mode "$mode" \
	    --port-file port --max-seconds 60 "$@" >server.out 2>server.log &
	tsa_pid=$!
	trap 'kill $tsa_pid 2>/dev/null' EXIT
	wait_port_file "$tsa_pid" tsa_server server.log
	url=$(cat port)
	case $url in
	http://127.0.0.1:[0-9]*/ts) ;;
	*) fail "bad URL in the port file: $url" ;;
	esac
	has server.out "$url"
}

