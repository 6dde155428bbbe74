/* ca/ca_va.c, ca_va_tls.c, ca_caa.c end to end against real peers on
 * loopback: the ACME client's own http-01 and tls-alpn-01 solvers, a small
 * evhttp server that redirects and misbehaves on purpose, and
 * pebble-challtestsrv as the DNS server (A/AAAA/TXT/CAA set through its
 * management API; the tests needing it skip when it is not installed). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "acme/acme.h"
#include "ca/ca_int.h"
#include "ca/ca_va_int.h"
#include "net/net.h"
#include "solvers/solver.h"
#include "testsupport.h"

#define TOKEN "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
#define KEYAUTH TOKEN ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
#define KEYAUTH2 TOKEN ".AAAA6WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
#define WELL_KNOWN "/.well-known/acme-challenge/"
#define US "ca.example"
#define ACCOUNT "https://ca.example/acme/acct/7"

/* ---- the peers ---- */

/* The client port of each request the odd server answered: a new port is
 * a new connection. */
static struct {
	pthread_mutex_t lock;
	int n;
	int port[64];
} Seen = { .lock = PTHREAD_MUTEX_INITIALIZER };

static struct {
	struct ts_challtestsrv dns; /* pid -1 when not installed */
	int http_port;             /* the http-listen solver */
	void *http;
	int tls_port;              /* the tls-alpn solver */
	void *tls;
	int odd_port;              /* the evhttp server below */
	struct net_loop loop;
	struct evhttp *odd;
	int closed_port;           /* nothing listens there */
	json_t *ids;
} P = { .dns.pid = -1 };

static bool have_ipv6_loopback(void)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

/* A solver listening on a free loopback port (retried if the port is taken
 * between the pick and the bind). */
static void *solver_on(const struct solver_ops *ops, bool v6, int *port)
{
	char addr[64];
	struct solver_config cfg = { .http_listen = addr, .tlsalpn_listen = addr };
	struct aclm_err err = { 0 };
	aclm_status st = ACLM_ERR_BUSY;
	void *s = NULL;

	for (int i = 0; i < 5 && st == ACLM_ERR_BUSY; i++) {
		*port = ts_free_port(SOCK_STREAM);
		snprintf(addr, sizeof(addr), v6 ? "[::1]:%d" : "127.0.0.1:%d", *port);
		st = ops->start(&cfg, &s, &err);
	}
	if (st != ACLM_OK)
		fail_msg("%s: %s", ops->name, err.msg);
	return s;
}

static void present(const struct solver_ops *ops, void *s, const char *type, const char *ident,
		    const char *keyauth)
{
	struct solver_challenge ch = { .type = type, .identifier = ident, .token = TOKEN,
				       .key_authorization = keyauth };
	struct aclm_err err = { 0 };

	if (ops->present(s, &ch, &err) != ACLM_OK)
		fail_msg("present: %s", err.msg);
}

/* The misbehaving server: WELL_KNOWN + hop-N redirects N times (relative
 * Location) before answering; the others as named. */
static void odd_reply(struct evhttp_request *req, int code, const char *location,
		      const char *body)
{
	struct evbuffer *b = evbuffer_new();

	if (location != NULL)
		evhttp_add_header(evhttp_request_get_output_headers(req), "Location", location);
	if (body != NULL)
		evbuffer_add(b, body, strlen(body));
	evhttp_send_reply(req, code, code == 200 ? "OK" : "Found", b);
	evbuffer_free(b);
}

/* 9000 bytes in chunks: no Content-Length, so only the body cap stops it. */
static void odd_big_chunked(struct evhttp_request *req)
{
	char chunk[1000];
	struct evbuffer *b = evbuffer_new();

	memset(chunk, 'a', sizeof(chunk));
	evhttp_send_reply_start(req, 200, "OK");
	for (int i = 0; i < 9; i++) {
		evbuffer_add(b, chunk, sizeof(chunk));
		evhttp_send_reply_chunk(req, b);
	}
	evhttp_send_reply_end(req);
	evbuffer_free(b);
}

static void odd_on_request(struct evhttp_request *req, void *arg)
{
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	const char *what = path != NULL && strncmp(path, WELL_KNOWN, strlen(WELL_KNOWN)) == 0 ?
			   path + strlen(WELL_KNOWN) : "";
	char loc[160], big[9001], *peer = NULL;
	ev_uint16_t peer_port = 0;
	int n;

	(void)arg;
	evhttp_connection_get_peer(evhttp_request_get_connection(req), &peer, &peer_port);
	pthread_mutex_lock(&Seen.lock);
	if (Seen.n < 64)
		Seen.port[Seen.n] = peer_port;
	Seen.n++;
	pthread_mutex_unlock(&Seen.lock);
	if (sscanf(what, "hop-%d", &n) == 1 && n > 0) {
		snprintf(loc, sizeof(loc), WELL_KNOWN "hop-%d", n - 1);
		odd_reply(req, 302, loc, NULL);
	} else if (strcmp(what, "hop-0") == 0) {
		odd_reply(req, 200, NULL, KEYAUTH);
	} else if (strcmp(what, "ws") == 0) {
		odd_reply(req, 200, NULL, KEYAUTH "\r\n\t \n");
	} else if (strcmp(what, "wrong") == 0) {
		odd_reply(req, 200, NULL, "not the key authorization");
	} else if (strcmp(what, "big") == 0) {
		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		odd_reply(req, 200, NULL, big);
	} else if (strcmp(what, "big-chunked") == 0) {
		odd_big_chunked(req);
	} else if (strcmp(what, "no-location") == 0) {
		odd_reply(req, 302, NULL, NULL);
	} else if (sscanf(what, "to-%159s", loc) == 1) {
		/* to-SCHEME-HOST-PORT, dots in HOST as '_' (a token is base64url):
		 * "to-http-127_0_0_1-8080" */
		char scheme[8], host[64];
		int port;

		if (sscanf(loc, "%7[a-z]-%63[^-]-%d", scheme, host, &port) != 3)
			goto not_found;
		for (char *p = host; *p != '\0'; p++)
			*p = *p == '_' ? '.' : *p;
		snprintf(loc, sizeof(loc), "%s://%s:%d" WELL_KNOWN "hop-0", scheme, host, port);
		odd_reply(req, 302, loc, NULL);
	} else {
not_found:
		evhttp_send_reply(req, 404, "Not Found", NULL);
	}
}

static void start_odd(void)
{
	struct aclm_err err = { 0 };
	char spec[32];
	int fd = -1;

	P.odd_port = ts_free_port(SOCK_STREAM);
	snprintf(spec, sizeof(spec), "127.0.0.1:%d", P.odd_port);
	assert_int_equal(net_loop_threads("odd", &err), ACLM_OK);
	assert_int_equal(net_listen_socket("odd", spec, &fd, &err), ACLM_OK);
	assert_int_equal(net_loop_new("odd", &P.loop, &err), ACLM_OK);
	P.odd = evhttp_new(P.loop.base);
	assert_non_null(P.odd);
	evhttp_set_gencb(P.odd, odd_on_request, NULL);
	assert_non_null(evhttp_accept_socket_with_handle(P.odd, fd));
	assert_int_equal(net_loop_start("odd", &P.loop, &err), ACLM_OK);
}

/* pebble-challtestsrv: no default addresses, so a name has only the
 * records a test gives it. */
static void start_dns(void)
{
	if (!ts_have_program("pebble-challtestsrv")) {
		fprintf(stderr, "pebble-challtestsrv not installed: the DNS tests skip\n");
		return;
	}
	assert_int_equal(ts_challtestsrv_start(&P.dns, ""), 0);
}

static int setup(void **state)
{
	(void)state;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	P.ids = json_pack("[ss]", "other.example", US);
	P.http = solver_on(&solver_http_listen_ops, false, &P.http_port);
	P.tls = solver_on(&solver_tls_alpn_ops, false, &P.tls_port);
	present(&solver_http_listen_ops, P.http, "http-01", "127.0.0.1", KEYAUTH);
	start_odd();
	P.closed_port = ts_free_port(SOCK_STREAM);
	start_dns();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ts_challtestsrv_stop(&P.dns);
	net_loop_stop(&P.loop);
	evhttp_free(P.odd);
	net_loop_free(&P.loop);
	solver_tls_alpn_ops.stop(P.tls);
	solver_http_listen_ops.stop(P.http);
	json_decref(P.ids);
	curl_global_cleanup();
	return 0;
}

/* POST a JSON body to challtestsrv's management API. */
#define mgmt(op, ...) ts_challtestsrv_post(&P.dns, (op), __VA_ARGS__)

static void need_dns(void)
{
	if (P.dns.pid <= 0)
		skip();
}

static void add_a(const char *host)
{
	mgmt("add-a", "{\"host\":\"%s.\",\"addresses\":[\"127.0.0.1\"]}", host);
}

static void add_caa(const char *host, const char *tag, const char *value)
{
	mgmt("add-caa", "{\"host\":\"%s.\",\"policies\":[{\"tag\":\"%s\",\"value\":\"%s\"}]}",
	     host, tag, value);
}

static struct ca_va_config config(void)
{
	return (struct ca_va_config){ .http01_port = P.http_port, .tlsalpn01_port = P.tls_port,
				      .dns_server = P.dns.pid > 0 ? P.dns.resolver : NULL,
				      .timeout_ms = 3000, .caa_identities = P.ids,
				      .caa_check = true };
}

/* Runs one validation; expect NULL means success. */
static void expect_with(const struct ca_va_config *c, const char *challenge, const char *type,
			const char *value, bool wildcard, const char *token, const char *keyauth,
			const char *expect, const char *in_msg)
{
	struct ca_va_request r = { .challenge = challenge, .ident_type = type,
				   .ident_value = value, .wildcard = wildcard, .token = token,
				   .key_authorization = keyauth, .account_uri = ACCOUNT };
	struct aclm_err err = { 0 };
	const char *problem = NULL;
	aclm_status st = ca_va_validate(c, &r, &problem, &err);
	char what[160];

	snprintf(what, sizeof(what), "%s %s", challenge, value);
	ts_expect_problem(what, st == ACLM_OK, problem, err.msg, expect, in_msg);
	if (expect == NULL)
		assert_null(problem);
}

static void expect_va(const char *challenge, const char *type, const char *value,
		      const char *keyauth, const char *expect)
{
	struct ca_va_config c = config();

	expect_with(&c, challenge, type, value, false, TOKEN, keyauth, expect, NULL);
}

/* http-01 against the odd server (its port as the http-01 port). */
static void expect_odd(const char *token, const char *expect, const char *in_msg)
{
	struct ca_va_config c = config();

	c.http01_port = P.odd_port;
	expect_with(&c, "http-01", "ip", "127.0.0.1", false, token, KEYAUTH, expect, in_msg);
}

/* ---- http-01 ---- */

static void test_http01_ipv4_identifier_served_by_the_solver_is_valid(void **state)
{
	(void)state;
	expect_va("http-01", "ip", "127.0.0.1", KEYAUTH, NULL);
}

static void test_http01_name_is_resolved_through_the_configured_server(void **state)
{
	(void)state;
	need_dns();
	/* The name exists only at challtestsrv: the system resolver cannot find it. */
	add_a("web.example.test");
	expect_va("http-01", "dns", "web.example.test", KEYAUTH, NULL);
	expect_va("http-01", "dns", "WEB.Example.Test", KEYAUTH, NULL);
}

static void test_http01_name_without_address_is_dns(void **state)
{
	struct ca_va_config c = config();

	(void)state;
	need_dns();
	expect_with(&c, "http-01", "dns", "nowhere.example.test", false, TOKEN, KEYAUTH, "dns",
		    "nowhere.example.test");
}

static void test_http01_wrong_body_is_incorrect_response(void **state)
{
	(void)state;
	/* The solver answers with KEYAUTH; the CA expects another. */
	expect_va("http-01", "ip", "127.0.0.1", KEYAUTH2, "incorrectResponse");
	expect_odd("wrong", "incorrectResponse", "not the key authorization");
}

static void test_http01_unknown_token_404_is_unauthorized(void **state)
{
	struct ca_va_config c = config();

	(void)state;
	expect_with(&c, "http-01", "ip", "127.0.0.1", false, "unknownToken", KEYAUTH,
		    "unauthorized", "HTTP 404");
}

static void test_http01_nothing_listening_is_connection(void **state)
{
	struct ca_va_config c = config();

	(void)state;
	c.http01_port = P.closed_port;
	expect_with(&c, "http-01", "ip", "127.0.0.1", false, TOKEN, KEYAUTH, "connection", NULL);
}

static void test_http01_trailing_whitespace_is_ignored(void **state)
{
	(void)state;
	expect_odd("ws", NULL, NULL);
}

static void test_http01_ten_redirects_are_followed_eleven_refused(void **state)
{
	(void)state;
	expect_odd("hop-1", NULL, NULL);
	expect_odd("hop-10", NULL, NULL);
	expect_odd("hop-11", "connection", "more than 10 redirects");
}

static void test_http01_redirect_to_another_port_or_scheme_is_refused(void **state)
{
	char token[96];

	(void)state;
	snprintf(token, sizeof(token), "to-http-127_0_0_1-%d", P.http_port);
	expect_odd(token, "connection", "only http:// on port");
	/* https:// must use the tls-alpn-01 port, not the http-01 one */
	snprintf(token, sizeof(token), "to-https-127_0_0_1-%d", P.odd_port);
	expect_odd(token, "connection", "only http:// on port");
	snprintf(token, sizeof(token), "to-ftp-127_0_0_1-%d", P.odd_port);
	expect_odd(token, "connection", NULL);
	expect_odd("no-location", "unauthorized", "without a Location");
}

static void test_http01_redirect_to_allowed_targets_is_followed(void **state)
{
	char token[96];

	(void)state;
	/* An absolute URL on the same port: followed. */
	snprintf(token, sizeof(token), "to-http-127_0_0_1-%d", P.odd_port);
	expect_odd(token, NULL, NULL);
	/* https:// on the tls-alpn-01 port is followed: the handshake is tried
	 * there (the tls-alpn solver refuses a plain https client: "tls"). */
	snprintf(token, sizeof(token), "to-https-127_0_0_1-%d", P.tls_port);
	expect_odd(token, "tls", NULL);
}

static void test_http01_redirect_to_a_name_resolves_it_through_the_server(void **state)
{
	char token[96];

	(void)state;
	need_dns();
	add_a("redir.example.test");
	snprintf(token, sizeof(token), "to-http-Redir_Example_Test-%d", P.odd_port);
	expect_odd(token, NULL, NULL);
	snprintf(token, sizeof(token), "to-http-gone_example_test-%d", P.odd_port);
	expect_odd(token, "dns", "gone.example.test");
}

static void test_http01_body_over_8_kib_is_refused(void **state)
{
	(void)state;
	expect_odd("big", "incorrectResponse", "over 8192 bytes");
	expect_odd("big-chunked", "incorrectResponse", "over 8192 bytes");
}

static void test_http01_ipv6_identifier_and_aaaa_only_name(void **state)
{
	struct ca_va_config c = config();
	void *s;
	int port;

	(void)state;
	if (!have_ipv6_loopback())
		skip();
	s = solver_on(&solver_http_listen_ops, true, &port);
	present(&solver_http_listen_ops, s, "http-01", "::1", KEYAUTH);
	c.http01_port = port;
	expect_with(&c, "http-01", "ip", "::1", false, TOKEN, KEYAUTH, NULL, NULL);
	expect_with(&c, "http-01", "ip", "0:0::1", false, TOKEN, KEYAUTH, NULL, NULL);
	if (P.dns.pid > 0) {
		/* Pinned to an IPv6 address found in DNS (CURLOPT_RESOLVE with brackets). */
		mgmt("add-aaaa", "{\"host\":\"v6.example.test.\",\"addresses\":[\"::1\"]}");
		expect_with(&c, "http-01", "dns", "v6.example.test", false, TOKEN, KEYAUTH, NULL,
			    NULL);
	}
	solver_http_listen_ops.stop(s);
}

static void test_loopback_targets_are_rejected_on_the_real_ports(void **state)
{
	struct ca_va_config c = config();

	(void)state;
	c.http01_port = 80;
	c.tlsalpn01_port = 443;
	expect_with(&c, "http-01", "ip", "127.0.0.1", false, TOKEN, KEYAUTH,
		    "rejectedIdentifier", NULL);
	expect_with(&c, "tls-alpn-01", "ip", "::1", false, TOKEN, KEYAUTH, "rejectedIdentifier",
		    NULL);
	if (P.dns.pid > 0) {
		add_a("local.example.test");
		expect_with(&c, "http-01", "dns", "local.example.test", false, TOKEN, KEYAUTH,
			    "rejectedIdentifier", "127.0.0.1");
	}
}

static void test_bad_requests_are_refused_before_any_connection(void **state)
{
	struct ca_va_config c = config();

	(void)state;
	expect_with(&c, "http-01", "dns", "exa mple.test", false, TOKEN, KEYAUTH,
		    "rejectedIdentifier", NULL);
	expect_with(&c, "http-01", "ip", "300.1.1.1", false, TOKEN, KEYAUTH,
		    "rejectedIdentifier", NULL);
	/* RFC 8555 §7.1.3: wildcards only through dns-01; RFC 8738 §7: no dns-01 for IPs */
	expect_with(&c, "http-01", "dns", "example.test", true, TOKEN, KEYAUTH, "unauthorized",
		    NULL);
	expect_with(&c, "dns-01", "ip", "127.0.0.1", false, TOKEN, KEYAUTH, "unauthorized", NULL);
}

/* ---- a VA thread's kept libcurl handle (ca__va_thread_begin) ---- */

static void seen_reset(void)
{
	pthread_mutex_lock(&Seen.lock);
	Seen.n = 0;
	pthread_mutex_unlock(&Seen.lock);
}

/* The requests the odd server saw since seen_reset, and whether each came
 * on a connection of its own (no client port seen twice). */
static int seen_requests(bool *all_new)
{
	int n;

	pthread_mutex_lock(&Seen.lock);
	n = Seen.n;
	*all_new = true;
	for (int i = 0; i < n && i < 64; i++)
		for (int j = 0; j < i; j++)
			*all_new = *all_new && Seen.port[i] != Seen.port[j];
	pthread_mutex_unlock(&Seen.lock);
	return n;
}

/* The odd server keeps HTTP/1.1 connections open: a kept handle that let
 * curl reuse them would send the next validation's GET (or the next hop's)
 * on the same connection. */
static void test_kept_handle_opens_a_new_connection_for_every_get(void **state)
{
	bool all_new = false;

	(void)state;
	ca__va_thread_begin();
	seen_reset();
	expect_odd("hop-0", NULL, NULL);
	expect_odd("hop-0", NULL, NULL);
	expect_odd("hop-2", NULL, NULL); /* three GETs */
	expect_odd("wrong", "incorrectResponse", NULL);
	expect_odd("hop-0", NULL, NULL);
	assert_int_equal(seen_requests(&all_new), 7);
	assert_true(all_new);
	ca__va_thread_end();
}

static void set_a(const char *host, const char *addr)
{
	mgmt("clear-a", "{\"host\":\"%s.\"}", host);
	mgmt("add-a", "{\"host\":\"%s.\",\"addresses\":[\"%s\"]}", host, addr);
}

static void expect_odd_name(const char *name, const char *expect)
{
	struct ca_va_config c = config();

	c.http01_port = P.odd_port;
	expect_with(&c, "http-01", "dns", name, false, "hop-0", KEYAUTH, expect, NULL);
}

/* Each validation connects where DNS says now: nothing of an earlier one's
 * answer (curl's DNS cache in the kept handle) is used again. The odd
 * server listens on 127.0.0.1 only: 127.0.0.2 refuses. */
static void test_kept_handle_connects_where_dns_says_now(void **state)
{
	(void)state;
	need_dns();
	ca__va_thread_begin();
	set_a("pin-a.example.test", "127.0.0.1");
	set_a("pin-b.example.test", "127.0.0.2");
	expect_odd_name("pin-a.example.test", NULL);
	expect_odd_name("pin-b.example.test", "connection");
	expect_odd_name("pin-a.example.test", NULL);
	/* the same name, moved: the old address is not used again */
	set_a("pin-a.example.test", "127.0.0.2");
	expect_odd_name("pin-a.example.test", "connection");
	set_a("pin-b.example.test", "127.0.0.1");
	expect_odd_name("pin-b.example.test", NULL);
	/* gone from DNS: "dns", not the address curl saw last time */
	mgmt("clear-a", "{\"host\":\"pin-b.example.test.\"}");
	expect_odd_name("pin-b.example.test", "dns");
	ca__va_thread_end();
}

/* ---- tls-alpn-01 ---- */

static void test_tlsalpn01_good_for_a_name_and_an_ip(void **state)
{
	(void)state;
	present(&solver_tls_alpn_ops, P.tls, "tls-alpn-01", "127.0.0.1", KEYAUTH);
	expect_va("tls-alpn-01", "ip", "127.0.0.1", KEYAUTH, NULL);
	if (P.dns.pid <= 0)
		return;
	add_a("tls.example.test");
	present(&solver_tls_alpn_ops, P.tls, "tls-alpn-01", "tls.example.test", KEYAUTH);
	expect_va("tls-alpn-01", "dns", "tls.example.test", KEYAUTH, NULL);
}

static void test_tlsalpn01_wrong_digest_is_incorrect_response(void **state)
{
	struct ca_va_config c = config();

	(void)state;
	/* The responder's certificate is made for KEYAUTH2; the CA expects KEYAUTH. */
	present(&solver_tls_alpn_ops, P.tls, "tls-alpn-01", "127.0.0.1", KEYAUTH2);
	expect_with(&c, "tls-alpn-01", "ip", "127.0.0.1", false, TOKEN, KEYAUTH,
		    "incorrectResponse", "SHA-256 of the key authorization");
	present(&solver_tls_alpn_ops, P.tls, "tls-alpn-01", "127.0.0.1", KEYAUTH);
}

static void test_tlsalpn01_no_responder_is_connection_and_plain_http_is_tls(void **state)
{
	struct ca_va_config c = config();

	(void)state;
	c.tlsalpn01_port = P.closed_port;
	expect_with(&c, "tls-alpn-01", "ip", "127.0.0.1", false, TOKEN, KEYAUTH, "connection",
		    NULL);
	c.tlsalpn01_port = P.odd_port; /* an HTTP server: no TLS at all */
	expect_with(&c, "tls-alpn-01", "ip", "127.0.0.1", false, TOKEN, KEYAUTH, "tls", NULL);
}

static void test_tlsalpn01_name_the_responder_does_not_know_is_tls(void **state)
{
	(void)state;
	need_dns();
	/* The responder ends handshakes for unknown SNI with unrecognized_name. */
	add_a("unknown-sni.example.test");
	expect_va("tls-alpn-01", "dns", "unknown-sni.example.test", KEYAUTH, "tls");
}

/* ---- dns-01 ---- */

static void set_txt(const char *host, const char *keyauth)
{
	char value[44], fqdn[160];
	struct aclm_err err = { 0 };

	assert_int_equal(acme_dns01_txt(keyauth, value, &err), ACLM_OK);
	snprintf(fqdn, sizeof(fqdn), "_acme-challenge.%s.", host);
	ts_challtestsrv_set_txt(&P.dns, fqdn, value);
}

static void test_dns01_good_wrong_and_missing(void **state)
{
	(void)state;
	need_dns();
	set_txt("d1.example.test", KEYAUTH);
	expect_va("dns-01", "dns", "d1.example.test", KEYAUTH, NULL);
	set_txt("d2.example.test", KEYAUTH2);
	expect_va("dns-01", "dns", "d2.example.test", KEYAUTH, "incorrectResponse");
	expect_va("dns-01", "dns", "d3.example.test", KEYAUTH, "unauthorized");
	/* One of several records is enough (a name and its wildcard share the name). */
	set_txt("d2.example.test", KEYAUTH);
	expect_va("dns-01", "dns", "d2.example.test", KEYAUTH, NULL);
}

static void test_dns01_wildcard_reads_the_base_name(void **state)
{
	struct ca_va_config c = config();

	(void)state;
	need_dns();
	set_txt("wild.example.test", KEYAUTH);
	expect_with(&c, "dns-01", "dns", "wild.example.test", true, TOKEN, KEYAUTH, NULL, NULL);
}

static void test_dead_dns_server_is_dns_within_the_timeout(void **state)
{
	struct ca_va_config c = config();
	char dead[32];
	time_t t0 = time(NULL);

	(void)state;
	snprintf(dead, sizeof(dead), "127.0.0.1:%d", ts_free_port(SOCK_DGRAM));
	c.dns_server = dead;
	c.timeout_ms = 1000;
	expect_with(&c, "dns-01", "dns", "d1.example.test", false, TOKEN, KEYAUTH, "dns", NULL);
	expect_with(&c, "http-01", "dns", "d1.example.test", false, TOKEN, KEYAUTH, "dns", NULL);
	assert_true(time(NULL) - t0 <= 4);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A bound socket that never answers: UDP (a DNS server that drops every
 * query) or TCP listening without accepting (the kernel completes the
 * connection; then nothing is ever said). */
static int silent_socket(int type, int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, type, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 16), 0);
	getsockname(fd, (struct sockaddr *)&a, &alen);
	*port = ntohs(a.sin_port);
	return fd;
}

/* Each network step gives up at timeout_ms: a silent DNS server, an HTTP
 * server that never answers, a TLS server that never shakes hands. */
static void test_silent_peers_fail_within_timeout_ms(void **state)
{
	struct ca_va_config c = config();
	char dns[32];
	int port, udp = silent_socket(SOCK_DGRAM, &port), tcp;
	long long t0;

	(void)state;
	snprintf(dns, sizeof(dns), "127.0.0.1:%d", port);
	tcp = silent_socket(SOCK_STREAM, &port);
	c.timeout_ms = 800;
	c.dns_server = dns;
	c.http01_port = c.tlsalpn01_port = port;
	t0 = now_ms();
	expect_with(&c, "dns-01", "dns", "d1.example.test", false, TOKEN, KEYAUTH, "dns",
		    "no answer within 800 ms");
	assert_true(now_ms() - t0 >= 700 && now_ms() - t0 < 2000);
	t0 = now_ms();
	expect_with(&c, "http-01", "ip", "127.0.0.1", false, TOKEN, KEYAUTH, "connection", NULL);
	assert_true(now_ms() - t0 >= 700 && now_ms() - t0 < 2000);
	t0 = now_ms();
	expect_with(&c, "tls-alpn-01", "ip", "127.0.0.1", false, TOKEN, KEYAUTH, "connection",
		    "no TLS handshake in time");
	assert_true(now_ms() - t0 >= 700 && now_ms() - t0 < 2000);
	close(tcp);
	close(udp);
}

/* ---- CAA ---- */

static void expect_caa(const char *name, bool wildcard, const char *method, const char *expect,
		       const char *in_msg)
{
	struct ca_va_config c = config();
	struct aclm_err err = { 0 };
	const char *problem = NULL;
	aclm_status st = ca_caa_check(&c, name, wildcard, method, ACCOUNT, &problem, &err);
	char what[160];

	snprintf(what, sizeof(what), "CAA %s", name);
	ts_expect_problem(what, st == ACLM_OK, problem, err.msg, expect, in_msg);
}

static void test_caa_none_and_issue_for_us_allow(void **state)
{
	(void)state;
	need_dns();
	expect_caa("none.caa.test", false, "http-01", NULL, NULL);
	add_caa("us.caa.test", "issue", US);
	expect_caa("us.caa.test", false, "http-01", NULL, NULL);
	add_caa("upper.caa.test", "issue", "CA.Example");
	expect_caa("upper.caa.test", false, "http-01", NULL, NULL);
}

static void test_caa_issue_for_another_ca_or_empty_refuses(void **state)
{
	(void)state;
	need_dns();
	add_caa("them.caa.test", "issue", "letsencrypt.org");
	expect_caa("them.caa.test", false, "http-01", "caa", "names another CA");
	add_caa("empty.caa.test", "issue", ";");
	expect_caa("empty.caa.test", false, "http-01", "caa", "forbids every CA");
	/* Through the whole validation: the challenge passes, CAA refuses. */
	add_a("them.caa.test");
	expect_va("http-01", "dns", "them.caa.test", KEYAUTH, "caa");
}

static void test_caa_issuewild_governs_wildcards_only(void **state)
{
	(void)state;
	need_dns();
	mgmt("add-caa", "{\"host\":\"w1.caa.test.\",\"policies\":[{\"tag\":\"issue\",\"value\":"
	     "\"" US "\"},{\"tag\":\"issuewild\",\"value\":\";\"}]}");
	expect_caa("w1.caa.test", false, "dns-01", NULL, NULL);
	expect_caa("w1.caa.test", true, "dns-01", "caa", "issuewild");
	mgmt("add-caa", "{\"host\":\"w2.caa.test.\",\"policies\":[{\"tag\":\"issue\",\"value\":"
	     "\"other.ca\"},{\"tag\":\"issuewild\",\"value\":\"" US "\"}]}");
	expect_caa("w2.caa.test", true, "dns-01", NULL, NULL);
	expect_caa("w2.caa.test", false, "dns-01", "caa", NULL);
	/* no issuewild: issue applies to wildcards too */
	add_caa("w3.caa.test", "issue", "other.ca");
	expect_caa("w3.caa.test", true, "dns-01", "caa", NULL);
}

static void test_caa_accounturi_must_be_ours(void **state)
{
	(void)state;
	need_dns();
	add_caa("acct-ok.caa.test", "issue", US "; accounturi=" ACCOUNT);
	expect_caa("acct-ok.caa.test", false, "http-01", NULL, NULL);
	add_caa("acct-no.caa.test", "issue", US "; accounturi=https://ca.example/acme/acct/8");
	expect_caa("acct-no.caa.test", false, "http-01", "caa", "another account");
}

static void test_caa_validationmethods_must_list_the_method(void **state)
{
	(void)state;
	need_dns();
	add_caa("vm.caa.test", "issue", US "; validationmethods=dns-01,tls-alpn-01");
	expect_caa("vm.caa.test", false, "dns-01", NULL, NULL);
	expect_caa("vm.caa.test", false, "tls-alpn-01", NULL, NULL);
	expect_caa("vm.caa.test", false, "http-01", "caa", "does not allow http-01");
}

static void test_caa_found_on_a_parent_by_climbing(void **state)
{
	(void)state;
	need_dns();
	add_caa("climb.caa.test", "issue", "other.ca");
	expect_caa("a.b.climb.caa.test", false, "http-01", "caa", "CAA at climb.caa.test");
	/* the closest set wins: a child's permission beats its parent's refusal */
	add_caa("ok.climb.caa.test", "issue", US);
	expect_caa("x.ok.climb.caa.test", false, "http-01", NULL, NULL);
	/* The same through a whole http-01 validation, whose A query carries
	 * the CAA levels along: the parent's set refuses, the child's allows. */
	add_a("a.b.climb.caa.test");
	add_a("x.ok.climb.caa.test");
	expect_va("http-01", "dns", "a.b.climb.caa.test", KEYAUTH, "caa");
	expect_va("http-01", "dns", "x.ok.climb.caa.test", KEYAUTH, NULL);
}

static void test_caa_lookup_failure_is_dns_and_caa_check_off_skips(void **state)
{
	struct ca_va_config c = config();
	struct aclm_err err = { 0 };
	const char *problem = NULL;

	(void)state;
	need_dns();
	mgmt("set-servfail", "{\"host\":\"sf.caa.test.\"}");
	expect_caa("sf.caa.test", false, "http-01", "dns", "SERVFAIL");
	/* a level below the name's set failing is no permission in http-01's
	 * combined lookup either */
	mgmt("set-servfail", "{\"host\":\"x.sf2.caa.test.\"}");
	add_caa("sf2.caa.test", "issue", US);
	add_a("y.x.sf2.caa.test");
	expect_va("http-01", "dns", "y.x.sf2.caa.test", KEYAUTH, "dns");
	add_caa("off.caa.test", "issue", ";");
	c.caa_check = false;
	assert_int_equal(ca_caa_check(&c, "off.caa.test", false, "http-01", ACCOUNT, &problem,
				      &err), ACLM_OK);
}

/* ---- threads ---- */

static void *validate_many(void *arg)
{
	struct ca_va_config c = config();
	const char *names = arg;
	int failures = 0;

	for (int i = 0; i < 5; i++) {
		struct ca_va_request r = { .ident_type = "ip", .ident_value = "127.0.0.1",
					   .token = TOKEN, .key_authorization = KEYAUTH };
		struct aclm_err err = { 0 };
		const char *problem = NULL;

		r.challenge = i % 2 == 0 ? "http-01" : "tls-alpn-01";
		failures += ca_va_validate(&c, &r, &problem, &err) != ACLM_OK;
		if (names != NULL) {
			r = (struct ca_va_request){ .challenge = "dns-01", .ident_type = "dns",
						    .ident_value = names, .token = TOKEN,
						    .key_authorization = KEYAUTH };
			failures += ca_va_validate(&c, &r, &problem, &err) != ACLM_OK;
		}
	}
	return (void *)(intptr_t)failures;
}

static void test_validations_run_concurrently_on_threads(void **state)
{
	pthread_t t[4];
	void *failures;

	(void)state;
	present(&solver_tls_alpn_ops, P.tls, "tls-alpn-01", "127.0.0.1", KEYAUTH);
	if (P.dns.pid > 0)
		set_txt("threads.example.test", KEYAUTH);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, validate_many,
						P.dns.pid > 0 ? "threads.example.test" : NULL), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &failures), 0);
		assert_int_equal((intptr_t)failures, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http01_ipv4_identifier_served_by_the_solver_is_valid),
		cmocka_unit_test(test_http01_name_is_resolved_through_the_configured_server),
		cmocka_unit_test(test_http01_name_without_address_is_dns),
		cmocka_unit_test(test_http01_wrong_body_is_incorrect_response),
		cmocka_unit_test(test_http01_unknown_token_404_is_unauthorized),
		cmocka_unit_test(test_http01_nothing_listening_is_connection),
		cmocka_unit_test(test_http01_trailing_whitespace_is_ignored),
		cmocka_unit_test(test_http01_ten_redirects_are_followed_eleven_refused),
		cmocka_unit_test(test_http01_redirect_to_another_port_or_scheme_is_refused),
		cmocka_unit_test(test_http01_redirect_to_allowed_targets_is_followed),
		cmocka_unit_test(test_http01_redirect_to_a_name_resolves_it_through_the_server),
		cmocka_unit_test(test_http01_body_over_8_kib_is_refused),
		cmocka_unit_test(test_http01_ipv6_identifier_and_aaaa_only_name),
		cmocka_unit_test(test_loopback_targets_are_rejected_on_the_real_ports),
		cmocka_unit_test(test_bad_requests_are_refused_before_any_connection),
		cmocka_unit_test(test_kept_handle_opens_a_new_connection_for_every_get),
		cmocka_unit_test(test_kept_handle_connects_where_dns_says_now),
		cmocka_unit_test(test_tlsalpn01_good_for_a_name_and_an_ip),
		cmocka_unit_test(test_tlsalpn01_wrong_digest_is_incorrect_response),
		cmocka_unit_test(test_tlsalpn01_no_responder_is_connection_and_plain_http_is_tls),
		cmocka_unit_test(test_tlsalpn01_name_the_responder_does_not_know_is_tls),
		cmocka_unit_test(test_dns01_good_wrong_and_missing),
		cmocka_unit_test(test_dns01_wildcard_reads_the_base_name),
		cmocka_unit_test(test_dead_dns_server_is_dns_within_the_timeout),
		cmocka_unit_test(test_silent_peers_fail_within_timeout_ms),
		cmocka_unit_test(test_caa_none_and_issue_for_us_allow),
		cmocka_unit_test(test_caa_issue_for_another_ca_or_empty_refuses),
		cmocka_unit_test(test_caa_issuewild_governs_wildcards_only),
		cmocka_unit_test(test_caa_accounturi_must_be_ours),
		cmocka_unit_test(test_caa_validationmethods_must_list_the_method),
		cmocka_unit_test(test_caa_found_on_a_parent_by_climbing),
		cmocka_unit_test(test_caa_lookup_failure_is_dns_and_caa_check_off_skips),
		cmocka_unit_test(test_validations_run_concurrently_on_threads),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
