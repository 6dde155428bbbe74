/* SQLite backend: the audit log rows. The chain hash is computed in
 * store.c (store__audit_hash); this file stores rows and re-checks them. */
#include "store/sqlite_int.h"

#include <string.h>

#include "store/store_int.h"

aclm_status store__sqlite_audit_last_hash(void *state, char out[65], struct aclm_err *err)
{
	struct store__sqlite *s = state;
	sqlite3_stmt *st = NULL;
	const char *hash;
	aclm_status ret;
	int rc;

	memcpy(out, STORE__AUDIT_GENESIS, 65);
	ret = store__sqlite_stmt(s, SQ_AUDIT_LAST, "SELECT hash FROM audit ORDER BY id DESC LIMIT 1",
				 &st, err);
	if (ret != ACLM_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		hash = (const char *)sqlite3_column_text(st, 0);
		if (hash == NULL || strlen(hash) != 64)
			ret = aclm_err_set(err, ACLM_ERR_VERIFY, "%s: last audit row has a malformed hash",
					   s->path);
		else
			memcpy(out, hash, 65);
	} else if (rc != SQLITE_DONE) {
		ret = store__sqlite_err(s, rc, err, "read last audit hash");
	}
out:
	store__sqlite_done(st);
	return ret;
}

aclm_status store__sqlite_audit_insert(void *state, const struct store_audit_event *e, int64_t at,
				       const char *detail_json, const char *prev_hash,
				       const char *hash, struct aclm_err *err)
{
	struct store__sqlite *s = state;
	sqlite3_stmt *st = NULL;
	struct store__bind b = { 0 };
	aclm_status ret;
	int rc;

	ret = store__sqlite_stmt(s, SQ_AUDIT_INSERT,
				 "INSERT INTO audit(at, tenant_id, actor, action, object, detail,"
				 " prev_hash, hash) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
				 &st, err);
	if (ret != ACLM_OK)
		goto out;
	b.st = st;
	store__bind_int(&b, 1, at);
	store__bind_int(&b, 2, e->tenant_id);
	store__bind_text(&b, 3, e->actor);
	store__bind_text(&b, 4, e->action);
	store__bind_text(&b, 5, e->object);
	store__bind_text(&b, 6, detail_json);
	store__bind_text(&b, 7, prev_hash);
	store__bind_text(&b, 8, hash);
	rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
	if (rc != SQLITE_DONE)
		ret = store__sqlite_err(s, rc, err, "append audit event");
out:
	store__sqlite_done(st);
	return ret;
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
