/*
 * What flatten and build share when they write a flat package: the output
 * that appears only when complete (outfile.c), the signer (sign.c), the
 * XAR writer, the creation time, PackageInfo's payload counts and the
 * Distribution's pkg-ref sizes.
 */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sign.h"
#include "tree.h"

void pkgflat_flatten_options_init(pkgflat_flatten_options *opt)
{
	memset(opt, 0, sizeof *opt);
	opt->toc_checksum = PKGFLAT_TOC_SHA1;
	opt->timestamp = -1;
	opt->ownership = PKGFLAT_OWNERSHIP_RECOMMENDED;
}

int64_t flat_pick_time(int64_t timestamp)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	char *end;

	if (timestamp >= 0)
		return timestamp;
	if (sde && *sde) {
		long long v = strtoll(sde, &end, 10);
		if (!*end && v >= 0)
			return v;
	}
	return (int64_t)time(NULL);
}

pkgflat_status flat_writer_open(struct flat_writer *fw,
    const pkgflat_flatten_options *opt, pkgflat_error *err)
{
	struct xar_options xo = { 0 };
	char *dir = NULL;
	pkgflat_status rc;

	memset(fw, 0, sizeof *fw);
	if (!opt->output || !opt->output[0])
		return fail(err, PKGFLAT_E_USAGE, NULL, NULL, "no output file named");
	fw->now = flat_pick_time(opt->timestamp);
	if (!(dir = path_dir(opt->output)))
		return fail_nomem(err);
	if ((rc = pkgflat_output_open(opt->output, &fw->of, err)))
		goto out;
	xo.toc_cksum = (enum xar_cksum)opt->toc_checksum;
	xo.creation_time = fw->now;
	if (opt->identity) {
		if ((rc = signer_new(opt->identity, fw->now, opt->timestamp_url,
		    opt->timestamp_timeout, &fw->sctx, &xo.signer, err)))
			goto out;
		fw->note = signer_growth_note(fw->sctx);
	}
	rc = xarw_new(dir[0] ? dir : ".", opt->output, &xo, &fw->xw, err);
out:
	free(dir);
	return rc;
}

pkgflat_status flat_writer_commit(struct flat_writer *fw, pkgflat_error *err)
{
	pkgflat_status rc = xarw_finish(fw->xw, pkgflat_output_fd(fw->of), err);

	if (rc)
		return rc;
	rc = pkgflat_output_commit(fw->of, 0, err);
	fw->of = NULL;
	return rc;
}

void flat_writer_close(struct flat_writer *fw)
{
	pkgflat_output_discard(fw->of);
	xarw_free(fw->xw);
	signer_free(fw->sctx);
	free(fw->note);
	memset(fw, 0, sizeof *fw);
}

enum xar_encoding flat_member_encoding(const char *name)
{
	return !strcmp(name, "Payload") || !strcmp(name, "Scripts") ?
	    XAR_ENC_RAW : XAR_ENC_ZLIB;
}

/* The document as UTF-8 text (malloc'd); the document is freed. */
static pkgflat_status doc_out(xmlDocPtr doc, unsigned char **out, size_t *len,
    pkgflat_error *err)
{
	xmlChar *mem = NULL;
	int size = 0;

	xmlDocDumpMemoryEnc(doc, &mem, &size, "utf-8");
	xmlFreeDoc(doc);
	if (!mem || size <= 0) {
		xmlFree(mem);
		return fail_nomem(err);
	}
	if (!(*out = malloc((size_t)size))) {
		xmlFree(mem);
		return fail_nomem(err);
	}
	memcpy(*out, mem, (size_t)size);
	*len = (size_t)size;
	xmlFree(mem);
	return PKGFLAT_OK;
}

pkgflat_status package_info_set_payload(const unsigned char *xml, size_t n,
    const char *name, uint64_t files, uint64_t kbytes, unsigned char **out,
    size_t *len, pkgflat_error *err)
{
	xmlDocPtr doc = n < (16u << 20) ? xmlReadMemory((const char *)xml,
	    (int)n, name, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
	    XML_PARSE_NOWARNING) : NULL;
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL, pl = NULL;
	char num[32];

	*out = NULL;
	*len = 0;
	if (!root || strcmp((const char *)root->name, "pkg-info")) {
		xmlFreeDoc(doc);
		return fail(err, PKGFLAT_E_FORMAT, name, NULL,
		    "not XML with a <pkg-info> element");
	}
	for (xmlNodePtr c = root->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    !strcmp((const char *)c->name, "payload"))
			pl = c;
	if (!pl) {
		/* Where pkgbuild puts it: first. */
		pl = xmlNewNode(NULL, BAD_CAST "payload");
		if (pl && root->children)
			xmlAddPrevSibling(root->children, pl);
		else if (pl)
			xmlAddChild(root, pl);
	}
	snprintf(num, sizeof num, "%llu", (unsigned long long)files);
	if (pl)
		xmlSetProp(pl, BAD_CAST "numberOfFiles", BAD_CAST num);
	snprintf(num, sizeof num, "%llu", (unsigned long long)kbytes);
	if (pl)
		xmlSetProp(pl, BAD_CAST "installKBytes", BAD_CAST num);
	if (!pl) {
		xmlFreeDoc(doc);
		return fail_nomem(err);
	}
	return doc_out(doc, out, len, err);
}

/* Set installKBytes on the pkg-refs of one component: the one whose URL
 * names it, and those of the same id that carry a size already. */
static int set_ref_kbytes(xmlNodePtr gui, const char *name, uint64_t kbytes)
{
	char num[32];
	int found = 0;

	snprintf(num, sizeof num, "%llu", (unsigned long long)kbytes);
	for (xmlNodePtr r = gui->children; r; r = r->next) {
		if (r->type != XML_ELEMENT_NODE ||
		    strcmp((const char *)r->name, "pkg-ref"))
			continue;
		xmlChar *url = xmlNodeGetContent(r);
		char *ref = url && url[strspn((const char *)url, " \t\r\n")] ?
		    flat_ref_name((const char *)url) : NULL;
		xmlFree(url);
		if (ref && !strcmp(ref, name)) {
			xmlChar *id = xmlGetProp(r, BAD_CAST "id");
			if (!xmlSetProp(r, BAD_CAST "installKBytes", BAD_CAST num))
				found = -1;
			else if (!found)
				found = 1;
			/* The same id elsewhere (in a choice, or a second
			 * pkg-ref) keeps a size only where it had one. */
			for (xmlNodePtr o = gui->children; o && id; o = o->next) {
				if (o == r || o->type != XML_ELEMENT_NODE ||
				    strcmp((const char *)o->name, "pkg-ref"))
					continue;
				xmlChar *oid = xmlGetProp(o, BAD_CAST "id");
				if (oid && !xmlStrcmp(oid, id) &&
				    xmlHasProp(o, BAD_CAST "installKBytes") &&
				    !xmlSetProp(o, BAD_CAST "installKBytes", BAD_CAST num))
					found = -1;
				xmlFree(oid);
			}
			xmlFree(id);
		}
		free(ref);
		if (found < 0)
			return -1;
	}
	return found;
}

pkgflat_status dist_set_kbytes(const unsigned char *xml, size_t n,
    const char *name, const struct comp_size *sizes, size_t nsizes,
    unsigned char **out, size_t *len, pkgflat_error *err)
{
	xmlDocPtr doc = n < (16u << 20) ? xmlReadMemory((const char *)xml,
	    (int)n, name, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
	    XML_PARSE_NOWARNING) : NULL;
	xmlNodePtr gui = doc ? xmlDocGetRootElement(doc) : NULL;

	*out = NULL;
	*len = 0;
	if (!gui || strcmp((const char *)gui->name, "installer-gui-script")) {
		xmlFreeDoc(doc);
		return fail(err, PKGFLAT_E_FORMAT, name, NULL,
		    "not XML with an <installer-gui-script> element");
	}
	for (size_t i = 0; i < nsizes; i++) {
		if (set_ref_kbytes(gui, sizes[i].name, sizes[i].kbytes) < 0) {
			xmlFreeDoc(doc);
			return fail_nomem(err);
		}
	}
	return doc_out(doc, out, len, err);
}


pkgflat_status flat_each_ref(const char *xml, size_t len, const char *file,
    flat_ref_fn fn, void *ctx, pkgflat_error *err)
{
	xmlDocPtr doc = len < (16u << 20) ? xmlReadMemory(xml, (int)len, file,
	    NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING) :
	    NULL;
	xmlNodePtr gui = doc ? xmlDocGetRootElement(doc) : NULL;
	pkgflat_status rc = PKGFLAT_OK;

	if (!gui || strcmp((const char *)gui->name, "installer-gui-script")) {
		xmlFreeDoc(doc);
		return fail(err, PKGFLAT_E_FORMAT, file, NULL,
		    "not XML with an <installer-gui-script> element");
	}
	for (xmlNodePtr r = gui->children; r && !rc; r = r->next) {
		if (r->type != XML_ELEMENT_NODE ||
		    strcmp((const char *)r->name, "pkg-ref"))
			continue;
		xmlChar *url = xmlNodeGetContent(r);
		xmlChar *id = xmlGetProp(r, BAD_CAST "id");
		if (url && url[strspn((const char *)url, " \t\r\n")]) {
			char *name = flat_ref_name((const char *)url);
			rc = name ? fn(ctx, id ? (const char *)id : "", name, err) :
			    fail_nomem(err);
			free(name);
		}
		xmlFree(url);
		xmlFree(id);
	}
	xmlFreeDoc(doc);
	return rc;
}

pkgflat_status flat_copy_member(xar_writer *xw, uint64_t parent,
    const char *name, src *s, const char *inner, unsigned char *buf,
    pkgflat_error *err)
{
	src_stream *in = NULL;
	pkgflat_status rc;

	if ((rc = src_open_stream(s, inner, &in, err)))
		return rc;
	in->err = err;
	if ((rc = xarw_file_begin(xw, parent, name, flat_member_encoding(name),
	    err)))
		goto out;
	for (;;) {
		long k = in->read(in, buf, FLAT_COPY_BUF);
		if (k < 0) {
			rc = err->status ? err->status : PKGFLAT_E_IO;
			break;
		}
		if (!k || (rc = xarw_file_write(xw, buf, (size_t)k, err)))
			break;
	}
	if (!rc)
		rc = xarw_file_end(xw, err);
out:
	if (rc)
		xarw_file_abort(xw);
	src_stream_close(in);
	return rc;
}

static enum src_type link_type(src *s, const char *inner)
{
	struct src_stat st;
	pkgflat_error e;

	pkgflat_error_clear(&e);
	return s->ops->lstat(s, inner, &st, &e) ? SRC_NONE : st.type;
}

static pkgflat_status add_tree(xar_writer *xw, src *s, const char *inner,
    uint64_t parent, const char *name, unsigned char *buf, int depth,
    pkgflat_error *err)
{
	ptrvec names = { 0 };
	uint64_t id;
	pkgflat_status rc;

	if (depth > FLAT_MAX_DEPTH)
		return fail(err, PKGFLAT_E_FORMAT, s->display, inner,
		    "directories nested more than %d deep", FLAT_MAX_DEPTH);
	if ((rc = xarw_add_dir(xw, parent, name, &id, err)) ||
	    (rc = s->ops->list(s, inner, &names, err)))
		goto out;
	for (size_t i = 0; i < names.n && !rc; i++) {
		char *p = path_join(inner, names.v[i]);
		rc = p ? flat_add_any(xw, s, p, id, names.v[i], buf, depth, err) :
		    fail_nomem(err);
		free(p);
	}
out:
	pv_free(&names, free);
	return rc;
}

pkgflat_status flat_add_any(xar_writer *xw, src *s, const char *inner,
    uint64_t parent, const char *name, unsigned char *buf, int depth,
    pkgflat_error *err)
{
	enum src_type lt = link_type(s, inner);
	struct src_stat st;
	pkgflat_status rc;
	char *shown;

	if ((rc = src_stat(s, inner, &st, err)))
		return rc;
	if (st.type == SRC_FILE)
		return flat_copy_member(xw, parent, name, s, inner, buf, err);
	if (!(shown = src_display(s, inner)))
		return fail_nomem(err);
	if (st.type == SRC_DIR && lt == SRC_DIR)
		rc = add_tree(xw, s, inner, parent, name, buf, depth + 1, err);
	else if (lt == SRC_LINK)
		rc = fail(err, PKGFLAT_E_UNSUPPORTED, shown, NULL,
		    "a symlink to a directory: not followed (only links to files "
		    "inside the directory are)");
	else
		rc = fail(err, PKGFLAT_E_UNSUPPORTED, shown, NULL,
		    "neither a file nor a directory");
	free(shown);
	return rc;
}
