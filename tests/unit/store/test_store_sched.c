/* store: the sched area: the job table (dedupe among active jobs, claim
 * order and lease, heartbeat and finish by the owner only, retry and
 * dead), alerts firing once per dedupe key, and tenant isolation. */
#include "store_test.h"

#include "store/store_sched.h"

static int64_t enqueue(struct tdb *t, int64_t tenant, const char *kind, const char *key,
		       int64_t run_at, int max_attempts, bool *created)
{
	struct store_job j = { .tenant_id = tenant, .kind = (char *)kind, .key = (char *)key,
			       .run_at = run_at, .max_attempts = max_attempts };
	int64_t id = 0;
	bool c = false;

	j.payload = json_pack("{s:s}", "k", key != NULL ? key : "-");
	assert_int_equal(store_job_enqueue(t->s, &j, NOW, &id, &c, &t->err), ACLM_OK);
	json_decref(j.payload);
	if (created != NULL)
		*created = c;
	assert_true(id > 0);
	return id;
}

static int64_t claim(struct tdb *t, int64_t tenant, int64_t now, const char *owner,
		     int64_t lease_until, int *attempts)
{
	struct store_job *j = NULL;
	int64_t id;

	assert_int_equal(store_job_claim(t->s, tenant, now, owner, lease_until, &j, &t->err),
			 ACLM_OK);
	if (j == NULL)
		return 0;
	assert_string_equal(j->state, "running");
	assert_string_equal(j->lease_owner, owner);
	if (attempts != NULL)
		*attempts = j->attempts;
	id = j->id;
	store_job_free(j);
	return id;
}

static const char *state_of(struct tdb *t, int64_t tenant, int64_t id, char buf[16])
{
	struct store_job *j = NULL;

	assert_int_equal(store_job_get(t->s, tenant, id, &j, &t->err), ACLM_OK);
	snprintf(buf, 16, "%s", j->state);
	store_job_free(j);
	return buf;
}

static void test_enqueue_dedupes_active_jobs_only(void **state)
{
	struct tdb t;
	bool created;
	int64_t a, b, c;
	char st[16];

	(void)state;
	tdb_open(&t);
	a = enqueue(&t, t.tenant, "renew", "example.com", NOW, 0, &created);
	assert_true(created);
	b = enqueue(&t, t.tenant, "renew", "example.com", NOW + 50, 0, &created);
	assert_false(created);
	assert_int_equal(b, a);
	/* Another kind, another key, or no key: separate jobs. */
	assert_int_not_equal(enqueue(&t, t.tenant, "scan", "example.com", NOW, 0, NULL), a);
	assert_int_not_equal(enqueue(&t, t.tenant, "renew", "other.com", NOW, 0, NULL), a);
	c = enqueue(&t, t.tenant, "renew", NULL, NOW, 0, &created);
	assert_true(created);
	assert_int_not_equal(enqueue(&t, t.tenant, "renew", NULL, NOW, 0, &created), c);
	assert_true(created);
	/* Still deduped while running; a new one once done. */
	assert_int_equal(claim(&t, t.tenant, NOW, "w1", NOW + 60, NULL), a);
	assert_int_equal(enqueue(&t, t.tenant, "renew", "example.com", NOW, 0, &created), a);
	assert_false(created);
	assert_int_equal(store_job_finish(t.s, t.tenant, a, "w1", NOW + 1, "{\"ok\":true}", &t.err),
			 ACLM_OK);
	assert_string_equal(state_of(&t, t.tenant, a, st), "done");
	assert_int_not_equal(enqueue(&t, t.tenant, "renew", "example.com", NOW, 0, &created), a);
	assert_true(created);
	tdb_close(&t);
}

static void test_claim_takes_due_jobs_in_run_at_order(void **state)
{
	struct tdb t;
	int64_t late, early;
	int attempts = 0;

	(void)state;
	tdb_open(&t);
	late = enqueue(&t, t.tenant, "renew", "late", NOW + 100, 0, NULL);
	early = enqueue(&t, t.tenant, "renew", "early", NOW + 10, 0, NULL);
	assert_int_equal(claim(&t, t.tenant, NOW, "w1", NOW + 60, NULL), 0); /* none due yet */
	assert_int_equal(claim(&t, t.tenant, NOW + 200, "w1", NOW + 260, &attempts), early);
	assert_int_equal(attempts, 1);
	assert_int_equal(claim(&t, t.tenant, NOW + 200, "w2", NOW + 260, NULL), late);
	assert_int_equal(claim(&t, t.tenant, NOW + 200, "w3", NOW + 260, NULL), 0);
	tdb_close(&t);
}

/* The crash recovery: a running job whose lease expired is claimed again
 * by another owner; the first owner can no longer heartbeat or finish. */
static void test_expired_lease_is_reclaimed_by_another_owner(void **state)
{
	struct tdb t;
	int64_t id;
	int attempts = 0;
	char st[16];

	(void)state;
	tdb_open(&t);
	id = enqueue(&t, t.tenant, "renew", "example.com", NOW, 0, NULL);
	assert_int_equal(claim(&t, t.tenant, NOW, "A", NOW + 30, NULL), id);
	/* A heartbeats: the lease moves; B cannot take it before then. */
	assert_int_equal(store_job_heartbeat(t.s, t.tenant, id, "A", NOW + 20, NOW + 60, &t.err),
			 ACLM_OK);
	assert_int_equal(claim(&t, t.tenant, NOW + 40, "B", NOW + 100, NULL), 0);
	/* A stops beating (crashed): after NOW + 60, B gets it, attempt 2. */
	assert_int_equal(claim(&t, t.tenant, NOW + 61, "B", NOW + 121, &attempts), id);
	assert_int_equal(attempts, 2);
	assert_int_equal(store_job_heartbeat(t.s, t.tenant, id, "A", NOW + 62, NOW + 90, &t.err),
			 ACLM_ERR_NOTFOUND);
	assert_int_equal(store_job_finish(t.s, t.tenant, id, "A", NOW + 62, NULL, &t.err),
			 ACLM_ERR_NOTFOUND);
	assert_int_equal(store_job_fail(t.s, t.tenant, id, "A", NOW + 62, "x", NOW + 99, &t.err),
			 ACLM_ERR_NOTFOUND);
	assert_string_equal(state_of(&t, t.tenant, id, st), "running");
	assert_int_equal(store_job_finish(t.s, t.tenant, id, "B", NOW + 63, NULL, &t.err), ACLM_OK);
	assert_string_equal(state_of(&t, t.tenant, id, st), "done");
	tdb_close(&t);
}

static void test_fail_requeues_or_kills_and_retry_revives(void **state)
{
	struct tdb t;
	struct store_job *j = NULL;
	int64_t id, again;
	bool created;
	char st[16];

	(void)state;
	tdb_open(&t);
	id = enqueue(&t, t.tenant, "renew", "example.com", NOW, 2, NULL);
	assert_int_equal(claim(&t, t.tenant, NOW, "w", NOW + 60, NULL), id);
	assert_int_equal(store_job_fail(t.s, t.tenant, id, "w", NOW + 1, "boom", NOW + 31, &t.err),
			 ACLM_OK);
	assert_int_equal(store_job_get(t.s, t.tenant, id, &j, &t.err), ACLM_OK);
	assert_string_equal(j->state, "queued");
	assert_int_equal(j->run_at, NOW + 31);
	assert_string_equal(j->last_error, "boom");
	assert_null(j->lease_owner);
	store_job_free(j);
	assert_int_equal(claim(&t, t.tenant, NOW + 30, "w", NOW + 90, NULL), 0);
	assert_int_equal(claim(&t, t.tenant, NOW + 31, "w", NOW + 91, NULL), id);
	assert_int_equal(store_job_fail(t.s, t.tenant, id, "w", NOW + 32, "boom2", -1, &t.err),
			 ACLM_OK);
	assert_string_equal(state_of(&t, t.tenant, id, st), "dead");
	assert_int_equal(claim(&t, t.tenant, NOW + 10000, "w", NOW + 10060, NULL), 0);
	/* Dead no longer blocks the key ... */
	again = enqueue(&t, t.tenant, "renew", "example.com", NOW, 0, &created);
	assert_true(created);
	/* ... so reviving it while the new one is active is refused. */
	assert_int_equal(store_job_retry(t.s, t.tenant, id, NOW + 40, &t.err), ACLM_ERR_EXISTS);
	assert_int_equal(claim(&t, t.tenant, NOW + 40, "w", NOW + 100, NULL), again);
	assert_int_equal(store_job_finish(t.s, t.tenant, again, "w", NOW + 41, NULL, &t.err), ACLM_OK);
	assert_int_equal(store_job_retry(t.s, t.tenant, id, NOW + 42, &t.err), ACLM_OK);
	assert_int_equal(store_job_get(t.s, t.tenant, id, &j, &t.err), ACLM_OK);
	assert_string_equal(j->state, "queued");
	assert_int_equal(j->attempts, 0);
	store_job_free(j);
	/* Only dead jobs are revived. */
	assert_int_equal(store_job_retry(t.s, t.tenant, id, NOW + 43, &t.err), ACLM_ERR_NOTFOUND);
	tdb_close(&t);
}

static void test_alert_fires_once_per_dedupe_key(void **state)
{
	struct tdb t;
	struct store_alert a = { .kind = "expiry", .object = "cert:1", .dedupe = "30d",
				 .severity = "medium", .message = "expires", .created_at = NOW };
	struct store_alert *got = NULL;
	int64_t id = 0, id2 = 0;
	bool created = false;

	(void)state;
	tdb_open(&t);
	a.tenant_id = t.tenant;
	a.detail = json_pack("{s:i}", "days", 29);
	assert_int_equal(store_alert_raise(t.s, &a, &id, &created, &t.err), ACLM_OK);
	assert_true(created);
	assert_true(id > 0);
	assert_int_equal(store_alert_raise(t.s, &a, &id2, &created, &t.err), ACLM_OK);
	assert_false(created);
	assert_int_equal(id2, 0);
	a.dedupe = "14d";
	assert_int_equal(store_alert_raise(t.s, &a, &id2, &created, &t.err), ACLM_OK);
	assert_true(created);
	assert_int_equal(store_alert_get(t.s, t.tenant, id, &got, &t.err), ACLM_OK);
	assert_string_equal(got->dedupe, "30d");
	assert_int_equal(aclm_json_int(got->detail, "days", 0), 29);
	store_alert_free(got);
	json_decref(a.detail);
	tdb_close(&t);
}

static aclm_status count_cb(const void *row, void *arg)
{
	(void)row;
	(*(int *)arg)++;
	return ACLM_OK;
}

static aclm_status count_job(const struct store_job *j, void *arg)
{
	return count_cb(j, arg);
}

static aclm_status count_alert(const struct store_alert *a, void *arg)
{
	return count_cb(a, arg);
}

static void test_other_tenant_sees_nothing(void **state)
{
	struct tdb t;
	struct store_alert a = { .kind = "overdue", .object = "cert:1", .dedupe = "overdue",
				 .severity = "high", .message = "m", .created_at = NOW };
	struct store_job *j = NULL;
	struct store_alert *ga = NULL;
	int64_t other = 0, id, aid = 0;
	bool created;
	int n = 0;

	(void)state;
	tdb_open(&t);
	assert_int_equal(store_tenant_ensure(t.s, "other", &other, &t.err), ACLM_OK);
	id = enqueue(&t, t.tenant, "renew", "example.com", NOW, 0, NULL);
	a.tenant_id = t.tenant;
	assert_int_equal(store_alert_raise(t.s, &a, &aid, &created, &t.err), ACLM_OK);
	assert_int_equal(claim(&t, other, NOW, "w", NOW + 60, NULL), 0);
	assert_int_equal(store_job_get(t.s, other, id, &j, &t.err), ACLM_ERR_NOTFOUND);
	assert_int_equal(store_job_retry(t.s, other, id, NOW, &t.err), ACLM_ERR_NOTFOUND);
	assert_int_equal(store_alert_get(t.s, other, aid, &ga, &t.err), ACLM_ERR_NOTFOUND);
	assert_int_equal(store_job_list(t.s, other, NULL, 0, count_job, &n, &t.err), ACLM_OK);
	assert_int_equal(store_alert_list(t.s, other, 0, count_alert, &n, &t.err), ACLM_OK);
	assert_int_equal(n, 0);
	/* The same key in another tenant is another job. */
	assert_int_not_equal(enqueue(&t, other, "renew", "example.com", NOW, 0, &created), id);
	assert_true(created);
	assert_int_equal(claim(&t, t.tenant, NOW, "w", NOW + 60, NULL), id);
	assert_int_equal(store_job_heartbeat(t.s, other, id, "w", NOW, NOW + 90, &t.err),
			 ACLM_ERR_NOTFOUND);
	assert_int_equal(store_job_list(t.s, t.tenant, "running", 0, count_job, &n, &t.err), ACLM_OK);
	assert_int_equal(n, 1);
	tdb_close(&t);
}

static aclm_status count_run(const struct store_scanrun *r, void *arg)
{
	return count_cb(r, arg);
}

static aclm_status keep_run(const struct store_scanrun *r, void *arg)
{
	struct store_scanrun *out = arg;

	*out = *r;
	out->state = strdup(r->state);
	out->summary = json_incref(r->summary);
	out->error = r->error != NULL ? strdup(r->error) : NULL;
	return ACLM_OK;
}

static void test_scan_definition_upsert_and_runs(void **state)
{
	struct tdb t;
	struct store_scandef d = { .name = "lan", .interval_s = 3600, .origin = "config" };
	struct store_scanrun r = { 0 }, got = { 0 };
	int64_t id = 0, id2 = 0, run = 0, other = 0, orun = 0;
	int n = 0;

	(void)state;
	tdb_open(&t);
	assert_int_equal(store_tenant_ensure(t.s, "other", &other, &t.err), ACLM_OK);
	d.tenant_id = t.tenant;
	d.targets = json_pack("[s]", "10.0.0.0/24");
	assert_int_equal(store_scandef_put(t.s, &d, NOW, &id, &t.err), ACLM_OK);
	d.interval_s = 7200; /* same name: the row is updated, not doubled */
	assert_int_equal(store_scandef_put(t.s, &d, NOW + 1, &id2, &t.err), ACLM_OK);
	assert_int_equal(id2, id);
	json_decref(d.targets);
	assert_int_equal(store_scanrun_start(t.s, t.tenant, id, NOW, &run, &t.err), ACLM_OK);
	/* Another tenant cannot start a run of this definition, nor finish this run. */
	assert_int_equal(store_scanrun_start(t.s, other, id, NOW, &orun, &t.err), ACLM_ERR_NOTFOUND);
	r = (struct store_scanrun){ .id = run, .tenant_id = other, .state = "done" };
	assert_int_equal(store_scanrun_finish(t.s, &r, &t.err), ACLM_ERR_NOTFOUND);
	r = (struct store_scanrun){ .id = run, .tenant_id = t.tenant, .state = "done",
				    .finished_at = NOW + 5, .endpoints = 3, .reachable = 2,
				    .findings = 4 };
	r.summary = json_pack("{s:i}", "unknown", 1);
	assert_int_equal(store_scanrun_finish(t.s, &r, &t.err), ACLM_OK);
	json_decref(r.summary);
	assert_int_equal(store_scanrun_list(t.s, t.tenant, id, 0, keep_run, &got, &t.err), ACLM_OK);
	assert_int_equal(got.id, run);
	assert_string_equal(got.state, "done");
	assert_int_equal(got.endpoints, 3);
	assert_int_equal(got.reachable, 2);
	assert_int_equal(got.findings, 4);
	assert_int_equal(aclm_json_int(got.summary, "unknown", 0), 1);
	free(got.state);
	json_decref(got.summary);
	free(got.error);
	assert_int_equal(store_scanrun_list(t.s, other, 0, 0, count_run, &n,
					    &t.err),
			 ACLM_OK);
	assert_int_equal(n, 0);
	tdb_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enqueue_dedupes_active_jobs_only),
		cmocka_unit_test(test_claim_takes_due_jobs_in_run_at_order),
		cmocka_unit_test(test_expired_lease_is_reclaimed_by_another_owner),
		cmocka_unit_test(test_fail_requeues_or_kills_and_retry_revives),
		cmocka_unit_test(test_alert_fires_once_per_dedupe_key),
		cmocka_unit_test(test_other_tenant_sees_nothing),
		cmocka_unit_test(test_scan_definition_upsert_and_runs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
