/* SQLite backend: sealed private keys by (tenant, id). The bytes are
 * sealed by keystore/; the store only keeps them. */
#include "store/sqlite_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/time.h"

static bool fits(const char *s, size_t size)
{
	return s != NULL && s[0] != '\0' && strnlen(s, size) < size;
}

static aclm_status key_check(const struct store_key *k, struct aclm_err *err)
{
	if (!fits(k->id, sizeof(k->id)) || !fits(k->type, sizeof(k->type)) ||
	    strnlen(k->spki_sha256, sizeof(k->spki_sha256)) != 64)
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "key: id, type and a 64-digit spki_sha256 are required");
	if (k->sealed == NULL || k->sealed_len == 0)
		return aclm_err_set(err, ACLM_ERR_INVALID, "key %s: no sealed bytes", k->id);
	return ACLM_OK;
}

/* A duplicate (tenant, id) fails the primary key -> ACLM_ERR_EXISTS: a key
 * is never silently replaced. */
aclm_status store__sqlite_key_put(void *state, const struct store_key *k, struct aclm_err *err)
{
	struct store__sqlite *s = state;
	sqlite3_stmt *st = NULL;
	struct store__bind b = { 0 };
	aclm_status ret = key_check(k, err);
	int rc;

	if (ret == ACLM_OK)
		ret = store__sqlite_stmt(s, SQ_KEY_PUT,
					 "INSERT INTO keys(tenant_id, id, type, spki_sha256, sealed,"
					 " created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
					 &st, err);
	if (ret != ACLM_OK)
		goto out;
	b.st = st;
	store__bind_int(&b, 1, k->tenant_id);
	store__bind_text(&b, 2, k->id);
	store__bind_text(&b, 3, k->type);
	store__bind_text(&b, 4, k->spki_sha256);
	store__bind_blob(&b, 5, k->sealed, k->sealed_len);
	store__bind_int(&b, 6, k->created_at > 0 ? k->created_at : aclm_time_now());
	rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
	if (rc != SQLITE_DONE)
		ret = store__sqlite_err(s, rc, err, "store key");
out:
	store__sqlite_done(st);
	return ret;
}

static bool copy_col(sqlite3_stmt *st, int col, char *out, size_t size)
{
	const char *t = (const char *)sqlite3_column_text(st, col);

	if (t == NULL || strlen(t) >= size)
		return false;
	memcpy(out, t, strlen(t) + 1);
	return true;
}

static aclm_status key_row(sqlite3_stmt *st, const char *id, struct store_key **out,
			   struct aclm_err *err)
{
	struct store_key *k = calloc(1, sizeof(*k));
	const void *sealed = sqlite3_column_blob(st, 2);
	int len = sqlite3_column_bytes(st, 2);
	aclm_status ret = ACLM_OK;

	if (k == NULL || (len > 0 && (k->sealed = malloc((size_t)len)) == NULL)) {
		ret = aclm_err_set(err, ACLM_ERR_NOMEM, "key %s: out of memory", id);
		goto out;
	}
	memcpy(k->id, id, strlen(id) + 1);
	if (!copy_col(st, 0, k->type, sizeof(k->type)) ||
	    !copy_col(st, 1, k->spki_sha256, sizeof(k->spki_sha256)) || sealed == NULL || len <= 0) {
		ret = aclm_err_set(err, ACLM_ERR_DB, "key %s: stored row is malformed", id);
		goto out;
	}
	memcpy(k->sealed, sealed, (size_t)len);
	k->sealed_len = (size_t)len;
	k->tenant_id = sqlite3_column_int64(st, 3);
	k->created_at = sqlite3_column_int64(st, 4);
	*out = k;
	k = NULL;
out:
	store_key_free(k);
	return ret;
}

aclm_status store__sqlite_key_get(void *state, int64_t tenant, const char *id,
				  struct store_key **out, struct aclm_err *err)
{
	struct store__sqlite *s = state;
	sqlite3_stmt *st = NULL;
	struct store__bind b = { 0 };
	aclm_status ret = ACLM_OK;
	int rc;

	*out = NULL;
	if (!fits(id, sizeof(((struct store_key *)0)->id)))
		return aclm_err_set(err, ACLM_ERR_INVALID, "key id is empty or too long");
	ret = store__sqlite_stmt(s, SQ_KEY_GET,
				 "SELECT type, spki_sha256, sealed, tenant_id, created_at FROM keys"
				 " WHERE tenant_id = ?1 AND id = ?2",
				 &st, err);
	if (ret != ACLM_OK)
		goto out;
	b.st = st;
	store__bind_int(&b, 1, tenant);
	store__bind_text(&b, 2, id);
	rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
	if (rc == SQLITE_ROW)
		ret = key_row(st, id, out, err);
	else if (rc == SQLITE_DONE)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "key %s not found", id);
	else
		ret = store__sqlite_err(s, rc, err, "get key");
out:
	store__sqlite_done(st);
	return ret;
}

aclm_status store__sqlite_key_delete(void *state, int64_t tenant, const char *id,
				     struct aclm_err *err)
{
	struct store__sqlite *s = state;
	sqlite3_stmt *st = NULL;
	struct store__bind b = { 0 };
	aclm_status ret = ACLM_OK;
	int rc;

	if (!fits(id, sizeof(((struct store_key *)0)->id)))
		return aclm_err_set(err, ACLM_ERR_INVALID, "key id is empty or too long");
	ret = store__sqlite_stmt(s, SQ_KEY_DELETE, "DELETE FROM keys WHERE tenant_id = ?1 AND id = ?2",
				 &st, err);
	if (ret != ACLM_OK)
		goto out;
	b.st = st;
	store__bind_int(&b, 1, tenant);
	store__bind_text(&b, 2, id);
	rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
	if (rc != SQLITE_DONE)
		ret = store__sqlite_err(s, rc, err, "delete key");
	else if (sqlite3_changes(s->db) == 0)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "key %s not found", id);
out:
	store__sqlite_done(st);
	return ret;
}
