/* libFuzzer target: crypto_cert_facts, which turns any certificate that
 * OpenSSL accepts (names, SANs, extensions, keys of every type) into the
 * inventory's JSON record; the record is then serialised as aclm does. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/x509.h>

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
	const unsigned char *p = data;
	struct aclm_err err = { 0 };
	json_t *facts = NULL;
	char *text;
	X509 *x = d2i_X509(NULL, &p, (long)size);

	if (x == NULL)
		goto out;
	if (crypto_cert_facts(x, &facts, &err) == ACLM_OK) {
		text = json_dumps(facts, JSON_COMPACT);
		if (text == NULL)
			abort(); /* the facts must always be serialisable */
		free(text);
		json_decref(facts);
	}
	X509_free(x);
out:
	/* The error queue keeps allocations from one input to the next, which
	 * makes libFuzzer run a leak scan after every input. */
	ERR_clear_error();
	return 0;
}
