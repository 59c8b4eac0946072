/* pkgflat convert: a legacy bundle package into a flat product archive. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char convert_help[] =
    "usage: pkgflat convert [options] PACKAGE -o OUT.pkg\n"
    "\n"
    "Turn a legacy bundle package (Foo.pkg or Foo.mpkg, a directory or a\n"
    "zip/tar of one) into a flat product archive that macOS Installer\n"
    "accepts: a Distribution, Resources, and one component per bundle with\n"
    "PackageInfo, Bom, Payload and Scripts. Metapackages become one product;\n"
    "nested metapackages are flattened.\n"
    "\n"
    "Payloads that already are gzip'd odc cpio are copied byte for byte;\n"
    "others (ustar, pax, newc) are transcoded. Legacy scripts run from\n"
    "generated preinstall/postinstall wrappers in legacy order; the originals\n"
    "ship unchanged. Every mapping decision goes to the report; warnings go\n"
    "to standard error.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE        the flat package to write (required); it appears\n"
    "                           only when the conversion succeeded\n"
    "  --report FILE            write every mapping decision as JSON\n"
    "  --ownership MODE         preserve (default): keep the payload's owners;\n"
    "                           recommended: root:wheel, modes kept (pkgbuild's)\n"
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
    "  --check                  before the output appears, read it back and\n"
    "                           compare it with the input as 'pkgflat diff'\n"
    "                           does; when it would install anything\n"
    "                           differently, fail (exit 1) and write nothing\n"
    "  -q, --quiet              no warnings on standard error\n"
    "  -h, --help               show this help\n"
    "\n"
    "SOURCE_DATE_EPOCH, when set, fixes every time stamp: converting the same\n"
    "input twice gives byte-identical output.\n"
    "\n"
    "exit status: 0 converted, 1 --check found a difference, 2 usage error,\n"
    "3 unreadable or malformed\n"
    "package, or the output could not be written\n";

static void jstr_or_null(json *j, const char *k, const char *v)
{
	json_string(j, k, v);
}

static int write_report(const char *path, const char *input, const char *out,
    const pkgflat_convert_result *r)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "%s convert: %s: cannot write the report\n",
		    progname, path);
		return EXIT_ERROR;
	}
	json j = { .f = f };
	json_begin_object(&j, NULL);
	json_string(&j, "input", input);
	json_string(&j, "output", out);
	json_string(&j, "pkgflat", PKGFLAT_VERSION);
	json_begin_array(&j, "components");
	for (size_t i = 0; i < pkgflat_convert_component_count(r); i++) {
		const pkgflat_converted *c = pkgflat_convert_component(r, i);
		json_begin_object(&j, NULL);
		json_string(&j, "name", c->name);
		json_string(&j, "identifier", c->identifier);
		json_string(&j, "version", c->version);
		json_string(&j, "payload", c->payload);
		json_uint(&j, "numberOfFiles", c->entries);
		json_uint(&j, "installKBytes", c->install_kbytes);
		json_bool(&j, "preinstall", c->preinstall);
		json_bool(&j, "postinstall", c->postinstall);
		json_end_object(&j);
	}
	json_end_array(&j);
	json_begin_array(&j, "mappings");
	for (size_t i = 0; i < pkgflat_convert_mapping_count(r); i++) {
		const pkgflat_mapping *m = pkgflat_convert_mapping(r, i);
		json_begin_object(&j, NULL);
		jstr_or_null(&j, "component", m->component);
		jstr_or_null(&j, "legacy", m->legacy);
		jstr_or_null(&j, "value", m->value);
		jstr_or_null(&j, "flat", m->flat);
		json_bool(&j, "dropped", m->flat == NULL);
		jstr_or_null(&j, "note", m->note);
		json_end_object(&j);
	}
	json_end_array(&j);
	json_begin_array(&j, "warnings");
	for (size_t i = 0; i < pkgflat_convert_warning_count(r); i++)
		json_string(&j, NULL, pkgflat_convert_warning(r, i));
	json_end_array(&j);
	json_end_object(&j);
	json_finish(&j);
	if (fclose(f) != 0) {
		fprintf(stderr, "%s convert: %s: cannot write the report\n",
		    progname, path);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

int cmd_convert(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "report", required_argument, NULL, 'r' },
		{ "ownership", required_argument, NULL, 'O' },
		{ "min-os", required_argument, NULL, 'm' },
		{ "title", required_argument, NULL, 't' },
		{ "identifier", required_argument, NULL, 'i' },
		{ "arch", required_argument, NULL, 'a' },
		{ "toc-checksum", required_argument, NULL, 'c' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "check", no_argument, NULL, 'k' },
		{ "sign", no_argument, NULL, 's' },
		IDENTITY_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	pkgflat_convert_options opt;
	const char *report = NULL;
	int quiet = 0, c;
	pkgflat_error err;
	pkgflat_package *pkg = NULL;
	pkgflat_convert_result *res = NULL;
	pkgflat_identity_spec spec = { 0 };
	struct tsa_opts tsa = { 0 };
	pkgflat_identity *id = NULL;
	int sign = 0, force = 0;

	pkgflat_convert_options_init(&opt);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
		if (identity_option(c, &spec, &force, &tsa))
			continue;
		switch (c) {
		case 'o': opt.output = optarg; break;
		case 's': sign = 1; break;
		case 'r': report = optarg; break;
		case 'O':
			if (!strcmp(optarg, "preserve"))
				opt.ownership = PKGFLAT_OWNERSHIP_PRESERVE;
			else if (!strcmp(optarg, "recommended"))
				opt.ownership = PKGFLAT_OWNERSHIP_RECOMMENDED;
			else
				return usage_error("convert", "--ownership takes preserve or "
				    "recommended, not '%s'", optarg);
			break;
		case 'm': opt.min_os = optarg; break;
		case 't': opt.title = optarg; break;
		case 'i': opt.identifier = optarg; break;
		case 'a': opt.host_arch = optarg; break;
		case 'c':
			if (!strcmp(optarg, "sha1"))
				opt.toc_checksum = PKGFLAT_TOC_SHA1;
			else if (!strcmp(optarg, "sha256"))
				opt.toc_checksum = PKGFLAT_TOC_SHA256;
			else if (!strcmp(optarg, "sha512"))
				opt.toc_checksum = PKGFLAT_TOC_SHA512;
			else
				return usage_error("convert", "--toc-checksum takes sha1, "
				    "sha256 or sha512, not '%s'", optarg);
			break;
		case 'q': quiet = 1; break;
		case 'k': opt.check = 1; break;
		case 'h': fputs(convert_help, stdout); return EXIT_OK;
		case ':':
		case '?':
		default:
			if (optopt && strchr("orOmtiac", optopt))
				return usage_error("convert", "option '%s' needs a value",
				    argv[optind - 1]);
			return usage_error("convert", "unknown option '%s'",
			    argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return usage_error("convert", optind == argc ? "no package named" :
		    "one package at a time");
	if (!opt.output)
		return usage_error("convert", "no output file: use -o OUT.pkg");
	if (!sign && (spec.p12 || spec.key || spec.cert))
		return usage_error("convert", "identity options go with --sign");
	if (sign) {
		int rc = identity_load(&spec, force, now_or_epoch(), &id);
		if (rc)
			return rc;
		opt.identity = id;
		opt.timestamp_url = tsa.url;
		opt.timestamp_timeout = tsa.timeout;
	} else if (tsa.url)
		return usage_error("convert", "--timestamp goes with --sign");
	pkgflat_error_clear(&err);
	if (pkgflat_package_open(argv[optind], &pkg, &err)) {
		pkgflat_identity_free(id);
		return report_error(&err);
	}
	pkgflat_status st = pkgflat_convert(pkg, &opt, &res, &err);
	pkgflat_package_free(pkg);
	pkgflat_identity_free(id);
	if (st)
		return report_error(&err);
	if (!quiet)
		for (size_t i = 0; i < pkgflat_convert_warning_count(res); i++) {
			fprintf(stderr, "%s: warning: ", progname);
			print_text(stderr, pkgflat_convert_warning(res, i));
			fputc('\n', stderr);
		}
	int rc = report ? write_report(report, argv[optind], opt.output, res) :
	    EXIT_OK;
	pkgflat_convert_result_free(res);
	return rc;
}
