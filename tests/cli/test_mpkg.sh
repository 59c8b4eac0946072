# Metapackages: the CPython-style Python.mpkg, nesting, component
# directories, Tiger distribution scripts, requirement checks, encodings.
. tests/cli/lib.sh

MK="python3 $ROOT/tests/cli/mkfixture.py"

# Component lines of `info`, in order: name, identifier, selection, flags.
summary() {
	"$PKGFLAT" info --json "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
def walk(b, depth):
    print("  " * depth + "%s %s %s %s sel=%s req=%s" % (b["kind"], b["name"],
          b["identifier"], b["version"], b["selection"], b["flags"]["required"]))
    for c in b.get("packages", []):
        walk(c, depth + 1)
walk(d["root"], 0)
print("components", d["component-count"])
'
}

cpython_ustar() {
	"$ROOT/scripts/make-cpython-mpkg" --format ustar cp >/dev/null || fail "generator failed"
	run 0 "$PKGFLAT" info cp/Python.mpkg
	golden info/cpython-ustar.txt "$T/out"
	summary cp/Python.mpkg >"$T/sum"
	golden info/cpython-summary.txt "$T/sum"
	has "$T/out" "(ustar, gzip)"
	has "$T/out" "misspelled key IFPkgFlagUpdateInstalledLangauges"
	# Every component payload agrees with bsdtar.
	for p in cp/Python.mpkg/Contents/Packages/*.pkg; do
		"$PKGFLAT" ls --payload --json "$p" >"$T/ls.json" || fail "ls $p"
		bsdtar -tvf "$p/Contents/Archive.pax.gz" --numeric-owner >"$T/b.txt"
		python3 "$ROOT/tests/cli/cmp_bsdtar.py" "$T/ls.json" "$T/b.txt" || fail "$p"
	done
}

# The odc variant lists the same entries as the ustar one.
cpython_odc_same_entries() {
	"$ROOT/scripts/make-cpython-mpkg" --format ustar u >/dev/null &&
	"$ROOT/scripts/make-cpython-mpkg" --format odc o >/dev/null || fail "generator failed"
	run 0 "$PKGFLAT" info o/Python.mpkg
	has "$T/out" "(odc cpio, gzip)"
	"$PKGFLAT" ls --payload u/Python.mpkg | sed 's/ => .*//' | sort >"$T/u"
	"$PKGFLAT" ls --payload o/Python.mpkg | sed 's/ => .*//' | sort >"$T/o"
	# Hard links: which name of a pair carries the data differs between
	# the two writers; compare those paths without their sizes.
	prog='{ if ($0 ~ / \.\/Versions\/3\.13\/bin\/python3\.13t?(-intel64)?$/) $3 = "N"; print }'
	awk "$prog" "$T/u" | sort >"$T/u2"
	awk "$prog" "$T/o" | sort >"$T/o2"
	grep -q ' N - ./Versions/3.13/bin/python3.13-intel64$' "$T/u2" || fail "hard link pair not found"
	diff -u "$T/u2" "$T/o2" || fail "odc and ustar payloads differ"
	[ "$(wc -l <"$T/u")" -gt 60 ] || fail "too few entries"
}

cpython_binary_plists() {
	"$ROOT/scripts/make-cpython-mpkg" u >/dev/null &&
	"$ROOT/scripts/make-cpython-mpkg" --binary-plists b >/dev/null || fail "generator failed"
	file b/Python.mpkg/Contents/Info.plist | grep -q "binary property list" ||
		fail "generator did not write a binary plist"
	"$PKGFLAT" info u/Python.mpkg | sed 1d >"$T/u"
	"$PKGFLAT" info b/Python.mpkg | sed 1d | sed 's/ [0-9]*  Description.plist/ N  Description.plist/' >"$T/b"
	sed -i 's/ [0-9]*  Description.plist/ N  Description.plist/' "$T/u"
	diff -u "$T/u" "$T/b" || fail "binary and XML plists read differently"
}

cpython_in_archives() {
	"$ROOT/scripts/make-cpython-mpkg" d >/dev/null || fail "generator failed"
	(cd d && bsdtar -a -cf ../py.zip Python.mpkg && bsdtar -czf ../py.tgz Python.mpkg &&
	    bsdtar -cf ../py.tar Python.mpkg) || fail "packing failed"
	"$PKGFLAT" info d/Python.mpkg | sed 1,2d >"$T/dir"
	for a in py.zip py.tgz py.tar; do
		run 0 "$PKGFLAT" info "$a"
		has "$T/out" "container                  archive"
		sed 1,2d "$T/out" >"$T/arc"
		diff -u "$T/dir" "$T/arc" || fail "$a reads differently"
	done
}

nested() {
	$MK nested n
	summary n/Suite.mpkg >"$T/sum"
	golden info/nested-summary.txt "$T/sum"
	has "$T/sum" "components 4"
}

siblings() {
	$MK siblings s
	run 0 "$PKGFLAT" info s/Suite.mpkg
	has "$T/out" "component-directory        .."
	has "$T/out" "component A.pkg"
	has "$T/out" "component B.pkg"
}

tiger_dist() {
	$MK dist d
	summary d/Tiger.mpkg >"$T/sum"
	golden info/tiger-summary.txt "$T/sum"
	run 0 "$PKGFLAT" info d/Tiger.mpkg
	has "$T/out" "title                      Tiger Suite"
	has "$T/out" "distribution-script        Tiger.mpkg/Contents/distribution.dist"
}

checks_and_encodings() {
	$MK checks c
	run 0 "$PKGFLAT" info --json c/Checks.pkg
	python3 - "$T/out" <<'PY' || exit 1
import json, sys
r = json.load(open(sys.argv[1]))["root"]
assert r["title"] == "Checks \u2713", r["title"]           # UTF-16 XML plist
assert r["description"] == "UTF-16 on disk"
assert r["localizations"] == ["de", "en"], r["localizations"]
q = r["requirements"]
assert [x["spec-type"] for x in q] == ["sysctl", "file"], q
assert q[0]["level"] == "requires" and q[0]["test-object"] == "Power Macintosh"
assert q[1]["spec-property"] == "NSFileType"
assert "InstallationCheck" in r["scripts"], r["scripts"]
res = {x["path"]: x for x in r["resources"]}
assert res["License.rtfd"]["mime"] == "text/rtfd" and res["License.rtfd"]["role"] == "license"
assert "License.rtfd/TXT.rtf" not in res                  # one document
assert res["en.lproj/InstallationCheck.strings"]["role"] == "strings"
assert res["de.lproj/Description.plist"]["lang"] == "de"
assert res["en.lproj/background"]["mime"] == "image/tiff"
assert res["en.lproj/ReadMe"]["mime"] == "text/rtf"
m = r["check-messages"]
assert m == [{"table": "InstallationCheck", "lang": "en", "key": "16",
              "value": "This package needs a PowerPC Mac."}], m
PY
	# A broken message table is reported, and the rest still reads.
	printf '"16" = "no end;\n' >c/Checks.pkg/Contents/Resources/en.lproj/InstallationCheck.strings
	run 0 "$PKGFLAT" info c/Checks.pkg
	has "$T/out" "Checks.pkg/Contents/Resources/en.lproj/InstallationCheck.strings: line 1: malformed strings file: unterminated string; ignored"
}

t cpython_ustar cpython_ustar
t cpython_odc_same_entries cpython_odc_same_entries
t cpython_binary_plists cpython_binary_plists
t cpython_in_archives cpython_in_archives
t nested nested
t siblings siblings
t tiger_dist tiger_dist
t checks_and_encodings checks_and_encodings
