"""Build a legacy component bundle with a payload of a chosen size, for the
progress tests (tests/cli/test_progress.sh).

usage: mkbig.py OUT.pkg MEGABYTES

The payload, Contents/Archive.pax, is an uncompressed ustar archive
(which convert transcodes to gzip'd odc cpio, so it takes time in
proportion to its size) of files of incompressible random bytes, 4 MB
each at most, quick to write; no BOM (the converter writes its own).
Written from the legacy format description (legacy-format.md §2, §5.2).
"""
import io
import os
import plistlib
import sys
import tarfile

MTIME = 1000000000


def main():
    out, mb = sys.argv[1], int(sys.argv[2])
    name = os.path.splitext(os.path.basename(out))[0]
    c = os.path.join(out, "Contents")
    os.makedirs(c)
    with open(os.path.join(c, "PkgInfo"), "w") as f:
        f.write("pmkrpkg1")
    with open(os.path.join(c, "Info.plist"), "wb") as f:
        plistlib.dump({
            "CFBundleIdentifier": "org.example.big." + name.lower(),
            "CFBundleShortVersionString": "1.0",
            "IFPkgFlagDefaultLocation": "/",
            "IFPkgFlagAuthorizationAction": "RootAuthorization",
            "IFPkgFlagRestartAction": "NoRestart",
            "IFPkgFlagInstalledSize": (mb * 1000 * 1000 + 1023) // 1024,
        }, f)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        def add(path, data=None):
            ti = tarfile.TarInfo(path)
            ti.mtime, ti.uid, ti.gid = MTIME, 0, 0
            ti.uname, ti.gname = "root", "wheel"
            if data is None:
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                t.addfile(ti)
            else:
                ti.mode, ti.size = 0o644, len(data)
                t.addfile(ti, io.BytesIO(data))
        add(".")
        add("./opt")
        add("./opt/big")
        left, i = mb * 1000 * 1000, 0
        while left > 0:
            n = min(left, 4 * 1000 * 1000)
            add("./opt/big/part%03d" % i, os.urandom(n))
            left -= n
            i += 1
    with open(os.path.join(c, "Archive.pax"), "wb") as f:
        f.write(buf.getvalue())


if __name__ == "__main__":
    main()
