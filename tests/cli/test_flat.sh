# pkgflat info and ls on flat packages: the real ones in testdata/flat,
# directories expanded from them, and what our own convert writes.
# Oracles: bsdtar (members, payloads, scripts), xmllint (PackageInfo and
# Distribution), sha256sum.
. tests/cli/lib.sh

FL="$TD/flat"
EXIF="$TD/legacy/ExifTool-9.47.pkg"
IOM="$FL/Installomator-0.5.pkg"
JOY="$FL/Install Joyent Pkgsrc.pkg"

# info of every real flat package matches its golden file.
info_real() {
	for p in "$FL"/*.pkg; do
		n=$(basename "$p" .pkg | tr ' ' _)
		run 0 "$PKGFLAT" info "$p"
		sed "s|$TD/||" "$T/out" >"$T/info"
		golden "info/flat-$n.txt" "$T/info"
	done
}

# Identifier, version, install location and auth agree with xmllint's
# reading of the PackageInfo bsdtar extracts.
info_vs_xmllint() {
	for p in "$FL"/*.pkg; do
		rm -rf x && mkdir x && bsdtar -xf "$p" -C x || fail "bsdtar -x $p"
		pi=$(cd x && find . -name PackageInfo | head -1)
		"$PKGFLAT" info --json --no-scan "$p" >info.json || fail "info $p"
		for a in identifier version install-location auth; do
			want=$(xmllint --xpath "string(/pkg-info/@$a)" "x/$pi")
			got=$(python3 -c 'import json,sys
d = json.load(open(sys.argv[1])); r = d["root"]
c = r if r["kind"] == "flat-component" else r["packages"][0]
print(c[sys.argv[2]] or "")' info.json "$a")
			[ "$want" = "$got" ] || fail "$p: $a is \"$got\", xmllint says \"$want\""
		done
	done
	# The product's pkg-ref and product id, from the Distribution.
	rm -rf x && mkdir x && bsdtar -xf "$IOM" -C x
	want=$(xmllint --xpath 'string(//product/@id)' x/Distribution)
	"$PKGFLAT" info --json "$IOM" >info.json
	python3 - info.json "$want" <<'PY' || exit 1
import json, sys
d = json.load(open(sys.argv[1]))
r = d["root"]
assert d["container"] == "xar", d["container"]
assert r["kind"] == "product", r["kind"]
assert r["identifier"] == sys.argv[2], r["identifier"]
assert d["flat"]["signatures"] == "RSA and CMS", d["flat"]
c = r["packages"][0]
assert c["kind"] == "flat-component" and c["path"] == "Installomator.pkg"
assert c["payload-path"] == "Installomator.pkg/Payload"
assert c["claimed-kbytes"] == 54 and c["payload"]["entries"] == 3
assert c["selection"] == "selected" and c["restart"] == "none"
PY
}

# The payload listing agrees with bsdtar's listing of the Payload member.
payload_vs_bsdtar() {
	for p in "$IOM" "$JOY"; do
		rm -rf x && mkdir x && (cd x && bsdtar -xf "$p" '*Payload') ||
			fail "bsdtar cannot extract Payload from $p"
		pl=$(find x -name Payload)
		"$PKGFLAT" ls --payload --json "$p" >ls.json || fail "ls $p"
		bsdtar -tvf "$pl" --numeric-owner >bsdtar.txt || fail "bsdtar -t"
		python3 "$ROOT/tests/cli/cmp_bsdtar.py" ls.json bsdtar.txt || fail "$p"
	done
}

ls_bom() {
	run 0 "$PKGFLAT" ls "$JOY"
	golden ls/flat-Install_Joyent_Pkgsrc-bom.txt "$T/out"
	run 0 "$PKGFLAT" ls --bom "$IOM"
	golden ls/flat-Installomator-bom.txt "$T/out"
	# The two scripts-only packages install nothing and have no BOM.
	run 0 "$PKGFLAT" ls "$FL/Disable Gatekeeper.pkg"
	[ ! -s "$T/out" ] || fail "a package without payload listed entries"
	run 3 "$PKGFLAT" ls --bom "$FL/Disable Gatekeeper.pkg"
	has "$T/err" "no BOM (try --payload)"
}

# --sha256: the digest of each file, against sha256sum of what bsdtar
# extracts from the same payload.
payload_digests() {
	rm -rf x && mkdir x && (cd x && bsdtar -xf "$IOM" Installomator.pkg/Payload)
	mkdir root && bsdtar -xf x/Installomator.pkg/Payload -C root
	run 0 "$PKGFLAT" ls --payload --sha256 "$IOM"
	n=0
	for f in ./Installomator.sh ./._Installomator.sh; do
		want=$(sha256sum <"root/$f" | cut -d' ' -f1)
		grep -q " $want $f\$" "$T/out" || fail "no digest $want for $f: $(cat "$T/out")"
		n=$((n + 1))
	done
	has "$T/out" "40755 0/0 0 - - ."
	# JSON carries it too; and a legacy payload is digested the same way.
	"$PKGFLAT" ls --payload --sha256 --json "$EXIF" >ls.json || fail "ls legacy"
	mkdir lroot && bsdtar -xf "$EXIF/Contents/Archive.pax.gz" -C lroot ./usr/bin/exiftool
	want=$(sha256sum <lroot/usr/bin/exiftool | cut -d' ' -f1)
	python3 - ls.json "$want" <<'PY' || exit 1
import json, sys
e = {x["path"]: x for c in json.load(open(sys.argv[1])) for x in c["entries"]}
assert e["./usr/bin/exiftool"]["sha256"] == sys.argv[2], e["./usr/bin/exiftool"]
assert "sha256" not in e["./usr/bin"]
assert all("sha256" in x for x in e.values() if x["type"] == "file")
PY
	run 2 "$PKGFLAT" ls --sha256 "$IOM"
	run 2 "$PKGFLAT" ls --bom --scripts "$IOM"
}

# --scripts: every file of a flat Scripts archive with bsdtar's bytes; the
# one PackageInfo names is marked as the postinstall.
scripts_listing() {
	rm -rf x && mkdir x && (cd x && bsdtar -xf "$JOY" Scripts) && mkdir s &&
		bsdtar -xf x/Scripts -C s || fail "bsdtar cannot read Scripts"
	run 0 "$PKGFLAT" ls --scripts "$JOY"
	for f in ./postinstall ./._postinstall; do
		want=$(sha256sum <"s/$f" | cut -d' ' -f1)
		size=$(stat -c %s "s/$f")
		grep -q "^[0-7]* $size $want $f" "$T/out" || fail "$f: $(cat "$T/out")"
	done
	has "$T/out" "./postinstall (postinstall)"
	hasnt "$T/out" "./._postinstall ("
	# Legacy: the scripts a bundle runs, named as convert stores them.
	run 0 "$PKGFLAT" ls --scripts "$EXIF"
	want=$(sha256sum <"$EXIF/Contents/Resources/postflight" | cut -d' ' -f1)
	has "$T/out" "755 84 $want ./Contents/Resources/postflight (postflight)"
	# A product without scripts lists nothing.
	run 0 "$PKGFLAT" ls --scripts "$IOM"
	[ "$(grep -vc '^#' "$T/out")" -eq 0 ] || fail "scripts listed: $(cat "$T/out")"
}

# A directory expanded from a flat package (xar -x, pkgutil --expand)
# reads like the package itself.
expanded_dirs() {
	for p in "$FL"/*.pkg; do
		n=$(basename "$p" .pkg | tr ' ' _)
		rm -rf "$n" && mkdir "$n" && bsdtar -xf "$p" -C "$n" || fail "bsdtar -x"
		"$PKGFLAT" info "$p" >xar.txt || fail "info $p"
		"$PKGFLAT" info "$n" >dir.txt || fail "info $n"
		# Names and paths differ by the top directory; the rest agrees.
		sed -n '/^$/,$p' xar.txt | sed '1,2d' >a.txt
		sed -n '/^$/,$p' dir.txt | sed '1,2d' | sed "s|$n/||g" |
			sed "s|^  path  *$n\$|  path                       |" >b.txt
		diff -u a.txt b.txt || fail "$n: expanded directory reads differently"
		has dir.txt "container                  directory"
		"$PKGFLAT" ls --payload "$p" >a.txt
		"$PKGFLAT" ls --payload "$n" >b.txt
		cmp a.txt b.txt || fail "$n: payload listings differ"
	done
}

# What our own convert writes reads back with the legacy package's values.
converted() {
	SOURCE_DATE_EPOCH=1400000000 "$PKGFLAT" convert -q --ownership preserve "$EXIF" -o e.pkg ||
		fail "convert failed"
	run 0 "$PKGFLAT" info e.pkg
	golden info/flat-converted-exiftool.txt "$T/out"
	"$PKGFLAT" info --json "$EXIF" >legacy.json
	"$PKGFLAT" info --json e.pkg >flat.json
	python3 - legacy.json flat.json <<'PY' || exit 1
import json, sys
l = json.load(open(sys.argv[1]))["root"]
f = json.load(open(sys.argv[2]))["root"]["packages"][0]
for k in ("identifier", "version", "auth", "restart", "title"):
    assert l[k] == f[k], (k, l[k], f[k])
for k in ("relocatable", "overwrite-permissions", "follow-links"):
    assert l["flags"][k] == f["flags"][k], (k, l["flags"][k], f["flags"][k])
for k in ("entries", "files", "directories", "file-bytes"):
    assert l["payload"][k] == f["payload"][k], (k, l["payload"], f["payload"])
assert l["bom"]["paths"] == f["bom"]["paths"]
assert f["scripts"] == {"postinstall": "ExifTool-9.47.pkg/Scripts/postinstall"}, f["scripts"]
PY
	# Same files with the same bytes in both payloads.
	"$PKGFLAT" ls --payload --sha256 "$EXIF" | grep -v '^#' >l.txt
	"$PKGFLAT" ls --payload --sha256 e.pkg | grep -v '^#' >f.txt
	diff -u l.txt f.txt || fail "payload differs after conversion"
	# The legacy postflight is inside Scripts byte for byte.
	"$PKGFLAT" ls --scripts "$EXIF" | grep postflight | cut -d' ' -f3 >l.txt
	"$PKGFLAT" ls --scripts e.pkg | grep ' ./Contents/Resources/postflight$' |
		cut -d' ' -f3 >f.txt
	[ -s l.txt ] && cmp l.txt f.txt || fail "postflight differs in Scripts"
	# xmllint agrees with info on what the PackageInfo says.
	mkdir x && bsdtar -xf e.pkg -C x
	[ "$(xmllint --xpath 'string(/pkg-info/@identifier)' x/ExifTool-9.47.pkg/PackageInfo)" = \
	    com.philharvey.image-exiftool ] || fail "PackageInfo identifier"
}

# A XAR that bsdtar writes (zlib and bzip2 member encodings, no signature)
# reads too: the source inflates members as it streams them.
bsdtar_written() {
	mkdir x && bsdtar -xf "$JOY" -C x || fail "bsdtar -x"
	for c in gzip bzip2; do
		(cd x && bsdtar -cf "../$c.pkg" --format xar --options "xar:compression=$c" \
		    PackageInfo Payload Bom Scripts) || fail "bsdtar --format xar $c"
		run 0 "$PKGFLAT" info "$c.pkg"
		has "$T/out" "identifier                 com.github.install_joyent_pkgsrc"
		has "$T/out" "bom                        Bom (1 paths, 0 hard-link sets)"
		run 0 "$PKGFLAT" ls --scripts "$c.pkg"
		has "$T/out" "./postinstall (postinstall)"
	done
}

# pbzx payloads (xz chunks, one chunk stored raw) read like gzip'd ones.
pbzx_payload() {
	rm -rf d && mkdir d && bsdtar -xf "$IOM" -C d || fail "bsdtar -x"
	pl=d/Installomator.pkg/Payload
	cp "$pl" orig.gz
	python3 - "$pl" <<'PY' || exit 1
import gzip, lzma, struct, sys
p = sys.argv[1]
cpio = gzip.decompress(open(p, "rb").read())
out = bytearray(b"pbzx" + struct.pack(">Q", 16384))
for i in range(0, len(cpio), 16384):
    c = cpio[i:i + 16384]
    z = c if i == 16384 else lzma.compress(c, format=lzma.FORMAT_XZ)
    out += struct.pack(">QQ", len(c), len(z)) + z
open(p, "wb").write(out)
PY
	run 0 "$PKGFLAT" info d
	has "$T/out" "Installomator.pkg/Payload (odc cpio, pbzx)"
	has "$T/out" "entries                    3 (2 files"
	"$PKGFLAT" ls --payload --json d >ls.json || fail "ls"
	bsdtar -tvf orig.gz --numeric-owner >bsdtar.txt
	python3 "$ROOT/tests/cli/cmp_bsdtar.py" ls.json bsdtar.txt || fail "pbzx listing"
	mkdir root && bsdtar -xf orig.gz -C root
	sum=$(sha256sum <root/Installomator.sh | cut -d' ' -f1)
	run 0 "$PKGFLAT" ls --payload --sha256 "$pl"
	has "$T/out" "$sum ./Installomator.sh"
	# Cut short, or a chunk that is not xz: a clear error.
	head -c 3000 "$pl" >short
	bad_input "short: pbzx chunk 1: stream ends inside a chunk" "$PKGFLAT" ls short
	python3 -c 'import sys; d=bytearray(open(sys.argv[1],"rb").read()); d[40:44]=b"JUNK"; open("junk","wb").write(d)' "$pl"
	bad_input "junk: pbzx chunk 1: not xz data" "$PKGFLAT" ls junk
}

t info_real info_real
t info_vs_xmllint info_vs_xmllint
t payload_vs_bsdtar payload_vs_bsdtar
t ls_bom ls_bom
t payload_digests payload_digests
t scripts_listing scripts_listing
t expanded_dirs expanded_dirs
t converted converted
t bsdtar_written bsdtar_written
t pbzx_payload pbzx_payload
