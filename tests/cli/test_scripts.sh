# Legacy scripts in a converted package: the generated wrappers run the
# originals in legacy order, with the legacy arguments, and stop at the
# first failure. Run here with a stand-in for pkgutil.
. tests/cli/lib.sh

MK="python3 $ROOT/tests/cli/mkfixture.py"

# Convert the fixture and unpack its Scripts into ./s.
setup() {
	$MK scripts f
	run 0 "$PKGFLAT" convert f/Scripts.pkg -o out.pkg
	mkdir x s && bsdtar -xf out.pkg -C x && bsdtar -xf x/Scripts.pkg/Scripts -C s ||
		fail "cannot unpack"
	printf '#!/bin/sh\nexit %s\n' "${RECEIPT:-1}" >pkgutil && chmod +x pkgutil
	export PKGUTIL="$PWD/pkgutil" INSTALLER_TEMP="$PWD" PKGFLAT_TEST_LOG="$PWD/log"
}

fresh_install_order() {
	setup
	s/preinstall /tmp/out.pkg /Applications /Volumes/Mac / || fail "preinstall failed"
	s/postinstall /tmp/out.pkg /Applications /Volumes/Mac / || fail "postinstall failed"
	here=$(cd s && pwd)
	cat >want <<EOT
InstallationCheck InstallationCheck [$here] [/Applications] [/Volumes/Mac] [/]
VolumeCheck VolumeCheck [/Volumes/Mac] [/Applications] [/Volumes/Mac] [/]
preflight preflight [$here] [/Applications] [/Volumes/Mac] [/]
helper ran
preinstall preinstall [$here] [/Applications] [/Volumes/Mac] [/]
postinstall postinstall [$here] [/Applications] [/Volumes/Mac] [/]
postflight postflight [$here] [/Applications] [/Volumes/Mac] [/]
EOT
	diff -u want log || fail "wrong order or arguments"
	[ ! -e pkgflat.org.example.scripts.upgrade ] || fail "state file left behind"
}

upgrade_order() {
	RECEIPT=0 setup
	s/preinstall /tmp/out.pkg / / / && s/postinstall /tmp/out.pkg / / / || fail "failed"
	cut -d' ' -f1 log | tr '\n' ' ' >got
	[ "$(cat got)" = "InstallationCheck VolumeCheck preflight helper preupgrade postupgrade postflight " ] ||
		fail "upgrade order: $(cat got)"
}

stops_at_first_failure() {
	setup
	FAIL_PREFLIGHT=1 s/preinstall /tmp/out.pkg / / / 2>err
	[ $? -eq 3 ] || fail "preinstall did not pass on preflight's exit code"
	has err "preflight failed (exit 3)"
	! grep -q '^preinstall' log || fail "preinstall ran after a failed preflight"
}

check_verdicts() {
	setup
	# 112 = verdict 3 (fail with message) | message 16.
	CHECK_CODE=112 s/preinstall /tmp/out.pkg / / / 2>err
	[ $? -eq 1 ] || fail "a failing InstallationCheck did not stop the install"
	has err "InstallationCheck: Needs a PowerPC Mac, it's true."
	! grep -q '^preflight' log || fail "preflight ran after a failed check"
	# 48 = verdict 1 (warn) | message 16: goes on.
	: >log
	CHECK_CODE=48 s/preinstall /tmp/out.pkg / / / 2>err || fail "a warning stopped the install"
	has err "InstallationCheck: warning: Needs a PowerPC Mac"
	grep -q '^preinstall' log || fail "did not go on after a warning"
}

originals_unchanged() {
	setup
	for n in preflight preinstall preupgrade postinstall postupgrade postflight \
	    InstallationCheck VolumeCheck helper; do
		cmp "s/Contents/Resources/$n" "f/Scripts.pkg/Contents/Resources/$n" ||
			fail "$n changed"
	done
	sh -n s/preinstall && sh -n s/postinstall || fail "wrapper syntax"
	has x/Scripts.pkg/PackageInfo '<preinstall file="./preinstall"/>'
}

real_samples() {
	# preflight calls "$pkgPath/Contents/Resources/preflight2" (pkgPath=$1).
	run 0 "$PKGFLAT" convert "$TD/legacy/zips/Retrospect_Client_Uninstaller.zip" -o r.pkg
	mkdir x s && bsdtar -xf r.pkg -C x
	bsdtar -xf "x/Retrospect Client Uninstaller.pkg/Scripts" -C s
	mkdir u && unzip_to "$TD/legacy/zips/Retrospect_Client_Uninstaller.zip" u
	cmp s/Contents/Resources/preflight2 "u/Retrospect Client Uninstaller.pkg/Contents/Resources/preflight2" ||
		fail "preflight2 not shipped unchanged"
	grep -q 'step preflight' s/preinstall || fail "preflight not run by preinstall"
	# postflight copies "$1/Contents/Resources/fb_installers" (empty dirs).
	run 0 "$PKGFLAT" convert "$TD/legacy/zips/First_Boot_Package_Install.zip" -o fb.pkg
	mkdir y t2 && bsdtar -xf fb.pkg -C y
	bsdtar -xf "y/First Boot Package Install.pkg/Scripts" -C t2
	for d in 00 01 02 03 04 05; do
		[ -d "t2/Contents/Resources/fb_installers/$d" ] || fail "fb_installers/$d missing"
	done
	bsdtar -tf "y/First Boot Package Install.pkg/Scripts" | grep -q '\.pax\.gz' &&
		fail "Cheetah payload copy shipped in Scripts"
	true
}

t fresh_install_order fresh_install_order
t upgrade_order upgrade_order
t stops_at_first_failure stops_at_first_failure
t check_verdicts check_verdicts
t originals_unchanged originals_unchanged
t real_samples real_samples
