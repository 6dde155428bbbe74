/* API tokens: "aclm_" ID "_" SECRET. The ID (8 random bytes, hex) is the
 * row's key and is looked up; only SHA-256 of the SECRET (32 random bytes,
 * base64url) is stored, and compared in constant time. SHA-256 rather than
 * argon2id: the secret has 256 bits of entropy, so a slow hash adds nothing
 * but per-request cost. */
#include "auth/auth_int.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/json.h"
#include "core/log.h"
#include "core/time.h"

#define PREFIX "aclm_"
#define PREFIX_LEN 5
#define ID_BYTES 8
#define ID_LEN (2 * ID_BYTES)
#define SECRET_BYTES 32
#define TOKEN_LEN (PREFIX_LEN + ID_LEN + 1 + AUTH__SECRET_B64_LEN)
#define TOKEN_NAME_MAX 128

_Static_assert(TOKEN_LEN < AUTH_TOKEN_MAX, "AUTH_TOKEN_MAX holds a token");
_Static_assert(ID_LEN < sizeof(((struct auth_principal *)0)->token_id), "token_id holds an id");

static bool lower_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Strict: exact length, prefix, lowercase hex id, separator, base64url
 * secret; reads at most TOKEN_LEN + 1 bytes of token. */
static bool token_split(const char *token, char id[ID_LEN + 1], const char **secret)
{
	if (token == NULL || strnlen(token, TOKEN_LEN + 1) != TOKEN_LEN ||
	    memcmp(token, PREFIX, PREFIX_LEN) != 0 || !lower_hex(token + PREFIX_LEN, ID_LEN) ||
	    token[PREFIX_LEN + ID_LEN] != '_' ||
	    !auth__is_b64url(token + PREFIX_LEN + ID_LEN + 1, AUTH__SECRET_B64_LEN))
		return false;
	memcpy(id, token + PREFIX_LEN, ID_LEN);
	id[ID_LEN] = '\0';
	*secret = token + PREFIX_LEN + ID_LEN + 1;
	return true;
}

static aclm_status token_name_check(const char *name, struct aclm_err *err)
{
	size_t len = name != NULL ? strnlen(name, TOKEN_NAME_MAX + 1) : 0;

	if (len == 0 || len > TOKEN_NAME_MAX)
		return aclm_err_set(err, ACLM_ERR_INVALID, "a token name has 1 to %d bytes",
				    TOKEN_NAME_MAX);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return aclm_err_set(err, ACLM_ERR_INVALID,
					    "a token name has no control characters");
	return ACLM_OK;
}

aclm_status auth_token_create(struct store *s, const struct auth_token_req *req,
			      char token[AUTH_TOKEN_MAX], char id[32], struct aclm_err *err)
{
	struct store_api_token row = { 0 };
	char secret[AUTH__SECRET_B64_LEN + 2];
	aclm_status ret = token_name_check(req->name, err);

	token[0] = '\0';
	id[0] = '\0';
	if (ret == ACLM_OK && (req->expires_at < 0 || req->user_id < 0 ||
			       !auth__role_known(req->role) || !auth__scope_known(req->scope)))
		ret = aclm_err_set(err, ACLM_ERR_INVALID, "token %s: bad role, scope, user or expiry",
				   req->name);
	if (ret == ACLM_OK)
		ret = auth__random_hex(ID_BYTES, row.id, err);
	if (ret == ACLM_OK)
		ret = auth__random_b64url(SECRET_BYTES, secret, sizeof(secret), err);
	if (ret == ACLM_OK)
		ret = auth__sha256_hex(secret, AUTH__SECRET_B64_LEN, row.hash, err);
	if (ret != ACLM_OK)
		goto out;
	row.tenant_id = req->tenant_id;
	row.user_id = req->user_id;
	snprintf(row.name, sizeof(row.name), "%s", req->name);
	snprintf(row.role, sizeof(row.role), "%s", auth_role_name(req->role));
	snprintf(row.scope, sizeof(row.scope), "%s", auth_scope_name(req->scope));
	row.created_at = aclm_time_now();
	row.expires_at = req->expires_at;
	ret = store_token_add(s, &row, err);
	if (ret == ACLM_OK) {
		memcpy(token, PREFIX, PREFIX_LEN);
		memcpy(token + PREFIX_LEN, row.id, ID_LEN);
		token[PREFIX_LEN + ID_LEN] = '_';
		memcpy(token + PREFIX_LEN + ID_LEN + 1, secret, AUTH__SECRET_B64_LEN + 1);
		memcpy(id, row.id, ID_LEN + 1);
	}
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	return ret;
}

/* Whether the row admits a request at now; fills p. */
static bool token_usable(const struct store_api_token *t, int64_t now, struct auth_principal *p)
{
	enum auth_role role, user_role;

	if (t->revoked_at != 0 || (t->expires_at != 0 && now >= t->expires_at) ||
	    !auth__role_from(t->role, &role) || !auth__scope_from(t->scope, &p->scope))
		return false;
	if (t->user_id != 0) {
		/* The user's current role caps the token's: demoting a user
		 * demotes the tokens made for them. */
		if (t->user_disabled || !auth__role_from(t->user_role, &user_role))
			return false;
		if (user_role < role)
			role = user_role;
	}
	p->tenant_id = t->tenant_id;
	snprintf(p->tenant, sizeof(p->tenant), "%s", t->tenant_name);
	p->role = role;
	p->user_id = t->user_id;
	snprintf(p->token_id, sizeof(p->token_id), "%s", t->id);
	snprintf(p->actor, sizeof(p->actor), "api:token:%s", t->id);
	return true;
}

aclm_status auth_token_check(struct store *s, const char *token, int64_t now,
			     struct auth_principal *p, struct aclm_err *err)
{
	struct store_api_token row;
	struct aclm_err touch_err = { 0 };
	char id[ID_LEN + 1], hash[65];
	const char *secret = NULL;
	bool valid = false;
	aclm_status ret = ACLM_OK;

	memset(p, 0, sizeof(*p));
	if (token_split(token, id, &secret)) {
		ret = auth__sha256_hex(secret, AUTH__SECRET_B64_LEN, hash, err);
		if (ret == ACLM_OK)
			ret = store_token_find(s, id, &row, err);
		if (ret == ACLM_OK)
			valid = CRYPTO_memcmp(hash, row.hash, 64) == 0 && token_usable(&row, now, p);
		else if (ret == ACLM_ERR_NOTFOUND)
			ret = ACLM_OK; /* an unknown id is one more invalid token */
	}
	if (ret == ACLM_OK && !valid) {
		memset(p, 0, sizeof(*p));
		ret = aclm_err_set(err, ACLM_ERR_PASSWORD, AUTH__TOKEN_FAIL);
	}
	/* Bookkeeping only: a busy database must not refuse a valid caller. */
	if (valid && store_token_touch(s, row.tenant_id, row.id, now, &touch_err) != ACLM_OK)
		log_warn("token %s: %s", row.id, touch_err.msg);
	return ret;
}

aclm_status auth_token_revoke(struct store *s, int64_t tenant_id, const char *id, int64_t now,
			      struct aclm_err *err)
{
	return store_token_revoke(s, tenant_id, id, now, err);
}

/* A store_api_token_cb appending the row's JSON to the array arg. */
static aclm_status token_json(const struct store_api_token *t, void *arg)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s?}", "id", t->id, "name", t->name, "role",
			      t->role, "scope", t->scope, "user",
			      t->user_id != 0 ? t->user_name : NULL);

	if (o == NULL)
		return ACLM_ERR_NOMEM;
	if ((auth__json_time(o, "created_at", t->created_at) | auth__json_time(o, "expires_at", t->expires_at) |
	     auth__json_time(o, "revoked_at", t->revoked_at) |
	     auth__json_time(o, "last_used_at", t->last_used_at)) != 0) {
		json_decref(o);
		return ACLM_ERR_NOMEM;
	}
	return json_array_append_new(arg, o) == 0 ? ACLM_OK : ACLM_ERR_NOMEM;
}

aclm_status auth_token_list(struct store *s, int64_t tenant_id, json_t **out,
			    struct aclm_err *err)
{
	json_t *list = json_array();
	aclm_status ret = list != NULL ? store_token_list(s, tenant_id, token_json, list, err)
				       : ACLM_ERR_NOMEM;

	if (ret == ACLM_ERR_NOMEM)
		aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory listing tokens");
	if (ret != ACLM_OK) {
		json_decref(list);
		list = NULL;
	}
	*out = list;
	return ret;
}
