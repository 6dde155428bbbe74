/* Users of a tenant: add, password, remove, list, and password login. */
#include "auth/auth_int.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/json.h"

#define USER_NAME_MAX 64

aclm_status auth__user_name_check(const char *name, struct aclm_err *err)
{
	size_t len = name != NULL ? strnlen(name, USER_NAME_MAX + 1) : 0;

	if (len == 0 || len > USER_NAME_MAX ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@-") != len)
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "a user name has 1 to %d of the characters A-Z a-z 0-9 . _ @ -",
				    USER_NAME_MAX);
	return ACLM_OK;
}

aclm_status auth_user_add(struct store *s, int64_t tenant_id, const char *name,
			  enum auth_role role, const char *password, int64_t *id,
			  struct aclm_err *err)
{
	struct store_user u = { .tenant_id = tenant_id };
	aclm_status ret = auth__user_name_check(name, err);

	if (ret == ACLM_OK && !auth__role_known(role))
		ret = aclm_err_set(err, ACLM_ERR_INVALID, "user %s: unknown role", name);
	if (ret == ACLM_OK && password != NULL)
		ret = auth_password_hash(password, u.password_hash, err);
	if (ret == ACLM_OK) {
		snprintf(u.name, sizeof(u.name), "%s", name);
		snprintf(u.role, sizeof(u.role), "%s", auth_role_name(role));
		ret = store_user_add(s, &u, id, err);
	}
	return ret;
}

aclm_status auth_user_passwd(struct store *s, int64_t tenant_id, const char *name,
			     const char *password, struct aclm_err *err)
{
	char hash[AUTH_HASH_MAX] = "";
	aclm_status ret = auth__user_name_check(name, err);

	/* Hash first: a NULL password clears it (the user keeps its tokens). */
	if (ret == ACLM_OK && password != NULL)
		ret = auth_password_hash(password, hash, err);
	if (ret == ACLM_OK)
		ret = store_user_set_password(s, tenant_id, name, password != NULL ? hash : NULL, err);
	return ret;
}

aclm_status auth_user_rm(struct store *s, int64_t tenant_id, const char *name,
			 struct aclm_err *err)
{
	aclm_status ret = auth__user_name_check(name, err);

	if (ret == ACLM_OK)
		ret = store_user_delete(s, tenant_id, name, err);
	return ret;
}

/* A store_user_cb appending the row's JSON (never the hash) to arg. */
static aclm_status user_json(const struct store_user *u, void *arg)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:b, s:b}", "id", (json_int_t)u->id, "name", u->name,
			      "role", u->role, "has_password", u->password_hash[0] != '\0',
			      "disabled", u->disabled);

	if (o == NULL)
		return ACLM_ERR_NOMEM;
	if (auth__json_time(o, "created_at", u->created_at) != 0) {
		json_decref(o);
		return ACLM_ERR_NOMEM;
	}
	return json_array_append_new(arg, o) == 0 ? ACLM_OK : ACLM_ERR_NOMEM;
}

aclm_status auth_user_list(struct store *s, int64_t tenant_id, json_t **out,
			   struct aclm_err *err)
{
	json_t *list = json_array();
	aclm_status ret = list != NULL ? store_user_list(s, tenant_id, user_json, list, err)
				       : ACLM_ERR_NOMEM;

	if (ret == ACLM_ERR_NOMEM)
		aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory listing users");
	if (ret != ACLM_OK) {
		json_decref(list);
		list = NULL;
	}
	*out = list;
	return ret;
}

/* The user behind a login, or false; a store failure other than "not
 * found" is returned through *ret. */
static bool login_user(struct store *s, const char *tenant, const char *name,
		       int64_t *tenant_id, struct store_user *u, aclm_status *ret,
		       struct aclm_err *err)
{
	*ret = store_tenant_find(s, tenant, tenant_id, err);
	if (*ret == ACLM_OK)
		*ret = auth__user_name_check(name, err) == ACLM_OK
			       ? store_user_get(s, *tenant_id, name, u, err)
			       : ACLM_ERR_NOTFOUND;
	if (*ret == ACLM_ERR_NOTFOUND || *ret == ACLM_ERR_INVALID)
		*ret = ACLM_OK;
	else if (*ret == ACLM_OK)
		return true;
	return false;
}

aclm_status auth_login(struct store *s, const char *tenant, const char *name,
		       const char *password, struct auth_principal *p, struct aclm_err *err)
{
	struct store_user u;
	int64_t tenant_id = 0;
	enum auth_role role;
	aclm_status ret = ACLM_OK;
	bool ok = login_user(s, tenant, name, &tenant_id, &u, &ret, err);

	memset(p, 0, sizeof(*p));
	if (ret != ACLM_OK)
		goto out;
	/* Every path does one argon2id run: the time does not tell whether
	 * the tenant or user exists or has a password. */
	if (ok && u.password_hash[0] != '\0')
		ok = auth_password_verify(u.password_hash, password);
	else
		ok = (auth__password_burn(password), false);
	ok = ok && !u.disabled && auth__role_from(u.role, &role);
	if (!ok) {
		ret = aclm_err_set(err, ACLM_ERR_PASSWORD, AUTH__LOGIN_FAIL);
		goto out;
	}
	p->tenant_id = tenant_id;
	snprintf(p->tenant, sizeof(p->tenant), "%s", tenant);
	p->role = role;
	p->scope = AUTH_SCOPE_API;
	p->user_id = u.id;
	snprintf(p->actor, sizeof(p->actor), "api:user:%s", u.name);
out:
	OPENSSL_cleanse(u.password_hash, sizeof(u.password_hash));
	return ret;
}
