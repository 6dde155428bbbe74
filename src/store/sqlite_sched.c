/* SQLite backend of the sched area (store/store_sched.h): the job table with
 * its lease, alerts, scan definitions and runs. Every query names the
 * tenant. */
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "store/sqlite_int.h"
#include "store/store_sched.h"

#define SCHED_JSON_MAX (1u << 20) /* payloads, results and details are small objects */
#define SCHED_TEXT_MAX 4096       /* last_error and messages are one or a few lines */

#define JOB_COLUMNS                                                                         \
	"id, tenant_id, kind, key, state, payload, result, run_at, attempts, max_attempts, " \
	"lease_owner, lease_until, heartbeat_at, last_error, created_at, updated_at"
#define ALERT_COLUMNS \
	"id, tenant_id, kind, object, dedupe, severity, message, detail, created_at"

static bool given(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* An optional JSON text column: NULL stays NULL. */
static aclm_status json_opt_col(sqlite3_stmt *st, int col, const char *what, json_t **out,
				struct aclm_err *err)
{
	const char *text = (const char *)sqlite3_column_text(st, col);

	*out = NULL;
	if (text == NULL)
		return ACLM_OK;
	return aclm_json_parse(text, (size_t)sqlite3_column_bytes(st, col), SCHED_JSON_MAX, what,
			       out, err);
}

/* Compact JSON of v (NULL for NULL), within SCHED_JSON_MAX. */
static aclm_status json_text(const json_t *v, const char *what, char **out, struct aclm_err *err)
{
	*out = NULL;
	if (v == NULL)
		return ACLM_OK;
	*out = aclm_json_dump_compact(v);
	if (*out == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "cannot serialise the %s", what);
	if (strlen(*out) > SCHED_JSON_MAX) {
		free(*out);
		*out = NULL;
		return aclm_err_set(err, ACLM_ERR_TOOBIG, "the %s is longer than %u bytes of JSON",
				    what, SCHED_JSON_MAX);
	}
	return ACLM_OK;
}

/* A store__sqlite_row_fn: a JOB_COLUMNS row into a new struct store_job. */
static aclm_status job_row(const struct store__sqlite *s, sqlite3_stmt *st, void *out,
			   struct aclm_err *err)
{
	struct store_job *j = calloc(1, sizeof(*j));
	bool ok = true;
	aclm_status ret;

	*(struct store_job **)out = NULL;
	if (j == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	j->id = sqlite3_column_int64(st, 0);
	j->tenant_id = sqlite3_column_int64(st, 1);
	j->kind = store__sqlite_text_dup(st, 2, &ok);
	j->key = store__sqlite_text_dup(st, 3, &ok);
	j->state = store__sqlite_text_dup(st, 4, &ok);
	j->run_at = sqlite3_column_int64(st, 7);
	j->attempts = sqlite3_column_int(st, 8);
	j->max_attempts = sqlite3_column_int(st, 9);
	j->lease_owner = store__sqlite_text_dup(st, 10, &ok);
	j->lease_until = sqlite3_column_int64(st, 11);
	j->heartbeat_at = sqlite3_column_int64(st, 12);
	j->last_error = store__sqlite_text_dup(st, 13, &ok);
	j->created_at = sqlite3_column_int64(st, 14);
	j->updated_at = sqlite3_column_int64(st, 15);
	ret = ok ? json_opt_col(st, 5, "job payload", &j->payload, err)
		 : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	if (ret == ACLM_OK)
		ret = json_opt_col(st, 6, "job result", &j->result, err);
	if (ret != ACLM_OK) {
		store_job_free(j);
		return ret;
	}
	*(struct store_job **)out = j;
	return ACLM_OK;
}

/* store__sqlite_each: one job row decoded, handed to the caller, freed. */
struct job_each {
	store_job_cb cb;
	void *arg;
};

static aclm_status job_each_row(struct store__sqlite *s, sqlite3_stmt *st, void *arg,
				struct aclm_err *err)
{
	struct job_each *c = arg;
	struct store_job *row = NULL;
	aclm_status ret = job_row(s, st, &row, err);

	if (ret == ACLM_OK)
		ret = c->cb(row, c->arg);
	store_job_free(row);
	return ret;
}

static aclm_status sched_job_enqueue(void *state, const struct store_job *j, int64_t now,
				     int64_t *id, bool *created, struct aclm_err *err)
{
	struct store__sqlite *s = state;
	char *payload = NULL;
	bool found = false;
	aclm_status ret;

	*id = 0;
	*created = false;
	if (!given(j->kind))
		return aclm_err_set(err, ACLM_ERR_INVALID, "enqueue: a job needs a kind");
	ret = json_text(j->payload, "job payload", &payload, err);
	/* The partial unique index jobs_active_key turns a second active job
	 * of the same key into a no-op; RETURNING then gives no row. */
	if (ret == ACLM_OK)
		ret = store__sqlite_run(
			s, SQ_KEYED,
			"INSERT INTO jobs(tenant_id, kind, key, state, payload, run_at, attempts,"
			" max_attempts, created_at, updated_at)"
			" VALUES(?1, ?2, ?3, 'queued', ?4, ?5, 0, ?6, ?7, ?7)"
			" ON CONFLICT(tenant_id, kind, key) WHERE state IN ('queued', 'running')"
			" DO NOTHING RETURNING id",
			STORE__ARGS(STORE__INT(j->tenant_id), STORE__TEXT(j->kind),
				    STORE__TEXT(j->key), STORE__TEXT(payload), STORE__INT(j->run_at),
				    STORE__INT(j->max_attempts > 0 ? j->max_attempts : 5),
				    STORE__INT(now)),
			store__sqlite_row_id, id, &found, "enqueue job", err);
	if (ret == ACLM_OK && found)
		*created = true;
	else if (ret == ACLM_OK)
		ret = store__sqlite_run(s, SQ_KEYED,
					"SELECT id FROM jobs WHERE tenant_id = ?1 AND kind = ?2"
					" AND key = ?3 AND state IN ('queued', 'running')",
					STORE__ARGS(STORE__INT(j->tenant_id), STORE__TEXT(j->kind),
						    STORE__TEXT(j->key)),
					store__sqlite_row_id, id, &found, "find active job", err);
	if (ret == ACLM_OK && *id == 0)
		ret = aclm_err_set(err, ACLM_ERR_DB, "enqueue %s job: neither inserted nor found",
				   j->kind);
	free(payload);
	return ret;
}

/* BEGIN IMMEDIATE takes the write lock before the subquery reads, so two
 * workers never pick the same row and neither fails on a stale snapshot. */
static aclm_status sched_job_claim(void *state, int64_t tenant, int64_t now, const char *owner,
				   int64_t lease_until, struct store_job **out,
				   struct aclm_err *err)
{
	struct store__sqlite *s = state;
	aclm_status ret;

	*out = NULL;
	if (!given(owner))
		return aclm_err_set(err, ACLM_ERR_INVALID, "claim: a lease needs an owner");
	ret = store__sqlite_exec(s, "BEGIN IMMEDIATE", err);
	if (ret != ACLM_OK)
		return ret;
	ret = store__sqlite_run(
		s, SQ_KEYED,
		"UPDATE jobs SET state = 'running', lease_owner = ?3, lease_until = ?4,"
		" heartbeat_at = ?2, attempts = attempts + 1, updated_at = ?2"
		" WHERE id = (SELECT id FROM jobs WHERE tenant_id = ?1 AND"
		" ((state = 'queued' AND run_at <= ?2) OR (state = 'running' AND lease_until < ?2))"
		" ORDER BY run_at, id LIMIT 1) AND tenant_id = ?1"
		" RETURNING " JOB_COLUMNS,
		STORE__ARGS(STORE__INT(tenant), STORE__INT(now), STORE__TEXT(owner),
			    STORE__INT(lease_until)),
		job_row, out, NULL, "claim job", err);
	if (ret == ACLM_OK)
		ret = store__sqlite_exec(s, "COMMIT", err);
	if (ret != ACLM_OK) {
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		store_job_free(*out);
		*out = NULL;
	}
	return ret;
}

/* The owner's running job changed, or ACLM_ERR_NOTFOUND: its lease was lost. */
static aclm_status owned(struct store__sqlite *s, aclm_status ret, int64_t id, const char *what,
			 struct aclm_err *err)
{
	if (ret == ACLM_OK && sqlite3_changes(s->db) == 0)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND,
				   "%s job %lld: this worker no longer holds its lease", what,
				   (long long)id);
	return ret;
}

static aclm_status sched_job_heartbeat(void *state, int64_t tenant, int64_t id, const char *owner,
				       int64_t now, int64_t lease_until, struct aclm_err *err)
{
	struct store__sqlite *s = state;
	aclm_status ret = store__sqlite_run(
		s, SQ_KEYED,
		"UPDATE jobs SET lease_until = ?4, heartbeat_at = ?5, updated_at = ?5"
		" WHERE tenant_id = ?1 AND id = ?2 AND lease_owner = ?3 AND state = 'running'",
		STORE__ARGS(STORE__INT(tenant), STORE__INT(id), STORE__TEXT(owner),
			    STORE__INT(lease_until), STORE__INT(now)),
		NULL, NULL, NULL, "heartbeat", err);

	return owned(s, ret, id, "heartbeat", err);
}

static aclm_status sched_job_finish(void *state, int64_t tenant, int64_t id, const char *owner,
				    int64_t now, const char *result_json, struct aclm_err *err)
{
	struct store__sqlite *s = state;
	aclm_status ret;

	if (result_json != NULL && strlen(result_json) > SCHED_JSON_MAX)
		return aclm_err_set(err, ACLM_ERR_TOOBIG, "job %lld: result too long", (long long)id);
	ret = store__sqlite_run(
		s, SQ_KEYED,
		"UPDATE jobs SET state = 'done', result = ?4, lease_owner = NULL, lease_until = NULL,"
		" last_error = NULL, updated_at = ?5"
		" WHERE tenant_id = ?1 AND id = ?2 AND lease_owner = ?3 AND state = 'running'",
		STORE__ARGS(STORE__INT(tenant), STORE__INT(id), STORE__TEXT(owner),
			    STORE__TEXT(result_json), STORE__INT(now)),
		NULL, NULL, NULL, "finish job", err);
	return owned(s, ret, id, "finish", err);
}

static aclm_status sched_job_fail(void *state, int64_t tenant, int64_t id, const char *owner,
				  int64_t now, const char *error, int64_t retry_at,
				  struct aclm_err *err)
{
	struct store__sqlite *s = state;
	char msg[SCHED_TEXT_MAX];
	aclm_status ret;

	snprintf(msg, sizeof(msg), "%s", error != NULL ? error : "failed");
	ret = store__sqlite_run(
		s, SQ_KEYED,
		"UPDATE jobs SET state = CASE WHEN ?5 < 0 THEN 'dead' ELSE 'queued' END,"
		" run_at = CASE WHEN ?5 < 0 THEN run_at ELSE ?5 END, last_error = ?4,"
		" lease_owner = NULL, lease_until = NULL, updated_at = ?6"
		" WHERE tenant_id = ?1 AND id = ?2 AND lease_owner = ?3 AND state = 'running'",
		STORE__ARGS(STORE__INT(tenant), STORE__INT(id), STORE__TEXT(owner), STORE__TEXT(msg),
			    STORE__INT(retry_at), STORE__INT(now)),
		NULL, NULL, NULL, "record job failure", err);
	return owned(s, ret, id, "fail", err);
}

static aclm_status sched_job_retry(void *state, int64_t tenant, int64_t id, int64_t now,
				   struct aclm_err *err)
{
	struct store__sqlite *s = state;
	aclm_status ret = store__sqlite_run(
		s, SQ_KEYED,
		"UPDATE jobs SET state = 'queued', run_at = ?3, attempts = 0, updated_at = ?3"
		" WHERE tenant_id = ?1 AND id = ?2 AND state = 'dead'",
		STORE__ARGS(STORE__INT(tenant), STORE__INT(id), STORE__INT(now)), NULL, NULL, NULL,
		"retry job", err);

	if (ret == ACLM_OK && sqlite3_changes(s->db) == 0)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "job %lld: no such dead job",
				   (long long)id);
	else if (ret == ACLM_ERR_EXISTS)
		ret = aclm_err_set(err, ACLM_ERR_EXISTS,
				   "job %lld: a job for the same object is already queued or running",
				   (long long)id);
	return ret;
}

static aclm_status sched_job_get(void *state, int64_t tenant, int64_t id, struct store_job **out,
				 struct aclm_err *err)
{
	bool found = false;
	aclm_status ret = store__sqlite_run(state, SQ_KEYED,
					    "SELECT " JOB_COLUMNS " FROM jobs"
					    " WHERE tenant_id = ?1 AND id = ?2",
					    STORE__ARGS(STORE__INT(tenant), STORE__INT(id)), job_row,
					    out, &found, "get job", err);

	if (ret == ACLM_OK && !found)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "job %lld not found", (long long)id);
	return ret;
}

static aclm_status sched_job_last(void *state, int64_t tenant, const char *kind, const char *key,
				  struct store_job **out, struct aclm_err *err)
{
	bool found = false;
	aclm_status ret = store__sqlite_run(state, SQ_KEYED,
					    "SELECT " JOB_COLUMNS " FROM jobs"
					    " WHERE tenant_id = ?1 AND kind = ?2 AND key = ?3"
					    " ORDER BY id DESC LIMIT 1",
					    STORE__ARGS(STORE__INT(tenant), STORE__TEXT(kind),
							STORE__TEXT(key)),
					    job_row, out, &found, "find job", err);

	if (ret == ACLM_OK && !found)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "no %s job for %s", kind, key);
	return ret;
}

static aclm_status sched_job_list(void *state, int64_t tenant, const char *job_state,
				  int64_t limit, store_job_cb cb, void *arg,
				  struct aclm_err *err)
{
	struct job_each c = { cb, arg };

	return store__sqlite_each(state, SQ_KEYED,
				  "SELECT " JOB_COLUMNS " FROM jobs WHERE tenant_id = ?1"
				  " AND (?2 IS NULL OR state = ?2) ORDER BY id DESC LIMIT ?3",
				  STORE__ARGS(STORE__INT(tenant), STORE__TEXT(job_state),
					      STORE__INT(limit > 0 ? limit : -1)),
				  job_each_row, &c, "list jobs", err);
}

static aclm_status sched_job_counts(void *state, int64_t tenant, store_job_count_cb cb, void *arg,
				    struct aclm_err *err)
{
	struct store__sqlite *s = state;
	sqlite3_stmt *st = NULL;
	aclm_status ret;
	int rc;

	ret = store__sqlite_stmt(s, SQ_KEYED,
				 "SELECT kind, state, count(*) FROM jobs WHERE tenant_id = ?1"
				 " GROUP BY kind, state",
				 &st, err);
	if (ret != ACLM_OK)
		return ret;
	rc = sqlite3_bind_int64(st, 1, tenant);
	while (ret == ACLM_OK && rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = cb((const char *)sqlite3_column_text(st, 0),
			 (const char *)sqlite3_column_text(st, 1), sqlite3_column_int64(st, 2), arg);
		rc = SQLITE_OK;
	}
	if (ret == ACLM_OK && rc != SQLITE_DONE)
		ret = store__sqlite_err(s, rc, err, "count jobs");
	store__sqlite_done(st);
	return ret;
}

/* A store__sqlite_row_fn: an ALERT_COLUMNS row into a new struct store_alert. */
static aclm_status alert_row(const struct store__sqlite *s, sqlite3_stmt *st, void *out,
			     struct aclm_err *err)
{
	struct store_alert *a = calloc(1, sizeof(*a));
	bool ok = true;
	aclm_status ret;

	*(struct store_alert **)out = NULL;
	if (a == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	a->id = sqlite3_column_int64(st, 0);
	a->tenant_id = sqlite3_column_int64(st, 1);
	a->kind = store__sqlite_text_dup(st, 2, &ok);
	a->object = store__sqlite_text_dup(st, 3, &ok);
	a->dedupe = store__sqlite_text_dup(st, 4, &ok);
	a->severity = store__sqlite_text_dup(st, 5, &ok);
	a->message = store__sqlite_text_dup(st, 6, &ok);
	a->created_at = sqlite3_column_int64(st, 8);
	ret = ok ? json_opt_col(st, 7, "alert detail", &a->detail, err)
		 : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	if (ret != ACLM_OK) {
		store_alert_free(a);
		return ret;
	}
	*(struct store_alert **)out = a;
	return ACLM_OK;
}

/* store__sqlite_each: one alert row decoded, handed to the caller, freed. */
struct alert_each {
	store_alert_cb cb;
	void *arg;
};

static aclm_status alert_each_row(struct store__sqlite *s, sqlite3_stmt *st, void *arg,
				struct aclm_err *err)
{
	struct alert_each *c = arg;
	struct store_alert *row = NULL;
	aclm_status ret = alert_row(s, st, &row, err);

	if (ret == ACLM_OK)
		ret = c->cb(row, c->arg);
	store_alert_free(row);
	return ret;
}

static aclm_status sched_alert_raise(void *state, const struct store_alert *a, int64_t *id,
				     bool *created, struct aclm_err *err)
{
	char *detail = NULL, msg[SCHED_TEXT_MAX];
	int64_t row = 0;
	bool found = false;
	aclm_status ret;

	*created = false;
	if (id != NULL)
		*id = 0;
	if (!given(a->kind) || !given(a->object) || !given(a->dedupe) || !given(a->severity))
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "alert: kind, object, dedupe and severity are required");
	snprintf(msg, sizeof(msg), "%s", a->message != NULL ? a->message : "");
	ret = json_text(a->detail, "alert detail", &detail, err);
	if (ret == ACLM_OK)
		ret = store__sqlite_run(
			state, SQ_KEYED,
			"INSERT INTO alerts(tenant_id, kind, object, dedupe, severity, message, detail,"
			" created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
			" ON CONFLICT(tenant_id, kind, object, dedupe) DO NOTHING RETURNING id",
			STORE__ARGS(STORE__INT(a->tenant_id), STORE__TEXT(a->kind),
				    STORE__TEXT(a->object), STORE__TEXT(a->dedupe),
				    STORE__TEXT(a->severity), STORE__TEXT(msg), STORE__TEXT(detail),
				    STORE__INT(a->created_at)),
			store__sqlite_row_id, &row, &found, "raise alert", err);
	if (ret == ACLM_OK && found) {
		*created = true;
		if (id != NULL)
			*id = row;
	}
	free(detail);
	return ret;
}

static aclm_status sched_alert_get(void *state, int64_t tenant, int64_t id,
				   struct store_alert **out, struct aclm_err *err)
{
	bool found = false;
	aclm_status ret = store__sqlite_run(state, SQ_KEYED,
					    "SELECT " ALERT_COLUMNS " FROM alerts"
					    " WHERE tenant_id = ?1 AND id = ?2",
					    STORE__ARGS(STORE__INT(tenant), STORE__INT(id)), alert_row,
					    out, &found, "get alert", err);

	if (ret == ACLM_OK && !found)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "alert %lld not found", (long long)id);
	return ret;
}

static aclm_status sched_alert_list(void *state, int64_t tenant, int64_t limit, store_alert_cb cb,
				    void *arg, struct aclm_err *err)
{
	struct alert_each c = { cb, arg };

	return store__sqlite_each(state, SQ_KEYED,
				  "SELECT " ALERT_COLUMNS " FROM alerts WHERE tenant_id = ?1"
				  " ORDER BY id DESC LIMIT ?2",
				  STORE__ARGS(STORE__INT(tenant), STORE__INT(limit > 0 ? limit : -1)),
				  alert_each_row, &c, "list alerts", err);
}

/* ---- scan definitions and runs ---- */

static aclm_status sched_scandef_put(void *state, const struct store_scandef *d, int64_t now,
				     int64_t *id, struct aclm_err *err)
{
	char *targets = NULL, *options = NULL;
	bool found = false;
	aclm_status ret;

	*id = 0;
	if (!given(d->name) || d->targets == NULL)
		return aclm_err_set(err, ACLM_ERR_INVALID, "scan definition: name and targets are required");
	ret = json_text(d->targets, "scan targets", &targets, err);
	if (ret == ACLM_OK)
		ret = d->options != NULL ? json_text(d->options, "scan options", &options, err)
					 : ((options = strdup("{}")) != NULL
						    ? ACLM_OK
						    : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory"));
	if (ret == ACLM_OK)
		ret = store__sqlite_run(
			state, SQ_KEYED,
			"INSERT INTO scans(tenant_id, name, targets, options, interval_s, origin,"
			" created_at, updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)"
			" ON CONFLICT(tenant_id, name) DO UPDATE SET targets = excluded.targets,"
			" options = excluded.options, interval_s = excluded.interval_s,"
			" origin = excluded.origin, updated_at = excluded.updated_at RETURNING id",
			STORE__ARGS(STORE__INT(d->tenant_id), STORE__TEXT(d->name), STORE__TEXT(targets),
				    STORE__TEXT(options), STORE__INT(d->interval_s),
				    STORE__TEXT(given(d->origin) ? d->origin : "api"), STORE__INT(now)),
			store__sqlite_row_id, id, &found, "put scan definition", err);
	free(targets);
	free(options);
	return ret;
}

static aclm_status sched_scanrun_start(void *state, int64_t tenant, int64_t scan_id, int64_t now,
				       int64_t *id, struct aclm_err *err)
{
	struct store__sqlite *s = state;
	bool found = false;
	aclm_status ret;

	*id = 0;
	/* The definition must be the tenant's: a foreign id is refused, not linked. */
	ret = store__sqlite_run(
		s, SQ_KEYED,
		"INSERT INTO scan_runs(tenant_id, scan_id, state, started_at)"
		" SELECT ?1, ?2, 'running', ?3 WHERE ?2 IS NULL OR EXISTS"
		" (SELECT 1 FROM scans WHERE id = ?2 AND tenant_id = ?1) RETURNING id",
		STORE__ARGS(STORE__INT(tenant), scan_id > 0 ? STORE__INT(scan_id) : STORE__NULL,
			    STORE__INT(now)),
		store__sqlite_row_id, id, &found, "start scan run", err);
	if (ret == ACLM_OK && !found)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "scan %lld not found", (long long)scan_id);
	return ret;
}

static aclm_status sched_scanrun_finish(void *state, const struct store_scanrun *r,
					struct aclm_err *err)
{
	struct store__sqlite *s = state;
	char *summary = NULL, msg[SCHED_TEXT_MAX];
	aclm_status ret = json_text(r->summary, "scan summary", &summary, err);

	snprintf(msg, sizeof(msg), "%s", r->error != NULL ? r->error : "");
	if (ret == ACLM_OK)
		ret = store__sqlite_run(
			s, SQ_KEYED,
			"UPDATE scan_runs SET state = ?3, finished_at = ?4, endpoints = ?5,"
			" reachable = ?6, findings = ?7, summary = ?8, error = ?9"
			" WHERE tenant_id = ?1 AND id = ?2",
			STORE__ARGS(STORE__INT(r->tenant_id), STORE__INT(r->id),
				    STORE__TEXT(given(r->state) ? r->state : "done"),
				    STORE__INT(r->finished_at), STORE__INT(r->endpoints),
				    STORE__INT(r->reachable), STORE__INT(r->findings),
				    STORE__TEXT(summary), r->error != NULL ? STORE__TEXT(msg) : STORE__NULL),
			NULL, NULL, NULL, "finish scan run", err);
	if (ret == ACLM_OK && sqlite3_changes(s->db) == 0)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "scan run %lld not found", (long long)r->id);
	free(summary);
	return ret;
}

aclm_status store__sqlite_scanrun_row(const struct store__sqlite *s, sqlite3_stmt *st, void *out,
				     struct aclm_err *err)
{
	struct store_scanrun *r = calloc(1, sizeof(*r));
	bool ok = true;
	aclm_status ret;

	*(struct store_scanrun **)out = NULL;
	if (r == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	r->id = sqlite3_column_int64(st, 0);
	r->tenant_id = sqlite3_column_int64(st, 1);
	r->scan_id = sqlite3_column_int64(st, 2);
	r->state = store__sqlite_text_dup(st, 3, &ok);
	r->started_at = sqlite3_column_int64(st, 4);
	r->finished_at = sqlite3_column_int64(st, 5);
	r->endpoints = sqlite3_column_int64(st, 6);
	r->reachable = sqlite3_column_int64(st, 7);
	r->findings = sqlite3_column_int64(st, 8);
	r->error = store__sqlite_text_dup(st, 10, &ok);
	ret = ok ? json_opt_col(st, 9, "scan summary", &r->summary, err)
		 : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	if (ret != ACLM_OK) {
		store_scanrun_free(r);
		return ret;
	}
	*(struct store_scanrun **)out = r;
	return ACLM_OK;
}

/* store__sqlite_each: one scanrun row decoded, handed to the caller, freed. */
struct scanrun_each {
	store_scanrun_cb cb;
	void *arg;
};

static aclm_status scanrun_each_row(struct store__sqlite *s, sqlite3_stmt *st, void *arg,
				struct aclm_err *err)
{
	struct scanrun_each *c = arg;
	struct store_scanrun *row = NULL;
	aclm_status ret = store__sqlite_scanrun_row(s, st, &row, err);

	if (ret == ACLM_OK)
		ret = c->cb(row, c->arg);
	store_scanrun_free(row);
	return ret;
}

static aclm_status sched_scanrun_list(void *state, int64_t tenant, int64_t scan_id, int64_t limit,
				      store_scanrun_cb cb, void *arg, struct aclm_err *err)
{
	struct scanrun_each c = { cb, arg };

	return store__sqlite_each(state, SQ_KEYED,
				  "SELECT id, tenant_id, scan_id, state, started_at, finished_at,"
				  " endpoints, reachable, findings, summary, error FROM scan_runs"
				  " WHERE tenant_id = ?1 AND (?2 = 0 OR scan_id = ?2)"
				  " ORDER BY id DESC LIMIT ?3",
				  STORE__ARGS(STORE__INT(tenant), STORE__INT(scan_id),
					      STORE__INT(limit > 0 ? limit : -1)),
				  scanrun_each_row, &c, "list scan runs", err);
}

#define SCANDEF_COLUMNS \
	"id, tenant_id, name, targets, options, interval_s, origin, created_at, updated_at"

static aclm_status scandef_row(const struct store__sqlite *s, sqlite3_stmt *st, void *out,
			       struct aclm_err *err)
{
	struct store_scandef *d = calloc(1, sizeof(*d));
	bool ok = true;
	aclm_status ret;

	(void)s;
	*(struct store_scandef **)out = NULL;
	if (d == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	d->id = sqlite3_column_int64(st, 0);
	d->tenant_id = sqlite3_column_int64(st, 1);
	d->name = store__sqlite_text_dup(st, 2, &ok);
	d->interval_s = sqlite3_column_int64(st, 5);
	d->origin = store__sqlite_text_dup(st, 6, &ok);
	d->created_at = sqlite3_column_int64(st, 7);
	d->updated_at = sqlite3_column_int64(st, 8);
	ret = ok ? json_opt_col(st, 3, "scan targets", &d->targets, err)
		 : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	if (ret == ACLM_OK)
		ret = json_opt_col(st, 4, "scan options", &d->options, err);
	if (ret != ACLM_OK) {
		store_scandef_free(d);
		return ret;
	}
	*(struct store_scandef **)out = d;
	return ACLM_OK;
}

/* store__sqlite_each: one scandef row decoded, handed to the caller, freed. */
struct scandef_each {
	store_scandef_cb cb;
	void *arg;
};

static aclm_status scandef_each_row(struct store__sqlite *s, sqlite3_stmt *st, void *arg,
				struct aclm_err *err)
{
	struct scandef_each *c = arg;
	struct store_scandef *row = NULL;
	aclm_status ret = scandef_row(s, st, &row, err);

	if (ret == ACLM_OK)
		ret = c->cb(row, c->arg);
	store_scandef_free(row);
	return ret;
}

static aclm_status sched_scandef_get(void *state, int64_t tenant, int64_t id, const char *name,
				     struct store_scandef **out, struct aclm_err *err)
{
	static const char by_id[] = "SELECT " SCANDEF_COLUMNS " FROM scans"
				    " WHERE tenant_id = ?1 AND id = ?2";
	static const char by_name[] = "SELECT " SCANDEF_COLUMNS " FROM scans"
				      " WHERE tenant_id = ?1 AND name = ?2";
	bool found = false;
	aclm_status ret = store__sqlite_run(
		state, SQ_KEYED, name != NULL ? by_name : by_id,
		STORE__ARGS(STORE__INT(tenant), name != NULL ? STORE__TEXT(name) : STORE__INT(id)),
		scandef_row, out, &found, "get scan definition", err);

	if (ret == ACLM_OK && !found)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "scan %s not found",
				   name != NULL ? name : "definition");
	return ret;
}

static aclm_status sched_scandef_page(void *state, int64_t tenant, int64_t after_id, int64_t limit,
				      store_scandef_cb cb, void *arg, struct aclm_err *err)
{
	struct scandef_each c = { cb, arg };

	return store__sqlite_each(state, SQ_KEYED,
				  "SELECT " SCANDEF_COLUMNS " FROM scans WHERE tenant_id = ?1"
				  " AND id > ?2 ORDER BY id LIMIT ?3",
				  STORE__ARGS(STORE__INT(tenant), STORE__INT(after_id),
					      STORE__INT(limit > 0 ? limit : -1)),
				  scandef_each_row, &c, "list scan definitions", err);
}

static aclm_status sched_job_page(void *state, int64_t tenant, const char *job_state,
				  int64_t before_id, int64_t limit, store_job_cb cb, void *arg,
				  struct aclm_err *err)
{
	struct job_each c = { cb, arg };

	return store__sqlite_each(state, SQ_KEYED,
				  "SELECT " JOB_COLUMNS " FROM jobs WHERE tenant_id = ?1"
				  " AND (?2 IS NULL OR state = ?2) AND (?3 = 0 OR id < ?3)"
				  " ORDER BY id DESC LIMIT ?4",
				  STORE__ARGS(STORE__INT(tenant), STORE__TEXT(job_state),
					      STORE__INT(before_id), STORE__INT(limit > 0 ? limit : -1)),
				  job_each_row, &c, "page jobs", err);
}

static aclm_status sched_alert_page(void *state, int64_t tenant, int64_t before_id, int64_t limit,
				    store_alert_cb cb, void *arg, struct aclm_err *err)
{
	struct alert_each c = { cb, arg };

	return store__sqlite_each(state, SQ_KEYED,
				  "SELECT " ALERT_COLUMNS " FROM alerts WHERE tenant_id = ?1"
				  " AND (?2 = 0 OR id < ?2) ORDER BY id DESC LIMIT ?3",
				  STORE__ARGS(STORE__INT(tenant), STORE__INT(before_id),
					      STORE__INT(limit > 0 ? limit : -1)),
				  alert_each_row, &c, "page alerts", err);
}

const struct store_sched_ops store__sqlite_sched_ops = {
	.job_enqueue = sched_job_enqueue,
	.job_claim = sched_job_claim,
	.job_heartbeat = sched_job_heartbeat,
	.job_finish = sched_job_finish,
	.job_fail = sched_job_fail,
	.job_retry = sched_job_retry,
	.job_get = sched_job_get,
	.job_last = sched_job_last,
	.job_list = sched_job_list,
	.job_counts = sched_job_counts,
	.alert_raise = sched_alert_raise,
	.alert_get = sched_alert_get,
	.alert_list = sched_alert_list,
	.scandef_put = sched_scandef_put,
	.scanrun_start = sched_scanrun_start,
	.scanrun_finish = sched_scanrun_finish,
	.scanrun_list = sched_scanrun_list,
	.scandef_get = sched_scandef_get,
	.scandef_page = sched_scandef_page,
	.job_page = sched_job_page,
	.alert_page = sched_alert_page,
};
