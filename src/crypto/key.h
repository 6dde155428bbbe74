/* Keys: generation (RSA, ECDSA, SM2, Ed25519), facts, encodings, signing. */
#ifndef ACLM_CRYPTO_KEY_H
#define ACLM_CRYPTO_KEY_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "core/buf.h"
#include "core/status.h"

/* GB/T 32918 / RFC 8998 default SM2 user ID; OpenSSL 3.0 applies none by default. */
#define CRYPTO_SM2_ID "1234567812345678"

enum crypto_key_type {
	CRYPTO_KEY_RSA2048 = 0,
	CRYPTO_KEY_RSA3072,
	CRYPTO_KEY_RSA4096,
	CRYPTO_KEY_P256,
	CRYPTO_KEY_P384,
	CRYPTO_KEY_SM2,
	CRYPTO_KEY_ED25519,        /* ACME account keys only (EdDSA, RFC 8037) */
	CRYPTO_KEY_TYPE_COUNT
};

/* "rsa2048", "rsa3072", "rsa4096", "p256", "p384", "sm2", "ed25519". */
const char *crypto_key_type_name(enum crypto_key_type t);
/* Parses the names above; returns -1 when unknown. */
int crypto_key_type_parse(const char *s);
/* True for the types aclm makes certificates (and CAs) with: every type
 * but Ed25519, which serves ACME account keys only (issue 3: few CAs take
 * EdDSA JWS, none issue Ed25519 web certificates). Callers that parse a
 * certificate key type refuse the others. */
bool crypto_key_type_for_certs(enum crypto_key_type t);
/* The type key is one of (RSA of exactly 2048/3072/4096 bits, P-256,
 * P-384, SM2, Ed25519); -1 for anything else. */
int crypto_key_type_of(const EVP_PKEY *key);

aclm_status crypto_key_generate(enum crypto_key_type t, EVP_PKEY **out, struct aclm_err *err);

/* What a public key is, in the inventory's JSON terms. */
struct crypto_key_info {
	char type[16];  /* "rsa", "ec", "sm2", "ed25519", "ed448", "dsa", "unknown" */
	int bits;
	char curve[32]; /* "P-256", "P-384", "P-521", "SM2", other group names; "" for none */
};
aclm_status crypto_key_info(const EVP_PKEY *key, struct crypto_key_info *out);
bool crypto_key_is_sm2(const EVP_PKEY *key);

/* SHA-256 of the DER SubjectPublicKeyInfo, lowercase hex. */
aclm_status crypto_key_spki_sha256(const EVP_PKEY *key, char out[65]);
/* True when both keys hold the same public key. */
bool crypto_key_public_equal(const EVP_PKEY *a, const EVP_PKEY *b);

/* Unencrypted PKCS#8 DER; caller frees with OPENSSL_clear_free(*der, *len). */
aclm_status crypto_key_to_der(const EVP_PKEY *key, unsigned char **der, size_t *len,
			      struct aclm_err *err);
aclm_status crypto_key_from_der(const unsigned char *der, size_t len, EVP_PKEY **out,
				struct aclm_err *err);
/* Unencrypted PKCS#8 PEM appended to out (free it with aclm_buf_free_secret). */
aclm_status crypto_key_to_pem(const EVP_PKEY *key, struct aclm_buf *out, struct aclm_err *err);
/* Reads the first private key of a PEM text (PKCS#8, traditional or encrypted;
 * password may be NULL). Encrypted without password -> ACLM_ERR_PASSWORD. */
aclm_status crypto_key_from_pem(const char *pem, size_t len, const char *password, EVP_PKEY **out,
				struct aclm_err *err);

/* Prepares ctx for a digest signature with key: digest NULL picks the usual
 * one (SHA-256 for RSA/P-256, SHA-384 for P-384, SM3 for SM2, none for
 * EdDSA). For SM2 the user ID sm2_id (NULL = CRYPTO_SM2_ID) is set on the
 * EVP_PKEY_CTX, which is what X509_sign_ctx & co need to apply it. */
aclm_status crypto_sign_init(EVP_MD_CTX *ctx, EVP_PKEY *key, const char *digest,
			     const char *sm2_id, struct aclm_err *err);
/* One-shot signature; *sig is malloc'd (OPENSSL_free). ECDSA/SM2 output is DER. */
aclm_status crypto_sign(EVP_PKEY *key, const char *digest, const char *sm2_id,
			const unsigned char *msg, size_t len, unsigned char **sig, size_t *siglen,
			struct aclm_err *err);
aclm_status crypto_verify(EVP_PKEY *key, const char *digest, const char *sm2_id,
			  const unsigned char *msg, size_t len, const unsigned char *sig,
			  size_t siglen, struct aclm_err *err);

#endif
