"""Write Mach-O test fixtures from the format alone (<mach-o/loader.h>,
<mach-o/fat.h>, xnu's <kern/cs_blobs.h>), independently of pkgflat.

usage: mkmacho.py [--pki DIR] OUTDIR KIND...
       mkmacho.py [--pki DIR] --bundle DEST.pkg IDENT PATH=KIND...

Each KIND is written to OUTDIR/KIND; with --bundle, a legacy component
bundle is written whose payload holds each KIND at PATH (a KIND with a
slash is a file already written). Signed kinds need --pki (a directory
from scripts/make-test-pki): their CMS blob is made by `openssl cms -sign`
over the CodeDirectory, the secure timestamp by `openssl ts -reply` with
the test TSA's configuration (DIR/tsa.cnf), and the Developer ID
Application certificates are issued here under the test PKI's
"Developer ID Certification Authority" (with Apple's marker extension
1.2.840.113635.100.6.1.13).

Kinds (all x86_64 MH_EXECUTE built with the macOS 11.0 SDK unless said):
  good            Developer ID Application (TEAMID1234), hardened runtime,
                  timestamp, entitlements without get-task-allow
  unsigned        no LC_CODE_SIGNATURE
  adhoc           ad-hoc signed (CS_ADHOC, empty CMS wrapper), runtime set
  no-runtime      as good, CodeDirectory flags without CS_RUNTIME
  no-timestamp    as good, no RFC 3161 token
  get-task-allow  as good, entitlements with get-task-allow true
  not-devid       as good, signed by the Developer ID *Installer* leaf
  other-team      as good, by Developer ID Application of team OTHERTEAM9
  old-sdk         as good, LC_VERSION_MIN_MACOSX 10.6, SDK 10.8
  universal       fat: good x86_64 + good arm64 slices
  universal-dylib fat64: x86_64 + arm64e MH_DYLIB, good
  x86_64-ext      good MH_BUNDLE, x86_64 only (an extension module)
  ppc-be          unsigned big-endian 32-bit ppc MH_EXECUTE, no version
  i386-ppc        fat: unsigned i386 + ppc7400
  sha1-cd         as good, with a SHA-1 CodeDirectory (version 0x20200)
  trunc-lcmds     good cut inside its load commands
  bad-cmdsize     a load command whose cmdsize runs past sizeofcmds
  trunc-sig       good cut inside its code signature
  bad-sig-magic   good with the SuperBlob magic broken
  back-sig        LC_CODE_SIGNATURE pointing into the load commands
  bad-cms         as good, but its CMS signs a CodeDirectory one bit
                  different from the one in the signature
  code-modified   good with one bit of code page 1 flipped after signing
"""
import hashlib
import os
import plistlib
import struct
import subprocess
import sys
import tempfile

CPU_X86_64 = 0x01000007
CPU_ARM64 = 0x0100000C
CPU_I386 = 7
CPU_PPC = 18
SUB = {CPU_X86_64: 3, CPU_ARM64: 0, CPU_I386: 3, CPU_PPC: 0}
MH_EXECUTE, MH_DYLIB, MH_BUNDLE = 2, 6, 8
LC_CODE_SIGNATURE = 0x1D
LC_VERSION_MIN_MACOSX = 0x24
LC_BUILD_VERSION = 0x32
CS_ADHOC, CS_RUNTIME = 0x2, 0x10000
PAGE = 4096

OTHER_TEAM = "OTHERTEAM9"
TEAM = "TEAMID1234"


def ver(s):
    parts = [int(x) for x in s.split(".")] + [0, 0]
    return parts[0] << 16 | parts[1] << 8 | parts[2]


def run(cmd, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    if p.returncode:
        sys.exit("mkmacho: %s failed: %s" % (cmd[0:3], p.stderr.decode()))
    return p.stdout


# --- DER, just enough to add an unsigned attribute to a SignerInfo --------

def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, body):
    return bytes([tag]) + der_len(len(body)) + body


def parse(buf, off=0):
    """(tag, header length, body length) of the TLV at off (definite only)."""
    tag = buf[off]
    n = buf[off + 1]
    if n < 0x80:
        return tag, 2, n
    k = n & 0x7F
    if k == 0:
        sys.exit("mkmacho: indefinite-length DER from openssl")
    return tag, 2 + k, int.from_bytes(buf[off + 2:off + 2 + k], "big")


def children(buf, off, end):
    out = []
    while off < end:
        tag, h, n = parse(buf, off)
        out.append((tag, off, h, n))
        off += h + n
    return out


def add_timestamp(cms, tsa_cnf):
    """cms (DER ContentInfo) with a timestamp token over its one signature."""
    _, h, n = parse(cms)                              # ContentInfo
    ci = children(cms, h, h + n)
    _, o0, h0, n0 = ci[1]                             # [0] EXPLICIT
    o1 = o0 + h0                                      # SignedData
    _, h1, n1 = parse(cms, o1)
    sd = children(cms, o1 + h1, o1 + h1 + n1)         # SignedData fields
    tag, so, sh, sn = sd[-1]
    assert tag == 0x31                                # signerInfos SET
    sis = children(cms, so + sh, so + sh + sn)
    _, io, ih, isn = sis[0]
    si = children(cms, io + ih, io + ih + isn)
    tag, go, gh, gn = si[-1]
    assert tag == 0x04                                # signature OCTET STRING
    signature = cms[go + gh:go + gh + gn]
    with tempfile.TemporaryDirectory(prefix="mkmacho-ts.") as t:
        sig = os.path.join(t, "sig")
        with open(sig, "wb") as f:
            f.write(signature)
        run(["openssl", "ts", "-query", "-data", sig, "-sha256", "-cert",
             "-no_nonce", "-out", os.path.join(t, "q.tsq")])
        run(["openssl", "ts", "-reply", "-config", tsa_cnf, "-queryfile",
             os.path.join(t, "q.tsq"), "-token_out", "-out",
             os.path.join(t, "tok.der")])
        with open(os.path.join(t, "tok.der"), "rb") as f:
            token = f.read()
    oid = bytes.fromhex("060b2a864886f70d010910020e")  # 1.2.840.113549.1.9.16.2.14
    attr = tlv(0x30, oid + tlv(0x31, token))
    new_si = tlv(0x30, cms[io + ih:io + ih + isn] + tlv(0xA1, attr))
    new_set = tlv(0x31, cms[so + sh:io] + new_si + cms[io + ih + isn:so + sh + sn])
    new_sd = tlv(0x30, cms[o1 + h1:so] + new_set)
    new_exp = tlv(0xA0, new_sd)
    return tlv(0x30, cms[h:o0] + new_exp)


# --- certificates ---------------------------------------------------------

APP_EXT = """[ app ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
certificatePolicies = 1.2.840.113635.100.5.1
1.2.840.113635.100.6.1.13 = critical, DER:05:00
"""


def app_cert(pki, team, name, work):
    """A Developer ID Application certificate for team (cached in work)."""
    cert = os.path.join(work, "app-%s.pem" % team)
    if os.path.exists(cert):
        return cert
    ext = os.path.join(work, "app.cnf")
    with open(ext, "w") as f:
        f.write(APP_EXT)
    csr = os.path.join(work, "app-%s.csr" % team)
    run(["openssl", "req", "-new", "-key", os.path.join(pki, "leaf.key"),
         "-subj", "/CN=Developer ID Application: %s (%s)/OU=%s/O=%s/C=US"
         % (name, team, team, name), "-out", csr])
    run(["openssl", "x509", "-req", "-in", csr, "-CA",
         os.path.join(pki, "ca.pem"), "-CAkey", os.path.join(pki, "ca.key"),
         "-set_serial", str(0x5000 + len(team) + sum(map(ord, team))),
         "-days", "36500", "-extfile", ext, "-extensions", "app", "-out", cert])
    return cert


def cms_sign(cd, cert, key, chain, work):
    p = os.path.join(work, "cd.bin")
    with open(p, "wb") as f:
        f.write(cd)
    return run(["openssl", "cms", "-sign", "-binary", "-md", "sha256",
                "-nosmimecap", "-signer", cert, "-inkey", key, "-certfile",
                chain, "-outform", "DER", "-in", p])


# --- code signature -------------------------------------------------------

def blob(magic, body):
    return struct.pack(">II", magic, 8 + len(body)) + body


def code_directory(code, ident, team, flags, hash_type, version, special):
    """CodeDirectory over code (bytes before the signature); special maps
    slot numbers (1..n) to the blob whose hash goes there."""
    h, size = (hashlib.sha1, 20) if hash_type == 1 else (hashlib.sha256, 32)
    nspecial = max(special) if special else 0
    hdr = {0x20200: 52, 0x20400: 88, 0x20500: 96}[version]
    ident_b = ident.encode() + b"\0"
    team_b = team.encode() + b"\0" if team else b""
    ident_off = hdr
    team_off = hdr + len(ident_b) if team else 0
    hash_off = hdr + len(ident_b) + len(team_b) + nspecial * size
    ncode = (len(code) + PAGE - 1) // PAGE
    length = hash_off + ncode * size
    out = struct.pack(">IIIIIIIIIBBBBI", 0xFADE0C02, length, version, flags,
                      hash_off, ident_off, nspecial, ncode, len(code), size,
                      hash_type, 0, 12, 0)
    out += struct.pack(">II", 0, team_off)             # scatter, team
    if version >= 0x20400:
        out += struct.pack(">IQQQQ", 0, 0, 0, 0, 0)    # spare3, codeLimit64, execSeg*
    if version >= 0x20500:
        out += struct.pack(">II", ver("11.0"), 0)      # runtime, preEncrypt
    assert len(out) == hdr, (len(out), hdr)
    out += ident_b + team_b
    for slot in range(nspecial, 0, -1):
        b = special.get(slot)
        out += h(b).digest()[:size] if b else b"\0" * size
    for i in range(ncode):
        out += h(code[i * PAGE:(i + 1) * PAGE]).digest()[:size]
    assert len(out) == length
    return out


def superblob(blobs):
    """blobs: [(slot type, blob bytes)]."""
    off = 12 + 8 * len(blobs)
    index, body = b"", b""
    for t, b in blobs:
        index += struct.pack(">II", t, off + len(body))
        body += b
    return struct.pack(">III", 0xFADE0CC0, 12 + len(index) + len(body),
                       len(blobs)) + index + body


ENTS = {"com.apple.security.cs.allow-jit": True}


def signature(code, opt, ctx):
    ents_d = dict(ENTS)
    if opt.get("get_task_allow"):
        ents_d["com.apple.security.get-task-allow"] = True
    ents = blob(0xFADE7171, plistlib.dumps(ents_d, fmt=plistlib.FMT_XML))
    reqs = blob(0xFADE0C01, struct.pack(">I", 0))
    adhoc = opt.get("adhoc")
    flags = (CS_ADHOC if adhoc else 0) | (0 if opt.get("no_runtime") else CS_RUNTIME)
    team = None if adhoc else opt.get("team", TEAM)
    cd = code_directory(code, opt.get("ident", "org.example.tool"), team,
                        flags, opt.get("hash_type", 2),
                        opt.get("cd_version", 0x20500), {2: reqs, 5: ents})
    if adhoc:
        cms = b""
    else:
        pki, work = ctx
        if opt.get("not_devid"):
            cert = os.path.join(pki, "leaf.pem")
        else:
            cert = app_cert(pki, team, "pkgflat Test" if team == TEAM
                            else "Other Team", work)
        signed_cd = cd
        if opt.get("bad_cms"):
            signed_cd = cd[:-1] + bytes([cd[-1] ^ 1])
        cms = cms_sign(signed_cd, cert, os.path.join(pki, "leaf.key"),
                       os.path.join(pki, "chain.pem"), work)
        if not opt.get("no_timestamp"):
            cms = add_timestamp(cms, os.path.join(pki, "tsa.cnf"))
    return superblob([(0, cd), (2, reqs), (5, ents),
                      (0x10000, blob(0xFADE0B01, cms))])


# --- Mach-O ---------------------------------------------------------------

def thin(cpu, opt, ctx, filetype=MH_EXECUTE):
    """A thin Mach-O; opt: signed, sdk, minos, min_macosx, big_endian,
    bits (32/64), sub, lcmds_extra, and the signature options."""
    be = opt.get("big_endian", False)
    e = ">" if be else "<"
    bits64 = opt.get("bits", 64) == 64
    hsize = 32 if bits64 else 28
    lcmds = b""
    if opt.get("min_macosx"):
        lcmds += struct.pack(e + "IIII", LC_VERSION_MIN_MACOSX, 16,
                             ver(opt["minos"]), ver(opt["sdk"]))
    elif opt.get("sdk"):
        lcmds += struct.pack(e + "IIIIII", LC_BUILD_VERSION, 24, 1,
                             ver(opt.get("minos", "10.13")), ver(opt["sdk"]), 0)
    lcmds += opt.get("lcmds_extra", b"")
    signed = opt.get("signed", True)
    ncmds = (1 if opt.get("min_macosx") or opt.get("sdk") else 0) + \
        opt.get("extra_ncmds", 0) + (1 if signed else 0)
    sizeofcmds = len(lcmds) + (16 if signed else 0)
    body = bytes((i * 131 + 7) & 0xFF for i in range(3 * PAGE + 100))
    code_end = hsize + sizeofcmds + len(body)
    code_end += -code_end % 16
    magic = 0xFEEDFACF if bits64 else 0xFEEDFACE
    hdr = struct.pack(e + "IIIIIII", magic, cpu, opt.get("sub", SUB.get(cpu, 0)),
                      filetype, ncmds, sizeofcmds, 0x00200085)
    if bits64:
        hdr += b"\0" * 4
    if not signed:
        return (hdr + lcmds + body).ljust(code_end, b"\0")
    # The signature's size is known only once it is made: sign with a
    # placeholder size first (it only goes into the load command, which
    # the code hashes cover), then again with the real one.
    sig_size = 0
    for _ in range(3):
        cs = struct.pack(e + "IIII", LC_CODE_SIGNATURE, 16,
                         opt.get("sig_off", code_end), sig_size)
        code = (hdr + lcmds + cs + body).ljust(code_end, b"\0")
        sig = signature(code, opt, ctx)
        size = len(sig) + (-len(sig) % 16)
        if size == sig_size:
            break
        sig_size = size
    return code + sig.ljust(sig_size, b"\0")


def fat(slices, fat64=False):
    """slices: [(cpu, sub, bytes)], each at a page boundary."""
    rec = 32 if fat64 else 20
    pos = 8 + rec * len(slices)
    pos += -pos % PAGE
    recs, layout = b"", []
    for cpu, sub, b in slices:
        if fat64:
            recs += struct.pack(">IIQQII", cpu, sub, pos, len(b), 12, 0)
        else:
            recs += struct.pack(">IIIII", cpu, sub, pos, len(b), 12)
        layout.append((pos, b))
        pos += len(b)
        pos += -pos % PAGE
    out = struct.pack(">II", 0xCAFEBABF if fat64 else 0xCAFEBABE,
                      len(slices)) + recs
    for p, b in layout:
        out = out.ljust(p, b"\0") + b
    return out


GOOD = {"sdk": "11.0", "minos": "10.13"}


def make(kind, ctx):
    g = dict(GOOD)
    if kind == "good":
        return thin(CPU_X86_64, g, ctx)
    if kind == "unsigned":
        return thin(CPU_X86_64, dict(g, signed=False), ctx)
    simple = {"adhoc": {"adhoc": True}, "no-runtime": {"no_runtime": True},
              "no-timestamp": {"no_timestamp": True},
              "get-task-allow": {"get_task_allow": True},
              "not-devid": {"not_devid": True},
              "other-team": {"team": OTHER_TEAM},
              "old-sdk": {"min_macosx": True, "minos": "10.6", "sdk": "10.8"},
              "bad-cms": {"bad_cms": True},
              "sha1-cd": {"hash_type": 1, "cd_version": 0x20200,
                          "no_runtime": False}}
    if kind in simple:
        return thin(CPU_X86_64, dict(g, **simple[kind]), ctx)
    if kind == "universal":
        return fat([(CPU_X86_64, 3, thin(CPU_X86_64, g, ctx)),
                    (CPU_ARM64, 0, thin(CPU_ARM64, g, ctx))])
    if kind == "universal-dylib":
        return fat([(CPU_X86_64, 3, thin(CPU_X86_64, g, ctx, MH_DYLIB)),
                    (CPU_ARM64, 0x80000002, thin(CPU_ARM64, dict(g, sub=0x80000002),
                                                 ctx, MH_DYLIB))], fat64=True)
    if kind == "x86_64-ext":
        return thin(CPU_X86_64, dict(g, ident="_ssl"), ctx, MH_BUNDLE)
    if kind == "ppc-be":
        return thin(CPU_PPC, {"signed": False, "big_endian": True, "bits": 32}, ctx)
    if kind == "i386-ppc":
        return fat([(CPU_I386, 3, thin(CPU_I386, {"signed": False, "bits": 32}, ctx)),
                    (CPU_PPC, 10, thin(CPU_PPC, {"signed": False, "big_endian": True,
                                                  "bits": 32, "sub": 10}, ctx))])
    if kind == "trunc-lcmds":
        return thin(CPU_X86_64, g, ctx)[:40]
    if kind == "bad-cmdsize":
        b = bytearray(thin(CPU_X86_64, dict(g, signed=False), ctx))
        struct.pack_into("<I", b, 32 + 4, 4000)        # first cmdsize
        return bytes(b)
    if kind == "trunc-sig":
        b = thin(CPU_X86_64, g, ctx)
        return b[:len(b) - 600]
    if kind == "bad-sig-magic":
        b = bytearray(thin(CPU_X86_64, g, ctx))
        off = struct.unpack_from("<I", b, 32 + 24 + 8)[0]
        struct.pack_into(">I", b, off, 0xFADE0CC1)
        return bytes(b)
    if kind == "code-modified":
        b = bytearray(thin(CPU_X86_64, g, ctx))
        b[PAGE + 904] ^= 0x10
        return bytes(b)
    if kind == "back-sig":
        return thin(CPU_X86_64, dict(g, sig_off=40), ctx)
    sys.exit("mkmacho: unknown kind %r" % kind)


def bundle(dest, ident, files):
    """A legacy component bundle at dest whose payload (gzip'd odc cpio,
    made by mklegacy.cpio) installs files [(path, bytes)] under
    /usr/local/lib/ident."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from mklegacy import cpio, write, DIR, FILE
    entries = [(".", DIR | 0o755, 0, 0, b"")]
    dirs = set()
    for path, data in files:
        parts = path.split("/")
        for i in range(1, len(parts)):
            d = "./" + "/".join(parts[:i])
            if d not in dirs:
                dirs.add(d)
                entries.append((d, DIR | 0o755, 0, 0, b""))
        entries.append(("./" + path, FILE | 0o755, 0, 0, data))
    c = os.path.join(dest, "Contents")
    write(os.path.join(c, "PkgInfo"), "pmkrpkg1")
    write(os.path.join(c, "Info.plist"), plistlib.dumps({
        "CFBundleIdentifier": ident, "CFBundleShortVersionString": "1.0",
        "IFPkgFlagDefaultLocation": "/", "IFPkgFlagAuthorizationAction":
        "RootAuthorization", "IFPkgFormatVersion": 0.10000000149011612}))
    write(os.path.join(c, "Archive.pax.gz"), cpio(entries))


def fixture(kind, ctx):
    """KIND made now, or a file already made (a path with a slash)."""
    if "/" in kind:
        with open(kind, "rb") as f:
            return f.read()
    return make(kind, ctx)


def main(argv):
    pki = None
    if len(argv) > 2 and argv[0] == "--pki":
        pki = os.path.abspath(argv[1])
        argv = argv[2:]
    if len(argv) > 3 and argv[0] == "--bundle":
        # --bundle DEST IDENT PATH=KIND...: a bundle holding fixtures
        with tempfile.TemporaryDirectory(prefix="mkmacho.") as work:
            bundle(argv[1], argv[2], [
                (a.split("=", 1)[0], fixture(a.split("=", 1)[1], (pki, work)))
                for a in argv[3:]])
        return
    if len(argv) < 2:
        sys.exit(__doc__)
    out = argv[0]
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mkmacho.") as work:
        for kind in argv[1:]:
            data = make(kind, (pki, work))
            with open(os.path.join(out, kind), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main(sys.argv[1:])
