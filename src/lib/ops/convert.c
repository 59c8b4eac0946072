/*
 * Legacy bundle package -> flat product archive (legacy-format.md §7-§9,
 * flat-format.md §3):
 *
 *   <Name>.pkg/Payload      gzip'd odc cpio       (convert_payload.c)
 *   <Name>.pkg/Bom          built from that payload
 *   <Name>.pkg/Scripts      wrappers + originals  (convert_scripts.c)
 *   <Name>.pkg/PackageInfo  identifier, version, location, flags, scripts
 *   Resources/[<lang>.lproj/]Welcome, ReadMe, License, Conclusion, background
 *   Distribution            title, resources, options, domains, checks,
 *                           choices in IFPkgFlagPackageList order, pkg-refs
 *
 * Every mapping decision and every dropped key is recorded in the result.
 */
#include <errno.h>
#include <fcntl.h>
#include <libxml/xmlwriter.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "convert.h"
#include "convert_scripts.h"
#include "outfile.h"
#include "dist.h"
#include "sign.h"

struct pkgflat_convert_result {
	ptrvec comps;     /* pkgflat_converted * */
	ptrvec maps;      /* pkgflat_mapping * */
	ptrvec warnings;  /* char * */
};

/* A component of the product, as the Distribution needs it. */
struct comp {
	const pkgflat_bundle *b;
	char *name;       /* directory in the archive: "Foo.pkg" */
	char *id, *version, *title, *desc;
	const char *selection;   /* effective: selected/unselected/required */
	uint64_t kbytes;
	int scripts_only;        /* metapackage-level scripts */
	int phases;              /* for scripts_only: 1 pre, 2 post */
	int wrote_scripts;       /* a Scripts archive went out */
};

struct conv {
	pkgflat_package *pkg;
	const pkgflat_convert_options *opt;
	pkgflat_convert_result *res;
	xar_writer *xw;
	int64_t now;
	pkgflat_error *err;
	struct comp *comps;
	size_t ncomps;
};

void pkgflat_convert_options_init(pkgflat_convert_options *opt)
{
	memset(opt, 0, sizeof *opt);
	opt->ownership = PKGFLAT_OWNERSHIP_RECOMMENDED;
	opt->toc_checksum = PKGFLAT_TOC_SHA1;
	opt->timestamp = -1;
}

/* ------------------------------------------------------------------ */
/* The result                                                         */

static void mapping_free(void *p)
{
	pkgflat_mapping *m = p;

	if (!m)
		return;
	free((char *)m->component);
	free((char *)m->legacy);
	free((char *)m->value);
	free((char *)m->flat);
	free((char *)m->note);
	free(m);
}

static void converted_free(void *p)
{
	pkgflat_converted *c = p;

	if (!c)
		return;
	free((char *)c->name);
	free((char *)c->identifier);
	free((char *)c->version);
	free(c);
}

void pkgflat_convert_result_free(pkgflat_convert_result *r)
{
	if (!r)
		return;
	pv_free(&r->comps, converted_free);
	pv_free(&r->maps, mapping_free);
	pv_free(&r->warnings, free);
	free(r);
}

size_t pkgflat_convert_component_count(const pkgflat_convert_result *r)
{
	return r->comps.n;
}

const pkgflat_converted *pkgflat_convert_component(
    const pkgflat_convert_result *r, size_t i)
{
	return i < r->comps.n ? r->comps.v[i] : NULL;
}

size_t pkgflat_convert_mapping_count(const pkgflat_convert_result *r)
{
	return r->maps.n;
}

const pkgflat_mapping *pkgflat_convert_mapping(const pkgflat_convert_result *r,
    size_t i)
{
	return i < r->maps.n ? r->maps.v[i] : NULL;
}

size_t pkgflat_convert_warning_count(const pkgflat_convert_result *r)
{
	return r->warnings.n;
}

const char *pkgflat_convert_warning(const pkgflat_convert_result *r, size_t i)
{
	return i < r->warnings.n ? r->warnings.v[i] : NULL;
}

static void warn(struct conv *c, const char *fmt, ...) PF_PRINTF(2, 3);
static void warn(struct conv *c, const char *fmt, ...)
{
	va_list ap;
	char buf[1024];

	if (!c)
		return; /* convert_requirement_js() for diff */
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	char *w = pf_strdup(buf);
	if (w && pv_push(&c->res->warnings, w))
		free(w);
}

static void warn_cb(void *ctx, const char *fmt, ...)
{
	struct conv *c = ctx;
	va_list ap;
	char buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	warn(c, "%s", buf);
}

/* Record one decision. flat NULL: dropped. */
static void map(struct conv *c, const char *comp, const char *legacy,
    const char *value, const char *flat, const char *note)
{
	pkgflat_mapping *m;

	if (!c)
		return;
	m = pf_calloc(1, sizeof *m);
	if (!m || pv_push(&c->res->maps, m)) {
		free(m);
		return;
	}
	m->component = pf_strdup(comp);
	m->legacy = pf_strdup(legacy);
	m->value = pf_strdup(value);
	m->flat = pf_strdup(flat);
	m->note = pf_strdup(note);
}

static const char *tf(int v)
{
	return v > 0 ? "true" : "false";
}

/* ------------------------------------------------------------------ */
/* XML helpers                                                        */

static xmlTextWriterPtr xml_begin(xmlBufferPtr *buf)
{
	xmlTextWriterPtr w;

	if (!(*buf = xmlBufferCreate()))
		return NULL;
	if (!(w = xmlNewTextWriterMemory(*buf, 0))) {
		xmlBufferFree(*buf);
		return NULL;
	}
	xmlTextWriterSetIndent(w, 1);
	xmlTextWriterSetIndentString(w, BAD_CAST "    ");
	xmlTextWriterStartDocument(w, NULL, "utf-8", NULL);
	return w;
}

static void attr(xmlTextWriterPtr w, const char *name, const char *value)
{
	if (value)
		xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST value);
}

static void attrf(xmlTextWriterPtr w, const char *name, const char *fmt, ...)
    PF_PRINTF(3, 4);
static void attrf(xmlTextWriterPtr w, const char *name, const char *fmt, ...)
{
	char buf[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	attr(w, name, buf);
}

static void empty(xmlTextWriterPtr w, const char *name)
{
	xmlTextWriterStartElement(w, BAD_CAST name);
	xmlTextWriterEndElement(w);
}

/* Finish the document into *out (malloc'd). */
static pkgflat_status xml_finish(struct conv *c, xmlTextWriterPtr w,
    xmlBufferPtr buf, const char *name, char **out, size_t *len)
{
	pkgflat_status rc = PKGFLAT_OK;

	*out = NULL;
	if (xmlTextWriterEndDocument(w) < 0)
		rc = fail(c->err, PKGFLAT_E_INTERNAL, name, NULL,
		    "cannot write XML (text not valid UTF-8?)");
	xmlFreeTextWriter(w);
	if (!rc && !(*out = pf_strndup((const char *)xmlBufferContent(buf),
	    (size_t)xmlBufferLength(buf))))
		rc = fail_nomem(c->err);
	*len = rc ? 0 : (size_t)xmlBufferLength(buf);
	xmlBufferFree(buf);
	return rc;
}

/* Finish the document and store it, zlib'd, in the archive. */
static pkgflat_status xml_store(struct conv *c, xmlTextWriterPtr w,
    xmlBufferPtr buf, uint64_t parent, const char *name)
{
	char *text;
	size_t len;
	pkgflat_status rc = xml_finish(c, w, buf, name, &text, &len);

	if (!rc)
		rc = xarw_add_file(c->xw, parent, name, XAR_ENC_ZLIB, text, len,
		    c->err);
	free(text);
	return rc;
}

/* ------------------------------------------------------------------ */
/* PackageInfo                                                        */

static const char *postinstall_action(const char *restart)
{
	if (!restart || !strcmp(restart, "none"))
		return "none";
	if (!strcmp(restart, "logout"))
		return "logout";
	if (!strcmp(restart, "shutdown"))
		return "shutdown";
	return "restart";
}

static const char *on_conclusion(const char *restart)
{
	if (!restart || !strcmp(restart, "none"))
		return "none";
	if (!strcmp(restart, "recommended-restart"))
		return "RecommendRestart";
	if (!strcmp(restart, "logout"))
		return "RequireLogout";
	if (!strcmp(restart, "shutdown"))
		return "RequireShutdown";
	return "RequireRestart";
}

static pkgflat_status write_package_info(struct conv *c, struct comp *k,
    uint64_t dir, const struct payload_result *pr,
    const struct scripts_result *sr)
{
	const pkgflat_bundle *b = k->b;
	xmlBufferPtr buf;
	xmlTextWriterPtr w = xml_begin(&buf);
	const char *loc = k->scripts_only ? "/" :
	    pkgflat_bundle_get(b, PKGFLAT_F_INSTALL_LOCATION);
	const char *auth = pkgflat_bundle_get(b, PKGFLAT_F_AUTH);

	if (!w)
		return fail_nomem(c->err);
	xmlTextWriterStartElement(w, BAD_CAST "pkg-info");
	attr(w, "format-version", "2");
	attr(w, "identifier", k->id);
	attr(w, "version", k->version);
	attr(w, "install-location", loc ? loc : "/");
	attr(w, "auth", auth && !strcmp(auth, "none") ? "none" : "root");
	attr(w, "relocatable", tf(pkgflat_bundle_flag(b,
	    PKGFLAT_FLAG_RELOCATABLE)));
	attr(w, "overwrite-permissions", tf(pkgflat_bundle_flag(b,
	    PKGFLAT_FLAG_OVERWRITE_PERMISSIONS)));
	attr(w, "followSymLinks", tf(pkgflat_bundle_flag(b,
	    PKGFLAT_FLAG_FOLLOW_LINKS)));
	attr(w, "postinstall-action", k->scripts_only ? "none" :
	    postinstall_action(pkgflat_bundle_get(b, PKGFLAT_F_RESTART)));
	/* diff reads the ownership policy back from here. */
	attrf(w, "generator-version", "pkgflat-" PKGFLAT_VERSION " (ownership %s)",
	    pkgflat_ownership_name(c->opt->ownership));
	if (pr) {
		xmlTextWriterStartElement(w, BAD_CAST "payload");
		attrf(w, "numberOfFiles", "%llu",
		    (unsigned long long)pr->stats.entries);
		attrf(w, "installKBytes", "%llu",
		    (unsigned long long)pr->stats.install_kbytes);
		xmlTextWriterEndElement(w);
	}
	/* No bundle is followed elsewhere or version-checked: legacy
	 * Installer did neither (legacy-format.md §8.8). */
	empty(w, "bundle-version");
	empty(w, "upgrade-bundle");
	empty(w, "update-bundle");
	empty(w, "atomic-update-bundle");
	empty(w, "strict-identifier");
	empty(w, "relocate");
	if (sr && (sr->preinstall || sr->postinstall)) {
		xmlTextWriterStartElement(w, BAD_CAST "scripts");
		if (sr->preinstall) {
			xmlTextWriterStartElement(w, BAD_CAST "preinstall");
			attr(w, "file", "./preinstall");
			xmlTextWriterEndElement(w);
		}
		if (sr->postinstall) {
			xmlTextWriterStartElement(w, BAD_CAST "postinstall");
			attr(w, "file", "./postinstall");
			xmlTextWriterEndElement(w);
		}
		xmlTextWriterEndElement(w);
	}
	xmlTextWriterEndElement(w);
	return xml_store(c, w, buf, dir, "PackageInfo");
}

/* Every Info.plist key not mapped by name above: say it was dropped, and
 * why. Keys that are handled elsewhere are listed here to be skipped. */
static void map_remaining_keys(struct conv *c, const pkgflat_bundle *b,
    const char *n)
{
	static const char *const handled[] = {
		"CFBundleIdentifier", "CFBundleShortVersionString",
		"IFPkgFlagDefaultLocation", "IFPkgFlagAuthorizationAction",
		"IFPkgFlagRestartAction", "IFPkgFlagRelocatable",
		"IFPkgFlagOverwritePermissions", "IFPkgFlagFollowLinks",
		"IFPkgFlagRootVolumeOnly", "IFPkgFlagIsRequired",
		"IFPkgFlagAllowBackRev", "IFPkgFlagInstallFat", "IFPkgFlagUseUserMask",
		"IFPkgFlagUpdateInstalledLanguages", "IFPkgFlagInstalledSize",
		"IFRequirementDicts", "IFPkgFlagBackgroundAlignment",
		"IFPkgFlagBackgroundScaling", "IFPkgFlagComponentDirectory",
		"IFPkgFlagPackageList",
	};
	static const char *const informational[] = {
		"CFBundleGetInfoString", "CFBundleName", "CFBundleVersion",
		"CFBundleDevelopmentRegion", "CFBundleInfoDictionaryVersion",
		"CFBundleSignature", "CFBundlePackageType", "IFMajorVersion",
		"IFMinorVersion", "IFMinorRevision", "IFPkgFormatVersion",
		"IFPkgBuildDate", "IFPkgBuildVersion", "IFPkgCreator",
		"Bundle identifier",
	};
	for (size_t i = 0; i < pkgflat_bundle_key_count(b); i++) {
		const char *v = NULL, *k = pkgflat_bundle_key(b, i, &v);
		size_t j;
		for (j = 0; j < sizeof handled / sizeof *handled; j++)
			if (!strcmp(k, handled[j]))
				break;
		if (j < sizeof handled / sizeof *handled)
			continue;
		const char *why = "unknown key; no flat equivalent";
		for (j = 0; j < sizeof informational / sizeof *informational; j++)
			if (!strcmp(k, informational[j]))
				why = "informational; no flat equivalent";
		if (!strcmp(k, "IFPkgFlagUpdateInstalledLangauges"))
			why = "misspelled key that Installer never read";
		map(c, n, k, v, NULL, why);
	}
}

/* What the ownership policy changed in one payload, for the report. */
static void map_ownership(struct conv *c, const char *name,
    const struct payload_result *pr)
{
	char value[1200], flat[64];

	if (!pr->normalised)
		return;
	snprintf(value, sizeof value, "%u:%u on %llu entr%s, first %s",
	    pr->norm_uid, pr->norm_gid, (unsigned long long)pr->normalised,
	    pr->normalised == 1 ? "y" : "ies", pr->norm_path);
	snprintf(flat, sizeof flat, "Payload owner %u:%u", pr->norm_to_uid,
	    pr->norm_to_gid);
	map(c, name, "payload ownership", value, flat,
	    c->opt->ownership == PKGFLAT_OWNERSHIP_ROOT ?
	    "--ownership root: every entry root:wheel" :
	    "--ownership recommended (the default): personal owners (uid 500 "
	    "and up) became root and their staff or personal groups wheel; "
	    "system owners kept; --ownership preserve keeps every owner");
}

/* The selection attributes write_distribution() gives a choice, as the
 * report quotes them. */
static const char *choice_selection_attrs(const char *selection)
{
	if (!strcmp(selection, "required"))
		return "selected=\"true\" enabled=\"false\"";
	return strcmp(selection, "unselected") ? "start_selected=\"true\"" :
	    "start_selected=\"false\"";
}

/* Record how a component's Info.plist keys were mapped. */
static void map_component(struct conv *c, struct comp *k)
{
	const pkgflat_bundle *b = k->b;
	const char *n = k->name;
	char flat[256];
	const char *v;

	map(c, n, "CFBundleIdentifier", pkgflat_bundle_get(b,
	    PKGFLAT_F_IDENTIFIER), "PackageInfo identifier, pkg-ref id, choice id",
	    k->id != pkgflat_bundle_get(b, PKGFLAT_F_IDENTIFIER) &&
	    (!pkgflat_bundle_get(b, PKGFLAT_F_IDENTIFIER) ||
	    strcmp(k->id, pkgflat_bundle_get(b, PKGFLAT_F_IDENTIFIER))) ?
	    k->id : NULL);
	map(c, n, "CFBundleShortVersionString", pkgflat_bundle_get(b,
	    PKGFLAT_F_VERSION), "PackageInfo version, pkg-ref version", NULL);
	v = pkgflat_bundle_get(b, PKGFLAT_F_INSTALL_LOCATION);
	snprintf(flat, sizeof flat, "PackageInfo install-location=\"%s\"",
	    v ? v : "/");
	map(c, n, "IFPkgFlagDefaultLocation", v, flat, v ? NULL :
	    "absent: installs relative to /");
	v = pkgflat_bundle_get(b, PKGFLAT_F_AUTH);
	snprintf(flat, sizeof flat, "PackageInfo auth=\"%s\", pkg-ref auth=\"%s\"",
	    v && !strcmp(v, "none") ? "none" : "root",
	    v && !strcmp(v, "none") ? "none" : "Root");
	map(c, n, "IFPkgFlagAuthorizationAction", v, flat, v && !strcmp(v,
	    "admin") ? "flat packages have no admin-only mode: root" : NULL);
	v = pkgflat_bundle_get(b, PKGFLAT_F_RESTART);
	snprintf(flat, sizeof flat,
	    "PackageInfo postinstall-action=\"%s\", pkg-ref onConclusion=\"%s\"",
	    postinstall_action(v), on_conclusion(v));
	map(c, n, "IFPkgFlagRestartAction", v, flat, NULL);
	static const struct {
		enum pkgflat_flag f;
		const char *key, *flat;
	} flags[] = {
		{ PKGFLAT_FLAG_RELOCATABLE, "IFPkgFlagRelocatable",
		  "PackageInfo relocatable" },
		{ PKGFLAT_FLAG_OVERWRITE_PERMISSIONS, "IFPkgFlagOverwritePermissions",
		  "PackageInfo overwrite-permissions" },
		{ PKGFLAT_FLAG_FOLLOW_LINKS, "IFPkgFlagFollowLinks",
		  "PackageInfo followSymLinks" },
		{ PKGFLAT_FLAG_ROOT_VOLUME_ONLY, "IFPkgFlagRootVolumeOnly",
		  "Distribution options rootVolumeOnly and domains" },
		{ PKGFLAT_FLAG_ALLOW_BACK_REV, "IFPkgFlagAllowBackRev",
		  "Distribution volume-check downgrade test when false" },
	};
	for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) {
		int f = pkgflat_bundle_flag(b, flags[i].f);
		if (f >= 0)
			map(c, n, flags[i].key, tf(f), flags[i].flat, NULL);
	}
	int req = pkgflat_bundle_flag(b, PKGFLAT_FLAG_REQUIRED);
	if (req >= 0) {
		/* Say what the choice got, which also depends on the selection. */
		snprintf(flat, sizeof flat, "Distribution choice %s",
		    choice_selection_attrs(k->selection));
		map(c, n, "IFPkgFlagIsRequired", tf(req), flat, req > 0 ? NULL :
		    !strcmp(k->selection, "required") ? "required by the "
		    "metapackage's package list" : "the user may deselect it");
	}
	static const struct {
		enum pkgflat_flag f;
		const char *key, *why;
	} dropped[] = {
		{ PKGFLAT_FLAG_INSTALL_FAT, "IFPkgFlagInstallFat",
		  "flat Installer never thins binaries" },
		{ PKGFLAT_FLAG_USE_USER_MASK, "IFPkgFlagUseUserMask",
		  "no flat equivalent" },
		{ PKGFLAT_FLAG_UPDATE_INSTALLED_LANGUAGES,
		  "IFPkgFlagUpdateInstalledLanguages",
		  "no flat equivalent (deleteObsoleteLanguages is another feature)" },
	};
	for (size_t i = 0; i < sizeof dropped / sizeof *dropped; i++) {
		int f = pkgflat_bundle_flag(b, dropped[i].f);
		if (f >= 0)
			map(c, n, dropped[i].key, tf(f), NULL, dropped[i].why);
	}
	if (pkgflat_bundle_claimed_kbytes(b) >= 0) {
		char v2[32];
		snprintf(v2, sizeof v2, "%lld",
		    (long long)pkgflat_bundle_claimed_kbytes(b));
		map(c, n, "IFPkgFlagInstalledSize", v2, NULL,
		    "recomputed from the payload");
	}
	if (pkgflat_bundle_get(b, PKGFLAT_F_TITLE))
		map(c, n, "IFPkgDescriptionTitle", pkgflat_bundle_get(b,
		    PKGFLAT_F_TITLE), "Distribution choice title", NULL);
	else {
		/* write_distribution() falls back on the component's name. */
		snprintf(flat, sizeof flat, "Distribution choice title=\"%s\"",
		    k->title ? k->title : k->name);
		map(c, n, "IFPkgDescriptionTitle", NULL, flat,
		    "no title: the component's name");
	}
	if (pkgflat_bundle_get(b, PKGFLAT_F_DESCRIPTION))
		map(c, n, "IFPkgDescriptionDescription", pkgflat_bundle_get(b,
		    PKGFLAT_F_DESCRIPTION), "Distribution choice description", NULL);
	if (pkgflat_bundle_get(b, PKGFLAT_F_DELETE_WARNING))
		map(c, n, "IFPkgDescriptionDeleteWarning", pkgflat_bundle_get(b,
		    PKGFLAT_F_DELETE_WARNING), NULL, "informational");
	map_remaining_keys(c, b, n);
}

/* ------------------------------------------------------------------ */
/* One component                                                      */

struct open_ctx {
	src *s;
	const char *path;
};

static pkgflat_status open_payload(void *p, src_stream **out,
    pkgflat_error *err)
{
	struct open_ctx *o = p;

	return src_open_stream(o->s, o->path, out, err);
}

static pkgflat_status convert_component(struct conv *c, struct comp *k)
{
	const pkgflat_bundle *b = k->b;
	pkgflat_package *pkg = c->pkg;
	struct payload_result pr = { 0 };
	struct scripts_result sr = { 0 };
	pkgflat_status rc;
	uint64_t dir;
	int have_payload = !k->scripts_only && pkgflat_bundle_has_payload(b);
	pkgflat_converted *out = pf_calloc(1, sizeof *out);
	char *pname = NULL;

	if (!out || pv_push(&c->res->comps, out)) {
		free(out);
		return fail_nomem(c->err);
	}
	out->name = pf_strdup(k->name);
	out->identifier = pf_strdup(k->id);
	out->version = pf_strdup(k->version);
	out->payload = "none";
	if ((rc = xarw_add_dir(c->xw, 0, k->name, &dir, c->err)))
		return rc;
	if (have_payload) {
		const char *pp = pkgflat_bundle_get(b, PKGFLAT_F_PAYLOAD_PATH);
		struct open_ctx oc = { pkg->src, pp };
		struct payload_job job = { 0 };
		if (!(pname = src_display(pkg->src, pp)))
			return fail_nomem(c->err);
		job.open = open_payload;
		job.open_ctx = &oc;
		job.name = pname;
		job.xw = c->xw;
		job.parent = dir;
		job.ownership = c->opt->ownership;
		job.mtime = c->now;
		job.gzip_level = 6;
		job.threads = c->opt->threads;
		job.err = c->err;
		if ((rc = payload_convert(&job, &pr)))
			goto out;
		rc = xarw_add_file(c->xw, dir, "Bom", XAR_ENC_ZLIB, pr.bom,
		    pr.bom_len, c->err);
		if (rc)
			goto out;
		out->payload = pr.copied ? "copied" : "transcoded";
		out->entries = pr.stats.entries;
		out->install_kbytes = pr.stats.install_kbytes;
		k->kbytes = pr.stats.install_kbytes;
		map(c, k->name, "Archive.pax.gz", pr.stats.format,
		    "Payload (gzip'd odc cpio) and Bom", pr.copied ?
		    "copied byte for byte" : "transcoded to odc cpio");
		if (!pr.copied && strcmp(pr.stats.format, "odc cpio"))
			map(c, k->name, "payload format", pr.stats.format,
			    "odc cpio", "flat Installer reads odc cpio only");
		if (pr.nonroot && c->opt->ownership == PKGFLAT_OWNERSHIP_PRESERVE)
			warn(c, "%s: %llu payload entries are not owned by root, "
			    "first %s (uid %u); --ownership recommended gives "
			    "personal owners to root", k->name,
			    (unsigned long long)pr.nonroot, pr.nonroot_path,
			    pr.nonroot_uid);
		map_ownership(c, k->name, &pr);
		if (pr.empty)
			warn(c, "%s: the payload holds no entries; the flat Payload "
			    "holds only \".\"", k->name);
		if (pr.dups)
			warn(c, "%s: the payload stores %llu path(s) twice, first %s; "
			    "the Bom lists the first copy, Installer keeps the later one",
			    k->name, (unsigned long long)pr.dups, pr.dup_path);
	} else if (!k->scripts_only)
		warn(c, "%s: no payload: the component installs nothing and leaves "
		    "no receipt", k->name);

	struct scripts_job sj = { 0 };
	sj.bundle = b;
	sj.src = pkg->src;
	sj.identifier = k->id;
	sj.name = k->name;
	sj.xw = c->xw;
	sj.parent = dir;
	sj.mtime = c->now;
	sj.phases = k->scripts_only ? k->phases : 3;
	sj.err = c->err;
	if ((rc = scripts_convert(&sj, &sr)))
		goto out;
	out->preinstall = sr.preinstall;
	out->postinstall = sr.postinstall;
	k->wrote_scripts = sr.preinstall || sr.postinstall;
	for (int s = 0; s < PKGFLAT_SCRIPT_COUNT_; s++) {
		if (!pkgflat_bundle_script(b, s) ||
		    !scripts_phase_includes(sj.phases, s))
			continue;
		int pre = s <= PKGFLAT_SCRIPT_PREUPGRADE;
		/* The file's own name: "Foo.post_install" in a 10.0/10.1 one. */
		map(c, k->name, path_base(pkgflat_bundle_script(b, s)),
		    pkgflat_script_name(s), pre ?
		    "Scripts ./preinstall (wrapper), original in "
		    "Contents/Resources" : "Scripts ./postinstall (wrapper), "
		    "original in Contents/Resources",
		    s <= PKGFLAT_SCRIPT_VOLUME_CHECK ?
		    "run as a fail-fast guard; exit code decoded, .strings message "
		    "printed" : s == PKGFLAT_SCRIPT_PREINSTALL ||
		    s == PKGFLAT_SCRIPT_POSTINSTALL ? "runs only when no receipt "
		    "exists" : s == PKGFLAT_SCRIPT_PREUPGRADE ||
		    s == PKGFLAT_SCRIPT_POSTUPGRADE ? "runs only when a receipt "
		    "exists" : "runs every time");
	}
	if (sr.preinstall || sr.postinstall)
		scripts_lint(b, pkg->src, warn_cb, c);
	rc = write_package_info(c, k, dir, have_payload ? &pr : NULL, &sr);
out:
	free(pr.bom);
	free(pr.nonroot_path);
	free(pr.dup_path);
	free(pr.norm_path);
	free(pname);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Resources shown by Installer                                       */

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

/* What the Distribution's <welcome> & co. point at. */
struct shown {
	const char *role;
	char *file;       /* name in Resources (same in every .lproj) */
	const char *mime;
};

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

static pkgflat_status write_resources(struct conv *c, const pkgflat_bundle *b,
    struct shown *shown, size_t nshown)
{
	static const char *const roles[] = {
		"welcome", "readme", "license", "conclusion", "background",
	};
	char *res = path_join(pkgflat_bundle_get(b, PKGFLAT_F_PATH),
	    "Contents/Resources");
	uint64_t top = 0;
	pkgflat_status rc = PKGFLAT_OK;
	ptrvec dirs = { 0 };    /* "lang" -> id, as "lang\0" + id */
	uint64_t *ids = NULL;
	size_t nids = 0;

	if (!res)
		return fail_nomem(c->err);
	for (size_t i = 0; i < pkgflat_bundle_resource_count(b) && !rc; i++) {
		const pkgflat_resource *r = pkgflat_bundle_resource(b, i);
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
			map(c, NULL, r->path, NULL, file,
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
			warn(c, "%s: another %s (%s) is already used; this one is "
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
			map(c, NULL, r->path, NULL, r->lang ? "Resources/<lang>.lproj"
			    : "Resources", roles[role]);
		free(inner);
		free(file);
	}
	free(res);
	free(ids);
	pv_free(&dirs, free);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Distribution                                                       */

static void js_str(strbuf *sb, const char *s)
{
	sb_add(sb, "'", 1);
	for (; s && *s; s++) {
		if (*s == '\'' || *s == '\\')
			sb_addf(sb, "\\%c", *s);
		else if (*s == '\n')
			sb_adds(sb, "\\n");
		else if ((unsigned char)*s < 0x20)
			sb_addf(sb, "\\x%02x", (unsigned char)*s);
		else
			sb_add(sb, s, 1);
	}
	sb_add(sb, "'", 1);
}

static const char js_helpers[] =
    "function pkgflat_compare(a, op, b) {\n"
    "    var x = (a === undefined || a === null) ? '' : String(a);\n"
    "    var y = String(b), c;\n"
    "    var ver = /^[0-9]+(\\.[0-9]+)*$/;\n"
    "    if (ver.test(x) && ver.test(y))\n"
    "        c = system.compareVersions(x, y);\n"
    "    else\n"
    "        c = x < y ? -1 : x > y ? 1 : 0;\n"
    "    switch (op) {\n"
    "    case 'eq': case '=': case '==': return c == 0;\n"
    "    case 'ne': case '!=': return c != 0;\n"
    "    case 'lt': case '<': return c < 0;\n"
    "    case 'le': case '<=': return c <= 0;\n"
    "    case 'gt': case '>': return c > 0;\n"
    "    case 'ge': case '>=': return c >= 0;\n"
    "    }\n"
    "    return false;\n"
    "}\n"
    "function pkgflat_fail(type, title, message) {\n"
    "    my.result.type = type;\n"
    "    my.result.title = title;\n"
    "    my.result.message = message;\n"
    "    return false;\n"
    "}\n";

/* A message of IFRequirements.strings, or the key itself. */
static const char *req_text(const pkgflat_bundle *b, const char *key)
{
	for (size_t i = 0; key && i < pkgflat_bundle_string_count(b); i++) {
		const pkgflat_string *s = pkgflat_bundle_string(b, i);
		if (!strcmp(s->table, "IFRequirements") && !strcmp(s->key, key))
			return s->value;
	}
	return key;
}

/* One IFRequirementDicts entry as a JavaScript statement. Returns 1 for a
 * volume check (file, bundle, plist), 0 for a machine check. */
static int req_js(struct conv *c, strbuf *sb, const pkgflat_bundle *b,
    const pkgflat_requirement *q, const char *comp)
{
	const char *t = q->spec_type ? q->spec_type : "";
	int vol = !strcmp(t, "file") || !strcmp(t, "bundle") || !strcmp(t,
	    "plist");
	strbuf val = { 0 };

	if (!strcmp(t, "sysctl")) {
		sb_adds(&val, "system.sysctl(");
		js_str(&val, q->spec_argument);
		sb_adds(&val, ")");
	} else if (!strcmp(t, "gestalt")) {
		sb_adds(&val, "system.gestalt(");
		js_str(&val, q->spec_argument);
		sb_adds(&val, ")");
	} else if (!strcmp(t, "file")) {
		/* Existence is what Installer JS can see of a file. */
		sb_adds(&val, "(system.files.fileExistsAtPath(my.target.mountpoint + ");
		js_str(&val, q->spec_argument);
		sb_adds(&val, ") ? ");
		js_str(&val, q->test_object && q->test_object[0] ? q->test_object :
		    "exists");
		sb_adds(&val, " : '')");
	} else if (!strcmp(t, "bundle") || !strcmp(t, "plist")) {
		sb_addf(&val, "(function () { var d = system.files.%s("
		    "my.target.mountpoint + ", !strcmp(t, "bundle") ? "bundleAtPath" :
		    "plistAtPath");
		js_str(&val, q->spec_argument);
		sb_adds(&val, "); return d ? d[");
		js_str(&val, q->spec_property ? q->spec_property : "");
		sb_adds(&val, "] : undefined; })()");
	} else {
		warn(c, "%s: requirement type \"%s\" has no Installer JavaScript "
		    "equivalent; dropped", comp, t);
		map(c, comp, "IFRequirementDicts", t, NULL, "unknown SpecType");
		sb_free(&val);
		return -1;
	}
	const char *level = q->level && !strcmp(q->level, "recommends") ?
	    "Warn" : "Fatal";
	sb_adds(sb, "    if (!pkgflat_compare(");
	sb_add(sb, val.buf, val.len);
	sb_adds(sb, ", ");
	js_str(sb, q->test_operator ? q->test_operator : "eq");
	sb_adds(sb, ", ");
	js_str(sb, q->test_object ? q->test_object : "");
	sb_adds(sb, "))\n        return pkgflat_fail(");
	js_str(sb, level);
	sb_adds(sb, ", ");
	js_str(sb, req_text(b, q->title_key) ? req_text(b, q->title_key) :
	    "This software cannot be installed");
	sb_adds(sb, ", ");
	js_str(sb, req_text(b, q->message_key) ? req_text(b, q->message_key) :
	    req_text(b, q->label_key) ? req_text(b, q->label_key) : "");
	sb_adds(sb, ");\n");
	sb_free(&val);
	/* A system older than flat packages can read? Say so. */
	if (q->spec_argument && (!strcmp(q->spec_argument, "sysv") ||
	    !strcmp(q->spec_argument, "kern.osrelease")) && q->test_operator &&
	    (strchr(q->test_operator, '<') || !strcmp(q->test_operator, "lt") ||
	    !strcmp(q->test_operator, "le")))
		warn(c, "%s: a requirement asks for an older system (%s %s %s); "
		    "flat packages need Mac OS X 10.5 or later", comp,
		    q->spec_argument, q->test_operator, q->test_object ?
		    q->test_object : "");
	char flat[64];
	snprintf(flat, sizeof flat, "Distribution %s JavaScript (%s)",
	    vol ? "volume-check" : "installation-check", level);
	map(c, comp, "IFRequirementDicts", t, flat, NULL);
	return vol;
}

int convert_requirement_js(const pkgflat_bundle *b,
    const pkgflat_requirement *q, strbuf *out)
{
	return req_js(NULL, out, b, q, NULL);
}

/* The JavaScript of every requirement check convert makes: the root's and
 * each component's IFRequirementDicts, and IFPkgFlagAllowBackRev. js is
 * the whole <script> text ("" when there are none); *inst and *vol say
 * which check functions it defines. */
static void checks_js(struct conv *c, strbuf *js, int *has_inst, int *has_vol)
{
	strbuf inst = { 0 }, vol = { 0 };
	const pkgflat_bundle *root = pkgflat_package_root(c->pkg);

	/* Requirements of the root and of every component. */
	for (size_t i = 0; i <= c->ncomps; i++) {
		const pkgflat_bundle *b = i == 0 ? root : c->comps[i - 1].b;
		if (i > 0 && (b == root || c->comps[i - 1].scripts_only))
			continue;
		const char *name = i == 0 ? pkgflat_bundle_get(b, PKGFLAT_F_NAME) :
		    c->comps[i - 1].name;
		for (size_t k = 0; k < pkgflat_bundle_requirement_count(b); k++) {
			const pkgflat_requirement *q = pkgflat_bundle_requirement(b, k);
			strbuf tmp = { 0 };
			int v = req_js(c, &tmp, b, q, name);
			if (v >= 0)
				sb_add(v ? &vol : &inst, tmp.buf, tmp.len);
			sb_free(&tmp);
		}
	}
	/* IFPkgFlagAllowBackRev false: refuse to install over a newer one. */
	for (size_t i = 0; i < c->ncomps; i++) {
		struct comp *k = &c->comps[i];
		if (k->scripts_only || pkgflat_bundle_flag(k->b,
		    PKGFLAT_FLAG_ALLOW_BACK_REV) != 0)
			continue;
		sb_adds(&vol, "    r = my.target.receiptForIdentifier(");
		js_str(&vol, k->id);
		sb_adds(&vol, ");\n    if (r && system.compareVersions(r.version, ");
		js_str(&vol, k->version);
		sb_adds(&vol, ") > 0)\n        return pkgflat_fail('Fatal', "
		    "'A newer version is installed', ");
		strbuf msg = { 0 };
		sb_addf(&msg, "%s is already installed in a newer version; "
		    "this package would downgrade it.", k->title ? k->title : k->id);
		js_str(&vol, msg.buf);
		sb_free(&msg);
		sb_adds(&vol, ");\n");
	}
	*has_inst = inst.len > 0;
	*has_vol = vol.len > 0;
	if (inst.len || vol.len) {
		sb_add(js, "\n", 1);
		sb_adds(js, js_helpers);
		if (inst.len) {
			sb_adds(js, "function pkgflat_installation_check() {\n");
			sb_add(js, inst.buf, inst.len);
			sb_adds(js, "    return true;\n}\n");
		}
		if (vol.len) {
			sb_adds(js, "function pkgflat_volume_check() {\n    var r;\n");
			sb_add(js, vol.buf, vol.len);
			sb_adds(js, "    return true;\n}\n");
		}
	}
	sb_free(&inst);
	sb_free(&vol);
}

static void write_checks(struct conv *c, xmlTextWriterPtr w)
{
	strbuf js = { 0 };
	int inst, vol;

	checks_js(c, &js, &inst, &vol);
	if (c->opt->min_os || vol) {
		xmlTextWriterStartElement(w, BAD_CAST "volume-check");
		if (vol)
			attr(w, "script", "pkgflat_volume_check()");
		if (c->opt->min_os) {
			xmlTextWriterStartElement(w, BAD_CAST "allowed-os-versions");
			xmlTextWriterStartElement(w, BAD_CAST "os-version");
			attr(w, "min", c->opt->min_os);
			xmlTextWriterEndElement(w);
			xmlTextWriterEndElement(w);
		}
		xmlTextWriterEndElement(w);
	}
	if (inst) {
		xmlTextWriterStartElement(w, BAD_CAST "installation-check");
		attr(w, "script", "pkgflat_installation_check()");
		xmlTextWriterEndElement(w);
	}
	if (js.len) {
		xmlTextWriterStartElement(w, BAD_CAST "script");
		xmlTextWriterWriteString(w, BAD_CAST js.buf);
		xmlTextWriterEndElement(w);
	}
	sb_free(&js);
}

static char *url_encode(const char *s)
{
	strbuf sb = { 0 };

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch))
			sb_add(&sb, s, 1);
		else
			sb_addf(&sb, "%%%02X", ch);
	}
	return sb_detach(&sb);
}

static pkgflat_status generate_distribution(struct conv *c,
    struct shown *shown, size_t nshown, char **out, size_t *outlen)
{
	const pkgflat_bundle *root = pkgflat_package_root(c->pkg);
	xmlBufferPtr buf;
	xmlTextWriterPtr w = xml_begin(&buf);
	int rvo = pkgflat_bundle_flag(root, PKGFLAT_FLAG_ROOT_VOLUME_ONLY);
	int any_none = 0, all_none = 1;

	if (!w)
		return fail_nomem(c->err);
	for (size_t i = 0; i < c->ncomps; i++) {
		int f = pkgflat_bundle_flag(c->comps[i].b,
		    PKGFLAT_FLAG_ROOT_VOLUME_ONLY);
		if (f > 0)
			rvo = 1;
		const char *a = pkgflat_bundle_get(c->comps[i].b, PKGFLAT_F_AUTH);
		if (a && !strcmp(a, "none"))
			any_none = 1;
		else
			all_none = 0;
	}
	(void)any_none;
	xmlTextWriterStartElement(w, BAD_CAST "installer-gui-script");
	attr(w, "minSpecVersion", "1");

	const char *title = c->opt->title ? c->opt->title :
	    pkgflat_bundle_get(root, PKGFLAT_F_TITLE);
	char *fallback = NULL;
	if (!title) {
		const char *n = pkgflat_bundle_get(root, PKGFLAT_F_NAME);
		const char *dot = strrchr(n, '.');
		fallback = dot ? pf_strndup(n, (size_t)(dot - n)) : pf_strdup(n);
		title = fallback;
	}
	xmlTextWriterWriteElement(w, BAD_CAST "title", BAD_CAST title);
	map(c, NULL, "IFPkgDescriptionTitle", title, "Distribution title",
	    c->opt->title ? "from --title" : fallback ? "no title: bundle name" :
	    NULL);
	free(fallback);

	static const char *const elems[] = {
		"welcome", "readme", "license", "conclusion", "background",
	};
	for (size_t i = 0; i < nshown; i++) {
		if (!shown[i].file)
			continue;
		xmlTextWriterStartElement(w, BAD_CAST elems[i]);
		attr(w, "file", shown[i].file);
		if (shown[i].mime && strcmp(shown[i].mime, "text/rtfd"))
			attr(w, "mime-type", shown[i].mime);
		if (!strcmp(elems[i], "background")) {
			const char *al = pkgflat_bundle_get(root,
			    PKGFLAT_F_BACKGROUND_ALIGNMENT);
			const char *sc = pkgflat_bundle_get(root,
			    PKGFLAT_F_BACKGROUND_SCALING);
			attr(w, "alignment", al);
			attr(w, "scaling", sc);
			if (al)
				map(c, NULL, "IFPkgFlagBackgroundAlignment", al,
				    "Distribution background alignment", NULL);
			if (sc)
				map(c, NULL, "IFPkgFlagBackgroundScaling", sc,
				    "Distribution background scaling", NULL);
		}
		xmlTextWriterEndElement(w);
	}

	xmlTextWriterStartElement(w, BAD_CAST "options");
	attr(w, "customize", c->ncomps > 1 ? "allow" : "never");
	attr(w, "require-scripts", "false");
	if (rvo > 0)
		attr(w, "rootVolumeOnly", "true");
	attr(w, "hostArchitectures", c->opt->host_arch);
	xmlTextWriterEndElement(w);
	xmlTextWriterStartElement(w, BAD_CAST "domains");
	attr(w, "enable_anywhere", rvo > 0 ? "false" : "true");
	attr(w, "enable_currentUserHome", all_none && c->ncomps ? "true" :
	    "false");
	attr(w, "enable_localSystem", "true");
	xmlTextWriterEndElement(w);

	write_checks(c, w);

	xmlTextWriterStartElement(w, BAD_CAST "choices-outline");
	for (size_t i = 0; i < c->ncomps; i++) {
		xmlTextWriterStartElement(w, BAD_CAST "line");
		attr(w, "choice", c->comps[i].id);
		xmlTextWriterEndElement(w);
	}
	xmlTextWriterEndElement(w);
	for (size_t i = 0; i < c->ncomps; i++) {
		struct comp *k = &c->comps[i];
		xmlTextWriterStartElement(w, BAD_CAST "choice");
		attr(w, "id", k->id);
		attr(w, "visible", c->ncomps > 1 && !k->scripts_only ? "true" :
		    "false");
		attr(w, "title", k->title ? k->title : k->name);
		attr(w, "description", k->desc);
		if (!strcmp(k->selection, "required")) {
			attr(w, "selected", "true");
			attr(w, "enabled", "false");
		} else
			attr(w, "start_selected", strcmp(k->selection, "unselected") ?
			    "true" : "false");
		/* The report quotes choice_selection_attrs(): keep them in step. */
		if (pkgflat_bundle_flag(k->b, PKGFLAT_FLAG_RELOCATABLE) > 0 &&
		    !k->scripts_only) {
			const char *loc = pkgflat_bundle_get(k->b,
			    PKGFLAT_F_INSTALL_LOCATION);
			attr(w, "customLocation", loc ? loc : "/");
		}
		xmlTextWriterStartElement(w, BAD_CAST "pkg-ref");
		attr(w, "id", k->id);
		xmlTextWriterEndElement(w);
		xmlTextWriterEndElement(w);
	}
	for (size_t i = 0; i < c->ncomps; i++) {
		struct comp *k = &c->comps[i];
		const char *a = pkgflat_bundle_get(k->b, PKGFLAT_F_AUTH);
		char *url = url_encode(k->name);
		char *text = url ? pf_asprintf("#%s", url) : NULL;
		xmlTextWriterStartElement(w, BAD_CAST "pkg-ref");
		attr(w, "id", k->id);
		attr(w, "version", k->version);
		attrf(w, "installKBytes", "%llu", (unsigned long long)k->kbytes);
		attr(w, "auth", a && !strcmp(a, "none") ? "none" : "Root");
		attr(w, "onConclusion", k->scripts_only ? "none" :
		    on_conclusion(pkgflat_bundle_get(k->b, PKGFLAT_F_RESTART)));
		if (text)
			xmlTextWriterWriteString(w, BAD_CAST text);
		xmlTextWriterEndElement(w);
		free(url);
		free(text);
	}
	const char *pid = pkgflat_bundle_get(root, PKGFLAT_F_IDENTIFIER);
	if (pkgflat_bundle_kind(root) != PKGFLAT_BUNDLE_COMPONENT && pid) {
		xmlTextWriterStartElement(w, BAD_CAST "product");
		attr(w, "id", pid);
		attr(w, "version", pkgflat_bundle_get(root, PKGFLAT_F_VERSION));
		xmlTextWriterEndElement(w);
	}
	xmlTextWriterEndElement(w);
	return xml_finish(c, w, buf, "Distribution", out, outlen);
}

static void dist_note(void *ctx, const char *legacy, const char *value,
    const char *flat, const char *note, int warning)
{
	struct conv *c = ctx;

	map(c, NULL, legacy, value, flat, note);
	if (!flat || warning)
		warn(c, "%s%s%s %s: %s", legacy, value ? " " : "", value ? value : "",
		    flat ? flat : "dropped", note ? note : "");
}

/* A Tiger or hybrid metapackage: its .dist carried over (dist.c). */
static pkgflat_status carry_distribution(struct conv *c, char **out,
    size_t *outlen)
{
	const pkgflat_bundle *root = pkgflat_package_root(c->pkg);
	struct dist_comp *dc = pf_calloc(c->ncomps + 1, sizeof *dc);
	struct dist_extra x = { 0 };
	strbuf js = { 0 };
	int inst, vol;
	pkgflat_status rc;

	if (!dc)
		return fail_nomem(c->err);
	for (size_t i = 0; i < c->ncomps; i++) {
		struct comp *k = &c->comps[i];
		const char *a = pkgflat_bundle_get(k->b, PKGFLAT_F_AUTH);
		dc[i].b = k->b;
		dc[i].name = k->name;
		dc[i].id = k->id;
		dc[i].version = k->version;
		dc[i].title = k->title;
		dc[i].kbytes = k->kbytes;
		dc[i].auth = a && !strcmp(a, "none") ? "none" : "Root";
		dc[i].on_conclusion = k->scripts_only ? "none" :
		    on_conclusion(pkgflat_bundle_get(k->b, PKGFLAT_F_RESTART));
		dc[i].scripts_only = k->scripts_only;
		dc[i].first = k->phases == SCRIPTS_PRE;
	}
	checks_js(c, &js, &inst, &vol);
	x.title = c->opt->title;
	x.host_arch = c->opt->host_arch;
	x.min_os = c->opt->min_os;
	x.script = js.len ? js.buf : NULL;
	x.inst_call = inst ? "pkgflat_installation_check()" : NULL;
	x.vol_call = vol ? "pkgflat_volume_check()" : NULL;
	rc = dist_carry(c->pkg, root, dc, c->ncomps, &x, dist_note, c, out,
	    outlen, c->err);
	if (!rc)
		map(c, NULL, "distribution script", pkgflat_bundle_get(root,
		    PKGFLAT_F_DIST_FILE), "Distribution", "carried whole: choices, "
		    "JavaScript, checks, options, resources and localizations as "
		    "the .dist has them");
	sb_free(&js);
	free(dc);
	return rc;
}

static int carries_dist(const pkgflat_bundle *root)
{
	enum pkgflat_bundle_kind k = pkgflat_bundle_kind(root);

	return (k == PKGFLAT_BUNDLE_DISTRIBUTION || k == PKGFLAT_BUNDLE_HYBRID) &&
	    pkgflat_bundle_get(root, PKGFLAT_F_DIST_FILE);
}

static pkgflat_status distribution_text(struct conv *c, struct shown *shown,
    size_t nshown, char **out, size_t *len)
{
	if (carries_dist(pkgflat_package_root(c->pkg)))
		return carry_distribution(c, out, len);
	return generate_distribution(c, shown, nshown, out, len);
}

static pkgflat_status write_distribution(struct conv *c, struct shown *shown,
    size_t nshown)
{
	char *text = NULL;
	size_t len = 0;
	pkgflat_status rc = distribution_text(c, shown, nshown, &text, &len);

	if (!rc)
		rc = xarw_add_file(c->xw, 0, "Distribution", XAR_ENC_ZLIB, text,
		    len, c->err);
	free(text);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The product                                                        */

static int has_phase_scripts(const pkgflat_bundle *b, int phase)
{
	for (int s = 0; s < PKGFLAT_SCRIPT_COUNT_; s++)
		if (pkgflat_bundle_script(b, s) && scripts_phase_includes(phase, s))
			return 1;
	return 0;
}

/* An archive-safe, unique component directory name. */
static char *component_name(struct conv *c, const char *base, const char *suffix)
{
	strbuf sb = { 0 };
	const char *n = base;
	size_t len = strlen(base);

	if (suffix && str_has_suffix(base, ".mpkg"))
		len -= 5;
	else if (suffix && str_has_suffix(base, ".pkg"))
		len -= 4;
	for (; n < base + len; n++)
		sb_add(&sb, *n == '/' || *n == ':' ? "_" : n, 1);
	if (suffix)
		sb_adds(&sb, suffix);
	if (!str_has_suffix(sb.buf ? sb.buf : "", ".pkg")) {
		if (str_has_suffix(sb.buf ? sb.buf : "", ".mpkg"))
			sb.len -= 5;
		sb_adds(&sb, ".pkg");
	}
	char *name = sb_detach(&sb);
	/* Apple's xar drops siblings whose names differ only in case. */
	for (int k = 2; name; k++) {
		int clash = !str_casecmp_ascii(name, "Distribution") ||
		    !str_casecmp_ascii(name, "Resources");
		for (size_t i = 0; i < c->ncomps && !clash; i++)
			if (c->comps[i].name && !str_casecmp_ascii(c->comps[i].name, name))
				clash = 1;
		if (!clash)
			break;
		char *stem = pf_strndup(name, strlen(name) - 4);
		char *next = stem ? pf_asprintf("%s-%d.pkg", stem, k) : NULL;
		free(stem);
		free(name);
		name = next;
		if (k > 10000)
			break;
	}
	return name;
}

static void collect(struct conv *c, const pkgflat_bundle *b,
    const char *parent_sel)
{
	size_t n = pkgflat_bundle_child_count(b);

	if (pkgflat_bundle_kind(b) == PKGFLAT_BUNDLE_COMPONENT) {
		struct comp *k = &c->comps[c->ncomps++];
		const char *sel = pkgflat_bundle_get(b, PKGFLAT_F_SELECTION);
		if (!sel)
			sel = "selected";
		if (pkgflat_bundle_flag(b, PKGFLAT_FLAG_REQUIRED) > 0)
			sel = "required";
		/* An unselected metapackage leaves its parts unselected. */
		if (parent_sel && !strcmp(parent_sel, "unselected") &&
		    strcmp(sel, "required"))
			sel = "unselected";
		k->b = b;
		k->selection = sel;
		return;
	}
	const char *sel = pkgflat_bundle_get(b, PKGFLAT_F_SELECTION);
	if (parent_sel && !strcmp(parent_sel, "unselected"))
		sel = parent_sel;
	for (size_t i = 0; i < n; i++)
		collect(c, pkgflat_bundle_child(b, i), sel);
}

static pkgflat_status plan(struct conv *c)
{
	const pkgflat_bundle *root = pkgflat_package_root(c->pkg);
	size_t n = pkgflat_package_component_count(c->pkg);
	int meta = pkgflat_bundle_kind(root) != PKGFLAT_BUNDLE_COMPONENT;
	int pre = meta && has_phase_scripts(root, SCRIPTS_PRE);
	int post = meta && has_phase_scripts(root, SCRIPTS_POST);

	if (!(c->comps = pf_calloc(n + 2, sizeof *c->comps)))
		return fail_nomem(c->err);
	if (c->opt->identifier && n != 1)
		return fail(c->err, PKGFLAT_E_USAGE, NULL, NULL,
		    "--identifier is for a single component; this package has %zu",
		    n);
	/* Metapackage scripts run before and after all components. */
	if (pre) {
		struct comp *k = &c->comps[c->ncomps++];
		k->b = root;
		k->scripts_only = 1;
		k->phases = SCRIPTS_PRE;
		k->selection = "required";
	}
	collect(c, root, NULL);
	if (post) {
		struct comp *k = &c->comps[c->ncomps++];
		k->b = root;
		k->scripts_only = 1;
		k->phases = SCRIPTS_POST;
		k->selection = "required";
	}
	for (size_t i = 0; i < c->ncomps; i++) {
		struct comp *k = &c->comps[i];
		const char *id = pkgflat_bundle_get(k->b, PKGFLAT_F_IDENTIFIER);
		const char *name = pkgflat_bundle_get(k->b, PKGFLAT_F_NAME);
		if (k->scripts_only) {
			k->name = component_name(c, name, k->phases == SCRIPTS_PRE ?
			    "-preflight" : "-postflight");
			k->id = pf_asprintf("%s.%s", id ? id : "pkgflat.metapackage",
			    k->phases == SCRIPTS_PRE ? "preflight" : "postflight");
			k->title = pf_strdup(k->phases == SCRIPTS_PRE ?
			    "Preparation" : "Completion");
			map(c, name, "metapackage scripts", NULL, k->name,
			    k->phases == SCRIPTS_PRE ? "a scripts-only component "
			    "that runs first" : "a scripts-only component that runs last");
		} else {
			k->name = component_name(c, name, NULL);
			if (c->opt->identifier)
				k->id = pf_strdup(c->opt->identifier);
			else {
				/* The fallback diff pairs by too, so --check holds. */
				k->id = pf_strdup(pkgflat_bundle_identifier(k->b));
				if (!id)
					warn(c, "%s: no identifier; using %s", name,
					    k->id ? k->id : "");
			}
			const char *v = pkgflat_bundle_get(k->b, PKGFLAT_F_VERSION);
			k->title = pf_strdup(pkgflat_bundle_get(k->b, PKGFLAT_F_TITLE));
			k->desc = pf_strdup(pkgflat_bundle_get(k->b,
			    PKGFLAT_F_DESCRIPTION));
			if (!v)
				warn(c, "%s: no version; using 0", name);
			k->version = pf_strdup(v ? v : "0");
		}
		if (!k->version)
			k->version = pf_strdup(pkgflat_bundle_get(k->b,
			    PKGFLAT_F_VERSION) ? pkgflat_bundle_get(k->b,
			    PKGFLAT_F_VERSION) : "0");
		if (!k->name || !k->id || !k->version)
			return fail_nomem(c->err);
		if (strpbrk(k->id, " \t"))
			warn(c, "%s: identifier \"%s\" contains spaces; kept so that "
			    "receipts of the legacy package still match", k->name, k->id);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(c->comps[j].id, k->id))
				return fail(c->err, PKGFLAT_E_UNSUPPORTED, NULL, NULL,
				    "two components share the identifier %s (%s and %s); "
				    "a product archive needs distinct ones", k->id,
				    c->comps[j].name, k->name);
	}
	return PKGFLAT_OK;
}

/* "10.5", "10.13.6", "11": a version macOS understands, compared with 10.5. */
static pkgflat_status check_min_os(const char *v, pkgflat_error *err)
{
	char *end;
	long major = strtol(v, &end, 10), minor = 0;

	if (end == v || (*end && *end != '.'))
		goto bad;
	if (*end == '.') {
		const char *p = end + 1;
		minor = strtol(p, &end, 10);
		if (end == p || (*end && *end != '.'))
			goto bad;
		if (*end == '.') {
			p = end + 1;
			strtol(p, &end, 10);
			if (end == p || *end)
				goto bad;
		}
	}
	if (major < 10 || (major == 10 && minor < 5))
		return fail(err, PKGFLAT_E_USAGE, NULL, "--min-os",
		    "flat packages need Mac OS X 10.5 or later; %s cannot be "
		    "honoured (only bundle packages installed on older systems)", v);
	return PKGFLAT_OK;
bad:
	return fail(err, PKGFLAT_E_USAGE, NULL, "--min-os",
	    "\"%s\" is not a version like 10.9 or 11.0", v);
}

static int64_t pick_time(const pkgflat_convert_options *opt)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	char *end;

	if (opt->timestamp >= 0)
		return opt->timestamp;
	if (sde && *sde) {
		long long v = strtoll(sde, &end, 10);
		if (!*end && v >= 0)
			return v;
	}
	return (int64_t)time(NULL);
}

/*
 * convert --check: read the finished output back as a flat package and
 * compare it with the input. A difference inside the input alone (its BOM
 * disagreeing with its payload) is the input's, not the conversion's.
 */
static pkgflat_status check_output(pkgflat_package *pkg, const char *tmp,
    const pkgflat_convert_options *opt, pkgflat_error *err)
{
	pkgflat_diff_options o = { .ignore = opt->check_ignore };
	pkgflat_package *out = NULL;
	pkgflat_diff_result *r = NULL;
	const pkgflat_difference *first = NULL;
	char *map = NULL;
	const char *maps[1];
	size_t n = 0;
	pkgflat_status rc;

	/* Owners changed by the policy followed are notes; others differ. */
	o.ownership_given = 1;
	o.ownership = opt->ownership;
	if (opt->identifier && pkgflat_package_component_count(pkg) == 1) {
		const char *id = pkgflat_bundle_identifier(
		    pkgflat_package_component(pkg, 0));
		if (id && !(map = pf_asprintf("%s=%s", id, opt->identifier)))
			return fail_nomem(err);
		maps[0] = map;
		o.map = maps;
		o.map_count = map != NULL;
	}
	/* Test-only: make the check see a difference that a faithful
	 * conversion never has, to test what a failing check leaves. */
	const char *fault = getenv("PKGFLAT_TEST_FAULT");
	if (fault && !strcmp(fault, "check-tamper") && !map &&
	    pkgflat_package_component_count(pkg)) {
		const char *id = pkgflat_bundle_identifier(
		    pkgflat_package_component(pkg, 0));
		if (!(map = pf_asprintf("%s=%s.tampered", id ? id : "", id ? id : "")))
			return fail_nomem(err);
		maps[0] = map;
		o.map = maps;
		o.map_count = 1;
	}
	if (!(rc = pkgflat_package_open(tmp, &out, err)))
		rc = pkgflat_diff(pkg, out, &o, &r, err);
	for (size_t i = 0; !rc && i < pkgflat_diff_count(r); i++) {
		const pkgflat_difference *d = pkgflat_diff_get(r, i);
		if (!strcmp(d->category, "within-a") || !strcmp(d->category, "note") ||
		    d->inherited)
			continue;
		if (!n++)
			first = d;
	}
	if (!rc && !pkgflat_diff_equivalent(r)) {
		char buf[400];
		rc = fail(err, PKGFLAT_E_DIFFERS, opt->output, NULL,
		    "--check: the output would not install what the input does: "
		    "%zu difference%s, first: %s", n, n == 1 ? "" : "s",
		    pkgflat_difference_text(first, buf, sizeof buf));
	}
	pkgflat_diff_result_free(r);
	pkgflat_package_free(out);
	free(map);
	return rc;
}

static void free_comps(struct conv *c)
{
	for (size_t i = 0; i < c->ncomps; i++) {
		free(c->comps[i].name);
		free(c->comps[i].id);
		free(c->comps[i].version);
		free(c->comps[i].title);
		free(c->comps[i].desc);
	}
	free(c->comps);
	c->comps = NULL;
	c->ncomps = 0;
}

/* A carried .dist has its own choices and options: what the component
 * mapping says it would have written there is not in the output. */
static void superseded(struct conv *c, size_t from)
{
	for (size_t i = from; i < c->res->maps.n; i++) {
		pkgflat_mapping *m = c->res->maps.v[i];
		if (!m->flat || (strncmp(m->flat, "Distribution choice", 19) &&
		    strncmp(m->flat, "Distribution options", 20)))
			continue;
		char *note = pf_asprintf("not written as %s: the distribution "
		    "script's own choices and options decide, as with Installer "
		    "10.4 and later", m->flat);
		if (!note)
			continue;
		free((char *)m->flat);
		free((char *)m->note);
		m->flat = NULL;
		m->note = note;
	}
}

/* Everything in the metapackage's Resources, lproj folders and all: the
 * .dist may name any of it (<background file>, localized strings,
 * system.run tools). Packages kept there are components, not resources. */
static pkgflat_status copy_resources(struct conv *c, const pkgflat_bundle *b)
{
	char *res = path_join(pkgflat_bundle_get(b, PKGFLAT_F_PATH),
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
			map(c, NULL, n, NULL, flat, "copied as is: the distribution "
			    "script may refer to it");
		free(inner);
		free(flat);
	}
	pv_free(&names, free);
	free(res);
	return rc;
}

/* The Distribution convert writes for pkg, without writing anything else:
 * diff reads a legacy package's behaviour from it. */
pkgflat_status convert_distribution(pkgflat_package *pkg, char **out,
    size_t *len, pkgflat_error *err)
{
	pkgflat_convert_options opt;
	struct conv c = { 0 };
	pkgflat_status rc;

	pkgflat_convert_options_init(&opt);
	*out = NULL;
	*len = 0;
	if (!(c.res = pf_calloc(1, sizeof *c.res)))
		return fail_nomem(err);
	c.pkg = pkg;
	c.opt = &opt;
	c.err = err;
	if (!(rc = plan(&c)))
		rc = distribution_text(&c, NULL, 0, out, len);
	free_comps(&c);
	pkgflat_convert_result_free(c.res);
	return rc;
}

pkgflat_status pkgflat_convert(pkgflat_package *pkg,
    const pkgflat_convert_options *opt, pkgflat_convert_result **result,
    pkgflat_error *err)
{
	struct conv c = { 0 };
	struct xar_options xo = { 0 };
	struct shown shown[5] = {
		{ "welcome", NULL, NULL }, { "readme", NULL, NULL },
		{ "license", NULL, NULL }, { "conclusion", NULL, NULL },
		{ "background", NULL, NULL },
	};
	pkgflat_status rc;
	char *dir = NULL, reopen[64];
	pkgflat_output *of = NULL;
	int fd;
	struct sign_ctx *sctx = NULL;

	*result = NULL;
	if (!opt || !opt->output || !opt->output[0])
		return fail(err, PKGFLAT_E_USAGE, NULL, NULL, "no output file named");
	if ((rc = pkgflat_output_check(opt->output, pkg->path, err)))
		return rc;
	enum pkgflat_bundle_kind rk = pkgflat_bundle_kind(pkg->root);
	if (rk == PKGFLAT_BUNDLE_PRODUCT || rk == PKGFLAT_BUNDLE_FLAT_COMPONENT)
		return fail(err, PKGFLAT_E_UNSUPPORTED, pkg->path, NULL,
		    "already a flat package: nothing to convert");
	if (opt->min_os && (rc = check_min_os(opt->min_os, err)))
		return rc;
	if (!(c.res = pf_calloc(1, sizeof *c.res)))
		return fail_nomem(err);
	c.pkg = pkg;
	c.opt = opt;
	c.err = err;
	c.now = pick_time(opt);
	if (opt->toc_checksum != PKGFLAT_TOC_SHA1)
		warn(&c, "a %s TOC checksum is not readable before OS X 10.10; "
		    "SHA-1 is what every macOS reads",
		    opt->toc_checksum == PKGFLAT_TOC_SHA256 ? "SHA-256" : "SHA-512");
	for (size_t i = 0; i < pkgflat_package_warning_count(pkg); i++)
		warn(&c, "%s", pkgflat_package_warning(pkg, i));
	if ((rc = plan(&c)))
		goto out;

	/* The output appears only when complete (outfile.c). */
	if (!(dir = path_dir(opt->output))) {
		rc = fail_nomem(err);
		goto out;
	}
	if ((rc = pkgflat_output_open(opt->output, &of, err)))
		goto out;
	fd = pkgflat_output_fd(of);
	xo.toc_cksum = (enum xar_cksum)opt->toc_checksum;
	xo.creation_time = c.now;
	if (opt->identity && (rc = signer_new(opt->identity, c.now,
	    opt->timestamp_url, opt->timestamp_timeout, &sctx, &xo.signer, err)))
		goto out;
	char *grown = signer_growth_note(sctx);
	if (grown)
		warn(&c, "%s", grown);
	free(grown);
	if ((rc = xarw_new(dir[0] ? dir : ".", opt->output, &xo, &c.xw, err)))
		goto out;

	for (size_t i = 0; i < c.ncomps; i++)
		if ((rc = convert_component(&c, &c.comps[i])))
			goto out;
	const pkgflat_bundle *root = pkgflat_package_root(pkg);
	int carried = carries_dist(root);
	if (carried) {
		if ((rc = copy_resources(&c, root)))
			goto out;
	} else {
		if ((rc = write_resources(&c, root, shown, 5)))
			goto out;
		for (size_t i = 0; i < pkgflat_bundle_resource_count(root); i++) {
			const pkgflat_resource *r = pkgflat_bundle_resource(root, i);
			/* Only a lone component's Resources go into its Scripts, and
			 * only when it has scripts to use them. */
			if (!strcmp(r->role, "other") && !r->is_dir && !strchr(r->path, '/')) {
				char *where = c.ncomps == 1 && c.comps[0].wrote_scripts &&
				    pkgflat_bundle_kind(root) == PKGFLAT_BUNDLE_COMPONENT ?
				    pf_asprintf("%s/Scripts ./Contents/Resources/%s",
				    c.comps[0].name, r->path) : NULL;
				map(&c, NULL, r->path, NULL, where, where ? "not used by "
				    "Installer; kept for the scripts" :
				    "not used by Installer; dropped");
				free(where);
			}
		}
	}
	if ((rc = write_distribution(&c, shown, 5)))
		goto out;
	size_t first_map = c.res->maps.n;
	for (size_t i = 0; i < c.ncomps; i++)
		if (!c.comps[i].scripts_only)
			map_component(&c, &c.comps[i]);
	if (carried)
		superseded(&c, first_map);
	if (pkgflat_bundle_kind(root) != PKGFLAT_BUNDLE_COMPONENT)
		map_remaining_keys(&c, root, NULL);

	if ((rc = xarw_finish(c.xw, fd, err)))
		goto out;
	if (opt->check && (rc = check_output(pkg, output_reopen_path(of,
	    reopen, sizeof reopen), opt, err)))
		goto out;
	rc = pkgflat_output_commit(of, 0, err);
	of = NULL;
	if (rc)
		goto out;
	*result = c.res;
	c.res = NULL;
out:
	pkgflat_output_discard(of);
	xarw_free(c.xw);
	signer_free(sctx);
	free_comps(&c);
	for (size_t i = 0; i < 5; i++)
		free(shown[i].file);
	free(dir);
	pkgflat_convert_result_free(c.res);
	return rc;
}
