/* api/: the resources beyond certificates and identities, through a real
 * server in-process: endpoints (pages, last observation, inventory status,
 * drift), ... ; every one checked for tenant isolation (another tenant's
 * row answers byte for byte as an absent one) and roles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "api/api.h"
#include "auth/auth.h"
#include "inventory/inventory.h"
#include "store/store.h"
#include "store/store_scan.h"
#include "testsupport.h"

#define BODY_MAX (256 * 1024)

struct got {
	long status;
	char *body;
	size_t len;
	char location[256];
	json_t *json;
};

static void got_free(struct got *g)
{
	free(g->body);
	json_decref(g->json);
	memset(g, 0, sizeof(*g));
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct got *g = arg;
	size_t len = size * n;

	if (g->len + len > BODY_MAX)
		return 0;
	memcpy(g->body + g->len, p, len);
	g->len += len;
	g->body[g->len] = '\0';
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct got *g = arg;
	size_t len = size * n;

	if (len > 10 && strncasecmp(p, "Location: ", 10) == 0)
		snprintf(g->location, sizeof(g->location), "%.*s", (int)(len - 12), p + 10);
	return len;
}

struct env {
	struct ts_home h;
	struct api_server *srv;
	int port;
	int64_t tenant_b;
	char viewer[AUTH_TOKEN_MAX], operator_[AUTH_TOKEN_MAX], other[AUTH_TOKEN_MAX];
};

/* METHOD path with token and an optional JSON body; the answer in g. */
static void call(const struct env *e, const char *method, const char *path, const char *token,
		 const char *json_body, struct got *g)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char url[512], authz[AUTH_TOKEN_MAX + 32];

	memset(g, 0, sizeof(*g));
	g->body = calloc(1, BODY_MAX + 1);
	assert_non_null(g->body);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d%s", e->port, path);
	snprintf(authz, sizeof(authz), "Authorization: Bearer %s", token);
	hdrs = curl_slist_append(hdrs, authz);
	if (json_body != NULL) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, json_body);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, g);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, g);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &g->status);
	g->json = json_loadb(g->body, g->len, 0, NULL);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
}

static void token(struct env *e, int64_t tenant, enum auth_role role, char out[AUTH_TOKEN_MAX])
{
	struct auth_token_req t = { .tenant_id = tenant, .name = "t", .role = role,
				    .scope = AUTH_SCOPE_API };
	struct aclm_err err = { 0 };
	char id[32];

	if (auth_token_create(e->h.store, &t, out, id, &err) != ACLM_OK)
		fail_msg("auth_token_create: %s", err.msg);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct api_opts o = { .db = "sqlite:aclm.db", .workers = 2 };
	struct aclm_err err = { 0 };
	char listen[32];

	assert_non_null(e);
	assert_int_equal(ts_home_open(&e->h, "api-res"), 0);
	assert_int_equal(store_tenant_ensure(e->h.store, "other", &e->tenant_b, &err), ACLM_OK);
	token(e, e->h.tenant, AUTH_ROLE_VIEWER, e->viewer);
	token(e, e->h.tenant, AUTH_ROLE_OPERATOR, e->operator_);
	token(e, e->tenant_b, AUTH_ROLE_ADMIN, e->other);
	e->port = ts_free_port(SOCK_STREAM);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", e->port);
	o.home = e->h.dir;
	o.listen = listen;
	if (api_server_start(&o, &e->srv, &err) != ACLM_OK)
		fail_msg("api_server_start: %s", err.msg);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	api_server_stop(e->srv);
	assert_int_equal(ts_home_close(&e->h), 0);
	free(e);
	return 0;
}

/* A self-signed P-256 leaf for name, added to the tenant's inventory with
 * source; its row id and fingerprint. */
static int64_t add_leaf(struct env *e, int64_t tenant, const char *name, const char *source,
			char fp[65])
{
	struct inventory inv = { .store = e->h.store, .ks = e->h.ks, .tenant_id = tenant,
				 .tenant = "t", .actor = "test" };
	struct inventory_import_opts io = { .source = source };
	struct aclm_err err = { 0 };
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	unsigned char md[32];
	unsigned int mdlen = 0;
	int64_t id = 0;
	static long serial = 1;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)name, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 30 * 86400);
	X509_set_pubkey(x, k);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	X509_digest(x, EVP_sha256(), md, &mdlen);
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(fp + 2 * i, 3, "%02x", md[i]);
	assert_int_equal(store_begin(e->h.store, &err), ACLM_OK);
	if (inventory_add_cert(&inv, x, &io, &id, &err) != ACLM_OK)
		fail_msg("inventory_add_cert: %s", err.msg);
	assert_int_equal(store_commit(e->h.store, &err), ACLM_OK);
	X509_NAME_free(n);
	X509_free(x);
	EVP_PKEY_free(k);
	return id;
}

static int64_t add_endpoint(struct env *e, int64_t tenant, const char *host, int port,
			    int64_t seen)
{
	struct store_scan_endpoint ep = { .tenant_id = tenant, .port = port, .last_seen = seen };
	struct aclm_err err = { 0 };
	int64_t id = 0;

	snprintf(ep.host, sizeof(ep.host), "%s", host);
	snprintf(ep.ip, sizeof(ep.ip), "127.0.0.1");
	assert_int_equal(store_scan_endpoint_upsert(e->h.store, &ep, &id, &err), ACLM_OK);
	return id;
}

static void observe(struct env *e, int64_t tenant, int64_t endpoint, int64_t cert, int64_t at)
{
	struct store_scan_observation o = { .tenant_id = tenant, .endpoint_id = endpoint,
					    .cert_id = cert, .observed_at = at };
	struct aclm_err err = { 0 };
	int64_t id;

	snprintf(o.ip, sizeof(o.ip), "127.0.0.1");
	assert_int_equal(store_scan_observation_add(e->h.store, &o, &id, &err), ACLM_OK);
}

/* Another tenant's row and an absent one: same status, same bytes. */
static void assert_looks_absent(struct env *e, const char *method, const char *theirs,
				const char *absent, const char *body)
{
	struct got a, b;

	call(e, method, theirs, e->other, body, &a);
	call(e, method, absent, e->other, body, &b);
	if (a.status != 404 || b.status != 404 || strcmp(a.body, b.body) != 0)
		fail_msg("%s %s: %ld %s vs absent %ld %s", method, theirs, a.status, a.body, b.status,
			 b.body);
	got_free(&a);
	got_free(&b);
}

static const char *str_at(const json_t *j, const char *path)
{
	char buf[128], *save = NULL;
	const json_t *v = j;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k != NULL && v != NULL;
	     k = strtok_r(NULL, ".", &save)) {
		char *end;
		long idx = strtol(k, &end, 10);

		v = *end == '\0' && json_is_array(v) ? json_array_get(v, (size_t)idx)
						     : json_object_get(v, k);
	}
	return json_string_value(v);
}

/* ---- endpoints ---- */

static void test_endpoints_page_with_last_observation_in_own_tenant(void **state)
{
	struct env *e = *state;
	char fp_known[65], fp_scan[65], path[256], cursor[128];
	int64_t c_known = add_leaf(e, e->h.tenant, "known.test", "import", fp_known);
	int64_t c_scan = add_leaf(e, e->h.tenant, "ghost.test", "scan", fp_scan);
	int64_t e1 = add_endpoint(e, e->h.tenant, "known.test", 443, 1000);
	int64_t e2 = add_endpoint(e, e->h.tenant, "ghost.test", 443, 1000);
	int64_t e3 = add_endpoint(e, e->h.tenant, "silent.test", 443, 1000);
	int64_t eb = add_endpoint(e, e->tenant_b, "known.test", 443, 1000);
	struct got g;

	(void)e3;
	observe(e, e->h.tenant, e1, c_known, 1000);
	observe(e, e->h.tenant, e2, c_scan, 1000);
	observe(e, e->tenant_b, eb, 0, 1000);
	call(e, "GET", "/api/v1/endpoints?limit=2", e->viewer, NULL, &g);
	assert_int_equal(g.status, 200);
	assert_int_equal(json_array_size(json_object_get(g.json, "items")), 2);
	assert_string_equal(str_at(g.json, "items.0.host"), "known.test");
	assert_string_equal(str_at(g.json, "items.0.last_observation.fingerprint_sha256"),
			    fp_known);
	assert_string_equal(str_at(g.json, "items.0.last_observation.inventory_status"), "known");
	assert_string_equal(str_at(g.json, "items.1.last_observation.inventory_status"), "unknown");
	assert_non_null(str_at(g.json, "next_cursor"));
	snprintf(cursor, sizeof(cursor), "%s", str_at(g.json, "next_cursor"));
	got_free(&g);
	snprintf(path, sizeof(path), "/api/v1/endpoints?limit=2&cursor=%s", cursor);
	call(e, "GET", path, e->viewer, NULL, &g);
	assert_int_equal(json_array_size(json_object_get(g.json, "items")), 1);
	assert_string_equal(str_at(g.json, "items.0.host"), "silent.test");
	assert_true(json_is_null(json_object_get(json_array_get(json_object_get(g.json, "items"), 0),
						 "last_observation")));
	assert_true(json_is_null(json_object_get(g.json, "next_cursor")));
	got_free(&g);
	/* The other tenant lists its own endpoint only. */
	call(e, "GET", "/api/v1/endpoints", e->other, NULL, &g);
	assert_int_equal(json_array_size(json_object_get(g.json, "items")), 1);
	assert_string_equal(str_at(g.json, "items.0.last_observation.inventory_status"), "none");
	got_free(&g);
	snprintf(path, sizeof(path), "/api/v1/endpoints/%lld", (long long)e1);
	assert_looks_absent(e, "GET", path, "/api/v1/endpoints/999999", NULL);
	assert_looks_absent(e, "GET", path, "/api/v1/endpoints/0x1", NULL);
}

static void test_endpoint_shows_observations_newest_first_with_drift(void **state)
{
	struct env *e = *state;
	char fp1[65], fp2[65], path[128];
	int64_t c1 = add_leaf(e, e->h.tenant, "drift.test", "import", fp1);
	int64_t c2 = add_leaf(e, e->h.tenant, "drift.test", "import", fp2);
	int64_t ep = add_endpoint(e, e->h.tenant, "drift.test", 8443, 2000);
	struct got g;

	observe(e, e->h.tenant, ep, c1, 2000);
	observe(e, e->h.tenant, ep, c1, 2100);
	observe(e, e->h.tenant, ep, c2, 2200);
	snprintf(path, sizeof(path), "/api/v1/endpoints/%lld", (long long)ep);
	call(e, "GET", path, e->viewer, NULL, &g);
	assert_int_equal(g.status, 200);
	assert_int_equal(json_array_size(json_object_get(g.json, "observations")), 3);
	assert_string_equal(str_at(g.json, "observations.0.fingerprint_sha256"), fp2);
	assert_string_equal(str_at(g.json, "observations.0.inventory_status"), "drift");
	assert_string_equal(str_at(g.json, "observations.1.inventory_status"), "known");
	assert_string_equal(str_at(g.json, "observations.2.inventory_status"), "known");
	assert_string_equal(str_at(g.json, "last_observation.inventory_status"), "drift");
	got_free(&g);
	/* The list judges the last observation the same way. */
	call(e, "GET", "/api/v1/endpoints?limit=1000", e->viewer, NULL, &g);
	{
		json_t *items = json_object_get(g.json, "items"), *it;
		size_t i;
		bool seen = false;

		json_array_foreach(items, i, it)
			if (strcmp(json_string_value(json_object_get(it, "host")), "drift.test") == 0) {
				seen = true;
				assert_string_equal(str_at(it, "last_observation.inventory_status"),
						    "drift");
			}
		assert_true(seen);
	}
	got_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoints_page_with_last_observation_in_own_tenant),
		cmocka_unit_test(test_endpoint_shows_observations_newest_first_with_drift),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return rc;
}
