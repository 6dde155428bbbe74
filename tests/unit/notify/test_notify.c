/* notify/: channel checks, the webhook signature (checked against an HMAC
 * computed here with OpenSSL), every chat body parsed back with jansson,
 * the platforms' signatures and reply codes, the RFC 5322 email with an
 * RFC 2047 subject, and transport failures naming the URL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/config.h"
#include "core/encode.h"
#include "notify/notify.h"
#include "notify/notify_int.h"
#include "testsupport.h"

static const struct notify_message msg_test = {
	.event = "alert.expiry",
	.severity = "high",
	.tenant = "default",
	.subject = "www.example.org expires in 7 days",
	.text = "Certificate 3f2a for www.example.org expires on 2027-01-22.\nRenew it.",
	.data = NULL,
	.at = 1800000000,
	.id = "evt-42",
};

/* ---- helpers ---- */

static json_t *params(const char *fmt, ...)
{
	json_error_t jerr;
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	j = json_vpack_ex(&jerr, 0, fmt, ap);
	va_end(ap);
	assert_non_null(j);
	return j;
}

/* notify_check on (type, params) must fail with ACLM_ERR_CONFIG and a
 * message starting "notify.NAME: KEY:". */
static void expect_check_fails(const char *type, json_t *p, const char *key)
{
	struct notify_channel ch = { .name = "ops", .type = type, .params = p };
	struct aclm_err err = { 0 };
	char want[64];

	snprintf(want, sizeof(want), "notify.ops: %s:", key);
	assert_int_equal(notify_check(&ch, &err), ACLM_ERR_CONFIG);
	if (strncmp(err.msg, want, strlen(want)) != 0)
		fail_msg("check of %s: want \"%s...\", got \"%s\"", key, want, err.msg);
	json_decref(p);
}

static void hmac_b64(const void *key, size_t keylen, const void *msg, size_t len, char *out)
{
	unsigned char mac[32];
	unsigned int maclen = 0;

	assert_non_null(HMAC(EVP_sha256(), key, (int)keylen, msg, len, mac, &maclen));
	assert_int_equal(maclen, 32);
	assert_int_equal(EVP_EncodeBlock((unsigned char *)out, mac, 32), 44);
}

static json_t *chat_body(const char *type, const char *secret, int64_t now_ms, char **url)
{
	struct aclm_err err = { 0 };
	json_t *body = NULL, *back;
	char *text;

	assert_int_equal(notify__chat_request(type, "https://chat.example/hook/TOKEN?k=v", &msg_test,
					      (const unsigned char *)secret,
					      secret != NULL ? strlen(secret) : 0, now_ms, &body, url,
					      &err),
			 ACLM_OK);
	/* What goes on the wire is the compact dump: parse that back. */
	text = json_dumps(body, JSON_COMPACT);
	back = json_loads(text, 0, NULL);
	assert_non_null(back);
	free(text);
	json_decref(body);
	return back;
}

/* ---- notify_check ---- */

static void test_check_accepts_each_type(void **state)
{
	struct notify_channel ch = { .name = "ops" };
	struct aclm_err err = { 0 };
	const char *types[] = { "webhook", "slack", "dingtalk", "feishu", "wecom", "teams" };

	(void)state;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		json_t *p = params("{s:s, s:s}", "url", "https://hooks.example/x", "timeout_ms",
				   "5000");

		ch.type = types[i];
		ch.params = p;
		if (notify_check(&ch, &err) != ACLM_OK)
			fail_msg("%s: %s", types[i], err.msg);
		json_decref(p);
	}
	ch.type = "email";
	ch.params = params("{s:s, s:s, s:s, s:s}", "smtp_url", "smtp://127.0.0.1:2525", "from",
			   "aclm <aclm@example.org>", "to", "a@example.org, B <b@example.org>",
			   "starttls", "none");
	assert_int_equal(notify_check(&ch, &err), ACLM_OK);
	json_decref((json_t *)ch.params);
}

static void test_check_errors_name_the_key(void **state)
{
	char dir[64], secret[128];

	(void)state;
	assert_non_null(ts_tmpdir(dir, sizeof(dir), "notify"));
	ts_write_file(dir, "empty", "\n");
	snprintf(secret, sizeof(secret), "%s/empty", dir);

	expect_check_fails("pager", params("{s:s}", "url", "https://x.example/"), "type");
	expect_check_fails("webhook", params("{}"), "url");
	expect_check_fails("webhook", params("{s:s}", "url", "ftp://x.example/"), "url");
	expect_check_fails("webhook", params("{s:s}", "url", "not a url"), "url");
	expect_check_fails("webhook", params("{s:s, s:s}", "url", "https://x.example/", "colour",
					     "red"), "colour");
	expect_check_fails("webhook", params("{s:s, s:s}", "url", "https://x.example/",
					     "secret_file", "/nonexistent/secret"), "secret_file");
	expect_check_fails("webhook", params("{s:s, s:s}", "url", "https://x.example/",
					     "secret_file", secret), "secret_file");
	expect_check_fails("webhook", params("{s:s, s:s}", "url", "https://x.example/",
					     "timeout_ms", "5s"), "timeout_ms");
	expect_check_fails("webhook", params("{s:s, s:s}", "url", "https://x.example/", "ca_file",
					     "/nonexistent/ca.pem"), "ca_file");
	/* Slack signs nothing: a secret there is a mistake. */
	expect_check_fails("slack", params("{s:s, s:s}", "url", "https://x.example/",
					   "secret_file", secret), "secret_file");
	expect_check_fails("email", params("{s:s, s:s}", "smtp_url", "smtp://m.example",
					   "from", "a@example.org"), "to");
	expect_check_fails("email", params("{s:s, s:s, s:s}", "smtp_url", "https://m.example",
					   "from", "a@example.org", "to", "b@example.org"),
			   "smtp_url");
	expect_check_fails("email", params("{s:s, s:s, s:s, s:s}", "smtp_url", "smtp://m.example",
					   "from", "a@example.org", "to", "b@example.org",
					   "starttls", "maybe"), "starttls");
	expect_check_fails("email", params("{s:s, s:s, s:s}", "smtp_url", "smtp://m.example",
					   "from", "nobody", "to", "b@example.org"), "from");
	expect_check_fails("email", params("{s:s, s:s, s:s}", "smtp_url", "smtp://m.example",
					   "from", "a@example.org", "to", "b@example.org,,"), "to");
	expect_check_fails("email", params("{s:s, s:s, s:s}", "smtp_url", "smtp://m.example",
					   "from", "a@example.org", "to",
					   "b@example.org\r\nBcc: x@evil.example"), "to");
	expect_check_fails("email", params("{s:s, s:s, s:s, s:s}", "smtp_url", "smtp://m.example",
					   "from", "a@example.org", "to", "b@example.org",
					   "username", "u"), "password_file");
	/* A password over smtp:// without required STARTTLS would go out in
	 * the clear. */
	ts_write_file(dir, "pw", "hunter2\n");
	snprintf(secret, sizeof(secret), "%s/pw", dir);
	expect_check_fails("email", params("{s:s, s:s, s:s, s:s, s:s, s:s}", "smtp_url",
					   "smtp://m.example", "from", "a@example.org", "to",
					   "b@example.org", "username", "u", "password_file", secret,
					   "starttls", "opportunistic"), "starttls");
	ts_rmtree(dir);
}

/* ---- the generic webhook ---- */

static void test_webhook_signature_is_hmac_sha256_of_timestamp_dot_body(void **state)
{
	const char *secret = "s3cr3t-key", *body = "{\"id\":\"evt-42\",\"event\":\"test\"}";
	struct aclm_err err = { 0 };
	char out[80], want[80], msg[256];
	unsigned char mac[32];
	unsigned int maclen = 0;

	(void)state;
	assert_int_equal(notify_webhook_sign((const unsigned char *)secret, strlen(secret),
					     1700000000, body, strlen(body), out, &err),
			 ACLM_OK);
	/* Independently: HMAC-SHA256(secret, "1700000000." body), hex. */
	snprintf(msg, sizeof(msg), "1700000000.%s", body);
	assert_non_null(HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)msg,
			     strlen(msg), mac, &maclen));
	memcpy(want, "sha256=", 7);
	aclm_hex_encode(mac, maclen, want + 7);
	assert_string_equal(out, want);
	assert_int_equal(strlen(out), 7 + 64);

	/* The timestamp is covered: another one gives another signature. */
	assert_int_equal(notify_webhook_sign((const unsigned char *)secret, strlen(secret),
					     1700000001, body, strlen(body), out, &err),
			 ACLM_OK);
	assert_string_not_equal(out, want);
	assert_int_equal(notify_webhook_sign((const unsigned char *)"", 0, 1, body, strlen(body),
					     out, &err),
			 ACLM_ERR_INVALID);
}

static void test_webhook_body_has_the_documented_keys_in_order(void **state)
{
	static const char *const keys[] = { "id", "event", "severity", "tenant",
					    "subject", "text", "at", "data" };
	struct notify_message m = msg_test;
	json_t *data = json_pack("{s:s}", "cert", "3f2a");
	json_t *b, *back;
	const char *k;
	json_t *v;
	size_t i = 0;
	char *text;

	(void)state;
	m.data = data;
	b = notify__webhook_body(&m);
	assert_non_null(b);
	text = json_dumps(b, JSON_COMPACT | JSON_PRESERVE_ORDER);
	back = json_loads(text, JSON_DECODE_ANY, NULL);
	assert_non_null(back);
	json_object_foreach(back, k, v) {
		assert_true(i < 8);
		assert_string_equal(k, keys[i++]);
	}
	assert_int_equal(i, 8);
	assert_string_equal(json_string_value(json_object_get(back, "id")), "evt-42");
	assert_string_equal(json_string_value(json_object_get(back, "event")), "alert.expiry");
	assert_string_equal(json_string_value(json_object_get(back, "at")), "2027-01-15T08:00:00Z");
	assert_string_equal(json_string_value(json_object_get(json_object_get(back, "data"), "cert")),
			    "3f2a");
	free(text);
	json_decref(back);
	json_decref(b);
	json_decref(data);
}

/* ---- chat bodies ---- */

static void test_slack_body_is_text_with_escaped_control_characters(void **state)
{
	struct notify_message m = msg_test;
	struct aclm_err err = { 0 };
	json_t *body = NULL;
	char *url = NULL;
	const char *t;

	(void)state;
	m.subject = "a <b> & c";
	assert_int_equal(notify__chat_request("slack", "https://hooks.slack.com/services/T/B/X", &m,
					      NULL, 0, 0, &body, &url, &err),
			 ACLM_OK);
	assert_int_equal(json_object_size(body), 1);
	t = json_string_value(json_object_get(body, "text"));
	assert_non_null(t);
	assert_non_null(strstr(t, "*a &lt;b&gt; &amp; c*"));
	assert_non_null(strstr(t, "Renew it."));
	assert_non_null(strstr(t, "alert.expiry"));
	assert_string_equal(url, "https://hooks.slack.com/services/T/B/X");
	free(url);
	json_decref(body);
}

static void test_dingtalk_body_is_markdown_and_signed_in_query(void **state)
{
	const char *secret = "SECabc123";
	char *url = NULL, want[256], sig[64], enc[160], *p = enc;
	json_t *b;
	const char *title, *text;

	(void)state;
	b = chat_body("dingtalk", secret, 1700000000123, &url);
	assert_string_equal(json_string_value(json_object_get(b, "msgtype")), "markdown");
	title = json_string_value(json_object_get(json_object_get(b, "markdown"), "title"));
	text = json_string_value(json_object_get(json_object_get(b, "markdown"), "text"));
	assert_string_equal(title, msg_test.subject);
	assert_non_null(strstr(text, "### www.example.org expires in 7 days"));
	/* sign = urlencode(base64(HMAC-SHA256(secret, ts "\n" secret))). */
	snprintf(want, sizeof(want), "1700000000123\n%s", secret);
	hmac_b64(secret, strlen(secret), want, strlen(want), sig);
	for (const char *s = sig; *s != '\0'; s++)
		p += *s == '+' ? sprintf(p, "%%2B") : *s == '/' ? sprintf(p, "%%2F")
			: *s == '=' ? sprintf(p, "%%3D") : sprintf(p, "%c", *s);
	snprintf(want, sizeof(want),
		 "https://chat.example/hook/TOKEN?k=v&timestamp=1700000000123&sign=%s", enc);
	assert_string_equal(url, want);
	free(url);
	json_decref(b);

	/* Without a secret the URL is left alone. */
	b = chat_body("dingtalk", NULL, 1700000000123, &url);
	assert_string_equal(url, "https://chat.example/hook/TOKEN?k=v");
	free(url);
	json_decref(b);
}

static void test_feishu_body_is_text_with_timestamp_and_sign(void **state)
{
	const char *secret = "feishu-secret";
	char *url = NULL, key[64], sig[64];
	json_t *b;

	(void)state;
	b = chat_body("feishu", secret, 1700000000999, &url);
	assert_string_equal(json_string_value(json_object_get(b, "msg_type")), "text");
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(b, "content"),
								  "text")),
			       "expires in 7 days"));
	assert_string_equal(json_string_value(json_object_get(b, "timestamp")), "1700000000");
	/* sign = base64(HMAC-SHA256(key = ts "\n" secret, message = "")). */
	snprintf(key, sizeof(key), "1700000000\n%s", secret);
	hmac_b64(key, strlen(key), "", 0, sig);
	assert_string_equal(json_string_value(json_object_get(b, "sign")), sig);
	assert_string_equal(url, "https://chat.example/hook/TOKEN?k=v");
	free(url);
	json_decref(b);

	b = chat_body("feishu", NULL, 1700000000999, &url);
	assert_null(json_object_get(b, "sign"));
	assert_null(json_object_get(b, "timestamp"));
	free(url);
	json_decref(b);
}

static void test_wecom_body_is_markdown_content(void **state)
{
	char *url = NULL;
	json_t *b;
	const char *c;

	(void)state;
	b = chat_body("wecom", NULL, 0, &url);
	assert_string_equal(json_string_value(json_object_get(b, "msgtype")), "markdown");
	c = json_string_value(json_object_get(json_object_get(b, "markdown"), "content"));
	assert_non_null(c);
	assert_true(strncmp(c, "**www.example.org expires in 7 days**", 37) == 0);
	assert_true(strlen(c) <= 4096);
	free(url);
	json_decref(b);
}

static void test_teams_body_is_an_adaptive_card_message(void **state)
{
	char *url = NULL;
	json_t *b, *att, *card, *blocks;

	(void)state;
	b = chat_body("teams", NULL, 0, &url);
	assert_string_equal(json_string_value(json_object_get(b, "type")), "message");
	att = json_array_get(json_object_get(b, "attachments"), 0);
	assert_non_null(att);
	assert_string_equal(json_string_value(json_object_get(att, "contentType")),
			    "application/vnd.microsoft.card.adaptive");
	card = json_object_get(att, "content");
	assert_string_equal(json_string_value(json_object_get(card, "type")), "AdaptiveCard");
	assert_string_equal(json_string_value(json_object_get(card, "version")), "1.4");
	blocks = json_object_get(card, "body");
	assert_true(json_array_size(blocks) >= 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(blocks, 0), "type")),
			    "TextBlock");
	assert_string_equal(json_string_value(json_object_get(json_array_get(blocks, 0), "text")),
			    msg_test.subject);
	free(url);
	json_decref(b);
}

static void test_long_chat_text_is_cut_at_a_character_boundary(void **state)
{
	struct notify_message m = msg_test;
	struct aclm_err err = { 0 };
	char *big = malloc(3 * 2000 + 1), *url = NULL, *dump;
	json_t *body = NULL;

	(void)state;
	for (int i = 0; i < 2000; i++)
		memcpy(big + 3 * i, "\xe2\x82\xac", 3); /* the euro sign */
	big[6000] = '\0';
	m.text = big;
	assert_int_equal(notify__chat_request("wecom", "https://x.example/", &m, NULL, 0, 0, &body,
					      &url, &err),
			 ACLM_OK);
	/* jansson refuses invalid UTF-8, so a cut inside a character fails here. */
	dump = json_dumps(body, JSON_COMPACT);
	assert_non_null(dump);
	assert_true(strlen(json_string_value(json_object_get(json_object_get(body, "markdown"),
							      "content"))) <= 4096);
	free(dump);
	free(url);
	free(big);
	json_decref(body);
}

/* ---- replies ---- */

static aclm_status reply(const char *type, long status, const char *text, struct aclm_err *err)
{
	struct notify_channel ch = { .name = "chat", .type = type };
	struct aclm_buf b;
	aclm_status st;

	aclm_buf_init(&b, 4096);
	assert_int_equal(aclm_buf_puts(&b, text), ACLM_OK);
	st = notify__chat_reply(&ch, "https://x.example/robot/*", status, &b, err);
	aclm_buf_free(&b);
	return st;
}

static void test_platform_error_codes_fail_the_send(void **state)
{
	struct aclm_err err = { 0 };

	(void)state;
	assert_int_equal(reply("dingtalk", 200, "{\"errcode\":0,\"errmsg\":\"ok\"}", &err), ACLM_OK);
	assert_int_equal(reply("dingtalk", 200, "{\"errcode\":310000,\"errmsg\":\"sign not match\"}",
			       &err),
			 ACLM_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "errcode 310000: sign not match"));
	assert_non_null(strstr(err.msg, "notify.chat: https://x.example/robot/*"));
	assert_int_equal(reply("wecom", 200, "{\"errcode\":45009,\"errmsg\":\"freq\"}", &err),
			 ACLM_ERR_IO);
	assert_int_equal(reply("wecom", 200, "{\"errcode\":0}", &err), ACLM_OK);
	assert_int_equal(reply("feishu", 200, "{\"code\":0,\"msg\":\"success\"}", &err), ACLM_OK);
	assert_int_equal(reply("feishu", 200, "{\"StatusCode\":0}", &err), ACLM_OK);
	assert_int_equal(reply("feishu", 200, "{\"code\":19021,\"msg\":\"sign match fail\"}", &err),
			 ACLM_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "code 19021"));
	assert_int_equal(reply("feishu", 200, "<html>", &err), ACLM_ERR_IO);
	assert_int_equal(reply("slack", 200, "ok", &err), ACLM_OK);
	assert_int_equal(reply("slack", 404, "no_service", &err), ACLM_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "HTTP 404: no_service"));
	assert_int_equal(reply("teams", 202, "", &err), ACLM_OK);
	assert_int_equal(reply("teams", 503, "", &err), ACLM_ERR_IO);
	assert_int_equal(reply("slack", 429, "", &err), ACLM_ERR_IO);
}

/* ---- email ---- */

/* Decodes the RFC 2047 words of a Subject value back to text. */
static void decode_2047(const char *v, char *out, size_t outlen)
{
	size_t n = 0;

	while ((v = strstr(v, "=?UTF-8?B?")) != NULL) {
		const char *end = strstr(v + 10, "?=");
		char b64[128];
		long got;

		assert_non_null(end);
		assert_true(end + 2 - v <= 75); /* RFC 2047 §2 */
		snprintf(b64, sizeof(b64), "%.*s", (int)(end - v - 10), v + 10);
		got = aclm_base64_decode(b64, (unsigned char *)out + n, outlen - n - 1);
		assert_true(got > 0);
		n += (size_t)got;
		v = end + 2;
	}
	out[n] = '\0';
}

static void test_rfc2047_subject_round_trips_in_short_words(void **state)
{
	const char *subj = "证书 www.例子.测试 将在 7 天后过期 — Zertifikat läuft ab, bitte erneuern";
	struct aclm_buf b;
	char back[512];

	(void)state;
	aclm_buf_init(&b, 4096);
	assert_int_equal(notify__rfc2047(subj, &b), ACLM_OK);
	assert_true(strncmp((char *)b.data, "=?UTF-8?B?", 10) == 0);
	assert_non_null(strstr((char *)b.data, "\r\n =?UTF-8?B?")); /* folded into several words */
	for (size_t i = 0; i < b.len; i++)
		assert_true(b.data[i] < 0x80);
	decode_2047((char *)b.data, back, sizeof(back));
	assert_string_equal(back, subj);

	/* ASCII stays readable; CR/LF cannot start a new header. */
	aclm_buf_reset(&b);
	assert_int_equal(notify__rfc2047("plain\r\nBcc: x@evil.example", &b), ACLM_OK);
	assert_string_equal((char *)b.data, "plain  Bcc: x@evil.example");
	aclm_buf_free(&b);
}

static void test_email_message_is_rfc5322_with_crlf_and_mime(void **state)
{
	json_t *p = params("{s:s, s:s, s:s}", "smtp_url", "smtp://127.0.0.1:2525", "from",
			   "aclm <alerts@example.org>", "to", "ops@example.org, b@example.org");
	struct notify_channel ch = { .name = "mail", .type = "email", .params = p };
	struct notify_message m = msg_test;
	struct aclm_err err = { 0 };
	struct aclm_buf b;
	const char *s, *hdr_end;
	char subj[256];

	(void)state;
	m.subject = "Zertifikat läuft ab";
	m.text = "Grüße: the certificate of www.example.org expires on 2027-01-22.";
	assert_int_equal(notify__email_message(&ch, &m, 1800000000, &b, &err), ACLM_OK);
	s = (const char *)b.data;
	hdr_end = strstr(s, "\r\n\r\n");
	assert_non_null(hdr_end);
	assert_non_null(strstr(s, "Date: Fri, 15 Jan 2027 08:00:00 +0000\r\n"));
	assert_non_null(strstr(s, "From: aclm <alerts@example.org>\r\n"));
	assert_non_null(strstr(s, "To: ops@example.org, b@example.org\r\n"));
	assert_non_null(strstr(s, "Message-ID: <aclm."));
	assert_non_null(strstr(s, "@example.org>\r\n"));
	assert_non_null(strstr(s, "MIME-Version: 1.0\r\n"));
	assert_non_null(strstr(s, "Content-Type: text/plain; charset=UTF-8\r\n"));
	assert_non_null(strstr(s, "Content-Transfer-Encoding: quoted-printable\r\n"));
	assert_non_null(strstr(s, "Subject: =?UTF-8?B?"));
	decode_2047(strstr(s, "Subject: "), subj, sizeof(subj));
	assert_string_equal(subj, "Zertifikat läuft ab");
	/* Every line ends in CRLF, none is longer than 78, all is 7-bit. */
	for (const char *l = s; *l != '\0';) {
		const char *nl = strchr(l, '\n');

		assert_non_null(nl);
		assert_true(nl > l && nl[-1] == '\r');
		assert_true(nl - l <= 78);
		l = nl + 1;
	}
	for (size_t i = 0; i < b.len; i++)
		assert_true(b.data[i] < 0x80);
	/* "ü" is =C3=BC in quoted-printable. */
	assert_non_null(strstr(hdr_end, "Gr=C3=BC=C3=9Fe:"));
	aclm_buf_free(&b);

	/* Plain ASCII text needs no encoding. */
	assert_int_equal(notify__email_message(&ch, &msg_test, 1800000000, &b, &err), ACLM_OK);
	assert_non_null(strstr((char *)b.data, "Content-Transfer-Encoding: 7bit\r\n"));
	assert_non_null(strstr((char *)b.data, "\r\n\r\nCertificate 3f2a for www.example.org"));
	aclm_buf_free(&b);
	json_decref(p);
}

/* ---- transport ---- */

static void test_closed_port_is_io_naming_the_url_without_secrets(void **state)
{
	int port = ts_free_port(SOCK_STREAM);
	char url[128], shown[64];
	json_t *p;
	struct notify_channel ch = { .name = "hook", .type = "webhook" };
	struct notify_opts o = { .timeout_ms = 3000 };
	struct aclm_err err = { 0 };

	(void)state;
	snprintf(url, sizeof(url), "http://user:pw@127.0.0.1:%d/hook?token=TOPSECRET", port);
	snprintf(shown, sizeof(shown), "notify.hook: http://127.0.0.1:%d/hook: ", port);
	p = params("{s:s}", "url", url);
	ch.params = p;
	assert_int_equal(notify_send(&ch, &msg_test, &o, &err), ACLM_ERR_IO);
	if (strstr(err.msg, shown) == NULL)
		fail_msg("want \"%s\" in \"%s\"", shown, err.msg);
	assert_null(strstr(err.msg, "TOPSECRET"));
	assert_null(strstr(err.msg, "pw@"));
	json_decref(p);

	/* A chat URL's token in the path is not shown either. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/services/T0/B0/TOPSECRET", port);
	ch.type = "slack";
	ch.params = p = params("{s:s}", "url", url);
	assert_int_equal(notify_send(&ch, &msg_test, &o, &err), ACLM_ERR_IO);
	assert_null(strstr(err.msg, "TOPSECRET"));
	snprintf(shown, sizeof(shown), "http://127.0.0.1:%d/services/*", port);
	assert_non_null(strstr(err.msg, shown));
	json_decref(p);

	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", port);
	ch.type = "email";
	ch.name = "mail";
	ch.params = p = params("{s:s, s:s, s:s, s:s}", "smtp_url", url, "from", "a@example.org",
			       "to", "b@example.org", "starttls", "none");
	assert_int_equal(notify_send(&ch, &msg_test, &o, &err), ACLM_ERR_IO);
	snprintf(shown, sizeof(shown), "notify.mail: smtp://127.0.0.1:%d: ", port);
	if (strstr(err.msg, shown) == NULL)
		fail_msg("want \"%s\" in \"%s\"", shown, err.msg);
	json_decref(p);
}

/* ---- configuration ---- */

static void test_config_sections_become_channels_and_errors_name_file_and_line(void **state)
{
	static const char conf[] = "[alerts]\n"
				   "channels = ops, mail\n"
				   "[notify.ops]\n"
				   "type = webhook\n"
				   "url = https://hooks.example/aclm\n"
				   "timeout_ms = 2500\n"
				   "[notify.mail]\n"
				   "type = email\n"
				   "smtp_url = smtp://127.0.0.1:25\n"
				   "from = a@example.org\n"
				   "to = b@example.org\n"
				   "starttls = none\n";
	struct aclm_config *cfg = NULL;
	struct notify_channel ch;
	struct aclm_err err = { 0 };
	json_t *p = NULL;

	(void)state;
	assert_int_equal(aclm_config_new(&cfg), ACLM_OK);
	assert_int_equal(aclm_config_load_string(cfg, conf, "aclm.conf", &err), ACLM_OK);
	assert_int_equal(notify_config_channel(cfg, "ops", &ch, &p, &err), ACLM_OK);
	assert_string_equal(ch.name, "ops");
	assert_string_equal(ch.type, "webhook");
	assert_string_equal(json_string_value(json_object_get(p, "url")),
			    "https://hooks.example/aclm");
	assert_string_equal(json_string_value(json_object_get(p, "timeout_ms")), "2500");
	assert_int_equal(json_object_size(p), 2); /* no defaults of other types' keys */
	json_decref(p);
	assert_int_equal(notify_config_channel(cfg, "nope", &ch, &p, &err), ACLM_ERR_NOTFOUND);
	assert_int_equal(notify_config_check(cfg, &err), ACLM_OK);
	aclm_config_free(cfg);

	/* A bad URL on line 5 of the file. */
	assert_int_equal(aclm_config_new(&cfg), ACLM_OK);
	assert_int_equal(aclm_config_load_string(cfg,
						 "[notify.ops]\ntype = webhook\n\n\nurl = ftp://x/\n",
						 "aclm.conf", &err),
			 ACLM_OK);
	assert_int_equal(notify_config_check(cfg, &err), ACLM_ERR_CONFIG);
	if (strncmp(err.msg, "aclm.conf:5: notify.ops: url: ", 30) != 0)
		fail_msg("got \"%s\"", err.msg);
	aclm_config_free(cfg);

	/* [alerts] channels are the scheduler's to check (they may name
	 * channels stored through the API): not an error here. */
	assert_int_equal(aclm_config_new(&cfg), ACLM_OK);
	assert_int_equal(aclm_config_load_string(cfg, "[alerts]\nchannels = ghost\n", "aclm.conf",
						 &err),
			 ACLM_OK);
	assert_int_equal(notify_config_check(cfg, &err), ACLM_OK);
	aclm_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_accepts_each_type),
		cmocka_unit_test(test_check_errors_name_the_key),
		cmocka_unit_test(test_webhook_signature_is_hmac_sha256_of_timestamp_dot_body),
		cmocka_unit_test(test_webhook_body_has_the_documented_keys_in_order),
		cmocka_unit_test(test_slack_body_is_text_with_escaped_control_characters),
		cmocka_unit_test(test_dingtalk_body_is_markdown_and_signed_in_query),
		cmocka_unit_test(test_feishu_body_is_text_with_timestamp_and_sign),
		cmocka_unit_test(test_wecom_body_is_markdown_content),
		cmocka_unit_test(test_teams_body_is_an_adaptive_card_message),
		cmocka_unit_test(test_long_chat_text_is_cut_at_a_character_boundary),
		cmocka_unit_test(test_platform_error_codes_fail_the_send),
		cmocka_unit_test(test_rfc2047_subject_round_trips_in_short_words),
		cmocka_unit_test(test_email_message_is_rfc5322_with_crlf_and_mime),
		cmocka_unit_test(test_closed_port_is_io_naming_the_url_without_secrets),
		cmocka_unit_test(test_config_sections_become_channels_and_errors_name_file_and_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
