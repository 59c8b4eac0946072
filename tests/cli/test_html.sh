# The HTML reports of batch and diff, rendered by a real browser: headless
# Chromium loads each file, the rendered DOM (--dump-dom, after the inline
# script ran) must hold the expected rows, a screenshot is kept under
# build/artifacts/html/, and xmllint --html must parse it without a word.
. tests/cli/lib.sh

ART="$ROOT/${BUILD:-build}/artifacts/html"
ZIPS="$TD/legacy/zips"

# chrome URL OUT: the DOM of URL once its scripts ran.
chrome() {
	timeout 120 chromium --headless --no-sandbox --disable-gpu \
	    --user-data-dir="$PWD/chrome-profile" --dump-dom "$1" >"$2" 2>chrome.err ||
		{ tail -5 chrome.err; fail "chromium could not load $1"; }
	[ -s "$2" ] || fail "chromium gave an empty DOM for $1"
}

shot() { # shot FILE NAME: a screenshot kept as an artifact
	mkdir -p "$ART"
	rm -f "$ART/$2"
	timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
	    --user-data-dir="$PWD/chrome-profile" --window-size=1280,900 \
	    --screenshot="$ART/$2" "file://$1" >/dev/null 2>chrome.err ||
		{ tail -5 chrome.err; fail "chromium could not take a screenshot of $1"; }
	# A PNG, and not a blank one: a white page compresses to almost nothing.
	head -c 8 "$ART/$2" | od -An -c | grep -q 'P   N   G' || fail "$ART/$2 is not a PNG"
	[ "$(stat -c %s "$ART/$2")" -gt 8000 ] || fail "$ART/$2 looks blank"
}

valid_html() {
	xmllint --html --noout "$1" >xmllint.out 2>&1 || { cat xmllint.out; fail "xmllint rejects $1"; }
	[ ! -s xmllint.out ] || { cat xmllint.out; fail "xmllint complains about $1"; }
	# Self-contained: nothing is fetched from anywhere.
	! grep -Eiq '(src|href)=|url\(|@import' "$1" || fail "$1 refers to outside resources"
}

# The order of the first cells of the table's rows, one per line.
first_cells() {
	python3 - "$1" <<'EOF'
import html.parser, sys

class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.body = self.row = self.cell = False
        self.n, self.text, self.out = 0, "", []
    def handle_starttag(self, tag, attrs):
        if tag == "tbody" and self.n == 0:
            self.body = True
        elif tag == "tr" and self.body:
            self.row, self.cells = True, 0
        elif tag == "td" and self.row:
            self.cells += 1
            if self.cells == 1:
                self.cell, self.text = True, ""
    def handle_endtag(self, tag):
        if tag == "td" and self.cell:
            self.cell = False
            self.out.append(self.text)
        elif tag == "tbody" and self.body:
            self.body, self.n = False, 1
    def handle_data(self, d):
        if self.cell:
            self.text += d

p = P()
p.feed(open(sys.argv[1]).read())
print("\n".join(p.out))
EOF
}

batch_report() {
	mkdir in
	cp "$ZIPS/Keychain_Minder_1_3.zip" "$ZIPS/Reset_User_and_System_Font_Caches.zip" in/
	cp -R "$TD/legacy/ExifTool-9.47.pkg" 'in/Tags<b>&"quoted".pkg'
	mkdir in/Broken.pkg
	run 1 "$PKGFLAT" batch -q --html report.html -o out in
	for h in report.html out/pkgflat-report.html; do
		valid_html "$h"
		has "$h" "<!DOCTYPE html>"
	done
	cmp report.html out/pkgflat-report.html || fail "the two HTML reports differ"
	chrome "file://$PWD/report.html" dom.html
	# Every input has its row, with its status; the hostile name is text.
	has dom.html '<tr class="converted"><td class="mono">in/Keychain_Minder_1_3.zip</td><td>converted</td>'
	has dom.html '<tr class="converted"><td class="mono">in/Reset_User_and_System_Font_Caches.zip</td>'
	has dom.html '<tr class="failed"><td class="mono">in/Broken.pkg</td><td>failed</td>'
	has dom.html 'in/Tags&lt;b&gt;&amp;"quoted".pkg'
	hasnt dom.html '<b>&amp;'
	[ "$(grep -c '<tr class="converted">' dom.html)" = 3 ] || fail "want 3 converted rows"
	has dom.html '<span id="inputs">4 inputs</span>'
	has dom.html '<span id="failed">1 failed</span>'
	# The error of the failed input, its sizes in bytes for sorting.
	has dom.html 'in/Broken.pkg: not a bundle package: no Contents directory'
	in_bytes=$(stat -c %s "$ZIPS/Keychain_Minder_1_3.zip")
	has dom.html "data-v=\"$in_bytes\""
	# The mapping decisions of a conversion are listed.
	has dom.html 'IFPkgFlagDefaultLocation'
	# Sorting runs in the browser: by input size (column 2), descending,
	# through the fragment; the script marks the table sorted.
	chrome "file://$PWD/report.html#sort=2-desc" sorted.html
	has sorted.html 'data-sorted="2-desc"'
	python3 - dom.html sorted.html "$PWD/in" <<'EOF' || fail "rows not sorted by input size"
import os, re, sys
rows = re.findall(r'<tr class="\w+"><td class="mono">([^<]*)</td>',
                  open(sys.argv[2]).read())
names = [r.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") for r in rows]
def size(n):
    p = os.path.join(os.path.dirname(sys.argv[3]), n)
    if os.path.isdir(p):
        return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(p) for f in fs)
    return os.path.getsize(p)
got = [size(n) for n in names]
assert len(got) == 4, names
assert got == sorted(got, reverse=True), list(zip(names, got))
EOF
	shot "$PWD/report.html" batch-report.png
}

diff_report() {
	run 1 "$PKGFLAT" diff --html d.html "$ZIPS/Keychain_Minder_1_3.zip" \
	    "$ZIPS/Keychain_Minder_1_5.zip"
	valid_html d.html
	# The same differences as the JSON form, every one, in a browser.
	run 1 "$PKGFLAT" diff --json "$ZIPS/Keychain_Minder_1_3.zip" "$ZIPS/Keychain_Minder_1_5.zip"
	cp "$T/out" d.json
	chrome "file://$PWD/d.html" dom.html
	python3 - d.json dom.html <<'EOF' || fail "the HTML does not show what --json does"
import html, json, re, sys
d = json.load(open(sys.argv[1]))
dom = open(sys.argv[2]).read()
rows = re.findall(r'<tr class="diff">(.*?)</tr>', dom)
assert len(rows) == len(d["list"]), (len(rows), len(d["list"]))
for want, row in zip(d["list"], rows):
    cells = [html.unescape(c) for c in re.findall(r'<td[^>]*>(.*?)</td>', row)]
    exp = [want[k] or "" for k in ("category", "change", "attribute", "path", "a", "b")]
    assert cells == exp, (cells, exp)
# Grouped by component: one heading per pair, in the same order.
heads = [html.unescape(h) for h in re.findall(r'<h2 class="component">(.*?)</h2>', dom)]
assert len(heads) == len(d["components"]), heads
for h, c in zip(heads, d["components"]):
    assert h.startswith(c["a"] or c["b"]), (h, c)
EOF
	has dom.html '<p id="verdict">different: '
	has dom.html '<th>A (legacy)</th><th>B (flat)</th>'
	# Equivalent packages: a report that says so.
	run 0 "$PKGFLAT" convert -q "$TD/legacy/ExifTool-9.47.pkg" -o e.pkg
	run 0 "$PKGFLAT" diff --html same.html "$TD/legacy/ExifTool-9.47.pkg" e.pkg
	valid_html same.html
	has same.html '<p id="verdict">equivalent: 0 differences'
	shot "$PWD/d.html" diff-report.png
	# The report is an output like any other: never over an input.
	run 2 "$PKGFLAT" diff --html e.pkg "$TD/legacy/ExifTool-9.47.pkg" e.pkg
	whole e.pkg
}

t batch_report batch_report
t diff_report diff_report
