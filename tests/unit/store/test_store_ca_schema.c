/* store/: migration 10 of the CA server's tables (orders WITHOUT ROWID, the
 * reuse index on the authorization's identity only, the CRL index on revoked
 * certificates only): a populated version-9 database keeps every row and
 * reference, each lookup walks the b-tree meant for it, and the writes of an
 * issuance leave the reuse and CRL indexes alone (pages read back from the WAL). */
#include "store_test.h"

#include "core/time.h"
#include "store/sqlite_int.h"

#define CA "corp"

/* Takes a version-10 database back to version 9: ca_orders as migration 4
 * made it, and the two indexes migration 10 changed. */
#define UNDO_10                                                                              \
	"DROP TABLE ca_orders; DROP INDEX ca_authzs_reuse; DROP INDEX ca_issued_crl;"        \
	"CREATE TABLE ca_orders("                                                            \
	"  tenant_id INTEGER NOT NULL REFERENCES tenants(id),"                               \
	"  ca_name TEXT NOT NULL,"                                                           \
	"  id TEXT NOT NULL,"                                                                \
	"  account_id TEXT NOT NULL,"                                                        \
	"  status TEXT NOT NULL,"                                                            \
	"  identifiers TEXT NOT NULL,"                                                       \
	"  authz_ids TEXT NOT NULL,"                                                         \
	"  profile TEXT,"                                                                    \
	"  not_before INTEGER NOT NULL DEFAULT 0, not_after INTEGER NOT NULL DEFAULT 0,"     \
	"  expires INTEGER NOT NULL,"                                                        \
	"  error TEXT,"                                                                      \
	"  cert_serial TEXT,"                                                                \
	"  replaces TEXT,"                                                                   \
	"  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"                        \
	"  PRIMARY KEY(tenant_id, ca_name, id),"                                             \
	"  FOREIGN KEY(tenant_id, ca_name, account_id)"                                      \
	"    REFERENCES ca_accounts(tenant_id, ca_name, id));"                               \
	"CREATE INDEX ca_authzs_reuse ON ca_authzs(tenant_id, ca_name, account_id, ident_type," \
	"  ident_value, wildcard, status, expires);"                                         \
	"CREATE INDEX ca_issued_crl ON ca_issued(tenant_id, ca_name, key_type, revoked,"     \
	"  created_at, serial);"                                                             \
	"DELETE FROM schema_migrations WHERE version = 10;"

/* Version-9 rows of every kind: two accounts, an EAB key bound to one, a
 * valid and a failed order, a valid authorization and a wildcard one being
 * validated, an issued certificate in the inventory and a revoked one that
 * an order replaced. ?1 is the tenant, ?2 the inventory certificate. */
static const char *const rows_9[] = {
	"INSERT INTO ca_accounts VALUES(?1, 'corp', 'acct1', ?1, 'th1', '{\"kty\":\"EC\"}',"
	" '[\"mailto:a@example.com\"]', 'valid', 'kid1', '[\"*.example.com\"]', 10, 11)",
	"INSERT INTO ca_accounts VALUES(?1, 'corp', 'acct2', ?1, 'th2', '{\"kty\":\"RSA\"}',"
	" '[]', 'deactivated', NULL, NULL, 12, 13)",
	"INSERT INTO ca_eab VALUES(?1, 'corp', 'kid1', ?1, x'414b310908', NULL, 'acct1', 14)",
	"INSERT INTO ca_orders VALUES(?1, 'corp', 'o1', 'acct1', 'valid',"
	" '[{\"type\":\"dns\",\"value\":\"a.example.com\"}]', '[\"z1\"]', NULL, 0, 0, 2000000000,"
	" NULL, 'aa01', NULL, 20, 21)",
	"INSERT INTO ca_orders VALUES(?1, 'corp', 'o2', 'acct2', 'invalid',"
	" '[{\"type\":\"dns\",\"value\":\"*.b.example.com\"}]', '[\"z2\"]', 'shortlived',"
	" 1800000000, 1800086400, 2000000001, '{\"type\":\"urn:ietf:params:acme:error:badCSR\"}',"
	" NULL, 'aa02', 22, 23)",
	"INSERT INTO ca_authzs VALUES(?1, 'corp', 'z1', 'acct1', 'dns', 'a.example.com', 0,"
	" 'valid', 2000000000, '[{\"type\":\"http-01\",\"status\":\"valid\"}]', 0, 30, 31)",
	"INSERT INTO ca_authzs VALUES(?1, 'corp', 'z2', 'acct2', 'dns', 'b.example.com', 1,"
	" 'pending', 1900000000, '[{\"type\":\"dns-01\",\"status\":\"processing\"}]', 1, 32, 33)",
	"INSERT INTO ca_issued VALUES(?1, 'corp', 'aa01', 'p256', 'acct1', 'o1', ?2, x'30030201',"
	" 1800000000, 1807776000, NULL, 0, 0, 0, NULL, 40)",
	"INSERT INTO ca_issued VALUES(?1, 'corp', 'aa02', 'p256', 'acct2', NULL, NULL, x'3003020102',"
	" 1800000000, 1807776000, 'shortlived', 1, 1800000500, 1, 'o2', 41)",
};

/* Every row and every declared reference of the CA tables, in key order. */
static const char *const dumps[] = {
	"SELECT * FROM ca_accounts ORDER BY tenant_id, ca_name, id",
	"SELECT * FROM ca_eab ORDER BY tenant_id, ca_name, kid",
	"SELECT * FROM ca_orders ORDER BY tenant_id, ca_name, id",
	"SELECT * FROM ca_authzs ORDER BY tenant_id, ca_name, id",
	"SELECT * FROM ca_issued ORDER BY tenant_id, ca_name, serial",
	"SELECT t.name, f.* FROM (SELECT 'ca_accounts' AS name UNION SELECT 'ca_eab'"
	" UNION SELECT 'ca_orders' UNION SELECT 'ca_authzs' UNION SELECT 'ca_issued') t,"
	" pragma_foreign_key_list(t.name) f ORDER BY t.name, f.id, f.seq",
};

static void exec_bound(sqlite3 *db, const char *sql, int64_t a, int64_t b)
{
	sqlite3_stmt *st = NULL;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_bind_int64(st, 1, a), SQLITE_OK);
	if (sqlite3_bind_parameter_count(st) >= 2)
		assert_int_equal(sqlite3_bind_int64(st, 2, b), SQLITE_OK);
	if (sqlite3_step(st) != SQLITE_DONE)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_finalize(st);
}

/* The rows of sql as text, blobs in hex, NULL as NULL; fails past cap. */
static void dump(sqlite3 *db, const char *sql, char *out, size_t cap)
{
	sqlite3_stmt *st = NULL;
	size_t n = 0;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	out[0] = '\0';
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (int c = 0; c < sqlite3_column_count(st); c++) {
			const unsigned char *b = sqlite3_column_blob(st, c);
			int len = sqlite3_column_bytes(st, c);

			if (sqlite3_column_type(st, c) == SQLITE_NULL)
				n += (size_t)snprintf(out + n, cap - n, "NULL|");
			else if (sqlite3_column_type(st, c) != SQLITE_BLOB)
				n += (size_t)snprintf(out + n, cap - n, "%s|",
						      (const char *)sqlite3_column_text(st, c));
			else
				for (int i = 0; i <= len && n < cap; i++)
					n += (size_t)snprintf(out + n, cap - n, i < len ? "%02x" : "|",
							      i < len ? b[i] : 0);
			assert_true(n < cap);
		}
		n += (size_t)snprintf(out + n, cap - n, "\n");
		assert_true(n < cap);
	}
	sqlite3_finalize(st);
}

static bool has_index(sqlite3 *raw, const char *name)
{
	char sql[160];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
		 " AND name = '%s'", name);
	return raw_int(raw, sql) == 1;
}

/* Counts each store callback's rows, remembering the last id. */
struct seen {
	int n;
	char last[64];
};

static aclm_status seen_authz(const struct store_ca_authz *a, void *arg)
{
	struct seen *s = arg;

	s->n++;
	snprintf(s->last, sizeof(s->last), "%s", a->id);
	return ACLM_OK;
}

static aclm_status seen_issued(const struct store_ca_issued *c, void *arg)
{
	struct seen *s = arg;

	s->n++;
	snprintf(s->last, sizeof(s->last), "%s", c->serial);
	return ACLM_OK;
}

static void test_migration_10_keeps_every_row_and_reference(void **state)
{
	struct tdb t;
	struct tfacts f = { .cn = "a.example.com", .subject = "CN=a", .issuer = "CN=i" };
	struct store_ca_order *o = NULL;
	struct store_ca_authz *z = NULL;
	struct seen seen = { 0 };
	char fp[65], before[6][4096], after[4096], sql[320];
	int64_t cert;
	sqlite3 *raw;

	(void)state;
	tdb_open(&t);
	tfp(fp, "cc", 1);
	cert = tinsert(&t, t.tenant, fp, &f, NOW);
	store_close(t.s);
	t.s = NULL;
	raw = raw_open(t.path);
	assert_int_equal(sqlite3_exec(raw, "PRAGMA foreign_keys = ON;" UNDO_10, NULL, NULL, NULL),
			 SQLITE_OK);
	for (size_t i = 0; i < sizeof(rows_9) / sizeof(rows_9[0]); i++)
		exec_bound(raw, rows_9[i], t.tenant, cert);
	assert_int_equal(raw_int(raw, "SELECT max(version) FROM schema_migrations"), 9);
	assert_true(has_index(raw, "sqlite_autoindex_ca_orders_1"));
	for (size_t i = 0; i < 6; i++)
		dump(raw, dumps[i], before[i], sizeof(before[i]));
	assert_non_null(strstr(before[4], "aa02|p256|acct2|NULL|NULL|3003020102|"));

	tdb_reopen(&t);
	assert_int_equal(raw_int(raw, "SELECT max(version) FROM schema_migrations"), 10);
	/* Every row, every column, and every declared reference as before. */
	for (size_t i = 0; i < 6; i++) {
		dump(raw, dumps[i], after, sizeof(after));
		if (strcmp(before[i], after) != 0)
			fail_msg("%s\nbefore:\n%s\nafter:\n%s", dumps[i], before[i], after);
	}
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	/* The new shapes: orders keyed by their primary key alone, the reuse
	 * index on the identity, the CRL index on revoked rows only. */
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM sqlite_master WHERE name = 'ca_orders'"
				      " AND sql LIKE '%WITHOUT ROWID'"), 1);
	assert_false(has_index(raw, "sqlite_autoindex_ca_orders_1"));
	assert_false(has_index(raw, "ca_orders_new"));
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM pragma_index_info('ca_authzs_reuse')"),
			 6);
	assert_int_equal(raw_int(raw, "SELECT partial FROM pragma_index_list('ca_issued')"
				      " WHERE name = 'ca_issued_crl'"), 1);
	assert_int_equal(raw_int(raw, "SELECT sum(ncell) FROM dbstat WHERE name = 'ca_issued_crl'"),
			 1);

	/* The references still hold: an order of an unknown account is refused,
	 * an inventory delete still clears the issued certificate's link. */
	assert_int_equal(sqlite3_exec(raw, "PRAGMA foreign_keys = ON", NULL, NULL, NULL), SQLITE_OK);
	for (size_t i = 0; i < 2; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO ca_orders(tenant_id, ca_name, id, account_id,"
			 " status, identifiers, authz_ids, expires, created_at, updated_at)"
			 " VALUES(%lld, 'corp', 'o3', '%s', 'pending', '[]', '[]', 0, 0, 0)",
			 (long long)t.tenant, i == 0 ? "nobody" : "acct2");
		assert_int_equal(sqlite3_exec(raw, sql, NULL, NULL, NULL),
				 i == 0 ? SQLITE_CONSTRAINT : SQLITE_OK);
	}
	assert_int_equal(store_cert_delete(t.s, t.tenant, cert, &t.err), ACLM_OK);
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM ca_issued WHERE cert_id IS NULL"), 2);

	/* And the store reads them through the new b-trees. */
	assert_int_equal(store_ca_order_get(t.s, t.tenant, CA, "o2", &o, &t.err), ACLM_OK);
	assert_string_equal(o->replaces, "aa02");
	assert_string_equal(o->profile, "shortlived");
	store_ca_order_free(o);
	assert_int_equal(store_ca_authz_find_valid(t.s, t.tenant, CA, "acct1", "dns", "A.example.com",
						   false, NOW, NOW, &z, &t.err), ACLM_OK);
	assert_string_equal(z->id, "z1");
	store_ca_authz_free(z);
	assert_int_equal(store_ca_authz_list_va_pending(t.s, t.tenant, CA, seen_authz, &seen,
							&t.err), ACLM_OK);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.last, "z2");
	seen.n = 0;
	assert_int_equal(store_ca_issued_list(t.s, t.tenant, CA, "p256", true, seen_issued, &seen,
					      &t.err), ACLM_OK);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.last, "aa02");
	sqlite3_close(raw);
	tdb_close(&t);
}

/* ---- query plans ---- */

static void assert_walks(sqlite3 *db, const char *sql, const char *btree)
{
	char plan[1024];

	plan_of(db, sql, plan, sizeof(plan));
	if (strstr(plan, btree) == NULL || strstr(plan, "SCAN") != NULL ||
	    strstr(plan, "TEMP B-TREE") != NULL)
		fail_msg("%s\nwanted %s alone, no scan or sort; plan:\n%s", sql, btree, plan);
}

/* Each lookup of an issuance descends one b-tree by its key, no scan, no sort. */
static void test_ca_lookups_walk_their_btrees(void **state)
{
	struct tdb t;
	sqlite3 *raw;

	(void)state;
	tdb_open(&t);
	raw = raw_open(t.path);
	assert_walks(raw, store__sqlite_ca_sql_authz_get,
		     "SEARCH ca_authzs USING INDEX sqlite_autoindex_ca_authzs_1"
		     " (tenant_id=? AND ca_name=? AND id=?)");
	assert_walks(raw, "SELECT status FROM ca_orders WHERE tenant_id = ?1 AND ca_name = ?2"
			  " AND id = ?3",
		     "SEARCH ca_orders USING PRIMARY KEY (tenant_id=? AND ca_name=? AND id=?)");
	assert_walks(raw, store__sqlite_ca_sql_authz_find_valid,
		     "SEARCH ca_authzs USING INDEX ca_authzs_reuse (tenant_id=? AND ca_name=?"
		     " AND account_id=? AND ident_type=? AND ident_value=? AND wildcard=?)");
	assert_walks(raw, store__sqlite_ca_sql_authz_va_pending,
		     "SEARCH ca_authzs USING INDEX ca_authzs_va_pending (tenant_id=? AND ca_name=?)");
	assert_walks(raw, store__sqlite_ca_sql_issued_list[1][1],
		     "SEARCH ca_issued USING INDEX ca_issued_crl (tenant_id=? AND ca_name=?"
		     " AND key_type=?)");
	sqlite3_close(raw);
	tdb_close(&t);
}

/* ---- pages written ---- */

#define WAL_MAX (4u << 20)

/* Empties the WAL into the database (the store is idle between calls). */
static void checkpoint(sqlite3 *raw)
{
	assert_int_equal(raw_int(raw, "PRAGMA wal_checkpoint(TRUNCATE)"), 0); /* not busy */
}

/* Whether a frame now in the WAL holds a page of b-tree name (dbstat maps
 * page numbers to b-trees; "WAL File Format": 32-byte header, then frames
 * of a 24-byte header, page number first, and one page). */
static bool wal_wrote(const struct tdb *t, sqlite3 *raw, const char *name)
{
	char path[160];
	unsigned char *w = malloc(WAL_MAX);
	size_t n, psz, off;
	bool hit = false;
	FILE *fp;

	snprintf(path, sizeof(path), "%s-wal", t->path);
	assert_non_null(w);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	n = fread(w, 1, WAL_MAX, fp);
	fclose(fp);
	assert_true(n >= 32 && n < WAL_MAX);
	psz = (size_t)w[8] << 24 | (size_t)w[9] << 16 | (size_t)w[10] << 8 | w[11];
	for (off = 32; !hit && off + 24 + psz <= n && memcmp(w + off + 8, w + 16, 8) == 0;
	     off += 24 + psz) {
		char sql[160];
		unsigned pg = (unsigned)w[off] << 24 | (unsigned)w[off + 1] << 16 |
			      (unsigned)w[off + 2] << 8 | w[off + 3];

		snprintf(sql, sizeof(sql), "SELECT count(*) FROM dbstat WHERE pageno = %u"
			 " AND name = '%s'", pg, name);
		hit = raw_int(raw, sql) > 0;
	}
	assert_true(off > 32); /* the call wrote something */
	free(w);
	return hit;
}

static struct store_ca_authz authz(int64_t tenant, const char *status, bool va_pending)
{
	struct store_ca_authz a = { .tenant_id = tenant, .ca_name = CA, .account_id = "acct",
				    .ident_type = "dns", .ident_value = "a.example.com",
				    .status = (char *)status, .expires = NOW + DAY,
				    .va_pending = va_pending };

	snprintf(a.id, sizeof(a.id), "z1");
	return a;
}

/* A validation (status, expiry, challenges change) leaves the reuse index
 * unwritten; issuing leaves the CRL index unwritten, revoking writes it. */
static void test_issuance_writes_neither_reuse_nor_crl_index(void **state)
{
	static const unsigned char der[] = { 0x30, 0x03, 0x02, 0x01, 0x2a };
	struct store_ca_account acct = { .ca_name = CA, .member_tenant = 0, .status = "valid" };
	struct store_ca_issued c = { .ca_name = CA, .key_type = "p256",
				     .der = (unsigned char *)der, .der_len = sizeof(der),
				     .not_before = NOW, .not_after = NOW + DAY };
	struct store_ca_authz a;
	struct tdb t;
	sqlite3 *raw;

	(void)state;
	tdb_open(&t);
	raw = raw_open(t.path);
	acct.tenant_id = acct.member_tenant = t.tenant;
	snprintf(acct.id, sizeof(acct.id), "acct");
	snprintf(acct.thumbprint, sizeof(acct.thumbprint), "th");
	acct.jwk = json_pack("{s:s}", "kty", "EC");
	assert_int_equal(store_ca_account_put(t.s, &acct, &t.err), ACLM_OK);
	json_decref(acct.jwk);
	a = authz(t.tenant, "pending", false);
	assert_int_equal(store_ca_authz_put(t.s, &a, &t.err), ACLM_OK);

	checkpoint(raw);
	a = authz(t.tenant, "pending", true);
	assert_int_equal(store_ca_authz_put(t.s, &a, &t.err), ACLM_OK);
	assert_true(wal_wrote(&t, raw, "ca_authzs"));
	assert_false(wal_wrote(&t, raw, "ca_authzs_reuse"));
	checkpoint(raw);
	a = authz(t.tenant, "valid", false);
	a.expires = NOW + 30 * DAY;
	assert_int_equal(store_ca_authz_put(t.s, &a, &t.err), ACLM_OK);
	assert_true(wal_wrote(&t, raw, "ca_authzs"));
	assert_false(wal_wrote(&t, raw, "ca_authzs_reuse"));

	checkpoint(raw);
	c.tenant_id = t.tenant;
	snprintf(c.serial, sizeof(c.serial), "0a01");
	assert_int_equal(store_ca_issued_put(t.s, &c, &t.err), ACLM_OK);
	assert_true(wal_wrote(&t, raw, "ca_issued"));
	assert_false(wal_wrote(&t, raw, "ca_issued_crl"));
	checkpoint(raw);
	assert_int_equal(store_ca_issued_revoke(t.s, t.tenant, CA, "0a01", 1, NOW, &t.err),
			 ACLM_OK);
	assert_true(wal_wrote(&t, raw, "ca_issued_crl"));
	sqlite3_close(raw);
	tdb_close(&t);
}

/* The update keeps an authorization's identity and an order's account out
 * of its SET (see wal above), so it refuses to change them instead. */
static void test_put_refuses_to_change_identity_or_account(void **state)
{
	struct store_ca_account acct = { .ca_name = CA, .status = "valid" };
	struct store_ca_order o = { .ca_name = CA, .account_id = "acct", .status = "pending",
				    .expires = NOW + DAY };
	struct store_ca_authz a, *got = NULL;
	struct store_ca_order *og = NULL;
	const char *const ids[] = { "acct", "other" };
	struct tdb t;

	(void)state;
	tdb_open(&t);
	acct.tenant_id = acct.member_tenant = t.tenant;
	acct.jwk = json_pack("{s:s}", "kty", "EC");
	for (size_t i = 0; i < 2; i++) {
		snprintf(acct.id, sizeof(acct.id), "%s", ids[i]);
		snprintf(acct.thumbprint, sizeof(acct.thumbprint), "th-%s", ids[i]);
		assert_int_equal(store_ca_account_put(t.s, &acct, &t.err), ACLM_OK);
	}
	json_decref(acct.jwk);

	a = authz(t.tenant, "pending", false);
	assert_int_equal(store_ca_authz_put(t.s, &a, &t.err), ACLM_OK);
	a.account_id = "other";
	assert_int_equal(store_ca_authz_put(t.s, &a, &t.err), ACLM_ERR_INVALID);
	a = authz(t.tenant, "valid", false);
	a.ident_value = "b.example.com";
	assert_int_equal(store_ca_authz_put(t.s, &a, &t.err), ACLM_ERR_INVALID);
	a = authz(t.tenant, "valid", false);
	a.wildcard = true;
	assert_int_equal(store_ca_authz_put(t.s, &a, &t.err), ACLM_ERR_INVALID);
	/* DNS names compare without case (RFC 4343): the same identity. */
	a = authz(t.tenant, "valid", false);
	a.ident_value = "A.Example.COM";
	assert_int_equal(store_ca_authz_put(t.s, &a, &t.err), ACLM_OK);
	assert_int_equal(store_ca_authz_get(t.s, t.tenant, CA, "z1", &got, &t.err), ACLM_OK);
	assert_string_equal(got->account_id, "acct");
	assert_string_equal(got->ident_value, "a.example.com");
	assert_string_equal(got->status, "valid");
	store_ca_authz_free(got);

	o.tenant_id = t.tenant;
	snprintf(o.id, sizeof(o.id), "o1");
	o.identifiers = json_pack("[{s:s,s:s}]", "type", "dns", "value", "a.example.com");
	assert_int_equal(store_ca_order_put(t.s, &o, &t.err), ACLM_OK);
	o.account_id = "other";
	o.status = "ready";
	assert_int_equal(store_ca_order_put(t.s, &o, &t.err), ACLM_ERR_INVALID);
	o.account_id = "acct";
	assert_int_equal(store_ca_order_put(t.s, &o, &t.err), ACLM_OK);
	assert_int_equal(store_ca_order_get(t.s, t.tenant, CA, "o1", &og, &t.err), ACLM_OK);
	assert_string_equal(og->account_id, "acct");
	assert_string_equal(og->status, "ready");
	store_ca_order_free(og);
	json_decref(o.identifiers);
	tdb_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migration_10_keeps_every_row_and_reference),
		cmocka_unit_test(test_ca_lookups_walk_their_btrees),
		cmocka_unit_test(test_issuance_writes_neither_reuse_nor_crl_index),
		cmocka_unit_test(test_put_refuses_to_change_identity_or_account),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
