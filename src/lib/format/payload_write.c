/*
 * The flat payload writer: libarchive's odc cpio writer, padded to 512
 * bytes as pkgbuild pads it, compressed by pgz on the other cores and
 * handed to a sink (the XAR heap). convert_payload.c feeds it the members
 * of a payload it transcodes; payload_read.c is the reading side.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "payload_write.h"

struct payload_writer {
	struct archive *out;      /* the cpio writer */
	pgz *gz;                  /* and the gzip compressor behind it */
	int failed;               /* the sink under the cpio writer failed */
	pgz_write_fn sink;
	void *sink_ctx;
	const char *name;
	pkgflat_error *err;
};

static const char *la_err(struct archive *a)
{
	const char *m = archive_error_string(a);
	return m ? m : "unreadable archive";
}

static int gz_out(void *ctx, const void *buf, size_t n)
{
	payload_writer *w = ctx;

	if (w->sink(w->sink_ctx, buf, n)) {
		w->failed = 1;
		return -1;
	}
	return 0;
}

/* libarchive writes plain cpio; pgz compresses it on the other cores. */
static la_ssize_t cpio_write_cb(struct archive *a, void *p, const void *buf,
    size_t n)
{
	payload_writer *w = p;

	if (pgz_write(w->gz, buf, n)) {
		archive_set_error(a, EIO, "write error");
		w->failed = 1;
		return -1;
	}
	return (la_ssize_t)n;
}

static int threads(int asked)
{
	long n = asked > 0 ? asked : sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 8 ? 8 : (int)n;
}

pkgflat_status payload_writer_open(const char *name, int level, int nthreads,
    pgz_write_fn sink, void *sink_ctx, payload_writer **out,
    pkgflat_error *err)
{
	payload_writer *w = pf_calloc(1, sizeof *w);
	pkgflat_status rc = PKGFLAT_OK;

	*out = NULL;
	if (!w)
		return fail_nomem(err);
	w->sink = sink;
	w->sink_ctx = sink_ctx;
	w->name = name;
	w->err = err;
	if (!(w->out = archive_write_new()) ||
	    !(w->gz = pgz_new(level, threads(nthreads), gz_out, w))) {
		rc = fail_nomem(err);
		goto out;
	}
	if (archive_write_set_format_cpio_odc(w->out) != ARCHIVE_OK ||
	    /* pkgbuild pads the cpio to 512 bytes, not tar's 10240. */
	    archive_write_set_bytes_per_block(w->out, 512) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(w->out, 512) != ARCHIVE_OK) {
		rc = fail(err, PKGFLAT_E_INTERNAL, name, NULL,
		    "cannot set up the cpio writer: %s", la_err(w->out));
		goto out;
	}
	if (archive_write_open(w->out, w, NULL, cpio_write_cb, NULL) !=
	    ARCHIVE_OK) {
		rc = fail(err, PKGFLAT_E_IO, name, NULL,
		    "cannot start the payload: %s", la_err(w->out));
		goto out;
	}
	*out = w;
	w = NULL;
out:
	payload_writer_free(w);
	return rc;
}

pkgflat_status payload_writer_entry(payload_writer *w, struct archive_entry *e,
    const char *where)
{
	if (archive_write_header(w->out, e) < ARCHIVE_WARN)
		return w->failed ? w->err->status :
		    fail(w->err, PKGFLAT_E_FORMAT, w->name, where,
		    "cannot write the entry: %s", la_err(w->out));
	return PKGFLAT_OK;
}

pkgflat_status payload_writer_data(payload_writer *w, const void *buf,
    size_t n, const char *where)
{
	if (archive_write_data(w->out, buf, n) != (la_ssize_t)n)
		return w->err->status ? w->err->status : fail(w->err,
		    PKGFLAT_E_IO, w->name, where,
		    "cannot write the payload: %s", la_err(w->out));
	return PKGFLAT_OK;
}

pkgflat_status payload_writer_finish(payload_writer *w)
{
	if (archive_write_close(w->out) != ARCHIVE_OK || pgz_finish(w->gz))
		return w->err->status ? w->err->status : fail(w->err,
		    PKGFLAT_E_IO, w->name, NULL, "cannot finish the payload: %s",
		    la_err(w->out));
	return PKGFLAT_OK;
}

void payload_writer_free(payload_writer *w)
{
	if (!w)
		return;
	if (w->out)
		archive_write_free(w->out);
	pgz_free(w->gz);
	free(w);
}

struct archive_entry *payload_odc_entry(struct archive_entry *ent,
    const char *path, uint32_t uid, uint32_t gid)
{
	struct archive_entry *oe = archive_entry_clone(ent);

	if (!oe)
		return NULL;
	archive_entry_set_pathname(oe, path);
	archive_entry_set_hardlink(oe, NULL);
	archive_entry_set_uid(oe, uid);
	archive_entry_set_gid(oe, gid);
	archive_entry_set_uname(oe, NULL);
	archive_entry_set_gname(oe, NULL);
	archive_entry_set_dev(oe, 0);
	archive_entry_xattr_clear(oe);
	archive_entry_acl_clear(oe);
	archive_entry_sparse_clear(oe);
	return oe;
}
