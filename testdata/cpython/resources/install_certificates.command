#!/bin/sh
#
# Install or update the default root certificates for the ssl module from
# the certifi package.  buildInstaller() copies this file into the mpkg
# Resources through patchFile, which leaves the version placeholders below
# unexpanded; the copy in "/Applications/Python X.Y" goes through
# patchScript and gets the real version.

/Library/Frameworks/Python.framework/Versions/@PYVER@/bin/python@PYVER@ -E -s - << "EOF_PY"
import os
import ssl
import stat
import subprocess
import sys

def main():
    openssl_dir, openssl_cafile = os.path.split(
        ssl.get_default_verify_paths().openssl_cafile)
    print(" -- pip install --upgrade certifi")
    subprocess.check_call([sys.executable, "-E", "-s", "-m", "pip",
                           "install", "--upgrade", "certifi"])
    import certifi
    os.chdir(openssl_dir)
    target = os.path.relpath(certifi.where())
    print(" -- replacing", openssl_cafile, "with a link to", target)
    try:
        os.remove(openssl_cafile)
    except OSError:
        pass
    os.symlink(target, openssl_cafile)
    os.chmod(openssl_cafile, 0o775)
    print(" -- update complete")

main()
EOF_PY
