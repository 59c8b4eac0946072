/*
 * Legacy requirements (IFRequirementDicts, IFPkgFlagAllowBackRev) as the
 * Installer JavaScript checks the Distribution runs: the statement for one
 * requirement (which diff compares too) and the whole <script>.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping.h"

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
static const char *req_text(const pkgflat_component *b, const char *key)
{
	for (size_t i = 0; key && i < pkgflat_component_string_count(b); i++) {
		const pkgflat_string *s = pkgflat_component_string(b, i);
		if (!strcmp(s->table, "IFRequirements") && !strcmp(s->key, key))
			return s->value;
	}
	return key;
}

/* One IFRequirementDicts entry as a JavaScript statement. Returns 1 for a
 * volume check (file, bundle, plist), 0 for a machine check. */
static int req_js(struct conv *c, strbuf *sb, const pkgflat_component *b,
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
		conv_warn(c, "%s: requirement type \"%s\" has no Installer JavaScript "
		    "equivalent; dropped", comp, t);
		conv_map(c, comp, "IFRequirementDicts", t, NULL, "unknown SpecType");
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
		conv_warn(c, "%s: a requirement asks for an older system (%s %s %s); "
		    "flat packages need Mac OS X 10.5 or later", comp,
		    q->spec_argument, q->test_operator, q->test_object ?
		    q->test_object : "");
	char flat[64];
	snprintf(flat, sizeof flat, "Distribution %s JavaScript (%s)",
	    vol ? "volume-check" : "installation-check", level);
	conv_map(c, comp, "IFRequirementDicts", t, flat, NULL);
	return vol;
}

int convert_requirement_js(const pkgflat_component *b,
    const pkgflat_requirement *q, strbuf *out)
{
	return req_js(NULL, out, b, q, NULL);
}

/* The JavaScript of every requirement check convert makes: the root's and
 * each component's IFRequirementDicts, and IFPkgFlagAllowBackRev. js is
 * the whole <script> text ("" when there are none); *inst and *vol say
 * which check functions it defines. */
void conv_checks_js(struct conv *c, strbuf *js, int *has_inst, int *has_vol)
{
	strbuf inst = { 0 }, vol = { 0 };
	const pkgflat_component *root = pkgflat_package_root(c->pkg);

	/* Requirements of the root and of every component. */
	for (size_t i = 0; i <= c->ncomps; i++) {
		const pkgflat_component *b = i == 0 ? root : c->comps[i - 1].b;
		if (i > 0 && (b == root || c->comps[i - 1].scripts_only))
			continue;
		const char *name = i == 0 ? pkgflat_component_get(b, PKGFLAT_F_NAME) :
		    c->comps[i - 1].name;
		for (size_t k = 0; k < pkgflat_component_requirement_count(b); k++) {
			const pkgflat_requirement *q = pkgflat_component_requirement(b, k);
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
		if (k->scripts_only || pkgflat_component_flag(k->b,
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
