/*
 * Fuzz the streaming Mach-O reader. The input is read twice: whole, and
 * in chunks whose sizes come from the input itself. Streaming must not
 * change the answer: both runs agree on success, the error and every
 * field of every slice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "macho.h"

static void digest(const struct macho *m, pkgflat_status rc,
    const pkgflat_error *err, char *out, size_t n)
{
	size_t k = (size_t)snprintf(out, n, "%d %d|%s|%s|%s", (int)rc,
	    macho_is_macho(m), err->file, err->where, err->message);

	for (size_t i = 0; i < macho_slice_count(m) && k < n; i++) {
		const struct macho_slice *s = macho_slice(m, i);
		k += (size_t)snprintf(out + k, n - k, "|%s %u %u %u %u %d %u %u %u "
		    "%d %llu %llu %d %u %u %u %u %s %s %d %d %d %d %s %s %d %d",
		    s->arch ? s->arch : "-", s->cputype, s->cpusubtype, s->family,
		    s->filetype, s->has_version, s->platform, s->minos, s->sdk,
		    s->has_signature, (unsigned long long)s->sig_offset,
		    (unsigned long long)s->sig_size, s->has_cd, s->cd_version,
		    s->cd_flags, s->hash_type, s->cd_count,
		    s->identifier ? s->identifier : "-",
		    s->team_id ? s->team_id : "-", s->has_entitlements,
		    s->get_task_allow, s->has_cms, s->cms_empty,
		    s->signer_cn ? s->signer_cn : "-",
		    s->signer_team ? s->signer_team : "-", s->signer_devid_app,
		    s->has_timestamp);
	}
}

static pkgflat_status run(const uint8_t *data, size_t size, size_t step,
    struct macho **out, pkgflat_error *err)
{
	struct macho *m = macho_new("fuzz.macho");
	pkgflat_status rc = PKGFLAT_OK;

	if (!m)
		abort();
	for (size_t off = 0; off < size && !rc; ) {
		size_t n = size - off < step ? size - off : step;
		rc = macho_feed(m, data + off, n, err);
		off += n;
		/* Vary the chunk size as real stream buffers do. */
		step = step * 7 % 61 + 1;
	}
	if (!rc)
		rc = macho_finish(m, err);
	*out = m;
	return rc;
}

FUZZ_TARGET(macho)
{
	static char a[65536], b[65536];
	pkgflat_error e1 = { 0 }, e2 = { 0 };
	struct macho *m1, *m2;
	size_t step = size ? (size_t)data[size - 1] % 37 + 1 : 1;

	pkgflat_status r1 = run(data, size, size ? size : 1, &m1, &e1);
	pkgflat_status r2 = run(data, size, step, &m2, &e2);
	if (r1 && (!e1.message[0] || !e1.where[0]))
		abort();
	digest(m1, r1, &e1, a, sizeof a);
	digest(m2, r2, &e2, b, sizeof b);
	if (strcmp(a, b)) {
		fprintf(stderr, "whole:   %s\nchunked: %s\n", a, b);
		abort();
	}
	macho_free(m1);
	macho_free(m2);
	return 0;
}
