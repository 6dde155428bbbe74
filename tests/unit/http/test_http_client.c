/* http/client.c against a small evhttp server run by the test (plain and TLS
 * with a self-signed certificate made here), on 127.0.0.1 only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "http/http.h"

#define NONCE "oFvnlFP1wIhRlYS2jTaXbA"

struct server {
	struct event_base *base;
	struct evhttp *http;
	struct event *stop_ev;
	pthread_t thread;
	int port;
	SSL_CTX *ssl;              /* NULL: plain HTTP */
	atomic_int connections;
};

/* ---- routes ---- */

static void reply_body(struct evhttp_request *req, int code, const void *data, size_t len)
{
	struct evbuffer *b = evbuffer_new();

	evbuffer_add(b, data, len);
	evhttp_send_reply(req, code, "X", b);
	evbuffer_free(b);
}

static void route_order(struct evhttp_request *req, struct evkeyvalq *out)
{
	evhttp_add_header(out, "Location", "order/17");
	evhttp_add_header(out, "Link", "<https://ca.example/dir>;rel=\"index\"");
	evhttp_add_header(out, "Link", "</cert/1/alt1>;rel=\"alternate\", <alt2>; "
			  "title=\"a, b; c\"; rel=alternate");
	evhttp_add_header(out, "Link", "<../up>;rel=\"up\";rel=\"ignored\"");
	evhttp_add_header(out, "Link", "<multi>; rel=\"Next  Prev\", garbage, <never>;rel=x");
	evhttp_add_header(out, "Replay-Nonce", NONCE);
	evhttp_add_header(out, "Retry-After", "120");
	reply_body(req, 201, "{}", 2);
}

static void route_retry(struct evhttp_request *req, struct evkeyvalq *out, const char *what)
{
	char date[64];
	time_t t = time(NULL) + 300;

	if (strcmp(what, "date") == 0)
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", gmtime(&t));
	else if (strcmp(what, "past") == 0)
		snprintf(date, sizeof(date), "Sun, 06 Nov 1994 08:49:37 GMT");
	else if (strcmp(what, "huge") == 0)
		snprintf(date, sizeof(date), "99999999999999999999999");
	else if (strcmp(what, "neg") == 0)
		snprintf(date, sizeof(date), "-5");
	else
		snprintf(date, sizeof(date), "soon, maybe");
	evhttp_add_header(out, "Retry-After", date);
	reply_body(req, 503, "", 0);
}

static void route_big(struct evhttp_request *req, size_t n, bool chunked)
{
	char *data = malloc(n);
	struct evbuffer *b = evbuffer_new();

	memset(data, 'x', n);
	if (chunked) {
		evhttp_send_reply_start(req, 200, "OK");
		for (size_t off = 0; off < n; off += 100) {
			evbuffer_add(b, data + off, n - off < 100 ? n - off : 100);
			evhttp_send_reply_chunk(req, b);
		}
		evhttp_send_reply_end(req);
	} else {
		reply_body(req, 200, data, n);
	}
	evbuffer_free(b);
	free(data);
}

static void route_echo(struct evhttp_request *req)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const char *ct = evhttp_find_header(in, "Content-Type");
	const char *ua = evhttp_find_header(in, "User-Agent");
	struct evbuffer *b = evbuffer_new();

	evbuffer_add_printf(b, "%d\n%s\n%s\n", (int)evhttp_request_get_command(req),
			    ct != NULL ? ct : "-", ua != NULL ? ua : "-");
	evbuffer_add_buffer(b, evhttp_request_get_input_buffer(req));
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void route_headers(struct evhttp_request *req, struct evkeyvalq *out, bool many)
{
	char name[32], *value = NULL;

	if (many) {
		for (int i = 0; i < 150; i++) {
			snprintf(name, sizeof(name), "X-H%d", i);
			evhttp_add_header(out, name, "v");
		}
	} else {
		value = malloc(10001);
		memset(value, 'v', 10000);
		value[10000] = '\0';
		evhttp_add_header(out, "X-Long", value);
	}
	reply_body(req, 200, "ok", 2);
	free(value);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	int n = 0;

	if (strcmp(path, "/plain") == 0) {
		evhttp_add_header(out, "Content-Type", "Application/JSON ; charset=utf-8");
		reply_body(req, 200, "hello", 5);
	} else if (strcmp(path, "/acme/new-order") == 0) {
		route_order(req, out);
	} else if (strcmp(path, "/abs") == 0) {
		evhttp_add_header(out, "Location", "https://ca.example/acct/7");
		evhttp_add_header(out, "Replay-Nonce", "bad+nonce/=");
		reply_body(req, 200, "", 0);
	} else if (strcmp(path, "/long-nonce") == 0) {
		char nonce[300];

		memset(nonce, 'A', 299);
		nonce[299] = '\0';
		evhttp_add_header(out, "Replay-Nonce", nonce);
		reply_body(req, 200, "", 0);
	} else if (strncmp(path, "/retry/", 7) == 0) {
		route_retry(req, out, path + 7);
	} else if (sscanf(path, "/big/%d", &n) == 1) {
		route_big(req, (size_t)n, false);
	} else if (sscanf(path, "/chunked/%d", &n) == 1) {
		route_big(req, (size_t)n, true);
	} else if (sscanf(path, "/status/%d", &n) == 1) {
		reply_body(req, n, "status", 6);
	} else if (strcmp(path, "/echo") == 0) {
		route_echo(req);
	} else if (strcmp(path, "/many-headers") == 0 || strcmp(path, "/long-header") == 0) {
		route_headers(req, out, path[1] == 'm');
	} else if (strcmp(path, "/hang") != 0) { /* /hang: never answered */
		reply_body(req, 404, "", 0);
	}
}

/* ---- the server ---- */

static struct bufferevent *on_connection(struct event_base *base, void *arg)
{
	struct server *s = arg;

	atomic_fetch_add(&s->connections, 1);
	if (s->ssl != NULL)
		return bufferevent_openssl_socket_new(base, -1, SSL_new(s->ssl),
						      BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

static void *server_thread(void *arg)
{
	struct server *s = arg;

	event_base_dispatch(s->base);
	return NULL;
}

static struct server *server_start(SSL_CTX *ssl)
{
	struct server *s = calloc(1, sizeof(*s));
	struct evhttp_bound_socket *bound;
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);

	s->ssl = ssl;
	s->base = event_base_new();
	s->http = evhttp_new(s->base);
	s->stop_ev = event_new(s->base, -1, 0, on_stop, s->base);
	evhttp_set_bevcb(s->http, on_connection, s);
	evhttp_set_gencb(s->http, on_request, s);
	bound = evhttp_bind_socket_with_handle(s->http, "127.0.0.1", 0);
	assert_non_null(bound);
	assert_int_equal(getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&a,
				     &alen), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, server_thread, s), 0);
	return s;
}

static void server_stop(struct server *s)
{
	event_active(s->stop_ev, EV_READ, 0);
	pthread_join(s->thread, NULL);
	evhttp_free(s->http);
	event_free(s->stop_ev);
	event_base_free(s->base);
	free(s);
}

static void url_of(const struct server *s, const char *path, char *out, size_t len)
{
	snprintf(out, len, "%s://127.0.0.1:%d%s", s->ssl != NULL ? "https" : "http", s->port, path);
}

static struct http_client *client(size_t max_body, long timeout_ms)
{
	struct http_client_opts o = { .max_body = max_body, .timeout_ms = timeout_ms };
	struct http_client *c = NULL;
	struct aclm_err err = { 0 };

	assert_int_equal(http_client_new(&o, &c, &err), ACLM_OK);
	return c;
}

/* GET path on s; returns the status of the call, resp filled. */
static aclm_status get(struct http_client *c, const struct server *s, const char *path,
		       struct http_response *resp, struct aclm_err *err)
{
	char url[256];

	url_of(s, path, url, sizeof(url));
	return http_request(c, "GET", url, NULL, NULL, 0, resp, err);
}

/* ---- tests ---- */

static void test_status_body_and_content_type_pass_through(void **state)
{
	struct server *s = *state;
	struct http_client *c = client(0, 0);
	struct http_response r;
	struct aclm_err err = { 0 };
	char url[256];

	assert_int_equal(get(c, s, "/plain", &r, &err), ACLM_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal((char *)r.body.data, "hello");
	assert_string_equal(r.content_type, "application/json");
	assert_null(r.location);
	assert_null(r.replay_nonce);
	assert_int_equal(r.retry_after, -1);
	assert_int_equal(r.nlinks, 0);
	http_response_free(&r);
	for (int code = 201; code <= 503; code += 302) { /* 201, 503 */
		char path[32];

		snprintf(path, sizeof(path), "/status/%d", code);
		assert_int_equal(get(c, s, path, &r, &err), ACLM_OK);
		assert_int_equal(r.status, code);
		assert_string_equal((char *)r.body.data, "status");
		http_response_free(&r);
	}
	assert_int_equal(get(c, s, "/status/404", &r, &err), ACLM_OK);
	assert_int_equal(r.status, 404);
	http_response_free(&r);
	url_of(s, "/plain", url, sizeof(url));
	assert_int_equal(http_request(c, "HEAD", url, NULL, NULL, 0, &r, &err), ACLM_OK);
	assert_int_equal(r.status, 200);
	assert_non_null(r.body.data); /* NUL-terminated even when empty */
	assert_int_equal(r.body.len, 0);
	assert_string_equal(r.content_type, "application/json");
	http_response_free(&r);
	/* a GET after the HEAD on the same handle has its body again */
	assert_int_equal(get(c, s, "/plain", &r, &err), ACLM_OK);
	assert_string_equal((char *)r.body.data, "hello");
	http_response_free(&r);
	http_client_free(c);
}

static void test_location_and_links_resolved_against_request_url(void **state)
{
	struct server *s = *state;
	struct http_client *c = client(0, 0);
	struct http_response r;
	struct aclm_err err = { 0 };
	char want[256];

	assert_int_equal(get(c, s, "/acme/new-order", &r, &err), ACLM_OK);
	assert_int_equal(r.status, 201);
	url_of(s, "/acme/order/17", want, sizeof(want));
	assert_string_equal(r.location, want);
	assert_string_equal(http_response_link(&r, "index"), "https://ca.example/dir");
	url_of(s, "/cert/1/alt1", want, sizeof(want));
	assert_string_equal(http_response_link(&r, "alternate"), want); /* the first one */
	assert_int_equal(r.nlinks, 6); /* index, 2 alternate, up, next, prev */
	url_of(s, "/acme/alt2", want, sizeof(want));
	assert_string_equal(r.links[2].url, want);
	assert_string_equal(r.links[2].rel, "alternate");
	url_of(s, "/up", want, sizeof(want));
	assert_string_equal(http_response_link(&r, "up"), want);
	assert_null(http_response_link(&r, "ignored")); /* RFC 8288 §3.3: first rel only */
	url_of(s, "/acme/multi", want, sizeof(want));
	assert_string_equal(http_response_link(&r, "next"), want);
	assert_string_equal(http_response_link(&r, "PREV"), want);
	assert_null(http_response_link(&r, "x")); /* after the malformed element */
	assert_null(http_response_link(&r, "missing"));
	assert_string_equal(r.replay_nonce, NONCE);
	assert_int_equal(r.retry_after, 120);
	http_response_free(&r);
	http_client_free(c);
}

static void test_absolute_location_kept_and_bad_nonces_dropped(void **state)
{
	struct server *s = *state;
	struct http_client *c = client(0, 0);
	struct http_response r;
	struct aclm_err err = { 0 };

	assert_int_equal(get(c, s, "/abs", &r, &err), ACLM_OK);
	assert_string_equal(r.location, "https://ca.example/acct/7");
	assert_null(r.replay_nonce); /* '+', '/', '=' are not base64url */
	http_response_free(&r);
	assert_int_equal(get(c, s, "/long-nonce", &r, &err), ACLM_OK);
	assert_null(r.replay_nonce); /* over 256 characters */
	http_response_free(&r);
	http_client_free(c);
}

static void test_retry_after_delta_date_cap_and_garbage(void **state)
{
	struct server *s = *state;
	struct http_client *c = client(0, 0);
	struct http_response r;
	struct aclm_err err = { 0 };

	assert_int_equal(get(c, s, "/retry/date", &r, &err), ACLM_OK);
	assert_in_range(r.retry_after, 290, 300);
	http_response_free(&r);
	assert_int_equal(get(c, s, "/retry/past", &r, &err), ACLM_OK);
	assert_int_equal(r.retry_after, 0);
	http_response_free(&r);
	assert_int_equal(get(c, s, "/retry/huge", &r, &err), ACLM_OK);
	assert_int_equal(r.retry_after, 86400);
	http_response_free(&r);
	assert_int_equal(get(c, s, "/retry/neg", &r, &err), ACLM_OK);
	assert_int_equal(r.retry_after, -1);
	http_response_free(&r);
	assert_int_equal(get(c, s, "/retry/garbage", &r, &err), ACLM_OK);
	assert_int_equal(r.retry_after, -1);
	http_response_free(&r);
	http_client_free(c);
}

static void test_body_over_max_body_is_toobig_naming_url(void **state)
{
	struct server *s = *state;
	struct http_client *c = client(1024, 0);
	struct http_response r;
	struct aclm_err err = { 0 };
	char url[256];

	assert_int_equal(get(c, s, "/big/1024", &r, &err), ACLM_OK); /* exactly the cap */
	assert_int_equal(r.body.len, 1024);
	http_response_free(&r);
	/* with Content-Length, and chunked (the write callback stops it) */
	assert_int_equal(get(c, s, "/big/1025", &r, &err), ACLM_ERR_TOOBIG);
	url_of(s, "/big/1025", url, sizeof(url));
	assert_non_null(strstr(err.msg, url));
	http_response_free(&r);
	assert_int_equal(get(c, s, "/chunked/5000", &r, &err), ACLM_ERR_TOOBIG);
	url_of(s, "/chunked/5000", url, sizeof(url));
	assert_non_null(strstr(err.msg, url));
	assert_non_null(strstr(err.msg, "1024"));
	http_response_free(&r);
	/* the client still works after an aborted transfer */
	assert_int_equal(get(c, s, "/chunked/1000", &r, &err), ACLM_OK);
	assert_int_equal(r.body.len, 1000);
	http_response_free(&r);
	http_client_free(c);
}

static void test_header_count_and_length_are_capped(void **state)
{
	struct server *s = *state;
	struct http_client *c = client(0, 0);
	struct http_response r;
	struct aclm_err err = { 0 };

	assert_int_equal(get(c, s, "/many-headers", &r, &err), ACLM_ERR_TOOBIG);
	assert_non_null(strstr(err.msg, "/many-headers"));
	http_response_free(&r);
	assert_int_equal(get(c, s, "/long-header", &r, &err), ACLM_ERR_TOOBIG);
	assert_non_null(strstr(err.msg, "/long-header"));
	http_response_free(&r);
	http_client_free(c);
}

static void test_post_body_and_content_type_arrive_as_sent(void **state)
{
	struct server *s = *state;
	struct http_client *c = client(0, 0);
	struct http_response r;
	struct aclm_err err = { 0 };
	static const char body[] = "{\"protected\":\"e30\"}\0tail"; /* length, not NUL, ends it */
	char url[256], want[256];
	size_t wlen;

	url_of(s, "/echo", url, sizeof(url));
	assert_int_equal(http_request(c, "POST", url, "application/jose+json", body,
				      sizeof(body) - 1, &r, &err), ACLM_OK);
	wlen = (size_t)snprintf(want, sizeof(want), "%d\napplication/jose+json\naclm/%s\n",
				EVHTTP_REQ_POST, ACLM_VERSION);
	memcpy(want + wlen, body, sizeof(body) - 1);
	wlen += sizeof(body) - 1;
	assert_int_equal(r.body.len, wlen);
	assert_memory_equal(r.body.data, want, wlen);
	http_response_free(&r);
	/* a GET after the POST on the same handle is a GET again */
	assert_int_equal(get(c, s, "/echo", &r, &err), ACLM_OK);
	assert_int_equal(atoi((char *)r.body.data), EVHTTP_REQ_GET);
	http_response_free(&r);
	/* an empty POST (POST-as-GET has a body, but the client must not care) */
	assert_int_equal(http_request(c, "POST", url, NULL, NULL, 0, &r, &err), ACLM_OK);
	assert_int_equal(atoi((char *)r.body.data), EVHTTP_REQ_POST);
	http_response_free(&r);
	assert_int_equal(http_request(c, "PUT", url, NULL, NULL, 0, &r, &err), ACLM_ERR_INVALID);
	http_response_free(&r);
	http_client_free(c);
}

static void test_one_client_reuses_its_connection(void **state)
{
	struct server *s = server_start(NULL);
	struct http_client *c = client(0, 0);
	struct http_response r;
	struct aclm_err err = { 0 };

	for (int i = 0; i < 3; i++) {
		assert_int_equal(get(c, s, "/plain", &r, &err), ACLM_OK);
		http_response_free(&r);
	}
	assert_int_equal(atomic_load(&s->connections), 1);
	http_client_free(c);
	server_stop(s);
	(void)state;
}

static void test_connection_refused_is_io_naming_url(void **unused)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct http_client *c = client(0, 0);
	struct http_response r;
	struct aclm_err err = { 0 };
	char url[128];

	/* a port that was just free: nothing listens there */
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(fd, (struct sockaddr *)&a, &alen);
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/dir", ntohs(a.sin_port));
	assert_int_equal(http_request(c, "GET", url, NULL, NULL, 0, &r, &err), ACLM_ERR_IO);
	assert_non_null(strstr(err.msg, url));
	http_response_free(&r);
	assert_int_equal(http_request(c, "GET", "ftp://127.0.0.1/x", NULL, NULL, 0, &r, &err),
			 ACLM_ERR_INVALID);
	assert_non_null(strstr(err.msg, "ftp://127.0.0.1/x"));
	http_response_free(&r);
	http_client_free(c);
}

static void test_timeout_is_io(void **state)
{
	struct server *s = *state;
	struct http_client *c = client(0, 300);
	struct http_response r;
	struct aclm_err err = { 0 };

	assert_int_equal(get(c, s, "/hang", &r, &err), ACLM_ERR_IO);
	assert_non_null(strstr(err.msg, "/hang"));
	assert_non_null(strstr(err.msg, "timed out"));
	http_response_free(&r);
	http_client_free(c);
}

/* ---- TLS ---- */

static void add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(ext);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
}

/* A self-signed P-256 certificate for 127.0.0.1, written to pem_path. */
static SSL_CTX *tls_ctx(const char *pem_path)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n = X509_get_subject_name(x);
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	FILE *f;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"aclm test", -1,
				   -1, 0);
	X509_set_issuer_name(x, n);
	add_ext(x, NID_basic_constraints, "critical,CA:TRUE");
	add_ext(x, NID_subject_key_identifier, "hash");
	add_ext(x, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	f = fopen(pem_path, "w");
	assert_non_null(f);
	PEM_write_X509(f, x);
	fclose(f);
	assert_int_equal(SSL_CTX_use_certificate(ctx, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(ctx, k), 1);
	X509_free(x);
	EVP_PKEY_free(k);
	return ctx;
}

static void test_https_self_signed_needs_ca_bundle(void **unused)
{
	char dir[] = "/tmp/aclm-http-XXXXXX", pem[64], url[128];
	struct http_client_opts o = { 0 };
	struct http_client *c = NULL;
	struct http_response r;
	struct aclm_err err = { 0 };
	struct server *s;
	SSL_CTX *ctx;

	assert_non_null(mkdtemp(dir));
	snprintf(pem, sizeof(pem), "%s/ca.pem", dir);
	ctx = tls_ctx(pem);
	s = server_start(ctx);
	url_of(s, "/plain", url, sizeof(url));
	/* the system store does not know it */
	assert_int_equal(http_client_new(&o, &c, &err), ACLM_OK);
	assert_int_equal(http_request(c, "GET", url, NULL, NULL, 0, &r, &err), ACLM_ERR_VERIFY);
	assert_non_null(strstr(err.msg, url));
	assert_non_null(strstr(err.msg, "verification failed"));
	http_response_free(&r);
	http_client_free(c);
	/* ca_bundle = that certificate */
	o.ca_bundle = pem;
	assert_int_equal(http_client_new(&o, &c, &err), ACLM_OK);
	assert_int_equal(http_request(c, "GET", url, NULL, NULL, 0, &r, &err), ACLM_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal((char *)r.body.data, "hello");
	http_response_free(&r);
	http_client_free(c);
	/* insecure (tests only) skips verification */
	o.ca_bundle = NULL;
	o.insecure = true;
	assert_int_equal(http_client_new(&o, &c, &err), ACLM_OK);
	assert_int_equal(http_request(c, "GET", url, NULL, NULL, 0, &r, &err), ACLM_OK);
	http_response_free(&r);
	http_client_free(c);
	server_stop(s);
	SSL_CTX_free(ctx);
	unlink(pem);
	rmdir(dir);
}

static int group_setup(void **state)
{
	*state = server_start(NULL);
	return 0;
}

static int group_teardown(void **state)
{
	server_stop(*state);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_body_and_content_type_pass_through),
		cmocka_unit_test(test_location_and_links_resolved_against_request_url),
		cmocka_unit_test(test_absolute_location_kept_and_bad_nonces_dropped),
		cmocka_unit_test(test_retry_after_delta_date_cap_and_garbage),
		cmocka_unit_test(test_body_over_max_body_is_toobig_naming_url),
		cmocka_unit_test(test_header_count_and_length_are_capped),
		cmocka_unit_test(test_post_body_and_content_type_arrive_as_sent),
		cmocka_unit_test(test_one_client_reuses_its_connection),
		cmocka_unit_test(test_connection_refused_is_io_naming_url),
		cmocka_unit_test(test_timeout_is_io),
		cmocka_unit_test(test_https_self_signed_needs_ca_bundle),
	};

	/* the servers are local: no proxy from the environment may take over */
	setenv("no_proxy", "127.0.0.1,localhost", 1);
	setenv("NO_PROXY", "127.0.0.1,localhost", 1);
	evthread_use_pthreads();
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
