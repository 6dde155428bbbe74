/* store: `cert list` filters, order, cursor, callback stop, and the query
 * plans of the expiring query and of the whole list (no sort of the rows). */
#include "store_test.h"

#include "core/buf.h"
#include "store/sqlite_int.h"

struct fixture {
	struct tdb t;
	int64_t id[5];
};

/* Four rows in tenant "default", one in another tenant that must never show. */
static int setup(void **state)
{
	struct fixture *x = calloc(1, sizeof(*x));
	int64_t other = 0;
	char fp[65];
	const struct tfacts rows[] = {
		{ .cn = "alpha.example.com", .subject = "CN=alpha.example.com",
		  .issuer = "CN=Let's Encrypt R3, O=Let's Encrypt", .key_type = "ec",
		  .curve = "P-256", .dns = { "alpha.example.com", "api.internal" } },
		{ .cn = "beta.example.com", .subject = "CN=beta.example.com",
		  .issuer = "CN=DigiCert TLS", .key_type = "rsa", .bits = 2048 },
		{ .cn = "100%_off.shop", .subject = "CN=100%_off.shop",
		  .issuer = "CN=Let's Encrypt R3, O=Let's Encrypt", .key_type = "rsa", .bits = 3072 },
		/* what "100%_off" would match if % and _ were wildcards */
		{ .cn = "100x1off.shop", .subject = "CN=100x1off.shop", .issuer = "CN=SM2 CA",
		  .key_type = "sm2" },
	};
	const int64_t after[] = { NOW + 10 * DAY, NOW - 5 * DAY, NOW + 40 * DAY, NOW + 5 * DAY };

	tdb_open(&x->t);
	for (unsigned i = 0; i < 4; i++) {
		tfp(fp, "11", i);
		x->id[i] = tinsert(&x->t, x->t.tenant, fp, &rows[i], after[i]);
	}
	assert_int_equal(store_tenant_ensure(x->t.s, "other", &other, &x->t.err), ACLM_OK);
	tfp(fp, "22", 9);
	x->id[4] = tinsert(&x->t, other, fp, &rows[0], NOW + DAY);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *x = *state;

	tdb_close(&x->t);
	free(x);
	return 0;
}

struct seen {
	int n;
	int64_t id[8];
	int stop_after; /* > 0: return ACLM_ERR_IO after this many rows */
};

static aclm_status collect(const struct store_cert *c, void *arg)
{
	struct seen *s = arg;

	s->id[s->n++] = c->id;
	return s->stop_after > 0 && s->n >= s->stop_after ? ACLM_ERR_IO : ACLM_OK;
}

/* Lists with f (tenant and now filled in) and checks the ids, in order. */
static void expect(struct fixture *x, struct store_cert_filter f, int n, const int64_t *want)
{
	struct seen seen = { 0 };

	f.tenant_id = x->t.tenant;
	f.now = NOW;
	assert_int_equal(store_cert_list(x->t.s, &f, collect, &seen, &x->t.err), ACLM_OK);
	assert_int_equal(seen.n, n);
	for (int i = 0; i < n; i++)
		assert_int_equal(seen.id[i], want[i]);
}

static void test_list_expiring_and_expired(void **state)
{
	struct fixture *x = *state;
	const int64_t *id = x->id;

	expect(x, (struct store_cert_filter){ .expiring_within = 30 * DAY }, 2,
	       (int64_t[]){ id[0], id[3] });
	expect(x, (struct store_cert_filter){ .expiring_within = 30 * DAY, .by_expiry = true }, 2,
	       (int64_t[]){ id[3], id[0] });
	expect(x, (struct store_cert_filter){ .expired = true }, 1, (int64_t[]){ id[1] });
}

static void test_list_issuer_substring_ignores_case(void **state)
{
	struct fixture *x = *state;

	expect(x, (struct store_cert_filter){ .issuer = "let's ENCRYPT" }, 2,
	       (int64_t[]){ x->id[0], x->id[2] });
	expect(x, (struct store_cert_filter){ .issuer = "nobody" }, 0, NULL);
}

static void test_list_key_type(void **state)
{
	struct fixture *x = *state;

	expect(x, (struct store_cert_filter){ .key_type = "rsa" }, 2,
	       (int64_t[]){ x->id[1], x->id[2] });
	expect(x, (struct store_cert_filter){ .key_type = "sm2" }, 1, (int64_t[]){ x->id[3] });
}

static void test_list_search_matches_cn_san_and_treats_wildcards_literally(void **state)
{
	struct fixture *x = *state;

	expect(x, (struct store_cert_filter){ .search = "100%_off" }, 1, (int64_t[]){ x->id[2] });
	expect(x, (struct store_cert_filter){ .search = "_" }, 1, (int64_t[]){ x->id[2] });
	expect(x, (struct store_cert_filter){ .search = "EXAMPLE.com" }, 2,
	       (int64_t[]){ x->id[0], x->id[1] });
	expect(x, (struct store_cert_filter){ .search = "api.internal" }, 1,
	       (int64_t[]){ x->id[0] });
	expect(x, (struct store_cert_filter){ .search = "\\" }, 0, NULL);
}

static void test_list_limit_cursor_and_expiry_order(void **state)
{
	struct fixture *x = *state;
	const int64_t *id = x->id;

	expect(x, (struct store_cert_filter){ .limit = 2 }, 2, (int64_t[]){ id[0], id[1] });
	expect(x, (struct store_cert_filter){ .limit = 2, .after_id = id[1] }, 2,
	       (int64_t[]){ id[2], id[3] });
	expect(x, (struct store_cert_filter){ .after_id = id[3] }, 0, NULL);
	expect(x, (struct store_cert_filter){ .by_expiry = true }, 4,
	       (int64_t[]){ id[1], id[3], id[0], id[2] });
}

/* The REST API's expiry-ordered pages: the cursor is (not_after, id), so a
 * walk resumes after the last row even when several rows share not_after. */
static void test_list_expiry_cursor_resumes_after_ties(void **state)
{
	struct fixture *x = *state;
	const int64_t *id = x->id;
	struct tfacts facts = { .cn = "tie", .subject = "CN=tie", .issuer = "CN=ca",
				.key_type = "ec" };
	char fp[65];
	int64_t tie;

	/* Expiry order: id[1] (-5d), id[3] (+5d), id[0] (+10d), tie (+10d), id[2]. */
	tfp(fp, "44", 1);
	tie = tinsert(&x->t, x->t.tenant, fp, &facts, NOW + 10 * DAY);
	expect(x, (struct store_cert_filter){ .by_expiry = true, .limit = 2 }, 2,
	       (int64_t[]){ id[1], id[3] });
	expect(x, (struct store_cert_filter){ .by_expiry = true, .limit = 2, .after_expiry = true,
					      .after_not_after = NOW + 5 * DAY, .after_id = id[3] },
	       2, (int64_t[]){ id[0], tie });
	expect(x, (struct store_cert_filter){ .by_expiry = true, .after_expiry = true,
					      .after_not_after = NOW + 10 * DAY, .after_id = id[0] },
	       2, (int64_t[]){ tie, id[2] });
	expect(x, (struct store_cert_filter){ .by_expiry = true, .expiring_within = 30 * DAY,
					      .after_expiry = true, .after_not_after = NOW + 10 * DAY,
					      .after_id = tie },
	       0, NULL);
}

static void test_list_stops_when_the_callback_fails(void **state)
{
	struct fixture *x = *state;
	struct store_cert_filter f = { .tenant_id = x->t.tenant };
	struct seen seen = { .stop_after = 1 };

	assert_int_equal(store_cert_list(x->t.s, &f, collect, &seen, &x->t.err), ACLM_ERR_IO);
	assert_int_equal(seen.n, 1);
}

/* The whole plan of the expiring query: the index range in order (no
 * sort), and the issuer subquery by primary keys (no scan per row). */
static void assert_expiring_plan(const char *plan)
{
	assert_non_null(strstr(plan, "SEARCH c USING INDEX certificates_tenant_not_after "
				     "(tenant_id=? AND not_after>? AND not_after<?)"));
	assert_non_null(strstr(plan, "SEARCH l USING PRIMARY KEY (cert_id=?)"));
	assert_non_null(strstr(plan, "SEARCH i USING INTEGER PRIMARY KEY (rowid=?)"));
	assert_null(strstr(plan, "TEMP B-TREE"));
	assert_null(strstr(plan, "SCAN"));
}

/* `cert list --expiring 30 --limit 1000`, before and after ANALYZE. */
static void test_expiring_query_walks_the_not_after_index(void **state)
{
	struct fixture *x = *state;
	struct store_cert_filter f = { .tenant_id = x->t.tenant, .now = NOW,
				       .expiring_within = 30 * DAY, .by_expiry = true,
				       .limit = 1000 };
	struct tfacts facts = { .cn = "n", .subject = "CN=n", .issuer = "CN=ca", .key_type = "ec" };
	struct aclm_buf sql;
	char plan[2048], fp[65];
	sqlite3 *raw = raw_open(x->t.path);

	aclm_buf_init(&sql, 8192);
	assert_int_equal(store__sqlite_list_sql(&f, &sql), ACLM_OK);
	plan_of(raw, (const char *)sql.data, plan, sizeof(plan));
	assert_expiring_plan(plan);
	assert_int_equal(store_begin(x->t.s, &x->t.err), ACLM_OK);
	for (unsigned i = 0; i < 500; i++) {
		tfp(fp, "33", i);
		tinsert(&x->t, x->t.tenant, fp, &facts, NOW + (int64_t)i * DAY);
	}
	assert_int_equal(store_commit(x->t.s, &x->t.err), ACLM_OK);
	assert_int_equal(sqlite3_exec(raw, "ANALYZE", NULL, NULL, NULL), SQLITE_OK);
	plan_of(raw, (const char *)sql.data, plan, sizeof(plan));
	assert_expiring_plan(plan);
	aclm_buf_free(&sql);
	sqlite3_close(raw);
}

/* A tenant's whole list (`cert list`, the alert pass, the API's first
 * page) in id order walks an index: no temporary B-tree holding every row,
 * facts and DER included, before the first one comes out. */
static void test_id_order_lists_without_a_sort(void **state)
{
	struct fixture *x = *state;
	struct store_cert_filter all = { .tenant_id = x->t.tenant, .now = NOW };
	struct store_cert_filter page = { .tenant_id = x->t.tenant, .now = NOW, .after_id = 7,
					  .limit = 100, .stored_json = true };
	const struct store_cert_filter *filters[] = { &all, &page };
	struct aclm_buf sql;
	char plan[2048];
	sqlite3 *raw = raw_open(x->t.path);

	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		aclm_buf_init(&sql, 8192);
		assert_int_equal(store__sqlite_list_sql(filters[i], &sql), ACLM_OK);
		plan_of(raw, (const char *)sql.data, plan, sizeof(plan));
		if (strstr(plan, "TEMP B-TREE") != NULL)
			fail_msg("list %zu sorts its rows: %s", i, plan);
		aclm_buf_free(&sql);
	}
	sqlite3_close(raw);
}

/* The other lists paged by id, as the store asks for a page (the SQL of
 * sqlite_sched.c's alert page and the _page reads of sqlite_scan.c,
 * sqlite_acme.c, sqlite_deploy.c and sqlite_notify.c, columns left out):
 * none sorts its tenant's rows. */
static void test_other_id_pages_without_a_sort(void **state)
{
	static const char *const pages[] = {
		"SELECT id FROM alerts WHERE tenant_id = ?1 AND (?2 = 0 OR id < ?2)"
		" ORDER BY id DESC LIMIT ?3",
		"SELECT id FROM endpoints WHERE tenant_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
		"SELECT id FROM lineages WHERE tenant_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
		"SELECT t.id FROM targets t WHERE t.tenant_id = ?1 AND t.id > ?2 ORDER BY t.id LIMIT ?3",
		"SELECT id FROM notify_channels WHERE tenant_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
	};
	struct fixture *x = *state;
	char plan[2048];
	sqlite3 *raw = raw_open(x->t.path);

	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		plan_of(raw, pages[i], plan, sizeof(plan));
		if (strstr(plan, "TEMP B-TREE") != NULL)
			fail_msg("%s\nsorts its rows: %s", pages[i], plan);
	}
	sqlite3_close(raw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_list_expiring_and_expired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_issuer_substring_ignores_case, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_list_key_type, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_list_search_matches_cn_san_and_treats_wildcards_literally, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_list_limit_cursor_and_expiry_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_list_stops_when_the_callback_fails, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_list_expiry_cursor_resumes_after_ties, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expiring_query_walks_the_not_after_index, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_id_order_lists_without_a_sort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_id_pages_without_a_sort, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
