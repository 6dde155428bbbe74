/* Atomic file writes and directory helpers (acme-client fileproc.c habit). */
#include "core/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void fsync_parent(const char *path)
{
	char *copy = strdup(path);
	int fd;

	if (copy == NULL)
		return;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(copy);
}

aclm_status aclm_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
				 struct aclm_err *err)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 16);
	const unsigned char *p = data;
	int fd = -1;
	aclm_status st = ACLM_OK;

	if (tmp == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "%s: out of memory", path);
	snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		st = aclm_err_set(err, ACLM_ERR_IO, "%s: cannot create temporary file: %s", path,
				  strerror(errno));
		free(tmp);
		return st;
	}
	/* mkstemp makes 0600; widen only on request, before any byte is written. */
	if (fchmod(fd, mode) != 0) {
		st = aclm_err_set(err, ACLM_ERR_IO, "%s: chmod: %s", path, strerror(errno));
		goto out;
	}
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			st = aclm_err_set(err, ACLM_ERR_IO, "%s: write: %s", path, strerror(errno));
			goto out;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) != 0) {
		st = aclm_err_set(err, ACLM_ERR_IO, "%s: fsync: %s", path, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		st = aclm_err_set(err, ACLM_ERR_IO, "%s: close: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		st = aclm_err_set(err, ACLM_ERR_IO, "%s: rename: %s", path, strerror(errno));
		goto out;
	}
	fsync_parent(path);
out:
	if (fd >= 0)
		close(fd);
	if (st != ACLM_OK)
		unlink(tmp);
	free(tmp);
	return st;
}

aclm_status aclm_fs_mkdirs(const char *path, mode_t mode, struct aclm_err *err)
{
	char *copy = strdup(path);
	aclm_status st = ACLM_OK;

	if (copy == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	for (char *p = copy + 1;; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(copy, mode) != 0 && errno != EEXIST) {
			st = aclm_err_set(err, ACLM_ERR_IO, "%s: cannot create directory: %s", copy,
					  strerror(errno));
			break;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	if (st == ACLM_OK && !aclm_fs_is_dir(path))
		st = aclm_err_set(err, ACLM_ERR_IO, "%s: not a directory", path);
	free(copy);
	return st;
}

bool aclm_fs_is_dir(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

char *aclm_fs_join(const char *dir, const char *name)
{
	size_t n;
	char *out;

	if (name[0] == '/' || dir == NULL || dir[0] == '\0')
		return strdup(name);
	n = strlen(dir) + strlen(name) + 2;
	out = malloc(n);
	if (out != NULL)
		snprintf(out, n, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
	return out;
}
