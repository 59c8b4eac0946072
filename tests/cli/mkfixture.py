"""Build small synthetic legacy packages for the command-line tests.

usage: mkfixture.py KIND OUTDIR

Components are copies of the real ExifTool 9.47 bundle (testdata/legacy),
renamed and re-identified, so every payload and BOM is Apple-made. The
metapackage shapes follow legacy-format.md §2.2 and §4.
"""
import os
import plistlib
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXIF = os.path.join(ROOT, "testdata", "legacy", "ExifTool-9.47.pkg")


def component(dest, ident, version="1.0", **extra):
    """A component bundle at dest, made from the ExifTool bundle."""
    shutil.copytree(EXIF, dest, symlinks=True)
    info_path = os.path.join(dest, "Contents", "Info.plist")
    with open(info_path, "rb") as f:
        info = plistlib.load(f)
    info["CFBundleIdentifier"] = ident
    info["CFBundleShortVersionString"] = version
    info["IFPkgFlagRestartAction"] = "NoRestart"
    info.update(extra)
    with open(info_path, "wb") as f:
        plistlib.dump(info, f)
    return dest


def mpkg(dest, items, component_dir="Contents/Packages", **extra):
    """A metapackage at dest listing items [(location, selection), ...]."""
    os.makedirs(os.path.join(dest, "Contents", "Resources", "en.lproj"))
    info = {
        "CFBundleIdentifier": "org.example.meta",
        "CFBundleShortVersionString": "2.0",
        "IFPkgFlagComponentDirectory": component_dir,
        "IFPkgFlagPackageList": [
            {"IFPkgFlagPackageLocation": loc, "IFPkgFlagPackageSelection": sel}
            for loc, sel in items
        ],
        "IFPkgFormatVersion": 0.10000000149011612,
    }
    info.update(extra)
    with open(os.path.join(dest, "Contents", "Info.plist"), "wb") as f:
        plistlib.dump(info, f)
    with open(os.path.join(dest, "Contents", "PkgInfo"), "w") as f:
        f.write("pmkrpkg1")
    with open(os.path.join(dest, "Contents", "Resources", "en.lproj",
                           "Description.plist"), "wb") as f:
        plistlib.dump({"IFPkgDescriptionTitle": "Example Suite",
                       "IFPkgDescriptionDescription": "Everything."}, f)
    return dest


def build(kind, out):
    os.makedirs(out, exist_ok=True)
    if kind == "nested":
        # A metapackage whose second item is itself a metapackage.
        top = mpkg(os.path.join(out, "Suite.mpkg"),
                   [("A.pkg", "required"), ("Inner.mpkg", "selected"),
                    ("D.pkg", "unselected")])
        pk = os.path.join(top, "Contents", "Packages")
        component(os.path.join(pk, "A.pkg"), "org.example.a")
        inner = mpkg(os.path.join(pk, "Inner.mpkg"),
                     [("B.pkg", "selected"), ("C.pkg", "unselected")],
                     component_dir="./Contents/Packages")
        component(os.path.join(inner, "Contents", "Packages", "B.pkg"), "org.example.b")
        component(os.path.join(inner, "Contents", "Packages", "C.pkg"), "org.example.c")
        component(os.path.join(pk, "D.pkg"), "org.example.d")
    elif kind == "siblings":
        # PackageMaker's default: components next to the .mpkg.
        mpkg(os.path.join(out, "Suite.mpkg"), [("A.pkg", "selected"),
                                               ("B.pkg", "selected")],
             component_dir="..")
        component(os.path.join(out, "A.pkg"), "org.example.a")
        component(os.path.join(out, "B.pkg"), "org.example.b")
    elif kind == "dist":
        # Tiger distribution package: no package list, a .dist script.
        top = os.path.join(out, "Tiger.mpkg")
        os.makedirs(os.path.join(top, "Contents", "Packages"))
        component(os.path.join(top, "Contents", "Packages", "Two Words.pkg"), "org.example.two")
        component(os.path.join(top, "Contents", "Packages", "First.pkg"), "org.example.first")
        with open(os.path.join(top, "Contents", "distribution.dist"), "w") as f:
            f.write("""<?xml version="1.0" encoding="UTF-8"?>
<installer-script minSpecVersion="1.000000">
    <title>Tiger Suite</title>
    <options customize="allow" allow-external-scripts="no"/>
    <choices-outline>
        <line choice="c1"/>
        <line choice="c2"/>
    </choices-outline>
    <choice id="c1" title="First"><pkg-ref id="org.example.first"/></choice>
    <choice id="c2" title="Second"><pkg-ref id="org.example.two"/></choice>
    <pkg-ref id="org.example.two" installKBytes="10" version="1.0" auth="Root">file:./Contents/Packages/Two%20Words.pkg</pkg-ref>
    <pkg-ref id="org.example.first" installKBytes="10" version="1.0" auth="Root">file:./Contents/Packages/First.pkg</pkg-ref>
</installer-script>
""")
    elif kind == "checks":
        # Requirement dicts, InstallationCheck with UTF-16 strings, binary
        # Info.plist, a UTF-16 XML Description.plist, lproj resources.
        dest = component(os.path.join(out, "Checks.pkg"), "org.example.checks",
                         IFRequirementDicts=[
                             {"Level": "requires", "SpecType": "sysctl",
                              "SpecArgument": "hw.machine", "TestOperator": "eq",
                              "TestObject": "Power Macintosh",
                              "LabelKey": "PPC", "TitleKey": "T", "MessageKey": "M"},
                             {"Level": "recommends", "SpecType": "file",
                              "SpecArgument": "/Applications", "SpecProperty": "NSFileType",
                              "TestOperator": "eq", "TestObject": "NSFileTypeDirectory"},
                         ])
        info_path = os.path.join(dest, "Contents", "Info.plist")
        with open(info_path, "rb") as f:
            info = plistlib.load(f)
        with open(info_path, "wb") as f:
            plistlib.dump(info, f, fmt=plistlib.FMT_BINARY)
        res = os.path.join(dest, "Contents", "Resources")
        with open(os.path.join(res, "InstallationCheck"), "w") as f:
            f.write("#!/bin/sh\nexit 112\n")
        os.chmod(os.path.join(res, "InstallationCheck"), 0o755)
        os.makedirs(os.path.join(res, "de.lproj"))
        with open(os.path.join(res, "en.lproj", "InstallationCheck.strings"), "wb") as f:
            f.write('"16" = "This package needs a PowerPC Mac.";\n'.encode("utf-16"))
        with open(os.path.join(res, "de.lproj", "Description.plist"), "wb") as f:
            body = plistlib.dumps({"IFPkgDescriptionTitle": "Pr\u00fcfungen"})
            f.write(body.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"))
        # The top-level Description.plist in UTF-16 wins over en.lproj.
        with open(os.path.join(res, "Description.plist"), "wb") as f:
            body = plistlib.dumps({"IFPkgDescriptionTitle": "Checks \u2713",
                                   "IFPkgDescriptionDescription": "UTF-16 on disk"})
            f.write(body.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"))
        os.makedirs(os.path.join(res, "License.rtfd"))
        with open(os.path.join(res, "License.rtfd", "TXT.rtf"), "w") as f:
            f.write("{\\rtf1 license}")
    elif kind == "mpkg-scripts":
        # A metapackage with scripts of its own, before and after its parts.
        top = mpkg(os.path.join(out, "Suite.mpkg"), [("A.pkg", "selected"),
                                                     ("B.pkg", "selected")])
        pk = os.path.join(top, "Contents", "Packages")
        component(os.path.join(pk, "A.pkg"), "org.example.a")
        component(os.path.join(pk, "B.pkg"), "org.example.b")
        res = os.path.join(top, "Contents", "Resources")
        for n in ("preflight", "postflight"):
            with open(os.path.join(res, n), "w") as f:
                f.write("#!/bin/sh\necho %s >>\"$PKGFLAT_TEST_LOG\"\n" % n)
            os.chmod(os.path.join(res, n), 0o755)
    elif kind == "scripts":
        # Every legacy script, each logging its name and arguments; the
        # preflight uses a helper through "$1/Contents/Resources".
        dest = component(os.path.join(out, "Scripts.pkg"), "org.example.scripts")
        res = os.path.join(dest, "Contents", "Resources")
        os.remove(os.path.join(res, "postflight"))
        names = ["preflight", "preinstall", "preupgrade", "postinstall",
                 "postupgrade", "postflight", "InstallationCheck", "VolumeCheck"]
        for n in names:
            body = '#!/bin/sh\necho "%s $SCRIPT_NAME [$1] [$2] [$3] [$4]" >>"$PKGFLAT_TEST_LOG"\n' % n
            if n == "preflight":
                body += '"$1/Contents/Resources/helper" || exit 7\n'
                body += '[ -n "$FAIL_PREFLIGHT" ] && exit 3\n'
            if n == "InstallationCheck":
                body += '[ -n "$CHECK_CODE" ] && exit $CHECK_CODE\n'
            body += "exit 0\n"
            with open(os.path.join(res, n), "w") as f:
                f.write(body)
            os.chmod(os.path.join(res, n), 0o755)
        with open(os.path.join(res, "helper"), "w") as f:
            f.write('#!/bin/sh\necho "helper ran" >>"$PKGFLAT_TEST_LOG"\n')
        os.chmod(os.path.join(res, "helper"), 0o755)
        with open(os.path.join(res, "en.lproj", "InstallationCheck.strings"), "wb") as f:
            f.write('"16" = "Needs a PowerPC Mac, it\'s true.";\n'.encode("utf-16"))
    else:
        sys.exit("unknown fixture kind " + kind)


if __name__ == "__main__":
    build(sys.argv[1], sys.argv[2])
