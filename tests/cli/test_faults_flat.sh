# Fault injection (tests/tools/faultinj.c) in expand --full, flatten and
# build --root, as tests/cli/test_faults.sh does for convert and sign:
# the Nth call of each function fails; after each run either exit 0 with
# a complete result (an expanded directory equal to an undisturbed one, a
# package that verifies) or exit 3 naming what failed, and never a partial
# output, a temporary file or directory, a changed input or a crash.
. tests/cli/lib.sh

SHIM="$ROOT/${BUILD:-build}/faultinj.so"
RUNS=${FAULT_RUNS:-4}
FUNCS="write pwrite fsync rename linkat read malloc"
export SOURCE_DATE_EPOCH=1700000000
export PKGFLAT_FSYNC=1
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

[ -f "$SHIM" ] || { echo "FAIL cli/faults_flat: $SHIM not built"; exit 1; }

. tests/cli/faults.sh

# An input with hard links, symlinks, scripts and a 200-entry payload.
make_input() {
	mkdir in
	"$PKGFLAT" convert -q "$TD/legacy/ExifTool-9.47.pkg" -o in/e.pkg || fail "convert"
	"$PKGFLAT" expand --full in/e.pkg ref || fail "expand"
	INSUM=$(tree_sum in)
}

failed_cleanly() { # failed_cleanly RC STDERR
	[ "$1" = 3 ] || fail "exit $1, want 0 or 3"
	named_error "$2"
	only out
}

setup_expand() { rm -rf out; mkdir out; }
cmd_expand() { "$PKGFLAT" expand --full in/e.pkg out/e; }
check_expand() {
	[ "$(tree_sum in)" = "$INSUM" ] || fail "input changed"
	if [ "$1" = 0 ]; then
		only out e
		diff -r ref out/e >/dev/null || fail "expanded tree differs from an undisturbed expand"
		python3 "$ROOT/tests/cli/cmp_trees.py" ref/ExifTool-9.47.pkg/Payload out/e/ExifTool-9.47.pkg/Payload \
		    >/dev/null || fail "expanded payload differs from an undisturbed expand"
	else
		failed_cleanly "$1" "$2"
	fi
}

expand_faults() {
	make_input
	sweep expand
}

setup_flatten() { rm -rf out; mkdir out; }
cmd_flatten() { "$PKGFLAT" flatten ref out/f.pkg; }
check_flatten() {
	[ "$(tree_sum ref)" = "$REFSUM" ] || fail "input changed"
	if [ "$1" = 0 ]; then
		only out f.pkg
		whole out/f.pkg
	else
		failed_cleanly "$1" "$2"
	fi
}

flatten_faults() {
	make_input
	REFSUM=$(tree_sum ref)
	sweep flatten
}

setup_build() { rm -rf out; mkdir out; }
cmd_build() {
	"$PKGFLAT" build --root ref/*.pkg/Payload --scripts ref/*.pkg/Scripts \
	    --identifier org.example.f --version 1 out/b.pkg
}
check_build() {
	[ "$(tree_sum ref)" = "$REFSUM" ] || fail "input changed"
	if [ "$1" = 0 ]; then
		only out b.pkg
		whole out/b.pkg
	else
		failed_cleanly "$1" "$2"
	fi
}

build_faults() {
	make_input
	REFSUM=$(tree_sum ref)
	sweep build
}

t expand_faults expand_faults
t flatten_faults flatten_faults
t build_faults build_faults
