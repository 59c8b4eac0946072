/*
 * verify check "package-structure" (issue: what Installer needs of a flat
 * package beyond its signature): the flat reader opens it (Distribution
 * parses, every pkg-ref names a component directory with a PackageInfo
 * that has an identifier), then every payload and Scripts archive is read
 * once: each must be gzip'd odc cpio or pbzx, each Bom must list what its
 * Payload holds (paths, types, modes, owners, sizes, link targets), and
 * PackageInfo's numberOfFiles and installKBytes must agree with it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "payload.h"
#include "source.h"
#include "verify.h"

static long stream_read(void *ctx, void *buf, size_t n)
{
	return ((src_stream *)ctx)->read(ctx, buf, n);
}

/* The format of an archive member, by walking it. */
static pkgflat_status member_format(pkgflat_package *pkg, const char *path,
    pkgflat_payload_stats *st, pkgflat_error *err)
{
	src_stream *s = NULL;
	pkgflat_status rc;

	if ((rc = src_open_stream(pkg->src, path, &s, err)))
		return rc;
	rc = payload_walk(stream_read, s, path, NULL, NULL, st, err);
	src_stream_close(s);
	return rc;
}

static int cpio_gzip(const pkgflat_payload_stats *st)
{
	return !strcmp(st->format, "odc cpio") && (!strcmp(st->compression,
	    "gzip") || !strcmp(st->compression, "pbzx"));
}

enum pkgflat_check_result check_structure(struct vctx *v, strbuf *msg)
{
	pkgflat_package *pkg = NULL;
	pkgflat_error err;
	char buf[1200];
	int n = 0;

	pkgflat_error_clear(&err);
	if (pkgflat_package_open(v->path, &pkg, &err) ||
	    pkgflat_package_scan(pkg, &err)) {
		sb_addf(msg, "%s", pkgflat_error_text(&err, buf, sizeof buf));
		pkgflat_package_free(pkg);
		return PKGFLAT_CHECK_FAIL;
	}
	/* The reader's warnings on a flat package are what Installer would
	 * stumble on: a pkg-ref naming another identifier, a Bom that does
	 * not match its Payload, a size that is off. */
	strbuf notes = { 0 };
	int nn = 0;
	for (size_t i = 0; i < pkgflat_package_warning_count(pkg); i++) {
		const char *w = pkgflat_package_warning(pkg, i);
		/* A path stored twice installs (the later copy wins), as it did
		 * from the legacy package a payload was copied from. */
		if (strstr(w, "stored twice in the payload"))
			verify_note(&notes, &nn, "%s", w);
		else
			verify_note(msg, &n, "%s", w);
	}
	for (size_t i = 0; i < pkgflat_package_component_count(pkg); i++) {
		const pkgflat_bundle *b = pkgflat_package_component(pkg, i);
		const char *name = pkgflat_bundle_get(b, PKGFLAT_F_NAME);
		const pkgflat_payload_stats *ps = pkgflat_bundle_payload_stats(b);
		if (ps && !cpio_gzip(ps))
			verify_note(msg, &n, "%s/Payload is %s, %s, not gzip'd odc cpio",
			    name, ps->format, ps->compression);
		long long nf = b->claimed_files;
		if (ps && nf >= 0 && (uint64_t)nf != ps->entries)
			verify_note(msg, &n, "%s: PackageInfo says numberOfFiles %lld, "
			    "the Payload holds %llu entries", name, nf,
			    (unsigned long long)ps->entries);
		/* Writers round per file or count directories: allow slack, as
		 * the reader's own claimed-size warning does. */
		int64_t kdiff = ps ? b->claimed_kbytes - (int64_t)ps->install_kbytes : 0;
		if (kdiff < 0)
			kdiff = -kdiff;
		if (ps && b->claimed_kbytes >= 0 && kdiff > 16 &&
		    kdiff * 10 > (int64_t)ps->install_kbytes)
			verify_note(msg, &n, "%s: PackageInfo says installKBytes %lld, "
			    "the Payload holds %llu KiB", name,
			    (long long)b->claimed_kbytes,
			    (unsigned long long)ps->install_kbytes);
		const char *script = pkgflat_bundle_script(b, PKGFLAT_SCRIPT_PREINSTALL);
		if (!script)
			script = pkgflat_bundle_script(b, PKGFLAT_SCRIPT_POSTINSTALL);
		if (script) {
			char *dir = path_dir(script);
			pkgflat_payload_stats ss;
			pkgflat_error_clear(&err);
			if (!dir)
				verify_note(msg, &n, "out of memory");
			else if (member_format(pkg, dir, &ss, &err))
				verify_note(msg, &n, "%s", pkgflat_error_text(&err, buf,
				    sizeof buf));
			else if (!cpio_gzip(&ss))
				verify_note(msg, &n, "%s is %s, %s, not gzip'd odc cpio",
				    dir, ss.format, ss.compression);
			free(dir);
		}
	}
	verify_note_end(msg, n);
	if (!n) {
		size_t nc = pkgflat_package_component_count(pkg);
		sb_addf(msg, "%s with %zu component%s; payloads, Boms and scripts "
		    "agree", pkgflat_bundle_kind(pkgflat_package_root(pkg)) ==
		    PKGFLAT_BUNDLE_PRODUCT ? "product archive" : "component package",
		    nc, nc == 1 ? "" : "s");
		if (nn) {
			verify_note_end(&notes, nn);
			sb_addf(msg, " (note: %s)", notes.buf);
		}
	}
	sb_free(&notes);
	pkgflat_package_free(pkg);
	return n ? PKGFLAT_CHECK_FAIL : PKGFLAT_CHECK_PASS;
}
