/* store: the ACME client's state: migration 2, ACME accounts, lineages,
 * the lineage lease, and their tenant isolation. */
#include "store_test.h"

#include "core/time.h"

#define SERVER "https://acme.example/directory"
#define SERVER2 "https://other-ca.example/dir"

static int64_t put_account(struct tdb *t, int64_t tenant, const char *server, const char *key_id,
			   const char *status)
{
	struct store_acme_account a = { 0 };
	int64_t id = 0;

	a.tenant_id = tenant;
	a.server = (char *)server;
	a.key_id = (char *)key_id;
	a.status = (char *)status;
	assert_int_equal(store_acme_account_put(t->s, &a, &id, &t->err), ACLM_OK);
	assert_true(id > 0);
	return id;
}

/* A lineage with only the required fields; the caller frees names. */
static struct store_lineage min_lineage(int64_t tenant, const char *name)
{
	struct store_lineage l = { 0 };

	l.tenant_id = tenant;
	l.name = (char *)name;
	l.server = SERVER;
	l.names = json_pack("[s]", name);
	l.key_type = "p256";
	return l;
}

static int64_t put_lineage(struct tdb *t, int64_t tenant, const char *name)
{
	struct store_lineage l = min_lineage(tenant, name);
	int64_t id = 0;

	assert_int_equal(store_lineage_put(t->s, &l, &id, &t->err), ACLM_OK);
	json_decref(l.names);
	return id;
}

static bool has_table(sqlite3 *raw, const char *name)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_master WHERE name = '%s'", name);
	return raw_int(raw, sql) == 1;
}

static void test_migration_2_applies_fresh_and_upgrades_a_version_1_database(void **state)
{
	struct tdb t;
	struct store_lineage l;
	char fp[65];
	int64_t cert, found = 0, id = 0;
	sqlite3 *raw;

	tdb_open(&t);
	raw = raw_open(t.path);
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM schema_migrations WHERE version <= 2"), 2);
	assert_true(has_table(raw, "acme_accounts"));
	assert_true(has_table(raw, "lineages"));
	tfp(fp, "11", 1);
	cert = tinsert(&t, t.tenant, fp, &(struct tfacts){ .cn = "a", .subject = "CN=a",
							  .issuer = "CN=ca" },
		       NOW);
	/* Take the database back to what migration 1 alone left, data included. */
	store_close(t.s);
	t.s = NULL;
	assert_int_equal(sqlite3_exec(raw, STORE_TEST_UNDO_5 " DROP TABLE IF EXISTS ca_issued;"
					   " DROP TABLE IF EXISTS ca_eab;"
					   " DROP TABLE IF EXISTS ca_authzs;"
					   " DROP TABLE IF EXISTS ca_orders;"
					   " DROP TABLE IF EXISTS ca_accounts;"
					   " DROP TABLE IF EXISTS cas;"
					   " DROP TABLE lineages; DROP TABLE acme_accounts;"
					   " DELETE FROM schema_migrations WHERE version >= 2",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(raw_int(raw, "SELECT max(version) FROM schema_migrations"), 1);
	assert_false(has_table(raw, "lineages"));
	tdb_reopen(&t);
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM schema_migrations WHERE version <= 2"), 2);
	assert_true(has_table(raw, "acme_accounts"));
	assert_true(has_table(raw, "lineages"));
	assert_true(has_table(raw, "lineages_cert"));
	assert_int_equal(store_cert_find_fingerprint(t.s, t.tenant, fp, &found, &t.err), ACLM_OK);
	assert_int_equal(found, cert);
	l = min_lineage(t.tenant, "upgraded.example");
	l.cert_id = cert;
	assert_int_equal(store_lineage_put(t.s, &l, &id, &t.err), ACLM_OK);
	json_decref(l.names);
	sqlite3_close(raw);
	tdb_close(&t);
}

static void test_account_put_upserts_by_server_and_key_and_get_round_trips(void **state)
{
	struct tdb t;
	struct store_acme_account a = { 0 }, *got = NULL;
	int64_t id1 = 0, id2 = 0, id3 = 0, before = aclm_time_now();

	tdb_open(&t);
	a.tenant_id = t.tenant;
	a.server = SERVER;
	a.key_id = "acct-key-1";
	a.contact = json_pack("[s]", "mailto:ops@example.com");
	a.status = "valid";
	a.created_at = NOW - DAY;
	assert_int_equal(store_acme_account_put(t.s, &a, &id1, &t.err), ACLM_OK);
	assert_int_equal(store_acme_account_get(t.s, t.tenant, id1, &got, &t.err), ACLM_OK);
	assert_int_equal(got->id, id1);
	assert_int_equal(got->tenant_id, t.tenant);
	assert_string_equal(got->server, SERVER);
	assert_string_equal(got->key_id, "acct-key-1");
	assert_null(got->url);
	assert_true(json_equal(got->contact, a.contact));
	assert_string_equal(got->status, "valid");
	assert_int_equal(got->created_at, NOW - DAY);
	assert_true(got->updated_at >= before);
	store_acme_account_free(got);
	/* same (server, key): the row is updated in place */
	json_decref(a.contact);
	a.contact = json_pack("[ss]", "mailto:a@example.com", "mailto:b@example.com");
	a.url = "https://acme.example/acct/17";
	a.status = "deactivated";
	a.created_at = 0;
	assert_int_equal(store_acme_account_put(t.s, &a, &id2, &t.err), ACLM_OK);
	assert_int_equal(id2, id1);
	assert_int_equal(store_acme_account_get(t.s, t.tenant, id1, &got, &t.err), ACLM_OK);
	assert_string_equal(got->url, "https://acme.example/acct/17");
	assert_true(json_equal(got->contact, a.contact));
	assert_string_equal(got->status, "deactivated");
	assert_int_equal(got->created_at, NOW - DAY); /* kept */
	store_acme_account_free(got);
	/* another key at the same server is another account; no contact is [] */
	json_decref(a.contact);
	a.contact = NULL;
	a.key_id = "acct-key-2";
	assert_int_equal(store_acme_account_put(t.s, &a, &id3, &t.err), ACLM_OK);
	assert_int_not_equal(id3, id1);
	assert_int_equal(store_acme_account_get(t.s, t.tenant, id3, &got, &t.err), ACLM_OK);
	assert_true(json_is_array(got->contact));
	assert_int_equal(json_array_size(got->contact), 0);
	store_acme_account_free(got);
	assert_int_equal(store_acme_account_get(t.s, t.tenant, id3 + 10, &got, &t.err),
			 ACLM_ERR_NOTFOUND);
	assert_null(got);
	/* what is refused before the database */
	a.status = "Valid";
	assert_int_equal(store_acme_account_put(t.s, &a, &id3, &t.err), ACLM_ERR_INVALID);
	a.status = "valid";
	a.key_id = NULL;
	assert_int_equal(store_acme_account_put(t.s, &a, &id3, &t.err), ACLM_ERR_INVALID);
	a.key_id = "k";
	a.tenant_id = 0;
	assert_int_equal(store_acme_account_put(t.s, &a, &id3, &t.err), ACLM_ERR_INVALID);
	tdb_close(&t);
}

static void test_account_find_returns_newest_valid_at_that_server(void **state)
{
	struct tdb t;
	struct store_acme_account *got = NULL;
	int64_t k1, k2;

	tdb_open(&t);
	k1 = put_account(&t, t.tenant, SERVER, "k1", "valid");
	k2 = put_account(&t, t.tenant, SERVER, "k2", "valid");
	put_account(&t, t.tenant, SERVER2, "k3", "valid");
	assert_int_equal(store_acme_account_find(t.s, t.tenant, SERVER, &got, &t.err), ACLM_OK);
	assert_int_equal(got->id, k2);
	store_acme_account_free(got);
	put_account(&t, t.tenant, SERVER, "k2", "deactivated");
	assert_int_equal(store_acme_account_find(t.s, t.tenant, SERVER, &got, &t.err), ACLM_OK);
	assert_int_equal(got->id, k1);
	store_acme_account_free(got);
	put_account(&t, t.tenant, SERVER, "k1", "revoked");
	assert_int_equal(store_acme_account_find(t.s, t.tenant, SERVER, &got, &t.err),
			 ACLM_ERR_NOTFOUND);
	assert_null(got);
	assert_non_null(strstr(t.err.msg, SERVER));
	tdb_close(&t);
}

static aclm_status account_ids_cb(const struct store_acme_account *a, void *arg)
{
	int64_t *ids = arg;

	ids[++ids[0]] = a->id;
	return ACLM_OK;
}

static aclm_status lineage_names_cb(const struct store_lineage *l, void *arg)
{
	char *names = arg;

	strcat(names, l->name);
	strcat(names, ";");
	return strcmp(l->name, "stop") == 0 ? ACLM_ERR_INTERNAL : ACLM_OK;
}

static void test_lists_go_by_id_and_by_name_and_stop_on_callback_error(void **state)
{
	struct tdb t;
	char names[128] = "";
	int64_t ids[8] = { 0 }, k1, k2;

	tdb_open(&t);
	k1 = put_account(&t, t.tenant, SERVER2, "k1", "valid");
	k2 = put_account(&t, t.tenant, SERVER, "k2", "revoked");
	assert_int_equal(store_acme_account_list(t.s, t.tenant, account_ids_cb, ids, &t.err),
			 ACLM_OK);
	assert_int_equal(ids[0], 2);
	assert_int_equal(ids[1], k1);
	assert_int_equal(ids[2], k2);
	put_lineage(&t, t.tenant, "www.example.org");
	put_lineage(&t, t.tenant, "api.example.org");
	put_lineage(&t, t.tenant, "mail.example.org");
	assert_int_equal(store_lineage_list(t.s, t.tenant, lineage_names_cb, names, &t.err),
			 ACLM_OK);
	assert_string_equal(names, "api.example.org;mail.example.org;www.example.org;");
	put_lineage(&t, t.tenant, "stop");
	names[0] = '\0';
	assert_int_equal(store_lineage_list(t.s, t.tenant, lineage_names_cb, names, &t.err),
			 ACLM_ERR_INTERNAL);
	assert_string_equal(names, "api.example.org;mail.example.org;stop;");
	assert_int_equal(store_lineage_list(t.s, 0, lineage_names_cb, names, &t.err),
			 ACLM_ERR_INVALID);
	tdb_close(&t);
}

static void test_lineage_put_get_round_trips_every_field_and_replace_keeps_id(void **state)
{
	struct tdb t;
	struct store_lineage l, *got = NULL;
	char fp[65];
	int64_t acct, cert, id1 = 0, id2 = 0, before = aclm_time_now();

	tdb_open(&t);
	acct = put_account(&t, t.tenant, SERVER, "k1", "valid");
	tfp(fp, "22", 1);
	cert = tinsert(&t, t.tenant, fp, &(struct tfacts){ .cn = "example.com" }, NOW);
	l = min_lineage(t.tenant, "example.com-sm2");
	json_decref(l.names);
	l.names = json_pack("[ss]", "example.com", "192.0.2.7");
	l.account_id = acct;
	l.key_type = "sm2";
	l.options = json_pack("{s:s,s:{s:s}}", "challenge", "dns-01", "hook", "cmd", "/bin/true");
	l.cert_id = cert;
	l.order_url = "https://acme.example/order/9";
	l.order_state = "finalizing";
	l.ari_id = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";
	l.next_check = NOW + 3600;
	l.created_at = NOW - DAY;
	assert_int_equal(store_lineage_put(t.s, &l, &id1, &t.err), ACLM_OK);
	assert_int_equal(store_lineage_get(t.s, t.tenant, "example.com-sm2", &got, &t.err), ACLM_OK);
	assert_int_equal(got->id, id1);
	assert_int_equal(got->tenant_id, t.tenant);
	assert_string_equal(got->name, "example.com-sm2");
	assert_string_equal(got->server, SERVER);
	assert_int_equal(got->account_id, acct);
	assert_true(json_equal(got->names, l.names));
	assert_string_equal(got->key_type, "sm2");
	assert_true(json_equal(got->options, l.options));
	assert_int_equal(got->cert_id, cert);
	assert_string_equal(got->order_url, "https://acme.example/order/9");
	assert_string_equal(got->order_state, "finalizing");
	assert_string_equal(got->ari_id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
	assert_int_equal(got->next_check, NOW + 3600);
	assert_int_equal(got->created_at, NOW - DAY);
	assert_true(got->updated_at >= before);
	store_lineage_free(got);
	/* replace: same row, every field taken from the new value, the lock kept */
	assert_int_equal(store_lineage_lock(t.s, t.tenant, l.name, "worker-1", aclm_time_now() + 300,
					    &t.err),
			 ACLM_OK);
	json_decref(l.options);
	l.options = NULL;
	l.server = SERVER2;
	l.account_id = 0;
	l.key_type = "p384";
	l.cert_id = 0;
	l.order_url = NULL;
	l.order_state = NULL;
	l.ari_id = NULL;
	l.next_check = 0;
	l.created_at = 0;
	assert_int_equal(store_lineage_put(t.s, &l, &id2, &t.err), ACLM_OK);
	assert_int_equal(id2, id1);
	assert_int_equal(store_lineage_get(t.s, t.tenant, "example.com-sm2", &got, &t.err), ACLM_OK);
	assert_string_equal(got->server, SERVER2);
	assert_int_equal(got->account_id, 0);
	assert_string_equal(got->key_type, "p384");
	assert_true(json_is_object(got->options));
	assert_int_equal(json_object_size(got->options), 0);
	assert_int_equal(got->cert_id, 0);
	assert_null(got->order_url);
	assert_null(got->order_state);
	assert_null(got->ari_id);
	assert_int_equal(got->next_check, 0);
	assert_int_equal(got->created_at, NOW - DAY);
	store_lineage_free(got);
	assert_int_equal(store_lineage_lock(t.s, t.tenant, l.name, "worker-2", aclm_time_now() + 300,
					    &t.err),
			 ACLM_ERR_BUSY);
	/* missing and malformed */
	assert_int_equal(store_lineage_get(t.s, t.tenant, "nope.example", &got, &t.err),
			 ACLM_ERR_NOTFOUND);
	assert_string_equal(t.err.msg, "lineage nope.example not found");
	json_decref(l.names);
	l.names = json_array();
	assert_int_equal(store_lineage_put(t.s, &l, &id2, &t.err), ACLM_ERR_INVALID);
	json_decref(l.names);
	l.names = json_pack("[s]", "example.com");
	l.account_id = acct + 100; /* no such account */
	assert_int_equal(store_lineage_put(t.s, &l, &id2, &t.err), ACLM_ERR_INVALID);
	json_decref(l.names);
	tdb_close(&t);
}

static void test_deleting_current_certificate_sets_cert_id_to_0(void **state)
{
	struct tdb t;
	struct store_lineage l, *got = NULL;
	char fp[65];
	int64_t cert, id = 0;

	tdb_open(&t);
	tfp(fp, "33", 1);
	cert = tinsert(&t, t.tenant, fp, &(struct tfacts){ .cn = "gone.example" }, NOW);
	l = min_lineage(t.tenant, "gone.example");
	l.cert_id = cert;
	l.ari_id = "ari";
	assert_int_equal(store_lineage_put(t.s, &l, &id, &t.err), ACLM_OK);
	assert_int_equal(store_cert_delete(t.s, t.tenant, cert, &t.err), ACLM_OK);
	assert_int_equal(store_lineage_get(t.s, t.tenant, "gone.example", &got, &t.err), ACLM_OK);
	assert_int_equal(got->cert_id, 0);
	assert_string_equal(got->ari_id, "ari"); /* the rest of the row stays */
	store_lineage_free(got);
	json_decref(l.names);
	tdb_close(&t);
}

static void test_lock_free_held_renewed_expired_and_unlock_by_non_owner(void **state)
{
	struct tdb t;
	char until_s[ACLM_TIME_RFC3339_LEN], want[128];
	int64_t now = aclm_time_now();
	sqlite3 *raw;

	tdb_open(&t);
	raw = raw_open(t.path);
	put_lineage(&t, t.tenant, "lock.example");
	/* free -> taken */
	assert_int_equal(store_lineage_lock(t.s, t.tenant, "lock.example", "A", now + 300, &t.err),
			 ACLM_OK);
	/* held by A -> B is refused with who and until when */
	assert_int_equal(store_lineage_lock(t.s, t.tenant, "lock.example", "B", now + 300, &t.err),
			 ACLM_ERR_BUSY);
	snprintf(want, sizeof(want), "lineage lock.example is locked by A until %s",
		 aclm_time_fmt(now + 300, until_s));
	assert_string_equal(t.err.msg, want);
	/* A renews its lease */
	assert_int_equal(store_lineage_lock(t.s, t.tenant, "lock.example", "A", now + 600, &t.err),
			 ACLM_OK);
	assert_int_equal(raw_int(raw, "SELECT lock_until FROM lineages WHERE name = 'lock.example'"),
			 now + 600);
	/* B's unlock does not release A's lock */
	assert_int_equal(store_lineage_unlock(t.s, t.tenant, "lock.example", "B", &t.err), ACLM_OK);
	assert_int_equal(store_lineage_lock(t.s, t.tenant, "lock.example", "B", now + 300, &t.err),
			 ACLM_ERR_BUSY);
	assert_non_null(strstr(t.err.msg, "locked by A"));
	/* A's lease runs out (A crashed): B takes it, and now A is refused */
	assert_int_equal(sqlite3_exec(raw, "UPDATE lineages SET lock_until = lock_until - 601",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(store_lineage_lock(t.s, t.tenant, "lock.example", "B", now + 300, &t.err),
			 ACLM_OK);
	assert_int_equal(store_lineage_lock(t.s, t.tenant, "lock.example", "A", now + 300, &t.err),
			 ACLM_ERR_BUSY);
	assert_non_null(strstr(t.err.msg, "locked by B"));
	/* B releases: A may take it */
	assert_int_equal(store_lineage_unlock(t.s, t.tenant, "lock.example", "B", &t.err), ACLM_OK);
	assert_int_equal(raw_int(raw, "SELECT lock_owner IS NULL FROM lineages"), 1);
	assert_int_equal(store_lineage_lock(t.s, t.tenant, "lock.example", "A", now + 300, &t.err),
			 ACLM_OK);
	/* no such lineage; an `until` that is not a future time */
	assert_int_equal(store_lineage_lock(t.s, t.tenant, "nope.example", "A", now + 300, &t.err),
			 ACLM_ERR_NOTFOUND);
	assert_string_equal(t.err.msg, "lineage nope.example not found");
	assert_int_equal(store_lineage_lock(t.s, t.tenant, "lock.example", "A", 300, &t.err),
			 ACLM_ERR_INVALID);
	sqlite3_close(raw);
	tdb_close(&t);
}

static void test_other_tenant_never_sees_or_locks_accounts_and_lineages(void **state)
{
	struct tdb t;
	struct store_acme_account *acc = NULL;
	struct store_lineage l, *got = NULL;
	char fp[65], names[64] = "";
	int64_t a = 0, b = 0, acct, cert, ida = 0, idb = 0, ids[4] = { 0 };
	int64_t until = aclm_time_now() + 300;

	tdb_open(&t);
	assert_int_equal(store_tenant_ensure(t.s, "a", &a, &t.err), ACLM_OK);
	assert_int_equal(store_tenant_ensure(t.s, "b", &b, &t.err), ACLM_OK);
	acct = put_account(&t, a, SERVER, "k1", "valid");
	tfp(fp, "44", 1);
	cert = tinsert(&t, a, fp, &(struct tfacts){ .cn = "shared.example" }, NOW);
	l = min_lineage(a, "shared.example");
	l.account_id = acct;
	l.cert_id = cert;
	assert_int_equal(store_lineage_put(t.s, &l, &ida, &t.err), ACLM_OK);
	/* free, yet not b's to take */
	assert_int_equal(store_lineage_lock(t.s, b, "shared.example", "b-worker", until, &t.err),
			 ACLM_ERR_NOTFOUND);
	assert_int_equal(store_lineage_lock(t.s, a, "shared.example", "a-worker", until, &t.err),
			 ACLM_OK);
	/* b sees nothing of a's */
	assert_int_equal(store_acme_account_get(t.s, b, acct, &acc, &t.err), ACLM_ERR_NOTFOUND);
	assert_int_equal(store_acme_account_find(t.s, b, SERVER, &acc, &t.err), ACLM_ERR_NOTFOUND);
	assert_int_equal(store_acme_account_list(t.s, b, account_ids_cb, ids, &t.err), ACLM_OK);
	assert_int_equal(ids[0], 0);
	assert_int_equal(store_lineage_get(t.s, b, "shared.example", &got, &t.err),
			 ACLM_ERR_NOTFOUND);
	assert_int_equal(store_lineage_list(t.s, b, lineage_names_cb, names, &t.err), ACLM_OK);
	assert_string_equal(names, "");
	/* held: b still cannot take it, learn who holds it, or release it */
	assert_int_equal(store_lineage_lock(t.s, b, "shared.example", "b-worker", until, &t.err),
			 ACLM_ERR_NOTFOUND);
	assert_null(strstr(t.err.msg, "a-worker"));
	assert_int_equal(store_lineage_unlock(t.s, b, "shared.example", "a-worker", &t.err), ACLM_OK);
	assert_int_equal(store_lineage_lock(t.s, a, "shared.example", "other", until, &t.err),
			 ACLM_ERR_BUSY);
	/* b cannot point a lineage at a's account or certificate */
	l.tenant_id = b;
	l.cert_id = 0;
	assert_int_equal(store_lineage_put(t.s, &l, &idb, &t.err), ACLM_ERR_INVALID);
	l.account_id = 0;
	l.cert_id = cert;
	assert_int_equal(store_lineage_put(t.s, &l, &idb, &t.err), ACLM_ERR_INVALID);
	/* the same name in b is b's own row; a's is untouched */
	l.cert_id = 0;
	l.key_type = "rsa2048";
	assert_int_equal(store_lineage_put(t.s, &l, &idb, &t.err), ACLM_OK);
	assert_int_not_equal(idb, ida);
	assert_int_equal(store_lineage_get(t.s, a, "shared.example", &got, &t.err), ACLM_OK);
	assert_string_equal(got->key_type, "p256");
	assert_int_equal(got->cert_id, cert);
	store_lineage_free(got);
	assert_int_equal(store_lineage_lock(t.s, b, "shared.example", "b-worker", until, &t.err),
			 ACLM_OK);
	/* the same account key at the same server in b is b's own account */
	assert_int_not_equal(put_account(&t, b, SERVER, "k1", "valid"), acct);
	json_decref(l.names);
	tdb_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migration_2_applies_fresh_and_upgrades_a_version_1_database),
		cmocka_unit_test(test_account_put_upserts_by_server_and_key_and_get_round_trips),
		cmocka_unit_test(test_account_find_returns_newest_valid_at_that_server),
		cmocka_unit_test(test_lists_go_by_id_and_by_name_and_stop_on_callback_error),
		cmocka_unit_test(test_lineage_put_get_round_trips_every_field_and_replace_keeps_id),
		cmocka_unit_test(test_deleting_current_certificate_sets_cert_id_to_0),
		cmocka_unit_test(test_lock_free_held_renewed_expired_and_unlock_by_non_owner),
		cmocka_unit_test(test_other_tenant_never_sees_or_locks_accounts_and_lineages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
