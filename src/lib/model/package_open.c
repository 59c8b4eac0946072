/*
 * Opening a package: what the input is (directory, XAR, zip or tar), which
 * kind of package it holds, and handing it to the reader that builds the
 * model (flat_read.c or legacy_read.c). The top of the model layer: nothing
 * in the model calls back up here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "flat_read.h"
#include "legacy.h"
#include "model.h"
#include "source_image.h"

/* ------------------------------------------------------------------ */
/* Opening                                                            */

static int is_bundle_name(const char *n)
{
	return str_has_suffix(n, ".pkg") || str_has_suffix(n, ".mpkg");
}

/* The bundle inside an archive: one .mpkg, or one .pkg, at the top or one
 * folder down; or the archive root itself when it holds Contents/. */
static pkgflat_status find_in_archive(pkgflat_package *pkg, char **out,
    pkgflat_error *err)
{
	src *s = pkg->src;
	ptrvec top = { 0 }, mpkgs = { 0 }, pkgs = { 0 };
	pkgflat_status rc;
	struct src_stat st;

	*out = NULL;
	if ((rc = s->ops->list(s, "", &top, err)))
		goto out;
	for (int level = 0; level < 2 && !mpkgs.n && !pkgs.n; level++) {
		ptrvec next = { 0 };
		for (size_t i = 0; i < top.n; i++) {
			const char *p = top.v[i];
			if (!strcmp(path_base(p), "__MACOSX"))
				continue;
			if ((rc = s->ops->lstat(s, p, &st, err)))
				break;
			if (st.type != SRC_DIR)
				continue;
			if (is_bundle_name(p)) {
				char *c = pf_strdup(p);
				if (!c || pv_push(str_has_suffix(p, ".mpkg") ?
				    &mpkgs : &pkgs, c)) {
					free(c);
					rc = fail_nomem(err);
					break;
				}
			} else if (level == 0) {
				ptrvec sub = { 0 };
				if ((rc = s->ops->list(s, p, &sub, err)))
					break;
				for (size_t j = 0; !rc && j < sub.n; j++) {
					char *c = pf_asprintf("%s/%s", p,
					    (char *)sub.v[j]);
					if (!c || pv_push(&next, c)) {
						free(c);
						rc = fail_nomem(err);
					}
				}
				pv_free(&sub, free);
				if (rc)
					break;
			}
		}
		pv_free(&top, free);
		top = next;
		if (rc)
			goto out;
	}
	ptrvec *pick = mpkgs.n ? &mpkgs : &pkgs;
	if (pick->n == 1) {
		*out = pick->v[0];
		pick->v[0] = NULL;
	} else if (pick->n > 1) {
		strbuf sb = { 0 };
		for (size_t i = 0; i < pick->n && i < 4; i++)
			sb_addf(&sb, "%s%s", i ? ", " : "", (char *)pick->v[i]);
		rc = fail(err, PKGFLAT_E_UNSUPPORTED, pkg->path, NULL,
		    "archive holds %zu packages (%s%s) and no metapackage; "
		    "unpack it and name one", pick->n, sb.buf ? sb.buf : "",
		    pick->n > 4 ? ", ..." : "");
		sb_free(&sb);
	} else {
		if ((rc = s->ops->lstat(s, "Contents/Info.plist", &st, err)))
			goto out;
		if (st.type != SRC_NONE)
			*out = pf_strdup("");
		else
			rc = fail(err, PKGFLAT_E_FORMAT, pkg->path, NULL,
			    "archive holds no .pkg or .mpkg bundle");
	}
out:
	pv_free(&top, free);
	pv_free(&mpkgs, free);
	pv_free(&pkgs, free);
	return rc;
}

static void collect_components(pkgflat_package *pkg, pkgflat_component *b)
{
	if (pkgflat_component_is_leaf(b)) {
		pv_push(&pkg->components, b);
		return;
	}
	for (size_t i = 0; i < b->children.n; i++)
		collect_components(pkg, b->children.v[i]);
}

static int sniff_file(const char *path, unsigned char *buf, size_t n)
{
	FILE *f = fopen(path, "rb");
	size_t got;

	if (!f)
		return -1;
	memset(buf, 0, n);
	got = fread(buf, 1, n, f);
	fclose(f);
	return (int)got;
}

enum pkgflat_file_kind pkgflat_file_sniff(const char *path)
{
	unsigned char b[8192];
	int n = sniff_file(path, b, sizeof b);

	if (n < 4)
		return PKGFLAT_FILE_UNKNOWN;
	if (n >= 8 && !memcmp(b, "BOMStore", 8))
		return PKGFLAT_FILE_BOM;
	if (!memcmp(b, "xar!", 4))
		return PKGFLAT_FILE_XAR;
	if (!memcmp(b, "pbzx", 4))
		return PKGFLAT_FILE_PAYLOAD;
	if (!memcmp(b, "PK\3\4", 4) || !memcmp(b, "PK\5\6", 4))
		return PKGFLAT_FILE_ARCHIVE;
	if (n >= 6 && (!memcmp(b, "070707", 6) || !memcmp(b, "070701", 6) ||
	    !memcmp(b, "070702", 6)))
		return PKGFLAT_FILE_PAYLOAD;
	if (n >= 262 && !memcmp(b + 257, "ustar", 5)) {
		/* A tar: payloads start with "." or "./", bundle archives with
		 * the bundle's name. Skip pax extended headers to see it. */
		size_t off = 0;
		while (off + 512 <= (size_t)n && (b[off + 156] == 'x' ||
		    b[off + 156] == 'g' || b[off + 156] == 'L')) {
			char field[13];
			memcpy(field, b + off + 124, 12);
			field[12] = '\0';
			unsigned long long size = strtoull(field, NULL, 8);
			if (size > (size_t)n)
				break;
			off += 512 + (size_t)((size + 511) / 512 * 512);
		}
		if (off + 512 > (size_t)n)
			return PKGFLAT_FILE_ARCHIVE;
		return b[off] == '.' ? PKGFLAT_FILE_PAYLOAD : PKGFLAT_FILE_ARCHIVE;
	}
	if (b[0] == 0x1f && b[1] == 0x8b) {
		/* Compressed: a payload by name, else an archive. */
		if (str_has_suffix(path, ".pax.gz") || str_has_suffix(path, "Payload")
		    || str_has_suffix(path, ".cpio.gz"))
			return PKGFLAT_FILE_PAYLOAD;
		return PKGFLAT_FILE_ARCHIVE;
	}
	if (b[0] == 'B' && b[1] == 'Z' && b[2] == 'h')
		return PKGFLAT_FILE_ARCHIVE;
	return PKGFLAT_FILE_UNKNOWN;
}

/* The kinds of package, tried in order on what the input holds. */
static const struct input_kind {
	const char *name;
	int (*sniff)(pkgflat_package *pkg, const char *dir);
	pkgflat_status (*read)(pkgflat_package *pkg, const char *dir,
	    pkgflat_component **out, pkgflat_error *err);
} input_kinds[] = {
	{ .name = "flat", .sniff = flat_sniff, .read = flat_read },
	{ .name = "legacy bundle", .sniff = legacy_sniff, .read = legacy_read },
};

pkgflat_status pkgflat_package_open(const char *path, pkgflat_package **out,
    pkgflat_error *err)
{
	return package_open(path, NULL, out, err);
}

pkgflat_status package_open(const char *path, const char *member,
    pkgflat_package **out, pkgflat_error *err)
{
	pkgflat_package *pkg = NULL;
	pkgflat_status rc = PKGFLAT_OK;
	char *inner = NULL, *trimmed = NULL, *real = NULL;
	struct stat sb;

	*out = NULL;
	if (!path || !path[0])
		return fail(err, PKGFLAT_E_USAGE, NULL, NULL, "no package named");
	if (!(pkg = pf_calloc(1, sizeof *pkg)) || !(pkg->path = pf_strdup(path)))
		goto nomem;
	if (stat(path, &sb) != 0) {
		rc = fail_errno(err, path, "cannot open");
		goto out;
	}
	if (img_sniff_file(path)) {
		/* A disk image: the bundle on it (several need a member). */
		if ((rc = image_package_source(path, member, NULL, &pkg->src,
		    &inner, err)))
			goto out;
	} else if (S_ISDIR(sb.st_mode)) {
		/* The source is the directory that holds the bundle, so that
		 * IFPkgFlagComponentDirectory ".." still resolves. */
		if (!(trimmed = pf_strdup(path)))
			goto nomem;
		size_t n = strlen(trimmed);
		while (n > 1 && trimmed[n - 1] == '/')
			trimmed[--n] = '\0';
		const char *base = path_base(trimmed);
		if (!strcmp(base, ".") || !strcmp(base, "..") || !base[0]) {
			if (!(real = realpath(path, NULL))) {
				rc = fail_errno(err, path, "cannot resolve");
				goto out;
			}
			free(trimmed);
			trimmed = pf_strdup(real);
			if (!trimmed)
				goto nomem;
			base = path_base(trimmed);
		}
		char *parent = path_dir(trimmed);
		if (!parent)
			goto nomem;
		const char *open_dir = parent[0] ? parent : (trimmed[0] == '/' ?
		    "/" : ".");
		/* Named as typed: "/etc" stays "/etc" in messages, not "etc". */
		rc = src_open_dir(open_dir, parent[0] || trimmed[0] != '/' ? parent :
		    "/", &pkg->src, err);
		free(parent);
		if (rc)
			goto out;
		if (!(inner = pf_strdup(base)))
			goto nomem;
	} else if (S_ISREG(sb.st_mode)) {
		enum pkgflat_file_kind k = pkgflat_file_sniff(path);
		if (k == PKGFLAT_FILE_XAR) {
			if ((rc = src_open_xar(path, &pkg->src, err)))
				goto out;
			if (!(inner = pf_strdup("")))
				goto nomem;
			if (!flat_sniff(pkg, inner)) {
				rc = fail(err, PKGFLAT_E_FORMAT, path, "TOC", "neither "
				    "Distribution nor PackageInfo at the top: not an "
				    "installer package");
				goto out;
			}
		} else if (k != PKGFLAT_FILE_ARCHIVE) {
			rc = fail(err, PKGFLAT_E_FORMAT, path, NULL,
			    "not a bundle package, nor a zip or tar archive of one");
			goto out;
		} else {
			if ((rc = src_open_archive(path, &pkg->src, err)))
				goto out;
			if (member)
				inner = pf_strdup(member);
			else if ((rc = find_in_archive(pkg, &inner, err)))
				goto out;
			if (!inner)
				goto nomem;
		}
	} else {
		rc = fail(err, PKGFLAT_E_FORMAT, path, NULL,
		    "not a directory or a regular file");
		goto out;
	}
	for (size_t i = 0; i < sizeof input_kinds / sizeof *input_kinds; i++)
		if (input_kinds[i].sniff(pkg, inner)) {
			rc = input_kinds[i].read(pkg, inner, &pkg->root, err);
			break;
		}
	if (rc)
		goto out;
	collect_components(pkg, pkg->root);
	if ((rc = package_fallback_ids(pkg, err)))
		goto out;
	*out = pkg;
	pkg = NULL;
	goto out;
nomem:
	rc = fail_nomem(err);
out:
	pkgflat_package_free(pkg);
	free(inner);
	free(trimmed);
	free(real);
	return rc;
}
