/* pkgflat batch: finding the inputs (bundle directories, archives of
 * them, directories searched for both) and naming their outputs, with
 * clashes and outputs that would replace an input refused up front. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "batch.h"

/* Finding the inputs                                                 */

static char *pkg_name(const char *rel, const char *name)
{
	char *p = batch_join(rel, name), *r = batch_xprintf("%s.pkg", p);

	free(p);
	return r;
}

static void ignore(struct batch *b, const char *path, const char *reason)
{
	b->ignored = batch_xrealloc(b->ignored, (b->nignored + 2) * sizeof *b->ignored);
	b->ignored[b->nignored++] = batch_xstrdup(path);
	b->ignored[b->nignored++] = batch_xstrdup(reason);
}

static uint64_t tree_size(const char *path, int depth)
{
	struct stat sb;
	uint64_t sum = 0;

	if (lstat(path, &sb) != 0)
		return 0;
	if (S_ISREG(sb.st_mode))
		return (uint64_t)sb.st_size;
	if (!S_ISDIR(sb.st_mode) || depth > 64)
		return 0;
	DIR *d = opendir(path);
	struct dirent *de;
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *p = batch_xprintf("%s/%s", path, de->d_name);
		sum += tree_size(p, depth + 1);
		free(p);
	}
	closedir(d);
	return sum;
}

void batch_item_free(struct item *it)
{
	free(it->input);
	free(it->member);
	free(it->key);
	free(it->wanted);
	free(it->rel);
	free(it->out);
	free(it->error);
	for (size_t k = 0; k < it->nwarnings; k++)
		free(it->warnings[k]);
	free(it->warnings);
	for (size_t k = 0; k < it->nmappings; k++)
		free(it->mappings[k]);
	free(it->mappings);
	free(it->pf_team);
	free(it->pf_error);
	for (size_t k = 0; k < it->npf_rejects; k++) {
		free(it->pf_rejects[k].component);
		free(it->pf_rejects[k].path);
		free(it->pf_rejects[k].archs);
		free(it->pf_rejects[k].text);
	}
	free(it->pf_rejects);
}

static void add_item(struct batch *b, const char *input, const char *member,
    char *wanted)
{
	char *real = realpath(input, NULL);
	char *key = batch_xprintf("%s\n%s", real ? real : input, member ? member : "");

	free(real);
	for (size_t i = 0; i < b->n; i++) {
		if (!strcmp(b->items[i].key, key)) {
			free(key);
			free(wanted);
			return; /* the same input named twice */
		}
	}
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->items = batch_xrealloc(b->items, b->cap * sizeof *b->items);
	}
	struct item *it = &b->items[b->n++];
	memset(it, 0, sizeof *it);
	it->input = batch_xstrdup(input);
	it->member = batch_xstrdup(member);
	it->key = key;
	it->wanted = wanted;
	it->size = tree_size(input, 0);
}

/* An archive: one input, or one per package when it holds several. */
static void add_archive(struct batch *b, const char *path, const char *rel,
    int named)
{
	char **members = NULL;
	size_t count = 0;
	pkgflat_error err;
	char *s = batch_stem(batch_base_name(path));

	pkgflat_error_clear(&err);
	if (pkgflat_archive_packages(path, &members, &count, &err) || count < 2) {
		/* An unreadable archive is a failed input: its worker says why. */
		if (named || err.status || count == 1)
			add_item(b, path, count == 1 ? members[0] : NULL,
			    pkg_name(rel, s));
		else
			ignore(b, path, "an archive with no bundle package in it");
		pkgflat_archive_packages_free(members, count);
		free(s);
		return;
	}
	size_t first = b->n;
	for (size_t i = 0; i < count; i++) {
		char *dir = batch_join(rel, s);
		char *mdir = batch_xstrdup(members[i]);
		char *nest = strstr(mdir, "//");
		if (nest) /* on an image inside the image: Inner.dmg/... */
			memmove(nest, nest + 1, strlen(nest + 1) + 1);
		char *slash = strrchr(mdir, '/');
		char *ms = batch_stem(batch_base_name(members[i]));
		char *d2;
		if (slash) {
			*slash = '\0';
			d2 = batch_join(dir, mdir);
		} else
			d2 = batch_xstrdup(dir);
		add_item(b, path, members[i], batch_xprintf("%s/%s.pkg", d2, ms));
		free(dir);
		free(mdir);
		free(ms);
		free(d2);
	}
	for (size_t i = first; i < b->n; i++) {
		b->items[i].shared = 1;
		if (i > first)
			b->items[i].size = 0; /* the archive's bytes count once */
	}
	pkgflat_archive_packages_free(members, count);
	free(s);
}

static void add_file(struct batch *b, const char *path, const char *rel,
    int named)
{
	enum pkgflat_file_kind k;

	if (!named && !batch_is_archive_name(batch_base_name(path)) &&
	    !batch_has_suffix_ci(path, ".pkg") && !batch_has_suffix_ci(path, ".mpkg"))
		return; /* README.txt and such */
	k = pkgflat_file_sniff(path);
	if (k == PKGFLAT_FILE_XAR)
		ignore(b, path, "a flat package already");
	else if (k == PKGFLAT_FILE_ARCHIVE || pkgflat_file_is_image(path))
		add_archive(b, path, rel, named);
	else if (named)
		add_item(b, path, NULL, batch_xprintf("%s.pkg", batch_base_name(path)));
	else
		ignore(b, path, "neither a bundle package nor an archive");
}

int batch_cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static void walk(struct batch *b, const char *dir, const char *rel, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;

	if (!d || depth > 64) {
		if (d)
			closedir(d);
		ignore(b, dir, d ? "nested too deeply" : strerror(errno));
		return;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strcmp(de->d_name, "__MACOSX"))
			continue;
		names = batch_xrealloc(names, (n + 1) * sizeof *names);
		names[n++] = batch_xstrdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, batch_cmp_str);
	for (size_t i = 0; i < n; i++) {
		char *p = batch_xprintf("%s/%s", dir, names[i]);
		struct stat sb;
		if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode) &&
		    !(sb.st_dev == b->out_dev && sb.st_ino == b->out_ino)) {
			if (batch_is_bundle(names[i])) {
				char *s = batch_stem(names[i]);
				add_item(b, p, NULL, pkg_name(rel, s));
				free(s);
			} else {
				char *r = batch_join(rel, names[i]);
				walk(b, p, r, depth + 1);
				free(r);
			}
		} else if (lstat(p, &sb) == 0 && S_ISREG(sb.st_mode))
			add_file(b, p, rel, 0);
		free(p);
		free(names[i]);
	}
	free(names);
}

/* One PATH argument; EXIT_ERROR when it cannot be read at all. */
int batch_add_path(struct batch *b, const char *path)
{
	struct stat sb;

	if (stat(path, &sb) != 0) {
		fprintf(stderr, "%s: %s: cannot open: %s\n", progname, path,
		    strerror(errno));
		return EXIT_ERROR;
	}
	if (S_ISDIR(sb.st_mode)) {
		char *trimmed = batch_xstrdup(path);
		size_t len = strlen(trimmed);
		while (len > 1 && trimmed[len - 1] == '/')
			trimmed[--len] = '\0';
		if (batch_is_bundle(batch_base_name(trimmed))) {
			char *s = batch_stem(batch_base_name(trimmed));
			add_item(b, trimmed, NULL, batch_xprintf("%s.pkg", s));
			free(s);
		} else
			walk(b, trimmed, "", 0);
		free(trimmed);
	} else
		add_file(b, path, "", 1);
	return EXIT_OK;
}

/* A metapackage's components may sit beside it (IFPkgFlagComponentDirectory
 * ".."): found on their own they would be converted twice. */
void batch_drop_components(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct item *m = &b->items[i];
		pkgflat_package *pkg = NULL;
		pkgflat_error err;

		if (m->member || !batch_has_suffix_ci(m->input, ".mpkg") ||
		    pkgflat_package_open(m->input, &pkg, &err))
			continue; /* its worker will say what is wrong */
		char *dir = batch_xstrdup(m->input), *slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		for (size_t c = 0; c < pkgflat_package_component_count(pkg); c++) {
			const char *p = pkgflat_component_get(
			    pkgflat_package_component(pkg, c), PKGFLAT_F_PATH);
			char *full = slash ? batch_xprintf("%s/%s", dir, p) : batch_xstrdup(p);
			char *real = realpath(full, NULL);
			char *key = real ? batch_xprintf("%s\n", real) : NULL;
			for (size_t k = 0; key && k < b->n; k++) {
				struct item *it = &b->items[k];
				if (k == i || strcmp(it->key, key))
					continue;
				char *why = batch_xprintf("a component of %s", m->input);
				ignore(b, it->input, why);
				free(why);
				batch_item_free(it);
				memmove(it, it + 1, (b->n - k - 1) * sizeof *it);
				b->n--;
				if (k < i)
					i--, m--;
				break;
			}
			free(full);
			free(real);
			free(key);
		}
		free(dir);
		pkgflat_package_free(pkg);
	}
}

/* Foo.pkg, Foo-2.pkg, ...: the first found keeps the name. */
void batch_name_outputs(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct item *it = &b->items[i];
		const char *w = it->wanted;
		size_t wl = strlen(w) - 4; /* without ".pkg" */
		for (unsigned k = 1;; k++) {
			char *cand = k == 1 ? batch_xstrdup(w) :
			    batch_xprintf("%.*s-%u.pkg", (int)wl, w, k);
			size_t j;
			for (j = 0; j < i; j++)
				if (!strcasecmp(b->items[j].rel, cand))
					break;
			if (j == i) {
				it->rel = cand;
				break;
			}
			free(cand);
		}
		it->out = batch_xprintf("%s/%s", b->outdir, it->rel);
	}
}

/*
 * No output may be written over an input or inside an input bundle:
 * OUTDIR inside a directory that is searched is fine (the search skips it),
 * inside Foo.pkg/ it is not. EXIT_USAGE, said, before any work.
 */
/* path resolved, when its last parts do not exist yet: those as given */
static char *realpath_missing(const char *path)
{
	char *head = batch_xstrdup(path), *real, *slash;

	while (!(real = realpath(head, NULL)) && (slash = strrchr(head, '/')) &&
	    slash != head)
		*slash = '\0';
	if (!real && !strchr(head, '/'))
		real = realpath(".", NULL), head[0] = '\0';
	if (!real) {
		free(head);
		return NULL;
	}
	const char *rest = path + strlen(head);
	char *r = batch_xprintf("%s%s%s", real, head[0] || *rest == '/' ? "" : "/",
	    rest);
	free(real);
	free(head);
	return r;
}

int batch_refuse_inputs(struct batch *b)
{
	char *outreal = realpath_missing(b->outdir);
	char **reals = batch_xrealloc(NULL, (b->n + 1) * sizeof *reals);
	int rc = EXIT_OK;

	for (size_t i = 0; i < b->n; i++)
		reals[i] = strndup(b->items[i].key, strcspn(b->items[i].key, "\n"));
	for (size_t i = 0; outreal && rc == EXIT_OK && i < b->n; i++) {
		size_t l = strlen(reals[i]);
		struct stat sb;
		if (reals[i][0] == '/' && !strncmp(outreal, reals[i], l) &&
		    (outreal[l] == '/' || !outreal[l]) && stat(reals[i], &sb) == 0 &&
		    S_ISDIR(sb.st_mode)) {
			fprintf(stderr, "%s: %s: is inside the input %s: writing there "
			    "would change the input\n", progname, b->outdir,
			    b->items[i].input);
			rc = EXIT_USAGE;
		}
	}
	if (outreal && rc == EXIT_OK) {
		qsort(reals, b->n, sizeof *reals, batch_cmp_str);
		for (size_t i = 0; rc == EXIT_OK && i < b->n; i++) {
			char *o = batch_xprintf("%s/%s", outreal, b->items[i].rel);
			if (bsearch(&o, reals, b->n, sizeof *reals, batch_cmp_str)) {
				fprintf(stderr, "%s: %s: is an input: writing it would "
				    "destroy the input\n", progname, b->items[i].out);
				rc = EXIT_USAGE;
			}
			free(o);
		}
	}
	if ((b->junit || b->html) && rc == EXIT_OK) {
		const char **in = batch_xrealloc(NULL, (b->n + 1) * sizeof *in);
		for (size_t i = 0; i < b->n; i++)
			in[i] = b->items[i].input;
		if (b->junit)
			rc = refuse_overwrite(b->junit, in, b->n);
		if (b->html && !rc)
			rc = refuse_overwrite(b->html, in, b->n);
		free(in);
	}
	for (size_t i = 0; i < b->n; i++)
		free(reals[i]);
	free(reals);
	free(outreal);
	return rc;
}
