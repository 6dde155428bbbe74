/* The job machinery: enqueue with dedupe, claim under a lease, run the
 * kind's handler, then done, or retry with exponential backoff and jitter,
 * or dead with a "job_dead" alert after max_attempts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "sched/sched_int.h"

const char *const sched_kind_names[] = { "renew", "notify", "scan", "issue", "deploy", NULL };

static const struct sched__kind kinds[] = {
	{ "renew", sched__renew_run, false },
	{ "notify", sched__notify_run, true },
	{ "scan", sched__scan_run, false },
	{ "issue", sched__issue_run, false },
	{ "deploy", sched__deploy_run, false },
};

const struct sched__kind *sched__kind_find(const char *name)
{
	for (size_t i = 0; name != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].name, name) == 0)
			return &kinds[i];
	return NULL;
}

aclm_status sched_enqueue(struct store *s, int64_t tenant_id, const char *kind, const char *key,
			  const json_t *payload, int64_t run_at, int max_attempts, int64_t *id,
			  bool *created, struct aclm_err *err)
{
	struct store_job j = {
		.tenant_id = tenant_id, .kind = (char *)kind, .key = (char *)key,
		.payload = (json_t *)payload, .run_at = run_at, .max_attempts = max_attempts,
	};

	if (sched__kind_find(kind) == NULL)
		return aclm_err_set(err, ACLM_ERR_INVALID, "enqueue: unknown job kind %s",
				    kind != NULL ? kind : "(null)");
	return store_job_enqueue(s, &j, aclm_time_now(), id, created, err);
}

int64_t sched__backoff(int attempts, int64_t base, uint64_t rnd)
{
	int64_t d = base > 0 ? base : SCHED__BACKOFF_BASE;

	for (int i = 1; i < attempts && d < SCHED__BACKOFF_CAP; i++)
		d *= 2;
	if (d > SCHED__BACKOFF_CAP)
		d = SCHED__BACKOFF_CAP;
	/* ±20 %: retries of jobs that failed together do not retry together. */
	return d * 800 / 1000 + (int64_t)(rnd % (uint64_t)(d * 400 / 1000 + 1));
}

uint64_t sched__hash(int64_t tenant, const char *name, int64_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	char buf[64];

	snprintf(buf, sizeof(buf), "%lld/%lld/", (long long)tenant, (long long)n);
	for (const char *p = buf; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	for (const char *p = name != NULL ? name : ""; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	return h;
}

static uint64_t random64(void)
{
	uint64_t r = 0;

	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = (uint64_t)aclm_time_now();
	return r;
}

/* The job is dead: record it and raise "job_dead". A dead notify job's
 * alert is not notified itself, so a broken channel cannot feed itself. */
static void job_dead(struct sched__ctx *c, const struct store_job *j, const char *why, int64_t now)
{
	struct aclm_err err = { 0 };
	char object[64], dedupe[32];
	json_t *detail = json_pack("{s:I, s:s, s:s?, s:i, s:s}", "job", (json_int_t)j->id, "kind",
				   j->kind, "key", j->key, "attempts", j->attempts, "error", why);

	snprintf(object, sizeof(object), "job:%lld", (long long)j->id);
	snprintf(dedupe, sizeof(dedupe), "dead@%lld", (long long)now);
	if (strcmp(j->kind, "notify") == 0) {
		struct store_alert a = {
			.tenant_id = j->tenant_id, .kind = "job_dead", .object = object,
			.dedupe = dedupe, .severity = "high", .detail = detail, .created_at = now,
		};
		char msg[512];
		bool created;

		snprintf(msg, sizeof(msg), "notify job %lld gave up after %d attempt%s: %s",
			 (long long)j->id, j->attempts, j->attempts == 1 ? "" : "s", why);
		a.message = msg;
		if (store_alert_raise(c->store, &a, NULL, &created, &err) != ACLM_OK)
			log_error("job %lld: %s", (long long)j->id, err.msg);
	} else if (sched__alert(c, "job_dead", object, dedupe, "high", detail, &err,
				"%s job %lld (%s) gave up after %d attempt%s: %s", j->kind,
				(long long)j->id, j->key != NULL ? j->key : "-", j->attempts,
				j->attempts == 1 ? "" : "s", why) != ACLM_OK) {
		log_error("job %lld: %s", (long long)j->id, err.msg);
	}
	json_decref(detail);
}

/* Records a failed attempt: retry later, or dead after max_attempts. A
 * permanent failure is dead at once: ACLM_ERR_CONFIG from a kind whose
 * configuration errors are final (a notify job: a channel that does not
 * exist, a recipient the mail server refused with a 5xx, a webhook's 4xx),
 * which no retry can change. */
static aclm_status job_failed(struct sched__ctx *c, const struct store_job *j, const char *why,
			      bool permanent, int64_t now, struct aclm_err *err)
{
	bool dead = permanent || j->attempts >= j->max_attempts;
	int64_t retry_at = dead ? -1 : now + sched__backoff(j->attempts, c->backoff_s, random64());
	aclm_status st = store_job_fail(c->store, j->tenant_id, j->id, c->owner, now, why, retry_at,
					err);

	if (st != ACLM_OK)
		return st;
	if (dead) {
		log_error("job %lld (%s %s): dead after %d attempt%s%s: %s", (long long)j->id,
			  j->kind, j->key != NULL ? j->key : "-", j->attempts,
			  j->attempts == 1 ? "" : "s", permanent ? " (permanent failure)" : "", why);
		job_dead(c, j, why, now);
	} else {
		log_warn("job %lld (%s %s): attempt %d failed, retry in %llds: %s", (long long)j->id,
			 j->kind, j->key != NULL ? j->key : "-", j->attempts,
			 (long long)(retry_at - now), why);
	}
	return ACLM_OK;
}

static aclm_status job_run(struct sched__ctx *c, const struct store_job *j, struct aclm_err *err)
{
	const struct sched__kind *k = sched__kind_find(j->kind);
	struct aclm_err jerr = { 0 };
	json_t *result = NULL;
	char *text = NULL;
	aclm_status st;

	/* A job claimed more often than allowed crashed its workers (each
	 * expired lease is one attempt): stop before running it again. */
	if (j->attempts > j->max_attempts)
		return job_failed(c, j, "its lease expired on every attempt (the worker died)", false,
				  aclm_time_now(), err);
	if (k == NULL)
		return job_failed(c, j, "unknown job kind", false, aclm_time_now(), err);
	log_info("job %lld: %s %s (attempt %d of %d)", (long long)j->id, j->kind,
		 j->key != NULL ? j->key : "-", j->attempts, j->max_attempts);
	if (c->hb != NULL)
		sched__hb_add(c->hb, j->tenant_id, j->id);
	st = k->run(c, j, &result, &jerr);
	if (c->hb != NULL)
		sched__hb_remove(c->hb, j->tenant_id, j->id);
	if (st != ACLM_OK) {
		json_decref(result);
		return job_failed(c, j, jerr.msg[0] != '\0' ? jerr.msg : aclm_status_name(st),
				  st == ACLM_ERR_CONFIG && k->config_error_is_final, aclm_time_now(),
				  err);
	}
	if (result != NULL)
		text = aclm_json_dump_compact(result);
	st = store_job_finish(c->store, j->tenant_id, j->id, c->owner, aclm_time_now(), text, err);
	if (st == ACLM_OK)
		log_info("job %lld: %s %s done", (long long)j->id, j->kind,
			 j->key != NULL ? j->key : "-");
	json_decref(result);
	free(text);
	return st;
}

aclm_status sched__run_one(struct sched__ctx *c, int64_t tenant, const char *tenant_name,
			   int64_t now, bool *ran, struct aclm_err *err)
{
	struct store_job *j = NULL;
	aclm_status st;

	*ran = false;
	st = store_job_claim(c->store, tenant, now, c->owner, now + c->lease_s, &j, err);
	if (st != ACLM_OK || j == NULL)
		return st;
	*ran = true;
	sched__ctx_tenant(c, tenant, tenant_name);
	st = job_run(c, j, err);
	if (st == ACLM_ERR_NOTFOUND) {
		/* The lease was lost (we stalled past it) and another worker
		 * took the job: its outcome is that worker's to record. */
		log_warn("%s", err->msg);
		st = ACLM_OK;
	}
	store_job_free(j);
	return st;
}

static aclm_status count_one(const char *kind, const char *state, int64_t n, void *arg)
{
	struct sched_stats *out = arg;
	size_t k = 0;

	while (sched_kind_names[k] != NULL && strcmp(sched_kind_names[k], kind) != 0)
		k++;
	if (strcmp(state, "queued") == 0)
		out->queued += n;
	else if (strcmp(state, "running") == 0)
		out->running += n;
	else if (strcmp(state, "dead") == 0)
		out->dead += n;
	if (sched_kind_names[k] == NULL || k >= 8)
		return ACLM_OK;
	if (strcmp(state, "done") == 0)
		out->done_total[k] += n;
	else if (strcmp(state, "dead") == 0)
		out->failed_total[k] += n;
	return ACLM_OK;
}

aclm_status sched_stats_get(struct store *s, int64_t tenant_id, struct sched_stats *out,
			    struct aclm_err *err)
{
	memset(out, 0, sizeof(*out));
	return store_job_counts(s, tenant_id, count_one, out, err);
}
