/* AES-256-GCM sealing of private keys at rest. */
#include "keystore/keystore.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#define SEAL_MAGIC "AK1"
#define SEAL_MAGIC_LEN 3
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN 16
#define SEAL_MAX_PLAIN (64 * 1024) /* an RSA-16384 PKCS#8 is ~9 KiB */

/* AAD binds the blob to its tenant and key id. */
static int seal_aad(int64_t tenant, const char *id, unsigned char *out, size_t outlen)
{
	int n = snprintf((char *)out, outlen, "aclm-keystore-v1%c%lld%c%s", '\0', (long long)tenant,
			 '\0', id);

	return n > 0 && (size_t)n < outlen ? n : -1;
}

aclm_status keystore__seal(const unsigned char master[32], int64_t tenant, const char *id,
			   const unsigned char *plain, size_t plen, unsigned char **blob,
			   size_t *bloblen, struct aclm_err *err)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char aad[128], *out = NULL, *p;
	int aadlen, n, fin;
	aclm_status st = ACLM_ERR_CRYPTO;

	*blob = NULL;
	aadlen = seal_aad(tenant, id, aad, sizeof(aad));
	if (aadlen < 0 || plen > SEAL_MAX_PLAIN)
		return aclm_err_set(err, ACLM_ERR_INVALID, "key %s: cannot seal: bad id or size", id);
	out = malloc(SEAL_MAGIC_LEN + SEAL_NONCE_LEN + plen + SEAL_TAG_LEN);
	if (out == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	memcpy(out, SEAL_MAGIC, SEAL_MAGIC_LEN);
	p = out + SEAL_MAGIC_LEN;
	if (RAND_bytes(p, SEAL_NONCE_LEN) != 1 || (ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex2(ctx, EVP_aes_256_gcm(), master, p, NULL) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &n, aad, aadlen) != 1 ||
	    EVP_EncryptUpdate(ctx, p + SEAL_NONCE_LEN, &n, plain, (int)plen) != 1 ||
	    EVP_EncryptFinal_ex(ctx, p + SEAL_NONCE_LEN + n, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN,
				p + SEAL_NONCE_LEN + plen) != 1) {
		aclm_err_ssl(err, ACLM_ERR_CRYPTO, "key %s: sealing failed", id);
		goto out;
	}
	*blob = out;
	*bloblen = SEAL_MAGIC_LEN + SEAL_NONCE_LEN + plen + SEAL_TAG_LEN;
	out = NULL;
	st = ACLM_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	free(out);
	return st;
}

aclm_status keystore__unseal(const unsigned char master[32], int64_t tenant, const char *id,
			     const unsigned char *blob, size_t bloblen, unsigned char **plain,
			     size_t *plen, struct aclm_err *err)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char aad[128], *out = NULL, tag[SEAL_TAG_LEN];
	const unsigned char *nonce, *ct;
	size_t ctlen;
	int aadlen, n, fin;
	aclm_status st = ACLM_ERR_VERIFY;

	*plain = NULL;
	aadlen = seal_aad(tenant, id, aad, sizeof(aad));
	if (aadlen < 0 || bloblen < SEAL_MAGIC_LEN + SEAL_NONCE_LEN + SEAL_TAG_LEN ||
	    memcmp(blob, SEAL_MAGIC, SEAL_MAGIC_LEN) != 0 ||
	    bloblen - SEAL_MAGIC_LEN - SEAL_NONCE_LEN - SEAL_TAG_LEN > SEAL_MAX_PLAIN)
		return aclm_err_set(err, ACLM_ERR_PARSE, "key %s: sealed blob is malformed", id);
	nonce = blob + SEAL_MAGIC_LEN;
	ct = nonce + SEAL_NONCE_LEN;
	ctlen = bloblen - SEAL_MAGIC_LEN - SEAL_NONCE_LEN - SEAL_TAG_LEN;
	memcpy(tag, ct + ctlen, SEAL_TAG_LEN);
	out = OPENSSL_malloc(ctlen + 1);
	if (out == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex2(ctx, EVP_aes_256_gcm(), master, nonce, NULL) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &n, aad, aadlen) != 1 ||
	    EVP_DecryptUpdate(ctx, out, &n, ct, (int)ctlen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN, tag) != 1 ||
	    EVP_DecryptFinal_ex(ctx, out + n, &fin) != 1) {
		aclm_err_ssl(err, ACLM_ERR_VERIFY,
			     "key %s: cannot unseal (wrong master key, or the row was altered)", id);
		goto out;
	}
	*plain = out;
	*plen = ctlen;
	out = NULL;
	st = ACLM_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_clear_free(out, ctlen + 1);
	return st;
}
