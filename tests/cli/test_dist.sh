# Distribution-script metapackages (docs/formats/legacy-dist.md): a Tiger .dist
# and a hybrid Info.plist + .dist package carried into the flat
# Distribution, checked with xmllint and bsdtar; diff against twins whose
# Distribution lost one behaviour, re-packed by tests/cli/mkxar.py.
. tests/cli/lib.sh

MK="python3 $ROOT/tests/cli/mkdist.py"

# xp FILE XPATH: the string value of XPATH (xmllint, not pkgflat).
xp() {
	xmllint --xpath "$2" "$1" 2>/dev/null
}

# is FILE XPATH WANT
is() {
	got=$(xp "$1" "$2")
	[ "$got" = "$3" ] || fail "$2: \"$got\", want \"$3\""
}

extract() { # extract PKG DIR
	mkdir -p "$2" && bsdtar -xf "$1" -C "$2" || fail "bsdtar cannot extract $1"
}

# twin NAME PYTHON: the converted o.pkg with its Distribution edited by
# PYTHON (d is the text), re-packed independently as NAME.pkg.
twin() {
	rm -rf "tw.$1"
	extract o.pkg "tw.$1"
	python3 - "tw.$1/Distribution" "$2" <<'EOF' || fail "edit failed"
import sys
p, code = sys.argv[1:]
d = open(p).read()
was = d
exec(code)
assert d != was, "the edit changed nothing"
open(p, "w").write(d)
EOF
	python3 "$ROOT/tests/cli/mkxar.py" "tw.$1" "$1.pkg" || fail "mkxar"
}

tiger_carried() {
	$MK tiger .
	run 0 "$PKGFLAT" convert Driver.mpkg -o o.pkg --report r.json
	extract o.pkg x
	D=x/Distribution
	xmllint --noout "$D" || fail "Distribution is not well-formed"
	is "$D" 'name(/*)' installer-gui-script
	is "$D" 'string(/*/@minSpecVersion)' 1
	# The outline, nesting and order as the .dist had them.
	is "$D" 'count(//choices-outline/line)' 3
	is "$D" 'string(//choices-outline/line[2]/@choice)' drivers
	is "$D" 'string(//choices-outline/line[2]/line[1]/@choice)' driver_old
	is "$D" 'string(//choices-outline/line[2]/line[2]/@choice)' driver_new
	is "$D" 'string(//choices-outline/line[1]/@choice)' prepare
	is "$D" 'string(//choices-outline/line[3]/@choice)' finish
	is "$D" 'count(//choice)' 5
	# The JavaScript choice logic and every choice attribute.
	is "$D" 'string(//choice[@id="driver_old"]/@selected)' 'is_pre_106()'
	is "$D" 'string(//choice[@id="driver_old"]/@visible)' 'is_pre_106()'
	is "$D" 'string(//choice[@id="driver_old"]/@enabled)' false
	is "$D" 'string(//choice[@id="driver_new"]/@selected)' '!is_pre_106()'
	is "$D" 'string(//choice[@id="driver_new"]/@title)' DRIVER_NEW_TITLE
	is "$D" 'string(//choice[@id="driver_new"]/@description)' DRIVER_NEW_DESCRIPTION
	is "$D" 'string(//choice[@id="drivers"]/@start_enabled)' false
	for c in prepare finish; do
		is "$D" "string(//choice[@id=\"$c\"]/@start_visible)" false
		is "$D" "string(//choice[@id=\"$c\"]/@start_selected)" true
		is "$D" "string(//choice[@id=\"$c\"]/@start_enabled)" false
	done
	# The script and the checks that call it.
	xp "$D" 'string(//script)' >js
	has js "function is_pre_106()"
	has js "system.version.ProductVersion, '10.6') < 0"
	has js "system.localizedString('FAIL_TITLE')"
	is "$D" 'string(//installation-check/@script)' 'pm_install_check();'
	is "$D" 'string(//volume-check/@script)' 'pm_volume_check();'
	is "$D" 'string(//options/@rootVolumeOnly)' true
	is "$D" 'string(//options/@customize)' allow
	is "$D" 'string(//domains/@enable_anywhere)' false
	is "$D" 'string(//title)' DISTRIBUTION_TITLE
	# Resources with every attribute, and the files they name.
	is "$D" 'string(//background/@alignment)' bottomleft
	is "$D" 'string(//background/@scaling)' none
	is "$D" 'string(//background/@mime-type)' image/tiff
	is "$D" 'string(//welcome/@file)' Welcome.rtf
	is "$D" 'string(//license/@file)' License.txt
	R=Driver.mpkg/Contents/Resources
	for f in background.tif English.lproj/Localizable.strings \
	    English.lproj/Welcome.rtf English.lproj/License.txt \
	    French.lproj/Localizable.strings; do
		cmp "$R/$f" "x/Resources/$f" || fail "Resources/$f not carried byte for byte"
	done
	# pkg-refs: component ids, #URLs, sizes and restart from the
	# components as written.
	is "$D" 'string(//choice[@id="driver_old"]/pkg-ref/@id)' org.example.driver.old
	is "$D" 'count(//pkg-ref[contains(@id, ".pkg")])' 0
	for c in org.example.driver.prepare org.example.driver.old \
	    org.example.driver.new org.example.driver.finish; do
		ref="/*/pkg-ref[@id=\"$c\"]"
		url=$(xp "$D" "string($ref)")
		dir=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.unquote(sys.argv[1][1:]))' "$url")
		[ -f "x/$dir/PackageInfo" ] || fail "$c: $url names no component"
		is "x/$dir/PackageInfo" 'string(/pkg-info/@identifier)' "$c"
		is "$D" "string($ref/@version)" "$(xp "x/$dir/PackageInfo" 'string(/pkg-info/@version)')"
		kb=$(xp "x/$dir/PackageInfo" 'string(/pkg-info/payload/@installKBytes)')
		[ -z "$kb" ] || is "$D" "string($ref/@installKBytes)" "$kb"
		is "$D" "string($ref/@auth)" Root
	done
	is "$D" 'string(/*/pkg-ref[@id="org.example.driver.old"])' '#Driver%20Old.pkg'
	is "$D" 'string(/*/pkg-ref[@id="org.example.driver.finish"]/@onConclusion)' RequireRestart
	is "x/Finish.pkg/PackageInfo" 'string(/pkg-info/@postinstall-action)' restart
	# Both drivers install the same path, with different bytes.
	bsdtar -xOf "x/Driver Old.pkg/Payload" ./Library/Extensions/Example.kext/Contents/Info.plist >old
	bsdtar -xOf x/DriverNew.pkg/Payload ./Library/Extensions/Example.kext/Contents/Info.plist >new
	has old "10.4 and 10.5"
	has new "10.6 and later"
	# The hidden choices' scripts are in their components.
	bsdtar -tf x/Prepare.pkg/Scripts | grep -q preinstall || fail "no preinstall for preflight"
	bsdtar -tf x/Finish.pkg/Scripts | grep -q postinstall || fail "no postinstall for postflight"
	# What the flat format lacks: dropped, warned about, and gone.
	has "$T/err" "<editor-state> line 11 dropped"
	has "$T/err" 'the JavaScript names pkg-ref "org.example.driver.old.pkg", which is "org.example.driver.old" now' 
	is "$D" 'count(//editor-state)' 0
	check_report r.json "$D"
}

# Every claim the report makes about the Distribution and the product's
# Resources, checked on them.
check_report() { # check_report REPORT DISTRIBUTION
	python3 - "$1" >claims <<'EOF' || fail "report"
import json, sys
for m in json.load(open(sys.argv[1]))["mappings"]:
    # The product's claims, and what each component's say about the
    # Distribution; the Info.plist keys' own are test_convert.sh's.
    if m["component"] is None or "Distribution" in (m["note"] or ""):
        print("\x1f".join(str(m[k]) for k in ("dropped", "legacy", "value", "flat", "note")))
EOF
	n=0
	us=$(printf '\037')
	while IFS=$us read -r dropped legacy value flat note; do
		case "$dropped|$legacy" in
		"False|<script>")
			# JavaScript naming a renamed pkg-ref: kept, and still there.
			xp "$2" 'string(//script)' | grep -qF "'$value'" ||
				fail "script no longer names $value" ;;
		"False|<"*"> file")
			# A shown file that is not there: named, and not in Resources.
			[ -z "$(find "$(dirname "$2")/Resources" -name "$value")" ] ||
				fail "$value reported missing, but it is in Resources" ;;
		"True|<"*">")
			el=${legacy#<}; el=${el%>}
			is "$2" "count(//$el)" 0 ;;
		"False|pkg-ref id")
			is "$2" "count(//pkg-ref[@id=\"$value\"])" 0
			[ "$(xp "$2" "count(//pkg-ref[@id=\"$flat\"])")" -ge 2 ] ||
				fail "pkg-ref $flat is not in a choice and at the top" ;;
		"True|pkg-ref")
			is "$2" "count(//pkg-ref[@id=\"$value\"])" 0 ;;
		"False|pkg-ref installKBytes")
			is "$2" "count(/*/pkg-ref[@installKBytes=\"$flat\"])" \
			    "$(xp "$2" "count(/*/pkg-ref[@installKBytes=\"$flat\"])")"
			[ "$(xp "$2" "count(/*/pkg-ref[@installKBytes=\"$flat\"])")" -ge 1 ] ||
				fail "no pkg-ref with installKBytes $flat" ;;
		"False|<installer-script>")
			is "$2" 'name(/*)' installer-gui-script ;;
		"False|minSpecVersion")
			is "$2" 'string(/*/@minSpecVersion)' "$flat" ;;
		"False|distribution script")
			# Carried whole: the .dist's choices, attributes and all.
			[ "$flat" = Distribution ] || fail "distribution script -> $flat"
			for a in id title selected start_selected visible start_visible enabled start_enabled; do
				xp "$value" "//choice/@$a" >want.attrs
				xp "$2" "//choice/@$a" >got.attrs
				cmp -s want.attrs got.attrs || fail "choice @$a differ from the .dist's"
			done ;;
		"False|"*)
			# A Resources entry: in the archive as the report says.
			[ -e "$(dirname "$2")/$flat" ] || fail "report says $legacy -> $flat; not there" ;;
		"True|IF"*|"True|CF"*)
			# A metapackage Info.plist key with no flat place.
			! grep -q "$legacy" "$2" || fail "$legacy dropped, but in the Distribution" ;;
		"True|"*)
			# Superseded Info.plist claims: not written as they say.
			case "$note" in
			*"not written as Distribution choice"*|*"not written as Distribution options"*)
				grep -q "^False${us}distribution script${us}" claims ||
					fail "$legacy superseded, but no distribution script carried" ;;
			*) fail "unchecked report claim: $legacy $value ($note)" ;;
			esac ;;
		esac
		n=$((n + 1))
	done <claims
	[ "$n" -gt 5 ] || fail "only $n claims"
}

tiger_diff_twins() {
	$MK tiger .
	run 0 "$PKGFLAT" convert -q Driver.mpkg -o o.pkg
	run 0 "$PKGFLAT" diff Driver.mpkg o.pkg
	has "$T/out" "equivalent"
	run 0 "$PKGFLAT" convert -q --check Driver.mpkg -o checked.pkg
	# The choice logic stripped: both drivers would install.
	twin strip 'import re; d = re.sub(r" (selected|visible)=\"!?is_pre_106\(\)\"", "", d)'
	run 1 "$PKGFLAT" diff Driver.mpkg strip.pkg
	has "$T/out" 'removed choice "driver_old" selected: "is_pre_106()"'
	has "$T/out" 'removed choice "driver_new" selected: "!is_pre_106()"'
	has "$T/out" 'removed choice "driver_old" visible: "is_pre_106()"'
	# A hidden choice made visible.
	twin visible 'd = d.replace("id=\"prepare\" title=\"PREPARE_TITLE\" start_visible=\"false\"", "id=\"prepare\" title=\"PREPARE_TITLE\" start_visible=\"true\"")'
	run 1 "$PKGFLAT" diff Driver.mpkg visible.pkg
	has "$T/out" 'changed choice "prepare" start_visible: "false" -> "true"'
	# A title changed.
	twin title 'd = d.replace("title=\"DRIVER_NEW_TITLE\"", "title=\"Driver\"")'
	run 1 "$PKGFLAT" diff Driver.mpkg title.pkg
	has "$T/out" 'changed choice "driver_new" title: "DRIVER_NEW_TITLE" -> "Driver"'
	# The <script> removed: the checks and choices call nothing.
	twin noscript 'import re; d = re.sub(r"(?s)<script>.*?</script>", "", d)'
	run 1 "$PKGFLAT" diff Driver.mpkg noscript.pkg
	has "$T/out" 'removed script: "functions pm_install_check, pm_volume_check, old_receipt, is_pre_106;'
	# A check no longer called, and the outline reordered.
	twin nocheck 'd = d.replace("<installation-check script=\"pm_install_check();\"/>", "")'
	run 1 "$PKGFLAT" diff Driver.mpkg nocheck.pkg
	has "$T/out" 'removed installation-check script: "pm_install_check();"'
	twin order 'd = d.replace("<line choice=\"driver_old\"/>\n            <line choice=\"driver_new\"/>", "<line choice=\"driver_new\"/><line choice=\"driver_old\"/>")'
	run 1 "$PKGFLAT" diff Driver.mpkg order.pkg
	has "$T/out" 'changed choices-outline: "prepare, drivers (driver_old, driver_new), finish" -> "prepare, drivers (driver_new, driver_old), finish"'
	# The twins differ from the faithful conversion as well.
	run 1 "$PKGFLAT" diff o.pkg strip.pkg
	has "$T/out" 'removed choice "driver_old" selected'
	# The re-packed, unedited conversion is still equivalent: the twins
	# differ by their edit alone.
	rm -rf same && extract o.pkg same && python3 "$ROOT/tests/cli/mkxar.py" same same.pkg
	run 0 "$PKGFLAT" diff Driver.mpkg same.pkg
}

hybrid_carried() {
	$MK hybrid .
	# The .dist decides the selection, as on Mac OS X 10.4 and later.
	run 0 "$PKGFLAT" info --json Suite.mpkg
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sel = {c["name"]: c["selection"] for c in d["root"]["packages"]}
assert sel == {"Core.pkg": "required", "Extras.pkg": "selected"}, sel
' "$T/out" || fail "selections"
	run 0 "$PKGFLAT" convert Suite.mpkg -o o.pkg --report r.json
	has "$T/err" "Installer 10.4 and later (and convert) follow the distribution script"
	extract o.pkg x
	D=x/Distribution
	is "$D" 'name(/*)' installer-gui-script
	is "$D" 'string(//choices-outline/line[1]/@choice)' core
	is "$D" 'string(//choice[@id="extras"]/@start_selected)' 'has_app()'
	is "$D" 'string(//choice[@id="extras"]/@tooltip)' 'Optional parts'
	is "$D" 'string(//choice[@id="core"]/@start_enabled)' false
	is "$D" 'string(//options/@customize)' always
	xp "$D" 'string(//script)' | grep -q 'function has_app()' || fail "script lost"
	is "$D" 'string(/*/pkg-ref[@id="org.example.extras"])' '#Extras.pkg'
	check_report r.json "$D"
	run 0 "$PKGFLAT" diff Suite.mpkg o.pkg
	run 0 "$PKGFLAT" convert -q --check Suite.mpkg -o c.pkg
	twin strip 'd = d.replace(" start_selected=\"has_app()\"", "")'
	run 1 "$PKGFLAT" diff Suite.mpkg strip.pkg
	has "$T/out" 'removed choice "extras" start_selected: "has_app()"'
}

# A metapackage without a .dist: diff reads the choices convert makes of
# its Info.plist, so a conversion that changes them is different too.
plist_metapackage_twin() {
	python3 "$ROOT/tests/cli/mkfixture.py" nested .
	run 0 "$PKGFLAT" convert -q Suite.mpkg -o o.pkg
	run 0 "$PKGFLAT" diff Suite.mpkg o.pkg
	twin sel 'd = d.replace("start_selected=\"false\"", "start_selected=\"true\"", 1)'
	run 1 "$PKGFLAT" diff Suite.mpkg sel.pkg
	has "$T/out" 'start_selected: "false" -> "true"'
}

# A pkg-ref the hybrid's package list does not hold: dropped, named, gone.
hybrid_unknown_ref() {
	$MK hybrid .
	sed -i 's|</installer-script>|<readme file="ReadMe.html"/><pkg-ref id="org.example.gone" version="1.0">file:./Contents/Packages/Gone.pkg</pkg-ref></installer-script>|; s|<pkg-ref id="org.example.core"/></choice>|<pkg-ref id="org.example.core"/><pkg-ref id="org.example.gone"/></choice>|' \
	    Suite.mpkg/Contents/Suite.dist
	run 0 "$PKGFLAT" convert Suite.mpkg -o o.pkg --report r.json
	has "$T/err" 'pkg-ref org.example.gone dropped'
	has "$T/err" '<readme> file ReadMe.html kept as written: Suite.mpkg/Contents/Suite.dist: no such file'
	extract o.pkg x
	is x/Distribution 'string(//readme/@file)' ReadMe.html
	is x/Distribution 'count(//pkg-ref[@id="org.example.gone"])' 0
	is x/Distribution 'count(//choice[@id="core"]/pkg-ref)' 1
	check_report r.json x/Distribution
}

# A pkg-ref naming a nested metapackage: one pkg-ref per component in the
# choice, which selects them all.
tiger_nested() {
	$MK nested .
	run 0 "$PKGFLAT" info --json Top.mpkg
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
def leaves(b):
    if b["kind"] == "component":
        yield b
    for c in b.get("packages", []):
        yield from leaves(c)
sel = {c["name"]: c["selection"] for c in leaves(d["root"])}
assert sel == {"A.pkg": "selected", "B.pkg": "unselected", "C.pkg": "unselected"}, sel
' "$T/out" || fail "selections"
	run 0 "$PKGFLAT" convert -q --check Top.mpkg -o o.pkg
	extract o.pkg x
	D=x/Distribution
	is "$D" 'count(//choice[@id="inner"]/pkg-ref)' 2
	is "$D" 'string(//choice[@id="inner"]/pkg-ref[1]/@id)' org.example.b
	is "$D" 'string(//choice[@id="inner"]/pkg-ref[2]/@id)' org.example.c
	is "$D" 'string(/*/pkg-ref[@id="org.example.c"])' '#C.pkg'
	is "$D" 'string(/*/pkg-ref[@id="org.example.a"])' '#A.pkg'
	run 0 "$PKGFLAT" diff Top.mpkg o.pkg
	twin one 'd = d.replace("<pkg-ref id=\"org.example.c\"/>", "")'
	run 1 "$PKGFLAT" diff Top.mpkg one.pkg
	has "$T/out" 'changed choice "inner" packages: "org.example.b, org.example.c" -> "org.example.b"'
}

bad_dists() {
	for k in bad-entity bad-deep; do
		rm -rf "$k" && $MK "$k" "$k"
		before=$(tree_sum "$k")
		case $k in
		bad-entity) msg="entity declarations are not allowed" ;;
		bad-deep) msg="elements nested more than 64 deep" ;;
		esac
		bad_input "$msg" "$PKGFLAT" convert "$k/Suite.mpkg" -o "$k.pkg"
		has "$T/err" "Suite.mpkg/Contents/Suite.dist"
		[ ! -e "$k.pkg" ] || fail "$k: output written"
		[ "$(tree_sum "$k")" = "$before" ] || fail "$k: input changed"
		bad_input "$msg" "$PKGFLAT" info "$k/Suite.mpkg"
	done
	$MK hybrid h
	printf '<installer-script><choice id="a"' >h/Suite.mpkg/Contents/Suite.dist
	bad_input "malformed distribution script" "$PKGFLAT" convert h/Suite.mpkg -o h.pkg
	[ ! -e h.pkg ] || fail "output written"
	printf '<plist/>' >h/Suite.mpkg/Contents/Suite.dist
	bad_input "not <installer-script>" "$PKGFLAT" diff h/Suite.mpkg h/Suite.mpkg
}

t tiger_carried tiger_carried
t tiger_diff_twins tiger_diff_twins
t hybrid_carried hybrid_carried
t hybrid_unknown_ref hybrid_unknown_ref
t tiger_nested tiger_nested
t plist_metapackage_twin plist_metapackage_twin
t bad_dists bad_dists
