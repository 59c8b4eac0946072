/* pkgflat build: flat packages from files, as pkgbuild and productbuild
 * make them. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char build_help[] =
    "usage: pkgflat build --root DIR --identifier ID --version V\n"
    "                     [--install-location PATH] [--scripts DIR]\n"
    "                     [--ownership recommended|preserve] [signing] OUT.pkg\n"
    "       pkgflat build --distribution FILE [--package-path DIR]...\n"
    "                     [--resources DIR] [signing] OUT.pkg\n"
    "       pkgflat build --package PKG... [--title T] [--min-os V]\n"
    "                     [--resources DIR] [--synthesize] [signing] OUT\n"
    "\n"
    "The first form makes a component package, as pkgbuild --root does: the\n"
    "tree under DIR is the Payload (gzip'd odc cpio, symlinks kept as links,\n"
    "hard links as links, modes and times kept), with its Bom, and\n"
    "PackageInfo; --scripts DIR becomes the Scripts archive (its preinstall\n"
    "and postinstall are named in PackageInfo).\n"
    "\n"
    "The second makes a product archive, as productbuild --distribution\n"
    "does: the Distribution FILE, and each component package its pkg-refs\n"
    "name (\"#Foo.pkg\"), looked for in the --package-path directories (or\n"
    "beside FILE). --resources DIR, in both product forms, puts the files\n"
    "of DIR under Resources/ in the product, where the Distribution's\n"
    "<background>, <license>, <readme>, <welcome> and <conclusion> find\n"
    "them, as productbuild --resources does; a symlink in DIR is followed\n"
    "only to a file inside DIR.\n"
    "\n"
    "The third makes a product archive from component packages with a\n"
    "Distribution synthesized as productbuild --synthesize does: one choice\n"
    "per package, in the order given. With --synthesize only that\n"
    "Distribution is written, to OUT, for editing and the second form.\n"
    "\n"
    "options:\n"
    "  --root DIR               the files to install, as they lie under the\n"
    "                           install location\n"
    "  --identifier ID          the component's identifier (required)\n"
    "  --version V              the component's version (required)\n"
    "  --install-location PATH  where the root is installed (default /)\n"
    "  --scripts DIR            preinstall, postinstall and what they use\n"
    "  --ownership MODE         recommended (default: a packager's own\n"
    "                           account, uid 500 and up, becomes root, its\n"
    "                           staff or personal group wheel) or preserve;\n"
    "                           root: everything root:wheel\n"
    "  --distribution FILE      the product's Distribution\n"
    "  --package-path DIR       where its components are (repeatable)\n"
    "  --resources DIR          a product's Resources (background, license,\n"
    "                           readme, welcome, conclusion)\n"
    "  --package PKG            a component package (repeatable)\n"
    "  --component PKG          the same as --package\n"
    "  --title TEXT             the synthesized Distribution's title\n"
    "  --min-os VERSION         ...and its allowed-os-versions\n"
    "  --synthesize             write only the synthesized Distribution\n"
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
    "SOURCE_DATE_EPOCH, when set, fixes the creation time: building the same\n"
    "files twice gives byte-identical output. OUT appears only when complete\n"
    "and must not be an input or lie inside an input directory.\n"
    "\n"
    "exit status: 0 written, 2 usage error, 3 an input is unreadable or\n"
    "malformed (a Distribution naming a missing component), or OUT could\n"
    "not be written\n";

enum {
	O_ROOT = 1000, O_VERSION, O_LOCATION, O_SCRIPTS, O_DIST, O_PATH,
	O_PACKAGE, O_SYNTH, O_RESOURCES
};

static int push(const char ***v, size_t *n, const char *s)
{
	const char **w = realloc(*v, (*n + 1) * sizeof *w);

	if (!w)
		return -1;
	w[(*n)++] = s;
	*v = w;
	return 0;
}

static int write_distribution(const pkgflat_build_options *bo)
{
	pkgflat_error err;
	pkgflat_output *o;
	char *xml = NULL;
	size_t len = 0;

	pkgflat_error_clear(&err);
	if (pkgflat_build_synthesize(bo, &xml, &len, &err))
		return report_error(&err);
	FILE *f = output_fopen(bo->out.output, &o);
	if (!f) {
		free(xml);
		return EXIT_ERROR;
	}
	fwrite(xml, 1, len, f);
	free(xml);
	return output_fclose(f, o, bo->out.output);
}

int cmd_build(int argc, char **argv)
{
	static const struct option own[] = {
		{ "root", required_argument, NULL, O_ROOT },
		{ "version", required_argument, NULL, O_VERSION },
		{ "install-location", required_argument, NULL, O_LOCATION },
		{ "scripts", required_argument, NULL, O_SCRIPTS },
		{ "distribution", required_argument, NULL, O_DIST },
		{ "package-path", required_argument, NULL, O_PATH },
		{ "package", required_argument, NULL, O_PACKAGE },
		{ "component", required_argument, NULL, O_PACKAGE },
		{ "synthesize", no_argument, NULL, O_SYNTH },
		{ "resources", required_argument, NULL, O_RESOURCES },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const allowed[] = { "--identifier", "--title",
	    "--min-os", NULL };
	struct option *opts = options_table(own);
	struct convert_opts co;
	pkgflat_build_options bo;
	const char **paths = NULL, **pkgs = NULL;
	size_t npaths = 0, npkgs = 0;
	int c, rc = EXIT_OK, synth = 0;
	pkgflat_error err;

	convert_opts_init(&co);
	pkgflat_build_options_init(&bo);
	if (!opts) {
		fprintf(stderr, "%s build: out of memory\n", progname);
		return EXIT_ERROR;
	}
	optind = 1;
	opterr = 0;
	while ((c = next_option("build", argc, argv, ":h", opts, &co, &rc)) != -1) {
		if (c == -2)
			goto out;
		switch (c) {
		case O_ROOT: bo.root = optarg; break;
		case O_VERSION: bo.version = optarg; break;
		case O_LOCATION: bo.install_location = optarg; break;
		case O_SCRIPTS: bo.scripts = optarg; break;
		case O_DIST: bo.distribution = optarg; break;
		case O_SYNTH: synth = 1; break;
		case O_RESOURCES: bo.resources = optarg; break;
		case O_PATH:
		case O_PACKAGE:
			if (push(c == O_PATH ? &paths : &pkgs, c == O_PATH ? &npaths :
			    &npkgs, optarg)) {
				fprintf(stderr, "%s build: out of memory\n", progname);
				rc = EXIT_ERROR;
				goto out;
			}
			break;
		case 'h': fputs(build_help, stdout); goto out;
		default: rc = option_error("build", c, argv); goto out;
		}
	}
	int forms = !!bo.root + !!bo.distribution + !!npkgs;
	if (forms != 1) {
		rc = usage_error("build", forms ? "--root, --distribution and "
		    "--package make different things: give one of them" :
		    "give --root DIR, --distribution FILE or --package PKG");
		goto out;
	}
	if (argc - optind != 1) {
		rc = usage_error("build", optind == argc ? "no output file named" :
		    "one output file");
		goto out;
	}
	if (bo.root && (!co.opt.identifier || !bo.version)) {
		rc = usage_error("build", "--root needs --identifier and --version");
		goto out;
	}
	if (!bo.root && (co.opt.identifier || bo.version || bo.scripts ||
	    bo.install_location)) {
		rc = usage_error("build", "--identifier, --version, --scripts and "
		    "--install-location go with --root");
		goto out;
	}
	if (!npkgs && (synth || co.opt.title || co.opt.min_os)) {
		rc = usage_error("build", "--synthesize, --title and --min-os go "
		    "with --package");
		goto out;
	}
	if (bo.resources && (bo.root || synth)) {
		rc = usage_error("build", bo.root ? "--resources goes with a "
		    "product (--distribution or --package), not --root" :
		    "--synthesize writes only a Distribution: --resources does "
		    "not apply");
		goto out;
	}
	if (npaths && !bo.distribution) {
		rc = usage_error("build", "--package-path goes with --distribution");
		goto out;
	}
	if ((rc = convert_opts_finish("build", &co)) ||
	    (rc = flat_opts_take("build", &co, allowed, &bo.out)))
		goto out;
	bo.out.output = argv[optind];
	bo.identifier = co.opt.identifier;
	bo.title = co.opt.title;
	bo.min_os = co.opt.min_os;
	bo.package_paths = paths;
	bo.package_path_count = npaths;
	bo.packages = pkgs;
	bo.package_count = npkgs;
	const char *reads[] = { bo.root, bo.scripts, bo.distribution,
	    bo.resources, co.spec.p12, co.spec.key, co.spec.cert, co.spec.chain };
	if ((rc = refuse_overwrite(bo.out.output, reads,
	    sizeof reads / sizeof *reads)) ||
	    (rc = refuse_overwrite(bo.out.output, pkgs, npkgs)))
		goto out;
	if (synth) {
		if (co.sign) {
			rc = usage_error("build", "--synthesize writes a Distribution, "
			    "which is not signed");
			goto out;
		}
		rc = write_distribution(&bo);
		goto out;
	}
	pkgflat_error_clear(&err);
	if (bo.root ? pkgflat_build_component(&bo, &err) :
	    pkgflat_build_product(&bo, &err))
		rc = report_error(&err);
out:
	free(paths);
	free(pkgs);
	convert_opts_free(&co);
	free(opts);
	return rc;
}
