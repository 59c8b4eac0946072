/* The same as list.c, written against the names the component type had
 * first (pkgflat_bundle_*): they still build and link, with warnings. */
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
		const pkgflat_bundle *b = pkgflat_package_component(pkg, i);
		printf("%s %s\n", pkgflat_bundle_get(b, PKGFLAT_F_IDENTIFIER),
		    pkgflat_bundle_get(b, PKGFLAT_F_VERSION));
	}
	pkgflat_package_free(pkg);
	return 0;
}
