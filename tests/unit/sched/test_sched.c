/* sched: the rules (backoff bounds, jitter determinism, renewal point,
 * alert rules), the planner's alert pass against a store (thresholds fire
 * once, daily below 3 days, overdue with and without a successor), and
 * the job machinery (failure -> backoff -> dead -> job_dead alert; a lease
 * lost to another worker). */
#include "../store/store_test.h"

#include "core/config.h"
#include "core/json.h"
#include "core/time.h"
#include "sched/sched_int.h"

#define HOUR 3600

/* ---- pure rules ---- */

static void test_backoff_doubles_within_20_percent_and_caps_at_6h(void **state)
{
	(void)state;
	/* rnd 0 is the low end (-20 %), a huge rnd wraps inside [0.8, 1.2]. */
	assert_int_equal(sched__backoff(1, 0, 0), 24);
	assert_int_equal(sched__backoff(2, 0, 0), 48);
	assert_int_equal(sched__backoff(3, 0, 0), 96);
	for (uint64_t r = 0; r < 5000; r += 7) {
		int64_t d1 = sched__backoff(1, 0, r * 0x9e3779b97f4a7c15ull);
		int64_t d4 = sched__backoff(4, 0, r * 0x9e3779b97f4a7c15ull);
		int64_t d30 = sched__backoff(30, 0, r * 0x9e3779b97f4a7c15ull);

		assert_in_range(d1, 24, 36);
		assert_in_range(d4, 192, 288);
		assert_in_range(d30, 6 * HOUR * 8 / 10, 6 * HOUR * 12 / 10);
	}
	/* The top of the range is reached. */
	assert_int_equal(sched__backoff(1, 0, 12), 36);
	/* A configured base (tests use 1 s) doubles the same way. */
	assert_int_equal(sched__backoff(3, 1, 0), 3);
}

static void test_jitter_is_stable_per_lineage_and_bounded(void **state)
{
	struct sched__renew_cfg rc = { .jitter_pct = true, .jitter_share = 0.10 };
	int64_t due = NOW, na = NOW + 30 * DAY, j1, j2;
	int differ = 0;

	(void)state;
	assert_int_equal(sched__hash(1, "example.com", 7), sched__hash(1, "example.com", 7));
	j1 = sched__jitter(&rc, due, na, sched__hash(1, "example.com", 7));
	j2 = sched__jitter(&rc, due, na, sched__hash(1, "example.com", 7));
	assert_int_equal(j1, j2);
	for (int i = 0; i < 200; i++) {
		char name[32];
		int64_t j;

		snprintf(name, sizeof(name), "host%d.example", i);
		j = sched__jitter(&rc, due, na, sched__hash(1, name, 7));
		assert_in_range(j, 0, HOUR); /* 10 % of 30 days, capped at 1 h */
		differ += j != j1;
	}
	assert_true(differ > 150); /* spread, not one value */
	/* A short remaining time: 10 % of 2 h = 12 min at most. */
	for (int i = 0; i < 100; i++)
		assert_in_range(sched__jitter(&rc, due, due + 2 * HOUR, sched__hash(2, "x", i)), 0,
				12 * 60);
	/* A fixed maximum, and none. */
	rc = (struct sched__renew_cfg){ .jitter_max = 600 };
	assert_in_range(sched__jitter(&rc, due, na, 123456789), 0, 600);
	rc = (struct sched__renew_cfg){ 0 };
	assert_int_equal(sched__jitter(&rc, due, na, 123456789), 0);
}

static void test_renew_point_fraction_and_short_lifetimes(void **state)
{
	struct sched__renew_cfg rc = { 0 };
	double f = 0;

	(void)state;
	/* The client's rule: 1/3 left, 1/2 for 10 days or less. */
	assert_int_equal(sched__renew_point(&rc, 0, 90 * DAY), 60 * DAY);
	assert_int_equal(sched__renew_point(&rc, 0, 6 * DAY), 3 * DAY);
	assert_true(sched__fraction_parse("1/4", &f));
	rc = (struct sched__renew_cfg){ .fraction_set = true, .fraction = f };
	assert_int_equal(sched__renew_point(&rc, 0, 100 * DAY), 75 * DAY);
	assert_int_equal(sched__renew_point(&rc, 0, 6 * DAY), 3 * DAY); /* never less than 1/2 */
	assert_true(sched__fraction_parse("0.5", &f));
	assert_false(sched__fraction_parse("1", &f));
	assert_false(sched__fraction_parse("0", &f));
	assert_false(sched__fraction_parse("1/0", &f));
	assert_false(sched__fraction_parse("a third", &f));
	assert_false(sched__fraction_parse("1/3x", &f));
}

static void test_thresholds_parse_sorts_and_refuses_junk(void **state)
{
	int d[SCHED__MAX_THRESHOLDS];
	size_t n = 0;
	struct aclm_err err = { 0 };

	(void)state;
	assert_int_equal(sched__thresholds_parse("7, 30,1,14 ,3", d, &n, &err), ACLM_OK);
	assert_int_equal(n, 5);
	assert_int_equal(d[0], 30);
	assert_int_equal(d[4], 1);
	assert_int_equal(sched__thresholds_parse("30,x", d, &n, &err), ACLM_ERR_CONFIG);
	assert_int_equal(sched__thresholds_parse("30,-1", d, &n, &err), ACLM_ERR_CONFIG);
	assert_int_equal(sched__thresholds_parse("30 14", d, &n, &err), ACLM_ERR_CONFIG);
}

static const int THR[] = { 30, 14, 7, 3, 1 };

static size_t rules(int64_t nb, int64_t na, bool successor, int64_t now,
		    struct sched__alert_want w[2])
{
	struct sched__renew_cfg rc = { 0 };
	struct sched__cert_view v = { .not_before = nb, .not_after = na,
				      .renew_point = sched__renew_point(&rc, nb, na),
				      .has_successor = successor };

	return sched__alert_rules(&v, THR, 5, now, w);
}

static void test_fresh_short_lived_certificate_does_not_alert(void **state)
{
	struct sched__alert_want w[2];

	(void)state;
	/* 6-day certificate, 5 days left: under every threshold but fresh. */
	assert_int_equal(rules(NOW - DAY, NOW + 5 * DAY, false, NOW, w), 0);
	/* 90-day certificate with 40 days left: nothing either. */
	assert_int_equal(rules(NOW - 50 * DAY, NOW + 40 * DAY, false, NOW, w), 0);
}

static void test_rules_pick_the_tightest_threshold_and_daily_below_3_days(void **state)
{
	struct sched__alert_want w[2];
	size_t n;

	(void)state;
	/* 90-day certificate, 20 days left: past its renewal point (30 days
	 * left) -> overdue, and the 30-day threshold. */
	n = rules(NOW - 70 * DAY, NOW + 20 * DAY, false, NOW, w);
	assert_int_equal(n, 2);
	assert_string_equal(w[0].kind, "overdue");
	assert_string_equal(w[1].kind, "expiry");
	assert_string_equal(w[1].dedupe, "30d");
	/* 10 days left: 14d (not 30d again, not 7d). */
	n = rules(NOW - 80 * DAY, NOW + 10 * DAY, false, NOW, w);
	assert_string_equal(w[n - 1].dedupe, "14d");
	/* Below 3 days: one per UTC day (NOW is 2027-01-15T08:00:00Z). */
	n = rules(NOW - 88 * DAY, NOW + 2 * DAY, false, NOW, w);
	assert_string_equal(w[n - 1].dedupe, "day:2027-01-15");
	assert_string_equal(w[n - 1].severity, "critical");
	n = rules(NOW - 88 * DAY, NOW + 2 * DAY, false, NOW + DAY, w);
	assert_string_equal(w[n - 1].dedupe, "day:2027-01-16");
	/* Expired: once. */
	n = rules(NOW - 91 * DAY, NOW - DAY, false, NOW, w);
	assert_int_equal(n, 1);
	assert_string_equal(w[0].dedupe, "expired");
}

static void test_overdue_only_without_successor(void **state)
{
	struct sched__alert_want w[2];

	(void)state;
	/* 6-day certificate, 2.5 days left: past half its lifetime (still
	 * over 1/3 left, so no expiry threshold yet). */
	assert_int_equal(rules(NOW - 84 * HOUR, NOW + 60 * HOUR, false, NOW, w), 1);
	assert_string_equal(w[0].kind, "overdue");
	assert_int_equal(rules(NOW - 84 * HOUR, NOW + 60 * HOUR, true, NOW, w), 0);
	/* Just before its renewal point: not overdue. */
	assert_int_equal(rules(NOW - 71 * HOUR, NOW + 73 * HOUR, false, NOW, w), 0);
}

static void test_ca_certificates_are_never_overdue(void **state)
{
	struct sched__renew_cfg rc = { 0 };
	struct sched__alert_want w[2];
	/* a 20-year root, 2 years left: far past its "renewal point" */
	struct sched__cert_view v = { .not_before = NOW - 18 * 365 * DAY,
				      .not_after = NOW + 2 * 365 * DAY, .is_ca = true };

	(void)state;
	v.renew_point = sched__renew_point(&rc, v.not_before, v.not_after);
	assert_int_equal(sched__alert_rules(&v, THR, 5, NOW, w), 0);
	v.is_ca = false;
	assert_int_equal(sched__alert_rules(&v, THR, 5, NOW, w), 1);
	assert_string_equal(w[0].kind, "overdue");
	/* expiry still applies to CA certificates */
	v.is_ca = true;
	v.not_after = NOW + 5 * DAY;
	assert_int_equal(sched__alert_rules(&v, THR, 5, NOW, w), 1);
	assert_string_equal(w[0].kind, "expiry");
}

/* ---- against a store ---- */

struct env {
	struct tdb t;
	struct aclm_config *cfg;
	struct sched__ctx c;
};

static void env_open(struct env *e, const char *conf)
{
	memset(e, 0, sizeof(*e));
	tdb_open(&e->t);
	assert_int_equal(aclm_config_new(&e->cfg), ACLM_OK);
	if (conf != NULL)
		assert_int_equal(aclm_config_load_string(e->cfg, conf, "test.conf", &e->t.err),
				 ACLM_OK);
	e->c.store = e->t.s;
	e->c.cfg = e->cfg;
	e->c.owner = "test-worker";
	e->c.lease_s = 60;
	e->c.backoff_s = 1;
	sched__ctx_tenant(&e->c, e->t.tenant, "default");
}

static void env_close(struct env *e)
{
	aclm_config_free(e->cfg);
	tdb_close(&e->t);
}

static int64_t cert(struct env *e, unsigned n, const char *name, int64_t nb, int64_t na)
{
	struct tfacts f = { .cn = name, .issuer = "CN=Test CA", .dns = { name } };
	struct store_cert c = { 0 };
	int64_t id = 0;
	bool created = false;

	tfp(c.fingerprint, "ab", n);
	c.tenant_id = e->t.tenant;
	c.facts = tfacts_json(&f);
	c.not_before = nb;
	c.not_after = na;
	c.der = (unsigned char *)tder;
	c.der_len = sizeof(tder);
	c.source = "import";
	assert_int_equal(store_cert_insert(e->t.s, &c, &id, &created, &e->t.err), ACLM_OK);
	json_decref(c.facts);
	return id;
}

static int64_t count(struct env *e, const char *where)
{
	sqlite3 *db = raw_open(e->t.path);
	char sql[512];
	int64_t n;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM alerts WHERE %s", where);
	n = raw_int(db, sql);
	sqlite3_close(db);
	return n;
}

static void test_threshold_alert_fires_once_then_the_next(void **state)
{
	struct env e;

	(void)state;
	env_open(&e, NULL);
	cert(&e, 1, "a.example", NOW - 70 * DAY, NOW + 20 * DAY);
	assert_int_equal(sched__alerts_plan(&e.c, NOW, &e.t.err), ACLM_OK);
	assert_int_equal(sched__alerts_plan(&e.c, NOW + HOUR, &e.t.err), ACLM_OK);
	assert_int_equal(count(&e, "kind = 'expiry' AND dedupe = '30d'"), 1);
	assert_int_equal(count(&e, "kind = 'overdue'"), 1);
	assert_int_equal(count(&e, "1"), 2);
	/* 8 days later (12 left): the 14-day threshold, once. */
	assert_int_equal(sched__alerts_plan(&e.c, NOW + 8 * DAY, &e.t.err), ACLM_OK);
	assert_int_equal(sched__alerts_plan(&e.c, NOW + 8 * DAY + 60, &e.t.err), ACLM_OK);
	assert_int_equal(count(&e, "kind = 'expiry' AND dedupe = '14d'"), 1);
	assert_int_equal(count(&e, "1"), 3);
	env_close(&e);
}

static void test_daily_alert_below_3_days(void **state)
{
	struct env e;

	(void)state;
	env_open(&e, "[alerts]\nthresholds = 30,14,7\n");
	cert(&e, 1, "b.example", NOW - 88 * DAY, NOW + 2 * DAY + HOUR);
	assert_int_equal(sched__alerts_plan(&e.c, NOW, &e.t.err), ACLM_OK);
	assert_int_equal(sched__alerts_plan(&e.c, NOW + 2 * HOUR, &e.t.err), ACLM_OK);
	assert_int_equal(count(&e, "dedupe LIKE 'day:%'"), 1);
	assert_int_equal(sched__alerts_plan(&e.c, NOW + DAY, &e.t.err), ACLM_OK);
	assert_int_equal(count(&e, "dedupe LIKE 'day:%'"), 2);
	env_close(&e);
}

static void test_overdue_alert_without_successor_only(void **state)
{
	struct env e;

	(void)state;
	env_open(&e, NULL);
	/* Two certificates for c.example: the older has a successor. */
	cert(&e, 1, "c.example", NOW - 70 * DAY, NOW + 20 * DAY);
	cert(&e, 2, "c.example", NOW - DAY, NOW + 89 * DAY);
	/* d.example stands alone, as overdue. */
	cert(&e, 3, "d.example", NOW - 70 * DAY, NOW + 20 * DAY);
	assert_int_equal(sched__alerts_plan(&e.c, NOW, &e.t.err), ACLM_OK);
	assert_int_equal(count(&e, "kind = 'overdue'"), 1);
	assert_int_equal(count(&e, "1"), 2); /* d's overdue and 30d */
	assert_int_equal(count(&e, "message LIKE '%c.example%'"), 0);
	env_close(&e);
}

/* A job that keeps failing is retried after the backoff, then dead with a
 * job_dead alert; a notify job's death is not notified again. */
static void test_failing_job_backs_off_then_dies_with_an_alert(void **state)
{
	struct env e;
	struct store_job *j = NULL;
	int64_t id = 0, now = aclm_time_now();
	bool created = false, ran = false;
	json_t *payload = json_pack("{s:I, s:s}", "alert_id", (json_int_t)999, "channel", "ops");

	(void)state;
	env_open(&e, NULL);
	e.c.backoff_s = 10; /* the first retry 8 to 12 s later */
	assert_int_equal(sched_enqueue(e.t.s, e.t.tenant, "notify", "k", payload, now, 2, &id,
				       &created, &e.t.err),
			 ACLM_OK);
	json_decref(payload);
	assert_int_equal(sched__run_one(&e.c, e.t.tenant, "default", now, &ran, &e.t.err), ACLM_OK);
	assert_true(ran);
	assert_int_equal(store_job_get(e.t.s, e.t.tenant, id, &j, &e.t.err), ACLM_OK);
	assert_string_equal(j->state, "queued");
	assert_non_null(strstr(j->last_error, "alert 999 not found"));
	assert_in_range(j->run_at - now, 8, 13);
	store_job_free(j);
	/* Not before the backoff is over. */
	assert_int_equal(sched__run_one(&e.c, e.t.tenant, "default", now + 7, &ran, &e.t.err),
			 ACLM_OK);
	assert_false(ran);
	assert_int_equal(sched__run_one(&e.c, e.t.tenant, "default", now + 14, &ran, &e.t.err),
			 ACLM_OK);
	assert_true(ran);
	assert_int_equal(store_job_get(e.t.s, e.t.tenant, id, &j, &e.t.err), ACLM_OK);
	assert_string_equal(j->state, "dead");
	assert_int_equal(j->attempts, 2);
	store_job_free(j);
	assert_int_equal(count(&e, "kind = 'job_dead'"), 1);
	/* No notify job was queued for it (a broken channel cannot feed itself). */
	{
		sqlite3 *db = raw_open(e.t.path);

		assert_int_equal(raw_int(db, "SELECT count(*) FROM jobs"), 1);
		sqlite3_close(db);
	}
	env_close(&e);
}

/* A job whose workers keep dying (each expired lease counts as an
 * attempt) is dead once claimed more often than max_attempts. */
static void test_job_run_too_often_by_crashes_is_dead(void **state)
{
	struct env e;
	struct store_job *j = NULL;
	int64_t id = 0, now = aclm_time_now();
	bool created = false, ran = false;
	json_t *payload = json_pack("{s:s}", "lineage", "gone.example");

	(void)state;
	env_open(&e, NULL);
	assert_int_equal(sched_enqueue(e.t.s, e.t.tenant, "renew", "gone.example", payload, now, 1,
				       &id, &created, &e.t.err),
			 ACLM_OK);
	json_decref(payload);
	/* A worker claims it and dies (no finish, no heartbeat). */
	assert_int_equal(store_job_claim(e.t.s, e.t.tenant, now, "dead-worker", now + 5, &j,
					 &e.t.err),
			 ACLM_OK);
	assert_non_null(j);
	store_job_free(j);
	/* After its lease, the next claim is attempt 2 of 1: dead, not run. */
	assert_int_equal(sched__run_one(&e.c, e.t.tenant, "default", now + 6, &ran, &e.t.err),
			 ACLM_OK);
	assert_true(ran);
	assert_int_equal(store_job_get(e.t.s, e.t.tenant, id, &j, &e.t.err), ACLM_OK);
	assert_string_equal(j->state, "dead");
	assert_non_null(strstr(j->last_error, "lease expired"));
	store_job_free(j);
	assert_int_equal(count(&e, "kind = 'job_dead'"), 1);
	env_close(&e);
}

/* A renew job that runs again after its renewal succeeded (the worker
 * died before recording "done") finds the lineage on a newer certificate
 * and stops: no second order. */
static void test_renew_job_skips_a_lineage_renewed_since_planned(void **state)
{
	struct env e;
	struct store_lineage l = { 0 };
	struct store_job *j = NULL;
	int64_t lid = 0, old_cert, new_cert, id = 0, now = aclm_time_now();
	bool created = false, ran = false;
	json_t *payload;

	(void)state;
	env_open(&e, NULL);
	old_cert = cert(&e, 1, "e.example", now - 80 * DAY, now + 10 * DAY);
	new_cert = cert(&e, 2, "e.example", now - DAY, now + 89 * DAY);
	l.tenant_id = e.t.tenant;
	l.name = "e.example";
	l.server = "https://acme.invalid/directory";
	l.names = json_pack("[s]", "e.example");
	l.key_type = "p256";
	l.cert_id = new_cert;
	assert_int_equal(store_lineage_put(e.t.s, &l, &lid, &e.t.err), ACLM_OK);
	json_decref(l.names);
	payload = json_pack("{s:s, s:I}", "lineage", "e.example", "cert_id", (json_int_t)old_cert);
	assert_int_equal(sched_enqueue(e.t.s, e.t.tenant, "renew", "e.example", payload, now, 0, &id,
				       &created, &e.t.err),
			 ACLM_OK);
	json_decref(payload);
	assert_int_equal(sched__run_one(&e.c, e.t.tenant, "default", now, &ran, &e.t.err), ACLM_OK);
	assert_true(ran);
	assert_int_equal(store_job_get(e.t.s, e.t.tenant, id, &j, &e.t.err), ACLM_OK);
	assert_string_equal(j->state, "done");
	assert_string_equal(aclm_json_str(j->result, "skipped"), "already renewed");
	assert_int_equal(aclm_json_int(j->result, "cert_id", 0), new_cert);
	store_job_free(j);
	env_close(&e);
}

/* A notify job whose channel does not exist fails permanently: dead after
 * its first attempt (max_attempts 5), one job_dead alert, no retry queued. */
static void test_notify_to_a_missing_channel_dies_at_once(void **state)
{
	struct env e;
	struct store_job *j = NULL;
	int64_t now = aclm_time_now();
	bool ran = false;
	sqlite3 *db;

	(void)state;
	env_open(&e, "[alerts]\nchannels = nope\n");
	assert_int_equal(sched__alert(&e.c, "renew_failed", "lineage:x", "cert:1", "high", NULL,
				      &e.t.err, "renewal of %s failed", "x"),
			 ACLM_OK);
	assert_int_equal(sched__run_one(&e.c, e.t.tenant, "default", now, &ran, &e.t.err), ACLM_OK);
	assert_true(ran);
	db = raw_open(e.t.path);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM jobs"), 1);
	assert_int_equal(raw_int(db, "SELECT max_attempts FROM jobs"), 5);
	assert_int_equal(store_job_get(e.t.s, e.t.tenant, raw_int(db, "SELECT id FROM jobs"), &j,
				       &e.t.err),
			 ACLM_OK);
	assert_string_equal(j->state, "dead");
	assert_int_equal(j->attempts, 1);
	assert_non_null(strstr(j->last_error, "no such channel"));
	store_job_free(j);
	assert_int_equal(count(&e, "kind = 'job_dead' AND message LIKE '%after 1 attempt:%'"), 1);
	/* nothing left to run later */
	assert_int_equal(sched__run_one(&e.c, e.t.tenant, "default", now + 86400, &ran, &e.t.err),
			 ACLM_OK);
	assert_false(ran);
	sqlite3_close(db);
	env_close(&e);
}

/* A job_dead alert of another kind goes to each [alerts] channel. */
static void test_alert_enqueues_one_notify_job_per_channel(void **state)
{
	struct env e;
	sqlite3 *db;

	(void)state;
	env_open(&e, "[alerts]\nchannels = ops, dev\n");
	assert_int_equal(sched__alert(&e.c, "renew_failed", "lineage:x", "cert:1", "high", NULL,
				      &e.t.err, "renewal of %s failed", "x"),
			 ACLM_OK);
	/* The same alert again: no new row, no new notification. */
	assert_int_equal(sched__alert(&e.c, "renew_failed", "lineage:x", "cert:1", "high", NULL,
				      &e.t.err, "renewal of %s failed", "x"),
			 ACLM_OK);
	db = raw_open(e.t.path);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM jobs WHERE kind = 'notify'"), 2);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM jobs WHERE payload LIKE '%\"dev\"%'"), 1);
	sqlite3_close(db);
	env_close(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_doubles_within_20_percent_and_caps_at_6h),
		cmocka_unit_test(test_jitter_is_stable_per_lineage_and_bounded),
		cmocka_unit_test(test_renew_point_fraction_and_short_lifetimes),
		cmocka_unit_test(test_thresholds_parse_sorts_and_refuses_junk),
		cmocka_unit_test(test_fresh_short_lived_certificate_does_not_alert),
		cmocka_unit_test(test_rules_pick_the_tightest_threshold_and_daily_below_3_days),
		cmocka_unit_test(test_overdue_only_without_successor),
		cmocka_unit_test(test_ca_certificates_are_never_overdue),
		cmocka_unit_test(test_threshold_alert_fires_once_then_the_next),
		cmocka_unit_test(test_daily_alert_below_3_days),
		cmocka_unit_test(test_overdue_alert_without_successor_only),
		cmocka_unit_test(test_failing_job_backs_off_then_dies_with_an_alert),
		cmocka_unit_test(test_job_run_too_often_by_crashes_is_dead),
		cmocka_unit_test(test_notify_to_a_missing_channel_dies_at_once),
		cmocka_unit_test(test_alert_enqueues_one_notify_job_per_channel),
		cmocka_unit_test(test_renew_job_skips_a_lineage_renewed_since_planned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
