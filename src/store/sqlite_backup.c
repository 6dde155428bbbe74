/* SQLite backend: consistent online backup to a new file (SQLite backup
 * API), written beside the target and renamed into place. */
#include "store/sqlite_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Creates path.tmp (0600, must not exist: a leftover means an interrupted
 * backup, or another one running, and is not ours to delete). */
static aclm_status create_tmp(const char *path, const char *tmp, struct aclm_err *err)
{
	int fd;

	if (access(path, F_OK) == 0)
		return aclm_err_set(err, ACLM_ERR_EXISTS, "backup %s: file exists; not overwriting",
				    path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		return aclm_err_set(err, ACLM_ERR_EXISTS,
				    "backup %s: %s exists (an interrupted backup?); remove it", path,
				    tmp);
	if (fd < 0)
		return aclm_err_set(err, ACLM_ERR_IO, "backup %s: %s", tmp, strerror(errno));
	if (fchmod(fd, 0600) != 0) {
		close(fd);
		return aclm_err_set(err, ACLM_ERR_IO, "backup %s: chmod: %s", tmp, strerror(errno));
	}
	close(fd);
	return ACLM_OK;
}

/* Copies every page of main under one read transaction (step -1), so the
 * copy is one consistent snapshot however busy the source is. */
static aclm_status copy_db(struct store__sqlite *s, const char *tmp, struct aclm_err *err)
{
	struct store__sqlite dst = { .path = (char *)tmp };
	sqlite3_backup *bk = NULL;
	aclm_status ret = ACLM_OK;
	int rc = sqlite3_open_v2(tmp, &dst.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc == SQLITE_OK) {
		bk = sqlite3_backup_init(dst.db, "main", s->db, "main");
		rc = bk != NULL ? sqlite3_backup_step(bk, -1) : sqlite3_extended_errcode(dst.db);
	}
	/* finish reports what step hit, and leaves it in dst's errmsg. */
	if (bk != NULL && sqlite3_backup_finish(bk) != SQLITE_OK && rc == SQLITE_DONE)
		rc = sqlite3_extended_errcode(dst.db);
	if (rc != SQLITE_DONE)
		ret = store__sqlite_err(&dst, rc, err, "backup");
	/* A fresh connection runs synchronous=FULL: the copy is on disk once closed. */
	if (sqlite3_close(dst.db) != SQLITE_OK && ret == ACLM_OK)
		ret = aclm_err_set(err, ACLM_ERR_IO, "backup %s: cannot close the copy", tmp);
	return ret;
}

static void fsync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd = copy != NULL ? open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(copy);
}

/* link() fails with EEXIST instead of replacing, so a file that appeared
 * at path meanwhile is never overwritten. */
static aclm_status publish(const char *tmp, const char *path, struct aclm_err *err)
{
	if (link(tmp, path) != 0)
		return aclm_err_set(err, errno == EEXIST ? ACLM_ERR_EXISTS : ACLM_ERR_IO,
				    "backup %s: %s", path, strerror(errno));
	unlink(tmp);
	fsync_dir_of(path);
	return ACLM_OK;
}

aclm_status store__sqlite_backup(void *state, const char *path, struct aclm_err *err)
{
	struct store__sqlite *s = state;
	size_t n = path != NULL ? strlen(path) : 0;
	char *tmp = n > 0 ? malloc(n + 5) : NULL;
	bool created = false;
	aclm_status st = ACLM_OK;

	if (n == 0)
		return aclm_err_set(err, ACLM_ERR_INVALID, "backup: no destination path");
	if (tmp == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "backup %s: out of memory", path);
	snprintf(tmp, n + 5, "%s.tmp", path);
	st = create_tmp(path, tmp, err);
	created = st == ACLM_OK;
	if (st == ACLM_OK)
		st = copy_db(s, tmp, err);
	if (st == ACLM_OK)
		st = publish(tmp, path, err);
	if (st != ACLM_OK && created)
		unlink(tmp);
	free(tmp);
	return st;
}
