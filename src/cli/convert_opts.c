/*
 * The options of a conversion, shared by convert and batch: one table, one
 * parser, one help text. An option added here works in both commands, and
 * batch's up-to-date check sees it (every option taken is remembered, as
 * written, in struct convert_opts.given).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

const struct option convert_options[] = {
	{ "ownership", required_argument, NULL, 'O' },
	{ "min-os", required_argument, NULL, 'm' },
	{ "title", required_argument, NULL, 't' },
	{ "identifier", required_argument, NULL, 'i' },
	{ "arch", required_argument, NULL, 'a' },
	{ "toc-checksum", required_argument, NULL, 'c' },
	{ "sign", no_argument, NULL, 's' },
	{ "identity", required_argument, NULL, 'N' },
	{ "check", no_argument, NULL, 'k' },
	{ "max-image-size", required_argument, NULL, 'Z' },
	IDENTITY_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

const char convert_options_help[] =
    "  --ownership MODE         recommended (default, as pkgbuild's): owners\n"
    "                           that are a packager's own account (uid 500 and\n"
    "                           up) become root, their staff or personal group\n"
    "                           wheel; system owners (below 500) are kept;\n"
    "                           preserve: keep every owner; root: everything\n"
    "                           root:wheel. Modes are always kept\n"
    "  --min-os VERSION         add allowed-os-versions (10.5 or later)\n"
    "  --title TEXT             the product title (default: the package's)\n"
    "  --identifier ID          the package identifier (single component only)\n"
    "  --arch LIST              hostArchitectures, e.g. arm64,x86_64\n"
    "  --toc-checksum ALG       sha1 (default), sha256 or sha512; only sha1 is\n"
    "                           read by macOS before 10.10\n"
    "  --sign                   sign while writing, as productsign does (RSA\n"
    "                           and CMS); the identity is given by --p12, or\n"
    "                           --key and --cert, with --chain, --pass and\n"
    "                           --force, --timestamp[=URL] as for 'pkgflat sign'\n"
    "  --identity NAME          with --p12 holding several identities, the one\n"
    "                           whose common name contains NAME (what 'pkgflat\n"
    "                           sign --sign NAME' picks)\n"
    "  --check                  before the output appears, read it back and\n"
    "                           compare it with the input as 'pkgflat diff'\n"
    "                           does; when it would install anything\n"
    "                           differently, fail and write nothing; for a\n"
    "                           disk image, its checksums are checked too\n"
    "  --max-image-size SIZE    the largest disk a .dmg.gz may expand to\n"
    "                           (bytes, or with K, M, G; default 8G)\n";

static size_t table_len(const struct option *t)
{
	size_t n = 0;

	while (t && t[n].name)
		n++;
	return n;
}

static int table_has(const struct option *t, const char *name)
{
	for (size_t i = 0; t && t[i].name; i++)
		if (!strcmp(t[i].name, name))
			return 1;
	return 0;
}

struct option *options_table(const struct option *own)
{
	size_t a = table_len(own), b = table_len(convert_options), n = 0;
	struct option *t = calloc(a + b + 1, sizeof *t);

	if (!t)
		return NULL;
	for (size_t i = 0; i < a; i++)
		t[n++] = own[i];
	for (size_t i = 0; i < b; i++)
		if (!table_has(own, convert_options[i].name))
			t[n++] = convert_options[i];
	return t;
}

static int remember(struct convert_opts *o, int c)
{
	extern char *optarg;
	const char *name = "?";

	for (size_t i = 0; convert_options[i].name; i++)
		if (convert_options[i].val == c) {
			name = convert_options[i].name;
			break;
		}
	char **v = realloc(o->given, (o->ngiven + 1) * sizeof *v);
	if (!v)
		return -1;
	o->given = v;
	size_t len = strlen(name) + (optarg ? strlen(optarg) : 0) + 4;
	if (!(v[o->ngiven] = malloc(len)))
		return -1;
	snprintf(v[o->ngiven], len, "--%s%s%s", name, optarg ? "=" : "",
	    optarg ? optarg : "");
	o->ngiven++;
	return 0;
}

void convert_opts_init(struct convert_opts *o)
{
	memset(o, 0, sizeof *o);
	pkgflat_convert_options_init(&o->opt);
}

int convert_option(const char *cmd, int c, struct convert_opts *o)
{
	extern char *optarg;

	if (!identity_option(c, &o->spec, &o->force, &o->tsa)) {
		switch (c) {
		case 's': o->sign = 1; break;
		case 'N': o->spec.name = optarg; break;
		case 'k': o->opt.check = 1; break;
		case 'Z':
			if (image_size_arg(optarg, &o->image.max_image_size))
				return usage_error(cmd, "--max-image-size takes a "
				    "size such as 8G, not '%s'", optarg);
			break;
		case 'O':
			if (pkgflat_ownership_from_name(optarg) < 0)
				return usage_error(cmd, "--ownership takes recommended, "
				    "preserve or root, not '%s'", optarg);
			o->opt.ownership = (enum pkgflat_ownership)
			    pkgflat_ownership_from_name(optarg);
			break;
		case 'm': o->opt.min_os = optarg; break;
		case 't': o->opt.title = optarg; break;
		case 'i': o->opt.identifier = optarg; break;
		case 'a': o->opt.host_arch = optarg; break;
		case 'c':
			if (!strcmp(optarg, "sha1"))
				o->opt.toc_checksum = PKGFLAT_TOC_SHA1;
			else if (!strcmp(optarg, "sha256"))
				o->opt.toc_checksum = PKGFLAT_TOC_SHA256;
			else if (!strcmp(optarg, "sha512"))
				o->opt.toc_checksum = PKGFLAT_TOC_SHA512;
			else
				return usage_error(cmd, "--toc-checksum takes sha1, "
				    "sha256 or sha512, not '%s'", optarg);
			break;
		default:
			return 0;
		}
	}
	if (remember(o, c)) {
		fprintf(stderr, "%s %s: out of memory\n", progname, cmd);
		return EXIT_ERROR;
	}
	return 1;
}

int next_option(const char *cmd, int argc, char **argv, const char *shorts,
    const struct option *table, struct convert_opts *o, int *rc)
{
	int c;

	while ((c = getopt_long(argc, argv, shorts, table, NULL)) != -1) {
		int took = convert_option(cmd, c, o);
		if (took == 1)
			continue;
		if (took) {
			*rc = took;
			return -2;
		}
		break;
	}
	return c;
}

int option_error(const char *cmd, int c, char **argv)
{
	return option_error_table(cmd, c, argv, convert_options);
}

int convert_opts_finish(const char *cmd, struct convert_opts *o)
{
	if (!o->sign && (o->spec.p12 || o->spec.key || o->spec.cert ||
	    o->spec.sign_command || o->spec.name))
		return usage_error(cmd, "identity options go with --sign");
	if (o->spec.name && !o->spec.p12)
		return usage_error(cmd, "--identity NAME picks an identity inside "
		    "--p12 FILE");
	if (!o->sign) {
		if (o->tsa.url || o->tsa.none)
			return usage_error(cmd, "--timestamp goes with --sign");
		return EXIT_OK;
	}
	/* Judged by the clock: SOURCE_DATE_EPOCH only fixes output dates. */
	int rc = identity_load(&o->spec, o->force, (int64_t)time(NULL), &o->id);
	if (rc)
		return rc;
	o->opt.identity = o->id;
	o->opt.timestamp_url = o->tsa.url;
	o->opt.timestamp_timeout = o->tsa.timeout;
	return EXIT_OK;
}

void convert_opts_free(struct convert_opts *o)
{
	pkgflat_identity_free(o->id);
	o->id = NULL;
	for (size_t i = 0; i < o->ngiven; i++)
		free(o->given[i]);
	free(o->given);
	o->given = NULL;
	o->ngiven = 0;
}
