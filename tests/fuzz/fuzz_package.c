/*
 * Fuzz the whole reader on an archive: the bytes are written to a file and
 * opened as a zip/tar holding a bundle, then every payload and BOM is read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"
#include "pkgflat.h"

FUZZ_TARGET(package)
{
	char path[] = "/tmp/pkgflat-fuzz-XXXXXX";
	int fd = mkstemp(path);
	pkgflat_package *pkg = NULL;
	pkgflat_error err = { 0 };

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		unlink(path);
		return 0;
	}
	close(fd);
	if (pkgflat_package_open(path, &pkg, &err) == PKGFLAT_OK) {
		if (pkgflat_package_scan(pkg, &err) && !err.message[0])
			abort();
		pkgflat_package_free(pkg);
	} else if (!err.message[0])
		abort();
	unlink(path);
	return 0;
}
