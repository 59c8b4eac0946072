/*
 * Keys in PKCS#11 tokens (HSMs, smart cards, cloud KMS with a PKCS#11
 * module), through OpenSSL's pkcs11 engine (Debian:
 * libengine-pkcs11-openssl). The engine API is deprecated in OpenSSL 3 but
 * is what Debian 12 ships for PKCS#11; the key it returns is an ordinary
 * EVP_PKEY, so signing and CMS go the usual way.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/engine.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>

#include "sign.h"

pkgflat_status pkcs11_load_key(const char *uri, const char *pin,
    EVP_PKEY **out, void **engine, pkgflat_error *err)
{
	const char *module = getenv("PKGFLAT_PKCS11_MODULE");
	ENGINE *e;

	*out = NULL;
	*engine = NULL;
	ENGINE_load_builtin_engines();
	if (!(e = ENGINE_by_id("pkcs11"))) {
		ERR_clear_error();
		return fail(err, PKGFLAT_E_UNSUPPORTED, uri, NULL,
		    "OpenSSL's pkcs11 engine is not installed (Debian: "
		    "libengine-pkcs11-openssl)");
	}
	if ((module && !ENGINE_ctrl_cmd_string(e, "MODULE_PATH", module, 0)) ||
	    (pin && !ENGINE_ctrl_cmd_string(e, "PIN", pin, 0)) ||
	    !ENGINE_init(e)) {
		ENGINE_free(e);
		ERR_clear_error();
		return fail(err, PKGFLAT_E_CRYPTO, uri, NULL,
		    "cannot start the pkcs11 engine%s%s", module ? " with module " :
		    "", module ? module : "");
	}
	*out = ENGINE_load_private_key(e, uri, NULL, NULL);
	if (!*out) {
		ERR_clear_error();
		ENGINE_finish(e);
		ENGINE_free(e);
		return fail(err, PKGFLAT_E_CRYPTO, uri, NULL,
		    "no such private key in the PKCS#11 token (or a wrong PIN)");
	}
	*engine = e;
	return PKGFLAT_OK;
}

void pkcs11_release(void *engine)
{
	if (engine) {
		ENGINE_finish(engine);
		ENGINE_free(engine);
	}
}
