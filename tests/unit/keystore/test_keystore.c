/* keystore/: sealing binds tenant and id; keys never stored in clear; sign,
 * decrypt and handles work for every key type; master key handling. (An
 * Ed25519 account key signing a JWS: tests/unit/client/test_account_key.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "crypto/crypto.h"
#include "keystore/keystore.h"
#include "store/store.h"
#include "testsupport.h"

/* Each test's state is a struct ts_home (tenant "default"); this is the
 * second tenant setup makes beside it. */
static int64_t other;

static int setup(void **state)
{
	struct ts_home *f = calloc(1, sizeof(*f));
	struct aclm_err err = { 0 };

	if (ts_home_open(f, "ks") != 0)
		return -1;
	if (store_tenant_ensure(f->store, "other", &other, &err) != ACLM_OK) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct ts_home *f = *state;
	int rc = ts_home_close(f);

	free(f);
	return rc;
}

static void test_seal_round_trip_and_binding(void **state)
{
	unsigned char master[32], other_master[32], *blob = NULL, *plain = NULL;
	size_t bloblen, plen;
	const char msg[] = "PKCS#8 bytes";
	struct aclm_err err = { 0 };

	(void)state;
	memset(master, 7, sizeof(master));
	memset(other_master, 8, sizeof(other_master));
	assert_int_equal(keystore__seal(master, 1, "kabc", (const unsigned char *)msg, sizeof(msg),
					&blob, &bloblen, &err), ACLM_OK);
	assert_null(memmem(blob, bloblen, msg, sizeof(msg) - 1)); /* not in clear */
	assert_int_equal(keystore__unseal(master, 1, "kabc", blob, bloblen, &plain, &plen, &err), ACLM_OK);
	assert_int_equal(plen, sizeof(msg));
	assert_memory_equal(plain, msg, plen);
	OPENSSL_clear_free(plain, plen);
	/* AAD binds tenant and id; the master key must match. */
	assert_int_equal(keystore__unseal(master, 2, "kabc", blob, bloblen, &plain, &plen, &err), ACLM_ERR_VERIFY);
	assert_int_equal(keystore__unseal(master, 1, "kabd", blob, bloblen, &plain, &plen, &err), ACLM_ERR_VERIFY);
	assert_int_equal(keystore__unseal(other_master, 1, "kabc", blob, bloblen, &plain, &plen, &err), ACLM_ERR_VERIFY);
	assert_non_null(strstr(err.msg, "kabc"));
	blob[bloblen - 20] ^= 1; /* tampered ciphertext */
	assert_int_equal(keystore__unseal(master, 1, "kabc", blob, bloblen, &plain, &plen, &err), ACLM_ERR_VERIFY);
	assert_int_equal(keystore__unseal(master, 1, "kabc", blob, 10, &plain, &plen, &err), ACLM_ERR_PARSE);
	free(blob);
}

static void sign_and_verify(struct ts_home *f, enum crypto_key_type type)
{
	char id[KEYSTORE_ID_MAX];
	const unsigned char msg[] = "to be signed";
	unsigned char *sig = NULL;
	size_t siglen = 0;
	EVP_PKEY *h = NULL;
	struct aclm_err err = { 0 };

	assert_int_equal(keystore_create(f->ks, f->tenant, type, id, &err), ACLM_OK);
	assert_int_equal(id[0], 'k');
	assert_int_equal(strlen(id), 25);
	assert_int_equal(keystore_sign(f->ks, f->tenant, id, NULL, NULL, msg, sizeof(msg), &sig,
				       &siglen, &err), ACLM_OK);
	assert_int_equal(keystore_pkey(f->ks, f->tenant, id, &h, &err), ACLM_OK);
	assert_int_equal(crypto_verify(h, NULL, NULL, msg, sizeof(msg), sig, siglen, &err), ACLM_OK);
	EVP_PKEY_free(h);
	/* The other tenant cannot use the key. */
	assert_int_equal(keystore_pkey(f->ks, other, id, &h, &err), ACLM_ERR_NOTFOUND);
	assert_null(h);
	OPENSSL_free(sig);
}

static void test_every_key_type_signs(void **state)
{
	struct ts_home *f = *state;

	sign_and_verify(f, CRYPTO_KEY_P256);
	sign_and_verify(f, CRYPTO_KEY_P384);
	sign_and_verify(f, CRYPTO_KEY_RSA2048);
	sign_and_verify(f, CRYPTO_KEY_SM2);
}

static void test_master_key_file_created_0600(void **state)
{
	struct ts_home *f = *state;
	char path[128], id[KEYSTORE_ID_MAX];
	struct stat sb;
	struct aclm_err err = { 0 };

	snprintf(path, sizeof(path), "%s/master.key", f->dir);
	assert_int_equal(keystore_create(f->ks, f->tenant, CRYPTO_KEY_P256, id, &err), ACLM_OK);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(sb.st_size, 45); /* 44 base64 characters + newline */
}

static void test_wrong_master_key_fails_cleanly(void **state)
{
	struct ts_home *f = *state;
	struct keystore *ks2 = NULL;
	char id[KEYSTORE_ID_MAX];
	EVP_PKEY *h = NULL;
	struct aclm_err err = { 0 };

	assert_int_equal(keystore_create(f->ks, f->tenant, CRYPTO_KEY_P256, id, &err), ACLM_OK);
	setenv(KEYSTORE_MASTER_ENV, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 1);
	assert_int_equal(keystore_open(f->store, f->dir, &ks2, &err), ACLM_OK);
	assert_int_equal(keystore_pkey(ks2, f->tenant, id, &h, &err), ACLM_ERR_VERIFY);
	assert_null(h);
	assert_non_null(strstr(err.msg, "master key"));
	keystore_close(ks2);
	setenv(KEYSTORE_MASTER_ENV, "too-short", 1);
	assert_int_equal(keystore_open(f->store, f->dir, &ks2, &err), ACLM_OK);
	assert_int_equal(keystore_pkey(ks2, f->tenant, id, &h, &err), ACLM_ERR_CONFIG);
	keystore_close(ks2);
	unsetenv(KEYSTORE_MASTER_ENV);
}

static void test_import_is_idempotent_and_id_derives_from_spki(void **state)
{
	struct ts_home *f = *state;
	EVP_PKEY *key = NULL;
	char id1[KEYSTORE_ID_MAX], id2[KEYSTORE_ID_MAX], spki[65], derived[KEYSTORE_ID_MAX];
	bool created;
	struct aclm_err err = { 0 };

	assert_int_equal(crypto_key_generate(CRYPTO_KEY_P256, &key, &err), ACLM_OK);
	assert_int_equal(keystore_import(f->ks, f->tenant, key, id1, &created, &err), ACLM_OK);
	assert_true(created);
	assert_int_equal(keystore_import(f->ks, f->tenant, key, id2, &created, &err), ACLM_OK);
	assert_false(created);
	assert_string_equal(id1, id2);
	assert_int_equal(crypto_key_spki_sha256(key, spki), ACLM_OK);
	keystore_key_id_from_spki(spki, derived);
	assert_string_equal(id1, derived);
	assert_int_equal(keystore_exists(f->ks, other, id1, &err), ACLM_ERR_NOTFOUND);
	EVP_PKEY_free(key);
}

static void test_decrypt_rsa_oaep_and_sm2(void **state)
{
	struct ts_home *f = *state;
	enum crypto_key_type types[] = { CRYPTO_KEY_RSA2048, CRYPTO_KEY_SM2 };
	const unsigned char secret[] = "session key";

	for (size_t t = 0; t < 2; t++) {
		char id[KEYSTORE_ID_MAX];
		EVP_PKEY *h = NULL;
		EVP_PKEY_CTX *ctx;
		unsigned char ct[512], *pt = NULL;
		size_t ctlen = sizeof(ct), ptlen = 0;
		struct aclm_err err = { 0 };

		assert_int_equal(keystore_create(f->ks, f->tenant, types[t], id, &err), ACLM_OK);
		assert_int_equal(keystore_pkey(f->ks, f->tenant, id, &h, &err), ACLM_OK);
		ctx = EVP_PKEY_CTX_new_from_pkey(NULL, h, NULL);
		assert_int_equal(EVP_PKEY_encrypt_init(ctx), 1);
		if (types[t] == CRYPTO_KEY_RSA2048) {
			assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING), 1);
			assert_int_equal(EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx, "SHA256", NULL), 1);
		}
		assert_int_equal(EVP_PKEY_encrypt(ctx, ct, &ctlen, secret, sizeof(secret)), 1);
		EVP_PKEY_CTX_free(ctx);
		assert_int_equal(keystore_decrypt(f->ks, f->tenant, id, ct, ctlen, &pt, &ptlen, &err), ACLM_OK);
		assert_int_equal(ptlen, sizeof(secret));
		assert_memory_equal(pt, secret, ptlen);
		OPENSSL_clear_free(pt, ptlen);
		EVP_PKEY_free(h);
	}
}

static void test_export_pem_is_0600_and_audited(void **state)
{
	struct ts_home *f = *state;
	char id[KEYSTORE_ID_MAX], path[128];
	struct stat sb;
	int64_t before = 0, after = 0;
	struct aclm_err err = { 0 };

	assert_int_equal(keystore_create(f->ks, f->tenant, CRYPTO_KEY_P256, id, &err), ACLM_OK);
	assert_int_equal(store_audit_verify(f->store, &before, &err), ACLM_OK);
	snprintf(path, sizeof(path), "%s/out.pem", f->dir);
	assert_int_equal(keystore_export_pem(f->ks, f->tenant, id, path, "test", &err), ACLM_OK);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(store_audit_verify(f->store, &after, &err), ACLM_OK);
	assert_int_equal(after, before + 1);
}

static void test_delete_removes_one_tenants_key_and_is_audited(void **state)
{
	struct ts_home *f = *state;
	struct aclm_err err = { 0 };
	char id[KEYSTORE_ID_MAX];
	int64_t before = 0, after = 0;
	EVP_PKEY *h = NULL;
	bool created = false;

	assert_int_equal(keystore_create(f->ks, f->tenant, CRYPTO_KEY_P256, id, &err), ACLM_OK);
	assert_int_equal(keystore_pkey(f->ks, f->tenant, id, &h, &err), ACLM_OK);
	assert_int_equal(keystore_import(f->ks, other, h, id, &created, &err), ACLM_OK);
	assert_int_equal(store_audit_verify(f->store, &before, &err), ACLM_OK);
	assert_int_equal(keystore_delete(f->ks, f->tenant, id, "test", &err), ACLM_OK);
	assert_int_equal(keystore_exists(f->ks, f->tenant, id, &err), ACLM_ERR_NOTFOUND);
	assert_int_equal(keystore_exists(f->ks, other, id, &err), ACLM_OK);
	assert_int_equal(store_audit_verify(f->store, &after, &err), ACLM_OK);
	assert_int_equal(after, before + 1);
	assert_int_equal(keystore_delete(f->ks, f->tenant, id, "test", &err), ACLM_ERR_NOTFOUND);
	EVP_PKEY_free(h);
}

/* EAB HMAC keys: sealed under the master key, bound to tenant and label. */
static void test_secret_seal_binds_tenant_and_label(void **state)
{
	struct ts_home *f = *state;
	const unsigned char hmac[32] = "0123456789abcdef0123456789abcde";
	unsigned char *blob = NULL, *plain = NULL;
	size_t bloblen = 0, plen = 0;
	struct aclm_err err = { 0 };

	assert_int_equal(keystore_secret_seal(f->ks, f->tenant, "eab:kid-1", hmac, sizeof(hmac),
					      &blob, &bloblen, &err), ACLM_OK);
	assert_non_null(blob);
	assert_null(memmem(blob, bloblen, hmac, sizeof(hmac))); /* not in clear */
	assert_int_equal(keystore_secret_open(f->ks, f->tenant, "eab:kid-1", blob, bloblen, &plain,
					      &plen, &err), ACLM_OK);
	assert_int_equal(plen, sizeof(hmac));
	assert_memory_equal(plain, hmac, plen);
	OPENSSL_clear_free(plain, plen);
	plain = NULL;
	/* Another tenant, another label: the AAD differs, GCM refuses. */
	assert_int_equal(keystore_secret_open(f->ks, other, "eab:kid-1", blob, bloblen, &plain,
					      &plen, &err), ACLM_ERR_VERIFY);
	assert_null(plain);
	assert_int_equal(keystore_secret_open(f->ks, f->tenant, "eab:kid-2", blob, bloblen, &plain,
					      &plen, &err), ACLM_ERR_VERIFY);
	assert_null(plain);
	/* The other tenant's own secret opens for it and for no one else. */
	free(blob);
	blob = NULL;
	assert_int_equal(keystore_secret_seal(f->ks, other, "eab:kid-1", hmac, sizeof(hmac),
					      &blob, &bloblen, &err), ACLM_OK);
	assert_int_equal(keystore_secret_open(f->ks, f->tenant, "eab:kid-1", blob, bloblen, &plain,
					      &plen, &err), ACLM_ERR_VERIFY);
	assert_int_equal(keystore_secret_open(f->ks, other, "eab:kid-1", blob, bloblen, &plain,
					      &plen, &err), ACLM_OK);
	assert_memory_equal(plain, hmac, sizeof(hmac));
	OPENSSL_clear_free(plain, plen);
	plain = NULL;
	/* A label without ':' could be a key id ("k" + hex): refused both ways. */
	assert_int_equal(keystore_secret_open(f->ks, f->tenant, "kabc", blob, bloblen, &plain,
					      &plen, &err), ACLM_ERR_INVALID);
	free(blob);
	blob = NULL;
	assert_int_equal(keystore_secret_seal(f->ks, f->tenant, "kabc", hmac, sizeof(hmac), &blob,
					      &bloblen, &err), ACLM_ERR_INVALID);
	assert_null(blob);
	assert_non_null(strstr(err.msg, "eab:KID"));
	assert_int_equal(keystore_secret_seal(f->ks, f->tenant, "", hmac, sizeof(hmac), &blob,
					      &bloblen, &err), ACLM_ERR_INVALID);
	assert_int_equal(keystore_secret_seal(f->ks, f->tenant, NULL, hmac, sizeof(hmac), &blob,
					      &bloblen, &err), ACLM_ERR_INVALID);
}

/* A secret is sealed under the master key: another master key cannot open it. */
static void test_secret_needs_the_master_key(void **state)
{
	struct ts_home *f = *state;
	struct keystore *ks2 = NULL;
	const unsigned char hmac[] = "secret";
	unsigned char *blob = NULL, *plain = NULL;
	size_t bloblen = 0, plen = 0;
	char path[128];
	struct aclm_err err = { 0 };

	assert_int_equal(keystore_secret_seal(f->ks, f->tenant, "eab:k", hmac, sizeof(hmac), &blob,
					      &bloblen, &err), ACLM_OK);
	snprintf(path, sizeof(path), "%s/master.key", f->dir);
	assert_int_equal(access(path, F_OK), 0); /* created on first use */
	setenv(KEYSTORE_MASTER_ENV, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 1);
	assert_int_equal(keystore_open(f->store, f->dir, &ks2, &err), ACLM_OK);
	assert_int_equal(keystore_secret_open(ks2, f->tenant, "eab:k", blob, bloblen, &plain, &plen,
					      &err), ACLM_ERR_VERIFY);
	assert_null(plain);
	keystore_close(ks2);
	unsetenv(KEYSTORE_MASTER_ENV);
	free(blob);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seal_round_trip_and_binding),
		cmocka_unit_test_setup_teardown(test_every_key_type_signs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_master_key_file_created_0600, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_master_key_fails_cleanly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_is_idempotent_and_id_derives_from_spki, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decrypt_rsa_oaep_and_sm2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_pem_is_0600_and_audited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_removes_one_tenants_key_and_is_audited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_seal_binds_tenant_and_label, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_needs_the_master_key, setup, teardown),
			};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
