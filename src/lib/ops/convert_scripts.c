/*
 * Legacy install scripts into a flat component's Scripts archive
 * (legacy-format.md §4 and §8).
 *
 * A flat component runs one preinstall and one postinstall; a bundle had
 * InstallationCheck, VolumeCheck, preflight, preinstall or preupgrade
 * (by receipt), postinstall or postupgrade, postflight. The Scripts archive
 * (gzip'd odc cpio) holds:
 *
 *   ./preinstall, ./postinstall      generated wrappers (only when needed)
 *   ./Contents/Resources/...         the bundle's Resources, scripts byte
 *                                    for byte, minus Cheetah payload copies
 *
 * The wrappers run the originals in legacy order with "$1" set to the
 * directory holding ./Contents, so scripts that read
 * "$1/Contents/Resources/helper" still find it, and stop at the first
 * failure. Whether a receipt existed is decided before the payload lands
 * and remembered for the post phase.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert_scripts.h"

#define IO_BUF (64 * 1024)

/* A shell single-quoted string. */
static void sh_quote(strbuf *sb, const char *s)
{
	sb_add(sb, "'", 1);
	for (; *s; s++) {
		if (*s == '\'')
			sb_adds(sb, "'\\''");
		else
			sb_add(sb, s, 1);
	}
	sb_add(sb, "'", 1);
}

int scripts_phase_includes(int phases, enum pkgflat_script s)
{
	return (phases & (s <= PKGFLAT_SCRIPT_PREUPGRADE ? SCRIPTS_PRE :
	    SCRIPTS_POST)) != 0;
}

/* A script counts when the bundle has it and it belongs to the phases
 * being written. */
static int has_in(const pkgflat_component *b, int phases, enum pkgflat_script s)
{
	return scripts_phase_includes(phases, s) &&
	    pkgflat_component_script(b, s) != NULL;
}
#define has(b, s) has_in((b), phases, (s))

/* "step NAME": the file as it sits in Contents/Resources, which for a
 * 10.0/10.1 package is "<Name>.post_install" rather than "postinstall";
 * quoted only when the shell needs it, so the common form stays
 * greppable. */
static void step(strbuf *sb, const pkgflat_component *b, enum pkgflat_script s)
{
	const char *name = path_base(pkgflat_component_script(b, s));

	sb_adds(sb, "step ");
	if (name[strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-")])
		sh_quote(sb, name);
	else
		sb_adds(sb, name);
}

/* The message function of one check, from its .strings table: ids 16-31
 * are the package's own; lower ones are Installer's built-in messages. */
static void messages_fn(strbuf *sb, const pkgflat_component *b, const char *table)
{
	const char *lang_pref[] = { "en", "English", NULL };
	int have[32] = { 0 };

	sb_addf(sb, "message_%s() {\n\tcase $1 in\n", table);
	/* English first, then the top level, then any language. */
	for (int pass = 0; pass < 4; pass++)
		for (size_t i = 0; i < pkgflat_component_string_count(b); i++) {
			const pkgflat_string *s = pkgflat_component_string(b, i);
			if (strcmp(s->table, table))
				continue;
			int match = pass < 2 ? s->lang && !strcmp(s->lang,
			    lang_pref[pass]) : pass == 2 ? !s->lang : 1;
			char *end;
			long id = strtol(s->key, &end, 10);
			if (!match || *end || id < 0 || id > 31 || have[id])
				continue;
			have[id] = 1;
			sb_addf(sb, "\t%ld) echo ", id);
			sh_quote(sb, s->value);
			sb_adds(sb, " ;;\n");
		}
	sb_adds(sb, "\t*) echo 'This software cannot be installed on this "
	    "computer.' ;;\n\tesac\n}\n\n");
}

static const char wrapper_head[] =
    "here=$(cd \"$(dirname \"$0\")\" && pwd) || exit 1\n"
    "res=$here/Contents/Resources\n"
    "dst=$2 vol=$3 root=$4\n"
    "state=\"${INSTALLER_TEMP:-/tmp}/pkgflat.$(printf %s \"$id\" | "
    "tr -c 'A-Za-z0-9._-' _).upgrade\"\n"
    "\n"
    "# Run one legacy script as Installer did: $1 the package, $2 the\n"
    "# destination, $3 the volume, $4 the system root.\n"
    "step() {\n"
    "\tSCRIPT_NAME=$1 PACKAGE_PATH=$here RECEIPT_PATH=$res \\\n"
    "\t    \"$res/$1\" \"$here\" \"$dst\" \"$vol\" \"$root\"\n"
    "\tstatus=$?\n"
    "\tif [ $status -ne 0 ]; then\n"
    "\t\techo \"$1 failed (exit $status)\" >&2\n"
    "\t\texit $status\n"
    "\tfi\n"
    "}\n\n";

/* The install script or the upgrade one, by whether a receipt existed. */
static void install_or_upgrade(strbuf *sb, const pkgflat_component *b,
    int phases, enum pkgflat_script inst, enum pkgflat_script upg,
    const char *var)
{
	int hi = has(b, inst), hu = has(b, upg);

	if (hi && hu) {
		sb_addf(sb, "if [ %s = 1 ]; then ", var);
		step(sb, b, upg);
		sb_adds(sb, "; else ");
		step(sb, b, inst);
		sb_adds(sb, "; fi\n");
	} else if (hi || hu) {
		sb_addf(sb, "[ %s = %d ] || ", var, hi ? 1 : 0);
		step(sb, b, hi ? inst : upg);
		sb_adds(sb, "\n");
	}
}

static void preinstall_text(strbuf *sb, const pkgflat_component *b, int phases,
    const char *id, int record_state)
{
	int ic = has(b, PKGFLAT_SCRIPT_INSTALLATION_CHECK);
	int vc = has(b, PKGFLAT_SCRIPT_VOLUME_CHECK);

	sb_adds(sb, "#!/bin/sh\n"
	    "# preinstall written by pkgflat " PKGFLAT_VERSION " for a legacy "
	    "bundle package.\n"
	    "# It runs the bundle's checks and pre-install scripts in the order\n"
	    "# Installer ran them and stops at the first failure. The originals\n"
	    "# are unchanged in Contents/Resources beside this file.\n\n");
	sb_adds(sb, "id=");
	sh_quote(sb, id);
	sb_adds(sb, "\nbundle=");
	sh_quote(sb, b->field[PKGFLAT_F_NAME]);
	sb_adds(sb, "\n");
	sb_adds(sb, wrapper_head);
	if (ic || vc) {
		if (ic)
			messages_fn(sb, b, "InstallationCheck");
		if (vc)
			messages_fn(sb, b, "VolumeCheck");
		sb_adds(sb,
		    "# A check's exit code: bits 5-6 the verdict (1 warn, 2 and 3\n"
		    "# fail), bits 0-4 the message number.\n"
		    "check() {\n"
		    "\tSCRIPT_NAME=$1 PACKAGE_PATH=$here RECEIPT_PATH=$res \\\n"
		    "\t    \"$res/$1\" \"$2\" \"$dst\" \"$vol\" \"$root\"\n"
		    "\tcode=$?\n"
		    "\t[ $code -eq 0 ] && return 0\n"
		    "\tverdict=$(( (code >> 5) & 3 ))\n"
		    "\ttext=$(message_$1 $(( code & 31 )))\n"
		    "\tcase $verdict in\n"
		    "\t1) echo \"$1: warning: $text\" >&2 ;;\n"
		    "\t2|3) echo \"$1: $text\" >&2; exit 1 ;;\n"
		    "\tesac\n"
		    "}\n\n");
		if (ic)
			sb_adds(sb, "check InstallationCheck \"$here\"\n");
		if (vc)
			sb_adds(sb, "check VolumeCheck \"$vol\"\n");
	}
	if (record_state)
		sb_adds(sb,
		    "# Installed before? Decided now, before the payload lands.\n"
		    "if \"${PKGUTIL:-/usr/sbin/pkgutil}\" --pkg-info \"$id\" "
		    "--volume \"$vol\" >/dev/null 2>&1 ||\n"
		    "    [ -d \"$vol/Library/Receipts/$bundle\" ]; then\n"
		    "\tupgrade=1\n"
		    "else\n"
		    "\tupgrade=0\n"
		    "fi\n"
		    "echo $upgrade >\"$state\"\n");
	else
		sb_adds(sb, "upgrade=0\n");
	if (has(b, PKGFLAT_SCRIPT_PREFLIGHT)) {
		step(sb, b, PKGFLAT_SCRIPT_PREFLIGHT);
		sb_adds(sb, "\n");
	}
	install_or_upgrade(sb, b, phases, PKGFLAT_SCRIPT_PREINSTALL,
	    PKGFLAT_SCRIPT_PREUPGRADE, "$upgrade");
	sb_adds(sb, "exit 0\n");
}

static void postinstall_text(strbuf *sb, const pkgflat_component *b, int phases,
    const char *id)
{
	sb_adds(sb, "#!/bin/sh\n"
	    "# postinstall written by pkgflat " PKGFLAT_VERSION " for a legacy "
	    "bundle package.\n"
	    "# It runs the bundle's post-install scripts in the order Installer\n"
	    "# ran them and stops at the first failure. The originals are\n"
	    "# unchanged in Contents/Resources beside this file.\n\n");
	sb_adds(sb, "id=");
	sh_quote(sb, id);
	sb_adds(sb, "\n");
	sb_adds(sb, wrapper_head);
	if (has(b, PKGFLAT_SCRIPT_POSTINSTALL) || has(b, PKGFLAT_SCRIPT_POSTUPGRADE))
		sb_adds(sb, "upgrade=$(cat \"$state\" 2>/dev/null || echo 0)\n"
		    "rm -f \"$state\"\n");
	install_or_upgrade(sb, b, phases, PKGFLAT_SCRIPT_POSTINSTALL,
	    PKGFLAT_SCRIPT_POSTUPGRADE, "\"$upgrade\"");
	if (has(b, PKGFLAT_SCRIPT_POSTFLIGHT)) {
		step(sb, b, PKGFLAT_SCRIPT_POSTFLIGHT);
		sb_adds(sb, "\n");
	}
	sb_adds(sb, "exit 0\n");
}

/* ------------------------------------------------------------------ */
/* The Scripts archive                                                */

struct sw {
	const struct scripts_job *job;
	struct archive *a;
	int failed;
	uint64_t ino;
};

static la_ssize_t sw_write(struct archive *a, void *p, const void *buf,
    size_t n)
{
	struct sw *w = p;

	if (xarw_file_write(w->job->xw, buf, n, w->job->err)) {
		w->failed = 1;
		archive_set_error(a, EIO, "write error");
		return -1;
	}
	return (la_ssize_t)n;
}

static pkgflat_status sw_fail(struct sw *w, const char *what)
{
	if (w->failed)
		return w->job->err->status;
	return fail(w->job->err, PKGFLAT_E_IO, w->job->name, what,
	    "cannot write the scripts archive: %s", archive_error_string(w->a));
}

static pkgflat_status sw_entry(struct sw *w, const char *path, mode_t mode,
    const void *data, size_t len, uint64_t size, const char *link)
{
	struct archive_entry *e = archive_entry_new();
	pkgflat_status rc = PKGFLAT_OK;

	if (!e)
		return fail_nomem(w->job->err);
	archive_entry_set_pathname(e, path);
	archive_entry_set_mode(e, mode);
	archive_entry_set_mtime(e, w->job->mtime, 0);
	archive_entry_set_ino64(e, (la_int64_t)w->ino++);
	archive_entry_set_nlink(e, (mode & AE_IFMT) == AE_IFDIR ? 2 : 1);
	if (link)
		archive_entry_set_symlink(e, link);
	archive_entry_set_size(e, (la_int64_t)size);
	if (archive_write_header(w->a, e) < ARCHIVE_WARN)
		rc = sw_fail(w, path);
	else if (data && len && archive_write_data(w->a, data, len) !=
	    (la_ssize_t)len)
		rc = sw_fail(w, path);
	archive_entry_free(e);
	return rc;
}

/* Copy one resource file into the archive, streamed. */
static pkgflat_status sw_file(struct sw *w, const char *inner,
    const char *path, mode_t mode, uint64_t size)
{
	const struct scripts_job *job = w->job;
	src_stream *st = NULL;
	pkgflat_status rc;
	unsigned char *buf = malloc(IO_BUF);
	uint64_t done = 0;

	if (!buf)
		return fail_nomem(job->err);
	if ((rc = src_open_stream(job->src, inner, &st, job->err)))
		goto out;
	if ((rc = sw_entry(w, path, mode, NULL, 0, size, NULL)))
		goto out;
	for (;;) {
		long n = st->read(st, buf, IO_BUF);
		if (n < 0) {
			rc = job->err->status;
			goto out;
		}
		if (n == 0)
			break;
		if (done + (uint64_t)n > size)
			break;
		if (archive_write_data(w->a, buf, (size_t)n) != n) {
			rc = sw_fail(w, path);
			goto out;
		}
		done += (uint64_t)n;
	}
	if (done != size) {
		char *name = src_display(job->src, inner);
		rc = fail(job->err, PKGFLAT_E_IO, name, NULL,
		    "file changed size while it was read");
		free(name);
	}
out:
	src_stream_close(st);
	free(buf);
	return rc;
}

pkgflat_status scripts_convert(const struct scripts_job *job,
    struct scripts_result *res)
{
	const pkgflat_component *b = job->bundle;
	pkgflat_error *err = job->err;
	struct sw w = { job, NULL, 0, 1 };
	strbuf pre = { 0 }, post = { 0 };
	pkgflat_status rc = PKGFLAT_OK;
	int any = 0, want_pre, want_post, open_file = 0;
	char *res_dir = NULL;

	int phases = job->phases ? job->phases : SCRIPTS_PRE | SCRIPTS_POST;

	memset(res, 0, sizeof *res);
	for (int i = 0; i < PKGFLAT_SCRIPT_COUNT_; i++)
		any |= has(b, i);
	if (!any)
		return PKGFLAT_OK;

	want_post = has(b, PKGFLAT_SCRIPT_POSTINSTALL) ||
	    has(b, PKGFLAT_SCRIPT_POSTUPGRADE) || has(b, PKGFLAT_SCRIPT_POSTFLIGHT);
	int need_state = has(b, PKGFLAT_SCRIPT_PREINSTALL) ||
	    has(b, PKGFLAT_SCRIPT_PREUPGRADE) || has(b, PKGFLAT_SCRIPT_POSTINSTALL) ||
	    has(b, PKGFLAT_SCRIPT_POSTUPGRADE);
	want_pre = need_state || has(b, PKGFLAT_SCRIPT_PREFLIGHT) ||
	    has(b, PKGFLAT_SCRIPT_INSTALLATION_CHECK) ||
	    has(b, PKGFLAT_SCRIPT_VOLUME_CHECK);
	if (want_pre)
		preinstall_text(&pre, b, phases, job->identifier,
		    has(b, PKGFLAT_SCRIPT_PREINSTALL) ||
		    has(b, PKGFLAT_SCRIPT_PREUPGRADE) || has(b,
		    PKGFLAT_SCRIPT_POSTINSTALL) || has(b, PKGFLAT_SCRIPT_POSTUPGRADE));
	if (want_post)
		postinstall_text(&post, b, phases, job->identifier);
	if (pre.oom || post.oom) {
		rc = fail_nomem(err);
		goto out;
	}

	if ((rc = xarw_file_begin(job->xw, job->parent, "Scripts", XAR_ENC_RAW,
	    err)))
		goto out;
	open_file = 1;
	if (!(w.a = archive_write_new())) {
		rc = fail_nomem(err);
		goto out;
	}
	if (archive_write_set_format_cpio_odc(w.a) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(w.a) != ARCHIVE_OK ||
	    archive_write_set_filter_option(w.a, "gzip", "timestamp", NULL) !=
	    ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(w.a, 512) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(w.a, 512) != ARCHIVE_OK ||
	    archive_write_open(w.a, &w, NULL, sw_write, NULL) != ARCHIVE_OK) {
		rc = sw_fail(&w, NULL);
		goto out;
	}
	if ((rc = sw_entry(&w, ".", AE_IFDIR | 0755, NULL, 0, 0, NULL)))
		goto out;
	if (want_pre && (rc = sw_entry(&w, "./preinstall", AE_IFREG | 0755,
	    pre.buf, pre.len, pre.len, NULL)))
		goto out;
	if (want_post && (rc = sw_entry(&w, "./postinstall", AE_IFREG | 0755,
	    post.buf, post.len, post.len, NULL)))
		goto out;
	if ((rc = sw_entry(&w, "./Contents", AE_IFDIR | 0755, NULL, 0, 0, NULL)) ||
	    (rc = sw_entry(&w, "./Contents/Resources", AE_IFDIR | 0755, NULL, 0, 0,
	    NULL)))
		goto out;
	if (!(res_dir = path_join(b->field[PKGFLAT_F_PATH], "Contents/Resources"))) {
		rc = fail_nomem(err);
		goto out;
	}
	/* The resources list is sorted: a directory comes before its files. */
	const char *skip_dir = NULL;
	for (size_t i = 0; i < pkgflat_component_resource_count(b) && !rc; i++) {
		const pkgflat_resource *r = pkgflat_component_resource(b, i);
		size_t sl = skip_dir ? strlen(skip_dir) : 0;
		if (skip_dir && !strncmp(r->path, skip_dir, sl) && r->path[sl] == '/')
			continue;
		skip_dir = NULL;
		if (!strcmp(r->role, "cheetah")) {
			res->skipped++;
			continue;
		}
		char *path = pf_asprintf("./Contents/Resources/%s", r->path);
		char *inner = path_join(res_dir, r->path);
		if (!path || !inner)
			rc = fail_nomem(err);
		else if (r->link_target && !r->is_dir)
			rc = sw_entry(&w, path, AE_IFLNK | 0755, NULL, 0,
			    strlen(r->link_target), r->link_target);
		else if (r->is_dir) {
			if (str_has_suffix(r->path, ".rtfd")) {
				/* A document for the Installer window, not for scripts. */
				skip_dir = r->path;
				res->skipped++;
			} else if (r->link_target) {
				rc = sw_entry(&w, path, AE_IFLNK | 0755, NULL, 0,
				    strlen(r->link_target), r->link_target);
			} else
				rc = sw_entry(&w, path, AE_IFDIR | 0755, NULL, 0, 0, NULL);
		} else {
			/* Scripts must be executable to run; helpers keep their
			 * modes, made readable. */
			mode_t mode = pkgflat_script_from_name(r->path) >= 0 ? 0755 :
			    (r->mode & 0111 ? 0755 : 0644);
			rc = sw_file(&w, inner, path, AE_IFREG | mode, r->size);
			res->shipped++;
		}
		free(path);
		free(inner);
	}
	if (rc)
		goto out;
	if (archive_write_close(w.a) != ARCHIVE_OK) {
		rc = sw_fail(&w, NULL);
		goto out;
	}
	if ((rc = xarw_file_end(job->xw, err)))
		goto out;
	open_file = 0;
	res->preinstall = want_pre;
	res->postinstall = want_post;
out:
	if (open_file)
		xarw_file_abort(job->xw);
	if (w.a)
		archive_write_free(w.a);
	sb_free(&pre);
	sb_free(&post);
	free(res_dir);
	return rc;
}

/* Script text that the wrappers cannot help: absolute references into the
 * old bundle layout other than Contents/Resources. */
void scripts_lint(const pkgflat_component *b, src *s, void (*warn)(void *ctx,
    const char *fmt, ...), void *ctx)
{
	for (int i = 0; i < PKGFLAT_SCRIPT_COUNT_; i++) {
		const char *p = pkgflat_component_script(b, i);
		unsigned char *d = NULL;
		size_t n = 0;
		pkgflat_error e;

		pkgflat_error_clear(&e);
		if (!p || src_read(s, p, 16u << 20, &d, &n, &e))
			continue;
		const char *t = (const char *)d;
		for (const char *q = strstr(t, "/Contents/"); q;
		    q = strstr(q + 1, "/Contents/")) {
			if (strncmp(q, "/Contents/Resources", 19)) {
				int len = (int)strcspn(q, " \t\n\"'");
				warn(ctx, "%s: refers to \"%.*s\", which a flat package "
				    "does not have", p, len > 60 ? 60 : len, q);
				break;
			}
		}
		free(d);
	}
}
