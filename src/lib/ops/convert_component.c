/*
 * One component of the product: <Name>.pkg/Payload and Bom
 * (convert_payload.c), Scripts (convert_scripts.c) and PackageInfo, with
 * what became of its payload and scripts recorded in the result.
 */
#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binaries.h"
#include "convert.h"
#include "convert_scripts.h"
#include "convert_xml.h"
#include "mapping.h"

static pkgflat_status write_package_info(struct conv *c, struct comp *k,
    uint64_t dir, const struct payload_result *pr,
    const struct scripts_result *sr)
{
	const pkgflat_component *b = k->b;
	xmlBufferPtr buf;
	xmlTextWriterPtr w = xml_begin(&buf);
	const char *loc = k->scripts_only ? "/" :
	    pkgflat_component_get(b, PKGFLAT_F_INSTALL_LOCATION);
	const char *auth = pkgflat_component_get(b, PKGFLAT_F_AUTH);

	if (!w)
		return fail_nomem(c->err);
	xmlTextWriterStartElement(w, BAD_CAST "pkg-info");
	xml_attr(w, "format-version", "2");
	xml_attr(w, "identifier", k->id);
	xml_attr(w, "version", k->version);
	xml_attr(w, "install-location", loc ? loc : "/");
	xml_attr(w, "auth", auth && !strcmp(auth, "none") ? "none" : "root");
	xml_attr(w, "relocatable", flat_bool(pkgflat_component_flag(b,
	    PKGFLAT_FLAG_RELOCATABLE)));
	xml_attr(w, "overwrite-permissions", flat_bool(pkgflat_component_flag(b,
	    PKGFLAT_FLAG_OVERWRITE_PERMISSIONS)));
	xml_attr(w, "followSymLinks", flat_bool(pkgflat_component_flag(b,
	    PKGFLAT_FLAG_FOLLOW_LINKS)));
	xml_attr(w, "postinstall-action", k->scripts_only ? "none" :
	    flat_postinstall_action(pkgflat_component_get(b, PKGFLAT_F_RESTART)));
	/* diff reads the ownership policy back from here. */
	xml_attrf(w, "generator-version", "pkgflat-" PKGFLAT_VERSION " (ownership %s)",
	    pkgflat_ownership_name(c->opt->ownership));
	if (pr) {
		xmlTextWriterStartElement(w, BAD_CAST "payload");
		xml_attrf(w, "numberOfFiles", "%llu",
		    (unsigned long long)pr->stats.entries);
		xml_attrf(w, "installKBytes", "%llu",
		    (unsigned long long)pr->stats.install_kbytes);
		xmlTextWriterEndElement(w);
	}
	/* No bundle is followed elsewhere or version-checked: legacy
	 * Installer did neither (legacy-format.md §8.8). */
	xml_empty(w, "bundle-version");
	xml_empty(w, "upgrade-bundle");
	xml_empty(w, "update-bundle");
	xml_empty(w, "atomic-update-bundle");
	xml_empty(w, "strict-identifier");
	xml_empty(w, "relocate");
	if (sr && (sr->preinstall || sr->postinstall)) {
		xmlTextWriterStartElement(w, BAD_CAST "scripts");
		if (sr->preinstall) {
			xmlTextWriterStartElement(w, BAD_CAST "preinstall");
			xml_attr(w, "file", "./preinstall");
			xmlTextWriterEndElement(w);
		}
		if (sr->postinstall) {
			xmlTextWriterStartElement(w, BAD_CAST "postinstall");
			xml_attr(w, "file", "./postinstall");
			xmlTextWriterEndElement(w);
		}
		xmlTextWriterEndElement(w);
	}
	xmlTextWriterEndElement(w);
	return xml_store(c, w, buf, dir, "PackageInfo");
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
	conv_map(c, name, "payload ownership", value, flat,
	    c->opt->ownership == PKGFLAT_OWNERSHIP_ROOT ?
	    "--ownership root: every entry root:wheel" :
	    "--ownership recommended (the default): personal owners (uid 500 "
	    "and up) became root and their staff or personal groups wheel; "
	    "system owners kept; --ownership preserve keeps every owner");
}

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

/* A payload's size in the source, 0 when it cannot be told. */
uint64_t convert_payload_size(struct conv *c, const pkgflat_component *b)
{
	const char *pp = pkgflat_component_get(b, PKGFLAT_F_PAYLOAD_PATH);
	struct src_stat st;
	pkgflat_error e;

	pkgflat_error_clear(&e);
	if (!pp || src_stat(c->pkg->src, pp, &st, &e))
		return 0;
	return st.size;
}

static void report_progress(struct conv *c, uint64_t done)
{
	pkgflat_progress p = { .done = done, .total = c->total,
	    .component = c->cur_name, .phase = "converting" };

	if (c->opt->progress)
		c->opt->progress(&p, c->opt->progress_ctx);
}

/* From the payload reader: bytes of this pass, never past its size. */
static void payload_progress(void *ctx, uint64_t bytes)
{
	struct conv *c = ctx;

	report_progress(c, c->done + (bytes < c->cur_size ? bytes :
	    c->cur_size));
}

pkgflat_status convert_component(struct conv *c, struct comp *k)
{
	const pkgflat_component *b = k->b;
	pkgflat_package *pkg = c->pkg;
	struct payload_result pr = { 0 };
	struct scripts_result sr = { 0 };
	pkgflat_status rc;
	uint64_t dir;
	int have_payload = !k->scripts_only && pkgflat_component_has_payload(b);
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
		const char *pp = pkgflat_component_get(b, PKGFLAT_F_PAYLOAD_PATH);
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
		if (c->opt->progress) {
			c->cur_size = convert_payload_size(c, b);
			c->cur_name = k->id;
			job.progress = payload_progress;
			job.progress_ctx = c;
			report_progress(c, c->done);
		}
		struct bincol *bc = c->bins ? bincol_new(c->bins, k->id, pname) :
		    NULL;
		if (c->bins && !bc) {
			rc = fail_nomem(c->err);
			goto out;
		}
		job.chunk_fn = bc ? bincol_chunk : NULL;
		job.chunk_ctx = bc;
		rc = payload_convert(&job, &pr);
		bincol_free(bc);
		if (rc)
			goto out;
		c->done += c->cur_size;
		report_progress(c, c->done);
		rc = xarw_add_spill(c->xw, dir, "Bom", XAR_ENC_ZLIB, &pr.bom,
		    c->err);
		if (rc)
			goto out;
		out->payload = pr.copied ? "copied" : "transcoded";
		out->entries = pr.stats.entries;
		out->install_kbytes = pr.stats.install_kbytes;
		k->kbytes = pr.stats.install_kbytes;
		conv_map(c, k->name, "Archive.pax.gz", pr.stats.format,
		    "Payload (gzip'd odc cpio) and Bom", pr.copied ?
		    "copied byte for byte" : "transcoded to odc cpio");
		if (!pr.copied && strcmp(pr.stats.format, "odc cpio"))
			conv_map(c, k->name, "payload format", pr.stats.format,
			    "odc cpio", "flat Installer reads odc cpio only");
		if (pr.nonroot && c->opt->ownership == PKGFLAT_OWNERSHIP_PRESERVE)
			conv_warn(c, "%s: %llu payload entries are not owned by root, "
			    "first %s (uid %u); --ownership recommended gives "
			    "personal owners to root", k->name,
			    (unsigned long long)pr.nonroot, pr.nonroot_path,
			    pr.nonroot_uid);
		map_ownership(c, k->name, &pr);
		if (pr.empty)
			conv_warn(c, "%s: the payload holds no entries; the flat Payload "
			    "holds only \".\"", k->name);
		if (pr.dups)
			conv_warn(c, "%s: the payload stores %llu path(s) twice, first %s; "
			    "the Bom lists the first copy, Installer keeps the later one",
			    k->name, (unsigned long long)pr.dups, pr.dup_path);
	} else if (!k->scripts_only)
		conv_warn(c, "%s: no payload: the component installs nothing and leaves "
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
		if (!pkgflat_component_script(b, s) ||
		    !scripts_phase_includes(sj.phases, s))
			continue;
		int pre = s <= PKGFLAT_SCRIPT_PREUPGRADE;
		/* The file's own name: "Foo.post_install" in a 10.0/10.1 one. */
		conv_map(c, k->name, path_base(pkgflat_component_script(b, s)),
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
		scripts_lint(b, pkg->src, conv_warn_cb, c);
	rc = write_package_info(c, k, dir, have_payload ? &pr : NULL, &sr);
out:
	spill_close(&pr.bom);
	free(pr.nonroot_path);
	free(pr.dup_path);
	free(pr.norm_path);
	free(pname);
	return rc;
}
