/* The signing-identity options shared by convert and sign. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int identity_load(const pkgflat_identity_spec *spec, int force, int64_t now,
    pkgflat_identity **out)
{
	if (spec->p12 && (spec->key || spec->cert || spec->sign_command))
		return usage_error(NULL, "--p12 excludes --key, --cert and "
		    "--sign-command");
	if (spec->key && spec->sign_command)
		return usage_error(NULL, "--key and --sign-command exclude each other");
	if (!spec->p12 && (!spec->cert || (!spec->key && !spec->sign_command)))
		return usage_error(NULL, "signing needs --p12 FILE, or --cert FILE "
		    "with --key FILE or --sign-command CMD");
	return identity_open(spec, force, now, out);
}

int identity_open(const pkgflat_identity_spec *spec, int force, int64_t now,
    pkgflat_identity **out)
{
	pkgflat_error err;

	pkgflat_error_clear(&err);
	if (pkgflat_identity_load(spec, out, &err))
		return report_error(&err);
	if (!force && pkgflat_identity_check(*out, now, &err)) {
		pkgflat_identity_free(*out);
		*out = NULL;
		report_error(&err);
		fprintf(stderr, "%s: refusing to sign; --force signs anyway\n",
		    progname);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

int64_t now_or_epoch(void)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	char *end;

	if (s && *s) {
		long long v = strtoll(s, &end, 10);
		if (!*end && v >= 0)
			return v;
	}
	return (int64_t)time(NULL);
}
