/* api/h_admin: tenants (admins of the default tenant), users and tokens of
 * the caller's tenant (admins). Every change is audited; another tenant's
 * user or token answers as an absent one. */
#include "api/api_int.h"

#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "core/time.h"

#include <openssl/crypto.h>

#define NAME_MAX_LEN 64

static bool name_ok(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > NAME_MAX_LEN)
		return false;
	for (const char *p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '_' || *p == '-' || *p == '@'))
			return false;
	return true;
}

static void reply_items(struct api__req *r, aclm_status st, json_t *list,
			const struct aclm_err *err)
{
	if (st != ACLM_OK)
		api__problem_err(r, err);
	else
		api__reply_json(r, 200, json_pack("{s:o, s:n}", "items", list, "next_cursor"));
}

/* ---- tenants ---- */

void api__h_tenant_list(struct api__req *r)
{
	struct aclm_err err = { 0 };
	json_t *list = NULL;
	aclm_status st = auth_tenant_list(r->w->store, &list, &err);

	reply_items(r, st, list, &err);
}

void api__h_tenant_create(struct api__req *r)
{
	struct aclm_err err = { 0 };
	json_t *body = api__body_json(r);
	const char *name = aclm_json_str(body, "name");
	int64_t id = 0;
	aclm_status st;

	if (body == NULL)
		return;
	if (!name_ok(name)) {
		api__problem(r, 400, "invalid", "name: 1 to %d of A-Z a-z 0-9 . _ - @", NAME_MAX_LEN);
		goto out;
	}
	st = store_tenant_find(r->w->store, name, &id, &err);
	if (st == ACLM_OK) {
		api__problem(r, 409, "exists", "tenant %s exists", name);
		goto out;
	}
	if (err.code != ACLM_ERR_NOTFOUND ||
	    store_tenant_ensure(r->w->store, name, &id, &err) != ACLM_OK ||
	    api__audit(r, "tenant.create", name, NULL, &err) != ACLM_OK) {
		api__problem_err(r, &err);
		goto out;
	}
	api__reply_json(r, 201, json_pack("{s:I, s:s}", "id", (json_int_t)id, "name", name));
out:
	json_decref(body);
}

/* ---- users ---- */

void api__h_user_list(struct api__req *r)
{
	struct aclm_err err = { 0 };
	json_t *list = NULL;
	aclm_status st = auth_user_list(r->w->store, r->p.tenant_id, &list, &err);

	reply_items(r, st, list, &err);
}

void api__h_user_create(struct api__req *r)
{
	struct aclm_err err = { 0 };
	json_t *body = api__body_json(r);
	const char *name = aclm_json_str(body, "name"), *role_s = aclm_json_str(body, "role"),
		   *password = aclm_json_str(body, "password");
	enum auth_role role;
	int64_t id = 0;

	if (body == NULL)
		return;
	if (!name_ok(name)) {
		api__problem(r, 400, "invalid", "name: 1 to %d of A-Z a-z 0-9 . _ - @", NAME_MAX_LEN);
		goto out;
	}
	if (auth_role_parse(role_s != NULL ? role_s : "viewer", &role, &err) != ACLM_OK ||
	    auth_user_add(r->w->store, r->p.tenant_id, name, role, password, &id, &err) !=
		    ACLM_OK ||
	    api__audit(r, "user.add", name, NULL, &err) != ACLM_OK) {
		api__problem_err(r, &err);
		goto out;
	}
	api__reply_json(r, 201, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "name", name,
					  "role", auth_role_name(role)));
out:
	json_decref(body);
}

void api__h_user_delete(struct api__req *r)
{
	struct aclm_err err = { 0 };

	if (auth_user_rm(r->w->store, r->p.tenant_id, r->params[0], &err) != ACLM_OK) {
		if (err.code == ACLM_ERR_NOTFOUND || err.code == ACLM_ERR_INVALID)
			api__problem(r, 404, "not-found", "no such user");
		else
			api__problem_err(r, &err);
		return;
	}
	if (api__audit(r, "user.rm", r->params[0], NULL, &err) != ACLM_OK) {
		api__problem_err(r, &err);
		return;
	}
	api__reply_empty(r, 204);
}

/* ---- tokens ---- */

void api__h_token_list(struct api__req *r)
{
	struct aclm_err err = { 0 };
	json_t *list = NULL;
	aclm_status st = auth_token_list(r->w->store, r->p.tenant_id, &list, &err);

	reply_items(r, st, list, &err);
}

static bool token_req(struct api__req *r, json_t *body, struct auth_token_req *t,
		      struct aclm_err *err)
{
	const char *role_s = aclm_json_str(body, "role"), *scope = aclm_json_str(body, "scope");
	int64_t ttl = aclm_json_int(body, "expires_in", 0);

	t->tenant_id = r->p.tenant_id;
	t->name = aclm_json_str(body, "name");
	t->scope = AUTH_SCOPE_API;
	if (t->name == NULL || strlen(t->name) == 0 || strlen(t->name) > 128) {
		aclm_err_set(err, ACLM_ERR_INVALID, "name: 1 to 128 characters");
		return false;
	}
	if (auth_role_parse(role_s != NULL ? role_s : "viewer", &t->role, err) != ACLM_OK)
		return false;
	if (scope != NULL && strcmp(scope, "metrics") == 0)
		t->scope = AUTH_SCOPE_METRICS;
	else if (scope != NULL && strcmp(scope, "api") != 0) {
		aclm_err_set(err, ACLM_ERR_INVALID, "scope: api or metrics");
		return false;
	}
	if (ttl < 0 || ttl > 10LL * 366 * 86400) {
		aclm_err_set(err, ACLM_ERR_INVALID, "expires_in: seconds, at most 10 years");
		return false;
	}
	t->expires_at = ttl > 0 ? r->now + ttl : 0;
	return true;
}

void api__h_token_create(struct api__req *r)
{
	struct auth_token_req t = { 0 };
	struct aclm_err err = { 0 };
	char token[AUTH_TOKEN_MAX], id[32];
	json_t *body = api__body_json(r), *detail = NULL;

	if (body == NULL)
		return;
	if (!token_req(r, body, &t, &err)) {
		api__problem_err(r, &err);
		goto out;
	}
	detail = json_pack("{s:s, s:s}", "role", auth_role_name(t.role), "scope",
			   auth_scope_name(t.scope));
	if (auth_token_create(r->w->store, &t, token, id, &err) != ACLM_OK ||
	    api__audit(r, "token.create", id, detail, &err) != ACLM_OK) {
		api__problem_err(r, &err);
		goto out;
	}
	api__reply_json(r, 201, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "id", id, "token", token,
					  "name", t.name, "role", auth_role_name(t.role), "scope",
					  auth_scope_name(t.scope), "expires_at",
					  (json_int_t)t.expires_at));
	OPENSSL_cleanse(token, sizeof(token));
out:
	json_decref(detail);
	json_decref(body);
}

void api__h_token_revoke(struct api__req *r)
{
	struct aclm_err err = { 0 };

	if (auth_token_revoke(r->w->store, r->p.tenant_id, r->params[0], r->now, &err) != ACLM_OK) {
		if (err.code == ACLM_ERR_NOTFOUND || err.code == ACLM_ERR_INVALID)
			api__problem(r, 404, "not-found", "no such token");
		else
			api__problem_err(r, &err);
		return;
	}
	if (api__audit(r, "token.revoke", r->params[0], NULL, &err) != ACLM_OK) {
		api__problem_err(r, &err);
		return;
	}
	api__reply_empty(r, 204);
}
