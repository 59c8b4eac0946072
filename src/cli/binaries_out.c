/* The Mach-O binaries of a package as info and verify --notarization show
 * them (pkgflat_package_binaries, pkgflat_notary_preflight). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int same(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

void binaries_text(const pkgflat_binaries *bs, const char *component)
{
	unsigned int mask = 0;
	size_t n = 0, no_arm = 0, bad = 0;
	char host[32];

	for (size_t i = 0; i < pkgflat_binaries_count(bs); i++) {
		const pkgflat_binary *b = pkgflat_binaries_get(bs, i);
		if (!same(b->component, component))
			continue;
		n++;
		if (b->error) {
			bad++;
			continue;
		}
		mask |= b->arch_mask;
		no_arm += !(b->arch_mask & PKGFLAT_ARCH_ARM64);
	}
	if (!n)
		return;
	static const struct {
		unsigned int bit;
		const char *name;
	} fams[] = { { PKGFLAT_ARCH_ARM64, "arm64" },
	    { PKGFLAT_ARCH_X86_64, "x86_64" }, { PKGFLAT_ARCH_I386, "i386" },
	    { PKGFLAT_ARCH_PPC, "ppc" }, { PKGFLAT_ARCH_OTHER, "other" } };
	size_t k = 0;
	host[0] = 0;
	for (size_t i = 0; i < sizeof fams / sizeof *fams; i++)
		if (mask & fams[i].bit)
			k += (size_t)snprintf(host + k, sizeof host - k, "%s%s",
			    k ? "," : "", fams[i].name);
	printf("  %-26s %s (%zu binar%s", "architectures", host[0] ? host : "none",
	    n, n == 1 ? "y" : "ies");
	if (no_arm)
		printf(", %zu without arm64", no_arm);
	if (bad)
		printf(", %zu unreadable", bad);
	printf(")\n");
}

/* The short names of the reasons in bits, as an array. */
static void reasons_json(json *j, const char *key, unsigned int bits)
{
	json_begin_array(j, key);
	for (unsigned int bit = 1; bit; bit <<= 1)
		if ((bits & bit) && pkgflat_notary_reason_name(bit))
			json_string(j, NULL, pkgflat_notary_reason_name(bit));
	json_end_array(j);
}

static void binary_json(json *j, const pkgflat_binary *b)
{
	char text[2048];

	json_begin_object(j, NULL);
	json_string(j, "path", b->path);
	json_string(j, "archs", b->archs);
	json_bool(j, "universal", b->universal);
	json_string(j, "filetype", b->filetype);
	json_string(j, "min-os", b->min_os);
	json_string(j, "sdk", b->sdk);
	json_bool(j, "signed", b->is_signed);
	json_bool(j, "ad-hoc", b->adhoc);
	json_bool(j, "hardened-runtime", b->runtime);
	json_bool(j, "timestamp", b->timestamp);
	json_string(j, "code-pages", b->code_pages > 0 ? "match" :
	    b->code_pages < 0 ? "differ" : "not checked");
	json_string(j, "identifier", b->identifier);
	json_string(j, "team-id", b->team_id);
	json_string(j, "signer", b->signer);
	json_string(j, "signer-team", b->signer_team);
	reasons_json(j, "notarization", b->notary);
	json_string(j, "notarization-text", b->notary ?
	    pkgflat_binary_notary_text(b, text, sizeof text) : NULL);
	json_string(j, "error", b->error);
	json_end_object(j);
}

void binaries_json_component(json *j, const pkgflat_binaries *bs,
    const char *component)
{
	json_begin_array(j, "binaries");
	for (size_t i = 0; i < pkgflat_binaries_count(bs); i++) {
		const pkgflat_binary *b = pkgflat_binaries_get(bs, i);
		if (same(b->component, component))
			binary_json(j, b);
	}
	json_end_array(j);
}

void binaries_json_notarization(json *j, const pkgflat_binaries *bs)
{
	char text[2048];

	json_begin_object(j, "notarization");
	json_string(j, "team", pkgflat_binaries_team(bs));
	json_string(j, "host-architectures", pkgflat_binaries_host_archs(bs));
	json_uint(j, "binaries", pkgflat_binaries_count(bs));
	json_uint(j, "rejected", pkgflat_binaries_rejected(bs));
	json_begin_array(j, "rejections");
	for (size_t i = 0; i < pkgflat_binaries_count(bs); i++) {
		const pkgflat_binary *b = pkgflat_binaries_get(bs, i);
		if (!b->notary)
			continue;
		json_begin_object(j, NULL);
		json_string(j, "component", b->component);
		json_string(j, "path", b->path);
		json_string(j, "archs", b->archs);
		reasons_json(j, "reasons", b->notary);
		json_string(j, "text", pkgflat_binary_notary_text(b, text,
		    sizeof text));
		json_end_object(j);
	}
	json_end_array(j);
	json_end_object(j);
}

/* One line per binary the notary service would reject. */
static void notary_lines(const pkgflat_binaries *bs)
{
	char text[2048];

	for (size_t i = 0; i < pkgflat_binaries_count(bs); i++) {
		const pkgflat_binary *b = pkgflat_binaries_get(bs, i);
		if (!b->notary)
			continue;
		fputs("reject ", stdout);
		print_text(stdout, b->component);
		putchar(' ');
		print_text(stdout, b->path);
		if (b->archs[0])
			printf(" (%s)", b->archs);
		fputs(": ", stdout);
		print_text(stdout, pkgflat_binary_notary_text(b, text, sizeof text));
		putchar('\n');
	}
}

void binaries_notary_text(const pkgflat_binaries *bs)
{
	size_t n = pkgflat_binaries_count(bs), bad = pkgflat_binaries_rejected(bs);
	const char *team = pkgflat_binaries_team(bs);

	notary_lines(bs);
	printf("notarization: %zu binar%s, %zu would be rejected%s%s%s\n", n,
	    n == 1 ? "y" : "ies", bad, team ? " (installer team " : "",
	    team ? team : "", team ? ")" : "");
}

int verify_notarization(const char *path, int as_json, int quiet)
{
	pkgflat_binaries *bs = NULL;
	pkgflat_error err;

	pkgflat_error_clear(&err);
	if (pkgflat_notary_preflight(path, &bs, &err))
		return report_error(&err);
	size_t bad = pkgflat_binaries_rejected(bs);
	if (as_json && !quiet) {
		json j = { .f = stdout };
		json_begin_object(&j, NULL);
		json_string(&j, "package", path);
		binaries_json_notarization(&j, bs);
		json_end_object(&j);
		json_finish(&j);
	} else if (!quiet)
		binaries_notary_text(bs);
	pkgflat_binaries_free(bs);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: cannot write output\n", progname);
		return EXIT_ERROR;
	}
	return bad ? EXIT_NEGATIVE : EXIT_OK;
}
