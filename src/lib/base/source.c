/*
 * Input sources (see source.h): what every kind of source shares (names for
 * messages, streams, sorted listings) and the symlink resolution on top of
 * a source's lstat: src_resolve() follows links one component at a time so
 * that a link can neither loop forever nor lead outside the package. The
 * kinds are source_dir.c (a directory), source_archive.c (a zip or tar) and
 * source_xar.c (a flat package).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"
#include "spill.h"

#define MAX_LINK_HOPS 40

pkgflat_status src_too_large(const src *s, const char *path, uint64_t size,
    size_t max, pkgflat_error *err)
{
	char *n = src_display(s, path);
	pkgflat_status rc = fail(err, PKGFLAT_E_FORMAT, n, NULL,
	    "file too large (%llu bytes, at most %zu expected)",
	    (unsigned long long)size, max);

	free(n);
	return rc;
}

char *src_display(const src *s, const char *path)
{
	if (!path || !path[0])
		return pf_strdup(s->display);
	if (s->is_archive)
		return pf_asprintf("%s(%s)", s->display, path);
	if (!s->display[0] || !strcmp(s->display, "."))
		return pf_strdup(path);
	size_t n = strlen(s->display);
	return pf_asprintf("%s%s%s", s->display, s->display[n - 1] == '/' ?
	    "" : "/", path);
}

void src_close(src *s)
{
	if (s)
		s->ops->close(s);
}

void src_stream_close(src_stream *st)
{
	if (st)
		st->close(st);
}

void *src_stream_new(size_t size, src *owner, const char *path,
    src_read_fn rd, void (*close_fn)(src_stream *))
{
	src_stream *st = pf_calloc(1, size);

	if (!st || !(st->path = pf_strdup(path))) {
		free(st);
		return NULL;
	}
	st->owner = owner;
	st->read = rd;
	st->close = close_fn;
	return st;
}

pkgflat_status src_list_sorted(const void *entries, size_t n, size_t stride,
    const char *dir, ptrvec *names, pkgflat_error *err)
{
	size_t dl = dir ? strlen(dir) : 0;
	const char *last = NULL;

	/* Sorted paths: the children of dir are one contiguous run. */
	for (size_t i = 0; i < n; i++) {
		const char *p = *(char *const *)((const char *)entries + i * stride);
		if (dl) {
			if (strncmp(p, dir, dl) || p[dl] != '/')
				continue;
			p += dl + 1;
		}
		if (strchr(p, '/'))
			continue;
		if (last && !strcmp(last, p))
			continue;
		last = p;
		char *c = pf_strdup(p);
		if (!c || pv_push(names, c)) {
			free(c);
			return fail_nomem(err);
		}
	}
	return PKGFLAT_OK;
}

/* ------------------------------------------------------------------ */
/* Symlink resolution                                                 */

pkgflat_status src_resolve(src *s, const char *path, char **out,
    struct src_stat *st, pkgflat_error *err)
{
	strbuf cur = { 0 };
	ptrvec todo = { 0 };   /* remaining components, last on top */
	pkgflat_status rc = PKGFLAT_OK;
	int hops = 0;
	char *lastlink = NULL;

	memset(st, 0, sizeof *st);
	sb_adds(&cur, "");
	/* Push components in reverse so the first is on top. */
	{
		char *p = pf_strdup(path ? path : "");
		if (!p) {
			rc = fail_nomem(err);
			goto out;
		}
		ptrvec parts = { 0 };
		char *save = NULL;
		/* strtok_r: diff reads two packages in two threads. */
		for (char *tok = strtok_r(p, "/", &save); tok;
		    tok = strtok_r(NULL, "/", &save))
			if (pv_push(&parts, pf_strdup(tok))) {
				free(p);
				pv_free(&parts, free);
				rc = fail_nomem(err);
				goto out;
			}
		free(p);
		for (size_t i = parts.n; i > 0; i--)
			pv_push(&todo, parts.v[i - 1]);
		free(parts.v);
	}
	st->type = SRC_DIR;
	while (todo.n) {
		char *comp = todo.v[--todo.n];
		if (!strcmp(comp, ".") || !comp[0]) {
			free(comp);
			continue;
		}
		if (!strcmp(comp, "..")) {
			free(comp);
			if (!cur.len) {
				char *n = src_display(s, lastlink ? lastlink : path);
				rc = fail(err, PKGFLAT_E_FORMAT, n, NULL,
				    "symlink points outside the package");
				free(n);
				goto out;
			}
			char *slash = strrchr(cur.buf, '/');
			cur.len = slash ? (size_t)(slash - cur.buf) : 0;
			cur.buf[cur.len] = '\0';
			continue;
		}
		size_t oldlen = cur.len;
		if (cur.len)
			sb_add(&cur, "/", 1);
		sb_adds(&cur, comp);
		free(comp);
		if (cur.oom) {
			rc = fail_nomem(err);
			goto out;
		}
		if ((rc = s->ops->lstat(s, cur.buf, st, err)))
			goto out;
		if (st->type == SRC_NONE) {
			/* Missing: report the path as far as it resolved. */
			while (todo.n) {
				char *c = todo.v[--todo.n];
				sb_add(&cur, "/", 1);
				sb_adds(&cur, c);
				free(c);
			}
			break;
		}
		if (st->type == SRC_LINK) {
			if (++hops > MAX_LINK_HOPS) {
				char *n = src_display(s, path);
				rc = fail(err, PKGFLAT_E_FORMAT, n, NULL,
				    "too many levels of symlinks (a symlink loop)");
				free(n);
				goto out;
			}
			free(lastlink);
			lastlink = pf_strdup(cur.buf);
			if (st->link[0] == '/') {
				char *n = src_display(s, cur.buf);
				rc = fail(err, PKGFLAT_E_FORMAT, n, NULL,
				    "symlink to an absolute path (%s) leaves the package",
				    st->link);
				free(n);
				goto out;
			}
			char *t = pf_strdup(st->link);
			if (!t) {
				rc = fail_nomem(err);
				goto out;
			}
			ptrvec parts = { 0 };
			char *tsave = NULL;
			for (char *tok = strtok_r(t, "/", &tsave); tok;
			    tok = strtok_r(NULL, "/", &tsave))
				pv_push(&parts, pf_strdup(tok));
			free(t);
			for (size_t i = parts.n; i > 0; i--)
				pv_push(&todo, parts.v[i - 1]);
			free(parts.v);
			cur.len = oldlen;
			cur.buf[cur.len] = '\0';
			continue;
		}
		if (st->type != SRC_DIR && todo.n) {
			/* A file in the middle of a path: nothing there. */
			memset(st, 0, sizeof *st);
			while (todo.n) {
				char *c = todo.v[--todo.n];
				sb_add(&cur, "/", 1);
				sb_adds(&cur, c);
				free(c);
			}
			break;
		}
	}
	if (cur.oom) {
		rc = fail_nomem(err);
		goto out;
	}
	if (out) {
		*out = sb_detach(&cur);
		if (!*out)
			rc = fail_nomem(err);
	}
out:
	sb_free(&cur);
	pv_free(&todo, free);
	free(lastlink);
	return rc;
}

pkgflat_status src_stat(src *s, const char *path, struct src_stat *st,
    pkgflat_error *err)
{
	return src_resolve(s, path, NULL, st, err);
}

static pkgflat_status resolve_file(src *s, const char *path, char **real,
    pkgflat_error *err)
{
	struct src_stat st;
	pkgflat_status rc = src_resolve(s, path, real, &st, err);

	if (rc)
		return rc;
	if (st.type != SRC_FILE) {
		char *n = src_display(s, path);
		rc = st.type == SRC_NONE ?
		    fail(err, PKGFLAT_E_FORMAT, n, NULL, "file is missing") :
		    fail(err, PKGFLAT_E_FORMAT, n, NULL, "not a regular file");
		free(n);
		free(*real);
		*real = NULL;
	}
	return rc;
}

pkgflat_status src_read(src *s, const char *path, size_t max,
    unsigned char **data, size_t *len, pkgflat_error *err)
{
	char *real = NULL;
	pkgflat_status rc = resolve_file(s, path, &real, err);

	if (!rc)
		rc = s->ops->read(s, real, max, data, len, err);
	free(real);
	return rc;
}

pkgflat_status src_read_spill(src *s, const char *path, size_t max,
    struct spill *out, pkgflat_error *err)
{
	const size_t chunk = (size_t)1 << 20;
	struct src_stat sb;
	src_stream *st = NULL;
	pkgflat_status rc;
	unsigned char extra;

	spill_init(out);
	if ((rc = src_stat(s, path, &sb, err)))
		return rc;
	if (sb.size > max)
		return src_too_large(s, path, sb.size, max, err);
	if ((rc = src_open_stream(s, path, &st, err)))
		return rc;
	if ((rc = spill_reserve(out, (size_t)sb.size + 1, err)))
		goto done;
	while (out->len < sb.size) {
		size_t want = (size_t)sb.size - out->len;
		long k = st->read(st, out->p + out->len, want < chunk ? want :
		    chunk);
		if (k < 0) {
			rc = err && err->status ? err->status : PKGFLAT_E_IO;
			goto done;
		}
		if (k == 0)
			break; /* the stream reports a short member itself */
		out->len += (size_t)k;
		spill_trim_every(out, chunk);
	}
	/* Reading on to the end makes the stream check what it checks
	 * there (a member's checksum); nothing may follow its size. */
	long k = st->read(st, &extra, 1);
	if (k < 0)
		rc = err && err->status ? err->status : PKGFLAT_E_IO;
	else if (k > 0 || out->len < sb.size) {
		char *name = src_display(s, path);
		rc = fail(err, PKGFLAT_E_FORMAT, name ? name : path, NULL,
		    "holds %s bytes than its size, %llu",
		    k > 0 ? "more" : "fewer", (unsigned long long)sb.size);
		free(name);
	}
done:
	src_stream_close(st);
	if (rc)
		spill_close(out);
	else
		spill_trim(out);
	return rc;
}

pkgflat_status src_open_stream(src *s, const char *path, src_stream **out,
    pkgflat_error *err)
{
	char *real = NULL;
	pkgflat_status rc = resolve_file(s, path, &real, err);

	if (!rc) {
		rc = s->ops->open_stream(s, real, out, err);
		if (!rc)
			(*out)->err = err;
	}
	free(real);
	return rc;
}
