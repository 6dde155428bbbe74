/* aclm issue --batch FILE: reads the file; client_batch_parse_text (client/
 * batch_file.c) turns it into jobs, which cmd_issue.c runs concurrently. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "client/client.h"
#include "core/buf.h"

#define BATCH_MAX_FILE (16u << 20)

aclm_status cli_batch_parse(const char *file, const char *key_types, const char *challenge,
			    struct client_batch_job **jobs, size_t *njobs, struct aclm_err *err)
{
	struct aclm_buf data;
	char empty[1] = "";
	aclm_status st;

	*jobs = NULL;
	*njobs = 0;
	aclm_buf_init(&data, BATCH_MAX_FILE);
	st = aclm_buf_read_file(&data, file, err);
	if (st != ACLM_OK)
		goto out;
	/* The parser stops at a NUL: a file with one would lose lines silently. */
	if (data.len > 0 && memchr(data.data, '\0', data.len) != NULL) {
		st = aclm_err_set(err, ACLM_ERR_USAGE, "%s: contains a NUL byte (not a text file)",
				  file);
		goto out;
	}
	st = client_batch_parse_text(file, data.data != NULL ? (char *)data.data : empty, key_types,
				     challenge, jobs, njobs, err);
out:
	aclm_buf_free(&data);
	return st;
}
