/*
 * The Distribution convert writes: generated from the legacy package's
 * keys, or a Tiger or hybrid metapackage's .dist carried over (dist.c).
 * convert stores it in the archive; diff reads a legacy package's
 * behaviour from it (convert_distribution()).
 */
#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert_scripts.h"
#include "convert_xml.h"
#include "dist.h"
#include "mapping.h"

static void write_checks(struct conv *c, xmlTextWriterPtr w)
{
	strbuf js = { 0 };
	int inst, vol;

	conv_checks_js(c, &js, &inst, &vol);
	if (c->opt->min_os || vol) {
		xmlTextWriterStartElement(w, BAD_CAST "volume-check");
		if (vol)
			xml_attr(w, "script", "pkgflat_volume_check()");
		if (c->opt->min_os) {
			xmlTextWriterStartElement(w, BAD_CAST "allowed-os-versions");
			xmlTextWriterStartElement(w, BAD_CAST "os-version");
			xml_attr(w, "min", c->opt->min_os);
			xmlTextWriterEndElement(w);
			xmlTextWriterEndElement(w);
		}
		xmlTextWriterEndElement(w);
	}
	if (inst) {
		xmlTextWriterStartElement(w, BAD_CAST "installation-check");
		xml_attr(w, "script", "pkgflat_installation_check()");
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
	const pkgflat_component *root = pkgflat_package_root(c->pkg);
	xmlBufferPtr buf;
	xmlTextWriterPtr w = xml_begin(&buf);
	int rvo = pkgflat_component_flag(root, PKGFLAT_FLAG_ROOT_VOLUME_ONLY);
	int any_none = 0, all_none = 1;

	if (!w)
		return fail_nomem(c->err);
	for (size_t i = 0; i < c->ncomps; i++) {
		int f = pkgflat_component_flag(c->comps[i].b,
		    PKGFLAT_FLAG_ROOT_VOLUME_ONLY);
		if (f > 0)
			rvo = 1;
		const char *a = pkgflat_component_get(c->comps[i].b, PKGFLAT_F_AUTH);
		if (a && !strcmp(a, "none"))
			any_none = 1;
		else
			all_none = 0;
	}
	(void)any_none;
	xmlTextWriterStartElement(w, BAD_CAST "installer-gui-script");
	xml_attr(w, "minSpecVersion", "1");

	const char *title = c->opt->title ? c->opt->title :
	    pkgflat_component_get(root, PKGFLAT_F_TITLE);
	char *fallback = NULL;
	if (!title) {
		const char *n = pkgflat_component_get(root, PKGFLAT_F_NAME);
		const char *dot = strrchr(n, '.');
		fallback = dot ? pf_strndup(n, (size_t)(dot - n)) : pf_strdup(n);
		title = fallback;
	}
	xmlTextWriterWriteElement(w, BAD_CAST "title", BAD_CAST title);
	conv_map(c, NULL, "IFPkgDescriptionTitle", title, "Distribution title",
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
		xml_attr(w, "file", shown[i].file);
		if (shown[i].mime && strcmp(shown[i].mime, "text/rtfd"))
			xml_attr(w, "mime-type", shown[i].mime);
		if (!strcmp(elems[i], "background")) {
			const char *al = pkgflat_component_get(root,
			    PKGFLAT_F_BACKGROUND_ALIGNMENT);
			const char *sc = pkgflat_component_get(root,
			    PKGFLAT_F_BACKGROUND_SCALING);
			xml_attr(w, "alignment", al);
			xml_attr(w, "scaling", sc);
			if (al)
				conv_map(c, NULL, "IFPkgFlagBackgroundAlignment", al,
				    "Distribution background alignment", NULL);
			if (sc)
				conv_map(c, NULL, "IFPkgFlagBackgroundScaling", sc,
				    "Distribution background scaling", NULL);
		}
		xmlTextWriterEndElement(w);
	}

	xmlTextWriterStartElement(w, BAD_CAST "options");
	xml_attr(w, "customize", c->ncomps > 1 ? "allow" : "never");
	xml_attr(w, "require-scripts", "false");
	if (rvo > 0)
		xml_attr(w, "rootVolumeOnly", "true");
	xml_attr(w, "hostArchitectures", c->opt->host_arch);
	xmlTextWriterEndElement(w);
	xmlTextWriterStartElement(w, BAD_CAST "domains");
	xml_attr(w, "enable_anywhere", rvo > 0 ? "false" : "true");
	xml_attr(w, "enable_currentUserHome", all_none && c->ncomps ? "true" :
	    "false");
	xml_attr(w, "enable_localSystem", "true");
	xmlTextWriterEndElement(w);

	write_checks(c, w);

	xmlTextWriterStartElement(w, BAD_CAST "choices-outline");
	for (size_t i = 0; i < c->ncomps; i++) {
		xmlTextWriterStartElement(w, BAD_CAST "line");
		xml_attr(w, "choice", c->comps[i].id);
		xmlTextWriterEndElement(w);
	}
	xmlTextWriterEndElement(w);
	for (size_t i = 0; i < c->ncomps; i++) {
		struct comp *k = &c->comps[i];
		xmlTextWriterStartElement(w, BAD_CAST "choice");
		xml_attr(w, "id", k->id);
		xml_attr(w, "visible", c->ncomps > 1 && !k->scripts_only ? "true" :
		    "false");
		xml_attr(w, "title", k->title ? k->title : k->name);
		xml_attr(w, "description", k->desc);
		if (!strcmp(k->selection, "required")) {
			xml_attr(w, "selected", "true");
			xml_attr(w, "enabled", "false");
		} else
			xml_attr(w, "start_selected", strcmp(k->selection, "unselected") ?
			    "true" : "false");
		/* The report quotes choice_selection_attrs() (mapping.c): keep
		 * them in step. */
		if (pkgflat_component_flag(k->b, PKGFLAT_FLAG_RELOCATABLE) > 0 &&
		    !k->scripts_only) {
			const char *loc = pkgflat_component_get(k->b,
			    PKGFLAT_F_INSTALL_LOCATION);
			xml_attr(w, "customLocation", loc ? loc : "/");
		}
		xmlTextWriterStartElement(w, BAD_CAST "pkg-ref");
		xml_attr(w, "id", k->id);
		xmlTextWriterEndElement(w);
		xmlTextWriterEndElement(w);
	}
	for (size_t i = 0; i < c->ncomps; i++) {
		struct comp *k = &c->comps[i];
		const char *a = pkgflat_component_get(k->b, PKGFLAT_F_AUTH);
		char *url = url_encode(k->name);
		char *text = url ? pf_asprintf("#%s", url) : NULL;
		xmlTextWriterStartElement(w, BAD_CAST "pkg-ref");
		xml_attr(w, "id", k->id);
		xml_attr(w, "version", k->version);
		xml_attrf(w, "installKBytes", "%llu", (unsigned long long)k->kbytes);
		xml_attr(w, "auth", a && !strcmp(a, "none") ? "none" : "Root");
		xml_attr(w, "onConclusion", k->scripts_only ? "none" :
		    flat_on_conclusion(pkgflat_component_get(k->b, PKGFLAT_F_RESTART)));
		if (text)
			xmlTextWriterWriteString(w, BAD_CAST text);
		xmlTextWriterEndElement(w);
		free(url);
		free(text);
	}
	const char *pid = pkgflat_component_get(root, PKGFLAT_F_IDENTIFIER);
	if (pkgflat_component_kind(root) != PKGFLAT_BUNDLE_COMPONENT && pid) {
		xmlTextWriterStartElement(w, BAD_CAST "product");
		xml_attr(w, "id", pid);
		xml_attr(w, "version", pkgflat_component_get(root, PKGFLAT_F_VERSION));
		xmlTextWriterEndElement(w);
	}
	xmlTextWriterEndElement(w);
	return xml_finish(c, w, buf, "Distribution", out, outlen);
}

static void dist_note(void *ctx, const char *legacy, const char *value,
    const char *flat, const char *note, int warning)
{
	struct conv *c = ctx;

	conv_map(c, NULL, legacy, value, flat, note);
	if (!flat || warning)
		conv_warn(c, "%s%s%s %s: %s", legacy, value ? " " : "", value ? value : "",
		    flat ? flat : "dropped", note ? note : "");
}

/* A Tiger or hybrid metapackage: its .dist carried over (dist.c). */
static pkgflat_status carry_distribution(struct conv *c, char **out,
    size_t *outlen)
{
	const pkgflat_component *root = pkgflat_package_root(c->pkg);
	struct dist_comp *dc = pf_calloc(c->ncomps + 1, sizeof *dc);
	struct dist_extra x = { 0 };
	strbuf js = { 0 };
	int inst, vol;
	pkgflat_status rc;

	if (!dc)
		return fail_nomem(c->err);
	for (size_t i = 0; i < c->ncomps; i++) {
		struct comp *k = &c->comps[i];
		const char *a = pkgflat_component_get(k->b, PKGFLAT_F_AUTH);
		dc[i].b = k->b;
		dc[i].name = k->name;
		dc[i].id = k->id;
		dc[i].version = k->version;
		dc[i].title = k->title;
		dc[i].kbytes = k->kbytes;
		dc[i].auth = a && !strcmp(a, "none") ? "none" : "Root";
		dc[i].on_conclusion = k->scripts_only ? "none" :
		    flat_on_conclusion(pkgflat_component_get(k->b, PKGFLAT_F_RESTART));
		dc[i].scripts_only = k->scripts_only;
		dc[i].first = k->phases == SCRIPTS_PRE;
	}
	conv_checks_js(c, &js, &inst, &vol);
	x.title = c->opt->title;
	x.host_arch = c->opt->host_arch;
	x.min_os = c->opt->min_os;
	x.script = js.len ? js.buf : NULL;
	x.inst_call = inst ? "pkgflat_installation_check()" : NULL;
	x.vol_call = vol ? "pkgflat_volume_check()" : NULL;
	rc = dist_carry(c->pkg, root, dc, c->ncomps, &x, dist_note, c, out,
	    outlen, c->err);
	if (!rc)
		conv_map(c, NULL, "distribution script", pkgflat_component_get(root,
		    PKGFLAT_F_DIST_FILE), "Distribution", "carried whole: choices, "
		    "JavaScript, checks, options, resources and localizations as "
		    "the .dist has them");
	sb_free(&js);
	free(dc);
	return rc;
}

int conv_carries_dist(const pkgflat_component *root)
{
	enum pkgflat_bundle_kind k = pkgflat_component_kind(root);

	return (k == PKGFLAT_BUNDLE_DISTRIBUTION || k == PKGFLAT_BUNDLE_HYBRID) &&
	    pkgflat_component_get(root, PKGFLAT_F_DIST_FILE);
}

pkgflat_status conv_distribution_text(struct conv *c, struct shown *shown,
    size_t nshown, char **out, size_t *len)
{
	if (conv_carries_dist(pkgflat_package_root(c->pkg)))
		return carry_distribution(c, out, len);
	return generate_distribution(c, shown, nshown, out, len);
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
	if (!(rc = conv_plan(&c)))
		rc = conv_distribution_text(&c, NULL, 0, out, len);
	conv_free_plan(&c);
	pkgflat_convert_result_free(c.res);
	return rc;
}
