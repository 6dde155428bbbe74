/* Temporary directories and files of the unit tests: made under /tmp,
 * removed with everything below them. */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "testsupport.h"

char *ts_tmpdir(char *dir, size_t size, const char *tag)
{
	snprintf(dir, size, "/tmp/aclm-%s-XXXXXX", tag);
	return mkdtemp(dir);
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int ts_rmtree(const char *dir)
{
	if (dir[0] == '\0')
		return 0;
	/* depth first, links not followed: only what lies below dir goes */
	return nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

void ts_write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *fp;

	assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) < sizeof(path));
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
}
