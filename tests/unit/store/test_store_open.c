/* store: opening (URL schemes, file mode, WAL), migrations, tenants,
 * transactions, error mapping and backup. */
#include "store_test.h"

#include <sys/stat.h>

#include "store/sqlite_int.h"

static mode_t mode_of(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	return sb.st_mode & 07777;
}

static void test_open_creates_private_dir_and_file_in_wal_mode(void **state)
{
	char dir[64] = "/tmp/aclm-store-XXXXXX", home[128], path[160], wal[170];
	struct store_options opt = { .busy_timeout_ms = 1000 };
	struct store *s = NULL;
	struct aclm_err err = { 0 };
	sqlite3 *raw;
	sqlite3_stmt *st = NULL;

	assert_non_null(mkdtemp(dir));
	snprintf(home, sizeof(home), "%s/state", dir);
	snprintf(path, sizeof(path), "%s/db/aclm.db", home);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	opt.home = home;
	/* relative PATH lives under home; the missing directories are created */
	assert_int_equal(store_open("sqlite:db/aclm.db", &opt, &s, &err), ACLM_OK);
	assert_int_equal(mode_of(path), 0600);
	assert_int_equal(mode_of(wal), 0600); /* SQLite copies the file's mode */
	assert_int_equal(mode_of(home), 0700);
	raw = raw_open(path);
	assert_int_equal(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(raw);
	store_close(s);
	rm_rf(dir);
}

static void test_reopen_applies_each_migration_once(void **state)
{
	struct tdb t;
	sqlite3 *raw;

	tdb_open(&t);
	tdb_reopen(&t); /* would fail "table tenants already exists" if re-applied */
	tdb_reopen(&t);
	raw = raw_open(t.path);
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM schema_migrations"),
			 store__sqlite_schema_version());
	assert_int_equal(raw_int(raw, "SELECT max(version) FROM schema_migrations"),
			 store__sqlite_schema_version());
	sqlite3_close(raw);
	tdb_close(&t);
}

static void test_newer_schema_version_is_refused(void **state)
{
	struct tdb t;
	struct store_options opt;
	char sql[128];
	sqlite3 *raw;

	tdb_open(&t);
	opt = (struct store_options){ .home = t.dir };
	raw = raw_open(t.path);
	snprintf(sql, sizeof(sql), "INSERT INTO schema_migrations VALUES(%d, 0)",
		 store__sqlite_schema_version() + 1);
	assert_int_equal(sqlite3_exec(raw, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
	store_close(t.s);
	t.s = NULL;
	assert_int_equal(store_open("sqlite:aclm.db", &opt, &t.s, &t.err), ACLM_ERR_DB);
	assert_null(t.s);
	assert_non_null(strstr(t.err.msg, "is newer than this aclm"));
	tdb_close(&t);
}

static void test_scheme_selects_backend_or_names_the_supported_ones(void **state)
{
	struct store *s = NULL;
	struct aclm_err err = { 0 };

	assert_int_equal(store_open("mysql://db/x", NULL, &s, &err), ACLM_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "mysql://db/x"));
	assert_non_null(strstr(err.msg, "sqlite:PATH"));
	assert_int_equal(store_open("/var/lib/aclm.db", NULL, &s, &err), ACLM_ERR_CONFIG);
	assert_int_equal(store_open("postgresql://u@h/aclm", NULL, &s, &err), ACLM_ERR_UNSUPPORTED);
	assert_non_null(strstr(err.msg, "not supported yet"));
	assert_int_equal(store_open("sqlite:", NULL, &s, &err), ACLM_ERR_CONFIG);
	assert_null(s);
}

static void test_tenant_ensure_is_idempotent_and_find_reports_missing(void **state)
{
	struct tdb t;
	int64_t a = 0, again = 0, b = 0, found = 0;

	tdb_open(&t);
	assert_int_equal(store_tenant_ensure(t.s, "acme", &a, &t.err), ACLM_OK);
	assert_int_equal(store_tenant_ensure(t.s, "acme", &again, &t.err), ACLM_OK);
	assert_int_equal(store_tenant_ensure(t.s, "other", &b, &t.err), ACLM_OK);
	assert_int_equal(a, again);
	assert_int_not_equal(a, b);
	assert_int_equal(store_tenant_find(t.s, "acme", &found, &t.err), ACLM_OK);
	assert_int_equal(found, a);
	assert_int_equal(store_tenant_find(t.s, "nobody", &found, &t.err), ACLM_ERR_NOTFOUND);
	assert_non_null(strstr(t.err.msg, "nobody"));
	assert_int_equal(store_tenant_ensure(t.s, "", &found, &t.err), ACLM_ERR_INVALID);
	tdb_close(&t);
}

static void test_transactions_do_not_nest_and_rollback_discards(void **state)
{
	struct tdb t;
	int64_t id = 0;

	tdb_open(&t);
	assert_int_equal(store_commit(t.s, &t.err), ACLM_ERR_INVALID);
	assert_int_equal(store_begin(t.s, &t.err), ACLM_OK);
	assert_int_equal(store_begin(t.s, &t.err), ACLM_ERR_INVALID);
	assert_int_equal(store_tenant_ensure(t.s, "temp", &id, &t.err), ACLM_OK);
	store_rollback(t.s);
	assert_int_equal(store_tenant_find(t.s, "temp", &id, &t.err), ACLM_ERR_NOTFOUND);
	assert_int_equal(store_begin(t.s, &t.err), ACLM_OK);
	assert_int_equal(store_tenant_ensure(t.s, "kept", &id, &t.err), ACLM_OK);
	assert_int_equal(store_commit(t.s, &t.err), ACLM_OK);
	assert_int_equal(store_tenant_find(t.s, "kept", &id, &t.err), ACLM_OK);
	tdb_close(&t);
}

/* Another connection holding the write lock past the busy timeout. */
static void test_locked_database_maps_to_busy_with_sqlite_message(void **state)
{
	struct tdb t;
	struct store *s2 = NULL;
	struct store_options opt;
	sqlite3 *raw;

	tdb_open(&t);
	opt = (struct store_options){ .home = t.dir, .busy_timeout_ms = 50 };
	assert_int_equal(store_open("sqlite:aclm.db", &opt, &s2, &t.err), ACLM_OK);
	raw = raw_open(t.path);
	assert_int_equal(sqlite3_exec(raw, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_begin(s2, &t.err), ACLM_ERR_BUSY);
	assert_non_null(strstr(t.err.msg, "database is locked"));
	assert_non_null(strstr(t.err.msg, t.path));
	sqlite3_exec(raw, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(raw);
	store_close(s2);
	tdb_close(&t);
}

static void test_backup_copies_rows_and_never_overwrites(void **state)
{
	struct tdb t;
	struct store *copy = NULL;
	struct store_options opt;
	char fp[65], bak[160], tmp[170], url[180];
	int64_t id = 0, tenant = 0;

	tdb_open(&t);
	tfp(fp, "b0", 1);
	tinsert(&t, t.tenant, fp, &(struct tfacts){ .cn = "a.example", .subject = "CN=a",
						   .issuer = "CN=ca" },
		NOW);
	snprintf(bak, sizeof(bak), "%s/backup.db", t.dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", bak);
	assert_int_equal(store_backup(t.s, bak, &t.err), ACLM_OK);
	assert_int_equal(mode_of(bak), 0600);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(store_backup(t.s, bak, &t.err), ACLM_ERR_EXISTS);
	opt = (struct store_options){ .home = t.dir };
	snprintf(url, sizeof(url), "sqlite:%s", bak);
	assert_int_equal(store_open(url, &opt, &copy, &t.err), ACLM_OK);
	assert_int_equal(store_tenant_find(copy, "default", &tenant, &t.err), ACLM_OK);
	assert_int_equal(store_cert_find_fingerprint(copy, tenant, fp, &id, &t.err), ACLM_OK);
	store_close(copy);
	tdb_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_creates_private_dir_and_file_in_wal_mode),
		cmocka_unit_test(test_reopen_applies_each_migration_once),
		cmocka_unit_test(test_newer_schema_version_is_refused),
		cmocka_unit_test(test_scheme_selects_backend_or_names_the_supported_ones),
		cmocka_unit_test(test_tenant_ensure_is_idempotent_and_find_reports_missing),
		cmocka_unit_test(test_transactions_do_not_nest_and_rollback_discards),
		cmocka_unit_test(test_locked_database_maps_to_busy_with_sqlite_message),
		cmocka_unit_test(test_backup_copies_rows_and_never_overwrites),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
