# Man pages: lint-clean, and true to the tool: every option of
# 'pkgflat CMD --help' is on page pkgflat-CMD(1), and the reverse; a page
# per command; make install puts them where man finds them, with the
# shell completions.
. tests/cli/lib.sh

MAN="$ROOT/docs/man"

man_lint() {
	ls "$MAN"/*.1 >/dev/null || fail "no man pages in $MAN"
	# Warnings and worse; style notes depend on the pages installed here.
	mandoc -T lint -W warning "$MAN"/*.1 >lint 2>&1 || fail "mandoc -T lint: $(cat lint)"
	[ ! -s lint ] || fail "mandoc -T lint: $(cat lint)"
}

man_matches_help() {
	python3 "$ROOT/tests/cli/helpopts.py" check "$PKGFLAT" "$MAN" >problems ||
		fail "man pages and --help disagree:
$(cat problems)"
}

# The checker itself: an option taken out of a page, or one the tool
# does not have, is named.
man_check_catches_drift() {
	mkdir m && cp "$MAN"/*.1 m/
	sed '/^\.It Fl -fsync$/d' "$MAN/pkgflat-sign.1" >m/pkgflat-sign.1
	printf '.Bl -tag\n.It Fl -no-such-option\nx\n.El\n' >>m/pkgflat-diff.1
	rm m/pkgflat-staple.1
	run 1 python3 "$ROOT/tests/cli/helpopts.py" check "$PKGFLAT" m
	has "$T/out" "m/pkgflat-sign.1: option --fsync is in 'pkgflat sign --help' but not in the page"
	has "$T/out" "m/pkgflat-diff.1: option --no-such-option is in the page but not in 'pkgflat diff --help'"
	has "$T/out" "m/pkgflat-staple.1: missing"
}

install_docs() {
	d="$T/root"
	make -s -C "$ROOT" BUILD="${BUILD:-build}" DESTDIR="$d" PREFIX=/usr install >/dev/null ||
		fail "make install failed"
	for c in $(python3 "$ROOT/tests/cli/helpopts.py" commands "$PKGFLAT"); do
		[ -f "$d/usr/share/man/man1/pkgflat-$c.1" ] || fail "pkgflat-$c.1 not installed"
	done
	[ -f "$d/usr/share/bash-completion/completions/pkgflat" ] || fail "bash completion not installed"
	[ -f "$d/usr/share/zsh/vendor-completions/_pkgflat" ] || fail "zsh completion not installed"
	MANPAGER=cat MANWIDTH=80 man -M "$d/usr/share/man" pkgflat-sign >page 2>err ||
		fail "man pkgflat-sign: $(cat err)"
	has page "--sign-command"
	has page "PKGFLAT-SIGN(1)"
	make -s -C "$ROOT" BUILD="${BUILD:-build}" DESTDIR="$d" PREFIX=/usr MANDIR=/usr/share/man \
	    uninstall || fail "make uninstall failed"
	[ -z "$(find "$d" -type f)" ] || fail "uninstall left files: $(find "$d" -type f)"
}

t man_lint man_lint
t man_matches_help man_matches_help
t man_check_catches_drift man_check_catches_drift
t install_docs install_docs
