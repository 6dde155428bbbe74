/* libFuzzer target: ca_csr_check, the CA's reading of a finalize CSR (DER
 * from any ACME client), against a fixed order (example.com, *.example.com,
 * 10.0.0.1, ::1) and a fixed account key. An accepted CSR returns its key;
 * every refusal of input is a badCSR problem. A mutated CSR rarely keeps a
 * valid signature, so each input that parses is also re-signed with a fixed
 * key and checked again: that reaches the name and extension checks. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/err.h>

#include "ca/ca_int.h"
#include "core/log.h"
#include "crypto/crypto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *identifiers;
static EVP_PKEY *account, *signer;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct aclm_err err = { 0 };

	aclm_log_setup(ACLM_LOG_ERROR, ACLM_LOG_TEXT);
	identifiers = json_pack("[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}]",
				"type", "dns", "value", "example.com",
				"type", "dns", "value", "*.example.com",
				"type", "ip", "value", "10.0.0.1",
				"type", "ip", "value", "::1");
	if (crypto_init(&err) != ACLM_OK || identifiers == NULL ||
	    crypto_key_generate(CRYPTO_KEY_P256, &account, &err) != ACLM_OK ||
	    crypto_key_generate(CRYPTO_KEY_P256, &signer, &err) != ACLM_OK)
		abort();
	return 0;
}

static void check(const unsigned char *der, size_t len)
{
	struct aclm_err err = { 0 };
	const char *problem = NULL;
	EVP_PKEY *pub = NULL;
	aclm_status st = ca_csr_check(der, len, identifiers, account, &pub, &problem, &err);

	if (st == ACLM_OK ? pub == NULL || problem != NULL
			  : pub != NULL || problem == NULL || strcmp(problem, "badCSR") != 0)
		__builtin_trap();
	if (strlen(err.msg) >= sizeof(err.msg))
		__builtin_trap();
	EVP_PKEY_free(pub);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *p = data;
	unsigned char *der = NULL;
	X509_REQ *req = size <= CA_CSR_DER_MAX ? d2i_X509_REQ(NULL, &p, (long)size) : NULL;
	int len;

	check(data, size);
	if (req != NULL && X509_REQ_set_pubkey(req, signer) &&
	    X509_REQ_sign(req, signer, EVP_sha256()) > 0 && (len = i2d_X509_REQ(req, &der)) > 0)
		check(der, (size_t)len);
	OPENSSL_free(der);
	X509_REQ_free(req);
	ERR_clear_error();
	return 0;
}
