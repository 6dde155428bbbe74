/* acme/jwk: JWKs of every supported key type and back, RFC 7638 and RFC 8037
 * thumbprint vectors, JWS algorithms, and refusal of bad JWKs (wrong sizes,
 * points off the curve, small RSA, SM2, private members). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/rsa.h>

#include "acme/acme.h"
#include "crypto/key.h"

/* RFC 7638 §3.1 */
static const char rfc7638_n[] =
	"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFx"
	"uhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_R"
	"N5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL"
	"5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBn"
	"iIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
static const char rfc7638_thumbprint[] = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
/* RFC 8037 Appendix A.2, A.3 */
static const char rfc8037_x[] = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
static const char rfc8037_thumbprint[] = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
/* RFC 7515 Appendix A.3 (P-256) */
static const char rfc7515_x[] = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
static const char rfc7515_y[] = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";

static EVP_PKEY *generate(enum crypto_key_type t)
{
	struct aclm_err err = { 0 };
	EVP_PKEY *key = NULL;

	assert_int_equal(crypto_key_generate(t, &key, &err), ACLM_OK);
	return key;
}

static json_t *jwk_of(const EVP_PKEY *key)
{
	struct aclm_err err = { 0 };
	json_t *jwk = NULL;

	assert_int_equal(acme_jwk_from_pkey(key, &jwk, &err), ACLM_OK);
	assert_non_null(jwk);
	return jwk;
}

static aclm_status to_pkey(const char *json, struct aclm_err *err)
{
	json_t *jwk = json_loads(json, 0, NULL);
	EVP_PKEY *key = NULL;
	aclm_status st;

	assert_non_null(jwk);
	st = acme_jwk_to_pkey(jwk, &key, err);
	assert_true(st == ACLM_OK ? key != NULL : key == NULL);
	assert_int_equal(ERR_peek_error(), 0); /* errors folded into err, queue clear */
	EVP_PKEY_free(key);
	json_decref(jwk);
	return st;
}

static void decoded_len_is(const json_t *jwk, const char *member, size_t want)
{
	const char *s = json_string_value(json_object_get(jwk, member));
	unsigned char buf[1024];

	assert_non_null(s);
	assert_int_equal(acme_b64url_decode(s, strlen(s), buf, sizeof(buf)), (long)want);
	assert_true(want == 0 || member[0] != 'n' || buf[0] != 0); /* minimal n */
}

/* The JWK has exactly the required members (in sorted order), and the key
 * built back from it is the same public key. */
static void check_round_trip(enum crypto_key_type t, const char *members, const char *alg)
{
	struct aclm_err err = { 0 };
	EVP_PKEY *key = generate(t), *back = NULL;
	json_t *jwk = jwk_of(key);
	char *dump = NULL;
	const char *k;
	json_t *v;
	char got[64] = "";

	json_object_foreach (jwk, k, v) {
		strcat(got, k);
		strcat(got, ",");
	}
	assert_string_equal(got, members);
	assert_string_equal(acme_jws_alg(key), alg);
	assert_int_equal(acme_jwk_to_pkey(jwk, &back, &err), ACLM_OK);
	assert_true(crypto_key_public_equal(key, back));
	dump = json_dumps(jwk, JSON_COMPACT);
	assert_null(strchr(dump, '='));
	free(dump);
	if (t == CRYPTO_KEY_P256 || t == CRYPTO_KEY_P384) {
		decoded_len_is(jwk, "x", t == CRYPTO_KEY_P256 ? 32 : 48);
		decoded_len_is(jwk, "y", t == CRYPTO_KEY_P256 ? 32 : 48);
	} else {
		decoded_len_is(jwk, "n", 256);
		decoded_len_is(jwk, "e", 3);
	}
	EVP_PKEY_free(back);
	EVP_PKEY_free(key);
	json_decref(jwk);
}

static void test_jwk_p256_p384_rsa_round_trip(void **state)
{
	(void)state;
	check_round_trip(CRYPTO_KEY_P256, "crv,kty,x,y,", "ES256");
	check_round_trip(CRYPTO_KEY_P384, "crv,kty,x,y,", "ES384");
	check_round_trip(CRYPTO_KEY_RSA2048, "e,kty,n,", "RS256");
}

/* Coordinates with leading zero bytes keep their fixed size (RFC 7518
 * §6.2.1.2): generate until x or y starts with 0x00. */
static void test_jwk_ec_coordinates_keep_leading_zeros(void **state)
{
	(void)state;
	for (int i = 0; i < 2000; i++) {
		EVP_PKEY *key = generate(CRYPTO_KEY_P256);
		json_t *jwk = jwk_of(key);
		const char *x = json_string_value(json_object_get(jwk, "x"));
		const char *y = json_string_value(json_object_get(jwk, "y"));
		bool zero = x[0] == 'A' && x[1] < 'E';

		zero = zero || (y[0] == 'A' && y[1] < 'E');
		decoded_len_is(jwk, "x", 32);
		decoded_len_is(jwk, "y", 32);
		json_decref(jwk);
		EVP_PKEY_free(key);
		if (zero)
			return;
	}
	fail_msg("no P-256 key with a leading zero coordinate byte in 2000 tries");
}

static void test_jwk_ed25519_round_trip_and_rfc8037_thumbprint(void **state)
{
	struct aclm_err err = { 0 };
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), *back = NULL;
	json_t *jwk, *rfc;
	char tp[44];

	(void)state;
	assert_non_null(key);
	jwk = jwk_of(key);
	assert_string_equal(json_string_value(json_object_get(jwk, "kty")), "OKP");
	assert_string_equal(json_string_value(json_object_get(jwk, "crv")), "Ed25519");
	assert_int_equal(json_object_size(jwk), 3);
	decoded_len_is(jwk, "x", 32);
	assert_string_equal(acme_jws_alg(key), "EdDSA");
	assert_int_equal(acme_jwk_to_pkey(jwk, &back, &err), ACLM_OK);
	assert_true(crypto_key_public_equal(key, back));

	rfc = json_pack("{s:s,s:s,s:s}", "kty", "OKP", "crv", "Ed25519", "x", rfc8037_x);
	assert_int_equal(acme_jwk_thumbprint(rfc, tp, &err), ACLM_OK);
	assert_string_equal(tp, rfc8037_thumbprint);
	json_decref(rfc);
	json_decref(jwk);
	EVP_PKEY_free(back);
	EVP_PKEY_free(key);
}

/* RFC 7638 §3.1: the thumbprint ignores optional members and member order;
 * the key parses and gives back the same n and e. */
static void test_jwk_rfc7638_thumbprint_and_rsa_import(void **state)
{
	struct aclm_err err = { 0 };
	json_t *jwk = json_pack("{s:s,s:s,s:s,s:s}", "kty", "RSA", "n", rfc7638_n, "e", "AQAB",
				"alg", "RS256");
	json_t *kid = json_pack("{s:s,s:s,s:s,s:s}", "kid", "2011-04-29", "e", "AQAB", "n",
				rfc7638_n, "kty", "RSA");
	EVP_PKEY *key = NULL;
	json_t *again;
	char tp[44], tp2[44];

	(void)state;
	assert_int_equal(acme_jwk_thumbprint(jwk, tp, &err), ACLM_OK);
	assert_string_equal(tp, rfc7638_thumbprint);
	assert_int_equal(acme_jwk_thumbprint(kid, tp2, &err), ACLM_OK);
	assert_string_equal(tp2, rfc7638_thumbprint);
	assert_int_equal(acme_jwk_to_pkey(jwk, &key, &err), ACLM_OK);
	again = jwk_of(key);
	assert_string_equal(json_string_value(json_object_get(again, "n")), rfc7638_n);
	assert_string_equal(json_string_value(json_object_get(again, "e")), "AQAB");
	assert_int_equal(acme_jwk_thumbprint(again, tp2, &err), ACLM_OK);
	assert_string_equal(tp2, rfc7638_thumbprint);
	json_decref(again);
	EVP_PKEY_free(key);
	json_decref(kid);
	json_decref(jwk);
}

static void test_jwk_rfc7515_p256_imports(void **state)
{
	char json[256];
	struct aclm_err err = { 0 };

	(void)state;
	snprintf(json, sizeof(json), "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}",
		 rfc7515_x, rfc7515_y);
	assert_int_equal(to_pkey(json, &err), ACLM_OK);
}

static void test_jwk_sm2_refused_with_a_reason(void **state)
{
	struct aclm_err err = { 0 };
	EVP_PKEY *key = generate(CRYPTO_KEY_SM2);
	json_t *jwk = NULL;

	(void)state;
	assert_null(acme_jws_alg(key));
	assert_int_equal(acme_jwk_from_pkey(key, &jwk, &err), ACLM_ERR_UNSUPPORTED);
	assert_null(jwk);
	assert_non_null(strstr(err.msg, "no JWS algorithm exists for SM2"));
	EVP_PKEY_free(key);
}

static void test_jwk_rsa1024_refused(void **state)
{
	struct aclm_err err = { 0 };
	EVP_PKEY *key = EVP_RSA_gen(1024), *back = NULL;
	json_t *jwk;

	(void)state;
	assert_non_null(key);
	jwk = jwk_of(key);
	assert_int_equal(acme_jwk_to_pkey(jwk, &back, &err), ACLM_ERR_UNSUPPORTED);
	assert_null(back);
	assert_non_null(strstr(err.msg, "1024 bits"));
	json_decref(jwk);
	EVP_PKEY_free(key);
}

/* Replaces member with value in the JWK of a fresh P-256 key and returns
 * the status of acme_jwk_to_pkey. */
static aclm_status p256_with(const char *member, const char *value, struct aclm_err *err)
{
	EVP_PKEY *key = generate(CRYPTO_KEY_P256), *back = NULL;
	json_t *jwk = jwk_of(key);
	aclm_status st;

	if (value == NULL)
		json_object_del(jwk, member);
	else
		json_object_set_new(jwk, member, json_string(value));
	st = acme_jwk_to_pkey(jwk, &back, err);
	assert_true(st == ACLM_OK ? back != NULL : back == NULL);
	EVP_PKEY_free(back);
	EVP_PKEY_free(key);
	json_decref(jwk);
	return st;
}

static void test_jwk_ec_bad_coordinates_refused(void **state)
{
	struct aclm_err err = { 0 };
	char y[64];

	(void)state;
	/* 31 and 33 bytes */
	assert_int_equal(p256_with("x", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg", &err),
			 ACLM_ERR_PARSE);
	assert_non_null(strstr(err.msg, "\"x\""));
	assert_int_equal(p256_with("y", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gAA", &err),
			 ACLM_ERR_PARSE);
	assert_non_null(strstr(err.msg, "\"y\""));
	assert_int_equal(p256_with("x", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVE=", &err),
			 ACLM_ERR_PARSE);
	assert_int_equal(p256_with("y", NULL, &err), ACLM_ERR_PARSE);
	assert_non_null(strstr(err.msg, "\"y\" is missing"));
	assert_int_equal(p256_with("crv", "P-521", &err), ACLM_ERR_UNSUPPORTED);
	assert_int_equal(p256_with("crv", "P-384", &err), ACLM_ERR_PARSE);
	/* RFC 7515's y with its last byte changed: (x, y') is not on P-256 */
	strcpy(y, rfc7515_y);
	y[strlen(y) - 2] = y[strlen(y) - 2] == 'A' ? 'B' : 'A';
	assert_int_equal(p256_with("y", y, &err), ACLM_ERR_PARSE);
	assert_int_equal(ERR_peek_error(), 0);
}

static void test_jwk_point_off_curve_refused(void **state)
{
	char json[256], y[64];
	struct aclm_err err = { 0 };

	(void)state;
	strcpy(y, rfc7515_y);
	y[5] = y[5] == 'A' ? 'B' : 'A';
	snprintf(json, sizeof(json), "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}",
		 rfc7515_x, y);
	assert_int_equal(to_pkey(json, &err), ACLM_ERR_PARSE);
	assert_non_null(strstr(err.msg, "jwk:"));
	/* all-zero coordinates: not a point either */
	assert_int_equal(to_pkey("{\"kty\":\"EC\",\"crv\":\"P-256\","
				 "\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
				 "\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
				 &err),
			 ACLM_ERR_PARSE);
}

static void test_jwk_malformed_members_refused(void **state)
{
	char json[600];
	struct aclm_err err = { 0 };

	(void)state;
	assert_int_equal(to_pkey("[]", &err), ACLM_ERR_PARSE);
	assert_int_equal(to_pkey("{}", &err), ACLM_ERR_PARSE);
	assert_non_null(strstr(err.msg, "kty"));
	assert_int_equal(to_pkey("{\"kty\":\"oct\",\"k\":\"AAAA\"}", &err), ACLM_ERR_UNSUPPORTED);
	assert_int_equal(to_pkey("{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"AA\"}", &err),
			 ACLM_ERR_UNSUPPORTED);
	assert_int_equal(to_pkey("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}", &err),
			 ACLM_ERR_PARSE);
	assert_int_equal(to_pkey("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":3}", &err),
			 ACLM_ERR_PARSE);
	assert_non_null(strstr(err.msg, "not a string"));
	/* RSA: leading zero in n, e even, e missing */
	snprintf(json, sizeof(json), "{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"AA%s\"}", rfc7638_n);
	assert_int_equal(to_pkey(json, &err), ACLM_ERR_PARSE);
	snprintf(json, sizeof(json), "{\"kty\":\"RSA\",\"e\":\"AQAC\",\"n\":\"%s\"}", rfc7638_n);
	assert_int_equal(to_pkey(json, &err), ACLM_ERR_PARSE);
	snprintf(json, sizeof(json), "{\"kty\":\"RSA\",\"n\":\"%s\"}", rfc7638_n);
	assert_int_equal(to_pkey(json, &err), ACLM_ERR_PARSE);
	assert_non_null(strstr(err.msg, "\"e\""));
	/* a private member */
	snprintf(json, sizeof(json), "{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"%s\",\"d\":\"AQAB\"}",
		 rfc7638_n);
	assert_int_equal(to_pkey(json, &err), ACLM_ERR_INVALID);
}

static void test_jwk_thumbprint_needs_required_members(void **state)
{
	struct aclm_err err = { 0 };
	json_t *jwk = json_pack("{s:s,s:s}", "kty", "EC", "crv", "P-256");
	char tp[44];

	(void)state;
	assert_int_equal(acme_jwk_thumbprint(jwk, tp, &err), ACLM_ERR_PARSE);
	assert_non_null(strstr(err.msg, "\"x\""));
	json_object_set_new(jwk, "kty", json_string("oct"));
	assert_int_equal(acme_jwk_thumbprint(jwk, tp, &err), ACLM_ERR_UNSUPPORTED);
	assert_int_equal(acme_jwk_thumbprint(NULL, tp, &err), ACLM_ERR_PARSE);
	json_decref(jwk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jwk_p256_p384_rsa_round_trip),
		cmocka_unit_test(test_jwk_ec_coordinates_keep_leading_zeros),
		cmocka_unit_test(test_jwk_ed25519_round_trip_and_rfc8037_thumbprint),
		cmocka_unit_test(test_jwk_rfc7638_thumbprint_and_rsa_import),
		cmocka_unit_test(test_jwk_rfc7515_p256_imports),
		cmocka_unit_test(test_jwk_sm2_refused_with_a_reason),
		cmocka_unit_test(test_jwk_rsa1024_refused),
		cmocka_unit_test(test_jwk_ec_bad_coordinates_refused),
		cmocka_unit_test(test_jwk_point_off_curve_refused),
		cmocka_unit_test(test_jwk_malformed_members_refused),
		cmocka_unit_test(test_jwk_thumbprint_needs_required_members),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
