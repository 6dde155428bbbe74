/* SQLite backend of the scan area (store/store_scan.h): endpoints and
 * observations, the look-ups `scan --save` judges drift, inconsistent and
 * stale with, and pages of scan runs. Every statement carries the tenant. */
#include "store/sqlite_int.h"
#include "store/store_scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

/* The address of an observation lives in its detail JSON (the table has no
 * column for it): {"ip": "..."}. */
#define OBS_COLUMNS                                                                         \
	"o.id, o.tenant_id, o.endpoint_id, COALESCE(o.cert_id, 0), "                         \
	"COALESCE(o.scan_run_id, 0), o.observed_at, "                                        \
	"COALESCE(json_extract(o.detail, '$.ip'), ''), e.sni, COALESCE(c.fingerprint, '')"
#define OBS_FROM                                                                            \
	" FROM observations o JOIN endpoints e ON e.id = o.endpoint_id AND e.tenant_id = o.tenant_id" \
	" LEFT JOIN certificates c ON c.id = o.cert_id AND c.tenant_id = o.tenant_id"

static void copy_col(sqlite3_stmt *st, int col, char *out, size_t n)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(out, n, "%s", t != NULL ? (const char *)t : "");
}

static aclm_status endpoint_row(const struct store__sqlite *s, sqlite3_stmt *st, void *out,
				struct aclm_err *err)
{
	struct store_scan_endpoint *e = out;

	(void)s;
	(void)err;
	memset(e, 0, sizeof(*e));
	e->id = sqlite3_column_int64(st, 0);
	e->tenant_id = sqlite3_column_int64(st, 1);
	copy_col(st, 2, e->host, sizeof(e->host));
	copy_col(st, 3, e->ip, sizeof(e->ip));
	e->port = sqlite3_column_int(st, 4);
	copy_col(st, 5, e->sni, sizeof(e->sni));
	e->first_seen = sqlite3_column_int64(st, 6);
	e->last_seen = sqlite3_column_int64(st, 7);
	return ACLM_OK;
}

static aclm_status obs_row(const struct store__sqlite *s, sqlite3_stmt *st, void *out,
			   struct aclm_err *err)
{
	struct store_scan_observation *o = out;

	(void)s;
	(void)err;
	memset(o, 0, sizeof(*o));
	o->id = sqlite3_column_int64(st, 0);
	o->tenant_id = sqlite3_column_int64(st, 1);
	o->endpoint_id = sqlite3_column_int64(st, 2);
	o->cert_id = sqlite3_column_int64(st, 3);
	o->scan_run_id = sqlite3_column_int64(st, 4);
	o->observed_at = sqlite3_column_int64(st, 5);
	copy_col(st, 6, o->ip, sizeof(o->ip));
	copy_col(st, 7, o->sni, sizeof(o->sni));
	copy_col(st, 8, o->fingerprint, sizeof(o->fingerprint));
	return ACLM_OK;
}

static aclm_status endpoint_upsert(void *state, const struct store_scan_endpoint *e, int64_t *id,
				   struct aclm_err *err)
{
	static const char sql[] =
		"INSERT INTO endpoints(tenant_id, host, ip, port, sni, first_seen, last_seen)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?6)"
		" ON CONFLICT(tenant_id, host, port, sni) DO UPDATE SET ip = excluded.ip,"
		" last_seen = MAX(last_seen, excluded.last_seen) RETURNING id";
	bool found = false;
	aclm_status st;

	if (e->host[0] == '\0' || e->port <= 0 || e->port > 65535)
		return aclm_err_set(err, ACLM_ERR_INVALID, "endpoint: a host and a port 1-65535 are required");
	st = store__sqlite_run(state, SQ_KEYED, sql,
			       STORE__ARGS(STORE__INT(e->tenant_id), STORE__TEXT(e->host),
					   e->ip[0] != '\0' ? STORE__TEXT(e->ip) : STORE__NULL,
					   STORE__INT(e->port), STORE__TEXT(e->sni),
					   STORE__INT(e->last_seen)),
			       store__sqlite_row_id, id, &found, "endpoint upsert", err);
	if (st == ACLM_OK && !found)
		st = aclm_err_set(err, ACLM_ERR_DB, "endpoint upsert: no row id returned");
	return st;
}

/* A multi-row read: each row decoded into row, then handed to cb. */
struct each_ctx {
	store__sqlite_row_fn decode;
	void *row;
	aclm_status (*cb)(const void *row, void *arg);
	void *arg;
};

static aclm_status each_one(struct store__sqlite *s, sqlite3_stmt *st, void *arg,
			    struct aclm_err *err)
{
	struct each_ctx *c = arg;
	aclm_status ret = c->decode(s, st, c->row, err);

	return ret == ACLM_OK ? c->cb(c->row, c->arg) : ret;
}

static aclm_status each_row(struct store__sqlite *s, const char *sql, const struct store__arg *args,
			    size_t nargs, store__sqlite_row_fn decode, void *row,
			    aclm_status (*cb)(const void *row, void *arg), void *arg,
			    const char *what, struct aclm_err *err)
{
	struct each_ctx c = { .decode = decode, .row = row, .cb = cb, .arg = arg };

	return store__sqlite_each(s, SQ_KEYED, sql, args, nargs, each_one, &c, what, err);
}

struct typed_cb {
	store_scan_endpoint_cb ep;
	store_scan_observation_cb obs;
	store_scanrun_cb run;
	void *arg;
};

static aclm_status call_ep(const void *row, void *arg)
{
	const struct typed_cb *t = arg;

	return t->ep(row, t->arg);
}

static aclm_status call_obs(const void *row, void *arg)
{
	const struct typed_cb *t = arg;

	return t->obs(row, t->arg);
}

static aclm_status endpoint_list(void *state, int64_t tenant, store_scan_endpoint_cb cb, void *arg,
				 struct aclm_err *err)
{
	static const char sql[] =
		"SELECT id, tenant_id, host, ip, port, sni, first_seen, last_seen FROM endpoints"
		" WHERE tenant_id = ?1 ORDER BY last_seen DESC, id DESC";
	struct store_scan_endpoint row;
	struct typed_cb t = { .ep = cb, .arg = arg };

	return each_row(state, sql, STORE__ARGS(STORE__INT(tenant)), endpoint_row, &row, call_ep, &t,
			"endpoint list", err);
}

static aclm_status observation_add(void *state, const struct store_scan_observation *o,
				   int64_t *id, struct aclm_err *err)
{
	/* The endpoint must be the tenant's: the SELECT yields no row (and
	 * nothing is inserted) otherwise. */
	static const char sql[] =
		"INSERT INTO observations(tenant_id, endpoint_id, cert_id, observed_at, detail, scan_run_id)"
		" SELECT ?1, id, ?3, ?4, json_object('ip', ?5), ?6 FROM endpoints"
		" WHERE tenant_id = ?1 AND id = ?2 RETURNING id";
	bool found = false;
	aclm_status st;

	st = store__sqlite_run(state, SQ_KEYED, sql,
			       STORE__ARGS(STORE__INT(o->tenant_id), STORE__INT(o->endpoint_id),
					   o->cert_id > 0 ? STORE__INT(o->cert_id) : STORE__NULL,
					   STORE__INT(o->observed_at), STORE__TEXT(o->ip),
					   o->scan_run_id > 0 ? STORE__INT(o->scan_run_id) : STORE__NULL),
			       store__sqlite_row_id, id, &found, "observation insert", err);
	if (st == ACLM_OK && !found)
		st = aclm_err_set(err, ACLM_ERR_NOTFOUND, "observation: endpoint %lld not found",
				  (long long)o->endpoint_id);
	return st;
}

static aclm_status observation_last(void *state, int64_t tenant, int64_t endpoint_id, const char *ip,
				    struct store_scan_observation *out, bool *found,
				    struct aclm_err *err)
{
	static const char sql[] =
		"SELECT " OBS_COLUMNS OBS_FROM
		" WHERE o.tenant_id = ?1 AND o.endpoint_id = ?2"
		" AND (?3 IS NULL OR json_extract(o.detail, '$.ip') = ?3)"
		" ORDER BY o.observed_at DESC, o.id DESC LIMIT 1";

	return store__sqlite_run(state, SQ_KEYED, sql,
				 STORE__ARGS(STORE__INT(tenant), STORE__INT(endpoint_id), STORE__TEXT(ip)),
				 obs_row, out, found, "observation lookup", err);
}

static aclm_status observation_list(void *state, int64_t tenant, int64_t endpoint_id,
				    store_scan_observation_cb cb, void *arg, struct aclm_err *err)
{
	static const char sql[] =
		"SELECT " OBS_COLUMNS OBS_FROM
		" WHERE o.tenant_id = ?1 AND o.endpoint_id = ?2 ORDER BY o.observed_at DESC, o.id DESC";
	struct store_scan_observation row;
	struct typed_cb t = { .obs = cb, .arg = arg };

	return each_row(state, sql, STORE__ARGS(STORE__INT(tenant), STORE__INT(endpoint_id)), obs_row,
			&row, call_obs, &t, "observation list", err);
}

static aclm_status observation_conflict(void *state, int64_t tenant, const char *host, int port,
					int64_t endpoint_id, const char *ip, int64_t cert_id,
					int64_t scan_run_id, int64_t since,
					struct store_scan_observation *out, bool *found,
					struct aclm_err *err)
{
	/* The UNIQUE(tenant_id, host, port, sni) index finds the host's rows. */
	static const char sql[] =
		"SELECT " OBS_COLUMNS OBS_FROM
		" WHERE e.tenant_id = ?1 AND e.host = ?2 AND e.port = ?3"
		" AND (e.id <> ?4 OR COALESCE(json_extract(o.detail, '$.ip'), '') <> COALESCE(?5, ''))"
		" AND o.cert_id IS NOT NULL AND o.cert_id <> ?6"
		" AND CASE WHEN ?7 > 0 THEN o.scan_run_id = ?7 ELSE o.observed_at >= ?8 END"
		" ORDER BY o.id DESC LIMIT 1";

	return store__sqlite_run(state, SQ_KEYED, sql,
				 STORE__ARGS(STORE__INT(tenant), STORE__TEXT(host), STORE__INT(port),
					     STORE__INT(endpoint_id), STORE__TEXT(ip), STORE__INT(cert_id),
					     STORE__INT(scan_run_id), STORE__INT(since)),
				 obs_row, out, found, "observation conflict", err);
}

struct cert_cb {
	store_cert_cb cb;
	void *arg;
	struct store_cert *row;
};

static aclm_status cert_decode(const struct store__sqlite *s, sqlite3_stmt *st, void *out,
			       struct aclm_err *err)
{
	struct cert_cb *c = out;

	store_cert_free(c->row);
	c->row = NULL;
	return store__sqlite_cert_row(s, st, &c->row, err);
}

static aclm_status call_cert(const void *row, void *arg)
{
	const struct cert_cb *c = row;

	(void)arg;
	return c->cb(c->row, c->arg);
}

static aclm_status cert_newer(void *state, int64_t tenant, const char *common_name, const char *name,
			      int64_t not_after, store_cert_cb cb, void *arg, struct aclm_err *err)
{
	/* By common name: an index on (tenant_id, common_name) makes it a
	 * look-up; without one the not_after index bounds the rows read. */
	static const char by_cn[] =
		"SELECT " STORE__SQLITE_CERT_COLUMNS " FROM certificates c"
		" WHERE c.tenant_id = ?1 AND c.common_name = ?3 AND c.not_after > ?2 AND c.is_ca = 0"
		" ORDER BY c.not_after DESC, c.id DESC";
	/* search holds the lowercased CN, SANs, subject and fingerprint one per
	 * line: a whole-line match is an exact name match. */
	static const char by_name[] =
		"SELECT " STORE__SQLITE_CERT_COLUMNS " FROM certificates c"
		" WHERE c.tenant_id = ?1 AND c.not_after > ?2 AND c.is_ca = 0"
		" AND instr(char(10) || c.search || char(10), char(10) || lower(?3) || char(10)) > 0"
		" ORDER BY c.not_after DESC, c.id DESC";
	struct cert_cb c = { .cb = cb, .arg = arg };
	const char *key = common_name != NULL ? common_name : name;
	aclm_status st;

	if (key == NULL)
		return ACLM_OK;
	st = each_row(state, common_name != NULL ? by_cn : by_name,
		      STORE__ARGS(STORE__INT(tenant), STORE__INT(not_after), STORE__TEXT(key)),
		      cert_decode, &c, call_cert, NULL, "certificate lookup", err);
	store_cert_free(c.row);
	return st;
}

static aclm_status endpoint_page(void *state, int64_t tenant, int64_t after_id, int64_t limit,
				 store_scan_endpoint_cb cb, void *arg, struct aclm_err *err)
{
	static const char sql[] =
		"SELECT id, tenant_id, host, ip, port, sni, first_seen, last_seen FROM endpoints"
		" WHERE tenant_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3";
	struct store_scan_endpoint row;
	struct typed_cb t = { .ep = cb, .arg = arg };

	return each_row(state, sql,
			STORE__ARGS(STORE__INT(tenant), STORE__INT(after_id), STORE__INT(limit)),
			endpoint_row, &row, call_ep, &t, "endpoint page", err);
}

static aclm_status endpoint_get(void *state, int64_t tenant, int64_t id,
				struct store_scan_endpoint *out, struct aclm_err *err)
{
	static const char sql[] =
		"SELECT id, tenant_id, host, ip, port, sni, first_seen, last_seen FROM endpoints"
		" WHERE tenant_id = ?1 AND id = ?2";
	bool found = false;
	aclm_status st = store__sqlite_run(state, SQ_KEYED, sql,
					   STORE__ARGS(STORE__INT(tenant), STORE__INT(id)),
					   endpoint_row, out, &found, "endpoint get", err);

	if (st == ACLM_OK && !found)
		st = aclm_err_set(err, ACLM_ERR_NOTFOUND, "endpoint %lld not found", (long long)id);
	return st;
}

static aclm_status observation_recent(void *state, int64_t tenant, int64_t endpoint_id,
				      int64_t limit, store_scan_observation_cb cb, void *arg,
				      struct aclm_err *err)
{
	static const char sql[] =
		"SELECT " OBS_COLUMNS OBS_FROM
		" WHERE o.tenant_id = ?1 AND o.endpoint_id = ?2"
		" ORDER BY o.observed_at DESC, o.id DESC LIMIT ?3";
	struct store_scan_observation row;
	struct typed_cb t = { .obs = cb, .arg = arg };

	return each_row(state, sql,
			STORE__ARGS(STORE__INT(tenant), STORE__INT(endpoint_id), STORE__INT(limit)),
			obs_row, &row, call_obs, &t, "recent observations", err);
}

static aclm_status observation_prev(void *state, int64_t tenant, int64_t endpoint_id, const char *ip,
				    int64_t before_id, struct store_scan_observation *out, bool *found,
				    struct aclm_err *err)
{
	/* (observed_at, id) order, as the other reads: the row before_id
	 * itself bounds it. */
	static const char sql[] =
		"SELECT " OBS_COLUMNS OBS_FROM
		" WHERE o.tenant_id = ?1 AND o.endpoint_id = ?2"
		" AND COALESCE(json_extract(o.detail, '$.ip'), '') = COALESCE(?3, '')"
		" AND (o.observed_at, o.id) < (SELECT observed_at, id FROM observations"
		"  WHERE tenant_id = ?1 AND id = ?4)"
		" ORDER BY o.observed_at DESC, o.id DESC LIMIT 1";

	return store__sqlite_run(state, SQ_KEYED, sql,
				 STORE__ARGS(STORE__INT(tenant), STORE__INT(endpoint_id), STORE__TEXT(ip),
					     STORE__INT(before_id)),
				 obs_row, out, found, "previous observation", err);
}

/* A scan_runs row (sqlite_sched.c's decoder) to the caller's callback. */
static aclm_status run_each(struct store__sqlite *s, sqlite3_stmt *st, void *arg,
			    struct aclm_err *err)
{
	const struct typed_cb *t = arg;
	struct store_scanrun *r = NULL;
	aclm_status ret = store__sqlite_scanrun_row(s, st, &r, err);

	if (ret == ACLM_OK)
		ret = t->run(r, t->arg);
	store_scanrun_free(r);
	return ret;
}

static aclm_status run_page(void *state, int64_t tenant, int64_t scan_id, int64_t before_id,
			    int64_t limit, store_scanrun_cb cb, void *arg, struct aclm_err *err)
{
	static const char sql[] =
		"SELECT id, tenant_id, COALESCE(scan_id, 0), state, started_at,"
		" COALESCE(finished_at, 0), endpoints, reachable, findings, summary, error"
		" FROM scan_runs WHERE tenant_id = ?1 AND scan_id = ?2"
		" AND (?3 = 0 OR id < ?3) ORDER BY id DESC LIMIT ?4";
	struct typed_cb t = { .run = cb, .arg = arg };

	return store__sqlite_each(state, SQ_KEYED, sql,
				  STORE__ARGS(STORE__INT(tenant), STORE__INT(scan_id),
					      STORE__INT(before_id), STORE__INT(limit > 0 ? limit : -1)),
				  run_each, &t, "page scan runs", err);
}

const struct store_scan_ops store__sqlite_scan_ops = {
	.endpoint_upsert = endpoint_upsert,
	.endpoint_list = endpoint_list,
	.observation_add = observation_add,
	.observation_last = observation_last,
	.observation_list = observation_list,
	.observation_conflict = observation_conflict,
	.cert_newer = cert_newer,
	.endpoint_page = endpoint_page,
	.endpoint_get = endpoint_get,
	.observation_recent = observation_recent,
	.observation_prev = observation_prev,
	.run_page = run_page,
};
