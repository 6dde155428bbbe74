/* store: sealed keys, and the append-only, hash-chained audit log. */
#include "store_test.h"
#include "store/store_int.h"

static struct store_key key_of(int64_t tenant, const char *id)
{
	static unsigned char sealed[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct store_key k = { .tenant_id = tenant, .sealed = sealed, .sealed_len = sizeof(sealed),
			       .created_at = NOW };

	snprintf(k.id, sizeof(k.id), "%s", id);
	snprintf(k.type, sizeof(k.type), "p256");
	memset(k.spki_sha256, 'a', 64);
	return k;
}

static void test_key_put_get_duplicate_missing(void **state)
{
	struct tdb t;
	struct store_key k, *got = NULL;
	int64_t other = 0;

	tdb_open(&t);
	assert_int_equal(store_tenant_ensure(t.s, "other", &other, &t.err), ACLM_OK);
	k = key_of(t.tenant, "key-1");
	assert_int_equal(store_key_put(t.s, &k, &t.err), ACLM_OK);
	assert_int_equal(store_key_put(t.s, &k, &t.err), ACLM_ERR_EXISTS);
	assert_non_null(strstr(t.err.msg, "UNIQUE constraint failed"));
	assert_int_equal(store_key_get(t.s, t.tenant, "key-1", &got, &t.err), ACLM_OK);
	assert_string_equal(got->id, "key-1");
	assert_string_equal(got->type, "p256");
	assert_string_equal(got->spki_sha256, k.spki_sha256);
	assert_int_equal(got->sealed_len, k.sealed_len);
	assert_memory_equal(got->sealed, k.sealed, k.sealed_len);
	assert_int_equal(got->tenant_id, t.tenant);
	assert_int_equal(got->created_at, NOW);
	store_key_free(got);
	assert_int_equal(store_key_get(t.s, t.tenant, "key-2", &got, &t.err), ACLM_ERR_NOTFOUND);
	assert_int_equal(store_key_get(t.s, other, "key-1", &got, &t.err), ACLM_ERR_NOTFOUND);
	assert_null(got);
	k = key_of(other, "key-1"); /* ids are per tenant */
	assert_int_equal(store_key_put(t.s, &k, &t.err), ACLM_OK);
	tdb_close(&t);
}

static void append(struct tdb *t, const char *action, const char *object, json_t *detail)
{
	struct store_audit_event e = { .tenant_id = t->tenant, .actor = "cli:root",
				       .action = action, .object = object, .detail = detail };

	assert_int_equal(store_audit_append(t->s, &e, &t->err), ACLM_OK);
	json_decref(detail);
}

static void append_three(struct tdb *t)
{
	append(t, "cert.import", "42", json_pack("{sisb}", "count", 3, "dry", 0));
	append(t, "key.export", "/etc/ssl/k.pem", NULL);
	append(t, "cert.delete", NULL, json_pack("{ss}", "why", "a|b"));
}

static void test_audit_append_then_verify(void **state)
{
	struct tdb t;
	int64_t n = 0;
	sqlite3 *raw;

	tdb_open(&t);
	assert_int_equal(store_audit_verify(t.s, &n, &t.err), ACLM_OK);
	assert_int_equal(n, 0);
	append_three(&t);
	assert_int_equal(store_audit_verify(t.s, &n, &t.err), ACLM_OK);
	assert_int_equal(n, 3);
	raw = raw_open(t.path);
	/* the first row hangs off the all-zero hash; each next off the previous */
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM audit WHERE id = 1 AND prev_hash ="
				      " '0000000000000000000000000000000000000000000000000000000000000000'"),
			 1);
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM audit a JOIN audit b ON b.id = a.id + 1"
				      " WHERE b.prev_hash = a.hash"),
			 2);
	sqlite3_close(raw);
	tdb_close(&t);
}

static void test_audit_rows_reject_update_and_delete(void **state)
{
	struct tdb t;
	sqlite3 *raw;

	tdb_open(&t);
	append_three(&t);
	raw = raw_open(t.path);
	assert_int_equal(sqlite3_exec(raw, "UPDATE audit SET actor = 'x' WHERE id = 1", NULL, NULL,
				      NULL),
			 SQLITE_CONSTRAINT);
	assert_non_null(strstr(sqlite3_errmsg(raw), "append-only"));
	assert_int_equal(sqlite3_exec(raw, "DELETE FROM audit WHERE id = 3", NULL, NULL, NULL),
			 SQLITE_CONSTRAINT);
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM audit"), 3);
	sqlite3_close(raw);
	tdb_close(&t);
}

/* Someone with the file drops the triggers: the chain still tells. */
static void test_audit_verify_names_the_tampered_row(void **state)
{
	struct tdb t;
	int64_t n = 0;
	sqlite3 *raw;

	tdb_open(&t);
	append_three(&t);
	raw = raw_open(t.path);
	assert_int_equal(sqlite3_exec(raw, "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;"
				      " UPDATE audit SET object = '43' WHERE id = 1",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(store_audit_verify(t.s, &n, &t.err), ACLM_ERR_VERIFY);
	assert_non_null(strstr(t.err.msg, "audit row 1:"));
	assert_int_equal(n, 0);
	/* put it back, then remove the middle row instead */
	assert_int_equal(sqlite3_exec(raw, "UPDATE audit SET object = '42' WHERE id = 1;"
				      " DELETE FROM audit WHERE id = 2",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(store_audit_verify(t.s, &n, &t.err), ACLM_ERR_VERIFY);
	assert_non_null(strstr(t.err.msg, "audit row 3:"));
	assert_int_equal(n, 1);
	sqlite3_close(raw);
	tdb_close(&t);
}

/* A separator moved from one field to the next must change the hash. */
static void test_audit_hash_fields_cannot_shift(void **state)
{
	char h1[65], h2[65], h3[65];
	struct aclm_err err = { 0 };

	(void)state;
	assert_int_equal(store__audit_hash("00", 1, 1, "cli:a|b", "x", "o", "", h1, &err), ACLM_OK);
	assert_int_equal(store__audit_hash("00", 1, 1, "cli:a", "b|x", "o", "", h2, &err), ACLM_OK);
	assert_int_equal(store__audit_hash("00", 1, 1, "cli:a|b", "x", "o", "", h3, &err), ACLM_OK);
	assert_string_not_equal(h1, h2);
	assert_string_equal(h1, h3);
}

static void test_audit_append_joins_the_callers_transaction(void **state)
{
	struct tdb t;
	int64_t n = 0;

	tdb_open(&t);
	assert_int_equal(store_begin(t.s, &t.err), ACLM_OK);
	append(&t, "cert.import", "1", NULL);
	store_rollback(t.s);
	assert_int_equal(store_audit_verify(t.s, &n, &t.err), ACLM_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_begin(t.s, &t.err), ACLM_OK);
	append(&t, "cert.import", "1", NULL);
	append(&t, "cert.import", "2", NULL);
	assert_int_equal(store_commit(t.s, &t.err), ACLM_OK);
	assert_int_equal(store_audit_verify(t.s, &n, &t.err), ACLM_OK);
	assert_int_equal(n, 2);
	tdb_close(&t);
}

struct audit_seen {
	int64_t ids[16];
	const char *actions[16];
	size_t n;
};

static aclm_status audit_seen_cb(const struct store_audit_row *r, void *arg)
{
	struct audit_seen *a = arg;

	assert_true(a->n < 16);
	assert_int_equal(strlen(r->hash), 64);
	a->ids[a->n] = r->id;
	a->actions[a->n++] = strcmp(r->action, "cert.import") == 0 ? "cert.import" : "other";
	return ACLM_OK;
}

/* The REST API's listing: one tenant's rows, after a cursor, capped. */
static void test_audit_list_is_per_tenant_and_pages_by_id(void **state)
{
	struct tdb t;
	struct audit_seen all = { 0 }, page = { 0 }, none = { 0 };
	struct store_audit_event e = { .actor = "cli:root", .action = "cert.import" };
	int64_t other = 0;

	tdb_open(&t);
	assert_int_equal(store_tenant_ensure(t.s, "other", &other, &t.err), ACLM_OK);
	append_three(&t);
	e.tenant_id = other;
	assert_int_equal(store_audit_append(t.s, &e, &t.err), ACLM_OK);
	append(&t, "cert.import", "7", NULL);
	assert_int_equal(store_audit_list(t.s, t.tenant, 0, 0, audit_seen_cb, &all, &t.err),
			 ACLM_OK);
	assert_int_equal(all.n, 4); /* the other tenant's row is not listed */
	for (size_t i = 1; i < all.n; i++)
		assert_true(all.ids[i] > all.ids[i - 1]);
	assert_int_equal(store_audit_list(t.s, t.tenant, all.ids[1], 2, audit_seen_cb, &page,
					  &t.err),
			 ACLM_OK);
	assert_int_equal(page.n, 2);
	assert_int_equal(page.ids[0], all.ids[2]);
	assert_int_equal(page.ids[1], all.ids[3]);
	assert_int_equal(store_audit_list(t.s, other, 0, 0, audit_seen_cb, &none, &t.err), ACLM_OK);
	assert_int_equal(none.n, 1);
	assert_int_equal(store_audit_list(t.s, 0, 0, 0, audit_seen_cb, &none, &t.err),
			 ACLM_ERR_INVALID);
	tdb_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_put_get_duplicate_missing),
		cmocka_unit_test(test_audit_append_then_verify),
		cmocka_unit_test(test_audit_rows_reject_update_and_delete),
		cmocka_unit_test(test_audit_verify_names_the_tampered_row),
		cmocka_unit_test(test_audit_append_joins_the_callers_transaction),
		cmocka_unit_test(test_audit_hash_fields_cannot_shift),
		cmocka_unit_test(test_audit_list_is_per_tenant_and_pages_by_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
