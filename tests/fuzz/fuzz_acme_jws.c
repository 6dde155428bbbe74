/* libFuzzer target: an ACME request body as the CA receives it
 * (acme_jws_parse), verified with the key of its own "jwk" when it has one
 * (acme_jwk_to_pkey, acme_jws_verify); the same bytes as the
 * externalAccountBinding object of a newAccount (acme_eab_kid,
 * acme_eab_verify); and as an ARI certificate id (acme_ari_cert_id_parse). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/err.h>

#include "acme/acme.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned char eab_key[32] = "fuzz-eab-hmac-key-of-32-bytes..";

/* What a successful parse promises its caller. */
static void check_req(const struct acme_jws_req *r)
{
	if (r->url == NULL || r->url[0] == '\0' || (r->jwk == NULL) == (r->kid == NULL) ||
	    r->sig == NULL || r->sig_len == 0 || r->signing_input == NULL ||
	    strlen(r->signing_input) != r->signing_input_len ||
	    (r->payload != NULL && !json_is_object(r->payload)) ||
	    (strcmp(r->alg, "ES256") != 0 && strcmp(r->alg, "ES384") != 0 &&
	     strcmp(r->alg, "RS256") != 0 && strcmp(r->alg, "EdDSA") != 0))
		__builtin_trap();
}

static void fuzz_jws(const uint8_t *data, size_t size)
{
	struct aclm_err err = { 0 };
	struct acme_jws_req r;
	EVP_PKEY *key = NULL;
	const char *problem = NULL;
	aclm_status st;

	st = acme_jws_parse((const char *)data, size, &r, &problem, &err);
	if ((st == ACLM_OK) != (problem == NULL))
		__builtin_trap();
	if (st != ACLM_OK)
		goto out;
	check_req(&r);
	if (r.jwk != NULL && acme_jwk_to_pkey(r.jwk, &key, &err) == ACLM_OK) {
		st = acme_jws_verify(&r, key, &problem, &err);
		if ((st == ACLM_OK) != (problem == NULL))
			__builtin_trap();
	}
out:
	EVP_PKEY_free(key);
	acme_jws_req_free(&r);
}

static void fuzz_eab(const uint8_t *data, size_t size)
{
	struct aclm_err err = { 0 };
	json_t *eab = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	json_t *jwk = json_pack("{s:s,s:s,s:s}", "crv", "Ed25519", "kty", "OKP", "x",
				"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
	const char *problem = NULL;
	char kid[128];
	aclm_status st;

	if (eab == NULL || jwk == NULL)
		goto out;
	st = acme_eab_kid(eab, kid, sizeof(kid), &problem, &err);
	if ((st == ACLM_OK) != (problem == NULL) || (st == ACLM_OK && kid[0] == '\0'))
		__builtin_trap();
	st = acme_eab_verify(eab, eab_key, sizeof(eab_key), jwk,
			     "https://ca.example/acme/new-account", &problem, &err);
	if ((st == ACLM_OK) != (problem == NULL))
		__builtin_trap();
out:
	json_decref(jwk);
	json_decref(eab);
}

static void fuzz_ari(const uint8_t *data, size_t size)
{
	struct aclm_err err = { 0 };
	char *id = malloc(size + 1), hex[41];
	unsigned char aki[64];
	size_t aki_len = 0;

	if (id == NULL)
		return;
	memcpy(id, data, size);
	id[size] = '\0';
	if (acme_ari_cert_id_parse(id, hex, aki, sizeof(aki), &aki_len, &err) == ACLM_OK &&
	    (aki_len == 0 || strlen(hex) < 2 || strlen(hex) % 2 != 0))
		__builtin_trap();
	free(id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_jws(data, size);
	fuzz_eab(data, size);
	fuzz_ari(data, size);
	ERR_clear_error();
	return 0;
}
