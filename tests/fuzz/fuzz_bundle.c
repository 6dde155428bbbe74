/* libFuzzer target: crypto_bundle_parse, the reader of every certificate
 * file a user points aclm at (PEM bundles, DER, PKCS#12). The first byte
 * decides whether a second parse runs with the password "pw", so that
 * encrypted PEM keys and password-protected PKCS#12 are reached too: an odd
 * byte (PEM's '-' is 0x2d) or 0x30 (a DER SEQUENCE, i.e. PKCS#12, whose first
 * byte cannot be flipped without breaking it). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <openssl/err.h>

#include "core/log.h"
#include "crypto/crypto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct aclm_err err = { 0 };

	aclm_log_setup(ACLM_LOG_ERROR, ACLM_LOG_TEXT);
	if (crypto_init(&err) != ACLM_OK)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct crypto_bundle *b = NULL;
	struct aclm_err err = { 0 };

	if (crypto_bundle_parse(data, size, NULL, &b, &err) == ACLM_OK)
		crypto_bundle_free(b);
	b = NULL;
	if (size > 0 && ((data[0] & 1) != 0 || data[0] == 0x30) &&
	    crypto_bundle_parse(data, size, "pw", &b, &err) == ACLM_OK)
		crypto_bundle_free(b);
	/* The error queue keeps allocations from one input to the next, which
	 * makes libFuzzer run a leak scan after every input. */
	ERR_clear_error();
	return 0;
}
