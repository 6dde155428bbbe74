/* ACME accounts (RFC 8555 §7.3): found in the store, or registered. */
#include "client/client_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/log.h"
#include "core/time.h"

const char *client_account_url(const struct client_conn *c)
{
	return c->kid;
}

const char *client_account_key_alg(enum crypto_key_type t)
{
	switch (t) {
	case CRYPTO_KEY_P256: return "ES256";
	case CRYPTO_KEY_P384: return "ES384";
	case CRYPTO_KEY_RSA2048:
	case CRYPTO_KEY_RSA3072:
	case CRYPTO_KEY_RSA4096: return "RS256";
	case CRYPTO_KEY_ED25519: return "EdDSA";
	default: return NULL; /* SM2: no JWS algorithm exists */
	}
}

/* The type a new account key gets: --account-key-type, else P-256 (ES256,
 * which every ACME CA accepts). */
static enum crypto_key_type new_key_type(const struct client_conn *c, int current)
{
	if (c->opts.account_key_type_set)
		return c->opts.account_key_type;
	return current >= 0 ? (enum crypto_key_type)current : CRYPTO_KEY_P256;
}

/* RFC 8555 §6.2: a server refusing the key's algorithm (badSignatureAlgorithm,
 * which lists the server's own: the problem line names them) or the key
 * itself (badPublicKey: Pebble's answer to Ed25519): name the option that
 * picks another key. */
static void hint_signature_algorithm(const struct http_response *resp, aclm_status st,
				     struct aclm_err *err)
{
	char msg[ACLM_ERR_MSG_MAX];

	if (!client__answer_is_problem(resp, "badSignatureAlgorithm") &&
	    !client__answer_is_problem(resp, "badPublicKey"))
		return;
	snprintf(msg, sizeof(msg), "%s", err->msg);
	aclm_err_set(err, st, "%s; choose the account key with --account-key-type (p256 = ES256, "
		     "p384 = ES384, rsa2048 = RS256, ed25519 = EdDSA)", msg);
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
	enum crypto_key_type type = new_key_type(c, -1);
	aclm_status st = account_check_preconditions(c, err);

	if (st == ACLM_OK && client_account_key_alg(type) == NULL)
		st = aclm_err_set(err, ACLM_ERR_USAGE, "account key type %s has no JWS algorithm",
				  crypto_key_type_name(type));
	if (st == ACLM_OK)
		st = keystore_create(c->inv->ks, c->inv->tenant_id, type, key_id, err);
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
	if (st == ACLM_OK && (st = client_post(c, c->dir.new_account, payload, "newAccount", &resp,
					       err)) != ACLM_OK)
		hint_signature_algorithm(&resp, st, err);
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
		log_info("registered account %s at %s (%s key, %s)", c->kid, c->server,
			 crypto_key_type_name(type), c->alg);
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
	/* The account keeps its key: signing with another type silently would
	 * not be what was asked for, and a new account would orphan the old. */
	if (st == ACLM_OK && c->opts.account_key_type_set &&
	    c->key_type != (int)c->opts.account_key_type)
		st = aclm_err_set(err, ACLM_ERR_EXISTS,
				  "the account at %s (%s) signs with a key of type %s (%s); "
				  "--account-key-type %s "
				  "applies to new accounts: `aclm account rollover --account-key-type "
				  "%s` changes the key", c->server, c->kid,
				  crypto_key_type_name((enum crypto_key_type)c->key_type), c->alg,
				  crypto_key_type_name(c->opts.account_key_type),
				  crypto_key_type_name(c->opts.account_key_type));
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

const char *client_account_key_id(const struct client_conn *c)
{
	return c->key_id;
}

int client_account_key_type(const struct client_conn *c)
{
	return c->key_type;
}

/* The id of the newest stored account at a server, whatever its status. */
struct newest_account {
	const char *server;
	int64_t id;
};

static aclm_status newest_at_server(const struct store_acme_account *a, void *arg)
{
	struct newest_account *n = arg;

	if (strcmp(a->server, n->server) == 0 && a->id > n->id)
		n->id = a->id;
	return ACLM_OK;
}

/* The valid account, else the newest row at the server (show reports on a
 * deactivated account too); *row is the store's copy of it. */
static aclm_status account_any(struct client_conn *c, struct store_acme_account **row,
			       struct aclm_err *err)
{
	struct newest_account newest = { c->server, 0 };
	aclm_status st = client_account_use_existing(c, err);

	*row = NULL;
	if (st == ACLM_ERR_NOTFOUND) {
		aclm_err_clear(err);
		st = store_acme_account_list(c->inv->store, c->inv->tenant_id, newest_at_server,
					     &newest, err);
		if (st == ACLM_OK && newest.id == 0)
			return aclm_err_set(err, ACLM_ERR_NOTFOUND, "no ACME account at %s", c->server);
		if (st == ACLM_OK)
			st = store_acme_account_get(c->inv->store, c->inv->tenant_id, newest.id, row, err);
		if (st == ACLM_OK && (*row)->url == NULL)
			st = aclm_err_set(err, ACLM_ERR_INTERNAL, "account %lld has no URL",
					  (long long)newest.id);
		if (st == ACLM_OK && (c->kid = strdup((*row)->url)) == NULL)
			st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
		if (st == ACLM_OK) {
			c->account_id = newest.id;
			st = client__use_key(c, (*row)->key_id, err);
		}
		return st;
	}
	if (st == ACLM_OK)
		st = store_acme_account_get(c->inv->store, c->inv->tenant_id, c->account_id, row, err);
	return st;
}

aclm_status client_account_show(struct client_conn *c, json_t **out, struct aclm_err *err)
{
	struct store_acme_account *row = NULL;
	struct http_response resp = { 0 };
	char created[ACLM_TIME_RFC3339_LEN];
	json_t *acct = NULL, *o = NULL;
	aclm_status st = account_any(c, &row, err);

	*out = NULL;
	if (st != ACLM_OK)
		goto out;
	o = json_pack("{s:I, s:s, s:s, s:s, s:O, s:s, s:s, s:s, s:s, s:s}", "id",
		      (json_int_t)row->id, "server", row->server, "url", row->url, "status",
		      row->status, "contact", row->contact, "key_id", row->key_id, "key_type",
		      crypto_key_type_name((enum crypto_key_type)c->key_type), "alg", c->alg,
		      "created", aclm_time_fmt(row->created_at, created), "stored_status",
		      row->status);
	if (o == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
		goto out;
	}
	*out = o;
	/* RFC 8555 §7.3.3: POST-as-GET to the account URL returns the account. */
	st = client_get_json(c, c->kid, "account", &acct, &resp, err);
	if (st != ACLM_OK)
		goto out;
	if (json_is_string(json_object_get(acct, "status")))
		json_object_set(o, "status", json_object_get(acct, "status"));
	if (json_is_array(json_object_get(acct, "contact")))
		json_object_set(o, "contact", json_object_get(acct, "contact"));
	else if (json_is_object(acct))
		json_object_set_new(o, "contact", json_array()); /* §7.1.2: absent = none */
out:
	json_decref(acct);
	store_acme_account_free(row);
	http_response_free(&resp);
	return st;
}

/* Stores row again with status (and the rest unchanged). */
static aclm_status account_set_status(struct client_conn *c, int64_t id, const char *status,
				      struct aclm_err *err)
{
	struct store_acme_account *row = NULL;
	int64_t same;
	aclm_status st = store_acme_account_get(c->inv->store, c->inv->tenant_id, id, &row, err);

	if (st == ACLM_OK) {
		free(row->status);
		row->status = strdup(status);
		st = row->status != NULL ? store_acme_account_put(c->inv->store, row, &same, err)
					 : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	}
	store_acme_account_free(row);
	return st;
}

aclm_status client_account_deactivate(struct client_conn *c, struct aclm_err *err)
{
	struct http_response resp = { 0 };
	json_t *payload = json_pack("{s:s}", "status", "deactivated"), *acct = NULL;
	aclm_status st = client_account_use_existing(c, err);

	/* RFC 8555 §7.3.6: the client asks, the server answers with the account. */
	if (st == ACLM_OK)
		st = client_post(c, c->kid, payload, "deactivate account", &resp, err);
	if (st == ACLM_OK)
		st = aclm_json_parse((const char *)resp.body.data, resp.body.len, CLIENT_MAX_BODY,
				     "deactivate account", &acct, err);
	if (st == ACLM_OK && !aclm_json_str(acct, "status"))
		st = aclm_err_set(err, ACLM_ERR_PARSE, "deactivate account: no status in the answer");
	if (st == ACLM_OK && strcmp(aclm_json_str(acct, "status"), "deactivated") != 0)
		st = aclm_err_set(err, ACLM_ERR_PARSE, "deactivate account: %s answered status %s",
				  c->kid, aclm_json_str(acct, "status"));
	if (st == ACLM_OK)
		st = account_set_status(c, c->account_id, "deactivated", err);
	if (st == ACLM_OK) {
		log_info("deactivated account %s at %s", c->kid, c->server);
		/* Forget it: the next client_account_ensure registers anew. */
		free(c->kid);
		c->kid = NULL;
		c->account_id = 0;
	}
	json_decref(payload);
	json_decref(acct);
	http_response_free(&resp);
	return st;
}

/* Signs with a keystore key that is not the connection's (the keyChange
 * inner JWS, signed by the new key). */
struct other_key {
	struct client_conn *c;
	const char *key_id;
};

static aclm_status other_key_sign(void *arg, const unsigned char *msg, size_t len,
				  unsigned char **sig, size_t *siglen, struct aclm_err *err)
{
	const struct other_key *k = arg;

	return keystore_sign(k->c->inv->ks, k->c->inv->tenant_id, k->key_id, NULL, NULL, msg, len,
			     sig, siglen, err);
}

/* The new row, then the old one retired. The store identifies an account
 * row by (tenant, server, key_id) (store_acme_account_put upserts on it),
 * so the key cannot change in place: the account URL gets a row with the
 * new key (status valid) and the old key's row is set deactivated, which
 * keeps store_acme_account_find (newest valid) off the retired key. Putting
 * the new row first means a crash in between still leaves the new key as
 * the newest valid row. Lineages keep the old row's id until their next
 * issuance; renewals look the account up by server, not by id. */
static aclm_status rollover_store(struct client_conn *c, const char *new_key_id,
				  struct aclm_err *err)
{
	struct store_acme_account *old = NULL;
	struct store_acme_account row;
	int64_t id = 0;
	aclm_status st = store_acme_account_get(c->inv->store, c->inv->tenant_id, c->account_id,
						&old, err);

	if (st != ACLM_OK)
		return st;
	row = *old;
	row.id = 0;
	row.key_id = (char *)new_key_id;
	row.status = (char *)"valid";
	st = store_acme_account_put(c->inv->store, &row, &id, err);
	if (st == ACLM_OK)
		st = account_set_status(c, old->id, "deactivated", err);
	if (st == ACLM_OK)
		c->account_id = id;
	store_acme_account_free(old);
	return st;
}

aclm_status client_account_rollover(struct client_conn *c, struct aclm_err *err)
{
	char new_id[KEYSTORE_ID_MAX];
	struct other_key k = { .c = c, .key_id = new_id };
	struct acme_signer inner_signer = { .sign = other_key_sign, .arg = &k };
	struct http_response resp = { 0 };
	EVP_PKEY *key = NULL;
	json_t *new_jwk = NULL, *payload = NULL, *inner = NULL;
	enum crypto_key_type type = CRYPTO_KEY_P256;
	aclm_status st = client_account_use_existing(c, err);

	if (st == ACLM_OK && c->dir.key_change == NULL)
		st = aclm_err_set(err, ACLM_ERR_UNSUPPORTED, "%s offers no keyChange", c->server);
	if (st == ACLM_OK && client_account_key_alg(type = new_key_type(c, c->key_type)) == NULL)
		st = aclm_err_set(err, ACLM_ERR_USAGE, "account key type %s has no JWS algorithm",
				  crypto_key_type_name(type));
	if (st == ACLM_OK)
		st = keystore_create(c->inv->ks, c->inv->tenant_id, type, new_id, err);
	if (st == ACLM_OK)
		st = keystore_pkey(c->inv->ks, c->inv->tenant_id, new_id, &key, err);
	if (st == ACLM_OK)
		st = acme_jwk_from_pkey(key, &new_jwk, err);
	if (st != ACLM_OK)
		goto out;
	inner_signer.alg = acme_jws_alg(key);
	inner_signer.jwk = new_jwk;
	/* RFC 8555 §7.3.5: the inner JWS is signed by the new key, carries its
	 * jwk and no nonce, and names the account and the old key; the outer one
	 * is an ordinary request signed by the old key (client_post). */
	payload = json_pack("{s:s, s:O}", "account", c->kid, "oldKey", c->jwk);
	st = payload != NULL ? acme_jws_sign_obj(&inner_signer, c->dir.key_change, NULL, payload,
						 &inner, err)
			     : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	if (st == ACLM_OK && (st = client_post(c, c->dir.key_change, inner, "keyChange", &resp,
					       err)) != ACLM_OK)
		hint_signature_algorithm(&resp, st, err);
	if (st == ACLM_OK)
		st = rollover_store(c, new_id, err);
	if (st == ACLM_OK)
		st = client__use_key(c, new_id, err);
	if (st == ACLM_OK)
		log_info("account %s at %s now signs with key %s (%s, %s)", c->kid, c->server, new_id,
			 crypto_key_type_name(type), c->alg);
out:
	EVP_PKEY_free(key);
	json_decref(new_jwk);
	json_decref(payload);
	json_decref(inner);
	http_response_free(&resp);
	return st;
}
