"""Turn a legacy component bundle into a flat component package the way
converters other than pkgflat do, independently of pkgflat: its payload
and BOM copied as Payload and Bom, a PackageInfo from Info.plist, and its
scripts renamed rather than wrapped (preflight shipped as preinstall,
postflight as postinstall, byte for byte); every other legacy script
(preupgrade, postupgrade, InstallationCheck, VolumeCheck) is dropped, as
those tools do. The XAR is written by mkxar.py.

usage: mkrename.py BUNDLE OUT.pkg
"""
import os
import plistlib
import shutil
import subprocess
import sys
import tempfile
from xml.sax.saxutils import quoteattr

HERE = os.path.dirname(os.path.abspath(__file__))
RENAMES = {"preflight": "preinstall", "postflight": "postinstall"}


def main(bundle, out):
    contents = os.path.join(bundle, "Contents")
    res = os.path.join(contents, "Resources")
    with open(os.path.join(contents, "Info.plist"), "rb") as f:
        info = plistlib.load(f)
    tmp = tempfile.mkdtemp()
    try:
        top = os.path.join(tmp, "x")
        os.mkdir(top)
        shutil.copy(os.path.join(contents, "Archive.pax.gz"),
                    os.path.join(top, "Payload"))
        shutil.copy(os.path.join(contents, "Archive.bom"),
                    os.path.join(top, "Bom"))
        sdir = os.path.join(tmp, "scripts")
        os.mkdir(sdir)
        shipped = []
        for legacy, flat in RENAMES.items():
            src = os.path.join(res, legacy)
            if os.path.isfile(src):
                shutil.copy(src, os.path.join(sdir, flat))
                os.chmod(os.path.join(sdir, flat), 0o755)
                shipped.append(flat)
        scripts = ""
        if shipped:
            cpio = subprocess.run(["bsdtar", "-cf", "-", "--format", "odc",
                                   "--uid", "0", "--gid", "0", "-C", sdir]
                                  + ["./" + s for s in shipped],
                                  check=True, stdout=subprocess.PIPE).stdout
            gz = subprocess.run(["gzip", "-n9"], input=cpio, check=True,
                                stdout=subprocess.PIPE).stdout
            with open(os.path.join(top, "Scripts"), "wb") as f:
                f.write(gz)
            scripts = "<scripts>%s</scripts>" % "".join(
                '<%s file="./%s"/>' % (s, s) for s in shipped)

        def flag(key):
            return "true" if info.get(key) else "false"

        auth = {"RootAuthorization": "root", "AdminAuthorization": "root"}.get(
            info.get("IFPkgFlagAuthorizationAction"), "none")
        pi = ('<?xml version="1.0" encoding="utf-8"?>\n'
              '<pkg-info format-version="2" identifier=%s version=%s '
              'install-location=%s auth="%s" relocatable="%s" '
              'overwrite-permissions="%s" followSymLinks="%s">'
              '<payload installKBytes="%d"/>%s</pkg-info>\n'
              % (quoteattr(info["CFBundleIdentifier"]),
                 quoteattr(str(info.get("CFBundleShortVersionString", "0"))),
                 quoteattr(info.get("IFPkgFlagDefaultLocation", "/")), auth,
                 flag("IFPkgFlagRelocatable"),
                 flag("IFPkgFlagOverwritePermissions"),
                 flag("IFPkgFlagFollowLinks"),
                 info.get("IFPkgFlagInstalledSize", 0), scripts))
        with open(os.path.join(top, "PackageInfo"), "w") as f:
            f.write(pi)
        subprocess.run([sys.executable, os.path.join(HERE, "mkxar.py"), top,
                        out], check=True)
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
