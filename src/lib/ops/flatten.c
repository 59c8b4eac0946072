/*
 * flatten: an expanded directory (expand, pkgutil --expand or
 * --expand-full, xar -x), perhaps edited, back into a flat package.
 *
 * The directory is checked first: a Distribution or PackageInfo at its
 * top, every pkg-ref's component there with its PackageInfo, no component
 * directory without one. Then every member is archived by name, the
 * Distribution last; Payload and Scripts stored, everything else
 * zlib-compressed, as productbuild writes them. A component whose Payload
 * or Scripts is a directory gets them archived again (tree_payload.c), a
 * fresh Bom and PackageInfo's payload counts, and the Distribution's
 * pkg-refs to it the new installKBytes (which is why it comes last). Outside
 * those directories a symlink is followed only to a file inside the
 * directory; a loop or a link out of it is an error.
 */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tree.h"

#define MAX_XML (16u << 20)

struct flat {
	src *s;
	const char *dir;
	const pkgflat_flatten_options *opt;
	struct flat_writer fw;
	pkgflat_error *err;
	unsigned char *buf;
};


static enum src_type type_of(struct flat *f, const char *inner, int follow)
{
	struct src_stat st;
	pkgflat_error e;

	pkgflat_error_clear(&e);
	if ((follow ? src_stat(f->s, inner, &st, &e) :
	    f->s->ops->lstat(f->s, inner, &st, &e)))
		return SRC_NONE;
	return st.type;
}

/* ------------------------------------------------------------------ */
/* Checks before writing                                              */

static pkgflat_status check_pkg_info(struct flat *f, const char *comp)
{
	char *pi = path_join(comp, "PackageInfo");
	unsigned char *data = NULL;
	size_t len = 0;
	pkgflat_status rc;

	if (!pi)
		return fail_nomem(f->err);
	char *shown = src_display(f->s, pi);
	if (!shown) {
		free(pi);
		return fail_nomem(f->err);
	}
	if (type_of(f, pi, 1) != SRC_FILE) {
		rc = fail(f->err, PKGFLAT_E_FORMAT, shown, NULL,
		    "missing: every component needs its PackageInfo");
		goto out;
	}
	if ((rc = src_read(f->s, pi, MAX_XML, &data, &len, f->err)))
		goto out;
	xmlDocPtr doc = xmlReadMemory((const char *)data, (int)len, shown, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	xmlChar *id = root ? xmlGetProp(root, BAD_CAST "identifier") : NULL;
	if (!root || strcmp((const char *)root->name, "pkg-info"))
		rc = fail(f->err, PKGFLAT_E_FORMAT, shown, NULL,
		    "not XML with a <pkg-info> element");
	else if (!id || !id[0])
		rc = fail(f->err, PKGFLAT_E_FORMAT, shown, "pkg-info",
		    "no identifier");
	xmlFree(id);
	xmlFreeDoc(doc);
out:
	free(data);
	free(shown);
	free(pi);
	return rc;
}

/* A directory holding component parts is a component: it needs its
 * PackageInfo. */
static int looks_like_component(struct flat *f, const char *inner)
{
	static const char *const parts[] = { "PackageInfo", "Payload", "Bom",
	    "Scripts" };

	for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
		char *p = path_join(inner, parts[i]);
		enum src_type t = p ? type_of(f, p, 0) : SRC_NONE;
		free(p);
		if (t != SRC_NONE)
			return 1;
	}
	return 0;
}

static pkgflat_status check_ref(void *ctx, const char *id, const char *name,
    pkgflat_error *err)
{
	struct flat *f = ctx;
	char *shown = src_display(f->s, "Distribution"), where[300];
	pkgflat_status rc = PKGFLAT_OK;

	if (!shown)
		return fail_nomem(err);
	snprintf(where, sizeof where, "pkg-ref \"%s\"", id);
	if (!name[0] || strchr(name, '/') || !strcmp(name, ".."))
		rc = fail(err, PKGFLAT_E_FORMAT, shown, where,
		    "\"%s\" is not a component directory of the package", name);
	else if (type_of(f, name, 0) != SRC_DIR)
		rc = fail(err, PKGFLAT_E_FORMAT, shown, where,
		    "component %s is missing (no directory %s/%s)", name, f->dir,
		    name);
	else
		rc = check_pkg_info(f, name);
	free(shown);
	return rc;
}

static pkgflat_status check_product(struct flat *f)
{
	unsigned char *data = NULL;
	size_t len = 0;
	pkgflat_status rc;
	char *shown = src_display(f->s, "Distribution");
	ptrvec names = { 0 };

	if (!shown)
		return fail_nomem(f->err);
	if ((rc = src_read(f->s, "Distribution", MAX_XML, &data, &len, f->err)) ||
	    (rc = flat_each_ref((const char *)data, len, shown, check_ref, f,
	    f->err)) ||
	    (rc = f->s->ops->list(f->s, "", &names, f->err)))
		goto out;
	for (size_t i = 0; i < names.n && !rc; i++)
		if (type_of(f, names.v[i], 0) == SRC_DIR &&
		    looks_like_component(f, names.v[i]))
			rc = check_pkg_info(f, names.v[i]);
out:
	pv_free(&names, free);
	free(data);
	free(shown);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Writing                                                            */

static pkgflat_status add_file(struct flat *f, const char *inner,
    uint64_t parent, const char *name)
{
	return flat_copy_member(f->fw.xw, parent, name, f->s, inner, f->buf,
	    f->err);
}

/* One member: a file (a symlink to one inside the directory is followed),
 * or a directory and what it holds. */
static pkgflat_status add_any(struct flat *f, const char *inner,
    uint64_t parent, const char *name, int depth)
{
	return flat_add_any(f->fw.xw, f->s, inner, parent, name, f->buf, depth,
	    f->err);
}

static char *disk_path(struct flat *f, const char *inner, const char *name)
{
	return inner[0] ? pf_asprintf("%s/%s/%s", f->dir, inner, name) :
	    pf_asprintf("%s/%s", f->dir, name);
}

/* A component's members into parent (0: the top, for a component
 * package). *kbytes gets its new size when its Payload is archived again,
 * else stays as it was. */
static pkgflat_status add_component(struct flat *f, const char *inner,
    uint64_t parent, uint64_t *kbytes, int *rearchived)
{
	char *pl = path_join(inner, "Payload"), *sc = path_join(inner, "Scripts");
	char *bom = path_join(inner, "Bom"), *pi = path_join(inner, "PackageInfo");
	char *pl_disk = NULL, *bom_disk = NULL, *sc_disk = NULL, *shown = NULL;
	struct payload_result pr = { 0 };
	bom_owners *owners = NULL;
	unsigned char *pi_data = NULL, *pi_new = NULL;
	size_t pi_len = 0, pi_new_len = 0;
	ptrvec names = { 0 };
	pkgflat_status rc = PKGFLAT_OK;
	int pl_dir, sc_dir;

	if (!pl || !sc || !bom || !pi) {
		rc = fail_nomem(f->err);
		goto out;
	}
	pl_dir = type_of(f, pl, 0) == SRC_DIR;
	sc_dir = type_of(f, sc, 0) == SRC_DIR;
	if (pl_dir) {
		struct tree_job job = { 0 };
		if (!(pl_disk = disk_path(f, inner, "Payload")) ||
		    !(bom_disk = disk_path(f, inner, "Bom")) ||
		    !(shown = src_display(f->s, pl))) {
			rc = fail_nomem(f->err);
			goto out;
		}
		if (!f->opt->ownership_given && type_of(f, bom, 0) == SRC_FILE &&
		    (rc = bom_owners_load(bom_disk, &owners, f->err)))
			goto out;
		job.dir = pl_disk;
		job.name = shown;
		job.xw = f->fw.xw;
		job.parent = parent;
		job.owners = owners;
		job.ownership = f->opt->ownership_given ? f->opt->ownership :
		    PKGFLAT_OWNERSHIP_RECOMMENDED;
		job.threads = f->opt->threads;
		job.err = f->err;
		if ((rc = tree_payload(&job, &pr)) ||
		    (rc = xarw_add_spill(f->fw.xw, parent, "Bom", XAR_ENC_ZLIB,
		    &pr.bom, f->err)))
			goto out;
		*kbytes = pr.stats.install_kbytes;
		*rearchived = 1;
	} else if (type_of(f, pl, 0) != SRC_NONE &&
	    (rc = add_any(f, pl, parent, "Payload", 0)))
		goto out;
	if (!pl_dir && type_of(f, bom, 0) != SRC_NONE &&
	    (rc = add_any(f, bom, parent, "Bom", 0)))
		goto out;
	if (sc_dir) {
		struct tree_job job = { 0 };
		free(shown);
		if (!(sc_disk = disk_path(f, inner, "Scripts")) ||
		    !(shown = src_display(f->s, sc))) {
			rc = fail_nomem(f->err);
			goto out;
		}
		job.dir = sc_disk;
		job.name = shown;
		job.xw = f->fw.xw;
		job.parent = parent;
		job.err = f->err;
		if ((rc = tree_scripts(&job, NULL, NULL)))
			goto out;
	} else if (type_of(f, sc, 0) != SRC_NONE &&
	    (rc = add_any(f, sc, parent, "Scripts", 0)))
		goto out;
	if (pl_dir) {
		free(shown);
		if (!(shown = src_display(f->s, pi))) {
			rc = fail_nomem(f->err);
			goto out;
		}
		if ((rc = src_read(f->s, pi, MAX_XML, &pi_data, &pi_len, f->err)) ||
		    (rc = package_info_set_payload(pi_data, pi_len, shown,
		    pr.stats.entries, pr.stats.install_kbytes, &pi_new, &pi_new_len,
		    f->err)) ||
		    (rc = xarw_add_file(f->fw.xw, parent, "PackageInfo",
		    XAR_ENC_ZLIB, pi_new, pi_new_len, f->err)))
			goto out;
	} else if ((rc = add_any(f, pi, parent, "PackageInfo", 0)))
		goto out;
	/* Anything else that is there goes too. */
	if ((rc = f->s->ops->list(f->s, inner, &names, f->err)))
		goto out;
	for (size_t i = 0; i < names.n && !rc; i++) {
		const char *n = names.v[i];
		if (!strcmp(n, "Payload") || !strcmp(n, "Scripts") ||
		    !strcmp(n, "Bom") || !strcmp(n, "PackageInfo") ||
		    (!inner[0] && !strcmp(n, "Distribution")))
			continue;
		char *p = path_join(inner, n);
		rc = p ? add_any(f, p, parent, n, 0) : fail_nomem(f->err);
		free(p);
	}
out:
	pv_free(&names, free);
	spill_close(&pr.bom);
	free(pr.nonroot_path);
	free(pr.dup_path);
	free(pr.norm_path);
	bom_owners_free(owners);
	free(pi_data);
	free(pi_new);
	free(pl);
	free(sc);
	free(bom);
	free(pi);
	free(pl_disk);
	free(bom_disk);
	free(sc_disk);
	free(shown);
	return rc;
}

/* The Distribution as it is, or with the new sizes of the components
 * archived again. */
static pkgflat_status add_distribution(struct flat *f,
    const struct comp_size *sizes, size_t n)
{
	unsigned char *data = NULL, *fresh = NULL;
	size_t len = 0, flen = 0;
	char *shown;
	pkgflat_status rc;

	if (!n)
		return add_file(f, "Distribution", 0, "Distribution");
	if (!(shown = src_display(f->s, "Distribution")))
		return fail_nomem(f->err);
	if (!(rc = src_read(f->s, "Distribution", MAX_XML, &data, &len,
	    f->err)) &&
	    !(rc = dist_set_kbytes(data, len, shown, sizes, n, &fresh, &flen,
	    f->err)))
		rc = xarw_add_file(f->fw.xw, 0, "Distribution", XAR_ENC_ZLIB,
		    fresh, flen, f->err);
	free(fresh);
	free(data);
	free(shown);
	return rc;
}

static pkgflat_status add_product(struct flat *f)
{
	ptrvec names = { 0 };
	struct comp_size *sizes = NULL;
	size_t nsizes = 0;
	pkgflat_status rc;

	if ((rc = f->s->ops->list(f->s, "", &names, f->err)))
		goto out;
	if (!(sizes = pf_calloc(names.n ? names.n : 1, sizeof *sizes))) {
		rc = fail_nomem(f->err);
		goto out;
	}
	for (size_t i = 0; i < names.n && !rc; i++) {
		const char *n = names.v[i];
		if (!strcmp(n, "Distribution"))
			continue;
		if (type_of(f, n, 0) == SRC_DIR && looks_like_component(f, n)) {
			uint64_t id, kb = 0;
			int again = 0;
			if (!(rc = xarw_add_dir(f->fw.xw, 0, n, &id, f->err)))
				rc = add_component(f, n, id, &kb, &again);
			if (!rc && again) {
				sizes[nsizes].name = n;
				sizes[nsizes++].kbytes = kb;
			}
		} else
			rc = add_any(f, n, 0, n, 0);
	}
	if (!rc)
		rc = add_distribution(f, sizes, nsizes);
out:
	free(sizes);
	pv_free(&names, free);
	return rc;
}

pkgflat_status pkgflat_flatten(const char *dir,
    const pkgflat_flatten_options *opt, pkgflat_error *err)
{
	struct flat f = { .dir = dir, .opt = opt, .err = err };
	struct stat st;
	pkgflat_status rc;

	if (!dir || !opt || !opt->output || !opt->output[0])
		return fail(err, PKGFLAT_E_USAGE, NULL, NULL,
		    "flatten needs a directory and an output file");
	if (stat(dir, &st))
		return fail_errno(err, dir, "cannot open");
	if (!S_ISDIR(st.st_mode))
		return fail(err, PKGFLAT_E_USAGE, dir, NULL,
		    "not a directory: flatten reads a directory expanded from a "
		    "flat package");
	if ((rc = pkgflat_output_check(opt->output, dir, err)))
		return rc;
	if ((rc = src_open_dir(dir, dir, &f.s, err)))
		return rc;
	int product = type_of(&f, "Distribution", 1) == SRC_FILE;
	if (!product && type_of(&f, "PackageInfo", 1) != SRC_FILE) {
		rc = fail(err, PKGFLAT_E_FORMAT, dir, NULL,
		    "no Distribution and no PackageInfo at its top: not a "
		    "directory expanded from a flat package");
		goto out;
	}
	if ((rc = product ? check_product(&f) : check_pkg_info(&f, "")))
		goto out;
	if (!(f.buf = malloc(FLAT_COPY_BUF))) {
		rc = fail_nomem(err);
		goto out;
	}
	if ((rc = flat_writer_open(&f.fw, opt, err)))
		goto out;
	uint64_t kb;
	int again;
	if ((rc = product ? add_product(&f) : add_component(&f, "", 0, &kb,
	    &again)))
		goto out;
	rc = flat_writer_commit(&f.fw, err);
out:
	flat_writer_close(&f.fw);
	free(f.buf);
	src_close(f.s);
	return rc;
}
