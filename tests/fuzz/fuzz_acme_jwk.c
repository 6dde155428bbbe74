/* libFuzzer target: a JWK from an untrusted JWS header (the server side):
 * jansson parses, acme_jwk_to_pkey builds (and checks) the key, and
 * acme_jwk_thumbprint hashes it. A key that was accepted must give back a
 * JWK with the same thumbprint. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>
#include <openssl/err.h>

#include "acme/acme.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aclm_err err = { 0 };
	json_t *jwk = NULL, *again = NULL;
	EVP_PKEY *key = NULL;
	char tp[44], tp2[44];
	bool have_tp;

	jwk = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (jwk == NULL)
		goto out;
	have_tp = acme_jwk_thumbprint(jwk, tp, &err) == ACLM_OK;
	if (acme_jwk_to_pkey(jwk, &key, &err) != ACLM_OK)
		goto out;
	/* Accepted keys round-trip: same canonical members, same thumbprint. */
	if (!have_tp || acme_jws_alg(key) == NULL ||
	    acme_jwk_from_pkey(key, &again, &err) != ACLM_OK ||
	    acme_jwk_thumbprint(again, tp2, &err) != ACLM_OK || strcmp(tp, tp2) != 0)
		__builtin_trap();
out:
	json_decref(again);
	EVP_PKEY_free(key);
	json_decref(jwk);
	ERR_clear_error();
	return 0;
}
