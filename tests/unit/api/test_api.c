/* api/: route matching, cursors, problem documents, the Prometheus text of
 * the HTTP metrics and the login rate limit (the pieces without a server;
 * tests/integration/test_api.sh drives the real one). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <event2/http.h>

#include "acme/acme.h"
#include "core/json.h"
#include "api/api_int.h"

static void h_dummy(struct api__req *r)
{
	(void)r;
}

static const struct api__route table[] = {
	{ EVHTTP_REQ_GET, "/healthz", AUTH_READ, API__PUBLIC, API__C_HEALTH, h_dummy },
	{ EVHTTP_REQ_GET, "/api/v1/certificates", AUTH_READ, 0, API__C_CERTIFICATES, h_dummy },
	{ EVHTTP_REQ_POST, "/api/v1/certificates", AUTH_WRITE, 0, API__C_CERTIFICATES, h_dummy },
	{ EVHTTP_REQ_GET, "/api/v1/certificates/{id}", AUTH_READ, 0, API__C_CERTIFICATES, h_dummy },
	{ EVHTTP_REQ_DELETE, "/api/v1/certificates/{id}", AUTH_WRITE, 0, API__C_CERTIFICATES,
	  h_dummy },
	{ EVHTTP_REQ_GET, "/api/v1/certificates/{id}/export", AUTH_READ, 0, API__C_CERTIFICATES,
	  h_dummy },
	{ EVHTTP_REQ_GET, "/api/v1/x/{a}/y/{b}", AUTH_READ, 0, API__C_OTHER, h_dummy },
};
#define TABLE_N (sizeof(table) / sizeof(table[0]))

static const struct api__route *find(int method, const char *path, unsigned *allow,
				     char params[API__PARAMS_MAX][API__PARAM_MAX], int *n)
{
	return api__route_find(table, TABLE_N, method, path, params, n, allow);
}

static void test_router_captures_ids_and_picks_the_method(void **state)
{
	char p[API__PARAMS_MAX][API__PARAM_MAX];
	unsigned allow;
	int n;

	(void)state;
	assert_ptr_equal(find(EVHTTP_REQ_GET, "/api/v1/certificates/42", &allow, p, &n), &table[3]);
	assert_int_equal(n, 1);
	assert_string_equal(p[0], "42");
	assert_ptr_equal(find(EVHTTP_REQ_DELETE, "/api/v1/certificates/7", &allow, p, &n),
			 &table[4]);
	assert_string_equal(p[0], "7");
	assert_ptr_equal(find(EVHTTP_REQ_GET, "/api/v1/certificates/7/export", &allow, p, &n),
			 &table[5]);
	assert_ptr_equal(find(EVHTTP_REQ_POST, "/api/v1/certificates", &allow, p, &n), &table[2]);
	assert_int_equal(n, 0);
	/* HEAD is answered by the GET route (RFC 9110 §9.3.2). */
	assert_ptr_equal(find(EVHTTP_REQ_HEAD, "/healthz", &allow, p, &n), &table[0]);
	assert_ptr_equal(find(EVHTTP_REQ_GET, "/api/v1/x/1/y/two", &allow, p, &n), &table[6]);
	assert_int_equal(n, 2);
	assert_string_equal(p[0], "1");
	assert_string_equal(p[1], "two");
}

static void test_router_405_lists_the_allowed_methods(void **state)
{
	char p[API__PARAMS_MAX][API__PARAM_MAX], hdr[64];
	unsigned allow;
	int n;

	(void)state;
	assert_null(find(EVHTTP_REQ_DELETE, "/api/v1/certificates", &allow, p, &n));
	assert_int_equal(allow, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST);
	api__allow_header(allow, hdr, sizeof(hdr));
	assert_string_equal(hdr, "GET, HEAD, POST");
	assert_null(find(EVHTTP_REQ_POST, "/api/v1/certificates/3", &allow, p, &n));
	assert_int_equal(allow, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_DELETE);
}

static void test_router_rejects_near_misses(void **state)
{
	char p[API__PARAMS_MAX][API__PARAM_MAX], longid[API__PARAM_MAX + 40];
	char path[API__PARAM_MAX + 80];
	unsigned allow;
	int n;

	(void)state;
	assert_null(find(EVHTTP_REQ_GET, "/api/v1/certificates/", &allow, p, &n));
	assert_int_equal(allow, 0);
	assert_null(find(EVHTTP_REQ_GET, "/api/v1/certificates//export", &allow, p, &n));
	assert_null(find(EVHTTP_REQ_GET, "/api/v1/certificates/1/export/", &allow, p, &n));
	assert_null(find(EVHTTP_REQ_GET, "/api/v1/certificatesX", &allow, p, &n));
	assert_null(find(EVHTTP_REQ_GET, "/api/v1/certificates/1/2", &allow, p, &n));
	assert_null(find(EVHTTP_REQ_GET, "/healthz/", &allow, p, &n));
	assert_null(find(EVHTTP_REQ_GET, "", &allow, p, &n));
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	snprintf(path, sizeof(path), "/api/v1/certificates/%s", longid);
	assert_null(find(EVHTTP_REQ_GET, path, &allow, p, &n));
}

static void test_real_routes_match_themselves_only(void **state)
{
	char p[API__PARAMS_MAX][API__PARAM_MAX], path[API__PATH_MAX];
	unsigned allow;
	int n;

	(void)state;
	/* Each route, with its {..} filled in, must find that same route: no
	 * earlier line shadows a later one. */
	for (size_t i = 0; i < api__routes_n; i++) {
		const char *s = api__routes[i].pattern;
		size_t j = 0;

		while (*s != '\0' && j + 4 < sizeof(path)) {
			if (*s == '{') {
				memcpy(path + j, "123", 3);
				j += 3;
				s = strchr(s, '}') + 1;
			} else {
				path[j++] = *s++;
			}
		}
		path[j] = '\0';
		assert_ptr_equal(api__route_find(api__routes, api__routes_n, api__routes[i].method,
						 path, p, &n, &allow),
				 &api__routes[i]);
	}
}

/* docs/openapi.json (embedded at build time) describes every route of the
 * table, and nothing the table lacks. */
static void test_openapi_document_matches_the_route_table(void **state)
{
	json_t *doc = json_loadb((const char *)api__openapi_json, api__openapi_json_len, 0, NULL);
	json_t *paths = json_object_get(doc, "paths"), *ops;
	const char *path;
	size_t described = 0;

	(void)state;
	assert_non_null(paths);
	for (size_t i = 0; i < api__routes_n; i++) {
		char m[16];
		const char *name = api__method_name(api__routes[i].method);
		size_t k;

		for (k = 0; name[k] != '\0' && k + 1 < sizeof(m); k++)
			m[k] = (char)(name[k] - 'A' + 'a');
		m[k] = '\0';
		if (json_object_get(json_object_get(paths, api__routes[i].pattern), m) == NULL)
			fail_msg("%s %s is not in docs/openapi.json", name, api__routes[i].pattern);
	}
	json_object_foreach(paths, path, ops) {
		const char *m;
		json_t *op;

		json_object_foreach(ops, m, op) {
			bool found = false;

			for (size_t i = 0; i < api__routes_n && !found; i++)
				found = strcmp(api__routes[i].pattern, path) == 0 &&
					strcasecmp(api__method_name(api__routes[i].method), m) == 0;
			if (!found)
				fail_msg("docs/openapi.json has %s %s, the server does not", m, path);
			described++;
		}
	}
	assert_int_equal(described, api__routes_n);
	json_decref(doc);
}

static bool decodes_as(const char *plain, struct api__cursor *c)
{
	char *b = acme_b64url_encode((const unsigned char *)plain, strlen(plain));
	bool ok = api__cursor_decode(b, c);

	free(b);
	return ok;
}

static void test_cursor_round_trips_and_refuses_forgeries(void **state)
{
	const struct api__cursor cs[] = {
		{ false, 0, 1 },	  { false, 0, 9 },	{ false, 0, 12345 },
		{ false, 0, 999999999999999999LL }, { true, 1800000000, 7 },
		{ true, -86400, 3 },	  { true, 0, 1 },
	};
	struct api__cursor c;
	char s[API__CURSOR_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
		api__cursor_encode(&cs[i], s);
		assert_true(strlen(s) > 0);
		/* Opaque: not the decimal id itself. */
		assert_true(strspn(s, "0123456789") != strlen(s));
		assert_true(api__cursor_decode(s, &c));
		assert_int_equal(c.has_key, cs[i].has_key);
		assert_int_equal(c.key, cs[i].key);
		assert_int_equal(c.id, cs[i].id);
	}
	assert_false(api__cursor_decode("", &c));
	assert_false(api__cursor_decode("12", &c));        /* not base64url of a position */
	assert_false(api__cursor_decode("!!!!", &c));
	assert_false(decodes_as("-5", &c));
	assert_false(decodes_as("0", &c));
	assert_false(decodes_as("007", &c));                /* one spelling per number */
	assert_false(decodes_as("1 OR 1=1", &c));
	assert_false(decodes_as("9999999999999999999", &c)); /* would overflow */
	assert_false(decodes_as("5.", &c));
	assert_false(decodes_as(".5", &c));
	assert_false(decodes_as("5.0", &c));
	assert_false(decodes_as("5.6.7", &c));
	assert_false(decodes_as("--5.6", &c));
	assert_true(decodes_as("5.6", &c));
	assert_true(c.has_key && c.key == 5 && c.id == 6);
}

static void same_as_jansson(json_t *v)
{
	struct aclm_buf b;
	char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	aclm_buf_init(&b, 1 << 20);
	assert_int_equal(aclm_json_write(&b, v), ACLM_OK);
	assert_non_null(want);
	assert_int_equal(b.len, strlen(want));
	assert_string_equal((const char *)b.data, want);
	free(want);
	aclm_buf_free(&b);
	json_decref(v);
}

/* Replies are written by aclm_json_write: exactly jansson's compact text. */
static void test_json_writer_matches_jansson(void **state)
{
	char ctl[40];

	(void)state;
	for (int i = 0; i < 32; i++)
		ctl[i] = (char)(i + 1 == 32 ? 0x7f : i + 1);
	ctl[32] = '\0';
	same_as_jansson(json_pack("{s:s, s:I, s:b, s:b, s:n, s:[], s:{}, s:[i, s, {s:[]}]}", "id",
				  "42", "big", (json_int_t)-9007199254740993LL, "t", 1, "f", 0, "z",
				  "ea", "eo", "arr", 1, "x", "nested"));
	same_as_jansson(json_pack("{s:s, s:s, s:s}", "esc", "quote\" back\\ slash/ tab\t nl\n",
				  "utf8", "\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x94\x92 caf\xc3\xa9",
				  "ctl", ctl));
	same_as_jansson(json_pack("[f, f, f, f]", 0.1, 1.0, -2.5e-300, 123456789.0));
	same_as_jansson(json_stringn("nul\0inside", 11));
	same_as_jansson(json_pack("{s:s}", "k\"ey\n", "v"));
	same_as_jansson(json_integer(0));
	same_as_jansson(json_array());
}

static void test_problem_body_has_the_four_members(void **state)
{
	json_t *p = api__problem_body(404, "not-found", "no such certificate");

	(void)state;
	assert_non_null(p);
	assert_int_equal(json_object_size(p), 4);
	assert_string_equal(json_string_value(json_object_get(p, "type")),
			    "urn:aclm:problem:not-found");
	assert_string_equal(json_string_value(json_object_get(p, "title")), "Not Found");
	assert_int_equal(json_integer_value(json_object_get(p, "status")), 404);
	assert_string_equal(json_string_value(json_object_get(p, "detail")), "no such certificate");
	json_decref(p);
	p = api__problem_body(429, "rate-limited", NULL);
	assert_string_equal(json_string_value(json_object_get(p, "title")), "Too Many Requests");
	assert_string_equal(json_string_value(json_object_get(p, "detail")), "");
	json_decref(p);
}

static void test_metrics_text_counts_and_cumulates(void **state)
{
	struct api__http_metrics *m = calloc(1, sizeof(*m));
	struct aclm_buf b;
	const char *t;

	(void)state;
	aclm_buf_init(&b, 1 << 20);
	api__metrics_observe(m, API__C_CERTIFICATES, 200, 800);     /* 0.8 ms */
	api__metrics_observe(m, API__C_CERTIFICATES, 200, 30000);   /* 30 ms */
	api__metrics_observe(m, API__C_CERTIFICATES, 404, 9000000); /* 9 s: +Inf only */
	api__metrics_observe(m, API__C_AUTH, 299, 100);              /* unknown code */
	assert_int_equal(api__metrics_http_text(m, &b), ACLM_OK);
	t = (const char *)b.data;
	assert_non_null(strstr(t, "# TYPE aclm_http_requests_total counter\n"));
	assert_non_null(strstr(t, "aclm_http_requests_total{class=\"certificates\",status=\"200\"} 2\n"));
	assert_non_null(strstr(t, "aclm_http_requests_total{class=\"certificates\",status=\"404\"} 1\n"));
	assert_non_null(strstr(t, "aclm_http_requests_total{class=\"auth\",status=\"other\"} 1\n"));
	assert_null(strstr(t, "class=\"tenants\""));
	assert_non_null(strstr(t, "# TYPE aclm_http_request_duration_seconds histogram\n"));
	assert_non_null(strstr(t, "aclm_http_request_duration_seconds_bucket{class=\"certificates\","
				  "le=\"0.001\"} 1\n"));
	assert_non_null(strstr(t, "aclm_http_request_duration_seconds_bucket{class=\"certificates\","
				  "le=\"0.025\"} 1\n"));
	assert_non_null(strstr(t, "aclm_http_request_duration_seconds_bucket{class=\"certificates\","
				  "le=\"0.05\"} 2\n"));
	assert_non_null(strstr(t, "aclm_http_request_duration_seconds_bucket{class=\"certificates\","
				  "le=\"5\"} 2\n"));
	assert_non_null(strstr(t, "aclm_http_request_duration_seconds_bucket{class=\"certificates\","
				  "le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(t, "aclm_http_request_duration_seconds_count{class=\"certificates\"} 3\n"));
	assert_non_null(strstr(t, "aclm_http_request_duration_seconds_sum{class=\"certificates\"} 9.030800\n"));
	aclm_buf_reset(&b);
	assert_int_equal(api__metrics_label(&b, "a\"b\\c\nd"), ACLM_OK);
	assert_string_equal((const char *)b.data, "a\\\"b\\\\c\\nd");
	aclm_buf_free(&b);
	free(m);
}

static void test_login_limit_blocks_the_sixth_try_per_key(void **state)
{
	struct api__limit *l = malloc(sizeof(*l));
	int64_t retry = 0;

	(void)state;
	api__limit_init(l, 5, 60);
	for (int i = 0; i < 5; i++)
		assert_true(api__limit_take(l, "ip:10.0.0.1", 1000 + i, &retry));
	assert_false(api__limit_take(l, "ip:10.0.0.1", 1010, &retry));
	assert_int_equal(retry, 50);
	/* Another key has its own budget. */
	assert_true(api__limit_take(l, "user:default/alice", 1010, &retry));
	/* A new window starts over. */
	assert_true(api__limit_take(l, "ip:10.0.0.1", 1060, &retry));
	/* The new window counts from its first try: four more, then blocked. */
	for (int i = 0; i < 4; i++)
		assert_true(api__limit_take(l, "ip:10.0.0.1", 1061, &retry));
	assert_false(api__limit_take(l, "ip:10.0.0.1", 1062, &retry));
	api__limit_destroy(l);
	free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_router_captures_ids_and_picks_the_method),
		cmocka_unit_test(test_router_405_lists_the_allowed_methods),
		cmocka_unit_test(test_router_rejects_near_misses),
		cmocka_unit_test(test_real_routes_match_themselves_only),
		cmocka_unit_test(test_openapi_document_matches_the_route_table),
		cmocka_unit_test(test_cursor_round_trips_and_refuses_forgeries),
		cmocka_unit_test(test_json_writer_matches_jansson),
		cmocka_unit_test(test_problem_body_has_the_four_members),
		cmocka_unit_test(test_metrics_text_counts_and_cumulates),
		cmocka_unit_test(test_login_limit_blocks_the_sixth_try_per_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
