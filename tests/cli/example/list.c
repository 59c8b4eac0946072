/* A user of the installed library: lists a package's components. Built by
 * tests/cli/test_install.sh against `make install` output via pkg-config. */
#include <stdio.h>

#include <pkgflat.h>

int main(int argc, char **argv)
{
	pkgflat_package *pkg = NULL;
	pkgflat_error err;
	char buf[1024];

	if (argc != 2)
		return 2;
	pkgflat_error_clear(&err);
	if (pkgflat_package_open(argv[1], &pkg, &err) != PKGFLAT_OK) {
		fprintf(stderr, "%s\n", pkgflat_error_text(&err, buf, sizeof buf));
		return 3;
	}
	for (size_t i = 0; i < pkgflat_package_component_count(pkg); i++) {
		const pkgflat_component *b = pkgflat_package_component(pkg, i);
		printf("%s %s\n", pkgflat_component_get(b, PKGFLAT_F_IDENTIFIER),
		    pkgflat_component_get(b, PKGFLAT_F_VERSION));
	}
	pkgflat_package_free(pkg);
	return 0;
}
