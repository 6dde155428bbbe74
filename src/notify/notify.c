/* notify/: the channel types, notify_check and notify_send dispatch, and
 * what the senders share (parameters, secret files, the libcurl POST). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "core/config.h"
#include "notify/notify_int.h"

#define NOTIFY_HTTP_OPT "secret_file|ca_file|timeout_ms"

const char notify_types[] = "email|webhook|slack|dingtalk|feishu|wecom|teams";

static const struct notify__type notify_table[] = {
	{ "email", "smtp_url|from|to", "starttls|username|password_file|ca_file|timeout_ms",
	  notify__email_send },
	{ "webhook", "url", NOTIFY_HTTP_OPT, notify__webhook_send },
	{ "slack", "url", "ca_file|timeout_ms", notify__chat_send },
	{ "dingtalk", "url", NOTIFY_HTTP_OPT, notify__chat_send },
	{ "feishu", "url", NOTIFY_HTTP_OPT, notify__chat_send },
	{ "wecom", "url", "ca_file|timeout_ms", notify__chat_send },
	{ "teams", "url", "ca_file|timeout_ms", notify__chat_send },
};

static const struct notify__type *notify_type_find(const char *name)
{
	const struct notify__type *t = NULL;

	for (size_t i = 0; name != NULL && i < sizeof(notify_table) / sizeof(notify_table[0]); i++)
		if (strcmp(notify_table[i].name, name) == 0)
			t = &notify_table[i];
	return t;
}

static const char *notify_name(const struct notify_channel *ch)
{
	return ch->name != NULL ? ch->name : "?";
}

const char *notify__param(const struct notify_channel *ch, const char *key)
{
	const json_t *v = ch->params != NULL ? json_object_get(ch->params, key) : NULL;
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;

	return s != NULL && *s != '\0' ? s : NULL;
}

/* timeout_ms as a number: a JSON integer or a decimal string; -1 when
 * absent, -2 when malformed or out of 100..600000. */
static long notify_timeout_param(const struct notify_channel *ch)
{
	const json_t *v = ch->params != NULL ? json_object_get(ch->params, "timeout_ms") : NULL;
	long ms = -1;

	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);

		ms = i >= 100 && i <= 600000 ? (long)i : -2;
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end = NULL;
		long n;

		errno = 0;
		n = strtol(s, &end, 10);
		ms = errno == 0 && end != s && *end == '\0' && n >= 100 && n <= 600000 ? n : -2;
	} else if (v != NULL) {
		ms = -2;
	}
	return ms;
}

long notify__timeout_ms(const struct notify_channel *ch, const struct notify_opts *o)
{
	long ms = notify_timeout_param(ch);

	if (ms > 0)
		return ms;
	return o != NULL && o->timeout_ms > 0 ? o->timeout_ms : NOTIFY__TIMEOUT_MS_DEFAULT;
}

const char *notify__ca_file(const struct notify_channel *ch, const struct notify_opts *o)
{
	const char *f = notify__param(ch, "ca_file");

	return f != NULL ? f : o != NULL ? o->ca_bundle : NULL;
}

aclm_status notify__secret_read(const struct notify_channel *ch, const char *key,
				struct aclm_buf *out, struct aclm_err *err)
{
	/* One read into a fixed buffer and one append: no realloc leaves a
	 * copy of the secret behind in freed memory. */
	unsigned char tmp[NOTIFY__SECRET_MAX + 1];
	const char *path = notify__param(ch, key);
	size_t len = 0;
	ssize_t n = 0;
	int fd = -1;
	aclm_status st = ACLM_OK;

	aclm_buf_init(out, NOTIFY__SECRET_MAX);
	if (path == NULL)
		goto out;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		st = aclm_err_set(err, ACLM_ERR_CONFIG, "notify.%s: %s: %s: %s", notify_name(ch), key,
				  path, strerror(errno));
		goto out;
	}
	while (len < sizeof(tmp) && (n = read(fd, tmp + len, sizeof(tmp) - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			st = aclm_err_set(err, ACLM_ERR_CONFIG, "notify.%s: %s: %s: %s",
					  notify_name(ch), key, path, strerror(errno));
			goto out;
		}
		len += (size_t)n;
	}
	if (len > NOTIFY__SECRET_MAX) {
		st = aclm_err_set(err, ACLM_ERR_CONFIG, "notify.%s: %s: %s: longer than %d bytes",
				  notify_name(ch), key, path, NOTIFY__SECRET_MAX);
		goto out;
	}
	/* Editors add a final newline; it is never part of the secret. */
	while (len > 0 && (tmp[len - 1] == '\n' || tmp[len - 1] == '\r' || tmp[len - 1] == ' ' ||
			   tmp[len - 1] == '\t'))
		len--;
	if (len == 0) {
		st = aclm_err_set(err, ACLM_ERR_CONFIG, "notify.%s: %s: %s: empty", notify_name(ch),
				  key, path);
		goto out;
	}
	if (aclm_buf_append(out, tmp, len) != ACLM_OK)
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "notify.%s: %s: out of memory",
				  notify_name(ch), key);
out:
	OPENSSL_cleanse(tmp, sizeof(tmp));
	if (fd >= 0)
		close(fd);
	if (st != ACLM_OK)
		aclm_buf_free_secret(out);
	return st;
}

void notify__url_display(const char *url, bool keep_path, char *out, size_t outlen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;

	snprintf(out, outlen, "(bad URL)");
	if (u == NULL || url == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	curl_url_get(u, CURLUPART_PATH, &path, 0);
	if (path != NULL && !keep_path) {
		/* Chat URLs carry their token in the path: keep the first
		 * segment, enough to recognise the service. */
		char *second = strchr(path + (path[0] == '/'), '/');

		if (second != NULL && second[1] != '\0')
			snprintf(second, 3, "/*");
	}
	snprintf(out, outlen, "%s://%s%s%s%s", scheme, host, port != NULL ? ":" : "",
		 port != NULL ? port : "", path != NULL && strcmp(path, "/") != 0 ? path : "");
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
}

bool notify__url_ok(const char *url, const char *const *schemes, const char **why)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	bool ok = false;

	*why = "not a URL";
	if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || *host == '\0') {
		*why = "no host";
		goto out;
	}
	*why = "unsupported scheme";
	for (size_t i = 0; schemes[i] != NULL && !ok; i++)
		ok = strcmp(scheme, schemes[i]) == 0;
	if (ok)
		*why = NULL;
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

/* The parameter checks every type shares: known keys, string values,
 * required ones present, URLs, files readable. */
static aclm_status notify_check_params(const struct notify_channel *ch,
				       const struct notify__type *t, struct aclm_err *err)
{
	static const char *const http_schemes[] = { "http", "https", NULL };
	static const char *const smtp_schemes[] = { "smtp", "smtps", NULL };
	const char *name = notify_name(ch);
	const char *key, *why = NULL;
	const json_t *v;
	struct aclm_buf secret;
	aclm_status st = ACLM_OK;
	char req[64];

	aclm_buf_init(&secret, NOTIFY__SECRET_MAX);
	if (ch->params != NULL && !json_is_object(ch->params)) {
		st = aclm_err_set(err, ACLM_ERR_CONFIG, "notify.%s: params: not an object", name);
		goto out;
	}
	json_object_foreach((json_t *)ch->params, key, v) {
		bool known = aclm_config_choice(t->required, key) || aclm_config_choice(t->optional, key);

		/* A [notify.NAME] section's "type" may travel in params. */
		if (strcmp(key, "type") == 0 && json_is_string(v) &&
		    strcmp(json_string_value(v), t->name) == 0)
			continue;
		if (!known) {
			st = aclm_err_set(err, ACLM_ERR_CONFIG,
					  "notify.%s: %s: unknown parameter for type %s (known: %s|%s)",
					  name, key, t->name, t->required, t->optional);
			goto out;
		}
		if (!json_is_string(v) && !(strcmp(key, "timeout_ms") == 0 && json_is_integer(v))) {
			st = aclm_err_set(err, ACLM_ERR_CONFIG, "notify.%s: %s: must be a string",
					  name, key);
			goto out;
		}
	}
	snprintf(req, sizeof(req), "%s", t->required);
	for (char *save = NULL, *k = strtok_r(req, "|", &save); k != NULL;
	     k = strtok_r(NULL, "|", &save)) {
		if (notify__param(ch, k) == NULL) {
			st = aclm_err_set(err, ACLM_ERR_CONFIG, "notify.%s: %s: required for type %s",
					  name, k, t->name);
			goto out;
		}
	}
	if (notify__param(ch, "url") != NULL &&
	    !notify__url_ok(notify__param(ch, "url"), http_schemes, &why)) {
		st = aclm_err_set(err, ACLM_ERR_CONFIG, "notify.%s: url: %s (want http:// or https://)",
				  name, why);
		goto out;
	}
	if (notify__param(ch, "smtp_url") != NULL &&
	    !notify__url_ok(notify__param(ch, "smtp_url"), smtp_schemes, &why)) {
		st = aclm_err_set(err, ACLM_ERR_CONFIG,
				  "notify.%s: smtp_url: %s (want smtp:// or smtps://)", name, why);
		goto out;
	}
	if (notify_timeout_param(ch) == -2) {
		st = aclm_err_set(err, ACLM_ERR_CONFIG,
				  "notify.%s: timeout_ms: want milliseconds from 100 to 600000", name);
		goto out;
	}
	if (notify__param(ch, "ca_file") != NULL && access(notify__param(ch, "ca_file"), R_OK) != 0) {
		st = aclm_err_set(err, ACLM_ERR_CONFIG, "notify.%s: ca_file: %s: %s", name,
				  notify__param(ch, "ca_file"), strerror(errno));
		goto out;
	}
	/* Secret files are read (and wiped) now, so that a typo shows at
	 * start rather than at the first alert. */
	st = notify__secret_read(ch, "secret_file", &secret, err);
	aclm_buf_free_secret(&secret);
	if (st == ACLM_OK)
		st = notify__secret_read(ch, "password_file", &secret, err);
	aclm_buf_free_secret(&secret);
out:
	return st;
}

aclm_status notify_check(const struct notify_channel *ch, struct aclm_err *err)
{
	const struct notify__type *t;
	aclm_status st;

	if (ch == NULL || ch->name == NULL || *ch->name == '\0')
		return aclm_err_set(err, ACLM_ERR_INVALID, "notify: channel without a name");
	t = notify_type_find(ch->type);
	if (t == NULL)
		return aclm_err_set(err, ACLM_ERR_CONFIG, "notify.%s: type: %s%s%s (want %s)", ch->name,
				    ch->type != NULL ? "unknown type \"" : "missing",
				    ch->type != NULL ? ch->type : "", ch->type != NULL ? "\"" : "",
				    notify_types);
	st = notify_check_params(ch, t, err);
	if (st == ACLM_OK && strcmp(t->name, "email") == 0)
		st = notify__email_check(ch, err);
	return st;
}

aclm_status notify_send(const struct notify_channel *ch, const struct notify_message *m,
			const struct notify_opts *o, struct aclm_err *err)
{
	const struct notify__type *t;
	aclm_status st;

	if (m == NULL || m->event == NULL || m->subject == NULL)
		return aclm_err_set(err, ACLM_ERR_INVALID, "notify: message without event or subject");
	st = notify_check(ch, err);
	if (st != ACLM_OK)
		return st;
	t = notify_type_find(ch->type);
	return t->send(ch, m, o, err);
}

/* ---- the shared POST ---- */

static pthread_once_t notify_once = PTHREAD_ONCE_INIT;
static CURLcode notify_global_rc = CURLE_FAILED_INIT;

static void notify_global_init(void)
{
	notify_global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

aclm_status notify__curl_init(struct aclm_err *err)
{
	pthread_once(&notify_once, notify_global_init);
	if (notify_global_rc != CURLE_OK)
		return aclm_err_set(err, ACLM_ERR_INTERNAL, "notify: libcurl: %s",
				    curl_easy_strerror(notify_global_rc));
	return ACLM_OK;
}

/* Keeps the first NOTIFY__REPLY_MAX bytes of the reply and drops the rest:
 * the reply only feeds error messages and error codes. */
static size_t notify_on_body(char *data, size_t size, size_t n, void *arg)
{
	struct aclm_buf *b = arg;
	size_t len = size * n;
	size_t room = b->max - b->len;

	if (aclm_buf_append(b, data, len < room ? len : room) != ACLM_OK)
		return 0;
	return len;
}

aclm_status notify__post(const struct notify_channel *ch, const struct notify_opts *o,
			 const char *url, const char *const *headers, const char *body,
			 size_t len, long *status, struct aclm_buf *reply, struct aclm_err *err)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	char shown[256];
	struct curl_slist *hl = NULL, *tmp;
	const char *ca = notify__ca_file(ch, o);
	CURL *h = NULL;
	CURLcode rc;
	bool ok = true;
	aclm_status st = notify__curl_init(err);

	*status = 0;
	aclm_buf_init(reply, NOTIFY__REPLY_MAX);
	if (st != ACLM_OK)
		goto out;
	notify__url_display(url, strcmp(ch->type, "webhook") == 0, shown, sizeof(shown));
	h = curl_easy_init();
	tmp = curl_slist_append(hl, "Content-Type: application/json; charset=utf-8");
	hl = tmp != NULL ? tmp : hl;
	/* No "Expect: 100-continue" round trip for small bodies. */
	tmp = tmp != NULL ? curl_slist_append(hl, "Expect:") : NULL;
	hl = tmp != NULL ? tmp : hl;
	for (size_t i = 0; tmp != NULL && headers != NULL && headers[i] != NULL; i++) {
		tmp = curl_slist_append(hl, headers[i]);
		hl = tmp != NULL ? tmp : hl;
	}
	if (h == NULL || tmp == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "notify.%s: out of memory", notify_name(ch));
		goto out;
	}
	ok &= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
	/* A webhook that redirects is misconfigured; never re-POST elsewhere. */
	ok &= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_USERAGENT, "aclm/" ACLM_VERSION) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, notify__timeout_ms(ch, o)) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_POST, 1L) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_POSTFIELDS, body) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, notify_on_body) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_WRITEDATA, reply) == CURLE_OK;
	if (ca != NULL)
		ok &= curl_easy_setopt(h, CURLOPT_CAINFO, ca) == CURLE_OK;
	if (!ok) {
		st = aclm_err_set(err, ACLM_ERR_INTERNAL, "notify.%s: libcurl options refused",
				  notify_name(ch));
		goto out;
	}
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		st = aclm_err_set(err, ACLM_ERR_IO, "notify.%s: %s: %s", notify_name(ch), shown,
				  errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
out:
	curl_slist_free_all(hl);
	if (h != NULL)
		curl_easy_cleanup(h);
	return st;
}

/* The first bytes of a reply, printable ASCII only, for messages. */
static void notify_snippet(const struct aclm_buf *reply, char *out, size_t outlen)
{
	size_t j = 0;

	for (size_t i = 0; reply->data != NULL && i < reply->len && j + 1 < outlen; i++) {
		unsigned char c = reply->data[i];

		out[j++] = c >= 0x20 && c < 0x7f ? (char)c : ' ';
	}
	out[j] = '\0';
}

aclm_status notify__http_status(const struct notify_channel *ch, const char *url_shown,
				long status, const struct aclm_buf *reply, struct aclm_err *err)
{
	char snip[160];
	aclm_status code;

	if (status >= 200 && status < 300)
		return ACLM_OK;
	/* Retrying helps with overload and outages, not with a refused
	 * request (bad signature, unknown hook). */
	code = status == 408 || status == 425 || status == 429 || status >= 500 ? ACLM_ERR_IO
										  : ACLM_ERR_CONFIG;
	notify_snippet(reply, snip, sizeof(snip));
	return aclm_err_set(err, code, "notify.%s: %s: HTTP %ld%s%s", notify_name(ch), url_shown,
			    status, snip[0] != '\0' ? ": " : "", snip);
}
