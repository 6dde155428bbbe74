/* store/: the notify area: alert channels by tenant (add, update by origin,
 * get, list, delete), and that another tenant's channel is absent. */
#include "store_test.h"

#include "store/store_notify.h"

static struct store_notify_channel channel(int64_t tenant, const char *name, const char *type,
					   const char *origin, const char *params)
{
	struct store_notify_channel c = { .tenant_id = tenant };

	snprintf(c.name, sizeof(c.name), "%s", name);
	snprintf(c.type, sizeof(c.type), "%s", type);
	snprintf(c.origin, sizeof(c.origin), "%s", origin);
	c.params = (char *)params;
	return c;
}

struct names {
	char list[8][160];
	size_t n;
};

static aclm_status collect(const struct store_notify_channel *c, void *arg)
{
	struct names *n = arg;

	assert_true(n->n < 8);
	assert_non_null(c->params);
	snprintf(n->list[n->n++], sizeof(n->list[0]), "%s:%s", c->name, c->origin);
	return ACLM_OK;
}

static void test_channel_add_get_update_delete(void **state)
{
	struct tdb t;
	struct store_notify_channel c, got;
	int64_t id = 0;

	(void)state;
	tdb_open(&t);
	c = channel(t.tenant, "ops", "webhook", "api", "{\"url\":\"https://x.example/\"}");
	assert_int_equal(store_notify_channel_add(t.s, &c, NOW, &id, &t.err), ACLM_OK);
	assert_true(id > 0);
	assert_int_equal(store_notify_channel_add(t.s, &c, NOW, &id, &t.err), ACLM_ERR_EXISTS);

	assert_int_equal(store_notify_channel_get(t.s, t.tenant, "ops", &got, &t.err), ACLM_OK);
	assert_int_equal(got.id, id);
	assert_string_equal(got.type, "webhook");
	assert_string_equal(got.origin, "api");
	assert_string_equal(got.params, "{\"url\":\"https://x.example/\"}");
	assert_int_equal(got.created_at, NOW);
	store_notify_channel_clear(&got);

	/* An update keeps the row's origin: a config update does not touch
	 * an API channel. */
	c = channel(t.tenant, "ops", "slack", "config", "{\"url\":\"https://y.example/\"}");
	assert_int_equal(store_notify_channel_update(t.s, &c, NOW + 5, &t.err), ACLM_ERR_NOTFOUND);
	snprintf(c.origin, sizeof(c.origin), "api");
	assert_int_equal(store_notify_channel_update(t.s, &c, NOW + 5, &t.err), ACLM_OK);
	assert_int_equal(store_notify_channel_get(t.s, t.tenant, "ops", &got, &t.err), ACLM_OK);
	assert_string_equal(got.type, "slack");
	assert_string_equal(got.params, "{\"url\":\"https://y.example/\"}");
	assert_int_equal(got.updated_at, NOW + 5);
	assert_int_equal(got.created_at, NOW);
	store_notify_channel_clear(&got);

	assert_int_equal(store_notify_channel_delete(t.s, t.tenant, "ops", "config", &t.err),
			 ACLM_ERR_NOTFOUND);
	assert_int_equal(store_notify_channel_delete(t.s, t.tenant, "ops", NULL, &t.err), ACLM_OK);
	assert_int_equal(store_notify_channel_get(t.s, t.tenant, "ops", &got, &t.err),
			 ACLM_ERR_NOTFOUND);
	assert_int_equal(store_notify_channel_delete(t.s, t.tenant, "ops", NULL, &t.err),
			 ACLM_ERR_NOTFOUND);

	/* Empty params or a bad origin never reach the table. */
	c = channel(t.tenant, "bad", "webhook", "api", "");
	assert_int_equal(store_notify_channel_add(t.s, &c, NOW, &id, &t.err), ACLM_ERR_INVALID);
	c = channel(t.tenant, "bad", "webhook", "file", "{}");
	assert_int_equal(store_notify_channel_add(t.s, &c, NOW, &id, &t.err), ACLM_ERR_INVALID);
	tdb_close(&t);
}

static void test_channel_list_by_name_and_origin(void **state)
{
	struct tdb t;
	struct store_notify_channel c;
	struct names n = { 0 };
	int64_t id;

	(void)state;
	tdb_open(&t);
	c = channel(t.tenant, "zeta", "email", "config", "{}");
	assert_int_equal(store_notify_channel_add(t.s, &c, NOW, &id, &t.err), ACLM_OK);
	c = channel(t.tenant, "alpha", "teams", "api", "{}");
	assert_int_equal(store_notify_channel_add(t.s, &c, NOW, &id, &t.err), ACLM_OK);
	assert_int_equal(store_notify_channel_list(t.s, t.tenant, NULL, collect, &n, &t.err),
			 ACLM_OK);
	assert_int_equal(n.n, 2);
	assert_string_equal(n.list[0], "alpha:api");
	assert_string_equal(n.list[1], "zeta:config");
	memset(&n, 0, sizeof(n));
	assert_int_equal(store_notify_channel_list(t.s, t.tenant, "config", collect, &n, &t.err),
			 ACLM_OK);
	assert_int_equal(n.n, 1);
	assert_string_equal(n.list[0], "zeta:config");
	tdb_close(&t);
}

static void test_other_tenants_channels_are_absent(void **state)
{
	struct tdb t;
	struct store_notify_channel c, got;
	struct names n = { 0 };
	int64_t other = 0, id;

	(void)state;
	tdb_open(&t);
	assert_int_equal(store_tenant_ensure(t.s, "other", &other, &t.err), ACLM_OK);
	c = channel(t.tenant, "ops", "webhook", "api", "{\"url\":\"https://x.example/\"}");
	assert_int_equal(store_notify_channel_add(t.s, &c, NOW, &id, &t.err), ACLM_OK);

	assert_int_equal(store_notify_channel_get(t.s, other, "ops", &got, &t.err),
			 ACLM_ERR_NOTFOUND);
	assert_int_equal(store_notify_channel_list(t.s, other, NULL, collect, &n, &t.err), ACLM_OK);
	assert_int_equal(n.n, 0);
	c.tenant_id = other;
	assert_int_equal(store_notify_channel_update(t.s, &c, NOW, &t.err), ACLM_ERR_NOTFOUND);
	assert_int_equal(store_notify_channel_delete(t.s, other, "ops", NULL, &t.err),
			 ACLM_ERR_NOTFOUND);
	/* The same name in another tenant is another channel. */
	assert_int_equal(store_notify_channel_add(t.s, &c, NOW, &id, &t.err), ACLM_OK);
	assert_int_equal(store_notify_channel_get(t.s, t.tenant, "ops", &got, &t.err), ACLM_OK);
	assert_int_equal(got.tenant_id, t.tenant);
	store_notify_channel_clear(&got);
	tdb_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_channel_add_get_update_delete),
		cmocka_unit_test(test_channel_list_by_name_and_origin),
		cmocka_unit_test(test_other_tenants_channels_are_absent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
