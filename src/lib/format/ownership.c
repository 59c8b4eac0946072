/*
 * Ownership policies for converted payloads (legacy-format.md §5.2, §8.7).
 *
 * Bundle packages were often built on the packager's own Mac: "." and app
 * bundles owned by the packager's account (uid 501, or a directory-service
 * uid far above it) with group staff. Installed as is, such files belong to
 * whichever local user has that uid. pkgbuild's default (--ownership
 * recommended) gives them to root; files that were deliberately given a
 * system owner (CPython's root:admin framework) keep it.
 *
 * "System" here: macOS reserves uids and gids below 500 for the system
 * (user accounts start at 501); nobody/nogroup is -2, also seen truncated
 * to 16 bits (65534). Everything else is personal.
 */
#include <string.h>

#include "internal.h"

#define STAFF_GID 20u   /* every local user's primary group */

static int system_id(uint32_t id)
{
	return id < 500 || id == 65534u || id == 4294967294u;
}

int pkgflat_ownership_apply(enum pkgflat_ownership mode, uint32_t *uid,
    uint32_t *gid)
{
	uint32_t u = *uid, g = *gid;

	switch (mode) {
	case PKGFLAT_OWNERSHIP_PRESERVE:
		return 0;
	case PKGFLAT_OWNERSHIP_ROOT:
		u = g = 0;
		break;
	case PKGFLAT_OWNERSHIP_RECOMMENDED:
	default:
		/* A personal owner's group is personal too when it is staff:
		 * that is where the packager's files land by default. */
		if (!system_id(u)) {
			if (g == STAFF_GID)
				g = 0;
			u = 0;
		}
		if (!system_id(g))
			g = 0;
		break;
	}
	if (u == *uid && g == *gid)
		return 0;
	*uid = u;
	*gid = g;
	return 1;
}

const char *pkgflat_ownership_name(enum pkgflat_ownership mode)
{
	switch (mode) {
	case PKGFLAT_OWNERSHIP_PRESERVE: return "preserve";
	case PKGFLAT_OWNERSHIP_RECOMMENDED: return "recommended";
	case PKGFLAT_OWNERSHIP_ROOT: return "root";
	}
	return NULL;
}

int pkgflat_ownership_from_name(const char *name)
{
	for (int m = PKGFLAT_OWNERSHIP_PRESERVE; m <= PKGFLAT_OWNERSHIP_ROOT; m++)
		if (name && !strcmp(name, pkgflat_ownership_name(m)))
			return m;
	return -1;
}
