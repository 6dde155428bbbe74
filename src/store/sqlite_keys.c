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
	aclm_status ret = key_check(k, err);

	if (ret == ACLM_OK)
		ret = store__sqlite_run(state, SQ_KEY_PUT,
					"INSERT INTO keys(tenant_id, id, type, spki_sha256, sealed,"
					" created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
					STORE__ARGS(STORE__INT(k->tenant_id), STORE__TEXT(k->id),
						    STORE__TEXT(k->type), STORE__TEXT(k->spki_sha256),
						    STORE__BLOB(k->sealed, k->sealed_len),
						    STORE__INT(k->created_at > 0 ? k->created_at
									  : aclm_time_now())),
					NULL, NULL, NULL, "store key", err);
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

/* The row does not hold the id: key_get passes it along with out. */
struct key_out {
	const char *id;
	struct store_key **out;
};

static aclm_status key_row(const struct store__sqlite *s, sqlite3_stmt *st, void *arg,
			   struct aclm_err *err)
{
	const struct key_out *ko = arg;
	const char *id = ko->id;
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
	*ko->out = k;
	k = NULL;
out:
	store_key_free(k);
	return ret;
}

aclm_status store__sqlite_key_get(void *state, int64_t tenant, const char *id,
				  struct store_key **out, struct aclm_err *err)
{
	struct key_out ko = { id, out };
	bool found = false;
	aclm_status ret;

	*out = NULL;
	if (!fits(id, sizeof(((struct store_key *)0)->id)))
		return aclm_err_set(err, ACLM_ERR_INVALID, "key id is empty or too long");
	ret = store__sqlite_run(state, SQ_KEY_GET,
				"SELECT type, spki_sha256, sealed, tenant_id, created_at FROM keys"
				" WHERE tenant_id = ?1 AND id = ?2",
				STORE__ARGS(STORE__INT(tenant), STORE__TEXT(id)), key_row, &ko, &found,
				"get key", err);
	if (ret == ACLM_OK && !found)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "key %s not found", id);
	return ret;
}

aclm_status store__sqlite_key_delete(void *state, int64_t tenant, const char *id,
				     struct aclm_err *err)
{
	struct store__sqlite *s = state;
	aclm_status ret;

	if (!fits(id, sizeof(((struct store_key *)0)->id)))
		return aclm_err_set(err, ACLM_ERR_INVALID, "key id is empty or too long");
	ret = store__sqlite_run(s, SQ_KEY_DELETE, "DELETE FROM keys WHERE tenant_id = ?1 AND id = ?2",
				STORE__ARGS(STORE__INT(tenant), STORE__TEXT(id)), NULL, NULL, NULL,
				"delete key", err);
	/* reset (in store__sqlite_run) leaves the change count alone */
	if (ret == ACLM_OK && sqlite3_changes(s->db) == 0)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "key %s not found", id);
	return ret;
}
