/* The auth area's store_* calls: forward to the backend's auth table
 * (store_auth.h), or say the backend lacks it. */
#include "store/store_auth.h"

#include "store/store_int.h"

static const struct store_auth_ops *area(const struct store *s)
{
	return store__ops(s)->auth;
}

/* A backend without the area, or without this entry of it. */
#define MISSING(s, entry) (area(s) == NULL || area(s)->entry == NULL)

aclm_status store_user_add(struct store *s, const struct store_user *u, int64_t *id,
			   struct aclm_err *err)
{
	if (MISSING(s, user_add))
		return store__unsupported(s, "users", err);
	return store__leave(s, area(s)->user_add(store__enter(s), u, id, err));
}

aclm_status store_user_get(struct store *s, int64_t tenant, const char *name,
			   struct store_user *out, struct aclm_err *err)
{
	if (MISSING(s, user_get))
		return store__unsupported(s, "users", err);
	return store__leave(s, area(s)->user_get(store__enter(s), tenant, name, out, err));
}

aclm_status store_user_set_password(struct store *s, int64_t tenant, const char *name,
				    const char *password_hash, struct aclm_err *err)
{
	if (MISSING(s, user_set_password))
		return store__unsupported(s, "users", err);
	return store__leave(s, area(s)->user_set_password(store__enter(s), tenant, name, password_hash, err));
}

aclm_status store_user_delete(struct store *s, int64_t tenant, const char *name,
			      struct aclm_err *err)
{
	if (MISSING(s, user_delete))
		return store__unsupported(s, "users", err);
	return store__leave(s, area(s)->user_delete(store__enter(s), tenant, name, err));
}

aclm_status store_user_list(struct store *s, int64_t tenant, store_user_cb cb, void *arg,
			    struct aclm_err *err)
{
	if (MISSING(s, user_list))
		return store__unsupported(s, "users", err);
	return store__leave(s, area(s)->user_list(store__enter(s), tenant, cb, arg, err));
}

aclm_status store_user_count(struct store *s, int64_t tenant, int64_t *count,
			     struct aclm_err *err)
{
	if (MISSING(s, user_count))
		return store__unsupported(s, "users", err);
	return store__leave(s, area(s)->user_count(store__enter(s), tenant, count, err));
}

aclm_status store_token_add(struct store *s, const struct store_api_token *t,
			    struct aclm_err *err)
{
	if (MISSING(s, token_add))
		return store__unsupported(s, "API tokens", err);
	return store__leave(s, area(s)->token_add(store__enter(s), t, err));
}

aclm_status store_token_find(struct store *s, const char *id, struct store_api_token *out,
			     struct aclm_err *err)
{
	if (MISSING(s, token_find))
		return store__unsupported(s, "API tokens", err);
	return store__leave(s, area(s)->token_find(store__enter(s), id, out, err));
}

aclm_status store_token_touch(struct store *s, int64_t tenant, const char *id, int64_t now,
			      struct aclm_err *err)
{
	if (MISSING(s, token_touch))
		return store__unsupported(s, "API tokens", err);
	return store__leave(s, area(s)->token_touch(store__enter(s), tenant, id, now, err));
}

aclm_status store_token_revoke(struct store *s, int64_t tenant, const char *id, int64_t now,
			       struct aclm_err *err)
{
	if (MISSING(s, token_revoke))
		return store__unsupported(s, "API tokens", err);
	return store__leave(s, area(s)->token_revoke(store__enter(s), tenant, id, now, err));
}

aclm_status store_token_list(struct store *s, int64_t tenant, store_api_token_cb cb, void *arg,
			     struct aclm_err *err)
{
	if (MISSING(s, token_list))
		return store__unsupported(s, "API tokens", err);
	return store__leave(s, area(s)->token_list(store__enter(s), tenant, cb, arg, err));
}

aclm_status store_session_add(struct store *s, const struct store_session *se,
			      struct aclm_err *err)
{
	if (MISSING(s, session_add))
		return store__unsupported(s, "sessions", err);
	return store__leave(s, area(s)->session_add(store__enter(s), se, err));
}

aclm_status store_session_find(struct store *s, const char *id_hash, struct store_session *out,
			       struct aclm_err *err)
{
	if (MISSING(s, session_find))
		return store__unsupported(s, "sessions", err);
	return store__leave(s, area(s)->session_find(store__enter(s), id_hash, out, err));
}

aclm_status store_session_delete(struct store *s, const char *id_hash, struct aclm_err *err)
{
	if (MISSING(s, session_delete))
		return store__unsupported(s, "sessions", err);
	return store__leave(s, area(s)->session_delete(store__enter(s), id_hash, err));
}

aclm_status store_tenant_list(struct store *s, store_tenant_cb cb, void *arg,
			      struct aclm_err *err)
{
	if (MISSING(s, tenant_list))
		return store__unsupported(s, "listing tenants", err);
	return store__leave(s, area(s)->tenant_list(store__enter(s), cb, arg, err));
}
