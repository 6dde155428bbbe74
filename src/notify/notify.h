/* notify/: delivering one message to one channel: email (SMTP with
 * STARTTLS and AUTH, through libcurl), a generic webhook (documented JSON,
 * HMAC-SHA256 signature header), and the message formats of Slack,
 * DingTalk, Feishu/Lark, WeCom and Microsoft Teams (Workflows webhook).
 * Retries are the caller's (the scheduler's notify jobs); one call is one
 * attempt with a timeout. Secrets come from files named in the parameters,
 * never inline. */
#ifndef ACLM_NOTIFY_H
#define ACLM_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/status.h"

/* One channel as configured ([notify.NAME] in aclm.conf, or the API):
 * params is an object of strings, e.g. {"smtp_url": "smtp://...",
 * "from": ..., "to": "a@x, b@y", "starttls": "required",
 * "username": ..., "password_file": ...} or {"url": ..., "secret_file": ...}. */
struct notify_channel {
	const char *name;
	const char *type;          /* email|webhook|slack|dingtalk|feishu|wecom|teams */
	const json_t *params;
};

/* The types, "email|webhook|slack|dingtalk|feishu|wecom|teams". */
extern const char notify_types[];

/* Checks type and params without sending: unknown type or parameter,
 * a missing required one, a bad URL, an unreadable secret file ->
 * ACLM_ERR_CONFIG "notify.NAME: KEY: reason". */
aclm_status notify_check(const struct notify_channel *ch, struct aclm_err *err);

/* One event to tell people about. */
struct notify_message {
	const char *event;         /* "alert.expiry", "alert.overdue", "alert.renew_failed",
				    * "alert.deploy_failed", "alert.unknown_cert",
				    * "alert.job_dead", "test" */
	const char *severity;      /* critical|high|medium|low|info */
	const char *tenant;        /* tenant name */
	const char *subject;       /* one line */
	const char *text;          /* a few lines of plain text */
	const json_t *data;        /* structured detail (certificate JSON, ...) or NULL */
	int64_t at;                /* when it happened (Unix seconds) */
	const char *id;            /* stable id of the event (dedupe at the receiver) */
};

struct notify_opts {
	long timeout_ms;           /* per attempt; 0 = 10 s */
	const char *ca_bundle;     /* extra trust for HTTPS/SMTPS, or NULL */
};

/* One attempt. Failures say the channel, the peer and the reason
 * ("notify.ops: smtp://127.0.0.1:2525: 550 ..."); ACLM_ERR_IO for
 * transient errors (retry), ACLM_ERR_CONFIG for permanent ones. */
aclm_status notify_send(const struct notify_channel *ch, const struct notify_message *m,
			const struct notify_opts *o, struct aclm_err *err);

/* The generic webhook's signature header value for body: "sha256=" + hex
 * HMAC-SHA256(secret, timestamp "." body); the timestamp goes in
 * X-Aclm-Timestamp (docs/API.md documents both). */
aclm_status notify_webhook_sign(const unsigned char *secret, size_t secret_len, int64_t timestamp,
				const char *body, size_t body_len, char out[80],
				struct aclm_err *err);

/* ---- additions (notify engineer): channels from the configuration ---- */
struct aclm_config;

/* The channel [notify.NAME] of cfg: ch->name and ch->type point into cfg,
 * ch->params = *params, a new object of the keys set (file, environment,
 * flags) that the caller json_decref()s. No such section ->
 * ACLM_ERR_NOTFOUND. Does not check: call notify_check. */
aclm_status notify_config_channel(const struct aclm_config *cfg, const char *name,
				  struct notify_channel *ch, json_t **params, struct aclm_err *err);

/* notify_check on every [notify.*] section; errors start with where the
 * key was set ("aclm.conf:12: notify.ops: url: ..."). For start and reload
 * (sched_config_check calls it; [alerts] channels may also name channels
 * stored through the API, which the scheduler checks). */
aclm_status notify_config_check(const struct aclm_config *cfg, struct aclm_err *err);

#endif
