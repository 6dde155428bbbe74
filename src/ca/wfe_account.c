/* ca/wfe_account: accounts (RFC 8555 §7.3): newAccount with
 * onlyReturnExisting and External Account Binding (§7.3.4), updates and
 * deactivation (§7.3.2, §7.3.6), key rollover (§7.3.5). */
#include "ca/wfe.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/json.h"
#include "core/log.h"
#include "core/time.h"

#define CONTACTS_MAX 10
#define CONTACT_LEN_MAX 320

static json_t *account_json(const struct wfe_req *r, const struct store_ca_account *a)
{
	char orders[WFE_BASE_MAX + 128];

	snprintf(orders, sizeof(orders), "%s/acme/acct/%s/orders", r->base, a->id);
	return json_pack("{s:s, s:o, s:s, s:O}", "status", a->status, "contact",
			 a->contact != NULL ? json_incref(a->contact) : json_array(), "orders",
			 orders, "key", a->jwk);
}

/* RFC 8555 §7.3: mailto: URLs only (as Let's Encrypt), one address each,
 * no header fields. */
static bool contacts_ok(struct wfe_req *r, const json_t *contact)
{
	size_t i;
	json_t *c;

	if (contact == NULL)
		return true;
	if (!json_is_array(contact) || json_array_size(contact) > CONTACTS_MAX) {
		wfe_reply_problem(r, "invalidContact", "contact must be an array of at most %d URLs",
				  CONTACTS_MAX);
		return false;
	}
	json_array_foreach(contact, i, c) {
		const char *s = json_string_value(c), *at;

		if (s == NULL || strncmp(s, "mailto:", 7) != 0) {
			wfe_reply_problem(r, "unsupportedContact", "contact %zu: only mailto: URLs are supported",
					  i);
			return false;
		}
		at = strchr(s + 7, '@');
		if (strlen(s) > CONTACT_LEN_MAX || at == NULL || at == s + 7 || at[1] == '\0' ||
		    strpbrk(s + 7, "?,; <>\"") != NULL || strchr(at + 1, '@') != NULL) {
			wfe_reply_problem(r, "invalidContact", "contact \"%.100s\" is not one e-mail address", s);
			return false;
		}
	}
	return true;
}

/* §7.3.4: the EAB's key must exist, be unused (or bound to this key's
 * account) and its MAC verify; the account then belongs to the key's
 * tenant and patterns. */
static bool eab_bind(struct wfe_req *r, const json_t *eab, struct store_ca_account *a,
		     struct store_ca_eab **out)
{
	struct aclm_err err = { 0 };
	const char *problem = NULL;
	struct store_ca_eab *e = NULL;
	unsigned char *mac = NULL;
	size_t maclen = 0;
	char kid[STORE_CA_ID_MAX], label[STORE_CA_ID_MAX + 8], url[WFE_BASE_MAX + 32];
	aclm_status st = acme_eab_kid(eab, kid, sizeof(kid), &problem, &err);

	if (st != ACLM_OK)
		goto fail;
	st = store_ca_eab_get(r->w->store, r->srv->tenant, r->srv->ca_name, kid, &e, &err);
	if (st == ACLM_ERR_NOTFOUND) {
		problem = "unauthorized";
		aclm_err_set(&err, st, "unknown external account key id \"%s\"", kid);
		goto fail;
	}
	snprintf(label, sizeof(label), "eab:%s", kid);
	if (st == ACLM_OK)
		st = keystore_secret_open(r->w->ks, r->srv->tenant, label, e->hmac_sealed,
					  e->hmac_sealed_len, &mac, &maclen, &err);
	if (st != ACLM_OK)
		goto fail;
	wfe_url(r, "new-account", NULL, url, sizeof(url));
	st = acme_eab_verify(eab, mac, maclen, r->jws.jwk, url, &problem, &err);
	OPENSSL_clear_free(mac, maclen);
	if (st != ACLM_OK)
		goto fail;
	if (e->account_id != NULL && strcmp(e->account_id, a->id) != 0) {
		problem = "unauthorized";
		aclm_err_set(&err, ACLM_ERR_EXISTS, "external account key \"%s\" is already used", kid);
		goto fail;
	}
	a->member_tenant = e->member_tenant;
	a->eab_kid = strdup(kid);
	a->allow = e->allow != NULL ? json_incref(e->allow) : NULL;
	*out = e;
	return true;
fail:
	store_ca_eab_free(e);
	wfe_reply_err(r, problem, &err);
	return false;
}

static void existing_account(struct wfe_req *r, struct store_ca_account *a)
{
	char loc[WFE_BASE_MAX + 64];
	json_t *body = account_json(r, a);

	wfe_url(r, "acct", a->id, loc, sizeof(loc));
	wfe_reply_json(r, 200, body, loc);
	json_decref(body);
}

static aclm_status account_store(struct wfe_req *r, struct store_ca_account *a,
				 const struct store_ca_eab *e, struct aclm_err *err)
{
	aclm_status st = wfe_write_begin_durable(r, err);

	if (st != ACLM_OK)
		return st;
	wfe_write_durable_key(r, a->id);
	st = store_ca_account_put(r->w->store, a, err);
	if (st == ACLM_OK && e != NULL)
		st = store_ca_eab_bind(r->w->store, r->srv->tenant, r->srv->ca_name, e->kid, a->id,
				       err);
	if (st != ACLM_OK) {
		wfe_write_abort(r);
		return st;
	}
	st = wfe_write_commit(r, err);
	wfe_accounts_changed(r->srv);
	return st;
}

void wfe_new_account(struct wfe_req *r)
{
	struct store_ca_account a = { .tenant_id = r->srv->tenant }, *found = NULL;
	struct store_ca_eab *e = NULL;
	struct aclm_err err = { 0 };
	const json_t *p = r->jws.payload;
	const json_t *eab = json_object_get(p, "externalAccountBinding");
	char loc[WFE_BASE_MAX + 64], limit_key[96];
	int64_t now = aclm_time_now(), retry = 0;
	json_t *body = NULL;
	aclm_status st;

	if (p == NULL) {
		wfe_reply_problem(r, "malformed", "newAccount needs a payload");
		return;
	}
	if (acme_jwk_thumbprint(r->jws.jwk, a.thumbprint, &err) != ACLM_OK) {
		wfe_reply_err(r, "badPublicKey", &err);
		return;
	}
	st = store_ca_account_find(r->w->store, r->srv->tenant, r->srv->ca_name, a.thumbprint,
				   &found, &err);
	if (st == ACLM_OK) {
		wfe_sync_saw(r, found->id);
		/* §7.3.1: the key has an account: return it, create nothing;
		 * §7.3.6: unless it is deactivated (as Boulder and Pebble). */
		if (strcmp(found->status, "valid") != 0)
			wfe_reply_problem(r, "unauthorized", "account %s is %s", found->id,
					  found->status);
		else
			existing_account(r, found);
		goto out;
	}
	if (st != ACLM_ERR_NOTFOUND) {
		wfe_reply_err(r, NULL, &err);
		goto out;
	}
	if (json_is_true(json_object_get(p, "onlyReturnExisting"))) {
		wfe_reply_problem(r, "accountDoesNotExist", "no account exists with this key");
		goto out;
	}
	if (r->srv->o->terms_of_service != NULL &&
	    !json_is_true(json_object_get(p, "termsOfServiceAgreed"))) {
		wfe_reply_problem(r, "userActionRequired", "the terms of service must be agreed to");
		goto out;
	}
	if (eab == NULL && r->srv->o->eab_required) {
		wfe_reply_problem(r, "externalAccountRequired",
				  "this CA requires an external account binding (aclm ca eab create)");
		goto out;
	}
	if (!contacts_ok(r, json_object_get(p, "contact")))
		goto out;
	snprintf(limit_key, sizeof(limit_key), "account:%s", r->peer);
	if (!wfe_limit_take(&r->srv->limits, limit_key, r->srv->o->limit_accounts, now, &retry)) {
		wfe_reply_limited(r, retry, "too many new accounts from this address");
		goto out;
	}
	wfe_new_id(a.id);
	a.ca_name = r->srv->ca_name;
	a.member_tenant = r->srv->tenant;
	a.jwk = r->jws.jwk;
	a.contact = json_object_get(p, "contact");
	a.contact = a.contact != NULL ? json_incref(a.contact) : json_array();
	a.status = "valid";
	a.created_at = a.updated_at = now;
	if (eab != NULL && !eab_bind(r, eab, &a, &e))
		goto out;
	st = account_store(r, &a, e, &err);
	if (st != ACLM_OK) {
		wfe_reply_err(r, st == ACLM_ERR_EXISTS ? "unauthorized" : NULL, &err);
		goto out;
	}
	wfe_account_key_remember(&a, r->key);
	aclm_log(ACLM_LOG_INFO, "ca: account %s created for %s", a.id, r->peer);
	wfe_url(r, "acct", a.id, loc, sizeof(loc));
	body = account_json(r, &a);
	wfe_reply_json(r, 201, body, loc);
out:
	json_decref(body);
	json_decref(a.contact);
	json_decref(a.allow);
	free(a.eab_kid);
	store_ca_eab_free(e);
	store_ca_account_free(found);
}

/* POST to the account URL: POST-as-GET, a contact update, or deactivation. */
void wfe_account(struct wfe_req *r)
{
	struct store_ca_account *a = r->acct;
	const json_t *p = r->jws.payload;
	const json_t *status = json_object_get(p, "status");
	struct aclm_err err = { 0 };
	json_t *body;
	aclm_status st;

	if (strcmp(r->rest, a->id) != 0) {
		/* "ID/orders" and other accounts' URLs. */
		wfe_reply_problem(r, "unauthorized", "the URL is not this account's");
		return;
	}
	if (p != NULL && json_object_get(p, "contact") != NULL) {
		if (!contacts_ok(r, json_object_get(p, "contact")))
			return;
		json_decref(a->contact);
		a->contact = json_incref(json_object_get(p, "contact"));
	}
	if (status != NULL) {
		if (!json_is_string(status) || strcmp(json_string_value(status), "deactivated") != 0) {
			wfe_reply_problem(r, "malformed", "an account can only be set to \"deactivated\"");
			return;
		}
		free(a->status);
		a->status = strdup("deactivated");
	}
	if (p != NULL && json_object_size(p) > 0) {
		a->updated_at = aclm_time_now();
		st = a->status != NULL ? account_store(r, a, NULL, &err)
				       : aclm_err_set(&err, ACLM_ERR_NOMEM, "out of memory");
		if (st != ACLM_OK) {
			wfe_reply_err(r, NULL, &err);
			return;
		}
	}
	body = account_json(r, a);
	wfe_reply_json(r, 200, body, NULL);
	json_decref(body);
}

/* §7.3.5: the payload is a JWS signed by the new key, with the same url,
 * no nonce, and {"account": our URL, "oldKey": the current JWK}. */
void wfe_key_change(struct wfe_req *r)
{
	struct acme_jws_req inner = { 0 };
	struct store_ca_account *other = NULL;
	struct aclm_err err = { 0 };
	const char *problem = NULL;
	char *text = NULL, acct_url[WFE_BASE_MAX + 64], old_tp[44], new_tp[44];
	EVP_PKEY *newkey = NULL;
	const json_t *ip;
	aclm_status st;

	text = r->jws.payload != NULL ? json_dumps(r->jws.payload, JSON_COMPACT) : NULL;
	if (text == NULL) {
		wfe_reply_problem(r, "malformed", "keyChange needs a JWS payload");
		goto out;
	}
	if (acme_jws_parse(text, strlen(text), &inner, &problem, &err) != ACLM_OK) {
		wfe_reply_err(r, problem != NULL ? problem : "malformed", &err);
		goto out;
	}
	if (inner.jwk == NULL || inner.nonce != NULL || strcmp(inner.url, r->jws.url) != 0) {
		wfe_reply_problem(r, "malformed",
				  "the inner JWS needs a jwk, no nonce and the outer url (RFC 8555 §7.3.5)");
		goto out;
	}
	if (acme_jwk_to_pkey(inner.jwk, &newkey, &err) != ACLM_OK) {
		wfe_reply_err(r, "badPublicKey", &err);
		goto out;
	}
	if (acme_jws_verify(&inner, newkey, &problem, &err) != ACLM_OK) {
		wfe_reply_err(r, problem != NULL ? problem : "malformed", &err);
		goto out;
	}
	ip = inner.payload;
	wfe_url(r, "acct", r->acct->id, acct_url, sizeof(acct_url));
	if (ip == NULL || aclm_json_str(ip, "account") == NULL ||
	    strcmp(aclm_json_str(ip, "account"), r->jws.kid) != 0 ||
	    acme_jwk_thumbprint(json_object_get(ip, "oldKey"), old_tp, &err) != ACLM_OK ||
	    strcmp(old_tp, r->acct->thumbprint) != 0) {
		wfe_reply_problem(r, "malformed",
				  "the inner payload must name this account and its current key");
		goto out;
	}
	if (acme_jwk_thumbprint(inner.jwk, new_tp, &err) != ACLM_OK) {
		wfe_reply_err(r, "badPublicKey", &err);
		goto out;
	}
	st = store_ca_account_find(r->w->store, r->srv->tenant, r->srv->ca_name, new_tp, &other,
				   &err);
	if (st == ACLM_OK) {
		wfe_sync_saw(r, other->id);
		char loc[WFE_BASE_MAX + 64];

		wfe_url(r, "acct", other->id, loc, sizeof(loc));
		wfe_add_header(r, "Location", loc);
		wfe_reply_problem_status(r, "malformed", 409,
					 "the new key already belongs to an account");
		goto out;
	}
	json_decref(r->acct->jwk);
	r->acct->jwk = json_incref(inner.jwk);
	memcpy(r->acct->thumbprint, new_tp, sizeof(new_tp));
	r->acct->updated_at = aclm_time_now();
	if (account_store(r, r->acct, NULL, &err) != ACLM_OK) {
		wfe_reply_err(r, NULL, &err);
		goto out;
	}
	{
		json_t *body = account_json(r, r->acct);

		wfe_reply_json(r, 200, body, NULL);
		json_decref(body);
	}
out:
	free(text);
	acme_jws_req_free(&inner);
	EVP_PKEY_free(newkey);
	store_ca_account_free(other);
}
