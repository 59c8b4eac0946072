/* pkgflat flatten: an expanded directory back into a flat package. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char flatten_help[] =
    "usage: pkgflat flatten [options] DIR OUT.pkg\n"
    "\n"
    "Archive DIR, a directory expanded from a flat package (by 'pkgflat\n"
    "expand', pkgutil --expand or --expand-full, xar -x) and perhaps\n"
    "edited, as the flat package OUT.pkg: a product archive when DIR has a\n"
    "Distribution at its top, a component package when it has PackageInfo.\n"
    "Every pkg-ref's component must be there with its PackageInfo.\n"
    "\n"
    "A component whose Payload or Scripts is a directory (expand --full) has\n"
    "it archived again as gzip'd odc cpio, with a fresh Bom and PackageInfo's\n"
    "numberOfFiles and installKBytes to match, and the Distribution's\n"
    "pkg-refs to it the new installKBytes. Owners are those the\n"
    "component's Bom gives each path, and the --ownership policy's for\n"
    "paths it does not list; with --ownership given, the policy's for all,\n"
    "applied to the owners on disk. Outside those directories a symlink is\n"
    "followed only to a file inside DIR.\n"
    "\n"
    "options:\n"
    "  --ownership MODE         recommended, preserve or root (see 'pkgflat\n"
    "                           convert --help')\n"
    "  --toc-checksum ALG       sha1 (default), sha256 or sha512\n"
    "  --sign                   sign while writing, as productsign does\n"
    "  --p12 FILE               PKCS#12 with key, certificate and chain\n"
    "  --identity NAME          with a --p12 of several identities, the one\n"
    "                           whose common name contains NAME\n"
    "  --key FILE --cert FILE   private key (or pkcs11:URI) and certificate\n"
    "  --sign-command CMD       an external signer, as for 'pkgflat sign'\n"
    "  --chain FILE             intermediates and root (PEM)\n"
    "  --pass SPEC              env:VAR, file:PATH or fd:N\n"
    "  --force                  sign even with an unfit certificate\n"
    "  --timestamp[=URL]        add an RFC 3161 timestamp to the CMS signature\n"
    "  -h, --help               show this help\n"
    "\n"
    "SOURCE_DATE_EPOCH, when set, fixes the creation time: flattening the\n"
    "same directory twice gives byte-identical output. OUT appears only when\n"
    "complete and must not lie inside DIR.\n"
    "\n"
    "exit status: 0 written, 2 usage error (also: OUT inside DIR), 3 DIR is\n"
    "not a complete expanded package, or OUT could not be written\n";

int cmd_flatten(int argc, char **argv)
{
	static const struct option own[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct option *opts = options_table(own);
	struct convert_opts co;
	pkgflat_flatten_options fo;
	pkgflat_error err;
	int c, rc = EXIT_OK;

	convert_opts_init(&co);
	if (!opts) {
		fprintf(stderr, "%s flatten: out of memory\n", progname);
		return EXIT_ERROR;
	}
	optind = 1;
	opterr = 0;
	while ((c = next_option("flatten", argc, argv, ":h", opts, &co, &rc)) != -1) {
		if (c == -2)
			goto out;
		switch (c) {
		case 'h': fputs(flatten_help, stdout); goto out;
		default: rc = option_error("flatten", c, argv); goto out;
		}
	}
	if (argc - optind != 2) {
		rc = usage_error("flatten", "flatten takes a directory and an output "
		    "file");
		goto out;
	}
	if ((rc = convert_opts_finish("flatten", &co)) ||
	    (rc = flat_opts_take("flatten", &co, NULL, &fo)))
		goto out;
	fo.output = argv[optind + 1];
	const char *reads[] = { argv[optind], co.spec.p12, co.spec.key,
	    co.spec.cert, co.spec.chain };
	if ((rc = refuse_overwrite(fo.output, reads, sizeof reads / sizeof *reads)))
		goto out;
	pkgflat_error_clear(&err);
	if (pkgflat_flatten(argv[optind], &fo, &err))
		rc = report_error(&err);
out:
	convert_opts_free(&co);
	free(opts);
	return rc;
}
