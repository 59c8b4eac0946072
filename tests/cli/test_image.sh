# Disk images: bundles on HFS+/HFSX volumes in UDIF (.dmg), raw and .dmg.gz
# images, behind no map, an APM or a GPT. Images come from
# tests/cli/mkimage.py (standard library, written from TN1150) and, as a
# second writer we did not write, from xorriso -hfsplus; 7-Zip checks ours.
# A bundle converted from an image must be byte-identical to the same
# bundle converted from a directory.
. tests/cli/lib.sh

export SOURCE_DATE_EPOCH=1700000000
MKI="python3 $ROOT/tests/cli/mkimage.py"
MKL="python3 $ROOT/tests/cli/mklegacy.py"
MKF="python3 $ROOT/tests/cli/mkfixture.py"
# Images expand into TMPDIR: each test checks that nothing is left there.
fresh_tmp() {
	mkdir -p tmp && TMPDIR=$(pwd)/tmp && export TMPDIR
}
tmp_empty() {
	[ -z "$(ls -A tmp)" ] || fail "temporary files left: $(ls -A tmp)"
}

# convert_same IMAGE SELECT DIRBUNDLE: converting SELECT on IMAGE gives the
# bytes that converting DIRBUNDLE gives.
convert_same() {
	run 0 "$PKGFLAT" convert "$1" --select "$2" -o from-image.pkg
	run 0 "$PKGFLAT" convert "$3" -o from-dir.pkg
	cmp from-image.pkg from-dir.pkg || fail "$1: $2 converts differently"
	rm -f from-image.pkg from-dir.pkg
}

codecs() {
	fresh_tmp
	$MKL cheetah src || fail mklegacy
	for c in zlib bzip2 adc lzma raw; do
		$MKI --codec "$c" --map apm src "$c.dmg" || fail "mkimage $c"
		7zz t "$c.dmg" >7z.out 2>&1 || fail "7zz t $c.dmg: $(tail -5 7z.out)"
		convert_same "$c.dmg" Driver.pkg src/Driver.pkg
		run 0 "$PKGFLAT" info "$c.dmg"
		has "$T/out" "$c"
		has "$T/out" "Apple Partition Map"
		run 0 "$PKGFLAT" verify "$c.dmg"
	done
	tmp_empty
}

maps() {
	fresh_tmp
	$MKL owners src || fail mklegacy
	for m in none apm gpt; do
		for f in udif raw gz; do
			ext=dmg; [ $f = gz ] && ext=dmg.gz
			$MKI --map $m --format $f src "$m-$f.$ext" || fail mkimage
			convert_same "$m-$f.$ext" Owned.pkg src/Owned.pkg
			# the only bundle on the image needs no --select
			run 0 "$PKGFLAT" convert "$m-$f.$ext" -o only.pkg
			run 0 "$PKGFLAT" convert src/Owned.pkg -o dir.pkg
			cmp only.pkg dir.pkg || fail "$m-$f: differs"
		done
	done
	tmp_empty
}

# A metapackage of four Apple-made components and a second bundle, on an
# HFSX volume with names that differ only by case, NFD names, symbolic and
# hard links, a compressed file and a fragmented one.
volume_features() {
	fresh_tmp
	$MKF nested src || fail mkfixture
	$MKL cheetah src || fail mklegacy
	mkdir -p src/extras/sub
	printf 'upper' >src/extras/README
	printf 'lower' >src/extras/readme
	printf 'nfd' >"src/extras/$(printf 'cafe\314\201').txt"
	ln -s ../Suite.mpkg src/extras/link-to-suite
	printf 'linked twice' >src/extras/sub/one
	ln src/extras/sub/one src/extras/two
	python3 -c "open('src/extras/big.bin','wb').write(bytes(range(256))*200)"
	python3 -c "open('src/extras/squeezed.txt','wb').write(b'compress me '*30000)"
	for v in hfsplus hfsx; do
		opt=""; [ $v = hfsx ] && opt=--hfsx
		$MKI $opt --decmpfs extras/squeezed.txt --decmpfs-rsrc \
		    --fragment extras/big.bin --xattr extras/big.bin \
		    --rsrc extras/README --dir-link extras/dirlink=extras/sub \
		    src $v.dmg || fail mkimage
		run 0 "$PKGFLAT" info $v.dmg
		has "$T/out" "bundle   Suite.mpkg"
		has "$T/out" "bundle   Driver.pkg"
		has "$T/out" "extended attributes        1"
		has "$T/out" "resource forks             1"
		convert_same $v.dmg Suite.mpkg src/Suite.mpkg
		convert_same $v.dmg Driver.pkg src/Driver.pkg
		run 0 "$PKGFLAT" ls $v.dmg
		cp "$T/out" ls.out
		# every file's size, and every link, as the tree on disk has them
		(cd src && find . -type f -printf '%s %P\n' &&
		    find . -type l -printf '%s %P -> %l\n') | sort >want
		sed 's/^[0-7]* //' ls.out | grep -v '^0 ' |
		    grep -v '^[0-9]* extras/dirlink/' | sort >got
		diff want got || fail "$v: ls differs from the tree"
		has ls.out "120755 13 extras/link-to-suite -> ../Suite.mpkg"
		has ls.out "40755 0 extras/dirlink"
		has ls.out "100644 12 extras/dirlink/one"
	done
	[ "$(grep -c 'extras/readme\|extras/README' ls.out)" = 2 ] ||
	    fail "case-only names lost on HFSX"
	tmp_empty
}

xorriso_volume() {
	$MKF siblings src || fail mkfixture
	xorriso -outdev x.iso -hfsplus on -map src / >xo.log 2>&1 ||
	    fail "xorriso: $(tail -3 xo.log)"
	run 0 "$PKGFLAT" info x.iso
	has "$T/out" "bundle   Suite.mpkg"
	has "$T/out" "HFS+"
	convert_same x.iso Suite.mpkg src/Suite.mpkg
	convert_same x.iso A.pkg src/A.pkg
}

seven_zip_listing() {
	$MKL owners src || fail mklegacy
	$MKI --map gpt src g.dmg || fail mkimage
	7zz l -sns- -slt g.dmg >7z.out 2>&1 || fail "7zz l: $(tail -3 7z.out)"
	run 0 "$PKGFLAT" ls g.dmg
	# 7-Zip names files Volume/path
	grep '^Path = Image/' 7z.out | sed 's|^Path = Image/||' | sort >seven
	sed 's/^[0-7]* [0-9]* //' "$T/out" | sort >ours
	diff seven ours || fail "7-Zip lists other names"
}

nested_and_several() {
	fresh_tmp
	$MKL cheetah inner || fail mklegacy
	$MKI inner inner.dmg || fail mkimage
	$MKF siblings outer || fail mkfixture
	$MKL owners outer || fail mklegacy
	cp inner.dmg outer/Inner.dmg
	$MKI --map apm outer outer.dmg || fail mkimage
	run 0 "$PKGFLAT" info outer.dmg
	has "$T/out" "bundle   Inner.dmg//Driver.pkg"
	has "$T/out" "bundle   Owned.pkg"
	has "$T/out" "bundle   Suite.mpkg"
	run 2 "$PKGFLAT" convert outer.dmg -o one.pkg
	has "$T/err" "select"
	convert_same outer.dmg Inner.dmg//Driver.pkg inner/Driver.pkg
	convert_same outer.dmg Owned.pkg outer/Owned.pkg
	mkdir out
	run 0 "$PKGFLAT" convert outer.dmg -o out
	[ -f out/Driver.pkg ] && [ -f out/Owned.pkg ] && [ -f out/Suite.mpkg.pkg -o -f out/Suite.pkg ] ||
	    fail "convert to a directory: $(ls out)"
	tmp_empty
}

refusals() {
	fresh_tmp
	for k in encrypted:encrypted encrypted-v1:encrypted sparse:sparse \
	    ndif:NDIF dc42:"Disk Copy 4.2" apfs:APFS classic-hfs:"classic HFS"; do
		kind=${k%%:*} word=${k#*:}
		$MKI --refused "$kind" . "r-$kind.dmg" || fail mkimage
		run 3 "$PKGFLAT" info "r-$kind.dmg"
		has "$T/err" "r-$kind.dmg"
		has "$T/err" "$word"
		has "$T/err" "not supported"
	done
	mkdir -p src/A.pkg/Contents && printf x >src/A.pkg/Contents/PkgInfo
	$MKI --damage lzfse-run src lz.dmg || fail mkimage
	run 3 "$PKGFLAT" info lz.dmg
	has "$T/err" "LZFSE"
	$MKI --damage segmented src seg.dmg || fail mkimage
	run 3 "$PKGFLAT" info seg.dmg
	has "$T/err" "segmented"
	mkdir Foo.sparsebundle
	run 3 "$PKGFLAT" info Foo.sparsebundle
	has "$T/err" "sparse bundle"
	$MKI --journaled-dirty src j.dmg || fail mkimage
	run 3 "$PKGFLAT" info j.dmg
	has "$T/err" "journaled volume was not cleanly unmounted"
	run 0 "$PKGFLAT" info --force j.dmg
	tmp_empty
}

malformed() {
	fresh_tmp
	$MKL cheetah src || fail mklegacy
	S="--block-size 512 --node-size 512 --min-blocks 16"
	for k in "short-run:run short" "long-run:decodes to more than" \
	    "overlap:(overlap)" "gap:(gap)" "run-past-end:outside the data fork" \
	    "run-count:run table claims" "xml-past-end:runs past the end" \
	    "truncated-trailer:truncated" "fork-extents:larger than its extents" \
	    "node-range:node number out of range" "leaf-cycle:cycle in the leaf chain" \
	    "record-count:absurd record count" "node-count:B-tree claims"; do
		d=${k%%:*} expect=${k#*:}
		$MKI $S --damage "$d" src "bad-$d.dmg" || fail "mkimage $d"
		for cmd in info ls; do
			run 3 "$PKGFLAT" $cmd "bad-$d.dmg"
			has "$T/err" "bad-$d.dmg"
			has "$T/err" "$expect"
			[ ! -s "$T/out" ] || fail "$cmd $d printed output"
		done
		run 3 "$PKGFLAT" convert "bad-$d.dmg" -o o.pkg
		[ ! -e o.pkg ] || fail "$d: partial output"
	done
	tmp_empty
}

checksums() {
	$MKL cheetah src || fail mklegacy
	for d in partition-crc data-crc master-crc; do
		$MKI --damage $d src $d.dmg || fail mkimage
		run 1 "$PKGFLAT" verify $d.dmg
		has "$T/err" "$d.dmg"
		has "$T/err" "checksum"
		run 3 "$PKGFLAT" convert --check $d.dmg -o c.pkg
		has "$T/err" "checksum"
		[ ! -e c.pkg ] || fail "--check wrote output for $d"
	done
	$MKI src good.dmg || fail mkimage
	run 0 "$PKGFLAT" verify good.dmg
	run 0 "$PKGFLAT" convert --check good.dmg -o c.pkg
}

gz_limit() {
	fresh_tmp
	$MKL owners src || fail mklegacy
	$MKI --format gz --min-blocks 4096 src big.dmg.gz || fail mkimage
	run 3 "$PKGFLAT" info --max-image-size 1M big.dmg.gz
	has "$T/err" "limit"
	run 0 "$PKGFLAT" info --max-image-size 64M big.dmg.gz
	tmp_empty
}

# .dmg.gz read as gzip -t reads it: every member, each trailer checked,
# nothing but zeros after the last. gzip -t is the oracle for each case.
gz_members() {
	fresh_tmp
	$MKL owners src || fail mklegacy
	$MKI --format raw src plain.dmg || fail mkimage
	$MKI --format gz src good.dmg.gz || fail mkimage
	run 0 "$PKGFLAT" convert good.dmg.gz -o want.pkg
	# two members: the image split in the middle, each half gzip'd
	n=$(stat -c %s plain.dmg); h=$((n / 2))
	head -c $h plain.dmg | gzip -6n >two.dmg.gz
	tail -c +$((h + 1)) plain.dmg | gzip -1n >>two.dmg.gz
	gzip -t two.dmg.gz || fail "gzip -t two.dmg.gz"
	run 0 "$PKGFLAT" convert two.dmg.gz -o two.pkg
	cmp want.pkg two.pkg || fail "a two-member .dmg.gz converts differently"
	# zeros after the last member: gzip -t is silent, so are we
	cp good.dmg.gz zeros.dmg.gz && head -c 100 /dev/zero >>zeros.dmg.gz
	gzip -t zeros.dmg.gz 2>gz.err || fail "gzip -t zeros.dmg.gz"
	run 0 "$PKGFLAT" convert zeros.dmg.gz -o zeros.pkg
	# trailing garbage, a bad CRC-32, a bad length, a cut stream
	cp good.dmg.gz junk.dmg.gz && printf 'junk' >>junk.dmg.gz
	python3 -c "import sys; d=bytearray(open(sys.argv[1],'rb').read()); d[-8]^=1; open(sys.argv[2],'wb').write(d)" good.dmg.gz crc.dmg.gz
	python3 -c "import sys; d=bytearray(open(sys.argv[1],'rb').read()); d[-1]^=1; open(sys.argv[2],'wb').write(d)" good.dmg.gz len.dmg.gz
	python3 -c "import sys; d=bytearray(open(sys.argv[1],'rb').read()); d[-8]^=1; open(sys.argv[2],'wb').write(d)" two.dmg.gz crc2.dmg.gz
	head -c $(($(stat -c %s good.dmg.gz) - 3)) good.dmg.gz >cut.dmg.gz
	for f in junk crc len crc2 cut; do
		gzip -t $f.dmg.gz 2>/dev/null && fail "gzip -t accepts $f.dmg.gz"
		before=$(sha256sum $f.dmg.gz)
		bad_input "$f.dmg.gz" "$PKGFLAT" convert $f.dmg.gz -o $f.pkg
		has "$T/err" "gzip member"
		[ ! -e $f.pkg ] || fail "$f.pkg written"
		[ "$(sha256sum $f.dmg.gz)" = "$before" ] || fail "$f.dmg.gz changed"
		bad_input "$f.dmg.gz" "$PKGFLAT" verify $f.dmg.gz
	done
	has "$T/err" "gzip member 1"
	bad_input "gzip member 2" "$PKGFLAT" info crc2.dmg.gz
	tmp_empty
}

t image-gz-members gz_members

t image-codecs codecs
t image-maps maps
t image-volume-features volume_features
t image-xorriso xorriso_volume
t image-7zip-listing seven_zip_listing
t image-nested-and-several nested_and_several
t image-refusals refusals
t image-malformed malformed
t image-checksums checksums
t image-gz-limit gz_limit

# batch: one record per package on an image, nested ones included.
batch_images() {
	fresh_tmp
	mkdir in
	$MKL cheetah one || fail mklegacy
	$MKI one in/one.dmg || fail mkimage
	$MKF siblings sib || fail mkfixture
	$MKI --format gz --map gpt sib in/sib.dmg.gz || fail mkimage
	run 0 "$PKGFLAT" batch -q -o out in
	[ -f out/one.pkg ] && [ -f out/sib/A.pkg ] && [ -f out/sib/B.pkg ] &&
	    [ -f out/sib/Suite.pkg ] || fail "batch outputs: $(find out -name '*.pkg')"
	run 0 "$PKGFLAT" convert sib/A.pkg -o a.pkg
	cmp a.pkg out/sib/A.pkg || fail "batch from an image differs from the directory"
	has out/pkgflat-report.json "sib.dmg.gz"
	tmp_empty
}

# diff: an image on the legacy side, its checksums checked first.
diff_image() {
	$MKF siblings sib || fail mkfixture
	$MKI sib sib.dmg || fail mkimage
	run 0 "$PKGFLAT" convert sib/A.pkg -o a.pkg
	run 0 "$PKGFLAT" diff -q --select A.pkg sib.dmg a.pkg
	run 1 "$PKGFLAT" diff -q --select B.pkg sib.dmg a.pkg
	run 2 "$PKGFLAT" diff sib.dmg a.pkg
	has "$T/err" "select"
	$MKI --damage partition-crc sib bad.dmg || fail mkimage
	run 1 "$PKGFLAT" diff -q --select A.pkg bad.dmg a.pkg
	has "$T/err" "checksum"
}

t image-batch batch_images
t image-diff diff_image

# The report names what the bundle's files carry that a flat package drops.
report_extras() {
	$MKL cheetah src || fail mklegacy
	printf 'note' >src/Driver.pkg/Contents/Resources/Extra.txt
	$MKI --xattr Driver.pkg/Contents/Resources/Extra.txt \
	    --rsrc Driver.pkg/Contents/Resources/Driver.info src x.dmg || fail mkimage
	run 0 "$PKGFLAT" convert -q --report r.json x.dmg -o x.pkg
	python3 - r.json <<'PY' || fail "report: $(cat r.json)"
import json, sys
r = json.load(open(sys.argv[1]))["image"]
assert r["package"] == "Driver.pkg", r
got = {e["path"]: e["carries"] for e in r["not-carried-over"]}
assert got == {
    "Driver.pkg/Contents/Resources/Driver.info": ["resource forks"],
    "Driver.pkg/Contents/Resources/Extra.txt": ["extended attributes"],
}, got
PY
}

t image-report report_extras
