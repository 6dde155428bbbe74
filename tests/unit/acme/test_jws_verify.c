/* acme/jws_verify: requests signed by acme_jws_sign with P-256, P-384,
 * RSA-2048 and Ed25519 keys parse and verify; RFC 7515 A.3 and RFC 8037 A.4
 * signatures verify; tampering, refused algorithms, header and payload
 * shapes, caps, weak or mismatched keys give the documented problems; EAB
 * objects from acme_eab_jws verify and every broken variant is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/hmac.h>

#include "acme/acme.h"
#include "crypto/key.h"

static const char url[] = "https://ca.example/acme/new-order";
static const char nonce[] = "6S8IqOGY7eL2lsGoTZYifg";
#define ACCT_URL "https://ca.example/acme/new-account"
static const char acct_url[] = ACCT_URL;
static const unsigned char mac_key[32] = "0123456789abcdef0123456789abcde";

static aclm_status sign_cb(void *arg, const unsigned char *msg, size_t len, unsigned char **sig,
			   size_t *siglen, struct aclm_err *err)
{
	return crypto_sign(arg, NULL, NULL, msg, len, sig, siglen, err);
}

static EVP_PKEY *key_of(const char *alg)
{
	struct aclm_err err = { 0 };
	EVP_PKEY *key = NULL;

	if (strcmp(alg, "ES256") == 0)
		assert_int_equal(crypto_key_generate(CRYPTO_KEY_P256, &key, &err), ACLM_OK);
	else if (strcmp(alg, "ES384") == 0)
		assert_int_equal(crypto_key_generate(CRYPTO_KEY_P384, &key, &err), ACLM_OK);
	else if (strcmp(alg, "RS256") == 0)
		assert_int_equal(crypto_key_generate(CRYPTO_KEY_RSA2048, &key, &err), ACLM_OK);
	else
		key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(key);
	return key;
}

/* A request body signed by the client's signer; alg NULL: the key's own. */
static char *sign_with(EVP_PKEY *key, const char *alg, const char *kid, const char *with_nonce,
		       const json_t *payload)
{
	struct aclm_err err = { 0 };
	json_t *jwk = NULL;
	struct acme_signer s = { .sign = sign_cb, .arg = key, .kid = kid };
	char *body = NULL;

	assert_int_equal(acme_jwk_from_pkey(key, &jwk, &err), ACLM_OK);
	s.alg = alg != NULL ? alg : acme_jws_alg(key);
	s.jwk = jwk;
	assert_int_equal(acme_jws_sign(&s, url, with_nonce, payload, &body, &err), ACLM_OK);
	json_decref(jwk);
	return body;
}

static aclm_status parse(const char *body, struct acme_jws_req *r, const char **problem,
			 struct aclm_err *err)
{
	return acme_jws_parse(body, strlen(body), r, problem, err);
}

static void parse_fails(const char *body, aclm_status want, const char *want_problem)
{
	struct aclm_err err = { 0 };
	struct acme_jws_req r;
	const char *problem = NULL;

	assert_int_equal(parse(body, &r, &problem, &err), want);
	assert_non_null(problem);
	assert_string_equal(problem, want_problem);
	assert_true(err.msg[0] != '\0');
	/* nothing is left allocated for the caller */
	assert_null(r.jwk);
	assert_null(r.payload);
	assert_null(r.url);
	assert_null(r.sig);
}

/* Parses body and verifies it with the key of its own "jwk". */
static aclm_status parse_verify(const char *body, const char **problem, struct aclm_err *err)
{
	struct acme_jws_req r;
	EVP_PKEY *key = NULL;
	aclm_status st = parse(body, &r, problem, err);

	assert_int_equal(st, ACLM_OK);
	assert_int_equal(acme_jwk_to_pkey(r.jwk, &key, err), ACLM_OK);
	st = acme_jws_verify(&r, key, problem, err);
	EVP_PKEY_free(key);
	acme_jws_req_free(&r);
	return st;
}

/* body with member `name` replaced by the string value. */
static char *with_member(const char *body, const char *name, const char *value)
{
	json_t *o = json_loads(body, 0, NULL);
	char *out;

	assert_non_null(o);
	assert_int_equal(json_object_set_new(o, name, json_string(value)), 0);
	out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return out;
}

static char *b64_text(const char *text)
{
	char *b64 = acme_b64url_encode((const unsigned char *)text, strlen(text));

	assert_non_null(b64);
	return b64;
}

/* A request with the given protected header text and payload text (NULL:
 * ""), and a placeholder signature: for checks that come before verifying. */
static char *craft(const char *header, const char *payload)
{
	char *prot = b64_text(header), *pay = payload != NULL ? b64_text(payload) : strdup("");
	char *body = NULL;

	assert_true(asprintf(&body, "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":"
				    "\"c2ln\"}", prot, pay) > 0);
	free(prot);
	free(pay);
	return body;
}

static void round_trip(const char *alg, int rounds)
{
	struct aclm_err err = { 0 };
	EVP_PKEY *key = key_of(alg);
	json_t *payload = json_pack("{s:[s],s:b}", "contact", "mailto:a@example.org",
				    "termsOfServiceAgreed", 1);
	json_t *jwk = NULL;
	const char *problem = "x";

	assert_int_equal(acme_jwk_from_pkey(key, &jwk, &err), ACLM_OK);
	/* ECDSA r or s is short 1 time in 128: the padding path is hit. */
	for (int i = 0; i < rounds; i++) {
		char *a = sign_with(key, NULL, NULL, nonce, payload);
		char *b = sign_with(key, NULL, "https://ca.example/acct/7", nonce, NULL);
		struct acme_jws_req r;

		assert_int_equal(parse(a, &r, &problem, &err), ACLM_OK);
		assert_null(problem);
		assert_string_equal(r.alg, alg);
		assert_string_equal(r.url, url);
		assert_string_equal(r.nonce, nonce);
		assert_null(r.kid);
		assert_true(json_equal(r.jwk, jwk));
		assert_true(json_equal(r.payload, payload));
		assert_int_equal(r.signing_input_len, strlen(r.signing_input));
		assert_int_equal(acme_jws_verify(&r, key, &problem, &err), ACLM_OK);
		assert_null(problem);
		acme_jws_req_free(&r);
		assert_int_equal(parse_verify(a, &problem, &err), ACLM_OK);

		/* kid + POST-as-GET: the account's stored key verifies */
		assert_int_equal(parse(b, &r, &problem, &err), ACLM_OK);
		assert_null(r.jwk);
		assert_string_equal(r.kid, "https://ca.example/acct/7");
		assert_null(r.payload);
		assert_int_equal(acme_jws_verify(&r, key, &problem, &err), ACLM_OK);
		acme_jws_req_free(&r);
		free(a);
		free(b);
	}
	json_decref(jwk);
	json_decref(payload);
	EVP_PKEY_free(key);
}

static void test_jws_round_trip_es256(void **state)
{
	(void)state;
	round_trip("ES256", 40);
}

static void test_jws_round_trip_es384(void **state)
{
	(void)state;
	round_trip("ES384", 40);
}

static void test_jws_round_trip_rs256(void **state)
{
	(void)state;
	round_trip("RS256", 2);
}

static void test_jws_round_trip_eddsa(void **state)
{
	(void)state;
	round_trip("EdDSA", 2);
}

/* Signatures made elsewhere (RFC 7515 A.3, RFC 8037 A.4) verify: the r||s
 * conversion is not merely the inverse of our own signer's. */
static void test_jws_verify_accepts_rfc_vectors(void **state)
{
	struct aclm_err err = { 0 };
	json_t *es = json_pack("{s:s,s:s,s:s,s:s}", "kty", "EC", "crv", "P-256", "x",
			       "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y",
			       "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0");
	json_t *ed = json_pack("{s:s,s:s,s:s}", "kty", "OKP", "crv", "Ed25519", "x",
			       "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
	static char es_input[] = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkz"
				 "ODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
	static const char es_sig[] = "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxL"
				     "a8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
	static char ed_input[] = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
	static const char ed_sig[] = "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iyl"
				     "Gjg5BhVsPt9g7sVvpAr_MuM0KAg";
	unsigned char sig[64];
	struct acme_jws_req r = { .alg = "ES256", .signing_input = es_input, .sig = sig };
	EVP_PKEY *k1 = NULL, *k2 = NULL;
	const char *problem = NULL;

	(void)state;
	assert_int_equal(acme_jwk_to_pkey(es, &k1, &err), ACLM_OK);
	assert_int_equal(acme_jwk_to_pkey(ed, &k2, &err), ACLM_OK);
	r.signing_input_len = strlen(es_input);
	r.sig_len = (size_t)acme_b64url_decode(es_sig, strlen(es_sig), sig, sizeof(sig));
	assert_int_equal(r.sig_len, 64);
	assert_int_equal(acme_jws_verify(&r, k1, &problem, &err), ACLM_OK);
	sig[10] ^= 1;
	assert_int_equal(acme_jws_verify(&r, k1, &problem, &err), ACLM_ERR_VERIFY);
	assert_string_equal(problem, "malformed");

	strcpy(r.alg, "EdDSA");
	r.signing_input = ed_input;
	r.signing_input_len = strlen(ed_input);
	r.sig_len = (size_t)acme_b64url_decode(ed_sig, strlen(ed_sig), sig, sizeof(sig));
	assert_int_equal(r.sig_len, 64);
	assert_int_equal(acme_jws_verify(&r, k2, &problem, &err), ACLM_OK);
	assert_null(problem);
	ed_input[5] ^= 1;
	assert_int_equal(acme_jws_verify(&r, k2, &problem, &err), ACLM_ERR_VERIFY);
	ed_input[5] ^= 1;
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	json_decref(es);
	json_decref(ed);
}

/* Any changed part (RFC 7515 §5.2): "malformed", ACLM_ERR_VERIFY. */
static void test_jws_tampered_is_malformed(void **state)
{
	static const char *const algs[] = { "ES256", "ES384", "RS256", "EdDSA" };
	struct aclm_err err = { 0 };

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		EVP_PKEY *key = key_of(algs[i]), *other = key_of(algs[i]);
		json_t *payload = json_pack("{s:s}", "status", "deactivated");
		char *body = sign_with(key, NULL, NULL, nonce, payload);
		char *other_body = sign_with(other, NULL, NULL, nonce, payload);
		char *nonce_body = sign_with(key, NULL, NULL, "another-nonce", payload);
		json_t *on = json_loads(nonce_body, 0, NULL);
		json_t *o = json_loads(body, 0, NULL), *oo = json_loads(other_body, 0, NULL);
		const char *prot = json_string_value(json_object_get(o, "protected"));
		const char *sig = json_string_value(json_object_get(o, "signature"));
		char *b64 = b64_text("{\"status\":\"valid\"}"), *t1, *t2, *t3, *t4, *t5, *flipped;
		const char *problem = NULL;

		assert_int_equal(parse_verify(body, &problem, &err), ACLM_OK);
		t1 = with_member(body, "payload", b64);
		assert_int_equal(parse_verify(t1, &problem, &err), ACLM_ERR_VERIFY);
		assert_string_equal(problem, "malformed");
		/* the same key's header with another nonce over this signature */
		t5 = with_member(body, "protected",
				 json_string_value(json_object_get(on, "protected")));
		assert_int_equal(parse_verify(t5, &problem, &err), ACLM_ERR_VERIFY);
		assert_string_equal(problem, "malformed");
		free(t5);
		/* the header of another key (with its jwk) over this signature */
		t2 = with_member(body, "protected",
				 json_string_value(json_object_get(oo, "protected")));
		assert_int_equal(parse_verify(t2, &problem, &err), ACLM_ERR_VERIFY);
		assert_string_equal(problem, "malformed");
		flipped = strdup(sig);
		flipped[strlen(flipped) / 2] = flipped[strlen(flipped) / 2] == 'A' ? 'B' : 'A';
		t3 = with_member(body, "signature", flipped);
		assert_int_equal(parse_verify(t3, &problem, &err), ACLM_ERR_VERIFY);
		assert_string_equal(problem, "malformed");
		/* POST-as-GET swapped in for the payload */
		t4 = with_member(body, "payload", "");
		assert_int_equal(parse_verify(t4, &problem, &err), ACLM_ERR_VERIFY);
		assert_non_null(prot);
		free(t1);
		free(t2);
		free(t3);
		free(t4);
		free(flipped);
		free(b64);
		json_decref(o);
		json_decref(oo);
		json_decref(on);
		free(nonce_body);
		free(body);
		free(other_body);
		json_decref(payload);
		EVP_PKEY_free(key);
		EVP_PKEY_free(other);
	}
}

/* RFC 8555 §6.2: "none", MAC algorithms and unknown ones. */
static void test_jws_refuses_unsupported_alg(void **state)
{
	static const char *const refused[] = { "none", "HS256", "HS384", "HS512", "RS512",
					       "PS256", "ES512", "es256", "Ed25519", "" };
	char header[256], *body;

	(void)state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		snprintf(header, sizeof(header),
			 "{\"alg\":\"%s\",\"kid\":\"https://ca.example/acct/1\","
			 "\"nonce\":\"n\",\"url\":\"%s\"}",
			 refused[i], url);
		body = craft(header, "{}");
		parse_fails(body, ACLM_ERR_UNSUPPORTED, "badSignatureAlgorithm");
		free(body);
	}
	body = craft("{\"kid\":\"k\",\"url\":\"u\"}", "{}");
	parse_fails(body, ACLM_ERR_PARSE, "malformed");
	free(body);
	body = craft("{\"alg\":256,\"kid\":\"k\",\"url\":\"u\"}", "{}");
	parse_fails(body, ACLM_ERR_PARSE, "malformed");
	free(body);
}

static void test_jws_header_shape(void **state)
{
	static const char *const bad[] = {
		/* both jwk and kid, neither */
		"{\"alg\":\"ES256\",\"jwk\":{\"kty\":\"EC\"},\"kid\":\"k\",\"url\":\"u\"}",
		"{\"alg\":\"ES256\",\"nonce\":\"n\",\"url\":\"u\"}",
		/* url missing, not a string, empty */
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"nonce\":\"n\"}",
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"url\":[\"u\"]}",
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"url\":\"\"}",
		/* kid not a string or empty; jwk not an object */
		"{\"alg\":\"ES256\",\"kid\":7,\"url\":\"u\"}",
		"{\"alg\":\"ES256\",\"kid\":\"\",\"url\":\"u\"}",
		"{\"alg\":\"ES256\",\"jwk\":\"eyJ9\",\"url\":\"u\"}",
		/* nonce present but not a string */
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"nonce\":1,\"url\":\"u\"}",
		/* RFC 7797 b64, RFC 7515 crit */
		"{\"alg\":\"ES256\",\"b64\":false,\"crit\":[\"b64\"],\"kid\":\"k\",\"url\":\"u\"}",
		"{\"alg\":\"ES256\",\"b64\":true,\"kid\":\"k\",\"url\":\"u\"}",
		"{\"alg\":\"ES256\",\"crit\":[\"exp\"],\"kid\":\"k\",\"url\":\"u\"}",
		/* duplicate members, not an object, not JSON, empty */
		"{\"alg\":\"ES256\",\"kid\":\"k\",\"url\":\"u\",\"url\":\"v\"}",
		"[\"ES256\"]",
		"{\"alg\":\"ES256\",",
		"",
	};
	struct aclm_err err = { 0 };
	struct acme_jws_req r;
	const char *problem = NULL;
	char *body;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		body = craft(bad[i], "{}");
		parse_fails(body, ACLM_ERR_PARSE, "malformed");
		free(body);
	}
	/* no nonce is the caller's business (keyChange's inner JWS) */
	body = craft("{\"alg\":\"ES256\",\"kid\":\"k\",\"typ\":\"x\",\"url\":\"u\"}", "{}");
	assert_int_equal(parse(body, &r, &problem, &err), ACLM_OK);
	assert_null(r.nonce);
	assert_string_equal(r.kid, "k");
	assert_string_equal(r.url, "u");
	assert_int_equal(json_object_size(r.payload), 0);
	assert_int_equal(r.sig_len, 3);
	assert_memory_equal(r.sig, "sig", 3);
	acme_jws_req_free(&r);
	free(body);
}

static void test_jws_payload_forms(void **state)
{
	static const char header[] = "{\"alg\":\"EdDSA\",\"kid\":\"k\",\"nonce\":\"n\","
				     "\"url\":\"u\"}";
	static const char *const bad[] = { "[]", "[{}]", "\"x\"", "7", "null", "{\"a\":1,\"a\":2}",
					   "{", "{} {}" };
	struct aclm_err err = { 0 };
	struct acme_jws_req r;
	const char *problem = NULL;
	char *body, *b2;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		body = craft(header, bad[i]);
		parse_fails(body, ACLM_ERR_PARSE, "malformed");
		free(body);
	}
	/* "" is POST-as-GET (RFC 8555 §6.3): no payload, signing input "prot." */
	body = craft(header, NULL);
	assert_int_equal(parse(body, &r, &problem, &err), ACLM_OK);
	assert_null(r.payload);
	assert_int_equal(r.signing_input[r.signing_input_len - 1], '.');
	acme_jws_req_free(&r);
	/* padding and the standard alphabet are not base64url */
	b2 = with_member(body, "payload", "e30=");
	parse_fails(b2, ACLM_ERR_PARSE, "malformed");
	free(b2);
	b2 = with_member(body, "payload", "e3+9");
	parse_fails(b2, ACLM_ERR_PARSE, "malformed");
	free(b2);
	b2 = with_member(body, "signature", "c2ln=");
	parse_fails(b2, ACLM_ERR_PARSE, "malformed");
	free(b2);
	b2 = with_member(body, "signature", "");
	parse_fails(b2, ACLM_ERR_PARSE, "malformed");
	free(b2);
	free(body);
}

/* H is base64url of {"alg":"EdDSA","kid":"k","url":"u"}: each body below
 * would parse but for the one thing shown. */
#define H "eyJhbGciOiJFZERTQSIsImtpZCI6ImsiLCJ1cmwiOiJ1In0"
#define P "{\"protected\":\"" H "\","
static void test_jws_body_shape_and_cap(void **state)
{
	static const char good[] = P "\"payload\":\"\",\"signature\":\"c2ln\"}";
	static const char *const bad[] = {
		P "\"payload\":\"\",\"signature\":\"c2ln\",\"header\":{}}",
		"{\"payload\":\"\",\"signatures\":[" P "\"signature\":\"c2ln\"}]}",
		P "\"payload\":\"\",\"signature\":\"c2ln\",\"signature\":\"c2ln\"}",
		P "\"protected\":\"" H "\",\"payload\":\"\",\"signature\":\"c2ln\"}",
		P "\"payload\":\"\"}",
		P "\"payload\":{},\"signature\":\"c2ln\"}",
		P "\"payload\":null,\"signature\":\"c2ln\"}",
		P "\"payload\":\"\",\"signature\":[\"c2ln\"]}",
		P "\"payload\":\"\",\"signature\":\"c2ln\"} x",
		"[\"" H "\",\"\",\"c2ln\"]",
		H "..c2ln",
		"",
	};
	struct aclm_err err = { 0 };
	struct acme_jws_req r;
	const char *problem = NULL;
	char *big, *body, *text;
	size_t n;

	(void)state;
	assert_int_equal(parse(good, &r, &problem, &err), ACLM_OK);
	acme_jws_req_free(&r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		parse_fails(bad[i], ACLM_ERR_PARSE, "malformed");
	assert_int_equal(acme_jws_parse(NULL, 0, &r, &problem, &err), ACLM_ERR_PARSE);
	assert_string_equal(problem, "malformed");
	/* a 40 KiB payload is fine */
	text = malloc(40 * 1024 + 16);
	assert_non_null(text);
	memcpy(text, "{\"a\":\"", 6);
	memset(text + 6, 'x', 40 * 1024);
	strcpy(text + 6 + 40 * 1024, "\"}");
	body = craft("{\"alg\":\"EdDSA\",\"kid\":\"k\",\"url\":\"u\"}", text);
	n = strlen(body);
	assert_true(n > 50 * 1024 && n < ACME_JWS_BODY_MAX);
	assert_int_equal(parse(body, &r, &problem, &err), ACLM_OK);
	assert_int_equal(strlen(json_string_value(json_object_get(r.payload, "a"))), 40 * 1024);
	acme_jws_req_free(&r);
	/* padded with JSON whitespace to exactly the cap: parses; one more byte: not */
	big = malloc(ACME_JWS_BODY_MAX + 1);
	assert_non_null(big);
	memcpy(big, body, n);
	memset(big + n, ' ', ACME_JWS_BODY_MAX + 1 - n);
	assert_int_equal(acme_jws_parse(big, ACME_JWS_BODY_MAX, &r, &problem, &err), ACLM_OK);
	acme_jws_req_free(&r);
	assert_int_equal(acme_jws_parse(big, ACME_JWS_BODY_MAX + 1, &r, &problem, &err),
			 ACLM_ERR_TOOBIG);
	assert_string_equal(problem, "malformed");
	assert_null(r.payload);
	free(text);
	free(body);
	free(big);
}

/* A protected header above 8 KiB or a signature above 1 KiB: refused
 * before anything is allocated for them. */
static void test_jws_part_caps(void **state)
{
	char *kid = malloc(9000), *header = malloc(9100), *body, *b2, *sig;

	(void)state;
	memset(kid, 'k', 8999);
	kid[8999] = '\0';
	snprintf(header, 9100, "{\"alg\":\"EdDSA\",\"kid\":\"%s\",\"url\":\"u\"}", kid);
	body = craft(header, "{}");
	parse_fails(body, ACLM_ERR_TOOBIG, "malformed");
	free(body);
	body = craft("{\"alg\":\"EdDSA\",\"kid\":\"k\",\"url\":\"u\"}", "{}");
	sig = malloc(1500);
	memset(sig, 'A', 1400);
	sig[1400] = '\0';
	b2 = with_member(body, "signature", sig);
	parse_fails(b2, ACLM_ERR_TOOBIG, "malformed");
	free(b2);
	free(sig);
	free(body);
	free(header);
	free(kid);
}

/* RFC 7518 §3.1: the key decides the alg; RSA below 2048 bits, and key
 * types without a JWS alg (SM2), are badPublicKey. */
static void test_jws_verify_refuses_weak_or_mismatched_keys(void **state)
{
	struct aclm_err err = { 0 };
	EVP_PKEY *rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	EVP_PKEY *p256 = key_of("ES256"), *p384 = key_of("ES384"), *ed = key_of("EdDSA");
	EVP_PKEY *rsa = key_of("RS256"), *sm2 = NULL, *from_jwk = NULL;
	struct acme_jws_req r;
	const char *problem = NULL;
	char *body;

	(void)state;
	assert_non_null(rsa1024);
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_SM2, &sm2, &err), ACLM_OK);
	/* RSA-1024: the JWK is refused, and so is the key handed in directly */
	body = sign_with(rsa1024, NULL, NULL, nonce, NULL);
	assert_int_equal(parse(body, &r, &problem, &err), ACLM_OK);
	assert_int_equal(acme_jwk_to_pkey(r.jwk, &from_jwk, &err), ACLM_ERR_UNSUPPORTED);
	assert_int_equal(acme_jws_verify(&r, rsa1024, &problem, &err), ACLM_ERR_UNSUPPORTED);
	assert_string_equal(problem, "badPublicKey");
	acme_jws_req_free(&r);
	free(body);

	/* an ES256 request checked against other keys */
	body = sign_with(p256, NULL, "k", nonce, NULL);
	assert_int_equal(parse(body, &r, &problem, &err), ACLM_OK);
	assert_int_equal(acme_jws_verify(&r, p384, &problem, &err), ACLM_ERR_UNSUPPORTED);
	assert_string_equal(problem, "badSignatureAlgorithm");
	assert_int_equal(acme_jws_verify(&r, rsa, &problem, &err), ACLM_ERR_UNSUPPORTED);
	assert_string_equal(problem, "badSignatureAlgorithm");
	assert_int_equal(acme_jws_verify(&r, ed, &problem, &err), ACLM_ERR_UNSUPPORTED);
	assert_string_equal(problem, "badSignatureAlgorithm");
	assert_int_equal(acme_jws_verify(&r, sm2, &problem, &err), ACLM_ERR_UNSUPPORTED);
	assert_string_equal(problem, "badPublicKey");
	assert_int_equal(acme_jws_verify(&r, NULL, &problem, &err), ACLM_ERR_INVALID);
	assert_int_equal(acme_jws_verify(&r, p256, &problem, &err), ACLM_OK);
	acme_jws_req_free(&r);
	free(body);

	/* a P-256 key that claims ES384 (the signer pads r||s to 48 bytes) */
	body = sign_with(p256, "ES384", "k", nonce, NULL);
	assert_int_equal(parse(body, &r, &problem, &err), ACLM_OK);
	assert_string_equal(r.alg, "ES384");
	assert_int_equal(r.sig_len, 96);
	assert_int_equal(acme_jws_verify(&r, p256, &problem, &err), ACLM_ERR_UNSUPPORTED);
	assert_string_equal(problem, "badSignatureAlgorithm");
	acme_jws_req_free(&r);
	free(body);
	/* an Ed25519 key that claims RS256 */
	body = sign_with(ed, "RS256", "k", nonce, NULL);
	assert_int_equal(parse(body, &r, &problem, &err), ACLM_OK);
	assert_int_equal(acme_jws_verify(&r, ed, &problem, &err), ACLM_ERR_UNSUPPORTED);
	assert_string_equal(problem, "badSignatureAlgorithm");
	acme_jws_req_free(&r);
	free(body);
	EVP_PKEY_free(rsa1024);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(sm2);
	ERR_clear_error();
}

/* RFC 7518 §3.4: exactly 64 bytes for ES256; a DER signature (what
 * OpenSSL would take) or a padded/short r||s is refused. */
/* One verifier, many requests (the server keeps one per account key): each
 * good signature verifies, a tampered one in between is malformed and does
 * not spoil the next, a request of another alg is badSignatureAlgorithm. */
static void verifier_reuse(const char *alg, const char *other_alg)
{
	struct aclm_err err = { 0 };
	EVP_PKEY *key = key_of(alg);
	struct acme_jws_verifier v;
	const char *problem = NULL;

	assert_int_equal(acme_jws_verifier_init(&v, key, &err), ACLM_OK);
	EVP_PKEY_free(key); /* the verifier keeps its own reference */
	for (int i = 0; i < 6; i++) {
		char *body = sign_with(v.key, NULL, "k", nonce, NULL);
		struct acme_jws_req r;

		assert_int_equal(parse(body, &r, &problem, &err), ACLM_OK);
		if (i == 3)
			r.signing_input[r.signing_input_len - 1] ^= 1;
		assert_int_equal(acme_jws_verify_with(&r, &v, &problem, &err),
				 i == 3 ? ACLM_ERR_VERIFY : ACLM_OK);
		if (i == 3)
			assert_string_equal(problem, "malformed");
		else
			assert_null(problem);
		if (i == 5) {
			snprintf(r.alg, sizeof(r.alg), "%s", other_alg);
			assert_int_equal(acme_jws_verify_with(&r, &v, &problem, &err),
					 ACLM_ERR_UNSUPPORTED);
			assert_string_equal(problem, "badSignatureAlgorithm");
		}
		acme_jws_req_free(&r);
		free(body);
	}
	acme_jws_verifier_clear(&v);
	assert_null(v.key);
}

static void test_jws_verifier_reused_across_requests(void **state)
{
	struct aclm_err err = { 0 };
	EVP_PKEY *rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	struct acme_jws_verifier v;
	const char *problem = NULL;
	char *body;
	struct acme_jws_req r;

	(void)state;
	verifier_reuse("ES256", "ES384");
	verifier_reuse("ES384", "ES256");
	verifier_reuse("RS256", "ES256");
	verifier_reuse("EdDSA", "RS256");
	/* A refused key still makes a verifier, which refuses every request. */
	assert_non_null(rsa1024);
	assert_int_equal(acme_jws_verifier_init(&v, rsa1024, &err), ACLM_OK);
	body = sign_with(rsa1024, NULL, "k", nonce, NULL);
	assert_int_equal(parse(body, &r, &problem, &err), ACLM_OK);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(acme_jws_verify_with(&r, &v, &problem, &err), ACLM_ERR_UNSUPPORTED);
		assert_string_equal(problem, "badPublicKey");
	}
	acme_jws_req_free(&r);
	free(body);
	acme_jws_verifier_clear(&v);
	EVP_PKEY_free(rsa1024);
}

static void test_jws_es256_signature_length(void **state)
{
	struct aclm_err err = { 0 };
	EVP_PKEY *key = key_of("ES256");
	char *body = sign_with(key, NULL, "k", nonce, NULL);
	json_t *o = json_loads(body, 0, NULL);
	const char *sig64 = json_string_value(json_object_get(o, "signature"));
	unsigned char raw[66], *der = NULL;
	size_t derlen = 0;
	char *b64, *t;
	struct acme_jws_req r;
	const char *problem = NULL;
	const char *prot = json_string_value(json_object_get(o, "protected"));
	char *input = NULL;

	(void)state;
	assert_int_equal(acme_b64url_decode(sig64, strlen(sig64), raw + 1, 65), 64);
	/* 65 bytes: a leading zero */
	raw[0] = 0;
	b64 = acme_b64url_encode(raw, 65);
	t = with_member(body, "signature", b64);
	assert_int_equal(parse(t, &r, &problem, &err), ACLM_OK);
	assert_int_equal(acme_jws_verify(&r, key, &problem, &err), ACLM_ERR_VERIFY);
	assert_string_equal(problem, "malformed");
	acme_jws_req_free(&r);
	free(t);
	free(b64);
	/* 63 bytes */
	b64 = acme_b64url_encode(raw + 2, 63);
	t = with_member(body, "signature", b64);
	assert_int_equal(parse(t, &r, &problem, &err), ACLM_OK);
	assert_int_equal(acme_jws_verify(&r, key, &problem, &err), ACLM_ERR_VERIFY);
	assert_string_equal(problem, "malformed");
	acme_jws_req_free(&r);
	free(t);
	free(b64);
	/* a valid DER ECDSA-Sig-Value over the same input */
	assert_true(asprintf(&input, "%s.", prot) > 0);
	assert_int_equal(crypto_sign(key, NULL, NULL, (const unsigned char *)input, strlen(input),
				     &der, &derlen, &err),
			 ACLM_OK);
	assert_int_equal(crypto_verify(key, NULL, NULL, (const unsigned char *)input,
				       strlen(input), der, derlen, &err),
			 ACLM_OK);
	b64 = acme_b64url_encode(der, derlen);
	t = with_member(body, "signature", b64);
	assert_int_equal(parse(t, &r, &problem, &err), ACLM_OK);
	assert_int_equal(acme_jws_verify(&r, key, &problem, &err), ACLM_ERR_VERIFY);
	assert_string_equal(problem, "malformed");
	acme_jws_req_free(&r);
	free(t);
	free(b64);
	OPENSSL_free(der);
	free(input);
	json_decref(o);
	free(body);
	EVP_PKEY_free(key);
	ERR_clear_error();
}

/* ---- EAB ---- */

static json_t *account_jwk(void)
{
	return json_pack("{s:s,s:s,s:s}", "crv", "Ed25519", "kty", "OKP", "x",
			 "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
}

/* An EAB object with the given header and payload texts, MACed with key. */
static json_t *eab_craft(const char *header, const char *payload, const unsigned char *key)
{
	char *prot = b64_text(header), *pay = b64_text(payload), *input = NULL, *sig;
	unsigned char mac[32];
	unsigned int maclen = 0;
	json_t *o;

	assert_true(asprintf(&input, "%s.%s", prot, pay) > 0);
	assert_non_null(HMAC(EVP_sha256(), key, 32, (const unsigned char *)input, strlen(input),
			     mac, &maclen));
	sig = acme_b64url_encode(mac, maclen);
	o = json_pack("{s:s,s:s,s:s}", "protected", prot, "payload", pay, "signature", sig);
	free(sig);
	free(input);
	free(prot);
	free(pay);
	return o;
}

static void eab_fails(const json_t *eab, const json_t *jwk, const char *new_acct,
		      aclm_status want, const char *want_problem)
{
	struct aclm_err err = { 0 };
	const char *problem = NULL;

	assert_int_equal(acme_eab_verify(eab, mac_key, sizeof(mac_key), jwk, new_acct, &problem,
					 &err),
			 want);
	assert_non_null(problem);
	assert_string_equal(problem, want_problem);
}

static void test_eab_round_trip_with_signer(void **state)
{
	struct aclm_err err = { 0 };
	json_t *jwk = account_jwk(), *eab = NULL, *reordered;
	char kid[64];
	const char *problem = "x";

	(void)state;
	assert_int_equal(acme_eab_jws("kid-42", mac_key, sizeof(mac_key), jwk, acct_url, &eab,
				      &err),
			 ACLM_OK);
	assert_int_equal(acme_eab_kid(eab, kid, sizeof(kid), &problem, &err), ACLM_OK);
	assert_null(problem);
	assert_string_equal(kid, "kid-42");
	assert_int_equal(acme_eab_verify(eab, mac_key, sizeof(mac_key), jwk, acct_url, &problem,
					 &err),
			 ACLM_OK);
	assert_null(problem);
	/* the outer JWK compared by thumbprint: member order and extras do not count */
	reordered = json_pack("{s:s,s:s,s:s,s:s}", "x",
			      "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kty", "OKP", "use",
			      "sig", "crv", "Ed25519");
	assert_int_equal(acme_eab_verify(eab, mac_key, sizeof(mac_key), reordered, acct_url,
					 &problem, &err),
			 ACLM_OK);
	/* kid_out too small for "kid-42" */
	assert_int_equal(acme_eab_kid(eab, kid, 6, &problem, &err), ACLM_ERR_TOOBIG);
	assert_string_equal(problem, "malformed");
	assert_string_equal(kid, "");
	json_decref(reordered);
	json_decref(eab);
	json_decref(jwk);
}

static void test_eab_refuses_wrong_mac_url_or_key(void **state)
{
	struct aclm_err err = { 0 };
	static const unsigned char other_key[32] = "another key, 32 bytes long.....";
	json_t *jwk = account_jwk(), *eab = NULL, *bad = NULL, *other_jwk = NULL;
	EVP_PKEY *p256 = key_of("ES256");
	char *sig;

	(void)state;
	assert_int_equal(acme_jwk_from_pkey(p256, &other_jwk, &err), ACLM_OK);
	/* MAC made with another key */
	assert_int_equal(acme_eab_jws("kid-42", other_key, 32, jwk, acct_url, &bad, &err),
			 ACLM_OK);
	eab_fails(bad, jwk, acct_url, ACLM_ERR_VERIFY, "unauthorized");
	json_decref(bad);
	/* a MAC one bit off, and one byte short */
	assert_int_equal(acme_eab_jws("kid-42", mac_key, 32, jwk, acct_url, &eab, &err), ACLM_OK);
	sig = strdup(json_string_value(json_object_get(eab, "signature")));
	bad = json_deep_copy(eab);
	sig[0] = sig[0] == 'A' ? 'B' : 'A';
	json_object_set_new(bad, "signature", json_string(sig));
	eab_fails(bad, jwk, acct_url, ACLM_ERR_VERIFY, "unauthorized");
	/* 30 bytes of MAC (40 characters): unauthorized; not base64url: malformed */
	json_object_set_new(bad, "signature",
			    json_string(json_string_value(json_object_get(eab, "signature")) + 3));
	eab_fails(bad, jwk, acct_url, ACLM_ERR_VERIFY, "unauthorized");
	json_object_set_new(bad, "signature",
			    json_string(json_string_value(json_object_get(eab, "signature")) + 2));
	eab_fails(bad, jwk, acct_url, ACLM_ERR_PARSE, "malformed");
	json_decref(bad);
	free(sig);
	/* made for another URL, or checked against another account key */
	eab_fails(eab, jwk, "https://ca.example/acme/new-order", ACLM_ERR_VERIFY, "unauthorized");
	eab_fails(eab, other_jwk, acct_url, ACLM_ERR_VERIFY, "unauthorized");
	json_decref(eab);
	/* a binding over another key, presented with this account */
	assert_int_equal(acme_eab_jws("kid-42", mac_key, 32, other_jwk, acct_url, &eab, &err),
			 ACLM_OK);
	eab_fails(eab, jwk, acct_url, ACLM_ERR_VERIFY, "unauthorized");
	json_decref(eab);
	json_decref(other_jwk);
	json_decref(jwk);
	EVP_PKEY_free(p256);
}

#define U "\"url\":\"" ACCT_URL "\""
static void test_eab_refuses_bad_header_or_shape(void **state)
{
	static const char payload[] = "{\"crv\":\"Ed25519\",\"kty\":\"OKP\","
				      "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}";
	static const struct {
		const char *header;
		aclm_status st;
		const char *problem;
	} cases[] = {
		{ "{\"alg\":\"HS256\",\"kid\":\"k\",\"nonce\":\"n\"," U "}", ACLM_ERR_PARSE,
		  "malformed" },
		{ "{\"alg\":\"HS512\",\"kid\":\"k\"," U "}", ACLM_ERR_UNSUPPORTED,
		  "badSignatureAlgorithm" },
		{ "{\"alg\":\"ES256\",\"kid\":\"k\"," U "}", ACLM_ERR_UNSUPPORTED,
		  "badSignatureAlgorithm" },
		{ "{\"alg\":\"none\",\"kid\":\"k\"," U "}", ACLM_ERR_UNSUPPORTED,
		  "badSignatureAlgorithm" },
		{ "{\"kid\":\"k\"," U "}", ACLM_ERR_PARSE, "malformed" },
		{ "{\"alg\":\"HS256\"," U "}", ACLM_ERR_PARSE, "malformed" },
		{ "{\"alg\":\"HS256\",\"kid\":\"\"," U "}", ACLM_ERR_PARSE, "malformed" },
		{ "{\"alg\":\"HS256\",\"kid\":\"k\",\"url\":7}", ACLM_ERR_PARSE, "malformed" },
		{ "{\"alg\":\"HS256\",\"kid\":\"k\",\"jwk\":{}," U "}", ACLM_ERR_PARSE,
		  "malformed" },
		{ "{\"alg\":\"HS256\",\"crit\":[\"b64\"],\"kid\":\"k\"," U "}", ACLM_ERR_PARSE,
		  "malformed" },
		{ "{\"alg\":\"HS256\",\"kid\":\"k\",\"kid\":\"j\"," U "}", ACLM_ERR_PARSE,
		  "malformed" },
	};
	struct aclm_err err = { 0 };
	json_t *jwk = account_jwk(), *eab;
	char header[256], kid[16];
	const char *problem;

	(void)state;
	/* the crafting itself is right: the plain header verifies */
	snprintf(header, sizeof(header), "{\"alg\":\"HS256\",\"kid\":\"k\",\"url\":\"%s\"}",
		 acct_url);
	eab = eab_craft(header, payload, mac_key);
	assert_int_equal(acme_eab_verify(eab, mac_key, 32, jwk, acct_url, &problem, &err),
			 ACLM_OK);
	json_decref(eab);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		eab = eab_craft(cases[i].header, payload, mac_key);
		eab_fails(eab, jwk, acct_url, cases[i].st, cases[i].problem);
		problem = NULL;
		assert_int_equal(acme_eab_kid(eab, kid, sizeof(kid), &problem, &err), cases[i].st);
		assert_string_equal(problem, cases[i].problem);
		json_decref(eab);
	}
	/* a payload that is not a JWK, under a good MAC */
	snprintf(header, sizeof(header), "{\"alg\":\"HS256\",\"kid\":\"k\",\"url\":\"%s\"}",
		 acct_url);
	eab = eab_craft(header, "[\"not a key\"]", mac_key);
	eab_fails(eab, jwk, acct_url, ACLM_ERR_PARSE, "malformed");
	json_decref(eab);
	eab = eab_craft(header, "{\"kty\":\"EC\"}", mac_key);
	eab_fails(eab, jwk, acct_url, ACLM_ERR_PARSE, "malformed");
	/* not a flattened JWS */
	json_object_set_new(eab, "header", json_object());
	eab_fails(eab, jwk, acct_url, ACLM_ERR_PARSE, "malformed");
	json_object_del(eab, "header");
	json_object_del(eab, "signature");
	eab_fails(eab, jwk, acct_url, ACLM_ERR_PARSE, "malformed");
	json_decref(eab);
	eab = json_string("eyJ9");
	eab_fails(eab, jwk, acct_url, ACLM_ERR_PARSE, "malformed");
	eab_fails(NULL, jwk, acct_url, ACLM_ERR_PARSE, "malformed");
	/* the caller's own mistakes */
	eab_fails(eab, jwk, NULL, ACLM_ERR_INVALID, "serverInternal");
	assert_int_equal(acme_eab_verify(eab, mac_key, 0, jwk, acct_url, &problem, &err),
			 ACLM_ERR_INVALID);
	json_decref(eab);
	json_decref(jwk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jws_round_trip_es256),
		cmocka_unit_test(test_jws_round_trip_es384),
		cmocka_unit_test(test_jws_round_trip_rs256),
		cmocka_unit_test(test_jws_round_trip_eddsa),
		cmocka_unit_test(test_jws_verify_accepts_rfc_vectors),
		cmocka_unit_test(test_jws_tampered_is_malformed),
		cmocka_unit_test(test_jws_refuses_unsupported_alg),
		cmocka_unit_test(test_jws_header_shape),
		cmocka_unit_test(test_jws_payload_forms),
		cmocka_unit_test(test_jws_body_shape_and_cap),
		cmocka_unit_test(test_jws_part_caps),
		cmocka_unit_test(test_jws_verify_refuses_weak_or_mismatched_keys),
		cmocka_unit_test(test_jws_es256_signature_length),
		cmocka_unit_test(test_jws_verifier_reused_across_requests),
		cmocka_unit_test(test_eab_round_trip_with_signer),
		cmocka_unit_test(test_eab_refuses_wrong_mac_url_or_key),
		cmocka_unit_test(test_eab_refuses_bad_header_or_shape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
