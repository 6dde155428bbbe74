/* ca/: the TLS certificate aclm's own servers present when no files are
 * given (`aclm ca serve`, `aclm serve`): a fresh P-256 key that lives in
 * memory only (never stored, so there is nothing to protect or rotate),
 * SANs localhost, 127.0.0.1, ::1 and the listen host, signed by the CA's
 * first non-SM2 intermediate (TLS clients rarely speak SM2). */
#include "ca/ca.h"
#include "ca/ca_int.h"

#include <string.h>

#include "core/time.h"
#include "crypto/key.h"
#include "net/net.h"

json_t *ca_serving_names(const char *listen)
{
	char host[256], port[16];
	struct aclm_err ignored = { 0 };
	json_t *ids = json_pack("[{s:s,s:s},{s:s,s:s},{s:s,s:s}]", "type", "dns", "value",
				"localhost", "type", "ip", "value", "127.0.0.1", "type", "ip",
				"value", "::1");

	if (ids != NULL && listen != NULL &&
	    net_listen_split("listen", listen, host, sizeof(host), port, sizeof(port), &ignored) ==
		    ACLM_OK &&
	    host[0] != '\0' && strcmp(host, "127.0.0.1") != 0 && strcmp(host, "::1") != 0 &&
	    strcmp(host, "0.0.0.0") != 0 && strcmp(host, "::") != 0)
		json_array_append_new(ids, json_pack("{s:s,s:s}", "type", "ip", "value", host));
	return ids;
}

aclm_status ca__serving_cert(const struct ca_issuer *issuers, size_t n, const char *ca_name,
			     const char *listen, int days, X509 **cert, EVP_PKEY **key,
			     const struct ca_issuer **via, struct aclm_err *err)
{
	const struct ca_issuer *iss = NULL;
	json_t *ids = ca_serving_names(listen);
	struct ca_leaf_req req = { .identifiers = ids };
	aclm_status st = ACLM_OK;

	*cert = NULL;
	*key = NULL;
	for (size_t i = 0; i < n && iss == NULL; i++)
		if (issuers[i].key_type != CRYPTO_KEY_SM2)
			iss = &issuers[i];
	if (ids == NULL)
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	else if (iss == NULL)
		st = aclm_err_set(err, ACLM_ERR_NOTFOUND, "CA %s has only SM2 keys: give a serving "
				  "certificate and key", ca_name);
	if (st == ACLM_OK)
		st = crypto_key_generate(CRYPTO_KEY_P256, key, err);
	if (st == ACLM_OK) {
		req.pub = *key;
		req.not_before = aclm_time_now() - 300;
		req.not_after = req.not_before + (int64_t)days * 86400;
		st = ca_leaf_sign(iss, &req, cert, err);
	}
	if (st == ACLM_OK && via != NULL)
		*via = iss;
	if (st != ACLM_OK) {
		EVP_PKEY_free(*key);
		*key = NULL;
	}
	json_decref(ids);
	return st;
}

aclm_status ca_serving_cert(struct inventory *inv, const char *name, const char *listen, int days,
			    X509 **cert, EVP_PKEY **key, X509 **chain, struct aclm_err *err)
{
	char ca_name[CA_NAME_MAX + 1];
	struct ca_issuer *issuers = NULL;
	const struct ca_issuer *via = NULL;
	size_t n = 0;
	aclm_status st = ca_resolve_name(inv, name, ca_name, err);

	*chain = NULL;
	if (st == ACLM_OK)
		st = ca_issuers_load(inv, ca_name, NULL, &issuers, &n, err);
	if (st == ACLM_OK)
		st = ca__serving_cert(issuers, n, ca_name, listen, days, cert, key, &via, err);
	if (st == ACLM_OK) {
		X509_up_ref(via->intermediate);
		*chain = via->intermediate;
	}
	ca_issuers_free(issuers, n);
	return st;
}
