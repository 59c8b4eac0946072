/*
 * Payload member names in the one form the model and the BOM use ("." and
 * "./a/b"), whichever archive they came from: cpio and tar through
 * payload_read.c, Apple Archive through aar.c.
 */
#include <stdlib.h>

#include "payload.h"

char *payload_norm_path(const char *name)
{
	char *n, *out;

	if (!name)
		return NULL;
	while (name[0] == '/')
		name++; /* absolute member names install relative anyway */
	n = path_normalize(name);
	if (!n)
		return NULL;
	out = n[0] ? pf_asprintf("./%s", n) : pf_strdup(".");
	free(n);
	return out;
}
