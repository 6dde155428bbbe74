/* The validation authority: checks a request, dispatches to the challenge
 * (http-01 and dns-01 here, tls-alpn-01 in ca_va_tls.c), then CAA; and the
 * target addresses every method connects to (RFC 8555 §8, RFC 8738). */
#include "ca/ca_va_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "acme/acme.h"

#define VA_BODY_MAX 8192           /* http-01 response bodies read (RFC 8555 §8.3) */
#define VA_REDIRECTS_MAX 10
#define VA_URL_MAX 2048
#define VA_TOKEN_MAX 256
#define VA_KEYAUTH_MAX 1024
#define VA_USER_AGENT "aclm-va"
#define VA_WELL_KNOWN "/.well-known/acme-challenge/"

static pthread_once_t va_once = PTHREAD_ONCE_INIT;
static CURLcode va_curl_rc = CURLE_FAILED_INIT;

static void va_curl_init(void)
{
	va_curl_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- names and addresses ---- */

static bool va_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* A host name of LDH labels (RFC 1123 §2.1), 253 characters at most, no
 * final dot, not all-numeric (that would be an IP address). */
static bool va_dns_name_ok(const char *name)
{
	size_t len = strlen(name), label = 0;
	bool alpha = false;

	if (len == 0 || len > DNS_NAME_MAX)
		return false;
	for (size_t i = 0; i <= len; i++) {
		char ch = name[i];

		if (ch == '.' || ch == '\0') {
			if (label == 0 || label > 63 || name[i - 1] == '-' || name[i - label] == '-')
				return false;
			label = 0;
		} else if (va_alnum(ch) || ch == '-') {
			alpha = alpha || (ch < '0' || ch > '9');
			label++;
		} else {
			return false;
		}
	}
	return alpha;
}

static bool va_ip_parse(const char *s, struct dns_addr *a)
{
	*a = (struct dns_addr){ .family = AF_INET };
	if (inet_pton(AF_INET, s, a->ip) == 1)
		return true;
	a->family = AF_INET6;
	return inet_pton(AF_INET6, s, a->ip) == 1;
}

/* Addresses no validation may reach in production: this host, "any",
 * multicast, broadcast, link-local (IPv4-mapped IPv6 included). */
static bool va_addr_forbidden(const struct dns_addr *a)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const unsigned char zero[16] = { 0 };
	const unsigned char *v4 = a->family == AF_INET ? a->ip : NULL;

	if (a->family == AF_INET6 && memcmp(a->ip, mapped, 12) == 0)
		v4 = a->ip + 12;
	if (v4 != NULL)
		return v4[0] == 0 || v4[0] == 127 || (v4[0] == 169 && v4[1] == 254) ||
		       v4[0] >= 224; /* multicast, reserved, broadcast */
	return memcmp(a->ip, zero, 15) == 0 || /* :: and ::1 */
	       a->ip[0] == 0xff || (a->ip[0] == 0xfe && (a->ip[1] & 0xc0) == 0x80);
}

/* The ports are the real 80/443: a deployed VA, not a test pointing it at
 * its own loopback servers. */
static bool va_is_production(const struct ca_va_config *c)
{
	return c->http01_port == 80 && c->tlsalpn01_port == 443;
}

static void va_addr_text(const struct dns_addr *a, char *buf, size_t len)
{
	if (inet_ntop(a->family, a->ip, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
}

/* ca__va_addrs; a name's lookup also asks caa's levels in the same round
 * trip (caa->asked then set) when caa is not NULL. */
static aclm_status va_addrs(const struct ca_va_config *c, const char *host, long long deadline,
			    struct dns_addr *out, size_t max, size_t *n, struct ca__caa_levels *caa,
			    const char **problem, struct aclm_err *err)
{
	long long left = deadline - dns_now_ms();
	char text[INET6_ADDRSTRLEN];
	aclm_status st = ACLM_OK;

	*n = 0;
	if (max > 0 && va_ip_parse(host, &out[0])) {
		*n = 1;
	} else if (left <= 0) {
		*problem = "connection";
		return aclm_err_set(err, ACLM_ERR_IO, "%s: out of time before the lookup", host);
	} else {
		st = dns_resolve_addrs_also(c->dns_server, host, (long)left, out, max, n, NULL,
					    caa != NULL ? caa->q : NULL, caa != NULL ? caa->n : 0,
					    err);
		if (st != ACLM_OK) {
			*problem = st == ACLM_ERR_CONFIG ? NULL : "dns";
			return st;
		}
		if (caa != NULL)
			caa->asked = true;
	}
	for (size_t i = 0; i < *n && va_is_production(c); i++) {
		if (!va_addr_forbidden(&out[i]))
			continue;
		va_addr_text(&out[i], text, sizeof(text));
		*problem = "rejectedIdentifier";
		return aclm_err_set(err, ACLM_ERR_VERIFY, "%s is at %s, an address the CA does not "
				    "connect to", host, text);
	}
	return ACLM_OK;
}

aclm_status ca__va_addrs(const struct ca_va_config *c, const char *host, long long deadline,
			 struct dns_addr *out, size_t max, size_t *n, const char **problem,
			 struct aclm_err *err)
{
	return va_addrs(c, host, deadline, out, max, n, NULL, problem, err);
}

/* ---- the thread's libcurl handle ---- */

/* A libcurl handle and the pin it left in its DNS cache. */
struct va_curl {
	CURL *h;
	char pinned[DNS_NAME_MAX + 8]; /* "HOST:PORT", "" when none */
};

/* A VA thread keeps one handle between validations (ca__va_thread_begin):
 * curl_easy_perform on a new handle makes a multi handle (a socketpair, a
 * connection cache) and curl_easy_cleanup tears it down again. */
static __thread struct {
	bool on;
	struct va_curl cu;
} va_tc;

void ca__va_thread_begin(void)
{
	dns_thread_cache_begin();
	va_tc.on = true;
}

void ca__va_thread_end(void)
{
	if (va_tc.cu.h != NULL)
		curl_easy_cleanup(va_tc.cu.h);
	memset(&va_tc, 0, sizeof(va_tc));
	dns_thread_cache_end();
}

/* ---- http-01 (RFC 8555 §8.3) ---- */

struct va_http {
	const struct ca_va_config *c;
	long long deadline;
	struct va_curl *cu;
	CURL *h;
	struct ca__caa_levels *caa; /* asked along with the first lookup; NULL: not */
	struct curl_slist *resolve;
	char url[VA_URL_MAX];
	char host[DNS_NAME_MAX + 1]; /* a lowercase name or an IP, without brackets */
	int port;
	long code;
	char errbuf[CURL_ERROR_SIZE];
	size_t len;
	bool over;
	char body[VA_BODY_MAX];
};

static size_t va_on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct va_http *v = arg;
	size_t len = size * nmemb;

	if (len > sizeof(v->body) - v->len) {
		v->over = true;
		return 0; /* aborts the transfer */
	}
	memcpy(v->body + v->len, data, len);
	v->len += len;
	return len;
}

/* CURLOPT_RESOLVE "NAME:PORT:ADDR,ADDR...": curl connects to the addresses
 * our resolver found (n of a; none for an IP literal) and never asks the
 * system's. curl keeps such a pin in the handle's DNS cache for good, so
 * the list first removes the previous GET's ("-NAME:PORT"): a kept handle
 * holds at most one pin, and each GET of a name pins it afresh. */
static aclm_status va_pin(struct va_http *v, const struct dns_addr *a, size_t n,
			  struct aclm_err *err)
{
	char entry[DNS_NAME_MAX + 16 + DNS_ADDRS_MAX * (INET6_ADDRSTRLEN + 3)], text[INET6_ADDRSTRLEN];
	size_t off;
	struct curl_slist *l;

	curl_slist_free_all(v->resolve);
	v->resolve = NULL;
	if (v->cu->pinned[0] != '\0') {
		snprintf(entry, sizeof(entry), "-%s", v->cu->pinned);
		if ((v->resolve = curl_slist_append(NULL, entry)) == NULL)
			return aclm_err_set(err, ACLM_ERR_NOMEM, "http-01: out of memory");
		v->cu->pinned[0] = '\0';
	}
	if (n == 0)
		return ACLM_OK;
	off = (size_t)snprintf(entry, sizeof(entry), "%s:%d:", v->host, v->port);
	for (size_t i = 0; i < n && off < sizeof(entry); i++) {
		va_addr_text(&a[i], text, sizeof(text));
		off += (size_t)snprintf(entry + off, sizeof(entry) - off,
					a[i].family == AF_INET6 ? "%s[%s]" : "%s%s", i > 0 ? "," : "",
					text);
	}
	if (off >= sizeof(entry) || (l = curl_slist_append(v->resolve, entry)) == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "http-01: out of memory");
	v->resolve = l;
	/* curl loads the list at the start of the transfer, which this GET
	 * now makes; the next GET on the handle removes this pin. */
	snprintf(v->cu->pinned, sizeof(v->cu->pinned), "%s:%d", v->host, v->port);
	return ACLM_OK;
}

static bool va_setopts(struct va_http *v, long left)
{
	CURL *h = v->h;
	bool ok = true;

	curl_easy_reset(h);
	ok &= curl_easy_setopt(h, CURLOPT_URL, v->url) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, v->errbuf) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK; /* threads */
	ok &= curl_easy_setopt(h, CURLOPT_PROXY, "") == CURLE_OK; /* not from the environment */
	ok &= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
	/* A kept handle: every GET on a connection of its own, closed after;
	 * no TLS session carried from one validation to the next; nothing in
	 * its DNS cache but our pin (curl caches IP literals too: expired at
	 * once, not kept for 60 s). */
	ok &= curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_SSL_SESSIONID_CACHE, 0L) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_DNS_CACHE_TIMEOUT, 0L) == CURLE_OK;
	/* Redirects are followed by us, under §8.3's rules. */
	ok &= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_USERAGENT, VA_USER_AGENT) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, left) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, left) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) == CURLE_OK;
	/* §8.3: an https redirect target's certificate is not checked. */
	ok &= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)VA_BODY_MAX) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, va_on_body) == CURLE_OK;
	ok &= curl_easy_setopt(h, CURLOPT_WRITEDATA, v) == CURLE_OK;
	if (v->resolve != NULL)
		ok &= curl_easy_setopt(h, CURLOPT_RESOLVE, v->resolve) == CURLE_OK;
	return ok;
}

static const char *va_curl_problem(CURLcode rc)
{
	switch (rc) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
		return "tls";
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		return "incorrectResponse";
	default: /* refused, timed out, reset, nothing or garbage sent back */
		return "connection";
	}
}

/* One GET of v->url, its host pinned to the addresses found for it. */
static aclm_status va_http_get(struct va_http *v, const char **problem, struct aclm_err *err)
{
	struct dns_addr addrs[DNS_ADDRS_MAX];
	size_t n = 0;
	long long left;
	struct dns_addr lit;
	CURLcode rc;
	aclm_status st = va_addrs(v->c, v->host, v->deadline, addrs, DNS_ADDRS_MAX, &n,
				  v->caa != NULL && !v->caa->asked ? v->caa : NULL, problem, err);

	if (st != ACLM_OK)
		return st;
	left = v->deadline - dns_now_ms();
	v->len = 0;
	v->over = false;
	v->errbuf[0] = '\0';
	if (left <= 0) {
		*problem = "connection";
		return aclm_err_set(err, ACLM_ERR_IO, "GET %s: out of time", v->url);
	}
	/* Pinned only when the GET is sure to be made: the list goes to curl
	 * with it (va_pin). */
	if ((st = va_pin(v, addrs, va_ip_parse(v->host, &lit) ? 0 : n, err)) != ACLM_OK)
		return st;
	if (!va_setopts(v, (long)left))
		return aclm_err_set(err, ACLM_ERR_UNSUPPORTED, "http-01: libcurl %s lacks a "
				    "required option", curl_version_info(CURLVERSION_NOW)->version);
	rc = curl_easy_perform(v->h);
	if (rc != CURLE_OK) {
		*problem = va_curl_problem(rc);
		if (v->over || rc == CURLE_FILESIZE_EXCEEDED)
			return aclm_err_set(err, ACLM_ERR_TOOBIG, "GET %s: response body over %d "
					    "bytes", v->url, VA_BODY_MAX);
		return aclm_err_set(err, ACLM_ERR_IO, "GET %s: %s", v->url,
				    v->errbuf[0] != '\0' ? v->errbuf : curl_easy_strerror(rc));
	}
	curl_easy_getinfo(v->h, CURLINFO_RESPONSE_CODE, &v->code);
	return ACLM_OK;
}

static bool va_is_redirect(long code)
{
	return code == 301 || code == 302 || code == 303 || code == 307 || code == 308;
}

/* The host of a redirect target: an IP literal (brackets removed) or a
 * host name, lowercased into v->host. */
static bool va_redirect_host(struct va_http *v, const char *host)
{
	size_t len = strlen(host);
	struct dns_addr a;

	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof(v->host))
		return false;
	for (size_t i = 0; i < len; i++)
		v->host[i] = (char)(host[i] >= 'A' && host[i] <= 'Z' ? host[i] - 'A' + 'a' : host[i]);
	v->host[len] = '\0';
	return va_ip_parse(v->host, &a) || va_dns_name_ok(v->host);
}

/* §8.3 (as Let's Encrypt applies it): a redirect may go to http:// on the
 * http-01 port or https:// on the tls-alpn-01 port, to a host we resolve
 * ourselves; v->url, host and port become the target's. */
static aclm_status va_redirect(struct va_http *v, const char *loc, const char **problem,
			       struct aclm_err *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *url = NULL;
	int want = 0;
	aclm_status st = ACLM_OK;

	*problem = "connection";
	if (u == NULL || curl_url_set(u, CURLUPART_URL, loc, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "redirect to \"%.200s\": not a URL", loc);
		goto out;
	}
	if (strcmp(scheme, "http") == 0)
		want = v->c->http01_port;
	else if (strcmp(scheme, "https") == 0)
		want = v->c->tlsalpn01_port;
	if (want == 0 || atoi(port) != want) {
		st = aclm_err_set(err, ACLM_ERR_VERIFY, "redirect to \"%.200s\": only http:// on "
				  "port %d or https:// on port %d is followed", loc,
				  v->c->http01_port, v->c->tlsalpn01_port);
		goto out;
	}
	if (!va_redirect_host(v, host)) {
		st = aclm_err_set(err, ACLM_ERR_VERIFY, "redirect to \"%.200s\": the host is "
				  "neither a DNS name nor an IP address", loc);
		goto out;
	}
	v->port = want;
	if (host[0] != '[' && curl_url_set(u, CURLUPART_HOST, v->host, 0) != CURLUE_OK) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "http-01: out of memory");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK || strlen(url) >= sizeof(v->url)) {
		st = aclm_err_set(err, ACLM_ERR_TOOBIG, "redirect to \"%.200s\": URL too long", loc);
		goto out;
	}
	memcpy(v->url, url, strlen(url) + 1);
	*problem = NULL;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(url);
	curl_url_cleanup(u);
	return st;
}

/* §8.3: the body, trailing whitespace ignored, is the key authorization. */
static aclm_status va_http_body(const struct va_http *v, const char *keyauth,
				const char **problem, struct aclm_err *err)
{
	size_t len = v->len, klen = strlen(keyauth), show;
	char head[41];

	while (len > 0 && (v->body[len - 1] == ' ' || v->body[len - 1] == '\t' ||
			   v->body[len - 1] == '\r' || v->body[len - 1] == '\n'))
		len--;
	if (len == klen && memcmp(v->body, keyauth, klen) == 0)
		return ACLM_OK;
	/* The start of what came back, printable, for the problem detail. */
	show = len < sizeof(head) - 1 ? len : sizeof(head) - 1;
	for (size_t i = 0; i < show; i++)
		head[i] = v->body[i] >= 0x20 && v->body[i] < 0x7f && v->body[i] != '"' ?
			  v->body[i] : '?';
	head[show] = '\0';
	*problem = "incorrectResponse";
	return aclm_err_set(err, ACLM_ERR_VERIFY, "GET %s: the body (%zu bytes, \"%s%s\") is "
			    "not the key authorization", v->url, v->len, head, len > show ? "..." : "");
}

/* caa (NULL: none) is asked along with the identifier's addresses. */
static aclm_status va_http01(const struct ca_va_config *c, const struct ca_va_request *r,
			     long long deadline, struct ca__caa_levels *caa, const char **problem,
			     struct aclm_err *err)
{
	struct va_http *v = calloc(1, sizeof(*v));
	struct va_curl own = { 0 };
	char *loc = NULL;
	struct dns_addr a;
	aclm_status st = ACLM_OK;

	pthread_once(&va_once, va_curl_init);
	if (v != NULL) {
		v->cu = va_tc.on ? &va_tc.cu : &own;
		if (v->cu->h == NULL && va_curl_rc == CURLE_OK)
			v->cu->h = curl_easy_init();
		v->h = v->cu->h;
	}
	if (v == NULL || v->h == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "http-01: cannot set up libcurl");
		goto out;
	}
	v->c = c;
	v->deadline = deadline;
	v->caa = caa;
	v->port = c->http01_port;
	snprintf(v->host, sizeof(v->host), "%s", r->ident_value);
	for (char *p = v->host; *p != '\0'; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	snprintf(v->url, sizeof(v->url), va_ip_parse(v->host, &a) && a.family == AF_INET6 ?
		 "http://[%s]:%d" VA_WELL_KNOWN "%s" : "http://%s:%d" VA_WELL_KNOWN "%s",
		 v->host, v->port, r->token);
	for (int hops = 0;; hops++) {
		if ((st = va_http_get(v, problem, err)) != ACLM_OK)
			goto out;
		if (!va_is_redirect(v->code))
			break;
		if (hops == VA_REDIRECTS_MAX) {
			*problem = "connection";
			st = aclm_err_set(err, ACLM_ERR_VERIFY, "GET %s: more than %d redirects",
					  v->url, VA_REDIRECTS_MAX);
			goto out;
		}
		if (curl_easy_getinfo(v->h, CURLINFO_REDIRECT_URL, &loc) != CURLE_OK || loc == NULL) {
			*problem = "unauthorized";
			st = aclm_err_set(err, ACLM_ERR_VERIFY, "GET %s: HTTP %ld without a Location",
					  v->url, v->code);
			goto out;
		}
		if ((st = va_redirect(v, loc, problem, err)) != ACLM_OK)
			goto out;
	}
	if (v->code != 200) {
		*problem = "unauthorized";
		st = aclm_err_set(err, ACLM_ERR_VERIFY, "GET %s: HTTP %ld", v->url, v->code);
		goto out;
	}
	st = va_http_body(v, r->key_authorization, problem, err);
out:
	/* A kept handle lets go of v's buffers and list before they are freed. */
	if (v != NULL && v->h != NULL && v->cu != &own)
		curl_easy_reset(v->h);
	if (own.h != NULL)
		curl_easy_cleanup(own.h);
	if (v != NULL)
		curl_slist_free_all(v->resolve);
	free(v);
	return st;
}

/* ---- dns-01 (RFC 8555 §8.4) ---- */

static aclm_status va_dns01(const struct ca_va_config *c, const struct ca_va_request *r,
			    long long deadline, const char **problem, struct aclm_err *err)
{
	char name[sizeof("_acme-challenge.") + DNS_NAME_MAX], want[44];
	struct dns_txt txt = { 0 };
	long long left = deadline - dns_now_ms();
	bool nxdomain = false, found = false;
	aclm_status st = acme_dns01_txt(r->key_authorization, want, err);

	if (st != ACLM_OK)
		goto out;
	snprintf(name, sizeof(name), "_acme-challenge.%s", r->ident_value);
	st = dns_query_txt(c->dns_server, name, (long)(left > 0 ? left : 1), &txt, &nxdomain, err);
	if (st == ACLM_ERR_NOTFOUND && !nxdomain) {
		*problem = "unauthorized";
		st = aclm_err_set(err, ACLM_ERR_VERIFY, "no TXT record at %s", name);
	} else if (st != ACLM_OK) {
		*problem = st == ACLM_ERR_CONFIG ? NULL : "dns";
	}
	if (st != ACLM_OK)
		goto out;
	for (size_t i = 0; i < txt.n && !found; i++)
		found = txt.len[i] == strlen(want) && memcmp(txt.rec[i], want, txt.len[i]) == 0;
	if (!found) {
		*problem = "incorrectResponse";
		st = aclm_err_set(err, ACLM_ERR_VERIFY, "%zu TXT record%s at %s, none is "
				  "base64url(SHA-256(key authorization))", txt.total,
				  txt.total == 1 ? "" : "s", name);
	}
out:
	dns_txt_free(&txt);
	return st;
}

/* ---- the request ---- */

/* RFC 4648 §5 characters only: the token goes into a URL path. */
static bool va_token_ok(const char *t)
{
	size_t len = t != NULL ? strlen(t) : 0;

	if (len == 0 || len > VA_TOKEN_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!va_alnum(t[i]) && t[i] != '-' && t[i] != '_')
			return false;
	return true;
}

static aclm_status va_request_check(const struct ca_va_request *r, const char **problem,
				    struct aclm_err *err)
{
	struct dns_addr a;
	bool ip;

	if (r->challenge == NULL || r->ident_type == NULL || r->ident_value == NULL ||
	    !va_token_ok(r->token) || r->key_authorization == NULL ||
	    strlen(r->key_authorization) > VA_KEYAUTH_MAX)
		return aclm_err_set(err, ACLM_ERR_INVALID, "validation request without a challenge, "
				    "identifier, valid token or key authorization");
	ip = strcmp(r->ident_type, "ip") == 0;
	if (!ip && strcmp(r->ident_type, "dns") != 0)
		return aclm_err_set(err, ACLM_ERR_INVALID, "identifier type \"%.16s\"", r->ident_type);
	*problem = "rejectedIdentifier";
	if (ip ? !va_ip_parse(r->ident_value, &a) || r->wildcard : !va_dns_name_ok(r->ident_value))
		return aclm_err_set(err, ACLM_ERR_INVALID, "\"%.64s\" is not a valid %s identifier",
				    r->ident_value, ip ? "IP" : "DNS");
	*problem = "unauthorized";
	if (r->wildcard && strcmp(r->challenge, "dns-01") != 0) /* RFC 8555 §7.1.3 */
		return aclm_err_set(err, ACLM_ERR_INVALID, "wildcards are validated with dns-01 "
				    "only");
	if (ip && strcmp(r->challenge, "dns-01") == 0) /* RFC 8738 §7 */
		return aclm_err_set(err, ACLM_ERR_INVALID, "IP identifiers have no dns-01");
	*problem = NULL;
	return ACLM_OK;
}

aclm_status ca_va_validate(const struct ca_va_config *c, const struct ca_va_request *r,
			   const char **problem, struct aclm_err *err)
{
	long timeout = c->timeout_ms > 0 ? c->timeout_ms : CA__VA_TIMEOUT_DEFAULT_MS;
	long long deadline = dns_now_ms() + timeout;
	struct ca__caa_levels caa = { 0 };
	bool dns;
	aclm_status st;

	*problem = NULL;
	st = va_request_check(r, problem, err);
	if (st != ACLM_OK)
		goto out;
	dns = strcmp(r->ident_type, "dns") == 0;
	/* http-01 asks the name's CAA levels with its A query: one DNS round
	 * trip; the answers are read only once the challenge has passed. */
	if (dns && c->caa_check && strcmp(r->challenge, "http-01") == 0 &&
	    (st = ca__caa_levels_init(r->ident_value, &caa, err)) != ACLM_OK)
		goto out;
	if (strcmp(r->challenge, "http-01") == 0)
		st = va_http01(c, r, deadline, caa.q != NULL ? &caa : NULL, problem, err);
	else if (strcmp(r->challenge, "dns-01") == 0)
		st = va_dns01(c, r, deadline, problem, err);
	else if (strcmp(r->challenge, "tls-alpn-01") == 0)
		st = ca__va_tlsalpn01(c, r, deadline, problem, err);
	else
		st = aclm_err_set(err, ACLM_ERR_UNSUPPORTED, "challenge type \"%.32s\"",
				  r->challenge);
	if (st == ACLM_OK && dns && caa.asked)
		st = ca__caa_levels_decide(c, &caa, r->wildcard, r->challenge, r->account_uri,
					   problem, err);
	else if (st == ACLM_OK && dns)
		st = ca_caa_check(c, r->ident_value, r->wildcard, r->challenge, r->account_uri,
				  problem, err);
out:
	ca__caa_levels_free(&caa);
	if (st != ACLM_OK)
		aclm_err_prefix(err, "%s for %s%.253s", r->challenge != NULL ? r->challenge : "?",
				r->wildcard ? "*." : "", r->ident_value != NULL ? r->ident_value : "?");
	return st;
}
