/* Capped growing buffers: every buffer that grows has a limit checked before
 * it allocates (the curl dynbuf habit). */
#ifndef ACLM_CORE_BUF_H
#define ACLM_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "core/status.h"

struct aclm_buf {
	unsigned char *data; /* always NUL-terminated past len when non-NULL */
	size_t len;
	size_t cap;
	size_t max;          /* len never exceeds this */
};

void aclm_buf_init(struct aclm_buf *b, size_t max);
/* Frees the data; when `secret`, wipes it first. */
void aclm_buf_free(struct aclm_buf *b);
void aclm_buf_free_secret(struct aclm_buf *b);
void aclm_buf_reset(struct aclm_buf *b);
aclm_status aclm_buf_append(struct aclm_buf *b, const void *data, size_t len);
aclm_status aclm_buf_puts(struct aclm_buf *b, const char *s);
aclm_status aclm_buf_printf(struct aclm_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Hands over the data (caller frees); the buffer is left empty. */
unsigned char *aclm_buf_take(struct aclm_buf *b, size_t *len);

/* Reads a whole file ("-" is standard input) into b, failing with
 * ACLM_ERR_TOOBIG past b->max. err names the path. */
aclm_status aclm_buf_read_file(struct aclm_buf *b, const char *path, struct aclm_err *err);

#endif
