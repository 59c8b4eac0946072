# Shell completions: the bash function driven as bash-completion drives it
# (COMP_WORDS, COMP_CWORD, COMPREPLY), and every option list of the bash
# and zsh completions against 'pkgflat CMD --help', so that they cannot
# fall behind the tool.
. tests/cli/lib.sh

BASHCOMP=/usr/share/bash-completion/bash_completion
OPTS="python3 $ROOT/tests/cli/helpopts.py"

# complete WORD...: what the bash completion offers for the last WORD,
# sorted, one per line, in the current directory.
complete_words() {
	bash -c '
		. "$0" || exit 3
		. "$1/completions/pkgflat.bash" || exit 3
		shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		COMPREPLY=()
		_pkgflat pkgflat "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}"' "$BASHCOMP" "$ROOT" "$@" | LC_ALL=C sort -u | sed '/^$/d'
}

# same_set WHAT A B: two sorted lists are equal; name what is extra.
same_set() {
	LC_ALL=C comm -23 "$2" "$3" | sed "s|^|$1: in --help, not completed: |" >missing
	LC_ALL=C comm -13 "$2" "$3" | sed "s|^|$1: completed, not in --help: |" >>missing
	[ ! -s missing ] || fail "$(cat missing)"
}

bash_commands() {
	{ $OPTS commands "$PKGFLAT"; printf '%s\n' --help --version; } | LC_ALL=C sort >want
	complete_words pkgflat "" >got
	same_set "completions/pkgflat.bash: pkgflat" want got
	complete_words pkgflat co >got
	[ "$(cat got)" = convert ] || fail "'co' completes to: $(cat got)"
}

bash_options() {
	for c in $($OPTS commands "$PKGFLAT"); do
		$OPTS help "$PKGFLAT" "$c" | LC_ALL=C sort >want
		complete_words pkgflat "$c" - >got
		same_set "completions/pkgflat.bash: pkgflat $c" want got
	done
	complete_words pkgflat verify --ca >got
	[ "$(tr '\n' ' ' <got)" = "--ca --ca-only " ] || fail "verify --ca: $(cat got)"
}

bash_files() {
	mkdir A.pkg B.mpkg sub
	touch c.zip d.tar.gz e.tgz notes.txt id.p12 leaf.pem root.crt flat.pkg
	complete_words pkgflat convert "" >got
	[ "$(tr '\n' ' ' <got)" = "A.pkg B.mpkg c.zip d.tar.gz e.tgz flat.pkg sub " ] ||
		fail "convert PACKAGE: $(tr '\n' ' ' <got)"
	complete_words pkgflat sign --p12 "" >got
	[ "$(tr '\n' ' ' <got)" = "A.pkg B.mpkg id.p12 sub " ] || fail "--p12: $(tr '\n' ' ' <got)"
	complete_words pkgflat verify --ca-only "" >got
	[ "$(tr '\n' ' ' <got)" = "A.pkg B.mpkg leaf.pem root.crt sub " ] ||
		fail "--ca-only: $(tr '\n' ' ' <got)"
	complete_words pkgflat batch -o "" >got
	[ "$(tr '\n' ' ' <got)" = "A.pkg B.mpkg sub " ] || fail "batch -o: $(tr '\n' ' ' <got)"
	complete_words pkgflat verify --json "" >got
	grep -qx flat.pkg got && ! grep -q 'zip\|txt' got || fail "verify PKG: $(tr '\n' ' ' <got)"
}

bash_values() {
	[ "$(complete_words pkgflat convert --ownership re)" = recommended ] || fail "--ownership re"
	[ "$(complete_words pkgflat diff --ownership r | tr "\n" " ")" = "recommended root " ] || fail "--ownership r"
	[ "$(complete_words pkgflat batch --toc-checksum sha2)" = sha256 ] || fail "--toc-checksum"
	[ "$(complete_words pkgflat sign --pass e)" = env: ] || fail "--pass"
	[ "$(complete_words pkgflat diff --ignore mode,c | tr '\n' ' ')" = "mode,checks mode,content " ] ||
		fail "--ignore list: $(complete_words pkgflat diff --ignore mode,c)"
	[ -z "$(complete_words pkgflat convert --title "")" ] || fail "--title offers something"
}

# The zsh function's option specs, from a stand-in _arguments that prints them.
zsh_options() {
	sed '$d' "$ROOT/completions/_pkgflat" >comp.zsh
	for c in $($OPTS commands "$PKGFLAT"); do
		zsh -fc '_arguments() { printf "%s\n" "$@"; }; source ./comp.zsh && _pkgflat_command "$0"' "$c" \
		    >specs || fail "zsh: _pkgflat_command $c failed"
		python3 - specs <<'PY' | LC_ALL=C sort -u >got
import re, sys
for spec in open(sys.argv[1]).read().splitlines():
    m = re.match(r"^(?:\([^)]*\))?\*?(--?[A-Za-z0-9][\w-]*)", spec)
    if m and spec != "-s":
        print(m.group(1))
PY
		$OPTS help "$PKGFLAT" "$c" | LC_ALL=C sort >want
		same_set "completions/_pkgflat: pkgflat $c" want got
	done
	$OPTS commands "$PKGFLAT" | LC_ALL=C sort >want
	sed -n "/^	commands=(/,/^	)/s/^		'\([a-z-]*\):.*/\1/p" "$ROOT/completions/_pkgflat" | LC_ALL=C sort >got
	same_set "completions/_pkgflat: commands" want got
	zsh -n "$ROOT/completions/_pkgflat" || fail "zsh: syntax error"
}

t bash_commands bash_commands
t bash_options bash_options
t bash_files bash_files
t bash_values bash_values
t zsh_options zsh_options
