/* PKCS#12 export (RFC 7292) with modern protection: PBES2/PBKDF2 with
 * AES-256-CBC for key and certificates, HMAC-SHA-256 integrity. */
#include "crypto/cert.h"

#include <openssl/err.h>
#include <openssl/pkcs12.h>

/* OpenSSL's default and what Windows, Java and macOS import; the file is
 * as strong as its password, PBKDF2 rounds only slow guessing down. */
#define P12_ITER PKCS12_DEFAULT_ITER

aclm_status crypto_pkcs12_create(X509 *cert, STACK_OF(X509) *chain, EVP_PKEY *key,
				 const char *password, unsigned char **out, size_t *len,
				 struct aclm_err *err)
{
	PKCS12 *p12 = NULL;
	int n;
	aclm_status st = ACLM_OK;

	*out = NULL;
	*len = 0;
	if (password == NULL || (cert == NULL && key == NULL)) {
		st = aclm_err_set(err, ACLM_ERR_INVALID, "PKCS#12: no %s",
				  password == NULL ? "password" : "certificate or key");
		goto out;
	}
	/* mac_iter -1: no MAC yet; PKCS12_create's default MAC digest is SHA-1. */
	p12 = PKCS12_create_ex(password, NULL, key, cert, chain, NID_aes_256_cbc, NID_aes_256_cbc,
			       P12_ITER, -1, 0, NULL, NULL);
	if (p12 == NULL) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "PKCS#12: building the file");
		goto out;
	}
	if (PKCS12_set_mac(p12, password, -1, NULL, 0, P12_ITER, EVP_sha256()) != 1) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "PKCS#12: HMAC-SHA-256");
		goto out;
	}
	if ((n = i2d_PKCS12(p12, out)) <= 0) {
		*out = NULL;
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "PKCS#12: encoding");
		goto out;
	}
	*len = (size_t)n;
out:
	PKCS12_free(p12);
	return st;
}
