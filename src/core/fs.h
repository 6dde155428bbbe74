/* Files that matter: written to a temp file, fsynced, renamed. */
#ifndef ACLM_CORE_FS_H
#define ACLM_CORE_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/status.h"

/* Writes data to path atomically with the given mode (0600 for keys):
 * temp file in the same directory, fsync, rename, fsync of the directory. */
aclm_status aclm_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
				 struct aclm_err *err);

/* mkdir -p with the given mode for created directories. */
aclm_status aclm_fs_mkdirs(const char *path, mode_t mode, struct aclm_err *err);

bool aclm_fs_is_dir(const char *path);

/* Joins dir and name into a malloc'd path; an absolute name is kept as is. */
char *aclm_fs_join(const char *dir, const char *name);

#endif
