/* HTTP client on libcurl's easy interface: one handle per client (so
 * connections are reused), capped bodies and headers, the response headers
 * ACME needs (RFC 8555 §6.5, §7.1; RFC 8288; RFC 9110 §10.2.3). */
#include "http/http_int.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#if LIBCURL_VERSION_NUM < 0x075500
#error "libcurl 7.85 or later is required (CURLOPT_PROTOCOLS_STR)"
#endif

#define HTTP_MAX_BODY_DEFAULT (1024u * 1024u)
#define HTTP_MAX_HEADERS 100
#define HTTP_MAX_HEADER_LINE 8192
#define HTTP_MAX_LINKS 256
#define HTTP_MAX_NONCE 256
#define HTTP_MAX_RETRY_AFTER (24 * 3600)

struct http_client {
	CURL *curl;
	size_t max_body;
	char errbuf[CURL_ERROR_SIZE];
};

/* Per-request state shared by the write and header callbacks. */
struct http_req {
	const char *url;
	struct http_response *resp;
	size_t nheaders;
	aclm_status st;            /* why a callback aborted the transfer */
	char why[128];
};

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static CURLcode http_global_rc = CURLE_FAILED_INIT;

static void http_global_init(void)
{
	http_global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static bool http_setopts(struct http_client *c, const struct http_client_opts *o)
{
	bool verify = !o->insecure;
	const char *ua = o->user_agent != NULL ? o->user_agent : "aclm/" ACLM_VERSION;
	CURL *h = c->curl;
	bool ok = true;

	ok &= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK; /* threads */
	ok &= curl_easy_setopt(h, CURLOPT_USERAGENT, ua) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			       o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000L) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
			       o->timeout_ms > 0 ? o->timeout_ms : 30000L) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") == CURLE_OK;
	/* ACME reads Location itself (RFC 8555 §7.3, §7.4): never follow. */
	ok &= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L) == CURLE_OK;
	/* Known lengths over the cap fail before any byte is read. */
	ok &= curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_body) == CURLE_OK;
	if (o->ca_bundle != NULL)
		ok &= curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_bundle) == CURLE_OK;
	return ok;
}

aclm_status http_client_new(const struct http_client_opts *opts, struct http_client **out,
			    struct aclm_err *err)
{
	static const struct http_client_opts defaults = { 0 };
	const struct http_client_opts *o = opts != NULL ? opts : &defaults;
	struct http_client *c = NULL;
	aclm_status st = ACLM_OK;

	*out = NULL;
	pthread_once(&http_once, http_global_init);
	if (http_global_rc != CURLE_OK) {
		st = aclm_err_set(err, ACLM_ERR_INTERNAL, "libcurl initialisation failed: %s",
				  curl_easy_strerror(http_global_rc));
		goto out;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->curl = curl_easy_init()) == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "HTTP client: out of memory");
		goto out;
	}
	c->max_body = o->max_body > 0 ? o->max_body : HTTP_MAX_BODY_DEFAULT;
	if (!http_setopts(c, o)) {
		st = aclm_err_set(err, ACLM_ERR_UNSUPPORTED,
				  "HTTP client: libcurl %s lacks a required option",
				  curl_version_info(CURLVERSION_NOW)->version);
		goto out;
	}
	*out = c;
	c = NULL;
out:
	http_client_free(c);
	return st;
}

void http_client_free(struct http_client *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	free(c);
}

static void http_response_init(struct http_response *resp, size_t max_body)
{
	memset(resp, 0, sizeof(*resp));
	aclm_buf_init(&resp->body, max_body);
	resp->retry_after = -1;
}

/* Header fields belong to the final response only: a 1xx or proxy response
 * before it must not leave its headers behind. */
static void http_response_clear_headers(struct http_response *resp)
{
	free(resp->content_type);
	free(resp->location);
	free(resp->replay_nonce);
	for (size_t i = 0; i < resp->nlinks; i++) {
		free(resp->links[i].rel);
		free(resp->links[i].url);
	}
	free(resp->links);
	resp->content_type = resp->location = resp->replay_nonce = NULL;
	resp->links = NULL;
	resp->nlinks = 0;
	resp->retry_after = -1;
}

void http_response_free(struct http_response *resp)
{
	if (resp == NULL)
		return;
	http_response_clear_headers(resp);
	aclm_buf_free(&resp->body);
}

const char *http_response_link(const struct http_response *resp, const char *rel)
{
	for (size_t i = 0; i < resp->nlinks; i++) {
		if (strcasecmp(resp->links[i].rel, rel) == 0)
			return resp->links[i].url;
	}
	return NULL;
}

static size_t http_on_body(char *data, size_t size, size_t n, void *arg)
{
	struct http_req *r = arg;
	aclm_status st = aclm_buf_append(&r->resp->body, data, n);

	if (st == ACLM_OK)
		return n;
	r->st = st;
	snprintf(r->why, sizeof(r->why), st == ACLM_ERR_TOOBIG ?
		 "response body larger than the limit of %zu bytes" : "out of memory",
		 r->resp->body.max);
	return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
}

/* ref resolved against base (RFC 3986 §5), malloc'd; NULL when unusable. */
static char *http_resolve(const char *base, const char *ref)
{
	CURLU *u = curl_url();
	char *s = NULL, *out = NULL;

	if (u == NULL)
		goto out;
	if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_URL, ref, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK)
		goto out;
	out = strdup(s);
out:
	curl_free(s);
	curl_url_cleanup(u);
	return out;
}

static bool http_is_b64url(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return false;
	}
	return true;
}

/* RFC 9110 §10.2.3: delay-seconds or an HTTP-date; capped at a day; -1 when
 * it is neither. A date in the past means "now" (0). */
static int64_t http_parse_retry_after(const char *v)
{
	int64_t secs = -1;

	if (isdigit((unsigned char)v[0])) {
		const char *p = v;

		secs = 0;
		for (; isdigit((unsigned char)*p) && secs <= HTTP_MAX_RETRY_AFTER; p++)
			secs = secs * 10 + (*p - '0');
		while (isdigit((unsigned char)*p))
			p++; /* a huge value is only capped */
		if (*p != '\0')
			return -1;
	} else if (isalpha((unsigned char)v[0])) { /* every HTTP-date starts with a day name */
		time_t t = curl_getdate(v, NULL);

		if (t == -1)
			return -1;
		secs = (int64_t)t - (int64_t)time(NULL);
		if (secs < 0)
			secs = 0;
	}
	return secs > HTTP_MAX_RETRY_AFTER ? HTTP_MAX_RETRY_AFTER : secs;
}

static aclm_status http_add_link(struct http_response *resp, const char *base, const char *url,
				 const char *rel, size_t rel_len)
{
	struct http_link *n;
	char *abs = NULL, *relc = NULL;

	if (resp->nlinks >= HTTP_MAX_LINKS)
		return ACLM_OK; /* more are ignored, not fatal */
	abs = http_resolve(base, url);
	if (abs == NULL)
		return ACLM_OK; /* unusable reference: skip it */
	relc = strndup(rel, rel_len);
	n = realloc(resp->links, (resp->nlinks + 1) * sizeof(*n));
	if (relc == NULL || n == NULL) {
		free(abs);
		free(relc);
		return ACLM_ERR_NOMEM;
	}
	for (char *p = relc; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p); /* RFC 8288 §2.1.1: case-insensitive */
	resp->links = n;
	resp->links[resp->nlinks].url = abs;
	resp->links[resp->nlinks].rel = relc;
	resp->nlinks++;
	return ACLM_OK;
}

#define HTTP_OWS " \t"
#define HTTP_DELIM ";,=" HTTP_OWS

/* A parameter value (token or quoted-string, RFC 9110 §5.6.4) copied into
 * out without quotes and escapes; *pp moves past it. */
static void http_param_value(char **pp, char *out, size_t outlen)
{
	char *p = *pp;
	size_t n = 0;

	if (*p == '"') {
		for (p++; *p != '\0' && *p != '"'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			if (n + 1 < outlen)
				out[n++] = *p;
		}
		if (*p == '"')
			p++;
	} else {
		for (; *p != '\0' && strchr(HTTP_DELIM, *p) == NULL; p++) {
			if (n + 1 < outlen)
				out[n++] = *p;
		}
	}
	out[n] = '\0';
	*pp = p;
}

/* RFC 8288 §3: Link = #( "<" URI-Reference ">" *( OWS ";" OWS link-param ) );
 * each rel value may name several relation types separated by spaces.
 * Parsing stops at the first malformed element of the header. */
static aclm_status http_parse_link(struct http_response *resp, const char *base, char *v)
{
	char *p = v;
	char rel[HTTP_MAX_HEADER_LINE];
	aclm_status st = ACLM_OK;

	for (;;) {
		char *url, *end;
		bool have_rel = false;

		p += strspn(p, HTTP_OWS ",");
		if (*p != '<' || (end = strchr(p, '>')) == NULL)
			break;
		url = p + 1;
		*end = '\0';
		p = end + 1;
		rel[0] = '\0';
		while (p += strspn(p, HTTP_OWS), *p == ';') {
			size_t nlen;
			const char *name;
			char val[HTTP_MAX_HEADER_LINE];

			p += 1 + strspn(p + 1, HTTP_OWS);
			name = p;
			nlen = strcspn(p, HTTP_DELIM);
			p += nlen;
			p += strspn(p, HTTP_OWS);
			val[0] = '\0';
			if (*p == '=') {
				p += 1 + strspn(p + 1, HTTP_OWS);
				http_param_value(&p, val, sizeof(val));
			}
			/* §3.3: occurrences of rel after the first are ignored. */
			if (!have_rel && nlen == 3 && strncasecmp(name, "rel", 3) == 0) {
				have_rel = true;
				memcpy(rel, val, strlen(val) + 1);
			}
		}
		for (const char *t = rel; st == ACLM_OK && *(t += strspn(t, HTTP_OWS)) != '\0';) {
			size_t tlen = strcspn(t, HTTP_OWS);

			st = http_add_link(resp, base, url, t, tlen);
			t += tlen;
		}
		if (st != ACLM_OK || (*p != ',' && *p != '\0'))
			break;
	}
	return st;
}

static aclm_status http_set_str(char **dst, const char *v)
{
	char *s = strdup(v);

	if (s == NULL)
		return ACLM_ERR_NOMEM;
	free(*dst);
	*dst = s;
	return ACLM_OK;
}

static aclm_status http_on_field(struct http_response *resp, const char *base, const char *name,
				 char *v)
{
	if (strcasecmp(name, "content-type") == 0) {
		v[strcspn(v, ";" HTTP_OWS)] = '\0';
		for (char *p = v; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		return *v != '\0' ? http_set_str(&resp->content_type, v) : ACLM_OK;
	}
	if (strcasecmp(name, "location") == 0) {
		char *abs = http_resolve(base, v);

		if (abs != NULL) {
			free(resp->location);
			resp->location = abs;
		}
		return ACLM_OK;
	}
	if (strcasecmp(name, "link") == 0)
		return http_parse_link(resp, base, v);
	/* RFC 8555 §6.5.1: a nonce is base64url; anything else is not one. */
	if (strcasecmp(name, "replay-nonce") == 0) {
		if (strlen(v) <= HTTP_MAX_NONCE && http_is_b64url(v))
			return http_set_str(&resp->replay_nonce, v);
		return ACLM_OK;
	}
	if (strcasecmp(name, "retry-after") == 0)
		resp->retry_after = http_parse_retry_after(v);
	return ACLM_OK;
}

static bool http_is_status_line(const char *line, size_t len)
{
	return len >= 5 && memcmp(line, "HTTP/", 5) == 0;
}

aclm_status http__parse_header_line(struct http_response *resp, const char *request_url,
				    const char *data, size_t len)
{
	char line[HTTP_MAX_HEADER_LINE + 1];
	char *colon, *v, *end;

	if (len > HTTP_MAX_HEADER_LINE)
		return ACLM_ERR_TOOBIG;
	if (http_is_status_line(data, len)) {
		http_response_clear_headers(resp);
		return ACLM_OK;
	}
	memcpy(line, data, len);
	line[len] = '\0';
	colon = strchr(line, ':');
	if (colon == NULL)
		return ACLM_OK; /* the empty line, or an obsolete folded line: ignored */
	*colon = '\0';
	v = colon + 1 + strspn(colon + 1, HTTP_OWS);
	end = v + strlen(v);
	while (end > v && strchr(HTTP_OWS "\r\n", end[-1]) != NULL)
		*--end = '\0';
	return http_on_field(resp, request_url, line, v);
}

static size_t http_header_fail(struct http_req *r, aclm_status st, const char *why)
{
	r->st = st;
	snprintf(r->why, sizeof(r->why), "%s", why);
	return 0;
}

/* Called once per header line, status line and final empty line included.
 * A status line starts the count again; an over-long line is refused by the
 * parser (so it is not counted here first). */
static size_t http_on_header(char *data, size_t size, size_t n, void *arg)
{
	struct http_req *r = arg;
	aclm_status st;

	if (http_is_status_line(data, n))
		r->nheaders = 0;
	else if (n <= HTTP_MAX_HEADER_LINE && ++r->nheaders > HTTP_MAX_HEADERS)
		return http_header_fail(r, ACLM_ERR_TOOBIG, "too many response header lines");
	st = http__parse_header_line(r->resp, r->url, data, n);
	if (st != ACLM_OK)
		return http_header_fail(r, st, st == ACLM_ERR_TOOBIG ?
					"response header line too long" : "out of memory");
	return n;
}

static aclm_status http_set_method(CURL *h, const char *method, const void *body, size_t len)
{
	bool ok;

	if (strcmp(method, "GET") == 0) {
		ok = curl_easy_setopt(h, CURLOPT_HTTPGET, 1L) == CURLE_OK;
	} else if (strcmp(method, "HEAD") == 0) {
		ok = curl_easy_setopt(h, CURLOPT_NOBODY, 1L) == CURLE_OK;
	} else if (strcmp(method, "POST") == 0) {
		ok = curl_easy_setopt(h, CURLOPT_NOBODY, 0L) == CURLE_OK &&
		     curl_easy_setopt(h, CURLOPT_POST, 1L) == CURLE_OK &&
		     curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) == CURLE_OK &&
		     curl_easy_setopt(h, CURLOPT_POSTFIELDS, body != NULL ? body : "") == CURLE_OK;
	} else {
		return ACLM_ERR_INVALID;
	}
	return ok ? ACLM_OK : ACLM_ERR_INTERNAL;
}

static aclm_status http_curl_error(CURLcode rc, const struct http_client *c,
				   const struct http_req *r, const char *url, struct aclm_err *err)
{
	const char *reason = c->errbuf[0] != '\0' ? c->errbuf : curl_easy_strerror(rc);

	if (r->st != ACLM_OK)
		return aclm_err_set(err, r->st, "%s: %s", url, r->why);
	switch (rc) {
	case CURLE_FILESIZE_EXCEEDED:
		return aclm_err_set(err, ACLM_ERR_TOOBIG,
				    "%s: response body larger than the limit of %zu bytes", url,
				    c->max_body);
	case CURLE_PEER_FAILED_VERIFICATION:
		return aclm_err_set(err, ACLM_ERR_VERIFY,
				    "%s: TLS certificate verification failed: %s", url, reason);
	case CURLE_SSL_CACERT_BADFILE:
		return aclm_err_set(err, ACLM_ERR_CONFIG, "%s: cannot use the CA bundle: %s", url,
				    reason);
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return aclm_err_set(err, ACLM_ERR_INVALID, "%s: %s", url, reason);
	default:
		return aclm_err_set(err, ACLM_ERR_IO, "%s: %s", url, reason);
	}
}

static aclm_status http_headers(const char *content_type, struct curl_slist **out)
{
	char line[512];
	struct curl_slist *n;

	/* "Expect:" turns off 100-continue: ACME bodies are small. */
	n = curl_slist_append(NULL, "Expect:");
	if (n == NULL)
		return ACLM_ERR_NOMEM;
	*out = n;
	if (content_type == NULL)
		return ACLM_OK;
	if (strpbrk(content_type, "\r\n") != NULL ||
	    (size_t)snprintf(line, sizeof(line), "Content-Type: %s", content_type) >= sizeof(line))
		return ACLM_ERR_INVALID;
	n = curl_slist_append(*out, line);
	if (n == NULL)
		return ACLM_ERR_NOMEM;
	*out = n;
	return ACLM_OK;
}

aclm_status http_request(struct http_client *c, const char *method, const char *url,
			 const char *content_type, const void *body, size_t len,
			 struct http_response *resp, struct aclm_err *err)
{
	struct http_req r = { .url = url, .resp = resp };
	struct curl_slist *hdrs = NULL;
	CURL *h = c->curl;
	CURLcode rc;
	aclm_status st;

	http_response_init(resp, c->max_body);
	st = http_set_method(h, method, body, len);
	if (st != ACLM_OK) {
		aclm_err_set(err, st, "%s: unsupported HTTP method %s", url, method);
		goto out;
	}
	st = http_headers(content_type, &hdrs);
	if (st != ACLM_OK) {
		aclm_err_set(err, st, "%s: %s", url, st == ACLM_ERR_NOMEM ? "out of memory" :
			     "bad Content-Type for the request");
		goto out;
	}
	c->errbuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, http_on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		st = http_curl_error(rc, c, &r, url, err);
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	if (resp->body.data == NULL && aclm_buf_append(&resp->body, "", 0) != ACLM_OK)
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "%s: out of memory", url);
out:
	/* Nothing on the handle may point at this call's memory afterwards. */
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, NULL);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, NULL);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
	curl_slist_free_all(hdrs);
	return st;
}
