/* Revocation (RFC 8555 §7.6) and the renewal schedule. */
#include "client/client_int.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/json.h"
#include "core/log.h"

/* RFC 5280 §5.3.1 CRLReason codes ACME servers accept (RFC 8555 §7.6:
 * certificateHold (6) and removeFromCRL (8) are not revocations). */
static const struct {
	const char *name;
	int code;
} reasons[] = {
	{ "unspecified", 0 },        { "keyCompromise", 1 },        { "cACompromise", 2 },
	{ "affiliationChanged", 3 }, { "superseded", 4 },           { "cessationOfOperation", 5 },
	{ "privilegeWithdrawn", 9 }, { "aACompromise", 10 },
};

int client_revocation_reason(const char *name)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strcmp(name, reasons[i].name) == 0)
			return reasons[i].code;
	return -1;
}

/* Without an account, the request is signed by the certificate's key with
 * a "jwk" header (§7.6, second method). */
static aclm_status use_certificate_key(struct client_conn *c, X509 *cert, struct aclm_err *err)
{
	char key_id[KEYSTORE_ID_MAX];
	aclm_status st = keystore_key_id(X509_get0_pubkey(cert), key_id, err);

	if (st == ACLM_OK && keystore_exists(c->inv->ks, c->inv->tenant_id, key_id, NULL) != ACLM_OK)
		st = aclm_err_set(err, ACLM_ERR_NOTFOUND,
				  "no account at %s and the keystore holds no key for the certificate: "
				  "cannot sign the revocation", c->server);
	if (st == ACLM_OK) {
		free(c->kid);
		c->kid = NULL;
		st = client__use_key(c, key_id, err);
	}
	return st;
}

struct lineage_match {
	const char *ari_id;
	json_t *names;
};

static aclm_status match_lineage(const struct store_lineage *l, void *arg)
{
	struct lineage_match *m = arg;
	const char *enc = aclm_json_str(json_object_get(l->options, "tlcp_enc"), "ari_id");

	if ((l->ari_id != NULL && strcmp(l->ari_id, m->ari_id) == 0) ||
	    (enc != NULL && strcmp(enc, m->ari_id) == 0))
		json_array_append_new(m->names, json_string(l->name));
	return ACLM_OK;
}

/* After aclm revoked a lineage's certificate the next renew asks the CA at
 * once instead of waiting for next_check: the CA moves the ARI window of a
 * revoked certificate into the past (RFC 9773 §4.2). A revoked TLCP
 * encryption certificate makes its lineage due. Best effort: the
 * revocation itself has succeeded. */
static void forget_renewal_state(struct client_conn *c, X509 *cert)
{
	struct lineage_match m = { .ari_id = acme_ari_cert_id(cert), .names = json_array() };
	struct aclm_err err = { 0 };
	size_t i;
	json_t *v;

	if (m.ari_id == NULL || m.names == NULL ||
	    store_lineage_list(c->inv->store, c->inv->tenant_id, match_lineage, &m, &err) != ACLM_OK)
		goto out;
	json_array_foreach(m.names, i, v) {
		struct store_lineage *l = NULL;
		json_t *enc;
		int64_t id;

		if (store_lineage_get(c->inv->store, c->inv->tenant_id, json_string_value(v), &l,
				      &err) != ACLM_OK)
			break;
		enc = json_object_get(l->options, "tlcp_enc");
		if (l->ari_id != NULL && strcmp(l->ari_id, m.ari_id) == 0) {
			l->next_check = 0;
			json_object_del(l->options, "ari");
		} else if (json_is_object(enc)) {
			json_object_set_new(enc, "revoked", json_true());
		}
		if (store_lineage_put(c->inv->store, l, &id, &err) == ACLM_OK)
			log_info("lineage %s: its certificate is revoked; the next renew asks the CA",
				 l->name);
		store_lineage_free(l);
	}
out:
	if (err.msg[0] != '\0')
		log_warn("after the revocation: %s", err.msg);
	json_decref(m.names);
	free((char *)m.ari_id);
}

aclm_status client_revoke(struct client_conn *c, X509 *cert, int reason, struct aclm_err *err)
{
	struct http_response resp = { 0 };
	unsigned char *der = NULL;
	char *b64 = NULL;
	json_t *payload = NULL;
	int len;
	aclm_status st;

	if (c->dir.revoke_cert == NULL)
		return aclm_err_set(err, ACLM_ERR_UNSUPPORTED, "%s offers no revokeCert", c->server);
	st = client_account_use_existing(c, err);
	if (st == ACLM_ERR_NOTFOUND) {
		aclm_err_clear(err);
		st = use_certificate_key(c, cert, err);
	}
	if (st != ACLM_OK)
		return st;
	len = i2d_X509(cert, &der);
	if (len <= 0 || (b64 = acme_b64url_encode(der, (size_t)len)) == NULL) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "cannot encode the certificate");
		goto out;
	}
	payload = json_pack("{s:s, s:i}", "certificate", b64, "reason", reason);
	st = client_post(c, c->dir.revoke_cert, payload, "revokeCert", &resp, err);
	if (st == ACLM_OK)
		forget_renewal_state(c, cert);
out:
	json_decref(payload);
	free(b64);
	OPENSSL_free(der);
	http_response_free(&resp);
	return st;
}

bool client_renewal_due(int64_t not_before, int64_t not_after, int64_t now, int64_t *due_at)
{
	int64_t lifetime = not_after - not_before;
	/* Short-lived certificates (6-day ones) renew at half their life, so a
	 * failed attempt still leaves days to retry. */
	int64_t left = lifetime <= 10 * 86400 ? lifetime / 2 : lifetime / 3;
	int64_t at = not_after - left;

	if (due_at != NULL)
		*due_at = at;
	return lifetime <= 0 || now >= at;
}
