"""Build legacy bundle packages from the format description alone
(legacy-format.md §2, §3.2, §4.1, §5.2), for tests/cli/test_legacy.sh.

usage: mklegacy.py KIND OUTDIR

  cheetah   Driver.pkg in the 10.0/10.1 layout: no Info.plist, the bundle's
            metadata in Resources/Driver.info (opening with a
            "### Package Flags" comment), the payload in Driver.pax.gz, and
            the four scripts Driver.pre_install, .pre_upgrade,
            .post_install, .post_upgrade; post_install loads a driver
            through a helper it finds as "$1"/Contents/Resources/kextload-
            helper. No identifier anywhere. Each script appends
            "NAME ARGS" to $PKGFLAT_TEST_LOG, the helper "helper ARGS".
  owners    Owned.pkg (Info.plist, no identifier) whose payload was built
            on a developer's Mac: "." and an app owned by 501:20, a
            directory-service uid 70000, a root:admin framework (0:80), a
            root:staff directory (0:20) and a nobody-owned file (65534).

Payloads are gzip'd odc cpio written here (070707 headers, "." first,
"./" names, TRAILER!!!, padded to 512 bytes). No BOM: the converter
writes its own from the payload.
"""
import gzip
import os
import plistlib
import sys

MTIME = 1000000000


def cpio(entries):
    """odc cpio of entries [(path, mode, uid, gid, data)]."""
    out = bytearray()
    for ino, (path, mode, uid, gid, data) in enumerate(
            entries + [("TRAILER!!!", 0, 0, 0, b"")]):
        name = path.encode() + b"\0"
        nlink = 2 if mode & 0o040000 else 1
        out += b"070707" + ("%06o%06o%06o%06o%06o%06o%06o%011o%06o%011o" % (
            0, ino if path != "TRAILER!!!" else 0, mode, uid, gid,
            nlink if path != "TRAILER!!!" else 0, 0, MTIME if mode else 0,
            len(name), len(data))).encode() + name + data
    out += b"\0" * (-len(out) % 512)
    return gzip.compress(bytes(out), mtime=0)


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(text.encode() if isinstance(text, str) else text)
    os.chmod(path, mode)


SCRIPT = """#!/bin/sh
echo "%s $*" >>"${PKGFLAT_TEST_LOG:-/dev/null}"
"""

DIR, FILE = 0o040000, 0o100000


def cheetah(out):
    top = os.path.join(out, "Driver.pkg")
    res = os.path.join(top, "Contents", "Resources")
    write(os.path.join(top, "Contents", "PkgInfo"), "pmkrpkg1")
    write(os.path.join(res, "Driver.info"), "\n".join([
        "### Package Flags",
        "",
        "Title Example Driver",
        "Version 1.2",
        "Description Loads the example kernel extension.",
        "DefaultLocation /",
        "DeleteWarning",
        "",
        "### Package Flags",
        "",
        "NeedsAuthorization YES",
        "Required NO",
        "Relocatable NO",
        "RequiresReboot NO",
        "UseUserMask NO",
        "OverwritePermissions NO",
        "InstallFat NO",
        "RootVolumeOnly YES",
        "",
    ]))
    write(os.path.join(res, "Driver.sizes"),
          "NumFiles 4\nInstalledSize 1\nCompressedSize 1\n")
    kext = "./System/Library/Extensions/Example.kext"
    write(os.path.join(res, "Driver.pax.gz"), cpio([
        (".", DIR | 0o1775, 0, 80, b""),
        ("./System", DIR | 0o755, 0, 0, b""),
        ("./System/Library", DIR | 0o755, 0, 0, b""),
        ("./System/Library/Extensions", DIR | 0o755, 0, 0, b""),
        (kext, DIR | 0o755, 0, 0, b""),
        (kext + "/Contents", DIR | 0o755, 0, 0, b""),
        (kext + "/Contents/Info.plist", FILE | 0o644, 0, 0,
         plistlib.dumps({"CFBundleIdentifier": "org.example.driver"})),
    ]))
    for kind in ("pre_install", "pre_upgrade", "post_upgrade"):
        write(os.path.join(res, "Driver." + kind), SCRIPT % kind, 0o755)
    # The driver is loaded through a helper in the package's Resources.
    write(os.path.join(res, "Driver.post_install"), (SCRIPT % "post_install") +
          '"$1"/Contents/Resources/kextload-helper "$3" || exit 1\n', 0o755)
    write(os.path.join(res, "kextload-helper"), SCRIPT % "helper", 0o755)
    # Read by nothing: Installer never showed it, no script uses it.
    write(os.path.join(res, "Notes.txt"), "build notes\n")


def owners(out):
    top = os.path.join(out, "Owned.pkg")
    c = os.path.join(top, "Contents")
    write(os.path.join(c, "PkgInfo"), "pmkrpkg1")
    write(os.path.join(c, "Info.plist"), plistlib.dumps({
        "CFBundleShortVersionString": "3.0",
        "IFPkgFlagDefaultLocation": "/",
        "IFPkgFlagAuthorizationAction": "RootAuthorization",
        "IFPkgFlagIsRequired": False,
        "IFPkgFlagRestartAction": "NoRestart",
    }))
    fw = "./Library/Frameworks/Python.framework"
    app = "./Applications/Owned.app"
    write(os.path.join(c, "Archive.pax.gz"), cpio([
        (".", DIR | 0o775, 501, 20, b""),
        ("./Applications", DIR | 0o775, 501, 20, b""),
        (app, DIR | 0o755, 501, 20, b""),
        (app + "/Contents", DIR | 0o755, 501, 20, b""),
        (app + "/Contents/Info.plist", FILE | 0o644, 501, 20, b"<plist/>\n"),
        (app + "/Contents/Tool", FILE | 0o755, 70000, 70001, b"#!/bin/sh\n"),
        ("./Library", DIR | 0o755, 0, 0, b""),
        ("./Library/Frameworks", DIR | 0o775, 0, 80, b""),
        (fw, DIR | 0o775, 0, 80, b""),
        (fw + "/Versions", DIR | 0o775, 0, 80, b""),
        (fw + "/Versions/Current", FILE | 0o664, 0, 80, b"3.0\n"),
        ("./usr", DIR | 0o755, 0, 0, b""),
        ("./usr/local", DIR | 0o775, 0, 20, b""),
        ("./usr/local/nobody.txt", FILE | 0o644, 65534, 65534, b"x\n"),
    ]))


KINDS = {"cheetah": cheetah, "owners": owners}

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in KINDS:
        sys.exit("usage: mklegacy.py {%s} OUTDIR" % ",".join(KINDS))
    KINDS[sys.argv[1]](sys.argv[2])
