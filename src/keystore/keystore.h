/* keystore/: private keys by id. Keys are sealed at rest with AES-256-GCM
 * under a master key (32 random bytes, base64, in HOME/master.key with mode
 * 0600, or ACLM_MASTER_KEY); the associated data binds key id and tenant, so
 * a sealed blob moved to another row or tenant does not open.
 *
 * Callers get signatures, decryptions and opaque EVP_PKEY handles for libssl,
 * never key bytes, so that a signer process or a PKCS#11 token can sit behind
 * this interface later. Plaintext leaves only through keystore_export_pem,
 * which the user asked for and which is audited. */
#ifndef ACLM_KEYSTORE_H
#define ACLM_KEYSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "core/status.h"
#include "crypto/key.h"
#include "store/store.h"

#define KEYSTORE_ID_MAX 32          /* "k" + 24 hex digits + NUL fits */
#define KEYSTORE_MASTER_FILE "master.key"
#define KEYSTORE_MASTER_ENV "ACLM_MASTER_KEY"

struct keystore;

/* The master key is read (or created) on first use, not here, so commands
 * that never touch a key never create one. */
aclm_status keystore_open(struct store *store, const char *home, struct keystore **out,
			  struct aclm_err *err);
void keystore_close(struct keystore *ks);

/* The id a key gets: "k" + the first 24 hex digits of its SPKI SHA-256.
 * Deterministic, so importing a key twice or pairing it with certificates
 * imported later needs no lookup table. */
aclm_status keystore_key_id(const EVP_PKEY *key, char id[KEYSTORE_ID_MAX], struct aclm_err *err);
/* The same id from the SPKI SHA-256 hex (e.g. a certificate's spki_sha256). */
void keystore_key_id_from_spki(const char *spki_sha256, char id[KEYSTORE_ID_MAX]);

aclm_status keystore_create(struct keystore *ks, int64_t tenant, enum crypto_key_type type,
			    char id[KEYSTORE_ID_MAX], struct aclm_err *err);
/* Seals and stores key; *created is false when the tenant already holds it. */
aclm_status keystore_import(struct keystore *ks, int64_t tenant, EVP_PKEY *key,
			    char id[KEYSTORE_ID_MAX], bool *created, struct aclm_err *err);
/* ACLM_ERR_NOTFOUND when the tenant holds no such key. */
aclm_status keystore_exists(struct keystore *ks, int64_t tenant, const char *id,
			    struct aclm_err *err);

/* Signs msg with the key (digest NULL: the key's usual one; SM2 uses sm2_id,
 * NULL meaning the standard ID). *sig is freed with OPENSSL_free. */
aclm_status keystore_sign(struct keystore *ks, int64_t tenant, const char *id, const char *digest,
			  const char *sm2_id, const unsigned char *msg, size_t len,
			  unsigned char **sig, size_t *siglen, struct aclm_err *err);
/* RSA (OAEP with SHA-256) or SM2 decryption. *out is freed with OPENSSL_clear_free. */
aclm_status keystore_decrypt(struct keystore *ks, int64_t tenant, const char *id,
			     const unsigned char *in, size_t inlen, unsigned char **out,
			     size_t *outlen, struct aclm_err *err);
/* An opaque handle for libssl (SSL_CTX_use_PrivateKey) and for building
 * CSRs and PKCS#12 files; freed with EVP_PKEY_free. */
aclm_status keystore_pkey(struct keystore *ks, int64_t tenant, const char *id, EVP_PKEY **out,
			  struct aclm_err *err);
/* Writes the private key as PKCS#8 PEM to path (0600, atomic) because a
 * user asked; records "key.export" by actor in the audit log. */
aclm_status keystore_export_pem(struct keystore *ks, int64_t tenant, const char *id,
				const char *path, const char *actor, struct aclm_err *err);

/* Removes the key (e.g. a CA root key taken offline after an export);
 * records "key.delete" by actor. ACLM_ERR_NOTFOUND when the tenant holds
 * no such key. */
aclm_status keystore_delete(struct keystore *ks, int64_t tenant, const char *id,
			    const char *actor, struct aclm_err *err);

/* Seals a small secret that is not a key (an EAB HMAC key) under the master
 * key for a row outside the keys table; label names the secret (e.g.
 * "eab:KID") and is bound in the AAD with the tenant, as key ids are.
 * *blob is malloc'd. */
aclm_status keystore_secret_seal(struct keystore *ks, int64_t tenant, const char *label,
				 const unsigned char *plain, size_t plen, unsigned char **blob,
				 size_t *bloblen, struct aclm_err *err);
/* The secret back; *plain is freed with OPENSSL_clear_free. A blob sealed
 * for another tenant or label -> ACLM_ERR_VERIFY. */
aclm_status keystore_secret_open(struct keystore *ks, int64_t tenant, const char *label,
				 const unsigned char *blob, size_t bloblen, unsigned char **plain,
				 size_t *plen, struct aclm_err *err);

/* Sealing primitives, exposed for tests: AES-256-GCM, blob = "AK1" || nonce
 * (12) || ciphertext || tag (16); AAD = "aclm-keystore-v1" NUL tenant NUL id. */
aclm_status keystore__seal(const unsigned char master[32], int64_t tenant, const char *id,
			   const unsigned char *plain, size_t plen, unsigned char **blob,
			   size_t *bloblen, struct aclm_err *err);
aclm_status keystore__unseal(const unsigned char master[32], int64_t tenant, const char *id,
			     const unsigned char *blob, size_t bloblen, unsigned char **plain,
			     size_t *plen, struct aclm_err *err);

#endif
