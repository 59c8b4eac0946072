/* Disk images on the command line: what info and ls print for a .dmg. */
#include <string.h>
#include <strings.h>

#include "cli.h"

static void text_pair(void *ctx, const char *key, const char *value)
{
	(void)ctx;
	printf("  %-26s ", key);
	print_text(stdout, value);
	putchar('\n');
}

static void json_pair(void *ctx, const char *key, const char *value)
{
	json_begin_object(ctx, NULL);
	json_string(ctx, "key", key);
	json_string(ctx, "value", value);
	json_end_object(ctx);
}

struct extras {
	size_t n[4];
};

static int count_extras(void *ctx, const pkgflat_image_entry *e)
{
	struct extras *x = ctx;

	for (int i = 0; i < 4; i++)
		if (e->extras & (1u << i))
			x->n[i]++;
	return 0;
}

static const char *const extra_names[4] = { "resource forks", "Finder info",
	"extended attributes", "aliases" };

static int print_error(pkgflat_error *err, pkgflat_image *im)
{
	pkgflat_image_free(im);
	return report_error(err);
}

int image_info(const char *path, const pkgflat_image_opts *o, int as_json)
{
	pkgflat_error err;
	pkgflat_image *im = NULL;
	pkgflat_image_package *list = NULL;
	size_t n = 0;
	struct extras x = { 0 };

	pkgflat_error_clear(&err);
	if (pkgflat_image_open(path, o, &im, &err) ||
	    pkgflat_image_packages(im, &list, &n, &err) ||
	    pkgflat_image_list(im, count_extras, &x, &err))
		return print_error(&err, im);
	if (as_json) {
		json j = { .f = stdout };
		json_begin_object(&j, NULL);
		json_string(&j, "image", path);
		json_begin_array(&j, "fields");
		pkgflat_image_describe(im, json_pair, &j);
		json_end_array(&j);
		json_begin_array(&j, "packages");
		for (size_t i = 0; i < n; i++) {
			json_begin_object(&j, NULL);
			json_string(&j, "path", list[i].member);
			json_string(&j, "kind", list[i].kind == PKGFLAT_FOUND_FLAT ?
			    "flat" : "bundle");
			json_end_object(&j);
		}
		json_end_array(&j);
		json_begin_object(&j, "not-carried-over");
		for (int i = 0; i < 4; i++)
			json_uint(&j, extra_names[i], x.n[i]);
		json_end_object(&j);
		json_end_object(&j);
		json_finish(&j);
	} else {
		printf("image ");
		print_text(stdout, path);
		putchar('\n');
		pkgflat_image_describe(im, text_pair, NULL);
		printf("\npackages %zu\n", n);
		for (size_t i = 0; i < n; i++) {
			printf("  %-8s ", list[i].kind == PKGFLAT_FOUND_FLAT ?
			    "flat" : "bundle");
			print_text(stdout, list[i].member);
			if (list[i].kind == PKGFLAT_FOUND_FLAT)
				fputs(" (already flat)", stdout);
			putchar('\n');
		}
		printf("\nnot carried over to a flat package\n");
		for (int i = 0; i < 4; i++)
			printf("  %-26s %zu\n", extra_names[i], x.n[i]);
	}
	pkgflat_image_packages_free(list, n);
	pkgflat_image_free(im);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: cannot write output\n", progname);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

static int ls_entry(void *ctx, const pkgflat_image_entry *e)
{
	unsigned type = e->type == 'd' ? 040000 : e->type == 'l' ? 0120000 :
	    0100000;

	(void)ctx;
	printf("%o %llu ", type | e->mode, (unsigned long long)e->size);
	print_text(stdout, e->path);
	if (e->link) {
		fputs(" -> ", stdout);
		print_text(stdout, e->link);
	}
	putchar('\n');
	return 0;
}

int image_ls(const char *path, const pkgflat_image_opts *o)
{
	pkgflat_error err;
	pkgflat_image *im = NULL;

	pkgflat_error_clear(&err);
	if (pkgflat_image_open(path, o, &im, &err) ||
	    pkgflat_image_list(im, ls_entry, NULL, &err))
		return print_error(&err, im);
	pkgflat_image_free(im);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: cannot write output\n", progname);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

int image_verify(const char *path, const pkgflat_image_opts *o)
{
	pkgflat_error err;
	pkgflat_image *im = NULL;

	pkgflat_error_clear(&err);
	if (pkgflat_image_open(path, o, &im, &err))
		return print_error(&err, im);
	if (pkgflat_image_verify(im, &err)) {
		pkgflat_image_free(im);
		if (err.status == PKGFLAT_E_FORMAT) {
			fprintf(stderr, "%s: %s: %s: %s\n", progname, err.file,
			    err.where, err.message);
			return EXIT_NEGATIVE;
		}
		return report_error(&err);
	}
	pkgflat_image_free(im);
	return EXIT_OK;
}

/* --max-image-size: bytes, or with a K, M or G suffix. */
int image_size_arg(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	unsigned shift = 0;

	if (end == s || s[0] == '-')
		return -1;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	else if (*end)
		return -1;
	if (shift && end[1])
		return -1;
	if (v > (UINT64_MAX >> shift) || !v)
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

const char image_options_help[] =
    "  --max-image-size SIZE  for a disk image: the largest disk a .dmg.gz may\n"
    "                      expand to (bytes, or with K, M, G; default 8G)\n"
    "  --force             for a disk image: read a journaled volume that was\n"
    "                      not cleanly unmounted, as it is\n";

int image_option(const char *cmd, int c, pkgflat_image_opts *o)
{
	extern char *optarg;

	switch (c) {
	case 'F':
		o->force = 1;
		return 1;
	case 'Z':
		if (image_size_arg(optarg, &o->max_image_size))
			return usage_error(cmd, "--max-image-size takes a size "
			    "such as 8G, not '%s'", optarg);
		return 1;
	default:
		return 0;
	}
}

/* The output name of a bundle: its name without .pkg/.mpkg, then .pkg. */
static char *out_name(const char *outdir, const char *member)
{
	const char *base = strrchr(member, '/');
	size_t n;
	char *p;

	base = base ? base + 1 : member;
	n = strlen(base);
	if (n > 5 && !strcasecmp(base + n - 5, ".mpkg"))
		n -= 5;
	else if (n > 4 && !strcasecmp(base + n - 4, ".pkg"))
		n -= 4;
	p = malloc(strlen(outdir) + n + 16);
	if (p)
		sprintf(p, "%s/%.*s.pkg", outdir, (int)n, base);
	return p;
}

int image_convert_all(const char *image, const char *outdir,
    int (*convert_one)(void *ctx, const char *member, const char *out),
    void *ctx)
{
	pkgflat_error err;
	pkgflat_image *im = NULL;
	pkgflat_image_package *list = NULL;
	size_t n = 0, done = 0;
	char **outs = NULL;
	int rc = EXIT_OK;

	pkgflat_error_clear(&err);
	if (pkgflat_image_open(image, NULL, &im, &err) ||
	    pkgflat_image_packages(im, &list, &n, &err))
		return print_error(&err, im);
	pkgflat_image_free(im);
	if (!(outs = calloc(n + 1, sizeof *outs))) {
		fprintf(stderr, "%s: out of memory\n", progname);
		pkgflat_image_packages_free(list, n);
		return EXIT_ERROR;
	}
	/* Names first: two bundles may not write the same output. */
	for (size_t i = 0; i < n && rc == EXIT_OK; i++) {
		if (list[i].kind != PKGFLAT_FOUND_BUNDLE)
			continue;
		if (!(outs[i] = out_name(outdir, list[i].member))) {
			fprintf(stderr, "%s: out of memory\n", progname);
			rc = EXIT_ERROR;
		}
		for (size_t k = 0; k < i && rc == EXIT_OK; k++)
			if (outs[k] && !strcmp(outs[k], outs[i]))
				rc = usage_error("convert", "%s and %s would both "
				    "be written to %s: convert them one at a time "
				    "with --select", list[k].member,
				    list[i].member, outs[i]);
	}
	for (size_t i = 0; i < n && rc == EXIT_OK; i++) {
		if (!outs[i])
			continue;
		rc = convert_one(ctx, list[i].member, outs[i]);
		done++;
	}
	if (rc == EXIT_OK && !done) {
		fprintf(stderr, "%s: %s: no bundle package on the image\n",
		    progname, image);
		rc = EXIT_ERROR;
	}
	for (size_t i = 0; i < n; i++)
		free(outs[i]);
	free(outs);
	pkgflat_image_packages_free(list, n);
	return rc;
}

struct extras_ctx {
	json *j;
	const char *prefix;
	size_t plen;
};

static int report_entry(void *p, const pkgflat_image_entry *e)
{
	struct extras_ctx *x = p;

	if (!e->extras || strncmp(e->path, x->prefix, x->plen) ||
	    (e->path[x->plen] != '/' && e->path[x->plen] != '\0'))
		return 0;
	json_begin_object(x->j, NULL);
	json_string(x->j, "path", e->path);
	json_begin_array(x->j, "carries");
	for (int i = 0; i < 4; i++)
		if (e->extras & (1u << i))
			json_string(x->j, NULL, extra_names[i]);
	json_end_array(x->j);
	json_end_object(x->j);
	return 0;
}

void image_report_extras(json *j, const char *image, const char *member)
{
	pkgflat_error err;
	pkgflat_image *im = NULL;
	pkgflat_image_package *list = NULL;
	size_t n = 0;

	pkgflat_error_clear(&err);
	json_begin_object(j, "image");
	json_string(j, "path", image);
	if (pkgflat_image_open(image, NULL, &im, &err) ||
	    pkgflat_image_packages(im, &list, &n, &err))
		goto out;
	for (size_t i = 0; !member && i < n; i++)
		if (list[i].kind == PKGFLAT_FOUND_BUNDLE)
			member = list[i].member;
	json_string(j, "package", member);
	/* What the bundle's files carry that a flat package drops; inside a
	 * nested image the outer listing does not reach. */
	json_begin_array(j, "not-carried-over");
	if (member && !strstr(member, "//")) {
		struct extras_ctx x = { j, member, strlen(member) };
		pkgflat_image_list(im, report_entry, &x, &err);
	}
	json_end_array(j);
out:
	json_end_object(j);
	pkgflat_image_packages_free(list, n);
	pkgflat_image_free(im);
}
