/* One status enum for the whole program, and the error object that carries
 * the human-readable detail alongside it (no globals). */
#ifndef ACLM_CORE_STATUS_H
#define ACLM_CORE_STATUS_H

#include <stddef.h>

typedef enum aclm_status {
	ACLM_OK = 0,
	ACLM_ERR_NOMEM,       /* allocation failed */
	ACLM_ERR_INVALID,     /* bad argument or input value */
	ACLM_ERR_USAGE,       /* bad command line */
	ACLM_ERR_NOTFOUND,    /* no such object */
	ACLM_ERR_EXISTS,      /* object already present */
	ACLM_ERR_AMBIGUOUS,   /* a prefix or name matches several objects */
	ACLM_ERR_IO,          /* file system or socket error */
	ACLM_ERR_PARSE,       /* malformed data */
	ACLM_ERR_TOOBIG,      /* input exceeds a cap */
	ACLM_ERR_PASSWORD,    /* password needed or wrong */
	ACLM_ERR_CRYPTO,      /* OpenSSL failure */
	ACLM_ERR_VERIFY,      /* signature or chain verification failed */
	ACLM_ERR_UNSUPPORTED, /* feature or algorithm not supported */
	ACLM_ERR_DB,          /* database error */
	ACLM_ERR_BUSY,        /* locked or in use */
	ACLM_ERR_CONFIG,      /* configuration error */
	ACLM_ERR_INTERNAL,    /* a bug */
	ACLM_STATUS_MAX
} aclm_status;

/* Short stable name, e.g. "not-found"; used in JSON output and logs. */
const char *aclm_status_name(aclm_status st);

#define ACLM_ERR_MSG_MAX 512

/* Error detail: a status plus a message naming the file, field or host and
 * the reason. Functions that fail fill it; callers print it. */
struct aclm_err {
	aclm_status code;
	char msg[ACLM_ERR_MSG_MAX];
};

/* Sets err (when not NULL) and returns code, so `return aclm_err_set(...)`
 * reads naturally. */
aclm_status aclm_err_set(struct aclm_err *err, aclm_status code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like aclm_err_set, then appends OpenSSL's error queue (which it clears). */
aclm_status aclm_err_ssl(struct aclm_err *err, aclm_status code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with "CONTEXT: " (e.g. a file name). */
void aclm_err_prefix(struct aclm_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void aclm_err_clear(struct aclm_err *err);

#endif
