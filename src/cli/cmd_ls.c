/* pkgflat ls: one line per installed entry, like lsbom. */
#include <getopt.h>
#include <string.h>

#include "cli.h"

static const char ls_help[] =
    "usage: pkgflat ls [--bom | --payload [--sha256] | --scripts] [--json] PATH\n"
    "\n"
    "List the entries a package installs, one per line, like lsbom:\n"
    "\n"
    "  MODE UID/GID SIZE CRC PATH [-> TARGET]\n"
    "\n"
    "MODE is octal with the file type bits (100644, 40755, 120755), SIZE in\n"
    "bytes, CRC the POSIX cksum CRC that a BOM stores for files ('-' where\n"
    "there is none: payloads, directories). Hard links read from a payload\n"
    "show '=> TARGET'.\n"
    "\n"
    "PATH is a legacy package (directory, or a zip/tar of one), a flat\n"
    "package (product or component, or a directory expanded from one), or a\n"
    "single BOM file (Archive.bom, Bom) or payload file (Archive.pax.gz,\n"
    "Payload). For a metapackage or product, each component is listed after\n"
    "a '# NAME IDENTIFIER' line.\n"
    "\n"
    "PATH may also be a disk image (.dmg, .dmg.gz, raw): then every file on\n"
    "its volumes is listed as MODE SIZE PATH [-> TARGET], names as stored.\n"
    "\n"
    "options:\n"
    "  --bom       list the BOM (the default when the component has one)\n"
    "  --payload   list the payload archive (the default otherwise)\n"
    "  --payload-files\n"
    "              the same as --payload (pkgutil's spelling)\n"
    "  --sha256    with --payload: add each file's SHA-256 after CRC ('-'\n"
    "              for other entries)\n"
    "  --scripts   list each component's scripts with their bytes' SHA-256:\n"
    "              MODE SIZE SHA256 PATH [(SCRIPT)]; for a flat component\n"
    "              every file of its Scripts archive, for a legacy one its\n"
    "              install scripts, named as convert stores them\n"
    "  --json      print a JSON array of components with their entries\n"
    "  -v, --verbose  also say on standard error where the list came from\n"
    "  -q, --quiet    print nothing: the exit status tells whether it reads\n"
    "%s"
    "  -h, --help  show this help\n"
    "\n"
    "exit status: 0 ok, 2 usage error, 3 unreadable or malformed input\n";

struct ls_ctx {
	json *j;
	int sha256;
};

static void hex(const unsigned char *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static int print_script(const pkgflat_script_file *f, void *p)
{
	struct ls_ctx *c = p;
	char sum[65];

	hex(f->sha256, sizeof f->sha256, sum);
	if (c->j) {
		char mode[16];
		snprintf(mode, sizeof mode, "%o", f->mode);
		json_begin_object(c->j, NULL);
		json_string(c->j, "path", f->path);
		json_string(c->j, "script", f->script >= 0 ?
		    pkgflat_script_name(f->script) : NULL);
		json_string(c->j, "mode", mode);
		json_uint(c->j, "size", f->size);
		json_string(c->j, "sha256", sum);
		json_end_object(c->j);
		return 0;
	}
	printf("%o %llu %s ", f->mode, (unsigned long long)f->size, sum);
	print_text(stdout, f->path);
	if (f->script >= 0)
		printf(" (%s)", pkgflat_script_name(f->script));
	putchar('\n');
	return 0;
}

static int print_entry(const pkgflat_entry *e, void *p)
{
	struct ls_ctx *c = p;

	if (c->j) {
		static const char *const types[] = {
			[PKGFLAT_ENTRY_FILE] = "file", [PKGFLAT_ENTRY_DIR] = "directory",
			[PKGFLAT_ENTRY_SYMLINK] = "symlink",
			[PKGFLAT_ENTRY_HARDLINK] = "hardlink",
			[PKGFLAT_ENTRY_DEVICE] = "device", [PKGFLAT_ENTRY_FIFO] = "fifo",
			[PKGFLAT_ENTRY_SOCKET] = "socket",
		};
		json *j = c->j;
		char mode[16];
		snprintf(mode, sizeof mode, "%o", e->mode);
		json_begin_object(j, NULL);
		json_string(j, "path", e->path);
		json_string(j, "type", (unsigned)e->type < 8 ? types[e->type] : NULL);
		json_string(j, "mode", mode);
		json_uint(j, "uid", e->uid);
		json_uint(j, "gid", e->gid);
		json_uint(j, "size", e->size);
		json_int(j, "mtime", e->mtime);
		if (e->has_crc)
			json_uint(j, "crc", e->crc);
		if (e->link_target)
			json_string(j, "link", e->link_target);
		if (e->hardlink)
			json_string(j, "hardlink", e->hardlink);
		if (e->has_sha256) {
			char sum[65];
			hex(e->sha256, sizeof e->sha256, sum);
			json_string(j, "sha256", sum);
		}
		json_end_object(j);
		return 0;
	}
	printf("%o %u/%u %llu ", e->mode, e->uid, e->gid,
	    (unsigned long long)e->size);
	if (e->has_crc)
		printf("%u ", e->crc);
	else
		fputs("- ", stdout);
	if (c->sha256) {
		char sum[65] = "-";
		if (e->has_sha256)
			hex(e->sha256, sizeof e->sha256, sum);
		printf("%s ", sum);
	}
	print_text(stdout, e->path);
	if (e->link_target) {
		fputs(" -> ", stdout);
		print_text(stdout, e->link_target);
	} else if (e->hardlink) {
		fputs(" => ", stdout);
		print_text(stdout, e->hardlink);
	}
	putchar('\n');
	return 0;
}

enum source { SRC_DEFAULT, SRC_BOM, SRC_PAYLOAD, SRC_SCRIPTS };

/* Scripts over this size are listed with their digest only. */
#define SCRIPT_MAX (16u << 20)

static int list_component(const pkgflat_component *b, enum source which,
    struct ls_ctx *c, int header)
{
	pkgflat_error err;
	pkgflat_status rc = PKGFLAT_OK;
	int use_bom = which == SRC_BOM ||
	    (which == SRC_DEFAULT && pkgflat_component_has_bom(b));
	const char *name = pkgflat_component_get(b, PKGFLAT_F_NAME);
	const char *id = pkgflat_component_get(b, PKGFLAT_F_IDENTIFIER);

	if (c->j) {
		json_begin_object(c->j, NULL);
		json_string(c->j, "name", name);
		json_string(c->j, "identifier", id);
		json_string(c->j, "source", which == SRC_SCRIPTS ? "scripts" :
		    use_bom ? "bom" : "payload");
		json_begin_array(c->j, "entries");
	} else if (header) {
		fputs("# ", stdout);
		print_text(stdout, name);
		putchar(' ');
		print_text(stdout, id ? id : "-");
		putchar('\n');
	}
	pkgflat_payload_stats ps = { 0 };
	pkgflat_error_clear(&err);
	if (which == SRC_SCRIPTS)
		rc = pkgflat_component_list_scripts(b, SCRIPT_MAX, print_script, c, &err);
	else if (use_bom && !pkgflat_component_has_bom(b)) {
		fflush(stdout);
		fprintf(stderr, "%s ls: %s: no BOM (try --payload)\n",
		    progname, name);
		return EXIT_ERROR;
	} else if (use_bom)
		rc = pkgflat_component_list_bom(b, print_entry, c, NULL, &err);
	else if (!pkgflat_component_has_payload(b))
		; /* a component without an archive installs nothing */
	else if (c->sha256)
		rc = pkgflat_component_list_payload_digest(b, print_entry, c, &ps, &err);
	else
		rc = pkgflat_component_list_payload(b, print_entry, c, &ps, &err);
	if (rc) {
		fflush(stdout);
		return report_error(&err);
	}
	/* An empty listing would say the payload installs nothing. */
	if (ps.unread) {
		fflush(stdout);
		fprintf(stderr, "%s ls: %s: payload is %s (%s): contents not read "
		    "(the BOM lists them: drop --payload)\n", progname, name,
		    ps.format, ps.compression);
		return EXIT_ERROR;
	}
	if (c->j) {
		json_end_array(c->j);
		json_end_object(c->j);
	}
	return EXIT_OK;
}

int cmd_ls(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bom", no_argument, NULL, 'b' },
		{ "payload", no_argument, NULL, 'p' },
		/* pkgutil's spelling. */
		{ "payload-files", no_argument, NULL, 'p' },
		{ "scripts", no_argument, NULL, 's' },
		{ "sha256", no_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		UI_OPTIONS,
		IMAGE_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum source which = SRC_DEFAULT;
	int as_json = 0, c, rc = EXIT_OK, r;
	struct ui u = UI_INIT;
	pkgflat_image_opts io = { 0 };
	json j = { .f = stdout };
	struct ls_ctx ctx = { 0 };
	pkgflat_error err;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vqh", opts, NULL)) != -1) {
		if (ui_option(c, &u))
			continue;
		switch (c) {
		case 'b':
		case 'p':
		case 's':
			if (which != SRC_DEFAULT)
				return usage_error("ls", "--bom, --payload and --scripts "
				    "exclude each other");
			which = c == 'b' ? SRC_BOM : c == 'p' ? SRC_PAYLOAD : SRC_SCRIPTS;
			break;
		case 'd': ctx.sha256 = 1; break;
		case 'j': as_json = 1; break;
		case 'h': printf(ls_help, image_options_help); return EXIT_OK;
		default:
			if ((r = image_option("ls", c, &io)) == 1)
				break;
			if (r)
				return r;
			return option_error_table("ls", c, argv, opts);
		}
	}
	if (optind != argc - 1)
		return usage_error("ls", optind == argc ? "nothing to list" :
		    "one path at a time");
	if (ctx.sha256 && which != SRC_PAYLOAD)
		return usage_error("ls", "--sha256 goes with --payload");
	const char *path = argv[optind];
	/* -q: every check still made, the listing itself dropped. */
	if (u.quiet && !freopen("/dev/null", "w", stdout))
		return EXIT_ERROR;
	/* A disk image: its files, as the volume holds them. */
	if (pkgflat_file_is_image(path) && which == SRC_DEFAULT && !as_json) {
		verbose(&u, NULL, "%s: listed from the disk image's volumes", path);
		return image_ls(path, &io);
	}
	pkgflat_image_set_defaults(&io);
	verbose(&u, NULL, "%s: listed from %s", path, which == SRC_BOM ? "the BOM" :
	    which == SRC_PAYLOAD ? "the payload" : which == SRC_SCRIPTS ?
	    "the scripts" : "the BOM when there is one, else the payload");
	if (as_json) {
		ctx.j = &j;
		json_begin_array(&j, NULL);
	}
	pkgflat_error_clear(&err);
	enum pkgflat_file_kind kind = pkgflat_file_sniff(path);
	if (kind == PKGFLAT_FILE_BOM || kind == PKGFLAT_FILE_PAYLOAD) {
		if ((kind == PKGFLAT_FILE_BOM && which == SRC_PAYLOAD) ||
		    (kind == PKGFLAT_FILE_PAYLOAD && which == SRC_BOM))
			return usage_error("ls", "%s is a %s file", path,
			    kind == PKGFLAT_FILE_BOM ? "BOM" : "payload");
		if (ctx.j) {
			json_begin_object(&j, NULL);
			json_string(&j, "name", path);
			json_string(&j, "source", kind == PKGFLAT_FILE_BOM ? "bom" :
			    "payload");
			json_begin_array(&j, "entries");
		}
		pkgflat_status st = kind == PKGFLAT_FILE_BOM ?
		    pkgflat_bom_list_file(path, print_entry, &ctx, NULL, &err) :
		    ctx.sha256 ?
		    pkgflat_payload_list_file_digest(path, print_entry, &ctx, NULL,
		        &err) :
		    pkgflat_payload_list_file(path, print_entry, &ctx, NULL, &err);
		if (st) {
			fflush(stdout);
			return report_error(&err);
		}
		if (ctx.j) {
			json_end_array(&j);
			json_end_object(&j);
		}
	} else {
		pkgflat_package *pkg = NULL;
		if (pkgflat_package_open(path, &pkg, &err))
			return report_error(&err);
		size_t n = pkgflat_package_component_count(pkg);
		int header = !pkgflat_component_is_leaf(pkgflat_package_root(pkg));
		for (size_t i = 0; i < n && rc == EXIT_OK; i++)
			rc = list_component(pkgflat_package_component(pkg, i), which,
			    &ctx, header);
		pkgflat_package_free(pkg);
		if (rc)
			return rc;
	}
	if (ctx.j) {
		json_end_array(&j);
		json_finish(&j);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: cannot write output\n", progname);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}
