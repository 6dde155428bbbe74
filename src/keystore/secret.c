/* Small secrets that are not keys (EAB HMAC keys), sealed under the master
 * key like private keys, for rows outside the keys table. */
#include "keystore/keystore_int.h"

#include <string.h>

/* Labels share the AAD's id slot with key ids ("k" + hex): requiring a ':'
 * keeps the two namespaces apart, so a sealed secret never opens as a key
 * nor a key as a secret. 88 bytes fit seal.c's AAD buffer with any tenant
 * id (16 + 1 + 20 + 1 + 88 < 128). */
#define SECRET_LABEL_MAX 88

static aclm_status check_label(const char *label, struct aclm_err *err)
{
	if (label == NULL || label[0] == '\0' || strchr(label, ':') == NULL)
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "secret label \"%s\" must name its kind, as in \"eab:KID\"",
				    label != NULL ? label : "");
	if (strlen(label) > SECRET_LABEL_MAX)
		return aclm_err_set(err, ACLM_ERR_INVALID, "secret label longer than %d bytes",
				    SECRET_LABEL_MAX);
	return ACLM_OK;
}

aclm_status keystore_secret_seal(struct keystore *ks, int64_t tenant, const char *label,
				 const unsigned char *plain, size_t plen, unsigned char **blob,
				 size_t *bloblen, struct aclm_err *err)
{
	aclm_status st;

	*blob = NULL;
	*bloblen = 0;
	st = check_label(label, err);
	if (st == ACLM_OK)
		st = keystore__master_load(ks, err);
	if (st == ACLM_OK)
		st = keystore__seal(ks->master, tenant, label, plain, plen, blob, bloblen, err);
	return st;
}

aclm_status keystore_secret_open(struct keystore *ks, int64_t tenant, const char *label,
				 const unsigned char *blob, size_t bloblen, unsigned char **plain,
				 size_t *plen, struct aclm_err *err)
{
	aclm_status st;

	*plain = NULL;
	*plen = 0;
	st = check_label(label, err);
	if (st == ACLM_OK)
		st = keystore__master_load(ks, err);
	if (st == ACLM_OK)
		st = keystore__unseal(ks->master, tenant, label, blob, bloblen, plain, plen, err);
	return st;
}
