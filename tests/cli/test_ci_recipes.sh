# The CI recipes users copy (docs/ci/*.yml) keep working: each file is
# parsed as YAML and every shell step it holds runs, as the CI service would
# run it, against the bundled sample and the test identity.
. tests/cli/lib.sh

RUNNER="python3 $ROOT/tests/cli/run_recipe.py"

# A workspace laid out as the recipes expect a repository to be.
workspace() {
	mkdir -p dist releases/x/9.46 releases/x/9.47 tmp
	cp -a "$TD/legacy/ExifTool-9.47.pkg" dist/MyApp.pkg
	cp -a "$TD/legacy/ExifTool-9.47.pkg" releases/x/9.46/ExifTool.pkg
	cp -a "$TD/legacy/ExifTool-9.47.pkg" releases/x/9.47/ExifTool.pkg
	(cd releases/x && bsdtar -a -cf ../old-releases.zip 9.46 9.47) && rm -r releases/x
	"$ROOT/scripts/make-test-pki" "$T/pki" >/dev/null 2>&1 || [ -f "$T/pki/leaf.p12" ] ||
		fail "make-test-pki failed"
	PATH="$(dirname "$PKGFLAT"):$PATH"
	export PATH
}

# What all three jobs leave behind.
outputs_right() {
	[ -f out/MyApp.pkg ] || fail "no out/MyApp.pkg"
	[ ! -e out/unsigned.pkg ] || fail "the unsigned package was left"
	run 0 "$PKGFLAT" verify --ca-only "$T/pki/root.pem" out/MyApp.pkg
	has "$T/out" "Developer ID Installer: pkgflat Test"
	run 0 "$PKGFLAT" diff dist/MyApp.pkg out/MyApp.pkg
	python3 - <<'PY' || fail "reports"
import json, xml.etree.ElementTree as ET
j = ET.parse("flat/junit.xml").getroot()
cases = j.findall(".//testcase")
assert len(cases) == 2 and not j.findall(".//failure"), ET.tostring(j)
d = json.load(open("diff.json"))
assert d, d
json.load(open("out/report.json"))
PY
	[ -f flat/old-releases/9.46/ExifTool.pkg ] && [ -f flat/old-releases/9.47/ExifTool.pkg ] ||
		fail "batch outputs: $(find flat -name '*.pkg')"
}

# The gate fails on a flat package that installs something else.
gate_fails() { # KIND ARGS...
	kind=$1; shift
	cp "$TD/flat/Disable Gatekeeper.pkg" out/MyApp.pkg
	run 1 $RUNNER "$kind" "$@" --job equivalence
	has "$T/out" "does not install what dist/MyApp.pkg does"
	has "$T/out" "FAILED (exit 1): equivalence"
}

github_actions() {
	workspace
	RUNNER_TEMP=$(pwd)/tmp
	export RUNNER_TEMP
	f="$ROOT/docs/ci/github-actions.yml"
	run 0 $RUNNER github "$f" \
	    --ctx secrets.INSTALLER_P12_BASE64="$(base64 -w0 "$T/pki/leaf.p12")" \
	    --ctx secrets.INSTALLER_P12_PASSWORD=test-pass \
	    --ctx vars.VERIFY_CA="$(cat "$T/pki/root.pem")"
	for s in "convert-and-sign: Sign" "old-releases: Convert every old release" \
	    "equivalence: The flat package installs what the legacy one did"; do
		has "$T/out" "==> $s"
	done
	outputs_right
	[ ! -e tmp/installer.p12 ] || fail "the .p12 was left in RUNNER_TEMP"
	# Without the passphrase the signing step fails.
	run 1 $RUNNER github "$f" --job convert-and-sign \
	    --ctx secrets.INSTALLER_P12_BASE64="$(base64 -w0 "$T/pki/leaf.p12")"
	has "$T/out" "FAILED (exit 3): convert-and-sign: Sign"
	gate_fails github "$f"
}

gitlab_ci() {
	workspace
	f="$ROOT/docs/ci/gitlab-ci.yml"
	INSTALLER_P12="$T/pki/leaf.p12" INSTALLER_P12_PASSWORD=test-pass VERIFY_CA="$T/pki/root.pem" \
	    run 0 $RUNNER gitlab "$f"
	for j in convert-and-sign old-releases equivalence; do
		has "$T/out" "==> $j: script"
	done
	outputs_right
	INSTALLER_P12="$T/pki/leaf.p12" run 1 $RUNNER gitlab "$f" --job convert-and-sign
	gate_fails gitlab "$f"
}

t github_actions github_actions
t gitlab_ci gitlab_ci
