/* Internals shared by the files of notify/: the type table, the shared
 * HTTP POST, secrets read from files, and the message builders the unit
 * tests check without a network. */
#ifndef ACLM_NOTIFY_INT_H
#define ACLM_NOTIFY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/buf.h"
#include "notify/notify.h"

/* Largest reply body read from a peer, and largest secret file. */
#define NOTIFY__REPLY_MAX (64 * 1024)
#define NOTIFY__SECRET_MAX 4096
#define NOTIFY__TIMEOUT_MS_DEFAULT 10000L

/* One channel type: its parameters and its sender. Adding a type = one
 * file with a send function + one line in notify.c's table. */
struct notify__type {
	const char *name;
	const char *required;      /* "url" or "smtp_url|from|to": parameters that must be set */
	const char *optional;      /* "secret_file|ca_file|timeout_ms" */
	aclm_status (*send)(const struct notify_channel *ch, const struct notify_message *m,
			    const struct notify_opts *o, struct aclm_err *err);
};

/* The channel's parameter as a string (numbers are accepted for
 * timeout_ms), or NULL when absent or empty. */
const char *notify__param(const struct notify_channel *ch, const char *key);

/* The effective per-attempt timeout and CA bundle: the channel's
 * timeout_ms / ca_file win over the caller's options. */
long notify__timeout_ms(const struct notify_channel *ch, const struct notify_opts *o);
const char *notify__ca_file(const struct notify_channel *ch, const struct notify_opts *o);

/* Reads the secret file named by parameter key into out (capped at
 * NOTIFY__SECRET_MAX, trailing CR/LF/space removed). The caller wipes it
 * with aclm_buf_free_secret. An absent parameter leaves out empty and
 * succeeds. Errors: ACLM_ERR_CONFIG "notify.NAME: KEY: PATH: reason". */
aclm_status notify__secret_read(const struct notify_channel *ch, const char *key,
				struct aclm_buf *out, struct aclm_err *err);

/* The URL as it may appear in messages: no user info, query or fragment,
 * and for the chat types (whose URLs carry a token in the path) only the
 * first path segment. Writes into out. */
void notify__url_display(const char *url, bool keep_path, char *out, size_t outlen);

/* Checks an http(s) URL (scheme, host); reason into *why. */
bool notify__url_ok(const char *url, const char *const *schemes, const char **why);

/* The shared POST: JSON body to url with extra header lines, the channel's
 * timeout and CA bundle, reply capped at NOTIFY__REPLY_MAX. A transport
 * failure is ACLM_ERR_IO "notify.NAME: URL: reason"; any HTTP status is
 * returned in *status for the caller to judge. */
aclm_status notify__post(const struct notify_channel *ch, const struct notify_opts *o,
			 const char *url, const char *const *headers, const char *body,
			 size_t len, long *status, struct aclm_buf *reply, struct aclm_err *err);

/* Judges an HTTP status: 2xx is ACLM_OK; 408, 425, 429 and 5xx are
 * ACLM_ERR_IO (transient), other statuses ACLM_ERR_CONFIG (permanent);
 * the message is "notify.NAME: URL: HTTP STATUS: first bytes of the reply". */
aclm_status notify__http_status(const struct notify_channel *ch, const char *url_shown,
				long status, const struct aclm_buf *reply, struct aclm_err *err);

/* RFC 2047 §4.1 "B" encoded words for a header value when it is not plain
 * printable ASCII (folded with CRLF SP between words); ASCII text is
 * copied as is. CR and LF never reach the output. */
aclm_status notify__rfc2047(const char *text, struct aclm_buf *out);

/* The RFC 5322 message of m for channel ch (headers and body, CRLF line
 * ends), dated now. */
aclm_status notify__email_message(const struct notify_channel *ch,
				  const struct notify_message *m, int64_t now,
				  struct aclm_buf *out, struct aclm_err *err);

/* The generic webhook body: {id, event, severity, tenant, subject, text,
 * at, data}; the caller json_decref()s it. */
json_t *notify__webhook_body(const struct notify_message *m);

/* A chat platform's request for m: the JSON body and the URL to POST to
 * (url plus the DingTalk signature parameters). secret may be NULL (no
 * signing); now_ms is the signing time in milliseconds. */
aclm_status notify__chat_request(const char *type, const char *url, const struct notify_message *m,
				 const unsigned char *secret, size_t secret_len, int64_t now_ms,
				 json_t **body, char **post_url, struct aclm_err *err);

/* Judges a chat platform's reply (HTTP status, then errcode / code in the
 * JSON body). */
aclm_status notify__chat_reply(const struct notify_channel *ch, const char *url_shown, long status,
			       const struct aclm_buf *reply, struct aclm_err *err);

/* curl_global_init once per process (thread-safe). */
aclm_status notify__curl_init(struct aclm_err *err);

/* The email type's own checks (addresses, STARTTLS, AUTH pairing). */
aclm_status notify__email_check(const struct notify_channel *ch, struct aclm_err *err);

/* The senders, one per file. */
aclm_status notify__email_send(const struct notify_channel *ch, const struct notify_message *m,
			       const struct notify_opts *o, struct aclm_err *err);
aclm_status notify__webhook_send(const struct notify_channel *ch, const struct notify_message *m,
				 const struct notify_opts *o, struct aclm_err *err);
aclm_status notify__chat_send(const struct notify_channel *ch, const struct notify_message *m,
			      const struct notify_opts *o, struct aclm_err *err);

#endif
