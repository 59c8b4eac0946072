/*
 * A legacy payload into a flat Payload: gzip'd odc cpio, "." first, "./"
 * names, TRAILER!!! (flat-format.md §3.2), with the Bom built on the way.
 *
 * Fast path: an Archive.pax.gz that already is such a stream is copied
 * byte for byte into the heap while libarchive decodes the same bytes once
 * for the BOM (paths, modes, owners, CRCs). If anything turns out not to
 * fit on the way (a name without "./", another format, an owner the
 * ownership policy changes), the copy is dropped and the payload is transcoded instead:
 * decoded with libarchive and written again as odc cpio through gzip
 * (payload_write.c).
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cksum.h"
#include "convert.h"
#include "payload.h"
#include "payload_write.h"

#define IO_BUF (256 * 1024)
#define ODC_MAX_FILE ((uint64_t)077777777777) /* 11 octal digits */

struct tee {
	src_stream *in;
	const struct payload_job *job;
	uint64_t nread;      /* raw bytes read in this pass, for progress */
	xar_writer *xw;      /* non-NULL: copy raw bytes here (fast path) */
	pkgflat_error *err;
	int failed;
	/* A gzip payload is inflated by gzin, which checks its trailers, and
	 * libarchive reads the cpio or tar inside; the raw bytes still pass
	 * through raw_read() and so into the copy. */
	struct gzin *gz;
	unsigned char head[64];   /* read ahead to sniff gzip */
	size_t nhead;
	unsigned char buf[IO_BUF];
};

/* The payload's own bytes, copied on the fast path as they go by. */
static long raw_read(void *p, void *buf, size_t n)
{
	struct tee *t = p;
	long k = t->in->read(t->in, buf, n);

	if (k < 0 || (k > 0 && t->xw &&
	    xarw_file_write(t->xw, buf, (size_t)k, t->err))) {
		t->failed = 1;
		return -1;
	}
	t->nread += (uint64_t)k;
	if (k > 0 && t->job && t->job->progress)
		t->job->progress(t->job->progress_ctx, t->nread);
	return k;
}

static la_ssize_t tee_read(struct archive *a, void *p, const void **out)
{
	struct tee *t = p;
	long n;

	if (t->nhead) {
		*out = t->head;
		n = (long)t->nhead;
		t->nhead = 0;
		return n;
	}
	n = t->gz ? gzin_read(t->gz, t->buf, sizeof t->buf) :
	    raw_read(t, t->buf, sizeof t->buf);
	if (n < 0) {
		t->failed = 1;
		archive_set_error(a, EIO, "read error");
		return -1;
	}
	*out = t->buf;
	return n;
}

static struct archive *reader_new(struct tee *t, const char *name,
    pkgflat_error *err)
{
	struct archive *a = archive_read_new();

	if (!a) {
		fail_nomem(err);
		return NULL;
	}
	while (t->nhead < 2) {
		long k = raw_read(t, t->head + t->nhead, sizeof t->head - t->nhead);
		if (k < 0) {
			archive_read_free(a);
			return NULL;
		}
		if (k == 0)
			break;
		t->nhead += (size_t)k;
	}
	if (t->nhead >= 2 && GZIP_MAGIC(t->head)) {
		if (gzin_open(raw_read, t, t->head, t->nhead, name, &t->gz, err)) {
			archive_read_free(a);
			return NULL;
		}
		t->nhead = 0;
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_cpio(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_read_support_format_empty(a);
	if (archive_read_open(a, t, NULL, tee_read, NULL) != ARCHIVE_OK) {
		if (!t->failed)
			fail(err, PKGFLAT_E_FORMAT, name, "offset 0",
			    "not a cpio or tar payload: %s", archive_error_string(a));
		archive_read_free(a);
		return NULL;
	}
	return a;
}

static const char *la_err(struct archive *a)
{
	const char *m = archive_error_string(a);
	return m ? m : "unreadable archive";
}

struct target {
	char *path;
	uint64_t ino;
};

static int target_cmp(const void *a, const void *b)
{
	return strcmp(((const struct target *)a)->path,
	    ((const struct target *)b)->path);
}

static struct target *find_target(struct target *t, size_t n, const char *p)
{
	struct target key = { (char *)p, 0 };

	return n ? bsearch(&key, t, n, sizeof *t, target_cmp) : NULL;
}

/* Everything a pass needs to know and produce. */
struct pass {
	const struct payload_job *job;
	struct payload_result *res;
	bom_writer *bw;
	payload_writer *out;      /* transcode: the payload written again */
	struct gzin *in_gz;       /* the payload is gzip, decoded by gzin */
	uint64_t next_ino;
	int saw_root;
	/* Hard links. odc links entries that share an inode and say nlink > 1,
	 * so a link's target must be written knowing it will be linked. tar
	 * only says so at the link: a pass that meets an unknown target
	 * records it, and the payload is written once more. */
	struct target *targets;   /* sorted by path: known link targets */
	size_t ntargets;
	ptrvec missed;            /* targets met too late in this pass */
	ptrvec sidecars;          /* "._X" stored twice, differently */
	unsigned char buf[IO_BUF];
};

/* Reading failed at where: a reader below libarchive may have said why. */
static pkgflat_status read_failed(struct pass *ps, struct archive *a,
    const char *where)
{
	pkgflat_error *err = ps->job->err;

	if (err->status) {
		if (gzin_failed(ps->in_gz))
			payload_where_entry(err, where);
		return err->status;
	}
	return fail(err, PKGFLAT_E_FORMAT, ps->job->name, where, "%s",
	    la_err(a));
}

/* Where an entry sits, for messages. */
static void where_entry(char *w, size_t n, uint64_t index, const char *path)
{
	snprintf(w, n, "entry %llu (%s)", (unsigned long long)index,
	    path ? path : "?");
}

/* Where the transcoded payload goes: the Payload file in the heap. */
static int heap_write(void *ctx, const void *buf, size_t n)
{
	struct pass *ps = ctx;

	return xarw_file_write(ps->job->xw, buf, n, ps->job->err) ? -1 : 0;
}

static pkgflat_status bom_add(struct pass *ps, const pkgflat_entry *e)
{
	pkgflat_status rc = bomw_add(ps->bw, e, ps->job->err);

	if (rc == PKGFLAT_E_USAGE || rc == PKGFLAT_E_FORMAT) {
		/* The BOM writer's complaint is about the payload: say where. */
		ps->job->err->status = PKGFLAT_E_FORMAT;
		if (!ps->job->err->file[0])
			snprintf(ps->job->err->file, sizeof ps->job->err->file, "%s",
			    ps->job->name);
	}
	return rc;
}

static void count(struct payload_result *r, const pkgflat_entry *e)
{
	pkgflat_payload_stats *s = &r->stats;

	if (e->uid != 0 && r->nonroot++ == 0) {
		r->nonroot_path = pf_strdup(e->path);
		r->nonroot_uid = e->uid;
	}
	s->entries++;
	switch (e->type) {
	case PKGFLAT_ENTRY_FILE:
		s->files++;
		s->file_bytes += e->size;
		break;
	case PKGFLAT_ENTRY_DIR: s->dirs++; break;
	case PKGFLAT_ENTRY_SYMLINK: s->symlinks++; break;
	case PKGFLAT_ENTRY_HARDLINK: s->hardlinks++; break;
	default: s->others++; break;
	}
}

static const char *type_name(uint32_t t)
{
	switch (t) {
	case AE_IFREG: return "a file";
	case AE_IFDIR: return "a directory";
	case AE_IFLNK: return "a symlink";
	case AE_IFCHR: return "a character device";
	case AE_IFBLK: return "a block device";
	case AE_IFIFO: return "a fifo";
	case AE_IFSOCK: return "a socket";
	default: return "of unknown type";
	}
}

/*
 * A path stored again must be stored the same way: the Bom can list only
 * one of the copies, and verify holds every copy in the Payload to it (an
 * AppleDouble "._" file excepted, as there). Installer would keep the later
 * copy, mkbom listed the first: no flat package can say both.
 */
static pkgflat_status same_again(struct pass *ps, const pkgflat_entry *e,
    const char *where)
{
	pkgflat_entry had;
	char what[160];

	if (!bomw_get(ps->bw, e->path, &had))
		return PKGFLAT_OK;
	uint32_t t0 = had.mode & AE_IFMT, t1 = e->type ==
	    PKGFLAT_ENTRY_HARDLINK ? AE_IFREG : e->mode & AE_IFMT;
	if (t0 != t1)
		snprintf(what, sizeof what, "first as %s, then as %s",
		    type_name(t0), type_name(t1));
	else if (t0 == AE_IFREG && !strncmp(path_base(e->path), "._", 2)) {
		/* The Bom keeps no attributes of a "._X" beside an X (and
		 * verify looks at none): see at the end that X is there. */
		char *w = pf_strdup(e->path);
		if (!w || pv_push(&ps->sidecars, w)) {
			free(w);
			return fail_nomem(ps->job->err);
		}
		return PKGFLAT_OK;
	}
	else if ((had.mode & 07777) != (e->mode & 07777))
		snprintf(what, sizeof what, "first with mode %04o, then %04o",
		    had.mode & 07777, e->mode & 07777);
	else if (had.uid != e->uid || had.gid != e->gid)
		snprintf(what, sizeof what, "first owned by %u/%u, then %u/%u",
		    had.uid, had.gid, e->uid, e->gid);
	else if (e->type == PKGFLAT_ENTRY_FILE && had.size != e->size)
		snprintf(what, sizeof what, "first with %llu bytes, then %llu",
		    (unsigned long long)had.size, (unsigned long long)e->size);
	else if (t0 == AE_IFLNK && strcmp(had.link_target ? had.link_target :
	    "", e->link_target ? e->link_target : ""))
		snprintf(what, sizeof what, "as symlinks to different targets");
	else
		return PKGFLAT_OK;
	return fail(ps->job->err, PKGFLAT_E_FORMAT, ps->job->name, where,
	    "path stored twice, %s: its Bom could list only one copy",
	    what);
}

/* Each "._X" stored twice, differently, needs its X (see same_again). */
static pkgflat_status sidecars_beside(struct pass *ps)
{
	for (size_t i = 0; i < ps->sidecars.n; i++) {
		const char *side = ps->sidecars.v[i];
		char *x = pf_strdup(side);
		if (!x)
			return fail_nomem(ps->job->err);
		char *base = (char *)path_base(x);
		memmove(base, base + 2, strlen(base + 2) + 1);
		int there = bomw_contains(ps->bw, x);
		free(x);
		if (!there)
			return fail(ps->job->err, PKGFLAT_E_FORMAT, ps->job->name,
			    side, "path stored twice, differently, with no file "
			    "beside it that it belongs to: its Bom could list only "
			    "one copy");
	}
	return PKGFLAT_OK;
}

/* The "." entry a payload without one gets: root-owned, like pkgbuild's. */
static pkgflat_status add_root(struct pass *ps)
{
	const struct payload_job *job = ps->job;
	pkgflat_entry e = { 0 };
	pkgflat_status rc;

	e.path = ".";
	e.type = PKGFLAT_ENTRY_DIR;
	e.mode = AE_IFDIR | 0755;
	e.mtime = job->mtime;
	e.nlink = 2;
	if (ps->out) {
		struct archive_entry *ae = archive_entry_new();
		if (!ae)
			return fail_nomem(job->err);
		archive_entry_set_pathname(ae, ".");
		archive_entry_set_mode(ae, e.mode);
		/* libarchive's cpio writer refuses an entry without a size. */
		archive_entry_set_size(ae, 0);
		archive_entry_set_mtime(ae, e.mtime, 0);
		archive_entry_set_nlink(ae, 2);
		archive_entry_set_ino64(ae, (la_int64_t)ps->next_ino++);
		rc = payload_writer_entry(ps->out, ae, "entry 0 (.)");
		archive_entry_free(ae);
		if (rc)
			return rc;
	}
	if ((rc = bom_add(ps, &e)))
		return rc;
	count(ps->res, &e);
	ps->saw_root = 1;
	return PKGFLAT_OK;
}

/*
 * One pass over the payload. fast != 0: the raw bytes are being copied into
 * the heap and this pass only checks and indexes them; *unfit is set (and
 * the pass stops) at the first thing that needs a transcode.
 */
static pkgflat_status run_pass(struct pass *ps, struct archive *a, int fast,
    int *unfit)
{
	const struct payload_job *job = ps->job;
	pkgflat_error *err = job->err;
	struct archive_entry *ent;
	pkgflat_status rc = PKGFLAT_OK;
	char *path = NULL, *link = NULL, *last = NULL;
	char where[512];
	uint64_t index = 0;
	struct cpio_track ct = { -1, -1 };
	int r;

	/* What a payload without a single entry reports. */
	ps->res->stats.format = "empty";
	ps->res->stats.compression = ps->in_gz ? "gzip" : "none";
	for (;; index++) {
		char msg[256];
		r = archive_read_next_header(a, &ent);
		if (cpio_track_step(&ct, a, r, ent, index, last, where,
		    sizeof where, msg, sizeof msg)) {
			rc = fail(err, PKGFLAT_E_FORMAT, job->name, where, "%s", msg);
			goto out;
		}
		if (r == ARCHIVE_EOF)
			break;
		if (r == ARCHIVE_WARN && !strstr(la_err(a), "can't be converted"))
			r = ARCHIVE_FATAL;
		if (r < ARCHIVE_WARN) {
			if (last)
				snprintf(where, sizeof where, "entry %llu (after %s)",
				    (unsigned long long)index, last);
			else
				snprintf(where, sizeof where, "entry %llu",
				    (unsigned long long)index);
			rc = read_failed(ps, a, where);
			goto out;
		}
		int fmt = archive_format(a);
		const char *raw = archive_entry_pathname(ent);
		if (index == 0) {
			int inner = archive_filter_code(a, 0);
			ps->res->stats.compression = inner != ARCHIVE_FILTER_NONE ?
			    "other" : ps->in_gz ? "gzip" : "none";
			ps->res->stats.format = fmt == ARCHIVE_FORMAT_CPIO_POSIX ?
			    "odc cpio" : (fmt & ARCHIVE_FORMAT_BASE_MASK) ==
			    ARCHIVE_FORMAT_TAR ? "tar" : (fmt &
			    ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_CPIO ?
			    "cpio" : "other";
		}
		if (fast && (fmt != ARCHIVE_FORMAT_CPIO_POSIX || !ps->in_gz ||
		    archive_filter_code(a, 0) != ARCHIVE_FILTER_NONE ||
		    !raw || (index == 0 ? strcmp(raw, ".") != 0 :
		    strncmp(raw, "./", 2) != 0))) {
			*unfit = 1;
			goto out;
		}
		free(path);
		path = payload_norm_path(raw);
		if (!path) {
			snprintf(where, sizeof where, "entry %llu",
			    (unsigned long long)index);
			rc = fail(err, PKGFLAT_E_FORMAT, job->name, where,
			    "member name \"%s\" climbs out of the install root",
			    raw ? raw : "");
			goto out;
		}
		where_entry(where, sizeof where, index, path);
		if (!strcmp(path, ".")) {
			if (ps->saw_root) {
				/* A late or second "." would repeat the root: skip. */
				if (archive_read_data_skip(a) < ARCHIVE_WARN) {
					rc = read_failed(ps, a, where);
					goto out;
				}
				continue;
			}
		} else if (!ps->saw_root && (rc = add_root(ps)))
			goto out;

		const char *hl = archive_entry_hardlink(ent);
		free(link);
		link = NULL;
		if (hl && !(link = payload_norm_path(hl))) {
			rc = fail(err, PKGFLAT_E_FORMAT, job->name, where,
			    "hard link target \"%s\" climbs out of the install root",
			    hl);
			goto out;
		}
		pkgflat_entry e;
		payload_fill_entry(ent, path, link, &e);
		if (!e.type) {
			rc = fail(err, PKGFLAT_E_UNSUPPORTED, job->name, where,
			    "file type %06o cannot go into a flat payload", e.mode);
			goto out;
		}
		if (e.type == PKGFLAT_ENTRY_FILE && e.size > ODC_MAX_FILE) {
			rc = fail(err, PKGFLAT_E_UNSUPPORTED, job->name, where,
			    "file of %llu bytes is too large for a flat payload "
			    "(odc cpio stores at most 8 GiB - 1)",
			    (unsigned long long)e.size);
			goto out;
		}
		uint32_t was_uid = e.uid, was_gid = e.gid;
		if (pkgflat_ownership_apply(job->ownership, &e.uid, &e.gid)) {
			/* The bytes as stored would carry the old owner. */
			if (fast) {
				*unfit = 1;
				goto out;
			}
			if (ps->res->normalised++ == 0) {
				if (!(ps->res->norm_path = pf_strdup(path))) {
					rc = fail_nomem(err);
					goto out;
				}
				ps->res->norm_uid = was_uid;
				ps->res->norm_gid = was_gid;
				ps->res->norm_to_uid = e.uid;
				ps->res->norm_to_gid = e.gid;
			}
		}

		/* Transcode: the header goes out before the data. */
		struct archive_entry *oe = NULL;
		if (ps->out) {
			oe = payload_odc_entry(ent, path, e.uid, e.gid);
			if (!oe) {
				rc = fail_nomem(err);
				goto out;
			}
			uint64_t ino = ps->next_ino++;
			struct target *tg;
			if (link) {
				/* odc: the same inode, no data, nlink > 1. */
				tg = find_target(ps->targets, ps->ntargets, link);
				if (!tg) {
					char *m = pf_strdup(link);
					if (!m || pv_push(&ps->missed, m)) {
						free(m);
						archive_entry_free(oe);
						rc = fail_nomem(err);
						goto out;
					}
				} else
					ino = tg->ino;
				archive_entry_set_filetype(oe, AE_IFREG);
				archive_entry_set_size(oe, 0);
				archive_entry_set_nlink(oe, 2);
			} else if ((tg = find_target(ps->targets, ps->ntargets, path))) {
				tg->ino = ino;
				archive_entry_set_nlink(oe, 2);
			} else
				archive_entry_set_nlink(oe, e.type == PKGFLAT_ENTRY_DIR ? 2 : 1);
			archive_entry_set_ino64(oe, (la_int64_t)ino);
			if ((rc = payload_writer_entry(ps->out, oe, where))) {
				archive_entry_free(oe);
				goto out;
			}
		}

		/* Data: CRC for the BOM, and copied out when transcoding. */
		if (e.type == PKGFLAT_ENTRY_FILE) {
			cksum_ctx ck;
			uint64_t got = 0;
			cksum_init(&ck);
			for (;;) {
				la_ssize_t n = archive_read_data(a, ps->buf, sizeof ps->buf);
				if (n < 0) {
					rc = read_failed(ps, a, where);
					archive_entry_free(oe);
					goto out;
				}
				if (n == 0)
					break;
				cksum_update(&ck, ps->buf, (size_t)n);
				got += (uint64_t)n;
				if (job->chunk_fn && job->chunk_fn(&e, ps->buf, (size_t)n,
				    job->chunk_ctx)) {
					rc = fail_nomem(err);
					archive_entry_free(oe);
					goto out;
				}
				if (ps->out && (rc = payload_writer_data(ps->out, ps->buf,
				    (size_t)n, where))) {
					archive_entry_free(oe);
					goto out;
				}
			}
			if (got != e.size) {
				rc = fail(err, PKGFLAT_E_FORMAT, job->name, where,
				    "entry holds %llu bytes, its header says %llu",
				    (unsigned long long)got, (unsigned long long)e.size);
				archive_entry_free(oe);
				goto out;
			}
			if (job->chunk_fn && job->chunk_fn(&e, NULL, 0, job->chunk_ctx)) {
				rc = fail_nomem(err);
				archive_entry_free(oe);
				goto out;
			}
			e.crc = cksum_final(&ck);
			e.has_crc = 1;
		} else if (archive_read_data_skip(a) < ARCHIVE_WARN) {
			rc = read_failed(ps, a, where);
			archive_entry_free(oe);
			goto out;
		}
		archive_entry_free(oe);
		if (strcmp(path, ".") && bomw_contains(ps->bw, path)) {
			/* Stored twice: Installer keeps the later copy, Apple's
			 * mkbom listed the first. Do as mkbom did, and say so.
			 * Only when both copies agree, though. */
			if ((rc = same_again(ps, &e, where)))
				goto out;
			if (ps->res->dups++ == 0)
				ps->res->dup_path = pf_strdup(path);
		} else if ((rc = bom_add(ps, &e)))
			goto out;
		count(ps->res, &e);
		if (!strcmp(path, "."))
			ps->saw_root = 1;
		free(last);
		last = pf_strdup(path);
	}
	if (index == 0)
		ps->res->empty = 1;
	if ((rc = sidecars_beside(ps)))
		goto out;
	if (!ps->saw_root) {
		/* The copy cannot get a "." it does not hold. */
		if (fast) {
			*unfit = 1;
			goto out;
		}
		if ((rc = add_root(ps)))
			goto out;
	}
out:
	free(path);
	free(link);
	free(last);
	return rc;
}

static void pass_free(struct pass *ps)
{
	payload_writer_free(ps->out);
	bomw_free(ps->bw);
	pv_free(&ps->missed, free);
	pv_free(&ps->sidecars, free);
	ps->out = NULL;
	ps->bw = NULL;
}

static pkgflat_status attempt(const struct payload_job *job,
    struct payload_result *res, int fast, int *unfit, struct target *targets,
    size_t ntargets, ptrvec *missed)
{
	struct pass *ps = pf_calloc(1, sizeof *ps);
	struct tee *t = pf_calloc(1, sizeof *t);
	struct archive *a = NULL;
	pkgflat_status rc;

	free(res->nonroot_path);
	free(res->dup_path);
	free(res->norm_path);
	memset(res, 0, sizeof *res);
	if (!ps || !t) {
		rc = fail_nomem(job->err);
		goto out;
	}
	ps->job = job;
	ps->res = res;
	ps->next_ino = 1;
	ps->targets = targets;
	ps->ntargets = ntargets;
	if ((rc = bomw_new(&ps->bw, job->err)))
		goto out;
	if ((rc = job->open(job->open_ctx, &t->in, job->err)))
		goto out;
	t->err = job->err;
	t->job = job;
	t->xw = fast ? job->xw : NULL;
	if ((rc = xarw_file_begin(job->xw, job->parent, "Payload", XAR_ENC_RAW,
	    job->err)))
		goto out;
	if (!fast && (rc = payload_writer_open(job->name, job->gzip_level,
	    job->threads, heap_write, ps, &ps->out, job->err)))
		goto out;
	if (!(a = reader_new(t, job->name, job->err))) {
		rc = job->err->status ? job->err->status : PKGFLAT_E_FORMAT;
		goto out;
	}
	ps->in_gz = t->gz;
	if ((rc = run_pass(ps, a, fast, unfit)) || *unfit)
		goto out;
	if (ps->missed.n) {
		/* Hand the late-found link targets back and start over. */
		*missed = ps->missed;
		memset(&ps->missed, 0, sizeof ps->missed);
		*unfit = 1;
		goto out;
	}
	/* libarchive stops at the archive's end: gzin reads on through the
	 * padding to the last trailer, checking it, and the copy gets it all. */
	if (t->gz && (rc = gzin_drain(t->gz)))
		goto out;
	if (fast) {
		/* Copy what is left unread (nothing, once gzin has drained). */
		for (;;) {
			long n = t->in->read(t->in, t->buf, sizeof t->buf);
			if (n < 0) {
				rc = job->err->status;
				goto out;
			}
			if (n == 0)
				break;
			if ((rc = xarw_file_write(job->xw, t->buf, (size_t)n, job->err)))
				goto out;
		}
	} else if ((rc = payload_writer_finish(ps->out)))
		goto out;
	if ((rc = xarw_file_end(job->xw, job->err)))
		goto out;
	res->copied = fast;
	res->stats.install_kbytes = (res->stats.file_bytes + 1023) / 1024;
	res->stats.has_dot_root = 1;
	res->stats.dot_slash_names = 1;
	/* Reading and writing the payload is done: let their buffers go
	 * before the Bom is laid out, when memory peaks. */
	payload_writer_free(ps->out);
	ps->out = NULL;
	archive_read_free(a);
	a = NULL;
	if (t->gz) {
		gzin_free(t->gz);
		t->gz = NULL;
	}
	rc = bomw_finish_spill(ps->bw, &res->bom, job->err);
out:
	/* The cpio writer flushes into the heap file when freed: free it
	 * before that file is dropped. */
	if (ps)
		pass_free(ps);
	if (rc || *unfit)
		xarw_file_abort(job->xw);
	if (a)
		archive_read_free(a);
	if (t) {
		gzin_free(t->gz);
		if (t->in)
			src_stream_close(t->in);
	}
	free(ps);
	free(t);
	return rc;
}

/*
 * tar says a file is hard-linked only at the link, after the file itself
 * went out; odc needs to know at the file. So for tar input, read the
 * headers once first and note every link target. cpio input says nlink
 * at each file and needs no such pass: the scan stops at its first header.
 */
static pkgflat_status scan_links(const struct payload_job *job,
    ptrvec *targets)
{
	struct tee *t = pf_calloc(1, sizeof *t);
	struct archive *a = NULL;
	struct archive_entry *ent;
	pkgflat_status rc = PKGFLAT_OK;
	int r;

	if (!t)
		return fail_nomem(job->err);
	t->err = job->err;
	if ((rc = job->open(job->open_ctx, &t->in, job->err)))
		goto out;
	if (!(a = reader_new(t, job->name, job->err))) {
		rc = job->err->status ? job->err->status : PKGFLAT_E_FORMAT;
		goto out;
	}
	while ((r = archive_read_next_header(a, &ent)) >= ARCHIVE_WARN) {
		if ((archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) !=
		    ARCHIVE_FORMAT_TAR)
			break;
		const char *hl = archive_entry_hardlink(ent);
		char *n = hl ? payload_norm_path(hl) : NULL;
		if (n && pv_push(targets, n)) {
			free(n);
			rc = fail_nomem(job->err);
			goto out;
		}
	}
	/* Errors are the main pass's to report, with its context: it
	 * starts from a clear error. */
	if (r < ARCHIVE_WARN && r != ARCHIVE_EOF)
		pkgflat_error_clear(job->err);
out:
	if (a)
		archive_read_free(a);
	gzin_free(t->gz);
	if (t->in)
		src_stream_close(t->in);
	free(t);
	return rc;
}

static pkgflat_status make_targets(ptrvec *names, struct target **out,
    size_t *n, pkgflat_error *err)
{
	*out = NULL;
	*n = 0;
	if (!names->n)
		return PKGFLAT_OK;
	qsort(names->v, names->n, sizeof *names->v, str_ptr_cmp);
	if (!(*out = pf_calloc(names->n, sizeof **out)))
		return fail_nomem(err);
	for (size_t i = 0; i < names->n; i++)
		if (!*n || strcmp((*out)[*n - 1].path, names->v[i]))
			(*out)[(*n)++].path = names->v[i];
	return PKGFLAT_OK;
}

pkgflat_status payload_convert(const struct payload_job *job,
    struct payload_result *res)
{
	int unfit = 0;
	pkgflat_status rc;
	ptrvec missed = { 0 };
	struct target *targets = NULL;
	size_t ntargets = 0;

	if (job->ownership != PKGFLAT_OWNERSHIP_ROOT && !job->force_transcode) {
		rc = attempt(job, res, 1, &unfit, NULL, 0, &missed);
		if (rc || !unfit)
			return rc;
		spill_close(&res->bom);
	}
	ptrvec known = { 0 };
	if ((rc = scan_links(job, &known)) ||
	    (rc = make_targets(&known, &targets, &ntargets, job->err)))
		goto out;
	unfit = 0;
	rc = attempt(job, res, 0, &unfit, targets, ntargets, &missed);
	if (!rc && unfit) {
		/* cpio links to a file that did not say nlink > 1: once more. */
		spill_close(&res->bom);
		free(targets);
		if ((rc = make_targets(&missed, &targets, &ntargets, job->err)))
			goto out;
		ptrvec again = { 0 };
		unfit = 0;
		rc = attempt(job, res, 0, &unfit, targets, ntargets, &again);
		pv_free(&again, free);
		if (!rc && unfit)
			rc = fail(job->err, PKGFLAT_E_FORMAT, job->name, NULL,
			    "a hard link names a file the payload does not hold");
	}
out:
	pv_free(&known, free);
	pv_free(&missed, free);
	free(targets);
	return rc;
}
