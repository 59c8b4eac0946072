/*
 * The Mach-O files inside a package's payloads, found by their magic as
 * the payloads stream (macho.c reads each one), and what they mean for
 * the package: the architectures Installer should be told about
 * (hostArchitectures), and what Apple's notary service would reject.
 *
 * The notary service's rules, as its log words them ("The binary is not
 * signed with a valid Developer ID certificate", "The signature does not
 * include a secure timestamp", "The executable does not have the hardened
 * runtime enabled", "The executable requests the
 * com.apple.security.get-task-allow entitlement", "The binary uses an SDK
 * older than the 10.9 SDK"), apply to code: executables, dylibs, bundles,
 * the dynamic linker and kexts. A Developer ID Application leaf carries
 * Apple's marker extension 1.2.840.113635.100.6.1.13; its OU is the team.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binaries.h"
#include "model.h"
#include "macho.h"
#include "payload.h"

struct bin {
	pkgflat_binary pub;
	char *component, *path, *archs, *min_os, *sdk, *identifier, *team_id,
	    *signer, *signer_team, *error;
};

struct pkgflat_binaries {
	ptrvec items;             /* struct bin * */
	char *team;
	unsigned int archs;
	char host[32];
	size_t rejected;
	pkgflat_status failed;    /* out of memory while collecting */
};

struct bincol {
	pkgflat_binaries *res;
	char *component, *payload;
	struct macho *m;          /* the file being read, if it may be Mach-O */
	int skip;                 /* the rest of this file is not Mach-O */
};

static const char *const reason_names[] = {
	"unsigned", "ad-hoc", "no-runtime", "no-timestamp", "get-task-allow",
	"not-developer-id", "other-team", "old-sdk", "unreadable",
	"signature-invalid", "code-modified",
};

const char *pkgflat_notary_reason_name(unsigned int reason)
{
	for (size_t i = 0; i < sizeof reason_names / sizeof *reason_names; i++)
		if (reason == 1u << i)
			return reason_names[i];
	return NULL;
}

static void bin_free(void *p)
{
	struct bin *b = p;

	if (!b)
		return;
	free(b->component);
	free(b->path);
	free(b->archs);
	free(b->min_os);
	free(b->sdk);
	free(b->identifier);
	free(b->team_id);
	free(b->signer);
	free(b->signer_team);
	free(b->error);
	free(b);
}

pkgflat_binaries *binaries_new(const char *team)
{
	pkgflat_binaries *r = pf_calloc(1, sizeof *r);

	if (r && team && team[0] && !(r->team = pf_strdup(team))) {
		free(r);
		return NULL;
	}
	return r;
}

void pkgflat_binaries_free(pkgflat_binaries *b)
{
	if (!b)
		return;
	pv_free(&b->items, bin_free);
	free(b->team);
	free(b);
}

size_t pkgflat_binaries_count(const pkgflat_binaries *b)
{
	return b ? b->items.n : 0;
}

const pkgflat_binary *pkgflat_binaries_get(const pkgflat_binaries *b,
    size_t i)
{
	return b && i < b->items.n ? &((struct bin *)b->items.v[i])->pub : NULL;
}

unsigned int pkgflat_binaries_archs(const pkgflat_binaries *b)
{
	return b ? b->archs : 0;
}

const char *pkgflat_binaries_host_archs(const pkgflat_binaries *b)
{
	return b && b->host[0] ? b->host : NULL;
}

size_t pkgflat_binaries_rejected(const pkgflat_binaries *b)
{
	return b ? b->rejected : 0;
}

const char *pkgflat_binaries_team(const pkgflat_binaries *b)
{
	return b ? b->team : NULL;
}

/* Code the notary service looks at (and Installer's architectures). */
static int is_code(uint32_t filetype)
{
	return filetype == 2 || filetype == 6 || filetype == 7 ||
	    filetype == 8 || filetype == 11;
}

static int dup_into(char **dst, const char *s)
{
	free(*dst);
	*dst = NULL;
	return !s || (*dst = pf_strdup(s)) != NULL;
}

/* What one slice adds to the file's reasons. */
static unsigned int judge_slice(const struct macho_slice *s, const char *team)
{
	unsigned int r = 0;

	if (!s->has_signature || !s->has_cd)
		r |= PKGFLAT_NOTARY_UNSIGNED;
	else if ((s->cd_flags & (MACHO_CS_ADHOC | MACHO_CS_LINKER_SIGNED)) ||
	    !s->has_cms || s->cms_empty)
		r |= PKGFLAT_NOTARY_ADHOC;
	else {
		if (s->cms_bad)
			r |= PKGFLAT_NOTARY_BAD_SIGNATURE;
		if (s->pages_bad)
			r |= PKGFLAT_NOTARY_CODE_MODIFIED;
		if (!(s->cd_flags & MACHO_CS_RUNTIME))
			r |= PKGFLAT_NOTARY_NO_RUNTIME;
		if (!s->has_timestamp)
			r |= PKGFLAT_NOTARY_NO_TIMESTAMP;
		if (!s->signer_devid_app)
			r |= PKGFLAT_NOTARY_NOT_DEVID;
		const char *t = s->signer_team ? s->signer_team : s->team_id;
		if (team && (!t || strcmp(t, team)))
			r |= PKGFLAT_NOTARY_OTHER_TEAM;
	}
	if (s->has_signature && s->get_task_allow)
		r |= PKGFLAT_NOTARY_GET_TASK_ALLOW;
	/* 10.9 is 0x000a0900; other platforms (iOS apps on a Mac) number
	 * their SDKs differently and are not judged. */
	if (!s->has_version || (s->platform == 1 && s->sdk < 0x000a0900u))
		r |= PKGFLAT_NOTARY_OLD_SDK;
	return r;
}

/* Fill b from a fully read Mach-O; 0 on success, -1 out of memory. */
static int describe(struct bin *b, const struct macho *m, const char *team)
{
	strbuf archs = { 0 };
	int signed_all = 1, runtime_all = 1, ts_all = 1, adhoc = 0, code = 0;
	int pages_all = 1, pages_bad = 0;
	uint32_t minos = 0, sdk = 0;
	int has_min = 0;
	char v[32];

	for (size_t i = 0; i < macho_slice_count(m); i++) {
		const struct macho_slice *s = macho_slice(m, i);
		code |= is_code(s->filetype);
		sb_addf(&archs, "%s%s", i ? "," : "", s->arch);
		b->pub.arch_mask |= s->family;
		if (s->has_signature && !s->pages_checked)
			pages_all = 0;
		pages_bad |= s->pages_bad;
		/* The first slice found changed names its page. */
		if (s->pages_bad && !(b->pub.notary & PKGFLAT_NOTARY_CODE_MODIFIED))
			b->pub.bad_page = s->bad_page;
		b->pub.notary |= judge_slice(s, team);
		if (s->has_version) {
			if (!has_min || s->minos < minos)
				minos = s->minos;
			if (!has_min || s->sdk < sdk)
				sdk = s->sdk;
			has_min = 1;
		}
		if (!s->has_signature)
			signed_all = 0;
		else {
			adhoc |= !!(s->cd_flags & MACHO_CS_ADHOC) || s->cms_empty ||
			    !s->has_cms;
			runtime_all &= !!(s->cd_flags & MACHO_CS_RUNTIME);
			if (s->has_cms && !s->cms_empty)
				ts_all &= s->has_timestamp;
		}
		if (!b->identifier && s->identifier &&
		    (!dup_into(&b->identifier, s->identifier) ||
		    !dup_into(&b->team_id, s->team_id)))
			goto nomem;
		if (!b->signer && s->signer_cn &&
		    (!dup_into(&b->signer, s->signer_cn) ||
		    !dup_into(&b->signer_team, s->signer_team)))
			goto nomem;
	}
	if (!code) {
		sb_free(&archs);
		return 1;   /* not code: not listed */
	}
	if (archs.oom)
		goto nomem;
	b->archs = sb_detach(&archs);
	if (has_min && (!(b->min_os = pf_strdup(macho_version_text(minos, v,
	    sizeof v))) || !(b->sdk = pf_strdup(macho_version_text(sdk, v,
	    sizeof v)))))
		return -1;
	b->pub.universal = macho_is_fat(m);
	b->pub.filetype = macho_filetype_name(macho_slice(m, 0)->filetype);
	b->pub.is_signed = signed_all;
	b->pub.adhoc = signed_all && adhoc;
	b->pub.runtime = signed_all && runtime_all;
	b->pub.timestamp = signed_all && !adhoc && ts_all;
	b->pub.code_pages = pages_bad ? -1 : signed_all && pages_all ? 1 : 0;
	return 0;
nomem:
	sb_free(&archs);
	return -1;
}

static void publish(struct bin *b, const char *team)
{
	b->pub.installer_team = team;
	b->pub.component = b->component;
	b->pub.path = b->path;
	b->pub.archs = b->archs ? b->archs : "";
	b->pub.min_os = b->min_os;
	b->pub.sdk = b->sdk;
	b->pub.identifier = b->identifier;
	b->pub.team_id = b->team_id;
	b->pub.signer = b->signer;
	b->pub.signer_team = b->signer_team;
	b->pub.error = b->error;
	if (!b->pub.filetype)
		b->pub.filetype = "unknown";
}

/* Put b in res, replacing an earlier entry for the same file. */
static int add(pkgflat_binaries *res, struct bin *b)
{
	publish(b, res->team);
	for (size_t i = 0; i < res->items.n; i++) {
		struct bin *o = res->items.v[i];
		if (!strcmp(o->path, b->path) && !strcmp(o->component, b->component)) {
			bin_free(o);
			res->items.v[i] = b;
			return 0;
		}
	}
	if (pv_push(&res->items, b)) {
		bin_free(b);
		return -1;
	}
	return 0;
}

struct bincol *bincol_new(pkgflat_binaries *res, const char *component,
    const char *payload)
{
	struct bincol *c = pf_calloc(1, sizeof *c);

	if (!c)
		return NULL;
	c->res = res;
	if (!(c->component = pf_strdup(component ? component : "")) ||
	    !(c->payload = pf_strdup(payload ? payload : "Payload"))) {
		bincol_free(c);
		return NULL;
	}
	return c;
}

void bincol_free(struct bincol *c)
{
	if (!c)
		return;
	macho_free(c->m);
	free(c->component);
	free(c->payload);
	free(c);
}

/* The file has ended (or failed): list it if it was Mach-O code. */
static int file_done(struct bincol *c, const pkgflat_entry *e,
    pkgflat_status rc, const pkgflat_error *merr)
{
	struct macho *m = c->m;
	struct bin *b = NULL;
	int r = 0;

	c->m = NULL;
	if (!m || macho_is_macho(m) != 1)
		goto out;
	if (!(b = pf_calloc(1, sizeof *b)) ||
	    !(b->component = pf_strdup(c->component)) ||
	    !(b->path = pf_strdup(e->path ? e->path : "")))
		goto nomem;
	if (rc) {
		if (!(b->error = pf_asprintf("%s%s%s", merr->where,
		    merr->where[0] ? ": " : "", merr->message)))
			goto nomem;
		b->pub.notary = PKGFLAT_NOTARY_UNREADABLE;
	} else {
		int d = describe(b, m, c->res->team);
		if (d < 0)
			goto nomem;
		if (d > 0) {
			bin_free(b);
			goto out;
		}
	}
	r = add(c->res, b);
	b = NULL;
	if (r)
		goto nomem;
out:
	macho_free(m);
	return 0;
nomem:
	bin_free(b);
	macho_free(m);
	c->res->failed = PKGFLAT_E_NOMEM;
	return -1;
}

int bincol_chunk(const pkgflat_entry *e, const unsigned char *buf, size_t n,
    void *ctx)
{
	struct bincol *c = ctx;
	pkgflat_error merr = { 0 };
	pkgflat_status rc = PKGFLAT_OK;

	if (!buf) {
		if (c->m)
			rc = macho_finish(c->m, &merr);
		c->skip = 0;
		return file_done(c, e, rc, &merr);
	}
	if (c->skip || !n)
		return 0;
	if (!c->m) {
		char *name = pf_asprintf("%s %s", c->payload, e->path ? e->path : "");
		c->m = name ? macho_new(name) : NULL;
		free(name);
		if (!c->m) {
			c->res->failed = PKGFLAT_E_NOMEM;
			return -1;
		}
	}
	rc = macho_feed(c->m, buf, n, &merr);
	if (rc == PKGFLAT_E_NOMEM) {
		c->res->failed = rc;
		return -1;
	}
	if (!rc && macho_is_macho(c->m) == 0) {
		macho_free(c->m);
		c->m = NULL;
		c->skip = 1;
	} else if (rc) {
		/* Malformed: say so now, skip the rest of the file. */
		c->skip = 1;
		return file_done(c, e, rc, &merr);
	}
	return 0;
}

void binaries_done(pkgflat_binaries *res)
{
	res->archs = 0;
	res->rejected = 0;
	for (size_t i = 0; i < res->items.n; i++) {
		const struct bin *b = res->items.v[i];
		res->archs |= b->pub.arch_mask;
		res->rejected += b->pub.notary != 0;
	}
	/* Installer knows arm64 and x86_64 hosts; i386 and ppc binaries
	 * run on neither Apple silicon nor any macOS of the last years. */
	snprintf(res->host, sizeof res->host, "%s%s%s",
	    res->archs & PKGFLAT_ARCH_ARM64 ? "arm64" : "",
	    (res->archs & PKGFLAT_ARCH_ARM64) && (res->archs &
	    PKGFLAT_ARCH_X86_64) ? "," : "",
	    res->archs & PKGFLAT_ARCH_X86_64 ? "x86_64" : "");
}

char *binaries_arch_warning(const pkgflat_binaries *res, int rosetta)
{
	strbuf sb = { 0 };
	size_t n = 0, shown = 0;

	for (size_t i = 0; i < res->items.n; i++) {
		const struct bin *b = res->items.v[i];
		unsigned int m = b->pub.arch_mask;
		if (b->error || (m & PKGFLAT_ARCH_ARM64) ||
		    !(m & PKGFLAT_ARCH_X86_64) != !rosetta)
			continue;
		if (n++ < 5)
			sb_addf(&sb, "%s%s (%s)", shown++ ? ", " : "", b->path,
			    b->pub.archs);
	}
	if (!n)
		return NULL;
	if (n > shown)
		sb_addf(&sb, " and %zu more", n - shown);
	if (sb.oom) {
		sb_free(&sb);
		return NULL;
	}
	char *msg = rosetta ? pf_asprintf("Apple silicon Macs will need "
	    "Rosetta: %zu binar%s without arm64: %s", n, n == 1 ? "y" : "ies",
	    sb.buf) : pf_asprintf("%zu binar%s neither arm64 nor x86_64, "
	    "for no Mac that runs macOS 10.15 or later: %s", n,
	    n == 1 ? "y has" : "ies have", sb.buf);
	sb_free(&sb);
	return msg;
}

const char *pkgflat_binary_notary_text(const pkgflat_binary *b, char *buf,
    size_t size)
{
	strbuf sb = { 0 };
	unsigned int r = b->notary;

	if (!size)
		return buf;
	buf[0] = 0;
#define SEP (sb.len ? "; " : "")
	if (r & PKGFLAT_NOTARY_UNREADABLE)
		sb_addf(&sb, "%snot a readable Mach-O file: %s", SEP,
		    b->error ? b->error : "malformed");
	if (r & PKGFLAT_NOTARY_UNSIGNED)
		sb_addf(&sb, "%sunsigned", SEP);
	if (r & PKGFLAT_NOTARY_ADHOC)
		sb_addf(&sb, "%sad-hoc signed (no certificate)", SEP);
	if (r & PKGFLAT_NOTARY_BAD_SIGNATURE)
		sb_addf(&sb, "%scode signature does not verify (its CMS signature "
		    "does not match the CodeDirectory)", SEP);
	if (r & PKGFLAT_NOTARY_CODE_MODIFIED)
		sb_addf(&sb, "%scode changed after signing (page %u, bytes %llu to "
		    "%llu, does not match its hash in the CodeDirectory)", SEP,
		    b->bad_page, (unsigned long long)b->bad_page * 4096,
		    (unsigned long long)b->bad_page * 4096 + 4095);
	if (r & PKGFLAT_NOTARY_NOT_DEVID)
		sb_addf(&sb, "%ssigned by \"%s\", not a Developer ID Application "
		    "certificate", SEP, b->signer ? b->signer : "an unnamed "
		    "certificate");
	if (r & PKGFLAT_NOTARY_OTHER_TEAM) {
		const char *t = b->signer_team ? b->signer_team : b->team_id;
		sb_addf(&sb, "%ssigned by team %s, the installer by team %s", SEP,
		    t ? t : "(none)", b->installer_team ? b->installer_team : "?");
	}
	if (r & PKGFLAT_NOTARY_NO_RUNTIME)
		sb_addf(&sb, "%ssigned without the hardened runtime", SEP);
	if (r & PKGFLAT_NOTARY_NO_TIMESTAMP)
		sb_addf(&sb, "%ssigned without a secure timestamp", SEP);
	if (r & PKGFLAT_NOTARY_GET_TASK_ALLOW)
		sb_addf(&sb, "%shas the com.apple.security.get-task-allow "
		    "entitlement", SEP);
	if (r & PKGFLAT_NOTARY_OLD_SDK) {
		if (b->sdk)
			sb_addf(&sb, "%sbuilt against the macOS %s SDK, older than "
			    "10.9", SEP, b->sdk);
		else
			sb_addf(&sb, "%sbuilt against an SDK older than 10.9 (no SDK "
			    "version recorded)", SEP);
	}
#undef SEP
	snprintf(buf, size, "%s", sb.buf ? sb.buf : "");
	sb_free(&sb);
	return buf;
}

static int no_entry(const pkgflat_entry *e, void *ctx)
{
	(void)e;
	(void)ctx;
	return 0;
}

pkgflat_status pkgflat_package_binaries(pkgflat_package *pkg,
    const char *team, pkgflat_binaries **out, pkgflat_error *err)
{
	pkgflat_binaries *res = binaries_new(team);
	pkgflat_status rc = PKGFLAT_OK;

	*out = NULL;
	if (!res)
		return fail_nomem(err);
	for (size_t i = 0; !rc && i < pkgflat_package_component_count(pkg); i++) {
		const pkgflat_component *b = pkgflat_package_component(pkg, i);
		if (!pkgflat_component_has_payload(b))
			continue;
		const char *id = pkgflat_component_identifier(b);
		struct bincol *c = bincol_new(res, id, id);
		if (!c) {
			rc = fail_nomem(err);
			break;
		}
		struct payload_opts opt = { .chunk_fn = bincol_chunk };
		rc = component_walk_payload(b, no_entry, c, &opt, err);
		if (res->failed)
			rc = fail_nomem(err);
		bincol_free(c);
	}
	if (rc) {
		pkgflat_binaries_free(res);
		return rc;
	}
	binaries_done(res);
	*out = res;
	return PKGFLAT_OK;
}

/* The OU of a one-line subject ("/CN=.../OU=TEAMID1234/O=..."). */
static char *subject_ou(const char *subj)
{
	const char *p = strstr(subj, "/OU=");

	if (!p)
		return NULL;
	p += 4;
	return pf_strndup(p, strcspn(p, "/"));
}

pkgflat_status pkgflat_notary_preflight(const char *path,
    pkgflat_binaries **out, pkgflat_error *err)
{
	pkgflat_package *pkg = NULL;
	pkgflat_flat_info info;
	char *team = NULL;
	pkgflat_status rc;

	*out = NULL;
	/* A flat package's signer: only a file has one. */
	memset(&info, 0, sizeof info);
	pkgflat_error ierr = { 0 };
	if (pkgflat_flat_inspect(path, &info, &ierr) == PKGFLAT_OK &&
	    info.signer[0] && !(team = subject_ou(info.signer)))
		return fail_nomem(err);
	if (!(rc = pkgflat_package_open(path, &pkg, err)))
		rc = pkgflat_package_binaries(pkg, team, out, err);
	pkgflat_package_free(pkg);
	free(team);
	return rc;
}
