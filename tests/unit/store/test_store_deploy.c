/* The deploy area of the store: targets, bindings, deployment results, and
 * tenant isolation of each. */
#include "store_test.h"

#include "store/store_deploy.h"

static int64_t add_target(struct tdb *t, int64_t tenant, const char *name, const char *type)
{
	json_t *options = json_pack("{s:s}", "cert_path", "/tmp/x.pem");
	json_t *verify = json_pack("[s]", "127.0.0.1:443/x.example");
	struct store_target row = { .tenant_id = tenant, .name = (char *)name, .type = (char *)type,
				    .options = options, .verify = verify, .created_at = NOW };
	int64_t id = 0;

	assert_int_equal(store_target_put(t->s, &row, &id, &t->err), ACLM_OK);
	assert_true(id > 0);
	json_decref(options);
	json_decref(verify);
	return id;
}

static aclm_status count_cb(const struct store_target *tg, void *arg)
{
	(void)tg;
	(*(int *)arg)++;
	return ACLM_OK;
}

static aclm_status names_cb(const struct store_target *tg, void *arg)
{
	strcat(arg, tg->name);
	strcat(arg, ",");
	return ACLM_OK;
}

static void test_target_roundtrip_and_duplicate_name_refused(void **state)
{
	struct tdb t;
	struct store_target *got = NULL;
	int64_t id;

	(void)state;
	tdb_open(&t);
	id = add_target(&t, t.tenant, "web1", "nginx");
	assert_int_equal(store_target_get(t.s, t.tenant, "web1", &got, &t.err), ACLM_OK);
	assert_int_equal(got->id, id);
	assert_string_equal(got->type, "nginx");
	assert_string_equal(aclm_json_str(got->options, "cert_path"), "/tmp/x.pem");
	assert_string_equal(json_string_value(json_array_get(got->verify, 0)), "127.0.0.1:443/x.example");
	assert_int_equal(got->created_at, NOW);
	store_target_free(got);
	{
		struct store_target dup = { .tenant_id = t.tenant, .name = "web1", .type = "file",
					    .created_at = NOW };
		int64_t id2 = 0;

		assert_int_equal(store_target_put(t.s, &dup, &id2, &t.err), ACLM_ERR_EXISTS);
		assert_non_null(strstr(t.err.msg, "web1"));
	}
	assert_int_equal(store_target_get(t.s, t.tenant, "nope", &got, &t.err), ACLM_ERR_NOTFOUND);
	assert_null(got);
	tdb_close(&t);
}

static void test_targets_are_per_tenant(void **state)
{
	struct tdb t;
	struct store_target *got = NULL;
	int64_t other = 0, other_id, id;
	int n = 0;

	(void)state;
	tdb_open(&t);
	assert_int_equal(store_tenant_ensure(t.s, "other", &other, &t.err), ACLM_OK);
	id = add_target(&t, t.tenant, "web1", "nginx");
	/* The same name in another tenant is another target. */
	other_id = add_target(&t, other, "web1", "file");
	assert_int_equal(store_target_get(t.s, other, "web1", &got, &t.err), ACLM_OK);
	assert_string_equal(got->type, "file");
	assert_true(got->id != id);
	store_target_free(got);
	assert_int_equal(store_target_list(t.s, other, count_cb, &n, &t.err), ACLM_OK);
	assert_int_equal(n, 1);
	/* Another tenant cannot bind, record against or delete our target by id. */
	assert_int_equal(store_binding_add(t.s, other, "example.com", id, NOW, &t.err), ACLM_OK);
	n = 0;
	assert_int_equal(store_binding_list(t.s, other, "example.com", count_cb, &n, &t.err), ACLM_OK);
	assert_int_equal(n, 0);
	{
		struct store_deployment d = { .tenant_id = other, .target_id = id, .fingerprint = "ab",
					      .state = "running", .started_at = NOW };
		int64_t did = 0;

		assert_int_not_equal(store_deployment_start(t.s, &d, &did, &t.err), ACLM_OK);
	}
	/* Its binding of the same lineage name is not ours. */
	assert_int_equal(store_binding_add(t.s, other, "example.com", other_id, NOW, &t.err), ACLM_OK);
	n = 0;
	assert_int_equal(store_binding_list(t.s, other, "example.com", count_cb, &n, &t.err), ACLM_OK);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(store_binding_list(t.s, t.tenant, "example.com", count_cb, &n, &t.err),
			 ACLM_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_target_delete(t.s, other, "web1", &t.err), ACLM_OK);
	assert_int_equal(store_target_get(t.s, t.tenant, "web1", &got, &t.err), ACLM_OK);
	store_target_free(got);
	assert_int_equal(store_target_delete(t.s, other, "web1", &t.err), ACLM_ERR_NOTFOUND);
	assert_int_equal(store_target_list(t.s, 0, count_cb, &n, &t.err), ACLM_ERR_INVALID);
	tdb_close(&t);
}

static void test_bindings_list_targets_by_name_and_twice_is_once(void **state)
{
	struct tdb t;
	char names[256] = "";
	int64_t a, b;

	(void)state;
	tdb_open(&t);
	b = add_target(&t, t.tenant, "zeta", "file");
	a = add_target(&t, t.tenant, "alpha", "file");
	add_target(&t, t.tenant, "unbound", "file");
	assert_int_equal(store_binding_add(t.s, t.tenant, "example.com", b, NOW, &t.err), ACLM_OK);
	assert_int_equal(store_binding_add(t.s, t.tenant, "example.com", a, NOW, &t.err), ACLM_OK);
	assert_int_equal(store_binding_add(t.s, t.tenant, "example.com", a, NOW, &t.err), ACLM_OK);
	assert_int_equal(store_binding_add(t.s, t.tenant, "other.com", b, NOW, &t.err), ACLM_OK);
	assert_int_equal(store_binding_list(t.s, t.tenant, "example.com", names_cb, names, &t.err),
			 ACLM_OK);
	assert_string_equal(names, "alpha,zeta,");
	/* Removing a target removes its bindings. */
	assert_int_equal(store_target_delete(t.s, t.tenant, "zeta", &t.err), ACLM_OK);
	names[0] = '\0';
	assert_int_equal(store_binding_list(t.s, t.tenant, "other.com", names_cb, names, &t.err),
			 ACLM_OK);
	assert_string_equal(names, "");
	tdb_close(&t);
}

struct seen {
	char text[512];
};

static aclm_status deployment_cb(const struct store_deployment *d, void *arg)
{
	struct seen *s = arg;
	char line[128];

	snprintf(line, sizeof(line), "%s:%s:%s:%s;", d->target_name, d->state,
		 d->served_fingerprint != NULL ? d->served_fingerprint : "-",
		 d->error != NULL ? d->error : "-");
	strcat(s->text, line);
	return ACLM_OK;
}

static int64_t record(struct tdb *t, int64_t target, const char *lineage, const char *state,
		      const char *served, const char *error)
{
	struct store_deployment d = { .tenant_id = t->tenant, .target_id = target, .cert_id = 0,
				      .lineage = (char *)lineage, .fingerprint = "aa",
				      .state = "running", .started_at = NOW };
	json_t *detail = json_pack("{s:b}", "verified", 1);

	assert_int_equal(store_deployment_start(t->s, &d, &d.id, &t->err), ACLM_OK);
	d.state = (char *)state;
	d.served_fingerprint = (char *)served;
	d.error = (char *)error;
	d.detail = detail;
	d.finished_at = NOW + 1;
	assert_int_equal(store_deployment_finish(t->s, &d, &t->err), ACLM_OK);
	json_decref(detail);
	return d.id;
}

static void test_deployments_latest_is_last_per_target_filtered_by_lineage(void **state)
{
	struct tdb t;
	struct seen s = { "" };
	int64_t a, b;

	(void)state;
	tdb_open(&t);
	a = add_target(&t, t.tenant, "a", "file");
	b = add_target(&t, t.tenant, "b", "file");
	record(&t, a, "example.com", "failed", NULL, "boom");
	record(&t, a, "example.com", "deployed", "aa", NULL);
	record(&t, b, "example.com", "rolled_back", "bb", "mismatch");
	record(&t, b, "other.com", "deployed", "cc", NULL);
	assert_int_equal(store_deployment_latest(t.s, t.tenant, "example.com", deployment_cb, &s,
						 &t.err), ACLM_OK);
	assert_string_equal(s.text, "a:deployed:aa:-;b:rolled_back:bb:mismatch;");
	s.text[0] = '\0';
	assert_int_equal(store_deployment_latest(t.s, t.tenant, NULL, deployment_cb, &s, &t.err),
			 ACLM_OK);
	assert_string_equal(s.text, "a:deployed:aa:-;b:deployed:cc:-;");
	/* Another tenant sees none of it. */
	{
		int64_t other = 0;

		assert_int_equal(store_tenant_ensure(t.s, "other", &other, &t.err), ACLM_OK);
		s.text[0] = '\0';
		assert_int_equal(store_deployment_latest(t.s, other, NULL, deployment_cb, &s, &t.err),
				 ACLM_OK);
		assert_string_equal(s.text, "");
	}
	tdb_close(&t);
}

/* Pages in target id order: after_id is exclusive, limit is obeyed, a
 * target's older deployments never show, another tenant's rows never. */
static void test_target_and_deployment_pages_walk_by_id_within_the_tenant(void **state)
{
	struct tdb t;
	struct seen s = { "" };
	char names[256] = "";
	int64_t a, b, c, x, other = 0;

	(void)state;
	tdb_open(&t);
	assert_int_equal(store_tenant_ensure(t.s, "other", &other, &t.err), ACLM_OK);
	c = add_target(&t, t.tenant, "c", "file");
	x = add_target(&t, other, "x", "file");
	a = add_target(&t, t.tenant, "a", "file");
	b = add_target(&t, t.tenant, "b", "file");
	assert_int_equal(store_target_page(t.s, t.tenant, 0, 2, names_cb, names, &t.err), ACLM_OK);
	assert_string_equal(names, "c,a,");
	names[0] = '\0';
	assert_int_equal(store_target_page(t.s, t.tenant, a, 2, names_cb, names, &t.err), ACLM_OK);
	assert_string_equal(names, "b,");
	names[0] = '\0';
	assert_int_equal(store_target_page(t.s, other, 0, 10, names_cb, names, &t.err), ACLM_OK);
	assert_string_equal(names, "x,");
	record(&t, b, "example.com", "failed", NULL, "old");
	record(&t, c, "example.com", "deployed", "cc", NULL);
	record(&t, b, "example.com", "deployed", "bb", NULL);
	record(&t, a, "other.com", "deployed", "aa", NULL);
	{
		struct store_deployment d = { .tenant_id = other, .target_id = x,
					      .lineage = "example.com", .fingerprint = "xx",
					      .state = "deployed", .started_at = NOW };

		assert_int_equal(store_deployment_start(t.s, &d, &d.id, &t.err), ACLM_OK);
	}
	assert_int_equal(store_deployment_latest_page(t.s, t.tenant, NULL, 0, 2, deployment_cb, &s,
						      &t.err), ACLM_OK);
	assert_string_equal(s.text, "c:deployed:cc:-;a:deployed:aa:-;");
	s.text[0] = '\0';
	assert_int_equal(store_deployment_latest_page(t.s, t.tenant, NULL, a, 2, deployment_cb, &s,
						      &t.err), ACLM_OK);
	assert_string_equal(s.text, "b:deployed:bb:-;");
	s.text[0] = '\0';
	assert_int_equal(store_deployment_latest_page(t.s, t.tenant, "example.com", c, 5,
						      deployment_cb, &s, &t.err), ACLM_OK);
	assert_string_equal(s.text, "b:deployed:bb:-;");
	tdb_close(&t);
}

static void test_last_cert_is_last_deployed_not_failed_nor_deleted(void **state)
{
	struct tdb t;
	struct tfacts f = { 0 };
	char fp1[65], fp2[65];
	int64_t a, c1, c2, got = -1;
	struct store_deployment d = { 0 };

	(void)state;
	tdb_open(&t);
	a = add_target(&t, t.tenant, "a", "file");
	assert_int_equal(store_deployment_last_cert(t.s, t.tenant, a, &got, &t.err), ACLM_OK);
	assert_int_equal(got, 0);
	tfp(fp1, "c1", 1);
	tfp(fp2, "c2", 2);
	c1 = tinsert(&t, t.tenant, fp1, &f, NOW + 90 * DAY);
	c2 = tinsert(&t, t.tenant, fp2, &f, NOW + 90 * DAY);
	d = (struct store_deployment){ .tenant_id = t.tenant, .target_id = a, .cert_id = c1,
				       .fingerprint = fp1, .state = "running", .started_at = NOW };
	assert_int_equal(store_deployment_start(t.s, &d, &d.id, &t.err), ACLM_OK);
	d.state = "deployed";
	assert_int_equal(store_deployment_finish(t.s, &d, &t.err), ACLM_OK);
	/* A later deploy that failed, and one still running, do not count. */
	d = (struct store_deployment){ .tenant_id = t.tenant, .target_id = a, .cert_id = c2,
				       .fingerprint = fp2, .state = "running", .started_at = NOW };
	assert_int_equal(store_deployment_start(t.s, &d, &d.id, &t.err), ACLM_OK);
	d.state = "rolled_back";
	assert_int_equal(store_deployment_finish(t.s, &d, &t.err), ACLM_OK);
	assert_int_equal(store_deployment_start(t.s, &d, &d.id, &t.err), ACLM_OK);
	assert_int_equal(store_deployment_last_cert(t.s, t.tenant, a, &got, &t.err), ACLM_OK);
	assert_int_equal(got, c1);
	/* Another tenant does not see it; a deleted certificate is none. */
	{
		int64_t other = 0;

		assert_int_equal(store_tenant_ensure(t.s, "other", &other, &t.err), ACLM_OK);
		assert_int_equal(store_deployment_last_cert(t.s, other, a, &got, &t.err), ACLM_OK);
		assert_int_equal(got, 0);
	}
	assert_int_equal(store_cert_delete(t.s, t.tenant, c1, &t.err), ACLM_OK);
	assert_int_equal(store_deployment_last_cert(t.s, t.tenant, a, &got, &t.err), ACLM_OK);
	assert_int_equal(got, 0);
	tdb_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_target_roundtrip_and_duplicate_name_refused),
		cmocka_unit_test(test_targets_are_per_tenant),
		cmocka_unit_test(test_bindings_list_targets_by_name_and_twice_is_once),
		cmocka_unit_test(test_deployments_latest_is_last_per_target_filtered_by_lineage),
		cmocka_unit_test(test_last_cert_is_last_deployed_not_failed_nor_deleted),
		cmocka_unit_test(test_target_and_deployment_pages_walk_by_id_within_the_tenant),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
