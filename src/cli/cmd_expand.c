/* pkgflat expand: a flat package's members into a new directory. */
#include <getopt.h>
#include <string.h>

#include "cli.h"

static const char expand_help[] =
    "usage: pkgflat expand [--full] PKG DIR\n"
    "\n"
    "Write the members of the flat package PKG into the new directory DIR,\n"
    "as pkgutil --expand does: Distribution and Resources of a product\n"
    "archive, and each component as a directory with PackageInfo, Bom,\n"
    "Payload and Scripts (a component package has those at the top).\n"
    "Edit what you need and turn it back into a package with\n"
    "'pkgflat flatten DIR OUT.pkg'.\n"
    "\n"
    "options:\n"
    "  --full                   extract each Payload and Scripts into a\n"
    "                           directory of that name, as pkgutil\n"
    "                           --expand-full does: modes and times kept,\n"
    "                           owners too when run as root (flatten takes\n"
    "                           owners from the component's Bom otherwise);\n"
    "                           cpio, tar, pbzx and Apple Archive payloads\n"
    "                           are read; what Linux cannot keep (extended\n"
    "                           attributes, ACLs, file flags; LZFSE chunks)\n"
    "                           is refused by name\n"
    "  -h, --help               show this help\n"
    "\n"
    "DIR must not exist; it appears only complete. Nothing is written\n"
    "outside it, and no symlink is ever followed: a payload path whose\n"
    "parent is a symlink, or that climbs out with \"..\", is an error.\n"
    "\n"
    "exit status: 0 expanded, 2 usage error (also: DIR exists), 3 PKG is\n"
    "unreadable or malformed, or DIR could not be written\n";

int cmd_expand(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "full", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	pkgflat_expand_options eo = { 0 };
	pkgflat_error err;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': eo.full = 1; break;
		case 'h': fputs(expand_help, stdout); return EXIT_OK;
		default: return option_error("expand", c, argv);
		}
	}
	if (argc - optind != 2)
		return usage_error("expand", argc - optind < 2 ?
		    "expand takes a package and a new directory" :
		    "one package and one directory");
	pkgflat_error_clear(&err);
	if (pkgflat_expand(argv[optind], argv[optind + 1], &eo, &err))
		return report_error(&err);
	return EXIT_OK;
}
