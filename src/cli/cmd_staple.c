/* pkgflat staple: attach or remove a notarization ticket. */
#include <getopt.h>
#include <string.h>

#include "cli.h"

static const char staple_help[] =
    "usage: pkgflat staple --ticket FILE PKG\n"
    "       pkgflat staple --remove PKG\n"
    "       pkgflat staple --fetch [--ticket-wait=SECONDS] [--ticket-url URL]\n"
    "                      [--ca-file FILE] PKG\n"
    "\n"
    "Attach a notarization ticket (as Apple's notary service hands it out)\n"
    "to a signed flat package, in the trailer format stapler writes after\n"
    "the heap, replacing a ticket already there; or remove it. No hash\n"
    "covers the trailer, so the signatures stay valid. PKG is replaced only\n"
    "when the new file is complete (through a symlink: its file); FILE may\n"
    "not be PKG. 'pkgflat info PKG' shows the ticket and\n"
    "the lookup key the notary service files it under.\n"
    "\n"
    "--fetch looks the ticket up as stapler does (Apple's ticket lookup, under\n"
    "the record of PKG's TOC checksum; for up to --ticket-wait seconds while\n"
    "it is not published, 0 by default), staples it and checks the result; no\n"
    "API key is needed. A package whose files no longer match its TOC is\n"
    "refused. The URL and CA file also come from PKGFLAT_TICKET_URL and\n"
    "PKGFLAT_CA_FILE (see pkgflat notarize --help).\n"
    "\n"
    "--remove on a package without a ticket changes nothing, says so on\n"
    "stderr and exits 0, so that it can be run on any package (stapler has no\n"
    "removal; like 'rm -f', the wanted state is reached).\n"
    "\n"
    "options:\n"
    "  -v, --verbose  say what was attached or removed\n"
    "  -q, --quiet    print nothing but errors\n"
    "\n"
    "exit status: 0 done (or no ticket to remove), 2 usage error, 3\n"
    "unreadable or malformed package or ticket, or (--fetch) no ticket\n"
    "published, a lookup that failed\n";

int cmd_staple(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ticket", required_argument, NULL, 't' },
		{ "remove", no_argument, NULL, 'r' },
		UI_OPTIONS,
		{ "fetch", no_argument, NULL, 'f' },
		{ "ticket-wait", required_argument, NULL, 'w' },
		{ "ticket-url", required_argument, NULL, 'u' },
		{ "ca-file", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ticket = NULL;
	const char *ticket_url = NULL, *ca_file = NULL;
	int remove = 0, fetch = 0, ticket_wait = 0, c;
	long w;
	char *end;
	pkgflat_error err;
	struct ui u = UI_INIT;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vqh", opts, NULL)) != -1) {
		if (ui_option(c, &u))
			continue;
		switch (c) {
		case 't': ticket = optarg; break;
		case 'r': remove = 1; break;
		case 'f': fetch = 1; break;
		case 'u': ticket_url = optarg; break;
		case 'c': ca_file = optarg; break;
		case 'w':
			w = strtol(optarg, &end, 10);
			if (!*optarg || *end || w < 0 || w > 86400)
				return usage_error("staple", "--ticket-wait wants a "
				    "number of seconds (0 to 86400), not '%s'", optarg);
			ticket_wait = (int)w;
			break;
		case 'h': fputs(staple_help, stdout); return EXIT_OK;
		default:
			return option_error_table("staple", c, argv, opts);
		}
	}
	if (optind != argc - 1)
		return usage_error("staple", optind == argc ? "no package named" :
		    "one package at a time");
	if (!!ticket + remove + fetch != 1)
		return usage_error("staple", "give one of --ticket FILE, --remove "
		    "and --fetch");
	if (!fetch && (ticket_url || ca_file || ticket_wait))
		return usage_error("staple", "--ticket-wait, --ticket-url and "
		    "--ca-file go with --fetch");
	if (fetch)
		return staple_fetch(argv[optind], ticket_wait, ticket_url, ca_file);
	pkgflat_error_clear(&err);
	pkgflat_flat_info info;
	int had_ticket = !remove || pkgflat_flat_inspect(argv[optind], &info,
	    &err) || info.stapled;
	pkgflat_error_clear(&err);
	if (pkgflat_staple(argv[optind], ticket, &err))
		return report_error(&err);
	if (!had_ticket)
		say(&u, NULL, "%s: no stapled ticket to remove; nothing changed",
		    argv[optind]);
	else
		verbose(&u, NULL, "%s: %s", argv[optind], remove ?
		    "ticket removed" : "ticket stapled");
	return EXIT_OK;
}
