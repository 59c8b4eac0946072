# The progress line: seen on a terminal (a pseudo-terminal from
# tests/cli/ptyrun.py), never in a file unless asked; erased at the end.
# Batch counts the bytes its workers have in flight, so that its first
# estimate of the time left is within a factor of 2 of the truth.
. tests/cli/lib.sh

PTY="python3 $ROOT/tests/cli/ptyrun.py"
MKBIG="python3 $ROOT/tests/cli/mkbig.py"
export SOURCE_DATE_EPOCH=1700000000

# progress_lines LOG CMD: the progress lines the command drew, one a line.
progress_lines() {
	python3 - "$1" "$2" <<'EOF'
import ast, re, sys
data = b""
for line in open(sys.argv[1]):
    t, _, v = line.rstrip("\n").partition("\t")
    if v != "end":
        data += ast.literal_eval(v)
for piece in data.split(b"\r\x1b[K"):
    s = piece.decode("utf-8", "replace")
    if s.startswith("pkgflat %s: " % sys.argv[2]) and "\n" not in s:
        print(s)
EOF
}

convert_pty() {
	$MKBIG Big.pkg 40 || fail "mkbig"
	$PTY log ${PKGFLAT} convert Big.pkg -o b.pkg >out || fail "convert failed: $(cat log)"
	progress_lines log convert >lines
	[ -s lines ] || { cat log; fail "no progress line on the terminal"; }
	# Bytes done of the total, percent, rate, ETA, the component.
	grep -Eq '^pkgflat convert: [0-9.]+ [kMG]?B / 40\.[0-9] MB \([0-9]+%\), [0-9.]+ [kMG]?B/s, ETA [0-9]+:[0-9]{2}, org\.example\.big\.big$' lines ||
		{ cat lines; fail "progress line not in the expected form"; }
	# One row at most: never wider than the terminal (ptyrun's 120 columns).
	awk 'length($0) >= 120 { exit 1 }' lines || fail "a progress line wraps"
	# Erased before the summary; the summary is the last thing left.
	python3 - log <<'EOF' || fail "the progress line is not erased at the end"
import ast, sys
data = b"".join(ast.literal_eval(l.rstrip("\n").split("\t", 1)[1])
                for l in open(sys.argv[1]) if not l.rstrip().endswith("\tend"))
last = data.rfind(b"pkgflat convert: ")
summary = data.find(b"pkgflat: wrote b.pkg: ")
assert last >= 0 and summary > last, data[-300:]
assert b"\r\x1b[K" in data[last:summary], data[last:summary]
assert data.endswith(b"\n") and data.count(b"pkgflat: wrote") == 1
EOF
	[ ! -s out ] || fail "progress went to standard output"
	# Standard error to a file: no progress, no control characters.
	run 0 "$PKGFLAT" convert Big.pkg -o c.pkg
	hasnt "$T/err" "ETA"
	! grep -q "$(printf '\r')" "$T/err" || fail "a carriage return in a log"
	cmp b.pkg c.pkg || fail "the progress line changed the output"
	# --progress to a file shows it; --no-progress on a terminal hides it.
	run 0 "$PKGFLAT" convert --progress Big.pkg -o d.pkg
	has "$T/err" "pkgflat convert: "
	has "$T/err" "ETA"
	$PTY log2 ${PKGFLAT} convert --no-progress Big.pkg -o e.pkg >/dev/null || fail "convert"
	progress_lines log2 convert >lines2
	[ ! -s lines2 ] || fail "--no-progress drew: $(head -1 lines2)"
	# -q on a terminal: no progress either.
	$PTY log3 ${PKGFLAT} convert -q Big.pkg -o f.pkg >/dev/null || fail "convert"
	progress_lines log3 convert >lines3
	[ ! -s lines3 ] || fail "-q drew: $(head -1 lines3)"
}

others_pty() {
	$MKBIG Big.pkg 30 || fail "mkbig"
	"$PKGFLAT" convert -q Big.pkg -o b.pkg || fail "convert"
	"$ROOT/scripts/make-test-pki" pki >/dev/null 2>&1 || fail "pki"
	$PTY log.sign ${PKGFLAT} sign --key pki/leaf.key --cert pki/leaf.pem \
	    --chain pki/chain.pem b.pkg s.pkg >/dev/null || fail "sign: $(cat log.sign)"
	$PTY log.verify ${PKGFLAT} verify --ca pki/root.pem s.pkg >/dev/null ||
		fail "verify: $(cat log.verify)"
	$PTY log.diff ${PKGFLAT} diff Big.pkg s.pkg >/dev/null || fail "diff: $(cat log.diff)"
	for c in sign verify diff; do
		progress_lines log.$c $c >lines.$c
		grep -Eq "^pkgflat $c: [0-9.]+ [kMG]?B / [0-9.]+ [kMG]?B \([0-9]+%\)" lines.$c ||
			{ cat log.$c; fail "$c drew no progress line"; }
	done
	run 0 "$PKGFLAT" verify --ca pki/root.pem s.pkg
	hasnt "$T/err" "ETA"
}

# Eight inputs of different sizes, two at a time: the first estimate shown
# after a second must be within a factor of 2 of the time that was really
# left. Counting only finished inputs, it starts near zero and climbs. The
# sizes grow until the run is long enough to judge on this machine.
batch_eta() {
	for scale in 1 3 9; do
		rm -rf in out log
		mkdir in
		for i in 1 2 3 4 5 6 7 8; do
			$MKBIG "in/P$i.pkg" $(((4 + 4 * i) * scale)) || fail "mkbig"
		done
		$PTY log ${PKGFLAT} batch -j 2 --threads 1 -o out in >/dev/null ||
			{ cat log; fail "batch failed"; }
		python3 - log <<'EOF' && break
import ast, re, sys
pieces, end = [], None
for l in open(sys.argv[1]):
    t, _, v = l.rstrip("\n").partition("\t")
    if v == "end":
        end = float(t)
    else:
        pieces.append((float(t), ast.literal_eval(v).decode("utf-8", "replace")))
etas = []
for t, s in pieces:
    for m in re.finditer(r"ETA (\d+):(\d\d)", s):
        etas.append((t, int(m.group(1)) * 60 + int(m.group(2))))
first = [(t, e) for t, e in etas if t >= 1.0]
if not first or end - first[0][0] < 4:
    print("run of %.1f s: too short to judge, larger inputs" % end)
    sys.exit(2)
t, eta = first[0]
left = end - t
print("first ETA %d s at %.1f s; really left %.1f s (run %.1f s)" % (eta, t, left, end))
if not left / 2 <= max(eta, 0.5) <= left * 2:
    print("first ETA not within a factor of 2: %r" % ((eta, left),))
    sys.exit(1)
EOF
		[ $? = 2 ] || fail "first ETA not within a factor of 2"
		[ $scale = 9 ] && fail "the run stayed too short to judge"
	done
	[ "$(ls out/in 2>/dev/null | wc -l)" = 8 ] || [ "$(ls out | grep -c '\.pkg$')" = 8 ] ||
		fail "not 8 outputs: $(ls -R out | head)"
}

t convert_pty convert_pty
t others_pty others_pty
t batch_eta batch_eta
