/* pkgflat sign: sign or re-sign a flat package as productsign does, in one
 * step or in two (--prepare here, the key elsewhere, --inject here). */
#include <getopt.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"

static const char sign_help[] =
    "usage: pkgflat sign IDENTITY [--force] [--timestamp[=URL|none]] [--fsync]\n"
    "                    IN.pkg -o OUT.pkg\n"
    "       pkgflat sign [options] IN.pkg OUT.pkg       (productsign's order)\n"
    "       pkgflat sign --prepare DIR --cert FILE [--chain FILE] [--force] IN.pkg\n"
    "       pkgflat sign --inject DIR [--timestamp[=URL]] [--fsync] IN.pkg -o OUT.pkg\n"
    "\n"
    "Sign a flat package the way productsign does: a SHA-1 TOC checksum, an\n"
    "RSA signature (PKCS#1 v1.5 over the checksum) and a detached CMS\n"
    "signature, both carrying the whole certificate chain. Old signatures\n"
    "and a stapled ticket are dropped first; the file data is copied once,\n"
    "unchanged. OUT may equal IN (signing in place: the same path, or a\n"
    "symlink to it, whose file is then rewritten): it is replaced only when\n"
    "complete. OUT that is IN by another name (a hard link), or an identity\n"
    "file or the request directory, is refused (exit 2) before any work.\n"
    "\n"
    "identity:\n"
    "  --p12 FILE               PKCS#12 with key, certificate and chain\n"
    "  --sign NAME              with --p12 holding several identities (a\n"
    "                           keychain export): the one whose certificate's\n"
    "                           common name contains NAME, as productsign\n"
    "                           --sign picks from a keychain\n"
    "  --key FILE --cert FILE   private key and certificate (PEM or DER)\n"
    "  --key pkcs11:URI --cert FILE\n"
    "                           a key in a PKCS#11 token through OpenSSL's\n"
    "                           pkcs11 engine; --pass gives the PIN;\n"
    "                           PKGFLAT_PKCS11_MODULE picks the module\n"
    "  --sign-command CMD --cert FILE\n"
    "                           an external signer (HSM, remote service): CMD\n"
    "                           runs under /bin/sh, reads a DER DigestInfo\n"
    "                           (SHA-1, 35 bytes) on stdin and writes its RSA\n"
    "                           PKCS#1 v1.5 signature (modulus size) on stdout,\n"
    "                           like 'openssl pkeyutl -sign -inkey KEY'; it\n"
    "                           runs twice (RSA, then CMS) and every signature\n"
    "                           is checked against the certificate\n"
    "  --chain FILE             intermediates and root (PEM); replaces others.\n"
    "                           --cert is the leaf only: a CA certificate there\n"
    "                           (productsign's --cert adds an intermediate) is\n"
    "                           refused\n"
    "  --pass SPEC              env:VAR, file:PATH or fd:N (never the\n"
    "                           passphrase itself)\n"
    "  --force                  sign even if the certificate is expired or is\n"
    "                           not a Developer ID Installer certificate\n"
    "\n"
    "options:\n";

static const char sign_help_options[] =
    "  --timestamp[=URL]        add an RFC 3161 timestamp to the CMS signature\n"
    "                           (default server: Apple's, as productsign uses;\n"
    "                           http_proxy is honoured); failing to get one is\n"
    "                           an error and nothing is written. Without this\n"
    "                           option, an identity that chains to an Apple\n"
    "                           root is timestamped by Apple's server, as\n"
    "                           productsign does with Developer ID\n"
    "  --timestamp=none         no timestamp, whatever the identity\n"
    "  --timestamp-timeout SEC  how long to wait for the server (default 30)\n"
    "  --fsync                  flush OUT to disk before renaming it into place\n"
    "                           (durable across power loss; slower). Without\n"
    "                           it, like cp, the data may still sit in the page\n"
    "                           cache when pkgflat exits; OUT is never partial\n"
    "                           either way. PKGFLAT_FSYNC=1 does the same for\n"
    "                           every command that writes packages\n"
    UI_OPTIONS_HELP
    "  -h, --help               show this help\n"
    "\n"
    "On success one line says what was written, as whom, and whether it was\n"
    "timestamped (by which server).\n"
    ;

static const char sign_help_twostep[] =
    "\n"
    "Two-step signing, when the key is on another machine:\n"
    "  1. pkgflat sign --prepare DIR --cert LEAF [--chain CHAIN] IN.pkg\n"
    "     needs no key. Creates the directory DIR (it must not exist) with\n"
    "     rsa.tbs and cms.tbs, the bytes to sign: each a DER DigestInfo\n"
    "     (SHA-1, 35 bytes), exactly what --sign-command gets on stdin;\n"
    "     rsa.sha1 and cms.sha1, the 20-byte hash inside each; README; and\n"
    "     state, head and certs.pem, which pin everything inject needs: the\n"
    "     new TOC and its checksum, the signing time, the certificates, and\n"
    "     the size and SHA-256 of IN.pkg. Room for a timestamp is reserved.\n"
    "  2. Where the key is, write the raw PKCS#1 v1.5 RSA signature of\n"
    "     rsa.tbs to DIR/rsa.sig and of cms.tbs to DIR/cms.sig (modulus size\n"
    "     each), e.g. 'openssl pkeyutl -sign -inkey KEY -in DIR/rsa.tbs -out\n"
    "     DIR/rsa.sig', or '-pkeyopt digest:sha1 -in DIR/rsa.sha1'; an HSM:\n"
    "     CKM_RSA_PKCS over the .tbs bytes. The same signer as --sign-command.\n"
    "  3. pkgflat sign --inject DIR IN.pkg -o OUT.pkg checks both signatures\n"
    "     against the certificate, that DIR is unchanged since step 1 and\n"
    "     that IN.pkg is the very file prepared (else exit 3, nothing\n"
    "     written), adds a timestamp if asked, and writes what one-step\n"
    "     signing with the key would have written.\n"
    "\n"
    "SOURCE_DATE_EPOCH fixes the time written into the signature, so that\n"
    "signing twice gives identical files. When the chain (and timestamp) do\n"
    "not fit productsign's 9216 bytes for the CMS, more is reserved and a\n"
    "warning says so. A package whose files take 16 MiB or more gets up to\n"
    "about 96 KiB more zero padding after the CMS and spaces before </xar>\n"
    "in its TOC: its file data then sits at the same offset modulo 64 KiB\n"
    "as in IN.pkg, which Linux copies fastest, and is copied while the key\n"
    "is read.\n"
    "\n"
    "exit status: 0 signed (or prepared), 2 usage error (also: an output\n"
    "that is an input), 3 unreadable input,\n"
    "bad identity, a signature that does not verify, a request that does not\n"
    "match, or the output could not be written\n";

static void warn_growth(const char *what, const pkgflat_sign_result *res)
{
	if (res->note) {
		struct msg m;
		msg_start(&m, stderr);
		msg_add(&m, "%s: warning: ", progname);
		msg_text(&m, what);
		msg_add(&m, ": ");
		msg_text(&m, res->note);
		msg_add(&m, "\n");
		msg_end(&m);
	}
}

/* "signed OUT: N bytes, signed as "CN" (team T), no timestamp" */
static void summary(const struct ui *u, const char *out,
    const pkgflat_identity *id, const struct tsa_opts *tsa)
{
	struct stat sb;
	char how[2048];

	if (u->quiet || stat(out, &sb) != 0)
		return;
	signing_text(how, sizeof how, id, tsa);
	say(u, NULL, "signed %s: %lld bytes, %s", out, (long long)sb.st_size, how);
}

int cmd_sign(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		IDENTITY_OPTIONS,
		{ "sign", required_argument, NULL, 'N' },
		{ "prepare", required_argument, NULL, 'R' },
		{ "inject", required_argument, NULL, 'I' },
		{ "fsync", no_argument, NULL, 'Y' },
		UI_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	pkgflat_identity_spec spec = { 0 };
	pkgflat_sign_options opt;
	pkgflat_sign_result res = { 0 };
	struct tsa_opts tsa = { 0 };
	struct ui u = UI_INIT;
	struct progress prog;
	const char *out = NULL, *prepare = NULL, *inject = NULL, *in;
	int force = 0, c, rc;
	pkgflat_identity *id = NULL;
	pkgflat_error err;

	pkgflat_sign_options_init(&opt);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:vqh", opts, NULL)) != -1) {
		if (identity_option(c, &spec, &force, &tsa) || ui_option(c, &u))
			continue;
		switch (c) {
		case 'o': out = optarg; break;
		case 'N': spec.name = optarg; break;
		case 'R': prepare = optarg; break;
		case 'I': inject = optarg; break;
		case 'Y': opt.fsync = 1; break;
		case 'h':
			fputs(sign_help, stdout);
			fputs(sign_help_options, stdout);
			fputs(sign_help_twostep, stdout);
			return EXIT_OK;
		default:
			return option_error_table("sign", c, argv, opts);
		}
	}
	/* productsign's form: IN.pkg OUT.pkg, no -o. */
	if (!prepare && argc - optind == 2) {
		if (out)
			return usage_error("sign", "OUT twice: give it as the last "
			    "argument or with -o, not both");
		out = argv[argc - 1];
		argc--;
	}
	if (optind != argc - 1)
		return usage_error("sign", optind == argc ? "no package named" :
		    "one package at a time");
	in = argv[optind];
	if (prepare && inject)
		return usage_error("sign", "--prepare and --inject are two steps: "
		    "one at a time");
	if (!prepare && !out)
		return usage_error("sign", "no output file: use -o OUT.pkg");
	if (spec.name && !spec.p12)
		return usage_error("sign", "--sign NAME picks an identity inside "
		    "--p12; with --key and --cert the identity is already chosen");
	if ((rc = refuse_bundle(in)))
		return rc;
	/* The key and certificates are read, never written over. */
	const char *reads[] = { spec.p12, spec.key, spec.cert, spec.chain };
	if ((rc = refuse_overwrite(out, reads, 4)))
		return rc;
	progress_init(&prog, "sign", u.quiet ? 0 : u.progress);
	opt.progress = progress_cb;
	opt.progress_ctx = &prog;
	/* SOURCE_DATE_EPOCH fixes the time written into the output; whether
	 * the certificate may sign is judged by the clock (identity_load). */
	opt.timestamp = now_or_epoch();
	opt.tsa_timeout = tsa.timeout;
	pkgflat_error_clear(&err);
	if (inject) {
		if (spec.p12 || spec.key || spec.cert || spec.chain || spec.pass ||
		    spec.sign_command || force)
			return usage_error("sign", "--inject takes the certificates from "
			    "the request: no identity options");
		opt.tsa_url = tsa.url;
		rc = pkgflat_sign_inject(inject, in, out, &opt, &res, &err) ?
		    report_error(&err) : EXIT_OK;
		progress_end(&prog);
		if (!rc)
			warn_growth(out, &res);
		pkgflat_sign_result_clear(&res);
		return rc;
	}
	if (prepare) {
		if (out || tsa.url || tsa.none)
			return usage_error("sign", "--prepare writes only the request "
			    "directory: -o and --timestamp go with --inject");
		if (spec.p12 || spec.key || spec.pass || spec.sign_command ||
		    !spec.cert)
			return usage_error("sign", "--prepare needs --cert FILE (and "
			    "maybe --chain), and no key");
		if ((rc = identity_open(&spec, force, (int64_t)time(NULL), &id)))
			return rc;
		rc = pkgflat_sign_prepare(in, prepare, id, &opt, &res,
		    &err) ? report_error(&err) : EXIT_OK;
		progress_end(&prog);
		if (!rc)
			warn_growth(prepare, &res);
	} else {
		/* A large heap is being copied while the key is read; an
		 * incomplete identity is a usage error first. */
		pkgflat_sign_job *job = NULL;
		if ((spec.p12 || (spec.cert && !(spec.key && spec.sign_command))) &&
		    pkgflat_sign_begin(in, out, &job, &err))
			return report_error(&err);
		if ((rc = identity_load(&spec, force, (int64_t)time(NULL), &id))) {
			pkgflat_sign_cancel(job);
			return rc;
		}
		identity_verbose(&u, id);
		tsa_decide(&tsa, id, &u);
		opt.tsa_url = tsa.url;
		rc = (job ? pkgflat_sign_finish(job, id, &opt, &res, &err) :
		    pkgflat_sign(in, out, id, &opt, &res, &err)) ?
		    report_error(&err) : EXIT_OK;
		progress_end(&prog);
		if (rc)
			tsa_hint(&tsa);
		else {
			warn_growth(out, &res);
			summary(&u, out, id, &tsa);
		}
	}
	pkgflat_sign_result_clear(&res);
	pkgflat_identity_free(id);
	return rc;
}
