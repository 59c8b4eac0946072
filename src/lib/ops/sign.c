/*
 * Signing an existing flat package (flat-format.md §2.4, relic's method):
 * inflate the TOC, drop its <checksum>, <signature> and <x-signature>,
 * shift every <data> and <ea> offset by the change in reserved space, write
 * the TOC again with a new checksum and the signature elements, and copy
 * the heap behind it once. Bytes after the last file (a stapled ticket, or
 * stale TOC text some pkgbuild versions left) are not carried over.
 *
 * Two-step signing (sign_request.c) splits this at the signatures.
 */
#include <errno.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "outfile.h"
#include "sign.h"
#include "sign_plan.h"
#include "verify.h"
#include "xar_read.h"

/*
 * Linux copies page cache from file to file (copy_file_range) fastest when
 * source and destination offsets agree modulo 64 KiB: 217 MB took 35 ms
 * that way and 47 to 52 ms with the offsets 4 KiB or 12 KiB apart (ext4,
 * Linux 6.18). So a heap of HEAP_ALIGN_MIN or more goes where it keeps
 * its input offset modulo HEAP_ALIGN (heap_at); the zero padding after
 * the CMS (554 bytes in productsign's output, flat-format.md §2.4) and
 * spaces before </xar> in the TOC take up the difference. Both are
 * inside what the TOC declares and the signatures cover: no loose bytes.
 */
#define HEAP_ALIGN 65536
#define HEAP_ALIGN_MIN ((uint64_t)16 << 20)
#define HEAP_ALIGN_ROUNDS 4

struct walk {
	uint64_t from, to;      /* offsets move from `from` to `to` */
	uint64_t min_off, max_end;
	int bad;
};

/* Move every data/ea offset, and find the heap range files use. The TOC
 * is untrusted: no sum may wrap (offsets near 2^64 would otherwise land
 * on the signatures) and the walk stops at the depth xar_toc_read
 * enforces. */
static void shift(xmlNodePtr n, struct walk *w, int depth)
{
	if (depth > XAR_MAX_DEPTH + XAR_ELEM_SLACK) {
		w->bad = 1;
		return;
	}
	for (xmlNodePtr c = n->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (xar_is_elem(c, "data") || xar_is_elem(c, "ea")) {
			uint64_t off, len, end, moved;
			if (!xar_child_u64(c, "offset", &off) || !xar_child_u64(c, "length",
			    &len) || __builtin_add_overflow(off, len, &end)) {
				w->bad = 1;
				continue;
			}
			if (off < w->min_off)
				w->min_off = off;
			if (end > w->max_end)
				w->max_end = end;
			if (w->from != w->to) {
				char buf[32];
				if (off < w->from || __builtin_add_overflow(off - w->from,
				    w->to, &moved)) {
					w->bad = 1;
					continue;
				}
				snprintf(buf, sizeof buf, "%llu", (unsigned long long)moved);
				xmlNodeSetContent(xar_child(c, "offset"), BAD_CAST buf);
			}
			continue;
		}
		shift(c, w, depth + 1);
	}
}

/* Write a subtree through the text writer, dropping layout whitespace. */
static void emit(xmlTextWriterPtr w, xmlNodePtr n, int depth)
{
	if (depth > XAR_MAX_DEPTH + XAR_ELEM_SLACK + 2)
		return; /* xar_toc_read refused such a TOC */
	if (n->ns && n->ns->prefix)
		xmlTextWriterStartElementNS(w, n->ns->prefix, n->name, NULL);
	else
		xmlTextWriterStartElement(w, n->name);
	for (xmlNsPtr ns = n->nsDef; ns; ns = ns->next) {
		if (ns->prefix) {
			char a[128];
			snprintf(a, sizeof a, "xmlns:%s", (const char *)ns->prefix);
			xmlTextWriterWriteAttribute(w, BAD_CAST a, ns->href);
		} else
			xmlTextWriterWriteAttribute(w, BAD_CAST "xmlns", ns->href);
	}
	for (xmlAttrPtr a = n->properties; a; a = a->next) {
		xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
		xmlTextWriterWriteAttribute(w, a->name, v ? v : BAD_CAST "");
		xmlFree(v);
	}
	for (xmlNodePtr c = n->children; c; c = c->next) {
		if (c->type == XML_ELEMENT_NODE)
			emit(w, c, depth + 1);
		else if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
			const char *t = (const char *)c->content;
			if (t && t[strspn(t, " \t\r\n")])
				xmlTextWriterWriteString(w, c->content);
		}
	}
	xmlTextWriterEndElement(w);
}

void plan_free(struct plan *p)
{
	if (p->fd >= 0)
		close(p->fd);
	free(p->head);
	signer_free(p->sctx);
	xar_toc_free(&p->xt);
	memset(p, 0, sizeof *p);
	p->fd = -1;
}

/* Placing the heap (HEAP_ALIGN): the TOC is deflated up to its closing
 * </xar> and flushed to a byte boundary; one stored block then carries
 * `ws` spaces and "</xar>\n", so the compressed TOC can be made exactly
 * as long as needed. The spaces are whitespace in the <xar> element, as
 * the indentation is; the TOC checksum and the signatures cover them. */
#define PLACE_WS_MAX 4096   /* more means: move the CMS padding instead */
#define PLACE_WS_AIM 64     /* spaces aimed at, for the TOC's length to
                               vary when the offsets in it change */

struct place {
	uint64_t target;        /* the heap's offset; 0: any at the input's
	                           offset modulo HEAP_ALIGN */
	uint64_t dest_base;     /* output bytes after the compressed TOC
	                           until the heap: checksum, signatures */
	int64_t miss;           /* spaces it would have taken, when not 0 to
	                           PLACE_WS_MAX (negative: the head is long) */
	int placed;             /* the head was written, heap placed */
};

static pkgflat_status compress_placed(struct plan *p, const unsigned char *text,
    size_t *tl, size_t *nl, struct place *pl, const char *in,
    pkgflat_error *err)
{
	unsigned char spaces[256];
	z_stream z = { 0 };
	unsigned char *out = p->head + 28;
	const unsigned char *end = NULL;
	pkgflat_status rc = PKGFLAT_OK;

	for (size_t i = *tl; i >= 6 && !end; i--)
		if (!memcmp(text + i - 6, "</xar>", 6))
			end = text + i - 6;
	if (!end)
		return fail(err, PKGFLAT_E_INTERNAL, in, "TOC", "no </xar>");
	size_t head = (size_t)(end - text), tail = *tl - head;
	if (tail > 64 || deflateInit(&z, 9) != Z_OK)
		return fail(err, PKGFLAT_E_INTERNAL, in, "TOC", "cannot compress");
	z.next_in = (unsigned char *)text;
	z.avail_in = (uInt)head;
	z.next_out = out;
	z.avail_out = (uInt)*nl;
	if (deflate(&z, Z_SYNC_FLUSH) != Z_OK || z.avail_in || !z.avail_out) {
		rc = fail(err, PKGFLAT_E_INTERNAL, in, "TOC", "cannot compress");
		goto out;
	}
	size_t a = (size_t)z.total_out;
	/* a + 5 (stored block header) + ws + tail + 4 (Adler-32) bytes, then
	 * the checksum and the signatures, then the heap at p->src's offset
	 * modulo HEAP_ALIGN. */
	uint64_t at = 28 + a + 5 + tail + 4 + pl->dest_base;
	int64_t gap = pl->target ? (int64_t)(pl->target - at) :
	    (int64_t)((p->src - at) % HEAP_ALIGN);
	if (gap < 0 || gap > PLACE_WS_MAX) {
		pl->miss = gap;
		goto out;
	}
	size_t ws = (size_t)gap;
	memset(spaces, ' ', sizeof spaces);
	uLong ad = adler32(1L, text, (uInt)head);
	for (size_t left = ws; left; ) {
		uInt k = left < sizeof spaces ? (uInt)left : (uInt)sizeof spaces;
		ad = adler32(ad, (const Bytef *)spaces, k);
		left -= k;
	}
	ad = adler32(ad, end, (uInt)tail);
	size_t len = ws + tail;
	unsigned char *q = out + a;
	*q++ = 0x01;            /* BFINAL, stored; the flush left us aligned */
	*q++ = (unsigned char)len;
	*q++ = (unsigned char)(len >> 8);
	*q++ = (unsigned char)~len;
	*q++ = (unsigned char)(~len >> 8);
	memset(q, ' ', ws);
	memcpy(q + ws, end, tail);
	q += len;
	for (int i = 3; i >= 0; i--)
		*q++ = (unsigned char)(ad >> (8 * i));
	*nl = (size_t)(q - out);
	*tl += ws;
	pl->placed = 1;
out:
	deflateEnd(&z);
	return rc;
}

/* The output's head for the TOC as it now stands: header, the TOC again
 * (checksum and signatures first), compressed, and its checksum. */
static pkgflat_status write_head(struct plan *p, xmlNodePtr tocn,
    struct place *place, const char *in, pkgflat_error *err)
{
	pkgflat_status rc = PKGFLAT_OK;
	xmlBufferPtr xb = NULL;
	xmlTextWriterPtr w = NULL;

	free(p->head);
	p->head = NULL;
	p->head_len = 0;
	if (!(xb = xmlBufferCreate()) || !(w = xmlNewTextWriterMemory(xb, 0))) {
		rc = fail_nomem(err);
		goto done;
	}
	xmlTextWriterSetIndent(w, 1);
	xmlTextWriterSetIndentString(w, BAD_CAST " ");
	xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL);
	xmlTextWriterStartElement(w, BAD_CAST "xar");
	xmlTextWriterStartElement(w, BAD_CAST "toc");
	xmlNodePtr first = tocn->children;
	if (xar_is_elem(first, "creation-time")) {
		emit(w, first, 0);
		first = first->next;
	}
	xmlTextWriterStartElement(w, BAD_CAST "checksum");
	xmlTextWriterWriteAttribute(w, BAD_CAST "style", BAD_CAST "sha1");
	xmlTextWriterWriteElement(w, BAD_CAST "offset", BAD_CAST "0");
	xmlTextWriterWriteElement(w, BAD_CAST "size", BAD_CAST "20");
	xmlTextWriterEndElement(w);
	if ((rc = p->xs->write_toc(p->xs->ctx, w, 20, err)))
		goto done;
	for (xmlNodePtr c = first; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			emit(w, c, 0);
	xmlTextWriterEndElement(w);
	xmlTextWriterEndElement(w);
	if (xmlTextWriterEndDocument(w) < 0) {
		rc = fail(err, PKGFLAT_E_INTERNAL, in, "TOC", "cannot write the TOC");
		goto done;
	}
	xmlFreeTextWriter(w);
	w = NULL;
	size_t tl = (size_t)xmlBufferLength(xb);
	const unsigned char *text = xmlBufferContent(xb);
	size_t nl = compressBound((uLong)tl) + (place ? 5 + PLACE_WS_MAX + 16 : 0);
	if (!(p->head = malloc(28 + nl + 20))) {
		rc = fail_nomem(err);
		goto done;
	}
	if (place)
		rc = compress_placed(p, text, &tl, &nl, place, in, err);
	else {
		uLongf zl = (uLongf)nl;
		if (compress2(p->head + 28, &zl, text, (uLong)tl, 9) != Z_OK)
			rc = fail(err, PKGFLAT_E_INTERNAL, in, "TOC", "cannot compress");
		nl = (size_t)zl;
	}
	if (rc || (place && !place->placed))
		goto done;
	unsigned int cl = 0;
	if (!EVP_Digest(p->head + 28, nl, p->ck, &cl, EVP_sha1(), NULL) ||
	    cl != 20) {
		rc = fail(err, PKGFLAT_E_CRYPTO, in, NULL, "SHA-1 failed");
		goto done;
	}
	unsigned char *nh = p->head;
	memcpy(nh, "xar!", 4);
	nh[4] = 0; nh[5] = 28; nh[6] = 0; nh[7] = 1;
	for (int i = 0; i < 8; i++) {
		nh[8 + i] = (unsigned char)((uint64_t)nl >> (56 - 8 * i));
		nh[16 + i] = (unsigned char)((uint64_t)tl >> (56 - 8 * i));
	}
	nh[24] = 0; nh[25] = 0; nh[26] = 0; nh[27] = 1;
	memcpy(nh + 28 + nl, p->ck, 20);
	p->head_len = 28 + nl + 20;
done:
	if (w)
		xmlFreeTextWriter(w);
	if (xb)
		xmlBufferFree(xb);
	return rc;
}

/* The input's side: its TOC without the old signatures, and the heap
 * bytes to copy. Then plan_check(). */
static pkgflat_status plan_read(const char *in, struct plan *p,
    pkgflat_error *err)
{
	pkgflat_status rc = PKGFLAT_OK;

	memset(p, 0, sizeof *p);
	if ((p->fd = open(in, O_RDONLY | O_CLOEXEC)) < 0)
		return fail_errno(err, in, "cannot open");
	if ((rc = xar_toc_read(p->fd, in, &p->xt, err)))
		goto out;
	p->file_size = p->xt.file_size;
	xmlNodePtr tocn = p->xt.toc;
	/* The old checksum and signatures: their space goes. */
	uint64_t old_base = 0;
	for (xmlNodePtr c = tocn->children, next; c; c = next) {
		next = c->next;
		if (!xar_is_elem(c, "checksum") && !xar_is_elem(c, "signature") &&
		    !xar_is_elem(c, "x-signature"))
			continue;
		uint64_t off, size;
		if (!xar_child_u64(c, "offset", &off) || !xar_child_u64(c, "size", &size)) {
			rc = fail(err, PKGFLAT_E_FORMAT, in, "TOC",
			    "<%s> without a readable offset and size", c->name);
			goto out;
		}
		if (xar_range_end(off, size) > old_base)
			old_base = xar_range_end(off, size);
		xmlUnlinkNode(c);
		xmlFreeNode(c);
	}
	struct walk wk = { 0, 0, UINT64_MAX, 0, 0 };
	shift(tocn, &wk, 0);
	if (wk.bad) {
		rc = fail(err, PKGFLAT_E_FORMAT, in, "TOC",
		    "a <data> or <ea> without a readable offset and length");
		goto out;
	}
	if (wk.min_off == UINT64_MAX)
		wk.min_off = wk.max_end = old_base;
	uint64_t heap_size = p->xt.file_size - p->xt.heap;
	if (wk.min_off < old_base || old_base > heap_size ||
	    wk.max_end > heap_size) {
		rc = fail(err, PKGFLAT_E_FORMAT, in, "TOC",
		    "file data overlaps the signatures or runs past the end");
		goto out;
	}
	p->src = p->xt.heap + old_base;
	p->len = wk.max_end - old_base;
	p->base = old_base;
out:
	/* A TOC these checks refuse gets plan_check()'s finer word on it. */
	if (rc == PKGFLAT_E_FORMAT && p->xt.toc) {
		pkgflat_error e2;
		pkgflat_error_clear(&e2);
		if (verify_xar_structure(p->fd, in, &e2)) {
			*err = e2;
			rc = e2.status;
		}
	}
	if (rc)
		plan_free(p);
	return rc;
}

/* Nothing is signed that verify would call malformed: the very checks of
 * its xar-structure (ranges inside the heap and apart, unique file ids,
 * names that are one path component, the depth limit). */
static pkgflat_status plan_check(const char *in, struct plan *p,
    pkgflat_error *err)
{
	return verify_xar_structure(p->fd, in, err);
}

/* Every offset in the TOC counted from `base` on. */
static pkgflat_status rebase(struct plan *p, uint64_t base, const char *in,
    pkgflat_error *err)
{
	struct walk w = { p->base, base, UINT64_MAX, 0, 0 };

	shift(p->xt.toc, &w, 0);
	if (w.bad)
		return fail(err, PKGFLAT_E_FORMAT, in, "TOC",
		    "file data offsets do not fit once moved");
	p->base = base;
	return PKGFLAT_OK;
}

/*
 * The output's side, up to the signatures: a signer for sp, the TOC with
 * its offsets moved behind the new signatures, and the head. With
 * `at` 0 a heap of HEAP_ALIGN_MIN or more goes where it keeps its offset
 * modulo HEAP_ALIGN, anything smaller right behind the signatures; else
 * it goes exactly at `at`, and *missed says when it could not (the head
 * would not fit before it).
 */
static pkgflat_status plan_head(struct plan *p, const struct signer_params *sp,
    uint64_t at, int *missed, const char *in, pkgflat_error *err)
{
	pkgflat_status rc;

	*missed = 0;
	signer_free(p->sctx);
	p->sctx = NULL;
	if ((rc = signer_open(sp, &p->sctx, &p->xs, err)) ||
	    (rc = rebase(p, 20 + p->xs->reserve, in, err)))
		return rc;

	/* Where the heap lands: see HEAP_ALIGN. A round that would need more
	 * than PLACE_WS_MAX spaces moves the CMS padding instead, which moves
	 * every offset in the TOC and so changes its compressed length a
	 * little; the next round's spaces make up for that exactly. */
	struct place pl = { .target = at };
	size_t pad = 0;
	int place = at || (p->len >= HEAP_ALIGN_MIN && !sp->cms_reserve);
	for (int round = 0; ; round++) {
		pl.dest_base = 20 + p->xs->reserve;
		pl.miss = 0;
		if ((rc = write_head(p, p->xt.toc, place ? &pl : NULL, in, err)))
			return rc;
		if (!place || pl.placed)
			return PKGFLAT_OK;
		if (round == HEAP_ALIGN_ROUNDS || (int64_t)pad + pl.miss -
		    PLACE_WS_AIM < 0) {
			if (at) {
				*missed = 1;
				return PKGFLAT_OK;
			}
			place = 0; /* never seen: the heap goes where it falls */
			continue;
		}
		size_t want = (size_t)((int64_t)pad + pl.miss - PLACE_WS_AIM);
		if (!at)
			want %= HEAP_ALIGN;
		if ((rc = rebase(p, p->base - pad + want, in, err)))
			return rc;
		signer_pad_cms(p->sctx, want);
		pad = want;
	}
}

/*
 * Where a heap of HEAP_ALIGN_MIN or more goes, chosen from the input alone
 * so that pkgflat_sign_begin() can start copying it before the identity
 * is known: EARLY_ROOM behind the input's compressed TOC (room for the
 * new signature elements in the TOC, the checksum and both signatures),
 * then on to the input's offset modulo HEAP_ALIGN. The head is then made
 * exactly that long: CMS padding and spaces in the TOC take up the rest.
 * 0 for a smaller heap: it goes right behind the signatures.
 */
#define EARLY_ROOM ((uint64_t)32 << 10)

static uint64_t heap_at(const struct plan *p)
{
	if (p->len < HEAP_ALIGN_MIN)
		return 0;
	uint64_t at = 28 + p->xt.clen + EARLY_ROOM;
	return at + (p->src - at) % HEAP_ALIGN;
}

pkgflat_status plan_open(const char *in, const struct signer_params *sp,
    struct plan *p, pkgflat_error *err)
{
	pkgflat_status rc;
	int missed;

	if ((rc = plan_read(in, p, err)))
		return rc;
	if ((rc = plan_check(in, p, err)) ||
	    (rc = plan_head(p, sp, heap_at(p), &missed, in, err)) ||
	    (missed && (rc = plan_head(p, sp, 0, &missed, in, err))))
		plan_free(p);
	return rc;
}

/* The heap in slices, telling opt->progress after each. */
#define COPY_SLICE ((uint64_t)16 << 20)

static pkgflat_status copy_heap(const struct plan *p, const char *in, int ofd,
    const char *out, const pkgflat_sign_options *opt, pkgflat_error *err)
{
	pkgflat_progress pr = { .total = p->len, .phase = "signing" };
	pkgflat_status rc = PKGFLAT_OK;

	while (!rc && pr.done < p->len) {
		uint64_t n = p->len - pr.done < COPY_SLICE ? p->len - pr.done :
		    COPY_SLICE;
		if (!(rc = xar_copy_range(p->fd, p->src + pr.done, n, in, ofd, out,
		    err)))
			pr.done += n;
		if (opt->progress)
			opt->progress(&pr, opt->progress_ctx);
	}
	return rc;
}

pkgflat_status write_signed(const char *in, const char *out,
    const struct plan *p, const unsigned char *head, size_t head_len,
    const unsigned char *sig, size_t sig_len,
    const pkgflat_sign_options *opt, pkgflat_error *err)
{
	pkgflat_status rc;
	pkgflat_output *of = NULL;
	char *target = NULL;
	int ofd;

	if ((rc = output_in_place(out, in, &target, err)) ||
	    (rc = pkgflat_output_open(target, &of, err)))
		goto out;
	ofd = pkgflat_output_fd(of);
	if ((rc = xar_write_all(ofd, head, head_len, out, err)) ||
	    (rc = xar_write_all(ofd, sig, sig_len, out, err)) ||
	    (rc = copy_heap(p, in, ofd, out, opt, err)))
		goto out;
	rc = pkgflat_output_commit(of, opt->fsync, err);
	of = NULL;
out:
	pkgflat_output_discard(of);
	free(target);
	return rc;
}

/*
 * Copying early. A heap of HEAP_ALIGN_MIN or more starts copying in
 * pkgflat_sign_begin(), before the identity is known, to heap_at(); while
 * the kernel copies, this thread reads the key, writes the TOC and signs.
 * A head that does not fit there (a long chain) stops the copy, and the
 * heap goes behind the head, still at its offset modulo HEAP_ALIGN.
 */

struct pkgflat_sign_job {
	struct plan p;
	char *in, *out, *target;
	pkgflat_output *of;         /* the output, when copying early */
	uint64_t at;                /* where the heap goes in it; 0: not early */
	pthread_t th;
	int running;                /* th to join */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int cfd;                    /* the input, for the copy */
	uint64_t csrc;              /* the heap bytes it copies start here */
	uint64_t clen;              /* under mu: and are this many */
	uint64_t next;              /* under mu: the next slice to copy */
	uint64_t done;              /* under mu: heap bytes copied */
	uint64_t end;               /* under mu: end of what was written */
	int started;                /* under mu: th is copying */
	int stop, finished;         /* under mu */
	pkgflat_status trc;         /* th's outcome, once finished */
	pkgflat_error terr;
};

/* Claim the next slice of the heap (under mu): 0 when none is left. */
static int claim(struct pkgflat_sign_job *j, uint64_t *off, uint64_t *n)
{
	int ok;

	pthread_mutex_lock(&j->mu);
	ok = !j->stop && j->next * COPY_SLICE < j->clen;
	if (ok) {
		*off = j->next++ * COPY_SLICE;
		*n = j->clen - *off < COPY_SLICE ? j->clen - *off : COPY_SLICE;
	}
	pthread_mutex_unlock(&j->mu);
	return ok;
}

static pkgflat_status copy_slice(struct pkgflat_sign_job *j, uint64_t off,
    uint64_t n, pkgflat_error *err)
{
	pkgflat_status rc = xar_copy_range_at(j->cfd, j->csrc + off, n, j->in,
	    pkgflat_output_fd(j->of), j->at + off, j->out, err);

	if (!rc) {
		pthread_mutex_lock(&j->mu);
		j->done += n;
		if (j->at + off + n > j->end)
			j->end = j->at + off + n;
		pthread_mutex_unlock(&j->mu);
	}
	return rc;
}

/* The copying thread: slice after slice until none is left. */
static void *copier(void *arg)
{
	struct pkgflat_sign_job *j = arg;
	pkgflat_status rc = PKGFLAT_OK;
	uint64_t off, n;

	pthread_mutex_lock(&j->mu);
	j->started = 1;
	pthread_mutex_unlock(&j->mu);
	while (!rc && claim(j, &off, &n))
		rc = copy_slice(j, off, n, &j->terr);
	pthread_mutex_lock(&j->mu);
	j->trc = rc;
	j->finished = 1;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

/* A new thread may take milliseconds to run (a virtual machine's idle
 * CPU wakes slowly): until it does, the caller copies. */
static pkgflat_status copy_until_started(struct pkgflat_sign_job *j,
    pkgflat_error *err)
{
	pkgflat_status rc = PKGFLAT_OK;
	uint64_t off, n;

	for (;;) {
		pthread_mutex_lock(&j->mu);
		int started = j->started;
		pthread_mutex_unlock(&j->mu);
		if (started || rc || !claim(j, &off, &n))
			return rc;
		rc = copy_slice(j, off, n, err);
	}
}

static void copier_stop(struct pkgflat_sign_job *j)
{
	if (!j->running)
		return;
	pthread_mutex_lock(&j->mu);
	j->stop = 1;
	pthread_mutex_unlock(&j->mu);
	pthread_join(j->th, NULL);
	j->running = 0;
}

/* Until the copy is done, telling opt->progress about every 100 ms. */
static pkgflat_status copier_wait(struct pkgflat_sign_job *j,
    const pkgflat_sign_options *opt, pkgflat_error *err)
{
	pkgflat_progress pr = { .total = j->p.len, .phase = "signing" };
	int finished;

	do {
		pthread_mutex_lock(&j->mu);
		if (!j->finished) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 100000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&j->cv, &j->mu, &ts);
		}
		pr.done = j->done < pr.total ? j->done : pr.total;
		finished = j->finished;
		pthread_mutex_unlock(&j->mu);
		if (opt->progress)
			opt->progress(&pr, opt->progress_ctx);
	} while (!finished);
	if (j->running)
		pthread_join(j->th, NULL);
	j->running = 0;
	if (j->trc)
		*err = j->terr;
	return j->trc;
}

void pkgflat_sign_cancel(pkgflat_sign_job *j)
{
	if (!j)
		return;
	copier_stop(j);
	pthread_mutex_destroy(&j->mu);
	pthread_cond_destroy(&j->cv);
	pkgflat_output_discard(j->of);
	if (j->cfd >= 0)
		close(j->cfd);
	plan_free(&j->p);
	free(j->in);
	free(j->out);
	free(j->target);
	free(j);
}

/* Start copying `len` heap bytes from `src` of fd (which the job takes)
 * to the output at j->at. */
static pkgflat_status copy_start(struct pkgflat_sign_job *j, int fd,
    uint64_t src, uint64_t len, pkgflat_error *err)
{
	pkgflat_status rc;

	j->cfd = fd;
	j->csrc = src;
	j->clen = len;
	j->next = j->done = j->end = 0;
	j->started = j->stop = j->finished = 0;
	j->trc = PKGFLAT_OK;
	if ((rc = pkgflat_output_open(j->target, &j->of, err)))
		return rc;
	/* Without a thread the copy follows the signing (finish_early). */
	j->running = pthread_create(&j->th, NULL, copier, j) == 0;
	return j->running ? copy_until_started(j, err) : PKGFLAT_OK;
}

/*
 * Most packages signed are unsigned ones, whose heap starts with the
 * 20-byte TOC checksum and nothing else to drop: the copy starts on that
 * guess from the header alone, and the TOC is read while it runs. A
 * wrong guess (another layout, a smaller heap, another file at that
 * path) stops it and starts over.
 */
static void copy_guess(struct pkgflat_sign_job *j, const char *in)
{
	unsigned char h[28];
	struct stat st;
	int fd = open(in, O_RDONLY | O_CLOEXEC);
	pkgflat_error e;

	if (fd < 0)
		return;
	if (pread(fd, h, sizeof h, 0) != (ssize_t)sizeof h ||
	    memcmp(h, "xar!", 4) || fstat(fd, &st) != 0) {
		close(fd);
		return;
	}
	uint64_t hsize = (uint64_t)h[4] << 8 | h[5], clen = 0;
	for (int i = 0; i < 8; i++)
		clen = clen << 8 | h[8 + i];
	struct plan g = { .len = 0 };
	if (clen < (uint64_t)st.st_size && hsize + clen + 20 < (uint64_t)st.st_size) {
		g.xt.clen = clen;
		g.src = hsize + clen + 20;
		g.len = (uint64_t)st.st_size - g.src;
	}
	if (!(j->at = heap_at(&g)) || copy_start(j, fd, g.src, g.len, &e)) {
		/* No guess, or no copy: the copy starts after the TOC. */
		copier_stop(j);
		pkgflat_output_discard(j->of);
		j->of = NULL;
		j->at = 0;
		if (j->cfd != fd)
			close(fd);
		else {
			close(j->cfd);
			j->cfd = -1;
		}
	}
}

/* After the TOC: keep the copy the guess started, or start the right one. */
static pkgflat_status copy_settle(struct pkgflat_sign_job *j,
    pkgflat_error *err)
{
	struct stat a, b;
	uint64_t at = heap_at(&j->p);

	if (j->of && at == j->at && j->csrc == j->p.src && j->p.len <= j->clen &&
	    fstat(j->cfd, &a) == 0 && fstat(j->p.fd, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
		pthread_mutex_lock(&j->mu);
		j->clen = j->p.len;
		pthread_mutex_unlock(&j->mu);
		return PKGFLAT_OK;
	}
	copier_stop(j);
	pkgflat_output_discard(j->of);
	j->of = NULL;
	if (j->cfd >= 0)
		close(j->cfd);
	j->cfd = -1;
	if (!(j->at = at))
		return PKGFLAT_OK;
	int fd = dup(j->p.fd);
	if (fd < 0)
		return fail_errno(err, j->in, "cannot open");
	return copy_start(j, fd, j->p.src, j->p.len, err);
}

pkgflat_status pkgflat_sign_begin(const char *in, const char *out,
    pkgflat_sign_job **job, pkgflat_error *err)
{
	struct pkgflat_sign_job *j = pf_calloc(1, sizeof *j);
	pkgflat_status rc;

	*job = NULL;
	if (!j)
		return fail_nomem(err);
	j->p.fd = j->cfd = -1;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	if (!(j->in = pf_strdup(in)) || !(j->out = pf_strdup(out))) {
		pkgflat_sign_cancel(j);
		return fail_nomem(err);
	}
	if ((rc = output_in_place(out, in, &j->target, err))) {
		pkgflat_sign_cancel(j);
		return rc;
	}
	copy_guess(j, in);
	/* The TOC is read, and checked, while the copy runs: the copy is
	 * discarded if either fails. */
	if ((rc = plan_read(in, &j->p, err)) || (rc = copy_settle(j, err)) ||
	    (rc = plan_check(in, &j->p, err))) {
		pkgflat_sign_cancel(j);
		return rc;
	}
	*job = j;
	return PKGFLAT_OK;
}

/* Head and signatures in front of the heap being copied. */
static pkgflat_status finish_early(struct pkgflat_sign_job *j,
    const unsigned char *sig, size_t sig_len, const pkgflat_sign_options *opt,
    pkgflat_error *err)
{
	int ofd = pkgflat_output_fd(j->of);
	pkgflat_status rc;

	if (j->p.head_len + sig_len != j->at)
		return fail(err, PKGFLAT_E_INTERNAL, j->in, NULL,
		    "the signed head is %zu bytes, not the %llu planned",
		    j->p.head_len + sig_len, (unsigned long long)j->at);
	if ((rc = xar_pwrite_all(ofd, j->p.head, j->p.head_len, 0, j->out,
	    err)) || (rc = xar_pwrite_all(ofd, sig, sig_len, j->p.head_len,
	    j->out, err)))
		return rc;
	if (!j->running)
		copier(j);
	if ((rc = copier_wait(j, opt, err)))
		return rc;
	/* What the guess copied past the last file goes. */
	if (j->end > j->at + j->clen && ftruncate(ofd, (off_t)(j->at +
	    j->clen)) != 0)
		return fail_errno(err, j->out, "cannot write");
	rc = pkgflat_output_commit(j->of, opt->fsync, err);
	j->of = NULL;
	return rc;
}

pkgflat_status pkgflat_sign_finish(pkgflat_sign_job *j,
    const pkgflat_identity *id, const pkgflat_sign_options *opt,
    pkgflat_sign_result *res, pkgflat_error *err)
{
	struct signer_params sp = { .id = id, .signing_time = signing_time(opt),
	    .tsa_url = opt->tsa_url, .tsa_timeout = opt->tsa_timeout };
	unsigned char *sig = NULL;
	pkgflat_status rc;
	int missed = 0;

	if (res)
		memset(res, 0, sizeof *res);
	rc = plan_head(&j->p, &sp, j->at, &missed, j->in, err);
	if (!rc && missed) {
		/* The head outgrew EARLY_ROOM: it goes first after all. */
		copier_stop(j);
		pkgflat_output_discard(j->of);
		j->of = NULL;
		j->at = 0;
		rc = plan_head(&j->p, &sp, 0, &missed, j->in, err);
	}
	if (!rc && !(sig = malloc(j->p.xs->reserve)))
		rc = fail_nomem(err);
	if (!rc)
		rc = j->p.xs->sign(j->p.xs->ctx, j->p.ck, 20, sig, err);
	if (!rc)
		rc = j->at ? finish_early(j, sig, j->p.xs->reserve, opt, err) :
		    write_signed(j->in, j->out, &j->p, j->p.head, j->p.head_len,
		    sig, j->p.xs->reserve, opt, err);
	if (!rc)
		fill_result(res, &j->p, sp.signing_time);
	free(sig);
	pkgflat_sign_cancel(j);
	return rc;
}

void fill_result(pkgflat_sign_result *res, const struct plan *p,
    int64_t signing_time)
{
	if (!res)
		return;
	memset(res, 0, sizeof *res);
	res->signing_time = signing_time;
	signer_sizes(p->sctx, &res->rsa_size, &res->cms_reserved, &res->cms_size);
	res->note = signer_growth_note(p->sctx);
}

void pkgflat_sign_options_init(pkgflat_sign_options *opt)
{
	memset(opt, 0, sizeof *opt);
	opt->timestamp = -1;
}

void pkgflat_sign_result_clear(pkgflat_sign_result *res)
{
	if (res) {
		free(res->note);
		memset(res, 0, sizeof *res);
	}
}

int64_t signing_time(const pkgflat_sign_options *opt)
{
	return opt->timestamp >= 0 ? opt->timestamp : (int64_t)time(NULL);
}

pkgflat_status pkgflat_sign(const char *in, const char *out,
    const pkgflat_identity *id, const pkgflat_sign_options *opt,
    pkgflat_sign_result *res, pkgflat_error *err)
{
	pkgflat_sign_job *j;
	pkgflat_status rc;

	if (res)
		memset(res, 0, sizeof *res);
	if ((rc = pkgflat_sign_begin(in, out, &j, err)))
		return rc;
	return pkgflat_sign_finish(j, id, opt, res, err);
}

pkgflat_status pkgflat_sign_file(const char *in, const char *out,
    const pkgflat_identity *id, int64_t timestamp, const char *tsa_url,
    int tsa_timeout, pkgflat_error *err)
{
	pkgflat_sign_options opt;

	pkgflat_sign_options_init(&opt);
	opt.timestamp = timestamp;
	opt.tsa_url = tsa_url;
	opt.tsa_timeout = tsa_timeout;
	return pkgflat_sign(in, out, id, &opt, NULL, err);
}

