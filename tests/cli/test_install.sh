# make install / uninstall, and a program built against the installed
# library through pkg-config (static and shared).
. tests/cli/lib.sh

install_and_link() {
	d="$T/root"
	make -s -C "$ROOT" BUILD="${BUILD:-build}" DESTDIR="$d" PREFIX=/usr install >/dev/null ||
		fail "make install failed"
	for f in usr/bin/pkgflat usr/include/pkgflat.h usr/lib/libpkgflat.a \
	    usr/lib/libpkgflat.so usr/lib/libpkgflat.so.0 usr/lib/pkgconfig/pkgflat.pc; do
		[ -e "$d/$f" ] || fail "missing $f"
	done
	export PKG_CONFIG_PATH="$d/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$d"
	cflags=$(pkg-config --cflags pkgflat) || fail "pkg-config cannot find pkgflat"
	grep -qx 'prefix=/usr' "$d/usr/lib/pkgconfig/pkgflat.pc" || fail "pkgflat.pc does not name PREFIX"
	# The public header stands alone, in C and in strict C11.
	cc -std=c11 -Wall -Wextra -Werror ${TEST_CFLAGS:-} $cflags -o static \
	    "$ROOT/tests/cli/example/list.c" "$d/usr/lib/libpkgflat.a" \
	    $(pkg-config --libs $(pkg-config --print-requires-private pkgflat)) \
	    $(sed -n 's/^Libs.private: //p' "$d/usr/lib/pkgconfig/pkgflat.pc") ||
		fail "static link failed"
	cc -std=c11 -Wall -Werror ${TEST_CFLAGS:-} $cflags -o shared \
	    "$ROOT/tests/cli/example/list.c" -L"$d/usr/lib" $(pkg-config --libs pkgflat) ||
		fail "shared link failed"
	run 0 ./static "$TD/legacy/ExifTool-9.47.pkg"
	has "$T/out" "com.philharvey.image-exiftool 9.47"
	LD_LIBRARY_PATH="$d/usr/lib" run 0 ./shared "$TD/legacy/ExifTool-9.47.pkg"
	has "$T/out" "com.philharvey.image-exiftool 9.47"
	LD_LIBRARY_PATH="$d/usr/lib" ldd ./shared | grep -q "$d/usr/lib/libpkgflat.so.0" ||
		fail "not linked against the installed shared library"
	# The old names of the component type (pkgflat_bundle_*) still build
	# and link, and a GNU compiler names their replacement.
	cc -std=c11 -Wall -Werror=deprecated-declarations ${TEST_CFLAGS:-} $cflags -o old \
	    "$ROOT/tests/cli/example/list_old.c" -L"$d/usr/lib" $(pkg-config --libs pkgflat) \
	    2>old.err && fail "old names compiled without a deprecation warning"
	grep -q "use pkgflat_component_get" old.err ||
		fail "no deprecation message naming the replacement: $(cat old.err)"
	cc -std=c11 -Wall ${TEST_CFLAGS:-} $cflags -o old \
	    "$ROOT/tests/cli/example/list_old.c" -L"$d/usr/lib" $(pkg-config --libs pkgflat) \
	    2>/dev/null || fail "old names no longer build"
	LD_LIBRARY_PATH="$d/usr/lib" run 0 ./old "$TD/legacy/ExifTool-9.47.pkg"
	has "$T/out" "com.philharvey.image-exiftool 9.47"
	run 0 "$d/usr/bin/pkgflat" --version
	make -s -C "$ROOT" BUILD="${BUILD:-build}" DESTDIR="$d" PREFIX=/usr uninstall ||
		fail "make uninstall failed"
	[ -z "$(find "$d" -type f)" ] || fail "uninstall left files: $(find "$d" -type f)"
}

t install_and_link install_and_link
