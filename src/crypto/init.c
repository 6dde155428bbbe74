/* Provider setup for the whole program: OpenSSL's default provider, plus the
 * legacy one so that RC2/3DES PKCS#12 files (Windows and Java exports) load. */
#include "crypto/crypto.h"

#include <pthread.h>

#include <openssl/err.h>
#include <openssl/provider.h>

#include "core/log.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static OSSL_PROVIDER *prov_default;
static OSSL_PROVIDER *prov_legacy;
static const char *default_reason; /* OpenSSL's static reason string */

static void init_providers(void)
{
	unsigned long e;

	/* Loading any provider explicitly switches off the implicit loading of
	 * "default", so it is loaded here too. The handles are kept for the
	 * life of the process: providers are never unloaded. */
	ERR_set_mark();
	prov_default = OSSL_PROVIDER_load(NULL, "default");
	if (prov_default == NULL) {
		e = ERR_peek_last_error();
		default_reason = e != 0 ? ERR_reason_error_string(e) : NULL;
	}
	ERR_pop_to_mark();

	/* A missing legacy provider is not an error here: only RC2/3DES
	 * PKCS#12 files need it, and their parser says so (bundle.c). */
	ERR_set_mark();
	prov_legacy = OSSL_PROVIDER_load(NULL, "legacy");
	ERR_pop_to_mark();
	if (prov_legacy == NULL)
		log_debug("OpenSSL legacy provider unavailable: RC2/3DES PKCS#12 files will not load");
}

aclm_status crypto_init(struct aclm_err *err)
{
	aclm_status st = ACLM_OK;

	if (pthread_once(&init_once, init_providers) != 0)
		st = aclm_err_set(err, ACLM_ERR_INTERNAL, "crypto_init: pthread_once failed");
	else if (prov_default == NULL)
		st = aclm_err_set(err, ACLM_ERR_CRYPTO, "cannot load OpenSSL's default provider%s%s",
				  default_reason != NULL ? ": " : "",
				  default_reason != NULL ? default_reason : "");
	return st;
}
