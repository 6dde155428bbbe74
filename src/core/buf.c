/* Capped growing buffers and capped file reads. */
#include "core/buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

void aclm_buf_init(struct aclm_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void aclm_buf_free(struct aclm_buf *b)
{
	free(b->data);
	aclm_buf_init(b, b->max);
}

void aclm_buf_free_secret(struct aclm_buf *b)
{
	if (b->data != NULL)
		OPENSSL_cleanse(b->data, b->cap);
	aclm_buf_free(b);
}

void aclm_buf_reset(struct aclm_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static aclm_status buf_reserve(struct aclm_buf *b, size_t extra)
{
	size_t need, ncap;
	unsigned char *n;

	if (extra > b->max || b->len > b->max - extra)
		return ACLM_ERR_TOOBIG;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return ACLM_OK;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	n = realloc(b->data, ncap);
	if (n == NULL)
		return ACLM_ERR_NOMEM;
	b->data = n;
	b->cap = ncap;
	return ACLM_OK;
}

aclm_status aclm_buf_append(struct aclm_buf *b, const void *data, size_t len)
{
	aclm_status st = buf_reserve(b, len);

	if (st != ACLM_OK)
		return st;
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return ACLM_OK;
}

aclm_status aclm_buf_puts(struct aclm_buf *b, const char *s)
{
	return aclm_buf_append(b, s, strlen(s));
}

aclm_status aclm_buf_printf(struct aclm_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	aclm_status st;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return ACLM_ERR_INVALID;
	st = buf_reserve(b, (size_t)n);
	if (st != ACLM_OK)
		return st;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return ACLM_OK;
}

unsigned char *aclm_buf_take(struct aclm_buf *b, size_t *len)
{
	unsigned char *d = b->data;

	if (len != NULL)
		*len = b->len;
	aclm_buf_init(b, b->max);
	return d;
}

aclm_status aclm_buf_read_file(struct aclm_buf *b, const char *path, struct aclm_err *err)
{
	FILE *f = NULL;
	unsigned char chunk[16384];
	size_t n;
	aclm_status st = ACLM_OK;

	if (strcmp(path, "-") == 0) {
		f = stdin;
	} else if ((f = fopen(path, "rb")) == NULL) {
		return aclm_err_set(err, errno == ENOENT ? ACLM_ERR_NOTFOUND : ACLM_ERR_IO,
				    "%s: %s", path, strerror(errno));
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		st = aclm_buf_append(b, chunk, n);
		if (st == ACLM_ERR_TOOBIG) {
			aclm_err_set(err, st, "%s: larger than the limit of %zu bytes", path, b->max);
			goto out;
		}
		if (st != ACLM_OK) {
			aclm_err_set(err, st, "%s: out of memory", path);
			goto out;
		}
	}
	if (ferror(f)) {
		st = aclm_err_set(err, ACLM_ERR_IO, "%s: read error: %s", path, strerror(errno));
		goto out;
	}
	if (b->data == NULL)
		st = aclm_buf_append(b, "", 0); /* empty file: still a valid, empty string */
out:
	OPENSSL_cleanse(chunk, sizeof(chunk));
	if (f != stdin)
		fclose(f);
	return st;
}
