# Outputs never destroy inputs, appear whole or not at all, and leave no
# temporary file behind; batch state damage is said, not swallowed.
. tests/cli/lib.sh

EXIF="$TD/legacy/ExifTool-9.47.pkg"
ZIP="$TD/legacy/zips/Keychain_Minder_1_3.zip"
FLAT="$TD/flat/Installomator-0.5.pkg"
export SOURCE_DATE_EPOCH=1700000000


refused() { # refused TEXT CMD...: exit 2 naming why, before any work
	text=$1; shift
	run 2 "$@"
	has "$T/err" "$text"
	hasnt "$T/err" "AddressSanitizer"
}

convert_never_overwrites_input() {
	cp "$ZIP" in.zip
	sum=$(sha256sum in.zip)
	refused "in.zip: is the input in.zip: writing it would destroy the input" \
	    "$PKGFLAT" convert -q in.zip -o in.zip
	ln -s in.zip link.zip
	refused "is the input in.zip (the same file by another name)" \
	    "$PKGFLAT" convert -q in.zip -o link.zip
	ln in.zip hard.zip
	refused "is the input in.zip (the same file by another name)" \
	    "$PKGFLAT" convert -q in.zip -o hard.zip
	refused "is the input" "$PKGFLAT" convert -q link.zip -o "$PWD/./in.zip"
	[ "$sum" = "$(sha256sum in.zip)" ] || fail "input changed"
	[ -L link.zip ] || fail "symlink replaced"
	# A path inside a directory input, however it is spelled.
	cp -a "$EXIF" b.pkg
	before=$(tree_sum b.pkg)
	refused "is inside the input b.pkg" "$PKGFLAT" convert -q b.pkg -o b.pkg/x.pkg
	refused "is inside the input b.pkg" "$PKGFLAT" convert -q b.pkg -o b.pkg/Contents/new/x.pkg
	mkdir sub && ln -s ../b.pkg/Contents sub/c
	refused "is inside the input b.pkg" "$PKGFLAT" convert -q b.pkg -o sub/c/x.pkg
	refused "is inside the input" "$PKGFLAT" convert -q "$PWD/sub/../b.pkg/" -o b.pkg/Contents/Resources/x.pkg
	[ "$before" = "$(tree_sum b.pkg)" ] || fail "input bundle changed"
	# --report and the identity files are inputs too; report = output.
	refused "is the input" "$PKGFLAT" convert -q in.zip -o o.pkg --report in.zip
	refused "named both to read and to write" "$PKGFLAT" convert -q in.zip -o o.pkg --report o.pkg
	"$ROOT/scripts/make-test-pki" "$T/pki" >/dev/null 2>&1
	cp "$T/pki/leaf.key" k.key
	ksum=$(sha256sum k.key)
	refused "is the input" "$PKGFLAT" convert -q in.zip -o k.key --sign --key k.key \
	    --cert "$T/pki/leaf.pem"
	[ "$ksum" = "$(sha256sum k.key)" ] || fail "key overwritten"
	[ "$sum" = "$(sha256sum in.zip)" ] || fail "input changed"
	only . b.pkg hard.zip in.zip k.key link.zip sub
	# And a plain conversion next to it still works, leaving only its output.
	mkdir out
	run 0 "$PKGFLAT" convert -q in.zip -o out/x.pkg --report out/r.json
	only out r.json x.pkg
	bsdtar -tf out/x.pkg >/dev/null || fail "output unreadable by bsdtar"
}

sign_in_place_only_by_one_name() {
	"$ROOT/scripts/make-test-pki" "$T/pki" >/dev/null 2>&1
	P=$T/pki
	id="--key $P/leaf.key --cert $P/leaf.pem --chain $P/chain.pem"
	cp "$FLAT" real.pkg
	ln real.pkg hard.pkg
	sum=$(sha256sum <real.pkg)
	# shellcheck disable=SC2086
	refused "is the input real.pkg (the same file by another name)" \
	    "$PKGFLAT" sign $id real.pkg -o hard.pkg
	[ "$sum" = "$(sha256sum <real.pkg)" ] || fail "input changed"
	[ "$(stat -c %h real.pkg)" = 2 ] || fail "hard link broken"
	# shellcheck disable=SC2086
	refused "is the input" "$PKGFLAT" sign $id real.pkg -o "$P/leaf.key"
	openssl pkey -in "$P/leaf.key" -noout || fail "key overwritten"
	# In place through a symlink: the file is signed, the link stays.
	rm hard.pkg
	ln -s real.pkg link.pkg
	# shellcheck disable=SC2086
	run 0 "$PKGFLAT" sign $id link.pkg -o link.pkg
	[ -L link.pkg ] || fail "the symlink was replaced by a file"
	[ "$sum" != "$(sha256sum <real.pkg)" ] || fail "the file was not signed"
	run 0 "$PKGFLAT" verify --ca "$P/root.pem" real.pkg
	# In place by its own name.
	cp "$FLAT" same.pkg
	# shellcheck disable=SC2086
	run 0 "$PKGFLAT" sign $id same.pkg -o same.pkg
	run 0 "$PKGFLAT" verify --ca "$P/root.pem" same.pkg
	# The request directory of two-step signing is an input of inject.
	run 0 "$PKGFLAT" sign --prepare req --cert "$P/leaf.pem" --chain "$P/chain.pem" same.pkg
	refused "is inside the input req" "$PKGFLAT" sign --inject req same.pkg -o req/x.pkg
	only . link.pkg real.pkg req same.pkg
}

staple_keeps_links_and_ticket() {
	cp "$FLAT" a.pkg
	python3 -c "import sys; d=open(sys.argv[1],'rb').read(); open('ticket','wb').write(d[-1668:-16])" a.pkg
	sum=$(sha256sum <a.pkg)
	refused "is the input" "$PKGFLAT" staple --ticket a.pkg a.pkg
	[ "$sum" = "$(sha256sum <a.pkg)" ] || fail "package changed"
	ln -s a.pkg l.pkg
	run 0 "$PKGFLAT" staple --remove l.pkg
	[ -L l.pkg ] || fail "staple replaced the symlink"
	[ "$sum" != "$(sha256sum <a.pkg)" ] || fail "the ticket was not removed"
	run 0 "$PKGFLAT" staple --ticket ticket l.pkg
	[ "$sum" = "$(sha256sum <a.pkg)" ] || fail "re-stapled file differs"
	only . a.pkg l.pkg ticket
}

batch_never_overwrites_input() {
	cp -a "$EXIF" Foo.pkg
	before=$(tree_sum Foo.pkg)
	refused "out: is inside the input Foo.pkg" "$PKGFLAT" batch -q -o Foo.pkg/out Foo.pkg
	[ "$before" = "$(tree_sum Foo.pkg)" ] || fail "input bundle changed (OUTDIR made?)"
	# An archive named like the output it would get, converted into its
	# own directory.
	mkdir d && cp "$ZIP" d/Keychain.pkg
	sum=$(sha256sum <d/Keychain.pkg)
	refused "d/Keychain.pkg: is an input" "$PKGFLAT" batch -q -o d d
	[ "$sum" = "$(sha256sum <d/Keychain.pkg)" ] || fail "input archive overwritten"
	only d Keychain.pkg
	refused "is the input" "$PKGFLAT" batch -q -o o2 --junit d/Keychain.pkg d
	[ ! -e o2 ] || fail "OUTDIR created before the refusal"
	# OUTDIR inside a directory that is searched is what users do: fine.
	mkdir tree && cp "$ZIP" tree/k.zip
	run 0 "$PKGFLAT" batch -q -o tree/out tree
	[ -f tree/out/k.pkg ] || fail "no output"
	only tree/out .pkgflat-batch-state k.pkg pkgflat-report.json pkgflat-report.html
}

# Temporary files of dead processes go; a live one's stay.
stale_temps_removed() {
	sh -c 'exit 0' &
	dead=$!
	wait $dead
	kill -0 $dead 2>/dev/null && fail "pid $dead still alive"
	mkdir o
	head -c 100000 /dev/zero >"o/.pkgflat-$dead-abc123-x.pkg"
	mkdir "o/.pkgflat-$dead-zzz999-req" && : >"o/.pkgflat-$dead-zzz999-req/state"
	: >"o/.pkgflat-$$-abc123-x.pkg"
	: >o/.x.pkg.abcdef
	run 0 "$PKGFLAT" convert -q "$ZIP" -o o/x.pkg
	only o ".pkgflat-$$-abc123-x.pkg" .x.pkg.abcdef x.pkg
}

batch_state_damage_is_said() {
	mkdir in && cp "$ZIP" in/k.zip
	run 0 "$PKGFLAT" batch -q -o out in
	state=out/.pkgflat-batch-state
	head -n 1 $state | grep -qx 'pkgflat-batch-state 1' || fail "no header"
	good=$(cat $state)
	# Garbage: said with the file and the line, every input converted again.
	printf 'GIF89a\0\1\2 garbage\n' >$state
	run 0 "$PKGFLAT" batch --progress plain -o out in
	has "$T/err" "warning: out/.pkgflat-batch-state: line 1: not a batch state file"
	has "$T/err" "converted "
	[ "$(cat $state)" = "$good" ] || fail "state not rebuilt"
	# A damaged line: named, its input converted again, the rest trusted.
	printf '%s\nbroken\tline\n' "$good" >$state
	run 0 "$PKGFLAT" batch --progress plain -o out in
	has "$T/err" "warning: out/.pkgflat-batch-state: line 3: not 'OUTPUT<TAB>three SHA-256s' (1 damaged line ignored"
	has "$T/err" "up-to-date"
	: >$state
	run 0 "$PKGFLAT" batch --progress plain -o out in
	has "$T/err" "out/.pkgflat-batch-state: empty: not a batch state file"
	# The state as written is read back without a word.
	run 0 "$PKGFLAT" batch --progress plain -o out in
	hasnt "$T/err" "warning"
	has "$T/err" "up-to-date"
}

# A killed batch takes its workers with it.
batch_workers_die_with_parent() {
	mkdir in && cp "$ZIP" in/k.zip
	PKGFLAT_BATCH_TEST_DELAY=60 "$PKGFLAT" batch -q -j 1 -o out in 2>err &
	bpid=$!
	i=0
	while :; do
		w=$(ps -o pid= --ppid $bpid | tr -d ' ' | head -n 1)
		[ -n "$w" ] && break
		i=$((i + 1)); [ $i -le 100 ] || fail "no worker after 10 s"
		sleep 0.1
	done
	kill -KILL $bpid
	wait $bpid 2>/dev/null
	i=0
	# Gone, or a zombie waiting for a reaper: not running either way.
	while [ -d /proc/$w ] && ! grep -q '^[0-9]* ([^)]*) Z' /proc/$w/stat 2>/dev/null; do
		i=$((i + 1)); [ $i -le 50 ] || fail "worker $w still running 5 s after its parent died"
		sleep 0.1
	done
	[ ! -e out/k.pkg ] || fail "output written"
}

t convert_never_overwrites_input convert_never_overwrites_input
t sign_in_place_only_by_one_name sign_in_place_only_by_one_name
t staple_keeps_links_and_ticket staple_keeps_links_and_ticket
t batch_never_overwrites_input batch_never_overwrites_input
t stale_temps_removed stale_temps_removed
t batch_state_damage_is_said batch_state_damage_is_said
t batch_workers_die_with_parent batch_workers_die_with_parent
