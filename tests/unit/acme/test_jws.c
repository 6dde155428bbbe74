/* acme/jws: JWS signed with P-256, P-384, RSA-2048 and Ed25519 keys through a
 * crypto_sign callback, verified independently here (signing input rebuilt,
 * r||s turned back into DER, EVP_DigestVerify with the key rebuilt from the
 * header's JWK); header members; RFC 7515 A.3 and RFC 8037 A.4 vectors; EAB
 * by recomputing the HMAC; key authorization and challenge digests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/hmac.h>

#include "acme/acme.h"
#include "crypto/key.h"

static const char url[] = "https://acme.example/acme/new-order";
static const char nonce[] = "6S8IqOGY7eL2lsGoTZYifg";

static aclm_status sign_cb(void *arg, const unsigned char *msg, size_t len, unsigned char **sig,
			   size_t *siglen, struct aclm_err *err)
{
	return crypto_sign(arg, NULL, NULL, msg, len, sig, siglen, err);
}

static size_t b64_decode_alloc(const char *s, unsigned char **out)
{
	size_t max = strlen(s) * 3 / 4 + 1;
	long n;

	*out = malloc(max);
	assert_non_null(*out);
	n = acme_b64url_decode(s, strlen(s), *out, max);
	assert_true(n >= 0);
	return (size_t)n;
}

static json_t *b64_json(const char *s)
{
	unsigned char *bin = NULL;
	size_t len = b64_decode_alloc(s, &bin);
	json_t *v = json_loadb((const char *)bin, len, 0, NULL);

	free(bin);
	assert_non_null(v);
	return v;
}

/* r||s (RFC 7518 §3.4) -> DER, as a verifier must do. */
static size_t raw_to_der(const unsigned char *raw, size_t len, unsigned char **der)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	int n;

	assert_non_null(sig);
	assert_int_equal(ECDSA_SIG_set0(sig, BN_bin2bn(raw, (int)len / 2, NULL),
					BN_bin2bn(raw + len / 2, (int)len / 2, NULL)),
			 1);
	*der = NULL;
	n = i2d_ECDSA_SIG(sig, der);
	assert_true(n > 0);
	ECDSA_SIG_free(sig);
	return (size_t)n;
}

/* Verifies a compact JWS (protected, payload, signature) with key and the
 * digest of alg; r||s length checked for ECDSA. */
static void verify_parts(const char *prot, const char *payload, const char *sig64, EVP_PKEY *key,
			 const char *alg)
{
	const char *md = strcmp(alg, "ES384") == 0 ? "SHA384"
			 : strcmp(alg, "EdDSA") == 0 ? NULL
						       : "SHA256";
	size_t ecsize = strcmp(alg, "ES256") == 0 ? 32 : strcmp(alg, "ES384") == 0 ? 48 : 0;
	unsigned char *sig = NULL, *der = NULL;
	size_t siglen = b64_decode_alloc(sig64, &sig);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char *input = NULL;

	assert_true(asprintf(&input, "%s.%s", prot, payload) > 0);
	if (ecsize != 0) {
		assert_int_equal(siglen, 2 * ecsize);
		siglen = raw_to_der(sig, siglen, &der);
	}
	assert_int_equal(EVP_DigestVerifyInit_ex(ctx, NULL, md, NULL, NULL, key, NULL), 1);
	assert_int_equal(EVP_DigestVerify(ctx, der != NULL ? der : sig, siglen,
					  (const unsigned char *)input, strlen(input)),
			 1);
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	free(sig);
	free(input);
}

/* The header holds exactly alg, jwk|kid, nonce (when given), url. */
static void check_header(const json_t *h, const char *alg, const json_t *jwk, const char *kid,
			 const char *want_nonce)
{
	assert_int_equal(json_object_size(h), 3 + (want_nonce != NULL));
	assert_string_equal(json_string_value(json_object_get(h, "alg")), alg);
	assert_string_equal(json_string_value(json_object_get(h, "url")), url);
	if (want_nonce != NULL)
		assert_string_equal(json_string_value(json_object_get(h, "nonce")), want_nonce);
	else
		assert_null(json_object_get(h, "nonce"));
	if (kid != NULL) {
		assert_string_equal(json_string_value(json_object_get(h, "kid")), kid);
		assert_null(json_object_get(h, "jwk"));
	} else {
		assert_true(json_equal(json_object_get(h, "jwk"), (json_t *)jwk));
		assert_null(json_object_get(h, "kid"));
	}
}

static void sign_and_verify(EVP_PKEY *key, const char *want_alg, const char *kid,
			    const char *with_nonce, const json_t *payload)
{
	struct aclm_err err = { 0 };
	json_t *jwk = NULL, *jws, *header, *body;
	EVP_PKEY *verifier = NULL;
	struct acme_signer s = { .sign = sign_cb, .arg = key, .kid = kid };
	char *text = NULL;
	const char *prot, *pay, *sig;

	assert_int_equal(acme_jwk_from_pkey(key, &jwk, &err), ACLM_OK);
	s.alg = acme_jws_alg(key);
	s.jwk = jwk;
	assert_string_equal(s.alg, want_alg);
	assert_int_equal(acme_jws_sign(&s, url, with_nonce, payload, &text, &err), ACLM_OK);
	assert_null(strchr(text, ' '));
	assert_null(strchr(text, '\n'));
	jws = json_loads(text, 0, NULL);
	assert_non_null(jws);
	assert_int_equal(json_object_size(jws), 3);
	prot = json_string_value(json_object_get(jws, "protected"));
	pay = json_string_value(json_object_get(jws, "payload"));
	sig = json_string_value(json_object_get(jws, "signature"));
	assert_non_null(prot);
	assert_non_null(pay);
	assert_non_null(sig);
	header = b64_json(prot);
	check_header(header, want_alg, jwk, kid, with_nonce);
	if (payload == NULL) {
		assert_string_equal(pay, ""); /* RFC 8555 §6.3 POST-as-GET */
	} else {
		body = b64_json(pay);
		assert_true(json_equal(body, (json_t *)payload));
		json_decref(body);
	}
	/* The server's view: the key comes from the JWK in the header. */
	assert_int_equal(acme_jwk_to_pkey(kid != NULL ? jwk : json_object_get(header, "jwk"),
					  &verifier, &err),
			 ACLM_OK);
	verify_parts(prot, pay, sig, verifier, want_alg);
	EVP_PKEY_free(verifier);
	json_decref(header);
	json_decref(jws);
	json_decref(jwk);
	free(text);
}

static void sign_all_ways(EVP_PKEY *key, const char *alg)
{
	json_t *payload = json_pack("{s:[s],s:b}", "contact", "mailto:a@example.org",
				    "termsOfServiceAgreed", 1);

	sign_and_verify(key, alg, NULL, nonce, payload);
	sign_and_verify(key, alg, "https://acme.example/acct/1", nonce, payload);
	sign_and_verify(key, alg, "https://acme.example/acct/1", nonce, NULL);
	sign_and_verify(key, alg, NULL, NULL, payload);
	json_decref(payload);
}

static void test_jws_es256_verifies(void **state)
{
	struct aclm_err err = { 0 };
	EVP_PKEY *key = NULL;

	(void)state;
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_P256, &key, &err), ACLM_OK);
	/* ECDSA r or s is short 1 time in 128: sign a few times */
	for (int i = 0; i < 20; i++)
		sign_all_ways(key, "ES256");
	EVP_PKEY_free(key);
}

static void test_jws_es384_verifies(void **state)
{
	struct aclm_err err = { 0 };
	EVP_PKEY *key = NULL;

	(void)state;
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_P384, &key, &err), ACLM_OK);
	for (int i = 0; i < 20; i++)
		sign_all_ways(key, "ES384");
	EVP_PKEY_free(key);
}

static void test_jws_rs256_verifies(void **state)
{
	struct aclm_err err = { 0 };
	EVP_PKEY *key = NULL;

	(void)state;
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_RSA2048, &key, &err), ACLM_OK);
	sign_all_ways(key, "RS256");
	EVP_PKEY_free(key);
}

static void test_jws_eddsa_verifies(void **state)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	(void)state;
	assert_non_null(key);
	sign_all_ways(key, "EdDSA");
	EVP_PKEY_free(key);
}

/* The verifier above accepts RFC 7515 A.3 (ES256) and RFC 8037 A.4 (EdDSA);
 * Ed25519 being deterministic, crypto_sign reproduces A.4's signature. */
static void test_jws_verifier_accepts_rfc_examples(void **state)
{
	struct aclm_err err = { 0 };
	json_t *es = json_pack("{s:s,s:s,s:s,s:s}", "kty", "EC", "crv", "P-256", "x",
			       "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y",
			       "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0");
	json_t *ed = json_pack("{s:s,s:s,s:s}", "kty", "OKP", "crv", "Ed25519", "x",
			       "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
	static const char ed_prot[] = "eyJhbGciOiJFZERTQSJ9";
	static const char ed_payload[] = "RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
	static const char ed_sig[] = "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylG"
				     "jg5BhVsPt9g7sVvpAr_MuM0KAg";
	static const unsigned char ed_d[32] = {
		0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a,
		0xf4, 0x92, 0xec, 0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32,
		0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60,
	};
	EVP_PKEY *k1 = NULL, *k2 = NULL, *priv;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	char *sig64, input[128];

	(void)state;
	assert_int_equal(acme_jwk_to_pkey(es, &k1, &err), ACLM_OK);
	verify_parts("eyJhbGciOiJFUzI1NiJ9",
		     "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9"
		     "pc19yb290Ijp0cnVlfQ",
		     "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP"
		     "3-Kg6NU1Q",
		     k1, "ES256");
	assert_int_equal(acme_jwk_to_pkey(ed, &k2, &err), ACLM_OK);
	verify_parts(ed_prot, ed_payload, ed_sig, k2, "EdDSA");
	priv = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, ed_d, sizeof(ed_d));
	assert_non_null(priv);
	assert_true(crypto_key_public_equal(priv, k2));
	snprintf(input, sizeof(input), "%s.%s", ed_prot, ed_payload);
	assert_int_equal(sign_cb(priv, (const unsigned char *)input, strlen(input), &sig, &siglen,
				 &err),
			 ACLM_OK);
	sig64 = acme_b64url_encode(sig, siglen);
	assert_string_equal(sig64, ed_sig);
	free(sig64);
	OPENSSL_free(sig);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	json_decref(es);
	json_decref(ed);
}

static aclm_status bad_der_cb(void *arg, const unsigned char *msg, size_t len,
			      unsigned char **sig, size_t *siglen, struct aclm_err *err)
{
	*sig = OPENSSL_malloc(4);
	memcpy(*sig, "\x30\x02\x02\x00", 4);
	*siglen = 4;
	return ACLM_OK;
}

static aclm_status failing_cb(void *arg, const unsigned char *msg, size_t len,
			      unsigned char **sig, size_t *siglen, struct aclm_err *err)
{
	return aclm_err_set(err, ACLM_ERR_NOTFOUND, "keystore: no key k123");
}

static void test_jws_refuses_bad_signers(void **state)
{
	struct aclm_err err = { 0 };
	json_t *jwk = json_pack("{s:s}", "kty", "EC");
	struct acme_signer s = { .alg = "ES256", .jwk = jwk, .sign = bad_der_cb };
	char *out = (char *)"x";
	json_t *obj = NULL;

	(void)state;
	assert_int_equal(acme_jws_sign(&s, url, nonce, NULL, &out, &err), ACLM_ERR_CRYPTO);
	assert_null(out);
	assert_int_equal(ERR_peek_error(), 0);
	s.sign = failing_cb;
	assert_int_equal(acme_jws_sign_obj(&s, url, nonce, NULL, &obj, &err), ACLM_ERR_NOTFOUND);
	assert_string_equal(err.msg, "keystore: no key k123");
	assert_null(obj);
	s.alg = "HS256";
	assert_int_equal(acme_jws_sign(&s, url, nonce, NULL, &out, &err), ACLM_ERR_UNSUPPORTED);
	s.alg = "ES256";
	s.jwk = NULL;
	assert_int_equal(acme_jws_sign(&s, url, nonce, NULL, &out, &err), ACLM_ERR_INVALID);
	s.jwk = jwk;
	assert_int_equal(acme_jws_sign(&s, NULL, nonce, NULL, &out, &err), ACLM_ERR_INVALID);
	json_decref(jwk);
}

/* RFC 8555 §7.3.4: HS256 over protected "." payload with the EAB key. */
static void test_eab_hmac_recomputes(void **state)
{
	static const unsigned char key[] = "0123456789abcdef0123456789abcdef";
	static const char acct_url[] = "https://acme.example/acme/new-account";
	struct aclm_err err = { 0 };
	json_t *jwk = json_pack("{s:s,s:s,s:s}", "kty", "OKP", "crv", "Ed25519", "x",
				"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
	json_t *eab = NULL, *header, *body;
	unsigned char mac[32], *sig = NULL;
	unsigned int maclen = 0;
	char *input = NULL;
	const char *prot, *pay;

	(void)state;
	assert_int_equal(acme_eab_jws("kid-1", key, 32, jwk, acct_url, &eab, &err), ACLM_OK);
	assert_int_equal(json_object_size(eab), 3);
	prot = json_string_value(json_object_get(eab, "protected"));
	pay = json_string_value(json_object_get(eab, "payload"));
	header = b64_json(prot);
	assert_int_equal(json_object_size(header), 3);
	assert_string_equal(json_string_value(json_object_get(header, "alg")), "HS256");
	assert_string_equal(json_string_value(json_object_get(header, "kid")), "kid-1");
	assert_string_equal(json_string_value(json_object_get(header, "url")), acct_url);
	body = b64_json(pay);
	assert_true(json_equal(body, jwk));
	assert_true(asprintf(&input, "%s.%s", prot, pay) > 0);
	HMAC(EVP_sha256(), key, 32, (const unsigned char *)input, strlen(input), mac, &maclen);
	assert_int_equal(b64_decode_alloc(json_string_value(json_object_get(eab, "signature")),
					  &sig),
			 32);
	assert_memory_equal(sig, mac, 32);
	json_decref(eab);
	assert_int_equal(acme_eab_jws("", key, 32, jwk, acct_url, &eab, &err), ACLM_ERR_INVALID);
	assert_null(eab);
	assert_int_equal(acme_eab_jws("kid-1", key, 0, jwk, acct_url, &eab, &err),
			 ACLM_ERR_INVALID);
	free(sig);
	free(input);
	json_decref(body);
	json_decref(header);
	json_decref(jwk);
}

/* Expected values computed with `printf %s KA | openssl dgst -sha256 -binary`
 * (and basenc --base64url for the TXT value). */
static void test_key_authorization_and_digests(void **state)
{
	static const unsigned char want_digest[32] = {
		0x65, 0x34, 0x71, 0xd4, 0x29, 0x25, 0xd7, 0xeb, 0x4c, 0xd3, 0x9a,
		0x39, 0xcd, 0xa8, 0xb3, 0x4d, 0x30, 0x34, 0xc9, 0x4c, 0xb9, 0x00,
		0x67, 0xab, 0x78, 0xc8, 0x12, 0x35, 0x60, 0xba, 0x2e, 0x5f,
	};
	struct aclm_err err = { 0 };
	char *ka = acme_key_authorization("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA",
					  "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
	unsigned char digest[32];
	char txt[44];

	(void)state;
	assert_string_equal(ka, "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA."
				"NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
	assert_int_equal(acme_tlsalpn01_digest(ka, digest, &err), ACLM_OK);
	assert_memory_equal(digest, want_digest, 32);
	assert_int_equal(acme_dns01_txt(ka, txt, &err), ACLM_OK);
	assert_string_equal(txt, "ZTRx1Ckl1-tM05o5zaizTTA0yUy5AGereMgSNWC6Ll8");
	assert_null(acme_key_authorization(NULL, "x"));
	assert_int_equal(acme_dns01_txt(NULL, txt, &err), ACLM_ERR_INVALID);
	free(ka);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jws_es256_verifies),
		cmocka_unit_test(test_jws_es384_verifies),
		cmocka_unit_test(test_jws_rs256_verifies),
		cmocka_unit_test(test_jws_eddsa_verifies),
		cmocka_unit_test(test_jws_verifier_accepts_rfc_examples),
		cmocka_unit_test(test_jws_refuses_bad_signers),
		cmocka_unit_test(test_eab_hmac_recomputes),
		cmocka_unit_test(test_key_authorization_and_digests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
