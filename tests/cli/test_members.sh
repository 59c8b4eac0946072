# Member metadata: every member of a converted (or signed) package carries
# mode, owner and times in the TOC as productbuild writes them, so that
# xar -x, bsdtar -x and pkgutil --expand give 0644 files and 0755
# directories owned by root, dated SOURCE_DATE_EPOCH.
. tests/cli/lib.sh

EXIF="$TD/legacy/ExifTool-9.47.pkg"
XARCHECK="$ROOT/${BUILD:-build}/xarcheck"
export SOURCE_DATE_EPOCH=1700000000

. tests/cli/signing.sh

# toc_members PKG: one line per <file> of the TOC, read with Python's zlib
# and ElementTree: "NAME TYPE MODE UID GID USER GROUP MTIME".
toc_members() {
	python3 - "$1" <<'EOF'
import struct, sys, zlib
import xml.etree.ElementTree as ET
data = open(sys.argv[1], "rb").read()
assert data[:4] == b"xar!"
hsize, _, clen, ulen, _ = struct.unpack(">HHQQI", data[4:28])
toc = ET.fromstring(zlib.decompress(data[hsize:hsize + clen]))
def walk(e, path):
    for f in e.findall("file"):
        name = path + f.findtext("name")
        print(" ".join([name] + [f.findtext(k) or "-" for k in
              ("type", "mode", "uid", "gid", "user", "group", "mtime")]))
        walk(f, name + "/")
walk(toc.find("toc"), "")
EOF
}

members() {
	run 0 "$PKGFLAT" convert -q "$EXIF" -o e.pkg
	toc_members e.pkg >m || fail "cannot read the TOC"
	[ -s m ] || fail "no members"
	# Every member: root:wheel, 0644 files and 0755 directories, dated
	# SOURCE_DATE_EPOCH (2023-11-14T22:13:20Z).
	awk '$2 == "file" && $3 != "0644" { print; bad = 1 }
	     $2 == "directory" && $3 != "0755" { print; bad = 1 }
	     $4 != "0" || $5 != "0" || $6 != "root" || $7 != "wheel" { print; bad = 1 }
	     $8 != "2023-11-14T22:13:20Z" { print; bad = 1 }
	     END { exit bad }' m || fail "members without productbuild's metadata"
	grep -q '^Distribution file ' m || fail "no Distribution"
	grep -q '/Payload file ' m || fail "no Payload"
	grep -q ' directory ' m || fail "no directory"
	# bsdtar as the installer would run it (as root): modes and owners.
	mkdir x
	(cd x && bsdtar -xf ../e.pkg) || fail "bsdtar -x"
	bad=$(find x -mindepth 1 \( -type f ! -perm 0644 \) -o \( -type d ! -perm 0755 \))
	[ -z "$bad" ] || fail "wrong modes after bsdtar -x: $bad"
	if [ "$(id -u)" = 0 ]; then
		bad=$(find x -mindepth 1 \( ! -user 0 -o ! -group 0 \))
		[ -z "$bad" ] || fail "not owned by root after bsdtar -x as root: $bad"
	fi
	bad=$(find x -mindepth 1 ! -newermt @1699999999 -o -newermt @1700000001)
	[ -z "$bad" ] || fail "not dated SOURCE_DATE_EPOCH: $bad"
	# bsdtar's own listing agrees (numeric owners, modes).
	bsdtar -tvf e.pkg --numeric-owner >lst
	! grep -Ev '^(-rw-r--r--|drwxr-xr-x) +[0-9]+ 0 +0 ' lst || fail "bsdtar -tv disagrees"
	# Reproducible: the same bytes again; another epoch moves the dates.
	run 0 "$PKGFLAT" convert -q "$EXIF" -o f.pkg
	cmp e.pkg f.pkg || fail "not reproducible"
	SOURCE_DATE_EPOCH=1600000000 run 0 "$PKGFLAT" convert -q "$EXIF" -o g.pkg
	toc_members g.pkg | grep -q ' 2020-09-13T12:26:40Z$' || fail "mtime ignores SOURCE_DATE_EPOCH"
	whole e.pkg
}

signed_members() {
	pki
	run 0 "$PKGFLAT" convert -q "$EXIF" -o s.pkg --sign --key "$P/leaf.key" \
	    --cert "$P/leaf.pem" --chain "$P/chain.pem"
	check_signed s.pkg
	toc_members s.pkg | awk '$3 != "0644" && $3 != "0755" { exit 1 }' ||
		fail "signing lost the metadata"
	# Re-signing keeps it (and the signature is good).
	run 0 "$PKGFLAT" convert -q "$EXIF" -o u.pkg
	run 0 "$PKGFLAT" sign -q --key "$P/leaf.key" --cert "$P/leaf.pem" --chain "$P/chain.pem" \
	    u.pkg -o r.pkg
	check_signed r.pkg
	toc_members u.pkg >a && toc_members r.pkg >b
	cmp a b || fail "re-signing changed the members' metadata"
	CA="$P/root.pem" whole r.pkg
}

t members members
t signed_members signed_members
