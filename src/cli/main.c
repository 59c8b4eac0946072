/* pkgflat: the command table and what all commands share. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "info", cmd_info, "describe a package: legacy bundle (or a zip/tar of one), or flat" },
	{ "ls", cmd_ls, "list the files a package installs, from its BOM or its payload" },
	{ "convert", cmd_convert, "turn a legacy package into a flat product archive" },
	{ "sign", cmd_sign, "sign or re-sign a flat package as productsign does" },
	{ "staple", cmd_staple, "attach or remove a notarization ticket" },
	{ "diff", cmd_diff, "compare what two packages install, legacy or flat" },
	{ "verify", cmd_verify, "check a flat package's structure, checksums and signatures" },
	{ "batch", cmd_batch, "convert many legacy packages, in parallel, with a report" },
};

static void usage(FILE *f)
{
	fprintf(f,
	    "usage: %s <command> [options] [args]\n"
	    "       %s --help | --version\n"
	    "\n"
	    "Read legacy macOS bundle installer packages and turn them into flat\n"
	    "product archives, on any machine.\n"
	    "\n"
	    "commands:\n", progname, progname);
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
	    "\n"
	    "Run '%s <command> --help' for the options of a command.\n"
	    "\n"
	    "exit status:\n"
	    "  0  success\n"
	    "  1  a negative answer (a check failed, packages differ)\n"
	    "  2  usage error (bad option or argument)\n"
	    "  3  any other error (unreadable or malformed input, i/o failure)\n",
	    progname);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr), EXIT_USAGE;
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		if (!strcmp(argv[1], "help") && argc > 2) {
			char *sub[] = { argv[2], (char *)"--help", NULL };
			for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
				if (!strcmp(argv[2], commands[i].name))
					return commands[i].fn(2, sub);
			return usage_error(NULL, "unknown command '%s'", argv[2]);
		}
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("pkgflat %s\n", PKGFLAT_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	if (argv[1][0] == '-')
		return usage_error(NULL, "unknown option '%s'", argv[1]);
	return usage_error(NULL, "unknown command '%s'", argv[1]);
}
