/* solvers/http_listen.c: the built-in http-01 server, fetched with libcurl. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "solvers/solver.h"
#include "solver_test.h"

#define KA_SUFFIX ".LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"

struct fetched {
	long status;
	char body[4096];
	size_t len;
	char ctype[128];
};

static size_t on_body(char *d, size_t size, size_t n, void *arg)
{
	struct fetched *f = arg;

	if (f->len + n >= sizeof(f->body))
		return 0;
	memcpy(f->body + f->len, d, n);
	f->len += n;
	f->body[f->len] = '\0';
	return n;
}

static CURLcode fetch(const char *method, int port, const char *path, struct fetched *f)
{
	char url[512];
	const char *ct = NULL;
	CURL *h = curl_easy_init();
	CURLcode rc;

	memset(f, 0, sizeof(*f));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, f);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "POST") == 0)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "x=1");
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &f->status);
	curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
	if (ct != NULL)
		snprintf(f->ctype, sizeof(f->ctype), "%s", ct);
	curl_easy_cleanup(h);
	return rc;
}

static aclm_status present(void *state, const char *token, const char *ka)
{
	struct solver_challenge ch = { .type = "http-01", .identifier = "example.org",
				       .token = token, .key_authorization = ka };
	struct aclm_err err = { 0 };

	return solver_http_listen_ops.present(state, &ch, &err);
}

static void cleanup_token(void *state, const char *token)
{
	struct solver_challenge ch = { .type = "http-01", .token = token };
	struct aclm_err err = { 0 };

	assert_int_equal(solver_http_listen_ops.cleanup(state, &ch, &err), ACLM_OK);
}

static void test_get_and_head_answer_presented_tokens(void **unused)
{
	int port;
	void *s = start_solver(&solver_http_listen_ops, &port);
	struct fetched f;

	assert_int_equal(present(s, "tokA_-1", "tokA_-1" KA_SUFFIX), ACLM_OK);
	assert_int_equal(present(s, "tokB", "tokB" KA_SUFFIX), ACLM_OK);
	assert_int_equal(fetch("GET", port, "/.well-known/acme-challenge/tokA_-1", &f), CURLE_OK);
	assert_int_equal(f.status, 200);
	assert_string_equal(f.body, "tokA_-1" KA_SUFFIX);
	assert_string_equal(f.ctype, "text/plain");
	assert_int_equal(fetch("GET", port, "/.well-known/acme-challenge/tokB", &f), CURLE_OK);
	assert_int_equal(f.status, 200);
	assert_string_equal(f.body, "tokB" KA_SUFFIX);
	assert_int_equal(fetch("HEAD", port, "/.well-known/acme-challenge/tokB", &f), CURLE_OK);
	assert_int_equal(f.status, 200);
	assert_int_equal(f.len, 0);
	/* presented again: the newest key authorization is served */
	assert_int_equal(present(s, "tokB", "tokB.other"), ACLM_OK);
	assert_int_equal(fetch("GET", port, "/.well-known/acme-challenge/tokB", &f), CURLE_OK);
	assert_string_equal(f.body, "tokB.other");
	solver_http_listen_ops.stop(s);
}

static void test_unknown_tokens_and_other_paths_are_404(void **unused)
{
	int port;
	void *s = start_solver(&solver_http_listen_ops, &port);
	struct fetched f;
	static const char *const paths[] = {
		"/.well-known/acme-challenge/nope", "/.well-known/acme-challenge/",
		"/.well-known/acme-challenge/tokA/x", "/tokA", "/", "/.well-known/acme-challenge/tokA.",
		"/.well-known/acme-challenge/%74okA",
	};

	assert_int_equal(present(s, "tokA", "tokA" KA_SUFFIX), ACLM_OK);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		assert_int_equal(fetch("GET", port, paths[i], &f), CURLE_OK);
		assert_int_equal(f.status, 404);
	}
	solver_http_listen_ops.stop(s);
}

static void test_post_is_405(void **unused)
{
	int port;
	void *s = start_solver(&solver_http_listen_ops, &port);
	struct fetched f;

	assert_int_equal(present(s, "tokA", "tokA" KA_SUFFIX), ACLM_OK);
	assert_int_equal(fetch("POST", port, "/.well-known/acme-challenge/tokA", &f), CURLE_OK);
	assert_int_equal(f.status, 405);
	assert_null(strstr(f.body, KA_SUFFIX));
	solver_http_listen_ops.stop(s);
}

static void test_present_refuses_tokens_that_are_not_base64url(void **unused)
{
	int port;
	void *s = start_solver(&solver_http_listen_ops, &port);
	static const char *const bad[] = { "a/b", "..", "../x", "a.b", "", "a b", "a%2f", "a+b=" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char ka[64];

		snprintf(ka, sizeof(ka), "%s%s", bad[i], KA_SUFFIX);
		assert_int_equal(present(s, bad[i], ka), ACLM_ERR_INVALID);
	}
	/* the key authorization must be TOKEN.THUMBPRINT of that token */
	assert_int_equal(present(s, "tokA", "tokB" KA_SUFFIX), ACLM_ERR_INVALID);
	assert_int_equal(present(s, "tokA", "tokA"), ACLM_ERR_INVALID);
	assert_int_equal(present(s, "tokA", "tokA.a/b"), ACLM_ERR_INVALID);
	solver_http_listen_ops.stop(s);
}

static void test_cleanup_makes_token_404(void **unused)
{
	int port;
	void *s = start_solver(&solver_http_listen_ops, &port);
	struct fetched f;

	assert_int_equal(present(s, "tokA", "tokA" KA_SUFFIX), ACLM_OK);
	assert_int_equal(present(s, "tokB", "tokB" KA_SUFFIX), ACLM_OK);
	cleanup_token(s, "tokA");
	cleanup_token(s, "tokA"); /* twice: still fine */
	assert_int_equal(fetch("GET", port, "/.well-known/acme-challenge/tokA", &f), CURLE_OK);
	assert_int_equal(f.status, 404);
	assert_int_equal(fetch("GET", port, "/.well-known/acme-challenge/tokB", &f), CURLE_OK);
	assert_int_equal(f.status, 200);
	solver_http_listen_ops.stop(s);
}

#define PER_THREAD 200

struct presenter {
	void *state;
	char prefix;
	int failures;
};

static void *present_many(void *arg)
{
	struct presenter *p = arg;

	for (int i = 0; i < PER_THREAD; i++) {
		char tok[32], ka[96];

		snprintf(tok, sizeof(tok), "%c%d", p->prefix, i);
		snprintf(ka, sizeof(ka), "%s%s", tok, KA_SUFFIX);
		p->failures += present(p->state, tok, ka) != ACLM_OK;
		if (i % 2 == 1) { /* interleave removals with the other thread's inserts */
			snprintf(tok, sizeof(tok), "%c%d", p->prefix, i - 1);
			struct solver_challenge ch = { .token = tok };

			p->failures += solver_http_listen_ops.cleanup(p->state, &ch, NULL) != ACLM_OK;
		}
	}
	return NULL;
}

static void test_concurrent_presents_from_two_threads(void **unused)
{
	int port;
	void *s = start_solver(&solver_http_listen_ops, &port);
	struct presenter a = { .state = s, .prefix = 'a' }, b = { .state = s, .prefix = 'b' };
	pthread_t ta, tb;
	struct fetched f;

	assert_int_equal(pthread_create(&ta, NULL, present_many, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, present_many, &b), 0);
	/* the server answers while the table changes */
	for (int i = 0; i < 20; i++)
		assert_int_equal(fetch("GET", port, "/.well-known/acme-challenge/zz", &f), CURLE_OK);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(a.failures + b.failures, 0);
	for (int i = 0; i < PER_THREAD; i++) {
		for (char c = 'a'; c <= 'b'; c++) {
			char path[96], want[96];

			snprintf(path, sizeof(path), "/.well-known/acme-challenge/%c%d", c, i);
			snprintf(want, sizeof(want), "%c%d%s", c, i, KA_SUFFIX);
			assert_int_equal(fetch("GET", port, path, &f), CURLE_OK);
			assert_int_equal(f.status, i % 2 == 1 ? 200 : 404);
			if (i % 2 == 1)
				assert_string_equal(f.body, want);
		}
	}
	solver_http_listen_ops.stop(s);
}

static void test_stop_releases_the_port(void **unused)
{
	int port;
	void *s = start_solver(&solver_http_listen_ops, &port);
	struct fetched f;
	struct aclm_err err = { 0 };
	aclm_status st;

	assert_int_equal(present(s, "tokA", "tokA" KA_SUFFIX), ACLM_OK);
	assert_int_equal(fetch("GET", port, "/.well-known/acme-challenge/tokA", &f), CURLE_OK);
	solver_http_listen_ops.stop(s);
	assert_int_not_equal(fetch("GET", port, "/", &f), CURLE_OK); /* nobody listens */
	s = start_on(&solver_http_listen_ops, port, &err, &st);
	if (st != ACLM_OK)
		fail_msg("restart: %s", err.msg);
	/* a new run starts with an empty table */
	assert_int_equal(fetch("GET", port, "/.well-known/acme-challenge/tokA", &f), CURLE_OK);
	assert_int_equal(f.status, 404);
	solver_http_listen_ops.stop(s);
	/* start and stop at once: the stop is not lost before the loop runs */
	s = start_on(&solver_http_listen_ops, port, &err, &st);
	assert_int_equal(st, ACLM_OK);
	solver_http_listen_ops.stop(s);
}

static void test_second_listener_on_a_port_is_address_in_use(void **unused)
{
	expect_address_in_use(&solver_http_listen_ops);
}

static void test_unparsable_addresses_are_refused(void **unused)
{
	static const char *const bad[] = { "", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0",
					   "127.0.0.1:65536", "127.0.0.1:8x", "::1:80", "[::1]80",
					   "[::1:80", "localhost:80", "999.1.1.1:80", ":-1" };

	expect_addresses_refused(&solver_http_listen_ops, bad, sizeof(bad) / sizeof(bad[0]));
}

static void test_ipv6_loopback_when_available(void **unused)
{
	expect_ipv6_loopback_starts(&solver_http_listen_ops);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_and_head_answer_presented_tokens),
		cmocka_unit_test(test_unknown_tokens_and_other_paths_are_404),
		cmocka_unit_test(test_post_is_405),
		cmocka_unit_test(test_present_refuses_tokens_that_are_not_base64url),
		cmocka_unit_test(test_cleanup_makes_token_404),
		cmocka_unit_test(test_concurrent_presents_from_two_threads),
		cmocka_unit_test(test_stop_releases_the_port),
		cmocka_unit_test(test_second_listener_on_a_port_is_address_in_use),
		cmocka_unit_test(test_unparsable_addresses_are_refused),
		cmocka_unit_test(test_ipv6_loopback_when_available),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
