/* SQLite backend of the auth area (store/store_auth.h): users, API tokens,
 * sessions (migration 5) and the tenant list. */
#include "store/sqlite_int.h"
#include "store/store_auth.h"

#include <stdio.h>
#include <string.h>

#include "core/time.h"

static bool given(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* A text column into a fixed buffer; a value that does not fit was not
 * written by this store (the writes check the same bounds). */
static aclm_status col_copy(const struct store__sqlite *s, sqlite3_stmt *st, int col, char *buf,
			    size_t size, struct aclm_err *err)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	size_t len = t != NULL ? (size_t)sqlite3_column_bytes(st, col) : 0;

	if (len >= size) {
		buf[0] = '\0';
		return aclm_err_set(err, ACLM_ERR_DB, "%s: %s is longer than %zu bytes", s->path,
				    sqlite3_column_name(st, col), size - 1);
	}
	memcpy(buf, t != NULL ? t : "", len);
	buf[len] = '\0';
	return ACLM_OK;
}

static aclm_status check_len(const char *what, const char *v, size_t size, bool required,
			     struct aclm_err *err)
{
	if (required && !given(v))
		return aclm_err_set(err, ACLM_ERR_INVALID, "%s is empty", what);
	if (v != NULL && strlen(v) >= size)
		return aclm_err_set(err, ACLM_ERR_INVALID, "%s is longer than %zu bytes", what,
				    size - 1);
	return ACLM_OK;
}

static struct store__arg opt_text(const char *v)
{
	return given(v) ? STORE__TEXT(v) : STORE__NULL;
}

static struct store__arg opt_int(int64_t v)
{
	return v > 0 ? STORE__INT(v) : STORE__NULL;
}

/* ---- users ---- */

#define USER_COLUMNS "id, tenant_id, name, role, password_hash, disabled, created_at, updated_at"

/* A store__sqlite_row_fn; out is a struct store_user *. */
static aclm_status user_row(const struct store__sqlite *s, sqlite3_stmt *st, void *out,
			    struct aclm_err *err)
{
	struct store_user *u = out;
	aclm_status ret;

	memset(u, 0, sizeof(*u));
	u->id = sqlite3_column_int64(st, 0);
	u->tenant_id = sqlite3_column_int64(st, 1);
	ret = col_copy(s, st, 2, u->name, sizeof(u->name), err);
	if (ret == ACLM_OK)
		ret = col_copy(s, st, 3, u->role, sizeof(u->role), err);
	if (ret == ACLM_OK)
		ret = col_copy(s, st, 4, u->password_hash, sizeof(u->password_hash), err);
	u->disabled = sqlite3_column_int(st, 5) != 0;
	u->created_at = sqlite3_column_int64(st, 6);
	u->updated_at = sqlite3_column_int64(st, 7);
	return ret;
}

static aclm_status user_check(const struct store_user *u, struct aclm_err *err)
{
	aclm_status ret = check_len("user name", u->name, sizeof(u->name), true, err);

	if (ret == ACLM_OK)
		ret = check_len("user role", u->role, sizeof(u->role), true, err);
	if (ret == ACLM_OK)
		ret = check_len("password hash", u->password_hash, sizeof(u->password_hash), false,
				err);
	return ret;
}

static aclm_status sqlite_user_add(void *state, const struct store_user *u, int64_t *id,
				   struct aclm_err *err)
{
	int64_t now = aclm_time_now();
	aclm_status ret = user_check(u, err);

	if (ret == ACLM_OK)
		ret = store__sqlite_run(state, SQ_KEYED,
					"INSERT INTO users(tenant_id, name, role, password_hash,"
					" disabled, created_at, updated_at)"
					" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?6) RETURNING id",
					STORE__ARGS(STORE__INT(u->tenant_id), STORE__TEXT(u->name),
						    STORE__TEXT(u->role), opt_text(u->password_hash),
						    STORE__INT(u->disabled ? 1 : 0),
						    STORE__INT(u->created_at > 0 ? u->created_at : now)),
					store__sqlite_row_id, id, NULL, "add user", err);
	if (ret == ACLM_ERR_EXISTS)
		ret = aclm_err_set(err, ACLM_ERR_EXISTS, "user %s already exists", u->name);
	return ret;
}

static aclm_status sqlite_user_get(void *state, int64_t tenant, const char *name,
				   struct store_user *out, struct aclm_err *err)
{
	bool found = false;
	aclm_status ret = check_len("user name", name, sizeof(out->name), true, err);

	if (ret == ACLM_OK)
		ret = store__sqlite_run(state, SQ_KEYED,
					"SELECT " USER_COLUMNS " FROM users"
					" WHERE tenant_id = ?1 AND name = ?2",
					STORE__ARGS(STORE__INT(tenant), STORE__TEXT(name)), user_row,
					out, &found, "get user", err);
	if (ret == ACLM_OK && !found)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "user %s not found", name);
	return ret;
}

/* Runs a one-row UPDATE/DELETE keyed by (tenant, name); none -> NOTFOUND. */
static aclm_status user_change(struct store__sqlite *s, const char *sql,
			       const struct store__arg *args, size_t nargs, const char *name,
			       const char *what, struct aclm_err *err)
{
	aclm_status ret = check_len("user name", name, STORE_AUTH_NAME_MAX, true, err);

	if (ret == ACLM_OK)
		ret = store__sqlite_run(s, SQ_KEYED, sql, args, nargs, NULL, NULL, NULL, what, err);
	if (ret == ACLM_OK && sqlite3_changes(s->db) == 0)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "user %s not found", name);
	return ret;
}

static aclm_status sqlite_user_set_password(void *state, int64_t tenant, const char *name,
					    const char *password_hash, struct aclm_err *err)
{
	aclm_status ret = check_len("password hash", password_hash, STORE_AUTH_HASH_MAX, false,
				    err);

	if (ret == ACLM_OK)
		ret = user_change(state,
				  "UPDATE users SET password_hash = ?3, updated_at = ?4"
				  " WHERE tenant_id = ?1 AND name = ?2",
				  STORE__ARGS(STORE__INT(tenant), STORE__TEXT(name),
					      opt_text(password_hash), STORE__INT(aclm_time_now())),
				  name, "set password", err);
	return ret;
}

/* api_tokens.user_id and sessions.user_id are ON DELETE CASCADE: the user's
 * tokens and sessions go in the same statement. */
static aclm_status sqlite_user_delete(void *state, int64_t tenant, const char *name,
				      struct aclm_err *err)
{
	return user_change(state, "DELETE FROM users WHERE tenant_id = ?1 AND name = ?2",
			   STORE__ARGS(STORE__INT(tenant), STORE__TEXT(name)), name, "remove user",
			   err);
}

/* Listings prepare their own statement (the callback may use the store). */
static aclm_status sqlite_user_list(void *state, int64_t tenant, store_user_cb cb, void *arg,
				    struct aclm_err *err)
{
	struct store__sqlite *s = state;
	struct store_user u;
	sqlite3_stmt *st = NULL;
	aclm_status ret = ACLM_OK;
	int rc = sqlite3_prepare_v2(s->db,
				    "SELECT " USER_COLUMNS " FROM users WHERE tenant_id = ?1"
				    " ORDER BY name",
				    -1, &st, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 1, tenant);
	while (ret == ACLM_OK && rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = user_row(s, st, &u, err);
		if (ret == ACLM_OK)
			ret = cb(&u, arg);
		rc = SQLITE_OK;
	}
	if (ret == ACLM_OK && rc != SQLITE_DONE)
		ret = store__sqlite_err(s, rc, err, "list users");
	sqlite3_finalize(st);
	return ret;
}

static aclm_status sqlite_user_count(void *state, int64_t tenant, int64_t *count,
				     struct aclm_err *err)
{
	*count = 0;
	return store__sqlite_run(state, SQ_KEYED, "SELECT count(*) FROM users WHERE tenant_id = ?1",
				 STORE__ARGS(STORE__INT(tenant)), store__sqlite_row_id, count, NULL,
				 "count users", err);
}

/* ---- API tokens ---- */

/* The user is joined in the token's own tenant only, so a row can never
 * borrow another tenant's user. */
#define TOKEN_SELECT                                                                        \
	"SELECT t.id, t.tenant_id, t.user_id, t.name, t.role, t.scope, t.hash, t.created_at," \
	" t.expires_at, t.revoked_at, t.last_used_at, n.name, u.name, u.role, u.disabled"    \
	" FROM api_tokens t JOIN tenants n ON n.id = t.tenant_id"                           \
	" LEFT JOIN users u ON u.id = t.user_id AND u.tenant_id = t.tenant_id"

/* A store__sqlite_row_fn; out is a struct store_api_token *. */
static aclm_status token_row(const struct store__sqlite *s, sqlite3_stmt *st, void *out,
			     struct aclm_err *err)
{
	struct store_api_token *t = out;
	aclm_status ret;

	memset(t, 0, sizeof(*t));
	ret = col_copy(s, st, 0, t->id, sizeof(t->id), err);
	t->tenant_id = sqlite3_column_int64(st, 1);
	t->user_id = sqlite3_column_int64(st, 2); /* NULL reads as 0 */
	if (ret == ACLM_OK)
		ret = col_copy(s, st, 3, t->name, sizeof(t->name), err);
	if (ret == ACLM_OK)
		ret = col_copy(s, st, 4, t->role, sizeof(t->role), err);
	if (ret == ACLM_OK)
		ret = col_copy(s, st, 5, t->scope, sizeof(t->scope), err);
	if (ret == ACLM_OK)
		ret = col_copy(s, st, 6, t->hash, sizeof(t->hash), err);
	t->created_at = sqlite3_column_int64(st, 7);
	t->expires_at = sqlite3_column_int64(st, 8);
	t->revoked_at = sqlite3_column_int64(st, 9);
	t->last_used_at = sqlite3_column_int64(st, 10);
	if (ret == ACLM_OK)
		ret = col_copy(s, st, 11, t->tenant_name, sizeof(t->tenant_name), err);
	if (ret == ACLM_OK)
		ret = col_copy(s, st, 12, t->user_name, sizeof(t->user_name), err);
	if (ret == ACLM_OK)
		ret = col_copy(s, st, 13, t->user_role, sizeof(t->user_role), err);
	t->user_disabled = sqlite3_column_int(st, 14) != 0;
	return ret;
}

static aclm_status token_check(const struct store_api_token *t, struct aclm_err *err)
{
	aclm_status ret = check_len("token id", t->id, sizeof(t->id), true, err);

	if (ret == ACLM_OK)
		ret = check_len("token name", t->name, sizeof(t->name), true, err);
	if (ret == ACLM_OK)
		ret = check_len("token role", t->role, sizeof(t->role), true, err);
	if (ret == ACLM_OK)
		ret = check_len("token scope", t->scope, sizeof(t->scope), true, err);
	if (ret == ACLM_OK && strlen(t->hash) != 64)
		ret = aclm_err_set(err, ACLM_ERR_INVALID, "token hash is not SHA-256 hex");
	if (ret == ACLM_OK && (t->user_id < 0 || t->expires_at < 0))
		ret = aclm_err_set(err, ACLM_ERR_INVALID, "token: negative user or expiry");
	return ret;
}

/* The WHERE keeps a token from naming a user of another tenant (the foreign
 * key alone only says the user exists somewhere). */
static aclm_status sqlite_token_add(void *state, const struct store_api_token *t,
				    struct aclm_err *err)
{
	bool stored = false;
	aclm_status ret = token_check(t, err);

	if (ret == ACLM_OK)
		ret = store__sqlite_run(state, SQ_KEYED,
					"INSERT INTO api_tokens(id, tenant_id, user_id, name, role,"
					" scope, hash, created_at, expires_at)"
					" SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9"
					" WHERE ?3 IS NULL OR EXISTS(SELECT 1 FROM users"
					" WHERE tenant_id = ?2 AND id = ?3) RETURNING 1",
					STORE__ARGS(STORE__TEXT(t->id), STORE__INT(t->tenant_id),
						    opt_int(t->user_id), STORE__TEXT(t->name),
						    STORE__TEXT(t->role), STORE__TEXT(t->scope),
						    STORE__TEXT(t->hash),
						    STORE__INT(t->created_at > 0 ? t->created_at
										 : aclm_time_now()),
						    opt_int(t->expires_at)),
					NULL, NULL, &stored, "add API token", err);
	if (ret == ACLM_OK && !stored)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "user %lld not found",
				   (long long)t->user_id);
	return ret;
}

static aclm_status sqlite_token_find(void *state, const char *id, struct store_api_token *out,
				     struct aclm_err *err)
{
	bool found = false;
	aclm_status ret = check_len("token id", id, sizeof(out->id), true, err);

	if (ret == ACLM_OK)
		ret = store__sqlite_run(state, SQ_KEYED, TOKEN_SELECT " WHERE t.id = ?1",
					STORE__ARGS(STORE__TEXT(id)), token_row, out, &found,
					"find API token", err);
	if (ret == ACLM_OK && !found)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "token %s not found", id);
	return ret;
}

static aclm_status sqlite_token_touch(void *state, int64_t tenant, const char *id, int64_t now,
				      struct aclm_err *err)
{
	return store__sqlite_run(state, SQ_KEYED,
				 "UPDATE api_tokens SET last_used_at = ?3"
				 " WHERE tenant_id = ?1 AND id = ?2"
				 " AND (last_used_at IS NULL OR last_used_at <= ?3 - 60)",
				 STORE__ARGS(STORE__INT(tenant), STORE__TEXT(id), STORE__INT(now)),
				 NULL, NULL, NULL, "record token use", err);
}

static aclm_status sqlite_token_revoke(void *state, int64_t tenant, const char *id, int64_t now,
				       struct aclm_err *err)
{
	struct store__sqlite *s = state;
	aclm_status ret = check_len("token id", id, STORE_AUTH_TOKEN_ID_MAX, true, err);

	if (ret == ACLM_OK)
		ret = store__sqlite_run(s, SQ_KEYED,
					"UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?3)"
					" WHERE tenant_id = ?1 AND id = ?2",
					STORE__ARGS(STORE__INT(tenant), STORE__TEXT(id),
						    STORE__INT(now)),
					NULL, NULL, NULL, "revoke API token", err);
	if (ret == ACLM_OK && sqlite3_changes(s->db) == 0)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "token %s not found", id);
	return ret;
}

static aclm_status sqlite_token_list(void *state, int64_t tenant, store_api_token_cb cb,
				     void *arg, struct aclm_err *err)
{
	struct store__sqlite *s = state;
	struct store_api_token t;
	sqlite3_stmt *st = NULL;
	aclm_status ret = ACLM_OK;
	int rc = sqlite3_prepare_v2(s->db,
				    TOKEN_SELECT " WHERE t.tenant_id = ?1 ORDER BY t.created_at, t.id",
				    -1, &st, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 1, tenant);
	while (ret == ACLM_OK && rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = token_row(s, st, &t, err);
		if (ret == ACLM_OK)
			ret = cb(&t, arg);
		rc = SQLITE_OK;
	}
	if (ret == ACLM_OK && rc != SQLITE_DONE)
		ret = store__sqlite_err(s, rc, err, "list API tokens");
	sqlite3_finalize(st);
	return ret;
}

/* ---- sessions ---- */

/* A store__sqlite_row_fn; out is a struct store_session *. */
static aclm_status session_row(const struct store__sqlite *s, sqlite3_stmt *st, void *out,
			       struct aclm_err *err)
{
	struct store_session *se = out;
	aclm_status ret;

	memset(se, 0, sizeof(*se));
	ret = col_copy(s, st, 0, se->id_hash, sizeof(se->id_hash), err);
	se->tenant_id = sqlite3_column_int64(st, 1);
	se->user_id = sqlite3_column_int64(st, 2);
	if (ret == ACLM_OK)
		ret = col_copy(s, st, 3, se->csrf, sizeof(se->csrf), err);
	se->created_at = sqlite3_column_int64(st, 4);
	se->expires_at = sqlite3_column_int64(st, 5);
	if (ret == ACLM_OK)
		ret = col_copy(s, st, 6, se->tenant_name, sizeof(se->tenant_name), err);
	if (ret == ACLM_OK)
		ret = col_copy(s, st, 7, se->user_name, sizeof(se->user_name), err);
	if (ret == ACLM_OK)
		ret = col_copy(s, st, 8, se->user_role, sizeof(se->user_role), err);
	se->user_disabled = sqlite3_column_int(st, 9) != 0;
	return ret;
}

/* Also drops the user's expired sessions, so that they do not pile up. */
static aclm_status sqlite_session_add(void *state, const struct store_session *se,
				      struct aclm_err *err)
{
	bool stored = false;
	aclm_status ret = ACLM_OK;

	if (strlen(se->id_hash) != 64 || !given(se->csrf) || se->expires_at <= 0)
		ret = aclm_err_set(err, ACLM_ERR_INVALID,
				   "session: hash, CSRF token and expiry are required");
	if (ret == ACLM_OK)
		ret = store__sqlite_run(state, SQ_KEYED,
					"DELETE FROM sessions WHERE tenant_id = ?1 AND user_id = ?2"
					" AND expires_at <= ?3",
					STORE__ARGS(STORE__INT(se->tenant_id), STORE__INT(se->user_id),
						    STORE__INT(aclm_time_now())),
					NULL, NULL, NULL, "drop expired sessions", err);
	if (ret == ACLM_OK)
		ret = store__sqlite_run(state, SQ_KEYED,
					"INSERT INTO sessions(id_hash, tenant_id, user_id, csrf,"
					" created_at, expires_at) SELECT ?1, ?2, ?3, ?4, ?5, ?6"
					" WHERE EXISTS(SELECT 1 FROM users WHERE tenant_id = ?2"
					" AND id = ?3) RETURNING 1",
					STORE__ARGS(STORE__TEXT(se->id_hash), STORE__INT(se->tenant_id),
						    STORE__INT(se->user_id), STORE__TEXT(se->csrf),
						    STORE__INT(se->created_at > 0 ? se->created_at
										  : aclm_time_now()),
						    STORE__INT(se->expires_at)),
					NULL, NULL, &stored, "add session", err);
	if (ret == ACLM_OK && !stored)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "user %lld not found",
				   (long long)se->user_id);
	return ret;
}

static aclm_status sqlite_session_find(void *state, const char *id_hash,
				       struct store_session *out, struct aclm_err *err)
{
	bool found = false;
	aclm_status ret = check_len("session hash", id_hash, sizeof(out->id_hash), true, err);

	if (ret == ACLM_OK)
		ret = store__sqlite_run(state, SQ_KEYED,
					"SELECT se.id_hash, se.tenant_id, se.user_id, se.csrf,"
					" se.created_at, se.expires_at, n.name, u.name, u.role,"
					" u.disabled FROM sessions se"
					" JOIN tenants n ON n.id = se.tenant_id"
					" JOIN users u ON u.id = se.user_id AND u.tenant_id = se.tenant_id"
					" WHERE se.id_hash = ?1",
					STORE__ARGS(STORE__TEXT(id_hash)), session_row, out, &found,
					"find session", err);
	if (ret == ACLM_OK && !found)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "session not found");
	return ret;
}

static aclm_status sqlite_session_delete(void *state, const char *id_hash, struct aclm_err *err)
{
	return store__sqlite_run(state, SQ_KEYED, "DELETE FROM sessions WHERE id_hash = ?1",
				 STORE__ARGS(STORE__TEXT(id_hash)), NULL, NULL, NULL,
				 "end session", err);
}

/* ---- tenants ---- */

static aclm_status sqlite_tenant_list(void *state, store_tenant_cb cb, void *arg,
				      struct aclm_err *err)
{
	struct store__sqlite *s = state;
	struct store_tenant t;
	sqlite3_stmt *st = NULL;
	aclm_status ret = ACLM_OK;
	int rc = sqlite3_prepare_v2(s->db, "SELECT id, name, created_at FROM tenants ORDER BY name",
				    -1, &st, NULL);

	while (ret == ACLM_OK && rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&t, 0, sizeof(t));
		t.id = sqlite3_column_int64(st, 0);
		ret = col_copy(s, st, 1, t.name, sizeof(t.name), err);
		t.created_at = sqlite3_column_int64(st, 2);
		if (ret == ACLM_OK)
			ret = cb(&t, arg);
		rc = SQLITE_OK;
	}
	if (ret == ACLM_OK && rc != SQLITE_DONE)
		ret = store__sqlite_err(s, rc, err, "list tenants");
	sqlite3_finalize(st);
	return ret;
}

const struct store_auth_ops store__sqlite_auth_ops = {
	.user_add = sqlite_user_add,
	.user_get = sqlite_user_get,
	.user_set_password = sqlite_user_set_password,
	.user_delete = sqlite_user_delete,
	.user_list = sqlite_user_list,
	.user_count = sqlite_user_count,
	.token_add = sqlite_token_add,
	.token_find = sqlite_token_find,
	.token_touch = sqlite_token_touch,
	.token_revoke = sqlite_token_revoke,
	.token_list = sqlite_token_list,
	.session_add = sqlite_session_add,
	.session_find = sqlite_session_find,
	.session_delete = sqlite_session_delete,
	.tenant_list = sqlite_tenant_list,
};
