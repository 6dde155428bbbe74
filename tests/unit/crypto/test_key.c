/* crypto/key: generation of every key type, key facts, PKCS#8 round trips,
 * and signatures (SM2 with its user ID); which types make certificates and
 * the type of a key (Ed25519 for ACME account keys only). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>

#include "crypto/key.h"

static const unsigned char msg[] = "aclm signs this message";

struct expect {
	enum crypto_key_type t;
	const char *type;
	int bits;
	const char *curve;
	const char *digest; /* the default digest a verifier must use */
};

static EVP_PKEY *generate(enum crypto_key_type t)
{
	struct aclm_err err = { 0 };
	EVP_PKEY *key = NULL;

	assert_int_equal(crypto_key_generate(t, &key, &err), ACLM_OK);
	assert_non_null(key);
	return key;
}

static void check_info(const EVP_PKEY *key, const char *type, int bits, const char *curve)
{
	struct crypto_key_info info;

	assert_int_equal(crypto_key_info(key, &info), ACLM_OK);
	assert_string_equal(info.type, type);
	assert_int_equal(info.bits, bits);
	assert_string_equal(info.curve, curve);
}

/* SPKI hash and public key survive PKCS#8 DER; the DER re-encodes identically. */
static void check_der_round_trip(EVP_PKEY *key)
{
	struct aclm_err err = { 0 };
	unsigned char *der = NULL, *der2 = NULL, *longer;
	size_t len = 0, len2 = 0;
	EVP_PKEY *back = NULL;
	char h1[65], h2[65];

	assert_int_equal(crypto_key_to_der(key, &der, &len, &err), ACLM_OK);
	assert_int_equal(crypto_key_from_der(der, len, &back, &err), ACLM_OK);
	assert_int_equal(crypto_key_spki_sha256(key, h1), ACLM_OK);
	assert_int_equal(crypto_key_spki_sha256(back, h2), ACLM_OK);
	assert_int_equal(strlen(h1), 64);
	assert_string_equal(h1, h2);
	assert_true(crypto_key_public_equal(key, back));
	assert_int_equal(crypto_key_is_sm2(key), crypto_key_is_sm2(back));
	assert_int_equal(crypto_key_to_der(back, &der2, &len2, &err), ACLM_OK);
	assert_int_equal(len, len2);
	assert_memory_equal(der, der2, len);
	/* Trailing bytes after the key are not silently ignored. */
	longer = calloc(1, len + 1);
	assert_non_null(longer);
	memcpy(longer, der, len);
	EVP_PKEY_free(back);
	back = NULL;
	assert_int_equal(crypto_key_from_der(longer, len + 1, &back, &err), ACLM_ERR_PARSE);
	assert_null(back);
	free(longer);
	OPENSSL_clear_free(der, len);
	OPENSSL_clear_free(der2, len2);
}

static void check_pem_round_trip(EVP_PKEY *key)
{
	struct aclm_err err = { 0 };
	struct aclm_buf pem;
	EVP_PKEY *back = NULL;

	aclm_buf_init(&pem, 1 << 16);
	assert_int_equal(crypto_key_to_pem(key, &pem, &err), ACLM_OK);
	assert_non_null(strstr((char *)pem.data, "-----BEGIN PRIVATE KEY-----"));
	assert_int_equal(crypto_key_from_pem((char *)pem.data, pem.len, NULL, &back, &err), ACLM_OK);
	assert_true(crypto_key_public_equal(key, back));
	assert_int_equal(crypto_key_is_sm2(key), crypto_key_is_sm2(back));
	EVP_PKEY_free(back);
	aclm_buf_free_secret(&pem);
}

/* Signs with the default digest; verifies with it and with the expected
 * digest named explicitly; a changed message or a wrong digest fails
 * (SM2 in OpenSSL 3.0 refuses any digest but SM3 outright: ACLM_ERR_CRYPTO). */
static void check_sign_verify(EVP_PKEY *key, const char *digest, const char *wrong_digest,
			      aclm_status wrong_st)
{
	struct aclm_err err = { 0 };
	unsigned char *sig = NULL;
	size_t siglen = 0;

	assert_int_equal(crypto_sign(key, NULL, NULL, msg, sizeof(msg), &sig, &siglen, &err), ACLM_OK);
	assert_true(siglen > 0);
	assert_int_equal(crypto_verify(key, NULL, NULL, msg, sizeof(msg), sig, siglen, &err), ACLM_OK);
	if (digest != NULL)
		assert_int_equal(crypto_verify(key, digest, NULL, msg, sizeof(msg), sig, siglen, &err),
				 ACLM_OK);
	if (wrong_digest != NULL)
		assert_int_equal(crypto_verify(key, wrong_digest, NULL, msg, sizeof(msg), sig, siglen,
					       &err),
				 wrong_st);
	assert_int_equal(crypto_verify(key, NULL, NULL, msg, sizeof(msg) - 1, sig, siglen, &err),
			 ACLM_ERR_VERIFY);
	assert_true(strstr(err.msg, "does not verify") != NULL);
	OPENSSL_free(sig);
}

static void check_type(const struct expect *e, const char *wrong_digest, aclm_status wrong_st)
{
	EVP_PKEY *key = generate(e->t);

	check_info(key, e->type, e->bits, e->curve);
	check_der_round_trip(key);
	check_pem_round_trip(key);
	check_sign_verify(key, e->digest, wrong_digest, wrong_st);
	EVP_PKEY_free(key);
}

static void rsa_public_exponent_is(EVP_PKEY *key, unsigned long e)
{
	BIGNUM *bn = NULL;

	assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &bn), 1);
	assert_int_equal(BN_get_word(bn), e);
	BN_free(bn);
}

static void test_key_type_names_round_trip(void **state)
{
	for (int t = 0; t < CRYPTO_KEY_TYPE_COUNT; t++)
		assert_int_equal(crypto_key_type_parse(crypto_key_type_name(t)), t);
	assert_string_equal(crypto_key_type_name(CRYPTO_KEY_SM2), "sm2");
	assert_int_equal(crypto_key_type_parse("P256"), CRYPTO_KEY_P256);
	assert_int_equal(crypto_key_type_parse("rsa1024"), -1);
	assert_int_equal(crypto_key_type_parse(NULL), -1);
	assert_string_equal(crypto_key_type_name(CRYPTO_KEY_TYPE_COUNT), "unknown");
}

static void test_key_rsa2048_full_cycle(void **state)
{
	static const struct expect e = { CRYPTO_KEY_RSA2048, "rsa", 2048, "", "SHA256" };
	EVP_PKEY *key = generate(e.t);

	rsa_public_exponent_is(key, 65537);
	EVP_PKEY_free(key);
	check_type(&e, "SHA384", ACLM_ERR_VERIFY);
}

static void test_key_rsa3072_full_cycle(void **state)
{
	static const struct expect e = { CRYPTO_KEY_RSA3072, "rsa", 3072, "", "SHA256" };

	check_type(&e, "SHA512", ACLM_ERR_VERIFY);
}

static void test_key_rsa4096_full_cycle(void **state)
{
	static const struct expect e = { CRYPTO_KEY_RSA4096, "rsa", 4096, "", "SHA256" };

	check_type(&e, NULL, ACLM_ERR_VERIFY);
}

static void test_key_p256_full_cycle_named_curve(void **state)
{
	static const struct expect e = { CRYPTO_KEY_P256, "ec", 256, "P-256", "SHA256" };
	EVP_PKEY *key = generate(e.t);
	char enc[32] = "";

	assert_int_equal(EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_EC_ENCODING, enc,
							sizeof(enc), NULL),
			 1);
	assert_string_equal(enc, OSSL_PKEY_EC_ENCODING_GROUP);
	assert_false(crypto_key_is_sm2(key));
	EVP_PKEY_free(key);
	check_type(&e, "SHA384", ACLM_ERR_VERIFY);
}

/* P-384 signs with SHA-384 by default: a SHA-256 verifier must fail. */
static void test_key_p384_defaults_to_sha384(void **state)
{
	static const struct expect e = { CRYPTO_KEY_P384, "ec", 384, "P-384", "SHA384" };

	check_type(&e, "SHA256", ACLM_ERR_VERIFY);
}

static void test_key_sm2_full_cycle_with_sm3(void **state)
{
	static const struct expect e = { CRYPTO_KEY_SM2, "sm2", 256, "SM2", "SM3" };
	EVP_PKEY *key = generate(e.t);

	assert_true(crypto_key_is_sm2(key));
	EVP_PKEY_free(key);
	check_type(&e, "SHA256", ACLM_ERR_CRYPTO);
}

/* Raw OpenSSL verification with an explicit ID, independent of crypto_verify. */
static int raw_sm2_verify(EVP_PKEY *key, const char *id, const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int r = -1;

	if (EVP_DigestVerifyInit_ex(ctx, &pctx, "SM3", NULL, NULL, key, NULL) == 1 &&
	    (id == NULL || EVP_PKEY_CTX_set1_id(pctx, id, (int)strlen(id)) == 1))
		r = EVP_DigestVerify(ctx, sig, siglen, msg, sizeof(msg));
	EVP_MD_CTX_free(ctx);
	return r;
}

/* The default ID is GB/T 32918's 1234567812345678: an independent verifier
 * with that ID accepts, with another ID or none it rejects; crypto_verify
 * with another ID rejects too. */
static void test_key_sm2_signs_with_default_id_only(void **state)
{
	struct aclm_err err = { 0 };
	EVP_PKEY *key = generate(CRYPTO_KEY_SM2);
	unsigned char *sig = NULL;
	size_t siglen = 0;

	assert_int_equal(crypto_sign(key, NULL, NULL, msg, sizeof(msg), &sig, &siglen, &err), ACLM_OK);
	assert_int_equal(raw_sm2_verify(key, "1234567812345678", sig, siglen), 1);
	assert_int_not_equal(raw_sm2_verify(key, "8765432187654321", sig, siglen), 1);
	assert_int_not_equal(raw_sm2_verify(key, NULL, sig, siglen), 1);
	assert_int_equal(crypto_verify(key, NULL, CRYPTO_SM2_ID, msg, sizeof(msg), sig, siglen, &err),
			 ACLM_OK);
	assert_int_equal(crypto_verify(key, NULL, "alice@example.com", msg, sizeof(msg), sig, siglen,
				       &err),
			 ACLM_ERR_VERIFY);
	OPENSSL_free(sig);
	/* A caller-chosen ID round-trips and is not the default. */
	assert_int_equal(crypto_sign(key, "SM3", "alice@example.com", msg, sizeof(msg), &sig, &siglen,
				     &err),
			 ACLM_OK);
	assert_int_equal(crypto_verify(key, NULL, "alice@example.com", msg, sizeof(msg), sig, siglen,
				       &err),
			 ACLM_OK);
	assert_int_equal(crypto_verify(key, NULL, NULL, msg, sizeof(msg), sig, siglen, &err),
			 ACLM_ERR_VERIFY);
	OPENSSL_free(sig);
	EVP_PKEY_free(key);
}

/* sign_init leaves an EVP_MD_CTX that X509_sign_ctx & co can use as is. */
static void test_key_sign_init_context_carries_sm2_id(void **state)
{
	struct aclm_err err = { 0 };
	EVP_PKEY *key = generate(CRYPTO_KEY_SM2);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char sig[128];
	size_t siglen = sizeof(sig);

	assert_int_equal(crypto_sign_init(ctx, key, NULL, NULL, &err), ACLM_OK);
	assert_int_equal(EVP_DigestSignUpdate(ctx, msg, sizeof(msg)), 1);
	assert_int_equal(EVP_DigestSignFinal(ctx, sig, &siglen), 1);
	assert_int_equal(raw_sm2_verify(key, CRYPTO_SM2_ID, sig, siglen), 1);
	assert_int_equal(crypto_sign_init(NULL, key, NULL, NULL, &err), ACLM_ERR_INVALID);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
}

static void test_key_ed25519_info_and_sign_without_digest(void **state)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	assert_non_null(key);
	check_info(key, "ed25519", 256, "");
	check_der_round_trip(key);
	check_sign_verify(key, NULL, NULL, ACLM_OK);
	EVP_PKEY_free(key);
}

/* CRYPTO_KEY_ED25519 is generated like the others (ACME account keys),
 * signs without digest (64 raw bytes), but certificates never take it. */
static void test_key_ed25519_type_is_for_accounts_only(void **state)
{
	EVP_PKEY *key = generate(CRYPTO_KEY_ED25519);
	struct aclm_err err = { 0 };
	unsigned char *sig = NULL;
	size_t siglen = 0;

	assert_string_equal(crypto_key_type_name(CRYPTO_KEY_ED25519), "ed25519");
	assert_int_equal(crypto_key_type_parse("Ed25519"), CRYPTO_KEY_ED25519);
	check_info(key, "ed25519", 256, "");
	check_der_round_trip(key);
	check_pem_round_trip(key);
	assert_int_equal(crypto_sign(key, NULL, NULL, msg, sizeof(msg), &sig, &siglen, &err), ACLM_OK);
	assert_int_equal(siglen, 64);
	OPENSSL_free(sig);
	check_sign_verify(key, NULL, NULL, ACLM_OK);
	EVP_PKEY_free(key);
	for (int t = 0; t < CRYPTO_KEY_TYPE_COUNT; t++)
		assert_int_equal(crypto_key_type_for_certs((enum crypto_key_type)t),
				 t != CRYPTO_KEY_ED25519);
	assert_false(crypto_key_type_for_certs(CRYPTO_KEY_TYPE_COUNT));
}

/* crypto_key_type_of names every generated type, and nothing else. */
static void test_key_type_of_each_type_and_others(void **state)
{
	EVP_PKEY *p521 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
	EVP_PKEY *ed448 = EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
	EVP_PKEY *rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);

	for (int t = 0; t < CRYPTO_KEY_TYPE_COUNT; t++) {
		EVP_PKEY *key = generate((enum crypto_key_type)t);

		assert_int_equal(crypto_key_type_of(key), t);
		EVP_PKEY_free(key);
	}
	assert_int_equal(crypto_key_type_of(p521), -1);
	assert_int_equal(crypto_key_type_of(ed448), -1);
	assert_int_equal(crypto_key_type_of(rsa1024), -1);
	assert_int_equal(crypto_key_type_of(NULL), -1);
	EVP_PKEY_free(p521);
	EVP_PKEY_free(ed448);
	EVP_PKEY_free(rsa1024);
}

static void test_key_info_names_other_curves(void **state)
{
	EVP_PKEY *p521 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
	EVP_PKEY *k1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
	EVP_PKEY *ed448 = EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
	struct crypto_key_info info;

	check_info(p521, "ec", 521, "P-521");
	check_info(k1, "ec", 256, "secp256k1");
	check_info(ed448, "ed448", 456, "");
	check_sign_verify(p521, "SHA512", "SHA256", ACLM_ERR_VERIFY);
	assert_int_equal(crypto_key_info(NULL, &info), ACLM_ERR_INVALID);
	assert_string_equal(info.type, "unknown");
	EVP_PKEY_free(p521);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(ed448);
}

/* OpenSSL can hold an SM2-curve key as type EC; it is still an SM2 key to
 * the inventory, and signing refuses rather than making ECDSA-on-SM2. */
static void test_key_ec_key_on_sm2_curve_is_sm2(void **state)
{
	struct aclm_err err = { 0 };
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "SM2");
	unsigned char *sig = NULL;
	size_t siglen = 0;

	assert_non_null(key);
	assert_true(EVP_PKEY_is_a(key, "EC"));
	assert_true(crypto_key_is_sm2(key));
	check_info(key, "sm2", 256, "SM2");
	assert_int_equal(crypto_sign(key, NULL, NULL, msg, sizeof(msg), &sig, &siglen, &err),
			 ACLM_ERR_UNSUPPORTED);
	assert_null(sig);
	EVP_PKEY_free(key);
}

static char *encrypted_pem(EVP_PKEY *key, const char *password)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *copy;
	long len;

	assert_int_equal(PEM_write_bio_PKCS8PrivateKey(bio, key, EVP_aes_256_cbc(), password,
						       (int)strlen(password), NULL, NULL),
			 1);
	len = BIO_get_mem_data(bio, &data);
	copy = strndup(data, (size_t)len);
	BIO_free(bio);
	return copy;
}

static void test_key_encrypted_pem_needs_right_password(void **state)
{
	struct aclm_err err = { 0 };
	EVP_PKEY *key = generate(CRYPTO_KEY_P256), *back = NULL;
	char *pem = encrypted_pem(key, "s3cret");

	assert_non_null(strstr(pem, "ENCRYPTED PRIVATE KEY"));
	assert_int_equal(crypto_key_from_pem(pem, strlen(pem), NULL, &back, &err), ACLM_ERR_PASSWORD);
	assert_non_null(strstr(err.msg, "password needed"));
	assert_int_equal(crypto_key_from_pem(pem, strlen(pem), "wrong", &back, &err),
			 ACLM_ERR_PASSWORD);
	assert_non_null(strstr(err.msg, "wrong password"));
	assert_null(back);
	assert_int_equal(crypto_key_from_pem(pem, strlen(pem), "s3cret", &back, &err), ACLM_OK);
	assert_true(crypto_key_public_equal(key, back));
	free(pem);
	EVP_PKEY_free(back);
	EVP_PKEY_free(key);
}

/* A traditional "EC PRIVATE KEY" on the SM2 curve (openssl ecparam -name SM2
 * -genkey) placed after a public key block still reads, as an SM2 key. */
static void test_key_traditional_pem_after_other_block(void **state)
{
	struct aclm_err err = { 0 };
	EVP_PKEY *key = generate(CRYPTO_KEY_SM2), *back = NULL, *other = generate(CRYPTO_KEY_P256);
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL;
	long len;

	assert_int_equal(PEM_write_bio_PUBKEY(bio, other), 1);
	assert_int_equal(PEM_write_bio_PrivateKey_traditional(bio, key, NULL, NULL, 0, NULL, NULL), 1);
	len = BIO_get_mem_data(bio, &data);
	assert_non_null(strstr(data, "BEGIN EC PRIVATE KEY"));
	assert_int_equal(crypto_key_from_pem(data, (size_t)len, NULL, &back, &err), ACLM_OK);
	assert_true(crypto_key_public_equal(key, back));
	assert_true(crypto_key_is_sm2(back));
	assert_false(crypto_key_public_equal(other, back));
	EVP_PKEY_free(back);
	back = NULL;
	assert_int_equal(crypto_key_from_pem("hello", 5, NULL, &back, &err), ACLM_ERR_PARSE);
	assert_int_equal(crypto_key_from_der((const unsigned char *)"hello", 5, &back, &err),
			 ACLM_ERR_PARSE);
	BIO_free(bio);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_type_names_round_trip),
		cmocka_unit_test(test_key_rsa2048_full_cycle),
		cmocka_unit_test(test_key_rsa3072_full_cycle),
		cmocka_unit_test(test_key_rsa4096_full_cycle),
		cmocka_unit_test(test_key_p256_full_cycle_named_curve),
		cmocka_unit_test(test_key_p384_defaults_to_sha384),
		cmocka_unit_test(test_key_sm2_full_cycle_with_sm3),
		cmocka_unit_test(test_key_sm2_signs_with_default_id_only),
		cmocka_unit_test(test_key_sign_init_context_carries_sm2_id),
		cmocka_unit_test(test_key_ed25519_info_and_sign_without_digest),
		cmocka_unit_test(test_key_ed25519_type_is_for_accounts_only),
		cmocka_unit_test(test_key_type_of_each_type_and_others),
		cmocka_unit_test(test_key_info_names_other_curves),
		cmocka_unit_test(test_key_ec_key_on_sm2_curve_is_sm2),
		cmocka_unit_test(test_key_encrypted_pem_needs_right_password),
		cmocka_unit_test(test_key_traditional_pem_after_other_block),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
