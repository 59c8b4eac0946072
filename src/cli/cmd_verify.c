/* pkgflat verify: check a flat package as pkgutil --check-signature and
 * Installer do, and name every check with its result. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char verify_help[] =
    "usage: pkgflat verify [options] PKG\n"
    "\n"
    "Check a flat package (.pkg, XAR) the way 'pkgutil --check-signature' and\n"
    "Installer do, without a Mac. The first lines are modelled on pkgutil:\n"
    "the status, the trusted timestamp, the certificate chain with SHA-256\n"
    "fingerprints and expiry dates. Then one line per check, each run even\n"
    "when an earlier one failed ('ok', 'FAIL', 'skip' when what it needs is\n"
    "broken, 'n/a' when it does not apply):\n"
    "\n"
    "  xar-structure   header (magic, size 28, version 1, checksum algorithm),\n"
    "                  the TOC inflates to its declared length and parses, every\n"
    "                  heap range inside the heap, no two overlapping; bytes\n"
    "                  after the heap: a stapled ticket is shown, anything else\n"
    "                  is noted (no hash covers it)\n"
    "  toc-checksum    the stored TOC checksum matches the compressed TOC\n"
    "  file-checksums  every file's archived checksum (stored bytes) and\n"
    "                  extracted checksum (decoded: zlib, bzip2, xz)\n"
    "  rsa-signature   PKCS#1 v1.5 over DigestInfo(sha1) || checksum with the\n"
    "                  KeyInfo leaf's key; the hash-of-hash form of macOS 11's\n"
    "                  productsign is accepted and named\n"
    "  cms-signature   detached CMS over the checksum (BER or DER, zero\n"
    "                  padding), signed by the KeyInfo leaf\n"
    "  chain           the leaf chains to a trusted root through the\n"
    "                  certificates the package carries; Apple's critical\n"
    "                  extensions are understood\n"
    "  policy          Developer ID Installer or Mac Installer Distribution\n"
    "  time            with an RFC 3161 timestamp in the CMS: the token verifies\n"
    "                  and the certificates were valid at its time; without\n"
    "                  one, they are valid now (or at --at)\n"
    "\n"
    "Trusted roots: Apple Root CA, Apple Root CA - G2 and - G3 are built in.\n"
    "\n"
    "options:\n"
    "  --ca FILE          trust the certificates in FILE (PEM, one or more)\n"
    "                     as well; may be repeated\n"
    "  --ca-only FILE     trust only the certificates in FILE (and any other\n"
    "                     --ca/--ca-only files), not the built-in Apple roots\n"
    "  --at TIME          judge certificate validity at TIME (UTC) when the\n"
    "                     package has no timestamp: YYYY-MM-DD,\n"
    "                     'YYYY-MM-DD HH:MM:SS' or YYYY-MM-DDTHH:MM:SSZ\n"
    "  --allow-unsigned   an unsigned package that passes every other check\n"
    "                     exits 0\n"
    "  --signature-only   header, TOC, signatures, chain and every file's\n"
    "                     checksums only, no package-structure checks\n"
    "  --notarization     instead of the checks above, the notarization\n"
    "                     pre-flight: one line per Mach-O binary in the\n"
    "                     payloads that Apple's notary service would reject\n"
    "                     (unsigned, ad-hoc signed, no hardened runtime, no\n"
    "                     secure timestamp, get-task-allow, not Developer ID\n"
    "                     Application, another team than the package's\n"
    "                     signer, SDK older than 10.9); exit 1 when one\n"
    "                     would be\n"
    "  --json             print one JSON object instead of text\n"
    UI_OPTIONS_HELP
    "  -h, --help         show this help\n";

/* Split: C11 compilers need only take 4095 bytes in one string. */
static const char verify_help_more[] =
    "\n"
    "A disk image (.dmg) instead has its three UDIF CRC-32 checksums checked:\n"
    "the data fork's, each partition's and the master checksum; a mismatch\n"
    "exits 1.\n"
    "\n"
    "'pkgflat check-signature PKG' (the same options) is 'verify\n"
    "--signature-only' printing only pkgutil --check-signature's lines (with\n"
    "-v, the checks too); it exits 0 when the signature is trusted, 1 when\n"
    "the package is unsigned or the signature is not trusted.\n"
    "\n"
    "exit status: 0 every check passed, 1 a check failed or the package is\n"
    "unsigned (without --allow-unsigned), or with --notarization a binary\n"
    "would be rejected, 2 usage error, 3 the file cannot be\n"
    "read or is not a flat package, or a --ca file cannot be read\n";

static const char *status_text(const pkgflat_verify_report *r)
{
	const char *first = NULL;

	for (size_t i = 0; i < pkgflat_verify_check_count(r) && !first; i++)
		if (pkgflat_verify_check(r, i)->result == PKGFLAT_CHECK_FAIL)
			first = pkgflat_verify_check(r, i)->name;
	switch (pkgflat_verify_verdict(r)) {
	case PKGFLAT_VERDICT_DEVELOPER_ID:
		return "signed by a developer certificate issued by Apple for "
		    "distribution";
	case PKGFLAT_VERDICT_APPLE_TRUSTED:
		return "signed by a certificate trusted by macOS";
	case PKGFLAT_VERDICT_CA_TRUSTED:
		return "signed by a certificate trusted through --ca (not an Apple "
		    "root)";
	case PKGFLAT_VERDICT_UNSIGNED:
		return "no signature";
	case PKGFLAT_VERDICT_INVALID:
		return first && !strcmp(first, "xar-structure") ?
		    "package is invalid (malformed archive)" :
		    first && !strcmp(first, "package-structure") ?
		    "package is invalid (not an installable package)" :
		    "package is invalid (checksum did not verify)";
	case PKGFLAT_VERDICT_BAD_SIGNATURE:
		return "invalid signature";
	case PKGFLAT_VERDICT_UNTRUSTED:
		return "signed by untrusted certificate";
	case PKGFLAT_VERDICT_NOT_INSTALLER:
		return "signed by a certificate that is not for installer packages";
	case PKGFLAT_VERDICT_EXPIRED:
		return "signed by a certificate that has since expired";
	}
	return "?";
}

static void time_text(int64_t t, char *buf, size_t n, int iso)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, n, iso ? "%Y-%m-%dT%H:%M:%SZ" :
	    "%Y-%m-%d %H:%M:%S +0000", &tm))
		snprintf(buf, n, "@%lld", (long long)t);
}

/* "YYYY-MM-DD", "YYYY-MM-DD HH:MM:SS", "YYYY-MM-DDTHH:MM:SS[Z]", UTC. */
static int parse_time(const char *s, int64_t *out)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
	char sep = 0;

	memset(&tm, 0, sizeof tm);
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3)
		return -1;
	s += n;
	if (*s) {
		sep = *s++;
		if ((sep != ' ' && sep != 'T') ||
		    sscanf(s, "%2d:%2d:%2d%n", &h, &mi, &sec, &n) != 3)
			return -1;
		s += n;
		if (*s == 'Z')
			s++;
		if (*s)
			return -1;
	}
	if (y < 1950 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60 || h < 0 || mi < 0 || sec < 0)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = (int64_t)timegm(&tm);
	return 0;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s && s[1] ? s + 1 : p;
}

static void print_fingerprint(const char *hex)
{
	for (size_t i = 0; hex[i] && hex[i + 1]; i += 2) {
		if (i % 32 == 0)
			fputs(i ? "\n           " : "           ", stdout);
		printf("%c%c ", hex[i] >= 'a' ? hex[i] - 32 : hex[i],
		    hex[i + 1] >= 'a' ? hex[i + 1] - 32 : hex[i + 1]);
	}
	putchar('\n');
}

/* The lines pkgutil --check-signature prints; the number failed. */
static size_t print_pkgutil(const char *path, const pkgflat_verify_report *r)
{
	const pkgflat_verify_facts *f = pkgflat_verify_get_facts(r);
	size_t n = pkgflat_verify_check_count(r), failed = 0;
	char t[40];

	printf("Package \"");
	print_text(stdout, base_name(path));
	printf("\":\n   Status: %s", status_text(r));
	for (size_t i = 0; i < n; i++)
		if (pkgflat_verify_check(r, i)->result == PKGFLAT_CHECK_FAIL)
			printf("%s%s", failed++ ? ", " : " (failed: ",
			    pkgflat_verify_check(r, i)->name);
	printf("%s\n", failed ? ")" : "");
	if (f->timestamp_trusted) {
		time_text(f->timestamp, t, sizeof t, 0);
		printf("   Signed with a trusted timestamp on: %s\n", t);
	} else if (f->has_timestamp) {
		printf("   Timestamp: present but not trusted\n");
	}
	if (f->is_signed && !f->timestamp_trusted && f->judged_at) {
		time_text(f->judged_at, t, sizeof t, 0);
		printf("   Certificates judged at: %s (%s; no trusted timestamp)\n",
		    t, f->judged_by);
	}
	if (f->stapled)
		printf("   Notarization ticket: stapled (%llu bytes, record %s)\n",
		    (unsigned long long)f->ticket_length, f->ticket_key);
	if (pkgflat_verify_cert_count(r)) {
		printf("   Certificate Chain:\n");
		for (size_t i = 0; i < pkgflat_verify_cert_count(r); i++) {
			const pkgflat_cert *c = pkgflat_verify_cert(r, i);
			if (i)
				printf("       ------------------------------------------"
				    "------------------------------\n");
			printf("    %zu. ", i + 1);
			print_text(stdout, c->common_name);
			printf("%s\n", c->from_store ? " (from the trust store)" : "");
			time_text(c->not_after, t, sizeof t, 0);
			printf("       Expires: %s\n       SHA256 Fingerprint:\n", t);
			print_fingerprint(c->sha256);
		}
	}
	return failed;
}

static void print_text_report(const char *path, const pkgflat_verify_report *r,
    int allow_unsigned)
{
	size_t n = pkgflat_verify_check_count(r), failed = print_pkgutil(path, r);

	putchar('\n');
	for (size_t i = 0; i < n; i++) {
		const pkgflat_check *c = pkgflat_verify_check(r, i);
		static const char *const tag[] = {
			[PKGFLAT_CHECK_PASS] = "ok", [PKGFLAT_CHECK_FAIL] = "FAIL",
			[PKGFLAT_CHECK_SKIPPED] = "skip", [PKGFLAT_CHECK_NA] = "n/a",
		};
		printf("%-4s %s: ", tag[c->result], c->name);
		print_text(stdout, c->message);
		putchar('\n');
	}
	for (size_t i = 0; i < pkgflat_verify_note_count(r); i++) {
		const pkgflat_verify_note *nt = pkgflat_verify_get_note(r, i);
		printf("note %s: ", nt->check);
		print_text(stdout, nt->text);
		putchar('\n');
	}
	/* Unsigned is not invalid: say which of the two it is. */
	if (!failed && pkgflat_verify_verdict(r) == PKGFLAT_VERDICT_UNSIGNED)
		printf(allow_unsigned ? "\nno check failed (unsigned, accepted "
		    "with --allow-unsigned)\n" : "\nunsigned (exit 1; "
		    "--allow-unsigned accepts it)\n");
	else if (failed) {
		printf("\n%zu of %zu checks failed:", failed, n);
		for (size_t i = 0; i < n; i++)
			if (pkgflat_verify_check(r, i)->result == PKGFLAT_CHECK_FAIL)
				printf(" %s", pkgflat_verify_check(r, i)->name);
		putchar('\n');
	} else
		printf("\nno check failed\n");
}

static void print_json_report(const char *path, const pkgflat_verify_report *r,
    int ok)
{
	const pkgflat_verify_facts *f = pkgflat_verify_get_facts(r);
	static const char *const policies[] = {
		[PKGFLAT_POLICY_NEITHER] = "neither",
		[PKGFLAT_POLICY_DEVELOPER_ID] = "developer-id-installer",
		[PKGFLAT_POLICY_MAC_INSTALLER] = "mac-installer-distribution",
	};
	json j = { .f = stdout };
	char t[40];

	json_begin_object(&j, NULL);
	json_string(&j, "package", path);
	json_bool(&j, "ok", ok);
	json_string(&j, "status", pkgflat_verdict_name(pkgflat_verify_verdict(r)));
	json_string(&j, "status_text", status_text(r));
	json_begin_array(&j, "failed");
	for (size_t i = 0; i < pkgflat_verify_check_count(r); i++)
		if (pkgflat_verify_check(r, i)->result == PKGFLAT_CHECK_FAIL)
			json_string(&j, NULL, pkgflat_verify_check(r, i)->name);
	json_end_array(&j);
	json_bool(&j, "signed", f->is_signed);
	json_bool(&j, "rsa", f->has_rsa);
	json_bool(&j, "cms", f->has_cms);
	json_string(&j, "rsa_form", f->rsa_form);
	json_begin_object(&j, "timestamp");
	json_bool(&j, "present", f->has_timestamp);
	json_bool(&j, "trusted", f->timestamp_trusted);
	time_text(f->timestamp, t, sizeof t, 1);
	json_string(&j, "time", f->has_timestamp && f->timestamp ? t : NULL);
	json_end_object(&j);
	time_text(f->judged_at, t, sizeof t, 1);
	json_string(&j, "judged_at", f->judged_at ? t : NULL);
	json_string(&j, "judged_by", f->judged_at ? f->judged_by : NULL);
	json_string(&j, "policy", f->is_signed ? policies[f->policy] : NULL);
	json_bool(&j, "apple_root", f->apple_root);
	if (f->stapled) {
		json_begin_object(&j, "stapled_ticket");
		json_uint(&j, "length", f->ticket_length);
		json_string(&j, "record", f->ticket_key);
		json_end_object(&j);
	} else
		json_string(&j, "stapled_ticket", NULL);
	json_begin_array(&j, "certificates");
	for (size_t i = 0; i < pkgflat_verify_cert_count(r); i++) {
		const pkgflat_cert *c = pkgflat_verify_cert(r, i);
		json_begin_object(&j, NULL);
		json_string(&j, "common_name", c->common_name);
		json_string(&j, "subject", c->subject);
		json_string(&j, "sha256", c->sha256);
		time_text(c->not_before, t, sizeof t, 1);
		json_string(&j, "not_before", t);
		time_text(c->not_after, t, sizeof t, 1);
		json_string(&j, "not_after", t);
		json_string(&j, "source", c->from_store ? "trust store" : "package");
		json_end_object(&j);
	}
	json_end_array(&j);
	json_begin_array(&j, "checks");
	for (size_t i = 0; i < pkgflat_verify_check_count(r); i++) {
		const pkgflat_check *c = pkgflat_verify_check(r, i);
		json_begin_object(&j, NULL);
		json_string(&j, "name", c->name);
		json_string(&j, "result", pkgflat_check_result_name(c->result));
		json_string(&j, "message", c->message);
		json_end_object(&j);
	}
	json_end_array(&j);
	json_begin_array(&j, "notes");
	for (size_t i = 0; i < pkgflat_verify_note_count(r); i++) {
		const pkgflat_verify_note *nt = pkgflat_verify_get_note(r, i);
		json_begin_object(&j, NULL);
		json_string(&j, "check", nt->check);
		json_string(&j, "note", nt->text);
		json_end_object(&j);
	}
	json_end_array(&j);
	json_end_object(&j);
	json_finish(&j);
}

#define MAX_CA 16

/* What pkgutil --check-signature accepts. */
static int trusted(enum pkgflat_verdict v)
{
	return v == PKGFLAT_VERDICT_DEVELOPER_ID ||
	    v == PKGFLAT_VERDICT_APPLE_TRUSTED || v == PKGFLAT_VERDICT_CA_TRUSTED;
}

static int verify_main(const char *cmd, int argc, char **argv, int pkgutil)
{
	static const struct option opts[] = {
		{ "ca", required_argument, NULL, 'c' },
		{ "ca-only", required_argument, NULL, 'C' },
		{ "at", required_argument, NULL, 'a' },
		{ "allow-unsigned", no_argument, NULL, 'u' },
		{ "signature-only", no_argument, NULL, 's' },
		{ "notarization", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		UI_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ca[MAX_CA];
	pkgflat_verify_options o;
	pkgflat_verify_report *r = NULL;
	pkgflat_error err;
	struct ui u = UI_INIT;
	struct progress prog;
	int json_out = 0, allow_unsigned = 0, notarization = 0, c, rc;

	pkgflat_verify_options_init(&o);
	o.ca_files = ca;
	o.signature_only = pkgutil;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vqh", opts, NULL)) != -1) {
		if (ui_option(c, &u))
			continue;
		switch (c) {
		case 'C':
			o.no_apple_roots = 1;
			/* fall through */
		case 'c':
			if (o.ca_count == MAX_CA)
				return usage_error(cmd, "at most %d --ca files", MAX_CA);
			ca[o.ca_count++] = optarg;
			break;
		case 'a':
			if (parse_time(optarg, &o.at))
				return usage_error(cmd, "--at: \"%s\" is not "
				    "YYYY-MM-DD[ HH:MM:SS] (UTC)", optarg);
			break;
		case 'u': allow_unsigned = 1; break;
		case 's': o.signature_only = 1; break;
		case 'n': notarization = 1; break;
		case 'j': json_out = 1; break;
		case 'h':
			fputs(verify_help, stdout);
			fputs(verify_help_more, stdout);
			return EXIT_OK;
		default:
			return option_error_table(cmd, c, argv, opts);
		}
	}
	if (optind != argc - 1)
		return usage_error(cmd, optind == argc ? "no package named" :
		    "one package at a time");
	/* A disk image: its UDIF checksums (data fork, partitions, master). */
	if (!pkgutil && !notarization && pkgflat_file_is_image(argv[optind]))
		return image_verify(argv[optind], NULL);
	if (notarization)
		return verify_notarization(argv[optind], json_out, u.quiet);
	if ((rc = refuse_bundle(argv[optind])))
		return rc;
	progress_init(&prog, cmd, u.quiet ? 0 : u.progress);
	o.progress = progress_cb;
	o.progress_ctx = &prog;
	pkgflat_error_clear(&err);
	rc = pkgflat_verify(argv[optind], &o, &r, &err);
	progress_end(&prog);
	if (rc) {
		report_error(&err);
		return EXIT_ERROR;
	}
	enum pkgflat_verdict v = pkgflat_verify_verdict(r);
	int ok = pkgutil ? trusted(v) : pkgflat_verify_failures(r) == 0 &&
	    (v != PKGFLAT_VERDICT_UNSIGNED || allow_unsigned);
	if (!u.quiet) {
		if (json_out)
			print_json_report(argv[optind], r, ok);
		else if (pkgutil && !u.verbose)
			print_pkgutil(argv[optind], r);
		else
			print_text_report(argv[optind], r, allow_unsigned);
	}
	pkgflat_verify_report_free(r);
	return ok ? EXIT_OK : EXIT_NEGATIVE;
}

int cmd_verify(int argc, char **argv)
{
	return verify_main("verify", argc, argv, 0);
}

int cmd_check_signature(int argc, char **argv)
{
	return verify_main("check-signature", argc, argv, 1);
}
