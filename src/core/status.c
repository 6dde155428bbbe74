/* Status names and the error object. */
#include "core/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

static const char *const status_names[ACLM_STATUS_MAX] = {
	[ACLM_OK] = "ok",
	[ACLM_ERR_NOMEM] = "out-of-memory",
	[ACLM_ERR_INVALID] = "invalid",
	[ACLM_ERR_USAGE] = "usage",
	[ACLM_ERR_NOTFOUND] = "not-found",
	[ACLM_ERR_EXISTS] = "exists",
	[ACLM_ERR_AMBIGUOUS] = "ambiguous",
	[ACLM_ERR_IO] = "io",
	[ACLM_ERR_PARSE] = "parse",
	[ACLM_ERR_TOOBIG] = "too-big",
	[ACLM_ERR_PASSWORD] = "password",
	[ACLM_ERR_CRYPTO] = "crypto",
	[ACLM_ERR_VERIFY] = "verify",
	[ACLM_ERR_UNSUPPORTED] = "unsupported",
	[ACLM_ERR_DB] = "database",
	[ACLM_ERR_BUSY] = "busy",
	[ACLM_ERR_CONFIG] = "config",
	[ACLM_ERR_INTERNAL] = "internal",
};

const char *aclm_status_name(aclm_status st)
{
	if ((unsigned)st >= ACLM_STATUS_MAX || status_names[st] == NULL)
		return "unknown";
	return status_names[st];
}

aclm_status aclm_err_set(struct aclm_err *err, aclm_status code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

aclm_status aclm_err_ssl(struct aclm_err *err, aclm_status code, const char *fmt, ...)
{
	va_list ap;
	unsigned long e;
	size_t len;

	if (err == NULL) {
		ERR_clear_error();
		return code;
	}
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	/* The most specific reason is the last one queued. */
	e = ERR_peek_last_error();
	len = strlen(err->msg);
	if (e != 0 && len + 3 < sizeof(err->msg)) {
		const char *reason = ERR_reason_error_string(e);
		snprintf(err->msg + len, sizeof(err->msg) - len, ": %s",
			 reason != NULL ? reason : "unknown OpenSSL error");
	}
	ERR_clear_error();
	return code;
}

void aclm_err_prefix(struct aclm_err *err, const char *fmt, ...)
{
	char prefix[256];
	char old[ACLM_ERR_MSG_MAX];
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	size_t plen;

	memcpy(old, err->msg, sizeof(old));
	plen = strlen(prefix);
	/* prefix, ": ", then as much of the old message as fits */
	snprintf(err->msg, sizeof(err->msg), "%s: ", prefix);
	if (plen + 2 < sizeof(err->msg))
		memcpy(err->msg + plen + 2, old, strnlen(old, sizeof(err->msg) - plen - 3) + 1);
	err->msg[sizeof(err->msg) - 1] = '\0';
}

void aclm_err_clear(struct aclm_err *err)
{
	if (err == NULL)
		return;
	err->code = ACLM_OK;
	err->msg[0] = '\0';
}
