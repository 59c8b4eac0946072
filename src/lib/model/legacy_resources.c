/*
 * The Resources folder of a bundle, for the legacy reader and the flat one:
 * resource files and localizations, the install checks' string tables and
 * the scripts (by their names of 10.2 and later and of Cheetah).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "legacy.h"
#include "strtab.h"

#define MAX_RESOURCES 100000

/* 10.0/10.1 packages name their scripts after the bundle:
 * "<Name>.pre_install" ran where later packages run "preinstall". */
static const struct {
	const char *suffix;
	enum pkgflat_script script;
} cheetah_scripts[] = {
	{ ".pre_install", PKGFLAT_SCRIPT_PREINSTALL },
	{ ".pre_upgrade", PKGFLAT_SCRIPT_PREUPGRADE },
	{ ".post_install", PKGFLAT_SCRIPT_POSTINSTALL },
	{ ".post_upgrade", PKGFLAT_SCRIPT_POSTUPGRADE },
};

int pkgflat_script_from_name(const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < PKGFLAT_SCRIPT_COUNT_; i++)
		if (!strcmp(name, pkgflat_script_name(i)))
			return i;
	size_t n = strlen(name);
	for (size_t i = 0; i < sizeof cheetah_scripts / sizeof *cheetah_scripts;
	    i++) {
		size_t k = strlen(cheetah_scripts[i].suffix);
		if (n > k && !strchr(name, '/') &&
		    !strcmp(name + n - k, cheetah_scripts[i].suffix))
			return (int)cheetah_scripts[i].script;
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* Resources                                                          */

static const char *resource_role(const char *name)
{
	static const struct {
		const char *base, *role;
	} roles[] = {
		{ "welcome", "welcome" }, { "readme", "readme" },
		{ "license", "license" }, { "conclusion", "conclusion" },
		{ "background", "background" }, { "description", "description" },
		{ "package_version", "package-version" },
		{ "tokendefinitions", "tokens" },
	};
	char base[256];
	const char *dot = strrchr(name, '.');
	size_t n = dot && dot != name ? (size_t)(dot - name) : strlen(name);

	if (pkgflat_script_from_name(name) >= 0)
		return "script";
	if (str_has_suffix(name, ".strings"))
		return "strings";
	if (str_has_suffix(name, ".sizes"))
		return "sizes";
	if (str_has_suffix(name, ".info") || str_has_suffix(name, ".bom") ||
	    str_has_suffix(name, ".pax.gz") || str_has_suffix(name, ".pax"))
		return "cheetah";
	if (n >= sizeof base)
		return "other";
	for (size_t i = 0; i < n; i++)
		base[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 :
		    name[i]);
	base[n] = '\0';
	for (size_t i = 0; i < sizeof roles / sizeof *roles; i++)
		if (!strcmp(base, roles[i].base))
			return roles[i].role;
	return "other";
}

static pkgflat_status walk_resources(pkgflat_component *b, const char *res,
    const char *rel, const char *lang, int depth, pkgflat_error *err)
{
	pkgflat_package *pkg = b->pkg;
	ptrvec names = { 0 };
	pkgflat_status rc;
	char *dir = rel[0] ? path_join(res, rel) : pf_strdup(res);

	if (!dir)
		return fail_nomem(err);
	if (depth > 32) {
		char *n = src_display(pkg->src, dir);
		rc = fail(err, PKGFLAT_E_FORMAT, n, NULL,
		    "resources nested too deeply");
		free(n);
		free(dir);
		return rc;
	}
	if ((rc = pkg->src->ops->list(pkg->src, dir, &names, err)))
		goto out;
	for (size_t i = 0; i < names.n && !rc; i++) {
		const char *name = names.v[i];
		char *rpath = rel[0] ? pf_asprintf("%s/%s", rel, name) :
		    pf_strdup(name);
		char *full = path_join(res, rpath ? rpath : "");
		struct src_stat lst, st;
		pkgflat_resource *r = NULL;

		if (!rpath || !full) {
			rc = fail_nomem(err);
			goto next;
		}
		if (b->resources.n >= MAX_RESOURCES) {
			char *n = src_display(pkg->src, res);
			rc = fail(err, PKGFLAT_E_FORMAT, n, NULL,
			    "more than %d resources", MAX_RESOURCES);
			free(n);
			goto next;
		}
		if ((rc = pkg->src->ops->lstat(pkg->src, full, &lst, err)))
			goto next;
		r = pf_calloc(1, sizeof *r);
		if (!r || pv_push(&b->resources, r)) {
			free(r);
			rc = fail_nomem(err);
			goto next;
		}
		r->path = rpath;
		rpath = NULL;
		r->lang = pf_strdup(lang);
		r->role = resource_role(name);
		if (lst.type == SRC_LINK) {
			r->link_target = pf_strdup(lst.link);
			if ((rc = src_stat(pkg->src, full, &st, err)))
				goto next;
			if (st.type == SRC_NONE) {
				package_warn(pkg, "%s: dangling symlink to %s", full,
				    r->link_target);
				goto next;
			}
		} else
			st = lst;
		r->size = st.type == SRC_FILE ? st.size : 0;
		r->mode = st.mode;
		if (st.type == SRC_DIR) {
			r->is_dir = 1;
			if (str_has_suffix(name, ".rtfd")) {
				r->mime = "text/rtfd";
				goto next; /* one document, not a folder of resources */
			}
			if (lst.type == SRC_LINK)
				goto next; /* do not walk into linked directories */
			if (str_has_suffix(name, ".lproj") && !lang) {
				char *l = pf_strndup(name, strlen(name) - 6);
				if (!l || pv_push(&b->localizations, l)) {
					free(l);
					rc = fail_nomem(err);
					goto next;
				}
				rc = walk_resources(b, res, r->path, l, depth + 1, err);
			} else
				rc = walk_resources(b, res, r->path, lang, depth + 1, err);
		} else if (st.type == SRC_FILE) {
			/* The first bytes tell the type; no need for the rest. */
			unsigned char head[1024];
			size_t n = 0;
			src_stream *in = NULL;
			if ((rc = src_open_stream(pkg->src, full, &in, err)))
				goto next;
			while (n < sizeof head) {
				long k = in->read(in, head + n, sizeof head - n);
				if (k < 0) {
					rc = err && err->status ? err->status : PKGFLAT_E_IO;
					break;
				}
				if (k == 0)
					break;
				n += (size_t)k;
			}
			src_stream_close(in);
			if (rc)
				goto next;
			r->mime = mime_sniff(head, n, name);
		}
next:
		free(rpath);
		free(full);
	}
out:
	pv_free(&names, free);
	free(dir);
	return rc;
}

pkgflat_status legacy_read_resources(pkgflat_component *b, const char *res,
    pkgflat_error *err)
{
	return walk_resources(b, res, "", NULL, 0, err);
}

struct strings_ctx {
	pkgflat_component *b;
	const char *table, *lang;
};

static int add_string(const char *key, const char *value, void *p)
{
	struct strings_ctx *c = p;
	pkgflat_string *s = pf_calloc(1, sizeof *s);

	if (!s || pv_push(&c->b->strings, s)) {
		free(s);
		return -1;
	}
	s->table = pf_strdup(c->table);
	s->lang = pf_strdup(c->lang);
	s->key = pf_strdup(key);
	s->value = pf_strdup(value);
	return !s->table || (c->lang && !s->lang) || !s->key || !s->value;
}

/* The message tables of the install checks. A broken table does not stop
 * the package from being read: it is reported as a warning. */
pkgflat_status legacy_read_check_strings(pkgflat_component *b, const char *res,
    pkgflat_error *err)
{
	static const char *const tables[] = {
		"InstallationCheck", "VolumeCheck", "IFRequirements",
	};

	for (size_t i = 0; i < b->resources.n; i++) {
		const pkgflat_resource *r = b->resources.v[i];
		if (r->is_dir || strcmp(r->role, "strings"))
			continue;
		const char *base = path_base(r->path);
		for (size_t k = 0; k < sizeof tables / sizeof *tables; k++) {
			size_t tl = strlen(tables[k]);
			if (strncmp(base, tables[k], tl) || strcmp(base + tl, ".strings"))
				continue;
			char *full = path_join(res, r->path);
			unsigned char *d = NULL;
			size_t n = 0;
			pkgflat_status rc;
			if (!full)
				return fail_nomem(err);
			if ((rc = package_read_small(b->pkg, full, &d, &n, err))) {
				free(full);
				return rc;
			}
			struct strings_ctx c = { b, tables[k], r->lang };
			pkgflat_error e2;
			pkgflat_error_clear(&e2);
			rc = strings_parse(d, n, full, add_string, &c, &e2);
			if (rc == PKGFLAT_E_NOMEM) {
				free(d);
				free(full);
				return fail_nomem(err);
			}
			if (rc)
				package_warn(b->pkg, "%s: %s: %s; ignored", full, e2.where,
				    e2.message);
			free(d);
			free(full);
		}
	}
	return PKGFLAT_OK;
}

pkgflat_status legacy_find_scripts(pkgflat_component *b, const char *res,
    pkgflat_error *err)
{
	pkgflat_package *pkg = b->pkg;

	for (int i = 0; i < PKGFLAT_SCRIPT_COUNT_; i++) {
		char *p = path_join(res, pkgflat_script_name(i));
		struct src_stat st;
		pkgflat_status rc;

		if (!p)
			return fail_nomem(err);
		if ((rc = src_stat(pkg->src, p, &st, err))) {
			free(p);
			return rc;
		}
		if (st.type == SRC_FILE) {
			if (!(st.mode & 0111))
				package_warn(pkg, "%s: not executable; Installer would "
				    "not run it", p);
			b->script[i] = p;
		} else {
			if (st.type != SRC_NONE)
				package_warn(pkg, "%s: not a regular file; ignored", p);
			free(p);
		}
	}
	return PKGFLAT_OK;
}

/* The stem of name without suffix, when it ends so; else NULL. */
static char *stem_of(const char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);

	return n > k && !strcmp(name + n - k, suffix) ?
	    pf_strndup(name, n - k) : NULL;
}

/*
 * 10.0/10.1 scripts: Resources/<Name>.pre_install, .pre_upgrade,
 * .post_install, .post_upgrade, <Name> being the bundle's (as in
 * <Name>.info, .bom, .pax.gz). The stem of the .info file counts first,
 * then the bundle directory's; a lone file of a kind is taken whatever its
 * stem, since bundles get renamed. A later name (preinstall, ...) for the
 * same script wins: it is what a 10.2+ Installer looks for.
 */
pkgflat_status legacy_find_cheetah_scripts(pkgflat_component *b,
    const char *res,
    const char *info, pkgflat_error *err)
{
	pkgflat_package *pkg = b->pkg;
	ptrvec names = { 0 };
	pkgflat_status rc;
	char *stems[2] = { NULL, NULL };

	if ((rc = pkg->src->ops->list(pkg->src, res, &names, err)))
		return rc;
	if (info)
		stems[0] = stem_of(path_base(info), ".info");
	const char *bn = b->field[PKGFLAT_F_NAME];
	if (!(stems[1] = stem_of(bn, ".pkg")) && !(stems[1] = stem_of(bn, ".mpkg")))
		stems[1] = pf_strdup(bn);
	for (size_t k = 0; !rc && k < sizeof cheetah_scripts /
	    sizeof *cheetah_scripts; k++) {
		const char *suffix = cheetah_scripts[k].suffix;
		const char *pick = NULL, *lone = NULL;
		size_t count = 0;
		for (size_t i = 0; i < names.n; i++) {
			char *st = stem_of(names.v[i], suffix);
			if (!st)
				continue;
			count++;
			lone = names.v[i];
			for (int j = 0; j < 2 && !pick; j++)
				if (stems[j] && !strcmp(st, stems[j]))
					pick = names.v[i];
			free(st);
		}
		if (!pick && count == 1)
			pick = lone;
		if (!pick) {
			if (count)
				package_warn(pkg, "%s: %zu files end in %s and none is named "
				    "after the bundle; none is run", res, count, suffix);
			continue;
		}
		enum pkgflat_script slot = cheetah_scripts[k].script;
		char *p = path_join(res, pick);
		struct src_stat st;
		if (!p) {
			rc = fail_nomem(err);
			break;
		}
		if ((rc = src_stat(pkg->src, p, &st, err))) {
			free(p);
			break;
		}
		if (st.type != SRC_FILE) {
			package_warn(pkg, "%s: not a regular file; ignored", p);
			free(p);
		} else if (b->script[slot]) {
			package_warn(pkg, "%s: the bundle also has %s, which Installer "
			    "runs instead; kept only as a file", p, pkgflat_script_name(slot));
			free(p);
		} else {
			if (!(st.mode & 0111))
				package_warn(pkg, "%s: not executable; Installer would "
				    "not run it", p);
			b->script[slot] = p;
		}
	}
	free(stems[0]);
	free(stems[1]);
	pv_free(&names, free);
	return rc;
}

