/*
 * What a batch conversion needs to know about its inputs before it opens
 * them: which bundle packages an archive holds (so that an archive of
 * several packages becomes several inputs), opening one of them by its path
 * inside the archive, and stable SHA-256 digests of inputs (so that a run
 * can tell an input it already converted from one that changed).
 *
 * The digest of a directory is taken over a listing of its tree, walked in
 * byte order without following symlinks: for each entry its path relative
 * to the directory, type, permission bits, size, mtime and link target,
 * then the bytes of each regular file. A regular file's digest is that of
 * its bytes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model.h"
#include "source.h"
#include "source_image.h"

static int is_bundle_dir_name(const char *n)
{
	return str_has_suffix(n, ".pkg") || str_has_suffix(n, ".mpkg");
}

/* Depth-first, in the source's (sorted) order; bundles are not entered. */
static pkgflat_status find_bundles(src *s, const char *dir, int depth,
    ptrvec *found, pkgflat_error *err)
{
	ptrvec names = { 0 };
	pkgflat_status rc;
	struct src_stat st;

	if (depth > 64)
		return PKGFLAT_OK;
	if ((rc = s->ops->list(s, dir, &names, err)))
		goto out;
	for (size_t i = 0; i < names.n && !rc; i++) {
		const char *n = names.v[i];
		char *p = dir[0] ? pf_asprintf("%s/%s", dir, n) : pf_strdup(n);
		if (!p) {
			rc = fail_nomem(err);
			break;
		}
		if (!strcmp(n, "__MACOSX") ||
		    (rc = s->ops->lstat(s, p, &st, err)) || st.type != SRC_DIR) {
			free(p);
			continue;
		}
		if (is_bundle_dir_name(n)) {
			if (pv_push(found, p)) {
				free(p);
				rc = fail_nomem(err);
			}
			continue;
		}
		rc = find_bundles(s, p, depth + 1, found, err);
		free(p);
	}
out:
	pv_free(&names, free);
	return rc;
}

pkgflat_status pkgflat_archive_packages(const char *path, char ***members,
    size_t *count, pkgflat_error *err)
{
	src *s = NULL;
	ptrvec found = { 0 };
	pkgflat_status rc;

	*members = NULL;
	*count = 0;
	if (pkgflat_file_is_image(path))
		return image_bundle_members(path, members, count, err);
	if (pkgflat_file_sniff(path) != PKGFLAT_FILE_ARCHIVE)
		return fail(err, PKGFLAT_E_FORMAT, path, NULL,
		    "not a zip or tar archive");
	if ((rc = src_open_archive(path, &s, err)) ||
	    (rc = find_bundles(s, "", 0, &found, err))) {
		pv_free(&found, free);
		src_close(s);
		return rc;
	}
	src_close(s);
	*members = (char **)found.v;
	*count = found.n;
	return PKGFLAT_OK;
}

void pkgflat_archive_packages_free(char **members, size_t count)
{
	if (!members)
		return;
	for (size_t i = 0; i < count; i++)
		free(members[i]);
	free(members);
}

pkgflat_status pkgflat_package_open_member(const char *archive,
    const char *member, pkgflat_package **out, pkgflat_error *err)
{
	struct stat sb;

	*out = NULL;
	if (!member || !member[0])
		return pkgflat_package_open(archive, out, err);
	if (stat(archive, &sb) != 0)
		return fail_errno(err, archive, "cannot open");
	if (!S_ISREG(sb.st_mode))
		return fail(err, PKGFLAT_E_USAGE, archive, NULL,
		    "not an archive: a package inside can only be named in a "
		    "zip or tar file");
	return package_open(archive, member, out, err);
}

/* ------------------------------------------------------------------ */
/* Digests                                                            */

static void hex(const unsigned char *md, char out[65])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[64] = '\0';
}

void pkgflat_digest_data(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;

	if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) || n != 32)
		memset(md, 0, sizeof md);
	hex(md, out);
}

struct digest {
	EVP_MD_CTX *md;
	unsigned char buf[1 << 16];
	uint64_t bytes;
	pkgflat_error *err;
};

static pkgflat_status digest_fd(struct digest *d, int fd, const char *name)
{
	for (;;) {
		ssize_t n = read(fd, d->buf, sizeof d->buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail_errno(d->err, name, "cannot read");
		if (n == 0)
			return PKGFLAT_OK;
		if (!EVP_DigestUpdate(d->md, d->buf, (size_t)n))
			return fail(d->err, PKGFLAT_E_CRYPTO, name, NULL,
			    "cannot compute SHA-256");
		d->bytes += (uint64_t)n;
	}
}

static int cmp_dirents(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int not_dots(const struct dirent *de)
{
	return strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
}

static pkgflat_status digest_tree(struct digest *d, int dirfd,
    const char *disp, const char *rel, int depth)
{
	struct dirent **names = NULL;
	pkgflat_status rc = PKGFLAT_OK;
	int count;

	if (depth > 256)
		return fail(d->err, PKGFLAT_E_FORMAT, disp, NULL,
		    "directories nested too deeply");
	/* Byte order, not the file system's: the same tree, the same digest. */
	if ((count = scandirat(dirfd, ".", &names, not_dots, cmp_dirents)) < 0)
		return fail_errno(d->err, disp, "cannot list directory");
	for (int i = 0; i < count && !rc; i++) {
		const char *n = names[i]->d_name;
		char *r = rel[0] ? pf_asprintf("%s/%s", rel, n) : pf_strdup(n);
		char *shown = r ? pf_asprintf("%s/%s", disp, n) : NULL;
		struct stat sb;
		char link[4096] = "";
		char line[512];

		if (!shown) {
			free(r);
			rc = fail_nomem(d->err);
			break;
		}
		if (fstatat(dirfd, n, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
			rc = fail_errno(d->err, shown, "cannot stat");
			goto next;
		}
		if (S_ISLNK(sb.st_mode)) {
			ssize_t k = readlinkat(dirfd, n, link, sizeof link - 1);
			if (k < 0) {
				rc = fail_errno(d->err, shown, "cannot read symlink");
				goto next;
			}
			link[k] = '\0';
		}
		int len = snprintf(line, sizeof line, "%c %o %llu %lld.%09ld",
		    S_ISDIR(sb.st_mode) ? 'd' : S_ISREG(sb.st_mode) ? 'f' :
		    S_ISLNK(sb.st_mode) ? 'l' : 'o', (unsigned)(sb.st_mode & 07777),
		    S_ISREG(sb.st_mode) ? (unsigned long long)sb.st_size : 0ULL,
		    (long long)sb.st_mtim.tv_sec, (long)sb.st_mtim.tv_nsec);
		/* Each field ends in NUL: no name can run into the next. */
		if (!EVP_DigestUpdate(d->md, r, strlen(r) + 1) ||
		    !EVP_DigestUpdate(d->md, line, (size_t)len + 1) ||
		    !EVP_DigestUpdate(d->md, link, strlen(link) + 1)) {
			rc = fail(d->err, PKGFLAT_E_CRYPTO, shown, NULL,
			    "cannot compute SHA-256");
			goto next;
		}
		if (S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode)) {
			int fd = openat(dirfd, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
			    (S_ISDIR(sb.st_mode) ? O_DIRECTORY : 0));
			if (fd < 0) {
				rc = fail_errno(d->err, shown, "cannot open");
				goto next;
			}
			rc = S_ISDIR(sb.st_mode) ?
			    digest_tree(d, fd, shown, r, depth + 1) :
			    digest_fd(d, fd, shown);
			close(fd);
		}
next:
		free(r);
		free(shown);
	}
	for (int i = 0; i < count; i++)
		free(names[i]);
	free(names);
	return rc;
}

pkgflat_status pkgflat_digest_path(const char *path, char out[65],
    uint64_t *bytes, pkgflat_error *err)
{
	struct digest *d = pf_calloc(1, sizeof *d);
	unsigned char md[32];
	unsigned int n = 0;
	struct stat sb;
	pkgflat_status rc;
	int fd = -1;

	out[0] = '\0';
	if (bytes)
		*bytes = 0;
	if (!d)
		return fail_nomem(err);
	d->err = err;
	if (!(d->md = EVP_MD_CTX_new()) ||
	    !EVP_DigestInit_ex(d->md, EVP_sha256(), NULL)) {
		rc = fail(err, PKGFLAT_E_CRYPTO, path, NULL,
		    "cannot compute SHA-256");
		goto out;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &sb)) {
		rc = fail_errno(err, path, "cannot open");
		goto out;
	}
	if (S_ISDIR(sb.st_mode))
		rc = digest_tree(d, fd, path, "", 0);
	else if (S_ISREG(sb.st_mode))
		rc = digest_fd(d, fd, path);
	else
		rc = fail(err, PKGFLAT_E_FORMAT, path, NULL,
		    "not a directory or a regular file");
	if (!rc && (!EVP_DigestFinal_ex(d->md, md, &n) || n != 32))
		rc = fail(err, PKGFLAT_E_CRYPTO, path, NULL,
		    "cannot compute SHA-256");
	if (!rc) {
		hex(md, out);
		if (bytes)
			*bytes = d->bytes;
	}
out:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(d->md);
	free(d);
	return rc;
}
