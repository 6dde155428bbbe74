/* SQLite backend: the audit log rows. The chain hash is computed in
 * store.c (store__audit_hash); this file stores rows and re-checks them. */
#include "store/sqlite_int.h"

#include <string.h>

#include "store/store_int.h"

/* A store__sqlite_row_fn; out is a char[65]. */
static aclm_status hash_row(const struct store__sqlite *s, sqlite3_stmt *st, void *out,
			    struct aclm_err *err)
{
	const char *hash = (const char *)sqlite3_column_text(st, 0);

	if (hash == NULL || strlen(hash) != 64)
		return aclm_err_set(err, ACLM_ERR_VERIFY, "%s: last audit row has a malformed hash",
				    s->path);
	memcpy(out, hash, 65);
	return ACLM_OK;
}

aclm_status store__sqlite_audit_last_hash(void *state, char out[65], struct aclm_err *err)
{
	memcpy(out, STORE__AUDIT_GENESIS, 65);
	return store__sqlite_run(state, SQ_AUDIT_LAST,
				 "SELECT hash FROM audit ORDER BY id DESC LIMIT 1", NULL, 0, hash_row,
				 out, NULL, "read last audit hash", err);
}

aclm_status store__sqlite_audit_insert(void *state, const struct store_audit_event *e, int64_t at,
				       const char *detail_json, const char *prev_hash,
				       const char *hash, struct aclm_err *err)
{
	return store__sqlite_run(state, SQ_AUDIT_INSERT,
				 "INSERT INTO audit(at, tenant_id, actor, action, object, detail,"
				 " prev_hash, hash) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
				 STORE__ARGS(STORE__INT(at), STORE__INT(e->tenant_id),
					     STORE__TEXT(e->actor), STORE__TEXT(e->action),
					     STORE__TEXT(e->object), STORE__TEXT(detail_json),
					     STORE__TEXT(prev_hash), STORE__TEXT(hash)),
				 NULL, NULL, NULL, "append audit event", err);
}

static const char *col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* One row against the chain so far: it must point at the previous row's
 * hash and its own hash must match its content. */
static aclm_status verify_row(sqlite3_stmt *st, char prev[65], struct aclm_err *err)
{
	long long id = sqlite3_column_int64(st, 0);
	const char *prev_hash = col(st, 7), *hash = col(st, 8);
	char want[65];
	aclm_status ret;

	if (prev_hash == NULL || strcmp(prev_hash, prev) != 0)
		return aclm_err_set(err, ACLM_ERR_VERIFY,
				    "audit row %lld: prev_hash does not match the row before it "
				    "(a row was removed, inserted or altered)", id);
	ret = store__audit_hash(prev_hash, sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2),
				col(st, 3), col(st, 4), col(st, 5), col(st, 6), want, err);
	if (ret != ACLM_OK)
		return ret;
	if (hash == NULL || strcmp(hash, want) != 0)
		return aclm_err_set(err, ACLM_ERR_VERIFY,
				    "audit row %lld: hash does not match its content (altered)", id);
	memcpy(prev, hash, 65);
	return ACLM_OK;
}

/* One read transaction (the statement's) sees one consistent chain even
 * while others append. */
aclm_status store__sqlite_audit_verify(void *state, int64_t *count, struct aclm_err *err)
{
	struct store__sqlite *s = state;
	char prev[65];
	sqlite3_stmt *st = NULL;
	aclm_status ret = ACLM_OK;
	int rc = sqlite3_prepare_v2(s->db,
				    "SELECT id, at, tenant_id, actor, action, object, detail,"
				    " prev_hash, hash FROM audit ORDER BY id",
				    -1, &st, NULL);

	*count = 0;
	memcpy(prev, STORE__AUDIT_GENESIS, 65);
	while (ret == ACLM_OK && rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = verify_row(st, prev, err);
		if (ret == ACLM_OK)
			(*count)++;
		rc = SQLITE_OK;
	}
	if (ret == ACLM_OK && rc != SQLITE_DONE)
		ret = store__sqlite_err(s, rc, err, "verify audit log");
	sqlite3_finalize(st);
	return ret;
}

/* The REST API's audit listing: one tenant's rows after a cursor. */
aclm_status store__sqlite_audit_list(void *state, int64_t tenant, int64_t after_id, int64_t limit,
				     store_audit_cb cb, void *arg, struct aclm_err *err)
{
	struct store__sqlite *s = state;
	struct store__bind b;
	sqlite3_stmt *st = NULL;
	aclm_status ret = store__sqlite_stmt(s, SQ_KEYED,
					     "SELECT id, at, tenant_id, actor, action, object, detail,"
					     " hash FROM audit WHERE tenant_id = ?1 AND id > ?2"
					     " ORDER BY id LIMIT ?3",
					     &st, err);
	int rc = SQLITE_OK;

	if (ret != ACLM_OK)
		return ret;
	b.st = st;
	b.rc = SQLITE_OK;
	store__bind_int(&b, 1, tenant);
	store__bind_int(&b, 2, after_id);
	store__bind_int(&b, 3, limit > 0 ? limit : -1);
	rc = b.rc;
	while (ret == ACLM_OK && rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_audit_row r = { .id = sqlite3_column_int64(st, 0),
					     .at = sqlite3_column_int64(st, 1),
					     .tenant_id = sqlite3_column_int64(st, 2),
					     .actor = col(st, 3),
					     .action = col(st, 4),
					     .object = col(st, 5),
					     .detail = col(st, 6),
					     .hash = col(st, 7) };

		ret = cb(&r, arg);
		rc = SQLITE_OK;
	}
	if (ret == ACLM_OK && rc != SQLITE_DONE)
		ret = store__sqlite_err(s, rc, err, "list audit events");
	store__sqlite_done(st);
	return ret;
}
