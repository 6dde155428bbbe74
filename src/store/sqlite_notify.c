/* SQLite backend of the notify area (store/store_notify.h): alert channels
 * in migration 5's notify_channels, always by tenant. */
#include "store/sqlite_int.h"
#include "store/store_notify.h"

#include <stdlib.h>
#include <string.h>

#define CHANNEL_COLUMNS "id, tenant_id, name, type, origin, params, created_at, updated_at"

static aclm_status col_copy(const struct store__sqlite *s, sqlite3_stmt *st, int col, char *buf,
			    size_t size, struct aclm_err *err)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	size_t len = t != NULL ? (size_t)sqlite3_column_bytes(st, col) : 0;

	buf[0] = '\0';
	if (len >= size)
		return aclm_err_set(err, ACLM_ERR_DB, "%s: %s is longer than %zu bytes", s->path,
				    sqlite3_column_name(st, col), size - 1);
	memcpy(buf, t != NULL ? t : "", len);
	buf[len] = '\0';
	return ACLM_OK;
}

static aclm_status check_text(const char *what, const char *v, size_t size, struct aclm_err *err)
{
	if (v == NULL || v[0] == '\0')
		return aclm_err_set(err, ACLM_ERR_INVALID, "notification channel: %s is empty", what);
	if (strlen(v) >= size)
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "notification channel: %s is longer than %zu bytes", what, size - 1);
	return ACLM_OK;
}

static aclm_status channel_check(const struct store_notify_channel *c, struct aclm_err *err)
{
	aclm_status ret = check_text("name", c->name, sizeof(c->name), err);

	if (ret == ACLM_OK)
		ret = check_text("type", c->type, sizeof(c->type), err);
	if (ret == ACLM_OK)
		ret = check_text("params", c->params, STORE_NOTIFY_PARAMS_MAX, err);
	if (ret == ACLM_OK && strcmp(c->origin, "config") != 0 && strcmp(c->origin, "api") != 0)
		ret = aclm_err_set(err, ACLM_ERR_INVALID,
				   "notification channel: origin must be config or api");
	return ret;
}

/* A store__sqlite_row_fn; out is a struct store_notify_channel * whose
 * params the caller frees (store_notify_channel_clear). */
static aclm_status channel_row(const struct store__sqlite *s, sqlite3_stmt *st, void *out,
			       struct aclm_err *err)
{
	struct store_notify_channel *c = out;
	bool ok = true;
	aclm_status ret;

	memset(c, 0, sizeof(*c));
	c->id = sqlite3_column_int64(st, 0);
	c->tenant_id = sqlite3_column_int64(st, 1);
	ret = col_copy(s, st, 2, c->name, sizeof(c->name), err);
	if (ret == ACLM_OK)
		ret = col_copy(s, st, 3, c->type, sizeof(c->type), err);
	if (ret == ACLM_OK)
		ret = col_copy(s, st, 4, c->origin, sizeof(c->origin), err);
	if (ret == ACLM_OK) {
		c->params = store__sqlite_text_dup(st, 5, &ok);
		if (!ok)
			ret = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	}
	c->created_at = sqlite3_column_int64(st, 6);
	c->updated_at = sqlite3_column_int64(st, 7);
	return ret;
}

static aclm_status sqlite_channel_add(void *state, const struct store_notify_channel *c,
				      int64_t now, int64_t *id, struct aclm_err *err)
{
	aclm_status ret = channel_check(c, err);

	if (ret == ACLM_OK)
		ret = store__sqlite_run(state, SQ_KEYED,
					"INSERT INTO notify_channels(tenant_id, name, type, params,"
					" origin, created_at, updated_at)"
					" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?6) RETURNING id",
					STORE__ARGS(STORE__INT(c->tenant_id), STORE__TEXT(c->name),
						    STORE__TEXT(c->type), STORE__TEXT(c->params),
						    STORE__TEXT(c->origin), STORE__INT(now)),
					store__sqlite_row_id, id, NULL, "add notification channel",
					err);
	if (ret == ACLM_ERR_EXISTS)
		ret = aclm_err_set(err, ACLM_ERR_EXISTS, "notification channel %s already exists",
				   c->name);
	return ret;
}

static aclm_status sqlite_channel_update(void *state, const struct store_notify_channel *c,
					 int64_t now, struct aclm_err *err)
{
	struct store__sqlite *s = state;
	aclm_status ret = channel_check(c, err);

	if (ret == ACLM_OK)
		ret = store__sqlite_run(s, SQ_KEYED,
					"UPDATE notify_channels SET type = ?4, params = ?5,"
					" updated_at = ?6 WHERE tenant_id = ?1 AND name = ?2"
					" AND origin = ?3",
					STORE__ARGS(STORE__INT(c->tenant_id), STORE__TEXT(c->name),
						    STORE__TEXT(c->origin), STORE__TEXT(c->type),
						    STORE__TEXT(c->params), STORE__INT(now)),
					NULL, NULL, NULL, "update notification channel", err);
	if (ret == ACLM_OK && sqlite3_changes(s->db) == 0)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND,
				   "notification channel %s (origin %s) not found", c->name,
				   c->origin);
	return ret;
}

static aclm_status sqlite_channel_get(void *state, int64_t tenant, const char *name,
				      struct store_notify_channel *out, struct aclm_err *err)
{
	bool found = false;
	aclm_status ret;

	memset(out, 0, sizeof(*out));
	ret = check_text("name", name, STORE_NOTIFY_NAME_MAX, err);
	if (ret == ACLM_OK)
		ret = store__sqlite_run(state, SQ_KEYED,
					"SELECT " CHANNEL_COLUMNS " FROM notify_channels"
					" WHERE tenant_id = ?1 AND name = ?2",
					STORE__ARGS(STORE__INT(tenant), STORE__TEXT(name)),
					channel_row, out, &found, "get notification channel", err);
	if (ret == ACLM_OK && !found)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "notification channel %s not found",
				   name);
	if (ret != ACLM_OK)
		store_notify_channel_clear(out);
	return ret;
}

static aclm_status sqlite_channel_list(void *state, int64_t tenant, const char *origin,
				       store_notify_channel_cb cb, void *arg,
				       struct aclm_err *err)
{
	struct store__sqlite *s = state;
	struct store_notify_channel c = { 0 };
	sqlite3_stmt *st = NULL;
	aclm_status ret;
	int rc;

	ret = store__sqlite_stmt(s, SQ_KEYED,
				 "SELECT " CHANNEL_COLUMNS " FROM notify_channels"
				 " WHERE tenant_id = ?1 AND (?2 IS NULL OR origin = ?2)"
				 " ORDER BY name",
				 &st, err);
	if (ret != ACLM_OK)
		return ret;
	rc = sqlite3_bind_int64(st, 1, tenant);
	if (rc == SQLITE_OK)
		rc = origin != NULL ? sqlite3_bind_text(st, 2, origin, -1, SQLITE_STATIC)
				    : sqlite3_bind_null(st, 2);
	while (ret == ACLM_OK && rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = channel_row(s, st, &c, err);
		if (ret == ACLM_OK)
			ret = cb(&c, arg);
		store_notify_channel_clear(&c);
		rc = SQLITE_OK;
	}
	if (ret == ACLM_OK && rc != SQLITE_DONE)
		ret = store__sqlite_err(s, rc, err, "list notification channels");
	store__sqlite_done(st);
	return ret;
}

/* As sqlite_channel_list, one page in id order. */
struct channel_each {
	store_notify_channel_cb cb;
	void *arg;
};

static aclm_status channel_each_row(struct store__sqlite *s, sqlite3_stmt *st, void *arg,
				    struct aclm_err *err)
{
	const struct channel_each *e = arg;
	struct store_notify_channel c = { 0 };
	aclm_status ret = channel_row(s, st, &c, err);

	if (ret == ACLM_OK)
		ret = e->cb(&c, e->arg);
	store_notify_channel_clear(&c);
	return ret;
}

static aclm_status sqlite_channel_page(void *state, int64_t tenant, int64_t after_id,
				       int64_t limit, store_notify_channel_cb cb, void *arg,
				       struct aclm_err *err)
{
	struct channel_each e = { cb, arg };

	return store__sqlite_each(state, SQ_KEYED,
				  "SELECT " CHANNEL_COLUMNS " FROM notify_channels"
				  " WHERE tenant_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
				  STORE__ARGS(STORE__INT(tenant), STORE__INT(after_id),
					      STORE__INT(limit > 0 ? limit : -1)),
				  channel_each_row, &e, "page notification channels", err);
}

static aclm_status sqlite_channel_delete(void *state, int64_t tenant, const char *name,
					 const char *origin, struct aclm_err *err)
{
	struct store__sqlite *s = state;
	aclm_status ret = check_text("name", name, STORE_NOTIFY_NAME_MAX, err);

	if (ret == ACLM_OK)
		ret = store__sqlite_run(s, SQ_KEYED,
					"DELETE FROM notify_channels WHERE tenant_id = ?1"
					" AND name = ?2 AND (?3 IS NULL OR origin = ?3)",
					STORE__ARGS(STORE__INT(tenant), STORE__TEXT(name),
						    origin != NULL ? STORE__TEXT(origin) : STORE__NULL),
					NULL, NULL, NULL, "delete notification channel", err);
	if (ret == ACLM_OK && sqlite3_changes(s->db) == 0)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "notification channel %s not found",
				   name);
	return ret;
}

const struct store_notify_ops store__sqlite_notify_ops = {
	.channel_add = sqlite_channel_add,
	.channel_update = sqlite_channel_update,
	.channel_get = sqlite_channel_get,
	.channel_list = sqlite_channel_list,
	.channel_delete = sqlite_channel_delete,
	.channel_page = sqlite_channel_page,
};
