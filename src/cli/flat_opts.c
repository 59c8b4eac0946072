/*
 * The writing options flatten and build share with convert: --sign and
 * the identity options, --toc-checksum, --ownership. They are parsed by
 * convert_opts.c's table; what does not apply to a command is refused.
 */
#include <string.h>

#include "cli.h"

static int given(const struct convert_opts *co, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < co->ngiven; i++)
		if (!strncmp(co->given[i], name, n) &&
		    (co->given[i][n] == '\0' || co->given[i][n] == '='))
			return 1;
	return 0;
}

int flat_opts_take(const char *cmd, const struct convert_opts *co,
    const char *const *allowed, pkgflat_flatten_options *fo)
{
	static const char *const conversion_only[] = { "--min-os", "--title",
	    "--identifier", "--arch", "--check", "--max-image-size" };

	for (size_t i = 0; i < sizeof conversion_only / sizeof *conversion_only;
	    i++) {
		int ok = 0;
		for (size_t j = 0; allowed && allowed[j]; j++)
			ok |= !strcmp(allowed[j], conversion_only[i]);
		if (!ok && given(co, conversion_only[i]))
			return usage_error(cmd, "%s does not apply to %s",
			    conversion_only[i], cmd);
	}
	pkgflat_flatten_options_init(fo);
	fo->toc_checksum = co->opt.toc_checksum;
	fo->identity = co->opt.identity;
	fo->timestamp_url = co->opt.timestamp_url;
	fo->timestamp_timeout = co->opt.timestamp_timeout;
	fo->ownership_given = given(co, "--ownership");
	fo->ownership = co->opt.ownership;
	return EXIT_OK;
}
