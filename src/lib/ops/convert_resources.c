/*
 * Resources shown by Installer: a plain package's Welcome, ReadMe,
 * License, Conclusion and background into Resources/[<lang>.lproj/]; a
 * carried .dist's whole Resources folder, which its script may name.
 */
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "mapping.h"

static const char *ext_for(const char *mime)
{
	static const struct {
		const char *mime, *ext;
	} t[] = {
		{ "text/rtf", ".rtf" }, { "text/html", ".html" },
		{ "text/plain", ".txt" }, { "image/png", ".png" },
		{ "image/jpeg", ".jpg" }, { "image/tiff", ".tiff" },
		{ "image/gif", ".gif" }, { "application/pdf", ".pdf" },
	};
	for (size_t i = 0; mime && i < sizeof t / sizeof *t; i++)
		if (!strcmp(mime, t[i].mime))
			return t[i].ext;
	return "";
}

static pkgflat_status copy_tree(struct conv *c, const char *inner,
    uint64_t parent, const char *name, int depth)
{
	src *s = c->pkg->src;
	struct src_stat st;
	pkgflat_status rc;

	if ((rc = src_stat(s, inner, &st, c->err)))
		return rc;
	if (st.type == SRC_FILE) {
		/* Streamed: a background image or a PDF can be large. */
		src_stream *in = NULL;
		unsigned char buf[64 * 1024];
		if ((rc = src_open_stream(s, inner, &in, c->err)))
			return rc;
		rc = xarw_file_begin(c->xw, parent, name, XAR_ENC_ZLIB, c->err);
		while (!rc) {
			long n = in->read(in, buf, sizeof buf);
			if (n < 0)
				rc = c->err->status ? c->err->status : PKGFLAT_E_IO;
			else if (n == 0)
				rc = xarw_file_end(c->xw, c->err);
			else
				rc = xarw_file_write(c->xw, buf, (size_t)n, c->err);
			if (n == 0)
				break;
		}
		src_stream_close(in);
		return rc;
	}
	if (st.type != SRC_DIR || depth > 8)
		return PKGFLAT_OK;
	uint64_t dir;
	ptrvec names = { 0 };
	if ((rc = xarw_add_dir(c->xw, parent, name, &dir, c->err)) ||
	    (rc = s->ops->list(s, inner, &names, c->err)))
		return rc;
	for (size_t i = 0; i < names.n && !rc; i++) {
		char *sub = path_join(inner, names.v[i]);
		rc = sub ? copy_tree(c, sub, dir, names.v[i], depth + 1) :
		    fail_nomem(c->err);
		free(sub);
	}
	pv_free(&names, free);
	return rc;
}

pkgflat_status convert_write_resources(struct conv *c, const pkgflat_component *b,
    struct shown *shown, size_t nshown)
{
	static const char *const roles[] = {
		"welcome", "readme", "license", "conclusion", "background",
	};
	char *res = path_join(pkgflat_component_get(b, PKGFLAT_F_PATH),
	    "Contents/Resources");
	uint64_t top = 0;
	pkgflat_status rc = PKGFLAT_OK;
	ptrvec dirs = { 0 };    /* "lang" -> id, as "lang\0" + id */
	uint64_t *ids = NULL;
	size_t nids = 0;

	if (!res)
		return fail_nomem(c->err);
	for (size_t i = 0; i < pkgflat_component_resource_count(b) && !rc; i++) {
		const pkgflat_resource *r = pkgflat_component_resource(b, i);
		size_t role;
		for (role = 0; role < nshown; role++)
			if (!strcmp(r->role, roles[role]))
				break;
		if (role == nshown)
			continue;
		/* Skip a stray "ReadMe" folder that is not an .rtfd. */
		if (r->is_dir && strcmp(r->mime ? r->mime : "", "text/rtfd"))
			continue;
		const char *base = path_base(r->path);
		char *file;
		const char *dot = strrchr(base, '.');
		if (r->is_dir || dot)
			file = pf_strdup(base);
		else {
			/* PackageMaker left extensions off; Installer needs them. */
			file = pf_asprintf("%s%s", base, ext_for(r->mime));
			conv_map(c, NULL, r->path, NULL, file,
			    "extension added from the file's content");
		}
		if (!file) {
			rc = fail_nomem(c->err);
			break;
		}
		if (!shown[role].file) {
			shown[role].file = pf_strdup(file);
			shown[role].mime = r->mime;
		} else if (strcmp(shown[role].file, file))
			conv_warn(c, "%s: another %s (%s) is already used; this one is "
			    "copied but the Distribution names %s", r->path,
			    roles[role], file, shown[role].file);
		if (!top && (rc = xarw_add_dir(c->xw, 0, "Resources", &top, c->err))) {
			free(file);
			break;
		}
		uint64_t parent = top;
		if (r->lang) {
			size_t k;
			for (k = 0; k < nids; k++)
				if (!strcmp(dirs.v[k], r->lang))
					break;
			if (k == nids) {
				char *lp = pf_asprintf("%s.lproj", r->lang);
				uint64_t *nid = realloc(ids, (nids + 1) * sizeof *ids);
				if (!lp || !nid) {
					free(lp);
					free(file);
					rc = fail_nomem(c->err);
					break;
				}
				ids = nid;
				rc = xarw_add_dir(c->xw, top, lp, &ids[nids], c->err);
				free(lp);
				if (rc || pv_push(&dirs, pf_strdup(r->lang))) {
					free(file);
					rc = rc ? rc : fail_nomem(c->err);
					break;
				}
				nids++;
			}
			parent = ids[k];
		}
		char *inner = path_join(res, r->path);
		rc = inner ? copy_tree(c, inner, parent, file, 0) : fail_nomem(c->err);
		if (!rc)
			conv_map(c, NULL, r->path, NULL, r->lang ? "Resources/<lang>.lproj"
			    : "Resources", roles[role]);
		free(inner);
		free(file);
	}
	free(res);
	free(ids);
	pv_free(&dirs, free);
	return rc;
}


/* Everything in the metapackage's Resources, lproj folders and all: the
 * .dist may name any of it (<background file>, localized strings,
 * system.run tools). Packages kept there are components, not resources. */
pkgflat_status convert_copy_resources(struct conv *c, const pkgflat_component *b)
{
	char *res = path_join(pkgflat_component_get(b, PKGFLAT_F_PATH),
	    "Contents/Resources");
	src *s = c->pkg->src;
	ptrvec names = { 0 };
	struct src_stat st;
	uint64_t top = 0;
	pkgflat_error e;
	pkgflat_status rc;

	pkgflat_error_clear(&e);
	if (!res)
		return fail_nomem(c->err);
	if (src_stat(s, res, &st, &e) || st.type != SRC_DIR) {
		free(res);
		return PKGFLAT_OK;
	}
	rc = s->ops->list(s, res, &names, c->err);
	for (size_t i = 0; i < names.n && !rc; i++) {
		const char *n = names.v[i];
		if (str_has_suffix(n, ".pkg") || str_has_suffix(n, ".mpkg"))
			continue;
		if (!top && (rc = xarw_add_dir(c->xw, 0, "Resources", &top, c->err)))
			break;
		char *inner = path_join(res, n);
		char *flat = pf_asprintf("Resources/%s", n);
		rc = inner && flat ? copy_tree(c, inner, top, n, 0) :
		    fail_nomem(c->err);
		if (!rc)
			conv_map(c, NULL, n, NULL, flat, "copied as is: the distribution "
			    "script may refer to it");
		free(inner);
		free(flat);
	}
	pv_free(&names, free);
	free(res);
	return rc;
}
