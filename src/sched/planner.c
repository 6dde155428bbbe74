/* The planner: every tick, for each tenant, turns the inventory into jobs
 * and alerts: a renew job per lineage that is due (ARI window or lifetime
 * fraction, plus a jitter stable per lineage), the alert pass, and a scan
 * job per [scan.NAME] whose interval has passed. It does no network I/O:
 * the jobs do. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "sched/sched_int.h"

#define SHORT_LIFETIME (10 * 86400) /* the client's rule: half instead of a third */

int64_t sched__renew_point(const struct sched__renew_cfg *rc, int64_t not_before,
			   int64_t not_after)
{
	int64_t lifetime = not_after - not_before;
	double f = rc != NULL && rc->fraction_set ? rc->fraction : 1.0 / 3;

	/* Short lifetimes renew at half, as client_renewal_due does: a day
	 * of slack on a 6-day certificate is too little to fix a failure. */
	if (lifetime <= SHORT_LIFETIME && f < 0.5)
		f = 0.5;
	return not_after - (int64_t)((double)lifetime * f);
}

int64_t sched__jitter(const struct sched__renew_cfg *rc, int64_t due_at, int64_t not_after,
		      uint64_t hash)
{
	int64_t left = not_after - due_at, max;

	if (rc->jitter_pct) {
		max = (int64_t)((double)left * rc->jitter_share);
		if (max > SCHED__JITTER_CAP)
			max = SCHED__JITTER_CAP;
	} else {
		max = rc->jitter_max;
	}
	/* Never spend more than half of what is left waiting. */
	if (max > left / 2)
		max = left / 2;
	return max > 0 ? (int64_t)(hash % (uint64_t)(max + 1)) : 0;
}

/* When l is due: the CA's window (ARI on and kept on the row), else the
 * lifetime fraction; *by_ari says which. */
static int64_t lineage_due_at(const struct sched__renew_cfg *rc, const struct store_lineage *l,
			      const struct store_cert *c, int64_t now, bool *by_ari)
{
	struct store_lineage view = *l;
	struct client_renewal d;

	if (!rc->ari)
		view.ari_id = NULL; /* client_renewal_decide then ignores any window */
	client_renewal_decide(&view, c->not_before, c->not_after, now, NULL, &d);
	*by_ari = d.by_ari;
	if (d.by_ari || !rc->fraction_set || strstr(d.why, "TLCP") != NULL)
		return d.due_at;
	return sched__renew_point(rc, c->not_before, c->not_after);
}

/* A renew job already dead-lettered for this certificate waits for an
 * operator (`aclm jobs retry`) instead of being planned again each tick. */
static bool dead_for(struct sched__ctx *c, const char *name, int64_t cert_id)
{
	struct store_job *j = NULL;
	bool dead;

	if (store_job_last(c->store, c->inv.tenant_id, "renew", name, &j, NULL) != ACLM_OK)
		return false;
	dead = strcmp(j->state, "dead") == 0 && aclm_json_int(j->payload, "cert_id", -1) == cert_id;
	store_job_free(j);
	return dead;
}

static aclm_status plan_lineage(struct sched__ctx *c, const struct sched__renew_cfg *rc,
				const struct store_lineage *l, int64_t now, struct aclm_err *err)
{
	struct store_cert *cert = NULL;
	json_t *payload = NULL;
	int64_t due_at = now, run_at, id;
	bool by_ari = false, created;
	aclm_status st = ACLM_OK;

	if (l->cert_id != 0 &&
	    store_cert_get(c->store, c->inv.tenant_id, l->cert_id, &cert, NULL) == ACLM_OK)
		due_at = lineage_due_at(rc, l, cert, now, &by_ari);
	if (due_at > now || dead_for(c, l->name, l->cert_id))
		goto out;
	/* The CA's window already spreads renewals (RFC 9773 §4.2: a uniform
	 * time in it); the lifetime rule gets the jitter. */
	run_at = due_at;
	if (!by_ari && cert != NULL)
		run_at += sched__jitter(rc, due_at, cert->not_after,
					sched__hash(c->inv.tenant_id, l->name, l->cert_id));
	payload = json_pack("{s:s, s:I}", "lineage", l->name, "cert_id", (json_int_t)l->cert_id);
	st = payload != NULL
		     ? sched_enqueue(c->store, c->inv.tenant_id, "renew", l->name, payload, run_at,
				     (int)aclm_config_get_int(c->cfg, "sched", "max_attempts"), &id,
				     &created, err)
		     : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	if (st == ACLM_OK && created)
		log_info("planner: %s: renew job %lld at %lld%s", l->name, (long long)id,
			 (long long)run_at, by_ari ? " (ARI window)" : "");
out:
	json_decref(payload);
	store_cert_free(cert);
	return st;
}

static aclm_status collect_name(const struct store_lineage *l, void *arg)
{
	return json_array_append_new(arg, json_string(l->name)) == 0 ? ACLM_OK : ACLM_ERR_NOMEM;
}

static aclm_status plan_renewals(struct sched__ctx *c, int64_t now, struct aclm_err *err)
{
	struct sched__renew_cfg rc;
	json_t *names = json_array(), *v;
	size_t i;
	aclm_status st = sched__renew_cfg(c->cfg, &rc, err);

	/* Names first: planning reads rows while the listing would hold a statement. */
	if (st == ACLM_OK)
		st = store_lineage_list(c->store, c->inv.tenant_id, collect_name, names, err);
	json_array_foreach(names, i, v) {
		struct store_lineage *l = NULL;

		if (st != ACLM_OK)
			break;
		if (store_lineage_get(c->store, c->inv.tenant_id, json_string_value(v), &l, err) ==
		    ACLM_OK)
			st = plan_lineage(c, &rc, l, now, err);
		store_lineage_free(l);
	}
	json_decref(names);
	return st;
}

/* A [scan.NAME] with an interval runs when its last run is that old. */
static aclm_status plan_scan(struct sched__ctx *c, const char *name, int64_t now,
			     struct aclm_err *err)
{
	char section[160];
	const char *interval;
	struct store_job *last = NULL;
	json_t *payload = NULL;
	int64_t every = 0, id;
	bool created;
	aclm_status st = ACLM_OK;

	snprintf(section, sizeof(section), "scan.%s", name);
	interval = aclm_config_get(c->cfg, section, "interval");
	if (interval == NULL || aclm_duration_parse(interval, &every) != ACLM_OK)
		return ACLM_OK;
	if (store_job_last(c->store, c->inv.tenant_id, "scan", name, &last, NULL) == ACLM_OK &&
	    last->updated_at + every > now) {
		store_job_free(last);
		return ACLM_OK;
	}
	store_job_free(last);
	payload = json_pack("{s:s}", "scan", name);
	st = payload != NULL ? sched_enqueue(c->store, c->inv.tenant_id, "scan", name, payload, now,
					     0, &id, &created, err)
			     : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	json_decref(payload);
	return st;
}

/* The API's scan definitions with an interval (any tenant's own). */
static aclm_status api_scan_row(const struct store_scandef *d, void *arg)
{
	json_t *due = arg;

	if (d->interval_s <= 0 || d->origin == NULL || strcmp(d->origin, "api") != 0)
		return ACLM_OK;
	return json_array_append_new(due, json_pack("{s:I, s:I}", "id", (json_int_t)d->id,
						     "every", (json_int_t)d->interval_s)) == 0
		       ? ACLM_OK
		       : ACLM_ERR_NOMEM;
}

/* Each runs, as a [scan.NAME] does, when its last job is interval old;
 * the job key "api:ID" is the one POST /scans/{id}/run uses. */
static aclm_status plan_api_scans(struct sched__ctx *c, int64_t now, struct aclm_err *err)
{
	json_t *due = json_array(), *v;
	aclm_status st = due != NULL ? store_scandef_page(c->store, c->inv.tenant_id, 0, 0,
							  api_scan_row, due, err)
				     : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	size_t i;

	json_array_foreach(due, i, v) {
		int64_t id = aclm_json_int(v, "id", 0), every = aclm_json_int(v, "every", 0), job;
		struct store_job *last = NULL;
		json_t *payload;
		bool created;
		char key[40];

		if (st != ACLM_OK)
			break;
		snprintf(key, sizeof(key), "api:%lld", (long long)id);
		if (store_job_last(c->store, c->inv.tenant_id, "scan", key, &last, NULL) == ACLM_OK &&
		    last->updated_at + every > now) {
			store_job_free(last);
			continue;
		}
		store_job_free(last);
		payload = json_pack("{s:I}", "scan_id", (json_int_t)id);
		st = payload != NULL ? sched_enqueue(c->store, c->inv.tenant_id, "scan", key, payload,
						     now, 0, &job, &created, err)
				     : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
		json_decref(payload);
	}
	json_decref(due);
	return st;
}

static aclm_status plan_tenant(struct sched__ctx *c, int64_t now, struct aclm_err *err)
{
	const char *scan_tenant = aclm_config_get(c->cfg, "core", "tenant");
	const char *name;
	aclm_status st = plan_renewals(c, now, err);

	if (st == ACLM_OK)
		st = sched__alerts_plan(c, now, err);
	/* [scan.NAME] sections belong to the configured tenant. */
	if (scan_tenant != NULL && strcmp(scan_tenant, c->tenant) == 0)
		for (size_t i = 0;
		     st == ACLM_OK && (name = aclm_config_instance(c->cfg, "scan", i)) != NULL; i++)
			st = plan_scan(c, name, now, err);
	if (st == ACLM_OK)
		st = plan_api_scans(c, now, err);
	return st;
}

static aclm_status plan_tenant_cb(const struct store_tenant *t, void *arg)
{
	json_t *list = arg;

	return json_array_append_new(list, json_pack("{s:I, s:s}", "id", (json_int_t)t->id, "name",
						     t->name)) == 0
		       ? ACLM_OK
		       : ACLM_ERR_NOMEM;
}

aclm_status sched__plan(struct sched__ctx *c, int64_t now, struct aclm_err *err)
{
	json_t *tenants = json_array(), *t;
	size_t i;
	aclm_status st = tenants != NULL ? store_tenant_list(c->store, plan_tenant_cb, tenants, err)
					 : ACLM_ERR_NOMEM;

	if (st == ACLM_ERR_NOMEM && err->msg[0] == '\0')
		aclm_err_set(err, st, "out of memory");
	/* One tenant's failure (a broken row) does not stop the others. */
	json_array_foreach(tenants, i, t) {
		struct aclm_err terr = { 0 };

		if (st != ACLM_OK)
			break;
		sched__ctx_tenant(c, aclm_json_int(t, "id", 0), aclm_json_str(t, "name"));
		if (plan_tenant(c, now, &terr) != ACLM_OK)
			log_error("planner: tenant %s: %s", c->tenant, terr.msg);
	}
	json_decref(tenants);
	return st;
}
