/* Private keys by id: create, import, sign, decrypt, handles, audited export. */
#include "keystore/keystore_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rsa.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/time.h"

aclm_status keystore_open(struct store *store, const char *home, struct keystore **out,
			  struct aclm_err *err)
{
	struct keystore *ks = calloc(1, sizeof(*ks));

	*out = NULL;
	if (ks == NULL || (ks->home = strdup(home)) == NULL) {
		free(ks);
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	}
	ks->store = store;
	*out = ks;
	return ACLM_OK;
}

void keystore_close(struct keystore *ks)
{
	if (ks == NULL)
		return;
	OPENSSL_cleanse(ks->master, sizeof(ks->master));
	free(ks->home);
	free(ks);
}

aclm_status keystore_key_id(const EVP_PKEY *key, char id[KEYSTORE_ID_MAX], struct aclm_err *err)
{
	char spki[65];

	if (crypto_key_spki_sha256(key, spki) != ACLM_OK)
		return aclm_err_ssl(err, ACLM_ERR_CRYPTO, "cannot hash the public key");
	keystore_key_id_from_spki(spki, id);
	return ACLM_OK;
}

void keystore_key_id_from_spki(const char *spki_sha256, char id[KEYSTORE_ID_MAX])
{
	snprintf(id, KEYSTORE_ID_MAX, "k%.24s", spki_sha256);
}

/* The key type name stored with the row ("p256", "rsa2048", "sm2", ...). */
static void key_type_label(const EVP_PKEY *key, char out[16])
{
	struct crypto_key_info info;

	if (crypto_key_info(key, &info) != ACLM_OK) {
		snprintf(out, 16, "unknown");
		return;
	}
	if (strcmp(info.type, "rsa") == 0)
		snprintf(out, 16, "rsa%d", info.bits);
	else if (strcmp(info.curve, "P-256") == 0)
		snprintf(out, 16, "p256");
	else if (strcmp(info.curve, "P-384") == 0)
		snprintf(out, 16, "p384");
	else if (strcmp(info.curve, "P-521") == 0)
		snprintf(out, 16, "p521");
	else
		snprintf(out, 16, "%s", info.type);
}

aclm_status keystore_exists(struct keystore *ks, int64_t tenant, const char *id,
			    struct aclm_err *err)
{
	struct store_key *k = NULL;
	aclm_status st = store_key_get(ks->store, tenant, id, &k, err);

	store_key_free(k);
	return st;
}

aclm_status keystore_import(struct keystore *ks, int64_t tenant, EVP_PKEY *key,
			    char id[KEYSTORE_ID_MAX], bool *created, struct aclm_err *err)
{
	struct store_key row = { .tenant_id = tenant };
	unsigned char *der = NULL;
	size_t derlen = 0;
	aclm_status st;

	*created = false;
	st = keystore_key_id(key, id, err);
	if (st != ACLM_OK)
		return st;
	st = keystore_exists(ks, tenant, id, err);
	if (st == ACLM_OK)
		return ACLM_OK;
	if (st != ACLM_ERR_NOTFOUND)
		return st;
	aclm_err_clear(err);
	st = keystore__master_load(ks, err);
	if (st != ACLM_OK)
		return st;
	st = crypto_key_to_der(key, &der, &derlen, err);
	if (st != ACLM_OK)
		goto out;
	snprintf(row.id, sizeof(row.id), "%s", id);
	key_type_label(key, row.type);
	crypto_key_spki_sha256(key, row.spki_sha256);
	row.created_at = aclm_time_now();
	st = keystore__seal(ks->master, tenant, id, der, derlen, &row.sealed, &row.sealed_len, err);
	if (st != ACLM_OK)
		goto out;
	st = store_key_put(ks->store, &row, err);
	*created = st == ACLM_OK;
out:
	if (der != NULL)
		OPENSSL_clear_free(der, derlen);
	free(row.sealed);
	return st;
}

aclm_status keystore_create(struct keystore *ks, int64_t tenant, enum crypto_key_type type,
			    char id[KEYSTORE_ID_MAX], struct aclm_err *err)
{
	EVP_PKEY *key = NULL;
	bool created;
	aclm_status st = crypto_key_generate(type, &key, err);

	if (st == ACLM_OK)
		st = keystore_import(ks, tenant, key, id, &created, err);
	EVP_PKEY_free(key);
	return st;
}

aclm_status keystore_pkey(struct keystore *ks, int64_t tenant, const char *id, EVP_PKEY **out,
			  struct aclm_err *err)
{
	struct store_key *row = NULL;
	unsigned char *der = NULL;
	size_t derlen = 0;
	aclm_status st;

	*out = NULL;
	st = store_key_get(ks->store, tenant, id, &row, err);
	if (st != ACLM_OK)
		goto out;
	st = keystore__master_load(ks, err);
	if (st != ACLM_OK)
		goto out;
	st = keystore__unseal(ks->master, tenant, id, row->sealed, row->sealed_len, &der, &derlen,
			      err);
	if (st != ACLM_OK)
		goto out;
	st = crypto_key_from_der(der, derlen, out, err);
out:
	if (der != NULL)
		OPENSSL_clear_free(der, derlen);
	store_key_free(row);
	return st;
}

aclm_status keystore_sign(struct keystore *ks, int64_t tenant, const char *id, const char *digest,
			  const char *sm2_id, const unsigned char *msg, size_t len,
			  unsigned char **sig, size_t *siglen, struct aclm_err *err)
{
	EVP_PKEY *key = NULL;
	aclm_status st = keystore_pkey(ks, tenant, id, &key, err);

	if (st == ACLM_OK)
		st = crypto_sign(key, digest, sm2_id, msg, len, sig, siglen, err);
	EVP_PKEY_free(key);
	return st;
}

static aclm_status decrypt_with(EVP_PKEY *key, const char *id, const unsigned char *in,
				size_t inlen, unsigned char **out, size_t *outlen,
				struct aclm_err *err)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	unsigned char *buf = NULL;
	size_t n = 0;
	aclm_status st = ACLM_ERR_CRYPTO;

	if (ctx == NULL || EVP_PKEY_decrypt_init(ctx) != 1)
		goto fail;
	if (EVP_PKEY_is_a(key, "RSA") &&
	    (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) != 1 ||
	     EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx, "SHA256", NULL) != 1))
		goto fail;
	if (EVP_PKEY_decrypt(ctx, NULL, &n, in, inlen) != 1 || (buf = OPENSSL_malloc(n)) == NULL ||
	    EVP_PKEY_decrypt(ctx, buf, &n, in, inlen) != 1)
		goto fail;
	*out = buf;
	*outlen = n;
	buf = NULL;
	st = ACLM_OK;
	goto out;
fail:
	aclm_err_ssl(err, st, "key %s: decryption failed", id);
out:
	OPENSSL_clear_free(buf, n);
	EVP_PKEY_CTX_free(ctx);
	return st;
}

aclm_status keystore_decrypt(struct keystore *ks, int64_t tenant, const char *id,
			     const unsigned char *in, size_t inlen, unsigned char **out,
			     size_t *outlen, struct aclm_err *err)
{
	EVP_PKEY *key = NULL;
	aclm_status st;

	*out = NULL;
	st = keystore_pkey(ks, tenant, id, &key, err);
	if (st == ACLM_OK)
		st = decrypt_with(key, id, in, inlen, out, outlen, err);
	EVP_PKEY_free(key);
	return st;
}

aclm_status keystore_export_pem(struct keystore *ks, int64_t tenant, const char *id,
				const char *path, const char *actor, struct aclm_err *err)
{
	EVP_PKEY *key = NULL;
	struct aclm_buf pem;
	json_t *detail = NULL;
	struct store_audit_event ev = { .tenant_id = tenant, .actor = actor,
					.action = "key.export", .object = id };
	aclm_status st;

	aclm_buf_init(&pem, 1 << 20);
	st = keystore_pkey(ks, tenant, id, &key, err);
	if (st != ACLM_OK)
		goto out;
	st = crypto_key_to_pem(key, &pem, err);
	if (st != ACLM_OK)
		goto out;
	st = aclm_fs_write_atomic(path, pem.data, pem.len, 0600, err);
	if (st != ACLM_OK)
		goto out;
	detail = json_pack("{s:s, s:s}", "path", path, "format", "pem");
	ev.detail = detail;
	st = store_audit_append(ks->store, &ev, err);
out:
	json_decref(detail);
	aclm_buf_free_secret(&pem);
	EVP_PKEY_free(key);
	return st;
}

/* The delete and its audit event commit together when the caller has a
 * transaction open; otherwise each is its own. */
aclm_status keystore_delete(struct keystore *ks, int64_t tenant, const char *id,
			    const char *actor, struct aclm_err *err)
{
	struct store_audit_event ev = { .tenant_id = tenant, .actor = actor,
					.action = "key.delete", .object = id };
	aclm_status st = store_key_delete(ks->store, tenant, id, err);

	if (st == ACLM_OK)
		st = store_audit_append(ks->store, &ev, err);
	return st;
}
