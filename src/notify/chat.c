/* notify/: the chat platforms' incoming-webhook formats (Slack, DingTalk,
 * Feishu/Lark, WeCom, Microsoft Teams Workflows), their signatures and
 * their reply codes. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/encode.h"
#include "core/json.h"
#include "core/time.h"
#include "notify/notify_int.h"

/* Chat messages are short: the subject and the first lines of the text.
 * WeCom's markdown content is at most 4096 bytes, DingTalk's and Feishu's
 * bodies 20 KB; 3000 bytes of text fits them all with room to spare. */
#define CHAT_TEXT_MAX 3000
#define CHAT_SUBJECT_MAX 256

/* The first max bytes of s, cut at a UTF-8 character boundary. */
static size_t chat_cut(const char *s, size_t max)
{
	size_t len = strlen(s);

	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

/* Appends s (at most max bytes) to b; when slack, with Slack's three
 * control characters escaped. */
static aclm_status chat_put(struct aclm_buf *b, const char *s, size_t max, bool slack)
{
	size_t len = chat_cut(s != NULL ? s : "", max);
	aclm_status st = ACLM_OK;

	for (size_t i = 0; i < len && st == ACLM_OK; i++) {
		/* https://api.slack.com/reference/surfaces/formatting#escaping:
		 * &, < and > are control characters; send them as entities. */
		const char *ent = !slack	  ? NULL
				  : s[i] == '&' ? "&amp;"
				  : s[i] == '<' ? "&lt;"
				  : s[i] == '>' ? "&gt;"
						: NULL;

		st = ent != NULL ? aclm_buf_puts(b, ent) : aclm_buf_append(b, s + i, 1);
	}
	if (len < strlen(s != NULL ? s : "") && st == ACLM_OK)
		st = aclm_buf_puts(b, " [...]");
	return st;
}

/* "event · severity · tenant TENANT" for the footer lines. */
static aclm_status chat_footer(struct aclm_buf *b, const struct notify_message *m, bool slack)
{
	aclm_status st = chat_put(b, m->event, 64, slack);

	if (st == ACLM_OK)
		st = aclm_buf_puts(b, " \xc2\xb7 ");
	if (st == ACLM_OK)
		st = chat_put(b, m->severity != NULL ? m->severity : "info", 16, slack);
	if (st == ACLM_OK && m->tenant != NULL) {
		st = aclm_buf_puts(b, " \xc2\xb7 tenant ");
		if (st == ACLM_OK)
			st = chat_put(b, m->tenant, 64, slack);
	}
	return st;
}

/* Builds "PREFIX subject SEP text SEP2 footer" with the platform's markup. */
static aclm_status chat_text(const struct notify_message *m, const char *pre, const char *post,
			     const char *sep, const char *foot_pre, const char *foot_post,
			     bool slack, struct aclm_buf *b)
{
	aclm_status st = aclm_buf_puts(b, pre);

	if (st == ACLM_OK)
		st = chat_put(b, m->subject, CHAT_SUBJECT_MAX, slack);
	if (st == ACLM_OK)
		st = aclm_buf_puts(b, post);
	if (st == ACLM_OK && m->text != NULL && *m->text != '\0') {
		st = aclm_buf_puts(b, sep);
		if (st == ACLM_OK)
			st = chat_put(b, m->text, CHAT_TEXT_MAX, slack);
	}
	if (st == ACLM_OK)
		st = aclm_buf_puts(b, foot_pre);
	if (st == ACLM_OK)
		st = chat_footer(b, m, slack);
	if (st == ACLM_OK)
		st = aclm_buf_puts(b, foot_post);
	return st;
}

/* base64(HMAC-SHA256(key, msg)) into out (45 bytes). */
static aclm_status chat_hmac_b64(const void *key, size_t keylen, const void *msg, size_t msglen,
				 char **out, struct aclm_err *err)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;

	if (HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, mac, &maclen) == NULL)
		return aclm_err_ssl(err, ACLM_ERR_CRYPTO, "notify: HMAC-SHA256");
	*out = aclm_base64_encode(mac, maclen);
	OPENSSL_cleanse(mac, sizeof(mac));
	return *out != NULL ? ACLM_OK : aclm_err_set(err, ACLM_ERR_NOMEM, "notify: out of memory");
}

/* DingTalk custom robot, "加签" security setting
 * (https://open.dingtalk.com/document/robots/customize-robot-security-settings):
 * timestamp in milliseconds; sign = URL-encoded base64 of
 * HMAC-SHA256(key = secret, message = timestamp "\n" secret); both go in
 * the query string next to access_token. */
static aclm_status chat_dingtalk_url(const char *url, const unsigned char *secret, size_t len,
				     int64_t now_ms, char **out, struct aclm_err *err)
{
	struct aclm_buf msg, u;
	char *b64 = NULL;
	aclm_status st;

	aclm_buf_init(&msg, NOTIFY__SECRET_MAX + 32);
	aclm_buf_init(&u, 8192);
	st = aclm_buf_printf(&msg, "%" PRId64 "\n", now_ms);
	if (st == ACLM_OK)
		st = aclm_buf_append(&msg, secret, len);
	if (st == ACLM_OK)
		st = chat_hmac_b64(secret, len, msg.data, msg.len, &b64, err);
	else
		st = aclm_err_set(err, st, "notify: dingtalk signature: out of memory");
	if (st != ACLM_OK)
		goto out;
	st = aclm_buf_printf(&u, "%s%ctimestamp=%" PRId64 "&sign=", url,
			     strchr(url, '?') != NULL ? '&' : '?', now_ms);
	for (const char *p = b64; st == ACLM_OK && *p != '\0'; p++)
		st = *p == '+'	 ? aclm_buf_puts(&u, "%2B")
		     : *p == '/' ? aclm_buf_puts(&u, "%2F")
		     : *p == '=' ? aclm_buf_puts(&u, "%3D")
				 : aclm_buf_append(&u, p, 1);
	if (st != ACLM_OK) {
		st = aclm_err_set(err, st, "notify: dingtalk URL too long");
		goto out;
	}
	*out = (char *)aclm_buf_take(&u, NULL);
out:
	aclm_buf_free_secret(&msg);
	aclm_buf_free(&u);
	free(b64);
	return st;
}

/* Microsoft Teams "Workflows" webhook ("Post to a channel when a webhook
 * request is received"): a message activity with one Adaptive Card
 * attachment
 * (https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using#send-adaptive-cards-using-an-incoming-webhook);
 * schema 1.4 is what Teams renders
 * (https://adaptivecards.io/explorer/AdaptiveCard.html). */
static json_t *chat_teams_body(const struct notify_message *m)
{
	struct aclm_buf subj, text;
	char at[ACLM_TIME_RFC3339_LEN];
	json_t *body = NULL;

	aclm_buf_init(&subj, CHAT_SUBJECT_MAX + 16);
	aclm_buf_init(&text, CHAT_TEXT_MAX + 16);
	if (chat_put(&subj, m->subject, CHAT_SUBJECT_MAX, false) != ACLM_OK ||
	    chat_put(&text, m->text != NULL ? m->text : "", CHAT_TEXT_MAX, false) != ACLM_OK)
		goto out;
	body = json_pack(
		"{s:s, s:[{s:s, s:n, s:{s:s, s:s, s:s, s:["
		"{s:s, s:s, s:s, s:s, s:b, s:s},"
		"{s:s, s:s, s:b},"
		"{s:s, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}"
		"]}}]}",
		"type", "message", "attachments",
		"contentType", "application/vnd.microsoft.card.adaptive", "contentUrl",
		"content", "$schema", "http://adaptivecards.io/schemas/adaptive-card.json",
		"type", "AdaptiveCard", "version", "1.4", "body",
		"type", "TextBlock", "text", subj.data != NULL ? (char *)subj.data : "",
		"weight", "Bolder", "size", "Medium", "wrap", 1, "style", "heading",
		"type", "TextBlock", "text", text.data != NULL ? (char *)text.data : "", "wrap", 1,
		"type", "FactSet", "facts",
		"title", "Event", "value", m->event,
		"title", "Severity", "value", m->severity != NULL ? m->severity : "info",
		"title", "Tenant", "value", m->tenant != NULL ? m->tenant : "-",
		"title", "At", "value", aclm_time_fmt(m->at, at));
out:
	aclm_buf_free(&subj);
	aclm_buf_free(&text);
	return body;
}

aclm_status notify__chat_request(const char *type, const char *url, const struct notify_message *m,
				 const unsigned char *secret, size_t secret_len, int64_t now_ms,
				 json_t **body, char **post_url, struct aclm_err *err)
{
	struct aclm_buf b, key;
	char *sign = NULL, ts[24];
	const char *s;
	aclm_status st = ACLM_OK;

	*body = NULL;
	*post_url = NULL;
	aclm_buf_init(&b, CHAT_TEXT_MAX + CHAT_SUBJECT_MAX + 1024);
	aclm_buf_init(&key, NOTIFY__SECRET_MAX + 32);
	if (strcmp(type, "slack") == 0) {
		/* Incoming webhook (https://api.slack.com/messaging/webhooks):
		 * {"text": ...} in mrkdwn; *bold*, _italic_. */
		st = chat_text(m, "*", "*", "\n", "\n_", "_", true, &b);
		s = (const char *)b.data;
		*body = st == ACLM_OK ? json_pack("{s:s}", "text", s) : NULL;
	} else if (strcmp(type, "dingtalk") == 0) {
		/* Custom robot message types
		 * (https://open.dingtalk.com/document/orgapp/custom-robot-access):
		 * markdown = {"title", "text"}; a line break needs an empty line. */
		st = chat_text(m, "### ", "\n\n", "", "\n\n> ", "\n", false, &b);
		s = (const char *)b.data;
		*body = st == ACLM_OK ? json_pack("{s:s, s:{s:s, s:s}}", "msgtype", "markdown",
						  "markdown", "title", m->subject, "text", s)
				      : NULL;
		if (st == ACLM_OK && secret != NULL && secret_len > 0)
			st = chat_dingtalk_url(url, secret, secret_len, now_ms, post_url, err);
	} else if (strcmp(type, "feishu") == 0) {
		/* Custom bot (https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot):
		 * {"msg_type": "text", "content": {"text"}}; with signature
		 * verification on, "timestamp" (seconds, as a string) and
		 * "sign" = base64(HMAC-SHA256(key = timestamp "\n" secret,
		 * message = empty)). */
		st = chat_text(m, "", "", "\n", "\n", "", false, &b);
		s = (const char *)b.data;
		*body = st == ACLM_OK ? json_pack("{s:s, s:{s:s}}", "msg_type", "text", "content",
						  "text", s)
				      : NULL;
		if (st == ACLM_OK && *body != NULL && secret != NULL && secret_len > 0) {
			snprintf(ts, sizeof(ts), "%" PRId64, now_ms / 1000);
			st = aclm_buf_printf(&key, "%s\n", ts);
			if (st == ACLM_OK)
				st = aclm_buf_append(&key, secret, secret_len);
			if (st == ACLM_OK)
				st = chat_hmac_b64(key.data, key.len, "", 0, &sign, err);
			if (st == ACLM_OK &&
			    (aclm_json_set_str(*body, "timestamp", ts) != 0 ||
			     aclm_json_set_str(*body, "sign", sign) != 0))
				st = ACLM_ERR_NOMEM;
		}
	} else if (strcmp(type, "wecom") == 0) {
		/* Group robot (https://developer.work.weixin.qq.com/document/path/91770):
		 * {"msgtype": "markdown", "markdown": {"content"}}, content at
		 * most 4096 bytes. */
		st = chat_text(m, "**", "**", "\n", "\n> ", "", false, &b);
		s = (const char *)b.data;
		*body = st == ACLM_OK ? json_pack("{s:s, s:{s:s}}", "msgtype", "markdown",
						  "markdown", "content", s)
				      : NULL;
	} else if (strcmp(type, "teams") == 0) {
		*body = chat_teams_body(m);
	} else {
		st = aclm_err_set(err, ACLM_ERR_INVALID, "notify: %s is not a chat type", type);
		goto out;
	}
	if (st == ACLM_OK && *post_url == NULL)
		*post_url = strdup(url);
	if (st == ACLM_OK && (*body == NULL || *post_url == NULL))
		st = ACLM_ERR_NOMEM;
	if (st != ACLM_OK && err != NULL && err->code != st)
		aclm_err_set(err, st, "notify: %s message: out of memory or too large", type);
out:
	if (st != ACLM_OK) {
		json_decref(*body);
		*body = NULL;
		free(*post_url);
		*post_url = NULL;
	}
	aclm_buf_free(&b);
	aclm_buf_free_secret(&key);
	free(sign);
	return st;
}

/* Platform error codes that mean "later" rather than "never": DingTalk
 * 130101 (sending too fast), WeCom 45009 (frequency limit), Feishu 11232
 * (frequency limit). */
static bool chat_code_transient(int64_t code)
{
	return code == 130101 || code == 45009 || code == 11232;
}

aclm_status notify__chat_reply(const struct notify_channel *ch, const char *url_shown, long status,
			       const struct aclm_buf *reply, struct aclm_err *err)
{
	const char *codekey, *msgkey;
	json_t *j = NULL, *code;
	aclm_status st = notify__http_status(ch, url_shown, status, reply, err);

	if (st != ACLM_OK)
		return st;
	/* Slack answers "ok" and Teams Workflows 202 with no body: the HTTP
	 * status is the whole verdict there. */
	if (strcmp(ch->type, "dingtalk") == 0 || strcmp(ch->type, "wecom") == 0) {
		codekey = "errcode";
		msgkey = "errmsg";
	} else if (strcmp(ch->type, "feishu") == 0) {
		codekey = "code";
		msgkey = "msg";
	} else {
		return ACLM_OK;
	}
	if (reply->len == 0 ||
	    aclm_json_parse((const char *)reply->data, reply->len, NOTIFY__REPLY_MAX, "reply", &j,
			    NULL) != ACLM_OK ||
	    !json_is_object(j)) {
		st = aclm_err_set(err, ACLM_ERR_IO, "notify.%s: %s: HTTP %ld but the reply is not %s's "
				  "JSON", ch->name, url_shown, status, ch->type);
		goto out;
	}
	code = json_object_get(j, codekey);
	/* Older Feishu endpoints answer {"StatusCode": 0, ...}. */
	if (code == NULL && strcmp(ch->type, "feishu") == 0) {
		code = json_object_get(j, "StatusCode");
		msgkey = "StatusMessage";
	}
	if (!json_is_integer(code)) {
		st = aclm_err_set(err, ACLM_ERR_IO, "notify.%s: %s: reply without \"%s\"", ch->name,
				  url_shown, codekey);
		goto out;
	}
	if (json_integer_value(code) != 0) {
		const char *msg = aclm_json_str(j, msgkey);

		st = aclm_err_set(err,
				  chat_code_transient(json_integer_value(code)) ? ACLM_ERR_IO
										: ACLM_ERR_CONFIG,
				  "notify.%s: %s: %s %" PRId64 ": %.200s", ch->name, url_shown, codekey,
				  (int64_t)json_integer_value(code), msg != NULL ? msg : "");
	}
out:
	json_decref(j);
	return st;
}

aclm_status notify__chat_send(const struct notify_channel *ch, const struct notify_message *m,
			      const struct notify_opts *o, struct aclm_err *err)
{
	const char *url = notify__param(ch, "url");
	char shown[256];
	struct aclm_buf secret, reply;
	json_t *body = NULL;
	char *post_url = NULL, *text = NULL;
	long status = 0;
	aclm_status st;

	aclm_buf_init(&reply, NOTIFY__REPLY_MAX);
	notify__url_display(url, false, shown, sizeof(shown));
	st = notify__secret_read(ch, "secret_file", &secret, err);
	if (st != ACLM_OK)
		goto out;
	st = notify__chat_request(ch->type, url, m, secret.data, secret.len,
				  aclm_time_now() * 1000, &body, &post_url, err);
	if (st != ACLM_OK) {
		aclm_err_prefix(err, "notify.%s", ch->name);
		goto out;
	}
	text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "notify.%s: out of memory", ch->name);
		goto out;
	}
	st = notify__post(ch, o, post_url, NULL, text, strlen(text), &status, &reply, err);
	if (st == ACLM_OK)
		st = notify__chat_reply(ch, shown, status, &reply, err);
out:
	aclm_buf_free_secret(&secret);
	aclm_buf_free(&reply);
	free(text);
	free(post_url);
	json_decref(body);
	return st;
}
