/*
 * Habits of Apple's tools that pkgflat keeps, and the lines that tell a
 * person what happened: productsign's default timestamp for identities
 * that chain to Apple, --timestamp=none, the summary of a signature, and
 * a clear word when a legacy bundle is given where a flat package belongs.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static int has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcasecmp(s + a - b, suffix);
}

int refuse_bundle(const char *path)
{
	struct stat sb;
	char contents[4096];
	size_t n = strlen(path);
	struct msg m;

	if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return EXIT_OK;
	while (n > 1 && path[n - 1] == '/')
		n--;
	snprintf(contents, sizeof contents, "%.*s/Contents", (int)n, path);
	if (stat(contents, &sb) != 0 && !has_suffix(path, ".pkg") &&
	    !has_suffix(path, ".mpkg") && !has_suffix(path, ".pkg/") &&
	    !has_suffix(path, ".mpkg/"))
		return EXIT_OK;
	msg_start(&m, stderr);
	msg_add(&m, "%s: ", progname);
	msg_text(&m, path);
	msg_add(&m, ": a legacy bundle: use pkgflat convert --sign\n");
	msg_end(&m);
	return EXIT_ERROR; /* not a flat package: 3, as documented */
}

int tsa_decide(struct tsa_opts *t, const pkgflat_identity *id,
    const struct ui *u)
{
	if (t->none) {
		t->url = NULL;
		verbose(u, NULL, "no timestamp: --timestamp=none");
		return EXIT_OK;
	}
	if (t->url) {
		verbose(u, NULL, "timestamp from %s, as --timestamp asks", t->url);
		return EXIT_OK;
	}
	if (!id || !pkgflat_identity_apple_root(id)) {
		verbose(u, NULL, "no timestamp: the chain does not end at an "
		    "Apple root and no --timestamp was given");
		return EXIT_OK;
	}
	/* Tests stand in a local server for Apple's. */
	const char *test = getenv("PKGFLAT_TEST_APPLE_TSA");
	t->url = test && *test ? test : PKGFLAT_APPLE_TSA;
	t->apple_default = 1;
	verbose(u, NULL, "timestamp from %s: the identity chains to an Apple "
	    "root, and productsign timestamps those by default", t->url);
	return EXIT_OK;
}

void tsa_hint(const struct tsa_opts *t)
{
	if (t->apple_default)
		fprintf(stderr, "%s: productsign timestamps Developer ID signatures "
		    "by default; --timestamp=none signs without one\n", progname);
}

void signing_text(char *buf, size_t size, const pkgflat_identity *id,
    const struct tsa_opts *t)
{
	const char *team = id ? pkgflat_identity_team(id) : NULL;
	char ts[1200];

	if (!id) {
		snprintf(buf, size, "not signed");
		return;
	}
	if (!t || !t->url)
		snprintf(ts, sizeof ts, "no timestamp");
	else
		snprintf(ts, sizeof ts, "timestamped by %s%s", t->url,
		    t->apple_default ? " (Apple's timestamp server, as productsign "
		    "does; --timestamp=none to sign without)" : "");
	snprintf(buf, size, "signed as \"%s\"%s%s%s, %s",
	    pkgflat_identity_name(id), team ? " (team " : "", team ? team : "",
	    team ? ")" : "", ts);
}

void identity_verbose(const struct ui *u, const pkgflat_identity *id)
{
	const char *team = pkgflat_identity_team(id);

	verbose(u, NULL, "identity: %s%s%s%s", pkgflat_identity_name(id),
	    team ? " (team " : "", team ? team : "", team ? ")" : "");
}
