/* Reading what users have on disk: PEM bundles (certificates and a key in any
 * order), DER certificates, PKCS#12 (including legacy RC2/3DES files). The
 * input is untrusted: every length is capped and every failure explained. */
#ifndef ACLM_CRYPTO_BUNDLE_H
#define ACLM_CRYPTO_BUNDLE_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/status.h"

#define CRYPTO_BUNDLE_MAX_CERTS 100000 /* certificates per input */
#define CRYPTO_BUNDLE_MAX_KEYS 64

enum crypto_bundle_format { CRYPTO_FMT_PEM = 0, CRYPTO_FMT_DER, CRYPTO_FMT_PKCS12 };

struct crypto_bundle {
	enum crypto_bundle_format format;
	X509 **certs;      /* in input order */
	size_t ncerts;
	EVP_PKEY **keys;   /* private keys found */
	size_t nkeys;
	long *cert_key;    /* per certificate: index into keys of its private key
			    * (paired by public key), or -1 */
	size_t nskipped;   /* PEM blocks of other types (CRLs, EC parameters) ignored */
};

/* Parses data. password (may be NULL) decrypts PKCS#12 and encrypted PEM
 * keys; PKCS#12 is first tried with an empty password. Errors:
 * ACLM_ERR_PASSWORD (protected, no or wrong password), ACLM_ERR_PARSE
 * (garbage, truncated PEM, no certificate at all), ACLM_ERR_TOOBIG (caps
 * above). The message says what is wrong, not where the file is: callers
 * prefix the file name. */
aclm_status crypto_bundle_parse(const unsigned char *data, size_t len, const char *password,
				struct crypto_bundle **out, struct aclm_err *err);
void crypto_bundle_free(struct crypto_bundle *b);

#endif
