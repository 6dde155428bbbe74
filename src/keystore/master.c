/* The master key: ACLM_MASTER_KEY, or HOME/master.key (0600), created with
 * 32 random bytes on first use. */
#include "keystore/keystore_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "core/buf.h"
#include "core/encode.h"
#include "core/fs.h"

static aclm_status master_decode(const char *text, const char *where, unsigned char out[32],
				 struct aclm_err *err)
{
	unsigned char tmp[48];
	long n = aclm_base64_decode(text, tmp, sizeof(tmp));
	aclm_status st = ACLM_OK;

	if (n != 32)
		st = aclm_err_set(err, ACLM_ERR_CONFIG,
				  "%s: the master key must be 32 bytes in base64 (44 characters)",
				  where);
	else
		memcpy(out, tmp, 32);
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return st;
}

/* O_EXCL: two processes starting at once never write two different keys. */
static aclm_status master_create(const char *path, struct aclm_err *err)
{
	unsigned char key[32];
	char *b64 = NULL;
	int fd = -1;
	aclm_status st = ACLM_OK;

	if (RAND_bytes(key, sizeof(key)) != 1)
		return aclm_err_ssl(err, ACLM_ERR_CRYPTO, "cannot generate a master key");
	b64 = aclm_base64_encode(key, sizeof(key));
	OPENSSL_cleanse(key, sizeof(key));
	if (b64 == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		st = errno == EEXIST ? ACLM_OK
				     : aclm_err_set(err, ACLM_ERR_IO, "%s: cannot create: %s", path,
						    strerror(errno));
		goto out;
	}
	if (write(fd, b64, strlen(b64)) != (ssize_t)strlen(b64) || write(fd, "\n", 1) != 1 ||
	    fsync(fd) != 0) {
		st = aclm_err_set(err, ACLM_ERR_IO, "%s: write: %s", path, strerror(errno));
		unlink(path);
	}
out:
	if (fd >= 0)
		close(fd);
	OPENSSL_clear_free(b64, strlen(b64));
	return st;
}

static aclm_status master_read_file(const char *path, unsigned char out[32], struct aclm_err *err)
{
	struct aclm_buf b;
	struct stat sb;
	aclm_status st;

	if (stat(path, &sb) == 0 && (sb.st_mode & 077) != 0)
		return aclm_err_set(err, ACLM_ERR_CONFIG,
				    "%s: mode %04o is too open for the master key; chmod 600 it",
				    path, (unsigned)(sb.st_mode & 07777));
	aclm_buf_init(&b, 1024);
	st = aclm_buf_read_file(&b, path, err);
	if (st == ACLM_OK)
		st = master_decode((const char *)b.data, path, out, err);
	aclm_buf_free_secret(&b);
	return st;
}

aclm_status keystore__master_load(struct keystore *ks, struct aclm_err *err)
{
	const char *env = getenv(KEYSTORE_MASTER_ENV);
	char *path = NULL;
	aclm_status st;

	if (ks->master_loaded)
		return ACLM_OK;
	if (env != NULL && env[0] != '\0') {
		st = master_decode(env, KEYSTORE_MASTER_ENV, ks->master, err);
		goto out;
	}
	path = aclm_fs_join(ks->home, KEYSTORE_MASTER_FILE);
	if (path == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	st = aclm_fs_mkdirs(ks->home, 0700, err);
	if (st == ACLM_OK && access(path, F_OK) != 0)
		st = master_create(path, err);
	if (st == ACLM_OK)
		st = master_read_file(path, ks->master, err);
out:
	free(path);
	ks->master_loaded = st == ACLM_OK;
	return st;
}
