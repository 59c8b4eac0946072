/* pkgflat convert: a legacy bundle package into a flat product archive. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static const char convert_help[] =
    "usage: pkgflat convert [options] PACKAGE -o OUT.pkg\n"
    "\n"
    "Turn a legacy bundle package (Foo.pkg or Foo.mpkg, a directory, a\n"
    "zip/tar of one, or a disk image holding it: .dmg, .dmg.gz, raw) into\n"
    "a flat product archive that macOS Installer\n"
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
    "  --select PATH            the package on a disk image to convert (as\n"
    "                           'pkgflat info IMAGE' lists them); without it,\n"
    "                           the image's only bundle, or with -o an\n"
    "                           existing directory, every bundle on the image\n"
    "                           into DIR/NAME.pkg\n"
    "%s"  /* convert_options_help */
    UI_OPTIONS_HELP
    "  -h, --help               show this help\n"
    "\n"
    "On success one line says what was written: its size, its components,\n"
    "and whether and as whom it was signed. A warning that several\n"
    "components share is printed once, with where it was found (the report\n"
    "keeps each). With -v, every mapping decision is printed too.\n"
    "\n"
    "SOURCE_DATE_EPOCH, when set, fixes every time stamp: converting the same\n"
    "input twice gives byte-identical output.\n"
    "\n"
    "OUT (and --report) must not be a file named to be read, by any name,\n"
    "nor lie inside the input bundle: that is refused before any work.\n"
    "\n"
    "exit status: 0 converted, 1 --check found a difference, 2 usage error\n"
    "(also: an output that is an input),\n"
    "3 unreadable or malformed "
    "package, or the output could not be written\n";

static void jstr_or_null(json *j, const char *k, const char *v)
{
	json_string(j, k, v);
}

static int write_report(const char *path, const char *input, const char *out,
    const char *member, const pkgflat_convert_result *r)
{
	pkgflat_output *o;
	FILE *f = output_fopen(path, &o);

	if (!f)
		return EXIT_ERROR;
	json j = { .f = f };
	json_begin_object(&j, NULL);
	json_string(&j, "input", input);
	json_string(&j, "output", out);
	json_string(&j, "pkgflat", PKGFLAT_VERSION);
	json_string(&j, "hostArchitectures", pkgflat_convert_host_archs(r));
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
	if (pkgflat_file_is_image(input))
		image_report_extras(&j, input, member);
	json_end_object(&j);
	json_finish(&j);
	return output_fclose(f, o, path);
}

/* -v: each mapping decision, one line. */
static void print_mappings(const struct ui *u, const pkgflat_convert_result *r)
{
	for (size_t i = 0; u->verbose && i < pkgflat_convert_mapping_count(r); i++) {
		const pkgflat_mapping *m = pkgflat_convert_mapping(r, i);
		verbose(u, NULL, "%s: %s%s%s -> %s%s%s%s",
		    m->component ? m->component : "product", m->legacy,
		    m->value ? "=" : "", m->value ? m->value : "",
		    m->flat ? m->flat : "dropped", m->note ? " (" : "",
		    m->note ? m->note : "", m->note ? ")" : "");
	}
}

void print_convert_warnings(const pkgflat_convert_result *r)
{
	size_t n = pkgflat_convert_warning_count(r);
	const char **w = calloc(n ? n : 1, sizeof *w);

	for (size_t i = 0; w && i < n; i++)
		w[i] = pkgflat_convert_warning(r, i);
	if (w)
		warnings_print(stderr, w, n);
	free(w);
}

struct one_ctx {
	struct convert_opts *co;
	const char *input, *report;
	const struct ui *u;
};

/* Convert the package `member` of the input (NULL: the input itself). */
static int convert_one(void *p, const char *member, const char *output)
{
	struct one_ctx *x = p;
	struct convert_opts *co = x->co;
	const struct ui *u = x->u;
	struct progress prog;
	pkgflat_error err;
	pkgflat_package *pkg = NULL;
	pkgflat_convert_result *res = NULL;
	int rc = EXIT_OK;

	progress_init(&prog, "convert", 0);
	co->opt.output = output;
	/* Nothing named to be read may be written over, before any work. */
	const char *reads[] = { x->input, co->spec.p12, co->spec.key,
	    co->spec.cert, co->spec.chain, x->report };
	size_t nreads = sizeof reads / sizeof *reads;
	if ((rc = refuse_overwrite(output, reads, nreads)))
		return rc;
	reads[nreads - 1] = output; /* the report goes elsewhere too */
	if ((rc = refuse_overwrite(x->report, reads, nreads)))
		return rc;
	pkgflat_error_clear(&err);
	if (pkgflat_package_open_member(x->input, member, &pkg, &err)) {
		rc = report_error(&err);
		goto out;
	}
	progress_init(&prog, "convert", u->quiet ? 0 : u->progress);
	co->opt.progress = progress_cb;
	co->opt.progress_ctx = &prog;
	pkgflat_status st = pkgflat_convert(pkg, &co->opt, &res, &err);
	progress_end(&prog);
	if (st) {
		rc = report_error(&err);
		tsa_hint(&co->tsa);
		goto out;
	}
	if (!u->quiet)
		print_convert_warnings(res);
	print_mappings(u, res);
	if (x->report)
		rc = write_report(x->report, x->input, output, member, res);
	if (!rc && !u->quiet) {
		struct stat sb;
		char how[2048];
		size_t n = pkgflat_convert_component_count(res);
		signing_text(how, sizeof how, co->id, &co->tsa);
		if (stat(output, &sb) == 0)
			say(u, NULL, "wrote %s: %lld bytes, %zu component%s, %s",
			    output, (long long)sb.st_size, n, n == 1 ? "" : "s", how);
	}
out:
	progress_end(&prog);
	co->opt.progress = NULL;
	co->opt.progress_ctx = NULL;
	pkgflat_package_free(pkg);
	pkgflat_convert_result_free(res);
	return rc;
}

int cmd_convert(int argc, char **argv)
{
	static const struct option own[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "report", required_argument, NULL, 'r' },
		{ "select", required_argument, NULL, 'S' + 256 },
		UI_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct option *opts = options_table(own);
	struct convert_opts co;
	const char *report = NULL, *output = NULL, *select = NULL;
	int c, rc = EXIT_OK;
	struct ui u = UI_INIT;

	convert_opts_init(&co);
	if (!opts) {
		fprintf(stderr, "%s convert: out of memory\n", progname);
		return EXIT_ERROR;
	}
	optind = 1;
	opterr = 0;
	while ((c = next_option("convert", argc, argv, ":o:vqh", opts, &co, &rc)) != -1) {
		if (c == -2)
			goto out;
		if (ui_option(c, &u))
			continue;
		switch (c) {
		case 'o': output = optarg; break;
		case 'r': report = optarg; break;
		case 'S' + 256: select = optarg; break;
		case 'h': printf(convert_help, convert_options_help); goto out;
		default: rc = option_error_table("convert", c, argv, opts); goto out;
		}
	}
	if (optind != argc - 1) {
		rc = usage_error("convert", optind == argc ? "no package named" :
		    "one package at a time");
		goto out;
	}
	if (!output) {
		rc = usage_error("convert", "no output file: use -o OUT.pkg");
		goto out;
	}
	const char *input = argv[optind];
	int image = pkgflat_file_is_image(input);
	if (select && !image) {
		rc = usage_error("convert", "--select picks a package on a disk "
		    "image; %s is not one", input);
		goto out;
	}
	if ((rc = convert_opts_finish("convert", &co)))
		goto out;
	if (co.id) {
		identity_verbose(&u, co.id);
		tsa_decide(&co.tsa, co.id, &u);
		co.opt.timestamp_url = co.tsa.url;
	}
	struct one_ctx x = { &co, input, report, &u };
	if (!image) {
		rc = convert_one(&x, NULL, output);
		goto out;
	}
	co.image.force = co.force;
	pkgflat_image_set_defaults(&co.image);
	/* --check also means the image's own checksums hold. */
	if (co.opt.check && (rc = image_verify(input, &co.image))) {
		rc = EXIT_ERROR;
		goto out;
	}
	struct stat sb;
	if (!select && stat(output, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		if (report) {
			rc = usage_error("convert", "--report names one file: "
			    "convert the image's packages one at a time with "
			    "--select");
			goto out;
		}
		rc = image_convert_all(input, output, convert_one, &x);
	} else
		rc = convert_one(&x, select, output);
out:
	convert_opts_free(&co);
	free(opts);
	return rc;
}
