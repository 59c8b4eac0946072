/* Fuzz verify: header, TOC, heap ranges, ticket trailer, file checksums,
 * RSA and CMS signatures, chains and timestamps from the bytes given. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"
#include "pkgflat.h"

FUZZ_TARGET(verify)
{
	char path[] = "/tmp/pkgflat-fuzz-verify-XXXXXX";
	int fd = mkstemp(path);
	pkgflat_verify_options opt;
	pkgflat_verify_report *r = NULL;
	pkgflat_error err = { 0 };

	if (fd < 0)
		return 0;
	pkgflat_verify_options_init(&opt);
	opt.at = 1370000000; /* 2013: results do not depend on the day */
	if (write(fd, data, size) == (ssize_t)size) {
		pkgflat_status rc = pkgflat_verify(path, &opt, &r, &err);
		if (rc && !err.message[0])
			abort();
		/* A report has every check with a message. */
		for (size_t i = 0; !rc && i < pkgflat_verify_check_count(r); i++)
			if (!pkgflat_verify_check(r, i)->message)
				abort();
		pkgflat_verify_report_free(r);
	}
	close(fd);
	unlink(path);
	return 0;
}
