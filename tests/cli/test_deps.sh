# scripts/deps-check, the layering check `make check` runs: on small trees
# built here, it must pass a clean layering and name each kind of
# violation (`make deps-check` checks the real tree).
. tests/cli/lib.sh

DEPS="$ROOT/scripts/deps-check"

# mini FILE BODY: write src/FILE and compile it into build/src/FILE.o
mini() {
	mkdir -p "$(dirname "src/$1")" "$(dirname "build/src/${1%.c}.o")"
	printf '%s\n' "$2" >"src/$1"
	cc -c -Iinclude -Isrc/lib/base -Isrc/lib/ops -o "build/src/${1%.c}.o" "src/$1" ||
		fail "cc $1"
}

tree() { # a tree that is clean: ops -> base, cli -> public API
	mkdir -p include
	printf 'int pkgflat_run(void);\n' >include/pkgflat.h
	printf 'int base_helper(void);\n' >src_base_h
	mkdir -p src/lib/base src/lib/ops
	mv src_base_h src/lib/base/util.h
	mini lib/base/util.c 'int base_helper(void); int base_helper(void) { return 1; }'
	mini lib/ops/run.c '#include "util.h"
int pkgflat_run(void); int pkgflat_run(void) { return base_helper(); }'
	mini cli/main.c '#include "pkgflat.h"
int main(void) { return pkgflat_run(); }'
}

clean_tree_passes() {
	tree
	run 0 "$DEPS" --root .
	has "$T/out" "no upward call, no cycle"
}

back_call_fails() {
	tree
	mini lib/base/util.c 'int pkgflat_run(void); int base_helper(void);
int base_helper(void) { return pkgflat_run(); }'
	run 1 "$DEPS" --root .
	has "$T/err" "src/lib/base/util.c: calls pkgflat_run() of src/lib/ops/run.c: a call from layer base up to layer ops"
}

cycle_fails() {
	tree
	mini lib/ops/a.c 'int b(void); int a(int n); int a(int n) { return n ? b() : 0; }'
	mini lib/ops/b.c 'int a(int n); int b(void); int b(void) { return a(0); }'
	run 1 "$DEPS" --root .
	has "$T/err" "cycle between src/lib/ops/a.c, src/lib/ops/b.c"
	has "$T/err" "src/lib/ops/a.c -> src/lib/ops/b.c (b)"
}

upward_include_fails() {
	tree
	printf 'int ops_thing(void);\n' >src/lib/ops/thing.h
	mini lib/base/inc.c '#include "thing.h"
int base_inc(void); int base_inc(void) { return 0; }'
	run 1 "$DEPS" --root .
	has "$T/err" 'src/lib/base/inc.c: includes "thing.h" of layer ops from layer base'
}

cli_private_call_fails() {
	tree
	mini cli/main.c 'int base_helper(void);
int main(void) { return base_helper(); }'
	run 1 "$DEPS" --root .
	has "$T/err" "src/cli/main.c: calls base_helper() of src/lib/base/util.c, which include/pkgflat.h does not declare"
}

long_file_fails() {
	tree
	{ echo 'int base_long(void); int base_long(void) { return 0; }'
	  i=0; while [ $i -lt 30 ]; do echo "/* $i */"; i=$((i + 1)); done; } >long.c
	mini lib/base/long.c "$(cat long.c)"
	run 0 "$DEPS" --root .
	run 1 "$DEPS" --root . --max-lines 20
	has "$T/err" "src/lib/base/long.c: 31 lines, over the 20-line limit"
}

stray_file_fails() {
	tree
	printf 'int x;\n' >src/lib/loose.c
	run 1 "$DEPS" --root .
	has "$T/err" "src/lib/loose.c: outside the layer folders"
}

missing_build_is_usage() {
	tree
	rm build/src/lib/ops/run.o
	run 2 "$DEPS" --root .
	has "$T/err" "build/src/lib/ops/run.o is missing"
}

t deps_clean_tree_passes clean_tree_passes
t deps_back_call_fails back_call_fails
t deps_cycle_fails cycle_fails
t deps_upward_include_fails upward_include_fails
t deps_cli_private_call_fails cli_private_call_fails
t deps_long_file_fails long_file_fails
t deps_stray_file_fails stray_file_fails
t deps_missing_build_is_usage missing_build_is_usage
