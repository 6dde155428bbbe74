/* SQLite backend of the deploy area (store/store_deploy.h): targets,
 * bindings and deployment results. Every statement carries the tenant. */
#include "store/sqlite_int.h"
#include "store/store_deploy.h"

#include <stdlib.h>
#include <string.h>

#include "core/json.h"

/* options, verify and detail: far more than any target needs, enforced on
 * write so that every row written reads back. */
#define DEPLOY_JSON_MAX (256u * 1024)

#define TARGET_COLUMNS "t.id, t.tenant_id, t.name, t.type, t.options, t.verify, t.created_at, t.updated_at"
#define DEPLOYMENT_COLUMNS                                                                  \
	"d.id, d.tenant_id, d.target_id, t.name, d.cert_id, d.lineage, d.fingerprint, "     \
	"d.state, d.served_fingerprint, d.error, d.detail, d.started_at, d.finished_at"

static aclm_status json_text(const json_t *v, const char *field, char **out, struct aclm_err *err)
{
	*out = NULL;
	if (v == NULL)
		return ACLM_OK;
	*out = aclm_json_dump_compact(v);
	if (*out == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "deploy: cannot serialise %s", field);
	if (strlen(*out) > DEPLOY_JSON_MAX) {
		free(*out);
		*out = NULL;
		return aclm_err_set(err, ACLM_ERR_TOOBIG, "deploy: %s longer than %u bytes of JSON",
				    field, DEPLOY_JSON_MAX);
	}
	return ACLM_OK;
}

static aclm_status json_col(sqlite3_stmt *st, int col, const char *what, json_t **out,
			    struct aclm_err *err)
{
	const char *text = (const char *)sqlite3_column_text(st, col);

	*out = NULL;
	if (text == NULL)
		return ACLM_OK;
	return aclm_json_parse(text, (size_t)sqlite3_column_bytes(st, col), DEPLOY_JSON_MAX, what,
			       out, err);
}

static aclm_status target_row(const struct store__sqlite *s, sqlite3_stmt *st, void *out,
			      struct aclm_err *err)
{
	struct store_target *t = calloc(1, sizeof(*t));
	bool ok = t != NULL;
	aclm_status ret;

	(void)s;
	if (!ok)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	t->id = sqlite3_column_int64(st, 0);
	t->tenant_id = sqlite3_column_int64(st, 1);
	t->name = store__sqlite_text_dup(st, 2, &ok);
	if (ok)
		t->type = store__sqlite_text_dup(st, 3, &ok);
	t->created_at = sqlite3_column_int64(st, 6);
	t->updated_at = sqlite3_column_int64(st, 7);
	ret = ok ? ACLM_OK : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	if (ret == ACLM_OK)
		ret = json_col(st, 4, "target options", &t->options, err);
	if (ret == ACLM_OK)
		ret = json_col(st, 5, "target verify", &t->verify, err);
	if (ret != ACLM_OK) {
		store_target_free(t);
		return ret;
	}
	*(struct store_target **)out = t;
	return ACLM_OK;
}

static aclm_status deployment_row(sqlite3_stmt *st, struct store_deployment **out,
				  struct aclm_err *err)
{
	struct store_deployment *d = calloc(1, sizeof(*d));
	bool ok = d != NULL;
	aclm_status ret;

	if (!ok)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	d->id = sqlite3_column_int64(st, 0);
	d->tenant_id = sqlite3_column_int64(st, 1);
	d->target_id = sqlite3_column_int64(st, 2);
	d->target_name = store__sqlite_text_dup(st, 3, &ok);
	d->cert_id = sqlite3_column_int64(st, 4);
	if (ok)
		d->lineage = store__sqlite_text_dup(st, 5, &ok);
	if (ok)
		d->fingerprint = store__sqlite_text_dup(st, 6, &ok);
	if (ok)
		d->state = store__sqlite_text_dup(st, 7, &ok);
	if (ok)
		d->served_fingerprint = store__sqlite_text_dup(st, 8, &ok);
	if (ok)
		d->error = store__sqlite_text_dup(st, 9, &ok);
	d->started_at = sqlite3_column_int64(st, 11);
	d->finished_at = sqlite3_column_int64(st, 12);
	ret = ok ? ACLM_OK : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	if (ret == ACLM_OK)
		ret = json_col(st, 10, "deployment detail", &d->detail, err);
	if (ret != ACLM_OK) {
		store_deployment_free(d);
		return ret;
	}
	*out = d;
	return ACLM_OK;
}

static aclm_status target_put(void *state, const struct store_target *t, int64_t *id,
			      struct aclm_err *err)
{
	char *options = NULL, *verify = NULL;
	aclm_status ret = json_text(t->options, "options", &options, err);

	if (ret == ACLM_OK)
		ret = json_text(t->verify, "verify", &verify, err);
	if (ret == ACLM_OK)
		ret = store__sqlite_run(
			state, SQ_KEYED,
			"INSERT INTO targets(tenant_id, name, type, options, verify, created_at,"
			" updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?6) RETURNING id",
			STORE__ARGS(STORE__INT(t->tenant_id), STORE__TEXT(t->name),
				    STORE__TEXT(t->type), STORE__TEXT(options != NULL ? options : "{}"),
				    STORE__TEXT(verify != NULL ? verify : "[]"),
				    STORE__INT(t->created_at)),
			store__sqlite_row_id, id, NULL, "add target", err);
	if (ret == ACLM_ERR_EXISTS)
		aclm_err_set(err, ACLM_ERR_EXISTS, "target %s exists already", t->name);
	free(options);
	free(verify);
	return ret;
}

static aclm_status target_get(void *state, int64_t tenant, const char *name,
			      struct store_target **out, struct aclm_err *err)
{
	bool found = false;
	aclm_status ret = store__sqlite_run(
		state, SQ_KEYED,
		"SELECT " TARGET_COLUMNS " FROM targets t WHERE t.tenant_id = ?1 AND t.name = ?2",
		STORE__ARGS(STORE__INT(tenant), STORE__TEXT(name)), target_row, out, &found,
		"get target", err);

	if (ret == ACLM_OK && !found)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "no target %s", name);
	return ret;
}

/* Steps st (bound already), handing each target row to cb. */
static aclm_status target_each(struct store__sqlite *s, sqlite3_stmt *st, store_target_cb cb,
			       void *arg, const char *what, struct aclm_err *err)
{
	struct store_target *t = NULL;
	aclm_status ret = ACLM_OK;
	int rc = SQLITE_DONE;

	while (ret == ACLM_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = target_row(s, st, &t, err);
		if (ret == ACLM_OK)
			ret = cb(t, arg);
		store_target_free(t);
		t = NULL;
	}
	if (ret == ACLM_OK && rc != SQLITE_DONE)
		ret = store__sqlite_err(s, rc, err, what);
	return ret;
}

static aclm_status target_list(void *state, int64_t tenant, store_target_cb cb, void *arg,
			       struct aclm_err *err)
{
	struct store__sqlite *s = state;
	sqlite3_stmt *st = NULL;
	aclm_status ret = store__sqlite_stmt(
		s, SQ_KEYED,
		"SELECT " TARGET_COLUMNS " FROM targets t WHERE t.tenant_id = ?1 ORDER BY t.name", &st,
		err);

	if (ret != ACLM_OK)
		return ret;
	if (sqlite3_bind_int64(st, 1, tenant) != SQLITE_OK)
		ret = store__sqlite_err(s, SQLITE_ERROR, err, "list targets");
	else
		ret = target_each(s, st, cb, arg, "list targets", err);
	store__sqlite_done(st);
	return ret;
}

static aclm_status target_delete(void *state, int64_t tenant, const char *name,
				 struct aclm_err *err)
{
	int64_t id = 0;
	bool found = false;
	aclm_status ret = store__sqlite_run(
		state, SQ_KEYED, "DELETE FROM targets WHERE tenant_id = ?1 AND name = ?2 RETURNING id",
		STORE__ARGS(STORE__INT(tenant), STORE__TEXT(name)), store__sqlite_row_id, &id, &found,
		"remove target", err);

	if (ret == ACLM_OK && !found)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "no target %s", name);
	return ret;
}

static aclm_status binding_add(void *state, int64_t tenant, const char *lineage, int64_t target_id,
			       int64_t now, struct aclm_err *err)
{
	/* The target must be the tenant's: the foreign key alone would accept
	 * another tenant's target id. */
	return store__sqlite_run(
		state, SQ_KEYED,
		"INSERT INTO bindings(tenant_id, lineage, target_id, created_at)"
		" SELECT ?1, ?2, id, ?4 FROM targets WHERE tenant_id = ?1 AND id = ?3"
		" ON CONFLICT DO NOTHING",
		STORE__ARGS(STORE__INT(tenant), STORE__TEXT(lineage), STORE__INT(target_id),
			    STORE__INT(now)),
		NULL, NULL, NULL, "bind target", err);
}

static aclm_status binding_list(void *state, int64_t tenant, const char *lineage,
				store_target_cb cb, void *arg, struct aclm_err *err)
{
	struct store__sqlite *s = state;
	sqlite3_stmt *st = NULL;
	aclm_status ret = store__sqlite_stmt(
		s, SQ_KEYED,
		"SELECT " TARGET_COLUMNS " FROM bindings b JOIN targets t"
		" ON t.id = b.target_id AND t.tenant_id = b.tenant_id"
		" WHERE b.tenant_id = ?1 AND b.lineage = ?2 ORDER BY t.name",
		&st, err);

	if (ret != ACLM_OK)
		return ret;
	if (sqlite3_bind_int64(st, 1, tenant) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, lineage, -1, SQLITE_STATIC) != SQLITE_OK)
		ret = store__sqlite_err(s, SQLITE_ERROR, err, "list bindings");
	else
		ret = target_each(s, st, cb, arg, "list bindings", err);
	store__sqlite_done(st);
	return ret;
}

static aclm_status deployment_start(void *state, const struct store_deployment *d, int64_t *id,
				    struct aclm_err *err)
{
	bool found = false;
	aclm_status ret = store__sqlite_run(
		state, SQ_KEYED,
		"INSERT INTO deployments(tenant_id, target_id, cert_id, lineage, fingerprint, state,"
		" started_at) SELECT ?1, id, ?3, ?4, ?5, ?6, ?7 FROM targets"
		" WHERE tenant_id = ?1 AND id = ?2 RETURNING id",
		STORE__ARGS(STORE__INT(d->tenant_id), STORE__INT(d->target_id),
			    d->cert_id > 0 ? STORE__INT(d->cert_id) : STORE__NULL,
			    STORE__TEXT(d->lineage), STORE__TEXT(d->fingerprint), STORE__TEXT(d->state),
			    STORE__INT(d->started_at)),
		store__sqlite_row_id, id, &found, "record deployment", err);

	/* No row: the target is not this tenant's. */
	if (ret == ACLM_OK && !found)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "no target %lld", (long long)d->target_id);
	return ret;
}

static aclm_status deployment_finish(void *state, const struct store_deployment *d,
				     struct aclm_err *err)
{
	char *detail = NULL;
	aclm_status ret = json_text(d->detail, "detail", &detail, err);

	if (ret == ACLM_OK)
		ret = store__sqlite_run(
			state, SQ_KEYED,
			"UPDATE deployments SET state = ?3, served_fingerprint = ?4, error = ?5,"
			" detail = ?6, finished_at = ?7 WHERE tenant_id = ?1 AND id = ?2",
			STORE__ARGS(STORE__INT(d->tenant_id), STORE__INT(d->id), STORE__TEXT(d->state),
				    STORE__TEXT(d->served_fingerprint), STORE__TEXT(d->error),
				    STORE__TEXT(detail), STORE__INT(d->finished_at)),
			NULL, NULL, NULL, "record deployment result", err);
	free(detail);
	return ret;
}

static aclm_status deployment_latest(void *state, int64_t tenant, const char *lineage,
				     store_deployment_cb cb, void *arg, struct aclm_err *err)
{
	struct store__sqlite *s = state;
	struct store_deployment *d = NULL;
	sqlite3_stmt *st = NULL;
	int rc = SQLITE_DONE;
	/* ?2 NULL: every lineage. The last row per target is its highest id. */
	aclm_status ret = store__sqlite_stmt(
		s, SQ_KEYED,
		"SELECT " DEPLOYMENT_COLUMNS " FROM deployments d JOIN targets t"
		" ON t.id = d.target_id AND t.tenant_id = d.tenant_id"
		" WHERE d.id IN (SELECT max(id) FROM deployments WHERE tenant_id = ?1"
		" AND (?2 IS NULL OR lineage = ?2) GROUP BY target_id)"
		" ORDER BY t.name",
		&st, err);

	if (ret != ACLM_OK)
		return ret;
	if (sqlite3_bind_int64(st, 1, tenant) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, lineage, -1, SQLITE_STATIC) != SQLITE_OK) {
		ret = store__sqlite_err(s, SQLITE_ERROR, err, "list deployments");
		goto out;
	}
	while (ret == ACLM_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = deployment_row(st, &d, err);
		if (ret == ACLM_OK)
			ret = cb(d, arg);
		store_deployment_free(d);
		d = NULL;
	}
	if (ret == ACLM_OK && rc != SQLITE_DONE)
		ret = store__sqlite_err(s, rc, err, "list deployments");
out:
	store__sqlite_done(st);
	return ret;
}

static aclm_status deployment_last_cert(void *state, int64_t tenant, int64_t target_id,
					int64_t *cert_id, struct aclm_err *err)
{
	*cert_id = 0;
	return store__sqlite_run(
		state, SQ_KEYED,
		"SELECT cert_id FROM deployments WHERE tenant_id = ?1 AND target_id = ?2"
		" AND state = 'deployed' AND cert_id IS NOT NULL ORDER BY id DESC LIMIT 1",
		STORE__ARGS(STORE__INT(tenant), STORE__INT(target_id)), store__sqlite_row_id, cert_id,
		NULL, "last deployed certificate", err);
}

static aclm_status target_page(void *state, int64_t tenant, int64_t after_id, int64_t limit,
			       store_target_cb cb, void *arg, struct aclm_err *err)
{
	struct store__sqlite *s = state;
	sqlite3_stmt *st = NULL;
	aclm_status ret = store__sqlite_stmt(s, SQ_KEYED,
					     "SELECT " TARGET_COLUMNS " FROM targets t"
					     " WHERE t.tenant_id = ?1 AND t.id > ?2"
					     " ORDER BY t.id LIMIT ?3",
					     &st, err);

	if (ret != ACLM_OK)
		return ret;
	if (sqlite3_bind_int64(st, 1, tenant) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, after_id) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, limit > 0 ? limit : -1) != SQLITE_OK)
		ret = store__sqlite_err(s, SQLITE_ERROR, err, "page targets");
	else
		ret = target_each(s, st, cb, arg, "page targets", err);
	store__sqlite_done(st);
	return ret;
}

struct deployment_each {
	store_deployment_cb cb;
	void *arg;
};

static aclm_status deployment_each_row(struct store__sqlite *s, sqlite3_stmt *st, void *arg,
				       struct aclm_err *err)
{
	const struct deployment_each *c = arg;
	struct store_deployment *d = NULL;
	aclm_status ret = deployment_row(st, &d, err);

	(void)s;
	if (ret == ACLM_OK)
		ret = c->cb(d, c->arg);
	store_deployment_free(d);
	return ret;
}

/* As deployment_latest; the page is keyed by target (one row each). */
static aclm_status deployment_latest_page(void *state, int64_t tenant, const char *lineage,
					  int64_t after_target_id, int64_t limit,
					  store_deployment_cb cb, void *arg, struct aclm_err *err)
{
	struct deployment_each c = { cb, arg };

	return store__sqlite_each(
		state, SQ_KEYED,
		"SELECT " DEPLOYMENT_COLUMNS " FROM deployments d JOIN targets t"
		" ON t.id = d.target_id AND t.tenant_id = d.tenant_id"
		" WHERE d.id IN (SELECT max(id) FROM deployments WHERE tenant_id = ?1"
		" AND (?2 IS NULL OR lineage = ?2) AND target_id > ?3 GROUP BY target_id)"
		" ORDER BY d.target_id LIMIT ?4",
		STORE__ARGS(STORE__INT(tenant), STORE__TEXT(lineage), STORE__INT(after_target_id),
			    STORE__INT(limit > 0 ? limit : -1)),
		deployment_each_row, &c, "page deployments", err);
}

const struct store_deploy_ops store__sqlite_deploy_ops = {
	.target_put = target_put,
	.target_get = target_get,
	.target_list = target_list,
	.target_delete = target_delete,
	.binding_add = binding_add,
	.binding_list = binding_list,
	.deployment_start = deployment_start,
	.deployment_finish = deployment_finish,
	.deployment_latest = deployment_latest,
	.deployment_last_cert = deployment_last_cert,
	.target_page = target_page,
	.deployment_latest_page = deployment_latest_page,
};
