/* ca/ca_admin: what an operator does to the ACME server's state from the
 * command line: EAB keys, the list of issued certificates, revocation and
 * CRLs (the server answers the same rows). */
#include "ca/ca.h"
#include "ca/ca_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "acme/acme.h"
#include "core/encode.h"
#include "core/json.h"
#include "core/time.h"

aclm_status ca_eab_create(struct inventory *inv, const char *ca_name, int64_t member_tenant,
			  const json_t *allow, char kid_out[STORE_CA_ID_MAX], char **hmac_b64,
			  struct aclm_err *err)
{
	struct store_ca_eab e = { .tenant_id = inv->tenant_id, .member_tenant = member_tenant };
	unsigned char hmac[CA_EAB_HMAC_BYTES], kidraw[12];
	char name[CA_NAME_MAX + 1], label[STORE_CA_ID_MAX + 8], *kid = NULL;
	json_t *detail = NULL;
	aclm_status st = ca_resolve_name(inv, ca_name, name, err);

	*hmac_b64 = NULL;
	if (st != ACLM_OK)
		return st;
	if (RAND_bytes(hmac, sizeof(hmac)) != 1 || RAND_bytes(kidraw, sizeof(kidraw)) != 1)
		return aclm_err_set(err, ACLM_ERR_CRYPTO, "no randomness");
	/* Hex, not base64url: a key id starting with '-' reads as an option to
	 * every client's command line (lego --eab.kid, certbot --eab-kid). */
	if ((kid = malloc(2 * sizeof(kidraw) + 1)) != NULL)
		aclm_hex_encode(kidraw, sizeof(kidraw), kid);
	*hmac_b64 = acme_b64url_encode(hmac, sizeof(hmac));
	if (kid == NULL || *hmac_b64 == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
		goto out;
	}
	snprintf(e.kid, sizeof(e.kid), "%s", kid);
	snprintf(label, sizeof(label), "eab:%s", kid);
	e.ca_name = name;
	e.allow = (json_t *)allow;
	e.created_at = aclm_time_now();
	st = keystore_secret_seal(inv->ks, inv->tenant_id, label, hmac, sizeof(hmac), &e.hmac_sealed,
				  &e.hmac_sealed_len, err);
	if (st == ACLM_OK)
		st = store_begin(inv->store, err);
	if (st != ACLM_OK)
		goto out;
	st = store_ca_eab_put(inv->store, &e, err);
	detail = json_pack("{s:s, s:I, s:O}", "ca", name, "member_tenant", (json_int_t)member_tenant,
			   "allow", allow != NULL ? (json_t *)allow : json_null());
	if (st == ACLM_OK)
		st = inventory_audit(inv, "ca.eab.create", kid, detail, err);
	if (st == ACLM_OK)
		st = store_commit(inv->store, err);
	else
		store_rollback(inv->store);
	if (st == ACLM_OK)
		snprintf(kid_out, STORE_CA_ID_MAX, "%s", kid);
out:
	OPENSSL_cleanse(hmac, sizeof(hmac));
	if (st != ACLM_OK && *hmac_b64 != NULL) {
		OPENSSL_cleanse(*hmac_b64, strlen(*hmac_b64));
		free(*hmac_b64);
		*hmac_b64 = NULL;
	}
	json_decref(detail);
	free(e.hmac_sealed);
	free(kid);
	return st;
}

static aclm_status certs_cb(const struct store_ca_issued *c, void *arg)
{
	json_t *arr = arg, *o;
	char nb[ACLM_TIME_RFC3339_LEN], na[ACLM_TIME_RFC3339_LEN], ra[ACLM_TIME_RFC3339_LEN];
	const char *status = c->revoked ? "revoked" : c->not_after < aclm_time_now() ? "expired"
										  : "valid";

	o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s?, s:s, s:s?}", "serial", c->serial,
		      "key_type", c->key_type, "account", c->account_id, "order", c->order_id,
		      "cert_id", (json_int_t)c->cert_id, "not_before", aclm_time_fmt(c->not_before, nb),
		      "not_after", aclm_time_fmt(c->not_after, na), "profile", c->profile, "status",
		      status, "replaced_by", c->replaced_by);
	if (o != NULL && c->revoked) {
		aclm_json_set_str(o, "revoked_at", aclm_time_fmt(c->revoked_at, ra));
		aclm_json_set_int(o, "reason", c->reason);
	}
	if (o == NULL || json_array_append_new(arr, o) != 0)
		return ACLM_ERR_NOMEM;
	return ACLM_OK;
}

aclm_status ca_certs_json(struct inventory *inv, const char *ca_name, json_t **out,
			  struct aclm_err *err)
{
	char name[CA_NAME_MAX + 1];
	json_t *arr = json_array();
	aclm_status st = arr != NULL ? ca_resolve_name(inv, ca_name, name, err)
				     : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");

	if (st == ACLM_OK)
		st = store_ca_issued_list(inv->store, inv->tenant_id, name, NULL, false, certs_cb, arr,
					  err);
	if (st == ACLM_ERR_NOMEM && err != NULL && err->code == ACLM_OK)
		aclm_err_set(err, st, "listing certificates: out of memory");
	if (st != ACLM_OK) {
		json_decref(arr);
		arr = NULL;
	}
	*out = arr;
	return st;
}

/* "0A:1b:..." -> "0a1b..." as the store keeps serials. */
static bool serial_norm(const char *in, char out[41])
{
	size_t n = 0;

	for (; *in != '\0'; in++) {
		if (*in == ':')
			continue;
		if (!isxdigit((unsigned char)*in) || n == 40)
			return false;
		out[n++] = (char)tolower((unsigned char)*in);
	}
	out[n] = '\0';
	return n > 0;
}

aclm_status ca_revoke_serial(struct inventory *inv, const char *ca_name, const char *serial,
			     int reason, struct aclm_err *err)
{
	char name[CA_NAME_MAX + 1], sn[41];
	json_t *detail = NULL;
	aclm_status st;

	if (!serial_norm(serial, sn))
		return aclm_err_set(err, ACLM_ERR_INVALID, "\"%s\" is not a hexadecimal serial", serial);
	st = ca_resolve_name(inv, ca_name, name, err);
	if (st == ACLM_OK)
		st = store_begin(inv->store, err);
	if (st != ACLM_OK)
		return st;
	st = store_ca_issued_revoke(inv->store, inv->tenant_id, name, sn, reason, aclm_time_now(),
				    err);
	detail = json_pack("{s:s, s:i}", "ca", name, "reason", reason);
	if (st == ACLM_OK)
		st = inventory_audit(inv, "ca.revoke", sn, detail, err);
	if (st == ACLM_OK)
		st = store_commit(inv->store, err);
	else
		store_rollback(inv->store);
	json_decref(detail);
	return st;
}

aclm_status ca_crl_pem(struct inventory *inv, const char *ca_name, const char *key_type,
		       struct aclm_buf *out, struct aclm_err *err)
{
	char name[CA_NAME_MAX + 1];
	struct ca_issuer *iss = NULL;
	size_t n = 0;
	const struct ca_issuer *one;
	X509_CRL *crl = NULL;
	BIO *mem = NULL;
	char *data;
	long len;
	aclm_status st = ca_resolve_name(inv, ca_name, name, err);

	if (st == ACLM_OK)
		st = ca_issuers_load(inv, name, NULL, &iss, &n, err);
	if (st != ACLM_OK)
		goto out;
	one = key_type != NULL ? ca_issuer_by_type(iss, n, key_type) : n == 1 ? iss : NULL;
	if (one == NULL) {
		st = aclm_err_set(err, key_type != NULL ? ACLM_ERR_NOTFOUND : ACLM_ERR_AMBIGUOUS,
				  key_type != NULL ? "CA %s has no %s intermediate"
						   : "CA %s has several intermediates: name one with --key-type%s",
				  name, key_type != NULL ? key_type : "");
		goto out;
	}
	st = ca_crl_current(inv->store, inv->tenant_id, name, one, &crl, err);
	if (st == ACLM_OK && ((mem = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_X509_CRL(mem, crl) != 1))
		st = aclm_err_set(err, ACLM_ERR_CRYPTO, "CRL: cannot write PEM");
	if (st == ACLM_OK && (len = BIO_get_mem_data(mem, &data)) > 0)
		st = aclm_buf_append(out, data, (size_t)len);
out:
	BIO_free(mem);
	X509_CRL_free(crl);
	ca_issuers_free(iss, n);
	return st;
}
