/* pkgflat sign: sign or re-sign a flat package as productsign does. */
#include <getopt.h>
#include <string.h>

#include "cli.h"

static const char sign_help[] =
    "usage: pkgflat sign IDENTITY [--force] [--timestamp[=URL]] IN.pkg -o OUT.pkg\n"
    "\n"
    "Sign a flat package the way productsign does: a SHA-1 TOC checksum, an\n"
    "RSA signature (PKCS#1 v1.5 over the checksum) and a detached CMS\n"
    "signature, both carrying the whole certificate chain. Old signatures\n"
    "and a stapled ticket are dropped first; the file data is copied once,\n"
    "unchanged. OUT may equal IN: it is replaced only when complete.\n"
    "\n"
    "identity:\n"
    "  --p12 FILE               PKCS#12 with key, certificate and chain\n"
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
    "  --chain FILE             intermediates and root (PEM); replaces others\n"
    "  --pass SPEC              env:VAR, file:PATH or fd:N (never the\n"
    "                           passphrase itself)\n"
    "  --force                  sign even if the certificate is expired or is\n"
    "                           not a Developer ID Installer certificate\n"
    "  --timestamp[=URL]        add an RFC 3161 timestamp to the CMS signature\n"
    "                           (default server: Apple's, as productsign uses;\n"
    "                           http_proxy is honoured); failing to get one is\n"
    "                           an error and nothing is written\n"
    "  --timestamp-timeout SEC  how long to wait for the server (default 30)\n"
    "\n"
    "SOURCE_DATE_EPOCH fixes the time written into the signature, so that\n"
    "signing twice gives identical files.\n"
    "\n"
    "Not yet: --prepare/--inject (two-step signing on separate machines).\n"
    "\n"
    "exit status: 0 signed, 2 usage error, 3 unreadable input, bad identity,\n"
    "or the output could not be written\n";

int cmd_sign(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		IDENTITY_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	pkgflat_identity_spec spec = { 0 };
	struct tsa_opts tsa = { 0 };
	const char *out = NULL;
	int force = 0, c, rc;
	pkgflat_identity *id = NULL;
	pkgflat_error err;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		if (identity_option(c, &spec, &force, &tsa))
			continue;
		switch (c) {
		case 'o': out = optarg; break;
		case 'h': fputs(sign_help, stdout); return EXIT_OK;
		default:
			return usage_error("sign", "unknown option or missing value: '%s'",
			    argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return usage_error("sign", optind == argc ? "no package named" :
		    "one package at a time");
	if (!out)
		return usage_error("sign", "no output file: use -o OUT.pkg");
	int64_t now = now_or_epoch();
	if ((rc = identity_load(&spec, force, now, &id)))
		return rc;
	pkgflat_error_clear(&err);
	rc = pkgflat_sign_file(argv[optind], out, id, now, tsa.url, tsa.timeout,
	    &err) ?
	    report_error(&err) : EXIT_OK;
	pkgflat_identity_free(id);
	return rc;
}
