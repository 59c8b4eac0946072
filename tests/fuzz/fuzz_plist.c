/* Fuzz the property-list loader (XML through libxml2, binary checks). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "plist.h"

FUZZ_TARGET(plist)
{
	plist_t p = NULL;
	pkgflat_error err = { 0 };

	if (plist_parse(data, size, "fuzz.plist", &p, &err) == PKGFLAT_OK) {
		int odd;
		int64_t n;
		/* Exercise the typed look-ups the bundle reader uses. */
		(void)pl_str(p, "CFBundleIdentifier");
		(void)pl_bool(p, "IFPkgFlagRelocatable", &odd);
		(void)pl_int(p, "IFPkgFlagInstalledSize", &n);
		free(pl_text(plist_dict_get_item(p, "IFPkgFormatVersion")));
		plist_free(p);
	} else if (!err.message[0])
		abort(); /* a failure must say what is wrong */
	return 0;
}
