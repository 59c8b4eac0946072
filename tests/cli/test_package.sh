# The shared library's ABI: it exports exactly the functions
# include/pkgflat.h declares (all pkgflat_*), and debian/libpkgflat0.symbols
# lists exactly those. scripts/deb-check builds and uses the packages.
. tests/cli/lib.sh

SO="$ROOT/${BUILD:-build}/libpkgflat.so"

# Defined dynamic symbols, leaving out what a sanitizer runtime adds.
exported() {
	nm -D --defined-only "$SO" | awk '{print $3}' | grep -Ev '^(__asan|__ubsan|__odr_asan|__sancov)' |
		LC_ALL=C sort
}

exports_only_api() {
	exported >got
	[ -s got ] || fail "nm finds no symbols in $SO"
	! grep -v '^pkgflat_' got >extra || fail "$SO exports more than pkgflat_*: $(tr '\n' ' ' <extra)"
	grep -oE '\bpkgflat_[a-z0-9_]+ *\(' "$ROOT/include/pkgflat.h" | tr -d ' (' | LC_ALL=C sort -u >api
	LC_ALL=C comm -23 api got >missing
	[ ! -s missing ] || fail "declared in pkgflat.h, not exported: $(tr '\n' ' ' <missing)"
	LC_ALL=C comm -13 api got >extra
	[ ! -s extra ] || fail "exported, not declared in pkgflat.h: $(tr '\n' ' ' <extra)"
}

symbols_file() {
	f="$ROOT/debian/libpkgflat0.symbols"
	head -n 1 "$f" | grep -qx 'libpkgflat.so.0 libpkgflat0 #MINVER#' || fail "$f: bad first line"
	sed -n 's/^ \(pkgflat_[a-z0-9_]*\)@Base .*/\1/p' "$f" | LC_ALL=C sort >listed
	exported >got
	LC_ALL=C comm -13 listed got | sed 's/.*/ &@Base VERSION/' >new
	[ ! -s new ] || fail "$f: add the new API (VERSION: the first release that has it):
$(cat new)"
	LC_ALL=C comm -23 listed got >gone
	[ ! -s gone ] || fail "$f lists symbols the library no longer exports (an ABI break): $(tr '\n' ' ' <gone)"
}

t exports_only_api exports_only_api
t symbols_file symbols_file
