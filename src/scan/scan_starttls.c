/* STARTTLS preambles: per protocol, the plaintext exchange that turns a
 * connection into one where the TLS ClientHello comes next. Pure state
 * machines (bytes in, bytes to send out); the engine does the I/O. Every
 * line and frame is capped; anything after the final reply is refused, as
 * it would be read as TLS (the STARTTLS injection of CVE-2011-0411). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scan/scan.h"

#define BUF_MAX 16384              /* bytes held while waiting for a reply */
#define LINES_MAX 200              /* lines of one multi-line reply (SMTP, FTP, IMAP) */
#define EHLO_NAME "aclm.invalid"   /* RFC 5321 §4.1.1.1; RFC 6761 §6.4 */

enum step {
	ST_GREETING,               /* SMTP, IMAP, POP3, FTP: the server speaks first */
	ST_EHLO,                   /* SMTP: EHLO sent, the 250 list expected */
	ST_COMMAND,                /* STARTTLS / a1 STARTTLS / STLS / AUTH TLS / request sent */
	ST_FEATURES,               /* XMPP: stream header sent, features expected */
	ST_DONE,
	ST_FAILED
};

struct scan_starttls {
	enum scan_starttls_proto proto;
	enum step step;
	unsigned char buf[BUF_MAX];
	size_t len;
	unsigned lines;            /* lines of the reply being read */
	bool offered;              /* SMTP: STARTTLS seen in the EHLO reply */
	char out[512];
	size_t outlen;
	char error[256];
};

static const char *const proto_names[] = {
	[SCAN_STARTTLS_NONE] = "none", [SCAN_STARTTLS_SMTP] = "smtp", [SCAN_STARTTLS_IMAP] = "imap",
	[SCAN_STARTTLS_POP3] = "pop3", [SCAN_STARTTLS_FTP] = "ftp", [SCAN_STARTTLS_LDAP] = "ldap",
	[SCAN_STARTTLS_POSTGRES] = "postgres", [SCAN_STARTTLS_XMPP] = "xmpp",
};

const char *scan_starttls_name(enum scan_starttls_proto p)
{
	return (size_t)p < sizeof(proto_names) / sizeof(proto_names[0]) ? proto_names[p] : "?";
}

aclm_status scan_starttls_parse(const char *s, int *out, struct aclm_err *err)
{
	if (strcmp(s, "auto") == 0) {
		*out = SCAN_STARTTLS_AUTO;
		return ACLM_OK;
	}
	for (size_t i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++)
		if (strcmp(s, proto_names[i]) == 0) {
			*out = (int)i;
			return ACLM_OK;
		}
	return aclm_err_set(err, ACLM_ERR_INVALID, "--starttls %s: expected auto, smtp, imap, pop3, ftp, "
			    "ldap, postgres, xmpp or none", s);
}

enum scan_starttls_proto scan_starttls_for_port(int mode, uint16_t port)
{
	/* IANA well-known ports of the plaintext services with an upgrade;
	 * 465, 993, 995, 636 and 990 are implicit TLS: nothing to do. */
	static const struct { uint16_t port; enum scan_starttls_proto p; } known[] = {
		{ 25, SCAN_STARTTLS_SMTP }, { 587, SCAN_STARTTLS_SMTP }, { 143, SCAN_STARTTLS_IMAP },
		{ 110, SCAN_STARTTLS_POP3 }, { 21, SCAN_STARTTLS_FTP }, { 389, SCAN_STARTTLS_LDAP },
		{ 5432, SCAN_STARTTLS_POSTGRES }, { 5222, SCAN_STARTTLS_XMPP },
	};

	if (mode != SCAN_STARTTLS_AUTO)
		return mode >= 0 && mode <= SCAN_STARTTLS_XMPP ? (enum scan_starttls_proto)mode
							       : SCAN_STARTTLS_NONE;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (known[i].port == port)
			return known[i].p;
	return SCAN_STARTTLS_NONE;
}

static enum scan_starttls_result fail(struct scan_starttls *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static enum scan_starttls_result fail(struct scan_starttls *t, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(t->error, sizeof(t->error), "%s: ", scan_starttls_name(t->proto));

	va_start(ap, fmt);
	vsnprintf(t->error + n, sizeof(t->error) - (size_t)n, fmt, ap);
	va_end(ap);
	t->step = ST_FAILED;
	return SCAN_STARTTLS_FAIL;
}

static enum scan_starttls_result send_text(struct scan_starttls *t, enum step next, const char *text)
{
	t->outlen = strlen(text);
	memcpy(t->out, text, t->outlen);
	t->step = next;
	t->lines = 0;
	return SCAN_STARTTLS_SEND;
}

/* Printable text of a reply line for an error message. */
static void line_text(const unsigned char *p, size_t n, char *out, size_t cap)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k + 1 < cap; i++)
		if (p[i] != '\r' && p[i] != '\n')
			out[k++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	out[k] = '\0';
}

/* Drops the first n bytes of the buffer (a line handled). */
static void consume(struct scan_starttls *t, size_t n)
{
	memmove(t->buf, t->buf + n, t->len - n);
	t->len -= n;
}

/* After the final reply nothing may follow: the next bytes must be TLS. */
static enum scan_starttls_result done(struct scan_starttls *t)
{
	if (t->len > 0)
		return fail(t, "%zu unexpected bytes after the STARTTLS reply", t->len);
	t->step = ST_DONE;
	return SCAN_STARTTLS_DONE;
}

/* RFC 5321 §4.2, RFC 959 §4.2: "NNN-text" continues, "NNN text" (or
 * "NNN") ends a reply. *code is the 3 digits, *last whether it ended. */
static bool reply_line(const unsigned char *p, size_t n, int *code, bool *last)
{
	if (n < 3 || p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9')
		return false;
	*code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	*last = n == 3 || p[3] != '-';
	return true;
}

/* SMTP (RFC 3207 §4) and FTP (RFC 4217 §4): coded, possibly multi-line replies. */
static enum scan_starttls_result coded_line(struct scan_starttls *t, const unsigned char *p, size_t n)
{
	char text[128];
	int code = 0;
	bool last = false;

	line_text(p, n, text, sizeof(text));
	if (!reply_line(p, n, &code, &last))
		return fail(t, "not a reply line: '%s'", text);
	if (++t->lines > LINES_MAX)
		return fail(t, "reply longer than %d lines", LINES_MAX);
	if (t->step == ST_EHLO && code == 250 && n >= 12) {
		/* RFC 3207 §4: the EHLO keyword STARTTLS, alone on its line. */
		size_t k = 4;

		if (strncasecmp((const char *)p + k, "STARTTLS", 8) == 0 &&
		    (n == k + 8 || p[k + 8] == ' ' || p[k + 8] == '\r' || p[k + 8] == '\n'))
			t->offered = true;
	}
	if (!last)
		return SCAN_STARTTLS_NEED_MORE;
	if (t->step == ST_GREETING) {
		if (code != 220)
			return fail(t, "greeting %d: '%s'", code, text);
		if (t->proto == SCAN_STARTTLS_FTP)
			return send_text(t, ST_COMMAND, "AUTH TLS\r\n");
		return send_text(t, ST_EHLO, "EHLO " EHLO_NAME "\r\n");
	}
	if (t->step == ST_EHLO) {
		if (code != 250)
			return fail(t, "EHLO refused: '%s'", text);
		if (!t->offered)
			return fail(t, "STARTTLS not offered");
		return send_text(t, ST_COMMAND, "STARTTLS\r\n");
	}
	if (t->proto == SCAN_STARTTLS_FTP && code == 234) /* RFC 4217 §4.1 */
		return done(t);
	if (t->proto == SCAN_STARTTLS_SMTP && code == 220)
		return done(t);
	/* RFC 4217 §4.1 (502, 504, 534, 431) and RFC 3207 §4 (454, 501):
	 * the server will not do it. */
	if (code >= 500 || code == 454 || code == 431)
		return fail(t, "STARTTLS not offered ('%s')", text);
	return fail(t, "STARTTLS refused: '%s'", text);
}

/* IMAP (RFC 9051 §6.2.1, RFC 2595 §3.1). */
static enum scan_starttls_result imap_line(struct scan_starttls *t, const unsigned char *p, size_t n)
{
	char text[128];

	line_text(p, n, text, sizeof(text));
	if (++t->lines > LINES_MAX)
		return fail(t, "more than %d lines before the answer", LINES_MAX);
	if (t->step == ST_GREETING) {
		if (n >= 4 && strncasecmp((const char *)p, "* OK", 4) == 0)
			return send_text(t, ST_COMMAND, "a1 STARTTLS\r\n");
		return fail(t, "greeting: '%s'", text);
	}
	if (n >= 2 && p[0] == '*' && p[1] == ' ')
		return SCAN_STARTTLS_NEED_MORE; /* untagged data, e.g. a CAPABILITY */
	if (n >= 5 && strncasecmp((const char *)p, "a1 OK", 5) == 0)
		return done(t);
	if (n >= 5 && (strncasecmp((const char *)p, "a1 NO", 5) == 0 ||
		       strncasecmp((const char *)p, "a1 BA", 5) == 0))
		return fail(t, "STARTTLS not offered ('%s')", text);
	return fail(t, "unexpected answer: '%s'", text);
}

/* POP3 (RFC 2595 §4). */
static enum scan_starttls_result pop3_line(struct scan_starttls *t, const unsigned char *p, size_t n)
{
	char text[128];
	bool ok = n >= 3 && strncasecmp((const char *)p, "+OK", 3) == 0;

	line_text(p, n, text, sizeof(text));
	if (t->step == ST_GREETING)
		return ok ? send_text(t, ST_COMMAND, "STLS\r\n") : fail(t, "greeting: '%s'", text);
	if (ok)
		return done(t);
	if (n >= 4 && strncasecmp((const char *)p, "-ERR", 4) == 0)
		return fail(t, "STARTTLS not offered ('%s')", text);
	return fail(t, "unexpected answer: '%s'", text);
}

/* Line protocols: hands each complete line to the protocol's handler. */
static enum scan_starttls_result lines(struct scan_starttls *t)
{
	enum scan_starttls_result r = SCAN_STARTTLS_NEED_MORE;

	while (r == SCAN_STARTTLS_NEED_MORE && t->step != ST_DONE && t->step != ST_FAILED) {
		unsigned char *nl = memchr(t->buf, '\n', t->len);
		size_t n;

		if (nl == NULL)
			return t->len >= 1024 ? fail(t, "a reply line longer than 1024 bytes") : r;
		n = (size_t)(nl - t->buf) + 1;
		/* The line is copied out: the handler may consume the buffer. */
		{
			unsigned char line[1024];

			if (n > sizeof(line))
				return fail(t, "a reply line longer than 1024 bytes");
			memcpy(line, t->buf, n);
			consume(t, n);
			while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
				n--;
			if (t->proto == SCAN_STARTTLS_IMAP)
				r = imap_line(t, line, n);
			else if (t->proto == SCAN_STARTTLS_POP3)
				r = pop3_line(t, line, n);
			else
				r = coded_line(t, line, n);
		}
		if (r == SCAN_STARTTLS_SEND && t->len > 0)
			/* RFC 3207 §4.2 / RFC 2595: no pipelining across the upgrade. */
			return fail(t, "%zu unexpected bytes before our command", t->len);
	}
	return r;
}

/* ---- LDAP (RFC 4511 §4.14): BER ---- */

/* A BER tag-length header at p: *hdr bytes, *len content bytes; false when
 * more bytes are needed; *bad when it cannot be valid (long form over 4
 * bytes, indefinite length). */
static bool ber_header(const unsigned char *p, size_t n, unsigned char tag, size_t *hdr, size_t *len,
		       bool *bad)
{
	size_t k;

	*bad = false;
	if (n < 2)
		return false;
	if (p[0] != tag) {
		*bad = true;
		return true;
	}
	if (p[1] < 0x80) {
		*hdr = 2;
		*len = p[1];
		return true;
	}
	k = p[1] & 0x7f;
	if (k == 0 || k > 3) {
		*bad = true;
		return true;
	}
	if (n < 2 + k)
		return false;
	*len = 0;
	for (size_t i = 0; i < k; i++)
		*len = *len << 8 | p[2 + i];
	*hdr = 2 + k;
	return true;
}

static enum scan_starttls_result ldap_reply(struct scan_starttls *t)
{
	size_t hdr = 0, len = 0, off, h2 = 0, l2 = 0;
	bool bad = false;
	const unsigned char *p = t->buf;
	unsigned long code = 0;

	if (!ber_header(p, t->len, 0x30, &hdr, &len, &bad))
		return SCAN_STARTTLS_NEED_MORE;
	if (bad || hdr + len > BUF_MAX)
		return fail(t, "not an LDAPMessage");
	if (t->len < hdr + len)
		return SCAN_STARTTLS_NEED_MORE;
	off = hdr;
	/* messageID INTEGER: ours is 1 (0 is a Notice of Disconnection, §4.4.1). */
	if (off + 3 > hdr + len || p[off] != 0x02 || p[off + 1] != 1 || p[off + 2] != 1)
		return fail(t, "a reply to another request (messageID)");
	off += 3;
	/* [APPLICATION 24] ExtendedResponse, then resultCode ENUMERATED. */
	if (!ber_header(p + off, hdr + len - off, 0x78, &h2, &l2, &bad) || bad ||
	    off + h2 + l2 > hdr + len)
		return fail(t, "not an ExtendedResponse");
	off += h2;
	if (off + 2 > hdr + len || p[off] != 0x0a || p[off + 1] < 1 || p[off + 1] > 4 ||
	    off + 2 + p[off + 1] > hdr + len)
		return fail(t, "no resultCode");
	for (size_t i = 0; i < p[off + 1]; i++)
		code = code << 8 | p[off + 2 + i];
	consume(t, hdr + len);
	if (code == 0)
		return done(t);
	/* protocolError (2): the server does not know the StartTLS operation. */
	if (code == 2)
		return fail(t, "STARTTLS not offered (resultCode 2)");
	return fail(t, "StartTLS refused: resultCode %lu", code);
}

/* ---- XMPP (RFC 6120 §5.4) ---- */

static const unsigned char *find(const unsigned char *p, size_t n, const char *s)
{
	return memmem(p, n, s, strlen(s));
}

static enum scan_starttls_result xmpp_reply(struct scan_starttls *t)
{
	const unsigned char *end;

	if (find(t->buf, t->len, "<stream:error") != NULL)
		return fail(t, "stream error from the server");
	if (t->step == ST_FEATURES) {
		const unsigned char *f = find(t->buf, t->len, "<stream:features");

		if (f == NULL)
			return SCAN_STARTTLS_NEED_MORE;
		end = find(f, t->len - (size_t)(f - t->buf), "</stream:features>");
		if (end == NULL) { /* <stream:features/> is empty */
			const unsigned char *gt = memchr(f, '>', t->len - (size_t)(f - t->buf));

			if (gt == NULL || gt[-1] != '/')
				return SCAN_STARTTLS_NEED_MORE;
			end = gt;
		}
		/* §5.4.1: <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>. */
		if (find(f, (size_t)(end - f), "<starttls") == NULL ||
		    find(f, (size_t)(end - f), "urn:ietf:params:xml:ns:xmpp-tls") == NULL)
			return fail(t, "STARTTLS not offered");
		t->len = 0;
		return send_text(t, ST_COMMAND, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
	}
	if (find(t->buf, t->len, "<failure") != NULL)
		return fail(t, "STARTTLS refused (<failure/>)");
	end = find(t->buf, t->len, "<proceed");
	if (end == NULL)
		return SCAN_STARTTLS_NEED_MORE;
	end = memchr(end, '>', t->len - (size_t)(end - t->buf));
	if (end == NULL)
		return SCAN_STARTTLS_NEED_MORE;
	consume(t, (size_t)(end - t->buf) + 1);
	return done(t);
}

/* ---- the interface ---- */

struct scan_starttls *scan_starttls_new(enum scan_starttls_proto proto)
{
	struct scan_starttls *t = calloc(1, sizeof(*t));

	if (t != NULL)
		t->proto = proto;
	return t;
}

void scan_starttls_free(struct scan_starttls *t)
{
	free(t);
}

enum scan_starttls_result scan_starttls_start(struct scan_starttls *t, const char *domain)
{
	static const unsigned char ldap_starttls[] = {
		/* RFC 4511 §4.14.1: LDAPMessage { messageID 1, ExtendedRequest
		 * { requestName [0] "1.3.6.1.4.1.1466.20037" } } */
		0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16, '1', '.', '3', '.', '6', '.',
		'1', '.', '4', '.', '1', '.', '1', '4', '6', '6', '.', '2', '0', '0', '3', '7',
	};
	/* PostgreSQL protocol 3, SSLRequest: length 8, code 80877103. */
	static const unsigned char pg_sslrequest[] = { 0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f };
	int n;

	switch (t->proto) {
	case SCAN_STARTTLS_LDAP:
		memcpy(t->out, ldap_starttls, sizeof(ldap_starttls));
		t->outlen = sizeof(ldap_starttls);
		t->step = ST_COMMAND;
		return SCAN_STARTTLS_SEND;
	case SCAN_STARTTLS_POSTGRES:
		memcpy(t->out, pg_sslrequest, sizeof(pg_sslrequest));
		t->outlen = sizeof(pg_sslrequest);
		t->step = ST_COMMAND;
		return SCAN_STARTTLS_SEND;
	case SCAN_STARTTLS_XMPP:
		/* RFC 6120 §4.7: the stream header, to the server's domain. */
		if (domain == NULL || domain[0] == '\0' || strpbrk(domain, "'<>&\"") != NULL)
			return fail(t, "no usable domain for the stream header");
		n = snprintf(t->out, sizeof(t->out),
			     "<?xml version='1.0'?><stream:stream to='%s' version='1.0' "
			     "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
			     domain);
		if (n < 0 || (size_t)n >= sizeof(t->out))
			return fail(t, "domain too long");
		t->outlen = (size_t)n;
		t->step = ST_FEATURES;
		return SCAN_STARTTLS_SEND;
	case SCAN_STARTTLS_NONE:
		t->step = ST_DONE;
		return SCAN_STARTTLS_DONE;
	default:
		t->step = ST_GREETING;
		return SCAN_STARTTLS_NEED_MORE;
	}
}

const unsigned char *scan_starttls_output(const struct scan_starttls *t, size_t *len)
{
	*len = t->outlen;
	return (const unsigned char *)t->out;
}

const char *scan_starttls_error(const struct scan_starttls *t)
{
	return t->error;
}

bool scan_starttls_not_offered(const struct scan_starttls *t)
{
	return strstr(t->error, "STARTTLS not offered") != NULL;
}

enum scan_starttls_result scan_starttls_feed(struct scan_starttls *t, const unsigned char *data,
					     size_t len)
{
	if (t->step == ST_FAILED)
		return SCAN_STARTTLS_FAIL;
	if (t->step == ST_DONE)
		return len > 0 ? fail(t, "unexpected bytes after the STARTTLS reply") : SCAN_STARTTLS_DONE;
	if (len > BUF_MAX - t->len)
		return fail(t, "the server sent more than %d bytes without the expected reply", BUF_MAX);
	memcpy(t->buf + t->len, data, len);
	t->len += len;
	t->outlen = 0;
	switch (t->proto) {
	case SCAN_STARTTLS_LDAP:
		return ldap_reply(t);
	case SCAN_STARTTLS_POSTGRES:
		/* 'S': go ahead; 'N': no SSL; anything else (an ErrorResponse
		 * 'E' from a pre-7.0 server) is not an answer to the request. */
		if (t->buf[0] == 'S') {
			consume(t, 1);
			return done(t);
		}
		if (t->buf[0] == 'N')
			return fail(t, "STARTTLS not offered (the server answered 'N')");
		return fail(t, "unexpected answer to SSLRequest (0x%02x)", t->buf[0]);
	case SCAN_STARTTLS_XMPP:
		return xmpp_reply(t);
	default:
		return lines(t);
	}
}
