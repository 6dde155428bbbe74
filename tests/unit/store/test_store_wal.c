/* store/: store_reserve_log, the WAL given its full size up front: the -wal
 * file reaches journal_size_limit, commits after it survive a crash (the
 * files copied as they lie, as a kill -9 leaves them), and neither a
 * checkpoint nor a second reservation shrinks or rewrites it. */
#include "store_test.h"

#include <fcntl.h>
#include <sys/stat.h>

static off_t size_of(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	return sb.st_size;
}

static void add_tenants(struct tdb *t, const char *prefix, int n)
{
	char name[64];
	int64_t id;

	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s-%d", prefix, i);
		assert_int_equal(store_tenant_ensure(t->s, name, &id, &t->err), ACLM_OK);
	}
}

/* Copies FROM to TO byte for byte. */
static void copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n;

	assert_true(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	assert_int_equal(n, 0);
	close(in);
	close(out);
}

static void test_reserve_fills_the_wal_to_its_limit_and_commits_survive_a_crash(void **state)
{
	struct tdb t;
	char wal[200], crash[80], cdb[120], cwal[130];
	int64_t limit;
	sqlite3 *raw;

	(void)state;
	tdb_open(&t);
	snprintf(wal, sizeof(wal), "%s-wal", t.path);
	raw = raw_open(t.path);
	/* Room for the frames up to the automatic checkpoint (header, then
	 * 24-byte frame headers and pages); the second test shows the size is
	 * also the one SQLite cuts the WAL back to. */
	limit = 32 + 16384 * (24 + raw_int(raw, "PRAGMA page_size"));
	sqlite3_close(raw);
	add_tenants(&t, "before", 3);
	assert_true(size_of(wal) < limit);

	assert_int_equal(store_reserve_log(t.s, &t.err), ACLM_OK);
	assert_true(size_of(wal) >= limit);
	limit = size_of(wal);
	add_tenants(&t, "after", 3);
	assert_int_equal(size_of(wal), limit); /* overwritten, not extended */

	/* The files as a crash leaves them (the connection still open, no
	 * -shm): SQLite rebuilds its index from the frames and stops at the
	 * zeros. */
	snprintf(crash, sizeof(crash), "/tmp/aclm-store-XXXXXX");
	assert_non_null(mkdtemp(crash));
	snprintf(cdb, sizeof(cdb), "%s/aclm.db", crash);
	snprintf(cwal, sizeof(cwal), "%s/aclm.db-wal", crash);
	copy_file(t.path, cdb);
	copy_file(wal, cwal);
	raw = raw_open(cdb);
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM tenants WHERE name LIKE 'before-%'"), 3);
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM tenants WHERE name LIKE 'after-%'"), 3);
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM pragma_integrity_check "
				      "WHERE integrity_check <> 'ok'"), 0);
	sqlite3_close(raw);
	rm_rf(crash);
	tdb_close(&t);
}

static void test_checkpoint_and_second_reserve_keep_the_size_and_the_rows(void **state)
{
	struct tdb t;
	char wal[200];
	int64_t limit;
	sqlite3 *raw;

	(void)state;
	tdb_open(&t);
	snprintf(wal, sizeof(wal), "%s-wal", t.path);
	assert_int_equal(store_reserve_log(t.s, &t.err), ACLM_OK);
	limit = size_of(wal);
	add_tenants(&t, "a", 5);
	/* A checkpoint that rewinds the WAL: the next commit starts it over
	 * at the front and SQLite cuts it back to journal_size_limit only. */
	raw = raw_open(t.path);
	assert_int_equal(sqlite3_exec(raw, "PRAGMA wal_checkpoint(RESTART)", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(raw);
	add_tenants(&t, "b", 5);
	assert_int_equal(size_of(wal), limit);
	assert_int_equal(store_reserve_log(t.s, &t.err), ACLM_OK);
	assert_int_equal(size_of(wal), limit);
	tdb_reopen(&t);
	raw = raw_open(t.path);
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM tenants WHERE name GLOB '[ab]-*'"), 10);
	sqlite3_close(raw);
	tdb_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reserve_fills_the_wal_to_its_limit_and_commits_survive_a_crash),
		cmocka_unit_test(test_checkpoint_and_second_reserve_keep_the_size_and_the_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
