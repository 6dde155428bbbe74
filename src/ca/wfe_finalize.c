/* ca/wfe_finalize: RFC 8555 §7.4 finalize: the CSR checked against the
 * order, the leaf signed by the intermediate of the CSR key's family with
 * the order's profile, and committed durably with the inventory row, the
 * issued row, the order and an audit event in one transaction before the
 * client hears of it. */
#include "ca/wfe.h"

#include <stdlib.h>
#include <string.h>

#include "core/exec.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "crypto/cert.h"
#include "inventory/inventory.h"

#define CSR_MAX_BYTES (16 * 1024)
#define BACKDATE_S 60 /* clock skew between us and relying parties */

static const struct ca_profile *order_profile(const struct wfe_server *srv, const char *name)
{
	for (size_t i = 0; name != NULL && i < srv->nprofiles; i++)
		if (strcmp(srv->profiles[i].name, name) == 0)
			return &srv->profiles[i];
	return srv->default_profile;
}

/* The leaf for the CSR, not yet stored. */
static aclm_status finalize_sign(struct wfe_req *r, const struct store_ca_order *o,
				 const unsigned char *der, size_t len, X509 **leaf,
				 const struct ca_issuer **issuer, const char **problem,
				 struct aclm_err *err)
{
	const struct ca_profile *prof = order_profile(r->srv, o->profile);
	struct ca_leaf_req req = { .identifiers = o->identifiers, .encryption = prof->encryption };
	int64_t not_after_max = 0, dummy = 0;
	aclm_status st = ca_csr_check(der, len, o->identifiers, r->key, &req.pub, problem, err);

	if (st != ACLM_OK)
		return st;
	if (prof->encryption && !crypto_key_is_sm2(req.pub)) {
		*problem = "badCSR";
		st = aclm_err_set(err, ACLM_ERR_INVALID, "profile %s needs an SM2 key in the CSR",
				  prof->name);
		goto out;
	}
	*issuer = ca_issuer_for(r->srv->issuers, r->srv->nissuers, req.pub, problem, err);
	if (*issuer == NULL) {
		st = ACLM_ERR_UNSUPPORTED;
		goto out;
	}
	req.not_before = aclm_time_now() - BACKDATE_S;
	req.not_after = req.not_before + prof->lifetime_s;
	/* Never beyond the intermediate (RFC 5280 path validation would fail). */
	crypto_cert_validity((*issuer)->intermediate, &dummy, &not_after_max);
	if (req.not_after > not_after_max)
		req.not_after = not_after_max;
	st = ca_leaf_sign(*issuer, &req, leaf, err);
out:
	EVP_PKEY_free(req.pub);
	return st;
}

static aclm_status finalize_store(struct wfe_req *r, struct store_ca_order *o, X509 *leaf,
				  const struct ca_issuer *iss, char serial[41], struct aclm_err *err)
{
	struct store_ca_issued c = { .tenant_id = r->srv->tenant, .ca_name = r->srv->ca_name };
	struct inventory inv = { .store = r->w->store, .ks = r->w->ks,
				 .tenant_id = r->acct->member_tenant, .actor = "ca" };
	json_t *tags = json_pack("{s:s, s:s, s:s}", "ca.name", r->srv->ca_name, "ca.account",
				 r->acct->id, "ca.order", o->id);
	struct inventory_import_opts io = { .source = "ca", .tags = tags };
	struct store_audit_event ev = { .tenant_id = r->srv->tenant, .actor = "ca",
					.action = "ca.issue" };
	aclm_status st;

	ca__serial_hex(leaf, serial);
	c.serial[0] = '\0';
	snprintf(c.serial, sizeof(c.serial), "%s", serial);
	c.key_type = (char *)crypto_key_type_name(iss->key_type);
	c.account_id = r->acct->id;
	c.order_id = o->id;
	c.profile = o->profile;
	c.created_at = aclm_time_now();
	crypto_cert_validity(leaf, &c.not_before, &c.not_after);
	st = crypto_cert_to_der(leaf, &c.der, &c.der_len, err);
	if (st == ACLM_OK)
		st = wfe_write_begin_durable(r, err);
	if (st != ACLM_OK)
		goto out;
	wfe_write_durable_key(r, o->id);
	wfe_write_durable_key(r, serial);
	st = inventory_add_cert(&inv, leaf, &io, &c.cert_id, err);
	if (st == ACLM_OK)
		st = store_ca_issued_put(r->w->store, &c, err);
	free(o->status);
	o->status = strdup("valid");
	o->cert_serial = strdup(serial);
	o->updated_at = c.created_at;
	if (st == ACLM_OK && (o->status == NULL || o->cert_serial == NULL))
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	if (st == ACLM_OK)
		st = store_ca_order_put(r->w->store, o, err);
	ev.object = serial;
	ev.detail = json_pack("{s:s, s:s, s:O}", "order", o->id, "account", r->acct->id,
			      "identifiers", o->identifiers);
	if (st == ACLM_OK)
		st = store_audit_append(r->w->store, &ev, err);
	json_decref(ev.detail);
	if (st != ACLM_OK)
		wfe_write_abort(r);
	else
		st = wfe_write_commit(r, err);
out:
	OPENSSL_free(c.der);
	json_decref(tags);
	return st;
}

void wfe_finalize(struct wfe_req *r)
{
	/* pending -> ready is stored with the finalize commit below, not in a
	 * transaction of its own. */
	struct store_ca_order *o = wfe_order_load_unsaved(r, r->rest);
	const char *csr = aclm_json_str(r->jws.payload, "csr"), *problem = NULL;
	const struct ca_issuer *iss = NULL;
	struct aclm_err err = { 0 };
	unsigned char *der = NULL;
	X509 *leaf = NULL;
	char serial[41];
	long len;
	json_t *body;

	if (o == NULL)
		return;
	if (strcmp(o->status, "ready") != 0) {
		wfe_reply_problem(r, "orderNotReady", "the order is %s, not ready", o->status);
		goto out;
	}
	if (csr == NULL || strlen(csr) > CSR_MAX_BYTES * 4 / 3 + 4 ||
	    (der = malloc(CSR_MAX_BYTES)) == NULL ||
	    (len = acme_b64url_decode(csr, strlen(csr), der, CSR_MAX_BYTES)) <= 0) {
		wfe_reply_problem(r, "badCSR", "the payload needs \"csr\": a base64url DER CSR of at most %d bytes",
				  CSR_MAX_BYTES);
		goto out;
	}
	if (finalize_sign(r, o, der, (size_t)len, &leaf, &iss, &problem, &err) != ACLM_OK) {
		wfe_reply_err(r, problem, &err);
		goto out;
	}
	if (finalize_store(r, o, leaf, iss, serial, &err) != ACLM_OK) {
		wfe_reply_err(r, NULL, &err);
		goto out;
	}
	aclm_log(ACLM_LOG_INFO, "ca: issued %s (%s) for order %s", serial,
		 crypto_key_type_name(iss->key_type), o->id);
	aclm_test_crash_point("ca-after-issue");
	body = wfe_order_json(r, o);
	wfe_reply_json(r, 200, body, NULL);
	json_decref(body);
out:
	free(der);
	X509_free(leaf);
	store_ca_order_free(o);
}
