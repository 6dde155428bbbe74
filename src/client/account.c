/* ACME accounts (RFC 8555 §7.3): found in the store, or registered. */
#include "client/client_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/log.h"
#include "core/time.h"

int64_t client_account_id(const struct client_conn *c)
{
	return c->account_id;
}

const char *client_account_url(const struct client_conn *c)
{
	return c->kid;
}

static json_t *account_payload(struct client_conn *c, json_t **eab_out, struct aclm_err *err)
{
	json_t *p = json_object();

	*eab_out = NULL;
	if (c->opts.agree_tos)
		aclm_json_set_bool(p, "termsOfServiceAgreed", true);
	if (c->opts.email != NULL) {
		char contact[512];

		snprintf(contact, sizeof(contact), "mailto:%s", c->opts.email);
		json_object_set_new(p, "contact", json_pack("[s]", contact));
	}
	/* RFC 8555 §7.3.4: the binding signs our public JWK with the CA's MAC key. */
	if (c->opts.eab_kid != NULL &&
	    acme_eab_jws(c->opts.eab_kid, c->opts.eab_key, c->opts.eab_keylen, c->jwk,
			 c->dir.new_account, eab_out, err) == ACLM_OK)
		json_object_set(p, "externalAccountBinding", *eab_out);
	return p;
}

static aclm_status account_check_preconditions(struct client_conn *c, struct aclm_err *err)
{
	if (c->dir.terms_of_service != NULL && !c->opts.agree_tos)
		return aclm_err_set(err, ACLM_ERR_USAGE,
				    "%s has terms of service (%s): read them and add --agree-tos",
				    c->server, c->dir.terms_of_service);
	if (c->dir.external_account_required && c->opts.eab_kid == NULL)
		return aclm_err_set(err, ACLM_ERR_USAGE,
				    "%s requires External Account Binding: add --eab-kid and --eab-hmac-key-file",
				    c->server);
	return ACLM_OK;
}

aclm_status client_account_register(struct client_conn *c, struct aclm_err *err)
{
	struct store_acme_account row = { .tenant_id = c->inv->tenant_id };
	struct http_response resp = { 0 };
	json_t *payload = NULL, *eab = NULL;
	char key_id[KEYSTORE_ID_MAX];
	aclm_status st = account_check_preconditions(c, err);

	if (st == ACLM_OK)
		st = keystore_create(c->inv->ks, c->inv->tenant_id, CRYPTO_KEY_P256, key_id, err);
	if (st == ACLM_OK) {
		free(c->kid);
		c->kid = NULL; /* newAccount is signed with the jwk (§6.2) */
		st = client__use_key(c, key_id, err);
	}
	if (st == ACLM_OK) {
		payload = account_payload(c, &eab, err);
		if (c->opts.eab_kid != NULL && eab == NULL)
			st = err->code;
	}
	if (st == ACLM_OK)
		st = client_post(c, c->dir.new_account, payload, "newAccount", &resp, err);
	if (st == ACLM_OK && resp.location == NULL)
		st = aclm_err_set(err, ACLM_ERR_PARSE, "newAccount: no Location in the answer");
	if (st != ACLM_OK)
		goto out;
	c->kid = strdup(resp.location);
	row.server = c->server;
	row.key_id = key_id;
	row.url = c->kid;
	row.contact = json_incref(json_object_get(payload, "contact"));
	if (row.contact == NULL)
		row.contact = json_array();
	row.status = "valid";
	row.created_at = row.updated_at = aclm_time_now();
	st = store_acme_account_put(c->inv->store, &row, &c->account_id, err);
	json_decref(row.contact);
	if (st == ACLM_OK)
		log_info("registered account %s at %s", c->kid, c->server);
out:
	json_decref(payload);
	json_decref(eab);
	http_response_free(&resp);
	return st;
}

aclm_status client_account_ensure(struct client_conn *c, struct aclm_err *err)
{
	aclm_status st = client_account_use_existing(c, err);

	if (st == ACLM_ERR_NOTFOUND) {
		aclm_err_clear(err);
		return client_account_register(c, err);
	}
	return st;
}

aclm_status client_account_use_existing(struct client_conn *c, struct aclm_err *err)
{
	struct store_acme_account *a = NULL;
	aclm_status st;

	if (c->kid != NULL)
		return ACLM_OK;
	st = store_acme_account_find(c->inv->store, c->inv->tenant_id, c->server, &a, err);
	if (st == ACLM_OK && a->url == NULL)
		st = aclm_err_set(err, ACLM_ERR_INTERNAL, "account %lld has no URL", (long long)a->id);
	if (st == ACLM_OK) {
		c->kid = strdup(a->url);
		c->account_id = a->id;
		st = client__use_key(c, a->key_id, err);
	}
	store_acme_account_free(a);
	return st;
}
