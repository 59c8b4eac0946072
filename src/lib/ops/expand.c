/*
 * expand: a flat package file into a directory, as pkgutil --expand (and
 * --expand-full) lay it out:
 *
 *   Distribution, Resources/...           product archives
 *   <Name>.pkg/PackageInfo, Bom           each component (or at the top
 *   <Name>.pkg/Payload, Scripts           for a component package)
 *
 * Members are written decoded, as xar -x writes them. With full, a
 * component's Payload and Scripts become directories of those names
 * (tree_extract.c). The directory is filled under a temporary name beside
 * it and renamed into place only when complete, never over anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"
#include "tree.h"

#define COPY_BUF (256 * 1024)
#define MAX_DEPTH 64

struct expand {
	src *s;
	int full;
	pkgflat_error *err;
	unsigned char *buf;
};

static int is_component(struct expand *x, const char *inner)
{
	char *pi = path_join(inner, "PackageInfo");
	struct src_stat st;
	pkgflat_error e;
	int yes;

	pkgflat_error_clear(&e);
	yes = pi && !x->s->ops->lstat(x->s, pi, &st, &e) && st.type == SRC_FILE;
	free(pi);
	return yes;
}

static pkgflat_status copy_file(struct expand *x, const char *inner,
    int dfd, const char *name, uint32_t mode)
{
	src_stream *in = NULL;
	pkgflat_status rc;
	char *shown = src_display(x->s, inner);
	int fd = -1;

	if (!shown)
		return fail_nomem(x->err);
	if ((rc = x->s->ops->open_stream(x->s, inner, &in, x->err)))
		goto out;
	in->err = x->err;
	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, (mode & 0777) | 0600);
	if (fd < 0) {
		rc = fail_errno(x->err, shown, "cannot create the copy");
		goto out;
	}
	for (;;) {
		long k = in->read(in, x->buf, COPY_BUF);
		if (k < 0) {
			rc = x->err->status ? x->err->status : PKGFLAT_E_IO;
			break;
		}
		if (!k)
			break;
		for (long off = 0; off < k;) {
			ssize_t w = write(fd, x->buf + off, (size_t)(k - off));
			if (w < 0) {
				rc = fail_errno(x->err, shown, "cannot write the copy");
				goto out;
			}
			off += w;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	src_stream_close(in);
	free(shown);
	return rc;
}

static pkgflat_status extract_member(struct expand *x, const char *inner,
    int dfd, const char *name)
{
	src_stream *in = NULL;
	pkgflat_status rc;
	char *shown = src_display(x->s, inner);
	int fd = -1;

	if (!shown)
		return fail_nomem(x->err);
	if (mkdirat(dfd, name, 0755) ||
	    (fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0) {
		rc = fail_errno(x->err, shown, "cannot make the directory");
		goto out;
	}
	if ((rc = x->s->ops->open_stream(x->s, inner, &in, x->err)))
		goto out;
	in->err = x->err;
	rc = tree_extract(in, fd, shown, x->err);
out:
	if (fd >= 0)
		close(fd);
	src_stream_close(in);
	free(shown);
	return rc;
}

static pkgflat_status copy_dir(struct expand *x, const char *inner, int dfd,
    int component, int depth)
{
	ptrvec names = { 0 };
	pkgflat_status rc;

	if (depth > MAX_DEPTH)
		return fail(x->err, PKGFLAT_E_FORMAT, x->s->display, inner,
		    "directories nested more than %d deep", MAX_DEPTH);
	if ((rc = x->s->ops->list(x->s, inner, &names, x->err)))
		return rc;
	for (size_t i = 0; i < names.n && !rc; i++) {
		const char *name = names.v[i];
		char *p = path_join(inner, name);
		struct src_stat st;
		if (!p) {
			rc = fail(x->err, PKGFLAT_E_FORMAT, x->s->display, inner,
			    "member name \"%s\" is not a plain name", name);
			break;
		}
		if ((rc = x->s->ops->lstat(x->s, p, &st, x->err))) {
			free(p);
			break;
		}
		switch (st.type) {
		case SRC_DIR: {
			int fd = -1;
			if (mkdirat(dfd, name, 0755) ||
			    (fd = openat(dfd, name, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC)) < 0) {
				char *shown = src_display(x->s, p);
				rc = fail_errno(x->err, shown ? shown : p,
				    "cannot make the directory");
				free(shown);
				break;
			}
			rc = copy_dir(x, p, fd, x->full && depth == 0 &&
			    is_component(x, p), depth + 1);
			close(fd);
			break;
		}
		case SRC_FILE:
			if (component && (!strcmp(name, "Payload") ||
			    !strcmp(name, "Scripts")))
				rc = extract_member(x, p, dfd, name);
			else
				rc = copy_file(x, p, dfd, name, st.mode);
			break;
		case SRC_LINK:
			if (symlinkat(st.link ? st.link : "", dfd, name)) {
				char *shown = src_display(x->s, p);
				rc = fail_errno(x->err, shown ? shown : p,
				    "cannot make the symlink");
				free(shown);
			}
			break;
		default: {
			char *shown = src_display(x->s, p);
			rc = fail(x->err, PKGFLAT_E_UNSUPPORTED, shown ? shown : p,
			    NULL, "neither a file, a directory nor a symlink");
			free(shown);
		}
		}
		free(p);
	}
	pv_free(&names, free);
	return rc;
}

pkgflat_status pkgflat_expand(const char *pkg, const char *dir,
    const pkgflat_expand_options *opt, pkgflat_error *err)
{
	struct expand x = { .err = err, .full = opt && opt->full };
	struct stat st;
	pkgflat_status rc;
	char *tmp = NULL;
	int fd = -1;

	if (!pkg || !dir || !dir[0])
		return fail(err, PKGFLAT_E_USAGE, NULL, NULL,
		    "expand needs a package and a directory");
	if (!lstat(dir, &st))
		return fail(err, PKGFLAT_E_USAGE, dir, NULL,
		    "already exists: expand makes a new directory");
	if ((rc = pkgflat_output_check(dir, pkg, err)))
		return rc;
	if (stat(pkg, &st))
		return fail_errno(err, pkg, "cannot open");
	if (S_ISDIR(st.st_mode))
		return fail(err, PKGFLAT_E_USAGE, pkg, NULL,
		    "a directory: expand reads a flat package file");
	if ((rc = src_open_xar(pkg, &x.s, err)))
		return rc;
	if (!(x.buf = malloc(COPY_BUF))) {
		rc = fail_nomem(err);
		goto out;
	}
	if ((fd = output_mkdtemp(dir, &tmp)) < 0) {
		rc = fail_errno(err, dir, "cannot make the directory");
		goto out;
	}
	if ((rc = copy_dir(&x, "", fd, x.full && is_component(&x, ""), 0)))
		goto out;
	/* The top directory as a directory is made: 0755 whatever the
	 * temporary one had. */
	if (fchmod(fd, 0755)) {
		rc = fail_errno(err, dir, "cannot set its mode");
		goto out;
	}
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_NOREPLACE))
		rc = errno == EEXIST ? fail(err, PKGFLAT_E_USAGE, dir, NULL,
		    "appeared while expanding: left as it was") :
		    fail_errno(err, dir, "cannot move the expanded directory "
		    "into place");
out:
	if (fd >= 0) {
		if (rc) {
			tree_remove_below(fd);
			rmdir(tmp);
		}
		close(fd);
	}
	free(tmp);
	free(x.buf);
	src_close(x.s);
	return rc;
}
