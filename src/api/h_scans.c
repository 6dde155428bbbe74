/* api/h_scans: /api/v1/scans: scan definitions of the caller's tenant
 * (create or update by name, origin "api"; the configuration's [scan.NAME]
 * ones are shown but not changed here), runs on demand through a "scan" job,
 * and the runs' rows. Targets are checked with the scanner's own parsers,
 * without @FILE words: a client must not make the server read its files. */
#include "api/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "core/json.h"
#include "core/time.h"
#include "scan/scan.h"
#include "sched/sched.h"
#include "store/store_scan.h"
#include "store/store_sched.h"

#define TARGETS_MAX 256            /* words, as the scan job reads them */
#define ENDPOINTS_MAX 65536        /* one definition's targets x ports */
#define OPTION_MAX 1024
#define INTERVAL_MIN 60
#define INTERVAL_MAX (366 * 86400)

static json_t *scan_json(const struct store_scandef *d)
{
	const json_t *opt = d->options;
	json_t *o = json_pack("{s:s, s:s, s:O, s:s?, s:s?, s:s?, s:I, s:s}", "id", "", "name",
			      d->name, "targets", d->targets != NULL ? d->targets : json_null(),
			      "ports", aclm_json_str(opt, "ports"), "sni", aclm_json_str(opt, "sni"),
			      "checks", aclm_json_str(opt, "checks"), "interval",
			      (json_int_t)d->interval_s, "origin", d->origin != NULL ? d->origin : "");
	char id[24];

	if (o == NULL)
		return NULL;
	snprintf(id, sizeof(id), "%lld", (long long)d->id);
	if (aclm_json_set_str(o, "id", id) != 0 || api__json_time(o, "created_at", d->created_at) != 0 ||
	    api__json_time(o, "updated_at", d->updated_at) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *run_json(const struct store_scanrun *run)
{
	json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:O, s:s?}", "id", "", "state", run->state,
			      "endpoints", (json_int_t)run->endpoints, "reachable",
			      (json_int_t)run->reachable, "findings", (json_int_t)run->findings,
			      "summary", run->summary != NULL ? run->summary : json_null(), "error",
			      run->error);
	char id[24];

	if (o == NULL)
		return NULL;
	snprintf(id, sizeof(id), "%lld", (long long)run->id);
	if (aclm_json_set_str(o, "id", id) != 0 ||
	    api__json_time(o, "started_at", run->started_at) != 0 ||
	    api__json_time(o, "finished_at", run->finished_at) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ---- the body of POST /scans ---- */

struct scan_req {
	char name[API__NAME_MAX + 1];
	const char *words[TARGETS_MAX];
	size_t n;
	char ports[OPTION_MAX];
	const char *sni, *checks;
	int64_t interval;
};

static bool opt_text(json_t *body, const char *key, const char **out, struct aclm_err *err)
{
	json_t *v = json_object_get(body, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return true;
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > OPTION_MAX) {
		aclm_err_set(err, ACLM_ERR_INVALID, "%s: a string of 1 to %d characters", key,
			     OPTION_MAX);
		return false;
	}
	*out = json_string_value(v);
	return true;
}

static bool req_targets(json_t *body, struct scan_req *q, struct aclm_err *err)
{
	json_t *t = json_object_get(body, "targets"), *v;
	size_t i;

	if (!json_is_array(t) || json_array_size(t) == 0 || json_array_size(t) > TARGETS_MAX) {
		aclm_err_set(err, ACLM_ERR_INVALID, "targets: an array of 1 to %d strings",
			     TARGETS_MAX);
		return false;
	}
	json_array_foreach(t, i, v) {
		const char *w = json_string_value(v);

		if (w == NULL || w[0] == '\0' || strlen(w) >= SCAN_HOST_MAX + 8 || w[0] == '@' ||
		    strpbrk(w, ", \t\r\n") != NULL) {
			aclm_err_set(err, ACLM_ERR_INVALID,
				     "targets[%zu]: a host, address, CIDR range or HOST:PORT "
				     "(no @FILE, no spaces or commas)", i);
			return false;
		}
		q->words[q->n++] = w;
	}
	return true;
}

static bool req_ports(json_t *body, struct scan_req *q, struct aclm_err *err)
{
	json_t *v = json_object_get(body, "ports");
	const char *s = NULL;

	if (json_is_integer(v))
		snprintf(q->ports, sizeof(q->ports), "%lld", (long long)json_integer_value(v));
	else if (!opt_text(body, "ports", &s, err))
		return false;
	else if (s != NULL)
		snprintf(q->ports, sizeof(q->ports), "%s", s);
	return true;
}

static bool req_interval(json_t *body, struct scan_req *q, struct aclm_err *err)
{
	json_t *v = json_object_get(body, "interval");
	const char *s = json_string_value(v);

	if (v == NULL || json_is_null(v))
		q->interval = 0;
	else if (json_is_integer(v))
		q->interval = json_integer_value(v);
	else if (s == NULL || strlen(s) > 32 || aclm_duration_parse(s, &q->interval) != ACLM_OK)
		q->interval = -1;
	if (q->interval != 0 && (q->interval < INTERVAL_MIN || q->interval > INTERVAL_MAX)) {
		aclm_err_set(err, ACLM_ERR_INVALID,
			     "interval: 0 (on demand) or %d s to 366 days, in seconds or as \"6h\"",
			     INTERVAL_MIN);
		return false;
	}
	return true;
}

/* Everything the scan job will parse, parsed now: a bad definition is
 * refused here, not found failing at 3 a.m. */
static bool req_check(struct scan_req *q, struct aclm_err *err)
{
	struct scan_ports ports;
	struct scan_targets *t = NULL;
	const char *snis[1] = { q->sni };
	unsigned checks;
	bool ok = false;

	if (scan_ports_parse(q->ports[0] != '\0' ? q->ports : "443", &ports, err) != ACLM_OK ||
	    (q->checks != NULL && scan_checks_parse(q->checks, &checks, err) != ACLM_OK))
		goto out;
	if (q->sni != NULL && (strlen(q->sni) >= SCAN_HOST_MAX || strpbrk(q->sni, ", ") != NULL)) {
		aclm_err_set(err, ACLM_ERR_INVALID, "sni: one host name");
		goto out;
	}
	if (scan_targets_new(q->words, q->n, &ports, q->sni != NULL ? snis : NULL,
			     q->sni != NULL ? 1 : 0, &t, err) != ACLM_OK)
		goto out;
	if (scan_targets_total(t) > ENDPOINTS_MAX) {
		aclm_err_set(err, ACLM_ERR_INVALID, "targets x ports: %llu endpoints, at most %d",
			     (unsigned long long)scan_targets_total(t), ENDPOINTS_MAX);
		goto out;
	}
	ok = true;
out:
	scan_targets_free(t);
	return ok;
}

static bool scan_req_parse(struct api__req *r, json_t *body, struct scan_req *q,
			   struct aclm_err *err)
{
	const char *name = NULL;
	unsigned char rnd[4];

	if (!opt_text(body, "name", &name, err))
		return false;
	if (name != NULL && !api__name_ok(name)) {
		aclm_err_set(err, ACLM_ERR_INVALID, "name: 1 to %d of A-Z a-z 0-9 . _ - @",
			     API__NAME_MAX);
		return false;
	}
	if (name != NULL) {
		snprintf(q->name, sizeof(q->name), "%s", name);
	} else {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
			aclm_err_set(err, ACLM_ERR_CRYPTO, "no random bytes");
			return false;
		}
		snprintf(q->name, sizeof(q->name), "scan-%lld-%02x%02x%02x%02x", (long long)r->now,
			 rnd[0], rnd[1], rnd[2], rnd[3]);
	}
	return req_targets(body, q, err) && req_ports(body, q, err) &&
	       opt_text(body, "sni", &q->sni, err) && opt_text(body, "checks", &q->checks, err) &&
	       req_interval(body, q, err) && req_check(q, err);
}

void api__h_scan_put(struct api__req *r)
{
	struct scan_req q = { 0 };
	struct store_scandef d = { .tenant_id = r->p.tenant_id, .origin = "api" };
	struct store_scandef *old = NULL, *now = NULL;
	const struct aclm_config *cfg = r->w->srv->o.cfg;
	struct aclm_err err = { 0 };
	char section[API__NAME_MAX + 8];
	json_t *body = api__body_json(r), *o = NULL;
	int64_t id = 0;
	aclm_status st;

	if (body == NULL)
		return;
	if (!scan_req_parse(r, body, &q, &err))
		goto fail;
	st = store_scandef_get(r->w->store, r->p.tenant_id, 0, q.name, &old, &err);
	if (st != ACLM_OK && err.code != ACLM_ERR_NOTFOUND)
		goto fail;
	err = (struct aclm_err){ 0 };
	snprintf(section, sizeof(section), "scan.%s", q.name);
	if ((old != NULL && strcmp(old->origin, "api") != 0) ||
	    (cfg != NULL && aclm_config_get(cfg, section, "targets") != NULL)) {
		api__problem(r, 409, "exists",
			     "scan %s comes from the configuration ([scan.%s]); change it there",
			     q.name, q.name);
		goto out;
	}
	d.name = q.name;
	d.interval_s = q.interval;
	d.targets = json_array();
	d.options = json_pack("{s:s?, s:s?, s:s?}", "ports", q.ports[0] != '\0' ? q.ports : NULL,
			      "sni", q.sni, "checks", q.checks);
	for (size_t i = 0; d.targets != NULL && i < q.n; i++)
		json_array_append_new(d.targets, json_string(q.words[i]));
	if (d.targets == NULL || d.options == NULL) {
		aclm_err_set(&err, ACLM_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if (store_begin(r->w->store, &err) != ACLM_OK)
		goto fail;
	if (store_scandef_put(r->w->store, &d, r->now, &id, &err) != ACLM_OK ||
	    api__audit(r, old != NULL ? "scan.update" : "scan.create", q.name, NULL, &err) !=
		    ACLM_OK ||
	    store_commit(r->w->store, &err) != ACLM_OK) {
		store_rollback(r->w->store);
		goto fail;
	}
	if (store_scandef_get(r->w->store, r->p.tenant_id, id, NULL, &now, &err) != ACLM_OK ||
	    (o = scan_json(now)) == NULL)
		goto fail;
	api__reply_json(r, old != NULL ? 200 : 201, o);
	goto out;
fail:
	if (err.code == ACLM_OK)
		aclm_err_set(&err, ACLM_ERR_NOMEM, "out of memory");
	api__problem_err(r, &err);
out:
	json_decref(d.targets);
	json_decref(d.options);
	json_decref(body);
	store_scandef_free(old);
	store_scandef_free(now);
}

static aclm_status page_row(const struct store_scandef *d, void *arg)
{
	struct api__idpage *pg = arg;

	return api__idpage_full(pg) ? ACLM_OK : api__idpage_add(pg, d->id, scan_json(d));
}

void api__h_scan_list(struct api__req *r)
{
	struct api__idpage pg;
	struct aclm_err err = { 0 };
	aclm_status st;

	if (!api__idpage_begin(r, &pg))
		return;
	st = store_scandef_page(r->w->store, r->p.tenant_id, pg.after_id, pg.limit + 1, page_row,
				&pg, &err);
	api__idpage_reply(r, &pg, st, &err);
}

/* The path's scan of the caller's tenant; on failure the answer is sent. */
static bool scan_of_path(struct api__req *r, struct store_scandef **d)
{
	struct aclm_err err = { 0 };
	int64_t id;

	*d = NULL;
	if (!api__param_id(r, 0, "scan", &id))
		return false;
	if (store_scandef_get(r->w->store, r->p.tenant_id, id, NULL, d, &err) == ACLM_OK)
		return true;
	api__problem_absent(r, &err, "scan");
	return false;
}

static aclm_status runs_row(const struct store_scanrun *run, void *arg)
{
	json_t *o = run_json(run);

	if (o == NULL || json_array_append_new(arg, o) != 0)
		return ACLM_ERR_NOMEM;
	return ACLM_OK;
}

void api__h_scan_get(struct api__req *r)
{
	struct store_scandef *d = NULL;
	struct aclm_err err = { 0 };
	json_t *o = NULL, *runs = json_array();

	if (!scan_of_path(r, &d))
		goto out;
	o = scan_json(d);
	if (o == NULL || runs == NULL ||
	    store_scanrun_list(r->w->store, r->p.tenant_id, d->id, 1, runs_row, runs, &err) !=
		    ACLM_OK) {
		if (err.code == ACLM_OK)
			aclm_err_set(&err, ACLM_ERR_NOMEM, "out of memory");
		api__problem_err(r, &err);
		goto out;
	}
	json_object_set(o, "last_run",
			json_array_size(runs) > 0 ? json_array_get(runs, 0) : json_null());
	api__reply_json(r, 200, o);
	o = NULL;
out:
	json_decref(o);
	json_decref(runs);
	store_scandef_free(d);
}

static aclm_status runs_page_row(const struct store_scanrun *run, void *arg)
{
	struct api__idpage *pg = arg;

	return api__idpage_full(pg) ? ACLM_OK : api__idpage_add(pg, run->id, run_json(run));
}

/* Newest first; the cursor is the last id shown, the next page older. */
void api__h_scan_runs(struct api__req *r)
{
	struct store_scandef *d = NULL;
	struct api__idpage pg;
	struct aclm_err err = { 0 };
	aclm_status st;

	if (!scan_of_path(r, &d))
		return;
	if (api__idpage_begin(r, &pg)) {
		st = store_scan_run_page(r->w->store, r->p.tenant_id, d->id, pg.after_id,
					 pg.limit + 1, runs_page_row, &pg, &err);
		api__idpage_reply(r, &pg, st, &err);
	}
	store_scandef_free(d);
}

/* A configuration scan runs by name under the planner's key (one job at a
 * time either way); an API one by id. */
void api__h_scan_run(struct api__req *r)
{
	struct store_scandef *d = NULL;
	struct aclm_err err = { 0 };
	json_t *payload = NULL, *detail = NULL;
	bool from_config, created = false;
	char key[40];
	int64_t job = 0;

	if (!scan_of_path(r, &d))
		goto out;
	from_config = strcmp(d->origin, "config") == 0;
	snprintf(key, sizeof(key), "api:%lld", (long long)d->id);
	payload = from_config ? json_pack("{s:s}", "scan", d->name)
			      : json_pack("{s:I}", "scan_id", (json_int_t)d->id);
	if (payload == NULL) {
		aclm_err_set(&err, ACLM_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if (sched_enqueue(r->w->store, r->p.tenant_id, "scan", from_config ? d->name : key, payload,
			  r->now, 0, &job, &created, &err) != ACLM_OK)
		goto fail;
	detail = json_pack("{s:I, s:b}", "job", (json_int_t)job, "created", created);
	if (api__audit(r, "scan.run", d->name, detail, &err) != ACLM_OK)
		goto fail;
	api__reply_job(r, job, created);
	goto out;
fail:
	api__problem_err(r, &err);
out:
	json_decref(payload);
	json_decref(detail);
	store_scandef_free(d);
}
