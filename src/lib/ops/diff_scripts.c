/*
 * The scripts two packages run: a legacy bundle's by name, a flat
 * package's through the wrappers convert writes (or the renamed copies
 * another converter made), and a metapackage's own scripts against the
 * scripts-only components convert makes of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"

/* ------------------------------------------------------------------ */
/* Scripts                                                            */

/* What a bundle runs, by name, with a digest of each script's bytes. */
#define MAX_SCRIPTS 64

struct script_set {
	char *name[MAX_SCRIPTS];
	unsigned char sha[MAX_SCRIPTS][32];
	size_t n;
};

static int script_cb(const char *name, const unsigned char *sha, void *ctx)
{
	struct script_set *s = ctx;

	if (s->n == MAX_SCRIPTS)
		return 0;
	if (!(s->name[s->n] = pf_strdup(name)))
		return 1;
	memcpy(s->sha[s->n], sha, 32);
	s->n++;
	return 0;
}

static int set_has(const struct script_set *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->name[i], name))
			return 1;
	return 0;
}

static void script_set_free(struct script_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->name[i]);
}

/*
 * The scripts a component runs, by name: a legacy bundle's own, and for a
 * flat component either the legacy originals our converter keeps in
 * Scripts under Contents/Resources (its ./preinstall and ./postinstall are
 * then wrappers that call them) or its own preinstall and postinstall.
 */
struct scan_scripts {
	struct script_set *set;
	int has_originals;
	char *wrapper[2];      /* ./preinstall, ./postinstall text */
	unsigned char wsha[2][32];
	int oom;
};

/* 10.0/10.1 names ("<Name>.post_install") included: they are the
 * originals' names in both packages. */
static int script_index(const char *name)
{
	return pkgflat_script_from_name(name);
}

static int scan_script(const pkgflat_script_file *f, void *ctx)
{
	struct scan_scripts *sc = ctx;
	const char *orig = "./Contents/Resources/";
	const char *name = NULL;

	if (!strncmp(f->path, orig, strlen(orig)) &&
	    script_index(f->path + strlen(orig)) >= 0) {
		name = f->path + strlen(orig);
		sc->has_originals = 1;
	} else if (!strcmp(f->path, "./preinstall") ||
	    !strcmp(f->path, "./postinstall")) {
		int w = f->path[4] == 's'; /* "./po[s]tinstall" */
		if (f->data && !(sc->wrapper[w] = pf_strndup((const char *)f->data,
		    (size_t)f->size)))
			return sc->oom = 1;
		memcpy(sc->wsha[w], f->sha256, 32);
		return 0;
	} else if (f->script >= 0) {
		name = pkgflat_script_name(f->script);
	}
	if (name && script_cb(name, f->sha256, sc->set))
		return sc->oom = 1;
	return 0;
}

/* Does wrapper text w run script name: "step NAME" or "check NAME" as a
 * whole word? */
static int calls(const char *w, const char *name)
{
	static const char *const verbs[] = { "step ", "check " };
	size_t n = strlen(name);

	for (size_t v = 0; w && v < 2; v++)
		for (const char *p = w; (p = strstr(p, verbs[v])); p++) {
			const char *q = p + strlen(verbs[v]);
			/* Names the shell would split come single-quoted. */
			int quoted = *q == '\'';
			q += quoted;
			if (!strncmp(q, name, n) && (!quoted || q[n] == '\'') &&
			    strchr(" ;\n", q[n + quoted]))
				return 1;
		}
	return 0;
}

static pkgflat_status bundle_scripts(const pkgflat_component *b,
    struct script_set *set, struct script_set *unrun, pkgflat_error *err)
{
	struct scan_scripts sc = { .set = set };
	pkgflat_status rc = pkgflat_component_list_scripts(b, 1 << 20, scan_script,
	    &sc, err);

	if (sc.oom)
		rc = fail_nomem(err);
	/* Wrappers say who wrote them; they stay wrappers when an original
	 * they call has gone missing. */
	for (int w = 0; w < 2; w++)
		if (sc.wrapper[w] && strstr(sc.wrapper[w], "written by pkgflat"))
			sc.has_originals = 1;
	if (!rc && sc.has_originals &&
	    pkgflat_component_kind(b) == PKGFLAT_BUNDLE_FLAT_COMPONENT) {
		/* Our wrappers: each original must be called by the one of its
		 * phase ("step NAME" or "check NAME"). */
		for (size_t i = 0; i < set->n; i++) {
			int k = script_index(set->name[i]);
			const char *w = sc.wrapper[k >= PKGFLAT_SCRIPT_POSTINSTALL];
			if (!calls(w, set->name[i]) &&
			    script_cb(set->name[i], set->sha[i], unrun))
				rc = fail_nomem(err);
		}
	} else if (!rc) {
		for (int w = 0; w < 2; w++)
			if (sc.wrapper[w] && script_cb(w ? "postinstall" : "preinstall",
			    sc.wsha[w], set))
				rc = fail_nomem(err);
	}
	free(sc.wrapper[0]);
	free(sc.wrapper[1]);
	return rc;
}

/* Two script sets by name and content; unrun: B's originals that its
 * wrappers do not call. pair NULL: the product's. */
static void cmp_script_sets(pkgflat_diff_result *res, pkgflat_diff_pair *pair,
    const char *id, const struct script_set *sa, const struct script_set *sb,
    const struct script_set *unrun)
{
	char ha[65], hb[65];

	if (!pair && !(pair = diff_product_pair(res)))
		return;
	for (size_t i = 0; i < unrun->n; i++)
		diff_add(res, pair, id, "script", "changed", "wrapper", unrun->name[i],
		    "run", "not run by the wrapper");
	for (size_t i = 0; i < sa->n; i++) {
		size_t j;
		for (j = 0; j < sb->n && strcmp(sa->name[i], sb->name[j]); j++)
			;
		diff_hex(sa->sha[i], ha);
		if (j == sb->n) {
			diff_add(res, pair, id, "script", "removed", "script", sa->name[i],
			    ha, NULL);
			continue;
		}
		diff_hex(sb->sha[j], hb);
		if (memcmp(sa->sha[i], sb->sha[j], 32))
			diff_add(res, pair, id, "script", "changed", "content", sa->name[i],
			    ha, hb);
	}
	for (size_t j = 0; j < sb->n; j++) {
		size_t i;
		for (i = 0; i < sa->n && strcmp(sa->name[i], sb->name[j]); i++)
			;
		if (i == sa->n) {
			diff_hex(sb->sha[j], hb);
			diff_add(res, pair, id, "script", "added", "script", sb->name[j],
			    NULL, hb);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Scripts another converter renamed instead of wrapping               */

/*
 * Tools other than pkgflat turn a legacy bundle into a flat component by
 * shipping its preflight as preinstall and its postflight as postinstall,
 * byte for byte. That installs the same as long as the script does not
 * reach into the legacy bundle, which a flat package does not have: $1
 * is then the .pkg file, Contents/Resources does not exist, and Installer
 * sets no PACKAGE_PATH or RECEIPT_PATH.
 */
static const struct {
	const char *legacy, *flat;
} renames[] = {
	{ "preflight", "preinstall" }, { "postflight", "postinstall" },
};

/* B's ./preinstall and ./postinstall text. */
struct flat_texts {
	char *text[2];
	int oom;
};

static int flat_text_cb(const pkgflat_script_file *f, void *ctx)
{
	struct flat_texts *t = ctx;
	int k = !strcmp(f->path, "./preinstall") ? 0 :
	    !strcmp(f->path, "./postinstall") ? 1 : -1;

	if (k >= 0 && f->data && !t->text[k] &&
	    !(t->text[k] = pf_strndup((const char *)f->data, (size_t)f->size)))
		return t->oom = 1;
	return 0;
}

/* The first line of text that needs the legacy bundle: its number, and
 * the line and why in why; 0 when none does. Comment lines do not count. */
static unsigned legacy_layout_line(const char *text, char *why, size_t size)
{
	static const struct {
		const char *needle, *reason;
	} uses[] = {
		{ "$1/Contents", "\"$1/Contents\": $1 is the flat .pkg file, which "
		  "has no Contents" },
		{ "${1}/Contents", "\"${1}/Contents\": $1 is the flat .pkg file, "
		  "which has no Contents" },
		{ "\"$1\"/Contents", "\"$1\"/Contents: $1 is the flat .pkg file, "
		  "which has no Contents" },
		{ "PACKAGE_PATH", "$PACKAGE_PATH: Installer does not set it for "
		  "flat packages" },
		{ "RECEIPT_PATH", "$RECEIPT_PATH: Installer does not set it for "
		  "flat packages" },
		{ "Contents/Resources", "a Contents/Resources path: the legacy "
		  "bundle's, which a flat package does not have" },
	};
	unsigned line = 1;

	for (const char *p = text; p && *p; line++) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		const char *q = p + strspn(p, " \t");
		if (*q != '#')
			for (size_t i = 0; i < sizeof uses / sizeof *uses; i++) {
				size_t l = strlen(uses[i].needle);
				for (const char *h = p; h + l <= p + n; h++)
					if (!memcmp(h, uses[i].needle, l)) {
						size_t k = (size_t)(p + n - q);
						while (k && strchr(" \t\r", q[k - 1]))
							k--;
						snprintf(why, size, "%.*s%s (%s)", k > 72 ? 69 :
						    (int)k, q, k > 72 ? "..." : "", uses[i].reason);
						return line;
					}
			}
		p = e ? e + 1 : NULL;
	}
	return 0;
}

static void set_remove(struct script_set *s, size_t i)
{
	free(s->name[i]);
	for (; i + 1 < s->n; i++) {
		s->name[i] = s->name[i + 1];
		memcpy(s->sha[i], s->sha[i + 1], 32);
	}
	s->n--;
}

static size_t set_find(const struct script_set *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n && strcmp(s->name[i], name); i++)
		;
	return i;
}

/* Pair A's legacy scripts with the renamed copies in B, taking both out
 * of the sets the name-by-name comparison sees. */
static pkgflat_status pair_renamed(pkgflat_diff_result *res,
    pkgflat_diff_pair *pair, const char *id, const pkgflat_component *a,
    const pkgflat_component *b, struct script_set *sa, struct script_set *sb,
    pkgflat_error *err)
{
	struct flat_texts t = { { NULL, NULL }, 0 };
	pkgflat_status rc = PKGFLAT_OK;
	int kind = pkgflat_component_kind(a);

	if (kind == PKGFLAT_BUNDLE_FLAT_COMPONENT || kind ==
	    PKGFLAT_BUNDLE_PRODUCT || pkgflat_component_kind(b) !=
	    PKGFLAT_BUNDLE_FLAT_COMPONENT)
		return PKGFLAT_OK;
	for (size_t r = 0; r < sizeof renames / sizeof *renames; r++) {
		size_t i = set_find(sa, renames[r].legacy);
		size_t j = set_find(sb, renames[r].flat);
		/* Wrapped (pkgflat's own) or shipped under its own name. */
		if (i == sa->n || j == sb->n || set_find(sa, renames[r].flat) <
		    sa->n || memcmp(sa->sha[i], sb->sha[j], 32))
			continue;
		if (!t.text[0] && !t.text[1] && !t.oom &&
		    (rc = pkgflat_component_list_scripts(b, 1 << 20, flat_text_cb, &t,
		    err)))
			break;
		if (t.oom) {
			rc = fail_nomem(err);
			break;
		}
		char why[300], where[400];
		const char *text = t.text[!strcmp(renames[r].flat, "postinstall")];
		unsigned line = legacy_layout_line(text, why, sizeof why);
		if (line) {
			snprintf(where, sizeof where, "%s line %u: %s", renames[r].flat,
			    line, why);
			diff_add(res, pair, id, "script", "changed", "legacy-layout",
			    renames[r].legacy, renames[r].flat, where);
		} else {
			diff_add(res, pair, id, "note", "changed", "renamed",
			    renames[r].legacy, renames[r].legacy, renames[r].flat);
			pair->notes++;
		}
		set_remove(sa, i);
		set_remove(sb, j);
	}
	free(t.text[0]);
	free(t.text[1]);
	return rc;
}

pkgflat_status cmp_scripts(pkgflat_diff_result *res,
    pkgflat_diff_pair *pair, const char *id, const pkgflat_component *a,
    const pkgflat_component *b, pkgflat_error *err)
{
	struct script_set sa = { 0 }, sb = { 0 }, ua = { 0 }, ub = { 0 };
	pkgflat_status rc;

	if (!(rc = bundle_scripts(a, &sa, &ua, err)) &&
	    !(rc = bundle_scripts(b, &sb, &ub, err)) &&
	    !(rc = pair_renamed(res, pair, id, a, b, &sa, &sb, err)))
		cmp_script_sets(res, pair, id, &sa, &sb, &ub);
	script_set_free(&sa);
	script_set_free(&sb);
	script_set_free(&ua);
	script_set_free(&ub);
	return rc;
}

/* ------------------------------------------------------------------ */
/* A metapackage's own scripts: a legacy .mpkg runs them itself; convert
 * moves each into a payload-free component of its own. */

static pkgflat_status product_scripts(const pkgflat_package *p, const char *used,
    const pkgflat_package *other, struct script_set *set,
    struct script_set *unrun, pkgflat_error *err)
{
	const pkgflat_component *root = pkgflat_package_root(p);
	pkgflat_status rc = PKGFLAT_OK;

	if (!diff_is_flat(p)) {
		if (!pkgflat_component_is_leaf(root))
			rc = bundle_scripts(root, set, unrun, err);
		return rc;
	}
	/* Each original counts where a wrapper runs it; convert copies all
	 * of them into each such component but runs one. */
	struct script_set notrun = { 0 };
	for (size_t i = 0; !rc && i < pkgflat_package_component_count(p); i++) {
		const pkgflat_component *c = pkgflat_package_component(p, i);
		struct script_set cs = { 0 }, cu = { 0 };
		if (used[i] || !meta_scripts(p, c, other))
			continue;
		rc = bundle_scripts(c, &cs, &cu, err);
		for (size_t k = 0; !rc && k < cs.n; k++) {
			int run = !set_has(&cu, cs.name[k]);
			struct script_set *to = run ? set : &notrun;
			if (!set_has(to, cs.name[k]) &&
			    script_cb(cs.name[k], cs.sha[k], to))
				rc = fail_nomem(err);
		}
		script_set_free(&cs);
		script_set_free(&cu);
	}
	for (size_t k = 0; !rc && k < notrun.n; k++)
		if (!set_has(set, notrun.name[k]) &&
		    script_cb(notrun.name[k], notrun.sha[k], unrun))
			rc = fail_nomem(err);
	script_set_free(&notrun);
	return rc;
}

pkgflat_status cmp_product_scripts(pkgflat_diff_result *res,
    pkgflat_package *a, const char *used_a, pkgflat_package *b,
    const char *used_b, pkgflat_error *err)
{
	struct script_set sa = { 0 }, sb = { 0 }, ua = { 0 }, ub = { 0 };
	pkgflat_status rc;

	if (!(rc = product_scripts(a, used_a, b, &sa, &ua, err)) &&
	    !(rc = product_scripts(b, used_b, a, &sb, &ub, err)) &&
	    (sa.n || sb.n || ub.n))
		cmp_script_sets(res, NULL, "(product)", &sa, &sb, &ub);
	script_set_free(&sa);
	script_set_free(&sb);
	script_set_free(&ua);
	script_set_free(&ub);
	return rc;
}

/* Is c, a component of p without a partner, one that convert made of
 * the other side's metapackage scripts? */
int meta_scripts(const pkgflat_package *p, const pkgflat_component *c,
    const pkgflat_package *other)
{
	return diff_is_flat(p) && !diff_is_flat(other) &&
	    !pkgflat_component_is_leaf(pkgflat_package_root(other)) &&
	    !pkgflat_component_has_payload(c);
}
