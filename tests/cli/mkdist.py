"""Build distribution-script metapackages for tests/cli/test_dist.sh.

usage: mkdist.py KIND OUTDIR   KIND: tiger, hybrid, nested, bad-entity, bad-deep

Written from the layout in docs/formats/legacy-dist.md (PackageMaker 2/3 Tiger
distribution packages, legacy-format.md §2.2 and §7), not copied from any
package. Payloads are gzip'd odc cpio written here.

tiger:  Driver.mpkg with Contents/distribution.dist and no Info.plist: two
        drivers installing the same path, one for 10.4-10.5 and one for
        10.6 and later, chosen in JavaScript by system.version.ProductVersion;
        hidden payload-free preflight/postflight packages (start_visible
        false); localized titles in English.lproj/Localizable.strings (UTF-16,
        as PackageMaker wrote them); a background with alignment and scaling;
        one element the flat format does not have.
hybrid: Suite.mpkg with an Info.plist package list and a .dist whose
        choices differ from the list's selections.
nested: Top.mpkg whose .dist names a nested Info.plist metapackage.
"""
import gzip
import io
import os
import plistlib
import sys


def odc(entries):
    """gzip'd odc cpio of [(name, mode, data)], root "." first."""
    out = io.BytesIO()
    ino = 1
    for name, mode, data in entries + [("TRAILER!!!", 0, b"")]:
        nb = name.encode() + b"\0"
        hdr = "070707%06o%06o%06o%06o%06o%06o%06o%011o%06o%011o" % (
            0o777, ino, mode, 0, 0, 1, 0, 1136073600, len(nb), len(data))
        out.write(hdr.encode() + nb + data)
        ino += 1
    raw = out.getvalue()
    raw += b"\0" * (-len(raw) % 512)
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as g:
        g.write(raw)
    return buf.getvalue()


def component(dest, ident, files, title, restart="NoRestart", scripts=None):
    """A bundle component at dest; files: [(path, data)] under /."""
    c = os.path.join(dest, "Contents")
    res = os.path.join(c, "Resources", "English.lproj")
    os.makedirs(res)
    info = {
        "CFBundleIdentifier": ident,
        "CFBundleShortVersionString": "1.0",
        "IFMajorVersion": 1,
        "IFMinorVersion": 0,
        "IFPkgFlagAuthorizationAction": "RootAuthorization",
        "IFPkgFlagDefaultLocation": "/",
        "IFPkgFlagInstallFat": False,
        "IFPkgFlagIsRequired": False,
        "IFPkgFlagRestartAction": restart,
        "IFPkgFlagRootVolumeOnly": True,
        "IFPkgFormatVersion": 0.10000000149011612,
    }
    with open(os.path.join(c, "Info.plist"), "wb") as f:
        plistlib.dump(info, f)
    with open(os.path.join(c, "PkgInfo"), "w") as f:
        f.write("pmkrpkg1")
    with open(os.path.join(res, "Description.plist"), "wb") as f:
        plistlib.dump({"IFPkgDescriptionTitle": title,
                       "IFPkgDescriptionDescription": ""}, f)
    if files is not None:
        entries = [(".", 0o40775, b"")]
        dirs = set()
        for path, _ in files:
            parts = path.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    entries.append(("./" + d, 0o40755, b""))
        entries += [("./" + p, 0o100644, data) for p, data in files]
        with open(os.path.join(c, "Archive.pax.gz"), "wb") as f:
            f.write(odc(entries))
    for name, text in (scripts or {}).items():
        p = os.path.join(c, "Resources", name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, 0o755)


def strings_utf16(pairs):
    text = "".join('"%s" = "%s";\n' % kv for kv in pairs)
    return b"\xff\xfe" + text.encode("utf-16-le")


KEXT = "Library/Extensions/Example.kext/Contents/Info.plist"

TIGER_DIST = """<?xml version="1.0" encoding="UTF-8"?>
<installer-script minSpecVersion="1.000000" authoringTool="com.apple.PackageMaker" authoringToolVersion="2.1" authoringToolBuild="152">
    <title>DISTRIBUTION_TITLE</title>
    <options customize="allow" allow-external-scripts="no" rootVolumeOnly="true"/>
    <domains enable_localSystem="true" enable_anywhere="false" enable_currentUserHome="false"/>
    <installation-check script="pm_install_check();"/>
    <volume-check script="pm_volume_check();"/>
    <background file="background.tif" alignment="bottomleft" scaling="none" mime-type="image/tiff"/>
    <welcome file="Welcome.rtf" mime-type="text/rtf"/>
    <license file="License.txt"/>
    <editor-state window="0 0 640 480"/>
    <script>
function pm_install_check() {
  if(!(system.compareVersions(system.version.ProductVersion, '10.4') &gt;= 0)) {
    my.result.title = system.localizedString('FAIL_TITLE');
    my.result.message = system.localizedString('FAIL_MESSAGE');
    my.result.type = 'Fatal';
    return false;
  }
  return true;
}
function pm_volume_check() {
  return my.target.mountpoint == '/';
}
function old_receipt() {
  return my.target.receiptForIdentifier('org.example.driver.old.pkg');
}
function is_pre_106() {
  return system.compareVersions(system.version.ProductVersion, '10.6') &lt; 0;
}
</script>
    <choices-outline>
        <line choice="prepare"/>
        <line choice="drivers">
            <line choice="driver_old"/>
            <line choice="driver_new"/>
        </line>
        <line choice="finish"/>
    </choices-outline>
    <choice id="prepare" title="PREPARE_TITLE" start_visible="false" start_selected="true" start_enabled="false"><pkg-ref id="org.example.driver.prepare.pkg"/></choice>
    <choice id="drivers" title="DRIVERS_TITLE" description="DRIVERS_DESCRIPTION" start_enabled="false"/>
    <choice id="driver_old" title="DRIVER_OLD_TITLE" description="DRIVER_OLD_DESCRIPTION" selected="is_pre_106()" enabled="false" visible="is_pre_106()"><pkg-ref id="org.example.driver.old.pkg"/></choice>
    <choice id="driver_new" title="DRIVER_NEW_TITLE" description="DRIVER_NEW_DESCRIPTION" selected="!is_pre_106()" enabled="false" visible="!is_pre_106()"><pkg-ref id="org.example.driver.new.pkg"/></choice>
    <choice id="finish" title="FINISH_TITLE" start_visible="false" start_selected="true" start_enabled="false"><pkg-ref id="org.example.driver.finish.pkg"/></choice>
    <pkg-ref id="org.example.driver.prepare.pkg" installKBytes="0" version="1.0" auth="Root">file:./Contents/Packages/Prepare.pkg</pkg-ref>
    <pkg-ref id="org.example.driver.old.pkg" installKBytes="8" version="1.0" auth="Root">file:./Contents/Packages/Driver%20Old.pkg</pkg-ref>
    <pkg-ref id="org.example.driver.new.pkg" installKBytes="8" version="1.0" auth="Admin">file:./Contents/Packages/DriverNew.pkg</pkg-ref>
    <pkg-ref id="org.example.driver.finish.pkg" installKBytes="0" version="1.0" auth="Root" onConclusion="RequireRestart">file:./Contents/Packages/Finish.pkg</pkg-ref>
</installer-script>
"""

HYBRID_DIST = """<?xml version="1.0" encoding="UTF-8"?>
<installer-script minSpecVersion="1.000000">
    <title>Example Suite</title>
    <options customize="always"/>
    <script>
function has_app() {
  return system.files.fileExistsAtPath(my.target.mountpoint + '/Applications/Example.app');
}
</script>
    <choices-outline>
        <line choice="core"/>
        <line choice="extras"/>
    </choices-outline>
    <choice id="core" title="Core" start_enabled="false"><pkg-ref id="org.example.core"/></choice>
    <choice id="extras" title="Extras" start_selected="has_app()" tooltip="Optional parts"><pkg-ref id="org.example.extras"/></choice>
    <pkg-ref id="org.example.core" version="1.0" installKBytes="4" auth="Root">file:./Contents/Packages/Core.pkg</pkg-ref>
    <pkg-ref id="org.example.extras" version="1.0" installKBytes="4" auth="Root">file:./Contents/Packages/Extras.pkg</pkg-ref>
</installer-script>
"""


def tiger(out):
    top = os.path.join(out, "Driver.mpkg")
    pk = os.path.join(top, "Contents", "Packages")
    component(os.path.join(pk, "Prepare.pkg"), "org.example.driver.prepare",
              None, "Prepare", scripts={
                  "preflight": "#!/bin/sh\n/sbin/kextunload -b org.example.driver || true\nexit 0\n"})
    component(os.path.join(pk, "Driver Old.pkg"), "org.example.driver.old",
              [(KEXT, b"<plist>driver for 10.4 and 10.5</plist>\n")],
              "Driver (10.4-10.5)")
    component(os.path.join(pk, "DriverNew.pkg"), "org.example.driver.new",
              [(KEXT, b"<plist>driver for 10.6 and later</plist>\n")],
              "Driver (10.6+)")
    component(os.path.join(pk, "Finish.pkg"), "org.example.driver.finish",
              None, "Finish", restart="RequiredRestart", scripts={
                  "postflight": "#!/bin/sh\n/usr/bin/touch /System/Library/Extensions\nexit 0\n"})
    res = os.path.join(top, "Contents", "Resources")
    en = os.path.join(res, "English.lproj")
    fr = os.path.join(res, "French.lproj")
    os.makedirs(en)
    os.makedirs(fr)
    keys = [("DISTRIBUTION_TITLE", "Example Driver"),
            ("PREPARE_TITLE", "Prepare"), ("FINISH_TITLE", "Finish"),
            ("DRIVERS_TITLE", "Drivers"),
            ("DRIVERS_DESCRIPTION", "The driver for this system."),
            ("DRIVER_OLD_TITLE", "Driver for Mac OS X 10.4 and 10.5"),
            ("DRIVER_OLD_DESCRIPTION", "Installed on 10.4 and 10.5 only."),
            ("DRIVER_NEW_TITLE", "Driver for Mac OS X 10.6 and later"),
            ("DRIVER_NEW_DESCRIPTION", "Installed on 10.6 and later only."),
            ("FAIL_TITLE", "Cannot install"),
            ("FAIL_MESSAGE", "This driver needs Mac OS X 10.4 or later.")]
    with open(os.path.join(en, "Localizable.strings"), "wb") as f:
        f.write(strings_utf16(keys))
    with open(os.path.join(fr, "Localizable.strings"), "wb") as f:
        f.write(strings_utf16([("DISTRIBUTION_TITLE", "Pilote d'exemple")]))
    with open(os.path.join(en, "Welcome.rtf"), "w") as f:
        f.write("{\\rtf1\\ansi Welcome to the Example Driver.}\n")
    with open(os.path.join(en, "License.txt"), "w") as f:
        f.write("Example license.\n")
    # A tiny big-endian TIFF header is enough for a file Installer names.
    with open(os.path.join(res, "background.tif"), "wb") as f:
        f.write(b"MM\x00\x2a\x00\x00\x00\x08" + bytes(64))
    with open(os.path.join(top, "Contents", "distribution.dist"), "w") as f:
        f.write(TIGER_DIST)
    with open(os.path.join(top, "Contents", "PkgInfo"), "w") as f:
        f.write("pmkrpkg1")


def hybrid(out):
    top = os.path.join(out, "Suite.mpkg")
    pk = os.path.join(top, "Contents", "Packages")
    component(os.path.join(pk, "Core.pkg"), "org.example.core",
              [("Library/Example/core.txt", b"core\n")], "Core")
    component(os.path.join(pk, "Extras.pkg"), "org.example.extras",
              [("Library/Example/extras.txt", b"extras\n")], "Extras")
    c = os.path.join(top, "Contents")
    os.makedirs(os.path.join(c, "Resources", "English.lproj"))
    info = {
        "CFBundleIdentifier": "org.example.suite",
        "CFBundleShortVersionString": "1.0",
        "IFPkgFlagComponentDirectory": "Contents/Packages",
        "IFPkgFlagPackageList": [
            {"IFPkgFlagPackageLocation": "Core.pkg",
             "IFPkgFlagPackageSelection": "selected"},
            {"IFPkgFlagPackageLocation": "Extras.pkg",
             "IFPkgFlagPackageSelection": "unselected"},
        ],
        "IFPkgFormatVersion": 0.10000000149011612,
    }
    with open(os.path.join(c, "Info.plist"), "wb") as f:
        plistlib.dump(info, f)
    with open(os.path.join(c, "PkgInfo"), "w") as f:
        f.write("pmkrpkg1")
    with open(os.path.join(c, "Resources", "English.lproj",
                           "Description.plist"), "wb") as f:
        plistlib.dump({"IFPkgDescriptionTitle": "Example Suite"}, f)
    with open(os.path.join(c, "Suite.dist"), "w") as f:
        f.write(HYBRID_DIST)


def nested(out):
    """A .dist whose pkg-ref names an Info.plist metapackage, by a bare
    name relative to Contents/Packages."""
    top = os.path.join(out, "Top.mpkg")
    pk = os.path.join(top, "Contents", "Packages")
    component(os.path.join(pk, "A.pkg"), "org.example.a", [("tmp/a", b"a")], "A")
    inner = os.path.join(pk, "Inner.mpkg")
    for n in ("B", "C"):
        component(os.path.join(inner, "Contents", "Packages", n + ".pkg"),
                  "org.example." + n.lower(), [("tmp/" + n, n.encode())], n)
    with open(os.path.join(inner, "Contents", "Info.plist"), "wb") as f:
        plistlib.dump({
            "CFBundleIdentifier": "org.example.inner",
            "IFPkgFlagComponentDirectory": "./Contents/Packages",
            "IFPkgFlagPackageList": [
                {"IFPkgFlagPackageLocation": "B.pkg",
                 "IFPkgFlagPackageSelection": "selected"},
                {"IFPkgFlagPackageLocation": "C.pkg",
                 "IFPkgFlagPackageSelection": "unselected"}]}, f)
    with open(os.path.join(top, "Contents", "Top.dist"), "w") as f:
        f.write("""<?xml version="1.0" encoding="UTF-8"?>
<installer-script minSpecVersion="1.000000">
    <title>Top</title>
    <choices-outline><line choice="a"/><line choice="inner"/></choices-outline>
    <choice id="a" title="A"><pkg-ref id="a.pkg"/></choice>
    <choice id="inner" title="Inner" start_selected="false"><pkg-ref id="inner.pkg"/></choice>
    <pkg-ref id="a.pkg">A.pkg</pkg-ref>
    <pkg-ref id="inner.pkg">file:./Contents/Packages/Inner.mpkg</pkg-ref>
</installer-script>
""")


def bad(out, kind):
    hybrid(out)
    p = os.path.join(out, "Suite.mpkg", "Contents", "Suite.dist")
    if kind == "bad-entity":
        text = HYBRID_DIST.replace(
            '<installer-script', '<!DOCTYPE installer-script [<!ENTITY a "aaaaaaaaaa">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>\n<installer-script', 1)
        text = text.replace("<title>Example Suite", "<title>&b;", 1)
    else:
        text = HYBRID_DIST.replace("<title>Example Suite</title>",
                                   "<title>" + "<line>" * 100 + "</line>" * 100 + "</title>")
    with open(p, "w") as f:
        f.write(text)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    kind, out = sys.argv[1:]
    os.makedirs(out, exist_ok=True)
    if kind == "tiger":
        tiger(out)
    elif kind == "hybrid":
        hybrid(out)
    elif kind == "nested":
        nested(out)
    elif kind in ("bad-entity", "bad-deep"):
        bad(out, kind)
    else:
        sys.exit(__doc__)
