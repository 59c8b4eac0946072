/*
 * xarcheck: a test-only XAR checker, written from flat-format.md §1 and
 * sharing no code with the library's writer, so that it can judge it.
 *
 *   xarcheck FILE          check everything, print problems, exit 0 if none
 *   xarcheck --list FILE   also print one line per file entry:
 *                          path TAB type TAB encoding TAB length TAB size TAB offset
 *   xarcheck --toc FILE    print the raw TOC XML (no checks beyond inflating it)
 *
 * Checks: header (magic "xar!", size 28, version 1, cksum_alg 1/3/4); the
 * TOC inflates to exactly toc_length_uncompressed bytes, consuming exactly
 * toc_length_compressed bytes, and parses as <xar><toc>; the TOC <checksum>
 * style matches the header, its size matches the digest and the bytes at
 * its heap offset equal the hash of the compressed TOC; every <data> and
 * <ea> range, and every checksum/signature range, lies inside the heap and
 * no two overlap; each archived-checksum matches the stored bytes, each
 * extracted-checksum and <size> match the decoded bytes (x-gzip is zlib,
 * octet-stream is stored as is). Duplicate <name> elements are tolerated
 * (Apple writes them); bytes after the last range are reported, not
 * refused (stapled tickets, stale TOC text). Problems go to stderr as
 * "FILE: where: what"; exit 1 if any, 2 on usage errors, 3 if unreadable.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <zlib.h>

#define MAX_TOC (256u << 20)

static const char *fname;
static int problems;

static const unsigned char *file;   /* the whole archive, mapped */
static uint64_t file_size, heap_start, heap_size;

struct range {
	uint64_t off, len;
	char *what;
};
static struct range *ranges;
static size_t nranges, cap_ranges;

struct id_seen {
	char **v;
	size_t n, cap;
};
static struct id_seen ids;

static void problem(const char *where, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void problem(const char *where, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", fname);
	if (where && *where)
		fprintf(stderr, "%s: ", where);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	problems++;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fprintf(stderr, "xarcheck: out of memory\n");
		exit(3);
	}
	return p;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

static uint64_t rd_be(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* ------------------------------------------------------------------ */
/* XML helpers                                                        */

static int is_el(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE &&
	    !strcmp((const char *)n->name, name);
}

static xmlNode *child(const xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (is_el(c, name))
			return c;
	return NULL;
}

/* Text content, malloc'd; "" if none. */
static char *text(const xmlNode *n)
{
	xmlChar *t = n ? xmlNodeGetContent(n) : NULL;
	char *s = xstrdup(t ? (const char *)t : "");

	xmlFree(t);
	return s;
}

static char *attr(const xmlNode *n, const char *name)
{
	xmlChar *t = n ? xmlGetProp(n, (const xmlChar *)name) : NULL;
	char *s = t ? xstrdup((const char *)t) : NULL;

	xmlFree(t);
	return s;
}

/* A decimal number child element; 0 if missing or malformed (reported). */
static int num(const xmlNode *parent, const char *name, const char *where,
    uint64_t *out)
{
	xmlNode *c = child(parent, name);
	char *s;
	uint64_t v = 0;
	int ok = 1;

	*out = 0;
	if (!c) {
		problem(where, "no <%s>", name);
		return 0;
	}
	s = text(c);
	if (!*s)
		ok = 0;
	for (const char *p = s; *p && ok; p++) {
		if (*p < '0' || *p > '9' || v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			ok = 0;
		else
			v = v * 10 + (uint64_t)(*p - '0');
	}
	if (!ok)
		problem(where, "<%s> is not a decimal number: \"%s\"", name, s);
	free(s);
	*out = v;
	return ok;
}

/* ------------------------------------------------------------------ */
/* Hashes                                                             */

static const EVP_MD *md_by_style(const char *style)
{
	static const struct {
		const char *name;
		const EVP_MD *(*fn)(void);
	} t[] = {
		{ "sha1", EVP_sha1 }, { "sha256", EVP_sha256 },
		{ "sha512", EVP_sha512 }, { "sha224", EVP_sha224 },
		{ "sha384", EVP_sha384 }, { "md5", EVP_md5 },
	};

	for (size_t i = 0; style && i < sizeof t / sizeof *t; i++)
		if (!strcasecmp(style, t[i].name))
			return t[i].fn();
	return NULL;
}

static void tohex(char *out, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

/* Compares a digest with a checksum element's text (hex, any case). */
static void check_digest(const char *where, const char *what,
    const char *want, const unsigned char *got, unsigned int len)
{
	char h[2 * EVP_MAX_MD_SIZE + 1];

	tohex(h, got, len);
	if (strcasecmp(want, h) != 0)
		problem(where, "%s mismatch: toc says %s, bytes hash to %s",
		    what, want, h);
}

/* ------------------------------------------------------------------ */
/* Heap ranges                                                        */

/* Records a range; returns 1 if it lies inside the heap. */
static int add_range(const char *where, const char *what, uint64_t off,
    uint64_t len)
{
	if (off > heap_size || len > heap_size - off) {
		problem(where, "%s range %" PRIu64 "+%" PRIu64
		    " runs past the end of the heap (%" PRIu64 " bytes)",
		    what, off, len, heap_size);
		return 0;
	}
	if (nranges == cap_ranges) {
		cap_ranges = cap_ranges ? 2 * cap_ranges : 16;
		ranges = realloc(ranges, cap_ranges * sizeof *ranges);
		if (!ranges) {
			fprintf(stderr, "xarcheck: out of memory\n");
			exit(3);
		}
	}
	size_t n = strlen(where) + strlen(what) + 4;
	char *s = xmalloc(n);
	snprintf(s, n, "%s %s", where, what);
	ranges[nranges].off = off;
	ranges[nranges].len = len;
	ranges[nranges].what = s;
	nranges++;
	return 1;
}

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* Returns the end of the last range. */
static uint64_t check_overlaps(void)
{
	uint64_t end = 0;
	const struct range *last = NULL;

	qsort(ranges, nranges, sizeof *ranges, cmp_range);
	for (size_t i = 0; i < nranges; i++) {
		const struct range *r = &ranges[i];
		if (last && r->len && r->off < last->off + last->len)
			problem("heap", "%s (%" PRIu64 "+%" PRIu64 ") overlaps %s (%"
			    PRIu64 "+%" PRIu64 ")", r->what, r->off, r->len,
			    last->what, last->off, last->len);
		if (r->len && (!last || r->off + r->len > last->off + last->len))
			last = r;
		if (r->off + r->len > end)
			end = r->off + r->len;
	}
	return end;
}

/* ------------------------------------------------------------------ */
/* Entries                                                            */

/* Checks one <data> or <ea>; fills the listing fields. */
static void check_data(const xmlNode *d, const char *where, const char *what,
    char **enc_out, uint64_t *len_out, uint64_t *size_out, uint64_t *off_out)
{
	uint64_t off, len, size;
	xmlNode *e = child(d, "encoding");
	char *enc = e ? attr(e, "style") : NULL;
	xmlNode *ac = child(d, "archived-checksum");
	xmlNode *xc = child(d, "extracted-checksum");
	int ok = num(d, "offset", where, &off) & num(d, "length", where, &len) &
	    num(d, "size", where, &size);

	*enc_out = enc ? xstrdup(enc) : xstrdup("-");
	*len_out = len;
	*size_out = size;
	*off_out = off;
	if (!enc)
		problem(where, "%s has no <encoding style>", what);
	if (!ok || !add_range(where, what, off, len))
		goto out;
	const unsigned char *p = file + heap_start + off;

	/* archived-checksum: the stored bytes. */
	char *astyle = ac ? attr(ac, "style") : NULL;
	const EVP_MD *amd = md_by_style(astyle);
	if (!ac)
		problem(where, "%s has no <archived-checksum>", what);
	else if (!amd)
		problem(where, "%s archived-checksum style \"%s\" unknown", what,
		    astyle ? astyle : "");
	else {
		unsigned char h[EVP_MAX_MD_SIZE];
		unsigned int hl;
		char *want = text(ac);
		EVP_Digest(p, (size_t)len, h, &hl, amd, NULL);
		check_digest(where, "archived-checksum", want, h, hl);
		free(want);
	}
	free(astyle);

	/* extracted-checksum and size: the decoded bytes. */
	char *xstyle = xc ? attr(xc, "style") : NULL;
	const EVP_MD *xmd = md_by_style(xstyle);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint64_t got = 0;
	int decoded = 0;
	if (!xc)
		problem(where, "%s has no <extracted-checksum>", what);
	else if (!xmd)
		problem(where, "%s extracted-checksum style \"%s\" unknown", what,
		    xstyle ? xstyle : "");
	if (!ctx || !EVP_DigestInit_ex(ctx, xmd ? xmd : EVP_sha1(), NULL)) {
		fprintf(stderr, "xarcheck: openssl failure\n");
		exit(3);
	}
	if (enc && !strcmp(enc, "application/octet-stream")) {
		EVP_DigestUpdate(ctx, p, (size_t)len);
		got = len;
		decoded = 1;
	} else if (enc && !strcmp(enc, "application/x-gzip")) {
		/* Really zlib (RFC 1950), flat-format.md §1.5. */
		z_stream z;
		unsigned char buf[65536];
		int rc = Z_OK;
		uint64_t in_left = len;

		memset(&z, 0, sizeof z);
		if (inflateInit(&z) != Z_OK) {
			fprintf(stderr, "xarcheck: zlib failure\n");
			exit(3);
		}
		z.next_in = (Bytef *)(uintptr_t)p;
		while (rc != Z_STREAM_END) {
			if (z.avail_in == 0 && in_left) {
				uInt k = in_left > (1u << 30) ? (1u << 30) : (uInt)in_left;
				z.avail_in = k;
				in_left -= k;
			}
			z.next_out = buf;
			z.avail_out = sizeof buf;
			rc = inflate(&z, Z_NO_FLUSH);
			size_t made = sizeof buf - z.avail_out;
			EVP_DigestUpdate(ctx, buf, made);
			got += made;
			if (rc == Z_STREAM_END)
				break;
			if (rc == Z_BUF_ERROR && z.avail_in == 0 && !in_left) {
				problem(where, "%s zlib stream is truncated", what);
				break;
			}
			if (rc != Z_OK && rc != Z_BUF_ERROR) {
				problem(where, "%s is not a valid zlib stream (%s)",
				    what, z.msg ? z.msg : "inflate failed");
				break;
			}
		}
		if (rc == Z_STREAM_END) {
			decoded = 1;
			if (z.avail_in || in_left)
				problem(where, "%s has %" PRIu64 " bytes after its "
				    "zlib stream", what, z.avail_in + in_left);
		}
		inflateEnd(&z);
	} else if (enc) {
		problem(where, "%s encoding \"%s\" not supported by xarcheck",
		    what, enc);
	}
	if (decoded) {
		unsigned char h[EVP_MAX_MD_SIZE];
		unsigned int hl;
		EVP_DigestFinal_ex(ctx, h, &hl);
		if (xc && xmd) {
			char *want = text(xc);
			check_digest(where, "extracted-checksum", want, h, hl);
			free(want);
		}
		if (got != size)
			problem(where, "%s <size> is %" PRIu64 " but it decodes to %"
			    PRIu64 " bytes", what, size, got);
	}
	EVP_MD_CTX_free(ctx);
	free(xstyle);
out:
	free(enc);
}

static void check_file(const xmlNode *f, const char *dir, int list)
{
	char *name = NULL, *type = NULL, *id = attr(f, "id");
	int nnames = 0;

	for (xmlNode *c = f->children; c; c = c->next) {
		if (is_el(c, "name")) {
			free(name);
			name = text(c);   /* duplicates: the last one, like apr */
			nnames++;
		}
	}
	if (!name)
		name = xstrdup("");
	size_t plen = strlen(dir) + strlen(name) + 2;
	char *path = xmalloc(plen);
	snprintf(path, plen, "%s%s%s", dir, *dir ? "/" : "", name);
	if (!nnames || !*name)
		problem(path, "file entry without a name");
	if (!id)
		problem(path, "file entry without an id");
	else {
		for (size_t i = 0; i < ids.n; i++)
			if (!strcmp(ids.v[i], id))
				problem(path, "file id %s used twice", id);
		if (ids.n == ids.cap) {
			ids.cap = ids.cap ? 2 * ids.cap : 16;
			ids.v = realloc(ids.v, ids.cap * sizeof *ids.v);
			if (!ids.v)
				exit(3);
		}
		ids.v[ids.n++] = xstrdup(id);
	}
	xmlNode *t = child(f, "type");
	type = t ? text(t) : xstrdup("-");
	if (!t)
		problem(path, "file entry without a <type>");

	char *enc = NULL;
	uint64_t len = 0, size = 0, off = 0;
	xmlNode *d = child(f, "data");
	int has_data = d != NULL;
	if (d)
		check_data(d, path, "data", &enc, &len, &size, &off);
	for (xmlNode *c = f->children; c; c = c->next) {
		if (is_el(c, "data") && c != d)
			problem(path, "more than one <data>");
		if (is_el(c, "ea")) {
			char *e2;
			uint64_t a, b, o;
			check_data(c, path, "ea", &e2, &a, &b, &o);
			free(e2);
		}
	}
	if (list) {
		if (has_data)
			printf("%s\t%s\t%s\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\n",
			    path, type, enc, len, size, off);
		else
			printf("%s\t%s\t-\t-\t-\t-\n", path, type);
	}
	free(enc);
	for (xmlNode *c = f->children; c; c = c->next)
		if (is_el(c, "file"))
			check_file(c, path, list);
	free(path);
	free(type);
	free(name);
	free(id);
}

/* ------------------------------------------------------------------ */
/* Whole archive                                                      */

static int check(int list, int dump_toc)
{
	static const struct {
		uint32_t alg;
		const char *style;
	} algs[] = { { 1, "sha1" }, { 3, "sha256" }, { 4, "sha512" } };
	const char *want_style = NULL;

	if (file_size < 28) {
		problem("header", "file is %" PRIu64 " bytes, too short for the "
		    "28-byte header", file_size);
		return 1;
	}
	uint16_t hsize = (uint16_t)rd_be(file + 4, 2);
	uint16_t version = (uint16_t)rd_be(file + 6, 2);
	uint64_t lc = rd_be(file + 8, 8), lu = rd_be(file + 16, 8);
	uint32_t alg = (uint32_t)rd_be(file + 24, 4);

	if (memcmp(file, "xar!", 4) != 0) {
		problem("header", "bad magic (not \"xar!\")");
		return 1;
	}
	if (hsize != 28)
		problem("header", "header size is %u, want 28", hsize);
	if (version != 1)
		problem("header", "version is %u, want 1", version);
	for (size_t i = 0; i < sizeof algs / sizeof *algs; i++)
		if (algs[i].alg == alg)
			want_style = algs[i].style;
	if (!want_style)
		problem("header", "cksum_alg is %" PRIu32 ", want 1, 3 or 4", alg);
	if (lc > file_size - 28) {
		problem("header", "toc_length_compressed %" PRIu64 " runs past the "
		    "end of the file (%" PRIu64 " bytes)", lc, file_size);
		return 1;
	}
	if (lc > UINT32_MAX || lu > MAX_TOC) {
		problem("header", "toc lengths %" PRIu64 "/%" PRIu64
		    " are implausibly large", lc, lu);
		return 1;
	}
	heap_start = 28 + lc;
	heap_size = file_size - heap_start;

	/* The TOC: exactly lc bytes of zlib giving exactly lu bytes. */
	unsigned char *xml = xmalloc((size_t)lu + 1);
	z_stream z;
	memset(&z, 0, sizeof z);
	if (inflateInit(&z) != Z_OK)
		exit(3);
	z.next_in = (Bytef *)(uintptr_t)(file + 28);
	z.avail_in = (uInt)lc;
	z.next_out = xml;
	z.avail_out = (uInt)lu + 1;
	int rc = inflate(&z, Z_FINISH);
	uint64_t got = z.total_out;
	inflateEnd(&z);
	if (rc != Z_STREAM_END) {
		problem("toc", "does not inflate: %s (%" PRIu64 " bytes out)",
		    rc == Z_BUF_ERROR ? (got > lu ?
		    "longer than toc_length_uncompressed" : "zlib stream truncated") :
		    z.msg ? z.msg : "zlib error", got);
		free(xml);
		return 1;
	}
	if (z.avail_in)
		problem("toc", "%u bytes of toc_length_compressed follow the zlib "
		    "stream", z.avail_in);
	if (got != lu) {
		problem("toc", "inflates to %" PRIu64 " bytes, header says %"
		    PRIu64, got, lu);
		free(xml);
		return 1;
	}
	if (dump_toc) {
		fwrite(xml, 1, (size_t)lu, stdout);
		free(xml);
		return problems != 0;
	}

	xmlDoc *doc = xmlReadMemory((const char *)xml, (int)lu, "toc.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	free(xml);
	if (!doc) {
		problem("toc", "not well-formed XML");
		return 1;
	}
	xmlNode *root = xmlDocGetRootElement(doc), *toc = child(root, "toc");
	if (!is_el(root, "xar") || !toc) {
		problem("toc", "root is not <xar><toc>");
		xmlFreeDoc(doc);
		return 1;
	}

	/* The TOC checksum. */
	xmlNode *ck = child(toc, "checksum");
	if (!ck) {
		problem("toc", "no <checksum>");
	} else {
		char *style = attr(ck, "style");
		const EVP_MD *md = md_by_style(style);
		uint64_t off, size;
		int ok = num(ck, "offset", "toc checksum", &off) &
		    num(ck, "size", "toc checksum", &size);

		if (!style || !want_style || strcasecmp(style, want_style))
			problem("toc checksum", "style \"%s\" does not match the "
			    "header's cksum_alg %" PRIu32, style ? style : "",
			    alg);
		if (md && ok && size != (uint64_t)EVP_MD_get_size(md))
			problem("toc checksum", "size %" PRIu64 " is not the %s "
			    "digest size %d", size, style, EVP_MD_get_size(md));
		if (ok && add_range("toc", "checksum", off, size) && md &&
		    size == (uint64_t)EVP_MD_get_size(md)) {
			unsigned char h[EVP_MAX_MD_SIZE];
			unsigned int hl;
			char want[2 * EVP_MAX_MD_SIZE + 1];
			EVP_Digest(file + 28, (size_t)lc, h, &hl, md, NULL);
			tohex(want, file + heap_start + off, (size_t)size);
			check_digest("toc checksum", "stored checksum", want, h, hl);
		}
		free(style);
	}
	/* Signatures occupy heap ranges too. */
	for (xmlNode *c = toc->children; c; c = c->next) {
		if (is_el(c, "signature") || is_el(c, "x-signature")) {
			uint64_t off, size;
			const char *what = (const char *)c->name;
			if (num(c, "offset", what, &off) & num(c, "size", what, &size))
				add_range("toc", what, off, size);
		}
	}
	size_t nfiles = 0;
	for (xmlNode *c = toc->children; c; c = c->next)
		if (is_el(c, "file")) {
			check_file(c, "", list);
			nfiles++;
		}
	xmlFreeDoc(doc);

	uint64_t end = check_overlaps();
	if (!list) {
		printf("%s: %s: %zu top-level entries, %zu heap ranges, heap %"
		    PRIu64 " bytes at file offset %" PRIu64, fname,
		    problems ? "FAILED" : "ok", nfiles, nranges, heap_size,
		    heap_start);
		if (end < heap_size)
			printf(", %" PRIu64 " trailing bytes after the last range "
			    "(file offset %" PRIu64 ")", heap_size - end,
			    heap_start + end);
		printf("\n");
	}
	return problems != 0;
}

int main(int argc, char **argv)
{
	int list = 0, dump_toc = 0, fd, rc;
	struct stat st;

	if (argc == 3 && !strcmp(argv[1], "--list"))
		list = 1;
	else if (argc == 3 && !strcmp(argv[1], "--toc"))
		dump_toc = 1;
	if (argc != 2 + (list | dump_toc) || argv[argc - 1][0] == '-') {
		fprintf(stderr, "usage: xarcheck [--list | --toc] FILE\n");
		return 2;
	}
	fname = argv[argc - 1];
	if ((fd = open(fname, O_RDONLY)) < 0 || fstat(fd, &st) != 0) {
		fprintf(stderr, "xarcheck: %s: %s\n", fname, strerror(errno));
		return 3;
	}
	file_size = (uint64_t)st.st_size;
	if (file_size) {
		void *m = mmap(NULL, (size_t)file_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m == MAP_FAILED) {
			fprintf(stderr, "xarcheck: %s: %s\n", fname, strerror(errno));
			return 3;
		}
		file = m;
	} else {
		file = (const unsigned char *)"";
	}
	close(fd);
	rc = check(list, dump_toc);
	for (size_t i = 0; i < nranges; i++)
		free(ranges[i].what);
	free(ranges);
	for (size_t i = 0; i < ids.n; i++)
		free(ids.v[i]);
	free(ids.v);
	if (file_size)
		munmap((void *)(uintptr_t)file, (size_t)file_size);
	xmlCleanupParser();
	return rc;
}
