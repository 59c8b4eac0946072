/* pkgflat diff: do two packages install the same thing? */
#include <getopt.h>
#include <string.h>

#include "cli.h"

static const char diff_help[] =
    "usage: pkgflat diff [options] A B\n"
    "\n"
    "Compare what two packages install. A and B are each a legacy bundle\n"
    "(.pkg/.mpkg directory, a zip/tar of one, or a disk image holding one,\n"
    "whose checksums are checked first), a flat product or component\n"
    "package, or a directory expanded from one.\n"
    "\n"
    "Components are matched by identifier. For each pair pkgflat compares the\n"
    "installed files (install location joined with the payload path): type,\n"
    "mode, uid, gid, mtime, size, SHA-256 of the content, symlink target,\n"
    "hard-link groups and device numbers; each side's BOM against its own\n"
    "payload ('within A', 'within B'); and the metadata that changes how\n"
    "Installer installs: identifier, version, install location, auth,\n"
    "restart action, selection, required, relocatable, requirement checks and\n"
    "scripts (a legacy package's scripts against the originals a converted\n"
    "flat package keeps and calls: byte for byte).\n"
    "\n"
    "A is the reference: disagreements inside A alone (its BOM against its\n"
    "payload) are reported as notes but do not make the packages differ;\n"
    "inside B they do, unless A has the very same one.\n"
    "\n"
    "Each difference is one line, A's value first:\n"
    "  changed mode 0644 -> 0664: /Library/Frameworks/Python.framework/...\n"
    "  removed file: PATH       (A installs it, B does not)\n"
    "  added symlink: PATH      (B installs it, A does not)\n"
    "\n"
    "options:\n"
    "  --map OLD=NEW    treat component OLD in A as component NEW in B\n"
    "                   (repeatable)\n"
    "  --ignore LIST    leave out, comma-separated: mtime, owner, mode,\n"
    "                   content, links, bom, scripts, version, checks\n"
    "  --ownership MODE the ownership policy a conversion between the two\n"
    "                   followed (recommended, preserve, root): owners it\n"
    "                   changed that way are one note, not differences.\n"
    "                   Without it, a pkgflat-made flat side says which\n"
    "  --only WHAT      compare only 'payload' (installed files and BOMs) or\n"
    "                   'metadata' (everything else)\n"
    "  --max N          show at most N differences per component (default 20;\n"
    "                   0: all); --json always has all\n"
    "  --json           print one JSON object with every difference\n"
    "  --select PATH    the package on a disk image to compare (as 'pkgflat\n"
    "                   info IMAGE' lists them)\n"
    "  --html FILE      also write a self-contained HTML report: the\n"
    "                   differences grouped by component, A's and B's values\n"
    "                   side by side, in sortable tables\n"
    UI_OPTIONS_HELP
    "                   (-q: nothing printed; the exit status tells)\n"
    "  -h, --help       show this help\n"
    "\n"
    "exit status: 0 equivalent, 1 different, 2 usage error, 3 unreadable or\n"
    "malformed input\n";

static void print_diff(const pkgflat_difference *d)
{
	char buf[8192];

	print_text(stdout, pkgflat_difference_text(d, buf, sizeof buf));
	putchar('\n');
}

static void json_diff(json *j, const pkgflat_difference *d)
{
	json_begin_object(j, NULL);
	json_string(j, "component", d->component);
	json_string(j, "category", d->category);
	json_string(j, "change", d->change);
	json_string(j, "attribute", d->attribute);
	json_string(j, "path", d->path);
	json_string(j, "a", d->a);
	json_string(j, "b", d->b);
	json_bool(j, "inherited", d->inherited);
	json_end_object(j);
}

static int report(const char *pa, const char *pb, pkgflat_diff_result *r,
    int as_json, long max)
{
	size_t n = pkgflat_diff_count(r), np = pkgflat_diff_pair_count(r);
	size_t k = 0;
	int same = pkgflat_diff_equivalent(r);

	if (as_json) {
		json j = { .f = stdout };
		json_begin_object(&j, NULL);
		json_string(&j, "a", pa);
		json_string(&j, "b", pb);
		json_bool(&j, "equivalent", same);
		json_uint(&j, "differences", n);
		json_begin_array(&j, "components");
		for (size_t i = 0; i < np; i++) {
			const pkgflat_diff_pair *p = pkgflat_diff_pair_get(r, i);
			json_begin_object(&j, NULL);
			json_string(&j, "a", p->a);
			json_string(&j, "b", p->b);
			json_uint(&j, "entries_a", p->entries_a);
			json_uint(&j, "entries_b", p->entries_b);
			json_uint(&j, "differences", p->differences);
			json_uint(&j, "notes", p->notes);
			json_end_object(&j);
		}
		json_end_array(&j);
		json_begin_array(&j, "list");
		for (size_t i = 0; i < n; i++)
			json_diff(&j, pkgflat_diff_get(r, i));
		json_end_array(&j);
		json_end_object(&j);
		json_finish(&j);
		return same ? EXIT_OK : EXIT_NEGATIVE;
	}
	/* Differences come grouped by pair, in pair order. */
	for (size_t i = 0; i < np; i++) {
		const pkgflat_diff_pair *p = pkgflat_diff_pair_get(r, i);
		fputs("component ", stdout);
		print_text(stdout, p->a ? p->a : p->b);
		if (p->a && p->b && strcmp(p->a, p->b)) {
			fputs(" = ", stdout);
			print_text(stdout, p->b);
		}
		if (p->a && p->b && (p->entries_a || p->entries_b))
			printf(": %llu / %llu entries", (unsigned long long)p->entries_a,
			    (unsigned long long)p->entries_b);
		if (!p->differences) {
			puts(", equivalent");
			continue;
		}
		if (p->differences == p->notes)
			printf(", equivalent; %llu note%s\n",
			    (unsigned long long)p->notes, p->notes == 1 ? "" : "s");
		else
			printf(", %llu difference%s\n",
			    (unsigned long long)(p->differences - p->notes),
			    p->differences - p->notes == 1 ? "" : "s");
		for (uint64_t m = 0; m < p->differences && k < n; m++, k++) {
			if (max > 0 && m == (uint64_t)max) {
				printf("  ... and %llu more (see --json)\n",
				    (unsigned long long)(p->differences - m));
				k += p->differences - m;
				break;
			}
			fputs("  ", stdout);
			print_diff(pkgflat_diff_get(r, k));
		}
	}
	size_t notes = 0;
	for (size_t i = 0; i < np; i++)
		notes += pkgflat_diff_pair_get(r, i)->notes;
	if (!same)
		printf("%zu difference%s: the packages install different things\n",
		    n - notes, n - notes == 1 ? "" : "s");
	else if (n)
		printf("equivalent: the packages install the same things (%zu "
		    "note%s)\n", notes, notes == 1 ? "" : "s");
	else
		puts("equivalent: the packages install the same things");
	return same ? EXIT_OK : EXIT_NEGATIVE;
}

static int parse_ignore(const char *list, unsigned int *bits)
{
	char buf[256];
	char *save = NULL;

	if (strlen(list) >= sizeof buf)
		return usage_error("diff", "--ignore list too long");
	strcpy(buf, list);
	for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		unsigned int b = pkgflat_diff_ignore_bit(w);
		if (!b)
			return usage_error("diff", "--ignore: unknown item '%s'", w);
		*bits |= b;
	}
	return EXIT_OK;
}

int cmd_diff(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "map", required_argument, NULL, 'm' },
		{ "ignore", required_argument, NULL, 'i' },
		{ "only", required_argument, NULL, 'o' },
		{ "ownership", required_argument, NULL, 'O' },
		{ "max", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "select", required_argument, NULL, 's' },
		{ "html", required_argument, NULL, 'H' },
		UI_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	pkgflat_diff_options o = { 0 };
	const char *select = NULL;
	const char *map[64];
	int as_json = 0, c, rc;
	long max = 20;
	char *end;
	const char *html = NULL;
	struct ui u = UI_INIT;
	struct progress prog;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vqh", opts, NULL)) != -1) {
		if (ui_option(c, &u))
			continue;
		switch (c) {
		case 'm':
			if (o.map_count == sizeof map / sizeof *map)
				return usage_error("diff", "too many --map options");
			if (!strchr(optarg, '=') || optarg[0] == '=' ||
			    !strchr(optarg, '=')[1])
				return usage_error("diff", "--map wants OLD=NEW, not '%s'",
				    optarg);
			map[o.map_count++] = optarg;
			break;
		case 'i':
			if ((rc = parse_ignore(optarg, &o.ignore)))
				return rc;
			break;
		case 'o':
			if (!strcmp(optarg, "payload"))
				o.only = PKGFLAT_DIFF_ONLY_PAYLOAD;
			else if (!strcmp(optarg, "metadata"))
				o.only = PKGFLAT_DIFF_ONLY_METADATA;
			else
				return usage_error("diff", "--only wants payload or "
				    "metadata, not '%s'", optarg);
			break;
		case 'O':
			if (pkgflat_ownership_from_name(optarg) < 0)
				return usage_error("diff", "--ownership takes recommended, "
				    "preserve or root, not '%s'", optarg);
			o.ownership_given = 1;
			o.ownership = (enum pkgflat_ownership)
			    pkgflat_ownership_from_name(optarg);
			break;
		case 'n':
			max = strtol(optarg, &end, 10);
			if (*end || end == optarg || max < 0)
				return usage_error("diff", "--max wants a number, not '%s'",
				    optarg);
			break;
		case 'j': as_json = 1; break;
		case 's': select = optarg; break;
		case 'H': html = optarg; break;
		case 'h': fputs(diff_help, stdout); return EXIT_OK;
		default:
			return option_error_table("diff", c, argv, opts);
		}
	}
	if (argc - optind != 2)
		return usage_error("diff", "two packages to compare, A and B");
	o.map = map;
	const char *reads[] = { argv[optind], argv[optind + 1] };
	if ((rc = refuse_overwrite(html, reads, 2)))
		return rc;
	progress_init(&prog, "diff", u.quiet ? 0 : u.progress);
	o.progress = progress_cb;
	o.progress_ctx = &prog;

	pkgflat_package *a = NULL, *b = NULL;
	pkgflat_diff_result *r = NULL;
	pkgflat_error err;
	/* A disk image: its checksums first; --select picks its package. */
	const char *member[2] = { NULL, NULL };
	for (int i = 0; i < 2; i++)
		if (pkgflat_file_is_image(argv[optind + i])) {
			if ((rc = image_verify(argv[optind + i], NULL)))
				return rc;
			member[i] = select;
		}
	if (select && !member[0] && !member[1])
		return usage_error("diff", "--select picks a package on a disk "
		    "image, and neither A nor B is one");
	pkgflat_error_clear(&err);
	if (pkgflat_package_open_member(argv[optind], member[0], &a, &err) ||
	    pkgflat_package_open_member(argv[optind + 1], member[1], &b, &err) ||
	    pkgflat_diff(a, b, &o, &r, &err)) {
		progress_end(&prog);
		rc = report_error(&err);
		goto out;
	}
	progress_end(&prog);
	verbose(&u, NULL, "%zu component pair%s compared, %zu difference%s "
	    "and notes in all", pkgflat_diff_pair_count(r),
	    pkgflat_diff_pair_count(r) == 1 ? "" : "s", pkgflat_diff_count(r),
	    pkgflat_diff_count(r) == 1 ? "" : "s");
	rc = pkgflat_diff_equivalent(r) ? EXIT_OK : EXIT_NEGATIVE;
	if (!u.quiet)
		rc = report(argv[optind], argv[optind + 1], r, as_json, max);
	if (html) {
		int hrc = html_diff_write(html, argv[optind], argv[optind + 1], r);
		if (hrc)
			rc = hrc;
	}
out:
	pkgflat_diff_result_free(r);
	pkgflat_package_free(a);
	pkgflat_package_free(b);
	return rc;
}
