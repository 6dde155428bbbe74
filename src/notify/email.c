/* notify/: the email type: an RFC 5322 message sent over SMTP by libcurl
 * (smtp:// with STARTTLS, smtps://, AUTH with a password from a file). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/rand.h>

#include "core/encode.h"
#include "core/time.h"
#include "notify/notify_int.h"

#define EMAIL_ADDR_MAX 254   /* RFC 5321 §4.5.3.1.3: a path holds at most 256 octets */
#define EMAIL_SUBJECT_MAX 900
#define EMAIL_MSG_MAX (256 * 1024)

/* The bare address of one "Name <a@b>" or "a@b" item (item is len bytes,
 * not NUL-terminated), into out; false when it is not an address. */
static bool email_addr(const char *item, size_t len, char *out, size_t outlen)
{
	const char *lt, *at = NULL;
	size_t n;

	while (len > 0 && (*item == ' ' || *item == '\t'))
		item++, len--;
	while (len > 0 && (item[len - 1] == ' ' || item[len - 1] == '\t'))
		len--;
	lt = memchr(item, '<', len);
	if (lt != NULL) {
		if (len == 0 || item[len - 1] != '>')
			return false;
		len -= (size_t)(lt - item) + 2;
		item = lt + 1;
	}
	if (len == 0 || len > EMAIL_ADDR_MAX || len >= outlen)
		return false;
	for (n = 0; n < len; n++) {
		unsigned char c = (unsigned char)item[n];

		/* No spaces, brackets, commas or controls in an addr-spec we send. */
		if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == ',' || c == '"')
			return false;
		if (c == '@')
			at = item + n;
	}
	if (at == NULL || at == item || at == item + len - 1)
		return false;
	memcpy(out, item, len);
	out[len] = '\0';
	return true;
}

/* A header value we copy verbatim: printable ASCII only (no CR/LF, so no
 * header injection). */
static bool email_header_safe(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static const char *email_starttls(const struct notify_channel *ch)
{
	const char *v = notify__param(ch, "starttls");

	return v != NULL ? v : "required";
}

static bool email_is_smtps(const struct notify_channel *ch)
{
	return strncmp(notify__param(ch, "smtp_url"), "smtps:", 6) == 0;
}

aclm_status notify__email_check(const struct notify_channel *ch, struct aclm_err *err)
{
	const char *from = notify__param(ch, "from");
	const char *to = notify__param(ch, "to");
	const char *tls = email_starttls(ch);
	char addr[EMAIL_ADDR_MAX + 1];
	bool user = notify__param(ch, "username") != NULL;
	bool pass = notify__param(ch, "password_file") != NULL;
	size_t n = 0;

	if (strcmp(tls, "required") != 0 && strcmp(tls, "opportunistic") != 0 &&
	    strcmp(tls, "none") != 0)
		return aclm_err_set(err, ACLM_ERR_CONFIG,
				    "notify.%s: starttls: \"%s\" (want required|opportunistic|none)",
				    ch->name, tls);
	if (!email_header_safe(from) || !email_addr(from, strlen(from), addr, sizeof(addr)))
		return aclm_err_set(err, ACLM_ERR_CONFIG,
				    "notify.%s: from: not an address (\"a@example.org\" or "
				    "\"Name <a@example.org>\", ASCII)", ch->name);
	if (!email_header_safe(to))
		return aclm_err_set(err, ACLM_ERR_CONFIG, "notify.%s: to: control or non-ASCII "
				    "characters", ch->name);
	for (const char *p = to; p != NULL; n++) {
		const char *comma = strchr(p, ',');
		size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);

		if (!email_addr(p, len, addr, sizeof(addr)))
			return aclm_err_set(err, ACLM_ERR_CONFIG,
					    "notify.%s: to: item %zu is not an address", ch->name,
					    n + 1);
		p = comma != NULL ? comma + 1 : NULL;
	}
	if (user != pass)
		return aclm_err_set(err, ACLM_ERR_CONFIG, "notify.%s: %s: required with %s",
				    ch->name, user ? "password_file" : "username",
				    user ? "username" : "password_file");
	/* A password must never cross the network in the clear: over smtp://
	 * only a required STARTTLS guarantees that. */
	if (pass && !email_is_smtps(ch) && strcmp(tls, "required") != 0)
		return aclm_err_set(err, ACLM_ERR_CONFIG,
				    "notify.%s: starttls: must be \"required\" (or use smtps://) when "
				    "a password is sent", ch->name);
	return ACLM_OK;
}

/* ---- the message ---- */

/* Length of the UTF-8 sequence starting at s (1 for stray bytes). */
static size_t email_utf8_len(const unsigned char *s, size_t left)
{
	size_t n = *s >= 0xf0 ? 4 : *s >= 0xe0 ? 3 : *s >= 0xc0 ? 2 : 1;
	size_t i = 1;

	while (i < n && i < left && (s[i] & 0xc0) == 0x80)
		i++;
	return i;
}

aclm_status notify__rfc2047(const char *text, struct aclm_buf *out)
{
	/* RFC 2047 §2: an encoded word is at most 75 characters; "=?UTF-8?B?"
	 * and "?=" leave 63, i.e. 60 base64 characters = 45 bytes. */
	enum { CHUNK = 45 };
	const unsigned char *s = (const unsigned char *)text;
	size_t len = strlen(text), i = 0;
	bool ascii = true;
	aclm_status st = ACLM_OK;
	unsigned char *clean = NULL;

	if (len > EMAIL_SUBJECT_MAX)
		len = EMAIL_SUBJECT_MAX;
	clean = malloc(len + 1);
	if (clean == NULL)
		return ACLM_ERR_NOMEM;
	for (size_t k = 0; k < len; k++) {
		clean[k] = s[k] == '\r' || s[k] == '\n' || s[k] == '\t' ? ' ' : s[k];
		ascii &= clean[k] >= 0x20 && clean[k] < 0x7f;
	}
	/* Cut at a character boundary, not inside a UTF-8 sequence. */
	while (len > 0 && len < strlen(text) && (s[len] & 0xc0) == 0x80)
		len--;
	clean[len] = '\0';
	if (ascii) {
		st = aclm_buf_append(out, clean, len);
		goto out;
	}
	while (i < len && st == ACLM_OK) {
		size_t n = 0;
		char *b64;

		while (i + n < len) {
			size_t c = email_utf8_len(clean + i + n, len - i - n);

			if (n + c > CHUNK)
				break;
			n += c;
		}
		b64 = aclm_base64_encode(clean + i, n);
		if (b64 == NULL) {
			st = ACLM_ERR_NOMEM;
			break;
		}
		st = aclm_buf_printf(out, "%s=?UTF-8?B?%s?=", i > 0 ? "\r\n " : "", b64);
		free(b64);
		i += n;
	}
out:
	free(clean);
	return st;
}

/* RFC 5322 §3.3 date-time in UTC, without locale (day and month names are
 * English by definition). */
static void email_date(int64_t t, char *out, size_t outlen)
{
	static const char days[][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	snprintf(out, outlen, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7],
		 tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
}

/* The plain-text body with LF line ends. */
static aclm_status email_body_text(const struct notify_message *m, struct aclm_buf *b)
{
	char at[ACLM_TIME_RFC3339_LEN];
	char *data = NULL;
	aclm_status st;

	st = aclm_buf_printf(b, "%s\n\nEvent:    %s\nSeverity: %s\nTenant:   %s\nAt:       %s\n",
			     m->text != NULL ? m->text : m->subject, m->event,
			     m->severity != NULL ? m->severity : "info",
			     m->tenant != NULL ? m->tenant : "-", aclm_time_fmt(m->at, at));
	if (st == ACLM_OK && m->id != NULL)
		st = aclm_buf_printf(b, "Id:       %s\n", m->id);
	if (st == ACLM_OK && m->data != NULL && !json_is_null(m->data)) {
		data = json_dumps(m->data, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		st = data != NULL ? aclm_buf_printf(b, "\nDetails:\n%s\n", data) : ACLM_ERR_NOMEM;
	}
	free(data);
	return st;
}

/* Whether the body needs quoted-printable: non-ASCII bytes or a line over
 * RFC 5322 §2.1.1's 998 characters. */
static bool email_needs_qp(const struct aclm_buf *b)
{
	size_t line = 0;

	for (size_t i = 0; i < b->len; i++) {
		unsigned char c = b->data[i];

		if (c == '\n') {
			line = 0;
			continue;
		}
		if (c >= 0x80 || (c < 0x20 && c != '\t' && c != '\r') || ++line > 998)
			return true;
	}
	return false;
}

/* Appends text (LF or CRLF line ends) with CRLF line ends, encoded with
 * RFC 2045 §6.7 quoted-printable when qp. */
static aclm_status email_body_append(struct aclm_buf *out, const struct aclm_buf *text, bool qp)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t col = 0;
	aclm_status st = ACLM_OK;

	for (size_t i = 0; i < text->len && st == ACLM_OK; i++) {
		unsigned char c = text->data[i];
		bool eol = i + 1 == text->len || text->data[i + 1] == '\n' ||
			   (text->data[i + 1] == '\r' && i + 2 < text->len && text->data[i + 2] == '\n');
		char enc[4];
		size_t n;

		if (c == '\r' && i + 1 < text->len && text->data[i + 1] == '\n')
			continue;
		if (c == '\n') {
			st = aclm_buf_append(out, "\r\n", 2);
			col = 0;
			continue;
		}
		if (!qp) {
			st = aclm_buf_append(out, &c, 1);
			continue;
		}
		/* Rule 3: white space at the end of a line is encoded. */
		if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !eol)) {
			enc[0] = (char)c;
			n = 1;
		} else {
			enc[0] = '=';
			enc[1] = hex[c >> 4];
			enc[2] = hex[c & 15];
			n = 3;
		}
		/* Rule 5: encoded lines are at most 76 characters; a soft
		 * break "=" counts. */
		if (col + n > 75) {
			st = aclm_buf_append(out, "=\r\n", 3);
			col = 0;
		}
		if (st == ACLM_OK)
			st = aclm_buf_append(out, enc, n);
		col += n;
	}
	if (st == ACLM_OK && (text->len == 0 || text->data[text->len - 1] != '\n'))
		st = aclm_buf_append(out, "\r\n", 2);
	return st;
}

aclm_status notify__email_message(const struct notify_channel *ch,
				  const struct notify_message *m, int64_t now,
				  struct aclm_buf *out, struct aclm_err *err)
{
	const char *from = notify__param(ch, "from");
	const char *domain;
	unsigned char rnd[12];
	char rhex[2 * sizeof(rnd) + 1], date[64], addr[EMAIL_ADDR_MAX + 1];
	struct aclm_buf text, subject;
	bool qp;
	aclm_status st = ACLM_OK;

	aclm_buf_init(&text, EMAIL_MSG_MAX);
	aclm_buf_init(&subject, 4096);
	aclm_buf_init(out, EMAIL_MSG_MAX);
	if (from == NULL || !email_addr(from, strlen(from), addr, sizeof(addr))) {
		st = aclm_err_set(err, ACLM_ERR_CONFIG, "notify.%s: from: not an address", ch->name);
		goto out;
	}
	domain = strchr(addr, '@') + 1;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "notify.%s: random Message-ID", ch->name);
		goto out;
	}
	aclm_hex_encode(rnd, sizeof(rnd), rhex);
	email_date(now, date, sizeof(date));
	st = notify__rfc2047(m->subject, &subject);
	if (st == ACLM_OK)
		st = email_body_text(m, &text);
	if (st != ACLM_OK) {
		st = aclm_err_set(err, st, "notify.%s: message too large", ch->name);
		goto out;
	}
	qp = email_needs_qp(&text);
	/* RFC 5322 §3.6: Date and From are required; Message-ID should be
	 * there. RFC 2045 §4, §5, §6 for the MIME fields. */
	st = aclm_buf_printf(out,
			     "Date: %s\r\nFrom: %s\r\nTo: %s\r\nSubject: %.*s\r\n"
			     "Message-ID: <aclm.%s@%s>\r\nMIME-Version: 1.0\r\n"
			     "Content-Type: text/plain; charset=UTF-8\r\n"
			     "Content-Transfer-Encoding: %s\r\nAuto-Submitted: auto-generated\r\n"
			     "X-Aclm-Event: %s\r\n\r\n",
			     date, from, notify__param(ch, "to"), (int)subject.len,
			     subject.data != NULL ? (const char *)subject.data : "", rhex, domain,
			     qp ? "quoted-printable" : "7bit",
			     email_header_safe(m->event) ? m->event : "other");
	if (st == ACLM_OK)
		st = email_body_append(out, &text, qp);
	if (st != ACLM_OK)
		st = aclm_err_set(err, st, "notify.%s: message too large", ch->name);
out:
	aclm_buf_free(&text);
	aclm_buf_free(&subject);
	if (st != ACLM_OK)
		aclm_buf_free(out);
	return st;
}

/* ---- sending ---- */

struct email_upload {
	const struct aclm_buf *msg;
	size_t off;
};

static size_t email_read(char *dst, size_t size, size_t n, void *arg)
{
	struct email_upload *u = arg;
	size_t left = u->msg->len - u->off;
	size_t len = size * n < left ? size * n : left;

	memcpy(dst, u->msg->data + u->off, len);
	u->off += len;
	return len;
}

/* The envelope recipients "<a@b>" of the "to" list. */
static aclm_status email_rcpts(const struct notify_channel *ch, struct curl_slist **out)
{
	char addr[EMAIL_ADDR_MAX + 1], item[EMAIL_ADDR_MAX + 3];
	struct curl_slist *l = NULL, *tmp;

	for (const char *p = notify__param(ch, "to"); p != NULL;) {
		const char *comma = strchr(p, ',');
		size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);

		if (!email_addr(p, len, addr, sizeof(addr)))
			break;
		snprintf(item, sizeof(item), "<%s>", addr);
		tmp = curl_slist_append(l, item);
		if (tmp == NULL) {
			curl_slist_free_all(l);
			return ACLM_ERR_NOMEM;
		}
		l = tmp;
		p = comma != NULL ? comma + 1 : NULL;
	}
	*out = l;
	return ACLM_OK;
}

/* Which curl failures retrying will not fix. */
static aclm_status email_fail_code(CURLcode rc, long smtp_code)
{
	if (rc == CURLE_LOGIN_DENIED || rc == CURLE_USE_SSL_FAILED || rc == CURLE_URL_MALFORMAT ||
	    rc == CURLE_UNSUPPORTED_PROTOCOL || (smtp_code >= 500 && smtp_code < 600))
		return ACLM_ERR_CONFIG;
	return ACLM_ERR_IO;
}

aclm_status notify__email_send(const struct notify_channel *ch, const struct notify_message *m,
			       const struct notify_opts *o, struct aclm_err *err)
{
	const char *url = notify__param(ch, "smtp_url");
	const char *tls = email_starttls(ch);
	const char *ca = notify__ca_file(ch, o);
	char errbuf[CURL_ERROR_SIZE] = "", shown[256], from[EMAIL_ADDR_MAX + 3];
	char addr[EMAIL_ADDR_MAX + 1];
	struct aclm_buf msg, password;
	struct email_upload up;
	struct curl_slist *rcpts = NULL;
	long use_ssl, smtp_code = 0;
	CURL *h = NULL;
	CURLcode rc;
	bool ok = true;
	aclm_status st;

	aclm_buf_init(&msg, EMAIL_MSG_MAX);
	aclm_buf_init(&password, NOTIFY__SECRET_MAX);
	notify__url_display(url, true, shown, sizeof(shown));
	st = notify__curl_init(err);
	if (st == ACLM_OK)
		st = notify__email_message(ch, m, aclm_time_now(), &msg, err);
	if (st == ACLM_OK)
		st = notify__secret_read(ch, "password_file", &password, err);
	if (st != ACLM_OK)
		goto out;
	email_addr(notify__param(ch, "from"), strlen(notify__param(ch, "from")), addr,
		   sizeof(addr));
	snprintf(from, sizeof(from), "<%s>", addr);
	h = curl_easy_init();
	if (h == NULL || email_rcpts(ch, &rcpts) != ACLM_OK) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "notify.%s: out of memory", ch->name);
		goto out;
	}
	/* smtps:// is TLS from the first byte; smtp:// upgrades by STARTTLS
	 * (RFC 3207) as configured. */
	use_ssl = email_is_smtps(ch) || strcmp(tls, "required") == 0 ? (long)CURLUSESSL_ALL
		  : strcmp(tls, "opportunistic") == 0			? (long)CURLUSESSL_TRY
									: (long)CURLUSESSL_NONE;
	up.msg = &msg;
	up.off = 0;
	ok &= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps") == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_USE_SSL, use_ssl) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, notify__timeout_ms(ch, o)) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_MAIL_FROM, from) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpts) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_READFUNCTION, email_read) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_READDATA, &up) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_UPLOAD, 1L) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)msg.len) == CURLE_OK;
	if (ca != NULL)
		ok &= curl_easy_setopt(h, CURLOPT_CAINFO, ca) == CURLE_OK;
	if (password.len > 0) {
		ok &= curl_easy_setopt(h, CURLOPT_USERNAME, notify__param(ch, "username")) ==
		      CURLE_OK;
		ok &= curl_easy_setopt(h, CURLOPT_PASSWORD, (const char *)password.data) ==
		      CURLE_OK;
	}
	if (!ok) {
		st = aclm_err_set(err, ACLM_ERR_INTERNAL, "notify.%s: libcurl options refused",
				  ch->name);
		goto out;
	}
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		char code[32] = "";

		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &smtp_code);
		if (smtp_code > 0)
			snprintf(code, sizeof(code), " (SMTP %ld)", smtp_code);
		st = aclm_err_set(err, email_fail_code(rc, smtp_code), "notify.%s: %s: %s%s",
				  ch->name, shown, errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc),
				  code);
	}
out:
	if (h != NULL) {
		/* libcurl keeps its own copy of the password until cleanup. */
		curl_easy_setopt(h, CURLOPT_PASSWORD, "");
		curl_easy_cleanup(h);
	}
	curl_slist_free_all(rcpts);
	aclm_buf_free_secret(&password);
	aclm_buf_free(&msg);
	return st;
}
