/* pkgflat info: what a package is and what it would install. */
#include <getopt.h>
#include <string.h>

#include "cli.h"

static const char info_help[] =
    "usage: pkgflat info [--json] [--no-scan] [--select PATH] PACKAGE\n"
    "\n"
    "Describe a package: a legacy bundle (a Foo.pkg or Foo.mpkg directory, or\n"
    "a .zip, .tar, .tar.gz or .tgz holding one), a flat product archive or\n"
    "component package (read in place, not unpacked), or a directory\n"
    "expanded from one (pkgutil --expand, xar -x). A flat package file also\n"
    "shows its TOC checksum, signatures, signer and stapled ticket (checking\n"
    "them is verify's job).\n"
    "\n"
    "A disk image (.dmg, .dmg.gz, raw; HFS+ volumes behind no map, an APM or\n"
    "a GPT) shows its kind, run codecs, partitions and volumes, every package\n"
    "on it (bundles, flat packages, and those on images stored on it, as\n"
    "IMAGE//PATH), and what a flat package cannot carry over: resource forks,\n"
    "Finder info, extended attributes, aliases. --select PATH describes one\n"
    "of its packages instead.\n"
    "\n"
    "For every component: identifier, version, install location, auth,\n"
    "restart action, flags, selection, scripts, resources, localizations,\n"
    "requirement checks, payload format, entry counts and installed size,\n"
    "and the BOM. Warnings list what is odd but not fatal: unknown keys,\n"
    "non-standard values, a BOM that disagrees with its payload.\n"
    "\n"
    "options:\n"
    "  --json      print one JSON object instead of text\n"
    "  --no-scan   do not read payloads and BOMs (faster; no counts, no\n"
    "              BOM/payload cross-check)\n"
    "  --select PATH  the package on a disk image to describe\n"
    "  -v, --verbose  also say on standard error how the input was read\n"
    "  -q, --quiet    print nothing: the exit status tells whether it reads\n"
    "%s"
    "  -h, --help  show this help\n"
    "\n"
    "exit status: 0 ok, 2 usage error, 3 unreadable or malformed package\n";

static const char *yesno(int v)
{
	return v < 0 ? "-" : v ? "yes" : "no";
}

static void text_field(const char *label, const char *v)
{
	printf("  %-26s ", label);
	print_text(stdout, v ? v : "-");
	putchar('\n');
}

static void text_bundle(const pkgflat_component *b, int scanned,
    const pkgflat_binaries *bins)
{
	static const enum pkgflat_field fields[] = {
		PKGFLAT_F_PATH, PKGFLAT_F_IDENTIFIER, PKGFLAT_F_VERSION,
		PKGFLAT_F_TITLE, PKGFLAT_F_INSTALL_LOCATION, PKGFLAT_F_AUTH,
		PKGFLAT_F_RESTART, PKGFLAT_F_SELECTION,
	};
	enum pkgflat_bundle_kind kind = pkgflat_component_kind(b);

	printf("%s ", pkgflat_component_kind_name(kind));
	print_text(stdout, pkgflat_component_get(b, PKGFLAT_F_NAME));
	putchar('\n');
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
		const char *v = pkgflat_component_get(b, fields[i]);
		if (fields[i] == PKGFLAT_F_SELECTION && !v)
			continue;
		if (fields[i] == PKGFLAT_F_INSTALL_LOCATION && !v &&
		    pkgflat_component_is_leaf(b))
			v = "/ (default)";
		text_field(pkgflat_field_name(fields[i]), v);
	}
	for (int f = 0; f < PKGFLAT_FLAG_COUNT_; f++)
		text_field(pkgflat_flag_name(f), yesno(pkgflat_component_flag(b, f)));
	if (pkgflat_component_get(b, PKGFLAT_F_CREATOR))
		text_field("creator", pkgflat_component_get(b, PKGFLAT_F_CREATOR));
	if (pkgflat_component_get(b, PKGFLAT_F_COMPONENT_DIRECTORY))
		text_field("component-directory",
		    pkgflat_component_get(b, PKGFLAT_F_COMPONENT_DIRECTORY));
	if (pkgflat_component_get(b, PKGFLAT_F_DIST_FILE))
		text_field("distribution-script",
		    pkgflat_component_get(b, PKGFLAT_F_DIST_FILE));
	if (pkgflat_component_get(b, PKGFLAT_F_BACKGROUND_ALIGNMENT) ||
	    pkgflat_component_get(b, PKGFLAT_F_BACKGROUND_SCALING)) {
		text_field("background-alignment",
		    pkgflat_component_get(b, PKGFLAT_F_BACKGROUND_ALIGNMENT));
		text_field("background-scaling",
		    pkgflat_component_get(b, PKGFLAT_F_BACKGROUND_SCALING));
	}

	printf("  %-26s", "scripts");
	int any = 0;
	for (int s = 0; s < PKGFLAT_SCRIPT_COUNT_; s++)
		if (pkgflat_component_script(b, s)) {
			/* A 10.0/10.1 file ("Foo.post_install") says so. */
			const char *f = strrchr(pkgflat_component_script(b, s), '/');
			f = f ? f + 1 : pkgflat_component_script(b, s);
			printf(" %s", pkgflat_script_name(s));
			if (strcmp(f, pkgflat_script_name(s))) {
				fputs(" (", stdout);
				print_text(stdout, f);
				putchar(')');
			}
			any = 1;
		}
	printf("%s\n", any ? "" : " -");

	printf("  %-26s", "localizations");
	for (size_t i = 0; i < pkgflat_component_localization_count(b); i++) {
		putchar(' ');
		print_text(stdout, pkgflat_component_localization(b, i));
	}
	printf("%s\n", pkgflat_component_localization_count(b) ? "" : " -");

	size_t nr = pkgflat_component_resource_count(b);
	printf("  %-26s %zu\n", "resources", nr);
	for (size_t i = 0; i < nr; i++) {
		const pkgflat_resource *r = pkgflat_component_resource(b, i);
		printf("    %-15s %-28s %10llu  ", r->role,
		    r->is_dir ? (r->mime ? r->mime : "directory") :
		    r->mime ? r->mime : "-", (unsigned long long)r->size);
		print_text(stdout, r->path);
		if (r->link_target) {
			fputs(" -> ", stdout);
			print_text(stdout, r->link_target);
		}
		putchar('\n');
	}

	size_t nq = pkgflat_component_requirement_count(b);
	printf("  %-26s %zu\n", "requirements", nq);
	for (size_t i = 0; i < nq; i++) {
		const pkgflat_requirement *q = pkgflat_component_requirement(b, i);
		printf("    %s %s", q->level ? q->level : "?",
		    q->spec_type ? q->spec_type : "?");
		printf(" %s", q->spec_argument ? q->spec_argument : "-");
		printf(" %s", q->spec_property ? q->spec_property : "-");
		printf(" %s", q->test_operator ? q->test_operator : "-");
		printf(" \"%s\"\n", q->test_object ? q->test_object : "");
	}

	size_t ns = pkgflat_component_string_count(b);
	if (ns) {
		printf("  %-26s %zu\n", "check-messages", ns);
		for (size_t i = 0; i < ns; i++) {
			const pkgflat_string *s = pkgflat_component_string(b, i);
			printf("    %s%s%s \"", s->table, s->lang ? " " : "",
			    s->lang ? s->lang : "");
			print_text(stdout, s->key);
			fputs("\" = \"", stdout);
			print_text(stdout, s->value);
			fputs("\"\n", stdout);
		}
	}

	if (!pkgflat_component_is_leaf(b)) {
		printf("  %-26s %zu\n", "packages", pkgflat_component_child_count(b));
		return;
	}
	int64_t claimed = pkgflat_component_claimed_kbytes(b);
	if (claimed >= 0)
		printf("  %-26s %lld KiB\n", "claimed-size", (long long)claimed);
	const pkgflat_payload_stats *ps = pkgflat_component_payload_stats(b);
	if (!pkgflat_component_has_payload(b))
		printf("  %-26s none\n", "payload");
	else if (!scanned || !ps)
		text_field("payload", pkgflat_component_get(b, PKGFLAT_F_PAYLOAD_PATH));
	else {
		printf("  %-26s ", "payload");
		print_text(stdout, pkgflat_component_get(b, PKGFLAT_F_PAYLOAD_PATH));
		printf(" (%s, %s)\n", ps->format, ps->compression);
		if (ps->unread)
			printf("  %-26s not read (%s, %s: no decoder here)\n",
			    "entries", ps->format, ps->compression);
		else {
			printf("  %-26s %llu (%llu files, %llu directories, %llu symlinks, "
			    "%llu hard links, %llu other)\n", "entries",
			    (unsigned long long)ps->entries, (unsigned long long)ps->files,
			    (unsigned long long)ps->dirs, (unsigned long long)ps->symlinks,
			    (unsigned long long)ps->hardlinks, (unsigned long long)ps->others);
			printf("  %-26s %llu KiB (%llu bytes)\n", "installed-size",
			    (unsigned long long)ps->install_kbytes,
			    (unsigned long long)ps->file_bytes);
			printf("  %-26s %s\n", "payload-layout",
			    ps->has_dot_root && ps->entries == 1 ? "only \".\"" :
			    ps->has_dot_root && ps->dot_slash_names ?
			    "\".\" first, \"./\" names" : ps->has_dot_root ?
			    "\".\" first, bare names" : "no \".\" entry");
		}
	}
	const pkgflat_bom_stats *bs = pkgflat_component_bom_stats(b);
	if (!pkgflat_component_has_bom(b))
		printf("  %-26s none\n", "bom");
	else if (!scanned || !bs)
		text_field("bom", pkgflat_component_get(b, PKGFLAT_F_BOM_PATH));
	else {
		printf("  %-26s ", "bom");
		print_text(stdout, pkgflat_component_get(b, PKGFLAT_F_BOM_PATH));
		printf(" (%u paths, %u hard-link sets)\n", bs->paths,
		    bs->hardlink_sets);
	}
	if (bins)
		binaries_text(bins, pkgflat_component_identifier(b));
}

static void text_tree(const pkgflat_component *b, int depth, int scanned,
    const pkgflat_binaries *bins)
{
	if (depth)
		putchar('\n');
	text_bundle(b, scanned, bins);
	for (size_t i = 0; i < pkgflat_component_child_count(b); i++)
		text_tree(pkgflat_component_child(b, i), depth + 1, scanned, bins);
}

static void json_bundle(json *j, const char *key, const pkgflat_component *b,
    int scanned, const pkgflat_binaries *bins)
{
	enum pkgflat_bundle_kind kind = pkgflat_component_kind(b);

	json_begin_object(j, key);
	json_string(j, "kind", pkgflat_component_kind_name(kind));
	for (int f = 0; f < PKGFLAT_F_COUNT_; f++)
		json_string(j, pkgflat_field_name(f), pkgflat_component_get(b, f));
	json_begin_object(j, "flags");
	for (int f = 0; f < PKGFLAT_FLAG_COUNT_; f++)
		json_bool(j, pkgflat_flag_name(f), pkgflat_component_flag(b, f));
	json_end_object(j);
	json_begin_object(j, "scripts");
	for (int s = 0; s < PKGFLAT_SCRIPT_COUNT_; s++)
		if (pkgflat_component_script(b, s))
			json_string(j, pkgflat_script_name(s), pkgflat_component_script(b, s));
	json_end_object(j);
	json_begin_array(j, "localizations");
	for (size_t i = 0; i < pkgflat_component_localization_count(b); i++)
		json_string(j, NULL, pkgflat_component_localization(b, i));
	json_end_array(j);
	json_begin_array(j, "resources");
	for (size_t i = 0; i < pkgflat_component_resource_count(b); i++) {
		const pkgflat_resource *r = pkgflat_component_resource(b, i);
		json_begin_object(j, NULL);
		json_string(j, "path", r->path);
		json_string(j, "lang", r->lang);
		json_string(j, "role", r->role);
		json_string(j, "mime", r->mime);
		json_bool(j, "directory", r->is_dir);
		json_uint(j, "size", r->size);
		if (r->link_target)
			json_string(j, "link", r->link_target);
		json_end_object(j);
	}
	json_end_array(j);
	json_begin_array(j, "requirements");
	for (size_t i = 0; i < pkgflat_component_requirement_count(b); i++) {
		const pkgflat_requirement *q = pkgflat_component_requirement(b, i);
		json_begin_object(j, NULL);
		json_string(j, "level", q->level);
		json_string(j, "spec-type", q->spec_type);
		json_string(j, "spec-argument", q->spec_argument);
		json_string(j, "spec-property", q->spec_property);
		json_string(j, "test-operator", q->test_operator);
		json_string(j, "test-object", q->test_object);
		json_string(j, "label-key", q->label_key);
		json_string(j, "title-key", q->title_key);
		json_string(j, "message-key", q->message_key);
		json_end_object(j);
	}
	json_end_array(j);
	json_begin_array(j, "check-messages");
	for (size_t i = 0; i < pkgflat_component_string_count(b); i++) {
		const pkgflat_string *s = pkgflat_component_string(b, i);
		json_begin_object(j, NULL);
		json_string(j, "table", s->table);
		json_string(j, "lang", s->lang);
		json_string(j, "key", s->key);
		json_string(j, "value", s->value);
		json_end_object(j);
	}
	json_end_array(j);
	if (pkgflat_component_is_leaf(b)) {
		int64_t claimed = pkgflat_component_claimed_kbytes(b);
		if (claimed >= 0)
			json_int(j, "claimed-kbytes", claimed);
		else
			json_string(j, "claimed-kbytes", NULL);
		const pkgflat_payload_stats *ps = pkgflat_component_payload_stats(b);
		if (scanned && ps) {
			json_begin_object(j, "payload");
			json_string(j, "format", ps->format);
			json_string(j, "compression", ps->compression);
			json_bool(j, "read", !ps->unread);
			json_uint(j, "entries", ps->entries);
			json_uint(j, "files", ps->files);
			json_uint(j, "directories", ps->dirs);
			json_uint(j, "symlinks", ps->symlinks);
			json_uint(j, "hardlinks", ps->hardlinks);
			json_uint(j, "others", ps->others);
			json_uint(j, "file-bytes", ps->file_bytes);
			json_uint(j, "install-kbytes", ps->install_kbytes);
			json_bool(j, "dot-root", ps->has_dot_root);
			json_bool(j, "dot-slash-names", ps->dot_slash_names);
			json_end_object(j);
		} else
			json_bool(j, "payload", pkgflat_component_has_payload(b) ? -1 : 0);
		if (bins)
			binaries_json_component(j, bins, pkgflat_component_identifier(b));
		const pkgflat_bom_stats *bs = pkgflat_component_bom_stats(b);
		if (scanned && bs) {
			json_begin_object(j, "bom");
			json_uint(j, "paths", bs->paths);
			json_uint(j, "info-paths", bs->info_paths);
			json_uint(j, "hardlink-sets", bs->hardlink_sets);
			json_uint(j, "size64-entries", bs->size64_entries);
			json_uint(j, "vindex-entries", bs->vindex_entries);
			json_uint(j, "file-bytes", bs->file_bytes);
			json_end_object(j);
		} else
			json_bool(j, "bom", pkgflat_component_has_bom(b) ? -1 : 0);
	} else {
		json_begin_array(j, "packages");
		for (size_t i = 0; i < pkgflat_component_child_count(b); i++)
			json_bundle(j, NULL, pkgflat_component_child(b, i), scanned,
			    bins);
		json_end_array(j);
	}
	json_end_object(j);
}

/* A flat package file: what its header and TOC say (verify checks it). */
static void flat_header(const pkgflat_flat_info *p, json *j)
{
	static const char *const algs[] = { "none", "sha1", "md5", "sha256",
	    "sha512" };
	pkgflat_flat_info fi = *p;
	const char *a = fi.toc_checksum < 5 ? algs[fi.toc_checksum] : "unknown";
	const char *sig = fi.has_rsa && fi.has_cms ? "RSA and CMS" : fi.has_rsa ?
	    "RSA only" : fi.has_cms ? "CMS only" : "none";
	if (j) {
		json_begin_object(j, "flat");
		json_string(j, "kind", fi.product ? "flat product" :
		    "flat component");
		json_string(j, "toc-checksum", a);
		json_uint(j, "files", fi.files);
		json_string(j, "signatures", sig);
		json_uint(j, "certificates", (unsigned long long)fi.certs);
		json_string(j, "signer", fi.certs ? fi.signer : NULL);
		json_uint(j, "trailing-bytes", fi.trailing);
		json_bool(j, "stapled", fi.stapled);
		if (fi.stapled)
			json_uint(j, "ticket-bytes", fi.ticket_length);
		json_string(j, "ticket-key", fi.ticket_key[0] ? fi.ticket_key : NULL);
		json_end_object(j);
		return;
	}
	printf("  %-26s %s\n", "kind", fi.product ? "flat product archive" :
	    "flat component package");
	printf("  %-26s %s\n", "toc-checksum", a);
	printf("  %-26s %llu\n", "files", (unsigned long long)fi.files);
	printf("  %-26s %s\n", "signatures", sig);
	if (fi.certs) {
		printf("  %-26s ", "signer");
		print_text(stdout, fi.signer);
		printf(" (%d certificates)\n", fi.certs);
	}
	if (fi.stapled)
		printf("  %-26s %llu bytes, record %s\n", "stapled-ticket",
		    (unsigned long long)fi.ticket_length, fi.ticket_key);
	else
		printf("  %-26s none\n", "stapled-ticket");
	if (fi.trailing && !fi.stapled)
		printf("  %-26s %llu (not a ticket)\n", "trailing-bytes",
		    (unsigned long long)fi.trailing);
}

static const char *container_name(enum pkgflat_container c)
{
	static const char *const names[] = {
		[PKGFLAT_CONTAINER_DIRECTORY] = "directory",
		[PKGFLAT_CONTAINER_ARCHIVE] = "archive",
		[PKGFLAT_CONTAINER_XAR] = "xar",
		[PKGFLAT_CONTAINER_IMAGE] = "disk image",
	};
	return (unsigned)c < sizeof names / sizeof *names && names[c] ?
	    names[c] : "unknown";
}

int cmd_info(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "no-scan", no_argument, NULL, 'n' },
		UI_OPTIONS,
		{ "select", required_argument, NULL, 's' },
		IMAGE_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int as_json = 0, scan = 1, c, r;
	const char *select = NULL;
	pkgflat_image_opts io = { 0 };
	pkgflat_error err;
	pkgflat_package *pkg = NULL;
	struct ui u = UI_INIT;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vqh", opts, NULL)) != -1) {
		if (ui_option(c, &u))
			continue;
		switch (c) {
		case 'j': as_json = 1; break;
		case 'n': scan = 0; break;
		case 's': select = optarg; break;
		case 'h': printf(info_help, image_options_help); return EXIT_OK;
		default:
			if ((r = image_option("info", c, &io)) == 1)
				break;
			if (r)
				return r;
			return option_error_table("info", c, argv, opts);
		}
	}
	if (optind != argc - 1)
		return usage_error("info", optind == argc ? "no package named" :
		    "one package at a time");
	int image = pkgflat_file_is_image(argv[optind]);
	if (select && !image)
		return usage_error("info", "--select picks a package on a disk "
		    "image; %s is not one", argv[optind]);
	if (image && !select) {
		/* -q: the image read and checked, nothing shown. */
		if (u.quiet && !freopen("/dev/null", "w", stdout))
			return EXIT_ERROR;
		verbose(&u, NULL, "%s: read as a disk image", argv[optind]);
		return image_info(argv[optind], &io, as_json);
	}
	pkgflat_image_set_defaults(&io);
	pkgflat_error_clear(&err);
	if (pkgflat_package_open_member(argv[optind], select, &pkg, &err))
		return report_error(&err);
	if (scan && pkgflat_package_scan(pkg, &err)) {
		pkgflat_package_free(pkg);
		return report_error(&err);
	}
	/* The Mach-O binaries in the payloads, judged against the package's
	 * signing team. */
	pkgflat_binaries *bins = NULL;
	if (scan && (select ? pkgflat_package_binaries(pkg, NULL, &bins, &err) :
	    pkgflat_notary_preflight(argv[optind], &bins, &err))) {
		pkgflat_package_free(pkg);
		return report_error(&err);
	}
	/* A flat package file: its header too, read before anything prints. */
	pkgflat_flat_info fi;
	int xar = pkgflat_package_container(pkg) == PKGFLAT_CONTAINER_XAR;
	if (xar && pkgflat_flat_inspect(argv[optind], &fi, &err)) {
		pkgflat_package_free(pkg);
		pkgflat_binaries_free(bins);
		return report_error(&err);
	}
	const pkgflat_component *root = pkgflat_package_root(pkg);
	size_t nw = pkgflat_package_warning_count(pkg);
	verbose(&u, NULL, "%s: read as a %s (%s), %zu component%s%s",
	    argv[optind], pkgflat_component_kind_name(pkgflat_component_kind(root)),
	    container_name(pkgflat_package_container(pkg)),
	    pkgflat_package_component_count(pkg),
	    pkgflat_package_component_count(pkg) == 1 ? "" : "s",
	    scan ? ", payloads and BOMs read" : ", payloads not read (--no-scan)");
	if (u.quiet) {
		/* Read and checked: nothing to show. */
	} else if (as_json) {
		json j = { .f = stdout };
		json_begin_object(&j, NULL);
		json_string(&j, "package", pkgflat_package_path(pkg));
		json_string(&j, "container", container_name(
		    pkgflat_package_container(pkg)));
		json_string(&j, "kind", pkgflat_component_kind_name(
		    pkgflat_component_kind(root)));
		json_uint(&j, "component-count", pkgflat_package_component_count(pkg));
		if (xar)
			flat_header(&fi, &j);
		json_bundle(&j, "root", root, scan, bins);
		if (bins)
			binaries_json_notarization(&j, bins);
		json_begin_array(&j, "warnings");
		for (size_t i = 0; i < nw; i++)
			json_string(&j, NULL, pkgflat_package_warning(pkg, i));
		json_end_array(&j);
		json_end_object(&j);
		json_finish(&j);
	} else {
		printf("package %s\n", pkgflat_package_path(pkg));
		printf("  %-26s %s\n", "container", container_name(
		    pkgflat_package_container(pkg)));
		printf("  %-26s %zu\n", "components",
		    pkgflat_package_component_count(pkg));
		if (xar)
			flat_header(&fi, NULL);
		putchar('\n');
		text_tree(root, 0, scan, bins);
		printf("\nwarnings %zu\n", nw);
		for (size_t i = 0; i < nw; i++) {
			fputs("  ", stdout);
			print_text(stdout, pkgflat_package_warning(pkg, i));
			putchar('\n');
		}
	}
	pkgflat_package_free(pkg);
	pkgflat_binaries_free(bins);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: cannot write output\n", progname);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}
