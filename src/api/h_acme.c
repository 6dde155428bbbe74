/* api/h_acme: ACME client state of the caller's tenant: the accounts aclm
 * holds at ACME servers (never their keys), the lineages ("orders": names,
 * server, key type, current certificate, when it is due for renewal), and
 * the writes: a new order (an "issue" job), renew now (a "renew" job),
 * revoke the current certificate (at the server, inline). */
#include "api/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "client/client.h"
#include "core/json.h"
#include "crypto/crypto.h"
#include "sched/sched.h"

#define NAMES_MAX 100
#define SERVER_MAX 512
#define PROFILE_MAX 64

/* ---- accounts ---- */

static aclm_status account_row(const struct store_acme_account *a, void *arg)
{
	struct api__idpage *pg = arg;
	json_t *o;

	if (api__idpage_full(pg))
		return ACLM_OK;
	o = json_pack("{s:I, s:s, s:s?, s:O, s:s}", "id", (json_int_t)a->id, "server", a->server,
		      "url", a->url, "contact", a->contact != NULL ? a->contact : json_null(),
		      "status", a->status);
	if (o != NULL && (api__json_time(o, "created_at", a->created_at) != 0 ||
			  api__json_time(o, "updated_at", a->updated_at) != 0)) {
		json_decref(o);
		o = NULL;
	}
	return api__idpage_add(pg, a->id, o);
}

/* In id order; the cursor is the last id shown. */
void api__h_acme_account_list(struct api__req *r)
{
	struct api__idpage pg;
	struct aclm_err err = { 0 };
	aclm_status st;

	if (!api__idpage_begin(r, &pg))
		return;
	st = store_acme_account_page(r->w->store, r->p.tenant_id, pg.after_id, pg.limit + 1,
				     account_row, &pg, &err);
	api__idpage_reply(r, &pg, st, &err);
}

/* ---- orders (lineages) ---- */

/* The lineage with its current certificate and the renewal decision
 * `aclm renew` would take now from what is stored (no ARI question). */
static json_t *order_json(struct api__req *r, const struct store_lineage *l)
{
	const json_t *opt = l->options;
	struct store_cert *c = NULL;
	struct client_renewal ren;
	json_t *o = json_pack("{s:s, s:O, s:s, s:s, s:s?, s:s?, s:s?, s:O?}", "lineage", l->name,
			      "names", l->names != NULL ? l->names : json_null(), "server",
			      l->server, "key_type", l->key_type, "challenge",
			      aclm_json_str(opt, "challenge"), "profile", aclm_json_str(opt, "profile"),
			      "order_state", l->order_state, "ari", json_object_get(opt, "ari"));
	char id[24];

	if (o == NULL)
		return NULL;
	snprintf(id, sizeof(id), "%lld", (long long)l->cert_id);
	json_object_set_new(o, "cert_id", l->cert_id != 0 ? json_string(id) : json_null());
	if (l->cert_id != 0 &&
	    store_cert_get(r->w->store, r->p.tenant_id, l->cert_id, &c, NULL) == ACLM_OK) {
		client_renewal_decide(l, c->not_before, c->not_after, r->now, NULL, &ren);
		api__json_time(o, "not_after", c->not_after);
		json_object_set_new(o, "renewal", json_pack("{s:b, s:b, s:s}", "due", ren.due,
							    "by_ari", ren.by_ari, "why", ren.why));
		api__json_time(json_object_get(o, "renewal"), "due_at", ren.due_at);
	} else {
		json_object_set_new(o, "not_after", json_null());
		json_object_set_new(o, "renewal", json_pack("{s:b, s:s}", "due", true, "why",
							    "no certificate yet"));
	}
	api__json_time(o, "created_at", l->created_at);
	api__json_time(o, "updated_at", l->updated_at);
	store_cert_free(c);
	return o;
}

struct order_list {
	json_t *names;              /* the page's lineage names, in id order */
	int64_t limit, last_id;
	bool more;
};

static aclm_status order_row(const struct store_lineage *l, void *arg)
{
	struct order_list *ol = arg;

	/* Certificates are read after the list: one statement at a time. */
	if ((int64_t)json_array_size(ol->names) == ol->limit) {
		ol->more = true;
		return ACLM_OK;
	}
	if (json_array_append_new(ol->names, json_string(l->name)) != 0)
		return ACLM_ERR_NOMEM;
	ol->last_id = l->id;
	return ACLM_OK;
}

/* In id order; the cursor is the last lineage's id. Each row is read again
 * by name with its certificate: a lineage removed in between is left out. */
void api__h_order_list(struct api__req *r)
{
	struct api__idpage pg;
	struct order_list ol = { .names = json_array() };
	struct aclm_err err = { 0 };
	aclm_status st;
	json_t *v;
	size_t i;

	if (!api__idpage_begin(r, &pg))
		goto out;
	ol.limit = pg.limit;
	st = ol.names == NULL ? ACLM_ERR_NOMEM
			      : store_lineage_page(r->w->store, r->p.tenant_id, pg.after_id,
						   pg.limit + 1, order_row, &ol, &err);
	json_array_foreach(ol.names, i, v) {
		struct store_lineage *l = NULL;

		if (st != ACLM_OK)
			break;
		st = store_lineage_get(r->w->store, r->p.tenant_id, json_string_value(v), &l, &err);
		if (st == ACLM_ERR_NOTFOUND) {
			err = (struct aclm_err){ 0 };
			st = ACLM_OK;
		} else if (st == ACLM_OK) {
			st = api__idpage_add(&pg, l->id, order_json(r, l));
		}
		store_lineage_free(l);
	}
	/* The cursor follows the store's rows, also past a removed last one. */
	pg.last_id = ol.last_id;
	pg.more = ol.more;
	api__idpage_reply(r, &pg, st, &err);
out:
	json_decref(ol.names);
}

/* The path's lineage of the caller's tenant; on failure the answer is sent. */
static bool lineage_of_path(struct api__req *r, struct store_lineage **l)
{
	struct aclm_err err = { 0 };

	*l = NULL;
	if (!client_lineage_name_ok(r->params[0])) {
		api__problem(r, 404, "not-found", "no such order");
		return false;
	}
	if (store_lineage_get(r->w->store, r->p.tenant_id, r->params[0], l, &err) == ACLM_OK)
		return true;
	api__problem_absent(r, &err, "order");
	return false;
}

void api__h_order_get(struct api__req *r)
{
	struct store_lineage *l = NULL;
	json_t *o;

	if (!lineage_of_path(r, &l))
		return;
	o = order_json(r, l);
	if (o == NULL)
		api__problem(r, 500, "internal", "out of memory");
	else
		api__reply_json(r, 200, o);
	store_lineage_free(l);
}

/* A known name or an https:// directory URL (RFC 8555 §6.1: HTTPS). */
static bool server_ok(const char *server)
{
	const char *url = strlen(server) <= SERVER_MAX ? client_server_url(server) : NULL;

	return url != NULL && strncmp(url, "https://", 8) == 0;
}

/* The body of POST /orders as the payload of an "issue" job. */
static json_t *order_payload(struct api__req *r, json_t *body, char *lineage, size_t lineage_len,
			     struct aclm_err *err)
{
	static const char *const challenges[] = { "http-01", "dns-01", "tls-alpn-01" };
	json_t *names = json_object_get(body, "names"), *norm = json_array(), *v;
	const char *server = aclm_json_str(body, "server"), *kt = aclm_json_str(body, "key_type"),
		   *ch = aclm_json_str(body, "challenge"), *profile = aclm_json_str(body, "profile"),
		   *name = aclm_json_str(body, "lineage");
	bool ch_ok = ch == NULL;
	size_t i;

	(void)r;
	if (!json_is_array(names) || json_array_size(names) == 0 ||
	    json_array_size(names) > NAMES_MAX) {
		aclm_err_set(err, ACLM_ERR_INVALID, "names: an array of 1 to %d names", NAMES_MAX);
		goto fail;
	}
	json_array_foreach(names, i, v) {
		char *n = NULL;
		bool is_ip;

		if (json_string_value(v) == NULL || json_string_length(v) > 253 ||
		    client_normalise_name(json_string_value(v), &n, &is_ip, err) != ACLM_OK)
			goto fail_name;
		json_array_append_new(norm, json_string(n));
		free(n);
	}
	for (size_t k = 0; !ch_ok && k < sizeof(challenges) / sizeof(challenges[0]); k++)
		ch_ok = strcmp(ch, challenges[k]) == 0;
	if (!ch_ok || (kt != NULL && crypto_key_type_parse(kt) < 0) ||
	    (server != NULL && !server_ok(server)) ||
	    (profile != NULL && (strlen(profile) == 0 || strlen(profile) > PROFILE_MAX))) {
		aclm_err_set(err, ACLM_ERR_INVALID,
			     "challenge: http-01, dns-01 or tls-alpn-01; key_type: p256, p384, "
			     "rsa2048, ...; server: an https:// directory URL or a known name; "
			     "profile: 1 to %d characters", PROFILE_MAX);
		goto fail;
	}
	if (name != NULL)
		snprintf(lineage, lineage_len, "%s", name);
	else
		client_default_lineage(json_string_value(json_array_get(norm, 0)), lineage,
				       lineage_len);
	if (!client_lineage_name_ok(lineage)) {
		aclm_err_set(err, ACLM_ERR_INVALID, "lineage: one path component, at most 200 bytes");
		goto fail;
	}
	return json_pack("{s:s, s:o, s:s*, s:s*, s:s*, s:s*}", "lineage", lineage, "names", norm,
			 "server", server != NULL ? (client_server_url(server) ?: server) : NULL,
			 "key_type", kt, "challenge", ch, "profile", profile);
fail_name:
	if (err->code == ACLM_OK)
		aclm_err_set(err, ACLM_ERR_INVALID, "names[%zu]: a DNS name or an IP address", i);
fail:
	json_decref(norm);
	return NULL;
}

void api__h_order_create(struct api__req *r)
{
	struct store_lineage *l = NULL;
	struct aclm_err err = { 0 };
	json_t *body = api__body_json(r), *payload = NULL;
	char lineage[256];
	const struct aclm_config *cfg = r->w->srv->o.cfg;
	bool created = false;
	int64_t job = 0;

	if (body == NULL)
		return;
	payload = order_payload(r, body, lineage, sizeof(lineage), &err);
	if (payload == NULL)
		goto fail;
	if (json_object_get(payload, "server") == NULL &&
	    (cfg == NULL || aclm_config_get(cfg, "acme", "server") == NULL)) {
		aclm_err_set(&err, ACLM_ERR_INVALID, "server: required (no [acme] server is set)");
		goto fail;
	}
	if (store_lineage_get(r->w->store, r->p.tenant_id, lineage, &l, &err) == ACLM_OK) {
		api__problem(r, 409, "exists",
			     "order %s exists; POST /api/v1/orders/%s/renew renews it", lineage,
			     lineage);
		goto out;
	}
	if (err.code != ACLM_ERR_NOTFOUND)
		goto fail;
	err = (struct aclm_err){ 0 };
	if (sched_enqueue(r->w->store, r->p.tenant_id, "issue", lineage, payload, r->now, 0, &job,
			  &created, &err) != ACLM_OK ||
	    api__audit(r, "order.create", lineage, payload, &err) != ACLM_OK)
		goto fail;
	api__reply_job(r, job, created);
	goto out;
fail:
	api__problem_err(r, &err);
out:
	store_lineage_free(l);
	json_decref(payload);
	json_decref(body);
}

void api__h_order_renew(struct api__req *r)
{
	struct store_lineage *l = NULL;
	struct aclm_err err = { 0 };
	json_t *payload = NULL;
	bool created = false;
	int64_t job = 0;

	if (!lineage_of_path(r, &l))
		return;
	/* The renew job renews what is current when it was queued, once. */
	payload = json_pack("{s:s, s:I}", "lineage", l->name, "cert_id", (json_int_t)l->cert_id);
	if (payload == NULL)
		aclm_err_set(&err, ACLM_ERR_NOMEM, "out of memory");
	else if (sched_enqueue(r->w->store, r->p.tenant_id, "renew", l->name, payload, r->now, 0,
			       &job, &created, &err) == ACLM_OK &&
		 api__audit(r, "order.renew", l->name, payload, &err) == ACLM_OK)
		api__reply_job(r, job, created);
	if (err.code != ACLM_OK)
		api__problem_err(r, &err);
	json_decref(payload);
	store_lineage_free(l);
}

/* RFC 8555 §7.6 at the lineage's server, with its account; blocking, as
 * `aclm revoke` is: one request and its nonce. */
void api__h_order_revoke(struct api__req *r)
{
	struct store_lineage *l = NULL;
	struct store_cert *c = NULL;
	struct client_conn *conn = NULL;
	struct aclm_err err = { 0 };
	json_t *body = NULL, *detail = NULL;
	const unsigned char *p;
	const char *reason_s = NULL;
	X509 *x = NULL;
	int reason = 0;
	char ids[24];

	if (api__req_header(r, "Content-Type") != NULL && (body = api__body_json(r)) == NULL)
		return;
	reason_s = aclm_json_str(body, "reason");
	if (reason_s != NULL && (reason = client_revocation_reason(reason_s)) < 0) {
		api__problem(r, 400, "invalid", "reason: unspecified, keyCompromise, "
						"affiliationChanged, superseded, cessationOfOperation");
		goto out;
	}
	if (!lineage_of_path(r, &l))
		goto out;
	if (l->cert_id == 0 ||
	    store_cert_get(r->w->store, r->p.tenant_id, l->cert_id, &c, &err) != ACLM_OK) {
		api__problem(r, 409, "no-certificate", "order %s has no current certificate", l->name);
		goto out;
	}
	p = c->der;
	x = d2i_X509(NULL, &p, (long)c->der_len);
	snprintf(ids, sizeof(ids), "%lld", (long long)c->id);
	detail = json_pack("{s:s, s:i}", "cert_id", ids, "reason", reason);
	if (x == NULL)
		aclm_err_set(&err, ACLM_ERR_PARSE, "stored certificate %s does not parse", ids);
	else if (client_renew_conn(&r->inv, l, &conn, &err) == ACLM_OK &&
		 client_revoke(conn, x, reason, &err) == ACLM_OK &&
		 api__audit(r, "order.revoke", l->name, detail, &err) == ACLM_OK)
		api__reply_json(r, 200, json_pack("{s:s, s:s, s:i}", "lineage", l->name, "revoked",
						  ids, "reason", reason));
	/* What the ACME server said is the client's business: 502, not 500. */
	if (err.code != ACLM_OK && (err.code == ACLM_ERR_NOMEM || err.code == ACLM_ERR_DB))
		api__problem_err(r, &err);
	else if (err.code != ACLM_OK)
		api__problem(r, 502, "acme", "revocation failed: %s", err.msg);
out:
	client_conn_close(conn);
	X509_free(x);
	store_cert_free(c);
	store_lineage_free(l);
	json_decref(detail);
	json_decref(body);
}
