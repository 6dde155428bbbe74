/* client/: an Ed25519 account key in the keystore signs a JWS the way
 * client/conn.c does (raw 64-byte EdDSA, RFC 8037 §3.1), and the server
 * side's verifier (acme/jws_verify.c) accepts it with the JWK sent. Here
 * rather than in keystore/ because it needs acme/ too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "acme/acme.h"
#include "crypto/crypto.h"
#include "keystore/keystore.h"
#include "store/store.h"
#include "testsupport.h"

static int setup(void **state)
{
	struct ts_home *f = calloc(1, sizeof(*f));

	if (f == NULL || ts_home_open(f, "acctkey") != 0)
		return -1;
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

struct ks_signer {
	struct ts_home *f;
	const char *id;
};

static aclm_status ks_sign(void *arg, const unsigned char *msg, size_t len, unsigned char **sig,
			   size_t *siglen, struct aclm_err *err)
{
	const struct ks_signer *k = arg;

	return keystore_sign(k->f->ks, k->f->tenant, k->id, NULL, NULL, msg, len, sig, siglen, err);
}

static void test_ed25519_account_key_signs_a_jws_that_verifies(void **state)
{
	struct ts_home *f = *state;
	char id[KEYSTORE_ID_MAX], *jws = NULL, *tampered = NULL;
	struct ks_signer k = { .f = f, .id = id };
	struct acme_signer s = { .sign = ks_sign, .arg = &k };
	struct acme_jws_req req = { 0 };
	struct store_key *row = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	EVP_PKEY *h = NULL, *server_key = NULL;
	json_t *jwk = NULL, *payload = json_pack("{s:b}", "termsOfServiceAgreed", 1);
	const char *problem = NULL;
	struct aclm_err err = { 0 };

	assert_int_equal(keystore_create(f->ks, f->tenant, CRYPTO_KEY_ED25519, id, &err), ACLM_OK);
	assert_int_equal(store_key_get(f->store, f->tenant, id, &row, &err), ACLM_OK);
	assert_string_equal(row->type, "ed25519"); /* the type is kept with the key */
	store_key_free(row);
	/* EdDSA signs the message itself, no digest: 64 raw bytes (RFC 8032). */
	assert_int_equal(keystore_sign(f->ks, f->tenant, id, NULL, NULL, (const unsigned char *)"m",
				       1, &sig, &siglen, &err), ACLM_OK);
	assert_int_equal(siglen, 64);
	OPENSSL_free(sig);
	assert_int_equal(keystore_pkey(f->ks, f->tenant, id, &h, &err), ACLM_OK);
	assert_int_equal(crypto_key_type_of(h), CRYPTO_KEY_ED25519);
	assert_string_equal(acme_jws_alg(h), "EdDSA");
	assert_int_equal(acme_jwk_from_pkey(h, &jwk, &err), ACLM_OK);
	s.alg = acme_jws_alg(h);
	s.jwk = jwk;
	assert_int_equal(acme_jws_sign(&s, "https://ca.test/new-account", "nonce1", payload, &jws,
				       &err), ACLM_OK);

	/* The server side: parse, key from the JWK in the header, verify. */
	assert_int_equal(acme_jws_parse(jws, strlen(jws), &req, &problem, &err), ACLM_OK);
	assert_string_equal(req.alg, "EdDSA");
	assert_int_equal(req.sig_len, 64);
	assert_int_equal(acme_jwk_to_pkey(req.jwk, &server_key, &err), ACLM_OK);
	assert_true(crypto_key_public_equal(server_key, h));
	assert_int_equal(acme_jws_verify(&req, server_key, &problem, &err), ACLM_OK);
	/* One flipped signature bit fails. */
	req.sig[10] ^= 0x01;
	assert_int_equal(acme_jws_verify(&req, server_key, &problem, &err), ACLM_ERR_VERIFY);
	assert_string_equal(problem, "malformed");
	acme_jws_req_free(&req);

	/* A different payload under the same signature fails too. */
	tampered = strdup(jws);
	assert_non_null(tampered);
	{
		char *p = strstr(tampered, "\"payload\":\"") + 11;

		*p = *p == 'e' ? 'f' : 'e';
	}
	memset(&req, 0, sizeof(req));
	if (acme_jws_parse(tampered, strlen(tampered), &req, &problem, &err) == ACLM_OK)
		assert_int_not_equal(acme_jws_verify(&req, server_key, &problem, &err), ACLM_OK);
	acme_jws_req_free(&req);
	free(tampered);
	free(jws);
	json_decref(jwk);
	json_decref(payload);
	EVP_PKEY_free(h);
	EVP_PKEY_free(server_key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ed25519_account_key_signs_a_jws_that_verifies, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
