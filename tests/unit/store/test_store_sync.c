/* store/: store_sync, the CA's group commit: a commit on a synchronous=NORMAL
 * connection leaves its WAL frames unsynced, and store_sync then syncs the
 * -wal file past them. The test defines fdatasync and fsync itself (the
 * executable's definitions win over libc's for the store and for SQLite)
 * and records which file each call synced and how long that file was. */
#include "store_test.h"

#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define MAX_CALLS 64

struct sync_call {
	char path[PATH_MAX];
	off_t size;
};

static struct sync_call calls[MAX_CALLS];
static int ncalls;

static void record(int fd)
{
	char link[64];
	struct stat sb;
	ssize_t n;

	if (ncalls >= MAX_CALLS)
		return;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, calls[ncalls].path, sizeof(calls[ncalls].path) - 1);
	calls[ncalls].path[n > 0 ? n : 0] = '\0';
	calls[ncalls].size = fstat(fd, &sb) == 0 ? sb.st_size : -1;
	ncalls++;
}

int fdatasync(int fd);
int fdatasync(int fd)
{
	record(fd);
	return (int)syscall(SYS_fdatasync, fd);
}

int fsync(int fd);
int fsync(int fd)
{
	record(fd);
	return (int)syscall(SYS_fsync, fd);
}

/* Whether a sync of path happened while the file held at least size bytes. */
static bool synced_past(const char *path, off_t size)
{
	for (int i = 0; i < ncalls; i++)
		if (strcmp(calls[i].path, path) == 0 && calls[i].size >= size)
			return true;
	return false;
}

static off_t file_size(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	return sb.st_size;
}

static void test_sync_covers_the_last_commit_which_normal_left_unsynced(void **state)
{
	struct tdb t;
	char dir[PATH_MAX], wal[PATH_MAX + 16];
	int64_t id = 0;
	off_t after;

	(void)state;
	tdb_open(&t);
	assert_non_null(realpath(t.dir, dir));
	snprintf(wal, sizeof(wal), "%s/aclm.db-wal", dir);
	ncalls = 0;
	assert_int_equal(store_tenant_ensure(t.s, "second", &id, &t.err), ACLM_OK);
	after = file_size(wal);
	assert_true(after > 32); /* the WAL header and at least one frame */
	/* synchronous=NORMAL: the commit alone left its frames unsynced. */
	assert_false(synced_past(wal, after));
	assert_int_equal(store_sync(t.s, &t.err), ACLM_OK);
	assert_true(synced_past(wal, after));
	tdb_close(&t);
}

/* A commit on another connection of the same database is covered too: the
 * CA's workers each have their own connection. */
static void test_sync_covers_another_connections_commit(void **state)
{
	struct tdb t;
	struct store *other = NULL;
	struct store_options opt = { .busy_timeout_ms = 2000 };
	char dir[PATH_MAX], wal[PATH_MAX + 16];
	int64_t id = 0;
	off_t after;

	(void)state;
	tdb_open(&t);
	opt.home = t.dir;
	assert_int_equal(store_open("sqlite:aclm.db", &opt, &other, &t.err), ACLM_OK);
	assert_non_null(realpath(t.dir, dir));
	snprintf(wal, sizeof(wal), "%s/aclm.db-wal", dir);
	ncalls = 0;
	assert_int_equal(store_tenant_ensure(other, "elsewhere", &id, &t.err), ACLM_OK);
	after = file_size(wal);
	assert_false(synced_past(wal, after));
	assert_int_equal(store_sync(t.s, &t.err), ACLM_OK);
	assert_true(synced_past(wal, after));
	store_close(other);
	tdb_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sync_covers_the_last_commit_which_normal_left_unsynced),
		cmocka_unit_test(test_sync_covers_another_connections_commit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
