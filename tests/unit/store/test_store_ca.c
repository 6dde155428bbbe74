/* store/: CA rows (migration 3) are tenant-scoped, unique per (tenant, name,
 * key type), point only at certificates of their tenant; key_delete removes
 * one key of one tenant; cross-signed copies (migration 7) belong to a CA row
 * and a certificate of the same tenant, once each, listed oldest first. */
#include "store_test.h"

#include "store/sqlite_int.h"

static aclm_status collect(const struct store_ca *ca, void *arg)
{
	json_t *names = arg;

	json_array_append_new(names, json_sprintf("%s/%s/%s", ca->name, ca->key_type,
						  ca->offline_root ? "off" : "on"));
	return ACLM_OK;
}

static void test_ca_rows_scoped_and_unique(void **state)
{
	struct tdb t;
	struct tfacts f = { .cn = "r", .subject = "CN=r", .issuer = "CN=r", .is_ca = true };
	char fp[65];
	int64_t other = 0, r, i, o, id = 0;
	json_t *names = json_array();

	(void)state;
	tdb_open(&t);
	assert_int_equal(store_tenant_ensure(t.s, "other", &other, &t.err), ACLM_OK);
	tfp(fp, "aa", 1);
	r = tinsert(&t, t.tenant, fp, &f, NOW);
	tfp(fp, "aa", 2);
	i = tinsert(&t, t.tenant, fp, &f, NOW);
	tfp(fp, "aa", 3);
	o = tinsert(&t, other, fp, &f, NOW);
	struct store_ca ca = { .tenant_id = t.tenant, .name = "Corp", .key_type = "p256",
			       .root_cert_id = r, .root_key_id = "kroot",
			       .intermediate_cert_id = i, .intermediate_key_id = "kint" };

	assert_int_equal(store_ca_put(t.s, &ca, &id, &t.err), ACLM_OK);
	assert_true(id > 0);
	assert_int_equal(store_ca_put(t.s, &ca, &id, &t.err), ACLM_ERR_EXISTS);
	assert_non_null(strstr(t.err.msg, "already exists"));
	/* A certificate of another tenant is refused. */
	ca.key_type = "sm2";
	ca.intermediate_cert_id = o;
	assert_int_equal(store_ca_put(t.s, &ca, &id, &t.err), ACLM_ERR_INVALID);
	ca.intermediate_cert_id = i;
	ca.offline_root = true;
	assert_int_equal(store_ca_put(t.s, &ca, &id, &t.err), ACLM_OK);
	ca.name = "Alpha";
	assert_int_equal(store_ca_put(t.s, &ca, &id, &t.err), ACLM_OK);

	assert_int_equal(store_ca_list(t.s, t.tenant, NULL, collect, names, &t.err), ACLM_OK);
	assert_int_equal(json_array_size(names), 3);
	assert_string_equal(json_string_value(json_array_get(names, 0)), "Alpha/sm2/off");
	assert_string_equal(json_string_value(json_array_get(names, 1)), "Corp/p256/on");
	json_array_clear(names);
	assert_int_equal(store_ca_list(t.s, t.tenant, "Corp", collect, names, &t.err), ACLM_OK);
	assert_int_equal(json_array_size(names), 2);
	json_array_clear(names);
	assert_int_equal(store_ca_list(t.s, other, NULL, collect, names, &t.err), ACLM_OK);
	assert_int_equal(json_array_size(names), 0);
	assert_int_equal(store_ca_list(t.s, 0, NULL, collect, names, &t.err), ACLM_ERR_INVALID);
	/* A CA's certificate cannot be deleted from under it. */
	assert_int_not_equal(store_cert_delete(t.s, t.tenant, r, &t.err), ACLM_OK);
	json_decref(names);
	tdb_close(&t);
}

static void test_ca_cross_rows(void **state)
{
	struct tdb t;
	struct tfacts f = { .cn = "r", .subject = "CN=r", .issuer = "CN=r", .is_ca = true };
	char fp[65];
	int64_t other = 0, r, x1, x2, x3, xo, ca_id = 0, ids[2] = { 0, 0 };
	size_t n = 99;

	(void)state;
	tdb_open(&t);
	assert_int_equal(store_tenant_ensure(t.s, "other", &other, &t.err), ACLM_OK);
	tfp(fp, "cc", 1);
	r = tinsert(&t, t.tenant, fp, &f, NOW);
	tfp(fp, "cc", 2);
	x1 = tinsert(&t, t.tenant, fp, &f, NOW);
	tfp(fp, "cc", 3);
	x2 = tinsert(&t, t.tenant, fp, &f, NOW);
	tfp(fp, "cc", 4);
	x3 = tinsert(&t, t.tenant, fp, &f, NOW);
	tfp(fp, "cc", 5);
	xo = tinsert(&t, other, fp, &f, NOW);
	struct store_ca ca = { .tenant_id = t.tenant, .name = "Corp", .key_type = "p256",
			       .root_cert_id = r, .root_key_id = "kroot",
			       .intermediate_cert_id = r, .intermediate_key_id = "kint" };

	assert_int_equal(store_ca_put(t.s, &ca, &ca_id, &t.err), ACLM_OK);
	assert_int_equal(store_ca_cross_list(t.s, t.tenant, ca_id, ids, 2, &n, &t.err), ACLM_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_ca_cross_put(t.s, t.tenant, ca_id, x2, &t.err), ACLM_OK);
	assert_int_equal(store_ca_cross_put(t.s, t.tenant, ca_id, x1, &t.err), ACLM_OK);
	assert_int_equal(store_ca_cross_put(t.s, t.tenant, ca_id, x1, &t.err), ACLM_ERR_EXISTS);
	/* another tenant's certificate, or the CA row seen from another tenant */
	assert_int_equal(store_ca_cross_put(t.s, t.tenant, ca_id, xo, &t.err), ACLM_ERR_INVALID);
	assert_int_equal(store_ca_cross_put(t.s, other, ca_id, xo, &t.err), ACLM_ERR_INVALID);
	assert_int_equal(store_ca_cross_put(t.s, t.tenant, ca_id, x3, &t.err), ACLM_OK);
	/* in the order they were recorded, at most max */
	assert_int_equal(store_ca_cross_list(t.s, t.tenant, ca_id, ids, 2, &n, &t.err), ACLM_OK);
	assert_int_equal(n, 2);
	assert_true(ids[0] == x2 && ids[1] == x1);
	assert_int_equal(store_ca_cross_list(t.s, other, ca_id, ids, 2, &n, &t.err), ACLM_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_ca_cross_list(t.s, 0, ca_id, ids, 2, &n, &t.err), ACLM_ERR_INVALID);
	tdb_close(&t);
}

static void test_key_delete_one_tenant(void **state)
{
	struct tdb t;
	int64_t other = 0;
	unsigned char sealed[] = { 1, 2, 3 };
	struct store_key k = { .sealed = sealed, .sealed_len = sizeof(sealed) };
	struct store_key *got = NULL;

	(void)state;
	tdb_open(&t);
	assert_int_equal(store_tenant_ensure(t.s, "other", &other, &t.err), ACLM_OK);
	snprintf(k.id, sizeof(k.id), "kabc");
	snprintf(k.type, sizeof(k.type), "p256");
	memset(k.spki_sha256, 'a', 64);
	k.tenant_id = t.tenant;
	assert_int_equal(store_key_put(t.s, &k, &t.err), ACLM_OK);
	k.tenant_id = other;
	assert_int_equal(store_key_put(t.s, &k, &t.err), ACLM_OK);
	assert_int_equal(store_key_delete(t.s, t.tenant, "kabc", &t.err), ACLM_OK);
	assert_int_equal(store_key_get(t.s, t.tenant, "kabc", &got, &t.err), ACLM_ERR_NOTFOUND);
	assert_int_equal(store_key_get(t.s, other, "kabc", &got, &t.err), ACLM_OK);
	store_key_free(got);
	assert_int_equal(store_key_delete(t.s, t.tenant, "kabc", &t.err), ACLM_ERR_NOTFOUND);
	tdb_close(&t);
}

static bool has_table(sqlite3 *raw, const char *name)
{
	char sql[160];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_master WHERE name = '%s'", name);
	return raw_int(raw, sql) == 1;
}

static void test_migration_3_upgrades_a_version_2_database(void **state)
{
	struct tdb t;
	struct tfacts f = { .cn = "r", .subject = "CN=r", .issuer = "CN=r", .is_ca = true };
	char fp[65];
	int64_t r, id = 0;
	sqlite3 *raw;

	(void)state;
	tdb_open(&t);
	raw = raw_open(t.path);
	assert_true(has_table(raw, "cas"));
	tfp(fp, "bb", 1);
	r = tinsert(&t, t.tenant, fp, &f, NOW);
	store_close(t.s);
	t.s = NULL;
	assert_int_equal(sqlite3_exec(raw, STORE_TEST_UNDO_5 " DROP TABLE ca_issued; DROP TABLE ca_eab;"
					   " DROP TABLE ca_authzs; DROP TABLE ca_orders;"
					   " DROP TABLE ca_accounts;"
					   " DROP TABLE cas; DELETE FROM schema_migrations"
					   " WHERE version >= 3", NULL, NULL, NULL), SQLITE_OK);
	tdb_reopen(&t);
	assert_int_equal(raw_int(raw, "SELECT max(version) FROM schema_migrations"),
			 store__sqlite_schema_version());
	assert_true(has_table(raw, "cas_root_cert"));
	struct store_ca ca = { .tenant_id = t.tenant, .name = "Up", .key_type = "p384",
			       .root_cert_id = r, .root_key_id = "k1",
			       .intermediate_cert_id = r, .intermediate_key_id = "k2" };
	assert_int_equal(store_ca_put(t.s, &ca, &id, &t.err), ACLM_OK);
	sqlite3_close(raw);
	tdb_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ca_rows_scoped_and_unique),
		cmocka_unit_test(test_key_delete_one_tenant),
		cmocka_unit_test(test_ca_cross_rows),
		cmocka_unit_test(test_migration_3_upgrades_a_version_2_database),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
