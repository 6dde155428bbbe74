/* SQLite backend: the built-in CA's rows (a root and an intermediate per
 * tenant, CA name and key type; the certificates live in the inventory). */
#include "store/sqlite_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/time.h"

#define CA_COLUMNS                                                                          \
	"id, tenant_id, name, key_type, root_cert_id, root_key_id, intermediate_cert_id, "  \
	"intermediate_key_id, offline_root, created_at"

static bool given(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* As for lineages: the foreign keys only say the certificates exist; the
 * WHERE adds "in this tenant" in the same statement. */
static const char sql_ca_put[] =
	"INSERT INTO cas(tenant_id, name, key_type, root_cert_id, root_key_id,"
	" intermediate_cert_id, intermediate_key_id, offline_root, created_at)"
	" SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9"
	" WHERE EXISTS(SELECT 1 FROM certificates WHERE tenant_id = ?1 AND id = ?4)"
	" AND EXISTS(SELECT 1 FROM certificates WHERE tenant_id = ?1 AND id = ?6)"
	" RETURNING id";

aclm_status store__sqlite_ca_put(void *state, const struct store_ca *ca, int64_t *id,
				 struct aclm_err *err)
{
	bool stored = false;
	aclm_status ret;

	if (!given(ca->name) || !given(ca->key_type) || !given(ca->root_key_id) ||
	    !given(ca->intermediate_key_id) || ca->root_cert_id <= 0 ||
	    ca->intermediate_cert_id <= 0)
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "CA: name, key type, certificates and key ids are required");
	ret = store__sqlite_run(
		state, SQ_CA_PUT, sql_ca_put,
		STORE__ARGS(STORE__INT(ca->tenant_id), STORE__TEXT(ca->name),
			    STORE__TEXT(ca->key_type), STORE__INT(ca->root_cert_id),
			    STORE__TEXT(ca->root_key_id), STORE__INT(ca->intermediate_cert_id),
			    STORE__TEXT(ca->intermediate_key_id), STORE__INT(ca->offline_root ? 1 : 0),
			    STORE__INT(ca->created_at > 0 ? ca->created_at : aclm_time_now())),
		store__sqlite_row_id, id, &stored, "store CA", err);
	/* A SQLite failure with this status can only be the unique key. */
	if (ret == ACLM_ERR_EXISTS)
		ret = aclm_err_set(err, ACLM_ERR_EXISTS, "CA %s (%s) already exists", ca->name,
				   ca->key_type);
	else if (ret == ACLM_OK && !stored)
		ret = aclm_err_set(err, ACLM_ERR_INVALID,
				   "CA %s (%s): certificate %lld or %lld is not in this tenant",
				   ca->name, ca->key_type, (long long)ca->root_cert_id,
				   (long long)ca->intermediate_cert_id);
	return ret;
}

static aclm_status ca_row(const struct store__sqlite *s, sqlite3_stmt *st, struct store_ca **out,
			  struct aclm_err *err)
{
	struct store_ca *ca = calloc(1, sizeof(*ca));
	bool ok = true;

	*out = NULL;
	if (ca == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "%s: out of memory", s->path);
	ca->id = sqlite3_column_int64(st, 0);
	ca->tenant_id = sqlite3_column_int64(st, 1);
	ca->name = store__sqlite_text_dup(st, 2, &ok);
	ca->key_type = store__sqlite_text_dup(st, 3, &ok);
	ca->root_cert_id = sqlite3_column_int64(st, 4);
	ca->root_key_id = store__sqlite_text_dup(st, 5, &ok);
	ca->intermediate_cert_id = sqlite3_column_int64(st, 6);
	ca->intermediate_key_id = store__sqlite_text_dup(st, 7, &ok);
	ca->offline_root = sqlite3_column_int64(st, 8) != 0;
	ca->created_at = sqlite3_column_int64(st, 9);
	if (!ok) {
		store_ca_free(ca);
		return aclm_err_set(err, ACLM_ERR_NOMEM, "%s: out of memory", s->path);
	}
	*out = ca;
	return ACLM_OK;
}

/* Prepared per call: the callback may use the store while this steps. */
aclm_status store__sqlite_ca_list(void *state, int64_t tenant, const char *name, store_ca_cb cb,
				  void *arg, struct aclm_err *err)
{
	struct store__sqlite *s = state;
	struct store_ca *ca = NULL;
	sqlite3_stmt *st = NULL;
	aclm_status ret = ACLM_OK;
	int rc = sqlite3_prepare_v2(s->db,
				    "SELECT " CA_COLUMNS " FROM cas WHERE tenant_id = ?1"
				    " AND (?2 IS NULL OR name = ?2) ORDER BY name, id",
				    -1, &st, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 1, tenant);
	if (rc == SQLITE_OK)
		rc = name != NULL ? sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC)
				  : sqlite3_bind_null(st, 2);
	while (ret == ACLM_OK && rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = ca_row(s, st, &ca, err);
		if (ret == ACLM_OK)
			ret = cb(ca, arg);
		store_ca_free(ca);
		ca = NULL;
		rc = SQLITE_OK;
	}
	if (ret == ACLM_OK && rc != SQLITE_DONE)
		ret = store__sqlite_err(s, rc, err, "list CAs");
	sqlite3_finalize(st);
	return ret;
}

/* ---- cross-signed intermediates ---- */

static const char sql_ca_cross_put[] =
	"INSERT INTO ca_cross(tenant_id, ca_id, cert_id, created_at)"
	" SELECT ?1, ?2, ?3, ?4"
	" WHERE EXISTS(SELECT 1 FROM cas WHERE tenant_id = ?1 AND id = ?2)"
	" AND EXISTS(SELECT 1 FROM certificates WHERE tenant_id = ?1 AND id = ?3)"
	" RETURNING ca_id";

aclm_status store__sqlite_ca_cross_put(void *state, int64_t tenant, int64_t ca_id,
				       int64_t cert_id, struct aclm_err *err)
{
	int64_t got = 0;
	bool stored = false;
	aclm_status ret = store__sqlite_run(
		state, SQ_CA_CROSS_PUT, sql_ca_cross_put,
		STORE__ARGS(STORE__INT(tenant), STORE__INT(ca_id), STORE__INT(cert_id),
			    STORE__INT(aclm_time_now())),
		store__sqlite_row_id, &got, &stored, "store cross-signed intermediate", err);

	if (ret == ACLM_ERR_EXISTS)
		ret = aclm_err_set(err, ACLM_ERR_EXISTS,
				   "certificate %lld is already a cross-signed copy of CA row %lld",
				   (long long)cert_id, (long long)ca_id);
	else if (ret == ACLM_OK && !stored)
		ret = aclm_err_set(err, ACLM_ERR_INVALID,
				   "CA row %lld or certificate %lld is not in this tenant",
				   (long long)ca_id, (long long)cert_id);
	return ret;
}

struct cross_ids {
	int64_t *ids;
	size_t max, *n;
};

static aclm_status cross_id_row(struct store__sqlite *s, sqlite3_stmt *st, void *arg,
				struct aclm_err *err)
{
	struct cross_ids *c = arg;

	(void)s;
	(void)err;
	if (*c->n < c->max)
		c->ids[(*c->n)++] = sqlite3_column_int64(st, 0);
	return ACLM_OK;
}

aclm_status store__sqlite_ca_cross_list(void *state, int64_t tenant, int64_t ca_id,
					int64_t *cert_ids, size_t max, size_t *n,
					struct aclm_err *err)
{
	struct cross_ids c = { .ids = cert_ids, .max = max, .n = n };

	*n = 0;
	return store__sqlite_each(state, SQ_CA_CROSS_LIST,
				  "SELECT cert_id FROM ca_cross WHERE tenant_id = ?1 AND ca_id = ?2"
				  " ORDER BY rowid",
				  STORE__ARGS(STORE__INT(tenant), STORE__INT(ca_id)), cross_id_row, &c,
				  "list cross-signed intermediates", err);
}
