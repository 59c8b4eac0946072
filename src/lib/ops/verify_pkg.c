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

#include "model.h"
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

/* What Installer reads: gzip'd or pbzx odc cpio, and since macOS 12 an
 * Apple Archive (pkgbuild --compression latest). */
static int cpio_gzip(const pkgflat_payload_stats *st)
{
	return (!strcmp(st->format, "odc cpio") && (!strcmp(st->compression,
	    "gzip") || !strcmp(st->compression, "pbzx"))) ||
	    !strcmp(st->format, "Apple Archive");
}

/* The reader's warnings on a flat package are what Installer would
 * stumble on (a pkg-ref naming another identifier, a Bom that does not
 * match its Payload, a size that is off), except these, which it installs
 * all the same. */
static int tolerated(const char *w)
{
	static const char *const ok[] = {
		/* the later copy wins, as it did from the legacy package the
		 * payload was copied from */
		"stored twice in the payload",
		/* "." is the install location: Installer keeps its own mode and
		 * owner, whatever the Bom or the Payload say */
		"describe \".\" differently",
		/* macOS 12+ payloads this system cannot decode */
		"contents not read",
		/* a component the Distribution carries but never installs */
		"is in no choice: Installer does not install it",
	};
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
		if (strstr(w, ok[i]))
			return 1;
	return 0;
}

/*
 * numberOfFiles: pkgbuild versions count "." or not, and hard links once
 * or per path; any of those conventions is exact. Installer uses the
 * number only for its progress bar, so a small difference is a note and
 * only a gross one (over 10 %) says the PackageInfo is not this Payload's.
 */
static void check_counts(struct vctx *v, const char *name, long long nf,
    const pkgflat_payload_stats *ps, strbuf *msg, int *n)
{
	uint64_t all = ps->entries, dot = ps->has_dot_root ? 1 : 0;
	uint64_t hl = ps->hardlinks;
	const uint64_t conv[] = { all, all - dot, all - hl, all - dot - hl };

	if (nf < 0 || ps->unread)
		return;
	for (size_t i = 0; i < sizeof conv / sizeof *conv; i++)
		if ((uint64_t)nf == conv[i]) {
			if (i)
				verify_add_note(v, "%s: numberOfFiles %lld counts the "
				    "Payload's %llu entries %s", name, nf,
				    (unsigned long long)all, i == 1 ?
				    "without \".\"" : i == 2 ? "with hard links once" :
				    "without \".\" and with hard links once");
			return;
		}
	uint64_t d = (uint64_t)nf > all ? (uint64_t)nf - all : all - (uint64_t)nf;
	if (d * 10 > all)
		verify_note(msg, n, "%s: PackageInfo says numberOfFiles %lld, the "
		    "Payload holds %llu entries", name, nf, (unsigned long long)all);
	else
		verify_add_note(v, "%s: numberOfFiles %lld, the Payload holds %llu "
		    "entries (within 10 %%; Installer uses it for progress only)",
		    name, nf, (unsigned long long)all);
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
	for (size_t i = 0; i < pkgflat_package_warning_count(pkg); i++) {
		const char *w = pkgflat_package_warning(pkg, i);
		if (tolerated(w))
			verify_add_note(v, "%s", w);
		else
			verify_note(msg, &n, "%s", w);
	}
	for (size_t i = 0; i < pkgflat_package_component_count(pkg); i++) {
		const pkgflat_component *b = pkgflat_package_component(pkg, i);
		const char *name = pkgflat_component_get(b, PKGFLAT_F_NAME);
		const pkgflat_payload_stats *ps = pkgflat_component_payload_stats(b);
		if (ps && !cpio_gzip(ps))
			verify_note(msg, &n, "%s/Payload is %s, %s, not gzip'd odc cpio",
			    name, ps->format, ps->compression);
		if (ps)
			check_counts(v, name, b->claimed_files, ps, msg, &n);
		/* Writers round per file or count directories: allow slack, as
		 * the reader's own claimed-size warning does. */
		int64_t kdiff = ps ? b->claimed_kbytes - (int64_t)ps->install_kbytes : 0;
		if (kdiff < 0)
			kdiff = -kdiff;
		if (ps && !ps->unread && b->claimed_kbytes >= 0 && kdiff > 16 &&
		    kdiff * 10 > (int64_t)ps->install_kbytes)
			verify_note(msg, &n, "%s: PackageInfo says installKBytes %lld, "
			    "the Payload holds %llu KiB", name,
			    (long long)b->claimed_kbytes,
			    (unsigned long long)ps->install_kbytes);
		const char *script = pkgflat_component_script(b, PKGFLAT_SCRIPT_PREINSTALL);
		if (!script)
			script = pkgflat_component_script(b, PKGFLAT_SCRIPT_POSTINSTALL);
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
		    "agree", pkgflat_component_kind(pkgflat_package_root(pkg)) ==
		    PKGFLAT_BUNDLE_PRODUCT ? "product archive" : "component package",
		    nc, nc == 1 ? "" : "s");
	}
	pkgflat_package_free(pkg);
	return n ? PKGFLAT_CHECK_FAIL : PKGFLAT_CHECK_PASS;
}
