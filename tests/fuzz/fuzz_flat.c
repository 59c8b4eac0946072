/*
 * Fuzz the flat-package readers: header, TOC, signature KeyInfo, trailer
 * (pkgflat_flat_inspect), then the package model built from the XAR tree
 * (Distribution, PackageInfo) with every payload, BOM and Scripts archive.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"
#include "pkgflat.h"

static int any_entry(const pkgflat_entry *e, void *ctx)
{
	(void)e;
	(void)ctx;
	return 0;
}

static int any_script(const pkgflat_script_file *f, void *ctx)
{
	(void)f;
	(void)ctx;
	return 0;
}

static void read_model(const char *path)
{
	pkgflat_package *pkg = NULL;
	pkgflat_error err = { 0 };

	if (pkgflat_package_open(path, &pkg, &err)) {
		if (!err.message[0])
			abort();
		return;
	}
	if (pkgflat_package_scan(pkg, &err) && !err.message[0])
		abort();
	for (size_t i = 0; i < pkgflat_package_component_count(pkg); i++) {
		const pkgflat_component *b = pkgflat_package_component(pkg, i);
		pkgflat_error e2 = { 0 };
		if (pkgflat_component_list_scripts(b, 4096, any_script, NULL, &e2) &&
		    !e2.message[0])
			abort();
		pkgflat_error e3 = { 0 };
		if (pkgflat_component_has_payload(b) &&
		    pkgflat_component_list_payload_digest(b, any_entry, NULL, NULL, &e3) &&
		    !e3.message[0])
			abort();
	}
	pkgflat_package_free(pkg);
}

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
		read_model(path);
	}
	close(fd);
	unlink(path);
	return 0;
}
