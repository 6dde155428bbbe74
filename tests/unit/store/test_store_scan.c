/* store/ scan area (store_scan.h, sqlite_scan.c): endpoint upserts keep
 * first_seen, observations are looked up per address, conflicts are found
 * only within one scan, newer certificates only for the exact name; every
 * call sees its own tenant only. */
#include "store_test.h"

#include "store/store_scan.h"

static int64_t ep_put(struct tdb *t, int64_t tenant, const char *host, const char *ip, int port,
		      const char *sni, int64_t at)
{
	struct store_scan_endpoint e = { .tenant_id = tenant, .port = port, .last_seen = at };
	int64_t id = 0;

	snprintf(e.host, sizeof(e.host), "%s", host);
	snprintf(e.ip, sizeof(e.ip), "%s", ip);
	snprintf(e.sni, sizeof(e.sni), "%s", sni);
	assert_int_equal(store_scan_endpoint_upsert(t->s, &e, &id, &t->err), ACLM_OK);
	return id;
}

static int64_t obs_put(struct tdb *t, int64_t tenant, int64_t ep, int64_t cert, const char *ip,
		       int64_t run, int64_t at)
{
	struct store_scan_observation o = { .tenant_id = tenant, .endpoint_id = ep, .cert_id = cert,
					    .scan_run_id = run, .observed_at = at };
	int64_t id = 0;

	snprintf(o.ip, sizeof(o.ip), "%s", ip);
	assert_int_equal(store_scan_observation_add(t->s, &o, &id, &t->err), ACLM_OK);
	return id;
}

static aclm_status count_ep(const struct store_scan_endpoint *e, void *arg)
{
	(void)e;
	(*(int *)arg)++;
	return ACLM_OK;
}

static void test_upsert_keeps_first_seen_and_updates_ip(void **state)
{
	struct tdb t;
	sqlite3 *db;
	int64_t a, b, other;
	int n = 0;

	(void)state;
	tdb_open(&t);
	a = ep_put(&t, t.tenant, "www.test", "192.0.2.1", 443, "", NOW);
	b = ep_put(&t, t.tenant, "www.test", "192.0.2.2", 443, "", NOW + 60);
	assert_int_equal(a, b);
	assert_int_not_equal(ep_put(&t, t.tenant, "www.test", "192.0.2.2", 443, "www.test", NOW), a);
	db = raw_open(t.path);
	assert_int_equal(raw_int(db, "SELECT first_seen FROM endpoints WHERE id = 1"), NOW);
	assert_int_equal(raw_int(db, "SELECT last_seen FROM endpoints WHERE id = 1"), NOW + 60);
	assert_int_equal(raw_int(db, "SELECT ip = '192.0.2.2' FROM endpoints WHERE id = 1"), 1);
	sqlite3_close(db);
	/* another tenant: its own row, and neither listing sees the other's */
	assert_int_equal(store_tenant_ensure(t.s, "other", &other, &t.err), ACLM_OK);
	assert_int_not_equal(ep_put(&t, other, "www.test", "192.0.2.1", 443, "", NOW), a);
	assert_int_equal(store_scan_endpoint_list(t.s, t.tenant, count_ep, &n, &t.err), ACLM_OK);
	assert_int_equal(n, 2);
	n = 0;
	assert_int_equal(store_scan_endpoint_list(t.s, other, count_ep, &n, &t.err), ACLM_OK);
	assert_int_equal(n, 1);
	tdb_close(&t);
}

static void test_observation_needs_the_tenants_endpoint(void **state)
{
	struct tdb t;
	struct store_scan_observation o = { .cert_id = 0, .observed_at = NOW };
	int64_t other, ep, id = 0;

	(void)state;
	tdb_open(&t);
	assert_int_equal(store_tenant_ensure(t.s, "other", &other, &t.err), ACLM_OK);
	ep = ep_put(&t, t.tenant, "www.test", "192.0.2.1", 443, "", NOW);
	o.tenant_id = other;
	o.endpoint_id = ep;
	assert_int_equal(store_scan_observation_add(t.s, &o, &id, &t.err), ACLM_ERR_NOTFOUND);
	tdb_close(&t);
}

static void test_last_observation_per_address(void **state)
{
	struct tdb t;
	struct store_scan_observation o;
	char fa[65], fb[65];
	int64_t ep, ca, cb;
	bool found = true;

	(void)state;
	tdb_open(&t);
	tfp(fa, "aa", 1);
	tfp(fb, "bb", 2);
	ca = tinsert(&t, t.tenant, fa, &(struct tfacts){ .cn = "www.test", .dns = { "www.test" } }, NOW + 90 * DAY);
	cb = tinsert(&t, t.tenant, fb, &(struct tfacts){ .cn = "www.test", .dns = { "www.test" } }, NOW + 90 * DAY);
	ep = ep_put(&t, t.tenant, "www.test", "192.0.2.1", 443, "", NOW);
	assert_int_equal(store_scan_observation_last(t.s, t.tenant, ep, "192.0.2.1", &o, &found, &t.err), ACLM_OK);
	assert_false(found);
	obs_put(&t, t.tenant, ep, ca, "192.0.2.1", 0, NOW);
	obs_put(&t, t.tenant, ep, cb, "192.0.2.2", 0, NOW + 10);
	assert_int_equal(store_scan_observation_last(t.s, t.tenant, ep, "192.0.2.1", &o, &found, &t.err), ACLM_OK);
	assert_true(found);
	assert_int_equal(o.cert_id, ca);
	assert_string_equal(o.fingerprint, fa);
	assert_string_equal(o.ip, "192.0.2.1");
	assert_int_equal(store_scan_observation_last(t.s, t.tenant, ep, NULL, &o, &found, &t.err), ACLM_OK);
	assert_int_equal(o.cert_id, cb);
	/* the other tenant sees nothing of it */
	assert_int_equal(store_scan_observation_last(t.s, t.tenant + 1, ep, NULL, &o, &found, &t.err), ACLM_OK);
	assert_false(found);
	tdb_close(&t);
}

static void test_conflict_only_within_one_scan(void **state)
{
	struct tdb t;
	struct store_scan_observation o;
	char fa[65], fb[65];
	int64_t e1, e2, ca, cb;
	bool found = false;

	(void)state;
	tdb_open(&t);
	tfp(fa, "aa", 1);
	tfp(fb, "bb", 2);
	ca = tinsert(&t, t.tenant, fa, &(struct tfacts){ .cn = "a.test" }, NOW + 90 * DAY);
	cb = tinsert(&t, t.tenant, fb, &(struct tfacts){ .cn = "b.test" }, NOW + 90 * DAY);
	e1 = ep_put(&t, t.tenant, "192.0.2.1", "192.0.2.1", 443, "a.test", NOW);
	e2 = ep_put(&t, t.tenant, "192.0.2.1", "192.0.2.1", 443, "b.test", NOW);
	/* an older scan saw b on the other SNI: not this scan's business */
	obs_put(&t, t.tenant, e2, cb, "192.0.2.1", 0, NOW - 100);
	obs_put(&t, t.tenant, e1, ca, "192.0.2.1", 0, NOW);
	assert_int_equal(store_scan_observation_conflict(t.s, t.tenant, "192.0.2.1", 443, e1, "192.0.2.1",
							 ca, 0, NOW, &o, &found, &t.err), ACLM_OK);
	assert_false(found);
	/* this scan: the other SNI serves b */
	obs_put(&t, t.tenant, e2, cb, "192.0.2.1", 0, NOW + 1);
	assert_int_equal(store_scan_observation_conflict(t.s, t.tenant, "192.0.2.1", 443, e1, "192.0.2.1",
							 ca, 0, NOW, &o, &found, &t.err), ACLM_OK);
	assert_true(found);
	assert_string_equal(o.sni, "b.test");
	assert_string_equal(o.fingerprint, fb);
	/* by run id: run 7 saw only a */
	obs_put(&t, t.tenant, e1, ca, "192.0.2.1", 7, NOW + 2);
	assert_int_equal(store_scan_observation_conflict(t.s, t.tenant, "192.0.2.1", 443, e1, "192.0.2.1",
							 ca, 7, 0, &o, &found, &t.err), ACLM_OK);
	assert_false(found);
	/* the same endpoint row at another address counts too */
	obs_put(&t, t.tenant, e1, cb, "192.0.2.9", 7, NOW + 3);
	assert_int_equal(store_scan_observation_conflict(t.s, t.tenant, "192.0.2.1", 443, e1, "192.0.2.1",
							 ca, 7, 0, &o, &found, &t.err), ACLM_OK);
	assert_true(found);
	assert_string_equal(o.ip, "192.0.2.9");
	tdb_close(&t);
}

struct seen {
	int n;
	int64_t first;
};

static aclm_status seen_cert(const struct store_cert *c, void *arg)
{
	struct seen *s = arg;

	if (s->n++ == 0)
		s->first = c->id;
	return ACLM_OK;
}

static void test_cert_newer_matches_whole_names(void **state)
{
	struct tdb t;
	struct seen s = { 0 };
	char f1[65], f2[65], f3[65], f4[65], f5[65];
	int64_t newer;

	(void)state;
	tdb_open(&t);
	tfp(f1, "11", 1);
	tfp(f2, "22", 2);
	tfp(f3, "33", 3);
	tfp(f4, "44", 4);
	tfp(f5, "55", 5);
	tinsert(&t, t.tenant, f1, &(struct tfacts){ .cn = "www.test", .dns = { "www.test" } }, NOW + 30 * DAY);
	newer = tinsert(&t, t.tenant, f2, &(struct tfacts){ .cn = "x", .dns = { "WWW.test" } }, NOW + 60 * DAY);
	/* a longer name containing it, a CA and another tenant's: never candidates */
	tinsert(&t, t.tenant, f3, &(struct tfacts){ .cn = "www.test.example", .dns = { "www.test.example" } }, NOW + 60 * DAY);
	tinsert(&t, t.tenant, f4, &(struct tfacts){ .cn = "www.test", .is_ca = true }, NOW + 60 * DAY);
	{
		int64_t other;

		assert_int_equal(store_tenant_ensure(t.s, "other", &other, &t.err), ACLM_OK);
		tinsert(&t, other, f5, &(struct tfacts){ .cn = "www.test", .dns = { "www.test" } }, NOW + 90 * DAY);
	}
	/* by a name among the SANs (case-insensitive, whole names only) */
	assert_int_equal(store_scan_cert_newer(t.s, t.tenant, NULL, "www.test", NOW + 30 * DAY, seen_cert, &s,
					       &t.err), ACLM_OK);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.first, newer);
	/* by common name: exact, non-CA, this tenant, later expiry */
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_scan_cert_newer(t.s, t.tenant, "www.test", NULL, NOW + 20 * DAY, seen_cert, &s,
					       &t.err), ACLM_OK);
	assert_int_equal(s.n, 1);
	assert_int_not_equal(s.first, newer);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_scan_cert_newer(t.s, t.tenant, "www.test", NULL, NOW + 30 * DAY, seen_cert, &s,
					       &t.err), ACLM_OK);
	assert_int_equal(s.n, 0);
	tdb_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upsert_keeps_first_seen_and_updates_ip),
		cmocka_unit_test(test_observation_needs_the_tenants_endpoint),
		cmocka_unit_test(test_last_observation_per_address),
		cmocka_unit_test(test_conflict_only_within_one_scan),
		cmocka_unit_test(test_cert_newer_matches_whole_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
