"""Write HFS+/HFSX volumes and disk images from a directory tree, with the
Python standard library only, from Apple's TN1150 and the UDIF layout
(independent of the C reader it tests).

usage: mkimage.py [options] SRCDIR OUT

  --hfsx               HFSX (case-sensitive, binary key order) instead of HFS+
  --no-attributes      no attributes B-tree (2005-2008 images have none)
  --decmpfs PATH       store PATH (relative to SRCDIR) HFS+-compressed:
                       zlib in the decmpfs attribute (small files) or in the
                       resource fork (--decmpfs-rsrc); needs attributes
  --decmpfs-rsrc       use resource-fork chunks for --decmpfs files
  --fragment PATH      spread PATH's data over 10 extents (extents overflow)
  --dir-link NEW=DIR   add a directory hard link NEW to directory DIR
  --xattr PATH         give PATH an extended attribute (a report item)
  --rsrc PATH          give PATH a resource fork (a report item)
  --volname NAME       volume name (default "Image")
  --map none|apm|gpt   partition map around the volume (default none)
  --format raw|gz|udif (default udif)
  --codec zlib|bzip2|adc|lzma|raw   UDIF run codec (default zlib)
  --journaled-dirty    mark the volume journaled and not cleanly unmounted
  --damage KIND        write a malformed image (the list is in DAMAGE)
  --refused KIND       write an image of a kind the reader refuses
  --node-size N        B-tree node size (default 4096)
  --block-size N       allocation block size (default 4096)
  --min-blocks N       volume size floor in blocks (default 256)
  --zlib-level N       zlib level of UDIF zlib runs (default 9; hdiutil's
                       UDZO uses 1 unless told otherwise)
  --stream             write OUT block by block, sparse where the volume is
                       free, copying file data from SRCDIR as it goes, so a
                       volume of gigabytes never sits in memory (benchmarks);
                       --format raw or udif, no --damage
  --raw-out PATH       with --stream --format udif: keep the raw disk the
                       UDIF is made from at PATH

Hard links in SRCDIR (files sharing an inode) become HFS+ file hard links;
symlinks become HFS+ symlinks. Names are written as they are in SRCDIR
(so NFD names stay NFD).
"""
import argparse
import base64
import bz2
import gzip
import io
import lzma
import os
import stat
import struct
import sys
import zlib

BS = 4096
HFS_EPOCH = 2082844800
DATE = 1000000000 + HFS_EPOCH


def u16name(s):
    b = s.encode("utf-16-be")
    return struct.pack(">H", len(b) // 2) + b


def fold_key(name):
    # Close enough to FastUnicodeCompare for the names the tests use.
    return [ord(c) for c in name.lower()]


class BTree:
    """Pack sorted (key, data) leaf records into nodes, build index levels."""

    def __init__(self, node_size, max_key, compare_type, attrs, index_keys):
        self.ns = node_size
        self.max_key = max_key
        self.ctype = compare_type
        self.attrs = attrs
        self.index_keys = index_keys

    def node(self, kind, height, recs, flink=0, blink=0):
        out = bytearray(struct.pack(">IIbBHH", flink, blink, kind, height,
                                    len(recs), 0))
        offs = []
        for r in recs:
            offs.append(len(out))
            out += r
        offs.append(len(out))
        assert len(out) + 2 * len(offs) <= self.ns, "node overflow"
        out += bytes(self.ns - len(out) - 2 * len(offs))
        for o in reversed(offs):
            out += struct.pack(">H", o)
        return out

    def pack(self, recs):
        """recs: [(keybytes_with_len, data)]. Returns (nodes, header fields)."""
        levels = []
        cur = []   # list of nodes; each node: list of records
        for k, d in recs:
            r = k + d
            size = sum(len(x) + 2 for x in cur[-1]) if cur else 0
            if not cur or 14 + size + len(r) + 2 + 2 > self.ns:
                cur.append([])
            cur[-1].append(r)
        levels.append([(n, [r[:2 + struct.unpack(">H", r[:2])[0]]
                            for r in n]) for n in cur])
        while len(levels[-1]) > 1:
            below = levels[-1]
            idx = []
            for i, (_, keys) in enumerate(below):
                k = keys[0]
                if not self.index_keys:
                    k = struct.pack(">H", self.max_key) + k[2:] + bytes(
                        self.max_key - (len(k) - 2))
                idx.append((k, i))
            level = []
            for k, i in idx:
                r = k + struct.pack(">I", i)
                size = sum(len(x) + 2 for x, _ in level[-1]) if level else 0
                if not level or 14 + size + len(r) + 4 > self.ns:
                    level.append([])
                level[-1].append((r, i))
            levels.append([(n, [r[:2 + struct.unpack(">H", r[:2])[0]]
                                for r, _ in n]) for n in level])
        # number nodes: header 0, leaves, then each index level upwards
        num = 1
        numbers = []
        for lv in levels:
            numbers.append(list(range(num, num + len(lv))))
            num += len(lv)
        total = num
        nodes = [None] * total
        for h, lv in enumerate(levels):
            kind = -1 if h == 0 else 0
            for j, (recs_, _) in enumerate(lv):
                if h > 0:
                    fixed = []
                    for r, child in recs_:
                        fixed.append(r[:-4] + struct.pack(
                            ">I", numbers[h - 1][child]))
                    recs_ = fixed
                fl = numbers[h][j + 1] if j + 1 < len(lv) else 0
                bl = numbers[h][j - 1] if j > 0 else 0
                nodes[numbers[h][j]] = self.node(kind, h + 1, recs_, fl, bl)
        depth = len(levels) if recs else 0
        root = numbers[-1][0] if recs else 0
        first = numbers[0][0] if recs else 0
        last = numbers[0][-1] if recs else 0
        if not recs:
            nodes = [None]
            total = 1
        total_nodes = max(total, 8)
        hdr = struct.pack(">HIIIIHHII", depth, root, len(recs), first, last,
                          self.ns, self.max_key, total_nodes,
                          total_nodes - total)
        hdr += struct.pack(">HIBBI", 0, self.ns, 0, self.ctype, self.attrs)
        hdr += bytes(64)
        assert len(hdr) == 106
        maplen = self.ns - 8 - 248
        mapbits = bytearray(maplen)
        for i in range(total):
            mapbits[i // 8] |= 0x80 >> (i % 8)
        nodes[0] = self.node(1, 0, [hdr, bytes(128), bytes(mapbits)])
        blank = bytes(self.ns)
        out = b"".join(nodes) + blank * (total_nodes - total)
        return out


def catalog_key(parent, name):
    body = struct.pack(">I", parent) + u16name(name)
    return struct.pack(">H", len(body)) + body


def bsd(uid, gid, mode, special, owner_flags=0):
    return struct.pack(">IIBBHI", uid, gid, 0, owner_flags, mode, special)


def fork(size, extents, clump=0):
    ext = list(extents)[:8]
    ext += [(0, 0)] * (8 - len(ext))
    total = sum(c for _, c in extents)
    return struct.pack(">QII", size, clump, total) + b"".join(
        struct.pack(">II", s, c) for s, c in ext)


class FileData:
    """A file's contents by reference (--stream): copied when the volume is
    written, never read whole."""

    def __init__(self, path):
        self.path = path
        self.size = os.path.getsize(path)

    def __len__(self):
        return self.size


class Volume:
    def __init__(self, args):
        self.a = args
        self.next_id = 16
        self.recs = []        # (parent, name, record bytes, thread)
        self.files = 0
        self.folders = 0
        self.blocks = []      # data to place: (list of extents filled later)
        self.data = {}        # block -> bytes
        self.lazy = []        # (first block, FileData), contiguous
        self.next_block = (1536 + BS - 1) // BS   # the volume header
        self.overflow = []    # (fileID, forktype, startblock, extents)
        self.attrs = []       # (fileID, name, data)

    def alloc(self, data, fragment=False, cnid=0, ftype=0):
        if not data:
            return []
        n = (len(data) + BS - 1) // BS
        if isinstance(data, FileData):
            if fragment:
                with open(data.path, "rb") as f:
                    data = f.read()
            else:
                self.lazy.append((self.next_block, data))
                self.next_block += n
                return [(self.next_block - n, n)]
        if not fragment:
            start = self.next_block
            for i in range(n):
                self.data[start + i] = data[i * BS:(i + 1) * BS]
            self.next_block += n
            return [(start, n)]
        # one block per extent, with a gap between them
        exts = []
        for i in range(n):
            b = self.next_block
            self.data[b] = data[i * BS:(i + 1) * BS]
            self.next_block += 2
            exts.append((b, 1))
        if len(exts) > 8:
            done = 8
            while done < len(exts):
                self.overflow.append((cnid, ftype, done, exts[done:done + 8]))
                done += 8
        return exts

    def newid(self):
        i = self.next_id
        self.next_id += 1
        return i

    def add_folder(self, parent, name, cnid, mode=0o40755, valence=0,
                   finfo=bytes(32)):
        rec = struct.pack(">hHII", 1, 0, valence, cnid)
        rec += struct.pack(">5I", DATE, DATE, DATE, DATE, 0)
        rec += bsd(0, 80, mode, 0) + finfo + struct.pack(">II", 0, 0)
        self.recs.append((parent, name, rec))
        self.recs.append((cnid, "", struct.pack(">hhI", 3, 0, parent) +
                          u16name(name)))
        if cnid != 2:
            self.folders += 1

    def add_file(self, parent, name, cnid, data=b"", mode=0o100644,
                 ftype=b"\0" * 4, creator=b"\0" * 4, special=0, flags=0,
                 fragment=False, rsrc=b"", owner_flags=0, finder_flags=0):
        exts = self.alloc(data, fragment, cnid, 0)
        rexts = self.alloc(rsrc, False, cnid, 0xff)
        rec = struct.pack(">hHII", 2, flags, 0, cnid)
        rec += struct.pack(">5I", DATE, DATE, DATE, DATE, 0)
        rec += bsd(0, 80, mode, special, owner_flags)
        rec += ftype + creator + struct.pack(">H", finder_flags) + bytes(6)
        rec += bytes(16) + struct.pack(">II", 0, 0)
        rec += fork(len(data), exts) + fork(len(rsrc), rexts)
        assert len(rec) == 248
        self.recs.append((parent, name, rec))
        self.recs.append((cnid, "", struct.pack(">hhI", 4, 0, parent) +
                          u16name(name)))
        self.files += 1


def decmpfs(data, rsrc_mode):
    if not rsrc_mode:
        z = zlib.compress(data, 9)
        return struct.pack("<4sIQ", b"fpmc", 3, len(data)) + z, b""
    chunks = [data[i:i + 65536] for i in range(0, len(data), 65536)]
    blobs = [zlib.compress(c, 9) for c in chunks]
    table = struct.pack("<I", len(chunks))
    off = 4 + 8 * len(chunks)
    body = b""
    for b in blobs:
        table += struct.pack("<II", off + len(body), len(b))
        body += b
    res = table + body
    # resource fork: header, then at 0x100 the resource's length and data
    head = struct.pack(">IIII", 0x100, 0x100 + 4 + len(res), 4 + len(res), 50)
    # the resource map: one type, 'cmpf', with one resource (id 1)
    rmap = head + struct.pack(">IHHHH", 0, 0, 0, 28, 50)
    rmap += struct.pack(">H4sHH", 0, b"cmpf", 0, 10)
    rmap += struct.pack(">HHII", 1, 0xffff, 0, 0)
    assert len(rmap) == 50
    rsrc = head + bytes(0x100 - 16) + struct.pack(">I", len(res)) + res + rmap
    return struct.pack("<4sIQ", b"fpmc", 4, len(data)), rsrc


def build_volume(args):
    v = Volume(args)
    src = args.src
    inodes = {}           # (dev, ino) -> (link id, data)
    dir_links = dict(x.split("=", 1) for x in args.dir_link)
    private_files = None
    private_dirs = None
    dir_cnids = {}
    pending_links = []

    def contents(p, r):
        if args.stream and r not in args.decmpfs and r not in args.fragment:
            return FileData(p)
        with open(p, "rb") as f:
            return f.read()

    def walk(path, rel, parent):
        names = sorted(os.listdir(path))
        for n in names:
            p = os.path.join(path, n)
            r = rel + "/" + n if rel else n
            st = os.lstat(p)
            cnid = v.newid()
            hname = n.replace(":", "/")
            if stat.S_ISLNK(st.st_mode):
                v.add_file(parent, hname, cnid, os.readlink(p).encode(),
                           mode=0o120755, ftype=b"slnk", creator=b"rhap")
            elif stat.S_ISDIR(st.st_mode):
                dir_cnids[r] = cnid
                v.add_folder(parent, hname, cnid, 0o40000 | (st.st_mode & 0o7777),
                             len(os.listdir(p)))
                walk(p, r, cnid)
            else:
                data = contents(p, r)
                mode = 0o100000 | (st.st_mode & 0o7777)
                if st.st_nlink > 1:
                    key = (st.st_dev, st.st_ino)
                    if key not in inodes:
                        inodes[key] = [v.newid(), data, mode, 0]
                    inodes[key][3] += 1
                    v.add_file(parent, hname, cnid, mode=0o100644,
                               ftype=b"hlnk", creator=b"hfs+",
                               special=inodes[key][0], flags=0x20,
                               finder_flags=0x0100)
                    continue
                rsrc = b""
                owner_flags = 0
                if r in args.decmpfs:
                    hdr, rsrc = decmpfs(data, args.decmpfs_rsrc)
                    v.attrs.append((cnid, "com.apple.decmpfs", hdr))
                    data = b""
                    owner_flags = 0x20
                if r in args.rsrc:
                    rsrc = b"resource fork of " + r.encode()
                if r in args.xattr:
                    v.attrs.append((cnid, "org.example.note", b"note"))
                v.add_file(parent, hname, cnid, data, mode,
                           fragment=r in args.fragment, rsrc=rsrc,
                           owner_flags=owner_flags)

    v.add_folder(1, args.volname, 2, 0o40755, len(os.listdir(src)))
    walk(src, "", 2)
    if inodes:
        private_files = v.newid()
        v.add_folder(2, "\0\0\0\0HFS+ Private Data", private_files, 0o40000,
                     len(inodes))
        for key, (lid, data, mode, count) in inodes.items():
            v.add_file(private_files, "iNode%d" % lid, lid, data, mode,
                       special=count)
    if dir_links:
        private_dirs = v.newid()
        v.add_folder(2, ".HFS+ Private Directory Data\r", private_dirs,
                     0o41333, len(dir_links))
        for new, target in dir_links.items():
            # the target folder moves into the private folder as dir_N,
            # and both names become links to it
            tid = dir_cnids[target]
            for i, (par, name, rec) in enumerate(v.recs):
                if rec[:2] == b"\x00\x01" and struct.unpack(">I", rec[8:12])[0] == tid:
                    old_parent, old_name = par, name
                    v.recs[i] = (private_dirs, "dir_%d" % tid, rec)
                if par == tid and name == "":
                    v.recs[i] = (par, "", struct.pack(">hhI", 3, 0, private_dirs)
                                 + u16name("dir_%d" % tid))
            for par, name in ((old_parent, old_name),
                              (dir_cnids.get(os.path.dirname(new), 2),
                               os.path.basename(new))):
                v.add_file(par, name, v.newid(), ftype=b"fdrp",
                           creator=b"MACS", special=tid, flags=0x20,
                           finder_flags=0x8000)
    return v


def write_volume(args):
    """The volume as (size in bytes, [(offset, bytes or FileData)]): the
    pieces that are not zero, in the order they are written."""
    v = build_volume(args)
    hfsx = args.hfsx
    # catalog order: parent, then name (binary for HFSX, folded for HFS+)
    def order(r):
        par, name, _ = r
        u = name.encode("utf-16-be")
        units = [int.from_bytes(u[i:i + 2], "big") for i in range(0, len(u), 2)]
        return (par, units if hfsx else fold_key(name))
    recs = sorted(v.recs, key=order)
    if args.damage == "fork-extents":
        for i, (p, n, d) in enumerate(recs):
            if d[:2] == b"\x00\x02" and struct.unpack(">Q", d[88:96])[0]:
                size = struct.unpack(">Q", d[88:96])[0] + 16 * BS
                recs[i] = (p, n, d[:88] + struct.pack(">Q", size) + d[96:])
                break
    cat = bytearray(BTree(args.node_size, 516, 0xBC if hfsx else 0xCF, 6,
                          True).pack([(catalog_key(p, n), d)
                                       for p, n, d in recs]))
    ns = args.node_size
    if args.damage == "node-range":
        cat[14 + 10:14 + 14] = struct.pack(">I", 100000)
    if args.damage == "leaf-cycle":
        cat[ns:ns + 4] = struct.pack(">I", 1)
    if args.damage == "record-count":
        cat[ns + 10:ns + 12] = struct.pack(">H", 0xffff)
    if args.damage == "node-count":
        cat[14 + 22:14 + 26] = struct.pack(">I", 0xfffffff0)
    cat = bytes(cat)
    ext_recs = []
    for fid, ft, start, exts in sorted(v.overflow):
        body = struct.pack(">BBII", ft, 0, fid, start)
        k = struct.pack(">H", len(body)) + body
        d = b"".join(struct.pack(">II", s, c) for s, c in exts)
        d += bytes(64 - len(d))
        ext_recs.append((k, d))
    ext = BTree(args.node_size, 10, 0, 2, False).pack(ext_recs)
    att = b""
    if not args.no_attributes:
        arecs = []
        for fid, name, data in sorted(v.attrs):
            body = struct.pack(">HII", 0, fid, 0) + u16name(name)
            k = struct.pack(">H", len(body)) + body
            d = struct.pack(">IIII", 0x10, 0, 0, len(data)) + data
            d += bytes(len(d) & 1)
            arecs.append((k, d))
        att = BTree(args.node_size, 266, 0, 6, True).pack(arecs)
    elif v.attrs:
        sys.exit("mkimage: --decmpfs/--xattr need the attributes B-tree")
    # place the special files after the data
    exts = {}
    for name, blob in (("ext", ext), ("cat", cat), ("att", att)):
        exts[name] = v.alloc(blob)
    data_end = v.next_block
    total = max(data_end + 64, args.min_blocks)
    bitmap_blocks = (total + 8 * BS - 1) // (8 * BS)
    bm_start = total - 2 - bitmap_blocks
    used = set(v.data)
    for s, f in v.lazy:
        used.update(range(s, s + (len(f) + BS - 1) // BS))
    for s, c in exts["ext"] + exts["cat"] + exts["att"]:
        used.update(range(s, s + c))
    used.update(range(bm_start, bm_start + bitmap_blocks))
    used.add(0)
    used.add(total - 1)
    bitmap = bytearray(bitmap_blocks * BS)
    for b in used:
        bitmap[b // 8] |= 0x80 >> (b % 8)
    pieces = [(b * BS, d) for b, d in v.data.items()]
    pieces += [(b * BS, f) for b, f in v.lazy]
    pieces.append((bm_start * BS, bytes(bitmap)))
    attrs = 0x100
    journal = 0
    if args.journaled_dirty:
        attrs = 0x2000
    vh = struct.pack(">2sHI4sI", b"HX" if hfsx else b"H+", 5 if hfsx else 4,
                     attrs, b"10.0", journal)
    vh += struct.pack(">4I", DATE, DATE, 0, DATE)
    vh += struct.pack(">II", v.files, v.folders)
    vh += struct.pack(">III", BS, total, total - len(used))
    vh += struct.pack(">IIII", data_end + 1, BS, BS, v.next_id)
    vh += struct.pack(">IQ", 1, 1)
    vh += bytes(32)
    vh += fork(len(bitmap), [(bm_start, bitmap_blocks)])
    vh += fork(len(ext), exts["ext"])
    vh += fork(len(cat), exts["cat"])
    vh += fork(len(att), exts["att"])
    vh += fork(0, [])
    assert len(vh) == 512, len(vh)
    pieces += [(1024, vh), (total * BS - 1024, vh)]
    return total * BS, pieces


COPY_BUF = 1 << 20


def piece_bytes(d):
    if isinstance(d, FileData):
        with open(d.path, "rb") as f:
            return f.read()
    return d


def volume_bytes(size, pieces):
    img = bytearray(size)
    for off, d in pieces:
        d = piece_bytes(d)
        img[off:off + len(d)] = d
    return bytes(img)


def write_pieces(out, base, pieces):
    """Write pieces at base in the file out; what lies between stays a hole."""
    for off, d in pieces:
        out.seek(base + off)
        if not isinstance(d, FileData):
            out.write(d)
            continue
        with open(d.path, "rb") as f:
            left = d.size
            while left:
                b = f.read(min(COPY_BUF, left))
                if not b:
                    sys.exit("mkimage: %s shrank while copying" % d.path)
                out.write(b)
                left -= len(b)


def apm(vol_size):
    """(bytes before the volume, bytes after it, blkx partitions)."""
    n = vol_size // 512
    start = 64
    total = start + n + 16
    ddm = struct.pack(">2sHI", b"ER", 512, total) + bytes(504)

    def ent(count, pstart, pcount, name, ptype):
        e = struct.pack(">2sHIII32s32sII", b"PM", 0, count, pstart, pcount,
                        name.encode(), ptype.encode(), 0, pcount)
        e += struct.pack(">I", 0x37)
        return e + bytes(512 - len(e))
    parts = [(1, 63, "Apple", "Apple_partition_map"),
             (start, n, "disk image", "Apple_HFS"),
             (start + n, 16, "", "Apple_Free")]
    out = bytearray(ddm)
    for ps, pc, nm, tp in parts:
        out += ent(len(parts), ps, pc, nm, tp)
    out += bytes(start * 512 - len(out))
    blkx = [("Driver Descriptor Map (DDM : 0)", 0, 1),
            ("Apple (Apple_partition_map : 1)", 1, 63),
            ("disk image (Apple_HFS : 2)", start, n),
            (" (Apple_Free : 3)", start + n, 16)]
    return bytes(out), bytes(16 * 512), blkx


def crc32le(b):
    return zlib.crc32(b) & 0xffffffff


def gpt(vol_size):
    """(bytes before the volume, bytes after it, blkx partitions)."""
    n = vol_size // 512
    first = 40
    total = first + n + 33
    hfs = bytes.fromhex("005346480000aa11aa1100306543ecac")
    entry = hfs + bytes(range(16)) + struct.pack("<QQQ", first, first + n - 1, 0)
    entry += "disk image".encode("utf-16-le").ljust(72, b"\0")
    entries = entry + bytes(128 * 128 - len(entry))

    def header(cur, alt, table):
        h = struct.pack("<8sIIIIQQQQ16sQIII", b"EFI PART", 0x10000, 92, 0, 0,
                        cur, alt, 34, total - 34, bytes(range(16, 32)), table,
                        128, 128, crc32le(entries))
        h = h[:16] + struct.pack("<I", crc32le(h)) + h[20:]
        return h + bytes(512 - len(h))
    mbr = bytearray(512)
    mbr[446:462] = struct.pack("<BBBBBBBBII", 0, 0, 2, 0, 0xee, 0xff, 0xff,
                               0xff, 1, min(total - 1, 0xffffffff))
    mbr[510:512] = b"\x55\xaa"
    out = bytearray(mbr) + header(1, total - 1, 2) + entries
    out += bytes(first * 512 - len(out))
    return bytes(out), entries + header(total - 1, 1, total - 33), \
        [("whole disk", 0, total)]


def adc(data):
    out = bytearray()
    lit = bytearray()
    last = {}
    i = 0

    def flush():
        for j in range(0, len(lit), 128):
            c = lit[j:j + 128]
            out.append(0x80 | (len(c) - 1))
            out.extend(c)
        lit.clear()
    while i < len(data):
        k = data[i:i + 3]
        p = last.get(k)
        last[k] = i
        if p is not None and i - p <= 65536 and len(k) == 3:
            dist = i - p
            n = 3
            lim = 67 if dist > 1024 else 67
            while n < lim and i + n < len(data) and data[p + n] == data[i + n]:
                n += 1
            if n >= 4:
                flush()
                out += struct.pack(">BH", 0x40 | (n - 4), dist - 1)
                i += n
                continue
            if dist <= 1024:
                n = min(n, 18)
                flush()
                out += bytes([((n - 3) << 2) | ((dist - 1) >> 8),
                              (dist - 1) & 0xff])
                i += n
                continue
        lit.append(data[i])
        i += 1
    flush()
    return bytes(out)


ZLIB_LEVEL = 9

CODECS = {
    "zlib": (0x80000005, lambda d: zlib.compress(d, ZLIB_LEVEL)),
    "bzip2": (0x80000006, lambda d: bz2.compress(d, 9)),
    "adc": (0x80000004, adc),
    "lzma": (0x80000008, lambda d: lzma.compress(d, format=lzma.FORMAT_XZ)),
    "raw": (0x00000001, lambda d: d),
}


class DiskFile:
    """A raw disk in a file, sliced like bytes (--stream)."""

    def __init__(self, f):
        self.f = f
        self.size = os.fstat(f.fileno()).st_size

    def __len__(self):
        return self.size

    def __getitem__(self, sl):
        start, stop, _ = sl.indices(self.size)
        return os.pread(self.f.fileno(), max(0, stop - start), start)

    def data_end(self):
        """Where the zeros that end the disk start (holes skipped)."""
        fd = self.f.fileno()
        end, pos = 0, 0
        while True:
            try:
                pos = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:     # ENXIO: no data after pos
                break
            hole = os.lseek(fd, pos, os.SEEK_HOLE)
            end, pos = hole, hole
        while end > 0:
            k = min(COPY_BUF, end)
            b = os.pread(fd, k, end - k).rstrip(b"\0")
            if b:
                return end - k + len(b)
            end -= k
        return 0


def udif(disk, parts, codec, out, damage=None):
    """Write the UDIF of disk (bytes or a DiskFile) to the file out."""
    ctype, comp = CODECS[codec]
    if damage == "lzfse-run":
        ctype = 0x80000007
    chunk = 2048 * 512 if codec != "adc" else 256 * 512
    if damage in ("overlap", "gap"):
        chunk = 16 * 512
    fork_len = 0
    dcrc = 0
    data_end = (disk.data_end() if isinstance(disk, DiskFile)
                else len(disk.rstrip(b"\0")))
    tables = []
    for pno, (name, first, count) in enumerate(parts):
        runs = [struct.pack(">IIQQQQ", 0x7ffffffe, 0x2b626567, 0, 0, 0, 0)]
        crc = 0
        for s in range(0, count, chunk // 512):
            n = min(chunk // 512, count - s)
            d = disk[(first + s) * 512:(first + s + n) * 512]
            if d.count(0) == len(d):
                # trailing zeros are "ignore" in the last partition
                t = 2 if pno == len(parts) - 1 and s + n == count and \
                    (first + s) * 512 >= data_end else 0
                runs.append(struct.pack(">IIQQQQ", t, 0, s, n, fork_len, 0))
                if t == 0:
                    crc = zlib.crc32(d, crc)
                continue
            first_data = not any(struct.unpack(">I", r[:4])[0] == ctype
                                 for r in runs[1:])
            if first_data and damage == "short-run":
                c = comp(d[:-512])
            elif first_data and damage == "long-run":
                c = comp(d + bytes(512))
            else:
                c = comp(d)
            sec = s
            if not first_data and damage == "overlap" and s:
                sec = s - 1
            if not first_data and damage == "gap" and s:
                sec = s + 1
            runs.append(struct.pack(">IIQQQQ", ctype, 0, sec, n,
                                    fork_len + (1 << 30 if first_data and
                                                damage == "run-past-end" else 0),
                                    len(c)))
            out.write(c)
            fork_len += len(c)
            dcrc = zlib.crc32(c, dcrc)
            crc = zlib.crc32(d, crc)
        runs.append(struct.pack(">IIQQQQ", 0xffffffff, 0, count, 0, fork_len, 0))
        mish = struct.pack(">4sIQQQII", b"mish", 1, first, count, 0, 0,
                           len(runs) - 2)
        pcrc = crc ^ 1 if damage == "partition-crc" else crc
        mish += bytes(24) + struct.pack(">II", 2, 32) + struct.pack(">I", pcrc) + bytes(124)
        nruns = 0x7ffffff0 if damage == "run-count" else len(runs)
        mish += struct.pack(">I", nruns) + b"".join(runs)
        tables.append((name, pno - 1, mish, crc))
    xml = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" '
           '"http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
           '<plist version="1.0">', '<dict>', '\t<key>resource-fork</key>',
           '\t<dict>', '\t\t<key>blkx</key>', '\t\t<array>']
    for name, pid, mish, _ in tables:
        xml += ['\t\t\t<dict>', '\t\t\t\t<key>Attributes</key>',
                '\t\t\t\t<string>0x0050</string>', '\t\t\t\t<key>CFName</key>',
                '\t\t\t\t<string>%s</string>' % name, '\t\t\t\t<key>Data</key>',
                '\t\t\t\t<data>', base64.b64encode(mish).decode(),
                '\t\t\t\t</data>', '\t\t\t\t<key>ID</key>',
                '\t\t\t\t<string>%d</string>' % pid, '\t\t\t\t<key>Name</key>',
                '\t\t\t\t<string>%s</string>' % name, '\t\t\t</dict>']
    xml += ['\t\t</array>', '\t</dict>', '</dict>', '</plist>', '']
    xml = "\n".join(xml).encode()
    master = zlib.crc32(b"".join(struct.pack(">I", c) for *_, c in tables))
    if damage == "data-crc":
        dcrc ^= 1
    if damage == "master-crc":
        master ^= 1
    segs = 2 if damage == "segmented" else 1
    xoff = fork_len + (1 << 20 if damage == "xml-past-end" else 0)
    koly = struct.pack(">4sIIIQQQQQII16s", b"koly", 4, 512, 1, 0, 0, fork_len,
                       0, 0, 1, segs, bytes(range(16)))
    koly += struct.pack(">II", 2, 32) + struct.pack(">I", dcrc) + bytes(124)
    koly += struct.pack(">QQ", xoff, len(xml)) + bytes(120)
    koly += struct.pack(">II", 2, 32) + struct.pack(">I", master) + bytes(124)
    koly += struct.pack(">IQ", 1, len(disk) // 512) + bytes(12)
    assert len(koly) == 512, len(koly)
    out.write(xml)
    out.write(koly if damage != "truncated-trailer" else koly[:-200])


def refused(kind):
    """Images of the kinds the reader refuses, just enough to be named."""
    if kind == "encrypted":
        return b"encrcdsa" + struct.pack(">II", 2, 16) + bytes(4096)
    if kind == "encrypted-v1":
        return bytes(4096) + b"cdsaencr"
    if kind == "sparse":
        return b"sprs" + struct.pack(">II", 3, 2048) + bytes(4096)
    if kind == "ndif":
        # MacBinary II header: name, type 'rohd', creator 'ddsk'
        h = bytearray(128)
        h[1] = 8
        h[2:10] = b"Disk.img"
        h[65:69] = b"rohd"
        h[69:73] = b"ddsk"
        h[83:87] = struct.pack(">I", 4096)
        return bytes(h) + bytes(4096)
    if kind == "dc42":
        h = bytearray(84)
        h[0] = 4
        h[1:5] = b"Disk"
        h[64:68] = struct.pack(">I", 409600)
        h[82:84] = b"\x01\x00"
        return bytes(h) + bytes(409600)
    if kind == "apfs":
        vol = bytearray(64 * 1024)
        vol[32:36] = b"NXSB"
        head, tail, _ = gpt(len(vol))
        disk = head + bytes(vol) + tail
        i = disk.index(bytes.fromhex("005346480000aa11aa1100306543ecac"))
        apfs = bytes.fromhex("ef57347c0000aa11aa1100306543ecac")
        d = bytearray(disk)
        d[i:i + 16] = apfs
        return bytes(d)
    if kind == "classic-hfs":
        vol = bytearray(64 * 1024)
        vol[1024:1026] = b"BD"
        return bytes(vol)
    raise SystemExit("mkimage: unknown --refused kind " + kind)


DAMAGE = ["lzfse-run", "short-run", "long-run", "overlap", "gap",
          "run-past-end", "partition-crc", "run-count", "data-crc",
          "master-crc", "segmented", "xml-past-end", "truncated-trailer",
          "fork-extents", "node-range", "leaf-cycle", "record-count",
          "node-count"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("out")
    ap.add_argument("--hfsx", action="store_true")
    ap.add_argument("--no-attributes", action="store_true")
    ap.add_argument("--decmpfs", action="append", default=[])
    ap.add_argument("--decmpfs-rsrc", action="store_true")
    ap.add_argument("--fragment", action="append", default=[])
    ap.add_argument("--dir-link", action="append", default=[])
    ap.add_argument("--xattr", action="append", default=[])
    ap.add_argument("--rsrc", action="append", default=[])
    ap.add_argument("--volname", default="Image")
    ap.add_argument("--map", default="none", choices=["none", "apm", "gpt"])
    ap.add_argument("--format", default="udif", choices=["raw", "gz", "udif"])
    ap.add_argument("--codec", default="zlib", choices=sorted(CODECS))
    ap.add_argument("--journaled-dirty", action="store_true")
    ap.add_argument("--node-size", type=int, default=4096)
    ap.add_argument("--block-size", type=int, default=4096)
    ap.add_argument("--min-blocks", type=int, default=256)
    ap.add_argument("--zlib-level", type=int, default=9, choices=range(1, 10))
    ap.add_argument("--stream", action="store_true")
    ap.add_argument("--raw-out")
    ap.add_argument("--damage", help="write a malformed image: " + ", ".join(
        DAMAGE))
    ap.add_argument("--refused", help="write an image of a refused kind: "
                    "encrypted, encrypted-v1, sparse, ndif, dc42, apfs, "
                    "classic-hfs (SRCDIR is ignored)")
    args = ap.parse_args()
    if args.refused:
        with open(args.out, "wb") as f:
            f.write(refused(args.refused))
        return
    global BS, ZLIB_LEVEL
    BS = args.block_size
    ZLIB_LEVEL = args.zlib_level
    if args.stream and (args.format == "gz" or args.damage):
        sys.exit("mkimage: --stream writes --format raw or udif, undamaged")
    if args.raw_out and not (args.stream and args.format == "udif"):
        sys.exit("mkimage: --raw-out goes with --stream --format udif")
    vol_size, pieces = write_volume(args)
    if args.map == "apm":
        head, tail, parts = apm(vol_size)
    elif args.map == "gpt":
        head, tail, parts = gpt(vol_size)
    else:
        head, tail, parts = b"", b"", [("whole disk (Apple_HFS : 0)", 0,
                                        vol_size // 512)]
    if args.stream:
        stream(args, head, vol_size, pieces, tail, parts)
        return
    disk = head + volume_bytes(vol_size, pieces) + tail
    if args.format == "raw":
        out = disk
    elif args.format == "gz":
        out = gzip.compress(disk, mtime=0)
    else:
        buf = io.BytesIO()
        udif(disk, parts, args.codec, buf, args.damage)
        out = buf.getvalue()
    with open(args.out, "wb") as f:
        f.write(out)


def stream(args, head, vol_size, pieces, tail, parts):
    """--stream: the raw disk goes to a sparse file, the UDIF is made from
    it; each is written under a temporary name and renamed when complete."""
    raw = args.raw_out or args.out + ".raw"
    if args.format == "raw":
        raw = args.out
    tmp = raw + ".tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(head)
            write_pieces(f, len(head), pieces)
            f.seek(len(head) + vol_size)
            f.write(tail)
            f.truncate(len(head) + vol_size + len(tail))
        os.replace(tmp, raw)
        if args.format == "udif":
            tmp = args.out + ".tmp"
            with open(raw, "rb") as d, open(tmp, "wb") as f:
                udif(DiskFile(d), parts, args.codec, f)
            os.replace(tmp, args.out)
    finally:
        for p in (tmp, None if args.raw_out else args.out + ".raw"):
            if p and os.path.lexists(p):
                os.unlink(p)


if __name__ == "__main__":
    main()
