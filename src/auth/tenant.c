/* Tenants as auth/ shows them, the first start's admin (auth_bootstrap),
 * and the time fields the listings share. */
#include "auth/auth_int.h"

#include <string.h>

#include <openssl/crypto.h>

#include "core/json.h"
#include "core/time.h"

#define DEFAULT_TENANT "default"

int auth__json_time(json_t *o, const char *key, int64_t t)
{
	char ts[ACLM_TIME_RFC3339_LEN];

	return t != 0 ? aclm_json_set_str(o, key, aclm_time_fmt(t, ts))
		      : aclm_json_set_new(o, key, json_null());
}

/* A store_tenant_cb appending the row's JSON to arg. */
static aclm_status tenant_json(const struct store_tenant *t, void *arg)
{
	json_t *o = json_pack("{s:I, s:s}", "id", (json_int_t)t->id, "name", t->name);

	if (o == NULL)
		return ACLM_ERR_NOMEM;
	if (auth__json_time(o, "created_at", t->created_at) != 0) {
		json_decref(o);
		return ACLM_ERR_NOMEM;
	}
	return json_array_append_new(arg, o) == 0 ? ACLM_OK : ACLM_ERR_NOMEM;
}

aclm_status auth_tenant_list(struct store *s, json_t **out, struct aclm_err *err)
{
	json_t *list = json_array();
	aclm_status ret = list != NULL ? store_tenant_list(s, tenant_json, list, err)
				       : ACLM_ERR_NOMEM;

	if (ret == ACLM_ERR_NOMEM)
		aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory listing tenants");
	if (ret != ACLM_OK) {
		json_decref(list);
		list = NULL;
	}
	*out = list;
	return ret;
}

/* The user and its token in the caller's transaction. */
static aclm_status bootstrap_admin(struct store *s, int64_t tenant, const char *admin_name,
				   char token[AUTH_TOKEN_MAX], struct aclm_err *err)
{
	struct auth_token_req req = { .tenant_id = tenant, .name = "bootstrap",
				      .role = AUTH_ROLE_ADMIN, .scope = AUTH_SCOPE_API };
	char id[32];
	aclm_status ret = auth_user_add(s, tenant, admin_name, AUTH_ROLE_ADMIN, NULL, &req.user_id,
					err);

	if (ret == ACLM_OK)
		ret = auth_token_create(s, &req, token, id, err);
	return ret;
}

aclm_status auth_bootstrap(struct store *s, const char *admin_name, char token[AUTH_TOKEN_MAX],
			   bool *created, struct aclm_err *err)
{
	int64_t tenant = 0, users = -1;
	bool in_tx;
	aclm_status ret;

	*created = false;
	token[0] = '\0';
	ret = store_begin(s, err);
	in_tx = ret == ACLM_OK;
	if (ret == ACLM_OK)
		ret = store_tenant_ensure(s, DEFAULT_TENANT, &tenant, err);
	if (ret == ACLM_OK)
		ret = store_user_count(s, tenant, &users, err);
	if (ret == ACLM_OK && users == 0)
		ret = bootstrap_admin(s, tenant, admin_name, token, err);
	if (ret == ACLM_OK)
		ret = store_commit(s, err);
	if (ret != ACLM_OK) {
		if (in_tx)
			store_rollback(s);
		OPENSSL_cleanse(token, AUTH_TOKEN_MAX);
		token[0] = '\0';
	}
	*created = ret == ACLM_OK && users == 0;
	return ret;
}
