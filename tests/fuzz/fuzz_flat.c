/* Fuzz the flat-package reader: header, TOC, signature KeyInfo, trailer. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"
#include "pkgflat.h"

FUZZ_TARGET(flat)
{
	char path[] = "/tmp/pkgflat-fuzz-flat-XXXXXX";
	int fd = mkstemp(path);
	pkgflat_flat_info info;
	pkgflat_error err = { 0 };

	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		if (pkgflat_flat_inspect(path, &info, &err) && !err.message[0])
			abort();
	}
	close(fd);
	unlink(path);
	return 0;
}
