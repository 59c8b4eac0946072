/*
 * build: flat packages made from files, without a legacy bundle.
 *
 *  - a component package from a directory tree, as pkgbuild --root makes
 *    it: Payload (gzip'd odc cpio, tree_payload.c), Bom, Scripts from a
 *    scripts directory, PackageInfo;
 *  - a product archive from component packages, as productbuild makes it:
 *    a Distribution given (its pkg-refs found in the package paths) or
 *    synthesized (one invisible choice per component, in the order
 *    given), each component's members copied into <Name>.pkg/, and a
 *    --resources directory as Resources/ (symlinks followed only to files
 *    inside it, as flatten does).
 */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "convert_xml.h"
#include "tree.h"

#define MAX_XML (16u << 20)

void pkgflat_build_options_init(pkgflat_build_options *opt)
{
	memset(opt, 0, sizeof *opt);
	pkgflat_flatten_options_init(&opt->out);
}

/* The document as malloc'd bytes; frees the writer and buffer. */
static pkgflat_status xml_end(xmlTextWriterPtr w, xmlBufferPtr buf,
    char **out, size_t *len, pkgflat_error *err)
{
	int bad = xmlTextWriterEndDocument(w) < 0;

	xmlFreeTextWriter(w);
	*out = bad ? NULL : pf_strndup((const char *)xmlBufferContent(buf),
	    (size_t)xmlBufferLength(buf));
	*len = *out ? strlen(*out) : 0;
	xmlBufferFree(buf);
	return *out ? PKGFLAT_OK : fail_nomem(err);
}

static void attr_u64(xmlTextWriterPtr w, const char *name, uint64_t v)
{
	char num[32];

	snprintf(num, sizeof num, "%llu", (unsigned long long)v);
	xml_attr(w, name, num);
}

static pkgflat_status is_dir(const char *path, const char *what,
    pkgflat_error *err)
{
	struct stat st;

	if (stat(path, &st))
		return fail_errno(err, path, "%s", what);
	if (!S_ISDIR(st.st_mode))
		return fail(err, PKGFLAT_E_USAGE, path, NULL, "%s: not a directory",
		    what);
	return PKGFLAT_OK;
}

/* ------------------------------------------------------------------ */
/* A component from a directory tree                                  */

static pkgflat_status package_info(const pkgflat_build_options *opt,
    enum pkgflat_ownership own, const struct payload_result *pr, int pre,
    int post, char **out, size_t *len, pkgflat_error *err)
{
	xmlBufferPtr buf;
	xmlTextWriterPtr w = xml_begin(&buf);
	char gen[64];

	if (!w)
		return fail_nomem(err);
	xmlTextWriterStartElement(w, BAD_CAST "pkg-info");
	xml_attr(w, "format-version", "2");
	xml_attr(w, "identifier", opt->identifier);
	xml_attr(w, "version", opt->version);
	xml_attr(w, "install-location", opt->install_location ?
	    opt->install_location : "/");
	xml_attr(w, "auth", "root");
	xml_attr(w, "relocatable", "false");
	xml_attr(w, "overwrite-permissions", "true");
	xml_attr(w, "postinstall-action", "none");
	/* diff reads the ownership policy back from here. */
	snprintf(gen, sizeof gen, "pkgflat-" PKGFLAT_VERSION " (ownership %s)",
	    pkgflat_ownership_name(own));
	xml_attr(w, "generator-version", gen);
	xmlTextWriterStartElement(w, BAD_CAST "payload");
	attr_u64(w, "numberOfFiles", pr->stats.entries);
	attr_u64(w, "installKBytes", pr->stats.install_kbytes);
	xmlTextWriterEndElement(w);
	xml_empty(w, "bundle-version");
	xml_empty(w, "upgrade-bundle");
	xml_empty(w, "update-bundle");
	xml_empty(w, "atomic-update-bundle");
	xml_empty(w, "strict-identifier");
	xml_empty(w, "relocate");
	if (pre || post) {
		xmlTextWriterStartElement(w, BAD_CAST "scripts");
		if (pre) {
			xmlTextWriterStartElement(w, BAD_CAST "preinstall");
			xml_attr(w, "file", "./preinstall");
			xmlTextWriterEndElement(w);
		}
		if (post) {
			xmlTextWriterStartElement(w, BAD_CAST "postinstall");
			xml_attr(w, "file", "./postinstall");
			xmlTextWriterEndElement(w);
		}
		xmlTextWriterEndElement(w);
	}
	xmlTextWriterEndElement(w);
	return xml_end(w, buf, out, len, err);
}

pkgflat_status pkgflat_build_component(const pkgflat_build_options *opt,
    pkgflat_error *err)
{
	struct flat_writer fw = { 0 };
	struct payload_result pr = { 0 };
	struct tree_job job = { 0 };
	char *pi = NULL;
	size_t pi_len = 0;
	int pre = 0, post = 0;
	pkgflat_status rc;

	if (!opt || !opt->root || !opt->identifier || !opt->identifier[0] ||
	    !opt->version || !opt->version[0])
		return fail(err, PKGFLAT_E_USAGE, NULL, NULL,
		    "a component needs a root, an identifier and a version");
	if (opt->install_location && opt->install_location[0] != '/')
		return fail(err, PKGFLAT_E_USAGE, NULL, "--install-location",
		    "\"%s\" is not an absolute path", opt->install_location);
	if ((rc = is_dir(opt->root, "the root", err)) ||
	    (opt->scripts && (rc = is_dir(opt->scripts, "the scripts", err))) ||
	    (rc = pkgflat_output_check(opt->out.output, opt->root, err)) ||
	    (opt->scripts && (rc = pkgflat_output_check(opt->out.output,
	    opt->scripts, err))))
		return rc;
	enum pkgflat_ownership own = opt->out.ownership_given ?
	    opt->out.ownership : PKGFLAT_OWNERSHIP_RECOMMENDED;
	if ((rc = flat_writer_open(&fw, &opt->out, err)))
		goto out;
	job.dir = opt->root;
	job.name = opt->root;
	job.xw = fw.xw;
	job.ownership = own;
	job.threads = opt->out.threads;
	job.err = err;
	if ((rc = tree_payload(&job, &pr)) ||
	    (rc = xarw_add_spill(fw.xw, 0, "Bom", XAR_ENC_ZLIB, &pr.bom, err)))
		goto out;
	if (opt->scripts) {
		job.dir = opt->scripts;
		job.name = opt->scripts;
		if ((rc = tree_scripts(&job, &pre, &post)))
			goto out;
	}
	if ((rc = package_info(opt, own, &pr, pre, post, &pi, &pi_len, err)) ||
	    (rc = xarw_add_file(fw.xw, 0, "PackageInfo", XAR_ENC_ZLIB, pi, pi_len,
	    err)))
		goto out;
	rc = flat_writer_commit(&fw, err);
out:
	flat_writer_close(&fw);
	free(pi);
	spill_close(&pr.bom);
	free(pr.nonroot_path);
	free(pr.dup_path);
	free(pr.norm_path);
	return rc;
}

/* ------------------------------------------------------------------ */
/* A product from component packages                                  */

struct part {
	char *path;       /* the component package file */
	char *name;       /* its directory in the product: "Foo.pkg" */
	char *id, *version;
	uint64_t kbytes;
	src *s;
};

static void parts_free(struct part *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(p[i].path);
		free(p[i].name);
		free(p[i].id);
		free(p[i].version);
		src_close(p[i].s);
	}
	free(p);
}

static char *xml_prop(xmlNodePtr n, const char *name)
{
	xmlChar *v = n ? xmlGetProp(n, BAD_CAST name) : NULL;
	char *s = v ? pf_strdup((const char *)v) : NULL;

	xmlFree(v);
	return s;
}

/* Open a component package file and read what a pkg-ref needs. */
static pkgflat_status part_open(struct part *p, pkgflat_error *err)
{
	unsigned char *data = NULL;
	size_t len = 0;
	struct src_stat st;
	pkgflat_status rc;
	char shown[1100];

	snprintf(shown, sizeof shown, "%s/PackageInfo", p->path);
	if ((rc = src_open_xar(p->path, &p->s, err)))
		return rc;
	if ((rc = p->s->ops->lstat(p->s, "PackageInfo", &st, err)))
		return rc;
	if (st.type != SRC_FILE)
		return fail(err, PKGFLAT_E_FORMAT, p->path, NULL,
		    "not a component package: no PackageInfo at its top");
	if ((rc = src_read(p->s, "PackageInfo", MAX_XML, &data, &len, err)))
		return rc;
	xmlDocPtr doc = xmlReadMemory((const char *)data, (int)len, shown, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	free(data);
	if (!root || strcmp((const char *)root->name, "pkg-info")) {
		xmlFreeDoc(doc);
		return fail(err, PKGFLAT_E_FORMAT, shown, NULL,
		    "not XML with a <pkg-info> element");
	}
	p->id = xml_prop(root, "identifier");
	p->version = xml_prop(root, "version");
	for (xmlNodePtr c = root->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    !strcmp((const char *)c->name, "payload")) {
			char *kb = xml_prop(c, "installKBytes");
			p->kbytes = kb ? strtoull(kb, NULL, 10) : 0;
			free(kb);
		}
	xmlFreeDoc(doc);
	if (!p->id || !p->id[0])
		return fail(err, PKGFLAT_E_FORMAT, shown, "pkg-info",
		    "no identifier");
	return PKGFLAT_OK;
}


static pkgflat_status synthesize(const struct part *parts, size_t n,
    const pkgflat_build_options *opt, char **out, size_t *len,
    pkgflat_error *err)
{
	xmlBufferPtr buf;
	xmlTextWriterPtr w = xml_begin(&buf);

	if (!w)
		return fail_nomem(err);
	xmlTextWriterStartElement(w, BAD_CAST "installer-gui-script");
	xml_attr(w, "minSpecVersion", "2");
	if (opt->title)
		xmlTextWriterWriteElement(w, BAD_CAST "title", BAD_CAST opt->title);
	xmlTextWriterStartElement(w, BAD_CAST "options");
	xml_attr(w, "customize", "never");
	xml_attr(w, "require-scripts", "false");
	xmlTextWriterEndElement(w);
	if (opt->min_os) {
		xmlTextWriterStartElement(w, BAD_CAST "volume-check");
		xmlTextWriterStartElement(w, BAD_CAST "allowed-os-versions");
		xmlTextWriterStartElement(w, BAD_CAST "os-version");
		xml_attr(w, "min", opt->min_os);
		xmlTextWriterEndElement(w);
		xmlTextWriterEndElement(w);
		xmlTextWriterEndElement(w);
	}
	xmlTextWriterStartElement(w, BAD_CAST "choices-outline");
	xmlTextWriterStartElement(w, BAD_CAST "line");
	xml_attr(w, "choice", "default");
	for (size_t i = 0; i < n; i++) {
		xmlTextWriterStartElement(w, BAD_CAST "line");
		xml_attr(w, "choice", parts[i].id);
		xmlTextWriterEndElement(w);
	}
	xmlTextWriterEndElement(w);
	xmlTextWriterEndElement(w);
	xmlTextWriterStartElement(w, BAD_CAST "choice");
	xml_attr(w, "id", "default");
	xmlTextWriterEndElement(w);
	for (size_t i = 0; i < n; i++) {
		xmlTextWriterStartElement(w, BAD_CAST "choice");
		xml_attr(w, "id", parts[i].id);
		xml_attr(w, "visible", "false");
		xmlTextWriterStartElement(w, BAD_CAST "pkg-ref");
		xml_attr(w, "id", parts[i].id);
		xmlTextWriterEndElement(w);
		xmlTextWriterEndElement(w);
	}
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		char *url = xml_pkg_ref_url(parts[i].name);
		bad |= !url;
		xmlTextWriterStartElement(w, BAD_CAST "pkg-ref");
		xml_attr(w, "id", parts[i].id);
		if (parts[i].version)
			xml_attr(w, "version", parts[i].version);
		xml_attr(w, "onConclusion", "none");
		attr_u64(w, "installKBytes", parts[i].kbytes);
		if (url)
			xmlTextWriterWriteString(w, BAD_CAST url);
		xmlTextWriterEndElement(w);
		free(url);
	}
	xmlTextWriterEndElement(w);
	pkgflat_status rc = xml_end(w, buf, out, len, err);
	if (!rc && bad) {
		free(*out);
		*out = NULL;
		rc = fail_nomem(err);
	}
	return rc;
}

static pkgflat_status parts_from_packages(const pkgflat_build_options *opt,
    struct part **out, size_t *n, pkgflat_error *err)
{
	struct part *p = pf_calloc(opt->package_count ? opt->package_count : 1,
	    sizeof *p);
	pkgflat_status rc = PKGFLAT_OK;

	*out = NULL;
	*n = 0;
	if (!p)
		return fail_nomem(err);
	for (size_t i = 0; i < opt->package_count && !rc; i++) {
		p[i].path = pf_strdup(opt->packages[i]);
		p[i].name = pf_strdup(path_base(opt->packages[i]));
		*n = i + 1;
		if (!p[i].path || !p[i].name) {
			rc = fail_nomem(err);
			break;
		}
		if ((rc = part_open(&p[i], err)))
			break;
		for (size_t j = 0; j < i && !rc; j++) {
			if (!strcmp(p[j].name, p[i].name))
				rc = fail(err, PKGFLAT_E_USAGE, p[i].path, NULL,
				    "a second component named %s", p[i].name);
			else if (!strcmp(p[j].id, p[i].id))
				rc = fail(err, PKGFLAT_E_USAGE, p[i].path, NULL,
				    "identifier %s again (also %s)", p[i].id, p[j].path);
		}
	}
	*out = p;
	return rc;
}

struct dist_parts {
	const pkgflat_build_options *opt;
	const char *own_dir;      /* the Distribution's directory */
	struct part *p;
	size_t n, cap;
};

/* One pkg-ref: its component package, found in the package paths. */
static pkgflat_status find_part(void *ctx, const char *id, const char *name,
    pkgflat_error *err)
{
	struct dist_parts *d = ctx;
	const pkgflat_build_options *opt = d->opt;
	size_t np = opt->package_path_count;
	char where[300], *found = NULL;

	snprintf(where, sizeof where, "pkg-ref \"%s\"", id);
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->p[i].name, name))
			return PKGFLAT_OK;
	if (!name[0] || strchr(name, '/') || !strcmp(name, ".."))
		return fail(err, PKGFLAT_E_FORMAT, opt->distribution, where,
		    "\"%s\" is not a component package name", name);
	for (size_t i = 0; i < (np ? np : 1) && !found; i++) {
		char *cand = pf_asprintf("%s/%s", np ? opt->package_paths[i] :
		    d->own_dir[0] ? d->own_dir : ".", name);
		struct stat st;
		if (cand && !stat(cand, &st) && S_ISREG(st.st_mode))
			found = cand;
		else
			free(cand);
	}
	if (!found)
		return fail(err, PKGFLAT_E_FORMAT, opt->distribution, where,
		    "component %s is missing: not in %s", name, np ?
		    "the --package-path directories" :
		    "the Distribution's directory");
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		struct part *v = realloc(d->p, cap * sizeof *v);
		if (!v) {
			free(found);
			return fail_nomem(err);
		}
		d->p = v;
		d->cap = cap;
	}
	struct part *p = &d->p[d->n++];
	memset(p, 0, sizeof *p);
	p->path = found;
	if (!(p->name = pf_strdup(name)))
		return fail_nomem(err);
	return part_open(p, err);
}

static pkgflat_status parts_from_distribution(const pkgflat_build_options *opt,
    const char *xml, size_t len, struct part **out, size_t *n,
    pkgflat_error *err)
{
	struct dist_parts d = { .opt = opt };
	char *own_dir = path_dir(opt->distribution);
	pkgflat_status rc;

	if (!own_dir)
		return fail_nomem(err);
	d.own_dir = own_dir;
	rc = flat_each_ref(xml, len, opt->distribution, find_part, &d, err);
	free(own_dir);
	*out = d.p;
	*n = d.n;
	return rc;
}

static pkgflat_status copy_part(struct flat_writer *fw, struct part *p,
    unsigned char *buf, pkgflat_error *err)
{
	ptrvec names = { 0 };
	uint64_t dir;
	pkgflat_status rc;

	if ((rc = xarw_add_dir(fw->xw, 0, p->name, &dir, err)) ||
	    (rc = p->s->ops->list(p->s, "", &names, err)))
		goto out;
	for (size_t i = 0; i < names.n && !rc; i++) {
		const char *n = names.v[i];
		struct src_stat st;
		if ((rc = p->s->ops->lstat(p->s, n, &st, err)))
			break;
		if (st.type != SRC_FILE)
			rc = fail(err, PKGFLAT_E_FORMAT, p->path, n,
			    "a component package holds only files");
		else
			rc = flat_copy_member(fw->xw, dir, n, p->s, n, buf, err);
	}
out:
	pv_free(&names, free);
	return rc;
}

pkgflat_status pkgflat_build_synthesize(const pkgflat_build_options *opt,
    char **xml, size_t *len, pkgflat_error *err)
{
	struct part *parts = NULL;
	size_t n = 0;
	pkgflat_status rc;

	*xml = NULL;
	*len = 0;
	if (!opt || !opt->package_count)
		return fail(err, PKGFLAT_E_USAGE, NULL, NULL,
		    "no component package to synthesize a Distribution from");
	if (!(rc = parts_from_packages(opt, &parts, &n, err)))
		rc = synthesize(parts, n, opt, xml, len, err);
	parts_free(parts, n);
	return rc;
}

/* productbuild --resources: the directory that becomes Resources/. */
static pkgflat_status open_resources(const pkgflat_build_options *opt,
    src **out, pkgflat_error *err)
{
	struct stat st;
	pkgflat_status rc;

	if (stat(opt->resources, &st))
		return fail_errno(err, opt->resources, "cannot open");
	if (!S_ISDIR(st.st_mode))
		return fail(err, PKGFLAT_E_USAGE, opt->resources, NULL,
		    "not a directory: --resources names the directory that "
		    "becomes Resources");
	if ((rc = pkgflat_output_check(opt->out.output, opt->resources, err)))
		return rc;
	return src_open_dir(opt->resources, opt->resources, out, err);
}

pkgflat_status pkgflat_build_product(const pkgflat_build_options *opt,
    pkgflat_error *err)
{
	struct flat_writer fw = { 0 };
	struct part *parts = NULL;
	size_t n = 0, len = 0;
	char *xml = NULL;
	unsigned char *buf = NULL;
	src *res = NULL;
	pkgflat_status rc;

	if (!opt || (!opt->distribution && !opt->package_count))
		return fail(err, PKGFLAT_E_USAGE, NULL, NULL,
		    "a product needs a Distribution or component packages");
	if (opt->distribution && opt->package_count)
		return fail(err, PKGFLAT_E_USAGE, NULL, NULL,
		    "a Distribution names its own components: give package "
		    "paths, not packages");
	if (opt->distribution) {
		unsigned char *d = NULL;
		src *s = NULL;
		char *dir = path_dir(opt->distribution);
		if (!dir)
			return fail_nomem(err);
		rc = src_open_dir(dir[0] ? dir : ".", dir[0] ? dir : ".", &s, err);
		if (!rc)
			rc = src_read(s, path_base(opt->distribution), MAX_XML, &d, &len,
			    err);
		src_close(s);
		free(dir);
		xml = (char *)d;
		if (!rc)
			rc = pkgflat_output_check(opt->out.output, opt->distribution,
			    err);
		if (!rc)
			rc = parts_from_distribution(opt, xml, len, &parts, &n, err);
	} else {
		rc = parts_from_packages(opt, &parts, &n, err);
		if (!rc)
			rc = synthesize(parts, n, opt, &xml, &len, err);
	}
	for (size_t i = 0; i < n && !rc; i++)
		rc = pkgflat_output_check(opt->out.output, parts[i].path, err);
	if (!rc && opt->resources)
		rc = open_resources(opt, &res, err);
	if (rc)
		goto out;
	if (!n) {
		rc = fail(err, PKGFLAT_E_FORMAT, opt->distribution, NULL,
		    "no pkg-ref names a component package");
		goto out;
	}
	if (!(buf = malloc(FLAT_COPY_BUF))) {
		rc = fail_nomem(err);
		goto out;
	}
	if ((rc = flat_writer_open(&fw, &opt->out, err)) ||
	    (rc = xarw_add_file(fw.xw, 0, "Distribution", XAR_ENC_ZLIB, xml, len,
	    err)) ||
	    (res && (rc = flat_add_any(fw.xw, res, "", 0, "Resources", buf, 0,
	    err))))
		goto out;
	for (size_t i = 0; i < n && !rc; i++)
		rc = copy_part(&fw, &parts[i], buf, err);
	if (!rc)
		rc = flat_writer_commit(&fw, err);
out:
	flat_writer_close(&fw);
	src_close(res);
	parts_free(parts, n);
	free(xml);
	free(buf);
	return rc;
}
