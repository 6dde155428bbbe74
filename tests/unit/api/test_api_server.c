/* api/: the server in-process: starting (port in use), /healthz and
 * /readyz before and after api_server_set_ready, the serving certificate
 * (from aclm's own CA when there is one, else self-signed), stopping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "api/api.h"
#include "ca/ca.h"
#include "crypto/key.h"
#include "testsupport.h"

struct got {
	long status;
	char body[4096];
	size_t len;
	char issuer[512];
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct got *g = arg;
	size_t len = size * n, room = sizeof(g->body) - 1 - g->len;

	memcpy(g->body + g->len, p, len < room ? len : room);
	g->len += len < room ? len : room;
	g->body[g->len] = '\0';
	return len;
}

/* GET https://127.0.0.1:port/path without verification (the test checks
 * the issuer itself). */
static void get(int port, const char *path, struct got *g)
{
	CURL *c = curl_easy_init();
	struct curl_certinfo *ci = NULL;
	char url[128];

	memset(g, 0, sizeof(*g));
	snprintf(url, sizeof(url), "https://127.0.0.1:%d%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_CERTINFO, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, g);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &g->status);
	if (curl_easy_getinfo(c, CURLINFO_CERTINFO, &ci) == CURLE_OK && ci != NULL &&
	    ci->num_of_certs > 0)
		for (struct curl_slist *s = ci->certinfo[0]; s != NULL; s = s->next)
			if (strncmp(s->data, "Issuer:", 7) == 0)
				snprintf(g->issuer, sizeof(g->issuer), "%s", s->data + 7);
	curl_easy_cleanup(c);
}

static void start(struct ts_home *h, int port, char *listen, size_t n, struct api_server **srv)
{
	struct api_opts o = { .home = h->dir, .db = "sqlite:aclm.db", .workers = 2 };
	struct aclm_err err = { 0 };

	snprintf(listen, n, "127.0.0.1:%d", port);
	o.listen = listen;
	if (api_server_start(&o, srv, &err) != ACLM_OK)
		fail_msg("api_server_start: %s", err.msg);
}

static void test_readyz_waits_for_set_ready(void **state)
{
	struct ts_home h;
	struct api_server *srv = NULL, *second = NULL;
	struct api_opts o2 = { 0 };
	struct aclm_err err = { 0 };
	char listen[32];
	int port = ts_free_port(SOCK_STREAM);
	struct got g;

	(void)state;
	assert_int_equal(ts_home_open(&h, "api-srv"), 0);
	start(&h, port, listen, sizeof(listen), &srv);
	get(port, "/healthz", &g);
	assert_int_equal(g.status, 200);
	get(port, "/readyz", &g);
	assert_int_equal(g.status, 503);
	assert_non_null(strstr(g.body, "urn:aclm:problem:not-ready"));
	api_server_set_ready(srv, true);
	get(port, "/readyz", &g);
	assert_int_equal(g.status, 200);
	/* No CA in the store: a self-signed certificate. */
	assert_non_null(strstr(g.issuer, "aclm api (self-signed)"));
	/* The port is taken: BUSY naming the address. */
	o2.home = h.dir;
	o2.db = "sqlite:aclm.db";
	o2.listen = listen;
	assert_int_equal(api_server_start(&o2, &second, &err), ACLM_ERR_BUSY);
	assert_non_null(strstr(err.msg, listen));
	assert_null(second);
	api_server_stop(srv);
	assert_false(ts_tcp_accepts(port));
	assert_int_equal(ts_home_close(&h), 0);
}

static void test_serving_certificate_comes_from_the_own_ca(void **state)
{
	static const enum crypto_key_type types[] = { CRYPTO_KEY_P256 };
	struct ca_init_opts co = { .name = "Corp", .types = types, .ntypes = 1 };
	struct ts_home h;
	struct inventory inv = { 0 };
	struct api_server *srv = NULL;
	struct aclm_err err = { 0 };
	char listen[32];
	int port = ts_free_port(SOCK_STREAM);
	struct got g;

	(void)state;
	assert_int_equal(ts_home_open(&h, "api-ca"), 0);
	inv.store = h.store;
	inv.ks = h.ks;
	inv.tenant_id = h.tenant;
	inv.tenant = "default";
	inv.actor = "test";
	if (ca_init(&inv, &co, &err) != ACLM_OK)
		fail_msg("ca_init: %s", err.msg);
	start(&h, port, listen, sizeof(listen), &srv);
	get(port, "/healthz", &g);
	assert_int_equal(g.status, 200);
	assert_non_null(strstr(g.issuer, "Corp"));
	assert_null(strstr(g.issuer, "self-signed"));
	api_server_stop(srv);
	assert_int_equal(ts_home_close(&h), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readyz_waits_for_set_ready),
		cmocka_unit_test(test_serving_certificate_comes_from_the_own_ca),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
